/**
 * KVM_{SET,GET,HAS}_DEVICE_ATTR on the vGIC devices (vgic-kvm-device.c, vgic-its.c; KVM B.4,
 * B.5, B.8) as data: one row per (device, group, attribute, call) with KVM's refusals in KVM's
 * order, one rule per line next to its reference item, and the effect once they pass. A call no
 * row takes is ENXIO (KVM's answer for an unknown group or attribute).
 *
 * The register groups' rows do KVM's own checks (vCPU lookup, bad pointer, busy, not
 * initialised, LEVEL_INFO's fields) and then call the effect functions of src/vmm/uaccess-*.ts
 * (docs/vmm-registers.md), which act on the Xen state.
 */
import { mutated } from '../xen/mutants.js';
import { vcpuidToVaffinity } from '../xen/vgic-v3.js';
import type { Vcpu } from '../xen/types.js';
import { vgicItsCtrl, vgicItsSetAddr } from './its-device.js';
import {
  vgicCheckIorange, vgicV3RdistOverlap, vgicV3RdistRegionFromIndex, vgicV3SetRedistBase,
} from './rdist.js';
import { vgicItsAttrRegsAccess, vgicItsHasAttrRegs, vgicItsRegAlignment } from './uaccess-its.js';
import { vgicV3CpuSysregsUaccess, vgicV3HasSysreg } from './uaccess-sysreg.js';
import { vgicV2CpuifUaccess, vgicV2DistUaccess, vgicV2HasAttrRegs } from './uaccess-v2.js';
import {
  vgicV3DistUaccess, vgicV3DistUaccessBeforeInit, vgicV3HasAttrRegs, vgicV3LineLevelInfoUaccess, vgicV3RedistUaccess,
} from './uaccess-v3.js';
import {
  GROUPS, KVM_DEV_ARM_VGIC_CPUID_MASK, KVM_DEV_ARM_VGIC_CPUID_SHIFT, KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK, KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK, KVM_DEV_ARM_VGIC_OFFSET_MASK,
  KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK, KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT,
  KVM_VGIC_ITS_ADDR_TYPE, KVM_VGIC_V2_ADDR_TYPE_CPU, KVM_VGIC_V2_ADDR_TYPE_DIST, KVM_VGIC_V2_CPU_SIZE,
  KVM_VGIC_V2_DIST_SIZE, KVM_VGIC_V3_ADDR_TYPE_DIST, KVM_VGIC_V3_ADDR_TYPE_REDIST, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
  KVM_VGIC_V3_DIST_SIZE, KVM_VGIC_V3_RDIST_BASE_MASK, KVM_VGIC_V3_RDIST_COUNT_SHIFT, KVM_VGIC_V3_RDIST_FLAGS_SHIFT,
  KVM_VGIC_V3_RDIST_INDEX_MASK, SZ_4K, SZ_64K, VGIC_MAX_RESERVED, VGIC_NR_PRIVATE_IRQS, VGIC_NR_SGIS,
  type DeviceKind, type Errno, type KvmDevice, type KvmVcpu, type KvmVm, type Uaccess,
} from './types.js';
import { anyVcpuRunning, vgicInit } from './vgic-init.js';

export type Call = 'set' | 'get' | 'has';

/** One KVM_{SET,GET,HAS}_DEVICE_ATTR call. `value`: the payload (null = a bad user pointer). */
export interface AttrCall {
  readonly vm: KvmVm;
  readonly dev: KvmDevice;
  readonly call: Call;
  readonly group: number;
  readonly attr: bigint;
  readonly value: bigint | null;
}

/** What a call answers: success (with the value a get returns) or an errno. */
export type Answer = { ok: true; value?: bigint } | { errno: Errno };

const OK: Answer = Object.freeze({ ok: true as const });
const answer = (r: Errno | 0): Answer => (r === 0 ? OK : { errno: r });
const fromUaccess = (c: AttrCall, u: Uaccess): Answer => ('errno' in u ? u : c.call === 'get' ? { ok: true, value: u.value } : OK);

/** One refusal: its errno, when it applies, and the reference item it comes from. */
type Rule = readonly [Errno, (c: AttrCall) => boolean, string];

/** What a row reads from the payload: nothing, 32 or 64 bits (a wider value is a trace error). */
export type Payload = 'none' | 'u32' | 'u64';

export interface Row {
  /** `gic` is either vGIC model's device (V2 or V3); the model-specific rows say so with a rule. */
  readonly dev: 'v2' | 'v3' | 'gic' | 'its';
  readonly group: number;
  /** The attribute, or `other`: every attribute no row of this group and call names. */
  readonly attr: bigint | 'other';
  readonly call: Call;
  readonly payload: Payload;
  readonly rules: readonly Rule[];
  readonly effect: (c: AttrCall) => Answer;
}

// ----- the predicates the rules share -----

const badPointer = (c: AttrCall): boolean => c.value === null;
const val = (c: AttrCall): bigint => c.value!;
const notModel = (model: 'v2' | 'v3') => (c: AttrCall): boolean => c.vm.model !== model;
const busy = (c: AttrCall): boolean => anyVcpuRunning(c.vm);
const notInitialized = (c: AttrCall): boolean => !c.vm.initialized;
const ALL_ONES = (1n << 64n) - 1n;

/** The MPIDR affinity KVM gives a vCPU, packed Aff3.Aff2.Aff1.Aff0 as the attribute carries it. */
export function packedMpidr(id: number): bigint {
  return vcpuidToVaffinity(id & 0xfff) | (BigInt((id >> 12) & 0xff) << 16n);
}

/** kvm_mpidr_to_vcpu: the vCPU whose affinity is bits 63:32 of the attribute. */
export function vcpuByMpidr(vm: KvmVm, attr: bigint): KvmVcpu | undefined {
  const mpidr = attr >> KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT;
  return vm.vcpus.find((v) => packedMpidr(v.id) === mpidr);
}

/** vgic_v3_parse_attr: DIST_REGS use the first vCPU (kvm_get_vcpu(kvm, 0)); the others the MPIDR in the attribute. */
function v3RegVcpu(c: AttrCall): KvmVcpu | undefined {
  return c.group === GROUPS.DIST_REGS ? c.vm.vcpus[0] : vcpuByMpidr(c.vm, c.attr);
}

/** vgic_v2_parse_attr: the vCPU of index bits 39:32 (creation order). */
function v2RegVcpu(c: AttrCall): KvmVcpu | undefined {
  return c.vm.vcpus[Number((c.attr & KVM_DEV_ARM_VGIC_CPUID_MASK) >> KVM_DEV_ARM_VGIC_CPUID_SHIFT)];
}

/** The Xen vCPU behind a KVM vCPU (the Xen domain numbers them by id, built at CTRL_INIT). */
function xenVcpu(c: AttrCall, v: KvmVcpu | undefined): Vcpu {
  return c.vm.domain.vcpus[v!.id]!;
}

const offset = (c: AttrCall): number => Number(c.attr & KVM_DEV_ARM_VGIC_OFFSET_MASK);
const levelInfo = (c: AttrCall): bigint => (c.attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK) >> 10n;
/** GICD_IIDR and GICD_TYPER2: DIST_REGS allowed before INIT (2025+ trees). */
const preInitDistReg = (c: AttrCall): boolean => c.group === GROUPS.DIST_REGS && (offset(c) === 0x8 || offset(c) === 0xc);

// ----- the effects -----

/** kvm_vgic_addr, set of a single frame: vgic_check_iorange, then the base is stored. */
function setFrame(which: 'distBase' | 'cpuBase', align: bigint, size: bigint) {
  return (c: AttrCall): Answer => {
    const r = vgicCheckIorange(c.vm, c.vm[which], val(c), align, size);
    if (r === 0 && which === 'distBase' && mutated(c.vm.domain.host, 'dist-overlap-at-set') && vgicV3RdistOverlap(c.vm, val(c), size)) return { errno: 'EINVAL' };
    if (r === 0) c.vm[which] = val(c);
    return answer(r);
  };
}

const getFrame = (which: 'distBase' | 'cpuBase') => (c: AttrCall): Answer => ({ ok: true, value: c.vm[which] ?? ALL_ONES });

/** The REDIST_REGION payload's fields (KVM B.1). */
function regionFields(v: bigint): { index: number; base: bigint; count: number; flags: number } {
  return {
    index: Number(v & KVM_VGIC_V3_RDIST_INDEX_MASK),
    base: v & KVM_VGIC_V3_RDIST_BASE_MASK,
    count: Number(v >> KVM_VGIC_V3_RDIST_COUNT_SHIFT),
    flags: Number((v >> KVM_VGIC_V3_RDIST_FLAGS_SHIFT) & 0xfn),
  };
}

function getRedistRegion(c: AttrCall): Answer {
  const index = regionFields(val(c)).index;
  const r = vgicV3RdistRegionFromIndex(c.vm, index);
  if (r === null) return { errno: 'ENOENT' };
  return { ok: true, value: BigInt(index) | r.base | (BigInt(r.count) << KVM_VGIC_V3_RDIST_COUNT_SHIFT) };
}

/** A register group's access after KVM's checks, on the Xen state (src/vmm/uaccess-v3.ts, uaccess-sysreg.ts). */
function v3Regs(c: AttrCall): Answer {
  const write = c.call === 'set';
  const value = c.value ?? 0n;
  // GICD_IIDR and GICD_TYPER2 before CTRL_INIT (the only accesses R_NOT_INIT lets through): no Xen vGIC yet.
  if (!c.vm.initialized) return fromUaccess(c, vgicV3DistUaccessBeforeInit(write, offset(c), value));
  switch (c.group) {
    case GROUPS.DIST_REGS: return fromUaccess(c, vgicV3DistUaccess(c.vm.domain, write, offset(c), value));
    case GROUPS.REDIST_REGS: return fromUaccess(c, vgicV3RedistUaccess(xenVcpu(c, v3RegVcpu(c)), write, offset(c), value));
    case GROUPS.CPU_SYSREGS: return fromUaccess(c, vgicV3CpuSysregsUaccess(xenVcpu(c, v3RegVcpu(c)), write, Number(c.attr & KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK), value));
    default: return fromUaccess(c, vgicV3LineLevelInfoUaccess(xenVcpu(c, v3RegVcpu(c)), write, Number(c.attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK), value));
  }
}

/** KVM's interrupt count for check_region: nr_spis + 32 (32 while NR_IRQS is unset and INIT has not run). */
const kvmNrIrqs = (c: AttrCall): number => c.vm.nrSpis + VGIC_NR_PRIVATE_IRQS;

/** vgic_v2_attr_regs_access after the checks: the lazy vgic_init, then the access. */
function v2Regs(c: AttrCall): Answer {
  const init = vgicInit(c.vm);
  if (init !== 0) return { errno: init };
  const write = c.call === 'set';
  const value = c.value ?? 0n;
  const v = xenVcpu(c, v2RegVcpu(c));
  return c.group === GROUPS.CPU_REGS
    ? fromUaccess(c, vgicV2CpuifUaccess(v, write, offset(c), value))
    : fromUaccess(c, vgicV2DistUaccess(v, write, offset(c), value));
}

function itsRegs(c: AttrCall): Answer {
  const xen = c.dev.its!.xen!;
  return fromUaccess(c, vgicItsAttrRegsAccess(xen, c.call === 'set', Number(c.attr), c.value ?? 0n));
}

/** ITS_REGS alignment (KVM B.8), checked before the locks: vgic_its_attr_regs_access's first rule (src/vmm/uaccess-its.ts). */
const itsMisaligned = (c: AttrCall): boolean => vgicItsRegAlignment(c.attr) !== 0;

const ok = (): Answer => OK;
const hasIs = (r: 0 | Errno): Answer => answer(r);

// ----- the table -----

const { ADDR, DIST_REGS, CPU_REGS, NR_IRQS, CTRL, REDIST_REGS, CPU_SYSREGS, LEVEL_INFO, ITS_REGS, MAINT_IRQ } = GROUPS;

const R_EFAULT: Rule = ['EFAULT', badPointer, 'B.4: the payload cannot be read (get_user)'];
const R_NOT_V2: Rule = ['ENXIO', notModel('v2'), 'B.4: vgic_check_type (ENODEV) is reported as ENXIO'];
const R_NOT_V3: Rule = ['ENXIO', notModel('v3'), 'B.4: vgic_check_type (ENODEV) is reported as ENXIO'];
const R_NO_MPIDR_VCPU: Rule = ['EINVAL', (c) => v3RegVcpu(c) === undefined, 'B.4: no vCPU of that MPIDR (DIST_REGS: no first vCPU)'];
const R_NO_V2_VCPU: Rule = ['EINVAL', (c) => v2RegVcpu(c) === undefined, 'B.5: no vCPU of that index (bits 39:32)'];
const R_BUSY: Rule = ['EBUSY', busy, 'B.4: lock_all_vcpus fails (a vCPU is in KVM_RUN)'];
const R_NOT_INIT: Rule = ['EBUSY', (c) => notInitialized(c) && !preInitDistReg(c), 'B.2: register access before CTRL_INIT (GICD_IIDR, GICD_TYPER2 excepted)'];

/** Every row, grouped by device and group. */
export const ROWS: readonly Row[] = [
  // ---- GRP_ADDR on a V2 / V3 device (KVM B.4, B.5): kvm_vgic_addr reads the payload first ----
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V2_ADDR_TYPE_DIST, call: 'set', payload: 'u64', rules: [R_EFAULT, R_NOT_V2], effect: setFrame('distBase', SZ_4K, KVM_VGIC_V2_DIST_SIZE) },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V2_ADDR_TYPE_CPU, call: 'set', payload: 'u64', rules: [R_EFAULT, R_NOT_V2], effect: setFrame('cpuBase', SZ_4K, KVM_VGIC_V2_CPU_SIZE) },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, call: 'set', payload: 'u64', rules: [R_EFAULT, R_NOT_V3], effect: setFrame('distBase', SZ_64K, KVM_VGIC_V3_DIST_SIZE) },
  {
    dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, call: 'set', payload: 'u64', rules: [R_EFAULT, R_NOT_V3],
    effect: (c) => answer(vgicV3SetRedistBase(c.vm, 0, val(c), 0)), // B.4: the legacy region's five checks, then slots (B.6)
  },
  {
    dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, call: 'set', payload: 'u64',
    rules: [
      R_EFAULT, R_NOT_V3,
      ['EINVAL', (c) => regionFields(val(c)).count === 0, 'B.4: REDIST_REGION with count 0'],
      ['EINVAL', (c) => regionFields(val(c)).flags !== 0, 'B.4: REDIST_REGION with flags'],
    ],
    effect: (c) => {
      const f = regionFields(val(c));
      return answer(vgicV3SetRedistBase(c.vm, f.index, f.base, f.count)); // B.4: four checks in order, then slots (B.6)
    },
  },
  { dev: 'gic', group: ADDR, attr: 'other', call: 'set', payload: 'u64', rules: [R_EFAULT], effect: () => ({ errno: 'ENXIO' }) },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V2_ADDR_TYPE_DIST, call: 'get', payload: 'none', rules: [R_NOT_V2], effect: getFrame('distBase') },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V2_ADDR_TYPE_CPU, call: 'get', payload: 'none', rules: [R_NOT_V2], effect: getFrame('cpuBase') },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, call: 'get', payload: 'none', rules: [R_NOT_V3], effect: getFrame('distBase') },
  {
    dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, call: 'get', payload: 'none', rules: [R_NOT_V3],
    effect: (c) => ({ ok: true, value: c.vm.rdRegions[0]?.base ?? ALL_ONES }), // B.4: the first region's base, any kind
  },
  {
    dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, call: 'get', payload: 'u64',
    rules: [R_EFAULT, R_NOT_V3], // B.4: the index is read from the payload first
    effect: getRedistRegion, // B.4: unknown index → ENOENT
  },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V2_ADDR_TYPE_DIST, call: 'has', payload: 'none', rules: [R_NOT_V2], effect: ok },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V2_ADDR_TYPE_CPU, call: 'has', payload: 'none', rules: [R_NOT_V2], effect: ok },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, call: 'has', payload: 'none', rules: [R_NOT_V3], effect: ok },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, call: 'has', payload: 'none', rules: [R_NOT_V3], effect: ok },
  { dev: 'gic', group: ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, call: 'has', payload: 'none', rules: [R_NOT_V3], effect: ok },

  // ---- GRP_NR_IRQS (KVM B.4): the range before the busy check; any attribute ----
  {
    dev: 'gic', group: NR_IRQS, attr: 'other', call: 'set', payload: 'u32',
    rules: [
      R_EFAULT,
      ['EINVAL', (c) => val(c) < BigInt(VGIC_NR_PRIVATE_IRQS + 32), 'B.4: fewer than 64 interrupts'],
      ['EINVAL', (c) => val(c) > BigInt(mutated(c.vm.domain.host, 'nr-irqs-accepts-1024') ? 1024 : VGIC_MAX_RESERVED), 'B.4: more than 1023 interrupts (1024 included)'],
      ['EINVAL', (c) => val(c) % 32n !== 0n, 'B.4: not a multiple of 32'],
      ['EBUSY', (c) => c.vm.nrSpis !== 0, 'B.4: already set, or defaulted by CTRL_INIT'],
    ],
    effect: (c) => {
      c.vm.nrSpis = Number(val(c)) - VGIC_NR_PRIVATE_IRQS;
      return OK;
    },
  },
  { dev: 'gic', group: NR_IRQS, attr: 'other', call: 'get', payload: 'none', rules: [], effect: (c) => ({ ok: true, value: BigInt(c.vm.nrSpis + VGIC_NR_PRIVATE_IRQS) }) },
  { dev: 'gic', group: NR_IRQS, attr: 'other', call: 'has', payload: 'none', rules: [], effect: ok },

  // ---- GRP_CTRL (KVM B.4): INIT idempotent; SAVE_PENDING_TABLES v3 only ----
  { dev: 'gic', group: CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT, call: 'set', payload: 'none', rules: [], effect: (c) => answer(vgicInit(c.vm)) },
  {
    dev: 'gic', group: CTRL, attr: KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, call: 'set', payload: 'none',
    rules: [R_NOT_V3, R_BUSY, ['ENXIO', notInitialized, 'B.4: SAVE_PENDING_TABLES before CTRL_INIT']],
    effect: ok, // Xen keeps LPI pending state in its records and never writes pending tables: nothing to write (trace-format §10.7)
  },
  { dev: 'gic', group: CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT, call: 'has', payload: 'none', rules: [], effect: ok },
  { dev: 'gic', group: CTRL, attr: KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, call: 'has', payload: 'none', rules: [R_NOT_V3], effect: ok },

  // ---- GRP_MAINT_IRQ (KVM B.4; V3 only): newest tree's order ----
  {
    dev: 'v3', group: MAINT_IRQ, attr: 'other', call: 'set', payload: 'u32',
    rules: [
      R_EFAULT,
      ['EBUSY', (c) => c.vm.initialized, 'B.4: MAINT_IRQ after CTRL_INIT'],
      ['EINVAL', (c) => val(c) < BigInt(VGIC_NR_SGIS) || val(c) >= BigInt(VGIC_NR_PRIVATE_IRQS), 'B.4: not a PPI (16..31)'],
    ],
    effect: (c) => {
      c.vm.miIntid = Number(val(c));
      return OK;
    },
  },
  { dev: 'v3', group: MAINT_IRQ, attr: 'other', call: 'get', payload: 'none', rules: [], effect: (c) => ({ ok: true, value: BigInt(c.vm.miIntid) }) },
  { dev: 'v3', group: MAINT_IRQ, attr: 'other', call: 'has', payload: 'none', rules: [], effect: ok },

  // ---- GICv3 register groups (KVM B.4; the access itself: src/vmm/uaccess-v3.ts, uaccess-sysreg.ts) ----
  ...(['set', 'get'] as const).flatMap((call): Row[] => [
    { dev: 'v3', group: DIST_REGS, attr: 'other', call, payload: 'u32', rules: [R_NO_MPIDR_VCPU, ...(call === 'set' ? [R_EFAULT] : []), R_BUSY, R_NOT_INIT], effect: v3Regs },
    { dev: 'v3', group: REDIST_REGS, attr: 'other', call, payload: 'u32', rules: [R_NO_MPIDR_VCPU, ...(call === 'set' ? [R_EFAULT] : []), R_BUSY, R_NOT_INIT], effect: v3Regs },
    {
      dev: 'v3', group: CPU_SYSREGS, attr: 'other', call, payload: 'u64',
      // B.4: the sysreg code reads the payload itself, after the busy and init checks
      rules: [R_NO_MPIDR_VCPU, R_BUSY, R_NOT_INIT, ...(call === 'set' ? [R_EFAULT] : [])], effect: v3Regs,
    },
    {
      dev: 'v3', group: LEVEL_INFO, attr: 'other', call, payload: 'u32',
      rules: [
        R_NO_MPIDR_VCPU, ...(call === 'set' ? [R_EFAULT] : []), R_BUSY, R_NOT_INIT,
        ['EINVAL', (c) => levelInfo(c) !== 0n, 'B.4: LEVEL_INFO info field other than LINE_LEVEL'],
        ['EINVAL', (c) => (c.attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK) % 32n !== 0n, 'B.4: vINTID not a multiple of 32'],
      ],
      effect: v3Regs,
    },
  ]),
  { dev: 'v3', group: DIST_REGS, attr: 'other', call: 'has', payload: 'none', rules: [R_NO_MPIDR_VCPU], effect: (c) => hasIs(vgicV3HasAttrRegs('dist', offset(c), kvmNrIrqs(c))) }, // B.4: offset not 4-aligned, or no register: ENXIO
  { dev: 'v3', group: REDIST_REGS, attr: 'other', call: 'has', payload: 'none', rules: [R_NO_MPIDR_VCPU], effect: (c) => hasIs(vgicV3HasAttrRegs('redist', offset(c), kvmNrIrqs(c))) }, // B.4: offset not 4-aligned, or no register: ENXIO
  { dev: 'v3', group: CPU_SYSREGS, attr: 'other', call: 'has', payload: 'none', rules: [R_NO_MPIDR_VCPU], effect: (c) => hasIs(vgicV3HasSysreg(Number(c.attr & KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK))) },
  { dev: 'v3', group: LEVEL_INFO, attr: 'other', call: 'has', payload: 'none', rules: [['ENXIO', (c) => levelInfo(c) !== 0n, 'B.4: HAS_ATTR LEVEL_INFO with an info field']], effect: ok },

  // ---- GICv2 register groups (KVM B.5): vCPU index, pointer, busy, then the lazy init ----
  ...(['set', 'get'] as const).flatMap((call): Row[] => [DIST_REGS, CPU_REGS].map((group): Row => ({
    dev: 'v2', group, attr: 'other', call, payload: 'u32', rules: [R_NO_V2_VCPU, ...(call === 'set' ? [R_EFAULT] : []), R_BUSY], effect: v2Regs,
  }))),
  ...[DIST_REGS, CPU_REGS].map((group): Row => ({
    dev: 'v2', group, attr: 'other', call: 'has', payload: 'none', rules: [R_NO_V2_VCPU],
    effect: (c) => hasIs(vgicV2HasAttrRegs(group === CPU_REGS ? 'cpu' : 'dist', offset(c), kvmNrIrqs(c))),
  })),

  // ---- the ITS device (KVM B.8) ----
  {
    dev: 'its', group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, call: 'set', payload: 'u64', rules: [R_EFAULT],
    effect: (c) => answer(vgicItsSetAddr(c.vm, c.dev, val(c))), // B.8: vgic_check_iorange(64 KiB, 128 KiB)
  },
  { dev: 'its', group: ADDR, attr: 'other', call: 'set', payload: 'u64', rules: [], effect: () => ({ errno: 'ENODEV' }) }, // B.8: not ENXIO
  { dev: 'its', group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, call: 'get', payload: 'none', rules: [], effect: (c) => ({ ok: true, value: c.dev.its!.base ?? ALL_ONES }) },
  { dev: 'its', group: ADDR, attr: 'other', call: 'get', payload: 'none', rules: [], effect: () => ({ errno: 'ENODEV' }) },
  { dev: 'its', group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, call: 'has', payload: 'none', rules: [], effect: ok },
  { dev: 'its', group: CTRL, attr: 'other', call: 'set', payload: 'none', rules: [], effect: (c) => answer(vgicItsCtrl(c.vm, c.dev, c.attr)) },
  ...[0n, 1n, 2n, 4n].map((attr): Row => ({ dev: 'its', group: CTRL, attr, call: 'has', payload: 'none', rules: [], effect: ok })),
  ...(['set', 'get'] as const).map((call): Row => ({
    dev: 'its', group: ITS_REGS, attr: 'other', call, payload: 'u64',
    rules: [
      ...(call === 'set' ? [R_EFAULT] : []),
      ['EINVAL', itsMisaligned, 'B.8: misaligned ITS register offset'],
      R_BUSY,
      ['ENXIO', (c) => c.dev.its!.base === null, 'B.8: the ITS has no frame address yet'],
      ['EBUSY', (c) => c.dev.its!.xen === null, 'trace-format §10.7: the Xen vITS is built at CTRL_INIT'],
    ],
    effect: itsRegs,
  })),
  {
    dev: 'its', group: ITS_REGS, attr: 'other', call: 'has', payload: 'none',
    rules: [], effect: (c) => hasIs(vgicItsHasAttrRegs(c.attr)), // B.8: misaligned EINVAL, then the register lookup (ENXIO)
  },
];

function rowDevMatches(row: Row, kind: DeviceKind): boolean {
  return row.dev === kind || (row.dev === 'gic' && kind !== 'its');
}

/** The row a call takes: the one naming its attribute, else its group's `other` row, else none (ENXIO). */
export function findRow(kind: DeviceKind, group: number, call: Call, attr: bigint): Row | null {
  let other: Row | null = null;
  for (const row of ROWS) {
    if (row.group !== group || row.call !== call || !rowDevMatches(row, kind)) continue;
    if (row.attr === attr) return row;
    if (row.attr === 'other' && other === null) other = row;
  }
  return other;
}

/** KVM_{SET,GET,HAS}_DEVICE_ATTR: the row's rules in order, then its effect; no row → ENXIO. */
export function deviceAttr(c: AttrCall): Answer {
  const row = findRow(c.dev.kind, c.group, c.call, c.attr);
  if (row === null) return { errno: 'ENXIO' };
  for (const [errno, applies] of row.rules) if (applies(c)) return { errno };
  return row.effect(c);
}
