/**
 * The fast differential run (docs/trace-format.md §7): the quick agreement test of another
 * side's snapshot or RESULT (src/conformance/agree.ts) never says "same" where the full decode
 * and firstDifference would not; a side that agrees with different bytes (key order, hex
 * spelling, extra keys, no log) is still "same"; pipelined cases stay in step after a
 * divergence (abandoned answers are discarded, later ids still checked); the serve's quick
 * request check accepts exactly what its codecs accept.
 */
import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { fileURLToPath } from 'node:url';
import { agrees } from '../src/conformance/agree.js';
import { COMPARE_FULL, recordModelRun, runCase, startCase, type DiffCase } from '../src/conformance/diff.js';
import { LineDriver, ModelDriver, ProcessDriver } from '../src/conformance/driver.js';
import { generateTrace, generateTraceWithOps, Rng } from '../src/conformance/gen.js';
import { Server, decodeRequest } from '../src/conformance/protocol.js';
import { startSide, type StartedSide } from '../src/conformance/spawn.js';
import { RESULT, SNAPSHOT, SnapshotCodec, firstDifference, type Node } from '../src/conformance/schema.js';
import { resultJson } from '../src/conformance/trace.js';
import { decodeWith } from '../src/machine/decode.js';
import { Machine } from '../src/machine/machine.js';
import { guestSnapshotJson } from '../src/machine/snapshot.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SERVE = `"${process.execPath}" "${MAIN}" serve`;

type Json = Record<string, unknown>;

function caseOf(seed: number, steps = 40, o: { vmm?: number } = {}): DiffCase {
  const t = generateTrace(seed, { steps, ...o });
  return { name: t.name, config: t.config, steps: t.steps };
}

/** Snapshots (as parsed JSON) after each step of a few random traces. */
function someSnapshots(seeds: number, steps = 30): Json[] {
  const out: Json[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const c = caseOf(seed, steps);
    const m = Machine.fromJson(c.config);
    if (E.isLeft(m)) throw new Error(m.left.join('; '));
    c.steps.forEach((s, i) => {
      if (E.isRight(m.right.step(s, i)) && m.right.crashed === null) out.push(JSON.parse(m.right.snapshotJson()) as Json);
    });
  }
  return out;
}

/** Every path to a scalar or container in `v`, as key lists. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/** One random change at `path`: a new value, a deletion, a wrong type, an extra key, a different spelling. */
function mutate(root: unknown, path: (string | number)[], rng: Rng): unknown {
  const copy = structuredClone(root) as Json;
  if (path.length === 0) return rng.int(0, 1) === 0 ? null : [];
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Json)[k as string], copy) as Json | unknown[];
  const key = path[path.length - 1]!;
  const old = (parent as Json)[key as string];
  const choice = rng.int(0, 6);
  const set = (x: unknown): void => {
    (parent as Json)[key as string] = x;
  };
  if (choice === 0) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else if (choice === 1) set(typeof old === 'number' ? old + 1 : typeof old === 'boolean' ? !old : 0);
  else if (choice === 2) set(typeof old === 'string' ? 7 : 'x');
  else if (choice === 3 && typeof old === 'object' && old !== null && !Array.isArray(old)) set({ ...old, extra: 1 });
  else if (choice === 4 && typeof old === 'string' && /^0x/.test(old)) set(`0X00${old.slice(2).toUpperCase()}`);
  else if (choice === 5 && Array.isArray(old) && old.length > 1) set([...old].reverse());
  else set(null);
  return copy;
}

/** What the careful path says: the value decodes, and nothing differs after decoding. */
function carefulSame(n: Node, a: unknown, b: unknown): boolean {
  const d = decodeWith(SnapshotCodec, b, 'snapshot');
  return n === SNAPSHOT && E.isRight(d) && firstDifference(n, a, d.right, 'snapshot') === null;
}

describe('the quick agreement test (src/conformance/agree.ts)', () => {
  const snaps = someSnapshots(8);

  it('§7: a snapshot agrees with itself and with a copy written differently (capital hex with leading zeros, extra keys)', () => {
    expect(snaps.length).to.be.above(100);
    for (const s of snaps) {
      expect(agrees(SNAPSHOT, s, structuredClone(s))).to.equal(true);
      const respelled = JSON.parse(JSON.stringify(s).replace(/"0x([0-9a-f]+)"/g, (_m, h: string) => `"0X0${h.toUpperCase()}"`)) as Json;
      respelled['vendor'] = { note: 'extra keys are allowed' };
      expect(agrees(SNAPSHOT, s, respelled)).to.equal(true);
      expect(carefulSame(SNAPSHOT, s, respelled)).to.equal(true);
    }
  });

  it('§7: never "agrees" where the full decode fails or firstDifference finds a difference (4000 random one-field changes)', () => {
    const rng = new Rng(99);
    let changed = 0;
    let caught = 0;
    for (let k = 0; k < 4000; k++) {
      const s = snaps[rng.int(0, snaps.length - 1)]!;
      const all = paths(s);
      const b = mutate(s, all[rng.int(0, all.length - 1)]!, rng);
      const careful = carefulSame(SNAPSHOT, s, b);
      const quick = agrees(SNAPSHOT, s, b);
      if (quick) expect(careful, `agrees() said same for ${JSON.stringify(b).slice(0, 300)}`).to.equal(true);
      if (!careful) changed += 1;
      if (!careful && !quick) caught += 1;
    }
    expect(changed).to.be.above(2000);
    expect(caught).to.equal(changed);
  });

  it('§4: RESULT fields log and reason are checked for shape but not compared', () => {
    const mine = resultJson({ outcome: 'crash', reason: 'ours', log: [{ level: 'err', msg: 'ours' }] });
    const ignore = ['log', 'reason'];
    expect(agrees(RESULT, mine, { outcome: 'crash' }, ignore)).to.equal(true);
    expect(agrees(RESULT, mine, { outcome: 'crash', reason: 'theirs', log: [] }, ignore)).to.equal(true);
    expect(agrees(RESULT, mine, { outcome: 'crash', reason: 7 }, ignore), 'an ill-typed reason').to.equal(false);
    expect(agrees(RESULT, mine, { outcome: 'crash', log: [{ level: 'loud', msg: '' }] }, ignore), 'an ill-typed log').to.equal(false);
    expect(agrees(RESULT, mine, { outcome: 'ok' }, ignore)).to.equal(false);
    expect(agrees(RESULT, { outcome: 'ok', value: '0x10' }, { outcome: 'ok', value: '0x0010' })).to.equal(true);
    expect(agrees(RESULT, { outcome: 'ok', value: '0x10' }, { outcome: 'ok' })).to.equal(false);
    expect(agrees(RESULT, { outcome: 'ok' }, { outcome: 'ok', intid: 3 }), 'a field only on the other side').to.equal(false);
  });
});

/**
 * The model behind the protocol, writing every answer differently from the model's own bytes:
 * keys in reverse order, hex in capitals with leading zeros, no `log`, an extra key.
 */
class Respelling extends LineDriver {
  private readonly server = new Server();

  constructor() {
    super('respelling');
  }

  protected write(text: string): void {
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const o = JSON.parse(this.server.handle(line).line) as Json;
      const res = o['result'] as Json | undefined;
      if (res !== undefined) delete res['log'];
      const respelled = JSON.stringify(Object.fromEntries(Object.entries({ ...o, vendor: 1 }).reverse()))
        .replace(/"0x([0-9a-f]+)"/g, (_m, h: string) => `"0X0${h.toUpperCase()}"`);
      this.receive(respelled);
    }
  }

  protected describeEnd(): string {
    return 'ended';
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('pipelined differential runs (src/conformance/diff.ts, driver.ts)', function () {
  this.timeout(60000);

  it('§7: a side that agrees in other bytes (key order, hex spelling, no log, extra keys) is "same" on every step', async () => {
    const model = new ModelDriver();
    const other = new Respelling();
    for (let seed = 1; seed <= 10; seed++) {
      const c = caseOf(seed);
      const out = await runCase(model, other, c);
      expect(out.kind, `seed ${seed}`).to.equal('same');
    }
  });

  it('§7: the generator\'s run of a case (recordModelRun) is the model\'s run of it: the same RESULTs and snapshot texts at every level, and the same outcome against a mutant', async () => {
    for (const level of ['full', 'guest', 'results'] as const) {
      for (let seed = 1; seed <= 25; seed++) {
        const { run, watch } = recordModelRun(level);
        const t = generateTraceWithOps(seed, { steps: 60 }, watch).trace;
        const m = Machine.fromJson(t.config);
        if (E.isLeft(m)) throw new Error(m.left.join('; '));
        expect(run.results.length, `seed ${seed}`).to.equal(t.steps.length);
        t.steps.forEach((s, i) => {
          const r = m.right.step(s, i);
          if (E.isLeft(r)) throw new Error(r.left);
          expect(JSON.stringify(resultJson(run.results[i]!)), `${level} seed ${seed} step ${i}`).to.equal(JSON.stringify(resultJson(r.right)));
          const snap = level === 'results' || m.right.crashed !== null ? '' : level === 'full' ? m.right.snapshotJson() : guestSnapshotJson(m.right.host);
          expect(run.snaps[i], `${level} seed ${seed} step ${i}`).to.equal(snap);
        });
      }
    }
    const model = new ModelDriver();
    const other = new ModelDriver('evict-on-equal');
    let diverged = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const { run, watch } = recordModelRun('full');
      const t = generateTraceWithOps(seed, { steps: 60, vmm: 0 }, watch).trace;
      const c: DiffCase = { name: t.name, config: t.config, steps: t.steps };
      const given = await startCase(model, other, c, COMPARE_FULL, run).finish();
      expect(given, `seed ${seed}`).to.deep.equal(await runCase(model, other, c));
      if (given.kind === 'diverged') diverged += 1;
    }
    expect(diverged).to.be.above(0);
    // A run of another case, level or model is a bug of the caller.
    const { run } = recordModelRun('guest');
    expect(() => startCase(model, other, caseOf(1), COMPARE_FULL, run)).to.throw(/not of this case/);
  });

  it('§7: a case abandoned mid-way (its answers discarded) leaves the side in step: the next case compares normally', async () => {
    const model = new ModelDriver();
    const other = new ModelDriver('evict-on-equal');
    let diverged = 0;
    for (let seed = 1; seed <= 30; seed++) {
      // Without device domains: the traces this was written on, where evict-on-equal diverges (seed 4).
      const c = caseOf(seed, 60, { vmm: 0 });
      // Two cases in flight, as `vgic diff` runs them; the second is abandoned when the first diverges.
      const first = startCase(model, other, c);
      const second = startCase(model, other, caseOf(seed + 500, 60));
      const out = await first.finish();
      if (out.kind === 'diverged') diverged += 1;
      second.abandon();
      // The same side, right after: a case that both agree on (no op that the mutant changes).
      const calm = await runCase(model, other, { name: 'calm', config: c.config, steps: [{ op: 'snapshot' }] });
      expect(calm.kind, `after seed ${seed}`).to.equal('same');
    }
    expect(diverged).to.be.above(0);
  });

  it('§7: against `vgic serve` with a mutant: after a divergence with answers still owed, the next case and a plain request are answered in step', async () => {
    const model = new ModelDriver();
    const other = new ProcessDriver(`${SERVE} --mutant evict-on-equal`, 20000);
    try {
      await other.hello();
      let seen = false;
      for (let seed = 1; seed <= 40 && !seen; seed++) {
        const c = caseOf(seed, 60);
        const run = startCase(model, other, c);
        const ahead = startCase(model, other, caseOf(seed + 1000, 60));
        const out = await run.finish();
        ahead.abandon();
        if (out.kind === 'diverged' && out.divergence.step < c.steps.length - 1) seen = true;
        const r = await other.reset(c.config);
        expect(r.ok).to.equal(true);
        const snap = await other.snapshot();
        expect(snap.ok).to.equal(true);
      }
      expect(seen, 'no early divergence in 40 seeds').to.equal(true);
    } finally {
      await other.close();
    }
  });
});

describe('a side started before its driver (src/conformance/spawn.ts: vgic diff --random starts it first)', function () {
  this.timeout(20000);
  const node = (code: string): string => `"${process.execPath}" -e "${code}"`;
  const gone = async (side: StartedSide): Promise<void> => {
    while (side.exit() === null) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
  };

  /** Start `code`, let it exit unheard, then take it over: what hello fails with. */
  const helloAfterExit = async (code: string): Promise<string> => {
    const cmd = node(code);
    const side = startSide(cmd);
    await gone(side);
    const d = new ProcessDriver(cmd, 5000, side);
    try {
      await d.hello();
      return 'hello answered';
    } catch (e) {
      return (e as Error).message;
    } finally {
      await d.close();
    }
  };

  it('§7: what it wrote and said on standard error before it exited, with no one listening, still reaches the driver', async () => {
    expect(await helloAfterExit("console.log('garbage'); console.error('boom'); process.exit(3)")).to.contain('answered hello with a line that is not JSON: garbage');
    expect(await helloAfterExit("console.error('no vGIC here'); process.exit(3)")).to.match(/exited \(status 3\); its standard error ends with: no vGIC here/);
  });

  it('§7: a side taken over while it runs answers as one started by the driver; one never taken over is killed by abandon', async () => {
    const side = startSide(SERVE);
    const d = new ProcessDriver(SERVE, 20000, side);
    try {
      expect((await d.hello()).format).to.equal('vgic-trace/1');
    } finally {
      await d.close();
    }
    side.abandon(); // taken over: the driver closed it, nothing to do
    const idle = startSide(node('setTimeout(() => {}, 60000)'));
    idle.abandon();
    await gone(idle);
    expect(idle.exit()!.signal).to.equal('SIGKILL');
  });
});

describe('vgic serve: the quick request check (src/conformance/protocol.ts)', () => {
  it('§7: well-formed requests decode to the same value as through the codecs', () => {
    const requests: Json[] = [
      { id: 1, cmd: 'hello' }, { cmd: 'quit', id: 'q' }, { id: 2, cmd: 'snapshot' },
      { id: 3, cmd: 'reset', config: { gic: 'v3' } }, { step: { op: 'enter', pcpu: 0 }, cmd: 'step', id: 4 },
    ];
    for (const r of requests) {
      const d = decodeRequest(JSON.stringify(r));
      expect(E.isRight(d) ? d.right : d.left).to.deep.equal(r);
    }
  });

  it('§7: near misses still get the codec\'s messages (a missing payload, an extra key, an id of the wrong type)', () => {
    const left = (r: Json): unknown => {
      const d = decodeRequest(JSON.stringify(r));
      return E.isLeft(d) ? d.left : null;
    };
    expect(left({ id: 1, cmd: 'step' })).to.deep.equal({ id: 1, error: 'request.step: missing key (expected a step object)' });
    expect(left({ id: 1, cmd: 'hello', x: 1 })).to.deep.equal({ id: 1, error: 'request.x: unknown key' });
    expect(left({ id: 1, cmd: 'snapshot', step: {} })).to.deep.equal({ id: 1, error: 'request.step: unknown key' });
    expect((left({ id: true, cmd: 'hello' }) as { id: unknown }).id).to.equal(null);
  });

  it('§5, §7: the snapshot answer is the canonical snapshot text, byte for byte', () => {
    const s = new Server();
    const c = caseOf(3);
    s.handle(JSON.stringify({ id: 1, cmd: 'reset', config: c.config }));
    const m = Machine.fromJson(c.config);
    if (E.isLeft(m)) return expect.fail(m.left.join('; '));
    c.steps.slice(0, 10).forEach((st, i) => {
      s.handle(JSON.stringify({ id: 2 + i, cmd: 'step', step: st }));
      m.right.step(st, i);
    });
    expect(s.handle(JSON.stringify({ id: 'x', cmd: 'snapshot' })).line).to.equal(`{"id":"x","ok":true,"snapshot":${JSON.stringify(m.right.snapshot())}}`);
  });
});
