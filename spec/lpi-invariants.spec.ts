/**
 * The invariant checker on LPI records (src/check/invariants.ts, L1-L3 and the LPI branch of
 * I3-I14): each is reported when the state breaks it, the stale-vLPI LR and MOVI exemptions
 * hold, and ITS traffic (the fixtures of fixtures/its/ and generated traces) stays clean.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { StepMonitor } from '../src/check/monitor.js';
import { checkState, type InvariantId, type Violation } from '../src/check/invariants.js';
import { generateTraceWithOps } from '../src/conformance/gen.js';
import { Machine, TraceError } from '../src/machine/machine.js';
import { decodeOp } from '../src/machine/ops.js';
import {
  GIC_IRQ_GUEST_ACTIVE, GIC_IRQ_GUEST_PRISTINE_LPI, GIC_IRQ_GUEST_QUEUED, GIC_IRQ_GUEST_VISIBLE, listAddTail, listDelInit, listRecords,
  type PendingIrq,
} from '../src/xen/types.js';
import { cmd, dom, drive, readyMachine, setProperty, type Queue } from './its-helpers.js';

/** vLPI 8192 on device 0 event 0, collection 0 -> vCPU 0, injected (in an LR of the running vCPU 0). */
function lpiInLr(): { m: Machine; q: Queue; p: PendingIrq } {
  const { m, q } = readyMachine();
  drive(m, setProperty(8192, 0xa0, true));
  drive(m, q.run(cmd.mapd(0, 4, 0x40040000), cmd.mapc(0, 0), cmd.mapc(1, 1), cmd.mapti(0, 0, 8192, 0), cmd.int(0, 0)));
  const p = dom(m).pendLpiTree.get(8192)!;
  return { m, q, p };
}

function ids(vs: readonly Violation[]): InvariantId[] {
  return [...new Set(vs.map((v) => v.id))];
}

describe('invariants on LPI records (L1-L3, I3-I14)', () => {
  it('a mapped, injected vLPI in an LR is clean; the record is VISIBLE in LR 0 and in pend_lpi_tree', () => {
    const { m, p } = lpiInLr();
    expect((p.status >> GIC_IRQ_GUEST_VISIBLE) & 1).to.equal(1);
    expect(checkState(m)).to.deep.equal([]);
  });

  it('L1: a pend_lpi_tree key that is not its record\'s INTID', () => {
    const { m, p } = lpiInLr();
    dom(m).pendLpiTree.set(8300, p);
    const vs = checkState(m);
    expect(ids(vs)).to.include('L1');
    expect(vs.find((v) => v.id === 'L1')!.message).to.equal('d1: pend_lpi_tree key 8300 holds the record of INTID 8192');
  });

  it('L1 skips a key a re-mapping left behind: MAPI of event 0 maps vLPI 0, a MAPTI of the same event renumbers the record and the tree keeps key 0 (§C.7)', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8194, 0xa0, true));
    drive(m, q.run(cmd.mapd(0, 4, 0x40040000), cmd.mapc(0, 0), cmd.mapi(0, 0, 0), cmd.mapti(0, 0, 8194, 0)));
    const tree = dom(m).pendLpiTree;
    expect([...tree.keys()].sort((a, b) => a - b)).to.deep.equal([0, 8194]);
    expect(tree.get(0)).to.equal(tree.get(8194));
    expect([...dom(m).lpiStaleKeys]).to.deep.equal([0]);
    expect(checkState(m)).to.deep.equal([]);
  });

  it('L2: an LPI record on a vCPU list that pend_lpi_tree does not hold', () => {
    const { m, p } = lpiInLr();
    dom(m).pendLpiTree.delete(8192);
    const vs = checkState(m);
    expect(ids(vs)).to.deep.equal(['L2']);
    expect(vs[0]!.records).to.deep.equal(['d1:lpi 8192']);
    expect(vs[0]!.message).to.match(/is on a list of d1v0 but pend_lpi_tree has no record for it$/);
    void p;
  });

  it('L3: a PRISTINE_LPI record that is VISIBLE', () => {
    const { m, p } = lpiInLr();
    p.status |= 1 << GIC_IRQ_GUEST_PRISTINE_LPI;
    expect(ids(checkState(m))).to.deep.equal(['L3']);
  });

  it('I4, I14 for an LPI record: VISIBLE and on lr_pending', () => {
    const { m, p } = lpiInLr();
    listAddTail(p.lrQueue, dom(m).vcpus[0]!.lrPending);
    expect(ids(checkState(m))).to.deep.equal(['I4', 'I14']);
  });

  it('I5, I6 (converse) for an LPI record: VISIBLE but on no inflight list', () => {
    const { m, p } = lpiInLr();
    listDelInit(p.inflight);
    const vs = checkState(m);
    expect(ids(vs)).to.include('I5');
    expect(vs.find((v) => v.id === 'I5')!.message).to.equal('d1:lpi 8192 is VISIBLE but on no inflight list');
  });

  it('I7, I8, I9 for an LPI record', () => {
    const { m, p } = lpiInLr();
    p.status &= ~(1 << GIC_IRQ_GUEST_VISIBLE);
    p.status |= 1 << GIC_IRQ_GUEST_ACTIVE;
    p.status &= ~(1 << GIC_IRQ_GUEST_QUEUED);
    p.lr = 2;
    // LR 0 still holds 8192 with no VISIBLE record: a stale vLPI LR, not an I6 violation.
    expect(ids(checkState(m))).to.deep.equal(['I7', 'I8', 'I9']);
  });

  it('I6 for an LPI record: VISIBLE with an LR that holds another INTID', () => {
    const { m, p } = lpiInLr();
    p.lr = 1;
    const vs = checkState(m);
    expect(ids(vs)).to.include('I6');
  });

  it('a discarded vLPI left in its LR (no VISIBLE record) is exempt from the I6 converse, and the next sync drops it', () => {
    const { m, q } = lpiInLr();
    drive(m, q.run(cmd.discard(0, 0)));
    expect(dom(m).pendLpiTree.size).to.equal(0);
    expect(checkState(m)).to.deep.equal([]);
    drive(m, { op: 'enter', pcpu: 0 }, { op: 'exit', pcpu: 0 });
    expect(checkState(m)).to.deep.equal([]);
  });

  it('MOVI of a pending vLPI: the record stays on vCPU 0 while lpi_vcpu_id is 1, and INT then is exempt like Q34', () => {
    const { m, q, p } = lpiInLr();
    drive(m, q.run(cmd.movi(0, 0, 1), cmd.int(0, 0)));
    expect(p.lpiVcpuId).to.equal(1);
    const monitor = new StepMonitor(m);
    expect(monitor.after({ op: 'snapshot' }, { outcome: 'ok' })).to.deep.equal([]);
  });

  it('MAPC moving a collection while its LPI is pending on the old vCPU, then INV: the LPI joins the new vCPU\'s lr_pending while on the old inflight list, exempt like Q34 from that very step (fixtures/its/its-mapc-remap-then-inv-raises-on-new-vcpu.json)', () => {
    const t = JSON.parse(readFileSync('fixtures/its/its-mapc-remap-then-inv-raises-on-new-vcpu.json', 'utf8')) as { config: unknown; steps: Record<string, unknown>[] };
    const built = Machine.fromJson(t.config);
    if (built._tag === 'Left') return expect.fail(built.left.join('; '));
    const m = built.right;
    const monitor = new StepMonitor(m);
    t.steps.forEach((raw, k) => {
      const { expect: _e, ...step } = raw;
      const op = decodeOp(step);
      if (op._tag === 'Left') return expect.fail(op.left.join('; '));
      monitor.before(op.right);
      const r = m.apply(op.right, k);
      if (r instanceof TraceError) return expect.fail(r.message);
      expect(monitor.after(op.right, r).map((f) => f.message), `step ${k}`).to.deep.equal([]);
    });
    const d = m.host.domains.get(1)!;
    const p = d.pendLpiTree.get(8192)!;
    expect(p.lpiVcpuId).to.equal(0);
    expect(listRecords(d.vcpus[1]!.lrPending)).to.include(p);
    expect(listRecords(d.vcpus[0]!.inflightIrqs)).to.include(p);
  });

  it('generated ITS traffic (the first 60 seeds whose config has an ITS, 120 steps) breaks no invariant or property', function () {
    this.timeout(60000);
    let traces = 0;
    let withLpis = 0;
    for (let seed = 1; traces < 60; seed++) {
      const { trace, ops } = generateTraceWithOps(seed, { steps: 120, gic: 'v3', its: 0.6 });
      if (!trace.config.domains.some((d) => d.its !== undefined)) continue;
      traces += 1;
      const m = Machine.build(trace.config);
      const monitor = new StepMonitor(m);
      let sawLpi = false;
      ops.forEach((op, k) => {
        monitor.before(op);
        const r = m.apply(op, k);
        expect(r).to.not.be.instanceOf(TraceError);
        if (r instanceof TraceError) return;
        const found = monitor.after(op, r);
        expect(found, `seed ${seed} step ${k}`).to.deep.equal([]);
        for (const d of m.host.domains.values()) if (d.pendLpiTree.size > 0) sawLpi = true;
      });
      if (sawLpi) withLpis += 1;
    }
    // Most of them map vLPIs.
    expect(withLpis).to.be.above(30);
  });
});
