/**
 * @module tls/refusal-limit.test — the refusal limit: the token bucket with an injected clock, and
 * over real TLS on 127.0.0.0/8, a stranger at 127.0.0.2 turned away at accept (before the
 * handshake) after its allowance while a trusted client at 127.0.0.1 is still served.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTlsPki,
  issueClient,
  issueServer,
  type TlsIdentity,
  type TlsPki,
} from '@certified/testing/tls-pki';
import { encodePem } from '@certified/core';
import { abandonHandshake, recordClientHello } from '@certified/testing/net';
import { addressKey, RefusalLimiter } from './refusal-limit.js';
import { createMtlsServer, type ConnectionEvent, type MtlsServer } from './server.js';

describe('RefusalLimiter', () => {
  it('lets an address be refused `burst` times, then blocks it until it earns a refusal back', () => {
    let now = 0;
    const limiter = new RefusalLimiter({ burst: 3, perSecond: 0.5 }, () => now);
    expect(limiter.blocked('192.0.2.1')).toBe(false);
    expect([limiter.refused('192.0.2.1'), limiter.refused('192.0.2.1')]).toEqual([false, false]);
    expect(limiter.blocked('192.0.2.1')).toBe(false);
    expect(limiter.refused('192.0.2.1')).toBe(true); // the third uses it up: reported once
    expect(limiter.blocked('192.0.2.1')).toBe(true);
    expect(limiter.blocked('192.0.2.2')).toBe(false); // other addresses are not affected
    now += 1999;
    expect(limiter.blocked('192.0.2.1')).toBe(true);
    now += 1; // 2 s at 0.5/s: one refusal earned back
    expect(limiter.blocked('192.0.2.1')).toBe(false);
    expect(limiter.refused('192.0.2.1')).toBe(true);
    expect(limiter.refused('192.0.2.1')).toBe(false); // still blocked: not reported again
    now += 60_000;
    expect(limiter.blocked('192.0.2.1')).toBe(false); // refills to burst, not beyond
    limiter.refused('192.0.2.1');
    limiter.refused('192.0.2.1');
    expect(limiter.refused('192.0.2.1')).toBe(true);
  });

  it('says whether any address may be blocked, so a listener can skip reading addresses', () => {
    let now = 0;
    const limiter = new RefusalLimiter({ burst: 2, perSecond: 0.5 }, () => now);
    expect(limiter.mayBlock()).toBe(false);
    limiter.refused('192.0.2.1');
    expect(limiter.mayBlock()).toBe(false); // one token left: nobody is blocked
    limiter.refused('192.0.2.1');
    expect(limiter.mayBlock()).toBe(true);
    now += 1999;
    expect([limiter.mayBlock(), limiter.blocked('192.0.2.1')]).toEqual([true, true]);
    now += 3; // past the 2 s it takes to earn one token back, and the 1 ms of slack
    expect([limiter.mayBlock(), limiter.blocked('192.0.2.1')]).toEqual([false, false]);
  });

  it('never blocks an address while it says none may be (random refusals, weights and waits)', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let now = 1_000;
    const limiter = new RefusalLimiter({ burst: 3, perSecond: 0.7 }, () => now);
    const addresses = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::1'];
    let blockedSeen = 0;
    for (let step = 0; step < 20_000; step++) {
      const address = addresses[random(addresses.length)]!;
      if (random(3) === 0) limiter.refused(address, random(3) === 0 ? random(20_000) : 0);
      now += random(4) === 0 ? random(5_000) : random(50);
      for (const a of addresses)
        if (limiter.blocked(a)) {
          blockedSeen++;
          expect(limiter.mayBlock(), `${a} is blocked at ${now}`).toBe(true);
        }
    }
    expect(blockedSeen).toBeGreaterThan(1_000); // the walk did block addresses
  });

  it('weighs a refusal by the certificates presented: one token per started 4 KiB', () => {
    const limiter = new RefusalLimiter({}, () => 0); // defaults: 10 tokens, 0.5 per second
    for (let i = 0; i < 9; i++) expect(limiter.refused('192.0.2.1', 2_000)).toBe(false);
    expect(limiter.refused('192.0.2.1', 2_000)).toBe(true); // an ordinary chain: 10 tries
    expect(limiter.refused('192.0.2.2', 8_193)).toBe(false); // 3 tokens
    expect(limiter.refused('192.0.2.3', 98_945)).toBe(true); // a ~100 KB chain: one try
    expect(limiter.blocked('192.0.2.3')).toBe(true);
  });

  it('forgets the least recently refused address beyond `addresses`', () => {
    const limiter = new RefusalLimiter({ burst: 1, addresses: 2 }, () => 0);
    limiter.refused('192.0.2.1');
    limiter.refused('192.0.2.2');
    limiter.refused('192.0.2.3');
    expect(limiter.blocked('192.0.2.1')).toBe(false);
    expect(limiter.blocked('192.0.2.2')).toBe(true);
    expect(limiter.blocked('192.0.2.3')).toBe(true);
  });

  it('limits IPv6 by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    const limiter = new RefusalLimiter({ burst: 1 }, () => 0);
    limiter.refused('2001:db8:1:2::5');
    expect(limiter.blocked('2001:db8:1:2::99')).toBe(true);
    expect(limiter.blocked('2001:db8:1:3::5')).toBe(false);
    limiter.refused('::ffff:192.0.2.9');
    expect(limiter.blocked('192.0.2.9')).toBe(true);
  });

  it('refuses options that are not positive numbers with RangeError', () => {
    for (const bad of [0, -1, Number.NaN, Infinity, '3' as unknown as number])
      expect(() => new RefusalLimiter({ burst: bad })).toThrow(RangeError);
    expect(() => new RefusalLimiter({ perSecond: 0 })).toThrow(/refusalLimit.perSecond/);
  });
});

describe('createMtlsServer refusalLimit over real TLS', () => {
  let pki: TlsPki;
  let server: TlsIdentity;
  let alice: TlsIdentity;
  let stranger: TlsIdentity;

  beforeAll(async () => {
    pki = await createTlsPki('P-256', 'Limit Test');
    const other = await createTlsPki('P-256', 'Strangers');
    server = await issueServer(pki);
    alice = await issueClient(pki, 'Alice');
    stranger = await issueClient(other, 'Stranger');
  });

  /** One connection from `localAddress`: whether the handshake completed, and the reply to a GET. */
  function attempt(
    port: number,
    me: TlsIdentity,
    localAddress: string,
  ): Promise<{ handshake: boolean; reply: string }> {
    return new Promise((resolve) => {
      // 127.0.0.0/8 is all loopback: another source address is another client address.
      const socket = tlsConnect({
        socket: netConnect({ host: '127.0.0.1', port, localAddress }),
        key: me.key,
        cert: me.certificates.map((d) => encodePem('CERTIFICATE', d)).join(''),
        rejectUnauthorized: false,
      });
      let handshake = false;
      let reply = '';
      socket.on('secureConnect', () => {
        handshake = true;
        socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      });
      socket.on('data', (d: Uint8Array) => (reply += new TextDecoder().decode(d)));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ handshake, reply }));
    });
  }

  async function start(
    refusalLimit: Parameters<typeof createMtlsServer>[0]['refusalLimit'],
    events: ConnectionEvent[],
  ): Promise<MtlsServer> {
    return createMtlsServer({
      url: 'https://127.0.0.1:0',
      key: server.key,
      certificates: server.certificates,
      validator: pki.validator(),
      fetch: () => new Response('ok'),
      onConnection: (e) => events.push(e),
      ...(refusalLimit === undefined ? {} : { refusalLimit }),
    });
  }

  const refusals = (events: ConnectionEvent[]): string[] =>
    events.flatMap((e) => (e.type === 'refused' ? [`${e.remoteAddress} ${e.code}`] : []));

  const servers: MtlsServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('drops a stranger at accept once it has been refused `burst` times; others are served', async () => {
    const events: ConnectionEvent[] = [];
    const s = await start({ burst: 3, perSecond: 0.001 }, events);
    servers.push(s);
    const port = s.port;
    for (let i = 0; i < 3; i++) expect((await attempt(port, stranger, '127.0.0.2')).reply).toBe('');
    // The next ones never reach a handshake: OpenSSL reads nothing from them.
    for (let i = 0; i < 5; i++)
      expect(await attempt(port, stranger, '127.0.0.2')).toEqual({ handshake: false, reply: '' });
    const alone = await attempt(port, alice, '127.0.0.1');
    expect(alone.reply).toMatch(/^HTTP\/1\.1 200/);
    expect(refusals(events)).toEqual([
      '127.0.0.2 ERR_CHAIN_NO_PATH',
      '127.0.0.2 ERR_CHAIN_NO_PATH',
      '127.0.0.2 ERR_NET_THROTTLED',
      '127.0.0.2 ERR_CHAIN_NO_PATH',
    ]);
    // Even Alice is turned away from a blocked address: the limit is per address, not per client.
    expect((await attempt(port, alice, '127.0.0.2')).handshake).toBe(false);
  });

  it('lets a blocked address back in once it has waited', async () => {
    const events: ConnectionEvent[] = [];
    const s = await start({ burst: 1, perSecond: 20 }, events);
    servers.push(s);
    expect((await attempt(s.port, stranger, '127.0.0.3')).reply).toBe('');
    expect((await attempt(s.port, alice, '127.0.0.3')).handshake).toBe(false);
    await new Promise((r) => setTimeout(r, 120)); // 20/s: 50 ms earns one back
    expect((await attempt(s.port, alice, '127.0.0.3')).reply).toMatch(/^HTTP\/1\.1 200/);
  });

  it('never drops anyone with refusalLimit: false', async () => {
    const events: ConnectionEvent[] = [];
    const s = await start(false, events);
    servers.push(s);
    for (let i = 0; i < 25; i++) await attempt(s.port, stranger, '127.0.0.4');
    expect(refusals(events)).toEqual(Array(25).fill('127.0.0.4 ERR_CHAIN_NO_PATH'));
    expect((await attempt(s.port, alice, '127.0.0.4')).reply).toMatch(/^HTTP\/1\.1 200/);
  });

  it('drops an address holding `handshakes` connections it never completes; others are served, and it is again once they close', async () => {
    const events: ConnectionEvent[] = [];
    const s = await start({ handshakes: 8 }, events);
    servers.push(s);
    // Thirty connections from 127.0.0.5 that never send a byte. Seven get in before the listener
    // reads any address (fewer than 8 unjudged in all), then eight are counted under 127.0.0.5.
    let closedByServer = 0;
    const silent = Array.from({ length: 30 }, () => {
      const socket = netConnect({ host: '127.0.0.1', port: s.port, localAddress: '127.0.0.5' });
      socket.on('error', () => undefined);
      socket.on('close', () => closedByServer++);
      return socket;
    });
    await expect.poll(() => closedByServer, { timeout: 5_000 }).toBe(15);
    expect((await attempt(s.port, alice, '127.0.0.5')).handshake).toBe(false);
    expect((await attempt(s.port, alice, '127.0.0.1')).reply).toMatch(/^HTTP\/1\.1 200/);
    expect(refusals(events)).toEqual(['127.0.0.5 ERR_NET_THROTTLED']);
    for (const socket of silent) socket.destroy();
    await expect
      .poll(async () => (await attempt(s.port, alice, '127.0.0.5')).reply, { timeout: 5_000 })
      .toMatch(/^HTTP\/1\.1 200/);
  });

  it('counts handshakes a client abandons after the server answered its hello, and drops it once they use up its allowance', async () => {
    const hello = await recordClientHello();
    const events: ConnectionEvent[] = [];
    const s = await start({ burst: 3, perSecond: 0.001 }, events);
    servers.push(s);
    const abandon = () => abandonHandshake(s.port, hello, '127.0.0.9');
    // Node reports such a failure with no address: the first starts the listener reading
    // addresses (the next may already be accepted by then); three more use up 127.0.0.9's
    // allowance; then it is dropped at accept, unanswered.
    const answers: boolean[] = [];
    for (let i = 0; i < 10; i++) answers.push(await abandon());
    const answered = answers.filter(Boolean).length;
    expect(answered).toBeGreaterThanOrEqual(4);
    expect(answered).toBeLessThanOrEqual(6); // events may trail the next accept by one
    expect(answers.slice(answered)).toEqual(Array(10 - answered).fill(false));
    expect(refusals(events).filter((r) => r.startsWith('127.0.0.9'))).toEqual([
      '127.0.0.9 ERR_NET_THROTTLED',
    ]);
    expect((await attempt(s.port, alice, '127.0.0.1')).reply).toMatch(/^HTTP\/1\.1 200/);
  });

  it('refuses a refusalLimit.handshakes that is not a positive integer', async () => {
    for (const handshakes of [0, 2.5, -1])
      await expect(start({ handshakes }, [])).rejects.toThrow(RangeError);
  });

  it('refuses a refusalLimit that is not an object or false', async () => {
    await expect(start('yes' as never, [])).rejects.toThrow(TypeError);
    await expect(start({ burst: -1 }, [])).rejects.toThrow(RangeError);
  });
});
