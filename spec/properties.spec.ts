/**
 * The end-to-end properties of src/check/properties.ts (P1-P6) and the tooling built on them:
 * for each step property P2-P6 a machine is driven through legitimate steps, then the
 * property is broken (the state corrupted between `before(op)` and `after(op, result)`, or a
 * mutant of src/xen/mutants.ts switched on) and the monitor must name exactly that property
 * and the vCPU / IRQ; the healthy sequence reports nothing, and the CPU_ON (Q37) and Q34
 * exemptions hold. Then P1 (checkDelivery, deliveryScenario, deliveryBound), property
 * campaigns (runCampaign), the mutation runner (runMutant, formatMutationTable) and the
 * mutant catalogue.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LR_STATE_PENDING, getField, updateLr } from '../src/arch/lr.js';
import { runCampaign } from '../src/check/campaign.js';
import { StepMonitor, describeFinding, type Finding } from '../src/check/monitor.js';
import { formatMutationTable, runMutant, type MutantResult } from '../src/check/mutation.js';
import {
  PROPERTIES, PROPERTY_IDS, PropertyMonitor, checkDelivery, deliveryBound, deliveryScenario,
  type DeliveryScenario, type PropertyId,
} from '../src/check/properties.js';
import { decodeTrace, runTrace } from '../src/conformance/trace.js';
import { Machine, TraceError } from '../src/machine/machine.js';
import { generateTraceWithOps } from '../src/conformance/gen.js';
import { MUTANTS, MUTANT_NAMES, isMutantName, mutated, type MutantName } from '../src/xen/mutants.js';
import { XEN_VARIANT, makeVariant } from '../src/xen/variant.js';
import { GIC_IRQ_GUEST_ACTIVE, GIC_IRQ_GUEST_QUEUED, listAddTail, setBit } from '../src/xen/types.js';
import {
  DOM, config, lrPending, machine, pcpu, prepare, rec, status, vcpu, type Cfg,
} from './helpers.js';
import { d, hex } from './mmio-helpers.js';
import { Watch, lines, type Monitor } from './watch.js';

/** fixtures/ and src/ at the project root (specs run from <outDir>/spec/). */
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

// ----- helpers -----

/** Machine.create with a mutant, unwrapped. */
function mutantMachine(cfg: unknown, mutant: MutantName | null): Machine {
  const r = Machine.fromJson(cfg, 'config', mutant);
  if (E.isLeft(r)) return expect.fail(`Machine.create failed: ${r.left.join('; ')}`);
  return r.right;
}

/** The distinct property ids (P1..P6) among the findings, in order. */
function propertyIds(found: readonly { id: string }[]): string[] {
  return [...new Set(found.map((f) => f.id).filter((id) => id.startsWith('P')))]
    .sort((a, b) => PROPERTY_IDS.indexOf(a as PropertyId) - PROPERTY_IDS.indexOf(b as PropertyId));
}

/** A machine stepped through a monitor, by default a PropertyMonitor on its own. */
function watch(m: Machine, mon: Monitor = new PropertyMonitor(m)): Watch {
  return new Watch(m, mon);
}

const injectOp = (virq: number, v: number | null, extra: Record<string, unknown> = {}, p = 0): Record<string, unknown> =>
  ({ op: 'inject', pcpu: p, domain: DOM, vcpu: v, virq, ...extra });

/** v0 running (hyp) on pCPU0, watched. */
function v0Running(cfg: Cfg = {}, mutant: MutantName | null = null): Watch {
  const w = watch(mutantMachine(config(cfg), mutant));
  w.run(0, 0);
  return w;
}

/** Put INTID `virq` into LR `lr` of a raw LR file as a pending virtual IRQ. */
function forgeLr(m: Machine, file: Uint32Array, lr: number, virq: number, prio = 0xa0): void {
  updateLr(m.host.layout, file, lr, virq, prio, null, LR_STATE_PENDING, m.config.gic === 'v3');
}

/** Program priority 0xa0 and enable INTID `irq` through GICD (v2 layout; v3 rank 0 is current's, Q27). */
function enableViaGicd(w: Watch, p: number, irq: number, prio = 0xa0): void {
  w.write(p, 0x400 + irq, 1, prio);
  w.write(p, 0x100 + 4 * (irq >> 5), 4, 1 << (irq & 31));
}

/**
 * vCPU1 got PSCI CPU_ON while PPI 27 (0xa0) was pending in its LR0 (Q37: lists and lr_mask
 * wiped, VISIBLE and the saved LR survive). pCPU1 idle, v0 not yet run.
 */
function cpuOnWithLiveState(w: Watch): void {
  const m = w.m;
  prepare(m, 27, 0xa0, { vcpu: 1 });
  w.run(1, 1);
  w.inject(1, 27, 1);
  w.idle(1);
  w.vcpuOff(1);
  w.vcpuOn(1);
  expect(m.cpuOnWithLiveState.has(vcpu(m, 1))).to.equal(true);
  expect(status(m, 27, 1)).to.deep.equal(['VISIBLE', 'ENABLED']);
}

/**
 * GICv2, 2 LRs, 2 vCPUs. SPI 40 (0xa0) asserted on vCPU0 while disabled (vCPU0's inflight
 * list), retargeted to vCPU1 through ITARGETSR (Q34: it stays on vCPU0's list), then enabled
 * from vCPU1 (running on pCPU1), which puts it in vCPU1's LR0. Watched by a StepMonitor
 * (whose invariant checker tracks the Q34 records).
 */
function q34Machine(): Watch {
  const m = machine(config({ gic: 'v2', nr_lrs: 2 }));
  const w = watch(m, new StepMonitor(m));
  w.run(0, 0);
  w.write(0, 0x428, 1, 0xa0);
  w.inject(0, 40);
  w.write(0, 0x828, 1, 0x02);
  w.run(1, 1);
  w.write(1, 0x104, 4, 1 << 8);
  expect(status(m, 40)).to.deep.equal(['VISIBLE', 'ENABLED']);
  expect(getField(pcpu(m, 1).cpuif.lrs, 0, m.host.layout.virq)).to.equal(40);
  expect(vcpu(m, 0).inflightIrqs.next.owner).to.equal(rec(m, 40));
  return w;
}

// ----- P2-P6: each reported when broken, silent when healthy -----

describe('properties: P2-P6 are reported when a step breaks them, naming the vCPU / IRQ', () => {
  describe('P2 no interrupt in two valid LRs of one vCPU', () => {
    it('P2: a second LR forged with the INTID already in LR0 of the running vCPU is reported for d1v0, INTID 27', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0);
      w.inject(0, 27, 0); // LR0
      const found = w.go(injectOp(28, 0), () => forgeLr(w.m, pcpu(w.m, 0).cpuif.lrs, 2, 27));
      expect(found).to.deep.equal([{ id: 'P2', message: 'd1v0 has INTID 27 in two LRs' }]);
    });

    it('P2: the saved LRs of a descheduled vCPU are checked too (d1v1, INTID 28)', () => {
      const w = v0Running();
      prepare(w.m, 28, 0xa0, { vcpu: 1 });
      w.run(1, 1);
      w.inject(1, 28, 1);
      w.idle(1);
      const found = w.go(injectOp(29, 1), () => forgeLr(w.m, vcpu(w.m, 1).saved.lrs, 3, 28));
      // Changing a descheduled vCPU's LRs also breaks P3.
      expect(propertyIds(found)).to.deep.equal(['P2', 'P3']);
      expect(found.find((f) => f.id === 'P2')!.message).to.equal('d1v1 has INTID 28 in two LRs');
    });

    it('P2: an invalid (drained) LR with the same INTID is not reported', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0);
      w.inject(0, 27, 0);
      const found = w.go(injectOp(28, 0), () => {
        forgeLr(w.m, pcpu(w.m, 0).cpuif.lrs, 2, 27);
        updateLr(w.m.host.layout, pcpu(w.m, 0).cpuif.lrs, 2, 27, 0xa0, null, 0, true);
      });
      expect(found).to.deep.equal([]);
    });

    it('P2 (mutant enable-raises-visible): ICENABLER then ISENABLER of an IRQ in LR0 raises it into LR1 as well, reported for d1v0, INTID 27', () => {
      const w = v0Running({ gic: 'v2' }, 'enable-raises-visible');
      enableViaGicd(w, 0, 27);
      w.inject(0, 27, 0); // LR0
      w.write(0, 0x180, 4, 1 << 27); // Q6: disabled, stays in LR0
      const found = w.go({ op: 'mmio', pcpu: 0, access: 'write', addr: hex(d(0x100)), size: 4, value: hex(1 << 27) });
      expect(found).to.deep.equal([{ id: 'P2', message: 'd1v0 has INTID 27 in two LRs' }]);
    });

    it('P2 through the StepMonitor: reported with I13, and describeFinding quotes the property', () => {
      const m = machine(config());
      const w = watch(m, new StepMonitor(m));
      w.run(0, 0);
      prepare(m, 27, 0xa0);
      w.inject(0, 27, 0);
      const found = w.go(injectOp(28, 0), () => forgeLr(m, pcpu(m, 0).cpuif.lrs, 2, 27)) as Finding[];
      expect(propertyIds(found)).to.deep.equal(['P2']);
      expect(found.map((f) => f.id)).to.include('I13');
      const p2 = found.find((f) => f.id === 'P2')!;
      expect(describeFinding(p2)).to.equal('P2 (no interrupt is in two valid LRs of one vCPU): d1v0 has INTID 27 in two LRs');
    });
  });

  describe('P3 a vCPU that does not run keeps its LRs', () => {
    it('P3: a descheduled vCPU\'s saved LR word changed during an inject is reported for d1v1', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0, { vcpu: 1 });
      const found = w.go(injectOp(27, 1), () => forgeLr(w.m, vcpu(w.m, 1).saved.lrs, 0, 27));
      expect(found).to.deep.equal([{ id: 'P3', message: 'd1v1 does not run, yet its LRs changed during inject' }]);
    });

    it('P3: a single flipped bit in the saved LRs of a vCPU that ran before is reported, naming the op (d1v1, exit on pCPU0)', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0, { vcpu: 1 });
      w.run(1, 1);
      w.inject(1, 27, 1);
      w.idle(1);
      w.enter(0);
      const found = w.go({ op: 'exit', pcpu: 0 }, () => { vcpu(w.m, 1).saved.lrs[1]! ^= 1; });
      expect(found).to.deep.equal([{ id: 'P3', message: 'd1v1 does not run, yet its LRs changed during exit' }]);
    });

    it('P3: the LRs of the running vCPU and of a vCPU being scheduled in or out may change', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0);
      prepare(w.m, 27, 0xa0, { vcpu: 1 });
      w.inject(0, 27, 0); // v0's live LRs change
      w.inject(0, 27, 1); // v1 does not run: queued only (Q10)
      expect(lrPending(w.m, 1)).to.deep.equal([27]);
      w.run(1, 1); // scheduled in
      w.enter(1); // v1's LRs change while it runs
      w.exit(1);
      w.idle(1); // scheduled out: its saved LRs are written
      w.run(0, 1); // v0 saved, v1 loaded on pCPU0
    });
  });

  describe('P4 no return to the guest with lr_pending waiting while an LR is free / UIE clear', () => {
    it('P4: lr_pending left non-empty with a free LR after an enter is reported for d1v0 ("a free LR")', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0);
      w.inject(0, 27, 0);
      const found = w.go({ op: 'enter', pcpu: 0 }, () => {
        const v = vcpu(w.m, 0);
        const p = rec(w.m, 28, 0);
        p.priority = 0xa0;
        setBit(p, GIC_IRQ_GUEST_QUEUED);
        listAddTail(p.inflight, v.inflightIrqs);
        listAddTail(p.lrQueue, v.lrPending);
      });
      expect(found).to.deep.equal([{ id: 'P4', message: 'd1v0 returned to the guest with lr_pending non-empty and a free LR' }]);
    });

    /** 1 LR: 27 in LR0 and 28 (same priority) waiting on lr_pending, which eviction cannot place (Q12). */
    function full(): Watch {
      const w = v0Running({ nr_lrs: 1 });
      prepare(w.m, 27, 0xa0);
      prepare(w.m, 28, 0xa0);
      w.inject(0, 27, 0);
      w.inject(0, 28, 0);
      expect(lrPending(w.m, 0)).to.deep.equal([28]);
      return w;
    }

    it('P4: every LR used but UIE cleared after an enter is reported for d1v0 ("UIE clear")', () => {
      const w = full();
      const found = w.go({ op: 'enter', pcpu: 0 }, () => pcpu(w.m, 0).cpuif.setUie(false));
      expect(found).to.deep.equal([{ id: 'P4', message: 'd1v0 returned to the guest with lr_pending non-empty and UIE clear' }]);
    });

    it('P4/Q14: every LR used with UIE set, and lr_pending empty, are both fine', () => {
      const w = full();
      w.enter(0);
      expect(pcpu(w.m, 0).cpuif.uie).to.equal(true);
      w.pmr(0);
      expect(w.ack(0)).to.equal(27);
      w.eoi(0, 27);
      w.exit(0);
      w.enter(0);
      expect(lrPending(w.m, 0)).to.deep.equal([]);
      expect(w.ack(0)).to.equal(28);
    });

    it('P4 is judged only right after an enter (lr_pending with a free LR in hyp mode is Q11 queueing)', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0);
      w.inject(0, 27, 0);
      const found = w.go({ op: 'pending_check', pcpu: 0 }, () => {
        const p = rec(w.m, 28, 0);
        p.priority = 0xa0;
        setBit(p, GIC_IRQ_GUEST_QUEUED);
        listAddTail(p.inflight, vcpu(w.m, 0).inflightIrqs);
        listAddTail(p.lrQueue, vcpu(w.m, 0).lrPending);
      });
      expect(found).to.deep.equal([]);
    });
  });

  describe('P5 never more acknowledgements than assertions', () => {
    it('P5: an ack after the record\'s assertion count was reset is reported for d1v0, irq 27', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0);
      w.inject(0, 27, 0);
      w.enter(0);
      w.pmr(0);
      const found = w.go({ op: 'ack', pcpu: 0 }, () => { rec(w.m, 27, 0).assertions = 0; });
      expect(found).to.deep.equal([{ id: 'P5', message: 'd1v0 acknowledged irq 27 1 times after 0 assertions' }]);
    });

    it('P5: counts accumulate per record: the second ack of SPI 40 after one assertion is reported (d1v0, irq 40)', () => {
      const w = v0Running();
      prepare(w.m, 40, 0xa0);
      w.inject(0, 40);
      w.enter(0);
      w.pmr(0);
      expect(w.ack(0)).to.equal(40);
      w.eoi(0, 40);
      // Forge a second pending LR for 40 (lr_mask unchanged) without a second assertion.
      const found = w.go({ op: 'ack', pcpu: 0 }, () => undefined);
      expect(found).to.deep.equal([]); // nothing pending: 1023
      forgeLr(w.m, pcpu(w.m, 0).cpuif.lrs, 1, 40);
      const again = w.go({ op: 'ack', pcpu: 0 });
      expect(again).to.deep.equal([{ id: 'P5', message: 'd1v0 acknowledged irq 40 2 times after 1 assertions' }]);
    });

    it('P5 (mutant enable-raises-visible): one assertion in two LRs is acked twice, reported for d1v0, irq 27', () => {
      const w = v0Running({ gic: 'v2' }, 'enable-raises-visible');
      enableViaGicd(w, 0, 27);
      w.inject(0, 27, 0);
      w.write(0, 0x180, 4, 1 << 27);
      expect(propertyIds(w.go({ op: 'mmio', pcpu: 0, access: 'write', addr: hex(d(0x100)), size: 4, value: hex(1 << 27) }))).to.deep.equal(['P2']);
      w.go({ op: 'enter', pcpu: 0 });
      w.go({ op: 'pmr', pcpu: 0, value: 0xff });
      const first = w.step({ op: 'ack', pcpu: 0 });
      expect(first.r.intid).to.equal(27);
      expect(propertyIds(first.found)).to.deep.equal(['P2']);
      w.go({ op: 'eoi', pcpu: 0, intid: 27 });
      const second = w.step({ op: 'ack', pcpu: 0 });
      expect(second.r.intid).to.equal(27);
      expect(second.found.filter((f) => f.id === 'P5')).to.deep.equal([{ id: 'P5', message: 'd1v0 acknowledged irq 27 2 times after 1 assertions' }]);
    });

    it('P5/Q9: merging loses deliveries but invents none: two assertions while pending give one ack, not reported', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0);
      w.inject(0, 27, 0);
      w.inject(0, 27, 0);
      w.enter(0);
      w.pmr(0);
      expect(w.ack(0)).to.equal(27);
      w.eoi(0, 27);
      expect(w.ack(0)).to.equal(1023);
      expect(rec(w.m, 27, 0).assertions).to.equal(2);
    });
  });

  describe('P6 an injection Xen must ignore changes nothing', () => {
    it('P6: a level-low inject that changes state (forged ACTIVE) is reported, naming the op with vcpu 0 and virq 27', () => {
      const w = v0Running();
      prepare(w.m, 27, 0xa0);
      const found = w.go(injectOp(27, 0, { level: false }), () => setBit(rec(w.m, 27, 0), GIC_IRQ_GUEST_ACTIVE));
      expect(found.map((f) => f.id)).to.deep.equal(['P6']);
      expect(found[0]!.message).to.equal('d1: inject of irq 27 for vCPU 0 (level low) should have been ignored but changed the state');
    });

    it('P6 (mutant level-low-deasserts): level low takes PPI 27 of d1v1 off lr_pending, reported naming vcpu 1 and virq 27', () => {
      const w = v0Running({}, 'level-low-deasserts');
      prepare(w.m, 27, 0xa0, { vcpu: 1 });
      w.inject(0, 27, 1); // vCPU1 does not run: lr_pending, QUEUED
      expect(lrPending(w.m, 1)).to.deep.equal([27]);
      const found = w.go(injectOp(27, 1, { level: false }));
      expect(lrPending(w.m, 1)).to.deep.equal([]);
      expect(found).to.deep.equal([{
        id: 'P6', message: 'd1: inject of irq 27 for vCPU 1 (level low) should have been ignored but changed the state',
      }]);
    });

    it('P6 (mutant inject-into-offline): a PPI injected into offline d1v1 is queued, reported naming vcpu 1 and virq 27', () => {
      const w = v0Running({}, 'inject-into-offline');
      prepare(w.m, 27, 0xa0, { vcpu: 1 });
      w.vcpuOff(1);
      const found = w.go(injectOp(27, 1));
      expect(lrPending(w.m, 1)).to.deep.equal([27]);
      expect(found).to.deep.equal([{
        id: 'P6', message: 'd1: inject of irq 27 for vCPU 1 (offline target) should have been ignored but changed the state',
      }]);
    });

    it('P6 (mutant inject-into-offline): an SPI whose rank target (vCPU1) is offline is judged too (virq 40)', () => {
      const w = v0Running({ gic: 'v2' }, 'inject-into-offline');
      prepare(w.m, 40, 0xa0);
      w.write(0, 0x828, 1, 0x02);
      w.vcpuOff(1);
      const found = w.go(injectOp(40, null));
      expect(found.map((f) => f.id)).to.deep.equal(['P6']);
      expect(found[0]!.message).to.equal('d1: inject of irq 40 (offline target) should have been ignored but changed the state');
    });

    it('P6/Q2/Q8d: without a mutant, level-low and offline injections (PPI and SPI) change nothing and nothing is reported', () => {
      const w = v0Running({ gic: 'v2' });
      prepare(w.m, 27, 0xa0, { vcpu: 1 });
      prepare(w.m, 40, 0xa0);
      w.inject(0, 27, 1);
      w.ok(injectOp(27, 1, { level: false }));
      w.ok(injectOp(40, null, { level: false }));
      expect(lrPending(w.m, 1)).to.deep.equal([27]);
      w.write(0, 0x828, 1, 0x02);
      w.vcpuOff(1);
      w.inject(0, 27, 1);
      w.inject(0, 40);
      w.inject(0, 27, 1);
      expect(lrPending(w.m, 1)).to.deep.equal([27]); // what it held when it went offline
      expect(rec(w.m, 40).assertions).to.equal(0);
    });
  });
});

describe('properties: a healthy machine reports none of P2-P6 at any step', () => {
  for (const gic of ['v2', 'v3'] as const) {
    it(`P2-P6 (${gic}): spill to lr_pending, eviction, UIE, ack/EOI, Q9 re-assertion while active, migration between pCPUs, offline vCPU`, () => {
      const m = machine(config({ gic, nr_lrs: 2, vcpus: 3 }));
      const w = watch(m);
      w.run(0, 0);
      enableViaGicd(w, 0, 27, 0xa0);
      enableViaGicd(w, 0, 40, 0xc0);
      enableViaGicd(w, 0, 41, 0xc0);
      enableViaGicd(w, 0, 42, 0x80);
      w.inject(0, 40);
      w.inject(0, 41);
      w.inject(0, 27, 0); // LRs full: waits
      expect(lrPending(m, 0)).to.deep.equal([27]);
      w.enter(0); // 41 evicted for 27; UIE
      w.pmr(0);
      expect(w.ack(0)).to.equal(27);
      w.exit(0);
      w.inject(0, 27, 0); // Q9: active + pending
      w.enter(0);
      w.eoi(0, 27);
      expect(w.ack(0)).to.equal(27);
      w.eoi(0, 27);
      w.exit(0);
      w.enter(0);
      expect(w.ack(0)).to.equal(40);
      w.eoi(0, 40);
      expect(w.ack(0)).to.equal(41);
      w.eoi(0, 41);
      expect(w.ack(0)).to.equal(1023);
      w.exit(0);
      // vCPU0 moves to pCPU1; an SPI arrives while it is descheduled.
      w.idle(0);
      w.inject(0, 42);
      w.run(1, 0);
      w.enter(1);
      w.pmr(1);
      expect(w.ack(1)).to.equal(42);
      w.eoi(1, 42);
      w.exit(1);
      // vCPU2 goes offline; injections into it are dropped; back online without state.
      w.vcpuOff(2);
      w.inject(1, 27, 2);
      w.ok(injectOp(40, null, { level: false }, 1));
      w.vcpuOn(2);
      w.idle(1);
      expect(m.cpuOnWithLiveState.size).to.equal(0);
    });
  }

  it('P2-P6 through the StepMonitor: the same kind of run reports no invariant either', () => {
    const m = machine(config({ gic: 'v3', nr_lrs: 1 }));
    const w = watch(m, new StepMonitor(m));
    w.run(0, 0);
    enableViaGicd(w, 0, 40);
    enableViaGicd(w, 0, 41);
    w.inject(0, 40);
    w.inject(0, 41);
    w.enter(0);
    w.pmr(0);
    expect(w.ack(0)).to.equal(40);
    w.eoi(0, 40);
    w.exit(0);
    w.enter(0);
    expect(w.ack(0)).to.equal(41);
    w.eoi(0, 41);
    w.exit(0);
  });
});

describe('properties: the exemptions of P2 and P5 (Q37 CPU_ON, Q34)', () => {
  it('P2/Q37: the stale LR surviving CPU_ON plus a fresh placement of the same IRQ (two LRs with 27) is not reported', () => {
    const m = machine(config());
    const w = watch(m);
    prepare(m, 26, 0x90, { vcpu: 1 });
    prepare(m, 27, 0xa0, { vcpu: 1 });
    w.run(1, 1);
    w.inject(1, 26, 1); // LR0
    w.inject(1, 27, 1); // LR1
    w.idle(1);
    w.vcpuOff(1);
    w.vcpuOn(1);
    expect(m.cpuOnWithLiveState.has(vcpu(m, 1))).to.equal(true);
    w.run(1, 1); // saved LRs reloaded with lr_mask 0
    w.inject(1, 27, 1); // lowest free LR: LR0, next to the stale LR1
    const lrs = pcpu(m, 1).cpuif.lrs;
    expect([getField(lrs, 0, m.host.layout.virq), getField(lrs, 1, m.host.layout.virq)]).to.deep.equal([27, 27]);
    expect(getField(lrs, 1, m.host.layout.state)).to.equal(LR_STATE_PENDING);
    w.enter(1);
    w.exit(1);
  });

  it('P2/Q37: the exemption belongs to the vCPU: a duplicate LR on d1v0 is still reported after d1v1\'s CPU_ON', () => {
    const m = machine(config());
    const w = watch(m);
    cpuOnWithLiveState(w);
    w.run(0, 0);
    prepare(m, 28, 0x80);
    w.inject(0, 28, 0);
    const found = w.go(injectOp(29, 0), () => {
      forgeLr(m, pcpu(m, 0).cpuif.lrs, 3, 28);
      forgeLr(m, vcpu(m, 1).saved.lrs, 3, 27); // d1v1: exempt (but P3: it does not run)
    });
    expect(found).to.deep.equal([
      { id: 'P2', message: 'd1v0 has INTID 28 in two LRs' },
      { id: 'P3', message: 'd1v1 does not run, yet its LRs changed during inject' },
    ]);
  });

  it('P2/Q34: in a domain holding an SPI retargeted while inflight, a duplicate INTID in an LR is not reported (I13 is)', () => {
    const w = q34Machine();
    const m = w.m;
    const found = w.go(injectOp(41, null, {}, 0), () => forgeLr(m, pcpu(m, 1).cpuif.lrs, 1, 40)) as Finding[];
    expect(propertyIds(found), lines(found)).to.deep.equal([]);
  });

  it('P2 without Q34: the same duplicate in a domain without a retargeted SPI is reported for d1v1, INTID 40', () => {
    const m = machine(config({ gic: 'v2', nr_lrs: 2 }));
    const w = watch(m, new StepMonitor(m));
    w.run(1, 1);
    enableViaGicd(w, 1, 40);
    w.write(1, 0x828, 1, 0x02);
    w.inject(1, 40);
    const found = w.go(injectOp(41, null, {}, 1), () => forgeLr(m, pcpu(m, 1).cpuif.lrs, 1, 40)) as Finding[];
    expect(propertyIds(found)).to.deep.equal(['P2']);
    expect(found.find((f) => f.id === 'P2')!.message).to.equal('d1v1 has INTID 40 in two LRs');
  });

  it('P5/Q37: after CPU_ON with live state, an ack beyond the assertion count (the stale LR of d1v1) is not reported', () => {
    const m = machine(config());
    const w = watch(m);
    cpuOnWithLiveState(w);
    w.run(1, 1);
    w.enter(1);
    w.pmr(1);
    const { r, found } = w.step({ op: 'ack', pcpu: 1 }, () => { rec(m, 27, 1).assertions = 0; });
    expect(r.intid).to.equal(27);
    expect(found).to.deep.equal([]);
  });

  it('P5/Q34: an ack of the retargeted SPI beyond its assertion count is not reported', () => {
    const w = q34Machine();
    w.enter(1);
    w.pmr(1);
    const { r, found } = w.step({ op: 'ack', pcpu: 1 }, () => { rec(w.m, 40).assertions = 0; });
    expect(r.intid).to.equal(40);
    expect(propertyIds(found), lines(found)).to.deep.equal([]);
  });
});

// ----- P1: delivery -----

/** A hand-made GICv2 scenario: 2 LRs, 5 interrupts, the last injections at cycle 2. */
const HAND_MADE: DeliveryScenario = {
  config: { gic: 'v2', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 64 }] },
  irqs: [{ irq: 27, priority: 0xa0 }, { irq: 40, priority: 0x80 }, { irq: 3, priority: 0xc0 }, { irq: 70, priority: 0xa0 }, { irq: 41, priority: 0x00 }],
  when: [0, 0, 2, 1, 0],
  eoimode: 0,
};

/** The first seed in 1..500 whose delivery scenario fails with `mutant`. */
function failingSeed(mutant: MutantName): { seed: number; s: DeliveryScenario; message: string } | null {
  for (let seed = 1; seed <= 500; seed++) {
    const s = deliveryScenario(seed);
    const r = checkDelivery(s, mutant);
    if (E.isLeft(r)) return { seed, s, message: r.left };
  }
  return null;
}

describe('properties: P1 delivery (checkDelivery, deliveryScenario, deliveryBound)', () => {
  it('P1: deliveryBound is ceil(n / nr_lrs) + max(when) + 1 (5 IRQs, 2 LRs, last at cycle 2: 3 + 2 + 1 = 6)', () => {
    expect(deliveryBound(HAND_MADE)).to.equal(6);
    expect(deliveryBound({ ...HAND_MADE, config: { ...HAND_MADE.config, nr_lrs: 5 }, when: [0, 0, 0, 0, 0] })).to.equal(2);
    expect(deliveryBound({ ...HAND_MADE, config: { ...HAND_MADE.config, nr_lrs: 1 }, when: [3, 0, 0, 0, 0] })).to.equal(9);
  });

  it('P1: the hand-made scenario is delivered within its bound on GICv2 and GICv3, EOI mode 0 and 1', () => {
    for (const gic of ['v2', 'v3'] as const) {
      for (const eoimode of [0, 1] as const) {
        const s: DeliveryScenario = { ...HAND_MADE, config: { ...HAND_MADE.config, gic }, eoimode };
        const r = checkDelivery(s);
        if (E.isLeft(r)) expect.fail(`${gic} eoimode ${eoimode}: ${r.left}`);
        expect(r.right.cycles, `${gic} eoimode ${eoimode}`).to.be.within(1, deliveryBound(s));
      }
    }
  });

  it('P1: checkDelivery passes for the delivery scenarios of seeds 1..12, which cover GICv2 and GICv3', () => {
    const gics = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      const s = deliveryScenario(seed);
      gics.add(s.config.gic);
      const r = checkDelivery(s);
      if (E.isLeft(r)) expect.fail(`seed ${seed}: ${r.left}`);
      expect(r.right.cycles, `seed ${seed}`).to.be.within(1, deliveryBound(s));
    }
    expect([...gics].sort()).to.deep.equal(['v2', 'v3']);
  });

  it('P1: deliveryScenario is deterministic per seed and stays within its documented shape', () => {
    expect(deliveryScenario(7)).to.deep.equal(deliveryScenario(7));
    for (let seed = 1; seed <= 50; seed++) {
      const s = deliveryScenario(seed);
      expect(s.irqs.length).to.be.within(1, 24);
      expect(new Set(s.irqs.map((x) => x.irq)).size).to.equal(s.irqs.length);
      expect(s.when.length).to.equal(s.irqs.length);
      expect(s.config.domains).to.have.length(1);
      const nrSpis = s.config.domains[0]!.nr_spis ?? 0;
      for (const { irq, priority } of s.irqs) {
        expect(irq).to.be.below(32 + Math.min(nrSpis, 64));
        expect(priority).to.be.within(0, 0xf7);
      }
    }
  });

  it('P1 (mutant v2-lr-priority-low-bits): a seed in 1..500 fails with "not delivered within <bound> enter/exit cycles", and passes unmutated', function () {
    this.timeout(20000);
    const hit = failingSeed('v2-lr-priority-low-bits');
    expect(hit, 'no seed in 1..500 fails with the mutant').to.not.equal(null);
    const { seed, s, message } = hit!;
    expect(s.config.gic, `seed ${seed}`).to.equal('v2');
    expect(message).to.match(new RegExp(`^not delivered within ${deliveryBound(s)} enter/exit cycles: \\d+(, \\d+)*$`));
    const missing = message.split(': ')[1]!.split(', ').map(Number);
    for (const irq of missing) expect(s.irqs.map((x) => x.irq)).to.include(irq);
    expect(E.isRight(checkDelivery(s)), `seed ${seed} unmutated`).to.equal(true);
  });

  it('P1 (mutant no-placement-budget): a seed in 1..500 fails: Xen crashes in the eviction walk, and passes unmutated', function () {
    this.timeout(20000);
    const hit = failingSeed('no-placement-budget');
    expect(hit, 'no seed in 1..500 fails with the mutant').to.not.equal(null);
    const { seed, s, message } = hit!;
    expect(message).to.match(/crashed.*gic_restore_pending_irqs: eviction walk for IRQ \d+ ran past the head of d1v0's inflight list/);
    expect(E.isRight(checkDelivery(s)), `seed ${seed} unmutated`).to.equal(true);
  });

  // A crash is a P1 failure of the model, reported as such (not as a broken scenario).
  it('P1 (mutant no-placement-budget): a crash during the scenario is reported as "the machine crashed: <reason>", not as a trace error', () => {
    const hit = failingSeed('no-placement-budget');
    expect(hit).to.not.equal(null);
    expect(hit!.message).to.match(/^the machine crashed: gic_restore_pending_irqs: eviction walk for IRQ \d+ ran past the head/);
  });

  it('P1: a scenario with an invalid config returns Left naming the problem (no throw)', () => {
    const bad: DeliveryScenario = { ...HAND_MADE, config: { ...HAND_MADE.config, nr_lrs: 0 } };
    const r = checkDelivery(bad);
    expect(E.isLeft(r)).to.equal(true);
    expect((r as E.Left<string>).left).to.match(/nr_lrs/);
    const worse = checkDelivery({ ...HAND_MADE, config: { gic: 'v4', nr_lrs: 4, pcpus: 1, domains: [] } as unknown as DeliveryScenario['config'] });
    expect(E.isLeft(worse)).to.equal(true);
  });

  it('P1: a scenario whose IRQ the domain does not have returns Left with the trace error (no throw)', () => {
    const r = checkDelivery({ ...HAND_MADE, irqs: [{ irq: 200, priority: 0xa0 }], when: [0] });
    expect(E.isLeft(r)).to.equal(true);
    expect((r as E.Left<string>).left).to.match(/^trace error in the delivery scenario: .*virq 200/);
  });
});

// ----- campaigns -----

describe('properties: runCampaign', () => {
  it('runCampaign: 20 unmutated traces x 40 steps + 5 delivery scenarios: no violation, counts within the generator\'s bounds', function () {
    this.timeout(20000);
    const progress: [number, number][] = [];
    const res = runCampaign({ seed: 1, count: 20, steps: 40, delivery: 5, multiDomainTraces: 0, onTrace: (done, steps) => progress.push([done, steps]) });
    expect(res.violation, res.violation?.findings.join('\n')).to.equal(null);
    expect(res.delivery).to.deep.equal({ scenarios: 5, failure: null });
    expect(res.traces).to.equal(20);
    expect(res.steps).to.be.within(1, 20 * 40);
    expect(res.crashes).to.be.within(0, 20);
    const c = res.configs;
    expect(c.v2 + c.v3).to.equal(20);
    const within = (r: { min: number; max: number }, lo: number, hi: number, what: string): void => {
      expect(r.min, `${what} min`).to.be.within(lo, hi);
      expect(r.max, `${what} max`).to.be.within(r.min, hi);
    };
    within(c.nrLrs, 1, 16, 'nr_lrs');
    within(c.pcpus, 1, 4, 'pcpus');
    within(c.vcpus, 1, 4, 'vcpus');
    within(c.spis, 32, 960, 'spis');
    expect(c.spis.min % 32).to.equal(0);
    expect(c.spis.max % 32).to.equal(0);
    expect(progress.map(([done]) => done)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(progress[19]![1]).to.equal(res.steps);
  });

  it('runCampaign follows the generator\'s own machine (no mutant): the same figures as running each generated trace again on a fresh machine, and a finding stops the trace at its step', function () {
    this.timeout(60000);
    // The figures of a one-pass campaign are those of the two-pass one: replay each trace.
    const o = { seed: 11, count: 60, steps: 60, delivery: 0, multiDomainTraces: 10, life: 0.1 };
    const res = runCampaign(o);
    let steps = 0;
    let crashes = 0;
    for (let i = 0; i < o.count; i++) {
      const { trace, ops } = generateTraceWithOps(o.seed + i, { ...o, multiDomain: false });
      const m = Machine.create(trace.config);
      if (E.isLeft(m)) return expect.fail(m.left.join('; '));
      const mon = new StepMonitor(m.right);
      for (let k = 0; k < ops.length; k++) {
        mon.before(ops[k]!);
        const r = m.right.apply(ops[k]!, k);
        if (r instanceof TraceError) return expect.fail(r.message);
        expect(mon.after(ops[k]!, r), `seed ${o.seed + i} step ${k}`).to.deep.equal([]);
        steps += 1;
        if (m.right.crashed !== null) crashes += 1;
      }
    }
    expect([res.steps, res.crashes, res.traces]).to.deep.equal([steps, crashes, o.count]);
    // A finding (here a made-up one at the 7th step of the 3rd trace) ends the campaign there.
    const after = StepMonitor.prototype.after;
    let calls = 0;
    let trace3 = 0;
    StepMonitor.prototype.after = function (this: StepMonitor, op, r) {
      const real = after.call(this, op, r);
      if (++calls === trace3 + 7) return [{ id: 'I1', message: 'made up' }];
      return real;
    };
    try {
      trace3 = [0, 1].reduce((n, i) => n + generateTraceWithOps(o.seed + i, { ...o, multiDomain: false }).trace.steps.length, 0);
      const v = runCampaign(o).violation!;
      expect([v.seed, v.step, v.ids]).to.deep.equal([o.seed + 2, 6, ['I1']]);
      const full = generateTraceWithOps(o.seed + 2, { ...o, multiDomain: false }).trace;
      expect(v.trace.steps).to.deep.equal(full.steps.slice(0, 7));
      expect(v.op).to.equal(full.steps[6]!['op']);
    } finally {
      StepMonitor.prototype.after = after;
    }
  });

  it('runCampaign (mutant keep-uie-on-exit): I15 violated, with seed, step, op and a vgic-trace/1 trace cut after the step that replays to the same finding only with the mutant', function () {
    this.timeout(20000);
    const res = runCampaign({ seed: 1, count: 40, steps: 40, delivery: 0, mutant: 'keep-uie-on-exit' });
    const v = res.violation;
    expect(v, 'no violation in 40 traces').to.not.equal(null);
    expect(v!.seed).to.be.within(1, 40);
    expect(res.traces).to.equal(v!.seed); // it stops at the first violation
    expect(v!.step).to.be.within(0, 39);
    expect(v!.op).to.equal('exit');
    expect(v!.ids).to.deep.equal(['I15']);
    expect(v!.findings).to.have.length.at.least(1);
    expect(v!.findings[0]).to.match(/^I15 \(.*\): pCPU \d+: UIE still set after a trap$/);
    expect(v!.trace.steps).to.have.length(v!.step + 1);
    expect(v!.trace.steps[v!.step]!['op']).to.equal('exit');

    const decoded = decodeTrace(JSON.parse(JSON.stringify(v!.trace)));
    if (E.isLeft(decoded)) return expect.fail(decoded.left.join('\n'));
    expect(decoded.right.name).to.equal(v!.trace.name);
    expect(decoded.right.steps).to.have.length(v!.step + 1);
    const check = (m: Machine): StepMonitor => new StepMonitor(m);
    const mutated = runTrace(decoded.right, { mutant: 'keep-uie-on-exit', check });
    expect(mutated.status).to.equal('fail');
    expect(mutated.violation?.step).to.equal(v!.step);
    expect(mutated.violation?.findings[0]).to.match(/^I15: pCPU \d+: UIE still set after a trap$/);
    const clean = runTrace(decoded.right, { check });
    expect(clean.status, JSON.stringify(clean.violation ?? clean.error)).to.equal('pass');
    expect(clean.steps).to.equal(v!.step + 1);
  });

  it('runCampaign (mutant level-low-deasserts): a property (P6) is violated at a level-low inject, the trace replays to P6 only with the mutant', function () {
    this.timeout(20000);
    const res = runCampaign({ seed: 1, count: 60, steps: 40, delivery: 0, mutant: 'level-low-deasserts' });
    const v = res.violation;
    expect(v, 'no violation in 60 traces').to.not.equal(null);
    expect(v!.op).to.equal('inject');
    expect(v!.ids).to.include('P6');
    expect(v!.trace.steps[v!.step]!['level']).to.equal(false);
    const p6 = v!.findings.find((f) => f.startsWith('P6 '))!;
    expect(p6).to.match(/^P6 \(an injection Xen must ignore \(level low, offline target\) changes nothing\): d\d+: inject of irq \d+.* \(level low\) should have been ignored but changed the state$/);
    const decoded = decodeTrace(JSON.parse(JSON.stringify(v!.trace)));
    if (E.isLeft(decoded)) return expect.fail(decoded.left.join('\n'));
    const check = (m: Machine): StepMonitor => new StepMonitor(m);
    const mutated = runTrace(decoded.right, { mutant: 'level-low-deasserts', check });
    expect(mutated.status).to.equal('fail');
    expect(mutated.violation?.step).to.equal(v!.step);
    expect(mutated.violation?.findings.some((f) => f.startsWith('P6: '))).to.equal(true);
    expect(runTrace(decoded.right, { check }).status).to.equal('pass');
  });

  it('runCampaign (mutant v2-lr-priority-low-bits): a P1 failure of the delivery scenarios is reported with its seed', function () {
    this.timeout(20000);
    const hit = failingSeed('v2-lr-priority-low-bits')!;
    const res = runCampaign({ seed: hit.seed, count: 0, steps: 40, delivery: 1, mutant: 'v2-lr-priority-low-bits' });
    expect(res.traces).to.equal(0);
    expect(res.violation).to.equal(null);
    expect(res.delivery).to.deep.equal({ scenarios: 1, failure: { seed: hit.seed, message: hit.message } });
  });
});

// ----- mutation runner -----

describe('properties: runMutant and formatMutationTable', () => {
  it('runMutant(itargetsr-highest-bit): killed, with q25-itargetsr-lowest-bit-wins among the failing fixtures', async function () {
    this.timeout(40000);
    const r = await runMutant('itargetsr-highest-bit', { fixtures: FIXTURES, seed: 1, traces: 20, steps: 40, delivery: 5 });
    expect(r.mutant).to.equal('itargetsr-highest-bit');
    expect(r.killed).to.equal(true);
    expect(r.fixtures).to.include('q25-itargetsr-lowest-bit-wins');
    expect(r.firstFixture).to.not.equal(null);
    expect(r.fixtures).to.include(r.firstFixture!.name);
    expect(r.firstFixture!.steps).to.be.at.least(1);
    expect(r.seconds).to.be.above(0);
    if (r.divergence !== null) {
      expect(r.divergence.seed).to.be.within(1, 20);
      expect(r.divergence.steps).to.be.at.least(1);
    }
  });

  const KILLED: MutantResult = {
    mutant: 'itargetsr-highest-bit',
    fixtures: ['q25-itargetsr-lowest-bit-wins', 'q33-v2-960-spis-typer-and-itargetsr'],
    property: { ids: ['I13', 'P2'], seed: 7, step: 3 },
    divergence: { seed: 15, steps: 2, path: 'snapshot.domains[id=2].ranks[index=1].vcpu[2]' },
    firstFixture: { name: 'q25-itargetsr-lowest-bit-wins', steps: 5 },
    killed: true,
    seconds: 1.5,
  };
  const SURVIVED: MutantResult = {
    mutant: 'evict-active', fixtures: [], property: null, divergence: null, firstFixture: null, killed: false, seconds: 2,
  };

  it('formatMutationTable: header, rule, one row per mutant, and "kill rate: 1/2 = 50.0%" for one killed and one survived', () => {
    expect(formatMutationTable([KILLED, SURVIVED]).split('\n')).to.deep.equal([
      'mutant                 result    fixtures failing                        first property broken    steps to divergence',
      '---------------------  --------  --------------------------------------  -----------------------  -------------------',
      'itargetsr-highest-bit  killed    2 (q25-itargetsr-lowest-bit-wins, ...)  I13+P2 (seed 7, step 3)  2 (random, seed 15)',
      'evict-active           SURVIVED  -                                       -                        -',
      '',
      'kill rate: 1/2 = 50.0%',
    ]);
  });

  it('formatMutationTable: a P1 failure (step -1) shows only its seed; one fixture shows without ", ..."; a shorter fixture wins the divergence column', () => {
    const p1: MutantResult = {
      mutant: 'no-placement-budget', fixtures: ['q12-v2-evict-only-strictly-lower-priority'], property: { ids: ['P1'], seed: 4, step: -1 },
      divergence: { seed: 4, steps: 7, path: 'result.outcome' }, firstFixture: { name: 'q12-v2-evict-only-strictly-lower-priority', steps: 3 },
      killed: true, seconds: 1,
    };
    const out = formatMutationTable([p1]).split('\n');
    expect(out[2]).to.equal('no-placement-budget  killed  1 (q12-v2-evict-only-strictly-lower-priority)  P1 (seed 4)            3 (q12-v2-evict-only-strictly-lower-priority)');
    expect(out.at(-1)).to.equal('kill rate: 1/1 = 100.0%');
  });
});

// ----- the mutant catalogue -----

describe('properties: the mutant catalogue (src/xen/mutants.ts)', () => {
  /** Every `mutated(<host>, 'NAME')` test point in src/ (excluding the catalogue's own comment). */
  function testPoints(): Map<string, number> {
    const counts = new Map<string, number>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && p !== join(SRC, 'xen', 'mutants.ts')) {
          for (const hit of readFileSync(p, 'utf8').matchAll(/mutated\([a-zA-Z.]+, '([a-z0-9-]+)'\)/g)) counts.set(hit[1]!, (counts.get(hit[1]!) ?? 0) + 1);
        }
      }
    };
    walk(SRC);
    return counts;
  }

  it('every mutant has a one-line description and a reference item; names are kebab-case and unique', () => {
    expect(MUTANT_NAMES.length).to.be.at.least(20);
    expect(new Set(MUTANT_NAMES).size).to.equal(MUTANT_NAMES.length);
    for (const name of MUTANT_NAMES) {
      expect(name).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(isMutantName(name)).to.equal(true);
      expect(MUTANTS[name].description, name).to.match(/^[^\n]{10,}$/);
      expect(MUTANTS[name].ref, name).to.match(/^[^\n]*(Q\d+|I\d+|§\d|appendix)/);
    }
    expect(isMutantName('no-such-mutant')).to.equal(false);
    expect(isMutantName('toString')).to.equal(false);
  });

  for (const name of MUTANT_NAMES) {
    it(`mutant ${name}: switched on only by a variant naming it, read through the host, and tested at exactly one place in src/`, () => {
      expect(mutated({ variant: XEN_VARIANT }, name)).to.equal(false);
      const on = { variant: makeVariant(name) };
      expect(MUTANT_NAMES.filter((n) => mutated(on, n))).to.deep.equal([name]);
      // A machine built with the mutant carries it on its host, and only there.
      const m = mutantMachine(config(), name);
      expect(m.mutant).to.equal(name);
      expect(mutated(m.host, name)).to.equal(true);
      expect(mutated(mutantMachine(config(), null).host, name)).to.equal(false);
      expect(testPoints().get(name), `mutated(<host>, '${name}') in src/`).to.equal(1);
    });
  }

  it('no module-level switch is left: src/ has no switchMutant / withMutant, and src/arch/ imports nothing from src/xen/', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts')) {
          const text = readFileSync(p, 'utf8');
          if (/\b(switchMutant|restoreMutant|withMutant)\b/.test(text)) offenders.push(`${p}: module-level mutant switch`);
          if (p.startsWith(join(SRC, 'arch')) && /from '\.\.\/xen\//.test(text)) offenders.push(`${p}: imports from src/xen/`);
        }
      }
    };
    walk(SRC);
    expect(offenders).to.deep.equal([]);
  });

  it('no test point in src/ names a mutant missing from the catalogue', () => {
    expect([...testPoints().keys()].filter((n) => !isMutantName(n))).to.deep.equal([]);
  });

  it('a Machine carries its mutant on its own host: two machines side by side', () => {
    const plain = machine(config());
    const mut = mutantMachine(config(), 'inject-into-offline');
    for (const m of [plain, mut]) {
      const w = watch(m);
      w.step({ op: 'vcpu_off', domain: DOM, vcpu: 1 });
      prepare(m, 27, 0xa0, { vcpu: 1 });
    }
    expect(watch(plain).go(injectOp(27, 1))).to.deep.equal([]);
    expect(watch(mut).go(injectOp(27, 1)).map((f) => f.id)).to.deep.equal(['P6']);
    expect(mutated(plain.host, 'inject-into-offline')).to.equal(false);
    expect(mutated(mut.host, 'inject-into-offline')).to.equal(true);
    expect(lrPending(plain, 1)).to.deep.equal([]);
    expect(lrPending(mut, 1)).to.deep.equal([27]);
  });

  it('PROPERTIES: P1..P8 in order, each with a one-line description', () => {
    expect(PROPERTY_IDS).to.deep.equal(['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7', 'P8']);
    expect(Object.keys(PROPERTIES)).to.deep.equal([...PROPERTY_IDS]);
    for (const id of PROPERTY_IDS) expect(PROPERTIES[id]).to.match(/^[^\n]+$/);
  });
});
