/**
 * Mirror of the guest-device part of xen/arch/arm/gic-v3-its.c (reference §C.5): the
 * per-domain registry of host devices, keyed by (virtual ITS doorbell, DeviceID), each with
 * its host LPI blocks and one pre-allocated pending_irq per event. Host ITS commands (MAPD,
 * MAPTI, INV, SYNC to the physical ITS) always succeed here and are not modelled further.
 */
import { LPI_BLOCK, gicv3AllocateHostLpiBlock, gicv3FreeHostLpiBlock, gicv3LpiUpdateHostEntry, INVALID_LPI } from './gic-v3-lpi.js';
import { PendingIrq, XenCrash, listEmpty, type Domain } from './types.js';

/** The host ITS a virtual ITS mirrors: its doorbell and ID widths (host_its). */
export interface HostIts {
  readonly doorbell: number;
  readonly devidBits: number;
  readonly evidBits: number;
}

/** struct its_device */
export class ItsDevice {
  /** host_lpi_blocks: the first host LPI of each block of 32 events. */
  readonly hostLpiBlocks: number[] = [];
  /** pend_irqs: xzalloc'd records, one per event, made on first use (they start uninitialised). */
  private readonly pendIrqs = new Map<number, PendingIrq>();
  /** Not Xen state: the snapshot writer's last `its_devices` entry for this device (src/machine/snapshot.ts), null until written. */
  snapCache: object | null = null;

  constructor(
    readonly guestDoorbell: number,
    readonly guestDevid: number,
    readonly hostDevid: number,
    /** eventids: max(32, the event count rounded up to a power of two). */
    readonly eventids: number,
  ) {}

  /** &dev->pend_irqs[eventid] (eventid < eventids). */
  pendIrq(eventid: number): PendingIrq {
    let p = this.pendIrqs.get(eventid);
    if (p === undefined) {
      p = new PendingIrq(0);
      p.lpiVcpuId = 0; // zeroed memory, not INVALID_VCPU_ID
      p.linksUninit = true;
      this.pendIrqs.set(eventid, p);
    }
    return p;
  }

  /** The records made so far, by event (for snapshots and the free check). */
  records(): ReadonlyMap<number, PendingIrq> {
    return this.pendIrqs;
  }
}

/** The registry key of (doorbell, DeviceID). */
export function itsDeviceKey(doorbell: number, devid: number): string {
  return `${doorbell}:${devid}`;
}

/** BIT(fls(n - 1)): n rounded up to a power of two (n >= 1). */
function roundUpPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * remove_mapped_guest_device: give the host LPIs back and free the device. Xen frees the
 * pending_irq records even if one is still in the domain's pend_lpi_tree or on a vCPU list
 * (an event whose DISCARD failed): that leaves freed memory reachable, a crash here.
 */
function removeMappedGuestDevice(d: Domain, dev: ItsDevice): 0 {
  const live = new Set(d.pendLpiTree.values());
  for (const [evid, p] of dev.records()) {
    const inTree = live.has(p);
    if (inTree || (!p.linksUninit && (!listEmpty(p.inflight) || !listEmpty(p.lrQueue)))) {
      throw new XenCrash(`remove_mapped_guest_device: d${d.id} device ${dev.guestDevid} is freed while the record of its event ${evid} `
        + `(vLPI ${p.irq}) is still ${inTree ? 'in pend_lpi_tree' : 'on a vCPU list'} (use after free)`);
    }
  }
  const data = d.host.hostLpis!;
  for (const first of dev.hostLpiBlocks) gicv3FreeHostLpiBlock(data, first);
  return 0;
}

/**
 * gicv3_its_map_guest_device (§C.5): V=1 registers (doorbell, devid) with max(32, 2^n)
 * events and allocates their host LPIs; V=0 removes a registered device. Errors in Xen's
 * order: EINVAL (DeviceID or event count too large for the host ITS, checked even for V=0),
 * then EBUSY (V=1 on a registered device) or ENOENT (V=0 on an unknown one). Running out of
 * host LPIs is a crash: Xen's error path frees the device it already put in the registry.
 */
export function gicv3ItsMapGuestDevice(
  d: Domain, hostIts: HostIts, hostDevid: number, guestDoorbell: number, guestDevid: number, nrEventsIn: number, valid: boolean,
): 0 | 'EINVAL' | 'EBUSY' | 'ENOENT' {
  if (hostDevid >= 2 ** hostIts.devidBits) return 'EINVAL';
  let nrEvents = roundUpPow2(nrEventsIn);
  if (nrEvents < LPI_BLOCK) nrEvents = LPI_BLOCK;
  if (nrEvents >= 2 ** hostIts.evidBits) return 'EINVAL';

  const key = itsDeviceKey(guestDoorbell, guestDevid);
  const existing = d.itsDevices.get(key);
  if (existing !== undefined) {
    if (valid) {
      d.host.printk('warn', `d${d.id} tried to remap guest ITS device 0x${guestDevid.toString(16)} to host device 0x${hostDevid.toString(16)}`);
      return 'EBUSY';
    }
    d.itsDevices.delete(key);
    return removeMappedGuestDevice(d, existing);
  }
  if (!valid) return 'ENOENT';

  const data = d.host.hostLpis!;
  const dev = new ItsDevice(guestDoorbell, guestDevid, hostDevid, nrEvents);
  d.itsDevices.set(key, dev);
  const blocks = nrEvents / LPI_BLOCK;
  if (blocks > data.freeBlocks) {
    throw new XenCrash(`gicv3_its_map_guest_device: d${d.id} device ${guestDevid} needs ${blocks} blocks of host LPIs, ${data.freeBlocks} are free: `
      + 'the ENOSPC error path frees the its_device while it is still in the device tree (use after free)');
  }
  for (let i = 0; i < blocks; i++) {
    const first = gicv3AllocateHostLpiBlock(data, d);
    if (first === 'ENOSPC') throw new Error('gicv3_allocate_host_lpi_block: ENOSPC after the free-block check');
    dev.hostLpiBlocks.push(first);
  }
  return 0;
}

/** get_event_pending_irq: the event's record and host LPI, or null (no such device or event). */
function getEventPendingIrq(d: Domain, doorbell: number, devid: number, eventid: number): { p: PendingIrq; hostLpi: number } | null {
  const dev = d.itsDevices.get(itsDeviceKey(doorbell, devid));
  if (dev === undefined || eventid >= dev.eventids) return null;
  return { p: dev.pendIrq(eventid), hostLpi: dev.hostLpiBlocks[Math.floor(eventid / LPI_BLOCK)]! + (eventid % LPI_BLOCK) };
}

/** gicv3_its_get_event_pending_irq */
export function gicv3ItsGetEventPendingIrq(d: Domain, doorbell: number, devid: number, eventid: number): PendingIrq | null {
  return getEventPendingIrq(d, doorbell, devid, eventid)?.p ?? null;
}

/** gicv3_remove_guest_event: the event's host LPI forwards to no vLPI any more. */
export function gicv3RemoveGuestEvent(d: Domain, doorbell: number, devid: number, eventid: number): 0 | 'EINVAL' {
  const e = getEventPendingIrq(d, doorbell, devid, eventid);
  if (e === null || e.hostLpi === INVALID_LPI) return 'EINVAL';
  gicv3LpiUpdateHostEntry(d.host.hostLpis!, e.hostLpi, d.id, INVALID_LPI);
  return 0;
}

/** gicv3_assign_guest_event: the event's host LPI now forwards to `virtLpi`; its record, or null. */
export function gicv3AssignGuestEvent(d: Domain, doorbell: number, devid: number, eventid: number, virtLpi: number): PendingIrq | null {
  const e = getEventPendingIrq(d, doorbell, devid, eventid);
  if (e === null) return null;
  gicv3LpiUpdateHostEntry(d.host.hostLpis!, e.hostLpi, d.id, virtLpi);
  return e.p;
}

/** The host LPI of (doorbell, devid, eventid), or null: what a physical MSI of that event raises. */
export function hostLpiOfEvent(d: Domain, doorbell: number, devid: number, eventid: number): number | null {
  return getEventPendingIrq(d, doorbell, devid, eventid)?.hostLpi ?? null;
}
