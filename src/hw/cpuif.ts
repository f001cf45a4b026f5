/**
 * The GIC virtual CPU interface of one physical CPU (GICH_* on GICv2, ICH_*_EL2 on GICv3):
 * the list registers, HCR (EN, UIE), the VMCR fields the model needs (priority mask, EOI
 * mode) and the group-1 active-priority register. Xen saves and restores these on a context
 * switch (reference §0.2 item 3); the guest acts on them without trapping (trace-format §3.4).
 */
import type { GicVersion } from '../arch/limits.js';
import {
  LR_STATE_ACTIVE, LR_STATE_PENDING, getField, lrLayout, setField, type LrLayout,
} from '../arch/lr.js';

/** What Xen keeps in `v->arch.gic` while the vCPU is not running (§1.4). All zero at first. */
export class SavedCpuInterface {
  readonly lrs: Uint32Array;
  pmr = 0;
  eoimode: 0 | 1 = 0;
  apr = 0;

  constructor(nrLrs: number) {
    this.lrs = new Uint32Array(2 * nrLrs);
  }
}

/** Called when the guest deactivates an LR with the HW bit: the physical INTID. */
export type HwDeactivate = (pirq: number) => void;

/** No candidate for acknowledge: the spurious INTID. */
export const SPURIOUS_INTID = 1023;

export class VirtualCpuInterface {
  readonly layout: LrLayout;
  readonly lrs: Uint32Array;
  /** HCR.EN (bit 0): GICv3 per-pCPU init writes ICH_HCR_EL2 = EN; GICv2 leaves GICH_HCR 0. */
  hcrEn: boolean;
  /** HCR.UIE (bit 1): underflow maintenance interrupt enable. */
  uie = false;
  /** VMCR priority mask as stored: `value & 0xf8` on v2, 8 bits on v3 (trace-format §2.2). */
  pmr = 0;
  /** VMCR EOI mode: 1 splits priority drop (EOI) from deactivation (DIR). */
  eoimode: 0 | 1 = 0;
  /** Active priorities (GICH_APR / ICH_AP1R0_EL2): bit n = group priority n is active. */
  apr = 0;

  constructor(readonly version: GicVersion, readonly nrLrs: number) {
    this.layout = lrLayout(version);
    this.lrs = new Uint32Array(2 * nrLrs);
    this.hcrEn = version === 'v3';
  }

  /** gicv2_save_state / gicv3_save_state: copy the live registers out (§0.2 item 3). */
  saveState(to: SavedCpuInterface): void {
    to.lrs.set(this.lrs);
    to.pmr = this.pmr;
    to.eoimode = this.eoimode;
    to.apr = this.apr;
    // GICv2 disables the interface until the next vCPU is scheduled; GICv3 leaves HCR alone.
    if (this.version === 'v2') {
      this.hcrEn = false;
      this.uie = false;
    }
  }

  /** gicv2_restore_state / gicv3_restore_state: load a vCPU's saved registers. */
  restoreState(from: SavedCpuInterface): void {
    this.lrs.set(from.lrs);
    this.pmr = from.pmr;
    this.eoimode = from.eoimode;
    this.apr = from.apr;
    // GICv2 writes HCR := EN, which clears UIE; GICv3 does not touch ICH_HCR_EL2.
    if (this.version === 'v2') {
      this.hcrEn = true;
      this.uie = false;
    }
  }

  /** update_hcr_status(GICH_HCR_UIE, on). */
  setUie(on: boolean): void {
    this.uie = on;
  }

  /** read_vmcr_priority: 5-bit VMPriMask on v2, the 8-bit VPMR on v3 (§3.12, Q16). */
  readVmcrPriority(): number {
    return this.version === 'v2' ? this.pmr >> 3 : this.pmr;
  }

  /** read_apr(0): GICH_APR on v2, ICH_AP1R0_EL2 on v3. */
  readApr(): number {
    return this.apr;
  }

  /** The guest writes its priority mask (GICC_PMR / ICC_PMR_EL1). */
  setPmr(value: number): void {
    this.pmr = this.version === 'v2' ? value & 0xf8 : value & 0xff;
  }

  /** The guest writes its EOI mode (GICC_CTLR.EOImodeNS / ICC_CTLR_EL1.EOImode). */
  setEoimode(value: 0 | 1): void {
    this.eoimode = value;
  }

  /** Index of the lowest set active-priority bit, 32 when none (the running priority). */
  runningPriority(): number {
    return lowestSetBit(this.apr);
  }

  /**
   * Guest acknowledge (IAR read), trace-format §3.4: the pending (not pending+active) LR with
   * the lowest group priority that passes the priority mask and the running priority wins;
   * lowest LR index on a tie. It becomes active and its group priority is marked active.
   */
  acknowledge(): number {
    const running = this.runningPriority();
    let best = -1;
    let bestGroup = 32;
    for (let lr = 0; lr < this.nrLrs; lr++) {
      if (getField(this.lrs, lr, this.layout.state) !== LR_STATE_PENDING) continue;
      const prio8 = getField(this.lrs, lr, this.layout.priority) << this.layout.priorityShift;
      const group = prio8 >> 3;
      if (prio8 >= this.pmr || group >= running) continue;
      if (group < bestGroup) {
        best = lr;
        bestGroup = group;
      }
    }
    if (best < 0) return SPURIOUS_INTID;
    setField(this.lrs, best, this.layout.state, LR_STATE_ACTIVE);
    this.apr = (this.apr | (1 << bestGroup)) >>> 0;
    return getField(this.lrs, best, this.layout.virq);
  }

  /** Guest EOI (EOIR write): priority drop, then in EOI mode 0 a deactivation too. */
  endOfInterrupt(intid: number, onHw: HwDeactivate): void {
    if (this.apr !== 0) this.apr = (this.apr & (this.apr - 1)) >>> 0;
    if (this.eoimode === 0) this.deactivateIntid(intid, onHw);
  }

  /** Guest DIR write: deactivation, ignored in EOI mode 0. */
  deactivate(intid: number, onHw: HwDeactivate): void {
    if (this.eoimode === 1) this.deactivateIntid(intid, onHw);
  }

  /** The lowest-index LR holding `intid` with its active bit set loses that bit. */
  private deactivateIntid(intid: number, onHw: HwDeactivate): void {
    for (let lr = 0; lr < this.nrLrs; lr++) {
      const state = getField(this.lrs, lr, this.layout.state);
      if ((state & LR_STATE_ACTIVE) === 0) continue;
      if (getField(this.lrs, lr, this.layout.virq) !== intid) continue;
      setField(this.lrs, lr, this.layout.state, state & ~LR_STATE_ACTIVE);
      if (getField(this.lrs, lr, this.layout.hw) === 1) onHw(getField(this.lrs, lr, this.layout.pirq));
      return;
    }
  }
}

/** Index of the lowest set bit of a 32-bit value, 32 when it is 0 (find_first_bit). */
export function lowestSetBit(x: number): number {
  if (x === 0) return 32;
  return 31 - Math.clz32((x & -x) >>> 0);
}
