/**
 * The state KVM keeps for the vGIC device-control API (KVM B.2): per VM, per vCPU, per
 * redistributor region and per ITS device, with the uapi constants (KVM B.1). This layer sits
 * between the Xen model (src/xen) and the machine (src/machine): a VM here is the KVM side of a
 * Xen domain whose vGIC a VMM builds through KVM_CREATE_DEVICE and KVM_{SET,GET,HAS}_DEVICE_ATTR
 * (docs/trace-format.md §10). The Xen vGIC behind it is built at CTRL_INIT (src/vmm/vgic-init.ts).
 */
import type { GicVersion } from '../arch/limits.js';
import type { Domain, Vcpu, VmmLink } from '../xen/types.js';
import type { VirtIts } from '../xen/vgic-v3-its.js';
import { vgicMmioVcpuRdistIsLast } from './rdist.js';

/** A KVM errno by its name, as a RESULT carries it (`{ "outcome": "error", "errno": "EINVAL" }`). */
export type Errno = 'EINVAL' | 'ENXIO' | 'ENODEV' | 'EEXIST' | 'EBUSY' | 'E2BIG' | 'EFAULT' | 'ENOENT' | 'EIO' | 'ENOMEM';

/** What a register group's effect function (src/vmm/uaccess-*.ts) answers: a write answers `{ value: 0n }`. */
export type Uaccess = { value: bigint } | { errno: Errno };

// ----- device types (KVM B.0) -----

export const KVM_DEV_TYPE_ARM_VGIC_V2 = 5;
export const KVM_DEV_TYPE_ARM_VGIC_V3 = 7;
export const KVM_DEV_TYPE_ARM_VGIC_ITS = 8;
export type DeviceKind = 'v2' | 'v3' | 'its';
/** The device types by name, as a trace writes them. */
export const DEVICE_TYPES: Readonly<Record<DeviceKind, number>> = {
  v2: KVM_DEV_TYPE_ARM_VGIC_V2, v3: KVM_DEV_TYPE_ARM_VGIC_V3, its: KVM_DEV_TYPE_ARM_VGIC_ITS,
};

// ----- attribute groups (KVM B.1) -----

export const GROUPS = {
  ADDR: 0, DIST_REGS: 1, CPU_REGS: 2, NR_IRQS: 3, CTRL: 4, REDIST_REGS: 5, CPU_SYSREGS: 6, LEVEL_INFO: 7, ITS_REGS: 8, MAINT_IRQ: 9,
} as const;
export type GroupName = keyof typeof GROUPS;
export const GROUP_NAMES = Object.keys(GROUPS) as GroupName[];

/** A group number's name, or `group N` for a number KVM does not define. */
export function groupText(group: number): string {
  return GROUP_NAMES.find((n) => GROUPS[n] === group) ?? `group ${group}`;
}

// CTRL attributes
export const KVM_DEV_ARM_VGIC_CTRL_INIT = 0n;
export const KVM_DEV_ARM_ITS_SAVE_TABLES = 1n;
export const KVM_DEV_ARM_ITS_RESTORE_TABLES = 2n;
export const KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES = 3n;
export const KVM_DEV_ARM_ITS_CTRL_RESET = 4n;

// ADDR attributes
export const KVM_VGIC_V2_ADDR_TYPE_DIST = 0n;
export const KVM_VGIC_V2_ADDR_TYPE_CPU = 1n;
export const KVM_VGIC_V3_ADDR_TYPE_DIST = 2n;
export const KVM_VGIC_V3_ADDR_TYPE_REDIST = 3n;
export const KVM_VGIC_ITS_ADDR_TYPE = 4n;
export const KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION = 5n;

// sizes and alignments (KVM B.1)
export const SZ_4K = 0x1000n;
export const SZ_64K = 0x10000n;
export const KVM_VGIC_V2_DIST_SIZE = 0x1000n;
export const KVM_VGIC_V2_CPU_SIZE = 0x2000n;
export const KVM_VGIC_V3_DIST_SIZE = 0x10000n;
export const KVM_VGIC_V3_REDIST_SIZE = 0x20000n;
export const KVM_VGIC_V3_ITS_SIZE = 0x20000n;

// REDIST_REGION payload fields (KVM B.1)
export const KVM_VGIC_V3_RDIST_INDEX_MASK = 0xfffn;
export const KVM_VGIC_V3_RDIST_FLAGS_SHIFT = 12n;
export const KVM_VGIC_V3_RDIST_BASE_MASK = ((1n << 52n) - 1n) & ~((1n << 16n) - 1n);
export const KVM_VGIC_V3_RDIST_COUNT_SHIFT = 52n;

// register attribute fields (KVM B.1)
export const KVM_DEV_ARM_VGIC_CPUID_SHIFT = 32n;
export const KVM_DEV_ARM_VGIC_CPUID_MASK = 0xffn << 32n;
export const KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT = 32n;
export const KVM_DEV_ARM_VGIC_OFFSET_MASK = 0xffffffffn;
export const KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK = 0xffffn;
export const KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT = 10n;
export const KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK = 0x3fffffn << 10n;
export const KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK = 0x3ffn;
export const VGIC_LEVEL_INFO_LINE_LEVEL = 0n;

// interrupt limits (KVM B.1)
export const VGIC_NR_SGIS = 16;
export const VGIC_NR_PRIVATE_IRQS = 32;
export const VGIC_MAX_RESERVED = 1023;
export const VGIC_NR_IRQS_LEGACY = 256;
export const VGIC_V2_MAX_CPUS = 8;
/** KVM's VGIC_V3_MAX_CPUS (512); Xen's MAX_VIRT_CPUS (128) is what the model allows (trace-format §10). */
export const VGIC_V3_MAX_CPUS = 512;
/** KVM_MAX_VCPU_IDS on arm64. */
export const KVM_MAX_VCPU_IDS = 512;

/**
 * One redistributor region (struct vgic_redist_region): `count` 0 is the legacy single region
 * set through ADDR REDIST, whose size follows the number of vCPUs.
 */
export interface RedistRegion {
  readonly index: number;
  readonly base: bigint;
  readonly count: number;
  /** The next slot to hand out. */
  freeIndex: number;
}

/** The KVM side of one vCPU (KVM B.2). */
export interface KvmVcpu {
  readonly id: number;
  /** rd_iodev.base_addr: its redistributor frame, null while VGIC_ADDR_UNDEF. */
  rdBase: bigint | null;
  /** The region and slot it was given (rdreg, rdreg_index). */
  rdreg: RedistRegion | null;
  rdregIndex: number;
  /** vcpu_has_run_once: its first KVM_RUN succeeded. */
  ran: boolean;
}

/** A device created on the VM (a handle of docs/trace-format.md §10.2). */
export interface KvmDevice {
  readonly handle: number;
  readonly kind: DeviceKind;
  readonly vm: KvmVm;
  /** ITS devices only: the frame base (null while VGIC_ADDR_UNDEF) and the Xen vITS once built. */
  its: { base: bigint | null; xen: VirtIts | null } | null;
}

/**
 * The KVM state of one VM (struct kvm, struct vgic_dist; KVM B.2). It is also the domain's link
 * for the Xen code (`Domain.vmm`): the Last bit of GICR_TYPER follows KVM's rule (KVM B.6).
 */
export class KvmVm implements VmmLink {
  /** in_kernel: a vGIC device exists. */
  inKernel = false;
  /** vgic_model. */
  model: GicVersion | null = null;
  initialized = false;
  ready = false;
  /** The VM is dead (a first KVM_RUN failed): every later call answers EIO. */
  dead = false;
  /** nr_spis; 0 = not set. */
  nrSpis = 0;
  /** vgic_dist_base and (v2) vgic_cpu_base; null while VGIC_ADDR_UNDEF. */
  distBase: bigint | null = null;
  cpuBase: bigint | null = null;
  /** rd_regions, in the order they were added (index order). */
  readonly rdRegions: RedistRegion[] = [];
  /** The vCPUs in creation order (kvm_for_each_vcpu order). */
  readonly vcpus: KvmVcpu[] = [];
  /** kvm->max_vcpus: the host's default until a vGIC is created. */
  maxVcpus: number;
  /** has_its. */
  hasIts = false;
  readonly itsDevices: KvmDevice[] = [];
  /** mi_intid: the maintenance interrupt (0 = not set). */
  miIntid = 0;
  /** The Xen domain behind the VM: a placeholder without vGIC until CTRL_INIT builds it. */
  domain: Domain;

  /**
   * `ipaBits`: the guest physical address size (E2BIG checks); `pcpus`: the machine's pCPUs
   * (each Xen vCPU's first processor); `lpiBits`: the host LPI space, for a vITS.
   */
  constructor(
    readonly id: number, readonly ipaBits: number, readonly hostVersion: GicVersion, readonly pcpus: number,
    readonly lpiBits: number, domain: Domain,
  ) {
    this.domain = domain;
    this.maxVcpus = defaultMaxVcpus(hostVersion);
  }

  /** kvm_phys_size */
  get physSize(): bigint {
    return 1n << BigInt(this.ipaBits);
  }

  /** online_vcpus */
  get onlineVcpus(): number {
    return this.vcpus.length;
  }

  vcpuById(id: number): KvmVcpu | undefined {
    return this.vcpus.find((v) => v.id === id);
  }

  /** GICR_TYPER.Last of a Xen vCPU of this VM: vgic_mmio_vcpu_rdist_is_last (KVM B.6). */
  typerLast(v: Vcpu): boolean {
    const kv = this.vcpuById(v.id);
    return kv !== undefined && vgicMmioVcpuRdistIsLast(this, kv);
  }
}

/**
 * kvm->max_vcpus before a vGIC exists, capped by Xen: 8 on a GICv2 host; on a GICv3 host KVM
 * allows 512, Xen's MAX_VIRT_CPUS 128 (docs/trace-format.md §10.7).
 */
export function defaultMaxVcpus(hostVersion: GicVersion): number {
  return hostVersion === 'v2' ? VGIC_V2_MAX_CPUS : XEN_MAX_VCPUS_V3;
}

/** Xen's limit on a GICv3 domain's vCPUs (MAX_VIRT_CPUS). */
export const XEN_MAX_VCPUS_V3 = 128;
