/**
 * @module runtime/start — what both bins share: make the process's Io, or say in one line why it
 * could not be made. Loading the Node runtime can fail before any command runs, e.g. when a runtime
 * refuses a permission the Node APIs it loads ask for.
 */
import { reportError, type Io } from '../cli.js';

/** The process's Io; on failure, the error is reported on stderr and the process exits. */
export async function startIo(program: 'certified' | 'message'): Promise<Io> {
  try {
    return (await import('./node.js')).nodeIo();
  } catch (e) {
    const stderr: Pick<Io, 'stderr'> = { stderr: (t) => void process.stderr.write(t) };
    const verbose = process.argv.includes('-v') || process.argv.includes('--verbose');
    process.exit(reportError(e, stderr as Io, verbose, program));
  }
}
