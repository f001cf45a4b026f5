/**
 * The driver protocol of FORMAT.md §7: one JSON object per line each way. Requests and
 * responses are io-ts codecs; `Server` is the model side (`vgic serve`), a pure
 * line-in/line-out state machine with no I/O of its own.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { decodeWith, oneOf, strictObject } from '../machine/decode.js';
import { Machine } from '../machine/machine.js';
import { OP_NAMES } from '../machine/ops.js';
import type { MutantName } from '../xen/mutants.js';
import { ResultCodec, SnapshotCodec } from './schema.js';
import { TRACE_FORMAT, resultJson } from './trace.js';

/** A request id: any JSON number or string, echoed back. */
export const RequestId = new t.Type<number | string, number | string, unknown>(
  'number | string',
  (u): u is number | string => typeof u === 'number' || typeof u === 'string',
  (u, c) => (typeof u === 'number' || typeof u === 'string' ? t.success(u) : t.failure(u, c)),
  t.identity,
);

export const COMMANDS = ['hello', 'reset', 'step', 'snapshot', 'quit'] as const;
export type CommandName = (typeof COMMANDS)[number];

const REQUEST_CODECS = {
  hello: strictObject('hello request', { id: RequestId, cmd: t.literal('hello') }),
  reset: strictObject('reset request', { id: RequestId, cmd: t.literal('reset'), config: t.unknown }),
  step: strictObject('step request', { id: RequestId, cmd: t.literal('step'), step: t.unknown }),
  snapshot: strictObject('snapshot request', { id: RequestId, cmd: t.literal('snapshot') }),
  quit: strictObject('quit request', { id: RequestId, cmd: t.literal('quit') }),
} as const;

export type Request =
  | { id: number | string; cmd: 'hello' }
  | { id: number | string; cmd: 'reset'; config: unknown }
  | { id: number | string; cmd: 'step'; step: unknown }
  | { id: number | string; cmd: 'snapshot' }
  | { id: number | string; cmd: 'quit' };

const CommandCodec = oneOf(COMMANDS);

/** Decode one request line. Left: a message naming what is wrong, and the id if one was readable. */
export function decodeRequest(line: string): E.Either<{ id: number | string | null; error: string }, Request> {
  let u: unknown;
  try {
    u = JSON.parse(line);
  } catch (e) {
    return E.left({ id: null, error: `request is not valid JSON: ${(e as Error).message}` });
  }
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return E.left({ id: null, error: `request: expected a JSON object, got ${JSON.stringify(u)}` });
  const rec = u as Record<string, unknown>;
  const id = typeof rec['id'] === 'number' || typeof rec['id'] === 'string' ? rec['id'] : null;
  const cmd = decodeWith(CommandCodec, rec['cmd'], 'cmd');
  if (E.isLeft(cmd)) return E.left({ id, error: `request.${'cmd' in rec ? cmd.left.join('; ') : 'cmd: missing key'}` });
  const r = decodeWith(REQUEST_CODECS[cmd.right] as t.Type<unknown, unknown, unknown>, u, 'request');
  if (E.isLeft(r)) return E.left({ id, error: r.left.join('; ') });
  return E.right(r.right as Request);
}

// ----- responses -----

const ErrorResponse = t.type({ id: t.unknown, ok: t.literal(false), error: t.string });
const OkResponse = t.type({ id: t.unknown, ok: t.literal(true) });

/** The responses a client expects, by command (extra keys are allowed: implementations may add fields). */
export const ResponseCodecs = {
  hello: t.union([t.type({ id: t.unknown, ok: t.literal(true), format: t.string, name: t.string, ops: t.array(t.string) }), ErrorResponse]),
  reset: t.union([OkResponse, ErrorResponse]),
  step: t.union([t.type({ id: t.unknown, ok: t.literal(true), result: ResultCodec }), ErrorResponse]),
  snapshot: t.union([t.type({ id: t.unknown, ok: t.literal(true), snapshot: SnapshotCodec }), ErrorResponse]),
  quit: t.union([OkResponse, ErrorResponse]),
} as const;

// ----- the model as a server -----

export interface ServerReply {
  /** The response line (no newline). */
  line: string;
  /** Stop reading after this line: quit (code 0) or a malformed request (code 2). */
  exit?: 0 | 2;
  /** Diagnostic for standard error. */
  diagnostic?: string;
}

export const MODEL_NAME = 'vgic-model (Xen old vGIC reference model)';

/**
 * The model behind the driver protocol. A malformed request (not JSON, unknown command,
 * missing or ill-typed keys of the envelope) gets an error response and ends the session
 * with status 2; a bad config or a trace error in a step is an ordinary `ok:false` response.
 */
export class Server {
  private machine: Machine | null = null;
  private stepIndex = 0;

  constructor(readonly mutant: MutantName | null = null) {}

  handle(line: string): ServerReply {
    const req = decodeRequest(line);
    if (E.isLeft(req)) {
      const { id, error } = req.left;
      return { line: JSON.stringify({ id, ok: false, error }), exit: 2, diagnostic: `vgic serve: ${error}` };
    }
    const r = req.right;
    const reply = (o: Record<string, unknown>): ServerReply => ({ line: JSON.stringify({ id: r.id, ...o }) });
    switch (r.cmd) {
      case 'hello':
        return reply({
          ok: true, format: TRACE_FORMAT, name: this.mutant === null ? MODEL_NAME : `${MODEL_NAME}, mutant ${this.mutant}`,
          ops: OP_NAMES,
        });
      case 'reset': {
        const m = Machine.create(r.config, 'config', this.mutant);
        if (E.isLeft(m)) return reply({ ok: false, error: m.left.join('; ') });
        this.machine = m.right;
        this.stepIndex = 0;
        return reply({ ok: true });
      }
      case 'step': {
        if (this.machine === null) return reply({ ok: false, error: 'no machine: send reset with a config first' });
        const res = this.machine.step(r.step, this.stepIndex, 'step');
        if (E.isLeft(res)) return reply({ ok: false, error: res.left });
        this.stepIndex += 1;
        return reply({ ok: true, result: resultJson(res.right) });
      }
      case 'snapshot': {
        if (this.machine === null) return reply({ ok: false, error: 'no machine: send reset with a config first' });
        if (this.machine.crashed !== null) {
          return reply({ ok: false, error: `the machine crashed at step ${this.machine.crashed.step} (${this.machine.crashed.reason}); reset it first` });
        }
        return reply({ ok: true, snapshot: this.machine.snapshot() });
      }
      case 'quit':
        return { ...reply({ ok: true }), exit: 0 };
    }
  }
}
