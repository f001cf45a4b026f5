/**
 * Run one trace on two variants of the model in-process and report where they first differ,
 * comparing as `vgic diff` does (trace-format §4 RESULT fields without `log` and a crash's
 * `reason`, then the whole snapshot after every step). This is how each entry of the
 * divergence catalogue (src/xen/divergences.ts) is proved against its fixture.
 */
import * as E from 'fp-ts/lib/Either.js';
import { comparableResult, type CompareLevel, type DiffCase, type Divergence } from '../conformance/diff.js';
import { RESULT, SNAPSHOT, firstDifference, guestView } from '../conformance/schema.js';
import { TRACE_FORMAT, decodeTrace, resultJson, type Trace } from '../conformance/trace.js';
import { Machine, TraceError } from '../machine/machine.js';
import { DIVERGENCE_NAMES, type DivergenceName } from '../xen/divergences.js';
import { makeVariant, type Variant } from '../xen/variant.js';

export interface VariantDifference {
  step: number;
  op: string;
  /** JSON path of the first difference (`result.intid`, `snapshot.domains[id=1]...`). */
  path: string;
  /** The value on the first variant. */
  first: unknown;
  /** The value on the second variant (undefined when missing). */
  second: unknown;
}

/**
 * Where `trace` first runs differently on variants `a` and `b`: a difference, null when
 * every step agrees, or Left when either side refuses the config or a step (a trace error).
 */
export function firstVariantDifference(trace: Trace, a: Variant, b: Variant, level: CompareLevel = 'full'): E.Either<string, VariantDifference | null> {
  const ma = Machine.fromJson(trace.rawConfig, 'config', a);
  const mb = Machine.fromJson(trace.rawConfig, 'config', b);
  if (E.isLeft(ma)) return E.left(ma.left.join('; '));
  if (E.isLeft(mb)) return E.left(mb.left.join('; '));
  for (let i = 0; i < trace.steps.length; i++) {
    const op = trace.steps[i]!.op;
    const ra = ma.right.apply(op, i);
    const rb = mb.right.apply(op, i);
    if (ra instanceof TraceError) return E.left(ra.message);
    if (rb instanceof TraceError) return E.left(rb.message);
    const ca = comparableResult(resultJson(ra), level);
    const r = firstDifference(RESULT, ca, comparableResult(resultJson(rb), level), 'result');
    if (r !== null) return E.right({ step: i, op: op.op, path: r.path, first: r.expected, second: r.actual });
    if (ca['outcome'] === 'crash') return E.right(null);
    if (level === 'results') continue;
    const view = (m: Machine): unknown => (level === 'guest' ? guestView(JSON.parse(m.snapshotJson())) : JSON.parse(m.snapshotJson()));
    const s = firstDifference(SNAPSHOT, view(ma.right), view(mb.right), 'snapshot');
    if (s !== null) return E.right({ step: i, op: op.op, path: s.path, first: s.expected, second: s.actual });
  }
  return E.right(null);
}

/**
 * Which catalogue entry explains a divergence `vgic diff` found between Xen's model and
 * another implementation: the first of `candidates` whose switch turns the model into one that
 * agrees with Xen's model on every step before the diverging one (where the other side agreed
 * with Xen) and, at the diverging step, first differs from Xen at the same JSON path with the
 * other side's value. Null when none does (then it is not a known divergence: a bug to report).
 */
export function explainDivergence(
  c: DiffCase, d: Divergence, candidates: readonly DivergenceName[] = DIVERGENCE_NAMES,
): DivergenceName | null {
  if (d.step < 0) return null;
  const decoded = decodeTrace({ format: TRACE_FORMAT, name: c.name, config: c.config, steps: c.steps.slice(0, d.step + 1) });
  if (E.isLeft(decoded)) return null;
  const xen = makeVariant();
  for (const name of candidates) {
    const diff = firstVariantDifference(decoded.right, xen, makeVariant(null, [name]), d.level ?? 'full');
    if (E.isLeft(diff) || diff.right === null) continue;
    const v = diff.right;
    if (v.step === d.step && v.path === d.path && sameJson(v.second, d.other)) return name;
  }
  return null;
}

/** Equal as JSON values, whatever the key order. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
