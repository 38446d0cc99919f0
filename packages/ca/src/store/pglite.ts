/**
 * @module store/pglite — the embedded default: PGlite (PostgreSQL compiled to WebAssembly) in memory
 * or in a data directory, behind a small Kysely driver. PGlite has one connection, so the driver
 * hands it out to one query or transaction at a time.
 */
import { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { CaDatabase } from './schema.js';
import { createKyselyStore, type CaStore } from './store.js';

/** Options for {@link createPgliteStore}. */
export interface PgliteStoreOptions {
  /** Data directory (Node, Bun, Deno) or `idb://name` (browsers); default in memory. */
  readonly path?: string;
}

/**
 * The embedded store: no server needed.
 *
 * @throws ERR_CA_STORE_FAILED when the database cannot be opened or migrated.
 * @example
 * const store = await createPgliteStore({ path: './ca-data' });
 */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<CaStore> {
  const pg = options.path === undefined ? new PGlite() : new PGlite(options.path);
  // One process per data directory (see node/lock.ts), one connection: nobody else writes revocations.
  return createKyselyStore(new Kysely<CaDatabase>({ dialect: pgliteDialect(pg) }), {
    exclusive: true,
  });
}

/** What the dialect needs of PGlite (a PGlite, or a proxy to one on another thread). */
export interface PgliteLike {
  readonly waitReady: Promise<void>;
  query<R>(
    sql: string,
    params?: unknown[],
  ): Promise<{ readonly rows: R[]; readonly affectedRows?: number }>;
  close(): Promise<void>;
}

/**
 * A Kysely dialect over a PGlite instance.
 *
 * @example
 * const db = new Kysely<MyDb>({ dialect: pgliteDialect(new PGlite()) });
 */
export function pgliteDialect(pg: PgliteLike): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new PgliteDriver(pg),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

// --- internal ---

class PgliteDriver implements Driver {
  readonly #pg: PgliteLike;
  readonly #connection: DatabaseConnection;
  #queue: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(pg: PgliteLike) {
    this.#pg = pg;
    this.#connection = {
      executeQuery: async <R>(q: CompiledQuery): Promise<QueryResult<R>> => {
        const r = await pg.query<R>(q.sql, [...q.parameters]);
        return {
          rows: r.rows,
          ...(r.affectedRows === undefined ? {} : { numAffectedRows: BigInt(r.affectedRows) }),
        };
      },
      streamQuery: () => {
        throw new Error('PGlite: streaming queries are not supported');
      },
    };
  }

  async init(): Promise<void> {
    await this.#pg.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise((r) => (release = r));
    await previous;
    this.#release = release;
    return this.#connection;
  }

  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const r = this.#release;
    this.#release = undefined;
    r?.();
  }

  async destroy(): Promise<void> {
    await this.#pg.close();
  }
}
