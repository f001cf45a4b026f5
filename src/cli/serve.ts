/** `vgic serve [--mutant NAME]`: the model as a driver on stdin/stdout (FORMAT.md §7). */
import { createInterface } from 'node:readline';
import { Server } from '../conformance/protocol.js';
import { parse, str, type Io } from './args.js';
import { mutantOption } from './mutant.js';

export const SERVE_USAGE = 'vgic serve [--mutant NAME]';

export function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { mutant: { type: 'string' } }, false);
  const server = new Server(mutantOption(str(values['mutant'])));
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
