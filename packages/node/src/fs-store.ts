/**
 * @module fs-store — an IdentityStore on a real directory, through node:fs/promises (which Node, Deno
 * and Bun all implement) or another {@link FsLike}. Commits are all-or-nothing: new content goes to
 * temp files first, replaced files and removed directories are moved aside, and every step is logged
 * so a failure can be undone.
 */
import path from 'node:path';
// Narrow subpaths: a store needs the port, not the identity model or X.509 (CLI cold start).
import { StoreError } from '@certified/core/errors';
import { checkStorePath } from '@certified/identity/store';
import type { IdentityStore, StoreChange, StoreEntry } from '@certified/identity/store';

/** What {@link FsLike.stat} and {@link FsLike.lstat} return (a subset of `fs.Stats`). */
export interface FsStatsLike {
  isFile(): boolean;
  isDirectory(): boolean;
  readonly mode: number;
  /** Bytes, for regular files; when absent, `read` does not check a file's size before reading it. */
  readonly size?: number;
}

/**
 * The largest file `read` takes: an identity directory holds certificates, keys, letters and small
 * YAML files, so anything near this is a mistake, and reading it whole would only waste memory.
 */
export const MAX_STORE_FILE_BYTES: number = 16 * 1024 * 1024;

/** What {@link FsLike.open} returns (a subset of `fs.promises.FileHandle`). */
export interface FsFileHandleLike {
  writeFile(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The part of `node:fs/promises` the file store uses; `node:fs/promises` itself satisfies it. Tests
 * pass a wrapper that fails chosen calls (a full disk on the third write, a rename refused, …).
 */
export interface FsLike {
  readFile(path: string): Promise<Uint8Array>;
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<FsStatsLike>;
  lstat(path: string): Promise<FsStatsLike>;
  mkdir(path: string, options: { mode: number }): Promise<unknown>;
  open(path: string, flags: string, mode: number): Promise<FsFileHandleLike>;
  chmod(path: string, mode: number): Promise<void>;
  rename(oldPath: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  rm(path: string, options: { recursive: boolean; force: boolean }): Promise<void>;
}

/** Options of {@link createFileStore}. */
export interface CreateFileStoreOptions {
  /** The file system; default `node:fs/promises`. */
  readonly fs?: FsLike;
}

// node:fs/promises, imported on first use rather than with this module: on Deno, importing it starts
// the Node compatibility layer (~40 ms), which a caller passing its own `fs` (the CLI's Deno Io) skips.
let nodeFs: Promise<FsLike> | undefined;
const viaNodeFs = <K extends keyof FsLike>(name: K): FsLike[K] =>
  ((...args: unknown[]) =>
    (nodeFs ??= import('node:fs/promises') as Promise<FsLike>).then((fs) =>
      (fs[name] as (...a: unknown[]) => unknown)(...args),
    )) as FsLike[K];
const lazyNodeFs: FsLike = {
  readFile: viaNodeFs('readFile'),
  readdir: viaNodeFs('readdir'),
  stat: viaNodeFs('stat'),
  lstat: viaNodeFs('lstat'),
  mkdir: viaNodeFs('mkdir'),
  open: viaNodeFs('open'),
  chmod: viaNodeFs('chmod'),
  rename: viaNodeFs('rename'),
  unlink: viaNodeFs('unlink'),
  rmdir: viaNodeFs('rmdir'),
  rm: viaNodeFs('rm'),
};

/**
 * An {@link IdentityStore} on a directory, laid out like ORNL certified's (`CA.key`, `id.key` with mode
 * 0600, `*.crt`, `known_servers/*.yaml`, …). `read` returns `undefined` for a missing file, `list` `[]`
 * for a missing directory, and `stat` reports `mode & 0o777`.
 *
 * `commit` is all-or-nothing. It checks every path and `overwrite` flag before touching the disk, then
 * writes each new file to a hidden temp file beside its target (open with the mode, then chmod, since
 * the umask only removes bits; then fsync), moves replaced files and removed directories aside to
 * hidden backups, renames the temp files into place and finally deletes the backups. On any failure
 * it undoes what it did — restores backups, deletes temp files and the directories it created — so
 * the directory is left byte-for-byte and mode-for-mode as it was. The directory itself (mode 0o700)
 * and missing subdirectories are created by `commit`. Temp and backup names start with `.` and carry a
 * random suffix; `list`, `read` and `stat` never show them. Changes apply in order, as in
 * `createMemoryStore` (a `remove` of `known_servers` then writes into it replaces the directory).
 * Commits through one store object run one at a time; nothing locks out other processes.
 *
 * @param dir - the directory, resolved against `process.cwd()`; it need not exist yet.
 * @param options.fs - the file system to use; default `node:fs/promises` (tests inject failures).
 * @returns the store; its `location` is the absolute directory path.
 * @throws StoreError from `read`/`list`/`stat`/`commit`: ERR_STORE_PATH_INVALID (path escapes the
 *   directory or names a temp file), ERR_STORE_EXISTS (write without `overwrite` onto an existing file),
 *   ERR_STORE_PERMISSION (EACCES, EPERM, EROFS), ERR_STORE_NO_SPACE (ENOSPC, EDQUOT),
 *   ERR_STORE_NOT_DIRECTORY (ENOTDIR, EISDIR, or a file where a directory must be), ERR_STORE_IO (any
 *   other failure). `field` is the path inside the directory, `cause` the system error.
 * @throws TypeError / RangeError from `commit` for malformed changes (not an array, data not bytes,
 *   mode outside 0–0o777).
 * @example
 * const store = createFileStore(resolveConfigDir().dir);
 * await store.commit([
 *   { op: 'write', path: 'id.key', data: keyPem, mode: 0o600 },
 *   { op: 'write', path: 'id.crt', data: certPem },
 * ]);
 * const names = await store.list('known_servers');
 */
export function createFileStore(dir: string, options: CreateFileStoreOptions = {}): IdentityStore {
  if (typeof dir !== 'string' || dir === '')
    throw new TypeError(`dir must be a non-empty string, received ${describeValue(dir)}`);
  const fs: FsLike = options.fs ?? lazyNodeFs;
  const root = path.resolve(dir);
  const abs = (rel: string) => (rel === '' ? root : path.join(root, ...rel.split('/')));
  let queue: Promise<unknown> = Promise.resolve();

  return {
    location: root,

    async read(rel) {
      checkStorePath(rel);
      if (isInternalPath(rel)) return undefined;
      try {
        // Looked at before it is opened: a symlink to /dev/zero would be read until memory ran out,
        // and opening a FIFO blocks (a thread-pool thread, forever) until something writes to it.
        const st = await fs.stat(abs(rel));
        if (!st.isFile() && !st.isDirectory()) throw notAFile(rel, abs(rel));
        if (st.size !== undefined && st.size > MAX_STORE_FILE_BYTES)
          throw tooLarge(rel, abs(rel), st.size);
        return new Uint8Array(await fs.readFile(abs(rel)));
      } catch (e) {
        if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
        throw storeError(e, 'read', rel, abs(rel));
      }
    },

    async list(rel) {
      checkStorePath(rel, true);
      if (isInternalPath(rel)) return [];
      try {
        return (await fs.readdir(abs(rel))).filter((name) => !isInternalName(name)).sort();
      } catch (e) {
        const code = errnoOf(e);
        if (code === 'ENOENT') return [];
        // ENOTDIR: either `rel` is a file (an error) or one of its parents is (so it is absent).
        if (code === 'ENOTDIR') {
          const st = await statOrUndefined(fs, abs(rel)).catch(() => null);
          if (st === undefined) return [];
        }
        throw storeError(e, 'list', rel, abs(rel));
      }
    },

    async stat(rel) {
      checkStorePath(rel, true);
      if (isInternalPath(rel)) return undefined;
      try {
        const st = await fs.stat(abs(rel));
        const kind: StoreEntry['kind'] = st.isDirectory() ? 'directory' : 'file';
        return { kind, mode: st.mode & 0o777 };
      } catch (e) {
        if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
        throw storeError(e, 'stat', rel, abs(rel));
      }
    },

    commit(changes) {
      const run = queue.then(() => {
        checkChanges(changes);
        return commitChanges(fs, root, abs, changes);
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

// --- internal ---

const TEMP_MARK = '.certified-tmp-';
const BACKUP_MARK = '.certified-bak-';
const INTERNAL_NAME = /^\.[\s\S]*\.certified-(?:tmp|bak)-[0-9a-f]{16}$/;

/** Temp and backup files: `.<name>.certified-tmp-<16 hex>` / `.<name>.certified-bak-<16 hex>`. */
function isInternalName(name: string): boolean {
  return INTERNAL_NAME.test(name);
}

function isInternalPath(rel: string): boolean {
  return rel !== '' && rel.split('/').some(isInternalName);
}

function internalName(target: string, mark: string): string {
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');
  // Keep the name recognisable but short enough that the suffix never pushes it past NAME_MAX (255).
  return `.${path.basename(target).slice(0, 96)}${mark}${suffix}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a Uint8Array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** Caller bugs are TypeErrors/RangeErrors, thrown before anything is read or written. */
function checkChanges(changes: unknown): asserts changes is readonly StoreChange[] {
  if (!Array.isArray(changes))
    throw new TypeError(`changes must be an array, received ${describeValue(changes)}`);
  changes.forEach((c: unknown, i) => {
    const change = c as Partial<Record<string, unknown>> | null;
    if (typeof change !== 'object' || change === null)
      throw new TypeError(`changes[${i}] must be an object, received ${describeValue(c)}`);
    if (change['op'] !== 'write' && change['op'] !== 'remove')
      throw new TypeError(
        `changes[${i}].op must be "write" or "remove", received ${describeValue(change['op'])}`,
      );
    if (typeof change['path'] !== 'string')
      throw new TypeError(
        `changes[${i}].path must be a string, received ${describeValue(change['path'])}`,
      );
    if (change['op'] === 'remove') return;
    if (!(change['data'] instanceof Uint8Array))
      throw new TypeError(
        `changes[${i}].data must be a Uint8Array, received ${describeValue(change['data'])}`,
      );
    const mode = change['mode'];
    if (
      mode !== undefined &&
      (!Number.isInteger(mode) || (mode as number) < 0 || (mode as number) > 0o777)
    )
      throw new RangeError(
        `changes[${i}].mode must be an integer from 0 to 0o777, received ${String(mode)}`,
      );
  });
}

/** The system error code (`ENOENT`, …) of a thrown value, if it has one. */
function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

type Verb = 'read' | 'list' | 'stat' | 'write' | 'remove' | 'create';

/** Maps a system error to a StoreError whose message is a sentence naming the absolute path. */
function storeError(e: unknown, verb: Verb, rel: string, absPath: string): StoreError {
  if (e instanceof StoreError) return e;
  const errno = errnoOf(e) ?? '';
  const writing = verb === 'write' || verb === 'remove' || verb === 'create';
  let code: StoreError['code'] = 'ERR_STORE_IO';
  let why: string;
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      code = 'ERR_STORE_PERMISSION';
      why = writing ? 'the directory is read-only or not writable' : 'permission denied';
      break;
    case 'EROFS':
      code = 'ERR_STORE_PERMISSION';
      why = 'the file system is mounted read-only';
      break;
    case 'ENOSPC':
      code = 'ERR_STORE_NO_SPACE';
      why = 'no space is left on the device';
      break;
    case 'EDQUOT':
      code = 'ERR_STORE_NO_SPACE';
      why = 'the disk quota is used up';
      break;
    case 'ENOTDIR':
      code = 'ERR_STORE_NOT_DIRECTORY';
      why = 'part of the path is a file, not a directory';
      break;
    case 'EISDIR':
      code = 'ERR_STORE_NOT_DIRECTORY';
      why = 'it is a directory, not a file';
      break;
    default:
      why = (e instanceof Error ? e.message : String(e)).replace(/\.$/, '') || 'an I/O error';
  }
  const tail = errno !== '' && !why.includes(errno) ? ` (${errno})` : '';
  return new StoreError(code, `Cannot ${verb} ${absPath}: ${why}${tail}.`, {
    field: rel,
    cause: e,
  });
}

function notAFile(rel: string, absPath: string): StoreError {
  return new StoreError(
    'ERR_STORE_IO',
    `Cannot read ${absPath}: it is not a regular file (a device, a pipe or a socket), and an identity directory holds only files. Remove it or point it at a file.`,
    { field: rel },
  );
}

function tooLarge(rel: string, absPath: string, size: number): StoreError {
  return new StoreError(
    'ERR_STORE_IO',
    `Cannot read ${absPath}: it is ${size} bytes, and files in an identity directory are at most ${MAX_STORE_FILE_BYTES} bytes (16 MiB).`,
    { field: rel },
  );
}

async function statOrUndefined(
  fs: FsLike,
  p: string,
  follow = true,
): Promise<FsStatsLike | undefined> {
  try {
    return await (follow ? fs.stat(p) : fs.lstat(p));
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

const parentOf = (rel: string) => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');
const isWithin = (rel: string, ancestor: string) =>
  rel === ancestor || rel.startsWith(`${ancestor}/`);

/** One step already applied, and how to take it back. */
type UndoStep =
  | { readonly kind: 'mkdir'; readonly path: string }
  | { readonly kind: 'temp'; readonly path: string }
  | { readonly kind: 'backup'; readonly original: string; readonly backup: string }
  | { readonly kind: 'placed'; readonly path: string };

interface FinalWrite {
  readonly rel: string;
  readonly data: Uint8Array;
  readonly mode: number;
  /** Something is at the target now and is not inside a removed tree, so it must be moved aside. */
  readonly replaces: boolean;
  /** The directory the temp file is written in (store-relative). */
  tempDir: string;
  temp?: string;
}

async function commitChanges(
  fs: FsLike,
  root: string,
  abs: (rel: string) => string,
  changes: readonly StoreChange[],
): Promise<void> {
  // --- phase 0: validate and plan, reading only ---
  for (const c of changes) {
    checkStorePath(c.path);
    if (isInternalPath(c.path))
      throw new StoreError(
        'ERR_STORE_PATH_INVALID',
        `"${c.path}" is reserved for the store's temporary files.`,
        { field: c.path },
      );
  }
  const lstatCache = new Map<string, FsStatsLike | undefined>();
  const onDisk = async (rel: string) => {
    if (!lstatCache.has(rel)) {
      try {
        lstatCache.set(rel, await statOrUndefined(fs, abs(rel), false));
      } catch (e) {
        throw storeError(e, 'stat', rel, abs(rel));
      }
    }
    return lstatCache.get(rel);
  };

  // Replay the changes in order (as the memory store does) to learn what exists when each write runs.
  const writes = new Map<string, { data: Uint8Array; mode: number }>();
  const removed: string[] = [];
  for (const c of changes) {
    if (c.op === 'remove') {
      for (const w of [...writes.keys()]) if (isWithin(w, c.path)) writes.delete(w);
      removed.push(c.path);
      continue;
    }
    const exists =
      writes.has(c.path) ||
      (!removed.some((r) => isWithin(c.path, r)) && (await onDisk(c.path)) !== undefined);
    if (exists && c.overwrite !== true)
      throw new StoreError(
        'ERR_STORE_EXISTS',
        `${abs(c.path)} exists; set overwrite to replace it (--overwrite on the command line).`,
        { field: c.path },
      );
    writes.delete(c.path); // re-insert so the final order is the order of the last write
    writes.set(c.path, { data: c.data, mode: c.mode ?? 0o644 });
  }

  // Trees to move aside: removed paths that exist now, outermost only.
  const removalRoots: string[] = [];
  for (const r of removed) {
    if (removalRoots.some((q) => isWithin(r, q))) continue;
    if ((await onDisk(r)) === undefined) continue;
    for (let i = removalRoots.length - 1; i >= 0; i--)
      if (isWithin(removalRoots[i]!, r)) removalRoots.splice(i, 1);
    removalRoots.push(r);
  }
  const inRemoved = (rel: string) => removalRoots.some((r) => isWithin(rel, r));

  const notDirectory = (rel: string, what: string) =>
    new StoreError('ERR_STORE_NOT_DIRECTORY', `Cannot write ${abs(rel)}: ${what}.`, { field: rel });
  const finals: FinalWrite[] = [];
  for (const [rel, w] of writes) {
    for (const other of writes.keys())
      if (other !== rel && isWithin(rel, other))
        throw notDirectory(rel, `${other} is written as a file in the same commit`);
    const existing = inRemoved(rel) ? undefined : await onDisk(rel);
    if (existing?.isDirectory()) throw notDirectory(rel, 'it is a directory, not a file');
    for (let a = parentOf(rel); a !== '' && !inRemoved(a); a = parentOf(a)) {
      let st: FsStatsLike | undefined;
      try {
        st = await statOrUndefined(fs, abs(a)); // follows symlinks: a linked subdirectory is fine
      } catch (e) {
        throw storeError(e, 'write', rel, abs(rel));
      }
      if (st === undefined) continue;
      if (!st.isDirectory()) throw notDirectory(rel, `${abs(a)} is a file, not a directory`);
      break;
    }
    // The temp file goes beside its target, so the final rename stays within one file system; if the
    // target's directory is about to be moved aside, beside the outermost tree being moved instead.
    const dir = parentOf(rel);
    const outer = removalRoots.find((r) => isWithin(dir, r));
    finals.push({
      rel,
      ...w,
      replaces: existing !== undefined,
      tempDir: outer === undefined ? dir : parentOf(outer),
    });
  }

  // --- phase 1: temp files (and the directories they need); nothing visible changes yet ---
  const undo: UndoStep[] = [];
  let at: { verb: Verb; rel: string } = { verb: 'create', rel: '' };
  const backups: { readonly backup: string }[] = [];
  try {
    await ensureDirectory(fs, root, abs, '', undo);
    for (const f of finals) {
      at = { verb: 'write', rel: f.rel };
      await ensureDirectory(fs, root, abs, f.tempDir, undo);
      const temp = path.join(abs(f.tempDir), internalName(f.rel, TEMP_MARK));
      const handle = await fs.open(temp, 'wx', f.mode);
      undo.push({ kind: 'temp', path: temp });
      f.temp = temp;
      try {
        // open's mode is filtered by the umask; chmod sets exactly the bits asked for. Never wider
        // than requested in between, so a private key is never readable by others.
        await fs.chmod(temp, f.mode);
        await handle.writeFile(f.data);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }

    // --- phase 2: move old content aside, temp files into place ---
    for (const r of removalRoots) {
      at = { verb: 'remove', rel: r };
      const backup = path.join(path.dirname(abs(r)), internalName(r, BACKUP_MARK));
      await fs.rename(abs(r), backup);
      const step: UndoStep = { kind: 'backup', original: abs(r), backup };
      undo.push(step);
      backups.push(step);
    }
    for (const f of finals) {
      at = { verb: 'write', rel: f.rel };
      if (f.replaces) {
        const backup = path.join(path.dirname(abs(f.rel)), internalName(f.rel, BACKUP_MARK));
        await fs.rename(abs(f.rel), backup);
        const step: UndoStep = { kind: 'backup', original: abs(f.rel), backup };
        undo.push(step);
        backups.push(step);
      }
      await ensureDirectory(fs, root, abs, parentOf(f.rel), undo);
      await fs.rename(f.temp!, abs(f.rel));
      undo.push({ kind: 'placed', path: abs(f.rel) });
    }
  } catch (e) {
    const error = storeError(e, at.verb, at.rel, abs(at.rel));
    const stuck = await rollback(fs, undo);
    if (stuck.length === 0) throw error;
    throw new StoreError(
      error.code,
      `${error.message} Undoing the partial commit also failed for ${stuck.join(', ')}; check the directory by hand.`,
      { field: at.rel, cause: e },
    );
  }

  // --- phase 3: the commit has happened; deleting backups is housekeeping and cannot fail it ---
  for (const b of backups)
    await fs.rm(b.backup, { recursive: true, force: true }).catch(() => undefined);
}

/** Creates `rel` and any missing parents (the store root with mode 0o700), logging each for undo. */
async function ensureDirectory(
  fs: FsLike,
  root: string,
  abs: (rel: string) => string,
  rel: string,
  undo: UndoStep[],
): Promise<void> {
  const missing: string[] = [];
  for (let p = rel === '' ? root : abs(rel); ; p = path.dirname(p)) {
    const st = await statOrUndefined(fs, p);
    if (st !== undefined) {
      if (!st.isDirectory())
        throw Object.assign(new Error(`${p} is not a directory`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    const isRoot = p === root;
    // Parents above the store get the usual mode (0o777 less the umask), like `mkdir -p`.
    await fs.mkdir(p, { mode: isRoot ? 0o700 : 0o777 });
    undo.push({ kind: 'mkdir', path: p });
    if (isRoot) await fs.chmod(p, 0o700);
  }
}

/** Undoes the logged steps, newest first; returns the paths it could not restore. */
async function rollback(fs: FsLike, undo: readonly UndoStep[]): Promise<string[]> {
  const stuck: string[] = [];
  for (const step of [...undo].reverse()) {
    try {
      switch (step.kind) {
        case 'placed':
        case 'temp':
          await fs.unlink(step.path);
          break;
        case 'backup':
          await fs.rename(step.backup, step.original);
          break;
        case 'mkdir':
          await fs.rmdir(step.path);
          break;
      }
    } catch (e) {
      // A temp file already renamed into place is gone from its temp name; that is expected.
      if (step.kind === 'temp' && errnoOf(e) === 'ENOENT') continue;
      stuck.push(step.kind === 'backup' ? step.original : step.path);
    }
  }
  return stuck;
}
