/**
 * The clients in other languages under examples/ really run and find what they should:
 * the Python stateful random test and its Hypothesis variant drive `vgic serve` as the
 * oracle and `vgic serve --mutant NAME` as the system under test; the C driver (a tiny vGIC
 * of its own behind the driver protocol, docs/trace-format.md §7) is compiled and its
 * RESULTs compared step by step with `vgic serve`'s. Each example is skipped, with the
 * reason and the Debian package that provides the missing tool, where its toolchain is
 * missing (.ci/run installs them, so CI always runs them).
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The built CLI next to this compiled spec (<outDir>/spec -> <outDir>/src/cli/main.js). */
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** The project root (<outDir>/spec -> <outDir> -> root). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PY = join(ROOT, 'examples', 'python');
const SERVE = `"${process.execPath}" "${MAIN}" serve`;
const PYTHON = process.env.PYTHON ?? 'python3';

type Json = Record<string, unknown>;

function run(cmd: string, args: readonly string[], cwd = ROOT, timeout = 170000) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error, ms: Date.now() - t0 };
}

/** Skip the tests of this block, saying why in the test output. */
function skipBecause(ctx: Mocha.Context, reason: string): never {
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

describe('examples/python: a stateful random test in Python drives vgic serve as the oracle', function () {
  this.timeout(180000);

  before(function () {
    const v = run(PYTHON, ['--version']);
    if (v.error !== undefined || v.status !== 0) skipBecause(this, `${PYTHON} not found (Debian: apt-get install python3)`);
  });

  it('finds the evict-on-equal mutant (exit 1, a report with the seed and the shrunk steps)', function () {
    const r = run(PYTHON, ['stateful_random.py', '--oracle', SERVE, '--sut', `${SERVE} --mutant evict-on-equal`,
      '--seed', '1', '--runs', '200', '--steps', '60'], PY);
    console.log(`      (${r.ms} ms) ${r.stdout.split('\n')[0]}`);
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(1);
    expect(r.stdout).to.match(/^DIFFERENCE found \(seed 1, run \d+\) at step \d+/);
    expect(r.stdout).to.match(/result differs at \$\.result\.\w+\n {4}oracle: .+\n {4}sut: {4}.+/);
    expect(r.stdout).to.include('"op":"run"');
  });

  it('finds no difference between vgic serve and itself, comparing snapshots too (exit 0)', function () {
    const r = run(PYTHON, ['stateful_random.py', '--oracle', SERVE, '--sut', SERVE, '--seed', '7', '--runs', '60',
      '--steps', '60', '--snapshots'], PY);
    console.log(`      (${r.ms} ms) ${r.stdout.trim()}`);
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/^no difference in 60 runs of 60 steps \(seed 7/);
  });

  it('says so (exit 2) when a side is not a driver at all', function () {
    const r = run(PYTHON, ['stateful_random.py', '--oracle', SERVE, '--sut', `${PYTHON} -c pass`, '--runs', '1'], PY);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/^protocol error: .*exited with status 0/);
  });
});

describe('examples/python: the Hypothesis RuleBasedStateMachine variant', function () {
  this.timeout(180000);

  before(function () {
    const v = run(PYTHON, ['-c', 'import hypothesis']);
    if (v.error !== undefined) skipBecause(this, `${PYTHON} not found (Debian: apt-get install python3 python3-hypothesis)`);
    if (v.status !== 0) skipBecause(this, `${PYTHON} cannot import hypothesis (Debian: apt-get install python3-hypothesis)`);
  });

  it('finds the no-fifo-among-equals mutant and shrinks it to a short program (exit 1)', function () {
    const r = run(PYTHON, ['hypothesis_state_machine.py', '--oracle', SERVE, '--sut',
      `${SERVE} --mutant no-fifo-among-equals`, '--examples', '100', '--snapshots'], PY);
    const out = r.stdout + r.stderr;
    console.log(`      (${r.ms} ms) ${(/AssertionError: .*/.exec(out) ?? ['(no assertion)'])[0]}`);
    expect(r.status, out).to.equal(1);
    expect(out).to.match(/AssertionError: step \{.*\}: (answers|snapshots) differ at \$/);
    expect(out).to.include('Falsifying example');
    expect(out).to.match(/state\.reset\(gic=/);
  });

  it('finds no difference between vgic serve and itself (exit 0)', function () {
    const r = run(PYTHON, ['hypothesis_state_machine.py', '--oracle', SERVE, '--sut', SERVE, '--examples', '40',
      '--snapshots'], PY);
    console.log(`      (${r.ms} ms)`);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stderr).to.match(/Ran 1 test .*\n\nOK/);
  });
});

/** Driver processes still running: a failed test must not leave one behind (mocha would wait). */
const live = new Set<Driver>();

/** A driver process spoken to one request at a time. */
class Driver {
  private readonly child;
  private readonly lines: string[] = [];
  private waiting: ((l: string) => void) | null = null;
  private id = 0;
  constructor(command: string, args: readonly string[]) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    live.add(this);
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      if (this.waiting !== null) {
        const w = this.waiting;
        this.waiting = null;
        w(l);
      } else this.lines.push(l);
    });
  }
  async request(req: Json): Promise<Json> {
    const id = ++this.id;
    this.child.stdin.write(`${JSON.stringify({ id, ...req })}\n`);
    const line = this.lines.shift() ?? (await new Promise<string>((resolve) => (this.waiting = resolve)));
    const res = JSON.parse(line) as Json;
    expect(res.id).to.equal(id);
    return res;
  }
  async quit(): Promise<void> {
    await this.request({ cmd: 'quit' });
    this.kill();
  }
  kill(): void {
    live.delete(this);
    this.child.stdin.end();
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** What two implementations must agree on for a step: accepted or not, and the RESULT. */
function comparable(res: Json): unknown {
  if (res.ok !== true) return { ok: false };
  const { log: _log, ...result } = res.result as Json;
  return { ok: true, result };
}

interface Case {
  name: string;
  config: Json;
  steps: Json[];
  /** undefined: the example agrees with Xen on every step; else the first step where it differs. */
  differsAt?: number;
}

const V3 = { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 2, nr_spis: 32 }] };
const V2 = { ...V3, gic: 'v2' };
const w = (addr: string, size: number, value: string) => ({ op: 'mmio', pcpu: 0, access: 'write', addr, size, value });
const r = (addr: string, size: number) => ({ op: 'mmio', pcpu: 0, access: 'read', addr, size });
const spi = (virq: number) => ({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq });
const RUN = { op: 'run', pcpu: 0, domain: 1, vcpu: 0 };
const ENTER = { op: 'enter', pcpu: 0 };
const EXIT = { op: 'exit', pcpu: 0 };
const ACK = { op: 'ack', pcpu: 0 };
const eoi = (intid: number) => ({ op: 'eoi', pcpu: 0, intid });
const PMR = { op: 'pmr', pcpu: 0, value: 0xff };

/** Hand-written traces of the ops the example implements; see examples/c/README.md. */
const CASES: Case[] = [
  {
    name: 'v3: enable, priorities, two SPIs delivered best priority first, ack/eoi, register reads',
    config: V3,
    steps: [RUN, w('0x3001104', 4, '0x3'), w('0x3001420', 1, '0xa0'), w('0x3001421', 1, '0x80'), spi(32), spi(33),
      ENTER, PMR, ACK, ACK, eoi(33), ACK, eoi(32), ACK, EXIT, r('0x3001104', 4), r('0x3001420', 4),
      w('0x3001184', 4, '0x1'), r('0x3001104', 4), { op: 'idle', pcpu: 0 }],
  },
  {
    name: 'v3: a PPI enabled through the redistributor of vCPU 1, delivered when vCPU 1 runs',
    config: { ...V3, pcpus: 2 },
    steps: [{ op: 'run', pcpu: 1, domain: 1, vcpu: 1 }, { op: 'inject', pcpu: 0, domain: 1, vcpu: 1, virq: 27 },
      { ...w('0x3050100', 4, '0x8000000'), pcpu: 1 }, { ...w('0x305041b', 1, '0x90'), pcpu: 1 },
      { op: 'enter', pcpu: 1 }, { op: 'pmr', pcpu: 1, value: 0xa0 }, { op: 'ack', pcpu: 1 },
      { op: 'eoi', pcpu: 1, intid: 27 }, { op: 'ack', pcpu: 1 }],
  },
  {
    name: 'v2: the priority mask keeps 5 bits; an SPI at the mask is not acknowledged',
    config: V2,
    steps: [RUN, w('0x3001104', 4, '0x1'), w('0x3001420', 1, '0xa5'), spi(32), ENTER,
      { op: 'pmr', pcpu: 0, value: 0xa7 }, ACK, { op: 'pmr', pcpu: 0, value: 0xa8 }, ACK],
  },
  {
    name: 'differs: Xen keeps equal priorities first come, first served; the example takes the lowest INTID',
    config: { ...V3, nr_lrs: 1 },
    steps: [RUN, w('0x3001104', 4, '0x3'), spi(33), spi(32), ENTER, PMR, ACK],
    differsAt: 6,
  },
  {
    name: 'differs: Xen evicts a lower-priority pending LR for a better IRQ; the example never evicts',
    config: { ...V3, nr_lrs: 1 },
    steps: [RUN, w('0x3001104', 4, '0x3'), w('0x3001420', 1, '0xa0'), w('0x3001421', 1, '0x80'), spi(32), ENTER,
      EXIT, spi(33), ENTER, PMR, ACK],
    differsAt: 10,
  },
];

describe('examples/c: a C driver around a tiny vGIC of its own, compared with vgic serve', function () {
  this.timeout(60000);
  let dir = '';
  let exe = '';

  before(function () {
    const cc = run('cc', ['--version']);
    if (cc.error !== undefined) skipBecause(this, 'no C compiler: cc not found (Debian: apt-get install gcc)');
    dir = mkdtempSync(join(tmpdir(), 'vgic-c-driver-'));
    exe = join(dir, 'vgic-driver');
    const built = run('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', exe,
      join(ROOT, 'examples', 'c', 'vgic_driver.c'), '-ljansson']);
    if (built.status !== 0 && /jansson\.h/.test(built.stderr)) {
      skipBecause(this, 'jansson.h not found (Debian: apt-get install libjansson-dev)');
    }
    expect(built.status, `cc failed:\n${built.stderr}`).to.equal(0);
  });

  afterEach(() => {
    for (const d of [...live]) d.kill();
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('answers hello with the ops it implements and guest-level snapshots', async () => {
    const d = new Driver(exe, []);
    const hello = await d.request({ cmd: 'hello' });
    expect(hello).to.deep.include({ ok: true, format: 'vgic-trace/1', snapshots: 'guest' });
    expect(hello.ops).to.deep.equal(['run', 'idle', 'enter', 'exit', 'inject', 'mmio', 'ack', 'eoi', 'pmr']);
    expect(await d.request({ cmd: 'snapshot' })).to.deep.include({ ok: false });
    await d.request({ cmd: 'reset', config: V3 });
    await d.request({ cmd: 'step', step: RUN });
    expect(await d.request({ cmd: 'snapshot' })).to.deep.include({ ok: false, error: 'full snapshots not supported (ask for {"cmd":"snapshot","level":"guest"})' });
    const guest = await d.request({ cmd: 'snapshot', level: 'guest' });
    expect(guest.snapshot).to.deep.equal({
      pcpus: [{ id: 0, mode: 'hyp', running: { domain: 1, vcpu: 0 } }],
      vcpus: [{ domain: 1, id: 0, lrs: [], pmr: 0, apr: '0x0' }, { domain: 1, id: 1, lrs: [], pmr: 0, apr: '0x0' }],
      physical: [],
    });
    expect(await d.request({ cmd: 'step', step: ENTER })).to.deep.include({ ok: true });
    expect(await d.request({ cmd: 'step', step: ENTER })).to.deep.equal({ id: 8, ok: false, error: 'step 2 (enter): pCPU 0 is guest' });
    await d.quit();
  });

  for (const c of CASES) {
    it(`${c.name}: RESULTs ${c.differsAt === undefined ? 'agree with vgic serve at every step' : `differ first at step ${c.differsAt}`}`, async () => {
      const ours = new Driver(exe, []);
      const model = new Driver(process.execPath, [MAIN, 'serve']);
      for (const d of [ours, model]) expect(await d.request({ cmd: 'reset', config: c.config })).to.deep.include({ ok: true });
      let first: number | undefined;
      for (const [i, step] of c.steps.entries()) {
        const a = comparable(await model.request({ cmd: 'step', step }));
        const b = comparable(await ours.request({ cmd: 'step', step }));
        expect(a, `vgic serve refused step ${i}`).to.deep.include({ ok: true });
        if (first === undefined && JSON.stringify(a) !== JSON.stringify(b)) first = i;
        if (c.differsAt === undefined) expect(b, `step ${i} ${JSON.stringify(step)}`).to.deep.equal(a);
      }
      expect(first).to.equal(c.differsAt);
      await Promise.all([ours.quit(), model.quit()]);
    });
  }
});
