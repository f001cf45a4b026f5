/**
 * The machine side of the VMM front door (docs/trace-format.md §10): the device domains of a
 * config, the ops `vcpu_create`, `create_device`, `set_attr`, `get_attr`, `has_attr` and
 * `kvm_run` (host-side ioctls: no pCPU), guest `mmio` at the addresses the VMM chose, and the
 * preconditions the Xen ops gain on such a domain. Kept apart from machine.ts, which calls in here.
 */
import type { Config, DeviceDomainConfig } from './config.js';
import { DEFAULT_IPA_BITS, DEFAULT_LPI_BITS } from './config.js';
import { toHex } from './decode.js';
import type { OpOf } from './ops.js';
import { GuestRam } from '../xen/guestcopy.js';
import { Domain, type Host, type Pcpu, type Vcpu } from '../xen/types.js';
import { GICV2_GICD_SIZE, vgicV2DistrMmio } from '../xen/vgic-v2.js';
import { GICV3_GICD_SIZE, vgicV3DistrMmio, vgicV3RdistrFrameMmio } from '../xen/vgic-v3.js';
import type { MmioOutcome } from '../xen/vreg.js';
import { deviceAttr, findRow, type Call } from '../vmm/kvm-device.js';
import { vgicItsCreate } from '../vmm/its-device.js';
import { rdistFrameAt } from '../vmm/rdist.js';
import {
  DEVICE_TYPES, KvmVm, KVM_DEV_TYPE_ARM_VGIC_ITS, KVM_DEV_TYPE_ARM_VGIC_V2, KVM_DEV_TYPE_ARM_VGIC_V3, groupText,
  type DeviceKind, type Errno, type KvmDevice,
} from '../vmm/types.js';
import { kvmVgicCreate, kvmVgicMapResources, kvmVmIoctlCreateVcpu } from '../vmm/vgic-init.js';
import { itsMmio } from './its.js';

/** What a handler answers (machine.ts's Check<Result>): a RESULT, or a string for a trace error. */
export interface VmmResult {
  outcome: 'ok' | 'error' | 'abort';
  errno?: string;
  value?: string;
  device?: number;
}
type Check<A> = A | string;

const OK: VmmResult = Object.freeze({ outcome: 'ok' as const });
const error = (errno: Errno): VmmResult => ({ outcome: 'error', errno });

/** The VMM state of a machine: every device created, numbered from 0 across domains. */
export class VmmHost {
  readonly devices: KvmDevice[] = [];
  /** The handles of devices whose domain was destroyed (trace-format §3.6), with that domain's id: they name nothing now. */
  readonly destroyed = new Map<number, number>();

  constructor(readonly hostVersion: 'v2' | 'v3', readonly v2OnV3: boolean) {}
}

/** A device domain of the config: a placeholder Xen domain without vGIC, linked to its KVM VM. */
export function createDeviceDomain(host: Host, dc: DeviceDomainConfig, config: Config): Domain {
  const d = new Domain(dc.id, host.version, 0, host);
  if (dc.ram !== undefined) d.ram = new GuestRam(dc.ram.map((r) => ({ base: Number(BigInt(r.base)), size: Number(BigInt(r.size)) })));
  d.vmm = new KvmVm(dc.id, dc.ipa_bits ?? DEFAULT_IPA_BITS, host.version, config.pcpus, config.lpi_bits ?? DEFAULT_LPI_BITS, d);
  return d;
}

/** The KVM VM of domain `id`, or a trace error: no such domain, or not a device domain. */
function deviceVm(host: Host, id: number, op: string): Check<KvmVm> {
  const d = host.domains.get(id);
  if (d === undefined) return `domain ${id} does not exist`;
  if (!(d.vmm instanceof KvmVm)) return `domain ${id} is not a device domain ("vgic": "device"), so ${op} does not apply to it`;
  return d.vmm;
}

/** The KVM VM behind a Xen domain, or null for an ordinary domain. */
export function vmOf(d: Domain): KvmVm | null {
  return d.vmm instanceof KvmVm ? d.vmm : null;
}

/** vcpu_create: KVM_CREATE_VCPU and KVM_ARM_VCPU_INIT (KVM B.2, B.6). */
export function opVcpuCreate(host: Host, op: OpOf<'vcpu_create'>): Check<VmmResult> {
  const vm = deviceVm(host, op.domain, 'vcpu_create');
  if (typeof vm === 'string') return vm;
  if (vm.dead) return error('EIO');
  const r = kvmVmIoctlCreateVcpu(vm, op.vcpu);
  return r === 0 ? OK : error(r);
}

/** The device kind a host registers for KVM type number `type`, or null (ENODEV, KVM B.0). */
export function supportedKind(vmm: VmmHost, type: number): DeviceKind | null {
  if (type === KVM_DEV_TYPE_ARM_VGIC_V2) return vmm.hostVersion === 'v2' || vmm.v2OnV3 ? 'v2' : null;
  if (vmm.hostVersion === 'v2') return null;
  if (type === KVM_DEV_TYPE_ARM_VGIC_V3) return 'v3';
  if (type === KVM_DEV_TYPE_ARM_VGIC_ITS) return 'its';
  return null;
}

/** create_device: KVM_CREATE_DEVICE (KVM B.0, B.3, B.8). */
export function opCreateDevice(host: Host, vmm: VmmHost, op: OpOf<'create_device'>): Check<VmmResult> {
  const vm = deviceVm(host, op.domain, 'create_device');
  if (typeof vm === 'string') return vm;
  if (vm.dead) return error('EIO');
  const kind = supportedKind(vmm, op.type);
  if (kind === null) return error('ENODEV');
  if (op.test) return OK;
  const r = kind === 'its' ? vgicItsCreate(vm) : kvmVgicCreate(vm, kind);
  if (r !== 0) return error(r);
  const dev: KvmDevice = { handle: vmm.devices.length, kind, vm, its: kind === 'its' ? { base: null, xen: null } : null };
  vmm.devices.push(dev);
  if (kind === 'its') vm.itsDevices.push(dev);
  return { outcome: 'ok', device: dev.handle };
}

/** set_attr / get_attr / has_attr: KVM_{SET,GET,HAS}_DEVICE_ATTR on a device handle (KVM B.4, B.5, B.8). */
export function opDeviceAttr(vmm: VmmHost, op: OpOf<'set_attr'> | OpOf<'get_attr'> | OpOf<'has_attr'>): Check<VmmResult> {
  const dev = vmm.devices[op.device];
  if (dev === undefined) return `device ${op.device} does not exist (create_device gave ${vmm.devices.length} handle${vmm.devices.length === 1 ? '' : 's'})`;
  const gone = vmm.destroyed.size === 0 ? undefined : vmm.destroyed.get(op.device);
  if (gone !== undefined) return `device ${op.device} belonged to domain ${gone}, which was destroyed (domain_destroy)`;
  const call: Call = op.op === 'set_attr' ? 'set' : op.op === 'get_attr' ? 'get' : 'has';
  const value = op.op === 'has_attr' ? null : op.value;
  const row = findRow(dev.kind, op.group, call, op.attr);
  const what = `${groupText(op.group)} attr ${toHex(op.attr)}`;
  if (row !== null && value !== null) {
    if (call === 'get' && row.payload === 'none') return `value: get_attr of ${what} reads no payload, so value must be null`;
    if (row.payload === 'u32' && value > 0xffffffffn) return `value ${toHex(value)} does not fit in the 32-bit payload of ${what}`;
  }
  if (dev.vm.dead) return error('EIO');
  const a = deviceAttr({ vm: dev.vm, dev, call, group: op.group, attr: op.attr, value });
  if ('errno' in a) return error(a.errno);
  return call === 'get' ? { outcome: 'ok', value: toHex(a.value ?? 0n) } : OK;
}

/** kvm_run: a vCPU's first KVM_RUN, kvm_vgic_map_resources (KVM B.7); a failure kills the VM. */
export function opKvmRun(host: Host, op: OpOf<'kvm_run'>): Check<VmmResult> {
  const vm = deviceVm(host, op.domain, 'kvm_run');
  if (typeof vm === 'string') return vm;
  if (vm.dead) return error('EIO');
  const v = vm.vcpuById(op.vcpu);
  if (v === undefined) return `d${op.domain} has no vCPU ${op.vcpu}: vcpu_create it first`;
  const r = kvmVgicMapResources(vm);
  if (r !== 0) return error(r);
  v.ran = true;
  return OK;
}

/**
 * Why `run` (trace-format §3.1) cannot take vCPU `vcpu` of device domain `d`, or null when it
 * can: the VM is dead, or the vCPU has had no successful kvm_run (so no Xen vCPU exists yet, or
 * the VMM has not started it).
 */
export function vmmRunBlocked(d: Domain, vcpu: number): string | null {
  const vm = vmOf(d);
  if (vm === null) return null;
  if (vm.dead) return `domain ${d.id} is dead (a kvm_run failed): no vCPU of it runs again`;
  const v = vm.vcpuById(vcpu);
  if (v === undefined) return `d${d.id}v${vcpu} does not exist: vcpu_create it, then create_device, set_attr CTRL INIT and kvm_run`;
  if (!v.ran) {
    const missing = !vm.inKernel ? 'create_device, set_attr CTRL INIT, ' : !vm.initialized && vm.model === 'v3' ? 'set_attr CTRL INIT, ' : '';
    return `d${d.id}v${vcpu} has not run: kvm_run it first${missing === '' ? '' : ` (after ${missing.slice(0, -2)})`}`;
  }
  if (!vm.inKernel) return `d${d.id} has no vGIC (no create_device): the model cannot run its vCPUs`;
  return null;
}

/** A hint for a trace error on a device domain whose Xen vGIC is not built yet. */
export function vmmNotBuilt(d: Domain): string {
  const vm = vmOf(d);
  if (vm === null || vm.initialized) return '';
  return ` (domain ${d.id} is a device domain whose vGIC is built at set_attr CTRL INIT, not yet called)`;
}

/**
 * Guest `mmio` on a device domain (trace-format §10): the distributor at the VMM's base (4 KiB
 * v2, 64 KiB v3), each vCPU's 128 KiB redistributor frame at its KVM slot (an address inside a
 * region but in no vCPU's frame aborts, Xen's rule for a frame without owner, Q32), the ITS
 * control frame. Anything else is a trace error, as for an ordinary domain.
 */
export function vmmMmio(cpu: Pcpu, vm: KvmVm, addr: bigint, size: 1 | 2 | 4 | 8, write: boolean, value: bigint): MmioOutcome | string {
  const v3 = vm.model === 'v3';
  const its = v3 ? itsMmio(cpu, addr, size, write, value) : null;
  if (its !== null) return its;
  const dist = vm.distBase;
  const distSize = BigInt(v3 ? GICV3_GICD_SIZE : GICV2_GICD_SIZE);
  if (dist !== null && addr >= dist && addr < dist + distSize) {
    const off = Number(addr - dist);
    return v3 ? vgicV3DistrMmio(cpu, off, size, write, value) : vgicV2DistrMmio(cpu, off, size, write, value);
  }
  if (v3) {
    const at = rdistFrameAt(vm, addr);
    if (at === 'unowned') return { outcome: 'abort' };
    if (at !== null) {
      const owner: Vcpu = vm.domain.vcpus[at.vcpu.id]!;
      return vgicV3RdistrFrameMmio(cpu, owner, at.off, size, write, value);
    }
  }
  const frames = [
    dist === null ? null : `the GICD frame ${toHex(dist)}..${toHex(dist + distSize - 1n)}`,
    v3 && vm.rdRegions.length > 0 ? 'a redistributor region' : null,
    ...vm.itsDevices.map((x) => (x.its!.base === null ? null : `the ITS frame ${toHex(x.its!.base)}..${toHex(x.its!.base + 0xffffn)}`)),
  ].filter((x) => x !== null);
  return `addr ${toHex(addr)} is outside ${frames.length === 0 ? 'every frame (the VMM placed none)' : frames.join(', ')} of device domain ${vm.id}`;
}

/** `DEVICE_TYPES` by number, for messages. */
export function deviceTypeText(type: number): string {
  const name = (Object.keys(DEVICE_TYPES) as DeviceKind[]).find((k) => DEVICE_TYPES[k] === type);
  return name ?? String(type);
}
