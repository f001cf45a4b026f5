/**
 * Malformed input through the real `vgic` command, one child process per case: broken trace
 * files (docs/trace-format.md §2, §2.1, §3, §6), trace errors at run time (§3), bad command lines, and
 * broken driver-protocol requests to `vgic serve` (§7). Every case must exit with status 2,
 * name the place of the problem (file and JSON path, or request path) and print no stack
 * trace. Non-fatal protocol errors (a bad config in `reset`, a trace error in `step`) must
 * not end a `vgic serve` session.
 *
 * Input that is merely big or strange must not crash or hang the command either: nesting
 * far beyond the JSON depth limit, files that are not regular files or larger than the trace
 * file limit, directory symlink loops, endless lines on either side of the driver protocol, a
 * config over the state budget, duplicate and `__proto__` keys, numbers that overflow, a byte
 * order mark, over-long hex, and control characters in echoed names (src/conformance/limits.ts).
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI next to this compiled spec (<outDir>/spec -> <outDir>/src/cli/main.js). */
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for messages that may go to either. */
  all: string;
}

function vgic(args: readonly string[], cwd: string, input?: string, timeout = 60000): Ran {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', timeout, ...(input !== undefined ? { input } : {}) });
  expect(r.error, `vgic ${args.join(' ')} did not finish within ${timeout} ms`).to.equal(undefined);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

/** No stack trace, no Node-internal error text, no io-ts type names in a user-facing message. */
function expectCleanMessage(text: string): void {
  expect(text, 'stack trace').not.to.match(/^\s+at\s/m);
  expect(text, 'node internals').not.to.contain('node:internal');
  expect(text, 'raw JS error').not.to.match(/\b(?:Type|Syntax|Range|Reference)?Error:/);
  expect(text, 'io-ts type name').not.to.match(/expected unknown\b|Array<|\{ \w+: unknown/);
}

// ----- a small valid base trace, and the malformed variants built from it -----

type Json = Record<string, unknown>;

const CONFIG = { gic: 'v3', nr_lrs: 4, pcpus: 2, domains: [{ id: 1, vcpus: 2, nr_spis: 64 }] };

/** run, enable SPI 40 (ISENABLER1), its priority 0xa0 (IPRIORITYR byte), inject it, enter. */
function base(): Json {
  return {
    format: 'vgic-trace/1',
    name: 'base',
    config: structuredClone(CONFIG),
    steps: [
      { op: 'run', pcpu: 0, domain: 1, vcpu: 0 },
      { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4, value: '0x100' },
      { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001428', size: 1, value: '0xa0' },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40 },
      { op: 'enter', pcpu: 0 },
    ],
  };
}

const cfg = (t: Json): Json => t['config'] as Json;
const dom0 = (t: Json): Json => (cfg(t)['domains'] as Json[])[0]!;
const steps = (t: Json): Json[] => t['steps'] as Json[];

/** The base trace changed by `f`. */
function variant(f: (t: Json) => void): Json {
  const t = base();
  f(t);
  return t;
}

/** The base trace with step `i` replaced (or appended when i == steps.length). */
function withStep(i: number, step: unknown): Json {
  return variant((t) => {
    (t['steps'] as unknown[])[i] = step;
  });
}

/** The base trace whose step 4 (enter) is replaced by a snapshot step with this EXPECT. */
function withExpect(e: unknown): Json {
  return withStep(4, { op: 'snapshot', expect: e });
}

/** File content: a JSON value, raw text, or no file at all. */
type Content = { json: unknown } | { raw: string } | { missing: true };

interface TraceRow {
  /** Also the file name (`<name>.json`). */
  name: string;
  /** The docs/trace-format.md section the rule comes from. */
  ref: string;
  content: Content;
  /** Substrings the output must contain (after the file name). */
  says: string[];
  /** Substrings it must not contain (a misleading message it used to give). */
  not?: string[];
}

/** `depth` nested arrays around `inner`. */
function nested(depth: number, inner = '0'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** The base trace as text, with `text` put in place of the JSON of `{"marker":0}` found in it. */
function rawWith(mutate: (t: Json) => void, text: string): string {
  return JSON.stringify(variant((t) => mutate(t))).replace('{"marker":0}', text);
}

/** A config of `n` domains, ids 0..n-1, of `vcpus` vCPUs and `spis` SPIs each. */
function manyDomains(n: number, vcpus: number, spis: number): Json {
  return { ...CONFIG, domains: Array.from({ length: n }, (_x, id) => ({ id, vcpus, nr_spis: spis })) };
}

const TRACE_ROWS: TraceRow[] = [
  // ----- the file itself (§2) -----
  // YAML by mistake: Node's JSON.parse message quotes the text, newlines included.
  { name: 'not-json', ref: '§2', content: { raw: 'trace:\n  format: vgic-trace/1\n' }, says: ['not-json.json: not valid JSON'] },
  { name: 'truncated-json', ref: '§2', content: { raw: '{ "format": "vgic-trace/1", "config": ' }, says: ['truncated-json.json: not valid JSON'] },
  { name: 'missing-file', ref: '§2', content: { missing: true }, says: ['missing-file.json: cannot read: ENOENT'] },
  { name: 'top-level-array', ref: '§2', content: { raw: '[1, 2]' }, says: ['top-level-array.json: (top level): expected an object, got [1,2]'] },
  { name: 'top-level-string', ref: '§2', content: { raw: '"vgic-trace/1"' }, says: ['top-level-string.json: (top level): expected an object, got "vgic-trace/1"'] },
  { name: 'wrong-format', ref: '§2', content: { json: variant((t) => { t['format'] = 'vgic-trace/2'; }) }, says: ['wrong-format.json: format: expected "vgic-trace/1", got "vgic-trace/2"'] },
  { name: 'missing-steps', ref: '§2', content: { json: variant((t) => { delete t['steps']; }) }, says: ['missing-steps.json: steps: missing key'] },
  { name: 'steps-not-array', ref: '§2', content: { json: variant((t) => { t['steps'] = { op: 'run' }; }) }, says: ['steps-not-array.json: steps: expected'] },
  { name: 'unknown-top-key', ref: '§2', content: { json: variant((t) => { t['comment'] = 'x'; }) }, says: ['unknown-top-key.json: comment: unknown key'] },
  // ----- config (§2.1) -----
  { name: 'nr-lrs-0', ref: '§2.1', content: { json: variant((t) => { cfg(t)['nr_lrs'] = 0; }) }, says: ['nr-lrs-0.json: config.nr_lrs: 0 is outside 1..16'] },
  { name: 'nr-lrs-17-v3', ref: '§2.1', content: { json: variant((t) => { cfg(t)['nr_lrs'] = 17; }) }, says: ['nr-lrs-17-v3.json: config.nr_lrs: 17 is outside 1..16', 'GICv3'] },
  { name: 'nr-lrs-65-v2', ref: '§2.1', content: { json: variant((t) => { cfg(t)['gic'] = 'v2'; cfg(t)['nr_lrs'] = 65; }) }, says: ['nr-lrs-65-v2.json: config.nr_lrs: 65 is outside 1..64', 'GICv2'] },
  { name: 'vcpus-9-v2', ref: '§2.1', content: { json: variant((t) => { cfg(t)['gic'] = 'v2'; dom0(t)['vcpus'] = 9; }) }, says: ['vcpus-9-v2.json: config.domains[0].vcpus: 9 exceeds the GICv2 limit of 8'] },
  { name: 'nr-spis-961', ref: '§2.1', content: { json: variant((t) => { dom0(t)['nr_spis'] = 961; }) }, says: ['nr-spis-961.json: config.domains[0].nr_spis: 961 rounds up to 992, above the limit of 960'] },
  {
    name: 'duplicate-domain-id', ref: '§2.1',
    content: { json: variant((t) => { (cfg(t)['domains'] as Json[]).push({ id: 1, vcpus: 1, nr_spis: 32 }); }) },
    says: ['duplicate-domain-id.json: config.domains[1].id: duplicate domain id 1'],
  },
  { name: 'pirq-1020', ref: '§2.1', content: { json: variant((t) => { dom0(t)['pirqs'] = [48, 1020]; }) }, says: ['pirq-1020.json: config.domains[0].pirqs[1]: 1020 is not a host SPI (32..1019)'] },
  { name: 'pcpus-17', ref: '§2.1', content: { json: variant((t) => { cfg(t)['pcpus'] = 17; }) }, says: ['pcpus-17.json: config.pcpus: 17 is outside 1..16'] },
  { name: 'gic-v4', ref: '§2.1', content: { json: variant((t) => { cfg(t)['gic'] = 'v4'; }) }, says: ['gic-v4.json: config.gic: expected "v2" | "v3", got "v4"'] },
  { name: 'unknown-config-key', ref: '§2.1', content: { json: variant((t) => { cfg(t)['nr_pcpus'] = 2; }) }, says: ['unknown-config-key.json: config.nr_pcpus: unknown key'] },
  // ----- steps (§3) -----
  { name: 'unknown-op', ref: '§3', content: { json: withStep(4, { op: 'enter_guest', pcpu: 0 }) }, says: ['unknown-op.json: steps[4].op: unknown op "enter_guest"'] },
  { name: 'missing-op', ref: '§3', content: { json: withStep(4, { pcpu: 0 }) }, says: ['missing-op.json: steps[4].op: missing key'] },
  { name: 'step-not-object', ref: '§3', content: { json: withStep(2, 42) }, says: ['step-not-object.json: steps[2]: expected an object, got 42'] },
  { name: 'missing-key', ref: '§3', content: { json: withStep(0, { op: 'run', pcpu: 0, domain: 1 }) }, says: ['missing-key.json: steps[0].vcpu: missing key'] },
  { name: 'wrong-type', ref: '§3', content: { json: withStep(0, { op: 'run', pcpu: '0', domain: 1, vcpu: 0 }) }, says: ['wrong-type.json: steps[0].pcpu: expected non-negative integer, got "0"'] },
  {
    name: 'size-3', ref: '§3.3',
    content: { json: withStep(4, { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001000', size: 3 }) },
    says: ['size-3.json: steps[4].size: expected 1 | 2 | 4 | 8, got 3'],
  },
  { name: 'unknown-step-key', ref: '§3', content: { json: withStep(4, { op: 'enter', pcpu: 0, vcpu: 0 }) }, says: ['unknown-step-key.json: steps[4].vcpu: unknown key'] },
  {
    name: 'write-without-value', ref: '§3.3',
    content: { json: withStep(1, { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4 }) },
    says: ['write-without-value.json: steps[1].value: missing key'],
  },
  {
    name: 'read-with-value', ref: '§3.3',
    content: { json: withStep(1, { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001104', size: 4, value: '0x100' }) },
    says: ['read-with-value.json: steps[1].value: unknown key'],
  },
  { name: 'addr-not-hex', ref: '§1, §3.3', content: { json: withStep(1, { op: 'mmio', pcpu: 0, access: 'write', addr: 3146000, size: 4, value: '0x100' }) }, says: ['addr-not-hex.json: steps[1].addr: expected hex string, got 3146000'] },
  { name: 'inject-without-vcpu', ref: '§3.2', content: { json: withStep(3, { op: 'inject', pcpu: 0, domain: 1, virq: 40 }) }, says: ['inject-without-vcpu.json: steps[3].vcpu: missing key'] },
  { name: 'pmr-256', ref: '§3.4', content: { json: withStep(5, { op: 'pmr', pcpu: 0, value: 256 }) }, says: ['pmr-256.json: steps[5].value: expected integer 0..255, got 256'] },
  // ----- EXPECT (§6) -----
  { name: 'expect-unknown-key', ref: '§6', content: { json: withExpect({ snapshots: {} }) }, says: ['expect-unknown-key.json: steps[4].expect.snapshots: unknown key'] },
  {
    name: 'expect-snapshot-typo', ref: '§5, §6',
    content: { json: withExpect({ snapshot: { domains: [{ id: 1, vcpus: [{ id: 0, lr_pendng: [] }] }] } }) },
    says: ['expect-snapshot-typo.json: steps[4].expect.snapshot.domains[0].vcpus[0].lr_pendng: unknown key'],
  },
  {
    name: 'expect-snapshot-wrong-type', ref: '§5, §6',
    content: { json: withExpect({ snapshot: { pcpus: [{ id: 0, uie: 'no' }] } }) },
    says: ['expect-snapshot-wrong-type.json: steps[4].expect.snapshot.pcpus[0].uie: expected boolean, got "no"'],
  },
  {
    name: 'expect-hex-as-number', ref: '§1, §6',
    content: { json: withExpect({ snapshot: { domains: [{ id: 1, vcpus: [{ id: 0, lr_mask: 1 }] }] } }) },
    says: ['expect-hex-as-number.json: steps[4].expect.snapshot.domains[0].vcpus[0].lr_mask: expected hex string, got 1'],
  },
  {
    name: 'expect-domain-without-id', ref: '§6 (keyed arrays)',
    content: { json: withExpect({ snapshot: { domains: [{ ctlr: '0x10' }] } }) },
    // Written to the intended message: "<path>: missing key (...)", not "expected missing key ..., got nothing".
    says: ['expect-domain-without-id.json: steps[4].expect.snapshot.domains[0].id: missing key (an element of this array is matched by id)'],
  },
  {
    name: 'expect-irq-without-vcpu', ref: '§6 (keyed arrays)',
    content: { json: withExpect({ snapshot: { domains: [{ id: 1, irqs: [{ irq: 40, status: [] }] }] } }) },
    says: ['expect-irq-without-vcpu.json: steps[4].expect.snapshot.domains[0].irqs[0].vcpu: missing key (an element of this array is matched by irq and vcpu)'],
  },
  {
    name: 'expect-bad-outcome', ref: '§4, §6',
    content: { json: withExpect({ result: { outcome: 'fine' } }) },
    says: ['expect-bad-outcome.json: steps[4].expect.result.outcome: expected "ok" | "abort" | "undef" | "error" | "latched" | "crash", got "fine"'],
  },
  // ----- several problems at once: all reported -----
  {
    name: 'several-problems', ref: '§2.1, §3',
    content: { json: variant((t) => { cfg(t)['nr_lrs'] = 0; steps(t)[4] = { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001000', size: 3 }; }) },
    says: ['several-problems.json: config.nr_lrs: 0 is outside 1..16', 'several-problems.json: steps[4].size: expected 1 | 2 | 4 | 8, got 3'],
  },
  // ----- trace errors at run time (§3): decoded fine, a precondition fails -----
  { name: 'enter-on-idle-pcpu', ref: '§3, §3.1', content: { json: withStep(5, { op: 'enter', pcpu: 1 }) }, says: ['enter-on-idle-pcpu', 'step 5 (enter): pCPU 1 is idle; enter needs it hyp'] },
  {
    name: 'spi-with-vcpu', ref: '§3, §3.2',
    content: { json: withStep(3, { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 40 }) },
    says: ['spi-with-vcpu', 'step 3 (inject): virq 40 is an SPI, so vcpu must be null'],
  },
  {
    name: 'mmio-misaligned', ref: '§3, §3.3',
    content: { json: withStep(1, { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001102', size: 4, value: '0x100' }) },
    says: ['mmio-misaligned', 'step 1 (mmio): addr 0x3001102 is not aligned to the access size 4'],
  },
  // ----- input limits, duplicate keys, numbers, encodings (src/conformance/limits.ts) -----
  {
    name: 'deep-nesting-step', ref: '§2, JSON depth limit',
    content: { raw: rawWith((t) => { steps(t)[0] = { marker: 0 }; }, `{"op":"run","x":${nested(100000)}}`) },
    says: ['deep-nesting-step.json: steps[0].x[0][0]', 'nested deeper than 64 levels of arrays and objects'],
  },
  {
    name: 'deep-nesting-config', ref: '§2.1, JSON depth limit',
    content: { raw: rawWith((t) => { t['config'] = { marker: 0 }; }, `{"gic":${nested(100000)}}`) },
    says: ['deep-nesting-config.json: config.gic[0]', 'nested deeper than 64 levels'],
  },
  {
    name: 'duplicate-steps-key', ref: '§2, duplicate keys',
    content: { raw: JSON.stringify(base()).replace(/}$/, ',"steps":[]}') },
    says: ['duplicate-steps-key.json: steps: duplicate key'],
  },
  {
    name: 'duplicate-expect-key', ref: '§6, duplicate keys',
    content: { raw: rawWith((t) => { steps(t)[4] = { marker: 0 }; }, '{"op":"snapshot","expect":{"result":{"outcome":"ok"}},"expect":{}}') },
    says: ['duplicate-expect-key.json: steps[4].expect: duplicate key'],
  },
  {
    name: 'duplicate-config-key', ref: '§2.1, duplicate keys',
    content: { raw: rawWith((t) => { t['config'] = { marker: 0 }; }, '{"gic":"v3","nr_lrs":4,"pcpus":2,"nr_lrs":16,"domains":[{"id":1,"vcpus":2,"nr_spis":64}]}') },
    says: ['duplicate-config-key.json: config.nr_lrs: duplicate key'],
  },
  {
    name: 'proto-key', ref: '§3, __proto__',
    content: { raw: rawWith((t) => { steps(t)[0] = { marker: 0 }; }, '{"op":"run","pcpu":0,"domain":1,"vcpu":0,"__proto__":{"pcpu":1}}') },
    says: ['proto-key.json: steps[0].__proto__: the key "__proto__" is not allowed'],
  },
  {
    name: 'number-1e400', ref: '§3.4, numbers',
    content: { raw: rawWith((t) => { steps(t)[5] = { marker: 0 }; }, '{"op":"pmr","pcpu":0,"value":1e400}') },
    says: ['number-1e400.json: steps[5].value: number out of range: 1e400'], not: ['got null'],
  },
  { name: 'utf8-bom', ref: '§2, encoding', content: { raw: `\ufeff${JSON.stringify(base())}` }, says: ['utf8-bom.json: starts with a UTF-8 byte order mark'] },
  {
    name: 'hex-addr-too-long', ref: '§1, §3.3',
    content: { json: withStep(1, { op: 'mmio', pcpu: 0, access: 'write', addr: '0x30011040000000000', size: 4, value: '0x100' }) },
    says: ['hex-addr-too-long.json: steps[1].addr: too many hex digits: "0x30011040000000000" does not fit in 64 bits'], not: ['not aligned'],
  },
  {
    name: 'config-32768-domains', ref: '§2.1, state budget',
    content: { json: variant((t) => { t['config'] = manyDomains(32768, 128, 960); }) },
    says: ['config-32768-domains.json: config.domains: 165675008 interrupt records in all (the sum over domains of 32 × vcpus + nr_spis rounded up to 32), above the state budget of 131072'],
  },
  {
    // 31 × (32 × 128) + 32 × 127 + 64 (33 SPIs take two ranks) = 131104; with nr_spis 32 it
    // would be exactly the budget.
    name: 'config-just-over-budget', ref: '§2.1, state budget',
    content: { json: variant((t) => { const c = manyDomains(32, 128, 0); (c['domains'] as Json[])[31] = { id: 31, vcpus: 127, nr_spis: 33 }; t['config'] = c; }) },
    says: ['config-just-over-budget.json: config.domains: 131104 interrupt records in all', 'above the state budget of 131072'],
  },
];

interface CliRow {
  name: string;
  args: string[];
  says: string[];
}

const CLI_ROWS: CliRow[] = [
  { name: 'unknown command', args: ['frobnicate'], says: ['vgic: unknown command "frobnicate"', 'usage: vgic'] },
  { name: 'unknown option', args: ['replay', '--frob', 'x.json'], says: ['vgic replay: unknown option --frob'] },
  { name: 'replay with no files', args: ['replay'], says: ['vgic replay: replay needs at least one trace file or directory', 'usage: vgic replay'] },
  { name: 'replay --json with no files', args: ['replay', '--json'], says: ['vgic replay: replay needs at least one trace file or directory'] },
  { name: 'replay --mutant unknown', args: ['replay', '--mutant', 'evict-on-greater', 'x.json'], says: ['vgic replay: --mutant: unknown mutant "evict-on-greater" (known: evict-on-equal'] },
  { name: 'serve --mutant unknown', args: ['serve', '--mutant', 'nope'], says: ['vgic serve: --mutant: unknown mutant "nope"'] },
  { name: 'serve with a positional argument', args: ['serve', 'extra'], says: ['vgic serve: this command takes no file arguments (extra)'] },
  { name: 'fuzz --steps abc', args: ['fuzz', '--steps', 'abc'], says: ['vgic fuzz: --steps: expected a whole number, got "abc"'] },
  { name: 'fuzz --count without a value', args: ['fuzz', '--count'], says: ["vgic fuzz: Option '--count <value>' argument missing"] },
  { name: 'fuzz --gic v4', args: ['fuzz', '--gic', 'v4'], says: ['vgic fuzz: --gic: expected v2 or v3, got "v4"'] },
  { name: 'fuzz --lrs 17 on v3', args: ['fuzz', '--gic', 'v3', '--lrs', '17'], says: ['vgic fuzz: --lrs: 17 is outside 1..16'] },
  { name: 'fuzz --expect maybe', args: ['fuzz', '--out', 'fuzz-out', '--expect', 'maybe'], says: ['vgic fuzz: --expect: expected none, results or snapshots, got "maybe"'] },
  { name: 'fuzz --expect without --out', args: ['fuzz', '--expect', 'none'], says: ['vgic fuzz: --expect goes with --out', 'usage: vgic fuzz'] },
  { name: 'diff --seed with trace files', args: ['diff', '--against', 'true', '--seed', '3', 'a.json'], says: ['vgic diff: --seed goes with --random'] },
  { name: 'diff without --against', args: ['diff', '--random', '5'], says: ['vgic diff: --against "<command>" is required', 'usage: vgic diff'] },
  { name: 'diff without traces or --random', args: ['diff', '--against', 'true'], says: ['vgic diff: give trace files or directories, or --random N'] },
  { name: 'diff with both traces and --random', args: ['diff', '--against', 'true', '--random', '5', 'a.json'], says: ['vgic diff: give either trace files or --random N, not both'] },
  { name: 'diff --random 0', args: ['diff', '--against', 'true', '--random', '0'], says: ['vgic diff: --random: 0 is outside 1..10000000'] },
  { name: 'diff --timeout 5', args: ['diff', '--against', 'true', '--random', '1', '--timeout', '5'], says: ['vgic diff: --timeout: 5 is outside 100..3600000'] },
];

interface ServeRow {
  name: string;
  /** Request lines sent before the malformed one (all must be answered ok). */
  before?: string[];
  line: string;
  /** The id the error response must carry (null when none is readable). */
  id: number | string | null;
  says: string;
}

const HELLO = JSON.stringify({ id: 100, cmd: 'hello' });
const RESET = JSON.stringify({ id: 101, cmd: 'reset', config: CONFIG });

const SERVE_ROWS: ServeRow[] = [
  { name: 'not JSON', line: '{"id": 1, "cmd": "hello"', id: null, says: 'request is not valid JSON' },
  { name: 'a JSON array', line: '[1, 2]', id: null, says: 'request: expected a JSON object, got [1,2]' },
  { name: 'a JSON number', line: '42', id: null, says: 'request: expected a JSON object, got 42' },
  { name: 'an unknown cmd', line: '{"id":1,"cmd":"frob"}', id: 1, says: 'request.cmd: expected "hello" | "reset" | "step" | "snapshot" | "quit", got "frob"' },
  { name: 'no cmd', line: '{"id":2}', id: 2, says: 'request.cmd: missing key' },
  { name: 'no id', line: '{"cmd":"hello"}', id: null, says: 'request.id: missing key' },
  { name: 'an id that is neither number nor string', line: '{"id":true,"cmd":"hello"}', id: null, says: 'request.id: expected number | string, got true' },
  { name: 'reset without config', line: '{"id":3,"cmd":"reset"}', id: 3, says: 'request.config: missing key' },
  { name: 'step without step', before: [RESET], line: '{"id":"s","cmd":"step"}', id: 's', says: 'request.step: missing key' },
  { name: 'an extra key in hello', line: '{"id":4,"cmd":"hello","verbose":true}', id: 4, says: 'request.verbose: unknown key' },
  { name: '100000-deep nesting', before: [RESET], line: `{"id":6,"cmd":"step","step":${nested(100000)}}`, id: null, says: 'request.step[0][0]' },
  { name: 'a duplicated cmd key', line: '{"id":7,"cmd":"hello","cmd":"quit"}', id: null, says: 'request.cmd: duplicate key' },
  { name: 'a __proto__ key', line: '{"id":8,"cmd":"hello","__proto__":{}}', id: null, says: 'request.__proto__: the key "__proto__" is not allowed' },
  { name: 'an id of 1e400', line: '{"id":1e400,"cmd":"hello"}', id: null, says: 'request.id: number out of range: 1e400' },
  {
    name: 'an extra key in a step request', before: [HELLO, RESET],
    line: JSON.stringify({ id: 5, cmd: 'step', step: { op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, index: 0 }), id: 5, says: 'request.index: unknown key',
  },
];

function parseLines(text: string): Json[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json);
}

describe('vgic CLI: malformed input exits 2 with a located message and no stack trace', function () {
  this.timeout(120000);
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vgic-malformed-'));
    for (const row of TRACE_ROWS) {
      const file = join(dir, `${row.name}.json`);
      if ('json' in row.content) writeFileSync(file, `${JSON.stringify(row.content.json, null, 1)}\n`);
      else if ('raw' in row.content) writeFileSync(file, row.content.raw);
    }
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it(`the table covers at least 24 malformed trace files, ${CLI_ROWS.length} bad command lines and ${SERVE_ROWS.length} bad requests`, () => {
    expect(TRACE_ROWS.length).to.be.at.least(24);
    expect(new Set(TRACE_ROWS.map((r) => r.name)).size).to.equal(TRACE_ROWS.length);
  });

  it('the base trace the table is built from is valid and passes (exit 0)', () => {
    writeFileSync(join(dir, 'base.json'), JSON.stringify(base()));
    // A trace without expectations checks nothing unless --check (it would be UNCHECKED, exit 1).
    const r = vgic(['replay', '--check', 'base.json'], dir);
    expect(r.stdout).to.match(/^PASS /);
    expect(r.status).to.equal(0);
  });

  describe('vgic replay <file>', () => {
    for (const row of TRACE_ROWS) {
      it(`docs/trace-format.md ${row.ref}: ${row.name} -> exit 2, "${row.says[row.says.length - 1]}"`, () => {
        const r = vgic(['replay', `${row.name}.json`], dir);
        for (const s of row.says) expect(r.all).to.contain(s);
        for (const s of row.not ?? []) expect(r.all).not.to.contain(s);
        expect(r.stdout).to.match(/^ERROR /m);
        expect(r.stdout).to.contain('1 traces: 0 passed, 0 failed, 1 errors');
        expectCleanMessage(r.all);
        expect(r.status).to.equal(2);
      });
    }

    it('docs/trace-format.md §2: the not-JSON message stays on one report line (the file text it quotes must not break it)', () => {
      const r = vgic(['replay', 'not-json.json'], dir);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).to.have.length(3);
      expect(lines[0]).to.match(/^ERROR not-json\.json /);
      expect(lines[1]).to.match(/^ {6}not-json\.json: not valid JSON: \S.*$/);
      expect(lines[2]).to.equal('1 traces: 0 passed, 0 failed, 1 errors; 0 checks');
    });

    it('--json: the error carries the same located message, exit 2', () => {
      const r = vgic(['replay', '--json', 'size-3.json'], dir);
      const report = JSON.parse(r.stdout) as { traces: { status: string; error: string }[]; exit: number };
      expect(report.traces[0]!.status).to.equal('error');
      expect(report.traces[0]!.error).to.contain('size-3.json: steps[4].size: expected 1 | 2 | 4 | 8, got 3');
      expect(report.exit).to.equal(2);
      expect(r.status).to.equal(2);
    });

    it('a directory with one good and one bad trace: PASS and ERROR lines, exit 2', () => {
      const sub = join(dir, 'mixed');
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, 'a-good.json'), JSON.stringify(base()));
      writeFileSync(join(sub, 'b-bad.json'), JSON.stringify(withStep(4, { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001000', size: 3 })));
      const r = vgic(['replay', '--check', 'mixed'], dir);
      expect(r.stdout).to.match(/^PASS +base .*a-good\.json/m);
      expect(r.stdout).to.contain(`${join('mixed', 'b-bad.json')}: steps[4].size: expected 1 | 2 | 4 | 8, got 3`);
      expect(r.stdout).to.contain('2 traces: 1 passed, 0 failed, 1 errors');
      expectCleanMessage(r.all);
      expect(r.status).to.equal(2);
    });
  });

  describe('vgic replay: files that are not regular, too large, loops, empty directories, echoed names', () => {
    /** Replay `args` in `dir`: exit 2 quickly, clean, and saying each of `says`. */
    function refused(args: string[], says: string[], timeout = 20000): Ran {
      const r = vgic(['replay', ...args], dir, undefined, timeout);
      for (const s of says) expect(r.all).to.contain(s);
      expectCleanMessage(r.all);
      expect(r.status).to.equal(2);
      return r;
    }

    it('a FIFO given as a trace -> exit 2 "a FIFO", without waiting for a writer', function () {
      const fifo = join(dir, 'fifo.json');
      const made = spawnSync('mkfifo', [fifo]);
      if (made.error !== undefined || made.status !== 0) this.skip();
      refused(['fifo.json'], ['fifo.json: cannot read: it is a FIFO (named pipe), and a trace must be a regular file']);
      rmSync(fifo);
    });

    it('/dev/zero given as a trace -> exit 2 "a character device", not an endless read', function () {
      if (!existsSync('/dev/zero')) this.skip();
      refused(['/dev/zero'], ['/dev/zero: cannot read: it is a character device, and a trace must be a regular file']);
    });

    it('a trace file larger than 256 MiB (sparse) -> exit 2 naming its size and the limit, before reading it', () => {
      const big = join(dir, 'big.json');
      const fd = openSync(big, 'w');
      ftruncateSync(fd, 256 * 1024 * 1024 + 1);
      closeSync(fd);
      refused(['big.json'], ['big.json: 268435457 bytes is larger than the limit of 256 MiB for a trace file']);
      rmSync(big);
    });

    it('a directory with a symbolic link to its parent -> exit 2 naming the loop, no ELOOP stack trace', () => {
      const loop = join(dir, 'loop');
      mkdirSync(join(loop, 'sub'), { recursive: true });
      writeFileSync(join(loop, 'a.json'), JSON.stringify(base()));
      symlinkSync('..', join(loop, 'sub', 'up'));
      refused(['loop'], [`${join('loop', 'sub', 'up')}: a symbolic link loop: this is the directory loop again`]);
    });

    it('a dangling symbolic link named *.json in a directory -> exit 2 naming it', () => {
      const broken = join(dir, 'broken');
      mkdirSync(broken, { recursive: true });
      writeFileSync(join(broken, 'a.json'), JSON.stringify(base()));
      symlinkSync('nowhere.json', join(broken, 'b.json'));
      refused(['broken'], [`${join('broken', 'b.json')}: cannot read: ENOENT`]);
    });

    it('an empty directory -> exit 2 "no *.json trace file", not a pass of 0 traces', () => {
      mkdirSync(join(dir, 'empty', 'nested'), { recursive: true });
      writeFileSync(join(dir, 'empty', 'README.txt'), 'not a trace');
      const r = refused(['empty'], ['empty: no *.json trace file in this directory or below it']);
      expect(r.stdout).not.to.contain('0 passed, 0 failed, 0 errors');
    });

    it('a trace named "x\\u001b[32m PASS\\nfake" is printed escaped: one PASS line, no escape character, no fake line', () => {
      writeFileSync(join(dir, 'ansi-name.json'), JSON.stringify({ ...base(), name: 'x\u001b[32m PASS\nfake' }));
      // --check: the base trace carries no expectation, so the invariants are what is checked.
      const r = vgic(['replay', '--check', 'ansi-name.json'], dir);
      expect(r.stdout).not.to.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).to.have.length(2);
      expect(lines[0]).to.match(/^PASS  x\\u001b\[32m PASS\\nfake +5 steps/);
      expect(r.status).to.equal(0);
      const json = vgic(['replay', '--check', '--json', 'ansi-name.json'], dir);
      expect((JSON.parse(json.stdout) as { traces: { name: string }[] }).traces[0]!.name).to.equal('x\u001b[32m PASS\nfake');
    });
  });

  describe('vgic diff <file>: trace files are checked before the other side is started', () => {
    it('docs/trace-format.md §3.3: a malformed trace -> exit 2 with its file and path, the --against command never runs', () => {
      const marker = join(dir, 'diff-side-started');
      const r = vgic(['diff', '--against', `touch ${marker}`, 'size-3.json', 'nr-spis-961.json'], dir);
      expect(r.stderr).to.contain('size-3.json: steps[4].size: expected 1 | 2 | 4 | 8, got 3');
      expect(r.stderr).to.contain('nr-spis-961.json: config.domains[0].nr_spis: 961 rounds up to 992');
      expectCleanMessage(r.all);
      expect(r.status).to.equal(2);
      expect(existsSync(marker), 'the other side was started').to.equal(false);
    });

    it('a missing trace file -> exit 2 naming it', () => {
      const r = vgic(['diff', '--against', 'true', 'missing-file.json'], dir);
      expect(r.stderr).to.contain('missing-file.json: cannot read: ENOENT');
      expectCleanMessage(r.all);
      expect(r.status).to.equal(2);
    });
  });

  describe('vgic diff: another side that writes an endless line', () => {
    it('--against "cat /dev/zero" -> exit 2 naming the 64 MiB response limit, not "Invalid string length"', function () {
      if (!existsSync('/dev/zero')) this.skip();
      const r = vgic(['diff', '--against', 'cat /dev/zero', '--random', '1', '--timeout', '20000'], dir, '', 60000);
      expect(r.stderr).to.contain('vgic diff: "cat /dev/zero": wrote a line longer than 64 MiB, the limit for a response');
      expect(r.all).not.to.contain('Invalid string length');
      expectCleanMessage(r.all);
      expect(r.status).to.equal(2);
    });
  });

  describe('command-line usage errors', () => {
    for (const row of CLI_ROWS) {
      it(`${row.name} -> exit 2, "${row.says[0]}"`, () => {
        const r = vgic(row.args, dir, '');
        for (const s of row.says) expect(r.stderr).to.contain(s);
        expectCleanMessage(r.all);
        expect(r.status).to.equal(2);
      });
    }
  });

  describe('vgic serve: a malformed request (docs/trace-format.md §7) ends the session', () => {
    for (const row of SERVE_ROWS) {
      it(`§7: ${row.name} -> an ok:false line naming it, nothing read after it, exit 2`, () => {
        const before = row.before ?? [];
        // A valid request after the bad one must not be answered.
        const r = vgic(['serve'], dir, `${[...before, row.line, HELLO].join('\n')}\n`);
        const replies = parseLines(r.stdout);
        expect(replies).to.have.length(before.length + 1);
        for (const ok of replies.slice(0, before.length)) expect(ok['ok']).to.equal(true);
        const bad = replies[before.length]!;
        expect(bad['ok']).to.equal(false);
        expect(bad['id']).to.equal(row.id);
        expect(bad['error']).to.be.a('string').that.contains(row.says);
        expect(r.stderr).to.contain(`vgic serve: ${row.says}`);
        expectCleanMessage(r.all);
        expect(r.status).to.equal(2);
      });
    }
  });

  describe('vgic serve: a request line beyond 16 MiB', () => {
    it('is answered with ok:false, id null, naming the limit, then exit 2 (the line is streamed, never buffered whole)', async () => {
      const child = spawn(process.execPath, [MAIN, 'serve'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
      child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      child.stdin.on('error', () => { /* the server stops reading: EPIPE is expected */ });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.stdin.write(`${HELLO}\n`);
      const mib = Buffer.alloc(1024 * 1024, 0x78);
      let open = true;
      void exited.then(() => { open = false; });
      // 17 MiB of "x" without a newline (and then some, until the server gives up).
      for (let i = 0; i < 24 && open; i++) {
        if (!child.stdin.write(mib)) await new Promise((resolve) => { child.stdin.once('drain', resolve); setTimeout(resolve, 200); });
      }
      const code = await exited;
      const replies = parseLines(stdout);
      expect(replies).to.have.length(2);
      expect(replies[0]!['ok']).to.equal(true);
      expect(replies[1]).to.deep.equal({ id: null, ok: false, error: 'request line longer than 16 MiB, the limit for a request (the rest of it is not read)' });
      expect(stderr).to.contain('vgic serve: request line longer than 16 MiB');
      expectCleanMessage(`${stdout}\n${stderr}`);
      expect(code).to.equal(2);
    });
  });

  describe('vgic serve: ok:false answers that do not end the session (docs/trace-format.md §7)', () => {
    /** Run a session that ends with quit; returns the replies by id. */
    function session(lines: Json[]): { byId: Map<unknown, Json>; r: Ran } {
      const r = vgic(['serve'], dir, `${[...lines, { id: 'q', cmd: 'quit' }].map((l) => JSON.stringify(l)).join('\n')}\n`);
      const replies = parseLines(r.stdout);
      expect(replies.map((x) => x['id'])).to.deep.equal([...lines.map((l) => l['id']), 'q']);
      return { byId: new Map(replies.map((x) => [x['id'], x])), r };
    }

    it('§2.1: reset with a bad config -> ok:false naming config.<path>; a later reset, step and quit work (exit 0)', () => {
      const { byId, r } = session([
        { id: 1, cmd: 'reset', config: { ...CONFIG, nr_lrs: 17 } },
        { id: 2, cmd: 'reset', config: { ...CONFIG, domains: [{ id: 1, vcpus: 2, nr_spis: 961 }] } },
        { id: 3, cmd: 'reset', config: { ...CONFIG, pcpu: 2 } },
        { id: 4, cmd: 'reset', config: CONFIG },
        { id: 5, cmd: 'step', step: { op: 'run', pcpu: 0, domain: 1, vcpu: 0 } },
      ]);
      expect(byId.get(1)).to.include({ ok: false });
      expect(byId.get(1)!['error']).to.contain('config.nr_lrs: 17 is outside 1..16');
      expect(byId.get(2)!['error']).to.contain('config.domains[0].nr_spis: 961 rounds up to 992');
      expect(byId.get(3)!['error']).to.contain('config.pcpu: unknown key');
      expect(byId.get(4)).to.deep.equal({ id: 4, ok: true });
      expect(byId.get(5)).to.deep.equal({ id: 5, ok: true, result: { outcome: 'ok' } });
      expect(byId.get('q')).to.deep.equal({ id: 'q', ok: true });
      expectCleanMessage(r.all);
      expect(r.status).to.equal(0);
    });

    it('§3: a step that is a trace error -> ok:false with the step index, op and precondition; the session continues (exit 0)', () => {
      const { byId, r } = session([
        { id: 1, cmd: 'reset', config: CONFIG },
        { id: 2, cmd: 'step', step: { op: 'run', pcpu: 0, domain: 1, vcpu: 0 } },
        { id: 3, cmd: 'step', step: { op: 'enter', pcpu: 1 } },
        { id: 4, cmd: 'step', step: { op: 'inject', pcpu: 0, domain: 1, vcpu: 0, virq: 40 } },
        { id: 5, cmd: 'step', step: { op: 'run', pcpu: 0, domain: 7, vcpu: 0 } },
        { id: 6, cmd: 'step', step: { op: 'enter', pcpu: 0 } },
        { id: 7, cmd: 'snapshot' },
      ]);
      expect(byId.get(3)!['ok']).to.equal(false);
      expect(byId.get(3)!['error']).to.equal('step 1 (enter): pCPU 1 is idle; enter needs it hyp');
      expect(byId.get(4)!['error']).to.contain('step 1 (inject): virq 40 is an SPI, so vcpu must be null');
      expect(byId.get(5)!['error']).to.contain('step 1 (run): domain 7 does not exist');
      expect(byId.get(6)).to.deep.equal({ id: 6, ok: true, result: { outcome: 'ok' } });
      expect(byId.get(7)!['ok']).to.equal(true);
      expectCleanMessage(r.all);
      expect(r.status).to.equal(0);
    });

    it('§3: a step that does not decode -> ok:false with the step path (step.size, step.op, step.value); the session continues', () => {
      const { byId, r } = session([
        { id: 1, cmd: 'reset', config: CONFIG },
        { id: 2, cmd: 'step', step: { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3001000', size: 3 } },
        { id: 3, cmd: 'step', step: { op: 'frob' } },
        { id: 4, cmd: 'step', step: { op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001000', size: 4 } },
        { id: 5, cmd: 'step', step: 'run' },
        { id: 6, cmd: 'step', step: { op: 'run', pcpu: 0, domain: 1, vcpu: 0 } },
      ]);
      expect(byId.get(2)!['error']).to.contain('step.size: expected 1 | 2 | 4 | 8, got 3');
      expect(byId.get(3)!['error']).to.contain('step.op: unknown op "frob"');
      expect(byId.get(4)!['error']).to.contain('step.value: missing key');
      expect(byId.get(5)!['error']).to.contain('step: expected an object, got "run"');
      expect(byId.get(6)!['ok']).to.equal(true);
      expectCleanMessage(r.all);
      expect(r.status).to.equal(0);
    });

    it('§7: step and snapshot before any reset -> ok:false "no machine"; blank lines are skipped; the session continues', () => {
      const r = vgic(['serve'], dir, [
        JSON.stringify({ id: 1, cmd: 'step', step: { op: 'run', pcpu: 0, domain: 1, vcpu: 0 } }),
        '',
        '   ',
        JSON.stringify({ id: 2, cmd: 'snapshot' }),
        JSON.stringify({ id: 3, cmd: 'hello' }),
        JSON.stringify({ id: 4, cmd: 'quit' }),
      ].join('\n'));
      const replies = parseLines(r.stdout);
      expect(replies.map((x) => x['id'])).to.deep.equal([1, 2, 3, 4]);
      expect(replies[0]).to.deep.equal({ id: 1, ok: false, error: 'no machine: send reset with a config first' });
      expect(replies[1]!['ok']).to.equal(false);
      expect(replies[2]!['ok']).to.equal(true);
      expect(r.status).to.equal(0);
    });
  });
});
