/**
 * The fast path of step decoding (decodeOpFast, trace-format §3) only ever accepts what the
 * io-ts codecs accept, and gives the same op: on random near-valid steps (right and wrong
 * types, missing, extra and inherited keys, out-of-range and over-long values) it is either
 * null (the codec decides) or deep-equal to the codec's result. Property tests print their
 * seed and path on failure; replay with FC_SEED / FC_PATH.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../src/machine/decode.js';
import { OP_CODECS, OP_NAMES, decodeOp, decodeOpFast } from '../src/machine/ops.js';
import { generateTrace } from '../src/conformance/gen.js';
import { runs } from './fc-replay.js';

const KEYS = [
  'pcpu', 'domain', 'vcpu', 'virq', 'level', 'pirq', 'access', 'addr', 'size', 'value', 'reg', 'intid', 'expect', 'extra', 'toString',
  'device', 'group', 'attr', 'type', 'test',
];

const anyValue = fc.oneof(
  fc.nat({ max: 300 }), fc.integer({ min: -5, max: 5 }), fc.constantFrom(0.5, 1e400, -0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 1, 2, 4, 8, 255, 256),
  fc.constant(null), fc.boolean(), fc.constantFrom('read', 'write', 'ICC_SGI1R_EL1', 'ICC_ASGI1R_EL1', 'ICC_SGI0R_EL1', 'x'),
  fc.constantFrom('ADDR', 'REDIST_REGS', 'MAINT_IRQ', 'addr', 'toString', 'v2', 'v3', 'its', 'V3'),
  fc.constantFrom('0x3001104', '0X1F', '0x', '0xg', '0x00000000000000000001', '0xffffffffffffffff', '0x10000000000000000', '0x0000ffffffffffffffff'),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 1, maxLength: 20 }).map((h) => `0x${h}`),
  fc.constant(undefined), fc.constant({}), fc.constant([]),
);

/** A step: a real op name (mostly), then any subset of the keys, with any values. */
const anyStep = fc.record({
  op: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...OP_NAMES) }, { weight: 1, arbitrary: anyValue }),
  fields: fc.dictionary(fc.constantFrom(...KEYS), anyValue, { maxKeys: 6 }),
}).map(({ op, fields }) => ({ op, ...fields }) as Record<string, unknown>);

function viaCodec(u: Record<string, unknown>): unknown {
  const name = u['op'] as keyof typeof OP_CODECS;
  const r = decodeWith(OP_CODECS[name], u, 'step');
  return E.isLeft(r) ? null : { op: name, ...(r.right as object) };
}

describe('step decoding: the fast path agrees with the io-ts codecs (trace-format §3)', () => {
  it('on random near-valid steps the fast path is null or equal to the codec result (20,000 runs)', () => {
    fc.assert(fc.property(anyStep, (u) => {
      const fast = decodeOpFast(u);
      if (fast === null) return;
      expect(typeof u['op'] === 'string' && (OP_NAMES as string[]).includes(u['op'])).to.equal(true);
      expect(fast).to.deep.equal(viaCodec(u));
      // and decodeOp (codec plus the write/read rule of §3.3) agrees too
      expect(decodeOp(u)).to.deep.equal(E.right(fast));
    }), runs(20_000));
  });

  it('trace-format §3.3: a write without a value, or a read with one, is left to decodeOp (and refused there)', () => {
    for (const u of [
      { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4 },
      { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001104', size: 4, value: '0x1' },
      { op: 'sysreg', pcpu: 0, access: 'write', reg: 'ICC_SGI1R_EL1' },
      { op: 'sysreg', pcpu: 0, access: 'read', reg: 'ICC_SGI1R_EL1', value: '0x1' },
    ]) {
      expect(decodeOpFast(u), JSON.stringify(u)).to.equal(null);
      expect(E.isLeft(decodeOp(u)), JSON.stringify(u)).to.equal(true);
    }
  });

  it('a key inherited from the prototype is not taken as an argument', () => {
    const proto = { pcpu: 0 };
    const u = Object.create(proto) as Record<string, unknown>;
    u['op'] = 'enter';
    expect(decodeOpFast(u)).to.equal(null);
    expect(E.isLeft(decodeOp(u))).to.equal(true);
  });

  it('takes every step of generated traces (the common case never reaches io-ts) and gives the codec result', () => {
    let n = 0;
    for (let seed = 1; seed <= 100; seed++) {
      for (const s of generateTrace(seed, { steps: 60, expect: 'results' }).steps) {
        const fast = decodeOpFast(s);
        expect(fast, JSON.stringify(s)).not.to.equal(null);
        expect(fast).to.deep.equal(viaCodec(s));
        n += 1;
      }
    }
    expect(n).to.be.greaterThan(5000);
  });

  it('error messages are the codec\'s: an over-long address, a wrong size, an unknown key', () => {
    expect(decodeOp({ op: 'mmio', pcpu: 0, access: 'read', addr: '0x30011040000000000', size: 4 })).to.deep.equal(
      E.left(['step.addr: too many hex digits: "0x30011040000000000" does not fit in 64 bits']));
    expect(decodeOp({ op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001104', size: 3 })).to.deep.equal(
      E.left(['step.size: expected 1 | 2 | 4 | 8, got 3']));
    expect(decodeOp({ op: 'enter', pcpu: 0, bogus: 1 })).to.deep.equal(E.left(['step.bogus: unknown key']));
  });
});
