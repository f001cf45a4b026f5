/**
 * Save and restore a vGIC through the userspace register groups, as a VMM migrating or
 * snapshotting a VM does: read every register of every group, then write them into a fresh
 * vGIC built the same way, in a restore order a VMM uses (docs/vmm-registers.md §5).
 *
 * The walk only knows an accessor (KVM's get/set of one attribute). `xenAccessor` reaches the
 * effect functions directly on a Xen domain; `opsAccessor` (src/testing/vmm-bringup.ts) issues
 * `get_attr` / `set_attr` steps on a device-built machine, the same walk through KVM's checks.
 */
import { IRQS_PER_RANK, NR_LOCAL_IRQS } from '../arch/limits.js';
import type { Domain } from '../xen/types.js';
import { isErrno, type Uaccess } from './uaccess-common.js';
import { vgicItsAttrRegsAccess, GITS_BASER, GITS_CBASER, GITS_CREADR, GITS_CTLR, GITS_CWRITER, GITS_IIDR } from './uaccess-its.js';
import {
  ICC_AP0R_EL1, ICC_AP1R_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1, ICC_CTLR_EL1, ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1,
  ICC_SRE_EL1, vgicV3CpuSysregsUaccess,
} from './uaccess-sysreg.js';
import { vgicV2CpuifUaccess, vgicV2DistUaccess } from './uaccess-v2.js';
import { vgicV3DistUaccess, vgicV3LineLevelInfoUaccess, vgicV3RedistUaccess } from './uaccess-v3.js';

/** The register groups of the walk: DIST_REGS, REDIST_REGS, CPU_REGS (v2), CPU_SYSREGS, LEVEL_INFO, ITS_REGS. */
export type RegGroup = 'dist' | 'redist' | 'cpu' | 'sysreg' | 'level' | 'its';

/**
 * One attribute: the group, the vCPU it names (v3: the vCPU whose MPIDR the attribute
 * carries; v2: the vCPU index; null for the distributor of v3 and for the ITS) and the
 * offset, sysreg encoding or vINTID.
 */
export interface RegAttr {
  readonly group: RegGroup;
  readonly vcpu: number | null;
  readonly offset: number;
}

export interface RegWrite extends RegAttr {
  readonly value: bigint;
}

/** How the walk reaches a vGIC: what it is, and KVM_GET/SET_DEVICE_ATTR of one register. */
export interface RegisterAccessor {
  readonly version: 'v2' | 'v3';
  /** The vCPU ids, in creation order. */
  readonly vcpus: readonly number[];
  /** Whether an ITS device is there (its ITS_REGS are walked too). */
  readonly hasIts: boolean;
  get(attr: RegAttr): Uaccess;
  set(attr: RegAttr, value: bigint): Uaccess;
}

/** A register write of the restore that KVM refused. */
export interface RestoreFailure {
  readonly write: RegWrite;
  readonly errno: string;
}

/** The accessor over a Xen domain's effect functions (no KVM checks: the caller keeps every vCPU stopped). */
export function xenAccessor(d: Domain): RegisterAccessor {
  const vcpu = (id: number | null) => {
    const v = id === null ? undefined : d.vcpus[id];
    if (v === undefined) throw new Error(`d${d.id} has no vCPU ${String(id)}`);
    return v;
  };
  const access = (a: RegAttr, write: boolean, value: bigint): Uaccess => {
    switch (a.group) {
      case 'dist': return d.version === 'v3' ? vgicV3DistUaccess(d, write, a.offset, value) : vgicV2DistUaccess(vcpu(a.vcpu ?? 0), write, a.offset, value);
      case 'redist': return vgicV3RedistUaccess(vcpu(a.vcpu), write, a.offset, value);
      case 'cpu': return vgicV2CpuifUaccess(vcpu(a.vcpu), write, a.offset, value);
      case 'sysreg': return vgicV3CpuSysregsUaccess(vcpu(a.vcpu), write, a.offset, value);
      case 'level': return vgicV3LineLevelInfoUaccess(vcpu(a.vcpu), write, a.offset, value);
      case 'its': return vgicItsAttrRegsAccess(d.vits!, write, a.offset, value);
    }
  };
  return {
    version: d.version,
    vcpus: d.vcpus.map((v) => v.id),
    hasIts: d.vits !== null,
    get: (a) => access(a, false, 0n),
    set: (a, value) => access(a, true, value),
  };
}

const ALL_ONES = 0xffffffffn;

/** The registers of one group to save, in restore order; `clearFirst` names the clear register written all-ones before it. */
interface Plan {
  readonly attr: RegAttr;
  readonly clearFirst?: RegAttr;
}

function words(from: number, to: number, family: number, bpi: number): number[] {
  const out: number[] = [];
  for (let irq = from; irq < to; irq += (32 / bpi)) out.push(family + (irq * bpi) / 8);
  return out;
}

/** The number of interrupts, from GICD_TYPER.ITLinesNumber (KVM and Xen both report nr_irqs / 32 - 1). */
function nrIrqsOf(acc: RegisterAccessor): number {
  const typer = acc.get({ group: 'dist', vcpu: acc.version === 'v2' ? acc.vcpus[0] ?? 0 : null, offset: 0x4 });
  if (isErrno(typer)) throw new Error(`GICD_TYPER read refused: ${typer.errno}`);
  return (Number(typer.value & 0x1fn) + 1) * IRQS_PER_RANK;
}

/**
 * The restore order, register by register (docs/vmm-registers.md §5). GICv3: distributor
 * configuration (CTLR, IROUTER, ICFGR, IPRIORITYR), then its state (enables, line levels,
 * pending, active), then per redistributor the LPI registers (PROPBASER, PENDBASER before
 * CTLR), configuration and state, then per vCPU the ICC registers, then the ITS in B.8's order
 * (CBASER, the other registers, CREADR after CBASER, CTLR last). GICv2 likewise with the
 * banked registers of each vCPU and its CPU interface. Targets and priorities come before the
 * pending state, so an interrupt made pending lands on its target with its priority.
 */
function plan(acc: RegisterAccessor, nrIrqs: number): Plan[] {
  const out: Plan[] = [];
  const dist = (offset: number, vcpu: number | null = null): RegAttr => ({ group: 'dist', vcpu, offset });
  if (acc.version === 'v3') {
    out.push({ attr: dist(0x0) });
    for (let irq = NR_LOCAL_IRQS; irq < nrIrqs; irq++) out.push({ attr: dist(0x6000 + 8 * irq) }, { attr: dist(0x6000 + 8 * irq + 4) });
    for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0xc00, 2)) out.push({ attr: dist(o) });
    for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x400, 8)) out.push({ attr: dist(o) });
    for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x100, 1)) out.push({ attr: dist(o), clearFirst: dist(o + 0x80) });
    for (let irq = NR_LOCAL_IRQS; irq < nrIrqs; irq += 32) out.push({ attr: { group: 'level', vcpu: acc.vcpus[0]!, offset: irq } });
    for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x200, 1)) out.push({ attr: dist(o) });
    for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x300, 1)) out.push({ attr: dist(o), clearFirst: dist(o + 0x80) });
    for (const v of acc.vcpus) {
      const rd = (offset: number): RegAttr => ({ group: 'redist', vcpu: v, offset });
      const sgi = (offset: number): RegAttr => rd(0x10000 + offset);
      for (const o of [0x70, 0x74, 0x78, 0x7c, 0x0, 0x14]) out.push({ attr: rd(o) });
      out.push({ attr: sgi(0x80) }, { attr: sgi(0xc00) }, { attr: sgi(0xc04) });
      for (let o = 0x400; o < 0x420; o += 4) out.push({ attr: sgi(o) });
      out.push({ attr: sgi(0x100), clearFirst: sgi(0x180) });
      out.push({ attr: { group: 'level', vcpu: v, offset: 0 } });
      out.push({ attr: sgi(0x200) });
      out.push({ attr: sgi(0x300), clearFirst: sgi(0x380) });
    }
    for (const v of acc.vcpus) {
      const sys = (offset: number): RegAttr => ({ group: 'sysreg', vcpu: v, offset });
      const regs = [ICC_SRE_EL1, ICC_CTLR_EL1, ICC_PMR_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1];
      for (let n = 0; n < 4; n++) regs.push(ICC_AP0R_EL1(n));
      for (let n = 0; n < 4; n++) regs.push(ICC_AP1R_EL1(n));
      regs.push(ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1);
      for (const r of regs) out.push({ attr: sys(r) });
    }
    if (acc.hasIts) {
      const its = (offset: number): RegAttr => ({ group: 'its', vcpu: null, offset });
      out.push({ attr: its(GITS_CBASER) }, { attr: its(GITS_CWRITER) });
      for (let n = 0; n < 8; n++) out.push({ attr: its(GITS_BASER + 8 * n) });
      out.push({ attr: its(GITS_IIDR) }, { attr: its(GITS_CREADR) }, { attr: its(GITS_CTLR) });
    }
    return out;
  }
  const v0 = acc.vcpus[0]!;
  out.push({ attr: dist(0x0, v0) });
  for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x800, 8)) out.push({ attr: dist(o, v0) });
  for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0xc00, 2)) out.push({ attr: dist(o, v0) });
  for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x400, 8)) out.push({ attr: dist(o, v0) });
  for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x100, 1)) out.push({ attr: dist(o, v0), clearFirst: dist(o + 0x80, v0) });
  for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x200, 1)) out.push({ attr: dist(o, v0), clearFirst: dist(o + 0x80, v0) });
  for (const o of words(NR_LOCAL_IRQS, nrIrqs, 0x300, 1)) out.push({ attr: dist(o, v0), clearFirst: dist(o + 0x80, v0) });
  for (const v of acc.vcpus) {
    for (let o = 0x400; o < 0x420; o += 4) out.push({ attr: dist(o, v) });
    out.push({ attr: dist(0x100, v), clearFirst: dist(0x180, v) });
    out.push({ attr: dist(0x200, v), clearFirst: dist(0x280, v) });
    for (let o = 0xf20; o < 0xf30; o += 4) out.push({ attr: dist(o, v) });
    out.push({ attr: dist(0x300, v), clearFirst: dist(0x380, v) });
    for (const o of [0x00, 0x04, 0x08, 0x1c, 0xd0, 0xd4, 0xd8, 0xdc]) out.push({ attr: { group: 'cpu', vcpu: v, offset: o } });
  }
  return out;
}

/**
 * Read every register of every group (the save half): the writes that restore them, in
 * order, with the all-ones clear writes a VMM puts before a set register. A register whose
 * read KVM refuses (the APnR registers beyond the priority bits) is not saved.
 */
export function saveGicState(acc: RegisterAccessor): RegWrite[] {
  const out: RegWrite[] = [];
  for (const p of plan(acc, nrIrqsOf(acc))) {
    const r = acc.get(p.attr);
    if (isErrno(r)) continue;
    if (p.clearFirst !== undefined) out.push({ ...p.clearFirst, value: ALL_ONES });
    out.push({ ...p.attr, value: r.value });
  }
  return out;
}

/** Write the saved registers in order (the restore half); KVM's refusals, if any. */
export function restoreGicState(acc: RegisterAccessor, writes: readonly RegWrite[]): RestoreFailure[] {
  const failures: RestoreFailure[] = [];
  for (const w of writes) {
    const r = acc.set(w, w.value);
    if (isErrno(r)) failures.push({ write: w, errno: r.errno });
  }
  return failures;
}
