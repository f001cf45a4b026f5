/**
 * The canonical snapshot of FORMAT.md §5: keys in the order the contract lists them, hex
 * strings for registers and masks, so that equal states serialise byte-identically.
 */
import { LR_STATE_NAMES, getField, lrPriority8, rawLr, type LrStateName } from '../arch/lr.js';
import {
  listEmpty, listRecords, statusNames, type Domain, type Host, type PendingIrq, type PcpuMode,
  type Rank, type StatusName, type Vcpu,
} from '../xen/types.js';
import { toHex } from './decode.js';

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
}

export interface IrqSnapshot {
  irq: number;
  vcpu: number | null;
  status: StatusName[];
  priority: number;
  lr: number;
}

export interface DomainSnapshot {
  id: number;
  ctlr: string;
  ranks: RankSnapshot[];
  vcpus: VcpuSnapshot[];
  irqs: IrqSnapshot[];
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
  // Live registers while the vCPU runs, its saved copy otherwise (FORMAT.md §5).
  const { iface, lrMask: mask } = host.interfaceOf(v);
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
  return {
    id: d.id,
    ctlr: toHex(d.ctlr),
    ranks: d.sharedIrqs.map(rankSnapshot),
    vcpus: d.vcpus.map((v) => vcpuSnapshot(host, v)),
    irqs,
  };
}

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

function jsonBytes(a: Uint8Array): string {
  let s = '[';
  for (let i = 0; i < a.length; i++) s += i === 0 ? `${a[i]!}` : `,${a[i]!}`;
  return `${s}]`;
}

function rankJson(r: Rank): string {
  return `{"index":${r.index},"ienable":"${toHex(r.ienable)}","icfg":["${toHex(r.icfg[0]!)}","${toHex(r.icfg[1]!)}"],` +
    `"priority":${jsonBytes(r.priority)},"vcpu":${jsonBytes(r.vcpu)}}`;
}

function lrsJson(host: Host, lrs: Uint32Array): string {
  const layout = host.layout;
  let s = '[';
  let first = true;
  for (let lr = 0; lr < host.nrLrs; lr++) {
    const state = getField(lrs, lr, layout.state);
    if (state === 0) continue;
    const hw = getField(lrs, lr, layout.hw) === 1;
    s += `${first ? '' : ','}{"lr":${lr},"raw":"${toHex(rawLr(lrs, lr))}","state":"${LR_STATE_NAMES[state]!}",` +
      `"virq":${getField(lrs, lr, layout.virq)},"pirq":${hw ? getField(lrs, lr, layout.pirq) : 'null'},` +
      `"priority":${lrPriority8(layout, lrs, lr)},"grp1":${getField(lrs, lr, layout.grp1) === 1}}`;
    first = false;
  }
  return `${s}]`;
}

function vcpuJson(host: Host, v: Vcpu): string {
  const { iface, lrMask: mask } = host.interfaceOf(v);
  let inflight = '[';
  for (let n = v.inflightIrqs.next; n !== v.inflightIrqs; n = n.next) {
    inflight += `${n.prev === v.inflightIrqs ? '' : ','}{"irq":${n.owner!.irq},"lr":${n.owner!.lr}}`;
  }
  let pending = '[';
  for (let n = v.lrPending.next; n !== v.lrPending; n = n.next) pending += `${n.prev === v.lrPending ? '' : ','}${n.owner!.irq}`;
  return `{"id":${v.id},"online":${v.online},"rank":${rankJson(v.privateIrqs)},"inflight":${inflight}],"lr_pending":${pending}],` +
    `"lr_mask":"${toHex(mask.toBigInt())}","pmr":${iface.pmr},"eoimode":${iface.eoimode},"apr":"${toHex(iface.apr)}",` +
    `"lrs":${lrsJson(host, iface.lrs)}}`;
}

function irqJson(p: PendingIrq, vcpu: number | null): string {
  let status = '[';
  const names = statusNames(p.status);
  for (let i = 0; i < names.length; i++) status += `${i === 0 ? '' : ','}"${names[i]!}"`;
  return `{"irq":${p.irq},"vcpu":${vcpu === null ? 'null' : vcpu},"status":${status}],"priority":${p.priority},"lr":${p.lr}}`;
}

function domainJson(host: Host, d: Domain): string {
  let irqs = '';
  for (let irq = 0; irq < 32; irq++) {
    for (const v of d.vcpus) {
      const p = v.pendingIrqs[irq]!;
      if (isInteresting(p)) irqs += `${irqs === '' ? '' : ','}${irqJson(p, v.id)}`;
    }
  }
  for (const p of d.pendingIrqs) if (isInteresting(p)) irqs += `${irqs === '' ? '' : ','}${irqJson(p, null)}`;
  let ranks = '';
  for (const r of d.sharedIrqs) ranks += `${ranks === '' ? '' : ','}${rankJson(r)}`;
  let vcpus = '';
  for (const v of d.vcpus) vcpus += `${vcpus === '' ? '' : ','}${vcpuJson(host, v)}`;
  return `{"id":${d.id},"ctlr":"${toHex(d.ctlr)}","ranks":[${ranks}],"vcpus":[${vcpus}],"irqs":[${irqs}]}`;
}

/** The whole machine as canonical JSON text: `JSON.stringify(takeSnapshot(host))`, written directly. */
export function snapshotJson(host: Host): string {
  let pcpus = '';
  for (const cpu of host.pcpus) {
    const running = cpu.current === null ? 'null' : `{"domain":${cpu.current.domain.id},"vcpu":${cpu.current.id}}`;
    pcpus += `${pcpus === '' ? '' : ','}{"id":${cpu.id},"mode":"${cpu.mode}","running":${running},"uie":${cpu.cpuif.uie}}`;
  }
  let domains = '';
  for (const d of [...host.domains.values()].sort((a, b) => a.id - b.id)) domains += `${domains === '' ? '' : ','}${domainJson(host, d)}`;
  let physical = '';
  for (const desc of [...host.irqDescs.values()].filter((x) => x.guest !== null).sort((a, b) => a.irq - b.irq)) {
    physical += `${physical === '' ? '' : ','}{"pirq":${desc.irq},"domain":${desc.guest!.domain},"virq":${desc.guest!.virq},` +
      `"enabled":${desc.enabled},"pending":${desc.pending},"active":${desc.active},"in_progress":${desc.inProgress},"affinity":${desc.affinity}}`;
  }
  return `{"pcpus":[${pcpus}],"domains":[${domains}],"physical":[${physical}]}`;
}
