/**
 * The `vgic` command: dispatch to a sub-command; usage errors exit 2 without a stack trace.
 * Each command's module is loaded when it runs (its options and help are in specs.ts), so a
 * command starts with its own modules only.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseCommand, UsageError, usageLine, wantsHelp, processIo, type CommandSpec, type Io } from './args.js';
import { DIFF_CMD, DUMP_CMD, FUZZ_CMD, MUTANTS_CMD, REPLAY_CMD, SERVE_CMD } from './specs.js';

type Run = (argv: string[], io: Io) => number | Promise<number>;

const DEMO_CMD: CommandSpec = {
  name: 'demo',
  summary: 'The built-in demonstration: one vCPU with 4 LRs (spill, eviction, UIE, ack/EOI draining), with the state after every step.',
  options: {},
  details: 'exit status: 0.',
};

const VERSION_CMD: CommandSpec = {
  name: 'version',
  summary: 'Print the version of vgic-model (also: vgic --version).',
  options: {},
  details: 'exit status: 0.',
};

const HELP_CMD: CommandSpec = {
  name: 'help',
  summary: 'List the commands, or describe one (the same as vgic <command> --help).',
  args: '[<command>]',
  options: {},
  details: 'exit status: 0; 2 for an unknown command.',
};

/** Each command: its table, and how to load what runs it. */
const COMMANDS: ReadonlyArray<{ spec: CommandSpec; load: () => Promise<Run> }> = [
  { spec: REPLAY_CMD, load: async () => (await import('./replay.js')).replayCommand },
  { spec: SERVE_CMD, load: async () => (await import('./serve.js')).serveCommand },
  { spec: DIFF_CMD, load: async () => (await import('./diff.js')).diffCommand },
  { spec: FUZZ_CMD, load: async () => (await import('./fuzz.js')).fuzzCommand },
  { spec: DUMP_CMD, load: async () => (await import('./dump.js')).dumpCommand },
  { spec: MUTANTS_CMD, load: async () => (await import('./mutant.js')).mutantsCommand },
  {
    spec: DEMO_CMD,
    load: async () => {
      const { runDemo } = await import('./demo.js');
      return (argv, io) => {
        parseCommand(DEMO_CMD, argv);
        io.out(`${runDemo()}\n`);
        return 0;
      };
    },
  },
  {
    spec: VERSION_CMD,
    load: () => Promise.resolve((argv, io) => {
      parseCommand(VERSION_CMD, argv);
      io.out(`${version()}\n`);
      return 0;
    }),
  },
];

/** `vgic help`: every command's usage line and summary. */
export function usage(): string {
  const lines = ['usage: vgic <command> [options]   (vgic <command> --help describes one)', '', 'commands:'];
  for (const { spec } of [...COMMANDS, { spec: HELP_CMD }]) lines.push(`  ${usageLine(spec)}`, `      ${spec.summary}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The version in the package.json of this package: the nearest one above this module (dist/cli/
 * in a package, build/src/cli/ in a clone), read at run time.
 */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'vgic-model' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here, or not ours: look further up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('vgic: the package.json of vgic-model was not found above the command');
    dir = up;
  }
}

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    const about = rest[0];
    if (cmd === 'help' && about !== undefined) {
      const found = COMMANDS.find((c) => c.spec.name === about);
      if (found === undefined && about !== 'help') {
        io.err(`vgic: unknown command "${about}"\n${usage()}`);
        return 2;
      }
      io.out(helpText(found?.spec ?? HELP_CMD));
      return 0;
    }
    io.out(usage());
    return 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    io.out(`${version()}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === cmd);
  if (command === undefined) {
    io.err(`vgic: unknown command "${cmd}"\n${usage()}`);
    return 2;
  }
  if (wantsHelp(command.spec, rest)) {
    io.out(helpText(command.spec));
    return 0;
  }
  const run = await command.load();
  try {
    return await run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`vgic ${cmd}: ${e.message}\n(vgic ${cmd} --help describes its options)\n`);
      return 2;
    }
    throw e;
  }
}
