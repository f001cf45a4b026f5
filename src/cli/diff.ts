/**
 * `vgic diff --against "<command>"`: run the same steps on the model and on another
 * implementation behind the driver protocol; shrink and write out the first divergence.
 * Exit status: 0 no divergence, 1 a divergence (trace written), 2 bad usage, invalid traces
 * or a side that breaks the protocol.
 */
import * as E from 'fp-ts/lib/Either.js';
import { writeFileSync } from 'node:fs';
import { divergenceTrace, runCase, shrinkCase, type DiffCase } from '../conformance/diff.js';
import { ModelDriver, ProcessDriver, ProtocolError, type Driver } from '../conformance/driver.js';
import { generateTrace } from '../conformance/gen.js';
import { show } from '../conformance/schema.js';
import { TRACE_FORMAT, expandPaths, loadTraceFile } from '../conformance/trace.js';
import { escapeControl as esc } from '../machine/decode.js';
import { intOption, parse, str, UsageError, type Io } from './args.js';
import { GEN_OPTIONS, GEN_USAGE, genOptions } from './gen-options.js';

export const DIFF_USAGE = `vgic diff --against "<command>" (<trace.json|dir>... | --random N ${GEN_USAGE}) [--out FILE] [--timeout MS]`;

function stripExpect(step: Record<string, unknown>): Record<string, unknown> {
  const { expect: _expect, ...rest } = step;
  return rest;
}

export async function diffCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...GEN_OPTIONS, against: { type: 'string' }, random: { type: 'string' }, out: { type: 'string' }, timeout: { type: 'string' },
  });
  const against = str(values['against']);
  if (against === undefined || against.trim() === '') throw new UsageError(`--against "<command>" is required\nusage: ${DIFF_USAGE}`);
  const randomRaw = str(values['random']);
  if (randomRaw === undefined && positionals.length === 0) throw new UsageError(`give trace files or directories, or --random N\nusage: ${DIFF_USAGE}`);
  if (randomRaw !== undefined && positionals.length > 0) throw new UsageError('give either trace files or --random N, not both');
  const random = randomRaw === undefined ? 0 : intOption('random', randomRaw, 0, 1, 10_000_000);
  const { seed, gen } = genOptions(values);
  const outFile = str(values['out']) ?? 'vgic-diff-divergence.json';
  const timeout = intOption('timeout', str(values['timeout']), 20000, 100, 3_600_000);

  // Trace files are read before anything is started, so bad input costs nothing.
  const fileCases: DiffCase[] = [];
  if (positionals.length > 0) {
    const files = expandPaths(positionals);
    if (E.isLeft(files)) {
      io.err(`${files.left.map(esc).join('\n')}\n`);
      return 2;
    }
    const errors: string[] = [];
    for (const f of files.right) {
      const tr = loadTraceFile(f);
      if (E.isLeft(tr)) errors.push(...tr.left);
      else fileCases.push({ name: tr.right.name, config: tr.right.rawConfig, steps: tr.right.steps.map((s) => stripExpect(s.raw)) });
    }
    if (errors.length > 0) {
      io.err(`${errors.map(esc).join('\n')}\n`);
      return 2;
    }
  }

  const model: Driver = new ModelDriver();
  const other = new ProcessDriver(against, timeout);
  try {
    const hello = await other.hello();
    if (hello.format !== TRACE_FORMAT) throw new ProtocolError(other.label, `speaks ${JSON.stringify(hello.format)}, not ${TRACE_FORMAT}`);
    const ops = new Set(hello.ops);
    io.err(`vgic diff: against ${esc(hello.name)} (${hello.ops.length} ops: ${esc(hello.ops.join(', '))})\n`);
    let compared = 0;
    let stepsCompared = 0;
    let skipped = 0;
    const total = random > 0 ? random : fileCases.length;
    for (let i = 0; i < total; i++) {
      let c: DiffCase;
      if (random > 0) {
        const tr = generateTrace(seed + i, { ...gen, ops });
        c = { name: tr.name, config: tr.config, steps: tr.steps };
      } else {
        c = fileCases[i]!;
        const missing = [...new Set(c.steps.map((s) => String(s['op'])))].filter((op) => !ops.has(op));
        if (missing.length > 0) {
          io.err(`skipped ${esc(c.name)}: the other side does not support ${esc(missing.join(', '))}\n`);
          skipped += 1;
          continue;
        }
      }
      const outcome = await runCase(model, other, c);
      if (outcome.kind === 'invalid') {
        io.err(`${esc(c.name)}: the model rejects it at ${outcome.step < 0 ? 'reset' : `step ${outcome.step}`}: ${esc(outcome.error)}\n`);
        return 2;
      }
      compared += 1;
      if (outcome.kind === 'same') {
        stepsCompared += outcome.steps;
        if (io.tty) io.err(`\rvgic diff: ${i + 1}/${total} cases, ${stepsCompared} steps, no divergence`);
        continue;
      }
      if (io.tty) io.err('\n');
      const d = outcome.divergence;
      io.out(`divergence in ${esc(c.name)} at step ${d.step} (${esc(d.op)}): ${esc(d.path)}${d.why !== undefined ? ` (${d.why})` : ''}\n`);
      io.out(`  model: ${esc(show(d.model))}\n  other: ${esc(show(d.other))}\n`);
      const shrunk = await shrinkCase(model, other, c, d);
      const sd = shrunk.divergence;
      writeFileSync(outFile, `${JSON.stringify(divergenceTrace(shrunk, against), null, 1)}\n`);
      io.out(`shrunk from ${d.step + 1} to ${shrunk.case.steps.length} steps (${shrunk.runs} runs): step ${sd.step} (${esc(sd.op)}): ${esc(sd.path)}${sd.why !== undefined ? ` (${sd.why})` : ''}\n`);
      io.out(`  model: ${esc(show(sd.model))}\n  other: ${esc(show(sd.other))}\n`);
      io.out(`written to ${outFile} (replay it with: vgic replay ${outFile})\n`);
      return 1;
    }
    if (io.tty && compared > 0) io.err('\n');
    io.out(`no divergence: ${compared} traces, ${stepsCompared} steps compared (results and snapshots)${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ProtocolError) {
      io.err(`vgic diff: ${esc(e.message)}\n`);
      return 2;
    }
    throw e;
  } finally {
    await other.close();
  }
}
