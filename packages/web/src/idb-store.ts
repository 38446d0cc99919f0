/**
 * @module idb-store — the identity store port (`IdentityStore` from @certified/identity) over a
 * browser's IndexedDB, through `idb`: certificate and service files as bytes, private keys as the
 * CryptoKey objects themselves (structured clone), so a non-extractable key never exists as bytes.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { StoreError, describeValue } from '@certified/core';
import {
  checkStorePath,
  type IdentityStore,
  type KeyWrite,
  type StoreChange,
  type StoreEntry,
} from '@certified/identity';

/** Options for {@link openIdentityStore}. */
export interface OpenIdentityStoreOptions {
  /** The IndexedDB database name; default `certified`. One identity per database. */
  readonly name?: string;
}

/** An {@link IdentityStore} in IndexedDB, with {@link IdentityStore.keys}; `close()` releases it. */
export interface IndexedDbIdentityStore extends IdentityStore {
  readonly keys: NonNullable<IdentityStore['keys']>;
  /** Closes the database connection (the store cannot be used afterwards). */
  close(): void;
}

interface Schema extends DBSchema {
  files: { key: string; value: { data: Uint8Array; mode: number } };
  keys: { key: string; value: CryptoKeyPair };
}

/**
 * Opens (creating if needed) an identity store in IndexedDB. Identities created in it with
 * `initIdentity` get non-extractable private keys, kept as CryptoKeys: they survive reloads and work
 * offline, but cannot be exported or moved to another browser — to use an identity elsewhere,
 * create one there and have it introduced.
 *
 * @param options.name - database name; default `certified`.
 * @throws StoreError ERR_STORE_IO when IndexedDB is unavailable or refuses to open (private mode).
 * @example
 * const store = await openIdentityStore();
 * const me = await initIdentity(store, { subject: personName({ commonName: 'Ada' }),
 *   altNames: [emailAddress('ada@example.org')] });
 * me.id.privateKey.extractable; // false
 */
export async function openIdentityStore(
  options: OpenIdentityStoreOptions = {},
): Promise<IndexedDbIdentityStore> {
  const name = options.name ?? 'certified';
  if (typeof name !== 'string' || name === '')
    throw new TypeError(`options.name must be a non-empty string, received ${describeValue(name)}`);
  // idb opens through the global `indexedDB` (tests install fake-indexeddb's).
  if (!(globalThis as { indexedDB?: IDBFactory }).indexedDB)
    throw new StoreError(
      'ERR_STORE_IO',
      'This environment has no IndexedDB to keep identities in.',
    );
  let db: IDBPDatabase<Schema>;
  try {
    db = await openDB<Schema>(name, 1, {
      upgrade(d) {
        d.createObjectStore('files');
        d.createObjectStore('keys');
      },
    });
  } catch (e) {
    throw new StoreError('ERR_STORE_IO', `IndexedDB database "${name}" cannot be opened.`, {
      cause: e,
    });
  }
  const location = `indexeddb:${name}`;

  async function allPaths(): Promise<string[]> {
    const tx = db.transaction(['files', 'keys']);
    const [files, keys] = await Promise.all([
      tx.objectStore('files').getAllKeys(),
      tx.objectStore('keys').getAllKeys(),
    ]);
    return [...files, ...keys];
  }

  return {
    location,
    keys: {
      async read(path) {
        return guard(location, 'read', () => db.get('keys', checkStorePath(path)));
      },
    },
    async read(path) {
      const f = await guard(location, 'read', () => db.get('files', checkStorePath(path)));
      return f?.data.slice();
    },
    async list(dir) {
      checkStorePath(dir, true);
      const prefix = dir === '' ? '' : `${dir}/`;
      const names = new Set<string>();
      for (const p of await guard(location, 'list', allPaths))
        if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0]!);
      return [...names].sort();
    },
    async stat(path): Promise<StoreEntry | undefined> {
      checkStorePath(path, true);
      const f =
        path === '' ? undefined : await guard(location, 'stat', () => db.get('files', path));
      if (f) return { kind: 'file', mode: f.mode };
      const paths = await guard(location, 'stat', allPaths);
      if (paths.includes(path)) return { kind: 'file', mode: 0o600 };
      const prefix = path === '' ? '' : `${path}/`;
      return path === '' || paths.some((p) => p.startsWith(prefix))
        ? { kind: 'directory' }
        : undefined;
    },
    async commit(changes, keyWrites = []) {
      for (const c of changes) checkStorePath(c.path);
      for (const k of keyWrites) checkStorePath(k.path);
      await guard(location, 'commit', () => commitAll(db, changes, keyWrites));
    },
    close() {
      db.close();
    },
  };
}

// --- internal ---

/**
 * Applies changes and key writes in one readwrite transaction: IndexedDB aborts all of it if any
 * request fails, and so do we (ERR_STORE_EXISTS) before writing anything.
 */
async function commitAll(
  db: IDBPDatabase<Schema>,
  changes: readonly StoreChange[],
  keyWrites: readonly KeyWrite[],
): Promise<void> {
  const tx = db.transaction(['files', 'keys'], 'readwrite');
  const files = tx.objectStore('files');
  const keys = tx.objectStore('keys');
  // Only IndexedDB requests may be awaited inside the transaction, or it commits early.
  const [filePaths, keyPaths] = await Promise.all([files.getAllKeys(), keys.getAllKeys()]);
  const nextFiles = new Set(filePaths);
  const nextKeys = new Set(keyPaths);
  const ops: (() => Promise<unknown>)[] = [];
  const exists = (path: string) =>
    new StoreError('ERR_STORE_EXISTS', `${path} exists; set overwrite to replace it.`, {
      field: path,
    });
  for (const c of changes) {
    if (c.op === 'remove') {
      for (const [set, store] of [
        [nextFiles, files],
        [nextKeys, keys],
      ] as const)
        for (const p of [...set])
          if (p === c.path || p.startsWith(`${c.path}/`)) {
            set.delete(p);
            ops.push(() => store.delete(p));
          }
      continue;
    }
    if ((nextFiles.has(c.path) || nextKeys.has(c.path)) && c.overwrite !== true) {
      tx.abort();
      await tx.done.catch(() => {});
      throw exists(c.path);
    }
    nextFiles.add(c.path);
    const value = { data: c.data.slice(), mode: c.mode ?? 0o644 };
    ops.push(() => files.put(value, c.path));
  }
  for (const k of keyWrites) {
    if ((nextFiles.has(k.path) || nextKeys.has(k.path)) && k.overwrite !== true) {
      tx.abort();
      await tx.done.catch(() => {});
      throw exists(k.path);
    }
    nextKeys.add(k.path);
    const pair = { publicKey: k.keyPair.publicKey, privateKey: k.keyPair.privateKey };
    ops.push(() => keys.put(pair, k.path));
  }
  await Promise.all(ops.map((op) => op()));
  await tx.done;
}

/** Runs an IndexedDB operation; a failure becomes a StoreError (quota → ERR_STORE_NO_SPACE). */
async function guard<T>(location: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof StoreError) throw e;
    const name = (e as { name?: unknown } | null)?.name;
    throw new StoreError(
      name === 'QuotaExceededError' ? 'ERR_STORE_NO_SPACE' : 'ERR_STORE_IO',
      name === 'QuotaExceededError'
        ? `${location} is full: the browser refused to store more (${what}).`
        : `${location}: ${what} failed (${String(name ?? 'error')}).`,
      { cause: e },
    );
  }
}
