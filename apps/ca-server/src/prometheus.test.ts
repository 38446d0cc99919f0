/**
 * A real Prometheus scrapes the CA's /metrics over HTTPS; the counters are read back through
 * Prometheus's query API, and `promtool` checks the exposition.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslCsr } from '@certified/testing/openssl-csr';
import { startPrometheus, type TestPrometheus } from '@certified/testing/prometheus';
import { startCaServer, type CaServer } from '@certified/ca/node';
import { caDir, https, SECRET } from '../test/harness.js';

let server: CaServer;
let prom: TestPrometheus | undefined;
beforeAll(async () => {
  const dir = await caDir();
  server = await startCaServer({
    config: join(dir, 'ca.yaml'),
    listen: 'https://127.0.0.1:0',
    gcIntervalMs: 0,
  });
  prom = await startPrometheus([{ address: `127.0.0.1:${server.port}`, caPem: server.caPem }]);
}, 60_000);
afterAll(async () => {
  await prom?.stop();
  await server?.close();
});

/** Polls until the query answers `want` (Prometheus scrapes every second), or gives the last answer. */
async function settle(q: string, want: number): Promise<number | undefined> {
  let last: number | undefined;
  for (let i = 0; i < 60; i++) {
    last = (await prom!.query(q))[0]?.value;
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  return last;
}

describe('Prometheus scraping /metrics', () => {
  it('reads back requests received, succeeded and failed per endpoint and RA, and issuance count', async (t) => {
    if (!prom) return t.skip();
    const sign = async (cn: string, secret = SECRET) =>
      https(`${server.url}/v1/certificates`, {
        ca: server.caPem,
        body: {
          ra: 'default',
          csr: (await opensslCsr({ subject: `/CN=${cn}` })).csrPem,
          user: 'myusername',
          secret,
        },
      });
    for (const cn of ['a.example.com', 'b.example.com', 'c.example.com'])
      expect((await sign(cn)).status).toBe(201);
    expect((await sign('d.example.com', 'wrong')).status).toBe(401);
    expect((await sign('evil.example.org')).status).toBe(400);

    const sel = '{endpoint="certificates",ra="default"}';
    expect(await settle(`certified_ca_requests_received_total${sel}`, 5)).toBe(5);
    expect(await settle(`certified_ca_requests_succeeded_total${sel}`, 3)).toBe(3);
    expect(await settle(`sum(certified_ca_requests_failed_total${sel})`, 2)).toBe(2);
    expect(
      await settle(
        'certified_ca_requests_failed_total{code="ERR_CA_VALIDATION_FAILED",ra="default"}',
        1,
      ),
    ).toBe(1);
    expect(await settle('certified_ca_issuance_seconds_count{ra="default"}', 3)).toBe(3);
    expect(await settle('up', 1)).toBe(1);
  }, 90_000);

  it('passes promtool check metrics', async (t) => {
    if (!prom) return t.skip();
    const text = (await https(`${server.url}/metrics`, { ca: server.caPem })).text;
    const out = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const p = execFile('promtool', ['check', 'metrics'], (e, stdout, stderr) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      );
      p.stdin!.end(text);
    });
    expect(out.output).toBe('');
    expect(out.code).toBe(0);
  });
});
