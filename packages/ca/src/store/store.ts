/**
 * @module store/store — the store port and its one implementation over Kysely: the embedded (PGlite)
 * and PostgreSQL backends differ only in the dialect they hand to {@link createKyselyStore}.
 */
import { Migrator, type Kysely, type Selectable } from 'kysely';
import { CaError } from '../errors.js';
import { groupCommit } from './group-commit.js';
import { revocationCache } from './revocation-cache.js';
import { MIGRATIONS, type AuditTable, type CaDatabase, type RevocationTable } from './schema.js';

/** An audit record as written. */
export type AuditEntry = Omit<AuditTable, 'id'>;
/** An audit record as read. */
export type AuditRecord = Selectable<AuditTable>;
/** A revocation as read. */
export type Revocation = Selectable<RevocationTable>;
/** What a revocation names. */
export interface RevocationKey {
  readonly kind: RevocationTable['kind'];
  readonly value: string;
}

/** Options for {@link CaStore.gc}. */
export interface GcOptions {
  readonly now: Date;
  /** Records are kept this long past `expires_at`. */
  readonly retentionMs: number;
  /** Rows deleted per statement; default 500. */
  readonly batchSize?: number;
  /** Statements per run at most; default 100 (the rest waits for the next run). */
  readonly maxBatches?: number;
  /** Who runs it (a replica id). */
  readonly holder: string;
  /** How long the GC lease is held: no other replica runs GC within it. */
  readonly leaseMs: number;
}

/** The store port. */
export interface CaStore {
  /** Writes an audit record; resolves `false` when its serial is already taken (draw another). */
  record(entry: AuditEntry): Promise<boolean>;
  /** The record of an issued serial. */
  findBySerial(serial: string): Promise<AuditRecord | undefined>;
  /** Newest first. */
  audit(query?: { readonly limit?: number; readonly ra?: string }): Promise<AuditRecord[]>;
  /** Adds revocations; resolves to their ids. */
  revoke(keys: readonly RevocationKey[], reason: string | null, now: Date): Promise<number[]>;
  /** Lifts a revocation; false when there is none by that id still in force. */
  lift(id: number, now: Date): Promise<boolean>;
  /** The first revocation in force naming one of `keys`. */
  revoked(keys: readonly RevocationKey[]): Promise<Revocation | undefined>;
  /** Deletes expired records in bounded batches if this replica wins the GC lease. */
  gc(options: GcOptions): Promise<{ readonly ran: boolean; readonly deleted: number }>;
  close(): Promise<void>;
}

/**
 * Brings the schema up to date (replicas may race: Kysely's PostgreSQL adapter takes an advisory lock).
 *
 * @throws ERR_CA_STORE_FAILED when a migration fails.
 */
export async function migrate(db: Kysely<CaDatabase>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableName: 'ca_migration',
    migrationLockTableName: 'ca_migration_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw storeFailed('migrate', error);
}

/** Options for {@link createKyselyStore}. */
export interface KyselyStoreOptions {
  /**
   * Keep the revocations in force in memory. Only for a database no other process writes (PGlite,
   * locked to one process): replicas over PostgreSQL must see each other's revocations at once.
   */
  readonly exclusive?: boolean;
}

/**
 * A {@link CaStore} over a Kysely database (migrated first). Audit records are written in groups
 * (see store/group-commit.ts); with `exclusive`, revocations are answered from memory.
 *
 * @example
 * const store = await createKyselyStore(new Kysely<CaDatabase>({ dialect }));
 */
export async function createKyselyStore(
  db: Kysely<CaDatabase>,
  options: KyselyStoreOptions = {},
): Promise<CaStore> {
  await migrate(db);
  const guard = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof CaError) throw e;
      throw storeFailed(what, e);
    }
  };
  const insert = groupCommit<AuditEntry>(async (rows) => {
    const stored = await db
      .insertInto('ca_audit')
      .values([...rows])
      .onConflict((oc) => oc.column('serial').doNothing())
      .returning('serial')
      .execute();
    return new Set(stored.flatMap((r) => (r.serial === null ? [] : [r.serial])));
  });
  const cache = options.exclusive
    ? revocationCache(
        await guard('revoked', () =>
          db.selectFrom('ca_revocation').selectAll().where('lifted_at', 'is', null).execute(),
        ),
      )
    : undefined;
  return {
    record: (entry) => guard('record', () => insert(entry)),
    findBySerial: (serial) =>
      guard('find', () =>
        db.selectFrom('ca_audit').selectAll().where('serial', '=', serial).executeTakeFirst(),
      ),
    audit: (q = {}) =>
      guard('audit', () => {
        let s = db.selectFrom('ca_audit').selectAll();
        if (q.ra !== undefined) s = s.where('ra', '=', q.ra);
        return s
          .orderBy('id', 'desc')
          .limit(q.limit ?? 100)
          .execute();
      }),
    revoke: (keys, reason, now) =>
      guard('revoke', async () => {
        if (keys.length === 0) return [];
        const rows = await db
          .insertInto('ca_revocation')
          .values(keys.map((k) => ({ kind: k.kind, value: k.value, reason, revoked_at: now })))
          .returningAll()
          .execute();
        for (const r of rows) cache?.add(r);
        return rows.map((r) => r.id);
      }),
    lift: (id, now) =>
      guard('lift', async () => {
        const r = await db
          .updateTable('ca_revocation')
          .set({ lifted_at: now })
          .where('id', '=', id)
          .where('lifted_at', 'is', null)
          .executeTakeFirst();
        cache?.remove(id);
        return r.numUpdatedRows > 0n;
      }),
    revoked: (keys) =>
      guard('revoked', async () => {
        if (keys.length === 0) return undefined;
        if (cache) return cache.find(keys);
        return db
          .selectFrom('ca_revocation')
          .selectAll()
          .where('lifted_at', 'is', null)
          .where((eb) =>
            eb.or(keys.map((k) => eb.and([eb('kind', '=', k.kind), eb('value', '=', k.value)]))),
          )
          .orderBy('id')
          .executeTakeFirst();
      }),
    gc: (o) =>
      guard('gc', async () => {
        const until = new Date(o.now.getTime() + o.leaseMs);
        // Takes the lease only if it is free or lapsed; a racing replica's upsert sees ours and skips.
        const won = await db
          .insertInto('ca_lease')
          .values({ name: 'gc', holder: o.holder, expires_at: until })
          .onConflict((oc) =>
            oc
              .column('name')
              .doUpdateSet({ holder: o.holder, expires_at: until })
              .where('ca_lease.expires_at', '<=', o.now),
          )
          .returning('holder')
          .executeTakeFirst();
        if (won?.holder !== o.holder) return { ran: false, deleted: 0 };
        const cutoff = new Date(o.now.getTime() - o.retentionMs);
        const batch = o.batchSize ?? 500;
        let deleted = 0;
        for (let i = 0; i < (o.maxBatches ?? 100); i++) {
          const r = await db
            .deleteFrom('ca_audit')
            .where('id', 'in', (eb) =>
              eb
                .selectFrom('ca_audit')
                .select('id')
                .where('expires_at', '<', cutoff)
                .orderBy('id')
                .limit(batch),
            )
            .executeTakeFirst();
          const n = Number(r.numDeletedRows);
          deleted += n;
          if (n < batch) break;
        }
        return { ran: true, deleted };
      }),
    close: () => db.destroy(),
  };
}

function storeFailed(what: string, cause: unknown): CaError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new CaError('ERR_CA_STORE_FAILED', `The store failed (${what}): ${detail}`, { cause });
}
