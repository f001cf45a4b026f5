/**
 * Property campaigns: many seeded random traces (the generator of src/conformance/gen.ts)
 * run with the step monitor (invariants I1-I19 and properties P2-P6 and P8, and P7 on every
 * config with two or more domains), plus multi-domain traces (the generator's multiDomain
 * option: 2-4 domains) for P7, plus delivery scenarios (P1). Used by `vgic fuzz --check`
 * (`npm run fuzz`) and by the mutation runner.
 */
import * as E from 'fp-ts/lib/Either.js';
import { generateTraceWithOps, type ConfigOptions, type GeneratedTrace } from '../conformance/gen.js';
import { deviceVms } from '../conformance/gen-vmm.js';
import { Machine, TraceError } from '../machine/machine.js';
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
    const count = (): void => {
      if (isMulti) md.steps += 1;
      else res.steps += 1;
    };
    const crashed = (): void => {
      if (isMulti) md.crashes += 1;
      else res.crashes += 1;
    };
    /** The machine the checks followed, and its monitor. */
    const run: { m?: Machine; monitor?: StepMonitor } = {};
    let trace: GeneratedTrace;
    if (mutant === null) {
      // The generator's machine is the reference model's run of the trace: the monitor follows
      // it as it generates (a candidate the model refuses changes nothing, and the monitor's
      // `before` keeps nothing that the next `before` does not replace), so the trace is not
      // run a second time. P7 on every config with two or more domains (StepMonitor's default).
      let k = 0;
      let found: Finding[] = [];
      const g = generateTraceWithOps(seed, gen, {
        start: (gm) => {
          run.m = gm;
          run.monitor = new StepMonitor(gm);
        },
        before: (op) => run.monitor!.before(op),
        after: (gm, op, r) => {
          count();
          found = run.monitor!.after(op, r);
          if (found.length > 0) return false;
          if (gm.crashed !== null) crashed();
          k += 1;
          return true;
        },
      });
      trace = g.trace;
      if (found.length > 0) {
        const op = g.ops[k]!;
        res.violation = { seed, step: k, op: op.op, ids: [...new Set(found.map((f) => f.id))], findings: found.map(describeFinding), trace };
      }
    } else {
      // A mutant: the reference model generates the trace, the mutant runs it.
      const g = generateTraceWithOps(seed, gen);
      trace = g.trace;
      const m = E.getOrElseW(() => { throw new Error(`seed ${seed}: generated config refused`); })(Machine.create(trace.config, 'config', mutant));
      const monitor = new StepMonitor(m);
      run.m = m;
      run.monitor = monitor;
      const cut = (k: number): GeneratedTrace => ({ ...trace, steps: trace.steps.slice(0, k + 1) });
      for (let k = 0; k < g.ops.length; k++) {
        const op = g.ops[k]!;
        monitor.before(op);
        const r = m.apply(op, k);
        count();
        if (r instanceof TraceError) {
          res.violation = { seed, step: k, op: op.op, ids: ['trace error'], findings: [r.message], trace: cut(k) };
          break;
        }
        const found = monitor.after(op, r);
        if (found.length > 0) {
          res.violation = { seed, step: k, op: op.op, ids: [...new Set(found.map((f) => f.id))], findings: found.map(describeFinding), trace: cut(k) };
          break;
        }
        if (m.crashed !== null) {
          crashed();
          break;
        }
      }
    }
    const c = trace.config;
    if (isMulti) {
      md.traces += 1;
      widen(md.domains, c.domains.length);
    } else {
      res.configs[c.gic] += 1;
      widen(res.configs.nrLrs, c.nr_lrs);
      widen(res.configs.pcpus, c.pcpus);
      for (const d of c.domains) {
        if (isDeviceDomain(d)) continue; // (their vCPUs and SPIs come from the VMM's bring-up, not the config)
        widen(res.configs.vcpus, d.vcpus);
        widen(res.configs.spis, Math.ceil(d.nr_spis / 32) * 32);
      }
    }
    const { m, monitor } = run as Required<typeof run>;
    if (!isMulti) {
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
    if (!isMulti) res.traces += 1;
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
