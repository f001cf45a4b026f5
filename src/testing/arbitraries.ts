/**
 * fast-check arbitraries for property-based tests against the model (or against another vGIC
 * with the model as the oracle): configs, single steps and whole traces that are valid by
 * construction, and the model-based commands of `fc.commands` with the invariant checker and
 * the step properties after every step. Import from `vgic-model/testing`; fast-check comes
 * with the package.
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_PCPUS, MAX_SPIS, maxLrsFor, maxVcpusFor, type GicVersion } from '../arch/limits.js';
import { StepMonitor, describeFinding } from '../check/monitor.js';
import { Rng, buildStep, candidateSteps, type GeneratedTrace } from '../conformance/gen.js';
import { GEN_ITS_LAYOUT, itsBatch, itsDomains } from '../conformance/gen-its.js';
import { VMM_OPS, deviceVms, vmmBatchNow } from '../conformance/gen-vmm.js';
import { lifeBatch } from '../conformance/gen-life.js';
import { TRACE_FORMAT } from '../conformance/trace.js';
import type { Config, DeviceDomainConfig, DomainConfig, XenDomainConfig } from '../machine/config.js';
import { Machine, TraceError } from '../machine/machine.js';
import { OP_NAMES, decodeOp, type OpName } from '../machine/ops.js';
import type { MutantName } from '../xen/mutants.js';
import type { Variant } from '../xen/variant.js';

export interface ArbConfigOptions {
  /** Fix the GIC version (default: both). */
  gic?: GicVersion;
  /** Ranges (inclusive); each defaults to the model's whole range, kept small where it costs. */
  nrLrs?: { min: number; max: number };
  pcpus?: { min: number; max: number };
  vcpus?: { min: number; max: number };
  spis?: { min: number; max: number };
  /** Up to this many domains (default 2). */
  maxDomains?: number;
  /** Give some domains routable host SPIs (`pirqs`), default true. */
  pirqs?: boolean;
  /**
   * Give the first domain of a GICv3 config a virtual ITS and 1 MiB of RAM where the trace
   * generator's ITS traffic expects them (docs/trace-format.md §9), default false.
   */
  its?: boolean;
  /**
   * Make the first domain a device domain (`"vgic": "device"`, docs/trace-format.md §10), which
   * the VMM batches of the trace generator bring up (on GICv3 with RAM for ITS traffic, and
   * sometimes `v2_on_v3`), default false. Takes precedence over `its` for that domain.
   */
  vmm?: boolean;
}

/** The `its` and `ram` keys of a generated ITS domain. */
function itsKeys(devidBits: number, evidBits: number): Pick<XenDomainConfig, 'its' | 'ram'> {
  return {
    its: { base: `0x${GEN_ITS_LAYOUT.itsBase.toString(16)}`, devid_bits: devidBits, evid_bits: evidBits },
    ram: [{ base: `0x${GEN_ITS_LAYOUT.ramBase.toString(16)}`, size: `0x${GEN_ITS_LAYOUT.ramSize.toString(16)}` }],
  };
}

/** `c` with its first domain a device domain (on GICv3 with the ITS traffic's RAM, and `v2_on_v3` if asked). */
function withDeviceDomain(c: Config, v2OnV3: boolean): Config {
  const first = c.domains[0]!;
  const device: DeviceDomainConfig = {
    id: first.id, vgic: 'device', ...(first.pirqs !== undefined ? { pirqs: first.pirqs } : {}),
    ...(c.gic === 'v3' ? { ram: itsKeys(8, 8).ram! } : {}),
  };
  const domains: DomainConfig[] = [device, ...c.domains.slice(1)];
  return { ...c, ...(c.gic === 'v3' && v2OnV3 ? { v2_on_v3: true } : {}), domains };
}

/** Valid configs (trace-format §2.1): every value within Xen's limits. */
export function arbConfig(o: ArbConfigOptions = {}): fc.Arbitrary<Config> {
  const gicArb = o.gic !== undefined ? fc.constant(o.gic) : fc.constantFrom<GicVersion>('v2', 'v3');
  return gicArb.chain((gic) => {
    const lrs = o.nrLrs ?? { min: 1, max: 16 };
    const pcpus = o.pcpus ?? { min: 1, max: 4 };
    const vcpus = o.vcpus ?? { min: 1, max: 4 };
    const spis = o.spis ?? { min: 0, max: MAX_SPIS };
    const domain = (i: number): fc.Arbitrary<XenDomainConfig> => fc.record({
      vcpus: fc.integer({ min: Math.max(1, vcpus.min), max: Math.min(vcpus.max, maxVcpusFor(gic)) }),
      nr_spis: fc.oneof(fc.constantFrom(...[32, 64].filter((n) => n >= spis.min && n <= spis.max)), fc.integer(spis)),
      pirqs: fc.boolean(),
    }).map(({ vcpus: n, nr_spis, pirqs }) => ({
      id: i + 1, vcpus: n, nr_spis, ...(pirqs && o.pirqs !== false ? { pirqs: [64 + 2 * i, 65 + 2 * i] } : {}),
    }));
    const configs = fc.record({
      nr_lrs: fc.integer({ min: Math.max(1, lrs.min), max: Math.min(lrs.max, maxLrsFor(gic)) }),
      pcpus: fc.integer({ min: Math.max(1, pcpus.min), max: Math.min(pcpus.max, MAX_PCPUS) }),
      domains: fc.integer({ min: 1, max: Math.max(1, o.maxDomains ?? 2) }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => domain(i)))),
    }).map(({ nr_lrs, pcpus: p, domains }): Config => ({
      gic, nr_lrs, pcpus: p,
      domains: o.its === true && gic === 'v3' ? domains.map((d, i) => (i === 0 ? { ...d, ...itsKeys(8, 8) } : d)) : domains,
    }));
    return o.vmm === true ? configs.chain((c) => fc.boolean().map((v2OnV3) => withDeviceDomain(c, v2OnV3))) : configs;
  });
}

export interface ArbTraceOptions extends ArbConfigOptions {
  /** Steps per trace (default 1..60). */
  minSteps?: number;
  maxSteps?: number;
  /** Only these ops (e.g. what a port implements). */
  ops?: readonly OpName[];
  /** Record each step's RESULT as its EXPECT (default true). */
  expectResults?: boolean;
}

/**
 * Whole vgic-trace/1 traces, valid by construction: each step is built for the state the
 * previous steps left (the trace generator's builders, drawn from the integers fast-check
 * shrinks), and a step the model refuses is left out. A shorter or simpler list of draws gives
 * a shorter trace, so failures shrink.
 */
export function arbTrace(o: ArbTraceOptions = {}): fc.Arbitrary<GeneratedTrace> {
  const ops = o.ops === undefined ? undefined : new Set<string>(o.ops);
  return fc.tuple(arbConfig(o), fc.array(fc.nat(), { minLength: o.minSteps ?? 1, maxLength: o.maxSteps ?? 60 }))
    .map(([config, draws]) => traceFromDraws(config, draws, ops, o.expectResults ?? true));
}

/** Replay the draws as steps on a fresh machine (also what arbTrace shrinks through). */
export function traceFromDraws(config: Config, draws: readonly number[], ops?: ReadonlySet<string>, expectResults = true): GeneratedTrace {
  const m = Machine.build(config);
  const steps: Record<string, unknown>[] = [];
  for (const draw of draws) {
    if (m.crashed !== null) break;
    const rng = new Rng(draw);
    for (let tries = 0; tries < 20; tries++) {
      const batch = candidateSteps(rng, m, ops);
      if (batch === null) continue;
      // A batch of ITS traffic keeps its steps up to the first one the model refuses.
      let placed = false;
      for (const raw of batch) {
        if (m.crashed !== null) break;
        const op = decodeOp(raw);
        if (op._tag === 'Left') throw new Error(`the generator built an invalid step ${JSON.stringify(raw)}: ${op.left.join('; ')}`);
        const r = m.apply(op.right, steps.length);
        if (r instanceof TraceError) break;
        const { log: _log, ...result } = r;
        steps.push(expectResults ? { ...raw, expect: { result } } : raw);
        placed = true;
      }
      if (placed) break;
    }
  }
  return {
    format: TRACE_FORMAT, name: `arb-${config.gic}-${draws.length}`, description: `fast-check trace (${steps.length} steps).`, config, steps,
  };
}

/** One step of `op` for the machine's current state (null when no pCPU is in a mode it needs). */
export function arbStepFor(op: OpName, m: Machine): fc.Arbitrary<Record<string, unknown> | null> {
  return fc.nat().map((seed) => buildStep(op, new Rng(seed), m));
}

// ----- model-based commands -----

/** fast-check's model: only whether the machine has crashed (nothing may follow a crash). */
export interface ModelState {
  crashed: boolean;
}

/** The real side: the machine, the step monitor and the steps applied so far. */
export interface RealState {
  m: Machine;
  monitor: StepMonitor;
  config: Config;
  steps: Record<string, unknown>[];
}

/** The steps so far as a vgic-trace/1 file. */
export function traceOfRun(r: RealState, why: string): Record<string, unknown> {
  return { format: TRACE_FORMAT, name: 'model-based-failure', description: why, refs: [], config: r.config, steps: r.steps };
}

/**
 * One op with its arguments built by the trace generator for the state at hand; after it, the
 * invariant checker and the step properties. A violation throws with the steps so far as a
 * vgic-trace/1 file (also written to the temp directory as vgic-model-based-failure.json).
 */
export class OpCommand implements fc.Command<ModelState, RealState> {
  private resolved = '';

  constructor(readonly op: OpName, readonly seed: number) {}

  check(model: Readonly<ModelState>): boolean {
    return !model.crashed;
  }

  run(model: ModelState, r: RealState): void {
    // On a machine with an ITS, `mem_write` stands for a batch of the guest's ITS traffic
    // (src/conformance/gen-its.ts): RAM writes, register writes, a command batch, an msi. On a
    // machine with a device domain, each device-API op stands for a batch of the VMM's
    // (src/conformance/gen-vmm.ts): the next part of the bring-up, or a late call.
    const rng = new Rng(this.seed);
    const batch = this.op === 'mem_write' && itsDomains(r.m).length > 0 ? itsBatch(rng, r.m)
      : (VMM_OPS as readonly string[]).includes(this.op) ? vmmBatchNow(rng, r.m)
      : this.op === 'domain_destroy' ? lifeBatch(rng, r.m) : null;
    if (batch !== null) {
      this.resolved = '';
      for (const raw of batch) {
        if (r.m.crashed !== null) break;
        this.one(model, r, raw);
      }
      return;
    }
    const raw = buildStep(this.op, rng, r.m);
    if (raw === null) {
      this.resolved = '(no pCPU in a suitable mode)';
      return;
    }
    this.resolved = '';
    this.one(model, r, raw);
  }

  /** Apply one step and check it. */
  private one(model: ModelState, r: RealState, raw: Record<string, unknown>): void {
    this.resolved += `${this.resolved === '' ? '' : ' '}${JSON.stringify(raw)}`;
    const op = decodeOp(raw);
    if (op._tag === 'Left') throw new Error(`the generator built an invalid step ${this.resolved}: ${op.left.join('; ')}`);
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
      const text = JSON.stringify(traceOfRun(r, why), null, 1);
      writeFileSync(file, `${text}\n`);
      throw new Error(`step ${r.steps.length - 1} breaks ${why}\nshrunk steps as a vgic-trace/1 file (also in ${file}):\n${text}`);
    }
  }

  toString(): string {
    return `${this.op}#${this.seed} ${this.resolved}`;
  }
}

/** How often each op is drawn by default: every op appears, the ones that move the machine most often. */
export const DEFAULT_OP_WEIGHTS: Readonly<Record<OpName, number>> = {
  run: 8, idle: 2, enter: 10, exit: 10, vcpu_off: 1, vcpu_on: 1, inject: 12, route: 1, hw_irq: 2, mmio: 14,
  sysreg: 2, ack: 8, eoi: 6, dir: 2, pmr: 2, eoimode: 1, pending_check: 1, snapshot: 1,
  // The ITS ops (trace-format §9.2): see ITS_OP_WEIGHTS.
  mem_write: 0, mem_read: 0, msi: 0,
  // The VMM front door (trace-format §10): see VMM_OP_WEIGHTS.
  vcpu_create: 0, create_device: 0, set_attr: 0, get_attr: 0, has_attr: 0, kvm_run: 0,
  // The domain lifecycle (trace-format §3.6): see LIFE_OP_WEIGHTS.
  domain_create: 0, domain_destroy: 0,
};

/**
 * The weights for machines with a device domain (arbConfig({ vmm: true })): each device-API op
 * stands for a batch of the VMM's bring-up (see OpCommand), drawn about as often as mmio; once
 * the domain runs, a late call (mostly refused: EBUSY while a vCPU is loaded).
 */
export const VMM_OP_WEIGHTS: Readonly<Record<OpName, number>> = {
  ...DEFAULT_OP_WEIGHTS, mem_write: 4, msi: 1, mem_read: 1,
  vcpu_create: 2, create_device: 2, set_attr: 4, get_attr: 2, has_attr: 1, kvm_run: 3,
};

/**
 * The weights with the domain lifecycle: `domain_destroy` stands for a lifecycle batch of
 * src/conformance/gen-life.ts (pause, destroy, create, route, run; or a create alone).
 */
export const LIFE_OP_WEIGHTS: Readonly<Record<OpName, number>> = { ...DEFAULT_OP_WEIGHTS, domain_destroy: 2 };

/**
 * The weights for machines with an ITS (arbConfig({ its: true })): `mem_write` (a batch of
 * ITS traffic, see OpCommand), `msi` and `mem_read` drawn too.
 */
export const ITS_OP_WEIGHTS: Readonly<Record<OpName, number>> = { ...DEFAULT_OP_WEIGHTS, mem_write: 14, msi: 4, mem_read: 1 };

/** `fc.commands` over every op (weights adjustable, 0 leaves an op out). */
export function arbOpCommands(weights: Readonly<Record<OpName, number>> = DEFAULT_OP_WEIGHTS, maxCommands = 150): fc.Arbitrary<Iterable<fc.Command<ModelState, RealState>>> {
  return fc.commands(
    [fc.oneof(...OP_NAMES.filter((op) => weights[op] > 0).map((op) => ({
      weight: weights[op],
      arbitrary: fc.integer({ min: 0, max: 0x7fffffff }).map((seed): fc.Command<ModelState, RealState> => new OpCommand(op, seed)),
    })))],
    { maxCommands, size: 'max' },
  );
}

/** Counts of what model-based runs applied (a sanity figure: runs must do something). */
export interface AppliedCounter {
  runs: number;
  steps: number;
  /** Runs that ended with a device domain brought up: initialised, every vCPU through its first kvm_run (when counted). */
  broughtUp?: number;
}

/**
 * The model-based property: a random config, random commands, invariants I1-I19 and
 * properties P2-P8 (P7 on configs of two or more domains) after every step, on the model or on a variant (a mutant, divergence switches).
 */
export function modelBasedProperty(
  variant: MutantName | Variant | null = null, configs: fc.Arbitrary<Config> = arbConfig({ spis: { min: 32, max: MAX_SPIS }, maxDomains: 1 }),
  commands = arbOpCommands(), applied?: AppliedCounter,
): fc.IPropertyWithHooks<[Config, Iterable<fc.Command<ModelState, RealState>>]> {
  return fc.property(configs, commands, (config, cmds) => {
    const created = Machine.create(config, 'config', variant);
    if (created._tag === 'Left') throw new Error(`config refused: ${created.left.join('; ')}`);
    const m = created.right;
    const real: RealState = { m, monitor: new StepMonitor(m), config, steps: [] };
    fc.modelRun(() => ({ model: { crashed: false }, real }), cmds);
    if (applied !== undefined) {
      applied.runs += 1;
      applied.steps += real.steps.length;
      if (applied.broughtUp !== undefined && deviceVms(m).some((vm) => vm.initialized && vm.vcpus.length > 0 && vm.vcpus.every((v) => v.ran))) applied.broughtUp += 1;
    }
  });
}
