/**
 * The project stands alone: a user clones the repository and nothing else. No source, spec,
 * script, doc or package file may reach the team's working folder next to the repository;
 * what the project needs of it is copied in (fixtures/xen/, docs/). This file names that
 * folder only in pieces, so that it passes its own scan (and any other) too.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folders and top-level files a user's clone holds that could point elsewhere. */
const SCANNED = ['src', 'spec', 'docs', 'bench', 'examples', 'fixtures', '.ci', 'package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', '.mocharc.json', '.c8rc.json'];
const TEXT = /\.(ts|js|mjs|cjs|json|md|py|c|h|sh|txt|html|css)$|^run$|^Makefile$/;
/** The team's folder next to the repository, named in pieces (see the header). */
const TEAM = ['sha', 'red'].join('');
/** A path up to that folder, or to the team-only folders under it, written in any of the usual ways. */
const OUTSIDE = new RegExp(
  `\\.\\.[/\\\\]${TEAM}\\b|['"\`]${TEAM}['"\`]\\s*,\\s*['"\`](?:conformance|reference)|\\b${TEAM}\\/(?:conformance|reference)\\/`,
);

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

describe('the project stands alone (no file reaches the team folder next to it)', () => {
  it('no source, spec, doc, fixture or package file names the folder next to the repository or the team-only folders in it', () => {
    const hits: string[] = [];
    for (const f of SCANNED.flatMap((s) => files(join(ROOT, s)))) {
      if (!TEXT.test(f.split(/[/\\]/).pop()!)) continue;
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (OUTSIDE.test(line)) hits.push(`${relative(ROOT, f)}:${i + 1}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(hits).to.deep.equal([]);
  });

  it('the four Xen-recorded example traces are part of the project (fixtures/xen/)', () => {
    const xen = readdirSync(join(ROOT, 'fixtures', 'xen')).filter((f) => f.endsWith('.json'));
    expect(xen).to.have.length(4);
  });

  it('the pattern catches the ways a path to that folder is written', () => {
    const samples = [
      `join(ROOT, '..', '${TEAM}', 'conformance')`,
      `see ../${TEAM}/reference/xen-vgic.md`,
      `${TEAM}/conformance/docs/trace-format.md`,
      `'..\\${TEAM}'`,
    ];
    for (const s of samples) {
      expect(OUTSIDE.test(s), s).to.equal(true);
    }
    expect(OUTSIDE.test('d.sharedIrqs = []')).to.equal(false);
  });
});
