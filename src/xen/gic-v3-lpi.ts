/**
 * Mirror of xen/arch/arm/gic-v3-lpi.c, the host side of LPIs (reference §C.1, §C.9, §C.10):
 * the host LPI table shared by all domains, allocated in blocks of 32, each entry naming the
 * (domain, vLPI) an arriving host LPI is forwarded to; `gicv3_do_LPI` and
 * `vgic_vcpu_inject_lpi`.
 */
import { LPI_OFFSET } from '../arch/limits.js';
import { isLpi } from '../arch/intid.js';
import { vgicInjectIrq, irqToPending } from './vgic.js';
import type { Domain, Host, Pcpu } from './types.js';

/** LPI_BLOCK: host LPIs are handed out 32 at a time. */
export const LPI_BLOCK = 32;
/** INVALID_LPI: "no vLPI" in a host entry or an ITTE. */
export const INVALID_LPI = 0;
/** DOMID_INVALID: the owner of a free block. */
export const DOMID_INVALID = 0x7ff4;
/** HOST_LPIS_PER_PAGE: one 4 KiB page of 8-byte host_lpi entries. */
export const HOST_LPIS_PER_PAGE = 512;

/** One allocated page ("chunk") of host_lpi entries: the domain and vLPI of each. */
interface HostLpiChunk {
  readonly domId: Uint16Array;
  readonly virtLpi: Uint32Array;
}

/** lpi_data: the host LPI space and its allocation state. */
export class HostLpiData {
  /** max_host_lpi_ids = 2^lpi_bits. */
  readonly maxHostLpiIds: number;
  /** host_lpis: chunk index -> page, absent until first used. */
  readonly chunks = new Map<number, HostLpiChunk>();
  /** next_free_lpi: where the next allocation starts looking (see gicv3FreeHostLpiBlock). */
  nextFreeLpi = 0;
  /** Blocks currently owned by some domain (for an exact ENOSPC check). */
  usedBlocks = 0;

  constructor(lpiBits: number) {
    this.maxHostLpiIds = 2 ** Math.max(lpiBits, 14);
  }

  /** MAX_NR_HOST_LPIS */
  get maxNrHostLpis(): number {
    return this.maxHostLpiIds - LPI_OFFSET;
  }

  get nrChunks(): number {
    return Math.floor(this.maxNrHostLpis / HOST_LPIS_PER_PAGE);
  }

  /** Blocks never handed out or given back. */
  get freeBlocks(): number {
    return this.nrChunks * (HOST_LPIS_PER_PAGE / LPI_BLOCK) - this.usedBlocks;
  }
}

/** gicv3_lpi_init_host_lpis: the host LPI table for `lpiBits` (config `lpi_bits`). */
export function gicv3LpiInitHostLpis(host: Host, lpiBits: number): HostLpiData {
  host.hostLpis ??= new HostLpiData(lpiBits);
  return host.hostLpis;
}

/** gic_get_host_lpi: the entry of host LPI `plpi` as (chunk, index), or null. */
export function gicGetHostLpi(data: HostLpiData, plpi: number): { chunk: HostLpiChunk; idx: number } | null {
  if (!isLpi(plpi) || plpi >= data.maxNrHostLpis + LPI_OFFSET) return null;
  const n = plpi - LPI_OFFSET;
  const chunk = data.chunks.get(Math.floor(n / HOST_LPIS_PER_PAGE));
  return chunk === undefined ? null : { chunk, idx: n % HOST_LPIS_PER_PAGE };
}

/** find_unused_host_lpi: the first chunk at or after `start` with a free block, from `index` in the first. */
function findUnusedHostLpi(data: HostLpiData, start: number, index: number): { chunk: number; idx: number } | null {
  let i = index;
  for (let chunk = start; chunk < data.nrChunks; chunk++) {
    const page = data.chunks.get(chunk);
    if (page === undefined) return { chunk, idx: 0 };
    for (; i < HOST_LPIS_PER_PAGE; i += LPI_BLOCK) if (page.domId[i] === DOMID_INVALID) return { chunk, idx: i };
    i = 0;
  }
  return null;
}

/**
 * gicv3_allocate_host_lpi_block: 32 host LPIs for domain d, all pointing at no vLPI yet.
 * Returns the first host LPI, or ENOSPC when every block is taken.
 */
export function gicv3AllocateHostLpiBlock(data: HostLpiData, d: Domain): number | 'ENOSPC' {
  let found = findUnusedHostLpi(data, Math.floor(data.nextFreeLpi / HOST_LPIS_PER_PAGE), data.nextFreeLpi % HOST_LPIS_PER_PAGE);
  // Nothing from there on: rescan for a hole from the beginning.
  found ??= findUnusedHostLpi(data, 0, 0);
  if (found === null) return 'ENOSPC';
  let page = data.chunks.get(found.chunk);
  if (page === undefined) {
    page = { domId: new Uint16Array(HOST_LPIS_PER_PAGE), virtLpi: new Uint32Array(HOST_LPIS_PER_PAGE) };
    for (let i = 0; i < HOST_LPIS_PER_PAGE; i += LPI_BLOCK) page.domId[i] = DOMID_INVALID;
    data.chunks.set(found.chunk, page);
  }
  const lpi = found.chunk * HOST_LPIS_PER_PAGE + found.idx;
  for (let i = 0; i < LPI_BLOCK; i++) {
    page.virtLpi[found.idx + i] = INVALID_LPI;
    page.domId[found.idx + i] = d.id & 0xffff;
  }
  data.nextFreeLpi = lpi + LPI_BLOCK;
  data.usedBlocks += 1;
  return lpi + LPI_OFFSET;
}

/**
 * gicv3_free_host_lpi_block: give a block back. Xen then lowers next_free_lpi to `firstLpi`,
 * an LPI number (8192 and up) where next_free_lpi counts from 0, so the next allocation
 * starts 16 chunks further on (and falls back to the rescan from 0 when that is past the end).
 */
export function gicv3FreeHostLpiBlock(data: HostLpiData, firstLpi: number): void {
  const e = gicGetHostLpi(data, firstLpi);
  if (e === null) return;
  if (e.chunk.domId[e.idx] !== DOMID_INVALID) data.usedBlocks -= 1;
  for (let i = 0; i < LPI_BLOCK; i++) {
    e.chunk.domId[e.idx + i] = DOMID_INVALID;
    e.chunk.virtLpi[e.idx + i] = INVALID_LPI;
  }
  if (data.nextFreeLpi > firstLpi) data.nextFreeLpi = firstLpi;
}

/** gicv3_lpi_update_host_entry: host LPI `hostLpi` now forwards to (domain, vLPI). */
export function gicv3LpiUpdateHostEntry(data: HostLpiData, hostLpi: number, domainId: number, virtLpi: number): void {
  const e = gicGetHostLpi(data, hostLpi);
  if (e === null) throw new Error(`gicv3_lpi_update_host_entry: host LPI ${hostLpi} was never allocated`);
  e.chunk.virtLpi[e.idx] = virtLpi >>> 0;
  e.chunk.domId[e.idx] = domainId & 0xffff;
}

/** The (domain, vLPI) a host LPI forwards to, or null (for snapshots and tests). */
export function hostLpiEntry(data: HostLpiData, hostLpi: number): { domId: number; virtLpi: number } | null {
  const e = gicGetHostLpi(data, hostLpi);
  return e === null ? null : { domId: e.chunk.domId[e.idx]!, virtLpi: e.chunk.virtLpi[e.idx]! };
}

/**
 * vgic_vcpu_inject_lpi (§C.9): look the vLPI up through vCPU 0 (irq_to_pending, so a number
 * below 8192 reaches a private or SPI record, or runs past the SPIs), and inject it into the
 * record's lpi_vcpu_id unless that is not a vCPU.
 */
export function vgicVcpuInjectLpi(cpu: Pcpu, d: Domain, virq: number): void {
  const p = irqToPending(d.vcpus[0]!, virq);
  if (p === null) return;
  const vcpuId = p.lpiVcpuId;
  if (vcpuId >= d.maxVcpus) return;
  vgicInjectIrq(cpu, d, d.vcpus[vcpuId]!, virq, true);
}

/**
 * gicv3_do_LPI (§C.9): a host LPI arrives on `cpu`. It is EOIed at once (not modelled); an
 * entry without a vLPI or whose domain does not exist is dropped; otherwise the vLPI is
 * injected.
 */
export function gicv3DoLpi(cpu: Pcpu, lpi: number): void {
  const data = cpu.host.hostLpis;
  if (data === null) return;
  const e = hostLpiEntry(data, lpi);
  if (e === null || e.virtLpi === INVALID_LPI) return;
  const d = cpu.host.domains.get(e.domId);
  if (d === undefined) return;
  vgicVcpuInjectLpi(cpu, d, e.virtLpi);
}
