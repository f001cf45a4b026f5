/**
 * The machine side of LPIs and the virtual ITS (docs/trace-format.md §9): building a domain's
 * RAM, vITS and the host LPI table from the config, and the ops `mem_write`, `mem_read` and
 * `msi`. Kept apart from machine.ts, which only calls in here.
 */
import { LPI_OFFSET } from '../arch/limits.js';
import { hostLpiOfEvent, itsDeviceKey } from '../xen/gic-v3-its.js';
import { gicv3DoLpi, gicv3LpiInitHostLpis } from '../xen/gic-v3-lpi.js';
import { GuestRam, readGuestLe, writeGuestLe } from '../xen/guestcopy.js';
import type { Domain, Host, Pcpu } from '../xen/types.js';
import { ITS_CONTROL_FRAME_SIZE, vgicV3ItsInitVirtual, vgicV3ItsMmio } from '../xen/vgic-v3-its.js';
import type { MmioOutcome } from '../xen/vreg.js';
import { DEFAULT_INTID_BITS, DEFAULT_LPI_BITS, ITS_REGION_SIZE, type Config, type DomainConfig } from './config.js';
import { toHex } from './decode.js';

/** Give domain d its RAM and, with `its`, its virtual ITS (and the host its LPI table). */
export function setupDomainIts(host: Host, d: Domain, dc: DomainConfig, config: Config): void {
  if (dc.ram !== undefined) d.ram = new GuestRam(dc.ram.map((r) => ({ base: Number(BigInt(r.base)), size: Number(BigInt(r.size)) })));
  if (dc.its === undefined) return;
  gicv3LpiInitHostLpis(host, config.lpi_bits ?? DEFAULT_LPI_BITS);
  vgicV3ItsInitVirtual(d, Number(BigInt(dc.its.base)), dc.its.devid_bits, dc.its.evid_bits);
  d.intidBits = dc.intid_bits ?? DEFAULT_INTID_BITS;
}

/** The domain's RAM regions, for messages: `0x40000000..0x400fffff, ...` or `none`. */
function ramText(d: Domain): string {
  const regions = d.ram?.regions ?? [];
  if (regions.length === 0) return 'none';
  return regions.map((r) => `${toHex(r.base)}..${toHex(r.base + r.size - 1)}`).join(', ');
}

/** Check a guest RAM access of `size` bytes at `addr`: null when fine, else why not. */
function checkRamAccess(d: Domain, addr: bigint, size: number): string | null {
  if (addr % BigInt(size) !== 0n) return `addr ${toHex(addr)} is not aligned to the access size ${size}`;
  const ok = d.ram !== null && addr < 2n ** 52n && d.ram.isRamRange(Number(addr), size);
  return ok ? null : `addr ${toHex(addr)} (${size} byte${size > 1 ? 's' : ''}) is not in domain ${d.id}'s RAM (ram: ${ramText(d)})`;
}

/** mem_write: the guest stores into its RAM (not trapped). A string is a trace error. */
export function memWrite(d: Domain, addr: bigint, size: 1 | 2 | 4 | 8, value: bigint): string | null {
  const bad = checkRamAccess(d, addr, size);
  if (bad !== null) return bad;
  if (value >= 1n << BigInt(8 * size)) return `value ${toHex(value)} does not fit in ${size} byte${size > 1 ? 's' : ''}`;
  writeGuestLe(d.ram, Number(addr), size, value);
  return null;
}

/** mem_read: the value, or a string (trace error). */
export function memRead(d: Domain, addr: bigint, size: 1 | 2 | 4 | 8): bigint | string {
  const bad = checkRamAccess(d, addr, size);
  if (bad !== null) return bad;
  return readGuestLe(d.ram, Number(addr), size) ?? 0n;
}

/**
 * msi: the physical device's MSI for (devid, eventid) raises the host LPI MAPD bound to it,
 * on `cpu`. A string is a trace error: no such physical source.
 */
export function msi(cpu: Pcpu, d: Domain, devid: number, eventid: number): string | null {
  const its = d.vits;
  if (its === null) return `domain ${d.id} has no ITS (config its)`;
  const hostLpi = hostLpiOfEvent(d, its.doorbellAddress, devid, eventid);
  if (hostLpi === null) {
    const dev = d.itsDevices.get(itsDeviceKey(its.doorbellAddress, devid));
    return dev === undefined
      ? `domain ${d.id} has no host device ${devid} (MAPD V=1 registers one)`
      : `event ${eventid} is not below the ${dev.eventids} events of host device ${devid}`;
  }
  gicv3DoLpi(cpu, hostLpi);
  return null;
}

/**
 * An `mmio` address in the current domain's ITS region: the control frame's outcome, abort
 * for the translation frame (not emulated), or null when the address is elsewhere.
 */
export function itsMmio(cpu: Pcpu, addr: bigint, size: 1 | 2 | 4 | 8, write: boolean, value: bigint): MmioOutcome | null {
  const its = cpu.current?.domain.vits ?? null;
  if (its === null) return null;
  const base = BigInt(its.base);
  if (addr < base || addr >= base + BigInt(ITS_REGION_SIZE)) return null;
  const off = Number(addr - base);
  if (off >= ITS_CONTROL_FRAME_SIZE) return { outcome: 'abort' };
  return vgicV3ItsMmio(cpu, off, size, write, value);
}

/** The `inject` precondition for an LPI INTID (docs/trace-format.md §9.2). */
export function injectLpiError(virq: number): string | null {
  return virq >= LPI_OFFSET ? `virq ${virq} is an LPI: LPIs arrive by msi or the ITS INT command, not by inject` : null;
}
