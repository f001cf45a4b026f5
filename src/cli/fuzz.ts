/** `vgic fuzz`: generate seeded random valid traces; write them, or report what they did. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCampaign } from '../check/campaign.js';
import { generateTrace, type GenOptions } from '../conformance/gen.js';
import { parseCommand, usageLine, UsageError, type CommandSpec, type Io, type Opts } from './args.js';
import { mutantOption } from './mutant.js';
import { GEN_OPTIONS, genOptions } from './gen-options.js';

export const FUZZ_CMD: CommandSpec = {
  name: 'fuzz',
  summary: 'Generate seeded random valid traces: summarise what they did, write them as vgic-trace/1 files (--out), or check invariants and properties after every step (--check).',
  options: {
    count: { type: 'string', value: 'N', help: 'traces to generate', int: [1, 100_000_000], default: 10 },
    ...GEN_OPTIONS,
    out: { type: 'string', value: 'DIR', help: 'write each trace to DIR/<name>.json (with --check: where a violation is written)' },
    expect: { type: 'string', choices: ['none', 'results', 'snapshots'], help: 'what every written step expects: nothing, the model\'s RESULT, or its RESULT and snapshot', default: 'results', with: 'out' },
    json: { type: 'boolean', help: 'print the summary as JSON' },
    check: { type: 'boolean', help: 'run the invariant checker (I1-I19) and step properties (P2-P6) after every step, plus delivery scenarios (P1)' },
    delivery: { type: 'string', value: 'N', help: 'delivery scenarios', int: [0, 100_000_000], defaultText: 'count/10', with: 'check' },
    mutant: { type: 'string', value: 'NAME', help: 'run the campaign on a deliberately wrong model', with: 'check' },
  },
  details: `Trace i uses seed S + i, so any trace can be regenerated alone. Written traces carry the
model's RESULTs as expectations unless --expect none: vgic replay then checks them (a trace
without expectations checks nothing, and vgic replay says so).

exit status: 0 done (with --check: no violation); 1 with --check, an invariant or property
violated (the trace is written to vgic-fuzz-violation.json or DIR); 2 bad usage.`,
};

export const FUZZ_USAGE = usageLine(FUZZ_CMD);

export function fuzzCommand(argv: string[], io: Io): number {
  const o = parseCommand(FUZZ_CMD, argv);
  const { seed, gen } = genOptions(o);
  const count = o.int('count')!;
  const out = o.str('out');
  if (out !== undefined) {
    try {
      mkdirSync(out, { recursive: true });
    } catch (e) {
      throw new UsageError(`--out: cannot create ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  if (o.flag('check')) return checkCampaign(o, seed, gen, count, io);
  const expect = o.str('expect') as 'none' | 'results' | 'snapshots';
  const outcomes: Record<string, number> = {};
  const ops: Record<string, number> = {};
  const configs = { v2: 0, v3: 0 };
  let steps = 0;
  let crashes = 0;
  const started = Date.now();
  let lastProgress = 0;
  for (let i = 0; i < count; i++) {
    // RESULTs are always recorded for the summary; --expect none drops them before writing.
    const trace = generateTrace(seed + i, { ...gen, expect: out !== undefined && expect === 'snapshots' ? 'snapshots' : 'results' });
    configs[trace.config.gic] += 1;
    steps += trace.steps.length;
    for (const s of trace.steps) {
      ops[s['op'] as string] = (ops[s['op'] as string] ?? 0) + 1;
      const outcome = ((s['expect'] as { result?: { outcome?: string } } | undefined)?.result?.outcome) ?? '?';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (outcome === 'crash') crashes += 1;
    }
    if (out !== undefined) {
      if (expect === 'none') for (const s of trace.steps) delete s['expect'];
      writeFileSync(join(out, `${trace.name}.json`), `${JSON.stringify(trace, null, 1)}\n`);
    }
    const now = Date.now();
    if (io.tty && (now - lastProgress > 250 || i === count - 1)) {
      lastProgress = now;
      io.err(`\rfuzz: ${i + 1}/${count} traces, ${steps} steps, ${crashes} crashes, ${((now - started) / 1000).toFixed(1)} s`);
      if (i === count - 1) io.err('\n');
    }
  }
  const summary = { traces: count, steps, seeds: [seed, seed + count - 1], configs, crashes, outcomes, ops, seconds: (Date.now() - started) / 1000 };
  if (o.flag('json')) {
    io.out(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    io.out(`${count} traces (seeds ${seed}..${seed + count - 1}; ${configs.v2} GICv2, ${configs.v3} GICv3), ${steps} steps, ${crashes} ending in a crash\n`);
    io.out(`outcomes: ${Object.entries(outcomes).sort().map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    io.out(`ops: ${Object.entries(ops).sort().map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    if (out !== undefined) {
      io.out(expect === 'none'
        ? `written to ${out}/ without expectations (vgic replay checks nothing in them unless --check)\n`
        : `written to ${out}/ with the model's ${expect === 'results' ? 'RESULTs' : 'RESULTs and snapshots'} as expectations\n`);
    }
  }
  return 0;
}

/** `vgic fuzz --check`: the campaign with invariants and properties after every step. */
function checkCampaign(o: Opts, seed: number, gen: GenOptions, count: number, io: Io): number {
  const delivery = o.intOr('delivery', Math.ceil(count / 10));
  const mutant = mutantOption(o.str('mutant'));
  const started = Date.now();
  let last = 0;
  const res = runCampaign({
    ...gen, seed, count, delivery, mutant,
    onTrace: (done, steps) => {
      const now = Date.now();
      if (io.tty && (now - last > 250 || done === count)) {
        last = now;
        io.err(`\rfuzz --check: ${done}/${count} traces, ${steps} steps, ${((now - started) / 1000).toFixed(1)} s`);
        if (done === count) io.err('\n');
      }
    },
  });
  const seconds = (Date.now() - started) / 1000;
  const c = res.configs;
  const range = (r: { min: number; max: number }): string => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`);
  if (o.flag('json')) {
    io.out(`${JSON.stringify({ ...res, violation: res.violation === null ? null : { ...res.violation, trace: undefined }, seconds }, null, 2)}\n`);
  } else {
    io.out(`${res.traces} traces (seeds ${seed}..${seed + res.traces - 1}), ${res.steps} steps${mutant !== null ? ` on mutant ${mutant}` : ''}: ` +
      `${c.v2} GICv2 and ${c.v3} GICv3 configs, ${range(c.nrLrs)} LRs, ${range(c.pcpus)} pCPUs, ${range(c.vcpus)} vCPUs, ${range(c.spis)} SPIs; ` +
      `${res.crashes} traces end in a Xen crash; ${res.delivery.scenarios} delivery scenarios; ${seconds.toFixed(1)} s\n`);
  }
  if (res.violation !== null) {
    const v = res.violation;
    const dir = o.str('out');
    const file = dir !== undefined ? join(dir, `violation-seed-${v.seed}.json`) : 'vgic-fuzz-violation.json';
    writeFileSync(file, `${JSON.stringify(v.trace, null, 1)}\n`);
    io.out(`VIOLATION in seed ${v.seed} at step ${v.step} (${v.op}):\n${v.findings.map((f) => `  ${f}`).join('\n')}\ntrace written to ${file}\n`);
    return 1;
  }
  if (res.delivery.failure !== null) {
    io.out(`P1 VIOLATION in delivery scenario ${res.delivery.failure.seed}: ${res.delivery.failure.message}\n`);
    return 1;
  }
  if (!o.flag('json')) io.out('no invariant or property violated\n');
  return 0;
}
