/**
 * @module identity/store — the port an identity directory is read and written through, and an in-memory
 * implementation (tests, browsers, anything without a file system). The file-system store for Node, Deno
 * and Bun lives in @certified/node.
 */
import { StoreError } from '@certified/core/errors';

/** One file change inside an identity directory; paths are relative POSIX paths (`known_servers/api.yaml`). */
export type StoreChange =
  | {
      readonly op: 'write';
      readonly path: string;
      readonly data: Uint8Array;
      /** Permission bits for a new file; default 0o644. Private keys use 0o600. */
      readonly mode?: number;
      /** Replace an existing file; without it an existing file fails the whole commit with ERR_STORE_EXISTS. */
      readonly overwrite?: boolean;
    }
  /** Removes a file or a whole directory; absent paths are ignored. */
  | { readonly op: 'remove'; readonly path: string };

/** What {@link IdentityStore.stat} reports. */
export interface StoreEntry {
  readonly kind: 'file' | 'directory';
  /** Permission bits (`0o600`), where the store has them. */
  readonly mode?: number;
}

/**
 * Where an identity directory lives. Implementations must make {@link IdentityStore.commit} all-or-nothing:
 * if any change fails, every change already applied is undone and the directory is left as it was.
 *
 * @example
 * const store = createMemoryStore();
 * await store.commit([{ op: 'write', path: 'known_clients/ada.crt', data: pemBytes }]);
 * const bytes = await store.read('known_clients/ada.crt');
 */
export interface IdentityStore {
  /** Where the store is, for messages: a directory path, or `memory:`. */
  readonly location: string;
  /** A file's bytes, or `undefined` when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** Names directly inside a directory (files and directories), sorted; `[]` when it does not exist. */
  list(dir: string): Promise<string[]>;
  /** What is at a path, or `undefined`. `''` is the directory itself. */
  stat(path: string): Promise<StoreEntry | undefined>;
  /** Applies all changes, all or nothing. @throws StoreError */
  commit(changes: readonly StoreChange[]): Promise<void>;
}

/**
 * Checks a store-relative path: POSIX separators, no empty, `.` or `..` segments, no leading `/`, no NUL.
 * Stores call it on every path so a crafted alias can never write outside the directory.
 *
 * @throws StoreError ERR_STORE_PATH_INVALID
 */
export function checkStorePath(path: string, allowRoot = false): string {
  if (path === '' && allowRoot) return path;
  const segments = path.split('/');
  if (
    path.length === 0 ||
    path.length > 4096 ||
    segments.some(
      (s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0'),
    )
  ) {
    throw new StoreError(
      'ERR_STORE_PATH_INVALID',
      `"${path}" is not a path inside the directory.`,
      {
        field: path,
      },
    );
  }
  return path;
}

/**
 * An {@link IdentityStore} held in memory. Commits are atomic; `failOn` lets tests make a write fail
 * (as a full disk would) to check that nothing is left half-done.
 *
 * @param options.files - initial content, path → bytes.
 * @param options.failOn - a write to this path throws ERR_STORE_NO_SPACE (tests).
 * @example
 * const store = createMemoryStore();
 * await initIdentity(store, { subject: personName({ commonName: 'Ada' }), altNames: [emailAddress('ada@example.org')] });
 */
export function createMemoryStore(
  options: { files?: Record<string, Uint8Array>; failOn?: string } = {},
): IdentityStore & { readonly files: Map<string, { data: Uint8Array; mode: number }> } {
  const files = new Map<string, { data: Uint8Array; mode: number }>();
  for (const [p, data] of Object.entries(options.files ?? {}))
    files.set(checkStorePath(p), { data, mode: 0o644 });
  const isDir = (dir: string) => {
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const p of files.keys()) if (p.startsWith(prefix)) return true;
    return false;
  };
  return {
    location: 'memory:',
    files,
    read(path) {
      return Promise.resolve(files.get(checkStorePath(path))?.data.slice());
    },
    list(dir) {
      checkStorePath(dir, true);
      const prefix = dir === '' ? '' : `${dir}/`;
      const names = new Set<string>();
      for (const p of files.keys())
        if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]!);
      return Promise.resolve([...names].sort());
    },
    stat(path) {
      checkStorePath(path, true);
      const f = files.get(path);
      if (f) return Promise.resolve({ kind: 'file', mode: f.mode });
      return Promise.resolve(isDir(path) ? { kind: 'directory' } : undefined);
    },
    commit(changes) {
      const next = new Map(files);
      for (const c of changes) {
        checkStorePath(c.path);
        if (c.op === 'remove') {
          for (const p of [...next.keys()])
            if (p === c.path || p.startsWith(`${c.path}/`)) next.delete(p);
          continue;
        }
        if (next.has(c.path) && c.overwrite !== true)
          return Promise.reject(
            new StoreError(
              'ERR_STORE_EXISTS',
              `${c.path} exists; set overwrite to replace it (--overwrite on the command line).`,
              {
                field: c.path,
              },
            ),
          );
        if (options.failOn === c.path)
          return Promise.reject(
            new StoreError('ERR_STORE_NO_SPACE', `No space left to write ${c.path}.`, {
              field: c.path,
            }),
          );
        next.set(c.path, { data: c.data.slice(), mode: c.mode ?? 0o644 });
      }
      files.clear();
      for (const [k, v] of next) files.set(k, v);
      return Promise.resolve();
    },
  };
}
