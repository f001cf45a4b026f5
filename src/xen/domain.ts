/**
 * Tearing a domain down, as far as the vGIC takes part (trace-format §3.6): the order of
 * xen/common/domain.c (domain_kill, domain_destroy, complete_domain_destroy) and
 * xen/arch/arm/domain.c (domain_relinquish_resources, arch_vcpu_destroy,
 * arch_domain_destroy), and the vGIC's own parts of vgic.c, vgic-v2.c, vgic-v3.c and
 * vgic-v3-its.c. Function names follow Xen's in camelCase.
 *
 * What the teardown does NOT do is as telling as what it does: nothing empties the vCPUs'
 * inflight or lr_pending lists or touches their saved LRs (the memory is simply freed; the
 * PSCI path's vgic_clear_pending_irqs is not called), and nothing unmaps a domain's host ITS
 * devices, so their host LPIs are never given back (a debug build stops at an ASSERT first).
 */
import { NR_LOCAL_IRQS } from '../arch/limits.js';
import { releaseGuestIrq } from './irq.js';
import { XenCrash, type Domain, type Host, type Vcpu } from './types.js';
import { spiToPending, vgicNumIrqs } from './vgic.js';

/**
 * domain_kill (common/domain.c) of a domain none of whose vCPUs runs (domain_pause has
 * nothing left to deschedule: the caller checked). The domain is marked dying;
 * domain_teardown, evtchn_destroy and domain_relinquish_resources (IOMMU devices, vPL011,
 * ioreq servers, PCI, SCI, TEE, guest memory, the p2m) hold nothing of the vGIC; the last
 * reference then goes and domain_destroy runs.
 */
export function domainKill(host: Host, d: Domain): void {
  d.isDying = true; // DOMDYING_dying, then DOMDYING_dead once the resources are relinquished
  domainDestroy(host, d);
}

/** domain_destroy (common/domain.c): off the domain list (its id is free again), then complete_domain_destroy. */
export function domainDestroy(host: Host, d: Domain): void {
  if (!d.isDying) throw new XenCrash(`domain_destroy: BUG_ON(!d->is_dying) for d${d.id}`);
  host.domains.delete(d.id);
  completeDomainDestroy(host, d);
}

/**
 * complete_domain_destroy (common/domain.c): every vCPU's arch state, from the highest vCPU id
 * down, then the domain's (arch_domain_destroy, which frees the vGIC).
 */
export function completeDomainDestroy(host: Host, d: Domain): void {
  for (let i = d.vcpus.length - 1; i >= 0; i--) archVcpuDestroy(d.vcpus[i]!);
  archDomainDestroy(host, d);
}

/** arch_vcpu_destroy (arm/domain.c), its vGIC part: vcpu_vgic_free. */
export function archVcpuDestroy(v: Vcpu): void {
  vcpuVgicFree(v);
}

/**
 * vcpu_vgic_free (vgic.c): frees the vCPU's private rank. Nothing reads it again: the SPI
 * releases that follow reach the shared ranks and the SPI records only.
 */
export function vcpuVgicFree(v: Vcpu): void {
  void v;
}

/** arch_domain_destroy (arm/domain.c), its vGIC part: domain_vgic_free. */
export function archDomainDestroy(host: Host, d: Domain): void {
  domainVgicFree(host, d);
}

/**
 * domain_vgic_free (vgic.c): every SPI connected to a host line is given back through
 * release_guest_irq, in ascending order; a failure is only logged (the line then stays as the
 * failed step left it). Then the version's domain_free, and the ranks, SPI records and
 * allocation bitmap are freed.
 */
export function domainVgicFree(host: Host, d: Domain): void {
  for (let virq = NR_LOCAL_IRQS; virq < vgicNumIrqs(d); virq++) {
    const p = spiToPending(d, virq);
    if (p.desc === null) continue;
    const rc = releaseGuestIrq(host, d, p.irq);
    if (rc !== 0) host.printk('warn', `d${d.id}: releasing vIRQ ${p.irq} failed (${rc})`);
  }
  if (d.version === 'v3') vgicV3DomainFree(d);
  else vgicV2DomainFree(d);
}

/** vgic_v2_domain_free (vgic-v2.c): nothing to free. */
export function vgicV2DomainFree(d: Domain): void {
  void d;
}

/**
 * vgic_v3_domain_free (vgic-v3.c): the virtual ITSes go, then the pend_lpi_tree's nodes (its
 * records belong to the host devices and are not freed here).
 */
export function vgicV3DomainFree(d: Domain): void {
  vgicV3ItsFreeDomain(d);
  d.pendLpiTree.clear();
}

/**
 * vgic_v3_its_free_domain (vgic-v3-its.c): frees the virtual ITS, then ASSERTs that the
 * domain's host device registry is empty. Nothing in the teardown unmaps a device (only a
 * guest's MAPD V=0 does), so a domain destroyed with a device still mapped stops a debug
 * build here; a release build would leak the devices and their host LPI blocks.
 */
export function vgicV3ItsFreeDomain(d: Domain): void {
  d.vits = null;
  if (d.itsDevices.size > 0) {
    const devids = [...d.itsDevices.values()].map((x) => x.guestDevid).sort((a, b) => a - b);
    throw new XenCrash(`vgic_v3_its_free_domain: ASSERT(RB_EMPTY_ROOT(&its_devices)) failed: d${d.id} still has host device${devids.length === 1 ? '' : 's'} ${devids.join(', ')} mapped (nothing in the teardown unmaps them)`);
  }
}
