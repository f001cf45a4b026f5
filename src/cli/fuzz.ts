/** `vgic fuzz`: generate seeded random valid traces; write them, or report what they did. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultMultiDomain, runCampaign, type CampaignResult } from '../check/campaign.js';
import { runMmioCampaign, type MmioCampaignResult } from '../check/mmio-campaign.js';
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
  if (o.flag('mmio')) {
    if (o.flag('check')) throw new UsageError('--mmio and --check are two different campaigns; give one of them');
    if (o.values['expect'] !== undefined) throw new UsageError('--expect goes with the traces of vgic fuzz --out, not with --mmio');
    return mmioCampaign(o, seed, gen, count, io);
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
      `${res.vmm.domains > 0 ? `${res.vmm.domains} device domains (${res.vmm.running} brought up and running at the end, ${res.vmm.dead} dead); ` : ''}` +
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

function counts(r: Record<string, number>): string {
  const e = Object.entries(r).sort(([a], [b]) => a.localeCompare(b));
  return e.length === 0 ? 'none' : e.map(([k, v]) => `${k} ${v}`).join(', ');
}

/** The summary of one GIC version's --mmio campaign (the README's reliability table is made of these lines). */
export function mmioSummary(r: MmioCampaignResult): string {
  const gic = r.gic === 'v2' ? 'GICv2' : 'GICv3';
  const acc = r.accessOutcomes;
  const traceErrors = Object.values(r.traceErrors).reduce((a, b) => a + b, 0);
  const lines = [
    `${gic}: ${r.machines} machines (seeds ${r.seeds[0]}..${r.seeds[1]}; ${r.multiDomainMachines} with 2 domains${r.gic === 'v3' ? `, ${r.itsMachines} with a virtual ITS` : ''}), ${r.steps} steps, ${r.accesses} guest register accesses`,
    `  mmio: ${counts(acc['mmio'] ?? {})}`,
    ...(acc['sysreg'] !== undefined ? [`  sysreg: ${counts(acc['sysreg'])}`] : []),
    `  trace errors: ${traceErrors} (${counts(r.traceErrors)}), ${r.refusedChanged} of them changed the machine`,
    `  other steps: ${counts(r.otherOutcomes)}; ${r.crashedMachines} machines end in a Xen crash`,
    `  violations: ${r.violations.steps} steps${r.violations.steps > 0 ? ` in ${r.violations.machines} machines (${counts(r.violations.findings)})` : ''}; exceptions: ${r.exceptions.count}; ${r.seconds.toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `vgic fuzz --mmio`: the guest-register reliability campaign, per GIC version. */
function mmioCampaign(o: Opts, seed: number, gen: GenOptions, count: number, io: Io): number {
  const versions = gen.gic === undefined ? (['v2', 'v3'] as const) : [gen.gic];
  const dir = o.str('out');
  const results: MmioCampaignResult[] = [];
  let bad = false;
  for (const gic of versions) {
    const started = Date.now();
    let last = 0;
    const r = runMmioCampaign({
      ...gen, gic, seed, count, steps: gen.steps,
      onMachine: (done, steps, accesses) => {
        const now = Date.now();
        if (io.tty && (now - last > 250 || done === count)) {
          last = now;
          io.err(`\rfuzz --mmio ${gic}: ${done}/${count} machines, ${steps} steps, ${accesses} accesses, ${((now - started) / 1000).toFixed(1)} s`);
          if (done === count) io.err('\n');
        }
      },
    });
    results.push(r);
    if (!o.flag('json')) io.out(mmioSummary(r));
    const file = (name: string): string => (dir !== undefined ? join(dir, name) : name);
    for (const v of r.violations.first) {
      const f = file(`vgic-mmio-fuzz-${v.id}-${gic}.json`);
      writeFileSync(f, `${JSON.stringify(v.trace, null, 1)}\n`);
      if (!o.flag('json')) {
        io.out(`  first ${v.id}: seed ${v.seed}, step ${v.step}:\n${v.findings.map((x) => `    ${x}`).join('\n')}\n` +
          `    shrunk from ${v.unshrunk} to ${v.trace.steps.length} steps, written to ${f} (replay it with: vgic replay --check ${f})\n`);
      }
    }
    for (const x of r.exceptions.first) {
      const f = file(`vgic-mmio-fuzz-exception-${gic}-seed-${x.seed}.json`);
      writeFileSync(f, `${JSON.stringify(x.trace, null, 1)}\n`);
      // An exception is a bug of ours: everything needed to replay it, stack included.
      io.out(`  EXCEPTION at seed ${x.seed}, step ${x.step} (${x.op}): ${x.message}\n${x.stack.split('\n').slice(1, 8).map((l) => `    ${l.trim()}`).join('\n')}\n` +
        `    last steps:\n${x.trace.steps.slice(-5).map((s) => `      ${JSON.stringify(s)}`).join('\n')}\n` +
        `    replay trace (${x.trace.steps.length} steps) written to ${f} (vgic replay --check ${f})\n`);
    }
    if (r.violations.steps > 0 || r.exceptions.count > 0 || r.refusedChanged > 0) bad = true;
  }
  if (o.flag('json')) {
    io.out(`${JSON.stringify(results.map((r) => ({
      ...r,
      violations: { ...r.violations, first: r.violations.first.map(({ trace, ...v }) => ({ ...v, steps: trace.steps.length })) },
      exceptions: { ...r.exceptions, first: r.exceptions.first.map(({ trace, ...x }) => ({ ...x, steps: trace.steps.length })) },
    })), null, 2)}\n`);
  } else if (!bad) io.out('no invariant or property violated, no exception\n');
  return bad ? 1 : 0;
}
