/**
 * The trace generator's VMM bring-up (src/conformance/gen-vmm.ts, docs/trace-format.md §10):
 * device domains drawn from a stream of their own (traces without one are unchanged), the
 * bring-up batches with their mistakes, guest mmio at the VMM's addresses, the op restriction
 * of `vgic diff --random`, replay of generated traces, and the invariant checker on them.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { runCampaign } from '../src/check/campaign.js';
import { generateTrace } from '../src/conformance/gen.js';
import { VMM_OPS, addVmm, deviceVms, guestLayout, vmmAllowed } from '../src/conformance/gen-vmm.js';
import { runTrace, decodeTrace } from '../src/conformance/trace.js';
import { isDeviceDomain, type Config } from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';
import { OP_NAMES } from '../src/machine/ops.js';

type Step = Record<string, unknown> & { expect?: { result: { outcome: string; errno?: string } } };

const hasDevice = (c: Config): boolean => c.domains.some(isDeviceDomain);

describe('generator: VMM bring-up for device domains (src/conformance/gen-vmm.ts)', function () {
  this.timeout(120000);

  it('a trace whose config gets no device domain is the trace of a generator without them (300 seeds, GICv2 and GICv3)', () => {
    let same = 0;
    let device = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const t = generateTrace(seed, { steps: 60 });
      if (hasDevice(t.config)) {
        device += 1;
        continue;
      }
      expect(JSON.stringify(t), `seed ${seed}`).to.equal(JSON.stringify(generateTrace(seed, { steps: 60, vmm: 0 })));
      same += 1;
    }
    // About a quarter of the configs get a device domain (0.2 per domain).
    expect(device).to.be.within(40, 120);
    expect(same + device).to.equal(300);
  });

  it('addVmm: draws from its own stream; p = 0 changes nothing; a device domain keeps its id and pirqs and names no vcpus, nr_spis or its', () => {
    const c: Config = { gic: 'v3', nr_lrs: 4, pcpus: 2, domains: [{ id: 3, vcpus: 2, nr_spis: 64, pirqs: [64] }, { id: 4, vcpus: 1, nr_spis: 32 }] };
    expect(addVmm(c, 7, 0)).to.equal(c);
    const all = addVmm(c, 7, 1);
    expect(all.domains.map((d) => d.id)).to.deep.equal([3, 4]);
    for (const d of all.domains) {
      expect(isDeviceDomain(d)).to.equal(true);
      expect(d).to.not.have.any.keys('vcpus', 'nr_spis', 'its', 'intid_bits');
    }
    expect(all.domains[0]!.pirqs).to.deep.equal([64]);
    expect(E.isRight(Machine.create(all))).to.equal(true);
    expect(addVmm(c, 7, 1)).to.deep.equal(all);
  });

  it('`vgic diff --random`: device domains only when the other side lists every device-API op (like ITS_OPS)', () => {
    const without = new Set<string>(OP_NAMES.filter((op) => op !== 'kvm_run'));
    expect(vmmAllowed(without)).to.equal(false);
    expect(vmmAllowed(new Set(OP_NAMES))).to.equal(true);
    expect(vmmAllowed(undefined)).to.equal(true);
    for (let seed = 1; seed <= 60; seed++) {
      const t = generateTrace(seed, { steps: 10, ops: without });
      expect(hasDevice(t.config), `seed ${seed}`).to.equal(false);
      expect(t.steps.every((s) => without.has(String(s['op'])))).to.equal(true);
    }
    const all = Array.from({ length: 60 }, (_x, k) => generateTrace(k + 1, { steps: 10, ops: new Set(OP_NAMES) }));
    expect(all.some((t) => hasDevice(t.config))).to.equal(true);
  });

  it('bring-ups reach every device-API op and KVM\'s refusals (right and wrong order, bad payloads); most device domains end up running', () => {
    const seen = new Set<string>();
    let vms = 0;
    let running = 0;
    let deviceMmio = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const t = generateTrace(seed, { steps: 100, vmm: 1, expect: 'results' });
      const m = Machine.build(t.config);
      (t.steps as Step[]).forEach((s, i) => {
        const r = s.expect!.result;
        if ((VMM_OPS as readonly string[]).includes(String(s['op']))) {
          const group = s['group'] === undefined ? '' : ` ${String(s['group'])}`;
          seen.add(`${String(s['op'])}${group} ${r.outcome === 'error' ? r.errno! : r.outcome}`);
        }
        if (s['op'] === 'mmio' && m.host.pcpus[s['pcpu'] as number]!.current?.domain.vmm != null && r.outcome === 'ok') deviceMmio += 1;
        const { expect: _e, ...raw } = s;
        expect(E.isRight(m.step(raw, i)), `seed ${seed} step ${i}`).to.equal(true);
      });
      for (const vm of deviceVms(m)) {
        vms += 1;
        if (vm.initialized && vm.vcpus.length > 0 && vm.vcpus.every((v) => v.ran)) running += 1;
      }
    }
    for (const want of [
      'vcpu_create ok', 'vcpu_create EEXIST', 'vcpu_create EINVAL', 'vcpu_create EBUSY',
      'create_device ok', 'create_device ENODEV', 'create_device EEXIST',
      'set_attr ADDR ok', 'set_attr ADDR EINVAL', 'set_attr ADDR E2BIG', 'set_attr ADDR EEXIST', 'set_attr ADDR ENXIO', 'set_attr ADDR EFAULT',
      'set_attr NR_IRQS ok', 'set_attr NR_IRQS EINVAL', 'set_attr NR_IRQS EBUSY',
      'set_attr MAINT_IRQ ok', 'set_attr MAINT_IRQ EINVAL',
      'set_attr CTRL ok', 'get_attr ADDR ok', 'get_attr NR_IRQS ok', 'has_attr NR_IRQS ok',
      'get_attr DIST_REGS ok', 'get_attr DIST_REGS EBUSY', 'get_attr REDIST_REGS ok',
      'kvm_run ok', 'kvm_run EIO',
    ]) expect(seen, want).to.include(want);
    expect(running / vms).to.be.above(0.85);
    expect(deviceMmio).to.be.above(500);
  });

  it('generated traces with device domains replay with their recorded RESULTs and snapshots', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const t = generateTrace(seed, { steps: 60, vmm: 1, expect: 'snapshots' });
      const tr = decodeTrace(JSON.parse(JSON.stringify(t)) as unknown);
      if (E.isLeft(tr)) throw new Error(tr.left.join('; '));
      const r = runTrace(tr.right);
      expect(r.status, `seed ${seed}: ${JSON.stringify(r.failure ?? null)}`).to.equal('pass');
    }
  });

  it('guestLayout: Xen\'s fixed map for an ordinary domain, the VMM\'s frames (distributor, each vCPU\'s slot) for a device domain', () => {
    const t = generateTrace(2, { steps: 0 });
    const ordinary = Machine.build({ ...t.config, gic: 'v3', domains: [{ id: 1, vcpus: 2, nr_spis: 32 }] });
    const xen = guestLayout(ordinary.host.domains.get(1)!);
    expect([xen.gicd, xen.gicr(0), xen.gicr(1), xen.gicrRegion]).to.deep.equal([0x3001000, 0x3020000, 0x3040000, 0x3020000]);
    const m = Machine.build({ gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vgic: 'device' }] });
    const steps = [
      { op: 'vcpu_create', domain: 1, vcpu: 1 }, { op: 'vcpu_create', domain: 1, vcpu: 0 },
      { op: 'create_device', domain: 1, type: 'v3', test: false },
      { op: 'set_attr', device: 0, group: 'ADDR', attr: '0x2', value: '0x3fff0000' },
      { op: 'set_attr', device: 0, group: 'ADDR', attr: '0x3', value: '0x3ffb0000' },
    ];
    steps.forEach((s, i) => expect(E.isRight(m.step(s, i))).to.equal(true));
    const vmm = guestLayout(m.host.domains.get(1)!);
    // Slots go in creation order: vCPU 1 first.
    expect([vmm.gicd, vmm.gicr(1), vmm.gicr(0), vmm.gicrRegion]).to.deep.equal([0x3fff0000, 0x3ffb0000, 0x3ffd0000, 0x3ffb0000]);
  });

  it('the invariant checker and the step properties hold on device domains, before CTRL_INIT (nothing to check) and after (200 traces, 80 steps)', () => {
    const r = runCampaign({ seed: 1, count: 200, steps: 80, delivery: 0, vmm: 1 });
    expect(r.violation, JSON.stringify(r.violation?.findings ?? null)).to.equal(null);
    expect(r.traces).to.equal(200);
  });
});
