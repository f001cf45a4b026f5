/**
 * Differential runs (trace-format §7): the same steps on the model and on another
 * implementation, comparing every RESULT and, after every step, the snapshots at the
 * comparison level chosen (full, guest or none: CompareOptions). The first divergence is
 * shrunk to a short trace that still diverges, ready to be written out as a vgic-trace/1 file.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Machine, Result } from '../machine/machine.js';
import type { Op } from '../machine/ops.js';
import type { GenWatch } from './gen.js';
import { describeVariant } from '../xen/variant.js';
import { guestSnapshotJson } from '../machine/snapshot.js';
import { agrees, validFull } from './agree.js';
import { decodeAnswer, type Answer, type Driver, type Hello, type ModelDriver, type Reply } from './driver.js';
import { parseJson } from './json.js';
import type { CompareLevel, SnapshotLevel } from './levels.js';
import { firstDifference, GUEST_SNAPSHOT, guestView, RESULT, SNAPSHOT, type Mismatch } from './schema.js';
import { TRACE_FORMAT, resultJson } from './trace.js';

export { COMPARE_LEVELS, type CompareLevel } from './levels.js';

/**
 * Decides whether a difference is a known, accepted one (a catalogue of named divergences
 * between Xen and a port, say): the name that accepts it, or null to report it. It sees the
 * first difference of a case (step, op, JSON path, both values, level); an accepted one ends
 * the case as `allowed` (nothing after it is comparable: the two states have parted), not as
 * a divergence, and is neither shrunk nor written out.
 */
export type AllowHook = (d: Divergence, c: DiffCase) => string | null;

export interface CompareOptions {
  level: CompareLevel;
  /**
   * At level `guest`, how the other side is asked: `guest` sends guest snapshot requests
   * (`"level":"guest"`); `full` sends plain snapshot requests and compares the guest view of
   * the answers (a side whose hello does not announce `snapshots`, written before the key
   * existed, which may not know `level`). Default `guest`.
   */
  guestRequest?: 'guest' | 'full';
  allow?: AllowHook;
}

/** Today's comparison: RESULTs and full snapshots. */
export const COMPARE_FULL: CompareOptions = { level: 'full' };

/**
 * The comparison at `level` against a side that said `hello`, or why it cannot be made: a
 * side answers the snapshot levels it announces (absent: `full`, without `level` requests).
 */
export function compareOptionsFor(level: CompareLevel, hello: Hello): E.Either<string, CompareOptions> {
  const can = hello.snapshots ?? 'full';
  const rank = { none: 0, results: 0, guest: 1, full: 2 } as const;
  if (rank[can] < rank[level]) {
    const what = can === 'none' ? 'no snapshots' : 'guest snapshots only';
    const alternatives = can === 'none' ? '--compare results' : '--compare guest or --compare results';
    return E.left(`cannot compare at level ${level}: its hello announces "snapshots":"${can}" (it answers ${what}); use ${alternatives}`);
  }
  return E.right(level === 'guest' ? { level, guestRequest: hello.snapshots === undefined ? 'full' : 'guest' } : { level });
}

export type RawStep = Record<string, unknown>;

export interface DiffCase {
  name: string;
  config: unknown;
  /** Steps as JSON, without `expect`. */
  steps: RawStep[];
}

export interface Divergence {
  /** Step index, or -1 for the reset (config) itself. */
  step: number;
  op: string;
  /** `result...`, `snapshot...`, `reset` or `trace error`. */
  path: string;
  /** The comparison level it was found at (absent: full). */
  level?: CompareLevel;
  model: unknown;
  other: unknown;
  why?: string;
  /**
   * The model's RESULT and snapshot at the diverging step (for the written trace), as
   * compared at the level: at `guest` the snapshot is its guest view (trace-format §5.1), and a RESULT's
   * `snapshot` field too; at `results` there is no snapshot.
   */
  modelResult?: Record<string, unknown>;
  modelSnapshot?: Record<string, unknown>;
}

export type CaseOutcome =
  | { kind: 'same'; steps: number }
  /** The model itself refused the case (bad config or a trace error): not a usable test. */
  | { kind: 'invalid'; step: number; error: string }
  | { kind: 'diverged'; divergence: Divergence }
  /** The first difference was accepted by the AllowHook (`name`); `steps`: the steps compared before it. */
  | { kind: 'allowed'; name: string; steps: number; divergence: Divergence };

/**
 * Results are compared on trace-format §4's fields; the model's `log` and a crash's `reason`
 * text are its own. The `snapshot` of a RESULT (the `snapshot` op) is compared at the level:
 * whole at `full`, its guest view at `guest`, not at all at `results`.
 */
export function comparableResult(r: Record<string, unknown>, level: CompareLevel = 'full'): Record<string, unknown> {
  const { log: _log, reason: _reason, ...rest } = r;
  if (level !== 'full' && 'snapshot' in rest) {
    if (level === 'results') delete rest['snapshot'];
    else rest['snapshot'] = guestView(rest['snapshot']);
  }
  return rest;
}

function divergenceOf(step: number, op: string, m: Mismatch): Divergence {
  return { step, op, path: m.path, model: m.expected, other: m.actual, ...(m.why !== undefined ? { why: m.why } : {}) };
}

/** An answer of the other side: a raw line (line drivers) or a reply already decoded (any other Driver). */
type OtherAnswer = Answer | { record: Record<string, unknown> };

/** The other side as runCase drives it: requests queued, answers read in order. */
interface OtherSession {
  readonly label: string;
  readonly outstanding: number;
  /** `value`: the config, the step, or the level of a snapshot request (none: a plain full one). */
  send(cmd: 'reset' | 'step' | 'snapshot', value?: unknown): void;
  flush(): void;
  next(): Promise<OtherAnswer>;
  abandon(): void;
}

/** A Driver without a pipeline (a test double, say): its methods one at a time, in order. */
class SequentialSession implements OtherSession {
  private readonly queue: (() => Promise<Record<string, unknown>>)[] = [];

  constructor(private readonly d: Driver) {}

  get label(): string {
    return this.d.label;
  }

  get outstanding(): number {
    return this.queue.length;
  }

  send(cmd: 'reset' | 'step' | 'snapshot', value?: unknown): void {
    const asRecord = (key: string) => (r: Reply<unknown>): Record<string, unknown> => (r.ok ? { ok: true, [key]: r.value } : { ok: false, error: r.error });
    this.queue.push(cmd === 'reset' ? () => this.d.reset(value).then(asRecord('value'))
      : cmd === 'step' ? () => this.d.step(value).then(asRecord('result'))
        : () => this.d.snapshot(value as SnapshotLevel | undefined).then(asRecord('snapshot')));
  }

  flush(): void {}

  async next(): Promise<OtherAnswer> {
    const call = this.queue.shift();
    if (call === undefined) throw new Error('SequentialSession.next: no request is waiting for an answer');
    return { record: await call() };
  }

  abandon(): void {
    this.queue.length = 0;
  }
}

function openSession(other: Driver): OtherSession {
  return other.pipeline !== undefined ? other.pipeline() : new SequentialSession(other);
}

/** What the model answered to one request sent to the other side, in the order they were sent. */
type Expected =
  | { kind: 'reset' }
  /** `result`: the model's RESULT (canonical, `log` included) and its JSON text; `error`: the model's trace error. */
  | { kind: 'step'; i: number; op: string; result: ModelResult | null; error: string }
  /** `snap`: the model's snapshot after step i as canonical JSON text (its guest view at level guest). */
  | { kind: 'snapshot'; i: number; op: string; result: ModelResult; snap: string };

interface ModelResult {
  json: Record<string, unknown>;
  text: string;
}

/** The RESULTs that are nothing but an outcome (most of them), made once. */
const BARE_RESULTS = new Map<string, ModelResult>();

function modelResult(r: Result): ModelResult {
  let bare = true;
  for (const k in r) {
    if (k !== 'outcome') {
      bare = false;
      break;
    }
  }
  if (!bare) {
    const json = resultJson(r);
    return { json, text: JSON.stringify(json) };
  }
  let m = BARE_RESULTS.get(r.outcome);
  if (m === undefined) {
    const json = resultJson(r);
    m = { json, text: JSON.stringify(json) };
    BARE_RESULTS.set(r.outcome, m);
  }
  return m;
}

/** How far the model runs ahead of the other side's answers: requests, and bytes of snapshot text held. */
const WINDOW_REQUESTS = 512;
const WINDOW_BYTES = 8 * 1024 * 1024;
/** Requests are written in batches of this many, so that the other side can start early. */
const BATCH_REQUESTS = 48;

/** The other side's answer is `{"id":..,"ok":true,<key>:...}` with the same id: the parsed object, else null. */
function okEnvelope(u: unknown, id: number, key: string): Record<string, unknown> | null {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return null;
  const r = u as Record<string, unknown>;
  return r['id'] === id && r['ok'] === true && key in r ? r : null;
}

/** Is `line` exactly `{"id":<id>,"ok":true,"<key>":<body>}` (what the model itself would write)? Compared in place. */
function isOkLine(line: string, id: number, key: string, body: string): boolean {
  const head = `{"id":${id},"ok":true,"${key}":`;
  return line.length === head.length + body.length + 1 && line.startsWith(head) && line.startsWith(body, head.length) && line.charCodeAt(line.length - 1) === 0x7d;
}

/** The model's text as UTF-8, for comparing long bodies with a native compare (reused). */
let scratch = Buffer.alloc(64 * 1024);

/** Does `text` (all below U+0080) match `bytes` at `at`, one character per byte? */
function asciiAt(bytes: Buffer, at: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c >= 0x80 || bytes[at + k] !== c) return false;
  }
  return true;
}

/** isOkLine for a line that came as bytes: `{"id":<id>,"ok":true,"<key>":` then the UTF-8 of `body`, then `}`. */
function isOkBytes(line: Buffer, id: number, key: string, body: string): boolean {
  const head = `{"id":${id},"ok":true,"${key}":`;
  if (line.length < head.length + body.length + 1 || line[line.length - 1] !== 0x7d || !asciiAt(line, 0, head)) return false;
  if (body.length < 512) return line.length === head.length + body.length + 1 && asciiAt(line, head.length, body);
  if (scratch.length < 3 * body.length) scratch = Buffer.alloc(3 * body.length);
  const n = scratch.write(body, 0, 'utf8');
  return line.length === head.length + n + 1 && line.compare(scratch, 0, n, head.length, head.length + n) === 0;
}

/**
 * The other side's answer as a response object (decodeAnswer: a malformed one is a
 * ProtocolError), or `same` when it is certainly a valid `ok:true` response whose payload
 * under `key` agrees with the model's: byte-identical to the line the model would write
 * (`body`: the payload text), or parsed and walked once by `agreesWith`.
 */
function judge(
  session: OtherSession, a: OtherAnswer, key: string, body: string | null, agreesWith: ((u: unknown) => boolean) | null,
): 'same' | Record<string, unknown> {
  if (!('line' in a)) return a.record;
  if (body !== null && (a.bytes !== undefined ? isOkBytes(a.bytes, a.id, key, body) : isOkLine(a.line, a.id, key, body))) return 'same';
  const p = parseJson(a.line, { base: 'response' });
  if (E.isRight(p) && agreesWith !== null) {
    const env = okEnvelope(p.right, a.id, key);
    if (env !== null && agreesWith(env[key])) return 'same';
  }
  return decodeAnswer(session.label, a.cmd, a.id, a.line, E.isRight(p) ? p.right : undefined, a.level);
}

/** A case under way (startCase): its first requests are written; `finish` reads and compares the answers. */
export interface RunningCase {
  finish(): Promise<CaseOutcome>;
  /** Give up on the case without reading its answers (they are discarded as they arrive). */
  abandon(): void;
  /**
   * Every request of the case is written (it fitted in the first window). Only then may the
   * next case start before this one finishes: requests written later would come after the
   * next case's on the line, and the answers would no longer be in the order expected.
   */
  allSent(): boolean;
}

/**
 * Start one case: build the model's machine, run the model ahead and write the first
 * requests to the other side, without waiting for any answer. Cases started one after the
 * other on the same side must be finished (or abandoned) in the order they were started:
 * the answers come back in that order. `vgic diff` starts case k+1 before it finishes case k,
 * so that the other side always has work while this side generates and runs the next case.
 *
 * The model (our own side) is a Machine driven directly: no request lines, no decoding of its
 * answers. The other side gets its requests pipelined: the model runs ahead by up to
 * WINDOW_REQUESTS requests (reset, then each step followed by a snapshot request), those are
 * written in batches, and the answers are read back in order and compared as they come. The
 * requests are exactly those a one-at-a-time run would send up to the point it stops (no
 * snapshot after a crash, nothing after the model's own trace error), plus, when it stops at a
 * divergence, the ones already written beyond it: their answers are discarded unread
 * (Pipeline.abandon), and the next request sent is answered by the next line read, its id
 * checked as always. Decisions and messages are those of a one-at-a-time run: answers are
 * judged in request order, and any answer that is not certainly valid and equal goes through
 * the full decode (decodeAnswer) and firstDifference.
 *
 * `opts` sets the comparison level (COMPARE_FULL by default): at `results` no snapshot is
 * requested; at `guest` the model's guest snapshot (trace-format §5.1) is compared with the other side's
 * guest snapshot, or with the guest view of its full one (CompareOptions.guestRequest).
 */
export function startCase(model: ModelDriver, other: Driver, c: DiffCase, opts: CompareOptions = COMPARE_FULL, ran: ModelRun | null = null): RunningCase {
  const level = opts.level;
  /** At level guest against a side asked for full snapshots: their guest view is compared. */
  const viewOfFull = level === 'guest' && opts.guestRequest === 'full';
  const snapNode = level === 'guest' ? GUEST_SNAPSHOT : SNAPSHOT;
  const snapWhat = level === 'guest' ? 'the guest snapshot' : 'the snapshot';
  if (ran !== null && (ran.results.length !== c.steps.length || ran.level !== level || describeVariant(model.variant) !== 'xen')) {
    throw new Error('startCase: the model run given is not of this case, level and model');
  }
  const created = ran !== null ? null : model.machineFor(c.config);
  if (created !== null && E.isLeft(created)) {
    const outcome: CaseOutcome = { kind: 'invalid', step: -1, error: created.left.join('; ') };
    return { finish: () => Promise.resolve(outcome), abandon: () => {}, allSent: () => true };
  }
  const machine = created === null ? null : created.right;
  const session = openSession(other);
  const expected: Expected[] = [{ kind: 'reset' }];
  let head = 0;
  session.send('reset', c.config);
  let next = 0;
  let planning = true;
  let held = 0;
  /** Run the model ahead and queue the matching requests, up to the window. */
  const plan = (): void => {
    let batch = 0;
    while (planning && session.outstanding < WINDOW_REQUESTS && held < WINDOW_BYTES) {
      if (next >= c.steps.length) {
        planning = false;
        break;
      }
      const i = next++;
      const step = c.steps[i]!;
      const op = String(step['op']);
      const r = machine === null ? null : machine.step(step, i, 'step');
      session.send('step', step);
      if (r !== null && E.isLeft(r)) {
        // The model calls this a trace error: the case is only usable up to here.
        expected.push({ kind: 'step', i, op, result: null, error: r.left });
        planning = false;
        break;
      }
      const result = modelResult(r === null ? ran!.results[i]! : r.right);
      expected.push({ kind: 'step', i, op, result, error: '' });
      if (result.json['outcome'] === 'crash') {
        planning = false;
        break;
      }
      batch += 1;
      if (level !== 'results') {
        const snap = machine === null ? ran!.snaps[i]! : level === 'full' ? machine.snapshotJson() : guestSnapshotJson(machine.host);
        held += snap.length;
        session.send('snapshot', level === 'guest' && !viewOfFull ? 'guest' : undefined);
        expected.push({ kind: 'snapshot', i, op, result, snap });
        batch += 1;
      }
      if (batch >= BATCH_REQUESTS) {
        session.flush();
        batch = 0;
      }
    }
    session.flush();
  };

  /** A difference: reported, or accepted by the allow hook. */
  const differs = (d: Divergence): CaseOutcome => {
    const divergence: Divergence = level === 'full' ? d : { ...d, level };
    const name = opts.allow?.(divergence, c) ?? null;
    return name === null ? { kind: 'diverged', divergence } : { kind: 'allowed', name, steps: Math.max(0, d.step), divergence };
  };

  const finish = async (): Promise<CaseOutcome> => {
    try {
      for (;;) {
        if (session.outstanding <= WINDOW_REQUESTS / 2) plan();
        const e = expected[head];
        if (e === undefined) break;
        expected[head++] = undefined as unknown as Expected;
        const a = await session.next();
        switch (e.kind) {
          case 'reset': {
            const b = 'line' in a && a.line === `{"id":${a.id},"ok":true}` ? 'same' : judge(session, a, 'ok', null, null);
            if (b !== 'same' && b['ok'] !== true) {
              return differs({ step: -1, op: 'reset', path: 'reset', model: 'ok', other: b['error'], why: 'the other side refused the config' });
            }
            break;
          }
          case 'step': {
            const { i, op, result } = e;
            const b = judge(session, a, 'result', result?.text ?? null,
              result === null ? null : (u) => agrees(RESULT, result.json, u, IGNORED_RESULT_FIELDS));
            if (result === null) return { kind: 'invalid', step: i, error: e.error };
            if (b === 'same') {
              if (result.json['outcome'] === 'crash') return { kind: 'same', steps: i + 1 };
              break;
            }
            const ca = comparableResult(result.json, level);
            if (b['ok'] !== true) {
              return differs({ step: i, op, path: 'trace error', model: ca, other: b['error'], why: 'the other side reports a trace error', modelResult: ca });
            }
            const mr = firstDifference(RESULT, ca, comparableResult(b['result'] as Record<string, unknown>, level), 'result');
            if (mr !== null) return differs({ ...divergenceOf(i, op, mr), modelResult: ca });
            if (ca['outcome'] === 'crash') return { kind: 'same', steps: i + 1 };
            break;
          }
          case 'snapshot': {
            const { i, op, snap } = e;
            held -= snap.length;
            let mine: Record<string, unknown> | null = null;
            const modelSnapshot = (): Record<string, unknown> => (mine ??= JSON.parse(snap) as Record<string, unknown>);
            const b = viewOfFull
              // A full snapshot answered: valid as a whole, and its guest view agrees.
              ? judge(session, a, 'snapshot', null, (u) => validFull(SNAPSHOT, u) && agrees(GUEST_SNAPSHOT, modelSnapshot(), u))
              : judge(session, a, 'snapshot', snap, (u) => agrees(snapNode, modelSnapshot(), u));
            if (b === 'same') break;
            const ca = comparableResult(e.result.json, level);
            if (b['ok'] !== true) {
              return differs({ step: i, op, path: 'snapshot', model: level === 'guest' ? 'a guest snapshot' : 'a snapshot', other: b['error'], why: `the other side refused ${snapWhat}`, modelResult: ca, modelSnapshot: modelSnapshot() });
            }
            const theirs = viewOfFull ? guestView(b['snapshot']) : b['snapshot'];
            const ms = firstDifference(snapNode, modelSnapshot(), theirs, 'snapshot');
            if (ms !== null) return differs({ ...divergenceOf(i, op, ms), modelResult: ca, modelSnapshot: modelSnapshot() });
            break;
          }
        }
      }
      return { kind: 'same', steps: c.steps.length };
    } finally {
      session.abandon();
    }
  };

  plan();
  return { finish, abandon: () => session.abandon(), allSent: () => !planning };
}

/**
 * The model's side of a case already run (by the generator that made it: `recordModelRun`):
 * the RESULT of every step and the snapshot text after it at `level` ('' at `results`, and
 * after a crash). startCase then compares against these instead of running the steps again.
 * Only for the reference model (a ModelDriver of Xen's behaviour: no mutant, no divergence switch).
 */
export interface ModelRun {
  readonly level: CompareLevel;
  readonly results: Result[];
  readonly snaps: string[];
}

/** A ModelRun to fill step by step, and the generator hook that fills it (generateTraceWithOps's `watch`). */
export function recordModelRun(level: CompareLevel): { run: ModelRun; watch: GenWatch } {
  const run: ModelRun = { level, results: [], snaps: [] };
  const after = (m: Machine, _op: Op, r: Result): void => {
    run.results.push(r);
    run.snaps.push(level === 'results' || m.crashed !== null ? '' : level === 'full' ? m.snapshotJson() : guestSnapshotJson(m.host));
  };
  return { run, watch: { after } };
}

/** Run one case on both sides until the first difference (startCase, then finish). */
export function runCase(model: ModelDriver, other: Driver, c: DiffCase, opts: CompareOptions = COMPARE_FULL): Promise<CaseOutcome> {
  return startCase(model, other, c, opts).finish();
}

/** RESULT fields that are each side's own (comparableResult): checked for shape, not compared. */
const IGNORED_RESULT_FIELDS = ['log', 'reason'] as const;

export interface ShrinkResult {
  case: DiffCase;
  divergence: Divergence;
  /** Both-side runs spent shrinking. */
  runs: number;
}

/** Smaller configs to try, simplest first: fewer LRs, pCPUs, vCPUs, SPIs and domains. */
function smallerConfigs(config: unknown): unknown[] {
  if (typeof config !== 'object' || config === null) return [];
  const c = config as { nr_lrs?: number; pcpus?: number; domains?: { vcpus?: number; nr_spis?: number }[] };
  const out: unknown[] = [];
  const lrs = c.nr_lrs ?? 1;
  for (const n of [1, 2, Math.floor(lrs / 2), lrs - 1]) if (n >= 1 && n < lrs) out.push({ ...c, nr_lrs: n });
  const pcpus = c.pcpus ?? 1;
  for (const n of [1, pcpus - 1]) if (n >= 1 && n < pcpus) out.push({ ...c, pcpus: n });
  const domains = c.domains ?? [];
  domains.forEach((d, i) => {
    const with_ = (nd: object): unknown => ({ ...c, domains: domains.map((x, j) => (j === i ? nd : x)) });
    const vcpus = d.vcpus ?? 1;
    for (const n of [1, vcpus - 1]) if (n >= 1 && n < vcpus) out.push(with_({ ...d, vcpus: n }));
    if ((d.nr_spis ?? 0) > 32) out.push(with_({ ...d, nr_spis: 32 }));
    if (domains.length > 1) out.push({ ...c, domains: domains.filter((_x, j) => j !== i) });
  });
  return out;
}

/**
 * Shrink a diverging case: cut it after the diverging step, then, until nothing helps,
 * remove ever smaller chunks of steps (delta debugging), pairs of steps (an enter needs its
 * exit), and try smaller configs; a candidate is kept when the model accepts every step and
 * the two sides still differ somewhere (at the comparison level of `opts`, and not by a
 * difference the allow hook accepts).
 */
export async function shrinkCase(
  model: ModelDriver, other: Driver, c: DiffCase, d: Divergence, maxRuns = 3000, opts: CompareOptions = COMPARE_FULL,
): Promise<ShrinkResult> {
  let best: DiffCase = { ...c, steps: c.steps.slice(0, d.step + 1) };
  let bestDiv = d;
  let runs = 0;
  /** Keep `cand` if it still diverges. */
  const attempt = async (cand: DiffCase): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs += 1;
    const out = await runCase(model, other, cand, opts);
    if (out.kind !== 'diverged') return false;
    best = { ...cand, steps: cand.steps.slice(0, out.divergence.step + 1) };
    bestDiv = out.divergence;
    return true;
  };
  const without = (idx: readonly number[]): DiffCase => ({ ...best, steps: best.steps.filter((_s, i) => !idx.includes(i)) });

  let progress = true;
  while (progress && runs < maxRuns) {
    progress = false;
    // Chunks of halving size.
    for (let chunk = Math.max(1, Math.floor(best.steps.length / 2)); chunk >= 1; chunk = chunk === 1 ? 0 : Math.max(1, Math.floor(chunk / 2))) {
      for (let start = 0; start < best.steps.length && runs < maxRuns;) {
        const idx = Array.from({ length: Math.min(chunk, best.steps.length - start) }, (_x, k) => start + k);
        if (idx.length < best.steps.length && await attempt(without(idx))) progress = true;
        else start += chunk;
      }
    }
    // Pairs of steps that only make sense together.
    for (let i = 0; i < best.steps.length && runs < maxRuns; i++) {
      for (let j = i + 1; j < best.steps.length && runs < maxRuns; j++) {
        if (best.steps.length > 2 && await attempt(without([i, j]))) {
          progress = true;
          j = i;
        }
      }
    }
    // Smaller configs.
    for (const config of smallerConfigs(best.config)) {
      if (await attempt({ ...best, config })) {
        progress = true;
        break;
      }
    }
  }
  return { case: best, divergence: bestDiv, runs };
}

/**
 * The shrunk case as a vgic-trace/1 file whose last step expects what the model does, as far
 * as it was compared: the RESULT (at `guest` level a `snapshot` in it is the guest view, at
 * `results` it is left out) and, when the snapshots differed, the model's snapshot (at
 * `guest` level its guest view, which is a valid PARTIAL snapshot, trace-format §6: replayed,
 * it checks exactly the guest-visible state).
 */
export function divergenceTrace(s: ShrinkResult, otherName: string): Record<string, unknown> {
  const d = s.divergence;
  const steps = s.case.steps.map((st) => ({ ...st }));
  const last = steps[steps.length - 1];
  if (last !== undefined && d.modelResult !== undefined) {
    last['expect'] = { result: d.modelResult, ...(d.modelSnapshot !== undefined ? { snapshot: d.modelSnapshot } : {}) };
  }
  return {
    format: TRACE_FORMAT,
    name: `divergence-${s.case.name}`,
    description: `Shrunk from ${s.case.name}: at step ${d.step} (${d.op}) ${otherName} differs from the model at ${d.path}${d.level !== undefined && d.level !== 'full' ? ` (compared at level ${d.level})` : ''}.`,
    refs: [],
    config: s.case.config,
    steps,
  };
}
