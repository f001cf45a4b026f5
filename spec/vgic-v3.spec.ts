/**
 * Guest view of the GICv3 distributor, the redistributor frames and ICC_SGI1R_EL1
 * (reference §5, quirks Q3, Q18-Q34, appendix D scenarios 8 and 9), driven only through
 * `mmio` / `sysreg` steps of the Machine. Every row of tables 5.1, 5.5 and 5.8 gets a read,
 * a write, a wrong-width access and, where Xen looks the register's rank up, an access to a
 * rank that does not exist. The default machine has 2 vCPUs and 32 SPIs (only shared
 * rank 1 exists), vCPU0 in hyp mode on pCPU0.
 */
import { expect } from 'chai';
import type { Machine } from '../src/machine/machine.js';
import {
  ack, config, enter, eoi, exit, idle, inflight, inject, irqsnap, lrPending, machine, pmr, run, snap, status, step,
  stepError, vsnap,
} from './helpers.js';
import {
  ABORT, ABORT_ERR, OK, d, okLog, okValue, rd, read, sgi, sysreg, unchanged, write, writeOk, type Size,
} from './mmio-helpers.js';

interface V3Cfg { vcpus?: number; nr_spis?: number; nr_lrs?: number; pcpus?: number }

/** A vGICv3 machine (2 vCPUs, 32 SPIs, 4 LRs, 2 pCPUs unless overridden) with vCPU0 in hyp on pCPU0. */
function v3(c: V3Cfg = {}): Machine {
  const m = machine(config({ gic: 'v3', vcpus: c.vcpus ?? 2, nr_spis: c.nr_spis ?? 32, nr_lrs: c.nr_lrs ?? 4, pcpus: c.pcpus ?? 2 }));
  run(m, 0, 0);
  return m;
}

function rank1(m: Machine) {
  return snap(m).domains[0]!.ranks[0]!;
}

function lrView(m: Machine, v: number): [number, string][] {
  return vsnap(m, v).lrs.map((l) => [l.virq, l.state]);
}

function dwordIn(start: number, end: number): number | null {
  const a = (start + 7) & ~7;
  return a + 7 <= end ? a : null;
}

/** RAZ/WI at any width with the given log level (debug: reserved / impl. defined; err: default). */
function razWiAnyWidth(ref: string, addr: (off: number) => number, start: number, end: number, level: 'debug' | 'err'): void {
  const half = (end - 1) & ~1;
  it(`${ref}: a word read at 0x${start.toString(16)} and a byte read at 0x${end.toString(16)} are 0 with a${level === 'err' ? 'n ERR' : ' debug'} log`, () => {
    const m = v3();
    expect(read(m, addr(start))).to.deep.equal(okValue(0, [level]));
    expect(read(m, addr(end), 1)).to.deep.equal(okValue(0, [level]));
  });
  it(`${ref}: word and byte writes are ignored with a${level === 'err' ? 'n ERR' : ' debug'} log`, () => {
    const m = v3();
    unchanged(m, () => {
      expect(write(m, addr(start), 4, 0xffffffff)).to.deep.equal(okLog(level));
      expect(write(m, addr(end), 1, 0xff)).to.deep.equal(okLog(level));
    });
  });
  it(`${ref}: no width check: halfword (and doubleword where one fits) accesses are RAZ/WI too`, () => {
    const m = v3();
    unchanged(m, () => {
      expect(read(m, addr(half), 2)).to.deep.equal(okValue(0, [level]));
      expect(write(m, addr(half), 2, 0xffff)).to.deep.equal(okLog(level));
      const dw = dwordIn(start, end);
      if (dw !== null) {
        expect(read(m, addr(dw), 8)).to.deep.equal(okValue(0, [level]));
        expect(write(m, addr(dw), 8, 0xffffffffffffffffn)).to.deep.equal(okLog(level));
      }
    });
  });
}

/** 32-bit-only RAZ/WI without a log. */
function razWiWord(ref: string, addr: (off: number) => number, start: number, end: number): void {
  it(`${ref}: 32-bit reads are 0 without a log`, () => {
    const m = v3();
    expect(read(m, addr(start))).to.deep.equal(okValue(0));
    expect(read(m, addr(end - 3))).to.deep.equal(okValue(0));
  });
  it(`${ref}: 32-bit writes are ignored without a log`, () => {
    const m = v3();
    unchanged(m, () => {
      expect(write(m, addr(start), 4, 0xffffffff)).to.deep.equal(OK);
      expect(write(m, addr(end - 3), 4, 0xffffffff)).to.deep.equal(OK);
    });
  });
  it(`${ref}: byte, halfword and doubleword accesses abort with an ERR log (W only)`, () => {
    const m = v3();
    unchanged(m, () => {
      expect(read(m, addr(start), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, addr(start), 2)).to.deep.equal(ABORT_ERR);
      if ((start & 7) === 0) expect(read(m, addr(start), 8)).to.deep.equal(ABORT_ERR);
      expect(write(m, addr(end), 1, 1)).to.deep.equal(ABORT_ERR);
    });
  });
}

// ---------------------------------------------------------------------------------------
// 5.1 distributor

describe('vGICv3 distributor: table 5.1, row by row', () => {
  describe('0x0000-0x0003 GICD_CTLR', () => {
    it('5.1: reads 0x10 (ARE_NS) at reset', () => {
      expect(read(v3(), d(0x0))).to.deep.equal(okValue(0x10));
    });

    it('Q3/5.1: only EnableGrp1A (bit 1) changes: 0x2 -> 0x12, 0xffffffff -> 0x12, 0x1 -> 0x10, 0 -> 0x10', () => {
      const m = v3();
      writeOk(m, d(0x0), 4, 0x2);
      expect(read(m, d(0x0))).to.deep.equal(okValue(0x12));
      expect(snap(m).domains[0]!.ctlr).to.equal('0x12');
      writeOk(m, d(0x0), 4, 0xffffffff);
      expect(read(m, d(0x0))).to.deep.equal(okValue(0x12));
      writeOk(m, d(0x0), 4, 0x1);
      expect(read(m, d(0x0))).to.deep.equal(okValue(0x10));
      writeOk(m, d(0x0), 4, 0);
      expect(read(m, d(0x0))).to.deep.equal(okValue(0x10));
    });

    it('5.1: byte, halfword and doubleword accesses abort (W only)', () => {
      const m = v3();
      unchanged(m, () => {
        expect(read(m, d(0x0), 1)).to.deep.equal(ABORT_ERR);
        expect(read(m, d(0x2), 2)).to.deep.equal(ABORT_ERR);
        expect(read(m, d(0x0), 8)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x0), 1, 0x2)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x0), 8, 0x2)).to.deep.equal(ABORT_ERR);
      });
    });

    it('Q3: with EnableGrp1A clear (GICD_CTLR 0x10) an enabled SPI is still delivered and acked', () => {
      const m = v3();
      expect(read(m, d(0x0))).to.deep.equal(okValue(0x10));
      writeOk(m, d(0x104), 4, 0x1);
      inject(m, 0, 32);
      expect(lrView(m, 0)).to.deep.equal([[32, 'pending']]);
      enter(m, 0);
      pmr(m, 0, 0xff);
      expect(ack(m, 0)).to.equal(32);
    });
  });

  describe('0x0004-0x0007 GICD_TYPER', () => {
    it('5.2: 4 vCPUs and 64 SPIs read 0x480062 (IDbits 9, CPUNumber 3, ITLinesNumber 2)', () => {
      expect(read(v3({ vcpus: 4, nr_spis: 64 }), d(0x4))).to.deep.equal(okValue(0x480062));
    });
    it('5.2: CPUNumber is capped at 8 vCPUs: 20 vCPUs / 960 SPIs -> 0x4800fe; 2 vCPUs / 32 SPIs -> 0x480021', () => {
      expect(read(v3({ vcpus: 20, nr_spis: 960 }), d(0x4))).to.deep.equal(okValue(0x4800fe));
      expect(read(v3(), d(0x4))).to.deep.equal(okValue(0x480021));
    });
    it('5.1: a 32-bit write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0x4), 4, 0)).to.deep.equal(OK));
      expect(read(m, d(0x4))).to.deep.equal(okValue(0x480021));
    });
    it('5.1: byte/halfword accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, d(0x4), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, d(0x6), 2)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0x7), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x0008-0x000B GICD_IIDR', () => {
    it('Q30: reads 0x34c', () => {
      expect(read(v3(), d(0x8))).to.deep.equal(okValue(0x34c));
    });
    it('5.1: a 32-bit write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0x8), 4, 0xffffffff)).to.deep.equal(OK));
      expect(read(m, d(0x8))).to.deep.equal(okValue(0x34c));
    });
    it('5.1: byte accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, d(0x8), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0x8), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  const DEBUG_ROWS: [string, number, number][] = [
    ['0x000C-0x000F reserved', 0x000c, 0x000f],
    ['0x0014-0x001F reserved', 0x0014, 0x001f],
    ['0x0020-0x003F implementation defined', 0x0020, 0x003f],
    ['0x0044-0x0047 reserved', 0x0044, 0x0047],
    ['0x004C-0x004F reserved', 0x004c, 0x004f],
    ['0x0054-0x0057 reserved', 0x0054, 0x0057],
    ['0x005C-0x007F reserved', 0x005c, 0x007f],
    ['0x0F30-0x0FFF reserved', 0x0f30, 0x0fff],
    ['0x3700-0x60FF reserved (IROUTER0-31 included)', 0x3700, 0x60ff],
    ['0xA004-0xBFFF reserved', 0xa004, 0xbfff],
    ['0xC000-0xFFCF implementation defined', 0xc000, 0xffcf],
    ['0xFFD0-0xFFE7 ID registers', 0xffd0, 0xffe7],
    ['0xFFEC-0xFFFF ID registers', 0xffec, 0xffff],
  ];
  for (const [name, start, end] of DEBUG_ROWS) describe(name, () => razWiAnyWidth('5.1', d, start, end, 'debug'));

  for (const [name, off] of [['GICD_SETSPI_NSR', 0x40], ['GICD_CLRSPI_NSR', 0x48], ['GICD_SETSPI_SR', 0x50], ['GICD_CLRSPI_SR', 0x58]] as [string, number][]) {
    describe(`0x${off.toString(16).padStart(4, '0').toUpperCase()} ${name}`, () => {
      razWiAnyWidth('Q31/5.1', d, off, off + 3, 'debug');
      it('Q31: writing an SPI INTID is ignored: message-based SPIs do not exist, nothing is injected', () => {
        const m = v3();
        writeOk(m, d(0x104), 4, 0xffffffff);
        unchanged(m, () => {
          expect(write(m, d(off), 4, 32)).to.deep.equal(okLog('debug'));
          expect(write(m, d(off), 4, 33)).to.deep.equal(okLog('debug'));
        });
        expect(inflight(m, 0)).to.deep.equal([]);
      });
    });
  }

  const ERR_ROWS: [string, number, number][] = [
    ['0x07FC-0x0BFF (GICv2 ITARGETSR space): default', 0x07fc, 0x0bff],
    ['0x0D80-0x0DFF: default', 0x0d80, 0x0dff],
    ['0x0F04-0x0F0F: default', 0x0f04, 0x0f0f],
    ['0x1080-0x11FF (gap between eSPI families): default', 0x1080, 0x11ff],
    ['0x7FE0-0x7FFF: default', 0x7fe0, 0x7fff],
  ];
  for (const [name, start, end] of ERR_ROWS) describe(`${name} (ERR log + RAZ/WI)`, () => razWiAnyWidth('Q32/5.1', d, start, end, 'err'));

  it('Q32: GICD 0x7FC reads 0 with an ERR log (unknown offset is RAZ/WI on v3, not ABORT)', () => {
    const m = v3();
    expect(read(m, d(0x7fc))).to.deep.equal(okValue(0, ['err']));
    unchanged(m, () => expect(write(m, d(0x7fc), 4, 1)).to.deep.equal(okLog('err')));
  });

  it('5.1: the GICv2 ITARGETSR0 offset (0x800) reads 0 with an ERR log, not 0x01010101', () => {
    expect(read(v3(), d(0x800))).to.deep.equal(okValue(0, ['err']));
  });

  const WORD_ROWS: [string, number, number][] = [
    ['0x0010-0x0013 GICD_STATUSR', 0x0010, 0x0013],
    ['0x0080-0x00FF GICD_IGROUPRn', 0x0080, 0x00ff],
    ['0x0D00-0x0D7F GICD_IGRPMODRn', 0x0d00, 0x0d7f],
    ['0x0E00-0x0EFF GICD_NSACRn', 0x0e00, 0x0eff],
  ];
  for (const [name, start, end] of WORD_ROWS) describe(name, () => razWiWord('5.1', d, start, end));

  describe('0x0100-0x017F GICD_ISENABLERn', () => {
    it('5.1/4.2: a write ORs into rank(off/4).ienable and enables exactly the new bits; reads return ienable', () => {
      const m = v3();
      writeOk(m, d(0x104), 4, 0x1);
      writeOk(m, d(0x104), 4, 0x100);
      expect(read(m, d(0x104))).to.deep.equal(okValue(0x101));
      expect(status(m, 40)).to.deep.equal(['ENABLED']);
      expect(rank1(m).ienable).to.equal('0x101');
    });

    it('Q27: ISENABLER0 through the GICD acts on current\'s private rank (vCPU1 on pCPU1), not RAZ/WI', () => {
      const m = v3();
      run(m, 1, 1);
      writeOk(m, d(0x100), 4, 0x08000001, 1);
      expect(read(m, d(0x100), 4, 1)).to.deep.equal(okValue(0x08000001));
      expect(read(m, d(0x100), 4, 0)).to.deep.equal(okValue(0));
      expect(vsnap(m, 1).rank.ienable).to.equal('0x8000001');
      expect(status(m, 27, 1)).to.deep.equal(['ENABLED']);
      expect(read(m, sgi(1, 0x100))).to.deep.equal(okValue(0x08000001));
    });

    it('Q22: re-enabling an IRQ that is already in an LR changes nothing', () => {
      const m = v3();
      writeOk(m, d(0x104), 4, 0x1);
      inject(m, 0, 32);
      unchanged(m, () => writeOk(m, d(0x104), 4, 0x1));
    });

    it('5.1: byte, halfword and doubleword accesses abort (W only)', () => {
      const m = v3();
      unchanged(m, () => {
        expect(read(m, d(0x104), 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x104), 1, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x106), 2, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x100), 8, 1)).to.deep.equal(ABORT_ERR);
      });
    });

    it('1.5: absent rank: ISENABLER2 (0x108) reads 0 and ignores writes', () => {
      const m = v3();
      expect(read(m, d(0x108))).to.deep.equal(okValue(0));
      unchanged(m, () => expect(write(m, d(0x108), 4, 0xffffffff)).to.deep.equal(OK));
    });
  });

  describe('0x0180-0x01FF GICD_ICENABLERn', () => {
    it('5.1/4.2: reads ienable; a write clears and disables exactly the bits that were set', () => {
      const m = v3();
      writeOk(m, d(0x104), 4, 0x7);
      expect(read(m, d(0x184))).to.deep.equal(okValue(0x7));
      writeOk(m, d(0x184), 4, 0x80000005);
      expect(read(m, d(0x184))).to.deep.equal(okValue(0x2));
      expect(status(m, 32)).to.deep.equal([]);
      expect(status(m, 33)).to.deep.equal(['ENABLED']);
    });
    it('5.1: byte accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, d(0x184), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0x184), 1, 1)).to.deep.equal(ABORT_ERR);
    });
    it('1.5: absent rank: ICENABLER2 (0x188) reads 0 and ignores writes', () => {
      const m = v3();
      expect(read(m, d(0x188))).to.deep.equal(okValue(0));
      unchanged(m, () => expect(write(m, d(0x188), 4, 0xffffffff)).to.deep.equal(OK));
    });
  });

  describe('0x0200-0x027F GICD_ISPENDRn', () => {
    it('Q18: reads 0 at any width, even with IRQs pending', () => {
      const m = v3();
      inject(m, 0, 32);
      for (const [off, size] of [[0x204, 4], [0x204, 1], [0x206, 2], [0x200, 8]] as [number, Size][]) {
        expect(read(m, d(off), size)).to.deep.equal(okValue(0));
      }
    });
    it('3.15: a write to ISPENDR1 injects the SPIs to their rank target', () => {
      const m = v3();
      writeOk(m, d(0x204), 4, 0x80000001);
      expect(inflight(m, 0)).to.deep.equal([[32, 0], [63, 0]]);
    });
    it('Q21/Q27: ISPENDR0 through the GICD pends SGIs/PPIs on the accessing vCPU', () => {
      const m = v3();
      run(m, 1, 1);
      writeOk(m, d(0x200), 4, 0x00010002, 1);
      expect(inflight(m, 1)).to.deep.equal([[1, 0], [16, 0]]);
      expect(inflight(m, 0)).to.deep.equal([]);
    });
    it('5.1: byte writes abort (W only)', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0x204), 1, 1)).to.deep.equal(ABORT_ERR));
    });
    it('1.5: absent rank: an ISPENDR2 (0x208) write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0x208), 4, 0xffffffff)).to.deep.equal(OK));
    });
  });

  describe('0x0280-0x02FF GICD_ICPENDRn', () => {
    it('Q18: reads 0 at any width', () => {
      const m = v3();
      inject(m, 0, 32);
      expect(read(m, d(0x284))).to.deep.equal(okValue(0));
      expect(read(m, d(0x287), 1)).to.deep.equal(okValue(0));
    });
    it('Q19: a write only warns for the inflight IRQs and changes nothing', () => {
      const m = v3();
      inject(m, 0, 32);
      unchanged(m, () => {
        expect(write(m, d(0x284), 4, 0x3)).to.deep.equal(okLog('warn'));
        expect(write(m, d(0x284), 4, 0x2)).to.deep.equal(OK);
      });
    });
    it('5.1: byte writes abort (W only)', () => {
      expect(write(v3(), d(0x284), 1, 1)).to.deep.equal(ABORT_ERR);
    });
    it('1.5: absent rank: an ICPENDR2 (0x288) write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0x288), 4, 0xffffffff)).to.deep.equal(OK));
    });
  });

  describe('0x0300-0x037F GICD_ISACTIVERn', () => {
    it('Q18: reads 0 at any width', () => {
      const m = v3();
      expect(read(m, d(0x300))).to.deep.equal(okValue(0));
      expect(read(m, d(0x301), 1)).to.deep.equal(okValue(0));
      expect(read(m, d(0x378), 8)).to.deep.equal(okValue(0));
    });
    it('Q20/D9: every 32-bit write aborts with an ERR log, 0 included (unlike v2)', () => {
      const m = v3();
      unchanged(m, () => {
        expect(write(m, d(0x300), 4, 0)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x304), 4, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x37c), 4, 0)).to.deep.equal(ABORT_ERR);
      });
    });
    it('5.1: byte writes abort on the width', () => {
      expect(write(v3(), d(0x300), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x0380-0x03FF GICD_ICACTIVERn', () => {
    it('Q18: reads 0 at any width', () => {
      const m = v3();
      expect(read(m, d(0x380))).to.deep.equal(okValue(0));
      expect(read(m, d(0x382), 2)).to.deep.equal(okValue(0));
    });
    it('Q20: a 32-bit write is logged at ERR and ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0x384), 4, 0xffffffff)).to.deep.equal(okLog('err')));
    });
    it('5.1: a byte write is logged, then aborts on the width', () => {
      expect(write(v3(), d(0x384), 1, 1)).to.deep.equal({ outcome: 'abort', log: ['err', 'err'] });
    });
  });

  describe('0x0400-0x07FB GICD_IPRIORITYRn', () => {
    it('Q24: word and byte writes store all 8 bits; a byte write changes only that IRQ', () => {
      const m = v3();
      writeOk(m, d(0x420), 4, 0x44332211);
      writeOk(m, d(0x421), 1, 0x07);
      expect(read(m, d(0x420))).to.deep.equal(okValue(0x44330711));
      expect(read(m, d(0x423), 1)).to.deep.equal(okValue(0x44));
      expect(rank1(m).priority.slice(0, 4)).to.deep.equal([0x11, 0x07, 0x33, 0x44]);
    });
    it('Q27: IPRIORITYR0-7 through the GICD are current\'s private priorities', () => {
      const m = v3();
      run(m, 1, 1);
      writeOk(m, d(0x41b), 1, 0x90, 1);
      expect(vsnap(m, 1).rank.priority[27]).to.equal(0x90);
      expect(vsnap(m, 0).rank.priority[27]).to.equal(0);
      expect(read(m, sgi(1, 0x418))).to.deep.equal(okValue(0x90000000));
    });
    it('5.1: halfword and doubleword accesses abort (B/W only)', () => {
      const m = v3();
      unchanged(m, () => {
        expect(read(m, d(0x420), 2)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x420), 2, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(0x420), 8, 1)).to.deep.equal(ABORT_ERR);
      });
    });
    it('1.5: absent rank: IPRIORITYR16 (0x440) reads 0 and ignores word and byte writes', () => {
      const m = v3();
      unchanged(m, () => {
        expect(write(m, d(0x440), 4, 0xffffffff)).to.deep.equal(OK);
        expect(write(m, d(0x443), 1, 0xff)).to.deep.equal(OK);
      });
      expect(read(m, d(0x440))).to.deep.equal(okValue(0));
    });
  });

  describe('0x0C00-0x0CFF GICD_ICFGRn', () => {
    it('Q23: ICFGR0 (SGIs) reads 0 and a 32-bit write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0xc00), 4, 0xffffffff)).to.deep.equal(OK));
      expect(read(m, d(0xc00))).to.deep.equal(okValue(0));
    });
    it('Q23: ICFGR1 (current\'s PPIs) is writable on v3 and stored as written', () => {
      const m = v3();
      writeOk(m, d(0xc04), 4, 0xaaaa5555);
      expect(read(m, d(0xc04))).to.deep.equal(okValue(0xaaaa5555));
      expect(vsnap(m, 0).rank.icfg).to.deep.equal(['0x0', '0xaaaa5555']);
      expect(vsnap(m, 1).rank.icfg).to.deep.equal(['0x0', '0x0']);
    });
    it('Q4: ICFGR2/3 (SPIs) are stored as written', () => {
      const m = v3();
      writeOk(m, d(0xc08), 4, 0xffffffff);
      writeOk(m, d(0xc0c), 4, 0x1);
      expect(read(m, d(0xc08))).to.deep.equal(okValue(0xffffffff));
      expect(rank1(m).icfg).to.deep.equal(['0xffffffff', '0x1']);
    });
    it('5.1: byte/halfword accesses abort (W only), ICFGR0 included', () => {
      const m = v3();
      expect(read(m, d(0xc04), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0xc00), 1, 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0xc0a), 2, 1)).to.deep.equal(ABORT_ERR);
    });
    it('1.5: absent rank: ICFGR4 (0xC10) reads 0 and ignores writes', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0xc10), 4, 0xffffffff)).to.deep.equal(OK));
      expect(read(m, d(0xc10))).to.deep.equal(okValue(0));
    });
  });

  describe('0x0F00-0x0F03 GICD_SGIR', () => {
    it('Q28: reads 0 (not 0xdeadbeef as on v2)', () => {
      expect(read(v3(), d(0xf00))).to.deep.equal(okValue(0));
    });
    it('Q28: a 32-bit write is ignored: no SGI is generated, whatever the filter', () => {
      const m = v3();
      writeOk(m, d(0x100), 4, 0xffff);
      unchanged(m, () => {
        expect(write(m, d(0xf00), 4, 0x02000005)).to.deep.equal(OK);
        expect(write(m, d(0xf00), 4, 0x01000001)).to.deep.equal(OK);
        expect(write(m, d(0xf00), 4, 0x00030002)).to.deep.equal(OK);
        expect(write(m, d(0xf00), 4, 0x03000003)).to.deep.equal(OK);
      });
    });
    it('5.1: byte accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, d(0xf00), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0xf00), 1, 5)).to.deep.equal(ABORT_ERR);
    });
  });

  for (const [name, base] of [['GICD_CPENDSGIRn', 0xf10], ['GICD_SPENDSGIRn', 0xf20]] as [string, number][]) {
    describe(`0x0${base.toString(16).toUpperCase()}-0x0${(base + 0xf).toString(16).toUpperCase()} ${name}`, () => {
      it('5.1: 32-bit reads are 0', () => {
        const m = v3();
        expect(read(m, d(base))).to.deep.equal(okValue(0));
        expect(read(m, d(base + 0xc))).to.deep.equal(okValue(0));
      });
      it('5.1: a 32-bit write aborts without a log (any value)', () => {
        const m = v3();
        unchanged(m, () => {
          expect(write(m, d(base), 4, 0x1)).to.deep.equal(ABORT);
          expect(write(m, d(base + 4), 4, 0)).to.deep.equal(ABORT);
        });
      });
      it('5.1: byte reads and writes abort on the width (ERR log)', () => {
        const m = v3();
        expect(read(m, d(base), 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(base), 1, 1)).to.deep.equal(ABORT_ERR);
      });
    });
  }

  describe('0x1000-0x36FF eSPI register families (no eSPI configured, appendix B)', () => {
    const W_FAMILIES: [string, number][] = [
      ['GICD_IGROUPRnE', 0x1000], ['GICD_ISENABLERnE', 0x1200], ['GICD_ICENABLERnE', 0x1400],
      ['GICD_ICFGRnE', 0x3000], ['GICD_IGRPMODRnE', 0x3400], ['GICD_NSACRnE', 0x3600],
    ];
    for (const [name, base] of W_FAMILIES) {
      it(`B: ${name} (0x${base.toString(16)}): 32-bit RAZ/WI without a log; byte accesses abort`, () => {
        const m = v3();
        expect(read(m, d(base))).to.deep.equal(okValue(0));
        unchanged(m, () => expect(write(m, d(base + 4), 4, 0xffffffff)).to.deep.equal(OK));
        expect(read(m, d(base), 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, d(base), 1, 1)).to.deep.equal(ABORT_ERR);
      });
    }
    for (const [name, base] of [['GICD_ISPENDRnE', 0x1600], ['GICD_ICPENDRnE', 0x1800]] as [string, number][]) {
      it(`B: ${name} (0x${base.toString(16)}): reads 0 at any width; 32-bit writes ignored; byte writes abort`, () => {
        const m = v3();
        expect(read(m, d(base + 1), 1)).to.deep.equal(okValue(0));
        unchanged(m, () => expect(write(m, d(base), 4, 0xffffffff)).to.deep.equal(OK));
        expect(write(m, d(base), 1, 1)).to.deep.equal(ABORT_ERR);
      });
    }
    it('B: GICD_ISACTIVERnE (0x1a00): a 32-bit write is ignored (no abort without eSPIs); reads 0', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0x1a00), 4, 0xffffffff)).to.deep.equal(OK));
      expect(read(m, d(0x1a00), 2)).to.deep.equal(okValue(0));
      expect(write(m, d(0x1a00), 1, 1)).to.deep.equal(ABORT_ERR);
    });
    it('B: GICD_ICACTIVERnE (0x1c00): a 32-bit write still ERR-logs and is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0x1c00), 4, 1)).to.deep.equal(okLog('err')));
      expect(read(m, d(0x1c00))).to.deep.equal(okValue(0));
    });
    it('B: GICD_IPRIORITYRnE (0x2000-0x23ff): byte and word RAZ/WI; halfword aborts', () => {
      const m = v3();
      expect(read(m, d(0x2001), 1)).to.deep.equal(okValue(0));
      unchanged(m, () => {
        expect(write(m, d(0x23fc), 4, 0xffffffff)).to.deep.equal(OK);
        expect(write(m, d(0x2000), 1, 0xff)).to.deep.equal(OK);
      });
      expect(read(m, d(0x2000), 2)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x8000-0xA003 GICD_IROUTERnE (no eSPI configured)', () => {
    it('B: 32/64-bit reads are 0 and writes are ignored; byte and halfword accesses abort', () => {
      const m = v3();
      expect(read(m, d(0x8000), 8)).to.deep.equal(okValue(0));
      expect(read(m, d(0xa000), 4)).to.deep.equal(okValue(0));
      unchanged(m, () => expect(write(m, d(0x8008), 8, 1)).to.deep.equal(OK));
      expect(read(m, d(0x8000), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0x8000), 2, 1)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0xFFE8-0xFFEB GICD_PIDR2', () => {
    it('Q30: reads 0x30 (ArchRev 3)', () => {
      expect(read(v3(), d(0xffe8))).to.deep.equal(okValue(0x30));
    });
    it('5.1: a 32-bit write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, d(0xffe8), 4, 0)).to.deep.equal(OK));
    });
    it('5.1: byte accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, d(0xffe8), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(0xffe8), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });
});

// ---------------------------------------------------------------------------------------
// 5.3 IROUTER

describe('vGICv3 GICD_IROUTER<n> (5.3, Q26, appendix D 8)', () => {
  const IROUTER = (n: number): number => 0x6000 + 8 * n;

  it('5.3: reset targets read as vCPU0: 64-bit and both 32-bit halves read 0', () => {
    const m = v3();
    expect(read(m, d(IROUTER(32)), 8)).to.deep.equal(okValue(0));
    expect(read(m, d(IROUTER(32)), 4)).to.deep.equal(okValue(0));
    expect(read(m, d(IROUTER(32) + 4), 4)).to.deep.equal(okValue(0));
  });

  it('5.3: a 64-bit write of Aff0 = 1 routes SPI 32 to vCPU1 and reads back 0x1', () => {
    const m = v3();
    writeOk(m, d(IROUTER(32)), 8, 0x1);
    expect(read(m, d(IROUTER(32)), 8)).to.deep.equal(okValue(0x1));
    expect(rank1(m).vcpu[0]).to.equal(1);
    inject(m, 0, 32);
    expect(inflight(m, 1)).to.deep.equal([[32, 0]]);
  });

  it('Q26/D8: IRM = 1 routes to vCPU0 and IRM reads back 0', () => {
    const m = v3();
    writeOk(m, d(IROUTER(33)), 8, 0x1);
    writeOk(m, d(IROUTER(33)), 8, 0x80000001);
    expect(rank1(m).vcpu[1]).to.equal(0);
    expect(read(m, d(IROUTER(33)), 8)).to.deep.equal(okValue(0));
    writeOk(m, d(IROUTER(34)), 4, 0x80000000);
    expect(read(m, d(IROUTER(34)), 4)).to.deep.equal(okValue(0));
  });

  it('Q26/D8: Aff0 = 0x13, Aff1 = 1 targets vCPU 0x13 (Aff0 OR Aff1 << 4, not 0x23) and reads back Aff1 1 / Aff0 3', () => {
    const m = v3({ vcpus: 40 });
    writeOk(m, d(IROUTER(35)), 8, 0x113);
    expect(rank1(m).vcpu[3]).to.equal(0x13);
    expect(read(m, d(IROUTER(35)), 8)).to.deep.equal(okValue(0x103));
  });

  it('Q26: Aff2 (bits 23:16) and Aff3 (bits 39:32) are ignored: 0xff00ff0001 targets vCPU1', () => {
    const m = v3();
    writeOk(m, d(IROUTER(36)), 8, 0xff00ff0001n);
    expect(rank1(m).vcpu[4]).to.equal(1);
    expect(read(m, d(IROUTER(36)), 8)).to.deep.equal(okValue(0x1));
  });

  it('Q26: a target id beyond the vCPUs (Aff0 = 5 of 2) is dropped silently', () => {
    const m = v3();
    writeOk(m, d(IROUTER(37)), 8, 0x1);
    unchanged(m, () => {
      expect(write(m, d(IROUTER(37)), 8, 0x5)).to.deep.equal(OK);
      expect(write(m, d(IROUTER(37)), 8, 0x100)).to.deep.equal(OK);
    });
    expect(rank1(m).vcpu[5]).to.equal(1);
  });

  it('1.5: 32-bit halves merge with the current image: a write at +4 (Aff3) keeps the target', () => {
    const m = v3();
    writeOk(m, d(IROUTER(38)), 4, 0x1);
    expect(rank1(m).vcpu[6]).to.equal(1);
    unchanged(m, () => writeOk(m, d(IROUTER(38) + 4), 4, 0xff));
    expect(read(m, d(IROUTER(38) + 4), 4)).to.deep.equal(okValue(0));
    expect(read(m, d(IROUTER(38)), 4)).to.deep.equal(okValue(0x1));
  });

  it('5.3: byte and halfword accesses abort with an ERR log', () => {
    const m = v3();
    unchanged(m, () => {
      expect(read(m, d(IROUTER(32)), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, d(IROUTER(32)), 2)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(IROUTER(32)), 1, 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, d(IROUTER(32) + 2), 2, 1)).to.deep.equal(ABORT_ERR);
    });
  });

  it('1.5: absent rank: IROUTER64 (0x6200) and IROUTER1019 read 0 and ignore writes', () => {
    const m = v3();
    expect(read(m, d(IROUTER(64)), 8)).to.deep.equal(okValue(0));
    expect(read(m, d(IROUTER(1019)), 8)).to.deep.equal(okValue(0));
    unchanged(m, () => {
      expect(write(m, d(IROUTER(64)), 8, 1)).to.deep.equal(OK);
      expect(write(m, d(IROUTER(1019)), 4, 1)).to.deep.equal(OK);
    });
  });

  it('5.3: IROUTER0-31 (0x6000-0x60FF) are reserved: RAZ/WI at any width with a debug log, no width check', () => {
    const m = v3();
    unchanged(m, () => {
      expect(write(m, d(IROUTER(27)), 8, 1)).to.deep.equal(okLog('debug'));
      expect(write(m, d(IROUTER(0)), 1, 1)).to.deep.equal(okLog('debug'));
    });
    expect(read(m, d(IROUTER(31)), 8)).to.deep.equal(okValue(0, ['debug']));
    expect(read(m, d(IROUTER(31) + 2), 2)).to.deep.equal(okValue(0, ['debug']));
  });
});

// ---------------------------------------------------------------------------------------
// 5.4 / 5.5 redistributor RD_base

describe('vGICv3 redistributor RD_base page: table 5.5, row by row', () => {
  describe('0x0000-0x0003 GICR_CTLR (no ITS)', () => razWiWord('5.5', (o) => rd(0, o), 0x0, 0x3));
  describe('0x0010-0x0013 GICR_STATUSR', () => razWiWord('5.5', (o) => rd(1, o), 0x10, 0x13));
  describe('0x0014-0x0017 GICR_WAKER', () => razWiWord('5.5', (o) => rd(1, o), 0x14, 0x17));

  describe('0x0004-0x0007 GICR_IIDR', () => {
    it('Q30: reads 0x34c in every frame', () => {
      const m = v3();
      expect(read(m, rd(0, 0x4))).to.deep.equal(okValue(0x34c));
      expect(read(m, rd(1, 0x4))).to.deep.equal(okValue(0x34c));
    });
    it('5.5: a 32-bit write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, rd(0, 0x4), 4, 0)).to.deep.equal(OK));
    });
    it('5.5: byte accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, rd(0, 0x4), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, rd(0, 0x4), 2, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x0008-0x000F GICR_TYPER', () => {
    it('5.6: vCPU 17 of 18 reads 0x10100001110 (64-bit); 32-bit reads at +0 and +4 give the halves', () => {
      const m = v3({ vcpus: 18 });
      expect(read(m, rd(17, 0x8), 8)).to.deep.equal(okValue(0x10100001110n));
      expect(read(m, rd(17, 0x8), 4)).to.deep.equal(okValue(0x1110));
      expect(read(m, rd(17, 0xc), 4)).to.deep.equal(okValue(0x101));
    });
    it('5.6: vCPU0 of 2 reads 0; vCPU1 of 2 (the last) reads 0x100000110', () => {
      const m = v3();
      expect(read(m, rd(0, 0x8), 8)).to.deep.equal(okValue(0));
      expect(read(m, rd(1, 0x8), 8)).to.deep.equal(okValue(0x100000110n));
    });
    it('5.4: the frame owner, not current, is described: vCPU0 reading vCPU16\'s frame sees Aff1 1, Proc 16', () => {
      const m = v3({ vcpus: 18 });
      expect(read(m, rd(16, 0x8), 8)).to.deep.equal(okValue(0x10000001000n));
    });
    it('5.5: 32- and 64-bit writes are ignored', () => {
      const m = v3();
      unchanged(m, () => {
        expect(write(m, rd(1, 0x8), 8, 0xffffffffffffffffn)).to.deep.equal(OK);
        expect(write(m, rd(1, 0xc), 4, 0)).to.deep.equal(OK);
      });
    });
    it('5.5: byte and halfword accesses abort', () => {
      const m = v3();
      expect(read(m, rd(1, 0x8), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, rd(1, 0xa), 2)).to.deep.equal(ABORT_ERR);
      expect(write(m, rd(1, 0x8), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  for (const off of [0x18, 0x20, 0x50, 0x80, 0xa8, 0xb8, 0xc8, 0x108]) {
    describe(`exactly 0x${off.toString(16).padStart(4, '0')} (reserved / implementation defined)`, () => {
      it('5.5: reads are 0 with a debug log at any width', () => {
        const m = v3();
        expect(read(m, rd(0, off))).to.deep.equal(okValue(0, ['debug']));
        expect(read(m, rd(0, off), 1)).to.deep.equal(okValue(0, ['debug']));
        expect(read(m, rd(0, off), 8)).to.deep.equal(okValue(0, ['debug']));
      });
      it('5.5: writes are ignored with a debug log at any width', () => {
        const m = v3();
        unchanged(m, () => {
          expect(write(m, rd(0, off), 4, 0xffffffff)).to.deep.equal(okLog('debug'));
          expect(write(m, rd(0, off), 2, 0xffff)).to.deep.equal(okLog('debug'));
        });
      });
      it('5.5: the next byte (0x' + (off + 1).toString(16) + ') is not that row: ERR log + RAZ/WI', () => {
        const m = v3();
        expect(read(m, rd(0, off + 1), 1)).to.deep.equal(okValue(0, ['err']));
        unchanged(m, () => expect(write(m, rd(0, off + 1), 1, 1)).to.deep.equal(okLog('err')));
      });
    });
  }

  const RD_DEBUG_ROWS: [string, number, number][] = [
    ['0x0100-0x0107 implementation defined', 0x100, 0x107],
    ['0x0110-0x0117 implementation defined', 0x110, 0x117],
    ['0x0118-0xBFFC reserved', 0x118, 0xbffc],
    ['0xC000-0xFFCC implementation defined', 0xc000, 0xffcc],
    ['0xFFD0-0xFFE4 ID registers', 0xffd0, 0xffe4],
    ['0xFFEC-0xFFFC ID registers', 0xffec, 0xfffc],
  ];
  for (const [name, start, end] of RD_DEBUG_ROWS) describe(name, () => razWiAnyWidth('5.5', (o) => rd(1, o), start, end, 'debug'));

  const RD_ERR_ROWS: [string, number, number][] = [
    ['0x0024-0x003F: default', 0x24, 0x3f],
    ['0x0058-0x006F: default', 0x58, 0x6f],
  ];
  for (const [name, start, end] of RD_ERR_ROWS) describe(`${name} (ERR log + RAZ/WI)`, () => razWiAnyWidth('Q32/5.5', (o) => rd(0, o), start, end, 'err'));

  it('Q32: RD 0x19 (byte), 0x1C and 0x24 are unknown offsets: ERR log + RAZ/WI', () => {
    const m = v3();
    expect(read(m, rd(0, 0x19), 1)).to.deep.equal(okValue(0, ['err']));
    expect(read(m, rd(0, 0x1c))).to.deep.equal(okValue(0, ['err']));
    expect(read(m, rd(0, 0x24))).to.deep.equal(okValue(0, ['err']));
    unchanged(m, () => {
      expect(write(m, rd(0, 0x19), 1, 1)).to.deep.equal(okLog('err'));
      expect(write(m, rd(0, 0x24), 4, 1)).to.deep.equal(okLog('err'));
    });
  });

  it('Q32: RD 0xBFFD-0xBFFF and 0xFFCD are unknown offsets (byte): ERR log + RAZ/WI', () => {
    const m = v3();
    expect(read(m, rd(0, 0xbffd), 1)).to.deep.equal(okValue(0, ['err']));
    expect(read(m, rd(0, 0xbfff), 1)).to.deep.equal(okValue(0, ['err']));
    expect(read(m, rd(0, 0xffcd), 1)).to.deep.equal(okValue(0, ['err']));
  });

  for (const [name, off] of [['GICR_SETLPIR', 0x40], ['GICR_CLRLPIR', 0x48], ['GICR_INVLPIR', 0xa0], ['GICR_INVALLR', 0xb0]] as [string, number][]) {
    describe(`0x${off.toString(16).padStart(4, '0')} ${name}`, () => {
      it('Q29: reads 0xdeadbeafdeadbeaf shifted to the byte lane and masked to the width, at any width', () => {
        const m = v3();
        expect(read(m, rd(0, off), 8)).to.deep.equal(okValue(0xdeadbeafdeadbeafn));
        expect(read(m, rd(0, off), 4)).to.deep.equal(okValue(0xdeadbeaf));
        expect(read(m, rd(0, off + 4), 4)).to.deep.equal(okValue(0xdeadbeaf));
        expect(read(m, rd(0, off), 2)).to.deep.equal(okValue(0xbeaf));
        expect(read(m, rd(0, off + 6), 2)).to.deep.equal(okValue(0xdead));
        expect(read(m, rd(0, off + 1), 1)).to.deep.equal(okValue(0xbe));
        expect(read(m, rd(0, off + 7), 1)).to.deep.equal(okValue(0xde));
      });
      it('5.5: 32- and 64-bit writes are ignored (no LPI injection)', () => {
        const m = v3();
        unchanged(m, () => {
          expect(write(m, rd(0, off), 8, 8192)).to.deep.equal(OK);
          expect(write(m, rd(0, off + 4), 4, 1)).to.deep.equal(OK);
        });
      });
      it('5.5: byte and halfword writes abort', () => {
        const m = v3();
        expect(write(m, rd(0, off), 1, 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, rd(0, off + 2), 2, 1)).to.deep.equal(ABORT_ERR);
      });
    });
  }

  for (const [name, off] of [['GICR_PROPBASER', 0x70], ['GICR_PENDBASER', 0x78]] as [string, number][]) {
    describe(`0x${off.toString(16).padStart(4, '0')} ${name} (no ITS)`, () => {
      it('5.5: 32/64-bit reads are 0', () => {
        const m = v3();
        expect(read(m, rd(0, off), 8)).to.deep.equal(okValue(0));
        expect(read(m, rd(0, off + 4), 4)).to.deep.equal(okValue(0));
      });
      it('5.5: 32/64-bit writes are ignored', () => {
        const m = v3();
        unchanged(m, () => expect(write(m, rd(0, off), 8, 0x12345678abcdn)).to.deep.equal(OK));
        expect(read(m, rd(0, off), 8)).to.deep.equal(okValue(0));
      });
      it('5.5: byte and halfword accesses abort', () => {
        const m = v3();
        expect(read(m, rd(0, off), 1)).to.deep.equal(ABORT_ERR);
        expect(write(m, rd(0, off), 2, 1)).to.deep.equal(ABORT_ERR);
      });
    });
  }

  describe('0x00C0-0x00C3 GICR_SYNCR', () => {
    it('Q29: reads 1', () => {
      expect(read(v3(), rd(1, 0xc0))).to.deep.equal(okValue(1));
    });
    it('5.5: a 32-bit write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, rd(1, 0xc0), 4, 0)).to.deep.equal(OK));
      expect(read(m, rd(1, 0xc0))).to.deep.equal(okValue(1));
    });
    it('5.5: byte and doubleword accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, rd(1, 0xc0), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, rd(1, 0xc0), 8)).to.deep.equal(ABORT_ERR);
      expect(write(m, rd(1, 0xc0), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0xFFE8-0xFFEB GICR_PIDR2', () => {
    it('Q30: reads 0x30', () => {
      expect(read(v3(), rd(1, 0xffe8))).to.deep.equal(okValue(0x30));
    });
    it('5.5: a 32-bit write is ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, rd(1, 0xffe8), 4, 0)).to.deep.equal(OK));
    });
    it('5.5: byte accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, rd(1, 0xffe8), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, rd(1, 0xffe9), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });
});

describe('vGICv3: sweeps over whole frames (Q20, Q32)', () => {
  it('Q32/5.1: 32-bit reads over the 64 KiB GICD never abort (unknown offsets are RAZ)', () => {
    const m = v3();
    const aborts: number[] = [];
    for (let off = 0; off < 0x10000; off += 4) if (read(m, d(off)).outcome === 'abort') aborts.push(off);
    expect(aborts).to.deep.equal([]);
  });

  it('Q20/Q32/5.1: 32-bit writes of 0 over the GICD abort only at ISACTIVERn and C/SPENDSGIRn', () => {
    const m = v3();
    const aborts: number[] = [];
    for (let off = 0; off < 0x10000; off += 4) if (write(m, d(off), 4, 0).outcome === 'abort') aborts.push(off);
    const expected: number[] = [];
    for (let off = 0x300; off < 0x380; off += 4) expected.push(off);
    for (let off = 0xf10; off < 0xf30; off += 4) expected.push(off);
    expect(aborts).to.deep.equal(expected);
  });

  it('Q20/Q32/5.5/5.8: over vCPU1\'s 128 KiB frame, 32-bit reads never abort and writes of 0 abort only at GICR_ISACTIVER0', () => {
    const m = v3();
    const readAborts: number[] = [];
    const writeAborts: number[] = [];
    for (let off = 0; off < 0x20000; off += 4) {
      if (read(m, rd(1, off)).outcome === 'abort') readAborts.push(off);
      if (write(m, rd(1, off), 4, 0).outcome === 'abort') writeAborts.push(off);
    }
    expect(readAborts).to.deep.equal([]);
    expect(writeAborts).to.deep.equal([0x10300]);
  });
});

describe('vGICv3 redistributor dispatch (5.4, Q32)', () => {
  it('Q32: a frame beyond the last vCPU aborts, read and write, RD and SGI page, without a log', () => {
    const m = v3();
    unchanged(m, () => {
      expect(read(m, rd(2, 0x4))).to.deep.equal(ABORT);
      expect(write(m, rd(2, 0x4), 4, 0)).to.deep.equal(ABORT);
      expect(read(m, sgi(2, 0x100))).to.deep.equal(ABORT);
      expect(write(m, sgi(2, 0x100), 4, 1)).to.deep.equal(ABORT);
      expect(read(m, rd(127, 0xffe8))).to.deep.equal(ABORT);
      expect(read(m, sgi(127, 0xfffc), 4)).to.deep.equal(ABORT);
    });
  });

  it('5.4: with 128 vCPUs the last frame of the region (vCPU 127) exists and is marked Last', () => {
    const m = v3({ vcpus: 128 });
    expect(read(m, rd(127, 0x8), 8)).to.deep.equal(okValue(0x70f00007f10n));
  });

  it('trace-format §3.3: addresses past the redistributor region or between GICD and GICR are trace errors', () => {
    const m = v3();
    expect(stepError(m, { op: 'mmio', pcpu: 0, access: 'read', addr: '0x4020000', size: 4 })).to.match(/outside/);
    expect(stepError(m, { op: 'mmio', pcpu: 0, access: 'read', addr: '0x3011000', size: 4 })).to.match(/outside/);
  });
});

// ---------------------------------------------------------------------------------------
// 5.8 SGI_base

describe('vGICv3 redistributor SGI_base page: table 5.8, row by row', () => {
  describe('0x0080-0x0083 GICR_IGROUPR0', () => razWiWord('5.8', (o) => sgi(1, o), 0x80, 0x83));
  describe('0x0D00-0x0D03 GICR_IGRPMODR0', () => razWiWord('5.8', (o) => sgi(1, o), 0xd00, 0xd03));
  describe('0x0E00-0x0E03 GICR_NSACR', () => razWiWord('5.8', (o) => sgi(1, o), 0xe00, 0xe03));

  describe('0x0100-0x0103 GICR_ISENABLER0', () => {
    it('5.8: acts on the frame owner\'s rank 0 even when current is another vCPU', () => {
      const m = v3();
      writeOk(m, sgi(1, 0x100), 4, 0x80000001);
      expect(vsnap(m, 1).rank.ienable).to.equal('0x80000001');
      expect(vsnap(m, 0).rank.ienable).to.equal('0x0');
      expect(read(m, sgi(1, 0x100))).to.deep.equal(okValue(0x80000001));
      expect(read(m, sgi(0, 0x100))).to.deep.equal(okValue(0));
      expect(status(m, 31, 1)).to.deep.equal(['ENABLED']);
    });
    it('5.8: byte accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, sgi(1, 0x100), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, sgi(1, 0x100), 1, 1)).to.deep.equal(ABORT_ERR);
    });
    it('5.8: there is no rank 1 here: ISENABLER1\'s offset (0x104) is an unknown offset (ERR log, RAZ/WI)', () => {
      const m = v3();
      expect(read(m, sgi(1, 0x104))).to.deep.equal(okValue(0, ['err']));
      unchanged(m, () => expect(write(m, sgi(1, 0x104), 4, 0xffffffff)).to.deep.equal(okLog('err')));
    });
  });

  describe('0x0180-0x0183 GICR_ICENABLER0', () => {
    it('5.8: reads the owner\'s ienable; a write disables on the owner', () => {
      const m = v3();
      writeOk(m, sgi(1, 0x100), 4, 0x3);
      expect(read(m, sgi(1, 0x180))).to.deep.equal(okValue(0x3));
      writeOk(m, sgi(1, 0x180), 4, 0x1);
      expect(vsnap(m, 1).rank.ienable).to.equal('0x2');
      expect(status(m, 0, 1)).to.deep.equal([]);
    });
    it('5.8: halfword accesses abort (W only)', () => {
      expect(write(v3(), sgi(1, 0x180), 2, 1)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x0200-0x0203 GICR_ISPENDR0', () => {
    it('Q18: reads 0 at any width', () => {
      const m = v3();
      inject(m, 0, 27, 1);
      expect(read(m, sgi(1, 0x200))).to.deep.equal(okValue(0));
      expect(read(m, sgi(1, 0x203), 1)).to.deep.equal(okValue(0));
      expect(read(m, sgi(1, 0x200), 8)).to.deep.equal(okValue(0));
    });
    it('Q21: a write injects SGIs/PPIs into the frame OWNER (vCPU1) while current is vCPU0', () => {
      const m = v3();
      writeOk(m, sgi(1, 0x200), 4, 0x80000001);
      expect(inflight(m, 1)).to.deep.equal([[0, 0], [31, 0]]);
      expect(inflight(m, 0)).to.deep.equal([]);
      expect(status(m, 0, 1)).to.deep.equal(['QUEUED']);
    });
    it('Q21: an enabled PPI pended through vCPU1\'s frame from vCPU0 waits on vCPU1\'s lr_pending (not current)', () => {
      const m = v3();
      writeOk(m, sgi(1, 0x100), 4, 0x08000000);
      writeOk(m, sgi(1, 0x200), 4, 0x08000000);
      expect(lrPending(m, 1)).to.deep.equal([27]);
      expect(lrView(m, 0)).to.deep.equal([]);
    });
    it('5.8: byte writes abort (W only)', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, sgi(1, 0x200), 1, 1)).to.deep.equal(ABORT_ERR));
    });
  });

  describe('0x0280-0x0283 GICR_ICPENDR0', () => {
    it('Q18: reads 0 at any width', () => {
      const m = v3();
      expect(read(m, sgi(1, 0x280), 2)).to.deep.equal(okValue(0));
    });
    it('Q19: a write only warns for the owner\'s inflight IRQs', () => {
      const m = v3();
      inject(m, 0, 27, 1);
      unchanged(m, () => {
        expect(write(m, sgi(1, 0x280), 4, 0x08000000)).to.deep.equal(okLog('warn'));
        expect(write(m, sgi(0, 0x280), 4, 0x08000000)).to.deep.equal(OK);
      });
    });
    it('5.8: byte writes abort (W only)', () => {
      expect(write(v3(), sgi(1, 0x280), 1, 1)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x0300-0x0303 GICR_ISACTIVER0', () => {
    it('Q18: reads 0 at any width', () => {
      const m = v3();
      expect(read(m, sgi(0, 0x300))).to.deep.equal(okValue(0));
      expect(read(m, sgi(0, 0x302), 2)).to.deep.equal(okValue(0));
    });
    it('Q20/D9: every 32-bit write aborts with an ERR log, 0 included', () => {
      const m = v3();
      unchanged(m, () => {
        expect(write(m, sgi(0, 0x300), 4, 0)).to.deep.equal(ABORT_ERR);
        expect(write(m, sgi(1, 0x300), 4, 0x1)).to.deep.equal(ABORT_ERR);
      });
    });
    it('5.8: byte writes abort on the width', () => {
      expect(write(v3(), sgi(0, 0x300), 1, 0)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x0380-0x0383 GICR_ICACTIVER0', () => {
    it('Q18: reads 0', () => {
      expect(read(v3(), sgi(0, 0x380))).to.deep.equal(okValue(0));
    });
    it('Q20: a 32-bit write is ERR-logged and ignored', () => {
      const m = v3();
      unchanged(m, () => expect(write(m, sgi(0, 0x380), 4, 1)).to.deep.equal(okLog('err')));
    });
    it('5.8: a byte write is logged, then aborts on the width', () => {
      expect(write(v3(), sgi(0, 0x380), 1, 1)).to.deep.equal({ outcome: 'abort', log: ['err', 'err'] });
    });
  });

  describe('0x0400-0x041F GICR_IPRIORITYR0-7', () => {
    it('Q24: byte and word writes store the owner\'s rank-0 priorities (all 8 bits)', () => {
      const m = v3();
      writeOk(m, sgi(1, 0x418), 4, 0x04030201);
      writeOk(m, sgi(1, 0x41b), 1, 0xa7);
      expect(read(m, sgi(1, 0x418))).to.deep.equal(okValue(0xa7030201));
      expect(read(m, sgi(1, 0x419), 1)).to.deep.equal(okValue(0x02));
      expect(vsnap(m, 1).rank.priority.slice(24, 28)).to.deep.equal([1, 2, 3, 0xa7]);
      expect(read(m, sgi(0, 0x418))).to.deep.equal(okValue(0));
      expect(read(m, d(0x418))).to.deep.equal(okValue(0));
    });
    it('5.8: halfword accesses abort (B/W only)', () => {
      const m = v3();
      expect(read(m, sgi(1, 0x400), 2)).to.deep.equal(ABORT_ERR);
      expect(write(m, sgi(1, 0x400), 2, 1)).to.deep.equal(ABORT_ERR);
    });
    it('5.8: IPRIORITYR8 (0x420) is not decoded on the SGI page: ERR log + RAZ/WI', () => {
      const m = v3();
      expect(read(m, sgi(1, 0x420))).to.deep.equal(okValue(0, ['err']));
      unchanged(m, () => expect(write(m, sgi(1, 0x420), 1, 0xff)).to.deep.equal(okLog('err')));
    });
  });

  describe('0x0C00-0x0C03 GICR_ICFGR0', () => {
    it('Q23: reads the owner\'s icfg[0], always 0', () => {
      expect(read(v3(), sgi(1, 0xc00))).to.deep.equal(okValue(0));
    });
    it('Q23: a write is not decoded: ERR log, ignored, at any width (no width check)', () => {
      const m = v3();
      unchanged(m, () => {
        expect(write(m, sgi(1, 0xc00), 4, 0xffffffff)).to.deep.equal(okLog('err'));
        expect(write(m, sgi(1, 0xc01), 1, 0xff)).to.deep.equal(okLog('err'));
        expect(write(m, sgi(1, 0xc02), 2, 0xffff)).to.deep.equal(okLog('err'));
        expect(write(m, sgi(1, 0xc00), 8, 0xffffffffffffffffn)).to.deep.equal(okLog('err'));
      });
      expect(read(m, sgi(1, 0xc00))).to.deep.equal(okValue(0));
    });
    it('5.8: byte and doubleword reads abort (W only)', () => {
      const m = v3();
      expect(read(m, sgi(1, 0xc00), 1)).to.deep.equal(ABORT_ERR);
      expect(read(m, sgi(1, 0xc00), 8)).to.deep.equal(ABORT_ERR);
    });
  });

  describe('0x0C04-0x0C07 GICR_ICFGR1', () => {
    it('Q23: writable: the owner\'s icfg[1] stores the value and reads it back', () => {
      const m = v3();
      writeOk(m, sgi(1, 0xc04), 4, 0xaaaaaaaa);
      expect(read(m, sgi(1, 0xc04))).to.deep.equal(okValue(0xaaaaaaaa));
      expect(vsnap(m, 1).rank.icfg).to.deep.equal(['0x0', '0xaaaaaaaa']);
      expect(read(m, sgi(0, 0xc04))).to.deep.equal(okValue(0));
    });
    it('5.8: byte accesses abort (W only)', () => {
      const m = v3();
      expect(read(m, sgi(1, 0xc04), 1)).to.deep.equal(ABORT_ERR);
      expect(write(m, sgi(1, 0xc04), 1, 2)).to.deep.equal(ABORT_ERR);
    });
    it('5.8: ICFGR2\'s offset (0xC08) is not decoded on the SGI page: ERR log + RAZ/WI', () => {
      const m = v3();
      expect(read(m, sgi(1, 0xc08))).to.deep.equal(okValue(0, ['err']));
    });
  });

  const SGI_RESERVED: [string, number, number][] = [
    ['0x0E04-0xBFFC reserved', 0x0e04, 0xbffc],
    ['0xC000-0xFFCC implementation defined', 0xc000, 0xffcc],
    ['0xFFD0-0xFFFC reserved', 0xffd0, 0xfffc],
  ];
  for (const [name, start, end] of SGI_RESERVED) {
    describe(name, () => {
      it('5.8: reads are 0 with a debug log at any width', () => {
        const m = v3();
        expect(read(m, sgi(1, start))).to.deep.equal(okValue(0, ['debug']));
        expect(read(m, sgi(1, end), 1)).to.deep.equal(okValue(0, ['debug']));
        expect(read(m, sgi(1, (end - 1) & ~1), 2)).to.deep.equal(okValue(0, ['debug']));
        expect(read(m, sgi(1, dwordIn(start, end)!), 8)).to.deep.equal(okValue(0, ['debug']));
      });
      it('5.8: writes of any width are ERR-logged and ignored', () => {
        const m = v3();
        unchanged(m, () => {
          expect(write(m, sgi(1, start), 4, 0xffffffff)).to.deep.equal(okLog('err'));
          expect(write(m, sgi(1, end), 1, 1)).to.deep.equal(okLog('err'));
          expect(write(m, sgi(1, dwordIn(start, end)!), 8, 1)).to.deep.equal(okLog('err'));
        });
      });
    });
  }

  it('Q32/5.8: other SGI_base offsets (0x0000, 0x0084, 0x0D04, 0xFFFD) are ERR log + RAZ/WI at any width', () => {
    const m = v3();
    for (const off of [0x0, 0x84, 0xd04]) {
      expect(read(m, sgi(0, off))).to.deep.equal(okValue(0, ['err']));
      unchanged(m, () => expect(write(m, sgi(0, off), 4, 1)).to.deep.equal(okLog('err')));
    }
    expect(read(m, sgi(0, 0xfffd), 1)).to.deep.equal(okValue(0, ['err']));
    expect(read(m, sgi(0, 0x88), 8)).to.deep.equal(okValue(0, ['err']));
  });
});

// ---------------------------------------------------------------------------------------
// 5.9 system registers

describe('vGICv3 ICC_SGI1R_EL1 and the other SGI system registers (5.9, Q28)', () => {
  const sgiOf = (m: Machine, v: number): number[] => inflight(m, v).map(([irq]) => irq);
  const receivers = (m: Machine, n: number, intid: number): number[] =>
    Array.from({ length: n }, (_, v) => v).filter((v) => sgiOf(m, v).includes(intid));

  it('5.9: TARGET_LIST uses Aff1 and the 16-bit list: Aff1 1, list 0b1010, INTID 5 -> vCPUs 17 and 19', () => {
    const m = v3({ vcpus: 20 });
    expect(sysreg(m, 'ICC_SGI1R_EL1', 'write', (5n << 24n) | (1n << 16n) | 0xan)).to.deep.equal(OK);
    expect(receivers(m, 20, 5)).to.deep.equal([17, 19]);
    expect(inflight(m, 17)).to.deep.equal([[5, 0]]);
  });

  it('Q28: Aff2 (39:32), RS (47:44) and Aff3 (55:48) are ignored: the SGI lands on the same Aff1/Aff0 vCPUs', () => {
    const m = v3({ vcpus: 20 });
    const x = (7n << 48n) | (2n << 44n) | (3n << 32n) | (6n << 24n) | (1n << 16n) | 0xan;
    expect(sysreg(m, 'ICC_SGI1R_EL1', 'write', x)).to.deep.equal(OK);
    expect(receivers(m, 20, 6)).to.deep.equal([17, 19]);
  });

  it('5.9: Aff1 0 and list bits 0-15 address vCPUs 0-15; INTID is bits 27:24 only', () => {
    const m = v3({ vcpus: 20 });
    expect(sysreg(m, 'ICC_SGI1R_EL1', 'write', (0xfn << 24n) | 0x8001n)).to.deep.equal(OK);
    expect(receivers(m, 20, 15)).to.deep.equal([0, 15]);
  });

  it('3.19: list bits naming vCPUs that do not exist are skipped with a warning; the write still succeeds', () => {
    const m = v3({ vcpus: 20 });
    expect(sysreg(m, 'ICC_SGI1R_EL1', 'write', (2n << 24n) | (1n << 16n) | 0x8010n)).to.deep.equal(okLog('warn', 'warn'));
    expect(receivers(m, 20, 2)).to.deep.equal([]);
  });

  it('5.9: IRM = 1 sends to every other online vCPU (offline vCPU3 and the sender vCPU0 excluded)', () => {
    const m = v3({ vcpus: 5 });
    step(m, { op: 'vcpu_off', domain: 1, vcpu: 3 });
    expect(sysreg(m, 'ICC_SGI1R_EL1', 'write', (1n << 40n) | (9n << 24n) | 0xffffn)).to.deep.equal(OK);
    expect(receivers(m, 5, 9)).to.deep.equal([1, 2, 4]);
  });

  it('3.19: an enabled SGI sent to a running vCPU on another pCPU waits in its lr_pending; to itself it takes an LR', () => {
    const m = v3();
    run(m, 1, 1);
    writeOk(m, sgi(1, 0x100), 4, 0x2);
    writeOk(m, sgi(0, 0x100), 4, 0x2);
    expect(sysreg(m, 'ICC_SGI1R_EL1', 'write', (1n << 24n) | 0x3n)).to.deep.equal(OK);
    expect(lrPending(m, 1)).to.deep.equal([1]);
    expect(lrView(m, 0)).to.deep.equal([[1, 'pending']]);
  });

  it('5.9: an ICC_SGI1R_EL1 read is UNDEFINED and changes nothing', () => {
    const m = v3();
    unchanged(m, () => expect(sysreg(m, 'ICC_SGI1R_EL1', 'read').outcome).to.equal('undef'));
  });

  // vgic_v3_emulate_sgi1r reports the read at WARNING level (debug builds).
  it('5.9: an ICC_SGI1R_EL1 read logs one WARNING (gdprintk(XENLOG_WARNING), debug builds)', () => {
    const m = v3();
    expect(sysreg(m, 'ICC_SGI1R_EL1', 'read')).to.deep.equal({ outcome: 'undef', log: ['warn'] });
  });

  for (const reg of ['ICC_ASGI1R_EL1', 'ICC_SGI0R_EL1']) {
    it(`Q28: ${reg} reads and writes are UNDEFINED and generate nothing`, () => {
      const m = v3();
      unchanged(m, () => {
        expect(sysreg(m, reg, 'write', (1n << 24n) | 0x3n)).to.deep.equal({ outcome: 'undef', log: [] });
        expect(sysreg(m, reg, 'read')).to.deep.equal({ outcome: 'undef', log: [] });
      });
    });
  }
});

// ---------------------------------------------------------------------------------------
// Appendix D and Q34

describe('vGICv3: appendix D scenarios 8 and 9', () => {
  it('D8: IROUTER with IRM = 1 -> vCPU0 and reads back 0; Aff0 = 0x13, Aff1 = 1 -> vCPU 0x13', () => {
    const m = v3({ vcpus: 24 });
    writeOk(m, d(0x6000 + 8 * 40), 8, 0x80000005);
    expect(rank1(m).vcpu[8]).to.equal(0);
    expect(read(m, d(0x6000 + 8 * 40), 8)).to.deep.equal(okValue(0));
    writeOk(m, d(0x6000 + 8 * 40), 8, 0x113);
    expect(rank1(m).vcpu[8]).to.equal(0x13);
  });

  it('D9: a GICD ISACTIVER write of 0 aborts on v3 (and so does GICR ISACTIVER0)', () => {
    const m = v3();
    expect(write(m, d(0x300), 4, 0)).to.deep.equal(ABORT_ERR);
    expect(write(m, sgi(0, 0x300), 4, 0)).to.deep.equal(ABORT_ERR);
  });
});

describe('vGICv3: Q34 retargeting an inflight virtual SPI through IROUTER', () => {
  const IROUTER40 = d(0x6000 + 8 * 40);

  it('Q34/3.17 step 2: the new target is stored but the record stays on the old vCPU\'s inflight list and LR', () => {
    const m = v3();
    writeOk(m, d(0x104), 4, 0x100);
    inject(m, 0, 40);
    expect(lrView(m, 0)).to.deep.equal([[40, 'pending']]);
    writeOk(m, IROUTER40, 8, 0x1);
    expect(rank1(m).vcpu[8]).to.equal(1);
    expect(inflight(m, 0)).to.deep.equal([[40, 0]]);
    expect(inflight(m, 1)).to.deep.equal([]);
    expect(lrView(m, 0)).to.deep.equal([[40, 'pending']]);
    expect(status(m, 40)).to.deep.equal(['VISIBLE', 'ENABLED']);
  });

  it('Q34: enabling a retargeted SPI that is still on vCPU0\'s inflight list puts it in vCPU1\'s LR', () => {
    const m = v3();
    inject(m, 0, 40); // disabled: vCPU0's inflight only
    writeOk(m, IROUTER40, 8, 0x1);
    run(m, 1, 1);
    writeOk(m, d(0x104), 4, 0x100, 1);
    expect(lrView(m, 1)).to.deep.equal([[40, 'pending']]);
    expect(inflight(m, 1)).to.deep.equal([]);
    expect(inflight(m, 0)).to.deep.equal([[40, 0]]);
  });

  it('Q34/3.3: a re-assertion while the new target is current examines LR p->lr of the new target (SGI 0 of vCPU1 drained)', () => {
    const m = v3();
    writeOk(m, d(0x104), 4, 0x100);
    inject(m, 0, 40); // vCPU0's LR0, p->lr = 0
    writeOk(m, IROUTER40, 8, 0x1);
    run(m, 1, 1);
    writeOk(m, sgi(1, 0x100), 4, 0x1, 1); // SGI 0 of vCPU1 enabled, so its record is listed
    expect(irqsnap(m, 0, 1)).to.deep.equal({ irq: 0, vcpu: 1, status: ['ENABLED'], priority: 0, lr: 0 });
    expect(inject(m, 1, 40).outcome).to.equal('ok');
    // gic_update_one_lr(vCPU1, 0) read vCPU1's empty LR0 (vINTID 0) and retired SGI 0's record.
    expect(irqsnap(m, 0, 1)).to.deep.equal({ irq: 0, vcpu: 1, status: ['ENABLED'], priority: 0, lr: 255 });
    expect(status(m, 40)).to.deep.equal(['QUEUED', 'VISIBLE', 'ENABLED']);
    expect(inflight(m, 0)).to.deep.equal([[40, 0]]);
    expect(lrView(m, 1)).to.deep.equal([]);
  });

  /**
   * SPI 40 (priority 0xa0) is asserted on vCPU0 while disabled, retargeted to vCPU1, then
   * enabled from vCPU1 (so it enters vCPU1's LR0 while linked on vCPU0's inflight list). With
   * 1 LR and PPI 27 of vCPU1 waiting, the guest acks and EOIs SPI 40 after a re-assertion;
   * the drain re-raises it behind 27 on vCPU1's lr_pending with p->lr = 255.
   */
  function crossLists(): Machine {
    const m = v3({ nr_lrs: 1 });
    writeOk(m, d(0x428), 1, 0xa0);
    inject(m, 0, 40);
    writeOk(m, IROUTER40, 8, 0x1);
    run(m, 1, 1);
    writeOk(m, d(0x104), 4, 0x100, 1);
    writeOk(m, sgi(1, 0x41b), 1, 0x80, 1);
    writeOk(m, sgi(1, 0x100), 4, 0x08000000, 1);
    inject(m, 1, 27, 1); // no free LR: vCPU1's lr_pending
    expect(lrPending(m, 1)).to.deep.equal([27]);
    enter(m, 1);
    pmr(m, 1, 0xff);
    expect(ack(m, 1)).to.equal(40);
    inject(m, 0, 40); // target vCPU1 is not current on pCPU0: QUEUED only
    eoi(m, 1, 40);
    exit(m, 1); // LR0 drains with QUEUED + ENABLED: gic_raise_guest_irq(vCPU1) queues it
    return m;
  }

  // Reference §7 says Q34 does not break the structural invariants when lists are tracked
  // per vCPU; Xen's vgic_enable_irqs raises on the rank target (vgic.c: gic_raise_guest_irq
  // (v_target, ...)) and gic_update_one_lr re-raises on the vCPU whose LR drained, so the
  // record ends up on vCPU1's lr_pending while linked on vCPU0's inflight list.
  it('Q34/§7: after a retarget, the record can sit on vCPU1\'s lr_pending while linked on vCPU0\'s inflight list (I1 per vCPU fails)', () => {
    const m = crossLists();
    expect(lrPending(m, 1)).to.deep.equal([27, 40]);
    expect(inflight(m, 1)).to.deep.equal([[27, 0]]);
    expect(inflight(m, 0)).to.deep.equal([[40, 255]]);
    expect(status(m, 40)).to.deep.equal(['QUEUED', 'ENABLED']);
  });

  it('Q34/3.3 note: with p->lr = 255 and the new target current, the re-assertion is a crash (LR index outside the LR file)', () => {
    const m = crossLists();
    // PSCI CPU_ON of vCPU1 empties vCPU1's lists; SPI 40 stays on vCPU0's inflight list.
    idle(m, 1);
    step(m, { op: 'vcpu_off', domain: 1, vcpu: 1 });
    step(m, { op: 'vcpu_on', domain: 1, vcpu: 1 });
    expect(inflight(m, 0)).to.deep.equal([[40, 255]]);
    expect(lrPending(m, 1)).to.deep.equal([]);
    run(m, 1, 1);
    const r = inject(m, 1, 40);
    expect(r.outcome).to.equal('crash');
    expect(r.reason).to.match(/LR index 255 is outside the LR file/);
  });
});
