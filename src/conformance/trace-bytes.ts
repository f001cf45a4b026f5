/**
 * The fast way to a decoded trace (what `vgic replay` reads): straight from the bytes of a
 * trace file, without the text, the generic JSON value and the per-step decode of steps
 * already seen.
 *
 * It only ever says yes or "not me". `decodeTraceBytes` answers the Trace that the careful
 * way (UTF-8 text, parseJson, decodeTrace) would answer, or null for anything it is not sure
 * of: any syntax error, anything the strict JSON reader refuses (a repeated key, `__proto__`,
 * a number beyond a double, nesting beyond MAX_JSON_DEPTH), any decoding error. The caller
 * then takes the careful way, which finds the problem and words it, so messages, paths and
 * exit codes do not depend on this file.
 *
 * Steps written with the same bytes are decoded once and share one Step object (they would
 * decode to equal ones): a replay of half a million steps holds a few hundred ops, not half a
 * million. Sound because the meaning of a step does not depend on its place: its path only
 * appears in error messages, and every step of the array sits at the same depth. A step is
 * found again by a hash of its bytes, then compared byte by byte.
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeOpFast } from '../machine/ops.js';
import { MAX_JSON_DEPTH } from './limits.js';
import { decodeStep, decodeTraceHead, type Step, type Trace } from './trace.js';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, DIGIT_0, DOT, MINUS, OPEN_BRACE, OPEN_BRACKET, PLUS, QUOTE, isDigit } from './chars.js';

/** Internal answer of the reader: not sure, let the careful way decide. */
const BAIL: unique symbol = Symbol('bail');
type Bail = typeof BAIL;

/** A step already decoded: where its bytes are (to compare), and its Step; `next`: another with the same hash. */
interface Seen {
  /** Its number, in the order first seen. */
  id: number;
  start: number;
  len: number;
  step: Step;
  next: Seen | null;
  /** The step that came after this one the last time it was seen. */
  follower: Seen | null;
}

/** A run (see steps) is looked for among the last RUN_TRIES earlier places of a step, after the same RUN_CONTEXT steps. */
const RUN_TRIES = 8;
const RUN_CONTEXT = 4;
/** The most steps compared in one go. */
const RUN_MAX = 4096;

/** Are the `len` bytes at `a` and at `b` the same? */
function sameBytes(bytes: Uint8Array, a: number, b: number, len: number): boolean {
  if (a + len > bytes.length || b + len > bytes.length) return false;
  for (let k = 0; k < len; k++) if (bytes[a + k] !== bytes[b + k]) return false;
  return true;
}

/**
 * The trace in `bytes` (valid UTF-8, no byte order mark: readTraceBytes and isUtf8 have
 * checked), decoded as decodeTrace(parseJson(text)) would, or null: take the careful way.
 */
export function decodeTraceBytes(bytes: Uint8Array, fallbackName: string, maxDepth = MAX_JSON_DEPTH): Trace | null {
  const r = new ByteReader(bytes, maxDepth);
  const top = r.top();
  if (top === BAIL) return null;
  // `steps` not an array the reader decodes step by step: the careful way words it.
  if (top.steps === null) return null;
  const head = decodeTraceHead(top.value, fallbackName);
  if (E.isLeft(head)) return null;
  const h = head.right;
  if (h.config === undefined) return null;
  return {
    name: h.name,
    ...(h.description !== undefined ? { description: h.description } : {}),
    ...(h.refs !== undefined ? { refs: h.refs } : {}),
    config: h.config,
    rawConfig: h.rawConfig,
    steps: top.steps,
  };
}

/**
 * A strict JSON reader over bytes with the rules of parseJson (json.ts), which answers BAIL
 * where parseJson would answer an error (and possibly elsewhere: BAIL is never wrong).
 */
class ByteReader {
  private p = 0;
  private readonly seen = new Map<number, Seen>();
  /** Steps seen, by id; the index of the last step that is each (-1: none yet). */
  private readonly byId: Seen[] = [];
  private last = new Int32Array(64);

  constructor(private readonly b: Uint8Array, private readonly maxDepth: number) {}

  /**
   * The top-level object, with `steps` decoded on the way (`steps`, and an empty array in
   * its place in `value`, so that the trace's own keys can be decoded as usual), or BAIL.
   */
  top(): { value: Record<string, unknown>; steps: Step[] | null } | Bail {
    this.ws();
    if (this.b[this.p] !== OPEN_BRACE || this.maxDepth < 1) return BAIL;
    this.p += 1;
    const o: Record<string, unknown> = {};
    let steps: Step[] | null = null;
    this.ws();
    if (this.b[this.p] === CLOSE_BRACE) {
      this.p += 1;
    } else {
      for (;;) {
        this.ws();
        if (this.b[this.p] !== QUOTE) return BAIL;
        const key = this.string();
        if (key === BAIL || key === '__proto__' || Object.hasOwn(o, key)) return BAIL;
        this.ws();
        if (this.b[this.p] !== COLON) return BAIL;
        this.p += 1;
        this.ws();
        if (key === 'steps' && this.b[this.p] === OPEN_BRACKET) {
          const s = this.steps();
          if (s === BAIL) return BAIL;
          steps = s;
          o[key] = [];
        } else {
          const v = this.value(2);
          if (v === BAIL) return BAIL;
          o[key] = v;
        }
        this.ws();
        const c = this.b[this.p];
        this.p += 1;
        if (c === COMMA) continue;
        if (c === CLOSE_BRACE) break;
        return BAIL;
      }
    }
    this.ws();
    if (this.p !== this.b.length) return BAIL;
    return { value: o, steps };
  }

  /**
   * The steps array (at depth 2), each step decoded as decodeTrace does, or BAIL.
   *
   * Steps are read one by one (step), or many at a time: a trace that repeats itself (a
   * loop of steps, written again and again) is read as runs of bytes that are the same as
   * an earlier run, P steps and D bytes before, compared in one go. The bytes of a run are
   * whole steps, each followed by its comma: equal bytes are equal steps, so the run's steps
   * are those of the earlier run. A run is looked for when a step read on its own was also
   * seen before, after the same few steps as now.
   */
  private steps(): Step[] | Bail {
    if (this.maxDepth < 2) return BAIL;
    const b = this.b;
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const n = b.length;
    /**
     * Per step: the id of its entry, where it starts; for a step read on its own, the last
     * step read on its own before it that is the same (-1: none).
     */
    let ids = new Int32Array(1024);
    let starts = new Int32Array(1024);
    let before = new Int32Array(1024);
    const last = this.last;
    this.p += 1;
    this.ws();
    if (b[this.p] === CLOSE_BRACKET) {
      this.p += 1;
      return [];
    }
    let prev: Seen | null = null;
    /** The run being followed: steps and bytes back to the same text (0: none). */
    let runSteps = 0;
    let runBytes = 0;
    /** Steps compared in one go at most: doubled after a run that was the same, quartered after one that was not. */
    let runLimit = 16;
    let i = 0;
    for (;;) {
      this.ws();
      const start = this.p;
      const count = runSteps < runLimit ? runSteps : runLimit;
      if (i + count >= ids.length) {
        const size = 2 * (i + count + 1);
        ids = grow(ids, size);
        starts = grow(starts, size);
        before = grow(before, size);
      }
      starts[i] = start;
      if (runSteps > 0) {
        const j = i - runSteps;
        const from = starts[j]!;
        const len = starts[j + count]! - from;
        if (from === start - runBytes && start + len <= n && buf.compare(buf, start, start + len, from, from + len) === 0) {
          copyRun(ids, starts, j, i, count, runBytes);
          i += count;
          this.p = start + len;
          prev = this.byId[ids[i - 1]!]!;
          if (runLimit < RUN_MAX) runLimit *= 2;
          continue;
        }
        runSteps = 0;
        runLimit = runLimit > 4 ? runLimit >> 2 : 1;
      }
      // One step. First guess: the step that followed the previous one last time, compared
      // byte by byte (the bytes alone decide: a wrong guess costs only the comparison).
      let entry: Seen | null = prev === null ? null : prev.follower;
      if (entry === null || !sameBytes(b, entry.start, start, entry.len)) {
        entry = this.lookup(i);
        if (entry === null) return BAIL;
        if (prev !== null) prev.follower = entry;
      } else {
        this.p = start + entry.len;
      }
      const id = entry.id;
      ids[i] = id;
      before[i] = last[id]!;
      last[id] = i;
      // A run to follow: an earlier place of this step after the same RUN_CONTEXT steps.
      for (let j = before[i]!, tries = 0; j >= 0 && tries < RUN_TRIES; j = before[j]!, tries++) {
        let k = 1;
        while (k <= RUN_CONTEXT && j - k >= 0 && ids[j - k] === ids[i - k]) k++;
        if (k > RUN_CONTEXT || j - k < 0) {
          runSteps = i - j;
          runBytes = start - starts[j]!;
          break;
        }
      }
      prev = entry;
      i += 1;
      let c = b[this.p];
      if (c !== COMMA && c !== CLOSE_BRACKET) {
        this.ws();
        c = b[this.p];
      }
      this.p += 1;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACKET) break;
      return BAIL;
    }
    return stepsOf(this.byId, ids, i);
  }

  /**
   * Step i at the reader's position: found among the steps seen by the hash of its bytes,
   * or decoded (and remembered); the reader moves past it. Null: BAIL.
   */
  private lookup(i: number): Seen | null {
    const b = this.b;
    const start = this.p;
    // Only an object can be a step.
    if (b[start] !== OPEN_BRACE) return null;
    // Find the end of the object (strings skipped whole), hashing its bytes on the way.
    let h = 0x811c9dc5;
    let q = start;
    let nest = 0;
    for (;;) {
      const c = b[q];
      if (c === undefined) return null;
      h = Math.imul(h ^ c, 0x01000193);
      q += 1;
      if (c === QUOTE) {
        for (;;) {
          const d = b[q];
          if (d === undefined) return null;
          h = Math.imul(h ^ d, 0x01000193);
          q += 1;
          if (d === QUOTE) break;
          if (d === BACKSLASH) {
            const e = b[q];
            if (e === undefined) return null;
            h = Math.imul(h ^ e, 0x01000193);
            q += 1;
          }
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        nest += 1;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        nest -= 1;
        if (nest === 0) break;
      }
    }
    // A small integer key (a map keyed by larger numbers boxes them).
    h &= 0x3fffffff;
    const len = q - start;
    const first = this.seen.get(h) ?? null;
    for (let s = first; s !== null; s = s.next) {
      if (s.len === len && sameBytes(b, s.start, start, len)) {
        this.p = q;
        return s;
      }
    }
    const step = this.step(i);
    if (step === BAIL || this.p !== q) return null;
    const entry: Seen = { id: this.byId.length, start, len, step, next: first, follower: null };
    this.byId.push(entry);
    if (entry.id >= this.last.length) this.last = grow(this.last, 2 * this.last.length);
    this.last[entry.id] = -1;
    this.seen.set(h, entry);
    return entry;
  }

  /** Step i at the reader's position (depth 3), decoded as decodeTrace decodes it, or BAIL. */
  private step(i: number): Step | Bail {
    const s = this.value(3);
    if (s === BAIL) return BAIL;
    const op = decodeOpFast(s);
    if (op !== null && (s as Record<string, unknown>)['expect'] === undefined) return { op, raw: s as Record<string, unknown> };
    const r = decodeStep(s, `steps[${i}]`);
    return E.isLeft(r) ? BAIL : r.right;
  }

  // ----- generic JSON values -----

  private ws(): void {
    const b = this.b;
    let p = this.p;
    for (;;) {
      const c = b[p];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.p = p;
  }

  /** A value whose arrays and objects would be at nesting level `depth` (the top-level value is 1). */
  private value(depth: number): unknown {
    this.ws();
    const c = this.b[this.p];
    switch (c) {
      case OPEN_BRACE: return this.object(depth);
      case OPEN_BRACKET: return this.array(depth);
      case QUOTE: return this.string();
      case 0x74: return this.literal('true', true);
      case 0x66: return this.literal('false', false);
      case 0x6e: return this.literal('null', null);
      default:
        if (c === MINUS || isDigit(c)) return this.number();
        return BAIL;
    }
  }

  private literal(word: string, v: boolean | null): boolean | null | Bail {
    const b = this.b;
    for (let k = 0; k < word.length; k++) if (b[this.p + k] !== word.charCodeAt(k)) return BAIL;
    this.p += word.length;
    return v;
  }

  private object(depth: number): Record<string, unknown> | Bail {
    if (depth > this.maxDepth) return BAIL;
    const b = this.b;
    this.p += 1;
    const o: Record<string, unknown> = {};
    this.ws();
    if (b[this.p] === CLOSE_BRACE) {
      this.p += 1;
      return o;
    }
    for (;;) {
      this.ws();
      if (b[this.p] !== QUOTE) return BAIL;
      const key = this.string();
      if (key === BAIL || key === '__proto__' || Object.hasOwn(o, key)) return BAIL;
      this.ws();
      if (b[this.p] !== COLON) return BAIL;
      this.p += 1;
      const v = this.value(depth + 1);
      if (v === BAIL) return BAIL;
      o[key] = v;
      this.ws();
      const c = b[this.p];
      this.p += 1;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACE) return o;
      return BAIL;
    }
  }

  private array(depth: number): unknown[] | Bail {
    if (depth > this.maxDepth) return BAIL;
    const b = this.b;
    this.p += 1;
    const a: unknown[] = [];
    this.ws();
    if (b[this.p] === CLOSE_BRACKET) {
      this.p += 1;
      return a;
    }
    for (;;) {
      const v = this.value(depth + 1);
      if (v === BAIL) return BAIL;
      a.push(v);
      this.ws();
      const c = b[this.p];
      this.p += 1;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACKET) return a;
      return BAIL;
    }
  }

  /** A string at the reader's position (on its opening quote). */
  private string(): string | Bail {
    const b = this.b;
    const start = this.p + 1;
    let p = start;
    let plain = true;
    for (;;) {
      const c = b[p];
      if (c === undefined || c < 0x20) return BAIL;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        p += 2;
        continue;
      }
      if (c >= 0x80) plain = false;
      p++;
    }
    this.p = p + 1;
    if (plain) return latin1(b, start, p);
    // Escapes or UTF-8: the engine decodes the literal (it refuses what parseJson refuses).
    try {
      return JSON.parse(Buffer.from(b.buffer, b.byteOffset + start - 1, p - start + 2).toString('utf8')) as string;
    } catch {
      return BAIL;
    }
  }

  /** A number (the grammar of RFC 8259), or BAIL when malformed or beyond a double. */
  private number(): number | Bail {
    const b = this.b;
    const start = this.p;
    let p = start;
    let negative = false;
    if (b[p] === MINUS) {
      negative = true;
      p++;
    }
    let c = b[p];
    let n = 0;
    if (c === DIGIT_0) {
      p++;
    } else if (isDigit(c)) {
      do {
        n = n * 10 + (c! - DIGIT_0);
        p++;
        c = b[p];
      } while (isDigit(c));
    } else {
      return BAIL;
    }
    let simple = p - start <= 15;
    if (b[p] === DOT) {
      simple = false;
      p++;
      if (!isDigit(b[p])) return BAIL;
      while (isDigit(b[p])) p++;
    }
    c = b[p];
    if (c === 0x65 || c === 0x45) {
      simple = false;
      p++;
      c = b[p];
      if (c === PLUS || c === MINUS) p++;
      if (!isDigit(b[p])) return BAIL;
      while (isDigit(b[p])) p++;
    }
    this.p = p;
    if (simple) return negative ? -n : n;
    const v = Number(latin1(this.b, start, p));
    return Number.isFinite(v) ? v : BAIL;
  }
}

/**
 * Steps i..i+count-1 are steps j..j+count-1 again (a run, see ByteReader.steps), `bytes`
 * further on: their entry ids and starts are filled in.
 */
function copyRun(ids: Int32Array, starts: Int32Array, j: number, i: number, count: number, bytes: number): void {
  ids.copyWithin(i, j, j + count);
  for (let k = 0; k < count; k++) starts[i + k] = starts[j + k]! + bytes;
}

/** The Steps of the first `count` ids. */
function stepsOf(byId: readonly Seen[], ids: Int32Array, count: number): Step[] {
  const out = new Array<Step>(count);
  for (let k = 0; k < count; k++) out[k] = byId[ids[k]!]!.step;
  return out;
}

/** `a` copied into a longer array. */
function grow(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size);
  out.set(a);
  return out;
}

/** Bytes below 0x80 as a string. */
function latin1(b: Uint8Array, start: number, end: number): string {
  if (end - start <= 24) {
    let s = '';
    for (let k = start; k < end; k++) s += String.fromCharCode(b[k]!);
    return s;
  }
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}
