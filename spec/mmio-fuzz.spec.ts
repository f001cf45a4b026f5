/**
 * Random valid guest register accesses (docs/trace-format.md §3.3) interleaved with the other ops
 * (run / idle / enter / exit / inject / the guest CPU interface / sysreg), over several
 * vGICv2 and vGICv3 machines. Every access must be answered with ok / abort / undef (never
 * a trace error, never an exception), and after every step the structural invariants of
 * reference §7 must hold:
 *   (a) I1  lr_pending ⊆ inflight, per vCPU;
 *   (b) I2  both lists sorted by priority, non-decreasing;
 *   (c) I3  a record is on at most one inflight list (and at most one lr_pending list);
 *   (d) I6  every VISIBLE record of a vCPU has its lr_mask bit set and that LR holds its
 *           INTID (live registers while it runs, the saved copy otherwise); plus I4
 *           (VISIBLE records are not on lr_pending) and I5 (VISIBLE records are inflight);
 *   (e) I12 popcount(lr_mask) <= nr_lrs and no bit at or above nr_lrs;
 *   (f) I10 ENABLED == the rank's ienable bit.
 * Exemptions the reference allows (§7): no PSCI CPU_ON of a vCPU with live vGIC state (a
 * vCPU is taken offline only when it holds no state, so CPU_ON wipes nothing), and no
 * retargeting of an SPI that is inflight (Q34): ITARGETSR / IROUTER writes that would touch
 * an inflight SPI are replaced by a read of the same register. One crash is accepted: the
 * eviction walk of gic_restore_pending_irqs running past the inflight list head on `enter`
 * (3.8 step 3.2; undefined behaviour in Xen that ordinary traces reach); the fuzzer then
 * continues on a fresh machine. MMIO_FUZZ_STATS=1 prints outcome counts per config.
 *
 * Deterministic: a fixed seed, overridable with FC_SEED; a failure reports the seed, the
 * config and the step. Bounded loop counts, no timing assertions.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { emptyGicLr, readLr } from '../src/arch/lr.js';
import { Machine, type Result } from '../src/machine/machine.js';
import {
  GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_VISIBLE, listEmpty, listRecords, testBit, type LrMask, type PendingIrq, type Vcpu,
} from '../src/xen/types.js';
import { config, DOM } from './helpers.js';
import { FRAME, GICD, GICR, hex } from './mmio-helpers.js';

const DEFAULT_SEED = 0x5eed2026;
const FC_SEED = process.env['FC_SEED'];
const BASE_SEED = FC_SEED !== undefined && FC_SEED !== '' ? Number(FC_SEED) >>> 0 : DEFAULT_SEED;

/** Guest accesses per machine config; 6 configs -> 108,000 accesses in all. */
const ACCESSES_PER_CONFIG = 18_000;

/** mulberry32: small, fast, deterministic. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return this.next() % n;
  }
  range(lo: number, hiExcl: number): number {
    return lo + this.int(hiExcl - lo);
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  /** Weighted choice among [weight, value] pairs. */
  weighted<T>(xs: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of xs) total += w;
    let r = this.int(total);
    for (const [w, v] of xs) {
      if (r < w) return v;
      r -= w;
    }
    return xs[xs.length - 1]![1];
  }
  big(bits: number): bigint {
    let v = 0n;
    for (let b = 0; b < bits; b += 32) v = (v << 32n) | BigInt(this.next());
    return v & ((1n << BigInt(bits)) - 1n);
  }
}

interface FuzzCfg {
  gic: 'v2' | 'v3';
  vcpus: number;
  nr_spis: number;
  nr_lrs: number;
  pcpus: number;
}

const CONFIGS: FuzzCfg[] = [
  { gic: 'v2', vcpus: 1, nr_spis: 32, nr_lrs: 2, pcpus: 1 },
  { gic: 'v2', vcpus: 4, nr_spis: 128, nr_lrs: 4, pcpus: 2 },
  { gic: 'v2', vcpus: 2, nr_spis: 64, nr_lrs: 3, pcpus: 2 },
  { gic: 'v3', vcpus: 1, nr_spis: 32, nr_lrs: 2, pcpus: 1 },
  { gic: 'v3', vcpus: 3, nr_spis: 64, nr_lrs: 4, pcpus: 2 },
  { gic: 'v3', vcpus: 4, nr_spis: 128, nr_lrs: 2, pcpus: 2 },
];

type Op = Record<string, unknown>;

const SIZES: readonly (readonly [number, 1 | 2 | 4 | 8])[] = [[25, 1], [10, 2], [55, 4], [10, 8]];

/** Register ranges worth hitting more often than a uniform offset would: [start, end). */
const V2_HOT: readonly [number, number][] = [
  [0x000, 0x010], [0x100, 0x110], [0x180, 0x190], [0x200, 0x210], [0x280, 0x290], [0x300, 0x310],
  [0x380, 0x390], [0x400, 0x4a0], [0x800, 0x8a0], [0xc00, 0xc28], [0xf00, 0xf04], [0xf10, 0xf30], [0xfe0, 0x1000],
];
const V3_GICD_HOT: readonly [number, number][] = [
  [0x0000, 0x0010], [0x0040, 0x0060], [0x0100, 0x0110], [0x0180, 0x0190], [0x0200, 0x0210], [0x0280, 0x0290],
  [0x0300, 0x0310], [0x0380, 0x0390], [0x0400, 0x04a0], [0x0c00, 0x0c28], [0x0f00, 0x0f30], [0x1000, 0x1010],
  [0x6000, 0x6000 + 8 * 160], [0xffe0, 0x10000],
];
const V3_RD_HOT: readonly [number, number][] = [[0x0000, 0x0028], [0x0040, 0x0080], [0x00a0, 0x00d0], [0xffe0, 0x10000]];
const V3_SGI_HOT: readonly [number, number][] = [
  [0x0080, 0x0088], [0x0100, 0x0108], [0x0180, 0x0188], [0x0200, 0x0208], [0x0280, 0x0288], [0x0300, 0x0308],
  [0x0380, 0x0388], [0x0400, 0x0424], [0x0c00, 0x0c0c], [0x0d00, 0x0d08], [0x0e00, 0x0e08],
];

function offsetIn(r: Rng, frameSize: number, hot: readonly [number, number][], size: number): number {
  const off = r.chance(0.6) ? r.range(...r.pick(hot)) : r.int(frameSize);
  return Math.min(off, frameSize - size) & ~(size - 1);
}

function writeValue(r: Rng, size: number): bigint {
  const bits = 8 * size;
  const mask = (1n << BigInt(bits)) - 1n;
  return r.weighted<() => bigint>([
    [30, () => r.big(bits)],
    [20, () => 1n << BigInt(r.int(bits))],
    [15, () => 0n],
    [10, () => mask],
    [25, () => BigInt(r.int(256)) & mask],
  ])();
}

/** A vCPU with no vGIC state at all: CPU_ON would wipe nothing (reference §7 exemption). */
function stateless(v: Vcpu): boolean {
  if (!listEmpty(v.inflightIrqs) || !listEmpty(v.lrPending)) return false;
  if (!v.savedLrMask.isZero() || v.saved.lrs.some((w) => w !== 0)) return false;
  return v.pendingIrqs.every((p) => (p.status & ~(1 << GIC_IRQ_GUEST_ENABLED)) === 0);
}

/**
 * The one crash a valid trace can reach without Q34 or CPU_ON: Xen's eviction walk in
 * gic_restore_pending_irqs starts its reverse list walk at the previous victim, so it can
 * run past the inflight list head (undefined behaviour in Xen; the model reports a crash,
 * see the xen-core spec of 3.8 step 3.2). The fuzzer starts a fresh machine when it happens.
 */
const EVICTION_WALK_CRASH = /^gic_restore_pending_irqs: eviction walk for IRQ \d+ ran past the head of d\d+v\d+'s inflight list$/;

function newMachine(cfg: FuzzCfg): Machine {
  const created = Machine.fromJson(config({ gic: cfg.gic, vcpus: cfg.vcpus, nr_spis: cfg.nr_spis, nr_lrs: cfg.nr_lrs, pcpus: cfg.pcpus }));
  if (E.isLeft(created)) throw new Error(created.left.join('; '));
  return created.right;
}

class Fuzzer {
  m: Machine;
  /** Machines restarted after the eviction-walk crash. */
  restarts = 0;
  readonly r: Rng;
  index = 0;
  accesses = 0;
  readonly outcomes = new Map<string, number>();
  readonly history: string[] = [];
  private readonly lrScratch = emptyGicLr();

  constructor(readonly cfg: FuzzCfg, seed: number) {
    this.m = newMachine(cfg);
    this.r = new Rng(seed);
  }

  get v3(): boolean {
    return this.cfg.gic === 'v3';
  }
  private get dom() {
    return this.m.host.domains.get(DOM)!;
  }

  /** Apply one op; a trace error or an exception fails with the op in the message. */
  apply(op: Op): Result {
    const text = JSON.stringify(op);
    this.history.push(`${this.index}: ${text}`);
    if (this.history.length > 12) this.history.shift();
    const res = this.m.step(op, this.index++);
    if (E.isLeft(res)) throw new Error(`trace error: ${res.left}`);
    const out = res.right;
    this.history[this.history.length - 1] += ` -> ${out.outcome}${out.value !== undefined ? ` ${out.value}` : ''}`;
    return out;
  }

  // ----- op generators -----

  private mmio(pcpu: number): Op {
    const r = this.r;
    const size = r.weighted(SIZES);
    let addr: number;
    let spiOf: number[] = []; // SPIs whose target a write here could change
    if (!this.v3) {
      const off = offsetIn(r, 0x1000, V2_HOT, size);
      addr = GICD + off;
      if (off >= 0x820 && off < 0xbfc && (size === 1 || size === 4)) {
        const first = (off & ~3) - 0x800;
        spiOf = size === 1 ? [off - 0x800] : [first, first + 1, first + 2, first + 3];
      }
    } else if (r.chance(0.45)) {
      const off = offsetIn(r, 0x10000, V3_GICD_HOT, size);
      addr = GICD + off;
      if (off >= 0x6100 && off < 0x7fe0 && (size === 4 || size === 8)) spiOf = [(off - 0x6000) >> 3];
    } else {
      const vcpu = r.chance(0.9) ? r.int(this.cfg.vcpus + 1) : r.int(128);
      const sgiPage = r.chance(0.6);
      const off = offsetIn(r, 0x10000, sgiPage ? V3_SGI_HOT : V3_RD_HOT, size);
      addr = GICR + vcpu * FRAME + (sgiPage ? 0x10000 : 0) + off;
    }
    const write = r.chance(0.5);
    if (write && spiOf.some((irq) => this.inflightSpi(irq))) {
      // Q34 exemption: do not retarget an inflight SPI; read the register instead.
      return { op: 'mmio', pcpu, access: 'read', addr: hex(addr), size };
    }
    if (!write) return { op: 'mmio', pcpu, access: 'read', addr: hex(addr), size };
    if (spiOf.length > 0) this.bump('retarget-write');
    return { op: 'mmio', pcpu, access: 'write', addr: hex(addr), size, value: hex(writeValue(r, size)) };
  }

  private inflightSpi(irq: number): boolean {
    const p = this.dom.pendingIrqs[irq - 32];
    return p !== undefined && !listEmpty(p.inflight);
  }

  private sysreg(pcpu: number): Op {
    const r = this.r;
    const reg = r.weighted([[80, 'ICC_SGI1R_EL1'], [10, 'ICC_ASGI1R_EL1'], [10, 'ICC_SGI0R_EL1']] as const);
    if (r.chance(0.15)) return { op: 'sysreg', pcpu, access: 'read', reg };
    const irm = r.chance(0.15) ? 1n : 0n;
    const aff1 = r.chance(0.85) ? 0n : BigInt(r.int(4));
    const list = BigInt(r.chance(0.8) ? r.int(1 << this.cfg.vcpus) : r.int(0x10000));
    const intid = BigInt(r.int(16));
    const junk = r.chance(0.2) ? (BigInt(r.int(256)) << 32n) | (BigInt(r.int(16)) << 44n) | (BigInt(r.int(256)) << 48n) : 0n;
    const value = (irm << 40n) | (intid << 24n) | (aff1 << 16n) | list | junk;
    return { op: 'sysreg', pcpu, access: 'write', reg, value: hex(value) };
  }

  private injectOp(pcpu: number): Op {
    const r = this.r;
    if (r.chance(0.4)) {
      const virq = r.int(32);
      return { op: 'inject', pcpu, domain: DOM, vcpu: r.int(this.cfg.vcpus), virq };
    }
    return { op: 'inject', pcpu, domain: DOM, vcpu: null, virq: 32 + r.int(this.cfg.nr_spis) };
  }

  private runnable(): number[] {
    return this.dom.vcpus.filter((v) => v.online && v.runningOn === null).map((v) => v.id);
  }

  /** INTIDs the guest could EOI / deactivate on this pCPU: the active ones in its LRs. */
  private activeIntids(pcpu: number): number[] {
    const cpu = this.m.host.pcpus[pcpu]!;
    const out: number[] = [];
    for (let lr = 0; lr < this.cfg.nr_lrs; lr++) {
      readLr(this.m.host.layout, cpu.cpuif.lrs, lr, this.lrScratch, this.v3);
      if (this.lrScratch.active) out.push(this.lrScratch.virq);
    }
    return out;
  }

  /** One step chosen for a random pCPU according to its mode. */
  nextOp(): Op {
    const r = this.r;
    const pcpu = r.int(this.cfg.pcpus);
    const cpu = this.m.host.pcpus[pcpu]!;
    if (cpu.mode === 'idle') {
      const ids = this.runnable();
      if (ids.length > 0 && r.chance(0.7)) return { op: 'run', pcpu, domain: DOM, vcpu: r.pick(ids) };
      const off = this.dom.vcpus.find((v) => !v.online);
      if (off !== undefined && r.chance(0.5)) return { op: 'vcpu_on', domain: DOM, vcpu: off.id };
      return this.injectOp(pcpu);
    }
    if (cpu.mode === 'guest') {
      const active = this.activeIntids(pcpu);
      return r.weighted<() => Op>([
        [30, () => ({ op: 'ack', pcpu })],
        [25, () => ({ op: 'eoi', pcpu, intid: active.length > 0 && r.chance(0.85) ? r.pick(active) : r.int(64) })],
        [10, () => ({ op: 'dir', pcpu, intid: active.length > 0 && r.chance(0.85) ? r.pick(active) : r.int(64) })],
        [8, () => ({ op: 'pmr', pcpu, value: r.chance(0.6) ? 0xff : r.int(256) })],
        [4, () => ({ op: 'eoimode', pcpu, value: r.int(2) })],
        [30, () => ({ op: 'exit', pcpu })],
      ])();
    }
    return r.weighted<() => Op>([
      [120, () => this.mmio(pcpu)],
      [10, () => this.injectOp(pcpu)],
      [12, () => ({ op: 'enter', pcpu })],
      [6, () => this.sysreg(pcpu)],
      [2, () => ({ op: 'pending_check', pcpu })],
      [3, () => {
        const ids = this.runnable();
        return ids.length > 0 ? { op: 'run', pcpu, domain: DOM, vcpu: r.pick(ids) } : { op: 'enter', pcpu };
      }],
      [2, () => ({ op: 'idle', pcpu })],
      [1, () => {
        const cand = this.dom.vcpus.filter((v) => v.online && v.runningOn === null && stateless(v));
        return cand.length > 0 ? { op: 'vcpu_off', domain: DOM, vcpu: r.pick(cand).id } : this.mmio(pcpu);
      }],
    ])();
  }

  // ----- checks -----

  bump(key: string): void {
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
  }

  checkResult(op: Op, res: Result): void {
    const kind = String(op['op']);
    this.bump(`${kind}:${res.outcome}`);
    if (kind === 'ack' && res.intid !== 1023) this.bump('ack:delivered');
    if (kind === 'mmio') {
      this.accesses++;
      expect(['ok', 'abort'], 'mmio outcome').to.include(res.outcome);
      if (op['access'] === 'read' && res.outcome === 'ok') {
        expect(res.value, 'read value').to.be.a('string');
        expect(BigInt(res.value!) < 1n << BigInt(8 * (op['size'] as number)), 'read value fits the access').to.equal(true);
      } else {
        expect(res.value, 'no value for writes / aborts').to.equal(undefined);
      }
      return;
    }
    if (kind === 'sysreg') {
      this.accesses++;
      expect(this.v3 ? ['ok', 'undef'] : ['undef'], 'sysreg outcome').to.include(res.outcome);
      return;
    }
    expect(res.outcome, `${kind} outcome${res.reason !== undefined ? ` (${res.reason})` : ''}`).to.equal('ok');
  }

  checkInvariants(): void {
    const d = this.dom;
    const nrLrs = this.cfg.nr_lrs;
    const onInflight = new Map<PendingIrq, number>();
    const onLrPending = new Map<PendingIrq, number>();
    for (const v of d.vcpus) {
      const infl = listRecords(v.inflightIrqs);
      const lrp = listRecords(v.lrPending);
      const inflSet = new Set(infl);
      const who = `d${d.id}v${v.id}`;
      // (a) I1
      for (const p of lrp) if (!inflSet.has(p)) throw new Error(`(a) I1: IRQ ${p.irq} is on ${who}'s lr_pending but not its inflight list`);
      // (b) I2
      for (const [name, list] of [['inflight', infl], ['lr_pending', lrp]] as const) {
        for (let i = 1; i < list.length; i++) {
          if (list[i - 1]!.priority > list[i]!.priority) {
            throw new Error(`(b) I2: ${who}'s ${name} is not sorted: ${list.map((p) => `${p.irq}@${p.priority}`).join(', ')}`);
          }
        }
      }
      // (c) I3
      for (const p of infl) {
        if (onInflight.has(p)) throw new Error(`(c) I3: IRQ ${p.irq} is on the inflight lists of v${onInflight.get(p)} and v${v.id}`);
        onInflight.set(p, v.id);
      }
      for (const p of lrp) {
        if (onLrPending.has(p)) throw new Error(`(c) I3: IRQ ${p.irq} is on two lr_pending lists`);
        onLrPending.set(p, v.id);
      }
      // (d) I6, I4 and (e) I12 against the vCPU's live or saved interface
      const running = v.runningOn !== null ? this.m.host.pcpus[v.runningOn]! : null;
      const mask: LrMask = running !== null ? running.lrMask : v.savedLrMask;
      const file = running !== null ? running.cpuif.lrs : v.saved.lrs;
      for (const p of infl) {
        if (!testBit(p, GIC_IRQ_GUEST_VISIBLE)) continue;
        if (p.lr >= nrLrs || !mask.test(p.lr)) throw new Error(`(d) I6: VISIBLE IRQ ${p.irq} of ${who} has lr ${p.lr} but lr_mask is ${hex(mask.toBigInt())}`);
        readLr(this.m.host.layout, file, p.lr, this.lrScratch, this.v3);
        if (this.lrScratch.virq !== p.irq) throw new Error(`(d) I6: VISIBLE IRQ ${p.irq} of ${who}: LR${p.lr} holds vINTID ${this.lrScratch.virq}`);
        if (lrp.includes(p)) throw new Error(`(d) I4: VISIBLE IRQ ${p.irq} of ${who} is on lr_pending`);
      }
      const maskBits = mask.toBigInt();
      if (maskBits >> BigInt(nrLrs) !== 0n) throw new Error(`(e) I12: ${who}'s lr_mask ${hex(maskBits)} has a bit at or above nr_lrs ${nrLrs}`);
      // (f) I10 for the private rank
      const ien = v.privateIrqs.ienable;
      for (let i = 0; i < 32; i++) {
        if (testBit(v.pendingIrqs[i]!, GIC_IRQ_GUEST_ENABLED) !== (((ien >>> i) & 1) === 1)) {
          throw new Error(`(f) I10: ENABLED of IRQ ${i} of ${who} disagrees with ienable ${hex(ien)}`);
        }
      }
    }
    // (d) I5: every VISIBLE record is on some inflight list
    const all: PendingIrq[] = [...d.pendingIrqs];
    for (const v of d.vcpus) all.push(...v.pendingIrqs);
    for (const p of all) {
      if (testBit(p, GIC_IRQ_GUEST_VISIBLE) && !onInflight.has(p)) throw new Error(`(d) I5: IRQ ${p.irq} is VISIBLE but on no inflight list`);
    }
    // (f) I10 for the shared ranks
    for (const rank of d.sharedIrqs) {
      for (let i = 0; i < 32; i++) {
        const p = d.pendingIrqs[32 * (rank.index - 1) + i]!;
        if (testBit(p, GIC_IRQ_GUEST_ENABLED) !== (((rank.ienable >>> i) & 1) === 1)) {
          throw new Error(`(f) I10: ENABLED of SPI ${p.irq} disagrees with rank ${rank.index} ienable ${hex(rank.ienable)}`);
        }
      }
    }
  }

  run(target: number): void {
    while (this.accesses < target) {
      const op = this.nextOp();
      const res = this.apply(op);
      if (op['op'] === 'enter' && res.outcome === 'crash' && EVICTION_WALK_CRASH.test(res.reason ?? '')) {
        this.restarts++;
        this.m = newMachine(this.cfg);
        continue;
      }
      this.checkResult(op, res);
      this.checkInvariants();
    }
  }
}

describe('mmio fuzz: random valid guest accesses keep Xen\'s structural invariants (§7, docs/trace-format.md §3.3)', function () {
  this.timeout(120_000);

  let total = 0;
  CONFIGS.forEach((cfg, ci) => {
    const seed = (BASE_SEED + Math.imul(ci, 0x9e3779b9)) >>> 0;
    const label = `${cfg.gic}, ${cfg.vcpus} vCPU(s), ${cfg.nr_spis} SPIs, ${cfg.nr_lrs} LRs, ${cfg.pcpus} pCPU(s)`;
    it(`trace-format §3.3/§7 I1-I12: ${ACCESSES_PER_CONFIG} accesses on ${label}: every outcome ok/abort/undef, invariants (a)-(f) after every step`, () => {
      const f = new Fuzzer(cfg, seed);
      try {
        f.run(ACCESSES_PER_CONFIG);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        throw new Error(
          `mmio fuzz failed (replay with FC_SEED=${BASE_SEED}; config #${ci} ${label}, config seed ${seed}) at step ${f.index - 1}: ${msg}\n` +
          `last steps:\n  ${f.history.join('\n  ')}`,
        );
      }
      total += f.accesses;
      if (process.env['MMIO_FUZZ_STATS'] !== undefined) {
        console.log(`    ${label}: ${f.index} steps, ${f.restarts} restart(s) after the eviction-walk crash`, Object.fromEntries([...f.outcomes].sort()));
      }
      // The run must really have exercised the interesting paths.
      const count = (k: string): number => f.outcomes.get(k) ?? 0;
      expect(count('mmio:ok'), 'mmio ok').to.be.greaterThan(ACCESSES_PER_CONFIG / 2);
      expect(count('mmio:abort'), 'mmio abort').to.be.greaterThan(100);
      expect(count('enter:ok') + count('exit:ok'), 'enter/exit').to.be.greaterThan(500);
      expect(count('ack:delivered'), 'acks that returned an interrupt').to.be.greaterThan(100);
      expect(count('retarget-write'), 'ITARGETSR / IROUTER writes').to.be.greaterThan(50);
      if (cfg.gic === 'v3') expect(count('sysreg:ok'), 'sysreg ok').to.be.greaterThan(100);
    });
  });

  it('the six runs together made at least 100,000 guest accesses', () => {
    expect(total).to.be.at.least(100_000);
  });
});
