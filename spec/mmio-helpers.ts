/**
 * Helpers for the guest register specs: guest physical addresses of the vGIC frames
 * (reference §2.6, docs/trace-format.md §3.3), mmio / sysreg steps through the Machine, and a compact
 * view of a RESULT (outcome, value, log levels) so that tests can assert all three exactly
 * without depending on the wording of Xen's messages.
 */
import { expect } from 'chai';
import type { Machine, Result } from '../src/machine/machine.js';
import type { LogLevel } from '../src/xen/types.js';
import { json, step } from './helpers.js';

/** Distributor base (v2: 4 KiB, v3: 64 KiB). */
export const GICD = 0x3001000;
/** GICv3 redistributor region 0. */
export const GICR = 0x3020000;
/** One redistributor frame: RD_base page then SGI_base page. */
export const FRAME = 0x20000;

/** Address of an offset in the distributor. */
export function d(off: number): number {
  return GICD + off;
}
/** Address of an offset in the RD_base page of vCPU n's redistributor frame. */
export function rd(n: number, off: number): number {
  return GICR + n * FRAME + off;
}
/** Address of an offset in the SGI_base page of vCPU n's redistributor frame. */
export function sgi(n: number, off: number): number {
  return GICR + n * FRAME + 0x10000 + off;
}

export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** A RESULT reduced to what the register specs assert: outcome, read value, log levels. */
export interface Seen {
  outcome: string;
  value?: string;
  log: LogLevel[];
}

export function seen(r: Result): Seen {
  const out: Seen = { outcome: r.outcome, log: (r.log ?? []).map((e) => e.level) };
  if (r.value !== undefined) out.value = r.value;
  return out;
}

export type Size = 1 | 2 | 4 | 8;

/** A guest load of `size` bytes at `addr`, executed on `pcpu` (which must be hyp). */
export function read(m: Machine, addr: number, size: Size = 4, pcpu = 0): Seen {
  return seen(step(m, { op: 'mmio', pcpu, access: 'read', addr: hex(addr), size }));
}

/** A guest store of `size` bytes at `addr`, executed on `pcpu` (which must be hyp). */
export function write(m: Machine, addr: number, size: Size, value: number | bigint, pcpu = 0): Seen {
  return seen(step(m, { op: 'mmio', pcpu, access: 'write', addr: hex(addr), size, value: hex(value) }));
}

/** A read that must succeed; returns its value as a bigint. */
export function readOk(m: Machine, addr: number, size: Size = 4, pcpu = 0): bigint {
  const r = read(m, addr, size, pcpu);
  expect(r.outcome, `read ${hex(addr)}/${size}`).to.equal('ok');
  return BigInt(r.value!);
}

/** A write that must succeed without any log. */
export function writeOk(m: Machine, addr: number, size: Size, value: number | bigint, pcpu = 0): void {
  expect(write(m, addr, size, value, pcpu), `write ${hex(value)} to ${hex(addr)}/${size}`).to.deep.equal({ outcome: 'ok', log: [] });
}

/** A trapped system register access. */
export function sysreg(m: Machine, reg: string, access: 'read' | 'write', value?: bigint, pcpu = 0): Seen {
  const op: Record<string, unknown> = { op: 'sysreg', pcpu, access, reg };
  if (value !== undefined) op['value'] = hex(value);
  return seen(step(m, op));
}

export const OK: Seen = { outcome: 'ok', log: [] };
export const ABORT: Seen = { outcome: 'abort', log: [] };
export const ABORT_ERR: Seen = { outcome: 'abort', log: ['err'] };
export function okValue(value: number | bigint, log: LogLevel[] = []): Seen {
  return { outcome: 'ok', value: hex(value), log };
}
export function okLog(...log: LogLevel[]): Seen {
  return { outcome: 'ok', log };
}

/**
 * Run `act` and assert that it leaves the machine's snapshot exactly as it was (a write
 * that is ignored); returns what `act` returned.
 */
export function unchanged<T>(m: Machine, act: () => T): T {
  const before = json(m);
  const r = act();
  expect(json(m), 'the snapshot changed').to.equal(before);
  return r;
}
