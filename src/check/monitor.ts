/**
 * The invariant checker (I1-I19) and the step properties (P2-P8) together, following one
 * machine: what `vgic replay --check`, `vgic fuzz --check`, the model-based specs and the
 * mutation runner run after every step. P7 (noninterference) keeps one shadow machine per
 * domain, so it runs on machines with two or more domains unless switched off.
 */
import type { Machine, Result } from '../machine/machine.js';
import type { Op } from '../machine/ops.js';
import { INVARIANTS, InvariantChecker, type InvariantId } from './invariants.js';
import { PROPERTIES, PropertyMonitor, type PropertyId } from './properties.js';
import { NoninterferenceMonitor } from './noninterference.js';

export interface Finding {
  id: InvariantId | PropertyId;
  message: string;
}

export interface StepMonitorOptions {
  /**
   * Run P7 (one shadow machine per domain; the machine must not have run any step yet).
   * Default: when the machine has two or more domains.
   */
  noninterference?: boolean;
}

export class StepMonitor {
  private readonly invariants: InvariantChecker;
  private readonly properties: PropertyMonitor;
  /** P7's monitor, when it runs. */
  readonly noninterference: NoninterferenceMonitor | null;

  constructor(readonly machine: Machine, options: StepMonitorOptions = {}) {
    this.invariants = new InvariantChecker(machine);
    this.properties = new PropertyMonitor(machine, this.invariants.q34Tainted, this.invariants.history.q34Vcpus);
    const p7 = options.noninterference ?? machine.host.domains.size >= 2;
    this.noninterference = p7 ? new NoninterferenceMonitor(machine) : null;
  }

  before(op: Op): void {
    this.properties.before(op);
    this.noninterference?.before(op);
  }

  /** Everything violated by the step just applied (nothing after a crash: the machine is dead). */
  after(op: Op, result: Result): Finding[] {
    // (P7 first: it must see the crash, then it stops.)
    const p7 = this.noninterference === null ? null : this.noninterference.after(op, result);
    if (this.machine.crashed !== null) return [];
    const violations = this.invariants.check(op);
    let failures: Finding[] = this.properties.after(op, result);
    if (p7 !== null && p7.length > 0) failures = [...failures, ...p7.map((f) => ({ id: 'P7' as const, message: f.message }))];
    if (violations.length === 0) return failures;
    return [...violations.map((v) => ({ id: v.id, message: v.message })), ...failures];
  }
}

/** `I6 (what I6 says): the message`. */
export function describeFinding(f: Finding): string {
  const what = f.id.startsWith('P') ? PROPERTIES[f.id as PropertyId] : INVARIANTS[f.id as InvariantId];
  return `${f.id} (${what}): ${f.message}`;
}
