/**
 * Property campaigns: many seeded random traces (the generator of src/conformance/gen.ts)
 * run with the step monitor (invariants I1-I19 and properties P2-P6 and P8, and P7 on every
 * config with two or more domains), plus multi-domain traces (the generator's multiDomain
 * option: 2-4 domains) for P7, plus delivery scenarios (P1). Used by `vgic fuzz --check`
 * (`npm run fuzz`) and by the mutation runner.
 */
import * as E from 'fp-ts/lib/Either.js';
import { generateTraceWithOps, type ConfigOptions, type GenOptions, type GeneratedTrace } from '../conformance/gen.js';
import { deviceVms } from '../conformance/gen-vmm.js';
import { Machine, TraceError } from '../machine/machine.js';
import type { Op } from '../machine/ops.js';
import { isDeviceDomain } from '../machine/config.js';
import type { MutantName } from '../xen/mutants.js';
import { StepMonitor, describeFinding, type Finding } from './monitor.js';
import { addNoninterferenceStats, emptyNoninterferenceStats, type NoninterferenceStats } from './noninterference.js';
import { checkDelivery, deliveryScenario } from './properties.js';

export interface CampaignOptions extends ConfigOptions {
  seed: number;
  count: number;
  steps: number;
  /** Delivery scenarios (P1) to run, seeds `seed`..`seed + delivery - 1`. */
  delivery: number;
  mutant?: MutantName | null;
  /** The generator's share of device domains (GenOptions.vmm; default the generator's). */
  vmm?: number | undefined;
  /** The generator's share of lifecycle batches (GenOptions.life; off by default). */
  life?: number | undefined;
  /**
   * Multi-domain traces (seeds `seed`..`seed + multiDomainTraces - 1`, the generator's
   * multiDomain option), run after the others and before the delivery scenarios; default
   * defaultMultiDomain(count).
   */
  multiDomainTraces?: number;
  /** Called after each trace (progress; the multi-domain ones count on from `count`). */
  onTrace?: (done: number, steps: number) => void;
}

export interface CampaignViolation {
  seed: number;
  step: number;
  op: string;
  /** `I6`, `P4`, or `trace error` (the mutated model refused a step the reference accepts). */
  ids: string[];
  findings: string[];
  /** The generated trace, cut after the violating step. */
  trace: GeneratedTrace;
}

export interface Range {
  min: number;
  max: number;
}

export interface CampaignResult {
  traces: number;
  steps: number;
  crashes: number;
  configs: { v2: number; v3: number; nrLrs: Range; pcpus: Range; vcpus: Range; spis: Range };
  violation: CampaignViolation | null;
  delivery: { scenarios: number; failure: { seed: number; message: string } | null };
  /** Device domains (docs/trace-format.md §10): how many, and how many ended their trace brought up (every vCPU run) or dead. */
  vmm: { domains: number; running: number; dead: number };
  /**
   * The multi-domain traces (not counted in `traces`, `steps`, `crashes`, `configs`): their
   * number, steps, domains per config, crashes; and what P7 saw in every trace it ran on
   * (these, and the ordinary traces with two domains: `p7.traces`).
   */
  multiDomain: { traces: number; steps: number; domains: Range; crashes: number; p7: NoninterferenceStats & { traces: number } };
}

/**
 * The share of a campaign's trace count run again as multi-domain traces
 * (CampaignOptions.multiDomainTraces): 3 and 4 domains, and injections from a pCPU running
 * another domain, which the ordinary traces (at most 2 domains) do not have. P7 applies each
 * step twice (the full machine and its domain's shadow) and compares every domain entry after it.
 */
export const DEFAULT_MULTI_DOMAIN_SHARE = 0.05;

/** The multi-domain traces a campaign of `count` traces runs by default. */
export function defaultMultiDomain(count: number): number {
  return Math.ceil(count * DEFAULT_MULTI_DOMAIN_SHARE);
}

function widen(r: Range, x: number): void {
  r.min = Math.min(r.min, x);
  r.max = Math.max(r.max, x);
}

const EMPTY = (): Range => ({ min: Infinity, max: -Infinity });

/** One trace checked step by step: the machine the checks followed, its monitor, what they counted and found. */
interface CheckedTrace {
  /** The generated trace; with a violation, cut after the violating step. */
  trace: GeneratedTrace;
  m: Machine;
  monitor: StepMonitor;
  steps: number;
  crashes: number;
  violation: CampaignViolation | null;
}

/** What the monitor found at step `k` (op `op`) of the trace of `seed`. */
function violationOf(seed: number, k: number, op: Op, found: readonly Finding[], trace: GeneratedTrace): CampaignViolation {
  return { seed, step: k, op: op.op, ids: [...new Set(found.map((f) => f.id))], findings: found.map(describeFinding), trace };
}

/**
 * The reference model: the generator's machine is the model's run of the trace, and the monitor
 * follows it as it generates (a candidate the model refuses changes nothing, and the monitor's
 * `before` keeps nothing that the next `before` does not replace), so the trace is not run a
 * second time. P7 on every config with two or more domains (StepMonitor's default).
 */
function checkWhileGenerating(seed: number, gen: GenOptions): CheckedTrace {
  let m: Machine | null = null;
  let monitor: StepMonitor | null = null;
  let steps = 0;
  let crashes = 0;
  let found: Finding[] = [];
  const g = generateTraceWithOps(seed, gen, {
    start: (gm) => {
      m = gm;
      monitor = new StepMonitor(gm);
    },
    before: (op) => monitor!.before(op),
    after: (gm, op, r) => {
      steps += 1;
      found = monitor!.after(op, r);
      if (found.length > 0) return false;
      if (gm.crashed !== null) crashes += 1;
      return true;
    },
  });
  // The generator stops at a finding, so the step that found it is the trace's last.
  const last = g.ops.length - 1;
  const violation = found.length > 0 ? violationOf(seed, last, g.ops[last]!, found, g.trace) : null;
  return { trace: g.trace, m: m!, monitor: monitor!, steps, crashes, violation };
}

/** A mutant: the reference model generates the trace, the mutant runs it on a machine of its own. */
function checkOnMutant(seed: number, gen: GenOptions, mutant: MutantName): CheckedTrace {
  const { trace, ops } = generateTraceWithOps(seed, gen);
  const m = E.getOrElseW(() => { throw new Error(`seed ${seed}: generated config refused`); })(Machine.create(trace.config, 'config', mutant));
  const monitor = new StepMonitor(m);
  const cut = (k: number): GeneratedTrace => ({ ...trace, steps: trace.steps.slice(0, k + 1) });
  let steps = 0;
  let crashes = 0;
  let violation: CampaignViolation | null = null;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k]!;
    monitor.before(op);
    const r = m.apply(op, k);
    steps += 1;
    if (r instanceof TraceError) {
      violation = { seed, step: k, op: op.op, ids: ['trace error'], findings: [r.message], trace: cut(k) };
      break;
    }
    const found = monitor.after(op, r);
    if (found.length > 0) {
      violation = violationOf(seed, k, op, found, cut(k));
      break;
    }
    if (m.crashed !== null) {
      crashes += 1;
      break;
    }
  }
  return { trace, m, monitor, steps, crashes, violation };
}

/** Run a campaign; it stops at the first violation. */
export function runCampaign(o: CampaignOptions): CampaignResult {
  const res: CampaignResult = {
    traces: 0, steps: 0, crashes: 0,
    configs: { v2: 0, v3: 0, nrLrs: EMPTY(), pcpus: EMPTY(), vcpus: EMPTY(), spis: EMPTY() },
    violation: null,
    delivery: { scenarios: 0, failure: null },
    vmm: { domains: 0, running: 0, dead: 0 },
    multiDomain: { traces: 0, steps: 0, domains: EMPTY(), crashes: 0, p7: { traces: 0, ...emptyNoninterferenceStats() } },
  };
  const mutant = o.mutant ?? null;
  const multi = o.multiDomainTraces ?? defaultMultiDomain(o.count);
  const md = res.multiDomain;
  for (let i = 0; i < o.count + multi && res.violation === null; i++) {
    const isMulti = i >= o.count;
    const seed = o.seed + (isMulti ? i - o.count : i);
    const gen = { ...o, steps: o.steps, multiDomain: isMulti };
    const { trace, m, monitor, steps, crashes, violation } = mutant === null ? checkWhileGenerating(seed, gen) : checkOnMutant(seed, gen, mutant);
    res.violation = violation;
    const c = trace.config;
    if (isMulti) {
      md.traces += 1;
      md.steps += steps;
      md.crashes += crashes;
      widen(md.domains, c.domains.length);
    } else {
      res.traces += 1;
      res.steps += steps;
      res.crashes += crashes;
      res.configs[c.gic] += 1;
      widen(res.configs.nrLrs, c.nr_lrs);
      widen(res.configs.pcpus, c.pcpus);
      for (const d of c.domains) {
        if (isDeviceDomain(d)) continue; // (their vCPUs and SPIs come from the VMM's bring-up, not the config)
        widen(res.configs.vcpus, d.vcpus);
        widen(res.configs.spis, Math.ceil(d.nr_spis / 32) * 32);
      }
      for (const vm of deviceVms(m)) {
        res.vmm.domains += 1;
        if (vm.dead) res.vmm.dead += 1;
        else if (vm.initialized && vm.vcpus.length > 0 && vm.vcpus.every((v) => v.ran)) res.vmm.running += 1;
      }
    }
    if (monitor.noninterference !== null) {
      md.p7.traces += 1;
      addNoninterferenceStats(md.p7, monitor.noninterference.stats);
    }
    o.onTrace?.(res.traces + md.traces, res.steps + md.steps);
  }
  for (let i = 0; i < o.delivery && res.violation === null && res.delivery.failure === null; i++) {
    const seed = o.seed + i;
    const r = checkDelivery(deliveryScenario(seed), mutant);
    res.delivery.scenarios += 1;
    if (E.isLeft(r)) res.delivery.failure = { seed, message: r.left };
  }
  return res;
}
