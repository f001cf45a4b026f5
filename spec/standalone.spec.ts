/**
 * The project stands alone: a user clones the repository and nothing else. No source, spec,
 * script, doc or package file may reach a sibling `shared/` folder (the team's working
 * material); what the project needs of it is copied in (fixtures/xen/, docs/).
 */
import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folders and top-level files a user's clone holds that could point elsewhere. */
const SCANNED = ['src', 'spec', 'docs', 'bench', 'examples', 'fixtures', '.ci', 'package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', '.mocharc.json', '.c8rc.json'];
const TEXT = /\.(ts|js|mjs|cjs|json|md|py|c|h|sh|txt|html|css)$|^run$|^Makefile$/;
/** `../shared`, or the team-only paths under it, written in any of the usual ways. */
const OUTSIDE = /\.\.[/\\]shared\b|['"`]shared['"`]\s*,\s*['"`](?:conformance|reference)|\bshared\/(?:conformance|reference)\//;

function files(p: string): string[] {
  let st;
  try {
    st = statSync(p);
  } catch {
    return [];
  }
  if (st.isFile()) return [p];
  if (!st.isDirectory()) return [];
  return readdirSync(p).filter((n) => n !== 'node_modules').flatMap((n) => files(join(p, n)));
}

describe('the project stands alone (no file reaches ../shared)', () => {
  it('no source, spec, doc, fixture or package file names ../shared or shared/conformance|reference', () => {
    const hits: string[] = [];
    for (const f of SCANNED.flatMap((s) => files(join(ROOT, s)))) {
      if (!TEXT.test(f.split(/[/\\]/).pop()!)) continue;
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (OUTSIDE.test(line) && !f.endsWith('standalone.spec.ts')) hits.push(`${relative(ROOT, f)}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(hits).to.deep.equal([]);
  });

  it('the four Xen-recorded example traces are part of the project (fixtures/xen/)', () => {
    const xen = readdirSync(join(ROOT, 'fixtures', 'xen')).filter((f) => f.endsWith('.json'));
    expect(xen).to.have.length(4);
  });

  it('the pattern catches the ways a path to ../shared is written', () => {
    for (const s of ["join(ROOT, '..', 'shared', 'conformance')", 'see ../shared/reference/xen-vgic.md', 'shared/conformance/docs/trace-format.md', "'..\\\\shared'".replace('\\\\', '\\')]) {
      expect(OUTSIDE.test(s), s).to.equal(true);
    }
    expect(OUTSIDE.test('d.sharedIrqs = []')).to.equal(false);
  });
});
