/**
 * Clients of the driver protocol (trace-format §7): the model in-process, or any program that
 * speaks the protocol on stdin/stdout. Replies are decoded with io-ts; a side that breaks the
 * protocol (dies, writes something that is not a response, answers another id, times out)
 * rejects with ProtocolError, which the differential runner turns into exit status 2.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as E from 'fp-ts/lib/Either.js';
import { escapeControl } from '../machine/decode.js';
import type { MutantName } from '../xen/mutants.js';
import { jsonErrorText, parseJson } from './json.js';
import { MAX_RESPONSE_LINE_BYTES, formatBytes } from './limits.js';
import { LineReader, type LineEvent } from './lines.js';
import { Server, decodeResponse, type CommandName } from './protocol.js';

export class ProtocolError extends Error {
  constructor(readonly side: string, message: string) {
    super(`${side}: ${message}`);
    this.name = 'ProtocolError';
  }
}

export interface Hello {
  format: string;
  name: string;
  ops: string[];
}

/** `ok:false` replies carry the other side's message. */
export type Reply<A> = { ok: true; value: A } | { ok: false; error: string };

export interface Driver {
  readonly label: string;
  hello(): Promise<Hello>;
  reset(config: unknown): Promise<Reply<null>>;
  step(step: unknown): Promise<Reply<Record<string, unknown>>>;
  snapshot(): Promise<Reply<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** Shared request/response bookkeeping: ids, decoding, reply shapes. */
abstract class LineDriver implements Driver {
  private nextId = 1;

  constructor(readonly label: string) {}

  protected abstract exchange(line: string): Promise<string>;
  abstract close(): Promise<void>;

  private async call(cmd: CommandName, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const text = await this.exchange(JSON.stringify({ id, cmd, ...extra }));
    const u = parseJson(text, { base: 'response' });
    if (E.isLeft(u)) {
      const quoted = escapeControl(text.slice(0, 200));
      throw new ProtocolError(this.label, u.left.syntax
        ? `answered ${cmd} with a line that is not JSON: ${quoted}`
        : `answered ${cmd} with JSON that is refused: ${jsonErrorText(u.left)}`);
    }
    const r = decodeResponse(cmd, u.right);
    if (E.isLeft(r)) throw new ProtocolError(this.label, `answered ${cmd} with a malformed response: ${r.left.slice(0, 3).join('; ')}`);
    if (r.right['id'] !== id) throw new ProtocolError(this.label, `answered request ${id} (${cmd}) with id ${JSON.stringify(r.right['id'])}`);
    return r.right;
  }

  async hello(): Promise<Hello> {
    const o = await this.call('hello');
    if (o['ok'] !== true) throw new ProtocolError(this.label, `refused hello: ${String(o['error'])}`);
    return { format: o['format'] as string, name: o['name'] as string, ops: o['ops'] as string[] };
  }

  async reset(config: unknown): Promise<Reply<null>> {
    const o = await this.call('reset', { config });
    return o['ok'] === true ? { ok: true, value: null } : { ok: false, error: o['error'] as string };
  }

  async step(step: unknown): Promise<Reply<Record<string, unknown>>> {
    const o = await this.call('step', { step });
    return o['ok'] === true ? { ok: true, value: o['result'] as Record<string, unknown> } : { ok: false, error: o['error'] as string };
  }

  async snapshot(): Promise<Reply<Record<string, unknown>>> {
    const o = await this.call('snapshot');
    return o['ok'] === true ? { ok: true, value: o['snapshot'] as Record<string, unknown> } : { ok: false, error: o['error'] as string };
  }
}

/** The model itself, through the same request/response lines as `vgic serve`, without a process. */
export class ModelDriver extends LineDriver {
  private readonly server: Server;

  constructor(mutant: MutantName | null = null) {
    super(mutant === null ? 'model' : `model (mutant ${mutant})`);
    this.server = new Server(mutant);
  }

  protected exchange(line: string): Promise<string> {
    return Promise.resolve(this.server.handle(line).line);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Another implementation: a shell command that speaks the protocol. */
export class ProcessDriver extends LineDriver {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: string[] = [];
  private waiter: ((line: string | null) => void) | null = null;
  private exited: string | null = null;
  private stderrTail = '';

  constructor(readonly command: string, readonly timeoutMs = 20000) {
    super(`"${command}"`);
    // Its own process group, so that closing kills whatever the shell started too.
    this.child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    // Lines are split here, with a cap: an endless line (`cat /dev/zero`) is a protocol error, not a buffer.
    const reader = new LineReader(MAX_RESPONSE_LINE_BYTES);
    const deliver = (events: LineEvent[]): void => {
      for (const ev of events) {
        if (!('line' in ev)) {
          this.fail(`wrote a line longer than ${formatBytes(MAX_RESPONSE_LINE_BYTES)}, the limit for a response`);
          this.child.stdout.destroy();
          return;
        }
        if (this.waiter !== null) {
          const w = this.waiter;
          this.waiter = null;
          w(ev.line);
        } else {
          this.lines.push(ev.line);
        }
      }
    };
    this.child.stdout.on('data', (b: Buffer) => deliver(reader.push(b)));
    this.child.stdout.on('end', () => deliver(reader.end()));
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString()).slice(-2000);
    });
    this.child.stdin.on('error', () => { /* reported through the exit below */ });
    this.child.on('error', (e) => this.fail(`could not be started: ${e.message}`));
    this.child.on('exit', (code, signal) => this.fail(`exited (${signal ?? `status ${code}`})`));
  }

  private fail(why: string): void {
    if (this.exited !== null) return;
    this.exited = why;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }

  private describeExit(): string {
    const tail = this.stderrTail.trim();
    return `${this.exited}${tail !== '' ? `; its standard error ends with: ${tail.split('\n').slice(-5).join(' | ')}` : ''}`;
  }

  protected exchange(line: string): Promise<string> {
    if (this.exited !== null && this.lines.length === 0) return Promise.reject(new ProtocolError(this.label, this.describeExit()));
    this.child.stdin.write(`${line}\n`);
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new ProtocolError(this.label, `no response within ${this.timeoutMs} ms to ${line.slice(0, 120)}`));
      }, this.timeoutMs);
      this.waiter = (l) => {
        clearTimeout(timer);
        if (l === null) reject(new ProtocolError(this.label, this.describeExit()));
        else resolve(l);
      };
    });
  }

  /** Ask it to quit, give it a moment, then kill it. */
  async close(): Promise<void> {
    if (this.exited === null) {
      this.child.stdin.write(`${JSON.stringify({ id: 0, cmd: 'quit' })}\n`);
      this.child.stdin.end();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    // Whatever is left of its process group (the shell may be gone, what it started not).
    if (this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.child.stdout.destroy();
    this.child.stderr.destroy();
  }
}
