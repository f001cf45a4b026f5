/**
 * Human-readable text for a snapshot: per pCPU its mode and UIE, per vCPU the inflight list
 * with LR indexes, lr_pending, the decoded LRs and the status bits of live records; for a
 * domain with a virtual ITS (trace-format §9.3) also each vCPU's EnableLPIs and PENDBASER,
 * the vLPI records, the domain's LPI configuration, the ITS registers and the host devices.
 */
import { LPI_OFFSET } from '../arch/limits.js';
import type { DomainSnapshot, IrqSnapshot, Snapshot, VcpuSnapshot, VmmSnapshot } from './snapshot.js';

function hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

function lrText(lr: number): string {
  return lr === 0xff ? 'lr=-' : `lr=${lr}`;
}

function irqsOf(d: DomainSnapshot, v: VcpuSnapshot): Map<number, IrqSnapshot> {
  const out = new Map<number, IrqSnapshot>();
  // A vLPI's record is the domain's, whichever vCPU it targets now.
  for (const r of d.irqs) if (r.vcpu === null || r.vcpu === v.id || r.irq >= LPI_OFFSET) out.set(r.irq, r);
  return out;
}

function describeVcpu(d: DomainSnapshot, v: VcpuSnapshot, running: string): string[] {
  const irqs = irqsOf(d, v);
  const prio = (irq: number): string => {
    const r = irqs.get(irq);
    return r === undefined ? '' : ` ${hex2(r.priority)}`;
  };
  const lines = [`  d${d.id}v${v.id}${v.online ? '' : ' (offline)'}${running}  lr_mask=${v.lr_mask} pmr=${hex2(v.pmr)} eoimode=${v.eoimode} apr=${v.apr}`];
  lines.push(`    inflight:   ${v.inflight.length === 0 ? '(empty)' : v.inflight.map((e) => `${e.irq}${prio(e.irq)} ${lrText(e.lr)}`).join(', ')}`);
  lines.push(`    lr_pending: ${v.lr_pending.length === 0 ? '(empty)' : v.lr_pending.map((irq) => `${irq}${prio(irq)}`).join(', ')}`);
  if (v.lrs.length === 0) lines.push('    LRs:        (all invalid)');
  for (const lr of v.lrs) {
    const hw = lr.pirq === null ? '' : ` hw pirq=${lr.pirq}`;
    lines.push(`    LR${lr.lr}: ${lr.raw.padEnd(20)} virq=${lr.virq} ${lr.state} prio=${hex2(lr.priority)}${lr.grp1 ? ' grp1' : ''}${hw}`);
  }
  const live = d.irqs.filter((r) => r.vcpu === v.id && r.irq < LPI_OFFSET);
  if (live.length > 0) lines.push(`    private:    ${live.map((r) => `${r.irq}[${r.status.join(' ')}]`).join(' ')}`);
  if (v.lpis_enabled !== undefined) lines.push(`    LPIs:       ${v.lpis_enabled ? 'enabled' : 'disabled'}, pendbase=${v.pendbase ?? '?'}`);
  return lines;
}

/** `vLPI 8192 -> d1v1  lpi_priority=0xa0 priority=0xa0 lr=- [QUEUED ENABLED]` */
function describeLpi(d: DomainSnapshot, r: IrqSnapshot): string {
  const target = r.vcpu === null ? 'no vCPU' : `d${d.id}v${r.vcpu}`;
  return `  vLPI ${r.irq} -> ${target}  lpi_priority=${hex2(r.lpi_priority ?? 0)} priority=${hex2(r.priority)} ${lrText(r.lr)} [${r.status.join(' ')}]`;
}

/** The domain's LPI configuration, ITS registers and host devices (only with `its`). */
function describeIts(d: DomainSnapshot): string[] {
  const lines: string[] = [];
  if (d.lpi !== undefined) lines.push(`  LPI config: propbase=${d.lpi.propbase} rdists_enabled=${d.lpi.rdists_enabled} nr_lpis=${d.lpi.nr_lpis}`);
  const its = d.its;
  if (its !== undefined) {
    const quiescent = its.creadr === its.cwriter;
    lines.push(`  ITS at ${its.base}: ${its.enabled ? 'enabled' : 'disabled'}${quiescent ? ', quiescent' : ''}  cbaser=${its.cbaser} creadr=${its.creadr} cwriter=${its.cwriter}`);
    lines.push(`    baser0=${its.baser0} baser1=${its.baser1}`);
  }
  for (const dev of d.its_devices ?? []) {
    const mapped = dev.vlpis.flatMap((vlpi, ev) => (vlpi === 0 ? [] : [`${ev}->${vlpi}`]));
    lines.push(`    device ${dev.devid}: ${dev.eventids} events, ${mapped.length === 0 ? 'none mapped' : `mapped ${mapped.join(' ')}`}`);
  }
  if (d.its_devices !== undefined && d.its_devices.length === 0) lines.push('    devices: (none)');
  return lines;
}

/** The whole snapshot as indented text. */
/** A device domain's KVM state (trace-format §10.3): the model and phase, the frames, each vCPU's slot. */
function describeVmm(k: VmmSnapshot): string[] {
  const phase = k.dead ? 'dead' : k.ready ? 'ready' : k.initialized ? 'initialized' : k.model === null ? 'no vGIC' : 'not initialized';
  const frames = [
    k.dist === null ? null : `dist ${k.dist}`,
    k.cpu === null ? null : `cpu ${k.cpu}`,
    ...k.redist_regions.map((r) => `redist region ${r.index} ${r.base}${r.count === 0 ? ' (legacy)' : ` x${r.count}`}`),
    ...k.its.map((i) => `ITS device ${i.device} ${i.base ?? 'unplaced'}`),
  ].filter((x) => x !== null);
  const vcpus = k.vcpus.map((v) => `v${v.id}${v.redist === null ? '' : `@${v.redist}`}${v.ran ? ' ran' : ''}`);
  return [
    `  vmm: ${k.model ?? '-'} ${phase}, nr_irqs ${k.nr_irqs}${frames.length > 0 ? `; ${frames.join(', ')}` : ''}`,
    `  vmm vCPUs: ${vcpus.length > 0 ? vcpus.join(' ') : '(none)'}`,
  ];
}

export function describeSnapshot(s: Snapshot): string {
  const lines: string[] = [];
  for (const cpu of s.pcpus) {
    const who = cpu.running === null ? 'idle' : `d${cpu.running.domain}v${cpu.running.vcpu} (${cpu.mode})`;
    lines.push(`pCPU${cpu.id}: ${who}${cpu.uie ? '  UIE' : ''}`);
  }
  for (const d of s.domains) {
    lines.push(`domain ${d.id}: ctlr=${d.ctlr}`);
    if (d.vmm !== undefined) lines.push(...describeVmm(d.vmm));
    for (const v of d.vcpus) {
      const on = s.pcpus.find((c) => c.running !== null && c.running.domain === d.id && c.running.vcpu === v.id);
      lines.push(...describeVcpu(d, v, on === undefined ? '' : ` on pCPU${on.id}`));
    }
    const spis = d.irqs.filter((r) => r.vcpu === null && r.irq < LPI_OFFSET);
    if (spis.length > 0) lines.push(`  SPIs: ${spis.map((r) => `${r.irq}[${r.status.join(' ')}]`).join(' ')}`);
    for (const r of d.irqs) if (r.irq >= LPI_OFFSET) lines.push(describeLpi(d, r));
    lines.push(...describeIts(d));
  }
  for (const p of s.physical) {
    lines.push(`pirq ${p.pirq} -> d${p.domain} virq ${p.virq}: ${p.enabled ? 'enabled' : 'disabled'}${p.pending ? ' pending' : ''}${p.active ? ' active' : ''}${p.in_progress ? ' in-progress' : ''} affinity pCPU${p.affinity}`);
  }
  return lines.join('\n');
}
