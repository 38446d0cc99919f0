/**
 * @module test/fs-helpers — for file-store tests on every runtime: a node:fs/promises wrapper that fails
 * chosen calls with a system error (`faultyFs`), and a full snapshot of a directory tree (`snapshot`).
 * Uses only node:fs/promises and node:path, so it runs unchanged on Node, Deno and Bun.
 */
import * as nodeFs from 'node:fs/promises';
import type { FsFileHandleLike, FsLike } from '../src/fs-store.js';
export { snapshotDir as snapshot } from '@certified/testing/snapshot';

/** A call that can be made to fail: an FsLike method, or a method of a handle `open` returned. */
export type FsOp = keyof FsLike | 'write' | 'sync' | 'close';

/** Fail the `nth` call (1-based) of `op` with a system error whose `code` is `code`. */
export interface Fault {
  readonly op: FsOp;
  readonly nth: number;
  readonly code: string;
}

/** An error shaped like the ones node:fs throws. */
export function errnoError(code: string, syscall: string, target: string): Error {
  return Object.assign(new Error(`${code}: injected failure, ${syscall} '${target}'`), {
    code,
    errno: -1,
    syscall,
    path: target,
  });
}

/**
 * node:fs/promises with `faults` injected; `calls` counts every call per op. `before` runs before each
 * call (after counting), e.g. to look at the directory half-way through a commit.
 */
export function faultyFs(
  faults: readonly Fault[] = [],
  before?: (op: FsOp, n: number, args: readonly unknown[]) => Promise<void> | void,
): { fs: FsLike; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const enter = async (op: FsOp, args: readonly unknown[]) => {
    const n = (calls[op] = (calls[op] ?? 0) + 1);
    await before?.(op, n, args);
    const fault = faults.find((f) => f.op === op && f.nth === n);
    if (fault) throw errnoError(fault.code, op, String(args[0] ?? ''));
  };
  const wrapHandle = (handle: FsFileHandleLike, file: string): FsFileHandleLike => ({
    async writeFile(data) {
      await enter('write', [file]);
      return handle.writeFile(data);
    },
    async sync() {
      await enter('sync', [file]);
      return handle.sync();
    },
    async close() {
      try {
        await enter('close', [file]);
      } finally {
        await handle.close(); // never leak the descriptor, even when the close "fails"
      }
    },
  });
  const fs: FsLike = {
    async readFile(p) {
      await enter('readFile', [p]);
      return nodeFs.readFile(p);
    },
    async readdir(p) {
      await enter('readdir', [p]);
      return nodeFs.readdir(p);
    },
    async stat(p) {
      await enter('stat', [p]);
      return nodeFs.stat(p);
    },
    async lstat(p) {
      await enter('lstat', [p]);
      return nodeFs.lstat(p);
    },
    async mkdir(p, options) {
      await enter('mkdir', [p]);
      return nodeFs.mkdir(p, options);
    },
    async open(p, flags, mode) {
      await enter('open', [p]);
      return wrapHandle(await nodeFs.open(p, flags, mode), p);
    },
    async chmod(p, mode) {
      await enter('chmod', [p]);
      return nodeFs.chmod(p, mode);
    },
    async rename(from, to) {
      await enter('rename', [from, to]);
      return nodeFs.rename(from, to);
    },
    async unlink(p) {
      await enter('unlink', [p]);
      return nodeFs.unlink(p);
    },
    async rmdir(p) {
      await enter('rmdir', [p]);
      return nodeFs.rmdir(p);
    },
    async rm(p, options) {
      await enter('rm', [p]);
      return nodeFs.rm(p, options);
    },
  };
  return { fs, calls };
}

/** Paths in a snapshot that look like the store's temp or backup files. */
export function strayInternalFiles(snap: Record<string, string>): string[] {
  return Object.keys(snap).filter((p) => /(^|\/)\.[^/]*\.certified-(tmp|bak)-/.test(p));
}
