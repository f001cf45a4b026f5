/**
 * `vgic replay`: run trace files, check every expectation (FORMAT.md §6) and report one line
 * per trace, with the step, op, JSON path, expected and actual value of a failure.
 * Exit status: 0 all pass, 1 an expectation failed, 2 invalid input or a trace error.
 */
import * as E from 'fp-ts/lib/Either.js';
import { basename } from 'node:path';
import { escapeControl as esc } from '../machine/decode.js';
import type { MutantName } from '../xen/mutants.js';
import { show } from './schema.js';
import { expandPaths, loadTraceFile, runTrace, type RunOptions, type TraceReport } from './trace.js';

export interface ReplaySummary {
  reports: TraceReport[];
  passed: number;
  failed: number;
  errors: number;
  /** 0, 1 or 2 as the command exits. */
  exitCode: 0 | 1 | 2;
}

export interface ReplayOptions {
  mutant?: MutantName | null;
  check?: RunOptions['check'];
}

/** Replay files and directories; problems reading or decoding a file are `error` reports. */
export function replayPaths(paths: readonly string[], opts: ReplayOptions = {}): ReplaySummary {
  const reports: TraceReport[] = [];
  const files = expandPaths(paths);
  if (E.isLeft(files)) {
    for (const e of files.left) reports.push({ name: e.split(':')[0]!, status: 'error', steps: 0, checked: 0, error: e });
  } else {
    for (const file of files.right) {
      const trace = loadTraceFile(file);
      if (E.isLeft(trace)) {
        reports.push({ name: file, file, status: 'error', steps: 0, checked: 0, error: trace.left.join('\n') });
        continue;
      }
      const run: RunOptions = {};
      if (opts.mutant !== undefined && opts.mutant !== null) run.mutant = opts.mutant;
      if (opts.check !== undefined) run.check = opts.check;
      reports.push({ ...runTrace(trace.right, run), file });
    }
  }
  return summarise(reports);
}

export function summarise(reports: TraceReport[]): ReplaySummary {
  const passed = reports.filter((r) => r.status === 'pass').length;
  const failed = reports.filter((r) => r.status === 'fail').length;
  const errors = reports.filter((r) => r.status === 'error').length;
  const exitCode = errors > 0 ? 2 : failed > 0 ? 1 : 0;
  return { reports, passed, failed, errors, exitCode };
}

/** One line per trace (failures and errors add indented detail lines), then a total. */
export function formatReplay(s: ReplaySummary): string {
  const lines: string[] = [];
  // Names, files and values come from the input: control characters are escaped (a name
  // cannot start a new report line or colour the terminal).
  const width = Math.min(60, Math.max(10, ...s.reports.map((r) => esc(r.name).length)));
  for (const r of s.reports) {
    const tag = r.status === 'pass' ? 'PASS ' : r.status === 'fail' ? 'FAIL ' : 'ERROR';
    // The file is shown unless the trace is named after it.
    const where = r.file !== undefined && basename(r.file) !== `${r.name}.json` ? `  ${esc(r.file)}` : '';
    lines.push(`${tag} ${esc(r.name).padEnd(width)} ${String(r.steps).padStart(4)} steps ${String(r.checked).padStart(4)} checks${where}`);
    if (r.failure !== undefined) {
      const f = r.failure;
      lines.push(`      step ${f.step} (${esc(f.op)}): ${esc(f.path)}${f.why !== undefined ? ` (${esc(f.why)})` : ''}`);
      lines.push(`        expected: ${esc(show(f.expected))}`);
      lines.push(`        actual:   ${esc(show(f.actual))}`);
    }
    if (r.violation !== undefined) {
      lines.push(`      step ${r.violation.step} (${r.violation.op}) breaks:`);
      for (const f of r.violation.findings) lines.push(`        ${esc(f)}`);
    }
    // An error's lines are separate problems, each escaped on its own.
    if (r.error !== undefined) for (const l of r.error.split('\n')) lines.push(`      ${esc(l)}`);
  }
  lines.push(`${s.reports.length} traces: ${s.passed} passed, ${s.failed} failed, ${s.errors} errors`);
  return lines.join('\n');
}

/** The `--json` report. */
export function replayJson(s: ReplaySummary): unknown {
  return {
    traces: s.reports.map((r) => ({
      name: r.name,
      ...(r.file !== undefined ? { file: r.file } : {}),
      status: r.status,
      steps: r.steps,
      checked: r.checked,
      ...(r.failure !== undefined ? {
        failure: {
          step: r.failure.step, op: r.failure.op, path: r.failure.path,
          expected: r.failure.expected ?? null, actual: r.failure.actual ?? null,
          ...(r.failure.why !== undefined ? { why: r.failure.why } : {}),
        },
      } : {}),
      ...(r.violation !== undefined ? { violation: r.violation } : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
    })),
    passed: s.passed,
    failed: s.failed,
    errors: s.errors,
    exit: s.exitCode,
  };
}
