/** `vgic serve [--mutant NAME]`: the model as a driver on stdin/stdout (FORMAT.md §7). */
import { LineReader, type LineEvent } from '../conformance/lines.js';
import { MAX_REQUEST_LINE_BYTES } from '../conformance/limits.js';
import { Server, tooLongRequestReply } from '../conformance/protocol.js';
import { parse, str, type Io } from './args.js';
import { mutantOption } from './mutant.js';

export const SERVE_USAGE = 'vgic serve [--mutant NAME]';

export function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { mutant: { type: 'string' } }, false);
  const server = new Server(mutantOption(str(values['mutant'])));
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
    const handle = (events: LineEvent[]): void => {
      for (const ev of events) {
        if (done) return;
        if (!('line' in ev) || ev.line.trim() !== '') {
          const reply = 'line' in ev ? server.handle(ev.line) : tooLongRequestReply();
          io.out(`${reply.line}\n`);
          if (reply.diagnostic !== undefined) io.err(`${reply.diagnostic}\n`);
          if (reply.exit !== undefined) finish(reply.exit);
        }
      }
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
