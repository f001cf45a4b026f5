/**
 * `npm start` runs the built-in demonstration; `vgic` is the command behind it.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo.js';

const MAIN = join(process.cwd(), 'build', 'src', 'cli', 'main.js');

describe('demo (npm start)', () => {
  const text = runDemo();

  it('3.8, Q12: shows the spill, the evictions and UIE on return to the guest', () => {
    expect(text).to.contain('lr_pending: 37 0x40, 36 0x80');
    // After the first entry: 37, 36 and (the quirk) 34 in LRs, 33 and 32 waiting, UIE set.
    expect(text).to.match(/\[\d+\] \{"op":"enter","pcpu":0\} -> ok\n {4}pCPU0: d1v0 \(guest\) {2}UIE/);
    expect(text).to.contain('lr_pending: 33 0xa0, 32 0xa0');
  });

  it('trace-format §3.4: the guest acknowledges in priority order, then gets 1023', () => {
    const acked = [...text.matchAll(/"op":"ack","pcpu":0\} -> ok \{"intid":(\d+)\}/g)].map((m) => Number(m[1]));
    expect(acked).to.deep.equal([37, 36, 35, 33, 32, 34, 1023]);
  });

  it('3.7(d): everything has drained at the end', () => {
    const tail = text.slice(text.lastIndexOf('"op":"exit"'));
    expect(tail).to.contain('inflight:   (empty)');
    expect(tail).to.contain('lr_pending: (empty)');
    expect(tail).to.contain('lr_mask=0x0');
  });

  it('the vgic command runs the demo (exit 0), prints usage for help and refuses unknown commands with exit 2', () => {
    const demo = spawnSync(process.execPath, [MAIN, 'demo'], { encoding: 'utf8' });
    expect(demo.status).to.equal(0);
    expect(demo.stdout).to.equal(`${text}\n`);
    const help = spawnSync(process.execPath, [MAIN, 'help'], { encoding: 'utf8' });
    expect(help.status).to.equal(0);
    expect(help.stdout).to.contain('usage: vgic');
    const bad = spawnSync(process.execPath, [MAIN, 'frobnicate'], { encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.contain('unknown command "frobnicate"');
    expect(bad.stderr).not.to.contain('    at ');
  });
});
