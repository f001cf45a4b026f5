/**
 * `npm run docs:refs`: write docs/xen-behaviour.md from the reference-id table
 * (src/conformance/refs.ts). With `--check`, only report whether the committed file is
 * current (exit 1 when it is not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderXenBehaviour } from '../src/conformance/refs-doc.js';

const target = fileURLToPath(new URL('../../docs/xen-behaviour.md', import.meta.url));
const text = renderXenBehaviour();
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
