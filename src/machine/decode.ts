/**
 * io-ts building blocks for everything that comes from outside: strict objects (unknown
 * keys are errors), integer ranges, literal sets and hex strings, plus an error reporter
 * that names the JSON path, the expectation and the value found
 * (`steps[4].size: expected 1 | 2 | 4 | 8, got 3`).
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { escapeControl } from './escape.js';

/** A whole number within [min, max]. */
export function intRange(min: number, max: number, name = `integer ${min}..${max}`): t.Type<number, number, unknown> {
  return new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max ? t.success(u) : t.failure(u, c)),
    t.identity,
  );
}

/** A non-negative whole number (no upper bound other than safe integers). */
export const Nat = intRange(0, Number.MAX_SAFE_INTEGER, 'non-negative integer');

/** One of a fixed set of JSON scalars, named `a | b | c`. */
export function oneOf<const T extends readonly (string | number | boolean)[]>(values: T): t.Type<T[number], T[number], unknown> {
  const name = values.map((v) => JSON.stringify(v)).join(' | ');
  const is = (u: unknown): u is T[number] => values.includes(u as T[number]);
  return new t.Type<T[number], T[number], unknown>(name, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);
}

/** `codec` or JSON null. */
export function nullable<A>(codec: t.Type<A, A, unknown>): t.Type<A | null, A | null, unknown> {
  return new t.Type<A | null, A | null, unknown>(
    `${codec.name} | null`,
    (u): u is A | null => u === null || codec.is(u),
    (u, c) => (u === null ? t.success(null) : codec.validate(u, c)),
    t.identity,
  );
}

/** Any JSON value, checked later by its own decoder; `name` is what a missing key asks for. */
export function anyJson(name: string): t.Type<unknown, unknown, unknown> {
  return new t.Type<unknown, unknown, unknown>(name, (_u): _u is unknown => true, (u) => t.success(u), t.identity);
}

/** A message on one line (a JSON parser may quote the text it choked on, newlines included). */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}

/**
 * A hex string (`0x...`, any case, leading zeros allowed) of at most `bits` bits, decoded to
 * a bigint. Two different messages: not a hex string at all (`expected hex string`), or more
 * significant hex digits than the field holds (`too many hex digits: ... does not fit in 64
 * bits`), so that an over-long address is not mistaken for a misaligned one later.
 */
export function hexString(bits: number): t.Type<bigint, string, unknown> {
  const limit = 1n << BigInt(bits);
  return new t.Type<bigint, string, unknown>(
    'hex string',
    (u): u is bigint => typeof u === 'bigint' && u >= 0n && u < limit,
    (u, c) => {
      if (typeof u !== 'string' || !/^0[xX][0-9a-fA-F]+$/.test(u)) return t.failure(u, c);
      // Count the digits before converting: a megabyte of hex is refused without building its bigint.
      const significant = u.length - 2 - (/^0[xX](0*)/.exec(u)?.[1]?.length ?? 0);
      const v = significant > Math.ceil(bits / 4) ? limit : BigInt(u);
      return v < limit ? t.success(v) : t.failure(u, c, `too many hex digits: ${describeValue(u)} does not fit in ${bits} bits`);
    },
    (a) => toHex(a),
  );
}

/** A 64-bit hex string (addresses, register values: docs/trace-format.md §1). */
export const HexString = hexString(64);

/** (It lives in escape.ts, which imports nothing, so that command front ends can load it alone.) */
export { escapeControl };

/** Canonical hex: lower case, `0x`, no leading zeros (docs/trace-format.md §1). */
export function toHex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

type Shape<R extends t.Props, O extends t.Props> = t.TypeOf<t.TypeC<R>> & Partial<t.TypeOf<t.PartialC<O>>>;

/**
 * An object with required keys `req` and optional keys `opt`; any other key is an error
 * (except the names in `ignore`, which are accepted and dropped).
 */
export function strictObject<R extends t.Props, O extends t.Props = {}>(
  name: string, req: R, opt?: O, ignore: readonly string[] = [],
): t.Type<Shape<R, O>, unknown, unknown> {
  const optional = (opt ?? {}) as t.Props;
  return new t.Type<Shape<R, O>, unknown, unknown>(
    name,
    (u): u is Shape<R, O> => typeof u === 'object' && u !== null,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `expected an object`);
      const o = u as Record<string, unknown>;
      const errors: t.Errors = [];
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(o)) {
        if (!Object.hasOwn(req, k) && !Object.hasOwn(optional, k) && !ignore.includes(k)) {
          errors.push({ value: o[k], context: [...c, { key: k, type: t.never, actual: o[k] }], message: 'unknown key' });
        }
      }
      for (const [k, codec] of Object.entries(req)) {
        if (!Object.hasOwn(o, k)) {
          errors.push({ value: undefined, context: [...c, { key: k, type: codec, actual: undefined }], message: 'missing key' });
          continue;
        }
        const r = codec.validate(o[k], [...c, { key: k, type: codec, actual: o[k] }]);
        if (E.isLeft(r)) errors.push(...r.left);
        else out[k] = r.right;
      }
      for (const [k, codec] of Object.entries(optional)) {
        if (!Object.hasOwn(o, k) || o[k] === undefined) continue;
        const r = codec.validate(o[k], [...c, { key: k, type: codec, actual: o[k] }]);
        if (E.isLeft(r)) errors.push(...r.left);
        else out[k] = r.right;
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out as Shape<R, O>);
    },
    t.identity,
  );
}

/** JSON path of an io-ts context, appended to `base` (`steps[4]` + `.size`). */
export function contextPath(context: t.Context, base = ''): string {
  let path = base;
  for (let i = 1; i < context.length; i++) {
    const entry = context[i]!;
    const parent = context[i - 1]!.type;
    const isIndex = /^\d+$/.test(entry.key) && parent instanceof t.ArrayType;
    const key = escapeControl(entry.key);
    path += isIndex ? `[${key}]` : path === '' ? key : `.${key}`;
  }
  return path === '' ? '(top level)' : path;
}

/** A value found in input, for a message: JSON, cut to 60 characters, control characters escaped. */
export function describeValue(u: unknown): string {
  if (u === undefined) return 'nothing';
  if (typeof u === 'bigint') return toHex(u);
  if (typeof u === 'string' && u.length > 200) u = u.slice(0, 200);
  const s = escapeControl(JSON.stringify(u) ?? String(u));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** One line per error: `path: expected X, got Y` (or `unknown key` / `missing key`). */
export function formatErrors(errors: t.Errors, base = ''): string[] {
  const lines = errors.map((e) => {
    const path = contextPath(e.context, base);
    if (e.message === 'unknown key') return `${path}: unknown key`;
    const type = e.context[e.context.length - 1]!.type;
    if (e.message === 'missing key') return `${path}: missing key (expected ${type.name})`;
    if (e.message?.startsWith('missing key') === true || e.message?.startsWith('too many') === true) return `${path}: ${e.message}`;
    const expected = e.message ?? type.name;
    return `${path}: ${expected.startsWith('expected') ? expected : `expected ${expected}`}, got ${describeValue(e.value)}`;
  });
  return [...new Set(lines)];
}

/** Decode with `codec`, turning failures into readable lines with paths under `base`. */
export function decodeWith<A>(codec: t.Type<A, unknown, unknown>, u: unknown, base = ''): E.Either<string[], A> {
  const r = codec.decode(u);
  return E.isLeft(r) ? E.left(formatErrors(r.left, base)) : E.right(r.right);
}
