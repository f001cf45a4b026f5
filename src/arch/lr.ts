/**
 * List-register encodings of both GIC versions (reference appendix A, Q41).
 *
 * An LR file is a Uint32Array holding two 32-bit words per register (low word first), so
 * that a GICv3 ICH_LR_EL2 keeps all 64 bits without allocating a bigint per access. A
 * GICv2 GICH_LR uses only the low word; its high word stays 0.
 *
 * The layouts are data: one row per field (word, shift, mask). Reads and writes of any
 * field go through the same two helpers.
 */
import type { GicVersion } from './limits.js';

/** One field of a list register: which 32-bit word, where, how wide. */
export interface LrField {
  readonly word: 0 | 1;
  readonly shift: number;
  readonly mask: number;
}

/** The fields Xen reads or writes, per host GIC version (appendix A.1, A.2). */
export interface LrLayout {
  readonly virq: LrField;
  readonly pirq: LrField;
  readonly source: LrField;
  readonly eoi: LrField;
  readonly priority: LrField;
  /** 2-bit state: bit 0 pending, bit 1 active. */
  readonly state: LrField;
  readonly grp1: LrField;
  readonly hw: LrField;
  /** How the priority field maps to the 8-bit priority: v2 keeps bits [7:3]. */
  readonly priorityShift: number;
}

/** GICH_LR<n> (appendix A.1). */
export const GICV2_LR: LrLayout = {
  virq: { word: 0, shift: 0, mask: 0x3ff },
  pirq: { word: 0, shift: 10, mask: 0x3ff },
  source: { word: 0, shift: 10, mask: 0x7 },
  eoi: { word: 0, shift: 19, mask: 0x1 },
  priority: { word: 0, shift: 23, mask: 0x1f },
  state: { word: 0, shift: 28, mask: 0x3 },
  grp1: { word: 0, shift: 30, mask: 0x1 },
  hw: { word: 0, shift: 31, mask: 0x1 },
  priorityShift: 3,
};

/** ICH_LR<n>_EL2 (appendix A.2); word 1 holds bits [63:32]. */
export const GICV3_LR: LrLayout = {
  virq: { word: 0, shift: 0, mask: 0xffff },
  pirq: { word: 1, shift: 0, mask: 0x1fff },
  source: { word: 0, shift: 10, mask: 0x7 },
  eoi: { word: 1, shift: 9, mask: 0x1 },
  priority: { word: 1, shift: 16, mask: 0xff },
  state: { word: 1, shift: 30, mask: 0x3 },
  grp1: { word: 1, shift: 28, mask: 0x1 },
  hw: { word: 1, shift: 29, mask: 0x1 },
  priorityShift: 0,
};

export function lrLayout(version: GicVersion): LrLayout {
  return version === 'v2' ? GICV2_LR : GICV3_LR;
}

/** LR state values (GICH_LR_PENDING / GICH_LR_ACTIVE in Xen's gic.h). */
export const LR_STATE_INVALID = 0;
export const LR_STATE_PENDING = 1;
export const LR_STATE_ACTIVE = 2;
export const LR_STATE_PENDING_ACTIVE = 3;

export type LrStateName = 'invalid' | 'pending' | 'active' | 'pending+active';
export const LR_STATE_NAMES: readonly LrStateName[] = ['invalid', 'pending', 'active', 'pending+active'];

export function getField(file: Uint32Array, lr: number, f: LrField): number {
  return (file[2 * lr + f.word]! >>> f.shift) & f.mask;
}

export function setField(file: Uint32Array, lr: number, f: LrField, value: number): void {
  const i = 2 * lr + f.word;
  const cleared = file[i]! & ~(f.mask << f.shift);
  file[i] = (cleared | ((value & f.mask) << f.shift)) >>> 0;
}

/** OR a value into a field without clearing what is already there. */
export function orField(file: Uint32Array, lr: number, f: LrField, value: number): void {
  const i = 2 * lr + f.word;
  file[i] = (file[i]! | ((value & f.mask) << f.shift)) >>> 0;
}

/** struct gic_lr: the decoded view Xen works with (read_lr / write_lr). */
export interface GicLr {
  virq: number;
  /** The LR's priority field as stored: 5 bits on v2, 8 bits on v3. */
  priority: number;
  pending: boolean;
  active: boolean;
  hwStatus: boolean;
  pirq: number;
  eoi: boolean;
  source: number;
  grp1: boolean;
}

export function emptyGicLr(): GicLr {
  return { virq: 0, priority: 0, pending: false, active: false, hwStatus: false, pirq: 0, eoi: false, source: 0, grp1: false };
}

/**
 * gicv2_update_lr / gicv3_update_lr: program LR `lr` from scratch with (virq, 8-bit
 * priority, physical INTID or INVALID_IRQ, state). `guestV3` is "current's domain uses a
 * vGICv3" and selects Group 1 on a GICv3 host. `v2LowBits` is a deliberately wrong encoding
 * the caller may choose (a mutant): a GICv2 LR then carries the priority's low 5 bits
 * instead of its top 5; it changes nothing on a GICv3 layout.
 */
export function updateLr(
  layout: LrLayout, file: Uint32Array, lr: number,
  virq: number, priority: number, hwIrq: number | null, state: number, guestV3: boolean,
  v2LowBits = false,
): void {
  file[2 * lr] = 0;
  file[2 * lr + 1] = 0;
  setField(file, lr, layout.state, state);
  if (layout === GICV3_LR && guestV3) setField(file, lr, layout.grp1, 1);
  setField(file, lr, layout.priority, v2LowBits && layout.priorityShift === 3 ? priority & 0x1f : priority >> layout.priorityShift);
  setField(file, lr, layout.virq, virq);
  if (hwIrq !== null) {
    setField(file, lr, layout.hw, 1);
    setField(file, lr, layout.pirq, hwIrq);
  }
}

/** gicv2_read_lr / gicv3_read_lr: decode LR `lr` into `out` (no allocation). */
export function readLr(layout: LrLayout, file: Uint32Array, lr: number, out: GicLr, guestV3: boolean): void {
  out.virq = getField(file, lr, layout.virq);
  out.priority = getField(file, lr, layout.priority);
  const state = getField(file, lr, layout.state);
  out.pending = (state & LR_STATE_PENDING) !== 0;
  out.active = (state & LR_STATE_ACTIVE) !== 0;
  out.hwStatus = getField(file, lr, layout.hw) === 1;
  out.grp1 = getField(file, lr, layout.grp1) === 1;
  out.pirq = out.hwStatus ? getField(file, lr, layout.pirq) : 0;
  out.eoi = !out.hwStatus && getField(file, lr, layout.eoi) === 1;
  // The GICv3 back-end decodes the source only for a vGICv2 guest (A.2).
  const hasSource = !out.hwStatus && (layout === GICV2_LR || !guestV3);
  out.source = hasSource ? getField(file, lr, layout.source) : 0;
}

/** gicv2_write_lr / gicv3_write_lr: re-encode LR `lr` from a decoded struct. */
export function writeLr(layout: LrLayout, file: Uint32Array, lr: number, f: GicLr, guestV3: boolean): void {
  file[2 * lr] = 0;
  file[2 * lr + 1] = 0;
  setField(file, lr, layout.virq, f.virq);
  setField(file, lr, layout.priority, f.priority);
  setField(file, lr, layout.state, (f.pending ? LR_STATE_PENDING : 0) | (f.active ? LR_STATE_ACTIVE : 0));
  if (f.hwStatus) {
    setField(file, lr, layout.hw, 1);
    setField(file, lr, layout.pirq, f.pirq);
  } else {
    if (f.eoi) setField(file, lr, layout.eoi, 1);
    // Xen ORs the source in: on GICv3 its bits overlap the vINTID field, which they keep.
    if (layout === GICV2_LR || !guestV3) orField(file, lr, layout.source, f.source);
  }
  if (layout === GICV3_LR && guestV3) setField(file, lr, layout.grp1, 1);
}

/** gicv*_clear_lr: write 0. */
export function clearLr(file: Uint32Array, lr: number): void {
  file[2 * lr] = 0;
  file[2 * lr + 1] = 0;
}

/** The raw register as the host encodes it (32-bit for v2, 64-bit for v3). */
export function rawLr(file: Uint32Array, lr: number): bigint {
  return (BigInt(file[2 * lr + 1]!) << 32n) | BigInt(file[2 * lr]!);
}

export function setRawLr(file: Uint32Array, lr: number, raw: bigint): void {
  file[2 * lr] = Number(raw & 0xffffffffn);
  file[2 * lr + 1] = Number((raw >> 32n) & 0xffffffffn);
}

/** The 8-bit priority an LR carries (the v2 5-bit field shifted back, trace-format §5). */
export function lrPriority8(layout: LrLayout, file: Uint32Array, lr: number): number {
  return getField(file, lr, layout.priority) << layout.priorityShift;
}

/** Encode one decoded LR as a standalone raw value (for tests and tools). */
export function encodeLr(version: GicVersion, f: GicLr, guestV3 = version === 'v3'): bigint {
  const file = new Uint32Array(2);
  writeLr(lrLayout(version), file, 0, f, guestV3);
  return rawLr(file, 0);
}

/** Decode one standalone raw LR value (for tests and tools). */
export function decodeLr(version: GicVersion, raw: bigint, guestV3 = version === 'v3'): GicLr {
  const file = new Uint32Array(2);
  setRawLr(file, 0, raw);
  const out = emptyGicLr();
  readLr(lrLayout(version), file, 0, out, guestV3);
  return out;
}
