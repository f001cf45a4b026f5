/**
 * The HTML dump's own script in a real browser: headless Chromium loads a page with a URL hash
 * that scripts an action (`#s8&key=n`, `#irq=d1:42`), and the DOM it dumps after load shows
 * the result: the current column (`body[data-cur]`), the highlighted IRQ. Screenshots are not
 * asserted. Skipped, saying so, when no Chromium is installed (`.ci/run` installs one).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { dumpHtml, type HtmlOptions } from '../src/conformance/html.js';
import { CRASH, CRASH_CONFIG, ITS_CONFIG, ITS_STEPS, SPILL, traceOf } from './html-fixtures.js';

function findChromium(): string | null {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return null;
}

describe('vgic dump --html in headless Chromium: navigation and IRQ highlight', function () {
  this.timeout(120000);
  const chromium = findChromium();
  let dir = '';

  before(function () {
    if (chromium === null) {
      console.log('    (skipped: no chromium on PATH; install it with apt-get install chromium)');
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'vgic-chromium-'));
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** The DOM after loading the page of `steps` at `hash`. */
  function dom(name: string, steps: Record<string, unknown>[], config: Record<string, unknown>, hash: string, opts: HtmlOptions = {}): string {
    const page = dumpHtml(traceOf(steps, config), opts);
    if (E.isLeft(page)) return expect.fail(page.left);
    const file = join(dir, `${name}.html`);
    writeFileSync(file, page.right);
    const r = spawnSync(chromium!, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}#${hash}`], { encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('<body');
    return r.stdout;
  }

  const body = (html: string): string => /<body([^>]*)>/.exec(html)?.[1] ?? '';
  const cur = (html: string): string | undefined => /data-cur="(\d*)"/.exec(body(html))?.[1];

  it('#sK opens on step K; n and N go to the next and previous column with a change', () => {
    expect(cur(dom('spill-s8', SPILL, {}, 's8'))).to.equal('8');
    // Step 9 (pmr) changes the vCPU's priority mask; before 8, step 7 put 42 on lr_pending.
    expect(cur(dom('spill-n', SPILL, {}, 's8&key=n'))).to.equal('9');
    expect(cur(dom('spill-N', SPILL, {}, 's8&key=N'))).to.equal('7');
    const html = dom('spill-cur', SPILL, {}, 's8&key=n');
    expect(html).to.match(/<th class="[^"]*\bcur\b[^"]*" id="s9"/);
    expect(html).to.match(/<span id="pos">step 9<\/span>/);
  });

  it('a goes to the next abort; at the end of the run the bar says there is none', () => {
    expect(cur(dom('spill-a', SPILL, {}, 'key=a'))).to.equal('12');
    const html = dom('spill-aa', SPILL, {}, 'key=a,a');
    expect(cur(html)).to.equal('12');
    expect(html).to.contain('<span id="msg">no abort after this column</span>');
  });

  it('c goes to the crash, then to the trace error after it', () => {
    expect(cur(dom('crash-c', CRASH, CRASH_CONFIG, 'key=c'))).to.equal('21');
    expect(cur(dom('crash-cc', CRASH, CRASH_CONFIG, 'key=c,c'))).to.equal('22');
  });

  it('f goes to the failed expectation and v to the checker violation', () => {
    const failing = [...SPILL.slice(0, 10), { ...SPILL[10]!, expect: { result: { intid: 41 } } }, ...SPILL.slice(11)];
    expect(cur(dom('spill-f', failing, {}, 'key=f'))).to.equal('10');
    const viol = [...SPILL.slice(0, 7), { op: 'enter', pcpu: 0 }];
    expect(cur(dom('spill-v', viol, {}, 'key=v', { check: true, mutant: 'uie-when-lrs-full' }))).to.equal('7');
  });

  it('irq=d1:42 highlights IRQ 42 in every row and step it appears in, and nothing else', () => {
    const html = dom('spill-irq', SPILL, {}, 'irq=d1:42');
    expect(body(html)).to.contain('data-irq="d1:42"');
    const marked = [...html.matchAll(/<(?:i|b|th)[^>]*class="[^"]*\bhl\b[^"]*"[^>]*>/g)].map((m) => m[0]);
    // lr_pending (steps 7), inflight (7..12), LR0 (8..12), SPI records (7..12), the inject header.
    expect(marked.length).to.be.greaterThan(15);
    for (const m of marked) expect(m).to.contain('data-q="d1:42"');
    const others = [...html.matchAll(/<[^>]*data-q="d1:4[01]"[^>]*>/g)].map((m) => m[0]);
    expect(others.length).to.be.greaterThan(10);
    for (const o of others) expect(o).to.not.match(/\bhl\b/);
    expect(html).to.match(/<td class="[^"]*\bhlc\b[^"]*"[^>]*><b[^>]*data-q="d1:42"/);
  });

  it('irq=d1:8192 highlights vLPI 8192 (per domain) in the LR, inflight, vLPI and device cells and the msi header, and not vLPI 8193', () => {
    const html = dom('its-irq', ITS_STEPS, ITS_CONFIG, 's31&irq=d1:8192');
    expect(body(html)).to.contain('data-irq="d1:8192"');
    expect(cur(html)).to.equal('31');
    const marked = [...html.matchAll(/<(?:i|b|th)[^>]*class="[^"]*\bhl\b[^"]*"[^>]*>/g)].map((m) => m[0]);
    for (const m of marked) expect(m).to.contain('data-q="d1:8192"');
    // The msi header (31), LR0 (31..34), inflight (31..35), vLPIs (30..35; only enabled from 36 on: counted), devices (30..37).
    expect(marked.length).to.equal(24);
    expect(marked.some((m) => m.startsWith('<th') && m.includes('id="s31"'))).to.equal(true);
    expect(marked.some((m) => m.startsWith('<b'))).to.equal(true);
    const others = [...html.matchAll(/<[^>]*data-q="d1:8193"[^>]*>/g)].map((m) => m[0]);
    expect(others.length).to.be.greaterThan(10);
    for (const o of others) expect(o).to.not.match(/\bhl\b/);
  });
});
