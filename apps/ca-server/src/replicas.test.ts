/**
 * Two CA servers on one PostgreSQL (a real cluster started here): concurrent issuance without a
 * duplicate serial, a revocation on one honoured by the other, GC run by exactly one of them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '@certified/core';
import { opensslCsr } from '@certified/testing/openssl-csr';
import { startPostgres, type TestPostgres } from '@certified/testing/postgres';
import { startCaServer, type CaServer } from '@certified/ca/node';
import { caDir, https, SECRET } from '../test/harness.js';

let pg: TestPostgres | undefined;
let a: CaServer;
let b: CaServer;
beforeAll(async () => {
  pg = await startPostgres();
  if (!pg) return;
  const dir = await caDir({ backend: 'postgres', url: await pg.database('replicas') });
  const start = () =>
    startCaServer({ config: join(dir, 'ca.yaml'), listen: 'https://127.0.0.1:0', gcIntervalMs: 0 });
  // Both start at once: the migrations race and must not collide.
  [a, b] = await Promise.all([start(), start()]);
}, 90_000);
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await pg?.stop();
});

describe('two replicas on one PostgreSQL', () => {
  it('issue concurrently without a duplicate serial; a revocation on one is honoured by the other; GC runs once', async (t) => {
    if (!pg) return t.skip();
    const csrs = await Promise.all(
      Array.from({ length: 16 }, (_, i) => opensslCsr({ subject: `/CN=host${i}.example.com` })),
    );
    const answers = await Promise.all(
      csrs.map((c, i) =>
        https(`${(i % 2 ? a : b).url}/v1/certificates`, {
          ca: a.caPem,
          body: { ra: 'default', csr: c.csrPem, user: 'myusername', secret: SECRET },
        }),
      ),
    );
    for (const r of answers) expect(r.status, r.text).toBe(201);
    const serials = answers.map((r) => r.json()['serial'] as string);
    expect(new Set(serials).size).toBe(16);
    const stored = (await a.ca.store.audit({ limit: 100 })).filter((r) => r.decision === 'issued');
    expect(stored.map((r) => r.serial).sort()).toEqual([...serials].sort());

    // Revoke host0's certificate on A; B refuses its renewal.
    const cert = answers[0]!.json()['certificate'] as string;
    const revoke = await https(`${a.url}/v1/revoke`, {
      ca: a.caPem,
      body: {
        ra: 'default',
        serial: parseCertificate(cert).serialNumberHex,
        user: 'myusername',
        secret: SECRET,
      },
    });
    expect(revoke.status, revoke.text).toBe(200);
    const renewal = await https(`${b.url}/v1/renew`, {
      ca: a.caPem,
      cert,
      key: csrs[0]!.keyPem,
      body: { ra: 'default', csr: (await opensslCsr({ subject: '/CN=host0.example.com' })).csrPem },
    });
    expect(renewal.status, renewal.text).toBe(403);
    expect(renewal.json()['code']).toBe('ERR_CA_REVOKED');
    // …while another holder renews on B.
    const other = await https(`${b.url}/v1/renew`, {
      ca: a.caPem,
      cert: answers[1]!.json()['certificate'] as string,
      key: csrs[1]!.keyPem,
      body: { ra: 'default', csr: (await opensslCsr({ subject: '/CN=host1.example.com' })).csrPem },
    });
    expect(other.status, other.text).toBe(201);

    // Far enough ahead that every record is past expiry + retention: one replica deletes them all.
    const later = new Date(Date.now() + 800 * 3_600_000);
    const before = (await a.ca.store.audit({ limit: 1000 })).length;
    const [ga, gb] = await Promise.all([a.gc(later), b.gc(later)]);
    expect([ga.ran, gb.ran].filter(Boolean)).toHaveLength(1);
    expect(ga.deleted + gb.deleted).toBe(before);
    expect(await b.ca.store.audit({ limit: 10 })).toEqual([]);
  }, 120_000);
});
