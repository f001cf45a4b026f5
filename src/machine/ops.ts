/**
 * The ops of trace-format §3 as io-ts codecs. Every key an op lists is required (`level` of
 * `inject` defaults to true); unknown keys are errors. `expect` belongs to the trace layer
 * and is accepted and ignored here.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { HexString, Nat, decodeWith, intRange, nullable, oneOf, strictObject } from './decode.js';
import { DEVICE_TYPES, GROUPS, type DeviceKind, type GroupName } from '../vmm/types.js';
// ----- the domain lifecycle (trace-format §3.6) -----
import { DomainConfigCodec } from './config.js';
// ----- end lifecycle -----

const IGNORE = ['op', 'expect'] as const;

/**
 * The kinds of argument an op takes. Each has its io-ts codec (which decides, and words every
 * error) and a plain check used on the fast path of `decodeOp`: the check may only accept what
 * the codec accepts, with the same value (a spec checks this on random input); anything it
 * does not accept goes through the codec.
 */
/**
 * A KVM attribute group (trace-format §10.2): its name (`"ADDR"`, ...) or a number, decoded to
 * the number. Any number passes (an unknown group is KVM's ENXIO, not a malformed trace).
 */
const GroupCodec = new t.Type<number, number, unknown>(
  `${Object.keys(GROUPS).map((n) => JSON.stringify(n)).join(' | ')} | non-negative integer`,
  (u): u is number => isNat(u),
  (u, c) => (isNat(u) ? t.success(u) : typeof u === 'string' && Object.hasOwn(GROUPS, u) ? t.success(GROUPS[u as GroupName]) : t.failure(u, c)),
  t.identity,
);

/** A KVM device type (trace-format §10.2): `"v2"`, `"v3"`, `"its"` or a number, decoded to the number. */
const DevtypeCodec = new t.Type<number, number, unknown>(
  '"v2" | "v3" | "its" | non-negative integer',
  (u): u is number => isNat(u),
  (u, c) => (isNat(u) ? t.success(u) : typeof u === 'string' && Object.hasOwn(DEVICE_TYPES, u) ? t.success(DEVICE_TYPES[u as DeviceKind]) : t.failure(u, c)),
  t.identity,
);

const KINDS = {
  nat: Nat,
  natOrNull: nullable(Nat),
  bool: t.boolean,
  hex: HexString,
  access: oneOf(['read', 'write'] as const),
  sysreg: oneOf(['ICC_SGI1R_EL1', 'ICC_ASGI1R_EL1', 'ICC_SGI0R_EL1'] as const),
  size: oneOf([1, 2, 4, 8] as const),
  byte: intRange(0, 255),
  bit: oneOf([0, 1] as const),
  // ----- the VMM front door (trace-format §10.2) -----
  group: GroupCodec,
  devtype: DevtypeCodec,
  hexOrNull: new t.Type<bigint | null, string | null, unknown>(
    'hex string | null', (u): u is bigint | null => u === null || HexString.is(u),
    (u, c) => (u === null ? t.success(null) : HexString.validate(u, c)), (a) => (a === null ? null : HexString.encode(a)),
  ),
  // ----- the domain lifecycle (trace-format §3.6): a config domain entry, decoded by the config's codec -----
  domainConfig: DomainConfigCodec,
} as const;
type Kind = keyof typeof KINDS;
type KindValue<K extends Kind> = t.TypeOf<(typeof KINDS)[K]>;

function isNat(u: unknown): u is number {
  return typeof u === 'number' && Number.isSafeInteger(u) && u >= 0;
}

/** Fast-path conversion of one argument: the decoded value, or NOT_FAST to let the codec decide. */
const NOT_FAST = Symbol('not fast');
const FAST: { [K in Kind]: (u: unknown) => KindValue<K> | typeof NOT_FAST } = {
  nat: (u) => (isNat(u) ? u : NOT_FAST),
  natOrNull: (u) => (u === null || isNat(u) ? u : NOT_FAST),
  bool: (u) => (typeof u === 'boolean' ? u : NOT_FAST),
  // Up to 16 hex digits after 0x always fit in 64 bits; longer strings go to the codec.
  hex: (u) => (typeof u === 'string' && u.length <= 18 && HEX.test(u) ? BigInt(u) : NOT_FAST),
  access: (u) => (u === 'read' || u === 'write' ? u : NOT_FAST),
  sysreg: (u) => (u === 'ICC_SGI1R_EL1' || u === 'ICC_ASGI1R_EL1' || u === 'ICC_SGI0R_EL1' ? u : NOT_FAST),
  size: (u) => (u === 1 || u === 2 || u === 4 || u === 8 ? u : NOT_FAST),
  byte: (u) => (typeof u === 'number' && Number.isInteger(u) && u >= 0 && u <= 255 ? u : NOT_FAST),
  bit: (u) => (u === 0 || u === 1 ? u : NOT_FAST),
  group: (u) => (isNat(u) ? u : typeof u === 'string' && Object.hasOwn(GROUPS, u) ? GROUPS[u as GroupName] : NOT_FAST),
  devtype: (u) => (isNat(u) ? u : typeof u === 'string' && Object.hasOwn(DEVICE_TYPES, u) ? DEVICE_TYPES[u as DeviceKind] : NOT_FAST),
  hexOrNull: (u) => (u === null ? null : typeof u === 'string' && u.length <= 18 && HEX.test(u) ? BigInt(u) : NOT_FAST),
  // A rare op: always the codec's, which decodes the entry and words its errors.
  domainConfig: () => NOT_FAST,
};
const HEX = /^0[xX][0-9a-fA-F]+$/;

interface OpSpec {
  readonly req: Readonly<Record<string, Kind>>;
  readonly opt?: Readonly<Record<string, Kind>>;
}

/** Every op of trace-format §3: its required and optional arguments, in the order they are written. */
const OP_SPECS = {
  run: { req: { pcpu: 'nat', domain: 'nat', vcpu: 'nat' } },
  idle: { req: { pcpu: 'nat' } },
  enter: { req: { pcpu: 'nat' } },
  exit: { req: { pcpu: 'nat' } },
  vcpu_off: { req: { domain: 'nat', vcpu: 'nat' } },
  vcpu_on: { req: { domain: 'nat', vcpu: 'nat' } },
  inject: { req: { pcpu: 'nat', domain: 'nat', vcpu: 'natOrNull', virq: 'nat' }, opt: { level: 'bool' } },
  route: { req: { domain: 'nat', virq: 'nat', pirq: 'nat' } },
  hw_irq: { req: { pirq: 'nat' } },
  mmio: { req: { pcpu: 'nat', access: 'access', addr: 'hex', size: 'size' }, opt: { value: 'hex' } },
  sysreg: { req: { pcpu: 'nat', access: 'access', reg: 'sysreg' }, opt: { value: 'hex' } },
  ack: { req: { pcpu: 'nat' } },
  eoi: { req: { pcpu: 'nat', intid: 'nat' } },
  dir: { req: { pcpu: 'nat', intid: 'nat' } },
  pmr: { req: { pcpu: 'nat', value: 'byte' } },
  eoimode: { req: { pcpu: 'nat', value: 'bit' } },
  pending_check: { req: { pcpu: 'nat' } },
  snapshot: { req: {} },
  // ----- LPIs and the virtual ITS (trace-format §9.2) -----
  mem_write: { req: { domain: 'nat', addr: 'hex', size: 'size', value: 'hex' } },
  mem_read: { req: { domain: 'nat', addr: 'hex', size: 'size' } },
  msi: { req: { pcpu: 'nat', domain: 'nat', devid: 'nat', eventid: 'nat' } },
  // ----- end ITS -----
  // ----- the VMM front door: KVM's device-control API (trace-format §10.2) -----
  vcpu_create: { req: { domain: 'nat', vcpu: 'nat' } },
  create_device: { req: { domain: 'nat', type: 'devtype', test: 'bool' } },
  set_attr: { req: { device: 'nat', group: 'group', attr: 'hex', value: 'hexOrNull' } },
  get_attr: { req: { device: 'nat', group: 'group', attr: 'hex', value: 'hexOrNull' } },
  has_attr: { req: { device: 'nat', group: 'group', attr: 'hex' } },
  kvm_run: { req: { domain: 'nat', vcpu: 'nat' } },
  // ----- end VMM -----
  // ----- the domain lifecycle (trace-format §3.6) -----
  domain_create: { req: { domain: 'domainConfig' } },
  domain_destroy: { req: { domain: 'nat' } },
  // ----- end lifecycle -----
} as const satisfies Record<string, OpSpec>;

export type OpName = keyof typeof OP_SPECS;
export const OP_NAMES = Object.keys(OP_SPECS) as OpName[];

type Spec<K extends OpName> = (typeof OP_SPECS)[K];
type Required<K extends OpName> = { [F in keyof Spec<K>['req']]: KindValue<Spec<K>['req'][F] & Kind> };
type Optional<K extends OpName> = Spec<K> extends { opt: infer O } ? { [F in keyof O]?: KindValue<O[F] & Kind> } : {};
type Args<K extends OpName> = Required<K> & Optional<K>;

/** A decoded step: the op name plus its arguments. */
export type Op = { [K in OpName]: { op: K } & Args<K> }[OpName];
export type OpOf<K extends OpName> = Extract<Op, { op: K }>;

function codecsOf(fields: Readonly<Record<string, Kind>> | undefined): t.Props {
  const out: t.Props = {};
  for (const [k, kind] of Object.entries(fields ?? {})) out[k] = KINDS[kind];
  return out;
}

/** One io-ts codec per op, built from OP_SPECS; the `op` key itself is checked before dispatch. */
export const OP_CODECS = {} as Record<OpName, t.Type<unknown, unknown, unknown>>;
/**
 * One specialised fast-path decoder per op, generated from the same table (see fastDecoder),
 * and one dispatcher that picks the op's decoder by name (see fastDispatcher).
 */
const FAST_DECODERS = {} as Record<OpName, (o: Record<string, unknown>) => Op | null>;
for (const name of OP_NAMES) {
  const spec: OpSpec = OP_SPECS[name];
  OP_CODECS[name] = strictObject(name, codecsOf(spec.req), codecsOf(spec.opt), IGNORE) as t.Type<unknown, unknown, unknown>;
  FAST_DECODERS[name] = fastDecoder(name, spec);
}

/**
 * The fast-path decoder of one op, generated once at load time from its row of OP_SPECS (our
 * own table: no input reaches the generated text). A generic loop over the table costs more
 * than the op itself (keyed loads on steps of many shapes, objects grown key by key); a
 * function per op reads each argument by a constant key and builds its op in one literal
 * (one literal per combination of the optional arguments present, so that no op is built by
 * spreading). It answers null whenever anything is unusual, and the codec then decides.
 */
function fastDecoder(name: OpName, spec: OpSpec): (o: Record<string, unknown>) => Op | null {
  const fields = [
    ...Object.entries(spec.req).map(([key, kind]) => ({ key, kind, required: true })),
    ...Object.entries(spec.opt ?? {}).map(([key, kind]) => ({ key, kind, required: false })),
  ];
  let body = 'let seen = 1;\n';
  fields.forEach((f, i) => {
    const k = JSON.stringify(f.key);
    body += `const r${i} = o[${k}];\nlet v${i};\n`;
    body += `if (r${i} === undefined) { ${f.required ? 'return null;' : ''} } else { v${i} = check${i}(r${i}); if (v${i} === NOT_FAST) return null; seen++; }\n`;
  });
  // Every own key must be an argument of the op, `op` or `expect` (an inherited argument is
  // read above but not counted here, so it fails too). `hasOwnProperty.call` inside `for in`,
  // not `Object.hasOwn`: V8 answers the former from the loop's own-key cache, at no cost.
  body += 'if (o.expect !== undefined) seen++;\nlet present = 0;\nfor (const k in o) if (hasOwnProperty.call(o, k)) present++;\nif (present !== seen) return null;\n';
  // The op literal for the optional arguments present (`withOpt`: which of them are).
  const literal = (withOpt: readonly boolean[]): string => {
    let opt = 0;
    const parts = fields.filter((f) => f.required || withOpt[opt++] === true).map((f) => `${JSON.stringify(f.key)}: v${fields.indexOf(f)}`);
    return `{ op: ${JSON.stringify(name)}${parts.map((p) => `, ${p}`).join('')} }`;
  };
  const optional = fields.flatMap((f, i) => (f.required ? [] : [i]));
  const build = (at: number, withOpt: boolean[]): string => {
    if (at === optional.length) return `return ${literal(withOpt)};`;
    return `if (v${optional[at]} !== undefined) { ${build(at + 1, [...withOpt, true])} } else { ${build(at + 1, [...withOpt, false])} }`;
  };
  body += build(0, []);
  const checks = fields.map((f) => FAST[f.kind]);
  const make = new Function('NOT_FAST', 'hasOwnProperty', ...fields.map((_, i) => `check${i}`), `return function decode_${name}(o) {\n${body}\n};`);
  return make(NOT_FAST, Object.prototype.hasOwnProperty, ...checks) as (o: Record<string, unknown>) => Op | null;
}

/**
 * The decoder of op `name` applied to `o`, or null when `name` is not an op: a switch on the
 * name (generated like the decoders, the ops of a guest's interrupt handling first), so each
 * decoder is called from a call site of its own instead of through a keyed lookup.
 */
function fastDispatcher(): (name: unknown, o: Record<string, unknown>) => Op | null {
  const first: OpName[] = ['inject', 'ack', 'eoi', 'enter', 'exit'];
  const order = [...first, ...OP_NAMES.filter((n) => !first.includes(n))];
  const cases = order.map((n) => `case ${JSON.stringify(n)}: return decode_${n}(o);`).join('\n');
  const make = new Function(...order.map((n) => `decode_${n}`), `return function decodeByName(name, o) {\nswitch (name) {\n${cases}\ndefault: return null;\n}\n};`);
  return make(...order.map((n) => FAST_DECODERS[n])) as (name: unknown, o: Record<string, unknown>) => Op | null;
}
const decodeByName = fastDispatcher();

function isOpName(s: unknown): s is OpName {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(OP_SPECS, s);
}

/**
 * The fast path of decodeOp: plain checks of a well-formed step, no io-ts and no error
 * values. Null when anything is unusual (an unknown or missing key, a value the plain check
 * does not take): then the codec decides and words the errors.
 */
export function decodeOpFast(u: unknown): Op | null {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return null;
  const o = u as Record<string, unknown>;
  const op = decodeByName(o['op'], o);
  // `value` goes with writes only (trace-format §3.3): anything else is decodeOp's to word.
  if (op !== null && (op.op === 'mmio' || op.op === 'sysreg') && (op.access === 'write') !== (op.value !== undefined)) return null;
  return op;
}

/** Decode one step; errors are lines with JSON paths under `base` (e.g. `steps[4]`). */
export function decodeOp(u: unknown, base = 'step'): E.Either<string[], Op> {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return E.left([`${base}: expected an object, got ${JSON.stringify(u)}`]);
  const op = (u as Record<string, unknown>)['op'];
  if (op === undefined) return E.left([`${base}.op: missing key (expected one of ${OP_NAMES.join(', ')})`]);
  if (!isOpName(op)) return E.left([`${base}.op: unknown op ${JSON.stringify(op)} (expected one of ${OP_NAMES.join(', ')})`]);
  let decoded = decodeOpFast(u);
  if (decoded === null) {
    const r = decodeWith(OP_CODECS[op], u, base);
    if (E.isLeft(r)) return r;
    decoded = { op, ...(r.right as object) } as Op;
  }
  // `value` goes with writes only (trace-format §3.3).
  if (decoded.op === 'mmio' || decoded.op === 'sysreg') {
    if (decoded.access === 'write' && decoded.value === undefined) return E.left([`${base}.value: missing key (a write needs a hex string value)`]);
    if (decoded.access === 'read' && decoded.value !== undefined) return E.left([`${base}.value: unknown key (a read takes no value)`]);
  }
  return E.right(decoded);
}
