/**
 * Mirror of xen/arch/arm/vgic-v3.c: the GICv3 distributor, the redistributor frames (RD_base
 * and SGI_base pages) and the trapped ICC_SGI1R_EL1, as register tables (reference §5,
 * Q18-Q32). Unknown offsets are RAZ/WI with an error log, unlike GICv2.
 */
import { architectural } from './divergences.js';
import { mutated } from './mutants.js';
import { IRQS_PER_RANK, LPI_OFFSET } from '../arch/limits.js';
import {
  RAZ, RAZ_W, RESERVED, UNHANDLED, emulateAccess, vregUpdate32, vregUpdate64,
  type FrameDefaults, type MmioAccess, type MmioOutcome, type RegCtx, type RegRow, type RowSide,
} from './vreg.js';
import type { Domain, Pcpu, Rank, Vcpu } from './types.js';
import { vgicMigrateIrq, vgicToSgi } from './vgic.js';
import {
  ICENABLER_WRITE, ICFGR_READ, ICFGR_WRITE, ICPENDR_WRITE, IENABLE_READ, IPRIORITYR_READ, IPRIORITYR_WRITE,
  ISENABLER_WRITE, ISPENDR_WRITE,
} from './vgic-v2.js';

/** Guest memory map of a vGICv3 (§2.6). */
export const GUEST_GICV3_GICD_BASE = 0x3001000;
export const GICV3_GICD_SIZE = 0x10000;
export const GUEST_GICV3_GICR0_BASE = 0x3020000;
export const GUEST_GICV3_GICR0_SIZE = 0x1000000;
/** One redistributor frame: RD_base page then SGI_base page (GICV3_GICR_SIZE). */
export const GICV3_GICR_SIZE = 0x20000;
export const SZ_64K = 0x10000;

/** GICD_IIDR / GICR_IIDR (Q30). */
export const GICV3_IIDR = 0x34c;
/** GICD_PIDR2 / GICR_PIDR2: ArchRev 3 (Q30). */
export const GICV3_PIDR2 = 0x30;
/** What the LPI registers read without an ITS (Q29). */
export const GICR_UNKNOWN_VALUE = 0xdeadbeafdeadbeafn;
/** GICD_TYPER.IDbits of a domU: intid_bits is 10 (§5.2). */
export const DOMU_INTID_BITS = 10;
/** GICD_CTLR.EnableGrp1A, the only bit a guest can change (§5.1, Q3). */
export const GICD_CTLR_ENABLE_G1A = 0x2;

// ----- affinity (§2.4) -----

/** vcpuid_to_vaffinity: Aff0 = id & 0xf, Aff1 = id >> 4. */
export function vcpuidToVaffinity(id: number): bigint {
  return (BigInt((id >> 4) & 0xff) << 8n) | BigInt(id & 0xf);
}

/** vaffinity_to_vcpuid: Aff0 (all 8 bits) OR Aff1 << 4; Aff2 and Aff3 are ignored (Q26). */
export function vaffinityToVcpuid(aff: bigint): number {
  return Number(aff & 0xffn) | (Number((aff >> 8n) & 0xffn) << 4);
}

/** The mutant `irouter-aff0-added`: Aff0 + (Aff1 << 4), a carry where Xen ORs. */
function vaffinityToVcpuidAdded(aff: bigint): number {
  return Number(aff & 0xffn) + (Number((aff >> 8n) & 0xffn) << 4);
}

// ----- GICD_TYPER and IROUTER (§5.2, §5.3) -----

/** GICD_TYPER.LPIS (§C.0). */
export const GICD_TYPE_LPIS = 1 << 17;

/** GICD_TYPER: CPU count, SPI ranks, IDbits = intid_bits - 1 and, with an ITS, LPIS (§5.2, §C.0). */
export function gicdTyper(d: Domain): number {
  const ncpus = Math.min(d.maxVcpus, 8);
  const lpis = d.hasIts ? GICD_TYPE_LPIS : 0;
  const intidBits = d.hasIts ? d.intidBits : DOMU_INTID_BITS;
  return (((ncpus - 1) << 5) | Math.ceil(d.nrSpis / 32) | lpis | ((intidBits - 1) << 19)) >>> 0;
}

/** vgic_v3_irouter_to_vcpu: IRM -> vCPU0; else the affinity's vCPU, or none. */
export function vgicV3IrouterToVcpu(d: Domain, irouter: bigint): Vcpu | null {
  if ((irouter & 0x80000000n) !== 0n && !architectural(d.host, 'irouter-irm-targets-vcpu0')) return d.vcpus[0]!;
  const id = mutated(d.host, 'irouter-aff0-added') ? vaffinityToVcpuidAdded(irouter) : vaffinityToVcpuid(irouter);
  if (id >= d.maxVcpus) return null;
  return d.vcpus[id] ?? null;
}

/** vgic_fetch_irouter: the target's affinity; IRM always reads 0. */
export function vgicFetchIrouter(rank: Rank, offset: number): bigint {
  return vcpuidToVaffinity(rank.vcpu[(offset >> 3) & (IRQS_PER_RANK - 1)]!);
}

/** vgic_store_irouter: an invalid target drops the write silently (Q26). */
export function vgicStoreIrouter(cpu: Pcpu, d: Domain, rank: Rank, virq: number, irouter: bigint): void {
  const idx = virq & (IRQS_PER_RANK - 1);
  const newVcpu = vgicV3IrouterToVcpu(d, irouter);
  const oldVcpu = d.vcpus[rank.vcpu[idx]!]!;
  if (newVcpu === null) return;
  if (newVcpu !== oldVcpu && vgicMigrateIrq(cpu, oldVcpu, newVcpu, virq)) rank.vcpu[idx] = newVcpu.id;
}

// ----- register tables -----

function logErr(ctx: RegCtx, msg: string): void {
  ctx.cpu.host.printk('err', `d${ctx.current.domain.id}v${ctx.current.id}: ${ctx.frame}: ${msg}`);
}

const ISACTIVER_WRITE: RowSide = {
  widths: 'W',
  // Q20: v3 aborts every ISACTIVER write, 0 included.
  fn: (ctx, a) => {
    if (a.value === 0n && mutated(ctx.cpu.host, 'isactiver-zero-ok-v3')) return 'ok';
    logErr(ctx, `unhandled word write 0x${a.value.toString(16)} to ISACTIVER`);
    return 'abort';
  },
};
const ICACTIVER_WRITE: RowSide = { widths: 'W', preLog: 'err' };

/** Rows for families in eSPI space: same widths as the regular family, no eSPI ranks (appendix B). */
function espiRows(): RegRow[] {
  const w: RowSide = { widths: 'W' };
  return [
    { name: 'GICD_IGROUPRnE', start: 0x1000, end: 0x107f, read: w, write: w },
    { name: 'GICD_ISENABLERnE', start: 0x1200, end: 0x127f, read: w, write: w },
    { name: 'GICD_ICENABLERnE', start: 0x1400, end: 0x147f, read: w, write: w },
    { name: 'GICD_ISPENDRnE', start: 0x1600, end: 0x167f, read: RAZ, write: w },
    { name: 'GICD_ICPENDRnE', start: 0x1800, end: 0x187f, read: RAZ, write: w },
    { name: 'GICD_ISACTIVERnE', start: 0x1a00, end: 0x1a7f, read: RAZ, write: w },
    { name: 'GICD_ICACTIVERnE', start: 0x1c00, end: 0x1c7f, read: RAZ, write: ICACTIVER_WRITE },
    { name: 'GICD_IPRIORITYRnE', start: 0x2000, end: 0x23ff, read: { widths: 'BW' }, write: { widths: 'BW' } },
    { name: 'GICD_ICFGRnE', start: 0x3000, end: 0x30ff, read: w, write: w },
    { name: 'GICD_IGRPMODRnE', start: 0x3400, end: 0x347f, read: w, write: w },
    { name: 'GICD_NSACRnE', start: 0x3600, end: 0x36ff, read: w, write: w },
  ];
}

/** The GICv3 distributor, row by row in offset order (§5.1). Rank 0 is current's (Q27). */
export const GICV3_DIST_ROWS: readonly RegRow[] = [
  {
    name: 'GICD_CTLR', start: 0x0000, end: 0x0003,
    read: { widths: 'W', fn: (ctx) => BigInt(ctx.current.domain.ctlr) },
    write: {
      widths: 'W',
      fn: (ctx, a) => {
        const d = ctx.current.domain;
        const written = vregUpdate32(0, a);
        d.ctlr = (written & GICD_CTLR_ENABLE_G1A) !== 0 ? d.ctlr | GICD_CTLR_ENABLE_G1A : d.ctlr & ~GICD_CTLR_ENABLE_G1A;
        return 'ok';
      },
    },
  },
  { name: 'GICD_TYPER', start: 0x0004, end: 0x0007, read: { widths: 'W', fn: (ctx) => BigInt(gicdTyper(ctx.current.domain)) }, write: RAZ_W },
  { name: 'GICD_IIDR', start: 0x0008, end: 0x000b, read: { widths: 'W', fn: () => BigInt(GICV3_IIDR) }, write: RAZ_W },
  { name: 'reserved', start: 0x000c, end: 0x000f, read: RESERVED, write: RESERVED },
  { name: 'GICD_STATUSR', start: 0x0010, end: 0x0013, read: RAZ_W, write: RAZ_W },
  { name: 'reserved', start: 0x0014, end: 0x001f, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0x0020, end: 0x003f, read: RESERVED, write: RESERVED },
  // Q31: SETSPI / CLRSPI are reserved here: message-based SPIs do not exist.
  { name: 'GICD_SETSPI/CLRSPI (reserved)', start: 0x0040, end: 0x007f, read: RESERVED, write: RESERVED },
  { name: 'GICD_IGROUPR', start: 0x0080, end: 0x00ff, read: RAZ_W, write: RAZ_W },
  { name: 'GICD_ISENABLER', start: 0x0100, end: 0x017f, read: IENABLE_READ, write: ISENABLER_WRITE },
  { name: 'GICD_ICENABLER', start: 0x0180, end: 0x01ff, read: IENABLE_READ, write: ICENABLER_WRITE },
  { name: 'GICD_ISPENDR', start: 0x0200, end: 0x027f, read: RAZ, write: ISPENDR_WRITE },
  { name: 'GICD_ICPENDR', start: 0x0280, end: 0x02ff, read: RAZ, write: ICPENDR_WRITE },
  { name: 'GICD_ISACTIVER', start: 0x0300, end: 0x037f, read: RAZ, write: ISACTIVER_WRITE },
  { name: 'GICD_ICACTIVER', start: 0x0380, end: 0x03ff, read: RAZ, write: ICACTIVER_WRITE },
  {
    name: 'GICD_IPRIORITYR', start: 0x0400, end: 0x07fb,
    read: IPRIORITYR_READ, write: IPRIORITYR_WRITE,
  },
  // Q23: ICFGR0 (SGIs) is read-only; ICFGR1 (current's PPIs) is writable on v3.
  { name: 'GICD_ICFGR0', start: 0x0c00, end: 0x0c03, base: 0x0c00, read: ICFGR_READ, write: RAZ_W },
  {
    name: 'GICD_ICFGR', start: 0x0c04, end: 0x0cff, base: 0x0c00,
    read: ICFGR_READ, write: ICFGR_WRITE,
  },
  { name: 'GICD_IGRPMODR', start: 0x0d00, end: 0x0d7f, read: RAZ_W, write: RAZ_W },
  { name: 'GICD_NSACR', start: 0x0e00, end: 0x0eff, read: RAZ_W, write: RAZ_W },
  // Q28: GICD_SGIR does nothing on v3.
  { name: 'GICD_SGIR', start: 0x0f00, end: 0x0f03, read: RAZ_W, write: RAZ_W },
  { name: 'GICD_CPENDSGIR', start: 0x0f10, end: 0x0f1f, read: RAZ_W, write: { widths: 'W', fn: () => 'abort' } },
  { name: 'GICD_SPENDSGIR', start: 0x0f20, end: 0x0f2f, read: RAZ_W, write: { widths: 'W', fn: () => 'abort' } },
  { name: 'reserved', start: 0x0f30, end: 0x0fff, read: RESERVED, write: RESERVED },
  ...espiRows(),
  { name: 'reserved (incl. IROUTER0-31)', start: 0x3700, end: 0x60ff, read: RESERVED, write: RESERVED },
  {
    name: 'GICD_IROUTER', start: 0x6100, end: 0x7fdf, base: 0x6000, reg64: true,
    read: { widths: '64', bits: 64, fn: (_c, _a, r, rel) => vgicFetchIrouter(r!, rel) },
    write: {
      widths: '64', bits: 64,
      fn: (ctx, a, r, rel) => {
        const irouter = vregUpdate64(vgicFetchIrouter(r!, rel), a);
        vgicStoreIrouter(ctx.cpu, ctx.current.domain, r!, rel >> 3, irouter);
        return 'ok';
      },
    },
  },
  { name: 'GICD_IROUTERnE', start: 0x8000, end: 0xa003, reg64: true, read: { widths: '64' }, write: { widths: '64' } },
  { name: 'reserved', start: 0xa004, end: 0xbfff, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0xc000, end: 0xffe7, read: RESERVED, write: RESERVED },
  { name: 'GICD_PIDR2', start: 0xffe8, end: 0xffeb, read: { widths: 'W', fn: () => BigInt(GICV3_PIDR2) }, write: RAZ_W },
  { name: 'implementation defined', start: 0xffec, end: 0xffff, read: RESERVED, write: RESERVED },
];

const UNKNOWN_READ: RowSide = { widths: 'any', fn: () => GICR_UNKNOWN_VALUE };
const W64_IGNORED: RowSide = { widths: '64' };

/** GICR_TYPER (§5.6): affinity, processor number, Last; PLPIS with an ITS (§C.0). */
export function gicrTyper(v: Vcpu): bigint {
  const vmm = v.domain.vmm;
  // A domain a VMM laid out (docs/trace-format.md §10) takes KVM's Last rule; Xen's otherwise.
  const last = vmm !== null && !mutated(v.domain.host, 'last-by-xen-rule') ? vmm.typerLast(v) : v.id === v.domain.maxVcpus - 1 || v.id === GUEST_GICV3_GICR0_SIZE / GICV3_GICR_SIZE - 1;
  return (vcpuidToVaffinity(v.id) << 32n) | BigInt(v.id << 8) | (last ? 0x10n : 0n) | (v.domain.hasIts ? GICR_TYPER_PLPIS : 0n);
}

// ----- LPI configuration registers (§C.8) -----

export const GICR_TYPER_PLPIS = 1n;
export const GICR_CTLR_ENABLE_LPIS = 1;
export const GICR_PENDBASER_PTZ = 1n << 62n;
/** RES0 bits Xen clears: PROPBASER 63:59, 55:52, 6:5; PENDBASER 63, 61:59, 55:52, 15:12, 6:0. */
export const GICR_PROPBASER_RES0_MASK = genmask(63, 59) | genmask(55, 52) | genmask(6, 5);
export const GICR_PENDBASER_RES0_MASK = (1n << 63n) | genmask(61, 59) | genmask(55, 52) | genmask(15, 12) | genmask(6, 0);

/** GENMASK_ULL(hi, lo) */
export function genmask(hi: number, lo: number): bigint {
  return ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
}

/**
 * The attribute clean-up Xen applies to a base register (vgic_sanitise_field with the three
 * field rules, §C.3): OuterShareable becomes InnerShareable, inner non-cacheable becomes
 * RaWb, an outer attribute other than SameAsInner or nC becomes nC. The field positions are
 * the caller's (GICR_*BASER: shareability 11:10, inner 9:7, outer 58:56).
 */
export function sanitiseBaseAttrs(reg: bigint, shareShift: number, innerShift: number, outerShift: number): bigint {
  let r = reg;
  if (((r >> BigInt(shareShift)) & 3n) === 2n) r = (r & ~(3n << BigInt(shareShift))) | (1n << BigInt(shareShift));
  const inner = (r >> BigInt(innerShift)) & 7n;
  if (inner === 0n || inner === 1n) r = (r & ~(7n << BigInt(innerShift))) | (3n << BigInt(innerShift));
  const outer = (r >> BigInt(outerShift)) & 7n;
  if (outer !== 0n && outer !== 1n) r = (r & ~(7n << BigInt(outerShift))) | (1n << BigInt(outerShift));
  return r;
}

/** sanitize_propbaser */
export function sanitizePropbaser(reg: bigint): bigint {
  return sanitiseBaseAttrs(reg, 10, 7, 56) & ~GICR_PROPBASER_RES0_MASK;
}

/** sanitize_pendbaser */
export function sanitizePendbaser(reg: bigint): bigint {
  return sanitiseBaseAttrs(reg, 10, 7, 56) & ~GICR_PENDBASER_RES0_MASK;
}

/**
 * vgic_vcpu_enable_lpis (§C.8): the first redistributor to enable LPIs latches nr_lpis from
 * PROPBASER.IDbits (computed in 32 bits: IDbits 31 gives 2^32, which wraps to 0, so 0 LPIs)
 * and sets rdists_enabled; then this vCPU's LPIs are enabled.
 */
export function vgicVcpuEnableLpis(v: Vcpu): void {
  const d = v.domain;
  let nrLpis = 2 ** (Number(d.rdistPropbase & 0x1fn) + 1);
  if (nrLpis >= 2 ** 32) nrLpis = 0; // unsigned int
  nrLpis = nrLpis < LPI_OFFSET ? 0 : nrLpis - LPI_OFFSET;
  if (!d.rdistsEnabled) {
    d.nrLpis = nrLpis;
    d.rdistsEnabled = true;
  }
  v.lpisEnabled = true;
}

/** A 64-bit GICR register that exists only with an ITS: RAZ (width-checked) without one. */
function readWithIts(fn: (ctx: RegCtx) => bigint): RowSide {
  return { widths: '64', fn: (ctx: RegCtx) => (ctx.owner.domain.hasIts ? fn(ctx) : 0n) };
}

/** ... and WI (width-checked) without one. */
function writeWithIts(fn: (ctx: RegCtx, a: MmioAccess) => void): RowSide {
  return {
    widths: '64',
    fn: (ctx: RegCtx, a: MmioAccess) => {
      if (ctx.owner.domain.hasIts) fn(ctx, a);
      return 'ok' as const;
    },
  };
}

const GICR_CTLR_READ: RowSide = { widths: 'W', fn: (ctx: RegCtx) => (ctx.owner.domain.hasIts && ctx.owner.lpisEnabled ? 1n : 0n) };
const GICR_CTLR_WRITE: RowSide = {
  widths: 'W',
  fn: (ctx: RegCtx, a: MmioAccess) => {
    // Only setting EnableLPIs does anything, once; clearing it is ignored.
    const enable = (Number(a.value & 0xffffffffn) & GICR_CTLR_ENABLE_LPIS) !== 0;
    if (ctx.owner.domain.hasIts && enable && !ctx.owner.lpisEnabled) {
      vgicVcpuEnableLpis(ctx.owner);
    } else if (!enable && ctx.owner.lpisEnabled && mutated(ctx.cpu.host, 'enable-lpis-clearable')) ctx.owner.lpisEnabled = false;
    return 'ok' as const;
  },
};
const PROPBASER_READ = readWithIts((ctx) => ctx.owner.domain.rdistPropbase);
const PROPBASER_WRITE = writeWithIts((ctx, a) => {
  const d = ctx.owner.domain;
  // Frozen once any redistributor has enabled LPIs.
  if (!d.rdistsEnabled || mutated(d.host, 'propbaser-writable-after-enable')) d.rdistPropbase = sanitizePropbaser(vregUpdate64(d.rdistPropbase, a));
});
// PTZ is stored but reads as 0.
const PENDBASER_READ = readWithIts((ctx) => ctx.owner.rdistPendbase & ~GICR_PENDBASER_PTZ);
const PENDBASER_WRITE = writeWithIts((ctx, a) => {
  const v = ctx.owner;
  if (!v.lpisEnabled) v.rdistPendbase = sanitizePendbaser(vregUpdate64(v.rdistPendbase, a));
});

/** The RD_base page of a redistributor frame (§5.5, with the LPI registers of §C.8). */
export const GICV3_RD_ROWS: readonly RegRow[] = [
  { name: 'GICR_CTLR', start: 0x0000, end: 0x0003, read: GICR_CTLR_READ, write: GICR_CTLR_WRITE },
  { name: 'GICR_IIDR', start: 0x0004, end: 0x0007, read: { widths: 'W', fn: () => BigInt(GICV3_IIDR) }, write: RAZ_W },
  { name: 'GICR_TYPER', start: 0x0008, end: 0x000f, reg64: true, read: { widths: '64', fn: (ctx) => gicrTyper(ctx.owner) }, write: W64_IGNORED },
  { name: 'GICR_STATUSR', start: 0x0010, end: 0x0013, read: RAZ_W, write: RAZ_W },
  { name: 'GICR_WAKER', start: 0x0014, end: 0x0017, read: RAZ_W, write: RAZ_W },
  { name: 'reserved', start: 0x0018, end: 0x0018, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0x0020, end: 0x0020, read: RESERVED, write: RESERVED },
  { name: 'GICR_SETLPIR', start: 0x0040, end: 0x0047, reg64: true, read: UNKNOWN_READ, write: W64_IGNORED },
  { name: 'GICR_CLRLPIR', start: 0x0048, end: 0x004f, reg64: true, read: UNKNOWN_READ, write: W64_IGNORED },
  { name: 'reserved', start: 0x0050, end: 0x0050, read: RESERVED, write: RESERVED },
  { name: 'GICR_PROPBASER', start: 0x0070, end: 0x0077, reg64: true, read: PROPBASER_READ, write: PROPBASER_WRITE },
  { name: 'GICR_PENDBASER', start: 0x0078, end: 0x007f, reg64: true, read: PENDBASER_READ, write: PENDBASER_WRITE },
  { name: 'reserved', start: 0x0080, end: 0x0080, read: RESERVED, write: RESERVED },
  { name: 'GICR_INVLPIR', start: 0x00a0, end: 0x00a7, reg64: true, read: UNKNOWN_READ, write: W64_IGNORED },
  { name: 'reserved', start: 0x00a8, end: 0x00a8, read: RESERVED, write: RESERVED },
  { name: 'GICR_INVALLR', start: 0x00b0, end: 0x00b7, reg64: true, read: UNKNOWN_READ, write: W64_IGNORED },
  { name: 'reserved', start: 0x00b8, end: 0x00b8, read: RESERVED, write: RESERVED },
  { name: 'GICR_SYNCR', start: 0x00c0, end: 0x00c3, read: { widths: 'W', fn: () => 1n }, write: RAZ_W },
  { name: 'reserved', start: 0x00c8, end: 0x00c8, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0x0100, end: 0x0107, read: RESERVED, write: RESERVED },
  { name: 'reserved', start: 0x0108, end: 0x0108, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0x0110, end: 0x0117, read: RESERVED, write: RESERVED },
  { name: 'reserved', start: 0x0118, end: 0xbffc, read: RESERVED, write: RESERVED },
  { name: 'implementation defined', start: 0xc000, end: 0xffcc, read: RESERVED, write: RESERVED },
  { name: 'ID registers', start: 0xffd0, end: 0xffe4, read: RESERVED, write: RESERVED },
  { name: 'GICR_PIDR2', start: 0xffe8, end: 0xffeb, read: { widths: 'W', fn: () => BigInt(GICV3_PIDR2) }, write: RAZ_W },
  { name: 'ID registers', start: 0xffec, end: 0xfffc, read: RESERVED, write: RESERVED },
];

/** The SGI_base page of a redistributor frame (§5.8): the owner's rank 0. */
export const GICV3_SGI_ROWS: readonly RegRow[] = [
  { name: 'GICR_IGROUPR0', start: 0x0080, end: 0x0083, read: RAZ_W, write: RAZ_W },
  { name: 'GICR_ISENABLER0', start: 0x0100, end: 0x0103, read: IENABLE_READ, write: ISENABLER_WRITE },
  { name: 'GICR_ICENABLER0', start: 0x0180, end: 0x0183, read: IENABLE_READ, write: ICENABLER_WRITE },
  { name: 'GICR_ISPENDR0', start: 0x0200, end: 0x0203, read: RAZ, write: ISPENDR_WRITE },
  { name: 'GICR_ICPENDR0', start: 0x0280, end: 0x0283, read: RAZ, write: ICPENDR_WRITE },
  { name: 'GICR_ISACTIVER0', start: 0x0300, end: 0x0303, read: RAZ, write: ISACTIVER_WRITE },
  { name: 'GICR_ICACTIVER0', start: 0x0380, end: 0x0383, read: RAZ, write: ICACTIVER_WRITE },
  {
    name: 'GICR_IPRIORITYR0-7', start: 0x0400, end: 0x041f,
    read: IPRIORITYR_READ, write: IPRIORITYR_WRITE,
  },
  // Q23: GICR_ICFGR0 writes are not even decoded (default path, any width).
  { name: 'GICR_ICFGR0', start: 0x0c00, end: 0x0c03, base: 0x0c00, read: ICFGR_READ, write: UNHANDLED },
  {
    name: 'GICR_ICFGR1', start: 0x0c04, end: 0x0c07, base: 0x0c00,
    read: ICFGR_READ, write: ICFGR_WRITE,
  },
  { name: 'GICR_IGRPMODR0', start: 0x0d00, end: 0x0d03, read: RAZ_W, write: RAZ_W },
  { name: 'GICR_NSACR', start: 0x0e00, end: 0x0e03, read: RAZ_W, write: RAZ_W },
  { name: 'reserved', start: 0x0e04, end: 0xbffc, read: RESERVED, write: UNHANDLED },
  { name: 'implementation defined', start: 0xc000, end: 0xffcc, read: RESERVED, write: UNHANDLED },
  { name: 'reserved', start: 0xffd0, end: 0xfffc, read: RESERVED, write: UNHANDLED },
];

const V3_DEFAULTS: FrameDefaults = { read: 'raz', write: 'wi' };

/** vgic_v3_distr_mmio_read / _write */
export function vgicV3DistrMmio(cpu: Pcpu, off: number, size: 1 | 2 | 4 | 8, write: boolean, value: bigint): MmioOutcome {
  const current = cpu.current!;
  return emulateAccess(GICV3_DIST_ROWS, V3_DEFAULTS, { cpu, current, owner: current, frame: 'vGICD' }, { off, size, write, value });
}

/** vgic_v3_rdistr_mmio_read / _write: find the frame's owner, then the RD or SGI page. */
export function vgicV3RdistrMmio(cpu: Pcpu, regionOff: number, size: 1 | 2 | 4 | 8, write: boolean, value: bigint): MmioOutcome {
  const current = cpu.current!;
  const d = current.domain;
  const id = Math.floor(regionOff / GICV3_GICR_SIZE);
  const owner = id < d.maxVcpus ? d.vcpus[id] : undefined;
  if (owner === undefined) return { outcome: 'abort' }; // Q32: no such redistributor
  return vgicV3RdistrFrameMmio(cpu, owner, regionOff - id * GICV3_GICR_SIZE, size, write, value);
}

/**
 * An access at offset `off` of `owner`'s redistributor frame (the second half of
 * vgic_v3_rdistr_mmio_read / _write, once the owner is found): the RD_base or the SGI_base page.
 */
export function vgicV3RdistrFrameMmio(cpu: Pcpu, owner: Vcpu, off: number, size: 1 | 2 | 4 | 8, write: boolean, value: bigint): MmioOutcome {
  const current = cpu.current!;
  const a: MmioAccess = { off: off % SZ_64K, size, write, value };
  if (off < SZ_64K) return emulateAccess(GICV3_RD_ROWS, V3_DEFAULTS, { cpu, current, owner, frame: 'vGICR' }, a);
  const rankOwner = mutated(cpu.host, 'gicr-uses-current-rank') ? current : owner;
  return emulateAccess(GICV3_SGI_ROWS, V3_DEFAULTS, { cpu, current, owner: rankOwner, frame: 'vGICR: SGI' }, a);
}

// ----- system registers (§5.9) -----

export type SysRegName = 'ICC_SGI1R_EL1' | 'ICC_ASGI1R_EL1' | 'ICC_SGI0R_EL1';

/** vgic_v3_to_sgi: IRM (bit 40) selects OTHERS; else Aff1 + 16-bit list (Q28). */
export function vgicV3ToSgi(cpu: Pcpu, v: Vcpu, sgir: bigint): boolean {
  const irm = (sgir >> 40n) & 1n;
  const virq = Number((sgir >> 24n) & 0xfn);
  if (irm === 1n) return vgicToSgi(cpu, v, sgir, 'others', virq, { aff1: 0, list: 0 });
  // Aff3 [55:48], RS [47:44] and Aff2 [39:32]: a non-zero one names no vCPU of this guest.
  if ((sgir & 0x00fff0ff00000000n) !== 0n && architectural(cpu.host, 'sgi1r-ignores-aff2-aff3-rs')) return true;
  return vgicToSgi(cpu, v, sgir, 'list', virq, { aff1: Number((sgir >> 16n) & 0xffn), list: Number(sgir & 0xffffn) });
}

/** vgic_v3_emulate_sysreg: only an ICC_SGI1R_EL1 write is handled; all else is UNDEF. */
export function vgicV3EmulateSysreg(cpu: Pcpu, reg: SysRegName, write: boolean, value: bigint): 'ok' | 'undef' {
  if (reg !== 'ICC_SGI1R_EL1') return 'undef';
  if (!write) {
    cpu.host.printk('warn', 'ICC_SGI1R_EL1 is write-only: read refused');
    return 'undef';
  }
  return vgicV3ToSgi(cpu, cpu.current!, value) ? 'ok' : 'undef';
}
