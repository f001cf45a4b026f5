/**
 * Deliberate deviations from Xen ("mutants"): small, plausible porting mistakes that the
 * conformance kit must detect. Each is switched on for one Machine (`--mutant NAME`) and
 * tested at exactly one place in the model, marked `mutated('NAME')`.
 *
 * The switch is a single slot that a Machine sets for the duration of each of its calls, so
 * machines with different mutants can live side by side in one process.
 */

export interface MutantInfo {
  /** What the mutant does differently from Xen. */
  readonly description: string;
  /** The reference item it breaks. */
  readonly ref: string;
}

export const MUTANTS = {
  'evict-on-equal': {
    description: 'the eviction walk takes an equal-priority victim instead of stopping the pass',
    ref: 'Q12, §3.8',
  },
  'no-fifo-among-equals': {
    description: 'inflight and lr_pending insert before the first entry of equal or greater priority (LIFO among equals)',
    ref: 'I2, §3.1 step 9, §3.4',
  },
  'raise-into-free-lr': {
    description: 'gic_raise_guest_irq uses a free LR even while lr_pending is non-empty',
    ref: 'Q11, §3.2',
  },
} as const satisfies Record<string, MutantInfo>;

export type MutantName = keyof typeof MUTANTS;
export const MUTANT_NAMES = Object.keys(MUTANTS) as MutantName[];

export function isMutantName(s: string): s is MutantName {
  return Object.prototype.hasOwnProperty.call(MUTANTS, s);
}

let active: MutantName | null = null;

/** Is this deviation switched on for the machine that is running now? */
export function mutated(name: MutantName): boolean {
  return active === name;
}

/** Run `fn` with `mutant` switched on (null: Xen's behaviour), restoring the previous one. */
export function withMutant<A>(mutant: MutantName | null, fn: () => A): A {
  const saved = active;
  active = mutant;
  try {
    return fn();
  } finally {
    active = saved;
  }
}
