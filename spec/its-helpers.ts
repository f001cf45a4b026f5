/**
 * Helpers for the ITS specs: a machine with the standard ITS layout (src/testing/its-steps.ts),
 * stepping that fails the test on a trace error, and shortcuts into the model state.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { Machine, type Result } from '../src/machine/machine.js';
import type { DomainSnapshot } from '../src/machine/snapshot.js';
import { LAYOUT, Queue, enableLpis, itsConfig, setupTables, type RawStep } from '../src/testing/its-steps.js';
import type { Domain } from '../src/xen/types.js';
import type { VirtIts } from '../src/xen/vgic-v3-its.js';

export * from '../src/testing/its-steps.js';

const counters = new WeakMap<Machine, number>();

export function itsMachine(o: Parameters<typeof itsConfig>[0] = {}): Machine {
  const r = Machine.fromJson(itsConfig(o));
  if (E.isLeft(r)) return expect.fail(r.left.join('; '));
  counters.set(r.right, 0);
  return r.right;
}

/** Apply steps; a trace error fails the test. The last result. */
export function drive(m: Machine, ...steps: (RawStep | RawStep[])[]): Result {
  let last: Result = { outcome: 'ok' };
  for (const s of steps.flat()) {
    const i = counters.get(m) ?? 0;
    counters.set(m, i + 1);
    const r = m.step(s, i);
    if (E.isLeft(r)) return expect.fail(r.left);
    last = r.right;
  }
  return last;
}

/** Apply one step expecting a trace error; its message. */
export function traceError(m: Machine, s: RawStep): string {
  const i = counters.get(m) ?? 0;
  const r = m.step(s, i);
  if (E.isRight(r)) return expect.fail(`expected a trace error, got ${JSON.stringify(r.right)}`);
  return r.left;
}

export function dom(m: Machine): Domain {
  return m.host.domains.get(LAYOUT.domain)!;
}

export function vits(m: Machine): VirtIts {
  return dom(m).vits!;
}

export function domSnap(m: Machine): DomainSnapshot {
  return m.snapshot().domains.find((d) => d.id === LAYOUT.domain)!;
}

/**
 * A machine with vCPU 0 running on pCPU 0 (hyp), LPIs enabled on both redistributors with
 * PROPBASER.IDbits 15, the three tables valid and the ITS enabled; and a queue writer.
 */
export function readyMachine(o: Parameters<typeof itsConfig>[0] & { lpis?: boolean; enable?: boolean } = {}): { m: Machine; q: Queue } {
  const m = itsMachine(o);
  const q = new Queue(0);
  drive(m, { op: 'run', pcpu: 0, domain: LAYOUT.domain, vcpu: 0 });
  if (o.lpis !== false) drive(m, enableLpis(0, 15, [0, 1]));
  drive(m, setupTables(0, o.enable !== false));
  return { m, q };
}
