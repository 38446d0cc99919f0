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

/**
 * A private key kept as CryptoKey objects, never as bytes, by a store that can hold them
 * ({@link IdentityStore.keys}). The private key is typically non-extractable.
 */
export interface KeyWrite {
  /** Where the key file would be: `id.key` or `CA.key`. */
  readonly path: string;
  readonly keyPair: CryptoKeyPair;
  /** Replace an existing key; without it an existing one fails the whole commit with ERR_STORE_EXISTS. */
  readonly overwrite?: boolean;
}

/** The private keys of a store that keeps them as CryptoKey objects (see {@link IdentityStore.keys}). */
export interface CryptoKeyStore {
  /** The key pair at a key path (`id.key`, `CA.key`), or `undefined`. */
  read(path: string): Promise<CryptoKeyPair | undefined>;
}

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
  /**
   * Applies all changes — and, on a store with {@link IdentityStore.keys}, the key writes — all or
   * nothing. A `remove` of a key path removes its key too. @throws StoreError
   */
  commit(changes: readonly StoreChange[], keys?: readonly KeyWrite[]): Promise<void>;
  /**
   * Present on stores that keep private keys as CryptoKey objects instead of key files (a browser's
   * IndexedDB, which stores them by structured clone): `initIdentity` then generates non-extractable
   * keys and commits them as {@link KeyWrite}s, and `loadIdentity` reads them here where there is no
   * key file. Key paths are listed and stat'ed as files (mode 0o600) but `read` returns no bytes.
   */
  readonly keys?: CryptoKeyStore;
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
 * (as a full disk would) to check that nothing is left half-done. With `cryptoKeys` it keeps private
 * keys as CryptoKey objects ({@link IdentityStore.keys}), as a browser store does.
 *
 * @param options.files - initial content, path → bytes.
 * @param options.failOn - a write to this path throws ERR_STORE_NO_SPACE (tests).
 * @param options.cryptoKeys - keep keys as CryptoKeys (non-extractable identities); default false.
 * @example
 * const store = createMemoryStore();
 * await initIdentity(store, { subject: personName({ commonName: 'Ada' }), altNames: [emailAddress('ada@example.org')] });
 */
export function createMemoryStore(
  options: { files?: Record<string, Uint8Array>; failOn?: string; cryptoKeys?: boolean } = {},
): IdentityStore & { readonly files: Map<string, { data: Uint8Array; mode: number }> } {
  const files = new Map<string, { data: Uint8Array; mode: number }>();
  const keys = new Map<string, CryptoKeyPair>();
  for (const [p, data] of Object.entries(options.files ?? {}))
    files.set(checkStorePath(p), { data, mode: 0o644 });
  const isDir = (dir: string) => {
    const prefix = dir === '' ? '' : `${dir}/`;
    for (const p of [...files.keys(), ...keys.keys()]) if (p.startsWith(prefix)) return true;
    return false;
  };
  return {
    location: 'memory:',
    files,
    ...(options.cryptoKeys
      ? { keys: { read: (path: string) => Promise.resolve(keys.get(checkStorePath(path))) } }
      : {}),
    read(path) {
      return Promise.resolve(files.get(checkStorePath(path))?.data.slice());
    },
    list(dir) {
      checkStorePath(dir, true);
      const prefix = dir === '' ? '' : `${dir}/`;
      const names = new Set<string>();
      for (const p of [...files.keys(), ...keys.keys()])
        if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]!);
      return Promise.resolve([...names].sort());
    },
    stat(path) {
      checkStorePath(path, true);
      const f = files.get(path);
      if (f) return Promise.resolve({ kind: 'file', mode: f.mode });
      if (keys.has(path)) return Promise.resolve({ kind: 'file', mode: 0o600 });
      return Promise.resolve(isDir(path) ? { kind: 'directory' } : undefined);
    },
    commit(changes, keyWrites = []) {
      if (keyWrites.length > 0 && !options.cryptoKeys)
        throw new TypeError('This store keeps no CryptoKeys: create it with { cryptoKeys: true }.');
      const next = new Map(files);
      const nextKeys = new Map(keys);
      for (const c of changes) {
        checkStorePath(c.path);
        if (c.op === 'remove') {
          for (const m of [next, nextKeys] as Map<string, unknown>[])
            for (const p of [...m.keys()])
              if (p === c.path || p.startsWith(`${c.path}/`)) m.delete(p);
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
      for (const k of keyWrites) {
        checkStorePath(k.path);
        if ((nextKeys.has(k.path) || next.has(k.path)) && k.overwrite !== true)
          return Promise.reject(
            new StoreError('ERR_STORE_EXISTS', `${k.path} exists; set overwrite to replace it.`, {
              field: k.path,
            }),
          );
        next.delete(k.path);
        nextKeys.set(k.path, k.keyPair);
      }
      files.clear();
      for (const [k, v] of next) files.set(k, v);
      keys.clear();
      for (const [k, v] of nextKeys) keys.set(k, v);
      return Promise.resolve();
    },
  };
}
