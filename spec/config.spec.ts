/**
 * Machine configuration (docs/trace-format.md §2.1; reference §2.3, §2.4, §2.5, Q33): every broken
 * rule is rejected with a line naming the JSON path and the rule, accepted limits build a
 * machine whose initial snapshot has the documented shape (docs/trace-format.md §5).
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig } from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';
import type { Snapshot } from '../src/machine/snapshot.js';

type Json = Record<string, unknown>;

function cfg(over: Json = {}, domain: Json = {}): Json {
  return { gic: 'v3', nr_lrs: 4, pcpus: 2, domains: [{ id: 1, vcpus: 2, nr_spis: 64, ...domain }], ...over };
}

function left(u: unknown): string[] {
  const r = decodeConfig(u);
  if (E.isRight(r)) throw new Error(`expected the config to be rejected: ${JSON.stringify(u)}`);
  return r.left;
}

function machine(u: unknown): Machine {
  const r = Machine.fromJson(u);
  if (E.isLeft(r)) throw new Error(`expected the config to be accepted, got: ${r.left.join('; ')}`);
  return r.right;
}

interface Bad {
  name: string;
  config: unknown;
  lines: string[];
}

const BAD: Bad[] = [
  {
    name: '§2.3/Q33: nr_spis 961 rounds to 992, above 960',
    config: cfg({}, { nr_spis: 961 }),
    lines: ['config.domains[0].nr_spis: 961 rounds up to 992, above the limit of 960 SPIs (reference §2.3, Q33)'],
  },
  {
    name: '§2.3/Q33: nr_spis 988 (the raw Xen limit) still rounds to 992',
    config: cfg({}, { nr_spis: 988 }),
    lines: ['config.domains[0].nr_spis: 988 rounds up to 992, above the limit of 960 SPIs (reference §2.3, Q33)'],
  },
  {
    name: '§2.4: 9 vCPUs on v2',
    config: cfg({ gic: 'v2' }, { vcpus: 9 }),
    lines: ['config.domains[0].vcpus: 9 exceeds the GICv2 limit of 8 vCPUs (reference §2.4)'],
  },
  {
    name: '§2.4: 129 vCPUs on v3',
    config: cfg({}, { vcpus: 129 }),
    lines: ['config.domains[0].vcpus: 129 exceeds the GICv3 limit of 128 vCPUs (reference §2.4)'],
  },
  {
    name: 'trace-format §2.1: 0 vCPUs',
    config: cfg({}, { vcpus: 0 }),
    lines: ['config.domains[0].vcpus: a domain needs at least 1 vCPU, got 0'],
  },
  {
    name: '§2.5: nr_lrs 0 on v3',
    config: cfg({ nr_lrs: 0 }),
    lines: ['config.nr_lrs: 0 is outside 1..16, the list registers a GICv3 host can have (reference §2.5)'],
  },
  {
    name: '§2.5: nr_lrs 0 on v2',
    config: cfg({ gic: 'v2', nr_lrs: 0 }),
    lines: ['config.nr_lrs: 0 is outside 1..64, the list registers a GICv2 host can have (reference §2.5)'],
  },
  {
    name: '§2.5: nr_lrs 17 on v3',
    config: cfg({ nr_lrs: 17 }),
    lines: ['config.nr_lrs: 17 is outside 1..16, the list registers a GICv3 host can have (reference §2.5)'],
  },
  {
    name: '§2.5: nr_lrs 65 on v2',
    config: cfg({ gic: 'v2', nr_lrs: 65 }),
    lines: ['config.nr_lrs: 65 is outside 1..64, the list registers a GICv2 host can have (reference §2.5)'],
  },
  {
    name: 'trace-format §2.1: pcpus 0',
    config: cfg({ pcpus: 0 }),
    lines: ['config.pcpus: 0 is outside 1..16'],
  },
  {
    name: 'trace-format §2.1: pcpus 17',
    config: cfg({ pcpus: 17 }),
    lines: ['config.pcpus: 17 is outside 1..16'],
  },
  {
    name: 'trace-format §2.1: duplicate domain id (names both indexes)',
    config: { gic: 'v3', nr_lrs: 4, pcpus: 2, domains: [{ id: 5, vcpus: 1, nr_spis: 0 }, { id: 7, vcpus: 1, nr_spis: 0 }, { id: 5, vcpus: 1, nr_spis: 0 }] },
    lines: ['config.domains[2].id: duplicate domain id 5 (also domains[0].id)'],
  },
  {
    name: 'trace-format §2.1: domain id 32768',
    config: cfg({}, { id: 32768 }),
    lines: ['config.domains[0].id: 32768 is outside 0..32767'],
  },
  {
    name: 'trace-format §2.1: pirqs entry 31 (a PPI)',
    config: cfg({}, { pirqs: [48, 31] }),
    lines: ['config.domains[0].pirqs[1]: 31 is not a host SPI (32..1019)'],
  },
  {
    name: 'trace-format §2.1: pirqs entry 1020 (special INTID)',
    config: cfg({}, { pirqs: [1020] }),
    lines: ['config.domains[0].pirqs[0]: 1020 is not a host SPI (32..1019)'],
  },
  {
    name: 'trace-format §2.1: unknown key at top level',
    config: cfg({ nr_lr: 4 }),
    lines: ['config.nr_lr: unknown key'],
  },
  {
    name: 'trace-format §2.1: unknown key inside a domain',
    config: cfg({}, { spis: 32 }),
    lines: ['config.domains[0].spis: unknown key'],
  },
  {
    name: 'trace-format §2.1: missing top-level key',
    config: { gic: 'v3', nr_lrs: 4, domains: [] },
    lines: ['config.pcpus: missing key (expected non-negative integer)'],
  },
  {
    name: 'trace-format §2.1: missing domain key',
    config: { gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1 }] },
    lines: ['config.domains[0].nr_spis: missing key (expected non-negative integer)'],
  },
  {
    name: 'trace-format §2.1: string for nr_lrs',
    config: cfg({ nr_lrs: '4' }),
    lines: ['config.nr_lrs: expected non-negative integer, got "4"'],
  },
  {
    name: 'trace-format §2.1: gic "v4"',
    config: cfg({ gic: 'v4' }),
    lines: ['config.gic: expected "v2" | "v3", got "v4"'],
  },
  {
    name: 'trace-format §2.1: negative nr_spis',
    config: cfg({}, { nr_spis: -1 }),
    lines: ['config.domains[0].nr_spis: expected non-negative integer, got -1'],
  },
  {
    name: 'trace-format §2.1: fractional vcpus',
    config: cfg({}, { vcpus: 1.5 }),
    lines: ['config.domains[0].vcpus: expected non-negative integer, got 1.5'],
  },
  {
    name: 'trace-format §2.1: domains not an array',
    config: cfg({ domains: { id: 1 } }),
    lines: ['config.domains: expected Array<domain config>, got {"id":1}'],
  },
  {
    name: 'trace-format §2.1: a domain that is not an object',
    config: cfg({ domains: [3] }),
    lines: ['config.domains[0]: expected an object, got 3'],
  },
  {
    name: 'trace-format §2.1: non-object config (number)',
    config: 42,
    lines: ['config: expected an object, got 42'],
  },
  {
    name: 'trace-format §2.1: non-object config (null)',
    config: null,
    lines: ['config: expected an object, got null'],
  },
  {
    name: 'trace-format §2.1: non-object config (array)',
    config: [],
    lines: ['config: expected an object, got []'],
  },
  {
    name: 'trace-format §2.1: several broken rules are all reported, in key order',
    config: { gic: 'v2', nr_lrs: 65, pcpus: 0, domains: [{ id: 40000, vcpus: 9, nr_spis: 1000, pirqs: [0] }] },
    lines: [
      'config.nr_lrs: 65 is outside 1..64, the list registers a GICv2 host can have (reference §2.5)',
      'config.pcpus: 0 is outside 1..16',
      'config.domains[0].id: 40000 is outside 0..32767',
      'config.domains[0].vcpus: 9 exceeds the GICv2 limit of 8 vCPUs (reference §2.4)',
      'config.domains[0].nr_spis: 1000 rounds up to 1024, above the limit of 960 SPIs (reference §2.3, Q33)',
      'config.domains[0].pirqs[0]: 0 is not a host SPI (32..1019)',
    ],
  },
];

interface Good {
  name: string;
  config: Json;
}

const GOOD: Good[] = [
  { name: '§2.3/Q33: nr_spis 960', config: cfg({}, { nr_spis: 960 }) },
  { name: '§2.3: nr_spis 0', config: cfg({}, { nr_spis: 0 }) },
  { name: '§2.3: nr_spis 929 (rounds to 960)', config: cfg({}, { nr_spis: 929 }) },
  { name: '§2.4: 8 vCPUs on v2', config: cfg({ gic: 'v2' }, { vcpus: 8 }) },
  { name: '§2.4: 128 vCPUs on v3', config: cfg({}, { vcpus: 128 }) },
  { name: '§2.5: nr_lrs 16 on v3', config: cfg({ nr_lrs: 16 }) },
  { name: '§2.5: nr_lrs 64 on v2', config: cfg({ gic: 'v2', nr_lrs: 64 }) },
  { name: '§2.5: nr_lrs 1 on v2 and v3', config: cfg({ nr_lrs: 1 }) },
  { name: 'trace-format §2.1: pcpus 1', config: cfg({ pcpus: 1 }) },
  { name: 'trace-format §2.1: pcpus 16', config: cfg({ pcpus: 16 }) },
  { name: 'trace-format §2.1: domain ids 0 and 32767', config: { gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 0, vcpus: 1, nr_spis: 0 }, { id: 32767, vcpus: 1, nr_spis: 0 }] } },
  { name: 'trace-format §2.1: pirqs 32 and 1019', config: cfg({}, { pirqs: [32, 1019] }) },
];

describe('Machine configuration (docs/trace-format.md §2.1)', () => {
  describe('rejected configs name the JSON path and the rule', () => {
    for (const bad of BAD) {
      it(`${bad.name}: rejected`, () => {
        expect(left(bad.config)).to.deep.equal(bad.lines);
        const m = Machine.fromJson(bad.config);
        expect(E.isLeft(m) ? m.left : 'accepted').to.deep.equal(bad.lines);
      });
    }

    it('trace-format §2.1: decodeConfig prefixes paths with the caller\'s base', () => {
      const r = decodeConfig(cfg({ pcpus: 0 }), 'trace.config');
      expect(r).to.deep.equal(E.left(['trace.config.pcpus: 0 is outside 1..16']));
    });
  });

  describe('accepted configs', () => {
    for (const good of GOOD) {
      it(`${good.name}: accepted`, () => {
        expect(E.isRight(decodeConfig(good.config))).to.equal(true);
        expect(E.isRight(Machine.fromJson(good.config))).to.equal(true);
      });
    }

    it('trace-format §2.1: decodeConfig returns the config as given (pirqs kept, absent pirqs absent)', () => {
      expect(decodeConfig(cfg({}, { pirqs: [48] }))).to.deep.equal(E.right(cfg({}, { pirqs: [48] })));
      const r = decodeConfig(cfg());
      expect(E.isRight(r) && !('pirqs' in r.right.domains[0]!)).to.equal(true);
    });
  });

  describe('initial snapshot shape (docs/trace-format.md §2.2, §5; reference §2.3)', () => {
    /** The expected snapshot, keys in docs/trace-format.md §5 order. */
    function expectedSnapshot(gic: 'v2' | 'v3', pcpus: number, domains: { id: number; vcpus: number; nr_spis: number }[]): Snapshot {
      const zeros = (): number[] => new Array<number>(32).fill(0);
      const rank = (index: number, vcpu: number) => ({
        index, ienable: '0x0', icfg: ['0x0', '0x0'] as [string, string], priority: zeros(), vcpu: new Array<number>(32).fill(vcpu),
      });
      return {
        pcpus: Array.from({ length: pcpus }, (_, id) => ({ id, mode: 'idle' as const, running: null, uie: false })),
        domains: [...domains].sort((a, b) => a.id - b.id).map((d) => ({
          id: d.id,
          ctlr: gic === 'v3' ? '0x10' : '0x0',
          ranks: Array.from({ length: Math.ceil(d.nr_spis / 32) }, (_, i) => rank(i + 1, 0)),
          vcpus: Array.from({ length: d.vcpus }, (_, id) => ({
            id, online: true, rank: rank(0, id), inflight: [], lr_pending: [],
            lr_mask: '0x0', pmr: 0, eoimode: 0, apr: '0x0', lrs: [],
          })),
          irqs: [],
        })),
        physical: [],
      };
    }

    it('§2.3/§1.2: v3, nr_spis 40 -> 2 shared ranks targeting vCPU0, ctlr 0x10, private ranks target their own vCPU', () => {
      const domains = [{ id: 7, vcpus: 5, nr_spis: 40 }];
      const m = machine({ gic: 'v3', nr_lrs: 4, pcpus: 3, domains: [{ ...domains[0], pirqs: [48] }] });
      const snap = m.snapshot();
      expect(snap).to.deep.equal(expectedSnapshot('v3', 3, domains));
      // Canonical key order (docs/trace-format.md §1, §5).
      expect(JSON.stringify(snap)).to.equal(JSON.stringify(expectedSnapshot('v3', 3, domains)));
    });

    it('§2.3/§4: v2, nr_spis 64 -> 2 ranks, ctlr 0x0', () => {
      const domains = [{ id: 0, vcpus: 8, nr_spis: 64 }];
      const snap = machine({ gic: 'v2', nr_lrs: 4, pcpus: 2, domains }).snapshot();
      expect(JSON.stringify(snap)).to.equal(JSON.stringify(expectedSnapshot('v2', 2, domains)));
    });

    it('§2.3/Q33: nr_spis 960 gives 30 shared ranks numbered 1..30; nr_spis 0 gives none', () => {
      const snap = machine(cfg({}, { nr_spis: 960 })).snapshot();
      expect(snap.domains[0]!.ranks.map((r) => r.index)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(machine(cfg({}, { nr_spis: 0 })).snapshot().domains[0]!.ranks).to.deep.equal([]);
      expect(machine(cfg({}, { nr_spis: 1 })).snapshot().domains[0]!.ranks.length).to.equal(1);
    });

    it('trace-format §5: domains are listed ascending by id whatever the config order', () => {
      const domains = [{ id: 9, vcpus: 1, nr_spis: 32 }, { id: 2, vcpus: 2, nr_spis: 0 }];
      const snap = machine({ gic: 'v3', nr_lrs: 2, pcpus: 1, domains }).snapshot();
      expect(JSON.stringify(snap)).to.equal(JSON.stringify(expectedSnapshot('v3', 1, domains)));
    });

    it('trace-format §2.2: each vCPU starts with processor = vcpu_id % pcpus', () => {
      const m = machine({ gic: 'v3', nr_lrs: 4, pcpus: 3, domains: [{ id: 7, vcpus: 7, nr_spis: 0 }] });
      expect(m.host.domains.get(7)!.vcpus.map((v) => v.processor)).to.deep.equal([0, 1, 2, 0, 1, 2, 0]);
      const one = machine({ gic: 'v2', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 3, nr_spis: 0 }] });
      expect(one.host.domains.get(1)!.vcpus.map((v) => v.processor)).to.deep.equal([0, 0, 0]);
    });
  });
});
