/**
 * The HTML dump links every reference id it shows (refs chips, ids in the description and in
 * the notes) to an in-page glossary that states each one (src/conformance/refs.ts), so the
 * page stays self-contained.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dumpHtml, glossaryAnchor } from '../src/conformance/html.js';
import { lookupRef, refKey } from '../src/conformance/refs.js';
import { decodeTrace, loadTraceFile, type Trace } from '../src/conformance/trace.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function page(t: Trace): string {
  const r = dumpHtml(t);
  if (E.isLeft(r)) throw new Error(r.left);
  return r.right;
}

function fixture(name: string): Trace {
  const t = loadTraceFile(join(ROOT, 'fixtures', name));
  if (E.isLeft(t)) throw new Error(t.left.join('\n'));
  return t.right;
}

/** The glossary entries of a page: anchor -> text of its <dt> and <dd>. */
function glossary(html: string): Map<string, { dt: string; dd: string }> {
  const out = new Map<string, { dt: string; dd: string }>();
  for (const m of html.matchAll(/<dt id="([^"]+)">([^<]*)<\/dt><dd>([^<]*)<\/dd>/g)) out.set(m[1]!, { dt: m[2]!, dd: m[3]! });
  return out;
}

/** Every in-page link target of the reference links. */
function refLinks(html: string): string[] {
  return [...html.matchAll(/<a class="ref[l]?" href="#([^"]+)"/g)].map((m) => m[1]!);
}

const unescape = (s: string): string => s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('vgic dump --html: reference ids link to an in-page glossary', () => {
  it('each refs chip of a fixture is a link to a glossary entry with the id\'s title and statement', () => {
    const t = fixture('q07-assert-while-disabled-delivered-on-enable.json');
    expect(t.refs).to.deep.equal(['Q7', 'D5', 'Q5', '3.13']);
    const html = page(t);
    const g = glossary(html);
    for (const raw of t.refs!) {
      const key = refKey(raw)!;
      const anchor = glossaryAnchor(key);
      expect(html, raw).to.match(new RegExp(`<a class="ref" href="#${anchor.replace(/\./g, '\\.')}"[^>]*>${raw.replace(/\./g, '\\.')}</a>`));
      const entry = g.get(anchor);
      expect(entry, `glossary entry for ${raw}`).to.not.equal(undefined);
      expect(unescape(entry!.dt)).to.include(lookupRef(key)!.title);
      expect(unescape(entry!.dd)).to.equal(lookupRef(key)!.text);
    }
    // Section 3.13 is shown as written in the chip and named "§3.13" in the glossary.
    expect(g.get('ref-sec-3.13')!.dt).to.match(/^§3\.13: /);
  });

  it('every reference link on the page has its glossary entry, and the glossary lists only cited ids', () => {
    const t = fixture('q12-v2-evict-only-strictly-lower-priority.json');
    const html = page(t);
    const links = new Set(refLinks(html));
    const entries = new Set(glossary(html).keys());
    expect(links.size).to.be.greaterThan(0);
    expect([...links].filter((l) => !entries.has(l))).to.deep.equal([]);
    expect([...entries].filter((e) => !links.has(e))).to.deep.equal([]);
  });

  it('ids in the description and in a trace error are linked; trace-format citations and unknown ids are not', () => {
    const t = decodeTrace({
      format: 'vgic-trace/1', name: 'refs-in-text',
      description: 'Q34 leaves state behind (see §3.17); docs/trace-format.md §4 is the trace format, Q99 is not an id.',
      refs: ['Q34', 'no-such-id'],
      config: { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] },
      steps: [{ op: 'enter', pcpu: 0 }],
    });
    if (E.isLeft(t)) throw new Error(t.left.join('\n'));
    const html = page(t.right);
    expect(html).to.include('<a class="refl" href="#ref-Q34">Q34</a> leaves state behind (see <a class="refl" href="#ref-sec-3.17">§3.17</a>)');
    expect(html).to.include('docs/trace-format.md §4 is the trace format, Q99 is not an id.');
    expect(html).to.include('<span class="ref">no-such-id</span>');
    expect([...glossary(html).keys()]).to.deep.equal(['ref-Q34', 'ref-sec-3.17']);
  });

  it('a page without reference ids has no glossary', () => {
    const t = decodeTrace({
      format: 'vgic-trace/1', name: 'plain',
      config: { gic: 'v2', nr_lrs: 1, pcpus: 1, domains: [{ id: 0, vcpus: 1, nr_spis: 32 }] },
      steps: [{ op: 'run', pcpu: 0, domain: 0, vcpu: 0 }],
    });
    if (E.isLeft(t)) throw new Error(t.left.join('\n'));
    const html = page(t.right);
    expect(html).to.not.include('class="glossary"');
    expect(refLinks(html)).to.deep.equal([]);
  });
});
