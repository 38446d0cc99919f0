/**
 * @module remote-address.test — proxy address lists (IPv4, IPv6, CIDR, IPv4-mapped IPv6), the TCP
 * peer address as each runtime hands it to Hono, and the TLS chain read from socket-shaped objects.
 */
import { Hono, type Context } from 'hono';
import { describe, expect, it } from 'vitest';
import { createAddressMatcher, remoteAddressOf, tlsChainOf } from './remote-address.js';

describe('createAddressMatcher', () => {
  const m = createAddressMatcher([
    '127.0.0.1',
    '10.0.0.0/8',
    '192.168.1.128/25',
    '::1',
    '2001:db8::/32',
    '::ffff:172.16.0.0/108',
  ]);

  it.each([
    '127.0.0.1',
    '::ffff:127.0.0.1',
    '10.255.0.1',
    '::ffff:10.1.2.3',
    '192.168.1.200',
    '::1',
    '[::1]',
    '2001:db8:ffff::1',
    '2001:DB8::1',
    '172.16.3.4',
    '::ffff:172.31.255.255',
  ])('matches %s', (a) => expect(m(a)).toBe(true));

  it.each([
    '127.0.0.2',
    '11.0.0.1',
    '192.168.1.127',
    '::2',
    '2001:db9::1',
    '172.32.0.1',
    '::127.0.0.1',
    'fe80::1%eth0',
    'localhost',
    '',
    undefined,
  ])('does not match %s', (a) => expect(m(a)).toBe(false));

  it('matches an IPv4 address against an IPv6 block that covers its mapped form', () => {
    expect(createAddressMatcher(['::/0'])('203.0.113.9')).toBe(true);
    expect(createAddressMatcher(['::ffff:0:0/96'])('203.0.113.9')).toBe(true);
    expect(createAddressMatcher(['0.0.0.0/0'])('2001:db8::1')).toBe(false);
  });

  it('throws TypeError/RangeError for a bad list', () => {
    expect(() => createAddressMatcher('127.0.0.1' as unknown as string[])).toThrow(TypeError);
    expect(() => createAddressMatcher([1 as unknown as string])).toThrow(TypeError);
    expect(() => createAddressMatcher(['localhost'])).toThrow(RangeError);
    expect(() => createAddressMatcher(['10.0.0.0/33'])).toThrow(RangeError);
    expect(() => createAddressMatcher(['10.0.0.0/08'])).toThrow(RangeError);
    expect(() => createAddressMatcher(['10.0.0.0/'])).toThrow(RangeError);
    expect(() => createAddressMatcher(['10.1.2.3/8'])).toThrow(/bits set past/);
    expect(() => createAddressMatcher(['fe80::1%eth0'])).toThrow(RangeError);
  });
});

/** Runs `probe` on a context whose `c.env` is `env`. */
async function withEnv<T>(env: unknown, probe: (c: Context) => T): Promise<T> {
  let out: T | undefined;
  const app = new Hono();
  app.get('/', (c) => {
    out = probe(c);
    return c.body(null, 204);
  });
  await app.request('http://x/', {}, env as object);
  return out as T;
}

describe('remoteAddressOf', () => {
  it('reads Node (c.env.incoming.socket.remoteAddress)', async () => {
    const env = { incoming: { socket: { remoteAddress: '::ffff:10.0.0.1' } } };
    expect(await withEnv(env, remoteAddressOf)).toBe('::ffff:10.0.0.1');
  });

  it('reads Deno (c.env.remoteAddr.hostname)', async () => {
    const env = { remoteAddr: { transport: 'tcp', hostname: '10.0.0.2', port: 1234 } };
    expect(await withEnv(env, remoteAddressOf)).toBe('10.0.0.2');
  });

  it('reads Bun (c.env.requestIP(request).address), calling it on the server', async () => {
    const server = {
      ip: '10.0.0.3',
      requestIP(this: { ip: string }, r: Request) {
        return r instanceof Request ? { address: this.ip, port: 1, family: 'IPv4' } : null;
      },
    };
    expect(await withEnv(server, remoteAddressOf)).toBe('10.0.0.3');
  });

  it('returns undefined when the runtime does not say, or a getter throws', async () => {
    expect(await withEnv(undefined, remoteAddressOf)).toBeUndefined();
    expect(await withEnv({}, remoteAddressOf)).toBeUndefined();
    const hostile = {
      get incoming(): never {
        throw new Error('no');
      },
    };
    expect(await withEnv(hostile, remoteAddressOf)).toBeUndefined();
  });
});

describe('tlsChainOf', () => {
  const a = new Uint8Array([0x30, 1]);
  const b = new Uint8Array([0x30, 2]);
  const path = { ok: true, path: [{ der: a }, { der: b }] };

  it('prefers the path @certified/node validated (c.env.peer, or on the socket)', async () => {
    expect(await withEnv({ peer: path, incoming: { socket: {} } }, tlsChainOf)).toEqual({
      peer: a,
      chain: [b],
    });
    const socket = { [Symbol.for('@certified/node.peer')]: path };
    expect(await withEnv({ incoming: { socket } }, tlsChainOf)).toEqual({ peer: a, chain: [b] });
  });

  it('walks getPeerCertificate(true), stopping at the self-signed root', async () => {
    const root: { raw: Uint8Array; issuerCertificate?: unknown } = { raw: b };
    root.issuerCertificate = root;
    const socket = {
      getPeerCertificate: (d: boolean) => (d ? { raw: a, issuerCertificate: root } : {}),
    };
    expect(await withEnv({ incoming: { socket } }, tlsChainOf)).toEqual({ peer: a, chain: [b] });
  });

  it('falls back to getPeerX509Certificate().raw', async () => {
    const socket = { getPeerCertificate: () => ({}), getPeerX509Certificate: () => ({ raw: a }) };
    expect(await withEnv({ incoming: { socket } }, tlsChainOf)).toEqual({ peer: a, chain: [] });
  });

  it('returns undefined without a certificate or a TLS socket', async () => {
    expect(
      await withEnv({ incoming: { socket: { getPeerCertificate: () => ({}) } } }, tlsChainOf),
    ).toBeUndefined();
    expect(await withEnv({ incoming: { socket: {} } }, tlsChainOf)).toBeUndefined();
    expect(await withEnv({ peer: { ok: true, path: [] } }, tlsChainOf)).toBeUndefined();
    expect(await withEnv(undefined, tlsChainOf)).toBeUndefined();
  });
});
