/**
 * The built-in demonstration behind `npm start`: one vCPU with 4 LRs and six SPIs at mixed
 * priorities, showing spill to lr_pending, eviction on return to the guest, UIE, and the
 * guest acknowledging and EOI-ing until everything has drained.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { Config } from '../machine/config.js';
import { Machine, TraceError } from '../machine/machine.js';
import { describeSnapshot } from '../machine/describe.js';
import type { Op } from '../machine/ops.js';

interface DemoStep {
  say: string;
  op: Op;
}

const PRIORITIES: ReadonlyArray<[number, number]> = [[32, 0xa0], [33, 0xa0], [34, 0xc0], [35, 0x90], [36, 0x80], [37, 0x40]];

/** The last acknowledged INTID stands in for `intid` in the guest's EOI steps. */
const LAST_ACKED = -1;

const STEPS: DemoStep[] = [
  { say: 'SPIs 32-35 are injected while the vCPU is current with free LRs: each goes straight into an LR (3.2)', op: { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 32 } },
  { say: '', op: { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 33 } },
  { say: '', op: { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 34 } },
  { say: '', op: { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 35 } },
  { say: 'SPI 36 (0x80) finds every LR full: it spills to lr_pending; no eviction at injection (Q11)', op: { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 36 } },
  { say: 'SPI 37 (0x40) queues ahead of 36 on lr_pending, ordered by priority (3.4)', op: { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 37 } },
  {
    say: 'Return to guest (3.8): 37 evicts the lowest-priority LR (34, 0xc0) and 36 evicts 33 (0xa0). '
      + 'The pass then reaches 34, re-queued behind 36, and since the victim search resumes just before 33 it evicts 32 (0xa0): '
      + 'Xen lets a 0xc0 IRQ displace a 0xa0 one here. lr_pending is left non-empty with every LR used, so UIE is set (Q14)',
    op: { op: 'enter', pcpu: 0 },
  },
  { say: 'The guest opens its priority mask', op: { op: 'pmr', pcpu: 0, value: 0xff } },
  { say: 'The guest acknowledges the highest-priority pending LR (37) and EOIs it (EOI mode 0: drop and deactivate)', op: { op: 'ack', pcpu: 0 } },
  { say: '', op: { op: 'eoi', pcpu: 0, intid: LAST_ACKED } },
  { say: 'Next comes 36', op: { op: 'ack', pcpu: 0 } },
  { say: '', op: { op: 'eoi', pcpu: 0, intid: LAST_ACKED } },
  { say: 'The underflow maintenance interrupt traps to Xen: UIE is cleared and the drained LRs are reclaimed (3.9, 3.7d)', op: { op: 'exit', pcpu: 0 } },
  { say: 'Return to guest: 33 and 32 leave lr_pending for the free LRs; no UIE any more', op: { op: 'enter', pcpu: 0 } },
  { say: 'The guest drains the rest by priority, the lowest LR index first among equals', op: { op: 'ack', pcpu: 0 } },
  { say: '', op: { op: 'eoi', pcpu: 0, intid: LAST_ACKED } },
  { say: '', op: { op: 'ack', pcpu: 0 } },
  { say: '', op: { op: 'eoi', pcpu: 0, intid: LAST_ACKED } },
  { say: '', op: { op: 'ack', pcpu: 0 } },
  { say: '', op: { op: 'eoi', pcpu: 0, intid: LAST_ACKED } },
  { say: '', op: { op: 'ack', pcpu: 0 } },
  { say: '', op: { op: 'eoi', pcpu: 0, intid: LAST_ACKED } },
  { say: 'Nothing left to acknowledge: the spurious INTID 1023', op: { op: 'ack', pcpu: 0 } },
  { say: 'The next trap reclaims every LR; inflight and lr_pending are empty', op: { op: 'exit', pcpu: 0 } },
];

/** The op as it would appear in a trace file (hex strings for addresses and values). */
function opText(op: Op): string {
  return JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
}

/** Run the demonstration and return its text. */
export function runDemo(): string {
  const out: string[] = [];
  const config: Config = { gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 64 }] };
  const created = Machine.create(config);
  if (E.isLeft(created)) throw new Error(created.left.join('\n'));
  const m = created.right;
  out.push('vgic-model demonstration: Xen\'s vGIC on one GICv3 pCPU with 4 list registers.');
  out.push(`config: ${JSON.stringify(config)}`);
  out.push('');

  let index = 0;
  let lastAcked = 1023;
  const apply = (op: Op): string => {
    const r = m.apply(op, index++);
    if (r instanceof TraceError) throw new Error(r.message);
    if (r.intid !== undefined) lastAcked = r.intid;
    const { outcome, ...extra } = r;
    return Object.keys(extra).length === 0 ? outcome : `${outcome} ${JSON.stringify(extra)}`;
  };

  out.push(`[${index}] ${opText({ op: 'run', pcpu: 0, domain: 1, vcpu: 0 })} -> ${apply({ op: 'run', pcpu: 0, domain: 1, vcpu: 0 })}`);
  // The guest programs its distributor: one IPRIORITYR byte per SPI, then ISENABLER1.
  out.push('-- The guest programs its distributor: IPRIORITYR bytes, then ISENABLER1 for SPIs 32-37 (4.2, 5.1)');
  for (const [irq, prio] of PRIORITIES) {
    const op: Op = { op: 'mmio', pcpu: 0, access: 'write', addr: BigInt(0x3001400 + irq), size: 1, value: BigInt(prio) };
    out.push(`[${index}] ${opText(op)} -> ${apply(op)}`);
  }
  const enableOp: Op = { op: 'mmio', pcpu: 0, access: 'write', addr: 0x3001104n, size: 4, value: 0x3fn };
  out.push(`[${index}] ${opText(enableOp)} -> ${apply(enableOp)}`);
  out.push('');

  for (const s of STEPS) {
    const op: Op = s.op.op === 'eoi' && s.op.intid === LAST_ACKED ? { ...s.op, intid: lastAcked } : s.op;
    if (s.say !== '') out.push(`-- ${s.say}`);
    out.push(`[${index}] ${opText(op)} -> ${apply(op)}`);
    if (op.op !== 'ack' && op.op !== 'pmr') out.push(describeSnapshot(m.snapshot()).split('\n').map((l) => `    ${l}`).join('\n'));
  }
  out.push('');
  out.push('Every step above is an op of the vgic-trace/1 format (docs/trace-format.md §3); `npm test` checks the same behaviour.');
  return out.join('\n');
}
