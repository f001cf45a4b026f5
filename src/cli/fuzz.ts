/** `vgic fuzz`: generate seeded random valid traces; write them, or report what they did. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCampaign } from '../check/campaign.js';
import { generateTrace, type GenOptions } from '../conformance/gen.js';
import { parseCommand, usageLine, UsageError, type Io, type Opts } from './args.js';
import { mutantOption } from './names.js';
import { genOptions } from './gen-options.js';
import { FUZZ_CMD } from './specs.js';

export { FUZZ_CMD };


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
      `${res.vmm.domains > 0 ? `${res.vmm.domains} device domains (${res.vmm.running} brought up and running at the end, ${res.vmm.dead} dead); ` : ''}` +
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
