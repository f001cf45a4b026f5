/**
 * The step stream of the guest-register reliability campaign (`vgic fuzz --mmio`,
 * src/check/mmio-campaign.ts): random guest register accesses of every kind — any offset
 * inside and outside the vGIC frames (the distributor, the redistributor frames of existing
 * and non-existing vCPUs, the ITS frame of a domain that has one, and addresses no frame
 * holds), widths 1, 2, 4 and 8, aligned or not, any value — mixed with scheduling, injection,
 * pass-through and the guest CPU-interface ops of the ordinary generator (src/conformance/gen.ts).
 *
 * Unlike the ordinary generator, accesses outside the contract (docs/trace-format.md §3.3: a
 * misaligned address, an address outside every frame, a pCPU that is not in hyp mode) are
 * drawn on purpose: the model must refuse each as a trace error and change nothing. Each
 * step says whether it was drawn that way (`outOfContract`), so the campaign can check it.
 *
 * Everything is drawn from one seeded Rng per machine, so a machine's steps are reproducible
 * from its seed alone.
 */
import { maxVcpusFor } from '../arch/limits.js';
import type { Config } from '../machine/config.js';
import { toHex } from '../machine/decode.js';
import type { Machine } from '../machine/machine.js';
import type { Pcpu } from '../xen/types.js';
import { STEP_BUILDERS, randomConfig, type ConfigOptions } from './gen.js';
import { GEN_ITS_LAYOUT, addIts, itsBatch, itsDomains } from './gen-its.js';
import { Rng } from './rng.js';

type RawStep = Record<string, unknown>;
type Size = 1 | 2 | 4 | 8;

/** The guest memory map of an ordinary domain (docs/trace-format.md §3.3, §9.1). */
export const MMIO_MAP = {
  gicd: 0x3001000,
  gicdSizeV2: 0x1000,
  gicdSizeV3: 0x10000,
  /** GICv2's CPU interface frame: mapped to hardware, Xen never sees an access to it. */
  gicc: 0x3002000,
  gicr: 0x3020000,
  gicrSize: 0x1000000,
  gicrFrame: 0x20000,
  its: GEN_ITS_LAYOUT.itsBase,
  itsSize: 0x20000,
} as const;

/** Register ranges worth hitting more often than a uniform offset would: [start, end). */
const V2_HOT: readonly (readonly [number, number])[] = [
  [0x000, 0x010], [0x080, 0x0a0], [0x100, 0x120], [0x180, 0x1a0], [0x200, 0x220], [0x280, 0x2a0], [0x300, 0x320],
  [0x380, 0x3a0], [0x400, 0x4a0], [0x800, 0x8a0], [0xc00, 0xc28], [0xf00, 0xf04], [0xf10, 0xf30], [0xfd0, 0x1000],
];
const V3_GICD_HOT: readonly (readonly [number, number])[] = [
  [0x0000, 0x0020], [0x0040, 0x0060], [0x0080, 0x00a0], [0x0100, 0x0120], [0x0180, 0x01a0], [0x0200, 0x0220],
  [0x0280, 0x02a0], [0x0300, 0x0320], [0x0380, 0x03a0], [0x0400, 0x04a0], [0x0800, 0x0820], [0x0c00, 0x0c28],
  [0x0d00, 0x0d20], [0x0e00, 0x0e20], [0x0f00, 0x0f30], [0x1000, 0x1010], [0x6000, 0x6000 + 8 * 160], [0xffd0, 0x10000],
];
const V3_RD_HOT: readonly (readonly [number, number])[] = [[0x0000, 0x0030], [0x0040, 0x0080], [0x00a0, 0x00d0], [0xffd0, 0x10000]];
const V3_SGI_HOT: readonly (readonly [number, number])[] = [
  [0x0080, 0x0088], [0x0100, 0x0108], [0x0180, 0x0188], [0x0200, 0x0208], [0x0280, 0x0288], [0x0300, 0x0308],
  [0x0380, 0x0388], [0x0400, 0x0424], [0x0c00, 0x0c0c], [0x0d00, 0x0d08], [0x0e00, 0x0e08],
];
const ITS_HOT: readonly (readonly [number, number])[] = [
  [0x0000, 0x0010], [0x0080, 0x0098], [0x0100, 0x0118], [0xffd0, 0x10000], [0x10040, 0x10048],
];

const SIZES: readonly (readonly [number, Size])[] = [[25, 1], [12, 2], [50, 4], [13, 8]];

/** The share of accesses drawn misaligned (a trace error by the contract). */
export const MISALIGNED_SHARE = 0.04;

/** The share of accesses in hyp mode drawn by the ordinary generator's register builder. */
export const STRUCTURED_SHARE = 0.3;

/** A step and whether it was drawn outside the contract (the model must refuse it). */
export interface MmioFuzzStep {
  step: RawStep;
  outOfContract: boolean;
}

/** The config of machine `seed` of a campaign: the ordinary generator's, and an ITS for 30% of v3 domains. */
export function mmioFuzzConfig(seed: number, o: ConfigOptions): Config {
  const rng = new Rng(seed);
  // Several pCPUs and vCPUs more often than the ordinary generator draws them: retargets,
  // cross-vCPU SGIs and vCPUs running side by side are what register accesses can reach.
  const pcpus = o.pcpus ?? rng.weighted([[1, 1], [4, 2], [2, rng.int(3, 4)]]);
  const vcpus = o.vcpus ?? rng.weighted([[1, 1], [4, 2], [2, rng.int(3, 4)]]);
  const c = randomConfig(rng, { ...o, pcpus, vcpus });
  return addIts(c, seed, 0.3);
}

/** The Rng the steps of machine `seed` are drawn from (apart from the config's draws). */
export function mmioFuzzRng(seed: number): Rng {
  return new Rng((seed ^ 0x6d6d696f) >>> 0);
}

function pickRange(rng: Rng, hot: readonly (readonly [number, number])[]): number {
  const [lo, hi] = rng.pick(hot);
  return rng.int(lo, hi - 1);
}

/** An offset inside a frame of `size` bytes: a hot register most of the time, anywhere otherwise. */
function offsetIn(rng: Rng, frame: number, hot: readonly (readonly [number, number])[]): number {
  return rng.bool(0.65) ? pickRange(rng, hot) : rng.int(0, frame - 1);
}

/** Any value of `size` bytes, shaped so that the interesting ones come up often. */
function anyValue(rng: Rng, size: Size): bigint {
  const bits = 8 * size;
  const mask = (1n << BigInt(bits)) - 1n;
  const raw = (): bigint => {
    let v = 0n;
    for (let b = 0; b < bits; b += 32) v = (v << 32n) | BigInt(rng.next());
    return v & mask;
  };
  return rng.weighted<() => bigint>([
    [30, raw],
    [15, () => 1n << BigInt(rng.int(0, bits - 1))],
    [12, () => 0n],
    [10, () => mask],
    [18, () => BigInt(rng.int(0, 255)) & mask],
    // A byte per lane (priorities, targets): 0x01..0x08 or a priority.
    [15, () => {
      let v = 0n;
      for (let i = 0; i < size; i++) v |= BigInt(rng.pick([0x00, 0x01, 0x02, 0x04, 0x08, 0x40, 0x80, 0xa0, 0xf0])) << BigInt(8 * i);
      return v;
    }],
  ])();
}

/** Is `addr` inside a frame the vGIC emulates for this guest (trace-format §3.3, §9.2)? */
export function inFrameOf(addr: number, v3: boolean, hasIts: boolean): boolean {
  const within = (base: number, size: number): boolean => addr >= base && addr < base + size;
  return within(MMIO_MAP.gicd, v3 ? MMIO_MAP.gicdSizeV3 : MMIO_MAP.gicdSizeV2)
    || (v3 && within(MMIO_MAP.gicr, MMIO_MAP.gicrSize))
    || (v3 && hasIts && within(MMIO_MAP.its, MMIO_MAP.itsSize));
}

/**
 * A guest register access on `cpu` (any mode: one not in hyp mode is out of contract), with
 * its kind of address: in a frame (distributor, a redistributor frame of an existing or a
 * non-existing vCPU, the current domain's ITS), or outside every frame.
 */
export function mmioAccess(rng: Rng, m: Machine, cpu: Pcpu): MmioFuzzStep {
  const v3 = m.host.version === 'v3';
  const size = rng.weighted(SIZES);
  const d = cpu.current?.domain ?? null;
  const hasIts = d !== null && d.vits !== null;
  const where = rng.weighted<string>(v3
    ? [[42, 'gicd'], [34, 'gicr'], [6, 'gicr-absent'], [hasIts ? 10 : 1, 'its'], [5, 'outside']]
    : [[93, 'gicd'], [5, 'outside'], [2, 'gicc']]);
  let addr: number;
  switch (where) {
    case 'gicd':
      addr = MMIO_MAP.gicd + offsetIn(rng, v3 ? MMIO_MAP.gicdSizeV3 : MMIO_MAP.gicdSizeV2, v3 ? V3_GICD_HOT : V2_HOT);
      break;
    case 'gicr':
    case 'gicr-absent': {
      const nv = d?.vcpus.length ?? 1;
      const limit = MMIO_MAP.gicrSize / MMIO_MAP.gicrFrame;
      const vcpu = where === 'gicr' ? rng.int(0, nv - 1) : rng.bool(0.5) ? Math.min(nv, limit - 1) : rng.int(Math.min(nv, limit - 1), limit - 1);
      const sgiPage = rng.bool(0.55);
      addr = MMIO_MAP.gicr + vcpu * MMIO_MAP.gicrFrame + (sgiPage ? 0x10000 : 0) + offsetIn(rng, 0x10000, sgiPage ? V3_SGI_HOT : V3_RD_HOT);
      break;
    }
    case 'its':
      // The domain's ITS frame; for a domain without an ITS, nothing is there.
      addr = MMIO_MAP.its + offsetIn(rng, MMIO_MAP.itsSize, ITS_HOT);
      break;
    case 'gicc':
      addr = MMIO_MAP.gicc + rng.int(0, 0x1fff);
      break;
    default: {
      const gicdEnd = MMIO_MAP.gicd + (v3 ? MMIO_MAP.gicdSizeV3 : MMIO_MAP.gicdSizeV2);
      addr = rng.weighted<() => number>([
        [3, () => MMIO_MAP.gicd - 1 - rng.int(0, 0xff)], // just below the distributor
        [3, () => gicdEnd + rng.int(0, 0xff)], // just above it
        [v3 ? 3 : 0, () => MMIO_MAP.gicr + MMIO_MAP.gicrSize + rng.int(0, 0xfff)], // past the redistributors
        [4, () => rng.next()], // anywhere in 32 bits
        [2, () => Number(BigInt(rng.next()) << 20n) + rng.int(0, 0xfffff)], // anywhere in 52 bits
      ])();
      break;
    }
  }
  // Aligned, except now and then (a trace error by the contract, §3.3).
  const misaligned = size > 1 && rng.bool(MISALIGNED_SHARE);
  addr = misaligned ? (addr - (addr % size)) + rng.int(1, size - 1) : addr - (addr % size);
  const inFrame = inFrameOf(addr, v3, hasIts);
  const write = rng.bool(0.5);
  const step: RawStep = { op: 'mmio', pcpu: cpu.id, access: write ? 'write' : 'read', addr: toHex(BigInt(addr)), size };
  if (write) step['value'] = toHex(anyValue(rng, size));
  return { step, outOfContract: misaligned || !inFrame || cpu.mode !== 'hyp' };
}

/** A trapped system-register access (v3: ICC_SGI1R_EL1 and friends; v2: every one is UNDEF). */
function sysregAccess(rng: Rng, m: Machine, cpu: Pcpu): MmioFuzzStep {
  const reg = rng.weighted([[8, 'ICC_SGI1R_EL1'], [1, 'ICC_ASGI1R_EL1'], [1, 'ICC_SGI0R_EL1']] as const);
  if (rng.bool(0.15)) return { step: { op: 'sysreg', pcpu: cpu.id, access: 'read', reg }, outOfContract: cpu.mode !== 'hyp' };
  const nv = cpu.current?.domain.vcpus.length ?? maxVcpusFor(m.host.version);
  const value = rng.bool(0.3)
    ? anyValue(rng, 8)
    : (rng.bool(0.15) ? 1n << 40n : 0n) | (BigInt(rng.int(0, 15)) << 24n) | (BigInt(rng.bool(0.85) ? 0 : rng.int(0, 3)) << 16n) | BigInt(rng.int(0, (1 << Math.min(nv, 16)) - 1));
  return { step: { op: 'sysreg', pcpu: cpu.id, access: 'write', reg, value: toHex(value) }, outOfContract: cpu.mode !== 'hyp' };
}

type Kind = 'mmio' | 'sysreg' | 'its' | keyof typeof STEP_BUILDERS;

/** Op weights by the mode of the chosen pCPU. */
const BY_MODE: Record<Pcpu['mode'], readonly (readonly [number, Kind])[]> = {
  idle: [[8, 'run'], [2, 'inject'], [1, 'hw_irq'], [0.5, 'route'], [0.4, 'vcpu_on'], [0.3, 'vcpu_off'], [0.3, 'mmio']],
  hyp: [
    [60, 'mmio'], [3, 'sysreg'], [2, 'its'], [10, 'enter'], [4, 'inject'], [2, 'run'], [1, 'idle'], [1, 'pending_check'],
    [1, 'hw_irq'], [0.5, 'route'], [0.3, 'vcpu_off'], [0.3, 'vcpu_on'], [0.3, 'msi'],
  ],
  guest: [[10, 'exit'], [8, 'ack'], [6, 'eoi'], [2, 'dir'], [1, 'pmr'], [1, 'eoimode'], [1, 'hw_irq'], [0.3, 'mmio']],
};

/**
 * The next candidate steps for machine `m` (usually one; an ITS batch is several). Steps of
 * the ordinary ops may still be trace errors (the campaign drops those, as the ordinary
 * generator does); accesses drawn outside the contract are marked.
 */
export function mmioFuzzSteps(rng: Rng, m: Machine): MmioFuzzStep[] {
  const cpu = rng.pick(m.host.pcpus);
  let kind = rng.weighted(BY_MODE[cpu.mode]);
  // A GICv2 guest has no system-register interface: a few of its accesses (all UNDEF) are enough.
  if (kind === 'sysreg' && m.host.version === 'v2' && rng.bool(0.8)) kind = 'mmio';
  if (kind === 'mmio') {
    // Now and then the ordinary generator's access: a register that moves interrupts (enable,
    // pend, activate, priority, target, SGI) with a mask over the interrupts in play.
    if (cpu.mode === 'hyp' && rng.bool(STRUCTURED_SHARE)) return [{ step: STEP_BUILDERS.mmio(rng, m, cpu), outOfContract: false }];
    return [mmioAccess(rng, m, cpu)];
  }
  if (kind === 'sysreg') return [sysregAccess(rng, m, cpu)];
  if (kind === 'its') {
    const batch = m.host.version === 'v3' && itsDomains(m).length > 0 ? itsBatch(rng, m) : null;
    if (batch !== null) return batch.map((step) => ({ step, outOfContract: false }));
    return [mmioAccess(rng, m, cpu)];
  }
  return [{ step: STEP_BUILDERS[kind](rng, m, cpu), outOfContract: false }];
}
