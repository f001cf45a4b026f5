/** The `--mutant NAME` option shared by replay, serve and fuzz. */
import { MUTANTS, MUTANT_NAMES, isMutantName, type MutantName } from '../xen/mutants.js';
import { formatMutationTable, runMutant, type MutantResult, type MutationOptions } from '../check/mutation.js';
import { intOption, parse, str, UsageError, type Io } from './args.js';

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

export const MUTANTS_USAGE = 'vgic mutants [--run [--traces N] [--steps N] [--seed S] [--delivery N] [--only NAME] [--json]]';

/** `vgic mutants`: the catalogue, or with --run the mutation campaign (exit 1 below a 95% kill rate). */
export async function mutantsCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    run: { type: 'boolean' }, traces: { type: 'string' }, steps: { type: 'string' }, seed: { type: 'string' },
    delivery: { type: 'string' }, only: { type: 'string' }, json: { type: 'boolean' }, fixtures: { type: 'string' },
  }, false);
  if (values['run'] !== true) {
    io.out(`${listMutants()}\n`);
    return 0;
  }
  const only = str(values['only']);
  const names = only === undefined ? MUTANT_NAMES : [mutantOption(only)!];
  const opts: MutationOptions = {
    fixtures: str(values['fixtures']) ?? 'fixtures',
    seed: intOption('seed', str(values['seed']), 1, 0, 0xffffffff),
    traces: intOption('traces', str(values['traces']), 150, 1, 1_000_000),
    steps: intOption('steps', str(values['steps']), 60, 1, 100_000),
    delivery: intOption('delivery', str(values['delivery']), 100, 0, 1_000_000),
  };
  const results: MutantResult[] = [];
  for (const name of names) {
    if (io.tty) io.err(`\rmutants: ${name.padEnd(40)}`);
    results.push(await runMutant(name, opts));
  }
  if (io.tty) io.err('\r'.padEnd(50) + '\r');
  const killed = results.filter((r) => r.killed).length;
  const rate = killed / results.length;
  if (values['json'] === true) io.out(`${JSON.stringify({ options: opts, results, killed, total: results.length, rate }, null, 2)}\n`);
  else {
    io.out(`fixtures: ${opts.fixtures}/; property campaign: ${opts.traces} traces x ${opts.steps} steps from seed ${opts.seed} + ${opts.delivery} delivery scenarios\n\n`);
    io.out(`${formatMutationTable(results)}\n`);
  }
  return rate >= 0.95 ? 0 : 1;
}
