/**
 * The vgic.c paths that guest register writes reach (set-pending, the ICPENDR warning,
 * migration of hw IRQs, arch_move_irqs) and the event-channel helper, driven directly.
 */
import { expect } from 'chai';
import { IrqDesc } from '../src/hw/irqdesc.js';
import {
  archMoveIrqs, vgicCheckInflightIrqsPending, vgicEvtchnIrqPending, vgicMigrateIrq, vgicSetIrqsPending,
} from '../src/xen/vgic.js';
import {
  config, dom, enable, inflight, inject, irqsnap, lrPending, machine, pcpu, rec, run, setPriority, status, vcpu,
} from './helpers.js';

function withDesc(m: ReturnType<typeof machine>, irq: number): IrqDesc {
  const desc = new IrqDesc(irq);
  rec(m, irq).desc = desc;
  return desc;
}

describe('xen paths: vgic_set_irqs_pending (3.15, Q21)', () => {
  it('Q21: rank 0 bits inject into the accessing vCPU, SGIs included', () => {
    const m = machine(config({ vcpus: 2 }));
    run(m, 0, 1);
    vgicSetIrqsPending(pcpu(m, 0), vcpu(m, 1), 0x8000_0003, 0);
    expect(inflight(m, 1).map(([irq]) => irq)).to.deep.equal([0, 1, 31]);
    expect(status(m, 0, 1)).to.deep.equal(['QUEUED']);
    expect(inflight(m, 0)).to.deep.equal([]);
  });

  it('3.15: an SPI without desc goes to its rank target; one with desc only pends physically', () => {
    const m = machine(config({ vcpus: 2 }));
    run(m, 0, 0);
    const desc = withDesc(m, 33);
    vgicSetIrqsPending(pcpu(m, 0), vcpu(m, 0), 0x3, 1);
    expect(inflight(m, 0).map(([irq]) => irq)).to.deep.equal([32]);
    expect(status(m, 33)).to.deep.equal([]);
    expect(desc.pending).to.equal(true);
  });
});

describe('xen paths: vgic_check_inflight_irqs_pending (3.16, Q19)', () => {
  it('Q19: warns for inflight IRQs only and changes nothing', () => {
    const m = machine();
    run(m, 0, 0);
    inject(m, 0, 32);
    const before = JSON.stringify(m.snapshot());
    m.host.log.length = 0;
    vgicCheckInflightIrqsPending(pcpu(m, 0), vcpu(m, 0), 1, 0x3);
    expect(m.host.log).to.deep.equal([{ level: 'warn', msg: 'd1v0 trying to clear pending interrupt 32' }]);
    expect(JSON.stringify(m.snapshot())).to.equal(before);
  });
});

describe('xen paths: vgic_migrate_irq (3.17) and arch_move_irqs (3.18)', () => {
  it('3.17 step 4: a hw IRQ that is not inflight moves its affinity to the new vCPU at once', () => {
    const m = machine(config({ vcpus: 2, pcpus: 2 }));
    const desc = withDesc(m, 40);
    expect(vgicMigrateIrq(pcpu(m, 0), vcpu(m, 0), vcpu(m, 1), 40)).to.equal(true);
    expect(desc.affinity).to.equal(1);
    expect(status(m, 40)).to.deep.equal([]);
  });

  it('Q36: a hw IRQ waiting on lr_pending is re-injected on the new vCPU with a fresh priority', () => {
    const m = machine(config({ vcpus: 2, pcpus: 2 }));
    withDesc(m, 40);
    setPriority(m, 40, 0xa0);
    enable(m, 40);
    inject(m, 0, 40); // vCPU0 is not running: lr_pending
    expect(lrPending(m, 0)).to.deep.equal([40]);
    setPriority(m, 40, 0x60);
    expect(vgicMigrateIrq(pcpu(m, 0), vcpu(m, 0), vcpu(m, 1), 40)).to.equal(true);
    expect(lrPending(m, 0)).to.deep.equal([]);
    expect(inflight(m, 0)).to.deep.equal([]);
    expect(lrPending(m, 1)).to.deep.equal([40]);
    expect(irqsnap(m, 40)?.priority).to.equal(0x60);
    expect(vcpu(m, 1).kicks).to.equal(1);
  });

  it('3.18/Q35: arch_move_irqs moves the affinity of the SPIs targeting v, except MIGRATING ones', () => {
    const m = machine(config({ vcpus: 1, pcpus: 2 }));
    const a = withDesc(m, 40);
    const b = withDesc(m, 41);
    rec(m, 41).status |= 1 << 4; // MIGRATING
    vcpu(m, 0).processor = 1;
    archMoveIrqs(vcpu(m, 0));
    expect(a.affinity).to.equal(1);
    expect(b.affinity).to.equal(0);
  });

  it('3.18: running a vCPU on another pCPU runs arch_move_irqs', () => {
    const m = machine(config({ vcpus: 1, pcpus: 2 }));
    const a = withDesc(m, 40);
    run(m, 1, 0);
    expect(vcpu(m, 0).processor).to.equal(1);
    expect(a.affinity).to.equal(1);
    expect(dom(m).vcpus[0]!.runningOn).to.equal(1);
  });
});

describe('xen paths: vgic_evtchn_irq_pending (3.12, Q17)', () => {
  it('Q17: true while the event-channel PPI 31 is NOT inflight, false once it is', () => {
    const m = machine();
    expect(vgicEvtchnIrqPending(vcpu(m, 0))).to.equal(true);
    inject(m, 0, 31, 0);
    expect(vgicEvtchnIrqPending(vcpu(m, 0))).to.equal(false);
  });
});
