/**
 * `vgic dump`: run a decoded trace, keep for every step its op, its RESULT (trace-format §4)
 * and the snapshot after it (trace-format §5), and show the state after one step as text. Pure: the
 * command in `src/cli/dump.ts` does the file I/O, `html.ts` renders the same run as a page.
 */
import * as E from 'fp-ts/lib/Either.js';
import { escapeControl } from '../machine/decode.js';
import { describeSnapshot } from '../machine/describe.js';
import { Machine } from '../machine/machine.js';
import type { Snapshot } from '../machine/snapshot.js';
import { StepMonitor, describeFinding, type Finding } from '../check/monitor.js';
import type { MutantName } from '../xen/mutants.js';
import { show, type Mismatch } from './schema.js';
import { checkExpect, resultJson, runTrace, type RunOptions, type Trace } from './trace.js';

/** How a step's EXPECT (trace-format §6) came out. */
export type ExpectOutcome =
  | { status: 'none' }
  | { status: 'pass' }
  | { status: 'fail'; mismatch: Mismatch }
  /** The expectation cannot be checked (a snapshot expected after a crash): a trace error. */
  | { status: 'error'; message: string };

export interface DumpStep {
  index: number;
  /** The step as written, without its `expect`. */
  op: Record<string, unknown>;
  /** The RESULT in its JSON form (trace-format §4). */
  result: Record<string, unknown>;
  /**
   * The state after the step; null when the step crashed (a dead machine has none,
   * trace-format §4) or, in a `walkRun`, when the caller did not ask for it.
   */
  snapshot: Snapshot | null;
  expect: ExpectOutcome;
  /** With `check`: what the invariant checker and the step properties found after the step. */
  findings?: Finding[];
}

/** The trace error that ended a run early (trace-format §3: replay stops there). */
export interface TraceStop {
  /** Index of the step that is the trace error. */
  step: number;
  /** Its op name (null when there is no such step). */
  op: string | null;
  /** The message, which already names the step. */
  message: string;
}

export interface DumpRun {
  trace: Trace;
  /** The state before any step. */
  initial: Snapshot;
  /** Every step that was applied, in order (a trace error's step not included). */
  steps: DumpStep[];
  stopped: TraceStop | null;
}

/** A state to show and which step it follows (-1: the initial state). */
export interface StateAt {
  after: number;
  snapshot: Snapshot;
}

/** The step as written, without `expect`. */
export function stripExpect(raw: Record<string, unknown>): Record<string, unknown> {
  const { expect: _expect, ...rest } = raw;
  return rest;
}

export interface WalkOptions {
  /** Run the invariant checker and step properties (src/check/monitor.ts) after every step. */
  check?: boolean;
  /** Apply steps 0..last only (default: every step). */
  last?: number;
  /** Take the snapshot after step i only when this says so (default: after every step). */
  snapshotAt?: (i: number) => boolean;
  /** A deliberate deviation to run with (for tests of the checker's display). */
  mutant?: MutantName;
  /** Called with the state before step 0, before any step is applied. */
  onInitial?: (s: Snapshot) => void;
}

/** How a walk ended: the state before step 0, the steps applied, and any trace error. */
export interface WalkEnd {
  initial: Snapshot;
  applied: number;
  stopped: TraceStop | null;
}

/**
 * Run a trace on a fresh machine and hand every applied step to `visit` as it happens,
 * keeping nothing: what the caller keeps is up to it (a dump of a 10^6-step trace keeps one
 * window). Expectation failures do not stop the run (every one is recorded); a trace error
 * does, as in replay. Left only when the config is refused (a decoded trace's config has
 * already been checked).
 */
export function walkRun(trace: Trace, opts: WalkOptions, visit: (s: DumpStep) => void): E.Either<string, WalkEnd> {
  const created = Machine.fromJson(trace.rawConfig);
  if (E.isLeft(created)) return E.left(created.left.join('\n'));
  const initial = created.right.snapshot();
  opts.onInitial?.(initial);
  const t = opts.last !== undefined && opts.last + 1 < trace.steps.length ? { ...trace, steps: trace.steps.slice(0, Math.max(0, opts.last + 1)) } : trace;
  let pending: DumpStep | null = null;
  let applied = 0;
  const lastExpect: { status: ExpectOutcome['status'] } = { status: 'none' };
  const runOpts: RunOptions = {
    keepGoing: true,
    mutant: opts.mutant ?? null,
    onStep: ({ index, step, result, machine }) => {
      const crashed = machine.crashed !== null;
      let expect: ExpectOutcome = { status: 'none' };
      if (step.expect !== undefined) {
        const miss = checkExpect(step.expect, result, () => machine.snapshot(), crashed);
        expect = miss === null ? { status: 'pass' }
          : typeof miss === 'string' ? { status: 'error', message: miss }
            : { status: 'fail', mismatch: miss };
      }
      const want = opts.snapshotAt === undefined || opts.snapshotAt(index);
      const rec: DumpStep = {
        index,
        op: stripExpect(step.raw),
        result: resultJson(result),
        snapshot: crashed || !want ? null : machine.snapshot(),
        expect,
      };
      applied = index + 1;
      lastExpect.status = expect.status;
      if (opts.check === true) pending = rec;
      else visit(rec);
    },
  };
  if (opts.check === true) {
    runOpts.check = (m) => {
      const mon = new StepMonitor(m);
      return {
        before: (op) => mon.before(op),
        after: (op, r) => {
          const found = mon.after(op, r);
          if (pending !== null) {
            pending.findings = found;
            visit(pending);
            pending = null;
          }
          return found;
        },
      };
    };
  }
  const report = runTrace(t, runOpts);
  let stopped: TraceStop | null = null;
  if (report.status === 'error') {
    // An unusable expectation stops the run at its own (applied) step; a broken
    // precondition at the first step not applied.
    const at = applied > 0 && lastExpect.status === 'error' ? applied - 1 : applied;
    stopped = { step: at, op: trace.steps[at]?.op.op ?? null, message: report.error ?? 'trace error' };
  }
  return E.right({ initial, applied, stopped });
}

/** Run a trace and record every step with the state after it (for short traces and tests). */
export function collectSteps(trace: Trace, opts: Omit<WalkOptions, 'last' | 'snapshotAt'> = {}): E.Either<string, DumpRun> {
  const steps: DumpStep[] = [];
  const walked = walkRun(trace, opts, (s) => steps.push(s));
  return E.isLeft(walked) ? walked : E.right({ trace, initial: walked.right.initial, steps, stopped: walked.right.stopped });
}

/** The newest state at or before step `k` (a crashed step has none). */
export function stateAt(run: DumpRun, k: number): StateAt {
  for (let i = Math.min(k, run.steps.length - 1); i >= 0; i--) {
    const s = run.steps[i]!.snapshot;
    if (s !== null) return { after: i, snapshot: s };
  }
  return { after: -1, snapshot: run.initial };
}

// ----- compact forms -----

function scalar(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? 'undefined';
}

/** `inject pcpu=0 domain=1 vcpu=null virq=40`: the op name, then its arguments as written. */
export function opCompact(op: Record<string, unknown>): string {
  const args = Object.entries(op).filter(([k]) => k !== 'op').map(([k, v]) => `${k}=${scalar(v)}`);
  return [scalar(op['op']), ...args].join(' ');
}

/** `ok intid=42`, `crash: <reason>`, `ok (snapshot)`; `log` is left to the caller. */
export function resultCompact(r: Record<string, unknown>): string {
  const parts = [scalar(r['outcome'])];
  for (const [k, v] of Object.entries(r)) {
    if (k === 'outcome' || k === 'reason' || k === 'log') continue;
    parts.push(k === 'snapshot' ? '(snapshot)' : `${k}=${scalar(v)}`);
  }
  const head = parts.join(' ');
  return typeof r['reason'] === 'string' ? `${head}: ${r['reason']}` : head;
}

/** The `log` entries of a RESULT as `[level] msg`. */
export function resultLog(r: Record<string, unknown>): string[] {
  const log = r['log'];
  if (!Array.isArray(log)) return [];
  return log.map((e) => {
    const entry = e as { level?: unknown; msg?: unknown };
    return `[${scalar(entry.level)}] ${scalar(entry.msg)}`;
  });
}

export function expectText(x: ExpectOutcome): string | null {
  switch (x.status) {
    case 'none': return null;
    case 'pass': return 'expect: pass';
    case 'fail': return `expect: FAILED at ${x.mismatch.path}: expected ${show(x.mismatch.expected)}, actual ${show(x.mismatch.actual)}${x.mismatch.why !== undefined ? ` (${x.mismatch.why})` : ''}`;
    case 'error': return `expect: cannot be checked: ${x.message}`;
  }
}

function afterText(after: number): string {
  return after < 0 ? 'the initial state (before step 0)' : `the state after step ${after}`;
}

// ----- text -----

/** Check a requested step against the trace: Left names the valid range. */
export function checkStep(trace: Trace, k: number): E.Either<string, number> {
  const n = trace.steps.length;
  if (!Number.isInteger(k) || k < 0 || k >= n) {
    return E.left(n === 0
      ? `step ${k} is out of range: trace "${escapeControl(trace.name)}" has no steps`
      : `step ${k} is out of range: trace "${escapeControl(trace.name)}" has ${n} step${n === 1 ? '' : 's'} (valid: 0..${n - 1})`);
  }
  return E.right(k);
}

/** The findings of a step (with `check`) as lines, or a line saying there were none. */
export function findingLines(s: DumpStep): string[] {
  if (s.findings === undefined) return [];
  if (s.findings.length === 0) return ['check: no invariant or property violated'];
  return s.findings.map((f) => `check: VIOLATED ${describeFinding(f)}`);
}

/**
 * The text of a dump: `target` is the step asked for (-1: nothing applied), `rec` its record
 * when it was applied, `state` the newest state at or before it.
 */
function formatText(trace: Trace, target: number, rec: DumpStep | undefined, state: StateAt, stopped: TraceStop | null): string {
  const n = trace.steps.length;
  const lines: string[] = [];
  const stopNote = (): void => {
    if (stopped !== null) lines.push(`TRACE ERROR at step ${stopped.step}: ${stopped.message}`, 'the run stops there; later steps were not applied');
  };
  if (target < 0) {
    // Nothing applied: no steps at all, or a trace error at step 0.
    lines.push(`trace ${escapeControl(trace.name)}: ${n === 0 ? 'no steps' : `0 of ${n} steps applied`}; ${afterText(-1)}`);
    stopNote();
  } else if (rec === undefined) {
    const op = trace.steps[target]!.raw;
    lines.push(`trace ${escapeControl(trace.name)}, step ${target} of ${n} (0..${n - 1}): ${opCompact(stripExpect(op))} -> NOT APPLIED`);
    stopNote();
    lines.push(`showing the last good state: ${afterText(state.after)}`);
  } else {
    lines.push(`trace ${escapeControl(trace.name)}, step ${target} of ${n} (0..${n - 1}): ${opCompact(rec.op)} -> ${resultCompact(rec.result)}`);
    for (const l of resultLog(rec.result)) lines.push(`log: ${l}`);
    const x = expectText(rec.expect);
    if (x !== null) lines.push(x);
    lines.push(...findingLines(rec));
    if (rec.result['outcome'] === 'crash') {
      lines.push(`no state after this step: Xen crashed here and the machine is dead (docs/trace-format.md §4); showing ${afterText(state.after)}`);
    }
    stopNote();
  }
  lines.push('', describeSnapshot(state.snapshot));
  return lines.join('\n');
}

/**
 * The state after step `k` of a recorded run as text. `k` undefined: the last step applied
 * (the initial state if none was). A step at or after a trace error shows the last good state.
 */
export function renderText(run: DumpRun, k?: number): E.Either<string, string> {
  if (k !== undefined) {
    const ok = checkStep(run.trace, k);
    if (E.isLeft(ok)) return ok;
  }
  const target = k ?? run.steps.length - 1;
  return E.right(formatText(run.trace, target, run.steps[target], stateAt(run, target), run.stopped));
}

/**
 * Run `trace` and dump the state after step `step` (default: the last step applied). Keeps
 * only that step and the newest state, and takes states only near it, so that it works on
 * traces of any length; `check` adds what the invariant checker and step properties found
 * after the step.
 */
export function dumpText(trace: Trace, step?: number, opts: { check?: boolean } = {}): E.Either<string, string> {
  if (step !== undefined) {
    const ok = checkStep(trace, step);
    if (E.isLeft(ok)) return ok;
  }
  const check = opts.check === true ? { check: true } : {};
  let target = step;
  if (target === undefined) {
    // The last step applied: one run without states to find it.
    const found = walkRun(trace, { snapshotAt: () => false }, () => undefined);
    if (E.isLeft(found)) return found;
    target = found.right.applied - 1;
  }
  const k = target;
  // Every step is applied (a later trace error is still reported); states are taken from
  // the step before k (a crash at k shows the state before it).
  const run = (from: number, last?: number): E.Either<string, { end: WalkEnd; rec: DumpStep | undefined; state: StateAt | null }> => {
    let state: StateAt | null = null;
    let rec: DumpStep | undefined;
    const walked = walkRun(trace, { ...check, ...(last === undefined ? {} : { last }), snapshotAt: (i) => i >= from && i <= k }, (s) => {
      if (s.index > k) return;
      if (s.index === k) rec = s;
      if (s.snapshot !== null) state = { after: s.index, snapshot: s.snapshot };
    });
    return E.isLeft(walked) ? walked : E.right({ end: walked.right, rec, state });
  };
  const first = run(k - 1);
  if (E.isLeft(first)) return first;
  let { end, rec, state } = first.right;
  if (state === null && end.applied > 0 && end.applied - 1 < k - 1) {
    // The run stopped (trace error) before k: the last good state is one of the last two steps applied.
    const again = run(end.applied - 2, end.applied - 1);
    if (E.isLeft(again)) return again;
    state = again.right.state;
  }
  return E.right(formatText(trace, k, rec, state ?? { after: -1, snapshot: end.initial }, end.stopped));
}
