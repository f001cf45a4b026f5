/**
 * End-to-end properties of Xen's vGIC beyond the structural invariants: what a guest and a
 * VMM can observe. Each is stated with its justification from the reference in the README.
 *  P1 delivery: in a running, online vCPU whose guest keeps acknowledging and EOI-ing, every
 *     enabled, injected interrupt is acknowledged within a bounded number of enter/exit
 *     cycles (a scenario property: `checkDelivery`).
 *  P2 no interrupt is ever in two valid LRs of one vCPU (except after CPU_ON, Q37, and in
 *     a domain with an SPI in a Q34 state).
 *  P3 a vCPU that does not run never has its LRs changed.
 *  P4 Xen never returns to a guest with an interrupt waiting on lr_pending while an LR is
 *     free, and then it asks for the underflow interrupt (§3.8, Q14).
 *  P5 the guest never acknowledges an interrupt more often than it was asserted (merging
 *     may lose deliveries, Q9, nothing may invent one); except after CPU_ON (stale LRs, Q37)
 *     and for SPIs touched by Q34.
 *  P6 an injection Xen must ignore changes nothing: level low (Q2), an offline target (Q8d).
 *  P7 noninterference: each domain's snapshot entry after every step equals the one of a
 *     machine that ran only that domain's steps (src/check/noninterference.ts, a monitor of
 *     its own that keeps one shadow machine per domain).
 *  P8 host state: a step changes the host's IRQ descriptors (`physical`) only for IRQs routed
 *     to the domain the step belongs to (before or after it); a step of no domain changes none.
 * P2-P6 and P8 are monitors that follow a machine step by step (`PropertyMonitor`).
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Config } from '../machine/config.js';
import { Machine, type Result } from '../machine/machine.js';
import type { Op } from '../machine/ops.js';
import type { MutantName } from '../xen/mutants.js';
import { listEmpty, type PendingIrq, type Vcpu } from '../xen/types.js';
import { Rng } from '../conformance/gen.js';
import { toHex } from '../machine/decode.js';
import { vgicGetTargetVcpu, vgicIsSpi } from '../xen/vgic.js';
import { GUEST_GICD_BASE } from '../xen/vgic-v2.js';
import { lrsHoldTwice, lrsHoldingTwice } from './invariants.js';
import { stepOwner } from './noninterference.js';
import type { IrqDesc } from '../hw/irqdesc.js';

export const PROPERTY_IDS = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8'] as const;
export type PropertyId = (typeof PROPERTY_IDS)[number];

export const PROPERTIES: Record<PropertyId, string> = {
  P1: 'an enabled interrupt injected into a running vCPU whose guest acks and EOIs is delivered within a bounded number of enter/exit cycles',
  P2: 'no interrupt is in two valid LRs of one vCPU',
  P3: 'a vCPU that does not run never has its LRs changed',
  P4: 'after a return to the guest, lr_pending is empty or every LR is used and UIE is set',
  P5: 'the guest never acknowledges an interrupt more often than it was asserted',
  P6: 'an injection Xen must ignore (level low, offline target) changes nothing',
  P7: 'each domain\'s snapshot entry after every step equals the one from running only that domain\'s steps (another domain\'s run an idle)',
  P8: 'a step changes host IRQ state (physical) only for IRQs routed to the domain it belongs to',
};

export interface PropertyFailure {
  id: PropertyId;
  message: string;
}

/** A vCPU's LRs as they were before the current step, if it was not running then (P3). */
interface SavedLrs {
  lrs: Uint32Array;
  /** The `before` call that filled `lrs`. */
  at: number;
}

/** Follows one machine: call `before(op)` then `after(op, result)` around every step. */
export class PropertyMonitor {
  /** Guest acknowledgements per record. */
  private readonly acks = new Map<PendingIrq, number>();
  /** One reusable buffer per vCPU, valid when its `at` is `beforeCount`. */
  private readonly savedLrs = new Map<Vcpu, SavedLrs>();
  private beforeCount = 0;
  private snapshotBefore: string | null = null;
  /** P8: each host IRQ descriptor as it was before the step (see descState), and who owns the step. */
  private readonly descsBefore = new Map<IrqDesc, number[]>();
  private descOwner: number | null = null;

  /**
   * `q34Tainted` and `q34Vcpus`: the Q34 records and the vCPUs they touched, as the invariant
   * checker keeps them (ExemptionHistory); P2 and P5 do not apply to them.
   */
  constructor(readonly machine: Machine, readonly q34Tainted: ReadonlySet<PendingIrq> = new Set(), readonly q34Vcpus: ReadonlySet<Vcpu> = new Set()) {}

  /** Record what the properties compare against, just before `op` runs. */
  before(op: Op): void {
    const m = this.machine;
    const at = ++this.beforeCount;
    for (const d of m.host.domains.values()) {
      for (const v of d.vcpus) {
        if (v.runningOn !== null) continue;
        let s = this.savedLrs.get(v);
        if (s === undefined || s.lrs.length !== v.saved.lrs.length) this.savedLrs.set(v, s = { lrs: new Uint32Array(v.saved.lrs.length), at });
        s.lrs.set(v.saved.lrs);
        s.at = at;
      }
    }
    this.snapshotBefore = this.mustBeIgnored(op) ? m.snapshotJson() : null;
    // P8
    const descs = m.host.irqDescs;
    this.descOwner = stepOwner(m, op);
    if (descs.size > 0) {
      for (const desc of descs.values()) {
        const was = this.descsBefore.get(desc);
        if (was === undefined) this.descsBefore.set(desc, descState(desc));
        else fillDescState(desc, was);
      }
    }
  }

  /** Is `op` an injection Xen must drop (P6)? */
  private mustBeIgnored(op: Op): boolean {
    if (op.op !== 'inject') return false;
    if (op.level === false) return true;
    const d = this.machine.host.domains.get(op.domain);
    if (d === undefined) return false;
    if (op.vcpu !== null) return d.vcpus[op.vcpu]?.online === false;
    return vgicIsSpi(d, op.virq) && !vgicGetTargetVcpu(d.vcpus[0]!, op.virq).online;
  }

  /**
   * After a domain_destroy (trace-format §3.6): forget the vCPUs and records of domains that
   * are no longer live (a new domain with the same id has its own).
   */
  private forgetDestroyed(): void {
    const host = this.machine.host;
    for (const v of [...this.savedLrs.keys()]) if (host.domains.get(v.domain.id) !== v.domain) this.savedLrs.delete(v);
    if (this.acks.size === 0) return;
    const live = new Set<PendingIrq>();
    for (const d of host.domains.values()) {
      for (const p of d.pendingIrqs) live.add(p);
      for (const p of d.pendLpiTree.values()) live.add(p);
      for (const v of d.vcpus) for (const p of v.pendingIrqs) live.add(p);
    }
    for (const p of [...this.acks.keys()]) if (!live.has(p)) this.acks.delete(p);
  }

  /** The property failures of the step just applied. */
  after(op: Op, result: Result): PropertyFailure[] {
    const m = this.machine;
    const out: PropertyFailure[] = [];
    if (m.crashed !== null) return out;
    const host = m.host;
    if (op.op === 'domain_destroy') this.forgetDestroyed();
    // P6
    if (this.snapshotBefore !== null && result.outcome === 'ok' && m.snapshotJson() !== this.snapshotBefore) {
      const i = op as Extract<Op, { op: 'inject' }>;
      const why = i.level === false ? 'level low' : 'offline target';
      out.push({ id: 'P6', message: `d${i.domain}: inject of irq ${i.virq}${i.vcpu !== null ? ` for vCPU ${i.vcpu}` : ''} (${why}) should have been ignored but changed the state` });
    }
    // P5: count the acknowledgement.
    if (op.op === 'ack' && result.intid !== undefined && result.intid < 1020) {
      const v = host.pcpus[op.pcpu]!.current!;
      const p = result.intid < 32 ? v.pendingIrqs[result.intid]! : v.domain.pendingIrqs[result.intid - 32];
      // A vCPU that got CPU_ON with live state may take a stale LR again (Q37): its acks are not counted.
      if (p !== undefined && !m.cpuOnWithLiveState.has(v)) {
        const n = (this.acks.get(p) ?? 0) + 1;
        this.acks.set(p, n);
        if (n > p.assertions && !this.q34Tainted.has(p) && !this.q34Vcpus.has(v)) {
          out.push({ id: 'P5', message: `d${v.domain.id}v${v.id} acknowledged irq ${p.irq} ${n} times after ${p.assertions} assertions` });
        }
      }
    }
    for (const d of host.domains.values()) {
      const q34 = this.q34Tainted.size > 0 && d.pendingIrqs.some((p) => this.q34Tainted.has(p));
      for (const v of d.vcpus) {
        // P3
        const before = this.savedLrs.get(v);
        if (before !== undefined && before.at === this.beforeCount && v.runningOn === null && !sameWords(before.lrs, v.saved.lrs)) {
          out.push({ id: 'P3', message: `d${d.id}v${v.id} does not run, yet its LRs changed during ${op.op}` });
        }
        // P2
        if (!q34 && !m.cpuOnWithLiveState.has(v) && !this.q34Vcpus.has(v)) {
          const lrs = v.runningOn === null ? v.saved.lrs : host.pcpus[v.runningOn]!.cpuif.lrs;
          if (lrsHoldTwice(m, lrs)) {
            for (const x of lrsHoldingTwice(m, lrs)) out.push({ id: 'P2', message: `d${d.id}v${v.id} has INTID ${x.virq} in two LRs` });
          }
        }
      }
    }
    // P8
    if (host.irqDescs.size > 0) {
      const owner = this.descOwner;
      for (const desc of host.irqDescs.values()) {
        const was = this.descsBefore.get(desc);
        // (A descriptor the step created, e.g. for a new domain's pirqs, is configuration until routed.)
        if (was === undefined ? desc.guest === null : sameDescState(was, desc)) continue;
        const now = descState(desc);
        const before = was === undefined || was[0] === -1 ? null : was[0]!;
        const after = desc.guest?.domain ?? null;
        if (owner !== null && (before === owner || after === owner)) continue;
        const routed = before === after ? `routed to ${before === null ? 'no domain' : `d${before}`}` : `routed to ${before === null ? 'no domain' : `d${before}`}, then ${after === null ? 'none' : `d${after}`}`;
        out.push({ id: 'P8', message: `${op.op}${owner === null ? ' (a step of no domain)' : ` of d${owner}`} changed host IRQ ${desc.irq} (${routed}): ${describeDescChange(was, now)}` });
      }
    }
    // P4
    if (op.op === 'enter') {
      const cpu = host.pcpus[op.pcpu]!;
      const v = cpu.current!;
      if (!listEmpty(v.lrPending) && (!cpu.lrMask.allFull(host.nrLrs) || !cpu.cpuif.uie)) {
        out.push({ id: 'P4', message: `d${v.domain.id}v${v.id} returned to the guest with lr_pending non-empty and ${cpu.lrMask.allFull(host.nrLrs) ? 'UIE clear' : 'a free LR'}` });
      }
    }
    return out;
  }
}

/** P8: a host IRQ descriptor as numbers: guest domain (-1: none), guest vIRQ, enabled, pending, active, in progress, affinity. */
function descState(d: IrqDesc): number[] {
  return [d.guest?.domain ?? -1, d.guest?.virq ?? -1, +d.enabled, +d.pending, +d.active, +d.inProgress, d.affinity];
}

/** descState into an existing array (no allocation on the per-step path). */
function fillDescState(d: IrqDesc, a: number[]): void {
  a[0] = d.guest?.domain ?? -1;
  a[1] = d.guest?.virq ?? -1;
  a[2] = +d.enabled;
  a[3] = +d.pending;
  a[4] = +d.active;
  a[5] = +d.inProgress;
  a[6] = d.affinity;
}

function sameDescState(a: readonly number[], d: IrqDesc): boolean {
  return a[0] === (d.guest?.domain ?? -1) && a[1] === (d.guest?.virq ?? -1) && a[2] === +d.enabled && a[3] === +d.pending
    && a[4] === +d.active && a[5] === +d.inProgress && a[6] === d.affinity;
}

const DESC_FIELDS = ['domain', 'virq', 'enabled', 'pending', 'active', 'in_progress', 'affinity'] as const;

/** `pending false -> true, affinity 0 -> 1` (the fields of `physical`, trace-format §5). */
function describeDescChange(was: readonly number[] | undefined, now: readonly number[]): string {
  if (was === undefined) return 'a descriptor that did not exist';
  const show = (i: number, x: number): string => (i >= 2 && i <= 5 ? String(x === 1) : x === -1 ? 'none' : String(x));
  return DESC_FIELDS.flatMap((f, i) => (was[i] === now[i] ? [] : [`${f} ${show(i, was[i]!)} -> ${show(i, now[i]!)}`])).join(', ');
}

/** Does every word of `before` equal the same word of `now` (as `before.every` would say)? */
function sameWords(before: Uint32Array, now: Uint32Array): boolean {
  for (let i = 0; i < before.length; i++) if (before[i] !== now[i]) return false;
  return true;
}

// ----- P1: delivery -----

export interface DeliveryScenario {
  config: Config;
  /** INTID and 8-bit priority of each interrupt, in injection order. */
  irqs: { irq: number; priority: number }[];
  /** Inject the i-th interrupt before cycle `when[i]`. */
  when: number[];
  eoimode: 0 | 1;
}

/** A random delivery scenario: vCPU0 running on pCPU0 (SPIs target it by default), up to 24 distinct interrupts. */
export function deliveryScenario(seed: number): DeliveryScenario {
  const rng = new Rng(seed);
  const gic = rng.pick(['v2', 'v3'] as const);
  const nrLrs = rng.weighted([[4, rng.int(1, 4)], [1, rng.int(5, 16)]]);
  const nrSpis = rng.pick([32, 64, 960]);
  const config: Config = { gic, nr_lrs: nrLrs, pcpus: rng.int(1, 4), domains: [{ id: 1, vcpus: rng.int(1, 4), nr_spis: nrSpis }] };
  const pool = [...Array.from({ length: 16 }, (_, i) => i), ...Array.from({ length: 16 }, (_, i) => 16 + i), ...Array.from({ length: Math.min(nrSpis, 64) }, (_, i) => 32 + i)];
  const count = rng.int(1, 24);
  const irqs: { irq: number; priority: number }[] = [];
  const used = new Set<number>();
  while (irqs.length < count) {
    const irq = rng.pick(pool);
    if (used.has(irq)) continue;
    used.add(irq);
    // Below the guest's mask on both versions (v2 keeps pmr & 0xf8).
    irqs.push({ irq, priority: rng.pick([0x00, 0x40, 0x80, 0xa0, 0xa0, 0xc0, 0xf0, rng.int(0, 0xf7)]) });
  }
  const when = irqs.map(() => rng.weighted([[3, 0], [1, rng.int(1, 3)]]));
  return { config, irqs, when, eoimode: rng.pick([0, 1] as const) };
}

/** The bound P1 promises: every cycle drains nr_lrs LRs, plus the cycles injections spread over. */
export function deliveryBound(s: DeliveryScenario): number {
  return Math.ceil(s.irqs.length / s.config.nr_lrs) + Math.max(...s.when) + 1;
}

/**
 * Run a delivery scenario on vCPU0 (pCPU0): program priorities and enables through the
 * distributor, inject on schedule, and let the guest ack + EOI (+ DIR in EOI mode 1) until
 * nothing is left, each enter/exit a cycle. Left: why P1 fails (or a trace error, a bug).
 */
export function checkDelivery(s: DeliveryScenario, mutant: MutantName | null = null): E.Either<string, { cycles: number }> {
  const created = Machine.create(s.config, 'config', mutant);
  if (E.isLeft(created)) return E.left(created.left.join('; '));
  const m = created.right;
  let index = 0;
  const step = (u: Record<string, unknown>): Result => {
    const r = m.step(u, index++);
    if (E.isLeft(r)) throw new DeliveryError(`trace error in the delivery scenario: ${r.left}`);
    // A Xen crash is the model failing P1, not a broken scenario.
    if (m.crashed !== null) throw new DeliveryError(`the machine crashed: ${m.crashed.reason}`);
    return r.right;
  };
  try {
    step({ op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    for (const { irq, priority } of s.irqs) {
      step({ op: 'mmio', pcpu: 0, access: 'write', addr: toHex(GUEST_GICD_BASE + 0x400 + irq), size: 1, value: toHex(priority) });
      step({ op: 'mmio', pcpu: 0, access: 'write', addr: toHex(GUEST_GICD_BASE + 0x100 + 4 * (irq >> 5)), size: 4, value: toHex(2 ** (irq & 31)) });
    }
    const acked = new Set<number>();
    const bound = deliveryBound(s);
    let cycle = 0;
    for (; cycle < bound && acked.size < s.irqs.length; cycle++) {
      s.irqs.forEach(({ irq }, i) => {
        if (s.when[i] === cycle) step({ op: 'inject', pcpu: 0, domain: 1, vcpu: irq < 32 ? 0 : null, virq: irq });
      });
      step({ op: 'enter', pcpu: 0 });
      if (cycle === 0) {
        step({ op: 'pmr', pcpu: 0, value: 0xff });
        step({ op: 'eoimode', pcpu: 0, value: s.eoimode });
      }
      for (let guard = 0; guard < 64; guard++) {
        const intid = step({ op: 'ack', pcpu: 0 }).intid!;
        if (intid === 1023) break;
        acked.add(intid);
        step({ op: 'eoi', pcpu: 0, intid });
        if (s.eoimode === 1) step({ op: 'dir', pcpu: 0, intid });
      }
      step({ op: 'exit', pcpu: 0 });
    }
    const missing = s.irqs.filter(({ irq }) => !acked.has(irq)).map(({ irq }) => irq);
    if (missing.length > 0) return E.left(`not delivered within ${bound} enter/exit cycles: ${missing.join(', ')}`);
    return E.right({ cycles: cycle });
  } catch (e) {
    if (e instanceof DeliveryError) return E.left(e.message);
    throw e;
  }
}

class DeliveryError extends Error {}
