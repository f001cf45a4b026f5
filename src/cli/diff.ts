/**
 * `vgic diff --against "<command>"`: run the same steps on the model and on another
 * implementation behind the driver protocol; shrink and write out the first divergence.
 * Exit status: 0 no divergence over at least one compared step, 1 a divergence (trace
 * written) or nothing compared (every trace skipped, no ops, no steps), 2 bad usage, invalid
 * traces or a side that breaks the protocol (including a hello listing ops we do not know).
 *
 * This module is the front: it reads the options and, for random cases, starts the other side
 * before loading the rest (diff-run.ts), so that both processes start up at the same time.
 */
import type { CompareLevel } from '../conformance/levels.js';
import { startSide } from '../conformance/spawn.js';
import { parseCommand, usageLine, UsageError, type Io } from './args.js';
import { genOptions } from './gen-options.js';
import { divergenceList } from './names.js';
import { DIFF_CMD } from './specs.js';

export { DIFF_CMD };

export const DIFF_USAGE = usageLine(DIFF_CMD);

export async function diffCommand(argv: string[], io: Io): Promise<number> {
  const o = parseCommand(DIFF_CMD, argv);
  const positionals = o.positionals;
  const against = o.str('against')!;
  if (against.trim() === '') throw new UsageError(`--against "<command>" is required\nusage: ${DIFF_USAGE}`);
  if (!o.has('random') && positionals.length === 0) throw new UsageError(`give trace files or directories, or --random N\nusage: ${DIFF_USAGE}`);
  if (o.has('random') && positionals.length > 0) throw new UsageError('give either trace files or --random N, not both');
  const random = o.int('random') ?? 0;
  const { seed, gen } = genOptions(o);
  const outFile = o.str('out')!;
  const timeout = o.int('timeout')!;
  const level = o.str('compare')! as CompareLevel;
  const allowed = divergenceList('allow', o.str('allow'));
  // Random cases read no file, so nothing can go wrong before the other side is needed: it is
  // started now (trace files are read first: bad input costs nothing).
  const started = random > 0 ? startSide(against) : null;
  try {
    const { runDiff } = await import('./diff-run.js');
    return await runDiff({ positionals, against, random, seed, gen, outFile, timeout, level, allowed }, io, started);
  } finally {
    started?.abandon();
  }
}
