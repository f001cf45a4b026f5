/**
 * Model-based property tests (fast-check `fc.commands`, the commands of src/testing, which the
 * package exports as `vgic-model/testing`): random configs across GICv2 and
 * GICv3 (1-4 pCPUs, 1-4 vCPUs, 1-16 LRs, 32-960 SPIs), one command per op of docs/trace-format.md §3
 * (its arguments built by the trace generator for the state at hand), and after every step
 * the invariant checker (I1-I19) and the step properties (P2-P8; P7, noninterference, on the
 * configs of two or more domains). A failure shrinks; the
 * report gives fast-check's seed and path (replay with FC_SEED / FC_PATH) and the shrunk
 * steps as a vgic-trace/1 file, printed and written to the temp directory.
 * P1 (delivery) has its own property. `npm run fuzz` runs the long campaign.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { checkDelivery, deliveryScenario } from '../src/check/properties.js';
import type { Config } from '../src/machine/config.js';
import type { MutantName } from '../src/xen/mutants.js';
import {
  ITS_OP_WEIGHTS, VMM_OP_WEIGHTS, arbConfig, arbOpCommands, modelBasedProperty, type AppliedCounter,
} from '../src/testing/arbitraries.js';
import { runs } from './fc-replay.js';

const configArb: fc.Arbitrary<Config> = fc.record({
  gic: fc.constantFrom('v2' as const, 'v3' as const),
  nr_lrs: fc.integer({ min: 1, max: 16 }),
  pcpus: fc.integer({ min: 1, max: 4 }),
  vcpus: fc.integer({ min: 1, max: 4 }),
  nr_spis: fc.oneof(fc.constantFrom(32, 64), fc.integer({ min: 32, max: 960 })),
  pirqs: fc.boolean(),
}).map(({ gic, nr_lrs, pcpus, vcpus, nr_spis, pirqs }) => ({
  gic, nr_lrs, pcpus, domains: [{ id: 1, vcpus, nr_spis, ...(pirqs ? { pirqs: [64, 65] } : {}) }],
}));

/** Steps applied by the model-based runs (a sanity figure for the campaign). */
export const applied: AppliedCounter = { runs: 0, steps: 0 };

/** The library's model-based property (src/testing), on this spec's configs (one domain, 32-960 SPIs). */
function modelProperty(mutant: MutantName | null): ReturnType<typeof modelBasedProperty> {
  return modelBasedProperty(mutant, configArb, arbOpCommands(), applied);
}

describe('model-based: fc.commands over every op with invariants and properties after each step', () => {
  it('I1-I19, P2-P6: no violation in random runs of every op on random GICv2/GICv3 configs', function () {
    this.timeout(300000);
    applied.runs = 0;
    applied.steps = 0;
    fc.assert(modelProperty(null), runs(500));
    // The runs must do something: on average well over 20 applied steps each.
    expect(applied.steps / applied.runs).to.be.above(20);
  });

  it('I1-I19, L1-L3, P2-P6 with ITS traffic: GICv3 configs whose domain has a virtual ITS, mem_write standing for a batch of ITS programming, msi drawn too', function () {
    this.timeout(300000);
    const before = { ...applied };
    const configs = arbConfig({ gic: 'v3', its: true, maxDomains: 1, spis: { min: 32, max: 960 } });
    fc.assert(modelBasedProperty(null, configs, arbOpCommands(ITS_OP_WEIGHTS), applied), runs(150));
    expect((applied.steps - before.steps) / (applied.runs - before.runs)).to.be.above(20);
  });

  it('I1-I19, L1-L3, P2-P6 on device domains: a VMM brings the vGIC up (each device-API command a batch of calls, in right and wrong order, with bad payloads), then the guest runs', function () {
    this.timeout(300000);
    const counted: AppliedCounter = { runs: 0, steps: 0, broughtUp: 0 };
    const configs = arbConfig({ vmm: true, maxDomains: 2, spis: { min: 32, max: 960 } });
    fc.assert(modelBasedProperty(null, configs, arbOpCommands(VMM_OP_WEIGHTS), counted), runs(150));
    expect(counted.steps / counted.runs).to.be.above(20);
    // Most runs end with the device domain running (the others: a short run, or a VM the VMM killed).
    expect(counted.broughtUp! / counted.runs).to.be.above(0.5);
  });

  it('P7, P8 (and I1-I19, P2-P6) on configs of 2-4 domains sharing the pCPUs: each domain\'s entry equals its projection\'s after every step', function () {
    this.timeout(300000);
    const before = { ...applied };
    const configs = arbConfig({ maxDomains: 4, spis: { min: 32, max: 256 } }).filter((c) => c.domains.length >= 2);
    fc.assert(modelBasedProperty(null, configs, arbOpCommands(), applied), runs(60));
    expect((applied.steps - before.steps) / (applied.runs - before.runs)).to.be.above(20);
  });

  it('P1: every enabled interrupt injected into a running vCPU whose guest acks and EOIs is delivered within the bound', function () {
    this.timeout(120000);
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (seed) => {
      const r = checkDelivery(deliveryScenario(seed));
      if (E.isLeft(r)) throw new Error(`delivery scenario ${seed}: ${r.left}`);
    }), runs(300));
  });

  it('a mutated model fails the property, and the failure shrinks to a short trace that is printed and written out', function () {
    this.timeout(300000);
    const out = fc.check(modelProperty('enable-raises-visible'), { numRuns: 2000, seed: 42 });
    expect(out.failed, 'the mutant survived 2000 runs').to.equal(true);
    const message = String(out.errorInstance);
    expect(message).to.match(/breaks I4/);
    const json = message.slice(message.indexOf('{'));
    const trace = JSON.parse(json) as { format: string; steps: unknown[] };
    expect(trace.format).to.equal('vgic-trace/1');
    expect(trace.steps.length).to.be.at.most(15);
    expect(out.counterexamplePath).to.be.a('string');
  });
});
