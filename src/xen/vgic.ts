/**
 * Mirror of xen/arch/arm/vgic.c: ranks, pending_irq lookup, injection, enable/disable,
 * set-pending, migration, SGI routing and vIRQ allocation (reference §1-§3).
 */
import { isLpi } from '../arch/intid.js';
import {
  GIC_INVALID_LR, IRQS_PER_RANK, NR_GIC_SGI, NR_LOCAL_IRQS, VGIC_SPI_LIMIT, maxVcpusFor, roundUpToRank,
} from '../arch/limits.js';
import { LR_STATE_PENDING, clearLr, getField } from '../arch/lr.js';
import { architectural } from './divergences.js';
import { mutated } from './mutants.js';
import {
  gicAddToLrPending, gicClearPendingIrqs, gicRaiseGuestIrq, gicRaiseInflightIrq, gicRemoveFromLrPending, insertInflight,
} from './gic-vgic.js';
import {
  Domain, GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_MIGRATING, GIC_IRQ_GUEST_QUEUED, GIC_IRQ_GUEST_VISIBLE,
  INVALID_VCPU_ID, PendingIrq, Rank, Vcpu, XenCrash, clearBit, listDelInit, listEmpty, setBit, testBit, type Host, type Pcpu,
} from './types.js';

/** GUEST_EVTCHN_PPI (§2.2). */
export const GUEST_EVTCHN_PPI = 31;

/** GICD_CTLR reset value of a vGICv3 distributor: ARE_NS (§1.1). */
export const VGICD_CTLR_DEFAULT_V3 = 0x10;

/** vgic_rank_init (§1.2): all targets point at `vcpu`; priorities, enables and icfg zero. */
export function vgicRankInit(index: number, vcpu: number): Rank {
  const rank = new Rank(index);
  rank.vcpu.fill(vcpu);
  return rank;
}

/** vgic_init_pending_irq (§1.3): status 0, lr 0 (Q38), unlinked. */
export function vgicInitPendingIrq(virq: number): PendingIrq {
  return new PendingIrq(virq);
}

/** vgic_num_irqs: SPIs plus the 32 local IRQs. */
export function vgicNumIrqs(d: Domain): number {
  return d.nrSpis + NR_LOCAL_IRQS;
}

/** DOMAIN_NR_RANKS */
export function domainNrRanks(d: Domain): number {
  return Math.floor((d.nrSpis + 31) / 32);
}

/** vgic_is_valid_line (§3.20, no eSPI). */
export function vgicIsValidLine(d: Domain, virq: number): boolean {
  return virq < vgicNumIrqs(d);
}

/** vgic_is_spi */
export function vgicIsSpi(d: Domain, virq: number): boolean {
  return virq >= NR_LOCAL_IRQS && virq < vgicNumIrqs(d);
}

/**
 * domain_vgic_init (§2.3): round nr_spis up to 32, refuse more than 988, build ranks,
 * SPI records and the allocation bitmap with the SGIs reserved. Returns 0 or -EINVAL (as
 * the string errno).
 */
export function domainVgicInit(d: Domain, nrSpis: number): 0 | 'EINVAL' {
  d.ctlr = 0;
  const rounded = roundUpToRank(nrSpis);
  if (rounded > VGIC_SPI_LIMIT) return 'EINVAL';
  d.nrSpis = rounded;
  d.sharedIrqs = [];
  d.pendingIrqs = [];
  for (let i = 0; i < d.nrSpis; i++) d.pendingIrqs.push(vgicInitPendingIrq(i + NR_LOCAL_IRQS));
  for (let i = 0; i < domainNrRanks(d); i++) d.sharedIrqs.push(vgicRankInit(i + 1, 0));
  // handler->domain_init: the v3 distributor resets GICD_CTLR to ARE_NS.
  if (d.version === 'v3') d.ctlr = VGICD_CTLR_DEFAULT_V3;
  d.allocatedIrqs = new Uint32Array(Math.ceil(vgicNumIrqs(d) / 32));
  for (let i = 0; i < NR_GIC_SGI; i++) bitmapSet(d.allocatedIrqs, i);
  return 0;
}

/** vcpu_vgic_init (§1.4): private rank targeting itself, 32 local records, empty lists. */
export function vcpuVgicInit(v: Vcpu): void {
  v.privateIrqs = vgicRankInit(0, v.id);
  v.pendingIrqs.length = 0;
  for (let i = 0; i < NR_LOCAL_IRQS; i++) v.pendingIrqs.push(vgicInitPendingIrq(i));
}

/** Domain creation as far as the vGIC is concerned: limits of §2.3 and §2.4. */
export function createDomain(host: Host, id: number, nrVcpus: number, nrSpis: number, pcpus: number): Domain | 'EINVAL' {
  const maxVcpus = maxVcpusFor(host.version);
  if (nrVcpus < 1 || nrVcpus > maxVcpus) return 'EINVAL';
  const d = new Domain(id, host.version, nrVcpus, host);
  if (domainVgicInit(d, nrSpis) !== 0) return 'EINVAL';
  for (let i = 0; i < nrVcpus; i++) {
    const v = new Vcpu(d, i, host.nrLrs, pcpus);
    vcpuVgicInit(v);
    d.vcpus.push(v);
  }
  return d;
}

/** vgic_get_rank (§1.5): rank 0 is v's private rank; ranks beyond the SPIs are none. */
export function vgicGetRank(v: Vcpu, rank: number): Rank | null {
  if (rank === 0) return v.privateIrqs;
  if (rank <= domainNrRanks(v.domain)) return v.domain.sharedIrqs[rank - 1]!;
  return null;
}

/** vgic_rank_offset: rank of register n of a family with b bits per IRQ (§1.5). */
export function vgicRankOffset(v: Vcpu, b: number, n: number, s: number): Rank | null {
  return vgicGetRank(v, regRankNr(b, n >> s));
}

/** REG_RANK_NR(b, n): register number to rank number for b bits per interrupt. */
export function regRankNr(b: number, n: number): number {
  switch (b) {
    case 1: return n;
    case 2: return n >> 1;
    case 8: return n >> 3;
    case 16: return n >> 4;
    default: return n >> 5; // 32, and 64 (IROUTER: the caller already shifted n by 3)
  }
}

/** vgic_rank_irq */
export function vgicRankIrq(v: Vcpu, irq: number): Rank | null {
  return vgicGetRank(v, Math.floor(irq / IRQS_PER_RANK));
}

/** spi_to_pending: the domain's record for an SPI (no bounds check in Xen). */
export function spiToPending(d: Domain, irq: number): PendingIrq {
  if (irq < NR_LOCAL_IRQS) throw new XenCrash(`spi_to_pending: ASSERT(irq >= 32) failed for ${irq}`);
  const p = (mutated(d.host, 'spi-pending-wrong-domain') ? firstDomainWith(d, irq) : d).pendingIrqs[irq - NR_LOCAL_IRQS];
  if (p === undefined) {
    throw new XenCrash(`spi_to_pending: INTID ${irq} is beyond d${d.id}'s ${d.nrSpis} SPIs (out-of-bounds pending_irqs access)`);
  }
  return p;
}

/** For the cross-domain mutants: the host's domain of lowest id (where one global table would look). */
function firstDomain(d: Domain): Domain {
  let first = d;
  for (const x of d.host.domains.values()) if (x.id < first.id) first = x;
  return first;
}

/** For the mutant spi-pending-wrong-domain: the host's first domain if it has SPI `irq`, else d. */
function firstDomainWith(d: Domain, irq: number): Domain {
  const first = firstDomain(d);
  return irq - NR_LOCAL_IRQS < first.pendingIrqs.length ? first : d;
}

/** irq_to_pending (§1.3): private record, SPI record, or the LPI's record in pend_lpi_tree (§C.8). */
export function irqToPending(v: Vcpu, irq: number): PendingIrq | null {
  if (irq < NR_LOCAL_IRQS) return v.pendingIrqs[irq]!;
  if (isLpi(irq)) {
    // v2: lpi_to_pending BUG()s; v3: the tree (empty without an ITS).
    if (v.domain.version === 'v2') throw new XenCrash(`vgic_v2_lpi_to_pending: BUG() for LPI ${irq}`);
    return vgicV3LpiToPending(v.domain, irq);
  }
  return spiToPending(v.domain, irq);
}

/** vgic_v3_lpi_to_pending (§C.8): the record mapped to this vLPI, or null. */
export function vgicV3LpiToPending(d: Domain, lpi: number): PendingIrq | null {
  return d.pendLpiTree.get(lpi) ?? null;
}

/** vgic_v3_lpi_get_priority (§C.8): the cached priority; the record must exist (ASSERT). */
export function vgicV3LpiGetPriority(d: Domain, vlpi: number): number {
  const p = vgicV3LpiToPending(d, vlpi);
  if (p === null) throw new XenCrash(`vgic_v3_lpi_get_priority: ASSERT(p) failed for vLPI ${vlpi}`);
  return p.lpiPriority;
}

/**
 * vgic_init_pending_irq on a record that already exists (the LPI records of §C.7): zero it and
 * make its links empty. Xen does not unlink it first, so a record still on a vCPU list would
 * leave that list pointing at a self-linked node (a later walk never returns to its head):
 * that is a crash here.
 */
export function vgicReinitPendingIrq(p: PendingIrq, virq: number): void {
  if (!p.linksUninit && (!listEmpty(p.inflight) || !listEmpty(p.lrQueue))) {
    throw new XenCrash(`vgic_init_pending_irq: record of vLPI ${p.irq} is re-initialised as ${virq} while still on a vCPU list (list corruption)`);
  }
  p.status = 0;
  p.desc = null;
  p.lr = 0;
  p.priority = 0;
  p.lpiPriority = 0;
  p.irq = virq;
  p.lpiVcpuId = INVALID_VCPU_ID;
  p.linksUninit = false;
}

/** A list operation on a record whose links Xen never initialised dereferences NULL. */
export function checkLinks(p: PendingIrq, what: string): void {
  if (p.linksUninit) throw new XenCrash(`${what}: the pending_irq of a never-mapped event has NULL list links (NULL dereference)`);
}

/** vgic_get_target_vcpu: the vCPU named by the rank's target byte for virq. */
export function vgicGetTargetVcpu(v: Vcpu, virq: number): Vcpu {
  const rank = vgicRankIrq(v, virq);
  if (rank === null) throw new XenCrash(`vgic_get_target_vcpu: no rank for INTID ${virq} (NULL dereference)`);
  const target = v.domain.vcpus[rank.vcpu[virq % IRQS_PER_RANK]!];
  if (target === undefined) throw new XenCrash(`vgic_get_target_vcpu: rank target of INTID ${virq} is not a vCPU`);
  return target;
}

/** vgic_get_virq_priority: the rank byte, read without the rank lock (§3.1 step 7); an LPI's cached priority. */
export function vgicGetVirqPriority(v: Vcpu, virq: number): number {
  if (isLpi(virq)) return vgicV3LpiGetPriority(v.domain, virq);
  const rank = vgicRankIrq(v, virq);
  if (rank === null) throw new XenCrash(`vgic_get_virq_priority: no rank for INTID ${virq}`);
  return rank.priority[virq % IRQS_PER_RANK]!;
}

/** vcpu_kick (§0.2 item 5): the IPI itself is not modelled; the call is counted (Q15). */
export function vcpuKick(v: Vcpu): void {
  v.kicks += 1;
}

/**
 * vgic_inject_irq (§3.1): assert virq for v (or, when v is null, for the SPI's rank
 * target). Level low is ignored (Q2), an offline target drops it (Q8d), a re-assertion keeps
 * the captured priority (Q5), a disabled IRQ is remembered on inflight (Q7).
 */
export function vgicInjectIrq(cpu: Pcpu, d: Domain, vIn: Vcpu | null, virq: number, level: boolean): void {
  if (!level) {
    if (mutated(cpu.host, 'level-low-deasserts')) {
      const t = vIn ?? (vgicIsSpi(d, virq) ? vgicGetTargetVcpu(d.vcpus[0]!, virq) : null);
      const p = t === null ? null : irqToPending(t, virq);
      if (t !== null && p !== null) {
        clearBit(p, GIC_IRQ_GUEST_QUEUED);
        gicRemoveFromLrPending(t, p);
      }
    } else if (architectural(cpu.host, 'level-low-ignored')) {
      const t = vIn ?? (vgicIsSpi(d, virq) ? vgicGetTargetVcpu(d.vcpus[0]!, virq) : null);
      const p = t === null ? null : irqToPending(t, virq);
      if (p !== null) vgicWithdrawPending(d, p, false);
    }
    return;
  }
  let v = vIn;
  if (v === null) {
    if (!vgicIsSpi(d, virq)) throw new XenCrash(`vgic_inject_irq: ASSERT(vgic_is_spi(${virq})) failed`);
    v = vgicGetTargetVcpu(d.vcpus[0]!, virq);
  }
  const n = irqToPending(v, virq);
  if (n === null) return;
  if (!v.online && !mutated(cpu.host, 'inject-into-offline')) return;

  n.assertions += 1;
  setBit(n, GIC_IRQ_GUEST_QUEUED);
  if (!listEmpty(n.inflight)) {
    gicRaiseInflightIrq(cpu, v, virq);
  } else {
    const priority = vgicGetVirqPriority(v, virq);
    n.priority = priority;
    if (testBit(n, GIC_IRQ_GUEST_ENABLED)) gicRaiseGuestIrq(cpu, v, virq, priority);
    insertInflight(v, n);
  }
  vcpuKick(v);
}

/** vgic_enable_irqs (§3.13): newly enabled bits only, ascending. */
export function vgicEnableIrqs(cpu: Pcpu, v: Vcpu, mask: number, n: number): void {
  for (let i = 0; i < 32; i++) {
    if (((mask >>> i) & 1) === 0) continue;
    const irq = i + 32 * n;
    const target = vgicGetTargetVcpu(v, irq);
    const p = irqToPending(target, irq)!;
    setBit(p, GIC_IRQ_GUEST_ENABLED);
    if (!listEmpty(p.inflight) && (!testBit(p, GIC_IRQ_GUEST_VISIBLE) || mutated(cpu.host, 'enable-raises-visible'))) {
      gicRaiseGuestIrq(cpu, target, irq, p.priority);
    }
    if (p.desc !== null) {
      p.desc.setAffinity(target.processor);
      if (irq < NR_LOCAL_IRQS) throw new XenCrash(`vgic_enable_irqs: ASSERT(irq >= 32) failed for ${irq}`);
      // The trigger type is programmed only for the hardware domain, which is out of scope.
      p.desc.enable();
    }
  }
}

/** vgic_disable_irqs (§3.14, Q6): clear ENABLED and leave lr_pending; inflight and LR stay. */
export function vgicDisableIrqs(cpu: Pcpu, v: Vcpu, mask: number, n: number): void {
  for (let i = 0; i < 32; i++) {
    if (((mask >>> i) & 1) === 0) continue;
    const irq = i + 32 * n;
    const target = vgicGetTargetVcpu(v, irq);
    const p = irqToPending(target, irq)!;
    clearBit(p, GIC_IRQ_GUEST_ENABLED);
    gicRemoveFromLrPending(target, p);
    if (architectural(cpu.host, 'disabled-irq-stays-listed')) vgicWithdrawPending(v.domain, p, true);
    if (mutated(cpu.host, 'disable-drops-inflight') && !testBit(p, GIC_IRQ_GUEST_VISIBLE)) {
      clearBit(p, GIC_IRQ_GUEST_QUEUED);
      listDelInit(p.inflight);
    }
    p.desc?.disable();
  }
}

/** vgic_set_irqs_pending (§3.15, Q21): ISPENDR writes; SGIs included, hw SPIs pend physically. */
export function vgicSetIrqsPending(cpu: Pcpu, v: Vcpu, bits: number, rank: number): void {
  const isPrivate = rank === 0;
  for (let i = 0; i < 32; i++) {
    if (((bits >>> i) & 1) === 0) continue;
    const irq = i + 32 * rank;
    if (!isPrivate) {
      const p = spiToPending(v.domain, irq);
      if (p.desc !== null) {
        p.desc.pending = true;
        continue;
      }
    }
    vgicInjectIrq(cpu, v.domain, isPrivate ? v : null, irq, true);
  }
}

/** vgic_check_inflight_irqs_pending (§3.16, Q19): ICPENDR only warns. */
export function vgicCheckInflightIrqsPending(cpu: Pcpu, v: Vcpu, rank: number, bits: number): void {
  for (let i = 0; i < 32; i++) {
    if (((bits >>> i) & 1) === 0) continue;
    const irq = i + 32 * rank;
    const target = vgicGetTargetVcpu(v, irq);
    const p = irqToPending(target, irq);
    if (p !== null && !listEmpty(p.inflight)) {
      cpu.host.printk('warn', `d${v.domain.id}v${v.id} trying to clear pending interrupt ${irq}`);
      if (mutated(cpu.host, 'icpendr-clears-queued')) {
        clearBit(p, GIC_IRQ_GUEST_QUEUED);
        gicRemoveFromLrPending(target, p);
      } else if (architectural(cpu.host, 'icpendr-ignored')) {
        vgicWithdrawPending(v.domain, p, false);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Not Xen: helpers of the architectural switches (src/xen/divergences.ts). Xen never runs
// these; they give a machine whose variant turns a divergence to the architecture's side
// the other behaviour, keeping Xen's data structures consistent.

/** The vCPU whose inflight list holds p (an SPI may still sit on a former target's, Q34), or null. */
function inflightOwner(d: Domain, p: PendingIrq): Vcpu | null {
  if (listEmpty(p.inflight)) return null;
  for (const v of d.vcpus) {
    for (let n = v.inflightIrqs.next; n !== v.inflightIrqs; n = n.next) if (n === p.inflight) return v;
  }
  return null;
}

/**
 * Withdraw the pending state of virtual IRQ p: a queued assertion leaves lr_pending, an IRQ
 * that is only pending in an LR (not active, not a pass-through IRQ) leaves the LR (cleared,
 * its lr_mask bit freed, VISIBLE cleared). With `keepPending` (a disabled IRQ keeps its
 * pending state) it stays inflight with QUEUED, so enabling it delivers it; otherwise it
 * leaves inflight and QUEUED is cleared. Active IRQs and pass-through IRQs are left alone.
 */
export function vgicWithdrawPending(d: Domain, p: PendingIrq, keepPending: boolean): void {
  const v = inflightOwner(d, p);
  if (v === null || p.desc !== null) return;
  if (testBit(p, GIC_IRQ_GUEST_VISIBLE)) {
    const host = d.host;
    const { iface, lrMask } = host.interfaceOf(v);
    const lr = p.lr;
    if (lr === GIC_INVALID_LR || lr >= host.nrLrs || !lrMask.test(lr)) return;
    if (getField(iface.lrs, lr, host.layout.virq) !== p.irq) return;
    if (getField(iface.lrs, lr, host.layout.state) !== LR_STATE_PENDING) return;
    clearLr(iface.lrs, lr);
    lrMask.clear(lr);
    clearBit(p, GIC_IRQ_GUEST_VISIBLE);
    p.lr = GIC_INVALID_LR;
  }
  if (keepPending) {
    setBit(p, GIC_IRQ_GUEST_QUEUED);
  } else {
    vgicRemoveIrqFromQueues(v, p);
  }
}

/**
 * Re-prioritise the IRQs of word j of `rank` whose priority byte changed from `before`: an
 * inflight IRQ that is not in an LR takes the new priority and moves to its new place in
 * inflight and lr_pending. `v` is the vCPU whose rank 0 this is (the register's owner).
 */
export function vgicReprioritise(v: Vcpu, rank: Rank, j: number, before: number): void {
  const after = rank.ipriorityr(j);
  for (let b = 0; b < 4; b++) {
    if (((before >>> (8 * b)) & 0xff) === ((after >>> (8 * b)) & 0xff)) continue;
    const idx = 4 * j + b;
    const irq = rank.index * IRQS_PER_RANK + idx;
    const p = irqToPending(vgicGetTargetVcpu(v, irq), irq);
    if (p === null || testBit(p, GIC_IRQ_GUEST_VISIBLE)) continue;
    const owner = inflightOwner(v.domain, p);
    if (owner === null) continue;
    p.priority = rank.priority[idx]!;
    listDelInit(p.inflight);
    insertInflight(owner, p);
    if (!listEmpty(p.lrQueue)) {
      listDelInit(p.lrQueue);
      gicAddToLrPending(owner, p);
    }
  }
}

/** vgic_remove_irq_from_queues (§3.11). */
export function vgicRemoveIrqFromQueues(v: Vcpu, p: PendingIrq): void {
  checkLinks(p, 'vgic_remove_irq_from_queues');
  clearBit(p, GIC_IRQ_GUEST_QUEUED);
  listDelInit(p.inflight);
  gicRemoveFromLrPending(v, p);
}

/** vgic_clear_pending_irqs (§3.10, Q37): PSCI CPU_ON empties both lists, nothing else. */
export function vgicClearPendingIrqs(v: Vcpu): void {
  while (!listEmpty(v.inflightIrqs)) listDelInit(v.inflightIrqs.next);
  gicClearPendingIrqs(v);
}

/**
 * vgic_migrate_irq (§3.17): may the caller store the new target? Virtual SPIs always move
 * and leave their list state behind (Q34); hw IRQs follow the MIGRATING protocol (Q35, Q36).
 */
export function vgicMigrateIrq(cpu: Pcpu, oldV: Vcpu, newV: Vcpu, irq: number): boolean {
  const p = irqToPending(oldV, irq)!;
  if (p.desc === null) return true;
  if (testBit(p, GIC_IRQ_GUEST_MIGRATING)) {
    cpu.host.printk('warn', `irq ${irq} migration failed: requested while in progress`);
    return false;
  }
  if (listEmpty(p.inflight)) {
    p.desc.setAffinity(newV.processor);
    return true;
  }
  if (!listEmpty(p.lrQueue)) {
    vgicRemoveIrqFromQueues(oldV, p);
    p.desc.setAffinity(newV.processor);
    vgicInjectIrq(cpu, newV.domain, newV, irq, true);
    return true;
  }
  setBit(p, GIC_IRQ_GUEST_MIGRATING);
  return true;
}

/** arch_move_irqs (§3.18): physical affinity of v's SPIs follows v to its new pCPU. */
export function archMoveIrqs(v: Vcpu): void {
  const d = v.domain;
  for (let virq = NR_LOCAL_IRQS; virq < vgicNumIrqs(d); virq++) {
    const target = vgicGetTargetVcpu(v, virq);
    const p = irqToPending(target, virq)!;
    if (target === v && !testBit(p, GIC_IRQ_GUEST_MIGRATING)) p.desc?.setAffinity(v.processor);
  }
}

export type SgiMode = 'list' | 'others' | 'self';
export interface SgiTarget {
  aff1: number;
  list: number;
}

/** vgic_to_sgi (§3.19): deliver SGI `virq` by target list, to all others, or to self. */
export function vgicToSgi(cpu: Pcpu, v: Vcpu, sgir: bigint, mode: SgiMode | number, virq: number, target: SgiTarget): boolean {
  const d = v.domain;
  const current = cpu.current!;
  if (virq >= 16) throw new XenCrash(`vgic_to_sgi: ASSERT(virq < 16) failed for ${virq}`);
  switch (mode) {
    case 'list': {
      const base = target.aff1 << 4;
      for (let i = 0; i < 32; i++) {
        if (((target.list >>> i) & 1) === 0) continue;
        const id = base + i;
        const t = (mutated(cpu.host, 'sgi-list-wrong-domain') ? firstDomain(d) : d).vcpus[id];
        if (id >= d.maxVcpus || t === undefined || !t.online) {
          cpu.host.printk('warn', `vGIC: write 0x${sgir.toString(16)}, target->list=0x${target.list.toString(16)}, bad target vcpu${id}`);
          continue;
        }
        vgicInjectIrq(cpu, t.domain, t, virq, true);
      }
      return true;
    }
    case 'others':
      for (let i = 0; i < d.maxVcpus; i++) {
        const t = d.vcpus[i];
        if ((i !== current.id || mutated(cpu.host, 'sgi-others-includes-self')) && t !== undefined && t.online) vgicInjectIrq(cpu, d, t, virq, true);
      }
      return true;
    case 'self':
      vgicInjectIrq(cpu, d, current, virq, true);
      return true;
    default:
      cpu.host.printk('warn', `vGICD: GICD_SGIR write 0x${sgir.toString(16)} with unhandled mode ${mode}`);
      return false;
  }
}

/** vgic_evtchn_irq_pending (§3.12, Q17): true when the event-channel PPI is NOT inflight. */
export function vgicEvtchnIrqPending(v: Vcpu): boolean {
  return listEmpty(v.pendingIrqs[GUEST_EVTCHN_PPI]!.inflight);
}

// ---------------------------------------------------------------------------------------
// allocated_irqs bookkeeping (§3.20).

function bitmapTest(map: Uint32Array, bit: number): boolean {
  return ((map[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
}
function bitmapSet(map: Uint32Array, bit: number): void {
  map[bit >>> 5] = (map[bit >>> 5]! | (1 << (bit & 31))) >>> 0;
}

/** vgic_reserve_virq: true iff virq is a valid line and was not yet reserved. */
export function vgicReserveVirq(d: Domain, virq: number): boolean {
  if (!vgicIsValidLine(d, virq)) return false;
  const was = bitmapTest(d.allocatedIrqs, virq);
  bitmapSet(d.allocatedIrqs, virq);
  return !was;
}

/** vgic_allocate_virq: lowest free PPI (16..31) or SPI; -1 when the range is full. */
export function vgicAllocateVirq(d: Domain, spi: boolean): number {
  const first = spi ? NR_LOCAL_IRQS : NR_GIC_SGI;
  const end = spi ? vgicNumIrqs(d) : NR_LOCAL_IRQS;
  for (let virq = first; virq < end; virq++) {
    if (!bitmapTest(d.allocatedIrqs, virq)) {
      bitmapSet(d.allocatedIrqs, virq);
      return virq;
    }
  }
  return -1;
}

/** vgic_free_virq: clear the bit, no validation (a bit past the bitmap is ignored here). */
export function vgicFreeVirq(d: Domain, virq: number): void {
  const w = virq >>> 5;
  if (w < d.allocatedIrqs.length) d.allocatedIrqs[w] = (d.allocatedIrqs[w]! & ~(1 << (virq & 31))) >>> 0;
}

/** Whether virq's bit is set in allocated_irqs (for tests and snapshots). */
export function vgicIsAllocated(d: Domain, virq: number): boolean {
  return virq >= 0 && (virq >>> 5) < d.allocatedIrqs.length && bitmapTest(d.allocatedIrqs, virq);
}
