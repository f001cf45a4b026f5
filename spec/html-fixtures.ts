/**
 * Traces shared by the HTML dump specs (the same scenarios as spec/dump.spec.ts): a spill and
 * eviction on a 2-LR GICv3 vCPU (§3.2, Q11, Q12) and an eviction walk that crashes (§3.8).
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeTrace, type Trace } from '../src/conformance/trace.js';
import { LAYOUT, Queue, cmd, enableLpis, itsConfig, setProperty, setupTables } from '../src/testing/its-steps.js';

type RawStep = Record<string, unknown>;

const run = (vcpu = 0, pcpu = 0): RawStep => ({ op: 'run', pcpu, domain: 1, vcpu });
const enter = (pcpu = 0): RawStep => ({ op: 'enter', pcpu });
const exit = (pcpu = 0): RawStep => ({ op: 'exit', pcpu });
const ack = (pcpu = 0): RawStep => ({ op: 'ack', pcpu });
const inject = (virq: number, pcpu = 0): RawStep => ({ op: 'inject', pcpu, domain: 1, vcpu: null, virq });
const priority = (irq: number, prio: number): RawStep =>
  ({ op: 'mmio', pcpu: 0, access: 'write', addr: `0x${(0x3001400 + irq).toString(16)}`, size: 1, value: `0x${prio.toString(16)}` });
const enableSpis = (bits: number): RawStep => ({ op: 'mmio', pcpu: 0, access: 'write', addr: '0x3001104', size: 4, value: `0x${bits.toString(16)}` });

/** SPIs 40 (0xa0), 41 (0x80), 42 (0x00): 42 waits on lr_pending (step 7) and evicts 40 on entry (step 8); step 12 aborts. */
export const SPILL: RawStep[] = [
  run(),
  priority(40, 0xa0), priority(41, 0x80), priority(42, 0x00),
  enableSpis(0x700),
  inject(40), inject(41), inject(42),
  enter(),
  { op: 'pmr', pcpu: 0, value: 0xf0 },
  ack(),
  exit(),
  { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3040000', size: 4 },
];

/** An eviction walk that meets only active entries crashes at step 21; step 22 is a trace error. */
export const CRASH: RawStep[] = [
  run(),
  ...[[32, 0x10], [33, 0x08], [34, 0xc0], [35, 0xe0], [36, 0xf0], [37, 0x80]].map(([irq, p]) => priority(irq!, p!)),
  enableSpis(0x3f),
  inject(32), enter(), { op: 'pmr', pcpu: 0, value: 0xff }, ack(),
  inject(33, 1), exit(), enter(), ack(), exit(),
  inject(34), inject(35), inject(36), inject(37),
  enter(),
  ack(),
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
