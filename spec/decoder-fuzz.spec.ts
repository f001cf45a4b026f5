/**
 * Decoder and protocol fuzz: fast-check-generated malformed configs, steps, traces and
 * protocol lines — wrong types, huge, negative and non-integer numbers, missing and extra
 * keys, deep nesting, text that is not JSON, unicode, very long strings — through the real
 * decoders (decodeConfig, Machine.step, decodeTrace, the byte fast path decodeTraceBytes,
 * parseJson) and through `vgic serve` (its Server in-process, and a few through the real
 * process). Every input must get a clean answer: an Either (Left naming a JSON path, or
 * Right), an ok:false response naming what is wrong, exit status 2 with a message; never an
 * exception, and never a changed machine after a refused step.
 *
 * Bounded in `npm test` (DECODER_FUZZ_RUNS runs per property, default 200); the seed is
 * fixed (DECODER_FUZZ_SEED, or FC_SEED to replay a failure) and printed.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseJson } from '../src/conformance/json.js';
import { Server } from '../src/conformance/protocol.js';
import { decodeTrace } from '../src/conformance/trace.js';
import { decodeTraceBytes } from '../src/conformance/trace-bytes.js';
import { decodeConfig } from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RUNS = Number(process.env['DECODER_FUZZ_RUNS'] ?? 200);
const SEED = Number(process.env['FC_SEED'] ?? process.env['DECODER_FUZZ_SEED'] ?? 0x14dec0de);
const PARAMS = { numRuns: RUNS, seed: SEED, ...(process.env['FC_PATH'] !== undefined ? { path: process.env['FC_PATH'] } : {}) };

/** Inputs tried, and how many of them were accepted (the rest were clean refusals). */
const tally = { inputs: 0, accepted: 0 };

type Json = unknown;

const BASE_CONFIG: Record<string, Json> = {
  gic: 'v3', nr_lrs: 4, pcpus: 2,
  domains: [
    { id: 1, vcpus: 2, nr_spis: 64, pirqs: [64], its: { base: '0x8000000', devid_bits: 8, evid_bits: 8 }, ram: [{ base: '0x40000000', size: '0x100000' }] },
    { id: 2, vcpus: 1, nr_spis: 32 },
  ],
};

const VALID_STEPS: Record<string, Json>[] = [
  { op: 'run', pcpu: 0, domain: 1, vcpu: 0 },
  { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001100', size: 4, value: '0xff' },
  { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001000', size: 4 },
  { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40 },
  { op: 'inject', pcpu: 1, domain: 1, vcpu: 1, virq: 3, level: true },
  { op: 'route', domain: 1, virq: 40, pirq: 64 },
  { op: 'sysreg', pcpu: 0, access: 'write', reg: 'ICC_SGI1R_EL1', value: '0x1' },
  { op: 'mem_write', domain: 1, addr: '0x40000000', size: 8, value: '0x1' },
  { op: 'msi', pcpu: 1, domain: 1, devid: 0, eventid: 0 },
  { op: 'enter', pcpu: 0 },
  { op: 'pmr', pcpu: 0, value: 255 },
  { op: 'vcpu_off', domain: 2, vcpu: 0 },
];

/** Values of every kind a decoder may be handed where it expects something else. */
const badValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    -1, -0, 0.5, 1e300, -1e300, 2 ** 53, 2 ** 64, Number.MAX_SAFE_INTEGER + 2, 4294967296, 1023, 1024, 65536,
    '', ' ', '0x', '0x-1', '0xfffffffffffffffffffffffffffff', '1', 'v4', 'read ', 'WRITE', '\u0000', '\u202e', '𝕍𝔾𝕀ℂ',
    true, false, null, [], {}, [null], { op: 'run' }, '__proto__', 'constructor',
  ),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ minLength: 2000, maxLength: 5000 }).map((s) => `0x${s}`),
  fc.integer({ min: 60, max: 90 }).map((n) => nest(n)),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A value nested `n` levels deep (the limit is 64). */
function nest(n: number): Json {
  let v: Json = 1;
  for (let i = 0; i < n; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

/** One edit of a JSON value at a random place: replace a value, drop or add a key, wrap it, or (for an array) drop an element. */
interface Edit { path: number[]; kind: 'replace' | 'drop' | 'extra' | 'wrap'; value: Json; key: string }

const arbEdit: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.nat(), { maxLength: 4 }),
  kind: fc.constantFrom('replace', 'drop', 'extra', 'wrap') as fc.Arbitrary<Edit['kind']>,
  value: badValue,
  key: fc.oneof(fc.constantFrom('op', 'pcpu', 'expect', 'level', 'gic', 'id', 'config', 'steps', '__proto__', 'extra'), fc.string({ maxLength: 8 })),
});

function clone(v: Json): Json {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v)) as Json;
}

/** Apply edits to a copy of `v`: walk `path` (indexes into keys or elements, modulo their count) and edit there. */
function applyEdits(v: Json, edits: readonly Edit[]): Json {
  let root = clone(v);
  for (const edit of edits) {
    // (each inserted value is a copy: a value inserted twice must not become a cycle)
    const e = { ...edit, value: clone(edit.value) };
    if (e.path.length === 0 && e.kind === 'replace') {
      root = e.value;
      continue;
    }
    let parent: Json = null;
    let at: string | number | null = null;
    let cur: Json = root;
    for (const i of e.path) {
      if (Array.isArray(cur) && cur.length > 0) {
        parent = cur; at = i % cur.length; cur = cur[at];
      } else if (typeof cur === 'object' && cur !== null && Object.keys(cur).length > 0) {
        const keys = Object.keys(cur);
        parent = cur; at = keys[i % keys.length]!; cur = (cur as Record<string, Json>)[at];
      } else break;
    }
    const target = (parent ?? root) as Record<string | number, Json> | Json[];
    if (parent === null || at === null) {
      if (typeof root === 'object' && root !== null && !Array.isArray(root)) {
        if (e.kind === 'extra') (root as Record<string, Json>)[e.key] = e.value;
        else if (e.kind === 'drop') delete (root as Record<string, Json>)[Object.keys(root)[0] ?? ''];
        else if (e.kind === 'wrap') root = [root];
      }
      continue;
    }
    switch (e.kind) {
      case 'replace': (target as Record<string | number, Json>)[at] = e.value; break;
      case 'drop':
        if (Array.isArray(target)) target.splice(at as number, 1);
        else delete (target as Record<string, Json>)[at];
        break;
      case 'extra':
        if (typeof cur === 'object' && cur !== null && !Array.isArray(cur)) (cur as Record<string, Json>)[e.key] = e.value;
        else if (Array.isArray(cur)) cur.push(e.value);
        else (target as Record<string | number, Json>)[at] = e.value;
        break;
      case 'wrap': (target as Record<string | number, Json>)[at] = [cur]; break;
    }
  }
  return root;
}

const arbEdits = fc.array(arbEdit, { minLength: 1, maxLength: 3 });

/** A Left's lines each name a path under `base` (or the step) and carry no stack trace. */
function cleanLines(lines: readonly string[], base: RegExp): void {
  expect(lines.length, 'a Left says something').to.be.greaterThan(0);
  for (const l of lines) {
    expect(l, 'names where').to.match(base);
    expect(l, 'no stack trace').to.not.match(/\n\s+at /);
  }
}

function machine(): Machine {
  const m = Machine.fromJson(BASE_CONFIG);
  if (E.isLeft(m)) throw new Error(m.left.join('; '));
  return m.right;
}

/** Text edits: a JSON text with characters dropped, inserted or replaced. */
const arbTextEdit = fc.array(fc.record({ at: fc.nat(), drop: fc.nat({ max: 3 }), insert: fc.oneof(fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\\', '-', '1e999', '\u0000', '\ud800', '__proto__'), fc.string({ maxLength: 4 })) }), { minLength: 1, maxLength: 3 });

function editText(text: string, edits: readonly { at: number; drop: number; insert: string }[]): string {
  let t = text;
  for (const e of edits) {
    const i = e.at % (t.length + 1);
    t = t.slice(0, i) + e.insert + t.slice(i + e.drop);
  }
  return t;
}

describe(`decoder and protocol fuzz (${RUNS} runs per property, seed ${SEED}; DECODER_FUZZ_RUNS, DECODER_FUZZ_SEED)`, function () {
  this.timeout(600_000);
  before(() => {
    console.log(`      decoder fuzz: seed ${SEED} (replay with FC_SEED=${SEED}), ${RUNS} runs per property`);
  });

  it('decodeConfig: a mangled config is refused with JSON paths under config, or accepted and buildable', () => {
    fc.assert(fc.property(arbEdits, (edits) => {
      const u = applyEdits(BASE_CONFIG, edits);
      tally.inputs += 1;
      const r = decodeConfig(u, 'config');
      if (E.isLeft(r)) cleanLines(r.left, /^config/);
      else {
        tally.accepted += 1;
        Machine.build(r.right);
      }
    }), PARAMS);
  });

  it('Machine.step: a mangled step is refused naming the step (and changes nothing), or applied', () => {
    fc.assert(fc.property(fc.nat({ max: VALID_STEPS.length - 1 }), arbEdits, fc.nat({ max: 3 }), (which, edits, warm) => {
      const m = machine();
      // A few valid steps first, so that refusals meet a machine with state.
      for (let i = 0; i < warm; i++) m.step(VALID_STEPS[i]!, i);
      const u = applyEdits(VALID_STEPS[which]!, edits);
      const before = m.crashed === null ? m.snapshotJson() : null;
      tally.inputs += 1;
      const r = m.step(u, 7);
      if (E.isLeft(r)) {
        cleanLines([r.left], /^step 7\b/);
        if (before !== null) expect(m.snapshotJson(), 'a refused step changes nothing').to.equal(before);
      } else tally.accepted += 1;
    }), PARAMS);
  });

  it('traces: a mangled trace, as a value, as text and as bytes, is decoded alike by parseJson + decodeTrace and the byte fast path, or refused with paths', () => {
    const base = { format: 'vgic-trace/1', name: 'fuzz', description: 'x', refs: ['Q1'], config: BASE_CONFIG, steps: VALID_STEPS.map((s, i) => (i === 3 ? { ...s, expect: { result: { outcome: 'ok' } } } : s)) };
    fc.assert(fc.property(arbEdits, fc.option(arbTextEdit, { nil: undefined }), (edits, textEdits) => {
      const u = applyEdits(base, edits);
      let text = JSON.stringify(u) ?? 'undefined';
      if (textEdits !== undefined) text = editText(text, textEdits);
      // A file holds bytes: both paths read the same UTF-8 (a lone surrogate becomes U+FFFD).
      const bytes = new TextEncoder().encode(text);
      text = new TextDecoder().decode(bytes);
      tally.inputs += 1;
      const parsed = parseJson(text);
      let careful: E.Either<string[], unknown>;
      if (E.isLeft(parsed)) {
        expect(parsed.left.message, 'a JSON error says what and where').to.be.a('string').and.not.equal('');
        careful = E.left([parsed.left.message]);
      } else {
        careful = decodeTrace(parsed.right, 'fallback');
        if (E.isLeft(careful)) cleanLines(careful.left, /: /); // a path (any key, even " ") then what is wrong
      }
      const fast = decodeTraceBytes(bytes, 'fallback');
      // The fast path answers exactly what the careful one would, or declines (null).
      if (fast !== null) {
        expect(E.isRight(careful), 'the byte fast path accepts only what the careful path accepts').to.equal(true);
        const c = (careful as E.Right<{ name: string; steps: unknown[] }>).right;
        expect(fast.name).to.equal(c.name);
        expect(fast.steps.length).to.equal(c.steps.length);
      }
      if (E.isRight(careful)) tally.accepted += 1;
    }), PARAMS);
  });

  it('parseJson: any text (unicode, control characters, long strings, deep nesting) is parsed or refused, never thrown', () => {
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.jsonValue({ maxDepth: 4 }).chain((v) => arbTextEdit.map((e) => editText(JSON.stringify(v), e))),
      fc.integer({ min: 50, max: 200 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
      fc.integer({ min: 10_000, max: 100_000 }).map((n) => `"${'a'.repeat(n)}"`),
    );
    fc.assert(fc.property(text, (t) => {
      tally.inputs += 1;
      const r = parseJson(t);
      if (E.isRight(r)) tally.accepted += 1;
      else expect(r.left.message).to.be.a('string').and.not.equal('');
    }), PARAMS);
  });

  it('vgic serve (in-process Server): every request line is answered with one JSON line; malformed ones end the session with 2, a refused step changes nothing', () => {
    const requests: fc.Arbitrary<string> = fc.oneof(
      // Envelopes with the wrong shape.
      fc.tuple(fc.constantFrom('hello', 'reset', 'step', 'snapshot', 'quit', 'reboot', ''), badValue, arbEdits).map(([cmd, id, edits]) => JSON.stringify(applyEdits({ id: 1, cmd, ...(cmd === 'step' ? { step: VALID_STEPS[1] } : cmd === 'reset' ? { config: BASE_CONFIG } : {}) }, edits.map((e) => ({ ...e, value: e.kind === 'replace' ? id : e.value }))))),
      // Well-formed envelopes with a mangled payload.
      arbEdits.map((edits) => JSON.stringify({ id: 'x', cmd: 'step', step: applyEdits(VALID_STEPS[3]!, edits) })),
      arbEdits.map((edits) => JSON.stringify({ id: 2, cmd: 'reset', config: applyEdits(BASE_CONFIG, edits) })),
      // Text that is not JSON, or not quite.
      fc.string({ maxLength: 100 }),
      arbTextEdit.map((e) => editText('{"id":3,"cmd":"step","step":{"op":"enter","pcpu":0}}', e)),
    );
    fc.assert(fc.property(fc.array(requests, { minLength: 1, maxLength: 4 }), (lines) => {
      const server = new Server();
      server.handle(JSON.stringify({ id: 0, cmd: 'reset', config: BASE_CONFIG }));
      server.handle(JSON.stringify({ id: 0, cmd: 'step', step: VALID_STEPS[0] }));
      for (const line of lines) {
        tally.inputs += 1;
        const snapBefore = server.handle('{"id":9,"cmd":"snapshot"}').line;
        const reply = server.handle(line);
        const answer = JSON.parse(reply.line) as { ok: boolean; error?: string };
        expect(typeof answer.ok).to.equal('boolean');
        if (!answer.ok) {
          expect(answer.error, 'an ok:false answer says why').to.be.a('string').and.not.equal('');
          expect(answer.error).to.not.match(/\n\s+at /);
          const stepLike = /"cmd":"step"/.test(line);
          if (reply.exit === undefined && stepLike) {
            expect(server.handle('{"id":9,"cmd":"snapshot"}').line, 'a refused step changes nothing').to.equal(snapBefore);
          }
        } else tally.accepted += 1;
        if (reply.exit !== undefined) {
          expect([0, 2]).to.include(reply.exit);
          if (reply.exit === 2) expect(answer.ok).to.equal(false);
          break;
        }
      }
    }), PARAMS);
  });

  it('vgic serve (the real process): malformed lines get ok:false naming the problem and exit status 2, no stack trace', () => {
    const cases: [string, RegExp][] = [
      ['{"id":1,"cmd":"step","step":{"op":"enter","pcpu":0}', /not valid JSON/],
      [`{"id":1,"cmd":"reset","config":${JSON.stringify(nest(80))}}`, /nesting|deep|depth/i],
      ['{"id":1,"cmd":"hello","extra":1}', /extra|unknown key/],
      ['{"id":[],"cmd":"hello"}', /request\.id/],
      ['{"id":1,"cmd":"step","step":{"op":"enter","pcpu":1e400}}', /out of range/],
      ['{"id":1,"cmd":"h\u00e9llo"}', /request\.cmd/],
    ];
    for (const [line, why] of cases) {
      tally.inputs += 1;
      const r = spawnSync(process.execPath, [MAIN, 'serve'], { input: `${line}\n{"id":2,"cmd":"hello"}\n`, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, line).to.equal(2);
      const out = r.stdout.trim().split('\n');
      expect(out.length, 'one answer, then the session ends').to.equal(1);
      const a = JSON.parse(out[0]!) as { ok: boolean; error: string };
      expect(a.ok).to.equal(false);
      expect(a.error, line).to.match(why);
      expect(r.stderr).to.not.match(/\n\s+at /);
    }
    // A bad config and a refused step are ordinary answers: the session goes on.
    const r = spawnSync(process.execPath, [MAIN, 'serve'], {
      input: `{"id":1,"cmd":"reset","config":{"gic":"v3","nr_lrs":-1,"pcpus":1,"domains":[]}}\n{"id":2,"cmd":"reset","config":${JSON.stringify(BASE_CONFIG)}}\n{"id":3,"cmd":"step","step":{"op":"enter","pcpu":5}}\n{"id":4,"cmd":"quit"}\n`,
      encoding: 'utf8', timeout: 60_000,
    });
    tally.inputs += 2;
    expect(r.status).to.equal(0);
    const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; error?: string });
    expect(answers.map((a) => a.ok)).to.deep.equal([false, true, false, true]);
    expect(answers[0]!.error).to.match(/config\.nr_lrs/);
    expect(answers[2]!.error).to.match(/^step 0 \(enter\): pCPU 5 does not exist/);
  });

  after(() => {
    console.log(`      decoder fuzz: ${tally.inputs} inputs, every one a clean answer (${tally.inputs - tally.accepted} refused, ${tally.accepted} accepted), no exception`);
  });
});
