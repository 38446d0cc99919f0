/**
 * @module test/helpers — for the CLI's tests through `main(argv, io)`: a test {@link Io} (the real
 * `nodeIo()` with output captured, paths resolved against a temp working directory, and injectable
 * store, stdin and shutdown), a recursive directory snapshot (paths, bytes, modes), a node:fs wrapper
 * that fails chosen calls, and temp-directory bookkeeping.
 */
import * as nodeFs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
export { snapshotDir } from '@certified/testing/snapshot';
import type { IdentityStore } from '@certified/identity';
import { createFileStore, type FsFileHandleLike, type FsLike } from '@certified/node';
import type { Io } from '../src/cli.js';
import { main, messageMain } from '../src/main.js';
import { nodeIo } from '../src/runtime/node.js';

/** True when running as root, where chmod does not stop writes. */
export const isRoot = process.getuid?.() === 0;

/** Overrides for {@link testIo}. */
export interface TestIoOptions {
  /** Colour per stream; default none (as when piped). */
  readonly colour?: { readonly stdout: boolean; readonly stderr: boolean };
  /** The working directory relative paths resolve against. */
  readonly cwd: string;
  /** Replaces `io.openStore` (e.g. `createFileStore(dir, { fs: failing })`). */
  readonly openStore?: (dir: string) => IdentityStore;
  /** What `-` reads. */
  readonly stdin?: string | Uint8Array;
  /** Replaces `io.waitForShutdown` (for `serve`). */
  readonly waitForShutdown?: () => Promise<string>;
}

/** A test Io and what it captured. */
export interface TestIo {
  readonly io: Io;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
}

/** `nodeIo()` with stdout/stderr captured, `cwd` a temp directory, and the given overrides. */
export function testIo(options: TestIoOptions): TestIo {
  const base = nodeIo();
  let out = '';
  let err = '';
  const { cwd } = options;
  const io: Io = {
    ...base,
    cwd,
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    // nodeIo resolves against process.cwd(); keep its error mapping but resolve against ours.
    readFile: (p) => {
      if (p === '-' && options.stdin !== undefined)
        return Promise.resolve(
          typeof options.stdin === 'string'
            ? new TextEncoder().encode(options.stdin)
            : options.stdin,
        );
      return base.readFile(p === '-' ? p : path.resolve(cwd, p));
    },
    writeFile: (p, data) => base.writeFile(path.resolve(cwd, p), data),
    resolveConfigDir: (config) =>
      base.resolveConfigDir(config === undefined ? undefined : path.resolve(cwd, config)),
    importModule: (spec) =>
      base.importModule(spec.startsWith('.') ? path.resolve(cwd, spec) : spec),
    colour: options.colour ?? { stdout: false, stderr: false },
    ...(options.openStore ? { openStore: options.openStore } : {}),
    ...(options.waitForShutdown ? { waitForShutdown: options.waitForShutdown } : {}),
  };
  return { io, stdout: () => out, stderr: () => err };
}

/** One finished run of a program. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `certified ARGV` with a fresh {@link testIo}. */
export async function certified(
  argv: readonly string[],
  options: TestIoOptions,
): Promise<RunResult> {
  const t = testIo(options);
  const code = await main(argv, t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

/** Runs `message ARGV` with a fresh {@link testIo}. */
export async function message(argv: readonly string[], options: TestIoOptions): Promise<RunResult> {
  const t = testIo(options);
  const code = await messageMain(argv, t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

/** Asserts a failure: the exit code, exactly one stderr line `program: CODE: sentence`, no stack trace. */
export function expectOneLineError(
  r: RunResult,
  code: string,
  options: { exitCode?: number; program?: string } = {},
): string {
  const program = options.program ?? 'certified';
  expect(r.code, r.stderr).toBe(options.exitCode ?? 1);
  expect(r.stderr).not.toMatch(/^ {4}at /m);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith(`${program}: `));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${program}: ${code}: \\S.*\\S$`));
  if (code === 'ERR_USAGE')
    // The one error line, then only the hint where to find usage.
    expect(r.stderr.replace(lines[0]!, '').trim()).toMatch(/^(Run `.*--help` for usage\.)?$/);
  else expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  return lines[0]!.slice(`${program}: ${code}: `.length);
}

/** A call of the file store's file system that can be made to fail (`write` is a handle's writeFile). */
export type FsOp = keyof FsLike | 'write';

/** An error shaped like node:fs's. */
export function errnoError(code: string, syscall: string, target: string): Error {
  return Object.assign(new Error(`${code}: injected failure, ${syscall} '${target}'`), {
    code,
    errno: -1,
    syscall,
    path: target,
  });
}

/**
 * node:fs/promises failing the `nth` call (1-based) of `op` with `code` (every call from the nth on
 * when `nth` is `'all'`); `calls` counts calls per op.
 */
export function failingFs(
  op: FsOp,
  nth: number | 'all',
  code: string,
): { fs: FsLike; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const enter = (name: FsOp, target: string) => {
    const n = (calls[name] = (calls[name] ?? 0) + 1);
    if (name === op && (nth === 'all' || n === nth)) throw errnoError(code, name, target);
  };
  const handleOf = (
    h: Awaited<ReturnType<typeof nodeFs.open>>,
    file: string,
  ): FsFileHandleLike => ({
    async writeFile(data) {
      enter('write', file);
      await h.writeFile(data);
    },
    sync: () => h.sync(),
    close: () => h.close(),
  });
  const fs: FsLike = {
    async readFile(p) {
      enter('readFile', p);
      return nodeFs.readFile(p);
    },
    async readdir(p) {
      enter('readdir', p);
      return nodeFs.readdir(p);
    },
    async stat(p) {
      enter('stat', p);
      return nodeFs.stat(p);
    },
    async lstat(p) {
      enter('lstat', p);
      return nodeFs.lstat(p);
    },
    async mkdir(p, o) {
      enter('mkdir', p);
      return nodeFs.mkdir(p, o);
    },
    async open(p, flags, mode) {
      enter('open', p);
      return handleOf(await nodeFs.open(p, flags, mode), p);
    },
    async chmod(p, mode) {
      enter('chmod', p);
      return nodeFs.chmod(p, mode);
    },
    async rename(a, b) {
      enter('rename', a);
      return nodeFs.rename(a, b);
    },
    async unlink(p) {
      enter('unlink', p);
      return nodeFs.unlink(p);
    },
    async rmdir(p) {
      enter('rmdir', p);
      return nodeFs.rmdir(p);
    },
    async rm(p, o) {
      enter('rm', p);
      return nodeFs.rm(p, o);
    },
  };
  return { fs, calls };
}

/** An `openStore` whose stores use {@link failingFs}. */
export function failingStore(
  op: FsOp,
  nth: number | 'all',
  code: string,
): { openStore: (dir: string) => IdentityStore; calls: Record<string, number> } {
  const { fs, calls } = failingFs(op, nth, code);
  return { openStore: (dir) => createFileStore(dir, { fs }), calls };
}

/** A new temp directory; {@link removeTempDirs} deletes them all. */
export async function tempDir(prefix = 'certified-cli-'): Promise<string> {
  const dir = await nodeFs.mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
const made: string[] = [];

/** Deletes every directory {@link tempDir} made (making them writable first). */
export async function removeTempDirs(): Promise<void> {
  for (const dir of made.splice(0)) {
    await makeWritable(dir);
    await nodeFs.rm(dir, { recursive: true, force: true });
  }
}

/** chmod u+rwx on every directory under `dir` (undoes a read-only test). */
export async function makeWritable(dir: string): Promise<void> {
  const st = await nodeFs.lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await nodeFs.chmod(dir, (st.mode & 0o777) | 0o700);
  for (const name of await nodeFs.readdir(dir)) await makeWritable(path.join(dir, name));
}

/** chmod `mode` on `dir` and every directory below it. */
export async function chmodDirs(dir: string, mode: number): Promise<void> {
  for (const e of await nodeFs.readdir(dir, { withFileTypes: true }))
    if (e.isDirectory()) await chmodDirs(path.join(dir, e.name), mode);
  await nodeFs.chmod(dir, mode);
}

/** Paths in a snapshot that look like the file store's temp or backup files. */
export function strayInternalFiles(snap: Record<string, string>): string[] {
  return Object.keys(snap).filter((p) => /(^|\/)\.[^/]*\.certified-(tmp|bak)-/.test(p));
}
