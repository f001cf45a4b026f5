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
import { show, type Mismatch } from './schema.js';
import { checkExpect, resultJson, runTrace, type Trace } from './trace.js';

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
  /** The state after the step; null when the step crashed (a dead machine has none, trace-format §4). */
  snapshot: Snapshot | null;
  expect: ExpectOutcome;
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

/**
 * Run a trace on a fresh machine and record every step. Expectation failures do not stop
 * the run (every one is recorded); a trace error does, as in replay. Left only when the
 * config is refused (a decoded trace's config has already been checked).
 */
export function collectSteps(trace: Trace): E.Either<string, DumpRun> {
  const created = Machine.fromJson(trace.rawConfig);
  if (E.isLeft(created)) return E.left(created.left.join('\n'));
  const initial = created.right.snapshot();
  const steps: DumpStep[] = [];
  const report = runTrace(trace, {
    keepGoing: true,
    onStep: ({ index, step, result, machine }) => {
      const crashed = machine.crashed !== null;
      let expect: ExpectOutcome = { status: 'none' };
      if (step.expect !== undefined) {
        const miss = checkExpect(step.expect, result, () => machine.snapshot(), crashed);
        expect = miss === null ? { status: 'pass' }
          : typeof miss === 'string' ? { status: 'error', message: miss }
            : { status: 'fail', mismatch: miss };
      }
      steps.push({
        index,
        op: stripExpect(step.raw),
        result: resultJson(result),
        snapshot: crashed ? null : machine.snapshot(),
        expect,
      });
    },
  });
  let stopped: TraceStop | null = null;
  if (report.status === 'error') {
    // An unusable expectation stops the run at its own (applied) step; a broken
    // precondition at the first step not applied.
    const last = steps[steps.length - 1];
    const at = last !== undefined && last.expect.status === 'error' ? last.index : steps.length;
    stopped = { step: at, op: trace.steps[at]?.op.op ?? null, message: report.error ?? 'trace error' };
  }
  return E.right({ trace, initial, steps, stopped });
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

/**
 * The state after step `k` of a recorded run as text. `k` undefined: the last step applied
 * (the initial state if none was). A step at or after a trace error shows the last good state.
 */
export function renderText(run: DumpRun, k?: number): E.Either<string, string> {
  const { trace } = run;
  const n = trace.steps.length;
  if (k !== undefined) {
    const ok = checkStep(trace, k);
    if (E.isLeft(ok)) return ok;
  }
  const lines: string[] = [];
  const stopNote = (): void => {
    if (run.stopped !== null) lines.push(`TRACE ERROR at step ${run.stopped.step}: ${run.stopped.message}`, 'the run stops there; later steps were not applied');
  };
  const target = k ?? run.steps.length - 1;
  const applied = run.steps[target];
  let state: StateAt;
  if (target < 0) {
    // Nothing applied: no steps at all, or a trace error at step 0.
    lines.push(`trace ${escapeControl(trace.name)}: ${n === 0 ? 'no steps' : `0 of ${n} steps applied`}; ${afterText(-1)}`);
    stopNote();
    state = { after: -1, snapshot: run.initial };
  } else if (applied === undefined) {
    const op = trace.steps[target]!.raw;
    lines.push(`trace ${escapeControl(trace.name)}, step ${target} of ${n} (0..${n - 1}): ${opCompact(stripExpect(op))} -> NOT APPLIED`);
    stopNote();
    state = stateAt(run, target);
    lines.push(`showing the last good state: ${afterText(state.after)}`);
  } else {
    lines.push(`trace ${escapeControl(trace.name)}, step ${target} of ${n} (0..${n - 1}): ${opCompact(applied.op)} -> ${resultCompact(applied.result)}`);
    for (const l of resultLog(applied.result)) lines.push(`log: ${l}`);
    const x = expectText(applied.expect);
    if (x !== null) lines.push(x);
    state = stateAt(run, target);
    if (applied.snapshot === null) {
      lines.push(`no state after this step: Xen crashed here and the machine is dead (docs/trace-format.md §4); showing ${afterText(state.after)}`);
    }
    stopNote();
  }
  lines.push('', describeSnapshot(state.snapshot));
  return E.right(lines.join('\n'));
}

/** Run `trace` and dump the state after step `step` (default: the last step applied). */
export function dumpText(trace: Trace, step?: number): E.Either<string, string> {
  if (step !== undefined) {
    const ok = checkStep(trace, step);
    if (E.isLeft(ok)) return ok;
  }
  return E.flatMap(collectSteps(trace), (run) => renderText(run, step));
}
