/**
 * Test support, not shipped: the invariant checker and the step-property monitor as they were
 * before issue 10 made them incremental, kept verbatim (only renamed and exported) as the
 * oracle of spec/checker-differential.spec.ts. The shipped checker must report exactly what
 * this one reports, after every step of every trace.
 */
import { GIC_INVALID_LR, MAX_SPIS } from '../src/arch/limits.js';
import { getField } from '../src/arch/lr.js';
import type { Machine, Result } from '../src/machine/machine.js';
import type { Op } from '../src/machine/ops.js';
import type { InvariantId, Violation } from '../src/check/invariants.js';
import type { PropertyFailure } from '../src/check/properties.js';
import { vgicGetTargetVcpu, vgicIsSpi } from '../src/xen/vgic.js';
import {
  GIC_IRQ_GUEST_ACTIVE, GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_MIGRATING, GIC_IRQ_GUEST_QUEUED,
  GIC_IRQ_GUEST_VISIBLE, listEmpty, listRecords, testBit, type Domain, type LrMask, type PendingIrq, type Vcpu,
} from '../src/xen/types.js';

/** Where a record lives, for messages. */
function label(d: Domain, p: PendingIrq, owner: Vcpu | null): string {
  return p.irq < 32 && owner !== null ? `d${d.id}v${owner.id}:irq ${p.irq}` : `d${d.id}:irq ${p.irq}`;
}

interface VcpuView {
  v: Vcpu;
  mask: LrMask;
  lrs: Uint32Array;
  inflight: PendingIrq[];
  lrPending: PendingIrq[];
}

function viewOf(m: Machine, v: Vcpu): VcpuView {
  const { iface, lrMask } = m.host.interfaceOf(v);
  return {
    v,
    mask: lrMask,
    lrs: iface.lrs,
    inflight: listRecords(v.inflightIrqs),
    lrPending: listRecords(v.lrPending),
  };
}

/** The rank target of an SPI record (vCPU id), or the owner of a private one; undefined without a rank. */
function targetOf(d: Domain, p: PendingIrq, owner: Vcpu | null): number | undefined {
  if (p.irq < 32) return owner!.id;
  return d.sharedIrqs[(p.irq >> 5) - 1]?.vcpu[p.irq & 31];
}

/**
 * What the exemptions need to remember across steps (an InvariantChecker keeps one; a
 * single checkState call starts from an empty one and still sees the current state).
 */
export class ReferenceHistory {
  /** SPI records seen in a Q34 state (linked on a vCPU other than their target, or on two
   * vCPUs' lists): such a record may sit in another vCPU's LR even after it is retargeted
   * back, until it has left every list and LR. */
  readonly q34Records = new Set<PendingIrq>();
  /** vCPUs whose lists or LRs a Q34 record touched: their LRs may have been overwritten by an
   * eviction that reused the record's (foreign) LR index. Never forgotten. */
  readonly q34Vcpus = new Set<Vcpu>();
  /** SPI records a vCPU held (lists or LRs) when it got CPU_ON with live state: they may stay
   * VISIBLE, ACTIVE or QUEUED with nothing behind them (Q37). Never forgotten. */
  readonly cpuOnRecords = new Set<PendingIrq>();
}

/**
 * Every state invariant (I1-I14, I16, I17) of a machine, with the exemptions of the header;
 * `history` is updated with what this state adds to them.
 */
export function referenceCheckState(m: Machine, history: ReferenceHistory = new ReferenceHistory()): Violation[] {
  const q34Tainted = history.q34Records;
  const out: Violation[] = [];
  const host = m.host;
  const nrLrs = host.nrLrs;
  const layout = host.layout;
  const virqMask = host.version === 'v2' ? 0x3ff : 0xffff;
  const add = (id: InvariantId, message: string, records: string[] = []): void => {
    out.push({ id, message, records });
  };

  for (const d of host.domains.values()) {
    const views = d.vcpus.map((v) => viewOf(m, v));
    const cpuOn = (v: Vcpu): boolean => m.cpuOnWithLiveState.has(v);
    // Which vCPU's lists each record is on.
    const onInflight = new Map<PendingIrq, Vcpu[]>();
    const onPending = new Map<PendingIrq, Vcpu[]>();
    for (const w of views) {
      for (const p of w.inflight) onInflight.set(p, [...(onInflight.get(p) ?? []), w.v]);
      for (const p of w.lrPending) onPending.set(p, [...(onPending.get(p) ?? []), w.v]);
    }
    const records: [PendingIrq, Vcpu | null][] = [];
    const owners = new Map<PendingIrq, Vcpu | null>();
    for (const v of d.vcpus) for (const p of v.pendingIrqs) { records.push([p, v]); owners.set(p, v); }
    for (const p of d.pendingIrqs) { records.push([p, null]); owners.set(p, null); }
    const lab = (p: PendingIrq): string => label(d, p, owners.get(p) ?? null);
    /** The vCPUs whose valid LRs hold `irq`. */
    const inLrsOf = (irq: number): Vcpu[] => views.filter((w) => {
      for (let i = 0; i < nrLrs; i++) if (getField(w.lrs, i, layout.state) !== 0 && getField(w.lrs, i, layout.virq) === (irq & virqMask)) return true;
      return false;
    }).map((w) => w.v);
    // Q34: an SPI linked on a vCPU that is not (any more) its target, or on two vCPUs' lists.
    for (const p of d.pendingIrqs) {
      const where = new Set([...(onInflight.get(p) ?? []), ...(onPending.get(p) ?? [])]);
      const target = targetOf(d, p, null);
      if (where.size > 1 || [...where].some((v) => v.id !== target)) q34Tainted.add(p);
      if (q34Tainted.has(p)) {
        for (const v of [...where, ...inLrsOf(p.irq)]) history.q34Vcpus.add(v);
        const t = target === undefined ? undefined : d.vcpus[target];
        if (t !== undefined) history.q34Vcpus.add(t);
      }
      // CPU_ON: SPIs on the lists or in the LRs of a vCPU that got CPU_ON with live state.
      if (!history.cpuOnRecords.has(p) && [...where, ...(p.status !== 0 ? inLrsOf(p.irq) : [])].some(cpuOn)) history.cpuOnRecords.add(p);
    }
    // An SPI left VISIBLE by CPU_ON, on the inflight list of a vCPU whose LR of its index does
    // not hold it: a Q34 record.
    for (const p of d.pendingIrqs) {
      if (!history.cpuOnRecords.has(p) || !testBit(p, GIC_IRQ_GUEST_VISIBLE) || q34Tainted.has(p) || p.lr >= nrLrs) continue;
      for (const v of onInflight.get(p) ?? []) {
        if (cpuOn(v) || getField(views[d.vcpus.indexOf(v)]!.lrs, p.lr, layout.virq) === (p.irq & virqMask)) continue;
        q34Tainted.add(p);
        history.q34Vcpus.add(v);
        const t = targetOf(d, p, null);
        const tv = t === undefined ? undefined : d.vcpus[t];
        if (tv !== undefined) history.q34Vcpus.add(tv);
      }
    }
    const q34Records = q34Tainted;
    const q34Vcpu = (v: Vcpu): boolean => history.q34Vcpus.has(v);
    const exemptCpuOn = (p: PendingIrq, owner: Vcpu | null): boolean =>
      owner !== null ? cpuOn(owner) : history.cpuOnRecords.has(p);

    for (const w of views) {
      const v = w.v;
      // I1
      for (const p of w.lrPending) {
        if (!w.inflight.includes(p) && !q34Records.has(p) && !q34Vcpu(v)) {
          add('I1', `d${d.id}v${v.id}: irq ${p.irq} is on lr_pending but not on inflight`, [lab(p)]);
        }
      }
      // I2 (not on a vCPU a Q34 record touched)
      for (const [name, list] of q34Vcpu(v) ? [] : [['inflight', w.inflight], ['lr_pending', w.lrPending]] as const) {
        for (let i = 1; i < list.length; i++) {
          if (list[i - 1]!.priority > list[i]!.priority) {
            add('I2', `d${d.id}v${v.id}: ${name} is out of order: irq ${list[i - 1]!.irq} (0x${list[i - 1]!.priority.toString(16)}) before irq ${list[i]!.irq} (0x${list[i]!.priority.toString(16)})`,
              [lab(list[i - 1]!), lab(list[i]!)]);
          }
        }
      }
      // I12
      if (hasBitAtOrAbove(w.mask, nrLrs)) {
        add('I12', `d${d.id}v${v.id}: lr_mask 0x${w.mask.toBigInt().toString(16)} has a bit at or above nr_lrs ${nrLrs}`);
      }
      // I13 (after CPU_ON the saved LRs survive while lr_mask is zeroed, so a re-injected
      // IRQ can be written into a second LR next to its stale copy)
      if (!cpuOn(v) && !q34Vcpu(v)) {
        for (const x of referenceLrsHoldingTwice(m, w.lrs)) add('I13', `d${d.id}v${v.id}: INTID ${x.virq} is in LR${x.first} and LR${x.second}`);
      }
      // I6 (converse): each set lr_mask bit has exactly one VISIBLE record with that lr.
      if (!cpuOn(v) && !q34Vcpu(v)) {
        for (let i = 0; i < nrLrs; i++) {
          if (!w.mask.test(i)) continue;
          const holders = w.inflight.filter((p) => testBit(p, GIC_IRQ_GUEST_VISIBLE) && p.lr === i);
          if (holders.length !== 1) {
            add('I6', `d${d.id}v${v.id}: lr_mask bit ${i} is set but ${holders.length} VISIBLE records have lr ${i}`, holders.map(lab));
          }
        }
      }
      // I16 (private rank)
      if (v.privateIrqs.vcpu.some((t) => t !== v.id)) add('I16', `d${d.id}v${v.id}: a private rank target is not ${v.id}`);
    }

    for (const [p, owner] of records) {
      const lab = label(d, p, owner);
      const infl = onInflight.get(p) ?? [];
      const pend = onPending.get(p) ?? [];
      const visible = testBit(p, GIC_IRQ_GUEST_VISIBLE);
      const exempt = exemptCpuOn(p, owner);
      // Q34's aftermath: a Q34 record, a private record of a vCPU one touched, a record on such
      // a vCPU's lists or in its LRs.
      const q34x = q34Records.has(p) || (owner !== null && q34Vcpu(owner)) || infl.some(q34Vcpu) || pend.some(q34Vcpu)
        || ((visible || testBit(p, GIC_IRQ_GUEST_ACTIVE)) && inLrsOf(p.irq).some(q34Vcpu));
      // I3
      if (infl.length > 1 || pend.length > 1) add('I3', `${lab} is on ${infl.length} inflight and ${pend.length} lr_pending lists`, [lab]);
      // I4
      if (visible && pend.length > 0 && !exempt && !q34x) add('I4', `${lab} is VISIBLE and on lr_pending`, [lab]);
      // I5
      if (visible && infl.length === 0 && !exempt && !q34x) add('I5', `${lab} is VISIBLE but on no inflight list`, [lab]);
      // I6: VISIBLE => lr_mask bit set and the LR holds the INTID, on the vCPU whose list it is on.
      if (visible && !exempt && !q34Records.has(p) && !infl.some(q34Vcpu)) {
        for (const v of infl) {
          const w = views[v.id]!;
          if (p.lr >= nrLrs) continue; // I7 reports it
          if (!w.mask.test(p.lr)) add('I6', `${lab} is VISIBLE with lr ${p.lr} but lr_mask bit ${p.lr} of d${d.id}v${v.id} is clear`, [lab]);
          else if (getField(w.lrs, p.lr, layout.virq) !== (p.irq & virqMask)) {
            add('I6', `${lab} is VISIBLE with lr ${p.lr} but LR${p.lr} of d${d.id}v${v.id} holds INTID ${getField(w.lrs, p.lr, layout.virq)}`, [lab]);
          }
        }
      }
      // I7
      if (visible && p.lr >= nrLrs && !exempt) add('I7', `${lab} is VISIBLE with lr ${p.lr} (nr_lrs ${nrLrs})`, [lab]);
      if (!visible && p.lr !== 0 && p.lr !== GIC_INVALID_LR) add('I7', `${lab} is not VISIBLE but has lr ${p.lr}`, [lab]);
      // I8
      if (infl.length > 0 && !visible && !testBit(p, GIC_IRQ_GUEST_QUEUED) && !exempt && !q34x) add('I8', `${lab} is inflight, not VISIBLE and not QUEUED`, [lab]);
      // I9
      if (testBit(p, GIC_IRQ_GUEST_ACTIVE) && !visible && !exempt && !q34x) add('I9', `${lab} is ACTIVE but not VISIBLE`, [lab]);
      // I10
      const rank = owner !== null ? owner.privateIrqs : d.sharedIrqs[(p.irq >> 5) - 1];
      const bit = rank !== undefined && ((rank.ienable >>> (p.irq & 31)) & 1) === 1;
      // (A record without a rank is I17's to report.)
      if (rank !== undefined && bit !== testBit(p, GIC_IRQ_GUEST_ENABLED)) add('I10', `${lab}: ENABLED is ${!bit} but the ienable bit is ${bit}`, [lab]);
      // I11
      if (testBit(p, GIC_IRQ_GUEST_MIGRATING) && !exempt && (p.desc === null || infl.length === 0)) {
        add('I11', `${lab} is MIGRATING ${p.desc === null ? 'without a physical IRQ' : 'but on no inflight list'}`, [lab]);
      }
      // I14
      if (pend.length > 0 && !exempt && !q34x && (visible || !testBit(p, GIC_IRQ_GUEST_QUEUED))) {
        add('I14', `${lab} is on lr_pending but ${visible ? 'VISIBLE' : 'not QUEUED'}`, [lab]);
      }
    }

    // I16 (SPIs) and I17
    for (const r of d.sharedIrqs) {
      r.vcpu.forEach((t, i) => {
        if (t >= d.vcpus.length) add('I16', `d${d.id}: SPI ${32 * r.index + i} targets vCPU ${t}, which does not exist`);
      });
    }
    if (d.nrSpis % 32 !== 0 || d.nrSpis > MAX_SPIS || d.sharedIrqs.length !== d.nrSpis / 32 || d.pendingIrqs.length !== d.nrSpis) {
      add('I17', `d${d.id}: nr_spis ${d.nrSpis} with ${d.sharedIrqs.length} ranks and ${d.pendingIrqs.length} SPI records`);
    }
  }
  return out;
}

/** Each INTID held by a second valid LR of one LR file (I13, and property P2). */
export function referenceLrsHoldingTwice(m: Machine, lrs: Uint32Array): { virq: number; first: number; second: number }[] {
  const { layout, nrLrs } = m.host;
  const out: { virq: number; first: number; second: number }[] = [];
  const seen = new Map<number, number>();
  for (let i = 0; i < nrLrs; i++) {
    if (getField(lrs, i, layout.state) === 0) continue;
    const virq = getField(lrs, i, layout.virq);
    const first = seen.get(virq);
    if (first !== undefined) out.push({ virq, first, second: i });
    else seen.set(virq, i);
  }
  return out;
}

function hasBitAtOrAbove(mask: LrMask, n: number): boolean {
  return (mask.toBigInt() >> BigInt(n)) !== 0n;
}

/**
 * Follows one machine step by step: state invariants after every step, I15/I18 after the
 * steps they are about, and I19 against what each offline vCPU held when it went offline.
 */
export class ReferenceInvariantChecker {
  /** Records each offline vCPU was linked to when it went offline. */
  private readonly offline = new Map<Vcpu, Set<PendingIrq>>();
  /** What the Q34 and CPU_ON exemptions remember (see checkState). */
  readonly history = new ReferenceHistory();
  /** The SPI records on each vCPU's lists at the previous check. */
  private readonly held = new Map<Vcpu, PendingIrq[]>();

  /** SPI records in a Q34 state that have not yet settled. */
  get q34Tainted(): Set<PendingIrq> {
    return this.history.q34Records;
  }

  constructor(readonly machine: Machine) {
    this.noteOffline();
  }

  private noteOffline(): void {
    for (const d of this.machine.host.domains.values()) {
      for (const v of d.vcpus) {
        if (v.online) this.offline.delete(v);
        else if (!this.offline.has(v)) this.offline.set(v, new Set([...listRecords(v.inflightIrqs), ...listRecords(v.lrPending)]));
      }
    }
  }

  /** Check after `op` was applied (pass null to check the state alone). */
  check(op: Op | null): Violation[] {
    const m = this.machine;
    // CPU_ON empties the lists before this check sees them: take what the vCPU held at the
    // previous check (an SPI in a Q34 state may be in another vCPU's LR, not in its own).
    if (op !== null && op.op === 'vcpu_on') {
      const v = m.host.domains.get(op.domain)?.vcpus[op.vcpu];
      if (v !== undefined && m.cpuOnWithLiveState.has(v)) for (const p of this.held.get(v) ?? []) this.history.cpuOnRecords.add(p);
    }
    const out = referenceCheckState(m, this.history);
    for (const d of m.host.domains.values()) {
      for (const v of d.vcpus) this.held.set(v, [...listRecords(v.inflightIrqs), ...listRecords(v.lrPending)].filter((p) => p.irq >= 32));
    }
    // A tainted record settles once it is on no list and in no LR (not VISIBLE).
    for (const p of this.q34Tainted) {
      if (listEmpty(p.inflight) && listEmpty(p.lrQueue) && !testBit(p, GIC_IRQ_GUEST_VISIBLE)) this.q34Tainted.delete(p);
    }
    if (op !== null && (op.op === 'enter' || op.op === 'exit')) {
      const cpu = m.host.pcpus[op.pcpu]!;
      const v = cpu.current;
      if (op.op === 'enter' && v !== null && cpu.cpuif.uie) {
        const full = cpu.lrMask.allFull(m.host.nrLrs);
        const pending = listRecords(v.lrPending).length > 0;
        if (!full || !pending) {
          out.push({ id: 'I15', message: `pCPU ${cpu.id}: UIE set after the return to d${v.domain.id}v${v.id} with ${pending ? '' : 'empty lr_pending and '}${full ? 'every LR used' : 'a free LR'}`, records: [] });
        }
      }
      if (op.op === 'exit') {
        if (cpu.cpuif.uie) out.push({ id: 'I15', message: `pCPU ${cpu.id}: UIE still set after a trap`, records: [] });
        if (v !== null && !m.cpuOnWithLiveState.has(v)) {
          for (let i = 0; i < m.host.nrLrs; i++) {
            if (cpu.lrMask.test(i) && getField(cpu.cpuif.lrs, i, m.host.layout.state) === 0) {
              out.push({ id: 'I18', message: `pCPU ${cpu.id}: lr_mask bit ${i} of d${v.domain.id}v${v.id} is set but LR${i} is invalid after the trap`, records: [] });
            }
          }
        }
      }
    }
    for (const [v, held] of this.offline) {
      if (v.online) continue;
      for (const p of new Set([...listRecords(v.inflightIrqs), ...listRecords(v.lrPending)])) {
        // Q34: enabling an SPI retargeted while inflight raises it on the (offline) new
        // target without going through vgic_inject_irq's online check.
        if (!held.has(p) && !this.q34Tainted.has(p)) out.push({ id: 'I19', message: `d${v.domain.id}v${v.id} is offline but gained irq ${p.irq} on its lists`, records: [label(v.domain, p, p.irq < 32 ? v : null)] });
      }
    }
    this.noteOffline();
    return out;
  }
}

/** Follows one machine: call `before(op)` then `after(op, result)` around every step. */
export class ReferencePropertyMonitor {
  /** Guest acknowledgements per record. */
  private readonly acks = new Map<PendingIrq, number>();
  private savedLrs = new Map<Vcpu, Uint32Array>();
  private snapshotBefore: string | null = null;

  constructor(readonly machine: Machine, readonly q34Tainted: ReadonlySet<PendingIrq> = new Set(), readonly q34Vcpus: ReadonlySet<Vcpu> = new Set()) {}

  /** Record what the properties compare against, just before `op` runs. */
  before(op: Op): void {
    const m = this.machine;
    this.savedLrs = new Map();
    for (const d of m.host.domains.values()) {
      for (const v of d.vcpus) if (v.runningOn === null) this.savedLrs.set(v, v.saved.lrs.slice());
    }
    this.snapshotBefore = this.mustBeIgnored(op) ? JSON.stringify(m.snapshot()) : null;
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

  /** The property failures of the step just applied. */
  after(op: Op, result: Result): PropertyFailure[] {
    const m = this.machine;
    const out: PropertyFailure[] = [];
    if (m.crashed !== null) return out;
    const host = m.host;
    // P6
    if (this.snapshotBefore !== null && result.outcome === 'ok' && JSON.stringify(m.snapshot()) !== this.snapshotBefore) {
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
      for (const v of d.vcpus) {
        // P3
        const before = this.savedLrs.get(v);
        if (before !== undefined && v.runningOn === null && !before.every((w, i) => w === v.saved.lrs[i])) {
          out.push({ id: 'P3', message: `d${d.id}v${v.id} does not run, yet its LRs changed during ${op.op}` });
        }
        // P2
        const q34 = d.pendingIrqs.some((p) => this.q34Tainted.has(p));
        if (!m.cpuOnWithLiveState.has(v) && !q34 && !this.q34Vcpus.has(v)) {
          for (const x of referenceLrsHoldingTwice(m, host.interfaceOf(v).iface.lrs)) {
            out.push({ id: 'P2', message: `d${d.id}v${v.id} has INTID ${x.virq} in two LRs` });
          }
        }
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
