/**
 * Xen's vGIC data model (reference §1): pending_irq records with their intrusive list links,
 * 32-IRQ ranks, per-vCPU and per-domain state, and Xen's per-pCPU context.
 */
import { IRQS_PER_RANK, type GicVersion } from '../arch/limits.js';
import type { LrLayout } from '../arch/lr.js';
import { SavedCpuInterface, type VirtualCpuInterface } from '../hw/cpuif.js';
import type { IrqDesc } from '../hw/irqdesc.js';
import { XEN_VARIANT, type Variant } from './variant.js';
import type { GuestRam } from './guestcopy.js';
import type { HostLpiData } from './gic-v3-lpi.js';
import type { ItsDevice } from './gic-v3-its.js';
import type { VirtIts } from './vgic-v3-its.js';

// ---------------------------------------------------------------------------------------
// Status bits of a pending_irq (§1.3).

export const GIC_IRQ_GUEST_QUEUED = 0;
export const GIC_IRQ_GUEST_ACTIVE = 1;
export const GIC_IRQ_GUEST_VISIBLE = 2;
export const GIC_IRQ_GUEST_ENABLED = 3;
export const GIC_IRQ_GUEST_MIGRATING = 4;
export const GIC_IRQ_GUEST_PRISTINE_LPI = 5;

/** Status bit names in bit order, as snapshots print them (trace-format §5). */
export const STATUS_NAMES = ['QUEUED', 'ACTIVE', 'VISIBLE', 'ENABLED', 'MIGRATING', 'PRISTINE_LPI'] as const;
export type StatusName = (typeof STATUS_NAMES)[number];

export function testBit(p: PendingIrq, bit: number): boolean {
  return (p.status & (1 << bit)) !== 0;
}
export function setBit(p: PendingIrq, bit: number): void {
  p.status |= 1 << bit;
}
export function clearBit(p: PendingIrq, bit: number): void {
  p.status &= ~(1 << bit);
}
/** test_and_clear_bit */
export function testAndClearBit(p: PendingIrq, bit: number): boolean {
  const was = testBit(p, bit);
  clearBit(p, bit);
  return was;
}

export function statusNames(status: number): StatusName[] {
  return STATUS_NAMES.filter((_, bit) => (status & (1 << bit)) !== 0);
}

// ---------------------------------------------------------------------------------------
// Intrusive doubly-linked lists, as Xen's `struct list_head`: a record owns its links, so
// membership is a field test and unlinking is O(1).

export class ListNode {
  prev: ListNode = this;
  next: ListNode = this;
  /** The record this link belongs to; null for a list head. */
  constructor(readonly owner: PendingIrq | null) {}
}

/** list_empty: for a record's link, "not on any list". */
export function listEmpty(node: ListNode): boolean {
  return node.next === node;
}

/** list_add_tail(node, before): link `node` just before `before` (at the tail if a head). */
export function listAddTail(node: ListNode, before: ListNode): void {
  const prev = before.prev;
  node.prev = prev;
  node.next = before;
  prev.next = node;
  before.prev = node;
}

/** list_del_init: unlink and point the node at itself (no-op when not linked). */
export function listDelInit(node: ListNode): void {
  node.prev.next = node.next;
  node.next.prev = node.prev;
  node.next = node;
  node.prev = node;
}

/** The records on a list, in order (for snapshots and checks, not for hot paths). */
export function listRecords(head: ListNode): PendingIrq[] {
  const out: PendingIrq[] = [];
  for (let n = head.next; n !== head; n = n.next) out.push(n.owner!);
  return out;
}

// ---------------------------------------------------------------------------------------

/** INVALID_VCPU_ID (MAX_VIRT_CPUS on arm64): the lpi_vcpu_id of a record that is not a mapped LPI. */
export const INVALID_VCPU_ID = 128;

/** struct pending_irq (§1.3); vgic_init_pending_irq gives status 0, lr 0, priority 0. */
export class PendingIrq {
  status = 0;
  desc: IrqDesc | null = null;
  /** LR index holding the IRQ; 0 until it first leaves an LR (Q38), then GIC_INVALID_LR. */
  lr = 0;
  /** Priority captured when the IRQ was last made inflight (§3.1, Q5). */
  priority = 0;
  readonly inflight = new ListNode(this);
  readonly lrQueue = new ListNode(this);
  /** Observation only (not Xen state): assertions vgic_inject_irq accepted for this record. */
  assertions = 0;
  /** The cached priority of an LPI (lpi_priority, §C.8). */
  lpiPriority = 0;
  /** The vCPU an LPI goes to (lpi_vcpu_id, a uint8_t); INVALID_VCPU_ID otherwise. */
  lpiVcpuId = INVALID_VCPU_ID;
  /**
   * A host event record that vgic_init_pending_irq never touched (xzalloc'd by the host
   * device registry, §C.5): its list links are NULL in Xen, so a list operation on it is a
   * NULL dereference. The model keeps self-linked nodes and checks this flag instead.
   */
  linksUninit = false;
  /** Not Xen state: the snapshot writer's last texts for this record (src/machine/snapshot.ts), null until written. */
  snapCache: object | null = null;

  /** `irq` changes only for LPI records, which vgic_init_pending_irq reuses (§C.7). */
  constructor(public irq: number) {}
}

/** struct vgic_irq_rank (§1.2). */
export class Rank {
  ienable = 0;
  readonly icfg = new Uint32Array(2);
  /** priority[i] is INTID 32*index+i; ipriorityr[j] is bytes 4j..4j+3, little-endian. */
  readonly priority = new Uint8Array(IRQS_PER_RANK);
  readonly vcpu = new Uint8Array(IRQS_PER_RANK);
  /** Not Xen state: the snapshot writer's last text for this rank (src/machine/snapshot.ts), null until written. */
  snapCache: object | null = null;

  constructor(readonly index: number) {}

  /** The word view ipriorityr[j]. */
  ipriorityr(j: number): number {
    const p = this.priority;
    return (p[4 * j]! | (p[4 * j + 1]! << 8) | (p[4 * j + 2]! << 16) | (p[4 * j + 3]! << 24)) >>> 0;
  }

  setIpriorityr(j: number, word: number): void {
    for (let b = 0; b < 4; b++) this.priority[4 * j + b] = (word >>> (8 * b)) & 0xff;
  }
}

export class Vcpu {
  /** !_VPF_down. All vCPUs start online (trace-format §2.2). */
  online = true;
  /** pCPU it last ran on (v->processor). */
  processor: number;
  /** pCPU it runs on now, or null. */
  runningOn: number | null = null;
  privateIrqs!: Rank;
  readonly pendingIrqs: PendingIrq[] = [];
  readonly inflightIrqs = new ListNode(null);
  readonly lrPending = new ListNode(null);
  /** Saved interface state (v->arch.gic) and saved lr_mask (v->arch.lr_mask). */
  readonly saved: SavedCpuInterface;
  readonly savedLrMask: LrMask;
  /** vcpu_kick calls: not part of the snapshot, counted so Q15 can be observed. */
  kicks = 0;
  /** VGIC_V3_LPIS_ENABLED (§C.8): set once by GICR_CTLR.EnableLPIs, never cleared. */
  lpisEnabled = false;
  /** GICR_PENDBASER image (rdist_pendbase, §C.8). */
  rdistPendbase = 0n;

  constructor(readonly domain: Domain, readonly id: number, nrLrs: number, pcpus: number) {
    this.processor = id % pcpus;
    this.saved = new SavedCpuInterface(nrLrs);
    this.savedLrMask = new LrMask();
  }
}

/** struct vgic_dist plus the domain fields the vGIC reads (§1.1). */
export class Domain {
  /** Emulated GICD_CTLR; v3 resets it to ARE_NS (0x10) in its domain_init. */
  ctlr = 0;
  nrSpis = 0;
  sharedIrqs: Rank[] = [];
  pendingIrqs: PendingIrq[] = [];
  allocatedIrqs: Uint32Array = new Uint32Array(0);
  readonly vcpus: Vcpu[] = [];

  // ----- LPI state (§C.2, §C.8): meaningful only when hasIts -----
  /** has_its: the domain has a virtual ITS (GICD_TYPER.LPIS, GICR_TYPER.PLPIS). */
  hasIts = false;
  /** intid_bits: GICD_TYPER.IDbits + 1 (10 for a domain without an ITS). */
  intidBits = 10;
  /** rdist_propbase: the one GICR_PROPBASER of the domain. */
  rdistPropbase = 0n;
  /** rdists_enabled: some redistributor has enabled LPIs. */
  rdistsEnabled = false;
  /** nr_lpis, latched by the first EnableLPIs. */
  nrLpis = 0;
  /** pend_lpi_tree: vLPI -> record of the mapped event. */
  readonly pendLpiTree = new Map<number, PendingIrq>();
  /**
   * Keys of pend_lpi_tree left behind by MAPTI re-initialising a record that was still in the
   * tree under another number (an event whose ITTE no longer read back: vLPI 0, or its
   * collection unmapped). Not Xen state: the model's note, for invariant L1 (§C.7; the INVALL
   * case of docs/trace-format.md §9.4).
   */
  readonly lpiStaleKeys = new Set<number>();
  /** The domain's virtual ITS, or null. */
  vits: VirtIts | null = null;
  /** The host device registry (its_devices), keyed by itsDeviceKey(doorbell, devid). */
  readonly itsDevices = new Map<string, ItsDevice>();
  /** Guest RAM (config `ram`), or null when the domain has none. */
  ram: GuestRam | null = null;
  /**
   * Not Xen state: the VMM that built this domain through KVM's device API (src/vmm), or null
   * for a domain of the config's ordinary form, which keeps Xen's fixed layout.
   */
  vmm: VmmLink | null = null;
  /** d->is_dying: set by domain_kill (trace-format §3.6); gic_remove_irq_from_guest proceeds only then. */
  isDying = false;

  /** `host` is the hypervisor the domain lives on (its variant reaches the vGIC code through it). */
  constructor(readonly id: number, readonly version: GicVersion, readonly maxVcpus: number, readonly host: Host) {}
}

/**
 * What the Xen code asks of a domain a VMM laid out (docs/trace-format.md §10): the Last bit of
 * a redistributor's GICR_TYPER follows KVM's slot rule instead of Xen's fixed map.
 */
export interface VmmLink {
  typerLast(v: Vcpu): boolean;
}

/** Xen's 64-bit lr_mask (this_cpu(lr_mask) / v->arch.lr_mask) as two 32-bit words. */
export class LrMask {
  lo = 0;
  hi = 0;

  test(i: number): boolean {
    return i < 32 ? ((this.lo >>> i) & 1) === 1 : ((this.hi >>> (i - 32)) & 1) === 1;
  }
  set(i: number): void {
    if (i < 32) this.lo = (this.lo | (1 << i)) >>> 0;
    else this.hi = (this.hi | (1 << (i - 32))) >>> 0;
  }
  clear(i: number): void {
    if (i < 32) this.lo = (this.lo & ~(1 << i)) >>> 0;
    else this.hi = (this.hi & ~(1 << (i - 32))) >>> 0;
  }
  assign(from: LrMask): void {
    this.lo = from.lo;
    this.hi = from.hi;
  }
  zero(): void {
    this.lo = 0;
    this.hi = 0;
  }
  isZero(): boolean {
    return this.lo === 0 && this.hi === 0;
  }
  /** find_next_zero_bit(mask, size, start) */
  findNextZero(size: number, start: number): number {
    for (let i = start; i < size; i++) if (!this.test(i)) return i;
    return size;
  }
  /** lr_all_full(): the mask equals 2^nr_lrs - 1. */
  allFull(nrLrs: number): boolean {
    const lo = nrLrs >= 32 ? 0xffffffff : (2 ** nrLrs) - 1;
    const hi = nrLrs <= 32 ? 0 : nrLrs >= 64 ? 0xffffffff : (2 ** (nrLrs - 32)) - 1;
    return this.lo === lo && this.hi === hi;
  }
  toBigInt(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

export type PcpuMode = 'idle' | 'hyp' | 'guest';

/** Xen's per-pCPU context: `current`, this_cpu(lr_mask) and the interface underneath. */
export class Pcpu {
  mode: PcpuMode = 'idle';
  /** `current`, or null for the idle vCPU. */
  current: Vcpu | null = null;
  /** this_cpu(lr_mask), cleared at GIC init. */
  readonly lrMask = new LrMask();

  constructor(readonly host: Host, readonly id: number, readonly cpuif: VirtualCpuInterface) {}
}

export type LogLevel = 'err' | 'warn' | 'debug';
export interface LogEntry {
  level: LogLevel;
  msg: string;
}

/** Xen itself fails here (BUG, failed ASSERT, LR index outside the LR file): trace-format §4. */
export class XenCrash extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'XenCrash';
  }
}

/** The hypervisor as the vGIC sees it: GIC version, LR count, pCPUs, domains, host IRQs, variant. */
export class Host {
  readonly pcpus: Pcpu[] = [];
  readonly domains = new Map<number, Domain>();
  /** Host IRQ descriptors of the physical IRQs the model knows, by INTID. */
  readonly irqDescs = new Map<number, IrqDesc>();
  /** What Xen printed during the current operation. */
  readonly log: LogEntry[] = [];
  /** The host LPI table (lpi_data of gic-v3-lpi.c), once some domain has an ITS. */
  hostLpis: HostLpiData | null = null;

  /**
   * `variant`: the deliberate deviations this hypervisor runs with (a mutant, architectural
   * switches); Xen's own behaviour by default. Model functions read it through the pCPU,
   * domain or vCPU they are given.
   */
  constructor(readonly version: GicVersion, readonly nrLrs: number, readonly layout: LrLayout, readonly variant: Variant = XEN_VARIANT) {}

  printk(level: LogLevel, msg: string): void {
    this.log.push({ level, msg });
  }

  /**
   * A vCPU's interface state: the pCPU's live registers while it runs there, its saved copy
   * otherwise (§0.2 item 3).
   */
  interfaceOf(v: Vcpu): { iface: VirtualCpuInterface | SavedCpuInterface; lrMask: LrMask } {
    const cpu = v.runningOn === null ? null : this.pcpus[v.runningOn]!;
    return cpu === null ? { iface: v.saved, lrMask: v.savedLrMask } : { iface: cpu.cpuif, lrMask: cpu.lrMask };
  }
}

