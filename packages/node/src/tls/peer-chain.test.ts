import { once } from 'node:events';
import { connect, createServer, type SecureVersion, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { encodePem } from '@certified/core';
import { createTlsPki, issueClient, issueServer } from '@certified/testing/tls-pki';
import { certificateInSession, peerChainOf, peerLeafOf } from './peer-chain.js';

const pemOf = (ders: Uint8Array[]): string => ders.map((d) => encodePem('CERTIFICATE', d)).join('');

/** Runs `inspect` on the server's socket for a client presenting leaf + CA; loopback only. */
async function onServerSocket<T>(
  inspect: (s: TLSSocket) => T,
  { version, leafOnly = false }: { version?: SecureVersion; leafOnly?: boolean } = {},
): Promise<T> {
  const pki = await createTlsPki('P-256', 'Peer Chain Org');
  const server = await issueServer(pki);
  const client = await issueClient(pki, 'ivy');
  let result!: T;
  const tlsServer = createServer(
    {
      key: server.key,
      cert: pemOf(server.certificates),
      requestCert: true,
      rejectUnauthorized: false,
      ...(version ? { minVersion: version, maxVersion: version } : {}),
    },
    (socket) => {
      result = inspect(socket);
      socket.end();
    },
  );
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  const { port } = tlsServer.address() as { port: number };
  const socket = connect({
    host: '127.0.0.1',
    port,
    key: client.key,
    cert: pemOf(leafOnly ? client.certificates.slice(0, 1) : client.certificates),
    rejectUnauthorized: false,
  });
  socket.on('error', () => undefined);
  socket.resume();
  await once(socket, 'close');
  tlsServer.close();
  return result;
}

describe('peerChainOf / peerLeafOf', () => {
  // Node 20's getPeerX509Certificate() is several times cheaper, but it removes certificates from
  // the connection's peer chain as it reads them: a second call, or an app's getPeerCertificate(true)
  // afterwards, sees the leaf alone. Reading must leave the chain as the peer sent it.
  it('read the presented chain without disturbing it for later readers', async () => {
    const seen = await onServerSocket((s) => ({
      leaf: peerLeafOf(s)?.length,
      first: peerChainOf(s).length,
      second: peerChainOf(s).length,
      app: (() => {
        let c = s.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown };
        let n = 0;
        const met = new Set<unknown>();
        while (c?.raw && !met.has(c) && n < 5) {
          met.add(c);
          n++;
          c = c.issuerCertificate as typeof c;
        }
        return n;
      })(),
    }));
    expect(seen.leaf).toBeGreaterThan(0);
    expect([seen.first, seen.second, seen.app]).toEqual([2, 2, 2]);
  });

  // peerLeafOf reads the leaf from the TLS session (a sixth of getPeerCertificate's cost on
  // Node 20): it must be the very certificate getPeerCertificate reports, on TLS 1.2 and 1.3, with
  // and without a presented chain, and a copy that zeroing the session does not touch.
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const)
    for (const leafOnly of [false, true])
      it(`read the leaf from the session as getPeerCertificate does (${version}, ${leafOnly ? 'leaf alone' : 'leaf + CA'})`, async () => {
        const seen = await onServerSocket(
          (s) => {
            const session = s.getSession();
            return {
              viaSession: session && certificateInSession(session),
              leaf: peerLeafOf(s),
              raw: new Uint8Array((s.getPeerCertificate(false) as { raw: Buffer }).raw),
              chain: peerChainOf(s).length,
            };
          },
          { version, leafOnly },
        );
        expect(seen.raw.length).toBeGreaterThan(100);
        expect(seen.viaSession).toEqual(seen.raw);
        expect(seen.leaf).toEqual(seen.raw);
        expect(seen.chain).toBe(leafOnly ? 1 : 2);
      });

  it('certificateInSession never throws on mangled or hostile session bytes', () => {
    const cert = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]);
    const session = new Uint8Array([
      0x30,
      0x13,
      0x02,
      0x01,
      0x01,
      0x04,
      0x02,
      0x13,
      0x01,
      0xa1,
      0x03,
      0x02,
      0x01,
      0x05,
      0xa3,
      0x05,
      ...cert,
    ]);
    expect(certificateInSession(session)).toEqual(cert);
    // Shapes that are not one certificate in [3]: no answer, so the caller asks the runtime.
    expect(certificateInSession(new Uint8Array([0x30, 0x00]))).toBeUndefined();
    expect(certificateInSession(new Uint8Array([0xa3, 0x02, 0x30, 0x00]))).toBeUndefined();
    expect(
      certificateInSession(new Uint8Array([0x30, 0x06, 0xa3, 0x04, 0x30, 0x00, 0x05, 0x00])),
    ).toBeUndefined();
    expect(
      certificateInSession(new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])),
    ).toBeUndefined();
    let seed = 7;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let i = 0; i < 2000; i++) {
      const b = session.slice(0, 2 + (next() % (session.length - 1)));
      b[next() % b.length] = next();
      const got = certificateInSession(b);
      if (got) {
        expect(got[0]).toBe(0x30);
        expect(got.length).toBeLessThanOrEqual(b.length);
      }
    }
  });
});
