/**
 * The divergence catalogue: places where Xen's vGIC knowingly differs from the Arm GIC
 * architecture or from KVM's vGIC, observable through the ops of trace-format §3. Each entry
 * names the quirk it comes from, the rule Xen departs from, what Xen does, and the switch
 * that turns the model to the other behaviour. A switch is part of a machine's variant
 * (src/xen/variant.ts) and is tested at exactly one place in the model, marked
 * `architectural(host, 'NAME')`; the same name is what a conformance run will accept
 * (`--allow NAME`) from an implementation that follows the architecture there.
 *
 * Every entry has a fixture, `fixtures/divergences/NAME.json`, whose expectations record
 * Xen's behaviour; run with the switch on, the same trace first differs at `step`, at the
 * JSON path `path` (a spec checks both). docs/divergences.md and docs/divergences.json are
 * generated from this table.
 */
import type { VariantHolder } from './variant.js';

/** Which reference Xen departs from. */
export type DivergenceAgainst = 'architecture' | 'KVM' | 'architecture and KVM';

export interface DivergenceInfo {
  /** The quirk of docs/xen-behaviour.md this is (a Q id). */
  readonly ref: string;
  readonly against: DivergenceAgainst;
  /** What the GIC architecture (or KVM's vGIC) does. */
  readonly rule: string;
  /** What Xen does instead. */
  readonly xen: string;
  /** What the model does with the switch on (and where the switch stops short, if anywhere). */
  readonly switched: string;
  /** The step of the fixture where Xen and the switched model first differ. */
  readonly step: number;
  /** The JSON path of that first difference, as `vgic diff` reports it. */
  readonly path: string;
}

export const DIVERGENCES = {
  'level-low-ignored': {
    ref: 'Q2',
    against: 'architecture and KVM',
    rule: 'A level-sensitive interrupt whose line goes low before it is acknowledged is no longer pending: the guest cannot take it.',
    xen: 'An injection with level false returns before touching any state; an assertion already accepted stays queued and is delivered.',
    switched: 'level false withdraws an assertion that is still queued, or still only pending in an LR: the record leaves lr_pending, inflight and its LR, QUEUED is cleared.',
    step: 4,
    path: 'snapshot.domains[id=1].vcpus[id=0].inflight',
  },
  'priority-latched-at-injection': {
    ref: 'Q5',
    against: 'architecture and KVM',
    rule: 'The priority an interrupt is signalled with is the one in GICD_IPRIORITYR now: changing it while the interrupt is pending changes its order.',
    xen: 'The priority is captured when the IRQ becomes inflight; an IPRIORITYR write leaves the captured value, and the order of inflight and lr_pending, as they are.',
    switched: 'an IPRIORITYR write also re-prioritises an inflight IRQ that is not in an LR yet: new captured priority, moved to its new place in inflight and lr_pending (an IRQ already in an LR keeps its LR priority).',
    step: 7,
    path: 'snapshot.domains[id=1].vcpus[id=0].inflight[0].irq',
  },
  'disabled-irq-stays-listed': {
    ref: 'Q6',
    against: 'architecture and KVM',
    rule: 'A disabled interrupt is not forwarded to the CPU interface: once disabled, a pending interrupt cannot be acknowledged (KVM drops it from the LRs at the next entry).',
    xen: 'ICENABLER only clears ENABLED and takes the IRQ off lr_pending; an IRQ already in an LR stays there and the guest can still acknowledge it.',
    switched: 'ICENABLER also takes an IRQ that is only pending in an LR out of that LR; it stays inflight and QUEUED, so enabling it again delivers it.',
    step: 3,
    path: 'snapshot.domains[id=1].vcpus[id=0].inflight[0].lr',
  },
  'icpendr-ignored': {
    ref: 'Q19',
    against: 'architecture and KVM',
    rule: 'Writing 1 to a GICD_ICPENDR bit clears the pending state of that interrupt.',
    xen: 'ICPENDR only prints a warning for an inflight IRQ; the IRQ stays queued or in its LR and is delivered.',
    switched: 'ICPENDR withdraws an inflight IRQ that is still queued, or only pending in an LR: it leaves lr_pending, inflight and its LR, QUEUED is cleared.',
    step: 3,
    path: 'snapshot.domains[id=1].vcpus[id=0].inflight',
  },
  'ipriorityr-keeps-low-bits': {
    ref: 'Q24',
    against: 'KVM',
    rule: 'Priority bits an implementation does not have are RAZ/WI; KVM implements 5 priority bits, so the low 3 bits of each IPRIORITYR byte read 0.',
    xen: 'IPRIORITYR stores and reads back all 8 bits of each byte, and orders and evicts by all 8.',
    switched: 'IPRIORITYR writes keep only bits [7:3] of each byte.',
    step: 1,
    path: 'snapshot.domains[id=1].ranks[index=1].priority[8]',
  },
  'sgi-config-reads-zero': {
    ref: 'Q23',
    against: 'architecture and KVM',
    rule: 'SGIs are always edge-triggered: GICD_ICFGR0 (GICR_ICFGR0 on GICv3) reads 0b10 for each SGI, 0xaaaaaaaa.',
    xen: 'ICFGR0 reads 0, as if every SGI were level-sensitive.',
    switched: 'ICFGR0 reads 0xaaaaaaaa (GICD on both versions, GICR_ICFGR0 on GICv3).',
    step: 1,
    path: 'result.value',
  },
  'irouter-irm-targets-vcpu0': {
    ref: 'Q26',
    against: 'KVM',
    rule: 'GICD_IROUTER.IRM = 1 asks for 1-of-N delivery; KVM implements no 1-of-N, ignores IRM and routes by the affinity fields.',
    xen: 'IRM = 1 routes the SPI to vCPU 0 whatever the affinity fields say (and IRM reads back 0).',
    switched: 'IRM is ignored: the affinity fields select the target vCPU.',
    step: 1,
    path: 'snapshot.domains[id=1].ranks[index=1].vcpu[8]',
  },
  'sgi1r-ignores-aff2-aff3-rs': {
    ref: 'Q28',
    against: 'architecture and KVM',
    rule: 'ICC_SGI1R_EL1 targets the PEs whose affinity is Aff3.Aff2.Aff1.(RS * 16 + list bit): a non-zero Aff3, Aff2 or RS names no vCPU of a guest whose vCPUs all have Aff3 = Aff2 = 0 and Aff0 < 16.',
    xen: 'Only Aff1 and the 16-bit target list are used: Aff3, Aff2 and RS are ignored, so the SGI reaches the vCPUs of cluster Aff1 anyway.',
    switched: 'an ICC_SGI1R_EL1 write with IRM = 0 and a non-zero Aff3, Aff2 or RS delivers nothing.',
    step: 1,
    path: 'snapshot.domains[id=1].vcpus[id=1].inflight',
  },
} as const satisfies Record<string, DivergenceInfo>;

export type DivergenceName = keyof typeof DIVERGENCES;
export const DIVERGENCE_NAMES = Object.keys(DIVERGENCES) as DivergenceName[];

export function isDivergenceName(s: string): s is DivergenceName {
  return Object.prototype.hasOwnProperty.call(DIVERGENCES, s);
}

/** The fixture of an entry, relative to the package root. */
export function divergenceFixture(name: DivergenceName): string {
  return `fixtures/divergences/${name}.json`;
}

/** Is this divergence turned to the architectural (or KVM) behaviour in the variant of `host`? */
export function architectural(host: VariantHolder, name: DivergenceName): boolean {
  return host.variant.architectural.size !== 0 && host.variant.architectural.has(name);
}
