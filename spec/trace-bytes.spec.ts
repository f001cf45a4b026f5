/**
 * The fast way to a decoded trace (src/conformance/trace-bytes.ts, what `vgic replay` reads):
 * for any bytes it answers what the careful way (UTF-8 text, parseJson, decodeTrace) answers,
 * or declines (null), and it declines whatever the careful way refuses, so that every message
 * still comes from the careful way.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTrace } from '../src/conformance/gen.js';
import { parseJson } from '../src/conformance/json.js';
import { MAX_JSON_DEPTH } from '../src/conformance/limits.js';
import { decodeTraceBytes } from '../src/conformance/trace-bytes.js';
import { decodeTrace, loadTraceFile, type Trace } from '../src/conformance/trace.js';
import { runs } from './fc-replay.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The careful way: the trace, or null when it is refused (for whatever reason). */
function careful(bytes: Uint8Array, name = 'x'): Trace | null {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return null;
  }
  const json = parseJson(text);
  if (E.isLeft(json)) return null;
  const t = decodeTrace(json.right, name);
  return E.isLeft(t) ? null : t.right;
}

function bytesOf(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** The property: the fast way answers null or what the careful way answers, and null when the careful way refuses. */
function agrees(bytes: Uint8Array): void {
  const fast = decodeTraceBytes(bytes, 'x');
  const slow = careful(bytes);
  if (slow === null) expect(fast, 'the careful way refuses it, the fast way must decline').to.equal(null);
  else if (fast !== null) expect(fast).to.deep.equal(slow);
}

/** The steady loop of the bench (inject k SPIs, enter, ack/eoi each, exit), `rounds` times, with a RESULT expectation every `every` steps. */
function loopTrace(rounds: number, every: number): Record<string, unknown> {
  const round: Record<string, unknown>[] = [];
  for (let k = 1; k <= 4; k++) {
    for (let i = 0; i < k; i++) round.push({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 32 + i });
    round.push({ op: 'enter', pcpu: 0 });
    for (let i = 0; i < k; i++) round.push({ op: 'ack', pcpu: 0 }, { op: 'eoi', pcpu: 0, intid: 32 + i });
    round.push({ op: 'exit', pcpu: 0 });
  }
  const steps: Record<string, unknown>[] = [
    { op: 'run', pcpu: 0, domain: 1, vcpu: 0 },
    { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4, value: '0xf' },
    { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001420', size: 4, value: '0xa0a0a0a0' },
    { op: 'enter', pcpu: 0 }, { op: 'pmr', pcpu: 0, value: 255 }, { op: 'exit', pcpu: 0 },
  ];
  for (let r = 0; r < rounds; r++) steps.push(...round);
  return {
    format: 'vgic-trace/1', name: 'loop', config: { gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] },
    steps: steps.map((s, i) => (every > 0 && i % every === every - 1 ? { ...s, expect: { result: { outcome: 'ok' } } } : s)),
  };
}

describe('decodeTraceBytes: trace files read straight from their bytes', () => {
  it('decodes every fixture (none is declined) to what the careful way decodes', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.length).to.be.greaterThan(40);
    for (const f of files) {
      const bytes = readFileSync(join(FIXTURES, f));
      const fast = decodeTraceBytes(bytes, f.replace(/\.json$/, ''));
      expect(fast, f).to.not.equal(null);
      expect(fast, f).to.deep.equal(careful(bytes, f.replace(/\.json$/, '')));
    }
  });

  it('property: random traces, with expectations (results or snapshots) and any layout, decode to what the careful way decodes', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom('none', 'results', 'snapshots'), fc.constantFrom(undefined, 1, 2, '\t', ' \r\n'),
      (seed, expectMode, indent) => {
        const t = generateTrace(seed, { steps: 40, expect: expectMode as 'none' | 'results' | 'snapshots' });
        const bytes = bytesOf(JSON.stringify(t, null, indent));
        const fast = decodeTraceBytes(bytes, 'x');
        expect(fast).to.not.equal(null);
        expect(fast).to.deep.equal(careful(bytes));
      },
    ), runs(60));
  });

  it('a trace that repeats itself (read in runs of equal bytes) decodes to what the careful way decodes, with a change anywhere in it', () => {
    const text = JSON.stringify(loopTrace(300, 997));
    const base = bytesOf(text);
    expect(decodeTraceBytes(base, 'x')).to.deep.equal(careful(base));
    // Change one step deep inside a repetition: other values, another op, another layout.
    const at = text.indexOf('{"op":"eoi","pcpu":0,"intid":33}', Math.floor(text.length * 0.7));
    const changes = ['{"op":"eoi","pcpu":0,"intid":34}', '{"op":"eoi", "pcpu":0,"intid":33}', '{"op":"dir","pcpu":0,"intid":33}', '{"intid":33,"op":"eoi","pcpu":0}'];
    for (const c of changes) {
      const changed = bytesOf(text.slice(0, at) + c + text.slice(at + '{"op":"eoi","pcpu":0,"intid":33}'.length));
      agrees(changed);
      expect(decodeTraceBytes(changed, 'x'), c).to.not.equal(null);
    }
    // A change that the careful way refuses, deep inside a repetition, is declined.
    const bad = bytesOf(`${text.slice(0, at)}{"op":"eoi","pcpu":0,"intid":33,"intid":33}${text.slice(at + '{"op":"eoi","pcpu":0,"intid":33}'.length)}`);
    expect(careful(bad)).to.equal(null);
    expect(decodeTraceBytes(bad, 'x')).to.equal(null);
  });

  it('steps written with the same bytes share one Step; others do not', () => {
    const t = decodeTraceBytes(bytesOf(JSON.stringify(loopTrace(20, 0))), 'x')!;
    const enters = t.steps.filter((s) => s.op.op === 'enter');
    expect(enters.length).to.be.greaterThan(20);
    expect(new Set(enters).size).to.equal(1);
    const eois = new Set(t.steps.filter((s) => s.op.op === 'eoi'));
    expect(eois.size).to.equal(4);
  });

  it('property: any change of bytes in a trace (a byte replaced, removed or inserted) gives what the careful way gives, or is declined', () => {
    const text = JSON.stringify(loopTrace(6, 17), null, 1);
    const plain = JSON.stringify(generateTrace(7, { steps: 30, expect: 'results' }));
    const chars = fc.constantFrom(...'{}[]",:\\ \n0123456789-+.eEtrufalsn_xX\u00e9\u0001'.split(''));
    fc.assert(fc.property(fc.constantFrom(text, plain), fc.nat(), fc.constantFrom('replace', 'remove', 'insert'), chars, (src, pos, how, ch) => {
      const at = pos % src.length;
      const changed = how === 'replace' ? src.slice(0, at) + ch + src.slice(at + 1) : how === 'remove' ? src.slice(0, at) + src.slice(at + 1) : src.slice(0, at) + ch + src.slice(at);
      agrees(bytesOf(changed));
    }), runs(1500));
  });

  it('declines what the strict JSON reader refuses, wherever it is', () => {
    const ok = '{"format":"vgic-trace/1","config":{"gic":"v3","nr_lrs":4,"pcpus":1,"domains":[{"id":1,"vcpus":1,"nr_spis":32}]},"steps":[STEPS]}';
    const step = '{"op":"enter","pcpu":0}';
    const cases = [
      '{"op":"enter","pcpu":0,"pcpu":0}', '{"op":"enter","pcpu":0,"__proto__":1}', '{"op":"enter","pcpu":1e400}', '{"op":"enter","pcpu":01}',
      '{"op":"enter","pcpu":0,}', '{"op":"enter" "pcpu":0}', '{"op":"ent\\qer","pcpu":0}', '{"op":"enter","pcpu":0,"expect":{"result":{"outcome":"ok","outcome":"ok"}}}',
      '{"op":"enter","pcpu":0,"\\u005f_proto__":1}', '"enter"', '{"op":"enter","pcpu":-1}', `{"op":"enter","pcpu":0,"expect":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`,
    ];
    for (const c of cases) {
      for (const steps of [c, `${step},${c}`, `${Array(50).fill(step).join(',')},${c},${step}`]) {
        const bytes = bytesOf(ok.replace('STEPS', steps));
        expect(careful(bytes), steps).to.equal(null);
        expect(decodeTraceBytes(bytes, 'x'), steps).to.equal(null);
      }
    }
    for (const whole of [`${ok.replace('STEPS', step)} x`, ok.replace('STEPS', step).replace('"format"', '"format":1,"format"'), ok.replace('STEPS', `${step},`), '', ' ', '[]']) {
      expect(careful(bytesOf(whole)), whole).to.equal(null);
      expect(decodeTraceBytes(bytesOf(whole), 'x'), whole).to.equal(null);
    }
  });

  it('vgic replay reads through it: loadTraceFile with shareSteps answers what it answers without', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vgic-trace-bytes-'));
    try {
      const file = join(dir, 'loop.json');
      writeFileSync(file, JSON.stringify(loopTrace(50, 101), null, 2));
      const shared = loadTraceFile(file, { shareSteps: true });
      expect(E.isRight(shared)).to.equal(true);
      expect(shared).to.deep.equal(loadTraceFile(file));
      writeFileSync(file, JSON.stringify(loopTrace(50, 101)).replace('"pcpu":0}', '"pcpu":0,"pcpu":0}'));
      const refused = loadTraceFile(file, { shareSteps: true });
      expect(refused).to.deep.equal(loadTraceFile(file));
      expect(E.isLeft(refused)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
