/**
 * Reference ids stay look-up-able: the id table (src/conformance/refs.ts) has every quirk,
 * invariant, property and appendix D scenario; docs/xen-behaviour.md is exactly what the
 * table generates; and every id cited in src/, the fixtures' `refs`, the mutant table,
 * README.md and docs/ has an entry.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INVARIANTS, PROPERTIES, QUIRKS, REFS, SCENARIOS, citedRefs, lookupRef, refAnchor, refKey } from '../src/conformance/refs.js';
import { renderXenBehaviour } from '../src/conformance/refs-doc.js';
import { MUTANTS, MUTANT_NAMES } from '../src/xen/mutants.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function files(p: string, ext: RegExp): string[] {
  const st = statSync(p);
  if (st.isFile()) return ext.test(p) ? [p] : [];
  return readdirSync(p).sort().flatMap((n) => files(join(p, n), ext));
}

/** `file:line: id` for every cited id that the table does not have. */
function missingIn(file: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const id of citedRefs(line)) if (lookupRef(id) === undefined) out.push(`${relative(ROOT, file)}:${i + 1}: ${id}`);
  });
  return out;
}

describe('reference ids (src/conformance/refs.ts, docs/xen-behaviour.md)', () => {
  it('the table has Q1-Q41, I1-I19, P1-P8 and D1-D11, each exactly once, in order', () => {
    const seq = (p: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${p}${i + 1}`);
    expect(QUIRKS.map((x) => x.id)).to.deep.equal(seq('Q', 41));
    expect(INVARIANTS.map((x) => x.id)).to.deep.equal(seq('I', 19));
    expect(PROPERTIES.map((x) => x.id)).to.deep.equal(seq('P', 8));
    expect(SCENARIOS.map((x) => x.id)).to.deep.equal(seq('D', 11));
    expect(new Set(REFS.map((x) => x.id)).size).to.equal(REFS.length);
  });

  it('every entry has a title and a statement of one to three sentences, with no team-only path', () => {
    for (const x of REFS) {
      expect(x.title.trim(), x.id).to.not.equal('');
      const sentences = x.text.split(/[.!?](?:\s|$)/).filter((s) => s.trim() !== '').length;
      expect(sentences, `${x.id}: ${x.text}`).to.be.within(1, 3);
      expect(`${x.title} ${x.text}`, x.id).to.not.match(/shared\/|FORMAT\.md/);
    }
  });

  it('no property is marked "not yet checked" (P7 and P8 are checked since issue 14: docs/noninterference.md)', () => {
    for (const x of PROPERTIES) expect(x.text.includes('not yet checked'), x.id).to.equal(false);
    expect(PROPERTIES.map((x) => x.id)).to.include.members(['P7', 'P8']);
  });

  it('refKey reads ids as fixtures and the mutant table write them', () => {
    expect(refKey('Q8(d)')).to.equal('Q8');
    expect(refKey('3.8')).to.equal('§3.8');
    expect(refKey('3.7(d)')).to.equal('§3.7');
    expect(refKey('§3.1 step 9')).to.equal('§3.1');
    expect(refKey('appendix A.1')).to.equal('§A.1');
    expect(refKey('D11')).to.equal('D11');
    expect(refKey('not an id')).to.equal(null);
  });

  it('citedRefs finds ids in prose and skips citations of the trace format\'s own sections', () => {
    expect(citedRefs('vgic_disable_irqs (§3.14, Q6): see I4 and P2; D1 for appendix D scenario 1; appendix A.2'))
      .to.deep.equal(['§3.14', 'Q6', 'I4', 'P2', 'D1', '§D', '§A.2']);
    expect(citedRefs('the ops of docs/trace-format.md §3, trace-format §5, §6 and docs/trace-format.md §3.3')).to.deep.equal([]);
    expect(citedRefs('I2C, 0xD1, AP1R0 and GICD_IPRIORITYR0 are not ids')).to.deep.equal([]);
  });

  it('docs/xen-behaviour.md is what `npm run docs:refs` generates from the table', () => {
    const committed = readFileSync(join(ROOT, 'docs', 'xen-behaviour.md'), 'utf8');
    expect(committed === renderXenBehaviour(), 'docs/xen-behaviour.md is out of date: run npm run docs:refs').to.equal(true);
  });

  it('docs/xen-behaviour.md has one anchored heading per id and states the Xen commit modelled', () => {
    const doc = renderXenBehaviour();
    for (const x of REFS) expect(doc, x.id).to.include(`<a id="${refAnchor(x.id)}"></a>\n### `);
    expect(doc).to.include('c447b7308b13');
  });

  it('every id cited in src/, README.md and docs/ has an entry', () => {
    const texts = [
      ...files(join(ROOT, 'src'), /\.ts$/),
      ...files(join(ROOT, 'docs'), /\.md$/),
      join(ROOT, 'README.md'),
    ];
    const missing = texts.flatMap((f) => missingIn(f, readFileSync(f, 'utf8')));
    expect(missing).to.deep.equal([]);
  });

  it('every id in a fixture\'s refs and in the mutant table has an entry', () => {
    const missing: string[] = [];
    for (const f of files(join(ROOT, 'fixtures'), /\.json$/)) {
      const refs = (JSON.parse(readFileSync(f, 'utf8')) as { refs?: string[] }).refs ?? [];
      for (const raw of refs) {
        const key = refKey(raw);
        if (key === null || lookupRef(key) === undefined) missing.push(`${relative(ROOT, f)}: ${raw}`);
      }
    }
    for (const name of MUTANT_NAMES) {
      for (const raw of MUTANTS[name].ref.split(',')) {
        // A VMM mutant cites the trace format's section stating KVM's behaviour: not a reference id.
        if (/^trace-format §\d+(?:\.\d+)?(?: and §\d+(?:\.\d+)?)?$/.test(raw.trim())) continue;
        const key = refKey(raw);
        if (key === null || lookupRef(key) === undefined) missing.push(`mutant ${name}: ${raw.trim()}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });
});
