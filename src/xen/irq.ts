/**
 * Physical IRQ pass-through (reference §3.21): the parts of xen/arch/arm/irq.c, gic.c and
 * gic-vgic.c that connect a host SPI to a guest's virtual SPI and forward its arrivals.
 * Errors are Xen's errno names; a refusal changes nothing.
 */
import { NR_LOCAL_IRQS, SPI_MAX_INTID } from '../arch/limits.js';
import type { IrqDesc } from '../hw/irqdesc.js';
import {
  GIC_IRQ_GUEST_ACTIVE, GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_VISIBLE, XenCrash, testBit, type Domain, type Host,
  type Pcpu,
} from './types.js';
import { spiToPending, vgicInjectIrq, vgicIsSpi, vgicIsValidLine } from './vgic.js';

export type RouteErrno = 'EINVAL' | 'EIO' | 'EBUSY';

/** is_assignable_irq: a host SPI (the model's host has lines 0..1019). */
export function isAssignableIrq(irq: number): boolean {
  return irq >= NR_LOCAL_IRQS && irq <= SPI_MAX_INTID;
}

/**
 * vgic_connect_hw_irq (gic-vgic.c, §3.21, Q40), connect direction only: the SPI record
 * (found through vCPU0's view of its rank) takes the descriptor unless it already has one
 * or the guest has it enabled, in an LR or active.
 */
export function vgicConnectHwIrq(d: Domain, virq: number, desc: IrqDesc): 0 | 'EBUSY' {
  // Xen reaches the record through vCPU0's view of the rank target; for an SPI it is the
  // domain's one record either way.
  const p = spiToPending(d, virq);
  if (p.desc !== null || testBit(p, GIC_IRQ_GUEST_ENABLED) || testBit(p, GIC_IRQ_GUEST_VISIBLE) ||
      testBit(p, GIC_IRQ_GUEST_ACTIVE)) {
    return 'EBUSY';
  }
  p.desc = desc;
  return 0;
}

/** gic_route_irq_to_guest (gic.c, §3.21): connect, then hand the descriptor to the guest. */
export function gicRouteIrqToGuest(d: Domain, virq: number, desc: IrqDesc): 0 | 'EBUSY' {
  if (!vgicIsSpi(d, virq)) throw new XenCrash(`gic_route_irq_to_guest: ASSERT(vgic_is_spi(${virq})) failed`);
  const rc = vgicConnectHwIrq(d, virq, desc);
  if (rc !== 0) return rc;
  desc.guest = { domain: d.id, virq };
  // The trigger type was configured at creation (config `pirqs`); the host priority Xen
  // programs (GIC_PRI_IRQ, 0xa0) is not observable through the ops.
  return 0;
}

/**
 * route_irq_to_guest (irq.c, §3.21): Xen's checks in Xen's order (EINVAL, EIO, EBUSY);
 * routing the same pair again succeeds and does nothing.
 */
export function routeIrqToGuest(host: Host, d: Domain, virq: number, irq: number): 0 | RouteErrno {
  if (!vgicIsValidLine(d, virq)) {
    host.printk('err', `invalid vIRQ number ${virq} for domain d${d.id}`);
    return 'EINVAL';
  }
  if (virq < NR_LOCAL_IRQS) {
    host.printk('err', 'IRQ can only be routed to an SPI');
    return 'EINVAL';
  }
  if (!isAssignableIrq(irq)) {
    host.printk('err', `the IRQ${irq} is not routable`);
    return 'EINVAL';
  }
  // A non-hardware domain may only take lines whose trigger type was configured; the model
  // knows a descriptor exactly for the configured ones.
  const desc = host.irqDescs.get(irq);
  if (desc === undefined) {
    host.printk('err', `IRQ ${irq} has not been configured`);
    return 'EIO';
  }
  if (desc.guest !== null) {
    if (desc.guest.domain !== d.id) {
      host.printk('err', `IRQ ${irq} is already used by domain ${desc.guest.domain}`);
      return 'EBUSY';
    }
    if (desc.guest.virq !== virq) {
      host.printk('err', `d${d.id}: IRQ ${irq} is already assigned to vIRQ ${desc.guest.virq}`);
      return 'EBUSY';
    }
    return 0;
  }
  // The action is installed, then released again if the connection is refused.
  return gicRouteIrqToGuest(d, virq, desc);
}

export type HwIrqOutcome = 'ok' | 'latched';

/**
 * The host GIC signals a routed IRQ on the pCPU of its affinity, and do_IRQ's guest branch
 * (irq.c, §3.21) runs there: a disabled or still-active line only latches pending; otherwise
 * it is acknowledged (pending to active), priority-dropped but not deactivated, marked
 * IN_PROGRESS and injected into the guest with the rank target.
 */
export function doIrq(cpu: Pcpu, desc: IrqDesc): HwIrqOutcome {
  const guest = desc.guest;
  if (guest === null) throw new Error(`do_IRQ: IRQ ${desc.irq} is not routed to a guest`);
  if (!desc.enabled || desc.active) {
    desc.pending = true;
    return 'latched';
  }
  desc.pending = false;
  desc.active = true;
  desc.inProgress = true;
  const d = cpu.host.domains.get(guest.domain)!;
  vgicInjectIrq(cpu, d, null, guest.virq, true);
  return 'ok';
}

// ----- releasing a routed IRQ when its domain is destroyed (trace-format §3.6) -----

/**
 * vgic_get_hw_irq_desc (gic-vgic.c): the host descriptor connected to SPI `virq`, found
 * through vCPU0's view (for an SPI, the domain's one record); null when none.
 */
export function vgicGetHwIrqDesc(d: Domain, virq: number): IrqDesc | null {
  if (virq < NR_LOCAL_IRQS) throw new XenCrash(`vgic_get_hw_irq_desc: ASSERT(virq >= 32) failed for ${virq}`);
  return spiToPending(d, virq).desc;
}

/**
 * vgic_connect_hw_irq (gic-vgic.c) with connect = false: the SPI record lets go of its host
 * descriptor. When a descriptor is given it must be the one connected (EINVAL otherwise).
 */
export function vgicDisconnectHwIrq(d: Domain, virq: number, desc: IrqDesc | null): 0 | 'EINVAL' {
  const p = spiToPending(d, virq);
  if (desc !== null && p.desc !== desc) return 'EINVAL';
  p.desc = null;
  return 0;
}

/**
 * gic_remove_irq_from_guest (gic.c): only for a dying domain (EBUSY otherwise). The host line
 * is shut down (disabled); if Xen still has it in progress (forwarded, the guest's LR not yet
 * seen drained) it is deactivated on the guest's behalf; then the SPI record is disconnected
 * and the line stops being a guest's. A pending latch on the line stays as it is.
 */
export function gicRemoveIrqFromGuest(d: Domain, virq: number, desc: IrqDesc): 0 | 'EBUSY' | 'EINVAL' {
  if (desc.guest === null) throw new XenCrash(`gic_remove_irq_from_guest: ASSERT(test_bit(_IRQ_GUEST)) failed for IRQ ${desc.irq}`);
  if (!d.isDying) return 'EBUSY';
  desc.disable();
  if (desc.inProgress) desc.active = false;
  desc.inProgress = false;
  const rc = vgicDisconnectHwIrq(d, virq, desc);
  if (rc !== 0) return rc;
  // _IRQ_GUEST cleared. The model's `guest` field stands for both that flag and the
  // irq_guest record of the action, which release_irq then drops.
  desc.guest = null;
  return 0;
}

/**
 * release_irq (irq.c) of a guest's action: the action goes, and with it the line's last user
 * (shut down again through the no-IRQ handler, which does nothing). The model's `guest` field
 * is that action's irq_guest record; gic_remove_irq_from_guest has already let it go. Xen's
 * wait for IN_PROGRESS to clear returns at once: gic_remove_irq_from_guest cleared it.
 */
export function releaseIrq(desc: IrqDesc): void {
  desc.guest = null;
}

/**
 * release_guest_irq (irq.c): give SPI `virq` of d's back to the host. EINVAL when `virq` is
 * not an SPI, has no host descriptor, or the descriptor is not d's; else what
 * gic_remove_irq_from_guest answers, and on success release_irq.
 */
export function releaseGuestIrq(host: Host, d: Domain, virq: number): 0 | 'EBUSY' | 'EINVAL' {
  if (!vgicIsSpi(d, virq)) return 'EINVAL';
  const desc = vgicGetHwIrqDesc(d, virq);
  if (desc === null) return 'EINVAL';
  if (desc.guest === null) return 'EINVAL';
  if (desc.guest.domain !== d.id) return 'EINVAL';
  const rc = gicRemoveIrqFromGuest(d, virq, desc);
  if (rc !== 0) return rc;
  releaseIrq(desc);
  return 0;
}
