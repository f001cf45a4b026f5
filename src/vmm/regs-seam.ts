/**
 * The effect functions of the register groups (DIST_REGS, REDIST_REGS, CPU_REGS, CPU_SYSREGS,
 * LEVEL_INFO, ITS_REGS) that the group tables of src/vmm/kvm-device.ts call once KVM's own checks
 * passed. Their real bodies live in the uaccess modules (src/vmm/uaccess-*.ts); until those are
 * wired in here, every access answers ENXIO ("no register there"), except a read of GICR_TYPER,
 * which reads what the guest reads (the Last bit of KVM B.6 included).
 */
import { gicrTyper } from '../xen/vgic-v3.js';
import type { Domain, Vcpu } from '../xen/types.js';
import type { VirtIts } from '../xen/vgic-v3-its.js';
import type { Errno, Uaccess } from './types.js';

const NO_REGISTER: Uaccess = Object.freeze({ errno: 'ENXIO' as const });

/** GICR_TYPER's offset in the RD_base page. */
const GICR_TYPER = 0x8;

export function vgicV3DistUaccess(_d: Domain, _write: boolean, _offset: number, _value: bigint): Uaccess {
  return NO_REGISTER;
}

export function vgicV3RedistUaccess(v: Vcpu, write: boolean, offset: number, _value: bigint): Uaccess {
  // GICR_TYPER is 64 bits, accessed as two 32-bit halves; userspace cannot change it.
  if (offset === GICR_TYPER || offset === GICR_TYPER + 4) {
    if (write) return { value: 0n };
    const typer = gicrTyper(v);
    return { value: offset === GICR_TYPER ? typer & 0xffffffffn : typer >> 32n };
  }
  return NO_REGISTER;
}

export function vgicV2DistUaccess(_d: Domain, _write: boolean, _offset: number, _value: bigint): Uaccess {
  return NO_REGISTER;
}

export function vgicV2CpuifUaccess(_v: Vcpu, _write: boolean, _offset: number, _value: bigint): Uaccess {
  return NO_REGISTER;
}

export function vgicV3CpuSysregsUaccess(_v: Vcpu, _write: boolean, _sysreg: number, _value: bigint): Uaccess {
  return NO_REGISTER;
}

export function vgicV3LineLevelInfoUaccess(_v: Vcpu, _write: boolean, _intid: number, _value: bigint): Uaccess {
  return NO_REGISTER;
}

export function vgicItsAttrRegsAccess(_its: VirtIts, _write: boolean, _offset: number, _value: bigint): Uaccess {
  return NO_REGISTER;
}

/** HAS_ATTR's region lookups: 0 when a register is there, else the errno. */
export function vgicV3HasAttrRegs(kind: 'dist' | 'redist', offset: number): 0 | Errno {
  if (offset % 4 !== 0) return 'ENXIO';
  return kind === 'redist' && (offset === GICR_TYPER || offset === GICR_TYPER + 4) ? 0 : 'ENXIO';
}

export function vgicV2HasAttrRegs(_kind: 'dist' | 'cpu', _offset: number): 0 | Errno {
  return 'ENXIO';
}

export function vgicV3HasSysreg(_sysreg: number): 0 | Errno {
  return 'ENXIO';
}

export function vgicItsHasAttrRegs(_offset: number): 0 | Errno {
  return 'ENXIO';
}
