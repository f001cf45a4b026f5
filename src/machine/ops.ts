/**
 * The ops of trace-format §3 as io-ts codecs. Every key an op lists is required (`level` of
 * `inject` defaults to true); unknown keys are errors. `expect` belongs to the trace layer
 * and is accepted and ignored here.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { HexString, Nat, decodeWith, intRange, nullable, oneOf, strictObject } from './decode.js';

const IGNORE = ['op', 'expect'] as const;
const Access = oneOf(['read', 'write'] as const);
const SysReg = oneOf(['ICC_SGI1R_EL1', 'ICC_ASGI1R_EL1', 'ICC_SGI0R_EL1'] as const);

/** One codec per op name; the `op` key itself is checked before dispatch. */
export const OP_CODECS = {
  run: strictObject('run', { pcpu: Nat, domain: Nat, vcpu: Nat }, {}, IGNORE),
  idle: strictObject('idle', { pcpu: Nat }, {}, IGNORE),
  enter: strictObject('enter', { pcpu: Nat }, {}, IGNORE),
  exit: strictObject('exit', { pcpu: Nat }, {}, IGNORE),
  vcpu_off: strictObject('vcpu_off', { domain: Nat, vcpu: Nat }, {}, IGNORE),
  vcpu_on: strictObject('vcpu_on', { domain: Nat, vcpu: Nat }, {}, IGNORE),
  inject: strictObject('inject', { pcpu: Nat, domain: Nat, vcpu: nullable(Nat), virq: Nat }, { level: t.boolean }, IGNORE),
  route: strictObject('route', { domain: Nat, virq: Nat, pirq: Nat }, {}, IGNORE),
  hw_irq: strictObject('hw_irq', { pirq: Nat }, {}, IGNORE),
  mmio: strictObject('mmio', { pcpu: Nat, access: Access, addr: HexString, size: oneOf([1, 2, 4, 8] as const) }, { value: HexString }, IGNORE),
  sysreg: strictObject('sysreg', { pcpu: Nat, access: Access, reg: SysReg }, { value: HexString }, IGNORE),
  ack: strictObject('ack', { pcpu: Nat }, {}, IGNORE),
  eoi: strictObject('eoi', { pcpu: Nat, intid: Nat }, {}, IGNORE),
  dir: strictObject('dir', { pcpu: Nat, intid: Nat }, {}, IGNORE),
  pmr: strictObject('pmr', { pcpu: Nat, value: intRange(0, 255) }, {}, IGNORE),
  eoimode: strictObject('eoimode', { pcpu: Nat, value: oneOf([0, 1] as const) }, {}, IGNORE),
  pending_check: strictObject('pending_check', { pcpu: Nat }, {}, IGNORE),
  snapshot: strictObject('snapshot', {}, {}, IGNORE),
} as const;

export type OpName = keyof typeof OP_CODECS;
export const OP_NAMES = Object.keys(OP_CODECS) as OpName[];

type Args<K extends OpName> = t.TypeOf<(typeof OP_CODECS)[K]>;
/** A decoded step: the op name plus its arguments. */
export type Op = { [K in OpName]: { op: K } & Args<K> }[OpName];
export type OpOf<K extends OpName> = Extract<Op, { op: K }>;

function isOpName(s: unknown): s is OpName {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(OP_CODECS, s);
}

/** Decode one step; errors are lines with JSON paths under `base` (e.g. `steps[4]`). */
export function decodeOp(u: unknown, base = 'step'): E.Either<string[], Op> {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return E.left([`${base}: expected an object, got ${JSON.stringify(u)}`]);
  const op = (u as Record<string, unknown>)['op'];
  if (op === undefined) return E.left([`${base}.op: missing key (expected one of ${OP_NAMES.join(', ')})`]);
  if (!isOpName(op)) return E.left([`${base}.op: unknown op ${JSON.stringify(op)} (expected one of ${OP_NAMES.join(', ')})`]);
  const r = decodeWith(OP_CODECS[op] as t.Type<unknown, unknown, unknown>, u, base);
  if (E.isLeft(r)) return r;
  const decoded = { op, ...(r.right as object) } as Op;
  // `value` goes with writes only (trace-format §3.3).
  if (decoded.op === 'mmio' || decoded.op === 'sysreg') {
    if (decoded.access === 'write' && decoded.value === undefined) return E.left([`${base}.value: missing key (a write needs a hex string value)`]);
    if (decoded.access === 'read' && decoded.value !== undefined) return E.left([`${base}.value: unknown key (a read takes no value)`]);
  }
  return E.right(decoded);
}
