/**
 * Device-built machines for the specs and fixtures (docs/trace-format.md §10): a random but
 * valid VMM bring-up (vCPUs, a V3 or V2 device, NR_IRQS, the frames at random addresses, legacy
 * redistributor or regions, an ITS with RAM on v3 sometimes, INIT, the first KVM_RUN of every
 * vCPU), random guest traffic for such a domain (the random generator's steps, which address
 * the frames the VMM placed), pausing the VM, and a `RegisterAccessor` over
 * the device ops (`get_attr` / `set_attr` through `Machine.apply`), so that the save/restore
 * walk of src/vmm/uaccess-walk.ts runs through KVM's checks.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Config } from '../machine/config.js';
import { toHex } from '../machine/decode.js';
import { Machine, TraceError } from '../machine/machine.js';
import { decodeOp, type Op } from '../machine/ops.js';
import { candidateSteps, type Rng } from '../conformance/gen.js';
import { packedMpidr } from '../vmm/kvm-device.js';
import { GROUPS, KvmVm, type Errno } from '../vmm/types.js';
import type { RegAttr, RegisterAccessor } from '../vmm/uaccess-walk.js';
import type { Uaccess } from '../vmm/uaccess-common.js';
import { LAYOUT } from './its-steps.js';

export type RawStep = Record<string, unknown>;

/** One redistributor region of a bring-up: `count` null is the legacy REDIST (sized by the vCPUs). */
export interface RegionShape {
  readonly base: bigint;
  readonly count: number | null;
}

/** What a VMM chose: everything its bring-up steps are made from. */
export interface BringupShape {
  readonly model: 'v2' | 'v3';
  /** vCPU ids in creation order (a permutation of 0..n-1). */
  readonly vcpuOrder: readonly number[];
  /** How many vCPUs are created before the device (the rest after its frames are placed). */
  readonly vcpusFirst: number;
  /** NR_IRQS, or null to leave KVM's default (256). */
  readonly nrIrqs: number | null;
  readonly dist: bigint;
  /** v2: the CPU interface frame. */
  readonly cpu: bigint | null;
  /** v3: the legacy region alone, or counted regions in index order. */
  readonly regions: readonly RegionShape[];
  /** v3: an ITS frame (the domain then has RAM at the ITS layout's addresses), or null. */
  readonly its: bigint | null;
  /** v3: MAINT_IRQ, or null. */
  readonly maintIrq: number | null;
  /** v2: CTRL INIT explicitly (else the first KVM_RUN's lazy init). */
  readonly explicitInit: boolean;
}

/** The device handles a bring-up gets, given the first free handle of the machine. */
export interface Handles {
  readonly gic: number;
  readonly its: number | null;
}

const MiB = 0x100000n;

/**
 * A random valid bring-up for a host of version `host`: up to 4 vCPUs (v3) or 4 (v2), frames in
 * distinct 1 MiB areas between 64 MiB and 1 GiB (clear of Xen's fixed guest map and of the ITS
 * layout's RAM at 1 GiB), now and then the Rust VMM's layout just below 1 GiB.
 */
export function randomBringup(rng: Rng, host: 'v2' | 'v3', v2OnV3: boolean): BringupShape {
  const model = host === 'v2' || (v2OnV3 && rng.bool(0.5)) ? 'v2' : 'v3';
  const n = rng.weighted([[2, 1], [4, 2], [2, 3], [2, 4]]);
  const vcpuOrder = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [vcpuOrder[i], vcpuOrder[j]] = [vcpuOrder[j]!, vcpuOrder[i]!];
  }
  const vcpusFirst = rng.bool(0.7) ? n : rng.int(0, n);
  const nrIrqs = rng.weighted<number | null>([[3, 64], [3, 96], [2, 128], [2, null], [1, rng.int(2, 31) * 32]]);
  // Distinct 1 MiB areas, 64 MiB .. 1 GiB.
  const used = new Set<number>();
  const area = (): bigint => {
    let a = rng.int(64, 1000);
    while (used.has(a)) a = a + 1;
    used.add(a);
    return BigInt(a) * MiB + (rng.bool(0.5) ? 0n : BigInt(rng.int(0, 3)) * 0x10000n);
  };
  const rustVmm = rng.bool(0.2);
  if (model === 'v2') {
    const dist = rustVmm ? 0x40000000n - 0x10000n : area();
    const cpu = rustVmm ? dist - 0x20000n : area();
    return { model, vcpuOrder, vcpusFirst, nrIrqs, dist, cpu, regions: [], its: null, maintIrq: null, explicitInit: rng.bool(0.6) };
  }
  const dist = rustVmm ? 0x40000000n - 0x10000n : area();
  let regions: RegionShape[];
  if (rustVmm || rng.bool(0.5)) {
    regions = [{ base: rustVmm ? dist - BigInt(n) * 0x20000n : area(), count: null }];
  } else {
    // Counted regions covering every vCPU (the last one sometimes with spare slots), some adjacent.
    regions = [];
    let left = n;
    let next: bigint | null = null;
    while (left > 0) {
      const count = rng.int(1, left) + (left <= 2 && rng.bool(0.3) ? 1 : 0);
      const base: bigint = next !== null && rng.bool(0.5) ? next : area();
      regions.push({ base, count });
      next = base + BigInt(count) * 0x20000n;
      left -= count;
    }
  }
  return {
    model, vcpuOrder, vcpusFirst, nrIrqs, dist, cpu: null, regions,
    its: rng.bool(0.4) ? area() & ~0xffffn : null,
    maintIrq: rng.bool(0.2) ? 25 : null,
    explicitInit: true,
  };
}

/**
 * Adjacent counted regions built by randomBringup may run into a later 1 MiB area; such a
 * layout is refused by KVM's checks. A shape whose frames overlap is redrawn by the caller.
 */
export function shapeOverlaps(s: BringupShape): boolean {
  const n = s.vcpuOrder.length;
  const frames: [bigint, bigint][] = [[s.dist, s.model === 'v3' ? 0x10000n : 0x1000n]];
  if (s.cpu !== null) frames.push([s.cpu, 0x2000n]);
  for (const r of s.regions) frames.push([r.base, BigInt(r.count ?? n) * 0x20000n]);
  if (s.its !== null) frames.push([s.its, 0x20000n], [BigInt(LAYOUT.ramBase), BigInt(LAYOUT.ramSize)]);
  return frames.some(([a, as], i) => frames.some(([b, bs], j) => i < j && a < b + bs && b < a + as));
}

/** The config of a machine with device domains `ids` (RAM at the ITS layout's addresses when `ram`). */
export function deviceConfig(host: 'v2' | 'v3', o: { v2OnV3?: boolean; nrLrs?: number; pcpus?: number; ids?: readonly number[]; ram?: boolean } = {}): Config {
  const ram = o.ram === true ? { ram: [{ base: toHex(LAYOUT.ramBase), size: toHex(LAYOUT.ramSize) }] } : {};
  return {
    gic: host, nr_lrs: o.nrLrs ?? 4, pcpus: o.pcpus ?? 2,
    ...(o.v2OnV3 === true ? { v2_on_v3: true } : {}),
    domains: (o.ids ?? [1]).map((id) => ({ id, vgic: 'device' as const, ...ram })),
  };
}

/** The handles the bring-up of `s` gets when the machine has `firstHandle` devices already. */
export function handlesOf(s: BringupShape, firstHandle: number): Handles {
  return { gic: firstHandle, its: s.its === null ? null : firstHandle + 1 };
}

/** The bring-up steps of `s` for domain `domain`, whose devices get the handles `h`. */
export function bringupSteps(s: BringupShape, domain: number, h: Handles): RawStep[] {
  const set = (device: number, group: string, attr: bigint, value: bigint | null): RawStep =>
    ({ op: 'set_attr', device, group, attr: toHex(attr), value: value === null ? null : toHex(value) });
  const vcpu = (id: number): RawStep => ({ op: 'vcpu_create', domain, vcpu: id });
  const out: RawStep[] = s.vcpuOrder.slice(0, s.vcpusFirst).map(vcpu);
  out.push({ op: 'create_device', domain, type: s.model, test: false });
  if (s.nrIrqs !== null) out.push(set(h.gic, 'NR_IRQS', 0n, BigInt(s.nrIrqs)));
  if (s.model === 'v2') {
    out.push(set(h.gic, 'ADDR', 0n, s.dist), set(h.gic, 'ADDR', 1n, s.cpu!));
  } else {
    out.push(set(h.gic, 'ADDR', 2n, s.dist));
    s.regions.forEach((r, i) => {
      out.push(r.count === null
        ? set(h.gic, 'ADDR', 3n, r.base)
        : set(h.gic, 'ADDR', 5n, (BigInt(r.count) << 52n) | r.base | BigInt(i)));
    });
    if (s.maintIrq !== null) out.push(set(h.gic, 'MAINT_IRQ', 0n, BigInt(s.maintIrq)));
  }
  out.push(...s.vcpuOrder.slice(s.vcpusFirst).map(vcpu));
  if (s.its !== null) {
    out.push({ op: 'create_device', domain, type: 'its', test: false });
    out.push(set(h.its!, 'ADDR', 4n, s.its), set(h.its!, 'CTRL', 0n, null));
  }
  if (s.explicitInit) out.push(set(h.gic, 'CTRL', 0n, null));
  for (const id of s.vcpuOrder) out.push({ op: 'kvm_run', domain, vcpu: id });
  return out;
}

/** Apply raw steps; any trace error, refusal or crash is a bug of the caller's steps. */
export function applyAll(m: Machine, steps: readonly RawStep[], from = 0): void {
  steps.forEach((s, i) => {
    const r = m.step(s, from + i);
    if (E.isLeft(r)) throw new Error(`${JSON.stringify(s)}: ${r.left}`);
    if (r.right.outcome === 'error' || r.right.outcome === 'crash') throw new Error(`${JSON.stringify(s)}: ${JSON.stringify(r.right)}`);
  });
}

// ----- guest traffic at the VMM's addresses -----

/**
 * `n` steps of random guest traffic on `m` (applied, and returned): the random generator's
 * candidates (inject, run / enter / exit / idle, ack / eoi / dir, priority mask, SGIs, mmio, ITS
 * batches when the domain has an ITS and the layout's RAM), whose GIC addresses are already
 * domain `domain`'s frames (the generator reads the layout the VMM chose: guestLayout in
 * src/conformance/gen-vmm.ts); candidates that are trace errors are dropped. Stops early when
 * the machine crashes or no candidate fits.
 */
export function deviceTraffic(rng: Rng, m: Machine, n: number, from = 0): RawStep[] {
  const out: RawStep[] = [];
  while (out.length < n && m.crashed === null) {
    let placed = false;
    for (let tries = 0; tries < 100 && !placed; tries++) {
      const batch = candidateSteps(rng, m);
      if (batch === null) continue;
      for (const raw of batch) {
        if (out.length >= n || m.crashed !== null) break;
        const op = decodeOp(raw);
        if (E.isLeft(op)) throw new Error(`invalid traffic step ${JSON.stringify(raw)}: ${op.left.join('; ')}`);
        const r = m.apply(op.right, from + out.length);
        if (r instanceof TraceError) break;
        placed = true;
        out.push(raw);
      }
    }
    if (!placed) break;
  }
  return out;
}

/**
 * Pause the VM as a VMM does before saving it: every pCPU running a vCPU of `domain` leaves the
 * guest (exit) and goes idle (its vCPU's state saved, the vCPU out of KVM_RUN). The steps.
 */
export function pauseSteps(m: Machine, domain: number): RawStep[] {
  const out: RawStep[] = [];
  for (const cpu of m.host.pcpus) {
    if (cpu.current === null || cpu.current.domain.id !== domain) continue;
    if (cpu.mode === 'guest') out.push({ op: 'exit', pcpu: cpu.id });
    out.push({ op: 'idle', pcpu: cpu.id });
  }
  return out;
}

// ----- the register accessor over the device ops -----

/** One device-attribute call as the op a trace would carry (attr, group and value as KVM encodes them). */
export function attrOp(version: 'v2' | 'v3', vcpus: readonly number[], h: Handles, a: RegAttr, write: boolean, value: bigint): Op {
  const vcpuField = (): bigint => {
    if (version === 'v3') return a.vcpu === null ? 0n : packedMpidr(a.vcpu) << 32n;
    const index = vcpus.indexOf(a.vcpu ?? vcpus[0]!);
    return BigInt(index) << 32n;
  };
  const off = BigInt(a.offset);
  let group: number;
  let device = h.gic;
  let attr: bigint;
  switch (a.group) {
    case 'dist': group = GROUPS.DIST_REGS; attr = vcpuField() | off; break;
    case 'redist': group = GROUPS.REDIST_REGS; attr = vcpuField() | off; break;
    case 'cpu': group = GROUPS.CPU_REGS; attr = vcpuField() | off; break;
    case 'sysreg': group = GROUPS.CPU_SYSREGS; attr = vcpuField() | off; break;
    case 'level': group = GROUPS.LEVEL_INFO; attr = vcpuField() | off; break;
    case 'its': group = GROUPS.ITS_REGS; attr = off; device = h.its!; break;
  }
  return write
    ? { op: 'set_attr', device, group, attr, value }
    : { op: 'get_attr', device, group, attr, value: null };
}

/** The ops an accessor issued, for a failure's replay (`calls` counts them). */
export interface OpsAccessor extends RegisterAccessor {
  readonly calls: () => number;
}

/**
 * The accessor over the device ops of domain `domain` of `m`: every get and set is a `get_attr`
 * / `set_attr` step through `Machine.apply`, so KVM's checks run before the effect functions.
 * A trace error is the caller's bug and throws.
 */
export function opsAccessor(m: Machine, domain: number, h: Handles): OpsAccessor {
  const vm = m.host.domains.get(domain)!.vmm as KvmVm;
  const version = vm.model!;
  const vcpus = vm.vcpus.map((v) => v.id);
  let n = 0;
  const call = (a: RegAttr, write: boolean, value: bigint): Uaccess => {
    const op = attrOp(version, vcpus, h, a, write, value);
    const r = m.apply(op, 100_000 + n++);
    if (r instanceof TraceError) throw new Error(r.message);
    if (r.outcome === 'error') return { errno: r.errno as Errno };
    if (r.outcome !== 'ok') throw new Error(`${op.op} answered ${JSON.stringify(r)}`);
    return { value: write ? 0n : BigInt(r.value!) };
  };
  return {
    version, vcpus, hasIts: h.its !== null,
    get: (a) => call(a, false, 0n),
    set: (a, value) => call(a, true, value),
    calls: () => n,
  };
}

/** The attribute steps of an accessor's calls, as a trace writes them (for fixtures). */
export function attrStep(op: Op): RawStep {
  if (op.op !== 'set_attr' && op.op !== 'get_attr') throw new Error(`not an attribute op: ${op.op}`);
  const group = Object.entries(GROUPS).find(([, g]) => g === op.group)![0];
  return { op: op.op, device: op.device, group, attr: toHex(op.attr), value: op.value === null ? null : toHex(op.value) };
}

