/**
 * @module store/schema — the one schema, as Kysely table types and migrations, for every backend.
 */
import { type Generated, type Kysely, type Migration } from 'kysely';

/** One audit record: a decision on one request. */
export interface AuditTable {
  id: Generated<number>;
  time: Date;
  ra: string;
  endpoint: string;
  auth_method: string | null;
  requester: string | null;
  source: string | null;
  subject: string | null;
  /** JSON list of SANs as text (`DNS:a.example`, `IP:10.0.0.1`). */
  sans: string | null;
  spki_sha256: string | null;
  decision: 'issued' | 'refused' | 'revoked' | 'lifted';
  code: string | null;
  reason: string | null;
  /** Unique across replicas: the constraint that makes a duplicate serial impossible. */
  serial: string | null;
  not_before: Date | null;
  not_after: Date | null;
  /** When the record becomes eligible for GC (before retention): the certificate's expiry, or `time`. */
  expires_at: Date;
  /** PEM; null for refusals and in `no_store` mode. */
  certificate: string | null;
}

/** One revocation: a serial, subject or key refused until `lifted_at`. */
export interface RevocationTable {
  id: Generated<number>;
  kind: 'serial' | 'subject' | 'key';
  value: string;
  reason: string | null;
  revoked_at: Date;
  lifted_at: Date | null;
}

/** Named leases, so one replica at a time runs a job (GC). */
export interface LeaseTable {
  name: string;
  holder: string;
  expires_at: Date;
}

/** The database as Kysely sees it. */
export interface CaDatabase {
  ca_audit: AuditTable;
  ca_revocation: RevocationTable;
  ca_lease: LeaseTable;
}

/** Every migration, in order. Never edit one that has shipped: add the next. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('ca_audit')
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('time', 'timestamptz', (c) => c.notNull())
        .addColumn('ra', 'text', (c) => c.notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('auth_method', 'text')
        .addColumn('requester', 'text')
        .addColumn('source', 'text')
        .addColumn('subject', 'text')
        .addColumn('sans', 'text')
        .addColumn('spki_sha256', 'text')
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('code', 'text')
        .addColumn('reason', 'text')
        .addColumn('serial', 'text', (c) => c.unique())
        .addColumn('not_before', 'timestamptz')
        .addColumn('not_after', 'timestamptz')
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('certificate', 'text')
        .execute();
      await db.schema.createIndex('ca_audit_expires').on('ca_audit').column('expires_at').execute();
      await db.schema.createIndex('ca_audit_time').on('ca_audit').column('time').execute();
      await db.schema
        .createTable('ca_revocation')
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('revoked_at', 'timestamptz', (c) => c.notNull())
        .addColumn('lifted_at', 'timestamptz')
        .execute();
      await db.schema
        .createIndex('ca_revocation_value')
        .on('ca_revocation')
        .columns(['kind', 'value'])
        .execute();
      await db.schema
        .createTable('ca_lease')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of ['ca_lease', 'ca_revocation', 'ca_audit'])
        await db.schema.dropTable(t).ifExists().execute();
    },
  },
};
