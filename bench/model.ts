/**
 * The bench's one view of the model's API, so the figures measure the same work whatever the
 * API's shape: a failed step is a bug in the bench and throws.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Config } from '../src/machine/config.js';
import { Machine, TraceError, type Result } from '../src/machine/machine.js';
import type { Op } from '../src/machine/ops.js';
import { vgicSyncFromLrs, vgicSyncToLrs } from '../src/xen/gic-vgic.js';
import { vgicInjectIrq } from '../src/xen/vgic.js';

export type BenchMachine = Machine;

export function create(config: Config): Machine {
  const m = Machine.create(config);
  if (E.isLeft(m)) throw new Error(`bench config refused: ${m.left.join('; ')}`);
  return m.right;
}

/** A machine from a config already decoded (decodeConfig): Machine.build, without decoding it again. */
export function build(config: Config): Machine {
  return Machine.build(config);
}

/** Decode and apply one step (Machine.step). */
export function stepRaw(m: Machine, raw: Record<string, unknown>, index: number): Result {
  const r = m.step(raw, index);
  if (E.isLeft(r)) throw new Error(`bench step ${index} refused: ${r.left}`);
  return r.right;
}

export function applyAt(m: Machine, op: Op, index: number): Result {
  const r = m.apply(op, index);
  if (r instanceof TraceError) throw new Error(`bench op ${index} refused: ${r.message}`);
  return r;
}

export function applyOne(m: Machine, op: Op): Result {
  return applyAt(m, op, 0);
}

export function applyAll(m: Machine, ops: readonly Op[]): void {
  for (let i = 0; i < ops.length; i++) {
    const r = m.apply(ops[i]!, i);
    if (r instanceof TraceError) throw new Error(`bench op ${i} refused: ${r.message}`);
  }
}

/**
 * The steady loop's ops run on the model's Xen functions directly, as the op handlers call
 * them but without Machine.apply's dispatch, precondition checks and results: what the Xen
 * code itself costs (steady_core_ops_s). Only the ops of the steady loop are known here.
 */
export function coreAll(m: Machine, ops: readonly Op[]): void {
  const host = m.host;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    switch (op.op) {
      case 'inject': {
        const d = host.domains.get(op.domain)!;
        vgicInjectIrq(host.pcpus[op.pcpu]!, d, op.vcpu === null ? null : d.vcpus[op.vcpu]!, op.virq, op.level ?? true);
        break;
      }
      case 'enter': {
        const cpu = host.pcpus[op.pcpu]!;
        vgicSyncToLrs(cpu);
        cpu.mode = 'guest';
        break;
      }
      case 'ack':
        host.pcpus[op.pcpu]!.cpuif.acknowledge();
        break;
      case 'eoi':
        host.pcpus[op.pcpu]!.cpuif.endOfInterrupt(op.intid, m.deactivatePhysical);
        break;
      case 'exit': {
        const cpu = host.pcpus[op.pcpu]!;
        vgicSyncFromLrs(cpu, cpu.current);
        cpu.mode = 'hyp';
        break;
      }
      default:
        throw new Error(`coreAll: op ${op.op} is not one of the steady loop's`);
    }
  }
}

export function stepAll(m: Machine, raws: readonly Record<string, unknown>[]): void {
  for (let i = 0; i < raws.length; i++) {
    const r = m.step(raws[i], i);
    if (r._tag === 'Left') throw new Error(`bench step ${i} refused: ${r.left}`);
  }
}

export function crashed(m: Machine): boolean {
  return m.crashed !== null;
}

export function snapshotJson(m: Machine): string {
  return m.snapshotJson();
}

export function inflightCount(m: Machine): number {
  let n = 0;
  for (const d of m.host.domains.values()) {
    for (const v of d.vcpus) for (let p = v.inflightIrqs.next; p !== v.inflightIrqs; p = p.next) n += 1;
  }
  return n;
}
