/**
 * Step decoding (docs/trace-format.md §1, §3): every op's keys are required except where the format
 * says otherwise, unknown keys and wrong JSON types are trace errors whose lines name the
 * JSON path, the expectation and the value found; hex strings are read leniently and
 * written canonically.
 *
 * Property tests print their seed and path on failure; replay with FC_SEED / FC_PATH
 * (toolchain.md §5).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { HexString, toHex } from '../src/machine/decode.js';
import { OP_NAMES, decodeOp } from '../src/machine/ops.js';
import { runs } from './fc-replay.js';

const RUNS = runs(300);

const OPS = 'run, idle, enter, exit, vcpu_off, vcpu_on, inject, route, hw_irq, mmio, sysreg, ack, eoi, dir, pmr, eoimode, pending_check, snapshot, mem_write, mem_read, msi, '
  + 'vcpu_create, create_device, set_attr, get_attr, has_attr, kvm_run, domain_create, domain_destroy';

function errors(u: unknown, base?: string): string[] {
  const r = base === undefined ? decodeOp(u) : decodeOp(u, base);
  if (E.isRight(r)) throw new Error(`expected a decode error for ${JSON.stringify(u)}`);
  return r.left;
}

function decoded(u: unknown): unknown {
  const r = decodeOp(u);
  if (E.isLeft(r)) throw new Error(`expected ${JSON.stringify(u)} to decode, got: ${r.left.join('; ')}`);
  return r.right;
}

describe('Step decoding (docs/trace-format.md §3)', () => {
  describe('error lines name the path, the expectation and the value', () => {
    it('trace-format §3.3: mmio size 3 gives "steps[4].size: expected 1 | 2 | 4 | 8, got 3"', () => {
      expect(errors({ op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001000', size: 3, value: '0x1' }, 'steps[4]'))
        .to.deep.equal(['steps[4].size: expected 1 | 2 | 4 | 8, got 3']);
    });

    it('trace-format §3: the op list covers every op of the format, in table order', () => {
      expect(OP_NAMES.join(', ')).to.equal(OPS);
    });

    it('trace-format §3: an unknown op is a trace error listing the known ops', () => {
      expect(errors({ op: 'frob', pcpu: 0 }, 'steps[2]')).to.deep.equal([`steps[2].op: unknown op "frob" (expected one of ${OPS})`]);
    });

    it('trace-format §3: a non-string op is an unknown op', () => {
      expect(errors({ op: 3 })).to.deep.equal([`step.op: unknown op 3 (expected one of ${OPS})`]);
    });

    it('trace-format §3: an op named after an Object prototype member is unknown', () => {
      expect(errors({ op: 'toString' })).to.deep.equal([`step.op: unknown op "toString" (expected one of ${OPS})`]);
    });

    it('trace-format §3: a missing op is a trace error', () => {
      expect(errors({ pcpu: 0 })).to.deep.equal([`step.op: missing key (expected one of ${OPS})`]);
    });

    it('trace-format §3: a step that is not an object is a trace error', () => {
      expect(errors(42, 'steps[0]')).to.deep.equal(['steps[0]: expected an object, got 42']);
      expect(errors(null)).to.deep.equal(['step: expected an object, got null']);
      expect(errors([])).to.deep.equal(['step: expected an object, got []']);
    });

    it('trace-format §3: an unknown key is a trace error', () => {
      expect(errors({ op: 'ack', pcpu: 0, cpu: 1 }, 'steps[1]')).to.deep.equal(['steps[1].cpu: unknown key']);
    });

    it('trace-format §3: a missing key is a trace error naming the expected type', () => {
      expect(errors({ op: 'run', pcpu: 0, domain: 1 })).to.deep.equal(['step.vcpu: missing key (expected non-negative integer)']);
      expect(errors({ op: 'inject', pcpu: 0, domain: 1, virq: 40 })).to.deep.equal(['step.vcpu: missing key (expected non-negative integer | null)']);
    });

    it('trace-format §3: wrong JSON types are trace errors', () => {
      expect(errors({ op: 'run', pcpu: '0', domain: 1, vcpu: 0 })).to.deep.equal(['step.pcpu: expected non-negative integer, got "0"']);
      expect(errors({ op: 'run', pcpu: -1, domain: 1, vcpu: 0 })).to.deep.equal(['step.pcpu: expected non-negative integer, got -1']);
      expect(errors({ op: 'run', pcpu: 0.5, domain: 1, vcpu: 0 })).to.deep.equal(['step.pcpu: expected non-negative integer, got 0.5']);
      expect(errors({ op: 'run', pcpu: 0, domain: 1, vcpu: null })).to.deep.equal(['step.vcpu: expected non-negative integer, got null']);
      expect(errors({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40, level: 'yes' }))
        .to.deep.equal(['step.level: expected boolean, got "yes"']);
      expect(errors({ op: 'mmio', pcpu: 0, access: 'rw', addr: '0x3001000', size: 4 }))
        .to.deep.equal(['step.access: expected "read" | "write", got "rw"']);
      expect(errors({ op: 'sysreg', pcpu: 0, access: 'write', reg: 'ICC_SGI1R', value: '0x1' }))
        .to.deep.equal(['step.reg: expected "ICC_SGI1R_EL1" | "ICC_ASGI1R_EL1" | "ICC_SGI0R_EL1", got "ICC_SGI1R"']);
    });

    it('trace-format §3.4: pmr value must be 0..255 and eoimode value 0 or 1', () => {
      expect(errors({ op: 'pmr', pcpu: 0, value: 256 })).to.deep.equal(['step.value: expected integer 0..255, got 256']);
      expect(errors({ op: 'pmr', pcpu: 0, value: '0xf0' })).to.deep.equal(['step.value: expected integer 0..255, got "0xf0"']);
      expect(errors({ op: 'eoimode', pcpu: 0, value: 2 })).to.deep.equal(['step.value: expected 0 | 1, got 2']);
    });

    it('trace-format §1/§3.3: addresses and values must be hex strings, never JSON numbers', () => {
      expect(errors({ op: 'mmio', pcpu: 0, access: 'read', addr: 50335744, size: 4 }))
        .to.deep.equal(['step.addr: expected hex string, got 50335744']);
      expect(errors({ op: 'mmio', pcpu: 0, access: 'read', addr: '3001000', size: 4 }))
        .to.deep.equal(['step.addr: expected hex string, got "3001000"']);
      expect(errors({ op: 'mmio', pcpu: 0, access: 'read', addr: '0x', size: 4 }))
        .to.deep.equal(['step.addr: expected hex string, got "0x"']);
      expect(errors({ op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001000', size: 4, value: '0x1g' }))
        .to.deep.equal(['step.value: expected hex string, got "0x1g"']);
    });

    it('trace-format §3: every problem of a step is reported, unknown keys first, then keys in the op\'s order', () => {
      expect(errors({ op: 'mmio', bogus: 1, pcpu: -1, access: 'rw', size: 3, value: 7 }, 'steps[9]')).to.deep.equal([
        'steps[9].bogus: unknown key',
        'steps[9].pcpu: expected non-negative integer, got -1',
        'steps[9].access: expected "read" | "write", got "rw"',
        'steps[9].addr: missing key (expected hex string)',
        'steps[9].size: expected 1 | 2 | 4 | 8, got 3',
        'steps[9].value: expected hex string, got 7',
      ]);
    });

    it('trace-format §3.4: eoi / dir intid must be a number >= 0', () => {
      expect(errors({ op: 'eoi', pcpu: 0, intid: -1 })).to.deep.equal(['step.intid: expected non-negative integer, got -1']);
      expect(errors({ op: 'dir', pcpu: 0, intid: '27' })).to.deep.equal(['step.intid: expected non-negative integer, got "27"']);
    });
  });

  describe('accepted steps', () => {
    it('trace-format §3.2: inject accepts vcpu null (SPIs) and leaves level absent when not given (default true)', () => {
      expect(decoded({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40 }))
        .to.deep.equal({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40 });
      const r = decoded({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40 }) as Record<string, unknown>;
      expect('level' in r).to.equal(false);
    });

    it('trace-format §3.2: inject keeps an explicit level and a vCPU id', () => {
      expect(decoded({ op: 'inject', pcpu: 1, domain: 2, vcpu: 3, virq: 27, level: false }))
        .to.deep.equal({ op: 'inject', pcpu: 1, domain: 2, vcpu: 3, virq: 27, level: false });
    });

    it('trace-format §3: expect is accepted and dropped by the op decoder', () => {
      expect(decoded({ op: 'ack', pcpu: 0, expect: { result: { outcome: 'ok', intid: 27 } } })).to.deep.equal({ op: 'ack', pcpu: 0 });
    });

    it('trace-format §3.5: snapshot takes no arguments', () => {
      expect(decoded({ op: 'snapshot' })).to.deep.equal({ op: 'snapshot' });
      expect(errors({ op: 'snapshot', pcpu: 0 })).to.deep.equal(['step.pcpu: unknown key']);
    });

    it('trace-format §1: hex strings accept upper case, an upper-case X and leading zeros; values decode to bigints', () => {
      expect(decoded({ op: 'mmio', pcpu: 0, access: 'write', addr: '0x0003001100', size: 4, value: '0xDEADBEEF' }))
        .to.deep.equal({ op: 'mmio', pcpu: 0, access: 'write', addr: 0x3001100n, size: 4, value: 0xdeadbeefn });
      expect(decoded({ op: 'mmio', pcpu: 0, access: 'read', addr: '0X3001000', size: 1 }))
        .to.deep.equal({ op: 'mmio', pcpu: 0, access: 'read', addr: 0x3001000n, size: 1 });
    });

    it('trace-format §1: a 64-bit value keeps every bit (0xFFFFFFFFFFFFFFFF)', () => {
      expect(decoded({ op: 'sysreg', pcpu: 0, access: 'write', reg: 'ICC_SGI1R_EL1', value: '0xFFFFFFFFFFFFFFFF' }))
        .to.deep.equal({ op: 'sysreg', pcpu: 0, access: 'write', reg: 'ICC_SGI1R_EL1', value: 2n ** 64n - 1n });
    });

    it('trace-format §3.4: pmr accepts 0 and 255, eoimode 0 and 1', () => {
      expect(decoded({ op: 'pmr', pcpu: 0, value: 255 })).to.deep.equal({ op: 'pmr', pcpu: 0, value: 255 });
      expect(decoded({ op: 'pmr', pcpu: 0, value: 0 })).to.deep.equal({ op: 'pmr', pcpu: 0, value: 0 });
      expect(decoded({ op: 'eoimode', pcpu: 0, value: 1 })).to.deep.equal({ op: 'eoimode', pcpu: 0, value: 1 });
    });
  });

  describe('canonical hex (trace-format §1)', () => {
    it('trace-format §1: toHex is lower case, 0x-prefixed, without leading zeros', () => {
      expect(toHex(0n)).to.equal('0x0');
      expect(toHex(0)).to.equal('0x0');
      expect(toHex(0x3001000n)).to.equal('0x3001000');
      expect(toHex(255)).to.equal('0xff');
      expect(toHex(0xdeadbeefn)).to.equal('0xdeadbeef');
      expect(toHex(2n ** 64n - 1n)).to.equal('0xffffffffffffffff');
      expect(toHex(0x50a000000000001bn)).to.equal('0x50a000000000001b');
    });

    it('trace-format §1: property: any 64-bit value read back from any accepted spelling re-encodes canonically', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.boolean(), (v, zeros, upper, bigX) => {
          const digits = '0'.repeat(zeros) + v.toString(16);
          const spelled = `0${bigX ? 'X' : 'x'}${upper ? digits.toUpperCase() : digits}`;
          const r = HexString.decode(spelled);
          expect(r).to.deep.equal(E.right(v));
          const canonical = toHex(v);
          expect(canonical).to.match(/^0x(0|[1-9a-f][0-9a-f]*)$/);
          expect(HexString.encode(v)).to.equal(canonical);
          expect(BigInt(canonical)).to.equal(v);
        }),
        RUNS,
      );
    });
  });
});

describe('decodeOp: value goes with writes only (trace-format §3.3)', () => {
  it('trace-format §3.3: an mmio write without value is refused with the path of value', () => {
    const r = decodeOp({ op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001000', size: 4 }, 'steps[2]');
    expect(E.isLeft(r) && r.left).to.deep.equal(['steps[2].value: missing key (a write needs a hex string value)']);
  });
  it('trace-format §3.3: an mmio or sysreg read with a value is refused', () => {
    const r = decodeOp({ op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001000', size: 4, value: '0x0' }, 'steps[3]');
    expect(E.isLeft(r) && r.left).to.deep.equal(['steps[3].value: unknown key (a read takes no value)']);
    const s = decodeOp({ op: 'sysreg', pcpu: 0, access: 'read', reg: 'ICC_SGI1R_EL1', value: '0x1' }, 'steps[4]');
    expect(E.isLeft(s) && s.left).to.deep.equal(['steps[4].value: unknown key (a read takes no value)']);
  });
  it('trace-format §3.3: a sysreg write with a value decodes to a bigint', () => {
    const r = decodeOp({ op: 'sysreg', pcpu: 1, access: 'write', reg: 'ICC_SGI1R_EL1', value: '0x10000000001' }, 'steps[0]');
    expect(E.isRight(r) && r.right).to.deep.equal({ op: 'sysreg', pcpu: 1, access: 'write', reg: 'ICC_SGI1R_EL1', value: 0x10000000001n });
  });
});
