/**
 * The invariant checker (src/check/invariants.ts) against the reference's §7 (I1-I19): for
 * every invariant a machine is driven into a legitimate state with steps, checked clean, then
 * corrupted directly (a status bit, a list link, an lr_mask bit, an LR, a rank field, the SPI
 * count) and the checker must name exactly that invariant and the record involved. Then a
 * realistic healthy run checked at every step, the CPU_ON (Q37) and Q34 exemptions, and the
 * output format of formatViolations.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { LR_STATE_PENDING, getField, setField, updateLr } from '../src/arch/lr.js';
import {
  INVARIANTS, INVARIANT_IDS, InvariantChecker, checkState, formatViolations, type InvariantId, type Violation,
} from '../src/check/invariants.js';
import type { Machine } from '../src/machine/machine.js';
import {
  GIC_IRQ_GUEST_ACTIVE, GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_MIGRATING, GIC_IRQ_GUEST_QUEUED, GIC_IRQ_GUEST_VISIBLE,
  clearBit, listAddTail, listDelInit, setBit, type PendingIrq, type Vcpu,
} from '../src/xen/types.js';
import {
  DOM, ack, config, dom, enter, eoi, exit, idle, inject, lrPending, machine, pcpu, pmr, prepare, rec, run,
  setPriority, setTarget, status, step, vcpu, type Cfg,
} from './helpers.js';
import { d, hex, writeOk } from './mmio-helpers.js';
import { Watch, opOf } from './watch.js';
import { StepMonitor } from '../src/check/monitor.js';
import { generateTrace } from '../src/conformance/gen.js';
import { decodeTrace, runTrace, type Trace } from '../src/conformance/trace.js';

// ----- helpers -----

function byId(a: InvariantId, b: InvariantId): number {
  return INVARIANT_IDS.indexOf(a) - INVARIANT_IDS.indexOf(b);
}

/** The distinct invariant ids of a check, in I1..I19 order. */
function idsOf(vs: readonly Violation[]): InvariantId[] {
  return [...new Set(vs.map((x) => x.id))].sort(byId);
}

/** Exactly these invariants are violated (the formatted violations explain a failure). */
function expectIds(vs: readonly Violation[], ids: InvariantId[]): void {
  expect(idsOf(vs), formatViolations(vs) || '(no violations)').to.deep.equal([...ids].sort(byId));
}

/** Some violation of `id` lists `record` (e.g. `d1:irq 40`) among its records. */
function expectRecord(vs: readonly Violation[], id: InvariantId, record: string): void {
  const hits = vs.filter((x) => x.id === id);
  expect(hits.some((x) => x.records.includes(record)), `${id} naming ${record} in:\n${formatViolations(vs)}`).to.equal(true);
}

/** Some violation of `id` has a message matching `re`. */
function expectMessage(vs: readonly Violation[], id: InvariantId, re: RegExp): void {
  const hits = vs.filter((x) => x.id === id);
  expect(hits.some((x) => re.test(x.message)), `${id} matching ${re} in:\n${formatViolations(vs)}`).to.equal(true);
}

/** checkState finds nothing. */
function expectClean(m: Machine): void {
  expectIds(checkState(m), []);
}


/** Link `p` onto v's inflight list by priority (as Xen's insertion would), with QUEUED. */
function linkInflight(v: Vcpu, p: PendingIrq, prio: number): void {
  p.priority = prio;
  setBit(p, GIC_IRQ_GUEST_QUEUED);
  let it = v.inflightIrqs.next;
  while (it !== v.inflightIrqs && it.owner!.priority <= prio) it = it.next;
  listAddTail(p.inflight, it);
}

/** v0 running (hyp) on pCPU0. */
function v0Running(cfg: Cfg = {}): Machine {
  const m = machine(config(cfg));
  run(m, 0, 0);
  return m;
}

/** v0 running on pCPU0 with PPI 27 (priority 0xa0) in LR0, VISIBLE. */
function ppiInLr0(cfg: Cfg = {}): Machine {
  const m = v0Running(cfg);
  prepare(m, 27, 0xa0);
  inject(m, 0, 27, 0);
  expect(status(m, 27)).to.deep.equal(['VISIBLE', 'ENABLED']);
  expectClean(m);
  return m;
}

/** A machine stepped through an InvariantChecker that must stay silent at every step. */
/** A Watch whose monitor is an InvariantChecker; the initial state must be healthy too. */
class Follow extends Watch {
  readonly chk: InvariantChecker;

  constructor(m: Machine) {
    const chk = new InvariantChecker(m);
    super(m, { after: (op) => chk.check(op) });
    this.chk = chk;
    const vs = chk.check(null);
    expect(vs, formatViolations(vs)).to.deep.equal([]);
  }
}

const QUEUED = GIC_IRQ_GUEST_QUEUED;
const ACTIVE = GIC_IRQ_GUEST_ACTIVE;
const VISIBLE = GIC_IRQ_GUEST_VISIBLE;
const ENABLED = GIC_IRQ_GUEST_ENABLED;
const MIGRATING = GIC_IRQ_GUEST_MIGRATING;

// ----- I1..I19, one violation each -----

describe('invariants: each of I1-I19 is reported when the state breaks it (§7)', () => {
  describe('I1 lr_pending ⊆ inflight', () => {
    it('I1: an SPI linked on lr_pending but on no inflight list is reported naming d1:irq 40', () => {
      const m = v0Running();
      prepare(m, 40, 0xa0);
      expectClean(m);
      const p = rec(m, 40);
      p.priority = 0xa0;
      setBit(p, QUEUED);
      listAddTail(p.lrQueue, vcpu(m, 0).lrPending);
      const vs = checkState(m);
      expectIds(vs, ['I1']);
      expectRecord(vs, 'I1', 'd1:irq 40');
      expectMessage(vs, 'I1', /^d1v0: irq 40 is on lr_pending but not on inflight$/);
    });

    /** vCPU0's PPI 27 on vCPU0's inflight list but on vCPU1's lr_pending. */
    function ppiCrossListed(): Machine {
      const m = machine(config());
      prepare(m, 27, 0xa0);
      inject(m, 0, 27, 0); // vCPU0 is not current: inflight + lr_pending, QUEUED
      expect(lrPending(m, 0)).to.deep.equal([27]);
      expectClean(m);
      const p = rec(m, 27, 0);
      listDelInit(p.lrQueue);
      listAddTail(p.lrQueue, vcpu(m, 1).lrPending);
      return m;
    }

    it('I1: per vCPU: a PPI on vCPU0\'s inflight list but on vCPU1\'s lr_pending is reported for vCPU1\'s lr_pending', () => {
      const vs = checkState(ppiCrossListed());
      expectIds(vs, ['I1']);
      expectMessage(vs, 'I1', /^d1v1: irq 27 is on lr_pending but not on inflight$/);
    });

    // Records are named by their owner, not by the vCPU whose list they were found on.
    it('I1: the violation names the record\'s owner, d1v0:irq 27, not the vCPU whose list it was found on', () => {
      const vs = checkState(ppiCrossListed());
      expectIds(vs, ['I1']);
      expectRecord(vs, 'I1', 'd1v0:irq 27');
      expect(vs.flatMap((x) => x.records)).to.not.include('d1v1:irq 27');
    });
  });

  describe('I2 sorted lists', () => {
    it('I2: a record appended to inflight behind a lower-priority one is reported naming both records', () => {
      const m = v0Running();
      setPriority(m, 27, 0xa0);
      inject(m, 0, 27, 0); // disabled: inflight with QUEUED
      expectClean(m);
      const p = rec(m, 28, 0);
      p.priority = 0x80;
      setBit(p, QUEUED);
      listAddTail(p.inflight, vcpu(m, 0).inflightIrqs); // at the tail, not before 27
      const vs = checkState(m);
      expectIds(vs, ['I2']);
      expectRecord(vs, 'I2', 'd1v0:irq 27');
      expectRecord(vs, 'I2', 'd1v0:irq 28');
      expectMessage(vs, 'I2', /^d1v0: inflight is out of order: irq 27 \(0xa0\) before irq 28 \(0x80\)$/);
    });

    it('I2: lr_pending out of order (inflight still sorted) is reported naming d1:irq 40 and d1:irq 41', () => {
      const m = machine(config());
      prepare(m, 40, 0xa0);
      prepare(m, 41, 0x80);
      inject(m, 0, 40);
      inject(m, 0, 41); // vCPU0 is not current: both queued, 41 first
      expect(lrPending(m, 0)).to.deep.equal([41, 40]);
      expectClean(m);
      const p = rec(m, 41);
      listDelInit(p.lrQueue);
      listAddTail(p.lrQueue, vcpu(m, 0).lrPending);
      const vs = checkState(m);
      expectIds(vs, ['I2']);
      expectRecord(vs, 'I2', 'd1:irq 40');
      expectRecord(vs, 'I2', 'd1:irq 41');
      expectMessage(vs, 'I2', /^d1v0: lr_pending is out of order: irq 40 \(0xa0\) before irq 41 \(0x80\)$/);
    });

    it('I2: equal priorities in either order are not reported (only non-decreasing order is checkable)', () => {
      const m = machine(config());
      prepare(m, 40, 0xa0);
      prepare(m, 41, 0xa0);
      inject(m, 0, 41);
      inject(m, 0, 40);
      expect(lrPending(m, 0)).to.deep.equal([41, 40]);
      expectClean(m);
    });
  });

  describe('I3 single membership', () => {
    // A list node can only be linked once, so a record on two inflight lists needs its other
    // node: the lr_queue link of PPI 27 ends up on vCPU1's inflight list.
    it('I3: a record on two vCPUs\' inflight lists is reported naming d1v0:irq 27', () => {
      const m = v0Running();
      setPriority(m, 27, 0xa0);
      inject(m, 0, 27, 0);
      expectClean(m);
      listAddTail(rec(m, 27, 0).lrQueue, vcpu(m, 1).inflightIrqs);
      const vs = checkState(m);
      expectIds(vs, ['I3']);
      expectRecord(vs, 'I3', 'd1v0:irq 27');
      expectMessage(vs, 'I3', /^d1v0:irq 27 is on 2 inflight and 0 lr_pending lists$/);
    });
  });

  describe('I4 VISIBLE excludes lr_pending', () => {
    it('I4: a VISIBLE record on lr_pending is reported naming d1v0:irq 27 (with I14, which follows from it)', () => {
      const m = ppiInLr0();
      listAddTail(rec(m, 27, 0).lrQueue, vcpu(m, 0).lrPending);
      const vs = checkState(m);
      expectIds(vs, ['I4', 'I14']);
      expectRecord(vs, 'I4', 'd1v0:irq 27');
      expectMessage(vs, 'I4', /^d1v0:irq 27 is VISIBLE and on lr_pending$/);
      expectMessage(vs, 'I14', /^d1v0:irq 27 is on lr_pending but VISIBLE$/);
    });
  });

  describe('I5 VISIBLE ⇒ inflight', () => {
    it('I5: a VISIBLE record on no inflight list (and in no tracked LR) is reported naming d1v0:irq 27', () => {
      const m = ppiInLr0();
      listDelInit(rec(m, 27, 0).inflight);
      pcpu(m, 0).lrMask.clear(0);
      const vs = checkState(m);
      expectIds(vs, ['I5']);
      expectRecord(vs, 'I5', 'd1v0:irq 27');
      expectMessage(vs, 'I5', /^d1v0:irq 27 is VISIBLE but on no inflight list$/);
    });

    it('I5: the same for an SPI names d1:irq 40', () => {
      const m = v0Running();
      prepare(m, 40, 0xa0);
      inject(m, 0, 40);
      expectClean(m);
      listDelInit(rec(m, 40).inflight);
      pcpu(m, 0).lrMask.clear(0);
      const vs = checkState(m);
      expectIds(vs, ['I5']);
      expectRecord(vs, 'I5', 'd1:irq 40');
    });
  });

  describe('I6 VISIBLE ⇔ occupies an LR', () => {
    it('I6: a VISIBLE record whose lr_mask bit is clear is reported naming d1v0:irq 27', () => {
      const m = ppiInLr0();
      pcpu(m, 0).lrMask.clear(0);
      const vs = checkState(m);
      expectIds(vs, ['I6']);
      expectRecord(vs, 'I6', 'd1v0:irq 27');
      expectMessage(vs, 'I6', /^d1v0:irq 27 is VISIBLE with lr 0 but lr_mask bit 0 of d1v0 is clear$/);
    });

    it('I6: a VISIBLE record whose LR holds another INTID is reported naming d1v0:irq 27', () => {
      const m = ppiInLr0();
      setField(pcpu(m, 0).cpuif.lrs, 0, m.host.layout.virq, 28);
      const vs = checkState(m);
      expectIds(vs, ['I6']);
      expectRecord(vs, 'I6', 'd1v0:irq 27');
      expectMessage(vs, 'I6', /^d1v0:irq 27 is VISIBLE with lr 0 but LR0 of d1v0 holds INTID 28$/);
    });

    it('I6 (converse): an lr_mask bit with no VISIBLE record is reported for d1v0 and that bit', () => {
      const m = ppiInLr0();
      pcpu(m, 0).lrMask.set(2);
      const vs = checkState(m);
      expectIds(vs, ['I6']);
      expectMessage(vs, 'I6', /^d1v0: lr_mask bit 2 is set but 0 VISIBLE records have lr 2$/);
    });

    it('I6 (converse): two VISIBLE records claiming the same LR are reported naming both', () => {
      const m = ppiInLr0();
      prepare(m, 28, 0xa0);
      inject(m, 0, 28, 0); // LR1
      expectClean(m);
      rec(m, 28, 0).lr = 0;
      const vs = checkState(m);
      expectIds(vs, ['I6']);
      expectMessage(vs, 'I6', /^d1v0: lr_mask bit 0 is set but 2 VISIBLE records have lr 0$/);
      expectRecord(vs, 'I6', 'd1v0:irq 27');
      expectRecord(vs, 'I6', 'd1v0:irq 28');
      expectMessage(vs, 'I6', /^d1v0:irq 28 is VISIBLE with lr 0 but LR0 of d1v0 holds INTID 27$/);
    });

    it('I6: a descheduled vCPU is checked against its saved lr_mask (d1:irq 40)', () => {
      const m = v0Running();
      prepare(m, 40, 0xa0);
      inject(m, 0, 40);
      idle(m, 0);
      expectClean(m);
      vcpu(m, 0).savedLrMask.clear(0);
      const vs = checkState(m);
      expectIds(vs, ['I6']);
      expectRecord(vs, 'I6', 'd1:irq 40');
    });
  });

  describe('I7 p.lr when not VISIBLE', () => {
    it('I7: a record that is not VISIBLE with lr 3 (neither 0 nor 0xff) is reported naming d1v0:irq 28', () => {
      const m = ppiInLr0();
      rec(m, 28, 0).lr = 3;
      const vs = checkState(m);
      expectIds(vs, ['I7']);
      expectRecord(vs, 'I7', 'd1v0:irq 28');
      expectMessage(vs, 'I7', /^d1v0:irq 28 is not VISIBLE but has lr 3$/);
    });

    it('I7: a VISIBLE record with lr = nr_lrs is reported naming d1v0:irq 27 (its LR bit then has no holder: I6)', () => {
      const m = ppiInLr0();
      rec(m, 27, 0).lr = 4;
      const vs = checkState(m);
      expectIds(vs, ['I6', 'I7']);
      expectRecord(vs, 'I7', 'd1v0:irq 27');
      expectMessage(vs, 'I7', /^d1v0:irq 27 is VISIBLE with lr 4 \(nr_lrs 4\)$/);
    });

    it('I7/Q38: lr 0 for a never-placed record and 0xff for a drained one are not reported', () => {
      const m = ppiInLr0();
      enter(m, 0);
      pmr(m, 0, 0xff);
      expect(ack(m, 0)).to.equal(27);
      eoi(m, 0, 27);
      exit(m, 0);
      expect(rec(m, 27, 0).lr).to.equal(0xff);
      expect(rec(m, 28, 0).lr).to.equal(0);
      expectClean(m);
    });
  });

  describe('I8 inflight, not VISIBLE ⇒ QUEUED', () => {
    it('I8: an inflight record that is neither VISIBLE nor QUEUED is reported naming d1v0:irq 27', () => {
      const m = v0Running();
      setPriority(m, 27, 0xa0);
      inject(m, 0, 27, 0); // disabled: inflight with QUEUED
      expectClean(m);
      clearBit(rec(m, 27, 0), QUEUED);
      const vs = checkState(m);
      expectIds(vs, ['I8']);
      expectRecord(vs, 'I8', 'd1v0:irq 27');
      expectMessage(vs, 'I8', /^d1v0:irq 27 is inflight, not VISIBLE and not QUEUED$/);
    });
  });

  describe('I9 ACTIVE ⇒ VISIBLE', () => {
    it('I9: an ACTIVE record that is not VISIBLE is reported naming d1:irq 41', () => {
      const m = ppiInLr0();
      setBit(rec(m, 41), ACTIVE);
      const vs = checkState(m);
      expectIds(vs, ['I9']);
      expectRecord(vs, 'I9', 'd1:irq 41');
      expectMessage(vs, 'I9', /^d1:irq 41 is ACTIVE but not VISIBLE$/);
    });

    it('I9/Q13: a stale ACTIVE on a VISIBLE record (LR back to pending) is not reported', () => {
      const m = ppiInLr0();
      enter(m, 0);
      pmr(m, 0, 0xff);
      expect(ack(m, 0)).to.equal(27);
      exit(m, 0); // Xen sees the LR active: ACTIVE
      inject(m, 0, 27, 0); // active + pending
      enter(m, 0);
      eoi(m, 0, 27); // the LR goes back to pending; ACTIVE stays
      exit(m, 0);
      expect(status(m, 27)).to.deep.equal(['ACTIVE', 'VISIBLE', 'ENABLED']);
      expectClean(m);
    });
  });

  describe('I10 ENABLED mirrors ienable', () => {
    it('I10: a PPI whose rank-0 ienable bit was cleared behind its back is reported naming d1v0:irq 27', () => {
      const m = ppiInLr0();
      vcpu(m, 0).privateIrqs.ienable = 0;
      const vs = checkState(m);
      expectIds(vs, ['I10']);
      expectRecord(vs, 'I10', 'd1v0:irq 27');
      expectMessage(vs, 'I10', /^d1v0:irq 27: ENABLED is true but the ienable bit is false$/);
    });

    it('I10: an SPI with ENABLED set and its ienable bit clear is reported naming d1:irq 40', () => {
      const m = v0Running();
      setBit(rec(m, 40), ENABLED);
      const vs = checkState(m);
      expectIds(vs, ['I10']);
      expectRecord(vs, 'I10', 'd1:irq 40');
    });

    it('I10: each vCPU\'s rank 0 is checked against its own records (d1v1:irq 27, not d1v0:irq 27)', () => {
      const m = ppiInLr0();
      vcpu(m, 1).privateIrqs.ienable |= 1 << 27;
      const vs = checkState(m);
      expectIds(vs, ['I10']);
      expectRecord(vs, 'I10', 'd1v1:irq 27');
      expect(vs.flatMap((x) => x.records)).to.not.include('d1v0:irq 27');
    });
  });

  describe('I11 MIGRATING ⇒ desc and inflight', () => {
    it('I11: MIGRATING on a purely virtual SPI is reported naming d1:irq 40', () => {
      const m = v0Running();
      setPriority(m, 40, 0xa0);
      inject(m, 0, 40); // disabled: inflight with QUEUED
      expectClean(m);
      setBit(rec(m, 40), MIGRATING);
      const vs = checkState(m);
      expectIds(vs, ['I11']);
      expectRecord(vs, 'I11', 'd1:irq 40');
      expectMessage(vs, 'I11', /^d1:irq 40 is MIGRATING without a physical IRQ$/);
    });

    it('I11: MIGRATING on a pass-through SPI that is on no inflight list is reported naming d1:irq 48', () => {
      const m = v0Running({ pirqs: [48] });
      expect(step(m, { op: 'route', domain: DOM, virq: 48, pirq: 48 }).outcome).to.equal('ok');
      expect(rec(m, 48).desc).to.not.equal(null);
      expectClean(m);
      setBit(rec(m, 48), MIGRATING);
      const vs = checkState(m);
      expectIds(vs, ['I11']);
      expectMessage(vs, 'I11', /^d1:irq 48 is MIGRATING but on no inflight list$/);
    });

    it('I11/Q35: a pass-through SPI retargeted through ITARGETSR while in an LR is MIGRATING and not reported', () => {
      const m = v0Running({ gic: 'v2', pirqs: [48] });
      expect(step(m, { op: 'route', domain: DOM, virq: 48, pirq: 48 }).outcome).to.equal('ok');
      writeOk(m, d(0x430), 1, 0xa0);
      writeOk(m, d(0x104), 4, 1 << 16);
      expect(step(m, { op: 'hw_irq', pirq: 48 }).outcome).to.equal('ok');
      writeOk(m, d(0x830), 1, 0x02);
      expect(status(m, 48)).to.deep.equal(['VISIBLE', 'ENABLED', 'MIGRATING']);
      expectClean(m);
    });
  });

  describe('I12 lr_mask bounds', () => {
    it('I12: an lr_mask bit at nr_lrs is reported for d1v0', () => {
      const m = ppiInLr0();
      pcpu(m, 0).lrMask.set(4);
      const vs = checkState(m);
      expectIds(vs, ['I12']);
      expectMessage(vs, 'I12', /^d1v0: lr_mask 0x11 has a bit at or above nr_lrs 4$/);
    });

    it('I12: a high-word bit of a saved lr_mask is reported for d1v1', () => {
      const m = ppiInLr0();
      vcpu(m, 1).savedLrMask.set(40);
      const vs = checkState(m);
      expectIds(vs, ['I12']);
      expectMessage(vs, 'I12', /^d1v1: lr_mask 0x10000000000 has a bit at or above nr_lrs 4$/);
    });
  });

  describe('I13 no IRQ twice in LRs', () => {
    it('I13: the same INTID in a second valid LR is reported for d1v0, INTID 27, LR0 and LR2', () => {
      const m = ppiInLr0();
      updateLr(m.host.layout, pcpu(m, 0).cpuif.lrs, 2, 27, 0xa0, null, LR_STATE_PENDING, true);
      const vs = checkState(m);
      expectIds(vs, ['I13']);
      expectMessage(vs, 'I13', /^d1v0: INTID 27 is in LR0 and LR2$/);
    });

    it('I13: an invalid (drained) LR with the same INTID is not reported', () => {
      const m = ppiInLr0();
      updateLr(m.host.layout, pcpu(m, 0).cpuif.lrs, 2, 27, 0xa0, null, 0, true);
      expectClean(m);
    });
  });

  describe('I14 lr_pending entries are QUEUED and not VISIBLE', () => {
    it('I14: an lr_pending entry without QUEUED is reported naming d1v0:irq 27 (with I8, from which it follows)', () => {
      const m = machine(config());
      prepare(m, 27, 0xa0);
      inject(m, 0, 27, 0);
      expect(lrPending(m, 0)).to.deep.equal([27]);
      expectClean(m);
      clearBit(rec(m, 27, 0), QUEUED);
      const vs = checkState(m);
      expectIds(vs, ['I8', 'I14']);
      expectRecord(vs, 'I14', 'd1v0:irq 27');
      expectMessage(vs, 'I14', /^d1v0:irq 27 is on lr_pending but not QUEUED$/);
    });
  });

  describe('I15 UIE (checked by an InvariantChecker at enter / exit)', () => {
    it('I15: UIE set after a return to the guest with a free LR and empty lr_pending is reported for pCPU 0', () => {
      const m = ppiInLr0();
      const chk = new InvariantChecker(m);
      enter(m, 0);
      expect(chk.check(opOf({ op: 'enter', pcpu: 0 }))).to.deep.equal([]);
      pcpu(m, 0).cpuif.setUie(true);
      const vs = chk.check(opOf({ op: 'enter', pcpu: 0 }));
      expectIds(vs, ['I15']);
      expectMessage(vs, 'I15', /^pCPU 0: UIE set after the return to d1v0 with empty lr_pending and a free LR$/);
    });

    it('I15: UIE with every LR used but lr_pending empty is reported', () => {
      const m = ppiInLr0({ nr_lrs: 1 });
      const chk = new InvariantChecker(m);
      enter(m, 0);
      pcpu(m, 0).cpuif.setUie(true);
      const vs = chk.check(opOf({ op: 'enter', pcpu: 0 }));
      expectIds(vs, ['I15']);
      expectMessage(vs, 'I15', /^pCPU 0: UIE set after the return to d1v0 with empty lr_pending and every LR used$/);
    });

    it('I15/Q14: UIE with lr_pending non-empty and every LR used is legitimate and not reported', () => {
      const m = ppiInLr0({ nr_lrs: 1 });
      prepare(m, 28, 0xa0);
      inject(m, 0, 28, 0);
      const chk = new InvariantChecker(m);
      enter(m, 0);
      expect(pcpu(m, 0).cpuif.uie).to.equal(true);
      expect(chk.check(opOf({ op: 'enter', pcpu: 0 }))).to.deep.equal([]);
    });

    it('I15: UIE still set right after a trap is reported for pCPU 0', () => {
      const m = ppiInLr0();
      const chk = new InvariantChecker(m);
      enter(m, 0);
      exit(m, 0);
      expect(chk.check(opOf({ op: 'exit', pcpu: 0 }))).to.deep.equal([]);
      pcpu(m, 0).cpuif.setUie(true);
      const vs = chk.check(opOf({ op: 'exit', pcpu: 0 }));
      expectIds(vs, ['I15']);
      expectMessage(vs, 'I15', /^pCPU 0: UIE still set after a trap$/);
    });

    it('I15 is about moments: the same UIE is not judged after another op or by checkState', () => {
      const m = ppiInLr0();
      const chk = new InvariantChecker(m);
      enter(m, 0);
      pcpu(m, 0).cpuif.setUie(true);
      expect(chk.check(opOf({ op: 'pmr', pcpu: 0, value: 0xff }))).to.deep.equal([]);
      expect(chk.check(null)).to.deep.equal([]);
      expectClean(m);
    });
  });

  describe('I16 rank targets', () => {
    it('I16: a private rank target other than the owning vCPU is reported for d1v0', () => {
      const m = ppiInLr0();
      vcpu(m, 0).privateIrqs.vcpu[5] = 1;
      const vs = checkState(m);
      expectIds(vs, ['I16']);
      expectMessage(vs, 'I16', /^d1v0: a private rank target is not 0$/);
    });

    it('I16: an SPI target that is not an existing vCPU id is reported naming SPI 40', () => {
      const m = ppiInLr0();
      setTarget(m, 40, 2);
      const vs = checkState(m);
      expectIds(vs, ['I16']);
      expectMessage(vs, 'I16', /^d1: SPI 40 targets vCPU 2, which does not exist$/);
    });

    it('I16/Q25: an ITARGETSR byte naming a vCPU beyond max_vcpus is dropped, so nothing is reported', () => {
      const m = v0Running({ gic: 'v2' });
      step(m, { op: 'mmio', pcpu: 0, access: 'write', addr: hex(d(0x828)), size: 1, value: '0x4' });
      expect(dom(m).sharedIrqs[0]!.vcpu[8]).to.equal(0);
      expectClean(m);
    });
  });

  describe('I17 SPI count', () => {
    const cases: [string, (m: Machine) => void, RegExp][] = [
      ['nr_spis not a multiple of 32', (m) => { dom(m).nrSpis = 65; }, /^d1: nr_spis 65 with 2 ranks and 64 SPI records$/],
      ['nr_spis bumped by a rank without a rank or records', (m) => { dom(m).nrSpis = 96; }, /^d1: nr_spis 96 with 2 ranks and 64 SPI records$/],
      ['nr_spis above 960', (m) => { dom(m).nrSpis = 992; }, /^d1: nr_spis 992 with/],
      ['an SPI without its pending_irq record', (m) => { dom(m).pendingIrqs.pop(); }, /^d1: nr_spis 64 with 2 ranks and 63 SPI records$/],
    ];
    for (const [what, corrupt, re] of cases) {
      it(`I17: ${what} is reported for d1`, () => {
        const m = ppiInLr0();
        corrupt(m);
        const vs = checkState(m);
        expectIds(vs, ['I17']);
        expectMessage(vs, 'I17', re);
      });
    }

    // A record without a rank is left to I17 (no lookup through the missing rank).
    it('I17: a rank missing for SPIs that have records is reported for d1 (not a TypeError)', () => {
      const m = ppiInLr0();
      dom(m).sharedIrqs.pop();
      const vs = checkState(m);
      expectIds(vs, ['I17']);
      expectMessage(vs, 'I17', /^d1: nr_spis 64 with 1 ranks and 64 SPI records$/);
    });

    it('I17: 960 SPIs (the Q33 maximum) in 30 ranks are not reported', () => {
      const m = machine(config({ nr_spis: 960 }));
      expect(dom(m).nrSpis).to.equal(960);
      expectClean(m);
    });
  });

  describe('I18 after a trap every lr_mask bit holds a pending or active LR', () => {
    it('I18: an invalid LR still in lr_mask right after sync-from is reported for pCPU 0, d1v0, LR0', () => {
      const m = ppiInLr0();
      const chk = new InvariantChecker(m);
      enter(m, 0);
      exit(m, 0);
      expect(chk.check(opOf({ op: 'exit', pcpu: 0 }))).to.deep.equal([]);
      setField(pcpu(m, 0).cpuif.lrs, 0, m.host.layout.state, 0); // as if the drain were missed
      const vs = chk.check(opOf({ op: 'exit', pcpu: 0 }));
      expectIds(vs, ['I18']);
      expectMessage(vs, 'I18', /^pCPU 0: lr_mask bit 0 of d1v0 is set but LR0 is invalid after the trap$/);
    });

    it('I18: in guest mode an EOIed LR still in lr_mask is normal and not reported until the trap reclaims it', () => {
      const m = ppiInLr0();
      const f = new Follow(m);
      f.enter(0);
      f.pmr(0, 0xff);
      expect(f.ack(0)).to.equal(27);
      f.eoi(0, 27);
      expect(getField(pcpu(m, 0).cpuif.lrs, 0, m.host.layout.state)).to.equal(0);
      expect(pcpu(m, 0).lrMask.test(0)).to.equal(true);
      f.exit(0);
      expect(pcpu(m, 0).lrMask.test(0)).to.equal(false);
    });
  });

  describe('I19 nothing reaches an offline vCPU', () => {
    it('I19: a PPI linked onto an offline vCPU\'s inflight list is reported naming d1v1:irq 27', () => {
      const m = v0Running();
      step(m, { op: 'vcpu_off', domain: DOM, vcpu: 1 });
      const chk = new InvariantChecker(m);
      expect(chk.check(null)).to.deep.equal([]);
      linkInflight(vcpu(m, 1), rec(m, 27, 1), 0xa0);
      const vs = chk.check(null);
      expectIds(vs, ['I19']);
      expectRecord(vs, 'I19', 'd1v1:irq 27');
      expectMessage(vs, 'I19', /^d1v1 is offline but gained irq 27 on its lists$/);
    });

    it('I19: an SPI targeting an offline vCPU linked onto its lists is reported naming d1:irq 40', () => {
      const m = v0Running();
      setTarget(m, 40, 1);
      step(m, { op: 'vcpu_off', domain: DOM, vcpu: 1 });
      const chk = new InvariantChecker(m);
      const p = rec(m, 40);
      linkInflight(vcpu(m, 1), p, 0xa0);
      listAddTail(p.lrQueue, vcpu(m, 1).lrPending);
      const vs = chk.check(null);
      expectIds(vs, ['I19']);
      expectRecord(vs, 'I19', 'd1:irq 40');
    });

    it('I19/Q8d: a real injection into an offline vCPU is dropped and nothing is reported', () => {
      const f = new Follow(v0Running());
      f.vcpuOff(1);
      prepare(f.m, 27, 0xa0, { vcpu: 1 });
      f.inject(0, 27, 1);
      expect(status(f.m, 27, 1)).to.deep.equal(['ENABLED']);
    });

    it('I19: what an offline vCPU held when it went offline may move to its lr_pending (enable) without a report', () => {
      const f = new Follow(v0Running());
      setPriority(f.m, 27, 0xa0, 1);
      f.inject(0, 27, 1); // disabled: vCPU1's inflight list
      f.vcpuOff(1);
      prepare(f.m, 27, 0xa0, { vcpu: 1 }); // enable: gic_raise_guest_irq queues it on lr_pending
      expect(lrPending(f.m, 1)).to.deep.equal([27]);
      expect(f.chk.check(null)).to.deep.equal([]);
    });
  });
});

// ----- a healthy run -----

describe('invariants: a healthy machine stays clean at every step', () => {
  it('I1-I19: spill to lr_pending, eviction, UIE, ack/EOI, pass-through migration via ITARGETSR, retarget, SGI, CPU_ON without state', () => {
    const m = machine(config({ gic: 'v2', nr_lrs: 2, vcpus: 3, pirqs: [48] }));
    const f = new Follow(m);
    f.run(0, 0);
    f.ok({ op: 'route', domain: DOM, virq: 48, pirq: 48 });
    // Priorities (IPRIORITYR bytes): PPI 27 0xa0, SPIs 40/41 0xc0, 42 0x80, 48 0x90.
    f.write(0, 0x41b, 1, 0xa0);
    f.write(0, 0x428, 1, 0xc0);
    f.write(0, 0x429, 1, 0xc0);
    f.write(0, 0x42a, 1, 0x80);
    f.write(0, 0x430, 1, 0x90);
    f.write(0, 0x100, 4, 1 << 27);
    f.write(0, 0x104, 4, (1 << 8) | (1 << 9) | (1 << 10) | (1 << 16));

    // Spill: two LRs hold 40 and 41, 27 waits on lr_pending.
    f.inject(0, 40);
    f.inject(0, 41);
    f.inject(0, 27, 0);
    expect(lrPending(m, 0)).to.deep.equal([27]);
    // Eviction on return to the guest: 41 makes room for 27 and waits; UIE is requested.
    f.enter(0);
    expect(lrPending(m, 0)).to.deep.equal([41]);
    expect(pcpu(m, 0).cpuif.uie).to.equal(true);
    f.pmr(0, 0xff);
    expect(f.ack(0)).to.equal(27);
    f.eoi(0, 27);
    f.exit(0);
    f.enter(0);
    expect(lrPending(m, 0)).to.deep.equal([]);
    expect(f.ack(0)).to.equal(40);
    f.eoi(0, 40);
    expect(f.ack(0)).to.equal(41);
    f.eoi(0, 41);
    f.exit(0);
    expect(vcpu(m, 0).inflightIrqs.next).to.equal(vcpu(m, 0).inflightIrqs);

    // Pass-through SPI 48 migrated through ITARGETSR while in an LR (MIGRATING until drained).
    expect(f.ok({ op: 'hw_irq', pirq: 48 }).outcome).to.equal('ok');
    f.write(0, 0x830, 1, 0x02);
    expect(status(m, 48)).to.deep.equal(['VISIBLE', 'ENABLED', 'MIGRATING']);
    f.enter(0);
    expect(f.ack(0)).to.equal(48);
    f.eoi(0, 48);
    f.exit(0);
    expect(status(m, 48)).to.deep.equal(['ENABLED']);
    expect(m.host.irqDescs.get(48)!.affinity).to.equal(1);

    // PSCI CPU_ON of vCPU1, which holds nothing: no exemption is taken.
    f.vcpuOff(1);
    f.vcpuOn(1);
    expect(m.cpuOnWithLiveState.size).to.equal(0);

    // The next assertion of 48 arrives on pCPU1 for vCPU1.
    expect(f.ok({ op: 'hw_irq', pirq: 48 }).outcome).to.equal('ok');
    expect(lrPending(m, 1)).to.deep.equal([48]);
    f.run(1, 1);
    f.write(1, 0x100, 4, 1 << 1); // vCPU1 enables its SGI 1
    f.write(0, 0xf00, 4, (0x02 << 16) | 1); // vCPU0 sends SGI 1 to vCPU1 (not current on pCPU0)
    expect(lrPending(m, 1)).to.deep.equal([1, 48]);
    f.enter(1);
    f.pmr(1, 0xff);
    expect(f.ack(1)).to.equal(1);
    f.eoi(1, 1);
    expect(f.ack(1)).to.equal(48);
    f.eoi(1, 48);
    f.exit(1);

    // A purely virtual SPI retargeted while idle, then asserted on its new target vCPU2.
    f.write(0, 0x82a, 1, 0x04);
    f.inject(0, 42);
    expect(lrPending(m, 2)).to.deep.equal([42]);
    f.idle(1);
    f.run(1, 2);
    f.enter(1);
    f.pmr(1, 0xff);
    expect(f.ack(1)).to.equal(42);
    f.eoi(1, 42);
    f.exit(1);
    f.idle(1);
    f.idle(0);
    expect(m.cpuOnWithLiveState.size).to.equal(0);
    expect(f.chk.q34Tainted.size).to.equal(0);
  });
});

// ----- exemptions -----

/**
 * vCPU1 got PSCI CPU_ON while PPI 27 was VISIBLE in its LR0 (Q37: the lists and lr_mask are
 * wiped, VISIBLE and the saved LR survive); vCPU0 never did. Then both vCPUs got PPI 28
 * (priority 0x80) in LR0 of their (now saved) LR file. Both pCPUs idle.
 */
function cpuOnMachine(): Machine {
  const m = machine(config());
  prepare(m, 27, 0xa0, { vcpu: 1 });
  run(m, 1, 1);
  inject(m, 1, 27, 1);
  idle(m, 1);
  step(m, { op: 'vcpu_off', domain: DOM, vcpu: 1 });
  step(m, { op: 'vcpu_on', domain: DOM, vcpu: 1 });
  expect(m.cpuOnWithLiveState.has(vcpu(m, 1))).to.equal(true);
  expect(m.cpuOnWithLiveState.has(vcpu(m, 0))).to.equal(false);
  for (const k of [0, 1]) {
    prepare(m, 28, 0x80, { vcpu: k });
    run(m, 0, k);
    inject(m, 0, 28, k);
    idle(m, 0);
    expect(status(m, 28, k)).to.deep.equal(['VISIBLE', 'ENABLED']);
  }
  expect(status(m, 27, 1)).to.deep.equal(['VISIBLE', 'ENABLED']); // stale, on no list
  expectClean(m);
  return m;
}

/** One corruption of vCPU k's records (both vCPUs descheduled), and what it breaks. */
interface Corruption {
  id: InvariantId;
  what: string;
  /** Every invariant the corruption breaks on a vCPU without the exemption. */
  ids: InvariantId[];
  /** The record a violation of `id` names, for vCPU k. */
  record: ((k: number) => string) | null;
  apply: (m: Machine, k: number) => void;
}

const CPU_ON_EXEMPT: Corruption[] = [
  {
    id: 'I4', what: 'a VISIBLE record linked on lr_pending', ids: ['I4', 'I14'], record: (k) => `d1v${k}:irq 28`,
    apply: (m, k) => listAddTail(rec(m, 28, k).lrQueue, vcpu(m, k).lrPending),
  },
  {
    id: 'I5', what: 'a VISIBLE record on no list and in no tracked LR', ids: ['I5'], record: (k) => `d1v${k}:irq 28`,
    apply: (m, k) => {
      listDelInit(rec(m, 28, k).inflight);
      vcpu(m, k).savedLrMask.clear(0);
    },
  },
  {
    id: 'I6', what: 'a VISIBLE record whose lr_mask bit is clear', ids: ['I6'], record: (k) => `d1v${k}:irq 28`,
    apply: (m, k) => vcpu(m, k).savedLrMask.clear(0),
  },
  {
    id: 'I8', what: 'an inflight record neither VISIBLE nor QUEUED', ids: ['I8'], record: (k) => `d1v${k}:irq 29`,
    apply: (m, k) => {
      linkInflight(vcpu(m, k), rec(m, 29, k), 0xa0);
      clearBit(rec(m, 29, k), QUEUED);
    },
  },
  {
    id: 'I9', what: 'an ACTIVE record that is not VISIBLE', ids: ['I9'], record: (k) => `d1v${k}:irq 29`,
    apply: (m, k) => setBit(rec(m, 29, k), ACTIVE),
  },
  {
    id: 'I11', what: 'MIGRATING on a PPI (no physical IRQ)', ids: ['I11'], record: (k) => `d1v${k}:irq 28`,
    apply: (m, k) => setBit(rec(m, 28, k), MIGRATING),
  },
  {
    id: 'I13', what: 'the same INTID in a second valid LR', ids: ['I13'], record: null,
    apply: (m, k) => updateLr(m.host.layout, vcpu(m, k).saved.lrs, 2, 28, 0x80, null, LR_STATE_PENDING, true),
  },
  {
    id: 'I14', what: 'an lr_pending entry without QUEUED', ids: ['I8', 'I14'], record: (k) => `d1v${k}:irq 29`,
    apply: (m, k) => {
      const p = rec(m, 29, k);
      linkInflight(vcpu(m, k), p, 0xa0);
      listAddTail(p.lrQueue, vcpu(m, k).lrPending);
      clearBit(p, QUEUED);
    },
  },
];

const NOT_CPU_ON_EXEMPT: Corruption[] = [
  {
    id: 'I2', what: 'inflight out of order', ids: ['I2'], record: (k) => `d1v${k}:irq 29`,
    apply: (m, k) => {
      const p = rec(m, 29, k);
      linkInflight(vcpu(m, k), p, 0x90); // behind 28 (0x80)
      p.priority = 0x10;
    },
  },
  {
    id: 'I7', what: 'a record that is not VISIBLE with lr 3', ids: ['I7'], record: (k) => `d1v${k}:irq 29`,
    apply: (m, k) => { rec(m, 29, k).lr = 3; },
  },
  {
    id: 'I10', what: 'ENABLED without its ienable bit', ids: ['I10'], record: (k) => `d1v${k}:irq 29`,
    apply: (m, k) => setBit(rec(m, 29, k), ENABLED),
  },
  {
    id: 'I12', what: 'an lr_mask bit at nr_lrs', ids: ['I12'], record: null,
    apply: (m, k) => vcpu(m, k).savedLrMask.set(4),
  },
  {
    id: 'I16', what: 'a private rank target of another vCPU', ids: ['I16'], record: null,
    apply: (m, k) => { vcpu(m, k).privateIrqs.vcpu[3] = 1 - k; },
  },
];

describe('invariants: the "except after CPU_ON" exemptions (§7, Q37)', () => {
  for (const c of CPU_ON_EXEMPT) {
    it(`${c.id}: ${c.what} is not reported for a vCPU that got CPU_ON with live state, but is for the other vCPU`, () => {
      const on = cpuOnMachine();
      c.apply(on, 1);
      expectIds(checkState(on), []);

      const other = cpuOnMachine();
      c.apply(other, 0);
      const vs = checkState(other);
      expectIds(vs, c.ids);
      if (c.record !== null) expectRecord(vs, c.id, c.record(0));
      else expectMessage(vs, c.id, /^d1v0: /);
    });
  }

  for (const c of NOT_CPU_ON_EXEMPT) {
    it(`${c.id}: ${c.what} is still reported for a vCPU that got CPU_ON with live state (not exempt)`, () => {
      const m = cpuOnMachine();
      c.apply(m, 1);
      const vs = checkState(m);
      expectIds(vs, c.ids);
      if (c.record !== null) expectRecord(vs, c.id, c.record(1));
      else expectMessage(vs, c.id, /^d1v1: /);
    });
  }

  it('I4/I14 (Q37): a record left VISIBLE by CPU_ON and injected again waits on lr_pending while VISIBLE, not reported', () => {
    const m = cpuOnMachine();
    const f = new Follow(m);
    f.inject(0, 27, 1); // vCPU1 is not current: gic_raise_guest_irq queues it
    expect(lrPending(m, 1)).to.deep.equal([27]);
    expect(status(m, 27, 1)).to.deep.equal(['QUEUED', 'VISIBLE', 'ENABLED']);
    // Once vCPU1 runs, the restore pass places it for real and the state is consistent again.
    f.run(1, 1);
    f.enter(1);
    expect(lrPending(m, 1)).to.deep.equal([]);
  });

  it('I13 (Q37): the stale LR surviving CPU_ON plus a fresh placement of the same IRQ gives two LRs, not reported', () => {
    const m = machine(config());
    const f = new Follow(m);
    prepare(m, 26, 0x90, { vcpu: 1 });
    prepare(m, 27, 0xa0, { vcpu: 1 });
    f.run(1, 1);
    f.inject(1, 26, 1); // LR0
    f.inject(1, 27, 1); // LR1
    f.idle(1);
    f.vcpuOff(1);
    f.vcpuOn(1);
    f.run(1, 1); // the saved LRs are reloaded with lr_mask 0
    f.inject(1, 27, 1); // lowest free LR: LR0, next to the stale LR1
    const lrs = pcpu(m, 1).cpuif.lrs;
    expect([getField(lrs, 0, m.host.layout.virq), getField(lrs, 1, m.host.layout.virq)]).to.deep.equal([27, 27]);
    expect(getField(lrs, 1, m.host.layout.state)).to.equal(LR_STATE_PENDING);
    f.enter(1);
    f.exit(1);
  });

  it('I18: after a trap, an invalid LR in lr_mask is not reported for a vCPU that got CPU_ON with live state, but is for another', () => {
    for (const k of [1, 0]) {
      const m = cpuOnMachine();
      const chk = new InvariantChecker(m);
      run(m, 0, k);
      enter(m, 0);
      exit(m, 0);
      expect(chk.check(opOf({ op: 'exit', pcpu: 0 }))).to.deep.equal([]);
      setField(pcpu(m, 0).cpuif.lrs, 0, m.host.layout.state, 0);
      const vs = chk.check(opOf({ op: 'exit', pcpu: 0 })).filter((x) => x.id === 'I18');
      expect(vs.length, `vCPU${k}`).to.equal(k === 1 ? 0 : 1);
    }
  });

  it('I6/I7: the exemption belongs to the vCPU, not the domain: vCPU0 is still checked fully after vCPU1\'s CPU_ON', () => {
    const m = cpuOnMachine();
    rec(m, 28, 0).lr = 4;
    const vs = checkState(m);
    expectIds(vs, ['I6', 'I7']);
    expectRecord(vs, 'I7', 'd1v0:irq 28');
  });

  // The CPU_ON exemption covers only the SPIs the wiped vCPU held (lists or LRs), not every SPI.
  it('I5: after CPU_ON of vCPU1, an SPI that only ever targeted vCPU0 and is VISIBLE on no list and in no LR is still reported', () => {
    const m = machine(config());
    const f = new Follow(m);
    prepare(m, 27, 0xa0, { vcpu: 1 });
    f.run(1, 1);
    f.inject(1, 27, 1);
    f.idle(1);
    f.vcpuOff(1);
    f.vcpuOn(1);
    expect(m.cpuOnWithLiveState.has(vcpu(m, 1))).to.equal(true);
    setBit(rec(m, 41), VISIBLE); // SPI 41: target vCPU0, never asserted
    const vs = f.chk.check(null);
    expectIds(vs, ['I5']);
    expectRecord(vs, 'I5', 'd1:irq 41');
  });
});

/**
 * GICv2, 1 LR. SPI 40 (priority 0xa0) is asserted on vCPU0 while disabled (vCPU0's inflight
 * list), retargeted to vCPU1 through ITARGETSR (Q34: it stays on vCPU0's list), then enabled
 * from vCPU1, which puts it in vCPU1's LR0. With `lrPendingToo`, PPI 27 (0x80) of vCPU1 waits
 * for that LR, the guest acks 40, 40 is asserted again, the guest EOIs it, and the drain
 * re-raises it behind 27 on vCPU1's lr_pending: on vCPU0's inflight and vCPU1's lr_pending.
 */
function q34(f: Follow, lrPendingToo: boolean): void {
  const m = f.m;
  f.run(0, 0);
  f.write(0, 0x428, 1, 0xa0);
  f.inject(0, 40);
  f.write(0, 0x828, 1, 0x02);
  expect(dom(m).sharedIrqs[0]!.vcpu[8]).to.equal(1);
  f.run(1, 1);
  f.write(1, 0x104, 4, 1 << 8);
  expect(status(m, 40)).to.deep.equal(['VISIBLE', 'ENABLED']);
  expect(getField(pcpu(m, 1).cpuif.lrs, 0, m.host.layout.virq)).to.equal(40);
  expect(vcpu(m, 0).inflightIrqs.next.owner).to.equal(rec(m, 40));
  if (!lrPendingToo) return;
  f.write(1, 0x41b, 1, 0x80);
  f.write(1, 0x100, 4, 1 << 27);
  f.inject(1, 27, 1);
  expect(lrPending(m, 1)).to.deep.equal([27]);
  f.enter(1);
  f.pmr(1, 0xff);
  expect(f.ack(1)).to.equal(40);
  f.inject(0, 40);
  f.eoi(1, 40);
  f.exit(1);
  expect(lrPending(m, 1)).to.deep.equal([27, 40]);
  expect(vcpu(m, 0).inflightIrqs.next.owner).to.equal(rec(m, 40));
  expect(status(m, 40)).to.deep.equal(['QUEUED', 'ENABLED']);
}

function q34Machine(lrPendingToo: boolean, vcpus = 2): Follow {
  const f = new Follow(machine(config({ gic: 'v2', nr_lrs: 1, vcpus })));
  q34(f, lrPendingToo);
  return f;
}

describe('invariants: the Q34 exemptions (SPI retargeted while inflight)', () => {
  it('I6/Q34: an SPI in vCPU1\'s LR0 while linked on vCPU0\'s inflight list is not reported, at any step', () => {
    const f = q34Machine(false);
    expect(f.chk.q34Tainted.has(rec(f.m, 40))).to.equal(true);
    expectClean(f.m);
  });

  it('I1/Q34: an SPI on vCPU1\'s lr_pending while on vCPU0\'s inflight list is not reported, at any step', () => {
    const f = q34Machine(true);
    expectClean(f.m);
  });

  it('I1/I6 without Q34: the same cross-vCPU shapes for a PPI (which cannot be retargeted) are reported', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27, 0); // vCPU0's LR0
    // vCPU1's lr_mask claims LR0 for a record that lives on vCPU0's lists.
    vcpu(m, 1).savedLrMask.set(0);
    updateLr(m.host.layout, vcpu(m, 1).saved.lrs, 0, 27, 0xa0, null, LR_STATE_PENDING, true);
    const vs = checkState(m);
    expectIds(vs, ['I6']);
    expectMessage(vs, 'I6', /^d1v1: lr_mask bit 0 is set but 0 VISIBLE records have lr 0$/);
  });

  const OTHERS: [InvariantId[], string, (p: PendingIrq, m: Machine) => void][] = [
    [['I10'], 'its ienable bit cleared', (_p, m) => { dom(m).sharedIrqs[0]!.ienable = 0; }],
    [['I11'], 'MIGRATING set (no physical IRQ)', (p) => setBit(p, MIGRATING)],
    [['I7'], 'lr 3 while not VISIBLE', (p) => { p.lr = 3; }],
  ];
  for (const [ids, what, corrupt] of OTHERS) {
    it(`${ids.join('/')}: Q34 does not exempt ${ids.join('/')}: the cross-listed SPI with ${what} is reported naming d1:irq 40`, () => {
      const f = q34Machine(true);
      corrupt(rec(f.m, 40), f.m);
      const vs = f.chk.check(null);
      expectIds(vs, ids);
      expectRecord(vs, ids[0]!, 'd1:irq 40');
    });
  }

  // What Xen itself does to a Q34 record and the vCPUs it touched (vgic fuzz --mmio found each;
  // fixtures/q34-*.json show them): one set of status bits serves two vCPUs, and a
  // re-assertion through the new target re-examines the old vCPU's LR index there.
  const EXEMPT: [InvariantId[], string, (p: PendingIrq, m: Machine) => void][] = [
    [['I8', 'I14'], 'QUEUED cleared (the new target\'s sync of its pending LR)', (p) => clearBit(p, QUEUED)],
    [['I9'], 'ACTIVE set while not VISIBLE', (p) => setBit(p, ACTIVE)],
    [['I2'], 'its priority raised above PPI 27 ahead of it on lr_pending (re-captured through the new target)', (p) => { p.priority = 0x10; }],
    [['I4', 'I14'], 'VISIBLE while on vCPU1\'s lr_pending (raised into an LR by the new target)', (p) => { setBit(p, VISIBLE); p.lr = 0; }],
  ];
  for (const [ids, what, corrupt] of EXEMPT) {
    it(`${ids.join('/')}: Q34's aftermath exempts ${ids.join('/')}: the cross-listed SPI with ${what} is not reported`, () => {
      const f = q34Machine(true);
      corrupt(rec(f.m, 40), f.m);
      const vs = f.chk.check(null);
      for (const id of ids) expect(idsOf(vs), id).to.not.include(id);
    });
  }

  it('I9/Q34: the same ACTIVE-but-not-VISIBLE corruption of a PPI of a vCPU no Q34 record touched is reported', () => {
    const f = q34Machine(true, 3);
    setBit(rec(f.m, 27, 2), ACTIVE);
    const vs = f.chk.check(null);
    expectIds(vs, ['I9']);
    expectRecord(vs, 'I9', 'd1v2:irq 27');
  });

  it('I19/Q34: enabling an SPI retargeted (while inflight) to an offline vCPU queues it there without a report', () => {
    const m = machine(config({ gic: 'v2' }));
    const f = new Follow(m);
    f.run(0, 0);
    f.vcpuOff(1);
    f.write(0, 0x428, 1, 0xa0);
    f.inject(0, 40); // disabled: vCPU0's inflight list
    f.write(0, 0x828, 1, 0x02);
    f.write(0, 0x104, 4, 1 << 8); // enable: raised on the (offline) target vCPU1
    expect(lrPending(m, 1)).to.deep.equal([40]);
  });

  it('I1/Q34: the taint settles: once the SPI has left every list and LR, I1 is checked for it again on a vCPU it never touched', () => {
    const f = q34Machine(false, 3);
    const m = f.m;
    f.enter(1);
    f.pmr(1, 0xff);
    expect(f.ack(1)).to.equal(40);
    f.eoi(1, 40);
    f.exit(1); // drained: unlinked from vCPU0's list
    expect(f.chk.q34Tainted.has(rec(m, 40))).to.equal(false);
    const p = rec(m, 40);
    p.priority = 0xa0;
    setBit(p, QUEUED);
    dom(m).sharedIrqs[0]!.vcpu[8] = 2; // its target is now vCPU 2, which no Q34 record touched
    listAddTail(p.lrQueue, vcpu(m, 2).lrPending);
    const vs = f.chk.check(null);
    expectIds(vs, ['I1']);
    expectRecord(vs, 'I1', 'd1:irq 40');
  });

  // The Q34 exemption of I6's converse covers only the vCPUs the record touched.
  it('I6 (converse): with a Q34 record in the domain, an lr_mask bit without a record on an uninvolved vCPU is still reported', () => {
    const f = q34Machine(true, 3);
    vcpu(f.m, 2).savedLrMask.set(0);
    const vs = f.chk.check(null);
    expectIds(vs, ['I6']);
    expectMessage(vs, 'I6', /^d1v2: lr_mask bit 0 is set but 0 VISIBLE records have lr 0$/);
  });
});

// ----- output -----

describe('invariants: formatViolations and the invariant table', () => {
  it('formatViolations (I1-I19): no violations give the empty string', () => {
    expect(formatViolations([])).to.equal('');
  });

  it('formatViolations (I4, I12): one line per violation, "<id> (<description>): <message>", in the given order', () => {
    const vs: Violation[] = [
      { id: 'I4', message: 'd1v0:irq 27 is VISIBLE and on lr_pending', records: ['d1v0:irq 27'] },
      { id: 'I12', message: 'd1v0: lr_mask 0x10 has a bit at or above nr_lrs 4', records: [] },
    ];
    expect(formatViolations(vs)).to.equal(
      'I4 (a VISIBLE record is not on lr_pending): d1v0:irq 27 is VISIBLE and on lr_pending\n'
      + 'I12 (lr_mask has no bit at or above nr_lrs): d1v0: lr_mask 0x10 has a bit at or above nr_lrs 4',
    );
  });

  it('formatViolations (I4, I14): a real check formats as two lines naming the record', () => {
    const m = ppiInLr0();
    listAddTail(rec(m, 27, 0).lrQueue, vcpu(m, 0).lrPending);
    expect(formatViolations(checkState(m)).split('\n')).to.deep.equal([
      'I4 (a VISIBLE record is not on lr_pending): d1v0:irq 27 is VISIBLE and on lr_pending',
      'I14 (a record on lr_pending is QUEUED and not VISIBLE): d1v0:irq 27 is on lr_pending but VISIBLE',
    ]);
  });

  it('INVARIANTS: I1..I19 then L1..L3 in order, each with a one-line description', () => {
    expect(INVARIANT_IDS).to.deep.equal([...Array.from({ length: 19 }, (_, i) => `I${i + 1}`), 'L1', 'L2', 'L3']);
    expect(Object.keys(INVARIANTS)).to.deep.equal([...INVARIANT_IDS]);
    for (const id of INVARIANT_IDS) expect(INVARIANTS[id]).to.match(/^[^\n]+$/);
  });
});

describe('invariants: regressions found by the fuzzer', () => {
  it('I5 (Q34 + Q37): an SPI sitting in vCPU1\'s LR while linked on vCPU0\'s inflight list, unlinked by CPU_ON of vCPU0, is exempt (random v2 trace, seed 31)', () => {
    const t = generateTrace(31, { steps: 69, gic: 'v2' });
    const r = runTrace(decodedTrace(t), { check: (m) => new StepMonitor(m) });
    expect(r.violation, JSON.stringify(r.violation)).to.equal(undefined);
    expect(r.status).to.equal('pass');
    expect(t.steps.some((s) => s['op'] === 'vcpu_on')).to.equal(true);
  });
});

function decodedTrace(u: unknown): Trace {
  const r = decodeTrace(u);
  if (E.isLeft(r)) return expect.fail(r.left.join('\n'));
  return r.right;
}
