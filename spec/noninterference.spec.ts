/**
 * Noninterference between domains (P7, src/check/noninterference.ts) and host state (P8,
 * src/check/properties.ts), docs/noninterference.md: the step-ownership table; P7 on random
 * multi-domain traces (the generator's multiDomain option; spec/model-based.spec.ts runs it in
 * fc.commands runs over 2-4 domains); each exclusion shown real by a small trace where the full run and the projection
 * differ exactly there; P8 on a deliberately wrong host-state change; the cross-domain mutant
 * spi-pending-wrong-domain caught by P7.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { runCampaign } from '../src/check/campaign.js';
import { StepMonitor, describeFinding, type Finding } from '../src/check/monitor.js';
import {
  NoninterferenceMonitor, STEP_OWNERSHIP, addNoninterferenceStats, emptyNoninterferenceStats, firstDifference, stepOwner,
} from '../src/check/noninterference.js';
import { PROPERTIES, PROPERTY_IDS, PropertyMonitor } from '../src/check/properties.js';
import { generateTraceWithOps } from '../src/conformance/gen.js';
import { Machine, TraceError, type Result } from '../src/machine/machine.js';
import { OP_NAMES, type Op } from '../src/machine/ops.js';
import { domainJson, sameDomainState } from '../src/machine/snapshot.js';
import type { MutantName } from '../src/xen/mutants.js';
import type { Domain } from '../src/xen/types.js';
import { LAYOUT, Queue, cmd, enableLpis, setupTables, type RawStep } from '../src/testing/its-steps.js';
import { d, hex } from './mmio-helpers.js';
import { lines, opOf, type Found } from './watch.js';

// ----- helpers -----

function build(cfg: unknown, mutant: MutantName | null = null): Machine {
  const r = Machine.fromJson(cfg, 'config', mutant);
  if (E.isLeft(r)) return expect.fail(r.left.join('; '));
  return r.right;
}

/** Two v2 domains (ids 1 and 2, 2 vCPUs, 32 SPIs), 2 pCPUs; domain 1 may route pirq 64, domain 2 pirq 65. */
function twoDomains(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    gic: 'v2', nr_lrs: 4, pcpus: 2,
    domains: [{ id: 1, vcpus: 2, nr_spis: 32, pirqs: [64] }, { id: 2, vcpus: 2, nr_spis: 32, pirqs: [65] }],
    ...extra,
  };
}

const gicdWrite = (pcpu: number, off: number, size: 1 | 4, value: number): RawStep =>
  ({ op: 'mmio', pcpu, access: 'write', addr: hex(d(off)), size, value: hex(value >>> 0) });

/** A machine stepped through a StepMonitor (P7 on: two or more domains). */
class Full {
  readonly mon: StepMonitor;
  private k = 0;

  constructor(readonly m: Machine) {
    this.mon = new StepMonitor(m);
  }

  get p7(): NoninterferenceMonitor {
    return this.mon.noninterference!;
  }

  step(u: RawStep, corrupt?: () => void): { r: Result; found: Found[] } {
    const op = opOf(u);
    this.mon.before(op);
    const r = this.m.apply(op, this.k++);
    if (r instanceof TraceError) return expect.fail(`unexpected trace error: ${r.message}`);
    corrupt?.();
    return { r, found: this.mon.after(op, r) };
  }

  /** Steps after which nothing may be found. */
  ok(...us: RawStep[]): Result {
    let last: Result = { outcome: 'ok' };
    for (const u of us) {
      const { r, found } = this.step(u);
      expect(found, `after ${JSON.stringify(u)}:\n${lines(found)}`).to.deep.equal([]);
      last = r;
    }
    return last;
  }
}

/** Apply one step to a machine directly (a naive projection), failing on a trace error. */
function applyTo(m: Machine, u: RawStep, k = 1000): Result {
  const r = m.apply(opOf(u), k);
  if (r instanceof TraceError) return expect.fail(r.message);
  return r;
}

function entry(m: Machine, id: number): string {
  return domainJson(m.host, m.host.domains.get(id)!);
}

// ----- the table -----

describe('noninterference: the step-ownership table (decision 1)', () => {
  it('names an owner rule for every op of the format', () => {
    expect(Object.keys(STEP_OWNERSHIP).sort()).to.deep.equal([...OP_NAMES].sort());
    expect(STEP_OWNERSHIP.snapshot).to.equal('none');
    expect(STEP_OWNERSHIP.hw_irq).to.equal('pirq');
    expect(STEP_OWNERSHIP.set_attr).to.equal('device');
  });

  it('a pCPU op belongs to the domain current on that pCPU, none on an idle pCPU; hw_irq to the domain its pirq is routed to; run to its domain', () => {
    const m = build(twoDomains());
    applyTo(m, { op: 'run', pcpu: 1, domain: 2, vcpu: 0 });
    applyTo(m, { op: 'route', domain: 2, virq: 40, pirq: 65 });
    const owner = (u: RawStep): number | null => stepOwner(m, opOf(u));
    expect(owner({ op: 'enter', pcpu: 1 })).to.equal(2);
    expect(owner({ op: 'idle', pcpu: 0 })).to.equal(null);
    expect(owner({ op: 'hw_irq', pirq: 65 })).to.equal(2);
    expect(owner({ op: 'hw_irq', pirq: 64 })).to.equal(null);
    expect(owner({ op: 'run', pcpu: 1, domain: 1, vcpu: 0 })).to.equal(1);
    expect(owner({ op: 'inject', pcpu: 1, domain: 1, vcpu: null, virq: 33 })).to.equal(1);
    expect(owner({ op: 'snapshot' })).to.equal(null);
  });

  it('firstDifference names the JSON path of the first difference', () => {
    expect(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }, '')).to.equal('.a[1].b');
    expect(firstDifference({ a: [1] }, { a: [1, 2] }, '')).to.equal('.a[1]');
    expect(firstDifference({ a: 1 }, { a: 1 }, '')).to.equal('');
  });
});

// ----- P7 holds -----

describe('noninterference: P7 holds on random multi-domain traces', () => {
  it('PROPERTY_IDS has P7 and P8, each described', () => {
    expect(PROPERTY_IDS).to.include.members(['P7', 'P8']);
    expect(PROPERTIES.P7).to.match(/only that domain/);
    expect(PROPERTIES.P8).to.match(/routed to the domain/);
  });

  it('the generator\'s multiDomain option: 2-4 domains, varied ids, sharing the pCPUs; without it a seed gives the same trace as before', () => {
    const counts = new Set<number>();
    const ids = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const t = generateTraceWithOps(seed, { steps: 5, multiDomain: true }).trace;
      counts.add(t.config.domains.length);
      for (const dc of t.config.domains) ids.add(dc.id);
      expect(t.name).to.match(/^random-multi-v[23]-seed-/);
    }
    expect([...counts].sort()).to.deep.equal([2, 3, 4]);
    expect(ids.size).to.be.above(6);
    // (The old generator's trace of seed 1, unchanged: its first steps and config.)
    const old = generateTraceWithOps(1, { steps: 60 }).trace;
    expect(old.name).to.equal('random-v2-seed-1');
    expect(old.config.domains.length).to.equal(1);
  });

  it('P7 and P8 (and I1-I19, P2-P6) after every step of 60 multi-domain traces; the interleavings are there (seed printed)', function () {
    this.timeout(120000);
    const seed = Number(process.env['P7_SEED'] ?? 1 + Math.floor(Math.random() * 1e6));
    const res = runCampaign({ seed, count: 0, steps: 60, delivery: 0, multiDomainTraces: 60 });
    const v = res.violation;
    expect(v, v === null ? '' : `P7_SEED=${seed}: seed ${v.seed} step ${v.step} (${v.op}):\n${v.findings.join('\n')}`).to.equal(null);
    const p7 = res.multiDomain.p7;
    expect(p7.steps, `P7_SEED=${seed}`).to.be.above(3000);
    expect(p7.handovers, `P7_SEED=${seed}`).to.be.above(10);
    expect(p7.foreignInjections, `P7_SEED=${seed}`).to.be.above(10);
    expect(p7.concurrent, `P7_SEED=${seed}`).to.be.above(100);
  });

  it('P7 and P8 hold across the domain lifecycle: domains destroyed, created mid-trace (a shadow from a bare host with the host\'s IRQ lines) and recreated with the same id (seed printed)', function () {
    this.timeout(120000);
    const seed = Number(process.env['P7_SEED'] ?? 1 + Math.floor(Math.random() * 1e6));
    const res = runCampaign({ seed, count: 150, steps: 80, delivery: 0, multiDomainTraces: 0, life: 0.1 });
    const v = res.violation;
    expect(v, v === null ? '' : `P7_SEED=${seed}: seed ${v.seed} step ${v.step} (${v.op}):\n${v.findings.join('\n')}`).to.equal(null);
    expect(res.multiDomain.p7.traces, `P7_SEED=${seed}`).to.be.above(20);
  });

  it('a domain that routes a free line a destroyed domain left behind takes it in the host state the full run has (its affinity decides the pCPU of a later hw_irq)', () => {
    const full = new Full(build({"gic": "v2", "nr_lrs": 1, "pcpus": 2, "domains": [{"id": 1, "vcpus": 1, "nr_spis": 32}, {"id": 2, "vcpus": 1, "nr_spis": 32, "pirqs": [66, 67]}]}));
    full.ok(
      {op: 'domain_destroy', domain: 2},
      {op: 'domain_create', domain: {id: 2, vcpus: 1, nr_spis: 416, pirqs: [68]}},
      {op: 'route', domain: 2, virq: 32, pirq: 68},
      {op: 'run', pcpu: 1, domain: 2, vcpu: 0},
      {op: 'idle', pcpu: 1},
      {op: 'domain_destroy', domain: 2},
      {op: 'domain_create', domain: {id: 3, vcpus: 3, nr_spis: 64, pirqs: [68]}},
      {op: 'route', domain: 3, virq: 32, pirq: 68},
      {op: 'run', pcpu: 0, domain: 3, vcpu: 1},
      {op: 'enter', pcpu: 0},
      {op: 'hw_irq', pirq: 68},
    );
  });

  /**
   * Over the traces of seeds 1..15 with generator options `o`, compare every domain of a machine
   * with the same domain of a machine one step behind, both ways (quick and by text): the quick
   * comparison must never say equal where the texts differ. How often each case arose.
   */
  const quickAgainstText = (o: Parameters<typeof generateTraceWithOps>[1], each: (dom: Domain) => void = () => {}): { equal: number; different: number } => {
    let equal = 0;
    let different = 0;
    for (let seed = 1; seed <= 15; seed++) {
      const { trace, ops } = generateTraceWithOps(seed, o);
      const a = build(trace.config);
      const b = build(trace.config);
      ops.forEach((op, k) => {
        a.apply(op, k);
        if (a.crashed !== null) return;
        for (const [id, da] of a.host.domains) {
          const db = b.host.domains.get(id)!;
          each(da);
          const same = domainJson(a.host, da) === domainJson(b.host, db);
          if (sameDomainState(a.host, da, b.host, db)) {
            expect(same, `seed ${seed} step ${k} d${id}`).to.equal(true);
            equal += 1;
          } else if (!same) {
            different += 1;
          }
        }
        if (k > 0) b.apply(ops[k - 1]!, k - 1);
      });
    }
    return { equal, different };
  };

  it('the quick state comparison never calls two entries equal whose canonical texts differ (random multi-domain traces, a machine one step behind)', () => {
    const { equal, different } = quickAgainstText({ steps: 60, multiDomain: true });
    expect(equal).to.be.above(100);
    expect(different).to.be.above(100);
  });

  it('the same for domains with a virtual ITS (every v3 domain gets one): the LPI records, lpi, its and its_devices values', () => {
    const { equal, different } = quickAgainstText({ steps: 80, gic: 'v3', its: 1, vmm: 0 }, (dom) => expect(dom.hasIts).to.equal(true));
    expect(equal).to.be.above(100);
    expect(different).to.be.above(100);
  });
});

// ----- the exclusions, each shown real -----

describe('noninterference: what is shared by design is real, and excluded', () => {
  it('a route refused EBUSY because the pirq is another domain\'s: the projection would accept it and then differ, so it is dropped', () => {
    const f = new Full(build(twoDomains()));
    f.ok({ op: 'route', domain: 1, virq: 40, pirq: 64 });
    const refused = f.ok({ op: 'route', domain: 2, virq: 40, pirq: 64 });
    expect(refused).to.deep.include({ outcome: 'error', errno: 'EBUSY' });
    expect(f.p7.stats.routeRefusals).to.equal(1);
    // A naive projection on domain 2 that kept the step: accepted there...
    const naive = build(twoDomains());
    expect(applyTo(naive, { op: 'route', domain: 2, virq: 40, pirq: 64 })).to.deep.equal({ outcome: 'ok' });
    // ...and then ISPENDR of vIRQ 40 by domain 2 only latches the host line instead of queueing vIRQ 40.
    const spend = [{ op: 'run', pcpu: 1, domain: 2, vcpu: 0 }, gicdWrite(1, 0x204, 4, 1 << 8)];
    f.ok(...spend);
    spend.forEach((u) => applyTo(naive, u));
    const full = f.m.snapshot().domains.find((x) => x.id === 2)!;
    const alone = naive.snapshot().domains.find((x) => x.id === 2)!;
    expect(full.irqs.map((x) => x.irq)).to.include(40);
    expect(alone.irqs.map((x) => x.irq)).to.not.include(40);
    // The monitor's own projection dropped it: domain 2 agrees.
    expect(entry(f.p7.shadowOf(2)!, 2)).to.equal(entry(f.m, 2));
  });

  it('any other route is kept and must get the same RESULT (a route refused for the domain\'s own reasons)', () => {
    const f = new Full(build(twoDomains()));
    expect(f.ok({ op: 'route', domain: 2, virq: 20, pirq: 65 })).to.deep.include({ outcome: 'error', errno: 'EINVAL' });
    expect(f.p7.stats.routeRefusals).to.equal(0);
    expect(f.p7.stats.projected).to.equal(1);
  });

  it('pcpus[] and physical: the full run and a projection differ there, and P7 does not compare them', () => {
    const f = new Full(build(twoDomains()));
    f.ok({ op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, { op: 'route', domain: 1, virq: 40, pirq: 64 }, { op: 'run', pcpu: 1, domain: 2, vcpu: 1 });
    const full = f.m.snapshot();
    const two = f.p7.shadowOf(2)!.snapshot();
    expect(full.pcpus[0]!.running).to.deep.equal({ domain: 1, vcpu: 0 });
    expect(two.pcpus[0]!.running).to.equal(null);
    expect(full.physical.map((x) => x.pirq)).to.deep.equal([64]);
    expect(two.physical).to.deep.equal([]);
    expect(JSON.stringify(two.domains.find((x) => x.id === 2))).to.equal(JSON.stringify(full.domains.find((x) => x.id === 2)));
  });

  it('another domain\'s run becomes idle in the projection: the vCPU it displaces is saved there as in the full run', () => {
    const f = new Full(build(twoDomains()));
    f.ok({ op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, gicdWrite(0, 0x100, 4, 0xffff), { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 3 },
      { op: 'enter', pcpu: 0 }, { op: 'exit', pcpu: 0 }, { op: 'run', pcpu: 0, domain: 2, vcpu: 0 });
    const one = f.p7.shadowOf(1)!.snapshot();
    expect(one.pcpus[0]).to.deep.include({ mode: 'idle', running: null });
    expect(f.m.snapshot().pcpus[0]).to.deep.include({ mode: 'hyp', running: { domain: 2, vcpu: 0 } });
    expect(one.domains.find((x) => x.id === 1)!.vcpus[0]!.lrs.map((l) => l.virq)).to.deep.equal([3]);
  });

  it('host LPIs: a device of the second domain gets other host LPI numbers in the full run than alone, and its entry is the same', () => {
    const cfg = {
      gic: 'v3', nr_lrs: 4, pcpus: 2,
      domains: [1, 2].map((id) => ({
        id, vcpus: 1, nr_spis: 32,
        its: { base: hex(LAYOUT.itsBase), devid_bits: 8, evid_bits: 8 },
        ram: [{ base: hex(LAYOUT.ramBase), size: hex(LAYOUT.ramSize) }],
      })),
    };
    const f = new Full(build(cfg));
    for (const [id, pcpu] of [[1, 0], [2, 1]] as const) {
      const q = new Queue(pcpu);
      const own = (s: RawStep): RawStep => (s['op'] === 'mem_write' ? { ...s, domain: id } : s);
      f.ok({ op: 'run', pcpu, domain: id, vcpu: 0 }, ...enableLpis(pcpu, 15, [0]), ...setupTables(pcpu),
        ...q.run(cmd.mapc(0, 0), cmd.mapd(0, 4, LAYOUT.itt), cmd.mapti(0, 0, 8192, 0)).map(own));
    }
    const blocks = (m: Machine): number[] => [...m.host.domains.get(2)!.itsDevices.values()][0]!.hostLpiBlocks;
    expect(blocks(f.m)).to.deep.equal([8192 + 32]);
    expect(blocks(f.p7.shadowOf(2)!)).to.deep.equal([8192]);
    expect(entry(f.p7.shadowOf(2)!, 2)).to.equal(entry(f.m, 2));
    expect(entry(f.m, 2)).to.match(/"its_devices":\[\{"devid":0,"eventids":32,"vlpis":\[8192,/);
  });

  it('host LPIs run out for the second domain only because of the first: the full run crashes, the projection would not, and P7 stops there', () => {
    const cfg = {
      gic: 'v3', nr_lrs: 4, pcpus: 2, lpi_bits: 14,
      domains: [1, 2].map((id) => ({
        id, vcpus: 1, nr_spis: 32,
        its: { base: hex(LAYOUT.itsBase), devid_bits: 8, evid_bits: 16 },
        ram: [{ base: hex(LAYOUT.ramBase), size: hex(LAYOUT.ramSize) }],
      })),
    };
    const f = new Full(build(cfg));
    const setup = (id: number, pcpu: number, events: number): RawStep[] => {
      const q = new Queue(pcpu);
      const own = (s: RawStep): RawStep => (s['op'] === 'mem_write' ? { ...s, domain: id } : s);
      return [{ op: 'run', pcpu, domain: id, vcpu: 0 }, ...setupTables(pcpu), ...q.run(cmd.mapd(0, events - 1, LAYOUT.itt)).map(own)];
    };
    // 2^13 events: 256 blocks of 32, the whole host LPI space of lpi_bits 14.
    f.ok(...setup(1, 0, 13));
    const steps = setup(2, 1, 4);
    f.ok(...steps.slice(0, -1));
    const { r, found } = f.step(steps.at(-1)!);
    expect(r.outcome).to.equal('crash');
    expect(r.reason).to.match(/host LPIs/);
    expect(found).to.deep.equal([]);
    expect(f.p7.stopped).to.match(/crashed/);
    // Alone, domain 2's MAPD finds the host LPI space free.
    const alone = f.p7.shadowOf(2)!;
    expect(applyTo(alone, steps.at(-1)!).outcome).to.equal('ok');
    expect(alone.host.domains.get(2)!.itsDevices.size).to.equal(1);
  });

  it('KVM device handles are numbered per machine: the projection renumbers them, and vmm.its[].device and create_device\'s RESULT compare through the renaming', () => {
    const cfg = {
      gic: 'v3', nr_lrs: 4, pcpus: 2,
      domains: [1, 2].map((id) => ({ id, vgic: 'device', ram: [{ base: hex(LAYOUT.ramBase), size: hex(LAYOUT.ramSize) }] })),
    };
    const f = new Full(build(cfg));
    const devices = (id: number): RawStep[] => [
      { op: 'vcpu_create', domain: id, vcpu: 0 },
      { op: 'create_device', domain: id, type: 'v3', test: false },
      { op: 'create_device', domain: id, type: 'its', test: false },
    ];
    f.ok(...devices(1));
    f.ok(...devices(2).slice(0, 2));
    expect(f.step(devices(2)[2]!).r.device).to.equal(3);
    expect(f.ok({ op: 'set_attr', device: 3, group: 'ADDR', attr: '0x4', value: hex(0x400000) })).to.deep.equal({ outcome: 'ok' });
    const full = JSON.parse(entry(f.m, 2)) as { vmm: { its: { device: number; base: string | null }[] } };
    const alone = JSON.parse(entry(f.p7.shadowOf(2)!, 2)) as { vmm: { its: { device: number; base: string | null }[] } };
    expect(full.vmm.its).to.deep.equal([{ device: 3, base: '0x400000' }]);
    expect(alone.vmm.its).to.deep.equal([{ device: 1, base: '0x400000' }]);
    // What the monitor compares: the quick state comparison and the text, both through the renaming.
    const shadow = f.p7.shadowOf(2)!;
    const [da, db] = [f.m.host.domains.get(2)!, shadow.host.domains.get(2)!];
    const back = new Map([[1, 3]]);
    expect(sameDomainState(f.m.host, da, shadow.host, db, back)).to.equal(true);
    expect(sameDomainState(f.m.host, da, shadow.host, db)).to.equal(false);
    expect(domainJson(shadow.host, db, back)).to.equal(domainJson(f.m.host, da));
    expect(domainJson(shadow.host, db)).to.not.equal(domainJson(f.m.host, da));
  });
});

// ----- P8 -----

describe('noninterference: P8, host state changes only for the stepping domain\'s IRQs', () => {
  it('holds when a guest enables, pends and acknowledges its own routed IRQ', () => {
    const f = new Full(build(twoDomains()));
    f.ok({ op: 'route', domain: 1, virq: 40, pirq: 64 }, { op: 'route', domain: 2, virq: 41, pirq: 65 }, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 },
      gicdWrite(0, 0x428, 1, 0xa0), gicdWrite(0, 0x104, 4, 1 << 8), { op: 'hw_irq', pirq: 64 }, { op: 'enter', pcpu: 0 });
    expect(f.m.snapshot().physical.find((x) => x.pirq === 64)).to.deep.include({ enabled: true, active: true });
  });

  it('a deliberately wrong change to another domain\'s host IRQ during a guest access is caught, naming the IRQ and both domains', () => {
    const f = new Full(build(twoDomains()));
    f.ok({ op: 'route', domain: 2, virq: 41, pirq: 65 }, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    const desc = f.m.host.irqDescs.get(65)!;
    const { found } = f.step(gicdWrite(0, 0x104, 4, 1 << 9), () => { desc.pending = true; });
    expect(found.map((x) => x.id)).to.deep.equal(['P8']);
    expect(describeFinding(found[0]! as Finding)).to.equal(`P8 (${PROPERTIES.P8}): mmio of d1 changed host IRQ 65 (routed to d2): pending false -> true`);
  });

  it('a step of no domain (snapshot) changes no host IRQ', () => {
    const m = build(twoDomains());
    const mon = new PropertyMonitor(m);
    const op: Op = { op: 'snapshot' };
    mon.before(op);
    const r = m.apply(op, 0) as Result;
    m.host.irqDescs.get(64)!.affinity = 1;
    expect(mon.after(op, r).map((x) => x.message)).to.deep.equal(['snapshot (a step of no domain) changed host IRQ 64 (routed to no domain): affinity 0 -> 1']);
  });
});

// ----- the cross-domain mutant -----

describe('noninterference: the cross-domain mutant spi-pending-wrong-domain is caught by P7', () => {
  it('domain 2 enabling its SPI 33 changes domain 1\'s record on the mutant: P7 names domain 1 and the record', () => {
    const f = new Full(build(twoDomains(), 'spi-pending-wrong-domain'));
    f.ok({ op: 'run', pcpu: 1, domain: 2, vcpu: 0 });
    const { found } = f.step(gicdWrite(1, 0x104, 4, 1 << 1));
    const p7 = found.filter((x) => x.id === 'P7').map((x) => x.message);
    expect(p7).to.deep.equal([
      'd1: after mmio, snapshot.domains[id=1].irqs[0] is {"irq":33,"vcpu":null,"status":["ENABLED"],"priority":0,"lr":0} in the full run, absent in the projection (d1 is compared no further)',
    ]);
  });

  it('Xen\'s model does none of that on the same steps', () => {
    const f = new Full(build(twoDomains()));
    f.ok({ op: 'run', pcpu: 1, domain: 2, vcpu: 0 }, gicdWrite(1, 0x104, 4, 1 << 1));
  });

  it('the property campaign finds it with P7 in its multi-domain traces, and not in one-domain traces', () => {
    const multi = runCampaign({ seed: 1, count: 0, steps: 60, delivery: 0, multiDomainTraces: 20, mutant: 'spi-pending-wrong-domain' });
    expect(multi.violation?.ids).to.include('P7');
    const one = runCampaign({ seed: 1, count: 20, steps: 60, delivery: 0, multiDomainTraces: 0, mutant: 'spi-pending-wrong-domain', domains: 1 });
    expect(one.violation).to.equal(null);
  });

  it('sgi-list-wrong-domain, which no invariant sees: domain 2\'s SGI to "vCPU 0" reaches domain 1\'s vCPU 0, and P7 alone names it', () => {
    const f = new Full(build(twoDomains(), 'sgi-list-wrong-domain'));
    f.ok({ op: 'run', pcpu: 1, domain: 2, vcpu: 1 });
    const { found } = f.step(gicdWrite(1, 0xf00, 4, (1 << 16) | 1));
    expect(found.map((x) => x.id)).to.deep.equal(['P7']);
    expect(found[0]!.message).to.equal('d1: after mmio, snapshot.domains[id=1].vcpus[0].inflight[0] is {"irq":1,"lr":0} in the full run, absent in the projection (d1 is compared no further)');
    const xen = new Full(build(twoDomains()));
    xen.ok({ op: 'run', pcpu: 1, domain: 2, vcpu: 1 }, gicdWrite(1, 0xf00, 4, (1 << 16) | 1));
  });

  it('the stats add up', () => {
    const a = emptyNoninterferenceStats();
    addNoninterferenceStats(a, { ...emptyNoninterferenceStats(), steps: 2, handovers: 1 });
    addNoninterferenceStats(a, { ...emptyNoninterferenceStats(), steps: 3 });
    expect(a).to.deep.include({ steps: 5, handovers: 1 });
  });
});
