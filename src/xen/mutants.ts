/**
 * Deliberate deviations from Xen ("mutants"): small, plausible porting mistakes that the
 * conformance kit must detect. Each is switched on for one Machine (`--mutant NAME`) and
 * tested at exactly one place in the model, marked `mutated(host, 'NAME')`.
 *
 * The switch is part of the machine's variant (src/xen/variant.ts), carried by its Host: a
 * model function reads it through the pCPU, domain or vCPU it is given, so machines with
 * different mutants live side by side in one process without any shared slot.
 */
import type { VariantHolder } from './variant.js';

export interface MutantInfo {
  /** What the mutant does differently from Xen. */
  readonly description: string;
  /**
   * The reference items it breaks (docs/xen-behaviour.md ids, comma-separated); a VMM mutant
   * breaks KVM's behaviour, so it cites the trace format's section that states it
   * (`trace-format §10.4`), then any Xen id involved.
   */
  readonly ref: string;
}

export const MUTANTS = {
  'evict-on-equal': {
    description: 'the eviction walk takes an equal-priority victim instead of stopping the pass',
    ref: 'Q12, §3.8',
  },
  'no-fifo-among-equals': {
    description: 'inflight and lr_pending insert before the first entry of equal or greater priority (LIFO among equals)',
    ref: 'I2, §3.1 step 9, §3.4',
  },
  'raise-into-free-lr': {
    description: 'gic_raise_guest_irq uses a free LR even while lr_pending is non-empty',
    ref: 'Q11, §3.2',
  },
  'clear-active-on-pending': {
    description: 'an LR that went active -> pending (EOI of active+pending) clears ACTIVE instead of keeping it',
    ref: 'Q13, §3.7(c)',
  },
  'reread-priority-on-reraise': {
    description: 'a drained LR re-raised because QUEUED re-reads the priority from IPRIORITYR',
    ref: 'Q5, §3.7(d)',
  },
  'uie-when-lrs-full': {
    description: 'the underflow interrupt is requested whenever every LR is used, even with lr_pending empty',
    ref: 'Q14, I15, §3.8',
  },
  'itargetsr-highest-bit': {
    description: 'an ITARGETSR byte selects its highest set bit instead of the lowest',
    ref: 'Q25, §4.3',
  },
  'irouter-aff0-added': {
    description: 'the IROUTER vCPU id is Aff0 + (Aff1 << 4) instead of Aff0 | (Aff1 << 4)',
    ref: 'Q26, §5.3',
  },
  'isactiver-zero-ok-v3': {
    description: 'a GICv3 ISACTIVER write of 0 is accepted (as on GICv2) instead of aborting',
    ref: 'Q20, §5.1',
  },
  'level-low-deasserts': {
    description: 'an injection with level false takes the IRQ off lr_pending and clears QUEUED instead of being ignored',
    ref: 'Q2, §3.1',
  },
  'inject-into-offline': {
    description: 'vgic_inject_irq does not drop an injection into an offline vCPU',
    ref: 'Q8(d), I19, §3.1',
  },
  'evict-active': {
    description: 'the eviction walk also takes ACTIVE IRQs as victims',
    ref: 'Q12, Q13, §3.8',
  },
  'no-placement-budget': {
    description: 'the restore pass places as many IRQs as it can instead of at most nr_lrs',
    ref: 'Q12, §3.8',
  },
  'keep-uie-on-exit': {
    description: 'vgic_sync_from_lrs does not clear UIE on a trap',
    ref: 'Q14, §3.9',
  },
  'pending-check-5bit-pmr-v3': {
    description: 'vgic_vcpu_pending_irq compares with the priority mask shifted to 5 bits on GICv3 too (fixing Q16)',
    ref: 'Q16, §3.12',
  },
  'sgi-others-includes-self': {
    description: 'an SGI to "all others" is also delivered to the sender',
    ref: '§3.19, Q28',
  },
  'disable-drops-inflight': {
    description: 'ICENABLER also takes a queued, not-yet-visible IRQ off inflight (forgetting the assertion)',
    ref: 'Q6, Q7, §3.14',
  },
  'enable-raises-visible': {
    description: 'vgic_enable_irqs raises an inflight IRQ again even when it is already in an LR',
    ref: '§3.13, I4',
  },
  'evict-from-head': {
    description: 'the eviction walk starts at the highest-priority end of inflight instead of the lowest',
    ref: 'Q12, §3.8',
  },
  'v2-lr-priority-low-bits': {
    description: 'a GICv2 LR carries priority & 0x1f instead of priority >> 3',
    ref: 'Q41, appendix A.1',
  },
  'gicr-uses-current-rank': {
    description: 'GICR SGI_base accesses use the current vCPU\'s private rank instead of the frame owner\'s',
    ref: 'Q21, §5.8',
  },
  'ipriorityr-masks-low-bits': {
    description: 'IPRIORITYR writes keep only bits [7:3] (RES0 masking Xen does not do)',
    ref: 'Q24',
  },
  'cpu-on-keeps-lr-pending': {
    description: 'PSCI CPU_ON does not empty lr_pending',
    ref: 'Q37, §3.10',
  },
  'icpendr-clears-queued': {
    description: 'ICPENDR takes an inflight IRQ off lr_pending and clears QUEUED instead of only warning',
    ref: 'Q19, §3.16',
  },
  'its-enable-drains-queue': {
    description: 'enabling the ITS (GITS_CTLR) runs the commands already queued instead of waiting for a CWRITER write',
    ref: '§C.3, §C.6, appendix C',
  },
  'cbaser-resets-cwriter': {
    description: 'a GITS_CBASER write resets CWRITER to 0 as well as CREADR',
    ref: '§C.3, appendix C',
  },
  'creadr-skips-unreadable-command': {
    description: 'a command that cannot be read from guest memory is skipped (CREADR advances) instead of stopping the queue',
    ref: '§C.6, appendix C',
  },
  'mapti-bounded-by-id-space': {
    description: 'MAPTI accepts vLPIs below 2^(IDbits + 1), the ID space, instead of below the count nr_lpis',
    ref: '§C.7, §C.8, appendix C',
  },
  'movi-moves-pending': {
    description: 'MOVI also moves a pending instance that is not in an LR to the new vCPU',
    ref: '§C.7, appendix C',
  },
  'discard-ignores-collection': {
    description: 'DISCARD unmaps the event even when its collection maps to no vCPU (after MAPC V=0)',
    ref: '§C.7, appendix C',
  },
  'clear-removes-visible': {
    description: 'CLEAR takes the LPI off the queues even while it is in an LR (VISIBLE)',
    ref: '§C.7, appendix C',
  },
  'propbaser-writable-after-enable': {
    description: 'GICR_PROPBASER stays writable after a redistributor has enabled LPIs',
    ref: '§C.8, appendix C',
  },
  'enable-lpis-clearable': {
    description: 'writing 0 to GICR_CTLR.EnableLPIs disables the vCPU\'s LPIs again',
    ref: '§C.8, appendix C',
  },
  'mapd-remap-replaces-itt': {
    description: 'a second MAPD V=1 of a mapped device writes the new ITT into the device table despite the host\'s EBUSY',
    ref: '§C.5, §C.7, appendix C',
  },
  'its-enable-without-baser1': {
    description: 'GITS_CTLR.Enabled is accepted without a valid GITS_BASER1 (collection table)',
    ref: '§C.3, appendix C',
  },
  // ----- the VMM front door (src/vmm, docs/trace-format.md §10) -----
  'nr-irqs-accepts-1024': {
    description: 'NR_IRQS accepts 1024 (the documented bound) instead of refusing everything above 1023',
    ref: 'trace-format §10.4, §2.3',
  },
  'dist-overlap-at-set': {
    description: 'ADDR DIST (v3) is refused with EINVAL when it overlaps a redistributor region, instead of the overlap being checked only when slots are placed and at the first run',
    ref: 'trace-format §10.4 and §10.5',
  },
  'last-by-xen-rule': {
    description: 'GICR_TYPER.Last of a device domain follows Xen\'s rule (the highest vCPU id) instead of KVM\'s slot rule',
    ref: 'trace-format §10.5, §5.6',
  },
  'addr-resettable': {
    description: 'a frame address that is already set can be set again (vgic_check_iorange forgets EEXIST)',
    ref: 'trace-format §10.4',
  },
  'init-not-idempotent': {
    description: 'a second CTRL_INIT (or lazy init) answers EBUSY instead of succeeding without effect',
    ref: 'trace-format §10.4 and §10.6',
  },
  'vcpu-create-after-init': {
    description: 'KVM_CREATE_VCPU of the next id is accepted after CTRL_INIT (the Xen domain grows by a vCPU) instead of EBUSY',
    ref: 'trace-format §10.2, §2.4',
  },
  'legacy-after-region-eexist': {
    description: 'a legacy ADDR REDIST after counted regions reaches the set-twice check (EEXIST) instead of being refused as a mix (EINVAL)',
    ref: 'trace-format §10.4',
  },
  'slot-order-by-id': {
    description: 'redistributor slots are handed out in vCPU id order instead of creation order',
    ref: 'trace-format §10.5, §5.4',
  },
  'spi-pending-wrong-domain': {
    description: 'spi_to_pending finds an SPI\'s pending_irq in the host\'s first domain (lowest id, when it has that SPI) instead of the domain asked about',
    ref: '§1.1, §1.3',
  },
  'sgi-list-wrong-domain': {
    description: 'an SGI target list names vCPUs of the host\'s first domain (lowest id) instead of the sender\'s',
    ref: '§3.19',
  },
} as const satisfies Record<string, MutantInfo>;

export type MutantName = keyof typeof MUTANTS;
export const MUTANT_NAMES = Object.keys(MUTANTS) as MutantName[];

export function isMutantName(s: string): s is MutantName {
  return Object.prototype.hasOwnProperty.call(MUTANTS, s);
}

/** Is this deviation switched on in the variant of `host` (the machine the call runs on)? */
export function mutated(host: VariantHolder, name: MutantName): boolean {
  return host.variant.mutant === name;
}
