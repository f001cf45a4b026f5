/**
 * `vgic replay`: run trace files, check every expectation (trace-format §6) and report one line
 * per trace, with the step, op, JSON path, expected and actual value of a failure.
 * Exit status: 0 all pass, 1 an expectation failed or nothing was checked at all, 2 invalid
 * input or a trace error. A trace that carries no expectation (and runs without `check`)
 * passes nothing: it is reported as unchecked; it fails the run only when no trace of the
 * run checked anything.
 */
import * as E from 'fp-ts/lib/Either.js';
import { basename } from 'node:path';
import { escapeControl as esc } from '../machine/decode.js';
import type { MutantName } from '../xen/mutants.js';
import { show } from './schema.js';
import { expandPaths, loadTraceFile, runTrace, type RunOptions, type TraceReport } from './trace.js';

export interface ReplaySummary {
  reports: TraceReport[];
  /** Traces that checked something and passed. */
  passed: number;
  failed: number;
  errors: number;
  /** Traces that ran without a trace error but checked nothing (no expectation, no `check`). */
  unchecked: number;
  /** Expectations checked over all traces. */
  checks: number;
  /** With `check`: steps after which the invariants and properties were checked (else 0). */
  monitored: number;
  /** Set when the run fails although nothing failed: why nothing was checked. */
  reason?: string;
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
      const trace = loadTraceFile(file, { shareSteps: true });
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
  return summarise(reports, opts.check !== undefined);
}

/** A passing trace that checked nothing: no expectation and, without `check`, no monitored step. */
export function isUnchecked(r: TraceReport, monitored: boolean): boolean {
  return r.status === 'pass' && r.checked === 0 && (!monitored || r.steps === 0);
}

export const NO_CHECKS_REASON = '0 checks: no trace carries an expectation; write them with vgic fuzz --expect results|snapshots, or use --check';

/**
 * Totals and exit status. `monitored`: the traces ran with a per-step check, so every applied
 * step counts as checked.
 */
export function summarise(reports: TraceReport[], monitored = false): ReplaySummary {
  const unchecked = reports.filter((r) => isUnchecked(r, monitored)).length;
  const passed = reports.filter((r) => r.status === 'pass').length - unchecked;
  const failed = reports.filter((r) => r.status === 'fail').length;
  const errors = reports.filter((r) => r.status === 'error').length;
  const checks = reports.reduce((n, r) => n + r.checked, 0);
  const steps = monitored ? reports.reduce((n, r) => n + r.steps, 0) : 0;
  let reason: string | undefined;
  if (errors === 0 && failed === 0 && checks + steps === 0) {
    reason = reports.length === 0 ? '0 checks: no trace to replay'
      : monitored ? '0 checks: the traces have no steps and no expectations'
        : NO_CHECKS_REASON;
  }
  const exitCode = errors > 0 ? 2 : failed > 0 || reason !== undefined ? 1 : 0;
  return { reports, passed, failed, errors, unchecked, checks, monitored: steps, ...(reason !== undefined ? { reason } : {}), exitCode };
}

/** One line per trace (failures and errors add indented detail lines), then a total. */
export function formatReplay(s: ReplaySummary): string {
  const lines: string[] = [];
  // Names, files and values come from the input: control characters are escaped (a name
  // cannot start a new report line or colour the terminal).
  const width = Math.min(60, Math.max(10, ...s.reports.map((r) => esc(r.name).length)));
  const monitored = s.monitored > 0;
  const tagWidth = s.unchecked > 0 ? 9 : 5;
  for (const r of s.reports) {
    const tag = (isUnchecked(r, monitored) ? 'UNCHECKED' : r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'ERROR').padEnd(tagWidth);
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
  const unchecked = s.unchecked > 0 ? `, ${s.unchecked} unchecked (no expectation)` : '';
  const checked = `${s.checks} ${s.checks === 1 ? 'check' : 'checks'}${s.monitored > 0 ? `, invariants and properties after ${s.monitored} steps` : ''}`;
  lines.push(`${s.reports.length} traces: ${s.passed} passed, ${s.failed} failed, ${s.errors} errors${unchecked}; ${checked}`);
  if (s.reason !== undefined) lines.push(s.reason);
  return lines.join('\n');
}

/** The `--json` report. */
export function replayJson(s: ReplaySummary): unknown {
  return {
    traces: s.reports.map((r) => ({
      name: r.name,
      ...(r.file !== undefined ? { file: r.file } : {}),
      status: isUnchecked(r, s.monitored > 0) ? 'unchecked' : r.status,
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
    unchecked: s.unchecked,
    checks: s.checks,
    monitored: s.monitored,
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    exit: s.exitCode,
  };
}
