/**
 * The domain lifecycle for the random trace generator (docs/trace-format.md §3.6), only behind
 * GenOptions.life (`vgic fuzz --life`, `vgic diff --random --life`): now and then a batch that
 * pauses a domain (its pCPUs trap and go idle), destroys it, and creates a domain, with the
 * same id or a fresh one, often taking over the host lines the destroyed domain had routed
 * (named in its `pirqs`, routed again), sometimes with a virtual ITS, then runs one of its
 * vCPUs. Now and then a batch only creates a domain.
 *
 * The draws come from a stream of their own (derived from the seed), taken only when the
 * option is on, so every trace generated without it is byte for byte what it was before.
 */
import { maxVcpusFor, SPI_MAX_INTID } from '../arch/limits.js';
import type { DomainConfig } from '../machine/config.js';
import { toHex } from '../machine/decode.js';
import type { Machine } from '../machine/machine.js';
import type { Domain } from '../xen/types.js';
import { GEN_ITS_LAYOUT, type ItsRng } from './gen-its.js';
import { Rng } from './rng.js';

type RawStep = Record<string, unknown>;

/** The ops a lifecycle batch needs: the other side of a diff must list both. */
export const LIFE_OPS = ['domain_create', 'domain_destroy'] as const;

/** May traces drawn only from `ops` carry lifecycle batches? */
export function lifeAllowed(ops?: ReadonlySet<string>): boolean {
  return ops === undefined || LIFE_OPS.every((op) => ops.has(op));
}

/** At most this many live domains: a batch that would make more only destroys. */
const MAX_LIVE = 4;

/** The lifecycle draws of one trace: a stream of their own. */
export class LifeGen {
  private readonly rng: Rng;

  constructor(seed: number, readonly share: number, readonly ops?: ReadonlySet<string>) {
    this.rng = new Rng((seed ^ 0x1d0a11fe) >>> 0);
  }

  /** A lifecycle batch for this candidate, or null (then the ordinary candidate is drawn). */
  batch(m: Machine): RawStep[] | null {
    if (!this.rng.bool(this.share)) return null;
    return lifeBatch(this.rng, m, this.ops);
  }
}

/** The generator's lifecycle for a trace from `seed`, or null when GenOptions.life is off or `ops` lacks the lifecycle ops. */
export function lifeGen(seed: number, share: number | undefined, ops?: ReadonlySet<string>): LifeGen | null {
  return share === undefined || share <= 0 || !lifeAllowed(ops) ? null : new LifeGen(seed, share, ops);
}

/**
 * One lifecycle batch for the machine's state: pause and destroy a domain (mostly), then
 * create one (always when no domain would be left, so the other builders keep a domain to
 * talk about), route the lines it took over and run one of its vCPUs.
 */
export function lifeBatch(rng: ItsRng, m: Machine, ops?: ReadonlySet<string>): RawStep[] {
  const has = (op: string): boolean => ops === undefined || ops.has(op);
  const live = [...m.host.domains.values()];
  const steps: RawStep[] = [];
  // A domain with a host ITS device still mapped: Xen's teardown stops at an ASSERT (a crash
  // ends the trace), so such a domain is picked only now and then.
  const candidates = live.filter((d) => d.vmm === null && (d.itsDevices.size === 0 || rng.bool(0.1)));
  let victim: Domain | null = null;
  if (candidates.length > 0 && (live.length >= MAX_LIVE || rng.bool(0.8))) {
    const d = rng.pick(candidates);
    const loaded = m.host.pcpus.filter((c) => c.current !== null && c.current.domain === d);
    if (loaded.length === 0 || (has('idle') && (has('exit') || loaded.every((c) => c.mode !== 'guest')))) {
      victim = d;
      for (const c of loaded) {
        if (c.mode === 'guest') steps.push({ op: 'exit', pcpu: c.id });
        steps.push({ op: 'idle', pcpu: c.id });
      }
      steps.push({ op: 'domain_destroy', domain: d.id });
    }
  }
  const left = live.length - (victim === null ? 0 : 1);
  if (left >= MAX_LIVE || (left > 0 && !rng.bool(0.85))) return steps;

  // The new domain: the victim's id now and then, else a free one.
  const used = new Set(live.filter((d) => d !== victim).map((d) => d.id));
  let id: number = victim !== null && rng.bool(0.5) ? victim.id : rng.weighted([[3, rng.int(0, 8)], [1, rng.int(0, 32767)]]);
  while (used.has(id)) id = (id + 1) % 32768;
  const gic = m.host.version;
  const vcpus = Math.min(rng.weighted([[3, 1], [3, 2], [2, rng.int(3, 4)]]), maxVcpusFor(gic));
  const nrSpis = rng.weighted([[4, 32], [3, 64], [1, rng.int(1, 30) * 32]]);
  // Host lines: those the victim had routed (released by the destroy), other configured
  // lines now and then, a new one now and then.
  const released = victim === null ? [] : [...m.host.irqDescs.values()].filter((x) => x.guest?.domain === victim.id).map((x) => x.irq);
  const free = [...m.host.irqDescs.values()].filter((x) => x.guest === null).map((x) => x.irq);
  const pirqs = new Set<number>(released.filter(() => rng.bool(0.9)));
  if (free.length > 0 && rng.bool(0.3)) pirqs.add(rng.pick(free));
  if (rng.bool(0.2)) {
    const top = Math.max(63, ...m.host.irqDescs.keys());
    if (top < SPI_MAX_INTID) pirqs.add(top + 1);
  }
  const dc: DomainConfig = { id, vcpus, nr_spis: nrSpis, ...(pirqs.size > 0 ? { pirqs: [...pirqs].sort((a, b) => a - b) } : {}) };
  if (gic === 'v3' && has('mmio') && has('mem_write') && has('msi') && rng.bool(0.2)) {
    const L = GEN_ITS_LAYOUT;
    Object.assign(dc, {
      its: { base: toHex(L.itsBase), devid_bits: rng.pick([3, 4, 6, 8]), evid_bits: rng.pick([6, 8, 10]) },
      ram: [{ base: toHex(L.ramBase), size: toHex(L.ramSize) }],
    });
  }
  steps.push({ op: 'domain_create', domain: dc });
  if (has('route')) {
    [...pirqs].forEach((pirq, k) => {
      if (k < nrSpis && rng.bool(0.8)) steps.push({ op: 'route', domain: id, virq: 32 + k, pirq });
    });
  }
  if (has('run')) {
    const cpus = m.host.pcpus.filter((c) => c.mode !== 'guest' || (victim !== null && c.current?.domain === victim));
    if (cpus.length > 0 && rng.bool(0.7)) steps.push({ op: 'run', pcpu: rng.pick(cpus).id, domain: id, vcpu: rng.int(0, vcpus - 1) });
  }
  return steps;
}
