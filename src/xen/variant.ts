/**
 * A machine's variant: which deliberate deviations from Xen it runs with. At most one mutant
 * (a plausible porting mistake, src/xen/mutants.ts) and any set of "architectural" switches
 * (each turns one documented divergence of Xen from the GIC architecture or from KVM's vGIC
 * into the other behaviour, src/xen/divergences.ts). The variant is stored on the Host and
 * read by the model functions through the pCPU, domain or vCPU they receive
 * (`mutated(cpu.host, ...)`, `architectural(v.domain.host, ...)`); nothing else is global.
 */
import type { MutantName } from './mutants.js';
import type { DivergenceName } from './divergences.js';

export interface Variant {
  /** The mutant switched on, or null for Xen's own behaviour. */
  readonly mutant: MutantName | null;
  /** The divergences turned to the architectural (or KVM) behaviour. */
  readonly architectural: ReadonlySet<DivergenceName>;
}

/** Whatever carries a variant (the Host). */
export interface VariantHolder {
  readonly variant: Variant;
}

const NONE: ReadonlySet<DivergenceName> = new Set();

/** Xen as it is: no mutant, no architectural switch. */
export const XEN_VARIANT: Variant = Object.freeze({ mutant: null, architectural: NONE });

/** A variant from a mutant (or null) and architectural switches (frozen copies). */
export function makeVariant(mutant: MutantName | null = null, architectural: Iterable<DivergenceName> = []): Variant {
  const set = new Set(architectural);
  if (mutant === null && set.size === 0) return XEN_VARIANT;
  return Object.freeze({ mutant, architectural: set.size === 0 ? NONE : set });
}

/** `mutant` alone (the `--mutant NAME` form), or a whole variant, or null for Xen. */
export function toVariant(v: MutantName | Variant | null | undefined): Variant {
  if (v === null || v === undefined) return XEN_VARIANT;
  return typeof v === 'string' ? makeVariant(v) : v;
}

/** Short text for names and logs: `xen`, `mutant evict-on-equal`, `architectural a+b`. */
export function describeVariant(v: Variant): string {
  const parts: string[] = [];
  if (v.mutant !== null) parts.push(`mutant ${v.mutant}`);
  if (v.architectural.size > 0) parts.push(`architectural ${[...v.architectural].sort().join('+')}`);
  return parts.length === 0 ? 'xen' : parts.join(', ');
}
