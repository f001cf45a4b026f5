/**
 * A Machine: Xen's vGIC on a set of pCPUs, built from a vgic-trace/1 config, driven by the ops
 * of trace-format §3. Every precondition is checked before anything changes, so a trace error
 * leaves the state as it was; a Xen crash (trace-format §4) kills the machine.
 */
import * as E from 'fp-ts/lib/Either.js';
import { isPrivate } from '../arch/intid.js';
import { lrLayout } from '../arch/lr.js';
import { VirtualCpuInterface } from '../hw/cpuif.js';
import { IrqDesc } from '../hw/irqdesc.js';
import { vgicSyncFromLrs, vgicSyncToLrs, vgicVcpuPendingIrq } from '../xen/gic-vgic.js';
import { GIC_IRQ_GUEST_ENABLED, Host, Pcpu, XenCrash, type Domain, type LogEntry, type Vcpu } from '../xen/types.js';
import { archMoveIrqs, createDomain, vgicClearPendingIrqs, vgicInjectIrq } from '../xen/vgic.js';
import { GICV2_GICD_SIZE, GUEST_GICD_BASE, vgicV2DistrMmio } from '../xen/vgic-v2.js';
import {
  GICV3_GICD_SIZE, GUEST_GICV3_GICD_BASE, GUEST_GICV3_GICR0_BASE, GUEST_GICV3_GICR0_SIZE, vgicV3DistrMmio,
  vgicV3EmulateSysreg, vgicV3RdistrMmio,
} from '../xen/vgic-v3.js';
import type { MmioOutcome } from '../xen/vreg.js';
import { doIrq, routeIrqToGuest } from '../xen/irq.js';
import { withMutant, type MutantName } from '../xen/mutants.js';
import { toHex } from './decode.js';
import { decodeConfig, type Config } from './config.js';
import { decodeOp, type Op, type OpName, type OpOf } from './ops.js';
import { takeSnapshot, type Snapshot } from './snapshot.js';

export type Outcome = 'ok' | 'abort' | 'undef' | 'error' | 'latched' | 'crash';

/** RESULT of trace-format §4 (extras only where the op defines them). */
export interface Result {
  outcome: Outcome;
  value?: string;
  intid?: number;
  pending?: number;
  errno?: string;
  snapshot?: Snapshot;
  reason?: string;
  /** What Xen would have printed (short messages of our own), when anything. */
  log?: LogEntry[];
}

const OK: Result = { outcome: 'ok' };

/** A broken precondition: the reason, without the step prefix. */
type Check<A> = E.Either<string, A>;

type Handler<K extends OpName> = (m: Machine, op: OpOf<K>) => Check<Result>;


export class Machine {
  readonly host: Host;
  /** Why the machine died (a Xen crash), or null while it is alive. */
  crashed: { step: number; reason: string } | null = null;
  /** vCPUs that got PSCI CPU_ON while they still had vGIC state (reference §7 exemptions). */
  readonly cpuOnWithLiveState = new Set<Vcpu>();

  private constructor(readonly config: Config, readonly mutant: MutantName | null) {
    this.host = new Host(config.gic, config.nr_lrs, lrLayout(config.gic));
    for (let i = 0; i < config.pcpus; i++) {
      this.host.pcpus.push(new Pcpu(this.host, i, new VirtualCpuInterface(config.gic, config.nr_lrs)));
    }
    for (const dc of config.domains) {
      const d = createDomain(this.host, dc.id, dc.vcpus, dc.nr_spis, config.pcpus);
      // The config rules already enforce Xen's limits, so creation cannot fail here.
      if (d === 'EINVAL') throw new Error(`domain ${dc.id}: creation refused after validation`);
      this.host.domains.set(dc.id, d);
      for (const pirq of dc.pirqs ?? []) if (!this.host.irqDescs.has(pirq)) this.host.irqDescs.set(pirq, new IrqDesc(pirq));
    }
  }

  /** Build a machine from an (untrusted) config; Left lists every problem found. */
  static create(config: unknown, base = 'config', mutant: MutantName | null = null): E.Either<string[], Machine> {
    const decoded = decodeConfig(config, base);
    return E.isLeft(decoded) ? decoded : E.right(withMutant(mutant, () => new Machine(decoded.right, mutant)));
  }

  /** Decode and apply one step; Left is a trace error naming the step and the problem. */
  step(u: unknown, index: number, base = `steps[${index}]`): E.Either<string, Result> {
    const decoded = decodeOp(u, base);
    if (E.isLeft(decoded)) return E.left(`step ${index}: ${decoded.left.join('; ')}`);
    return this.apply(decoded.right, index);
  }

  /** Apply one decoded op. */
  apply(op: Op, index: number): E.Either<string, Result> {
    return withMutant(this.mutant, () => this.applyOp(op, index));
  }

  private applyOp(op: Op, index: number): E.Either<string, Result> {
    const prefix = `step ${index} (${op.op})`;
    if (this.crashed !== null) {
      return E.left(`${prefix}: the machine crashed at step ${this.crashed.step} (${this.crashed.reason}); reset it first`);
    }
    const handler = HANDLERS[op.op] as Handler<OpName>;
    this.host.log.length = 0;
    let result: Check<Result>;
    try {
      result = handler(this, op);
    } catch (e) {
      if (!(e instanceof XenCrash)) throw e;
      this.crashed = { step: index, reason: e.reason };
      result = E.right({ outcome: 'crash', reason: e.reason });
    }
    if (E.isLeft(result)) return E.left(`${prefix}: ${result.left}`);
    if (this.host.log.length > 0) return E.right({ ...result.right, log: [...this.host.log] });
    return result;
  }

  snapshot(): Snapshot {
    return takeSnapshot(this.host);
  }

  // ----- lookups that double as precondition checks -----

  pcpu(id: number): Check<Pcpu> {
    const cpu = this.host.pcpus[id];
    return cpu === undefined ? E.left(`pCPU ${id} does not exist (pcpus: ${this.host.pcpus.length})`) : E.right(cpu);
  }

  domain(id: number): Check<Domain> {
    const d = this.host.domains.get(id);
    return d === undefined ? E.left(`domain ${id} does not exist`) : E.right(d);
  }

  vcpu(domain: number, vcpu: number): Check<Vcpu> {
    return E.flatMap(this.domain(domain), (d) => {
      const v = d.vcpus[vcpu];
      return v === undefined ? E.left(`domain ${domain} has no vCPU ${vcpu} (it has ${d.vcpus.length})`) : E.right(v);
    });
  }

  /** A pCPU in one of `modes`. */
  pcpuIn(id: number, modes: readonly Pcpu['mode'][], what: string): Check<Pcpu> {
    return E.flatMap(this.pcpu(id), (cpu) =>
      modes.includes(cpu.mode) ? E.right(cpu) : E.left(`pCPU ${id} is ${cpu.mode}; ${what} needs it ${modes.join(' or ')}`));
  }

  /** gic_save_state: the live interface goes back into the vCPU that was running. */
  saveCurrent(cpu: Pcpu): void {
    const prev = cpu.current;
    if (prev === null) return;
    prev.savedLrMask.assign(cpu.lrMask);
    cpu.cpuif.saveState(prev.saved);
    prev.runningOn = null;
    cpu.current = null;
  }

  /** gic_restore_state: load v's saved interface on cpu and make it current. */
  restore(cpu: Pcpu, v: Vcpu): void {
    cpu.lrMask.assign(v.savedLrMask);
    cpu.cpuif.restoreState(v.saved);
    cpu.current = v;
    v.runningOn = cpu.id;
  }

  /** Host-side effect of a guest deactivating an LR with the HW bit. */
  readonly deactivatePhysical = (pirq: number): void => {
    const desc = this.host.irqDescs.get(pirq);
    if (desc !== undefined) desc.active = false;
  };
}

function ok(): Check<Result> {
  return E.right(OK);
}

/** The running vCPU of a pCPU in guest mode (for the guest CPU interface ops). */
function guestCpu(m: Machine, pcpu: number, what: string): Check<Pcpu> {
  return m.pcpuIn(pcpu, ['guest'], what);
}

const HANDLERS: { [K in OpName]: Handler<K> } = {
  run: (m, op) => E.flatMap(m.pcpuIn(op.pcpu, ['idle', 'hyp'], 'run'), (cpu) => E.flatMap(m.vcpu(op.domain, op.vcpu), (v) => {
    if (!v.online) return E.left(`d${op.domain}v${op.vcpu} is offline`);
    if (v.runningOn !== null) return E.left(`d${op.domain}v${op.vcpu} is already running on pCPU ${v.runningOn}`);
    m.saveCurrent(cpu);
    if (v.processor !== cpu.id) {
      v.processor = cpu.id;
      archMoveIrqs(v);
    }
    m.restore(cpu, v);
    cpu.mode = 'hyp';
    return ok();
  })),

  idle: (m, op) => E.flatMap(m.pcpuIn(op.pcpu, ['idle', 'hyp'], 'idle'), (cpu) => {
    m.saveCurrent(cpu);
    cpu.mode = 'idle';
    return ok();
  }),

  enter: (m, op) => E.flatMap(m.pcpuIn(op.pcpu, ['hyp'], 'enter'), (cpu) => {
    vgicSyncToLrs(cpu);
    cpu.mode = 'guest';
    return ok();
  }),

  exit: (m, op) => E.flatMap(m.pcpuIn(op.pcpu, ['guest'], 'exit'), (cpu) => {
    vgicSyncFromLrs(cpu, cpu.current);
    cpu.mode = 'hyp';
    return ok();
  }),

  vcpu_off: (m, op) => E.flatMap(m.vcpu(op.domain, op.vcpu), (v) => {
    if (!v.online) return E.left(`d${op.domain}v${op.vcpu} is already offline`);
    if (v.runningOn !== null) return E.left(`d${op.domain}v${op.vcpu} is running on pCPU ${v.runningOn}`);
    v.online = false;
    return ok();
  }),

  vcpu_on: (m, op) => E.flatMap(m.vcpu(op.domain, op.vcpu), (v) => {
    if (v.online) return E.left(`d${op.domain}v${op.vcpu} is already online`);
    if (hasLiveState(v)) m.cpuOnWithLiveState.add(v);
    vgicClearPendingIrqs(v);
    v.online = true;
    return ok();
  }),

  inject: (m, op) => E.flatMap(m.pcpuIn(op.pcpu, ['idle', 'hyp'], 'inject'), (cpu) => E.flatMap(m.domain(op.domain), (d) => {
    const spiEnd = 32 + d.nrSpis;
    let target: Vcpu | null = null;
    if (isPrivate(op.virq)) {
      if (op.vcpu === null) return E.left(`virq ${op.virq} is an SGI/PPI, so vcpu must name a vCPU, not null`);
      const v = d.vcpus[op.vcpu];
      if (v === undefined) return E.left(`domain ${op.domain} has no vCPU ${op.vcpu} (it has ${d.vcpus.length})`);
      target = v;
    } else if (op.virq < spiEnd) {
      if (op.vcpu !== null) return E.left(`virq ${op.virq} is an SPI, so vcpu must be null (SPIs go to their rank target)`);
    } else {
      return E.left(`virq ${op.virq} is neither an SGI/PPI nor an SPI of domain ${op.domain} (SPIs 32..${spiEnd - 1})`);
    }
    vgicInjectIrq(cpu, d, target, op.virq, op.level ?? true);
    return ok();
  })),

  mmio: (m, op) => E.flatMap(m.pcpuIn(op.pcpu, ['hyp'], 'mmio'), (cpu) => {
    const addr = op.addr;
    const size = op.size;
    if (addr % BigInt(size) !== 0n) return E.left(`addr ${toHex(addr)} is not aligned to the access size ${size}`);
    const value = op.value ?? 0n;
    if (value >= 1n << BigInt(8 * size)) return E.left(`value ${toHex(value)} does not fit in ${size} byte${size > 1 ? 's' : ''}`);
    const write = op.access === 'write';
    const v3 = m.host.version === 'v3';
    const gicd = v3 ? GUEST_GICV3_GICD_BASE : GUEST_GICD_BASE;
    const gicdSize = v3 ? GICV3_GICD_SIZE : GICV2_GICD_SIZE;
    let outcome: MmioOutcome;
    if (addr >= BigInt(gicd) && addr < BigInt(gicd + gicdSize)) {
      const off = Number(addr) - gicd;
      outcome = v3 ? vgicV3DistrMmio(cpu, off, size, write, value) : vgicV2DistrMmio(cpu, off, size, write, value);
    } else if (v3 && addr >= BigInt(GUEST_GICV3_GICR0_BASE) && addr < BigInt(GUEST_GICV3_GICR0_BASE + GUEST_GICV3_GICR0_SIZE)) {
      outcome = vgicV3RdistrMmio(cpu, Number(addr) - GUEST_GICV3_GICR0_BASE, size, write, value);
    } else {
      const where = v3
        ? `the GICD frame 0x3001000..0x3010fff or the redistributor region 0x3020000..0x401ffff`
        : `the GICD frame 0x3001000..0x3001fff`;
      return E.left(`addr ${toHex(addr)} is outside ${where}`);
    }
    if (outcome.outcome === 'abort') return E.right({ outcome: 'abort' });
    return E.right(write ? OK : { outcome: 'ok', value: toHex(outcome.value ?? 0n) });
  }),

  sysreg: (m, op) => E.flatMap(m.pcpuIn(op.pcpu, ['hyp'], 'sysreg'), (cpu) => {
    if ((op.value ?? 0n) >= 1n << 64n) return E.left(`value ${toHex(op.value!)} does not fit in a 64-bit system register`);
    // A GICv2 guest has no GICv3 CPU interface: every one of these is UNDEF (trace-format §3.3).
    if (m.host.version === 'v2') return E.right({ outcome: 'undef' });
    const r = vgicV3EmulateSysreg(cpu, op.reg, op.access === 'write', op.value ?? 0n);
    return E.right(r === 'ok' ? OK : { outcome: 'undef' });
  }),

  ack: (m, op) => E.flatMap(guestCpu(m, op.pcpu, 'ack'), (cpu) => E.right({ outcome: 'ok', intid: cpu.cpuif.acknowledge() })),

  eoi: (m, op) => E.flatMap(guestCpu(m, op.pcpu, 'eoi'), (cpu) => {
    cpu.cpuif.endOfInterrupt(op.intid, m.deactivatePhysical);
    return ok();
  }),

  dir: (m, op) => E.flatMap(guestCpu(m, op.pcpu, 'dir'), (cpu) => {
    cpu.cpuif.deactivate(op.intid, m.deactivatePhysical);
    return ok();
  }),

  pmr: (m, op) => E.flatMap(guestCpu(m, op.pcpu, 'pmr'), (cpu) => {
    cpu.cpuif.setPmr(op.value);
    return ok();
  }),

  eoimode: (m, op) => E.flatMap(guestCpu(m, op.pcpu, 'eoimode'), (cpu) => {
    cpu.cpuif.setEoimode(op.value);
    return ok();
  }),

  pending_check: (m, op) => E.flatMap(m.pcpuIn(op.pcpu, ['hyp'], 'pending_check'), (cpu) =>
    E.right({ outcome: 'ok', pending: vgicVcpuPendingIrq(cpu, cpu.current!) })),

  snapshot: (m) => E.right({ outcome: 'ok', snapshot: m.snapshot() }),

  route: (m, op) => E.flatMap(m.domain(op.domain), (d) => {
    const rc = routeIrqToGuest(m.host, d, op.virq, op.pirq);
    return E.right(rc === 0 ? OK : { outcome: 'error', errno: rc });
  }),

  hw_irq: (m, op) => {
    const desc = m.host.irqDescs.get(op.pirq);
    if (desc === undefined || desc.guest === null) return E.left(`pirq ${op.pirq} is not routed to a guest`);
    return E.flatMap(m.pcpuIn(desc.affinity, ['idle', 'hyp'], `hw_irq ${op.pirq} (its affinity is pCPU ${desc.affinity})`),
      (cpu) => E.right(doIrq(cpu, desc) === 'ok' ? OK : { outcome: 'latched' }));
  },
};

/** Does v hold anything PSCI CPU_ON would only partially wipe (Q37)? */
function hasLiveState(v: Vcpu): boolean {
  if (v.inflightIrqs.next !== v.inflightIrqs || v.lrPending.next !== v.lrPending) return true;
  if (!v.savedLrMask.isZero()) return true;
  if (v.saved.lrs.some((w) => w !== 0)) return true;
  // ENABLED alone is configuration, not state the wipe leaves behind. An SPI this vCPU
  // holds is on its lists or in its saved LRs, both checked above.
  return v.pendingIrqs.some((p) => (p.status & ~(1 << GIC_IRQ_GUEST_ENABLED)) !== 0);
}
