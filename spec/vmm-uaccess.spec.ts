/**
 * The userspace register groups of KVM's device API on Xen's vGIC, group by group and
 * register by register (the B-item of each is in its describe/it text): what a get returns,
 * what a set changes in the Xen state, KVM's region map and errnos, and C.1's
 * test_v3_sysregs and test_v3_nassgicap at function level (through the device ops they are
 * fixtures: fixtures/vmm/test_v3_sysregs-v3.json, test_v3_nassgicap-v3.json).
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { Machine } from '../src/machine/machine.js';
import { writeGuestLe } from '../src/xen/guestcopy.js';
import { GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_QUEUED, listEmpty, testBit, type Domain } from '../src/xen/types.js';
import { GICV3_IIDR, gicdTyper, gicrTyper } from '../src/xen/vgic-v3.js';
import { GITS_IIDR_VALUE, gitsTyper } from '../src/xen/vgic-v3-its.js';
import { LAYOUT, cmd, itsConfig } from '../src/testing/its-steps.js';
import { isErrno, type Uaccess } from '../src/vmm/uaccess-common.js';
import { vgicItsAttrRegsAccess, vgicItsHasAttrRegs, vgicItsRegAlignment } from '../src/vmm/uaccess-its.js';
import {
  GIC_V3_ICC_REG_DESCS, ICC_AP1R_EL1, ICC_CTLR_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1, ICC_SRE_EL1, vgicV3CpuSysregsUaccess,
  vgicV3HasSysreg,
} from '../src/vmm/uaccess-sysreg.js';
import { vgicV2CpuifUaccess, vgicV2DistUaccess, vgicV2HasAttrRegs } from '../src/vmm/uaccess-v2.js';
import {
  vgicV3DistUaccess, vgicV3DistUaccessBeforeInit, vgicV3HasAttrRegs, vgicV3LineLevelInfoUaccess, vgicV3RedistUaccess,
} from '../src/vmm/uaccess-v3.js';

function machine(config: unknown): Machine {
  return E.getOrElseW((e: string[]) => { throw new Error(e.join('; ')); })(Machine.fromJson(config));
}

function v3(vcpus = 2, nrSpis = 64): { m: Machine; d: Domain } {
  const m = machine({ gic: 'v3', nr_lrs: 4, pcpus: 2, domains: [{ id: 1, vcpus, nr_spis: nrSpis }] });
  return { m, d: m.host.domains.get(1)! };
}

function v2(vcpus = 2, nrSpis = 64): { m: Machine; d: Domain } {
  const m = machine({ gic: 'v2', nr_lrs: 4, pcpus: 2, domains: [{ id: 1, vcpus, nr_spis: nrSpis }] });
  return { m, d: m.host.domains.get(1)! };
}

function itsMachine(): { m: Machine; d: Domain } {
  const m = machine(itsConfig());
  return { m, d: m.host.domains.get(LAYOUT.domain)! };
}

/** The value of a successful access (fails the test on an errno). */
function val(u: Uaccess): bigint {
  if (isErrno(u)) throw new Error(`unexpected ${u.errno}`);
  return u.value;
}

function errno(u: Uaccess): string | null {
  return isErrno(u) ? u.errno : null;
}

function step(m: Machine, s: Record<string, unknown>): void {
  const r = m.step(s, 0);
  if (E.isLeft(r)) throw new Error(r.left);
}

/** Every LR of every pCPU is still empty (decision 4: a userspace access never fills one). */
function noLrTouched(m: Machine): boolean {
  return m.host.pcpus.every((c) => c.cpuif.lrs.every((w) => w === 0)) && [...m.host.domains.values()].every((d) => d.vcpus.every((v) => v.saved.lrs.every((w) => w === 0)));
}

describe('vmm uaccess: GRP_DIST_REGS of a v3 device (B.4)', () => {
  it('GICD_CTLR reads what the guest reads (ARE_NS) and a write keeps EnableGrp1A only, as the guest\'s does', () => {
    const { d } = v3();
    expect(val(vgicV3DistUaccess(d, false, 0x0, 0n))).to.equal(0x10n);
    expect(val(vgicV3DistUaccess(d, true, 0x0, 0xffn))).to.equal(0n);
    expect(d.ctlr).to.equal(0x12);
  });

  it('GICD_TYPER is Xen\'s value and read-only (a write is ignored, B.4 "writes to RO registers ignored")', () => {
    const { d } = v3();
    expect(val(vgicV3DistUaccess(d, false, 0x4, 0n))).to.equal(BigInt(gicdTyper(d)));
    expect(errno(vgicV3DistUaccess(d, true, 0x4, 0n))).to.equal(null);
    expect(val(vgicV3DistUaccess(d, false, 0x4, 0n))).to.equal(BigInt(gicdTyper(d)));
  });

  it('GICD_IIDR: the value read is accepted back; only Revision may differ and only as 2 or 3, else EINVAL (B.4)', () => {
    const { d } = v3();
    const iidr = BigInt(GICV3_IIDR);
    expect(val(vgicV3DistUaccess(d, false, 0x8, 0n))).to.equal(iidr);
    expect(errno(vgicV3DistUaccess(d, true, 0x8, iidr))).to.equal(null);
    expect(errno(vgicV3DistUaccess(d, true, 0x8, iidr | (3n << 12n)))).to.equal(null);
    expect(errno(vgicV3DistUaccess(d, true, 0x8, iidr | (2n << 12n)))).to.equal(null);
    expect(errno(vgicV3DistUaccess(d, true, 0x8, iidr | (1n << 12n)))).to.equal('EINVAL');
    expect(errno(vgicV3DistUaccess(d, true, 0x8, iidr ^ 1n))).to.equal('EINVAL');
    // Xen holds no revision: it reads back unchanged.
    expect(val(vgicV3DistUaccess(d, false, 0x8, 0n))).to.equal(iidr);
  });

  it('C.1 test_v3_nassgicap (function level): GICD_TYPER2 reads 0 before INIT, nASSGIcap is EINVAL (no host support), 0 is accepted; after INIT a change is EBUSY', () => {
    expect(val(vgicV3DistUaccessBeforeInit(false, 0xc, 0n))).to.equal(0n);
    expect(errno(vgicV3DistUaccessBeforeInit(true, 0xc, 1n << 8n))).to.equal('EINVAL');
    expect(errno(vgicV3DistUaccessBeforeInit(true, 0xc, 0n))).to.equal(null);
    expect(val(vgicV3DistUaccessBeforeInit(false, 0x8, 0n))).to.equal(BigInt(GICV3_IIDR));
    expect(errno(vgicV3DistUaccessBeforeInit(false, 0x100, 0n))).to.equal('EBUSY');
    const { d } = v3();
    expect(errno(vgicV3DistUaccess(d, true, 0xc, 1n << 8n))).to.equal('EBUSY');
    expect(errno(vgicV3DistUaccess(d, true, 0xc, 0n))).to.equal(null);
  });

  it('the private INTIDs of the distributor families are RAZ/WI (REGISTER_DESC_WITH_BITS_PER_IRQ_SHARED), unlike Xen\'s guest view (Q27)', () => {
    const { d } = v3();
    expect(errno(vgicV3DistUaccess(d, true, 0x100, 0xffffffffn))).to.equal(null);
    expect(d.vcpus[0]!.privateIrqs.ienable).to.equal(0);
    expect(val(vgicV3DistUaccess(d, false, 0x100, 0n))).to.equal(0n);
    expect(vgicV3HasAttrRegs('dist', 0x100, 96)).to.equal(0);
  });

  it('GICD_ISENABLER / ICENABLER set and clear the SPIs\' enables through Xen\'s handlers', () => {
    const { d } = v3();
    vgicV3DistUaccess(d, true, 0x104, 0x5n);
    expect(d.sharedIrqs[0]!.ienable).to.equal(5);
    expect(testBit(d.pendingIrqs[0]!, GIC_IRQ_GUEST_ENABLED)).to.equal(true);
    expect(val(vgicV3DistUaccess(d, false, 0x184, 0n))).to.equal(5n);
    vgicV3DistUaccess(d, true, 0x184, 0x1n);
    expect(d.sharedIrqs[0]!.ienable).to.equal(4);
  });

  it('GICD_ISPENDR sets and clears the pending latch (B.4): pending waits on lr_pending, no LR is written, a second 1 adds no assertion, a 0 withdraws it', () => {
    const { m, d } = v3();
    vgicV3DistUaccess(d, true, 0x104, 0x2n);
    vgicV3DistUaccess(d, true, 0x204, 0x2n);
    const p = d.pendingIrqs[1]!;
    expect(testBit(p, GIC_IRQ_GUEST_QUEUED)).to.equal(true);
    expect(listEmpty(p.lrQueue)).to.equal(false);
    expect(noLrTouched(m)).to.equal(true);
    expect(val(vgicV3DistUaccess(d, false, 0x204, 0n))).to.equal(0x2n);
    vgicV3DistUaccess(d, true, 0x204, 0x2n);
    expect(p.assertions).to.equal(1);
    vgicV3DistUaccess(d, true, 0x204, 0x0n);
    expect(listEmpty(p.inflight)).to.equal(true);
    expect(val(vgicV3DistUaccess(d, false, 0x204, 0n))).to.equal(0n);
  });

  it('GICD_ICPENDR is RAZ/WI from userspace (B.4)', () => {
    const { d } = v3();
    vgicV3DistUaccess(d, true, 0x204, 0x1n);
    expect(val(vgicV3DistUaccess(d, false, 0x284, 0n))).to.equal(0n);
    vgicV3DistUaccess(d, true, 0x284, 0xffffffffn);
    expect(val(vgicV3DistUaccess(d, false, 0x204, 0n))).to.equal(0x1n);
  });

  it('GICD_ISACTIVER / ICACTIVER read the active state from the saved LR file; writes cannot change it (B.4, docs §4)', () => {
    const { m, d } = v3(1);
    vgicV3DistUaccess(d, true, 0x104, 0x1n);
    step(m, { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 32 });
    step(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    step(m, { op: 'enter', pcpu: 0 });
    step(m, { op: 'pmr', pcpu: 0, value: 0xff });
    step(m, { op: 'ack', pcpu: 0 });
    step(m, { op: 'exit', pcpu: 0 });
    step(m, { op: 'idle', pcpu: 0 });
    expect(val(vgicV3DistUaccess(d, false, 0x304, 0n))).to.equal(0x1n);
    expect(val(vgicV3DistUaccess(d, false, 0x384, 0n))).to.equal(0x1n);
    expect(val(vgicV3DistUaccess(d, false, 0x204, 0n))).to.equal(0n);
    vgicV3DistUaccess(d, true, 0x384, 0x1n);
    expect(val(vgicV3DistUaccess(d, false, 0x304, 0n))).to.equal(0x1n);
  });

  it('GICD_IPRIORITYR keeps all 8 bits (Q24); GICD_ICFGR is stored as written; GICD_IROUTER goes 32 bits at a time through Xen\'s store (Q26)', () => {
    const { d } = v3();
    vgicV3DistUaccess(d, true, 0x420, 0x01020304n);
    expect(val(vgicV3DistUaccess(d, false, 0x420, 0n))).to.equal(0x01020304n);
    expect(d.sharedIrqs[0]!.priority[0]).to.equal(4);
    vgicV3DistUaccess(d, true, 0xc08, 0xaaaaaaaan);
    expect(d.sharedIrqs[0]!.icfg[0]).to.equal(0xaaaaaaaa);
    vgicV3DistUaccess(d, true, 0x6000 + 8 * 33, 0x1n);
    expect(d.sharedIrqs[0]!.vcpu[1]).to.equal(1);
    expect(val(vgicV3DistUaccess(d, false, 0x6000 + 8 * 33, 0n))).to.equal(0x1n);
    expect(val(vgicV3DistUaccess(d, false, 0x6000 + 8 * 33 + 4, 0n))).to.equal(0n);
  });

  it('where KVM\'s map has no register (unknown, misaligned, beyond nr_irqs) a get reads 0 and a set succeeds, as Linux\'s vgic_uaccess does; HAS_ATTR answers ENXIO there', () => {
    const { d } = v3(2, 32);
    for (const off of [0x18, 0x102, 0x108, 0x3000]) {
      expect(val(vgicV3DistUaccess(d, false, off, 0n)), `0x${off.toString(16)}`).to.equal(0n);
      expect(errno(vgicV3DistUaccess(d, true, off, 0xffffffffn))).to.equal(null);
      expect(vgicV3HasAttrRegs('dist', off, 64), `has 0x${off.toString(16)}`).to.equal('ENXIO');
    }
    expect(d.sharedIrqs[0]!.ienable).to.equal(0);
    expect(vgicV3HasAttrRegs('dist', 0x104, 64)).to.equal(0);
    expect(vgicV3HasAttrRegs('dist', 0x104, 32)).to.equal('ENXIO');
    expect(vgicV3HasAttrRegs('dist', 0xffe8)).to.equal(0);
    expect(vgicV3HasAttrRegs('dist', 0x800)).to.equal(0);
  });

  it('an access while a vCPU is loaded is the caller\'s bug (it owes EBUSY), never a touch of a running vCPU\'s LRs', () => {
    const { m, d } = v3(1);
    step(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    expect(() => vgicV3DistUaccess(d, false, 0x0, 0n)).to.throw(/EBUSY/);
  });
});

describe('vmm uaccess: GRP_REDIST_REGS of a v3 device (B.4, B.6)', () => {
  it('GICR_TYPER reads what the guest reads, as two 32-bit halves, and a write is ignored', () => {
    const { d } = v3(2);
    const v1 = d.vcpus[1]!;
    const typer = gicrTyper(v1);
    expect(val(vgicV3RedistUaccess(v1, false, 0x8, 0n))).to.equal(typer & 0xffffffffn);
    expect(val(vgicV3RedistUaccess(v1, false, 0xc, 0n))).to.equal(typer >> 32n);
    expect(errno(vgicV3RedistUaccess(v1, true, 0x8, 0n))).to.equal(null);
    expect(val(vgicV3RedistUaccess(v1, false, 0x8, 0n))).to.equal(typer & 0xffffffffn);
  });

  it('the SGI_base registers are the frame owner\'s: ISENABLER0, ISPENDR0 (latch), IPRIORITYR0-7; ICFGR0 ignores writes, ICFGR1 stores (Q23)', () => {
    const { m, d } = v3(2);
    const [v0, v1] = [d.vcpus[0]!, d.vcpus[1]!];
    vgicV3RedistUaccess(v1, true, 0x10100, 0x80000000n);
    expect(v1.privateIrqs.ienable).to.equal(0x80000000);
    expect(v0.privateIrqs.ienable).to.equal(0);
    vgicV3RedistUaccess(v1, true, 0x10200, 0x2n);
    expect(val(vgicV3RedistUaccess(v1, false, 0x10200, 0n))).to.equal(0x2n);
    expect(val(vgicV3RedistUaccess(v0, false, 0x10200, 0n))).to.equal(0n);
    expect(noLrTouched(m)).to.equal(true);
    vgicV3RedistUaccess(v1, true, 0x10404, 0xa0a0a0a0n);
    expect(v1.privateIrqs.priority[4]).to.equal(0xa0);
    vgicV3RedistUaccess(v1, true, 0x10c00, 0xffffffffn);
    vgicV3RedistUaccess(v1, true, 0x10c04, 0x8n);
    expect([v1.privateIrqs.icfg[0], v1.privateIrqs.icfg[1]]).to.deep.equal([0, 8]);
  });

  it('GICR_PROPBASER / PENDBASER (with an ITS): 32-bit halves; writing back the value read changes nothing; PENDBASER freezes once GICR_CTLR.EnableLPIs is set (B.4, §C.8)', () => {
    const { d } = itsMachine();
    const v0 = d.vcpus[0]!;
    expect(val(vgicV3RedistUaccess(v0, false, 0x78, 0n))).to.equal(0n);
    vgicV3RedistUaccess(v0, true, 0x78, 0n);
    expect(v0.rdistPendbase).to.equal(0n);
    vgicV3RedistUaccess(v0, true, 0x70, 0x40030000n | 15n);
    expect(val(vgicV3RedistUaccess(v0, false, 0x70, 0n)) & 0xffff001fn).to.equal(0x4003000fn);
    vgicV3RedistUaccess(v0, true, 0x78, 0x40050000n);
    vgicV3RedistUaccess(v0, true, 0x0, 1n);
    expect(v0.lpisEnabled).to.equal(true);
    expect(val(vgicV3RedistUaccess(v0, false, 0x0, 0n))).to.equal(1n);
    const before = v0.rdistPendbase;
    vgicV3RedistUaccess(v0, true, 0x78, 0x40060000n);
    expect(v0.rdistPendbase).to.equal(before);
  });

  it('HAS_ATTR of REDIST_REGS: a register there is 0; a hole or a misaligned offset is ENXIO', () => {
    expect(vgicV3HasAttrRegs('redist', 0x8)).to.equal(0);
    expect(vgicV3HasAttrRegs('redist', 0xc)).to.equal(0);
    expect(vgicV3HasAttrRegs('redist', 0x10200)).to.equal(0);
    expect(vgicV3HasAttrRegs('redist', 0x18)).to.equal('ENXIO');
    expect(vgicV3HasAttrRegs('redist', 0x2)).to.equal('ENXIO');
    expect(vgicV3HasAttrRegs('redist', 0x10800)).to.equal('ENXIO');
  });
});

describe('vmm uaccess: GRP_CPU_SYSREGS (B.4)', () => {
  it('encodes sysregs as KVM does (Op0 15:14, Op1 13:11, CRn 10:7, CRm 6:3, Op2 2:0)', () => {
    expect(ICC_PMR_EL1).to.equal(0xc230);
    expect(ICC_CTLR_EL1).to.equal(0xc664);
    expect(ICC_SRE_EL1).to.equal(0xc665);
    expect(ICC_IGRPEN1_EL1).to.equal(0xc667);
    expect(ICC_AP1R_EL1(0)).to.equal(0xc648);
  });

  it('C.1 test_v3_sysregs (function level): every ICC register has HAS_ATTR 0 and get then set-back succeeds, except APnR1-3 with 5 priority bits', () => {
    const { d } = v3(1);
    const v = d.vcpus[0]!;
    expect(GIC_V3_ICC_REG_DESCS.size).to.equal(15);
    for (const [enc, r] of GIC_V3_ICC_REG_DESCS) {
      expect(vgicV3HasSysreg(enc), r.name).to.equal(0);
      const got = vgicV3CpuSysregsUaccess(v, false, enc, 0n);
      if (/^ICC_AP[01]R[123]_EL1$/.test(r.name)) {
        expect(errno(got), r.name).to.equal('EINVAL');
        continue;
      }
      expect(errno(vgicV3CpuSysregsUaccess(v, true, enc, val(got))), r.name).to.equal(null);
      expect(val(vgicV3CpuSysregsUaccess(v, false, enc, 0n)), r.name).to.equal(val(got));
    }
  });

  it('an unknown sysreg is ENXIO for HAS_ATTR and for get/set', () => {
    const { d } = v3(1);
    const iar1 = 0xc660;
    expect(vgicV3HasSysreg(iar1)).to.equal('ENXIO');
    expect(errno(vgicV3CpuSysregsUaccess(d.vcpus[0]!, false, iar1, 0n))).to.equal('ENXIO');
  });

  it('PMR, ICC_CTLR.EOImode and AP1R0 are the saved interface\'s pmr, eoimode and apr; a value KVM refuses is EINVAL', () => {
    const { d } = v3(1);
    const v = d.vcpus[0]!;
    vgicV3CpuSysregsUaccess(v, true, ICC_PMR_EL1, 0xf0n);
    expect(v.saved.pmr).to.equal(0xf0);
    const ctlr = val(vgicV3CpuSysregsUaccess(v, false, ICC_CTLR_EL1, 0n));
    expect((ctlr >> 8n) & 7n, 'PRIbits').to.equal(4n);
    vgicV3CpuSysregsUaccess(v, true, ICC_CTLR_EL1, ctlr | 2n);
    expect(v.saved.eoimode).to.equal(1);
    vgicV3CpuSysregsUaccess(v, true, ICC_AP1R_EL1(0), 0x8n);
    expect(v.saved.apr).to.equal(8);
    expect(errno(vgicV3CpuSysregsUaccess(v, true, ICC_CTLR_EL1, ctlr | (7n << 8n)))).to.equal('EINVAL');
    expect(errno(vgicV3CpuSysregsUaccess(v, true, ICC_CTLR_EL1, ctlr | (1n << 14n)))).to.equal('EINVAL');
    expect(errno(vgicV3CpuSysregsUaccess(v, true, ICC_SRE_EL1, 0n))).to.equal('EINVAL');
  });
});

describe('vmm uaccess: GRP_LEVEL_INFO (B.4)', () => {
  it('reads 0 for every line (Xen keeps no line level, Q1/Q2); a vINTID not a multiple of 32 is EINVAL', () => {
    const { d } = v3();
    vgicV3DistUaccess(d, true, 0x204, 0xffn);
    expect(val(vgicV3LineLevelInfoUaccess(d.vcpus[0]!, false, 32, 0n))).to.equal(0n);
    expect(errno(vgicV3LineLevelInfoUaccess(d.vcpus[0]!, false, 33, 0n))).to.equal('EINVAL');
  });

  it('a 1 asserts the line (the interrupt becomes pending, once); a 0 is ignored; SGIs and INTIDs beyond the domain are RAZ/WI', () => {
    const { d } = v3(2, 32);
    const v1 = d.vcpus[1]!;
    vgicV3LineLevelInfoUaccess(v1, true, 0, 0x0001_0001n);
    expect(val(vgicV3RedistUaccess(v1, false, 0x10200, 0n))).to.equal(0x10000n);
    vgicV3LineLevelInfoUaccess(v1, true, 32, 0x1n);
    vgicV3LineLevelInfoUaccess(v1, true, 32, 0x1n);
    expect(d.pendingIrqs[0]!.assertions).to.equal(1);
    vgicV3LineLevelInfoUaccess(v1, true, 32, 0x0n);
    expect(val(vgicV3DistUaccess(d, false, 0x204, 0n))).to.equal(0x1n);
    expect(errno(vgicV3LineLevelInfoUaccess(v1, true, 64, 0xffffffffn))).to.equal(null);
  });
});

describe('vmm uaccess: GRP_DIST_REGS and GRP_CPU_REGS of a v2 device (B.5)', () => {
  it('the vCPU index banks INTIDs 0-31: ISENABLER0 and IPRIORITYR0-7 of vCPU 1 are vCPU 1\'s', () => {
    const { d } = v2();
    const [v0, v1] = [d.vcpus[0]!, d.vcpus[1]!];
    vgicV2DistUaccess(v1, true, 0x100, 0x10000n);
    expect([v0.privateIrqs.ienable, v1.privateIrqs.ienable]).to.deep.equal([0, 0x10000]);
    vgicV2DistUaccess(v1, true, 0x410, 0x80n);
    expect(v1.privateIrqs.priority[16]).to.equal(0x80);
    expect(val(vgicV2DistUaccess(v1, false, 0x800, 0n))).to.equal(0x02020202n);
  });

  it('GICD_IIDR accepts only its own value; ITARGETSR of SPIs is Xen\'s store (lowest bit wins, Q25)', () => {
    const { d } = v2();
    const v0 = d.vcpus[0]!;
    expect(errno(vgicV2DistUaccess(v0, true, 0x8, 0x43bn))).to.equal(null);
    expect(errno(vgicV2DistUaccess(v0, true, 0x8, 0x143bn))).to.equal('EINVAL');
    vgicV2DistUaccess(v0, true, 0x820, 0x03n);
    expect(val(vgicV2DistUaccess(v0, false, 0x820, 0n)) & 0xffn).to.equal(0x1n);
    vgicV2DistUaccess(v0, true, 0x820, 0x02n);
    expect(d.sharedIrqs[0]!.vcpu[0]).to.equal(1);
  });

  it('ISPENDR sets and ICPENDR clears the pending state; SGIs too, SPENDSGIR shows source vCPU 0 and CPENDSGIR clears', () => {
    const { m, d } = v2();
    const v1 = d.vcpus[1]!;
    vgicV2DistUaccess(v1, true, 0x204, 0x3n);
    expect(val(vgicV2DistUaccess(v1, false, 0x284, 0n))).to.equal(0x3n);
    vgicV2DistUaccess(v1, true, 0x284, 0x1n);
    expect(val(vgicV2DistUaccess(v1, false, 0x204, 0n))).to.equal(0x2n);
    vgicV2DistUaccess(v1, true, 0x200, 0x20n);
    expect(val(vgicV2DistUaccess(v1, false, 0xf24, 0n))).to.equal(0x0100n);
    vgicV2DistUaccess(v1, true, 0xf14, 0xff00n);
    expect(val(vgicV2DistUaccess(v1, false, 0x200, 0n))).to.equal(0n);
    expect(noLrTouched(m)).to.equal(true);
  });

  it('GICD_SGIR from userspace makes the SGI pending from the attribute\'s vCPU: filter 2 is that vCPU, 1 the others, 0 the list', () => {
    const { d } = v2(3);
    const [v0, v1, v2_] = [d.vcpus[0]!, d.vcpus[1]!, d.vcpus[2]!];
    vgicV2DistUaccess(v1, true, 0xf00, (2n << 24n) | 3n);
    expect([v0, v1, v2_].map((v) => val(vgicV2DistUaccess(v, false, 0x200, 0n)))).to.deep.equal([0n, 8n, 0n]);
    vgicV2DistUaccess(v1, true, 0xf00, (1n << 24n) | 4n);
    expect([v0, v1, v2_].map((v) => val(vgicV2DistUaccess(v, false, 0x200, 0n)))).to.deep.equal([0x10n, 8n, 0x10n]);
    vgicV2DistUaccess(v1, true, 0xf00, (0x4n << 16n) | 5n);
    expect(val(vgicV2DistUaccess(v2_, false, 0x200, 0n))).to.equal(0x30n);
  });

  it('GICC registers are the saved interface: CTLR.EOImodeNS, PMR as VMPriMask (5 bits), APR0; APR1-3 RAZ/WI; no register at IAR (get 0, HAS_ATTR ENXIO)', () => {
    const { d } = v2();
    const v = d.vcpus[0]!;
    vgicV2CpuifUaccess(v, true, 0x0, 1n << 9n);
    expect(v.saved.eoimode).to.equal(1);
    expect(val(vgicV2CpuifUaccess(v, false, 0x0, 0n))).to.equal((1n << 9n) | 1n);
    vgicV2CpuifUaccess(v, true, 0x4, 0x1en);
    expect(v.saved.pmr).to.equal(0xf0);
    expect(val(vgicV2CpuifUaccess(v, false, 0x4, 0n))).to.equal(0x1en);
    vgicV2CpuifUaccess(v, true, 0xd0, 0x5n);
    vgicV2CpuifUaccess(v, true, 0xd4, 0x5n);
    expect(v.saved.apr).to.equal(5);
    expect(val(vgicV2CpuifUaccess(v, false, 0xd4, 0n))).to.equal(0n);
    expect(val(vgicV2CpuifUaccess(v, false, 0x0c, 0n))).to.equal(0n);
    expect(vgicV2HasAttrRegs('cpu', 0x0c)).to.equal('ENXIO');
    expect(vgicV2HasAttrRegs('cpu', 0xfc)).to.equal(0);
    expect(vgicV2HasAttrRegs('dist', 0xf20)).to.equal(0);
    expect(vgicV2HasAttrRegs('dist', 0xfe8)).to.equal('ENXIO');
  });
});

describe('vmm uaccess: GRP_ITS_REGS (B.8)', () => {
  it('alignment comes first: CTLR, IIDR and the ID registers need 4, the others 8 (EINVAL, also from HAS_ATTR); a hole is ENXIO', () => {
    expect(vgicItsRegAlignment(0x4)).to.equal(0);
    expect(vgicItsRegAlignment(0x84)).to.equal('EINVAL');
    expect(vgicItsHasAttrRegs(0x84)).to.equal('EINVAL');
    expect(vgicItsHasAttrRegs(0x2)).to.equal('EINVAL');
    expect(vgicItsHasAttrRegs(0xffe8)).to.equal(0);
    expect(vgicItsHasAttrRegs(0x10)).to.equal('ENXIO');
    const { d } = itsMachine();
    expect(errno(vgicItsAttrRegsAccess(d.vits!, false, 0x10, 0n))).to.equal('ENXIO');
    expect(errno(vgicItsAttrRegsAccess(d.vits!, false, 0x8c, 0n))).to.equal('EINVAL');
  });

  it('GITS_IIDR reads Xen\'s value; a write selects ABI revision 0 only (else EINVAL); GITS_TYPER is read-only', () => {
    const { d } = itsMachine();
    const its = d.vits!;
    expect(val(vgicItsAttrRegsAccess(its, false, 0x4, 0n))).to.equal(BigInt(GITS_IIDR_VALUE));
    expect(errno(vgicItsAttrRegsAccess(its, true, 0x4, BigInt(GITS_IIDR_VALUE)))).to.equal(null);
    expect(errno(vgicItsAttrRegsAccess(its, true, 0x4, 1n << 12n))).to.equal('EINVAL');
    expect(val(vgicItsAttrRegsAccess(its, false, 0x8, 0n))).to.equal(gitsTyper(its));
    expect(errno(vgicItsAttrRegsAccess(its, true, 0x8, 0n))).to.equal(null);
    expect(val(vgicItsAttrRegsAccess(its, false, 0x118, 0n))).to.equal(0n);
  });

  it('GITS_CREADR is writable from userspace: EBUSY while enabled, EINVAL beyond the queue, else it moves', () => {
    const { d } = itsMachine();
    const its = d.vits!;
    const V = 1n << 63n;
    vgicItsAttrRegsAccess(its, true, 0x80, V | BigInt(LAYOUT.queue));
    expect(errno(vgicItsAttrRegsAccess(its, true, 0x90, 0x1000n))).to.equal('EINVAL');
    expect(errno(vgicItsAttrRegsAccess(its, true, 0x90, 0x40n))).to.equal(null);
    expect(its.creadr).to.equal(0x40);
    vgicItsAttrRegsAccess(its, true, 0x100, V | BigInt(LAYOUT.devTable));
    vgicItsAttrRegsAccess(its, true, 0x108, V | BigInt(LAYOUT.collTable));
    vgicItsAttrRegsAccess(its, true, 0x0, 1n);
    expect(its.enabled).to.equal(true);
    expect(errno(vgicItsAttrRegsAccess(its, true, 0x90, 0x0n))).to.equal('EBUSY');
  });

  it('writing GITS_CTLR.Enable runs the commands queued between CREADR and CWRITER (B.8), with no LR written', () => {
    const { m, d } = itsMachine();
    const its = d.vits!;
    const V = 1n << 63n;
    cmd.mapc(0, 1).forEach((w, i) => writeGuestLe(d.ram, LAYOUT.queue + 8 * i, 8, w));
    vgicItsAttrRegsAccess(its, true, 0x80, V | BigInt(LAYOUT.queue));
    vgicItsAttrRegsAccess(its, true, 0x100, V | BigInt(LAYOUT.devTable));
    vgicItsAttrRegsAccess(its, true, 0x108, V | BigInt(LAYOUT.collTable));
    vgicItsAttrRegsAccess(its, true, 0x88, 0x20n);
    expect(its.creadr).to.equal(0);
    vgicItsAttrRegsAccess(its, true, 0x0, 1n);
    expect(its.creadr).to.equal(0x20);
    expect(val(vgicItsAttrRegsAccess(its, false, 0x0, 0n))).to.equal(0x80000001n);
    expect(noLrTouched(m)).to.equal(true);
  });
});
