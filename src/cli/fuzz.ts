/** `vgic fuzz`: generate seeded random valid traces; write them, or report what they did. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultMultiDomain, runCampaign, type CampaignResult } from '../check/campaign.js';
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

/** What P7 (noninterference) ran on and the interleavings it saw. */
function p7Line(res: CampaignResult, seed: number): string {
  const md = res.multiDomain;
  const p7 = md.p7;
  const domains = md.domains.min === md.domains.max ? `${md.domains.min}` : `${md.domains.min}-${md.domains.max}`;
  const multi = md.traces === 0 ? 'no traces (--multi-domain 0)' : `${md.traces} multi-domain traces (seeds ${seed}..${seed + md.traces - 1}, ${domains} domains, ${md.steps} steps)`;
  return `P7 (noninterference) on ${multi} and on the ${p7.traces - md.traces} traces above with 2 domains: ${p7.steps} steps compared; ` +
    `${p7.handovers} pCPU handovers between domains, ${p7.concurrent} steps with two domains on pCPUs at once, ` +
    `${p7.foreignInjections} injections from a pCPU running another domain, ${p7.routeRefusals} routes refused for another domain's pirq\n`;
}

/** `vgic fuzz --check`: the campaign with invariants and properties after every step. */
function checkCampaign(o: Opts, seed: number, gen: GenOptions, count: number, io: Io): number {
  const delivery = o.intOr('delivery', Math.ceil(count / 10));
  const multiDomainTraces = o.intOr('multi-domain', defaultMultiDomain(count));
  const mutant = mutantOption(o.str('mutant'));
  const started = Date.now();
  let last = 0;
  const res = runCampaign({
    ...gen, seed, count, delivery, mutant, multiDomainTraces,
    onTrace: (done, steps) => {
      const now = Date.now();
      const all = count + multiDomainTraces;
      if (io.tty && (now - last > 250 || done === all)) {
        last = now;
        io.err(`\rfuzz --check: ${done}/${all} traces, ${steps} steps, ${((now - started) / 1000).toFixed(1)} s`);
        if (done === all) io.err('\n');
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
    io.out(p7Line(res, seed));
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
