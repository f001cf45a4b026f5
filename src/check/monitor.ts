/**
 * The invariant checker (I1-I19) and the step properties (P2-P6) together, following one
 * machine: what `vgic replay --check`, `vgic fuzz --check`, the model-based specs and the
 * mutation runner run after every step.
 */
import type { Machine, Result } from '../machine/machine.js';
import type { Op } from '../machine/ops.js';
import { INVARIANTS, InvariantChecker, type InvariantId } from './invariants.js';
import { PROPERTIES, PropertyMonitor, type PropertyId } from './properties.js';

export interface Finding {
  id: InvariantId | PropertyId;
  message: string;
}

export class StepMonitor {
  private readonly invariants: InvariantChecker;
  private readonly properties: PropertyMonitor;

  constructor(readonly machine: Machine) {
    this.invariants = new InvariantChecker(machine);
    this.properties = new PropertyMonitor(machine, this.invariants.q34Tainted, this.invariants.history.q34Vcpus);
  }

  before(op: Op): void {
    this.properties.before(op);
  }

  /** Everything violated by the step just applied (nothing after a crash: the machine is dead). */
  after(op: Op, result: Result): Finding[] {
    if (this.machine.crashed !== null) return [];
    const violations = this.invariants.check(op);
    const failures = this.properties.after(op, result);
    if (violations.length === 0) return failures;
    return [...violations.map((v) => ({ id: v.id, message: v.message })), ...failures];
  }
}

/** `I6 (what I6 says): the message`. */
export function describeFinding(f: Finding): string {
  const what = f.id.startsWith('P') ? PROPERTIES[f.id as PropertyId] : INVARIANTS[f.id as InvariantId];
  return `${f.id} (${what}): ${f.message}`;
}
