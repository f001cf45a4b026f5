/**
 * The LPI stress scenario in the shape of the Linux KVM selftest vgic_lpi_stress (arm64):
 * the setup of src/testing/its-steps.ts, then iterations in which every event of every device
 * raises its MSI and each vCPU enters the guest, acknowledges and EOIs what it was sent, round
 * after round (one LR's worth at a time, since LPIs of one priority do not preempt each
 * other), until it has seen all of it. The steps are written by driving the model, so every
 * ack's INTID is the model's; the builder checks as it goes that every MSI is acknowledged
 * exactly once, by the vCPU of its collection, and throws otherwise. `scripts/its-stress.ts`
 * writes fixtures/its/its-lpi-stress.json with it.
 */
import * as E from 'fp-ts/lib/Either.js';
import { Machine, type Result } from '../machine/machine.js';
import { LAYOUT, lpiStressMsis, lpiStressSetup, stressCollection, stressVlpi, type LpiStressShape, type RawStep } from './its-steps.js';

/** The committed fixture's shape: 4 vCPUs, 4 devices × 16 events, 3 iterations, 4 LRs. */
export const STRESS_FIXTURE = { vcpus: 4, devices: 4, events: 16, nr_lrs: 4, iterations: 3 } as const;

export interface StressTrace {
  format: 'vgic-trace/1';
  name: string;
  description: string;
  refs: string[];
  config: Record<string, unknown>;
  steps: RawStep[];
}

/** The vCPU that must acknowledge each vLPI (the vCPU of its collection). */
export function stressOwners(s: LpiStressShape): Map<number, number> {
  const owners = new Map<number, number>();
  for (let d = 0; d < s.devices; d++) for (let e = 0; e < s.events; e++) owners.set(stressVlpi(s, d, e), stressCollection(s, d, e));
  return owners;
}

/** Build the stress trace by driving a fresh model; throws when a step fails or a delivery is wrong. */
export function lpiStressTrace(s: LpiStressShape & { iterations: number }, name = 'its-lpi-stress'): StressTrace {
  const { config, steps: setup } = lpiStressSetup(s);
  const created = Machine.fromJson(config);
  if (E.isLeft(created)) throw new Error(`stress config refused: ${created.left.join('; ')}`);
  const m = created.right;
  const steps: RawStep[] = [];
  const apply = (raw: RawStep): Result => {
    const r = m.step(raw, steps.length);
    if (E.isLeft(r)) throw new Error(`stress step ${steps.length}: ${r.left}`);
    if (r.right.outcome !== 'ok') throw new Error(`stress step ${steps.length} (${String(raw['op'])}): ${r.right.outcome}`);
    steps.push(raw);
    return r.right;
  };
  setup.forEach(apply);
  const owners = stressOwners(s);
  const perVcpu = Array.from({ length: s.vcpus }, (_, v) => [...owners.values()].filter((o) => o === v).length);
  const lrs = s.nr_lrs ?? 4;
  for (let it = 0; it < s.iterations; it++) {
    lpiStressMsis(s).forEach(apply);
    const seen = new Set<number>();
    for (let v = 0; v < s.vcpus; v++) {
      let left = perVcpu[v]!;
      while (left > 0) {
        apply({ op: 'enter', pcpu: v });
        for (let k = 0; k < Math.min(lrs, left); k++) {
          const raw: RawStep = { op: 'ack', pcpu: v };
          const intid = apply(raw).intid!;
          if (owners.get(intid) !== v || seen.has(intid)) throw new Error(`stress iteration ${it}: vCPU ${v} acknowledged ${intid}`);
          seen.add(intid);
          raw['expect'] = { result: { outcome: 'ok', intid } };
          apply({ op: 'eoi', pcpu: v, intid });
        }
        left -= Math.min(lrs, left);
        apply({ op: 'exit', pcpu: v });
      }
    }
    if (seen.size !== owners.size) throw new Error(`stress iteration ${it}: ${seen.size} of ${owners.size} vLPIs acknowledged`);
    // Nothing is left in flight anywhere once every vCPU has seen its share.
    steps[steps.length - 1]!['expect'] = {
      result: { outcome: 'ok' },
      snapshot: { domains: [{ id: LAYOUT.domain, vcpus: Array.from({ length: s.vcpus }, (_, id) => ({ id, inflight: [], lr_pending: [], lrs: [] })) }] },
    };
  }
  return {
    format: 'vgic-trace/1',
    name,
    description: `KVM's vgic_lpi_stress on the vITS: ${s.vcpus} vCPUs, ${s.devices} devices x ${s.events} events mapped round-robin over collections i -> vCPU i, INVALL, then ${s.iterations} rounds of MSIs from every event, each acknowledged once by the vCPU of its collection.`,
    refs: ['C.7', 'C.8', 'C.9'],
    config,
    steps,
  };
}
