/**
 * The machine of docs/trace-format.md: config limits (Q33), step preconditions (trace errors leave the
 * state untouched), crashes, context switches (§0.2 item 3, docs/trace-format.md §2.2) and the guest
 * CPU-interface ops of docs/trace-format.md §3.4.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { setRawLr } from '../src/arch/lr.js';
import { Machine } from '../src/machine/machine.js';
import { vgicSyncToLrs } from '../src/xen/gic-vgic.js';
import { GIC_IRQ_GUEST_PRISTINE_LPI, setBit } from '../src/xen/types.js';
import {
  ack, config, dir, enter, eoi, eoimode, exit, idle, inject, json, lrPending, lrs, machine, pcpu, pmr,
  prepare, rec, run, step, stepError, stepIndex, uie, vcpu, vsnap,
} from './helpers.js';

describe('machine: config limits (2.1, Q33)', () => {
  it('Q33: nr_spis 961 is rejected by Machine.create with a message naming config.domains[0].nr_spis', () => {
    const r = Machine.fromJson(config({ nr_spis: 961 }));
    expect(E.isLeft(r)).to.equal(true);
    if (E.isRight(r)) return;
    expect(r.left).to.have.length(1);
    expect(r.left[0]).to.equal('config.domains[0].nr_spis: 961 rounds up to 992, above the limit of 960 SPIs (reference §2.3, Q33)');
  });

  it('Q33: nr_spis 960 is accepted and gives 30 shared ranks (INTIDs 32..991)', () => {
    const m = machine(config({ nr_spis: 960 }));
    const ranks = m.snapshot().domains[0]!.ranks;
    expect(ranks.map((r) => r.index)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(inject(m, 0, 991, null).outcome).to.equal('ok');
    expect(stepError(m, { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 992 })).to.match(/SPIs 32\.\.991/);
  });

  it('2.3: a count that is not a multiple of 32 is rounded up (33 -> 64 SPIs, 2 ranks)', () => {
    const m = machine(config({ nr_spis: 33 }));
    expect(m.snapshot().domains[0]!.ranks.map((r) => r.index)).to.deep.equal([1, 2]);
  });
});

describe('machine: trace errors leave the state untouched (docs/trace-format.md §3)', () => {
  /**
   * 3 vCPUs, 2 pCPUs: pCPU0 runs vCPU0 in guest mode with IRQ 27 in LR0, pCPU1 is idle,
   * vCPU1 is online and not running, vCPU2 is offline.
   */
  function busy(): Machine {
    const m = machine(config({ vcpus: 3 }));
    run(m, 0, 0);
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xf0);
    step(m, { op: 'vcpu_off', domain: 1, vcpu: 2 });
    return m;
  }

  const cases: [string, unknown, string][] = [
    ['enter on an idle pCPU (wrong mode)', { op: 'enter', pcpu: 1 }, '(enter): pCPU 1 is idle; enter needs it hyp'],
    ['exit on an idle pCPU (wrong mode)', { op: 'exit', pcpu: 1 }, '(exit): pCPU 1 is idle; exit needs it guest'],
    ['run on a pCPU in guest mode', { op: 'run', pcpu: 0, domain: 1, vcpu: 1 }, '(run): pCPU 0 is guest; run needs it idle or hyp'],
    ['idle on a pCPU in guest mode', { op: 'idle', pcpu: 0 }, '(idle): pCPU 0 is guest; idle needs it idle or hyp'],
    ['inject on a pCPU in guest mode', { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 27 }, '(inject): pCPU 0 is guest; inject needs it idle or hyp'],
    ['ack on an idle pCPU', { op: 'ack', pcpu: 1 }, '(ack): pCPU 1 is idle; ack needs it guest'],
    ['eoi on an idle pCPU', { op: 'eoi', pcpu: 1, intid: 27 }, '(eoi): pCPU 1 is idle; eoi needs it guest'],
    ['dir on an idle pCPU', { op: 'dir', pcpu: 1, intid: 27 }, '(dir): pCPU 1 is idle; dir needs it guest'],
    ['pmr on an idle pCPU', { op: 'pmr', pcpu: 1, value: 0xff }, '(pmr): pCPU 1 is idle; pmr needs it guest'],
    ['eoimode on an idle pCPU', { op: 'eoimode', pcpu: 1, value: 1 }, '(eoimode): pCPU 1 is idle; eoimode needs it guest'],
    ['pending_check on a pCPU in guest mode', { op: 'pending_check', pcpu: 0 }, '(pending_check): pCPU 0 is guest; pending_check needs it hyp'],
    ['pending_check on an idle pCPU', { op: 'pending_check', pcpu: 1 }, '(pending_check): pCPU 1 is idle; pending_check needs it hyp'],
    ['run on a pCPU that does not exist', { op: 'run', pcpu: 7, domain: 1, vcpu: 1 }, '(run): pCPU 7 does not exist (pcpus: 2)'],
    ['run in an unknown domain', { op: 'run', pcpu: 1, domain: 9, vcpu: 0 }, '(run): domain 9 does not exist'],
    ['inject into an unknown domain', { op: 'inject', pcpu: 1, domain: 9, vcpu: 0, virq: 27 }, '(inject): domain 9 does not exist'],
    ['vcpu_off in an unknown domain', { op: 'vcpu_off', domain: 9, vcpu: 0 }, '(vcpu_off): domain 9 does not exist'],
    ['run an unknown vCPU', { op: 'run', pcpu: 1, domain: 1, vcpu: 5 }, '(run): domain 1 has no vCPU 5 (it has 3)'],
    ['inject a PPI into an unknown vCPU', { op: 'inject', pcpu: 1, domain: 1, vcpu: 5, virq: 27 }, '(inject): domain 1 has no vCPU 5 (it has 3)'],
    ['vcpu_on of an unknown vCPU', { op: 'vcpu_on', domain: 1, vcpu: 5 }, '(vcpu_on): domain 1 has no vCPU 5 (it has 3)'],
    ['run a vCPU already running elsewhere', { op: 'run', pcpu: 1, domain: 1, vcpu: 0 }, '(run): d1v0 is already running on pCPU 0'],
    ['run an offline vCPU', { op: 'run', pcpu: 1, domain: 1, vcpu: 2 }, '(run): d1v2 is offline'],
    ['vcpu_off on a running vCPU', { op: 'vcpu_off', domain: 1, vcpu: 0 }, '(vcpu_off): d1v0 is running on pCPU 0'],
    ['vcpu_off on an offline vCPU', { op: 'vcpu_off', domain: 1, vcpu: 2 }, '(vcpu_off): d1v2 is already offline'],
    ['vcpu_on on an online vCPU', { op: 'vcpu_on', domain: 1, vcpu: 1 }, '(vcpu_on): d1v1 is already online'],
    ['inject with vcpu null for a PPI', { op: 'inject', pcpu: 1, domain: 1, vcpu: null, virq: 27 }, '(inject): virq 27 is an SGI/PPI, so vcpu must name a vCPU, not null'],
    ['inject with vcpu null for an SGI', { op: 'inject', pcpu: 1, domain: 1, vcpu: null, virq: 3 }, '(inject): virq 3 is an SGI/PPI, so vcpu must name a vCPU, not null'],
    ['inject with a vCPU number for an SPI', { op: 'inject', pcpu: 1, domain: 1, vcpu: 0, virq: 40 }, '(inject): virq 40 is an SPI, so vcpu must be null (SPIs go to their rank target)'],
    ['inject a virq beyond the SPIs', { op: 'inject', pcpu: 1, domain: 1, vcpu: null, virq: 96 }, '(inject): virq 96 is neither an SGI/PPI nor an SPI of domain 1 (SPIs 32..95)'],
    ['inject an LPI', { op: 'inject', pcpu: 1, domain: 1, vcpu: null, virq: 8192 }, '(inject): virq 8192 is neither an SGI/PPI nor an SPI of domain 1'],
  ];

  for (const [what, op, message] of cases) {
    it(`docs/trace-format.md §3: ${what} is a trace error naming the step and leaves the snapshot byte-identical`, () => {
      const m = busy();
      const before = json(m);
      const kicks = vcpu(m, 0).kicks + vcpu(m, 1).kicks;
      const i = stepIndex(m);
      const msg = stepError(m, op);
      expect(msg.startsWith(`step ${i} `)).to.equal(true, msg);
      expect(msg).to.include(message);
      expect(json(m)).to.equal(before);
      expect(vcpu(m, 0).kicks + vcpu(m, 1).kicks).to.equal(kicks);
    });
  }

  const decodeCases: [string, unknown, string][] = [
    ['an unknown key', { op: 'enter', pcpu: 1, bogus: 1 }, '.bogus: unknown key'],
    ['a missing key', { op: 'run', pcpu: 1, domain: 1 }, '.vcpu: missing key (expected non-negative integer)'],
    ['a missing vcpu key on inject', { op: 'inject', pcpu: 1, domain: 1, virq: 40 }, '.vcpu: missing key'],
    ['a wrong type (string pcpu)', { op: 'run', pcpu: '1', domain: 1, vcpu: 1 }, '.pcpu: expected non-negative integer, got "1"'],
    ['a wrong type (string level)', { op: 'inject', pcpu: 1, domain: 1, vcpu: 0, virq: 27, level: 'yes' }, '.level: expected boolean, got "yes"'],
    ['a negative intid', { op: 'eoi', pcpu: 0, intid: -1 }, '.intid: expected non-negative integer, got -1'],
    ['a pmr value above 255', { op: 'pmr', pcpu: 0, value: 256 }, '.value: expected integer 0..255, got 256'],
    ['an eoimode value of 2', { op: 'eoimode', pcpu: 0, value: 2 }, '.value: expected 0 | 1, got 2'],
    ['an unknown op', { op: 'frobnicate', pcpu: 0 }, '.op: unknown op "frobnicate"'],
    ['a missing op', { pcpu: 0 }, '.op: missing key'],
    ['a step that is not an object', 42, ': expected an object, got 42'],
  ];

  for (const [what, op, message] of decodeCases) {
    it(`docs/trace-format.md §3: ${what} is a trace error naming the step and leaves the snapshot byte-identical`, () => {
      const m = busy();
      const before = json(m);
      const i = stepIndex(m);
      const msg = stepError(m, op);
      expect(msg.startsWith(`step ${i}: steps[${i}]`)).to.equal(true, msg);
      expect(msg).to.include(message);
      expect(json(m)).to.equal(before);
    });
  }

  it('docs/trace-format.md §3: after trace errors the machine carries on normally', () => {
    const m = busy();
    stepError(m, { op: 'enter', pcpu: 1 });
    stepError(m, { op: 'run', pcpu: 1, domain: 1, vcpu: 0 });
    expect(step(m, { op: 'ack', pcpu: 0 })).to.deep.equal({ outcome: 'ok', intid: 27 });
  });
});

describe('machine: crash (docs/trace-format.md §4)', () => {
  it('docs/trace-format.md §4: a failed ASSERT gives outcome crash with its reason; every later step is a trace error', () => {
    const m = machine();
    run(m, 0, 0);
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    setBit(rec(m, 27), GIC_IRQ_GUEST_PRISTINE_LPI);
    const crashAt = stepIndex(m);
    const r = exit(m, 0);
    expect(r).to.deep.equal({ outcome: 'crash', reason: 'gic_update_one_lr: ASSERT(is_lpi(27)) failed' });
    expect(m.crashed).to.deep.equal({ step: crashAt, reason: 'gic_update_one_lr: ASSERT(is_lpi(27)) failed' });
    const after: Record<string, unknown>[] = [
      { op: 'snapshot' },
      { op: 'exit', pcpu: 0 },
      { op: 'enter', pcpu: 0 },
      { op: 'idle', pcpu: 1 },
      { op: 'run', pcpu: 1, domain: 1, vcpu: 1 },
      { op: 'inject', pcpu: 1, domain: 1, vcpu: 1, virq: 27 },
      { op: 'ack', pcpu: 0 },
      { op: 'vcpu_off', domain: 1, vcpu: 1 },
      { op: 'pending_check', pcpu: 0 },
    ];
    for (const op of after) {
      const i = stepIndex(m);
      expect(stepError(m, op)).to.equal(
        `step ${i} (${String(op['op'])}): the machine crashed at step ${crashAt} (gic_update_one_lr: ASSERT(is_lpi(27)) failed); reset it first`);
    }
    expect(stepError(m, { op: 'frobnicate' })).to.match(/unknown op/);
  });

  it('docs/trace-format.md §4: an LR index outside the LR file (p->lr = 255 re-examined, 3.3) is a crash too', () => {
    const m = machine();
    run(m, 0, 0);
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    rec(m, 27).lr = 0xff;
    const r = inject(m, 0, 27);
    expect(r.outcome).to.equal('crash');
    expect(r.reason).to.equal('gic_update_one_lr/read_lr: LR index 255 is outside the LR file (nr_lrs 4)');
    expect(stepError(m, { op: 'snapshot' })).to.match(/the machine crashed at step \d+/);
  });
});

describe('machine: context switch (0.2 item 3, docs/trace-format.md §2.2)', () => {
  it('0.2 item 3: run/idle save and restore each vCPU\'s LRs, lr_mask, pmr, eoimode and apr', () => {
    const m = machine(config({ pcpus: 1 }));
    run(m, 0, 0);
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xf0);
    eoimode(m, 0, 1);
    expect(ack(m, 0)).to.equal(27);
    exit(m, 0);
    run(m, 0, 1); // switch straight from vCPU0 (hyp) to vCPU1
    const v0 = vsnap(m, 0);
    expect([v0.lr_mask, v0.pmr, v0.eoimode, v0.apr]).to.deep.equal(['0x1', 240, 1, '0x100000']);
    expect(v0.lrs.map((l) => [l.lr, l.raw, l.state])).to.deep.equal([[0, '0x90a000000000001b', 'active']]);
    const v1 = vsnap(m, 1);
    expect([v1.lr_mask, v1.pmr, v1.eoimode, v1.apr, v1.lrs]).to.deep.equal(['0x0', 0, 0, '0x0', []]);
    const cpu = pcpu(m, 0);
    expect([cpu.cpuif.pmr, cpu.cpuif.eoimode, cpu.cpuif.apr, cpu.lrMask.isZero()]).to.deep.equal([0, 0, 0, true]);
    enter(m, 0);
    pmr(m, 0, 0x80);
    expect(ack(m, 0)).to.equal(1023); // vCPU1 does not see vCPU0's LRs
    exit(m, 0);
    idle(m, 0);
    expect(vsnap(m, 1).pmr).to.equal(0x80);
    expect(m.snapshot().pcpus[0]).to.deep.equal({ id: 0, mode: 'idle', running: null, uie: false });
    run(m, 0, 0);
    expect([cpu.cpuif.pmr, cpu.cpuif.eoimode, cpu.cpuif.apr, cpu.lrMask.lo]).to.deep.equal([0xf0, 1, 0x100000, 1]);
    enter(m, 0);
    eoi(m, 0, 27); // EOI mode 1 restored: priority drop only
    expect(vsnap(m, 0).apr).to.equal('0x0');
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x90a000000000001b', state: 'active' }]);
    dir(m, 0, 27);
    exit(m, 0);
    expect(vsnap(m, 0).lr_mask).to.equal('0x0');
    expect(vsnap(m, 0).inflight).to.deep.equal([]);
  });

  it('0.2 item 3: a vCPU taken off one pCPU resumes on another with its saved state', () => {
    const m = machine();
    run(m, 0, 0);
    prepare(m, 27, 0xa0);
    inject(m, 0, 27);
    enter(m, 0);
    pmr(m, 0, 0xff);
    exit(m, 0);
    idle(m, 0);
    run(m, 1, 0);
    expect(m.snapshot().pcpus.map((p) => p.running)).to.deep.equal([null, { domain: 1, vcpu: 0 }]);
    expect(vcpu(m, 0).processor).to.equal(1);
    enter(m, 1);
    expect(ack(m, 1)).to.equal(27);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x90a000000000001b', state: 'active' }]);
  });

  /** vCPU0 on pCPU0 (hyp) with UIE set by a return-to-guest pass that left lr_pending non-empty. */
  function uieSet(gic: 'v2' | 'v3'): Machine {
    const m = machine(config({ gic, nr_lrs: 1 }));
    run(m, 0, 0);
    prepare(m, 32, 0xa0);
    prepare(m, 33, 0xa0);
    inject(m, 0, 32);
    inject(m, 0, 33);
    // An `exit` always clears UIE, so run the sync-to-LRs pass of `enter` without leaving hyp.
    vgicSyncToLrs(pcpu(m, 0));
    expect(uie(m, 0)).to.equal(true);
    expect(lrPending(m, 0)).to.deep.equal([33]);
    return m;
  }

  it('docs/trace-format.md §2.2: on v2 a context switch clears UIE (save writes HCR 0, restore writes EN only)', () => {
    const m = uieSet('v2');
    idle(m, 0);
    expect(uie(m, 0)).to.equal(false);
    const n = uieSet('v2');
    run(n, 0, 1);
    expect(uie(n, 0)).to.equal(false);
  });

  it('docs/trace-format.md §2.2: on v3 UIE survives context switches until the next exit on that pCPU', () => {
    const m = uieSet('v3');
    idle(m, 0);
    expect(uie(m, 0)).to.equal(true);
    run(m, 0, 1);
    expect(uie(m, 0)).to.equal(true);
    enter(m, 0);
    expect(uie(m, 0)).to.equal(true);
    exit(m, 0);
    expect(uie(m, 0)).to.equal(false);
  });
});

describe('machine: guest CPU interface ops (docs/trace-format.md §3.4)', () => {
  /** vCPU0 in guest mode on pCPU0 with the given (irq, priority) pairs in LR0.. in order. */
  function guest(irqs: [number, number][], gic: 'v2' | 'v3' = 'v3', cfg = config({ gic })): Machine {
    const m = machine(cfg);
    run(m, 0, 0);
    for (const [irq, prio] of irqs) {
      prepare(m, irq, prio);
      inject(m, 0, irq);
    }
    enter(m, 0);
    return m;
  }

  it('docs/trace-format.md §3.4: ack returns 1023 when no LR qualifies (none at all, or PMR 0 masks everything)', () => {
    const m = guest([]);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(1023);
    expect(vsnap(m, 0).apr).to.equal('0x0');
    const n = guest([[27, 0x00]]);
    expect(ack(n, 0)).to.equal(1023);
    expect(lrs(n, 0)).to.deep.equal([{ lr: 0, raw: '0x500000000000001b', state: 'pending' }]);
  });

  it('docs/trace-format.md §2.2: pmr keeps value & 0xf8 on v2, so 0xa7 still masks a 0xa0 IRQ and 0xa8 does not', () => {
    const m = guest([[27, 0xa0]], 'v2');
    pmr(m, 0, 0xa7);
    expect(vsnap(m, 0).pmr).to.equal(0xa0);
    expect(ack(m, 0)).to.equal(1023);
    pmr(m, 0, 0xa8);
    expect(vsnap(m, 0).pmr).to.equal(0xa8);
    expect(ack(m, 0)).to.equal(27);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x2a00001b', state: 'active' }]);
    expect(vsnap(m, 0).apr).to.equal('0x100000');
  });

  it('docs/trace-format.md §2.2: pmr keeps all 8 bits on v3: 0xa0 masks a 0xa0 IRQ, 0xa1 does not', () => {
    const m = guest([[27, 0xa0]], 'v3');
    pmr(m, 0, 0xa0);
    expect(ack(m, 0)).to.equal(1023);
    pmr(m, 0, 0xa1);
    expect(vsnap(m, 0).pmr).to.equal(0xa1);
    expect(ack(m, 0)).to.equal(27);
  });

  it('docs/trace-format.md §3.4: ack takes the lowest group priority, the lowest LR index on a tie, and sets its APR bit', () => {
    const m = guest([[32, 0xa0], [33, 0x9f], [34, 0x98]]);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(33);
    expect(lrs(m, 0)).to.deep.equal([
      { lr: 0, raw: '0x50a0000000000020', state: 'pending' },
      { lr: 1, raw: '0x909f000000000021', state: 'active' },
      { lr: 2, raw: '0x5098000000000022', state: 'pending' },
    ]);
    expect(vsnap(m, 0).apr).to.equal('0x80000');
  });

  it('docs/trace-format.md §3.4: the running priority (lowest APR bit) blocks equal and lower groups until EOI', () => {
    const m = guest([[32, 0xa0], [33, 0x9f], [34, 0x98]]);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(33);
    expect(ack(m, 0)).to.equal(1023);
    eoi(m, 0, 33);
    expect(vsnap(m, 0).apr).to.equal('0x0');
    expect(ack(m, 0)).to.equal(34);
    expect(ack(m, 0)).to.equal(1023);
  });

  it('docs/trace-format.md §3.4: a higher group preempts; eoi drops the lowest set APR bit whatever intid it names', () => {
    const m = guest([[32, 0xa0]]);
    pmr(m, 0, 0xff);
    eoimode(m, 0, 1);
    expect(ack(m, 0)).to.equal(32);
    prepare(m, 33, 0x80);
    inject(m, 1, 33);
    exit(m, 0);
    enter(m, 0);
    expect(ack(m, 0)).to.equal(33);
    expect(vsnap(m, 0).apr).to.equal('0x110000');
    eoi(m, 0, 32);
    expect(vsnap(m, 0).apr).to.equal('0x100000');
    expect(lrs(m, 0).map((l) => l.state)).to.deep.equal(['active', 'active']);
  });

  it('docs/trace-format.md §3.4: a pending+active LR is not a candidate for ack', () => {
    const m = guest([[27, 0xa0]]);
    pmr(m, 0, 0xff);
    eoimode(m, 0, 1);
    expect(ack(m, 0)).to.equal(27);
    eoi(m, 0, 27);
    exit(m, 0);
    inject(m, 0, 27);
    enter(m, 0);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0xd0a000000000001b', state: 'pending+active' }]);
    expect(ack(m, 0)).to.equal(1023);
    dir(m, 0, 27);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x50a000000000001b', state: 'pending' }]);
    expect(ack(m, 0)).to.equal(27);
  });

  it('docs/trace-format.md §3.4: in EOI mode 0 eoi drops and deactivates, and dir is ignored', () => {
    const m = guest([[27, 0xa0]]);
    pmr(m, 0, 0xff);
    expect(ack(m, 0)).to.equal(27);
    const before = json(m);
    dir(m, 0, 27);
    expect(json(m)).to.equal(before);
    eoi(m, 0, 27);
    expect(vsnap(m, 0).apr).to.equal('0x0');
    expect(lrs(m, 0)).to.deep.equal([]);
  });

  it('docs/trace-format.md §3.4: in EOI mode 1 eoi only drops priority and dir deactivates', () => {
    const m = guest([[27, 0xa0]]);
    pmr(m, 0, 0xff);
    eoimode(m, 0, 1);
    expect(vsnap(m, 0).eoimode).to.equal(1);
    expect(ack(m, 0)).to.equal(27);
    eoi(m, 0, 27);
    expect(vsnap(m, 0).apr).to.equal('0x0');
    expect(lrs(m, 0)).to.deep.equal([{ lr: 0, raw: '0x90a000000000001b', state: 'active' }]);
    dir(m, 0, 27);
    expect(lrs(m, 0)).to.deep.equal([]);
  });

  it('docs/trace-format.md §3.4: eoi in mode 0 deactivates even when there is no APR bit to drop', () => {
    const m = guest([[27, 0xa0]]);
    pmr(m, 0, 0xff);
    eoimode(m, 0, 1);
    expect(ack(m, 0)).to.equal(27);
    eoi(m, 0, 27);
    eoimode(m, 0, 0);
    eoi(m, 0, 27);
    expect(vsnap(m, 0).apr).to.equal('0x0');
    expect(lrs(m, 0)).to.deep.equal([]);
  });

  it('docs/trace-format.md §3.4: dir deactivates the lowest-index active LR holding the INTID; no such LR changes nothing', () => {
    const m = guest([]);
    eoimode(m, 0, 1);
    const lrFile = pcpu(m, 0).cpuif.lrs;
    setRawLr(lrFile, 0, 0x90a000000000001bn);
    setRawLr(lrFile, 2, 0x90a000000000001bn);
    dir(m, 0, 27);
    expect(lrs(m, 0)).to.deep.equal([{ lr: 2, raw: '0x90a000000000001b', state: 'active' }]);
    const before = json(m);
    dir(m, 0, 28);
    expect(json(m)).to.equal(before);
  });

  it('docs/trace-format.md §3.4: deactivating an LR with the HW bit clears the physical IRQ\'s active bit', () => {
    const m = machine(config({ pirqs: [48] }));
    run(m, 0, 0);
    const desc = m.host.irqDescs.get(48)!;
    desc.guest = { domain: 1, virq: 48 };
    desc.active = true;
    rec(m, 48).desc = desc;
    prepare(m, 48, 0xa0);
    inject(m, 0, 48);
    enter(m, 0);
    pmr(m, 0, 0xff);
    eoimode(m, 0, 1);
    expect(ack(m, 0)).to.equal(48);
    eoi(m, 0, 48);
    expect(desc.active).to.equal(true);
    dir(m, 0, 48);
    expect(desc.active).to.equal(false);
    expect(lrs(m, 0)).to.deep.equal([]);
    expect(m.snapshot().physical[0]!.active).to.equal(false);
  });

  it('docs/trace-format.md §3.5: snapshot is a query: RESULT ok with the same snapshot, nothing changes', () => {
    const m = guest([[27, 0xa0]]);
    const before = json(m);
    const r = step(m, { op: 'snapshot' });
    expect(r.outcome).to.equal('ok');
    expect(JSON.stringify(r.snapshot)).to.equal(before);
    expect(json(m)).to.equal(before);
  });
});
