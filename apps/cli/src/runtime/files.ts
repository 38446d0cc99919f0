/**
 * @module runtime/files — what the Node and Deno Io share: file errors (Node's and Deno's errors both
 * carry `code`) and importing a user's module.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** Imports a module by path (a relative path resolves against `cwd`) or by package name. */
export function importModule(cwd: string, specifier: string): Promise<Record<string, unknown>> {
  const path =
    specifier.startsWith('.') || isAbsolute(specifier) || /\.[cm]?[jt]sx?$/.test(specifier);
  return import(path ? pathToFileURL(resolve(cwd, specifier)).href : specifier) as Promise<
    Record<string, unknown>
  >;
}
