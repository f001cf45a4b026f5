/**
 * List-register codecs of both host GIC versions (reference appendix A.1 / A.2, Q24, Q41,
 * §2.5): exact bit placement of update_lr, what read_lr / write_lr keep, masking, the raw
 * 64-bit view and the 8-bit priority an LR carries.
 *
 * Property tests print their seed and path on failure (fast-check's default message).
 * Replay one with FC_SEED=<seed> FC_PATH=<path> (toolchain.md §5), e.g.
 *   npm run compile && FC_SEED=-1579916443 FC_PATH=4:2 npx mocha build/spec/lr.spec.js --grep 'round-trips'
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { GicVersion } from '../src/arch/limits.js';
import {
  GICV2_LR, GICV3_LR, LR_STATE_ACTIVE, LR_STATE_PENDING, LR_STATE_PENDING_ACTIVE, clearLr, decodeLr, emptyGicLr,
  encodeLr, lrLayout, lrPriority8, rawLr, readLr, setRawLr, updateLr, writeLr, type GicLr,
} from '../src/arch/lr.js';
import { runs } from './fc-replay.js';

const RUNS = runs(500);

const U64_MAX = 2n ** 64n - 1n;

/** update_lr on a one-register file, returned as the raw register. */
function update(version: GicVersion, virq: number, prio8: number, hwIrq: number | null, state: number, guestV3 = version === 'v3'): bigint {
  const file = new Uint32Array(2);
  updateLr(lrLayout(version), file, 0, virq, prio8, hwIrq, state, guestV3);
  return rawLr(file, 0);
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/** Independent bit arithmetic for update_lr (appendix A tables), used as the oracle. */
function oracleUpdate(version: GicVersion, virq: number, prio8: number, hwIrq: number | null, state: number, guestV3: boolean): bigint {
  if (version === 'v2') {
    let raw = BigInt(virq & 0x3ff) | (BigInt((prio8 >> 3) & 0x1f) << 23n) | (BigInt(state & 3) << 28n);
    if (hwIrq !== null) raw |= (1n << 31n) | (BigInt(hwIrq & 0x3ff) << 10n);
    return raw;
  }
  let raw = BigInt(virq & 0xffff) | (BigInt(prio8 & 0xff) << 48n) | (BigInt(state & 3) << 62n);
  if (guestV3) raw |= 1n << 60n;
  if (hwIrq !== null) raw |= (1n << 61n) | (BigInt(hwIrq & 0x1fff) << 32n);
  return raw;
}

/**
 * Decoded fields within their widths; a non-zero source only for SGIs (write_lr's ASSERT).
 * `virqMax` defaults to the LR's vINTID width.
 */
function gicLrArb(version: GicVersion, virqMax = version === 'v2' ? 0x3ff : 0xffff): fc.Arbitrary<GicLr> {
  return fc
    .record({
      virq: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: virqMax })),
      priority: fc.integer({ min: 0, max: version === 'v2' ? 0x1f : 0xff }),
      pending: fc.boolean(),
      active: fc.boolean(),
      hwStatus: fc.boolean(),
      pirq: fc.integer({ min: 0, max: version === 'v2' ? 0x3ff : 0x1fff }),
      eoi: fc.boolean(),
      source: fc.integer({ min: 0, max: 7 }),
      grp1: fc.boolean(),
    })
    .map((f) => (f.virq >= 16 ? { ...f, source: 0 } : f));
}

/** What read_lr(write_lr(f)) gives back, per appendix A. */
function expectedRoundTrip(version: GicVersion, f: GicLr, guestV3: boolean): GicLr {
  const hw = f.hwStatus;
  if (version === 'v2') {
    return {
      virq: f.virq, priority: f.priority, pending: f.pending, active: f.active, hwStatus: hw,
      pirq: hw ? f.pirq : 0, eoi: !hw && f.eoi, source: hw ? 0 : f.source, grp1: false,
    };
  }
  // v3: the source bits [12:10] are written (and decoded) only for a vGICv2 guest, and they
  // overlap the vINTID field, so the decoded vINTID carries them too (A.2).
  const withSource = !hw && !guestV3;
  const virq = withSource ? f.virq | (f.source << 10) : f.virq;
  return {
    virq, priority: f.priority, pending: f.pending, active: f.active, hwStatus: hw,
    pirq: hw ? f.pirq : 0, eoi: !hw && f.eoi, source: withSource ? (virq >> 10) & 7 : 0, grp1: guestV3,
  };
}

/** A raw register Xen could have produced (update_lr / write_lr), built bit by bit. */
function xenRawArb(version: GicVersion, guestV3: boolean): fc.Arbitrary<bigint> {
  if (version === 'v2') {
    return fc
      .record({
        virq: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 0x3ff })),
        prio: fc.integer({ min: 0, max: 0x1f }),
        state: fc.integer({ min: 0, max: 3 }),
        hw: fc.boolean(),
        pirq: fc.integer({ min: 0, max: 0x3ff }),
        eoi: fc.boolean(),
        source: fc.integer({ min: 0, max: 7 }),
      })
      .map((r) => {
        let raw = BigInt(r.virq) | (BigInt(r.prio) << 23n) | (BigInt(r.state) << 28n);
        if (r.hw) raw |= (1n << 31n) | (BigInt(r.pirq) << 10n);
        else {
          if (r.eoi) raw |= 1n << 19n;
          if (r.virq < 16) raw |= BigInt(r.source) << 10n;
        }
        return raw;
      });
  }
  return fc
    .record({
      // A vGICv2 guest has no INTID >= 1024, so Xen never writes vINTID bits [15:10] for it.
      virq: fc.integer({ min: 0, max: guestV3 ? 0xffff : 0x3ff }),
      prio: fc.integer({ min: 0, max: 0xff }),
      state: fc.integer({ min: 0, max: 3 }),
      hw: fc.boolean(),
      pirq: fc.integer({ min: 0, max: 0x1fff }),
      eoi: fc.boolean(),
    })
    .map((r) => {
      let raw = BigInt(r.virq) | (BigInt(r.prio) << 48n) | (BigInt(r.state) << 62n);
      if (guestV3) raw |= 1n << 60n;
      if (r.hw) raw |= (1n << 61n) | (BigInt(r.pirq) << 32n);
      else if (r.eoi) raw |= 1n << 41n;
      return raw;
    });
}

describe('List-register codecs (reference appendix A)', () => {
  describe('update_lr exact bit placement', () => {
    it('A.2: v3 pending prio 0xa0 vINTID 27 group 1 encodes as 0x50a000000000001b', () => {
      expect(hex(update('v3', 27, 0xa0, null, LR_STATE_PENDING, true))).to.equal('0x50a000000000001b');
    });

    it('A.2: v3 pending prio 0xa0 vINTID 48 with HW pirq 48 group 1 encodes as 0x70a0003000000030', () => {
      expect(hex(update('v3', 48, 0xa0, 48, LR_STATE_PENDING, true))).to.equal('0x70a0003000000030');
    });

    it('A.2/Q41: v3 LR for a vGICv2 guest has no Group 1 bit: 0x40a000000000001b', () => {
      expect(hex(update('v3', 27, 0xa0, null, LR_STATE_PENDING, false))).to.equal('0x40a000000000001b');
    });

    it('A.2: v3 state bits are [63:62]: active 0x90a000000000001b, pending+active 0xd0a000000000001b', () => {
      expect(hex(update('v3', 27, 0xa0, null, LR_STATE_ACTIVE, true))).to.equal('0x90a000000000001b');
      expect(hex(update('v3', 27, 0xa0, null, LR_STATE_PENDING_ACTIVE, true))).to.equal('0xd0a000000000001b');
    });

    it('A.2/Q41: v3 priority keeps all 8 bits at [55:48]: prio 0xa7 gives 0x50a700000000001b', () => {
      expect(hex(update('v3', 27, 0xa7, null, LR_STATE_PENDING, true))).to.equal('0x50a700000000001b');
      expect(hex(update('v3', 27, 0xff, null, LR_STATE_PENDING, true))).to.equal('0x50ff00000000001b');
    });

    it('A.1: v2 pending prio 0xa0 vINTID 27 encodes as 0x1a00001b (state bit 28, field 0x14 at [27:23], vINTID at [9:0])', () => {
      expect(hex(update('v2', 27, 0xa0, null, LR_STATE_PENDING))).to.equal('0x1a00001b');
    });

    it('A.1: v2 pending prio 0xa0 vINTID 48 with HW pirq 48 encodes as 0x9a00c030 (HW bit 31, pirq at [19:10])', () => {
      expect(hex(update('v2', 48, 0xa0, 48, LR_STATE_PENDING))).to.equal('0x9a00c030');
    });

    it('A.1: v2 state bits are [29:28]: active 0x2a00001b, pending+active 0x3a00001b', () => {
      expect(hex(update('v2', 27, 0xa0, null, LR_STATE_ACTIVE))).to.equal('0x2a00001b');
      expect(hex(update('v2', 27, 0xa0, null, LR_STATE_PENDING_ACTIVE))).to.equal('0x3a00001b');
    });

    it('A.1/Q24/Q41: v2 keeps only priority bits [7:3]: 0xa7 encodes like 0xa0, 0x07 gives field 0, 0xff gives field 0x1f', () => {
      expect(hex(update('v2', 27, 0xa7, null, LR_STATE_PENDING))).to.equal('0x1a00001b');
      expect(hex(update('v2', 27, 0x07, null, LR_STATE_PENDING))).to.equal('0x1000001b');
      expect(hex(update('v2', 27, 0xff, null, LR_STATE_PENDING))).to.equal('0x1f80001b');
    });

    it('A.1/Q41: v2 never sets Group 1 (bit 30), even when told the guest is vGICv3', () => {
      expect(hex(update('v2', 27, 0xa0, null, LR_STATE_PENDING, true))).to.equal('0x1a00001b');
    });

    it('Q41: v2 vINTID is masked to 10 bits: 0x7ff gives 0x3ff and nothing spills into bit 10 (0x100003ff)', () => {
      expect(hex(update('v2', 0x7ff, 0, null, LR_STATE_PENDING))).to.equal('0x100003ff');
    });

    it('Q41: v3 vINTID is masked to 16 bits: 0x1ffff gives 0xffff and bit 16 stays clear (0x500000000000ffff)', () => {
      expect(hex(update('v3', 0x1ffff, 0, null, LR_STATE_PENDING, true))).to.equal('0x500000000000ffff');
    });

    it('Q41: v2 pINTID is masked to 10 bits: 0x7ff gives 0x3ff at [19:10], bit 20 clear (0x900ffc20)', () => {
      expect(hex(update('v2', 32, 0, 0x7ff, LR_STATE_PENDING))).to.equal('0x900ffc20');
    });

    it('Q41: v3 pINTID is masked to 13 bits: 0x3fff gives 0x1fff at [44:32], bit 45 clear (0x70001fff00000020)', () => {
      expect(hex(update('v3', 32, 0, 0x3fff, LR_STATE_PENDING, true))).to.equal('0x70001fff00000020');
    });

    it('A.1/A.2: the state argument is masked to 2 bits (state 7 acts as pending+active)', () => {
      expect(hex(update('v2', 27, 0xa0, null, 7))).to.equal('0x3a00001b');
      expect(hex(update('v3', 27, 0xa0, null, 7, true))).to.equal('0xd0a000000000001b');
      expect(hex(update('v2', 27, 0xa0, null, 4))).to.equal('0xa00001b');
    });

    it('A.1/A.2: update_lr rewrites the whole register: stale bits (v2 high word included) are cleared', () => {
      const v2 = new Uint32Array(2).fill(0xffffffff);
      updateLr(GICV2_LR, v2, 0, 27, 0xa0, null, LR_STATE_PENDING, false);
      expect(hex(rawLr(v2, 0))).to.equal('0x1a00001b');
      expect(v2[1]).to.equal(0);
      const v3 = new Uint32Array(2).fill(0xffffffff);
      updateLr(GICV3_LR, v3, 0, 27, 0xa0, null, LR_STATE_PENDING, true);
      expect(hex(rawLr(v3, 0))).to.equal('0x50a000000000001b');
    });

    it('A.2: update_lr on LR n leaves every other LR of the file untouched', () => {
      const file = new Uint32Array(6).fill(0xdeadbeef);
      updateLr(GICV3_LR, file, 1, 27, 0xa0, null, LR_STATE_PENDING, true);
      expect(hex(rawLr(file, 0))).to.equal('0xdeadbeefdeadbeef');
      expect(hex(rawLr(file, 1))).to.equal('0x50a000000000001b');
      expect(hex(rawLr(file, 2))).to.equal('0xdeadbeefdeadbeef');
    });

    it('A.1/A.2: clear_lr writes 0 to the whole register (both words) and nothing else', () => {
      const file = new Uint32Array(4).fill(0xffffffff);
      clearLr(file, 1);
      expect(Array.from(file)).to.deep.equal([0xffffffff, 0xffffffff, 0, 0]);
    });

    it('A.1/Q41: property: v2 update_lr places every field at its appendix A.1 bits, masked to its width', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xff }),
          fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: null }), fc.integer({ min: 0, max: 7 }), fc.boolean(),
          (virq, prio, hwIrq, state, guestV3) => {
            expect(hex(update('v2', virq, prio, hwIrq, state, guestV3))).to.equal(hex(oracleUpdate('v2', virq, prio, hwIrq, state, guestV3)));
          },
        ),
        RUNS,
      );
    });

    it('A.2/Q41: property: v3 update_lr places every field at its appendix A.2 bits, masked to its width', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0x3ffff }), fc.integer({ min: 0, max: 0xff }),
          fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: null }), fc.integer({ min: 0, max: 7 }), fc.boolean(),
          (virq, prio, hwIrq, state, guestV3) => {
            expect(hex(update('v3', virq, prio, hwIrq, state, guestV3))).to.equal(hex(oracleUpdate('v3', virq, prio, hwIrq, state, guestV3)));
          },
        ),
        RUNS,
      );
    });

    for (const [version, guestV3] of [['v2', false], ['v3', true], ['v3', false]] as const) {
      it(`A.1/A.2/3.7b: property: ${version} host, ${guestV3 ? 'vGICv3' : 'vGICv2'} guest: read_lr then write_lr reproduces an update_lr register exactly`, () => {
        const virqMax = version === 'v3' && guestV3 ? 0xffff : 0x3ff;
        fc.assert(
          fc.property(
            fc.integer({ min: 0, max: virqMax }), fc.integer({ min: 0, max: 0xff }),
            fc.option(fc.integer({ min: 0, max: version === 'v2' ? 0x3ff : 0x1fff }), { nil: null }), fc.integer({ min: 0, max: 3 }),
            (virq, prio, hwIrq, state) => {
              const layout = lrLayout(version);
              const file = new Uint32Array(2);
              updateLr(layout, file, 0, virq, prio, hwIrq, state, guestV3);
              const before = rawLr(file, 0);
              const decoded = emptyGicLr();
              readLr(layout, file, 0, decoded, guestV3);
              writeLr(layout, file, 0, decoded, guestV3);
              expect(hex(rawLr(file, 0))).to.equal(hex(before));
            },
          ),
          RUNS,
        );
      });
    }
  });

  describe('read_lr decoding', () => {
    it('A.1: v2 HW LR 0x9a00c030 decodes to vINTID 48, field 0x14, pending, HW pirq 48, no eoi/source', () => {
      expect(decodeLr('v2', 0x9a00c030n)).to.deep.equal({
        virq: 48, priority: 0x14, pending: true, active: false, hwStatus: true, pirq: 48, eoi: false, source: 0, grp1: false,
      });
    });

    it('A.1: v2 non-HW LR 0x10080c02 decodes EOI (bit 19) and source 3 ([12:10]) of SGI 2', () => {
      expect(decodeLr('v2', 0x10080c02n)).to.deep.equal({
        virq: 2, priority: 0, pending: true, active: false, hwStatus: false, pirq: 0, eoi: true, source: 3, grp1: false,
      });
    });

    it('A.1: v2 with HW=1 ignores bit 19 and [12:10] as eoi/source: they are part of the pirq', () => {
      // HW, pirq 0x203 (bits 19 and 11:10 of the register), vINTID 5.
      expect(decodeLr('v2', 0x80080c05n)).to.deep.equal({
        virq: 5, priority: 0, pending: false, active: false, hwStatus: true, pirq: 0x203, eoi: false, source: 0, grp1: false,
      });
    });

    it('A.1: v2 read_lr reads pending from bit 28 and active from bit 29', () => {
      expect(decodeLr('v2', 0x2000001bn)).to.include({ pending: false, active: true });
      expect(decodeLr('v2', 0x3000001bn)).to.include({ pending: true, active: true });
      expect(decodeLr('v2', 0x0000001bn)).to.include({ pending: false, active: false });
    });

    it('A.2: v3 0x50a000000000001b decodes to vINTID 27, priority 0xa0, pending, group 1', () => {
      expect(decodeLr('v3', 0x50a000000000001bn)).to.deep.equal({
        virq: 27, priority: 0xa0, pending: true, active: false, hwStatus: false, pirq: 0, eoi: false, source: 0, grp1: true,
      });
    });

    it('A.2: v3 0x70a0003000000030 decodes to vINTID 48 with HW pirq 48', () => {
      expect(decodeLr('v3', 0x70a0003000000030n)).to.deep.equal({
        virq: 48, priority: 0xa0, pending: true, active: false, hwStatus: true, pirq: 48, eoi: false, source: 0, grp1: true,
      });
    });

    it('A.2: v3 EOI bit 41 is decoded only with HW=0; with HW=1 it is pINTID bit 9', () => {
      expect(decodeLr('v3', 0x4000020000000020n)).to.include({ hwStatus: false, eoi: true, pirq: 0 });
      expect(decodeLr('v3', 0x6000020000000020n)).to.include({ hwStatus: true, eoi: false, pirq: 0x200 });
    });

    it('A.2: v3 read_lr decodes the source [12:10] only for a vGICv2 guest, and it overlaps the vINTID', () => {
      expect(decodeLr('v3', 0x4000000000000c02n, false)).to.include({ virq: 0xc02, source: 3 });
      expect(decodeLr('v3', 0x4000000000000c02n, true)).to.include({ virq: 0xc02, source: 0 });
    });

    it('A.2: v3 write_lr for a vGICv2 guest ORs the source into bits [12:10]: SGI 2 source 3 gives 0x4000000000000c02', () => {
      const f: GicLr = { ...emptyGicLr(), virq: 2, pending: true, source: 3 };
      expect(hex(encodeLr('v3', f, false))).to.equal('0x4000000000000c02');
      expect(hex(encodeLr('v3', f, true))).to.equal('0x5000000000000002');
    });

    it('A.2: v3 write_lr sets Group 1 for a vGICv3 guest whatever the decoded grp1 says, and never for a vGICv2 guest', () => {
      const f: GicLr = { ...emptyGicLr(), virq: 27, priority: 0xa0, pending: true };
      expect(hex(encodeLr('v3', { ...f, grp1: false }, true))).to.equal('0x50a000000000001b');
      expect(hex(encodeLr('v3', { ...f, grp1: true }, false))).to.equal('0x40a000000000001b');
    });

    it('A.1: v2 write_lr never sets Group 1 (bit 30) whatever the decoded grp1 says', () => {
      const f: GicLr = { ...emptyGicLr(), virq: 27, priority: 0x14, pending: true, grp1: true };
      expect(hex(encodeLr('v2', f))).to.equal('0x1a00001b');
    });

    it('A.1/A.2: encodeLr / decodeLr default guestV3 to "host is v3"', () => {
      const f: GicLr = { ...emptyGicLr(), virq: 27, priority: 0xa0, pending: true };
      expect(hex(encodeLr('v3', f))).to.equal('0x50a000000000001b');
      expect(decodeLr('v3', 0x4000000000000c02n).source).to.equal(0);
      expect(decodeLr('v2', 0x10000c02n).source).to.equal(3);
    });
  });

  describe('round trips', () => {
    it('A.1/Q41: property: v2 encodeLr then decodeLr keeps the 5-bit priority, state, HW+pirq or EOI+source, and never Group 1', () => {
      fc.assert(
        fc.property(gicLrArb('v2'), (f) => {
          expect(decodeLr('v2', encodeLr('v2', f, false), false)).to.deep.equal(expectedRoundTrip('v2', f, false));
        }),
        RUNS,
      );
    });

    it('A.2/Q41: property: v3 (vGICv3 guest) encodeLr then decodeLr keeps 8-bit priority, state, HW+pirq or EOI, sets Group 1, drops source', () => {
      fc.assert(
        fc.property(gicLrArb('v3'), (f) => {
          expect(decodeLr('v3', encodeLr('v3', f, true), true)).to.deep.equal(expectedRoundTrip('v3', f, true));
        }),
        RUNS,
      );
    });

    it('A.2/Q41: property: v3 (vGICv2 guest, vINTID < 1024) encodeLr then decodeLr keeps the source (OR-ed into vINTID bits [12:10]) and no Group 1', () => {
      // A vGICv2 guest has no INTID >= 1024, so this is every vINTID Xen can hand write_lr.
      fc.assert(
        fc.property(gicLrArb('v3', 0x3ff), (f) => {
          expect(decodeLr('v3', encodeLr('v3', f, false), false)).to.deep.equal(expectedRoundTrip('v3', f, false));
        }),
        RUNS,
      );
    });

    // gicv3_write_lr ORs `source << 10` into a register that already holds `virq & 0xffff`,
    // so vINTID bits [12:10] survive (only vINTIDs >= 1024 have them).
    it('A.2: property: v3 (vGICv2 guest, full 16-bit vINTID) write_lr ORs the source into the vINTID, never clearing vINTID bits [12:10]', () => {
      const f: GicLr = { ...emptyGicLr(), virq: 0x400, pending: true };
      expect(hex(encodeLr('v3', f, false))).to.equal('0x4000000000000400');
      expect(hex(encodeLr('v3', { ...f, virq: 0x2c05 }, false))).to.equal('0x4000000000002c05');
      fc.assert(
        fc.property(gicLrArb('v3'), (g) => {
          expect(decodeLr('v3', encodeLr('v3', g, false), false)).to.deep.equal(expectedRoundTrip('v3', g, false));
        }),
        RUNS,
      );
    });

    for (const [version, guestV3] of [['v2', false], ['v3', true], ['v3', false]] as const) {
      it(`A.1/A.2: property: ${version} host, ${guestV3 ? 'vGICv3' : 'vGICv2'} guest: decodeLr then encodeLr is stable on any raw value Xen could have produced`, () => {
        fc.assert(
          fc.property(xenRawArb(version, guestV3), (raw) => {
            expect(hex(encodeLr(version, decodeLr(version, raw, guestV3), guestV3))).to.equal(hex(raw));
          }),
          RUNS,
        );
      });
    }
  });

  describe('raw view and priority', () => {
    it('trace-format §1/§5: rawLr / setRawLr keep all 64 bits of known patterns', () => {
      const file = new Uint32Array(2);
      for (const v of [0n, 1n, 0x100000000n, 0x8000000000000001n, 0x50a000000000001bn, U64_MAX]) {
        setRawLr(file, 0, v);
        expect(hex(rawLr(file, 0))).to.equal(hex(v));
      }
      setRawLr(file, 0, 0x8000000000000001n);
      expect(Array.from(file)).to.deep.equal([1, 0x80000000]);
    });

    it('trace-format §1/§5: property: setRawLr then rawLr never loses a bit of a 64-bit value, and touches only its LR', () => {
      fc.assert(
        fc.property(
          fc.bigInt({ min: 0n, max: U64_MAX }), fc.integer({ min: 0, max: 3 }),
          fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 8, maxLength: 8 }),
          (value, lr, initial) => {
            const file = Uint32Array.from(initial);
            setRawLr(file, lr, value);
            expect(rawLr(file, lr)).to.equal(value);
            for (let other = 0; other < 4; other++) {
              if (other === lr) continue;
              expect(file[2 * other]).to.equal(initial[2 * other]);
              expect(file[2 * other + 1]).to.equal(initial[2 * other + 1]);
            }
          },
        ),
        RUNS,
      );
    });

    it('trace-format §5/§2.5: lrPriority8 gives field << 3 on v2 (0xa7 -> 0xa0, 0xff -> 0xf8) and the full byte on v3', () => {
      const f2 = new Uint32Array(2);
      updateLr(GICV2_LR, f2, 0, 27, 0xa7, null, LR_STATE_PENDING, false);
      expect(lrPriority8(GICV2_LR, f2, 0)).to.equal(0xa0);
      updateLr(GICV2_LR, f2, 0, 27, 0xff, null, LR_STATE_PENDING, false);
      expect(lrPriority8(GICV2_LR, f2, 0)).to.equal(0xf8);
      const f3 = new Uint32Array(2);
      updateLr(GICV3_LR, f3, 0, 27, 0xa7, null, LR_STATE_PENDING, true);
      expect(lrPriority8(GICV3_LR, f3, 0)).to.equal(0xa7);
    });

    it('trace-format §5/Q24: property: lrPriority8 after update_lr is prio & 0xf8 on v2 and prio on v3', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0xffff }), (prio, virq) => {
          const f2 = new Uint32Array(2);
          updateLr(GICV2_LR, f2, 0, virq, prio, null, LR_STATE_PENDING, false);
          expect(lrPriority8(GICV2_LR, f2, 0)).to.equal(prio & 0xf8);
          const f3 = new Uint32Array(2);
          updateLr(GICV3_LR, f3, 0, virq, prio, virq, LR_STATE_ACTIVE, true);
          expect(lrPriority8(GICV3_LR, f3, 0)).to.equal(prio);
        }),
        RUNS,
      );
    });
  });
});
