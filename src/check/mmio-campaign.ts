/**
 * The guest-register reliability campaign (`vgic fuzz --mmio`, `npm run fuzz:mmio`): per GIC
 * version, `count` machines of `steps` steps each, drawn by src/conformance/gen-mmio.ts (random
 * guest register accesses mixed with scheduling, injection and guest CPU-interface ops), with
 * the invariants (I1-I19, L1-L3) and the step properties (P2-P6) after every step.
 *
 * It counts what happened instead of stopping at the first problem:
 *  - the outcome of every guest register access (`mmio`, `sysreg`): ok, abort, undef, crash,
 *    or a trace error by reason (an access outside the contract: misaligned, outside every
 *    frame, a pCPU not in hyp mode); such a refused step must leave the machine unchanged
 *    (its snapshot is compared before and after);
 *  - violations: steps after which the checker found something, per id, and the machines
 *    concerned; the first violation of each id is cut after its step and shrunk;
 *  - exceptions: anything the model or the checker threw. An exception is a bug of ours:
 *    it is counted, its message and stack kept, and the machine's steps up to it kept as a
 *    replay trace; the machine is then dropped and the campaign goes on with the next one.
 * A machine that reaches a Xen crash (RESULT `crash`) ends there.
 *
 * Machine i uses seed `seed + i` (its config and its steps), so any machine can be run alone.
 */
import { decodeOp, decodeOpFast, type Op } from '../machine/ops.js';
import { Machine, TraceError, type Result } from '../machine/machine.js';
import type { Config } from '../machine/config.js';
import type { ConfigOptions } from '../conformance/gen.js';
import { TRACE_FORMAT } from '../conformance/trace.js';
import { mmioFuzzConfig, mmioFuzzRng, mmioFuzzSteps } from '../conformance/gen-mmio.js';
import * as E from 'fp-ts/lib/Either.js';
import { StepMonitor, describeFinding, type Finding } from './monitor.js';

type RawStep = Record<string, unknown>;

export interface MmioCampaignOptions extends ConfigOptions {
  gic: 'v2' | 'v3';
  seed: number;
  /** Machines. */
  count: number;
  /** Steps per machine (fewer when it ends in a Xen crash or an exception). */
  steps: number;
  /** Shrink the first violation of each id (default true). */
  shrink?: boolean;
  /** Called after each machine (progress). */
  onMachine?: (done: number, steps: number, accesses: number) => void;
}

export interface ReplayTrace {
  format: typeof TRACE_FORMAT;
  name: string;
  description: string;
  config: Config;
  steps: RawStep[];
}

export interface MmioViolation {
  id: string;
  seed: number;
  /** The step of the machine's run after which it was found. */
  step: number;
  findings: string[];
  /** The machine's steps up to that one, shrunk when shrinking is on. */
  trace: ReplayTrace;
  /** Steps before shrinking. */
  unshrunk: number;
}

export interface MmioException {
  seed: number;
  step: number;
  op: string;
  message: string;
  stack: string;
  /** The machine's steps up to the one that threw (included). */
  trace: ReplayTrace;
}

export interface MmioCampaignResult {
  gic: 'v2' | 'v3';
  seeds: [number, number];
  machines: number;
  /** Machines with a virtual ITS in some domain, with 2+ domains. */
  itsMachines: number;
  multiDomainMachines: number;
  steps: number;
  /** Guest register accesses (mmio and sysreg steps, trace errors included). */
  accesses: number;
  /** Per op kind of access (`mmio`, `sysreg`), outcome -> count. */
  accessOutcomes: Record<string, Record<string, number>>;
  /** Trace errors of accesses, by reason. */
  traceErrors: Record<string, number>;
  /** Refused accesses after which the snapshot differed (must be 0). */
  refusedChanged: number;
  /** The other steps, outcome -> count. */
  otherOutcomes: Record<string, number>;
  /** Candidates of the ordinary ops the model refused (not steps; the generator's misses). */
  candidatesDropped: number;
  /** Machines that ended in a Xen crash. */
  crashedMachines: number;
  violations: { steps: number; findings: Record<string, number>; machines: number; first: MmioViolation[] };
  exceptions: { count: number; first: MmioException[] };
  seconds: number;
}

function bump(r: Record<string, number>, k: string, n = 1): void {
  r[k] = (r[k] ?? 0) + n;
}

/** A trace error's reason, without the step, the numbers and the addresses: one key per rule. */
export function traceErrorReason(message: string): string {
  const rule = message.replace(/^step \d+ \([a-z_]+\): /, '');
  if (/is not aligned to the access size/.test(rule)) return 'misaligned';
  if (/ is outside the GICD frame/.test(rule)) return 'outside every frame';
  const mode = /^pCPU \d+ is (idle|guest); \w+ needs it hyp$/.exec(rule);
  if (mode !== null) return `pCPU ${mode[1]}, not hyp`;
  return rule.replace(/0x[0-9a-f]+/g, 'X').replace(/\d+/g, 'N');
}

function decode(step: RawStep): Op {
  const fast = decodeOpFast(step);
  if (fast !== null) return fast;
  const r = decodeOp(step);
  if (E.isLeft(r)) throw new Error(`generated step does not decode: ${r.left.join('; ')}`);
  return r.right;
}

function machineFor(config: Config): Machine {
  const m = Machine.create(config);
  if (E.isLeft(m)) throw new Error(`generated config refused: ${m.left.join('; ')}`);
  return m.right;
}

function traceOf(gic: string, seed: number, config: Config, steps: RawStep[], what: string): ReplayTrace {
  return {
    format: TRACE_FORMAT,
    name: `mmio-fuzz-${gic}-seed-${seed}`,
    description: `vgic fuzz --mmio --gic ${gic} --seed ${seed} --count 1: ${what}`,
    config,
    steps,
  };
}

/**
 * Replay `steps` on a fresh machine of `config`, dropping the steps the model refuses, with
 * the checker after every step; the applied steps up to the first step that breaks `id`, or
 * null when none does.
 */
function reproduce(config: Config, steps: readonly RawStep[], id: string): RawStep[] | null {
  const m = machineFor(config);
  const mon = new StepMonitor(m);
  const kept: RawStep[] = [];
  for (let k = 0; k < steps.length; k++) {
    const op = decode(steps[k]!);
    mon.before(op);
    const r = m.apply(op, kept.length);
    if (r instanceof TraceError) continue;
    kept.push(steps[k]!);
    if (mon.after(op, r).some((f) => f.id === id)) return kept;
    if (m.crashed !== null) return null;
  }
  return null;
}

/** Delta debugging over the steps (chunks, then single steps), within a budget of replays. */
export function shrinkSteps(config: Config, steps: RawStep[], id: string, budget = 600): RawStep[] {
  let cur = reproduce(config, steps, id) ?? steps;
  let runs = 0;
  let chunk = Math.max(1, Math.floor(cur.length / 2));
  while (chunk >= 1 && runs < budget) {
    let progressed = false;
    for (let start = 0; start < cur.length && runs < budget;) {
      const cand = [...cur.slice(0, start), ...cur.slice(start + chunk)];
      runs += 1;
      const r = cand.length > 0 ? reproduce(config, cand, id) : null;
      if (r !== null && r.length < cur.length) {
        cur = r;
        progressed = true;
      } else start += chunk;
    }
    if (!progressed) chunk = Math.floor(chunk / 2);
  }
  return cur;
}

/** Run the campaign for one GIC version. */
export function runMmioCampaign(o: MmioCampaignOptions): MmioCampaignResult {
  const started = Date.now();
  const res: MmioCampaignResult = {
    gic: o.gic, seeds: [o.seed, o.seed + o.count - 1], machines: 0, itsMachines: 0, multiDomainMachines: 0,
    steps: 0, accesses: 0, accessOutcomes: {}, traceErrors: {}, refusedChanged: 0, otherOutcomes: {},
    candidatesDropped: 0, crashedMachines: 0,
    violations: { steps: 0, findings: {}, machines: 0, first: [] },
    exceptions: { count: 0, first: [] },
    seconds: 0,
  };
  const firstById = new Map<string, { seed: number; step: number; findings: string[]; config: Config; steps: RawStep[] }>();
  for (let i = 0; i < o.count; i++) {
    const seed = (o.seed + i) >>> 0;
    const config = mmioFuzzConfig(seed, o);
    const rng = mmioFuzzRng(seed);
    const m = machineFor(config);
    res.machines += 1;
    if (config.domains.some((d) => 'its' in d && d.its !== undefined)) res.itsMachines += 1;
    if (config.domains.length > 1) res.multiDomainMachines += 1;
    const mon = new StepMonitor(m);
    const applied: RawStep[] = [];
    let violated = false;
    let misses = 0;
    run: while (applied.length < o.steps) {
      const batch = mmioFuzzSteps(rng, m);
      for (const { step, outOfContract } of batch) {
        if (applied.length >= o.steps) break;
        const k = applied.length;
        const kind = step['op'] as string;
        const access = kind === 'mmio' || kind === 'sysreg';
        let op: Op | null = null;
        try {
          op = decode(step);
          const before = outOfContract ? m.snapshotJson() : null;
          mon.before(op);
          const r: Result | TraceError = m.apply(op, k);
          if (r instanceof TraceError) {
            if (!access) {
              // A candidate of an ordinary op the state does not allow: not a step.
              res.candidatesDropped += 1;
              if (++misses > 10_000) throw new Error(`the generator found no valid step in 10000 candidates`);
              continue;
            }
            applied.push(step);
            res.steps += 1;
            res.accesses += 1;
            bump(res.accessOutcomes[kind] ??= {}, 'trace error');
            bump(res.traceErrors, traceErrorReason(r.message));
            if (before !== null ? m.snapshotJson() !== before : false) res.refusedChanged += 1;
            continue;
          }
          misses = 0;
          applied.push(step);
          res.steps += 1;
          if (access) {
            res.accesses += 1;
            bump(res.accessOutcomes[kind] ??= {}, r.outcome);
          } else bump(res.otherOutcomes, r.outcome);
          const found: Finding[] = mon.after(op, r);
          if (found.length > 0) {
            res.violations.steps += 1;
            violated = true;
            for (const f of found) {
              bump(res.violations.findings, f.id);
              if (!firstById.has(f.id)) {
                firstById.set(f.id, { seed, step: k, findings: found.filter((g) => g.id === f.id).map(describeFinding), config, steps: applied.slice() });
              }
            }
          }
          if (m.crashed !== null) {
            res.crashedMachines += 1;
            break run;
          }
        } catch (e) {
          if (applied.length === k) applied.push(step);
          res.exceptions.count += 1;
          if (res.exceptions.first.length < 5) {
            res.exceptions.first.push({
              seed, step: k, op: op?.op ?? kind,
              message: e instanceof Error ? e.message : String(e),
              stack: e instanceof Error ? (e.stack ?? '') : '',
              trace: traceOf(o.gic, seed, config, applied.slice(), `an exception at step ${k}`),
            });
          }
          break run;
        }
      }
    }
    if (violated) res.violations.machines += 1;
    o.onMachine?.(res.machines, res.steps, res.accesses);
  }
  for (const [id, f] of [...firstById].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    const steps = o.shrink === false ? f.steps : shrinkSteps(f.config, f.steps, id);
    res.violations.first.push({
      id, seed: f.seed, step: f.step, findings: f.findings, unshrunk: f.steps.length,
      trace: traceOf(o.gic, f.seed, f.config, steps, `${id} after step ${f.step}${o.shrink === false ? '' : ` (shrunk from ${f.steps.length} to ${steps.length} steps)`}`),
    });
  }
  res.seconds = (Date.now() - started) / 1000;
  return res;
}
