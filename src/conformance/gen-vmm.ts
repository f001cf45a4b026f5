/**
 * VMM bring-up for the random trace generator (docs/trace-format.md §10): which generated
 * configs get a device domain (`"vgic": "device"`), the batches of device-API calls a VMM
 * makes to bring its vGIC up, and where the guest then finds its distributor and
 * redistributors (guestLayout, which the generator's mmio builders take).
 *
 * The draws deciding whether a config has a device domain come from a stream of their own
 * (derived from the seed, after every draw of the config), so a trace whose config gets no
 * device domain is byte for byte what the generator made before device domains existed.
 * Batches are drawn only for machines that have a device domain.
 *
 * A bring-up goes as a VMM's does (KVM B.9), one batch at a time, each batch chosen from the
 * VM's state at its start: create the vCPUs (ids in random order), create the GIC device (V3,
 * falling back to V2 on a GICv2 host; sometimes a TEST create first, an unknown type, or a
 * second create), place the frames (Rust-VMM / Firecracker or QEMU-virt layouts, one or two
 * redistributor regions), set NR_IRQS and MAINT_IRQ, probe with HAS_ATTR / GET_ATTR, touch
 * the register groups, CTRL_INIT, and the first KVM_RUN of every vCPU. Around the right calls
 * come the mistakes VMMs make: misaligned frames, frames beyond the IPA, overlapping regions,
 * re-set addresses, legacy and counted regions mixed, wrong attributes, bad pointers, NR_IRQS
 * out of range, vCPUs after INIT, a KVM_RUN before INIT (rarely: a failed first run kills the
 * VM). Every refusal is a RESULT (an errno), never a trace error: the steps name only devices
 * and vCPUs that exist. Once every vCPU has run, the ordinary generator drives the domain.
 */
import { isDeviceDomain, type Config, type DeviceDomainConfig, type DomainConfig } from '../machine/config.js';
import { toHex } from '../machine/decode.js';
import type { Machine } from '../machine/machine.js';
import { vmOf } from '../machine/vmm.js';
import { LAYOUT } from '../testing/its-steps.js';
import { packedMpidr } from '../vmm/kvm-device.js';
import type { KvmDevice, KvmVm } from '../vmm/types.js';
import { DEVICE_TYPES, KVM_VGIC_V3_REDIST_SIZE } from '../vmm/types.js';
import type { Domain } from '../xen/types.js';
import { Rng } from './rng.js';

/** What the batches draw from: the generator's Rng (src/conformance/rng.ts). */
export type VmmRng = Rng;

type RawStep = Record<string, unknown>;

// ----- where the guest finds its GIC -----

/** The distributor and redistributor frames a guest's mmio targets. */
export interface GuestLayout {
  /** The distributor's base. */
  readonly gicd: number;
  /** vCPU n's redistributor frame (RD_base; SGI_base is 64 KiB above). */
  gicr(vcpu: number): number;
  /** The start of the redistributor space, for accesses at random offsets. */
  readonly gicrRegion: number;
}

/** Xen's fixed guest map (an ordinary domain). */
const XEN_GICD = 0x3001000;
const XEN_GICR0 = 0x3020000;
const XEN_LAYOUT: GuestLayout = { gicd: XEN_GICD, gicr: (vcpu) => XEN_GICR0 + vcpu * 0x20000, gicrRegion: XEN_GICR0 };

/**
 * Where domain `d`'s guest finds its GIC: Xen's fixed map for an ordinary domain, the frames the
 * VMM placed for a device domain (its distributor, each vCPU's redistributor slot).
 */
export function guestLayout(d: Domain): GuestLayout {
  const vm = vmOf(d);
  if (vm === null) return XEN_LAYOUT;
  const first = vm.rdRegions[0]?.base ?? null;
  return {
    gicd: Number(vm.distBase ?? 0n),
    gicr: (vcpu) => Number(vm.vcpuById(vcpu)?.rdBase ?? first ?? 0n),
    gicrRegion: Number(first ?? vm.distBase ?? 0n),
  };
}

// ----- configs -----

/** The ops a bring-up needs: without them (e.g. the other side of a diff lacks one) no config gets a device domain. */
export const VMM_OPS = ['vcpu_create', 'create_device', 'set_attr', 'get_attr', 'has_attr', 'kvm_run'] as const;

/** May traces drawn only from `ops` carry device domains? */
export function vmmAllowed(ops?: ReadonlySet<string>): boolean {
  return ops === undefined || VMM_OPS.every((op) => ops.has(op));
}

/** How often a domain of a generated config is a device domain (GenOptions.vmm). */
export const DEFAULT_VMM_PROBABILITY = 0.2;

/** Where a device domain's ITS frame goes (QEMU virt's, clear of every layout below). */
const VMM_ITS_BASE = 0x08080000n;

/**
 * Make some domains of `config` device domains (with probability `p` each; now and then a
 * small `ipa_bits`, and on GICv3 RAM where the ITS traffic expects it), and some GICv3
 * configs with one `v2_on_v3`; draws from a stream of their own. Returns the config unchanged
 * when nothing was drawn.
 */
export function addVmm(config: Config, seed: number, p: number): Config {
  if (p <= 0) return config;
  const rng = new Rng((seed ^ 0x6b766d5f) >>> 0); // a stream of its own, apart from the config draws
  let any = false;
  const domains: DomainConfig[] = config.domains.map((d) => {
    if (isDeviceDomain(d) || !rng.bool(p)) return d;
    any = true;
    const dd: DeviceDomainConfig = { id: d.id, vgic: 'device' };
    if (rng.bool(0.25)) dd.ipa_bits = rng.pick([32, 36, 44, 48]);
    if (d.pirqs !== undefined) dd.pirqs = d.pirqs;
    if (config.gic === 'v3' && rng.bool(0.35)) dd.ram = [{ base: toHex(LAYOUT.ramBase), size: toHex(LAYOUT.ramSize) }];
    return dd;
  });
  if (!any) return config;
  return { ...config, ...(config.gic === 'v3' && rng.bool(0.3) ? { v2_on_v3: true } : {}), domains };
}

// ----- the machine's device domains -----

/** The KVM VMs of `m`'s device domains. */
export function deviceVms(m: Machine): KvmVm[] {
  const out: KvmVm[] = [];
  for (const d of m.host.domains.values()) {
    const vm = vmOf(d);
    if (vm !== null) out.push(vm);
  }
  return out;
}

/** Can the bring-up go on? Not once the VM is dead, nor once a vCPU ran without any vGIC (no device can be created then). */
function stuck(vm: KvmVm): boolean {
  return vm.dead || (!vm.inKernel && vm.vcpus.some((v) => v.ran));
}

/** Does the VM still need its bring-up (a vCPU to create, INIT, or a first kvm_run)? */
export function needsBringUp(vm: KvmVm): boolean {
  return !stuck(vm) && (vm.vcpus.length === 0 || !vm.initialized || vm.vcpus.some((v) => !v.ran));
}

function gicDevice(m: Machine, vm: KvmVm): KvmDevice | undefined {
  return m.vmm.devices.find((x) => x.vm === vm && x.kind !== 'its');
}

function itsDevice(m: Machine, vm: KvmVm): KvmDevice | undefined {
  return m.vmm.devices.find((x) => x.vm === vm && x.kind === 'its');
}

// ----- steps -----

const hex = (v: number | bigint): string => toHex(typeof v === 'number' ? BigInt(v) : v);

function shuffle<T>(rng: VmmRng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** Steps on one device handle. */
class Calls {
  constructor(readonly handle: number) {}

  set(group: string | number, attr: bigint | number, value: bigint | number | null): RawStep {
    return { op: 'set_attr', device: this.handle, group, attr: hex(attr), value: value === null ? null : hex(value) };
  }

  get(group: string | number, attr: bigint | number, value: bigint | number | null = null): RawStep {
    return { op: 'get_attr', device: this.handle, group, attr: hex(attr), value: value === null ? null : hex(value) };
  }

  has(group: string | number, attr: bigint | number): RawStep {
    return { op: 'has_attr', device: this.handle, group, attr: hex(attr) };
  }
}

const ADDR_V2_DIST = 0n;
const ADDR_V2_CPU = 1n;
const ADDR_V3_DIST = 2n;
const ADDR_V3_REDIST = 3n;
const ADDR_ITS = 4n;
const ADDR_V3_REDIST_REGION = 5n;
const RDIST = KVM_VGIC_V3_REDIST_SIZE;

/** The REDIST_REGION payload: count << 52 | base | flags << 12 | index. */
function regionPayload(index: number, base: bigint, count: number, flags = 0): bigint {
  return (BigInt(count) << 52n) | base | (BigInt(flags) << 12n) | BigInt(index);
}

const CTRL_INIT = 0n;

/** vcpu_create batches: the missing ids in random order, sometimes a gap, a duplicate or an id beyond max_vcpus. */
function vcpuBatch(rng: VmmRng, vm: KvmVm): RawStep[] {
  const have = new Set(vm.vcpus.map((v) => v.id));
  const n = have.size === 0 ? rng.weighted([[3, 1], [3, 2], [2, 3], [2, 4]]) : Math.max(...have) + 1 + (rng.bool(0.3) ? 1 : 0);
  const ids = shuffle(rng, Array.from({ length: n }, (_, i) => i).filter((i) => !have.has(i)));
  if (ids.length === 0) ids.push(n);
  // A gap: ids not 0..n-1, which CTRL_INIT refuses until the VMM creates the missing one.
  if (ids.length > 1 && rng.bool(0.06)) ids.splice(ids.indexOf(Math.min(...ids)), 1);
  if (rng.bool(0.1)) ids.splice(rng.int(0, ids.length), 0, rng.pick([...have, ...ids])); // an id twice: EEXIST
  if (rng.bool(0.05)) ids.push(rng.pick([vm.maxVcpus, 512, 4096])); // at or above max_vcpus: EINVAL
  return ids.map((id) => ({ op: 'vcpu_create', domain: vm.id, vcpu: id }));
}

/** create_device: V3 (V2 on a GICv2 host, the fallback), now and then a TEST create, an unknown type, a second create. */
function createBatch(rng: VmmRng, m: Machine, vm: KvmVm): RawStep[] {
  const host = m.vmm.hostVersion;
  const v2ok = host === 'v2' || m.vmm.v2OnV3;
  const create = (type: 'v2' | 'v3' | 'its' | number, test = false): RawStep => ({
    op: 'create_device', domain: vm.id, type: typeof type === 'string' && rng.bool(0.2) ? DEVICE_TYPES[type] : type, test,
  });
  const out: RawStep[] = [];
  if (rng.bool(0.08)) out.push(create(rng.pick([0, 1, 6, 9, 99]), rng.bool(0.5))); // no such device type: ENODEV
  const model = host === 'v2' ? 'v2' : v2ok && rng.bool(0.3) ? 'v2' : 'v3';
  if (host === 'v2' && rng.bool(0.6)) out.push(create('v3', rng.bool(0.4))); // the VMM tries V3 first: ENODEV
  if (host === 'v2' && rng.bool(0.05)) out.push(create('its')); // no ITS on a GICv2 host: ENODEV
  if (rng.bool(0.3)) out.push(create(model, true)); // KVM_CREATE_DEVICE_TEST
  out.push(create(model));
  if (rng.bool(0.08)) out.push(create(v2ok && rng.bool(0.5) ? 'v2' : model)); // a second vGIC: EEXIST
  if (model === 'v3' && (vm.domain.ram !== null ? rng.bool(0.7) : rng.bool(0.08))) out.push(create('its'));
  return out;
}

/** The frames of a GICv3 VM: what is missing, in one of the usual layouts, with the usual mistakes around it. */
function v3AddressSteps(rng: VmmRng, vm: KvmVm, c: Calls): RawStep[] {
  const out: RawStep[] = [];
  const n = Math.max(1, vm.vcpus.length);
  const kind = rng.weighted([[4, 'rust'], [3, 'qemu'], [2, 'split'], [1, 'legacy-low']] as const);
  const dist = kind === 'rust' ? 0x3fff0000n : 0x08000000n;
  const distMissing = vm.distBase === null;
  if (distMissing) {
    if (rng.bool(0.06)) out.push(c.set('ADDR', ADDR_V3_DIST, dist + 0x1000n)); // not 64 KiB aligned: EINVAL
    if (rng.bool(0.05)) out.push(c.set('ADDR', ADDR_V3_DIST, vm.physSize)); // beyond the IPA: E2BIG
    if (rng.bool(0.04)) out.push(c.set('ADDR', ADDR_V3_DIST, null)); // bad pointer: EFAULT
    if (rng.bool(0.05)) out.push(c.set('ADDR', rng.pick([ADDR_V2_DIST, ADDR_V2_CPU, 6n, 7n]), dist)); // the other model's or no attribute: ENXIO
  }
  const regionsFirst = rng.bool(0.2);
  const distStep = distMissing && rng.bool(0.92) ? [c.set('ADDR', ADDR_V3_DIST, dist)] : [];
  if (!regionsFirst) out.push(...distStep);
  const last = vm.rdRegions[vm.rdRegions.length - 1];
  if (last === undefined) {
    if (kind === 'rust') {
      // The classic off-by-one: the legacy region one frame too high, over the distributor (EINVAL).
      if (rng.bool(0.08)) out.push(c.set('ADDR', ADDR_V3_REDIST, dist - BigInt(n - 1) * RDIST));
      out.push(c.set('ADDR', ADDR_V3_REDIST, dist - BigInt(n) * RDIST));
    } else if (kind === 'legacy-low') {
      out.push(c.set('ADDR', ADDR_V3_REDIST, 0x080a0000n));
    } else if (kind === 'qemu') {
      out.push(c.set('ADDR', ADDR_V3_REDIST_REGION, regionPayload(0, 0x080a0000n, n + rng.weighted([[4, 0], [2, 1], [1, 3]]))));
    } else {
      const k = rng.int(1, Math.max(1, n - 1));
      out.push(c.set('ADDR', ADDR_V3_REDIST_REGION, regionPayload(0, 0x080a0000n, k)));
      // The second region right after the first (Last: KVM B.6) or elsewhere.
      const second = rng.bool(0.6) ? 0x080a0000n + BigInt(k) * RDIST : 0x0a000000n;
      if (rng.bool(0.06)) out.push(c.set('ADDR', ADDR_V3_REDIST_REGION, regionPayload(2, second, 1))); // index not next: EINVAL
      out.push(c.set('ADDR', ADDR_V3_REDIST_REGION, regionPayload(1, second, Math.max(1, n - k) + rng.int(0, 1))));
    }
  } else if (vm.vcpus.some((v) => v.rdBase === null)) {
    // vCPUs without a redistributor (the counted regions are full): one more region after the others.
    const end = vm.rdRegions.reduce((e, r) => {
      const top = r.base + BigInt(r.count !== 0 ? r.count : vm.onlineVcpus) * RDIST;
      return top > e ? top : e;
    }, 0n);
    const base = (end + 0xffffn) & ~0xffffn;
    out.push(c.set('ADDR', ADDR_V3_REDIST_REGION, regionPayload(last.index + 1, base === dist ? base + 0x10000n : base, vm.vcpus.length)));
  }
  if (regionsFirst) out.push(...distStep);
  // The mistakes after the fact, now and then.
  if (rng.bool(0.08)) out.push(c.set('ADDR', ADDR_V3_DIST, dist)); // set again: EEXIST
  if (rng.bool(0.1)) out.push(c.set('ADDR', ADDR_V3_REDIST, 0x0c000000n)); // legacy after a region, or twice: EINVAL / EEXIST
  if (rng.bool(0.06)) out.push(c.set('ADDR', ADDR_V3_REDIST_REGION, regionPayload(rng.int(0, 2), 0x080a0000n, 1))); // over a region, or mixed
  if (rng.bool(0.04)) out.push(c.set('ADDR', ADDR_V3_REDIST_REGION, regionPayload(vm.rdRegions.length, 0x0e000000n, rng.bool() ? 0 : 1, rng.bool() ? 1 : 0)));
  if (rng.bool(0.15)) out.push(c.get('ADDR', rng.pick([ADDR_V3_DIST, ADDR_V3_REDIST, ADDR_V2_DIST])));
  if (rng.bool(0.1)) out.push(c.get('ADDR', ADDR_V3_REDIST_REGION, rng.bool(0.1) ? null : rng.int(0, 2)));
  return out;
}

/** The frames of a GICv2 VM: distributor and CPU interface, in the Rust-VMM or QEMU layout. */
function v2AddressSteps(rng: VmmRng, vm: KvmVm, c: Calls): RawStep[] {
  const out: RawStep[] = [];
  const rust = rng.bool(0.6);
  const dist = rust ? 0x3fff0000n : 0x08000000n;
  const cpu = rust ? dist - 0x20000n : 0x08010000n;
  if (vm.distBase === null) {
    if (rng.bool(0.06)) out.push(c.set('ADDR', ADDR_V2_DIST, dist + 0x800n)); // not 4 KiB aligned: EINVAL
    if (rng.bool(0.05)) out.push(c.set('ADDR', ADDR_V2_DIST, vm.physSize - 0x800n)); // beyond the IPA: E2BIG
    if (rng.bool(0.04)) out.push(c.set('ADDR', ADDR_V2_CPU, null)); // bad pointer: EFAULT
    if (rng.bool(0.05)) out.push(c.set('ADDR', rng.pick([ADDR_V3_DIST, ADDR_V3_REDIST, ADDR_V3_REDIST_REGION, 9n]), dist)); // ENXIO
    if (rng.bool(0.94)) out.push(c.set('ADDR', ADDR_V2_DIST, dist));
  }
  if (vm.cpuBase === null) {
    // Now and then the CPU interface over the distributor: accepted here, refused at the first run (which kills the VM).
    out.push(c.set('ADDR', ADDR_V2_CPU, rng.bool(0.02) ? dist + 0x1000n : cpu));
  }
  if (rng.bool(0.08)) out.push(c.set('ADDR', rng.pick([ADDR_V2_DIST, ADDR_V2_CPU]), cpu)); // set again: EEXIST
  if (rng.bool(0.15)) out.push(c.get('ADDR', rng.pick([ADDR_V2_DIST, ADDR_V2_CPU, ADDR_V3_DIST])));
  return out;
}

function addressSteps(rng: VmmRng, vm: KvmVm, c: Calls): RawStep[] {
  return vm.model === 'v3' ? v3AddressSteps(rng, vm, c) : v2AddressSteps(rng, vm, c);
}

/** NR_IRQS: mostly a good count, sometimes one KVM refuses first (or twice: EBUSY). */
function nrIrqsSteps(rng: VmmRng, c: Calls): RawStep[] {
  const out: RawStep[] = [];
  if (rng.bool(0.25)) out.push(c.set('NR_IRQS', 0, rng.pick([0, 32, 48, 100, 1024, 1056, 2000, 0xffffffff]))); // EINVAL
  if (rng.bool(0.03)) out.push(c.set('NR_IRQS', 0, null)); // EFAULT
  out.push(c.set('NR_IRQS', 0, rng.weighted([[4, 64], [4, 128], [2, 256], [2, 32 * rng.int(2, 31)], [1, 992]])));
  if (rng.bool(0.1)) out.push(c.set('NR_IRQS', 0, 128)); // set again: EBUSY
  if (rng.bool(0.2)) out.push(c.get('NR_IRQS', 0));
  return out;
}

// KVM's CPU_SYSREGS encodings (Op0 15:14, Op1 13:11, CRn 10:7, CRm 6:3, Op2 2:0).
const sysreg = (op0: number, op1: number, crn: number, crm: number, op2: number): number => (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
const SYSREGS = [
  sysreg(3, 0, 4, 6, 0), sysreg(3, 0, 12, 12, 3), sysreg(3, 0, 12, 12, 4), sysreg(3, 0, 12, 12, 5), sysreg(3, 0, 12, 12, 7),
  sysreg(3, 0, 12, 9, 0), sysreg(3, 0, 12, 8, 3), 0x1234,
];

/** A vCPU's attribute field: an existing vCPU's MPIDR (v3) or index (v2), sometimes one that does not exist (EINVAL). */
function vcpuField(rng: VmmRng, vm: KvmVm): bigint {
  const v3 = vm.model === 'v3';
  if (vm.vcpus.length === 0 || rng.bool(0.05)) return BigInt(v3 ? rng.pick([0x100, 0xff, 9]) : rng.pick([8, 200])) << 32n;
  const k = rng.int(0, vm.vcpus.length - 1);
  return (v3 ? packedMpidr(vm.vcpus[k]!.id) : BigInt(k)) << 32n;
}

/** One register-group access (a VMM saving or restoring state, or probing), reads mostly. */
function registerStep(rng: VmmRng, vm: KvmVm, c: Calls): RawStep {
  const write = rng.bool(0.3);
  const u32 = (): bigint => BigInt(rng.pick([0, 1, 0xffffffff, 0xa0a0a0a0, rng.next()]));
  const access = (group: string, attr: bigint, value: bigint): RawStep => (write ? c.set(group, attr, rng.bool(0.04) ? null : value) : c.get(group, attr));
  if (vm.model === 'v3') {
    const who = vcpuField(rng, vm);
    switch (rng.weighted([[4, 'dist'], [4, 'redist'], [2, 'sysreg'], [1, 'level']] as const)) {
      case 'dist': return access('DIST_REGS', BigInt(rng.pick([0x0, 0x4, 0x8, 0xc, 0x100, 0x104, 0x200, 0x300, 0x400, 0x420, 0xc08, 0x6100, 0xffe8, 0x3, 0x10000])), u32());
      case 'redist': return access('REDIST_REGS', who | BigInt(rng.pick([0x0, 0x8, 0xc, 0x14, 0x10100, 0x10200, 0x10400, 0x10c04, 0x2, 0x30000])), u32());
      case 'sysreg': return access('CPU_SYSREGS', who | BigInt(rng.pick(SYSREGS)), BigInt(rng.pick([0, 1, 7, 0xf0, 0xff])));
      default: return access('LEVEL_INFO', who | BigInt(rng.weighted([[6, rng.pick([0, 32, 64])], [1, 33], [1, 1 << 10]])), u32());
    }
  }
  const who = vcpuField(rng, vm);
  if (rng.bool(0.6)) return access('DIST_REGS', who | BigInt(rng.pick([0x0, 0x4, 0x8, 0x100, 0x104, 0x200, 0x400, 0x420, 0x800, 0x820, 0xc04, 0xf00, 0x2])), u32());
  return access('CPU_REGS', who | BigInt(rng.pick([0x0, 0x4, 0x8, 0xc, 0x1c, 0xd0, 0xfc, 0x6])), u32());
}

/** HAS_ATTR and GET_ATTR probes, as VMMs make before relying on an attribute. */
function probeStep(rng: VmmRng, vm: KvmVm, c: Calls): RawStep {
  const [group, attr] = rng.pick([
    ['ADDR', rng.int(0, 6)], ['NR_IRQS', 0], ['CTRL', 0], ['CTRL', 3], ['CTRL', 1], ['MAINT_IRQ', 0], [10, 0], [12, 3],
    ['DIST_REGS', vcpuField(rng, vm) | BigInt(rng.pick([0x0, 0x8, 0x100, 0x2, 0x7ffc]))],
    ['REDIST_REGS', vcpuField(rng, vm) | BigInt(rng.pick([0x8, 0x10100, 0x14]))],
    ['CPU_SYSREGS', vcpuField(rng, vm) | BigInt(rng.pick(SYSREGS))],
    ['CPU_REGS', vcpuField(rng, vm) | BigInt(rng.pick([0x0, 0x4, 0xfc, 0x1000]))],
    ['LEVEL_INFO', vcpuField(rng, vm) | BigInt(rng.pick([0, 32, 1 << 10]))],
  ] as const);
  if (rng.bool(0.7) || group === 'CTRL' || typeof group === 'number') return c.has(group, attr);
  return group === 'NR_IRQS' || group === 'MAINT_IRQ' ? c.get(group, attr) : c.has(group, attr);
}

/** The ITS device's frame (KVM B.8), with a mistake now and then. */
function itsAddressSteps(rng: VmmRng, vm: KvmVm, its: KvmDevice): RawStep[] {
  const c = new Calls(its.handle);
  const out: RawStep[] = [];
  if (rng.bool(0.06)) out.push(c.set('ADDR', ADDR_ITS, VMM_ITS_BASE + 0x1000n)); // EINVAL
  if (rng.bool(0.04)) out.push(c.set('ADDR', ADDR_ITS, vm.physSize)); // E2BIG
  if (rng.bool(0.04)) out.push(c.set('ADDR', rng.pick([0n, ADDR_V3_DIST]), VMM_ITS_BASE)); // ENODEV
  out.push(c.set('ADDR', ADDR_ITS, VMM_ITS_BASE));
  if (rng.bool(0.1)) out.push(c.get('ADDR', ADDR_ITS));
  return out;
}

/** Before CTRL_INIT: frames, NR_IRQS, MAINT_IRQ, probes, register accesses (EBUSY, or v2's lazy init), then INIT. */
function configureBatch(rng: VmmRng, m: Machine, vm: KvmVm, dev: KvmDevice): RawStep[] {
  const c = new Calls(dev.handle);
  const out: RawStep[] = [];
  if (rng.bool(0.25)) out.push(probeStep(rng, vm, c));
  out.push(...addressSteps(rng, vm, c));
  if (vm.nrSpis === 0 && rng.bool(0.8)) out.push(...nrIrqsSteps(rng, c));
  if (vm.model === 'v3' && rng.bool(0.2)) out.push(c.set('MAINT_IRQ', 0, rng.weighted([[6, 25], [1, 15], [1, 32], [1, rng.int(16, 31)]])));
  const its = itsDevice(m, vm);
  if (its !== undefined && its.its!.base === null && rng.bool(0.6)) out.push(...itsAddressSteps(rng, vm, its));
  if (rng.bool(0.1)) out.push(registerStep(rng, vm, c));
  // Wrong order, rarely: a first KVM_RUN before INIT (a v3 VM dies of it; v2 initialises lazily).
  if (rng.bool(0.03) && vm.vcpus.length > 0) out.push({ op: 'kvm_run', domain: vm.id, vcpu: rng.pick(vm.vcpus).id });
  if (rng.bool(0.75)) {
    out.push(c.set('CTRL', CTRL_INIT, null));
    if (rng.bool(0.1)) out.push(c.set('CTRL', CTRL_INIT, null)); // INIT again: idempotent
  }
  return out;
}

/** After CTRL_INIT: what is still missing, some late calls (refused now), then the first KVM_RUN of the vCPUs. */
function runBatch(rng: VmmRng, m: Machine, vm: KvmVm, dev: KvmDevice): RawStep[] {
  const c = new Calls(dev.handle);
  const out: RawStep[] = [];
  const framesMissing = vm.distBase === null || (vm.model === 'v2' ? vm.cpuBase === null : vm.vcpus.some((v) => v.rdBase === null));
  if (framesMissing && rng.bool(0.9)) out.push(...addressSteps(rng, vm, c));
  const its = itsDevice(m, vm);
  if (its !== undefined && its.its!.base === null && rng.bool(0.7)) out.push(...itsAddressSteps(rng, vm, its));
  if (rng.bool(0.08)) out.push({ op: 'vcpu_create', domain: vm.id, vcpu: vm.vcpus.length }); // after INIT: EBUSY
  if (rng.bool(0.08)) out.push(c.set('CTRL', CTRL_INIT, null)); // INIT again: ok
  if (rng.bool(0.06)) out.push(c.set('NR_IRQS', 0, 256)); // EBUSY
  if (vm.model === 'v3' && rng.bool(0.06)) out.push(c.set('MAINT_IRQ', 0, 25)); // after INIT: EBUSY
  for (let i = rng.weighted([[5, 0], [2, 1], [1, 3]]); i > 0; i--) out.push(registerStep(rng, vm, c));
  // A VMM reading every redistributor's GICR_TYPER (QEMU does, for PLPIS and Last).
  if (vm.model === 'v3' && rng.bool(0.25)) for (const v of vm.vcpus) out.push(c.get('REDIST_REGS', (packedMpidr(v.id) << 32n) | 0x8n));
  const waiting = shuffle(rng, vm.vcpus.filter((v) => !v.ran).map((v) => v.id));
  const now = rng.bool(0.8) ? waiting : waiting.slice(0, rng.int(1, Math.max(1, waiting.length)));
  for (const id of now) out.push({ op: 'kvm_run', domain: vm.id, vcpu: id });
  if (rng.bool(0.05) && vm.vcpus.length > 0) out.push({ op: 'kvm_run', domain: vm.id, vcpu: rng.pick(vm.vcpus).id }); // again: ok
  return out;
}

/** One bring-up batch for `vm`, from its state. */
function bringUpBatch(rng: VmmRng, m: Machine, vm: KvmVm): RawStep[] {
  if (!vm.inKernel) {
    if (vm.vcpus.length === 0 && rng.bool(0.7)) return vcpuBatch(rng, vm);
    return createBatch(rng, m, vm);
  }
  const dev = gicDevice(m, vm)!;
  const ids = vm.vcpus.map((v) => v.id);
  const dense = ids.every((id) => id < ids.length);
  if (!vm.initialized && (vm.vcpus.length === 0 || !dense || rng.bool(0.08))) return vcpuBatch(rng, vm);
  if (!vm.initialized) return configureBatch(rng, m, vm, dev);
  return runBatch(rng, m, vm, dev);
}

/**
 * The guest's walk over its redistributors (as Linux's GICv3 driver does at boot): GICR_TYPER of
 * each frame in address order, from a pCPU in hyp mode running one of its vCPUs; null if none does.
 */
function rdistWalk(m: Machine, vm: KvmVm): RawStep[] | null {
  const cpu = m.host.pcpus.find((p) => p.mode === 'hyp' && p.current !== null && p.current.domain === vm.domain);
  if (cpu === undefined || vm.model !== 'v3') return null;
  const frames = vm.vcpus.map((v) => v.rdBase).filter((b) => b !== null).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return frames.map((b) => ({ op: 'mmio', pcpu: cpu.id, access: 'read', addr: hex(b + 0x8n), size: 8 }));
}

/** Once the VM runs (or is dead): a late call now and then (EBUSY while a vCPU is loaded, EIO when dead), or the guest's redistributor walk. */
function lateBatch(rng: VmmRng, m: Machine, vm: KvmVm): RawStep[] {
  const dev = gicDevice(m, vm);
  const its = itsDevice(m, vm);
  const someVcpu = vm.vcpus.length > 0 ? rng.pick(vm.vcpus).id : 0;
  const walk = vm.dead ? null : rdistWalk(m, vm);
  const action = rng.weighted([
    [walk !== null ? 6 : 0, 'walk'],
    [dev !== undefined ? 6 : 0, 'registers'], [dev !== undefined ? 2 : 0, 'probe'], [vm.vcpus.length > 0 ? 1 : 0, 'kvm_run'], [1, 'vcpu_create'],
    [its !== undefined ? 1 : 0, 'its_ctrl'], [dev !== undefined && vm.model === 'v3' ? 0.5 : 0, 'save_pending'],
  ] as const);
  switch (action) {
    case 'walk': return walk!;
    case 'registers': return Array.from({ length: rng.int(1, 3) }, () => registerStep(rng, vm, new Calls(dev!.handle)));
    case 'probe': return [probeStep(rng, vm, new Calls(dev!.handle))];
    case 'kvm_run': return [{ op: 'kvm_run', domain: vm.id, vcpu: someVcpu }];
    case 'vcpu_create': return [{ op: 'vcpu_create', domain: vm.id, vcpu: vm.vcpus.length }];
    case 'its_ctrl': return [new Calls(its!.handle).set('CTRL', rng.weighted([[3, 0], [1, 1], [1, 2], [1, 4], [0.5, 7]]), null)];
    default: return [new Calls(dev!.handle).set('CTRL', 3, null)];
  }
}

/** Has `m` a device domain? */
export function hasDeviceDomain(m: Machine): boolean {
  for (const d of m.host.domains.values()) if (d.vmm !== null) return true;
  return false;
}

/** The share of candidates that are VMM batches while a device domain is being brought up, and after. */
export const VMM_BRINGUP_SHARE = 0.6;
export const VMM_LATE_SHARE = 0.03;

/**
 * One batch of device-API calls for `m` (which has a device domain): the next part of a
 * bring-up that is not finished, or else a late call. Draws its share first; null when the
 * draw says no VMM batch this time.
 */
export function vmmBatch(rng: VmmRng, m: Machine): RawStep[] | null {
  const vms = deviceVms(m);
  if (vms.length === 0) return null;
  const pending = vms.filter(needsBringUp);
  if (!rng.bool(pending.length > 0 ? VMM_BRINGUP_SHARE : VMM_LATE_SHARE)) return null;
  return pending.length > 0 ? bringUpBatch(rng, m, rng.pick(pending)) : lateBatch(rng, m, rng.pick(vms));
}

/** One VMM batch for `m` regardless of the share (the model-based commands): null without a device domain. */
export function vmmBatchNow(rng: VmmRng, m: Machine): RawStep[] | null {
  const vms = deviceVms(m);
  if (vms.length === 0) return null;
  const pending = vms.filter(needsBringUp);
  return pending.length > 0 ? bringUpBatch(rng, m, rng.pick(pending)) : lateBatch(rng, m, rng.pick(vms));
}
