/**
 * `vgic serve` as a child process, driven line by line the way another implementation's
 * test harness would drive it (docs/trace-format.md §7), and the ProcessDriver client of
 * src/conformance/driver.ts against real commands, well-behaved or not.
 */
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ProcessDriver, ProtocolError } from '../src/conformance/driver.js';
import { MODEL_NAME } from '../src/conformance/protocol.js';

/** The built CLI next to this compiled spec (<outDir>/spec -> <outDir>/src/cli/main.js). */
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** A shell command line that starts it. */
const SERVE_CMD = `"${process.execPath}" "${MAIN}" serve`;

/** Every op of docs/trace-format.md §3 (3.1 to 3.5). */
const FORMAT_OPS = [
  'run', 'idle', 'enter', 'exit', 'vcpu_off', 'vcpu_on',
  'inject', 'route', 'hw_irq',
  'mmio', 'sysreg',
  'ack', 'eoi', 'dir', 'pmr', 'eoimode',
  'pending_check', 'snapshot',
];

type Json = Record<string, unknown>;

const V3 = { gic: 'v3', nr_lrs: 4, pcpus: 2, domains: [{ id: 1, vcpus: 2, nr_spis: 64 }] };

/** A minimal client of the line protocol: one request line out, one response line back. */
class ServeClient {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  stderr = '';
  private readonly lines: string[] = [];
  private waiter: ((line: string | null) => void) | null = null;
  private closed = false;
  private nextId = 1;

  constructor(args: string[] = []) {
    this.child = spawn(process.execPath, [MAIN, 'serve', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      if (this.waiter !== null) {
        const w = this.waiter;
        this.waiter = null;
        w(l);
      } else {
        this.lines.push(l);
      }
    });
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderr += b.toString();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code) => {
        this.closed = true;
        if (this.waiter !== null) this.waiter(null);
        resolve(code);
      });
    });
  }

  /** Send a raw line. */
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The next response line, parsed (fails the test on timeout or exit). */
  next(timeoutMs = 10000): Promise<Json> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(JSON.parse(queued) as Json);
    if (this.closed) return Promise.reject(new Error(`vgic serve exited; stderr: ${this.stderr}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (l) => {
        clearTimeout(timer);
        if (l === null) reject(new Error(`vgic serve exited; stderr: ${this.stderr}`));
        else resolve(JSON.parse(l) as Json);
      };
    });
  }

  /** Send a request with a fresh id; the response must echo it. */
  async request(cmd: string, extra: Json = {}): Promise<Json> {
    const id = this.nextId++;
    this.send(JSON.stringify({ id, cmd, ...extra }));
    const r = await this.next();
    expect(r['id'], `id of the response to ${cmd}`).to.equal(id);
    return r;
  }

  /** A step that must be answered ok:true; returns its RESULT. */
  async step(step: Json): Promise<Json> {
    const r = await this.request('step', { step });
    expect(r, JSON.stringify(step)).to.include({ ok: true });
    return r['result'] as Json;
  }

  async snapshot(): Promise<Json> {
    const r = await this.request('snapshot');
    expect(r['ok']).to.equal(true);
    return r['snapshot'] as Json;
  }

  /** Close stdin and wait for the exit status. */
  async end(): Promise<number | null> {
    this.child.stdin.end();
    return this.exited;
  }

  /** The exit status if the process ends within `ms` (stdin left open), else 'running'. */
  async exitWithin(ms: number): Promise<number | null | 'running'> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'running'>((resolve) => {
      timer = setTimeout(() => resolve('running'), ms);
    });
    const r = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    return r;
  }

  kill(): void {
    if (!this.closed) this.child.kill();
  }
}

const mmioWrite = (addr: number, size: number, value: string): Json => ({ op: 'mmio', pcpu: 0, access: 'write', addr: `0x${addr.toString(16)}`, size, value });
const GICD = 0x3001000;
const ISENABLER1 = GICD + 0x104;
const IPRIORITYR = GICD + 0x400;

/** docs/trace-format.md §1: canonical hex, lower case, no leading zeros. */
const CANONICAL_HEX = /^0x(?:0|[1-9a-f][0-9a-f]*)$/;

/** Every hex-looking string in a value, for the canonical-form check. */
function hexStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string' && /^0x/i.test(v)) out.push(v);
  else if (Array.isArray(v)) for (const x of v) hexStrings(x, out);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) hexStrings(x, out);
  return out;
}

describe('vgic serve: a session over stdin/stdout (docs/trace-format.md §7)', function () {
  this.timeout(30000);
  let c: ServeClient;

  before(() => {
    c = new ServeClient();
  });

  after(() => {
    c.kill();
  });

  it('§7 hello: format vgic-trace/1, the model\'s name, and every op of docs/trace-format.md §3', async () => {
    const r = await c.request('hello');
    expect(r['ok']).to.equal(true);
    expect(r['format']).to.equal('vgic-trace/1');
    expect(r['name']).to.equal(MODEL_NAME);
    expect(r['ops']).to.include.members(FORMAT_OPS);
    expect(FORMAT_OPS).to.have.length(18);
  });

  it('§7 reset with a GICv3 config: ok', async () => {
    expect(await c.request('reset', { config: V3 })).to.deep.equal({ id: 2, ok: true });
  });

  it('§3: run, ISENABLER1 write, IPRIORITYR byte write (upper-case hex accepted), inject SPI 40, enter, pmr, ack -> 40, exit', async () => {
    expect(await c.step({ op: 'run', pcpu: 0, domain: 1, vcpu: 0 })).to.deep.equal({ outcome: 'ok' });
    expect(await c.step(mmioWrite(ISENABLER1, 4, '0x100'))).to.deep.equal({ outcome: 'ok' });
    expect(await c.step(mmioWrite(IPRIORITYR + 40, 1, '0xA0'))).to.deep.equal({ outcome: 'ok' });
    expect(await c.step({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 40 })).to.deep.equal({ outcome: 'ok' });
    expect(await c.step({ op: 'enter', pcpu: 0 })).to.deep.equal({ outcome: 'ok' });
    expect(await c.step({ op: 'pmr', pcpu: 0, value: 0xff })).to.deep.equal({ outcome: 'ok' });
    expect(await c.step({ op: 'ack', pcpu: 0 })).to.deep.equal({ outcome: 'ok', intid: 40 });
    expect(await c.step({ op: 'ack', pcpu: 0 })).to.deep.equal({ outcome: 'ok', intid: 1023 });
    expect(await c.step({ op: 'exit', pcpu: 0 })).to.deep.equal({ outcome: 'ok' });
  });

  it('§3.3, §1: a read gives the value back in canonical hex', async () => {
    const r = await c.step({ op: 'mmio', pcpu: 0, access: 'read', addr: `0x${(IPRIORITYR + 40).toString(16)}`, size: 1 });
    expect(r).to.deep.equal({ outcome: 'ok', value: '0xa0' });
    const en = await c.step({ op: 'mmio', pcpu: 0, access: 'read', addr: `0x${ISENABLER1.toString(16).toUpperCase()}`, size: 4 });
    expect(en).to.deep.equal({ outcome: 'ok', value: '0x100' });
  });

  it('§3.5 pending_check and the snapshot op answer through step', async () => {
    expect(await c.step({ op: 'pending_check', pcpu: 0 })).to.deep.equal({ outcome: 'ok', pending: 0 });
    const r = await c.step({ op: 'snapshot' });
    expect(r['outcome']).to.equal('ok');
    expect(r['snapshot']).to.have.keys('pcpus', 'domains', 'physical');
  });

  it('§5 snapshot: the acked SPI is active in LR 0, keys in canonical order, hex canonical', async () => {
    const s = await c.snapshot();
    expect(Object.keys(s)).to.deep.equal(['pcpus', 'domains', 'physical']);
    const pcpus = s['pcpus'] as Json[];
    expect(pcpus[0]).to.deep.equal({ id: 0, mode: 'hyp', running: { domain: 1, vcpu: 0 }, uie: false });
    expect(pcpus[1]).to.deep.equal({ id: 1, mode: 'idle', running: null, uie: false });
    const d = (s['domains'] as Json[])[0]!;
    expect(Object.keys(d)).to.deep.equal(['id', 'ctlr', 'ranks', 'vcpus', 'irqs']);
    const rank1 = (d['ranks'] as Json[])[0]!;
    expect(rank1['index']).to.equal(1);
    expect(rank1['ienable']).to.equal('0x100');
    expect((rank1['priority'] as number[])[8]).to.equal(0xa0);
    const v0 = (d['vcpus'] as Json[])[0]!;
    expect(Object.keys(v0)).to.deep.equal(['id', 'online', 'rank', 'inflight', 'lr_pending', 'lr_mask', 'pmr', 'eoimode', 'apr', 'lrs']);
    expect(v0['inflight']).to.deep.equal([{ irq: 40, lr: 0 }]);
    expect(v0['lr_pending']).to.deep.equal([]);
    expect(v0['lr_mask']).to.equal('0x1');
    expect(v0['pmr']).to.equal(0xff);
    expect(v0['apr']).to.equal(`0x${(1 << (0xa0 >> 3)).toString(16)}`);
    const lr = (v0['lrs'] as Json[])[0]!;
    expect(Object.keys(lr)).to.deep.equal(['lr', 'raw', 'state', 'virq', 'pirq', 'priority', 'grp1']);
    expect(lr).to.include({ lr: 0, state: 'active', virq: 40, pirq: null, priority: 0xa0, grp1: true });
    expect(lr['raw']).to.match(CANONICAL_HEX);
    const irq = (d['irqs'] as Json[]).find((x) => x['irq'] === 40)!;
    expect(irq).to.deep.include({ vcpu: null, priority: 0xa0, lr: 0 });
    for (const h of hexStrings(s)) expect(h).to.match(CANONICAL_HEX);
    expect(s['physical']).to.deep.equal([]);
  });

  it('§3: a trace error is ok:false naming step, op and precondition, changes nothing, and the session goes on', async () => {
    const before = JSON.stringify(await c.snapshot());
    const r = await c.request('step', { step: { op: 'exit', pcpu: 0 } });
    expect(r['ok']).to.equal(false);
    // 13 steps were applied; a trace error does not use up a step index.
    expect(r['error']).to.match(/^step 13 \(exit\): pCPU 0 is hyp; exit needs it guest/);
    const r2 = await c.request('step', { step: { op: 'run', pcpu: 1, domain: 1, vcpu: 0 } });
    expect(r2['ok']).to.equal(false);
    expect(r2['error']).to.match(/^step 13 \(run\): d1v0 is already running/);
    expect(JSON.stringify(await c.snapshot())).to.equal(before);
    expect(await c.step({ op: 'enter', pcpu: 0 })).to.deep.equal({ outcome: 'ok' });
    expect(await c.step({ op: 'eoi', pcpu: 0, intid: 40 })).to.deep.equal({ outcome: 'ok' });
  });

  it('§7 quit: ok, then exit status 0', async () => {
    const r = await c.request('quit');
    expect(r['ok']).to.equal(true);
    expect(await c.end()).to.equal(0);
    expect(c.stderr).to.equal('');
  });
});

describe('vgic serve: process behaviour (docs/trace-format.md §4, §7)', function () {
  this.timeout(30000);
  const clients: ServeClient[] = [];
  const client = (args: string[] = []): ServeClient => {
    const c = new ServeClient(args);
    clients.push(c);
    return c;
  };

  afterEach(() => {
    for (const c of clients.splice(0)) c.kill();
  });

  it('§7: after quit, serve exits 0 by itself, without waiting for its standard input to close', async () => {
    const c = client();
    expect((await c.request('quit'))['ok']).to.equal(true);
    const status = await c.exitWithin(3000);
    c.child.stdin.end();
    expect(status, 'still running 3 s after quit with stdin open').to.equal(0);
  });

  it('§7: after a malformed request, serve exits 2 by itself, without waiting for its standard input to close', async () => {
    const c = client();
    c.send('this is not JSON');
    const r = await c.next();
    expect(r).to.include({ id: null, ok: false });
    const status = await c.exitWithin(3000);
    c.child.stdin.end();
    expect(status, 'still running 3 s after the malformed request with stdin open').to.equal(2);
  });

  it('§7: lines after quit are not answered; the exit status stays 0', async () => {
    const c = client();
    await c.request('quit');
    c.send(JSON.stringify({ id: 99, cmd: 'hello' }));
    expect(await c.end()).to.equal(0);
    const answered = await c.next(200).then(() => true, () => false);
    expect(answered, 'a line after quit was answered').to.equal(false);
  });

  it('§7: ids are echoed whatever their type (number or string)', async () => {
    const c = client();
    c.send(JSON.stringify({ id: 'a-string-id', cmd: 'hello' }));
    expect((await c.next())['id']).to.equal('a-string-id');
    c.send(JSON.stringify({ id: 0, cmd: 'hello' }));
    expect((await c.next())['id']).to.equal(0);
    c.send(JSON.stringify({ id: -7.5, cmd: 'quit' }));
    expect((await c.next())['id']).to.equal(-7.5);
    expect(await c.end()).to.equal(0);
  });

  it('--mutant raise-into-free-lr: announced in the hello name, and it changes behaviour (Q11: a free LR is used while lr_pending is not empty)', async () => {
    /** 1 LR, two vCPUs on one pCPU: SPI 37 waits in vCPU0's lr_pending, then SPI 32 arrives while vCPU0 is switched in again. */
    const cfg = { gic: 'v3', nr_lrs: 1, pcpus: 1, domains: [{ id: 1, vcpus: 2, nr_spis: 32 }] };
    const steps: Json[] = [
      { op: 'run', pcpu: 0, domain: 1, vcpu: 0 },
      mmioWrite(ISENABLER1, 4, '0x3d'),
      { op: 'run', pcpu: 0, domain: 1, vcpu: 1 },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 37 },
      { op: 'run', pcpu: 0, domain: 1, vcpu: 0 },
      { op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: 32 },
    ];
    const lrPending = async (c: ServeClient): Promise<unknown> => {
      expect((await c.request('reset', { config: cfg }))['ok']).to.equal(true);
      for (const s of steps) await c.step(s);
      const snap = await c.snapshot();
      return ((snap['domains'] as Json[])[0]!['vcpus'] as Json[])[0]!['lr_pending'];
    };
    const m = client(['--mutant', 'raise-into-free-lr']);
    const hello = await m.request('hello');
    expect(hello['name']).to.equal(`${MODEL_NAME}, mutant raise-into-free-lr`);
    expect(hello['format']).to.equal('vgic-trace/1');
    const x = client();
    expect(await lrPending(x)).to.deep.equal([37, 32]);
    expect(await lrPending(m)).to.deep.equal([37]);
    await m.request('quit');
    await x.request('quit');
    expect(await m.end()).to.equal(0);
    expect(await x.end()).to.equal(0);
  });

  it('§4: after a crash every step and the snapshot are ok:false until the next reset', async () => {
    // 3 LRs, two active IRQs (the second preempts the first), then 0xc0, 0xe0, 0xf0, 0x80 queued: the last enter crashes.
    const c = client();
    expect((await c.request('reset', { config: { ...V3, nr_lrs: 3, pcpus: 1, domains: [{ id: 1, vcpus: 1, nr_spis: 32 }] } }))['ok']).to.equal(true);
    const inj = (irq: number): Json => ({ op: 'inject', pcpu: 0, domain: 1, vcpu: null, virq: irq });
    const steps: Json[] = [{ op: 'run', pcpu: 0, domain: 1, vcpu: 0 }, mmioWrite(ISENABLER1, 4, '0x3f')];
    for (const [irq, p] of [[32, 0x10], [33, 0x08], [34, 0xc0], [35, 0xe0], [36, 0xf0], [37, 0x80]] as const) steps.push(mmioWrite(IPRIORITYR + irq, 1, `0x${p.toString(16)}`));
    steps.push(inj(32), { op: 'enter', pcpu: 0 }, { op: 'pmr', pcpu: 0, value: 255 }, { op: 'ack', pcpu: 0 }, { op: 'exit', pcpu: 0 });
    steps.push(inj(33), { op: 'enter', pcpu: 0 }, { op: 'ack', pcpu: 0 }, { op: 'exit', pcpu: 0 });
    steps.push(inj(34), inj(35), inj(36), inj(37));
    for (const s of steps) expect((await c.step(s))['outcome']).to.equal('ok');
    const crash = await c.step({ op: 'enter', pcpu: 0 });
    expect(crash['outcome']).to.equal('crash');
    expect(crash['reason']).to.be.a('string');
    const snap = await c.request('snapshot');
    expect(snap['ok']).to.equal(false);
    expect(snap['error']).to.contain('crashed at step');
    const after = await c.request('step', { step: { op: 'snapshot' } });
    expect(after['ok']).to.equal(false);
    expect((await c.request('reset', { config: V3 }))['ok']).to.equal(true);
    expect((await c.request('snapshot'))['ok']).to.equal(true);
    await c.request('quit');
    expect(await c.end()).to.equal(0);
  });
});

describe('ProcessDriver (src/conformance/driver.ts) against real commands', function () {
  this.timeout(30000);

  it('§7: drives `vgic serve`: hello, reset, steps, a trace error, a refused config, snapshot, close', async () => {
    const d = new ProcessDriver(SERVE_CMD, 10000);
    try {
      const hello = await d.hello();
      expect(hello.format).to.equal('vgic-trace/1');
      expect(hello.name).to.equal(MODEL_NAME);
      expect(hello.ops).to.include.members(FORMAT_OPS);
      expect(await d.reset(V3)).to.deep.equal({ ok: true, value: null });
      expect(await d.step({ op: 'run', pcpu: 0, domain: 1, vcpu: 0 })).to.deep.equal({ ok: true, value: { outcome: 'ok' } });
      const te = await d.step({ op: 'ack', pcpu: 0 });
      expect(te.ok).to.equal(false);
      if (!te.ok) expect(te.error).to.equal('step 1 (ack): pCPU 0 is hyp; ack needs it guest');
      const s = await d.snapshot();
      expect(s.ok).to.equal(true);
      if (s.ok) expect((s.value['pcpus'] as Json[])[0]).to.deep.include({ mode: 'hyp' });
      const bad = await d.reset({ ...V3, nr_lrs: 0 });
      expect(bad.ok).to.equal(false);
      if (!bad.ok) expect(bad.error).to.contain('config.nr_lrs: 0 is outside 1..16');
    } finally {
      await d.close();
    }
  });

  async function protocolError(command: string, timeoutMs = 5000): Promise<ProtocolError> {
    const d = new ProcessDriver(command, timeoutMs);
    try {
      await d.hello();
    } catch (e) {
      expect(e).to.be.instanceOf(ProtocolError);
      return e as ProtocolError;
    } finally {
      await d.close();
    }
    return expect.fail(`${command}: hello succeeded`);
  }

  it('a side that writes a line that is not JSON -> ProtocolError naming the side and quoting the line', async () => {
    const cmd = `"${process.execPath}" -e "process.stdout.write('garbage\\n')"`;
    const e = await protocolError(cmd);
    expect(e.side).to.equal(`"${cmd}"`);
    expect(e.message).to.equal(`"${cmd}": answered hello with a line that is not JSON: garbage`);
  });

  it('a side that exits at once (`true`) -> ProtocolError "exited (status 0)"', async () => {
    const e = await protocolError('true');
    expect(e.message).to.equal('"true": exited (status 0)');
  });

  it('a side that dies with a message -> ProtocolError with its status and the end of its standard error', async () => {
    const e = await protocolError('echo "fatal: no vGIC here" >&2; exit 3');
    expect(e.message).to.contain('exited (status 3)');
    expect(e.message).to.contain('its standard error ends with: fatal: no vGIC here');
  });

  it('a command that does not exist -> ProtocolError with the shell\'s complaint', async () => {
    const e = await protocolError('vgic-no-such-command-xyz');
    expect(e.message).to.contain('exited (status 127)');
    expect(e.message).to.contain('vgic-no-such-command-xyz');
  });

  it('a side that echoes requests back (`cat`) -> ProtocolError "malformed response"', async () => {
    const e = await protocolError('cat');
    expect(e.message).to.contain('"cat": answered hello with a malformed response');
  });

  it('a side that answers with another id -> ProtocolError naming both ids', async () => {
    const e = await protocolError(`"${process.execPath}" -e "process.stdout.write(JSON.stringify({id: 41, ok: true, format: 'vgic-trace/1', name: 'x', ops: []}) + '\\n'); setTimeout(() => {}, 100)"`);
    expect(e.message).to.contain('answered request 1 (hello) with id 41');
  });

  it('a side that never answers -> ProtocolError after the timeout', async () => {
    const t0 = Date.now();
    const e = await protocolError('exec sleep 30', 300);
    expect(e.message).to.equal('"exec sleep 30": no response within 300 ms to {"id":1,"cmd":"hello"}');
    expect(Date.now() - t0).to.be.below(5000);
  });
});
