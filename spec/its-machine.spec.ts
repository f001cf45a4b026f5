/**
 * LPIs and the virtual ITS in the machine (docs/trace-format.md §9): guest RAM (guestcopy.ts),
 * the config rules, the LPI branches of the redistributor and distributor registers (§C.0,
 * §C.8), the host LPI table (§C.1, §C.10), the ops mem_write / mem_read / msi, the snapshot
 * additions and the tools that must not trip over a domain with an ITS.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../src/machine/machine.js';
import { decodeConfig } from '../src/machine/config.js';
import { OP_NAMES } from '../src/machine/ops.js';
import { guestSnapshotJson } from '../src/machine/snapshot.js';
import { PartialSnapshotCodec, SnapshotCodec, guestView } from '../src/conformance/schema.js';
import { replayPaths } from '../src/conformance/replay.js';
import { GuestRam, PAGE_SIZE, accessGuestMemoryByGpa, readGuestLe, readGuestWords, writeGuestLe } from '../src/xen/guestcopy.js';
import {
  DOMID_INVALID, HostLpiData, gicv3AllocateHostLpiBlock, gicv3FreeHostLpiBlock, hostLpiEntry,
} from '../src/xen/gic-v3-lpi.js';
import { Host } from '../src/xen/types.js';
import { lrLayout } from '../src/arch/lr.js';
import { createDomain } from '../src/xen/vgic.js';
import {
  LAYOUT as L, cmd, dom, domSnap, drive, gicr, hex, itsConfig, itsMachine, memWrite, mmioRead, mmioWrite, readyMachine,
  setProperty, traceError, vits,
} from './its-helpers.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/its/', import.meta.url));

function configErrors(patch: (c: Record<string, any>) => void): string[] {
  const c = itsConfig() as Record<string, any>;
  patch(c);
  const r = decodeConfig(c);
  return E.isLeft(r) ? r.left : [];
}

describe('guest memory: access_guest_memory_by_gpa (guestcopy.ts, §C.5)', () => {
  it('64 MiB of RAM costs nothing until written; unwritten RAM reads as zeros', () => {
    const ram = new GuestRam([{ base: 0x40000000, size: 64 * 1024 * 1024 }]);
    expect(readGuestLe(ram, 0x43fffff8, 8)).to.equal(0n);
    expect(writeGuestLe(ram, 0x41000000, 4, 0n)).to.equal(true);
    expect(ram.allocatedPages).to.equal(0);
    expect(writeGuestLe(ram, 0x41000002, 2, 0xbeefn)).to.equal(true);
    expect(ram.allocatedPages).to.equal(1);
    expect(readGuestLe(ram, 0x41000000, 8)).to.equal(0xbeef0000n);
  });

  it('little-endian words; a read outside RAM fails; a write running off the end stores its first page and fails', () => {
    const ram = new GuestRam([{ base: 0x1000, size: 0x1000 }]);
    expect(readGuestLe(ram, 0x2000, 1)).to.equal(null);
    expect(readGuestLe(ram, 0xfff, 1)).to.equal(null);
    const buf = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(accessGuestMemoryByGpa(ram, 0x1ffc, buf, true)).to.equal('EINVAL');
    expect(readGuestLe(ram, 0x1ffc, 4)).to.equal(0x04030201n);
    expect(accessGuestMemoryByGpa(null, 0x1000, buf, false)).to.equal('EINVAL');
    writeGuestLe(ram, 0x1000, 8, 0x1122334455667788n);
    expect(readGuestWords(ram, 0x1000, 1)).to.deep.equal([0x1122334455667788n]);
    expect(ram.writtenPagesIn(0, 0x10000)).to.deep.equal([1]);
    expect(PAGE_SIZE).to.equal(4096);
  });
});

describe('config: its, intid_bits, ram, lpi_bits (docs/trace-format.md §9.1)', () => {
  it('a valid ITS config is accepted; lpi_bits and intid_bits default to 20 and 16', () => {
    expect(configErrors(() => undefined)).to.deep.equal([]);
    const m = itsMachine();
    expect(m.host.hostLpis!.maxHostLpiIds).to.equal(2 ** 20);
    expect(dom(m).intidBits).to.equal(16);
  });

  it('each broken rule names the key and the rule', () => {
    const cases: [(c: Record<string, any>) => void, RegExp][] = [
      [(c) => { c['gic'] = 'v2'; c['nr_lrs'] = 4; c['domains'][0].vcpus = 2; }, /domains\[0\]\.its: a virtual ITS needs a GICv3 config/],
      [(c) => { c['domains'][0].its.base = '0x3000000'; }, /its\.base: the ITS region .* overlaps the GICD frame/],
      [(c) => { c['domains'][0].its.base = '0x3ff0000'; }, /its\.base: .* overlaps the redistributor region/],
      [(c) => { c['domains'][0].its.base = '0x40000000'; }, /its\.base: .* overlaps ram\[0\]/],
      [(c) => { c['domains'][0].its.base = '0x8008000'; }, /its\.base: 0x8008000 is not 64 KiB aligned/],
      [(c) => { c['domains'][0].its.devid_bits = 0; }, /its\.devid_bits: 0 is outside 1\.\.32/],
      [(c) => { c['domains'][0].its.evid_bits = 33; }, /its\.evid_bits: 33 is outside 1\.\.32/],
      [(c) => { c['domains'][0].intid_bits = 13; }, /intid_bits: 13 is outside 14\.\.32/],
      [(c) => { delete c['domains'][0].its; c['domains'][0].intid_bits = 16; }, /intid_bits: only a domain with `its` takes intid_bits/],
      [(c) => { c['domains'][0].ram = [{ base: '0x40000000', size: '0x4000001' }]; }, /ram\[0\]\.size: 0x4000001 is not a non-zero multiple of 4 KiB/],
      [(c) => { c['domains'][0].ram = [{ base: '0x40000000', size: '0x4001000' }]; }, /ram: 67112960 bytes in all, above the limit of 64 MiB/],
      [(c) => { c['domains'][0].ram = [{ base: '0x40000800', size: '0x1000' }]; }, /ram\[0\]\.base: 0x40000800 is not 4 KiB aligned/],
      [(c) => { c['domains'][0].ram.push({ base: '0x400ff000', size: '0x2000' }); }, /ram\[1\]: .* overlaps ram\[0\]/],
      [(c) => { c['domains'][0].ram = [{ base: '0x3000000', size: '0x10000' }]; }, /ram\[0\]: .* overlaps the GICD frame/],
      [(c) => { c['lpi_bits'] = 25; }, /config\.lpi_bits: 25 is outside 14\.\.24/],
      [(c) => { c['domains'][0].its.base = 'nope'; }, /its\.base: expected hex string/],
    ];
    for (const [patch, re] of cases) {
      const errors = configErrors(patch);
      expect(errors.some((e) => re.test(e)), `${re}: ${errors.join(' | ')}`).to.equal(true);
    }
  });

  it('vgic replay refuses a trace with a bad ITS config with exit status 2 and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'its-config-'));
    const c = itsConfig() as Record<string, any>;
    c['domains'][0].ram = [{ base: '0x3020000', size: '0x1000' }];
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ format: 'vgic-trace/1', config: c, steps: [{ op: 'snapshot' }] }));
    const r = spawnSync(process.execPath, [MAIN, 'replay', join(dir, 'bad.json')], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(`${r.stdout}${r.stderr}`).to.match(/config\.domains\[0\]\.ram\[0\]: .* overlaps the redistributor region/);
    expect(`${r.stdout}${r.stderr}`).to.not.match(/\n\s+at /);
  });
});

describe('LPI registers of the distributor and redistributors (§C.0, §C.8)', () => {
  it('GICD_TYPER: LPIS and IDbits = intid_bits - 1 with an ITS; GICR_TYPER.PLPIS; nothing of it without one', () => {
    const m = itsMachine();
    drive(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    expect(BigInt(drive(m, mmioRead(0, 0x3001004, 4)).value!) & ((1n << 17n) | (0x1fn << 19n))).to.equal((1n << 17n) | (15n << 19n));
    expect(BigInt(drive(m, mmioRead(0, gicr(1, 0x8), 8)).value!) & 1n).to.equal(1n);
    const plain = Machine.fromJson({ gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] });
    const p = E.getOrElseW(() => expect.fail('config'))(plain);
    drive(p, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    expect(BigInt(drive(p, mmioRead(0, 0x3001004, 4)).value!) >> 17n).to.equal(9n << 2n);
    expect(drive(p, mmioRead(0, gicr(0, 0x8), 8)).value).to.equal('0x10');
    expect(drive(p, mmioRead(0, gicr(0, 0x70), 8)).value).to.equal('0x0');
    drive(p, mmioWrite(0, gicr(0, 0x0), 4, 1));
    expect(drive(p, mmioRead(0, gicr(0, 0x0), 4)).value).to.equal('0x0');
  });

  it('GICR_CTLR.EnableLPIs: set once per vCPU, never cleared; word access only', () => {
    const m = itsMachine();
    drive(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    expect(drive(m, mmioRead(0, gicr(1, 0), 4)).value).to.equal('0x0');
    drive(m, mmioWrite(0, gicr(1, 0), 4, 1), mmioWrite(0, gicr(1, 0), 4, 0));
    expect(drive(m, mmioRead(0, gicr(1, 0), 4)).value).to.equal('0x1');
    expect(drive(m, mmioRead(0, gicr(0, 0), 4)).value).to.equal('0x0');
    expect(drive(m, mmioRead(0, gicr(1, 0), 1)).outcome).to.equal('abort');
  });

  it('GICR_PROPBASER: one per domain, sanitised with RES0 cleared, frozen by the first EnableLPIs, which latches nr_lpis', () => {
    const m = itsMachine();
    drive(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    drive(m, mmioWrite(0, gicr(1, 0x70), 8, 0xffffffffffffffffn));
    expect(drive(m, mmioRead(0, gicr(0, 0x70), 8)).value).to.equal(hex(0xffffffffffffffffn & ~((0x1fn << 59n) | (0xfn << 52n) | (3n << 5n)) & ~(7n << 56n) | (1n << 56n) & ~(3n << 10n) | (3n << 10n)));
    drive(m, mmioWrite(0, gicr(0, 0x70), 8, BigInt(L.propTable) | 13n), mmioWrite(0, gicr(0, 0), 4, 1));
    expect(dom(m).nrLpis).to.equal(8192);
    drive(m, mmioWrite(0, gicr(0, 0x70), 8, 20n), mmioWrite(0, gicr(1, 0), 4, 1));
    expect(dom(m).rdistPropbase & 0x1fn).to.equal(13n);
    expect(dom(m).nrLpis).to.equal(8192);
  });

  it('nr_lpis: IDbits below 13 give 0; IDbits 31 wraps the 32-bit count to 0', () => {
    for (const [idbits, n] of [[12, 0], [14, 24576], [30, 2 ** 31 - 8192], [31, 0]] as const) {
      const m = itsMachine();
      drive(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, mmioWrite(0, gicr(0, 0x70), 8, idbits), mmioWrite(0, gicr(0, 0), 4, 1));
      expect(dom(m).nrLpis, `IDbits ${idbits}`).to.equal(n);
    }
  });

  it('GICR_PENDBASER: per vCPU, RES0 cleared, PTZ stored but read as 0, frozen once that vCPU enabled LPIs', () => {
    const m = itsMachine();
    drive(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    drive(m, mmioWrite(0, gicr(1, 0x78), 8, (1n << 62n) | (1n << 63n) | 0x5000ffffn | (3n << 7n)));
    expect(dom(m).vcpus[1]!.rdistPendbase).to.equal((1n << 62n) | 0x50000f80n);
    expect(drive(m, mmioRead(0, gicr(1, 0x78), 8)).value).to.equal('0x50000f80');
    expect(drive(m, mmioRead(0, gicr(0, 0x78), 8)).value).to.equal('0x0');
    drive(m, mmioWrite(0, gicr(1, 0), 4, 1), mmioWrite(0, gicr(1, 0x78), 8, 0));
    expect(drive(m, mmioRead(0, gicr(1, 0x78), 4)).value).to.equal('0x50000f80');
  });

  it('SETLPIR, CLRLPIR, INVLPIR, INVALLR read 0xdeadbeafdeadbeaf and ignore writes; GICR_SYNCR reads 1', () => {
    const m = itsMachine();
    drive(m, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    for (const off of [0x40, 0x48, 0xa0, 0xb0]) {
      expect(drive(m, mmioWrite(0, gicr(0, off), 8, 8192)).outcome).to.equal('ok');
      expect(drive(m, mmioRead(0, gicr(0, off), 8)).value).to.equal('0xdeadbeafdeadbeaf');
    }
    expect(drive(m, mmioRead(0, gicr(0, 0xc0), 4)).value).to.equal('0x1');
  });
});

describe('host LPIs (gic-v3-lpi.ts, §C.1, §C.10)', () => {
  function domain(id: number): ReturnType<typeof createDomain> & object {
    const host = new Host('v3', 4, lrLayout('v3'));
    return createDomain(host, id, 1, 32, 1) as Exclude<ReturnType<typeof createDomain>, 'EINVAL'>;
  }

  it('gicv3_allocate_host_lpi_block: blocks of 32 from 8192, owned by the domain with no vLPI; ENOSPC when all are taken', () => {
    const data = new HostLpiData(14);
    const d = domain(3);
    expect(gicv3AllocateHostLpiBlock(data, d)).to.equal(8192);
    expect(gicv3AllocateHostLpiBlock(data, d)).to.equal(8224);
    expect(hostLpiEntry(data, 8230)).to.deep.equal({ domId: 3, virtLpi: 0 });
    for (let i = 2; i < 256; i++) expect(gicv3AllocateHostLpiBlock(data, d)).to.not.equal('ENOSPC');
    expect(gicv3AllocateHostLpiBlock(data, d)).to.equal('ENOSPC');
  });

  it('gicv3_free_host_lpi_block: the block is free again, but next_free_lpi takes the LPI number (from 8192) where it counts from 0, so the hole is reused only by the rescan', () => {
    const data = new HostLpiData(15);
    const d = domain(3);
    for (let i = 0; i < 260; i++) gicv3AllocateHostLpiBlock(data, d);
    expect(data.nextFreeLpi).to.equal(8320);
    gicv3FreeHostLpiBlock(data, 8224);
    expect(hostLpiEntry(data, 8224)!.domId).to.equal(DOMID_INVALID);
    expect(data.nextFreeLpi).to.equal(8224);
    expect(gicv3AllocateHostLpiBlock(data, d)).to.equal(8192 + 8320);
    const got: (number | 'ENOSPC')[] = [];
    for (let i = 0; i < 507; i++) got.push(gicv3AllocateHostLpiBlock(data, d));
    expect(got.at(-1)).to.equal(32736);
    // Past the end: the rescan from 0 finds the hole.
    expect(gicv3AllocateHostLpiBlock(data, d)).to.equal(8224);
    expect(gicv3AllocateHostLpiBlock(data, d)).to.equal('ENOSPC');
  });
});

describe('ops mem_write, mem_read, msi (docs/trace-format.md §9.2)', () => {
  it('mem_write / mem_read round-trip inside RAM; outside RAM, misaligned or too wide is a trace error naming the address and the regions', () => {
    const m = itsMachine();
    drive(m, memWrite(L.ramBase + 8, 8, 0x1122334455667788n));
    expect(drive(m, { op: 'mem_read', domain: 1, addr: hex(L.ramBase + 12), size: 4 }).value).to.equal('0x11223344');
    expect(traceError(m, memWrite(L.ramBase + L.ramSize, 4, 0))).to.match(/addr 0x40100000 \(4 bytes\) is not in domain 1's RAM \(ram: 0x40000000\.\.0x400fffff\)/);
    expect(traceError(m, memWrite(L.ramBase + 2, 4, 0))).to.match(/not aligned/);
    expect(traceError(m, memWrite(L.ramBase, 1, 0x100))).to.match(/does not fit/);
    expect(traceError(m, { op: 'mem_read', domain: 1, addr: '0x0', size: 8 })).to.match(/not in domain 1's RAM/);
    expect(traceError(m, { op: 'mem_read', domain: 2, addr: '0x0', size: 8 })).to.match(/domain 2 does not exist/);
  });

  it('msi: a mapped event is injected (gicv3_do_LPI); an unmapped one is dropped; no such device or event is a trace error', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0xa0, true));
    expect(traceError(m, { op: 'msi', pcpu: 1, domain: 1, devid: 0, eventid: 0 })).to.match(/no host device 0/);
    drive(m, q.run(cmd.mapd(0, 4, L.itt), cmd.mapc(0, 1), cmd.mapti(0, 0, 8192, 0)));
    expect(drive(m, { op: 'msi', pcpu: 1, domain: 1, devid: 0, eventid: 1 }).outcome).to.equal('ok');
    expect(domSnap(m).vcpus[1]!.inflight).to.deep.equal([]);
    expect(traceError(m, { op: 'msi', pcpu: 1, domain: 1, devid: 0, eventid: 32 })).to.match(/event 32 is not below the 32 events/);
    drive(m, { op: 'msi', pcpu: 1, domain: 1, devid: 0, eventid: 0 });
    expect(domSnap(m).vcpus[1]!.inflight.map((x) => x.irq)).to.deep.equal([8192]);
    drive(m, { op: 'enter', pcpu: 0 });
    expect(traceError(m, { op: 'msi', pcpu: 0, domain: 1, devid: 0, eventid: 0 })).to.match(/needs it idle or hyp/);
  });

  it('msi on a domain without an ITS and inject of an LPI are trace errors; the ops are in the op table', () => {
    const m = itsMachine();
    expect(traceError(m, { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 8192 })).to.match(/virq 8192 is an LPI/);
    const plain = E.getOrElseW(() => expect.fail('config'))(Machine.fromJson({ gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] }));
    expect(traceError(plain, { op: 'msi', pcpu: 0, domain: 1, devid: 0, eventid: 0 })).to.match(/has no ITS/);
    expect(OP_NAMES).to.include.members(['mem_write', 'mem_read', 'msi']);
  });

  it('mmio reaches only the current domain\'s ITS frame', () => {
    const { m } = readyMachine();
    expect(drive(m, mmioRead(0, L.itsBase + 0x4, 4)).value).to.equal('0x5800034c');
    const plain = E.getOrElseW(() => expect.fail('config'))(Machine.fromJson({ gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] }));
    drive(plain, { op: 'run', pcpu: 0, domain: 1, vcpu: 0 });
    expect(traceError(plain, mmioRead(0, L.itsBase, 4))).to.match(/outside the GICD frame/);
  });
});

describe('snapshots of a domain with an ITS (docs/trace-format.md §9.3)', () => {
  it('the keys appear only for a domain with an ITS, in the documented order', () => {
    const { m, q } = readyMachine();
    drive(m, setProperty(8192, 0xa0, true), q.run(cmd.mapd(0, 4, L.itt), cmd.mapc(0, 0), cmd.mapti(0, 0, 8192, 0)));
    const d = domSnap(m);
    expect(Object.keys(d)).to.deep.equal(['id', 'ctlr', 'ranks', 'vcpus', 'irqs', 'lpi', 'its', 'its_devices']);
    expect(Object.keys(d.vcpus[0]!).slice(-3)).to.deep.equal(['lrs', 'lpis_enabled', 'pendbase']);
    expect(d.irqs).to.deep.equal([{ irq: 8192, vcpu: 0, status: ['ENABLED', 'PRISTINE_LPI'], priority: 0, lr: 0, lpi_priority: 160 }]);
    expect(d.its).to.deep.equal({
      base: '0x8000000', enabled: true, cbaser: '0x9800000040000000', cwriter: '0x60', creadr: '0x60',
      baser0: '0x9907000040010000', baser1: '0x9c01000040020000',
    });
    const plain = E.getOrElseW(() => expect.fail('config'))(Machine.fromJson({ gic: 'v3', nr_lrs: 4, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] }));
    expect(Object.keys(plain.snapshot().domains[0]!)).to.deep.equal(['id', 'ctlr', 'ranks', 'vcpus', 'irqs']);
    expect(Object.keys(plain.snapshot().domains[0]!.vcpus[0]!)).to.not.include('pendbase');
  });

  it('snapshotJson() is byte-identical to JSON.stringify(snapshot()) after every step of every ITS fixture, and the schema decodes it', () => {
    for (const f of readdirSync(FIXTURES).filter((x) => x.endsWith('.json'))) {
      const t = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as { config: unknown; steps: Record<string, unknown>[] };
      const m = E.getOrElseW(() => expect.fail(f))(Machine.fromJson(t.config));
      t.steps.forEach((s, i) => {
        m.step(s, i);
        if (m.crashed !== null) return;
        const obj = m.snapshot();
        expect(m.snapshotJson(), `${f} step ${i}`).to.equal(JSON.stringify(obj));
        expect(E.isRight(SnapshotCodec.decode(obj)), `${f} step ${i}`).to.equal(true);
      });
    }
  });

  it('EXPECT snapshots may name the new keys; the guest view keeps none of them', () => {
    const partial = { domains: [{ id: 1, lpi: { nr_lpis: 3 }, its: { enabled: true }, its_devices: [{ devid: 0, vlpis: [1] }], vcpus: [{ id: 0, pendbase: '0x0' }], irqs: [{ irq: 8192, vcpu: 0, lpi_priority: 4 }] }] };
    expect(E.isRight(PartialSnapshotCodec.decode(partial))).to.equal(true);
    const { m } = readyMachine();
    const gv = guestView(m.snapshot());
    expect(JSON.stringify(gv)).to.equal(guestSnapshotJson(m.host));
    expect(JSON.stringify(gv)).to.not.match(/pendbase|lpis_enabled|its_devices|"its"|"lpi"/);
  });
});

describe('tools on a domain with an ITS', () => {
  it('vgic replay --check (invariants and properties) passes fixtures/its/', function () {
    this.timeout(60000);
    const r = spawnSync(process.execPath, [MAIN, 'replay', '--check', FIXTURES], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(replayPaths([FIXTURES]).exitCode).to.equal(0);
  });

  it('vgic dump (text and HTML) renders an ITS fixture', () => {
    const dir = mkdtempSync(join(tmpdir(), 'its-dump-'));
    const file = join(FIXTURES, 'its-movi-keeps-pending-lpi-on-old-vcpu.json');
    const text = spawnSync(process.execPath, [MAIN, 'dump', file, '--step', '40'], { encoding: 'utf8' });
    expect(text.status).to.equal(0);
    const html = spawnSync(process.execPath, [MAIN, 'dump', file, '--html', join(dir, 'x.html')], { encoding: 'utf8' });
    expect(html.status).to.equal(0);
    expect(readFileSync(join(dir, 'x.html'), 'utf8').length).to.be.greaterThan(1000);
  });

  it('every ITS fixture is named after its file, describes itself in one line, cites refs and checks something', () => {
    const files = readdirSync(FIXTURES).filter((x) => x.endsWith('.json'));
    expect(files.length).to.be.at.least(13);
    for (const f of files) {
      const t = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as { name: string; description: string; refs: string[]; steps: { expect?: unknown }[] };
      expect(t.name).to.equal(f.replace(/\.json$/, ''));
      expect(t.description).to.match(/^[^\n]{20,}$/);
      expect(t.refs.length).to.be.greaterThan(0);
      expect(t.steps.some((s) => s.expect !== undefined)).to.equal(true);
    }
  });
});

void vits;
