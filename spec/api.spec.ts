/**
 * The reusable API (issue 11): the package exports the checkers, the generator, the dumps and
 * the diff runner from its main entry, the fast-check arbitraries and model-based commands from
 * `vgic-model/testing`, and typed entry points: a config with a wrong key or value, or an op
 * that does not exist, is a compile error (the `@ts-expect-error` lines below fail the build if
 * they ever compile).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import * as api from '../src/index.js';
import { Machine, isLeft, isRight, type Config, type Op } from '../src/index.js';
import * as testing from '../src/testing/arbitraries.js';
import { runs } from './fc-replay.js';

describe('the reusable API', () => {
  it('the main entry exports the checkers, the generator, the dumps, the diff runner and Either helpers', () => {
    for (const name of ['Machine', 'InvariantChecker', 'StepMonitor', 'PropertyMonitor', 'checkState', 'runCampaign', 'generateTrace',
      'dumpText', 'dumpHtml', 'runCase', 'shrinkCase', 'ModelDriver', 'ProcessDriver', 'replayPaths', 'decodeTrace', 'isLeft', 'isRight']) {
      expect(api, name).to.have.property(name);
    }
  });

  it('typed entry points: Machine.create takes a Config, apply an Op; untrusted input goes through Machine.fromJson', () => {
    const config: Config = { gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] };
    const m = Machine.create(config);
    expect(isRight(m)).to.equal(true);
    if (isLeft(m)) return;
    const op: Op = { op: 'run', pcpu: 0, domain: 1, vcpu: 0 };
    expect(m.right.apply(op, 0)).to.deep.equal({ outcome: 'ok' });
    expect(isLeft(Machine.fromJson({ gic: 'v4', nr_lrs: 4, pcpus: 1, domains: [] }))).to.equal(true);
    if (false as boolean) {
      // @ts-expect-error 'v4' is not a GIC version
      Machine.create({ gic: 'v4', nr_lrs: 4, pcpus: 1, domains: [] });
      // @ts-expect-error nr_lr is not a config key
      Machine.create({ gic: 'v3', nr_lr: 4, pcpus: 1, domains: [] });
      // @ts-expect-error 'jump' is not an op
      m.right.apply({ op: 'jump', pcpu: 0 }, 0);
      // @ts-expect-error enter takes a pcpu, not a vcpu
      m.right.apply({ op: 'enter', vcpu: 0 }, 0);
    }
  });

  it('arbConfig: every config it draws is accepted (trace-format §2.1)', () => {
    fc.assert(fc.property(testing.arbConfig(), (c) => isRight(Machine.create(c))), runs(300));
  });

  it('arbTrace: every trace it draws replays with its recorded RESULTs, and shrinking keeps it valid', () => {
    fc.assert(fc.property(testing.arbTrace({ maxSteps: 40 }), (t) => {
      const decoded = api.decodeTrace(t);
      if (isLeft(decoded)) throw new Error(decoded.left.join('; '));
      const r = api.runTrace(decoded.right);
      return r.status === 'pass' && r.steps === t.steps.length;
    }), runs(150));
    // A property that fails on any trace with an ack shrinks to a short one.
    const out = fc.check(fc.property(testing.arbTrace({ gic: 'v3', maxSteps: 60 }), (t) => !t.steps.some((s) => s['op'] === 'ack')), { numRuns: 300, seed: 7 });
    expect(out.failed).to.equal(true);
    expect((out.counterexample![0] as { steps: unknown[] }).steps.length).to.be.at.most(8);
  });

  it('the model-based property of vgic-model/testing holds on the model and fails on a mutant', function () {
    this.timeout(120000);
    fc.assert(testing.modelBasedProperty(null), runs(40));
    const out = fc.check(testing.modelBasedProperty('enable-raises-visible'), { numRuns: 2000, seed: 42 });
    expect(out.failed).to.equal(true);
  });

  it('npm run docs generates the API documentation from the source with TypeDoc (api/)', function () {
    this.timeout(120000);
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const out = join(root, 'api');
    rmSync(out, { recursive: true, force: true });
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--options', 'typedoc.json'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(existsSync(join(out, 'index.html'))).to.equal(true);
    expect(readFileSync(join(out, 'classes', 'index.Machine.html'), 'utf8')).to.contain('fromJson');
    expect(existsSync(join(out, 'functions', 'testing_arbitraries.arbTrace.html'))).to.equal(true);
  });
});
