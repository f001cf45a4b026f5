/**
 * The shapes of trace-format §4 (RESULT) and §5 (snapshot) as data. One table per shape
 * drives four things: the io-ts codec that decodes a full value (from another
 * implementation), the io-ts codec that decodes a PARTIAL value (an EXPECT in a trace),
 * the canonical writer (key order and hex of trace-format §1, §5) and the partial matcher of
 * trace-format §6.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { toHex } from '../machine/decode.js';
import { STATUS_NAMES } from '../xen/types.js';

export type Node =
  | { k: 'int'; min: number; max: number }
  | { k: 'hex' }
  | { k: 'bool' }
  | { k: 'str' }
  | { k: 'enum'; values: readonly string[] }
  | { k: 'nullable'; of: Node }
  | { k: 'obj'; fields: readonly Field[] }
  /** `key`: the fields that identify an element (trace-format §6 keyed arrays); `len`: a fixed length. */
  | { k: 'arr'; of: Node; key?: readonly string[]; len?: number };

export interface Field {
  name: string;
  node: Node;
  optional?: boolean;
}

// ----- building the tables -----

const int = (min = 0, max = Number.MAX_SAFE_INTEGER): Node => ({ k: 'int', min, max });
const hex: Node = { k: 'hex' };
const bool: Node = { k: 'bool' };
const str: Node = { k: 'str' };
const enumOf = (...values: string[]): Node => ({ k: 'enum', values });
const nullable = (of: Node): Node => ({ k: 'nullable', of });
const obj = (...fields: Field[]): Node => ({ k: 'obj', fields });
const arr = (of: Node, opts: { key?: string[]; len?: number } = {}): Node => ({ k: 'arr', of, ...opts });
const f = (name: string, node: Node): Field => ({ name, node });
const opt = (name: string, node: Node): Field => ({ name, node, optional: true });

const RANK = obj(
  f('index', int()), f('ienable', hex), f('icfg', arr(hex, { len: 2 })),
  f('priority', arr(int(0, 255), { len: 32 })), f('vcpu', arr(int(0, 255), { len: 32 })),
);

const LR = obj(
  f('lr', int(0, 63)), f('raw', hex), f('state', enumOf('pending', 'active', 'pending+active')),
  f('virq', int()), f('pirq', nullable(int())), f('priority', int(0, 255)), f('grp1', bool),
);

const VCPU = obj(
  f('id', int()), f('online', bool), f('rank', RANK),
  f('inflight', arr(obj(f('irq', int()), f('lr', int(0, 255))))),
  f('lr_pending', arr(int())),
  f('lr_mask', hex), f('pmr', int(0, 255)), f('eoimode', int(0, 1)), f('apr', hex),
  f('lrs', arr(LR)),
  // LPIs (trace-format §9.3): only for a domain with an ITS.
  opt('lpis_enabled', bool), opt('pendbase', hex),
);

const IRQ = obj(
  f('irq', int()), f('vcpu', nullable(int())), f('status', arr(enumOf(...STATUS_NAMES))),
  f('priority', int(0, 255)), f('lr', int(0, 255)),
  opt('lpi_priority', int(0, 255)),
);

/** trace-format §9.3: a domain's LPI configuration, vITS registers and host device registry. */
const LPI = obj(f('propbase', hex), f('rdists_enabled', bool), f('nr_lpis', int()));
const ITS = obj(
  f('base', hex), f('enabled', bool), f('cbaser', hex), f('cwriter', hex), f('creadr', hex), f('baser0', hex), f('baser1', hex),
);
const ITS_DEVICE = obj(f('devid', int()), f('eventids', int()), f('vlpis', arr(int())));

/** trace-format §10.3: the KVM state of a domain a VMM builds through KVM's device API. */
const VMM = obj(
  f('model', nullable(enumOf('v2', 'v3'))), f('initialized', bool), f('ready', bool), f('dead', bool),
  f('nr_irqs', int()), f('dist', nullable(hex)), f('cpu', nullable(hex)),
  f('redist_regions', arr(obj(f('index', int()), f('base', hex), f('count', int())))),
  f('its', arr(obj(f('device', int()), f('base', nullable(hex))))),
  f('vcpus', arr(obj(f('id', int()), f('redist', nullable(hex)), f('ran', bool)), { key: ['id'] })),
);

const DOMAIN = obj(
  f('id', int()), f('ctlr', hex),
  f('ranks', arr(RANK, { key: ['index'] })),
  f('vcpus', arr(VCPU, { key: ['id'] })),
  f('irqs', arr(IRQ, { key: ['irq', 'vcpu'] })),
  opt('lpi', LPI), opt('its', ITS), opt('its_devices', arr(ITS_DEVICE, { key: ['devid'] })),
  opt('vmm', VMM),
);

const PCPU = obj(
  f('id', int()), f('mode', enumOf('idle', 'hyp', 'guest')),
  f('running', nullable(obj(f('domain', int()), f('vcpu', int())))), f('uie', bool),
);

const PHYSICAL = obj(
  f('pirq', int()), f('domain', int()), f('virq', int()), f('enabled', bool), f('pending', bool),
  f('active', bool), f('in_progress', bool), f('affinity', int()),
);

/** trace-format §5. */
export const SNAPSHOT: Node = obj(
  f('pcpus', arr(PCPU, { key: ['id'] })),
  f('domains', arr(DOMAIN, { key: ['id'] })),
  f('physical', arr(PHYSICAL, { key: ['pirq'] })),
);

/**
 * trace-format §5.1: the guest view, what the guest and the hardware can observe. A sub-table
 * of SNAPSHOT with the same names, nesting and key order, so that `canonical(GUEST_SNAPSHOT,
 * full)` is the guest view of a full snapshot, and a guest view is also a valid PARTIAL
 * snapshot (§6). Left out: UIE, the raw LR encoding, IN_PROGRESS, GICD_CTLR and the ranks
 * (read through registers, i.e. RESULTs), and Xen's own lists and status bits.
 */
const GUEST_LR = obj(
  f('lr', int(0, 63)), f('state', enumOf('pending', 'active', 'pending+active')),
  f('virq', int()), f('pirq', nullable(int())), f('priority', int(0, 255)), f('grp1', bool),
);

const GUEST_VCPU = obj(
  f('id', int()), f('online', bool), f('pmr', int(0, 255)), f('eoimode', int(0, 1)), f('apr', hex),
  f('lrs', arr(GUEST_LR)),
);

export const GUEST_SNAPSHOT: Node = obj(
  f('pcpus', arr(obj(f('id', int()), f('mode', enumOf('idle', 'hyp', 'guest')),
    f('running', nullable(obj(f('domain', int()), f('vcpu', int()))))), { key: ['id'] })),
  f('domains', arr(obj(f('id', int()), f('vcpus', arr(GUEST_VCPU, { key: ['id'] }))), { key: ['id'] })),
  f('physical', arr(obj(
    f('pirq', int()), f('domain', int()), f('virq', int()), f('enabled', bool), f('pending', bool),
    f('active', bool), f('affinity', int()),
  ), { key: ['pirq'] })),
);

export const OUTCOMES = ['ok', 'abort', 'undef', 'error', 'latched', 'crash'] as const;

/**
 * trace-format §4. `log` is this model's own extension (what Xen would have printed); other
 * implementations need not produce it, and differential runs ignore it.
 */
export const RESULT: Node = obj(
  f('outcome', enumOf(...OUTCOMES)),
  opt('value', hex), opt('intid', int()), opt('pending', int(0, 1)), opt('errno', str),
  opt('snapshot', SNAPSHOT), opt('reason', str), opt('device', int()),
  opt('log', arr(obj(f('level', enumOf('err', 'warn', 'debug')), f('msg', str)))),
);

// ----- io-ts codecs derived from a table -----

const HEX_RE = /^0[xX][0-9a-fA-F]+$/;

function describeNode(n: Node): string {
  switch (n.k) {
    case 'int': return n.max === Number.MAX_SAFE_INTEGER ? 'non-negative integer' : `integer ${n.min}..${n.max}`;
    case 'hex': return 'hex string';
    case 'bool': return 'boolean';
    case 'str': return 'string';
    case 'enum': return n.values.map((v) => JSON.stringify(v)).join(' | ');
    case 'nullable': return `${describeNode(n.of)} | null`;
    case 'obj': return 'object';
    case 'arr': return n.len === undefined ? 'array' : `array of ${n.len}`;
  }
}

export interface CodecOptions {
  /** PARTIAL (trace-format §6): every key optional, but keyed-array elements must name their key. */
  partial: boolean;
  /** Reject keys the table does not list (EXPECTs); a full value from elsewhere may add fields. */
  strict: boolean;
}

/**
 * The io-ts codec of a table. Decoded values are canonical: hex strings lower-case without
 * leading zeros, object keys in table order (extra keys dropped).
 */
export function codecOf(n: Node, o: CodecOptions): t.Type<unknown, unknown, unknown> {
  const name = describeNode(n);
  const mk = (validate: t.Validate<unknown, unknown>): t.Type<unknown, unknown, unknown> =>
    new t.Type<unknown, unknown, unknown>(name, (_u): _u is unknown => true, validate, t.identity);
  switch (n.k) {
    case 'int':
      return mk((u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= n.min && u <= n.max ? t.success(u) : t.failure(u, c)));
    case 'hex':
      return mk((u, c) => (typeof u === 'string' && HEX_RE.test(u) ? t.success(toHex(BigInt(u))) : t.failure(u, c)));
    case 'bool':
      return mk((u, c) => (typeof u === 'boolean' ? t.success(u) : t.failure(u, c)));
    case 'str':
      return mk((u, c) => (typeof u === 'string' ? t.success(u) : t.failure(u, c)));
    case 'enum':
      return mk((u, c) => (typeof u === 'string' && n.values.includes(u) ? t.success(u) : t.failure(u, c)));
    case 'nullable': {
      const inner = codecOf(n.of, o);
      return mk((u, c) => (u === null ? t.success(null) : inner.validate(u, c)));
    }
    case 'arr': {
      const elem = codecOf(n.of, { ...o, partial: o.partial });
      // Marked as an array type so that error paths print `[i]`.
      return new t.ArrayType(name, (_u): _u is unknown[] => true, (u, c) => {
        if (!Array.isArray(u)) return t.failure(u, c);
        if (n.len !== undefined && u.length !== n.len) return t.failure(u, c, `expected ${n.len} entries, got ${u.length}`);
        const errors: t.Errors = [];
        const out: unknown[] = [];
        u.forEach((x, i) => {
          const r = elem.validate(x, [...c, { key: String(i), type: elem, actual: x }]);
          if (E.isLeft(r)) errors.push(...r.left);
          else out.push(r.right);
        });
        if (errors.length === 0 && o.partial && n.key !== undefined) {
          u.forEach((x, i) => {
            for (const k of n.key!) {
              if (typeof x === 'object' && x !== null && !(k in x)) {
                errors.push({
                  value: undefined, context: [...c, { key: String(i), type: elem, actual: x }, { key: k, type: elem, actual: undefined }],
                  message: `missing key (an element of this array is matched by ${n.key!.join(' and ')})`,
                });
              }
            }
          });
        }
        return errors.length > 0 ? t.failures(errors) : t.success(out);
      }, t.identity, elem) as unknown as t.Type<unknown, unknown, unknown>;
    }
    case 'obj': {
      const fields = n.fields.map((fl) => ({ ...fl, codec: codecOf(fl.node, o) }));
      return mk((u, c) => {
        if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c);
        const rec = u as Record<string, unknown>;
        const errors: t.Errors = [];
        const out: Record<string, unknown> = {};
        if (o.strict) {
          for (const k of Object.keys(rec)) {
            if (!n.fields.some((fl) => fl.name === k)) {
              errors.push({ value: rec[k], context: [...c, { key: k, type: t.never, actual: rec[k] }], message: 'unknown key' });
            }
          }
        }
        for (const fl of fields) {
          if (!(fl.name in rec) || rec[fl.name] === undefined) {
            if (!o.partial && fl.optional !== true) {
              errors.push({ value: undefined, context: [...c, { key: fl.name, type: fl.codec, actual: undefined }], message: 'missing key' });
            }
            continue;
          }
          const r = fl.codec.validate(rec[fl.name], [...c, { key: fl.name, type: fl.codec, actual: rec[fl.name] }]);
          if (E.isLeft(r)) errors.push(...r.left);
          else out[fl.name] = r.right;
        }
        return errors.length > 0 ? t.failures(errors) : t.success(out);
      });
    }
  }
}

/** Full snapshot / RESULT as another implementation sends them (extra fields dropped). */
export const SnapshotCodec = codecOf(SNAPSHOT, { partial: false, strict: false });
export const ResultCodec = codecOf(RESULT, { partial: false, strict: false });
/** A guest snapshot (trace-format §5.1) as another implementation sends it. */
export const GuestSnapshotCodec = codecOf(GUEST_SNAPSHOT, { partial: false, strict: false });
/** PARTIAL snapshot / RESULT as an EXPECT names them (unknown keys are errors). */
export const PartialSnapshotCodec = codecOf(SNAPSHOT, { partial: true, strict: true });
export const PartialResultCodec = codecOf(RESULT, { partial: true, strict: true });

// ----- canonical form -----

/** Rewrite a decoded value in canonical key order (trace-format §1, §5); unknown keys dropped. */
export function canonical(n: Node, v: unknown): unknown {
  if (v === null || v === undefined) return v;
  switch (n.k) {
    case 'hex':
      return typeof v === 'string' && HEX_RE.test(v) ? toHex(BigInt(v)) : v;
    case 'nullable':
      return canonical(n.of, v);
    case 'arr':
      return Array.isArray(v) ? v.map((x) => canonical(n.of, x)) : v;
    case 'obj': {
      if (typeof v !== 'object') return v;
      const rec = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const fl of n.fields) if (fl.name in rec && rec[fl.name] !== undefined) out[fl.name] = canonical(fl.node, rec[fl.name]);
      return out;
    }
    default:
      return v;
  }
}

/** The guest view (trace-format §5.1) of a full snapshot: the fields of GUEST_SNAPSHOT, canonical. */
export function guestView(snapshot: unknown): Record<string, unknown> {
  return canonical(GUEST_SNAPSHOT, snapshot) as Record<string, unknown>;
}

// ----- partial matching (trace-format §6) -----

export interface Mismatch {
  /** JSON path of the first difference, e.g. `snapshot.domains[id=1].vcpus[id=0].lr_pending`. */
  path: string;
  expected: unknown;
  /** The actual value; undefined when the element or key is missing. */
  actual: unknown;
  why?: string;
}

function keyLabel(key: readonly string[], x: Record<string, unknown>): string {
  return key.map((k) => `${k}=${JSON.stringify(x[k])}`).join(',');
}

function scalarEqual(n: Node, a: unknown, b: unknown): boolean {
  if (n.k === 'hex' && typeof a === 'string' && typeof b === 'string' && HEX_RE.test(a) && HEX_RE.test(b)) {
    return BigInt(a) === BigInt(b);
  }
  return a === b;
}

/**
 * How two values are compared: PARTIAL (trace-format §6: the expectation names what matters)
 * or FULL (trace-format §7: every field, and keyed elements counted both ways). The words of each mode.
 */
interface Mode {
  full: boolean;
  missingKey: string;
  missingElement: string;
  length: (a: number, b: number) => string;
}

const PARTIAL: Mode = {
  full: false, missingKey: 'missing', missingElement: 'no such element',
  length: (a, b) => `length ${a} expected, got ${b}`,
};

const FULL: Mode = {
  full: true, missingKey: 'missing on the other side', missingElement: 'missing on the other side',
  length: (a, b) => `length ${a} vs ${b}`,
};

const present = (r: Record<string, unknown>, k: string): boolean => k in r && r[k] !== undefined;

/** The first place where `b` differs from `a` under `mode` (`a` is reported as expected). */
function compare(n: Node, a: unknown, b: unknown, path: string, mode: Mode): Mismatch | null {
  switch (n.k) {
    case 'nullable':
      if (a === null || b === null) return a === b ? null : { path, expected: a, actual: b };
      return compare(n.of, a, b, path, mode);
    case 'obj': {
      if (typeof b !== 'object' || b === null || Array.isArray(b)) return { path, expected: a, actual: b };
      const ra = a as Record<string, unknown>;
      const rb = b as Record<string, unknown>;
      for (const fl of n.fields) {
        const sub = `${path}.${fl.name}`;
        if (!present(ra, fl.name)) {
          if (mode.full && present(rb, fl.name)) return { path: sub, expected: undefined, actual: rb[fl.name], why: 'only on the other side' };
          continue;
        }
        if (!present(rb, fl.name)) return { path: sub, expected: ra[fl.name], actual: undefined, why: mode.missingKey };
        const m = compare(fl.node, ra[fl.name], rb[fl.name], sub, mode);
        if (m !== null) return m;
      }
      return null;
    }
    case 'arr': {
      if (!Array.isArray(b)) return { path, expected: a, actual: b };
      const ea = a as unknown[];
      if (n.key !== undefined) {
        const key = n.key;
        const same = (x: unknown, y: unknown): boolean =>
          key.every((k) => (x as Record<string, unknown>)[k] === (y as Record<string, unknown>)[k]);
        const label = (x: unknown): string => `${path}[${keyLabel(key, x as Record<string, unknown>)}]`;
        for (const x of ea) {
          const y = b.find((z) => same(x, z));
          if (y === undefined) return { path: label(x), expected: x, actual: undefined, why: mode.missingElement };
          const m = compare(n.of, x, y, label(x), mode);
          if (m !== null) return m;
        }
        const extra = mode.full ? b.find((y) => !ea.some((x) => same(x, y))) : undefined;
        return extra === undefined ? null : { path: label(extra), expected: undefined, actual: extra, why: 'only on the other side' };
      }
      if (ea.length !== b.length) return { path, expected: a, actual: b, why: mode.length(ea.length, b.length) };
      for (let i = 0; i < ea.length; i++) {
        const m = compare(n.of, ea[i], b[i], `${path}[${i}]`, mode);
        if (m !== null) return m;
      }
      return null;
    }
    default:
      return scalarEqual(n, a, b) ? null : { path, expected: a, actual: b };
  }
}

/**
 * The first place where `actual` does not match the PARTIAL `expected` (trace-format §6), or null.
 * Objects match on the keys they name, arrays element by element with equal length, keyed
 * arrays by their key fields, scalars by equality (hex canonicalised).
 */
export function matchPartial(n: Node, expected: unknown, actual: unknown, path: string): Mismatch | null {
  return compare(n, expected, actual, path, PARTIAL);
}

/**
 * The first difference between two full values (a differential run, trace-format §7): every field of
 * the table is compared, keyed arrays by key with membership checked both ways. `expected`
 * is the first value, `actual` the second.
 */
export function firstDifference(n: Node, a: unknown, b: unknown, path: string): Mismatch | null {
  return compare(n, a, b, path, FULL);
}

/** Show a value in a report: JSON, with `(missing)` for nothing. */
export function show(v: unknown): string {
  if (v === undefined) return '(missing)';
  const s = JSON.stringify(v);
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}
