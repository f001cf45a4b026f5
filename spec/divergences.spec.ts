/**
 * The divergence catalogue (src/xen/divergences.ts): every entry is well formed and cites a
 * quirk, its switch is tested at exactly one place in src/, its fixture records Xen's
 * behaviour (replays on the model), and with the switch on the fixture first differs exactly
 * at the catalogued step and path, while every other switch leaves it unchanged. The
 * generated docs/divergences.md and docs/divergences.json are current.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDivergencesJson, renderDivergencesMd } from '../src/check/divergences-doc.js';
import { firstVariantDifference } from '../src/check/divergences.js';
import { lookupRef } from '../src/conformance/refs.js';
import { replayPaths } from '../src/conformance/replay.js';
import { loadTraceFile, type Trace } from '../src/conformance/trace.js';
import { Machine } from '../src/machine/machine.js';
import {
  DIVERGENCES, DIVERGENCE_NAMES, architectural, divergenceFixture, isDivergenceName, type DivergenceName,
} from '../src/xen/divergences.js';
import { XEN_VARIANT, describeVariant, makeVariant } from '../src/xen/variant.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

function load(name: DivergenceName): Trace {
  const t = loadTraceFile(join(ROOT, divergenceFixture(name)));
  if (E.isLeft(t)) return expect.fail(t.left.join('\n'));
  return t.right;
}

function traces(): Map<DivergenceName, Trace> {
  return new Map(DIVERGENCE_NAMES.map((n) => [n, load(n)]));
}

/** Every `architectural(<host>, 'NAME')` switch site in src/. */
function switchSites(): Map<string, number> {
  const counts = new Map<string, number>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        for (const hit of readFileSync(p, 'utf8').matchAll(/architectural\([a-zA-Z.]+, '([a-z0-9-]+)'\)/g)) counts.set(hit[1]!, (counts.get(hit[1]!) ?? 0) + 1);
      }
    }
  };
  walk(SRC);
  return counts;
}

describe('divergences: the catalogue of where Xen differs from the architecture or KVM (src/xen/divergences.ts)', () => {
  it('has at least 6 entries, kebab-case names, a quirk id with an entry in docs/xen-behaviour.md, and one-line texts', () => {
    expect(DIVERGENCE_NAMES.length).to.be.at.least(6);
    for (const name of DIVERGENCE_NAMES) {
      const e = DIVERGENCES[name];
      expect(name).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(isDivergenceName(name)).to.equal(true);
      expect(e.ref, name).to.match(/^Q\d+$/);
      expect(lookupRef(e.ref), `${name}: ${e.ref}`).to.not.equal(undefined);
      for (const text of [e.rule, e.xen, e.switched]) expect(text, name).to.match(/^[^\n]{20,}$/);
    }
    expect(isDivergenceName('toString')).to.equal(false);
  });

  for (const name of DIVERGENCE_NAMES) {
    it(`${name}: the switch is read through the host's variant and tested at exactly one place in src/`, () => {
      expect(architectural({ variant: XEN_VARIANT }, name)).to.equal(false);
      const on = { variant: makeVariant(null, [name]) };
      expect(DIVERGENCE_NAMES.filter((n) => architectural(on, n))).to.deep.equal([name]);
      const m = Machine.fromJson(load(name).rawConfig, 'config', makeVariant(null, [name]));
      if (E.isLeft(m)) return expect.fail(m.left.join('; '));
      expect(architectural(m.right.host, name)).to.equal(true);
      expect(m.right.mutant).to.equal(null);
      expect(switchSites().get(name), `architectural(<host>, '${name}') in src/`).to.equal(1);
    });

    it(`${name}: its fixture records Xen (${DIVERGENCES[name].ref}), and the switch alone makes it differ first at step ${DIVERGENCES[name].step}, ${DIVERGENCES[name].path}`, () => {
      const file = join(ROOT, divergenceFixture(name));
      const t = load(name);
      expect(t.name).to.equal(name);
      expect(t.refs).to.include(DIVERGENCES[name].ref);
      const s = replayPaths([file]);
      expect(s.reports.map((r) => r.status)).to.deep.equal(['pass']);
      const d = firstVariantDifference(t, XEN_VARIANT, makeVariant(null, [name]));
      if (E.isLeft(d)) return expect.fail(d.left);
      expect(d.right, 'the switch changes nothing on its fixture').to.not.equal(null);
      expect({ step: d.right!.step, path: d.right!.path }).to.deep.equal({ step: DIVERGENCES[name].step, path: DIVERGENCES[name].path });
      // The fixture checks that step, so an implementation following the architecture fails it there.
      expect(t.steps[d.right!.step]!.expect, `step ${d.right!.step} has no expectation`).to.not.equal(undefined);
      // Every other switch at once leaves the trace as Xen runs it: it shows exactly this entry.
      const others = makeVariant(null, DIVERGENCE_NAMES.filter((n) => n !== name));
      expect(firstVariantDifference(t, XEN_VARIANT, others)).to.deep.equal(E.right(null));
    });
  }

  it('no switch site in src/ names a divergence missing from the catalogue', () => {
    expect([...switchSites().keys()].filter((n) => !isDivergenceName(n))).to.deep.equal([]);
  });

  it('a variant carries one mutant and any set of switches; Machine.create takes a mutant name or a variant', () => {
    const v = makeVariant('evict-on-equal', ['icpendr-ignored', 'level-low-ignored']);
    expect(describeVariant(v)).to.equal('mutant evict-on-equal, architectural icpendr-ignored+level-low-ignored');
    expect(describeVariant(XEN_VARIANT)).to.equal('xen');
    expect(makeVariant()).to.equal(XEN_VARIANT);
    const t = load('icpendr-ignored');
    const byName = Machine.fromJson(t.rawConfig, 'config', 'evict-on-equal');
    const byVariant = Machine.fromJson(t.rawConfig, 'config', v);
    if (E.isLeft(byName) || E.isLeft(byVariant)) return expect.fail('Machine.create failed');
    expect(byName.right.mutant).to.equal('evict-on-equal');
    expect(byName.right.variant.architectural.size).to.equal(0);
    expect(byVariant.right.variant).to.equal(v);
    expect(byVariant.right.host.variant).to.equal(v);
  });

  it('every fixture under fixtures/divergences/ belongs to an entry', () => {
    const files = readdirSync(join(ROOT, 'fixtures', 'divergences')).filter((f) => f.endsWith('.json')).sort();
    expect(files).to.deep.equal(DIVERGENCE_NAMES.map((n) => `${n}.json`).sort());
  });

  it('docs/divergences.md and docs/divergences.json are what `npm run docs:refs` generates', function () {
    this.timeout(20000);
    const ts = traces();
    for (const [file, text] of [['divergences.md', renderDivergencesMd(ts)], ['divergences.json', renderDivergencesJson(ts)]] as const) {
      const path = join(ROOT, 'docs', file);
      expect(existsSync(path), `docs/${file}`).to.equal(true);
      expect(readFileSync(path, 'utf8') === text, `docs/${file} is out of date: run npm run docs:refs`).to.equal(true);
    }
    const json = JSON.parse(renderDivergencesJson(ts)) as { format: string; entries: { name: string; switch: string; first_difference: { step: number } }[] };
    expect(json.format).to.equal('vgic-divergences/1');
    expect(json.entries.map((e) => e.name)).to.deep.equal(DIVERGENCE_NAMES);
    for (const e of json.entries) expect(e.first_difference.step).to.equal(DIVERGENCES[e.name as DivergenceName].step);
  });
});
