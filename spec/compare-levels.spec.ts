/**
 * Comparison levels of `vgic diff` (docs/trace-format.md §7) and the guest snapshot
 * (trace-format §5.1): the guest view is the full snapshot minus Xen's bookkeeping, written
 * canonically; `vgic serve` answers guest snapshot requests and, with --snapshots, plays a
 * driver that can answer only guest snapshots or none; `vgic diff --compare guest|results`
 * runs, shrinks and writes divergences against such a driver and refuses a level it does not
 * announce; and which mutants each level sees, checked against the README's table.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  compareOptionsFor, comparableResult, runCase, type CompareLevel, type CompareOptions, type DiffCase,
} from '../src/conformance/diff.js';
import { ModelDriver, ProtocolError, decodeAnswer, type Driver, type Hello, type Reply } from '../src/conformance/driver.js';
import { generateTrace } from '../src/conformance/gen.js';
import { Server, type SnapshotAbility } from '../src/conformance/protocol.js';
import { PartialSnapshotCodec, SNAPSHOT, guestView, matchPartial } from '../src/conformance/schema.js';
import { expandPaths, loadTraceFile } from '../src/conformance/trace.js';
import { decodeWith } from '../src/machine/decode.js';
import { Machine } from '../src/machine/machine.js';
import { OP_NAMES } from '../src/machine/ops.js';
import { guestSnapshotJson, takeSnapshot } from '../src/machine/snapshot.js';
import { MUTANT_NAMES, type MutantName } from '../src/xen/mutants.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'fixtures');
const SERVE = `"${process.execPath}" "${MAIN}" serve`;

type Json = Record<string, unknown>;

function vgic(args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', timeout: 110000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Random cases from the ops a driver without full snapshots lists (no `snapshot` op). */
const GUEST_OPS: ReadonlySet<string> = new Set(OP_NAMES.filter((op) => op !== 'snapshot'));

function randomCase(seed: number, steps = 60, o: { vmm?: number } = {}): DiffCase {
  const t = generateTrace(seed, { steps, ops: GUEST_OPS, ...o });
  return { name: t.name, config: t.config, steps: t.steps };
}

function fixtureCases(): DiffCase[] {
  const files = expandPaths([FIXTURES]);
  if (E.isLeft(files)) throw new Error(files.left.join('; '));
  return files.right.map((f) => {
    const tr = loadTraceFile(f);
    if (E.isLeft(tr)) throw new Error(tr.left.join('; '));
    return {
      name: tr.right.name, config: tr.right.rawConfig,
      steps: tr.right.steps.map((s) => {
        const { expect: _e, ...rest } = s.raw;
        return rest;
      }),
    };
  });
}

/** The model's machine after each step of a case: calls `at` with it (not after a crash). */
function eachState(c: DiffCase, at: (m: Machine, i: number) => void): void {
  const m = Machine.fromJson(c.config);
  if (E.isLeft(m)) throw new Error(m.left.join('; '));
  at(m.right, -1);
  c.steps.forEach((s, i) => {
    if (E.isRight(m.right.step(s, i)) && m.right.crashed === null) at(m.right, i);
  });
}

describe('the guest snapshot (docs/trace-format.md §5.1)', () => {
  it('§5.1: guestSnapshotJson is the canonical text of the guest view of the full snapshot, on random traces and every fixture', () => {
    let n = 0;
    const cases = [...Array.from({ length: 20 }, (_x, k) => randomCase(k + 1, 40)), ...fixtureCases()];
    for (const c of cases) {
      eachState(c, (m, i) => {
        expect(guestSnapshotJson(m.host), `${c.name} step ${i}`).to.equal(JSON.stringify(guestView(takeSnapshot(m.host))));
        n += 1;
      });
    }
    expect(n).to.be.greaterThan(1000);
  });

  it('§5.1: leaves out Xen\'s lists and status bits, UIE, the raw LR, IN_PROGRESS, the ranks and GICD_CTLR; keeps the decoded LRs', () => {
    const c = randomCase(4, 60);
    let lrs = 0;
    eachState(c, (m) => {
      const g = JSON.parse(guestSnapshotJson(m.host)) as { pcpus: Json[]; domains: { vcpus: { lrs: Json[] }[] }[]; physical: Json[] };
      for (const p of g.pcpus) expect(Object.keys(p)).to.deep.equal(['id', 'mode', 'running']);
      for (const d of g.domains) {
        expect(Object.keys(d)).to.deep.equal(['id', 'vcpus']);
        for (const v of d.vcpus) {
          expect(Object.keys(v)).to.deep.equal(['id', 'online', 'pmr', 'eoimode', 'apr', 'lrs']);
          for (const lr of v.lrs) {
            expect(Object.keys(lr)).to.deep.equal(['lr', 'state', 'virq', 'pirq', 'priority', 'grp1']);
            lrs += 1;
          }
        }
      }
      for (const p of g.physical) expect(Object.keys(p)).to.deep.equal(['pirq', 'domain', 'virq', 'enabled', 'pending', 'active', 'affinity']);
    });
    expect(lrs, 'LRs seen').to.be.greaterThan(0);
  });

  it('§5.1, §6: a guest snapshot is a valid PARTIAL snapshot that the full snapshot it came from matches', () => {
    eachState(randomCase(10, 60), (m, i) => {
      const g = JSON.parse(guestSnapshotJson(m.host)) as unknown;
      const d = decodeWith(PartialSnapshotCodec, g, 'snapshot');
      expect(E.isRight(d), `step ${i}: ${E.isLeft(d) ? d.left.join('; ') : ''}`).to.equal(true);
      expect(matchPartial(SNAPSHOT, g, takeSnapshot(m.host), 'snapshot'), `step ${i}`).to.equal(null);
    });
  });
});

describe('guest snapshots in the driver protocol (docs/trace-format.md §7)', () => {
  const CONFIG = { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] };
  const session = (snapshots?: SnapshotAbility): ((req: Json) => Json) => {
    const s = new Server(null, snapshots);
    return (req) => JSON.parse(s.handle(JSON.stringify(req)).line) as Json;
  };

  it('§7: vgic serve announces "snapshots":"full", lists the snapshot op, and answers a "level":"guest" request with the guest snapshot', () => {
    const ask = session();
    const hello = ask({ id: 1, cmd: 'hello' });
    expect(hello['snapshots']).to.equal('full');
    expect(hello['ops']).to.include('snapshot');
    expect(ask({ id: 2, cmd: 'reset', config: CONFIG })['ok']).to.equal(true);
    ask({ id: 3, cmd: 'step', step: { op: 'run', pcpu: 0, domain: 1, vcpu: 0 } });
    const guest = ask({ id: 4, cmd: 'snapshot', level: 'guest' });
    expect(guest).to.deep.equal({
      id: 4, ok: true,
      snapshot: { pcpus: [{ id: 0, mode: 'hyp', running: { domain: 1, vcpu: 0 } }], domains: [{ id: 1, vcpus: [{ id: 0, online: true, pmr: 0, eoimode: 0, apr: '0x0', lrs: [] }] }], physical: [] },
    });
    const full = ask({ id: 5, cmd: 'snapshot', level: 'full' });
    expect(full).to.deep.equal(ask({ id: 5, cmd: 'snapshot' }));
    expect(guestView(full['snapshot'])).to.deep.equal(guest['snapshot']);
  });

  it('§7: --snapshots guest announces "guest", leaves out the snapshot op, refuses full snapshots and the op (ok:false, the session goes on)', () => {
    const ask = session('guest');
    const hello = ask({ id: 1, cmd: 'hello' });
    expect(hello['snapshots']).to.equal('guest');
    expect(hello['ops']).to.not.include('snapshot');
    expect(hello['ops']).to.have.length(OP_NAMES.length - 1);
    ask({ id: 2, cmd: 'reset', config: CONFIG });
    expect(ask({ id: 3, cmd: 'snapshot' })).to.deep.equal({ id: 3, ok: false, error: 'this side answers guest snapshots only ("level":"guest"), not a full snapshot' });
    expect(ask({ id: 4, cmd: 'snapshot', level: 'full' })['ok']).to.equal(false);
    expect(ask({ id: 5, cmd: 'step', step: { op: 'snapshot' } })).to.deep.equal({ id: 5, ok: false, error: 'step 0 (snapshot): this side does not support the snapshot op (it answers guest snapshots only)' });
    expect(ask({ id: 6, cmd: 'snapshot', level: 'guest' })['ok']).to.equal(true);
  });

  it('§7: --snapshots none announces "none" and refuses both levels', () => {
    const ask = session('none');
    expect(ask({ id: 1, cmd: 'hello' })['snapshots']).to.equal('none');
    ask({ id: 2, cmd: 'reset', config: CONFIG });
    expect(ask({ id: 3, cmd: 'snapshot', level: 'guest' })).to.deep.equal({ id: 3, ok: false, error: 'this side answers no snapshots, not a guest snapshot' });
    expect(ask({ id: 4, cmd: 'snapshot' })['ok']).to.equal(false);
  });

  it('§7: a snapshot request with another level, or a key besides it, breaks the protocol (fatal, naming the key)', () => {
    const s = new Server();
    const r = s.handle(JSON.stringify({ id: 7, cmd: 'snapshot', level: 'xen' }));
    expect(r.exit).to.equal(2);
    expect(JSON.parse(r.line)).to.deep.equal({ id: 7, ok: false, error: 'request.level: expected "guest" | "full", got "xen"' });
    const r2 = new Server().handle(JSON.stringify({ id: 8, cmd: 'snapshot', level: 'guest', deep: true }));
    expect(r2.exit).to.equal(2);
    expect(JSON.parse(r2.line)['error']).to.contain('request.deep: unknown key');
  });

  it('§5.1, §7: a malformed answer to a guest snapshot request is a protocol error naming the request and the path', () => {
    const line = JSON.stringify({ id: 3, ok: true, snapshot: { pcpus: [], domains: [{ id: 1, vcpus: [{ id: 0, online: true, pmr: 0, eoimode: 0, apr: '0x0' }] }], physical: [] } });
    expect(() => decodeAnswer('"x"', 'snapshot', 3, line, undefined, 'guest')).to.throw(ProtocolError, /^"x": answered a guest snapshot request with a malformed response: response\.snapshot\.domains\[0\]\.vcpus\[0\]\.lrs: missing key \(expected array\)$/);
    // As the answer to a plain (full) request it is malformed too, for other reasons.
    expect(() => decodeAnswer('"x"', 'snapshot', 3, line)).to.throw(ProtocolError, /answered snapshot with a malformed response/);
  });

  it('§7: a hello whose "snapshots" is not none, guest or full is malformed', () => {
    const line = JSON.stringify({ id: 1, ok: true, format: 'vgic-trace/1', name: 'x', ops: [], snapshots: 'partial' });
    expect(() => decodeAnswer('"x"', 'hello', 1, line)).to.throw(ProtocolError, /response\.snapshots: expected "none" \| "guest" \| "full", got "partial"/);
  });
});

describe('comparison levels of a differential run (docs/trace-format.md §7)', () => {
  const hello = (snapshots?: SnapshotAbility): Hello => ({ format: 'vgic-trace/1', name: 'x', ops: [], ...(snapshots !== undefined ? { snapshots } : {}) });

  it('§7: compareOptionsFor refuses a level above what hello announces, naming both; absent means full, asked without level', () => {
    const level = (l: CompareLevel, s?: SnapshotAbility): string => {
      const r = compareOptionsFor(l, hello(s));
      return E.isLeft(r) ? `refused: ${r.left}` : JSON.stringify(r.right);
    };
    expect(level('full')).to.equal('{"level":"full"}');
    expect(level('guest')).to.equal('{"level":"guest","guestRequest":"full"}');
    expect(level('guest', 'full')).to.equal('{"level":"guest","guestRequest":"guest"}');
    expect(level('guest', 'guest')).to.equal('{"level":"guest","guestRequest":"guest"}');
    expect(level('results', 'none')).to.equal('{"level":"results"}');
    expect(level('full', 'guest')).to.equal('refused: cannot compare at level full: its hello announces "snapshots":"guest" (it answers guest snapshots only); use --compare guest or --compare results');
    expect(level('guest', 'none')).to.equal('refused: cannot compare at level guest: its hello announces "snapshots":"none" (it answers no snapshots); use --compare results');
    expect(level('full', 'none')).to.match(/^refused: cannot compare at level full/);
  });

  it('§4, §7: a RESULT\'s snapshot is compared whole at full, as its guest view at guest, not at all at results; log and reason never', () => {
    const m = Machine.create({ gic: 'v2', nr_lrs: 1, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 0 }] });
    if (E.isLeft(m)) throw new Error(m.left.join('; '));
    const full = JSON.parse(m.right.snapshotJson()) as Json;
    const r = { outcome: 'ok', snapshot: full, log: [{ level: 'warn', msg: 'x' }] };
    expect(comparableResult(r, 'full')).to.deep.equal({ outcome: 'ok', snapshot: full });
    expect(comparableResult(r, 'guest')).to.deep.equal({ outcome: 'ok', snapshot: guestView(full) });
    expect(comparableResult(r, 'results')).to.deep.equal({ outcome: 'ok' });
    expect(comparableResult({ outcome: 'crash', reason: 'x' }, 'results')).to.deep.equal({ outcome: 'crash' });
  });

  it('§7: the model against itself answering guest snapshots only: "same" at guest and results level on random traces and every fixture', async () => {
    const model = new ModelDriver();
    const cases = [...Array.from({ length: 20 }, (_x, k) => randomCase(k + 1)), ...fixtureCases()];
    for (const [level, snapshots] of [['guest', 'guest'], ['results', 'none']] as const) {
      const other = new ModelDriver(null, snapshots);
      let steps = 0;
      for (const c of cases) {
        const out = await runCase(model, other, c, { level });
        expect(out.kind, `${level}: ${c.name}: ${JSON.stringify(out)}`).to.equal('same');
        if (out.kind === 'same') steps += out.steps;
      }
      expect(steps).to.be.greaterThan(1500);
    }
  });

  it('§7: at guest level a RESULT or snapshot that differs only in Xen\'s bookkeeping (inflight, status bits, uie, raw, ranks) is "same"', async () => {
    // A side whose full snapshots (and the snapshot op's) have every non-guest field changed.
    const scramble = (s: Json): Json => {
      const c = structuredClone(s) as { pcpus: Json[]; domains: { vcpus: Json[]; irqs: unknown[]; ctlr: string }[]; physical: Json[] };
      for (const p of c.pcpus) p['uie'] = !(p['uie'] as boolean);
      for (const d of c.domains) {
        d.ctlr = '0xffff';
        d.irqs = [];
        for (const v of d.vcpus) {
          v['inflight'] = [{ irq: 1023, lr: 255 }];
          v['lr_pending'] = [1022];
          v['lr_mask'] = '0xdead';
          for (const lr of v['lrs'] as Json[]) lr['raw'] = '0x1';
        }
      }
      for (const p of c.physical) p['in_progress'] = !(p['in_progress'] as boolean);
      return c as unknown as Json;
    };
    const inner = new ModelDriver();
    const other: Driver = {
      label: 'scrambled',
      hello: () => inner.hello(),
      reset: (config) => inner.reset(config),
      step: async (step) => {
        const r = await inner.step(step);
        return r.ok && 'snapshot' in r.value ? { ok: true, value: { ...r.value, snapshot: scramble(r.value['snapshot'] as Json) } } : r;
      },
      snapshot: async (level) => {
        const r = await inner.snapshot(level);
        return r.ok && level !== 'guest' ? { ok: true, value: scramble(r.value) } : r;
      },
      close: () => inner.close(),
    };
    const c = { ...randomCase(3), steps: [...randomCase(3).steps, { op: 'snapshot' }] };
    const model = new ModelDriver();
    expect((await runCase(model, other, c, { level: 'guest', guestRequest: 'full' })).kind).to.equal('same');
    expect((await runCase(model, other, c, { level: 'guest', guestRequest: 'guest' })).kind).to.equal('same');
    const full = await runCase(model, other, c, { level: 'full' });
    expect(full.kind).to.equal('diverged');
  });

  it('§7: against a side whose hello predates "snapshots", guest level asks plain snapshot requests and compares their guest view', async () => {
    const levels: (string | undefined)[] = [];
    class Legacy extends ModelDriver {
      override async hello(): Promise<Hello> {
        const { snapshots: _s, ...rest } = await super.hello();
        return rest;
      }
      override snapshot(level?: 'guest' | 'full'): Promise<Reply<Record<string, unknown>>> {
        levels.push(level);
        return super.snapshot(level);
      }
    }
    const legacy = new Legacy('evict-on-equal');
    // Driven one request at a time (no pipeline), so that every snapshot call is seen.
    const other: Driver = {
      label: legacy.label, hello: () => legacy.hello(), reset: (c) => legacy.reset(c), step: (s) => legacy.step(s),
      snapshot: (level) => legacy.snapshot(level), close: () => legacy.close(),
    };
    const opts = compareOptionsFor('guest', await other.hello());
    expect(E.isRight(opts) && opts.right).to.deep.equal({ level: 'guest', guestRequest: 'full' });
    // Seed 4 without device domains: a trace where evict-on-equal shows at guest level.
    const out = await runCase(new ModelDriver(), other, randomCase(4, 60, { vmm: 0 }), E.isRight(opts) ? opts.right : { level: 'guest' });
    expect(out.kind).to.equal('diverged');
    if (out.kind === 'diverged') expect(out.divergence.path).to.equal('snapshot.domains[id=1].vcpus[id=0].lrs[0].virq');
    expect(levels.length).to.be.greaterThan(10);
    expect(new Set(levels)).to.deep.equal(new Set([undefined]));
  });

  it('extension point: an allow hook that names a divergence ends the case as "allowed" (not a divergence); null reports it', async () => {
    const other = new ModelDriver('evict-on-equal', 'guest');
    const c = randomCase(4, 60, { vmm: 0 });
    const seen: string[] = [];
    const allow: CompareOptions['allow'] = (d) => {
      seen.push(`${d.step} ${d.path} ${d.level}`);
      return d.path.includes('.lrs') ? 'Q12-known' : null;
    };
    const out = await runCase(new ModelDriver(), other, c, { level: 'guest', allow });
    expect(out).to.include({ kind: 'allowed', name: 'Q12-known', steps: 20 });
    expect(seen).to.deep.equal(['20 snapshot.domains[id=1].vcpus[id=0].lrs[0].virq guest']);
    const reported = await runCase(new ModelDriver(), other, c, { level: 'guest', allow: () => null });
    expect(reported.kind).to.equal('diverged');
  });
});

describe('vgic diff --compare (docs/trace-format.md §7)', function () {
  this.timeout(120000);
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vgic-compare-'));
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('§7: --compare guest against `vgic serve --snapshots guest` over fixtures/: no divergence, exit 0', () => {
    const r = vgic(['diff', '--compare', 'guest', '--against', `${SERVE} --snapshots guest`, FIXTURES], dir);
    expect(r.stdout).to.match(/^no divergence: \d+ traces, \d+ steps compared \(results and guest snapshots\)$/m);
    expect(r.stderr).to.contain(`(${OP_NAMES.length - 1} ops: `);
    expect(r.status).to.equal(0);
  });

  it('§7: --compare results against `vgic serve --snapshots none` over fixtures/ and 50 random traces: no divergence, exit 0', () => {
    const f = vgic(['diff', '--compare', 'results', '--against', `${SERVE} --snapshots none`, FIXTURES], dir);
    expect(f.stdout).to.match(/^no divergence: \d+ traces, \d+ steps compared \(results only\)$/m);
    expect(f.status).to.equal(0);
    const r = vgic(['diff', '--compare', 'results', '--against', `${SERVE} --snapshots none`, '--random', '50'], dir);
    expect(r.stdout).to.match(/^no divergence: 50 traces, \d+ steps compared \(results only\)$/m);
    expect(r.status).to.equal(0);
  });

  it('§7, §13: a level the other side does not announce is refused before anything runs: exit 2, naming it', () => {
    const full = vgic(['diff', '--against', `${SERVE} --snapshots guest`, '--random', '5'], dir);
    expect(full.stderr).to.contain('serve --snapshots guest" cannot compare at level full: its hello announces "snapshots":"guest" (it answers guest snapshots only); use --compare guest or --compare results');
    expect(full.stdout).to.equal('');
    expect(full.status).to.equal(2);
    const guest = vgic(['diff', '--compare', 'guest', '--against', `${SERVE} --snapshots none`, FIXTURES], dir);
    expect(guest.stderr).to.contain('cannot compare at level guest: its hello announces "snapshots":"none" (it answers no snapshots); use --compare results');
    expect(guest.status).to.equal(2);
    const bad = vgic(['diff', '--compare', 'xen', '--against', SERVE, '--random', '5'], dir);
    expect(bad.stderr).to.contain('--compare: expected');
    expect(bad.status).to.equal(2);
  });

  it('§6, §7: a guest-level divergence (evict-on-equal) is shrunk and written with the guest view as the expected snapshot; it replays as pass on the model, fail on the mutant', () => {
    const out = join(dir, 'guest-evict.json');
    const r = vgic(['diff', '--compare', 'guest', '--against', `${SERVE} --snapshots guest --mutant evict-on-equal`, '--random', '40', '--out', out], dir);
    expect(r.stdout).to.match(/^divergence in random-v[23]-seed-\d+ at step \d+ \(\w+\): snapshot\.domains\[id=\d+\]\.vcpus\[id=\d+\]\.lrs/m);
    expect(r.stdout).to.match(/^shrunk from \d+ to \d+ steps/m);
    expect(r.status).to.equal(1);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { description: string; steps: Json[] };
    expect(trace.description).to.contain('(compared at level guest)');
    const last = trace.steps[trace.steps.length - 1]!['expect'] as { result: Json; snapshot: Json };
    expect(Object.keys(last)).to.deep.equal(['result', 'snapshot']);
    const text = JSON.stringify(last.snapshot);
    for (const hidden of ['inflight', 'lr_pending', 'lr_mask', '"uie"', '"raw"', 'in_progress', 'ranks', 'irqs', 'ctlr']) expect(text).to.not.contain(hidden);
    expect(Object.keys(last.snapshot)).to.deep.equal(['pcpus', 'domains', 'physical']);
    expect(vgic(['replay', out], dir).status, 'replay on the model').to.equal(0);
    const m = vgic(['replay', '--mutant', 'evict-on-equal', out], dir);
    expect(m.status, 'replay on the mutant').to.equal(1);
    expect(m.stdout).to.contain('.lrs');
  });

  it('§7: a results-level divergence (isactiver-zero-ok-v3) is written with the RESULT only; it replays as pass / fail', () => {
    const out = join(dir, 'results-isactiver.json');
    const r = vgic(['diff', '--compare', 'results', '--against', `${SERVE} --snapshots none --mutant isactiver-zero-ok-v3`, '--random', '40', '--out', out], dir);
    expect(r.stdout).to.match(/^divergence in random-v3-seed-\d+ at step \d+ \(mmio\): result\.outcome$/m);
    expect(r.status).to.equal(1);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { steps: Json[] };
    expect(trace.steps.length).to.be.at.most(6);
    expect(trace.steps[trace.steps.length - 1]!['expect']).to.deep.equal({ result: { outcome: 'abort' } });
    expect(vgic(['replay', out], dir).status).to.equal(0);
    expect(vgic(['replay', '--mutant', 'isactiver-zero-ok-v3', out], dir).status).to.equal(1);
  });

  it('§5.1: keep-uie-on-exit changes only UIE: invisible at guest level (exit 0), a divergence at full level (exit 1)', () => {
    const guest = vgic(['diff', '--compare', 'guest', '--against', `${SERVE} --mutant keep-uie-on-exit`, '--random', '40'], dir);
    expect(guest.stdout).to.match(/^no divergence: 40 traces/m);
    expect(guest.status).to.equal(0);
    const full = vgic(['diff', '--against', `${SERVE} --mutant keep-uie-on-exit`, '--random', '40', '--out', join(dir, 'uie.json')], dir);
    expect(full.stdout).to.match(/: snapshot\.pcpus\[id=0\]\.uie$/m);
    expect(full.status).to.equal(1);
  });
});

// ----- which mutants each level sees (the README table) -----

const TABLE_RANDOM = 60;
const LEVELS: readonly { level: CompareLevel; snapshots: SnapshotAbility }[] = [
  { level: 'full', snapshots: 'full' }, { level: 'guest', snapshots: 'guest' }, { level: 'results', snapshots: 'none' },
];

interface Row {
  mutant: MutantName;
  /** Per level: the seed of the first random trace that diverges, or null. */
  random: (number | null)[];
  /** Per level: how many fixtures diverge. */
  fixtures: number[];
}

async function mutantRow(mutant: MutantName, randoms: DiffCase[], fixtures: DiffCase[]): Promise<Row> {
  const model = new ModelDriver();
  const row: Row = { mutant, random: [], fixtures: [] };
  for (const { level, snapshots } of LEVELS) {
    // The mutant behind the protocol with only the snapshots of the level (what `vgic serve
    // --mutant NAME --snapshots ...` answers), asked as `vgic diff --compare LEVEL` asks.
    const other = new ModelDriver(mutant, snapshots);
    let first: number | null = null;
    for (let k = 0; k < randoms.length && first === null; k++) {
      if ((await runCase(model, other, randoms[k]!, { level })).kind === 'diverged') first = k + 1;
    }
    let n = 0;
    for (const c of fixtures) if ((await runCase(model, other, c, { level })).kind === 'diverged') n += 1;
    row.random.push(first);
    row.fixtures.push(n);
  }
  return row;
}

function formatTable(rows: readonly Row[], nFixtures: number): string {
  const w = Math.max(26, ...rows.map((r) => r.mutant.length));
  const cell = (s: string, n: number): string => s.padEnd(n);
  const lines = [
    `${cell('', w)}  first diverging random trace (of ${TABLE_RANDOM})  fixtures diverging (of ${nFixtures})`,
    `${cell('mutant', w)}  ${cell('full', 8)}  ${cell('guest', 8)}  ${cell('results', 13)}  ${cell('full', 4)}  ${cell('guest', 5)}  results`,
    `${'-'.repeat(w)}  ${'-'.repeat(8)}  ${'-'.repeat(8)}  ${'-'.repeat(13)}  ${'-'.repeat(4)}  ${'-'.repeat(5)}  -------`,
  ];
  for (const r of rows) {
    const rand = r.random.map((s) => (s === null ? '-' : `seed ${s}`));
    lines.push(`${cell(r.mutant, w)}  ${cell(rand[0]!, 8)}  ${cell(rand[1]!, 8)}  ${cell(rand[2]!, 13)}  ${cell(String(r.fixtures[0]), 4)}  ${cell(String(r.fixtures[1]), 5)}  ${r.fixtures[2]}`);
  }
  return lines.map((l) => l.trimEnd()).join('\n');
}

describe('which mutants each comparison level finds (README, "Comparison levels and the mutants")', function () {
  this.timeout(300000);
  let rows: Row[] = [];
  let nFixtures = 0;

  before(async () => {
    const randoms = Array.from({ length: TABLE_RANDOM }, (_x, k) => randomCase(k + 1));
    const fixtures = fixtureCases();
    nFixtures = fixtures.length;
    rows = [];
    for (const m of MUTANT_NAMES) rows.push(await mutantRow(m, randoms, fixtures));
  });

  const found = (r: Row, i: number): boolean => r.random[i] !== null || r.fixtures[i]! > 0;

  it('what results see, guest sees, and what guest sees, full sees (on the same traces and fixtures)', () => {
    for (const r of rows) {
      expect(r.fixtures[0], r.mutant).to.be.at.least(r.fixtures[1]!);
      expect(r.fixtures[1], r.mutant).to.be.at.least(r.fixtures[2]!);
      // A trace whose RESULTs differ differs at guest level too, at the same step or earlier.
      for (const [lo, hi] of [[1, 2], [0, 1]] as const) {
        const seen = r.random[hi];
        if (seen === null || seen === undefined) continue;
        expect(r.random[lo], `${r.mutant}: level ${LEVELS[lo]!.level}`).to.be.a('number');
        expect(r.random[lo]!, `${r.mutant}: level ${LEVELS[lo]!.level}`).to.be.at.most(seen);
      }
    }
  });

  it('§5.1: guest level finds the mutants whose effect reaches the LRs; the two that only change UIE stay invisible to it', () => {
    const byName = new Map(rows.map((r) => [r.mutant as string, r]));
    for (const m of ['evict-on-equal', 'no-fifo-among-equals', 'raise-into-free-lr', 'evict-from-head', 'v2-lr-priority-low-bits', 'sgi-others-includes-self']) {
      const r = byName.get(m);
      if (r !== undefined) expect(r.random[1], `${m} at guest level`).to.not.equal(null);
    }
    for (const m of ['uie-when-lrs-full', 'keep-uie-on-exit']) {
      const r = byName.get(m);
      if (r === undefined) continue;
      expect(found(r, 0), `${m} at full level`).to.equal(true);
      expect(found(r, 1), `${m} at guest level`).to.equal(false);
    }
    expect(rows.filter((r) => found(r, 1)).length, 'mutants found at guest level').to.be.greaterThan(rows.length / 2);
  });

  it('the README table is this run\'s (a stale one fails, printing the fresh table)', () => {
    const table = formatTable(rows, nFixtures);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- compare-levels table -->\n```text\n([\s\S]*?)\n```/.exec(readme);
    expect(m, 'README.md has a ```text block after <!-- compare-levels table -->').to.not.equal(null);
    expect(m![1], `README.md's table is stale; this run gives:\n${table}\n`).to.equal(table);
  });
});
