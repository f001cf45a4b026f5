/**
 * `vgic dump <trace.json> [--step K] [--check] [--html FILE [--from K] [--to L]]`: run one
 * trace and show its state.
 *
 * Without --html: the state after step K (default: the last step applied) as text, with
 * --check also what the invariant checker and step properties found after it.
 * With --html: write the run as one self-contained page to FILE and print only its path
 * (`--step K` then opens the page on column K, and FILE#sK jumps to it). The page is written
 * as a stream, so memory stays bounded for any number of steps; --from/--to render a window.
 *
 * Exit 0 when the dump was produced — also for a trace that stops early with a trace error,
 * a crash or (with --check) a violation, which the dump shows (use `vgic replay` to judge a
 * trace); 2 for bad usage, an unreadable or invalid trace file (the decoder's lines, naming
 * file and JSON path), a step or window outside the trace, or an HTML file that cannot be
 * written.
 */
import * as E from 'fp-ts/lib/Either.js';
import { dumpText } from '../conformance/dump.js';
import { writeHtmlFile } from '../conformance/html.js';
import { loadTraceFile } from '../conformance/trace.js';
import { parseCommand, usageLine, type Io, UsageError } from './args.js';
import { DUMP_CMD } from './specs.js';

export { DUMP_CMD };


export const DUMP_USAGE = usageLine(DUMP_CMD);

export function dumpCommand(argv: string[], io: Io): number {
  const o = parseCommand(DUMP_CMD, argv);
  const positionals = o.positionals;
  if (positionals.length !== 1) {
    throw new UsageError(`dump needs exactly one trace file${positionals.length > 1 ? ` (got ${positionals.length})` : ''}\nusage: ${DUMP_USAGE}`);
  }
  const step = o.int('step');
  const htmlFile = o.str('html');
  if (htmlFile === '') throw new UsageError(`--html needs a file name\nusage: ${DUMP_USAGE}`);

  const check = o.flag('check');
  const from = o.int('from');
  const to = o.int('to');

  const trace = loadTraceFile(positionals[0]!);
  if (E.isLeft(trace)) {
    io.err(`${trace.left.join('\n')}\n`);
    return 2;
  }

  if (htmlFile === undefined) {
    const text = dumpText(trace.right, step, check ? { check } : {});
    if (E.isLeft(text)) {
      io.err(`vgic dump: ${text.left}\n`);
      return 2;
    }
    io.out(`${text.right}\n`);
    return 0;
  }

  const written = writeHtmlFile(trace.right, {
    ...(step === undefined ? {} : { step }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(check ? { check } : {}),
  }, htmlFile);
  if (E.isLeft(written)) {
    io.err(written.left.startsWith(`${htmlFile}: `) ? `${written.left}\n` : `vgic dump: ${written.left}\n`);
    return 2;
  }
  const r = written.right;
  if (r.stopped !== null) io.err(`note: the trace stops with a trace error at step ${r.stopped.step}: ${r.stopped.message}\n`);
  if (check && r.violations > 0) io.err(`note: ${r.violations} step${r.violations === 1 ? '' : 's'} in ${r.from}..${r.to} break an invariant or property (see the page's check row)\n`);
  io.out(`${htmlFile}\n`);
  return 0;
}
