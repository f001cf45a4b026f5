/** `vgic replay <file|dir>... [--json] [--check] [--mutant NAME]` */
import { StepMonitor } from '../check/monitor.js';
import { formatReplay, replayJson, replayPaths } from '../conformance/replay.js';
import type { Machine } from '../machine/machine.js';
import { parseCommand, usageLine, type CommandSpec, type Io, UsageError } from './args.js';
import { mutantOption } from './mutant.js';

export const REPLAY_CMD: CommandSpec = {
  name: 'replay',
  summary: 'Run traces on the model and check their expectations (partial matching, docs/trace-format.md): one line per trace, then the totals.',
  args: '<trace.json|dir>...',
  options: {
    json: { type: 'boolean', help: 'print the report as JSON' },
    check: { type: 'boolean', help: 'also check the invariants (I1-I19) and step properties (P2-P6) after every step; a checked step counts as a check' },
    mutant: { type: 'string', value: 'NAME', help: 'run on a deliberately wrong model (vgic mutants lists them)' },
  },
  details: `Directories are read recursively (their *.json files, sorted). A trace without any
expectation is listed as UNCHECKED and does not count as passed.

exit status: 0 every trace passes; 1 an expectation failed, an invariant broke (--check), or
nothing at all was checked (no trace carries an expectation and --check was not given);
2 a file cannot be read or decoded, or a step is a trace error.`,
};

export const REPLAY_USAGE = usageLine(REPLAY_CMD);

export function replayCommand(argv: string[], io: Io): number {
  const o = parseCommand(REPLAY_CMD, argv);
  if (o.positionals.length === 0) throw new UsageError(`replay needs at least one trace file or directory\nusage: ${REPLAY_USAGE}`);
  const summary = replayPaths(o.positionals, {
    mutant: mutantOption(o.str('mutant')),
    ...(o.flag('check') ? { check: (m: Machine) => new StepMonitor(m) } : {}),
  });
  if (o.flag('json')) io.out(`${JSON.stringify(replayJson(summary), null, 2)}\n`);
  else io.out(`${formatReplay(summary)}\n`);
  return summary.exitCode;
}
