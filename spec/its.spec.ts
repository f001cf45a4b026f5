/**
 * The virtual ITS (src/xen/vgic-v3-its.ts), function by function, each test naming the
 * section of appendix C it checks: registers (§C.3, §C.4), tables in guest RAM (§C.5), the
 * queue (§C.6), every command and its failure cases (§C.7), and the crash cases.
 */
import { expect } from 'chai';
import {
  GITS_BASER0_RESET, GITS_BASER1_RESET, GITS_CBASER_RESET, devTableEntry, devTableIttSize, getBaserPhysAddr, getVcpuFromCollection,
  itsBaserNrEntries, itsBaserTableSize, itsCmdBufferSize, itsCmdOffset, itsGetItteAddress, readItte, sanitizeItsBaseReg,
} from '../src/xen/vgic-v3-its.js';
import { GIC_IRQ_GUEST_ENABLED, GIC_IRQ_GUEST_QUEUED, listEmpty, statusNames, testBit } from '../src/xen/types.js';
import {
  LAYOUT as L, cmd, dom, domSnap, drive, gits, memWrite, mmioRead, mmioWrite, readyMachine, setProperty, traceError, vits, hex,
  type Queue,
} from './its-helpers.js';
import type { Machine } from '../src/machine/machine.js';

const V = 1n << 63n;

function read(m: Machine, addr: number, size: 1 | 2 | 4 | 8 = 8): string | undefined {
  const r = drive(m, mmioRead(0, addr, size));
  return r.outcome === 'ok' ? r.value : r.outcome;
}

function memRead(m: Machine, addr: number, size: 1 | 2 | 4 | 8 = 8): string | undefined {
  return drive(m, { op: 'mem_read', domain: L.domain, addr: hex(addr), size }).value;
}

/** MAPD device 0 (32 events), collections 0 -> vCPU 0 and 1 -> vCPU 1. */
function basicMap(m: Machine, q: Queue): void {
  drive(m, q.run(cmd.mapd(0, 4, L.itt), cmd.mapc(0, 0), cmd.mapc(1, 1)));
}

function tree(m: Machine): number[] {
  return [...dom(m).pendLpiTree.keys()].sort((a, b) => a - b);
}

describe('vgic-v3-its: registers (§C.3, §C.4)', () => {
  it('§C.2 vgic_v3_its_init_virtual: reset values of CBASER, BASER0, BASER1; disabled, empty queue', () => {
    const { m } = readyMachine({ enable: false });
    expect(GITS_CBASER_RESET).to.equal(0x3800000000000400n);
    expect(GITS_BASER0_RESET).to.equal(0x3907000000000400n);
    expect(GITS_BASER1_RESET).to.equal(0x3c01000000000400n);
    const fresh = readyMachine({ lpis: false, enable: false });
    void fresh;
    expect(vits(m).doorbellAddress).to.equal(L.itsBase + 0x10040);
  });

  it('§C.3 GITS_IIDR, GITS_PIDR2 and GITS_TYPER (Physical, 8-byte ITTE, ID widths, PTA 0; upper half by a word read)', () => {
    const { m } = readyMachine({ devid_bits: 12, evid_bits: 10 });
    expect(read(m, gits(0x4), 4)).to.equal('0x5800034c');
    expect(read(m, gits(0xffe8), 4)).to.equal('0x30');
    expect(read(m, gits(0x8), 8)).to.equal(hex(1 | (7 << 4) | (9 << 8) | (11 << 13)));
    expect(read(m, gits(0xc), 4)).to.equal('0x0');
  });

  it('§C.3 access widths: byte reads of 32-bit registers, 64-bit and upper-half writes of GITS_TYPER, 0x10-0x17 abort; reserved and IMPDEF ranges take any width', () => {
    const { m } = readyMachine();
    expect(drive(m, mmioRead(0, gits(0x0), 1)).outcome).to.equal('abort');
    expect(drive(m, mmioWrite(0, gits(0x8), 8, 0)).outcome).to.equal('abort');
    expect(drive(m, mmioWrite(0, gits(0x8), 4, 0)).outcome).to.equal('ok');
    expect(drive(m, mmioWrite(0, gits(0xc), 4, 0)).outcome).to.equal('abort');
    expect(drive(m, mmioRead(0, gits(0x10), 4)).outcome).to.equal('abort');
    expect(drive(m, mmioWrite(0, gits(0x14), 4, 0)).outcome).to.equal('abort');
    expect(read(m, gits(0x18), 1)).to.equal('0x0');
    expect(read(m, gits(0x120), 8)).to.equal('0x0');
    expect(drive(m, mmioRead(0, gits(0x120), 2)).outcome).to.equal('abort');
    expect(read(m, gits(0xc004), 2)).to.equal('0x0');
    expect(drive(m, mmioRead(0, gits(0x80), 2)).outcome).to.equal('abort');
  });

  it('§C.0 the translation frame (GITS_TRANSLATER at +0x10040) is not emulated: abort', () => {
    const { m } = readyMachine();
    expect(drive(m, mmioWrite(0, L.itsBase + 0x10040, 4, 0)).outcome).to.equal('abort');
    expect(drive(m, mmioRead(0, L.itsBase + 0x1fffc, 4)).outcome).to.equal('abort');
  });

  it('§C.3 GITS_CTLR (vgic_v3_verify_its_status): enabling needs all three tables valid; disabling always works', () => {
    const { m } = readyMachine({ enable: false });
    drive(m, mmioWrite(0, gits(0x108), 8, L.collTable));
    drive(m, mmioWrite(0, gits(0x0), 4, 1));
    expect(vits(m).enabled).to.equal(false);
    drive(m, mmioWrite(0, gits(0x108), 8, V | BigInt(L.collTable)));
    drive(m, mmioWrite(0, gits(0x0), 4, 1));
    expect(read(m, gits(0x0), 4)).to.equal('0x80000001');
    drive(m, mmioWrite(0, gits(0x0), 4, 0));
    expect(read(m, gits(0x0), 4)).to.equal('0x80000000');
  });

  it('§C.3 CBASER: ignored while enabled; otherwise sanitised, CREADR reset, CWRITER kept', () => {
    const { m } = readyMachine();
    drive(m, mmioWrite(0, gits(0x80), 8, 0));
    expect(vits(m).cbaser).to.equal(0x9800000040000000n);
    drive(m, mmioWrite(0, gits(0x0), 4, 0), mmioWrite(0, gits(0x88), 8, 0x60));
    vits(m).creadr = 0x20;
    // OuterShareable (2 at 11:10) -> InnerShareable; inner nC (1 at 61:59) -> RaWb; outer RaWt (2 at 55:53) -> nC.
    drive(m, mmioWrite(0, gits(0x80), 8, V | (1n << 59n) | (2n << 53n) | (2n << 10n) | BigInt(L.queue)));
    expect(vits(m).cbaser).to.equal(V | (3n << 59n) | (1n << 53n) | (1n << 10n) | BigInt(L.queue));
    expect(vits(m).creadr).to.equal(0);
    expect(vits(m).cwriter).to.equal(0x60);
  });

  it('§C.4 BASER0/BASER1 writes: type, entry size and indirect forced; limits from the geometry; ignored while enabled', () => {
    const { m } = readyMachine({ enable: false, devid_bits: 6 });
    drive(m, mmioWrite(0, gits(0x100), 8, V | GITS_BASER_INDIRECT_FOR_TEST | (7n << 56n) | (0x1fn << 48n) | BigInt(L.devTable) | 1n));
    expect(vits(m).baserDev).to.equal(V | (1n << 56n) | (7n << 48n) | (3n << 59n) | BigInt(L.devTable) | 1n);
    expect(vits(m).maxDevices).to.equal(64); // 8 KiB / 8 = 1024, capped at 2^6
    drive(m, mmioWrite(0, gits(0x108), 8, V | (1n << 8n) | BigInt(L.collTable)));
    expect(vits(m).maxCollections).to.equal(8192); // one 16 KiB page / 2
    drive(m, mmioWrite(0, gits(0x108), 8, BigInt(L.collTable)));
    expect(vits(m).maxCollections).to.equal(0);
    drive(m, mmioWrite(0, gits(0x108), 8, V | BigInt(L.collTable)), mmioWrite(0, gits(0x0), 4, 1));
    drive(m, mmioWrite(0, gits(0x100), 8, 0));
    expect(vits(m).maxDevices).to.equal(64);
  });

  it('§C.4 its_baser_table_size / nr_entries and get_baser_phys_addr (64 KiB pages carry bits 51:48 in 15:12)', () => {
    expect(itsBaserTableSize(0n)).to.equal(0x1000);
    expect(itsBaserTableSize((1n << 8n) | 3n)).to.equal(0x4000 * 4);
    expect(itsBaserTableSize(3n << 8n)).to.equal(0x10000);
    expect(itsBaserNrEntries(GITS_BASER0_RESET)).to.equal(512);
    expect(itsBaserNrEntries(GITS_BASER1_RESET)).to.equal(2048);
    expect(getBaserPhysAddr(0x12345000n)).to.equal(0x12345000);
    expect(getBaserPhysAddr((2n << 8n) | 0x12340000n | 0xa000n)).to.equal(0xa000012340000);
  });

  it('§C.3 sanitize_its_base_reg keeps SameAsInner/nC outer and cacheable inner attributes', () => {
    const r = (7n << 59n) | (1n << 53n) | (1n << 10n);
    expect(sanitizeItsBaseReg(r)).to.equal(r);
    expect(sanitizeItsBaseReg(0n)).to.equal(3n << 59n);
  });
});

const GITS_BASER_INDIRECT_FOR_TEST = 1n << 62n;

describe('vgic-v3-its: the queue (§C.6, vgic_its_handle_cmds)', () => {
  it('ITS_CMD_OFFSET keeps bits 19:5 and ITS_CMD_BUFFER_SIZE is (Size + 1) pages', () => {
    expect(itsCmdOffset(0x1234567n)).to.equal(0x34560);
    expect(itsCmdBufferSize(0xffn)).to.equal(0x100000);
  });

  it('a CWRITER write while disabled is stored and runs nothing; enabling runs nothing either', () => {
    const { m, q } = readyMachine({ enable: false });
    drive(m, q.run(cmd.mapd(0, 4, L.itt)));
    expect([vits(m).cwriter, vits(m).creadr]).to.deep.equal([0x20, 0]);
    drive(m, mmioWrite(0, gits(0x0), 4, 1));
    expect(vits(m).creadr).to.equal(0);
    expect(dom(m).itsDevices.size).to.equal(0);
    drive(m, q.kick());
    expect(vits(m).creadr).to.equal(0x20);
    expect(dom(m).itsDevices.size).to.equal(1);
  });

  it('a CWRITER at or past the queue size is stored (Quiescent 0) and nothing runs', () => {
    const { m } = readyMachine();
    drive(m, mmioWrite(0, gits(0x88), 8, 0x1000));
    expect(read(m, gits(0x88))).to.equal('0x1000');
    expect(read(m, gits(0x0), 4)).to.equal('0x1');
    expect(vits(m).creadr).to.equal(0);
  });

  it('a command that cannot be read stops the queue with CREADR on it; later commands wait', () => {
    const { m } = readyMachine({ enable: false });
    drive(m, mmioWrite(0, gits(0x80), 8, V | BigInt(L.ramBase + L.ramSize - 0x1000) | 1n), mmioWrite(0, gits(0x0), 4, 1));
    drive(m, mmioWrite(0, gits(0x88), 8, 0x1040));
    expect(vits(m).creadr).to.equal(0x1000);
    expect(read(m, gits(0x0), 4)).to.equal('0x1');
  });

  it('unknown opcodes, SYNC and MOVALL are skipped and CREADR wraps at the end of the queue', () => {
    const { m, q } = readyMachine();
    drive(m, q.run([0x20n, 0n, 0n, 0n], cmd.sync(), [0x0en, 0n, 0n, 0n]));
    expect(vits(m).creadr).to.equal(0x60);
    q.tail = 0xfe0;
    vits(m).creadr = 0xfe0;
    vits(m).cwriter = 0xfe0;
    drive(m, q.run(cmd.sync(), cmd.sync()));
    expect([vits(m).creadr, vits(m).cwriter]).to.deep.equal([0x20, 0x20]);
  });
});

describe('vgic-v3-its: tables in guest RAM (§C.5)', () => {
  it('its_set_collection / get_vcpu_from_collection: a zero-filled table maps every collection to vCPU 0; 0xffff and ids >= vcpus are unmapped', () => {
    const { m, q } = readyMachine();
    const its = vits(m);
    expect(getVcpuFromCollection(its, 7)?.id).to.equal(0);
    drive(m, q.run(cmd.mapc(7, 1)));
    expect(memRead(m, L.collTable + 14, 2)).to.equal('0x1');
    expect(getVcpuFromCollection(its, 7)?.id).to.equal(1);
    drive(m, memWrite(L.collTable + 14, 2, 5));
    expect(getVcpuFromCollection(its, 7)).to.equal(null);
    drive(m, q.run(cmd.mapc(7, 1, false)));
    expect(memRead(m, L.collTable + 14, 2)).to.equal('0xffff');
    expect(getVcpuFromCollection(its, 2048)).to.equal(null);
  });

  it('its_set_itt_address / its_get_itte_address / read_itte: DEV_TABLE_ENTRY format, capacity 2^(size + 1), the MAPD V=0 entry', () => {
    const { m, q } = readyMachine();
    basicMap(m, q);
    expect(memRead(m, L.devTable)).to.equal('0x40040004');
    expect(devTableIttSize(0x40040004n)).to.equal(32);
    expect(itsGetItteAddress(vits(m), 0, 31)).to.equal(L.itt + 31 * 8);
    expect(itsGetItteAddress(vits(m), 0, 32)).to.equal(null);
    expect(devTableEntry((1n << 64n) - 1n, 1)).to.equal(0xfffffffffff00n);
    drive(m, q.run(cmd.mapd(0, 0, 0, false)));
    expect(memRead(m, L.devTable)).to.equal('0xfffffffffff00');
    expect(readItte(vits(m), 0, 0)).to.equal(null);
  });
});

describe('vgic-v3-its: commands (§C.7)', () => {
  it('its_handle_mapc: ICID beyond the table and RDbase beyond the vCPUs (even with V=0) fail; the command still completes', () => {
    const { m, q } = readyMachine();
    drive(m, memWrite(L.collTable + 2, 2, 1));
    drive(m, q.run(cmd.mapc(1, 2, false), cmd.mapc(2048, 0)));
    expect(memRead(m, L.collTable + 2, 2)).to.equal('0x1');
    expect(vits(m).creadr).to.equal(0x40);
  });

  it('its_handle_mapd: size above evid_bits fails; exactly evid_bits fails in the host registry (EINVAL) with the entry unwritten', () => {
    const { m, q } = readyMachine({ evid_bits: 6 });
    drive(m, q.run(cmd.mapd(0, 6, L.itt), cmd.mapd(0, 5, L.itt)));
    expect(dom(m).itsDevices.size).to.equal(0);
    expect(memRead(m, L.devTable)).to.equal('0x0');
    drive(m, q.run(cmd.mapd(0, 4, L.itt)));
    expect(domSnap(m).its_devices).to.deep.equal([{ devid: 0, eventids: 32, vlpis: new Array(32).fill(0) }]);
  });

  it('its_handle_mapd: a DeviceID beyond the device table registers the host device but writes no entry (half applied)', () => {
    const { m, q } = readyMachine({ devid_bits: 10 });
    drive(m, q.run(cmd.mapd(600, 4, L.itt)));
    expect(domSnap(m).its_devices!.map((d) => d.devid)).to.deep.equal([600]);
    expect(vits(m).maxDevices).to.equal(512);
  });

  it('its_handle_mapd V=0 (its_unmap_device): discards every mapped event and removes the host device', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0xa0, true), setProperty(8200, 0xa0, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1), cmd.mapti(0, 31, 8200, 0), cmd.int(0, 0)));
    expect(tree(m)).to.deep.equal([8192, 8200]);
    expect(domSnap(m).vcpus[1]!.lr_pending).to.deep.equal([8192]);
    drive(m, q.run(cmd.mapd(0, 4, 0, false)));
    expect(tree(m)).to.deep.equal([]);
    expect(domSnap(m).vcpus[1]!.inflight).to.deep.equal([]);
    expect(domSnap(m).its_devices).to.deep.equal([]);
  });

  it('its_handle_mapd V=0 with a Size the host ITS cannot take keeps the host device (EINVAL before the lookup)', () => {
    const { m, q } = readyMachine({ evid_bits: 6 });
    drive(m, q.run(cmd.mapd(0, 4, L.itt), cmd.mapd(0, 7, 0, false)));
    expect(domSnap(m).its_devices!.map((d) => d.devid)).to.deep.equal([0]);
    expect(memRead(m, L.devTable)).to.equal('0xfffffffffff00');
    drive(m, q.run(cmd.mapd(0, 4, L.itt)));
    expect(memRead(m, L.devTable)).to.equal('0xfffffffffff00');
  });

  it('its_handle_mapti: refused before EnableLPIs (nr_lpis 0), above nr_lpis, for a live event, an unmapped collection, an event the host does not have', () => {
    const { m, q } = readyMachine({ lpis: false });
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 0)));
    expect(tree(m)).to.deep.equal([]);
    drive(m, mmioWrite(0, 0x3020070, 8, BigInt(L.propTable) | 14n), mmioWrite(0, 0x3020000, 4, 1));
    expect(dom(m).nrLpis).to.equal(24576);
    drive(m, q.run(cmd.mapti(0, 0, 24576, 0), cmd.mapti(0, 1, 24575, 0), cmd.mapti(0, 1, 8193, 0)));
    expect(tree(m)).to.deep.equal([24575]);
    drive(m, q.run(cmd.mapc(3, 0, false), cmd.mapti(0, 2, 8194, 3)));
    expect(tree(m)).to.deep.equal([24575]);
    // 64 events in the ITT, 64 on the host: event 63 maps; a 33-event... event 40 of a 32-event device fails at the host
    drive(m, q.run(cmd.mapd(1, 4, L.itt + 0x1000)));
    drive(m, memWrite(L.devTable + 8, 8, BigInt(L.itt + 0x1000) | 6n));
    drive(m, q.run(cmd.mapti(1, 40, 8300, 0)));
    expect(tree(m)).to.deep.equal([24575]);
    expect(memRead(m, L.itt + 0x1000 + 40 * 8)).to.equal('0xffff00000000');
  });

  it('its_handle_mapti: a property table outside RAM undoes the mapping (host entry and ITTE)', () => {
    const { m, q } = readyMachine({ lpis: false });
    drive(m, mmioWrite(0, 0x3020070, 8, 0x70000000n | 15n), mmioWrite(0, 0x3020000, 4, 1));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 0)));
    expect(tree(m)).to.deep.equal([]);
    expect(memRead(m, L.itt)).to.equal('0xffff00000000');
    expect(domSnap(m).its_devices![0]!.vlpis[0]).to.equal(0);
  });

  it('its_handle_mapti / MAPI: the record is fresh (PRISTINE, cached property, lpi_vcpu_id) and MAPI takes the EventID as vLPI', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x44, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1), cmd.mapi(0, 7, 0)));
    const p = dom(m).pendLpiTree.get(8192)!;
    expect([statusNames(p.status), p.lpiPriority, p.lpiVcpuId]).to.deep.equal([['ENABLED', 'PRISTINE_LPI'], 0x44, 1]);
    expect(tree(m)).to.deep.equal([7, 8192]);
  });

  it('its_handle_int: injects into lpi_vcpu_id, with the cached priority; a second INT while pending coalesces', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x60, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1), cmd.int(0, 0), cmd.int(0, 0)));
    const v1 = domSnap(m).vcpus[1]!;
    expect(v1.inflight).to.deep.equal([{ irq: 8192, lr: 0 }]);
    expect(v1.lr_pending).to.deep.equal([8192]);
    const p = dom(m).pendLpiTree.get(8192)!;
    expect(p.priority).to.equal(0x60);
    expect(p.assertions).to.equal(2);
  });

  it('its_handle_int: an event without a vLPI fails; the target vCPU offline drops the injection', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x60, true));
    basicMap(m, q);
    drive(m, q.run(cmd.int(0, 0)));
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1)), { op: 'vcpu_off', domain: 1, vcpu: 1 }, q.run(cmd.int(0, 0)));
    expect(domSnap(m).vcpus[1]!.inflight).to.deep.equal([]);
  });

  it('its_handle_clear: not in an LR -> off both lists; in an LR -> no effect', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x60, true), setProperty(8193, 0x60, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 0), cmd.int(0, 0), cmd.clear(0, 0)));
    const p = dom(m).pendLpiTree.get(8192)!;
    expect(statusNames(p.status)).to.deep.equal(['VISIBLE', 'ENABLED']);
    expect(listEmpty(p.inflight)).to.equal(false);
    drive(m, q.run(cmd.mapti(0, 1, 8193, 1), cmd.int(0, 1), cmd.clear(0, 1)));
    const p2 = dom(m).pendLpiTree.get(8193)!;
    expect(testBit(p2, GIC_IRQ_GUEST_QUEUED)).to.equal(false);
    expect(listEmpty(p2.inflight)).to.equal(true);
  });

  it('its_handle_inv / update_lpi_property / update_lpi_vgic_status: disabling pulls the LPI off lr_pending, it stays inflight', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x60, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1), cmd.int(0, 0)));
    drive(m, setProperty(8192, 0x70, false), q.run(cmd.inv(0, 0)));
    const p = dom(m).pendLpiTree.get(8192)!;
    expect(testBit(p, GIC_IRQ_GUEST_ENABLED)).to.equal(false);
    expect(p.lpiPriority).to.equal(0x70);
    expect(domSnap(m).vcpus[1]!.lr_pending).to.deep.equal([]);
    expect(domSnap(m).vcpus[1]!.inflight.map((x) => x.irq)).to.deep.equal([8192]);
  });

  it('its_handle_inv and its_handle_invall do nothing before any redistributor enabled LPIs', () => {
    const { m, q } = readyMachine({ lpis: false });
    basicMap(m, q);
    drive(m, q.run(cmd.inv(0, 0), cmd.invall(9)));
    expect(vits(m).creadr).to.equal(0xa0);
    expect(m.crashed).to.equal(null);
  });

  it('its_handle_invall: re-reads the property of every LPI whose lpi_vcpu_id is the collection\'s vCPU (more than one batch of 16)', () => {
    const { m, q } = readyMachine();
    basicMap(m, q);
    for (let ev = 0; ev < 20; ev++) drive(m, q.run(cmd.mapti(0, ev, 8192 + ev, ev % 2)));
    for (let ev = 0; ev < 20; ev++) drive(m, setProperty(8192 + ev, 0x20, true));
    drive(m, q.run(cmd.invall(1)));
    const enabled = [...dom(m).pendLpiTree.values()].filter((p) => testBit(p, GIC_IRQ_GUEST_ENABLED)).map((p) => p.irq - 8192);
    expect(enabled).to.deep.equal([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });

  it('its_handle_movi: retargets lpi_vcpu_id and the ITTE; a pending instance stays on the old vCPU', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x60, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1), cmd.int(0, 0), cmd.movi(0, 0, 0)));
    expect(dom(m).pendLpiTree.get(8192)!.lpiVcpuId).to.equal(0);
    expect(memRead(m, L.itt)).to.equal('0x2000');
    expect(domSnap(m).vcpus[1]!.lr_pending).to.deep.equal([8192]);
    drive(m, q.run(cmd.movi(0, 0, 2048)));
    expect(memRead(m, L.itt)).to.equal('0x2000');
  });

  it('its_handle_discard / its_discard_event: the LPI leaves tree, lists and host entry; the ITTE is cleared; DISCARD after MAPC V=0 fails', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x60, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1), cmd.int(0, 0), cmd.discard(0, 0)));
    expect(tree(m)).to.deep.equal([]);
    expect(domSnap(m).vcpus[1]!.inflight).to.deep.equal([]);
    expect(memRead(m, L.itt)).to.equal('0xffff00000000');
    drive(m, q.run(cmd.mapti(0, 1, 8193, 1), cmd.mapc(1, 1, false), cmd.discard(0, 1)));
    expect(tree(m)).to.deep.equal([8193]);
  });

  it('gic_update_one_lr with PRISTINE_LPI: DISCARD while in an LR then MAPTI of the same vLPI drops the old instance on the next exit', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x60, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 0), cmd.int(0, 0)));
    expect(domSnap(m).vcpus[0]!.lrs.map((l) => l.virq)).to.deep.equal([8192]);
    drive(m, q.run(cmd.discard(0, 0), cmd.mapti(0, 1, 8192, 0)));
    drive(m, { op: 'enter', pcpu: 0 }, { op: 'exit', pcpu: 0 });
    expect(domSnap(m).vcpus[0]!.lrs).to.deep.equal([]);
    expect(statusNames(dom(m).pendLpiTree.get(8192)!.status)).to.deep.equal(['ENABLED']);
  });
});

describe('vgic-v3-its: what Xen would crash on (docs/trace-format.md §9)', () => {
  it('CLEAR on an event never MAPTI\'d: the pending_irq has NULL list links', () => {
    const { m, q } = readyMachine();
    basicMap(m, q);
    const r = drive(m, q.run(cmd.clear(0, 5)));
    expect(r.outcome).to.equal('crash');
    expect(r.reason).to.match(/NULL list links/);
  });

  it('INVALL on an unmapped collection: NULL vCPU', () => {
    const { m, q } = readyMachine();
    basicMap(m, q);
    expect(drive(m, q.run(cmd.mapc(4, 0, false), cmd.invall(4))).outcome).to.equal('crash');
  });

  it('MAPTI below 8192 later used: INT of a vLPI past the SPIs indexes pending_irqs[] out of bounds; one of an SGI/PPI is dropped', () => {
    const { m, q } = readyMachine({ evid_bits: 10 });
    drive(m, q.run(cmd.mapd(0, 7, L.itt), cmd.mapc(0, 0), cmd.mapi(0, 9, 0), cmd.int(0, 9)));
    expect(tree(m)).to.deep.equal([9]);
    expect(m.crashed).to.equal(null);
    expect(drive(m, q.run(cmd.mapi(0, 200, 0), cmd.int(0, 200))).outcome).to.equal('crash');
  });

  it('MAPTI of an event whose record is still pending (its collection was unmapped) re-initialises a listed record', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0x60, true));
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1), cmd.int(0, 0), cmd.mapc(1, 1, false)));
    const r = drive(m, q.run(cmd.mapti(0, 0, 8193, 0)));
    expect(r.outcome).to.equal('crash');
    expect(r.reason).to.match(/list corruption/);
  });

  it('MAPD V=0 of a device whose event is still in pend_lpi_tree (DISCARD failed): use after free', () => {
    const { m, q } = readyMachine();
    basicMap(m, q);
    drive(m, q.run(cmd.mapti(0, 0, 8192, 1), cmd.mapc(1, 1, false)));
    expect(drive(m, q.run(cmd.mapd(0, 4, 0, false))).reason).to.match(/use after free/);
  });

  it('MAPD when the host LPIs run out: the failed allocation frees a registered device', () => {
    const { m, q } = readyMachine({ lpi_bits: 14, evid_bits: 16 });
    drive(m, q.run(cmd.mapd(0, 12, L.itt)));
    expect(m.crashed).to.equal(null);
    expect(domSnap(m).its_devices![0]!.eventids).to.equal(8192);
    const r = drive(m, q.run(cmd.mapd(1, 0, L.itt)));
    expect(r.reason).to.match(/needs 1 blocks of host LPIs, 0 are free/);
  });

  it('after a crash every step is a trace error', () => {
    const { m, q } = readyMachine();
    basicMap(m, q);
    drive(m, q.run(cmd.clear(0, 1)));
    expect(traceError(m, { op: 'snapshot' })).to.match(/crashed/);
  });
});
