/** `vgic replay <file|dir>... [--json] [--check] [--mutant NAME]` */
import { formatReplay, replayJson, replayPaths } from '../conformance/replay.js';
import type { Machine } from '../machine/machine.js';
import { parseCommand, usageLine, type Io, UsageError } from './args.js';
import { mutantOption } from './names.js';
import { REPLAY_CMD } from './specs.js';

export { REPLAY_CMD };


export const REPLAY_USAGE = usageLine(REPLAY_CMD);

export async function replayCommand(argv: string[], io: Io): Promise<number> {
  const o = parseCommand(REPLAY_CMD, argv);
  if (o.positionals.length === 0) throw new UsageError(`replay needs at least one trace file or directory\nusage: ${REPLAY_USAGE}`);
  const mutant = mutantOption(o.str('mutant'));
  // The checker is loaded only when it is asked for.
  const StepMonitor = o.flag('check') ? (await import('../check/monitor.js')).StepMonitor : null;
  const summary = replayPaths(o.positionals, {
    mutant,
    ...(StepMonitor !== null ? { check: (m: Machine) => new StepMonitor(m) } : {}),
  });
  if (o.flag('json')) io.out(`${JSON.stringify(replayJson(summary), null, 2)}\n`);
  else io.out(`${formatReplay(summary)}\n`);
  return summary.exitCode;
}
