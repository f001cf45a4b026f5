/**
 * Starting another implementation's command for the driver protocol (trace-format §7), apart
 * from the driver that talks to it: `vgic diff` starts it first and loads the rest of itself
 * while it starts up; a ProcessDriver then takes it over. No imports beyond Node's, so that
 * the command's front end can start it before loading the model.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** A started command, and what happened to it before a driver took it over. */
export interface StartedSide {
  readonly child: ChildProcessWithoutNullStreams;
  /** It could not be started. */
  readonly error: () => Error | null;
  /** It exited (its status or signal). */
  readonly exit: () => { code: number | null; signal: NodeJS.Signals | null } | null;
  /**
   * A driver takes it over: what it wrote so far (its output, whether that ended, its standard
   * error), kept since it started; the caller listens from now on (in the same tick, so that
   * nothing is missed: Node discards the output of a child that exits with no listener).
   */
  adopt(): { out: Buffer[]; outEnded: boolean; err: Buffer[] };
  /** Kill it unless a driver took it over (that driver closes it). */
  abandon(): void;
}

/** Start `command` through the shell, in its own process group (closing kills what the shell started too). */
export function startSide(command: string): StartedSide {
  const child = spawn(command, { shell: true, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let error: Error | null = null;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let adopted = false;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outEnded = false;
  const onOut = (b: Buffer): void => { out.push(b); };
  const onErr = (b: Buffer): void => { err.push(b); };
  const onEnd = (): void => { outEnded = true; };
  child.on('error', (e) => { error = e; });
  child.on('exit', (code, signal) => { exit = { code, signal }; });
  child.stdin.on('error', () => { /* the driver reports the exit */ });
  child.stdout.on('data', onOut);
  child.stdout.on('end', onEnd);
  child.stderr.on('data', onErr);
  return {
    child,
    error: () => error,
    exit: () => exit,
    adopt: () => {
      adopted = true;
      child.stdout.off('data', onOut);
      child.stdout.off('end', onEnd);
      child.stderr.off('data', onErr);
      return { out, outEnded, err };
    },
    abandon: () => {
      if (adopted) return;
      adopted = true;
      killSide(child);
      child.stdin.destroy();
    },
  };
}

/**
 * Kill whatever is left of a started command's process group (the shell may be gone, what it
 * started not) and stop reading its output.
 */
export function killSide(child: ChildProcessWithoutNullStreams): void {
  if (child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  child.stdout.destroy();
  child.stderr.destroy();
}
