/**
 * @module store/postgres — the PostgreSQL store (node-postgres), for several stateless replicas over
 * one database.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { CaDatabase } from './schema.js';
import { createKyselyStore, type CaStore } from './store.js';

/** Options for {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user@host:port/db`. */
  readonly url: string;
  /** Connections per replica; default 10. */
  readonly poolSize?: number;
  /**
   * Called when an idle connection fails (the server restarted, a failover, an admin shutdown); the
   * pool drops it and connects again on demand. Default: ignored.
   */
  readonly onIdleError?: (error: Error) => void;
}

/**
 * The PostgreSQL store.
 *
 * @throws ERR_CA_STORE_FAILED when the database cannot be reached or migrated.
 * @example
 * const store = await createPostgresStore({ url: 'postgres://ca@127.0.0.1:5432/ca' });
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<CaStore> {
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 });
  // Without a listener, an idle client's error (e.g. the database restarting) would crash the process.
  pool.on('error', (e) => options.onIdleError?.(e));
  const db = new Kysely<CaDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    return await createKyselyStore(db);
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw e;
  }
}
