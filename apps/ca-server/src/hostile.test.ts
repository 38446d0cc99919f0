/**
 * Clients that hold connections without finishing anything: a TCP connection that never says
 * hello, a TLS connection that never sends a request, headers that never end, a body that never
 * arrives. Each is closed by its deadline (short ones here), and the server keeps serving.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaServer, type CaServer } from '@certified/ca/node';
import { abandonHandshake, recordClientHello } from '@certified/testing/net';
import { caDir, https } from '../test/harness.js';

let server: CaServer;
beforeAll(async () => {
  server = await startCaServer({
    config: join(await caDir(), 'ca.yaml'),
    listen: 'https://127.0.0.1:0',
    gcIntervalMs: 0,
    handshakeTimeoutMs: 300,
    idleTimeoutMs: 300,
    requestTimeoutMs: 800,
  });
}, 60_000);
afterAll(() => server?.close());

/** Milliseconds until the server closes `socket` (fails after 5 s). */
function closedAfter(socket: Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('still open after 5 s')), 5000);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    });
  });
}

const tls = (): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: server.port, ca: server.caPem }, () =>
      resolve(s),
    );
    s.once('error', reject);
  });

describe('deadlines', () => {
  it('closes a TCP connection that never starts TLS', async () => {
    const s = tcpConnect(server.port, '127.0.0.1');
    expect(await closedAfter(s)).toBeLessThan(3000);
  });

  it('closes a TLS connection that never sends a request', async () => {
    expect(await closedAfter(await tls())).toBeLessThan(3000);
  });

  it('closes one whose headers never end', async () => {
    const s = await tls();
    const closed = closedAfter(s);
    s.write('POST /v1/certificates HTTP/1.1\r\nHost: ca\r\n');
    const timer = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 100);
    try {
      expect(await closed).toBeLessThan(3000);
    } finally {
      clearInterval(timer);
    }
  });

  it('closes one whose body never arrives, and still serves others', async () => {
    const s = await tls();
    const closed = closedAfter(s);
    s.write(
      'POST /v1/certificates HTTP/1.1\r\nHost: ca\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ra":',
    );
    expect(await closed).toBeLessThan(4000);
    const health = await https(`${server.url}/health`, { ca: server.caPem, method: 'GET' });
    expect(health.status).toBe(200);
  });
});

describe('renegotiation', () => {
  it('refuses TLS 1.2 renegotiation', async () => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port: server.port,
      ca: server.caPem,
      maxVersion: 'TLSv1.2',
    });
    const failed = new Promise<string>((resolve) => s.once('error', (e) => resolve(e.message)));
    await new Promise<void>((r) => s.once('secureConnect', () => r()));
    s.renegotiate({}, () => undefined);
    expect(await failed).toMatch(/no renegotiation/);
    s.destroy();
  });
});

describe('abandoned handshakes', () => {
  it('an address that keeps abandoning handshakes once answered is dropped at accept; others are served', async () => {
    const hello = await recordClientHello();
    const answers: boolean[] = [];
    for (let i = 0; i < 20; i++)
      answers.push(await abandonHandshake(server.port, hello, '127.0.0.11'));
    // The first starts the count (Node reports it with no address); then the default allowance
    // of 10, give or take an event that trails the next accept.
    const answered = answers.filter(Boolean).length;
    expect(answered).toBeGreaterThanOrEqual(11);
    expect(answered).toBeLessThanOrEqual(13);
    expect(answers.slice(answered)).toEqual(Array(20 - answered).fill(false));
    const health = await https(`${server.url}/health`, { ca: server.caPem, method: 'GET' });
    expect(health.status).toBe(200);
  });
});

describe('connections per address', () => {
  let limited: CaServer;
  beforeAll(async () => {
    limited = await startCaServer({
      config: join(await caDir(), 'ca.yaml'),
      listen: 'https://127.0.0.1:0',
      gcIntervalMs: 0,
      maxConnections: 20,
      maxConnectionsPerAddress: 5,
    });
  }, 60_000);
  afterAll(() => limited?.close());

  it('one address holding connections cannot take every slot: its extra ones are dropped, others are served', async () => {
    let closedByServer = 0;
    // 127.0.0.0/8 is all loopback: another source address is another client.
    const held = Array.from({ length: 25 }, () => {
      const s = tcpConnect({ host: '127.0.0.1', port: limited.port, localAddress: '127.0.0.7' });
      s.on('error', () => undefined);
      s.on('close', () => closedByServer++);
      return s;
    });
    try {
      await expect.poll(() => closedByServer, { timeout: 5_000 }).toBe(20);
      const health = await https(`${limited.url}/health`, { ca: limited.caPem, method: 'GET' });
      expect(health.status).toBe(200);
    } finally {
      held.forEach((s) => s.destroy());
    }
  });
});
