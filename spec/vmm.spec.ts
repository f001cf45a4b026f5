/**
 * The VMM front door (docs/trace-format.md §10): KVM's device-control API in front of the Xen
 * vGIC. Each test names the KVM item (B.n) it checks: device types and create (B.0, B.3, B.8),
 * every attribute group (B.4, B.5, B.8), the phase rules (B.2), redistributor slots and the Last
 * bit (B.6), the first run (B.7), and what the machine around it does (config, ops, run, mmio,
 * snapshot). The C.1 selftest scenarios themselves are fixtures (fixtures/vmm/).
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { Machine, type Result } from '../src/machine/machine.js';
import { decodeConfig } from '../src/machine/config.js';
import { decodeOp } from '../src/machine/ops.js';
import { ROWS, findRow } from '../src/vmm/kvm-device.js';
import { GROUPS, KvmVm } from '../src/vmm/types.js';

const MAXPA = 1n << 40n;
const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

function machine(gic: 'v2' | 'v3', extra: Record<string, unknown> = {}, domains: unknown[] = [{ id: 1, vgic: 'device' }]): Machine {
  const m = Machine.fromJson({ gic, nr_lrs: 4, pcpus: 2, domains, ...extra });
  if (E.isLeft(m)) throw new Error(m.left.join('; '));
  return m.right;
}

/** Apply steps in order; every one must not be a trace error. The last step's result. */
function apply(m: Machine, ...steps: Record<string, unknown>[]): Result {
  let last: Result | undefined;
  steps.forEach((s) => {
    const r = m.step(s, 0);
    if (E.isLeft(r)) throw new Error(`${JSON.stringify(s)}: ${r.left}`);
    last = r.right;
  });
  return last!;
}

/** The trace error a step gives (it must give one). */
function traceError(m: Machine, step: Record<string, unknown>): string {
  const r = m.step(step, 7);
  if (E.isRight(r)) throw new Error(`expected a trace error, got ${JSON.stringify(r.right)}`);
  return r.left;
}

const vcpu = (id: number, domain = 1): Record<string, unknown> => ({ op: 'vcpu_create', domain, vcpu: id });
const create = (type: string | number, domain = 1, test = false): Record<string, unknown> => ({ op: 'create_device', domain, type, test });
const set = (group: string | number, attr: bigint | number, value: bigint | number | null, device = 0): Record<string, unknown> =>
  ({ op: 'set_attr', device, group, attr: hex(attr), value: value === null ? null : hex(value) });
const get = (group: string | number, attr: bigint | number, value: bigint | number | null = null, device = 0): Record<string, unknown> =>
  ({ op: 'get_attr', device, group, attr: hex(attr), value: value === null ? null : hex(value) });
const has = (group: string | number, attr: bigint | number, device = 0): Record<string, unknown> => ({ op: 'has_attr', device, group, attr: hex(attr) });
const kvmRun = (id: number, domain = 1): Record<string, unknown> => ({ op: 'kvm_run', domain, vcpu: id });
const R = (count: number, base: bigint, flags: number, index: number): bigint =>
  (BigInt(count) << 52n) | (base & 0xfffffffff0000n) | (BigInt(flags) << 12n) | BigInt(index);
const ERR = (errno: string): Result => ({ outcome: 'error', errno });
const OK: Result = { outcome: 'ok' };

function vm(m: Machine, id = 1): KvmVm {
  return m.host.domains.get(id)!.vmm as KvmVm;
}

/** A v3 VM with `n` vCPUs and a V3 device (handle 0). */
function v3With(n: number): Machine {
  const m = machine('v3');
  for (let i = 0; i < n; i++) apply(m, vcpu(i));
  apply(m, create('v3'));
  return m;
}

describe('VMM front door: device types and create (KVM B.0, B.3, B.8)', () => {
  it('B.0: a type the host does not register is ENODEV, TEST or not; TEST creates nothing and gives no handle', () => {
    const m = machine('v3');
    expect(apply(m, create(0, 1, true))).to.deep.equal(ERR('ENODEV'));
    expect(apply(m, create('v2', 1, true))).to.deep.equal(ERR('ENODEV')); // no v2_on_v3
    expect(apply(m, create('v3', 1, true))).to.deep.equal(OK);
    expect(vm(m).inKernel).to.equal(false);
    expect(apply(m, create('v3'))).to.deep.equal({ outcome: 'ok', device: 0 });
  });

  it('B.0: a GICv2 host registers V2 only; a v3 host V3, ITS and (v2_on_v3) V2', () => {
    expect(apply(machine('v2'), create('v3'))).to.deep.equal(ERR('ENODEV'));
    expect(apply(machine('v2'), create('its'))).to.deep.equal(ERR('ENODEV'));
    expect(apply(machine('v2'), create(5))).to.deep.equal({ outcome: 'ok', device: 0 });
    expect(apply(machine('v3', { v2_on_v3: true }), create('v2'))).to.deep.equal({ outcome: 'ok', device: 0 });
  });

  it('B.3: a second vGIC of either model is EEXIST; handles count from 0 across the domains of a machine', () => {
    const m = machine('v3', { v2_on_v3: true }, [{ id: 1, vgic: 'device' }, { id: 2, vgic: 'device' }]);
    expect(apply(m, create('v3', 1))).to.deep.equal({ outcome: 'ok', device: 0 });
    expect(apply(m, create('v2', 1))).to.deep.equal(ERR('EEXIST'));
    expect(apply(m, create('v3', 2))).to.deep.equal({ outcome: 'ok', device: 1 });
    expect(apply(m, create('its', 1))).to.deep.equal({ outcome: 'ok', device: 2 });
  });

  it('B.3: more vCPUs than the model allows is E2BIG (a V2 GIC after 9 vCPUs)', () => {
    const m = machine('v3', { v2_on_v3: true });
    for (let i = 0; i < 9; i++) apply(m, vcpu(i));
    expect(apply(m, create('v2'))).to.deep.equal(ERR('E2BIG'));
    expect(apply(m, create('v3'))).to.deep.equal({ outcome: 'ok', device: 0 });
  });

  it('B.3: a vGIC after a vCPU ran is EBUSY (a VMM running without in-kernel irqchip first)', () => {
    const m = machine('v3');
    apply(m, vcpu(0));
    expect(apply(m, kvmRun(0))).to.deep.equal(OK);
    expect(apply(m, create('v3'))).to.deep.equal(ERR('EBUSY'));
  });

  it('B.8 (decided here): a second ITS device of one VM is ENOMEM, as Xen gives a domain one vITS', () => {
    const m = v3With(1);
    apply(m, create('its'));
    expect(apply(m, create('its'))).to.deep.equal(ERR('ENOMEM'));
  });
});

describe('VMM front door: GRP_ADDR (KVM B.4, B.5, B.8)', () => {
  it('B.4 vgic_check_iorange: EEXIST once set, EINVAL misaligned, E2BIG beyond the IPA; get gives the base or all ones', () => {
    const m = v3With(1);
    expect(apply(m, get('ADDR', 2))).to.deep.equal({ outcome: 'ok', value: '0xffffffffffffffff' });
    expect(apply(m, set('ADDR', 2, 0x1000))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('ADDR', 2, MAXPA - 0x10000n))).to.deep.equal(OK);
    expect(apply(m, set('ADDR', 2, 0))).to.deep.equal(ERR('EEXIST'));
    expect(apply(m, get('ADDR', 2))).to.deep.equal({ outcome: 'ok', value: hex(MAXPA - 0x10000n) });
    const m2 = v3With(1);
    expect(apply(m2, set('ADDR', 2, MAXPA))).to.deep.equal(ERR('E2BIG'));
  });

  it('B.4: ipa_bits sets the E2BIG limit', () => {
    const m = machine('v3', {}, [{ id: 1, vgic: 'device', ipa_bits: 32 }]);
    apply(m, create('v3'));
    expect(apply(m, set('ADDR', 2, 1n << 32n))).to.deep.equal(ERR('E2BIG'));
    expect(apply(m, set('ADDR', 2, (1n << 32n) - 0x10000n))).to.deep.equal(OK);
  });

  it('B.4: the payload is read first (a bad pointer is EFAULT even for an unknown attribute); v2 types on a v3 device are ENXIO', () => {
    const m = v3With(1);
    expect(apply(m, set('ADDR', 9, null))).to.deep.equal(ERR('EFAULT'));
    expect(apply(m, set('ADDR', 9, 0))).to.deep.equal(ERR('ENXIO'));
    expect(apply(m, set('ADDR', 0, 0))).to.deep.equal(ERR('ENXIO'));
    expect(apply(m, get('ADDR', 1))).to.deep.equal(ERR('ENXIO'));
  });

  it('B.5: a v2 device takes DIST (4 KiB) and CPU (8 KiB, 4 KiB aligned); v3 types are ENXIO', () => {
    const m = machine('v2');
    apply(m, create('v2'));
    expect(apply(m, set('ADDR', 1, 0x1000))).to.deep.equal(OK);
    expect(apply(m, set('ADDR', 0, 0x800))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('ADDR', 0, MAXPA - 0x1000n))).to.deep.equal(OK);
    expect(apply(m, set('ADDR', 2, 0x10000))).to.deep.equal(ERR('ENXIO'));
    expect(apply(m, get('ADDR', 1))).to.deep.equal({ outcome: 'ok', value: '0x1000' });
  });

  it('B.4 legacy REDIST, in order: wrap, mix/twice, over the distributor, over a region, then iorange', () => {
    const m = v3With(2);
    apply(m, set('ADDR', 2, 0x20000));
    expect(apply(m, set('ADDR', 3, 0xfffffffffffe0000n))).to.deep.equal(ERR('EINVAL')); // wraps (2 × 128 KiB)
    expect(apply(m, set('ADDR', 3, 0))).to.deep.equal(ERR('EINVAL')); // over the distributor
    expect(apply(m, set('ADDR', 3, 0x40000))).to.deep.equal(OK);
    expect(apply(m, set('ADDR', 3, 0x100000))).to.deep.equal(ERR('EEXIST'));
    expect(apply(m, get('ADDR', 3))).to.deep.equal({ outcome: 'ok', value: '0x40000' });
  });

  it('B.4 REDIST_REGION: count 0 and flags are EINVAL; GET needs the payload (EFAULT), an unknown index is ENOENT', () => {
    const m = v3With(0);
    expect(apply(m, set('ADDR', 5, R(0, 0x100000n, 0, 0)))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('ADDR', 5, R(1, 0x100000n, 1, 0)))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('ADDR', 5, R(1, 0x100000n, 0, 0)))).to.deep.equal(OK);
    expect(apply(m, get('ADDR', 5, null))).to.deep.equal(ERR('EFAULT'));
    expect(apply(m, get('ADDR', 5, 1))).to.deep.equal(ERR('ENOENT'));
    expect(apply(m, get('ADDR', 5, 0))).to.deep.equal({ outcome: 'ok', value: hex(R(1, 0x100000n, 0, 0)) });
  });

  it('B.4 QUIRK (model: refused): a counted region after the legacy one is EINVAL only by its index (index 1 passes the code read)', () => {
    const m = v3With(1);
    apply(m, set('ADDR', 3, 0x100000));
    expect(apply(m, set('ADDR', 5, R(1, 0x200000n, 0, 0)))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('ADDR', 5, R(1, 0x200000n, 0, 1)))).to.deep.equal(OK);
  });

  it('B.6: a region over the distributor is refused at set time only when it places a vCPU (the region is rolled back)', () => {
    const m = v3With(1);
    apply(m, set('ADDR', 2, 0x100000));
    expect(apply(m, set('ADDR', 5, R(1, 0x0n, 0, 0)))).to.deep.equal(OK); // vCPU 0 placed at 0
    expect(apply(m, set('ADDR', 5, R(1, 0x100000n, 0, 1)))).to.deep.equal(OK); // no vCPU to place: accepted
    const m2 = v3With(1);
    apply(m2, set('ADDR', 2, 0x100000));
    expect(apply(m2, set('ADDR', 5, R(1, 0x100000n, 0, 0)))).to.deep.equal(ERR('EINVAL'));
    expect(vm(m2).rdRegions).to.deep.equal([]);
  });

  it('B.8: the ITS address is 64 KiB aligned with a 128 KiB frame; another attribute is ENODEV on set and get', () => {
    const m = v3With(1);
    apply(m, create('its'));
    expect(apply(m, set('ADDR', 4, MAXPA - 0x20000n, 1))).to.deep.equal(OK);
    expect(apply(m, get('ADDR', 0, null, 1))).to.deep.equal(ERR('ENODEV'));
    expect(apply(m, set('ADDR', 0, 0, 1))).to.deep.equal(ERR('ENODEV'));
    expect(apply(m, has('ADDR', 4, 1))).to.deep.equal(OK);
    expect(apply(m, has('ADDR', 0, 1))).to.deep.equal(ERR('ENXIO'));
  });
});

describe('VMM front door: NR_IRQS, CTRL, MAINT_IRQ (KVM B.4)', () => {
  it('B.4 NR_IRQS: 64..1023 in multiples of 32, so 992 is the largest; the range before the busy rule; get is nr_spis + 32', () => {
    const m = v3With(1);
    expect(apply(m, get('NR_IRQS', 0))).to.deep.equal({ outcome: 'ok', value: '0x20' });
    for (const bad of [0, 32, 63, 65, 1024, 1056]) expect(apply(m, set('NR_IRQS', 0, bad)), String(bad)).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('NR_IRQS', 0, 992))).to.deep.equal(OK);
    expect(apply(m, set('NR_IRQS', 0, 1024))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('NR_IRQS', 0, 64))).to.deep.equal(ERR('EBUSY'));
    expect(apply(m, get('NR_IRQS', 0))).to.deep.equal({ outcome: 'ok', value: hex(992) });
  });

  it('B.4 / trace-format §10.7: 992 interrupts build 960 SPIs, exactly Xen\'s limit: Xen refuses no NR_IRQS that KVM accepts', () => {
    const m = v3With(1);
    apply(m, set('NR_IRQS', 0, 992), set('CTRL', 0, null));
    expect(m.host.domains.get(1)!.nrSpis).to.equal(960);
  });

  it('B.4 CTRL_INIT is idempotent and defaults nr_spis to 224; unknown CTRL attributes are ENXIO', () => {
    const m = v3With(2);
    expect(apply(m, set('CTRL', 0, null))).to.deep.equal(OK);
    expect(apply(m, set('CTRL', 0, null))).to.deep.equal(OK);
    expect(apply(m, get('NR_IRQS', 0))).to.deep.equal({ outcome: 'ok', value: '0x100' });
    expect(m.host.domains.get(1)!.vcpus.length).to.equal(2);
    expect(apply(m, set('CTRL', 7, null))).to.deep.equal(ERR('ENXIO'));
    expect(apply(m, get('CTRL', 0))).to.deep.equal(ERR('ENXIO'));
  });

  it('B.4 SAVE_PENDING_TABLES: ENXIO before CTRL_INIT and on a v2 device; then ok (it writes nothing, trace-format §10.7)', () => {
    const m = v3With(1);
    expect(apply(m, set('CTRL', 3, null))).to.deep.equal(ERR('ENXIO'));
    apply(m, set('CTRL', 0, null));
    expect(apply(m, set('CTRL', 3, null))).to.deep.equal(OK);
    const v2 = machine('v2');
    apply(v2, vcpu(0), create('v2'), set('CTRL', 0, null));
    expect(apply(v2, set('CTRL', 3, null))).to.deep.equal(ERR('ENXIO'));
    expect(apply(v2, has('CTRL', 3))).to.deep.equal(ERR('ENXIO'));
  });

  it('B.4 MAINT_IRQ (newest order): EFAULT, then EBUSY after INIT, then EINVAL unless a PPI; get reads it; v2 has no such group', () => {
    const m = v3With(1);
    expect(apply(m, set('MAINT_IRQ', 0, 15))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('MAINT_IRQ', 0, 32))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('MAINT_IRQ', 0, null))).to.deep.equal(ERR('EFAULT'));
    expect(apply(m, set('MAINT_IRQ', 0, 25))).to.deep.equal(OK);
    apply(m, set('CTRL', 0, null));
    expect(apply(m, set('MAINT_IRQ', 0, 99))).to.deep.equal(ERR('EBUSY'));
    expect(apply(m, get('MAINT_IRQ', 0))).to.deep.equal({ outcome: 'ok', value: '0x19' });
    const v2 = machine('v2');
    apply(v2, create('v2'));
    expect(apply(v2, set('MAINT_IRQ', 0, 25))).to.deep.equal(ERR('ENXIO'));
  });
});

describe('VMM front door: the register groups\' KVM checks (KVM B.4, B.5, B.8; effects through the seam)', () => {
  it('B.4: no vCPU of that MPIDR is EINVAL first; then EFAULT; before INIT EBUSY (GICD_IIDR excepted)', () => {
    const m = v3With(1);
    expect(apply(m, get('REDIST_REGS', (1n << 32n) | 8n))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('REDIST_REGS', (1n << 32n) | 8n, null))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('REDIST_REGS', 8n, null))).to.deep.equal(ERR('EFAULT'));
    expect(apply(m, get('REDIST_REGS', 8n))).to.deep.equal(ERR('EBUSY'));
    expect(apply(m, get('DIST_REGS', 0n))).to.deep.equal(ERR('EBUSY'));
    expect(apply(m, get('DIST_REGS', 8n))).to.not.deep.equal(ERR('EBUSY'));
  });

  it('B.4 DIST_REGS use the first vCPU created: without one, EINVAL', () => {
    const m = v3With(0);
    expect(apply(m, get('DIST_REGS', 0x8n))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, has('DIST_REGS', 0x8n))).to.deep.equal(ERR('EINVAL'));
  });

  it('B.4 / decision 4: a vCPU in KVM_RUN (loaded on a pCPU) makes every register access EBUSY', () => {
    const m = v3With(1);
    apply(m, set('ADDR', 2, 0x100000), set('ADDR', 3, 0x200000), set('CTRL', 0, null), kvmRun(0), { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    expect(apply(m, get('REDIST_REGS', 8n))).to.deep.equal(ERR('EBUSY'));
    apply(m, { op: 'idle', pcpu: 0 });
    expect(apply(m, get('REDIST_REGS', 8n))).to.deep.equal({ outcome: 'ok', value: '0x10' });
  });

  it('B.4 LEVEL_INFO: an info field or a vINTID not a multiple of 32 is EINVAL (after the vCPU and init checks); HAS_ATTR ENXIO for the info field', () => {
    const m = v3With(1);
    apply(m, set('CTRL', 0, null));
    expect(apply(m, get('LEVEL_INFO', 1n << 10n))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, get('LEVEL_INFO', 33n))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, has('LEVEL_INFO', 1n << 10n))).to.deep.equal(ERR('ENXIO'));
    expect(apply(m, has('LEVEL_INFO', 32n))).to.deep.equal(OK);
    expect(apply(m, get('LEVEL_INFO', (5n << 32n) | 32n))).to.deep.equal(ERR('EINVAL'));
  });

  it('B.5: v2 register groups pick the vCPU by index (bits 39:32): none is EINVAL, also from HAS_ATTR', () => {
    const m = machine('v2');
    apply(m, vcpu(0), create('v2'));
    expect(apply(m, get('CPU_REGS', 1n << 32n))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, has('CPU_REGS', 1n << 32n))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, set('DIST_REGS', 0n, null))).to.deep.equal(ERR('EFAULT'));
  });

  it('B.8 ITS_REGS: EFAULT, misaligned EINVAL, busy, no frame ENXIO; HAS_ATTR checks only the alignment and the register', () => {
    const m = v3With(1);
    apply(m, create('its'));
    expect(apply(m, set('ITS_REGS', 0x80n, null, 1))).to.deep.equal(ERR('EFAULT'));
    expect(apply(m, get('ITS_REGS', 0x84n, null, 1))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, get('ITS_REGS', 0x80n, null, 1))).to.deep.equal(ERR('ENXIO'));
    expect(apply(m, has('ITS_REGS', 0x82n, 1))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, get('ITS_REGS', 0x4n, null, 1))).to.deep.equal(ERR('ENXIO'));
  });

  it('B.8 ITS CTRL: INIT is a no-op; RESET clears the BASERs\' Valid, CBASER, CREADR, CWRITER and the enable of the Xen vITS; an unknown attribute is ok (QUIRK) but ENXIO from HAS_ATTR', () => {
    const m = v3With(1);
    apply(m, create('its'), set('ADDR', 4, 0x8000000, 1), set('CTRL', 0, null, 0));
    const its = m.host.domains.get(1)!.vits!;
    expect(its.base).to.equal(0x8000000);
    its.baserDev |= 1n << 63n;
    its.cbaser = 0x1234n;
    its.cwriter = 0x40;
    its.enabled = true;
    expect(apply(m, set('CTRL', 4, null, 1))).to.deep.equal(OK);
    expect([its.baserDev >> 63n, its.cbaser, its.cwriter, its.creadr, its.enabled]).to.deep.equal([0n, 0n, 0, 0, false]);
    expect(apply(m, set('CTRL', 9, null, 1))).to.deep.equal(OK);
    expect(apply(m, has('CTRL', 9, 1))).to.deep.equal(ERR('ENXIO'));
    expect(apply(m, set('CTRL', 1, null, 1))).to.deep.equal(OK);
    expect(apply(m, set('CTRL', 2, null, 1))).to.deep.equal(OK);
  });

  it('trace-format §10.7: the Xen vITS is built when the GIC is initialised and the ITS placed, whichever comes last', () => {
    const m = v3With(1);
    apply(m, create('its'), set('CTRL', 0, null, 0));
    expect(m.host.domains.get(1)!.hasIts).to.equal(false);
    apply(m, set('ADDR', 4, 0x8000000, 1));
    expect(m.host.domains.get(1)!.hasIts).to.equal(true);
    expect(m.host.domains.get(1)!.intidBits).to.equal(16);
  });
});

describe('VMM front door: HAS_ATTR for every group (KVM B.4, B.5)', () => {
  it('B.4 v3: ADDR DIST/REDIST/REDIST_REGION, NR_IRQS, MAINT_IRQ, CTRL INIT and SAVE_PENDING_TABLES are 0; v2 ADDR types, ITS_REGS, CPU_REGS and unknown groups ENXIO', () => {
    const m = v3With(1);
    for (const [g, a] of [['ADDR', 2], ['ADDR', 3], ['ADDR', 5], ['NR_IRQS', 0], ['MAINT_IRQ', 0], ['CTRL', 0], ['CTRL', 3], ['REDIST_REGS', 8], ['DIST_REGS', 0xc]] as const) {
      expect(apply(m, has(g, a)), `${g} ${a}`).to.deep.equal(OK);
    }
    // B.4: no register at GICD 0x14 (between STATUSR and SETSPI_NSR).
    expect(apply(m, has('DIST_REGS', 0x14))).to.deep.equal(ERR('ENXIO'));
    for (const [g, a] of [['ADDR', 0], ['ADDR', 4], ['CTRL', 1], ['ITS_REGS', 0], ['CPU_REGS', 0], [10, 0], [99, 0]] as const) {
      expect(apply(m, has(g, a)), `${g} ${a}`).to.deep.equal(ERR('ENXIO'));
    }
    expect(apply(m, has('REDIST_REGS', 9))).to.deep.equal(ERR('ENXIO'));
  });

  it('B.5 v2: ADDR DIST/CPU, NR_IRQS and CTRL INIT are 0; ADDR v3 types, MAINT_IRQ, LEVEL_INFO ENXIO', () => {
    const m = machine('v2');
    apply(m, vcpu(0), create('v2'));
    for (const [g, a] of [['ADDR', 0], ['ADDR', 1], ['NR_IRQS', 0], ['CTRL', 0]] as const) expect(apply(m, has(g, a)), `${g} ${a}`).to.deep.equal(OK);
    for (const [g, a] of [['ADDR', 2], ['ADDR', 5], ['MAINT_IRQ', 0], ['LEVEL_INFO', 0], ['CPU_SYSREGS', 0]] as const) {
      expect(apply(m, has(g, a)), `${g} ${a}`).to.deep.equal(ERR('ENXIO'));
    }
  });

  it('every table row names a B-item or a docs section for each of its rules', () => {
    for (const row of ROWS) for (const [, , why] of row.rules) expect(why, `${row.dev} ${row.group} ${String(row.attr)} ${row.call}`).to.match(/^(B\.\d|trace-format §10)/);
    expect(findRow('its', GROUPS.NR_IRQS, 'set', 0n)).to.equal(null);
  });
});

describe('VMM front door: phase rules and vCPUs (KVM B.2, B.6)', () => {
  it('B.2: vCPUs may be created before CTRL_INIT, not after (EBUSY); an id at or above max_vcpus is EINVAL; a duplicate EEXIST', () => {
    const m = machine('v2');
    apply(m, create('v2'));
    expect(apply(m, vcpu(8))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, vcpu(7))).to.deep.equal(OK);
    expect(apply(m, vcpu(7))).to.deep.equal(ERR('EEXIST'));
    apply(m, vcpu(0), vcpu(1), vcpu(2), vcpu(3), vcpu(4), vcpu(5), vcpu(6), set('CTRL', 0, null));
    expect(apply(m, vcpu(9))).to.deep.equal(ERR('EBUSY'));
  });

  it('trace-format §10.7: on a GICv3 host Xen\'s 128 vCPUs apply: id 128 is EINVAL (KVM would take up to 511)', () => {
    const m = v3With(0);
    expect(apply(m, vcpu(128))).to.deep.equal(ERR('EINVAL'));
    expect(apply(m, vcpu(127))).to.deep.equal(OK);
  });

  it('trace-format §10.7 (decision 9): CTRL_INIT with vCPU ids that are not 0..n-1 is EINVAL; once dense it succeeds', () => {
    const m = v3With(0);
    apply(m, vcpu(0), vcpu(2));
    expect(apply(m, set('CTRL', 0, null))).to.deep.equal(ERR('EINVAL'));
    apply(m, vcpu(1));
    expect(apply(m, set('CTRL', 0, null))).to.deep.equal(OK);
  });

  it('B.6: a vCPU created while a region has room takes the next slot; the layout check failing fails the creation (EINVAL)', () => {
    const m = v3With(1);
    apply(m, set('ADDR', 3, 0x100000));
    apply(m, set('ADDR', 2, 0x140000)); // accepted: not checked at set time
    expect(apply(m, vcpu(1))).to.deep.equal(OK); // checked with 1 vCPU online: [0x100000, 0x120000)
    expect(apply(m, vcpu(2))).to.deep.equal(OK); // checked with 2: [0x100000, 0x140000)
    expect(apply(m, vcpu(3))).to.deep.equal(ERR('EINVAL')); // with 3: over the distributor
    expect(vm(m).vcpus.map((v) => v.rdBase)).to.deep.equal([0x100000n, 0x120000n, 0x140000n]);
  });

  it('B.6 Last: no region, not last; an earlier slot, not last; a full region continued by a populated one, not last', () => {
    const m = v3With(0);
    apply(m, vcpu(0), vcpu(1), vcpu(2), set('CTRL', 0, null));
    const typer = (id: number): Result => apply(m, get('REDIST_REGS', (BigInt(id) << 32n) | 8n));
    expect(typer(0)).to.deep.equal({ outcome: 'ok', value: '0x0' });
    apply(m, set('ADDR', 5, R(1, 0x100000n, 0, 0)));
    expect(typer(0)).to.deep.equal({ outcome: 'ok', value: '0x10' }); // full region, nothing after it
    apply(m, set('ADDR', 5, R(4, 0x120000n, 0, 1)));
    expect([typer(0), typer(1), typer(2)].map((r) => r.value)).to.deep.equal(['0x0', '0x100', '0x210']);
  });

  it('B.7: a failed first run kills the VM: every later device-API op is EIO, and `run` is a trace error', () => {
    const m = v3With(1);
    expect(apply(m, kvmRun(0))).to.deep.equal(ERR('ENXIO'));
    expect(apply(m, kvmRun(0))).to.deep.equal(ERR('EIO'));
    expect(apply(m, vcpu(1))).to.deep.equal(ERR('EIO'));
    expect(apply(m, create('its'))).to.deep.equal(ERR('EIO'));
    expect(apply(m, has('ADDR', 2))).to.deep.equal(ERR('EIO'));
    expect(traceError(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 })).to.match(/dead/);
  });

  it('B.7 v2: both frames needed (ENXIO), apart (EINVAL), then the lazy init builds the Xen vGIC', () => {
    const m = machine('v2');
    apply(m, vcpu(0), create('v2'), set('ADDR', 0, 0x10000));
    expect(apply(m, kvmRun(0))).to.deep.equal(ERR('ENXIO'));
    const m2 = machine('v2');
    apply(m2, vcpu(0), create('v2'), set('ADDR', 0, 0x10000), set('ADDR', 1, 0x20000));
    expect(apply(m2, kvmRun(0))).to.deep.equal(OK);
    expect(vm(m2).initialized).to.equal(true);
    expect(m2.host.domains.get(1)!.version).to.equal('v2');
  });

  it('B.7: a vCPU without vGIC runs (userspace irqchip) but the model cannot run it: `run` names the missing create_device', () => {
    const m = machine('v3');
    apply(m, vcpu(0));
    expect(apply(m, kvmRun(0))).to.deep.equal(OK);
    expect(traceError(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 })).to.match(/no vGIC/);
  });
});

describe('VMM front door: the machine around it (docs/trace-format.md §10)', () => {
  it('decision 8: before kvm_run, `run` is a trace error naming the missing calls', () => {
    const m = machine('v3');
    expect(traceError(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 })).to.match(/vcpu_create it, then create_device, set_attr CTRL INIT and kvm_run/);
    apply(m, vcpu(0));
    expect(traceError(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 })).to.match(/has not run: kvm_run it first \(after create_device, set_attr CTRL INIT\)/);
    apply(m, create('v3'));
    expect(traceError(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 })).to.match(/after set_attr CTRL INIT/);
    expect(traceError(m, { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40 })).to.match(/built at set_attr CTRL INIT/);
    expect(traceError(m, { op: 'route', domain: 1, virq: 40, pirq: 40 })).to.match(/built at set_attr CTRL INIT/);
  });

  it('decision 7: a missing device handle or an ordinary domain is a trace error, not an errno', () => {
    const m = machine('v3', {}, [{ id: 1, vgic: 'device' }, { id: 2, vcpus: 1, nr_spis: 32 }]);
    expect(traceError(m, set('ADDR', 2, 0, 3))).to.match(/device 3 does not exist/);
    expect(traceError(m, create('v3', 2))).to.match(/not a device domain/);
    expect(traceError(m, kvmRun(0, 2))).to.match(/not a device domain/);
    expect(traceError(m, kvmRun(0, 1))).to.match(/vcpu_create it first/);
  });

  it('malformed ops name the key: an unknown group name, an attr that is not hex, a value of the wrong type or width', () => {
    const bad = (u: Record<string, unknown>): string => {
      const r = decodeOp(u, 'steps[3]');
      return E.isLeft(r) ? r.left.join('; ') : 'decoded';
    };
    expect(bad({ op: 'set_attr', device: 0, group: 'ADRR', attr: '0x0', value: '0x0' })).to.match(/steps\[3\]\.group: expected "ADDR" \| .* non-negative integer, got "ADRR"/);
    expect(bad({ op: 'set_attr', device: 0, group: 'ADDR', attr: 2, value: '0x0' })).to.match(/steps\[3\]\.attr: expected hex string/);
    expect(bad({ op: 'set_attr', device: 0, group: 'ADDR', attr: '0x2', value: 5 })).to.match(/steps\[3\]\.value: expected hex string \| null/);
    expect(bad({ op: 'create_device', domain: 1, type: 'v4', test: false })).to.match(/steps\[3\]\.type/);
    expect(bad({ op: 'create_device', domain: 1, type: 'v3' })).to.match(/steps\[3\]\.test: missing key/);
    const m = v3With(1);
    expect(traceError(m, set('NR_IRQS', 0, 1n << 32n))).to.match(/does not fit in the 32-bit payload of NR_IRQS/);
    expect(traceError(m, get('NR_IRQS', 0, 5))).to.match(/reads no payload/);
  });

  it('config: a device domain naming vcpus, nr_spis, its or intid_bits is an error naming the key; ipa_bits 32..52; v2_on_v3 needs a v3 host', () => {
    const errs = (c: unknown): string[] => { const r = decodeConfig(c); return E.isLeft(r) ? r.left : []; };
    const base = { gic: 'v3', nr_lrs: 4, pcpus: 1 };
    expect(errs({ ...base, domains: [{ id: 1, vgic: 'device', vcpus: 2 }] })).to.deep.equal([
      'config.domains[0].vcpus: a domain with "vgic": "device" takes no vcpus (the VMM creates vCPUs and the vGIC through KVM\'s device API)',
    ]);
    expect(errs({ ...base, domains: [{ id: 1, vgic: 'device', nr_spis: 32 }] })[0]).to.match(/domains\[0\]\.nr_spis: a domain with "vgic": "device"/);
    expect(errs({ ...base, domains: [{ id: 1, vgic: 'device', ipa_bits: 53 }] })).to.deep.equal(['config.domains[0].ipa_bits: 53 is outside 32..52']);
    expect(errs({ ...base, domains: [{ id: 1, vgic: 'xen' }] })[0]).to.match(/domains\[0\]\.vgic: expected "device"/);
    expect(errs({ ...base, domains: [{ id: 1 }] })).to.deep.equal([
      'config.domains[0].vcpus: missing key (expected non-negative integer)', 'config.domains[0].nr_spis: missing key (expected non-negative integer)',
    ]);
    expect(errs({ ...base, domains: [{ id: 1, vcpus: 1, nr_spis: 0, ipa_bits: 40 }] })[0]).to.match(/ipa_bits: only a domain with "vgic": "device"/);
    expect(errs({ gic: 'v2', nr_lrs: 4, pcpus: 1, v2_on_v3: true, domains: [] })[0]).to.match(/v2_on_v3: only a GICv3 host/);
  });

  it('snapshot: before CTRL_INIT a device domain has empty ranks, vcpus, irqs and the vmm key; an ordinary domain has no vmm key', () => {
    const m = machine('v3', {}, [{ id: 1, vgic: 'device' }, { id: 2, vcpus: 1, nr_spis: 32 }]);
    apply(m, vcpu(0), create('v3'), set('ADDR', 2, 0x100000));
    const [d1, d2] = m.snapshot().domains;
    expect(d1).to.deep.equal({
      id: 1, ctlr: '0x0', ranks: [], vcpus: [], irqs: [],
      vmm: {
        model: 'v3', initialized: false, ready: false, dead: false, nr_irqs: 32, dist: '0x100000', cpu: null,
        redist_regions: [], its: [], vcpus: [{ id: 0, redist: null, ran: false }],
      },
    });
    expect(Object.keys(d2!)).to.deep.equal(['id', 'ctlr', 'ranks', 'vcpus', 'irqs']);
  });

  it('guest mmio: the GICD at the VMM\'s base, each redistributor at its slot, an unowned frame of a region aborts (Q32), elsewhere a trace error', () => {
    const m = v3With(2);
    apply(m, set('ADDR', 2, 0x100000), set('ADDR', 5, R(4, 0x200000n, 0, 0)), set('CTRL', 0, null), kvmRun(0), { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    const read = (addr: number, size = 4): Result => apply(m, { op: 'mmio', pcpu: 0, access: 'read', addr: hex(addr), size });
    expect(read(0x100004).value).to.equal(hex((1 << 5) | 7 | (9 << 19)));
    expect(read(0x220008, 8).value).to.equal(hex((1n << 32n) | 0x110n));
    expect(read(0x240008, 8)).to.deep.equal({ outcome: 'abort' });
    expect(traceError(m, { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001004', size: 4 })).to.match(/outside the GICD frame 0x100000\.\.0x10ffff, a redistributor region/);
  });

  it('an ordinary domain keeps Xen\'s layout and GICR_TYPER.Last next to a device domain', () => {
    const m = machine('v3', {}, [{ id: 1, vgic: 'device' }, { id: 2, vcpus: 2, nr_spis: 32 }]);
    apply(m, { op: 'run', pcpu: 0, domain: 2, vcpu: 0 });
    expect(apply(m, { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3040008', size: 8 }).value).to.equal('0x100000110');
    expect(apply(m, { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3020008', size: 8 }).value).to.equal('0x0');
  });
});

describe('VMM front door: CTRL_INIT before any vCPU (KVM B.4 GRP_CTRL; trace-format §10.7)', () => {
  it('INIT succeeds and builds a Xen vGIC without vCPUs; an SPI inject, a hw_irq and an msi into it are trace errors naming the missing vCPU, never an exception', () => {
    const m = machine('v3', {}, [{ id: 1, vgic: 'device', pirqs: [64] }]);
    expect(apply(m, create('v3'), set('CTRL', 0, null))).to.deep.equal(OK);
    expect(m.host.domains.get(1)!.vcpus).to.have.length(0);
    expect(m.host.domains.get(1)!.nrSpis).to.equal(224);
    expect(traceError(m, { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40 })).to.match(/domain 1 has no vCPU .* inject of SPI 40 .*d->vcpu\[0\]/);
    expect(apply(m, { op: 'route', domain: 1, virq: 40, pirq: 64 })).to.deep.equal(OK);
    expect(traceError(m, { op: 'hw_irq', pirq: 64 })).to.match(/domain 1 has no vCPU .* hw_irq 64/);
    expect(traceError(m, { op: 'msi', pcpu: 0, domain: 1, devid: 0, eventid: 0 })).to.match(/domain 1 has no vCPU .* msi/);
  });
});
