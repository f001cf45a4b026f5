/** `vgic serve [--mutant NAME] [--divergence NAMES] [--snapshots LEVEL]`: the model as a driver on stdin/stdout (docs/trace-format.md §7). */
import { LineReader, type LineEvent } from '../conformance/lines.js';
import { MAX_REQUEST_LINE_BYTES } from '../conformance/limits.js';
import { SNAPSHOT_ABILITIES, Server, tooLongRequestReply, type SnapshotAbility } from '../conformance/protocol.js';
import { parseCommand, usageLine, type CommandSpec, type Io } from './args.js';
import { divergenceList, mutantOption } from './mutant.js';
import { makeVariant } from '../xen/variant.js';

export const SERVE_CMD: CommandSpec = {
  name: 'serve',
  summary: 'The model as a driver (docs/trace-format.md, "The driver protocol"): one JSON request per line on stdin, one response line each on stdout.',
  options: {
    mutant: { type: 'string', value: 'NAME', help: 'serve a deliberately wrong model (vgic mutants lists them)' },
    divergence: {
      type: 'string', value: 'NAME[,NAME...]',
      help: 'serve the model with these entries of the divergence catalogue (docs/divergences.md) switched to the architectural behaviour',
    },
    snapshots: {
      type: 'string', choices: SNAPSHOT_ABILITIES, default: 'full',
      help: 'the snapshots it announces in hello and answers; guest or none play a driver that sees less (no snapshot op either)',
    },
  },
  details: `Requests: hello, reset (a config), step (one op), snapshot (full, or "level":"guest"),
quit. A bad config or a trace error is an ok:false answer and the session goes on; a line
that breaks the protocol is answered ok:false and ends the session.

exit status: 0 the session ended (quit or end of input); 2 bad usage or a request that
breaks the protocol.`,
};

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
