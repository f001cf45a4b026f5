/**
 * Noninterference between domains (P7) and the step-ownership table it rests on
 * (docs/noninterference.md).
 *
 * Every step of a trace belongs to at most one domain (STEP_OWNERSHIP, `stepOwner`). The
 * projection of a trace on domain d keeps d's steps, turns another domain's `run` on a pCPU
 * into an `idle` there, and drops everything else. P7: after every step of the full run, each
 * domain's `domains[]` entry of the snapshot equals the one of a shadow machine that ran only
 * that domain's projection, and each step a domain owns gets the same RESULT in both (its
 * `log` aside). Shared by design, and therefore not compared:
 *  - `pcpus[]` (who runs where, the mode, UIE) and `physical` (the host's IRQ descriptors and
 *    their routing): P8 checks `physical` instead (src/check/properties.ts);
 *  - a `route` refused EBUSY because the pirq is routed to another domain at that step: the
 *    projection drops it (any other `route`, refused or not, is kept and must get the same
 *    RESULT);
 *  - the host LPI space: host LPI numbers appear in no domain entry (its_devices shows the vLPI
 *    each event forwards to), so they are compared modulo renaming by construction; running
 *    out of host LPIs is a Xen crash of the whole host (docs/trace-format.md §9.4), after
 *    which nothing is compared;
 *  - KVM device handles (docs/trace-format.md §10.2), numbered per machine: the projection
 *    renumbers them, and `vmm.its[].device` and `create_device`'s RESULT are compared through
 *    that renaming.
 * A crash of the full run ends the comparison (the host is dead); a shadow that crashes or
 * refuses its projected step while the full run went on is a P7 failure.
 */
import type { Machine, Result } from '../machine/machine.js';
import { Machine as MachineClass, TraceError } from '../machine/machine.js';
import type { Op, OpName } from '../machine/ops.js';
import { domainJson, sameDomainState } from '../machine/snapshot.js';
import { IrqDesc } from '../hw/irqdesc.js';
import type { Domain } from '../xen/types.js';

/**
 * Who a step belongs to (decision 1 of issue 14), by op:
 *  - `domain`: the domain the op names (`domain` key);
 *  - `device`: the domain of the KVM device handle it names (`device` key);
 *  - `created`: the domain a `domain_create` makes (the `id` of its config entry);
 *  - `pirq`: the domain the pirq is routed to at that step;
 *  - `pcpu`: the domain whose vCPU is current on the pCPU at that step (none when the pCPU
 *    is idle: then the step changes nothing a domain entry holds, and is in no projection);
 *  - `none`: no domain (kept in no projection).
 * `run` is `domain`; in every other domain's projection it becomes `idle` on its pCPU.
 */
export const STEP_OWNERSHIP = {
  run: 'domain', idle: 'pcpu', enter: 'pcpu', exit: 'pcpu', vcpu_off: 'domain', vcpu_on: 'domain',
  inject: 'domain', route: 'domain', hw_irq: 'pirq', mmio: 'pcpu', sysreg: 'pcpu', ack: 'pcpu', eoi: 'pcpu',
  dir: 'pcpu', pmr: 'pcpu', eoimode: 'pcpu', pending_check: 'pcpu', snapshot: 'none',
  mem_write: 'domain', mem_read: 'domain', msi: 'domain',
  vcpu_create: 'domain', create_device: 'domain', set_attr: 'device', get_attr: 'device', has_attr: 'device', kvm_run: 'domain',
  domain_create: 'created', domain_destroy: 'domain',
} as const satisfies Record<OpName, 'domain' | 'created' | 'device' | 'pirq' | 'pcpu' | 'none'>;

/** The domain `op` belongs to in `m`'s state just before it runs (STEP_OWNERSHIP), or null. */
export function stepOwner(m: Machine, op: Op): number | null {
  switch (STEP_OWNERSHIP[op.op]) {
    case 'domain': return (op as { domain: number }).domain;
    case 'created': return (op as { domain: { id: number } }).domain.id;
    case 'device': return m.vmm.devices[(op as { device: number }).device]?.vm.id ?? null;
    case 'pirq': return m.host.irqDescs.get((op as { pirq: number }).pirq)?.guest?.domain ?? null;
    case 'pcpu': return m.host.pcpus[(op as { pcpu: number }).pcpu]?.current?.domain.id ?? null;
    case 'none': return null;
  }
}

/** What the noninterference runs saw: the figures that show P7 was not vacuous. */
export interface NoninterferenceStats {
  /** Steps of the full run compared (after each, every domain entry). */
  steps: number;
  /** Steps applied to shadow machines (a domain's own steps and the `idle`s standing for another's `run`). */
  projected: number;
  /** `run` of a vCPU on a pCPU where another domain's vCPU ran last: the pCPU changes hands. */
  handovers: number;
  /** `inject`, `msi` or `hw_irq` into a domain on a pCPU where another domain's vCPU is current. */
  foreignInjections: number;
  /** Steps at which vCPUs of two or more domains are current on pCPUs at once. */
  concurrent: number;
  /** `route`s refused EBUSY because the pirq was another domain's: dropped from the projection. */
  routeRefusals: number;
}

export function emptyNoninterferenceStats(): NoninterferenceStats {
  return { steps: 0, projected: 0, handovers: 0, foreignInjections: 0, concurrent: 0, routeRefusals: 0 };
}

export function addNoninterferenceStats(to: NoninterferenceStats, from: NoninterferenceStats): void {
  for (const k of Object.keys(from) as (keyof NoninterferenceStats)[]) to[k] += from[k];
}

/** A P7 failure: which domain, and what differs. */
export interface NoninterferenceFailure {
  domain: number;
  message: string;
}

/** One domain's shadow: a machine that runs only that domain's projection. */
interface Shadow {
  readonly domain: number;
  readonly m: Machine;
  /** Steps applied to it (its step index). */
  applied: number;
  /** Full-run device handle -> shadow handle (create_device of this domain). */
  readonly handles: Map<number, number>;
  /** The other way: shadow handle -> full-run handle (its texts are written with the full run's). */
  readonly back: Map<number, number>;
  /** Once a difference was reported, the domain is compared no further. */
  diverged: boolean;
}

/** The projected step of one shadow, decided before the full step runs. */
interface Planned {
  shadow: Shadow;
  op: Op;
  /** The domain's own step (its RESULT is compared), not an `idle` standing for another's `run`. */
  own: boolean;
}

/**
 * P7 as a monitor: call `before(op)` then `after(op, result)` around every applied step of a
 * machine that has not run any step yet (the shadows start from the same config and variant).
 */
export class NoninterferenceMonitor {
  readonly stats = emptyNoninterferenceStats();
  private readonly shadows = new Map<number, Shadow>();
  private planned: Planned[] = [];
  /** A `route` that is dropped if the full run refuses it EBUSY (the pirq is another domain's). */
  private routeOfOther: { shadow: Shadow; op: Op } | null = null;
  /** The domain whose vCPU ran last on each pCPU (handovers). */
  private readonly lastOn: (number | null)[];
  /** Why the comparison ended (the full run crashed), or null while it goes on. */
  stopped: string | null = null;

  constructor(readonly machine: Machine) {
    for (const id of machine.host.domains.keys()) {
      this.shadows.set(id, { domain: id, m: MachineClass.build(machine.config, machine.variant), applied: 0, handles: new Map(), back: new Map(), diverged: false });
    }
    this.lastOn = machine.host.pcpus.map((c) => c.current?.domain.id ?? null);
  }

  /** The shadow machine of domain `id` (for tests and dumps). */
  shadowOf(id: number): Machine | null {
    return this.shadows.get(id)?.m ?? null;
  }

  /** Decide the projection of `op` from the full machine's state before it runs. */
  before(op: Op): void {
    this.planned = [];
    this.routeOfOther = null;
    if (this.stopped !== null) return;
    const m = this.machine;
    const owner = stepOwner(m, op);
    if (op.op === 'domain_create' && owner !== null && !this.shadows.has(owner)) {
      // A domain first made mid-trace: its shadow starts as a host without domains (the
      // config's pCPUs and variant), where its projection begins with this domain_create; it
      // gets the host's IRQ lines in `after`, as every shadow does after a domain_create.
      const bare = MachineClass.build({ ...m.config, domains: [] }, m.variant);
      this.shadows.set(owner, { domain: owner, m: bare, applied: 0, handles: new Map(), back: new Map(), diverged: false });
    }
    const shadow = owner === null ? undefined : this.shadows.get(owner);
    if (op.op === 'run') {
      for (const s of this.shadows.values()) {
        if (s.domain !== op.domain) this.planned.push({ shadow: s, op: { op: 'idle', pcpu: op.pcpu }, own: false });
      }
    }
    if (shadow === undefined) return;
    let own: Op = op;
    if (op.op === 'set_attr' || op.op === 'get_attr' || op.op === 'has_attr') {
      own = { ...op, device: shadow.handles.get(op.device) ?? op.device };
    } else if (op.op === 'route') {
      const desc = m.host.irqDescs.get(op.pirq);
      const guest = desc?.guest ?? null;
      if (guest !== null && guest.domain !== op.domain) {
        this.routeOfOther = { shadow, op };
        return;
      }
      // A free host line is taken as it is: its host state (affinity, pending latch, ...) may
      // come from a domain that held it before and was destroyed (Xen's release leaves them).
      // That state is the host's, shared by design; the shadow takes the line in the same state.
      const mine = shadow.m.host.irqDescs.get(op.pirq);
      if (desc !== undefined && guest === null && mine !== undefined && mine.guest === null) copyLineState(desc, mine);
    }
    this.planned.push({ shadow, op: own, own: true });
  }

  /** Apply the projection of the step just run and compare every domain; the P7 failures. */
  after(op: Op, result: Result): NoninterferenceFailure[] {
    if (this.stopped !== null) return [];
    const m = this.machine;
    if (m.crashed !== null) {
      this.stopped = `the full run crashed at step ${m.crashed.step}`;
      return [];
    }
    const out: NoninterferenceFailure[] = [];
    this.count(op);
    // A domain_create brings its host lines (pirqs) to the host: host state, not a domain's,
    // which every shadow gets too, free (who holds a line is `physical`, shared by design; a
    // route refused because another domain holds it is dropped from the projection). A shadow
    // started at this step gets every line the host has.
    if (op.op === 'domain_create') {
      for (const s of this.shadows.values()) {
        for (const pirq of m.host.irqDescs.keys()) if (!s.m.host.irqDescs.has(pirq)) s.m.host.irqDescs.set(pirq, new IrqDesc(pirq));
      }
    }
    if (this.routeOfOther !== null) {
      // Refused because the pirq is another domain's: shared by design, dropped. Accepted
      // (it cannot be, the pirq being taken): a step of its domain like any other.
      if (result.outcome === 'error' && result.errno === 'EBUSY') this.stats.routeRefusals += 1;
      else this.planned.push({ shadow: this.routeOfOther.shadow, op: this.routeOfOther.op, own: true });
    }
    for (const { shadow: s, op: pop, own } of this.planned) {
      if (s.diverged) continue;
      const r = s.m.apply(pop, s.applied++);
      this.stats.projected += 1;
      if (r instanceof TraceError) {
        out.push(this.diverge(s, `the projection refuses ${pop.op === op.op ? 'the step' : `the ${pop.op} standing for it`}: ${r.message}`));
        continue;
      }
      if (s.m.crashed !== null) {
        out.push(this.diverge(s, `the projection crashes (${s.m.crashed.reason}) where the full run goes on`));
        continue;
      }
      if (!own) continue;
      if (op.op === 'create_device' && result.device !== undefined && r.device !== undefined) {
        s.handles.set(result.device, r.device);
        s.back.set(r.device, result.device);
      }
      if (op.op !== 'create_device' && sameResult(result, r)) continue;
      const want = resultText(result, null);
      const got = resultText(r, op.op === 'create_device' ? s.handles : null);
      if (want !== got) out.push(this.diverge(s, `after ${op.op}, RESULT ${want} in the full run, ${got} in the projection`));
    }
    for (const s of this.shadows.values()) {
      if (s.diverged) continue;
      const full = m.host.domains.get(s.domain);
      const alone = s.m.host.domains.get(s.domain);
      if (full === undefined || alone === undefined) {
        if (full !== alone) out.push(this.diverge(s, `the domain ${full === undefined ? 'is gone from the full run' : 'is gone from the projection'}`));
        continue;
      }
      // The values the texts are made of first (no text built); anything else on the texts themselves.
      if (sameDomainState(m.host, full, s.m.host, alone, s.back)) continue;
      const fullText = domainJson(m.host, full);
      const text = domainJson(s.m.host, alone, s.back);
      if (fullText === text) continue;
      const a = JSON.parse(fullText) as unknown;
      const b = JSON.parse(text) as unknown;
      const path = firstDifference(a, b, '');
      out.push(this.diverge(s, `after ${op.op}, snapshot.domains[id=${s.domain}]${path} is ${short(valueAt(a, path))} in the full run, ${short(valueAt(b, path))} in the projection`));
    }
    return out;
  }

  private diverge(s: Shadow, what: string): NoninterferenceFailure {
    s.diverged = true;
    return { domain: s.domain, message: `d${s.domain}: ${what} (d${s.domain} is compared no further)` };
  }

  /** The interleaving figures of the step just applied. */
  private count(op: Op): void {
    const m = this.machine;
    const st = this.stats;
    st.steps += 1;
    if (op.op === 'run') {
      if (this.lastOn[op.pcpu] !== null && this.lastOn[op.pcpu] !== op.domain) st.handovers += 1;
      this.lastOn[op.pcpu] = op.domain;
    } else if (op.op === 'inject' || op.op === 'msi' || op.op === 'hw_irq') {
      // The pCPU it ran on, and who is current there, are the same before and after (these ops do not schedule).
      const desc = op.op === 'hw_irq' ? m.host.irqDescs.get(op.pirq) : undefined;
      const into = op.op === 'hw_irq' ? desc?.guest?.domain : op.domain;
      const cpu = m.host.pcpus[op.op === 'hw_irq' ? desc?.affinity ?? -1 : op.pcpu];
      const there = cpu?.current?.domain.id;
      if (into !== undefined && there !== undefined && there !== into) st.foreignInjections += 1;
    }
    let first: number | null = null;
    for (const c of m.host.pcpus) {
      const id = c.current?.domain.id;
      if (id === undefined) continue;
      if (first === null) first = id;
      else if (id !== first) {
        st.concurrent += 1;
        break;
      }
    }
  }
}

/** The host state of a free line (everything but its guest), from the full run to a shadow. */
function copyLineState(from: IrqDesc, to: IrqDesc): void {
  to.enabled = from.enabled;
  to.pending = from.pending;
  to.active = from.active;
  to.inProgress = from.inProgress;
  to.affinity = from.affinity;
}

/**
 * Two RESULTs certainly equal as P7 compares them (resultText): every field but `log` the
 * same primitive value. False may still mean equal (a snapshot field: compare the texts).
 */
function sameResult(a: Result, b: Result): boolean {
  if (a === b) return true;
  return a.outcome === b.outcome && a.value === b.value && a.intid === b.intid && a.pending === b.pending && a.errno === b.errno
    && a.reason === b.reason && a.device === b.device && a.snapshot === undefined && b.snapshot === undefined;
}

/** A RESULT as compared by P7: every field but `log`; a shadow's device handle renamed. */
function resultText(r: Result, handles: Map<number, number> | null): string {
  const { log: _log, ...rest } = r;
  if (handles !== null && rest.device !== undefined) {
    for (const [full, mine] of handles) if (mine === rest.device) return JSON.stringify({ ...rest, device: full });
  }
  return JSON.stringify(rest);
}

/** The value at a path firstDifference wrote (`.a[2].b`), or undefined. */
function valueAt(o: unknown, path: string): unknown {
  let x = o;
  for (const [, key, index] of path.matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    if (x === null || typeof x !== 'object') return undefined;
    x = key !== undefined ? (x as Record<string, unknown>)[key] : (x as unknown[])[Number(index)];
  }
  return x;
}

/** A value as short JSON text (absent: `absent`). */
function short(x: unknown): string {
  if (x === undefined) return 'absent';
  const t = JSON.stringify(x);
  return t.length > 120 ? `${t.slice(0, 117)}...` : t;
}

/** The JSON path of the first difference between a and b (`.vcpus[0].lr_pending`), '' when they are equal. */
export function firstDifference(a: unknown, b: unknown, path: string): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return '';
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const p = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (p !== '') return p;
    }
  } else if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const p = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (p !== '') return p;
    }
  }
  return path;
}
