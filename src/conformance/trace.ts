/**
 * vgic-trace/1 files (docs/trace-format.md §2, §6): decoding a whole trace up front (config, every
 * op, every EXPECT), running it on a Machine, and checking each expectation right after its
 * step. The core stays free of I/O; reading files is `loadTraceFile`'s only job.
 */
import * as E from 'fp-ts/lib/Either.js';
import { closeSync, constants, fstatSync, openSync, readFileSync, readdirSync, statSync, type Stats } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { basename, join } from 'node:path';
import * as t from 'io-ts';
import { decodeConfig, type Config } from '../machine/config.js';
import { anyJson, decodeWith, escapeControl, oneOf, strictObject } from '../machine/decode.js';
import { Machine, TraceError, type Result } from '../machine/machine.js';
import { decodeOp, decodeOpFast, type Op } from '../machine/ops.js';
import type { Snapshot } from '../machine/snapshot.js';
import type { MutantName } from '../xen/mutants.js';
import { jsonErrorText, parseJson } from './json.js';
import { MAX_TRACE_FILE_BYTES, formatBytes } from './limits.js';
import { decodeTraceBytes } from './trace-bytes.js';
import { PartialResultCodec, PartialSnapshotCodec, RESULT, SNAPSHOT, canonical, matchPartial, type Mismatch } from './schema.js';

export const TRACE_FORMAT = 'vgic-trace/1';

export interface Expect {
  result?: Record<string, unknown>;
  snapshot?: Record<string, unknown>;
}

export interface Step {
  op: Op;
  expect?: Expect;
  /** The step as written (for reports and for writing traces back out). */
  raw: Record<string, unknown>;
}

export interface Trace {
  name: string;
  description?: string;
  refs?: string[];
  config: Config;
  /** The config as written. */
  rawConfig: unknown;
  steps: Step[];
}

/** An array, its elements left to decodeStep (an io-ts array codec would walk every step once more). */
const StepArray = new t.Type<unknown[], unknown[], unknown>(
  'an array of steps', (u): u is unknown[] => Array.isArray(u), (u, c) => (Array.isArray(u) ? t.success(u) : t.failure(u, c)), t.identity,
);

const TraceCodec = strictObject(
  'trace',
  { format: oneOf([TRACE_FORMAT] as const), config: anyJson('a config object'), steps: StepArray },
  { name: t.string, description: t.string, refs: t.array(t.string) },
);

const ExpectCodec = strictObject('expect', {}, { result: PartialResultCodec, snapshot: PartialSnapshotCodec });

/** Decode one step with its EXPECT; errors carry the JSON path under `base`. */
export function decodeStep(u: unknown, base: string): E.Either<string[], Step> {
  const op = decodeOp(u, base);
  const errors: string[] = E.isLeft(op) ? [...op.left] : [];
  let expect: Expect | undefined;
  if (typeof u === 'object' && u !== null && 'expect' in u) {
    const r = decodeWith(ExpectCodec, (u as Record<string, unknown>)['expect'], `${base}.expect`);
    if (E.isLeft(r)) errors.push(...r.left);
    else expect = r.right as Expect;
  }
  if (errors.length > 0 || E.isLeft(op)) return E.left(errors);
  return E.right({ op: op.right, raw: u as Record<string, unknown>, ...(expect !== undefined ? { expect } : {}) });
}

/** The trace's own keys decoded (decodeTraceHead): everything but the steps. */
export interface TraceHead {
  name: string;
  description?: string;
  refs?: string[];
  /** Undefined when the config does not decode (then `configErrors` says why). */
  config: Config | undefined;
  configErrors: string[];
  rawConfig: unknown;
  /** The steps as parsed, not decoded. */
  rawSteps: unknown[];
}

/** Decode the keys of a trace besides its steps (already parsed JSON). Left: the trace object itself is malformed. */
export function decodeTraceHead(u: unknown, fallbackName = 'trace'): E.Either<string[], TraceHead> {
  const top = decodeWith(TraceCodec, u);
  if (E.isLeft(top)) return top;
  const tr = top.right;
  const config = decodeConfig(tr.config, 'config');
  return E.right({
    name: tr.name ?? fallbackName,
    ...(tr.description !== undefined ? { description: tr.description } : {}),
    ...(tr.refs !== undefined ? { refs: tr.refs } : {}),
    config: E.isRight(config) ? config.right : undefined,
    configErrors: E.isLeft(config) ? config.left : [],
    rawConfig: tr.config,
    rawSteps: tr.steps,
  });
}

/** Decode a whole trace (already parsed JSON). Left: every problem found, with paths. */
export function decodeTrace(u: unknown, fallbackName = 'trace'): E.Either<string[], Trace> {
  const head = decodeTraceHead(u, fallbackName);
  if (E.isLeft(head)) return head;
  const tr = head.right;
  const errors: string[] = [...tr.configErrors];
  const steps: Step[] = new Array<Step>(tr.rawSteps.length);
  let n = 0;
  for (let i = 0; i < tr.rawSteps.length; i++) {
    const s = tr.rawSteps[i];
    // The common case, a well-formed step without EXPECT, takes the fast path (no path text,
    // no Either); anything else is decoded with its messages.
    const op = decodeOpFast(s);
    if (op !== null && (s as Record<string, unknown>)['expect'] === undefined) {
      steps[n++] = { op, raw: s as Record<string, unknown> };
      continue;
    }
    const r = decodeStep(s, `steps[${i}]`);
    if (E.isLeft(r)) errors.push(...r.left);
    else steps[n++] = r.right;
  }
  steps.length = n;
  if (errors.length > 0 || tr.config === undefined) return E.left(errors);
  return E.right({
    name: tr.name,
    ...(tr.description !== undefined ? { description: tr.description } : {}),
    ...(tr.refs !== undefined ? { refs: tr.refs } : {}),
    config: tr.config,
    rawConfig: tr.rawConfig,
    steps,
  });
}

/** What a file system error means, for a message (`ENOENT (no such file or directory)`). */
function fsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const meaning: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', ELOOP: 'a loop of symbolic links',
    ENOTDIR: 'a path component is not a directory', ENAMETOOLONG: 'the name is too long', EISDIR: 'a directory',
  };
  if (code === undefined) return escapeControl(String(e));
  return meaning[code] !== undefined ? `${code} (${meaning[code]})` : code;
}

/** What a file that is not a regular file is. */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The bytes of a trace file, or a message starting with the file name: only a regular file
 * (a FIFO or a device could block or never end), at most MAX_TRACE_FILE_BYTES, without a byte
 * order mark. The file is checked with stat before it is opened, and again on the open
 * descriptor (opened non-blocking, so that a FIFO put in its place cannot hang the read).
 * Whether the bytes are UTF-8 is readTraceText's question.
 */
export function readTraceBytes(file: string): E.Either<string, Buffer> {
  const refuse = (st: Stats): string | null => {
    if (!st.isFile()) return `${file}: cannot read: it is ${fileKind(st)}, and a trace must be a regular file`;
    if (st.size > MAX_TRACE_FILE_BYTES) {
      return `${file}: ${st.size} bytes is larger than the limit of ${formatBytes(MAX_TRACE_FILE_BYTES)} for a trace file`;
    }
    return null;
  };
  let fd: number;
  try {
    const before = refuse(statSync(file));
    if (before !== null) return E.left(before);
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return E.left(`${file}: cannot read: ${fsProblem(e)}`);
  }
  let bytes: Buffer;
  try {
    const after = refuse(fstatSync(fd));
    if (after !== null) return E.left(after);
    bytes = readFileSync(fd);
  } catch (e) {
    return E.left(`${file}: cannot read: ${fsProblem(e)}`);
  } finally {
    closeSync(fd);
  }
  if (bytes.length > MAX_TRACE_FILE_BYTES) {
    return E.left(`${file}: more than ${formatBytes(MAX_TRACE_FILE_BYTES)}, the limit for a trace file (it grew while it was read)`);
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return E.left(`${file}: starts with a UTF-8 byte order mark (bytes EF BB BF), which a JSON trace must not have: save it as UTF-8 without a BOM`);
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return E.left(`${file}: starts with a UTF-16 byte order mark: a trace must be UTF-8 text`);
  }
  return E.right(bytes);
}

/** The bytes of a trace file as text (readTraceBytes), which must be UTF-8. */
function traceText(file: string, bytes: Buffer): E.Either<string, string> {
  try {
    return E.right(UTF8.decode(bytes));
  } catch {
    return E.left(`${file}: not valid UTF-8 text`);
  }
}

/** The text of a trace file (readTraceBytes, then UTF-8), or a message starting with the file name. */
export function readTraceText(file: string): E.Either<string, string> {
  const bytes = readTraceBytes(file);
  return E.isLeft(bytes) ? bytes : traceText(file, bytes.right);
}

export interface LoadOptions {
  /**
   * Steps written with the same bytes may share one Step object (decodeTraceBytes): much
   * less memory and time for a long trace, for a caller that does not change the steps.
   * Otherwise every step is an object of its own.
   */
  shareSteps?: boolean;
}

/** Read and decode a trace file; Left lines start with the file name. */
export function loadTraceFile(file: string, opts: LoadOptions = {}): E.Either<string[], Trace> {
  const bytes = readTraceBytes(file);
  if (E.isLeft(bytes)) return E.left([bytes.left]);
  const fallbackName = basename(file).replace(/\.json$/, '');
  if (opts.shareSteps === true && isUtf8(bytes.right)) {
    // The fast way answers exactly what the careful way below would, or declines.
    const fast = decodeTraceBytes(bytes.right, fallbackName);
    if (fast !== null) return E.right(fast);
  }
  const text = traceText(file, bytes.right);
  if (E.isLeft(text)) return E.left([text.left]);
  const json = parseJson(text.right);
  if (E.isLeft(json)) return E.left([`${file}: ${jsonErrorText(json.left)}`]);
  const r = decodeTrace(json.right, fallbackName);
  return E.mapLeft((lines: string[]) => lines.map((l) => `${file}: ${l}`))(r);
}

/**
 * Expand directories (their *.json files, sorted, recursively) into a file list. A directory
 * met again below itself (a symbolic link loop: same device and inode as a directory on the
 * current walk path) is an error, and so is an entry that cannot be read and a directory
 * given on the command line that holds no *.json file.
 */
export function expandPaths(paths: readonly string[]): E.Either<string[], string[]> {
  const out: string[] = [];
  const errors: string[] = [];
  /** The directories of the current walk path, by device:inode. */
  const onPath = new Map<string, string>();
  const walk = (p: string, top: boolean): void => {
    let st;
    try {
      st = statSync(p, { bigint: true });
    } catch (e) {
      errors.push(`${p}: cannot read: ${fsProblem(e)}`);
      return;
    }
    if (!st.isDirectory()) {
      if (top || p.endsWith('.json')) out.push(p);
      return;
    }
    const id = `${st.dev}:${st.ino}`;
    const ancestor = onPath.get(id);
    if (ancestor !== undefined) {
      errors.push(`${p}: a symbolic link loop: this is the directory ${ancestor} again, which contains it`);
      return;
    }
    let names: string[];
    try {
      names = readdirSync(p).sort();
    } catch (e) {
      errors.push(`${p}: cannot read: ${fsProblem(e)}`);
      return;
    }
    const found = out.length;
    const failed = errors.length;
    onPath.set(id, p);
    for (const name of names) {
      const sub = join(p, name);
      if (name.endsWith('.json')) {
        walk(sub, false);
        continue;
      }
      let isDir: boolean;
      try {
        isDir = statSync(sub).isDirectory();
      } catch (e) {
        errors.push(`${sub}: cannot read: ${fsProblem(e)}`);
        continue;
      }
      if (isDir) walk(sub, false);
    }
    onPath.delete(id);
    if (top && out.length === found && errors.length === failed) errors.push(`${p}: no *.json trace file in this directory or below it`);
  };
  for (const p of paths) walk(p, true);
  if (errors.length > 0) return E.left(errors);
  return E.right(out);
}

// ----- running -----

/** What a step produced, in the JSON form docs/trace-format.md §4 gives it. */
export function resultJson(r: Result): Record<string, unknown> {
  return canonical(RESULT, r) as Record<string, unknown>;
}

export interface StepEvent {
  index: number;
  step: Step;
  result: Result;
  machine: Machine;
}

export type TraceStatus = 'pass' | 'fail' | 'error';

export interface ExpectFailure extends Mismatch {
  step: number;
  op: string;
}

export interface TraceReport {
  name: string;
  /** Invariants or properties violated (with `check`): the step and one line each. */
  violation?: { step: number; op: string; findings: string[] };
  file?: string;
  status: TraceStatus;
  /** Steps applied (a trace error's step not included). */
  steps: number;
  /** Expectations checked. */
  checked: number;
  failure?: ExpectFailure;
  /** Trace error or invalid input. */
  error?: string;
}

export interface RunOptions {
  mutant?: MutantName | null;
  /** Called after every applied step (before its expectations are checked). */
  onStep?: (e: StepEvent) => void;
  /**
   * A per-step check (the invariant checker and properties of src/check) made for the
   * machine; what it reports after a step fails the trace.
   */
  check?: (m: Machine) => { before(op: Op): void; after(op: Op, r: Result): { id: string; message: string }[] };
  /** Keep going after a failed expectation (still reports the first). */
  keepGoing?: boolean;
}

/**
 * Run a decoded trace on a fresh machine. The first failed expectation makes it `fail`; a
 * trace error (broken precondition) makes it `error` and stops the run.
 */
const NONE: readonly { id: string; message: string }[] = [];

export function runTrace(trace: Trace, opts: RunOptions = {}): TraceReport {
  const report: TraceReport = { name: trace.name, status: 'pass', steps: 0, checked: 0 };
  const created = Machine.fromJson(trace.rawConfig, 'config', opts.mutant ?? null);
  if (E.isLeft(created)) return { ...report, status: 'error', error: created.left.join('; ') };
  const m = created.right;
  const monitor = opts.check?.(m);
  for (let i = 0; i < trace.steps.length; i++) {
    const step = trace.steps[i]!;
    monitor?.before(step.op);
    const r = m.apply(step.op, i);
    if (r instanceof TraceError) return { ...report, status: 'error', error: r.message };
    report.steps = i + 1;
    opts.onStep?.({ index: i, step, result: r, machine: m });
    const found = monitor === undefined ? NONE : monitor.after(step.op, r);
    if (found.length > 0 && report.violation === undefined) {
      report.status = 'fail';
      report.violation = { step: i, op: step.op.op, findings: found.map((f) => `${f.id}: ${f.message}`) };
      if (opts.keepGoing !== true) return report;
    }
    if (step.expect === undefined) continue;
    const miss = checkExpect(step.expect, r, () => m.snapshot(), m.crashed !== null);
    report.checked += 1;
    if (typeof miss === 'string') return { ...report, status: 'error', error: `step ${i} (${step.op.op}): ${miss}` };
    if (miss !== null && report.failure === undefined) {
      report.status = 'fail';
      report.failure = { step: i, op: step.op.op, ...miss };
      if (opts.keepGoing !== true) return report;
    }
  }
  return report;
}

/**
 * Check one EXPECT against a step's RESULT and the snapshot after it. A string is a trace
 * error (a snapshot expected after a crash, when the machine has none).
 */
export function checkExpect(expect: Expect, result: Result, snapshot: () => Snapshot, crashed: boolean): Mismatch | null | string {
  if (expect.result !== undefined) {
    const m = matchPartial(RESULT, expect.result, resultJson(result), 'result');
    if (m !== null) return m;
  }
  if (expect.snapshot !== undefined) {
    if (crashed) return 'a snapshot is expected, but the machine crashed at this step and has none (docs/trace-format.md §4)';
    const m = matchPartial(SNAPSHOT, expect.snapshot, snapshot(), 'snapshot');
    if (m !== null) return m;
  }
  return null;
}
