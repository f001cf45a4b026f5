/**
 * A machine stepped through a monitor (the invariant checker, the property monitor or both),
 * shared by the invariant and property specs. `step` runs one step and returns what the
 * monitor found; `corrupt` runs between the step and the monitor's judgement. `ok` is a step
 * after which the monitor must be silent (and Xen must not crash); the named helpers are `ok`
 * steps.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { TraceError, type Machine, type Result } from '../src/machine/machine.js';
import { decodeOp, type Op } from '../src/machine/ops.js';
import { DOM, stepIndex } from './helpers.js';
import { d, hex } from './mmio-helpers.js';

export interface Found {
  id: string;
  message: string;
}

export interface Monitor {
  before?(op: Op): void;
  after(op: Op, r: Result): Found[];
}

export function opOf(u: Record<string, unknown>): Op {
  const r = decodeOp(u);
  if (E.isLeft(r)) return expect.fail(`bad op ${JSON.stringify(u)}: ${r.left.join('; ')}`);
  return r.right;
}

export function lines(found: readonly Found[]): string {
  return found.map((f) => `${f.id}: ${f.message}`).join('\n') || '(nothing)';
}

export class Watch {
  private index: number;

  constructor(readonly m: Machine, readonly mon: Monitor) {
    this.index = stepIndex(m);
  }

  step(u: Record<string, unknown>, corrupt?: () => void): { r: Result; found: Found[] } {
    const op = opOf(u);
    this.mon.before?.(op);
    const r = this.m.apply(op, this.index++);
    if (r instanceof TraceError) return expect.fail(`unexpected trace error: ${r.message}`);
    corrupt?.();
    return { r, found: this.mon.after(op, r) };
  }

  go(u: Record<string, unknown>, corrupt?: () => void): Found[] {
    return this.step(u, corrupt).found;
  }

  /** A step after which the monitor must be silent. */
  ok(u: Record<string, unknown>): Result {
    const { r, found } = this.step(u);
    expect(r.outcome, JSON.stringify(u)).to.not.equal('crash');
    expect(found, `after ${JSON.stringify(u)}:\n${lines(found)}`).to.deep.equal([]);
    return r;
  }

  run(p: number, v: number): void { this.ok({ op: 'run', pcpu: p, domain: DOM, vcpu: v }); }
  idle(p: number): void { this.ok({ op: 'idle', pcpu: p }); }
  enter(p: number): void { this.ok({ op: 'enter', pcpu: p }); }
  exit(p: number): void { this.ok({ op: 'exit', pcpu: p }); }
  pmr(p: number, value = 0xff): void { this.ok({ op: 'pmr', pcpu: p, value }); }
  eoi(p: number, intid: number): void { this.ok({ op: 'eoi', pcpu: p, intid }); }
  ack(p: number): number { return this.ok({ op: 'ack', pcpu: p }).intid!; }
  inject(p: number, virq: number, v: number | null = virq < 32 ? 0 : null): void {
    this.ok({ op: 'inject', pcpu: p, domain: DOM, vcpu: v, virq });
  }
  vcpuOff(v: number): void { this.ok({ op: 'vcpu_off', domain: DOM, vcpu: v }); }
  vcpuOn(v: number): void { this.ok({ op: 'vcpu_on', domain: DOM, vcpu: v }); }
  /** A guest distributor store (through the machine, so a mutant applies). */
  write(p: number, off: number, size: 1 | 4, value: number): void {
    const r = this.ok({ op: 'mmio', pcpu: p, access: 'write', addr: hex(d(off)), size, value: hex(value >>> 0) });
    expect(r.outcome, `write ${hex(value)} to GICD+${hex(off)}`).to.equal('ok');
  }
}
