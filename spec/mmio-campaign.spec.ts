/**
 * The guest-register reliability campaign (`vgic fuzz --mmio`, src/check/mmio-campaign.ts,
 * src/conformance/gen-mmio.ts), bounded: a few machines per GIC version with the invariants
 * (I1-I19, L1-L3) and properties (P2-P6) after every step. `npm run fuzz:mmio` runs the long
 * one (10^6 accesses per version, the README's reliability table). MMIO_CAMPAIGN_COUNT sets
 * the machines per version, MMIO_CAMPAIGN_SEED the first seed.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { runMmioCampaign, traceErrorReason, type MmioCampaignResult } from '../src/check/mmio-campaign.js';
import { inFrameOf, mmioAccess, mmioFuzzConfig, mmioFuzzRng, mmioFuzzSteps } from '../src/conformance/gen-mmio.js';
import { Machine } from '../src/machine/machine.js';

const COUNT = Number(process.env['MMIO_CAMPAIGN_COUNT'] ?? 6);
const SEED = Number(process.env['MMIO_CAMPAIGN_SEED'] ?? 1);
const STEPS = 1500;

function total(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

describe('vgic fuzz --mmio: the guest-register reliability campaign (bounded)', function () {
  this.timeout(300_000);
  const results = new Map<string, MmioCampaignResult>();

  for (const gic of ['v2', 'v3'] as const) {
    it(`${gic}: ${COUNT} machines x ${STEPS} steps from seed ${SEED}: no violation, no exception, every refused access left the machine unchanged`, () => {
      const r = runMmioCampaign({ gic, seed: SEED, count: COUNT, steps: STEPS });
      results.set(gic, r);
      const first = r.violations.first[0];
      expect(r.violations.steps, first === undefined ? 'violations' : `${first.id} at seed ${first.seed} step ${first.step}: ${first.findings.join('; ')}\n${JSON.stringify(first.trace)}`).to.equal(0);
      const x = r.exceptions.first[0];
      expect(r.exceptions.count, x === undefined ? 'exceptions' : `${x.message}\n${x.stack}\n${JSON.stringify(x.trace)}`).to.equal(0);
      expect(r.refusedChanged, 'refused accesses that changed the machine').to.equal(0);
      expect(r.machines).to.equal(COUNT);
      // Every access is counted once, under its outcome.
      expect(total(r.accessOutcomes['mmio'] ?? {}) + total(r.accessOutcomes['sysreg'] ?? {})).to.equal(r.accesses);
      expect(total(r.traceErrors)).to.equal((r.accessOutcomes['mmio']?.['trace error'] ?? 0) + (r.accessOutcomes['sysreg']?.['trace error'] ?? 0));
    });
  }

  it('the accesses reach every outcome and every kind of trace error the contract names (trace-format §3.3)', () => {
    for (const r of results.values()) {
      const mmio = r.accessOutcomes['mmio'] ?? {};
      expect(mmio['ok'], `${r.gic} ok`).to.be.greaterThan(r.accesses / 3);
      expect(mmio['abort'], `${r.gic} abort`).to.be.greaterThan(50);
      for (const reason of ['misaligned', 'outside every frame', 'pCPU idle, not hyp']) expect(r.traceErrors[reason], `${r.gic} ${reason}`).to.be.greaterThan(5);
      // Only the reasons of the contract: a refused access is one the generator meant to be refused.
      expect(Object.keys(r.traceErrors).every((k) => ['misaligned', 'outside every frame', 'pCPU idle, not hyp', 'pCPU guest, not hyp'].includes(k)), JSON.stringify(r.traceErrors)).to.equal(true);
      expect(r.accesses, `${r.gic} accesses are most of the steps`).to.be.greaterThan(r.steps / 3);
    }
    expect(results.get('v2')!.accessOutcomes['sysreg']?.['undef'], 'v2 sysreg is UNDEF').to.be.greaterThan(0);
    expect(results.get('v3')!.accessOutcomes['sysreg']?.['ok'], 'v3 ICC_SGI1R_EL1 writes').to.be.greaterThan(0);
  });

  it('a machine is reproducible from its seed alone: the same config and steps', () => {
    const run = (): string[] => {
      const seed = 77;
      const m = E.getOrElseW(() => { throw new Error('config'); })(Machine.create(mmioFuzzConfig(seed, { gic: 'v3' })));
      const rng = mmioFuzzRng(seed);
      const out: string[] = [];
      for (let i = 0; i < 200; i++) {
        for (const { step } of mmioFuzzSteps(rng, m)) {
          out.push(JSON.stringify(step));
          m.step(step, i);
        }
      }
      return out;
    };
    expect(run()).to.deep.equal(run());
  });

  it('an access drawn outside the contract is one the model refuses, and one drawn inside is one it answers (§3.3, §9.2)', () => {
    for (const gic of ['v2', 'v3'] as const) {
      const seed = 5;
      const m = E.getOrElseW(() => { throw new Error('config'); })(Machine.create(mmioFuzzConfig(seed, { gic, pcpus: 2, vcpus: 2 })));
      m.step({ op: 'run', pcpu: 0, domain: m.host.domains.keys().next().value!, vcpu: 0 }, 0);
      const rng = mmioFuzzRng(seed);
      let refused = 0;
      for (let i = 0; i < 3000; i++) {
        const cpu = m.host.pcpus[i % 2]!;
        const { step, outOfContract } = mmioAccess(rng, m, cpu);
        const before = outOfContract ? m.snapshotJson() : '';
        const r = m.step(step, i);
        expect(E.isLeft(r), `${JSON.stringify(step)}: ${E.isLeft(r) ? r.left : r.right.outcome}`).to.equal(outOfContract);
        if (outOfContract) {
          refused += 1;
          expect(m.snapshotJson(), 'a refused access changes nothing').to.equal(before);
        }
        if (m.crashed !== null) break;
      }
      expect(refused, gic).to.be.greaterThan(100);
    }
    expect(inFrameOf(0x3001000, false, false)).to.equal(true);
    expect(inFrameOf(0x3002000, false, false), 'the v2 CPU interface frame is hardware').to.equal(false);
    expect(inFrameOf(0x3020000 + 127 * 0x20000, true, false), 'the last redistributor frame of the region').to.equal(true);
    expect(inFrameOf(0x8000000, true, false), 'no ITS: nothing there').to.equal(false);
    expect(inFrameOf(0x8000000, true, true)).to.equal(true);
  });

  it('trace errors are grouped by rule, without their numbers', () => {
    expect(traceErrorReason('step 4 (mmio): addr 0x3001003 is not aligned to the access size 4')).to.equal('misaligned');
    expect(traceErrorReason('step 9 (mmio): addr 0x0 is outside the GICD frame 0x3001000..0x3001fff')).to.equal('outside every frame');
    expect(traceErrorReason('step 2 (sysreg): pCPU 1 is idle; sysreg needs it hyp')).to.equal('pCPU idle, not hyp');
    expect(traceErrorReason('step 2 (run): vCPU 3 of domain 1 runs on pCPU 0')).to.equal('vCPU N of domain N runs on pCPU N');
  });
});
