/**
 * KVM_DEV_TYPE_ARM_VGIC_V3's CPU_SYSREGS group (B.4, vgic-sys-reg-v3.c): the guest's ICC_*_EL1
 * registers of a vCPU that is not running, on the model's saved CPU interface (`v->arch.gic`:
 * priority mask, EOI mode, group-1 active priorities). Registers the model has no state for
 * read the value the model behaves as and accept (ignore) a write, unless KVM refuses it.
 */
import type { Vcpu } from '../xen/types.js';
import { MASK32, UOK, assertStopped, uerr, uvalue, type Errno, type Uaccess } from './uaccess-common.js';

/** KVM's sysreg attribute encoding (bits 15:0): Op0 15:14, Op1 13:11, CRn 10:7, CRm 6:3, Op2 2:0. */
export function sysregEncoding(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK */
export const SYSREG_INSTR_MASK = 0xffff;

export const ICC_PMR_EL1 = sysregEncoding(3, 0, 4, 6, 0);
export const ICC_BPR0_EL1 = sysregEncoding(3, 0, 12, 8, 3);
export const ICC_AP0R_EL1 = (n: number): number => sysregEncoding(3, 0, 12, 8, 4 + n);
export const ICC_AP1R_EL1 = (n: number): number => sysregEncoding(3, 0, 12, 9, n);
export const ICC_BPR1_EL1 = sysregEncoding(3, 0, 12, 12, 3);
export const ICC_CTLR_EL1 = sysregEncoding(3, 0, 12, 12, 4);
export const ICC_SRE_EL1 = sysregEncoding(3, 0, 12, 12, 5);
export const ICC_IGRPEN0_EL1 = sysregEncoding(3, 0, 12, 12, 6);
export const ICC_IGRPEN1_EL1 = sysregEncoding(3, 0, 12, 12, 7);

/** Priority bits of the model's virtual CPU interface: group priority is priority >> 3 (5 bits, §2.5). */
export const MODEL_PRI_BITS = 5;

/** ICC_CTLR_EL1 fields (CBPR, bit 0, has no state in the model). */
const CTLR_EOIMODE = 1n << 1n;
const CTLR_PRIBITS_SHIFT = 8n;
const CTLR_IDBITS_SHIFT = 11n;
const CTLR_SEIS = 1n << 14n;
const CTLR_A3V = 1n << 15n;

/** ICC_SRE_EL1 as KVM reports it for a GICv3 guest: SRE, DFB, DIB (the system-register interface, bypass disabled). */
export const ICC_SRE_VALUE = 0x7n;
/** ICC_BPR0/1_EL1 as the model's preemption behaves (group priority is priority bits 7:3). */
export const ICC_BPR0_VALUE = 2n;
export const ICC_BPR1_VALUE = 3n;

/** vgic_v3_max_apr_idx: the highest APnR index the priority bits use (0 for 5 bits). */
export function vgicV3MaxAprIdx(priBits: number): number {
  return priBits === 7 ? 3 : priBits === 6 ? 1 : 0;
}

/** IDbits of ICC_CTLR_EL1: 0 for 16-bit INTIDs, 1 for 24-bit (a domain whose ITS uses more than 16). */
function idBits(v: Vcpu): bigint {
  return v.domain.hasIts && v.domain.intidBits > 16 ? 1n : 0n;
}

type Access = (v: Vcpu, write: boolean, value: bigint) => Uaccess;

/** access_gic_ctlr: PRIbits, IDbits, SEIS and A3V must not exceed / must match the model's; EOImode is stored. */
const accessGicCtlr: Access = (v, write, value) => {
  if (!write) {
    return uvalue((BigInt(MODEL_PRI_BITS - 1) << CTLR_PRIBITS_SHIFT) | (idBits(v) << CTLR_IDBITS_SHIFT) | (v.saved.eoimode === 1 ? CTLR_EOIMODE : 0n));
  }
  if (((value >> CTLR_PRIBITS_SHIFT) & 7n) + 1n > BigInt(MODEL_PRI_BITS)) return uerr('EINVAL');
  if (((value >> CTLR_IDBITS_SHIFT) & 7n) > idBits(v)) return uerr('EINVAL');
  if ((value & CTLR_SEIS) !== 0n || (value & CTLR_A3V) !== 0n) return uerr('EINVAL');
  // KVM also narrows its priority bits to a smaller written PRIbits and stores CBPR: the model
  // holds neither (docs/vmm-registers.md §4).
  v.saved.eoimode = (value & CTLR_EOIMODE) !== 0n ? 1 : 0;
  return UOK;
};

/** access_gic_pmr: the 8-bit priority mask (the model's VMCR priority, stored 8 bits wide on a GICv3 host). */
const accessGicPmr: Access = (v, write, value) => {
  if (!write) return uvalue(BigInt(v.saved.pmr & 0xff));
  v.saved.pmr = v.domain.host.version === 'v2' ? Number(value & 0xf8n) : Number(value & 0xffn);
  return UOK;
};

/** A register the model has no state for: reads its constant, a write is accepted and changes nothing. */
function constant(c: bigint): Access {
  return (_v, write) => (write ? UOK : uvalue(c));
}

/** access_gic_aprn: APnR beyond vgic_v3_max_apr_idx is EINVAL (read 0); AP1R0 is the model's active priorities; group 0 is unused. */
function accessGicAprn(group: 0 | 1, idx: number): Access {
  return (v, write, value) => {
    if (idx > vgicV3MaxAprIdx(MODEL_PRI_BITS)) return uerr('EINVAL');
    if (group === 0) return write ? UOK : uvalue(0n);
    if (!write) return uvalue(BigInt(v.saved.apr));
    v.saved.apr = Number(value & MASK32);
    return UOK;
  };
}

/** access_gic_sre: a write must keep SRE set (EINVAL otherwise) and stores nothing. */
const accessGicSre: Access = (_v, write, value) => {
  if (!write) return uvalue(ICC_SRE_VALUE);
  return (value & 1n) === 0n ? uerr('EINVAL') : UOK;
};

/** gic_v3_icc_reg_descs: the ICC registers of the CPU_SYSREGS group, by encoding. */
export const GIC_V3_ICC_REG_DESCS: ReadonlyMap<number, { name: string; access: Access }> = new Map([
  [ICC_PMR_EL1, { name: 'ICC_PMR_EL1', access: accessGicPmr }],
  [ICC_BPR0_EL1, { name: 'ICC_BPR0_EL1', access: constant(ICC_BPR0_VALUE) }],
  ...[0, 1, 2, 3].map((n): [number, { name: string; access: Access }] => [ICC_AP0R_EL1(n), { name: `ICC_AP0R${n}_EL1`, access: accessGicAprn(0, n) }]),
  ...[0, 1, 2, 3].map((n): [number, { name: string; access: Access }] => [ICC_AP1R_EL1(n), { name: `ICC_AP1R${n}_EL1`, access: accessGicAprn(1, n) }]),
  // With CBPR 0 (the model's), BPR1 is its own register.
  [ICC_BPR1_EL1, { name: 'ICC_BPR1_EL1', access: constant(ICC_BPR1_VALUE) }],
  [ICC_CTLR_EL1, { name: 'ICC_CTLR_EL1', access: accessGicCtlr }],
  [ICC_SRE_EL1, { name: 'ICC_SRE_EL1', access: accessGicSre }],
  // Group 0 is never used for a GICv3 guest (its LRs carry group 1, §5.9); group 1 is always signalled.
  [ICC_IGRPEN0_EL1, { name: 'ICC_IGRPEN0_EL1', access: constant(0n) }],
  [ICC_IGRPEN1_EL1, { name: 'ICC_IGRPEN1_EL1', access: constant(1n) }],
]);

/** vgic_v3_has_cpu_sysregs_attr (B.4 HAS_ATTR, CPU_SYSREGS): 0 for a known ICC register, else ENXIO. */
export function vgicV3HasSysreg(sysreg: number): 0 | Errno {
  return GIC_V3_ICC_REG_DESCS.has(sysreg & SYSREG_INSTR_MASK) ? 0 : 'ENXIO';
}

/**
 * vgic_v3_cpu_sysregs_uaccess (B.4 GRP_CPU_SYSREGS): one 64-bit access of v's ICC register
 * `sysreg` (attribute bits 15:0), after the device layer's checks. Unknown: ENXIO; a value the
 * register refuses: EINVAL.
 */
export function vgicV3CpuSysregsUaccess(v: Vcpu, write: boolean, sysreg: number, value: bigint): Uaccess {
  assertStopped(v.domain);
  const r = GIC_V3_ICC_REG_DESCS.get(sysreg & SYSREG_INSTR_MASK);
  if (r === undefined) return uerr('ENXIO');
  return r.access(v, write, value);
}
