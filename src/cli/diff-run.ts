/**
 * The body of `vgic diff` (diff.ts reads the options and may have started the other side).
 */
import * as E from 'fp-ts/lib/Either.js';
import { writeFileSync } from 'node:fs';
import {
  compareOptionsFor, divergenceTrace, recordModelRun, shrinkCase, startCase, type CompareLevel, type CompareOptions, type DiffCase, type Divergence, type ModelRun, type RunningCase,
} from '../conformance/diff.js';
import { ModelDriver, ProcessDriver, ProtocolError } from '../conformance/driver.js';
import { generateTraceWithOps, type GenOptions } from '../conformance/gen.js';
import { show } from '../conformance/schema.js';
import type { StartedSide } from '../conformance/spawn.js';
import { TRACE_FORMAT, expandPaths, loadTraceFile } from '../conformance/trace.js';
import { escapeControl as esc } from '../machine/decode.js';
import { OP_NAMES } from '../machine/ops.js';
import type { Io } from './args.js';
import { explainDivergence } from '../check/divergences.js';
import { DIVERGENCES, type DivergenceName } from '../xen/divergences.js';

/** At most this much snapshot text is held by cases generated while the other side starts. */
const EARLY_BYTES = 64 * 1024 * 1024;

function stripExpect(step: Record<string, unknown>): Record<string, unknown> {
  const { expect: _expect, ...rest } = step;
  return rest;
}

/** What diff.ts read from the command line. */
export interface DiffOptions {
  positionals: readonly string[];
  against: string;
  random: number;
  seed: number;
  gen: GenOptions;
  outFile: string;
  timeout: number;
  level: CompareLevel;
  allowed: DivergenceName[];
}

/** Run the diff; `started`: the other side, already started (random cases), else started here. */
export async function runDiff(d: DiffOptions, io: Io, started: StartedSide | null): Promise<number> {
  const { positionals, against, random, seed, gen, outFile, timeout, level, allowed } = d;
  // Trace files (there are none with --random, whose other side diff.ts has started already)
  // are read before the other side is started, so bad input costs nothing.
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

  const model = new ModelDriver();
  const other = new ProcessDriver(against, timeout, started);
  /** A random case generated with every op and run on the model (RESULTs and snapshots recorded). */
  const generate = (i: number, ops: ReadonlySet<string>): { c: DiffCase; ran: ModelRun } => {
    // The generator's machine is the reference model's run of the case: its RESULTs and
    // snapshots are kept as it goes, so the model side need not run the steps again.
    const { run, watch } = recordModelRun(level);
    const tr = generateTraceWithOps(seed + i, { ...gen, ops }, watch).trace;
    return { c: { name: tr.name, config: tr.config, steps: tr.steps }, ran: run };
  };
  try {
    // While the other side starts and answers hello, the first random cases are generated
    // and run on the model as if it lists every op (what `vgic serve` does); they are used
    // only if its hello does list every op, else generated again with its ops.
    const helloing = other.hello();
    let answered = false;
    helloing.then(() => { answered = true; }, () => { answered = true; });
    const early: ({ c: DiffCase; ran: ModelRun } | undefined)[] = [];
    const everyOp: ReadonlySet<string> = new Set<string>(OP_NAMES);
    for (let held = 0; random > 0 && !answered && early.length < random && held < EARLY_BYTES;) {
      const g = generate(early.length, everyOp);
      early.push(g);
      for (const t of g.ran.snaps) held += t.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const hello = await helloing;
    if (hello.format !== TRACE_FORMAT) throw new ProtocolError(other.label, `speaks ${JSON.stringify(hello.format)}, not ${TRACE_FORMAT}`);
    const unknown = [...new Set(hello.ops)].filter((op) => !everyOp.has(op));
    if (unknown.length > 0) {
      throw new ProtocolError(other.label, `lists ops in hello that vgic-trace/1 does not have: ${unknown.map((op) => JSON.stringify(op)).join(', ')} (known: ${OP_NAMES.join(', ')})`);
    }
    const compare = compareOptionsFor(level, hello);
    if (E.isLeft(compare)) {
      io.err(`vgic diff: ${esc(other.label)} ${compare.left}\n`);
      return 2;
    }
    const opts: CompareOptions = allowed.length === 0 ? compare.right
      : { ...compare.right, allow: (d: Divergence, c: DiffCase) => explainDivergence(c, d, allowed) };
    const allowedBy: Record<string, number> = {};
    const ops = new Set(hello.ops);
    if (ops.size !== everyOp.size) early.length = 0; // (ops holds no unknown op: the same size is the same set)
    io.err(`vgic diff: against ${esc(hello.name)} (${hello.ops.length} ops: ${esc(hello.ops.join(', '))})\n`);
    let compared = 0;
    let allowedCases = 0;
    let stepsCompared = 0;
    let skipped = 0;
    const total = random > 0 ? random : fileCases.length;
    /** Case i, ready to run, or why it is skipped (said when its turn comes). */
    const prepare = (i: number): { c: DiffCase; skip: string | null; ran: ModelRun | null } => {
      if (random > 0) {
        const g = early[i] ?? generate(i, ops);
        early[i] = undefined;
        return { c: g.c, skip: null, ran: g.ran };
      }
      const c = fileCases[i]!;
      const missing = [...new Set(c.steps.map((s) => String(s['op'])))].filter((op) => !ops.has(op));
      return { c, skip: missing.length > 0 ? `skipped ${esc(c.name)}: the other side does not support ${esc(missing.join(', '))}\n` : null, ran: null };
    };
    /** Case i prepared and, unless skipped, started (its first requests written; see startCase). */
    const begin = (i: number): { c: DiffCase; skip: string | null; run: RunningCase | null } => {
      const p = prepare(i);
      return { c: p.c, skip: p.skip, run: p.skip === null ? startCase(model, other, p.c, opts, p.ran) : null };
    };
    // One case ahead: case i+1 is generated, run on the model and sent while the other side
    // still answers case i (answers come back in order; a case not needed is abandoned). A
    // case too long to be sent in one window is finished first: the next one starts after it.
    let current = total > 0 ? begin(0) : null;
    for (let i = 0; i < total; i++) {
      const { c, skip, run } = current!;
      const ahead = run === null || run.allSent();
      current = i + 1 < total && ahead ? begin(i + 1) : null;
      if (run === null) {
        io.err(skip!);
        skipped += 1;
        continue;
      }
      const outcome = await run.finish();
      if (!ahead && i + 1 < total) current = begin(i + 1);
      if (outcome.kind !== 'same' && outcome.kind !== 'allowed') current?.run?.abandon();
      if (outcome.kind === 'invalid') {
        io.err(`${esc(c.name)}: the model rejects it at ${outcome.step < 0 ? 'reset' : `step ${outcome.step}`}: ${esc(outcome.error)}\n`);
        return 2;
      }
      compared += 1;
      if (outcome.kind === 'allowed') {
        // A known divergence (CompareOptions.allow): the case ends there, counted, not reported.
        allowedCases += 1;
        allowedBy[outcome.name] = (allowedBy[outcome.name] ?? 0) + 1;
        stepsCompared += outcome.steps;
        continue;
      }
      if (outcome.kind === 'same') {
        stepsCompared += outcome.steps;
        if (io.tty) io.err(`\rvgic diff: ${i + 1}/${total} cases, ${stepsCompared} steps, no divergence`);
        continue;
      }
      if (io.tty) io.err('\n');
      const d = outcome.divergence;
      io.out(`divergence in ${esc(c.name)} at step ${d.step} (${esc(d.op)}): ${esc(d.path)}${d.why !== undefined ? ` (${d.why})` : ''}\n`);
      io.out(`  model: ${esc(show(d.model))}\n  other: ${esc(show(d.other))}\n`);
      // Is it a known difference between Xen and the architecture or KVM?
      const known = explainDivergence(c, d);
      if (known !== null) {
        const info = DIVERGENCES[known];
        io.out(`  this is the divergence catalogue entry ${known} (${info.ref}: ${info.rule}); docs/divergences.md; --allow ${known} accepts it\n`);
      } else io.out('  no entry of the divergence catalogue explains it (docs/divergences.md)\n');
      const shrunk = await shrinkCase(model, other, c, d, undefined, opts);
      const sd = shrunk.divergence;
      writeFileSync(outFile, `${JSON.stringify(divergenceTrace(shrunk, against), null, 1)}\n`);
      io.out(`shrunk from ${d.step + 1} to ${shrunk.case.steps.length} steps (${shrunk.runs} runs): step ${sd.step} (${esc(sd.op)}): ${esc(sd.path)}${sd.why !== undefined ? ` (${sd.why})` : ''}\n`);
      io.out(`  model: ${esc(show(sd.model))}\n  other: ${esc(show(sd.other))}\n`);
      io.out(`written to ${outFile} (replay it with: vgic replay ${outFile})\n`);
      return 1;
    }
    if (io.tty && compared > 0) io.err('\n');
    const skippedText = skipped > 0 ? `, ${skipped} skipped` : '';
    if (stepsCompared === 0) {
      const why = hello.ops.length === 0 ? 'the other side lists no ops in hello'
        : compared === 0 ? 'every trace needs an op the other side does not list'
          : random > 0 ? `the generator could place no step with the other side's ops (${hello.ops.join(', ')})`
            : 'the traces compared have no steps';
      io.out(`nothing compared: ${compared} traces, 0 steps${skippedText}: ${why}\n`);
      return 1;
    }
    const what = level === 'full' ? 'results and snapshots' : level === 'guest' ? 'results and guest snapshots' : 'results only';
    const allowedText = allowedCases > 0
      ? `, ${allowedCases} ended at an allowed divergence (${Object.entries(allowedBy).sort().map(([n, k]) => `${n} ${k}`).join(', ')})` : '';
    io.out(`no divergence: ${compared} traces, ${stepsCompared} steps compared (${what})${skippedText}${allowedText}\n`);
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
