/**
 * The random trace generator behind `vgic fuzz`, `vgic diff --random` and the property
 * tests: seeded, and valid by construction (each candidate step is tried on a reference
 * Machine and kept only if it is not a trace error). Steps favour a small set of "hot"
 * interrupts and a few priorities, so that equal priorities, full LRs, eviction, re-assertion
 * and retargeting happen often.
 */
import * as E from 'fp-ts/lib/Either.js';
import { maxLrsFor, maxVcpusFor, type GicVersion } from '../arch/limits.js';
import type { Config, DomainConfig } from '../machine/config.js';
import { toHex } from '../machine/decode.js';
import { Machine, TraceError, type Result } from '../machine/machine.js';
import { decodeOp, type Op, type OpName } from '../machine/ops.js';
import { getField } from '../arch/lr.js';
import type { Domain, Pcpu, Vcpu } from '../xen/types.js';
import { GEN_ITS_LAYOUT, addIts, itsBatch, itsDomains } from './gen-its.js';
import { DEFAULT_VMM_PROBABILITY, addVmm, guestLayout, hasDeviceDomain, vmmAllowed, vmmBatch } from './gen-vmm.js';
import { lifeGen } from './gen-life.js';
import { Rng } from './rng.js';
import { TRACE_FORMAT } from './trace.js';

// The seeded PRNG traces are generated from (src/conformance/rng.ts).
export { Rng } from './rng.js';

// ----- configs -----

export interface ConfigOptions {
  gic?: GicVersion | undefined;
  nrLrs?: number | undefined;
  pcpus?: number | undefined;
  vcpus?: number | undefined;
  spis?: number | undefined;
  domains?: number | undefined;
  /**
   * Multi-domain configs (the noninterference runs, P7): 2-4 domains sharing the pCPUs, with
   * varied ids, and traces that now and then inject into a domain from a pCPU running another.
   * Off by default; off, every seed gives the trace it gave before the option existed.
   */
  multiDomain?: boolean | undefined;
}

/** A random valid config; fixed where `o` says so. */
export function randomConfig(rng: Rng, o: ConfigOptions = {}): Config {
  const gic = o.gic ?? rng.pick(['v2', 'v3'] as const);
  const nrLrs = o.nrLrs ?? rng.weighted([[4, rng.int(1, 2)], [4, rng.int(3, 4)], [1, rng.int(5, maxLrsFor(gic) === 64 ? 16 : 16)]]);
  const pcpus = o.pcpus ?? rng.weighted([[3, 1], [3, 2], [1, rng.int(3, 4)]]);
  const nDomains = o.domains ?? (o.multiDomain === true ? rng.int(2, 4) : rng.weighted([[4, 1], [1, 2]]));
  const domains: DomainConfig[] = [];
  const usedIds = new Set<number>();
  let nextPirq = 64;
  for (let i = 0; i < nDomains; i++) {
    let id = rng.weighted([[3, i + 1], [1, i], [1, rng.int(0, 32767)]]);
    while (usedIds.has(id)) id = (id + 1) % 32768;
    usedIds.add(id);
    const vcpus = Math.min(o.vcpus ?? rng.weighted([[3, 1], [3, 2], [2, rng.int(3, 4)]]), maxVcpusFor(gic));
    const nrSpis = o.spis ?? rng.weighted([[4, 32], [3, 64], [1, rng.int(1, 30) * 32], [1, 960]]);
    const pirqs: number[] = [];
    const nPirqs = rng.weighted([[2, 0], [2, 1], [1, 2]]);
    for (let k = 0; k < nPirqs; k++) pirqs.push(nextPirq++);
    domains.push({ id, vcpus, nr_spis: nrSpis, ...(pirqs.length > 0 ? { pirqs } : {}) });
  }
  return { gic, nr_lrs: nrLrs, pcpus, domains };
}

// ----- steps -----

const PRIORITIES = [0x00, 0x40, 0x80, 0x88, 0xa0, 0xa0, 0xa0, 0xc0, 0xc0, 0xf0, 0xf8];

type RawStep = Record<string, unknown>;

/** The interrupts a generated trace mostly talks about (per domain). */
function hotIrqs(d: Domain): number[] {
  const spis = Math.min(d.nrSpis, 6);
  const hot = [0, 1, 2, 27, 31];
  for (let i = 0; i < spis; i++) hot.push(32 + i);
  if (d.nrSpis > 32) hot.push(32 + d.nrSpis - 1);
  return hot;
}

function anyIrq(rng: Rng, d: Domain): number {
  return rng.bool(0.9) ? rng.pick(hotIrqs(d)) : rng.int(0, 31 + d.nrSpis);
}

function mmio(pcpu: number, access: 'read' | 'write', addr: number, size: 1 | 2 | 4 | 8, value?: bigint): RawStep {
  return { op: 'mmio', pcpu, access, addr: toHex(addr), size, ...(access === 'write' ? { value: toHex(value ?? 0n) } : {}) };
}

/** A bit mask of 32 bits over the hot IRQs of rank n (or everything). */
function rankMask(rng: Rng, d: Domain, n: number): bigint {
  if (rng.bool(0.1)) return 0xffffffffn;
  let m = 0n;
  for (const irq of hotIrqs(d)) if (Math.floor(irq / 32) === n && rng.bool(0.5)) m |= 1n << BigInt(irq % 32);
  if (m === 0n) m = 1n << BigInt(rng.pick(hotIrqs(d).filter((i) => Math.floor(i / 32) === n).map((i) => i % 32).concat([0])));
  return m;
}

/**
 * A guest register access of the vCPU running on `cpu` (which is in hyp mode), at the addresses
 * of its domain's layout (Xen's fixed map, or the frames the VMM placed: src/conformance/gen-vmm.ts)
 * and for the domain's GIC version (a GICv2 guest on a GICv3 host is a GICv2 guest).
 */
function mmioStep(rng: Rng, _m: Machine, cpu: Pcpu, v: Vcpu): RawStep {
  const d = v.domain;
  const v3 = d.version === 'v3';
  const { gicd: GICD, gicr, gicrRegion } = guestLayout(d);
  const p = cpu.id;
  const irq = anyIrq(rng, d);
  const n = Math.floor(irq / 32);
  const choice = rng.weighted<string>([
    [8, 'isenabler'], [3, 'icenabler'], [5, 'ipriority'], [2, 'ispendr'], [1, 'icpendr'], [1, 'isactiver'],
    [1, 'icactiver'], [3, 'target'], [1, 'ctlr'], [1, 'icfgr'], [2, 'sgi'], [2, 'read'], [1, 'random'],
  ]);
  // On v3, private IRQs are also reachable through a redistributor's SGI_base frame.
  const viaGicr = v3 && n === 0 && rng.bool(0.5);
  const owner = viaGicr ? rng.int(0, d.vcpus.length - 1) : 0;
  const base = viaGicr ? gicr(owner) + 0x10000 : GICD;
  switch (choice) {
    case 'isenabler': return mmio(p, 'write', base + 0x100 + 4 * n, 4, rankMask(rng, d, n));
    case 'icenabler': return mmio(p, 'write', base + 0x180 + 4 * n, 4, rankMask(rng, d, n));
    case 'ispendr': return mmio(p, 'write', base + 0x200 + 4 * n, 4, rankMask(rng, d, n));
    case 'icpendr': return mmio(p, 'write', base + 0x280 + 4 * n, 4, rankMask(rng, d, n));
    case 'isactiver': return mmio(p, 'write', base + 0x300 + 4 * n, 4, rng.bool(0.5) ? 0n : rankMask(rng, d, n));
    case 'icactiver': return mmio(p, 'write', base + 0x380 + 4 * n, 4, rankMask(rng, d, n));
    case 'ipriority':
      if (rng.bool(0.7)) return mmio(p, 'write', base + 0x400 + irq, 1, BigInt(rng.pick(PRIORITIES)));
      return mmio(p, 'write', base + 0x400 + (irq & ~3), 4,
        BigInt(rng.pick(PRIORITIES)) | (BigInt(rng.pick(PRIORITIES)) << 8n) | (BigInt(rng.pick(PRIORITIES)) << 16n) | (BigInt(rng.pick(PRIORITIES)) << 24n));
    case 'target': {
      if (irq < 32) return mmio(p, 'read', base + 0x100 + 4 * n, 4);
      const vt = rng.int(0, d.vcpus.length - 1 + (rng.bool(0.1) ? 1 : 0));
      if (!v3) {
        const byte = rng.bool(0.85) ? 1 << vt : rng.int(0, 255);
        if (rng.bool(0.7)) return mmio(p, 'write', GICD + 0x800 + irq, 1, BigInt(byte));
        return mmio(p, 'write', GICD + 0x800 + (irq & ~3), 4, BigInt(byte) * 0x01010101n);
      }
      const irm = rng.bool(0.1) ? 1n << 31n : 0n;
      const aff = rng.bool(0.9) ? BigInt(vt) : BigInt(rng.int(0, 0x1ff)) | (BigInt(rng.int(0, 3)) << 8n);
      return mmio(p, 'write', GICD + 0x6000 + 8 * irq, 8, irm | aff);
    }
    case 'ctlr': return mmio(p, 'write', GICD, 4, BigInt(rng.int(0, 3)) | (v3 ? 0x10n : 0n));
    case 'icfgr': return mmio(p, 'write', base + 0xc00 + 4 * (2 * n + (rng.bool() ? 1 : 0)), 4, BigInt(rng.next()));
    case 'sgi': {
      if (!v3) {
        const filter = rng.weighted([[6, 0], [2, 1], [2, 2], [1, 3]]);
        return mmio(p, 'write', GICD + 0xf00, 4, BigInt((filter << 24) | (rng.int(0, 255) << 16) | rng.int(0, 3)));
      }
      return mmio(p, 'write', GICD + 0xf00, 4, BigInt(rng.int(0, 15)));
    }
    case 'read': {
      const off = rng.pick([0x0, 0x4, 0x8, 0x100 + 4 * n, 0x400 + (irq & ~3), 0x200 + 4 * n, 0x300 + 4 * n, v3 ? 0x6000 + 8 * irq : 0x800 + (irq & ~3), 0xc00 + 8 * n]);
      const size = off >= 0x6000 && v3 ? 8 : 4;
      return mmio(p, 'read', (off >= 0x6000 ? GICD : base) + off, size);
    }
    default: {
      const size = rng.pick([1, 2, 4, 8] as const);
      const span = v3 ? (rng.bool(0.5) ? 0x10000 : 0x20000 * d.vcpus.length + 0x20000) : 0x1000;
      const region = v3 && span !== 0x10000 ? gicrRegion : GICD;
      const off = Math.floor(rng.int(0, span - 1) / size) * size;
      const write = rng.bool(0.5);
      const value = BigInt(rng.next()) & ((1n << BigInt(8 * size)) - 1n);
      return mmio(p, write ? 'write' : 'read', region + off, size, value);
    }
  }
}

function vcpuRef(v: { domain: Domain; id: number }): { domain: number; vcpu: number } {
  return { domain: v.domain.id, vcpu: v.id };
}

/** The modes a pCPU must be in for each op that runs on one (trace-format §3). */
const OP_MODES: Partial<Record<OpName, readonly Pcpu['mode'][]>> = {
  run: ['idle', 'hyp'], idle: ['idle', 'hyp'], enter: ['hyp'], exit: ['guest'], inject: ['idle', 'hyp'],
  mmio: ['hyp'], sysreg: ['hyp'], ack: ['guest'], eoi: ['guest'], dir: ['guest'], pmr: ['guest'],
  eoimode: ['guest'], pending_check: ['hyp'], msi: ['idle', 'hyp'],
};

/** An INTID the guest is likely to EOI or deactivate: one of its valid LRs, sometimes noise. */
function lrIntid(rng: Rng, m: Machine, cpu: Pcpu): number {
  const host = m.host;
  const lrs = cpu.cpuif.lrs;
  const used: number[] = [];
  for (let i = 0; i < host.nrLrs; i++) if (lrs[2 * i] !== 0 || lrs[2 * i + 1] !== 0) used.push(i);
  if (used.length === 0 || rng.bool(0.1)) return rng.pick([1023, 27, 32]);
  return getField(lrs, rng.pick(used), host.layout.virq);
}

type Builder = (rng: Rng, m: Machine, cpu: Pcpu) => RawStep;

/**
 * One builder per op: a step for the machine's current state, on `cpu` (already in a mode
 * the op accepts). Steps are likely, not certain, to be valid.
 */
/**
 * The ops of trace-format §10 (a VMM's device-API calls): no builder of their own; they come in
 * bring-up batches (candidateSteps, src/conformance/gen-vmm.ts).
 */
type VmmOpName = 'vcpu_create' | 'create_device' | 'set_attr' | 'get_attr' | 'has_attr' | 'kvm_run';
/** The lifecycle ops (trace-format §3.6): drawn in batches by gen-life.ts (GenOptions.life), no builder here. */
type LifeOpName = 'domain_create' | 'domain_destroy';

export const STEP_BUILDERS: Record<Exclude<OpName, VmmOpName | LifeOpName>, Builder> = {
  run: (rng, m, cpu) => ({ op: 'run', pcpu: cpu.id, ...vcpuRef(someVcpu(rng, m)) }),
  idle: (_rng, _m, cpu) => ({ op: 'idle', pcpu: cpu.id }),
  enter: (_rng, _m, cpu) => ({ op: 'enter', pcpu: cpu.id }),
  exit: (_rng, _m, cpu) => ({ op: 'exit', pcpu: cpu.id }),
  vcpu_off: (rng, m) => ({ op: 'vcpu_off', ...vcpuRef(someVcpu(rng, m, (v) => v.online && v.runningOn === null)) }),
  vcpu_on: (rng, m) => ({ op: 'vcpu_on', ...vcpuRef(someVcpu(rng, m, (v) => !v.online)) }),
  inject: (rng, m, cpu) => {
    const d = cpu.current?.domain ?? rng.pick([...m.host.domains.values()]);
    const irq = anyIrq(rng, d);
    return { op: 'inject', pcpu: cpu.id, domain: d.id, vcpu: irq < 32 ? rng.int(0, d.vcpus.length - 1) : null, virq: irq, ...(rng.bool(0.05) ? { level: false } : {}) };
  },
  route: (rng, m) => {
    const d = rng.pick([...m.host.domains.values()]);
    const pirqs = [...m.host.irqDescs.keys()];
    const pirq = pirqs.length > 0 && rng.bool(0.9) ? rng.pick(pirqs) : rng.int(32, 1023);
    const spis = hotIrqs(d).filter((i) => i >= 32);
    return { op: 'route', domain: d.id, virq: spis.length > 0 && rng.bool(0.9) ? rng.pick(spis) : rng.int(0, 40 + d.nrSpis), pirq };
  },
  hw_irq: (rng, m) => {
    const routed = [...m.host.irqDescs.values()].filter((x) => x.guest !== null);
    return { op: 'hw_irq', pirq: routed.length > 0 ? rng.pick(routed).irq : rng.int(32, 100) };
  },
  mmio: (rng, m, cpu) => mmioStep(rng, m, cpu, cpu.current!),
  sysreg: (rng, _m, cpu) => {
    const reg = rng.weighted([[8, 'ICC_SGI1R_EL1'], [1, 'ICC_ASGI1R_EL1'], [1, 'ICC_SGI0R_EL1']] as const);
    if (rng.bool(0.1)) return { op: 'sysreg', pcpu: cpu.id, access: 'read', reg };
    const irm = rng.bool(0.2) ? 1n << 40n : 0n;
    const value = irm | (BigInt(rng.int(0, 3)) << 24n) | (BigInt(rng.int(0, 1)) << 16n) | BigInt(rng.int(0, 15));
    return { op: 'sysreg', pcpu: cpu.id, access: 'write', reg, value: toHex(value) };
  },
  ack: (_rng, _m, cpu) => ({ op: 'ack', pcpu: cpu.id }),
  eoi: (rng, m, cpu) => ({ op: 'eoi', pcpu: cpu.id, intid: lrIntid(rng, m, cpu) }),
  dir: (rng, m, cpu) => ({ op: 'dir', pcpu: cpu.id, intid: lrIntid(rng, m, cpu) }),
  pmr: (rng, _m, cpu) => ({ op: 'pmr', pcpu: cpu.id, value: rng.pick([0xff, 0xf0, 0xa0, 0x80, 0x00, rng.int(0, 255)]) }),
  eoimode: (rng, _m, cpu) => ({ op: 'eoimode', pcpu: cpu.id, value: rng.int(0, 1) }),
  pending_check: (_rng, _m, cpu) => ({ op: 'pending_check', pcpu: cpu.id }),
  snapshot: () => ({ op: 'snapshot' }),
  // ITS ops (trace-format §9.2): candidateStep does not draw them (no weight in BY_MODE or
  // RARE); ITS traffic comes in batches (candidateSteps, src/conformance/gen-its.ts). Alone,
  // these give a step of the op for a domain with RAM / an ITS when there is one.
  mem_write: (rng, m) => {
    const d = someItsDomain(rng, m);
    if (d === null) return { op: 'mem_write', domain: rng.pick([...m.host.domains.values()]).id, addr: '0x0', size: 4, value: '0x0' };
    return { op: 'mem_write', domain: d.id, addr: toHex(GEN_ITS_LAYOUT.propTable + rng.int(0, 15)), size: 1, value: toHex(rng.pick([0x03, 0x43, 0xa3, 0xa2])) };
  },
  mem_read: (rng, m) => {
    const d = someItsDomain(rng, m);
    if (d === null) return { op: 'mem_read', domain: rng.pick([...m.host.domains.values()]).id, addr: '0x0', size: 4 };
    return { op: 'mem_read', domain: d.id, addr: toHex(rng.pick([GEN_ITS_LAYOUT.propTable, GEN_ITS_LAYOUT.queue, GEN_ITS_LAYOUT.collTable, GEN_ITS_LAYOUT.itt])), size: 8 };
  },
  msi: (rng, m, cpu) => {
    const d = someItsDomain(rng, m);
    const dev = d === null ? undefined : [...d.itsDevices.values()][0];
    if (d === null || dev === undefined) return { op: 'msi', pcpu: cpu.id, domain: rng.pick([...m.host.domains.values()]).id, devid: 0, eventid: 0 };
    return { op: 'msi', pcpu: cpu.id, domain: d.id, devid: dev.guestDevid, eventid: rng.int(0, 3) };
  },
};

/** A domain with an ITS (and the generator's RAM layout), or null. */
function someItsDomain(rng: Rng, m: Machine): Domain | null {
  const doms = itsDomains(m);
  return doms.length === 0 ? null : rng.pick(doms);
}

/**
 * A vCPU, preferably one that `prefer` accepts. (While every domain is a device domain without
 * vCPUs yet, a vCPU 0 of some domain, which is a trace error: nothing is drawn then.)
 */
function someVcpu(rng: Rng, m: Machine, prefer?: (v: Vcpu) => boolean): Vcpu | { domain: Domain; id: number } {
  const all: Vcpu[] = [];
  for (const d of m.host.domains.values()) for (const v of d.vcpus) all.push(v);
  if (all.length === 0) return { domain: m.host.domains.values().next().value!, id: 0 };
  const good = prefer === undefined ? [] : all.filter(prefer);
  return rng.pick(good.length > 0 && rng.bool(0.9) ? good : all);
}

/**
 * A step of op `op` for the current state, on a pCPU in a mode the op accepts; null when no
 * pCPU is (e.g. `ack` while no guest runs). Used by the model-based property tests.
 */
export function buildStep(op: OpName, rng: Rng, m: Machine): RawStep | null {
  const modes = OP_MODES[op];
  const cpus = modes === undefined ? m.host.pcpus : m.host.pcpus.filter((c) => modes.includes(c.mode));
  const builder = (STEP_BUILDERS as Partial<Record<OpName, Builder>>)[op];
  if (cpus.length === 0 || builder === undefined) return null;
  return builder(rng, m, rng.pick(cpus));
}

/** Op weights by the mode of the chosen pCPU: mostly what moves the machine forward. */
const BY_MODE: Record<Pcpu['mode'], readonly (readonly [number, Exclude<OpName, VmmOpName | LifeOpName>])[]> = {
  idle: [[8, 'run'], [2, 'inject']],
  hyp: [[10, 'enter'], [8, 'inject'], [10, 'mmio'], [1, 'pending_check'], [1, 'idle'], [2, 'run'], [2, 'sysreg']],
  guest: [[10, 'exit'], [8, 'ack'], [6, 'eoi'], [2, 'dir'], [1, 'pmr'], [1, 'eoimode']],
};
const RARE: readonly (readonly [number, Exclude<OpName, VmmOpName | LifeOpName>])[] = [[3, 'vcpu_off'], [4, 'vcpu_on'], [2, 'snapshot'], [3, 'route'], [6, 'hw_irq']];

/**
 * One candidate step for the machine's current state (may still be a trace error), drawn
 * only from `ops` when given; null when none of them fits the chosen pCPU.
 */
export function candidateStep(rng: Rng, m: Machine, ops?: ReadonlySet<string>): RawStep | null {
  const cpu = rng.pick(m.host.pcpus);
  const rare = rng.bool(0.06);
  let weights = rare ? RARE : m.host.version === 'v2' && cpu.mode === 'hyp' ? V2_HYP : BY_MODE[cpu.mode];
  if (ops !== undefined) weights = onlyOps(weights, ops);
  if (weights.length === 0) return null;
  return STEP_BUILDERS[rng.weighted(weights)](rng, m, cpu);
}

type Weights = readonly (readonly [number, Exclude<OpName, VmmOpName | LifeOpName>])[];

/** BY_MODE.hyp on a GICv2 host: sysreg (ICC_SGI1R_EL1, a GICv3 register) rarely. */
const V2_HYP: Weights = BY_MODE.hyp.map(([w, op]) => [op === 'sysreg' ? 0.3 : w, op] as const);

/** `weights` without the ops not in `ops`, kept per set of ops (a differential run's are fixed). */
const onlyOpsCache = new WeakMap<ReadonlySet<string>, Map<Weights, Weights>>();

function onlyOps(weights: Weights, ops: ReadonlySet<string>): Weights {
  let byWeights = onlyOpsCache.get(ops);
  if (byWeights === undefined) onlyOpsCache.set(ops, byWeights = new Map());
  let out = byWeights.get(weights);
  if (out === undefined) byWeights.set(weights, out = weights.filter(([, op]) => ops.has(op)));
  return out;
}

/** The ops ITS traffic needs: without them (e.g. the other side of a diff lacks one) no config gets an ITS. */
const ITS_OPS = ['mmio', 'mem_write', 'msi'] as const;

/** May traces drawn only from `ops` carry ITS traffic? */
export function itsAllowed(ops?: ReadonlySet<string>): boolean {
  return ops === undefined || ITS_OPS.every((op) => ops.has(op));
}

/** The share of candidates that are ITS batches on a machine with an ITS domain. */
const ITS_SHARE = 0.4;

/**
 * Like candidateStep, as a list: on a machine with a device domain, often a batch of its
 * bring-up (src/conformance/gen-vmm.ts) while that is not finished, rarely one later; on a
 * machine with an ITS domain, now and then a batch of ITS traffic (src/conformance/gen-its.ts)
 * instead; on any other machine exactly candidateStep's draws and step.
 */
export function candidateSteps(rng: Rng, m: Machine, ops?: ReadonlySet<string>, multiDomain = false): RawStep[] | null {
  // Drawn only with the multi-domain option, so that traces without it are what they were.
  if (multiDomain && (ops === undefined || ops.has('inject')) && rng.bool(FOREIGN_INJECT_SHARE)) {
    const s = foreignInject(rng, m);
    if (s !== null) return [s];
  }
  if (vmmAllowed(ops) && hasDeviceDomain(m)) {
    const batch = vmmBatch(rng, m);
    if (batch !== null) return batch;
  }
  if (m.host.version === 'v3' && itsAllowed(ops) && itsDomains(m).length > 0 && rng.bool(ITS_SHARE)) return itsBatch(rng, m);
  const s = candidateStep(rng, m, ops);
  return s === null ? null : [s];
}

/** With the multi-domain option: the share of candidates that inject into a domain other than the one running on the pCPU. */
const FOREIGN_INJECT_SHARE = 0.08;

/** An injection into a domain from a pCPU (idle or hyp) where a vCPU of another domain is current; null when there is none. */
function foreignInject(rng: Rng, m: Machine): RawStep | null {
  const cpus = m.host.pcpus.filter((c) => c.mode === 'hyp' && c.current !== null);
  if (cpus.length === 0) return null;
  const cpu = rng.pick(cpus);
  const others = [...m.host.domains.values()].filter((x) => x !== cpu.current!.domain && x.vcpus.length > 0);
  if (others.length === 0) return null;
  const d = rng.pick(others);
  const irq = anyIrq(rng, d);
  return { op: 'inject', pcpu: cpu.id, domain: d.id, vcpu: irq < 32 ? rng.int(0, d.vcpus.length - 1) : null, virq: irq };
}

export interface GeneratedTrace {
  format: typeof TRACE_FORMAT;
  name: string;
  description: string;
  config: Config;
  steps: RawStep[];
}

export interface GenOptions extends ConfigOptions {
  steps: number;
  /** Record the reference RESULT (and snapshot) of each step as its `expect`. */
  expect?: 'none' | 'results' | 'snapshots';
  /** Only these ops (e.g. what the other side of a differential run supports). */
  ops?: ReadonlySet<string> | undefined;
  /**
   * The probability that a domain of a GICv3 config gets a virtual ITS and RAM (default
   * DEFAULT_ITS_PROBABILITY; 0 for none). Drawn from a stream of its own after the config's
   * draws, so a trace whose config gets no ITS does not depend on it.
   */
  its?: number | undefined;
  /**
   * The probability that a domain of a config is a device domain (`"vgic": "device"`, brought
   * up by the generator's VMM batches; default DEFAULT_VMM_PROBABILITY, 0 for none). Drawn from
   * a stream of its own after the config's draws, so a trace whose config gets no device domain
   * does not depend on it.
   */
  vmm?: number | undefined;
  /**
   * The share of candidates that are a lifecycle batch (src/conformance/gen-life.ts: pause,
   * domain_destroy, domain_create); off (undefined or 0) by default. Drawn from a stream of its
   * own, and only when `ops` has both lifecycle ops.
   */
  life?: number | undefined;
}

/** How often a GICv3 domain of a generated config gets a virtual ITS (GenOptions.its). */
export const DEFAULT_ITS_PROBABILITY = 0.3;

/**
 * Generate one trace from `seed`. Candidates that are trace errors are dropped (up to 100
 * tries per step; in a batch of ITS traffic, the steps from the first trace error on); a
 * crash ends the trace early, since nothing can follow it.
 */
export function generateTrace(seed: number, o: GenOptions): GeneratedTrace {
  return generateTraceWithOps(seed, o).trace;
}

/**
 * Hooks into the generator's run (generateTraceWithOps): its machine is the reference model's
 * run of the trace, so a caller that wants that run (the differential runner's model side, a
 * campaign's checks) need not replay the trace on a machine of its own.
 */
export interface GenWatch {
  /** The generator's machine, before any step. */
  start?(m: Machine): void;
  /** Just before a candidate step is applied: it may still be refused (a trace error changes nothing; that candidate is dropped). */
  before?(op: Op): void;
  /** After a step is kept, with its RESULT; `false` ends the trace there. */
  after?(m: Machine, op: Op, r: Result): boolean | void;
}

/**
 * generateTrace, with each step also as the decoded op it was applied as (no second decode for
 * the caller); `watch` follows the generator's machine (GenWatch).
 */
export function generateTraceWithOps(seed: number, o: GenOptions, watch: GenWatch = {}): { trace: GeneratedTrace; ops: Op[] } {
  const rng = new Rng(seed);
  const withVmm = addVmm(randomConfig(rng, o), seed, vmmAllowed(o.ops) ? o.vmm ?? DEFAULT_VMM_PROBABILITY : 0);
  const config = addIts(withVmm, seed, itsAllowed(o.ops) ? o.its ?? DEFAULT_ITS_PROBABILITY : 0);
  const m = E.getOrElseW((e: string[]) => { throw new Error(`generator made an invalid config: ${e.join('; ')}`); })(Machine.create(config));
  const steps: RawStep[] = [];
  const ops: Op[] = [];
  const life = lifeGen(seed, o.life, o.ops); // null unless GenOptions.life (trace-format §3.6)
  watch.start?.(m);
  let stopped = false;
  while (steps.length < o.steps && m.crashed === null && !stopped) {
    let placed = false;
    for (let tries = 0; tries < 100 && !placed; tries++) {
      const batch = (life === null ? null : life.batch(m)) ?? candidateSteps(rng, m, o.ops, o.multiDomain === true);
      if (batch === null) continue;
      for (const raw of batch) {
        if (steps.length >= o.steps || m.crashed !== null || stopped) break;
        const op = decodeOp(raw);
        if (E.isLeft(op)) throw new Error(`generator made an invalid step ${JSON.stringify(raw)}: ${op.left.join('; ')}`);
        watch.before?.(op.right);
        const r = m.apply(op.right, steps.length);
        if (r instanceof TraceError) break;
        placed = true;
        steps.push(withExpect(raw, r, m, o.expect ?? 'none'));
        ops.push(op.right);
        if (watch.after?.(m, op.right, r) === false) stopped = true;
      }
    }
    if (!placed) break;
  }
  const trace: GeneratedTrace = {
    format: TRACE_FORMAT,
    name: `random-${o.multiDomain === true ? 'multi-' : ''}${config.gic}-seed-${seed}`,
    description: `Random trace from seed ${seed} (${steps.length} steps${m.crashed !== null ? `, ends in a crash: ${m.crashed.reason}` : ''}).`,
    config,
    steps,
  };
  return { trace, ops };
}

function withExpect(raw: RawStep, r: Result, m: Machine, mode: 'none' | 'results' | 'snapshots'): RawStep {
  if (mode === 'none') return raw;
  const { log: _log, ...result } = r;
  const expect: Record<string, unknown> = { result };
  if (mode === 'snapshots' && m.crashed === null) expect['snapshot'] = m.snapshot();
  return { ...raw, expect };
}
