/**
 * The strict JSON reader (src/conformance/json.ts), the line reader of the driver protocol
 * (src/conformance/lines.ts), control-character escaping and the 64-bit hex codec: what the
 * input limits of src/conformance/limits.ts mean at the unit level.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { parseJson, jsonErrorText, type JsonError } from '../src/conformance/json.js';
import { LineReader } from '../src/conformance/lines.js';
import { MAX_CONFIG_IRQ_RECORDS, MAX_JSON_DEPTH, formatBytes } from '../src/conformance/limits.js';
import { decodeConfig } from '../src/machine/config.js';
import { HexString, decodeWith, escapeControl, hexString } from '../src/machine/decode.js';
import { runs } from './fc-replay.js';

const RUNS = runs(300);

function ok(text: string): unknown {
  const r = parseJson(text);
  if (E.isLeft(r)) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${r.left.message}`);
  return r.right;
}

function refused(text: string, base?: string): JsonError {
  const r = parseJson(text, base === undefined ? {} : { base });
  if (E.isRight(r)) throw new Error(`expected ${JSON.stringify(text)} to be refused`);
  return r.left;
}

describe('parseJson: a strict JSON reader', () => {
  describe('accepts what JSON.parse accepts, with the same value', () => {
    it('property: any JSON value (within the depth limit, no __proto__ key) parses to what JSON.parse gives, pretty-printed or not', () => {
      const value = fc.jsonValue({ maxDepth: 8 }).filter((v) => !JSON.stringify(v).includes('"__proto__"'));
      fc.assert(fc.property(value, fc.boolean(), (v, pretty) => {
        const text = JSON.stringify(v, null, pretty ? 2 : undefined);
        expect(ok(text)).to.deep.equal(JSON.parse(text));
      }), RUNS);
    });

    it('escapes, surrogate pairs, exponents, -0 and big integers read as JSON.parse reads them (slow path included)', () => {
      for (const text of ['"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0041\\ud83d\\ude00"', '1E+2', '-0.5e-3', '123456789012345678901234567890', '[true,false,null]', '{"k\\u0041":1}', ' {} ']) {
        expect(ok(text)).to.deep.equal(JSON.parse(text));
      }
    });

    it(`nesting of exactly ${MAX_JSON_DEPTH} levels is accepted`, () => {
      expect(ok(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).to.be.an('array');
    });

    it('keys named after Object.prototype members are ordinary own keys', () => {
      expect(ok('{"constructor":1,"toString":2,"hasOwnProperty":3}')).to.deep.equal({ constructor: 1, toString: 2, hasOwnProperty: 3 });
    });
  });

  describe('refuses, naming the JSON path and line:column', () => {
    it('a duplicate key: the path of the key and the place of its second occurrence', () => {
      expect(refused('{"steps":[{"op":1},\n {"expect":1, "expect":2}]}')).to.deep.equal({
        syntax: false, message: 'steps[1].expect: duplicate key (each key may appear only once in an object) (line 2 column 15)',
      });
    });

    it('a duplicate key spelled with an escape is still a duplicate', () => {
      expect(refused('{"a":1,"\\u0061":"x"}').message).to.match(/^a: duplicate key/);
    });

    it('the key __proto__, also when spelled with escapes', () => {
      expect(refused('{"x":{"__proto__":{}}}').message).to.equal('x.__proto__: the key "__proto__" is not allowed in JSON input (line 1 column 7)');
      expect(refused('{"\\u005f_proto__":1}').message).to.match(/^__proto__: the key "__proto__" is not allowed/);
    });

    it('a number that overflows to Infinity (1e400, -1e400, 400 digits) is "number out of range", with the request base path', () => {
      expect(refused('{"id":1e400}', 'request').message).to.equal('request.id: number out of range: 1e400 is beyond the largest number a double holds (about 1.8e308) (line 1 column 7)');
      expect(refused('[-1e400]').message).to.match(/^\[0\]: number out of range: -1e400/);
      expect(refused(`[${'9'.repeat(400)}]`).message).to.match(/^\[0\]: number out of range: 9{37}\.\.\. /);
    });

    it(`nesting deeper than ${MAX_JSON_DEPTH} levels, even 100000 deep: the path where the limit is crossed`, () => {
      const e = refused(`{"a":${'['.repeat(100000)}${']'.repeat(100000)}}`);
      expect(e.syntax).to.equal(false);
      expect(e.message).to.equal(`a${'[0]'.repeat(MAX_JSON_DEPTH - 1)}: nested deeper than 64 levels of arrays and objects, the limit for JSON input (line 1 column 69)`);
    });

    it('a UTF-8 byte order mark is named as such', () => {
      expect(jsonErrorText(refused('\ufeff{}'))).to.match(/^not valid JSON: the text starts with a UTF-8 byte order mark/);
    });

    it('syntax errors say what and where (line:column), keep the "not valid JSON" prefix and stay on one line', () => {
      const cases: [string, string][] = [
        ['', 'no JSON value (the text is empty)'],
        ['{"a":[1,2,}', 'unexpected character "}" at line 1 column 11'],
        ['{\n  "a" 1}', 'unexpected character "1" (expected ":" after a key) at line 2 column 7'],
        ['"abc', 'unexpected end of input (a string is not closed) at line 1 column 5'],
        ['"a\u001bb"', 'unexpected character "\\u001b" in a string (control characters must be escaped) at line 1 column 3'],
        ['"\\x"', 'unexpected character "x" (not a JSON escape) at line 1 column 3'],
        ['trace:\n  x', 'unexpected character "a" at line 1 column 3'],
        ['01', 'unexpected character "1" after the JSON value at line 1 column 2'],
        ['1.', 'unexpected end of input (expected a digit after ".") at line 1 column 3'],
        ['{"a":1 "b":2}', 'unexpected character "\\"" (expected "," or "}" in an object) at line 1 column 8'],
        ["{'a':1}", 'unexpected character "\'" (expected a key in double quotes) at line 1 column 2'],
      ];
      for (const [text, message] of cases) {
        const e = refused(text);
        expect(e, text).to.deep.equal({ syntax: true, message });
        expect(jsonErrorText(e)).to.equal(`not valid JSON: ${message}`);
        expect(jsonErrorText(e)).not.to.contain('\n');
      }
    });

    it('property: whatever JSON.parse refuses, parseJson refuses too (never a throw)', () => {
      fc.assert(fc.property(fc.string({ maxLength: 30 }), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const r = parseJson(text);
        if (!valid) expect(E.isLeft(r)).to.equal(true);
      }), RUNS);
    });
  });
});

describe('LineReader: lines with a length cap', () => {
  it('splits chunks into lines across chunk boundaries, strips \\r, gives a last line without newline at the end', () => {
    const r = new LineReader(100);
    expect(r.push(Buffer.from('ab'))).to.deep.equal([]);
    expect(r.push(Buffer.from('c\r\nd\n\ne'))).to.deep.equal([{ line: 'abc' }, { line: 'd' }, { line: '' }]);
    expect(r.end()).to.deep.equal([{ line: 'e' }]);
  });

  it('reports a line longer than the cap as soon as it is crossed, then ignores everything', () => {
    const r = new LineReader(10);
    expect(r.push(Buffer.from('ok\n0123456789'))).to.deep.equal([{ line: 'ok' }]);
    expect(r.push(Buffer.from('x'))).to.deep.equal([{ tooLong: true }]);
    expect(r.push(Buffer.from('\n{"id":1}\n'))).to.deep.equal([]);
    expect(r.end()).to.deep.equal([]);
  });

  it('a line of exactly the cap is accepted; multi-byte UTF-8 split across chunks is decoded whole', () => {
    const r = new LineReader(4);
    const euro = Buffer.from('€x\n');
    expect(r.push(euro.subarray(0, 2))).to.deep.equal([]);
    expect(r.push(euro.subarray(2))).to.deep.equal([{ line: '€x' }]);
  });
});

describe('escapeControl: input text echoed in reports', () => {
  it('escapes C0, DEL and C1 characters (newline as \\n, ESC as \\u001b), leaves other text alone', () => {
    expect(escapeControl('x\u001b[32m PASS\nfake')).to.equal('x\\u001b[32m PASS\\nfake');
    expect(escapeControl('a\tb\rc\u007f\u009bd')).to.equal('a\\tb\\rc\\u007f\\u009bd');
    expect(escapeControl('plain: é € 😀')).to.equal('plain: é € 😀');
  });

  it('property: the result has no control character and no line break', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
      expect(escapeControl(s)).not.to.match(/[\u0000-\u001f\u007f-\u009f]/);
    }), RUNS);
  });
});

describe('hex fields: "too many hex digits" is not "not a hex string"', () => {
  it('a 64-bit field takes 16 significant digits (leading zeros free), refuses 17 naming the width', () => {
    expect(HexString.decode(`0x000${'f'.repeat(16)}`)).to.deep.equal(E.right(2n ** 64n - 1n));
    expect(decodeWith(HexString, '0x10000000000000000', 'steps[1].addr')).to.deep.equal(
      E.left(['steps[1].addr: too many hex digits: "0x10000000000000000" does not fit in 64 bits']));
    expect(decodeWith(HexString, '0x1g', 'steps[1].addr')).to.deep.equal(E.left(['steps[1].addr: expected hex string, got "0x1g"']));
  });

  it('a megabyte of hex digits is refused without building its value, and the message stays short', () => {
    const r = decodeWith(hexString(8), `0x${'1'.repeat(1 << 20)}`, 'v');
    expect(E.isLeft(r) && r.left[0]!.length).to.be.below(120);
    expect(decodeWith(hexString(8), '0x100', 'v')).to.deep.equal(E.left(['v: too many hex digits: "0x100" does not fit in 8 bits']));
  });
});

describe('config state budget (src/conformance/limits.ts)', () => {
  const domains = (list: [number, number][]): unknown => ({
    gic: 'v3', nr_lrs: 4, pcpus: 1, domains: list.map(([vcpus, nr_spis], id) => ({ id, vcpus, nr_spis })),
  });
  const atBudget: [number, number][] = [...Array.from({ length: 31 }, (): [number, number] => [128, 0]), [127, 32]];

  it(`exactly ${MAX_CONFIG_IRQ_RECORDS} interrupt records (31 × 32 × 128 + 32 × 127 + 32) is accepted`, () => {
    expect(E.isRight(decodeConfig(domains(atBudget)))).to.equal(true);
  });

  it('one SPI more is a whole rank more (32 records, what is allocated): refused with the total, the formula and the budget', () => {
    const over = atBudget.map(([v, s], i): [number, number] => (i === 31 ? [v, s + 1] : [v, s]));
    expect(decodeConfig(domains(over))).to.deep.equal(E.left([
      `config.domains: ${MAX_CONFIG_IRQ_RECORDS + 32} interrupt records in all (the sum over domains of 32 × vcpus + nr_spis rounded up to 32), above the state budget of ${MAX_CONFIG_IRQ_RECORDS} for a config`,
    ]));
  });

  it('formatBytes names whole MiB and falls back to bytes', () => {
    expect(formatBytes(16 * 1024 * 1024)).to.equal('16 MiB');
    expect(formatBytes(1000)).to.equal('1000 bytes');
  });
});
