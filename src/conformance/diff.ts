/**
 * Differential runs (trace-format §7): the same steps on the model and on another
 * implementation, comparing every RESULT and, after every step, the snapshots. The first
 * divergence is shrunk to a short trace that still diverges, ready to be written out as a
 * vgic-trace/1 file.
 */
import { firstDifference, RESULT, SNAPSHOT, type Mismatch } from './schema.js';
import type { Driver } from './driver.js';
import { TRACE_FORMAT } from './trace.js';

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
  model: unknown;
  other: unknown;
  why?: string;
  /** The model's RESULT and snapshot at the diverging step (for the written trace). */
  modelResult?: Record<string, unknown>;
  modelSnapshot?: Record<string, unknown>;
}

export type CaseOutcome =
  | { kind: 'same'; steps: number }
  /** The model itself refused the case (bad config or a trace error): not a usable test. */
  | { kind: 'invalid'; step: number; error: string }
  | { kind: 'diverged'; divergence: Divergence };

/** Results are compared on trace-format §4's fields; the model's `log` and a crash's `reason` text are its own. */
export function comparableResult(r: Record<string, unknown>): Record<string, unknown> {
  const { log: _log, reason: _reason, ...rest } = r;
  return rest;
}

function divergenceOf(step: number, op: string, m: Mismatch): Divergence {
  return { step, op, path: m.path, model: m.expected, other: m.actual, ...(m.why !== undefined ? { why: m.why } : {}) };
}

/** Run one case on both sides until the first difference. */
export async function runCase(model: Driver, other: Driver, c: DiffCase): Promise<CaseOutcome> {
  const a = await model.reset(c.config);
  if (!a.ok) return { kind: 'invalid', step: -1, error: a.error };
  const b = await other.reset(c.config);
  if (!b.ok) return { kind: 'diverged', divergence: { step: -1, op: 'reset', path: 'reset', model: 'ok', other: b.error, why: 'the other side refused the config' } };
  for (let i = 0; i < c.steps.length; i++) {
    const step = c.steps[i]!;
    const op = String(step['op']);
    const ra = await model.step(step);
    const rb = await other.step(step);
    // The model calls this a trace error: the case is only usable up to here.
    if (!ra.ok) return { kind: 'invalid', step: i, error: ra.error };
    if (!rb.ok) {
      return { kind: 'diverged', divergence: { step: i, op, path: 'trace error', model: comparableResult(ra.value), other: rb.error, why: 'the other side reports a trace error', modelResult: comparableResult(ra.value) } };
    }
    const ca = comparableResult(ra.value);
    const mr = firstDifference(RESULT, ca, comparableResult(rb.value), 'result');
    if (mr !== null) return { kind: 'diverged', divergence: { ...divergenceOf(i, op, mr), modelResult: ca } };
    if (ca['outcome'] === 'crash') return { kind: 'same', steps: i + 1 };
    const sa = await model.snapshot();
    const sb = await other.snapshot();
    if (!sa.ok) throw new Error(`the model has no snapshot after step ${i}: ${sa.error}`);
    if (!sb.ok) {
      return { kind: 'diverged', divergence: { step: i, op, path: 'snapshot', model: 'a snapshot', other: sb.error, why: 'the other side refused the snapshot', modelResult: ca, modelSnapshot: sa.value } };
    }
    const ms = firstDifference(SNAPSHOT, sa.value, sb.value, 'snapshot');
    if (ms !== null) return { kind: 'diverged', divergence: { ...divergenceOf(i, op, ms), modelResult: ca, modelSnapshot: sa.value } };
  }
  return { kind: 'same', steps: c.steps.length };
}

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
 * the two sides still differ somewhere.
 */
export async function shrinkCase(model: Driver, other: Driver, c: DiffCase, d: Divergence, maxRuns = 3000): Promise<ShrinkResult> {
  let best: DiffCase = { ...c, steps: c.steps.slice(0, d.step + 1) };
  let bestDiv = d;
  let runs = 0;
  /** Keep `cand` if it still diverges. */
  const attempt = async (cand: DiffCase): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs += 1;
    const out = await runCase(model, other, cand);
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

/** The shrunk case as a vgic-trace/1 file whose last step expects what the model does. */
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
    description: `Shrunk from ${s.case.name}: at step ${d.step} (${d.op}) ${otherName} differs from the model at ${d.path}.`,
    refs: [],
    config: s.case.config,
    steps,
  };
}
