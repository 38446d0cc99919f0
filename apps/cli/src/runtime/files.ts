/** @module runtime/files — the CLI's file errors, alike on every runtime (Node's and Deno's errors both carry `code`). */
import { CliError } from '../cli.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** ERR_FILE_READ or ERR_FILE_WRITE for `path`, in a sentence naming the reason. */
export function fileError(verb: 'read' | 'write', path: string, e: unknown): CliError {
  const code = (e as { code?: string } | null)?.code ?? '';
  return new CliError(
    verb === 'read' ? 'ERR_FILE_READ' : 'ERR_FILE_WRITE',
    `Cannot ${verb} ${path}: ${REASONS[code] ?? (e as Error).message}.`,
    { cause: e },
  );
}
