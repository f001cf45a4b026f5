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

// ----- the LPI stress scenario (the shape of the Linux KVM selftest vgic_lpi_stress) -----

/** The shape of an LPI stress run: vCPUs (one pCPU each), devices × events, iterations. */
export interface LpiStressShape {
  vcpus: number;
  devices: number;
  events: number;
  nr_lrs?: number;
}

/** Base of the per-vCPU pending tables (64 KiB each) and the per-device ITTs (4 KiB each). */
const STRESS_PENDING = 0x40080000;
const STRESS_ITT_STRIDE = 0x1000;

/** The vLPI of (device, event): 8192, 8193, ... in device-major order. */
export function stressVlpi(s: LpiStressShape, dev: number, ev: number): number {
  return 8192 + dev * s.events + ev;
}

/** The collection (and so the vCPU, MAPC i → vCPU i) of (device, event): round-robin. */
export function stressCollection(s: LpiStressShape, dev: number, ev: number): number {
  return (dev * s.events + ev) % s.vcpus;
}

/** The EventID bits MAPD gives each device: enough for `events`. */
function eventBits(events: number): number {
  let n = 1;
  while (1 << n < events) n += 1;
  return n;
}

/**
 * The config and setup steps of the stress scenario, in the order of KVM's test: vCPU i runs
 * on pCPU i with its priority mask open; the property bytes of every vLPI are 0xa0 | Group1 |
 * Enabled (0xa3: Xen ignores bit 1); PROPBASER (IDbits 15) once, then each vCPU sets its own
 * PENDBASER and EnableLPIs; vCPU 0 sets up the ITS tables, enables the ITS and queues MAPC
 * collection i → vCPU i, MAPD of every device, MAPTI of every event to 8192, 8193, ... with
 * the collections assigned round-robin, then INVALL of every collection. At the end every
 * pCPU is in hyp mode with its vCPU loaded, ready for MSIs.
 */
export function lpiStressSetup(s: LpiStressShape): { config: Record<string, unknown>; steps: RawStep[] } {
  const nLpis = s.devices * s.events;
  if (s.vcpus < 1 || s.vcpus > 8 || nLpis < 1 || nLpis > 4096 || s.devices > 64 || s.events > 120) throw new Error('lpiStressSetup: shape out of range');
  const config = itsConfig({ vcpus: s.vcpus, pcpus: s.vcpus, nr_lrs: s.nr_lrs ?? 4 });
  const steps: RawStep[] = [];
  for (let v = 0; v < s.vcpus; v++) {
    steps.push({ op: 'run', pcpu: v, domain: LAYOUT.domain, vcpu: v }, { op: 'enter', pcpu: v }, { op: 'pmr', pcpu: v, value: 0xff }, { op: 'exit', pcpu: v });
  }
  // The property table, eight bytes at a time.
  for (let i = 0; i < nLpis; i += 8) {
    const n = Math.min(8, nLpis - i);
    let word = 0n;
    for (let b = 0; b < n; b++) word |= 0xa3n << BigInt(8 * b);
    steps.push(memWrite(LAYOUT.propTable + i, n === 8 ? 8 : 1, n === 8 ? word : 0xa3n));
    for (let b = 1; n < 8 && b < n; b++) steps.push(memWrite(LAYOUT.propTable + i + b, 1, 0xa3n));
  }
  steps.push(mmioWrite(0, gicr(0, 0x70), 8, BigInt(LAYOUT.propTable) | 15n));
  for (let v = 0; v < s.vcpus; v++) {
    steps.push(mmioWrite(v, gicr(v, 0x78), 8, BigInt(STRESS_PENDING + v * 0x10000)), mmioWrite(v, gicr(v, 0x0), 4, 1));
  }
  steps.push(...setupTables(0));
  const q = new Queue(0);
  const size = eventBits(s.events) - 1;
  steps.push(...q.run(...Array.from({ length: s.vcpus }, (_, v) => cmd.mapc(v, v))));
  steps.push(...q.run(...Array.from({ length: s.devices }, (_, d) => cmd.mapd(d, size, LAYOUT.itt + d * STRESS_ITT_STRIDE))));
  for (let d = 0; d < s.devices; d++) {
    steps.push(...q.run(...Array.from({ length: s.events }, (_, e) => cmd.mapti(d, e, stressVlpi(s, d, e), stressCollection(s, d, e)))));
  }
  steps.push(...q.run(...Array.from({ length: s.vcpus }, (_, v) => cmd.invall(v))));
  return { config, steps };
}

/** The MSIs of one stress iteration: every event of every device, device d's on pCPU d mod vCPUs. */
export function lpiStressMsis(s: LpiStressShape): RawStep[] {
  const out: RawStep[] = [];
  for (let d = 0; d < s.devices; d++) {
    for (let e = 0; e < s.events; e++) out.push({ op: 'msi', pcpu: d % s.vcpus, domain: LAYOUT.domain, devid: d, eventid: e });
  }
  return out;
}
