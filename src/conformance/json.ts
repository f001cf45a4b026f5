/**
 * A strict JSON reader (RFC 8259) for everything that comes from outside: trace files,
 * `vgic serve` requests and the responses of another implementation.
 *
 * Unlike `JSON.parse` it refuses what would otherwise be lost or misread silently: a key that
 * appears twice in one object (the first value would be dropped), the key `__proto__`, a
 * number that overflows to ±Infinity (`1e400`), a leading byte order mark; and it bounds the
 * nesting of arrays and objects, so that deep input is an error message and not a native
 * stack overflow. Problems come back as values (never thrown): syntax errors with line and
 * column, the others with the JSON path of the place (`steps[3].expect`) as well.
 */
import * as E from 'fp-ts/lib/Either.js';
import { escapeControl } from '../machine/decode.js';
import { MAX_JSON_DEPTH } from './limits.js';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, DIGIT_0, DIGIT_1, DIGIT_9, DOT, MINUS, OPEN_BRACE, OPEN_BRACKET, PLUS, QUOTE, isDigit } from './chars.js';

/** Why a text was refused. `syntax`: not JSON at all; otherwise JSON we do not accept. */
export interface JsonError {
  syntax: boolean;
  /** For a syntax error: what and where (`unexpected character "}" at line 3 column 5`); else path, what, where. */
  message: string;
}

export interface JsonOptions {
  /** Deepest nesting of arrays and objects (default MAX_JSON_DEPTH). */
  maxDepth?: number;
  /** Path prefix of the top-level value in messages (`request` gives `request.step.op`). */
  base?: string;
}

/** The message for a refused text; syntax errors get `prefix` (`not valid JSON: ...`). */
export function jsonErrorText(e: JsonError, prefix = 'not valid JSON'): string {
  return e.syntax ? `${prefix}: ${e.message}` : e.message;
}

/**
 * Parse `text` as one JSON value. Objects are ordinary objects; arrays, strings, numbers,
 * booleans and null as usual.
 *
 * Two ways to the same answer. The fast one: a scan that checks depth, `__proto__` keys and
 * number ranges and counts the keys, then the engine's native `JSON.parse`, then a count of the
 * keys it kept (fewer than scanned: a key was repeated). When any of that finds a problem, the
 * careful one, a parser of our own, reads the text again and says what is wrong and where.
 */
export function parseJson(text: string, opts: JsonOptions = {}): E.Either<JsonError, unknown> {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const keys = scan(text, maxDepth);
  if (keys >= 0) {
    let v: unknown;
    let parsed = true;
    try {
      v = JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (parsed && countKeys(v) === keys) return E.right(v);
  }
  return new Parser(text, maxDepth, opts.base ?? '').parseAll();
}

/**
 * The keys of `text` (counted where a key can be), or -1 when the text must go to the careful
 * parser: nested deeper than `maxDepth`, a `__proto__` key, a number that overflows, a byte
 * order mark, an unclosed string. Exact for valid JSON; for anything else `JSON.parse` fails.
 */
function scan(s: string, maxDepth: number): number {
  const n = s.length;
  if (s.charCodeAt(0) === 0xfeff) return -1;
  const inObject: boolean[] = [];
  let depth = 0;
  let keys = 0;
  let keyNext = false;
  let p = 0;
  while (p < n) {
    const c = s.charCodeAt(p);
    if (c === QUOTE) {
      let q = s.indexOf('"', p + 1);
      for (;;) {
        if (q < 0) return -1;
        let b = q - 1;
        while (s.charCodeAt(b) === BACKSLASH) b--;
        if ((q - 1 - b) % 2 === 0) break;
        q = s.indexOf('"', q + 1);
      }
      if (keyNext) {
        keys += 1;
        keyNext = false;
        if (q - p === 10 && s.startsWith('__proto__', p + 1)) return -1;
        // An escaped key may spell __proto__: the careful parser decodes it.
        for (let k = p + 1; k < q; k++) if (s.charCodeAt(k) === BACKSLASH) return -1;
      }
      p = q + 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth >= maxDepth) return -1;
      keyNext = c === OPEN_BRACE;
      inObject[depth++] = keyNext;
      p++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
      keyNext = false;
      p++;
    } else if (c === COMMA) {
      keyNext = depth > 0 && inObject[depth - 1] === true;
      p++;
    } else if (c === MINUS || isDigit(c)) {
      const start = p;
      let exponent = false;
      for (;;) {
        p++;
        const d = s.charCodeAt(p);
        if (d === 0x65 || d === 0x45) exponent = true;
        else if (!(isDigit(d) || d === DOT || d === PLUS || d === MINUS)) break;
      }
      if ((exponent || p - start > 300) && !Number.isFinite(Number(s.slice(start, p)))) return -1;
    } else {
      p++;
    }
  }
  return keys;
}

/** Own keys of every object in a parsed value. */
function countKeys(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'object' && x !== null) n += countKeys(x);
    }
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    n += 1;
    const x = o[k];
    if (typeof x === 'object' && x !== null) n += countKeys(x);
  }
  return n;
}

const SIMPLE_ESCAPES: Record<number, string> = {
  0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t',
};

const HEX4 = /^[0-9a-fA-F]{4}$/;

class Parser {
  private pos = 0;
  private depth = 0;
  /** The path to the value being read: keys and array indices. */
  private readonly segs: (string | number)[] = [];
  private err: JsonError | null = null;

  constructor(private readonly s: string, private readonly maxDepth: number, private readonly base: string) {}

  parseAll(): E.Either<JsonError, unknown> {
    const s = this.s;
    if (s.charCodeAt(0) === 0xfeff) {
      return E.left({ syntax: true, message: 'the text starts with a UTF-8 byte order mark (bytes EF BB BF), which JSON input must not have; save it as UTF-8 without a BOM' });
    }
    this.skipWs();
    if (this.pos >= s.length) return E.left({ syntax: true, message: 'no JSON value (the text is empty)' });
    const v = this.value();
    if (this.err !== null) return E.left(this.err);
    this.skipWs();
    if (this.pos < s.length) return E.left(this.syntaxError(this.pos, 'after the JSON value'));
    return E.right(v);
  }

  // ----- errors -----

  private where(at: number): string {
    let line = 1;
    let lineStart = 0;
    for (let i = this.s.indexOf('\n'); i !== -1 && i < at; i = this.s.indexOf('\n', i + 1)) {
      line += 1;
      lineStart = i + 1;
    }
    return `line ${line} column ${at - lineStart + 1}`;
  }

  private syntaxError(at: number, context = ''): JsonError {
    const what = at >= this.s.length ? 'unexpected end of input' : `unexpected character ${escapeControl(JSON.stringify(this.s[at]))}`;
    return { syntax: true, message: `${what}${context !== '' ? ` ${context}` : ''} at ${this.where(at)}` };
  }

  private fail(at: number, context = ''): undefined {
    this.err ??= this.syntaxError(at, context);
    return undefined;
  }

  /** The JSON path of the value being read, under `base`. */
  private path(): string {
    let out = this.base;
    for (const seg of this.segs) {
      if (typeof seg === 'number') out += `[${seg}]`;
      else out += out === '' ? escapeControl(seg) : `.${escapeControl(seg)}`;
    }
    return out === '' ? '(top level)' : out;
  }

  private refuse(at: number, what: string): undefined {
    this.err ??= { syntax: false, message: `${this.path()}: ${what} (${this.where(at)})` };
    return undefined;
  }

  // ----- scanning -----

  private skipWs(): void {
    const s = this.s;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  private value(): unknown {
    this.skipWs();
    const s = this.s;
    const c = s.charCodeAt(this.pos);
    switch (c) {
      case OPEN_BRACE: return this.object();
      case OPEN_BRACKET: return this.array();
      case QUOTE: return this.string();
      case 0x74: return this.literal('true', true);
      case 0x66: return this.literal('false', false);
      case 0x6e: return this.literal('null', null);
      default:
        if (c === MINUS || isDigit(c)) return this.number();
        return this.fail(this.pos);
    }
  }

  private literal(word: string, v: boolean | null): unknown {
    if (!this.s.startsWith(word, this.pos)) {
      let p = this.pos;
      while (p < this.s.length && this.s.charCodeAt(p) === word.charCodeAt(p - this.pos)) p++;
      return this.fail(p);
    }
    this.pos += word.length;
    return v;
  }

  private enter(): boolean {
    if (this.depth >= this.maxDepth) {
      this.refuse(this.pos, `nested deeper than ${this.maxDepth} levels of arrays and objects, the limit for JSON input`);
      return false;
    }
    this.depth += 1;
    this.pos += 1;
    return true;
  }

  private object(): unknown {
    if (!this.enter()) return undefined;
    const s = this.s;
    const o: Record<string, unknown> = {};
    this.skipWs();
    if (s.charCodeAt(this.pos) === CLOSE_BRACE) {
      this.pos += 1;
      this.depth -= 1;
      return o;
    }
    const d = this.segs.length;
    this.segs.push('');
    for (;;) {
      this.skipWs();
      if (s.charCodeAt(this.pos) !== QUOTE) return this.fail(this.pos, '(expected a key in double quotes)');
      const keyAt = this.pos;
      const key = this.string();
      if (this.err !== null) return undefined;
      this.segs[d] = key as string;
      this.skipWs();
      if (s.charCodeAt(this.pos) !== COLON) return this.fail(this.pos, '(expected ":" after a key)');
      this.pos += 1;
      if (key === '__proto__') return this.refuse(keyAt, 'the key "__proto__" is not allowed in JSON input');
      if (Object.hasOwn(o, key as string)) return this.refuse(keyAt, 'duplicate key (each key may appear only once in an object)');
      const v = this.value();
      if (this.err !== null) return undefined;
      o[key as string] = v;
      this.skipWs();
      const c = s.charCodeAt(this.pos);
      if (c === COMMA) {
        this.pos += 1;
        continue;
      }
      if (c === CLOSE_BRACE) {
        this.pos += 1;
        break;
      }
      return this.fail(this.pos, '(expected "," or "}" in an object)');
    }
    this.segs.pop();
    this.depth -= 1;
    return o;
  }

  private array(): unknown {
    if (!this.enter()) return undefined;
    const s = this.s;
    const a: unknown[] = [];
    this.skipWs();
    if (s.charCodeAt(this.pos) === CLOSE_BRACKET) {
      this.pos += 1;
      this.depth -= 1;
      return a;
    }
    const d = this.segs.length;
    this.segs.push(0);
    for (let i = 0; ; i++) {
      this.segs[d] = i;
      const v = this.value();
      if (this.err !== null) return undefined;
      a.push(v);
      this.skipWs();
      const c = s.charCodeAt(this.pos);
      if (c === COMMA) {
        this.pos += 1;
        continue;
      }
      if (c === CLOSE_BRACKET) {
        this.pos += 1;
        break;
      }
      return this.fail(this.pos, '(expected "," or "]" in an array)');
    }
    this.segs.pop();
    this.depth -= 1;
    return a;
  }

  private string(): unknown {
    const s = this.s;
    const start = this.pos + 1;
    let p = start;
    // Fast path: no escapes.
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return s.slice(start, p);
      }
      if (c === BACKSLASH) break;
      if (!(c >= 0x20)) return this.badStringChar(p);
      p++;
    }
    let out = s.slice(start, p);
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === QUOTE) {
        this.pos = p + 1;
        return out;
      }
      if (c === BACKSLASH) {
        const e = s.charCodeAt(p + 1);
        const simple = SIMPLE_ESCAPES[e];
        if (simple !== undefined) {
          out += simple;
          p += 2;
        } else if (e === 0x75) {
          const hex = s.slice(p + 2, p + 6);
          if (!HEX4.test(hex)) return this.fail(p, '(a \\u escape needs four hex digits)');
          out += String.fromCharCode(parseInt(hex, 16));
          p += 6;
        } else {
          return this.fail(p + 1, '(not a JSON escape)');
        }
        continue;
      }
      if (!(c >= 0x20)) return this.badStringChar(p);
      let q = p + 1;
      for (;;) {
        const d = s.charCodeAt(q);
        if (d === QUOTE || d === BACKSLASH || !(d >= 0x20)) break;
        q++;
      }
      out += s.slice(p, q);
      p = q;
    }
  }

  private badStringChar(p: number): undefined {
    return p >= this.s.length ? this.fail(p, '(a string is not closed)') : this.fail(p, 'in a string (control characters must be escaped)');
  }

  private number(): unknown {
    const s = this.s;
    const start = this.pos;
    let p = start;
    let negative = false;
    if (s.charCodeAt(p) === MINUS) {
      negative = true;
      p++;
    }
    let c = s.charCodeAt(p);
    let n = 0;
    if (c === DIGIT_0) {
      p++;
    } else if (c >= DIGIT_1 && c <= DIGIT_9) {
      do {
        n = n * 10 + (c - DIGIT_0);
        p++;
        c = s.charCodeAt(p);
      } while (isDigit(c));
    } else {
      return this.fail(p, '(expected a digit)');
    }
    let simple = p - start <= 15;
    if (s.charCodeAt(p) === DOT) {
      simple = false;
      p++;
      if (!isDigit(s.charCodeAt(p))) return this.fail(p, '(expected a digit after ".")');
      while (isDigit(s.charCodeAt(p))) p++;
    }
    c = s.charCodeAt(p);
    if (c === 0x65 || c === 0x45) {
      simple = false;
      p++;
      c = s.charCodeAt(p);
      if (c === PLUS || c === MINUS) p++;
      if (!isDigit(s.charCodeAt(p))) return this.fail(p, '(expected a digit in the exponent)');
      while (isDigit(s.charCodeAt(p))) p++;
    }
    this.pos = p;
    if (simple) return negative ? -n : n;
    const v = Number(s.slice(start, p));
    if (!Number.isFinite(v)) {
      const text = p - start > 40 ? `${s.slice(start, start + 37)}...` : s.slice(start, p);
      return this.refuse(start, `number out of range: ${text} is beyond the largest number a double holds (about 1.8e308)`);
    }
    return v;
  }
}
