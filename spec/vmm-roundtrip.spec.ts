/**
 * The save/restore round trip of the userspace register groups (issue 13, deliverable 3): a
 * machine runs a random trace, its vCPUs are stopped as a VMM pausing the VM stops them (exit,
 * idle), every register of every group is read (saveGicState), a fresh machine is built from
 * the same config, the guest's RAM copied over (the VMM's memory migration), the registers
 * written in the restore order (restoreGicState), and the two machines must agree on every
 * piece of state the groups can express. What they cannot express is listed below and in
 * docs/vmm-registers.md §6, and left out of the comparison.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { LPI_OFFSET } from '../src/arch/limits.js';
import { generateTrace, type GeneratedTrace } from '../src/conformance/gen.js';
import { Machine } from '../src/machine/machine.js';
import type { DomainSnapshot, Snapshot } from '../src/machine/snapshot.js';
import { PAGE_SIZE } from '../src/xen/guestcopy.js';
import type { Domain } from '../src/xen/types.js';
import { restoreGicState, saveGicState, xenAccessor } from '../src/vmm/uaccess-walk.js';
import { runs } from './fc-replay.js';

/**
 * The state that does not survive a save/restore through the register groups, and why
 * (docs/vmm-registers.md §6 says the same). The comparison leaves exactly these out.
 */
export const NOT_ROUND_TRIPPED = [
  'order: the order of inflight and lr_pending (the groups carry a pending bit per interrupt, not Xen\'s queues)',
  'lrs: list-register contents, lr_mask and each record\'s lr index (a restored pending interrupt waits on lr_pending; it enters an LR at the next entry)',
  'active: the active state (Xen holds it only in an LR of the saved file; ISACTIVER reads it, no write can create it)',
  'status: QUEUED / VISIBLE / ACTIVE / MIGRATING / PRISTINE_LPI bits (Xen\'s bookkeeping of where an interrupt is, not guest-visible state; the pending bit is compared instead)',
  'captured-priority: the priority Xen captured when an interrupt became inflight (Q5), which the rank\'s byte no longer shows once IPRIORITYR changed',
  'spi-holder: which vCPU\'s lists hold a pending SPI (Q34 leaves a retargeted SPI on its former target); restored on the current target',
  'physical: host state (pass-through routes, physical pending/active/in-progress, affinity): the VMM\'s device assignment, not a vGIC group',
  'pcpus: which vCPU runs where and each pCPU\'s UIE (the restored VM has not run yet)',
  'lpis: the LPI records, pend_lpi_tree and the host device registry that ITS commands built (KVM carries them by SAVE/RESTORE_TABLES; Xen\'s are not in guest memory)',
  'pending-lpis: pending LPIs (KVM\'s SAVE_PENDING_TABLES; the model has no pending table)',
  'unprocessed-queue: CREADR of an enabled ITS whose queue Xen left unprocessed (Xen runs commands only on a CWRITER write, so commands queued before the Enable wait; KVM\'s rule runs them when the restore writes GITS_CTLR)',
  'online: vCPU power state (KVM_SET_MP_STATE, not a vGIC group): the harness copies it after the restore, as a VMM does',
] as const;

/** Run a generated trace on a fresh machine (null when it crashed: nothing to save then). */
function replay(trace: GeneratedTrace): Machine | null {
  const m = E.getOrElseW((e: string[]) => { throw new Error(e.join('; ')); })(Machine.create(trace.config));
  trace.steps.forEach((s, i) => {
    const r = m.step(s, i);
    if (E.isLeft(r)) throw new Error(r.left);
  });
  return m.crashed === null ? m : null;
}

/** Pause the VM: every pCPU in the guest exits, then every pCPU goes idle (its vCPU's state saved). */
function stopAll(m: Machine): boolean {
  let n = 10_000;
  for (const cpu of m.host.pcpus) {
    if (cpu.mode === 'guest' && E.isLeft(m.step({ op: 'exit', pcpu: cpu.id }, n++))) return false;
    if (E.isLeft(m.step({ op: 'idle', pcpu: cpu.id }, n++))) return false;
  }
  return m.crashed === null;
}

/** The VMM's memory migration: every written page of the guest's RAM. */
function copyRam(from: Domain, to: Domain): void {
  if (from.ram === null || to.ram === null) return;
  const buf = new Uint8Array(PAGE_SIZE);
  for (const r of from.ram.regions) {
    for (const page of from.ram.writtenPagesIn(r.base, r.base + r.size)) {
      from.ram.copyOut(page * PAGE_SIZE, buf, 0, PAGE_SIZE);
      to.ram.copyIn(page * PAGE_SIZE, buf, 0, PAGE_SIZE);
    }
  }
}

/** The pending interrupts of a domain as the guest sees them: `v<id>:<irq>` (private), `spi:<irq>`. */
function pendingSet(d: DomainSnapshot): string[] {
  const out: string[] = [];
  for (const v of d.vcpus) {
    for (const { irq, lr } of v.inflight) {
      if (irq >= LPI_OFFSET) continue;
      const rec = d.irqs.find((p) => p.irq === irq && p.vcpu === (irq < 32 ? v.id : null));
      if (rec === undefined) continue;
      const inLr = v.lrs.some((l) => l.lr === lr && l.virq === irq && (l.state === 'pending' || l.state === 'pending+active'));
      if (rec.status.includes('QUEUED') || (rec.status.includes('VISIBLE') && inLr)) out.push(irq < 32 ? `v${v.id}:${irq}` : `spi:${irq}`);
    }
  }
  return out.sort();
}

/** The domains whose enabled ITS has commands Xen has not run (NOT_ROUND_TRIPPED 'unprocessed-queue'). */
function unprocessedQueues(s: Snapshot): Set<number> {
  return new Set(s.domains.filter((d) => d.its !== undefined && d.its.enabled && d.its.creadr !== d.its.cwriter).map((d) => d.id));
}

/** What the groups express of a snapshot (everything but NOT_ROUND_TRIPPED); `noCreadr`: domains whose CREADR is left out. */
function guestView(s: Snapshot, noCreadr: ReadonlySet<number>): unknown {
  return s.domains.map((d) => ({
    id: d.id,
    ctlr: d.ctlr,
    ranks: d.ranks,
    vcpus: d.vcpus.map((v) => ({
      id: v.id, online: v.online, rank: v.rank, pmr: v.pmr, eoimode: v.eoimode, apr: v.apr,
      lpis_enabled: v.lpis_enabled, pendbase: v.pendbase,
    })),
    pending: pendingSet(d),
    lpi: d.lpi,
    its: d.its === undefined || !noCreadr.has(d.id) ? d.its : { ...d.its, creadr: 'left out' },
  }));
}

interface RoundTrip {
  before: unknown;
  after: unknown;
  failures: string[];
  writes: number;
}

/** Save every domain of a stopped machine, restore into a fresh one, and give both views. */
function roundTrip(trace: GeneratedTrace): RoundTrip | null {
  const a = replay(trace);
  if (a === null || !stopAll(a)) return null;
  const b = E.getOrElseW((e: string[]) => { throw new Error(e.join('; ')); })(Machine.create(trace.config));
  const failures: string[] = [];
  let writes = 0;
  for (const [id, da] of a.host.domains) {
    const db = b.host.domains.get(id)!;
    copyRam(da, db);
    const saved = saveGicState(xenAccessor(da));
    writes += saved.length;
    for (const f of restoreGicState(xenAccessor(db), saved)) failures.push(`d${id} ${f.write.group} ${f.write.vcpu} 0x${f.write.offset.toString(16)}: ${f.errno}`);
    da.vcpus.forEach((v, i) => { db.vcpus[i]!.online = v.online; });
  }
  const before = a.snapshot();
  const noCreadr = unprocessedQueues(before);
  return { before: guestView(before, noCreadr), after: guestView(b.snapshot(), noCreadr), failures, writes };
}

describe('vmm: save/restore through the register groups round-trips (issue 13, B.4 / B.5 / B.8)', function () {
  this.timeout(120000);

  it('lists what cannot round-trip, each with its reason', () => {
    expect(NOT_ROUND_TRIPPED.length).to.be.at.least(8);
    for (const e of NOT_ROUND_TRIPPED) expect(e).to.match(/^[a-z-]+: .{20,}/);
  });

  it('a machine after a random trace, saved and restored into a fresh machine, has the same guest-level state', () => {
    let checked = 0;
    let writes = 0;
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.constantFrom<'v2' | 'v3'>('v2', 'v3'), fc.integer({ min: 5, max: 150 }), (seed, gic, steps) => {
      const trace = generateTrace(seed, { steps, gic, its: 0.5 });
      const rt = roundTrip(trace);
      if (rt === null) return;
      checked += 1;
      writes += rt.writes;
      expect(rt.failures, `restore refusals for generateTrace(${seed}, { steps: ${steps}, gic: '${gic}', its: 0.5 })`).to.deep.equal([]);
      expect(rt.after, `round trip of generateTrace(${seed}, { steps: ${steps}, gic: '${gic}', its: 0.5 })`).to.deep.equal(rt.before);
    }), runs(200));
    expect(checked, 'traces that did not crash').to.be.at.least(100);
    expect(writes).to.be.greaterThan(0);
  });

  it('the round trip is not vacuous: random traces leave pending interrupts, enables, priorities and (v3) ITS state that the restore carries', () => {
    let pending = 0;
    let its = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const rt = roundTrip(generateTrace(seed, { steps: 50, gic: seed % 2 === 0 ? 'v2' : 'v3', its: 1 }));
      if (rt === null) continue;
      const view = rt.after as { pending: string[]; its?: unknown }[];
      pending += view.reduce((n, d) => n + d.pending.length, 0);
      its += view.filter((d) => d.its !== undefined).length;
    }
    expect(pending, 'pending interrupts restored').to.be.greaterThan(0);
    expect(its, 'domains with an ITS restored').to.be.greaterThan(0);
  });
});
