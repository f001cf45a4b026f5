/**
 * `vgic dump <trace.json> [--step K] [--html FILE]`: run one trace and show its state.
 *
 * Without --html: the state after step K (default: the last step applied) as text.
 * With --html: write the whole run as one self-contained page to FILE and print only its
 * path (the page holds every step, so the text dump would only repeat one column of it;
 * `--step K` then highlights column K, and FILE#sK jumps to it).
 *
 * Exit 0 when the dump was produced — also for a trace that stops early with a trace error
 * or a crash, which the dump shows (use `vgic replay` to judge a trace); 2 for bad usage, an
 * unreadable or invalid trace file (the decoder's lines, naming file and JSON path), a step
 * K outside the trace, or an HTML file that cannot be written.
 */
import * as E from 'fp-ts/lib/Either.js';
import { writeFileSync } from 'node:fs';
import { collectSteps, renderText } from '../conformance/dump.js';
import { renderHtml } from '../conformance/html.js';
import { loadTraceFile } from '../conformance/trace.js';
import { parseCommand, usageLine, type CommandSpec, type Io, UsageError } from './args.js';

export const DUMP_CMD: CommandSpec = {
  name: 'dump',
  summary: 'Run one trace and show the state after a step as text, or the whole run as a self-contained HTML timeline.',
  args: '<trace.json>',
  options: {
    step: { type: 'string', value: 'K', help: 'the step to show (default: the last step applied); with --html, the column to highlight', int: [0, Number.MAX_SAFE_INTEGER] },
    html: { type: 'string', value: 'FILE', help: 'write the whole run as one HTML page to FILE and print its path (FILE#sK jumps to step K)' },
  },
  details: `The text shows per pCPU its mode and UIE; per vCPU the inflight list, lr_pending and the
decoded LRs. The page has the steps across and each vCPU's LRs and lists down, changed cells
outlined, crashes, aborts and failed expectations highlighted.

exit status: 0 the dump was produced (also for a trace that stops with a trace error or a
crash: use vgic replay to judge a trace); 2 bad usage, an unreadable or invalid trace, a step
outside the trace, or an HTML file that cannot be written.`,
};

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

  const trace = loadTraceFile(positionals[0]!);
  if (E.isLeft(trace)) {
    io.err(`${trace.left.join('\n')}\n`);
    return 2;
  }
  const run = collectSteps(trace.right);
  if (E.isLeft(run)) {
    io.err(`${positionals[0]}: ${run.left}\n`);
    return 2;
  }

  if (htmlFile === undefined) {
    const text = renderText(run.right, step);
    if (E.isLeft(text)) {
      io.err(`vgic dump: ${text.left}\n`);
      return 2;
    }
    io.out(`${text.right}\n`);
    return 0;
  }

  const page = renderHtml(run.right, step === undefined ? {} : { step });
  if (E.isLeft(page)) {
    io.err(`vgic dump: ${page.left}\n`);
    return 2;
  }
  try {
    writeFileSync(htmlFile, page.right, 'utf8');
  } catch (e) {
    io.err(`${htmlFile}: cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    return 2;
  }
  const stopped = run.right.stopped;
  if (stopped !== null) io.err(`note: the trace stops with a trace error at step ${stopped.step}: ${stopped.message}\n`);
  io.out(`${htmlFile}\n`);
  return 0;
}
