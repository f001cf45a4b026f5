/**
 * The conformance layer in-process: the RESULT/snapshot tables (full and PARTIAL codecs,
 * canonical form), docs/trace-format.md §6 matching, trace decoding with paths, running traces with
 * expectations, the replay summary, the driver-protocol server and the trace generator.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PartialSnapshotCodec, RESULT, ResultCodec, SNAPSHOT, SnapshotCodec, canonical, firstDifference, matchPartial, show,
} from '../src/conformance/schema.js';
import { decodeTrace, runTrace, type Trace } from '../src/conformance/trace.js';
import { formatReplay, replayJson, replayPaths } from '../src/conformance/replay.js';
import { Server, decodeRequest } from '../src/conformance/protocol.js';
import { generateTrace, Rng, randomConfig } from '../src/conformance/gen.js';
import { ModelDriver } from '../src/conformance/driver.js';
import { runCase, shrinkCase, divergenceTrace } from '../src/conformance/diff.js';
import { decodeWith } from '../src/machine/decode.js';
import { config, machine, run, inject, prepare, snap } from './helpers.js';

const CFG = { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] };
const CRASH_CFG = { ...CFG, nr_lrs: 3 };

/** 3 LRs, two active IRQs (the second preempts the first), then 0xc0, 0xe0, 0xf0, 0x80 queued: the last step (enter) crashes. */
function crashSteps(): Record<string, unknown>[] {
  const prio = (irq: number, p: number): Record<string, unknown> => ({ op: 'mmio', pcpu: 0, access: 'write', addr: `0x${(0x3001400 + irq).toString(16)}`, size: 1, value: `0x${p.toString(16)}` });
  const inj = (irq: number): Record<string, unknown> => ({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: irq });
  const steps: Record<string, unknown>[] = [{ op: 'run', pcpu: 0, domain: 1, vcpu: 0 }];
  steps.push({ op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4, value: '0x3f' });
  for (const [irq, p] of [[32, 0x10], [33, 0x08], [34, 0xc0], [35, 0xe0], [36, 0xf0], [37, 0x80]] as const) steps.push(prio(irq, p));
  steps.push(inj(32), { op: 'enter', pcpu: 0 }, { op: 'pmr', pcpu: 0, value: 255 }, { op: 'ack', pcpu: 0 }, { op: 'exit', pcpu: 0 });
  steps.push(inj(33), { op: 'enter', pcpu: 0 }, { op: 'ack', pcpu: 0 }, { op: 'exit', pcpu: 0 });
  steps.push(inj(34), inj(35), inj(36), inj(37), { op: 'enter', pcpu: 0 });
  return steps;
}

function trace(steps: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { format: 'vgic-trace/1', name: 't', config: CFG, steps, ...extra };
}

function decoded(u: unknown): Trace {
  const r = decodeTrace(u);
  if (E.isLeft(r)) return expect.fail(r.left.join('\n'));
  return r.right;
}

function decodeErrors(u: unknown): string[] {
  const r = decodeTrace(u);
  return E.isLeft(r) ? r.left : expect.fail('decoded');
}

describe('conformance: snapshot and RESULT tables (docs/trace-format.md §4, §5)', () => {
  it('§5: the model\'s own snapshot decodes with the full codec and is already canonical', () => {
    const m = machine(config({ pirqs: [48] }));
    run(m, 0, 0);
    prepare(m, 33, 0xa0);
    inject(m, 0, 33);
    const s = snap(m);
    const r = SnapshotCodec.decode(s);
    expect(E.isRight(r)).to.equal(true);
    expect(JSON.stringify(E.isRight(r) ? r.right : null)).to.equal(JSON.stringify(s));
    expect(JSON.stringify(canonical(SNAPSHOT, s))).to.equal(JSON.stringify(s));
  });

  it('§1: canonical form lower-cases hex, drops leading zeros and puts keys in FORMAT order', () => {
    const r = ResultCodec.decode({ value: '0x00FF', outcome: 'ok', extra: 1 });
    expect(E.isRight(r) ? JSON.stringify(r.right) : '').to.equal('{"outcome":"ok","value":"0xff"}');
    expect(JSON.stringify(canonical(RESULT, { value: '0X0A', outcome: 'ok' }))).to.equal('{"outcome":"ok","value":"0xa"}');
  });

  it('§5: a full snapshot from elsewhere may add fields (dropped) but not omit one (error with path)', () => {
    const s = snap(machine());
    const extra = { ...s, vendor: 1 };
    expect(E.isRight(SnapshotCodec.decode(extra))).to.equal(true);
    const broken = JSON.parse(JSON.stringify(s)) as { domains: { vcpus: Record<string, unknown>[] }[] };
    delete broken.domains[0]!.vcpus[1]!['lr_mask'];
    const r = decodeWith(SnapshotCodec, broken, 'snapshot');
    expect(E.isLeft(r) ? r.left : []).to.deep.equal(['snapshot.domains[0].vcpus[1].lr_mask: missing key (expected hex string)']);
  });

  it('§6: a PARTIAL snapshot rejects unknown keys, wrong types and keyed elements without their key', () => {
    const r = decodeWith(PartialSnapshotCodec, { domains: [{ id: 1, vcpus: [{ id: 0, lr_pendng: [] }] }, { ctlr: 3 }] }, 'expect.snapshot');
    expect(E.isLeft(r) ? r.left : []).to.deep.equal([
      'expect.snapshot.domains[0].vcpus[0].lr_pendng: unknown key',
      'expect.snapshot.domains[1].ctlr: expected hex string, got 3',
    ]);
    const k = decodeWith(PartialSnapshotCodec, { domains: [{ ctlr: '0x0' }] }, 'expect.snapshot');
    expect(E.isLeft(k) ? k.left[0] : '').to.match(/^expect\.snapshot\.domains\[0\]\.id: missing key \(an element of this array is matched by id\)/);
  });

  it('§5: priority and vcpu arrays of a rank must have 32 entries', () => {
    const r = decodeWith(PartialSnapshotCodec, { domains: [{ id: 1, ranks: [{ index: 1, priority: [0, 0] }] }] }, 's');
    expect(E.isLeft(r) ? r.left : []).to.deep.equal(['s.domains[0].ranks[0].priority: expected 32 entries, got 2, got [0,0]']);
  });
});

describe('conformance: PARTIAL matching (docs/trace-format.md §6)', () => {
  const s = (): unknown => {
    const m = machine(config({ nr_lrs: 1 }));
    run(m, 0, 0);
    prepare(m, 33, 0xa0);
    prepare(m, 34, 0xa0);
    inject(m, 0, 33);
    inject(m, 0, 34);
    return snap(m);
  };

  it('§6: an object matches on the keys it names; keyed arrays match by id in any order', () => {
    expect(matchPartial(SNAPSHOT, { domains: [{ id: 1, vcpus: [{ id: 1 }, { id: 0, lr_pending: [34] }] }] }, s(), 'snapshot')).to.equal(null);
  });

  it('§6: the first difference names the path with keys, the expected and the actual value', () => {
    const miss = matchPartial(SNAPSHOT, { domains: [{ id: 1, vcpus: [{ id: 0, lr_pending: [33] }] }] }, s(), 'snapshot');
    expect(miss).to.deep.include({ path: 'snapshot.domains[id=1].vcpus[id=0].lr_pending[0]', expected: 33, actual: 34 });
  });

  it('§6: plain arrays must have the same length', () => {
    const miss = matchPartial(SNAPSHOT, { domains: [{ id: 1, vcpus: [{ id: 0, lr_pending: [] }] }] }, s(), 'snapshot');
    expect(miss?.path).to.equal('snapshot.domains[id=1].vcpus[id=0].lr_pending');
    expect(miss?.why).to.equal('length 0 expected, got 1');
  });

  it('§6: a keyed element that does not exist is reported as missing', () => {
    const miss = matchPartial(SNAPSHOT, { domains: [{ id: 1, irqs: [{ irq: 40, vcpu: null }] }] }, s(), 'snapshot');
    expect(miss).to.deep.include({ path: 'snapshot.domains[id=1].irqs[irq=40,vcpu=null]', actual: undefined, why: 'no such element' });
    expect(show(miss?.actual)).to.equal('(missing)');
  });

  it('§6: hex scalars compare after canonicalising', () => {
    expect(matchPartial(RESULT, { outcome: 'ok', value: '0x00A' }, { outcome: 'ok', value: '0xa' }, 'result')).to.equal(null);
    expect(matchPartial(RESULT, { value: '0x1' }, { outcome: 'ok' }, 'result')).to.deep.include({ path: 'result.value', why: 'missing' });
  });

  it('§7: firstDifference compares every field both ways (an element only on the other side counts)', () => {
    const a = s() as { domains: { irqs: unknown[] }[] };
    const b = JSON.parse(JSON.stringify(a)) as typeof a;
    expect(firstDifference(SNAPSHOT, a, b, 'snapshot')).to.equal(null);
    b.domains[0]!.irqs.push({ irq: 60, vcpu: null, status: ['QUEUED'], priority: 0, lr: 0 });
    expect(firstDifference(SNAPSHOT, a, b, 'snapshot')).to.deep.include({ path: 'snapshot.domains[id=1].irqs[irq=60,vcpu=null]', why: 'only on the other side' });
    expect(firstDifference(RESULT, { outcome: 'ok' }, { outcome: 'ok', intid: 3 }, 'result')).to.deep.include({ path: 'result.intid', why: 'only on the other side' });
  });
});

describe('conformance: trace files (docs/trace-format.md §2, §3)', () => {
  it('§2: a trace decodes; name, description and refs are kept and expect is split from the op', () => {
    const t = decoded(trace([{ op: 'run', pcpu: 0, domain: 1, vcpu: 0, expect: { result: { outcome: 'ok' } } }], { description: 'd', refs: ['Q1'] }));
    expect(t.name).to.equal('t');
    expect(t.refs).to.deep.equal(['Q1']);
    expect(t.steps[0]!.op).to.deep.equal({ op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    expect(t.steps[0]!.expect).to.deep.equal({ result: { outcome: 'ok' } });
  });

  it('§2: every problem is reported with its JSON path (config, steps, expectations)', () => {
    const errs = decodeErrors({
      format: 'vgic-trace/1', name: 't', config: { ...CFG, nr_lrs: 17 },
      steps: [{ op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001000', size: 3 }, { op: 'run', pcpu: 0, domain: 1, vcpu: 0, expect: { bogus: 1 } }],
    });
    expect(errs).to.deep.equal([
      'config.nr_lrs: 17 is outside 1..16, the list registers a GICv3 host can have (reference §2.5)',
      'steps[0].size: expected 1 | 2 | 4 | 8, got 3',
      'steps[1].expect.bogus: unknown key',
    ]);
  });

  it('§2: the format string and unknown top-level keys are checked', () => {
    expect(decodeErrors({ ...trace([]), format: 'vgic-trace/2' })).to.deep.equal(['format: expected "vgic-trace/1", got "vgic-trace/2"']);
    expect(decodeErrors({ ...trace([]), stepz: [] })).to.deep.equal(['stepz: unknown key']);
  });

  it('§6: runTrace passes when every expectation matches and reports the first failure with step and op', () => {
    const steps = [
      { op: 'run', pcpu: 0, domain: 1, vcpu: 0, expect: { snapshot: { pcpus: [{ id: 0, mode: 'hyp' }] } } },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 5, expect: { snapshot: { domains: [{ id: 1, vcpus: [{ id: 0, inflight: [{ irq: 5, lr: 0 }] }] }] } } },
      { op: 'pending_check', pcpu: 0, expect: { result: { outcome: 'ok', pending: 1 } } },
    ];
    expect(runTrace(decoded(trace(steps)))).to.deep.include({ status: 'fail', steps: 3, checked: 3 });
    const r = runTrace(decoded(trace(steps)));
    expect(r.failure).to.deep.include({ step: 2, op: 'pending_check', path: 'result.pending', expected: 1, actual: 0 });
    expect(runTrace(decoded(trace(steps.slice(0, 2))))).to.deep.include({ status: 'pass', checked: 2 });
  });

  it('§3: a trace error stops the run with the step index, op and broken precondition', () => {
    const r = runTrace(decoded(trace([{ op: 'enter', pcpu: 0 }])));
    expect(r).to.deep.include({ status: 'error', steps: 0, error: 'step 0 (enter): pCPU 0 is idle; enter needs it hyp' });
  });

  it('§4: a snapshot expectation on a step that crashed is a trace error (the machine has none)', () => {
    const steps = crashSteps();
    const ok = runTrace(decoded(trace(steps, { config: CRASH_CFG })));
    expect(ok).to.deep.include({ status: 'pass', steps: steps.length });
    steps[steps.length - 1]!['expect'] = { result: { outcome: 'crash' }, snapshot: {} };
    const r = runTrace(decoded(trace(steps, { config: CRASH_CFG })));
    expect(r.status).to.equal('error');
    expect(r.error).to.match(/^step 21 \(enter\): a snapshot is expected, but the machine crashed at this step/);
  });

  it('replay: files and directories, one line per trace, exit 0/1/2 by the worst outcome', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vgic-replay-'));
    writeFileSync(join(dir, 'a-pass.json'), JSON.stringify(trace([{ op: 'run', pcpu: 0, domain: 1, vcpu: 0, expect: { result: { outcome: 'ok' } } }], { name: 'a-pass' })));
    writeFileSync(join(dir, 'b-fail.json'), JSON.stringify(trace([{ op: 'run', pcpu: 0, domain: 1, vcpu: 0, expect: { result: { outcome: 'abort' } } }], { name: 'b-fail' })));
    writeFileSync(join(dir, 'ignored.txt'), 'not a trace');
    const s = replayPaths([dir]);
    expect(s.reports.map((r) => [r.name, r.status])).to.deep.equal([['a-pass', 'pass'], ['b-fail', 'fail']]);
    expect(s.exitCode).to.equal(1);
    const text = formatReplay(s);
    expect(text).to.include('FAIL  b-fail');
    expect(text).to.include('step 0 (run): result.outcome');
    expect(text).to.include('expected: "abort"');
    expect(text).to.include('actual:   "ok"');
    expect(text).to.match(/2 traces: 1 passed, 1 failed, 0 errors; 2 checks$/);
    expect(replayJson(s)).to.deep.include({ passed: 1, failed: 1, errors: 0, exit: 1 });
    writeFileSync(join(dir, 'c-bad.json'), '{');
    const bad = replayPaths([dir]);
    expect(bad.exitCode).to.equal(2);
    expect(bad.reports[2]!.error).to.match(/c-bad\.json: not valid JSON/);
    expect(replayPaths([join(dir, 'nope.json')]).reports[0]!.error).to.match(/nope\.json: cannot read: ENOENT/);
  });

  it('replay: --mutant runs the traces on the mutated model', () => {
    const steps = [
      { op: 'run', pcpu: 0, domain: 1, vcpu: 0 },
      { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4, value: '0x3' },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 32 },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 33 },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 0 },
      { op: 'enter', pcpu: 0, expect: { snapshot: { domains: [{ id: 1, vcpus: [{ id: 0, lr_pending: [] }] }] } } },
    ];
    const cfg = { ...CFG, nr_lrs: 1 };
    const dir = mkdtempSync(join(tmpdir(), 'vgic-mutant-'));
    writeFileSync(join(dir, 't.json'), JSON.stringify(trace(steps, { config: cfg })));
    expect(replayPaths([dir]).exitCode).to.equal(1); // Xen stops at the equal priority (Q12)
    expect(replayPaths([dir], { mutant: 'evict-on-equal' }).exitCode).to.equal(1);
    const s = replayPaths([dir], { mutant: 'evict-on-equal' });
    expect(s.reports[0]!.failure?.path).to.equal('snapshot.domains[id=1].vcpus[id=0].lr_pending');
  });
});

describe('conformance: the driver protocol server (docs/trace-format.md §7)', () => {
  function talk(server: Server, req: unknown): Record<string, unknown> {
    return JSON.parse(server.handle(JSON.stringify(req)).line) as Record<string, unknown>;
  }

  it('§7: hello announces the format and all 29 ops (§9.2 added mem_write, mem_read, msi; §10.2 the six VMM ops; §3.6 domain_create, domain_destroy); reset, step, snapshot, quit', () => {
    const s = new Server();
    const hello = talk(s, { id: 1, cmd: 'hello' });
    expect(hello).to.include({ id: 1, ok: true, format: 'vgic-trace/1' });
    expect(hello['ops']).to.have.length(29);
    expect(hello['ops']).to.include.members(['domain_create', 'domain_destroy']);
    expect(talk(s, { id: 2, cmd: 'reset', config: CFG })).to.deep.equal({ id: 2, ok: true });
    expect(talk(s, { id: 3, cmd: 'step', step: { op: 'run', pcpu: 0, domain: 1, vcpu: 0 } })).to.deep.equal({ id: 3, ok: true, result: { outcome: 'ok' } });
    const snapReply = talk(s, { id: 'x', cmd: 'snapshot' });
    expect(snapReply['id']).to.equal('x');
    expect((snapReply['snapshot'] as { pcpus: unknown[] }).pcpus).to.deep.equal([{ id: 0, mode: 'hyp', running: { domain: 1, vcpu: 0 }, uie: false }]);
    const quit = s.handle(JSON.stringify({ id: 5, cmd: 'quit' }));
    expect(quit.exit).to.equal(0);
  });

  it('§7: a bad config and a trace error are ok:false answers; the session goes on', () => {
    const s = new Server();
    const r = talk(s, { id: 1, cmd: 'reset', config: { ...CFG, nr_lrs: 0 } });
    expect(r).to.deep.include({ id: 1, ok: false });
    expect(r['error']).to.match(/^config\.nr_lrs: 0 is outside 1\.\.16/);
    expect(talk(s, { id: 2, cmd: 'step', step: { op: 'enter', pcpu: 0 } })).to.deep.equal({ id: 2, ok: false, error: 'no machine: send reset with a config first' });
    talk(s, { id: 3, cmd: 'reset', config: CFG });
    expect(talk(s, { id: 4, cmd: 'step', step: { op: 'enter', pcpu: 0 } })['error']).to.equal('step 0 (enter): pCPU 0 is idle; enter needs it hyp');
    expect(talk(s, { id: 5, cmd: 'step', step: { op: 'mmio', pcpu: 0, access: 'read', addr: '0x0', size: 3 } })['error']).to.equal('step 0: step.size: expected 1 | 2 | 4 | 8, got 3');
  });

  it('§7: malformed requests are answered with ok:false and end the session with status 2', () => {
    const s = new Server();
    expect(s.handle('{').exit).to.equal(2);
    expect(JSON.parse(s.handle('{"id":4,"cmd":"fly"}').line)).to.deep.include({ id: 4, ok: false });
    const req = decodeRequest('{"id":4,"cmd":"step"}');
    expect(E.isLeft(req) ? req.left : null).to.deep.equal({ id: 4, error: 'request.step: missing key (expected a step object)' });
    const extra = decodeRequest('{"id":4,"cmd":"hello","x":1}');
    expect(E.isLeft(extra) ? extra.left.error : '').to.equal('request.x: unknown key');
  });

  it('§4: after a crash, steps and snapshot are refused until the next reset', () => {
    // The eviction walk past the inflight list head (README): the last enter crashes.
    const s = new Server();
    talk(s, { id: 1, cmd: 'reset', config: CRASH_CFG });
    let last: Record<string, unknown> = {};
    crashSteps().forEach((st, i) => { last = talk(s, { id: 10 + i, cmd: 'step', step: st }); });
    expect((last['result'] as { outcome: string }).outcome).to.equal('crash');
    expect(talk(s, { id: 100, cmd: 'snapshot' })['error']).to.match(/crashed at step/);
    expect(talk(s, { id: 101, cmd: 'step', step: { op: 'snapshot' } })['ok']).to.equal(false);
    expect(talk(s, { id: 102, cmd: 'reset', config: CFG })['ok']).to.equal(true);
  });
});

describe('conformance: the random trace generator', () => {
  it('is deterministic: the same seed gives the same trace', () => {
    expect(JSON.stringify(generateTrace(7, { steps: 40 }))).to.equal(JSON.stringify(generateTrace(7, { steps: 40 })));
    expect(JSON.stringify(generateTrace(7, { steps: 40 }))).to.not.equal(JSON.stringify(generateTrace(8, { steps: 40 })));
  });

  it('makes traces that replay with their recorded expectations (results and snapshots)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const t = generateTrace(seed, { steps: 40, expect: 'snapshots' });
      const r = runTrace(decoded(t));
      expect(r.status, `seed ${seed}: ${r.error ?? JSON.stringify(r.failure)}`).to.equal('pass');
    }
  });

  it('honours the config options and the op restriction', () => {
    const t = generateTrace(3, { steps: 50, gic: 'v2', nrLrs: 2, pcpus: 1, vcpus: 3, spis: 64, ops: new Set(['run', 'enter', 'exit', 'inject', 'ack', 'eoi']) });
    expect(t.config).to.deep.include({ gic: 'v2', nr_lrs: 2, pcpus: 1 });
    expect(t.config.domains.every((d) => d.vcpus === 3 && d.nr_spis === 64)).to.equal(true);
    expect(new Set(t.steps.map((s) => s['op']))).to.satisfy((ops: Set<string>) => [...ops].every((o) => ['run', 'enter', 'exit', 'inject', 'ack', 'eoi'].includes(o)));
  });

  it('random configs are always valid (500 draws)', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 500; i++) expect(E.isRight(machineOf(randomConfig(rng)))).to.equal(true);
  });

  it('Rng: int stays in range and weighted respects zero weights', () => {
    const rng = new Rng(99);
    for (let i = 0; i < 1000; i++) {
      const x = rng.int(3, 5);
      expect(x).to.be.within(3, 5);
      expect(rng.weighted([[0, 'never'], [1, 'always']])).to.equal('always');
    }
  });
});

describe('conformance: differential runs in-process', () => {
  it('§7: the model against itself never diverges', async () => {
    const a = new ModelDriver();
    const b = new ModelDriver();
    for (let seed = 1; seed <= 10; seed++) {
      const t = generateTrace(seed, { steps: 40 });
      const out = await runCase(a, b, { name: t.name, config: t.config, steps: t.steps });
      expect(out.kind).to.equal('same');
    }
  });

  it('finds the evict-on-equal mutant and shrinks it to a replayable trace of at most 10 steps', async function () {
    this.timeout(60000);
    const a = new ModelDriver();
    const b = new ModelDriver('evict-on-equal');
    for (let seed = 1; seed <= 50; seed++) {
      const t = generateTrace(seed, { steps: 60 });
      const c = { name: t.name, config: t.config, steps: t.steps };
      const out = await runCase(a, b, c);
      if (out.kind !== 'diverged') continue;
      const shrunk = await shrinkCase(a, b, c, out.divergence);
      expect(shrunk.case.steps.length).to.be.at.most(10);
      const file = divergenceTrace(shrunk, 'mutant');
      expect(runTrace(decoded(file)).status).to.equal('pass');
      expect(runTrace(decoded(file), { mutant: 'evict-on-equal' }).status).to.equal('fail');
      return;
    }
    expect.fail('no divergence in 50 seeds');
  });
});

function machineOf(c: unknown): E.Either<string[], unknown> {
  const t = decodeTrace({ format: 'vgic-trace/1', config: c, steps: [] });
  return t;
}
