/**
 * The core of Xen's vGIC model (reference §3.1-§3.14, §3.19, §3.20, §3.22, quirks of §6 and
 * the scenarios of appendix D), driven through the machine where a guest could get there and
 * through the model functions where only Xen itself can.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { LR_STATE_PENDING, lrLayout, setRawLr } from '../src/arch/lr.js';
import { IrqDesc } from '../src/hw/irqdesc.js';
import {
  gicAddToLrPending, gicFindUnusedLr, gicRaiseGuestIrq, gicRaiseInflightIrq, gicRemoveFromLrPending,
  gicSetLr, vgicSyncFromLrs, vgicVcpuPendingIrq,
} from '../src/xen/gic-vgic.js';
import {
  Domain, GIC_IRQ_GUEST_PRISTINE_LPI, GIC_IRQ_GUEST_QUEUED,
  Host, PendingIrq, XenCrash, listRecords, setBit, statusNames,
} from '../src/xen/types.js';
import {
  domainVgicInit, vgicAllocateVirq, vgicClearPendingIrqs, vgicFreeVirq, vgicGetRank, vgicInjectIrq,
  vgicIsAllocated, vgicMigrateIrq, vgicRemoveIrqFromQueues, vgicReserveVirq, vgicToSgi,
} from '../src/xen/vgic.js';
import {
  ack, config, disable, dom, enable, enableBits, enter, eoi, exit, idle, inflight, inject, irqsnap, json,
  lrPending, lrs, machine, pcpu, pendingCheck, pmr, prepare, rec, run, setPriority, setTarget, status, step,
  uie, vcpu, vsnap,
} from './helpers.js';
import type { Machine } from '../src/machine/machine.js';

/** v0 running (hyp) on pCPU0 of a default machine (v3, 4 LRs, 2 pCPUs, 2 vCPUs, 64 SPIs). */
function v0Running(cfg = config()): Machine {
  const m = machine(cfg);
  run(m, 0, 0);
  return m;
}

/** Attach host IRQ `pirq` (listed in the config's pirqs) to SPI `virq` as its desc. */
function attachDesc(m: Machine, virq: number, pirq = virq): IrqDesc {
  const desc = m.host.irqDescs.get(pirq)!;
  desc.guest = { domain: 1, virq };
  rec(m, virq).desc = desc;
  return desc;
}

describe('xen core: vgic_inject_irq (3.1)', () => {
  it('Q2: level=false returns before any state change and without a kick (3.1 step 1)', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    const before = json(m);
    const r = inject(m, 0, 27, 0, false);
    expect(r.outcome).to.equal('ok');
    expect(json(m)).to.equal(before);
    expect(vcpu(m, 0).kicks).to.equal(0);
  });

  it('3.1 step 2: with no vCPU an SPI goes to the vCPU named by its rank target', () => {
    const m = v0Running();
    prepare(m, 40, 0xa0);
    setTarget(m, 40, 1);
    inject(m, 0, 40, null);
    expect(inflight(m, 1)).to.deep.equal([[40, 0]]);
    expect(lrPending(m, 1)).to.deep.equal([40]);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(vcpu(m, 1).kicks).to.equal(1);
    expect(vcpu(m, 0).kicks).to.equal(0);
  });

  it('3.1 step 2: no vCPU for a non-SPI fails ASSERT(vgic_is_spi) -> crash', () => {
    const m = v0Running();
    expect(() => vgicInjectIrq(pcpu(m, 0), dom(m), null, 27, true)).to.throw(XenCrash, /ASSERT\(vgic_is_spi\(27\)\)/);
    expect(() => vgicInjectIrq(pcpu(m, 0), dom(m), null, 96, true)).to.throw(XenCrash, /ASSERT\(vgic_is_spi\(96\)\)/);
  });

  it('3.1 step 3: an LPI without a record (no ITS) is dropped: no state change, no kick', () => {
    const m = v0Running();
    const before = json(m);
    vgicInjectIrq(pcpu(m, 0), dom(m), vcpu(m, 0), 8192, true);
    expect(json(m)).to.equal(before);
    expect(vcpu(m, 0).kicks).to.equal(0);
  });

  it('3.1 step 3: an LPI on a vGICv2 domain hits vgic_v2_lpi_to_pending BUG() -> crash', () => {
    const m = v0Running(config({ gic: 'v2' }));
    expect(() => vgicInjectIrq(pcpu(m, 0), dom(m), vcpu(m, 0), 8192, true)).to.throw(XenCrash, /BUG/);
  });

  it('Q8d/I19: injection into an offline vCPU is dropped: no QUEUED, not linked, no kick (3.1 step 4)', () => {
    const m = v0Running();
    step(m, { op: 'vcpu_off', domain: 1, vcpu: 1 });
    prepare(m, 27, 0xa0, { vcpu: 1 });
    prepare(m, 40, 0xa0);
    setTarget(m, 40, 1);
    const before = json(m);
    inject(m, 0, 27, 1);
    inject(m, 0, 40, null);
    expect(json(m)).to.equal(before);
    expect(status(m, 27, 1)).to.deep.equal(['ENABLED']);
    expect(status(m, 40)).to.deep.equal(['ENABLED']);
    expect(vcpu(m, 1).kicks).to.equal(0);
  });

  it('3.1 steps 5-9: a fresh enabled IRQ for current is QUEUED, then placed in LR0 by gic_set_lr (QUEUED cleared)', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27, 0);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['VISIBLE', 'ENABLED'], priority: 160, lr: 0 });
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(inflight(m, 0)).to.deep.equal([[27, 0]]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x1');
    expect(vcpu(m, 0).kicks).to.equal(1);
  });

  it('Q7: an IRQ asserted while disabled is remembered on inflight with QUEUED, not on lr_pending (3.1 steps 8-9)', () => {
    const m = v0Running();
    setPriority(m, 27, 0xa0);
    inject(m, 0, 27, 0);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['QUEUED'], priority: 160, lr: 0 });
    expect(inflight(m, 0)).to.deep.equal([[27, 0]]);
    expect(lrPending(m, 0)).to.deep.equal([]);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x0');
  });

  it('Q5: a re-assertion of an inflight IRQ keeps its captured priority and list position (3.1 step 6)', () => {
    const m = v0Running();
    for (const [irq, prio] of [[40, 0xa0], [41, 0xb0]] as const) {
      prepare(m, irq, prio);
      setTarget(m, irq, 1);
      inject(m, 0, irq, null);
    }
    setPriority(m, 40, 0xf0);
    setPriority(m, 41, 0x10);
    inject(m, 0, 41, null);
    inject(m, 0, 40, null);
    expect(inflight(m, 1)).to.deep.equal([[40, 0], [41, 0]]);
    expect(lrPending(m, 1)).to.deep.equal([40, 41]);
    expect(rec(m, 40).priority).to.equal(0xa0);
    expect(rec(m, 41).priority).to.equal(0xb0);
  });

  it('I2: inflight is sorted by captured priority, FIFO among equal priorities (3.1 step 9)', () => {
    const m = v0Running();
    const order: [number, number][] = [[40, 0xa0], [41, 0x80], [42, 0xa0], [43, 0xc0], [44, 0x80]];
    for (const [irq, prio] of order) {
      setPriority(m, irq, prio);
      setTarget(m, irq, 1);
      inject(m, 0, irq, null);
    }
    expect(vsnap(m, 1).inflight.map((e) => e.irq)).to.deep.equal([41, 44, 40, 42, 43]);
    expect(lrPending(m, 1)).to.deep.equal([]);
  });

  it('Q15: every accepted injection kicks: disabled, enabled, re-asserted (3.1 step 10)', () => {
    const m = v0Running();
    setPriority(m, 27, 0xa0, 1);
    inject(m, 0, 27, 1); // disabled
    expect(vcpu(m, 1).kicks).to.equal(1);
    inject(m, 0, 27, 1); // re-assertion of a disabled inflight IRQ
    expect(vcpu(m, 1).kicks).to.equal(2);
    prepare(m, 28, 0xa0, { vcpu: 1 });
    inject(m, 0, 28, 1); // enabled
    inject(m, 0, 28, 1); // re-assertion, still on lr_pending
    expect(vcpu(m, 1).kicks).to.equal(4);
    inject(m, 0, 28, 1, false); // level low: not accepted
    expect(vcpu(m, 1).kicks).to.equal(4);
    expect(vcpu(m, 0).kicks).to.equal(0);
  });
});

describe('xen core: gic_raise_guest_irq (3.2)', () => {
  it('3.2 step 2: current with an empty lr_pending takes the lowest free LR', () => {
    const m = v0Running();
    for (const irq of [32, 33, 34]) prepare(m, irq, 0xa0);
    inject(m, 0, 32);
    inject(m, 0, 33);
    inject(m, 0, 34);
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0x50a0000000000020', state: 'pending' },
      { lr: 1, raw: '0x50a0000000000021', state: 'pending' },
      { lr: 2, raw: '0x50a0000000000022', state: 'pending' },
    ]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x7');
    expect(inflight(m, 0)).to.deep.equal([[32, 0], [33, 1], [34, 2]]);
  });

  it('3.2 step 3: with every LR used the IRQ is queued, never evicting here even at higher priority', () => {
    const m = v0Running(config({ nr_lrs: 2 }));
    prepare(m, 32, 0xa0);
    prepare(m, 33, 0xa0);
    prepare(m, 34, 0x10);
    inject(m, 0, 32);
    inject(m, 0, 33);
    inject(m, 0, 34);
    expect(lrs(m, 0).map((l) => l.raw)).to.deep.equal(['0x50a0000000000020', '0x50a0000000000021']);
    expect(lrPending(m, 0)).to.deep.equal([34]);
    expect(inflight(m, 0)).to.deep.equal([[34, 0], [32, 0], [33, 1]]);
    expect(status(m, 34)).to.deep.equal(['QUEUED', 'ENABLED']);
  });

  it('Q11: a non-empty lr_pending makes even a higher-priority IRQ queue although LRs are free (3.2)', () => {
    const m = machine();
    prepare(m, 40, 0xa0);
    inject(m, 0, 40); // vCPU0 not running: lr_pending
    run(m, 0, 0);
    prepare(m, 41, 0x10);
    inject(m, 0, 41);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x0');
    expect(lrPending(m, 0)).to.deep.equal([41, 40]);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0x5010000000000029', state: 'pending' },
      { lr: 1, raw: '0x50a0000000000028', state: 'pending' },
    ]);
    expect(lrPending(m, 0)).to.deep.equal([]);
  });

  it('Q10/3.22 item 1: a non-current target only gets lr_pending and a kick (D2)', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0, { vcpu: 1 });
    inject(m, 0, 27, 1);
    expect(lrPending(m, 1)).to.deep.equal([27]);
    expect(inflight(m, 1)).to.deep.equal([[27, 0]]);
    expect(lrs(m, 1)).to.deep.equal([]);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(vsnap(m, 1).lr_mask).to.equal('0x0');
    expect(irqsnap(m, 27, 1)).to.deep.equal({ irq: 27, vcpu: 1, status: ['QUEUED', 'ENABLED'], priority: 160, lr: 0 });
    expect(vcpu(m, 1).kicks).to.equal(1);
  });

  it('3.2: the priority argument is ignored; p->priority goes into the LR', () => {
    const m = v0Running();
    const p = rec(m, 27);
    p.priority = 0xa0;
    gicRaiseGuestIrq(pcpu(m, 0), vcpu(m, 0), 27, 0x10);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(statusNames(p.status)).to.deep.equal(['VISIBLE']);
  });

  it('3.2 step 1: an LPI without a record is not raised', () => {
    const m = v0Running();
    const before = json(m);
    gicRaiseGuestIrq(pcpu(m, 0), vcpu(m, 0), 8192, 0xa0);
    expect(json(m)).to.equal(before);
  });
});

describe('xen core: gic_raise_inflight_irq (3.3)', () => {
  it('3.3 step 2: a disabled inflight IRQ is not re-examined; QUEUED stays set', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    disable(m, 27);
    inject(m, 0, 27);
    expect(status(m, 27)).to.deep.equal(['QUEUED', 'VISIBLE']);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
  });

  it('3.3 step 4: an IRQ on lr_pending is left alone; QUEUED stays set', () => {
    const m = v0Running(config({ nr_lrs: 1 }));
    prepare(m, 32, 0xa0);
    prepare(m, 33, 0xa0);
    inject(m, 0, 32);
    inject(m, 0, 33);
    inject(m, 0, 33);
    expect(lrPending(m, 0)).to.deep.equal([33]);
    expect(status(m, 33)).to.deep.equal(['QUEUED', 'ENABLED']);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a0000000000020', state: 'pending' }]);
  });

  it('Q9: re-asserting an IRQ pending in an LR of current merges: QUEUED cleared, one LR (3.3 step 3, 3.7c)', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    inject(m, 0, 27);
    expect(status(m, 27)).to.deep.equal(['VISIBLE', 'ENABLED']);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    eoi(m, 0, 27);
    expect(ack(m, 0)).to.equal(1023);
  });

  it('Q10: re-asserting for a non-current vCPU only sets QUEUED; its next sync-from consumes it (3.3 step 4)', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    inject(m, 1, 27, 0); // from idle pCPU1: vCPU0 is not its current
    expect(status(m, 27)).to.deep.equal(['QUEUED', 'VISIBLE', 'ENABLED']);
    exit(m, 0);
    expect(status(m, 27)).to.deep.equal(['VISIBLE', 'ENABLED']);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
  });

  it('3.3 note: re-examining p->lr = 255 is an LR index outside the LR file -> crash', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    rec(m, 27).lr = 0xff;
    const r = inject(m, 0, 27);
    expect(r.outcome).to.equal('crash');
    expect(r.reason).to.match(/LR index 255 is outside the LR file/);
    expect(() => gicRaiseInflightIrq(pcpu(m, 0), vcpu(m, 0), 27)).to.throw(XenCrash);
  });
});

describe('xen core: gic_add_to_lr_pending / gic_remove_from_lr_pending (3.4)', () => {
  it('3.4: insertion before the first strictly greater priority, FIFO among equals', () => {
    const m = machine();
    const v1 = vcpu(m, 1);
    const prios: [number, number][] = [[40, 0xa0], [41, 0x80], [42, 0xa0], [43, 0xc0], [44, 0x80]];
    for (const [irq, prio] of prios) {
      rec(m, irq).priority = prio;
      gicAddToLrPending(v1, rec(m, irq));
    }
    expect(listRecords(v1.lrPending).map((p) => p.irq)).to.deep.equal([41, 44, 40, 42, 43]);
  });

  it('3.4: adding an IRQ that is already queued is a no-op (no re-sorting)', () => {
    const m = machine();
    const v1 = vcpu(m, 1);
    for (const [irq, prio] of [[40, 0xa0], [41, 0xb0]] as const) {
      rec(m, irq).priority = prio;
      gicAddToLrPending(v1, rec(m, irq));
    }
    rec(m, 41).priority = 0x00;
    gicAddToLrPending(v1, rec(m, 41));
    expect(listRecords(v1.lrPending).map((p) => p.irq)).to.deep.equal([40, 41]);
  });

  it('3.4: remove unlinks without touching status and is a no-op when not linked', () => {
    const m = machine();
    const v1 = vcpu(m, 1);
    for (const irq of [40, 41, 42]) {
      rec(m, irq).priority = 0xa0;
      gicAddToLrPending(v1, rec(m, irq));
    }
    setBit(rec(m, 41), GIC_IRQ_GUEST_QUEUED);
    gicRemoveFromLrPending(v1, rec(m, 41));
    expect(listRecords(v1.lrPending).map((p) => p.irq)).to.deep.equal([40, 42]);
    expect(status(m, 41)).to.deep.equal(['QUEUED']);
    gicRemoveFromLrPending(v1, rec(m, 41));
    expect(listRecords(v1.lrPending).map((p) => p.irq)).to.deep.equal([40, 42]);
  });
});

describe('xen core: gic_find_unused_lr (3.5)', () => {
  it('3.5 step 2: lowest clear lr_mask bit at or above start, nr_lrs when none', () => {
    const m = v0Running();
    const cpu = pcpu(m, 0);
    const p = rec(m, 27);
    cpu.lrMask.set(0);
    cpu.lrMask.set(2);
    expect(gicFindUnusedLr(cpu, vcpu(m, 0), p, 0)).to.equal(1);
    expect(gicFindUnusedLr(cpu, vcpu(m, 0), p, 2)).to.equal(3);
    expect(gicFindUnusedLr(cpu, vcpu(m, 0), p, 4)).to.equal(4);
    cpu.lrMask.set(1);
    cpu.lrMask.set(3);
    expect(gicFindUnusedLr(cpu, vcpu(m, 0), p, 0)).to.equal(4);
  });

  it('Q39/3.5 step 1: a PRISTINE_LPI record reuses the used LR holding its vINTID', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    prepare(m, 28, 0xa0);
    inject(m, 0, 27);
    inject(m, 0, 28);
    const cpu = pcpu(m, 0);
    const p = rec(m, 28);
    setBit(p, GIC_IRQ_GUEST_PRISTINE_LPI);
    expect(gicFindUnusedLr(cpu, vcpu(m, 0), p, 0)).to.equal(1);
    const q = rec(m, 29);
    setBit(q, GIC_IRQ_GUEST_PRISTINE_LPI);
    expect(gicFindUnusedLr(cpu, vcpu(m, 0), q, 0)).to.equal(2);
    p.status = 0;
    expect(gicFindUnusedLr(cpu, vcpu(m, 0), p, 0)).to.equal(2);
  });
});

describe('xen core: gic_set_lr (3.6)', () => {
  it('3.6: clears PRISTINE_LPI and QUEUED, writes the LR, sets VISIBLE and p->lr; lr_mask is the caller\'s', () => {
    const m = v0Running();
    const p = rec(m, 27);
    p.priority = 0x90;
    setBit(p, GIC_IRQ_GUEST_QUEUED);
    setBit(p, GIC_IRQ_GUEST_PRISTINE_LPI);
    gicSetLr(pcpu(m, 0), 2, p, LR_STATE_PENDING);
    expect(statusNames(p.status)).to.deep.equal(['VISIBLE']);
    expect(p.lr).to.equal(2);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 2, raw: '0x509000000000001b', state: 'pending' }]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x0');
  });

  it('3.6: an LR index at or beyond nr_lrs is update_lr\'s BUG_ON -> crash', () => {
    const m = v0Running();
    expect(() => gicSetLr(pcpu(m, 0), 4, rec(m, 27), LR_STATE_PENDING)).to.throw(XenCrash, /outside the LR file/);
  });
});

describe('xen core: gic_update_one_lr (3.7)', () => {
  it('3.7(a): an LR naming an LPI without a record is cleared and its lr_mask bit dropped', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    const cpu = pcpu(m, 0);
    setRawLr(cpu.cpuif.lrs, 1, 0x50a0000000002000n);
    cpu.lrMask.set(1);
    expect(vsnap(m, 0).lrs.map((l) => l.virq)).to.deep.equal([27, 8192]);
    exit(m, 0);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x1');
  });

  it('3.7(a): a non-LPI record with PRISTINE_LPI fails ASSERT(is_lpi) -> crash', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    setBit(rec(m, 27), GIC_IRQ_GUEST_PRISTINE_LPI);
    const r = exit(m, 0);
    expect(r.outcome).to.equal('crash');
    expect(r.reason).to.match(/ASSERT\(is_lpi\(27\)\)/);
  });

  it('3.7(b): an active LR sets ACTIVE; without QUEUED the LR is left as is', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    exit(m, 0);
    expect(status(m, 27)).to.deep.equal(['ACTIVE', 'VISIBLE', 'ENABLED']);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x90a000000000001b', state: 'active' }]);
  });

  it('Q9/3.7(b): a virtual IRQ re-asserted while its LR is active becomes pending+active, QUEUED cleared (D3)', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    exit(m, 0);
    inject(m, 0, 27);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0xd0a000000000001b', state: 'pending+active' }]);
    expect(status(m, 27)).to.deep.equal(['ACTIVE', 'VISIBLE', 'ENABLED']);
    // Second delivery after the guest's EOI.
    enter(m, 0);
    eoi(m, 0, 27);
    expect(ack(m, 0)).to.equal(27);
  });

  it('Q9/3.7(b): the same merge happens at the next sync-from when the re-assertion came from another pCPU', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    inject(m, 1, 27, 0);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x90a000000000001b', state: 'active' }]);
    exit(m, 0);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0xd0a000000000001b', state: 'pending+active' }]);
    expect(status(m, 27)).to.deep.equal(['ACTIVE', 'VISIBLE', 'ENABLED']);
  });

  it('Q8c/3.7(b): a hw IRQ re-asserted while active: warning "already active", LR unchanged, assertion lost (D3)', () => {
    const m = v0Running(config({ pirqs: [48] }));
    const desc = attachDesc(m, 48);
    prepare(m, 48, 0xa0);
    inject(m, 0, 48);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x70a0003000000030', state: 'pending' }]);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(48);
    exit(m, 0);
    const r = inject(m, 0, 48);
    expect(r.log).to.have.length(1);
    expect(r.log![0]!.level).to.equal('warn');
    expect(r.log![0]!.msg).to.match(/hw irq 48 already active in LR0/);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0xb0a0003000000030', state: 'active' }]);
    expect(status(m, 48)).to.deep.equal(['ACTIVE', 'VISIBLE', 'ENABLED']);
    // The guest's EOI deactivates the physical IRQ through the HW bit; nothing is re-delivered.
    desc.active = true;
    enter(m, 0);
    eoi(m, 0, 48);
    expect(desc.active).to.equal(false);
    exit(m, 0);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(inflight(m, 0)).to.deep.equal([]);
  });

  it('3.7(b): an active LR of a disabled IRQ keeps QUEUED and is not made pending', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    exit(m, 0);
    disable(m, 27);
    inject(m, 0, 27);
    enter(m, 0);
    exit(m, 0);
    expect(status(m, 27)).to.deep.equal(['QUEUED', 'ACTIVE', 'VISIBLE']);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x90a000000000001b', state: 'active' }]);
  });

  it('Q13/3.7(c): an LR going pending+active -> pending keeps a stale ACTIVE, so it cannot be evicted', () => {
    const m = v0Running(config({ nr_lrs: 1 }));
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    exit(m, 0);
    inject(m, 0, 27); // pending+active
    enter(m, 0);
    eoi(m, 0, 27); // priority drop + deactivate: pending again
    exit(m, 0);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(status(m, 27)).to.deep.equal(['ACTIVE', 'VISIBLE', 'ENABLED']);
    prepare(m, 28, 0x80);
    inject(m, 0, 28);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(lrPending(m, 0)).to.deep.equal([28]);
    expect(uie(m, 0)).to.equal(true);
  });

  it('Q1/Q38/3.7(d): a drained LR is reclaimed: LR cleared, lr_mask bit, VISIBLE and ACTIVE cleared, lr=255, unlinked', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    inject(m, 0, 27); // level-as-edge: merges into the pending LR
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    exit(m, 0);
    enter(m, 0);
    eoi(m, 0, 27);
    expect(ack(m, 0)).to.equal(1023);
    exit(m, 0);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['ENABLED'], priority: 160, lr: 255 });
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x0');
    enter(m, 0);
    expect(ack(m, 0)).to.equal(1023); // no re-fire without a new injection
  });

  it('3.7(d) step 5: a drained, ENABLED and QUEUED IRQ is re-raised into the lowest free LR with its captured priority and inflight position', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    prepare(m, 28, 0xa0);
    inject(m, 0, 27);
    inject(m, 0, 28);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    eoi(m, 0, 27);
    setPriority(m, 27, 0xf0);
    inject(m, 1, 27, 0);
    expect(status(m, 27)).to.deep.equal(['QUEUED', 'VISIBLE', 'ENABLED']);
    exit(m, 0);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['VISIBLE', 'ENABLED'], priority: 160, lr: 0 });
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0x50a000000000001b', state: 'pending' },
      { lr: 1, raw: '0x50a000000000001c', state: 'pending' },
    ]);
    expect(inflight(m, 0)).to.deep.equal([[27, 0], [28, 1]]);
  });

  it('3.7(d) step 5: with lr_pending non-empty the re-raised IRQ joins lr_pending by priority (FIFO)', () => {
    const m = v0Running(config({ nr_lrs: 2 }));
    for (const irq of [27, 28, 29]) prepare(m, irq, 0xa0);
    inject(m, 0, 27);
    inject(m, 0, 28);
    inject(m, 0, 29);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    eoi(m, 0, 27);
    inject(m, 1, 27, 0);
    exit(m, 0);
    expect(lrPending(m, 0)).to.deep.equal([29, 27]);
    expect(inflight(m, 0)).to.deep.equal([[27, 255], [28, 1], [29, 0]]);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['QUEUED', 'ENABLED'], priority: 160, lr: 255 });
    expect(lrs(m, 0)).to.deep.equal([{ lr: 1, raw: '0x50a000000000001c', state: 'pending' }]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x2');
  });

  it('3.7(d) step 3: draining a hw IRQ\'s LR clears the descriptor\'s IN_PROGRESS', () => {
    const m = v0Running(config({ pirqs: [48] }));
    const desc = attachDesc(m, 48);
    prepare(m, 48, 0xa0);
    inject(m, 0, 48);
    desc.inProgress = true;
    desc.active = true;
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(48);
    eoi(m, 0, 48);
    expect(desc.active).to.equal(false);
    expect(desc.inProgress).to.equal(true);
    exit(m, 0);
    expect(desc.inProgress).to.equal(false);
    expect(irqsnap(m, 48)).to.deep.equal({ irq: 48, vcpu: null, status: ['ENABLED'], priority: 160, lr: 255 });
    expect(inflight(m, 0)).to.deep.equal([]);
  });

  it('Q8a/3.7(d) step 6: re-asserted while VISIBLE but disabled, it leaves inflight with a stale QUEUED and enable does not re-raise it', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    disable(m, 27);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    eoi(m, 0, 27);
    exit(m, 0);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['QUEUED'], priority: 160, lr: 255 });
    expect(inflight(m, 0)).to.deep.equal([]);
    enable(m, 27);
    expect(status(m, 27)).to.deep.equal(['QUEUED', 'ENABLED']);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(lrs(m, 0)).to.deep.equal([]);
  });

  it('Q8b/3.7(d) step 6: a MIGRATING hw IRQ is not re-raised on drain; its affinity moves to the new target and MIGRATING clears', () => {
    const m = v0Running(config({ pirqs: [48] }));
    const desc = attachDesc(m, 48);
    prepare(m, 48, 0xa0);
    expect(desc.affinity).to.equal(0);
    inject(m, 0, 48);
    expect(vgicMigrateIrq(pcpu(m, 0), vcpu(m, 0), vcpu(m, 1), 48)).to.equal(true);
    setTarget(m, 48, 1);
    expect(status(m, 48)).to.deep.equal(['VISIBLE', 'ENABLED', 'MIGRATING']);
    inject(m, 0, 48); // now routed to vCPU1, which is not current: only QUEUED
    expect(status(m, 48)).to.deep.equal(['QUEUED', 'VISIBLE', 'ENABLED', 'MIGRATING']);
    expect(vcpu(m, 1).kicks).to.equal(1);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(48);
    eoi(m, 0, 48);
    exit(m, 0);
    expect(irqsnap(m, 48)).to.deep.equal({ irq: 48, vcpu: null, status: ['QUEUED', 'ENABLED'], priority: 160, lr: 255 });
    expect(desc.affinity).to.equal(1);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(inflight(m, 1)).to.deep.equal([]);
    expect(lrPending(m, 1)).to.deep.equal([]);
    expect(lrs(m, 0)).to.deep.equal([]);
  });

  it('Q35/3.17 step 3: a second retarget while MIGRATING is refused with a warning', () => {
    const m = v0Running(config({ pirqs: [48] }));
    attachDesc(m, 48);
    prepare(m, 48, 0xa0);
    inject(m, 0, 48);
    expect(vgicMigrateIrq(pcpu(m, 0), vcpu(m, 0), vcpu(m, 1), 48)).to.equal(true);
    m.host.log.length = 0;
    expect(vgicMigrateIrq(pcpu(m, 0), vcpu(m, 0), vcpu(m, 1), 48)).to.equal(false);
    expect(m.host.log).to.deep.equal([{ level: 'warn', msg: 'irq 48 migration failed: requested while in progress' }]);
  });
});

describe('xen core: gic_restore_pending_irqs / vgic_sync_to_lrs (3.8)', () => {
  /** v0 on pCPU0 with SPIs 32..(32+n-1) at `prio` in LR0..n-1. */
  function fullLrs(prios: number[], cfg = config({ nr_lrs: prios.length })): Machine {
    const m = v0Running(cfg);
    prios.forEach((prio, i) => {
      prepare(m, 32 + i, prio);
      inject(m, 0, 32 + i);
    });
    return m;
  }

  it('Q12/3.8: a 0x80 IRQ evicts the newest lowest-priority 0xa0 IRQ; a 0xa0 IRQ then stops the pass (D1)', () => {
    const m = fullLrs([0xa0, 0xa0, 0xa0, 0xa0]);
    prepare(m, 36, 0xa0);
    prepare(m, 37, 0x80);
    inject(m, 0, 36);
    inject(m, 0, 37);
    expect(lrPending(m, 0)).to.deep.equal([37, 36]);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0x50a0000000000020', state: 'pending' },
      { lr: 1, raw: '0x50a0000000000021', state: 'pending' },
      { lr: 2, raw: '0x50a0000000000022', state: 'pending' },
      { lr: 3, raw: '0x5080000000000025', state: 'pending' },
    ]);
    expect(lrPending(m, 0)).to.deep.equal([36, 35]);
    expect(inflight(m, 0)).to.deep.equal([[37, 3], [32, 0], [33, 1], [34, 2], [35, 255], [36, 0]]);
    expect(irqsnap(m, 35)).to.deep.equal({ irq: 35, vcpu: null, status: ['QUEUED', 'ENABLED'], priority: 160, lr: 255 });
    expect(irqsnap(m, 37)).to.deep.equal({ irq: 37, vcpu: null, status: ['VISIBLE', 'ENABLED'], priority: 128, lr: 3 });
    expect(vsnap(m, 0).lr_mask).to.equal('0xf');
    expect(uie(m, 0)).to.equal(true);
  });

  it('Q12: a 0xa0 IRQ never evicts another 0xa0 IRQ (3.8)', () => {
    const m = fullLrs([0xa0, 0xa0, 0xa0, 0xa0]);
    prepare(m, 36, 0xa0);
    inject(m, 0, 36);
    const before = lrs(m, 0);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal(before);
    expect(lrPending(m, 0)).to.deep.equal([36]);
    for (const irq of [32, 33, 34, 35]) expect(status(m, irq)).to.deep.equal(['VISIBLE', 'ENABLED']);
    expect(uie(m, 0)).to.equal(true);
  });

  it('Q12/Q24: equality is on all 8 bits: 0xa0 evicts 0xa7 although a v2 LR carries both as 0x14', () => {
    const m = fullLrs([0xa7], config({ gic: 'v2', nr_lrs: 1 }));
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x1a000020', state: 'pending' }]);
    prepare(m, 33, 0xa0);
    inject(m, 0, 33);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x1a000021', state: 'pending' }]);
    expect(lrPending(m, 0)).to.deep.equal([32]);
    expect(irqsnap(m, 32, null)).to.deep.equal({ irq: 32, vcpu: null, status: ['QUEUED', 'ENABLED'], priority: 0xa7, lr: 255 });
    expect(uie(m, 0)).to.equal(true);
  });

  it('Q12/3.8 step 3.2: the victim is the lowest-priority VISIBLE entry that is not ACTIVE; an ACTIVE one is skipped', () => {
    const m = v0Running();
    prepare(m, 32, 0xc0);
    inject(m, 0, 32);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(32);
    exit(m, 0);
    for (const [irq, prio] of [[33, 0x90], [34, 0xa0], [35, 0xb0]] as const) {
      prepare(m, irq, prio);
      inject(m, 0, irq);
    }
    prepare(m, 36, 0x80);
    inject(m, 0, 36);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0x90c0000000000020', state: 'active' },
      { lr: 1, raw: '0x5090000000000021', state: 'pending' },
      { lr: 2, raw: '0x50a0000000000022', state: 'pending' },
      { lr: 3, raw: '0x5080000000000024', state: 'pending' },
    ]);
    expect(lrPending(m, 0)).to.deep.equal([35]);
    expect(status(m, 32)).to.deep.equal(['ACTIVE', 'VISIBLE', 'ENABLED']);
    expect(irqsnap(m, 35)).to.deep.equal({ irq: 35, vcpu: null, status: ['QUEUED', 'ENABLED'], priority: 0xb0, lr: 255 });
  });

  it('Q12/3.8 step 3.4: at most nr_lrs placements per pass (1 LR: the pass stops after the first)', () => {
    const m = fullLrs([0xc0], config({ nr_lrs: 1 }));
    prepare(m, 33, 0xe0);
    inject(m, 0, 33);
    prepare(m, 34, 0x80);
    inject(m, 0, 34);
    expect(lrPending(m, 0)).to.deep.equal([34, 33]);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x5080000000000022', state: 'pending' }]);
    expect(lrPending(m, 0)).to.deep.equal([32, 33]);
    expect(inflight(m, 0)).to.deep.equal([[34, 0], [32, 255], [33, 0]]);
    expect(uie(m, 0)).to.equal(true);
  });

  it('3.8 step 3: safe iteration skips a victim queued just behind p, and the next walk starts above the previous victim', () => {
    // Follows the step list of 3.8 (and Xen's loop) literally: the second walk starts at the
    // entry before the first victim, so the 0xc0 IRQ takes the LR of the 0x90 one.
    const m = fullLrs([0x90, 0xa0], config({ nr_lrs: 2 }));
    prepare(m, 34, 0xc0);
    inject(m, 0, 34);
    prepare(m, 35, 0x80);
    inject(m, 0, 35);
    expect(lrPending(m, 0)).to.deep.equal([35, 34]);
    expect(inflight(m, 0)).to.deep.equal([[35, 0], [32, 0], [33, 1], [34, 0]]);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0x50c0000000000022', state: 'pending' },
      { lr: 1, raw: '0x5080000000000023', state: 'pending' },
    ]);
    expect(lrPending(m, 0)).to.deep.equal([32, 33]);
    expect(inflight(m, 0)).to.deep.equal([[35, 1], [32, 255], [33, 255], [34, 0]]);
    expect(uie(m, 0)).to.equal(true);
  });

  it('3.8 step 3.1: lr_pending fills the free LRs lowest first, the search resuming at the last index used', () => {
    const m = v0Running();
    for (const [irq, prio] of [[32, 0x90], [33, 0x80], [34, 0x90], [35, 0x80]] as const) {
      prepare(m, irq, prio);
      inject(m, 0, irq);
    }
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(33);
    eoi(m, 0, 33);
    expect(ack(m, 0)).to.equal(35);
    eoi(m, 0, 35);
    prepare(m, 36, 0xa0);
    prepare(m, 37, 0xa0);
    inject(m, 1, 36);
    inject(m, 1, 37);
    expect(lrPending(m, 0)).to.deep.equal([36, 37]);
    exit(m, 0);
    expect(vsnap(m, 0).lr_mask).to.equal('0x5');
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0x5090000000000020', state: 'pending' },
      { lr: 1, raw: '0x50a0000000000024', state: 'pending' },
      { lr: 2, raw: '0x5090000000000022', state: 'pending' },
      { lr: 3, raw: '0x50a0000000000025', state: 'pending' },
    ]);
    expect(lrPending(m, 0)).to.deep.equal([]);
    expect(uie(m, 0)).to.equal(false);
  });

  it('Q34/3.8 step 3.2: a walk that reaches the inflight head without an equal priority finds no victim and aborts', () => {
    // SPI 40 stays on vCPU0's inflight list after a retarget to vCPU1 (Q34); enabling it
    // queues it on vCPU1's lr_pending, so vCPU1's walk never meets it.
    const m = machine(config({ nr_lrs: 1 }));
    setPriority(m, 40, 0x80);
    inject(m, 0, 40);
    setTarget(m, 40, 1);
    run(m, 0, 1);
    prepare(m, 27, 0xa0, { vcpu: 1 });
    inject(m, 0, 27, 1);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    exit(m, 0);
    enable(m, 40);
    expect(lrPending(m, 1)).to.deep.equal([40]);
    expect(inflight(m, 1)).to.deep.equal([[27, 0]]);
    expect(inflight(m, 0)).to.deep.equal([[40, 0]]);
    enter(m, 0);
    expect(lrs(m, 1)).to.deep.equal([{ lr: 0, raw: '0x90a000000000001b', state: 'active' }]);
    expect(lrPending(m, 1)).to.deep.equal([40]);
    expect(uie(m, 0)).to.equal(true);
  });

  // 3.8 step 3.2: Xen bounds its backwards walk by the previous victim, not by the list
  // head. Here the third walk starts just before a victim (IRQ 37) that sits above p (IRQ 36,
  // 0xf0) and meets only ACTIVE entries (33, 32), so it reaches the list head and Xen reads it
  // as a pending_irq (undefined behaviour: fields overlaid on the vCPU's vgic struct). The
  // reference's "always terminates" misses this case; the model reports it as a crash.
  it('3.8 step 3.2: a later eviction walk that reaches the inflight list head is a crash (Xen reads the head as a record)', () => {
    const m = v0Running(config({ nr_lrs: 3 }));
    prepare(m, 32, 0x10);
    inject(m, 0, 32);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(32);
    prepare(m, 33, 0x08);
    inject(m, 1, 33);
    exit(m, 0);
    enter(m, 0);
    expect(ack(m, 0)).to.equal(33);
    exit(m, 0);
    for (const [irq, prio] of [[34, 0xc0], [35, 0xe0], [36, 0xf0], [37, 0x80]] as const) {
      prepare(m, irq, prio);
      inject(m, 0, irq);
    }
    expect(lrPending(m, 0)).to.deep.equal([37, 35, 36]);
    expect(enter(m, 0)).to.deep.equal({
      outcome: 'crash',
      reason: "gic_restore_pending_irqs: eviction walk for IRQ 36 ran past the head of d1v0's inflight list",
    });
    const after = m.step({ op: 'snapshot' }, 99);
    expect(E.isLeft(after)).to.equal(true);
  });

  it('Q14/D11: UIE is not set when every LR is used but lr_pending is empty', () => {
    const m = fullLrs([0xa0, 0xa0, 0xa0, 0xa0]);
    enter(m, 0);
    expect(vsnap(m, 0).lr_mask).to.equal('0xf');
    expect(lrPending(m, 0)).to.deep.equal([]);
    expect(uie(m, 0)).to.equal(false);
  });

  it('Q14/D11: UIE is set only with lr_pending non-empty and all LRs used, and every exit clears it (3.8, 3.9 step 2)', () => {
    const m = fullLrs([0xa0, 0xa0], config({ nr_lrs: 4 }));
    prepare(m, 34, 0xa0);
    inject(m, 0, 34);
    enter(m, 0);
    expect(lrs(m, 0)).to.have.length(3);
    expect(uie(m, 0)).to.equal(false);
    exit(m, 0);
    prepare(m, 35, 0xa0);
    prepare(m, 36, 0xa0);
    inject(m, 0, 35);
    inject(m, 0, 36);
    expect(lrPending(m, 0)).to.deep.equal([36]);
    enter(m, 0);
    expect(uie(m, 0)).to.equal(true);
    exit(m, 0);
    expect(uie(m, 0)).to.equal(false);
    expect(lrPending(m, 0)).to.deep.equal([36]);
  });
});

describe('xen core: vgic_sync_from_lrs (3.9)', () => {
  it('3.9 step 1: for the idle vCPU nothing happens, UIE included', () => {
    const m = machine();
    const cpu = pcpu(m, 0);
    cpu.cpuif.uie = true;
    vgicSyncFromLrs(cpu, null);
    expect(cpu.cpuif.uie).to.equal(true);
  });

  it('3.9 step 3: the lr_mask snapshot is walked in ascending LR order', () => {
    const m = v0Running(config({ nr_lrs: 2 }));
    for (const irq of [32, 33, 34]) prepare(m, irq, 0xa0);
    inject(m, 0, 32);
    inject(m, 0, 33);
    inject(m, 0, 34);
    enter(m, 0);
    expect(uie(m, 0)).to.equal(true);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(32);
    eoi(m, 0, 32);
    expect(ack(m, 0)).to.equal(33);
    eoi(m, 0, 33);
    inject(m, 1, 33);
    inject(m, 1, 32);
    exit(m, 0);
    expect(uie(m, 0)).to.equal(false);
    // LR0 (32) is re-raised before LR1 (33): both join lr_pending behind 34 in that order.
    expect(lrPending(m, 0)).to.deep.equal([34, 32, 33]);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x0');
  });
});

describe('xen core: vgic_clear_pending_irqs / gic_clear_pending_irqs (3.10)', () => {
  it('Q37: PSCI CPU_ON empties both lists and the saved lr_mask, but status bits, p->lr and the saved LRs survive', () => {
    const m = v0Running(config({ nr_lrs: 1 }));
    prepare(m, 27, 0xa0);
    prepare(m, 28, 0xa0);
    inject(m, 0, 27);
    inject(m, 0, 28);
    idle(m, 0);
    step(m, { op: 'vcpu_off', domain: 1, vcpu: 0 });
    step(m, { op: 'vcpu_on', domain: 1, vcpu: 0 });
    const v = vsnap(m, 0);
    expect(v.inflight).to.deep.equal([]);
    expect(v.lr_pending).to.deep.equal([]);
    expect(v.lr_mask).to.equal('0x0');
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['VISIBLE', 'ENABLED'], priority: 160, lr: 0 });
    expect(irqsnap(m, 28)).to.deep.equal({ irq: 28, vcpu: 0, status: ['QUEUED', 'ENABLED'], priority: 160, lr: 0 });
    expect(m.cpuOnWithLiveState.has(vcpu(m, 0))).to.equal(true);
    // The stale LR is reloaded, the guest still sees it, and Xen overwrites it at will.
    run(m, 0, 0);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    exit(m, 0);
    prepare(m, 29, 0x90);
    inject(m, 0, 29);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x509000000000001d', state: 'pending' }]);
    expect(status(m, 27)).to.deep.equal(['VISIBLE', 'ENABLED']);
  });

  it('3.10: SPIs on the vCPU\'s lists are unlinked too', () => {
    const m = machine();
    prepare(m, 40, 0xa0);
    setTarget(m, 40, 1);
    inject(m, 0, 40);
    expect(lrPending(m, 1)).to.deep.equal([40]);
    vgicClearPendingIrqs(vcpu(m, 1));
    expect(inflight(m, 1)).to.deep.equal([]);
    expect(lrPending(m, 1)).to.deep.equal([]);
    expect(status(m, 40)).to.deep.equal(['QUEUED', 'ENABLED']);
  });
});

describe('xen core: vgic_remove_irq_from_queues (3.11)', () => {
  it('3.11: clears QUEUED and unlinks inflight and lr_pending, leaving the LRs alone', () => {
    const m = v0Running(config({ nr_lrs: 1 }));
    prepare(m, 32, 0xa0);
    prepare(m, 33, 0xa0);
    inject(m, 0, 32);
    inject(m, 0, 33);
    vgicRemoveIrqFromQueues(vcpu(m, 0), rec(m, 33));
    expect(status(m, 33)).to.deep.equal(['ENABLED']);
    expect(lrPending(m, 0)).to.deep.equal([]);
    expect(inflight(m, 0)).to.deep.equal([[32, 0]]);
    vgicRemoveIrqFromQueues(vcpu(m, 0), rec(m, 32));
    expect(status(m, 32)).to.deep.equal(['VISIBLE', 'ENABLED']);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a0000000000020', state: 'pending' }]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x1');
  });
});

describe('xen core: vgic_vcpu_pending_irq (3.12)', () => {
  /** v0 with IRQ 27 enabled at `prio` inflight in LR0 and the guest PMR set to `mask`. */
  function withPmr(gic: 'v2' | 'v3', prio: number, mask: number): Machine {
    const m = v0Running(config({ gic }));
    prepare(m, 27, prio);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, mask);
    exit(m, 0);
    return m;
  }

  it('3.12 step 4: an empty inflight list gives 0', () => {
    const m = v0Running();
    expect(pendingCheck(m, 0)).to.equal(0);
  });

  it('3.12 step 4: a PMR never written (0) masks everything', () => {
    const m = v0Running();
    prepare(m, 27, 0x00);
    inject(m, 0, 27);
    expect(pendingCheck(m, 0)).to.equal(0);
  });

  it('Q16: on v3 priority>>3 (20 for 0xa0) is compared with the 8-bit PMR: 0x20 does not mask it', () => {
    const m = withPmr('v3', 0xa0, 0x20);
    expect(pendingCheck(m, 0)).to.equal(1);
    // The hardware (8-bit compare) would not deliver it: ack finds nothing.
    enter(m, 0);
    expect(ack(m, 0)).to.equal(1023);
  });

  it('Q16: on v3 a PMR of 20 masks group priority 20, 21 does not', () => {
    expect(pendingCheck(withPmr('v3', 0xa0, 20), 0)).to.equal(0);
    expect(pendingCheck(withPmr('v3', 0xa0, 21), 0)).to.equal(1);
  });

  it('Q16: on v2 both sides are 5-bit: PMR 0x20 (VMPriMask 4) masks 0xa0, PMR 0xa8 does not', () => {
    expect(pendingCheck(withPmr('v2', 0xa0, 0x20), 0)).to.equal(0);
    expect(pendingCheck(withPmr('v2', 0xa0, 0xa8), 0)).to.equal(1);
    expect(pendingCheck(withPmr('v2', 0xa0, 0xa7), 0)).to.equal(0);
  });

  it('3.12 step 3: the running priority is the lowest set APR bit; only a strictly higher group passes', () => {
    const m = v0Running();
    prepare(m, 32, 0x80);
    prepare(m, 33, 0x88);
    inject(m, 0, 32);
    inject(m, 0, 33);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(32);
    exit(m, 0);
    expect(vsnap(m, 0).apr).to.equal('0x10000');
    expect(pendingCheck(m, 0)).to.equal(0);
    prepare(m, 34, 0x78);
    inject(m, 0, 34);
    expect(pendingCheck(m, 0)).to.equal(1);
  });

  it('Q6/3.12 step 4: disabled entries are skipped; a list of only disabled IRQs gives 0', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    setPriority(m, 40, 0x10);
    inject(m, 0, 40);
    enter(m, 0);
    pmr(m, 0, 0xff);
    exit(m, 0);
    expect(inflight(m, 0)).to.deep.equal([[40, 0], [27, 0]]);
    expect(pendingCheck(m, 0)).to.equal(1);
    disable(m, 27);
    expect(pendingCheck(m, 0)).to.equal(0);
  });

  it('3.22 item 4: asking for a vCPU that is not current fails ASSERT(v == current) -> crash', () => {
    const m = v0Running();
    expect(() => vgicVcpuPendingIrq(pcpu(m, 0), vcpu(m, 1))).to.throw(XenCrash, /v == current/);
  });
});

describe('xen core: vgic_enable_irqs (3.13)', () => {
  it('3.13: enabling an IRQ that is not inflight only sets ENABLED', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    expect(status(m, 27)).to.deep.equal(['ENABLED']);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(lrs(m, 0)).to.deep.equal([]);
  });

  it('Q7/D5: assert while disabled, then enable: delivered with the priority captured at assertion', () => {
    const m = v0Running();
    setPriority(m, 27, 0x80);
    inject(m, 0, 27);
    setPriority(m, 27, 0x40);
    enable(m, 27);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x508000000000001b', state: 'pending' }]);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['VISIBLE', 'ENABLED'], priority: 128, lr: 0 });
  });

  it('3.13 step 2: enabling an inflight IRQ of a non-current target queues it on that target\'s lr_pending', () => {
    const m = v0Running();
    setPriority(m, 40, 0xa0);
    setTarget(m, 40, 1);
    inject(m, 0, 40);
    enable(m, 40);
    expect(lrPending(m, 1)).to.deep.equal([40]);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(status(m, 40)).to.deep.equal(['QUEUED', 'ENABLED']);
  });

  it('3.13: bits are processed in ascending order', () => {
    const m = v0Running();
    for (const irq of [41, 40]) {
      setPriority(m, irq, 0xa0);
      setTarget(m, irq, 1);
      inject(m, 0, irq);
    }
    expect(inflight(m, 1)).to.deep.equal([[41, 0], [40, 0]]);
    enableBits(m, 1, (1 << 8) | (1 << 9));
    expect(lrPending(m, 1)).to.deep.equal([40, 41]);
  });

  it('D4/Q6: an IRQ re-enabled while still VISIBLE is not raised a second time', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    disable(m, 27);
    enable(m, 27);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(vsnap(m, 0).lr_mask).to.equal('0x1');
    expect(lrPending(m, 0)).to.deep.equal([]);
    expect(status(m, 27)).to.deep.equal(['VISIBLE', 'ENABLED']);
  });

  it('3.13 step 3: enabling a hw-backed SPI moves its affinity to the target\'s pCPU and enables it', () => {
    const m = v0Running(config({ pirqs: [48] }));
    const desc = attachDesc(m, 48);
    setTarget(m, 48, 1);
    enable(m, 48);
    expect(desc.affinity).to.equal(1);
    expect(desc.enabled).to.equal(true);
    expect(m.snapshot().physical).to.deep.equal([{
      pirq: 48, domain: 1, virq: 48, enabled: true, pending: false, active: false, in_progress: false, affinity: 1,
    }]);
  });
});

describe('xen core: vgic_disable_irqs (3.14)', () => {
  it('Q6/D4: disabling an IRQ in an LR leaves it in the LR and on inflight; the guest can still take it', () => {
    const m = v0Running();
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    disable(m, 27);
    expect(irqsnap(m, 27)).to.deep.equal({ irq: 27, vcpu: 0, status: ['VISIBLE'], priority: 160, lr: 0 });
    expect(inflight(m, 0)).to.deep.equal([[27, 0]]);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
  });

  it('Q6/3.14 step 1: disabling an IRQ on lr_pending unlinks it from lr_pending only', () => {
    const m = v0Running();
    prepare(m, 40, 0xa0);
    setTarget(m, 40, 1);
    inject(m, 0, 40);
    disable(m, 40);
    expect(lrPending(m, 1)).to.deep.equal([]);
    expect(inflight(m, 1)).to.deep.equal([[40, 0]]);
    expect(status(m, 40)).to.deep.equal(['QUEUED']);
  });

  it('3.14 step 2: disabling a hw-backed SPI disables the physical IRQ', () => {
    const m = v0Running(config({ pirqs: [48] }));
    const desc = attachDesc(m, 48);
    enable(m, 48);
    disable(m, 48);
    expect(desc.enabled).to.equal(false);
    expect(status(m, 48)).to.deep.equal([]);
  });
});

describe('xen core: vgic_to_sgi (3.19)', () => {
  /** 3 vCPUs, v0 current on pCPU0, v2 offline. */
  function sgiMachine(vcpus = 3): Machine {
    const m = machine(config({ vcpus }));
    run(m, 0, 0);
    step(m, { op: 'vcpu_off', domain: 1, vcpu: 2 });
    m.host.log.length = 0;
    return m;
  }

  it('3.19 TARGET_LIST: listed online vCPUs get the SGI; offline and non-existent ids are skipped with a warning', () => {
    const m = sgiMachine();
    expect(vgicToSgi(pcpu(m, 0), vcpu(m, 0), 0x1234n, 'list', 5, { aff1: 0, list: 0b1110 })).to.equal(true);
    expect(inflight(m, 1)).to.deep.equal([[5, 0]]);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(inflight(m, 2)).to.deep.equal([]);
    expect(m.host.log).to.deep.equal([
      { level: 'warn', msg: 'vGIC: write 0x1234, target->list=0xe, bad target vcpu2' },
      { level: 'warn', msg: 'vGIC: write 0x1234, target->list=0xe, bad target vcpu3' },
    ]);
  });

  it('3.19 TARGET_LIST: the id is aff1*16 + bit; an empty list injects nothing and still returns true', () => {
    const m = sgiMachine(18);
    expect(vgicToSgi(pcpu(m, 0), vcpu(m, 0), 0n, 'list', 1, { aff1: 1, list: 0b10 })).to.equal(true);
    expect(inflight(m, 17)).to.deep.equal([[1, 0]]);
    expect(inflight(m, 1)).to.deep.equal([]);
    const before = json(m);
    expect(vgicToSgi(pcpu(m, 0), vcpu(m, 0), 0n, 'list', 1, { aff1: 0, list: 0 })).to.equal(true);
    expect(json(m)).to.equal(before);
    expect(m.host.log).to.deep.equal([]);
  });

  it('3.19 TARGET_OTHERS/3.22 item 5: every online vCPU except current (not the requester) gets it, offline ones silently skipped', () => {
    const m = sgiMachine();
    expect(vgicToSgi(pcpu(m, 0), vcpu(m, 1), 0n, 'others', 3, { aff1: 0, list: 0 })).to.equal(true);
    expect(inflight(m, 1)).to.deep.equal([[3, 0]]);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(inflight(m, 2)).to.deep.equal([]);
    expect(m.host.log).to.deep.equal([]);
  });

  it('3.19 TARGET_SELF/3.22 item 5: the SGI goes to current', () => {
    const m = sgiMachine();
    prepare(m, 7, 0x10);
    expect(vgicToSgi(pcpu(m, 0), vcpu(m, 1), 0n, 'self', 7, { aff1: 0, list: 0 })).to.equal(true);
    expect(inflight(m, 0)).to.deep.equal([[7, 0]]);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x5010000000000007', state: 'pending' }]);
    expect(inflight(m, 1)).to.deep.equal([]);
  });

  it('3.19: any other mode warns and returns false; virq >= 16 fails ASSERT(virq < 16)', () => {
    const m = sgiMachine();
    const before = json(m);
    expect(vgicToSgi(pcpu(m, 0), vcpu(m, 0), 0x3000000n, 3, 1, { aff1: 0, list: 1 })).to.equal(false);
    expect(m.host.log).to.deep.equal([{ level: 'warn', msg: 'vGICD: GICD_SGIR write 0x3000000 with unhandled mode 3' }]);
    expect(json(m)).to.equal(before);
    expect(() => vgicToSgi(pcpu(m, 0), vcpu(m, 0), 0n, 'self', 16, { aff1: 0, list: 0 })).to.throw(XenCrash, /virq < 16/);
  });
});

describe('xen core: vgic_reserve_virq / vgic_allocate_virq / vgic_free_virq (3.20)', () => {
  it('3.20: reserve is a test-and-set on valid lines; SGIs are pre-reserved; lines past the SPIs are refused', () => {
    const d = dom(machine(config({ nr_spis: 32 })));
    expect(vgicReserveVirq(d, 0)).to.equal(false);
    expect(vgicReserveVirq(d, 15)).to.equal(false);
    expect(vgicReserveVirq(d, 16)).to.equal(true);
    expect(vgicReserveVirq(d, 16)).to.equal(false);
    expect(vgicReserveVirq(d, 63)).to.equal(true);
    expect(vgicReserveVirq(d, 64)).to.equal(false);
    expect(vgicIsAllocated(d, 64)).to.equal(false);
  });

  it('3.20: allocate picks the lowest free PPI (16..31) or SPI, -1 when the range is full', () => {
    const d = dom(machine(config({ nr_spis: 32 })));
    expect(vgicAllocateVirq(d, false)).to.equal(16);
    expect(vgicReserveVirq(d, 17)).to.equal(true);
    expect(vgicAllocateVirq(d, false)).to.equal(18);
    for (let i = 19; i < 32; i++) expect(vgicAllocateVirq(d, false)).to.equal(i);
    expect(vgicAllocateVirq(d, false)).to.equal(-1);
    expect(vgicAllocateVirq(d, true)).to.equal(32);
    for (let i = 33; i < 64; i++) expect(vgicAllocateVirq(d, true)).to.equal(i);
    expect(vgicAllocateVirq(d, true)).to.equal(-1);
  });

  it('3.20: free clears the bit unconditionally (even an SGI\'s); a bit beyond the bitmap is ignored', () => {
    const d = dom(machine(config({ nr_spis: 32 })));
    expect(vgicAllocateVirq(d, true)).to.equal(32);
    vgicFreeVirq(d, 32);
    expect(vgicIsAllocated(d, 32)).to.equal(false);
    expect(vgicAllocateVirq(d, true)).to.equal(32);
    vgicFreeVirq(d, 5);
    expect(vgicReserveVirq(d, 5)).to.equal(true);
    vgicFreeVirq(d, 5000);
    expect(vgicIsAllocated(d, 32)).to.equal(true);
  });
});

describe('xen core: domain_vgic_init limits (2.3)', () => {
  it('Q33: 961 SPIs round up to 992 and are refused with EINVAL; 960 gives 30 ranks ending at INTID 991', () => {
    const h3 = new Host('v3', 4, lrLayout('v3'));
    const h2 = new Host('v2', 4, lrLayout('v2'));
    expect(domainVgicInit(new Domain(1, 'v3', 1, h3), 961)).to.equal('EINVAL');
    expect(domainVgicInit(new Domain(1, 'v3', 1, h3), 988)).to.equal('EINVAL');
    const d = new Domain(1, 'v3', 1, h3);
    expect(domainVgicInit(d, 960)).to.equal(0);
    expect(d.nrSpis).to.equal(960);
    expect(d.sharedIrqs).to.have.length(30);
    expect(d.sharedIrqs[29]!.index).to.equal(30);
    expect(d.pendingIrqs[959]!.irq).to.equal(991);
    const e = new Domain(2, 'v2', 1, h2);
    expect(domainVgicInit(e, 33)).to.equal(0);
    expect(e.nrSpis).to.equal(64);
    expect(e.ctlr).to.equal(0);
    expect(d.ctlr).to.equal(0x10);
  });

  it('I17: ranks beyond nr_spis/32 resolve to none', () => {
    const m = machine(config({ nr_spis: 64 }));
    expect(vgicGetRank(vcpu(m, 0), 0)!.index).to.equal(0);
    expect(vgicGetRank(vcpu(m, 0), 2)!.index).to.equal(2);
    expect(vgicGetRank(vcpu(m, 0), 3)).to.equal(null);
  });
});

describe('xen core: where current matters (3.22)', () => {
  it('3.22 items 1-2: the same IRQ goes to an LR for current and to lr_pending otherwise; a re-assertion is examined only for current', () => {
    const m = machine();
    run(m, 0, 0);
    run(m, 1, 1);
    prepare(m, 27, 0xa0, { vcpu: 0 });
    prepare(m, 27, 0xa0, { vcpu: 1 });
    inject(m, 0, 27, 0); // pCPU0's current
    inject(m, 0, 27, 1); // running, but on pCPU1
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(lrs(m, 1)).to.deep.equal([]);
    expect(lrPending(m, 1)).to.deep.equal([27]);
    inject(m, 1, 27, 0); // not pCPU1's current: QUEUED stays
    expect(status(m, 27, 0)).to.deep.equal(['QUEUED', 'VISIBLE', 'ENABLED']);
    inject(m, 0, 27, 0); // current: merged at once
    expect(status(m, 27, 0)).to.deep.equal(['VISIBLE', 'ENABLED']);
  });
});

describe('xen core: LR field widths (Q41, appendix A)', () => {
  it('Q41: v3 writes the full 8-bit priority and Group 1; v2 keeps priority bits [7:3] and Group 0', () => {
    for (const [gic, raw, prio, grp1] of [['v3', '0x50a7000000000028', 0xa7, true], ['v2', '0x1a000028', 0xa0, false]] as const) {
      const m = v0Running(config({ gic }));
      prepare(m, 40, 0xa7);
      inject(m, 0, 40);
      expect(vsnap(m, 0).lrs).to.deep.equal([{ lr: 0, raw, state: 'pending', virq: 40, pirq: null, priority: prio, grp1 }]);
    }
  });

  it('Q41: a hw-backed LR carries the HW bit and the physical INTID', () => {
    for (const [gic, raw] of [['v3', '0x70a003fb00000030'], ['v2', '0x9a0fec30']] as const) {
      const m = v0Running(config({ gic, pirqs: [1019] }));
      attachDesc(m, 48, 1019);
      prepare(m, 48, 0xa0);
      inject(m, 0, 48);
      expect(vsnap(m, 0).lrs).to.deep.equal([
        { lr: 0, raw, state: 'pending', virq: 48, pirq: 1019, priority: 0xa0, grp1: gic === 'v3' },
      ]);
    }
  });

  it('Q41: field widths: v3 vINTID 16 bits and pINTID 13 bits; v2 vINTID and pINTID 10 bits', () => {
    const m3 = v0Running(config({ gic: 'v3' }));
    const p3 = new PendingIrq(0x12345);
    p3.priority = 0xa7;
    p3.desc = new IrqDesc(0x3fff);
    gicSetLr(pcpu(m3, 0), 0, p3, LR_STATE_PENDING);
    expect(vsnap(m3, 0).lrs).to.deep.equal([
      { lr: 0, raw: '0x70a71fff00002345', state: 'pending', virq: 0x2345, pirq: 0x1fff, priority: 0xa7, grp1: true },
    ]);
    const m2 = v0Running(config({ gic: 'v2' }));
    const p2 = new PendingIrq(0x7ff);
    p2.priority = 0xa7;
    p2.desc = new IrqDesc(0x7ff);
    gicSetLr(pcpu(m2, 0), 0, p2, LR_STATE_PENDING);
    expect(vsnap(m2, 0).lrs).to.deep.equal([
      { lr: 0, raw: '0x9a0fffff', state: 'pending', virq: 0x3ff, pirq: 0x3ff, priority: 0xa0, grp1: false },
    ]);
  });
});

describe('xen core: appendix D scenarios', () => {
  it('D1/Q12: all LRs hold 0xa0 IRQs; 0x80 evicts the tail, 0xa0 never evicts', () => {
    const m = v0Running();
    for (let irq = 32; irq < 36; irq++) {
      prepare(m, irq, 0xa0);
      inject(m, 0, irq);
    }
    prepare(m, 36, 0xa0);
    prepare(m, 37, 0x80);
    inject(m, 0, 36);
    enter(m, 0);
    expect(lrPending(m, 0)).to.deep.equal([36]);
    exit(m, 0);
    inject(m, 0, 37);
    enter(m, 0);
    expect(vsnap(m, 0).lrs.map((l) => l.virq)).to.deep.equal([32, 33, 34, 37]);
    expect(lrPending(m, 0)).to.deep.equal([36, 35]);
  });

  it('D2/Q10: injecting into a non-current vCPU only queues on lr_pending and kicks', () => {
    const m = v0Running();
    prepare(m, 28, 0x90, { vcpu: 1 });
    const before = vsnap(m, 0);
    inject(m, 0, 28, 1);
    expect(vsnap(m, 0)).to.deep.equal(before);
    expect(vsnap(m, 1).lr_pending).to.deep.equal([28]);
    expect(vsnap(m, 1).lrs).to.deep.equal([]);
    expect(vcpu(m, 1).kicks).to.equal(1);
    run(m, 1, 1);
    enter(m, 1);
    expect(lrs(m, 1)).to.deep.equal([{ lr: 0, raw: '0x509000000000001c', state: 'pending' }]);
  });

  it('D3/Q9/Q8c: re-asserting an active virtual IRQ makes the LR pending+active; a hw one warns and drops', () => {
    const m = v0Running(config({ pirqs: [48] }));
    attachDesc(m, 48);
    prepare(m, 27, 0xa0);
    prepare(m, 48, 0xa0);
    inject(m, 0, 27);
    inject(m, 0, 48);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    step(m, { op: 'eoimode', pcpu: 0, value: 1 });
    eoi(m, 0, 27); // drop only; 27 stays active
    expect(ack(m, 0)).to.equal(48);
    exit(m, 0);
    inject(m, 0, 27);
    const r = inject(m, 0, 48);
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0xd0a000000000001b', state: 'pending+active' },
      { lr: 1, raw: '0xb0a0003000000030', state: 'active' },
    ]);
    expect(r.log!.map((l) => l.level)).to.deep.equal(['warn']);
    expect(status(m, 48)).to.deep.equal(['ACTIVE', 'VISIBLE', 'ENABLED']);
  });

  it('D4/Q6: disable while in an LR: still in the LR, still inflight, and it drains normally', () => {
    const m = v0Running();
    prepare(m, 32, 0xa0);
    inject(m, 0, 32);
    disable(m, 32);
    enter(m, 0);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(32);
    exit(m, 0);
    expect(inflight(m, 0)).to.deep.equal([[32, 0]]);
    expect(status(m, 32)).to.deep.equal(['ACTIVE', 'VISIBLE']);
    enter(m, 0);
    eoi(m, 0, 32);
    exit(m, 0);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(irqsnap(m, 32)).to.be.undefined;
  });

  it('D5/Q7: asserted while disabled, enabled later: delivered with the priority captured at assertion', () => {
    const m = v0Running();
    setPriority(m, 40, 0xa0);
    inject(m, 0, 40);
    setPriority(m, 40, 0x20);
    enable(m, 40);
    enter(m, 0);
    pmr(m, 0, 0xa8);
    expect(ack(m, 0)).to.equal(40);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x90a0000000000028', state: 'active' }]);
  });

  it('D6/Q5: changing a priority while inflight does not reorder; new insertions use the captured values', () => {
    const m = v0Running();
    for (const [irq, prio] of [[40, 0xa0], [41, 0xb0]] as const) {
      setPriority(m, irq, prio);
      setTarget(m, irq, 1);
      inject(m, 0, irq);
    }
    setPriority(m, 41, 0x10);
    inject(m, 0, 41);
    setPriority(m, 42, 0xa8);
    setTarget(m, 42, 1);
    inject(m, 0, 42);
    expect(vsnap(m, 1).inflight.map((e) => e.irq)).to.deep.equal([40, 42, 41]);
    expect([40, 41, 42].map((irq) => rec(m, irq).priority)).to.deep.equal([0xa0, 0xb0, 0xa8]);
  });

  it('D11/Q14: UIE only when every LR is used and lr_pending is non-empty', () => {
    const m = v0Running(config({ nr_lrs: 2 }));
    prepare(m, 32, 0xa0);
    inject(m, 0, 32);
    enter(m, 0);
    expect(uie(m, 0)).to.equal(false);
    exit(m, 0);
    prepare(m, 33, 0xa0);
    inject(m, 0, 33);
    enter(m, 0);
    expect(uie(m, 0)).to.equal(false);
    exit(m, 0);
    prepare(m, 34, 0xa0);
    inject(m, 0, 34);
    enter(m, 0);
    expect(uie(m, 0)).to.equal(true);
  });
});
