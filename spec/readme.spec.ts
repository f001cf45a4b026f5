/**
 * The README's examples are real runs. Every ```console block is read as a transcript:
 * `$ vgic …` lines are commands, the lines under each are what it prints on standard output,
 * and a last line `(exit status N)` is its status when not 0. Each block runs in a fresh
 * directory holding `fixtures/` (a link to the project's), with `vgic` (and `npx vgic`)
 * mapped to the built CLI, its commands in order through the shell; the output must match:
 * a line `...` stands for any number of lines, `...` inside a line for any text, and
 * timings (`0.9 s`) are ignored. For `vgic serve`, the request lines (JSON with a `cmd`)
 * are its input. A stale example (other counts, a missing file, another exit status) fails.
 * The library snippet (the ```ts block) must type-check under strict nodenext against the
 * built package and run.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI next to this compiled spec (<outDir>/spec -> <outDir>/src/cli/main.js). */
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface Example {
  /** 1-based README line of the `$` line. */
  line: number;
  command: string;
  /** Standard input (the request lines of a `vgic serve` example). */
  input: string[];
  expected: string[];
  status: number;
}

export interface Block {
  line: number;
  examples: Example[];
}

const EXIT = /^\(exit status (\d+)\)$/;

/** The ```console blocks of a markdown text, as transcripts. */
export function parseExamples(markdown: string): Block[] {
  const blocks: Block[] = [];
  let block: Block | null = null;
  markdown.split('\n').forEach((text, i) => {
    const line = i + 1;
    if (block === null) {
      if (text.trim() === '```console') blocks.push(block = { line, examples: [] });
      return;
    }
    if (text.trim() === '```') {
      block = null;
      return;
    }
    if (text.startsWith('$ ')) {
      block.examples.push({ line, command: text.slice(2), input: [], expected: [], status: 0 });
      return;
    }
    const ex = block.examples[block.examples.length - 1];
    if (ex === undefined) throw new Error(`README.md:${line}: console block text before its first "$ " command`);
    const exit = EXIT.exec(text);
    if (exit !== null) ex.status = Number(exit[1]);
    else if (/^(npx )?vgic serve\b/.test(ex.command) && isRequest(text)) ex.input.push(text);
    else ex.expected.push(text);
  });
  if (block !== null) throw new Error(`README.md:${(block as Block).line}: console block without its closing fence`);
  return blocks;
}

function isRequest(text: string): boolean {
  try {
    const j = JSON.parse(text) as unknown;
    return typeof j === 'object' && j !== null && 'cmd' in j;
  } catch {
    return false;
  }
}

/** Timings vary from run to run. */
function normalise(text: string): string {
  return text.replace(/\b\d+(?:\.\d+)? s\b/g, 'N s').trimEnd();
}

function linePattern(expected: string): RegExp {
  const parts = normalise(expected).split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/** Do the actual lines match the expected ones (`...` lines skip any number of lines)? */
export function matches(expected: readonly string[], actual: readonly string[]): boolean {
  const exp = expected.map((e) => (e.trim() === '...' ? null : linePattern(e)));
  const act = actual.map(normalise);
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let r: boolean;
    if (i === exp.length) r = j === act.length;
    else if (exp[i] === null) r = go(i + 1, j) || (j < act.length && go(i, j + 1));
    else r = j < act.length && exp[i]!.test(act[j]!) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

function trimBlankEnd(lines: string[]): string[] {
  const out = [...lines];
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README examples are real runs (spec/readme.spec.ts)', function () {
  this.timeout(60000);
  const blocks = parseExamples(README);
  let bin = '';

  before(() => {
    bin = mkdtempSync(join(tmpdir(), 'vgic-readme-bin-'));
    const sh = join(bin, 'vgic');
    writeFileSync(sh, `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
    chmodSync(sh, 0o755);
  });

  after(() => {
    if (bin !== '') rmSync(bin, { recursive: true, force: true });
  });

  it('the README has console examples of every command that runs quickly', () => {
    const commands = blocks.flatMap((b) => b.examples.map((e) => e.command));
    for (const c of ['replay', 'serve', 'diff', 'fuzz', 'dump', 'mutants']) {
      expect(commands.some((x) => x.startsWith(`vgic ${c}`)), `an example of vgic ${c}`).to.equal(true);
    }
    for (const c of commands) expect(c, 'a console example runs vgic').to.match(/^vgic /);
  });

  it('the matcher: "..." lines skip lines, "..." in a line any text, timings are ignored', () => {
    expect(matches(['a', '...', 'z'], ['a', 'b', 'c', 'z'])).to.equal(true);
    expect(matches(['a', '...', 'z'], ['a', 'z'])).to.equal(true);
    expect(matches(['a', 'z'], ['a', 'b', 'z'])).to.equal(false);
    expect(matches(['ops: ack 1, ...'], ['ops: ack 1, dir 2'])).to.equal(true);
    expect(matches(['ops: ack 1, ...'], ['ops: ack 2, dir 2'])).to.equal(false);
    expect(matches(['51 traces: 51 passed'], ['70 traces: 70 passed'])).to.equal(false);
    expect(matches(['done; 0.9 s'], ['done; 12.4 s'])).to.equal(true);
  });

  it('the parser: commands, output lines, exit status, serve requests as input', () => {
    const md = ['```console', '$ vgic a', 'out', '(exit status 1)', '$ vgic serve', '{"id":1,"cmd":"hello"}', '{"id":1,"ok":true}', '```', '```text', '$ vgic not-run', '```'].join('\n');
    const [b] = parseExamples(md);
    expect(b!.examples).to.deep.equal([
      { line: 2, command: 'vgic a', input: [], expected: ['out'], status: 1 },
      { line: 5, command: 'vgic serve', input: ['{"id":1,"cmd":"hello"}'], expected: ['{"id":1,"ok":true}'], status: 0 },
    ]);
    expect(parseExamples(md)).to.have.length(1);
  });

  for (const block of blocks) {
    describe(`README.md:${block.line}`, () => {
      let cwd = '';

      before(() => {
        cwd = mkdtempSync(join(tmpdir(), 'vgic-readme-'));
        symlinkSync(join(ROOT, 'fixtures'), join(cwd, 'fixtures'));
      });

      after(() => {
        if (cwd !== '') rmSync(cwd, { recursive: true, force: true });
      });

      for (const ex of block.examples) {
        it(`README.md:${ex.line}: $ ${ex.command}`, () => {
          const command = ex.command.replace(/\bnpx vgic\b/g, 'vgic');
          const r = spawnSync('/bin/sh', ['-c', command], {
            cwd,
            encoding: 'utf8',
            timeout: 30000,
            input: ex.input.map((l) => `${l}\n`).join(''),
            env: { ...process.env, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}` },
          });
          const actual = trimBlankEnd(r.stdout.split('\n'));
          const expected = trimBlankEnd(ex.expected);
          const shown = `README.md:${ex.line}: $ ${ex.command}\n--- actual output (exit ${r.status}) ---\n${r.stdout}--- stderr ---\n${r.stderr}`;
          expect(matches(expected, actual), shown).to.equal(true);
          expect(r.status, shown).to.equal(ex.status);
        });
      }
    });
  }

  describe('the library snippets', () => {
    const blocks = [...README.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    it('there are two: the machine, and vgic-model/testing', () => {
      expect(blocks.length).to.equal(2);
    });
    blocks.forEach((code, i) => {
      it(`snippet ${i + 1} type-checks under strict nodenext against the built package (dist/) and runs`, function () {
        this.timeout(60000);
        // `npm test` builds dist/ before the specs; `npm run test:nocov` too.
        if (!existsSync(join(ROOT, 'dist', 'index.d.ts'))) this.skip();
        // Inside the package, `vgic-model` resolves to the package itself through its "exports".
        const dir = join(ROOT, 'build', `readme-snippet-${i + 1}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'snippet.ts'), code);
        const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
          '--ignoreConfig', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node',
          '--rootDir', dir, '--outDir', join(dir, 'out'), join(dir, 'snippet.ts')], { cwd: dir, encoding: 'utf8' });
        expect(tsc.stdout + tsc.stderr).to.equal('');
        expect(tsc.status).to.equal(0);
        const run = spawnSync(process.execPath, [join(dir, 'out', 'snippet.js')], { cwd: ROOT, encoding: 'utf8' });
        expect(run.stderr).to.equal('');
        expect(run.status).to.equal(0);
        if (i === 0) expect(JSON.parse(run.stdout)).to.have.property('pcpus');
      });
    });
  });
});
