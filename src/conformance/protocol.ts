/**
 * The driver protocol of docs/trace-format.md §7: one JSON object per line each way. Requests and
 * responses are io-ts codecs; `Server` is the model side (`vgic serve`), a pure
 * line-in/line-out state machine with no I/O of its own.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { anyJson, decodeWith, describeValue, oneOf, strictObject } from '../machine/decode.js';
import { Machine, type Result } from '../machine/machine.js';
import { guestSnapshotJson } from '../machine/snapshot.js';
import { OP_NAMES } from '../machine/ops.js';
import type { MutantName } from '../xen/mutants.js';
import { describeVariant, toVariant, type Variant } from '../xen/variant.js';
import { jsonErrorText, parseJson } from './json.js';
import { MAX_REQUEST_LINE_BYTES, formatBytes } from './limits.js';
import { SNAPSHOT_ABILITIES, SNAPSHOT_LEVELS, type SnapshotAbility, type SnapshotLevel } from './levels.js';
import { GuestSnapshotCodec, ResultCodec, SnapshotCodec } from './schema.js';
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

export { SNAPSHOT_ABILITIES, SNAPSHOT_LEVELS, type SnapshotAbility, type SnapshotLevel } from './levels.js';
const SnapshotLevelCodec = oneOf(SNAPSHOT_LEVELS);

const REQUEST_CODECS = {
  hello: strictObject('hello request', { id: RequestId, cmd: t.literal('hello') }),
  reset: strictObject('reset request', { id: RequestId, cmd: t.literal('reset'), config: anyJson('a config object') }),
  step: strictObject('step request', { id: RequestId, cmd: t.literal('step'), step: anyJson('a step object') }),
  snapshot: strictObject('snapshot request', { id: RequestId, cmd: t.literal('snapshot') }, { level: SnapshotLevelCodec }),
  quit: strictObject('quit request', { id: RequestId, cmd: t.literal('quit') }),
} as const;

export type Request =
  | { id: number | string; cmd: 'hello' }
  | { id: number | string; cmd: 'reset'; config: unknown }
  | { id: number | string; cmd: 'step'; step: unknown }
  | { id: number | string; cmd: 'snapshot'; level?: SnapshotLevel }
  | { id: number | string; cmd: 'quit' };

const CommandCodec = oneOf(COMMANDS);

/** The keys of each request (REQUEST_CODECS, all required). */
const REQUEST_KEYS: Record<CommandName, readonly string[]> = {
  hello: ['id', 'cmd'],
  reset: ['id', 'cmd', 'config'],
  step: ['id', 'cmd', 'step'],
  snapshot: ['id', 'cmd'],
  quit: ['id', 'cmd'],
};

/** The plain snapshot request as `vgic diff` writes it (whole number id, no spaces), recognised without a parse. */
const PLAIN_SNAPSHOT_REQUEST = /^\{"id":(0|[1-9][0-9]{0,14}),"cmd":"snapshot"\}$/;

/** Decode one request line. Left: a message naming what is wrong, and the id if one was readable. */
export function decodeRequest(line: string): E.Either<{ id: number | string | null; error: string }, Request> {
  const plain = line.length <= 48 ? PLAIN_SNAPSHOT_REQUEST.exec(line) : null;
  if (plain !== null) return E.right({ id: Number(plain[1]), cmd: 'snapshot' });
  const parsed = parseJson(line, { base: 'request' });
  if (E.isLeft(parsed)) return E.left({ id: null, error: jsonErrorText(parsed.left, 'request is not valid JSON') });
  const u = parsed.right;
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return E.left({ id: null, error: `request: expected a JSON object, got ${describeValue(u)}` });
  const rec = u as Record<string, unknown>;
  const id = typeof rec['id'] === 'number' || typeof rec['id'] === 'string' ? rec['id'] : null;
  // The usual request, checked without io-ts: a known command and exactly the keys its codec
  // requires (every one of them present, the payload any JSON). Anything else takes the codec
  // below, which names what is wrong.
  if (id !== null && typeof rec['cmd'] === 'string' && Object.hasOwn(REQUEST_KEYS, rec['cmd'])) {
    const keys = REQUEST_KEYS[rec['cmd'] as CommandName];
    let n = 0;
    let exact = true;
    for (const k in rec) {
      n += 1;
      if (!keys.includes(k)) {
        exact = false;
        break;
      }
    }
    if (exact && n === keys.length) return E.right(rec as Request);
    // A snapshot request with a valid level (trace-format §7).
    if (rec['cmd'] === 'snapshot' && SnapshotLevelCodec.is(rec['level'])) {
      let m = 0;
      for (const k in rec) m += k === 'id' || k === 'cmd' || k === 'level' ? 1 : 4;
      if (m === 3) return E.right(rec as Request);
    }
  }
  const cmd = decodeWith(CommandCodec, rec['cmd'], 'cmd');
  if (E.isLeft(cmd)) return E.left({ id, error: `request.${'cmd' in rec ? cmd.left.join('; ') : 'cmd: missing key'}` });
  const r = decodeWith(REQUEST_CODECS[cmd.right] as t.Type<unknown, unknown, unknown>, u, 'request');
  if (E.isLeft(r)) return E.left({ id, error: r.left.join('; ') });
  return E.right(r.right as Request);
}

// ----- responses -----

const ResponseEnvelope = t.type({ ok: t.boolean });

/** What each command's `ok:true` response carries besides `id` and `ok` (implementations may add fields). */
const RESPONSE_PAYLOADS: Record<CommandName, t.Props> = {
  hello: { format: named(t.string, 'a string'), name: named(t.string, 'a string'), ops: t.array(t.string, 'an array of op names') },
  reset: {},
  step: { result: ResultCodec },
  snapshot: { snapshot: SnapshotCodec },
  quit: {},
};

/** Optional fields of an `ok:true` response. */
const RESPONSE_OPTIONAL: Partial<Record<CommandName, t.Props>> = {
  hello: { snapshots: oneOf(SNAPSHOT_ABILITIES) },
};

/** The payload of an `ok:true` answer to a guest snapshot request (trace-format §5.1). */
const GUEST_SNAPSHOT_PAYLOAD: t.Props = { snapshot: GuestSnapshotCodec };

function named<A>(codec: t.Type<A, A, unknown>, name: string): t.Type<A, A, unknown> {
  return new t.Type<A, A, unknown>(name, codec.is, codec.validate, codec.encode);
}

/**
 * Decode a response to `cmd`: `{id, ok:true, ...payload}` or `{id, ok:false, error}`.
 * `level`: the level of a snapshot request (a guest snapshot answers the shape of trace-format §5.1).
 * Left: lines with JSON paths under `response`.
 */
export function decodeResponse(cmd: CommandName, u: unknown, level: SnapshotLevel = 'full'): E.Either<string[], Record<string, unknown>> {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return E.left([`response: expected a JSON object, got ${describeValue(u)}`]);
  const rec = u as Record<string, unknown>;
  if (!('id' in rec)) return E.left(['response.id: missing key']);
  const env = decodeWith(ResponseEnvelope, u, 'response');
  if (E.isLeft(env)) return E.left(env.left.map((l) => l.replace('expected boolean', 'expected true or false')));
  if (rec['ok'] === false) {
    return typeof rec['error'] === 'string' ? E.right(rec) : E.left([`response.error: an ok:false response needs an error string, got ${describeValue(rec['error'])}`]);
  }
  const required = cmd === 'snapshot' && level === 'guest' ? GUEST_SNAPSHOT_PAYLOAD : RESPONSE_PAYLOADS[cmd];
  const optional = RESPONSE_OPTIONAL[cmd] ?? {};
  const extra = Object.keys(rec).filter((k) => !(k in required) && !(k in optional));
  const payload = decodeWith(strictObject(`${cmd} response`, required, optional, extra), u, 'response');
  return E.isLeft(payload) ? payload : E.right({ ...rec, ...(payload.right as object) });
}

// ----- the model as a server -----

const BARE_RESULT_TEXTS = new Map<string, string>();

/** The canonical JSON of a RESULT that has no field but `outcome`, else null. */
function bareResultText(r: Result): string | null {
  for (const k in r) if (k !== 'outcome') return null;
  let text = BARE_RESULT_TEXTS.get(r.outcome);
  if (text === undefined) {
    text = JSON.stringify(resultJson(r));
    BARE_RESULT_TEXTS.set(r.outcome, text);
  }
  return text;
}

export interface ServerReply {
  /** The response line (no newline). */
  line: string;
  /** Stop reading after this line: quit (code 0) or a malformed request (code 2). */
  exit?: 0 | 2;
  /** Diagnostic for standard error. */
  diagnostic?: string;
}

/** The answer to a request line longer than MAX_REQUEST_LINE_BYTES: it ends the session (status 2). */
export function tooLongRequestReply(): ServerReply {
  const error = `request line longer than ${formatBytes(MAX_REQUEST_LINE_BYTES)}, the limit for a request (the rest of it is not read)`;
  return { line: JSON.stringify({ id: null, ok: false, error }), exit: 2, diagnostic: `vgic serve: ${error}` };
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

  /**
   * `snapshots`: what this server announces and answers (trace-format §7). Below `full` it
   * stands in for a driver that cannot see Xen's internals: it answers only guest snapshots
   * (`guest`) or none (`none`), and neither lists nor runs the `snapshot` op, whose RESULT is
   * a full snapshot.
   */
  /** What the served model is: Xen's behaviour, a mutant, or divergence switches (src/xen/variant.ts). */
  readonly variant: Variant;

  constructor(variant: MutantName | Variant | null = null, readonly snapshots: SnapshotAbility = 'full') {
    this.variant = toVariant(variant);
  }

  /** The mutant switched on, if any. */
  get mutant(): MutantName | null {
    return this.variant.mutant;
  }

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
          ok: true, format: TRACE_FORMAT, name: describeVariant(this.variant) === 'xen' ? MODEL_NAME : `${MODEL_NAME}, ${describeVariant(this.variant)}`,
          ops: this.snapshots === 'full' ? OP_NAMES : OP_NAMES.filter((op) => op !== 'snapshot'),
          snapshots: this.snapshots,
        });
      case 'reset': {
        const m = Machine.fromJson(r.config, 'config', this.variant);
        if (E.isLeft(m)) {
          // No half-valid state: the old machine is gone too.
          this.machine = null;
          return reply({ ok: false, error: m.left.join('; ') });
        }
        this.machine = m.right;
        this.stepIndex = 0;
        return reply({ ok: true });
      }
      case 'step': {
        if (this.machine === null) return reply({ ok: false, error: 'no machine: send reset with a config first' });
        if (this.snapshots !== 'full' && typeof r.step === 'object' && r.step !== null && (r.step as Record<string, unknown>)['op'] === 'snapshot') {
          return reply({ ok: false, error: `step ${this.stepIndex} (snapshot): this side does not support the snapshot op (it answers ${this.snapshots === 'none' ? 'no snapshots' : 'guest snapshots only'})` });
        }
        const res = this.machine.step(r.step, this.stepIndex, 'step');
        if (E.isLeft(res)) return reply({ ok: false, error: res.left });
        this.stepIndex += 1;
        // A RESULT that is nothing but its outcome (most are) has its text made once.
        const bare = bareResultText(res.right);
        if (bare !== null) return { line: `{"id":${JSON.stringify(r.id)},"ok":true,"result":${bare}}` };
        return reply({ ok: true, result: resultJson(res.right) });
      }
      case 'snapshot': {
        const level = r.level ?? 'full';
        if (this.snapshots === 'none' || (level === 'full' && this.snapshots === 'guest')) {
          return reply({ ok: false, error: `this side answers ${this.snapshots === 'none' ? 'no snapshots' : 'guest snapshots only ("level":"guest")'}, not a ${level} snapshot` });
        }
        if (this.machine === null) return reply({ ok: false, error: 'no machine: send reset with a config first' });
        if (this.machine.crashed !== null) {
          return reply({ ok: false, error: `the machine crashed at step ${this.machine.crashed.step} (${this.machine.crashed.reason}); reset it first` });
        }
        // Written directly: the canonical text, as JSON.stringify of the snapshot would give it.
        const text = level === 'guest' ? guestSnapshotJson(this.machine.host) : this.machine.snapshotJson();
        return { line: `{"id":${JSON.stringify(r.id)},"ok":true,"snapshot":${text}}` };
      }
      case 'quit':
        return { ...reply({ ok: true }), exit: 0 };
    }
  }
}
