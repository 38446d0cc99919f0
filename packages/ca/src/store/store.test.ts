/**
 * The one store suite, run against the embedded PGlite store (on the calling thread, and on its own
 * thread as the Node server runs it) and a real PostgreSQL cluster started
 * here (skipped loudly when PostgreSQL is missing, failing under CI=true).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '@certified/testing/postgres';
import { createPgliteStore } from './pglite.js';
import { createPostgresStore } from './postgres.js';
import { createPgliteThreadStore } from '../node/pglite-thread.js';
import type { AuditEntry, CaStore } from './store.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;

function entry(o: Partial<AuditEntry> = {}): AuditEntry {
  return {
    time: NOW,
    ra: 'default',
    endpoint: 'sign',
    auth_method: 'static',
    requester: 'ops',
    source: '127.0.0.1',
    subject: 'CN=a.example',
    sans: '["DNS:a.example"]',
    spki_sha256: 'ab',
    decision: 'issued',
    code: null,
    reason: null,
    serial: null,
    not_before: NOW,
    not_after: new Date(NOW.getTime() + 24 * HOUR),
    expires_at: new Date(NOW.getTime() + 24 * HOUR),
    certificate: null,
    ...o,
  };
}

let pg: TestPostgres | undefined;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
});

let dbs = 0;
const backends: [string, () => Promise<CaStore | undefined>][] = [
  ['pglite', () => createPgliteStore()],
  ['pglite on its own thread', () => createPgliteThreadStore()],
  [
    'postgres',
    async () =>
      pg ? createPostgresStore({ url: await pg.database(`store_${++dbs}`) }) : undefined,
  ],
];

describe.each(backends)('CaStore on %s', (_name, open) => {
  let store: CaStore | undefined;
  beforeAll(async () => {
    store = await open();
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });
  const s = (): CaStore => {
    if (!store) throw new Error('unreachable: the suite is skipped without a store');
    return store;
  };

  it('records audit entries and reads them back newest first', async (t) => {
    if (!store) return t.skip();
    await s().record(entry({ serial: '01aa', ra: 'audit' }));
    await s().record(entry({ decision: 'refused', code: 'ERR_CA_AUTH_FAILED', ra: 'audit' }));
    const rows = await s().audit({ ra: 'audit' });
    expect(rows.map((r) => r.decision)).toEqual(['refused', 'issued']);
    expect(rows[1]!.not_after).toEqual(new Date(NOW.getTime() + 24 * HOUR));
    expect((await s().findBySerial('01aa'))?.subject).toBe('CN=a.example');
  });

  it('refuses a duplicate serial (resolves false), keeping the first record', async (t) => {
    if (!store) return t.skip();
    expect(await s().record(entry({ serial: 'dup1', requester: 'first' }))).toBe(true);
    expect(await s().record(entry({ serial: 'dup1', requester: 'second' }))).toBe(false);
    expect((await s().findBySerial('dup1'))?.requester).toBe('first');
  });

  it('concurrent records share statements, and a serial taken twice in one batch is stored once', async (t) => {
    if (!store) return t.skip();
    const results = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => s().record(entry({ serial: `cc${i}`, ra: 'batch' }))),
      s().record(entry({ serial: 'twice', ra: 'batch', requester: 'first' })),
      s().record(entry({ serial: 'twice', ra: 'batch', requester: 'second' })),
      s().record(entry({ serial: 'cc0', ra: 'batch', requester: 'late' })),
      s().record(entry({ decision: 'refused', code: 'ERR_CA_AUTH_FAILED', ra: 'batch' })),
    ]);
    expect(results).toEqual([...Array<boolean>(40).fill(true), true, false, false, true]);
    expect(await s().audit({ ra: 'batch', limit: 1000 })).toHaveLength(42);
    expect((await s().findBySerial('twice'))?.requester).toBe('first');
  });

  it('revokes, reports the revocation in force, and lifts it', async (t) => {
    if (!store) return t.skip();
    const [id] = await s().revoke([{ kind: 'subject', value: 'CN=r.example' }], 'lost', NOW);
    const hit = await s().revoked([
      { kind: 'key', value: 'nope' },
      { kind: 'subject', value: 'CN=r.example' },
    ]);
    expect(hit?.id).toBe(id);
    expect(hit?.reason).toBe('lost');
    expect(await s().revoked([{ kind: 'subject', value: 'CN=other' }])).toBeUndefined();
    expect(await s().lift(id!, NOW)).toBe(true);
    expect(await s().lift(id!, NOW)).toBe(false);
    expect(await s().revoked([{ kind: 'subject', value: 'CN=r.example' }])).toBeUndefined();
  });

  it('GC deletes only records past expiry + retention, in batches, under one lease', async (t) => {
    if (!store) return t.skip();
    const old = new Date(NOW.getTime() - 100 * HOUR);
    for (let i = 0; i < 7; i++) await s().record(entry({ ra: 'gc', expires_at: old }));
    await s().record(entry({ ra: 'gc', expires_at: NOW }));
    const gc = { now: NOW, retentionMs: 10 * HOUR, batchSize: 3, leaseMs: HOUR };
    const [a, b] = await Promise.all([
      s().gc({ ...gc, holder: 'replica-a' }),
      s().gc({ ...gc, holder: 'replica-b' }),
    ]);
    expect([a.ran, b.ran].filter(Boolean)).toHaveLength(1);
    expect(a.deleted + b.deleted).toBe(7);
    expect(await s().audit({ ra: 'gc' })).toHaveLength(1);
    // Within the lease nobody runs again; after it, the next caller does.
    expect((await s().gc({ ...gc, holder: 'replica-b' })).ran).toBe(false);
    const later = { ...gc, now: new Date(NOW.getTime() + 2 * HOUR), holder: 'replica-b' };
    expect(await s().gc(later)).toEqual({ ran: true, deleted: 0 });
  });
});
