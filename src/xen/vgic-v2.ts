/**
 * Mirror of xen/arch/arm/vgic-v2.c: the GICv2 distributor as a register table (reference
 * §4.1-§4.4, Q18-Q25, Q28, Q30, Q32). Offsets are from the GICD base; `v` is current.
 */
import { architectural } from './divergences.js';
import { mutated } from './mutants.js';
import { IRQS_PER_RANK } from '../arch/limits.js';
import {
  RAZ, RAZ_W, RESERVED, UNHANDLED, emulateAccess, vregClearbits32, vregSetbits32, vregUpdate32,
  type FrameDefaults, type MmioAccess, type MmioOutcome, type RegCtx, type RegRow, type RowSide,
} from './vreg.js';
import type { Domain, Pcpu, Rank, Vcpu } from './types.js';
import {
  vgicCheckInflightIrqsPending, vgicDisableIrqs, vgicEnableIrqs, vgicMigrateIrq, vgicReprioritise, vgicSetIrqsPending,
  vgicToSgi, type SgiMode,
} from './vgic.js';

/** GICv2 guest distributor base and size (§2.6). */
export const GUEST_GICD_BASE = 0x3001000;
export const GICV2_GICD_SIZE = 0x1000;

/** GICD_IIDR value (Q30). */
export const GICV2_IIDR = 0x43b;
/** Read value of the write-only GICD_SGIR (Q29). */
export const GICV2_SGIR_READ = 0xdeadbeef;

// ----- handlers shared by the register families of both versions -----

/** ISENABLER write (§4.2): set bits, enable only the 0 -> 1 transitions (Q22). */
export function writeIsenabler(ctx: RegCtx, a: MmioAccess, rank: Rank | null): 'ok' {
  const r = rank!;
  const old = r.ienable;
  r.ienable = vregSetbits32(r.ienable, a);
  vgicEnableIrqs(ctx.cpu, ctx.owner, (r.ienable & ~old) >>> 0, r.index);
  return 'ok';
}

/** ICENABLER write (§4.2): clear bits, disable only the 1 -> 0 transitions (Q22). */
export function writeIcenabler(ctx: RegCtx, a: MmioAccess, rank: Rank | null): 'ok' {
  const r = rank!;
  const old = r.ienable;
  r.ienable = vregClearbits32(r.ienable, a);
  vgicDisableIrqs(ctx.cpu, ctx.owner, (old & ~r.ienable) >>> 0, r.index);
  return 'ok';
}

export function readIenable(_ctx: RegCtx, _a: MmioAccess, rank: Rank | null): bigint {
  return BigInt(rank!.ienable);
}

/** ISPENDR write: vgic_set_irqs_pending on the rank (§3.15, Q21). */
export function writeIspendr(ctx: RegCtx, a: MmioAccess, rank: Rank | null): 'ok' {
  vgicSetIrqsPending(ctx.cpu, ctx.owner, Number(a.value & 0xffffffffn), rank!.index);
  return 'ok';
}

/** ICPENDR write: only warns for inflight IRQs (§3.16, Q19). */
export function writeIcpendr(ctx: RegCtx, a: MmioAccess, rank: Rank | null): 'ok' {
  vgicCheckInflightIrqsPending(ctx.cpu, ctx.owner, rank!.index, Number(a.value & 0xffffffffn));
  return 'ok';
}

/** IPRIORITYR: the word ipriorityr[(off >> 2) & 7] of the rank (Q24: all 8 bits kept). */
export function readIpriorityr(_ctx: RegCtx, _a: MmioAccess, rank: Rank | null, rel: number): bigint {
  return BigInt(rank!.ipriorityr((rel >> 2) & 7));
}

export function writeIpriorityr(ctx: RegCtx, a: MmioAccess, rank: Rank | null, rel: number): 'ok' {
  const j = (rel >> 2) & 7;
  const before = rank!.ipriorityr(j);
  const word = vregUpdate32(before, a);
  const host = ctx.cpu.host;
  const masked = mutated(host, 'ipriorityr-masks-low-bits') || architectural(host, 'ipriorityr-keeps-low-bits');
  rank!.setIpriorityr(j, masked ? (word & 0xf8f8f8f8) >>> 0 : word);
  if (architectural(host, 'priority-latched-at-injection')) vgicReprioritise(ctx.owner, rank!, j, before);
  return 'ok';
}

/** ICFGR: the word icfg[(off >> 2) & 1] of the rank, stored exactly as written (Q4). */
export function readIcfgr(ctx: RegCtx, _a: MmioAccess, rank: Rank | null, rel: number): bigint {
  const j = (rel >> 2) & 1;
  if (j === 0 && rank!.index === 0 && architectural(ctx.cpu.host, 'sgi-config-reads-zero')) return 0xaaaaaaaan;
  return BigInt(rank!.icfg[j]!);
}

export function writeIcfgr(_ctx: RegCtx, a: MmioAccess, rank: Rank | null, rel: number): 'ok' {
  const j = (rel >> 2) & 1;
  rank!.icfg[j] = vregUpdate32(rank!.icfg[j]!, a);
  return 'ok';
}

// Row sides of the rank-indexed families, shared by the GICD tables of both versions and
// the GICv3 SGI_base page (Xen's __vgic_v3_distr_common_mmio_* serve both there too).
export const IENABLE_READ: RowSide = { widths: 'W', bits: 1, fn: readIenable };
export const ISENABLER_WRITE: RowSide = { widths: 'W', bits: 1, fn: writeIsenabler };
export const ICENABLER_WRITE: RowSide = { widths: 'W', bits: 1, fn: writeIcenabler };
export const ISPENDR_WRITE: RowSide = { widths: 'W', bits: 1, fn: writeIspendr };
export const ICPENDR_WRITE: RowSide = { widths: 'W', bits: 1, fn: writeIcpendr };
export const IPRIORITYR_READ: RowSide = { widths: 'BW', bits: 8, fn: readIpriorityr };
export const IPRIORITYR_WRITE: RowSide = { widths: 'BW', bits: 8, fn: writeIpriorityr };
export const ICFGR_READ: RowSide = { widths: 'W', bits: 2, fn: readIcfgr };
export const ICFGR_WRITE: RowSide = { widths: 'W', bits: 2, fn: writeIcfgr };

// ----- ITARGETSR (§4.3, Q25) -----

/** vgic_fetch_itargetsr: one bit per byte, `1 << target`, for the 4 IRQs of the word. */
export function vgicFetchItargetsr(rank: Rank, offset: number): number {
  let reg = 0;
  const first = offset & (IRQS_PER_RANK - 1) & ~3;
  for (let i = 0; i < 4; i++) reg |= (1 << rank.vcpu[first + i]!) << (8 * i);
  return reg >>> 0;
}

/** ffs: 1-based index of the lowest set bit, 0 for none. */
function ffs(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x & -x);
}

/** vgic_store_itargetsr: lowest set bit wins; empty or out-of-range bytes are skipped. */
export function vgicStoreItargetsr(cpu: Pcpu, d: Domain, rank: Rank, offset: number, itargetsr: number): void {
  const first = offset & (IRQS_PER_RANK - 1) & ~3;
  for (let i = 0; i < 4; i++) {
    const idx = first + i;
    const virq = rank.index * IRQS_PER_RANK + idx;
    const newMask = (itargetsr >>> (8 * i)) & 0xff;
    const t = mutated(cpu.host, 'itargetsr-highest-bit') ? 32 - Math.clz32(newMask) : ffs(newMask);
    if (t === 0 || t > d.maxVcpus) {
      cpu.host.printk('warn', `no valid vCPU in the target list 0x${newMask.toString(16)} of vIRQ ${virq}: skipped`);
      continue;
    }
    const newTarget = t - 1;
    const oldTarget = rank.vcpu[idx]!;
    if (newTarget !== oldTarget && vgicMigrateIrq(cpu, d.vcpus[oldTarget]!, d.vcpus[newTarget]!, virq)) {
      rank.vcpu[idx] = newTarget;
    }
  }
}

// ----- GICD_SGIR (§4.4, Q28) -----

const SGI_FILTERS: readonly (SgiMode | null)[] = ['list', 'others', 'self', null];

/** vgic_v2_to_sgi: decode GICD_SGIR and hand it to vgic_to_sgi; filter 3 is refused. */
export function vgicV2ToSgi(cpu: Pcpu, v: Vcpu, sgir: number): boolean {
  const mode = SGI_FILTERS[(sgir >>> 24) & 3]!;
  if (mode === null) {
    cpu.host.printk('debug', `GICD_SGIR write 0x${sgir.toString(16)} with the reserved filter 3`);
    return false;
  }
  return vgicToSgi(cpu, v, BigInt(sgir), mode, sgir & 0xf, { aff1: 0, list: (sgir >>> 16) & 0xff });
}

// ----- the table -----

const W_IGNORED = RAZ_W;

function errAbort(what: string) {
  return (ctx: RegCtx, a: MmioAccess): 'abort' => {
    ctx.cpu.host.printk('err', `d${ctx.current.domain.id}v${ctx.current.id}: vGICD: unhandled ${a.size === 1 ? 'byte' : 'word'} write 0x${a.value.toString(16)} to ${what}`);
    return 'abort';
  };
}

/** The GICv2 distributor, row by row in offset order (§4.1). */
export const GICV2_DIST_ROWS: readonly RegRow[] = [
  {
    name: 'GICD_CTLR', start: 0x000, end: 0x003,
    read: { widths: 'W', fn: (ctx) => BigInt(ctx.current.domain.ctlr) },
    write: { widths: 'W', fn: (ctx, a) => { const d = ctx.current.domain; d.ctlr = vregUpdate32(d.ctlr, a) & 1; return 'ok'; } },
  },
  {
    name: 'GICD_TYPER', start: 0x004, end: 0x007,
    read: { widths: 'W', fn: (ctx) => { const d = ctx.current.domain; return BigInt((((d.maxVcpus - 1) << 5) | Math.ceil(d.nrSpis / 32)) >>> 0); } },
    write: W_IGNORED,
  },
  { name: 'GICD_IIDR', start: 0x008, end: 0x00b, read: { widths: 'W', fn: () => BigInt(GICV2_IIDR) }, write: W_IGNORED },
  { name: 'reserved', start: 0x00c, end: 0x01f, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0x020, end: 0x03f, read: RESERVED, write: RESERVED },
  { name: 'reserved', start: 0x040, end: 0x07f, read: RESERVED, write: RESERVED },
  { name: 'GICD_IGROUPR', start: 0x080, end: 0x0ff, read: RAZ_W, write: W_IGNORED },
  {
    name: 'GICD_ISENABLER', start: 0x100, end: 0x17f,
    read: IENABLE_READ, write: ISENABLER_WRITE,
  },
  {
    name: 'GICD_ICENABLER', start: 0x180, end: 0x1ff,
    read: IENABLE_READ, write: ICENABLER_WRITE,
  },
  { name: 'GICD_ISPENDR', start: 0x200, end: 0x27f, read: RAZ, write: ISPENDR_WRITE },
  { name: 'GICD_ICPENDR', start: 0x280, end: 0x2ff, read: RAZ, write: ICPENDR_WRITE },
  {
    name: 'GICD_ISACTIVER', start: 0x300, end: 0x37f, read: RAZ,
    // Q20: only 0 is accepted on v2; anything else aborts.
    write: { widths: 'W', fn: (ctx, a) => (a.value === 0n ? 'ok' : errAbort('ISACTIVER')(ctx, a)) },
  },
  { name: 'GICD_ICACTIVER', start: 0x380, end: 0x3ff, read: RAZ, write: { widths: 'W', preLog: 'err' } },
  {
    name: 'GICD_IPRIORITYR', start: 0x400, end: 0x7fb,
    read: IPRIORITYR_READ, write: IPRIORITYR_WRITE,
  },
  { name: 'reserved', start: 0x7fc, end: 0x7ff, read: RESERVED, write: RESERVED },
  {
    name: 'GICD_ITARGETSR0-7', start: 0x800, end: 0x81f, base: 0x800,
    read: { widths: 'BW', bits: 8, fn: (_c, _a, r, rel) => BigInt(vgicFetchItargetsr(r!, rel)) },
    // Q25: SGI/PPI targets are read-only; a word write is ignored, a byte write aborts.
    write: W_IGNORED,
  },
  {
    name: 'GICD_ITARGETSR8-254', start: 0x820, end: 0xbfb, base: 0x800,
    read: { widths: 'BW', bits: 8, fn: (_c, _a, r, rel) => BigInt(vgicFetchItargetsr(r!, rel)) },
    write: {
      widths: 'BW', bits: 8,
      fn: (ctx, a, r, rel) => {
        const merged = vregUpdate32(vgicFetchItargetsr(r!, rel), a);
        vgicStoreItargetsr(ctx.cpu, ctx.current.domain, r!, rel, merged);
        return 'ok';
      },
    },
  },
  { name: 'reserved', start: 0xbfc, end: 0xbff, read: RESERVED, write: RESERVED },
  // Q23: ICFGR0/1 (SGIs, PPIs) read the private rank but are never writable on v2.
  { name: 'GICD_ICFGR0-1', start: 0xc00, end: 0xc07, base: 0xc00, read: ICFGR_READ, write: W_IGNORED },
  {
    name: 'GICD_ICFGR2-63', start: 0xc08, end: 0xcff, base: 0xc00,
    read: ICFGR_READ, write: ICFGR_WRITE,
  },
  { name: 'implementation defined', start: 0xd00, end: 0xdff, read: RESERVED, write: RESERVED },
  { name: 'GICD_NSACR', start: 0xe00, end: 0xeff, read: RAZ_W, write: W_IGNORED },
  {
    name: 'GICD_SGIR', start: 0xf00, end: 0xf03,
    read: { widths: 'W', fn: () => BigInt(GICV2_SGIR_READ) },
    write: { widths: 'W', fn: (ctx, a) => (vgicV2ToSgi(ctx.cpu, ctx.current, Number(a.value)) ? 'ok' : 'abort') },
  },
  { name: 'reserved', start: 0xf04, end: 0xf0f, read: RESERVED, write: RESERVED },
  { name: 'GICD_CPENDSGIR', start: 0xf10, end: 0xf1f, read: RAZ, write: { widths: 'BW', fn: errAbort('CPENDSGIR') } },
  { name: 'GICD_SPENDSGIR', start: 0xf20, end: 0xf2f, read: RAZ, write: { widths: 'BW', fn: errAbort('SPENDSGIR') } },
  { name: 'reserved', start: 0xf30, end: 0xfcf, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0xfd0, end: 0xfe7, read: RESERVED, write: RESERVED },
  {
    name: 'GICD_ICPIDR2', start: 0xfe8, end: 0xfeb,
    // Q30: the read is refused with a data abort.
    read: { widths: 'W', fn: (ctx) => { ctx.cpu.host.printk('err', `d${ctx.current.domain.id}v${ctx.current.id}: vGICD: unhandled read from ICPIDR2`); return 'abort'; } },
    write: W_IGNORED,
  },
  // Q30, Q32: reads RAZ, but writes reach Xen's default case and abort.
  { name: 'implementation defined', start: 0xfec, end: 0xfff, read: RESERVED, write: UNHANDLED },
];

const V2_DEFAULTS: FrameDefaults = { read: 'abort', write: 'abort' };

/** vgic_v2_distr_mmio_read / vgic_v2_distr_mmio_write: one access at offset `off`. */
export function vgicV2DistrMmio(cpu: Pcpu, off: number, size: 1 | 2 | 4 | 8, write: boolean, value: bigint): MmioOutcome {
  const current = cpu.current!;
  const ctx: RegCtx = { cpu, current, owner: current, frame: 'vGICD' };
  return emulateAccess(GICV2_DIST_ROWS, V2_DEFAULTS, ctx, { off, size, write, value });
}
