/**
 * Shared helpers for the core-model and machine specs: build a machine, drive it one step
 * at a time (failing the test on a trace error), and poke the parts of the model that guest
 * MMIO would normally reach (priorities, enables, SPI targets).
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { Machine, type Result } from '../src/machine/machine.js';
import type { IrqSnapshot, Snapshot, VcpuSnapshot, LrSnapshot } from '../src/machine/snapshot.js';
import {
  statusNames, type Domain, type Pcpu, type PendingIrq, type StatusName, type Vcpu,
} from '../src/xen/types.js';
import { vgicDisableIrqs, vgicEnableIrqs, vgicGetRank } from '../src/xen/vgic.js';

/** The domain id every helper config uses. */
export const DOM = 1;

export interface Cfg {
  gic?: 'v2' | 'v3';
  nr_lrs?: number;
  pcpus?: number;
  vcpus?: number;
  nr_spis?: number;
  pirqs?: number[];
}

/** A one-domain config (domain 1); defaults: v3, 4 LRs, 2 pCPUs, 2 vCPUs, 64 SPIs. */
export function config(c: Cfg = {}): Record<string, unknown> {
  const dom: Record<string, unknown> = { id: DOM, vcpus: c.vcpus ?? 2, nr_spis: c.nr_spis ?? 64 };
  if (c.pirqs !== undefined) dom['pirqs'] = c.pirqs;
  return { gic: c.gic ?? 'v3', nr_lrs: c.nr_lrs ?? 4, pcpus: c.pcpus ?? 2, domains: [dom] };
}

const nextIndex = new WeakMap<Machine, number>();

/** Machine.create, unwrapped (fails the test on Left). */
export function machine(cfg: unknown = config()): Machine {
  const r = Machine.fromJson(cfg);
  if (E.isLeft(r)) return expect.fail(`Machine.create failed: ${r.left.join('; ')}`);
  nextIndex.set(r.right, 0);
  return r.right;
}

/** The index the next step() / stepError() call will use. */
export function stepIndex(m: Machine): number {
  return nextIndex.get(m) ?? 0;
}

function takeIndex(m: Machine): number {
  const i = stepIndex(m);
  nextIndex.set(m, i + 1);
  return i;
}

/** Apply one step; a trace error fails the test with its message. */
export function step(m: Machine, op: Record<string, unknown>): Result {
  const r = m.step(op, takeIndex(m));
  if (E.isLeft(r)) return expect.fail(`unexpected trace error: ${r.left}`);
  return r.right;
}

/** Apply one step that must be a trace error; returns the message. */
export function stepError(m: Machine, op: unknown): string {
  const r = m.step(op, takeIndex(m));
  if (E.isRight(r)) return expect.fail(`expected a trace error, got ${JSON.stringify(r.right)}`);
  return r.left;
}

// ----- op shorthands (domain 1) -----

export function run(m: Machine, pcpu: number, vcpu: number): Result {
  return step(m, { op: 'run', pcpu, domain: DOM, vcpu });
}
export function idle(m: Machine, pcpu: number): Result {
  return step(m, { op: 'idle', pcpu });
}
export function enter(m: Machine, pcpu: number): Result {
  return step(m, { op: 'enter', pcpu });
}
export function exit(m: Machine, pcpu: number): Result {
  return step(m, { op: 'exit', pcpu });
}
/** inject: `vcpu` must be a number for SGIs/PPIs and null for SPIs (docs/trace-format.md §3.2). */
export function inject(m: Machine, pcpu: number, virq: number, vcpu: number | null = virq < 32 ? 0 : null, level?: boolean): Result {
  const op: Record<string, unknown> = { op: 'inject', pcpu, domain: DOM, vcpu, virq };
  if (level !== undefined) op['level'] = level;
  return step(m, op);
}
export function ack(m: Machine, pcpu: number): number {
  const r = step(m, { op: 'ack', pcpu });
  expect(r.outcome).to.equal('ok');
  return r.intid!;
}
export function eoi(m: Machine, pcpu: number, intid: number): Result {
  return step(m, { op: 'eoi', pcpu, intid });
}
export function dir(m: Machine, pcpu: number, intid: number): Result {
  return step(m, { op: 'dir', pcpu, intid });
}
export function pmr(m: Machine, pcpu: number, value: number): Result {
  return step(m, { op: 'pmr', pcpu, value });
}
export function eoimode(m: Machine, pcpu: number, value: 0 | 1): Result {
  return step(m, { op: 'eoimode', pcpu, value });
}
export function pendingCheck(m: Machine, pcpu: number): number {
  const r = step(m, { op: 'pending_check', pcpu });
  expect(r.outcome).to.equal('ok');
  return r.pending!;
}

// ----- model objects -----

export function dom(m: Machine): Domain {
  return m.host.domains.get(DOM)!;
}
export function vcpu(m: Machine, n: number): Vcpu {
  return dom(m).vcpus[n]!;
}
export function pcpu(m: Machine, n: number): Pcpu {
  return m.host.pcpus[n]!;
}
/** The pending_irq record: the vCPU's own for INTIDs < 32, the domain's for SPIs. */
export function rec(m: Machine, irq: number, vcpuId = 0): PendingIrq {
  return irq < 32 ? vcpu(m, vcpuId).pendingIrqs[irq]! : dom(m).pendingIrqs[irq - 32]!;
}
export function status(m: Machine, irq: number, vcpuId = 0): StatusName[] {
  return statusNames(rec(m, irq, vcpuId).status);
}

/** What a guest IPRIORITYR byte write stores (rank 0 of `vcpuId` for INTIDs < 32). */
export function setPriority(m: Machine, irq: number, prio: number, vcpuId = 0): void {
  vgicGetRank(vcpu(m, vcpuId), irq >> 5)!.priority[irq % 32] = prio;
}

/** What an ITARGETSR/IROUTER store records for a purely virtual SPI. */
export function setTarget(m: Machine, spi: number, target: number): void {
  vgicGetRank(vcpu(m, 0), spi >> 5)!.vcpu[spi % 32] = target;
}

interface Access {
  /** The pCPU executing the register write (its `current` matters); default 0. */
  pcpu?: number;
  /** The accessing vCPU (owner of rank 0); default: current of that pCPU, else vCPU0. */
  vcpu?: number;
}

function accessor(m: Machine, a: Access): { cpu: Pcpu; v: Vcpu } {
  const cpu = pcpu(m, a.pcpu ?? 0);
  const v = a.vcpu !== undefined ? vcpu(m, a.vcpu) : cpu.current ?? vcpu(m, 0);
  return { cpu, v };
}

/** ISENABLER write of `bits` to rank `rankIndex`: ienable |= bits, newly set bits enabled. */
export function enableBits(m: Machine, rankIndex: number, bits: number, a: Access = {}): void {
  const { cpu, v } = accessor(m, a);
  const rank = vgicGetRank(v, rankIndex)!;
  const old = rank.ienable;
  rank.ienable = (rank.ienable | bits) >>> 0;
  vgicEnableIrqs(cpu, v, (rank.ienable & ~old) >>> 0, rankIndex);
}

/** ICENABLER write of `bits` to rank `rankIndex`: newly cleared bits disabled. */
export function disableBits(m: Machine, rankIndex: number, bits: number, a: Access = {}): void {
  const { cpu, v } = accessor(m, a);
  const rank = vgicGetRank(v, rankIndex)!;
  const old = rank.ienable;
  rank.ienable = (rank.ienable & ~bits) >>> 0;
  vgicDisableIrqs(cpu, v, (old & ~rank.ienable) >>> 0, rankIndex);
}

export function enable(m: Machine, irq: number, a: Access = {}): void {
  enableBits(m, irq >> 5, (1 << (irq % 32)) >>> 0, a);
}
export function disable(m: Machine, irq: number, a: Access = {}): void {
  disableBits(m, irq >> 5, (1 << (irq % 32)) >>> 0, a);
}

/** setPriority + enable, the usual preparation of an IRQ. */
export function prepare(m: Machine, irq: number, prio: number, a: Access = {}): void {
  setPriority(m, irq, prio, irq < 32 ? (a.vcpu ?? 0) : 0);
  enable(m, irq, a);
}

// ----- snapshot views -----

export function snap(m: Machine): Snapshot {
  return m.snapshot();
}
export function json(m: Machine): string {
  return JSON.stringify(m.snapshot());
}
export function vsnap(m: Machine, vcpuId: number): VcpuSnapshot {
  return m.snapshot().domains[0]!.vcpus[vcpuId]!;
}
/** The snapshot's irqs entry for (irq, vcpu), or undefined when it is not listed. */
export function irqsnap(m: Machine, irq: number, vcpuId: number | null = irq < 32 ? 0 : null): IrqSnapshot | undefined {
  return m.snapshot().domains[0]!.irqs.find((e) => e.irq === irq && e.vcpu === vcpuId);
}
/** The vCPU's LRs as (lr, raw, state) triples. */
export function lrs(m: Machine, vcpuId: number): Pick<LrSnapshot, 'lr' | 'raw' | 'state'>[] {
  return vsnap(m, vcpuId).lrs.map((l) => ({ lr: l.lr, raw: l.raw, state: l.state }));
}
/** inflight as [irq, lr] pairs. */
export function inflight(m: Machine, vcpuId: number): [number, number][] {
  return vsnap(m, vcpuId).inflight.map((e) => [e.irq, e.lr]);
}
export function lrPending(m: Machine, vcpuId: number): number[] {
  return vsnap(m, vcpuId).lr_pending;
}
export function uie(m: Machine, pcpuId: number): boolean {
  return m.snapshot().pcpus[pcpuId]!.uie;
}
