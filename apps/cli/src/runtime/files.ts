/**
 * @module runtime/files — what the Node and Deno Io share: file errors (Node's and Deno's errors both
 * carry `code`) and importing a user's module.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError } from '../cli.js';

/**
 * Most the CLI reads from a stream: standard input, a pipe or a device (`/dev/zero` never ends).
 * Regular files are read whole, whatever their size; what the CLI reads is certificates, letters
 * and request bodies.
 */
export const STREAM_LIMIT = 64 * 2 ** 20;

/**
 * The chunks joined, or a thrown EFBIG error once they pass `limit` bytes (then reading stops).
 *
 * @example
 * const bytes = await readAtMost(process.stdin, STREAM_LIMIT);
 */
export async function readAtMost(
  chunks: AsyncIterable<Uint8Array>,
  limit = STREAM_LIMIT,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    if (size > limit) throw Object.assign(new Error(`more than ${limit} bytes`), { code: 'EFBIG' });
    parts.push(chunk);
  }
  // Blob joins them on every runtime (Node, Deno, Bun): no copy loop of our own.
  return new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer());
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  EFBIG: `it did not end within ${STREAM_LIMIT / 2 ** 20} MiB (a device or a pipe that keeps sending?)`,
};

/** ERR_FILE_READ or ERR_FILE_WRITE for `path`, in a sentence naming the reason. */
export function fileError(verb: 'read' | 'write', path: string, e: unknown): CliError {
  const code = (e as { code?: string } | null)?.code ?? '';
  return new CliError(
    verb === 'read' ? 'ERR_FILE_READ' : 'ERR_FILE_WRITE',
    `Cannot ${verb} ${path === '-' ? 'standard input' : path}: ${REASONS[code] ?? (e as Error).message}.`,
    { cause: e },
  );
}

/** Imports a module by path (a relative path resolves against `cwd`) or by package name. */
export function importModule(cwd: string, specifier: string): Promise<Record<string, unknown>> {
  const path =
    specifier.startsWith('.') || isAbsolute(specifier) || /\.[cm]?[jt]sx?$/.test(specifier);
  return import(path ? pathToFileURL(resolve(cwd, specifier)).href : specifier) as Promise<
    Record<string, unknown>
  >;
}
