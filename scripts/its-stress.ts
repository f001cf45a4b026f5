/**
 * Write fixtures/its/its-lpi-stress.json, the LPI stress scenario of src/testing/its-stress.ts
 * (KVM's vgic_lpi_stress in shape), by driving the model. `--check` only reports whether the
 * committed file is current (exit 1 when it is not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STRESS_FIXTURE, lpiStressTrace } from '../src/testing/its-stress.js';

const file = fileURLToPath(new URL('../../fixtures/its/its-lpi-stress.json', import.meta.url));
const text = `${JSON.stringify(lpiStressTrace(STRESS_FIXTURE), null, 1)}\n`;
if (process.argv.includes('--check')) {
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    // missing: stale
  }
  process.stdout.write(old === text ? `${file}: current\n` : `${file}: stale (run: node build/scripts/its-stress.js)\n`);
  process.exitCode = old === text ? 0 : 1;
} else {
  writeFileSync(file, text);
  process.stdout.write(`${file}: ${text.length} bytes\n`);
}
