import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { encodePem } from '@certified/core';
import { createTlsPki, issueClient, issueServer } from '@certified/testing/tls-pki';
import { peerChainOf, peerLeafOf } from './peer-chain.js';

const pemOf = (ders: Uint8Array[]): string => ders.map((d) => encodePem('CERTIFICATE', d)).join('');

/** Runs `inspect` on the server's socket for a client presenting leaf + CA; loopback only. */
async function onServerSocket<T>(inspect: (s: TLSSocket) => T): Promise<T> {
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
    cert: pemOf(client.certificates),
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
});
