/**
 * What the userspace register groups of KVM's device API (DIST_REGS, REDIST_REGS, CPU_REGS,
 * CPU_SYSREGS, LEVEL_INFO, ITS_REGS) share: the answer type, KVM's region lookup
 * (vgic_find_mmio_region / check_region / vgic_uaccess, B.4), the detached context through
 * which Xen's handlers run for a host-side access, and the guest-level reading of Xen's
 * per-interrupt state (pending, active) that the userspace rules need.
 *
 * The layering (docs/vmm-registers.md §1): the device layer's attribute tables
 * (src/vmm/kvm-device.ts) do KVM's checks (vCPU lookup, EFAULT, EBUSY, not initialised) and
 * then call an effect function of the uaccess-* files, which takes Xen objects only. A userspace access behaves as the guest's access to
 * Xen's vGIC, except where KVM has a userspace-specific rule, and on KVM's register map.
 */
import { IRQS_PER_RANK, NR_LOCAL_IRQS } from '../arch/limits.js';
import { LR_STATE_ACTIVE, LR_STATE_PENDING, getField } from '../arch/lr.js';
import { VirtualCpuInterface } from '../hw/cpuif.js';
import {
  GIC_IRQ_GUEST_QUEUED, GIC_IRQ_GUEST_VISIBLE, Pcpu, testBit, type Domain, type Host, type PendingIrq, type Vcpu,
} from '../xen/types.js';
import { irqToPending, vgicRemoveIrqFromQueues, vgicSetIrqsPending } from '../xen/vgic.js';
import { emulateAccess, type FrameDefaults, type RegCtx, type RegRow } from '../xen/vreg.js';

import type { Errno, Uaccess } from './types.js';

export type { Errno, Uaccess } from './types.js';

/** The answer of a read, or of a write that succeeded (value 0). */
export function uvalue(value: bigint): Uaccess {
  return { value };
}

export const UOK: Uaccess = Object.freeze({ value: 0n });

export function uerr(errno: Errno): Uaccess {
  return { errno };
}

export function isErrno(u: Uaccess): u is { errno: Errno } {
  return 'errno' in u;
}

export const MASK32 = 0xffffffffn;

// ---------------------------------------------------------------------------------------
// The detached context (design decision 4).

/**
 * The context a host-side access runs Xen's code in: a pCPU object that is none of the host's
 * pCPUs, idle, with no `current`. Every Xen path that touches list registers does so only for
 * `cpu.current` (gic_raise_guest_irq, gic_raise_inflight_irq, the LR walks), so with no current
 * nothing is ever placed in an LR: an interrupt made pending here waits on lr_pending until its
 * vCPU next enters the guest, as an injection from another pCPU would. Its own (scratch) LR
 * file therefore stays empty. One per host, reused.
 */
const detached = new WeakMap<Host, Pcpu>();

export function detachedPcpu(host: Host): Pcpu {
  let cpu = detached.get(host);
  if (cpu === undefined) {
    cpu = new Pcpu(host, -1, new VirtualCpuInterface(host.version, host.nrLrs));
    detached.set(host, cpu);
  }
  return cpu;
}

/**
 * KVM takes every vCPU's lock before a register access and answers EBUSY when one is in
 * KVM_RUN; the device layer's table rows check that before calling an effect function. Reaching one
 * with a vCPU loaded on a pCPU is therefore a bug of the caller, not a VMM error.
 */
export function assertStopped(d: Domain): void {
  for (const v of d.vcpus) {
    if (v.runningOn !== null) {
      throw new Error(`userspace register access to d${d.id} while d${d.id}v${v.id} runs on pCPU ${v.runningOn} (the caller must answer EBUSY)`);
    }
  }
}

/** The context Xen's register rows get for a host-side access on behalf of `v` (decision 4). */
export function regCtx(v: Vcpu, frame: string): RegCtx {
  return { cpu: detachedPcpu(v.domain.host), current: v, owner: v, frame: `${frame} (userspace)` };
}

/**
 * One access of `size` bytes through Xen's register table. A Xen refusal (data abort) has no
 * userspace meaning: every register where Xen refuses a guest access has its own userspace
 * rule in the uaccess tables, so an abort here reads as 0 and ignores the write.
 */
export function xenRowAccess(rows: readonly RegRow[], defaults: FrameDefaults, ctx: RegCtx, off: number, size: 4 | 8, write: boolean, value: bigint): bigint {
  const mask = size === 4 ? MASK32 : (1n << 64n) - 1n;
  const r = emulateAccess(rows, defaults, ctx, { off, size, write, value: value & mask });
  return r.outcome === 'ok' && !write ? (r.value ?? 0n) : 0n;
}

// ---------------------------------------------------------------------------------------
// KVM's register map (vgic-mmio.c).

/** VGIC_ACCESS_* widths a region accepts. */
export type AccessWidths = '32' | '8/32' | '32/64';

/** What a region does for one 32-bit userspace access at `off` (offset in the frame). */
export type RegionRead<C> = (c: C, off: number) => bigint;
export type RegionWrite<C> = (c: C, off: number, value: bigint) => Uaccess;

/** struct vgic_register_region, with the userspace side only (uaccess_read / uaccess_write when KVM has one). */
export interface Region<C> {
  readonly name: string;
  readonly offset: number;
  readonly len: number;
  /** Bits per interrupt of a per-IRQ family: check_region refuses INTIDs beyond nr_irqs. */
  readonly bpi?: 1 | 2 | 8 | 64;
  readonly widths: AccessWidths;
  readonly read: RegionRead<C>;
  readonly write: RegionWrite<C>;
}

/** vgic_find_mmio_region: the region covering `offset` (regions sorted, not overlapping). */
export function vgicFindMmioRegion<C>(regions: readonly Region<C>[], offset: number): Region<C> | null {
  let lo = 0;
  let hi = regions.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = regions[mid]!;
    if (offset < r.offset) hi = mid - 1;
    else if (offset >= r.offset + r.len) lo = mid + 1;
    else return r;
  }
  return null;
}

/** VGIC_ADDR_TO_INTID: the first INTID a per-IRQ register at `offset` covers (families sit at multiples of their size). */
export function vgicAddrToIntid(offset: number, bpi: number): number {
  const familySize = (bpi * 1024) / 8;
  return ((offset % familySize) * 8) / bpi;
}

/** check_region: the width is one the region takes, the access is aligned, a per-IRQ register covers an allocated INTID. */
export function checkRegion<C>(region: Region<C>, offset: number, len: 1 | 4 | 8, nrIrqs: number): boolean {
  const ok = len === 4 || (len === 1 && region.widths === '8/32') || (len === 8 && region.widths === '32/64');
  if (!ok || offset % len !== 0) return false;
  return region.bpi === undefined || vgicAddrToIntid(offset, region.bpi) < nrIrqs;
}

/** vgic_get_mmio_region: the region for a `len`-byte access, or null. */
export function vgicGetMmioRegion<C>(regions: readonly Region<C>[], offset: number, len: 1 | 4 | 8, nrIrqs: number): Region<C> | null {
  const r = vgicFindMmioRegion(regions, offset);
  return r !== null && checkRegion(r, offset, len, nrIrqs) ? r : null;
}

/**
 * vgic_uaccess (vgic_uaccess_read / vgic_uaccess_write): one 32-bit userspace access. Where
 * KVM's map has no register (unknown offset, misaligned, beyond the interrupts), Linux's code
 * reads 0 and ignores the write, both successfully: only HAS_ATTR answers ENXIO there
 * (docs/vmm-registers.md §2 on the difference with KVM's documentation).
 */
export function vgicUaccess<C>(regions: readonly Region<C>[], c: C, nrIrqs: number, write: boolean, offset: number, value: bigint): Uaccess {
  const r = vgicGetMmioRegion(regions, offset, 4, nrIrqs);
  if (r === null) return UOK;
  if (write) return r.write(c, offset, value & MASK32);
  return uvalue(r.read(c, offset) & MASK32);
}

/** The HAS_ATTR lookup of vgic_v{2,3}_has_attr_regs: aligned 32-bit register there, or ENXIO. */
export function hasAttrRegs<C>(regions: readonly Region<C>[], offset: number, nrIrqs: number): 0 | Errno {
  if (offset % 4 !== 0) return 'ENXIO';
  return vgicGetMmioRegion(regions, offset, 4, nrIrqs) === null ? 'ENXIO' : 0;
}

/** Read as zero. */
export function raz(): bigint {
  return 0n;
}

/** Write ignored (successfully). */
export function wi(): Uaccess {
  return UOK;
}

/**
 * REGISTER_DESC_WITH_BITS_PER_IRQ_SHARED (GICv3 distributor): the part of a per-IRQ family
 * that covers the private INTIDs 0-31 is RAZ/WI (those live in the redistributors), the rest
 * has the family's handlers.
 */
export function sharedFamily<C>(name: string, offset: number, bpi: 1 | 2 | 8 | 64, widths: AccessWidths, read: RegionRead<C>, write: RegionWrite<C>): Region<C>[] {
  const privateLen = (bpi * NR_LOCAL_IRQS) / 8;
  return [
    { name: `${name} (private INTIDs: RAZ/WI)`, offset, len: privateLen, bpi, widths, read: raz, write: wi },
    { name, offset: offset + privateLen, len: (bpi * (1024 - NR_LOCAL_IRQS)) / 8, bpi, widths, read, write },
  ];
}

// ---------------------------------------------------------------------------------------
// Xen's per-interrupt state read at guest level.

/** For each record on a vCPU's inflight list, that vCPU (an SPI may sit on a former target's list, Q34). */
export function inflightOwners(d: Domain): Map<PendingIrq, Vcpu> {
  const m = new Map<PendingIrq, Vcpu>();
  for (const v of d.vcpus) {
    for (let n = v.inflightIrqs.next; n !== v.inflightIrqs; n = n.next) m.set(n.owner!, v);
  }
  return m;
}

/** The LR state (0 invalid, 1 pending, 2 active, 3 both) of p in its owner's saved LR file, 0 when not there. */
function lrState(owner: Vcpu, p: PendingIrq): number {
  if (!testBit(p, GIC_IRQ_GUEST_VISIBLE)) return 0;
  const host = owner.domain.host;
  const { iface, lrMask } = host.interfaceOf(owner);
  const lr = p.lr;
  if (lr >= host.nrLrs || !lrMask.test(lr)) return 0;
  if (getField(iface.lrs, lr, host.layout.virq) !== p.irq) return 0;
  return getField(iface.lrs, lr, host.layout.state);
}

/**
 * Is the interrupt pending, as the guest would see it? It is on a vCPU's inflight list and
 * either holds an assertion not yet in an LR (QUEUED) or sits in an LR in the pending state.
 * Xen has no line level (Q1, Q2), so this is also KVM's pending latch.
 */
export function xenIrqPending(owners: Map<PendingIrq, Vcpu>, p: PendingIrq): boolean {
  const owner = owners.get(p);
  if (owner === undefined) return false;
  if (testBit(p, GIC_IRQ_GUEST_QUEUED)) return true;
  return (lrState(owner, p) & LR_STATE_PENDING) !== 0;
}

/** Is the interrupt active? Only an LR in the active state says so (Xen's ACTIVE bit is a stale cache, §1.3). */
export function xenIrqActive(owners: Map<PendingIrq, Vcpu>, p: PendingIrq): boolean {
  const owner = owners.get(p);
  return owner !== undefined && (lrState(owner, p) & LR_STATE_ACTIVE) !== 0;
}

/** The 32 pending bits of INTIDs base..base+31 (base a multiple of 32, all below nr_irqs). */
export function pendingWord(v: Vcpu, base: number): bigint {
  const owners = inflightOwners(v.domain);
  let w = 0n;
  for (let i = 0; i < IRQS_PER_RANK; i++) if (xenIrqPending(owners, irqToPending(v, base + i)!)) w |= 1n << BigInt(i);
  return w;
}

/** The 32 active bits of INTIDs base..base+31. */
export function activeWord(v: Vcpu, base: number): bigint {
  const owners = inflightOwners(v.domain);
  let w = 0n;
  for (let i = 0; i < IRQS_PER_RANK; i++) if (xenIrqActive(owners, irqToPending(v, base + i)!)) w |= 1n << BigInt(i);
  return w;
}

/**
 * Set the pending state of each INTID base+i whose bit is set and that is not pending yet, the
 * way Xen's ISPENDR write does (vgic_set_irqs_pending: an injection, SGIs included; a
 * pass-through SPI pends its physical IRQ). An interrupt already pending is left alone, so a
 * restore that writes back what was read does not add a second assertion (setting a latch is
 * idempotent, injecting is not).
 */
export function setPendingBits(v: Vcpu, base: number, bits: bigint): void {
  const owners = inflightOwners(v.domain);
  const cpu = detachedPcpu(v.domain.host);
  for (let i = 0; i < IRQS_PER_RANK; i++) {
    if (((bits >> BigInt(i)) & 1n) === 0n) continue;
    if (xenIrqPending(owners, irqToPending(v, base + i)!)) continue;
    vgicSetIrqsPending(cpu, v, 1 << i, base / IRQS_PER_RANK);
  }
}

/**
 * Clear the pending state of each INTID base+i whose bit is set: an assertion Xen still holds
 * in its queues leaves them (vgic_remove_irq_from_queues, as the ITS CLEAR command does). One
 * pending in an LR of the saved file cannot be withdrawn without editing that file, which Xen
 * never does for a vCPU that is not current: it stays (docs/vmm-registers.md §4).
 */
export function clearPendingBits(v: Vcpu, base: number, bits: bigint): void {
  const owners = inflightOwners(v.domain);
  for (let i = 0; i < IRQS_PER_RANK; i++) {
    if (((bits >> BigInt(i)) & 1n) === 0n) continue;
    const p = irqToPending(v, base + i)!;
    const owner = owners.get(p);
    if (owner === undefined || testBit(p, GIC_IRQ_GUEST_VISIBLE) || !testBit(p, GIC_IRQ_GUEST_QUEUED)) continue;
    vgicRemoveIrqFromQueues(owner, p);
  }
}
