/**
 * ITS traffic for the random trace generator (docs/trace-format.md §9): which generated
 * configs get a virtual ITS, and the batches of steps a guest uses to drive it. A batch is
 * what a guest does in one go: property bytes of the LPI property table, the redistributor's
 * PROPBASER and EnableLPIs, CBASER/BASER0/BASER1 and GITS_CTLR, commands written into the
 * queue with `mem_write` and then one CWRITER write, a device's `msi`, or a register read.
 *
 * The draws deciding whether a config has an ITS come from a stream of their own (derived
 * from the seed, after every draw of the config), so a trace whose config gets no ITS is
 * byte for byte what the generator made before ITS traffic existed. Batches are drawn only
 * for machines that have an ITS domain.
 *
 * Batches are valid by construction where the generator can tell (addresses in the domain's
 * RAM, redistributors where the domain's layout has them (a device domain's: its VMM's), `mmio` only from a pCPU running a vCPU of the domain, `msi` only for a registered
 * device and event). The commands are mostly meaningful: devices and collections get mapped
 * before events, INT/INV/MOVI/DISCARD/CLEAR go to events that are mapped, INVALL to mapped
 * collections. Now and then a command is malformed or out of range (unknown opcode, bad
 * ICID, DeviceID, EventID, pINTID), which Xen only logs; some of Xen's crash cases (docs/trace-format.md §9.4)
 * stay reachable, rarely.
 */
import { isDeviceDomain, type Config, type DomainConfig } from '../machine/config.js';
import { toHex } from '../machine/decode.js';
import type { Machine } from '../machine/machine.js';
import { getField } from '../arch/lr.js';
import { itsDeviceKey } from '../xen/gic-v3-its.js';
import { readGuestLe } from '../xen/guestcopy.js';
import type { Domain, Pcpu } from '../xen/types.js';
import { LAYOUT } from '../testing/its-steps.js';
import { guestLayout } from './gen-vmm.js';
import { Rng } from './rng.js';
import { getVcpuFromCollection, readItte, type VirtIts } from '../xen/vgic-v3-its.js';

/** What the ITS batches draw from: the generator's Rng (src/conformance/rng.ts). */
export type ItsRng = Rng;

type RawStep = Record<string, unknown>;

/**
 * Where a generated ITS domain keeps things (its own address space: every domain the same):
 * the addresses of the specs' layout (src/testing/its-steps.ts), with device n's ITT at
 * itt + n * ittStride and vCPU n's pending table (which Xen does not read) at
 * pendTable + n * 0x2000.
 */
export const GEN_ITS_LAYOUT = {
  itsBase: LAYOUT.itsBase,
  ramBase: LAYOUT.ramBase,
  ramSize: LAYOUT.ramSize,
  queue: LAYOUT.queue,
  devTable: LAYOUT.devTable,
  collTable: LAYOUT.collTable,
  propTable: LAYOUT.propTable,
  itt: LAYOUT.itt,
  ittStride: 0x800,
  pendTable: 0x400c0000,
} as const;

const L = GEN_ITS_LAYOUT;
const V = 1n << 63n;
const LPI0 = 8192;

/**
 * Give some v3 domains of `config` a virtual ITS and RAM (and now and then `intid_bits`, or a
 * small top-level `lpi_bits`), with probability `p` per domain; draws from a stream of their
 * own. Returns the config unchanged when nothing was drawn.
 */
export function addIts(config: Config, seed: number, p: number): Config {
  if (config.gic !== 'v3' || p <= 0) return config;
  const rng = new Rng((seed ^ 0x5a17c0de) >>> 0); // a stream of its own, apart from the config draws
  let any = false;
  const domains: DomainConfig[] = config.domains.map((d) => {
    if (isDeviceDomain(d) || !rng.bool(p)) return d;
    any = true;
    const intid = rng.bool(0.2) ? { intid_bits: rng.pick([14, 16, 20, 24, 32]) } : {};
    return {
      ...d,
      its: { base: toHex(L.itsBase), devid_bits: rng.pick([3, 4, 6, 8, 16]), evid_bits: rng.weighted([[3, 6], [6, 8], [2, 10], [1, 16], [0.5, 5]]) },
      ...intid,
      ram: [{ base: toHex(L.ramBase), size: toHex(L.ramSize) }],
    };
  });
  if (!any) return config;
  const lpiBits = rng.bool(0.15) ? { lpi_bits: rng.pick([14, 15, 16]) } : {};
  return { ...config, ...lpiBits, domains };
}

/** The domains of `m` that have a virtual ITS (and RAM where the layout puts it). */
export function itsDomains(m: Machine): Domain[] {
  const out: Domain[] = [];
  for (const d of m.host.domains.values()) if (d.vits !== null && d.ram !== null && d.ram.isRamRange(L.ramBase, L.ramSize)) out.push(d);
  return out;
}

function hex(v: number | bigint): string {
  return toHex(typeof v === 'number' ? BigInt(v) : v);
}

function memWrite(d: Domain, addr: number, size: 1 | 2 | 4 | 8, value: bigint): RawStep {
  return { op: 'mem_write', domain: d.id, addr: hex(addr), size, value: hex(value) };
}

function mmio(cpu: Pcpu, access: 'read' | 'write', addr: number, size: 1 | 2 | 4 | 8, value?: bigint): RawStep {
  return { op: 'mmio', pcpu: cpu.id, access, addr: hex(addr), size, ...(access === 'write' ? { value: hex(value ?? 0n) } : {}) };
}

// ----- the commands (four little-endian 64-bit words) -----

const cmd = {
  mapd: (devid: number, sizeField: number, itt: number, valid: boolean): bigint[] =>
    [0x08n | (BigInt(devid) << 32n), BigInt(sizeField & 0x1f), (valid ? V : 0n) | (BigInt(itt) & 0xfffffffffff00n), 0n],
  mapc: (icid: number, rdbase: number, valid: boolean): bigint[] => [0x09n, 0n, (valid ? V : 0n) | (BigInt(rdbase) << 16n) | BigInt(icid), 0n],
  mapti: (devid: number, evid: number, pintid: number, icid: number): bigint[] =>
    [0x0an | (BigInt(devid) << 32n), BigInt(evid) | (BigInt(pintid >>> 0) << 32n), BigInt(icid), 0n],
  mapi: (devid: number, evid: number, icid: number): bigint[] => [0x0bn | (BigInt(devid) << 32n), BigInt(evid), BigInt(icid), 0n],
  ev: (op: number, devid: number, evid: number): bigint[] => [BigInt(op) | (BigInt(devid) << 32n), BigInt(evid), 0n, 0n],
  movi: (devid: number, evid: number, icid: number): bigint[] => [0x01n | (BigInt(devid) << 32n), BigInt(evid), BigInt(icid), 0n],
  invall: (icid: number): bigint[] => [0x0dn, 0n, BigInt(icid), 0n],
  sync: (rdbase: number): bigint[] => [0x05n, 0n, BigInt(rdbase) << 16n, 0n],
  movall: (from: number, to: number): bigint[] => [0x0en, 0n, BigInt(from) << 16n, BigInt(to) << 16n],
};
const OP_INT = 0x03;
const OP_CLEAR = 0x04;
const OP_INV = 0x0c;
const OP_DISCARD = 0x0f;

/** What the generator knows of one ITS domain at the start of a batch. */
interface ItsView {
  d: Domain;
  its: VirtIts;
  /** DeviceIDs the generator talks about. */
  devids: number[];
  /** Registered (MAPD V=1) devices among them, with their event counts. */
  devices: Map<number, number>;
  /** Mapped events: device, event, vLPI. */
  mapped: { devid: number; evid: number; vlpi: number }[];
  /** Collections that map to a vCPU (of the first few). */
  collections: number[];
  /** The vLPIs the generator talks about. */
  vlpis: number[];
}

function view(d: Domain): ItsView {
  const its = d.vits!;
  const devids = [0, 1, 2, 3].filter((x) => x < 2 ** its.devidBits);
  const devices = new Map<number, number>();
  const mapped: ItsView['mapped'] = [];
  for (const devid of devids) {
    const dev = d.itsDevices.get(itsDeviceKey(its.doorbellAddress, devid));
    if (dev === undefined) continue;
    devices.set(devid, dev.eventids);
    for (let evid = 0; evid < Math.min(dev.eventids, 6); evid++) {
      const e = readItte(its, devid, evid);
      if (e !== null && e.vlpi !== 0) mapped.push({ devid, evid, vlpi: e.vlpi });
    }
  }
  const collections: number[] = [];
  for (let c = 0; c < Math.min(d.vcpus.length + 1, its.maxCollections); c++) if (getVcpuFromCollection(its, c) !== null) collections.push(c);
  const n = d.nrLpis;
  const vlpis = [LPI0, LPI0 + 1, LPI0 + 2, LPI0 + 3, LPI0 + 4, LPI0 + 5, LPI0 + 6, LPI0 + 7];
  // MAPTI bounds the vLPI number by the count nr_lpis (§C.7): the last one it accepts.
  if (n > LPI0 + 8) vlpis.push(n - 1);
  return { d, its, devids, devices, mapped, collections, vlpis };
}

/** A property byte: a priority (multiple of 4), bit 1 (RES1) and the enable bit. */
function propByte(rng: ItsRng): number {
  return rng.pick([0x00, 0x40, 0x80, 0xa0, 0xa0, 0xc0, 0xf0]) | 2 | (rng.bool(0.85) ? 1 : 0);
}

/** Property-table writes: one byte, or an aligned word of eight. */
function propSteps(rng: ItsRng, v: ItsView): RawStep[] {
  const d = v.d;
  const first = readGuestLe(d.ram, L.propTable, 8) ?? 0n;
  if (first === 0n || rng.bool(0.4)) {
    let word = 0n;
    for (let i = 0; i < 8; i++) word |= BigInt(propByte(rng)) << BigInt(8 * i);
    return [memWrite(d, L.propTable + (first === 0n ? 0 : 8 * rng.weighted([[8, 0], [1, 1], [1, rng.int(0, 7)]])), 8, word)];
  }
  const vlpi = rng.pick(v.vlpis);
  return [memWrite(d, L.propTable + vlpi - LPI0, 1, BigInt(propByte(rng)))];
}

function gits(v: ItsView, off: number): number {
  return v.its.base + off;
}

/** A DeviceID: mostly one of the hot ones, sometimes beyond the table or the host's width. */
function anyDevid(rng: ItsRng, v: ItsView): number {
  return rng.weighted([[12, rng.pick(v.devids)], [1, 2 ** v.its.devidBits], [1, rng.int(0, 0xffff)]]);
}

function anyEvid(rng: ItsRng): number {
  return rng.weighted([[14, rng.int(0, 3)], [2, rng.int(4, 31)], [1, rng.int(32, 1 << 12)]]);
}

function anyIcid(rng: ItsRng, v: ItsView): number {
  const vc = v.d.vcpus.length;
  return rng.weighted([[12, rng.int(0, vc - 1)], [1, vc], [1, v.its.maxCollections], [1, rng.int(0, 0xffff)]]);
}

/** A vLPI for MAPTI: mostly a hot one, sometimes nr_lpis-bound or below 8192. */
function anyPintid(rng: ItsRng, v: ItsView): number {
  return rng.weighted([[20, rng.pick(v.vlpis)], [1, v.d.nrLpis], [1, rng.int(0, 0xffffffff)], [1, rng.pick([32, 33, 8191])]]);
}

/** One command for the state seen at the start of the batch. */
function oneCommand(rng: ItsRng, v: ItsView): bigint[] {
  const d = v.d;
  const vc = d.vcpus.length;
  const unregistered = v.devids.filter((x) => !v.devices.has(x));
  const unmappedColls = Array.from({ length: vc }, (_, i) => i).filter((c) => !v.collections.includes(c));
  const someMapped = v.mapped.length > 0 ? rng.pick(v.mapped) : null;
  const registered = [...v.devices.keys()];
  const kind = rng.weighted<string>([
    [registered.length === 0 ? 12 : unregistered.length > 0 ? 1.5 : 0.5, 'mapd'],
    [v.collections.length === 0 ? 12 : unmappedColls.length > 0 ? 1.5 : 0.5, 'mapc'],
    [registered.length > 0 ? (v.collections.length === 0 ? 1 : v.mapped.length < 3 ? 14 : 3) : 0, 'mapti'],
    [someMapped !== null ? 12 : 1, 'int'],
    [someMapped !== null ? 3 : 0, 'inv'],
    [v.collections.length > 0 ? 2 : 0, 'invall'],
    [someMapped !== null ? 2 : 0, 'discard'],
    [someMapped !== null && v.collections.length > 0 ? 3 : 0, 'movi'],
    [someMapped !== null ? 2 : 0, 'clear'],
    [2, 'sync'],
    [1, 'movall'],
    [0.3, 'mapd0'],
    [0.2, 'mapc0'],
    [1.5, 'bad'],
  ]);
  switch (kind) {
    case 'mapd': {
      const devid = unregistered.length > 0 && rng.bool(0.9) ? unregistered[0]! : anyDevid(rng, v);
      // Size field n: an ITT of 2^(n + 1) events; the host's count, max(32, 2^(n + 1)), must stay below 2^evid_bits.
      const top = Math.max(0, Math.min(4, v.its.evidBits - 2));
      const size = rng.weighted([[8, rng.int(Math.min(2, top), top)], [1, rng.int(0, v.its.evidBits + 1)]]);
      return cmd.mapd(devid, size, L.itt + (devid & 0x7f) * L.ittStride, true);
    }
    case 'mapc': {
      const icid = unmappedColls.length > 0 && rng.bool(0.9) ? unmappedColls[0]! : anyIcid(rng, v);
      // Collection n on vCPU n, mostly.
      if (icid < vc && rng.bool(0.8)) return cmd.mapc(icid, icid, true);
      return cmd.mapc(icid, rng.bool(0.95) ? rng.int(0, vc - 1) : vc, true);
    }
    case 'mapti': {
      const devid = registered.length > 0 && rng.bool(0.9) ? rng.pick(registered) : anyDevid(rng, v);
      const taken = v.mapped.filter((e) => e.devid === devid).map((e) => e.evid);
      const free = [0, 1, 2, 3, 4, 5].filter((x) => !taken.includes(x));
      const evid = free.length > 0 && rng.bool(0.85) ? rng.pick(free) : anyEvid(rng);
      const icid = v.collections.length > 0 && rng.bool(0.9) ? rng.pick(v.collections) : anyIcid(rng, v);
      if (rng.bool(0.15)) return cmd.mapi(devid, rng.bool(0.8) ? rng.pick(v.vlpis) : evid, icid);
      return cmd.mapti(devid, evid, anyPintid(rng, v), icid);
    }
    case 'int': case 'inv': case 'discard': case 'clear': {
      const op = kind === 'int' ? OP_INT : kind === 'inv' ? OP_INV : kind === 'discard' ? OP_DISCARD : OP_CLEAR;
      // CLEAR of an event never mapped on a registered device is a crash in Xen: aim CLEAR at mapped events only.
      if (someMapped !== null && (rng.bool(0.9) || op === OP_CLEAR)) return cmd.ev(op, someMapped.devid, someMapped.evid);
      return cmd.ev(op, anyDevid(rng, v), anyEvid(rng));
    }
    case 'invall':
      return cmd.invall(v.collections.length > 0 && rng.bool(0.97) ? rng.pick(v.collections) : anyIcid(rng, v));
    case 'movi': {
      const e = someMapped!;
      return cmd.movi(e.devid, e.evid, rng.bool(0.9) ? rng.pick(v.collections) : anyIcid(rng, v));
    }
    case 'sync': return cmd.sync(rng.int(0, vc));
    case 'movall': return cmd.movall(rng.int(0, vc - 1), rng.int(0, vc - 1));
    case 'mapd0': return cmd.mapd(rng.pick(v.devids), 0, 0, false);
    case 'mapc0': return cmd.mapc(rng.int(0, vc - 1), rng.int(0, vc - 1), false);
    default: {
      // Unknown opcodes and out-of-range fields.
      const op = rng.pick([0x00, 0x02, 0x06, 0x07, 0x10, 0x20, 0xff]);
      return [BigInt(op) | (BigInt(rng.int(0, 7)) << 32n), BigInt(rng.next()), BigInt(rng.next()), 0n];
    }
  }
}

/**
 * What a well-formed command will likely have done when the next one of the same batch is
 * chosen (so that one batch can map a device, a collection and an event): the guest's own
 * bookkeeping, not the model's.
 */
function foresee(v: ItsView, c: readonly bigint[]): void {
  const op = Number(c[0]! & 0xffn);
  const devid = Number(c[0]! >> 32n);
  const valid = (c[2]! & V) !== 0n;
  if (op === 0x08 && valid && v.devids.includes(devid) && !v.devices.has(devid)) v.devices.set(devid, 2 ** (Number(c[1]! & 0x1fn) + 1));
  if (op === 0x09 && valid) {
    const icid = Number(c[2]! & 0xffffn);
    if (icid < v.its.maxCollections && Number((c[2]! >> 16n) & 0xffffn) < v.d.vcpus.length && !v.collections.includes(icid)) v.collections.push(icid);
  }
  if (op === 0x0a && v.devices.has(devid)) {
    const evid = Number(c[1]! & 0xffffffffn);
    const vlpi = Number(c[1]! >> 32n);
    if (evid < 6 && vlpi >= LPI0 && vlpi < v.d.nrLpis && !v.mapped.some((e) => (e.devid === devid && e.evid === evid) || e.vlpi === vlpi)) v.mapped.push({ devid, evid, vlpi });
  }
}

/** The queue the guest writes to: the layout's, of CBASER's size when it is there. */
function queueSize(its: VirtIts): number {
  const addr = Number(its.cbaser & 0xffffffffff000n);
  return addr === L.queue ? (Number(its.cbaser & 0xffn) + 1) * 0x1000 : 0x1000;
}

/** 1-3 commands at the guest's tail (CWRITER) and the CWRITER write that runs them. */
function commandSteps(rng: ItsRng, v: ItsView, cpu: Pcpu | null): RawStep[] {
  const size = queueSize(v.its);
  let tail = v.its.cwriter % size;
  const out: RawStep[] = [];
  const n = rng.weighted([[4, 1], [3, 2], [3, 3], [2, 4]]);
  for (let i = 0; i < n; i++) {
    const c = oneCommand(rng, v);
    foresee(v, c);
    // A word the slot already holds needs no store (fresh RAM reads 0).
    c.forEach((w, k) => {
      if (readGuestLe(v.d.ram, L.queue + tail + 8 * k, 8) !== w) out.push(memWrite(v.d, L.queue + tail + 8 * k, 8, w));
    });
    tail = (tail + 32) % size;
  }
  if (cpu !== null) out.push(mmio(cpu, 'write', gits(v, 0x88), 8, BigInt(rng.bool(0.97) ? tail : rng.pick([size, size + 32, tail + 8]))));
  return out;
}

/** An msi of a registered device: mostly a mapped event. */
function msiStep(rng: ItsRng, v: ItsView, cpu: Pcpu): RawStep | null {
  const devs = [...v.devices];
  if (devs.length === 0) return null;
  if (v.mapped.length > 0 && rng.bool(0.85)) {
    const e = rng.pick(v.mapped);
    return { op: 'msi', pcpu: cpu.id, domain: v.d.id, devid: e.devid, eventid: e.evid };
  }
  const [devid, events] = rng.pick(devs);
  return { op: 'msi', pcpu: cpu.id, domain: v.d.id, devid, eventid: rng.int(0, Math.min(events, 8) - 1) };
}

/** Register reads of the ITS and the redistributors. */
function readStep(rng: ItsRng, v: ItsView, cpu: Pcpu): RawStep {
  if (rng.bool(0.6)) {
    const off = rng.pick([0x0, 0x4, 0x8, 0x80, 0x88, 0x90, 0x100, 0x108, 0xffe8]);
    return mmio(cpu, 'read', gits(v, off), off === 0x0 || off === 0x4 || off === 0xffe8 ? 4 : 8);
  }
  const vc = rng.int(0, v.d.vcpus.length - 1);
  const off = rng.pick([0x0, 0x8, 0x70, 0x78, 0xc0]);
  return mmio(cpu, 'read', guestLayout(v.d).gicr(vc) + off, off === 0x0 ? 4 : 8);
}

/** Odd but legal guest actions: rewrites, disables, the translation frame, random offsets. */
function oddStep(rng: ItsRng, v: ItsView, cpu: Pcpu): RawStep {
  const vc = rng.int(0, v.d.vcpus.length - 1);
  const gicr = guestLayout(v.d).gicr(vc);
  switch (rng.int(0, 7)) {
    case 0: return mmio(cpu, 'write', gits(v, 0x0), 4, 0n);
    case 1: return mmio(cpu, 'write', gits(v, 0x80), 8, V | BigInt(L.queue) | BigInt(rng.pick([0, 0, 1])));
    case 2: return mmio(cpu, 'write', gicr, 4, 0n);
    case 3: return mmio(cpu, 'write', gicr + 0x78, 8, BigInt(L.pendTable + 0x2000 * vc) | (rng.bool(0.5) ? 1n << 62n : 0n));
    case 4: return mmio(cpu, 'write', gicr + 0x70, 8, BigInt(L.propTable) | BigInt(rng.pick([13, 14, 15])));
    case 5: return mmio(cpu, rng.bool() ? 'read' : 'write', gits(v, 0x10040), 4, BigInt(rng.int(0, 7)));
    case 6: return mmio(cpu, 'write', gits(v, rng.pick([0x100, 0x108])), 8, V | BigInt(rng.pick([L.devTable, L.collTable])));
    default: {
      const size = rng.pick([1, 2, 4, 8] as const);
      const off = Math.floor(rng.int(0, 0x1ff) / size) * size;
      return mmio(cpu, rng.bool() ? 'read' : 'write', gits(v, off), size, BigInt(rng.next()) & ((1n << BigInt(8 * size)) - 1n));
    }
  }
}

/**
 * One batch of ITS traffic for `m` (which has an ITS domain): a step or a few, valid where the
 * generator can tell; null when the drawn action has no pCPU to run on.
 */
export function itsBatch(rng: ItsRng, m: Machine): RawStep[] | null {
  const doms = itsDomains(m);
  if (doms.length === 0) return null;
  const d = rng.pick(doms);
  const v = view(d);
  // A register access needs a pCPU in hyp mode running a vCPU of d: one that is, or one that
  // gets there first (the guest traps: exit; or the scheduler runs a vCPU of d).
  const hyp = m.host.pcpus.filter((c) => c.mode === 'hyp' && c.current !== null && c.current.domain === d);
  let cpu = hyp.length > 0 ? rng.pick(hyp) : null;
  const prefix: RawStep[] = [];
  if (cpu === null) {
    const guest = m.host.pcpus.filter((c) => c.mode === 'guest' && c.current !== null && c.current.domain === d);
    const free = m.host.pcpus.filter((c) => c.mode === 'idle' || c.mode === 'hyp');
    const ready = d.vcpus.filter((x) => x.online && x.runningOn === null);
    if (guest.length > 0) {
      cpu = rng.pick(guest);
      prefix.push({ op: 'exit', pcpu: cpu.id });
    } else if (free.length > 0 && ready.length > 0) {
      cpu = rng.pick(free);
      prefix.push({ op: 'run', pcpu: cpu.id, domain: d.id, vcpu: rng.pick(ready).id });
    }
  }
  // The guest's LPI handler: acknowledge a pending vLPI, EOI (and deactivate) an active one.
  const taking = m.host.pcpus.filter((c) => c.mode === 'guest' && c.current !== null && c.current.domain === d && c.cpuif.pmr !== 0);
  if (taking.length > 0 && rng.bool(0.6)) {
    const c = rng.pick(taking);
    const { layout, nrLrs } = m.host;
    for (let i = 0; i < nrLrs; i++) {
      const state = getField(c.cpuif.lrs, i, layout.state);
      const intid = getField(c.cpuif.lrs, i, layout.virq);
      if (intid < LPI0 || state === 0) continue;
      if ((state & 2) !== 0) return [{ op: 'eoi', pcpu: c.id, intid }, ...(c.cpuif.eoimode === 1 ? [{ op: 'dir', pcpu: c.id, intid }] : [])];
      return [{ op: 'ack', pcpu: c.id }];
    }
  }
  // A guest that takes LPIs opens its priority mask (it starts at 0, masking everything).
  const masked = m.host.pcpus.filter((c) => c.mode === 'guest' && c.current !== null && c.current.domain === d && c.cpuif.pmr === 0);
  if (masked.length > 0 && rng.bool(0.9)) return [{ op: 'pmr', pcpu: rng.pick(masked).id, value: 0xff }];
  const body = itsAction(rng, m, v, cpu);
  if (body === null) return null;
  return body.some((s) => s['op'] === 'mmio') ? [...prefix, ...body] : body;
}

/** The batch itself, on `cpu` (hyp mode, running a vCPU of the domain, once the prefix ran). */
function itsAction(rng: ItsRng, m: Machine, v: ItsView, cpu: Pcpu | null): RawStep[] | null {
  const d = v.d;
  const its = v.its;
  const idleOrHyp = m.host.pcpus.filter((c) => c.mode === 'idle' || c.mode === 'hyp');
  const tablesValid = (its.cbaser & V) !== 0n && (its.baserDev & V) !== 0n && (its.baserColl & V) !== 0n;
  const lpisOff = d.vcpus.filter((x) => !x.lpisEnabled);
  const propsWritten = d.ram!.writtenPagesIn(L.propTable, L.propTable + 0x1000).length > 0;
  const gicr = guestLayout(d).gicr;
  const action = rng.weighted<string>([
    [propsWritten ? 2 : 8, 'props'],
    [cpu !== null ? (!d.rdistsEnabled && (d.rdistPropbase & 0xfffffffff000n) === 0n ? 8 : 0.2) : 0, 'propbaser'],
    [cpu !== null ? (lpisOff.length > 0 ? (d.rdistPropbase !== 0n ? 8 : 1) : 0.2) : 0, 'enable_lpis'],
    [cpu !== null ? (tablesValid ? 0.3 : 8) : 0, 'tables'],
    [cpu !== null ? (its.enabled ? 0.3 : tablesValid ? 8 : 1) : 0, 'its_enable'],
    [its.enabled ? (d.rdistsEnabled ? 14 : 4) : 2, 'commands'],
    [v.devices.size > 0 && idleOrHyp.length > 0 ? 10 : 0, 'msi'],
    [cpu !== null ? 1 : 0, 'read'],
    [cpu !== null ? 0.7 : 0, 'odd'],
  ]);
  switch (action) {
    case 'props': return propSteps(rng, v);
    case 'propbaser': {
      const idbits = rng.weighted([[10, 14], [2, 15], [1, 13], [0.5, rng.pick([12, 31])]]);
      const set = mmio(cpu!, 'write', gicr(0) + 0x70, 8, BigInt(L.propTable) | BigInt(idbits) | (BigInt(rng.int(0, 7)) << 7n));
      // Mostly followed at once by EnableLPIs on the redistributors.
      return [set, ...d.vcpus.filter(() => rng.bool(0.6)).map((x) => mmio(cpu!, 'write', gicr(x.id), 4, 1n))];
    }
    case 'enable_lpis': {
      const targets = lpisOff.length > 0 && rng.bool(0.9) ? lpisOff : d.vcpus;
      return targets.filter(() => rng.bool(0.7) || targets.length === 1).map((x) => mmio(cpu!, 'write', gicr(x.id), 4, 1n));
    }
    case 'tables': {
      const out: RawStep[] = [];
      if ((its.cbaser & V) === 0n || rng.bool(0.2)) out.push(mmio(cpu!, 'write', gits(v, 0x80), 8, V | BigInt(L.queue) | BigInt(rng.weighted([[6, 0], [1, 1]]))));
      if ((its.baserDev & V) === 0n || rng.bool(0.2)) out.push(mmio(cpu!, 'write', gits(v, 0x100), 8, V | BigInt(L.devTable)));
      if ((its.baserColl & V) === 0n || rng.bool(0.2)) out.push(mmio(cpu!, 'write', gits(v, 0x108), 8, V | BigInt(L.collTable)));
      if (out.length === 0) out.push(mmio(cpu!, 'write', gits(v, 0x108), 8, V | BigInt(L.collTable)));
      // Mostly followed at once by GITS_CTLR.Enabled.
      if (!its.enabled && rng.bool(0.6)) out.push(mmio(cpu!, 'write', gits(v, 0x0), 4, 1n));
      return out;
    }
    case 'its_enable': return [mmio(cpu!, 'write', gits(v, 0x0), 4, its.enabled && rng.bool(0.5) ? 0n : 1n)];
    case 'commands': return commandSteps(rng, v, cpu);
    case 'msi': return [msiStep(rng, v, rng.pick(idleOrHyp))!];
    case 'read': return [readStep(rng, v, cpu!)];
    default: return [oddStep(rng, v, cpu!)];
  }
}
