/**
 * The quick test of a differential run (trace-format §7): does a value another implementation
 * sent (parsed JSON, not decoded) pass the full io-ts codec of its table AND equal the model's
 * value field by field? One walk does both, without building the decoded copy.
 *
 * It only ever answers "yes, certainly" or "not certainly": `true` means that decoding the
 * value with `codecOf(n, {partial: false, strict: false})` succeeds and `firstDifference` of
 * the model's value and the decoded one is null. Anything else (an invalid field, a
 * difference, keyed elements in another order) is `false`, and the caller takes the careful
 * path (full decode, then firstDifference) for the exact message. So the quick test can never
 * change what a run reports, only how fast it gets there.
 */
import type { Node } from './schema.js';

const HEX_RE = /^0[xX][0-9a-fA-F]+$/;

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);
const present = (r: Record<string, unknown>, k: string): boolean => k in r && r[k] !== undefined;

/** Does `b` pass the full codec of `n`? */
export function validFull(n: Node, b: unknown): boolean {
  switch (n.k) {
    case 'int':
      return typeof b === 'number' && Number.isInteger(b) && b >= n.min && b <= n.max;
    case 'hex':
      return typeof b === 'string' && HEX_RE.test(b);
    case 'bool':
      return typeof b === 'boolean';
    case 'str':
      return typeof b === 'string';
    case 'enum':
      return typeof b === 'string' && n.values.includes(b);
    case 'nullable':
      return b === null || validFull(n.of, b);
    case 'obj': {
      if (!isRecord(b)) return false;
      for (const fl of n.fields) {
        if (!present(b, fl.name)) {
          if (fl.optional !== true) return false;
        } else if (!validFull(fl.node, b[fl.name])) {
          return false;
        }
      }
      return true;
    }
    case 'arr': {
      if (!Array.isArray(b) || (n.len !== undefined && b.length !== n.len)) return false;
      for (const x of b) if (!validFull(n.of, x)) return false;
      return true;
    }
  }
}

/**
 * `b` passes the full codec of `n` and equals the model's `a` (canonical, as the model writes
 * it) on every field of the table; fields named in `ignore` (top level only) are validated in
 * `b` but not compared.
 */
export function agrees(n: Node, a: unknown, b: unknown, ignore: readonly string[] = []): boolean {
  switch (n.k) {
    case 'hex':
      // The model's hex is canonical; the other side may write leading zeros or capitals.
      return typeof b === 'string' && (a === b || (HEX_RE.test(b) && typeof a === 'string' && HEX_RE.test(a) && BigInt(a) === BigInt(b)));
    case 'int': case 'bool': case 'str': case 'enum':
      return a === b && validFull(n, b);
    case 'nullable':
      return a === null || b === null ? a === b : agrees(n.of, a, b);
    case 'obj': {
      if (!isRecord(a) || !isRecord(b)) return false;
      for (const fl of n.fields) {
        const inB = present(b, fl.name);
        if (ignore.includes(fl.name)) {
          if (inB ? !validFull(fl.node, b[fl.name]) : fl.optional !== true) return false;
          continue;
        }
        const inA = present(a, fl.name);
        if (!inB) {
          // Missing in b: invalid when required, a difference when the model has it.
          if (fl.optional !== true || inA) return false;
        } else if (!inA || !agrees(fl.node, a[fl.name], b[fl.name])) {
          return false;
        }
      }
      return true;
    }
    case 'arr': {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length || (n.len !== undefined && b.length !== n.len)) return false;
      // Keyed arrays: the same elements in the same order (the canonical order; any other order is left to the careful path).
      for (let i = 0; i < a.length; i++) {
        if (n.key !== undefined) {
          const x = a[i] as Record<string, unknown>;
          const y = b[i];
          if (!isRecord(y) || !n.key.every((k) => x[k] === y[k])) return false;
        }
        if (!agrees(n.of, a[i], b[i])) return false;
      }
      return true;
    }
  }
}
