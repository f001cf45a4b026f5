/** `vgic serve [--mutant NAME]`: the model as a driver on stdin/stdout (docs/trace-format.md §7). */
import { createInterface } from 'node:readline';
import { Server } from '../conformance/protocol.js';
import { parseCommand, usageLine, type CommandSpec, type Io } from './args.js';
import { mutantOption } from './mutant.js';

export const SERVE_CMD: CommandSpec = {
  name: 'serve',
  summary: 'The model as a driver (docs/trace-format.md, "The driver protocol"): one JSON request per line on stdin, one response line each on stdout.',
  options: {
    mutant: { type: 'string', value: 'NAME', help: 'serve a deliberately wrong model (vgic mutants lists them)' },
  },
  details: `Requests: hello, reset (a config), step (one op), snapshot, quit. A bad config or a trace
error is an ok:false answer and the session goes on; a line that breaks the protocol is
answered ok:false and ends the session.

exit status: 0 the session ended (quit or end of input); 2 bad usage or a request that
breaks the protocol.`,
};

export const SERVE_USAGE = usageLine(SERVE_CMD);

export function serveCommand(argv: string[], io: Io): Promise<number> {
  const server = new Server(mutantOption(parseCommand(SERVE_CMD, argv).str('mutant')));
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let code = 0;
    let done = false;
    rl.on('line', (line) => {
      if (done || line.trim() === '') return;
      const reply = server.handle(line);
      io.out(`${reply.line}\n`);
      if (reply.diagnostic !== undefined) io.err(`${reply.diagnostic}\n`);
      if (reply.exit !== undefined) {
        done = true;
        code = reply.exit;
        rl.close();
        // Stop reading: the process must end now, not when the other side closes our stdin.
        process.stdin.destroy();
      }
    });
    rl.on('close', () => resolve(code));
  });
}
