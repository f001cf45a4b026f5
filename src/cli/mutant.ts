/** The `--mutant NAME` option shared by replay, serve and fuzz, and the divergence-name lists of serve and diff. */
import { DIVERGENCE_NAMES, isDivergenceName, type DivergenceName } from '../xen/divergences.js';
import { escapeControl } from '../machine/decode.js';
import { MUTANTS, MUTANT_NAMES, isMutantName, type MutantName } from '../xen/mutants.js';
import { formatMutationTable, runMutant, type MutantResult, type MutationOptions } from '../check/mutation.js';
import { parseCommand, usageLine, UsageError, type CommandSpec, type Io } from './args.js';

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

/** `vgic mutants`: the catalogue. */
export function listMutants(): string {
  const w = Math.max(...MUTANT_NAMES.map((n) => n.length));
  return MUTANT_NAMES.map((n) => `${n.padEnd(w)}  ${MUTANTS[n].description} (${MUTANTS[n].ref})`).join('\n');
}

export const MUTANTS_CMD: CommandSpec = {
  name: 'mutants',
  summary: 'List the deliberate deviations --mutant switches on; with --run, measure how the suite kills each.',
  options: {
    run: { type: 'boolean', help: 'run every mutant against the fixtures, a property campaign and a differential run; print the table and the kill rate' },
    traces: { type: 'string', value: 'N', help: 'random traces in the property campaign', int: [1, 1_000_000], default: 150, with: 'run' },
    steps: { type: 'string', value: 'N', help: 'steps per random trace', int: [1, 100_000], default: 60, with: 'run' },
    seed: { type: 'string', value: 'S', help: 'seed of the first random trace', int: [0, 0xffffffff], default: 1, with: 'run' },
    delivery: { type: 'string', value: 'N', help: 'delivery scenarios (property P1)', int: [0, 1_000_000], default: 100, with: 'run' },
    only: { type: 'string', value: 'NAME', help: 'run this mutant only', with: 'run' },
    fixtures: { type: 'string', value: 'DIR', help: 'the fixture traces to replay on each mutant', default: 'fixtures', with: 'run' },
    json: { type: 'boolean', help: 'print the results as JSON', with: 'run' },
  },
  details: `A mutant is killed when a fixture fails on it, the campaign sees an invariant or property
broken, or the differential run against the unmutated model diverges.

exit status: 0 the list, or a kill rate of at least 95%; 1 a kill rate below 95%; 2 bad usage.`,
};

export const MUTANTS_USAGE = usageLine(MUTANTS_CMD);

/** `vgic mutants`: the catalogue, or with --run the mutation campaign (exit 1 below a 95% kill rate). */
export async function mutantsCommand(argv: string[], io: Io): Promise<number> {
  const o = parseCommand(MUTANTS_CMD, argv);
  if (!o.flag('run')) {
    io.out(`${listMutants()}\n`);
    return 0;
  }
  const only = o.str('only');
  const names = only === undefined ? MUTANT_NAMES : [mutantOption(only)!];
  const opts: MutationOptions = {
    fixtures: o.str('fixtures')!,
    seed: o.int('seed')!,
    traces: o.int('traces')!,
    steps: o.int('steps')!,
    delivery: o.int('delivery')!,
  };
  const results: MutantResult[] = [];
  for (const name of names) {
    if (io.tty) io.err(`\rmutants: ${name.padEnd(40)}`);
    results.push(await runMutant(name, opts));
  }
  if (io.tty) io.err('\r'.padEnd(50) + '\r');
  const killed = results.filter((r) => r.killed).length;
  const rate = killed / results.length;
  if (o.flag('json')) io.out(`${JSON.stringify({ options: opts, results, killed, total: results.length, rate }, null, 2)}\n`);
  else {
    io.out(`fixtures: ${opts.fixtures}/; property campaign: ${opts.traces} traces x ${opts.steps} steps from seed ${opts.seed} + ${opts.delivery} delivery scenarios\n\n`);
    io.out(`${formatMutationTable(results)}\n`);
  }
  return rate >= 0.95 ? 0 : 1;
}
