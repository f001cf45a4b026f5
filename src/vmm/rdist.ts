/**
 * GICv3 redistributor regions as KVM keeps them (KVM B.4 GRP_ADDR, B.6): adding a region
 * (legacy REDIST or REDIST_REGION) with its checks in KVM's order, handing out slots to vCPUs in
 * creation order, the whole-layout check `vgic_v3_check_base`, and the Last bit of GICR_TYPER.
 * Every function mirrors the KVM function it is named after (vgic-mmio-v3.c, vgic-v3.c).
 */
import { mutated } from '../xen/mutants.js';
import {
  KVM_VGIC_V3_DIST_SIZE, KVM_VGIC_V3_REDIST_SIZE, SZ_64K, type Errno, type KvmVcpu, type KvmVm, type RedistRegion,
} from './types.js';

/**
 * vgic_check_iorange (KVM B.4 GRP_ADDR): `current` already set → EEXIST; address or size not
 * aligned → EINVAL; the range wraps → EINVAL; beyond the IPA size → E2BIG.
 */
export function vgicCheckIorange(vm: KvmVm, current: bigint | null, addr: bigint, alignment: bigint, size: bigint): Errno | 0 {
  if (current !== null && !mutated(vm.domain.host, 'addr-resettable')) return 'EEXIST';
  if (addr % alignment !== 0n || size % alignment !== 0n) return 'EINVAL';
  if (addr + size >= 1n << 64n) return 'EINVAL';
  const phys = vm.physSize;
  if ((addr & ~(phys - 1n)) !== 0n || addr + size > phys) return 'E2BIG';
  return 0;
}

/** vgic_v3_rd_region_size (KVM B.6): count × 128 KiB, or online vCPUs × 128 KiB for the legacy region. */
export function vgicV3RdRegionSize(vm: KvmVm, r: RedistRegion): bigint {
  return BigInt(r.count !== 0 ? r.count : vm.onlineVcpus) * KVM_VGIC_V3_REDIST_SIZE;
}

/** vgic_dist_overlap: does [base, base + size) meet the distributor frame? */
export function vgicDistOverlap(vm: KvmVm, base: bigint, size: bigint): boolean {
  const dist = vm.distBase;
  return dist !== null && dist + KVM_VGIC_V3_DIST_SIZE > base && dist < base + size;
}

/** vgic_v3_rdist_overlap: does [base, base + size) meet any region? */
export function vgicV3RdistOverlap(vm: KvmVm, base: bigint, size: bigint): boolean {
  return vm.rdRegions.some((r) => base + size > r.base && base < r.base + vgicV3RdRegionSize(vm, r));
}

/** vgic_v3_rdist_region_from_index */
export function vgicV3RdistRegionFromIndex(vm: KvmVm, index: number): RedistRegion | null {
  return vm.rdRegions.find((r) => r.index === index) ?? null;
}

/** vgic_v3_redist_region_full: a counted region whose slots are all given out (the legacy one never is). */
export function vgicV3RedistRegionFull(r: RedistRegion): boolean {
  return r.count !== 0 && r.freeIndex >= r.count;
}

/** vgic_v3_rdist_free_slot (KVM B.6): the first region, in list order, with a free slot. */
export function vgicV3RdistFreeSlot(vm: KvmVm): RedistRegion | null {
  return vm.rdRegions.find((r) => !vgicV3RedistRegionFull(r)) ?? null;
}

/**
 * vgic_v3_check_base (KVM B.6, B.7): the distributor does not wrap, every region is 64 KiB
 * aligned and inside the IPA (the legacy one sized by the vCPUs online now), and no region meets
 * the distributor.
 */
export function vgicV3CheckBase(vm: KvmVm): boolean {
  const dist = vm.distBase;
  if (dist !== null && dist + KVM_VGIC_V3_DIST_SIZE >= 1n << 64n) return false;
  for (const r of vm.rdRegions) {
    if (vgicCheckIorange(vm, null, r.base, SZ_64K, vgicV3RdRegionSize(vm, r)) !== 0) return false;
  }
  if (dist === null) return true;
  return !vgicV3RdistOverlap(vm, dist, KVM_VGIC_V3_DIST_SIZE);
}

/**
 * vgic_register_redist_iodev (KVM B.6): give `v` the next free slot, unless it has one or no
 * region has room (then nothing, and no error); the whole layout is checked first (EINVAL).
 */
export function vgicRegisterRedistIodev(vm: KvmVm, v: KvmVcpu): Errno | 0 {
  if (v.rdBase !== null) return 0;
  const rdreg = vgicV3RdistFreeSlot(vm);
  if (rdreg === null) return 0;
  if (!vgicV3CheckBase(vm)) return 'EINVAL';
  v.rdreg = rdreg;
  v.rdregIndex = rdreg.freeIndex;
  v.rdBase = rdreg.base + BigInt(rdreg.freeIndex) * KVM_VGIC_V3_REDIST_SIZE;
  rdreg.freeIndex++;
  return 0;
}

/**
 * vgic_register_all_redist_iodevs: every vCPU, in creation order. (KVM also unregisters the
 * frames of the vCPUs before the one that failed, though they keep their base: not modelled,
 * see docs/trace-format.md §10.7.)
 */
export function vgicRegisterAllRedistIodevs(vm: KvmVm): Errno | 0 {
  const order = mutated(vm.domain.host, 'slot-order-by-id') ? [...vm.vcpus].sort((a, b) => a.id - b.id) : vm.vcpus;
  for (const v of order) {
    const r = vgicRegisterRedistIodev(vm, v);
    if (r !== 0) return r;
  }
  return 0;
}

/**
 * vgic_v3_alloc_redist_region (KVM B.4 GRP_ADDR): the checks in KVM's order, then the region
 * joins the list. `count` 0 is the legacy region, sized by the vCPUs online now.
 */
export function vgicV3AllocRedistRegion(vm: KvmVm, index: number, base: bigint, count: number): Errno | 0 {
  const size = BigInt(count !== 0 ? count : vm.onlineVcpus) * KVM_VGIC_V3_REDIST_SIZE;
  if (base + size >= 1n << 64n) return 'EINVAL'; // 1. the region wraps
  const last = vm.rdRegions[vm.rdRegions.length - 1];
  if (last === undefined) {
    if (index !== 0) return 'EINVAL'; // 2. the first region has index 0
  } else {
    if (count === 0 && last.count !== 0 && !mutated(vm.domain.host, 'legacy-after-region-eexist')) return 'EINVAL'; // 2. legacy after counted regions
    if (count === 0) return 'EEXIST'; // 2. the legacy region set twice
    if (index !== last.index + 1) return 'EINVAL'; // 2. indexes follow one another
    // (A counted region after the legacy one passes here in the code read: see the docs.)
  }
  if (count === 0 && vgicDistOverlap(vm, base, size)) return 'EINVAL'; // 3. legacy region over the distributor
  if (vgicV3RdistOverlap(vm, base, size)) return 'EINVAL'; // 4. over another region
  const io = vgicCheckIorange(vm, null, base, SZ_64K, size); // 5. alignment (EINVAL), IPA (E2BIG)
  if (io !== 0) return io;
  vm.rdRegions.push({ index, base, count, freeIndex: 0 });
  return 0;
}

/**
 * vgic_v3_set_redist_base (KVM B.4 GRP_ADDR): add the region, then place every vCPU that has no
 * redistributor yet; if that fails, the region is removed again and the error returned.
 */
export function vgicV3SetRedistBase(vm: KvmVm, index: number, base: bigint, count: number): Errno | 0 {
  const r = vgicV3AllocRedistRegion(vm, index, base, count);
  if (r !== 0) return r;
  const placed = vgicRegisterAllRedistIodevs(vm);
  if (placed !== 0) {
    const added = vgicV3RdistRegionFromIndex(vm, index)!;
    vm.rdRegions.splice(vm.rdRegions.indexOf(added), 1);
    return placed;
  }
  return 0;
}

/** vgic_mmio_vcpu_rdist_is_last (KVM B.6): the Last bit of a vCPU's GICR_TYPER. */
export function vgicMmioVcpuRdistIsLast(vm: KvmVm, v: KvmVcpu): boolean {
  const rdreg = v.rdreg;
  if (rdreg === null) return false;
  if (v.rdregIndex < rdreg.freeIndex - 1) return false;
  if (rdreg.count !== 0 && v.rdregIndex === rdreg.count - 1) {
    const end = rdreg.base + BigInt(rdreg.count) * KVM_VGIC_V3_REDIST_SIZE;
    for (const other of vm.rdRegions) if (other.base === end && other.freeIndex > 0) return false;
  }
  return true;
}

/**
 * The vCPU whose redistributor frame holds guest address `addr`, for guest `mmio` on a device
 * domain: `{ vcpu, off }`, `'unowned'` when the address is inside a region but in no vCPU's
 * frame (Xen aborts such an access, Q32), or null when it is in no region at all.
 */
export function rdistFrameAt(vm: KvmVm, addr: bigint): { vcpu: KvmVcpu; off: number } | 'unowned' | null {
  for (const v of vm.vcpus) {
    if (v.rdBase !== null && addr >= v.rdBase && addr < v.rdBase + KVM_VGIC_V3_REDIST_SIZE) return { vcpu: v, off: Number(addr - v.rdBase) };
  }
  for (const r of vm.rdRegions) {
    // A region's span: its count of frames, or (legacy) as many as it has handed out or vCPUs exist.
    const frames = r.count !== 0 ? r.count : Math.max(r.freeIndex, vm.onlineVcpus);
    if (addr >= r.base && addr < r.base + BigInt(frames) * KVM_VGIC_V3_REDIST_SIZE) return 'unowned';
  }
  return null;
}
