/**
 * Model-based property tests (fast-check `fc.commands`): random configs across GICv2 and
 * GICv3 (1-4 pCPUs, 1-4 vCPUs, 1-16 LRs, 32-960 SPIs), one command per op of docs/trace-format.md §3
 * (its arguments built by the trace generator for the state at hand), and after every step
 * the invariant checker (I1-I19) and the step properties (P2-P6). A failure shrinks; the
 * report gives fast-check's seed and path (replay with FC_SEED / FC_PATH) and the shrunk
 * steps as a vgic-trace/1 file, printed and written to the temp directory.
 * P1 (delivery) has its own property. `npm run fuzz` runs the long campaign.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StepMonitor, describeFinding } from '../src/check/monitor.js';
import { checkDelivery, deliveryScenario } from '../src/check/properties.js';
import { Rng, buildStep } from '../src/conformance/gen.js';
import { TRACE_FORMAT } from '../src/conformance/trace.js';
import type { Config } from '../src/machine/config.js';
import { Machine, TraceError } from '../src/machine/machine.js';
import { OP_NAMES, decodeOp, type OpName } from '../src/machine/ops.js';
import type { MutantName } from '../src/xen/mutants.js';
import { runs } from './fc-replay.js';

interface Model {
  crashed: boolean;
}

interface Real {
  m: Machine;
  monitor: StepMonitor;
  config: Config;
  steps: Record<string, unknown>[];
}

/** The steps so far as a vgic-trace/1 file. */
function traceOf(r: Real, why: string): Record<string, unknown> {
  return {
    format: TRACE_FORMAT, name: 'model-based-failure', description: why, refs: [], config: r.config, steps: r.steps,
  };
}

class OpCommand implements fc.Command<Model, Real> {
  private resolved = '';

  constructor(readonly op: OpName, readonly seed: number) {}

  check(model: Readonly<Model>): boolean {
    return !model.crashed;
  }

  run(model: Model, r: Real): void {
    const raw = buildStep(this.op, new Rng(this.seed), r.m);
    if (raw === null) {
      this.resolved = '(no pCPU in a suitable mode)';
      return;
    }
    this.resolved = JSON.stringify(raw);
    const op = decodeOp(raw);
    if (E.isLeft(op)) throw new Error(`the generator built an invalid step ${this.resolved}: ${op.left.join('; ')}`);
    r.monitor.before(op.right);
    const res = r.m.apply(op.right, r.steps.length);
    // A trace error changes nothing (checked elsewhere); the step is just not part of the trace.
    if (res instanceof TraceError) {
      this.resolved += ' (trace error, skipped)';
      return;
    }
    r.steps.push(raw);
    model.crashed = r.m.crashed !== null;
    const found = r.monitor.after(op.right, res);
    if (found.length > 0) {
      const why = found.map(describeFinding).join('; ');
      const file = join(tmpdir(), 'vgic-model-based-failure.json');
      const text = JSON.stringify(traceOf(r, why), null, 1);
      writeFileSync(file, `${text}\n`);
      throw new Error(`step ${r.steps.length - 1} breaks ${why}\nshrunk steps as a vgic-trace/1 file (also in ${file}):\n${text}`);
    }
  }

  toString(): string {
    return `${this.op}#${this.seed} ${this.resolved}`;
  }
}

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

/** How often each op is drawn: every op appears, the ones that move the machine most often. */
const WEIGHTS: Record<OpName, number> = {
  run: 8, idle: 2, enter: 10, exit: 10, vcpu_off: 1, vcpu_on: 1, inject: 12, route: 1, hw_irq: 2, mmio: 14,
  sysreg: 2, ack: 8, eoi: 6, dir: 2, pmr: 2, eoimode: 1, pending_check: 1, snapshot: 1,
};

const commandsArb = fc.commands(
  [fc.oneof(...OP_NAMES.map((op) => ({
    weight: WEIGHTS[op],
    arbitrary: fc.integer({ min: 0, max: 0x7fffffff }).map((seed) => new OpCommand(op, seed)),
  })))],
  { maxCommands: 150, size: 'max' },
);

/** Steps applied by the model-based runs (a sanity figure for the campaign). */
export const applied = { runs: 0, steps: 0 };

function modelProperty(mutant: MutantName | null): fc.IPropertyWithHooks<[Config, Iterable<fc.Command<Model, Real>>]> {
  return fc.property(configArb, commandsArb, (config, cmds) => {
    const created = Machine.create(config, 'config', mutant);
    if (E.isLeft(created)) throw new Error(`config refused: ${created.left.join('; ')}`);
    const m = created.right;
    const real: Real = { m, monitor: new StepMonitor(m), config, steps: [] };
    fc.modelRun(() => ({ model: { crashed: false }, real }), cmds);
    applied.runs += 1;
    applied.steps += real.steps.length;
  });
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
