/**
 * KVM_DEV_TYPE_ARM_VGIC_V3's register groups on Xen's vGICv3: DIST_REGS and REDIST_REGS
 * (B.4, vgic-mmio-v3.c's register maps and userspace handlers), LEVEL_INFO (B.4) and their
 * HAS_ATTR lookups. Each region row names the Xen state it reads and writes; the table in
 * docs/vmm-registers.md says the same in words.
 */
import { IRQS_PER_RANK, NR_GIC_SGI, NR_LOCAL_IRQS } from '../arch/limits.js';
import type { Domain, Vcpu } from '../xen/types.js';
import { GICV3_DIST_ROWS, GICV3_IIDR, GICV3_RD_ROWS, GICV3_SGI_ROWS, SZ_64K } from '../xen/vgic-v3.js';
import { irqToPending, vgicInjectIrq, vgicNumIrqs } from '../xen/vgic.js';
import type { FrameDefaults } from '../xen/vreg.js';
import {
  UOK, activeWord, assertStopped, clearPendingBits, detachedPcpu, hasAttrRegs, inflightOwners, pendingWord, raz,
  regCtx, setPendingBits, sharedFamily, uerr, uvalue, vgicAddrToIntid, vgicUaccess, wi, xenIrqPending,
  xenRowAccess, type Errno, type Region, type Uaccess,
} from './uaccess-common.js';

/** Xen's GICv3 frames: unknown offsets are RAZ/WI (§5.1). */
const V3_DEFAULTS: FrameDefaults = { read: 'raz', write: 'wi' };

/** GICD_IIDR.Revision (bits 15:12) and the revisions KVM lets userspace choose (KVM_VGIC_IMP_REV_2/3). */
export const GICD_IIDR_REVISION_MASK = 0xf000n;
export const KVM_VGIC_IMP_REVS: readonly bigint[] = [2n, 3n];
/** GICD_TYPER2.nASSGIcap (bit 8). */
export const GICD_TYPER2_NASSGICAP = 1n << 8n;

// ----- the distributor (DIST_REGS) -----

/** What a distributor row needs: the domain and vCPU 0 (KVM's DIST_REGS use vCPU 0). */
interface DistCtx {
  readonly d: Domain;
  readonly v0: Vcpu;
}

function distXen(c: DistCtx, off: number, write: boolean, value: bigint): bigint {
  return xenRowAccess(GICV3_DIST_ROWS, V3_DEFAULTS, regCtx(c.v0, 'vGICD'), off, 4, write, value);
}
const distRead = (c: DistCtx, off: number): bigint => distXen(c, off, false, 0n);
const distWrite = (c: DistCtx, off: number, value: bigint): Uaccess => {
  distXen(c, off, true, value);
  return UOK;
};

/**
 * vgic_mmio_uaccess_write_v3_misc, GICD_IIDR: the same value is accepted as is; a value that
 * differs outside Revision is EINVAL; a Revision KVM implements (2 or 3) is accepted but has
 * nothing to change in Xen, whose IIDR is a constant (it reads back as before); any other
 * Revision is EINVAL.
 */
export function gicdIidrUaccessWrite(value: bigint): Uaccess {
  const current = BigInt(GICV3_IIDR);
  if (value === current) return UOK;
  if (((value ^ current) & ~GICD_IIDR_REVISION_MASK) !== 0n) return uerr('EINVAL');
  return KVM_VGIC_IMP_REVS.includes((value & GICD_IIDR_REVISION_MASK) >> 12n) ? UOK : uerr('EINVAL');
}

/**
 * vgic_mmio_uaccess_write_v3_misc, GICD_TYPER2 (2025+, test_v3_nassgicap): Xen's reads as 0
 * (the model has no GICv4.1, so no nASSGIcap). The same value is accepted; a change after INIT
 * is EBUSY; before INIT, a change outside nASSGIcap, or setting nASSGIcap without host
 * support (never here), is EINVAL.
 */
export function gicdTyper2UaccessWrite(value: bigint, initialized: boolean): Uaccess {
  if (value === 0n) return UOK;
  if (initialized) return uerr('EBUSY');
  return uerr('EINVAL');
}

/** vgic_v3_dist_registers with Xen's state behind each row (B.4 GRP_DIST_REGS). */
export const VGIC_V3_DIST_REGISTERS: readonly Region<DistCtx>[] = [
  // GICD_CTLR: Xen keeps EnableGrp1A (bit 1, Q3); ARE_NS reads 1. Same write as the guest's.
  { name: 'GICD_CTLR', offset: 0x0000, len: 4, widths: '32', read: distRead, write: distWrite },
  // Read-only: a write is ignored.
  { name: 'GICD_TYPER', offset: 0x0004, len: 4, widths: '32', read: distRead, write: wi },
  { name: 'GICD_IIDR', offset: 0x0008, len: 4, widths: '32', read: distRead, write: (_c, _o, v) => gicdIidrUaccessWrite(v) },
  { name: 'GICD_TYPER2', offset: 0x000c, len: 4, widths: '32', read: raz, write: (_c, _o, v) => gicdTyper2UaccessWrite(v, true) },
  // KVM reads all ones; Xen's reads 0 and there is nothing to set (B.4's "set directly" has no state here).
  { name: 'GICD_STATUSR', offset: 0x0010, len: 4, widths: '32', read: distRead, write: wi },
  // Xen has no interrupt groups: RAZ/WI.
  ...sharedFamily<DistCtx>('GICD_IGROUPR', 0x0080, 1, '32', raz, wi),
  ...sharedFamily<DistCtx>('GICD_ISENABLER', 0x0100, 1, '32', distRead, distWrite),
  ...sharedFamily<DistCtx>('GICD_ICENABLER', 0x0180, 1, '32', distRead, distWrite),
  // vgic_uaccess_read_pending / vgic_v3_uaccess_write_pending: the latch, written whole.
  ...sharedFamily<DistCtx>('GICD_ISPENDR', 0x0200, 1, '32',
    (c, off) => pendingWord(c.v0, vgicAddrToIntid(off - 0x0200, 1)),
    (c, off, value) => writePendingLatch(c.v0, vgicAddrToIntid(off - 0x0200, 1), value)),
  // The userspace ICPENDR is RAZ/WI (the latch is written through ISPENDR).
  ...sharedFamily<DistCtx>('GICD_ICPENDR', 0x0280, 1, '32', raz, wi),
  // vgic_uaccess_read_active; a write cannot make Xen's interrupts active or inactive (docs §4).
  ...sharedFamily<DistCtx>('GICD_ISACTIVER', 0x0300, 1, '32', (c, off) => activeWord(c.v0, vgicAddrToIntid(off - 0x0300, 1)), wi),
  ...sharedFamily<DistCtx>('GICD_ICACTIVER', 0x0380, 1, '32', (c, off) => activeWord(c.v0, vgicAddrToIntid(off - 0x0380, 1)), wi),
  // All 8 bits, as Xen keeps them (Q24).
  ...sharedFamily<DistCtx>('GICD_IPRIORITYR', 0x0400, 8, '8/32', distRead, distWrite),
  // GICv2's targets do not exist with ARE: RAZ/WI.
  ...sharedFamily<DistCtx>('GICD_ITARGETSR', 0x0800, 8, '8/32', raz, wi),
  ...sharedFamily<DistCtx>('GICD_ICFGR', 0x0c00, 2, '32', distRead, distWrite),
  ...sharedFamily<DistCtx>('GICD_IGRPMODR', 0x0d00, 1, '32', raz, wi),
  // Xen's affinity image and store (Q26), 32 bits at a time.
  ...sharedFamily<DistCtx>('GICD_IROUTER', 0x6000, 64, '32/64', distRead, distWrite),
  { name: 'GICD_IDREGS', offset: 0xffd0, len: 48, widths: '32', read: distRead, write: wi },
];

/**
 * vgic_v3_uaccess_write_pending: a set bit makes the interrupt pending (if it is not already),
 * a clear bit withdraws a pending state Xen still holds in its queues.
 */
function writePendingLatch(v: Vcpu, base: number, value: bigint): Uaccess {
  setPendingBits(v, base, value);
  clearPendingBits(v, base, ~value & 0xffffffffn);
  return UOK;
}

/** vgic_v3_dist_uaccess (B.4 GRP_DIST_REGS): a 32-bit access at `offset` of the distributor, after the device layer's checks. */
export function vgicV3DistUaccess(d: Domain, write: boolean, offset: number, value: bigint): Uaccess {
  assertStopped(d);
  const v0 = d.vcpus[0];
  if (v0 === undefined) throw new Error(`DIST_REGS access to d${d.id} without vCPU 0 (the caller must answer EINVAL)`);
  return vgicUaccess(VGIC_V3_DIST_REGISTERS, { d, v0 }, vgicNumIrqs(d), write, offset, value);
}

/**
 * The two DIST_REGS registers newer trees allow before CTRL_INIT (B.2), when there is no Xen
 * vGIC yet: GICD_IIDR reads Xen's constant, GICD_TYPER2 reads 0 and may only be rewritten
 * unchanged. Any other offset is the caller's EBUSY (not initialised), answered here too.
 */
export function vgicV3DistUaccessBeforeInit(write: boolean, offset: number, value: bigint): Uaccess {
  switch (offset) {
    case 0x0008: return write ? gicdIidrUaccessWrite(value) : uvalue(BigInt(GICV3_IIDR));
    case 0x000c: return write ? gicdTyper2UaccessWrite(value, false) : uvalue(0n);
    default: return uerr('EBUSY');
  }
}

// ----- the redistributors (REDIST_REGS) -----

function rdXen(v: Vcpu, off: number, write: boolean, value: bigint): bigint {
  return off < SZ_64K
    ? xenRowAccess(GICV3_RD_ROWS, V3_DEFAULTS, regCtx(v, 'vGICR'), off, 4, write, value)
    : xenRowAccess(GICV3_SGI_ROWS, V3_DEFAULTS, regCtx(v, 'vGICR: SGI'), off - SZ_64K, 4, write, value);
}
const rdRead = (v: Vcpu, off: number): bigint => rdXen(v, off, false, 0n);
const rdWrite = (v: Vcpu, off: number, value: bigint): Uaccess => {
  rdXen(v, off, true, value);
  return UOK;
};

const SGI = SZ_64K;

/**
 * GICR_PROPBASER / GICR_PENDBASER: the guest's write (merge, sanitise, frozen once LPIs are
 * enabled), except that writing back the half as it reads changes nothing. KVM's reset values
 * are already sanitised, so there a write-back is a no-op anyway; Xen's reset value 0 is not
 * (its inner cacheability would become RaWb), and a restore must not change what it restores.
 */
function baserWrite(v: Vcpu, off: number, value: bigint): Uaccess {
  if (rdRead(v, off) === value) return UOK;
  return rdWrite(v, off, value);
}

/** vgic_v3_rd_registers with Xen's state behind each row (B.4 GRP_REDIST_REGS); the vCPU is the frame's owner. */
export const VGIC_V3_RD_REGISTERS: readonly Region<Vcpu>[] = [
  // EnableLPIs, set once (Xen cannot clear it, §C.8); only with an ITS.
  { name: 'GICR_CTLR', offset: 0x0000, len: 4, widths: '32', read: rdRead, write: rdWrite },
  { name: 'GICR_IIDR', offset: 0x0004, len: 4, widths: '32', read: rdRead, write: wi },
  // Whatever the guest reads (Last, processor number, affinity); read-only from userspace.
  { name: 'GICR_TYPER', offset: 0x0008, len: 8, widths: '32/64', read: rdRead, write: wi },
  { name: 'GICR_STATUSR', offset: 0x0010, len: 4, widths: '32', read: rdRead, write: wi },
  { name: 'GICR_WAKER', offset: 0x0014, len: 4, widths: '32', read: rdRead, write: rdWrite },
  { name: 'GICR_PROPBASER', offset: 0x0070, len: 8, widths: '32/64', read: rdRead, write: baserWrite },
  { name: 'GICR_PENDBASER', offset: 0x0078, len: 8, widths: '32/64', read: rdRead, write: baserWrite },
  { name: 'GICR_INVLPIR', offset: 0x00a0, len: 8, widths: '32/64', read: rdRead, write: rdWrite },
  { name: 'GICR_INVALLR', offset: 0x00b0, len: 8, widths: '32/64', read: rdRead, write: rdWrite },
  { name: 'GICR_SYNCR', offset: 0x00c0, len: 4, widths: '32', read: rdRead, write: wi },
  { name: 'GICR_IDREGS', offset: 0xffd0, len: 48, widths: '32', read: rdRead, write: wi },
  { name: 'GICR_IGROUPR0', offset: SGI + 0x0080, len: 4, widths: '32', read: raz, write: wi },
  { name: 'GICR_ISENABLER0', offset: SGI + 0x0100, len: 4, widths: '32', read: rdRead, write: rdWrite },
  { name: 'GICR_ICENABLER0', offset: SGI + 0x0180, len: 4, widths: '32', read: rdRead, write: rdWrite },
  { name: 'GICR_ISPENDR0', offset: SGI + 0x0200, len: 4, widths: '32', read: (v) => pendingWord(v, 0), write: (v, _o, value) => writePendingLatch(v, 0, value) },
  { name: 'GICR_ICPENDR0', offset: SGI + 0x0280, len: 4, widths: '32', read: raz, write: wi },
  { name: 'GICR_ISACTIVER0', offset: SGI + 0x0300, len: 4, widths: '32', read: (v) => activeWord(v, 0), write: wi },
  { name: 'GICR_ICACTIVER0', offset: SGI + 0x0380, len: 4, widths: '32', read: (v) => activeWord(v, 0), write: wi },
  { name: 'GICR_IPRIORITYR0-7', offset: SGI + 0x0400, len: 32, widths: '8/32', read: rdRead, write: rdWrite },
  // ICFGR0 (SGIs) reads Xen's word and ignores writes (Q23); ICFGR1 is stored.
  { name: 'GICR_ICFGR0-1', offset: SGI + 0x0c00, len: 8, widths: '32', read: rdRead, write: rdWrite },
  { name: 'GICR_IGRPMODR0', offset: SGI + 0x0d00, len: 4, widths: '32', read: raz, write: wi },
  { name: 'GICR_NSACR', offset: SGI + 0x0e00, len: 4, widths: '32', read: raz, write: wi },
];

/** vgic_v3_redist_uaccess (B.4 GRP_REDIST_REGS): a 32-bit access at `offset` of v's 128 KiB frame. */
export function vgicV3RedistUaccess(v: Vcpu, write: boolean, offset: number, value: bigint): Uaccess {
  assertStopped(v.domain);
  return vgicUaccess(VGIC_V3_RD_REGISTERS, v, vgicNumIrqs(v.domain), write, offset, value);
}

// ----- HAS_ATTR -----

/**
 * vgic_v3_has_attr_regs, DIST_REGS / REDIST_REGS part (B.4 HAS_ATTR): 0 when a register is
 * there for an aligned 32-bit access, else ENXIO. `nrIrqs` is KVM's nr_spis + 32 at the time
 * (check_region refuses per-IRQ registers beyond it; 32 before NR_IRQS or INIT).
 */
export function vgicV3HasAttrRegs(kind: 'dist' | 'redist', offset: number, nrIrqs = 1024): 0 | Errno {
  return kind === 'dist'
    ? hasAttrRegs(VGIC_V3_DIST_REGISTERS, offset, nrIrqs)
    : hasAttrRegs(VGIC_V3_RD_REGISTERS, offset, nrIrqs);
}

// ----- LEVEL_INFO -----

/**
 * vgic_v3_line_level_info_uaccess (B.4 GRP_LEVEL_INFO): line levels of INTIDs intid..intid+31.
 * Xen keeps no line level (Q1, Q2: an assertion is an event, a level-low injection is
 * ignored), so a read answers 0 for every line, and a write of 1 asserts the line as a device
 * model would: the interrupt becomes pending (if it is not already; SPIs go to their rank's
 * target) and stays so until the guest takes it, with no level to drop. A 0 is a de-assertion,
 * which Xen ignores. SGIs, INTIDs beyond the domain's interrupts and pass-through SPIs (whose
 * line is the physical one) are RAZ/WI. The caller checked the info field; a vINTID that is
 * not a multiple of 32 is EINVAL here, as in KVM.
 */
export function vgicV3LineLevelInfoUaccess(v: Vcpu, write: boolean, intid: number, value: bigint): Uaccess {
  assertStopped(v.domain);
  if (intid % IRQS_PER_RANK !== 0) return uerr('EINVAL');
  if (!write) return uvalue(0n);
  const d = v.domain;
  const cpu = detachedPcpu(d.host);
  const owners = inflightOwners(d);
  for (let i = 0; i < IRQS_PER_RANK; i++) {
    const irq = intid + i;
    if (((value >> BigInt(i)) & 1n) === 0n || irq < NR_GIC_SGI || irq >= vgicNumIrqs(d)) continue;
    const p = irqToPending(v, irq)!;
    if (p.desc !== null || xenIrqPending(owners, p)) continue;
    vgicInjectIrq(cpu, d, irq < NR_LOCAL_IRQS ? v : null, irq, true);
  }
  return UOK;
}
