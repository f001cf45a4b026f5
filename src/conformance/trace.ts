/**
 * vgic-trace/1 files (FORMAT.md §2, §6): decoding a whole trace up front (config, every
 * op, every EXPECT), running it on a Machine, and checking each expectation right after its
 * step. The core stays free of I/O; reading files is `loadTraceFile`'s only job.
 */
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as t from 'io-ts';
import { decodeConfig, type Config } from '../machine/config.js';
import { anyJson, decodeWith, oneLine, oneOf, strictObject } from '../machine/decode.js';
import { Machine, TraceError, type Result } from '../machine/machine.js';
import { decodeOp, type Op } from '../machine/ops.js';
import type { Snapshot } from '../machine/snapshot.js';
import type { MutantName } from '../xen/mutants.js';
import { PartialResultCodec, PartialSnapshotCodec, RESULT, SNAPSHOT, canonical, matchPartial, type Mismatch } from './schema.js';

export const TRACE_FORMAT = 'vgic-trace/1';

export interface Expect {
  result?: Record<string, unknown>;
  snapshot?: Record<string, unknown>;
}

export interface Step {
  op: Op;
  expect?: Expect;
  /** The step as written (for reports and for writing traces back out). */
  raw: Record<string, unknown>;
}

export interface Trace {
  name: string;
  description?: string;
  refs?: string[];
  config: Config;
  /** The config as written. */
  rawConfig: unknown;
  steps: Step[];
}

const TraceCodec = strictObject(
  'trace',
  { format: oneOf([TRACE_FORMAT] as const), config: anyJson('a config object'), steps: t.array(t.unknown, 'an array of steps') },
  { name: t.string, description: t.string, refs: t.array(t.string) },
);

const ExpectCodec = strictObject('expect', {}, { result: PartialResultCodec, snapshot: PartialSnapshotCodec });

/** Decode one step with its EXPECT; errors carry the JSON path under `base`. */
export function decodeStep(u: unknown, base: string): E.Either<string[], Step> {
  const op = decodeOp(u, base);
  const errors: string[] = E.isLeft(op) ? [...op.left] : [];
  let expect: Expect | undefined;
  if (typeof u === 'object' && u !== null && 'expect' in u) {
    const r = decodeWith(ExpectCodec, (u as Record<string, unknown>)['expect'], `${base}.expect`);
    if (E.isLeft(r)) errors.push(...r.left);
    else expect = r.right as Expect;
  }
  if (errors.length > 0 || E.isLeft(op)) return E.left(errors);
  return E.right({ op: op.right, raw: u as Record<string, unknown>, ...(expect !== undefined ? { expect } : {}) });
}

/** Decode a whole trace (already parsed JSON). Left: every problem found, with paths. */
export function decodeTrace(u: unknown, fallbackName = 'trace'): E.Either<string[], Trace> {
  const top = decodeWith(TraceCodec, u);
  if (E.isLeft(top)) return top;
  const tr = top.right;
  const errors: string[] = [];
  const config = decodeConfig(tr.config, 'config');
  if (E.isLeft(config)) errors.push(...config.left);
  const steps: Step[] = [];
  tr.steps.forEach((s, i) => {
    const r = decodeStep(s, `steps[${i}]`);
    if (E.isLeft(r)) errors.push(...r.left);
    else steps.push(r.right);
  });
  if (errors.length > 0 || E.isLeft(config)) return E.left(errors);
  return E.right({
    name: tr.name ?? fallbackName,
    ...(tr.description !== undefined ? { description: tr.description } : {}),
    ...(tr.refs !== undefined ? { refs: tr.refs } : {}),
    config: config.right,
    rawConfig: tr.config,
    steps,
  });
}

/** Read and decode a trace file; Left lines start with the file name. */
export function loadTraceFile(file: string): E.Either<string[], Trace> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return E.left([`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left([`${file}: not valid JSON: ${oneLine((e as Error).message)}`]);
  }
  const r = decodeTrace(json, basename(file).replace(/\.json$/, ''));
  return E.mapLeft((lines: string[]) => lines.map((l) => `${file}: ${l}`))(r);
}

/** Expand directories (their *.json files, sorted, recursively) into a file list. */
export function expandPaths(paths: readonly string[]): E.Either<string[], string[]> {
  const out: string[] = [];
  const errors: string[] = [];
  const walk = (p: string, top: boolean): void => {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      errors.push(`${p}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        const sub = join(p, name);
        if (name.endsWith('.json') || statSync(sub).isDirectory()) walk(sub, false);
      }
    } else if (top || p.endsWith('.json')) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p, true);
  if (errors.length > 0) return E.left(errors);
  return E.right(out);
}

// ----- running -----

/** What a step produced, in the JSON form FORMAT.md §4 gives it. */
export function resultJson(r: Result): Record<string, unknown> {
  return canonical(RESULT, r) as Record<string, unknown>;
}

export interface StepEvent {
  index: number;
  step: Step;
  result: Result;
  machine: Machine;
}

export type TraceStatus = 'pass' | 'fail' | 'error';

export interface ExpectFailure extends Mismatch {
  step: number;
  op: string;
}

export interface TraceReport {
  name: string;
  /** Invariants or properties violated (with `check`): the step and one line each. */
  violation?: { step: number; op: string; findings: string[] };
  file?: string;
  status: TraceStatus;
  /** Steps applied (a trace error's step not included). */
  steps: number;
  /** Expectations checked. */
  checked: number;
  failure?: ExpectFailure;
  /** Trace error or invalid input. */
  error?: string;
}

export interface RunOptions {
  mutant?: MutantName | null;
  /** Called after every applied step (before its expectations are checked). */
  onStep?: (e: StepEvent) => void;
  /**
   * A per-step check (the invariant checker and properties of src/check) made for the
   * machine; what it reports after a step fails the trace.
   */
  check?: (m: Machine) => { before(op: Op): void; after(op: Op, r: Result): { id: string; message: string }[] };
  /** Keep going after a failed expectation (still reports the first). */
  keepGoing?: boolean;
}

/**
 * Run a decoded trace on a fresh machine. The first failed expectation makes it `fail`; a
 * trace error (broken precondition) makes it `error` and stops the run.
 */
export function runTrace(trace: Trace, opts: RunOptions = {}): TraceReport {
  const report: TraceReport = { name: trace.name, status: 'pass', steps: 0, checked: 0 };
  const created = Machine.create(trace.rawConfig, 'config', opts.mutant ?? null);
  if (E.isLeft(created)) return { ...report, status: 'error', error: created.left.join('; ') };
  const m = created.right;
  const monitor = opts.check?.(m);
  for (let i = 0; i < trace.steps.length; i++) {
    const step = trace.steps[i]!;
    monitor?.before(step.op);
    const r = m.apply(step.op, i);
    if (r instanceof TraceError) return { ...report, status: 'error', error: r.message };
    report.steps = i + 1;
    opts.onStep?.({ index: i, step, result: r, machine: m });
    const found = monitor?.after(step.op, r) ?? [];
    if (found.length > 0 && report.violation === undefined) {
      report.status = 'fail';
      report.violation = { step: i, op: step.op.op, findings: found.map((f) => `${f.id}: ${f.message}`) };
      if (opts.keepGoing !== true) return report;
    }
    if (step.expect === undefined) continue;
    const miss = checkExpect(step.expect, r, () => m.snapshot(), m.crashed !== null);
    report.checked += 1;
    if (typeof miss === 'string') return { ...report, status: 'error', error: `step ${i} (${step.op.op}): ${miss}` };
    if (miss !== null && report.failure === undefined) {
      report.status = 'fail';
      report.failure = { step: i, op: step.op.op, ...miss };
      if (opts.keepGoing !== true) return report;
    }
  }
  return report;
}

/**
 * Check one EXPECT against a step's RESULT and the snapshot after it. A string is a trace
 * error (a snapshot expected after a crash, when the machine has none).
 */
export function checkExpect(expect: Expect, result: Result, snapshot: () => Snapshot, crashed: boolean): Mismatch | null | string {
  if (expect.result !== undefined) {
    const m = matchPartial(RESULT, expect.result, resultJson(result), 'result');
    if (m !== null) return m;
  }
  if (expect.snapshot !== undefined) {
    if (crashed) return 'a snapshot is expected, but the machine crashed at this step and has none (FORMAT.md §4)';
    const m = matchPartial(SNAPSHOT, expect.snapshot, snapshot(), 'snapshot');
    if (m !== null) return m;
  }
  return null;
}
