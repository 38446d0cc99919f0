/**
 * The validator's admission rule through a real mTLS server: once its cache is full, clients that
 * connect once (a scanner, a client cycling certificates) do not push out one that keeps coming
 * back, whose connections stay answered from the cache (no signature check at the handshake).
 */
import { createPathValidator } from '@certified/core';
import {
  createTlsPki,
  issueClient,
  issueServer,
  type TlsIdentity,
} from '@certified/testing/tls-pki';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createMtlsFetch } from './client.js';
import { createMtlsServer, type ConnectionEvent } from './server.js';

describe('createMtlsServer with a full validator cache', () => {
  it('keeps answering a returning client from the cache while one-off clients connect', async () => {
    const pki = await createTlsPki('P-256', 'Admission');
    const server = await issueServer(pki);
    const returning = await issueClient(pki, 'Returning');
    const oneOffs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => issueClient(pki, `One-off ${i}`)),
    );
    const events: ConnectionEvent[] = [];
    // Room for one result and two parsed certificates: the anchor and one client.
    const validator = createPathValidator({ anchors: [pki.ca.der], cacheSize: 1 });
    const srv = await createMtlsServer({
      url: 'https://127.0.0.1:0',
      key: server.key,
      certificates: server.certificates,
      validator,
      fetch: new Hono().get('/', (c) => c.text('ok')).fetch,
      onConnection: (e) => events.push(e),
    });
    /** One request on a new connection; the accepted event of that connection. */
    const connect = async (who: TlsIdentity) => {
      const before = events.length;
      const call = createMtlsFetch({
        key: who.key,
        certificates: who.certificates,
        validator: pki.validator(),
        timeoutMs: 5_000,
      });
      try {
        const r = await call(`${srv.url}/`);
        expect(await r.text()).toBe('ok');
      } finally {
        await call.close();
      }
      const accepted = events
        .slice(before)
        .find((e) => e.type === 'accepted' && e.commonName === who.commonName);
      if (accepted?.type !== 'accepted') throw new Error(`no accepted event for ${who.commonName}`);
      return accepted.path;
    };
    try {
      expect((await connect(returning)).cached).toBe(false);
      expect((await connect(returning)).cached).toBe(true);
      for (const o of oneOffs) {
        const path = await connect(o);
        expect(path.cached).toBe(false);
        expect(path.work.signatureChecks).toBe(1);
      }
      const again = await connect(returning);
      expect(again.cached).toBe(true);
      expect(again.work.signatureChecks).toBe(0);
    } finally {
      await srv.close();
    }
  });
});
