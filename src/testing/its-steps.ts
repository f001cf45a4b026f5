/**
 * Building blocks for traces that drive the virtual ITS (docs/trace-format.md §9): a standard
 * memory layout, the ITS commands encoded as four 64-bit words, and the steps a guest
 * performs to set up its tables, queue commands and kick the queue. Used by the specs and to
 * write the fixtures of fixtures/its/.
 */

export type RawStep = Record<string, unknown>;

/** The layout the ITS specs and fixtures use. */
export const LAYOUT = {
  domain: 1,
  itsBase: 0x8000000,
  ramBase: 0x40000000,
  ramSize: 0x100000,
  queue: 0x40000000,
  devTable: 0x40010000,
  collTable: 0x40020000,
  propTable: 0x40030000,
  itt: 0x40040000,
} as const;

/** A v3 config with one domain that has the vITS and 1 MiB of RAM at the layout's addresses. */
export function itsConfig(o: { vcpus?: number; nr_lrs?: number; pcpus?: number; devid_bits?: number; evid_bits?: number; lpi_bits?: number } = {}): Record<string, unknown> {
  return {
    gic: 'v3', nr_lrs: o.nr_lrs ?? 4, pcpus: o.pcpus ?? 2,
    ...(o.lpi_bits !== undefined ? { lpi_bits: o.lpi_bits } : {}),
    domains: [{
      id: LAYOUT.domain, vcpus: o.vcpus ?? 2, nr_spis: 32,
      its: { base: hex(LAYOUT.itsBase), devid_bits: o.devid_bits ?? 8, evid_bits: o.evid_bits ?? 8 },
      ram: [{ base: hex(LAYOUT.ramBase), size: hex(LAYOUT.ramSize) }],
    }],
  };
}

export function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

const V = 1n << 63n;

/** The ITS commands (four little-endian 64-bit words each). */
export const cmd = {
  mapd: (devid: number, sizeField: number, itt: number, valid = true): bigint[] =>
    [0x08n | (BigInt(devid) << 32n), BigInt(sizeField & 0x1f), (valid ? V : 0n) | (BigInt(itt) & 0xfffffffffff00n), 0n],
  mapc: (icid: number, rdbase: number, valid = true): bigint[] =>
    [0x09n, 0n, (valid ? V : 0n) | (BigInt(rdbase) << 16n) | BigInt(icid), 0n],
  mapti: (devid: number, evid: number, pintid: number, icid: number): bigint[] =>
    [0x0an | (BigInt(devid) << 32n), BigInt(evid) | (BigInt(pintid) << 32n), BigInt(icid), 0n],
  mapi: (devid: number, evid: number, icid: number): bigint[] => [0x0bn | (BigInt(devid) << 32n), BigInt(evid), BigInt(icid), 0n],
  int: (devid: number, evid: number): bigint[] => [0x03n | (BigInt(devid) << 32n), BigInt(evid), 0n, 0n],
  clear: (devid: number, evid: number): bigint[] => [0x04n | (BigInt(devid) << 32n), BigInt(evid), 0n, 0n],
  discard: (devid: number, evid: number): bigint[] => [0x0fn | (BigInt(devid) << 32n), BigInt(evid), 0n, 0n],
  movi: (devid: number, evid: number, icid: number): bigint[] => [0x01n | (BigInt(devid) << 32n), BigInt(evid), BigInt(icid), 0n],
  inv: (devid: number, evid: number): bigint[] => [0x0cn | (BigInt(devid) << 32n), BigInt(evid), 0n, 0n],
  invall: (icid: number): bigint[] => [0x0dn, 0n, BigInt(icid), 0n],
  sync: (): bigint[] => [0x05n, 0n, 0n, 0n],
};

export function mmioWrite(pcpu: number, addr: number, size: 1 | 2 | 4 | 8, value: number | bigint): RawStep {
  return { op: 'mmio', pcpu, access: 'write', addr: hex(addr), size, value: hex(value) };
}

export function mmioRead(pcpu: number, addr: number, size: 1 | 2 | 4 | 8): RawStep {
  return { op: 'mmio', pcpu, access: 'read', addr: hex(addr), size };
}

export function memWrite(addr: number, size: 1 | 2 | 4 | 8, value: number | bigint): RawStep {
  return { op: 'mem_write', domain: LAYOUT.domain, addr: hex(addr), size, value: hex(value) };
}

/** GITS_* register address. */
export const gits = (off: number): number => LAYOUT.itsBase + off;
/** RD_base register of vCPU n. */
export const gicr = (vcpu: number, off: number): number => 0x3020000 + vcpu * 0x20000 + off;

/** PROPBASER (IDbits `idbits`) then EnableLPIs on each listed vCPU's redistributor, from `pcpu`. */
export function enableLpis(pcpu: number, idbits: number, vcpus: number[]): RawStep[] {
  return [
    mmioWrite(pcpu, gicr(0, 0x70), 8, BigInt(LAYOUT.propTable) | BigInt(idbits)),
    ...vcpus.map((v) => mmioWrite(pcpu, gicr(v, 0x0), 4, 1)),
  ];
}

/** The property byte of vLPI `vlpi`: priority (multiple of 4) and enable. */
export function setProperty(vlpi: number, priority: number, enabled: boolean): RawStep {
  return memWrite(LAYOUT.propTable + vlpi - 8192, 1, (priority & 0xfc) | 2 | (enabled ? 1 : 0));
}

/** CBASER (one 4 KiB page), BASER0 and BASER1 (one 4 KiB page each), all valid; optionally GITS_CTLR.Enabled. */
export function setupTables(pcpu: number, enable = true): RawStep[] {
  return [
    mmioWrite(pcpu, gits(0x80), 8, V | BigInt(LAYOUT.queue)),
    mmioWrite(pcpu, gits(0x100), 8, V | BigInt(LAYOUT.devTable)),
    mmioWrite(pcpu, gits(0x108), 8, V | BigInt(LAYOUT.collTable)),
    ...(enable ? [mmioWrite(pcpu, gits(0x0), 4, 1)] : []),
  ];
}

/**
 * A queue writer: `put` stores commands at the queue tail (the guest's own pointer, starting
 * at 0) without telling the ITS; `kick` writes CWRITER = tail.
 */
export class Queue {
  tail = 0;

  constructor(readonly pcpu: number, readonly size = 0x1000) {}

  put(...cmds: bigint[][]): RawStep[] {
    const out: RawStep[] = [];
    for (const c of cmds) {
      c.forEach((w, i) => out.push(memWrite(LAYOUT.queue + this.tail + 8 * i, 8, w)));
      this.tail = (this.tail + 32) % this.size;
    }
    return out;
  }

  kick(): RawStep {
    return mmioWrite(this.pcpu, gits(0x88), 8, this.tail);
  }

  /** put + kick. */
  run(...cmds: bigint[][]): RawStep[] {
    return [...this.put(...cmds), this.kick()];
  }
}
