/**
 * The incremental invariant checker and step-property monitor (src/check/invariants.ts,
 * src/check/properties.ts) against the straightforward ones they replaced, kept verbatim in
 * spec/reference-checker.ts: over random traces of both GIC versions and all config sizes,
 * on the model and on every mutant (so that violations really occur), and with the state
 * corrupted by hand between a step and its check (list links, status bits, lr, lr_mask, LRs,
 * ranks, UIE, online, CPU_ON), both must report exactly the same violations (ids, messages,
 * records, in the same order) and remember the same exemptions, after every step. Only
 * configs without a virtual ITS are compared: the reference checker knows nothing of LPI
 * records, and the checks of those (L1-L3, the LPI branch of I3-I14) are covered by
 * spec/invariants.spec.ts instead.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { setField } from '../src/arch/lr.js';
import { InvariantChecker, checkState, type InvariantId } from '../src/check/invariants.js';
import { PropertyMonitor } from '../src/check/properties.js';
import { Rng, generateTrace, type ConfigOptions } from '../src/conformance/gen.js';
import { Machine, TraceError } from '../src/machine/machine.js';
import { decodeOp } from '../src/machine/ops.js';
import { MUTANT_NAMES, type MutantName } from '../src/xen/mutants.js';
import { listAddTail, listDelInit, type Domain, type PendingIrq } from '../src/xen/types.js';
import {
  ReferenceInvariantChecker, ReferencePropertyMonitor, referenceCheckState,
} from './reference-checker.js';

/** What the comparisons saw, to show that they compared something. */
interface Tally {
  steps: number;
  violations: number;
  failures: number;
  ids: Set<string>;
}

const HOT = [0, 1, 2, 27, 31, 32, 33, 34, 35, 36, 37];
const PRIORITIES = [0x00, 0x40, 0x80, 0xa0, 0xc0, 0xf8];

function pickRecord(rng: Rng, d: Domain): PendingIrq {
  const v = rng.pick(d.vcpus);
  if (rng.bool(0.2)) {
    const all = [...v.pendingIrqs, ...d.pendingIrqs];
    return rng.pick(all);
  }
  const irq = rng.pick(HOT);
  return irq < 32 ? v.pendingIrqs[irq]! : d.pendingIrqs[Math.min(irq - 32, d.pendingIrqs.length - 1)]!;
}

/** One random corruption of the state, of the kind the invariant spec makes by hand. */
function corrupt(rng: Rng, m: Machine): string {
  const host = m.host;
  const d = rng.pick([...host.domains.values()]);
  const v = rng.pick(d.vcpus);
  const p = pickRecord(rng, d);
  switch (rng.int(0, 12)) {
    case 0: {
      const bit = rng.int(0, 4);
      p.status ^= 1 << bit;
      return `flip status bit ${bit} of irq ${p.irq}`;
    }
    case 1:
      p.lr = rng.pick([0, 0xff, rng.int(0, host.nrLrs), 7]);
      return `lr of irq ${p.irq} := ${p.lr}`;
    case 2:
      p.priority = rng.pick(PRIORITIES);
      return `priority of irq ${p.irq} := ${p.priority}`;
    case 3: {
      const mask = v.runningOn === null ? v.savedLrMask : host.pcpus[v.runningOn]!.lrMask;
      const bit = rng.bool(0.9) ? rng.int(0, host.nrLrs) : 40;
      if (mask.test(bit)) mask.clear(bit);
      else mask.set(bit);
      return `toggle lr_mask bit ${bit} of d${d.id}v${v.id}`;
    }
    case 4: {
      const lrs = v.runningOn === null ? v.saved.lrs : host.pcpus[v.runningOn]!.cpuif.lrs;
      const i = rng.int(0, host.nrLrs - 1);
      if (rng.bool()) setField(lrs, i, host.layout.virq, rng.pick(HOT));
      else setField(lrs, i, host.layout.state, rng.int(0, 3));
      return `rewrite LR${i} of d${d.id}v${v.id}`;
    }
    case 5:
    case 6: {
      // Mostly a record that is on a list already, so that it ends up on two vCPUs' lists.
      const listed = v.inflightIrqs.next.owner ?? v.lrPending.next.owner;
      const q = listed !== null && rng.bool(0.7) ? listed : p;
      const node = rng.bool() ? q.inflight : q.lrQueue;
      listDelInit(node);
      const to = rng.pick(rng.pick([...host.domains.values()]).vcpus);
      if (rng.bool(0.8)) listAddTail(node, rng.bool() ? to.inflightIrqs : to.lrPending);
      return `relink a node of irq ${q.irq}`;
    }
    case 7: {
      const rank = rng.bool() ? v.privateIrqs : rng.pick(d.sharedIrqs);
      rank.ienable = (rank.ienable ^ (1 << rng.int(0, 31))) >>> 0;
      return `flip an ienable bit of rank ${rank.index}`;
    }
    case 8: {
      const rank = rng.bool(0.2) ? v.privateIrqs : rng.pick(d.sharedIrqs);
      rank.vcpu[rng.int(0, 5)] = rng.int(0, d.vcpus.length);
      return `retarget in rank ${rank.index}`;
    }
    case 9: {
      const cpu = rng.pick(host.pcpus);
      cpu.cpuif.setUie(!cpu.cpuif.uie);
      return `toggle UIE of pCPU ${cpu.id}`;
    }
    case 10:
      v.online = !v.online;
      return `toggle online of d${d.id}v${v.id}`;
    case 11:
      d.nrSpis += rng.pick([-32, 1, 32]);
      return `nr_spis of d${d.id} := ${d.nrSpis}`;
    default:
      m.cpuOnWithLiveState.add(v);
      return `count d${d.id}v${v.id} as CPU_ON with live state`;
  }
}

/** The exemption sets of both checkers hold the same members. */
function sameHistory(fast: InvariantChecker, ref: ReferenceInvariantChecker): boolean {
  const same = <T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean => a.size === b.size && [...a].every((x) => b.has(x));
  return same(fast.history.q34Records, ref.history.q34Records) && same(fast.history.q34Vcpus, ref.history.q34Vcpus)
    && same(fast.history.cpuOnRecords, ref.history.cpuOnRecords);
}

/** Follow one generated trace with both checkers and monitors; fail on the first difference. */
function compareTrace(seed: number, mutant: MutantName | null, o: ConfigOptions, corrupting: boolean, tally: Tally): void {
  // The reference checker predates the LPI records (L1-L3 and the LPI branch of I3-I14): the
  // comparison runs on configs without an ITS; and without device domains, whose domain has no
  // records before CTRL_INIT for the corruptions to pick from.
  const trace = generateTrace(seed, { ...o, steps: 60, its: 0, vmm: 0 });
  const created = Machine.create(trace.config, 'config', mutant);
  if (E.isLeft(created)) expect.fail(`seed ${seed}: config refused: ${created.left.join('; ')}`);
  const m = created.right;
  const fast = new InvariantChecker(m);
  const ref = new ReferenceInvariantChecker(m);
  const fastProps = new PropertyMonitor(m, fast.q34Tainted, fast.history.q34Vcpus);
  const refProps = new ReferencePropertyMonitor(m, ref.q34Tainted, ref.history.q34Vcpus);
  const rng = new Rng(seed ^ 0x5bd1e995);
  const where = (k: number, what: string): string =>
    `seed ${seed}, mutant ${mutant ?? '(none)'}, options ${JSON.stringify(o)}, ${corrupting ? 'corrupting, ' : ''}step ${k}: ${what}`;
  expect(fast.check(null), where(-1, 'initial check')).to.deep.equal(ref.check(null));
  // A corrupting trace is corrupted at one step (then the model is not stepped further: its
  // code may loop on lists Xen would never build) and checked again after each round.
  const cut = corrupting ? rng.int(0, trace.steps.length - 1) : -1;
  for (let k = 0; k < trace.steps.length; k++) {
    const decoded = decodeOp(trace.steps[k]);
    if (E.isLeft(decoded)) return expect.fail(where(k, `does not decode: ${decoded.left.join('; ')}`));
    const op = decoded.right;
    fastProps.before(op);
    refProps.before(op);
    const r = m.apply(op, k);
    if (r instanceof TraceError || m.crashed !== null) return;
    const done: string[] = [];
    for (let round = 0; round < (k === cut ? 4 : 1); round++) {
      if (k === cut) for (let n = rng.int(1, 3); n > 0; n--) done.push(corrupt(rng, m));
      const what = `${round === 0 ? op.op : 'nothing'}${done.length > 0 ? ` after corruptions [${done.join('; ')}]` : ''}`;
      const refViolations = ref.check(round === 0 ? op : null);
      expect(fast.check(round === 0 ? op : null), where(k, `invariants after ${what}`)).to.deep.equal(refViolations);
      expect(sameHistory(fast, ref), where(k, `exemption history after ${what}`)).to.equal(true);
      const refFailures = refProps.after(op, r);
      expect(fastProps.after(op, r), where(k, `properties after ${what}`)).to.deep.equal(refFailures);
      if (k % 7 === 0 || k === cut) expect(checkState(m), where(k, `checkState alone after ${what}`)).to.deep.equal(referenceCheckState(m));
      tally.steps += 1;
      tally.violations += refViolations.length;
      tally.failures += refFailures.length;
      for (const x of [...refViolations, ...refFailures]) tally.ids.add(x.id);
    }
    if (k === cut) return;
  }
}

const OPTIONS: ConfigOptions[] = [
  {},
  { gic: 'v2' },
  { gic: 'v3' },
  { gic: 'v3', nrLrs: 16, vcpus: 4, pcpus: 4 },
  { gic: 'v2', nrLrs: 1, pcpus: 1 },
  { domains: 2 },
  { spis: 960, vcpus: 3 },
];

describe('incremental checker: identical verdicts to the reference checker after every step', () => {
  const all: Tally = { steps: 0, violations: 0, failures: 0, ids: new Set() };
  const cases: (MutantName | null)[] = [null, ...MUTANT_NAMES];
  cases.forEach((mutant, c) => {
    const traces = mutant === null ? 24 : 8;
    it(`${mutant === null ? 'the model' : `mutant ${mutant}`}: same invariant violations, exemptions and property failures over ${traces} random traces, half with corruptions`, () => {
      for (let i = 0; i < traces; i++) {
        const seed = 7000 + 100 * c + i;
        compareTrace(seed, mutant, OPTIONS[(c + i) % OPTIONS.length]!, i % 2 === 1, all);
      }
    });
  });

  it('the comparisons saw violations of most invariants and properties (they compared something)', () => {
    const ids = [...all.ids].sort();
    expect(all.steps, 'steps compared').to.be.greaterThan(5000);
    expect(all.violations, 'invariant violations compared').to.be.greaterThan(500);
    expect(all.failures, 'property failures compared').to.be.greaterThan(20);
    const invariants = ids.filter((x) => x.startsWith('I')) as InvariantId[];
    expect(invariants.length, `invariants seen: ${ids.join(' ')}`).to.be.at.least(16);
  });
});
