/**
 * The life of a VM's vGIC as KVM runs it (vgic-init.c; KVM B.2, B.3, B.7): creating the GIC
 * device, creating vCPUs, CTRL_INIT, and the first KVM_RUN's resource mapping. At vgic_init the
 * Xen vGIC is built behind the VM (domain_vgic_init with nr_irqs − 32 SPIs, vcpu_vgic_init per
 * vCPU, the vITS when one is placed), with the layout the VMM chose (docs/trace-format.md §10).
 */
import { gicv3LpiInitHostLpis } from '../xen/gic-v3-lpi.js';
import { mutated } from '../xen/mutants.js';
import { Domain, Vcpu } from '../xen/types.js';
import { domainVgicInit, vcpuVgicInit } from '../xen/vgic.js';
import { vgicV3ItsInitVirtual } from '../xen/vgic-v3-its.js';
import { vgicRegisterRedistIodev, vgicV3CheckBase } from './rdist.js';
import {
  KVM_MAX_VCPU_IDS, KVM_VGIC_V2_CPU_SIZE, KVM_VGIC_V2_DIST_SIZE, VGIC_NR_IRQS_LEGACY, VGIC_NR_PRIVATE_IRQS, VGIC_V2_MAX_CPUS,
  XEN_MAX_VCPUS_V3, type Errno, type KvmDevice, type KvmVcpu, type KvmVm,
} from './types.js';

/** The DeviceID and EventID widths of a VMM-built vITS: KVM's GITS_TYPER (Devbits 16, IDbits 16). */
export const VMM_ITS_DEVID_BITS = 16;
export const VMM_ITS_EVID_BITS = 16;
/** GICD_TYPER.IDbits + 1 of a VMM-built domain with an ITS (KVM's 16 INTID bits). */
export const VMM_ITS_INTID_BITS = 16;

/** lock_all_vcpus fails: some vCPU of the VM is in KVM_RUN, i.e. loaded on a pCPU (trace-format §10.6). */
export function anyVcpuRunning(vm: KvmVm): boolean {
  if (!vm.initialized) return false;
  for (const v of vm.domain.vcpus) if (v.runningOn !== null) return true;
  return false;
}

/** kvm_vgic_create (KVM B.3): the checks in the newest tree's order, then an empty vGIC of `model`. */
export function kvmVgicCreate(vm: KvmVm, model: 'v2' | 'v3'): Errno | 0 {
  // 1. (a V2 device on a host without GICv2 emulation: refused earlier, as an unsupported type)
  if (anyVcpuRunning(vm)) return 'EBUSY'; // 2. cannot lock every vCPU
  if (vm.inKernel) return 'EEXIST'; // 4. a vGIC exists already
  if (vm.vcpus.some((v) => v.ran)) return 'EBUSY'; // 5. a vCPU has run
  const max = model === 'v2' ? VGIC_V2_MAX_CPUS : XEN_MAX_VCPUS_V3;
  if (vm.onlineVcpus > max) return 'E2BIG'; // 6. more vCPUs than the model allows
  vm.maxVcpus = max;
  vm.inKernel = true;
  vm.model = model;
  vm.distBase = null;
  vm.cpuBase = null;
  vm.rdRegions.length = 0;
  return 0;
}

/**
 * KVM_CREATE_VCPU and KVM_ARM_VCPU_INIT (KVM B.2, B.6): refused once the vGIC is initialised
 * (EBUSY) or for an id at or above max_vcpus (EINVAL); an id that exists is EEXIST; with a v3
 * vGIC the new vCPU takes a free redistributor slot, and a failing layout check (EINVAL) fails
 * the creation. The layout check sees the vCPUs online before this one.
 */
export function kvmVmIoctlCreateVcpu(vm: KvmVm, id: number): Errno | 0 {
  if (id >= KVM_MAX_VCPU_IDS) return 'EINVAL';
  const lateOk = mutated(vm.domain.host, 'vcpu-create-after-init') && id === vm.vcpus.length;
  if (vm.inKernel && vm.initialized && !lateOk) return 'EBUSY'; // kvm_arch_vcpu_precreate
  if (id >= vm.maxVcpus) return 'EINVAL';
  if (vm.vcpuById(id) !== undefined) return 'EEXIST';
  const v: KvmVcpu = { id, rdBase: null, rdreg: null, rdregIndex: 0, ran: false };
  if (vm.inKernel && vm.model === 'v3') {
    const r = vgicRegisterRedistIodev(vm, v); // kvm_vgic_vcpu_init
    if (r !== 0) return r;
  }
  vm.vcpus.push(v);
  if (vm.initialized) addXenVcpu(vm, v); // (only under the mutant vcpu-create-after-init)
  return 0;
}

/** The Xen vCPU of a KVM vCPU created after CTRL_INIT, which only the mutant vcpu-create-after-init lets through. */
function addXenVcpu(vm: KvmVm, kv: KvmVcpu): void {
  const d = vm.domain;
  const v = new Vcpu(d, kv.id, d.host.nrLrs, vm.pcpus);
  vcpuVgicInit(v);
  d.vcpus.push(v);
}

/**
 * vgic_init (KVM B.4 GRP_CTRL): idempotent; nr_spis defaults to 224; then the Xen vGIC is built
 * (buildXenVgic). The one refusal of the model's own: vCPU ids that are not 0..n-1 (Xen numbers
 * its vCPUs densely) answer EINVAL (docs/trace-format.md §10.7).
 */
export function vgicInit(vm: KvmVm): Errno | 0 {
  if (vm.initialized) return mutated(vm.domain.host, 'init-not-idempotent') ? 'EBUSY' : 0;
  const ids = vm.vcpus.map((v) => v.id).sort((a, b) => a - b);
  if (ids.some((id, i) => id !== i)) return 'EINVAL';
  if (vm.nrSpis === 0) vm.nrSpis = VGIC_NR_IRQS_LEGACY - VGIC_NR_PRIVATE_IRQS;
  const built = buildXenVgic(vm);
  if (built !== 0) return built;
  vm.initialized = true;
  for (const its of vm.itsDevices) buildXenIts(vm, its);
  return 0;
}

/**
 * The Xen side of vgic_init: a fresh Xen domain of the VM's model (its RAM carried over from the
 * placeholder) with domain_vgic_init(d, nr_irqs − 32) and one vCPU per KVM vCPU with
 * vcpu_vgic_init (vgicInit then builds the vITS of an ITS device that already has its frame).
 */
function buildXenVgic(vm: KvmVm): Errno | 0 {
  const old = vm.domain;
  const host = old.host;
  const model = vm.model!;
  const d = new Domain(old.id, model, vm.vcpus.length, host);
  d.ram = old.ram;
  d.vmm = vm;
  // Refuses nothing NR_IRQS lets through (at most 992 interrupts, 960 SPIs: Xen's own limit);
  // only the mutant nr-irqs-accepts-1024 reaches this refusal, which vgic_init passes on.
  const r = domainVgicInit(d, vm.nrSpis);
  if (r !== 0) return r;
  for (let i = 0; i < vm.vcpus.length; i++) {
    const v = new Vcpu(d, i, host.nrLrs, vm.pcpus);
    vcpuVgicInit(v);
    d.vcpus.push(v);
  }
  host.domains.set(d.id, d);
  vm.domain = d;
  return 0;
}

/**
 * The Xen vITS behind an ITS device: built once the GIC is initialised (v3 model) and the ITS
 * has its frame, whichever comes last (docs/trace-format.md §10.7). Its DeviceID and EventID
 * widths are KVM's (16 each); the domain's INTID bits become 16.
 */
export function buildXenIts(vm: KvmVm, dev: KvmDevice): void {
  const its = dev.its!;
  if (its.xen !== null || its.base === null || !vm.initialized || vm.model !== 'v3') return;
  const d = vm.domain;
  gicv3LpiInitHostLpis(d.host, vm.lpiBits);
  its.xen = vgicV3ItsInitVirtual(d, Number(its.base), VMM_ITS_DEVID_BITS, VMM_ITS_EVID_BITS);
  d.intidBits = VMM_ITS_INTID_BITS;
}

/** vgic_v2_check_base: neither v2 frame wraps, and one ends before the other starts. */
export function vgicV2CheckBase(dist: bigint, cpu: bigint): boolean {
  if (dist + KVM_VGIC_V2_DIST_SIZE >= 1n << 64n || cpu + KVM_VGIC_V2_CPU_SIZE >= 1n << 64n) return false;
  return dist + KVM_VGIC_V2_DIST_SIZE <= cpu || cpu + KVM_VGIC_V2_CPU_SIZE <= dist;
}

/** vgic_v2_map_resources (KVM B.7): both frames set (ENXIO), apart (EINVAL), then the lazy vgic_init. */
export function vgicV2MapResources(vm: KvmVm): Errno | 0 {
  if (vm.distBase === null || vm.cpuBase === null) return 'ENXIO';
  if (!vgicV2CheckBase(vm.distBase, vm.cpuBase)) return 'EINVAL';
  return vgicInit(vm);
}

/**
 * vgic_v3_map_resources (KVM B.7), in order: a vCPU without a redistributor (ENXIO), no
 * distributor (ENXIO), the layout check with the final vCPU count (EINVAL), not initialised (EBUSY).
 */
export function vgicV3MapResources(vm: KvmVm): Errno | 0 {
  if (vm.vcpus.some((v) => v.rdBase === null)) return 'ENXIO';
  if (vm.distBase === null) return 'ENXIO';
  if (!vgicV3CheckBase(vm)) return 'EINVAL';
  if (!vm.initialized) return 'EBUSY';
  return 0;
}

/**
 * kvm_vgic_map_resources (KVM B.7): once per VM, at the first KVM_RUN of any of its vCPUs. A
 * failure kills the VM (6.12+: kvm_vm_dead), so that every later call answers EIO. Without a
 * vGIC there is nothing to map (KVM runs the guest with a userspace irqchip).
 */
export function kvmVgicMapResources(vm: KvmVm): Errno | 0 {
  if (vm.ready || !vm.inKernel) return 0;
  const r = vm.model === 'v2' ? vgicV2MapResources(vm) : vgicV3MapResources(vm);
  if (r !== 0) {
    vm.dead = true;
    return r;
  }
  vm.ready = true;
  return 0;
}
