/** `vgic replay <file|dir>... [--json] [--mutant NAME]` */
import { StepMonitor } from '../check/monitor.js';
import { formatReplay, replayJson, replayPaths } from '../conformance/replay.js';
import type { Machine } from '../machine/machine.js';
import { parse, str, type Io, UsageError } from './args.js';
import { mutantOption } from './mutant.js';

export const REPLAY_USAGE = 'vgic replay <trace.json|dir>... [--json] [--check] [--mutant NAME]';

export function replayCommand(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, check: { type: 'boolean' }, mutant: { type: 'string' } });
  if (positionals.length === 0) throw new UsageError(`replay needs at least one trace file or directory\nusage: ${REPLAY_USAGE}`);
  const summary = replayPaths(positionals, {
    mutant: mutantOption(str(values['mutant'])),
    ...(values['check'] === true ? { check: (m: Machine) => new StepMonitor(m) } : {}),
  });
  if (values['json'] === true) io.out(`${JSON.stringify(replayJson(summary), null, 2)}\n`);
  else io.out(`${formatReplay(summary)}\n`);
  return summary.exitCode;
}
