/**
 * Mirror of xen/arch/arm/gic-vgic.c: placing interrupts in list registers, reading back what
 * the guest did with them, eviction on return to the guest, and the pending check
 * (reference §3.2-§3.12). Every function receives the pCPU it runs on: `cpu.current` is
 * Xen's `current`, `cpu.cpuif` the LR file and `cpu.lrMask` is this_cpu(lr_mask).
 */
import { GIC_INVALID_LR, gicPriToGuest } from '../arch/limits.js';
import { isLpi } from '../arch/intid.js';
import { LR_STATE_PENDING, clearLr, emptyGicLr, readLr, updateLr, writeLr } from '../arch/lr.js';
import { lowestSetBit } from '../hw/cpuif.js';
import {
  GIC_IRQ_GUEST_ACTIVE, GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_MIGRATING, GIC_IRQ_GUEST_PRISTINE_LPI,
  GIC_IRQ_GUEST_QUEUED, GIC_IRQ_GUEST_VISIBLE, XenCrash, clearBit, listAddTail, listDelInit, listEmpty,
  setBit, testAndClearBit, testBit, type ListNode, type Pcpu, type PendingIrq, type Vcpu,
} from './types.js';
import { mutated } from './mutants.js';
import { irqToPending, vgicGetTargetVcpu, vgicGetVirqPriority } from './vgic.js';

// Scratch decode buffers, so the LR paths allocate nothing per call.
const lrScratch = emptyGicLr();
const findScratch = emptyGicLr();

/** Is the running guest's vGIC a GICv3 (the domain's version: a v2 guest on a v3 host is not)? */
function guestV3(cpu: Pcpu): boolean {
  const v = cpu.current;
  return v === null ? cpu.host.version === 'v3' : v.domain.version === 'v3';
}

/** The LR file is nr_lrs registers; Xen BUG()s (v3) or runs off the array (v2) beyond it. */
function checkLrIndex(cpu: Pcpu, lr: number, what: string): void {
  if (lr < 0 || lr >= cpu.host.nrLrs) {
    throw new XenCrash(`${what}: LR index ${lr} is outside the LR file (nr_lrs ${cpu.host.nrLrs})`);
  }
}

/** gic_set_lr (§3.6): program LR `lr` for p, mark it VISIBLE and no longer QUEUED. */
export function gicSetLr(cpu: Pcpu, lr: number, p: PendingIrq, state: number): void {
  checkLrIndex(cpu, lr, 'gic_set_lr/update_lr BUG_ON');
  clearBit(p, GIC_IRQ_GUEST_PRISTINE_LPI);
  updateLr(cpu.host.layout, cpu.cpuif.lrs, lr, p.irq, p.priority, p.desc ? p.desc.irq : null, state, guestV3(cpu),
    mutated(cpu.host, 'v2-lr-priority-low-bits'));
  setBit(p, GIC_IRQ_GUEST_VISIBLE);
  clearBit(p, GIC_IRQ_GUEST_QUEUED);
  p.lr = lr;
}

/** Insert `node` (of record p) before the first entry with a strictly greater priority. */
function insertByPriority(v: Vcpu, head: ListNode, node: ListNode, priority: number): void {
  const lifo = mutated(v.domain.host, 'no-fifo-among-equals');
  for (let it = head.next; it !== head; it = it.next) {
    const later = lifo ? it.owner!.priority >= priority : it.owner!.priority > priority;
    if (later) {
      listAddTail(node, it);
      return;
    }
  }
  listAddTail(node, head);
}

/** gic_add_to_lr_pending (§3.4): no-op if already queued; FIFO among equal priorities. */
export function gicAddToLrPending(v: Vcpu, n: PendingIrq): void {
  if (!listEmpty(n.lrQueue)) return;
  insertByPriority(v, v.lrPending, n.lrQueue, n.priority);
}

/** gic_remove_from_lr_pending (§3.4). */
export function gicRemoveFromLrPending(_v: Vcpu, p: PendingIrq): void {
  if (p.linksUninit) throw new XenCrash('gic_remove_from_lr_pending: the pending_irq of a never-mapped event has NULL list links (NULL dereference)');
  listDelInit(p.lrQueue);
}

/** gic_raise_inflight_irq (§3.3): re-examine the LR of an enabled, already-inflight IRQ. */
export function gicRaiseInflightIrq(cpu: Pcpu, v: Vcpu, virq: number): void {
  const n = irqToPending(v, virq);
  if (n === null) return;
  if (!testBit(n, GIC_IRQ_GUEST_ENABLED)) return;
  // Trusts n.lr; with Q34 it may be another vCPU's LR or GIC_INVALID_LR.
  if (listEmpty(n.lrQueue) && v === cpu.current) gicUpdateOneLr(cpu, v, n.lr);
}

/** gic_find_unused_lr (§3.5): PRISTINE LPIs reuse their LR; else lowest free index >= lr. */
export function gicFindUnusedLr(cpu: Pcpu, _v: Vcpu, p: PendingIrq, lr: number): number {
  const mask = cpu.lrMask;
  const nrLrs = cpu.host.nrLrs;
  if (testBit(p, GIC_IRQ_GUEST_PRISTINE_LPI)) {
    for (let used = 0; used < 64; used++) {
      if (!mask.test(used)) continue;
      readLr(cpu.host.layout, cpu.cpuif.lrs, used, findScratch, guestV3(cpu));
      if (findScratch.virq === p.irq) return used;
    }
  }
  return mask.findNextZero(nrLrs, lr);
}

/** gic_raise_guest_irq (§3.2): an LR now only if v is current and nothing is queued. */
export function gicRaiseGuestIrq(cpu: Pcpu, v: Vcpu, virq: number, _priority: number): void {
  const p = irqToPending(v, virq);
  if (p === null) return;
  if (v === cpu.current && (listEmpty(v.lrPending) || mutated(cpu.host, 'raise-into-free-lr'))) {
    const i = gicFindUnusedLr(cpu, v, p, 0);
    if (i < cpu.host.nrLrs) {
      cpu.lrMask.set(i);
      gicSetLr(cpu, i, p, LR_STATE_PENDING);
      return;
    }
  }
  gicAddToLrPending(v, p);
}

/** gic_update_one_lr (§3.7 a-d): fold what the guest did with LR i back into p. */
export function gicUpdateOneLr(cpu: Pcpu, v: Vcpu, i: number): void {
  checkLrIndex(cpu, i, 'gic_update_one_lr/read_lr');
  const layout = cpu.host.layout;
  const lrs = cpu.cpuif.lrs;
  const lrVal = lrScratch;
  readLr(layout, lrs, i, lrVal, guestV3(cpu));
  const irq = lrVal.virq;
  const p = irqToPending(v, irq);

  // (a) stale or unknown LPI
  if (p === null || testAndClearBit(p, GIC_IRQ_GUEST_PRISTINE_LPI)) {
    if (!isLpi(irq)) throw new XenCrash(`gic_update_one_lr: ASSERT(is_lpi(${irq})) failed`);
    clearLr(lrs, i);
    cpu.lrMask.clear(i);
    return;
  }

  if (lrVal.active) {
    // (b) the guest has it active
    setBit(p, GIC_IRQ_GUEST_ACTIVE);
    if (testBit(p, GIC_IRQ_GUEST_ENABLED) && testAndClearBit(p, GIC_IRQ_GUEST_QUEUED)) {
      if (p.desc === null) {
        lrVal.pending = true;
        writeLr(layout, lrs, i, lrVal, guestV3(cpu));
      } else {
        cpu.host.printk('warn', `d${v.domain.id}v${v.id}: hw irq ${irq} already active in LR${i}, assertion dropped`);
      }
    }
  } else if (lrVal.pending) {
    // (c) still pending: the new assertion merges with it
    clearBit(p, GIC_IRQ_GUEST_QUEUED);
    if (mutated(cpu.host, 'clear-active-on-pending')) clearBit(p, GIC_IRQ_GUEST_ACTIVE);
  } else {
    // (d) drained: reclaim the LR (debug build clears it), then re-raise or retire p
    clearLr(lrs, i);
    cpu.lrMask.clear(i);
    if (p.desc !== null) p.desc.inProgress = false;
    clearBit(p, GIC_IRQ_GUEST_VISIBLE);
    clearBit(p, GIC_IRQ_GUEST_ACTIVE);
    p.lr = GIC_INVALID_LR;
    if (testBit(p, GIC_IRQ_GUEST_ENABLED) && testBit(p, GIC_IRQ_GUEST_QUEUED) &&
        !testBit(p, GIC_IRQ_GUEST_MIGRATING)) {
      if (mutated(cpu.host, 'reread-priority-on-reraise')) p.priority = vgicGetVirqPriority(v, irq);
      gicRaiseGuestIrq(cpu, v, irq, p.priority);
    } else {
      listDelInit(p.inflight);
      if (testBit(p, GIC_IRQ_GUEST_MIGRATING)) {
        const target = vgicGetTargetVcpu(v, irq);
        p.desc?.setAffinity(target.processor);
        clearBit(p, GIC_IRQ_GUEST_MIGRATING);
      }
    }
  }
}

/** vgic_sync_from_lrs (§3.9): on every trap from the guest. */
export function vgicSyncFromLrs(cpu: Pcpu, v: Vcpu | null): void {
  if (v === null) return;
  if (!mutated(cpu.host, 'keep-uie-on-exit')) cpu.cpuif.setUie(false);
  // Walk a snapshot of lr_mask, set bits only, in ascending order: LRs filled by re-raises
  // during the walk are not revisited.
  const lo = cpu.lrMask.lo;
  const hi = cpu.lrMask.hi;
  for (let w = lo; w !== 0; w &= w - 1) gicUpdateOneLr(cpu, v, lowestSetBit(w));
  for (let w = hi; w !== 0; w &= w - 1) gicUpdateOneLr(cpu, v, 32 + lowestSetBit(w));
}

/**
 * gic_restore_pending_irqs (§3.8): move lr_pending into LRs, evicting strictly
 * lower-priority, non-active IRQs; the pass stops at the first equal priority (Q12).
 */
export function gicRestorePendingIrqs(cpu: Pcpu, v: Vcpu): void {
  const nrLrs = cpu.host.nrLrs;
  const head = v.lrPending;
  if (listEmpty(head)) return;

  let lr = 0;
  let budget = nrLrs;
  let scan: ListNode = v.inflightIrqs;

  // "Safe" iteration: the successor is taken before p is processed.
  for (let node = head.next, next = node.next; node !== head; node = next, next = node.next) {
    const p = node.owner!;
    lr = gicFindUnusedLr(cpu, v, p, lr);
    if (lr >= nrLrs) {
      // No free LR: walk inflight backwards from just before `scan` for a victim.
      let victim: PendingIrq | null = null;
      const fromHead = mutated(cpu.host, 'evict-from-head');
      for (let r = fromHead ? scan.next : scan.prev; r !== scan; r = fromHead ? r.next : r.prev) {
        if (r === v.inflightIrqs) {
          // Xen's reverse walk is bounded by `scan`, not by the list head, so it would now
          // read the list head itself as a pending_irq.
          throw new XenCrash(`gic_restore_pending_irqs: eviction walk for IRQ ${p.irq} ran past the head of d${v.domain.id}v${v.id}'s inflight list`);
        }
        const q = r.owner!;
        if (q.priority === p.priority && !mutated(cpu.host, 'evict-on-equal')) return;
        if (testBit(q, GIC_IRQ_GUEST_VISIBLE) && (!testBit(q, GIC_IRQ_GUEST_ACTIVE) || mutated(cpu.host, 'evict-active'))) {
          victim = q;
          break;
        }
      }
      if (victim === null) return;
      lr = victim.lr;
      victim.lr = GIC_INVALID_LR;
      setBit(victim, GIC_IRQ_GUEST_QUEUED);
      clearBit(victim, GIC_IRQ_GUEST_VISIBLE);
      gicAddToLrPending(v, victim);
      scan = victim.inflight;
    }
    gicSetLr(cpu, lr, p, LR_STATE_PENDING);
    listDelInit(p.lrQueue);
    cpu.lrMask.set(lr);
    budget -= 1;
    if (budget === 0 && !mutated(cpu.host, 'no-placement-budget')) break;
  }
}

/** gic_clear_pending_irqs (§3.10): zero the saved lr_mask and empty lr_pending. */
export function gicClearPendingIrqs(v: Vcpu): void {
  v.savedLrMask.zero();
  if (mutated(v.domain.host, 'cpu-on-keeps-lr-pending')) return;
  while (!listEmpty(v.lrPending)) gicRemoveFromLrPending(v, v.lrPending.next.owner!);
}

/** vgic_vcpu_pending_irq (§3.12, Q16): is there an enabled IRQ the guest would take? */
export function vgicVcpuPendingIrq(cpu: Pcpu, v: Vcpu): number {
  if (v !== cpu.current) throw new XenCrash('vgic_vcpu_pending_irq: ASSERT(v == current) failed');
  const apr = cpu.cpuif.readApr();
  const maskPriority = mutated(cpu.host, 'pending-check-5bit-pmr-v3') && cpu.host.version === 'v3'
    ? cpu.cpuif.readVmcrPriority() >> 3 : cpu.cpuif.readVmcrPriority();
  const activePriority = lowestSetBit(apr);
  for (let n = v.inflightIrqs.next; n !== v.inflightIrqs; n = n.next) {
    const p = n.owner!;
    if (gicPriToGuest(p.priority) >= maskPriority) return 0;
    if (gicPriToGuest(p.priority) >= activePriority) return 0;
    if (testBit(p, GIC_IRQ_GUEST_ENABLED)) return 1;
  }
  return 0;
}

/** vgic_sync_to_lrs (§3.8): on every return to the guest; UIE only when all LRs are used. */
export function vgicSyncToLrs(cpu: Pcpu): void {
  const v = cpu.current;
  // Xen only returns to guest vCPUs; the machine's `enter` precondition guarantees one.
  if (v === null) throw new Error('vgic_sync_to_lrs called on a pCPU without a vCPU');
  gicRestorePendingIrqs(cpu, v);
  if ((!listEmpty(v.lrPending) || mutated(cpu.host, 'uie-when-lrs-full')) && cpu.lrMask.allFull(cpu.host.nrLrs)) cpu.cpuif.setUie(true);
}

/** Internal: insertion into inflight used by vgic_inject_irq (§3.1 step 9). */
export function insertInflight(v: Vcpu, n: PendingIrq): void {
  insertByPriority(v, v.inflightIrqs, n.inflight, n.priority);
}
