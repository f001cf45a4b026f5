/**
 * The `vgic` command line: `--help` / `-h` for every command and `--version`, both generated
 * from the one option table per command that also parses; and nothing reports success
 * without having checked: `replay` of traces without expectations, `fuzz --out` writing
 * RESULTs by default.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseCommand, usageLine, UsageError, type CommandSpec, type Io } from '../src/cli/args.js';
import { DIFF_CMD } from '../src/cli/diff.js';
import { DUMP_CMD, DUMP_USAGE } from '../src/cli/dump.js';
import { FUZZ_CMD } from '../src/cli/fuzz.js';
import { MUTANTS_CMD } from '../src/cli/mutant.js';
import { REPLAY_CMD } from '../src/cli/replay.js';
import { main, version } from '../src/cli/run.js';
import { SERVE_CMD } from '../src/cli/serve.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Buffered extends Io {
  stdout: () => string;
  stderr: () => string;
}

function io(): Buffered {
  let out = '';
  let err = '';
  return { out: (s) => { out += s; }, err: (s) => { err += s; }, tty: false, stdout: () => out, stderr: () => err };
}

async function vgic(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const b = io();
  const status = await main(argv, b);
  return { status, stdout: b.stdout(), stderr: b.stderr() };
}

const SPECS: CommandSpec[] = [REPLAY_CMD, SERVE_CMD, DIFF_CMD, FUZZ_CMD, DUMP_CMD, MUTANTS_CMD];

describe('vgic --help and --version: generated from the option tables', () => {
  for (const spec of SPECS) {
    it(`vgic ${spec.name} --help and -h print the usage line, every option of its table and the exit status (exit 0)`, async () => {
      for (const flag of ['--help', '-h']) {
        const r = await vgic([spec.name, flag]);
        expect(r.status).to.equal(0);
        expect(r.stderr).to.equal('');
        expect(r.stdout).to.equal(helpText(spec));
        expect(r.stdout.split('\n')[0]).to.equal(`usage: ${usageLine(spec)}`);
        for (const name of Object.keys(spec.options)) expect(r.stdout).to.match(new RegExp(`^  (-\\w, )?--${name}\\b`, 'm'));
        expect(r.stdout).to.contain('exit status: ');
      }
    });
  }

  it('--help wins over other mistakes on the same command line; `vgic help <command>` is the same text', async () => {
    const r = await vgic(['replay', '--frob', '--help']);
    expect(r.status).to.equal(0);
    expect(r.stdout).to.equal(helpText(REPLAY_CMD));
    expect((await vgic(['help', 'fuzz'])).stdout).to.equal(helpText(FUZZ_CMD));
    const bad = await vgic(['help', 'frob']);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.contain('unknown command "frob"');
  });

  it('`vgic help` lists every command with its derived usage line', async () => {
    const r = await vgic(['help']);
    expect(r.status).to.equal(0);
    for (const spec of SPECS) expect(r.stdout).to.contain(`  ${usageLine(spec)}\n`);
    expect(r.stdout).to.contain('vgic demo');
    expect(r.stdout).to.contain('vgic version');
  });

  it('the usage lines nest the options that go with another one and keep the old forms', () => {
    expect(DUMP_USAGE).to.equal('vgic dump <trace.json> [--step K] [--check] [--html FILE [--from K] [--to L]]');
    expect(usageLine(REPLAY_CMD)).to.equal('vgic replay <trace.json|dir>... [--json] [--check] [--mutant NAME]');
    expect(usageLine(DIFF_CMD)).to.equal('vgic diff --against "<command>" (<trace.json|dir>... | --random N [--seed S] [--steps N] [--gic v2|v3] [--lrs N] [--pcpus N] [--vcpus N] [--spis N] [--life]) [--compare results|guest|full] [--allow NAME[,NAME...]] [--out FILE] [--timeout MS]');
    expect(usageLine(FUZZ_CMD)).to.contain('[--out DIR [--expect none|results|snapshots]] [--json] [--check [--delivery N] [--multi-domain N] [--mutant NAME]]');
    expect(usageLine(MUTANTS_CMD)).to.match(/^vgic mutants \[--run \[--traces N\] .*\[--json\]\]$/);
  });

  it('the table that prints the help also parses: defaults, ranges, choices and "goes with" come from it', () => {
    const o = parseCommand(FUZZ_CMD, ['--out', 'd']);
    expect(o.int('count')).to.equal(10);
    expect(o.int('seed')).to.equal(1);
    expect(o.str('expect')).to.equal('results');
    expect(o.intOr('delivery', 7)).to.equal(7);
    expect(() => parseCommand(FUZZ_CMD, ['--count', '0'])).to.throw(UsageError, '--count: 0 is outside 1..100000000');
    expect(() => parseCommand(FUZZ_CMD, ['--delivery', '3'])).to.throw(UsageError, '--delivery goes with --check');
    expect(() => parseCommand(FUZZ_CMD, ['--out', 'd', '--expect', 'all'])).to.throw(UsageError, '--expect: expected none, results or snapshots, got "all"');
    expect(() => parseCommand(MUTANTS_CMD, ['--traces', '5'])).to.throw(UsageError, '--traces goes with --run');
    expect(() => parseCommand(DIFF_CMD, ['--random', '3'])).to.throw(UsageError, '--against "<command>" is required');
    expect(() => parseCommand(SERVE_CMD, ['x'])).to.throw(UsageError, 'this command takes no file arguments (x)');
  });

  it('vgic --version and vgic version print the version of package.json (exit 0)', async () => {
    expect(version()).to.equal(PACKAGE_VERSION);
    for (const argv of [['--version'], ['version']]) {
      const r = await vgic(argv);
      expect(r).to.deep.equal({ status: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
    }
  });

  it('the built command finds its version from any working directory', () => {
    const r = spawnSync(process.execPath, [MAIN, '--version'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(r.stdout).to.equal(`${PACKAGE_VERSION}\n`);
    expect(r.status).to.equal(0);
  });

  it('the package build (dist/, made by npm test before the specs) is a runnable, executable command', function () {
    const dist = join(ROOT, 'dist', 'cli', 'main.js');
    if (!existsSync(dist)) this.skip();
    expect(statSync(dist).mode & 0o111, 'dist/cli/main.js is executable (npx vgic in the clone)').to.not.equal(0);
    const r = spawnSync(process.execPath, [dist, '--version'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(r.stdout).to.equal(`${PACKAGE_VERSION}\n`);
    expect(r.status).to.equal(0);
  });

  it('package.json: publishable, bin without "./", ships dist, src, fixtures and docs; LICENSE is there', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg['private']).to.equal(undefined);
    expect(pkg['bin']).to.deep.equal({ vgic: 'dist/cli/main.js' });
    expect(pkg['files']).to.include.members(['dist', 'src', 'fixtures', 'docs']);
    expect(pkg['license']).to.equal('MIT');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).to.match(/^MIT License\n\nCopyright \(c\) 2026 the vgic-model authors\n/);
  });

  it('a usage error points at the command\'s --help and exits 2', async () => {
    const r = await vgic(['dump', '--frob']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.equal('vgic dump: unknown option --frob\n(vgic dump --help describes its options)\n');
  });
});

describe('nothing reports success without having checked (replay, fuzz --out)', function () {
  this.timeout(30000);
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vgic-checked-'));
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('fuzz --out writes the model\'s RESULTs by default: replay of the directory checks every step and passes (exit 0)', async () => {
    const out = join(dir, 'results');
    const f = await vgic(['fuzz', '--count', '3', '--steps', '20', '--out', out]);
    expect(f.status).to.equal(0);
    expect(f.stdout).to.contain(`written to ${out}/ with the model's RESULTs as expectations`);
    for (const file of readdirSync(out)) {
      const steps = (JSON.parse(readFileSync(join(out, file), 'utf8')) as { steps: { expect?: { result?: unknown } }[] }).steps;
      for (const s of steps) expect(s.expect?.result, file).to.be.an('object');
    }
    const r = await vgic(['replay', out]);
    expect(r.stdout).to.match(/^3 traces: 3 passed, 0 failed, 0 errors; 60 checks$/m);
    expect(r.status).to.equal(0);
  });

  it('fuzz --out --expect snapshots writes snapshots too', async () => {
    const out = join(dir, 'snapshots');
    expect((await vgic(['fuzz', '--count', '1', '--steps', '5', '--out', out, '--expect', 'snapshots'])).status).to.equal(0);
    const [file] = readdirSync(out);
    const steps = (JSON.parse(readFileSync(join(out, file!), 'utf8')) as { steps: { expect?: { snapshot?: unknown } }[] }).steps;
    expect(steps[0]!.expect?.snapshot).to.be.an('object');
  });

  it('traces without expectations: UNCHECKED, "0 checks" with the reason, exit 1; --check makes them checked (exit 0)', async () => {
    const out = join(dir, 'none');
    const f = await vgic(['fuzz', '--count', '2', '--steps', '10', '--out', out, '--expect', 'none']);
    expect(f.stdout).to.contain('without expectations');
    const r = await vgic(['replay', out]);
    expect(r.stdout).to.match(/^UNCHECKED random-v\d-seed-1 +10 steps +0 checks$/m);
    expect(r.stdout).to.contain('2 traces: 0 passed, 0 failed, 0 errors, 2 unchecked (no expectation); 0 checks\n');
    expect(r.stdout).to.contain('0 checks: no trace carries an expectation; write them with vgic fuzz --expect results|snapshots, or use --check\n');
    expect(r.status).to.equal(1);
    const json = JSON.parse((await vgic(['replay', '--json', out])).stdout) as Record<string, unknown>;
    expect(json).to.deep.include({ passed: 0, unchecked: 2, checks: 0, exit: 1 });
    expect(json['reason']).to.match(/^0 checks: no trace carries an expectation/);
    expect((json['traces'] as { status: string }[]).map((t) => t.status)).to.deep.equal(['unchecked', 'unchecked']);
    const checked = await vgic(['replay', '--check', out]);
    expect(checked.stdout).to.contain('2 traces: 2 passed, 0 failed, 0 errors; 0 checks, invariants and properties after 20 steps');
    expect(checked.status).to.equal(0);
  });

  it('an unchecked trace next to checked ones is listed and counted, but the run passes (exit 0)', async () => {
    const out = join(dir, 'none');
    const fixture = join(ROOT, 'fixtures', 'q01-level-irq-does-not-refire-after-eoi.json');
    const r = await vgic(['replay', out, fixture]);
    expect(r.stdout).to.match(/^UNCHECKED random-/m);
    expect(r.stdout).to.match(/^PASS {6}q01-level-irq-does-not-refire-after-eoi /m);
    expect(r.stdout).to.match(/^3 traces: 1 passed, 0 failed, 0 errors, 2 unchecked \(no expectation\); \d+ checks$/m);
    expect(r.status).to.equal(0);
  });

  it('a trace with no steps checks nothing even with --check (exit 1)', async () => {
    const file = join(dir, 'empty.json');
    writeFileSync(file, JSON.stringify({ format: 'vgic-trace/1', name: 'empty', config: { gic: 'v3', nr_lrs: 1, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] }, steps: [] }));
    const r = await vgic(['replay', '--check', file]);
    expect(r.stdout).to.contain('0 checks: the traces have no steps and no expectations');
    expect(r.status).to.equal(1);
  });
});
