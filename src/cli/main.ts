#!/usr/bin/env node
/** The `vgic` command. */
import { runDemo } from './demo.js';

const USAGE = `usage: vgic <command>

commands:
  demo      run the built-in demonstration (spill, eviction, UIE, ack/EOI draining)
  help      this text
`;

function main(argv: string[]): number {
  const [cmd] = argv;
  switch (cmd) {
    case 'demo':
      process.stdout.write(`${runDemo()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`vgic: unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
