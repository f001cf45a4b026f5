/**
 * A Machine: Xen's vGIC on a set of pCPUs, built from a vgic-trace/1 config, driven by the ops
 * of trace-format §3. Every precondition is checked before anything changes, so a trace error
 * leaves the state as it was; a Xen crash (trace-format §4) kills the machine.
 */
import * as E from 'fp-ts/lib/Either.js';
import { isPrivate } from '../arch/intid.js';
import { lrLayout } from '../arch/lr.js';
import { VirtualCpuInterface } from '../hw/cpuif.js';
import { vgicSyncFromLrs, vgicSyncToLrs, vgicVcpuPendingIrq } from '../xen/gic-vgic.js';
import { GIC_IRQ_GUEST_ENABLED, Host, Pcpu, XenCrash, type Domain, type LogEntry, type Vcpu } from '../xen/types.js';
import { archMoveIrqs, vgicClearPendingIrqs, vgicInjectIrq } from '../xen/vgic.js';
import { GICV2_GICD_SIZE, GUEST_GICD_BASE, vgicV2DistrMmio } from '../xen/vgic-v2.js';
import {
  GICV3_GICD_SIZE, GUEST_GICV3_GICD_BASE, GUEST_GICV3_GICR0_BASE, GUEST_GICV3_GICR0_SIZE, vgicV3DistrMmio,
  vgicV3EmulateSysreg, vgicV3RdistrMmio,
} from '../xen/vgic-v3.js';
import type { MmioOutcome } from '../xen/vreg.js';
import { doIrq, routeIrqToGuest } from '../xen/irq.js';
import type { MutantName } from '../xen/mutants.js';
import { toVariant, type Variant } from '../xen/variant.js';
import { toHex } from './decode.js';
import { decodeConfig, type Config } from './config.js';
import { decodeOp, decodeOpFast, type Op, type OpOf } from './ops.js';
import { snapshotJson, takeSnapshot, type Snapshot } from './snapshot.js';
// ----- LPIs and the virtual ITS (trace-format §9) -----
import { injectLpiError, itsMmio, memRead, memWrite, msi } from './its.js';
// ----- end ITS -----
// ----- the VMM front door (trace-format §10) -----
import {
  VmmHost, opCreateDevice, opDeviceAttr, opKvmRun, opVcpuCreate, vmOf, vmmMmio, vmmNotBuilt, vmmRunBlocked,
} from './vmm.js';
// ----- end VMM -----
// ----- the domain lifecycle (trace-format §3.6) -----
import { buildDomain, opDomainCreate, opDomainDestroy } from './lifecycle.js';
// ----- end lifecycle -----

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
  /** create_device: the new device's handle (trace-format §10.2). */
  device?: number;
  /** What Xen would have printed (short messages of our own), when anything. */
  log?: LogEntry[];
}

/**
 * A broken precondition (trace-format §3): the step is refused and nothing changed. `message`
 * names the step and the problem (`step 4 (enter): pCPU 0 is idle; enter needs it hyp`).
 */
export class TraceError {
  constructor(readonly message: string) {}
}

/** Did `apply` refuse the step? */
export function isTraceError(r: Result | TraceError): r is TraceError {
  return r instanceof TraceError;
}

// The results that carry nothing but their outcome are shared, never modified.
const OK: Result = Object.freeze({ outcome: 'ok' });
const ABORT: Result = Object.freeze({ outcome: 'abort' });
const UNDEF: Result = Object.freeze({ outcome: 'undef' });
const LATCHED: Result = Object.freeze({ outcome: 'latched' });

/**
 * A handler's answer: a Result, or a string saying which precondition is broken (without the
 * step prefix). Plain values, so the hot path allocates nothing to say "fine".
 */
type Check<A> = A | string;

export class Machine {
  readonly host: Host;
  /** Why the machine died (a Xen crash), or null while it is alive. */
  crashed: { step: number; reason: string } | null = null;
  /** vCPUs that got PSCI CPU_ON while they still had vGIC state (reference §7 exemptions). */
  readonly cpuOnWithLiveState = new Set<Vcpu>();
  /** The devices a VMM created through KVM's device API (trace-format §10). */
  readonly vmm: VmmHost;

  private constructor(readonly config: Config, readonly variant: Variant) {
    this.host = new Host(config.gic, config.nr_lrs, lrLayout(config.gic), variant);
    for (let i = 0; i < config.pcpus; i++) {
      this.host.pcpus.push(new Pcpu(this.host, i, new VirtualCpuInterface(config.gic, config.nr_lrs)));
    }
    this.vmm = new VmmHost(config.gic, config.v2_on_v3 ?? false);
    for (const dc of config.domains) buildDomain(this.host, dc, config);
  }

  /** The mutant this machine runs with (its variant's), or null. */
  get mutant(): MutantName | null {
    return this.variant.mutant;
  }

  /**
   * Build a machine from a typed config (a wrong key or kind is a compile error); Left lists the limits it breaks. `variant`:
   * Xen's behaviour (null), one mutant by name, or a whole Variant (src/xen/variant.ts).
   */
  static create(config: Config, base = 'config', variant: MutantName | Variant | null = null): E.Either<string[], Machine> {
    // The type rules out wrong keys and kinds at compile time; the limits (and whatever a
    // cast let through) are still checked here.
    return Machine.fromJson(config, base, variant);
  }

  /** Build a machine from untrusted input (a config read from JSON): decoded with io-ts, Left lists every problem found. */
  static fromJson(config: unknown, base = 'config', variant: MutantName | Variant | null = null): E.Either<string[], Machine> {
    const decoded = decodeConfig(config, base);
    return E.isLeft(decoded) ? decoded : E.right(Machine.build(decoded.right, variant));
  }

  /** Build a machine from a config already decoded and checked (decodeConfig). */
  static build(config: Config, variant: MutantName | Variant | null = null): Machine {
    return new Machine(config, toVariant(variant));
  }

  /**
   * Decode and apply one step (the convenient entry); Left is a trace error naming the step and
   * the problem. `base` is the JSON path decoding errors are named under (`steps[index]` when
   * not given).
   */
  step(u: unknown, index: number, base?: string): E.Either<string, Result> {
    // The fast path first: what it takes, decodeOp takes too, with the same op. Only a step
    // it leaves goes through decodeOp, whose errors name the path under `base`.
    let op = decodeOpFast(u);
    if (op === null) {
      const decoded = decodeOp(u, base ?? `steps[${index}]`);
      if (E.isLeft(decoded)) return E.left(`step ${index}: ${decoded.left.join('; ')}`);
      op = decoded.right;
    }
    const r = this.apply(op, index);
    return r instanceof TraceError ? E.left(r.message) : E.right(r);
  }

  /**
   * Apply one decoded op (the core path): its Result, or a TraceError when a precondition is
   * broken (then nothing changed). A Xen crash is a Result with outcome `crash`, and the machine
   * refuses every later step.
   */
  apply(op: Op, index: number): Result | TraceError {
    if (this.crashed !== null) {
      return new TraceError(`step ${index} (${op.op}): the machine crashed at step ${this.crashed.step} (${this.crashed.reason}); reset it first`);
    }
    const log = this.host.log;
    if (log.length !== 0) log.length = 0;
    let result: Check<Result>;
    try {
      result = dispatch(this, op);
    } catch (e) {
      if (!(e instanceof XenCrash)) throw e;
      this.crashed = { step: index, reason: e.reason };
      result = { outcome: 'crash', reason: e.reason };
    }
    if (typeof result === 'string') return new TraceError(`step ${index} (${op.op}): ${result}`);
    if (log.length > 0) return { ...result, log: log.slice() };
    return result;
  }

  snapshot(): Snapshot {
    return takeSnapshot(this.host);
  }

  /** The snapshot as canonical JSON text, byte-identical to `JSON.stringify(snapshot())`, written directly. */
  snapshotJson(): string {
    return snapshotJson(this.host);
  }

  // ----- lookups that double as precondition checks (a string says what is wrong) -----

  pcpu(id: number): Check<Pcpu> {
    const cpu = this.host.pcpus[id];
    return cpu === undefined ? `pCPU ${id} does not exist (pcpus: ${this.host.pcpus.length})` : cpu;
  }

  domain(id: number): Check<Domain> {
    const d = this.host.domains.get(id);
    return d === undefined ? `domain ${id} does not exist` : d;
  }

  vcpu(domain: number, vcpu: number): Check<Vcpu> {
    const d = this.domain(domain);
    if (typeof d === 'string') return d;
    const v = d.vcpus[vcpu];
    return v === undefined ? `domain ${domain} has no vCPU ${vcpu} (it has ${d.vcpus.length})${vmmNotBuilt(d)}` : v;
  }

  /** A pCPU in one of `modes`. */
  pcpuIn(id: number, modes: readonly Pcpu['mode'][], what: string): Check<Pcpu> {
    const cpu = this.pcpu(id);
    if (typeof cpu === 'string') return cpu;
    return modes.includes(cpu.mode) ? cpu : `pCPU ${id} is ${cpu.mode}; ${what} needs it ${modes.join(' or ')}`;
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

/**
 * The handler of `op`. A switch on the op name, the frequent ops first: every call site is
 * then monomorphic and the small handlers can be inlined (a table of closures called through
 * one site cannot be).
 */
function dispatch(m: Machine, op: Op): Check<Result> {
  switch (op.op) {
    case 'inject': return opInject(m, op);
    case 'ack': return opAck(m, op);
    case 'eoi': return opEoi(m, op);
    case 'enter': return opEnter(m, op);
    case 'exit': return opExit(m, op);
    case 'run': return opRun(m, op);
    case 'idle': return opIdle(m, op);
    case 'vcpu_off': return opVcpuOff(m, op);
    case 'vcpu_on': return opVcpuOn(m, op);
    case 'mmio': return opMmio(m, op);
    case 'sysreg': return opSysreg(m, op);
    case 'dir': return opDir(m, op);
    case 'pmr': return opPmr(m, op);
    case 'eoimode': return opEoimode(m, op);
    case 'pending_check': return opPendingCheck(m, op);
    case 'snapshot': return opSnapshot(m);
    case 'route': return opRoute(m, op);
    case 'hw_irq': return opHwIrq(m, op);
    case 'mem_write': return opMemWrite(m, op);
    case 'mem_read': return opMemRead(m, op);
    case 'msi': return opMsi(m, op);
    // ----- the VMM front door (trace-format §10.2): host-side ioctls, no pCPU -----
    case 'vcpu_create': return opVcpuCreate(m.host, op);
    case 'create_device': return opCreateDevice(m.host, m.vmm, op);
    case 'set_attr': return opDeviceAttr(m.vmm, op);
    case 'get_attr': return opDeviceAttr(m.vmm, op);
    case 'has_attr': return opDeviceAttr(m.vmm, op);
    case 'kvm_run': return opKvmRun(m.host, op);
    // ----- the domain lifecycle (trace-format §3.6): no pCPU -----
    case 'domain_create': return opDomainCreate(m, op);
    case 'domain_destroy': return opDomainDestroy(m, op);
    default: {
      const never: never = op;
      throw new Error(`apply: unknown op ${JSON.stringify((never as { op: unknown }).op)}`);
    }
  }
}

// ----- precondition checks of the pCPU an op runs on (a string says what is wrong) -----

/** pCPU `id` in mode hyp. */
function hypPcpu(m: Machine, id: number, what: string): Check<Pcpu> {
  const cpu = m.host.pcpus[id];
  if (cpu === undefined) return m.pcpu(id) as string;
  return cpu.mode === 'hyp' ? cpu : `pCPU ${id} is ${cpu.mode}; ${what} needs it hyp`;
}

/** pCPU `id` in mode guest. */
function guestPcpu(m: Machine, id: number, what: string): Check<Pcpu> {
  const cpu = m.host.pcpus[id];
  if (cpu === undefined) return m.pcpu(id) as string;
  return cpu.mode === 'guest' ? cpu : `pCPU ${id} is ${cpu.mode}; ${what} needs it guest`;
}

/** pCPU `id` in mode idle or hyp. */
function idleOrHypPcpu(m: Machine, id: number, what: string): Check<Pcpu> {
  const cpu = m.host.pcpus[id];
  if (cpu === undefined) return m.pcpu(id) as string;
  return cpu.mode !== 'guest' ? cpu : `pCPU ${id} is ${cpu.mode}; ${what} needs it idle or hyp`;
}

function opRun(m: Machine, op: OpOf<'run'>): Check<Result> {
  const cpu = idleOrHypPcpu(m, op.pcpu, 'run');
  if (typeof cpu === 'string') return cpu;
  const v = m.vcpu(op.domain, op.vcpu);
  if (typeof v === 'string') {
    const d = m.host.domains.get(op.domain);
    return (d === undefined ? null : vmmRunBlocked(d, op.vcpu)) ?? v;
  }
  if (v.domain.vmm !== null) {
    // A device domain's vCPU runs only after its kvm_run (trace-format §10.2).
    const blocked = vmmRunBlocked(v.domain, op.vcpu);
    if (blocked !== null) return blocked;
  }
  if (!v.online) return `d${op.domain}v${op.vcpu} is offline`;
  if (v.runningOn !== null) return `d${op.domain}v${op.vcpu} is already running on pCPU ${v.runningOn}`;
  m.saveCurrent(cpu);
  if (v.processor !== cpu.id) {
    v.processor = cpu.id;
    archMoveIrqs(v);
  }
  m.restore(cpu, v);
  cpu.mode = 'hyp';
  return OK;
}

function opIdle(m: Machine, op: OpOf<'idle'>): Check<Result> {
  const cpu = idleOrHypPcpu(m, op.pcpu, 'idle');
  if (typeof cpu === 'string') return cpu;
  m.saveCurrent(cpu);
  cpu.mode = 'idle';
  return OK;
}

function opEnter(m: Machine, op: OpOf<'enter'>): Check<Result> {
  const cpu = hypPcpu(m, op.pcpu, 'enter');
  if (typeof cpu === 'string') return cpu;
  vgicSyncToLrs(cpu);
  cpu.mode = 'guest';
  return OK;
}

function opExit(m: Machine, op: OpOf<'exit'>): Check<Result> {
  const cpu = guestPcpu(m, op.pcpu, 'exit');
  if (typeof cpu === 'string') return cpu;
  vgicSyncFromLrs(cpu, cpu.current);
  cpu.mode = 'hyp';
  return OK;
}

function opVcpuOff(m: Machine, op: OpOf<'vcpu_off'>): Check<Result> {
  const v = m.vcpu(op.domain, op.vcpu);
  if (typeof v === 'string') return v;
  if (!v.online) return `d${op.domain}v${op.vcpu} is already offline`;
  if (v.runningOn !== null) return `d${op.domain}v${op.vcpu} is running on pCPU ${v.runningOn}`;
  v.online = false;
  return OK;
}

function opVcpuOn(m: Machine, op: OpOf<'vcpu_on'>): Check<Result> {
  const v = m.vcpu(op.domain, op.vcpu);
  if (typeof v === 'string') return v;
  if (v.online) return `d${op.domain}v${op.vcpu} is already online`;
  if (hasLiveState(v)) m.cpuOnWithLiveState.add(v);
  vgicClearPendingIrqs(v);
  v.online = true;
  return OK;
}

function opInject(m: Machine, op: OpOf<'inject'>): Check<Result> {
  const cpu = idleOrHypPcpu(m, op.pcpu, 'inject');
  if (typeof cpu === 'string') return cpu;
  const d = m.domain(op.domain);
  if (typeof d === 'string') return d;
  const spiEnd = 32 + d.nrSpis;
  let target: Vcpu | null = null;
  if (isPrivate(op.virq)) {
    if (op.vcpu === null) return `virq ${op.virq} is an SGI/PPI, so vcpu must name a vCPU, not null`;
    const v = d.vcpus[op.vcpu];
    if (v === undefined) return `domain ${op.domain} has no vCPU ${op.vcpu} (it has ${d.vcpus.length})${vmmNotBuilt(d)}`;
    target = v;
  } else if (op.virq < spiEnd) {
    if (op.vcpu !== null) return `virq ${op.virq} is an SPI, so vcpu must be null (SPIs go to their rank target)`;
    if (d.vcpus.length === 0) return withoutVcpus(d, `inject of SPI ${op.virq}`);
  } else {
    return (d.hasIts ? injectLpiError(op.virq) : null) // ITS (trace-format §9.2)
      ?? `virq ${op.virq} is neither an SGI/PPI nor an SPI of domain ${op.domain} (SPIs 32..${spiEnd - 1})${vmmNotBuilt(d)}`;
  }
  vgicInjectIrq(cpu, d, target, op.virq, op.level ?? true);
  return OK;
}

function opMmio(m: Machine, op: OpOf<'mmio'>): Check<Result> {
  const cpu = hypPcpu(m, op.pcpu, 'mmio');
  if (typeof cpu === 'string') return cpu;
  const addr = op.addr;
  const size = op.size;
  if (addr % BigInt(size) !== 0n) return `addr ${toHex(addr)} is not aligned to the access size ${size}`;
  const value = op.value ?? 0n;
  if (value >= 1n << BigInt(8 * size)) return `value ${toHex(value)} does not fit in ${size} byte${size > 1 ? 's' : ''}`;
  const write = op.access === 'write';
  const vm = cpu.current!.domain.vmm;
  if (vm !== null) return vmmMmioResult(cpu, addr, size, write, value); // a device domain's frames (trace-format §10)
  const v3 = m.host.version === 'v3';
  const gicd = v3 ? GUEST_GICV3_GICD_BASE : GUEST_GICD_BASE;
  const gicdSize = v3 ? GICV3_GICD_SIZE : GICV2_GICD_SIZE;
  let outcome: MmioOutcome;
  const its = v3 ? itsMmio(cpu, addr, size, write, value) : null; // ITS (trace-format §9.2)
  if (its !== null) {
    outcome = its;
  } else if (addr >= BigInt(gicd) && addr < BigInt(gicd + gicdSize)) {
    const off = Number(addr) - gicd;
    outcome = v3 ? vgicV3DistrMmio(cpu, off, size, write, value) : vgicV2DistrMmio(cpu, off, size, write, value);
  } else if (v3 && addr >= BigInt(GUEST_GICV3_GICR0_BASE) && addr < BigInt(GUEST_GICV3_GICR0_BASE + GUEST_GICV3_GICR0_SIZE)) {
    outcome = vgicV3RdistrMmio(cpu, Number(addr) - GUEST_GICV3_GICR0_BASE, size, write, value);
  } else {
    const where = v3
      ? `the GICD frame 0x3001000..0x3010fff or the redistributor region 0x3020000..0x401ffff`
      : `the GICD frame 0x3001000..0x3001fff`;
    return `addr ${toHex(addr)} is outside ${where}`;
  }
  if (outcome.outcome === 'abort') return ABORT;
  return write ? OK : { outcome: 'ok', value: toHex(outcome.value ?? 0n) };
}

function opSysreg(m: Machine, op: OpOf<'sysreg'>): Check<Result> {
  const cpu = hypPcpu(m, op.pcpu, 'sysreg');
  if (typeof cpu === 'string') return cpu;
  if ((op.value ?? 0n) >= 1n << 64n) return `value ${toHex(op.value!)} does not fit in a 64-bit system register`;
  // A GICv2 guest has no GICv3 CPU interface: every one of these is UNDEF (trace-format §3.3),
  // on a v3 host too (a device domain's v2 vGIC, trace-format §10).
  if (cpu.current!.domain.version === 'v2') return UNDEF;
  const r = vgicV3EmulateSysreg(cpu, op.reg, op.access === 'write', op.value ?? 0n);
  return r === 'ok' ? OK : UNDEF;
}

function opAck(m: Machine, op: OpOf<'ack'>): Check<Result> {
  const cpu = guestPcpu(m, op.pcpu, 'ack');
  if (typeof cpu === 'string') return cpu;
  return { outcome: 'ok', intid: cpu.cpuif.acknowledge() };
}

function opEoi(m: Machine, op: OpOf<'eoi'>): Check<Result> {
  const cpu = guestPcpu(m, op.pcpu, 'eoi');
  if (typeof cpu === 'string') return cpu;
  cpu.cpuif.endOfInterrupt(op.intid, m.deactivatePhysical);
  return OK;
}

function opDir(m: Machine, op: OpOf<'dir'>): Check<Result> {
  const cpu = guestPcpu(m, op.pcpu, 'dir');
  if (typeof cpu === 'string') return cpu;
  cpu.cpuif.deactivate(op.intid, m.deactivatePhysical);
  return OK;
}

function opPmr(m: Machine, op: OpOf<'pmr'>): Check<Result> {
  const cpu = guestPcpu(m, op.pcpu, 'pmr');
  if (typeof cpu === 'string') return cpu;
  cpu.cpuif.setPmr(op.value);
  return OK;
}

function opEoimode(m: Machine, op: OpOf<'eoimode'>): Check<Result> {
  const cpu = guestPcpu(m, op.pcpu, 'eoimode');
  if (typeof cpu === 'string') return cpu;
  cpu.cpuif.setEoimode(op.value);
  return OK;
}

function opPendingCheck(m: Machine, op: OpOf<'pending_check'>): Check<Result> {
  const cpu = hypPcpu(m, op.pcpu, 'pending_check');
  if (typeof cpu === 'string') return cpu;
  return { outcome: 'ok', pending: vgicVcpuPendingIrq(cpu, cpu.current!) };
}

function opSnapshot(m: Machine): Check<Result> {
  return { outcome: 'ok', snapshot: m.snapshot() };
}


/** mmio on a device domain: the frames the VMM placed (src/machine/vmm.ts). */
function vmmMmioResult(cpu: Pcpu, addr: bigint, size: 1 | 2 | 4 | 8, write: boolean, value: bigint): Check<Result> {
  const outcome = vmmMmio(cpu, vmOf(cpu.current!.domain)!, addr, size, write, value);
  if (typeof outcome === 'string') return outcome;
  if (outcome.outcome === 'abort') return ABORT;
  return write ? OK : { outcome: 'ok', value: toHex(outcome.value ?? 0n) };
}

function opRoute(m: Machine, op: OpOf<'route'>): Check<Result> {
  const d = m.domain(op.domain);
  if (typeof d === 'string') return d;
  const notBuilt = vmmNotBuilt(d);
  if (notBuilt !== '') return `route needs the domain's vGIC${notBuilt}`;
  const rc = routeIrqToGuest(m.host, d, op.virq, op.pirq);
  return rc === 0 ? OK : { outcome: 'error', errno: rc };
}

function opHwIrq(m: Machine, op: OpOf<'hw_irq'>): Check<Result> {
  const desc = m.host.irqDescs.get(op.pirq);
  if (desc === undefined || desc.guest === null) return `pirq ${op.pirq} is not routed to a guest`;
  const cpu = idleOrHypPcpu(m, desc.affinity, `hw_irq ${op.pirq} (its affinity is pCPU ${desc.affinity})`);
  if (typeof cpu === 'string') return cpu;
  const d = m.host.domains.get(desc.guest.domain);
  if (d !== undefined && d.vcpus.length === 0) return withoutVcpus(d, `hw_irq ${op.pirq}`);
  return doIrq(cpu, desc) === 'ok' ? OK : LATCHED;
}

// ----- LPIs and the virtual ITS (trace-format §9.2) -----
function opMemWrite(m: Machine, op: OpOf<'mem_write'>): Check<Result> {
  const d = m.domain(op.domain);
  if (typeof d === 'string') return d;
  return memWrite(d, op.addr, op.size, op.value) ?? OK;
}

function opMemRead(m: Machine, op: OpOf<'mem_read'>): Check<Result> {
  const d = m.domain(op.domain);
  if (typeof d === 'string') return d;
  const v = memRead(d, op.addr, op.size);
  return typeof v === 'string' ? v : { outcome: 'ok', value: toHex(v) };
}

function opMsi(m: Machine, op: OpOf<'msi'>): Check<Result> {
  const cpu = idleOrHypPcpu(m, op.pcpu, 'msi');
  if (typeof cpu === 'string') return cpu;
  const d = m.domain(op.domain);
  if (typeof d === 'string') return d;
  if (d.vcpus.length === 0) return withoutVcpus(d, 'msi');
  return msi(cpu, d, op.devid, op.eventid) ?? OK;
}
// ----- end ITS -----

/**
 * The trace error for an injection into a domain without vCPUs: only a device domain whose VMM
 * ran CTRL_INIT before creating any vCPU (KVM allows it) has one. Xen's delivery paths read
 * d->vcpu[0] (vgic_get_target_vcpu, irq_to_pending), which such a domain does not have: Xen
 * never builds a domain without vCPUs, so the model refuses the step (docs/trace-format.md §10.7).
 */
function withoutVcpus(d: Domain, what: string): string {
  return `domain ${d.id} has no vCPU (a device domain initialised before any vcpu_create), so ${what} has no vCPU to go to: Xen's delivery reads d->vcpu[0]`;
}

/** Does v hold anything PSCI CPU_ON would only partially wipe (Q37)? */
function hasLiveState(v: Vcpu): boolean {
  if (v.inflightIrqs.next !== v.inflightIrqs || v.lrPending.next !== v.lrPending) return true;
  if (!v.savedLrMask.isZero()) return true;
  if (v.saved.lrs.some((w) => w !== 0)) return true;
  // ENABLED alone is configuration, not state the wipe leaves behind. An SPI this vCPU
  // holds is on its lists or in its saved LRs, both checked above.
  return v.pendingIrqs.some((p) => (p.status & ~(1 << GIC_IRQ_GUEST_ENABLED)) !== 0);
}
