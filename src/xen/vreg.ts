/**
 * Register emulation plumbing shared by the GICv2 and GICv3 handlers (Xen's vreg.h and the
 * switch ladders of vgic-v2.c / vgic-v3.c, turned into data): byte-lane helpers, and a table
 * walker that finds the row for an offset, checks the access width, looks up the rank and
 * merges byte lanes once, so that each row only says what its register does.
 */
import { vgicRankOffset } from './vgic.js';
import type { LogLevel, Pcpu, Rank, Vcpu } from './types.js';

export type AccessSize = 1 | 2 | 4 | 8;

/** One trapped access, as the walker hands it to a row. */
export interface MmioAccess {
  /** Offset of the access from the frame base (the register page). */
  readonly off: number;
  readonly size: AccessSize;
  readonly write: boolean;
  /** The written value (writes only). */
  readonly value: bigint;
}

/** Who does the access and whose rank 0 a rank-indexed register reaches. */
export interface RegCtx {
  readonly cpu: Pcpu;
  /** `current`: the accessing vCPU. */
  readonly current: Vcpu;
  /** The vCPU whose registers these are: current for GICD, the frame owner for GICR. */
  readonly owner: Vcpu;
  /** Name for log messages ("vGICD", "vGICR", "vGICR: SGI"). */
  readonly frame: string;
}

export type MmioOutcome = { outcome: 'ok'; value?: bigint } | { outcome: 'abort' };

/** Which access sizes a row accepts: 'any', 'W' (32), 'BW' (8 or 32), '64' (32 or 64). */
export type Widths = 'any' | 'W' | 'BW' | '64';

function widthOk(w: Widths, size: AccessSize): boolean {
  switch (w) {
    case 'any': return true;
    case 'W': return size === 4;
    case 'BW': return size === 1 || size === 4;
    case '64': return size === 4 || size === 8;
  }
}

/**
 * A read handler returns the register image (32 or 64 bits) or refuses with an abort.
 * `rel` is the access offset from register 0 of the family (the row's `base`).
 */
export type ReadFn = (ctx: RegCtx, a: MmioAccess, rank: Rank | null, rel: number) => bigint | 'abort';
/** A write handler stores, acts, or refuses with an abort. */
export type WriteFn = (ctx: RegCtx, a: MmioAccess, rank: Rank | null, rel: number) => 'ok' | 'abort';

/** How one direction of a row behaves. */
export interface RowSide {
  readonly widths: Widths;
  /** Register family with this many bits per IRQ: the walker looks up its rank (§1.5). */
  readonly bits?: 1 | 2 | 8 | 64;
  /** Log before the width check (e.g. ICACTIVER writes are logged first). */
  readonly preLog?: LogLevel;
  /** Log after the width check for RAZ/WI rows (reserved: debug; unknown: err). */
  readonly log?: LogLevel;
  /** The handler; none means RAZ / WI. */
  readonly fn?: ReadFn | WriteFn;
  /** No such case in Xen's switch: the frame's default path (abort on v2, RAZ/WI on v3). */
  readonly unhandled?: true;
}

/** One register family: an inclusive offset range and its read and write behaviour. */
export interface RegRow {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /** Offset of register 0 of the family, for rank lookup and `rel` (defaults to start). */
  readonly base?: number;
  /** 64-bit registers use byte lane `off & 7`; others `off & 3`. */
  readonly reg64?: true;
  readonly read: RowSide;
  readonly write: RowSide;
}

/** What a frame does for offsets no row covers, or for `unhandled` sides. */
export interface FrameDefaults {
  readonly read: 'abort' | 'raz';
  readonly write: 'abort' | 'wi';
}

export const RAZ: RowSide = { widths: 'any' };
export const RAZ_W: RowSide = { widths: 'W' };
export const RESERVED: RowSide = { widths: 'any', log: 'debug' };
export const UNHANDLED: RowSide = { widths: 'any', unhandled: true };

// ----- byte lanes (vreg_reg32_* / vreg_reg64_*) -----

function sizeMask(size: AccessSize): bigint {
  return (1n << BigInt(8 * size)) - 1n;
}

function laneShift(a: MmioAccess, reg64: boolean): bigint {
  return BigInt(8 * (a.off & (reg64 ? 7 : 3)));
}

/** vreg_reg{32,64}_extract: the accessed bytes of a register image. */
export function vregExtract(image: bigint, a: MmioAccess, reg64 = false): bigint {
  return (image >> laneShift(a, reg64)) & sizeMask(a.size);
}

/** vreg_reg32_update: replace the accessed bytes of a 32-bit register. */
export function vregUpdate32(reg: number, a: MmioAccess): number {
  const shift = laneShift(a, false);
  const mask = sizeMask(a.size) << shift;
  const merged = (BigInt(reg) & ~mask) | ((a.value << shift) & mask);
  return Number(merged & 0xffffffffn);
}

/** vreg_reg64_update: replace the accessed bytes of a 64-bit register. */
export function vregUpdate64(reg: bigint, a: MmioAccess): bigint {
  const shift = laneShift(a, true);
  const mask = sizeMask(a.size) << shift;
  return ((reg & ~mask) | ((a.value << shift) & mask)) & 0xffffffffffffffffn;
}

/** vreg_reg32_setbits */
export function vregSetbits32(reg: number, a: MmioAccess): number {
  const bits = (a.value & sizeMask(a.size)) << laneShift(a, false);
  return Number((BigInt(reg) | bits) & 0xffffffffn);
}

/** vreg_reg32_clearbits */
export function vregClearbits32(reg: number, a: MmioAccess): number {
  const bits = (a.value & sizeMask(a.size)) << laneShift(a, false);
  return Number(BigInt(reg) & ~bits & 0xffffffffn);
}

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

function who(ctx: RegCtx): string {
  return `d${ctx.current.domain.id}v${ctx.current.id}`;
}

/** Find the row covering `off` (rows are sorted and do not overlap). */
export function findRow(rows: readonly RegRow[], off: number): RegRow | undefined {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = rows[mid]!;
    if (off < r.start) hi = mid - 1;
    else if (off > r.end) lo = mid + 1;
    else return r;
  }
  return undefined;
}

/**
 * The walker: dispatch one access of a frame through its table. Width violations abort
 * with a log; an absent rank reads as zero and ignores writes (after the width check).
 */
export function emulateAccess(rows: readonly RegRow[], defaults: FrameDefaults, ctx: RegCtx, a: MmioAccess): MmioOutcome {
  const host = ctx.cpu.host;
  const dir = a.write ? 'write' : 'read';
  const row = findRow(rows, a.off);
  const side = row === undefined ? UNHANDLED : a.write ? row.write : row.read;

  if (side.unhandled === true) {
    const aborts = a.write ? defaults.write === 'abort' : defaults.read === 'abort';
    host.printk('err', `${who(ctx)}: ${ctx.frame}: unhandled ${dir} at offset ${hex(a.off)}`);
    return aborts ? { outcome: 'abort' } : a.write ? { outcome: 'ok' } : { outcome: 'ok', value: 0n };
  }
  const r = row!;
  if (side.preLog !== undefined) host.printk(side.preLog, `${who(ctx)}: ${ctx.frame}: unhandled ${dir} to ${r.name}`);
  if (!widthOk(side.widths, a.size)) {
    host.printk('err', `${who(ctx)}: ${ctx.frame}: bad ${dir} width ${a.size} at offset ${hex(a.off)} (${r.name})`);
    return { outcome: 'abort' };
  }
  if (side.log !== undefined) {
    host.printk(side.log, `${who(ctx)}: ${ctx.frame}: ${a.write ? 'WI' : 'RAZ'} at ${hex(a.off)} (${r.name})`);
  }

  const rel = a.off - (r.base ?? r.start);
  let rank: Rank | null = null;
  if (side.bits !== undefined) {
    rank = side.bits === 64 ? vgicRankOffset(ctx.owner, 64, rel, 3) : vgicRankOffset(ctx.owner, side.bits, rel, 2);
    if (rank === null) return a.write ? { outcome: 'ok' } : { outcome: 'ok', value: 0n };
  }

  if (a.write) {
    if (side.fn === undefined) return { outcome: 'ok' };
    return (side.fn as WriteFn)(ctx, a, rank, rel) === 'abort' ? { outcome: 'abort' } : { outcome: 'ok' };
  }
  if (side.fn === undefined) return { outcome: 'ok', value: 0n };
  const image = (side.fn as ReadFn)(ctx, a, rank, rel);
  if (image === 'abort') return { outcome: 'abort' };
  return { outcome: 'ok', value: vregExtract(image, a, r.reg64 === true) };
}
