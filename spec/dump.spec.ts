/**
 * `vgic dump`: the state after one step of a trace as text, and the whole run as one
 * self-contained HTML timeline (steps across, per-vCPU LRs and lists down), plus the
 * command around them. The traces are built here from docs/trace-format.md ops.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, type Io } from '../src/cli/args.js';
import { DUMP_USAGE, dumpCommand } from '../src/cli/dump.js';
import { collectSteps, dumpText, opCompact, resultCompact, type DumpRun } from '../src/conformance/dump.js';
import { dumpHtml, escapeHtml, mmioWhere, opArgs } from '../src/conformance/html.js';
import { decodeTrace, loadTraceFile, type Trace } from '../src/conformance/trace.js';
import {
  CRASH, CRASH_CONFIG, ITS_CONFIG, ITS_STEPS, SPILL, ack, enableSpis, enter, exit, header, inject, priority, right, rowCells, run,
} from './html-fixtures.js';

type RawStep = Record<string, unknown>;

function trace(steps: RawStep[], extra: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Trace {
  const json = {
    format: 'vgic-trace/1',
    name: 'spill-evict',
    config: { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 64 }], ...config },
    steps,
    ...extra,
  };
  const r = decodeTrace(json);
  if (E.isLeft(r)) return expect.fail(`test trace does not decode: ${r.left.join('; ')}`);
  return r.right;
}

function collected(t: Trace): DumpRun {
  return right(collectSteps(t));
}

describe('vgic dump: collecting a run', () => {
  it('records every step: the op without its expect, the RESULT as JSON, and the snapshot after it', () => {
    const t = trace([run(), { ...inject(40), expect: { result: { outcome: 'ok' } } }]);
    const r = collected(t);
    expect(r.steps).to.have.length(2);
    expect(r.steps[1]!.op).to.deep.equal(inject(40));
    expect(r.steps[1]!.result).to.deep.equal({ outcome: 'ok' });
    expect(r.steps[1]!.expect).to.deep.equal({ status: 'pass' });
    expect(r.steps[0]!.snapshot!.pcpus[0]).to.deep.equal({ id: 0, mode: 'hyp', running: { domain: 1, vcpu: 0 }, uie: false });
    expect(r.initial.pcpus[0]!.mode).to.equal('idle');
    expect(r.stopped).to.equal(null);
  });

  it('trace-format §6: keeps going past failed expectations and records the first difference of each', () => {
    const t = trace([run(), { ...enter(), expect: { result: { outcome: 'abort' } } }, { ...ack(), expect: { result: { intid: 7 } } }, exit()]);
    const r = collected(t);
    expect(r.steps).to.have.length(4);
    expect(r.steps[1]!.expect).to.deep.equal({ status: 'fail', mismatch: { path: 'result.outcome', expected: 'abort', actual: 'ok' } });
    expect(r.steps[2]!.expect).to.deep.equal({ status: 'fail', mismatch: { path: 'result.intid', expected: 7, actual: 1023 } });
    expect(r.steps[3]!.expect).to.deep.equal({ status: 'none' });
    expect(r.stopped).to.equal(null);
  });

  it('trace-format §4: a crashed step has no snapshot, and the trace error after it stops the run', () => {
    const r = collected(trace(CRASH, {}, CRASH_CONFIG));
    expect(r.steps).to.have.length(22);
    expect(r.steps[21]!.result['outcome']).to.equal('crash');
    expect(r.steps[21]!.snapshot).to.equal(null);
    expect(r.steps[20]!.snapshot).to.not.equal(null);
    expect(r.stopped).to.deep.include({ step: 22, op: 'ack' });
    expect(r.stopped!.message).to.match(/^step 22 \(ack\): the machine crashed at step 21/);
  });

  it('writes ops and RESULTs compactly: name then arguments as written; outcome then extras, a crash with its reason', () => {
    expect(opCompact({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 42 })).to.equal('inject pcpu=0 domain=1 vcpu=null virq=42');
    expect(resultCompact({ outcome: 'ok', intid: 42 })).to.equal('ok intid=42');
    expect(resultCompact({ outcome: 'crash', reason: 'BUG' })).to.equal('crash: BUG');
    expect(resultCompact({ outcome: 'ok', snapshot: {} })).to.equal('ok (snapshot)');
  });
});

describe('vgic dump: text', () => {
  const t = trace(SPILL);

  it('3.2/Q11: after step 7 the header names the step and op, and 42 waits on lr_pending while 40 and 41 hold both LRs', () => {
    const text = right(dumpText(t, 7));
    const lines = text.split('\n');
    expect(lines[0]).to.equal('trace spill-evict, step 7 of 13 (0..12): inject pcpu=0 domain=1 vcpu=null virq=42 -> ok');
    expect(text).to.contain('pCPU0: d1v0 (hyp)');
    expect(text).to.contain('inflight:   42 0x00 lr=0, 41 0x80 lr=1, 40 0xa0 lr=0');
    expect(text).to.contain('lr_pending: 42 0x00');
    expect(text).to.match(/LR0: 0x50a0000000000028 +virq=40 pending prio=0xa0 grp1/);
    expect(text).to.match(/LR1: 0x5080000000000029 +virq=41 pending prio=0x80 grp1/);
    expect(text).to.contain('SPIs: 40[VISIBLE ENABLED] 41[VISIBLE ENABLED] 42[QUEUED ENABLED]');
  });

  it('Q12: after the entry (step 8) 42 has evicted 40, the lowest-priority LR, and UIE is set', () => {
    const text = right(dumpText(t, 8));
    expect(text.split('\n')[0]).to.equal('trace spill-evict, step 8 of 13 (0..12): enter pcpu=0 -> ok');
    expect(text).to.contain('pCPU0: d1v0 (guest)  UIE');
    expect(text).to.contain('lr_pending: 40 0xa0');
    expect(text).to.contain('inflight:   42 0x00 lr=0, 41 0x80 lr=1, 40 0xa0 lr=-');
    expect(text).to.match(/LR0: \S+ +virq=42 pending prio=0x00/);
  });

  it('shows the RESULT extras of the step (ack returns the INTID)', () => {
    expect(right(dumpText(t, 10)).split('\n')[0]).to.match(/: ack pcpu=0 -> ok intid=42$/);
  });

  it('without a step dumps the last step', () => {
    const text = right(dumpText(t));
    expect(text).to.equal(right(dumpText(t, 12)));
    expect(text.split('\n')[0]).to.equal('trace spill-evict, step 12 of 13 (0..12): mmio pcpu=0 access=read addr=0x3040000 size=4 -> abort');
  });

  it('refuses a step outside the trace with a message naming the valid range', () => {
    expect(dumpText(t, 13)).to.deep.equal(E.left('step 13 is out of range: trace "spill-evict" has 13 steps (valid: 0..12)'));
    expect(E.isLeft(dumpText(t, -1))).to.equal(true);
    expect(dumpText(trace([]), 0)).to.deep.equal(E.left('step 0 is out of range: trace "spill-evict" has no steps'));
  });

  it('a trace without steps dumps the initial state', () => {
    const text = right(dumpText(trace([])));
    expect(text.split('\n')[0]).to.equal('trace spill-evict: no steps; the initial state (before step 0)');
    expect(text).to.contain('pCPU0: idle');
  });

  it('trace-format §3: a trace error is named with its step, and the dump shows the last good state', () => {
    // Step 2 enters a pCPU that is already in guest mode: a broken precondition.
    const bad = trace([run(), enter(), enter(), ack()]);
    const text = right(dumpText(bad));
    const lines = text.split('\n');
    expect(lines[0]).to.equal('trace spill-evict, step 1 of 4 (0..3): enter pcpu=0 -> ok');
    expect(lines[1]).to.match(/^TRACE ERROR at step 2: step 2 \(enter\): /);
    expect(text).to.contain('pCPU0: d1v0 (guest)');
    const later = right(dumpText(bad, 3));
    expect(later.split('\n')[0]).to.equal('trace spill-evict, step 3 of 4 (0..3): ack pcpu=0 -> NOT APPLIED');
    expect(later).to.contain('TRACE ERROR at step 2');
    expect(later).to.contain('showing the last good state: the state after step 1');
  });

  it('a trace error at step 0 leaves the initial state as the last good one', () => {
    const text = right(dumpText(trace([enter()])));
    expect(text.split('\n')[0]).to.equal('trace spill-evict: 0 of 1 steps applied; the initial state (before step 0)');
    expect(text).to.match(/TRACE ERROR at step 0: step 0 \(enter\)/);
    expect(text).to.contain('pCPU0: idle');
  });

  it('trace-format §4: at a crash the dump gives the reason, says there is no state after it, and shows the state before it', () => {
    const text = right(dumpText(trace(CRASH, {}, CRASH_CONFIG)));
    const lines = text.split('\n');
    expect(lines[0]).to.equal("trace spill-evict, step 21 of 23 (0..22): enter pcpu=0 -> crash: gic_restore_pending_irqs: eviction walk for IRQ 36 ran past the head of d1v0's inflight list");
    expect(lines[1]).to.equal('no state after this step: Xen crashed here and the machine is dead (docs/trace-format.md §4); showing the state after step 20');
    expect(lines[2]).to.match(/^TRACE ERROR at step 22: step 22 \(ack\): the machine crashed at step 21/);
    expect(text).to.contain('lr_pending: 37 0x80, 35 0xe0, 36 0xf0');
    expect(text).to.contain('pCPU0: d1v0 (hyp)');
  });

  it('trace-format §6: a failed expectation is shown with its JSON path, expected and actual value', () => {
    const text = right(dumpText(trace([run(), { op: 'idle', pcpu: 0, expect: { result: { outcome: 'abort' } } }])));
    expect(text.split('\n')[1]).to.equal('expect: FAILED at result.outcome: expected "abort", actual "ok"');
  });
});

describe('vgic dump: text of a domain with a virtual ITS (trace-format §9.3)', () => {
  const t = trace(ITS_STEPS, { name: 'its-text' }, ITS_CONFIG);

  it('lists each vLPI as such (target vCPU, cached lpi_priority, captured priority, lr, status), not among the vCPU\'s private records', () => {
    const text = right(dumpText(t, 37));
    expect(text).to.contain('  vLPI 8192 -> d1v0  lpi_priority=0xa0 priority=0xa0 lr=- [ENABLED]');
    expect(text).to.contain('  vLPI 8193 -> d1v1  lpi_priority=0x80 priority=0x80 lr=0 [QUEUED ENABLED PRISTINE_LPI]');
    expect(text).to.not.contain('private:');
    // vCPU 1 holds 8193 on its lists, with the priority of the vLPI's record.
    expect(text).to.contain('    lr_pending: 8193 0x80');
  });

  it('shows each vCPU\'s EnableLPIs and PENDBASER, the LPI configuration, the ITS registers with Quiescent, and the host devices', () => {
    const before = right(dumpText(t, 0)).split('\n');
    expect(before).to.include('    LPIs:       disabled, pendbase=0x0');
    expect(before).to.include('  LPI config: propbase=0x0 rdists_enabled=false nr_lpis=0');
    expect(before).to.include('  ITS at 0x8000000: disabled, quiescent  cbaser=0x3800000000000400 creadr=0x0 cwriter=0x0');
    expect(before).to.include('    devices: (none)');
    const after = right(dumpText(t, 31)).split('\n');
    expect(after).to.include('    LPIs:       enabled, pendbase=0x0');
    expect(after).to.include('  LPI config: propbase=0x4003018f rdists_enabled=true nr_lpis=57344');
    expect(after).to.include('  ITS at 0x8000000: enabled, quiescent  cbaser=0x9800000040000000 creadr=0xa0 cwriter=0xa0');
    expect(after).to.include('    baser0=0x9907000040010000 baser1=0x9c01000040020000');
    expect(after).to.include('    device 0: 32 events, mapped 0->8192 1->8193');
  });

  it('an ITS whose queue has not caught up is not quiescent', () => {
    // CWRITER beyond the queue (4 KiB): the ITS does not read, CREADR stays behind (§C.6).
    const stalled = trace([...ITS_STEPS.slice(0, 8), { op: 'mmio', pcpu: 0, access: 'write', addr: '0x8000088', size: 8, value: '0x2000' }], { name: 'its-stall' }, ITS_CONFIG);
    expect(right(dumpText(stalled))).to.contain('  ITS at 0x8000000: enabled  cbaser=0x9800000040000000 creadr=0x0 cwriter=0x2000');
  });

  it('a domain without an ITS shows none of it', () => {
    const text = right(dumpText(trace(SPILL), 8));
    for (const s of ['LPIs:', 'vLPI', 'ITS', 'LPI config', 'device']) expect(text, s).to.not.contain(s);
  });
});

describe('vgic dump: HTML page', () => {
  const spill = right(dumpHtml(trace(SPILL, { description: 'Spill & evict.', refs: ['3.2', 'Q12'] })));

  it('is one self-contained page: inline CSS and one inline script, no external resources', () => {
    expect(spill.startsWith('<!DOCTYPE html>')).to.equal(true);
    expect(spill).to.contain('<style>');
    expect(spill.match(/<script/g)).to.have.length(1);
    expect(spill).to.contain('<script>(function () {');
    expect(spill).to.not.match(/<script[^>]|<link|<img|<iframe|\bsrc=|href="(?!#)|url\(|@import|https?:|fetch\(|XMLHttpRequest/i);
  });

  it('heads the page with the trace name, description, refs and config', () => {
    expect(spill).to.contain('<h1>spill-evict</h1>');
    expect(spill).to.contain('<p class="desc">Spill &amp; evict.</p>');
    expect(spill).to.match(/<a class="ref" href="#ref-sec-3\.2"[^>]*>3\.2<\/a><a class="ref" href="#ref-Q12"[^>]*>Q12<\/a>/);
    expect(spill).to.contain('GICv3 · 2 LRs per pCPU · 1 pCPU · d1: 1 vCPU, 64 SPIs');
  });

  it('escapes user text: a <script> in the trace name, description and refs stays text', () => {
    const page = right(dumpHtml(trace([run()], { name: '<script>alert(1)</script>', description: '"><img src=x onerror=alert(2)>', refs: ["</span><script>x</script>"] })));
    expect(page.match(/<script/g)).to.have.length(1); // the page's own
    expect(page).to.not.match(/<img|<script>alert|<script>x/i);
    expect(page).to.contain('<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>');
    expect(page).to.contain('<title>&lt;script&gt;alert(1)&lt;/script&gt; — vgic dump</title>');
    expect(page).to.contain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
    expect(escapeHtml(`a&b<c>"d"'e'`)).to.equal('a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;');
  });

  it('has one column per step after the initial state, headed by index, op and outcome', () => {
    for (let i = 0; i < SPILL.length; i++) expect(spill).to.contain(`id="s${i}"`);
    expect(header(spill, 7)).to.contain('<div class="opn">inject</div><div class="args">p0 d1 virq 42</div>');
    expect(header(spill, 10)).to.contain('<span class="badge">ok</span> <span class="ex">intid 42</span>');
    expect(header(spill, 1)).to.contain('p0 W GICD+0x428/1 =0xa0');
    expect(rowCells(spill, 'd1v0', 'LR0')).to.have.length(SPILL.length + 1);
  });

  it('highlights abort outcomes in the column header', () => {
    expect(header(spill, 12)).to.match(/^col out-abort nav-abort\|/);
    expect(header(spill, 12)).to.contain('<span class="badge">abort</span>');
    expect(header(spill, 10)).to.match(/^col out-ok has-chg\|/);
  });

  it('shows LR cells with virq, state colour, priority, and marks a cell that changed since the previous step', () => {
    const lr0 = rowCells(spill, 'd1v0', 'LR0');
    // Column 0 is the initial state; step k is column k + 1.
    expect(lr0[6]).to.match(/^<td class="st-p chg" title="LR0: virq 40, pending, priority 0xa0, group 1; raw 0x50a0000000000028"><b data-q="d1:40">40<\/b> <span class="sx">P<\/span> <span class="pr">a0<\/span><\/td>$/);
    expect(lr0[7]).to.equal(lr0[6]!.replace(' chg', ''));
    expect(lr0[9]).to.contain('class="st-p chg"'); // step 8: 42 evicts 40
    expect(lr0[9]).to.contain('<b data-q="d1:42">42</b>');
    expect(lr0[11]).to.contain('class="st-a chg"'); // step 10: the guest acknowledges 42
    const pending = rowCells(spill, 'd1v0', 'lr_pending');
    expect(pending[8]).to.match(/^<td class="list chg"[^>]*><i data-q="d1:42">42<\/i><\/td>$/);
    expect(pending[9]).to.match(/^<td class="list chg"[^>]*><i data-q="d1:40">40<\/i><\/td>$/);
    expect(pending[10]).to.match(/^<td class="list"[^>]*><i data-q="d1:40">40<\/i><\/td>$/);
    const inflight = rowCells(spill, 'd1v0', 'inflight');
    expect(inflight[9]).to.contain('><i data-q="d1:42">42</i>@0 <i data-q="d1:41">41</i>@1 <i data-q="d1:40">40</i>@–</td>');
  });

  it('shows per-pCPU mode and UIE rows', () => {
    const mode = rowCells(spill, 'physical CPUs', 'pCPU0 mode');
    expect(mode[0]).to.equal('<td class="mode-idle">idle</td>');
    expect(mode[1]).to.equal('<td class="mode-hyp chg">hyp d1v0</td>');
    expect(mode[9]).to.equal('<td class="mode-guest chg">guest d1v0</td>');
    const uie = rowCells(spill, 'physical CPUs', 'pCPU0 UIE');
    expect(uie[8]).to.equal('<td></td>');
    expect(uie[9]).to.match(/^<td class="uie chg"[^>]*>UIE<\/td>$/);
  });

  it('trace-format §4: shows a crash column with its reason, no state under it, and the trace error column after it', () => {
    const page = right(dumpHtml(trace(CRASH, {}, CRASH_CONFIG)));
    expect(header(page, 21)).to.match(/^col out-crash nav-crash\|/);
    expect(header(page, 21)).to.contain('<span class="badge">crash</span>');
    expect(page).to.contain("CRASH at step 21: gic_restore_pending_irqs: eviction walk for IRQ 36 ran past the head of d1v0&#39;s inflight list");
    expect(header(page, 22)).to.match(/^col out-stop nav-crash\|/);
    expect(header(page, 22)).to.contain('trace error');
    expect(page).to.match(/TRACE ERROR at step 22: step 22 \(ack\): the machine crashed at step 21/);
    const lr2 = rowCells(page, 'd1v0', 'LR2');
    expect(lr2).to.have.length(24); // init + steps 0..21 + the trace error column
    // The crash column repeats the state after step 20, greyed, and says so in its header.
    expect(lr2[22]).to.equal(lr2[21]!.replace(/^<td class="([^"]*)"/, (_, c: string) => `<td class="${c.replace(' chg', '')} pre"`));
    expect(header(page, 21)).to.contain('<div class="prenote">greyed cells: the state after step 20, the last one (no state after a crash)</div>');
    expect(header(page, 21)).to.contain("<div class=\"why\">gic_restore_pending_irqs: eviction walk for IRQ 36 ran past the head of d1v0&#39;s inflight list</div>");
    expect(lr2[23]).to.match(/^<td class="dead" title="not applied: trace error">/);
  });

  it('3.21: shows an LR\'s HW bit with its pirq, and a row per routed host IRQ', () => {
    const hw = trace([
      run(), { op: 'route', domain: 1, virq: 48, pirq: 48 }, priority(48, 0xa0), enableSpis(0x10000), { op: 'hw_irq', pirq: 48 }, enter(),
    ], {}, { domains: [{ id: 1, vcpus: 1, nr_spis: 64, pirqs: [48] }] });
    const page = right(dumpHtml(hw));
    expect(rowCells(page, 'd1v0', 'LR0')[5]).to.match(/^<td class="st-p chg" title="LR0: virq 48, pending, priority 0xa0, group 1, HW pirq 48; raw 0x[0-9a-f]+"><b data-q="d1:48">48<\/b> <span class="sx">P<\/span> <span class="pr">a0<\/span> <span class="hw">hw 48<\/span><\/td>$/);
    const pirq = rowCells(page, 'routed host IRQs', 'pirq 48');
    expect(pirq[1]).to.equal('<td></td>');
    expect(pirq[2]).to.match(/^<td class="chg" title="pirq 48 -&gt; d1 virq 48: disabled[^"]*"><i data-q="d1:48">d1:48<\/i> dis @0<\/td>$/);
    expect(pirq[5]).to.match(/>d1:48<\/i> en A IP @0<\/td>$/);
  });

  it('keeps large configs readable: LRs that are never used (beyond 16) and vCPUs that never hold state (beyond 8) are left out, and the page says so', () => {
    const v2 = right(dumpHtml(trace([run(), priority(40, 0xa0), enableSpis(0x100), inject(40)], {}, { gic: 'v2', nr_lrs: 20 })));
    expect(v2).to.contain('19 of 20 LRs are never used and not shown');
    expect(rowCells(v2, 'd1v0', 'LR0')[4]).to.contain('<b data-q="d1:40">40</b>');
    expect(v2).to.not.contain('>LR1</th>');
    const many = right(dumpHtml(trace([run(3)], {}, { domains: [{ id: 1, vcpus: 10, nr_spis: 32 }] })));
    expect(many).to.contain('d1: 9 of 10 vCPUs hold no state throughout and are not shown');
    expect(many).to.contain('<th class="lbl">d1v3</th>');
    expect(many).to.not.contain('<th class="lbl">d1v0</th>');
  });

  it('marks the requested step\'s column and refuses a step outside the trace', () => {
    const page = right(dumpHtml(trace(SPILL), { step: 8 }));
    expect(header(page, 8)).to.match(/^col out-ok has-chg sel\|/);
    expect(rowCells(page, 'd1v0', 'LR0')[9]).to.contain('chg sel');
    expect(dumpHtml(trace(SPILL), { step: 40 })).to.deep.equal(E.left('step 40 is out of range: trace "spill-evict" has 13 steps (valid: 0..12)'));
  });

  it('names MMIO frames in column headers: GICD offsets and each vCPU\'s redistributor frame', () => {
    expect(mmioWhere('0x3001104')).to.equal('GICD+0x104');
    expect(mmioWhere('0x3040000')).to.equal('GICR1+0x0');
    expect(mmioWhere('0x3030100')).to.equal('GICR0+0x10100');
    expect(mmioWhere('0x9000000')).to.equal('0x9000000');
    expect(opArgs({ op: 'eoi', pcpu: 1, intid: 27 })).to.equal('p1 intid 27');
    expect(opArgs({ op: 'run', pcpu: 0, domain: 1, vcpu: 2 })).to.equal('p0 d1v2');
  });

  it('trace-format §8: every recorded Xen example renders as text and as a page, all steps applied and expectations met', () => {
    const dir = fileURLToPath(new URL('../../fixtures/xen/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).to.be.greaterThan(0);
    for (const f of files) {
      const t = loadTraceFile(join(dir, f));
      if (E.isLeft(t)) throw new Error(t.left.join('\n'));
      const r = collected(t.right);
      expect(r.stopped, f).to.equal(null);
      expect(r.steps.every((s) => s.expect.status === 'pass'), f).to.equal(true);
      expect(right(dumpText(t.right))).to.contain(`step ${t.right.steps.length - 1} of ${t.right.steps.length}`);
      expect(right(dumpHtml(t.right))).to.contain(`${t.right.steps.length} expectations met`);
    }
  });
});

describe('vgic dump: the command', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vgic-dump-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function io(): Io & { stdout: () => string; stderr: () => string } {
    let out = '';
    let err = '';
    return { out: (s) => { out += s; }, err: (s) => { err += s; }, tty: false, stdout: () => out, stderr: () => err };
  }

  function file(name: string, content: unknown): string {
    const p = join(dir, name);
    writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
    return p;
  }

  const spillJson = { format: 'vgic-trace/1', name: 'spill-evict', config: { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 64 }] }, steps: SPILL };

  it('prints the text dump of the chosen step and exits 0', () => {
    const f = file('spill.json', spillJson);
    const b = io();
    expect(dumpCommand([f, '--step', '8'], b)).to.equal(0);
    expect(b.stdout()).to.equal(`${right(dumpText(trace(SPILL), 8))}\n`);
    expect(b.stderr()).to.equal('');
  });

  it('exits 2 for a step outside the trace, naming the valid range', () => {
    const f = file('spill.json', spillJson);
    const b = io();
    expect(dumpCommand([f, '--step', '13'], b)).to.equal(2);
    expect(b.stderr()).to.equal('vgic dump: step 13 is out of range: trace "spill-evict" has 13 steps (valid: 0..12)\n');
    expect(b.stdout()).to.equal('');
  });

  it('exits 2 for an unreadable or invalid trace, printing the decoder\'s lines with file and JSON path', () => {
    const missing = io();
    expect(dumpCommand([join(dir, 'nope.json'), '--step', '0'], missing)).to.equal(2);
    expect(missing.stderr()).to.match(/nope\.json: cannot read: ENOENT/);
    const bad = file('bad.json', { ...spillJson, steps: [{ op: 'inject', pcpu: 0 }] });
    const b = io();
    expect(dumpCommand([bad], b)).to.equal(2);
    expect(b.stderr()).to.contain(`${bad}: steps[0]`);
    const notJson = io();
    expect(dumpCommand([file('broken.json', '{')], notJson)).to.equal(2);
    expect(notJson.stderr()).to.match(/broken\.json: not valid JSON/);
  });

  it('throws UsageError for a missing or extra file, a non-numeric step, an empty --html and unknown options', () => {
    const f = file('spill.json', spillJson);
    expect(() => dumpCommand([], io())).to.throw(UsageError, /exactly one trace file[\s\S]*usage: vgic dump/);
    expect(() => dumpCommand([f, f], io())).to.throw(UsageError, /exactly one trace file \(got 2\)/);
    expect(() => dumpCommand([f, '--step', 'x'], io())).to.throw(UsageError, /--step: expected a whole number/);
    expect(() => dumpCommand([f, '--html', ''], io())).to.throw(UsageError, /--html needs a file name/);
    expect(() => dumpCommand([f, '--frob'], io())).to.throw(UsageError);
    expect(DUMP_USAGE).to.equal('vgic dump <trace.json> [--step K] [--check] [--html FILE [--from K] [--to L]]');
  });

  it('with --html writes the page, prints only its path and exits 0', () => {
    const f = file('spill.json', spillJson);
    const out = join(dir, 'spill.html');
    const b = io();
    expect(dumpCommand([f, '--html', out], b)).to.equal(0);
    expect(b.stdout()).to.equal(`${out}\n`);
    expect(readFileSync(out, 'utf8')).to.equal(right(dumpHtml(trace(SPILL))));
    const bad = io();
    expect(dumpCommand([f, '--html', out, '--step', '99'], bad)).to.equal(2);
    expect(bad.stderr()).to.contain('valid: 0..12');
  });

  it('a trace that stops with a trace error still dumps (exit 0); with --html the error is also noted on stderr', () => {
    const f = file('stop.json', { ...spillJson, steps: [run(), enter(), enter()] });
    const text = io();
    expect(dumpCommand([f], text)).to.equal(0);
    expect(text.stdout()).to.contain('TRACE ERROR at step 2');
    const page = io();
    const out = join(dir, 'stop.html');
    expect(dumpCommand([f, '--html', out], page)).to.equal(0);
    expect(existsSync(out)).to.equal(true);
    expect(page.stderr()).to.match(/^note: the trace stops with a trace error at step 2: /);
  });

  it('exits 2 when the HTML file cannot be written', () => {
    const f = file('spill.json', spillJson);
    const b = io();
    expect(dumpCommand([f, '--html', join(dir, 'no-such-dir', 'x.html')], b)).to.equal(2);
    expect(b.stderr()).to.match(/x\.html: cannot write: ENOENT/);
  });
});
