/**
 * `npm run docs:refs`: write docs/xen-behaviour.md from the reference-id table
 * (src/conformance/refs.ts), and docs/divergences.md and docs/divergences.json from the
 * divergence catalogue (src/xen/divergences.ts) and its fixtures. With `--check`, only report
 * whether the committed files are current (exit 1 when one is not).
 */
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderDivergencesJson, renderDivergencesMd } from '../src/check/divergences-doc.js';
import { renderXenBehaviour } from '../src/conformance/refs-doc.js';
import { loadTraceFile, type Trace } from '../src/conformance/trace.js';
import { DIVERGENCE_NAMES, divergenceFixture, type DivergenceName } from '../src/xen/divergences.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));

const traces = new Map<DivergenceName, Trace>();
for (const name of DIVERGENCE_NAMES) {
  const t = loadTraceFile(root(divergenceFixture(name)));
  if (E.isLeft(t)) {
    process.stderr.write(`${t.left.join('\n')}\n`);
    process.exit(2);
  }
  traces.set(name, t.right);
}

const outputs: [string, string][] = [
  [root('docs/xen-behaviour.md'), renderXenBehaviour()],
  [root('docs/divergences.md'), renderDivergencesMd(traces)],
  [root('docs/divergences.json'), renderDivergencesJson(traces)],
];

for (const [target, text] of outputs) {
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // a missing file is simply out of date
    }
    if (current !== text) {
      process.stderr.write(`${target} is out of date: run npm run docs:refs\n`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(target, text);
    process.stdout.write(`written ${target}\n`);
  }
}
