/**
 * `vgic dump --html` as a debugging tool (issue 11): stale `p->lr` shown as such, failed
 * expectations on the cell with expected and actual, checker findings (--check), a window of
 * steps (--from/--to), the streaming writer (same page whether it spills to a temporary file
 * or not), the legend and navigation controls, and the command's options.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, type Io } from '../src/cli/args.js';
import { dumpCommand } from '../src/cli/dump.js';
import { dumpHtml, expectRows, mmioWhere, opArgs, writeHtmlFile, type HtmlOptions } from '../src/conformance/html.js';
import type { Trace } from '../src/conformance/trace.js';
import { SPILL, CRASH, CRASH_CONFIG, ITS_CONFIG, ITS_STEPS, header, right, rowCells, traceOf } from './html-fixtures.js';

function page(t: Trace, opts: HtmlOptions = {}): string {
  return right(dumpHtml(t, opts));
}

describe('vgic dump --html: debugging aids', () => {
  const spill = traceOf(SPILL);

  it('Q38: an inflight record not in an LR shows its lr field greyed as stale, not like an LR index', () => {
    const inflight = rowCells(page(spill), 'd1v0', 'inflight');
    // After step 7, 42 waits on lr_pending with its never-used lr field 0; 41 and 40 are in LRs 1 and 0.
    expect(inflight[8]).to.contain('<i data-q="d1:42">42</i>@<span class="stale">0 stale</span> <i data-q="d1:41">41</i>@1 <i data-q="d1:40">40</i>@0');
    expect(inflight[8]).to.contain('42@0 (stale lr, not in an LR)');
    // After step 8 42 is in LR0 (VISIBLE): its lr is a real index; 40 left its LR: lr 255.
    expect(inflight[9]).to.contain('<i data-q="d1:42">42</i>@0 <i data-q="d1:41">41</i>@1 <i data-q="d1:40">40</i>@–');
  });

  it('trace-format §6: a failed snapshot expectation marks the cell its path names with expected and actual', () => {
    const steps = [...SPILL.slice(0, 8), { ...SPILL[8]!, expect: { snapshot: { domains: [{ id: 1, vcpus: [{ id: 0, lr_pending: [41] }] }] } } }, ...SPILL.slice(9)];
    const html = page(traceOf(steps));
    const pending = rowCells(html, 'd1v0', 'lr_pending');
    expect(pending[9]).to.match(/^<td class="list chg xbad" title="failed expectation at snapshot\.domains\[id=1\]\.vcpus\[id=0\]\.lr_pending\[0\]: expected 41, actual 40/);
    expect(pending[9]).to.contain('<i data-q="d1:40">40</i><span class="xv">✗ expected 41, actual 40</span>');
    expect(rowCells(html, 'd1v0', 'inflight')[9]).to.not.contain('xbad');
    const exp = rowCells(html, 'step', 'expect');
    expect(exp[9]).to.match(/^<td class="xfail" title="✗ snapshot\.domains\[id=1\]\.vcpus\[id=0\]\.lr_pending\[0\]: expected 41, actual 40"/);
    expect(header(html, 8)).to.match(/\bexp-fail\b/);
  });

  it('maps expectation paths to rows: LRs by the actual LR number, records, pCPUs, host IRQs; RESULT paths to none', () => {
    const snap = null;
    expect(expectRows('snapshot.pcpus[id=0].uie', snap)('p0.uie')).to.equal(true);
    expect(expectRows('snapshot.pcpus[id=0].mode', snap)('p0.uie')).to.equal(false);
    expect(expectRows('snapshot.domains[id=1].vcpus[id=0].lrs', snap)('d1v0.lr1')).to.equal(true);
    expect(expectRows('snapshot.domains[id=1].vcpus[id=0].pmr', snap)('d1v0.regs')).to.equal(true);
    expect(expectRows('snapshot.domains[id=1].irqs[irq=40,vcpu=null].status', snap)('d1.spis')).to.equal(true);
    expect(expectRows('snapshot.domains[id=1].irqs[irq=27,vcpu=0].status', snap)('d1v0.records')).to.equal(true);
    expect(expectRows('snapshot.physical[pirq=48].enabled', snap)('pirq48')).to.equal(true);
    expect(expectRows('result.intid', snap)('d1v0.lr0')).to.equal(false);
  });

  it('a failed RESULT expectation is shown in the expect row, with the path, expected and actual', () => {
    const html = page(traceOf([SPILL[0]!, { op: 'idle', pcpu: 0, expect: { result: { outcome: 'abort' } } }]));
    expect(rowCells(html, 'step', 'expect')[2]).to.contain('✗ result.outcome: expected &quot;abort&quot;, actual &quot;ok&quot;');
  });

  it('--check: findings of the invariant checker go in a check row, mark the column and are listed in the notes', () => {
    // With the mutant, UIE is set on entry with both LRs used and lr_pending empty (I15).
    const opts: HtmlOptions = { check: true, mutant: 'uie-when-lrs-full' };
    const html = page(traceOf([...SPILL.slice(0, 7), { op: 'enter', pcpu: 0 }]), opts);
    const check = rowCells(html, 'step', 'check');
    expect(check.map((c) => c.includes('class="viol"'))).to.deep.equal([false, false, false, false, false, false, false, false, true]);
    expect(check[8]).to.contain('<b>I15</b> pCPU 0: UIE set after the return to d1v0 with empty lr_pending and every LR used');
    expect(header(html, 7)).to.match(/\bviol\b/);
    expect(header(html, 7)).to.contain('<span class="vf">I15</span>');
    expect(html).to.contain('step 7</a>: check: VIOLATED <a class="refl" href="#ref-I15">I15</a>');
    expect(html).to.contain('checker: 1 step with violations');
    // Without --check there is no check row; with it and no finding, the summary says so.
    expect(page(spill)).to.not.contain('>check</th>');
    expect(page(spill, { check: true })).to.contain('checker: no violation');
  });

  it('--from/--to render only steps K..L after a reference column with the state before K', () => {
    const html = page(spill, { from: 5, to: 8 });
    for (const k of [5, 6, 7, 8]) expect(html).to.contain(`id="s${k}"`);
    for (const k of [4, 9, 12]) expect(html).to.not.contain(`id="s${k}"`);
    expect(html).to.contain('<div class="idx">before 5</div>');
    expect(html).to.contain('13 steps, showing steps 5..8 (4 ok)');
    const lr0 = rowCells(html, 'd1v0', 'LR0');
    expect(lr0).to.have.length(5);
    expect(lr0[0]).to.equal('<td></td>'); // nothing in LR0 after step 4
    expect(lr0[1]).to.contain('chg');
    expect(lr0[4]).to.contain('<b data-q="d1:42">42</b>');
  });

  it('refuses a window outside the trace, reversed, or not holding --step, naming the limits', () => {
    expect(dumpHtml(spill, { from: 13 })).to.deep.equal(E.left('--from 13 is out of range: trace "spill-evict" has 13 steps (valid: 0..12)'));
    expect(dumpHtml(spill, { to: 20 })).to.deep.equal(E.left('--to 20 is out of range: trace "spill-evict" has 13 steps (valid: 0..12)'));
    expect(dumpHtml(spill, { from: 6, to: 5 })).to.deep.equal(E.left('--from 6 is after --to 5'));
    expect(dumpHtml(spill, { from: 6, to: 8, step: 2 })).to.deep.equal(E.left('step 2 is outside the rendered steps 6..8'));
  });

  it('trace-format §4: a crash in the window keeps the trace error column after it', () => {
    const html = page(traceOf(CRASH, CRASH_CONFIG), { from: 20 });
    expect(header(html, 21)).to.match(/^col out-crash nav-crash/);
    expect(header(html, 22)).to.match(/^col out-stop nav-crash/);
    expect(html).to.contain('<div class="idx">before 20</div>');
  });

  it('the legend explains every abbreviation the cells use, and the bar has buttons for each kind of stop', () => {
    const html = page(spill);
    for (const s of ['VE = visible and enabled', 'QE = queued and enabled', '<code>+3 E</code>: 3 more records that are only enabled', 'pirq 48: d1:48 dis @0', 'P+A pending and active', 'UIE: the underflow', 'OFF the vCPU is offline', 'IP in progress', '@0 affinity pCPU0', 'Q38']) {
      expect(html, s).to.contain(s);
    }
    for (const k of ['n', 'a', 'c', 'f', 'v']) {
      expect(html).to.contain(`<button type="button" data-k="${k}"`);
      expect(html).to.contain(`<button type="button" data-k="${k.toUpperCase()}"`);
    }
    // The title, legend and bar sit in a header that stays put while the table scrolls.
    expect(html).to.match(/header\.top \{ position: sticky; top: 0;/);
    expect(html).to.match(/<header class="top">[\s\S]*<nav class="bar">[\s\S]*<details class="legend" open>[\s\S]*<\/header>\n<main id="main">/);
  });
});

describe('vgic dump --html: a domain with a virtual ITS (trace-format §9)', () => {
  const its = traceOf(ITS_STEPS, ITS_CONFIG, 'its-page');
  const html = page(its);
  /** Column index of step k in a row's cells (the reference column is 0). */
  const col = (k: number): number => k + 1;

  it('vLPIs get their own row with target vCPU and status, not the vCPU\'s private records; lpi_priority in the tooltip', () => {
    const lpis = rowCells(html, 'd1 ITS and LPIs', 'vLPIs');
    expect(lpis[col(29)]).to.equal('<td></td>');
    expect(lpis[col(30)]).to.contain('<i data-q="d1:8192">8192</i>→v0:EL');
    expect(lpis[col(30)]).to.contain('<i data-q="d1:8193">8193</i>→v1:EL');
    expect(lpis[col(30)]).to.contain('vLPI 8193 → vCPU 1: [ENABLED PRISTINE_LPI] lpi_priority 0x80 priority 0x00 lr 0');
    expect(lpis[col(31)]).to.contain('8192</i>→v0:VE');
    expect(lpis[col(36)]).to.contain('+1\u00a0E');
    expect(lpis[col(37)]).to.contain('8193</i>→v1:QEL');
    for (const v of ['d1v0', 'd1v1']) {
      for (const c of rowCells(html, v, 'records')) expect(c, v).to.not.match(/819[23]/);
    }
  });

  it('each vCPU shows EnableLPIs and PENDBASER; the ITS rows show GITS_CTLR (Enabled, Quiescent), the queue registers and the BASERs', () => {
    const lpi0 = rowCells(html, 'd1v0', 'LPIs pendbase');
    expect(lpi0[0]).to.contain('>off 0x0</td>');
    expect(lpi0[col(2)]).to.contain('>on 0x0</td>');
    const ctlr = rowCells(html, 'd1 ITS and LPIs', 'GITS_CTLR');
    expect(ctlr[col(6)]).to.contain('>dis Q</td>');
    expect(ctlr[col(7)]).to.match(/class="chg"[^>]*>en Q<\/td>/);
    expect(rowCells(html, 'd1 ITS and LPIs', 'CREADR CWRITER')[col(30)]).to.contain('>0xa0 0xa0</td>');
    expect(rowCells(html, 'd1 ITS and LPIs', 'CBASER')[col(4)]).to.contain('>0x9800000040000000</td>');
    expect(rowCells(html, 'd1 ITS and LPIs', 'BASER0')[col(5)]).to.contain('>0x9907000040010000</td>');
    expect(rowCells(html, 'd1 ITS and LPIs', 'BASER1')[col(6)]).to.contain('>0x9c01000040020000</td>');
    // Written as 0x4003000f; the attributes are sanitised (§C.8).
    expect(rowCells(html, 'd1 ITS and LPIs', 'PROPBASER')[col(1)]).to.contain('>0x4003018f</td>');
    expect(rowCells(html, 'd1 ITS and LPIs', 'rdists nr_lpis')[col(2)]).to.contain('>on 57344</td>');
  });

  it('the device registry lists each device\'s mapped events with their vLPIs, or counts them when there are many', () => {
    const dev = rowCells(html, 'd1 ITS and LPIs', 'devices');
    expect(dev[col(29)]).to.equal('<td></td>');
    expect(dev[col(30)]).to.contain('dev0: 0→<i data-q="d1:8192">8192</i> 1→<i data-q="d1:8193">8193</i>');
    expect(dev[col(30)]).to.contain('device 0: 32 events; event→vLPI 0→8192 1→8193');
  });

  it('a vLPI is highlighted per domain: LR cells, lists, the vLPI row and the header of the msi that raised it carry d1:8192', () => {
    expect(rowCells(html, 'd1v0', 'LR0')[col(31)]).to.contain('<b data-q="d1:8192">8192</b>');
    expect(rowCells(html, 'd1v1', 'lr_pending')[col(37)]).to.contain('data-q="d1:8193"');
    expect(header(html, 31)).to.match(/^col out-ok/);
    expect(html).to.match(/<th class="[^"]*" id="s31" title="[^"]*" data-q="d1:8192">/);
    expect(html).to.match(/<th class="[^"]*" id="s37" title="[^"]*" data-q="d1:8193">/);
  });

  it('headers name ITS accesses GITS+offset; the config line names the ITS; the legend explains the new abbreviations', () => {
    expect(header(html, 30)).to.contain('p0 W GITS+0x88/8 =0xa0');
    expect(mmioWhere('0x8010040', [0x8000000])).to.equal('GITS+0x10040');
    expect(mmioWhere('0x8020000', [0x8000000])).to.equal('0x8020000');
    expect(opArgs({ op: 'msi', pcpu: 0, domain: 1, devid: 2, eventid: 5 })).to.equal('p0 d1 devid=2 eventid=5');
    expect(html).to.contain('ITS at 0x8000000 (GITS)');
    for (const s of ['vLPIs 8192→v1:QE', 'LPIs pendbase on 0x0', 'GITS_CTLR en Q', 'Q Quiescent: CREADR = CWRITER', 'devices dev0: 0→8192', '<code>dev0: 16/32</code>', 'rdists nr_lpis on 57344', '<code>GITS+0x88</code>']) {
      expect(html, s).to.contain(s);
    }
  });

  it('a domain without an ITS gets none of it: no ITS section, row, legend entry or GITS name', () => {
    const plain = page(traceOf(SPILL));
    for (const s of ['ITS and LPIs', 'LPIs pendbase', 'vLPIs', 'GITS', 'rdists']) expect(plain, s).to.not.contain(s);
  });

  it('maps expectation paths into the ITS state to its rows', () => {
    const rows = ['d1.lpis', 'd1.its_ctlr', 'd1.its_queue', 'd1.its_cbaser', 'd1.its_baser0', 'd1.its_baser1', 'd1.its_devices', 'd1.lpi_prop', 'd1.lpi_state', 'd1v0.lpi', 'd1v1.lpi', 'd1.spis', 'd1v0.records'];
    const hit = (path: string): string[] => rows.filter(expectRows(path, null));
    expect(hit('snapshot.domains[id=1].irqs[irq=8192,vcpu=0].status')).to.deep.equal(['d1.lpis']);
    expect(hit('snapshot.domains[id=1].irqs[irq=40,vcpu=null]')).to.deep.equal(['d1.spis']);
    expect(hit('snapshot.domains[id=1].its.creadr')).to.deep.equal(['d1.its_queue']);
    expect(hit('snapshot.domains[id=1].its.enabled')).to.deep.equal(['d1.its_ctlr']);
    expect(hit('snapshot.domains[id=1].its')).to.have.length(5);
    expect(hit('snapshot.domains[id=1].its_devices[devid=0].vlpis[1]')).to.deep.equal(['d1.its_devices']);
    expect(hit('snapshot.domains[id=1].lpi.nr_lpis')).to.deep.equal(['d1.lpi_state']);
    expect(hit('snapshot.domains[id=1].lpi.propbase')).to.deep.equal(['d1.lpi_prop']);
    expect(hit('snapshot.domains[id=1].vcpus[id=1].pendbase')).to.deep.equal(['d1v1.lpi']);
    const failing = [...ITS_STEPS.slice(0, 30), { ...ITS_STEPS[30]!, expect: { snapshot: { domains: [{ id: 1, its: { creadr: '0x80' } }] } } }];
    const marked = rowCells(page(traceOf(failing, ITS_CONFIG, 'its-fail')), 'd1 ITS and LPIs', 'CREADR CWRITER')[col(30)]!;
    expect(marked).to.contain('xbad');
    expect(marked).to.contain('expected &quot;0x80&quot;, actual &quot;0xa0&quot;');
  });
});

describe('vgic dump --html: the streaming writer', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vgic-html-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same page whether its rows spill to the temporary file chunk by chunk or stay in memory', () => {
    const t = traceOf(CRASH, CRASH_CONFIG);
    const out = join(dir, 'crash.html');
    const r = right(writeHtmlFile(t, { chunkChars: 2000 }, out));
    expect(r.spilled).to.be.greaterThan(5);
    expect(readFileSync(out, 'utf8')).to.equal(page(t));
    const small = right(writeHtmlFile(t, {}, out));
    expect(small.spilled).to.equal(0);
    expect(r.columns).to.equal(22);
  });

  it('a file that cannot be opened is a Left naming it and the error code', () => {
    expect(writeHtmlFile(traceOf(SPILL), {}, join(dir, 'no', 'x.html'))).to.deep.equal(E.left(`${join(dir, 'no', 'x.html')}: cannot write: ENOENT`));
  });

  function io(): Io & { stdout: () => string; stderr: () => string } {
    let out = '';
    let err = '';
    return { out: (s) => { out += s; }, err: (s) => { err += s; }, tty: false, stdout: () => out, stderr: () => err };
  }

  it('the command: --from/--to need --html; a window outside the trace exits 2; --check notes violations', () => {
    const f = join(dir, 'spill.json');
    writeFileSync(f, JSON.stringify({ format: 'vgic-trace/1', name: 'spill-evict', config: { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 64 }] }, steps: SPILL }));
    expect(() => dumpCommand([f, '--from', '3'], io())).to.throw(UsageError, /--from/);
    const out = join(dir, 'w.html');
    const bad = io();
    expect(dumpCommand([f, '--html', out, '--from', '3', '--to', '30'], bad)).to.equal(2);
    expect(bad.stderr()).to.equal('vgic dump: --to 30 is out of range: trace "spill-evict" has 13 steps (valid: 0..12)\n');
    const ok = io();
    expect(dumpCommand([f, '--html', out, '--from', '3', '--to', '9', '--check'], ok)).to.equal(0);
    expect(ok.stdout()).to.equal(`${out}\n`);
    expect(readFileSync(out, 'utf8')).to.equal(page(traceOf(SPILL), { from: 3, to: 9, check: true }));
    const text = io();
    expect(dumpCommand([f, '--step', '8', '--check'], text)).to.equal(0);
    expect(text.stdout().split('\n')[1]).to.equal('check: no invariant or property violated');
  });
});
