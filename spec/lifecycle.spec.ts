/**
 * The domain lifecycle (docs/trace-format.md §3.6): `domain_create` builds a domain exactly as
 * the config does; `domain_destroy` runs Xen's teardown (domain_kill, complete_domain_destroy,
 * domain_vgic_free, release_guest_irq, gic_remove_irq_from_guest, vgic_v3_its_free_domain);
 * the bad-input rules; the checker, the dumps and the generator across create and destroy.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StepMonitor } from '../src/check/monitor.js';
import { generateTrace } from '../src/conformance/gen.js';
import { lifeAllowed } from '../src/conformance/gen-life.js';
import { decodeTrace, runTrace } from '../src/conformance/trace.js';
import type { Config, DomainConfig } from '../src/machine/config.js';
import { Machine, isTraceError, type Result } from '../src/machine/machine.js';
import { decodeOp } from '../src/machine/ops.js';
import { LIFE_OP_WEIGHTS, arbConfig, arbOpCommands, modelBasedProperty } from '../src/testing/arbitraries.js';
import { domainVgicFree, vgicV3ItsFreeDomain } from '../src/xen/domain.js';
import { gicRemoveIrqFromGuest, releaseGuestIrq, vgicDisconnectHwIrq } from '../src/xen/irq.js';
import { XenCrash } from '../src/xen/types.js';
import { spiToPending } from '../src/xen/vgic.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/lifecycle/', import.meta.url));

function machine(config: Config): Machine {
  const m = Machine.create(config);
  if (E.isLeft(m)) throw new Error(m.left.join('; '));
  return m.right;
}

/** Apply steps that must all be accepted; the last RESULT. */
function run(m: Machine, ...steps: Record<string, unknown>[]): Result {
  let last: Result = { outcome: 'ok' };
  for (const s of steps) {
    const r = m.step(s, 0);
    if (E.isLeft(r)) throw new Error(`${JSON.stringify(s)}: ${r.left}`);
    last = r.right;
  }
  return last;
}

/** The trace error of one step (and the check that it changed nothing). */
function traceError(m: Machine, step: Record<string, unknown>, index = 0): string {
  const before = m.snapshotJson();
  const r = m.step(step, index);
  expect(E.isLeft(r), `${JSON.stringify(step)} should be refused`).to.equal(true);
  expect(m.snapshotJson(), 'a trace error changes nothing').to.equal(before);
  return (r as E.Left<string>).left;
}

const V3: Config = { gic: 'v3', nr_lrs: 4, pcpus: 2, domains: [{ id: 1, vcpus: 2, nr_spis: 32, pirqs: [48] }] };
const ITS_DOMAIN: DomainConfig = {
  id: 2, vcpus: 1, nr_spis: 64, pirqs: [50], its: { base: '0x8000000', devid_bits: 8, evid_bits: 8 }, intid_bits: 20,
  ram: [{ base: '0x40000000', size: '0x100000' }],
};

describe('domain_create builds a domain as the config does (trace-format §3.6, arch_domain_create)', () => {
  const cases: [string, Config, DomainConfig][] = [
    ['an ordinary v2 domain', { gic: 'v2', nr_lrs: 2, pcpus: 3, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] }, { id: 0, vcpus: 8, nr_spis: 100, pirqs: [40, 41] }],
    ['a v3 domain with a virtual ITS and RAM', V3, ITS_DOMAIN],
    ['a device domain', { ...V3, v2_on_v3: true }, { id: 9, vgic: 'device', ipa_bits: 36, pirqs: [60] }],
  ];
  for (const [what, config, dc] of cases) {
    it(`${what}: the snapshot after domain_create is byte for byte that of a machine configured with it`, () => {
      const m = machine(config);
      expect(run(m, { op: 'domain_create', domain: dc })).to.deep.equal({ outcome: 'ok' });
      const direct = machine({ ...config, domains: [...config.domains, dc] });
      expect(m.snapshotJson()).to.equal(direct.snapshotJson());
    });
  }

  it('a created domain runs next to the others and its vCPUs start on pCPU vcpu % pcpus', () => {
    const m = machine(V3);
    run(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, { op: 'domain_create', domain: { id: 5, vcpus: 3, nr_spis: 32 } });
    expect(m.host.domains.get(5)!.vcpus.map((v) => v.processor)).to.deep.equal([0, 1, 0]);
    run(m, { op: 'run', pcpu: 1, domain: 5, vcpu: 1 }, { op: 'inject', pcpu: 1, domain: 5, vcpu: 1, virq: 3 }, { op: 'enter', pcpu: 1 });
    const s = m.snapshot();
    expect(s.pcpus.map((c) => c.running)).to.deep.equal([{ domain: 1, vcpu: 0 }, { domain: 5, vcpu: 1 }]);
    expect(s.domains.map((d) => d.id)).to.deep.equal([1, 5]);
  });

  it('the first domain with an ITS created by a step sets up the host LPI table with the config\'s lpi_bits', () => {
    const m = machine({ ...V3, lpi_bits: 14 });
    expect(m.host.hostLpis).to.equal(null);
    run(m, { op: 'domain_create', domain: ITS_DOMAIN });
    expect(m.host.hostLpis).to.not.equal(null);
    expect(machine({ ...V3, lpi_bits: 14, domains: [...V3.domains, ITS_DOMAIN] }).snapshotJson()).to.equal(m.snapshotJson());
  });
});

describe('domain_destroy: Xen\'s teardown (trace-format §3.6)', () => {
  it('drops the domain from the snapshot and frees its id and its routed lines; the last domain may go too', () => {
    const m = machine({ gic: 'v2', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32, pirqs: [48] }, { id: 2, vcpus: 1, nr_spis: 32 }] });
    run(m, { op: 'route', domain: 1, virq: 40, pirq: 48 }, { op: 'domain_destroy', domain: 1 });
    const s = m.snapshot();
    expect(s.domains.map((d) => d.id)).to.deep.equal([2]);
    expect(s.physical).to.deep.equal([]);
    expect(m.host.irqDescs.get(48)!.guest).to.equal(null);
    expect(run(m, { op: 'route', domain: 2, virq: 33, pirq: 48 })).to.deep.equal({ outcome: 'ok' });
    run(m, { op: 'domain_destroy', domain: 2 });
    expect(m.snapshotJson()).to.equal('{"pcpus":[{"id":0,"mode":"idle","running":null,"uie":false}],"domains":[],"physical":[]}');
    expect(m.snapshot().domains).to.deep.equal([]);
    // The id is free again, and the line stays configured (no EIO) for the next domain.
    run(m, { op: 'domain_create', domain: { id: 1, vcpus: 2, nr_spis: 32 } });
    expect(run(m, { op: 'route', domain: 1, virq: 32, pirq: 48 })).to.deep.equal({ outcome: 'ok' });
  });

  it('gic_remove_irq_from_guest: a line in progress (its vIRQ active in a saved LR) is disabled and deactivated; a latched arrival stays pending', () => {
    const m = machine({ gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32, pirqs: [48] }, { id: 2, vcpus: 1, nr_spis: 32 }] });
    run(m,
      { op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, { op: 'route', domain: 1, virq: 48, pirq: 48 },
      { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4, value: '0x10000' },
      { op: 'hw_irq', pirq: 48 }, { op: 'enter', pcpu: 0 }, { op: 'pmr', pcpu: 0, value: 255 }, { op: 'ack', pcpu: 0 },
      { op: 'exit', pcpu: 0 }, { op: 'hw_irq', pirq: 48 }, { op: 'idle', pcpu: 0 });
    const desc = m.host.irqDescs.get(48)!;
    expect([desc.enabled, desc.pending, desc.active, desc.inProgress]).to.deep.equal([true, true, true, true]);
    run(m, { op: 'domain_destroy', domain: 1 });
    expect([desc.enabled, desc.pending, desc.active, desc.inProgress, desc.guest]).to.deep.equal([false, true, false, false, null]);
  });

  it('gic_remove_irq_from_guest: a line the guest already deactivated but Xen still has in progress ends inactive too', () => {
    const m = machine({ gic: 'v2', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32, pirqs: [48] }] });
    run(m,
      { op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, { op: 'route', domain: 1, virq: 48, pirq: 48 },
      { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4, value: '0x10000' },
      { op: 'hw_irq', pirq: 48 }, { op: 'enter', pcpu: 0 }, { op: 'pmr', pcpu: 0, value: 255 }, { op: 'ack', pcpu: 0 },
      { op: 'eoi', pcpu: 0, intid: 48 }, { op: 'exit', pcpu: 0 });
    const desc = m.host.irqDescs.get(48)!;
    // Xen found the LR drained at this exit, so it cleared IN_PROGRESS already.
    expect([desc.active, desc.inProgress]).to.deep.equal([false, false]);
    run(m, { op: 'idle', pcpu: 0 }, { op: 'domain_destroy', domain: 1 });
    expect([desc.enabled, desc.active, desc.inProgress, desc.guest]).to.deep.equal([false, false, false, null]);
  });

  it('nothing drains the vCPUs first: the records and LRs are freed as they are (not vgic_clear_pending_irqs)', () => {
    const m = machine({ gic: 'v2', nr_lrs: 1, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] });
    run(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 1 },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 2 }, { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001100', size: 4, value: '0x6' },
      { op: 'enter', pcpu: 0 }, { op: 'exit', pcpu: 0 }, { op: 'idle', pcpu: 0 });
    const v = m.host.domains.get(1)!.vcpus[0]!;
    const held = [v.inflightIrqs.next !== v.inflightIrqs, v.lrPending.next !== v.lrPending, v.saved.lrs.some((w) => w !== 0)];
    run(m, { op: 'domain_destroy', domain: 1 });
    expect([v.inflightIrqs.next !== v.inflightIrqs, v.lrPending.next !== v.lrPending, v.saved.lrs.some((w) => w !== 0)]).to.deep.equal(held);
    expect(held).to.deep.equal([true, true, true]);
  });

  it('vgic_v3_its_free_domain: a domain destroyed with a host device still mapped is a crash naming the ASSERT; the machine is dead', () => {
    const m = machine({ ...V3, domains: [ITS_DOMAIN] });
    const d = m.host.domains.get(2)!;
    expect(() => vgicV3ItsFreeDomain(d)).to.not.throw();
    const m2 = machine({ ...V3, domains: [ITS_DOMAIN] });
    const d2 = m2.host.domains.get(2)!;
    d2.itsDevices.set('fake', { guestDevid: 7 } as never);
    const r = run(m2, { op: 'domain_destroy', domain: 2 });
    expect(r.outcome).to.equal('crash');
    expect(r.reason).to.match(/^vgic_v3_its_free_domain: ASSERT\(RB_EMPTY_ROOT\(&its_devices\)\) failed: d2 still has host device 7 mapped/);
    expect(traceError(m2, { op: 'snapshot' }, 1)).to.match(/the machine crashed at step 0/);
  });

  it('release_guest_irq and gic_remove_irq_from_guest refuse what Xen refuses (EINVAL, EBUSY) and change nothing', () => {
    const m = machine({ gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32, pirqs: [48] }, { id: 2, vcpus: 1, nr_spis: 32 }] });
    run(m, { op: 'route', domain: 1, virq: 48, pirq: 48 });
    const d1 = m.host.domains.get(1)!;
    const d2 = m.host.domains.get(2)!;
    const desc = m.host.irqDescs.get(48)!;
    expect(releaseGuestIrq(m.host, d1, 27)).to.equal('EINVAL'); // not an SPI
    expect(releaseGuestIrq(m.host, d1, 40)).to.equal('EINVAL'); // no host line
    expect(gicRemoveIrqFromGuest(d1, 48, desc)).to.equal('EBUSY'); // not dying
    expect(desc.guest).to.deep.equal({ domain: 1, virq: 48 });
    spiToPending(d2, 48).desc = desc; // a stale connection in another domain
    expect(releaseGuestIrq(m.host, d2, 48)).to.equal('EINVAL'); // not d2's line
    expect(vgicDisconnectHwIrq(d2, 40, desc)).to.equal('EINVAL'); // another record's descriptor
    expect(spiToPending(d1, 48).desc).to.equal(desc);
  });

  it('domain_vgic_free logs a release that fails and goes on with the other lines', () => {
    const m = machine({ gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32, pirqs: [48, 49] }] });
    run(m, { op: 'route', domain: 1, virq: 40, pirq: 48 }, { op: 'route', domain: 1, virq: 41, pirq: 49 });
    const d = m.host.domains.get(1)!;
    m.host.irqDescs.get(48)!.guest = { domain: 99, virq: 40 }; // corrupted: the line says it is another domain's
    d.isDying = true;
    m.host.log.length = 0;
    domainVgicFree(m.host, d);
    expect(m.host.log).to.deep.equal([{ level: 'warn', msg: 'd1: releasing vIRQ 40 failed (EINVAL)' }]);
    expect(spiToPending(d, 40).desc).to.not.equal(null);
    expect(m.host.irqDescs.get(49)!.guest).to.equal(null);
  });

  it('a device domain: its KVM handles name nothing afterwards; a new create_device takes the next handle', () => {
    const m = machine({ gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vgic: 'device' }] });
    run(m, { op: 'vcpu_create', domain: 1, vcpu: 0 }, { op: 'create_device', domain: 1, type: 'v3', test: false },
      { op: 'set_attr', device: 0, group: 'CTRL', attr: '0x0', value: null }, { op: 'domain_destroy', domain: 1 });
    expect(traceError(m, { op: 'has_attr', device: 0, group: 'CTRL', attr: '0x0' }))
      .to.equal('step 0 (has_attr): device 0 belonged to domain 1, which was destroyed (domain_destroy)');
    run(m, { op: 'domain_create', domain: { id: 1, vgic: 'device' } });
    expect(run(m, { op: 'create_device', domain: 1, type: 'v3', test: false })).to.deep.equal({ outcome: 'ok', device: 1 });
  });
});

describe('domain_create / domain_destroy: bad input (trace-format §3.6, §11)', () => {
  it('decoding: the entry is checked by the config\'s codec, errors under steps[i].domain', () => {
    const e = (u: unknown): string[] => {
      const r = decodeOp(u, 'steps[3]');
      return E.isLeft(r) ? r.left : [];
    };
    expect(e({ op: 'domain_create', domain: { id: 1, vcpus: '2', nr_spis: 32 } })).to.deep.equal(['steps[3].domain.vcpus: expected non-negative integer, got "2"']);
    expect(e({ op: 'domain_create', domain: { id: 1, vcpus: 1, nr_spis: 32, colour: 1 } })[0]).to.match(/^steps\[3\]\.domain\.colour: unknown key/);
    expect(e({ op: 'domain_create' })[0]).to.match(/^steps\[3\]\.domain: missing key/);
    expect(e({ op: 'domain_destroy', domain: -1 })[0]).to.match(/^steps\[3\]\.domain: /);
    expect(e({ op: 'domain_destroy', domain: 1, vcpu: 0 })[0]).to.match(/^steps\[3\]\.vcpu: unknown key/);
  });

  it('domain_create: an id in use and every config rule are trace errors naming the key under `domain`', () => {
    const m = machine({ gic: 'v2', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] });
    const err = (dc: unknown): string => traceError(m, { op: 'domain_create', domain: dc }, 4);
    expect(err({ id: 1, vcpus: 1, nr_spis: 32 })).to.equal('step 4 (domain_create): domain.id: domain 1 already exists (an id names one live domain; domain_destroy it first)');
    expect(err({ id: 2, vcpus: 9, nr_spis: 32 })).to.equal('step 4 (domain_create): domain.vcpus: 9 exceeds the GICv2 limit of 8 vCPUs (reference §2.4)');
    expect(err({ id: 2, vcpus: 1, nr_spis: 961 })).to.contain('domain.nr_spis: 961 rounds up to 992');
    expect(err({ id: 40000, vcpus: 1, nr_spis: 32 })).to.contain('domain.id: 40000 is outside 0..32767');
    expect(err({ id: 2, vcpus: 1, nr_spis: 32, pirqs: [20] })).to.contain('domain.pirqs[0]: 20 is not a host SPI');
    expect(err({ id: 2, vcpus: 1, nr_spis: 32, its: { base: '0x8000000', devid_bits: 8, evid_bits: 8 } })).to.contain('domain.its: a virtual ITS needs a GICv3 config');
    expect(err({ id: 2, vcpus: 1, nr_spis: 32, ram: [{ base: '0x3001000', size: '0x1000' }] })).to.contain('domain.ram[0]: ram[0] 0x3001000..0x3001fff overlaps the GICD frame');
    expect(err({ id: 2, vgic: 'device', vcpus: 1 })).to.contain('domain.vcpus: a domain with "vgic": "device" takes no vcpus');
    expect(err({ id: 2, vcpus: 1, nr_spis: 32, ipa_bits: 40 })).to.contain('domain.ipa_bits: only a domain with "vgic": "device" takes ipa_bits');
    // Several at once, each named.
    expect(err({ id: 1, vcpus: 0, nr_spis: 32 })).to.equal('step 4 (domain_create): domain.id: domain 1 already exists (an id names one live domain; domain_destroy it first); domain.vcpus: a domain needs at least 1 vCPU, got 0');
  });

  it('domain_create: the live domains with the new one must fit the state budget', () => {
    const m = machine({ gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 128, nr_spis: 960 }] });
    for (let id = 2; id <= 25; id++) run(m, { op: 'domain_create', domain: { id, vcpus: 128, nr_spis: 960 } });
    expect(traceError(m, { op: 'domain_create', domain: { id: 30, vcpus: 128, nr_spis: 960 } }))
      .to.equal('step 0 (domain_create): domain: 131456 interrupt records with the live domains\' 126400 (32 × vcpus + nr_spis rounded up to 32, per domain), above the state budget of 131072');
    run(m, { op: 'domain_destroy', domain: 7 });
    expect(run(m, { op: 'domain_create', domain: { id: 30, vcpus: 128, nr_spis: 960 } })).to.deep.equal({ outcome: 'ok' });
  });

  it('domain_destroy: an unknown domain, or a vCPU still loaded on a pCPU (hyp or guest), is a trace error naming the vCPU and pCPU', () => {
    const m = machine({ gic: 'v3', nr_lrs: 2, pcpus: 2, domains: [{ id: 1, vcpus: 2, nr_spis: 32 }] });
    expect(traceError(m, { op: 'domain_destroy', domain: 3 }, 2)).to.equal('step 2 (domain_destroy): domain 3 does not exist');
    run(m, { op: 'run', pcpu: 1, domain: 1, vcpu: 1 });
    expect(traceError(m, { op: 'domain_destroy', domain: 1 }, 2))
      .to.equal('step 2 (domain_destroy): d1v1 is running on pCPU 1; domain_destroy needs every vCPU of the domain off its pCPU (idle that pCPU or run another vCPU there first)');
    run(m, { op: 'enter', pcpu: 1 });
    expect(traceError(m, { op: 'domain_destroy', domain: 1 })).to.contain('d1v1 is running on pCPU 1');
    run(m, { op: 'exit', pcpu: 1 }, { op: 'idle', pcpu: 1 });
    expect(run(m, { op: 'domain_destroy', domain: 1 })).to.deep.equal({ outcome: 'ok' });
  });

  it('a destroyed domain\'s id is unknown to every op until it is created again', () => {
    const m = machine({ gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }, { ...ITS_DOMAIN, id: 2 }] });
    run(m, { op: 'domain_destroy', domain: 2 });
    const steps: Record<string, unknown>[] = [
      { op: 'run', pcpu: 0, domain: 2, vcpu: 0 }, { op: 'inject', pcpu: 0, domain: 2, vcpu: null, virq: 32 },
      { op: 'route', domain: 2, virq: 32, pirq: 50 }, { op: 'vcpu_off', domain: 2, vcpu: 0 }, { op: 'vcpu_on', domain: 2, vcpu: 0 },
      { op: 'mem_write', domain: 2, addr: '0x40000000', size: 4, value: '0x0' }, { op: 'mem_read', domain: 2, addr: '0x40000000', size: 4 },
      { op: 'msi', pcpu: 0, domain: 2, devid: 0, eventid: 0 }, { op: 'domain_destroy', domain: 2 },
      { op: 'vcpu_create', domain: 2, vcpu: 0 }, { op: 'kvm_run', domain: 2, vcpu: 0 }, { op: 'create_device', domain: 2, type: 'v3', test: false },
    ];
    for (const s of steps) expect(traceError(m, s)).to.contain('domain 2 does not exist');
    run(m, { op: 'domain_create', domain: { id: 2, vcpus: 1, nr_spis: 32 } }, { op: 'run', pcpu: 0, domain: 2, vcpu: 0 });
  });

  it('vgic serve answers a refused lifecycle step ok:false and goes on', () => {
    const input = [
      { id: 1, cmd: 'reset', config: { gic: 'v2', nr_lrs: 1, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] } },
      { id: 2, cmd: 'step', step: { op: 'domain_create', domain: { id: 1, vcpus: 1, nr_spis: 32 } } },
      { id: 3, cmd: 'step', step: { op: 'domain_destroy', domain: 1 } },
      { id: 4, cmd: 'step', step: { op: 'domain_destroy', domain: 1 } },
      { id: 5, cmd: 'snapshot' },
    ].map((x) => JSON.stringify(x)).join('\n');
    const r = spawnSync(process.execPath, [MAIN, 'serve'], { input, encoding: 'utf8' });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[1]).to.deep.equal({ id: 2, ok: false, error: 'step 0 (domain_create): domain.id: domain 1 already exists (an id names one live domain; domain_destroy it first)' });
    expect(lines[2]).to.deep.equal({ id: 3, ok: true, result: { outcome: 'ok' } });
    expect(lines[3]).to.deep.equal({ id: 4, ok: false, error: 'step 1 (domain_destroy): domain 1 does not exist' });
    expect(lines[4]).to.deep.equal({ id: 5, ok: true, snapshot: { pcpus: [{ id: 0, mode: 'idle', running: null, uie: false }], domains: [], physical: [] } });
    expect(r.status).to.equal(0);
  });
});

describe('the tools across create and destroy', () => {
  const trace = {
    format: 'vgic-trace/1', name: 'life-tools',
    config: { gic: 'v2', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32, pirqs: [48] }] },
    steps: [
      { op: 'route', domain: 1, virq: 48, pirq: 48 }, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 5 }, { op: 'idle', pcpu: 0 },
      { op: 'domain_destroy', domain: 1 },
      { op: 'domain_create', domain: { id: 3, vcpus: 2, nr_spis: 64, pirqs: [48] } },
      { op: 'route', domain: 3, virq: 40, pirq: 48 }, { op: 'run', pcpu: 0, domain: 3, vcpu: 1 },
      { op: 'domain_create', domain: { id: 1, vcpus: 1, nr_spis: 32 } }, { op: 'idle', pcpu: 0 }, { op: 'domain_destroy', domain: 3 },
      { op: 'domain_destroy', domain: 1, expect: { result: { outcome: 'ok' } } },
    ],
  };
  let dir = '';
  let file = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vgic-life-'));
    file = join(dir, 'life.json');
    writeFileSync(file, JSON.stringify(trace));
  });

  it('replay --check: invariants and properties after every step, no finding', () => {
    const t = decodeTrace(trace);
    if (E.isLeft(t)) throw new Error(t.left.join('; '));
    const rep = runTrace(t.right, { check: (m) => new StepMonitor(m) });
    expect(rep.status).to.equal('pass');
    const r = spawnSync(process.execPath, [MAIN, 'replay', '--check', file], { encoding: 'utf8' });
    expect(r.stdout).to.contain('1 traces: 1 passed');
    expect(r.status).to.equal(0);
  });

  it('the monitor forgets a destroyed domain\'s vCPUs: an offline vCPU of the old domain 1 does not haunt the new one (I19)', () => {
    const m = machine({ gic: 'v2', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] });
    const mon = new StepMonitor(m);
    const steps: Record<string, unknown>[] = [
      { op: 'vcpu_off', domain: 1, vcpu: 0 }, { op: 'domain_destroy', domain: 1 },
      { op: 'domain_create', domain: { id: 1, vcpus: 1, nr_spis: 32 } }, { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 3 },
      { op: 'vcpu_off', domain: 1, vcpu: 0 }, { op: 'domain_destroy', domain: 1 },
    ];
    steps.forEach((s, i) => {
      const op = decodeOp(s);
      if (E.isLeft(op)) throw new Error(op.left.join('; '));
      mon.before(op.right);
      const r = m.apply(op.right, i);
      if (isTraceError(r)) throw new Error(r.message);
      expect(mon.after(op.right, r), JSON.stringify(s)).to.deep.equal([]);
    });
  });

  it('vgic dump (text) shows the state after a destroy and after the last domain is gone', () => {
    const a = spawnSync(process.execPath, [MAIN, 'dump', file, '--step', '5'], { encoding: 'utf8' });
    expect(a.status).to.equal(0);
    expect(a.stdout).to.contain('domain_create domain={"id":3,"vcpus":2,"nr_spis":64,"pirqs":[48]} -> ok');
    expect(a.stdout).to.contain('domain 3:');
    expect(a.stdout).to.not.contain('domain 1:');
    const b = spawnSync(process.execPath, [MAIN, 'dump', file, '--step', '11', '--check'], { encoding: 'utf8' });
    expect(b.status).to.equal(0);
    expect(b.stdout).to.not.match(/^domain /m);
  });

  it('vgic dump --html has rows for every domain a step creates, empty while it does not exist', () => {
    const html = join(dir, 'life.html');
    const r = spawnSync(process.execPath, [MAIN, 'dump', file, '--html', html], { encoding: 'utf8' });
    expect(r.status).to.equal(0);
    const page = readFileSync(html, 'utf8');
    for (const id of ['d1v0', 'd3v0', 'd3v1']) expect(page).to.contain(`d${id.slice(1)}`);
    expect(page).to.contain('domain_create: d3 d1');
  });

  it('fixtures/lifecycle replays with every expectation met and no invariant or property violated', () => {
    const r = spawnSync(process.execPath, [MAIN, 'replay', '--check', FIXTURES], { encoding: 'utf8' });
    expect(r.stdout).to.match(/^7 traces: 7 passed, 0 failed, 0 errors; \d+ checks/m);
    expect(r.status).to.equal(0);
  });
});

describe('the generator\'s lifecycle batches (GenOptions.life, src/conformance/gen-life.ts)', () => {
  it('off by default: a trace is the same with life undefined or 0, and carries no lifecycle op', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const a = generateTrace(seed, { steps: 60 });
      expect(JSON.stringify(generateTrace(seed, { steps: 60, life: 0 }))).to.equal(JSON.stringify(a));
      expect(a.steps.some((s) => s['op'] === 'domain_create' || s['op'] === 'domain_destroy')).to.equal(false);
    }
  });

  it('on: traces destroy and create domains, stay valid, and a replay --check finds nothing', () => {
    let creates = 0;
    let destroys = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const tr = generateTrace(seed, { steps: 80, life: 0.05, expect: 'results' });
      creates += tr.steps.filter((s) => s['op'] === 'domain_create').length;
      destroys += tr.steps.filter((s) => s['op'] === 'domain_destroy').length;
      const t = decodeTrace(tr);
      if (E.isLeft(t)) throw new Error(t.left.join('; '));
      const rep = runTrace(t.right, { check: (m) => new StepMonitor(m) });
      expect(rep.status, `seed ${seed}: ${JSON.stringify(rep.violation ?? rep.failure ?? rep.error ?? '')}`).to.equal('pass');
    }
    expect(creates).to.be.greaterThan(20);
    expect(destroys).to.be.greaterThan(20);
  });

  it('only when the ops allowed include both lifecycle ops (vgic diff --random against a side without them)', () => {
    expect(lifeAllowed(new Set(['run', 'domain_create']))).to.equal(false);
    const ops = new Set(['run', 'idle', 'enter', 'exit', 'inject', 'ack', 'eoi', 'domain_destroy']);
    for (let seed = 1; seed <= 20; seed++) {
      const tr = generateTrace(seed, { steps: 60, life: 0.5, ops });
      expect(tr.steps.every((s) => ops.has(s['op'] as string))).to.equal(true);
    }
  });

  it('model-based: random commands with lifecycle batches, invariants and properties after every step', () => {
    const applied = { runs: 0, steps: 0 };
    fc.assert(modelBasedProperty(null, arbConfig({ spis: { min: 32, max: 128 }, maxDomains: 2 }), arbOpCommands(LIFE_OP_WEIGHTS, 80), applied), { numRuns: 60 });
    expect(applied.steps).to.be.greaterThan(500);
  });
});
