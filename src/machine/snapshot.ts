/**
 * The canonical snapshot of trace-format §5: keys in the order the contract lists them, hex
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

export function rankSnapshot(r: Rank): RankSnapshot {
  return {
    index: r.index,
    ienable: toHex(r.ienable),
    icfg: [toHex(r.icfg[0]!), toHex(r.icfg[1]!)],
    priority: Array.from(r.priority),
    vcpu: Array.from(r.vcpu),
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
