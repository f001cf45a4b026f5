/**
 * KVM_DEV_TYPE_ARM_VGIC_ITS's ITS_REGS group (B.8, vgic-its.c's its_registers and
 * vgic_its_attr_regs_access) on Xen's virtual ITS. Payloads are 64 bits; 64-bit registers
 * are accessed whole.
 */
import { Vcpu, type Domain } from '../xen/types.js';
import {
  GITS_IIDR_VALUE, GITS_ROWS, gitsTyper, itsCmdBufferSize, itsCmdOffset, vgicItsHandleCmds, type VirtIts,
} from '../xen/vgic-v3-its.js';
import type { FrameDefaults, RegCtx } from '../xen/vreg.js';
import {
  MASK32, UOK, assertStopped, detachedPcpu, uerr, uvalue, vgicFindMmioRegion, xenRowAccess, type Errno, type Region,
  type Uaccess,
} from './uaccess-common.js';

const ITS_DEFAULTS: FrameDefaults = { read: 'abort', write: 'abort' };

export const GITS_CTLR = 0x0000;
export const GITS_IIDR = 0x0004;
export const GITS_TYPER = 0x0008;
export const GITS_CBASER = 0x0080;
export const GITS_CWRITER = 0x0088;
export const GITS_CREADR = 0x0090;
export const GITS_BASER = 0x0100;
export const GITS_IDREGS_BASE = 0xffd0;
/** GITS_PIDR4, where the 32-bit ID registers start for the alignment rule. */
export const GITS_PIDR4 = 0xffd0;

/**
 * The context Xen's ITS rows get: they find the ITS through `current`'s domain. A domain
 * built by CTRL_INIT with no vCPU still has an ITS, so a stand-in vCPU (never added to the
 * domain, never run) carries the domain then.
 */
function itsCtx(its: VirtIts): RegCtx {
  const d: Domain = its.d;
  const v = d.vcpus[0] ?? new Vcpu(d, 0, d.host.nrLrs, 1);
  return { cpu: detachedPcpu(d.host), current: v, owner: v, frame: 'vGITS (userspace)' };
}

function itsXen(its: VirtIts, off: number, size: 4 | 8, write: boolean, value: bigint): bigint {
  return xenRowAccess(GITS_ROWS, ITS_DEFAULTS, itsCtx(its), off, size, write, value);
}

/** Bits 15:12 of GITS_IIDR select the save/restore ABI; KVM has one (revision 0). */
export const NR_ITS_ABIS = 1n;

/**
 * vgic_mmio_write_its_ctlr from userspace: the guest's write (Enable stands only with CBASER
 * and both BASERs valid), then, as KVM does, the queue is processed if the ITS is enabled:
 * commands a restore left between CREADR and CWRITER run now, the way Xen runs them on a
 * guest CWRITER write (vgic_its_handle_cmds).
 */
function writeCtlr(its: VirtIts, value: bigint): Uaccess {
  itsXen(its, GITS_CTLR, 4, true, value & MASK32);
  if (its.enabled) vgicItsHandleCmds(detachedPcpu(its.d.host), its);
  return UOK;
}

/** vgic_mmio_uaccess_write_its_iidr: the revision names an ABI (only 0 exists: EINVAL otherwise); Xen has nothing to change. */
function writeIidr(value: bigint): Uaccess {
  return ((value >> 12n) & 0xfn) >= NR_ITS_ABIS ? uerr('EINVAL') : UOK;
}

/** vgic_mmio_uaccess_write_its_creadr: EBUSY while enabled, EINVAL beyond the queue, else CREADR = the offset. */
function writeCreadr(its: VirtIts, value: bigint): Uaccess {
  if (its.enabled) return uerr('EBUSY');
  const offset = itsCmdOffset(value);
  if (offset >= itsCmdBufferSize(its.cbaser)) return uerr('EINVAL');
  its.creadr = offset;
  return UOK;
}

interface ItsRegion extends Region<VirtIts> {
  /** 8 when the region takes 64-bit accesses (KVM then accesses it whole). */
  readonly size: 4 | 8;
}

const xenRead = (size: 4 | 8) => (its: VirtIts, off: number): bigint => itsXen(its, off, size, false, 0n);
const xenWrite = (size: 4 | 8) => (its: VirtIts, off: number, value: bigint): Uaccess => {
  itsXen(its, off, size, true, value);
  return UOK;
};

/** its_registers with Xen's state behind each row (B.8 GRP_ITS_REGS). */
export const ITS_REGISTERS: readonly ItsRegion[] = [
  { name: 'GITS_CTLR', offset: GITS_CTLR, len: 4, size: 4, widths: '32', read: xenRead(4), write: (its, _o, v) => writeCtlr(its, v) },
  { name: 'GITS_IIDR', offset: GITS_IIDR, len: 4, size: 4, widths: '32', read: () => BigInt(GITS_IIDR_VALUE), write: (_its, _o, v) => writeIidr(v) },
  // Read-only (Xen's guest write of the whole register would abort: ignored here).
  { name: 'GITS_TYPER', offset: GITS_TYPER, len: 8, size: 8, widths: '32/64', read: (its) => gitsTyper(its), write: () => UOK },
  { name: 'GITS_CBASER', offset: GITS_CBASER, len: 8, size: 8, widths: '32/64', read: xenRead(8), write: xenWrite(8) },
  { name: 'GITS_CWRITER', offset: GITS_CWRITER, len: 8, size: 8, widths: '32/64', read: xenRead(8), write: xenWrite(8) },
  { name: 'GITS_CREADR', offset: GITS_CREADR, len: 8, size: 8, widths: '32/64', read: xenRead(8), write: (its, _o, v) => writeCreadr(its, v) },
  // BASER0 (devices) and BASER1 (collections) as Xen forces and sanitises them; BASER2-7 RAZ/WI.
  { name: 'GITS_BASER0-7', offset: GITS_BASER, len: 0x40, size: 8, widths: '32/64', read: xenRead(8), write: xenWrite(8) },
  { name: 'GITS_IDREGS', offset: GITS_IDREGS_BASE, len: 0x30, size: 4, widths: '32', read: xenRead(4), write: () => UOK },
];

/**
 * The alignment rule of vgic_its_attr_regs_access / vgic_its_has_attr_regs: CTLR, IIDR and
 * the ID registers (offset < GITS_TYPER or >= GITS_PIDR4) need 4-byte alignment, everything
 * else 8. KVM checks it first, before the vCPU locks (EBUSY) and the base check (ENXIO): the
 * device layer's ITS_REGS rows apply it in that place (src/vmm/kvm-device.ts), and the access
 * below applies it again so that it is safe on its own (the save/restore walk calls it
 * directly). `offset` is the whole attribute (a bigint: beyond 32 bits it is an ID-register
 * offset for this rule, as in KVM).
 */
export function vgicItsRegAlignment(offset: number | bigint): 0 | 'EINVAL' {
  const off = BigInt(offset);
  const align = off < BigInt(GITS_TYPER) || off >= BigInt(GITS_PIDR4) ? 4n : 8n;
  return off % align === 0n ? 0 : 'EINVAL';
}

/**
 * vgic_its_attr_regs_access (B.8 GRP_ITS_REGS) after the device layer's checks (EFAULT,
 * alignment, EBUSY, ITS base unset -> ENXIO): misaligned -> EINVAL, no register -> ENXIO, else
 * the access, with the region's width (a 32-bit register takes the low half of the payload).
 */
export function vgicItsAttrRegsAccess(its: VirtIts, write: boolean, offset: number, value: bigint): Uaccess {
  assertStopped(its.d);
  if (vgicItsRegAlignment(offset) !== 0) return uerr('EINVAL');
  const r = vgicFindMmioRegion(ITS_REGISTERS, offset) as ItsRegion | null;
  if (r === null) return uerr('ENXIO');
  const v = r.size === 4 ? value & MASK32 : value;
  if (write) return r.write(its, offset, v);
  return uvalue(r.read(its, offset));
}

/** vgic_its_has_attr_regs (B.8 HAS_ATTR, ITS_REGS): misaligned -> EINVAL, no register -> ENXIO, else 0 (no base check). */
export function vgicItsHasAttrRegs(offset: number | bigint): 0 | Errno {
  if (vgicItsRegAlignment(offset) !== 0) return 'EINVAL';
  return vgicFindMmioRegion(ITS_REGISTERS, Number(offset)) === null ? 'ENXIO' : 0;
}
