/// <reference types="node" />
/**
 * @module node/pglite-thread — the embedded store's PGlite in a worker thread. PGlite runs PostgreSQL
 * as WebAssembly on the thread that calls it, ~0.3–0.9 ms per statement during which that thread
 * does nothing else; on the server's thread that was a third of its time under load (profiled),
 * stalling TLS and HTTP for every other client. Here the server thread only posts messages.
 *
 * The worker is a `data:` module importing PGlite by the absolute URL this module resolves, so it
 * needs no file of its own (the CLI is bundled) and runs on Node, Deno and Bun.
 */
import { Worker } from 'node:worker_threads';
import { Kysely } from 'kysely';
import { CaError } from '../errors.js';
import { pgliteDialect, type PgliteLike } from '../store/pglite.js';
import type { CaDatabase } from '../store/schema.js';
import { createKyselyStore, type CaStore } from '../store/store.js';

const WORKER = `
import { parentPort, workerData } from 'node:worker_threads';
const { PGlite } = await import(workerData.pglite);
let pg;
try {
  pg = workerData.path === undefined ? new PGlite() : new PGlite(workerData.path);
  await pg.waitReady;
  parentPort.postMessage({ ready: true });
} catch (e) {
  parentPort.postMessage({ ready: false, message: String(e && e.message || e) });
}
parentPort.on('message', async ({ id, sql, params, close }) => {
  try {
    if (close) {
      await pg.close();
      parentPort.postMessage({ id });
      parentPort.close();
      return;
    }
    const r = await pg.query(sql, params);
    parentPort.postMessage({ id, rows: r.rows, affectedRows: r.affectedRows });
  } catch (e) {
    parentPort.postMessage({ id, error: { message: String(e && e.message || e), code: e && e.code } });
  }
});
`;

interface Reply {
  readonly id?: number;
  readonly ready?: boolean;
  readonly message?: string;
  readonly rows?: unknown[];
  readonly affectedRows?: number;
  readonly error?: { readonly message: string; readonly code?: string };
}

/**
 * The embedded store with PGlite on its own thread.
 *
 * @param options.path - data directory; default in memory.
 * @throws ERR_CA_STORE_FAILED when PGlite cannot start or the schema cannot be migrated.
 * @example
 * const store = await createPgliteThreadStore({ path: './ca-data' });
 */
export async function createPgliteThreadStore(
  options: { readonly path?: string } = {},
): Promise<CaStore> {
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(WORKER)}`), {
    workerData: { pglite: import.meta.resolve('@electric-sql/pglite'), path: options.path },
  });
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let next = 0;
  let dead: Error | undefined;
  const fail = (e: Error): void => {
    dead ??= e;
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
  };
  const ready = new Promise<Reply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  worker.on('message', (m: Reply) => {
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (!p) return;
    if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    else p.resolve(m);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the PGlite thread exited (code ${code})`)));
  const call = (message: Record<string, unknown>): Promise<Reply> =>
    new Promise((resolve, reject) => {
      if (dead) return reject(dead);
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  const started = await ready.catch((e: Error) => ({ ready: false, message: e.message }));
  if (!started.ready) {
    await worker.terminate();
    throw new CaError(
      'ERR_CA_STORE_FAILED',
      `The embedded store did not start: ${started.message}`,
    );
  }
  const pg: PgliteLike = {
    waitReady: Promise.resolve(),
    async query<R>(sql: string, params?: unknown[]) {
      const r = await call({ sql, params: params ?? [] });
      return {
        rows: (r.rows ?? []) as R[],
        ...(r.affectedRows === undefined ? {} : { affectedRows: r.affectedRows }),
      };
    },
    async close() {
      if (!dead) await call({ close: true }).catch(() => undefined);
      await worker.terminate();
    },
  };
  return createKyselyStore(new Kysely<CaDatabase>({ dialect: pgliteDialect(pg) }), {
    exclusive: true,
  });
}
