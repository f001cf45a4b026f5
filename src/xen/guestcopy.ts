/**
 * Mirror of xen/arch/arm/guestcopy.c as far as the virtual ITS needs it: a domain's RAM and
 * `access_guest_memory_by_gpa` (reference §C.5, §C.6). Xen copies page by page and gives up
 * at the first page that is not RAM of the domain; a write that starts in RAM and runs off its
 * end has already stored the bytes of the earlier pages.
 *
 * The RAM is sparse: a 4 KiB page costs memory only once something non-zero may have been
 * written to it; reading a page never written gives zeros (the config's RAM is zero at reset).
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** One RAM region of a domain: `base` and `size` are multiples of 4 KiB. */
export interface RamRegion {
  readonly base: number;
  readonly size: number;
}

/** A domain's guest RAM: its regions, and the pages written so far. */
export class GuestRam {
  private readonly pages = new Map<number, Uint8Array>();

  constructor(readonly regions: readonly RamRegion[]) {}

  /** Is the 4 KiB page holding `gpa` RAM of this domain (p2m_ram_rw)? */
  isRamPage(gpa: number): boolean {
    return this.regionOf(gpa) !== null;
  }

  /** Is every byte of [gpa, gpa + len) RAM? */
  isRamRange(gpa: number, len: number): boolean {
    if (len <= 0) return true;
    const end = gpa + len;
    // Page by page, as Xen's walk; a page inside a region vouches for the rest of that region
    // (regions are whole 4 KiB pages: trace-format §9.1).
    for (let page = Math.floor(gpa / PAGE_SIZE) * PAGE_SIZE; page < end;) {
      const r = this.regionOf(page);
      if (r === null) return false;
      page = r.base + r.size;
    }
    return true;
  }

  /** The region holding `gpa`, or null when it is no RAM of this domain. */
  private regionOf(gpa: number): RamRegion | null {
    if (!Number.isSafeInteger(gpa) || gpa < 0) return null;
    for (const r of this.regions) if (gpa >= r.base && gpa < r.base + r.size) return r;
    return null;
  }

  /** The page's bytes (created on first write), or null for a page never written. */
  private page(index: number, create: boolean): Uint8Array | null {
    let p = this.pages.get(index);
    if (p === undefined && create) {
      p = new Uint8Array(PAGE_SIZE);
      this.pages.set(index, p);
    }
    return p ?? null;
  }

  /** Copy `len` bytes within one page (no RAM check: the caller did it). */
  copyOut(gpa: number, buf: Uint8Array, at: number, len: number): void {
    const p = this.page(Math.floor(gpa / PAGE_SIZE), false);
    const off = gpa % PAGE_SIZE;
    if (p === null) buf.fill(0, at, at + len);
    else buf.set(p.subarray(off, off + len), at);
  }

  copyIn(gpa: number, buf: Uint8Array, at: number, len: number): void {
    const src = buf.subarray(at, at + len);
    const idx = Math.floor(gpa / PAGE_SIZE);
    // Writing zeros into a page never written changes nothing: keep it unallocated.
    if (this.page(idx, false) === null && src.every((b) => b === 0)) return;
    this.page(idx, true)!.set(src, gpa % PAGE_SIZE);
  }

  /**
   * Indexes of the pages written so far that overlap [lo, hi), ascending: the only places
   * where RAM can hold something other than zeros.
   */
  writtenPagesIn(lo: number, hi: number): number[] {
    const first = Math.floor(lo / PAGE_SIZE);
    const last = Math.ceil(hi / PAGE_SIZE);
    const out: number[] = [];
    for (const k of this.pages.keys()) if (k >= first && k < last) out.push(k);
    return out.sort((a, b) => a - b);
  }

  /** How many pages hold memory (for tests: unwritten RAM costs nothing). */
  get allocatedPages(): number {
    return this.pages.size;
  }
}

/**
 * copy_guest for the guest-physical case: page by page, stopping at the first page that is not
 * RAM. Returns the number of bytes not copied (0 on success).
 */
export function copyGuest(ram: GuestRam | null, buf: Uint8Array, gpa: number, isWrite: boolean): number {
  let left = buf.length;
  if (ram === null) return left;
  let addr = gpa;
  let at = 0;
  let offset = addr % PAGE_SIZE;
  while (left > 0) {
    const size = Math.min(left, PAGE_SIZE - offset);
    if (!ram.isRamPage(addr)) return left;
    if (isWrite) ram.copyIn(addr, buf, at, size);
    else ram.copyOut(addr, buf, at, size);
    left -= size;
    at += size;
    addr += size;
    offset = 0;
  }
  return 0;
}

/** access_guest_memory_by_gpa: 0, or -EINVAL when any page touched is not the domain's RAM. */
export function accessGuestMemoryByGpa(ram: GuestRam | null, gpa: number, buf: Uint8Array, isWrite: boolean): 0 | 'EINVAL' {
  return copyGuest(ram, buf, gpa, isWrite) === 0 ? 0 : 'EINVAL';
}

// ----- little-endian helpers over access_guest_memory_by_gpa (what Xen reads into its structs) -----

const scratch = new Uint8Array(32);

/** Read `size` bytes (1, 2, 4 or 8) little-endian; null when the access fails. */
export function readGuestLe(ram: GuestRam | null, gpa: number, size: 1 | 2 | 4 | 8): bigint | null {
  const buf = scratch.subarray(0, size);
  if (accessGuestMemoryByGpa(ram, gpa, buf, false) !== 0) return null;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[i]!);
  return v;
}

/** Write `value` as `size` little-endian bytes; false when the access fails (earlier pages may be written). */
export function writeGuestLe(ram: GuestRam | null, gpa: number, size: 1 | 2 | 4 | 8, value: bigint): boolean {
  const buf = new Uint8Array(size);
  let v = value;
  for (let i = 0; i < size; i++) {
    buf[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return accessGuestMemoryByGpa(ram, gpa, buf, true) === 0;
}

/** Read `n` little-endian 64-bit words (an ITS command); null when the access fails. */
export function readGuestWords(ram: GuestRam | null, gpa: number, n: number): bigint[] | null {
  const buf = new Uint8Array(8 * n);
  if (accessGuestMemoryByGpa(ram, gpa, buf, false) !== 0) return null;
  const out: bigint[] = [];
  for (let w = 0; w < n; w++) {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(buf[8 * w + i]!);
    out.push(v);
  }
  return out;
}
