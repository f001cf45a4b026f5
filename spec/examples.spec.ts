/**
 * The clients in other languages under examples/ really run and find what they should:
 * the Python stateful random test and its Hypothesis variant drive `vgic serve` as the
 * oracle and `vgic serve --mutant NAME` as the system under test; the C driver (a tiny vGIC
 * of its own behind the driver protocol, docs/trace-format.md §7) is compiled and
 * `vgic diff --compare guest` run against it on examples/c/traces (guest snapshots, §5.1). Each example is skipped, with the
 * reason and the Debian package that provides the missing tool, where its toolchain is
 * missing (.ci/run installs them, so CI always runs them).
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

const V3 = { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 2, nr_spis: 32 }] };
const RUN = { op: 'run', pcpu: 0, domain: 1, vcpu: 0 };
const ENTER = { op: 'enter', pcpu: 0 };
const TRACES = join(ROOT, 'examples', 'c', 'traces');

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
      domains: [{ id: 1, vcpus: [0, 1].map((id) => ({ id, online: true, pmr: 0, eoimode: 0, apr: '0x0', lrs: [] })) }],
      physical: [],
    });
    expect(await d.request({ cmd: 'step', step: ENTER })).to.deep.include({ ok: true });
    expect(await d.request({ cmd: 'step', step: ENTER })).to.deep.equal({ id: 8, ok: false, error: 'step 2 (enter): pCPU 0 is guest' });
    await d.quit();
  });

  /** `vgic diff` against the compiled driver; the divergence file goes to the temporary dir. */
  function diff(level: string, ...traces: string[]) {
    return run(process.execPath, [MAIN, 'diff', '--compare', level, '--against', `"${exe}"`,
      '--out', join(dir, 'divergence.json'), ...traces.map((t) => join(TRACES, t))]);
  }

  it('vgic diff --compare guest finds no divergence on the traces where the example agrees with Xen (examples/c/traces/agree-*)', () => {
    const r = diff('guest', 'agree-v3-two-spis.json', 'agree-v3-ppi-redistributor.json', 'agree-v2-priority-mask.json');
    expect(r.stderr).to.include('against examples/c tiny vGIC (not Xen\'s algorithm) (9 ops: run, idle, enter, exit, inject, mmio, ack, eoi, pmr)');
    expect(r.stdout).to.equal('no divergence: 3 traces, 38 steps compared (results and guest snapshots)\n');
    expect(r.status).to.equal(0);
  });

  it('vgic diff --compare guest reports Xen\'s arrival order among equal priorities at the enter that fills the LR; --compare results only at the ack', () => {
    const g = diff('guest', 'differ-fifo-among-equals.json');
    expect(g.status).to.equal(1);
    expect(g.stdout).to.match(/^divergence in differ-fifo-among-equals at step 6 \(enter\): snapshot\.domains\[id=1\]\.vcpus\[id=0\]\.lrs\[0\]\.virq\n  model: 33\n  other: 32\n/);
    const r = diff('results', 'differ-fifo-among-equals.json');
    expect(r.status).to.equal(1);
    expect(r.stdout).to.match(/^divergence in differ-fifo-among-equals at step 8 \(ack\): result\.intid\n  model: 33\n  other: 32\n/);
  });

  it('vgic diff --compare guest reports Xen\'s eviction of a lower-priority pending LR, shrunk and written out', () => {
    const g = diff('guest', 'differ-no-eviction.json');
    expect(g.status).to.equal(1);
    expect(g.stdout).to.match(/^divergence in differ-no-eviction at step 8 \(enter\): snapshot\.domains\[id=1\]\.vcpus\[id=0\]\.lrs\[0\]\.virq\n  model: 33\n  other: 32\n/);
    expect(g.stdout).to.match(/shrunk from 9 to 6 steps \(\d+ runs\): step 5 \(enter\)/);
    const written = JSON.parse(readFileSync(join(dir, 'divergence.json'), 'utf8')) as { steps: Json[] };
    expect(written.steps).to.have.length(6);
  });
});
