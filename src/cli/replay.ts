/** `vgic replay <file|dir>... [--json] [--mutant NAME]` */
import { formatReplay, replayJson, replayPaths } from '../conformance/replay.js';
import { parse, str, type Io, UsageError } from './args.js';
import { mutantOption } from './mutant.js';

export const REPLAY_USAGE = 'vgic replay <trace.json|dir>... [--json] [--mutant NAME]';

export function replayCommand(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, mutant: { type: 'string' } });
  if (positionals.length === 0) throw new UsageError(`replay needs at least one trace file or directory\nusage: ${REPLAY_USAGE}`);
  const summary = replayPaths(positionals, { mutant: mutantOption(str(values['mutant'])) });
  if (values['json'] === true) io.out(`${JSON.stringify(replayJson(summary), null, 2)}\n`);
  else io.out(`${formatReplay(summary)}\n`);
  return summary.exitCode;
}
