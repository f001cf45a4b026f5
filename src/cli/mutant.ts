/** `vgic mutants`; the `--mutant NAME` option and the divergence-name lists are in names.ts (re-exported here). */
import { defaultMultiDomain } from '../check/campaign.js';
import { MUTANTS, MUTANT_NAMES } from '../xen/mutants.js';
import { formatMutationTable, runMutant, type MutantResult, type MutationOptions } from '../check/mutation.js';
import { parseCommand, usageLine, type Io } from './args.js';
import { MUTANTS_CMD } from './specs.js';

import { mutantOption } from './names.js';

export { divergenceList, mutantOption } from './names.js';
export { MUTANTS_CMD };

/** `vgic mutants`: the catalogue. */
export function listMutants(): string {
  const w = Math.max(...MUTANT_NAMES.map((n) => n.length));
  return MUTANT_NAMES.map((n) => `${n.padEnd(w)}  ${MUTANTS[n].description} (${MUTANTS[n].ref})`).join('\n');
}

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
    io.out(`fixtures: ${opts.fixtures}/; property campaign: ${opts.traces} traces x ${opts.steps} steps from seed ${opts.seed} + ${defaultMultiDomain(opts.traces)} multi-domain traces (P7) + ${opts.delivery} delivery scenarios\n\n`);
    io.out(`${formatMutationTable(results)}\n`);
  }
  return rate >= 0.95 ? 0 : 1;
}
