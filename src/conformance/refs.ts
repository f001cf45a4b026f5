/**
 * Reference ids: the one table of every id the project cites (in comments, messages, test
 * names, fixture `refs`, the mutant table, the README and the docs), each with a short title
 * and a statement in our own words. `docs/xen-behaviour.md` is generated from it
 * (`npm run docs:refs`) and the HTML dump builds its glossary from it.
 *
 * Families: Q1-Q41 Xen quirks a faithful model reproduces; I1-I19 structural invariants of
 * Xen's vGIC state; P1-P8 end-to-end properties; D1-D11 the scenario tests of the modelling
 * notes; `§N` / `§N.M` sections of our behavioural description of Xen (its chapters: 0
 * conventions, 1 data model, 2 limits, 3 the injection path, 4 GICv2 registers, 5 GICv3
 * registers, 6 quirks, 7 invariants) and `§A`-`§D` its appendices.
 */

export interface Ref {
  /** The key: `Q12`, `I4`, `P2`, `D1`, `§3.8`, `§A.1`. */
  readonly id: string;
  readonly title: string;
  /** One to three sentences. */
  readonly text: string;
}

const r = (id: string, title: string, text: string): Ref => ({ id, title, text });

/** The Xen revision the model follows. */
export const XEN_COMMIT = 'c447b7308b13';
export const XEN_COMMIT_DATE = 'August 2026';

export const SECTIONS: readonly Ref[] = [
  r('§0', 'Conventions and execution model', 'The terms the description uses and the moments at which Xen\'s vGIC code runs on a pCPU.'),
  r('§0.1', 'Terms', 'An INTID is a guest interrupt number (SGI 0-15, PPI 16-31, SPI from 32, LPI from 8192); a `pending_irq` is Xen\'s per-interrupt record; "current" is the vCPU running on the pCPU that executes the code, and only its list registers are live in hardware. A trapped register access either completes (OK, with a value for reads) or makes Xen inject a data abort into the guest (ABORT); RAZ/WI means "reads as zero, writes ignored".'),
  r('§0.2', 'When the vGIC runs', 'Every trap from a guest starts with `vgic_sync_from_lrs` and every return to a guest ends with `vgic_sync_to_lrs`; a context switch saves the live LRs, `lr_mask`, VMCR and active priorities into the outgoing vCPU and loads the incoming one\'s (item 3; on GICv2 this clears UIE, on GICv3 UIE stays on the pCPU). While a vCPU runs, the guest acknowledges and completes interrupts in hardware without Xen noticing until the next trap, and `vcpu_kick` sends an IPI to make a running target trap.'),
  r('§1', 'Data model', 'The state Xen keeps: per domain a distributor with shared ranks and SPI records, per vCPU a private rank, 32 private records and two ordered lists, per pCPU the LR file and `lr_mask`.'),
  r('§1.1', 'Per-domain distributor state', 'Each domain holds the emulated GICD_CTLR (stored but never consulted for delivery), the SPI count (a multiple of 32), one shared rank per 32 SPIs and one `pending_irq` record per SPI.'),
  r('§1.2', 'Ranks', 'A rank covers 32 consecutive INTIDs and stores their enable bits, the two raw ICFGR words, one priority byte and one target vCPU id per interrupt. Rank 0 (INTIDs 0-31) is private to each vCPU and always targets it; all fields start at zero, so every interrupt starts disabled with priority 0.'),
  r('§1.3', 'The pending_irq record', 'One record per interrupt and scope, with status bits QUEUED, ACTIVE, VISIBLE, ENABLED, MIGRATING and PRISTINE_LPI, the index `lr` of the LR holding it (0 at reset, 0xff once taken out of an LR), the priority captured when it became inflight, and links into the owner\'s `inflight` and `lr_pending` lists.'),
  r('§1.4', 'Per-vCPU state', 'Each vCPU has its 32 private records, its private rank, the `inflight` list (every asserted, uncompleted interrupt) and the `lr_pending` list (those waiting for an LR), both sorted by priority and first-in first-out among equals; while it is not running, its LRs, `lr_mask`, VMCR and active priorities live in a saved copy that starts all zero.'),
  r('§1.5', 'Rank lookup and register offsets', 'A register family with B bits per interrupt maps a byte offset to a rank and a word within it by fixed arithmetic; rank 0 is the accessing vCPU\'s for distributor accesses and the frame owner\'s for redistributor accesses. A rank beyond the domain\'s SPIs makes the access read as zero and ignore writes, after the width check.'),
  r('§2', 'Limits and constants', 'The numbers that bound a configuration and the encodings: INTID classes, SPI and vCPU limits, LR counts and priority widths, the guest memory map.'),
  r('§2.1', 'Interrupt number space', 'SGIs are 0-15, PPIs 16-31, SPIs 32-1019; 1023 means "no physical IRQ", LPIs start at 8192, and 0xff (GIC_INVALID_LR) marks a record that is not in an LR.'),
  r('§2.2', 'Fixed guest interrupt numbers', 'Xen reserves PPIs for the guest timers (27 virtual, 29 and 30 physical) and the event channel (31), and SPIs from 32 for the virtual UART and virtio-mmio devices.'),
  r('§2.3', 'Number of SPIs', 'Xen first rounds the requested SPI count up to a multiple of 32 and then refuses anything above 988, so the largest accepted count is 960 (requests of 961-988 round to 992 and fail).'),
  r('§2.4', 'vCPU limits and affinity', 'A GICv2 domain has at most 8 vCPUs, a GICv3 domain at most 128 (the arm64 maximum). vCPU n has affinity Aff0 = n & 0xf, Aff1 = n >> 4; going back, Xen ORs the full 8-bit Aff0 with Aff1 << 4 and ignores Aff2 and Aff3.'),
  r('§2.5', 'List registers and priority bits', 'A GICv2 host has 1 to 64 LRs with a 5-bit priority field (the 8-bit priority shifted right by 3); a GICv3 host has 1 to 16 LRs carrying all 8 priority bits. `lr_mask` has one bit per LR Xen uses for the current vCPU.'),
  r('§2.6', 'Guest memory map', 'The distributor is at 0x3001000 (4 KiB on GICv2, 64 KiB on GICv3); on GICv3 the redistributor region starts at 0x3020000 with a 128 KiB frame per vCPU (RD_base, then SGI_base 64 KiB further). The GICv2 CPU interface frame is mapped to hardware and never trapped.'),
  r('§3', 'The injection path', 'How an assertion travels from `vgic_inject_irq` through the inflight and lr_pending lists into list registers and back, plus the register-driven paths (enable, disable, set-pending, migration, SGIs, pass-through).'),
  r('§3.1', 'vgic_inject_irq', 'A low level is ignored; an SPI goes to its rank target; an offline target drops the assertion. Otherwise QUEUED is set; an interrupt already inflight only has its LR re-examined (no new priority, no move), a fresh one captures its priority from the rank, is raised if enabled, and is inserted into `inflight` before the first entry of numerically greater priority (step 9); the target is then kicked.'),
  r('§3.2', 'gic_raise_guest_irq', 'The interrupt goes straight into the lowest free LR only when its target is current and that vCPU\'s lr_pending is empty; otherwise it is queued on lr_pending. It never evicts and ignores its priority argument.'),
  r('§3.3', 'gic_raise_inflight_irq', 'For an enabled interrupt that is inflight, not on lr_pending and whose target is current, Xen immediately re-examines the LR named by the record\'s `lr`; otherwise QUEUED stays set for later. The code trusts `lr`, which after a retarget (Q34) can name another vCPU\'s LR or be 0xff.'),
  r('§3.4', 'Adding to and removing from lr_pending', 'Adding does nothing if the record is already queued, else inserts it before the first entry of numerically greater priority (FIFO among equals); removing unlinks it and leaves the status bits alone.'),
  r('§3.5', 'gic_find_unused_lr', 'Returns the lowest LR index at or above a start index whose `lr_mask` bit is clear, or nr_lrs when none is free (a fresh LPI may instead reuse an LR that already holds its INTID).'),
  r('§3.6', 'gic_set_lr', 'Writes the LR as pending with the record\'s INTID, captured priority and physical INTID if any, sets VISIBLE, clears QUEUED and records the LR index in the record; the caller marks the LR in `lr_mask`.'),
  r('§3.7', 'gic_update_one_lr', 'Folds what the guest did with one LR back into its record: (b) an active LR sets ACTIVE and, if the interrupt is enabled and QUEUED again, a virtual one becomes pending+active while a hardware one loses that assertion with a warning; (c) a pending LR absorbs a new assertion (QUEUED cleared). (d) A drained LR is freed, VISIBLE and ACTIVE cleared, `lr` set to 0xff, and the interrupt is raised again if enabled, QUEUED and not MIGRATING, or else removed from inflight (moving a migrating one\'s physical affinity).'),
  r('§3.8', 'Return to the guest: gic_restore_pending_irqs and vgic_sync_to_lrs', 'Each lr_pending entry, in order, takes the next free LR; with none free it may evict an LR holder found by walking inflight from the low-priority end: the walk stops the whole pass at an equal priority and takes the first VISIBLE, non-ACTIVE entry, which goes back to lr_pending with QUEUED. At most nr_lrs placements per pass; UIE is requested when lr_pending is still non-empty and every LR is in use.'),
  r('§3.9', 'Trap from the guest: vgic_sync_from_lrs', 'Clears UIE, then runs `gic_update_one_lr` for every LR set in a snapshot of `lr_mask`, in ascending order; LRs filled again during that walk are not revisited.'),
  r('§3.10', 'PSCI CPU_ON: vgic_clear_pending_irqs', 'Before an offline vCPU starts, Xen unlinks every record from its inflight and lr_pending lists and zeroes its saved `lr_mask`, and nothing else: status bits, the records\' `lr` and the saved LR contents survive (Q37).'),
  r('§3.11', 'vgic_remove_irq_from_queues', 'Clears QUEUED and unlinks the record from both lists, without touching any LR.'),
  r('§3.12', 'vgic_vcpu_pending_irq', 'Walks current\'s inflight list in order and answers 1 at the first enabled interrupt whose group priority (priority >> 3) is below both the priority mask and the running priority; it answers 0 as soon as an entry fails either bound, or at the end. On GICv3 the mask compared is the 8-bit one (Q16).'),
  r('§3.13', 'vgic_enable_irqs', 'For each newly enabled interrupt, in ascending order: set ENABLED on its target\'s record and raise it if it is inflight and not VISIBLE; for a pass-through interrupt also move the physical affinity to the target\'s pCPU and enable the host line.'),
  r('§3.14', 'vgic_disable_irqs', 'Clears ENABLED and takes the record off lr_pending; it stays on inflight and, if it is in an LR, stays there (Q6). A pass-through interrupt\'s host line is disabled.'),
  r('§3.15', 'vgic_set_irqs_pending (ISPENDR)', 'Each written bit injects the interrupt: private ones (SGIs included) into the accessing vCPU (GICD) or frame owner (GICR), virtual SPIs into their rank target; a pass-through SPI only gets its physical pending bit set.'),
  r('§3.16', 'ICPENDR', 'A write only prints a warning for interrupts that are inflight; it never changes state.'),
  r('§3.17', 'vgic_migrate_irq', 'A changed SPI target is accepted at once for a virtual SPI (its state stays on the old vCPU, Q34); for a pass-through SPI it is refused while MIGRATING, re-injected on the new vCPU when queued on lr_pending (Q36), marked MIGRATING when otherwise inflight, and only moves the physical affinity when not inflight.'),
  r('§3.18', 'arch_move_irqs', 'When the scheduler moves a vCPU to another pCPU, the physical affinity of every pass-through SPI targeting it follows, unless the SPI is MIGRATING.'),
  r('§3.19', 'vgic_to_sgi', 'Delivers an SGI to a target list (skipping, with a warning, ids that do not exist or are offline), to every other online vCPU, or to the sender itself; the sender is not recorded, so senders merge.'),
  r('§3.20', 'Virtual IRQ allocation', 'A per-domain bitmap of reserved and allocated INTIDs (SGIs pre-reserved); it is bookkeeping and does not influence emulation.'),
  r('§3.21', 'Pass-through of physical IRQs', 'Routing checks, in order: invalid vIRQ, private vIRQ or non-SPI host line (EINVAL), unconfigured host line (EIO), line owned by another domain or bound to another vIRQ, or a busy vIRQ (EBUSY); routing the same pair again succeeds. When the line fires, Xen drops its priority without deactivating it, marks it IN_PROGRESS and injects the vIRQ; the guest\'s deactivation through the LR HW bit deactivates the host line.'),
  r('§3.22', 'Where "current" matters', 'LRs are written and re-examined only for the vCPU running on the executing pCPU (items 1-3); the pending check reads current\'s registers; SGI targets OTHERS and SELF and the distributor\'s rank 0 are relative to current, the redistributor\'s to the frame owner.'),
  r('§4', 'GICv2 distributor emulation', 'How each offset of the 4 KiB GICv2 distributor reads and writes, with the accepted access widths.'),
  r('§4.1', 'GICv2 distributor register table', 'Every offset is listed: word-only registers abort on other widths, byte/word registers abort on halfword and doubleword accesses, reserved ranges read zero; ISACTIVER accepts only zero, pending/active registers read zero, GICD_SGIR reads 0xdeadbeef, and the ID page aborts on ICPIDR2 reads and on writes to 0xfec-0xfff.'),
  r('§4.2', 'ISENABLER and ICENABLER', 'Set-enable and clear-enable writes update the rank\'s enable bits and act only on bits that actually change (0 to 1, or 1 to 0); rank 0 is current\'s private rank.'),
  r('§4.3', 'ITARGETSR', 'Targets are stored as one vCPU id per interrupt and read back as one bit per byte; a write picks the lowest set bit of each byte, ignores a byte that is empty or names a vCPU that does not exist, and migrates the interrupt when the target changes. ITARGETSR0-7 are read-only and a byte write to them aborts.'),
  r('§4.4', 'GICD_SGIR', 'A 32-bit write sends SGI bits [3:0] to the target list of bits [23:16] (filter 0), to all others (1) or to self (2); filter 3 aborts.'),
  r('§4.5', 'The GICv2 CPU interface', 'Xen does not emulate GICC: the guest\'s CPU interface is the hardware virtual interface on top of the LRs, so acknowledge, EOI and deactivate happen without Xen, and a deactivated HW LR deactivates the physical interrupt.'),
  r('§5', 'GICv3 distributor, redistributors and system registers', 'How the 64 KiB GICv3 distributor, the per-vCPU redistributor frames and the trapped SGI system registers behave.'),
  r('§5.1', 'GICv3 distributor register table', 'Unknown offsets read zero and ignore writes with an error log instead of aborting; only width violations, ISACTIVER writes (even of zero) and C/SPENDSGIR writes abort. GICD_SGIR is inert, GICD_CTLR keeps only EnableGrp1A, and rank 0 offsets reach current\'s private rank (Q27).'),
  r('§5.2', 'GICD_TYPER', 'Reports the SPI ranks, min(vCPUs, 8) - 1 as CPU number and 9 as IDbits for an ordinary guest, with no LPI, eSPI or message-based SPI support.'),
  r('§5.3', 'GICD_IROUTER', 'Stored as a target vCPU id and read back as its affinity with the IRM bit always 0; a write with IRM set targets vCPU0, otherwise the id is Aff0 OR (Aff1 << 4) and an id that does not exist is silently ignored. Byte and halfword accesses abort.'),
  r('§5.4', 'Redistributor layout', 'vCPU n owns the 128 KiB frame at 0x3020000 + n * 0x20000 (RD_base page, then SGI_base page); an access to the frame of a vCPU that does not exist aborts, and unknown offsets inside a frame read zero with an error log.'),
  r('§5.5', 'RD_base page', 'Without an ITS, GICR_CTLR, PROPBASER and PENDBASER read zero and ignore writes; WAKER reads zero; SETLPIR, CLRLPIR, INVLPIR and INVALLR read a fixed "unknown" pattern; SYNCR reads 1.'),
  r('§5.6', 'GICR_TYPER', 'Carries the vCPU\'s affinity, its id as processor number and the Last bit for the last frame, with no LPI support without an ITS.'),
  r('§5.7', 'LPI enablement', 'With an ITS, enabling LPIs on one redistributor fixes the domain\'s LPI count and property table; PROPBASER and PENDBASER are sanitised (appendix C.8).'),
  r('§5.8', 'SGI_base page', 'The frame owner\'s private rank: enable, set-pending (injecting into the owner, not current), priorities and ICFGR1 as on the distributor; ISACTIVER0 writes abort, ICFGR0 writes are not even decoded.'),
  r('§5.9', 'CPU interface system registers', 'Only ICC_SGI1R_EL1 writes are emulated: INTID bits [27:24], IRM bit 40 (all others), otherwise a 16-bit target list at Aff1, ignoring Aff2, Aff3 and RS. Reading it, and ICC_ASGI1R_EL1 or ICC_SGI0R_EL1 at all, makes Xen inject an undefined-instruction exception.'),
  r('§6', 'Quirks', 'Behaviours of Xen\'s code that differ from what the GIC architecture or a tidy design would suggest, each of which a faithful model must reproduce: Q1-Q41.'),
  r('§7', 'Invariants', 'Structural properties of the vGIC state that hold whenever no vGIC lock is held: I1-I19. Several do not hold after PSCI CPU_ON of a vCPU with live state (Q37), and, as this project found, some also fail around a retargeted SPI (Q34).'),
  r('§A', 'List-register encodings', 'How Xen writes and reads a list register on each host GIC version.'),
  r('§A.1', 'GICv2 list register (GICH_LR, 32 bits)', 'vINTID in bits [9:0], physical INTID in [19:10] when HW (bit 31) is set, the 5-bit priority in [27:23], pending bit 28 and active bit 29; the group bit 30 is always 0.'),
  r('§A.2', 'GICv3 list register (ICH_LR_EL2, 64 bits)', 'vINTID in bits [31:0] (written with 16 bits), physical INTID in [44:32] when HW (bit 61) is set, the 8-bit priority in [55:48], group bit 60 set for GICv3 guests, pending bit 62 and active bit 63.'),
  r('§B', 'Extended SPIs', 'INTIDs 4096-5119 with their own register families; Xen builds them only with an optional configuration. Not modelled: the model has no eSPI, and those register ranges behave as for a build without them.'),
  r('§C', 'LPIs and the virtual ITS', 'LPI records exist only for a domain with a virtual ITS (in Xen, the hardware domain mirroring a host ITS); they are created by ITS commands that the guest queues in its own RAM and are looked up in a per-domain tree. Sections C.0-C.11 describe that machinery as Xen implements it.'),
  r('§C.0', 'Scope of the virtual ITS', 'A domain with an ITS reports LPIS in GICD_TYPER and PLPIS in every GICR_TYPER; Xen emulates only the 64 KiB control frame of the ITS, so an access to the translation frame (GITS_TRANSLATER) aborts. LPIs reach the guest only through the INT command and through host LPIs of devices the domain mapped.'),
  r('§C.1', 'ITS constants', 'LPIs start at 8192; 0 means "no LPI"; commands are 32 bytes; the doorbell is the ITS base plus 0x10040; host LPIs are handed out in blocks of 32 from a space of 2^lpi_bits IDs (lpi_bits at least 14); GITS_IIDR reads 0x5800034c and GITS_PIDR2 0x30.'),
  r('§C.2', 'Per-ITS and per-domain LPI state', 'A virtual ITS holds enabled, CWRITER, CREADR, CBASER and two BASERs (device table, collection table) with the limits derived from them; everything else lives in guest RAM. The domain holds one PROPBASER, rdists_enabled, nr_lpis and the tree of mapped vLPIs; each vCPU an EnableLPIs flag and its PENDBASER.'),
  r('§C.3', 'GITS register frame', '32-bit registers need a word access and 64-bit ones a word or doubleword; reserved and implementation-defined ranges read as zero and ignore writes; 0x10-0x17, a write to the upper half of GITS_TYPER and a 64-bit write to GITS_TYPER abort. Enabling needs CBASER and both BASERs valid and does not run commands already queued; a CBASER write (only while disabled) resets CREADR but not CWRITER; base registers get their shareability and cacheability attributes cleaned up.'),
  r('§C.4', 'GITS_BASER0 and GITS_BASER1', 'BASER0 describes a flat device table of 8-byte entries, BASER1 a flat collection table of 2-byte entries; type, entry size and the indirect bit cannot be changed, and writes are ignored while the ITS is enabled. The number of devices is the table size over 8 capped at 2^devid_bits, the number of collections the table size over 2; clearing Valid makes both 0 but forgets no mapping.'),
  r('§C.5', 'Translation tables in guest RAM', 'Xen keeps its own formats in the guest\'s tables: a collection entry is a vCPU id (0xffff unmapped), a device entry the ITT address with the event bits, an ITT entry a 32-bit vLPI and a 16-bit collection; any lookup that reads memory outside the guest\'s RAM fails. Beside them the host registry maps (doorbell, DeviceID) to a host device with max(32, 2^n) events, their host LPIs and one pre-allocated record per event.'),
  r('§C.6', 'Command queue processing', 'Only a CWRITER write (keeping bits 19:5) runs the queue, and only while the ITS is enabled: a CWRITER at or past the queue size is stored and nothing runs; a command that cannot be read stops the queue with CREADR on it. Every command that was read advances CREADR, whether it succeeded or not; errors are only logged.'),
  r('§C.7', 'ITS commands', 'MAPC, MAPD, MAPTI/MAPI, DISCARD, MOVI, INT, CLEAR, INV, INVALL with Xen\'s exact failure cases; SYNC does nothing, MOVALL is ignored, anything else is skipped. Notable: MAPTI bounds the vLPI by nr_lpis (a count) and lets numbers below 8192 through, MAPD V=0 with a too-large size keeps the host device, DISCARD fails once the collection is unmapped, and MOVI and MAPC move no pending LPI.'),
  r('§C.8', 'LPI configuration registers', 'GICR_CTLR.EnableLPIs can be set once and never cleared; the first one latches nr_lpis = 2^(PROPBASER.IDbits + 1) - 8192 (computed in 32 bits, 0 if below 8192) and freezes the one PROPBASER of the domain; PENDBASER is per vCPU, frozen once its LPIs are enabled, and its PTZ bit reads as 0. SETLPIR, CLRLPIR, INVLPIR and INVALLR are not implemented, and GICR_SYNCR reads 1.'),
  r('§C.9', 'LPI injection', 'An arriving host LPI names (domain, vLPI); the vLPI is looked up through vCPU 0 and injected into the record\'s cached target vCPU like any virtual interrupt, with its cached priority, edge semantics by coalescing on the inflight list. A fresh mapping is PRISTINE: an LR still holding its number belongs to an older mapping and is discarded, never delivered as the new one.'),
  r('§C.10', 'LPI limits', 'vLPIs in use are 8192 up to nr_lpis - 1; MAPD accepts at most evid_bits EventID bits but the host check refuses exactly evid_bits; each mapped device holds max(32, 2^n) host LPIs, and when the host space runs out Xen\'s error path frees a device it already registered.'),
  r('§C.11', 'Known limitations of the virtual ITS', 'Single-level tables only, no GICv4, no pending tables (pending state lives in Xen\'s records only), silent command errors, no migration of pending LPIs, and tables a guest can corrupt at will because they live in its RAM.'),
  r('§D', 'Modelling notes', 'What state and operations a reference implementation needs, the orders that matter (ascending bit walks, FIFO among equal priorities, lowest free LR first), and eleven scenario tests, D1-D11.'),
];

export const QUIRKS: readonly Ref[] = [
  r('Q1', 'Level treated as edge', 'Every injection is a one-off assertion: Xen stores no line level and has no de-assert, so a level source that stays high is not delivered again after EOI unless it injects again.'),
  r('Q2', 'Low level ignored', 'An injection with level low returns before touching any state; there is no way to withdraw an assertion.'),
  r('Q3', 'Distributor enable is decorative', 'GICD_CTLR.Enable (GICv2) and EnableGrp1A (GICv3) are stored and read back but never consulted: interrupts are delivered with the distributor "disabled".'),
  r('Q4', 'ICFGR is storage only', 'The edge/level configuration never changes vGIC behaviour; Xen uses it only to program the host trigger type of a pass-through interrupt of the hardware domain.'),
  r('Q5', 'Priority captured at first injection', 'The record\'s priority is read from the rank only when the interrupt becomes inflight; re-assertions, re-raises after a drain, enable and eviction reuse it, so an IPRIORITYR write affects only later fresh injections.'),
  r('Q6', 'Disabled interrupts stay inflight and in their LR', 'Disabling clears ENABLED and takes the interrupt off lr_pending only: it stays on inflight and, if already in an LR, the guest can still take it.'),
  r('Q7', 'Assertion while disabled is remembered', 'A disabled interrupt that is asserted goes on inflight (not lr_pending) with QUEUED set, and enabling it later raises it.'),
  r('Q8', 'Lost assertions', 'An assertion is lost (a) when a disabled interrupt re-asserted while in an LR drains, (b) the same while MIGRATING, (c) when a hardware interrupt is re-asserted while its LR is active (warning, QUEUED cleared), and (d) when the target vCPU is offline.'),
  r('Q9', 'Merging', 'A re-assertion while the LR is pending merges into it (one delivery); while the LR is active, a virtual, enabled interrupt\'s LR becomes pending+active (a second delivery after EOI).'),
  r('Q10', 'LRs are updated at once only for current', 'An assertion for a vCPU that is not running on the executing pCPU only sets QUEUED or queues on lr_pending; the LR work happens when that vCPU next traps or returns to the guest.'),
  r('Q11', 'Queueing behind lr_pending', 'When lr_pending is non-empty, even a higher-priority new interrupt queues there instead of taking a free LR; injection never evicts.'),
  r('Q12', 'Eviction rule', 'Eviction happens only on return to the guest: Xen walks inflight from the lowest-priority end, stops the whole pass at the first entry whose 8-bit priority equals the waiting one\'s, and evicts only a VISIBLE, not ACTIVE interrupt of strictly lower priority, which goes back to lr_pending with QUEUED; at most nr_lrs placements per pass.'),
  r('Q13', 'Sticky ACTIVE', 'ACTIVE is cleared only when the LR drains completely; an LR that goes from active to pending keeps ACTIVE set, so it cannot be evicted.'),
  r('Q14', 'Underflow interrupt only when full', 'UIE is requested only when lr_pending is non-empty and every LR is in use after the return-to-guest pass, and it is cleared on every trap; EOI maintenance interrupts are never used.'),
  r('Q15', 'Spurious kicks', 'Every accepted injection kicks the target vCPU, including disabled interrupts and re-assertions.'),
  r('Q16', 'Pending check mixes widths on GICv3', 'The pending check compares the 5-bit group priority with the 8-bit virtual priority mask on GICv3 (both are 5-bit on GICv2), so on GICv3 the mask hardly ever stops it.'),
  r('Q17', 'Event-channel helper inverted by name', '`vgic_evtchn_irq_pending` answers true when the event-channel PPI is not inflight.'),
  r('Q18', 'No pending or active read-back', 'ISPENDR, ICPENDR, ISACTIVER and ICACTIVER always read 0, at any width, on both versions and on distributor and redistributor.'),
  r('Q19', 'ICPENDR is a no-op', 'Writing ICPENDR only logs a warning for inflight interrupts and changes nothing.'),
  r('Q20', 'ISACTIVER writes', 'GICv2 accepts only a write of 0 and aborts on any other value; GICv3 aborts on every write, 0 included. ICACTIVER writes are logged and ignored.'),
  r('Q21', 'ISPENDR pends SGIs and pass-through lines', 'ISPENDR0 can pend SGIs 0-15, for the accessing vCPU (distributor) or the frame owner (redistributor); for a pass-through SPI, ISPENDR sets the physical pending bit instead of injecting.'),
  r('Q22', 'Only enable transitions count', 'ISENABLER acts only on bits going from 0 to 1 and ICENABLER only on bits going from 1 to 0; rewriting the current value does nothing.'),
  r('Q23', 'SGIs and PPIs configurable and reset disabled', 'Private interrupts start disabled and the guest can enable and disable them; ICFGR0 reads 0 and is never writable (GICR_ICFGR0 writes are not decoded), ICFGR1 is read-only 0 on GICv2 and writable on GICv3.'),
  r('Q24', 'All 8 priority bits stored', 'IPRIORITYR keeps all 8 bits as written; list ordering and eviction use them all, while a GICv2 LR carries only bits [7:3].'),
  r('Q25', 'ITARGETSR lowest bit wins', 'Of a target byte only the lowest set bit counts; an empty byte or one naming a missing vCPU is ignored with a warning; ITARGETSR0-7 read the accessing vCPU\'s bit in every byte and abort on byte writes.'),
  r('Q26', 'IROUTER decoding', 'IRM = 1 means vCPU0 and IRM always reads back 0; the target id is Aff0 OR (Aff1 << 4) with an 8-bit Aff0, Aff2 and Aff3 are ignored, and an invalid id drops the write silently.'),
  r('Q27', 'GICv3 distributor exposes rank 0', 'Distributor offsets for INTIDs 0-31 act on the accessing vCPU\'s private state instead of reading as zero as the architecture requires with affinity routing.'),
  r('Q28', 'SGI generation', 'GICv2 GICD_SGIR filter 3 aborts; GICv3 GICD_SGIR is inert; ICC_SGI1R_EL1 uses only Aff1 and the 16-bit list; ICC_ASGI1R_EL1, ICC_SGI0R_EL1 and reading ICC_SGI1R_EL1 are undefined; the sending CPU is not tracked.'),
  r('Q29', 'Fixed read values', 'GICv2 GICD_SGIR reads 0xdeadbeef; GICR SETLPIR, CLRLPIR, INVLPIR and INVALLR read the pattern 0xdeadbeafdeadbeaf (shifted and masked to the access); GICR_SYNCR reads 1.'),
  r('Q30', 'Identification registers', 'On GICv2, reading ICPIDR2 and writing 0xfec-0xfff abort; on GICv3, PIDR2 reads 0x30 on distributor and redistributor. IIDR reads 0x43b on GICv2 and 0x34c on GICv3.'),
  r('Q31', 'No message-based SPIs', 'The GICv3 SETSPI and CLRSPI registers read zero and ignore writes; nothing is injected.'),
  r('Q32', 'Unknown offsets', 'An unlisted GICv2 write aborts (in practice only 0xfec-0xfff), while unknown GICv3 distributor and redistributor offsets read zero and ignore writes with an error log; an access beyond the last vCPU\'s redistributor frame aborts.'),
  r('Q33', 'At most 960 SPIs', 'Because the SPI count is rounded up to 32 before the limit check, 960 is the largest count a domain can have.'),
  r('Q34', 'Retargeted virtual SPI leaves state behind', 'Changing the target of a virtual SPI that is inflight stores the new target at once, but the record stays on the old vCPU\'s lists (and possibly in its LR) until it drains. A re-assertion then works on the new target and can make Xen re-examine an LR index of the wrong vCPU, or 0xff (the model reports a crash there); the random register accesses of `vgic fuzz --mmio` showed what follows, all of it Xen\'s code: the record\'s one set of status bits serves two vCPUs (the new target raises it into its LR while it is still on the old vCPU\'s inflight list; the old vCPU\'s eviction walk can take it as a victim and queue it on its own lr_pending; the new target\'s sync of its pending LR then clears QUEUED); re-examining the old LR index on the new target processes whatever that vCPU holds there, an empty LR reading as INTID 0 (its SGI 0); and a re-assertion through the new target gives the record a new priority while it stays at its old place on lr_pending. So for a Q34 record, until it has left every list and LR, and on the vCPUs such a record touched, I1, I2, I4, I5, I6, I8, I9, I13, I14, P2 and P5 are not checked.'),
  r('Q35', 'MIGRATING', 'A pass-through interrupt retargeted while inflight and not queued is marked MIGRATING: further retargets are refused, vCPU moves do not move its physical affinity, and when its LR drains it is not raised again; its affinity moves to the new target then.'),
  r('Q36', 'Retarget of a queued pass-through interrupt', 'A pass-through interrupt waiting on lr_pending is taken off the old vCPU\'s lists and injected afresh on the new one, with its priority read again.'),
  r('Q37', 'PSCI CPU_ON wipe is partial', 'CPU_ON empties both lists and zeroes the saved `lr_mask`, but status bits, the records\' `lr` and the saved LR contents survive, and the stale LRs come back into hardware on the next run. An SPI left VISIBLE this way, retargeted and asserted again, joins the new target\'s inflight list still VISIBLE with an `lr` naming the old vCPU\'s LR: its state is split between two vCPUs and the checker treats it as a Q34 record (found by `vgic fuzz --mmio`).'),
  r('Q38', 'lr starts at 0', 'A record\'s `lr` field is 0 until the interrupt has left an LR once; only then is it 0xff.'),
  r('Q39', 'Fresh LPIs reuse an LR', 'A newly mapped LPI reuses an LR that still holds its INTID instead of taking a new one, and an LR whose INTID maps to a fresh or unmapped LPI is discarded on the next trap. LPIs are not modelled yet.'),
  r('Q40', 'Routing refuses a busy vIRQ', 'Connecting a host line fails with EBUSY when the vIRQ already has one, or is enabled, in an LR or active; removal is allowed only while the domain is dying.'),
  r('Q41', 'LR field widths', 'GICv2 LRs carry a 10-bit vINTID and pINTID and a 5-bit priority, always group 0; GICv3 LRs are written with a 16-bit vINTID, a 13-bit pINTID and the full 8-bit priority, group 1 only for GICv3 guests.'),
];

export const INVARIANTS: readonly Ref[] = [
  r('I1', 'lr_pending is a subset of inflight', 'A record on a vCPU\'s lr_pending list is also on its inflight list. (Broken for a retargeted virtual SPI and on the vCPUs it touched, Q34.)'),
  r('I2', 'Sorted lists', 'inflight and lr_pending are ordered by non-decreasing priority, equal priorities in insertion order; a record\'s priority changes only while it is off inflight (not on the vCPUs a retargeted SPI touched: re-asserted through its new target it gets a new priority at its old place on lr_pending, Q34).'),
  r('I3', 'Single membership', 'A record is on at most one inflight list and at most one lr_pending list.'),
  r('I4', 'VISIBLE excludes lr_pending', 'A record that is in an LR (VISIBLE) is not on lr_pending (except after CPU_ON, and for a retargeted SPI and the vCPUs it touched, Q34).'),
  r('I5', 'VISIBLE implies inflight', 'A VISIBLE record is on an inflight list (except after CPU_ON, Q37, and around a retargeted SPI, Q34).'),
  r('I6', 'VISIBLE matches lr_mask', 'For the current vCPU, each VISIBLE record\'s `lr` bit is set in `lr_mask` and that LR holds its INTID, and every set `lr_mask` bit belongs to exactly one VISIBLE record (except after CPU_ON).'),
  r('I7', 'lr of a record not in an LR', 'A record that is not VISIBLE has `lr` 0 if it was never in an LR and 0xff afterwards (Q38); a VISIBLE one has `lr` below nr_lrs.'),
  r('I8', 'Inflight and not VISIBLE implies QUEUED', 'An inflight record that is not in an LR has an assertion waiting, so QUEUED is set (except after CPU_ON, and for a retargeted SPI and the vCPUs it touched, Q34: the new target\'s sync clears QUEUED of a record the old vCPU holds).'),
  r('I9', 'ACTIVE implies VISIBLE', 'ACTIVE is set only while the record is in an LR (except after CPU_ON, and on the vCPUs a retargeted SPI touched, Q34); the converse fails because ACTIVE can be stale (Q13).'),
  r('I10', 'ENABLED mirrors the enable bit', 'A record\'s ENABLED bit equals its bit in the ienable word of its rank (the owner\'s rank 0 for private interrupts).'),
  r('I11', 'MIGRATING needs a physical IRQ and inflight', 'A MIGRATING record has a host interrupt and is on an inflight list (except after CPU_ON).'),
  r('I12', 'lr_mask bounds', '`lr_mask` has no bit at or above nr_lrs.'),
  r('I13', 'No interrupt twice in the LRs', 'At most one valid LR of a vCPU holds a given INTID.'),
  r('I14', 'lr_pending entries wait', 'A record on lr_pending is QUEUED and not VISIBLE (except after CPU_ON, and for a retargeted SPI and the vCPUs it touched, Q34).'),
  r('I15', 'UIE', 'After a return to the guest, UIE is set only when lr_pending is non-empty and every LR is in use; after a trap UIE is clear.'),
  r('I16', 'Target bounds', 'Every private rank targets its own vCPU and every SPI targets an existing vCPU id.'),
  r('I17', 'SPI count', 'nr_spis is a multiple of 32 and at most 960, with a rank and a record for every SPI and nothing above.'),
  r('I18', 'After a trap, used LRs are live', 'After `vgic_sync_from_lrs`, every LR set in `lr_mask` is pending or active; drained ones have been reclaimed.'),
  r('I19', 'Nothing is injected into an offline vCPU', 'An injection for an offline vCPU returns before setting QUEUED or linking anything.'),
];

export const PROPERTIES: readonly Ref[] = [
  r('P1', 'Bounded delivery', 'An enabled interrupt injected into a running, online vCPU whose guest keeps acknowledging and completing interrupts is acknowledged within ceil(n / nr_lrs) + (cycles over which the n injections arrive) + 1 enter/exit cycles. Checked by delivery scenarios.'),
  r('P2', 'No interrupt in two LRs', 'No interrupt is in two valid LRs of one vCPU (exempt after CPU_ON with live state, Q37, in a domain with a retargeted SPI and on the vCPUs one touched, Q34).'),
  r('P3', 'A vCPU that does not run keeps its LRs', 'The LRs of a vCPU that is not running never change, not even on PSCI CPU_ON.'),
  r('P4', 'No free LR left behind', 'After every return to the guest, lr_pending is empty, or every LR is in use and UIE is set.'),
  r('P5', 'No invented deliveries', 'The guest never acknowledges an interrupt more often than it was asserted; merging may lose deliveries (Q9) but nothing creates one (exempt after CPU_ON with live state, for Q34 records and on the vCPUs they touched).'),
  r('P6', 'Ignored injections change nothing', 'An injection Xen must ignore, with level low (Q2) or into an offline vCPU (Q8), leaves the whole state unchanged.'),
  r('P7', 'Noninterference between domains', 'For a trace over several domains sharing pCPUs, each domain\'s entry of the snapshot after every step equals the one obtained by running only that domain\'s steps, where another domain\'s `run` on a pCPU becomes `idle` there, and each step of the domain gets the same RESULT. Shared by design and not compared: `pcpus[]`, `physical`, a route refused because its pirq is another domain\'s (dropped from the projection), host LPI numbers and the host LPI space running out, KVM device handles (renamed). Checked by a monitor with one shadow machine per domain (docs/noninterference.md).'),
  r('P8', 'Host state changes only for own IRQs', 'A step changes host IRQ state (the snapshot\'s `physical`: routing, enabled, pending, active, in progress, affinity) only for IRQs routed to the domain the step belongs to, before or after the step; a step of no domain changes none.'),
];

export const SCENARIOS: readonly Ref[] = [
  r('D1', 'Eviction picks the lowest priority, never a tie', 'With every LR holding a priority-0xa0 interrupt, injecting a 0x80 one evicts the newest 0xa0 holder, while another 0xa0 injection waits and never evicts.'),
  r('D2', 'Injection into a vCPU that is not running', 'The interrupt only joins that vCPU\'s lists (and the vCPU is kicked); no LR changes until it runs.'),
  r('D3', 'Re-assertion of an active interrupt', 'A virtual interrupt re-asserted while active makes its LR pending+active; a pass-through one gets a warning and the assertion is lost.'),
  r('D4', 'Disable while in an LR', 'The interrupt stays in its LR, can still be acknowledged, and stays inflight.'),
  r('D5', 'Assert while disabled, then enable', 'The interrupt is delivered on enable, with the priority captured when it was asserted.'),
  r('D6', 'Priority change while inflight', 'An IPRIORITYR write for an inflight interrupt does not reorder the lists or change its LR priority.'),
  r('D7', 'ITARGETSR writes', 'With 2 vCPUs, writing 0x06 targets vCPU1 (lowest bit), 0x04 is ignored (no such vCPU), and a byte write to ITARGETSR0 aborts.'),
  r('D8', 'IROUTER writes', 'IRM = 1 targets vCPU0 and reads back 0; Aff0 = 0x13 with Aff1 = 1 targets vCPU 0x13 (OR, not add).'),
  r('D9', 'ISACTIVER write of zero', 'On GICv3 a write of 0 to GICD_ISACTIVER aborts; on GICv2 it is accepted.'),
  r('D10', '961 SPIs', 'A domain asking for 961 SPIs cannot be created (rounded to 992, above the limit).'),
  r('D11', 'UIE only when full', 'UIE is set only when every LR is in use and lr_pending is still non-empty.'),
];

/** Every id, in document order: sections, quirks, invariants, properties, scenarios. */
export const REFS: readonly Ref[] = [...SECTIONS, ...QUIRKS, ...INVARIANTS, ...PROPERTIES, ...SCENARIOS];

const BY_ID = new Map(REFS.map((x) => [x.id, x]));

export function lookupRef(id: string): Ref | undefined {
  return BY_ID.get(id);
}

/**
 * The key of one id as it is written in a `refs` array or a mutant's `ref` list: `Q8(d)` is
 * `Q8`, `3.7(d)` and `§3.1 step 9` are `§3.7` and `§3.1`, `appendix A.1` and `A.1` are
 * `§A.1`. Null when it is not an id at all.
 */
export function refKey(raw: string): string | null {
  const s = raw.trim();
  let m = /^([QIPD])(\d+)(?:\([a-z0-9]+\))?$/.exec(s);
  if (m !== null) return `${m[1]}${Number(m[2])}`;
  m = /^(?:§\s?)?(\d+(?:\.\d+)?)(?:\s*\(?[a-z]\)?)?(?:\s+(?:step|item)s?\s+\d+.*)?$/i.exec(s);
  if (m !== null) return `§${m[1]}`;
  m = /^(?:appendix\s+|§)?([A-D])(?:\.(\d+))?$/i.exec(s);
  if (m !== null) return `§${m[1]!.toUpperCase()}${m[2] === undefined ? '' : `.${m[2]}`}`;
  return null;
}

/**
 * Citations of the trace format's own sections (`docs/trace-format.md §4`, `trace-format §3.3`,
 * `docs/trace-format.md §5, §6`): not reference ids.
 */
const FORMAT_CITATION = /(?:FORMAT(?:\.md)?|trace-format(?:\.md)?)\s+(?:sections?\s+)?§\s?\d+(?:\.\d+)?(?:\s*(?:,|\/|and|or|-|–)\s*§\s?\d+(?:\.\d+)?)*/g;

/** One reference id in running text (see `citedRefs`). */
const CITATION = /\b([QIPD])(\d+)\b|§\s?(\d+(?:\.\d+)?|[A-D](?:\.\d+)?\b)|\b[Aa]ppendix\s+([A-D])(?:\.(\d+))?\b/g;

/** A piece of running text: plain, or one cited reference id (`key`) as written (`text`). */
export type TextPiece = { text: string; key?: string };

/**
 * Split `text` into plain pieces and cited reference ids, in order. Citations of the trace
 * format's own sections stay plain text.
 */
export function splitCitations(text: string): TextPiece[] {
  const skip: [number, number][] = [...text.matchAll(FORMAT_CITATION)].map((m) => [m.index, m.index + m[0].length]);
  const out: TextPiece[] = [];
  let at = 0;
  for (const m of text.matchAll(CITATION)) {
    if (skip.some(([a, b]) => m.index >= a && m.index < b)) continue;
    let key: string;
    if (m[1] !== undefined) key = `${m[1]}${Number(m[2])}`;
    else if (m[3] !== undefined) key = `§${m[3]}`;
    else key = `§${m[4]}${m[5] === undefined ? '' : `.${m[5]}`}`;
    if (m.index > at) out.push({ text: text.slice(at, m.index) });
    out.push({ text: m[0], key });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

/** Every reference id cited in `text`, as keys, in order of first appearance. */
export function citedRefs(text: string): string[] {
  const out: string[] = [];
  for (const p of splitCitations(text)) if (p.key !== undefined && !out.includes(p.key)) out.push(p.key);
  return out;
}

/** A stable anchor for an id: `Q12`, `I4`, `sec-3.8`, `sec-A.1`. */
export function refAnchor(id: string): string {
  return id.startsWith('§') ? `sec-${id.slice(1)}` : id;
}

/** How an id is shown: `§3.8`, `appendix A.1`, `Q12`. */
export function refLabel(id: string): string {
  return /^§[A-D]/.test(id) ? `appendix ${id.slice(1)}` : id;
}
