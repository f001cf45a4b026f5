/**
 * The virtual CPU interface of one pCPU (src/hw/cpuif.ts): the guest's acknowledge / EOI /
 * deactivate as docs/trace-format.md §3.4 defines them, the priority mask and EOI mode (§2.2), and
 * Xen's save/restore of the interface on a context switch (reference §0.2, A.1, A.2).
 *
 * Property tests print their seed and path on failure; replay with FC_SEED / FC_PATH
 * (toolchain.md §5).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { GicVersion } from '../src/arch/limits.js';
import {
  LR_STATE_ACTIVE, LR_STATE_INVALID, LR_STATE_PENDING, LR_STATE_PENDING_ACTIVE, getField, rawLr, updateLr,
} from '../src/arch/lr.js';
import { SPURIOUS_INTID, SavedCpuInterface, VirtualCpuInterface, lowestSetBit } from '../src/hw/cpuif.js';
import { runs } from './fc-replay.js';

const RUNS = runs(300);

function iface(version: GicVersion, nrLrs = 4, pmr = 0xff): VirtualCpuInterface {
  const c = new VirtualCpuInterface(version, nrLrs);
  c.setPmr(pmr);
  return c;
}

/** Program LR `lr` as Xen's update_lr would (vGIC of the same version as the host). */
function put(c: VirtualCpuInterface, lr: number, virq: number, prio8: number, state: number, pirq: number | null = null): void {
  updateLr(c.layout, c.lrs, lr, virq, prio8, pirq, state, c.version === 'v3');
}

function state(c: VirtualCpuInterface, lr: number): number {
  return getField(c.lrs, lr, c.layout.state);
}

function states(c: VirtualCpuInterface): number[] {
  return Array.from({ length: c.nrLrs }, (_, lr) => state(c, lr));
}

const noHw = (pirq: number): void => {
  throw new Error(`unexpected physical deactivation of ${pirq}`);
};

describe('Virtual CPU interface (docs/trace-format.md §3.4, §2.2)', () => {
  for (const version of ['v2', 'v3'] as const) {
    describe(`${version} acknowledge`, () => {
      it('trace-format §3.4: ack picks the lowest group priority', () => {
        const c = iface(version);
        put(c, 0, 40, 0xa0, LR_STATE_PENDING);
        put(c, 1, 41, 0x80, LR_STATE_PENDING);
        put(c, 2, 42, 0x90, LR_STATE_PENDING);
        expect(c.acknowledge()).to.equal(41);
        expect(states(c)).to.deep.equal([LR_STATE_PENDING, LR_STATE_ACTIVE, LR_STATE_PENDING, LR_STATE_INVALID]);
      });

      it('trace-format §3.4: ack breaks a group-priority tie by the lowest LR index', () => {
        const c = iface(version);
        put(c, 0, 40, 0xa0, LR_STATE_PENDING);
        put(c, 1, 41, 0x80, LR_STATE_PENDING);
        put(c, 3, 43, 0x80, LR_STATE_PENDING);
        expect(c.acknowledge()).to.equal(41);
      });

      it('trace-format §3.4: ack compares group priorities (priority >> 3), so 0x87 at LR0 ties with 0x80 at LR1 and LR0 wins', () => {
        const c = iface(version);
        put(c, 0, 40, 0x87, LR_STATE_PENDING);
        put(c, 1, 41, 0x80, LR_STATE_PENDING);
        expect(c.acknowledge()).to.equal(40);
        expect(c.apr).to.equal(1 << 0x10);
      });

      it('trace-format §3.4: ack ignores active and pending+active LRs, even of higher priority', () => {
        const c = iface(version);
        put(c, 0, 40, 0x00, LR_STATE_PENDING_ACTIVE);
        put(c, 1, 41, 0x00, LR_STATE_ACTIVE);
        put(c, 2, 42, 0xf0, LR_STATE_PENDING);
        expect(c.acknowledge()).to.equal(42);
        expect(states(c)).to.deep.equal([LR_STATE_PENDING_ACTIVE, LR_STATE_ACTIVE, LR_STATE_ACTIVE, LR_STATE_INVALID]);
      });

      it('trace-format §3.4: ack returns 1023 when no LR is pending (invalid LRs of priority 0 are not candidates)', () => {
        const c = iface(version);
        expect(c.acknowledge()).to.equal(SPURIOUS_INTID);
        expect(SPURIOUS_INTID).to.equal(1023);
        put(c, 0, 40, 0x00, LR_STATE_ACTIVE);
        expect(c.acknowledge()).to.equal(1023);
        expect(c.apr).to.equal(0);
        expect(states(c)).to.deep.equal([LR_STATE_ACTIVE, 0, 0, 0]);
      });

      it('trace-format §3.4: ack honours the priority mask strictly (priority < pmr)', () => {
        const c = iface(version, 4, 0xa0);
        put(c, 0, 40, 0xa0, LR_STATE_PENDING);
        expect(c.acknowledge()).to.equal(1023);
        c.setPmr(0xa8);
        expect(c.acknowledge()).to.equal(40);
      });

      it('trace-format §2.2: a pmr of 0 (a vCPU that never ran) masks everything', () => {
        const c = new VirtualCpuInterface(version, 4);
        put(c, 0, 40, 0x00, LR_STATE_PENDING);
        expect(c.pmr).to.equal(0);
        expect(c.acknowledge()).to.equal(1023);
      });

      it('trace-format §3.4: ack honours the running priority: group must be below the lowest set APR bit', () => {
        const c = iface(version);
        c.apr = 1 << 20;
        put(c, 0, 40, 0xa0, LR_STATE_PENDING); // group 20: not below 20
        expect(c.acknowledge()).to.equal(1023);
        put(c, 1, 41, 0x98, LR_STATE_PENDING); // group 19
        expect(c.acknowledge()).to.equal(41);
        expect(c.apr).to.equal((1 << 20) | (1 << 19));
        expect(c.runningPriority()).to.equal(19);
        expect(c.acknowledge()).to.equal(1023);
      });

      it('trace-format §3.4: ack makes the LR active (state bits only) and sets the APR bit of its group priority', () => {
        const c = iface(version);
        put(c, 2, 27, 0xa0, LR_STATE_PENDING);
        const before = rawLr(c.lrs, 2);
        expect(c.acknowledge()).to.equal(27);
        const after = rawLr(c.lrs, 2);
        const shift = version === 'v2' ? 28n : 62n;
        expect(after).to.equal((before & ~(3n << shift)) | (2n << shift));
        expect(c.apr).to.equal(1 << 20);
        expect(c.readApr()).to.equal(1 << 20);
      });

      if (version === 'v3') {
        it('trace-format §3.4: v3 group priority 31 (0xf8 under pmr 0xff) sets APR bit 31 (apr reads 0x80000000 unsigned)', () => {
          const c = iface(version);
          put(c, 0, 40, 0xf8, LR_STATE_PENDING);
          expect(c.acknowledge()).to.equal(40);
          expect(c.apr).to.equal(0x80000000);
        });
      } else {
        it('trace-format §2.2/§3.4: v2 priority 0xf8 is never acknowledged (the highest v2 pmr is 0xff & 0xf8 = 0xf8); 0xf0 sets APR bit 30', () => {
          const c = iface(version);
          expect(c.pmr).to.equal(0xf8);
          put(c, 0, 40, 0xf8, LR_STATE_PENDING);
          expect(c.acknowledge()).to.equal(1023);
          put(c, 1, 41, 0xf0, LR_STATE_PENDING);
          expect(c.acknowledge()).to.equal(41);
          expect(c.apr).to.equal(0x40000000);
        });
      }

      it('trace-format §3.4: ack scans every LR of the file, not only the ones Xen tracks in lr_mask', () => {
        const c = iface(version, 3);
        put(c, 2, 44, 0x10, LR_STATE_PENDING);
        expect(c.acknowledge()).to.equal(44);
      });
    });

    describe(`${version} EOI and deactivation`, () => {
      it('trace-format §3.4: EOI drops the lowest set APR bit and, in EOI mode 0, deactivates the INTID', () => {
        const c = iface(version);
        put(c, 0, 40, 0xa0, LR_STATE_PENDING);
        put(c, 1, 41, 0x98, LR_STATE_PENDING);
        expect(c.acknowledge()).to.equal(41);
        c.apr = (1 << 19) | (1 << 20);
        c.endOfInterrupt(41, noHw);
        expect(c.apr).to.equal(1 << 20);
        expect(states(c)).to.deep.equal([LR_STATE_PENDING, LR_STATE_INVALID, 0, 0]);
      });

      it('trace-format §3.4: EOI in mode 0 deactivates even when no APR bit is set', () => {
        const c = iface(version);
        put(c, 0, 40, 0xa0, LR_STATE_ACTIVE);
        c.endOfInterrupt(40, noHw);
        expect(c.apr).to.equal(0);
        expect(state(c, 0)).to.equal(LR_STATE_INVALID);
      });

      it('trace-format §3.4: EOI in mode 0 of a pending+active LR leaves it pending', () => {
        const c = iface(version);
        put(c, 0, 40, 0xa0, LR_STATE_PENDING_ACTIVE);
        c.apr = 1 << 20;
        c.endOfInterrupt(40, noHw);
        expect(c.apr).to.equal(0);
        expect(state(c, 0)).to.equal(LR_STATE_PENDING);
      });

      it('trace-format §3.4: EOI in mode 1 only drops priority; the LR stays active', () => {
        const c = iface(version);
        c.setEoimode(1);
        put(c, 0, 40, 0xa0, LR_STATE_PENDING);
        expect(c.acknowledge()).to.equal(40);
        c.endOfInterrupt(40, noHw);
        expect(c.apr).to.equal(0);
        expect(state(c, 0)).to.equal(LR_STATE_ACTIVE);
      });

      it('trace-format §3.4: DIR in mode 1 clears active (active -> invalid, pending+active -> pending)', () => {
        const c = iface(version);
        c.setEoimode(1);
        put(c, 0, 40, 0xa0, LR_STATE_ACTIVE);
        put(c, 1, 41, 0xa0, LR_STATE_PENDING_ACTIVE);
        c.deactivate(40, noHw);
        c.deactivate(41, noHw);
        expect(states(c)).to.deep.equal([LR_STATE_INVALID, LR_STATE_PENDING, 0, 0]);
      });

      it('trace-format §3.4: DIR is ignored in EOI mode 0', () => {
        const c = iface(version);
        put(c, 0, 40, 0xa0, LR_STATE_ACTIVE);
        c.apr = 1 << 20;
        c.deactivate(40, noHw);
        expect(state(c, 0)).to.equal(LR_STATE_ACTIVE);
        expect(c.apr).to.equal(1 << 20);
      });

      it('trace-format §3.4: DIR hits only the lowest-index LR holding the INTID with its active bit set', () => {
        const c = iface(version);
        c.setEoimode(1);
        put(c, 0, 40, 0xa0, LR_STATE_PENDING);
        put(c, 1, 40, 0xa0, LR_STATE_ACTIVE);
        put(c, 2, 40, 0xa0, LR_STATE_ACTIVE);
        c.deactivate(40, noHw);
        expect(states(c)).to.deep.equal([LR_STATE_PENDING, LR_STATE_INVALID, LR_STATE_ACTIVE, 0]);
      });

      it('trace-format §3.4: DIR of an INTID held by no active LR changes nothing and never reports a deactivation', () => {
        const c = iface(version);
        c.setEoimode(1);
        put(c, 0, 40, 0xa0, LR_STATE_ACTIVE, 40);
        const before = Array.from(c.lrs);
        c.deactivate(41, noHw);
        expect(Array.from(c.lrs)).to.deep.equal(before);
      });

      it('trace-format §3.2/§3.4: deactivating an HW LR calls back with its pirq (DIR in mode 1, EOI in mode 0)', () => {
        const pirq = version === 'v2' ? 0x3f0 : 0x1f00;
        const seen: number[] = [];
        const c = iface(version);
        c.setEoimode(1);
        put(c, 0, 48, 0xa0, LR_STATE_ACTIVE, pirq);
        c.deactivate(48, (p) => seen.push(p));
        expect(seen).to.deep.equal([pirq]);
        expect(state(c, 0)).to.equal(LR_STATE_INVALID);
        c.setEoimode(0);
        put(c, 1, 49, 0xa0, LR_STATE_ACTIVE, 33);
        c.endOfInterrupt(49, (p) => seen.push(p));
        expect(seen).to.deep.equal([pirq, 33]);
      });

      it('trace-format §3.4: deactivating a non-HW LR does not call the physical callback', () => {
        const c = iface(version);
        put(c, 0, 48, 0xa0, LR_STATE_ACTIVE);
        c.endOfInterrupt(48, noHw);
        expect(state(c, 0)).to.equal(LR_STATE_INVALID);
      });
    });

    describe(`${version} priority mask and VMCR`, () => {
      it(version === 'v2'
        ? 'trace-format §2.2: v2 setPmr keeps value & 0xf8 (0xff -> 0xf8, 0x07 -> 0)'
        : 'trace-format §2.2/Q16: v3 setPmr keeps all 8 bits (0xff -> 0xff, 0x07 -> 0x07)', () => {
        const c = new VirtualCpuInterface(version, 1);
        c.setPmr(0xff);
        expect(c.pmr).to.equal(version === 'v2' ? 0xf8 : 0xff);
        c.setPmr(0x07);
        expect(c.pmr).to.equal(version === 'v2' ? 0 : 0x07);
      });

      it(version === 'v2'
        ? 'A.1/§3.12: v2 readVmcrPriority returns pmr >> 3 (0xf0 -> 0x1e)'
        : 'A.2/Q16: v3 readVmcrPriority returns the 8-bit pmr (0xf0 -> 0xf0)', () => {
        const c = new VirtualCpuInterface(version, 1);
        c.setPmr(0xf0);
        expect(c.readVmcrPriority()).to.equal(version === 'v2' ? 0x1e : 0xf0);
      });

      it(`trace-format §2.2/Q16: property: ${version} setPmr / readVmcrPriority for every 8-bit value`, () => {
        fc.assert(
          fc.property(fc.integer({ min: 0, max: 0xff }), (v) => {
            const c = new VirtualCpuInterface(version, 1);
            c.setPmr(v);
            expect(c.pmr).to.equal(version === 'v2' ? v & 0xf8 : v);
            expect(c.readVmcrPriority()).to.equal(version === 'v2' ? v >> 3 : v);
          }),
          RUNS,
        );
      });

      it('trace-format §3.4: setEoimode stores the guest EOI mode', () => {
        const c = new VirtualCpuInterface(version, 1);
        expect(c.eoimode).to.equal(0);
        c.setEoimode(1);
        expect(c.eoimode).to.equal(1);
      });
    });
  }

  describe('save / restore (reference §0.2 item 3, A.1, A.2; trace-format §2.2)', () => {
    function loaded(version: GicVersion): VirtualCpuInterface {
      const c = iface(version, 2, 0xf0);
      put(c, 0, 27, 0xa0, LR_STATE_ACTIVE);
      put(c, 1, 40, 0x80, LR_STATE_PENDING);
      c.setEoimode(1);
      c.apr = 1 << 20;
      c.hcrEn = true;
      c.setUie(true);
      return c;
    }

    it('§1.4/trace-format §2.2: a fresh saved interface is all zero', () => {
      const s = new SavedCpuInterface(3);
      expect(Array.from(s.lrs)).to.deep.equal([0, 0, 0, 0, 0, 0]);
      expect([s.pmr, s.eoimode, s.apr]).to.deep.equal([0, 0, 0]);
    });

    for (const version of ['v2', 'v3'] as const) {
      it(`§0.2: ${version} saveState copies LRs, pmr, EOI mode and APR (a copy, not an alias)`, () => {
        const c = loaded(version);
        const s = new SavedCpuInterface(2);
        c.saveState(s);
        expect(Array.from(s.lrs)).to.deep.equal(Array.from(c.lrs));
        expect([s.pmr, s.eoimode, s.apr]).to.deep.equal([0xf0, 1, 1 << 20]);
        c.lrs[0] = 0;
        expect(s.lrs[0]).to.not.equal(0);
      });

      it(`§0.2: ${version} restoreState loads LRs, pmr, EOI mode and APR`, () => {
        const s = new SavedCpuInterface(2);
        loaded(version).saveState(s);
        const c = new VirtualCpuInterface(version, 2);
        c.restoreState(s);
        expect(Array.from(c.lrs)).to.deep.equal(Array.from(s.lrs));
        expect([c.pmr, c.eoimode, c.apr]).to.deep.equal([0xf0, 1, 1 << 20]);
        s.lrs[0] = 0;
        expect(c.lrs[0]).to.not.equal(0);
      });
    }

    it('A.1/trace-format §2.2: v2 saveState writes GICH_HCR = 0 (UIE and EN clear)', () => {
      const c = loaded('v2');
      c.saveState(new SavedCpuInterface(2));
      expect(c.uie).to.equal(false);
      expect(c.hcrEn).to.equal(false);
    });

    it('A.1/trace-format §2.2: v2 restoreState writes GICH_HCR = EN (EN set, UIE clear)', () => {
      const c = new VirtualCpuInterface('v2', 2);
      c.setUie(true);
      c.restoreState(new SavedCpuInterface(2));
      expect(c.hcrEn).to.equal(true);
      expect(c.uie).to.equal(false);
    });

    it('A.2/trace-format §2.2: v3 save and restore leave ICH_HCR_EL2 alone (UIE survives a context switch)', () => {
      const c = loaded('v3');
      c.saveState(new SavedCpuInterface(2));
      expect(c.uie).to.equal(true);
      expect(c.hcrEn).to.equal(true);
      c.restoreState(new SavedCpuInterface(2));
      expect(c.uie).to.equal(true);
      expect(c.hcrEn).to.equal(true);
      c.setUie(false);
      c.restoreState(new SavedCpuInterface(2));
      expect(c.uie).to.equal(false);
    });

    // gicv3_hyp_init writes ICH_HCR_EL2 = EN at per-pCPU init; gicv2 hyp init leaves GICH_HCR 0.
    it('A.2: a v3 interface starts with HCR.EN set (gicv3_hyp_init writes ICH_HCR_EL2 = EN)', () => {
      expect(new VirtualCpuInterface('v3', 4).hcrEn).to.equal(true);
      expect(new VirtualCpuInterface('v2', 4).hcrEn).to.equal(false);
    });

    it('A.1/A.2: setUie sets and clears HCR.UIE (update_hcr_status)', () => {
      const c = new VirtualCpuInterface('v3', 1);
      expect(c.uie).to.equal(false);
      c.setUie(true);
      expect(c.uie).to.equal(true);
      c.setUie(false);
      expect(c.uie).to.equal(false);
    });
  });

  describe('lowestSetBit / running priority', () => {
    it('§3.12: lowestSetBit: 0 -> 32, 1 -> 0, 0b1100 -> 2, 0x80000000 -> 31, 0xffffffff -> 0', () => {
      expect(lowestSetBit(0)).to.equal(32);
      expect(lowestSetBit(1)).to.equal(0);
      expect(lowestSetBit(0b1100)).to.equal(2);
      expect(lowestSetBit(0x80000000)).to.equal(31);
      expect(lowestSetBit(0xffffffff)).to.equal(0);
    });

    it('§3.12: property: lowestSetBit of (any higher bits | bit i) is i', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 0xffffffff }), (i, r) => {
          const x = (((r >>> i) << i) | (1 << i)) >>> 0;
          expect(lowestSetBit(x)).to.equal(i);
        }),
        RUNS,
      );
    });

    it('trace-format §3.4: runningPriority is 32 with no active priority, else the lowest set APR bit', () => {
      const c = new VirtualCpuInterface('v3', 1);
      expect(c.runningPriority()).to.equal(32);
      c.apr = (1 << 31) >>> 0;
      expect(c.runningPriority()).to.equal(31);
      c.apr = 0b1010000;
      expect(c.runningPriority()).to.equal(4);
    });
  });
});
