/**
 * Guest view of the GICv2 distributor (reference §4, quirks Q18-Q25, Q28, Q30, Q32, Q34,
 * appendix D scenarios 7 and 9), driven only through `mmio` / `sysreg` steps of the Machine.
 * Every row of table 4.1 gets a read, a write, a wrong-width access and, where Xen looks
 * the register's rank up, an access to a rank that does not exist. The default machine has
 * 2 vCPUs and 32 SPIs, so only shared rank 1 (INTIDs 32-63) exists.
 */
import { expect } from 'chai';
import type { Machine } from '../src/machine/machine.js';
import {
  ack, config, enter, exit, idle, inflight, inject, irqsnap, lrPending, machine, pmr, run, snap,
  status, step, vsnap,
} from './helpers.js';
import {
  ABORT_ERR, OK, d, okLog, okValue, read, readOk, sysreg, unchanged, write, writeOk, type Size,
} from './mmio-helpers.js';

/** A vGICv2 machine (2 vCPUs, 32 SPIs, 4 LRs, 2 pCPUs unless overridden) with vCPU0 in hyp on pCPU0. */
function v2(c: { vcpus?: number; nr_spis?: number; nr_lrs?: number; pcpus?: number } = {}): Machine {
  const m = machine(config({ gic: 'v2', vcpus: c.vcpus ?? 2, nr_spis: c.nr_spis ?? 32, nr_lrs: c.nr_lrs ?? 4, pcpus: c.pcpus ?? 2 }));
  run(m, 0, 0);
  return m;
}

function rank1(m: Machine) {
  return snap(m).domains[0]!.ranks[0]!;
}

/** The vCPU's LRs as [virq, state] pairs. */
function lrView(m: Machine, v: number): [number, string][] {
  return vsnap(m, v).lrs.map((l) => [l.virq, l.state]);
}

/** First 8-aligned address a with [a, a+7] inside [start, end], or null. */
function dwordIn(start: number, end: number): number | null {
  const a = (start + 7) & ~7;
  return a + 7 <= end ? a : null;
}

describe('vGICv2 distributor: table 4.1, row by row', () => {
  describe('0x000-0x003 GICD_CTLR', () => {
    it('4.1: reads 0 at reset (32-bit)', () => {
      const m = v2();
      expect(read(m, d(0x000))).to.deep.equal(okValue(0));
    });

    it('4.1: a 32-bit write keeps only bit 0 (Enable): 0xffffffff reads back 1, 0xfffffffe reads back 0', () => {
      const m = v2();
      writeOk(m, d(0x000), 4, 0xffffffff);
      expect(read(m, d(0x000))).to.deep.equal(okValue(1));
      expect(snap(m).domains[0]!.ctlr).to.equal('0x1');
      writeOk(m, d(0x000), 4, 0xfffffffe);
      expect(read(m, d(0x000))).to.deep.equal(okValue(0));
    });

    it('4.1: byte, halfword and doubleword accesses abort with an ERR log (W only) and leave ctlr alone', () => {
      const m = v2();
      unchanged(m, () => {
        expect(read(m, d(0x000), 1)).to.deep.equal(ABORT_ERR);
        expect(read(m, d(0x002), 2)).to.deep.equal(ABORT_ERR);
        expect(read(m, d(0x000), 8)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x000), 1, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x000), 2, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x000), 8, 1)).to.deep.equal(ABORT_ERR);
      });
    });

    it('Q3: Enable is decorative: with GICD_CTLR = 0 an enabled SPI is still delivered to an LR and acked', () => {
      const m = v2();
      writeOk(m, d(0x000), 4, 0);
      writeOk(m, d(0x100 + 4), 4, 0x1); // ISENABLER1: SPI 32
      inject(m, 0, 32);
      expect(lrView(m, 0)).to.deep.equal([[32, 'pending']]);
      enter(m, 0);
      pmr(m, 0, 0xf8);
      expect(ack(m, 0)).to.equal(32);
      exit(m, 0);
      writeOk(m, d(0x000), 4, 1);
      expect(read(m, d(0x000))).to.deep.equal(okValue(1));
      expect(lrView(m, 0)).to.deep.equal([[32, 'active']]);
    });
  });

  describe('0x004-0x007 GICD_TYPER', () => {
    it('4.1: reads ((max_vcpus - 1) << 5) | (nr_spis / 32): 2 vCPUs / 32 SPIs -> 0x21', () => {
      expect(read(v2(), d(0x004))).to.deep.equal(okValue(0x21));
    });

    it('4.1: 8 vCPUs / 960 SPIs -> 0xfe; 1 vCPU / 0 SPIs -> 0; 4 vCPUs / 33 SPIs (rounded to 64) -> 0x62', () => {
      expect(read(v2({ vcpus: 8, nr_spis: 960 }), d(0x004))).to.deep.equal(okValue(0xfe));
      expect(read(v2({ vcpus: 1, nr_spis: 0 }), d(0x004))).to.deep.equal(okValue(0));
      expect(read(v2({ vcpus: 4, nr_spis: 33 }), d(0x004))).to.deep.equal(okValue(0x62));
    });

    it('4.1: a 32-bit write is ignored', () => {
      const m = v2();
      unchanged(m, () => expect(write(m, d(0x004), 4, 0xffffffff)).to.deep.equal(OK));
      expect(read(m, d(0x004))).to.deep.equal(okValue(0x21));
    });

    it('4.1: byte/halfword reads and writes abort (W only)', () => {
      const m = v2();
      expect(read(m, d(0x004), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, d(0x006), 2)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0x005), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x008-0x00B GICD_IIDR', () => {
    it('Q30: reads 0x43b', () => {
      expect(read(v2(), d(0x008))).to.deep.equal(okValue(0x43b));
    });
    it('4.1: a 32-bit write is ignored', () => {
      const m = v2();
      unchanged(m, () => expect(write(m, d(0x008), 4, 0x12345678)).to.deep.equal(OK));
      expect(read(m, d(0x008))).to.deep.equal(okValue(0x43b));
    });
    it('4.1: byte reads and halfword writes abort (W only)', () => {
      const m = v2();
      expect(read(m, d(0x008), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, d(0x00b), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0x008), 2, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  // Rows that read as zero and ignore writes at any width, with a DEBUG log (Xen's
  // read_reserved / read_impl_defined / write_reserved / write_impl_defined).
  const RAZ_WI_DEBUG: [string, number, number][] = [
    ['0x00C-0x01F reserved', 0x00c, 0x01f],
    ['0x020-0x03F implementation defined', 0x020, 0x03f],
    ['0x040-0x07F reserved', 0x040, 0x07f],
    ['0x7FC-0x7FF reserved', 0x7fc, 0x7ff],
    ['0xBFC-0xBFF reserved', 0xbfc, 0xbff],
    ['0xD00-0xDFF implementation defined', 0xd00, 0xdff],
    ['0xF04-0xF0F reserved', 0xf04, 0xf0f],
    ['0xF30-0xFCF reserved', 0xf30, 0xfcf],
    ['0xFD0-0xFE7 implementation defined ID registers', 0xfd0, 0xfe7],
  ];
  for (const [name, start, end] of RAZ_WI_DEBUG) {
    describe(name, () => {
      it(`4.1: a word read at ${start.toString(16)} and a byte read at ${end.toString(16)} are 0 with a debug log`, () => {
        const m = v2();
        expect(read(m, d(start))).to.deep.equal(okValue(0, ['debug']));
        expect(read(m, d(end), 1)).to.deep.equal(okValue(0, ['debug']));
      });
      it('4.1: word and byte writes are ignored with a debug log', () => {
        const m = v2();
        unchanged(m, () => {
          expect(write(m, d(start), 4, 0xffffffff)).to.deep.equal(okLog('debug'));
          expect(write(m, d(end), 1, 0xff)).to.deep.equal(okLog('debug'));
        });
      });
      it('4.1: no width check: halfword (and doubleword where one fits) accesses are RAZ/WI too', () => {
        const m = v2();
        unchanged(m, () => {
          expect(read(m, d(end - 1), 2)).to.deep.equal(okValue(0, ['debug']));
          expect(write(m, d(end - 1), 2, 0xffff)).to.deep.equal(okLog('debug'));
          const dw = dwordIn(start, end);
          if (dw !== null) {
            expect(read(m, d(dw), 8)).to.deep.equal(okValue(0, ['debug']));
            expect(write(m, d(dw), 8, 0xffffffffffffffffn)).to.deep.equal(okLog('debug'));
          }
        });
      });
    });
  }

  // 32-bit-only rows with no state: IGROUPR, NSACR (no rank lookup in Xen).
  const RAZ_WI_W: [string, number, number][] = [
    ['0x080-0x0FF GICD_IGROUPRn', 0x080, 0x0ff],
    ['0xE00-0xEFF GICD_NSACRn', 0xe00, 0xeff],
  ];
  for (const [name, start, end] of RAZ_WI_W) {
    describe(name, () => {
      it('4.1: 32-bit reads are 0 without a log, also for registers whose rank does not exist', () => {
        const m = v2();
        expect(read(m, d(start))).to.deep.equal(okValue(0));
        expect(read(m, d(end - 3))).to.deep.equal(okValue(0));
      });
      it('4.1: 32-bit writes are ignored', () => {
        const m = v2();
        unchanged(m, () => {
          expect(write(m, d(start), 4, 0xffffffff)).to.deep.equal(OK);
          expect(write(m, d(end - 3), 4, 0xffffffff)).to.deep.equal(OK);
        });
      });
      it('4.1: byte, halfword and doubleword accesses abort (W only)', () => {
        const m = v2();
        unchanged(m, () => {
          expect(read(m, d(start), 1)).to.deep.equal(ABORT_ERR);
          expect(read(m, d(start), 2)).to.deep.equal(ABORT_ERR);
          expect(read(m, d(start), 8)).to.deep.equal(ABORT_ERR);
          expect(write(m, d(end), 1, 1)).to.deep.equal(ABORT_ERR);
        });
      });
    });
  }

  describe('0x100-0x17F GICD_ISENABLERn', () => {
    it('4.1: reads rank(off/4).ienable: ISENABLER1 after setting bits 0 and 2 reads 0x5', () => {
      const m = v2();
      expect(read(m, d(0x104))).to.deep.equal(okValue(0));
      writeOk(m, d(0x104), 4, 0x5);
      expect(read(m, d(0x104))).to.deep.equal(okValue(0x5));
      expect(rank1(m).ienable).to.equal('0x5');
    });

    it('4.2: a write ORs into ienable and sets ENABLED on exactly the newly set IRQs', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x1);
      writeOk(m, d(0x104), 4, 0x80000002);
      expect(read(m, d(0x104))).to.deep.equal(okValue(0x80000003));
      expect(status(m, 32)).to.deep.equal(['ENABLED']);
      expect(status(m, 33)).to.deep.equal(['ENABLED']);
      expect(status(m, 63)).to.deep.equal(['ENABLED']);
      expect(status(m, 34)).to.deep.equal([]);
    });

    it('4.2: ISENABLER0 is the accessing vCPU\'s private rank (SGIs and PPIs start disabled)', () => {
      const m = v2();
      run(m, 1, 1);
      expect(read(m, d(0x100))).to.deep.equal(okValue(0));
      writeOk(m, d(0x100), 4, 0x80000001);
      expect(read(m, d(0x100))).to.deep.equal(okValue(0x80000001));
      expect(read(m, d(0x100), 4, 1)).to.deep.equal(okValue(0));
      expect(status(m, 0, 0)).to.deep.equal(['ENABLED']);
      expect(status(m, 31, 0)).to.deep.equal(['ENABLED']);
      expect(status(m, 0, 1)).to.deep.equal([]);
    });

    it('4.1: byte, halfword and doubleword accesses abort (W only) and enable nothing', () => {
      const m = v2();
      unchanged(m, () => {
        expect(read(m, d(0x104), 1)).to.deep.equal(ABORT_ERR);
        expect(read(m, d(0x104), 2)).to.deep.equal(ABORT_ERR);
        expect(read(m, d(0x100), 8)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x104), 1, 0xff)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x106), 2, 0xffff)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x100), 8, 1)).to.deep.equal(ABORT_ERR);
      });
    });

    it('1.5: absent rank: with 32 SPIs ISENABLER2 (0x108) reads 0 and ignores writes; a byte access still aborts first', () => {
      const m = v2();
      expect(read(m, d(0x108))).to.deep.equal(okValue(0));
      expect(read(m, d(0x17c))).to.deep.equal(okValue(0));
      unchanged(m, () => {
        expect(write(m, d(0x108), 4, 0xffffffff)).to.deep.equal(OK);
        expect(write(m, d(0x17c), 4, 0xffffffff)).to.deep.equal(OK);
      });
      expect(read(m, d(0x108), 1)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x180-0x1FF GICD_ICENABLERn', () => {
    it('4.1: reads the same ienable value as ISENABLER', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x00f0000f);
      expect(read(m, d(0x184))).to.deep.equal(okValue(0x00f0000f));
      writeOk(m, d(0x100), 4, 0x8000ffff);
      expect(read(m, d(0x180))).to.deep.equal(okValue(0x8000ffff));
    });

    it('4.2: a write clears the bits and clears ENABLED on exactly the IRQs that were enabled', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x7);
      writeOk(m, d(0x184), 4, 0x80000005);
      expect(read(m, d(0x104))).to.deep.equal(okValue(0x2));
      expect(status(m, 32)).to.deep.equal([]);
      expect(status(m, 33)).to.deep.equal(['ENABLED']);
      expect(status(m, 34)).to.deep.equal([]);
    });

    it('4.1: byte and halfword accesses abort (W only)', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x1);
      unchanged(m, () => {
        expect(read(m, d(0x184), 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x184), 1, 0x1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x184), 2, 0x1)).to.deep.equal(ABORT_ERR);
      });
    });

    it('1.5: absent rank: ICENABLER2 (0x188) reads 0 and ignores writes', () => {
      const m = v2();
      expect(read(m, d(0x188))).to.deep.equal(okValue(0));
      unchanged(m, () => expect(write(m, d(0x188), 4, 0xffffffff)).to.deep.equal(OK));
    });
  });

  describe('4.2 ISENABLER / ICENABLER transitions (Q22)', () => {
    it('Q22: re-enabling an enabled IRQ is a no-op: an SPI in an LR is not raised a second time', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x1);
      inject(m, 0, 32);
      expect(lrView(m, 0)).to.deep.equal([[32, 'pending']]);
      unchanged(m, () => writeOk(m, d(0x104), 4, 0x1));
    });

    it('Q22/Q7: enabling an IRQ asserted while disabled raises it now (only the 0->1 bit is processed)', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x2); // SPI 33 enabled
      inject(m, 0, 32); // disabled: inflight only
      expect(inflight(m, 0)).to.deep.equal([[32, 0]]);
      expect(lrView(m, 0)).to.deep.equal([]);
      writeOk(m, d(0x104), 4, 0x3);
      expect(lrView(m, 0)).to.deep.equal([[32, 'pending']]);
      expect(status(m, 32)).to.deep.equal(['VISIBLE', 'ENABLED']);
    });

    it('Q22/Q6: ICENABLER of an IRQ waiting in lr_pending takes it off lr_pending but leaves it inflight', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x1);
      inject(m, 1, 32); // from idle pCPU1: the target vCPU0 is not its current, so lr_pending
      expect(lrPending(m, 0)).to.deep.equal([32]);
      writeOk(m, d(0x184), 4, 0x1);
      expect(lrPending(m, 0)).to.deep.equal([]);
      expect(inflight(m, 0)).to.deep.equal([[32, 0]]);
      unchanged(m, () => writeOk(m, d(0x184), 4, 0x1)); // already disabled: no transition
    });
  });

  describe('0x200-0x27F GICD_ISPENDRn', () => {
    it('Q18: reads 0 at every width, even with an IRQ pending', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x1);
      inject(m, 0, 32);
      for (const [off, size] of [[0x204, 4], [0x204, 1], [0x206, 2], [0x200, 8], [0x27f, 1]] as [number, Size][]) {
        expect(read(m, d(off), size)).to.deep.equal(okValue(0));
      }
    });

    it('3.15: a write to ISPENDR1 injects each set SPI to its rank target (disabled ones stay inflight only)', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x2);
      writeOk(m, d(0x204), 4, 0x3);
      expect(inflight(m, 0)).to.deep.equal([[32, 0], [33, 0]]);
      expect(status(m, 32)).to.deep.equal(['QUEUED']);
      expect(status(m, 33)).to.deep.equal(['VISIBLE', 'ENABLED']);
      expect(lrView(m, 0)).to.deep.equal([[33, 'pending']]);
    });

    it('Q21: ISPENDR0 pends SGIs and PPIs on the accessing vCPU (vCPU1 on pCPU1), not on vCPU0', () => {
      const m = v2();
      run(m, 1, 1);
      writeOk(m, d(0x200), 4, 0x80000003, 1);
      expect(inflight(m, 1)).to.deep.equal([[0, 0], [1, 0], [31, 0]]);
      expect(status(m, 0, 1)).to.deep.equal(['QUEUED']);
      expect(inflight(m, 0)).to.deep.equal([]);
    });

    it('4.1: byte, halfword and doubleword writes abort (W only) and inject nothing', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0x204), 1, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x204), 2, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x200), 8, 1)).to.deep.equal(ABORT_ERR);
      });
    });

    it('1.5: absent rank: an ISPENDR2 (0x208) write is ignored and reads stay 0', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0x208), 4, 0xffffffff)).to.deep.equal(OK);
        expect(write(m, d(0x27c), 4, 0xffffffff)).to.deep.equal(OK);
      });
      expect(read(m, d(0x208))).to.deep.equal(okValue(0));
    });
  });

  describe('0x280-0x2FF GICD_ICPENDRn', () => {
    it('Q18: reads 0 at every width', () => {
      const m = v2();
      inject(m, 0, 32);
      expect(read(m, d(0x284))).to.deep.equal(okValue(0));
      expect(read(m, d(0x285), 1)).to.deep.equal(okValue(0));
      expect(read(m, d(0x280), 8)).to.deep.equal(okValue(0));
    });

    it('Q19: a write is a no-op; it warns once per inflight IRQ and silently ignores the rest', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x1);
      inject(m, 0, 32);
      inject(m, 0, 27, 0);
      unchanged(m, () => {
        expect(write(m, d(0x284), 4, 0x3)).to.deep.equal(okLog('warn'));
        expect(write(m, d(0x280), 4, 0xffffffff)).to.deep.equal(okLog('warn'));
        expect(write(m, d(0x284), 4, 0x2)).to.deep.equal(OK);
      });
    });

    it('4.1: byte and halfword writes abort (W only)', () => {
      const m = v2();
      expect(write(m, d(0x284), 1, 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0x284), 2, 1)).to.deep.equal(ABORT_ERR);
    });

    it('1.5: absent rank: an ICPENDR2 (0x288) write is ignored without a log', () => {
      const m = v2();
      unchanged(m, () => expect(write(m, d(0x288), 4, 0xffffffff)).to.deep.equal(OK));
      expect(read(m, d(0x288))).to.deep.equal(okValue(0));
    });
  });

  describe('0x300-0x37F GICD_ISACTIVERn', () => {
    it('Q18: reads 0 at every width, even with an IRQ active in an LR', () => {
      const m = v2();
      writeOk(m, d(0x104), 4, 0x1);
      inject(m, 0, 32);
      enter(m, 0);
      pmr(m, 0, 0xf8);
      expect(ack(m, 0)).to.equal(32);
      exit(m, 0);
      expect(lrView(m, 0)).to.deep.equal([[32, 'active']]);
      expect(read(m, d(0x304))).to.deep.equal(okValue(0));
      expect(read(m, d(0x304), 1)).to.deep.equal(okValue(0));
      expect(read(m, d(0x302), 2)).to.deep.equal(okValue(0));
      expect(read(m, d(0x300), 8)).to.deep.equal(okValue(0));
    });

    it('Q20/D9: a 32-bit write of 0 is accepted silently; a non-zero value aborts with an ERR log', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0x304), 4, 0)).to.deep.equal(OK);
        expect(write(m, d(0x304), 4, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x300), 4, 0x80000000)).to.deep.equal(ABORT_ERR);
      });
    });

    it('4.1: a byte or halfword write aborts even with value 0 (the width is checked first)', () => {
      const m = v2();
      expect(write(m, d(0x304), 1, 0)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0x304), 2, 0)).to.deep.equal(ABORT_ERR);
    });

    it('4.1: not rank-indexed: ISACTIVER2 (rank absent) still accepts 0 and aborts on non-zero', () => {
      const m = v2();
      expect(write(m, d(0x308), 4, 0)).to.deep.equal(OK);
      expect(write(m, d(0x37c), 4, 0x10)).to.deep.equal(ABORT_ERR);
      expect(read(m, d(0x308))).to.deep.equal(okValue(0));
    });
  });

  describe('0x380-0x3FF GICD_ICACTIVERn', () => {
    it('Q18: reads 0 at every width', () => {
      const m = v2();
      expect(read(m, d(0x380))).to.deep.equal(okValue(0));
      expect(read(m, d(0x3ff), 1)).to.deep.equal(okValue(0));
      expect(read(m, d(0x3f8), 8)).to.deep.equal(okValue(0));
    });

    it('Q20: a 32-bit write is logged at ERR and ignored', () => {
      const m = v2();
      unchanged(m, () => expect(write(m, d(0x384), 4, 0xffffffff)).to.deep.equal(okLog('err')));
    });

    it('4.1: a byte write logs "unhandled" first, then aborts on the width (two ERR logs)', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0x384), 1, 1)).to.deep.equal({ outcome: 'abort', log: ['err', 'err'] });
        expect(write(m, d(0x388), 8, 1)).to.deep.equal({ outcome: 'abort', log: ['err', 'err'] });
      });
    });
  });

  describe('0x400-0x7FB GICD_IPRIORITYRn', () => {
    it('4.1: a word write stores 4 priorities; word and byte reads return them (byte lane = A & 3)', () => {
      const m = v2();
      writeOk(m, d(0x420), 4, 0x44332211);
      expect(read(m, d(0x420))).to.deep.equal(okValue(0x44332211));
      expect(read(m, d(0x421), 1)).to.deep.equal(okValue(0x22));
      expect(read(m, d(0x423), 1)).to.deep.equal(okValue(0x44));
      expect(rank1(m).priority.slice(0, 5)).to.deep.equal([0x11, 0x22, 0x33, 0x44, 0]);
    });

    it('Q24: a byte write changes only that IRQ and keeps all 8 bits (0x07 is stored, not masked)', () => {
      const m = v2();
      writeOk(m, d(0x420), 4, 0x44332211);
      writeOk(m, d(0x422), 1, 0xff);
      expect(read(m, d(0x420))).to.deep.equal(okValue(0x44ff2211));
      writeOk(m, d(0x43f), 1, 0x07);
      expect(read(m, d(0x43c))).to.deep.equal(okValue(0x07000000));
      expect(rank1(m).priority.slice(0, 4)).to.deep.equal([0x11, 0x22, 0xff, 0x44]);
      expect(rank1(m).priority[31]).to.equal(7);
    });

    it('1.5: IPRIORITYR0-7 are the accessing vCPU\'s private priorities', () => {
      const m = v2();
      run(m, 1, 1);
      writeOk(m, d(0x41b), 1, 0xa0, 1); // PPI 27 of vCPU1
      expect(read(m, d(0x418), 4, 1)).to.deep.equal(okValue(0xa0000000));
      expect(read(m, d(0x418), 4, 0)).to.deep.equal(okValue(0));
      expect(vsnap(m, 1).rank.priority[27]).to.equal(0xa0);
    });

    it('Q5: a priority write does not reorder an IRQ that is already inflight', () => {
      const m = v2();
      writeOk(m, d(0x420), 4, 0x00008080);
      inject(m, 0, 32);
      inject(m, 0, 33);
      writeOk(m, d(0x420), 1, 0xf0);
      inject(m, 0, 32);
      expect(inflight(m, 0)).to.deep.equal([[32, 0], [33, 0]]);
      expect(irqsnap(m, 32)!.priority).to.equal(0x80);
    });

    it('4.1: halfword and doubleword accesses abort (B/W only)', () => {
      const m = v2();
      unchanged(m, () => {
        expect(read(m, d(0x420), 2)).to.deep.equal(ABORT_ERR);
        expect(read(m, d(0x420), 8)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x422), 2, 0xffff)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x420), 8, 0xff)).to.deep.equal(ABORT_ERR);
      });
    });

    it('1.5: absent rank: IPRIORITYR16 (0x440, INTIDs 64-67) and IPRIORITYR254 (0x7F8) read 0 and ignore word and byte writes', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0x440), 4, 0xffffffff)).to.deep.equal(OK);
        expect(write(m, d(0x441), 1, 0xff)).to.deep.equal(OK);
        expect(write(m, d(0x7f8), 4, 0xffffffff)).to.deep.equal(OK);
      });
      expect(read(m, d(0x440))).to.deep.equal(okValue(0));
      expect(read(m, d(0x7fb), 1)).to.deep.equal(okValue(0));
    });
  });

  describe('0x800-0x81F GICD_ITARGETSR0-7 (SGIs/PPIs)', () => {
    it('Q25: every byte reads 1 << current: vCPU0 reads 0x01010101, vCPU2 reads 0x04040404', () => {
      const m = v2({ vcpus: 3 });
      expect(read(m, d(0x800))).to.deep.equal(okValue(0x01010101));
      run(m, 1, 2);
      expect(read(m, d(0x81c), 4, 1)).to.deep.equal(okValue(0x04040404));
      expect(read(m, d(0x803), 1, 1)).to.deep.equal(okValue(0x04));
    });

    it('Q25: a 32-bit write is ignored (the targets are read-only)', () => {
      const m = v2();
      unchanged(m, () => expect(write(m, d(0x800), 4, 0x02020202)).to.deep.equal(OK));
      expect(read(m, d(0x800))).to.deep.equal(okValue(0x01010101));
    });

    it('Q25/D7: a byte write aborts with an ERR log; halfword accesses abort too', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0x800), 1, 0x02)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x81f), 1, 0x02)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x800), 2, 0x0202)).to.deep.equal(ABORT_ERR);
        expect(read(m, d(0x800), 2)).to.deep.equal(ABORT_ERR);
      });
    });
  });

  describe('0x820-0xBFB GICD_ITARGETSR8-254 (SPIs)', () => {
    it('4.3: SPI targets reset to vCPU0, so ITARGETSR8 reads 0x01010101', () => {
      expect(read(v2(), d(0x820))).to.deep.equal(okValue(0x01010101));
    });

    it('4.3: a 32-bit read of the targets of IRQs routed to vCPUs 0,1,2,3 reads 0x8040201', () => {
      const m = v2({ vcpus: 4 });
      writeOk(m, d(0x820), 4, 0x08040201);
      expect(read(m, d(0x820))).to.deep.equal(okValue(0x8040201));
      expect(rank1(m).vcpu.slice(0, 4)).to.deep.equal([0, 1, 2, 3]);
      expect(read(m, d(0x822), 1)).to.deep.equal(okValue(0x04));
    });

    it('Q25/D7: 0x06 with 2 vCPUs routes to vCPU1 (lowest set bit wins); 0x03 routes back to vCPU0', () => {
      const m = v2();
      expect(write(m, d(0x821), 1, 0x06)).to.deep.equal(OK);
      expect(rank1(m).vcpu.slice(0, 4)).to.deep.equal([0, 1, 0, 0]);
      expect(read(m, d(0x820))).to.deep.equal(okValue(0x01010201));
      expect(write(m, d(0x821), 1, 0x03)).to.deep.equal(OK);
      expect(read(m, d(0x820))).to.deep.equal(okValue(0x01010101));
    });

    it('Q25/D7: 0x04 with 2 vCPUs (lowest bit beyond max_vcpus) and 0x00 are ignored with a warning', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0x821), 1, 0x04)).to.deep.equal(okLog('warn'));
        expect(write(m, d(0x821), 1, 0x00)).to.deep.equal(okLog('warn'));
      });
      expect(read(m, d(0x820))).to.deep.equal(okValue(0x01010101));
    });

    it('4.3: a word write handles each byte on its own: one move, three warnings', () => {
      const m = v2();
      expect(write(m, d(0x824), 4, 0x00000402)).to.deep.equal(okLog('warn', 'warn', 'warn'));
      expect(rank1(m).vcpu.slice(4, 8)).to.deep.equal([1, 0, 0, 0]);
    });

    it('3.1: an SPI retargeted through ITARGETSR is injected into its new target', () => {
      const m = v2();
      writeOk(m, d(0x820), 1, 0x02);
      inject(m, 0, 32);
      expect(inflight(m, 1)).to.deep.equal([[32, 0]]);
      expect(inflight(m, 0)).to.deep.equal([]);
    });

    it('4.1: halfword and doubleword accesses abort (B/W only)', () => {
      const m = v2();
      unchanged(m, () => {
        expect(read(m, d(0x820), 2)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x822), 2, 0x0202)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x820), 8, 0x02)).to.deep.equal(ABORT_ERR);
      });
    });

    it('1.5: absent rank: ITARGETSR16 (0x840) reads 0 (not 0x01010101) and ignores writes without a warning', () => {
      const m = v2();
      expect(read(m, d(0x840))).to.deep.equal(okValue(0));
      expect(read(m, d(0xbf8))).to.deep.equal(okValue(0));
      unchanged(m, () => {
        expect(write(m, d(0x840), 4, 0x02020202)).to.deep.equal(OK);
        expect(write(m, d(0x841), 1, 0x00)).to.deep.equal(OK);
      });
    });
  });

  describe('0xC00-0xC07 GICD_ICFGR0/1 (SGIs, PPIs)', () => {
    it('Q23: ICFGR0 and ICFGR1 read 0 (SGIs report "level")', () => {
      const m = v2();
      expect(read(m, d(0xc00))).to.deep.equal(okValue(0));
      expect(read(m, d(0xc04))).to.deep.equal(okValue(0));
    });

    it('Q23: 32-bit writes to ICFGR0 and ICFGR1 are ignored: never writable on v2', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0xc00), 4, 0xffffffff)).to.deep.equal(OK);
        expect(write(m, d(0xc04), 4, 0xaaaaaaaa)).to.deep.equal(OK);
      });
      expect(read(m, d(0xc04))).to.deep.equal(okValue(0));
      expect(vsnap(m, 0).rank.icfg).to.deep.equal(['0x0', '0x0']);
    });

    it('4.1: byte and halfword accesses abort (W only)', () => {
      const m = v2();
      expect(read(m, d(0xc00), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0xc04), 1, 2)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0xc06), 2, 2)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0xC08-0xCFF GICD_ICFGR2-63 (SPIs)', () => {
    it('Q4: ICFGR2 and ICFGR3 are stored exactly as written (no masking of the low bit of each pair)', () => {
      const m = v2();
      writeOk(m, d(0xc08), 4, 0xffffffff);
      writeOk(m, d(0xc0c), 4, 0x55555555);
      expect(read(m, d(0xc08))).to.deep.equal(okValue(0xffffffff));
      expect(read(m, d(0xc0c))).to.deep.equal(okValue(0x55555555));
      expect(rank1(m).icfg).to.deep.equal(['0xffffffff', '0x55555555']);
      writeOk(m, d(0xc08), 4, 0x2);
      expect(read(m, d(0xc08))).to.deep.equal(okValue(0x2));
    });

    it('4.1: byte and halfword accesses abort (W only)', () => {
      const m = v2();
      unchanged(m, () => {
        expect(read(m, d(0xc08), 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xc08), 1, 0xff)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xc0a), 2, 0xffff)).to.deep.equal(ABORT_ERR);
      });
    });

    it('1.5: absent rank: ICFGR4 (0xC10, rank 2) and ICFGR63 read 0 and ignore writes', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0xc10), 4, 0xffffffff)).to.deep.equal(OK);
        expect(write(m, d(0xcfc), 4, 0xffffffff)).to.deep.equal(OK);
      });
      expect(read(m, d(0xc10))).to.deep.equal(okValue(0));
      expect(read(m, d(0xcfc))).to.deep.equal(okValue(0));
    });
  });

  describe('0xF00-0xF03 GICD_SGIR', () => {
    it('Q29: a 32-bit read returns 0xdeadbeef', () => {
      expect(read(v2(), d(0xf00))).to.deep.equal(okValue(0xdeadbeef));
    });

    it('4.4: a 32-bit write generates the SGI (filter 2: self)', () => {
      const m = v2();
      expect(write(m, d(0xf00), 4, 0x02000005)).to.deep.equal(OK);
      expect(inflight(m, 0)).to.deep.equal([[5, 0]]);
      expect(status(m, 5, 0)).to.deep.equal(['QUEUED']);
    });

    it('4.1: byte/halfword accesses abort and generate nothing', () => {
      const m = v2();
      unchanged(m, () => {
        expect(read(m, d(0xf00), 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xf00), 1, 0x5)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xf02), 2, 0x0200)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xf00), 8, 0x02000005)).to.deep.equal(ABORT_ERR);
      });
    });
  });

  for (const [name, base] of [['GICD_CPENDSGIRn', 0xf10], ['GICD_SPENDSGIRn', 0xf20]] as [string, number][]) {
    describe(`0x${base.toString(16).toUpperCase()}-0x${(base + 0xf).toString(16).toUpperCase()} ${name}`, () => {
      it('4.1: reads 0 at any width without a log', () => {
        const m = v2();
        expect(read(m, d(base))).to.deep.equal(okValue(0));
        expect(read(m, d(base + 0xf), 1)).to.deep.equal(okValue(0));
        expect(read(m, d(base + 2), 2)).to.deep.equal(okValue(0));
        expect(read(m, d(base + 8), 8)).to.deep.equal(okValue(0));
      });
      it('4.1: word and byte writes abort with an ERR log and change nothing', () => {
        const m = v2();
        unchanged(m, () => {
          expect(write(m, d(base), 4, 0x1)).to.deep.equal(ABORT_ERR);
          expect(write(m, d(base + 3), 1, 0x1)).to.deep.equal(ABORT_ERR);
          expect(write(m, d(base + 4), 4, 0)).to.deep.equal(ABORT_ERR);
        });
      });
      it('4.1: halfword and doubleword writes abort on the width (ERR log)', () => {
        const m = v2();
        expect(write(m, d(base + 2), 2, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(base + 8), 8, 1)).to.deep.equal(ABORT_ERR);
      });
    });
  }

  describe('0xFE8-0xFEB GICD_ICPIDR2', () => {
    it('Q30: a 32-bit read aborts with an ERR log ("unhandled read")', () => {
      expect(read(v2(), d(0xfe8))).to.deep.equal(ABORT_ERR);
    });
    it('4.1: a 32-bit write is ignored without a log', () => {
      const m = v2();
      unchanged(m, () => expect(write(m, d(0xfe8), 4, 0xffffffff)).to.deep.equal(OK));
    });
    it('4.1: byte/halfword reads and writes abort on the width (W only)', () => {
      const m = v2();
      expect(read(m, d(0xfe8), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, d(0xfea), 2)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0xfeb), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0xFEC-0xFFF implementation defined ID registers', () => {
    it('4.1: reads are 0 at any width with a debug log', () => {
      const m = v2();
      expect(read(m, d(0xfec))).to.deep.equal(okValue(0, ['debug']));
      expect(read(m, d(0xfff), 1)).to.deep.equal(okValue(0, ['debug']));
      expect(read(m, d(0xff8), 8)).to.deep.equal(okValue(0, ['debug']));
    });
    it('Q30/Q32: writes of any width reach Xen\'s default case: ERR log + abort', () => {
      const m = v2();
      unchanged(m, () => {
        expect(write(m, d(0xfec), 4, 0)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xffc), 4, 0x12345678)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xfff), 1, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xffe), 2, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0xff8), 8, 1)).to.deep.equal(ABORT_ERR);
      });
    });
  });
});

describe('vGICv2: GICD_SGIR generation (4.4, 3.19, Q28)', () => {
  /** 3 vCPUs; vCPU1 is the sender, running on pCPU0. */
  function sender(): Machine {
    const m = machine(config({ gic: 'v2', vcpus: 3, nr_spis: 32 }));
    run(m, 0, 1);
    return m;
  }
  const sgis = (m: Machine): number[][] => [0, 1, 2].map((v) => inflight(m, v).map(([irq]) => irq));

  it('4.4: filter 0 (target list) delivers to the listed vCPUs: list 0b101, SGI 3 -> vCPU0 and vCPU2', () => {
    const m = sender();
    expect(write(m, d(0xf00), 4, 0x00050003)).to.deep.equal(OK);
    expect(sgis(m)).to.deep.equal([[3], [], [3]]);
  });

  it('3.19: filter 0 skips a listed vCPU that does not exist (bit 7 of 3 vCPUs) with a warning', () => {
    const m = sender();
    expect(write(m, d(0xf00), 4, 0x00810002)).to.deep.equal(okLog('warn'));
    expect(sgis(m)).to.deep.equal([[2], [], []]);
  });

  it('3.19: filter 0 skips an offline vCPU with a warning; an empty list delivers nothing and is OK', () => {
    const m = sender();
    step(m, { op: 'vcpu_off', domain: 1, vcpu: 2 });
    expect(write(m, d(0xf00), 4, 0x00070001)).to.deep.equal(okLog('warn'));
    expect(sgis(m)).to.deep.equal([[1], [1], []]);
    unchanged(m, () => expect(write(m, d(0xf00), 4, 0x0000000f)).to.deep.equal(OK));
  });

  it('4.4: filter 1 (others) delivers to every online vCPU except the sender', () => {
    const m = sender();
    expect(write(m, d(0xf00), 4, 0x01ff0004)).to.deep.equal(OK);
    expect(sgis(m)).to.deep.equal([[4], [], [4]]);
  });

  it('4.4: filter 2 (self) delivers to the sender only; NSATT and bits [14:4] are ignored', () => {
    const m = sender();
    expect(write(m, d(0xf00), 4, 0x02ff8ff7)).to.deep.equal(OK);
    expect(sgis(m)).to.deep.equal([[], [7], []]);
  });

  it('Q28: filter 3 aborts with a debug log and delivers nothing', () => {
    const m = sender();
    unchanged(m, () => expect(write(m, d(0xf00), 4, 0x03ff0006)).to.deep.equal({ outcome: 'abort', log: ['debug'] }));
  });

  it('3.19: an enabled SGI sent to self while current goes straight into an LR', () => {
    const m = sender();
    writeOk(m, d(0x100), 4, 0x1);
    writeOk(m, d(0xf00), 4, 0x02000000);
    expect(lrView(m, 1)).to.deep.equal([[0, 'pending']]);
  });
});

describe('vGICv2: no GICv3 system registers (docs/trace-format.md §3.3)', () => {
  for (const reg of ['ICC_SGI1R_EL1', 'ICC_ASGI1R_EL1', 'ICC_SGI0R_EL1']) {
    it(`5.9/trace-format §3.3: ${reg} read and write are UNDEFINED on a vGICv2 and change nothing`, () => {
      const m = v2();
      unchanged(m, () => {
        expect(sysreg(m, reg, 'write', 0x1000001n)).to.deep.equal({ outcome: 'undef', log: [] });
        expect(sysreg(m, reg, 'read')).to.deep.equal({ outcome: 'undef', log: [] });
      });
    });
  }
});

describe('vGICv2: appendix D scenarios', () => {
  it('D7: ITARGETSR 0x06 with 2 vCPUs -> vCPU1; 0x04 -> ignored (warning); byte write to ITARGETSR0 -> abort', () => {
    const m = v2();
    expect(write(m, d(0x820), 1, 0x06)).to.deep.equal(OK);
    expect(rank1(m).vcpu[0]).to.equal(1);
    expect(write(m, d(0x820), 1, 0x04)).to.deep.equal(okLog('warn'));
    expect(rank1(m).vcpu[0]).to.equal(1);
    expect(write(m, d(0x800), 1, 0x02)).to.deep.equal(ABORT_ERR);
  });

  it('D9 (v2 part): GICD_ISACTIVER write of 0 is OK; non-zero aborts', () => {
    const m = v2();
    expect(write(m, d(0x300), 4, 0)).to.deep.equal(OK);
    expect(write(m, d(0x300), 4, 1)).to.deep.equal(ABORT_ERR);
  });
});

describe('vGICv2: Q34 retargeting an inflight virtual SPI through ITARGETSR', () => {
  it('Q34/3.17 step 2: the target changes at once but the record stays on the old vCPU\'s inflight list and LR', () => {
    const m = v2();
    writeOk(m, d(0x104), 4, 0x1);
    inject(m, 0, 32);
    expect(inflight(m, 0)).to.deep.equal([[32, 0]]);
    expect(write(m, d(0x820), 1, 0x02)).to.deep.equal(OK);
    expect(rank1(m).vcpu[0]).to.equal(1);
    expect(inflight(m, 0)).to.deep.equal([[32, 0]]);
    expect(inflight(m, 1)).to.deep.equal([]);
    expect(lrView(m, 0)).to.deep.equal([[32, 'pending']]);
    // A re-assertion now goes to vCPU1, which is not current anywhere: only QUEUED is set,
    // still on vCPU0's list.
    inject(m, 0, 32);
    expect(status(m, 32)).to.deep.equal(['QUEUED', 'VISIBLE', 'ENABLED']);
    expect(inflight(m, 1)).to.deep.equal([]);
  });

  it('Q34/3.3: a re-assertion while the new target is current re-examines LR p->lr of the NEW target\'s LR file', () => {
    // SPI 32 sits in vCPU0's LR0 (p->lr = 0). After the retarget, vCPU1 runs on pCPU1 and
    // SGI 0 of vCPU1 is enabled (so its record is listed). Re-asserting SPI 32 on pCPU1 makes
    // gic_raise_inflight_irq call gic_update_one_lr(vCPU1, 0): vCPU1's LR0 is empty, decodes
    // as vINTID 0, and drains SGI 0 of vCPU1 (lr 0 -> 255) instead of touching SPI 32.
    const m = v2();
    writeOk(m, d(0x104), 4, 0x1);
    inject(m, 0, 32);
    writeOk(m, d(0x820), 1, 0x02);
    run(m, 1, 1);
    writeOk(m, d(0x100), 4, 0x1, 1);
    expect(irqsnap(m, 0, 1)).to.deep.equal({ irq: 0, vcpu: 1, status: ['ENABLED'], priority: 0, lr: 0 });
    expect(inject(m, 1, 32).outcome).to.equal('ok');
    expect(irqsnap(m, 0, 1)).to.deep.equal({ irq: 0, vcpu: 1, status: ['ENABLED'], priority: 0, lr: 255 });
    expect(status(m, 32)).to.deep.equal(['QUEUED', 'VISIBLE', 'ENABLED']);
    expect(inflight(m, 0)).to.deep.equal([[32, 0]]);
    expect(inflight(m, 1)).to.deep.equal([]);
    expect(lrView(m, 1)).to.deep.equal([]);
  });
});

describe('vGICv2: multi-byte accesses (1.5 byte lanes)', () => {
  it('1.5: byte writes to the four lanes of IPRIORITYR8 build the word 0xd0c0b0a0', () => {
    const m = v2();
    [0xa0, 0xb0, 0xc0, 0xd0].forEach((p, lane) => writeOk(m, d(0x420 + lane), 1, p));
    expect(read(m, d(0x420))).to.deep.equal(okValue(0xd0c0b0a0));
    expect(readOk(m, d(0x422), 1)).to.equal(0xc0n);
  });

  it('1.5: a byte write to ITARGETSR9 lane 2 moves only SPI 38', () => {
    const m = v2();
    writeOk(m, d(0x826), 1, 0x02);
    expect(rank1(m).vcpu.slice(4, 8)).to.deep.equal([0, 0, 1, 0]);
    expect(read(m, d(0x824))).to.deep.equal(okValue(0x01020101));
  });

  it('Q30/4.1: sweeping 32-bit reads over the page, only GICD_ICPIDR2 (0xFE8) aborts', () => {
    const m = v2();
    const aborts: number[] = [];
    for (let off = 0; off < 0x1000; off += 4) if (read(m, d(off)).outcome === 'abort') aborts.push(off);
    expect(aborts).to.deep.equal([0xfe8]);
  });

  it('Q32/4.1: sweeping 32-bit writes of 0 over the page, only C/SPENDSGIR and 0xFEC-0xFFF abort', () => {
    const m = v2();
    const aborts: number[] = [];
    for (let off = 0; off < 0x1000; off += 4) {
      if (write(m, d(off), 4, 0).outcome === 'abort') aborts.push(off);
    }
    expect(aborts).to.deep.equal([0xf10, 0xf14, 0xf18, 0xf1c, 0xf20, 0xf24, 0xf28, 0xf2c, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc]);
  });
});

describe('vGICv2: guest accesses need a vCPU (docs/trace-format.md §3.3)', () => {
  it('trace-format §3.3: an mmio step on an idle pCPU or outside the 4 KiB GICD page is a trace error', () => {
    const m = v2();
    idle(m, 0);
    expect(() => read(m, d(0))).to.throw(/pCPU 0 is idle; mmio needs it hyp/);
    run(m, 0, 0);
    expect(() => read(m, d(0x1000))).to.throw(/outside the GICD frame/);
    expect(() => read(m, d(0x002))).to.throw(/not aligned/);
  });

  it('trace-format §3.3: ABORT and OK steps of a guest in hyp mode leave it in hyp mode', () => {
    const m = v2();
    expect(read(m, d(0xfe8))).to.deep.equal(ABORT_ERR);
    expect(snap(m).pcpus[0]!.mode).to.equal('hyp');
    expect(read(m, d(0x8))).to.deep.equal(okValue(0x43b));
    expect(snap(m).pcpus[0]!.mode).to.equal('hyp');
  });
});
