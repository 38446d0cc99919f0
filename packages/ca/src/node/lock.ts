/// <reference types="node" />
/**
 * @module node/lock — one process at a time on an embedded (PGlite) data directory. PGlite takes no
 * lock of its own: a second process opening the same directory reads a stale copy and its writes
 * overwrite the first one's (seen in an experiment: a row the first process inserted was lost).
 */
import { constants } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { CaError } from '../errors.js';

/** A held lock; `release` removes the lock file (idempotent). */
export interface DirectoryLock {
  readonly path: string;
  release(): Promise<void>;
}

/**
 * Takes `<dir>.lock` (created exclusively, holding our pid). A lock whose process is gone is stale
 * and taken over.
 *
 * @throws ERR_CA_STORE_BUSY when a live process holds it.
 * @example
 * const lock = await lockDirectory('./ca-data');
 * try { … } finally { await lock.release(); }
 */
export async function lockDirectory(dir: string, what = 'certified ca'): Promise<DirectoryLock> {
  const path = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      await fh.writeFile(`${process.pid}\n${what}\n`);
      await fh.close();
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        // Its directory is missing or cannot hold files (a dangling link, /proc, read-only).
        throw new CaError(
          'ERR_CA_STORE_FAILED',
          `The embedded store ${dir} cannot be used: its lock file ${path} cannot be created (${(e as Error).message}).`,
          { field: 'store.path', value: dir, cause: e },
        );
      const [pidText, holder] = (await readFile(path, 'utf8').catch(() => '')).split('\n');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && alive(pid))
        throw new CaError(
          'ERR_CA_STORE_BUSY',
          `The embedded store ${dir} is open in process ${pid} (${holder || 'unknown'}); PGlite allows one process at a time. Stop that process, or use the postgres backend for several.`,
          { field: 'store.path', value: dir },
        );
      await rm(path, { force: true });
    }
  }
  throw new CaError('ERR_CA_STORE_BUSY', `Could not take the lock ${path}.`, {
    field: 'store.path',
    value: dir,
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
