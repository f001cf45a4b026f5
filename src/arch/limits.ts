/**
 * Limits and constants of the GIC architecture and of Xen's vGIC: one source of truth,
 * used by config validation, the model and the docs (reference §2).
 */

/** SGIs + PPIs per vCPU (NR_LOCAL_IRQS, §2.1). */
export const NR_LOCAL_IRQS = 32;
/** SGIs 0-15 (NR_GIC_SGI, §2.1). */
export const NR_GIC_SGI = 16;
/** Interrupts per rank (NR_INTERRUPT_PER_RANK, §1.2). */
export const IRQS_PER_RANK = 32;
/** Highest SPI INTID (§2.1). */
export const SPI_MAX_INTID = 1019;
/** "No physical IRQ" marker handed to update_lr (INVALID_IRQ, §2.1). */
export const INVALID_IRQ = 1023;
/** First LPI INTID (LPI_OFFSET, §2.1). */
export const LPI_OFFSET = 8192;
/** p->lr once Xen took the IRQ out of an LR (GIC_INVALID_LR, §2.1). */
export const GIC_INVALID_LR = 0xff;
/** domain_vgic_init refuses a rounded SPI count above 1020 - 32 (§2.3). */
export const VGIC_SPI_LIMIT = 1020 - NR_LOCAL_IRQS;
/** Largest SPI count accepted once rounded to a multiple of 32 (§2.3, Q33): 960. */
export const MAX_SPIS = Math.floor(VGIC_SPI_LIMIT / IRQS_PER_RANK) * IRQS_PER_RANK;
/** MAX_VIRT_CPUS on arm64 (§2.4). */
export const MAX_VIRT_CPUS = 128;
/** Physical CPUs a machine may have (trace-format §2.1). */
export const MAX_PCPUS = 16;
/** Largest domain id a config may use (trace-format §2.1). */
export const MAX_DOMAIN_ID = 32767;

export type GicVersion = 'v2' | 'v3';

/** vgic_max_vcpus (§2.4): what the vGIC of this version supports. */
export function vgicMaxVcpus(version: GicVersion): number {
  return version === 'v2' ? 8 : 4096;
}

/** Effective vCPU limit of a domain: min(vgic_max_vcpus, MAX_VIRT_CPUS) (§2.4). */
export function maxVcpusFor(version: GicVersion): number {
  return Math.min(vgicMaxVcpus(version), MAX_VIRT_CPUS);
}

/** Number of list registers a host of this version can implement (§2.5). */
export function maxLrsFor(version: GicVersion): number {
  return version === 'v2' ? 64 : 16;
}

/** GIC_PRI_TO_GUEST (§2.5): 8-bit priority to the 5-bit LR / VMCR priority. */
export function gicPriToGuest(priority: number): number {
  return priority >> 3;
}

/** Round up to the next multiple of 32, as domain_vgic_init does with nr_spis (§2.3). */
export function roundUpToRank(n: number): number {
  return Math.ceil(n / IRQS_PER_RANK) * IRQS_PER_RANK;
}
