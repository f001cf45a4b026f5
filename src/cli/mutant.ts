/** The `--mutant NAME` option shared by replay, serve and fuzz. */
import { MUTANTS, MUTANT_NAMES, isMutantName, type MutantName } from '../xen/mutants.js';
import { UsageError } from './args.js';

export function mutantOption(raw: string | undefined): MutantName | null {
  if (raw === undefined) return null;
  if (!isMutantName(raw)) throw new UsageError(`--mutant: unknown mutant "${raw}" (known: ${MUTANT_NAMES.join(', ')})`);
  return raw;
}

/** `vgic mutants`: the catalogue. */
export function listMutants(): string {
  const w = Math.max(...MUTANT_NAMES.map((n) => n.length));
  return MUTANT_NAMES.map((n) => `${n.padEnd(w)}  ${MUTANTS[n].description} (${MUTANTS[n].ref})`).join('\n');
}
