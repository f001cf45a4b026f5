/**
 * The scenario fixtures of fixtures/: every one replays on the model, is well formed (name,
 * one-line description, refs), and together they cover every quirk the ops can reach
 * (Q1-Q32, Q33, Q34, Q37, Q38) and appendix D (D1-D11).
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayPaths } from '../src/conformance/replay.js';
import { loadTraceFile, type Trace } from '../src/conformance/trace.js';

/** fixtures/ at the project root (specs run from build/spec/). */
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

const REQUIRED = [
  ...Array.from({ length: 32 }, (_, i) => `Q${i + 1}`), 'Q33', 'Q34', 'Q37', 'Q38',
  ...Array.from({ length: 11 }, (_, i) => `D${i + 1}`),
];

function fixtures(): { file: string; trace: Trace }[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const file = join(FIXTURES, f);
    const t = loadTraceFile(file);
    if (E.isLeft(t)) return expect.fail(t.left.join('\n'));
    return { file, trace: t.right };
  });
}

describe('fixtures: scenario traces (fixtures/)', () => {
  it('there are at least 40 of them', () => {
    expect(fixtures().length).to.be.at.least(40);
  });

  it('every fixture replays on the model: all expectations hold, no trace error (vgic replay fixtures/)', function () {
    this.timeout(60000);
    const s = replayPaths([FIXTURES]);
    const bad = s.reports.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.error ?? JSON.stringify(r.failure)}`);
    expect(bad).to.deep.equal([]);
    expect(s.exitCode).to.equal(0);
  });

  it('every fixture is named after its file, describes its behaviour in one line, cites refs and checks something', () => {
    for (const { file, trace } of fixtures()) {
      expect(trace.name, file).to.equal(basename(file, '.json'));
      expect(trace.description, file).to.be.a('string').and.match(/^[^\n]{20,}$/);
      expect(trace.refs, file).to.be.an('array').that.is.not.empty;
      expect(trace.steps.filter((s) => s.expect !== undefined).length, `${file} has no expectation`).to.be.at.least(1);
    }
  });

  it('together they cite every quirk the ops can reach (Q1-Q32, Q33, Q34, Q37, Q38) and appendix D 1-11', () => {
    const cited = new Set(fixtures().flatMap((f) => f.trace.refs ?? []));
    expect(REQUIRED.filter((r) => !cited.has(r))).to.deep.equal([]);
  });

  it('both GIC versions are exercised', () => {
    const versions = new Set(fixtures().map((f) => f.trace.config.gic));
    expect([...versions].sort()).to.deep.equal(['v2', 'v3']);
  });
});
