/// <reference types="node" />
/**
 * @module node/files — the CA's files on disk: loading the config (paths relative to it, key files that
 * others can read refused) and writing a new CA (key 0600, created exclusively, renamed into place so
 * nothing is ever half-written).
 */
import { constants } from 'node:fs';
import { link, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  createSelfSignedCa,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  organizationName,
  signingName,
} from '@certified/core';
import { CaError } from '../errors.js';
import { parseCaConfig, type CaConfig } from '../config.js';
import { loadCa } from '../load.js';
import type { Ca } from '../ca.js';
import type { CaStore } from '../store/store.js';
import { createPostgresStore } from '../store/postgres.js';
import { lockDirectory } from './lock.js';
import { createPgliteThreadStore } from './pglite-thread.js';

/** A loaded CA and its parsed config. */
export interface LoadedCa {
  readonly ca: Ca;
  readonly config: CaConfig;
}

/**
 * Loads the CA a config file describes; relative paths are read from the file's directory.
 *
 * @throws ERR_CA_CONFIG_INVALID (also when a key file is readable by group or others), ERR_CA_STORE_FAILED.
 */
export async function loadCaFile(path: string): Promise<LoadedCa> {
  const dir = dirname(resolve(path));
  let text: string;
  try {
    text = await readSmallFile(path);
  } catch (e) {
    throw new CaError(
      'ERR_CA_CONFIG_INVALID',
      `Cannot read the config ${path}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  const config = parseCaConfig(text);
  const keyPaths = new Set(Object.values(config.signing_ca).map((s) => resolve(dir, s.key_path)));
  const ca = await loadCa(config, {
    async readText(p) {
      const full = resolve(dir, p);
      if (keyPaths.has(full)) {
        const mode = (await stat(full)).mode & 0o777;
        if (mode & 0o077)
          throw new Error(
            `the key file is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
          );
      }
      return readSmallFile(full);
    },
    openStore: (s) => openConfiguredStore(s, dir),
  });
  return { ca, config };
}

/** The largest config, key, certificate or JWKS file read: each is a few kilobytes. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * A small regular file as text. Looked at before it is opened: `/dev/zero` would be read until memory
 * ran out, and opening a FIFO blocks until something writes to it.
 */
async function readSmallFile(path: string): Promise<string> {
  const st = await stat(path);
  if (!st.isFile())
    throw new Error(
      st.isDirectory()
        ? 'it is a directory, not a file'
        : 'it is not a regular file (a device, a pipe or a socket)',
    );
  if (st.size > MAX_FILE_BYTES)
    throw new Error(`it is ${st.size} bytes; at most ${MAX_FILE_BYTES} (16 MiB) are read`);
  return readFile(path, 'utf8');
}

/**
 * Opens the store a config names; an embedded data directory is locked for this process until the
 * store is closed (PGlite has no lock of its own).
 *
 * @param dir - what relative paths are read from (the config file's directory).
 * @throws ERR_CA_STORE_BUSY when another process has the embedded store open; ERR_CA_STORE_FAILED.
 * @example
 * const store = await openConfiguredStore(config.store, dirname(configPath));
 */
export async function openConfiguredStore(s: CaConfig['store'], dir: string): Promise<CaStore> {
  if (s.backend === 'postgres') return createPostgresStore({ url: s.url! });
  if (s.path === undefined) return createPgliteThreadStore();
  const path = resolve(dir, s.path);
  const lock = await lockDirectory(path);
  try {
    const store = await createPgliteThreadStore({ path });
    return {
      ...store,
      async close() {
        try {
          await store.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (e) {
    await lock.release();
    throw e;
  }
}

/**
 * Writes a file that must not exist yet, with `mode`, all or nothing: written under a temporary name
 * (created exclusively with that mode), then linked into place, which fails if the name was taken.
 *
 * @throws Error with code EEXIST when the file exists.
 */
export async function writeNewFile(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Creates a CA in `dir`: `ca.key` (P-256, PKCS#8, mode 0600) and `ca.crt`.
 *
 * @returns the paths written.
 * @throws Error (EEXIST) when either file exists; nothing is written then.
 */
export async function initCaFiles(
  dir: string,
  organization: string,
): Promise<{ readonly key: string; readonly cert: string }> {
  const key = join(dir, 'ca.key');
  const cert = join(dir, 'ca.crt');
  for (const p of [key, cert])
    if (
      await stat(p).then(
        () => true,
        () => false,
      )
    )
      throw Object.assign(new Error(`${p} exists; refusing to replace a CA`), { code: 'EEXIST' });
  const keyPair = await generateKeyPair({ algorithm: 'P-256', extractable: true });
  const certificate = await createSelfSignedCa({
    subject: signingName(organizationName({ organization })),
    keyPair,
  });
  await writeNewFile(key, await exportPrivateKey(keyPair.privateKey), 0o600);
  try {
    await writeNewFile(cert, encodePem('CERTIFICATE', certificate.der), 0o644);
  } catch (e) {
    await rm(key, { force: true });
    throw e;
  }
  return { key, cert };
}
