/** `vgic serve [--mutant NAME] [--divergence NAMES] [--snapshots LEVEL]`: the model as a driver on stdin/stdout (docs/trace-format.md §7). */
import { LineReader, type LineEvent } from '../conformance/lines.js';
import { MAX_REQUEST_LINE_BYTES } from '../conformance/limits.js';
import { Server, tooLongRequestReply, type SnapshotAbility } from '../conformance/protocol.js';
import { parseCommand, usageLine, type Io } from './args.js';
import { divergenceList, mutantOption } from './names.js';
import { makeVariant } from '../xen/variant.js';
import { SERVE_CMD } from './specs.js';

export { SERVE_CMD };


export const SERVE_USAGE = usageLine(SERVE_CMD);

export function serveCommand(argv: string[], io: Io): Promise<number> {
  const o = parseCommand(SERVE_CMD, argv);
  const server = new Server(makeVariant(mutantOption(o.str('mutant')), divergenceList('divergence', o.str('divergence'))), o.str('snapshots')! as SnapshotAbility);
  return new Promise((resolve) => {
    // Lines are split here, with a cap: an endless line is refused, not buffered.
    const reader = new LineReader(MAX_REQUEST_LINE_BYTES);
    const stdin = process.stdin;
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      stdin.off('data', onData);
      // Stop reading: the process must end now, not when the other side closes our stdin.
      stdin.destroy();
      resolve(code);
    };
    // The answers to the lines of one input chunk are written together, with one write (a
    // client that pipelines its requests sends many lines at once).
    const handle = (events: LineEvent[]): void => {
      let out = '';
      for (const ev of events) {
        if (done) break;
        if (!('line' in ev) || ev.line.trim() !== '') {
          const reply = 'line' in ev ? server.handle(ev.line) : tooLongRequestReply();
          out += `${reply.line}\n`;
          if (reply.diagnostic !== undefined) {
            io.out(out);
            out = '';
            io.err(`${reply.diagnostic}\n`);
          }
          if (reply.exit !== undefined) {
            io.out(out);
            out = '';
            finish(reply.exit);
          }
        }
      }
      if (out !== '') io.out(out);
    };
    const onData = (chunk: Buffer): void => handle(reader.push(chunk));
    stdin.on('data', onData);
    stdin.on('end', () => {
      handle(reader.end());
      finish(0);
    });
    stdin.on('error', (e) => {
      io.err(`vgic serve: cannot read standard input: ${e.message}\n`);
      finish(2);
    });
  });
}
