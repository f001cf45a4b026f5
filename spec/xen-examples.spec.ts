/**
 * The four traces of fixtures/xen/ were recorded from Xen's own vGIC code
 * (GICv3); every step carries the full RESULT and snapshot. The model must reproduce them
 * exactly, every step through Machine.step (docs/trace-format.md §8).
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/machine.js';

/** fixtures/xen/ at the project root (specs run from <outDir>/spec/). */
const EXAMPLES = fileURLToPath(new URL('../../fixtures/xen/', import.meta.url));

interface TraceStep {
  op: string;
  expect?: { result?: unknown; snapshot?: unknown };
}

describe('trace-format §8: traces recorded from Xen replay exactly', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();

  it('trace-format §8: there are four recorded traces to replay', () => {
    expect(files).to.have.length(4);
  });

  for (const file of files) {
    const trace = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as { name: string; refs: string[]; config: unknown; steps: TraceStep[] };
    it(`${trace.refs.join(', ')}: ${trace.name} matches Xen's RESULT and snapshot after every step`, () => {
      const created = Machine.fromJson(trace.config);
      if (E.isLeft(created)) throw new Error(created.left.join('\n'));
      const m = created.right;
      trace.steps.forEach((s, i) => {
        const r = m.step(s, i);
        if (E.isLeft(r)) throw new Error(r.left);
        const result = r.right;
        if (s.expect?.result !== undefined) expect(result, `steps[${i}].result`).to.deep.equal(s.expect.result);
        if (s.expect?.snapshot !== undefined) {
          // Canonical form: the serialisations must be byte-identical, key order included.
          expect(JSON.stringify(m.snapshot()), `steps[${i}].snapshot`).to.equal(JSON.stringify(s.expect.snapshot));
        }
      });
    });
  }
});
