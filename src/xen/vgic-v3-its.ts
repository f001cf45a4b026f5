/**
 * Mirror of xen/arch/arm/vgic-v3-its.c, the virtual ITS (reference appendix C): the GITS_*
 * register frame as a table for the register walker (§C.3, §C.4), the translation tables
 * Xen keeps in guest RAM in its own format (§C.5), the command queue (§C.6) and every command
 * with its failure cases (§C.7). Function names follow Xen's in camelCase.
 *
 * Every command handler answers 0 or a negative code / errno name, which Xen only logs; the
 * queue moves on either way. Where Xen's code would run into undefined behaviour the model
 * throws XenCrash (docs/trace-format.md §9.4).
 */
import { LPI_OFFSET } from '../arch/limits.js';
import { gicRaiseGuestIrq, gicRemoveFromLrPending } from './gic-vgic.js';
import {
  gicv3AssignGuestEvent, gicv3ItsGetEventPendingIrq, gicv3ItsMapGuestDevice, gicv3RemoveGuestEvent, type HostIts,
} from './gic-v3-its.js';
import { INVALID_LPI, vgicVcpuInjectLpi } from './gic-v3-lpi.js';
import { PAGE_SIZE, readGuestLe, readGuestWords, writeGuestLe } from './guestcopy.js';
import {
  GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_PRISTINE_LPI, GIC_IRQ_GUEST_VISIBLE, XenCrash, clearBit, listEmpty, setBit, testBit,
  type Domain, type PendingIrq, type Pcpu, type Vcpu,
} from './types.js';
import { vgicInjectIrq, vgicReinitPendingIrq, vgicRemoveIrqFromQueues } from './vgic.js';
import { GICV3_PIDR2, genmask, sanitiseBaseAttrs } from './vgic-v3.js';
import { mutated } from './mutants.js';
import {
  RESERVED, UNHANDLED, emulateAccess, vregUpdate32, vregUpdate64,
  type FrameDefaults, type MmioAccess, type MmioOutcome, type RegCtx, type RegRow, type RowSide,
} from './vreg.js';

// ----- constants (§C.1) -----

export const ITS_CMD_SIZE = 32;
export const ITS_DOORBELL_OFFSET = 0x10040;
/** The control frame Xen emulates; the translation frame after it is not emulated. */
export const ITS_CONTROL_FRAME_SIZE = 0x10000;
export const GITS_IIDR_VALUE = 0x5800034c;
export const UNMAPPED_COLLECTION = 0xffff;
export const GITS_VALID_BIT = 1n << 63n;
export const GITS_CTLR_ENABLE = 1;
export const GITS_CTLR_QUIESCENT = 0x80000000;
export const GITS_BASER_INDIRECT = 1n << 62n;
const GITS_BASER_TYPE_SHIFT = 56n;
const GITS_BASER_ENTRY_SIZE_SHIFT = 48n;
export const GITS_BASER_TYPE_DEVICE = 1n;
export const GITS_BASER_TYPE_COLLECTION = 4n;
/** Type and Entry_Size, which the guest cannot change (GITS_BASER_RO_MASK). */
const GITS_BASER_RO_MASK = (7n << GITS_BASER_TYPE_SHIFT) | (0x1fn << GITS_BASER_ENTRY_SIZE_SHIFT);
/** Bytes of a device-table entry, a collection-table entry, an ITTE. */
export const DEV_TABLE_ENTRY_SIZE = 8;
export const COLL_TABLE_ENTRY_SIZE = 2;
export const ITTE_SIZE = 8;
/** INVALID_PADDR */
export const INVALID_PADDR = (1n << 64n) - 1n;

export const GITS_CMD = {
  MOVI: 0x01, INT: 0x03, CLEAR: 0x04, SYNC: 0x05, MAPD: 0x08, MAPC: 0x09, MAPTI: 0x0a, MAPI: 0x0b,
  INV: 0x0c, INVALL: 0x0d, MOVALL: 0x0e, DISCARD: 0x0f,
} as const;

/** Reset attributes: InnerShareable, outer SameAsInner, inner RaWaWb (vgic_v3_its_init_virtual). */
const BASE_ATTR = (1n << 10n) | (0n << 53n) | (7n << 59n);
export const GITS_CBASER_RESET = BASE_ATTR;
export const GITS_BASER0_RESET = (GITS_BASER_TYPE_DEVICE << GITS_BASER_TYPE_SHIFT) | (7n << GITS_BASER_ENTRY_SIZE_SHIFT) | BASE_ATTR;
export const GITS_BASER1_RESET = (GITS_BASER_TYPE_COLLECTION << GITS_BASER_TYPE_SHIFT) | (1n << GITS_BASER_ENTRY_SIZE_SHIFT) | BASE_ATTR;

/** struct virt_its (§C.2). */
export class VirtIts {
  enabled = false;
  /** Byte offsets into the command queue. */
  cwriter = 0;
  creadr = 0;
  cbaser = GITS_CBASER_RESET;
  baserDev = GITS_BASER0_RESET;
  baserColl = GITS_BASER1_RESET;
  maxCollections = 0;
  maxDevices = 0;
  readonly doorbellAddress: number;
  /** Not Xen state: the snapshot writer's last `lpi` and `its` text for the domain (src/machine/snapshot.ts), null until written. */
  snapCache: object | null = null;

  constructor(readonly d: Domain, readonly base: number, readonly devidBits: number, readonly evidBits: number) {
    this.doorbellAddress = base + ITS_DOORBELL_OFFSET;
  }

  /** The host ITS this one mirrors (same doorbell, same ID widths). */
  get hostIts(): HostIts {
    return { doorbell: this.doorbellAddress, devidBits: this.devidBits, evidBits: this.evidBits };
  }
}

/** vgic_v3_its_init_virtual (§C.2): the vITS of domain d at `base`; the domain now has an ITS. */
export function vgicV3ItsInitVirtual(d: Domain, base: number, devidBits: number, evidBits: number): VirtIts {
  const its = new VirtIts(d, base, devidBits, evidBits);
  d.vits = its;
  d.hasIts = true;
  return its;
}

function log(its: VirtIts, level: 'err' | 'warn' | 'debug', msg: string): void {
  its.d.host.printk(level, `d${its.d.id}: vGITS: ${msg}`);
}

// ----- the translation tables in guest memory (§C.5) -----

/** get_baser_phys_addr: bits 47:12, or with 64 KiB pages 47:16 plus 51:48 carried in 15:12. */
export function getBaserPhysAddr(reg: bigint): number {
  if ((reg & (1n << 9n)) !== 0n) return Number((reg & genmask(47, 16)) | ((reg & genmask(15, 12)) << 36n));
  return Number(reg & genmask(47, 12));
}

/** its_set_collection: store a vCPU id (or UNMAPPED_COLLECTION) as the collection's entry. */
export function itsSetCollection(its: VirtIts, collid: number, vcpuId: number): 0 | 'ENOENT' | 'EINVAL' {
  if (collid >= its.maxCollections) return 'ENOENT';
  const addr = getBaserPhysAddr(its.baserColl) + collid * COLL_TABLE_ENTRY_SIZE;
  return writeGuestLe(its.d.ram, addr, 2, BigInt(vcpuId & 0xffff)) ? 0 : 'EINVAL';
}

/** get_vcpu_from_collection: the vCPU of a mapped collection, or null. */
export function getVcpuFromCollection(its: VirtIts, collid: number): Vcpu | null {
  if (collid >= its.maxCollections) return null;
  const v = readGuestLe(its.d.ram, getBaserPhysAddr(its.baserColl) + collid * COLL_TABLE_ENTRY_SIZE, 2);
  if (v === null) return null;
  const id = Number(v);
  if (id === UNMAPPED_COLLECTION || id >= its.d.maxVcpus) return null;
  return its.d.vcpus[id] ?? null;
}

/** DEV_TABLE_ENTRY(addr, bits): ITT address bits 51:8, (bits - 1) in 4:0. */
export function devTableEntry(ittAddr: bigint, bits: number): bigint {
  return (ittAddr & genmask(51, 8)) | (BigInt((bits - 1) & 0x1f));
}

/** its_set_itt_address */
export function itsSetIttAddress(its: VirtIts, devid: number, ittAddress: bigint, nrBits: number): 0 | 'ENOENT' | 'EINVAL' {
  if (devid >= its.maxDevices) return 'ENOENT';
  const addr = getBaserPhysAddr(its.baserDev) + devid * DEV_TABLE_ENTRY_SIZE;
  return writeGuestLe(its.d.ram, addr, 8, devTableEntry(ittAddress, nrBits)) ? 0 : 'EINVAL';
}

/** its_get_itt: the device-table entry of devid, or null. */
export function itsGetItt(its: VirtIts, devid: number): bigint | null {
  if (devid >= its.maxDevices) return null;
  return readGuestLe(its.d.ram, getBaserPhysAddr(its.baserDev) + devid * DEV_TABLE_ENTRY_SIZE, 8);
}

/** DEV_TABLE_ITT_SIZE: 2^(bits 4:0 + 1) events. */
export function devTableIttSize(entry: bigint): number {
  return 2 ** (Number(entry & 0x1fn) + 1);
}

/**
 * its_get_itte_address: the ITTE of (devid, evid), or null. Xen also compares the ITT address
 * with INVALID_PADDR, which the masked address can never equal: an entry written by MAPD V=0
 * names an ITT at 0xf_ffff_ffff_ff00 and fails only because no RAM is there.
 */
export function itsGetItteAddress(its: VirtIts, devid: number, evid: number): number | null {
  const itt = itsGetItt(its, devid);
  if (itt === null) return null;
  if (evid >= devTableIttSize(itt)) return null;
  return Number(itt & genmask(51, 8)) + evid * ITTE_SIZE;
}

/** read_itte: (vCPU of the ITTE's collection, vLPI); null if any step fails. The vLPI may be 0. */
export function readItte(its: VirtIts, devid: number, evid: number): { vcpu: Vcpu; vlpi: number } | null {
  const addr = itsGetItteAddress(its, devid, evid);
  if (addr === null) return null;
  const itte = readGuestLe(its.d.ram, addr, 8);
  if (itte === null) return null;
  const vcpu = getVcpuFromCollection(its, Number((itte >> 32n) & 0xffffn));
  if (vcpu === null) return null;
  return { vcpu, vlpi: Number(itte & 0xffffffffn) };
}

/** write_itte: store (collection, vLPI) into the ITTE; false if the address or the write fails. */
export function writeItte(its: VirtIts, devid: number, evid: number, collid: number, vlpi: number): boolean {
  const addr = itsGetItteAddress(its, devid, evid);
  if (addr === null) return false;
  return writeGuestLe(its.d.ram, addr, 8, (BigInt(collid & 0xffff) << 32n) | BigInt(vlpi >>> 0));
}

// ----- command fields (§C.6) -----

function field(cmd: readonly bigint[], word: number, shift: number, size: number): number {
  return Number((cmd[word]! >> BigInt(shift)) & ((1n << BigInt(size)) - 1n));
}
const cmdCommand = (c: readonly bigint[]): number => field(c, 0, 0, 8);
const cmdDeviceid = (c: readonly bigint[]): number => field(c, 0, 32, 32);
const cmdSize = (c: readonly bigint[]): number => field(c, 1, 0, 5);
const cmdId = (c: readonly bigint[]): number => field(c, 1, 0, 32);
const cmdPhysicalId = (c: readonly bigint[]): number => field(c, 1, 32, 32);
const cmdCollection = (c: readonly bigint[]): number => field(c, 2, 0, 16);
const cmdValidbit = (c: readonly bigint[]): boolean => field(c, 2, 63, 1) === 1;
const cmdIttaddr = (c: readonly bigint[]): bigint => BigInt(field(c, 2, 8, 44)) << 8n;

export type CmdResult = 0 | -1 | 'ENOENT' | 'EINVAL' | 'EBUSY' | 'EEXIST';

// ----- LPI properties (§C.8) -----

/**
 * update_lpi_property: with some redistributor enabled, read the LPI's property byte and
 * cache priority and enable bit in the record; nothing (success) before that.
 */
export function updateLpiProperty(d: Domain, p: PendingIrq): 0 | 'EINVAL' {
  if (!d.rdistsEnabled) return 0;
  const addr = Number(d.rdistPropbase & genmask(51, 12)) + p.irq - LPI_OFFSET;
  // A record whose number is below 8192 points below the table; Xen's unsigned sum may wrap.
  const prop = addr < 0 ? null : readGuestLe(d.ram, addr, 1);
  if (prop === null) return 'EINVAL';
  p.lpiPriority = Number(prop) & 0xfc;
  if ((prop & 1n) !== 0n) setBit(p, GIC_IRQ_GUEST_ENABLED);
  else clearBit(p, GIC_IRQ_GUEST_ENABLED);
  return 0;
}

/**
 * update_lpi_vgic_status: an enabled LPI that is pending (inflight) and not in an LR is raised
 * on v; a disabled one leaves lr_pending. A record whose links were never initialised counts
 * as inflight (its NULL link is not "empty") and has INTID 0.
 */
export function updateLpiVgicStatus(cpu: Pcpu, v: Vcpu, p: PendingIrq): void {
  if (testBit(p, GIC_IRQ_GUEST_ENABLED)) {
    const inflight = p.linksUninit || !listEmpty(p.inflight);
    if (inflight && !testBit(p, GIC_IRQ_GUEST_VISIBLE)) gicRaiseGuestIrq(cpu, v, p.irq, p.lpiPriority);
  } else {
    gicRemoveFromLrPending(v, p);
  }
}

// ----- commands (§C.7) -----

/** INT: inject the event's vLPI (into the record's lpi_vcpu_id, not the ITTE's collection). */
export function itsHandleInt(cpu: Pcpu, its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const e = readItte(its, cmdDeviceid(cmd), cmdId(cmd));
  if (e === null || e.vlpi === INVALID_LPI) return -1;
  vgicVcpuInjectLpi(cpu, its.d, e.vlpi);
  return 0;
}

/** MAPC: collection -> vCPU (V=1) or unmapped (V=0); the RDbase bound is checked even for V=0. */
export function itsHandleMapc(its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const collid = cmdCollection(cmd);
  const rdbase = field(cmd, 2, 16, 44);
  if (collid >= its.maxCollections) return -1;
  if (rdbase >= its.d.maxVcpus) return -1;
  // A failing table write is ignored.
  itsSetCollection(its, collid, cmdValidbit(cmd) ? rdbase : UNMAPPED_COLLECTION);
  return 0;
}

/** CLEAR: drop the pending state of the event's record unless it is in an LR. */
export function itsHandleClear(its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const devid = cmdDeviceid(cmd);
  const eventid = cmdId(cmd);
  const e = readItte(its, devid, eventid);
  if (e === null) return -1;
  const p = gicv3ItsGetEventPendingIrq(its.d, its.doorbellAddress, devid, eventid);
  if (p === null) return -1;
  if (!testBit(p, GIC_IRQ_GUEST_VISIBLE) || mutated(its.d.host, 'clear-removes-visible')) vgicRemoveIrqFromQueues(e.vcpu, p);
  return 0;
}

/** INV: re-read the event's property byte and act on a change of its enable bit. */
export function itsHandleInv(cpu: Pcpu, its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const d = its.d;
  if (!d.rdistsEnabled) return 0;
  const devid = cmdDeviceid(cmd);
  const eventid = cmdId(cmd);
  const e = readItte(its, devid, eventid);
  if (e === null || e.vlpi === INVALID_LPI) return -1;
  const p = gicv3ItsGetEventPendingIrq(d, its.doorbellAddress, devid, eventid);
  if (p === null) return -1;
  if (updateLpiProperty(d, p) !== 0) return -1;
  updateLpiVgicStatus(cpu, e.vcpu, p);
  return 0;
}

/**
 * INVALL: the INV step for every mapped LPI whose lpi_vcpu_id is the collection's vCPU, walking
 * pend_lpi_tree in batches of 16 as Xen does (the next batch starts after the last LPI of this
 * vCPU seen, or one further; the walk stops at a short batch or at nr_lpis). An unmapped
 * collection is a NULL vCPU in Xen: a crash.
 */
export function itsHandleInvall(cpu: Pcpu, its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const d = its.d;
  if (!d.rdistsEnabled) return 0;
  const collid = cmdCollection(cmd);
  const vcpu = getVcpuFromCollection(its, collid);
  if (vcpu === null) throw new XenCrash(`its_handle_invall: collection ${collid} maps to no vCPU; Xen locks vcpu->arch.vgic.lock through a NULL pointer`);
  const keys = [...d.pendLpiTree.keys()].sort((a, b) => a - b);
  let ret: CmdResult = 0;
  let vlpi = 0;
  for (;;) {
    // radix_tree_gang_lookup: up to 16 records with key >= vlpi, ascending.
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < vlpi) lo = mid + 1;
      else hi = mid;
    }
    const batch = keys.slice(lo, lo + 16).map((k) => d.pendLpiTree.get(k)!);
    const start = vlpi;
    let matched = false;
    for (const p of batch) {
      if (p.lpiVcpuId !== vcpu.id) continue;
      matched = true;
      vlpi = p.irq;
      if (updateLpiProperty(d, p) === 0) updateLpiVgicStatus(cpu, vcpu, p);
      else ret = 'EINVAL';
    }
    if (batch.length < 16) break;
    // Without a match Xen steps one by one and meets this same batch until it passes its first key.
    const next = matched ? vlpi + 1 : Math.max(start, keys[lo]!) + 1;
    if (next <= start) throw new XenCrash(`its_handle_invall: the tree walk restarts at vLPI ${next} after ${start} and never ends (a record's irq no longer matches its key)`);
    if (next >= d.nrLpis) break;
    vlpi = next;
  }
  return ret;
}

/** The ITTE's vLPI with the vCPU of its record, whatever the collection says (a mutant's reading). */
function readItteAnyCollection(its: VirtIts, devid: number, evid: number): { vcpu: Vcpu; vlpi: number } | null {
  const addr = itsGetItteAddress(its, devid, evid);
  const itte = addr === null ? null : readGuestLe(its.d.ram, addr, 8);
  if (itte === null) return null;
  const vlpi = Number(itte & 0xffffffffn);
  const vcpu = its.d.vcpus[its.d.pendLpiTree.get(vlpi)?.lpiVcpuId ?? 0] ?? its.d.vcpus[0]!;
  return { vcpu, vlpi };
}

/** its_discard_event: unmap the event's vLPI (tree, queues, record, host entry). */
export function itsDiscardEvent(its: VirtIts, vdevid: number, vevid: number): CmdResult {
  const e = readItte(its, vdevid, vevid) ?? (mutated(its.d.host, 'discard-ignores-collection') ? readItteAnyCollection(its, vdevid, vevid) : null);
  if (e === null || e.vlpi === INVALID_LPI) return 'ENOENT';
  const d = its.d;
  const p = d.pendLpiTree.get(e.vlpi);
  if (p === undefined) return 'ENOENT';
  d.pendLpiTree.delete(e.vlpi);
  d.lpiStaleKeys.delete(e.vlpi);
  vgicRemoveIrqFromQueues(e.vcpu, p);
  vgicReinitPendingIrq(p, INVALID_LPI);
  return gicv3RemoveGuestEvent(d, its.doorbellAddress, vdevid, vevid);
}

/**
 * its_unmap_device: DISCARD every event of the device's ITT, ignoring errors. Only an ITTE
 * that holds a non-zero vLPI can do anything, and RAM never written holds zeros, so the model
 * visits only the ITTEs in written pages (Xen walks all 2^n of them).
 */
export function itsUnmapDevice(its: VirtIts, devid: number): void {
  const itt = itsGetItt(its, devid);
  if (itt === null || its.d.ram === null) return;
  const base = Number(itt & genmask(51, 8));
  const count = devTableIttSize(itt);
  const end = base + count * ITTE_SIZE;
  for (const page of its.d.ram.writtenPagesIn(base, end)) {
    const lo = Math.max(base, page * PAGE_SIZE);
    const hi = Math.min(end, (page + 1) * PAGE_SIZE);
    for (let addr = lo; addr < hi; addr += ITTE_SIZE) itsDiscardEvent(its, devid, (addr - base) / ITTE_SIZE);
  }
}

/**
 * MAPD: V=1 registers the host device and points the device-table entry at the ITT; V=0
 * discards every event, removes the host device (errors ignored) and writes the "invalid"
 * entry. The table write comes last, so a DeviceID beyond the table fails after the host
 * side already changed.
 */
export function itsHandleMapd(its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const devid = cmdDeviceid(cmd);
  const size = cmdSize(cmd) + 1;
  const valid = cmdValidbit(cmd);
  const ittAddr = cmdIttaddr(cmd);
  if (valid && size > its.evidBits) return -1;
  if (!valid) itsUnmapDevice(its, devid);
  // Every domain with an ITS is treated as the hardware domain: its devices are the host's.
  const ret = gicv3ItsMapGuestDevice(its.d, its.hostIts, devid, its.doorbellAddress, devid, 2 ** size, valid);
  if (ret !== 0 && valid && !(ret === 'EBUSY' && mutated(its.d.host, 'mapd-remap-replaces-itt'))) return ret;
  return valid ? itsSetIttAddress(its, devid, ittAddr, size) : itsSetIttAddress(its, devid, INVALID_PADDR, 1);
}

/**
 * MAPTI / MAPI: map (device, event) to vLPI `intid` on a collection. Refused when the event
 * already has a live vLPI, the collection is unmapped, intid >= nr_lpis (an LPI number against
 * a count; nothing refuses numbers below 8192), the ITTE cannot be written, the host has no
 * such event, the property byte cannot be read, or another event already maps the vLPI.
 */
export function itsHandleMapti(its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const d = its.d;
  const devid = cmdDeviceid(cmd);
  const eventid = cmdId(cmd);
  const intid = cmdCommand(cmd) === GITS_CMD.MAPI ? eventid : cmdPhysicalId(cmd);
  const collid = cmdCollection(cmd);

  const old = readItte(its, devid, eventid);
  if (old !== null && old.vlpi !== INVALID_LPI) return -1;
  const vcpu = getVcpuFromCollection(its, collid);
  if (vcpu === null || intid >= d.nrLpis + (mutated(d.host, 'mapti-bounded-by-id-space') ? LPI_OFFSET : 0)) return -1;
  if (!writeItte(its, devid, eventid, collid, intid)) return -1;

  const revert = (): void => {
    writeItte(its, devid, eventid, UNMAPPED_COLLECTION, INVALID_LPI);
  };
  const pirq = gicv3AssignGuestEvent(d, its.doorbellAddress, devid, eventid, intid);
  if (pirq === null) {
    revert();
    return -1;
  }
  // A record still in the tree under another number keeps that key (the model notes it).
  for (const [k, q] of d.pendLpiTree) if (q === pirq && k !== intid) d.lpiStaleKeys.add(k);
  vgicReinitPendingIrq(pirq, intid);
  let ret: CmdResult = updateLpiProperty(d, pirq);
  if (ret === 0) {
    pirq.lpiVcpuId = vcpu.id;
    // New: an LR still holding this number belongs to an older mapping.
    setBit(pirq, GIC_IRQ_GUEST_PRISTINE_LPI);
    if (!d.pendLpiTree.has(intid)) {
      d.pendLpiTree.set(intid, pirq);
      return 0;
    }
    ret = 'EEXIST';
  }
  gicv3RemoveGuestEvent(d, its.doorbellAddress, devid, eventid);
  revert();
  return ret;
}

/**
 * MOVI: retarget the event's record to the new collection's vCPU (only future injections
 * follow; a pending instance stays where it is), then rewrite the ITTE.
 */
export function itsHandleMovi(cpu: Pcpu, its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const devid = cmdDeviceid(cmd);
  const eventid = cmdId(cmd);
  const collid = cmdCollection(cmd);
  const e = readItte(its, devid, eventid);
  if (e === null || e.vlpi === INVALID_LPI) return -1;
  const nvcpu = getVcpuFromCollection(its, collid);
  if (nvcpu === null) return -1;
  const p = gicv3ItsGetEventPendingIrq(its.d, its.doorbellAddress, devid, eventid);
  if (p === null) return -1;
  const oldVcpu = its.d.vcpus[p.lpiVcpuId];
  p.lpiVcpuId = nvcpu.id;
  if (mutated(its.d.host, 'movi-moves-pending') && oldVcpu !== undefined && oldVcpu !== nvcpu && !p.linksUninit
    && !listEmpty(p.inflight) && !testBit(p, GIC_IRQ_GUEST_VISIBLE)) {
    vgicRemoveIrqFromQueues(oldVcpu, p);
    vgicInjectIrq(cpu, its.d, nvcpu, e.vlpi, true);
  }
  return writeItte(its, devid, eventid, collid, e.vlpi) ? 0 : -1;
}

/** DISCARD: its_discard_event, then clear the ITTE. */
export function itsHandleDiscard(its: VirtIts, cmd: readonly bigint[]): CmdResult {
  const devid = cmdDeviceid(cmd);
  const eventid = cmdId(cmd);
  const ret = itsDiscardEvent(its, devid, eventid);
  if (ret !== 0) return ret;
  return writeItte(its, devid, eventid, UNMAPPED_COLLECTION, INVALID_LPI) ? 0 : -1;
}

/** ITS_CMD_BUFFER_SIZE: (Size + 1) pages. */
export function itsCmdBufferSize(cbaser: bigint): number {
  return (Number(cbaser & 0xffn) + 1) * PAGE_SIZE;
}

/** ITS_CMD_OFFSET: bits 19:5 of CWRITER / CREADR. */
export function itsCmdOffset(reg: bigint): number {
  return Number(reg & 0xfffe0n);
}

function hex16(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

/**
 * vgic_its_handle_cmds (§C.6): run the queue from CREADR to CWRITER. A CWRITER beyond the
 * queue processes nothing; a command that cannot be read stops the queue there; every other
 * command advances CREADR whatever its outcome.
 */
export function vgicItsHandleCmds(cpu: Pcpu, its: VirtIts): 0 | -1 | 'EINVAL' {
  const addr = Number(its.cbaser & genmask(51, 12));
  const size = itsCmdBufferSize(its.cbaser);
  if (its.cwriter >= size) return -1;
  while (its.creadr !== its.cwriter) {
    const cmd = readGuestWords(its.d.ram, addr + its.creadr, 4);
    if (cmd === null && mutated(its.d.host, 'creadr-skips-unreadable-command')) {
      its.creadr = (its.creadr + ITS_CMD_SIZE) % size;
      continue;
    }
    if (cmd === null) return 'EINVAL';
    let ret: CmdResult = 0;
    switch (cmdCommand(cmd)) {
      case GITS_CMD.CLEAR: ret = itsHandleClear(its, cmd); break;
      case GITS_CMD.DISCARD: ret = itsHandleDiscard(its, cmd); break;
      case GITS_CMD.INT: ret = itsHandleInt(cpu, its, cmd); break;
      case GITS_CMD.INV: ret = itsHandleInv(cpu, its, cmd); break;
      case GITS_CMD.INVALL: ret = itsHandleInvall(cpu, its, cmd); break;
      case GITS_CMD.MAPC: ret = itsHandleMapc(its, cmd); break;
      case GITS_CMD.MAPD: ret = itsHandleMapd(its, cmd); break;
      case GITS_CMD.MAPI:
      case GITS_CMD.MAPTI: ret = itsHandleMapti(its, cmd); break;
      case GITS_CMD.MOVALL: log(its, 'debug', 'ignoring MOVALL command'); break;
      case GITS_CMD.MOVI: ret = itsHandleMovi(cpu, its, cmd); break;
      case GITS_CMD.SYNC: break;
      default:
        log(its, 'warn', `unhandled ITS command 0x${cmdCommand(cmd).toString(16)}: ${cmd.map(hex16).join(' ')}`);
        break;
    }
    its.creadr = (its.creadr + ITS_CMD_SIZE) % size;
    if (ret !== 0) log(its, 'warn', `ITS command error ${ret} while handling command 0x${cmdCommand(cmd).toString(16).padStart(2, '0')}: ${cmd.map(hex16).join(' ')}`);
  }
  return 0;
}

// ----- registers (§C.3, §C.4) -----

/** its_baser_table_size: page size {4K, 16K, 64K, 64K}[Page_Size] times (Size + 1). */
export function itsBaserTableSize(baser: bigint): number {
  const pageSize = [0x1000, 0x4000, 0x10000, 0x10000][Number((baser >> 8n) & 3n)]!;
  return pageSize * (Number(baser & 0xffn) + 1);
}

/** its_baser_nr_entries */
export function itsBaserNrEntries(baser: bigint): number {
  const entrySize = Number((baser >> GITS_BASER_ENTRY_SIZE_SHIFT) & 0x1fn) + 1;
  return Math.floor(itsBaserTableSize(baser) / entrySize);
}

/** vgic_v3_verify_its_status: an enable request stands only with CBASER and both BASERs valid. */
export function vgicV3VerifyItsStatus(its: VirtIts, status: boolean): boolean {
  if (!status) return false;
  const collValid = (its.baserColl & GITS_VALID_BIT) !== 0n || mutated(its.d.host, 'its-enable-without-baser1');
  if ((its.cbaser & GITS_VALID_BIT) === 0n || (its.baserDev & GITS_VALID_BIT) === 0n || !collValid) {
    its.d.host.printk('warn', `d${its.d.id} tried to enable ITS without having the tables configured.`);
    return false;
  }
  return true;
}

/**
 * sanitize_its_base_reg: the attribute rule of sanitiseBaseAttrs at the GITS_BASER positions
 * (shareability 11:10, inner cacheability 61:59, outer 55:53); CBASER uses it too.
 */
export function sanitizeItsBaseReg(reg: bigint): bigint {
  return sanitiseBaseAttrs(reg, 10, 59, 53);
}

function itsOf(ctx: RegCtx): VirtIts {
  return ctx.current.domain.vits!;
}

const W32_IGNORED: RowSide = { widths: 'W' };
const W64_IGNORED: RowSide = { widths: '64' };

/** Write of a BASER: geometry fields forced, attributes sanitised, limits recomputed. */
function writeBaser(its: VirtIts, a: MmioAccess, which: 'dev' | 'coll'): 'ok' {
  if (its.enabled) {
    log(its, which === 'dev' ? 'warn' : 'debug', 'tried to change BASER with the ITS enabled.');
    return 'ok';
  }
  let reg = vregUpdate64(which === 'dev' ? its.baserDev : its.baserColl, a);
  reg &= ~(GITS_BASER_RO_MASK | GITS_BASER_INDIRECT);
  if (which === 'dev') {
    reg |= (BigInt(DEV_TABLE_ENTRY_SIZE - 1) << GITS_BASER_ENTRY_SIZE_SHIFT) | (GITS_BASER_TYPE_DEVICE << GITS_BASER_TYPE_SHIFT);
    reg = sanitizeItsBaseReg(reg);
    its.maxDevices = (reg & GITS_VALID_BIT) !== 0n ? Math.min(itsBaserNrEntries(reg), 2 ** its.devidBits) : 0;
    its.baserDev = reg;
  } else {
    reg |= (BigInt(COLL_TABLE_ENTRY_SIZE - 1) << GITS_BASER_ENTRY_SIZE_SHIFT) | (GITS_BASER_TYPE_COLLECTION << GITS_BASER_TYPE_SHIFT);
    reg = sanitizeItsBaseReg(reg);
    its.maxCollections = (reg & GITS_VALID_BIT) !== 0n ? itsBaserNrEntries(reg) : 0;
    its.baserColl = reg;
  }
  return 'ok';
}

/** GITS_TYPER: Physical, 8-byte ITTEs, the EventID and DeviceID widths; PTA 0 (§C.3). */
export function gitsTyper(its: VirtIts): bigint {
  return 1n | (BigInt(ITTE_SIZE - 1) << 4n) | (BigInt(its.evidBits - 1) << 8n) | (BigInt(its.devidBits - 1) << 13n);
}

/** GITS_CTLR as read: Enabled, and Quiescent when the queue is empty. */
export function gitsCtlr(its: VirtIts): number {
  return ((its.enabled ? GITS_CTLR_ENABLE : 0) | (its.cwriter === its.creadr ? GITS_CTLR_QUIESCENT : 0)) >>> 0;
}

/** The control frame, row by row (vgic_v3_its_mmio_read / _write); anything else aborts. */
export const GITS_ROWS: readonly RegRow[] = [
  {
    name: 'GITS_CTLR', start: 0x0000, end: 0x0003,
    read: { widths: 'W', fn: (ctx) => BigInt(gitsCtlr(itsOf(ctx))) },
    write: {
      widths: 'W',
      fn: (ctx, a) => {
        const its = itsOf(ctx);
        const ctlr = its.enabled ? GITS_CTLR_ENABLE : 0;
        const reg = vregUpdate32(ctlr, a);
        // Enabling does not run commands already queued: only a CWRITER write does.
        if ((ctlr ^ reg) !== 0) its.enabled = vgicV3VerifyItsStatus(its, (reg & GITS_CTLR_ENABLE) !== 0);
        if (its.enabled && ctlr === 0 && mutated(its.d.host, 'its-enable-drains-queue')) vgicItsHandleCmds(ctx.cpu, its);
        return 'ok';
      },
    },
  },
  { name: 'GITS_IIDR', start: 0x0004, end: 0x0007, read: { widths: 'W', fn: () => BigInt(GITS_IIDR_VALUE) }, write: W32_IGNORED },
  // A 32-bit write at 0x08 is ignored; a 64-bit one fails that width check, 0x0c-0x0f is not decoded.
  { name: 'GITS_TYPER', start: 0x0008, end: 0x000b, reg64: true, read: { widths: '64', fn: (ctx) => gitsTyper(itsOf(ctx)) }, write: W32_IGNORED },
  { name: 'GITS_TYPER (upper)', start: 0x000c, end: 0x000f, base: 0x0008, reg64: true, read: { widths: '64', fn: (ctx) => gitsTyper(itsOf(ctx)) }, write: UNHANDLED },
  { name: 'reserved', start: 0x0018, end: 0x001f, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0x0020, end: 0x003f, read: RESERVED, write: RESERVED },
  { name: 'reserved', start: 0x0040, end: 0x007f, read: RESERVED, write: RESERVED },
  {
    name: 'GITS_CBASER', start: 0x0080, end: 0x0087, reg64: true,
    read: { widths: '64', fn: (ctx) => itsOf(ctx).cbaser },
    write: {
      widths: '64',
      fn: (ctx, a) => {
        const its = itsOf(ctx);
        if (its.enabled) {
          log(its, 'warn', 'tried to change CBASER with the ITS enabled.');
          return 'ok';
        }
        its.cbaser = sanitizeItsBaseReg(vregUpdate64(its.cbaser, a));
        // CREADR restarts at 0; CWRITER keeps its value.
        its.creadr = 0;
        if (mutated(its.d.host, 'cbaser-resets-cwriter')) its.cwriter = 0;
        return 'ok';
      },
    },
  },
  {
    name: 'GITS_CWRITER', start: 0x0088, end: 0x008f, reg64: true,
    read: { widths: '64', fn: (ctx) => BigInt(itsOf(ctx).cwriter) },
    write: {
      widths: '64',
      fn: (ctx, a) => {
        const its = itsOf(ctx);
        its.cwriter = itsCmdOffset(vregUpdate64(BigInt(its.cwriter), a));
        if (its.enabled && vgicItsHandleCmds(ctx.cpu, its) !== 0) log(its, 'warn', 'error handling ITS commands');
        return 'ok';
      },
    },
  },
  { name: 'GITS_CREADR', start: 0x0090, end: 0x0097, reg64: true, read: { widths: '64', fn: (ctx) => BigInt(itsOf(ctx).creadr) }, write: W64_IGNORED },
  { name: 'reserved', start: 0x0098, end: 0x00ff, read: RESERVED, write: RESERVED },
  {
    name: 'GITS_BASER0', start: 0x0100, end: 0x0107, reg64: true,
    read: { widths: '64', fn: (ctx) => itsOf(ctx).baserDev },
    write: { widths: '64', fn: (ctx, a) => writeBaser(itsOf(ctx), a, 'dev') },
  },
  {
    name: 'GITS_BASER1', start: 0x0108, end: 0x010f, reg64: true,
    read: { widths: '64', fn: (ctx) => itsOf(ctx).baserColl },
    write: { widths: '64', fn: (ctx, a) => writeBaser(itsOf(ctx), a, 'coll') },
  },
  { name: 'GITS_BASER2-7', start: 0x0110, end: 0x013f, reg64: true, read: W64_IGNORED, write: W64_IGNORED },
  { name: 'reserved', start: 0x0140, end: 0xbfff, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0xc000, end: 0xffe7, read: RESERVED, write: RESERVED },
  { name: 'GITS_PIDR2', start: 0xffe8, end: 0xffeb, read: { widths: 'W', fn: () => BigInt(GICV3_PIDR2) }, write: W32_IGNORED },
  { name: 'implementation defined', start: 0xffec, end: 0xffff, read: RESERVED, write: RESERVED },
];

/** Offsets Xen's switch does not decode abort, in both directions. */
const ITS_DEFAULTS: FrameDefaults = { read: 'abort', write: 'abort' };

/** vgic_v3_its_mmio_read / _write: one access to the control frame, `off` from its base. */
export function vgicV3ItsMmio(cpu: Pcpu, off: number, size: 1 | 2 | 4 | 8, write: boolean, value: bigint): MmioOutcome {
  const current = cpu.current!;
  return emulateAccess(GITS_ROWS, ITS_DEFAULTS, { cpu, current, owner: current, frame: 'vGITS' }, { off, size, write, value });
}
