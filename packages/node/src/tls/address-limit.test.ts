/**
 * @module tls/address-limit.test — over real TCP and TLS on 127.0.0.0/8: one address holding its
 * share is dropped at accept, others are served, and it gets in again once its connections close.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTlsPki, issueServer, type TlsIdentity } from '@certified/testing/tls-pki';
import { encodePem } from '@certified/core';
import { limitConnectionsPerAddress } from './address-limit.js';

describe('limitConnectionsPerAddress', () => {
  let identity: TlsIdentity;
  let caPem: string;
  beforeAll(async () => {
    const pki = await createTlsPki('P-256', 'Address limit');
    identity = await issueServer(pki);
    caPem = encodePem('CERTIFICATE', pki.ca.der);
  });
  const servers: { close(): void }[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  /** A TLS server answering "hi" to each connection, with at most `max` per address. */
  async function start(max: number, dropped: string[]) {
    const server = createTlsServer(
      {
        key: identity.key,
        cert: identity.certificates.map((d) => encodePem('CERTIFICATE', d)).join(''),
      },
      (socket) => socket.end('hi'),
    );
    server.on('tlsClientError', (_e, socket) => socket?.destroy());
    const openOf = limitConnectionsPerAddress(server, max, (a) => dropped.push(a));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    return { port: (server.address() as { port: number }).port, openOf };
  }

  const hello = (port: number, localAddress: string): Promise<string> =>
    new Promise((resolve) => {
      const s = tlsConnect({
        socket: netConnect({ host: '127.0.0.1', port, localAddress }),
        ca: caPem,
        servername: 'localhost',
      });
      let got = '';
      s.on('data', (d: Uint8Array) => (got += new TextDecoder().decode(d)));
      s.on('error', () => undefined);
      s.on('close', () => resolve(got));
    });

  it('drops an address at its share while others are served; it gets in again once it closes some', async () => {
    const dropped: string[] = [];
    const { port, openOf } = await start(5, dropped);
    let closedByServer = 0;
    const held: Socket[] = Array.from({ length: 8 }, () => {
      const s = netConnect({ host: '127.0.0.1', port, localAddress: '127.0.0.6' });
      s.on('error', () => undefined);
      s.on('close', () => closedByServer++);
      return s;
    });
    await expect.poll(() => closedByServer, { timeout: 5_000 }).toBe(3);
    expect(openOf('127.0.0.6')).toBe(5);
    expect(await hello(port, '127.0.0.6')).toBe('');
    expect(await hello(port, '127.0.0.1')).toBe('hi');
    expect(dropped).toEqual(Array(4).fill('127.0.0.6'));
    held.forEach((s) => s.destroy());
    await expect.poll(() => openOf('127.0.0.6'), { timeout: 5_000 }).toBe(0);
    expect(await hello(port, '127.0.0.6')).toBe('hi');
  });

  it('rejects a max that is not a positive integer', () => {
    const server = createTlsServer({});
    for (const max of [0, -1, 1.5, Number.NaN])
      expect(() => limitConnectionsPerAddress(server, max)).toThrow(RangeError);
  });
});
