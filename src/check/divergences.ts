/**
 * Run one trace on two variants of the model in-process and report where they first differ,
 * comparing as `vgic diff` does (trace-format §4 RESULT fields without `log` and a crash's
 * `reason`, then the whole snapshot after every step). This is how each entry of the
 * divergence catalogue (src/xen/divergences.ts) is proved against its fixture.
 */
import * as E from 'fp-ts/lib/Either.js';
import { comparableResult } from '../conformance/diff.js';
import { RESULT, SNAPSHOT, firstDifference } from '../conformance/schema.js';
import { resultJson, type Trace } from '../conformance/trace.js';
import { Machine, TraceError } from '../machine/machine.js';
import type { Variant } from '../xen/variant.js';

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
export function firstVariantDifference(trace: Trace, a: Variant, b: Variant): E.Either<string, VariantDifference | null> {
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
    const ca = comparableResult(resultJson(ra));
    const r = firstDifference(RESULT, ca, comparableResult(resultJson(rb)), 'result');
    if (r !== null) return E.right({ step: i, op: op.op, path: r.path, first: r.expected, second: r.actual });
    if (ca['outcome'] === 'crash') return E.right(null);
    const s = firstDifference(SNAPSHOT, JSON.parse(ma.right.snapshotJson()), JSON.parse(mb.right.snapshotJson()), 'snapshot');
    if (s !== null) return E.right({ step: i, op: op.op, path: s.path, first: s.expected, second: s.actual });
  }
  return E.right(null);
}
