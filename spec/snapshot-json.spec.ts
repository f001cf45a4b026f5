/**
 * The direct canonical-JSON writer of snapshots (Machine.snapshotJson) is byte-identical to
 * JSON.stringify of the snapshot object (trace-format §5 canonical form) after every step of
 * random traces of both GIC versions, including pass-through and crashes' last states, and on
 * the Xen-recorded examples.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTrace } from '../src/conformance/gen.js';
import { Machine, TraceError } from '../src/machine/machine.js';
import { decodeOp } from '../src/machine/ops.js';

const XEN = fileURLToPath(new URL('../../fixtures/xen/', import.meta.url));

function build(config: unknown): Machine {
  const m = Machine.fromJson(config);
  if (E.isLeft(m)) throw new Error(m.left.join('; '));
  return m.right;
}

describe('snapshots: direct canonical JSON (Machine.snapshotJson)', () => {
  it('FORMAT §5: equals JSON.stringify(snapshot()) after every step of 300 random traces (seeds 1..300)', () => {
    let compared = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const t = generateTrace(seed, { steps: 60 });
      const m = build(t.config);
      expect(m.snapshotJson(), `seed ${seed} before any step`).to.equal(JSON.stringify(m.snapshot()));
      for (let i = 0; i < t.steps.length; i++) {
        const op = decodeOp(t.steps[i]);
        if (E.isLeft(op)) throw new Error(op.left.join('; '));
        const r = m.apply(op.right, i);
        if (r instanceof TraceError) throw new Error(`seed ${seed}: ${r.message}`);
        if (m.crashed !== null) break;
        expect(m.snapshotJson(), `seed ${seed} step ${i}`).to.equal(JSON.stringify(m.snapshot()));
        compared += 1;
      }
    }
    expect(compared).to.be.greaterThan(10_000);
  });

  it('FORMAT §8: equals JSON.stringify(snapshot()) after every step of the Xen-recorded examples', () => {
    for (const f of readdirSync(XEN).filter((x) => x.endsWith('.json'))) {
      const t = JSON.parse(readFileSync(join(XEN, f), 'utf8')) as { config: unknown; steps: unknown[] };
      const m = build(t.config);
      t.steps.forEach((s, i) => {
        const r = m.step(s, i);
        if (E.isLeft(r)) throw new Error(`${f}: ${r.left}`);
        expect(m.snapshotJson(), `${f} step ${i}`).to.equal(JSON.stringify(m.snapshot()));
      });
    }
  });

  it('FORMAT §10.3: equals JSON.stringify(snapshot()) after every step of the VMM fixtures (device domains before and after CTRL_INIT, dead, with an ITS)', () => {
    const dir = fileURLToPath(new URL('../../fixtures/vmm/', import.meta.url));
    let compared = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      const t = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { config: unknown; steps: unknown[] };
      const m = build(t.config);
      expect(m.snapshotJson(), `${f} before any step`).to.equal(JSON.stringify(m.snapshot()));
      t.steps.forEach((s, i) => {
        const r = m.step(s, i);
        if (E.isLeft(r)) throw new Error(`${f}: ${r.left}`);
        expect(m.snapshotJson(), `${f} step ${i}`).to.equal(JSON.stringify(m.snapshot()));
        compared += 1;
      });
    }
    expect(compared).to.be.greaterThan(200);
  });

  it('a 960-SPI, 8-vCPU domain with routed IRQs writes the same text both ways', () => {
    const m = build({ gic: 'v2', nr_lrs: 4, pcpus: 2, domains: [{ id: 3, vcpus: 8, nr_spis: 960, pirqs: [40, 41] }, { id: 1, vcpus: 1, nr_spis: 0 }] });
    expect(E.isRight(m.step({ op: 'route', domain: 3, virq: 40, pirq: 40 }, 0))).to.equal(true);
    expect(m.snapshotJson()).to.equal(JSON.stringify(m.snapshot()));
  });
});
