/** The `--mutant NAME` option of replay, serve and fuzz, and the divergence-name lists of serve and diff (`--divergence`, `--allow`). */
import { DIVERGENCE_NAMES, isDivergenceName, type DivergenceName } from '../xen/divergences.js';
import { escapeControl } from '../machine/escape.js';
import { MUTANT_NAMES, isMutantName, type MutantName } from '../xen/mutants.js';
import { UsageError } from './args.js';

/** A comma-separated list of divergence catalogue names (`--divergence`, `--allow`); unknown names are usage errors. */
export function divergenceList(option: string, raw: string | undefined): DivergenceName[] {
  if (raw === undefined) return [];
  const names = raw.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !isDivergenceName(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`--${option}: unknown divergence ${unknown.map((n) => `"${escapeControl(n)}"`).join(', ') || '(empty list)'} (known: ${DIVERGENCE_NAMES.join(', ')})`);
  }
  return names as DivergenceName[];
}

export function mutantOption(raw: string | undefined): MutantName | null {
  if (raw === undefined) return null;
  if (!isMutantName(raw)) throw new UsageError(`--mutant: unknown mutant "${raw}" (known: ${MUTANT_NAMES.join(', ')})`);
  return raw;
}
