/**
 * The LPI stress fixture (fixtures/its/its-lpi-stress.json), in the shape of the Linux KVM
 * selftest vgic_lpi_stress: 4 vCPUs, 4 devices × 16 events mapped round-robin over the
 * collections (collection i → vCPU i), INVALL, then 3 iterations of an MSI from every event.
 * Replayed here step by step, every acknowledged INTID is counted per vCPU: each MSI must be
 * acknowledged exactly once, by the vCPU of its collection.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { replayPaths } from '../src/conformance/replay.js';
import { Machine } from '../src/machine/machine.js';
import { STRESS_FIXTURE, lpiStressTrace, stressOwners } from '../src/testing/its-stress.js';

const FILE = fileURLToPath(new URL('../../fixtures/its/its-lpi-stress.json', import.meta.url));

type Raw = Record<string, unknown>;

/** Replay `steps` on `config`: per vCPU, how often each INTID was acknowledged (1023 counted too). */
function ackCounts(config: unknown, steps: Raw[]): Map<number, Map<number, number>> {
  const m = Machine.fromJson(config);
  if (E.isLeft(m)) return expect.fail(m.left.join('; '));
  const vcpuOn = new Map<number, number>();
  const counts = new Map<number, Map<number, number>>();
  steps.forEach((raw, i) => {
    const { expect: _e, ...step } = raw;
    const r = m.right.step(step, i);
    if (E.isLeft(r)) return expect.fail(r.left);
    if (step['op'] === 'run') vcpuOn.set(step['pcpu'] as number, step['vcpu'] as number);
    if (step['op'] === 'ack') {
      const v = vcpuOn.get(step['pcpu'] as number)!;
      const per = counts.get(v) ?? new Map<number, number>();
      per.set(r.right.intid!, (per.get(r.right.intid!) ?? 0) + 1);
      counts.set(v, per);
    }
  });
  return counts;
}

describe('the LPI stress fixture (vgic_lpi_stress shape: vCPUs, devices × events, iterations)', () => {
  const trace = JSON.parse(readFileSync(FILE, 'utf8')) as { config: unknown; steps: Raw[] };
  const s = STRESS_FIXTURE;

  it('is what scripts/its-stress.ts writes (the builder, run on the model, gives the committed file byte for byte)', () => {
    expect(readFileSync(FILE, 'utf8')).to.equal(`${JSON.stringify(lpiStressTrace(s), null, 1)}\n`);
    expect(trace.steps.length).to.be.within(500, 3000);
  });

  it('replays: every ack expectation and the empty lists after each iteration hold', () => {
    const r = replayPaths([FILE]);
    expect(r.exitCode).to.equal(0);
    expect(r.reports[0]!.status).to.equal('pass');
  });

  it('every MSI is acknowledged exactly once, by the vCPU of its collection: devices × events × iterations in all', () => {
    const counts = ackCounts(trace.config, trace.steps);
    const owners = stressOwners(s);
    let total = 0;
    for (let v = 0; v < s.vcpus; v++) {
      const per = counts.get(v) ?? new Map<number, number>();
      expect(per.has(1023), `vCPU ${v} found nothing to acknowledge`).to.equal(false);
      const mine = [...owners].filter(([, o]) => o === v).map(([vlpi]) => vlpi);
      expect([...per.keys()].sort((a, b) => a - b), `vCPU ${v}`).to.deep.equal(mine);
      for (const [vlpi, n] of per) {
        expect(n, `vLPI ${vlpi} on vCPU ${v}`).to.equal(s.iterations);
        total += n;
      }
    }
    expect(total).to.equal(s.devices * s.events * s.iterations);
    expect(total).to.equal(192);
  });

  it('the count sees a lost MSI: without one event\'s MSI in the first iteration, a vCPU acknowledges nothing once', () => {
    const i = trace.steps.findIndex((x) => x['op'] === 'msi' && x['devid'] === 1 && x['eventid'] === 5);
    const counts = ackCounts(trace.config, [...trace.steps.slice(0, i), ...trace.steps.slice(i + 1)]);
    const owner = stressOwners(s).get(8192 + 16 + 5)!;
    expect(counts.get(owner)!.get(1023)).to.equal(1);
  });
});
