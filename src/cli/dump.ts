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
import { intOption, parse, str, type Io, UsageError } from './args.js';

export const DUMP_USAGE = 'vgic dump <trace.json> [--step K] [--html FILE]';

export function dumpCommand(argv: string[], io: Io): number {
  const { values, positionals } = parse(argv, { step: { type: 'string' }, html: { type: 'string' } });
  if (positionals.length !== 1) {
    throw new UsageError(`dump needs exactly one trace file${positionals.length > 1 ? ` (got ${positionals.length})` : ''}\nusage: ${DUMP_USAGE}`);
  }
  const rawStep = str(values['step']);
  const step = rawStep === undefined ? undefined : intOption('step', rawStep, 0, 0, Number.MAX_SAFE_INTEGER);
  const htmlFile = str(values['html']);
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
