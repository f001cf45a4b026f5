/**
 * KVM_DEV_TYPE_ARM_VGIC_V2's register groups on Xen's vGICv2: DIST_REGS and CPU_REGS (B.5,
 * vgic-mmio-v2.c's register maps and userspace handlers) and their HAS_ATTR lookups. The vCPU
 * index of the attribute selects the banked registers of INTIDs 0-31 (and, for CPU_REGS, the
 * CPU interface); the CPU interface's state is the vCPU's saved one (`v->arch.gic`).
 */
import type { Vcpu } from '../xen/types.js';
import { GICV2_DIST_ROWS, GICV2_IIDR } from '../xen/vgic-v2.js';
import { vgicNumIrqs } from '../xen/vgic.js';
import type { FrameDefaults } from '../xen/vreg.js';
import {
  MASK32, UOK, activeWord, assertStopped, clearPendingBits, hasAttrRegs, pendingWord, raz, regCtx, setPendingBits,
  uerr, vgicAddrToIntid, vgicUaccess, wi, xenRowAccess, type Errno, type Region, type Uaccess,
} from './uaccess-common.js';

/** Xen's GICv2 distributor aborts unknown offsets (§4.1); a Xen abort reads 0 here. */
const V2_DEFAULTS: FrameDefaults = { read: 'abort', write: 'abort' };

function distXen(v: Vcpu, off: number, write: boolean, value: bigint): bigint {
  return xenRowAccess(GICV2_DIST_ROWS, V2_DEFAULTS, regCtx(v, 'vGICD'), off, 4, write, value);
}
const distRead = (v: Vcpu, off: number): bigint => distXen(v, off, false, 0n);
const distWrite = (v: Vcpu, off: number, value: bigint): Uaccess => {
  distXen(v, off, true, value);
  return UOK;
};

/** vgic_mmio_uaccess_write_v2_misc, GICD_IIDR: only the value it reads (Xen's constant) may be written. */
export function gicdIidrV2UaccessWrite(value: bigint): Uaccess {
  return value === BigInt(GICV2_IIDR) ? UOK : uerr('EINVAL');
}

/**
 * vgic_mmio_write_sgir from userspace: the SGI is made pending, from source vCPU v, on the
 * target list (filter 0), all vCPUs but v (1), or v (2); filter 3 does nothing. Xen's own
 * GICD_SGIR path decides "self" and "others" by `current`, which a host-side access does not
 * have, so the targets are chosen here and each is made pending as ISPENDR0 does.
 */
export function vgicV2UaccessWriteSgir(v: Vcpu, value: bigint): Uaccess {
  const sgi = Number(value & 0xfn);
  const mode = Number((value >> 24n) & 3n);
  let targets = Number((value >> 16n) & 0xffn);
  if (mode === 3) return UOK;
  if (mode === 1) targets = 0xff & ~(1 << v.id);
  if (mode === 2) targets = 1 << v.id;
  for (const t of v.domain.vcpus) if (t.id < 8 && ((targets >> t.id) & 1) === 1) setPendingBits(t, 0, 1n << BigInt(sgi));
  return UOK;
}

/**
 * GICD_SPENDSGIR / GICD_CPENDSGIR (vgic_mmio_read_sgipend, ..._write_sgipends/c): one byte per
 * SGI of the word, one bit per source vCPU. Xen keeps no SGI source (a guest's IAR reads
 * CPUID 0, §4.5): a pending SGI reads as pending from vCPU 0 (0x01), a set byte makes it
 * pending, a set byte in CPENDSGIR withdraws it.
 */
function sgipendRead(v: Vcpu, off: number): bigint {
  const first = off & 0xc;
  const pending = pendingWord(v, 0);
  let w = 0n;
  for (let j = 0; j < 4; j++) if (((pending >> BigInt(first + j)) & 1n) !== 0n) w |= 1n << BigInt(8 * j);
  return w;
}

function sgipendBits(off: number, value: bigint): bigint {
  const first = off & 0xc;
  let bits = 0n;
  for (let j = 0; j < 4; j++) if (((value >> BigInt(8 * j)) & 0xffn) !== 0n) bits |= 1n << BigInt(first + j);
  return bits;
}

/** vgic_v2_dist_registers with Xen's state behind each row (B.5 GRP_DIST_REGS); the vCPU banks INTIDs 0-31. */
export const VGIC_V2_DIST_REGISTERS: readonly Region<Vcpu>[] = [
  // Enable (bit 0), as the guest writes it.
  { name: 'GICD_CTLR', offset: 0x000, len: 4, widths: '32', read: distRead, write: distWrite },
  { name: 'GICD_TYPER', offset: 0x004, len: 4, widths: '32', read: distRead, write: wi },
  { name: 'GICD_IIDR', offset: 0x008, len: 4, widths: '32', read: distRead, write: (_v, _o, value) => gicdIidrV2UaccessWrite(value) },
  // Xen has no interrupt groups: RAZ/WI.
  { name: 'GICD_IGROUPR', offset: 0x080, len: 0x80, bpi: 1, widths: '32', read: raz, write: wi },
  { name: 'GICD_ISENABLER', offset: 0x100, len: 0x80, bpi: 1, widths: '32', read: distRead, write: distWrite },
  { name: 'GICD_ICENABLER', offset: 0x180, len: 0x80, bpi: 1, widths: '32', read: distRead, write: distWrite },
  // vgic_uaccess_write_spending / _cpending: set and clear the pending state.
  {
    name: 'GICD_ISPENDR', offset: 0x200, len: 0x80, bpi: 1, widths: '32',
    read: (v, off) => pendingWord(v, vgicAddrToIntid(off - 0x200, 1)),
    write: (v, off, value) => {
      setPendingBits(v, vgicAddrToIntid(off - 0x200, 1), value);
      return UOK;
    },
  },
  {
    name: 'GICD_ICPENDR', offset: 0x280, len: 0x80, bpi: 1, widths: '32',
    read: (v, off) => pendingWord(v, vgicAddrToIntid(off - 0x280, 1)),
    write: (v, off, value) => {
      clearPendingBits(v, vgicAddrToIntid(off - 0x280, 1), value);
      return UOK;
    },
  },
  // The active state lives in LRs only: read from the saved LR file, writes ignored (docs §4).
  { name: 'GICD_ISACTIVER', offset: 0x300, len: 0x80, bpi: 1, widths: '32', read: (v, off) => activeWord(v, vgicAddrToIntid(off - 0x300, 1)), write: wi },
  { name: 'GICD_ICACTIVER', offset: 0x380, len: 0x80, bpi: 1, widths: '32', read: (v, off) => activeWord(v, vgicAddrToIntid(off - 0x380, 1)), write: wi },
  { name: 'GICD_IPRIORITYR', offset: 0x400, len: 0x400, bpi: 8, widths: '8/32', read: distRead, write: distWrite },
  // ITARGETSR0-7 read the vCPU's own bit and ignore writes; the SPIs' as Xen stores them (Q25).
  { name: 'GICD_ITARGETSR', offset: 0x800, len: 0x400, bpi: 8, widths: '8/32', read: distRead, write: distWrite },
  // ICFGR0-1 read 0 and ignore writes (Q23); the SPIs' are stored as written (Q4).
  { name: 'GICD_ICFGR', offset: 0xc00, len: 0x100, bpi: 2, widths: '32', read: distRead, write: distWrite },
  { name: 'GICD_SGIR', offset: 0xf00, len: 4, widths: '32', read: distRead, write: (v, _o, value) => vgicV2UaccessWriteSgir(v, value) },
  {
    name: 'GICD_CPENDSGIR', offset: 0xf10, len: 16, widths: '8/32', read: sgipendRead,
    write: (v, off, value) => {
      clearPendingBits(v, 0, sgipendBits(off, value));
      return UOK;
    },
  },
  {
    name: 'GICD_SPENDSGIR', offset: 0xf20, len: 16, widths: '8/32', read: sgipendRead,
    write: (v, off, value) => {
      setPendingBits(v, 0, sgipendBits(off, value));
      return UOK;
    },
  },
];

/**
 * vgic_v2_dist_uaccess (B.5 GRP_DIST_REGS): a 32-bit access at `offset` of the distributor on
 * behalf of vCPU v (the attribute's vCPU index: it banks INTIDs 0-31). The design's signature
 * named the domain; KVM's banking needs the vCPU (v.domain is the domain).
 */
export function vgicV2DistUaccess(v: Vcpu, write: boolean, offset: number, value: bigint): Uaccess {
  assertStopped(v.domain);
  return vgicUaccess(VGIC_V2_DIST_REGISTERS, v, vgicNumIrqs(v.domain), write, offset, value);
}

// ----- the CPU interface (CPU_REGS) -----

/** GICC_CTLR bits the model holds: EOImodeNS (bit 9); EnableGrp0 (bit 0) reads 1 (v2 LRs carry group 0, always delivered). */
export const GICC_CTLR_ENABLE_GRP0 = 1n;
export const GICC_CTLR_EOIMODE_NS = 1n << 9n;
/** GICC_BPR / GICC_ABPR as the model's preemption behaves: group priority is priority bits 7:3. */
export const GICC_BPR_VALUE = 2n;
export const GICC_ABPR_VALUE = 3n;
/** GICC_IIDR: architecture version 2, implementer ARM; Xen emulates no GICC (the hardware GICV answers). */
export const GICC_IIDR_VALUE = (2n << 16n) | 0x43bn;

/** vgic_mmio_read_vcpuif / vgic_mmio_write_vcpuif, vgic_mmio_read_apr / _write_apr: the v2 CPU interface registers. */
export const VGIC_V2_CPU_REGISTERS: readonly Region<Vcpu>[] = [
  {
    name: 'GICC_CTLR', offset: 0x00, len: 4, widths: '32',
    read: (v) => GICC_CTLR_ENABLE_GRP0 | (v.saved.eoimode === 1 ? GICC_CTLR_EOIMODE_NS : 0n),
    write: (v, _o, value) => {
      v.saved.eoimode = (value & GICC_CTLR_EOIMODE_NS) !== 0n ? 1 : 0;
      return UOK;
    },
  },
  // KVM's ABI: VMPriMask, the upper five priority bits, in bits 4:0.
  {
    name: 'GICC_PMR', offset: 0x04, len: 4, widths: '32',
    read: (v) => BigInt((v.saved.pmr & 0xf8) >> 3),
    write: (v, _o, value) => {
      v.saved.pmr = Number((value << 3n) & 0xf8n);
      return UOK;
    },
  },
  { name: 'GICC_BPR', offset: 0x08, len: 4, widths: '32', read: () => GICC_BPR_VALUE, write: wi },
  { name: 'GICC_ABPR', offset: 0x1c, len: 4, widths: '32', read: () => GICC_ABPR_VALUE, write: wi },
  // APR0 is the model's active-priority word; APR1-3 do not exist with 5 priority bits (RAZ/WI).
  {
    name: 'GICC_APR0-3', offset: 0xd0, len: 16, widths: '32',
    read: (v, off) => (off === 0xd0 ? BigInt(v.saved.apr) : 0n),
    write: (v, off, value) => {
      if (off === 0xd0) v.saved.apr = Number(value & MASK32);
      return UOK;
    },
  },
  { name: 'GICC_IIDR', offset: 0xfc, len: 4, widths: '32', read: () => GICC_IIDR_VALUE, write: wi },
];

/** vgic_v2_cpuif_uaccess (B.5 GRP_CPU_REGS): a 32-bit access at `offset` of v's CPU interface (its saved state). */
export function vgicV2CpuifUaccess(v: Vcpu, write: boolean, offset: number, value: bigint): Uaccess {
  assertStopped(v.domain);
  return vgicUaccess(VGIC_V2_CPU_REGISTERS, v, vgicNumIrqs(v.domain), write, offset, value);
}

/**
 * vgic_v2_has_attr_regs (B.5 HAS_ATTR): 0 when a register is there for an aligned 32-bit
 * access, else ENXIO. `nrIrqs`: KVM's nr_spis + 32 at the time (see vgicV3HasAttrRegs).
 */
export function vgicV2HasAttrRegs(kind: 'dist' | 'cpu', offset: number, nrIrqs = 1024): 0 | Errno {
  return kind === 'dist'
    ? hasAttrRegs(VGIC_V2_DIST_REGISTERS, offset, nrIrqs)
    : hasAttrRegs(VGIC_V2_CPU_REGISTERS, offset, nrIrqs);
}

