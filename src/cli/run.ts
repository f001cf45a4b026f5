/** The `vgic` command: dispatch to a sub-command; usage errors exit 2 without a stack trace. */
import { UsageError, processIo, type Io } from './args.js';
import { runDemo } from './demo.js';
import { REPLAY_USAGE, replayCommand } from './replay.js';
import { MUTANTS_USAGE, mutantsCommand } from './mutant.js';
import { DIFF_USAGE, diffCommand } from './diff.js';
import { FUZZ_USAGE, fuzzCommand } from './fuzz.js';
import { DUMP_USAGE, dumpCommand } from './dump.js';
import { SERVE_USAGE, serveCommand } from './serve.js';

const USAGE = `usage: vgic <command> [options]

commands:
  ${REPLAY_USAGE}
      run traces and check their expectations (exit 0 pass, 1 expectation failed, 2 invalid input)
  ${SERVE_USAGE}
      the model as a driver: JSON requests on stdin, one response line each on stdout
  ${DIFF_USAGE}
      compare the model with another implementation; shrink and write the first divergence
  ${FUZZ_USAGE}
      generate seeded random valid traces (written with --out, else summarised)
  ${DUMP_USAGE}
      the state after a step as text, or the whole run as a self-contained HTML timeline
  ${MUTANTS_USAGE}
      list the deliberate deviations --mutant switches on; --run: how the suite kills each
  vgic demo
      the built-in demonstration (spill, eviction, UIE, ack/EOI draining)
  vgic help
      this text
`;

type Command = (argv: string[], io: Io) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  replay: replayCommand,
  serve: serveCommand,
  diff: diffCommand,
  fuzz: fuzzCommand,
  dump: dumpCommand,
  mutants: mutantsCommand,
  demo: (_argv, io) => {
    io.out(`${runDemo()}\n`);
    return 0;
  },
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(USAGE);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (command === undefined) {
    io.err(`vgic: unknown command "${cmd}"\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`vgic ${cmd}: ${e.message}\n(vgic help lists the commands and their options)\n`);
      return 2;
    }
    throw e;
  }
}

