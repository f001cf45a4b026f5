/**
 * Traces and helpers shared by the dump specs (spec/dump.spec.ts, the HTML ones): a spill and
 * eviction on a 2-LR GICv3 vCPU (§3.2, Q11, Q12), an eviction walk that crashes (§3.8), a
 * domain with a virtual ITS, and the readers of an HTML page's rows and headers.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeTrace, type Trace } from '../src/conformance/trace.js';
import { LAYOUT, Queue, cmd, enableLpis, itsConfig, setProperty, setupTables } from '../src/testing/its-steps.js';

type RawStep = Record<string, unknown>;

export const run = (vcpu = 0, pcpu = 0): RawStep => ({ op: 'run', pcpu, domain: 1, vcpu });
export const enter = (pcpu = 0): RawStep => ({ op: 'enter', pcpu });
export const exit = (pcpu = 0): RawStep => ({ op: 'exit', pcpu });
export const ack = (pcpu = 0): RawStep => ({ op: 'ack', pcpu });
export const inject = (virq: number, pcpu = 0): RawStep => ({ op: 'inject', pcpu, domain: 1, vcpu: null, virq });
export const priority = (irq: number, prio: number): RawStep =>
  ({ op: 'mmio', pcpu: 0, access: 'write', addr: `0x${(0x3001400 + irq).toString(16)}`, size: 1, value: `0x${prio.toString(16)}` });
/** ISENABLER1: enable SPIs 32..63 by bit. */
export const enableSpis = (bits: number): RawStep => ({ op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4, value: `0x${bits.toString(16)}` });

/**
 * Spill and eviction on a 2-LR GICv3 vCPU (3.2, Q11, Q12): SPIs 40 (0xa0), 41 (0x80) and
 * 42 (0x00) are injected while the vCPU is current; 42 finds both LRs used and waits on
 * lr_pending; on return to the guest it evicts 40, the lowest-priority LR.
 */
export const SPILL: RawStep[] = [
  run(), // 0
  priority(40, 0xa0), priority(41, 0x80), priority(42, 0x00), // 1..3
  enableSpis(0x700), // 4
  inject(40), inject(41), inject(42), // 5..7
  enter(), // 8
  { op: 'pmr', pcpu: 0, value: 0xf0 }, // 9
  ack(), // 10: 42
  exit(), // 11
  { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3040000', size: 4 }, // 12: vCPU 1's frame, which does not exist: abort
];

/**
 * 3.8 step 3.2: a later eviction walk meets only active entries, runs past the head of the
 * inflight list and crashes (step 21); the step after it is a trace error (docs/trace-format.md §4).
 */
export const CRASH: RawStep[] = [
  run(), // 0
  ...[[32, 0x10], [33, 0x08], [34, 0xc0], [35, 0xe0], [36, 0xf0], [37, 0x80]].map(([irq, p]) => priority(irq!, p!)), // 1..6
  enableSpis(0x3f), // 7
  inject(32), enter(), { op: 'pmr', pcpu: 0, value: 0xff }, ack(), // 8..11: 32 active
  inject(33, 1), exit(), enter(), ack(), exit(), // 12..16: 33 active
  inject(34), inject(35), inject(36), inject(37), // 17..20
  enter(), // 21: crash
  ack(), // 22: trace error
];
export const CRASH_CONFIG = { nr_lrs: 3, pcpus: 2, domains: [{ id: 1, vcpus: 2, nr_spis: 64 }] };

export function traceOf(steps: RawStep[], config: Record<string, unknown> = {}, name = 'spill-evict'): Trace {
  const r = decodeTrace({
    format: 'vgic-trace/1',
    name,
    config: { gic: 'v3', nr_lrs: 2, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 64 }], ...config },
    steps,
  });
  if (E.isLeft(r)) return expect.fail(`test trace does not decode: ${r.left.join('; ')}`);
  return r.right;
}

/**
 * A domain with a virtual ITS (docs/trace-format.md §9): LPIs enabled on both vCPUs, the
 * tables set up, device 0's events 0 and 1 mapped to vLPIs 8192 (collection 0 → vCPU 0) and
 * 8193 (collection 1 → vCPU 1). Steps 10..29 write the commands, step 30 kicks the queue;
 * step 31 (msi) raises 8192 on vCPU 0, which is acknowledged (34) and EOIed (35); step 37
 * raises 8193 for vCPU 1, which does not run: it waits on vCPU 1's lr_pending.
 */
export const ITS_STEPS: RawStep[] = (() => {
  const q = new Queue(0);
  return [
    { op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, // 0
    ...enableLpis(0, 15, [0, 1]), // 1..3
    ...setupTables(0), // 4..7
    setProperty(8192, 0xa0, true), setProperty(8193, 0x80, true), // 8, 9
    ...q.run(cmd.mapd(0, 4, LAYOUT.itt), cmd.mapc(0, 0), cmd.mapc(1, 1), cmd.mapti(0, 0, 8192, 0), cmd.mapti(0, 1, 8193, 1)), // 10..30
    { op: 'msi', pcpu: 0, domain: 1, devid: 0, eventid: 0 }, // 31
    { op: 'enter', pcpu: 0 }, // 32
    { op: 'pmr', pcpu: 0, value: 0xff }, // 33
    { op: 'ack', pcpu: 0 }, // 34: 8192
    { op: 'eoi', pcpu: 0, intid: 8192 }, // 35
    { op: 'exit', pcpu: 0 }, // 36
    { op: 'msi', pcpu: 0, domain: 1, devid: 0, eventid: 1 }, // 37
  ];
})();
export const ITS_CONFIG = itsConfig();

/** The cells (`<td ...>...</td>`) of the row labelled `label` in section `section`, in column order: init, step 0, step 1, ... */
export function rowCells(html: string, section: string, label: string): string[] {
  const start = html.indexOf(`<tr class="sec"><th class="lbl">${section}</th>`);
  expect(start, `section ${section}`).to.be.greaterThan(-1);
  const rows = html.slice(start).split('<tr').slice(2);
  const row = rows.find((r) => r.includes(`>${label}</th>`));
  if (row === undefined) return expect.fail(`no row ${label} in section ${section}`);
  return row.split('<td').slice(1).map((c) => `<td${c.slice(0, c.indexOf('</td>') + 5)}`);
}

/** The class and content of the column header of `step`, as `class|content`. */
export function header(html: string, step: number): string {
  const m = new RegExp(`<th class="([^"]*)" id="s${step}"[^>]*>(.*?)</th>`).exec(html);
  if (m === null) return expect.fail(`no column header for step ${step}`);
  return `${m[1]!}|${m[2]!}`;
}

/** The Right of an Either the test expects to succeed. */
export function right<A>(e: E.Either<string, A>): A {
  if (E.isLeft(e)) return expect.fail(`unexpected Left: ${e.left}`);
  return e.right;
}
