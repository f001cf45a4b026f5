/**
 * The canonical snapshot of trace-format §5: keys in the order the contract lists them, hex
 * strings for registers and masks, so that equal states serialise byte-identically.
 */
import { LR_STATE_NAMES, getField, lrPriority8, rawLr, type LrStateName } from '../arch/lr.js';
import {
  STATUS_NAMES, listEmpty, listRecords, statusNames, type Domain, type Host, type PendingIrq, type PcpuMode,
  type Rank, type StatusName, type Vcpu,
} from '../xen/types.js';
import type { IrqDesc } from '../hw/irqdesc.js';
import type { ItsDevice } from '../xen/gic-v3-its.js';
import { toHex } from './decode.js';
import { LPI_BLOCK, hostLpiEntry } from '../xen/gic-v3-lpi.js';
import { GICR_PENDBASER_PTZ } from '../xen/vgic-v3.js';
import { KvmVm, type KvmVcpu } from '../vmm/types.js';

export interface RankSnapshot {
  index: number;
  ienable: string;
  icfg: [string, string];
  priority: number[];
  vcpu: number[];
}

export interface LrSnapshot {
  lr: number;
  raw: string;
  state: Exclude<LrStateName, 'invalid'>;
  virq: number;
  pirq: number | null;
  priority: number;
  grp1: boolean;
}

export interface VcpuSnapshot {
  id: number;
  online: boolean;
  rank: RankSnapshot;
  inflight: { irq: number; lr: number }[];
  lr_pending: number[];
  lr_mask: string;
  pmr: number;
  eoimode: number;
  apr: string;
  lrs: LrSnapshot[];
  /** Only for a domain with an ITS (trace-format §9.3). */
  lpis_enabled?: boolean;
  pendbase?: string;
}

export interface IrqSnapshot {
  irq: number;
  vcpu: number | null;
  status: StatusName[];
  priority: number;
  lr: number;
  /** Only for an LPI record of pend_lpi_tree (trace-format §9.3). */
  lpi_priority?: number;
}

/** The domain's LPI configuration (trace-format §9.3). */
export interface LpiSnapshot {
  propbase: string;
  rdists_enabled: boolean;
  nr_lpis: number;
}

/** The virtual ITS registers (trace-format §9.3). */
export interface ItsSnapshot {
  base: string;
  enabled: boolean;
  cbaser: string;
  cwriter: string;
  creadr: string;
  baser0: string;
  baser1: string;
}

/** One host device of the registry (trace-format §9.3). */
export interface ItsDeviceSnapshot {
  devid: number;
  eventids: number;
  vlpis: number[];
}

export interface DomainSnapshot {
  id: number;
  ctlr: string;
  ranks: RankSnapshot[];
  vcpus: VcpuSnapshot[];
  irqs: IrqSnapshot[];
  /** Only for a domain with an ITS (trace-format §9.3). */
  lpi?: LpiSnapshot;
  its?: ItsSnapshot;
  its_devices?: ItsDeviceSnapshot[];
  /** Only for a domain a VMM builds through KVM's device API (trace-format §10.3). */
  vmm?: VmmSnapshot;
}

/** The KVM state of a device domain (trace-format §10.3). */
export interface VmmSnapshot {
  model: 'v2' | 'v3' | null;
  initialized: boolean;
  ready: boolean;
  dead: boolean;
  nr_irqs: number;
  dist: string | null;
  cpu: string | null;
  redist_regions: { index: number; base: string; count: number }[];
  its: { device: number; base: string | null }[];
  vcpus: { id: number; redist: string | null; ran: boolean }[];
}

export interface PcpuSnapshot {
  id: number;
  mode: PcpuMode;
  running: { domain: number; vcpu: number } | null;
  uie: boolean;
}

export interface PhysicalSnapshot {
  pirq: number;
  domain: number;
  virq: number;
  enabled: boolean;
  pending: boolean;
  active: boolean;
  in_progress: boolean;
  affinity: number;
}

export interface Snapshot {
  pcpus: PcpuSnapshot[];
  domains: DomainSnapshot[];
  physical: PhysicalSnapshot[];
}

/** A byte array as a plain number array (one loop, no iterator). */
function bytes(a: Uint8Array): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  return out;
}

export function rankSnapshot(r: Rank): RankSnapshot {
  return {
    index: r.index,
    ienable: toHex(r.ienable),
    icfg: [toHex(r.icfg[0]!), toHex(r.icfg[1]!)],
    priority: bytes(r.priority),
    vcpu: bytes(r.vcpu),
  };
}

function lrSnapshots(host: Host, lrs: Uint32Array): LrSnapshot[] {
  const out: LrSnapshot[] = [];
  const layout = host.layout;
  for (let lr = 0; lr < host.nrLrs; lr++) {
    const state = getField(lrs, lr, layout.state);
    if (state === 0) continue;
    const hw = getField(lrs, lr, layout.hw) === 1;
    out.push({
      lr,
      raw: toHex(rawLr(lrs, lr)),
      state: LR_STATE_NAMES[state] as Exclude<LrStateName, 'invalid'>,
      virq: getField(lrs, lr, layout.virq),
      pirq: hw ? getField(lrs, lr, layout.pirq) : null,
      priority: lrPriority8(layout, lrs, lr),
      grp1: getField(lrs, lr, layout.grp1) === 1,
    });
  }
  return out;
}

function vcpuSnapshot(host: Host, v: Vcpu): VcpuSnapshot {
  // Live registers while the vCPU runs, its saved copy otherwise (trace-format §5).
  const { iface, lrMask: mask } = host.interfaceOf(v);
  const lpi = v.domain.hasIts ? { lpis_enabled: v.lpisEnabled, pendbase: toHex(pendbaseAsRead(v)) } : {};
  return {
    id: v.id,
    online: v.online,
    rank: rankSnapshot(v.privateIrqs),
    inflight: listRecords(v.inflightIrqs).map((p) => ({ irq: p.irq, lr: p.lr })),
    lr_pending: listRecords(v.lrPending).map((p) => p.irq),
    lr_mask: toHex(mask.toBigInt()),
    pmr: iface.pmr,
    eoimode: iface.eoimode,
    apr: toHex(iface.apr),
    lrs: lrSnapshots(host, iface.lrs),
    ...lpi,
  };
}

function irqSnapshot(p: PendingIrq, vcpu: number | null): IrqSnapshot {
  return { irq: p.irq, vcpu, status: statusNames(p.status), priority: p.priority, lr: p.lr };
}

function isInteresting(p: PendingIrq): boolean {
  return p.status !== 0 || !listEmpty(p.inflight) || !listEmpty(p.lrQueue);
}

function domainSnapshot(host: Host, d: Domain): DomainSnapshot {
  const irqs: IrqSnapshot[] = [];
  // Ascending by (irq, vcpu): private records first (irq-major), then the SPIs.
  for (let irq = 0; irq < 32; irq++) {
    for (const v of d.vcpus) {
      const p = v.pendingIrqs[irq]!;
      if (isInteresting(p)) irqs.push(irqSnapshot(p, v.id));
    }
  }
  for (const p of d.pendingIrqs) if (isInteresting(p)) irqs.push(irqSnapshot(p, null));
  if (d.hasIts) for (const p of lpiRecords(d)) irqs.push({ ...irqSnapshot(p, lpiVcpu(d, p)), lpi_priority: p.lpiPriority });
  const base: DomainSnapshot = {
    id: d.id,
    ctlr: toHex(d.ctlr),
    ranks: d.sharedIrqs.map(rankSnapshot),
    vcpus: d.vcpus.map((v) => vcpuSnapshot(host, v)),
    irqs,
  };
  const vmm = d.vmm instanceof KvmVm ? { vmm: vmmSnapshot(d.vmm) } : {};
  if (!d.hasIts) return { ...base, ...vmm };
  const its = d.vits!;
  return {
    ...base,
    lpi: { propbase: toHex(d.rdistPropbase), rdists_enabled: d.rdistsEnabled, nr_lpis: d.nrLpis },
    its: {
      base: toHex(its.base), enabled: its.enabled, cbaser: toHex(its.cbaser), cwriter: toHex(its.cwriter),
      creadr: toHex(its.creadr), baser0: toHex(its.baserDev), baser1: toHex(its.baserColl),
    },
    its_devices: itsDevices(host, d),
    ...vmm,
  };
}

// ----- the VMM front door (trace-format §10.3), for a device domain only -----

const hexOrNull = (v: bigint | null): string | null => (v === null ? null : toHex(v));

/** A device domain's KVM state: vCPUs ascending by id, regions and ITS devices in creation order. */
export function vmmSnapshot(vm: KvmVm): VmmSnapshot {
  return {
    model: vm.model,
    initialized: vm.initialized,
    ready: vm.ready,
    dead: vm.dead,
    nr_irqs: vm.nrSpis + 32,
    dist: hexOrNull(vm.distBase),
    cpu: hexOrNull(vm.cpuBase),
    redist_regions: vm.rdRegions.map((r) => ({ index: r.index, base: toHex(r.base), count: r.count })),
    its: vm.itsDevices.map((dev) => ({ device: dev.handle, base: hexOrNull(dev.its!.base) })),
    vcpus: vcpusById(vm).map((v) => ({ id: v.id, redist: hexOrNull(v.rdBase), ran: v.ran })),
  };
}

const hexOrNullText = (v: bigint | null): string => (v === null ? 'null' : `"${toHex(v)}"`);

/** The vCPUs of a VM ascending by id (creation order is usually that already). */
function vcpusById(vm: KvmVm): readonly KvmVcpu[] {
  const vs = vm.vcpus;
  for (let i = 1; i < vs.length; i++) if (vs[i - 1]!.id > vs[i]!.id) return [...vs].sort((a, b) => a.id - b.id);
  return vs;
}

/**
 * The same, as canonical JSON text (`,"vmm":{...}`, to follow the domain's other keys),
 * written directly: `JSON.stringify(vmmSnapshot(vm))` byte for byte. `handle` renames ITS
 * device handles (the noninterference monitor's shadows number theirs differently).
 */
function vmmJson(vm: KvmVm, handle: ReadonlyMap<number, number> | null = null): string {
  let regions = '';
  for (const r of vm.rdRegions) regions += `${regions === '' ? '' : ','}{"index":${r.index},"base":"${toHex(r.base)}","count":${r.count}}`;
  let its = '';
  for (const dev of vm.itsDevices) {
    its += `${its === '' ? '' : ','}{"device":${handle?.get(dev.handle) ?? dev.handle},"base":${hexOrNullText(dev.its!.base)}}`;
  }
  let vcpus = '';
  for (const v of vcpusById(vm)) vcpus += `${vcpus === '' ? '' : ','}{"id":${v.id},"redist":${hexOrNullText(v.rdBase)},"ran":${v.ran}}`;
  return `,"vmm":{"model":${vm.model === null ? 'null' : `"${vm.model}"`},"initialized":${vm.initialized},"ready":${vm.ready},"dead":${vm.dead},` +
    `"nr_irqs":${vm.nrSpis + 32},"dist":${hexOrNullText(vm.distBase)},"cpu":${hexOrNullText(vm.cpuBase)},` +
    `"redist_regions":[${regions}],"its":[${its}],"vcpus":[${vcpus}]}`;
}

/**
 * Would vmmJson write the same text for `a` and for `b` (whose ITS device handles `bToA`
 * renames, when given)? Every value the text is made of is compared, none written.
 */
function sameVmm(a: KvmVm, b: KvmVm, bToA: ReadonlyMap<number, number> | null): boolean {
  if (a.model !== b.model || a.initialized !== b.initialized || a.ready !== b.ready || a.dead !== b.dead || a.nrSpis !== b.nrSpis
    || a.distBase !== b.distBase || a.cpuBase !== b.cpuBase || a.rdRegions.length !== b.rdRegions.length
    || a.itsDevices.length !== b.itsDevices.length || a.vcpus.length !== b.vcpus.length) return false;
  for (let i = 0; i < a.rdRegions.length; i++) {
    const x = a.rdRegions[i]!;
    const y = b.rdRegions[i]!;
    if (x.index !== y.index || x.base !== y.base || x.count !== y.count) return false;
  }
  for (let i = 0; i < a.itsDevices.length; i++) {
    const x = a.itsDevices[i]!;
    const y = b.itsDevices[i]!;
    if (x.handle !== (bToA?.get(y.handle) ?? y.handle) || x.its!.base !== y.its!.base) return false;
  }
  const va = vcpusById(a);
  const vb = vcpusById(b);
  for (let i = 0; i < va.length; i++) {
    const x = va[i]!;
    const y = vb[i]!;
    if (x.id !== y.id || x.rdBase !== y.rdBase || x.ran !== y.ran) return false;
  }
  return true;
}

// ----- LPIs and the virtual ITS (trace-format §9.3), for a domain with an ITS only -----

/** GICR_PENDBASER as the guest reads it (PTZ reads as 0). */
function pendbaseAsRead(v: Vcpu): bigint {
  return v.rdistPendbase & ~GICR_PENDBASER_PTZ;
}

/** The records of pend_lpi_tree, ascending by vLPI. */
function lpiRecords(d: Domain): PendingIrq[] {
  const out: PendingIrq[] = [];
  let last = -1;
  let sorted = true;
  for (const [key, p] of d.pendLpiTree) {
    if (key < last) sorted = false;
    last = key;
    out.push(p);
  }
  return sorted ? out : [...d.pendLpiTree.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
}

/** An LPI record's lpi_vcpu_id, or null when it names no vCPU. */
function lpiVcpu(d: Domain, p: PendingIrq): number | null {
  return p.lpiVcpuId < d.maxVcpus ? p.lpiVcpuId : null;
}

/** The host device registry ascending by DeviceID, with the vLPI each event's host LPI forwards to. */
function itsDevices(host: Host, d: Domain): ItsDeviceSnapshot[] {
  return devicesByDevid(d).map((dev) => {
    const vlpis = new Array<number>(dev.eventids);
    for (let ev = 0; ev < dev.eventids; ev++) vlpis[ev] = eventVlpi(host, dev, ev);
    return { devid: dev.guestDevid, eventids: dev.eventids, vlpis };
  });
}

/**
 * A device's last `its_devices` entry and the vLPIs it was written from (kept on the device:
 * ItsDevice.snapCache; its DeviceID and event count never change).
 */
interface DeviceText {
  readonly vlpis: Uint32Array;
  text: string;
}

/** The same as canonical JSON text, without the intermediate objects. */
function itsDevicesJson(host: Host, d: Domain): string {
  let out = '';
  for (const dev of devicesByDevid(d)) out += `${out === '' ? '' : ','}${deviceJson(host, dev)}`;
  return out;
}

/** One device's entry: the cached text unless a vLPI of its events changed. */
function deviceJson(host: Host, dev: ItsDevice): string {
  let c = dev.snapCache as DeviceText | null;
  if (c === null) {
    c = { vlpis: new Uint32Array(dev.eventids), text: '' };
    dev.snapCache = c;
  } else {
    let same = true;
    for (let ev = 0; ev < dev.eventids && same; ev++) same = eventVlpi(host, dev, ev) === c.vlpis[ev];
    if (same) return c.text;
  }
  let vlpis = '';
  for (let ev = 0; ev < dev.eventids; ev++) {
    const v = eventVlpi(host, dev, ev);
    c.vlpis[ev] = v;
    vlpis += ev === 0 ? `${v}` : `,${v}`;
  }
  c.text = `{"devid":${dev.guestDevid},"eventids":${dev.eventids},"vlpis":[${vlpis}]}`;
  return c.text;
}

/** The values a domain's `lpi` and `its` entries are written from (lpiJson) and compared by (sameLpiState). */
interface ItsRegs {
  readonly propbase: bigint;
  readonly rdistsEnabled: boolean;
  readonly nrLpis: number;
  readonly base: number;
  readonly enabled: boolean;
  readonly cbaser: bigint;
  readonly cwriter: number;
  readonly creadr: number;
  readonly baserDev: bigint;
  readonly baserColl: bigint;
}

/** Domain d's ItsRegs (a domain with an ITS). */
function itsRegs(d: Domain): ItsRegs {
  const its = d.vits!;
  return {
    propbase: d.rdistPropbase, rdistsEnabled: d.rdistsEnabled, nrLpis: d.nrLpis, base: its.base, enabled: its.enabled,
    cbaser: its.cbaser, cwriter: its.cwriter, creadr: its.creadr, baserDev: its.baserDev, baserColl: its.baserColl,
  };
}

/** Has domain d (with an ITS) the values `r`? */
function hasItsRegs(d: Domain, r: ItsRegs): boolean {
  const its = d.vits!;
  return r.propbase === d.rdistPropbase && r.rdistsEnabled === d.rdistsEnabled && r.nrLpis === d.nrLpis && r.base === its.base
    && r.enabled === its.enabled && r.cbaser === its.cbaser && r.cwriter === its.cwriter && r.creadr === its.creadr
    && r.baserDev === its.baserDev && r.baserColl === its.baserColl;
}

/**
 * The last `lpi` and `its` text of a domain, with the values it was written from (kept on its
 * vITS: VirtIts.snapCache): they change only when the guest writes the ITS or redistributor
 * registers, so most snapshots reuse the text after comparing the values.
 */
interface ItsText {
  readonly regs: ItsRegs;
  readonly text: string;
}

function lpiJson(host: Host, d: Domain): string {
  const its = d.vits!;
  let c = its.snapCache as ItsText | null;
  if (c === null || !hasItsRegs(d, c.regs)) {
    const r = itsRegs(d);
    c = {
      regs: r,
      text: `,"lpi":{"propbase":"${toHex(r.propbase)}","rdists_enabled":${r.rdistsEnabled},"nr_lpis":${r.nrLpis}},` +
        `"its":{"base":"${toHex(r.base)}","enabled":${r.enabled},"cbaser":"${toHex(r.cbaser)}","cwriter":"${toHex(r.cwriter)}",` +
        `"creadr":"${toHex(r.creadr)}","baser0":"${toHex(r.baserDev)}","baser1":"${toHex(r.baserColl)}"},`,
    };
    its.snapCache = c;
  }
  return `${c.text}"its_devices":[${itsDevicesJson(host, d)}]`;
}

// ----- end of the ITS additions -----

/** The whole machine, canonical form. */
export function takeSnapshot(host: Host): Snapshot {
  const domains = [...host.domains.values()].sort((a, b) => a.id - b.id);
  const physical: PhysicalSnapshot[] = [...host.irqDescs.values()]
    .filter((desc) => desc.guest !== null)
    .sort((a, b) => a.irq - b.irq)
    .map((desc) => ({
      pirq: desc.irq,
      domain: desc.guest!.domain,
      virq: desc.guest!.virq,
      enabled: desc.enabled,
      pending: desc.pending,
      active: desc.active,
      in_progress: desc.inProgress,
      affinity: desc.affinity,
    }));
  return {
    pcpus: host.pcpus.map((cpu) => ({
      id: cpu.id,
      mode: cpu.mode,
      running: cpu.current === null ? null : { domain: cpu.current.domain.id, vcpu: cpu.current.id },
      uie: cpu.cpuif.uie,
    })),
    domains: domains.map((d) => domainSnapshot(host, d)),
    physical,
  };
}

// ----- the same snapshot written straight to canonical JSON -----
//
// `snapshotJson(host)` is byte-identical to `JSON.stringify(takeSnapshot(host))` (a spec
// checks it on random traces) without building the object tree first: what `vgic serve`
// answers and what the per-step checks compare. Every string it writes is a name or a hex
// number, so nothing needs escaping.

/** The decimal text of each byte value. */
const BYTE_TEXT: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** `[v,v,...,v]` for a 32-byte rank array whose bytes are all v (the usual case: all 0, or one priority). */
const UNIFORM_RANK_BYTES: readonly string[] = BYTE_TEXT.map((t) => `[${new Array<string>(32).fill(t).join(',')}]`);

function jsonBytes(a: Uint8Array): string {
  const n = a.length;
  if (n === 0) return '[]';
  const v0 = a[0]!;
  if (n === 32) {
    let uniform = true;
    for (let i = 1; i < 32; i++) {
      if (a[i] !== v0) {
        uniform = false;
        break;
      }
    }
    if (uniform) return UNIFORM_RANK_BYTES[v0]!;
  }
  let s = `[${BYTE_TEXT[v0]!}`;
  for (let i = 1; i < n; i++) s += `,${BYTE_TEXT[a[i]!]!}`;
  return `${s}]`;
}

/** `["QUEUED","ENABLED"]` for every combination of the status bits. */
const STATUS_JSON: readonly string[] = Array.from({ length: 1 << STATUS_NAMES.length }, (_, st) => JSON.stringify(statusNames(st)));

/** Canonical hex of a 64-bit value held as two 32-bit words, without a bigint. */
function hex64(lo: number, hi: number): string {
  return hi === 0 ? `0x${lo.toString(16)}` : `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`;
}

/** `0x…` of each value below 256 (most words a snapshot prints: 0, small masks). */
const HEX_SMALL: readonly string[] = Array.from({ length: 256 }, (_, i) => `0x${i.toString(16)}`);

function hex32(v: number): string {
  return v < 256 && v >= 0 ? HEX_SMALL[v]! : toHex(v);
}

/**
 * The last text written for a rank, with the contents it was written from (kept on the rank:
 * Rank.snapCache): a rank changes only when the guest writes its registers, so most
 * snapshots reuse the text after comparing its 64 bytes (as 16 words) and three words.
 */
interface RankText {
  /** Word views of the rank's own arrays, and the words last written. */
  readonly prio: Uint32Array;
  readonly target: Uint32Array;
  readonly prioWas: Uint32Array;
  readonly targetWas: Uint32Array;
  ienable: number;
  icfg0: number;
  icfg1: number;
  text: string;
}

/** A 32-byte array as 8 words (its own buffer, aligned: Rank allocates each array alone). */
function words(a: Uint8Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length >> 2);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function rankJson(r: Rank): string {
  let c = r.snapCache as RankText | null;
  if (c !== null && c.ienable === r.ienable && c.icfg0 === r.icfg[0] && c.icfg1 === r.icfg[1]) {
    const p = c.prio;
    const pw = c.prioWas;
    const t = c.target;
    const tw = c.targetWas;
    if (p[0] === pw[0] && p[1] === pw[1] && p[2] === pw[2] && p[3] === pw[3] && p[4] === pw[4] && p[5] === pw[5] && p[6] === pw[6] && p[7] === pw[7]
      && t[0] === tw[0] && t[1] === tw[1] && t[2] === tw[2] && t[3] === tw[3] && t[4] === tw[4] && t[5] === tw[5] && t[6] === tw[6] && t[7] === tw[7]) return c.text;
  }
  const text = `{"index":${r.index},"ienable":"${hex32(r.ienable)}","icfg":["${hex32(r.icfg[0]!)}","${hex32(r.icfg[1]!)}"],` +
    `"priority":${jsonBytes(r.priority)},"vcpu":${jsonBytes(r.vcpu)}}`;
  if (c === null) {
    const prio = words(r.priority);
    const target = words(r.vcpu);
    c = { prio, target, prioWas: prio.slice(), targetWas: target.slice(), ienable: 0, icfg0: 0, icfg1: 0, text };
    r.snapCache = c;
  } else {
    c.prioWas.set(c.prio);
    c.targetWas.set(c.target);
    c.text = text;
  }
  c.ienable = r.ienable;
  c.icfg0 = r.icfg[0]!;
  c.icfg1 = r.icfg[1]!;
  return text;
}

/** One valid LR as canonical JSON; the guest view (§5.1) leaves out `raw`. */
function lrJson(layout: Host['layout'], lrs: Uint32Array, lr: number, state: number, raw: boolean): string {
  const hw = getField(lrs, lr, layout.hw) === 1;
  return `{"lr":${lr},${raw ? `"raw":"${hex64(lrs[2 * lr]!, lrs[2 * lr + 1]!)}",` : ''}"state":"${LR_STATE_NAMES[state]!}",` +
    `"virq":${getField(lrs, lr, layout.virq)},"pirq":${hw ? getField(lrs, lr, layout.pirq) : 'null'},` +
    `"priority":${lrPriority8(layout, lrs, lr)},"grp1":${getField(lrs, lr, layout.grp1) === 1}}`;
}

/**
 * The last text written for a vCPU's LRs, with the words it was written from: each LR's text
 * is reused while its two words are unchanged, the whole list while none is.
 */
interface LrsText {
  readonly words: Uint32Array;
  readonly texts: string[];
  all: string;
}

/** Per LR array: the full snapshot's text ([0], with `raw`) and the guest view's ([1]). */
const lrsTexts = [new WeakMap<Uint32Array, LrsText>(), new WeakMap<Uint32Array, LrsText>()] as const;

/** The valid LRs as canonical JSON; the guest view (§5.1) leaves out `raw`. */
function lrsJson(host: Host, lrs: Uint32Array, raw: boolean): string {
  const layout = host.layout;
  const nrLrs = host.nrLrs;
  const cache = lrsTexts[raw ? 0 : 1];
  let c = cache.get(lrs);
  if (c === undefined) {
    c = { words: new Uint32Array(2 * nrLrs), texts: new Array<string>(nrLrs).fill(''), all: '[]' };
    cache.set(lrs, c);
  }
  let same = true;
  for (let i = 0; i < 2 * nrLrs && same; i++) same = c.words[i] === lrs[i];
  if (same) return c.all;
  // An LR's text is reused while its words are those it was written from. A valid LR's state
  // bits make its words non-zero, so the zero words of a new cache never match one.
  let s = '[';
  let first = true;
  for (let lr = 0; lr < nrLrs; lr++) {
    const lo = lrs[2 * lr]!;
    const hi = lrs[2 * lr + 1]!;
    const state = getField(lrs, lr, layout.state);
    if (state !== 0) {
      if (c.words[2 * lr] !== lo || c.words[2 * lr + 1] !== hi) c.texts[lr] = lrJson(layout, lrs, lr, state, raw);
      s += first ? c.texts[lr]! : `,${c.texts[lr]!}`;
      first = false;
    }
    c.words[2 * lr] = lo;
    c.words[2 * lr + 1] = hi;
  }
  c.all = `${s}]`;
  return c.all;
}

/**
 * The last texts written for a record: its `irqs[]` entry (with the values it was written
 * from) and its `inflight` entry (with its lr). Most records keep their state from one
 * snapshot to the next.
 */
interface RecordText {
  irq: number;
  /** The vCPU the entry names, -1 for null. */
  vcpu: number;
  status: number;
  priority: number;
  lr: number;
  /** An LPI record's entry carries lpi_priority (-1: not an LPI entry). */
  lpiPriority: number;
  text: string;
  inflIrq: number;
  inflLr: number;
  inflText: string;
}

/** The record's texts (kept on the record: PendingIrq.snapCache). */
function recordText(p: PendingIrq): RecordText {
  let c = p.snapCache as RecordText | null;
  if (c === null) {
    c = { irq: -1, vcpu: -1, status: -1, priority: -1, lr: -1, lpiPriority: -1, text: '', inflIrq: -1, inflLr: -1, inflText: '' };
    p.snapCache = c;
  }
  return c;
}

/** `{"irq":..,"lr":..}`: a record's entry in its vCPU's `inflight` list. */
function inflightJson(p: PendingIrq): string {
  const c = recordText(p);
  if (c.inflIrq !== p.irq || c.inflLr !== p.lr) {
    c.inflText = `{"irq":${p.irq},"lr":${p.lr}}`;
    c.inflIrq = p.irq;
    c.inflLr = p.lr;
  }
  return c.inflText;
}

function vcpuJson(host: Host, v: Vcpu): string {
  const { iface, lrMask: mask } = host.interfaceOf(v);
  let inflight = '[';
  for (let n = v.inflightIrqs.next; n !== v.inflightIrqs; n = n.next) {
    inflight += n.prev === v.inflightIrqs ? inflightJson(n.owner!) : `,${inflightJson(n.owner!)}`;
  }
  let pending = '[';
  for (let n = v.lrPending.next; n !== v.lrPending; n = n.next) pending += `${n.prev === v.lrPending ? '' : ','}${n.owner!.irq}`;
  return `{"id":${v.id},"online":${v.online},"rank":${rankJson(v.privateIrqs)},"inflight":${inflight}],"lr_pending":${pending}],` +
    `"lr_mask":"${hex64(mask.lo >>> 0, mask.hi >>> 0)}","pmr":${iface.pmr},"eoimode":${iface.eoimode},"apr":"${hex32(iface.apr)}",` +
    `"lrs":${lrsJson(host, iface.lrs, true)}` +
    (v.domain.hasIts ? `,"lpis_enabled":${v.lpisEnabled},"pendbase":"${toHex(pendbaseAsRead(v))}"}` : '}');
}

/** A record's `irqs[]` entry; `lpiPriority` (an LPI record's) adds `lpi_priority`, -1 none. */
function irqJson(p: PendingIrq, vcpu: number | null, lpiPriority = -1): string {
  const c = recordText(p);
  const vc = vcpu === null ? -1 : vcpu;
  if (c.irq === p.irq && c.vcpu === vc && c.status === p.status && c.priority === p.priority && c.lr === p.lr && c.lpiPriority === lpiPriority) return c.text;
  const status = STATUS_JSON[p.status] ?? JSON.stringify(statusNames(p.status));
  c.text = `{"irq":${p.irq},"vcpu":${vcpu === null ? 'null' : vcpu},"status":${status},"priority":${p.priority},"lr":${p.lr}` +
    `${lpiPriority < 0 ? '' : `,"lpi_priority":${lpiPriority}`}}`;
  c.irq = p.irq;
  c.vcpu = vc;
  c.status = p.status;
  c.priority = p.priority;
  c.lr = p.lr;
  c.lpiPriority = lpiPriority;
  return c.text;
}

/**
 * One `domains[]` entry as canonical JSON text (what the noninterference monitor, P7,
 * compares); `handle` renames the VMM's ITS device handles (see vmmJson).
 */
export function domainJson(host: Host, d: Domain, handle: ReadonlyMap<number, number> | null = null): string {
  let irqs = '';
  for (let irq = 0; irq < 32; irq++) {
    for (const v of d.vcpus) {
      const p = v.pendingIrqs[irq]!;
      if (isInteresting(p)) irqs += `${irqs === '' ? '' : ','}${irqJson(p, v.id)}`;
    }
  }
  for (const p of d.pendingIrqs) if (isInteresting(p)) irqs += `${irqs === '' ? '' : ','}${irqJson(p, null)}`;
  if (d.hasIts) {
    for (const p of lpiRecords(d)) {
      const v = lpiVcpu(d, p);
      irqs += `${irqs === '' ? '' : ','}${irqJson(p, v, p.lpiPriority)}`;
    }
  }
  let ranks = '';
  for (const r of d.sharedIrqs) ranks += `${ranks === '' ? '' : ','}${rankJson(r)}`;
  let vcpus = '';
  for (const v of d.vcpus) vcpus += `${vcpus === '' ? '' : ','}${vcpuJson(host, v)}`;
  return `{"id":${d.id},"ctlr":"${hex32(d.ctlr)}","ranks":[${ranks}],"vcpus":[${vcpus}],"irqs":[${irqs}]${d.hasIts ? lpiJson(host, d) : ''}` +
    `${d.vmm === null ? '' : vmmJson(d.vmm as KvmVm, handle)}}`;
}

/**
 * A quick check that `domainJson` would write the same text for domain `a` of host `ha` and
 * domain `b` of host `hb`, without building either text: true only when every value the text
 * is made of is equal (ranks, GICD_CTLR, each vCPU's lists and interface registers, every
 * record's status, priority, lr and list links; raw LR words even where the LR is invalid),
 * so a false answer may still mean equal texts. What the noninterference monitor (P7) asks
 * after every step before it compares the texts themselves. `bHandles` renames `b`'s VMM
 * device handles to `a`'s, as domainJson's `handle`. A value added to domainJson must be
 * compared here too (a spec checks the two agree on random traces).
 */
export function sameDomainState(ha: Host, a: Domain, hb: Host, b: Domain, bHandles: ReadonlyMap<number, number> | null = null): boolean {
  if (a.hasIts !== b.hasIts || (a.vmm === null) !== (b.vmm === null)) return false;
  if (a.vmm !== null && !sameVmm(a.vmm as KvmVm, b.vmm as KvmVm, bHandles)) return false;
  if (a.id !== b.id || a.ctlr !== b.ctlr || a.sharedIrqs.length !== b.sharedIrqs.length || a.vcpus.length !== b.vcpus.length
    || a.pendingIrqs.length !== b.pendingIrqs.length || ha.nrLrs !== hb.nrLrs) return false;
  for (let i = 0; i < a.sharedIrqs.length; i++) if (!sameRank(a.sharedIrqs[i]!, b.sharedIrqs[i]!)) return false;
  for (let i = 0; i < a.vcpus.length; i++) if (!sameVcpu(ha, a.vcpus[i]!, hb, b.vcpus[i]!)) return false;
  for (let i = 0; i < a.pendingIrqs.length; i++) if (!sameRecord(a.pendingIrqs[i]!, b.pendingIrqs[i]!)) return false;
  return !a.hasIts || sameLpiState(ha, a, hb, b);
}

/** The ITS part of two domains with an ITS: vCPU LPI registers, the LPI records, the `lpi`, `its` and `its_devices` texts. */
function sameLpiState(ha: Host, a: Domain, hb: Host, b: Domain): boolean {
  for (let i = 0; i < a.vcpus.length; i++) {
    const v = a.vcpus[i]!;
    const w = b.vcpus[i]!;
    if (v.lpisEnabled !== w.lpisEnabled || pendbaseAsRead(v) !== pendbaseAsRead(w)) return false;
  }
  if (a.pendLpiTree.size !== b.pendLpiTree.size) return false;
  const ra = lpiRecords(a);
  const rb = lpiRecords(b);
  for (let i = 0; i < ra.length; i++) {
    const p = ra[i]!;
    const q = rb[i]!;
    if (!sameRecord(p, q) || p.lpiPriority !== q.lpiPriority || lpiVcpu(a, p) !== lpiVcpu(b, q)) return false;
  }
  // What lpiJson writes, value by value.
  if (!hasItsRegs(b, itsRegs(a)) || a.itsDevices.size !== b.itsDevices.size) return false;
  const da = devicesByDevid(a);
  const db = devicesByDevid(b);
  for (let i = 0; i < da.length; i++) {
    const e = da[i]!;
    const f = db[i]!;
    if (e.guestDevid !== f.guestDevid || e.eventids !== f.eventids) return false;
    for (let ev = 0; ev < e.eventids; ev++) if (eventVlpi(ha, e, ev) !== eventVlpi(hb, f, ev)) return false;
  }
  return true;
}

/** A domain's host devices ascending by DeviceID (the registry's order when that is already so). */
function devicesByDevid(d: Domain): readonly ItsDevice[] {
  let last = -1;
  for (const dev of d.itsDevices.values()) {
    if (dev.guestDevid < last) return [...d.itsDevices.values()].sort((p, q) => p.guestDevid - q.guestDevid);
    last = dev.guestDevid;
  }
  return [...d.itsDevices.values()];
}

/** The vLPI event `ev` of a host device forwards to (0: none), as its_devices[].vlpis shows it. */
function eventVlpi(host: Host, dev: ItsDevice, ev: number): number {
  return hostLpiEntry(host.hostLpis!, dev.hostLpiBlocks[Math.floor(ev / LPI_BLOCK)]! + (ev % LPI_BLOCK))?.virtLpi ?? 0;
}

function sameRank(a: Rank, b: Rank): boolean {
  return a.index === b.index && a.ienable === b.ienable && a.icfg[0] === b.icfg[0] && a.icfg[1] === b.icfg[1]
    && sameBytes(a.priority, b.priority) && sameBytes(a.vcpu, b.vcpu);
}

/** Status, priority, lr and whether it is on a list: what irqJson and isInteresting read. */
function sameRecord(p: PendingIrq, q: PendingIrq): boolean {
  return p.irq === q.irq && p.status === q.status && p.priority === q.priority && p.lr === q.lr
    && listEmpty(p.inflight) === listEmpty(q.inflight) && listEmpty(p.lrQueue) === listEmpty(q.lrQueue);
}

function sameVcpu(ha: Host, v: Vcpu, hb: Host, w: Vcpu): boolean {
  if (v.id !== w.id || v.online !== w.online || !sameRank(v.privateIrqs, w.privateIrqs)) return false;
  for (let irq = 0; irq < 32; irq++) if (!sameRecord(v.pendingIrqs[irq]!, w.pendingIrqs[irq]!)) return false;
  // inflight (irq, lr) and lr_pending (irq), walked in step.
  let n = v.inflightIrqs.next;
  let o = w.inflightIrqs.next;
  for (; n !== v.inflightIrqs && o !== w.inflightIrqs; n = n.next, o = o.next) {
    if (n.owner!.irq !== o.owner!.irq || n.owner!.lr !== o.owner!.lr) return false;
  }
  if (n !== v.inflightIrqs || o !== w.inflightIrqs) return false;
  n = v.lrPending.next;
  o = w.lrPending.next;
  for (; n !== v.lrPending && o !== w.lrPending; n = n.next, o = o.next) if (n.owner!.irq !== o.owner!.irq) return false;
  if (n !== v.lrPending || o !== w.lrPending) return false;
  const x = ha.interfaceOf(v);
  const y = hb.interfaceOf(w);
  if (x.lrMask.lo !== y.lrMask.lo || x.lrMask.hi !== y.lrMask.hi || x.iface.pmr !== y.iface.pmr
    || x.iface.eoimode !== y.iface.eoimode || x.iface.apr !== y.iface.apr) return false;
  const la = x.iface.lrs;
  const lb = y.iface.lrs;
  for (let i = 0; i < 2 * ha.nrLrs; i++) if (la[i] !== lb[i]) return false;
  return true;
}

/** The whole machine as canonical JSON text: `JSON.stringify(takeSnapshot(host))`, written directly. */
export function snapshotJson(host: Host): string {
  let pcpus = '';
  for (const cpu of host.pcpus) {
    const running = cpu.current === null ? 'null' : `{"domain":${cpu.current.domain.id},"vcpu":${cpu.current.id}}`;
    pcpus += `${pcpus === '' ? '' : ','}{"id":${cpu.id},"mode":"${cpu.mode}","running":${running},"uie":${cpu.cpuif.uie}}`;
  }
  let domains = '';
  for (const d of byId(host.domains.values(), host.domains.size)) domains += `${domains === '' ? '' : ','}${domainJson(host, d)}`;
  let physical = '';
  for (const desc of routedDescs(host)) {
    physical += `${physical === '' ? '' : ','}{"pirq":${desc.irq},"domain":${desc.guest!.domain},"virq":${desc.guest!.virq},` +
      `"enabled":${desc.enabled},"pending":${desc.pending},"active":${desc.active},"in_progress":${desc.inProgress},"affinity":${desc.affinity}}`;
  }
  return `{"pcpus":[${pcpus}],"domains":[${domains}],"physical":[${physical}]}`;
}

/** The domains ascending by id (one domain, the usual case, without sorting). */
function byId(values: IterableIterator<Domain>, size: number): Iterable<Domain> {
  if (size <= 1) return values;
  return [...values].sort((a, b) => a.id - b.id);
}

/** Host IRQ descriptors routed to a guest, ascending by pirq. */
function routedDescs(host: Host): IrqDesc[] {
  const out: IrqDesc[] = [];
  for (const desc of host.irqDescs.values()) if (desc.guest !== null) out.push(desc);
  return out.length > 1 ? out.sort((a, b) => a.irq - b.irq) : out;
}

// ----- the guest view (trace-format §5.1) -----
//
// `guestSnapshotJson(host)` is the guest snapshot, what the guest and the hardware can
// observe, as canonical JSON: byte-identical to `JSON.stringify(guestView(takeSnapshot(host)))`
// (schema.ts; a spec checks it on random traces). The same fields as the full snapshot, in
// the same order, minus UIE, Xen's lists and status bits, the ranks, GICD_CTLR, the raw LR
// encoding and IN_PROGRESS.

function guestVcpuJson(host: Host, v: Vcpu): string {
  const { iface } = host.interfaceOf(v);
  return `{"id":${v.id},"online":${v.online},"pmr":${iface.pmr},"eoimode":${iface.eoimode},"apr":"${hex32(iface.apr)}",` +
    `"lrs":${lrsJson(host, iface.lrs, false)}}`;
}

/** The guest snapshot of trace-format §5.1 as canonical JSON text. */
export function guestSnapshotJson(host: Host): string {
  let pcpus = '';
  for (const cpu of host.pcpus) {
    const running = cpu.current === null ? 'null' : `{"domain":${cpu.current.domain.id},"vcpu":${cpu.current.id}}`;
    pcpus += `${pcpus === '' ? '' : ','}{"id":${cpu.id},"mode":"${cpu.mode}","running":${running}}`;
  }
  let domains = '';
  for (const d of byId(host.domains.values(), host.domains.size)) {
    let vcpus = '';
    for (const v of d.vcpus) vcpus += `${vcpus === '' ? '' : ','}${guestVcpuJson(host, v)}`;
    domains += `${domains === '' ? '' : ','}{"id":${d.id},"vcpus":[${vcpus}]}`;
  }
  let physical = '';
  for (const desc of routedDescs(host)) {
    physical += `${physical === '' ? '' : ','}{"pirq":${desc.irq},"domain":${desc.guest!.domain},"virq":${desc.guest!.virq},` +
      `"enabled":${desc.enabled},"pending":${desc.pending},"active":${desc.active},"affinity":${desc.affinity}}`;
  }
  return `{"pcpus":[${pcpus}],"domains":[${domains}],"physical":[${physical}]}`;
}
