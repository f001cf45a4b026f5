/**
 * Host side of a physical interrupt (Xen's `struct irq_desc` plus the host distributor bits
 * the model tracks): enabled, pending, active, the IN_PROGRESS flag and the affinity
 * (trace-format §3.2, reference §3.21).
 */
export class IrqDesc {
  enabled = false;
  pending = false;
  active = false;
  /** _IRQ_INPROGRESS: set when the IRQ is forwarded to a guest, cleared when its LR drains. */
  inProgress = false;
  /** pCPU the host distributor delivers this IRQ to. */
  affinity = 0;
  /** The guest this IRQ is routed to, if any. */
  guest: { domain: number; virq: number } | null = null;

  constructor(readonly irq: number) {}

  /** irq_set_affinity: route the physical IRQ to one pCPU. */
  setAffinity(pcpu: number): void {
    this.affinity = pcpu;
  }

  /** desc->handler->enable */
  enable(): void {
    this.enabled = true;
  }

  /** desc->handler->disable */
  disable(): void {
    this.enabled = false;
  }
}
