/**
 * @module runtime/start — what both bins share: the process's arguments and exit, and its Io (Deno's
 * own APIs on Deno, Node's elsewhere), or one line saying why the Io could not be made. Loading a
 * runtime's Io can fail before any command runs, e.g. when a runtime refuses a permission it asks for.
 */
import { reportError, type Io } from '../cli.js';
import type { DenoApi } from './deno.js';

// Read through globalThis: on Deno, touching `process` starts the Node compatibility layer.
const deno = (globalThis as { Deno?: DenoApi }).Deno;

/** The command-line arguments after the script. */
export function args(): string[] {
  return deno ? [...deno.args] : process.argv.slice(2);
}

/** Ends the process with `code`. */
export function exit(code: number): never {
  return deno ? deno.exit(code) : process.exit(code);
}

/** The process's Io; on failure, the error is reported on stderr and the process exits. */
export async function startIo(program: 'certified' | 'message'): Promise<Io> {
  try {
    return deno ? (await import('./deno.js')).denoIo(deno) : (await import('./node.js')).nodeIo();
  } catch (e) {
    const encoder = new TextEncoder();
    const stderr: Pick<Io, 'stderr'> = {
      stderr: (t) =>
        void (deno ? deno.stderr.writeSync(encoder.encode(t)) : process.stderr.write(t)),
    };
    const verbose = args().includes('-v') || args().includes('--verbose');
    return exit(reportError(e, stderr as Io, verbose, program));
  }
}
