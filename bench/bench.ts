/**
 * `npm run bench`: the performance figures of the model, each the median of several runs with
 * its spread. Figures that are compared (apply, step and core) are measured alternately in one
 * process, so a slow moment of the machine hits them all. `-- --json` prints one JSON object
 * whose keys are the figure names; `-- --runs N` sets the runs per figure (at least 5);
 * `-- --only a,b` runs some figures only.
 *
 * Figures (README, "Performance"):
 *   steady_apply_ops_s  v2 and v3, 1 vCPU, 4 LRs: inject k SPIs, enter, (ack, eoi) k times, exit for
 *                       k = 1..4, typed ops through Machine.apply
 *   steady_step_ops_s   the same ops as JSON objects through Machine.step (decode + apply)
 *   steady_core_ops_s   the same ops on the model's Xen functions called directly (no dispatch,
 *                       no precondition checks, no results): what the Xen code itself costs
 *   depth_ns_per_op     ns per op of a steady loop with N SPIs in flight on one vCPU, all of
 *                       equal priority (each re-injection walks the whole inflight list)
 *   snapshot_steps_s    random traces on a small config (1 pCPU, 1 vCPU, 32 SPIs, 4 LRs), the
 *                       canonical snapshot text written after each step (configs and ops decoded
 *                       once beforehand; each trace builds its machine in the timed loop)
 *   replay_steps_s      `vgic replay` of a 500,000-step trace file, wall time of the process
 *   check_steps_s       the `--check` campaign (invariants and properties after every step)
 *   diff_steps_s        `vgic diff --against "vgic serve" --random 200`, wall time
 *   build_ms            Machine.create with 960 SPIs and 128 vCPUs (GICv3)
 *   lpi_s               LPIs delivered per second through the virtual ITS: on a domain set up once
 *                       with the its-steps builders (1 vCPU, 1 device x 4 events, 4 LRs), msi,
 *                       enter, ack, eoi, exit for each event in turn, typed ops through Machine.apply
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCampaign } from '../src/check/campaign.js';
import { generateTrace } from '../src/conformance/gen.js';
import { decodeConfig, type Config } from '../src/machine/config.js';
import { decodeOp, type Op } from '../src/machine/ops.js';
import { lpiStressSetup } from '../src/testing/its-steps.js';
import * as model from './model.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const GICD = 0x3001000;

export interface Figure {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median. */
  spread: number;
  runs: number;
  unit: string;
}

function figure(samples: number[], unit: string): Figure {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { median, min: s[0]!, max: s[n - 1]!, spread: median === 0 ? 0 : (s[n - 1]! - s[0]!) / median, runs: n, unit };
}

/** Run `fn` for about `ms` milliseconds (whole batches); returns batches/s and their count. */
function timed(ms: number, fn: () => void): { perSecond: number; batches: number } {
  let batches = 0;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  do {
    fn();
    batches += 1;
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < limit);
  return { perSecond: batches / (Number(elapsed) / 1e9), batches };
}

// ----- the steady loop -----

type Raw = Record<string, unknown>;

function steadyConfig(gic: 'v2' | 'v3', nrSpis = 32): Config {
  return { gic, nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: nrSpis }] };
}

/** Steps that make SPIs 32..32+n-1 enabled, with priority 0xa0, on a running vCPU, guest PMR open. */
function setupSteps(n: number): Raw[] {
  const steps: Raw[] = [{ op: 'run', pcpu: 0, domain: 1, vcpu: 0 }];
  for (let i = 0; i < n; i += 32) steps.push({ op: 'mmio', pcpu: 0, access: 'write', addr: hex(GICD + 0x100 + 4 * (1 + i / 32)), size: 4, value: hex(n - i >= 32 ? 0xffffffff : 2 ** (n - i) - 1) });
  for (let i = 0; i < n; i += 4) steps.push({ op: 'mmio', pcpu: 0, access: 'write', addr: hex(GICD + 0x400 + 32 + i), size: 4, value: '0xa0a0a0a0' });
  steps.push({ op: 'enter', pcpu: 0 }, { op: 'pmr', pcpu: 0, value: 0xff }, { op: 'exit', pcpu: 0 });
  return steps;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** One round of the steady loop: for k = 1..4, inject k, enter, (ack, eoi) x k, exit (38 ops). */
function steadyRound(): Raw[] {
  const steps: Raw[] = [];
  for (let k = 1; k <= 4; k++) {
    for (let i = 0; i < k; i++) steps.push({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 32 + i });
    steps.push({ op: 'enter', pcpu: 0 });
    for (let i = 0; i < k; i++) steps.push({ op: 'ack', pcpu: 0 }, { op: 'eoi', pcpu: 0, intid: 32 + i });
    steps.push({ op: 'exit', pcpu: 0 });
  }
  return steps;
}

/** A config decoded once, as the ops are (decodeAll). */
function decodedConfig(raw: unknown, what: string): Config {
  const d = decodeConfig(raw);
  if (d._tag === 'Left') throw new Error(`${what} config refused: ${d.left.join('; ')}`);
  return d.right;
}

function decodeAll(raw: Raw[]): Op[] {
  return raw.map((r) => {
    const d = decodeOp(r);
    if (d._tag === 'Left') throw new Error(`bench step does not decode: ${d.left.join('; ')}`);
    return d.right;
  });
}

/** A machine after `setup`, checked: every setup step must succeed. */
function prepared(config: Config, setup: Raw[]): model.BenchMachine {
  const m = model.create(config);
  setup.forEach((s, i) => model.stepRaw(m, s, i));
  return m;
}

function steadyTrio(gic: 'v2' | 'v3', runs: number): { apply: Figure; step: Figure; core: Figure } {
  const round = steadyRound();
  const ops = decodeAll(round);
  // Check once that the round leaves nothing behind and every ack sees its SPI, and that the
  // Xen functions called directly leave the same state as the ops through Machine.apply.
  const probe = prepared(steadyConfig(gic), setupSteps(4));
  round.forEach((s, i) => {
    const r = model.stepRaw(probe, s, i);
    if (s['op'] === 'ack' && typeof r.intid === 'number' && r.intid >= 1020) throw new Error('steady loop: ack found nothing');
  });
  const probeCore = prepared(steadyConfig(gic), setupSteps(4));
  model.coreAll(probeCore, ops);
  if (model.snapshotJson(probeCore) !== model.snapshotJson(probe)) throw new Error('steady loop: the Xen functions called directly end in another state');
  const apply: number[] = [];
  const step: number[] = [];
  const core: number[] = [];
  const ma = prepared(steadyConfig(gic), setupSteps(4));
  const ms = prepared(steadyConfig(gic), setupSteps(4));
  const mc = prepared(steadyConfig(gic), setupSteps(4));
  const rounds = 200;
  for (let r = 0; r < runs + 1; r++) {
    const a = timed(300, () => { for (let i = 0; i < rounds; i++) model.applyAll(ma, ops); });
    const s = timed(300, () => { for (let i = 0; i < rounds; i++) model.stepAll(ms, round); });
    const c = timed(300, () => { for (let i = 0; i < rounds; i++) model.coreAll(mc, ops); });
    if (r === 0) continue; // warm-up
    apply.push(a.perSecond * rounds * ops.length);
    step.push(s.perSecond * rounds * round.length);
    core.push(c.perSecond * rounds * ops.length);
  }
  if (model.inflightCount(mc) !== 0) throw new Error('steady loop: SPIs left in flight by the Xen functions called directly');
  return { apply: figure(apply, 'ops/s'), step: figure(step, 'ops/s'), core: figure(core, 'ops/s') };
}

/** ns per op with n SPIs in flight, all of equal priority, on one vCPU with 4 LRs. */
function depth(n: number, runs: number): Figure {
  const config = steadyConfig('v3', Math.max(32, Math.ceil(n / 32) * 32));
  const setup = setupSteps(n);
  for (let i = 0; i < n; i++) setup.push({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 32 + i });
  // Each cycle: enter (the head of lr_pending fills the free LR), ack the oldest, eoi it, exit
  // (its LR is reclaimed), inject it again (a sorted insert at the tail, behind n - 1 others).
  const m = prepared(config, setup);
  const samples: number[] = [];
  let next = 0;
  const cycle = (): void => {
    model.applyOne(m, { op: 'enter', pcpu: 0 });
    const intid = model.applyOne(m, { op: 'ack', pcpu: 0 }).intid!;
    if (intid >= 1020) throw new Error(`depth ${n}: nothing to acknowledge`);
    model.applyOne(m, { op: 'eoi', pcpu: 0, intid });
    model.applyOne(m, { op: 'exit', pcpu: 0 });
    model.applyOne(m, { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: intid });
    next += 1;
  };
  for (let r = 0; r < runs + 1; r++) {
    const t = timed(250, () => { for (let i = 0; i < 100; i++) cycle(); });
    if (r > 0) samples.push(1e9 / (t.perSecond * 100 * 5));
  }
  if (model.inflightCount(m) !== n) throw new Error(`depth ${n}: ${model.inflightCount(m)} in flight after the run`);
  return figure(samples, 'ns/op');
}

function snapshotSteps(runs: number): Figure {
  const traces = Array.from({ length: 20 }, (_, i) => generateTrace(1000 + i, { steps: 100, spis: 32, vcpus: 1, pcpus: 1, nrLrs: 4, vmm: 0 })); // (no device domain: the traces measured before issue 13)
  const decoded = traces.map((t) => ({ config: decodedConfig(t.config, 'snapshot_steps_s'), ops: decodeAll(t.steps) }));
  const samples: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    let steps = 0;
    let sink = 0;
    const t = timed(400, () => {
      for (const tr of decoded) {
        const m = model.build(tr.config);
        for (let i = 0; i < tr.ops.length; i++) {
          model.applyAt(m, tr.ops[i]!, i);
          if (model.crashed(m)) break;
          sink += model.snapshotJson(m).length;
          steps += 1;
        }
      }
    });
    if (r > 0) samples.push((steps / t.batches) * t.perSecond);
    steps = 0;
    if (sink < 0) throw new Error('unreachable');
  }
  return figure(samples, 'steps/s');
}

/** A trace file of `n` steady-loop steps with a RESULT expectation every 1,000 steps. */
function writeReplayTrace(dir: string, n: number): string {
  const setup = setupSteps(4);
  const round = steadyRound();
  const steps: Raw[] = [...setup];
  while (steps.length < n) steps.push(...round);
  steps.length = n;
  const m = model.create(steadyConfig('v3'));
  const withExpect = steps.map((s, i) => {
    const r = model.stepRaw(m, s, i);
    return i % 1000 === 999 ? { ...s, expect: { result: { outcome: r.outcome, ...(r.intid !== undefined ? { intid: r.intid } : {}) } } } : s;
  });
  const file = join(dir, 'replay-500k.json');
  writeFileSync(file, JSON.stringify({ format: 'vgic-trace/1', name: 'bench-replay-500k', config: steadyConfig('v3'), steps: withExpect }));
  return file;
}

function cli(args: string[]): { seconds: number; stdout: string; status: number | null; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function replaySteps(runs: number): Figure {
  const dir = mkdtempSync(join(tmpdir(), 'vgic-bench-'));
  try {
    const n = 500_000;
    const file = writeReplayTrace(dir, n);
    const samples: number[] = [];
    for (let r = 0; r < runs; r++) {
      const c = cli(['replay', file]);
      if (c.status !== 0) throw new Error(`replay failed (${c.status}): ${c.stdout}${c.stderr}`);
      samples.push(n / c.seconds);
    }
    return figure(samples, 'steps/s');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same 1,000 traces in every run (seeds 1..1000, the ordinary traces only, without device
 * domains: as before P7 and issue 13), so that the runs differ only by the machine's noise: a
 * sample of 250 traces with other seeds each run spread over 25-66 k steps/s.
 */
function checkSteps(runs: number): Figure {
  const samples: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const t0 = process.hrtime.bigint();
    const res = runCampaign({ seed: 1, count: 1000, steps: 80, delivery: 0, multiDomainTraces: 0, vmm: 0 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (res.violation !== null) throw new Error(`check campaign: violation in seed ${res.violation.seed}`);
    if (r > 0) samples.push(res.steps / s);
  }
  return figure(samples, 'steps/s');
}

function diffSteps(runs: number): Figure {
  const samples: number[] = [];
  const serve = `"${process.execPath}" "${MAIN}" serve`;
  for (let r = 0; r < runs; r++) {
    const c = cli(['diff', '--against', serve, '--random', '200', '--seed', String(1 + r)]);
    const m = /(\d+) steps compared/.exec(c.stdout);
    if (c.status !== 0 || m === null) throw new Error(`diff failed (${c.status}): ${c.stdout}${c.stderr}`);
    samples.push(Number(m[1]) / c.seconds);
  }
  return figure(samples, 'steps/s');
}

/**
 * LPIs per second: a domain with a vITS set up once (the stress setup of its-steps: one vCPU,
 * one device with 4 events mapped to vLPIs 8192..8195), then for each event in turn its MSI
 * (the host LPI forwarded to the vLPI, into a free LR of the running vCPU), enter, ack, eoi,
 * exit. Each cycle is one LPI delivered and completed.
 */
function lpiPerSecond(runs: number): Figure {
  const shape = { vcpus: 1, devices: 1, events: 4, nr_lrs: 4 };
  const { config, steps } = lpiStressSetup(shape);
  const round: Raw[] = [];
  for (let e = 0; e < shape.events; e++) {
    round.push({ op: 'msi', pcpu: 0, domain: 1, devid: 0, eventid: e }, { op: 'enter', pcpu: 0 }, { op: 'ack', pcpu: 0 },
      { op: 'eoi', pcpu: 0, intid: 8192 + e }, { op: 'exit', pcpu: 0 });
  }
  const ops = decodeAll(round);
  const m = model.create(decodedConfig(config, 'lpi_s'));
  steps.forEach((s, i) => model.stepRaw(m, s, i));
  // Check once that every ack sees the vLPI its MSI raised, and nothing is left behind.
  round.forEach((s, i) => {
    const r = model.stepRaw(m, s, i);
    if (s['op'] === 'ack' && r.intid !== 8192 + (i - 2) / 5) throw new Error(`lpi_s: ack ${i} saw ${r.intid}`);
  });
  if (model.inflightCount(m) !== 0) throw new Error('lpi_s: LPIs left in flight after a round');
  const rounds = 100;
  const samples: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const t = timed(300, () => { for (let i = 0; i < rounds; i++) model.applyAll(m, ops); });
    if (r > 0) samples.push(t.perSecond * rounds * shape.events);
  }
  if (model.inflightCount(m) !== 0) throw new Error('lpi_s: LPIs left in flight after the run');
  return figure(samples, 'LPIs/s');
}

function buildMs(runs: number): Figure {
  const config: Config = { gic: 'v3', nr_lrs: 4, pcpus: 4, domains: [{ id: 1, vcpus: 128, nr_spis: 960 }] };
  const samples: number[] = [];
  for (let r = 0; r < runs + 3; r++) {
    const t0 = process.hrtime.bigint();
    model.create(config);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r >= 3) samples.push(ms);
  }
  return figure(samples, 'ms');
}

// ----- the command -----

const FIGURES = ['steady_apply_ops_s', 'steady_step_ops_s', 'steady_core_ops_s', 'depth_ns_per_op', 'snapshot_steps_s', 'replay_steps_s', 'check_steps_s', 'diff_steps_s', 'build_ms', 'lpi_s'] as const;
type FigureName = (typeof FIGURES)[number];
type Value = Figure | Record<string, Figure> | null;

function parseArgs(argv: string[]): { json: boolean; runs: number; only: Set<FigureName> } {
  let json = false;
  let runs = 5;
  let only = new Set<FigureName>(FIGURES);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 5) throw new Error('--runs: a whole number of at least 5');
    } else if (a === '--only') {
      const names = (argv[++i] ?? '').split(',');
      const bad = names.filter((n) => !(FIGURES as readonly string[]).includes(n));
      if (bad.length > 0) throw new Error(`--only: unknown figure ${bad.join(', ')} (known: ${FIGURES.join(', ')})`);
      only = new Set(names as FigureName[]);
    } else throw new Error(`unknown option ${a} (options: --json, --runs N, --only a,b)`);
  }
  return { json, runs, only };
}

function fmt(f: Figure): string {
  const v = f.median >= 1e6 ? `${(f.median / 1e6).toFixed(2)} M` : f.median >= 1e4 ? `${(f.median / 1e3).toFixed(1)} k` : f.median.toFixed(f.median < 10 ? 2 : 0);
  return `${v} ${f.unit} (±${((f.spread / 2) * 100).toFixed(0)}%, ${f.runs} runs)`;
}

function main(): number {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  const { json, runs, only } = opts;
  const out: Partial<Record<FigureName, Value>> = {};
  const note = (name: FigureName, v: Value): void => {
    out[name] = v;
    if (json) return;
    if (v === null) process.stdout.write(`${name.padEnd(20)} n/a\n`);
    else if ('median' in v) process.stdout.write(`${name.padEnd(20)} ${fmt(v as Figure)}\n`);
    else for (const [k, f] of Object.entries(v)) process.stdout.write(`${`${name}.${k}`.padEnd(20)} ${fmt(f)}\n`);
  };
  if (only.has('steady_apply_ops_s') || only.has('steady_step_ops_s') || only.has('steady_core_ops_s')) {
    const v2 = steadyTrio('v2', runs);
    const v3 = steadyTrio('v3', runs);
    if (only.has('steady_apply_ops_s')) note('steady_apply_ops_s', { v2: v2.apply, v3: v3.apply });
    if (only.has('steady_step_ops_s')) note('steady_step_ops_s', { v2: v2.step, v3: v3.step });
    if (only.has('steady_core_ops_s')) note('steady_core_ops_s', { v2: v2.core, v3: v3.core });
  }
  if (only.has('depth_ns_per_op')) note('depth_ns_per_op', Object.fromEntries([4, 16, 64, 256, 960].map((n) => [String(n), depth(n, runs)])));
  if (only.has('snapshot_steps_s')) note('snapshot_steps_s', snapshotSteps(runs));
  if (only.has('replay_steps_s')) note('replay_steps_s', replaySteps(runs));
  if (only.has('check_steps_s')) note('check_steps_s', checkSteps(runs));
  if (only.has('diff_steps_s')) note('diff_steps_s', diffSteps(runs));
  if (only.has('build_ms')) note('build_ms', buildMs(runs));
  if (only.has('lpi_s')) note('lpi_s', lpiPerSecond(runs));
  if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

process.exitCode = main();
