/** INTID classes of the GIC architecture (reference §0.1, §2.1). */
import { LPI_OFFSET, NR_GIC_SGI, NR_LOCAL_IRQS, SPI_MAX_INTID } from './limits.js';

export type IntidClass = 'sgi' | 'ppi' | 'spi' | 'special' | 'reserved' | 'lpi';

export function isSgi(intid: number): boolean {
  return intid >= 0 && intid < NR_GIC_SGI;
}

export function isPpi(intid: number): boolean {
  return intid >= NR_GIC_SGI && intid < NR_LOCAL_IRQS;
}

export function isPrivate(intid: number): boolean {
  return intid >= 0 && intid < NR_LOCAL_IRQS;
}

export function isSpiRange(intid: number): boolean {
  return intid >= NR_LOCAL_IRQS && intid <= SPI_MAX_INTID;
}

/** is_lpi (§2.1). */
export function isLpi(intid: number): boolean {
  return intid >= LPI_OFFSET;
}

export function intidClass(intid: number): IntidClass {
  if (isSgi(intid)) return 'sgi';
  if (isPpi(intid)) return 'ppi';
  if (isSpiRange(intid)) return 'spi';
  if (intid >= 1020 && intid <= 1023) return 'special';
  if (isLpi(intid)) return 'lpi';
  return 'reserved';
}
