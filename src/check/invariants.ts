/**
 * The structural invariants I1-I19 of the reference (§7) as named checks over a Machine.
 * A check returns the violated ids with the records involved. Two families of exemptions
 * apply, as the reference and our findings require:
 *  - "except after CPU_ON": vCPUs that got PSCI CPU_ON while they still had vGIC state
 *    (Machine.cpuOnWithLiveState), their private records and the SPIs they held on their lists
 *    or in their LRs at that time skip I5, I6, I8, I9, I11 and I14 (Q37's partial wipe), and
 *    I4 too: a record left VISIBLE by the wipe and injected again is queued on lr_pending
 *    while still VISIBLE, and I13: the saved LRs survive while lr_mask is zeroed, so the
 *    same IRQ injected again lands in a second LR (the reference lists neither; the
 *    fuzzer found both);
 *  - Q34: an SPI retargeted while inflight stays on the old vCPU's lists and may be raised
 *    on the new one, so for a record linked on a vCPU other than its rank target, the
 *    per-vCPU I1 is skipped (finding 4 of issue 2; the reference's §7 says otherwise). While
 *    a domain has such a record, I6 and I13 are skipped for the whole domain: the eviction
 *    walk can pick the record as a victim and reuse "its" LR index, which is an LR of
 *    another vCPU, overwriting whatever IRQ this vCPU had there (found by the fuzzer).
 * I15, I18 and I19 are about moments (after enter, after exit) and history (what an offline
 * vCPU held when it went offline): an InvariantChecker follows the machine step by step.
 *
 * The checker runs after every step of a campaign, so it is written for speed (issue 10):
 * one walk of the vCPU lists marks each record found there in scratch arrays the checker
 * keeps (stamped with a per-check epoch, so nothing is cleared or allocated per step); the
 * per-record invariants look closely only at records that can hold state (on a list, VISIBLE,
 * ACTIVE or MIGRATING, lr other than 0 and 0xff), every other record costs a status and an
 * ienable bit (I10); labels and messages are built only for a violation. Its verdicts are
 * those of the straightforward formulation it replaced (spec/checker-differential.spec.ts
 * compares both after every step of random traces, mutants and corrupted states included).
 */
import { GIC_INVALID_LR, LPI_OFFSET, MAX_SPIS } from '../arch/limits.js';
import { getField, type LrLayout } from '../arch/lr.js';
import type { Machine } from '../machine/machine.js';
import type { Op } from '../machine/ops.js';
import {
  GIC_IRQ_GUEST_ACTIVE, GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_MIGRATING, GIC_IRQ_GUEST_PRISTINE_LPI, GIC_IRQ_GUEST_QUEUED,
  GIC_IRQ_GUEST_VISIBLE, listEmpty, listRecords, type Domain, type ListNode, type LrMask, type PendingIrq, type Vcpu,
} from '../xen/types.js';

export const INVARIANT_IDS = [
  'I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9', 'I10', 'I11', 'I12', 'I13', 'I14', 'I15', 'I16', 'I17', 'I18', 'I19',
  'L1', 'L2', 'L3',
] as const;
export type InvariantId = (typeof INVARIANT_IDS)[number];

export const INVARIANTS: Record<InvariantId, string> = {
  I1: 'lr_pending is a subset of inflight (per vCPU)',
  I2: 'inflight and lr_pending are sorted by priority',
  I3: 'a record is on at most one inflight list and at most one lr_pending list',
  I4: 'a VISIBLE record is not on lr_pending',
  I5: 'a VISIBLE record is on an inflight list',
  I6: 'VISIBLE records and lr_mask bits match one to one, and the LR holds the record\'s INTID',
  I7: 'a record that is not VISIBLE has lr 0 (never in an LR) or 0xff; a VISIBLE one has lr < nr_lrs',
  I8: 'an inflight record that is not VISIBLE is QUEUED',
  I9: 'an ACTIVE record is VISIBLE',
  I10: 'ENABLED mirrors the ienable bit of its rank',
  I11: 'a MIGRATING record has a physical IRQ and is on an inflight list',
  I12: 'lr_mask has no bit at or above nr_lrs',
  I13: 'no INTID is in two valid LRs of one vCPU',
  I14: 'a record on lr_pending is QUEUED and not VISIBLE',
  I15: 'UIE after a return to the guest only with lr_pending non-empty and every LR used; UIE clear after a trap',
  I16: 'private rank targets are the owning vCPU; SPI targets are existing vCPU ids',
  I17: 'nr_spis is a multiple of 32, at most 960, with a rank and a record for every SPI',
  I18: 'after a trap, every set lr_mask bit has a pending or active LR',
  I19: 'an offline vCPU gains nothing on its lists',
  L1: 'every pend_lpi_tree entry is the record of the INTID it is keyed by (but for keys a re-mapping left behind)',
  L2: 'an LPI record on a vCPU list is the pend_lpi_tree record of its INTID',
  L3: 'a PRISTINE_LPI record has never been written into an LR (it is not VISIBLE)',
};

export interface Violation {
  id: InvariantId;
  message: string;
  /** Records involved, as `d1v0:irq 32` (private) or `d1:irq 40` (SPI). */
  records: string[];
}

/** Where a record lives, for messages. */
function label(d: Domain, p: PendingIrq, owner: Vcpu | null): string {
  return p.irq < 32 && owner !== null ? `d${d.id}v${owner.id}:irq ${p.irq}` : `d${d.id}:irq ${p.irq}`;
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
export class ExemptionHistory {
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

const QUEUED = 1 << GIC_IRQ_GUEST_QUEUED;
const ACTIVE = 1 << GIC_IRQ_GUEST_ACTIVE;
const VISIBLE = 1 << GIC_IRQ_GUEST_VISIBLE;
const ENABLED = 1 << GIC_IRQ_GUEST_ENABLED;
const MIGRATING = 1 << GIC_IRQ_GUEST_MIGRATING;
/** Status bits with which a record on no list can still break a per-record invariant. */
const STATEFUL = VISIBLE | ACTIVE | MIGRATING;

/** A vCPU's LR file: live while it runs, saved otherwise (Host.interfaceOf without the object). */
function lrsOf(m: Machine, v: Vcpu): Uint32Array {
  return v.runningOn === null ? v.saved.lrs : m.host.pcpus[v.runningOn]!.cpuif.lrs;
}

/** A vCPU's lr_mask: this_cpu(lr_mask) while it runs, the saved one otherwise. */
function maskOf(m: Machine, v: Vcpu): LrMask {
  return v.runningOn === null ? v.savedLrMask : m.host.pcpus[v.runningOn]!.lrMask;
}

/** Does a valid LR of `lrs` hold `virq` (already masked to the LR's INTID width)? */
function lrHolds(lrs: Uint32Array, nrLrs: number, layout: LrLayout, virq: number): boolean {
  for (let i = 0; i < nrLrs; i++) if (getField(lrs, i, layout.state) !== 0 && getField(lrs, i, layout.virq) === virq) return true;
  return false;
}

/** Is some INTID in two valid LRs of `lrs` (I13, P2)? Without allocating; `lrsHoldingTwice` names them. */
export function lrsHoldTwice(m: Machine, lrs: Uint32Array): boolean {
  const { layout, nrLrs } = m.host;
  const state = layout.state;
  const virq = layout.virq;
  for (let i = 1; i < nrLrs; i++) {
    if (getField(lrs, i, state) === 0) continue;
    const x = getField(lrs, i, virq);
    for (let j = 0; j < i; j++) if (getField(lrs, j, state) !== 0 && getField(lrs, j, virq) === x) return true;
  }
  return false;
}

/** Each INTID held by a second valid LR of one LR file (I13, and property P2). */
export function lrsHoldingTwice(m: Machine, lrs: Uint32Array): { virq: number; first: number; second: number }[] {
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

/**
 * Are the 32 records `arr[k..k+31]` INTIDs `irq..irq+31`, on no list (checked by the caller),
 * without VISIBLE, ACTIVE and MIGRATING, with lr 0 or 0xff, and ENABLED exactly where
 * `ienable` has a bit?
 */
function quiet(arr: readonly PendingIrq[], k: number, irq: number, ienable: number): boolean {
  let enabled = 0;
  let odd = 0;
  for (let i = 0; i < 32; i++) {
    const p = arr[k + i]!;
    const st = p.status;
    const lr = p.lr;
    enabled |= ((st >> GIC_IRQ_GUEST_ENABLED) & 1) << i;
    odd |= (st & STATEFUL) | (p.irq ^ (irq + i)) | (lr === 0 || lr === GIC_INVALID_LR ? 0 : 1);
  }
  return odd === 0 && enabled === (ienable | 0);
}

function hasBitAtOrAbove(mask: LrMask, n: number): boolean {
  if (n >= 64) return false;
  if (n >= 32) return (mask.hi >>> (n - 32)) !== 0;
  return (mask.lo >>> n) !== 0 || mask.hi !== 0;
}

/** The SPI records a vCPU's lists held at the last check (`n` of `recs`; the array is reused). */
interface Held {
  recs: PendingIrq[];
  n: number;
}

/**
 * The scratch of the state invariants. Records of the domain being checked are numbered:
 * vCPU i's private records from `base[i]`, the SPIs from `spiBase`, in array order. The list
 * walk stamps every record it meets with the current epoch and notes on which vCPUs' lists
 * (positions in `d.vcpus`) it is; a record whose stamp is older is on no list of the domain.
 * A record has two list nodes, so it can be on at most two lists: two positions per kind
 * are enough.
 */
class StateScan {
  private epoch = 0;
  private stamp = new Int32Array(0);
  private nInfl = new Uint8Array(0);
  private nPend = new Uint8Array(0);
  private infl0 = new Int32Array(0);
  private infl1 = new Int32Array(0);
  private pend0 = new Int32Array(0);
  private pend1 = new Int32Array(0);
  private touched = new Int32Array(0);
  /** The epoch at which some record of group `idx >> 5` (a rank, when aligned) was on a list. */
  private groupStamp = new Int32Array(0);
  private nTouched = 0;
  private base = new Int32Array(8);
  private spiBase = 0;
  /** VISIBLE records per LR index of one vCPU's inflight list (I6 converse). */
  private readonly holders = new Int32Array(64);
  /** Records of a domain with an ITS met on its lists that are not its SGI/PPI/SPI records (LPI records). */
  private lpiSeen: { p: PendingIrq; vi: number; pending: boolean }[] = [];

  private ensure(records: number): void {
    if (this.stamp.length >= records) return;
    const n = Math.max(records, 2 * this.stamp.length);
    this.stamp = new Int32Array(n);
    this.nInfl = new Uint8Array(n);
    this.nPend = new Uint8Array(n);
    this.infl0 = new Int32Array(n);
    this.infl1 = new Int32Array(n);
    this.pend0 = new Int32Array(n);
    this.pend1 = new Int32Array(n);
    this.touched = new Int32Array(n);
    this.groupStamp = new Int32Array((n >> 5) + 1);
  }

  /** Every state invariant of `m`; `held` (if given) receives the SPI records on each vCPU's lists. */
  run(m: Machine, history: ExemptionHistory, held: Map<Vcpu, Held> | null): Violation[] {
    const out: Violation[] = [];
    for (const d of m.host.domains.values()) this.domain(m, d, history, held, out);
    return out;
  }

  /** The scratch index of record `p` of `d` met on a list of vCPU `vi`; -1 if `d` has no such record. */
  private indexOf(d: Domain, p: PendingIrq, vi: number): number {
    const irq = p.irq;
    if (irq < 32) {
      if (d.vcpus[vi]!.pendingIrqs[irq] === p) return this.base[vi]! + irq;
      for (let u = 0; u < d.vcpus.length; u++) if (d.vcpus[u]!.pendingIrqs[irq] === p) return this.base[u]! + irq;
    } else if (d.pendingIrqs[irq - 32] === p) return this.spiBase + irq - 32;
    // Not where its INTID says (a corrupted state): look everywhere.
    for (let u = 0; u < d.vcpus.length; u++) {
      const k = d.vcpus[u]!.pendingIrqs.indexOf(p);
      if (k >= 0) return this.base[u]! + k;
    }
    const k = d.pendingIrqs.indexOf(p);
    return k >= 0 ? this.spiBase + k : -1;
  }

  /** The label of a record met on a list of vCPU `vi` (named by its owner, not by that vCPU). */
  private labelOf(d: Domain, p: PendingIrq, vi: number): string {
    const idx = this.indexOf(d, p, vi);
    let owner: Vcpu | null = null;
    if (idx >= 0 && idx < this.spiBase) {
      let u = 0;
      while (this.base[u + 1]! <= idx) u++;
      owner = d.vcpus[u]!;
    }
    return label(d, p, owner);
  }

  private note(idx: number, vi: number, pending: boolean): void {
    if (this.stamp[idx] !== this.epoch) {
      this.stamp[idx] = this.epoch;
      this.groupStamp[idx >> 5] = this.epoch;
      this.nInfl[idx] = 0;
      this.nPend[idx] = 0;
      this.touched[this.nTouched++] = idx;
    }
    if (pending) {
      const c = this.nPend[idx]!;
      if (c === 0) this.pend0[idx] = vi;
      else if (c === 1) this.pend1[idx] = vi;
      if (c < 255) this.nPend[idx] = c + 1;
    } else {
      const c = this.nInfl[idx]!;
      if (c === 0) this.infl0[idx] = vi;
      else if (c === 1) this.infl1[idx] = vi;
      if (c < 255) this.nInfl[idx] = c + 1;
    }
  }

  /** Walk one list of vCPU `vi`, noting its records (and its SPIs into `h`). */
  private walk(d: Domain, head: ListNode, vi: number, pending: boolean, h: Held | undefined): void {
    for (let n = head.next; n !== head; n = n.next) {
      const p = n.owner!;
      const idx = this.indexOf(d, p, vi);
      if (idx >= 0) this.note(idx, vi, pending);
      else if (d.hasIts) this.lpiSeen.push({ p, vi, pending });
      if (h !== undefined && p.irq >= 32) h.recs[h.n++] = p;
    }
  }

  /** Is the record `idx` (stamped) on the inflight list of vCPU `vi`? */
  private onInflightOf(d: Domain, p: PendingIrq, vi: number): boolean {
    const idx = this.indexOf(d, p, vi);
    if (idx < 0) {
      const head = d.vcpus[vi]!.inflightIrqs;
      for (let n = head.next; n !== head; n = n.next) if (n.owner === p) return true;
      return false;
    }
    if (this.stamp[idx] !== this.epoch) return false;
    const c = this.nInfl[idx]!;
    return (c > 0 && this.infl0[idx] === vi) || (c > 1 && this.infl1[idx] === vi);
  }

  /** Is the stamped record `idx` linked on two vCPUs, or on one other than `target` (Q34)? */
  private strays(d: Domain, idx: number, target: number | undefined): boolean {
    let first = -1;
    const ni = this.nInfl[idx]!;
    const np = this.nPend[idx]!;
    for (let j = 0; j < 4; j++) {
      const pos = j === 0 ? (ni > 0 ? this.infl0[idx]! : -1) : j === 1 ? (ni > 1 ? this.infl1[idx]! : -1)
        : j === 2 ? (np > 0 ? this.pend0[idx]! : -1) : (np > 1 ? this.pend1[idx]! : -1);
      if (pos < 0) continue;
      if (first >= 0 && pos !== first) return true;
      first = pos;
      if (d.vcpus[pos]!.id !== target) return true;
    }
    return false;
  }

  /** The vCPU positions of the lists the record `idx` is on (-1 for none), one per call. */
  private where(idx: number, j: number): number {
    if (this.stamp[idx] !== this.epoch) return -1;
    const ni = this.nInfl[idx]!;
    const np = this.nPend[idx]!;
    return j === 0 ? (ni > 0 ? this.infl0[idx]! : -1) : j === 1 ? (ni > 1 ? this.infl1[idx]! : -1)
      : j === 2 ? (np > 0 ? this.pend0[idx]! : -1) : (np > 1 ? this.pend1[idx]! : -1);
  }

  private domain(m: Machine, d: Domain, history: ExemptionHistory, held: Map<Vcpu, Held> | null, out: Violation[]): void {
    const host = m.host;
    const nrLrs = host.nrLrs;
    const layout = host.layout;
    const virqMask = host.version === 'v2' ? 0x3ff : 0xffff;
    const vcpus = d.vcpus;
    const nv = vcpus.length;
    const cpuOnSet = m.cpuOnWithLiveState;
    const q34 = history.q34Records;

    // Number the records and start a new epoch.
    if (this.base.length < nv + 1) this.base = new Int32Array(2 * (nv + 1));
    let total = 0;
    for (let vi = 0; vi < nv; vi++) {
      this.base[vi] = total;
      total += vcpus[vi]!.pendingIrqs.length;
    }
    this.base[nv] = total;
    this.spiBase = total;
    total += d.pendingIrqs.length;
    this.ensure(total);
    if (++this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.groupStamp.fill(0);
      this.epoch = 1;
    }
    this.nTouched = 0;
    if (this.lpiSeen.length > 0) this.lpiSeen = [];

    // Which vCPU's lists each record is on.
    for (let vi = 0; vi < nv; vi++) {
      const v = vcpus[vi]!;
      let h: Held | undefined;
      if (held !== null) {
        h = held.get(v);
        if (h === undefined) held.set(v, h = { recs: [], n: 0 });
        h.n = 0;
      }
      this.walk(d, v.inflightIrqs, vi, false, h);
      this.walk(d, v.lrPending, vi, true, h);
    }

    // Q34: an SPI linked on a vCPU that is not (any more) its target, or on two vCPUs' lists.
    for (let t = 0; t < this.nTouched; t++) {
      const idx = this.touched[t]!;
      if (idx < this.spiBase) continue;
      const p = d.pendingIrqs[idx - this.spiBase]!;
      if (this.strays(d, idx, targetOf(d, p, null))) q34.add(p);
    }
    if (q34.size > 0) {
      for (const p of q34) {
        const k = p.irq >= 32 && d.pendingIrqs[p.irq - 32] === p ? p.irq - 32 : d.pendingIrqs.indexOf(p);
        if (k < 0) continue;
        const idx = this.spiBase + k;
        for (let j = 0; j < 4; j++) {
          const pos = this.where(idx, j);
          if (pos >= 0) history.q34Vcpus.add(vcpus[pos]!);
        }
        for (const w of vcpus) if (lrHolds(lrsOf(m, w), nrLrs, layout, p.irq & virqMask)) history.q34Vcpus.add(w);
        const target = targetOf(d, p, null);
        const tv = target === undefined ? undefined : vcpus[target];
        if (tv !== undefined) history.q34Vcpus.add(tv);
      }
    }
    // An LPI linked on a vCPU other than its lpi_vcpu_id: an instance MOVI left behind, or one
    // a later INV/INT raised on the vCPU its collection was mapped to since (MAPC does not move
    // pending LPIs). A Q34 record, marked here, before the per-vCPU checks, as the SPIs above.
    if (this.lpiSeen.length > 0) markLpiStrays(d, this.lpiSeen, history);
    // CPU_ON: SPIs on the lists or in the LRs of a vCPU that got CPU_ON with live state.
    let anyCpuOn = false;
    if (cpuOnSet.size > 0) for (let vi = 0; vi < nv && !anyCpuOn; vi++) anyCpuOn = cpuOnSet.has(vcpus[vi]!);
    if (anyCpuOn) {
      for (let k = 0; k < d.pendingIrqs.length; k++) {
        const p = d.pendingIrqs[k]!;
        const idx = this.spiBase + k;
        const listed = this.stamp[idx] === this.epoch;
        if ((!listed && p.status === 0) || history.cpuOnRecords.has(p)) continue;
        let hit = false;
        for (let j = 0; j < 4 && !hit; j++) {
          const pos = this.where(idx, j);
          hit = pos >= 0 && cpuOnSet.has(vcpus[pos]!);
        }
        if (!hit && p.status !== 0) {
          for (let vi = 0; vi < nv && !hit; vi++) {
            const w = vcpus[vi]!;
            hit = cpuOnSet.has(w) && lrHolds(lrsOf(m, w), nrLrs, layout, p.irq & virqMask);
          }
        }
        if (hit) history.cpuOnRecords.add(p);
      }
    }
    // An SPI a vCPU held in its LR when it got CPU_ON stays VISIBLE with its `lr` (Q37) while
    // its lists are emptied; retargeted and asserted again it joins the new target's inflight
    // list still VISIBLE, with an `lr` naming the old vCPU's LR. Its state is then split
    // between two vCPUs as a Q34 record's is (the new target's eviction walk can reuse that LR
    // index, found by vgic fuzz --mmio): it counts as one, on the vCPU where this LR index does
    // not hold it.
    if (history.cpuOnRecords.size > 0) {
      for (const p of history.cpuOnRecords) {
        if ((p.status & VISIBLE) === 0 || q34.has(p) || p.lr >= nrLrs) continue;
        const k = p.irq >= 32 && d.pendingIrqs[p.irq - 32] === p ? p.irq - 32 : -1;
        if (k < 0) continue;
        const idx = this.spiBase + k;
        for (let j = 0; j < 2; j++) {
          const pos = this.where(idx, j);
          if (pos < 0) continue;
          const w = vcpus[pos]!;
          if (cpuOnSet.has(w) || getField(lrsOf(m, w), p.lr, layout.virq) === (p.irq & virqMask)) continue;
          q34.add(p);
          history.q34Vcpus.add(w);
          const t = targetOf(d, p, null);
          const tv = t === undefined ? undefined : vcpus[t];
          if (tv !== undefined) history.q34Vcpus.add(tv);
        }
      }
    }

    for (let vi = 0; vi < nv; vi++) {
      const v = vcpus[vi]!;
      const mask = maskOf(m, v);
      const lrs = lrsOf(m, v);
      // I1
      for (let n = v.lrPending.next; n !== v.lrPending; n = n.next) {
        const p = n.owner!;
        if (!this.onInflightOf(d, p, vi) && !(q34.size > 0 && q34.has(p)) && !(history.q34Vcpus.size > 0 && history.q34Vcpus.has(v))) {
          out.push({ id: 'I1', message: `d${d.id}v${v.id}: irq ${p.irq} is on lr_pending but not on inflight`, records: [this.labelOf(d, p, vi)] });
        }
      }
      // I2 (not on a vCPU a Q34 record touched: a Q34 record injected again through its new
      // target gets a fresh priority while it stays linked at its old place on a list)
      if (!(history.q34Vcpus.size > 0 && history.q34Vcpus.has(v))) {
        this.sorted(d, v, vi, v.inflightIrqs, 'inflight', out);
        this.sorted(d, v, vi, v.lrPending, 'lr_pending', out);
      }
      // I12
      if (hasBitAtOrAbove(mask, nrLrs)) {
        out.push({ id: 'I12', message: `d${d.id}v${v.id}: lr_mask 0x${mask.toBigInt().toString(16)} has a bit at or above nr_lrs ${nrLrs}`, records: [] });
      }
      const judged = !(cpuOnSet.size > 0 && cpuOnSet.has(v)) && !(history.q34Vcpus.size > 0 && history.q34Vcpus.has(v));
      // I13 (after CPU_ON the saved LRs survive while lr_mask is zeroed, so a re-injected
      // IRQ can be written into a second LR next to its stale copy)
      if (judged && lrsHoldTwice(m, lrs)) {
        for (const x of lrsHoldingTwice(m, lrs)) out.push({ id: 'I13', message: `d${d.id}v${v.id}: INTID ${x.virq} is in LR${x.first} and LR${x.second}`, records: [] });
      }
      // I6 (converse): each set lr_mask bit has exactly one VISIBLE record with that lr.
      if (judged && !mask.isZero()) {
        const holders = this.holders;
        holders.fill(0, 0, nrLrs);
        for (let n = v.inflightIrqs.next; n !== v.inflightIrqs; n = n.next) {
          const p = n.owner!;
          if ((p.status & VISIBLE) !== 0 && p.lr < nrLrs) holders[p.lr]! += 1;
        }
        for (let i = 0; i < nrLrs; i++) {
          if (!mask.test(i) || holders[i] === 1) continue;
          // A vLPI whose mapping went away (DISCARD, MAPD V=0) or was made again (PRISTINE)
          // stays in its LR with no VISIBLE record until the next sync drops it (§C.7).
          if (holders[i] === 0 && d.hasIts && getField(lrs, i, layout.virq) >= LPI_OFFSET) continue;
          const records: string[] = [];
          for (let n = v.inflightIrqs.next; n !== v.inflightIrqs; n = n.next) {
            const p = n.owner!;
            if ((p.status & VISIBLE) !== 0 && p.lr === i) records.push(this.labelOf(d, p, vi));
          }
          out.push({ id: 'I6', message: `d${d.id}v${v.id}: lr_mask bit ${i} is set but ${records.length} VISIBLE records have lr ${i}`, records });
        }
      }
      // I16 (private rank)
      const targets = v.privateIrqs.vcpu;
      for (let i = 0; i < targets.length; i++) {
        if (targets[i] !== v.id) {
          out.push({ id: 'I16', message: `d${d.id}v${v.id}: a private rank target is not ${v.id}`, records: [] });
          break;
        }
      }
    }

    // The per-record invariants.
    for (let vi = 0; vi < nv; vi++) {
      const v = vcpus[vi]!;
      this.records(m, d, v.pendingIrqs, this.base[vi]!, 0, v, history, out);
    }
    this.records(m, d, d.pendingIrqs, this.spiBase, 32, null, history, out);

    // The LPI records (a domain with an ITS): L1-L3 and the list invariants.
    if (d.hasIts) this.lpis(m, d, history, out);

    // I16 (SPIs) and I17
    for (const r of d.sharedIrqs) {
      const targets = r.vcpu;
      for (let i = 0; i < targets.length; i++) {
        if (targets[i]! >= nv) out.push({ id: 'I16', message: `d${d.id}: SPI ${32 * r.index + i} targets vCPU ${targets[i]}, which does not exist`, records: [] });
      }
    }
    if (d.nrSpis % 32 !== 0 || d.nrSpis > MAX_SPIS || d.sharedIrqs.length !== d.nrSpis / 32 || d.pendingIrqs.length !== d.nrSpis) {
      out.push({ id: 'I17', message: `d${d.id}: nr_spis ${d.nrSpis} with ${d.sharedIrqs.length} ranks and ${d.pendingIrqs.length} SPI records`, records: [] });
    }
  }

  /**
   * The per-record invariants of the records `arr` (scratch indexes from `b`, INTIDs from
   * `irq0` when in place), 32 at a time: a record on no list, without VISIBLE, ACTIVE and
   * MIGRATING and with lr 0 or 0xff can only break I10, so a rank of such records whose
   * ENABLED bits equal its ienable word has nothing to report.
   */
  private records(m: Machine, d: Domain, arr: readonly PendingIrq[], b: number, irq0: number, owner: Vcpu | null, history: ExemptionHistory, out: Violation[]): void {
    let k = 0;
    if ((b & 31) === 0) {
      for (; k + 32 <= arr.length; k += 32) {
        const rank = owner !== null ? owner.privateIrqs : d.sharedIrqs[k >> 5];
        if (rank !== undefined && this.groupStamp[(b + k) >> 5] !== this.epoch && quiet(arr, k, irq0 + k, rank.ienable)) continue;
        for (let i = k; i < k + 32; i++) this.one(m, d, arr[i]!, owner, b + i, history, out);
      }
    }
    for (; k < arr.length; k++) this.one(m, d, arr[k]!, owner, b + k, history, out);
  }

  /** The per-record invariants of one record. */
  private one(m: Machine, d: Domain, p: PendingIrq, owner: Vcpu | null, idx: number, history: ExemptionHistory, out: Violation[]): void {
    const st = p.status;
    if (this.stamp[idx] !== this.epoch && (st & STATEFUL) === 0 && (p.lr === 0 || p.lr === GIC_INVALID_LR)) {
      // (A record without a rank is I17's to report.)
      const rank = owner !== null ? owner.privateIrqs : d.sharedIrqs[(p.irq >> 5) - 1];
      if (rank !== undefined && (((rank.ienable >>> (p.irq & 31)) & 1) === 1) !== ((st & ENABLED) !== 0)) this.i10(d, p, owner, rank.ienable, out);
    } else this.record(m, d, p, owner, idx, history, out);
  }

  /** I2 for one list of vCPU `vi`. */
  private sorted(d: Domain, v: Vcpu, vi: number, head: ListNode, name: string, out: Violation[]): void {
    if (head.next === head) return;
    for (let prev = head.next, n = prev.next; n !== head; prev = n, n = n.next) {
      const a = prev.owner!;
      const b = n.owner!;
      if (a.priority > b.priority) {
        out.push({
          id: 'I2',
          message: `d${d.id}v${v.id}: ${name} is out of order: irq ${a.irq} (0x${a.priority.toString(16)}) before irq ${b.irq} (0x${b.priority.toString(16)})`,
          records: [this.labelOf(d, a, vi), this.labelOf(d, b, vi)],
        });
      }
    }
  }

  private i10(d: Domain, p: PendingIrq, owner: Vcpu | null, ienable: number, out: Violation[]): void {
    const bit = ((ienable >>> (p.irq & 31)) & 1) === 1;
    const lab = label(d, p, owner);
    out.push({ id: 'I10', message: `${lab}: ENABLED is ${!bit} but the ienable bit is ${bit}`, records: [lab] });
  }

  /** I3-I11 and I14 for a record that can hold state (`idx` its scratch index). */
  private record(m: Machine, d: Domain, p: PendingIrq, owner: Vcpu | null, idx: number, history: ExemptionHistory, out: Violation[]): void {
    const nrLrs = m.host.nrLrs;
    const layout = m.host.layout;
    const virqMask = m.host.version === 'v2' ? 0x3ff : 0xffff;
    const listed = this.stamp[idx] === this.epoch;
    const infl = listed ? this.nInfl[idx]! : 0;
    const pend = listed ? this.nPend[idx]! : 0;
    const st = p.status;
    const visible = (st & VISIBLE) !== 0;
    const exempt = owner !== null ? m.cpuOnWithLiveState.has(owner) : history.cpuOnRecords.has(p);
    // Q34's aftermath (see q34Touched): I4, I5, I8, I9 and I14 do not hold for it.
    const q34x = (history.q34Records.size > 0 || history.q34Vcpus.size > 0) && this.q34Touched(m, d, p, owner, idx, history);
    // I3
    if (infl > 1 || pend > 1) this.bad(out, d, p, owner, 'I3', ` is on ${infl} inflight and ${pend} lr_pending lists`);
    // I4
    if (visible && pend > 0 && !exempt && !q34x) this.bad(out, d, p, owner, 'I4', ' is VISIBLE and on lr_pending');
    // I5
    if (visible && infl === 0 && !exempt && !q34x) this.bad(out, d, p, owner, 'I5', ' is VISIBLE but on no inflight list');
    // I6: VISIBLE => lr_mask bit set and the LR holds the INTID, on the vCPU whose list it is on.
    if (visible && !exempt && !history.q34Records.has(p) && !this.onQ34Vcpu(d, idx, infl, history)) {
      for (let j = 0; j < infl && j < 2; j++) {
        const v = d.vcpus[j === 0 ? this.infl0[idx]! : this.infl1[idx]!]!;
        const w = d.vcpus[v.id]!;
        if (p.lr >= nrLrs) continue; // I7 reports it
        const mask = maskOf(m, w);
        const lrs = lrsOf(m, w);
        if (!mask.test(p.lr)) this.bad(out, d, p, owner, 'I6', ` is VISIBLE with lr ${p.lr} but lr_mask bit ${p.lr} of d${d.id}v${v.id} is clear`);
        else if (getField(lrs, p.lr, layout.virq) !== (p.irq & virqMask)) {
          this.bad(out, d, p, owner, 'I6', ` is VISIBLE with lr ${p.lr} but LR${p.lr} of d${d.id}v${v.id} holds INTID ${getField(lrs, p.lr, layout.virq)}`);
        }
      }
    }
    // I7
    if (visible && p.lr >= nrLrs && !exempt) this.bad(out, d, p, owner, 'I7', ` is VISIBLE with lr ${p.lr} (nr_lrs ${nrLrs})`);
    if (!visible && p.lr !== 0 && p.lr !== GIC_INVALID_LR) this.bad(out, d, p, owner, 'I7', ` is not VISIBLE but has lr ${p.lr}`);
    // I8
    if (infl > 0 && !visible && (st & QUEUED) === 0 && !exempt && !q34x) this.bad(out, d, p, owner, 'I8', ' is inflight, not VISIBLE and not QUEUED');
    // I9
    if ((st & ACTIVE) !== 0 && !visible && !exempt && !q34x) this.bad(out, d, p, owner, 'I9', ' is ACTIVE but not VISIBLE');
    // I10
    const rank = owner !== null ? owner.privateIrqs : d.sharedIrqs[(p.irq >> 5) - 1];
    const bit = rank !== undefined && ((rank.ienable >>> (p.irq & 31)) & 1) === 1;
    // (A record without a rank is I17's to report.)
    if (rank !== undefined && bit !== ((st & ENABLED) !== 0)) this.bad(out, d, p, owner, 'I10', `: ENABLED is ${!bit} but the ienable bit is ${bit}`);
    // I11
    if ((st & MIGRATING) !== 0 && !exempt && (p.desc === null || infl === 0)) {
      this.bad(out, d, p, owner, 'I11', ` is MIGRATING ${p.desc === null ? 'without a physical IRQ' : 'but on no inflight list'}`);
    }
    // I14
    if (pend > 0 && !exempt && !q34x && (visible || (st & QUEUED) === 0)) this.bad(out, d, p, owner, 'I14', ` is on lr_pending but ${visible ? 'VISIBLE' : 'not QUEUED'}`);
  }

  /**
   * The LPI records of a domain with an ITS: the pend_lpi_tree records and any other record
   * met on its vCPUs' lists that is not one of its SGI/PPI/SPI records. L1 (tree keys), L2
   * (a listed LPI record is the tree's), L3 (PRISTINE_LPI never VISIBLE), and I3-I9, I11, I14
   * as for the other records (I10 does not apply: an LPI's enable bit comes from the property
   * table, cached when the ITS reads it). Exemptions: a domain with a vCPU that got CPU_ON
   * with live state (as for its private records), and an LPI record linked on a vCPU other
   * than its lpi_vcpu_id (MOVI leaves a pending instance where it is; it is then treated like
   * a Q34 record: I1, I4-I6, I8, I9, I11, I14 for it, and I6 and I13 on the vCPUs it touched).
   */
  private lpis(m: Machine, d: Domain, history: ExemptionHistory, out: Violation[]): void {
    const nrLrs = m.host.nrLrs;
    const layout = m.host.layout;
    const lab = (p: PendingIrq): string => `d${d.id}:lpi ${p.irq}`;
    const bad = (id: InvariantId, p: PendingIrq, message: string): void => {
      out.push({ id, message: `${lab(p)}${message}`, records: [lab(p)] });
    };
    // L1
    for (const [key, p] of d.pendLpiTree) {
      if (p.irq !== key && !d.lpiStaleKeys.has(key)) out.push({ id: 'L1', message: `d${d.id}: pend_lpi_tree key ${key} holds the record of INTID ${p.irq}`, records: [lab(p)] });
    }
    // Where each LPI record is linked.
    const where = new Map<PendingIrq, { infl: number[]; pend: number[] }>();
    for (const p of d.pendLpiTree.values()) where.set(p, { infl: [], pend: [] });
    for (const { p, vi, pending } of this.lpiSeen) {
      let w = where.get(p);
      if (w === undefined) where.set(p, w = { infl: [], pend: [] });
      (pending ? w.pend : w.infl).push(vi);
    }
    // L2
    for (const { p, vi } of this.lpiSeen) {
      if (d.pendLpiTree.get(p.irq) !== p) {
        bad('L2', p, ` is on a list of d${d.id}v${d.vcpus[vi]!.id} but pend_lpi_tree ${d.pendLpiTree.has(p.irq) ? 'holds another record for it' : 'has no record for it'}`);
      }
    }
    let exempt = false;
    for (const v of d.vcpus) if (m.cpuOnWithLiveState.has(v)) exempt = true;
    for (const [p, w] of where) {
      const st = p.status;
      const visible = (st & VISIBLE) !== 0;
      const infl = w.infl.length;
      const pend = w.pend.length;
      // An instance left behind by MOVI: a Q34 record.
      const strays = [...w.infl, ...w.pend].some((vi) => d.vcpus[vi]!.id !== p.lpiVcpuId);
      if (strays) {
        history.q34Records.add(p);
        for (const vi of [...w.infl, ...w.pend]) history.q34Vcpus.add(d.vcpus[vi]!);
        const t = d.vcpus[p.lpiVcpuId];
        if (t !== undefined) history.q34Vcpus.add(t);
      }
      // L3
      if ((st & (1 << GIC_IRQ_GUEST_PRISTINE_LPI)) !== 0 && visible) bad('L3', p, ' is PRISTINE_LPI and VISIBLE');
      if (infl > 1 || pend > 1) bad('I3', p, ` is on ${infl} inflight and ${pend} lr_pending lists`);
      if (visible && p.lr >= nrLrs && !exempt) bad('I7', p, ` is VISIBLE with lr ${p.lr} (nr_lrs ${nrLrs})`);
      if (!visible && p.lr !== 0 && p.lr !== GIC_INVALID_LR) bad('I7', p, ` is not VISIBLE but has lr ${p.lr}`);
      // A MOVI'd instance can be raised on the new vCPU (INV, INT) while the old one still
      // holds it: on one vCPU's lr_pending and in the other's LR, like a Q34 record.
      if (exempt || history.q34Records.has(p)) continue;
      if (visible && pend > 0) bad('I4', p, ' is VISIBLE and on lr_pending');
      if (visible && infl === 0) bad('I5', p, ' is VISIBLE but on no inflight list');
      if (visible && p.lr < nrLrs && !history.q34Records.has(p)) {
        for (const vi of w.infl) {
          const v = d.vcpus[vi]!;
          if (history.q34Vcpus.has(v)) continue;
          const mask = maskOf(m, v);
          const lrs = lrsOf(m, v);
          if (!mask.test(p.lr)) bad('I6', p, ` is VISIBLE with lr ${p.lr} but lr_mask bit ${p.lr} of d${d.id}v${v.id} is clear`);
          else if (getField(lrs, p.lr, layout.virq) !== (p.irq & 0xffff)) {
            bad('I6', p, ` is VISIBLE with lr ${p.lr} but LR${p.lr} of d${d.id}v${v.id} holds INTID ${getField(lrs, p.lr, layout.virq)}`);
          }
        }
      }
      if (infl > 0 && !visible && (st & QUEUED) === 0) bad('I8', p, ' is inflight, not VISIBLE and not QUEUED');
      if ((st & ACTIVE) !== 0 && !visible) bad('I9', p, ' is ACTIVE but not VISIBLE');
      if ((st & MIGRATING) !== 0) bad('I11', p, ' is MIGRATING without a physical IRQ');
      if (pend > 0 && (visible || (st & QUEUED) === 0)) bad('I14', p, ` is on lr_pending but ${visible ? 'VISIBLE' : 'not QUEUED'}`);
    }
  }

  /** A violation of a per-record invariant: `message` follows the record's label. */
  private bad(out: Violation[], d: Domain, p: PendingIrq, owner: Vcpu | null, id: InvariantId, message: string): void {
    const lab = label(d, p, owner);
    out.push({ id, message: `${lab}${message}`, records: [lab] });
  }

  /**
   * Is record `p` within Q34's aftermath: a Q34 record itself, a private record of a vCPU a
   * Q34 record touched, a record on such a vCPU's lists, or a record in an LR of one? Two
   * things Xen does to such records break I4, I5, I8, I9 and I14 (found by vgic fuzz --mmio):
   *  - the record's one set of status bits serves two vCPUs: the new target raises it into its
   *    LR (clearing QUEUED) while it is still on the old vCPU's inflight list, where the old
   *    vCPU's eviction walk can take it as a victim (QUEUED, onto the old vCPU's lr_pending);
   *    the new target's next sync of its still-pending LR then clears QUEUED again;
   *  - a re-assertion through the new target runs gic_update_one_lr on that vCPU with the LR
   *    index the record got on the old one: whatever the new target holds in that LR (an
   *    empty LR reads as INTID 0) is processed as if its LR had drained or changed.
   */
  private q34Touched(m: Machine, d: Domain, p: PendingIrq, owner: Vcpu | null, idx: number, history: ExemptionHistory): boolean {
    if (history.q34Records.has(p)) return true;
    const touched = history.q34Vcpus;
    if (touched.size === 0) return false;
    if (owner !== null && touched.has(owner)) return true;
    for (let j = 0; j < 4; j++) {
      const pos = this.where(idx, j);
      if (pos >= 0 && touched.has(d.vcpus[pos]!)) return true;
    }
    if ((p.status & (VISIBLE | ACTIVE)) === 0) return false;
    const virq = p.irq & (m.host.version === 'v2' ? 0x3ff : 0xffff);
    for (const w of touched) if (w.domain === d && lrHolds(lrsOf(m, w), m.host.nrLrs, m.host.layout, virq)) return true;
    return false;
  }

  /** Is the record `idx` on the inflight list of a vCPU a Q34 record touched? */
  private onQ34Vcpu(d: Domain, idx: number, infl: number, history: ExemptionHistory): boolean {
    if (history.q34Vcpus.size === 0) return false;
    for (let j = 0; j < infl && j < 2; j++) if (history.q34Vcpus.has(d.vcpus[j === 0 ? this.infl0[idx]! : this.infl1[idx]!]!)) return true;
    return false;
  }
}

/**
 * Every state invariant (I1-I14, I16, I17) of a machine, with the exemptions of the header;
 * `history` is updated with what this state adds to them.
 */
export function checkState(m: Machine, history: ExemptionHistory = new ExemptionHistory()): Violation[] {
  return SCAN.run(m, history, null);
}

/**
 * The one scratch every check uses: a check runs to its end without calling out, and each
 * domain check starts a new epoch, so checkers of different machines can share it (and a
 * campaign does not allocate it again for every trace).
 */
const SCAN = new StateScan();

/** The records on a vCPU's lists. */
function recordsOn(v: Vcpu): Set<PendingIrq> {
  return new Set([...listRecords(v.inflightIrqs), ...listRecords(v.lrPending)]);
}

/**
 * Follows one machine step by step: state invariants after every step, I15/I18 after the
 * steps they are about, and I19 against what each offline vCPU held when it went offline.
 */
export class InvariantChecker {
  /** Records each offline vCPU was linked to when it went offline. */
  private readonly offline = new Map<Vcpu, Set<PendingIrq>>();
  /** What the Q34 and CPU_ON exemptions remember (see checkState). */
  readonly history = new ExemptionHistory();
  /** The SPI records on each vCPU's lists at the previous check. */
  private readonly held = new Map<Vcpu, Held>();

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
        if (v.online) {
          if (this.offline.size > 0) this.offline.delete(v);
        } else if (!this.offline.has(v)) this.offline.set(v, recordsOn(v));
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
      const h = v === undefined ? undefined : this.held.get(v);
      if (v !== undefined && h !== undefined && m.cpuOnWithLiveState.has(v)) for (let i = 0; i < h.n; i++) this.history.cpuOnRecords.add(h.recs[i]!);
    }
    if (op !== null && op.op === 'domain_destroy') this.forgetDestroyed();
    const out = SCAN.run(m, this.history, this.held);
    // A tainted record settles once it is on no list and in no LR (not VISIBLE).
    if (this.q34Tainted.size > 0) {
      for (const p of this.q34Tainted) {
        if (listEmpty(p.inflight) && listEmpty(p.lrQueue) && (p.status & VISIBLE) === 0) this.q34Tainted.delete(p);
      }
    }
    if (op !== null && (op.op === 'enter' || op.op === 'exit')) {
      const cpu = m.host.pcpus[op.pcpu]!;
      const v = cpu.current;
      if (op.op === 'enter' && v !== null && cpu.cpuif.uie) {
        const full = cpu.lrMask.allFull(m.host.nrLrs);
        const pending = !listEmpty(v.lrPending);
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
    if (this.offline.size > 0) {
      for (const [v, held] of this.offline) if (!v.online) this.gained(v, held, out);
    }
    this.noteOffline();
    return out;
  }

  /**
   * After a domain_destroy (trace-format §3.6): forget the vCPUs and records of domains that
   * are no longer live, so nothing refers to a destroyed domain (a new domain with the same id
   * has vCPUs and records of its own).
   */
  private forgetDestroyed(): void {
    const host = this.machine.host;
    const liveVcpu = (v: Vcpu): boolean => host.domains.get(v.domain.id) === v.domain;
    const liveRecords = new Set<PendingIrq>();
    for (const d of host.domains.values()) {
      for (const p of d.pendingIrqs) liveRecords.add(p);
      for (const p of d.pendLpiTree.values()) liveRecords.add(p);
      for (const v of d.vcpus) for (const p of v.pendingIrqs) liveRecords.add(p);
    }
    for (const v of [...this.offline.keys()]) if (!liveVcpu(v)) this.offline.delete(v);
    for (const v of [...this.held.keys()]) if (!liveVcpu(v)) this.held.delete(v);
    for (const v of [...this.history.q34Vcpus]) if (!liveVcpu(v)) this.history.q34Vcpus.delete(v);
    for (const p of [...this.history.q34Records]) if (!liveRecords.has(p)) this.history.q34Records.delete(p);
    for (const p of [...this.history.cpuOnRecords]) if (!liveRecords.has(p)) this.history.cpuOnRecords.delete(p);
  }

  /** I19 for an offline vCPU: each record on its lists it did not hold when it went offline, once. */
  private gained(v: Vcpu, held: Set<PendingIrq>, out: Violation[]): void {
    const reported = this.gainedOn(v, v.inflightIrqs, held, null, out);
    this.gainedOn(v, v.lrPending, held, reported, out);
  }

  /** I19 for one list; returns the records reported so far (null: none). */
  private gainedOn(v: Vcpu, head: ListNode, held: Set<PendingIrq>, reported: PendingIrq[] | null, out: Violation[]): PendingIrq[] | null {
    for (let n = head.next; n !== head; n = n.next) {
      const p = n.owner!;
      // Q34: enabling an SPI retargeted while inflight raises it on the (offline) new
      // target without going through vgic_inject_irq's online check.
      if (held.has(p) || this.q34Tainted.has(p) || (reported !== null && reported.includes(p))) continue;
      (reported ??= []).push(p);
      out.push({ id: 'I19', message: `d${v.domain.id}v${v.id} is offline but gained irq ${p.irq} on its lists`, records: [label(v.domain, p, p.irq < 32 ? v : null)] });
    }
    return reported;
  }
}

/** One line per violation. */
export function formatViolations(vs: readonly Violation[]): string {
  return vs.map((x) => `${x.id} (${INVARIANTS[x.id]}): ${x.message}`).join('\n');
}

/**
 * The LPI records linked on a vCPU other than their lpi_vcpu_id (Q34 records, §C.7): each, the
 * vCPUs whose lists hold it and the vCPU it belongs to join the Q34 history.
 */
function markLpiStrays(d: Domain, seen: readonly { p: PendingIrq; vi: number }[], history: ExemptionHistory): void {
  let strays: Set<PendingIrq> | null = null;
  for (const { p, vi } of seen) {
    if (d.vcpus[vi]!.id !== p.lpiVcpuId) (strays ??= new Set()).add(p);
  }
  if (strays === null) return;
  for (const { p, vi } of seen) if (strays.has(p)) history.q34Vcpus.add(d.vcpus[vi]!);
  for (const p of strays) {
    history.q34Records.add(p);
    const t = d.vcpus[p.lpiVcpuId];
    if (t !== undefined) history.q34Vcpus.add(t);
  }
}
