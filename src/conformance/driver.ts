/**
 * Clients of the driver protocol (trace-format §7): the model in-process, or any program that
 * speaks the protocol on stdin/stdout. Replies are decoded with io-ts; a side that breaks the
 * protocol (dies, writes something that is not a response, answers another id, times out)
 * rejects with ProtocolError, which the differential runner turns into exit status 2.
 * Besides one request at a time (the Driver methods), line drivers can pipeline requests
 * (Pipeline), which is how `vgic diff` runs a case: see runCase in diff.ts.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import * as E from 'fp-ts/lib/Either.js';
import { escapeControl } from '../machine/decode.js';
import { Machine } from '../machine/machine.js';
import type { MutantName } from '../xen/mutants.js';
import { describeVariant, toVariant, type Variant } from '../xen/variant.js';
import { jsonErrorText, parseJson } from './json.js';
import { MAX_RESPONSE_LINE_BYTES, formatBytes } from './limits.js';
import { LineReader, type ByteLineEvent } from './lines.js';
import { Server, decodeResponse, type CommandName, type SnapshotAbility, type SnapshotLevel } from './protocol.js';
import { killSide, startSide, type StartedSide } from './spawn.js';

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
  /** The snapshots it announces (trace-format §7); absent: a driver that predates the key (full snapshots, no `level`). */
  snapshots?: SnapshotAbility;
}

/** `ok:false` replies carry the other side's message. */
export type Reply<A> = { ok: true; value: A } | { ok: false; error: string };

export interface Driver {
  readonly label: string;
  hello(): Promise<Hello>;
  reset(config: unknown): Promise<Reply<null>>;
  step(step: unknown): Promise<Reply<Record<string, unknown>>>;
  /** A snapshot: `full` (the default: a request without `level`) or `guest` (trace-format §5.1). */
  snapshot(level?: SnapshotLevel): Promise<Reply<Record<string, unknown>>>;
  close(): Promise<void>;
  /** Requests sent ahead of their answers, when the driver can (line drivers). */
  pipeline?(): Pipeline;
}

/** One answer read through a Pipeline: the request it answers and the raw response line. */
export interface Answer {
  cmd: CommandName;
  id: number;
  line: string;
  /** The line as it came, when it came as bytes (then `line` is decoded from them when read). */
  bytes?: Buffer;
  /** The level of a snapshot request that asked for one (`guest`). */
  level?: SnapshotLevel;
}

/** An Answer whose line came as bytes: decoded only if someone reads `line`. */
class ByteAnswer implements Answer {
  private text: string | undefined;
  readonly level?: SnapshotLevel;

  constructor(readonly cmd: CommandName, readonly id: number, readonly bytes: Buffer, level: SnapshotLevel | undefined) {
    if (level !== undefined) this.level = level;
  }

  get line(): string {
    return (this.text ??= this.bytes.toString('utf8'));
  }
}

/** A response line as received: text, or bytes not yet decoded. */
type Received = string | Buffer;

function textOf(line: Received): string {
  return typeof line === 'string' ? line : line.toString('utf8');
}

/**
 * Decode one response line of `label` to request `id` (`cmd`): the response object, or a
 * ProtocolError saying what is wrong with the line (not JSON, refused JSON, malformed for
 * `cmd`, another id). `parsed` is the line already read by parseJson, when the caller has it;
 * `level` the level of a snapshot request.
 */
export function decodeAnswer(label: string, cmd: CommandName, id: number, text: string, parsed?: unknown, level: SnapshotLevel = 'full'): Record<string, unknown> {
  let u = parsed;
  if (u === undefined) {
    const p = parseJson(text, { base: 'response' });
    if (E.isLeft(p)) {
      const quoted = escapeControl(text.slice(0, 200));
      throw new ProtocolError(label, p.left.syntax
        ? `answered ${cmd} with a line that is not JSON: ${quoted}`
        : `answered ${cmd} with JSON that is refused: ${jsonErrorText(p.left)}`);
    }
    u = p.right;
  }
  const r = decodeResponse(cmd, u, level);
  const what = level === 'guest' ? 'a guest snapshot request' : cmd;
  if (E.isLeft(r)) throw new ProtocolError(label, `answered ${what} with a malformed response: ${r.left.slice(0, 3).join('; ')}`);
  if (r.right['id'] !== id) throw new ProtocolError(label, `answered request ${id} (${cmd}) with id ${JSON.stringify(r.right['id'])}`);
  return r.right;
}

/**
 * Shared request/response bookkeeping: ids, decoding, reply shapes, and the queue of response
 * lines. Lines are answered in order (one response line per request line, trace-format §7),
 * so a reader needs nothing but a count to know which request a line answers; the id each
 * response echoes is checked all the same.
 */
export abstract class LineDriver implements Driver {
  private nextId = 1;
  /** Response lines received and not yet read. */
  private readonly queue: Received[] = [];
  /** Response lines still owed to abandoned requests: dropped as they arrive. */
  private discarding = 0;
  private waiter: ((line: Received | null) => void) | null = null;
  /** Why no further line will come (the side exited, or broke the line limit), or null. */
  protected ended: string | null = null;

  constructor(readonly label: string, readonly timeoutMs = Infinity) {}

  /** Write request text (one or more lines, each ending in a newline). */
  protected abstract write(text: string): void;
  /** What to say when a response is wanted and none will come. */
  protected abstract describeEnd(): string;
  abstract close(): Promise<void>;

  /** A response line has arrived (as text, or as bytes to be decoded when needed). */
  protected receive(line: Received): void {
    if (this.discarding > 0) {
      this.discarding -= 1;
    } else if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w(line);
    } else {
      this.queue.push(line);
    }
  }

  /** No response line will arrive after the ones already received. */
  protected end(why: string): void {
    if (this.ended !== null) return;
    this.ended = why;
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }

  /** A fresh request id. */
  protected takeId(): number {
    return this.nextId++;
  }

  /** The next response line; `request` (the line it answers) names it in a timeout. */
  protected readLine(request: string): Promise<Received> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended !== null) return Promise.reject(new ProtocolError(this.label, this.describeEnd()));
    return new Promise((resolve, reject) => {
      const timer = Number.isFinite(this.timeoutMs)
        ? setTimeout(() => {
          this.waiter = null;
          reject(new ProtocolError(this.label, `no response within ${this.timeoutMs} ms to ${request.slice(0, 120)}`));
        }, this.timeoutMs)
        : null;
      this.waiter = (l) => {
        if (timer !== null) clearTimeout(timer);
        if (l === null) reject(new ProtocolError(this.label, this.describeEnd()));
        else resolve(l);
      };
    });
  }

  /** Drop the next `n` response lines, whether already received or still to come. */
  protected skip(n: number): void {
    const now = Math.min(n, this.queue.length);
    this.queue.splice(0, now);
    this.discarding += n - now;
  }

  private async call(cmd: CommandName, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.takeId();
    const line = JSON.stringify({ id, cmd, ...extra });
    if (this.ended !== null && this.queue.length === 0) throw new ProtocolError(this.label, this.describeEnd());
    this.write(`${line}\n`);
    return decodeAnswer(this.label, cmd, id, textOf(await this.readLine(line)), undefined, extra['level'] === 'guest' ? 'guest' : 'full');
  }

  /** Pipelined requests on this driver (see Pipeline); one at a time, and not mixed with the calls below. */
  pipeline(): Pipeline {
    return new Pipeline(this.label, {
      takeId: () => this.takeId(),
      write: (text) => this.write(text),
      readLine: (request) => this.readLine(request),
      skip: (n) => this.skip(n),
    });
  }

  async hello(): Promise<Hello> {
    const o = await this.call('hello');
    if (o['ok'] !== true) throw new ProtocolError(this.label, `refused hello: ${String(o['error'])}`);
    const snapshots = o['snapshots'] as SnapshotAbility | undefined;
    return { format: o['format'] as string, name: o['name'] as string, ops: o['ops'] as string[], ...(snapshots !== undefined ? { snapshots } : {}) };
  }

  async reset(config: unknown): Promise<Reply<null>> {
    const o = await this.call('reset', { config });
    return o['ok'] === true ? { ok: true, value: null } : { ok: false, error: o['error'] as string };
  }

  async step(step: unknown): Promise<Reply<Record<string, unknown>>> {
    const o = await this.call('step', { step });
    return o['ok'] === true ? { ok: true, value: o['result'] as Record<string, unknown> } : { ok: false, error: o['error'] as string };
  }

  async snapshot(level?: SnapshotLevel): Promise<Reply<Record<string, unknown>>> {
    const o = await this.call('snapshot', level === undefined ? {} : { level });
    return o['ok'] === true ? { ok: true, value: o['snapshot'] as Record<string, unknown> } : { ok: false, error: o['error'] as string };
  }
}

/**
 * Requests sent ahead of their answers (trace-format §7 allows it: one response line per
 * request line, in order). `send` queues a request, `flush` writes everything queued with one
 * write, `next` reads the answer to the oldest request not yet read, as a raw line (decoding
 * and comparing is the caller's business: see decodeAnswer).
 *
 * `abandon` gives up on every answer still owed (a divergence was found, or the case ended
 * early): requests not yet written are dropped, and the answers to those written are counted
 * and discarded as they arrive, without being read or checked. That is what keeps later
 * requests in step: the next answer read is the one to the next request sent, and its echoed
 * id is still checked. A side that dies or times out while answering abandoned requests is
 * reported at the next request that needs an answer.
 */
export class Pipeline {
  private buffer = '';
  /** Requests sent or queued and not yet answered, oldest first; the last `unsent` are not written yet. */
  private readonly owed: { cmd: CommandName; id: number; line: string; level?: SnapshotLevel }[] = [];
  private head = 0;
  private unsent = 0;

  constructor(readonly label: string, private readonly io: {
    takeId: () => number;
    write: (text: string) => void;
    readLine: (request: string) => Promise<Received>;
    skip: (n: number) => void;
  }) {}

  /** Answers owed (requests queued or written, not yet read). */
  get outstanding(): number {
    return this.owed.length - this.head;
  }

  /**
   * Queue a request; `value` goes under the command's key (`config` for reset, `step` for
   * step, `level` for snapshot: none for a plain full snapshot request).
   */
  send(cmd: 'reset' | 'step' | 'snapshot', value?: unknown): void {
    const id = this.io.takeId();
    const level = cmd === 'snapshot' && value === 'guest' ? 'guest' : undefined;
    const line = cmd === 'reset' ? JSON.stringify({ id, cmd, config: value })
      : cmd === 'step' ? JSON.stringify({ id, cmd, step: value })
        : value === undefined ? `{"id":${id},"cmd":"snapshot"}` : JSON.stringify({ id, cmd, level: value });
    this.owed.push(level === undefined ? { cmd, id, line } : { cmd, id, line, level });
    this.buffer += `${line}\n`;
    this.unsent += 1;
  }

  /** Write what is queued. */
  flush(): void {
    if (this.buffer === '') return;
    const text = this.buffer;
    this.buffer = '';
    this.unsent = 0;
    this.io.write(text);
  }

  /** The answer to the oldest request not yet read (written first if need be). */
  async next(): Promise<Answer> {
    if (this.head >= this.owed.length) throw new Error('Pipeline.next: no request is waiting for an answer');
    if (this.owed.length - this.head <= this.unsent) this.flush();
    const r = this.owed[this.head]!;
    this.head += 1;
    if (this.head === this.owed.length) {
      this.owed.length = 0;
      this.head = 0;
    }
    const line = await this.io.readLine(r.line);
    if (typeof line !== 'string') return new ByteAnswer(r.cmd, r.id, line, r.level);
    return r.level === undefined ? { cmd: r.cmd, id: r.id, line } : { cmd: r.cmd, id: r.id, line, level: r.level };
  }

  /** Give up on every answer still owed (see the class comment). */
  abandon(): void {
    const written = this.outstanding - this.unsent;
    this.buffer = '';
    this.unsent = 0;
    this.owed.length = 0;
    this.head = 0;
    if (written > 0) this.io.skip(written);
  }
}

/** The model itself, through the same request/response lines as `vgic serve`, without a process. */
export class ModelDriver extends LineDriver {
  private readonly server: Server;

  /** `snapshots`: what it announces and answers (Server); below `full` it stands in for a driver that sees less. */
  /** Xen's behaviour, a mutant, or divergence switches (src/xen/variant.ts). */
  readonly variant: Variant;

  constructor(variant: MutantName | Variant | null = null, snapshots: SnapshotAbility = 'full') {
    const v = toVariant(variant);
    super(describeVariant(v) === 'xen' ? 'model' : `model (${describeVariant(v)})`);
    this.variant = v;
    this.server = new Server(v, snapshots);
  }

  /** The mutant switched on, if any. */
  get mutant(): MutantName | null {
    return this.variant.mutant;
  }

  /**
   * A machine for `config`, to be driven directly (the differential runner's own side: no
   * lines, no decoding of its answers). Left: the problems with the config.
   */
  machineFor(config: unknown): E.Either<string[], Machine> {
    return Machine.fromJson(config, 'config', this.variant);
  }

  protected write(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.receive(this.server.handle(text.slice(start, nl)).line);
      start = nl + 1;
    }
  }

  protected describeEnd(): string {
    return 'has no answer';
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Another implementation: a shell command that speaks the protocol. */
export class ProcessDriver extends LineDriver {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderrTail = '';

  /** `started`: the command, already started by startSide (this driver takes it over); else started here. */
  constructor(readonly command: string, timeoutMs = 20000, started: StartedSide | null = null) {
    super(`"${command}"`, timeoutMs);
    const side = started ?? startSide(command);
    const before = side.adopt();
    this.child = side.child;
    // Lines are split here, with a cap: an endless line (`cat /dev/zero`) is a protocol error, not a buffer.
    const reader = new LineReader(MAX_RESPONSE_LINE_BYTES);
    // Lines are kept as bytes: the differential runner compares most of them with the
    // model's own bytes and decodes only the others.
    const deliver = (events: ByteLineEvent[]): void => {
      for (const ev of events) {
        if (!('bytes' in ev)) {
          this.end(`wrote a line longer than ${formatBytes(MAX_RESPONSE_LINE_BYTES)}, the limit for a response`);
          this.child.stdout.destroy();
          return;
        }
        this.receive(ev.bytes);
      }
    };
    const onOut = (b: Buffer): void => deliver(reader.pushBytes(b));
    const onEnd = (): void => deliver(reader.endBytes());
    const onErr = (b: Buffer): void => {
      this.stderrTail = (this.stderrTail + b.toString()).slice(-2000);
    };
    this.child.stdout.on('data', onOut);
    this.child.stdout.on('end', onEnd);
    this.child.stderr.on('data', onErr);
    this.child.stdin.on('error', () => { /* reported through the exit below */ });
    this.child.on('error', (e) => this.end(`could not be started: ${e.message}`));
    this.child.on('exit', (code, signal) => this.end(`exited (${signal ?? `status ${code}`})`));
    // What it did before this driver took it over (started early by startSide), in order.
    before.err.forEach(onErr);
    before.out.forEach(onOut);
    if (before.outEnded) onEnd();
    const early = side.error();
    const gone = side.exit();
    if (early !== null) this.end(`could not be started: ${early.message}`);
    else if (gone !== null) this.end(`exited (${gone.signal ?? `status ${gone.code}`})`);
  }

  protected describeEnd(): string {
    const tail = this.stderrTail.trim();
    return `${this.ended}${tail !== '' ? `; its standard error ends with: ${tail.split('\n').slice(-5).join(' | ')}` : ''}`;
  }

  protected write(text: string): void {
    this.child.stdin.write(text);
  }

  /** Ask it to quit, give it a moment, then kill it. */
  async close(): Promise<void> {
    if (this.ended === null) {
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
    killSide(this.child);
  }
}
