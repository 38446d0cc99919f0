/**
 * @module tls/client.test — `createMtlsFetch` over real TLS on 127.0.0.1: request bodies and
 * response shapes against `serve`, server refusals by our validator (anchor, name, EKU), and the
 * network failures (closed port, silence, OpenSSL alerts, broken HTTP, aborts).
 */
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import {
  dnsName,
  encodePem,
  NetworkError,
  PathValidationError,
  type PathValidator,
} from '@certified/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTlsPki,
  issueClient,
  issueServer,
  type TlsIdentity,
  type TlsPki,
} from '@certified/testing/tls-pki';
import { createMtlsFetch, type MtlsFetchOptions } from './client.js';
import { peerOf, createMtlsServer, type MtlsServer } from './server.js';

let pki: TlsPki;
let strangers: TlsPki;
let serverId: TlsIdentity;
let ada: TlsIdentity;
let server: MtlsServer;
const cleanups: (() => unknown)[] = [];

const pemChain = (id: TlsIdentity): string =>
  id.certificates.map((d) => encodePem('CERTIFICATE', d)).join('');

function mtlsFetch(extra: Partial<MtlsFetchOptions> = {}) {
  return createMtlsFetch({
    key: ada.key,
    certificates: ada.certificates,
    validator: pki.validator(),
    timeoutMs: 5_000,
    ...extra,
  });
}

/** Echoes what arrived, so tests can see what the client sent. */
async function echo(request: Request, env: Parameters<typeof peerOf>[0]): Promise<Response> {
  const url = new URL(request.url);
  switch (url.pathname) {
    case '/created':
      return new Response('made', {
        status: 201,
        headers: [
          ['x-one', '1'],
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
        ],
      });
    case '/empty':
      return new Response(null, { status: 204 });
    case '/stream': {
      let i = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            await new Promise((r) => setTimeout(r, 5));
            if (i === 3) controller.close();
            else controller.enqueue(new TextEncoder().encode(`chunk${i++};`));
          },
        }),
      );
    }
    case '/stall':
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('first'));
          },
        }),
      );
    case '/forever':
      return new Promise<Response>(() => undefined);
  }
  const body = new Uint8Array(await request.arrayBuffer());
  return Response.json({
    method: request.method,
    path: url.pathname + url.search,
    host: request.headers.get('host'),
    contentType: request.headers.get('content-type'),
    contentLength: request.headers.get('content-length'),
    transferEncoding: request.headers.get('transfer-encoding'),
    custom: request.headers.get('x-custom'),
    body: new TextDecoder().decode(body),
    from: peerOf(env)?.peer.commonName,
  });
}

/** A bare TLS server with our server identity, for misbehaviour `serve` would never show. */
async function rawTls(
  onSocket: (socket: TLSSocket) => void,
  options: Parameters<typeof createTlsServer>[0] = {},
  id: TlsIdentity = serverId,
): Promise<number> {
  const s = createTlsServer({ key: id.key, cert: pemChain(id), ...options }, onSocket);
  s.on('tlsClientError', () => undefined);
  return listen(s);
}

async function listen(s: NetServer): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const sockets = new Set<{ destroy(): void }>();
  s.on('connection', (c) => {
    sockets.add(c);
    c.on('error', () => undefined);
  });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        s.close(() => r());
      }),
  );
  return (s.address() as { port: number }).port;
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  pki = await createTlsPki('Ed25519', 'Client test');
  strangers = await createTlsPki('P-256', 'Client test strangers');
  serverId = await issueServer(pki, 'api');
  ada = await issueClient(pki, 'Ada');
  server = await createMtlsServer({
    url: 'https://127.0.0.1:0',
    key: serverId.key,
    certificates: serverId.certificates,
    validator: pki.validator(),
    fetch: echo,
  });
});
afterAll(async () => {
  await server?.close();
  await Promise.all(cleanups.map((c) => c()));
});

describe('createMtlsFetch requests', () => {
  it('sends a GET with the Host header, query and custom headers', async () => {
    const res = await mtlsFetch()(new URL(`${server.url}/where?x=1&y=%20`), {
      headers: { 'x-custom': 'yes' },
    });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.url).toBe(`${server.url}/where?x=1&y=%20`);
    expect(await res.json()).toMatchObject({
      method: 'GET',
      path: '/where?x=1&y=%20',
      host: `127.0.0.1:${server.port}`,
      custom: 'yes',
      body: '',
      from: 'Ada',
    });
  });

  const bodies: [string, () => BodyInit, string, string | null][] = [
    ['a string', () => 'héllo', 'héllo', 'text/plain;charset=UTF-8'],
    ['a Uint8Array', () => new TextEncoder().encode('bytes'), 'bytes', null],
    ['an ArrayBuffer', () => new TextEncoder().encode('buffer').buffer, 'buffer', null],
    [
      'URLSearchParams',
      () => new URLSearchParams({ a: '1', b: 'two words' }),
      'a=1&b=two+words',
      'application/x-www-form-urlencoded;charset=UTF-8',
    ],
  ];
  it.each(bodies)('POSTs %s with a Content-Length', async (_what, body, text, type) => {
    const res = await mtlsFetch()(`${server.url}/echo`, { method: 'POST', body: body() });
    const got = (await res.json()) as Record<string, unknown>;
    expect(got).toMatchObject({ method: 'POST', body: text });
    expect(got['contentLength']).toBe(String(new TextEncoder().encode(text).byteLength));
    if (type) expect(got['contentType']).toBe(type);
  });

  it('streams a ReadableStream body chunked', async () => {
    const parts = ['one,', 'two,', 'three'];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const res = await mtlsFetch()(`${server.url}/echo`, { method: 'PUT', body });
    expect(await res.json()).toMatchObject({
      method: 'PUT',
      body: 'one,two,three',
      transferEncoding: 'chunked',
      contentLength: null,
    });
  });

  it('takes a Request, with init overriding it', async () => {
    const request = new Request(`${server.url}/req`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json', 'x-custom': 'from-request' },
    });
    const copy = request.clone(); // fetch consumes a Request's body, as the Fetch API does
    expect(await (await mtlsFetch()(request)).json()).toMatchObject({
      method: 'POST',
      body: '{"a":1}',
      contentType: 'application/json',
      custom: 'from-request',
    });
    const overridden = await mtlsFetch()(copy, { method: 'PATCH', body: 'x' });
    expect(await overridden.json()).toMatchObject({ method: 'PATCH', body: 'x' });
  });

  it('returns status and every header', async () => {
    const res = await mtlsFetch()(`${server.url}/created`);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-one')).toBe('1');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await res.text()).toBe('made');
  });

  it('returns the status text the server sent', async () => {
    // @hono/node-server always sends the standard reason phrase, so a bare server says something else.
    const port = await rawTls((s) =>
      s.once('data', () => s.end('HTTP/1.1 299 Made It\r\ncontent-length: 2\r\n\r\nok')),
    );
    const res = await mtlsFetch()(`https://127.0.0.1:${port}/`);
    expect([res.status, res.statusText, await res.text()]).toEqual([299, 'Made It', 'ok']);
  });

  it('gives a null body for 204 and HEAD', async () => {
    const empty = await mtlsFetch()(`${server.url}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    const head = await mtlsFetch()(`${server.url}/created`, { method: 'HEAD' });
    expect(head.status).toBe(201);
    expect(head.body).toBeNull();
  });

  it('streams the response body as it arrives', async () => {
    const res = await mtlsFetch()(`${server.url}/stream`);
    const reader = res.body!.getReader();
    const chunks: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(new TextDecoder().decode(value));
    }
    expect(chunks.join('')).toBe('chunk0;chunk1;chunk2;');
  });

  it('checks the name given as serverName instead of the URL host (DNS SAN, with SNI)', async () => {
    const res = await mtlsFetch({ serverName: 'localhost' })(`${server.url}/`);
    expect(res.status).toBe(200);
    await res.text();
  });

  it('connects to [::1] and checks the IPv6 SAN', async (ctx) => {
    let v6: MtlsServer;
    try {
      v6 = await createMtlsServer({
        url: 'https://[::1]:0',
        key: serverId.key,
        certificates: serverId.certificates,
        validator: pki.validator(),
        fetch: echo,
      });
    } catch {
      ctx.skip(); // no IPv6 loopback on this machine
      return;
    }
    try {
      expect(v6.url).toBe(`https://[::1]:${v6.port}`);
      const res = await mtlsFetch()(`${v6.url}/six`);
      expect(await res.json()).toMatchObject({ path: '/six', from: 'Ada' });
    } finally {
      await v6.close();
    }
  });
});

describe('createMtlsFetch refuses servers our validator does not trust', () => {
  it('writes no HTTP byte to a server it refuses, and none before validating one it accepts', async () => {
    const received: string[] = [];
    let validating = false;
    const port = await rawTls((s) =>
      s.on('data', (d: Uint8Array) => {
        received.push(`${validating ? 'while validating: ' : ''}${new TextDecoder().decode(d)}`);
        s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      }),
    );
    const refused = await rejection(
      mtlsFetch({ validator: strangers.validator() })(`https://127.0.0.1:${port}/secret`),
    );
    expect(refused.code).toBe('ERR_CHAIN_NO_PATH');
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toEqual([]);
    // A slow validator: the request waits for its verdict.
    const inner = pki.validator();
    const slow: PathValidator = {
      ...inner,
      validate: async (input) => {
        validating = true;
        await new Promise((r) => setTimeout(r, 100));
        validating = false;
        return inner.validate(input);
      },
    };
    expect((await mtlsFetch({ validator: slow })(`https://127.0.0.1:${port}/ok`)).status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(/^GET \/ok HTTP\/1\.1/);
  });

  it('rejects a server outside the pinned anchor with ERR_CHAIN_NO_PATH', async () => {
    const err = await rejection(mtlsFetch({ validator: strangers.validator() })(`${server.url}/`));
    expect(err).toBeInstanceOf(PathValidationError);
    expect(err.code).toBe('ERR_CHAIN_NO_PATH');
    expect(err.message.startsWith(`127.0.0.1:${server.port}: `)).toBe(true);
    expect((err as PathValidationError).attempts.length).toBeGreaterThan(0);
  });

  it('rejects a server whose certificate lacks the URL host with ERR_CHAIN_PEER_NAME', async () => {
    const named = await pki.issue('elsewhere', {
      ekus: ['serverAuth'],
      altNames: [dnsName('api.example.org')],
    });
    const port = await rawTls(() => undefined, {}, named);
    const err = await rejection(mtlsFetch()(`https://127.0.0.1:${port}/`));
    expect(err).toBeInstanceOf(PathValidationError);
    expect(err.code).toBe('ERR_CHAIN_PEER_NAME');
    expect(err.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port}: .*127\\.0\\.0\\.1`));
  });

  it('rejects a name given as serverName that the server does not carry', async () => {
    const err = await rejection(mtlsFetch({ serverName: 'wrong.example' })(`${server.url}/`));
    expect(err.code).toBe('ERR_CHAIN_PEER_NAME');
  });

  it('rejects a server certificate without serverAuth with ERR_CHAIN_EKU', async () => {
    const clientOnly = await pki.issue('not a server', {
      ekus: ['clientAuth'],
      altNames: [dnsName('localhost')],
    });
    const port = await rawTls(() => undefined, {}, clientOnly);
    const err = await rejection(mtlsFetch()(`https://localhost:${port}/`));
    expect(err.code).toBe('ERR_CHAIN_EKU');
  });

  it('honours options.time', async () => {
    const err = await rejection(
      mtlsFetch({ time: () => new Date(Date.now() + 3 * 365 * 86_400_000) })(`${server.url}/`),
    );
    expect(err.code).toBe('ERR_CHAIN_EXPIRED');
  });
});

describe('createMtlsFetch network failures', () => {
  it('rejects a closed port with ERR_NET_CONNECT', async () => {
    const s = createNetServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const err = await rejection(mtlsFetch()(`https://127.0.0.1:${port}/`));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.code).toBe('ERR_NET_CONNECT');
    expect(err.message).toBe(
      `127.0.0.1:${port}: cannot connect: connection refused (nothing is listening there).`,
    );
  });

  it('rejects a server that never answers with ERR_NET_TIMEOUT', async () => {
    const port = await listen(createNetServer(() => undefined));
    const err = await rejection(mtlsFetch({ timeoutMs: 200 })(`https://127.0.0.1:${port}/`));
    expect(err.code).toBe('ERR_NET_TIMEOUT');
    expect(err.message).toMatch(/TLS handshake did not finish/);
  });

  it('rejects a handler that never answers with ERR_NET_TIMEOUT', async () => {
    const err = await rejection(mtlsFetch({ timeoutMs: 300 })(`${server.url}/forever`));
    expect(err.code).toBe('ERR_NET_TIMEOUT');
  });

  it('errors a body that stalls with ERR_NET_TIMEOUT', async () => {
    const res = await mtlsFetch({ timeoutMs: 300 })(`${server.url}/stall`);
    const err = await rejection(res.text());
    expect(err.code).toBe('ERR_NET_TIMEOUT');
  });

  it.each([
    ['TLS 1.3', 'TLSv1.3'],
    ['TLS 1.2', 'TLSv1.2'],
  ] as const)(
    'rejects an OpenSSL server that refuses our certificate (%s) with ERR_NET_TLS',
    async (_what, version) => {
      const port = await rawTls((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'), {
        requestCert: true,
        rejectUnauthorized: true,
        ca: encodePem('CERTIFICATE', strangers.ca.der),
        maxVersion: version,
      });
      const err = await rejection(mtlsFetch()(`https://127.0.0.1:${port}/`));
      expect(err).toBeInstanceOf(NetworkError);
      expect(err.code).toBe('ERR_NET_TLS');
      expect(err.message).toMatch(/refused our certificate|may not trust our certificate/);
    },
  );

  it('rejects a server that breaks HTTP with ERR_NET_PROTOCOL', async () => {
    const port = await rawTls((s) => s.once('data', () => s.end('NOT HTTP AT ALL\r\n\r\n')));
    const err = await rejection(mtlsFetch()(`https://127.0.0.1:${port}/`));
    expect(err.code).toBe('ERR_NET_PROTOCOL');
  });

  it('errors the body with ERR_NET_PROTOCOL when the server hangs up mid-response', async () => {
    const port = await rawTls((s) =>
      s.once('data', () => {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..');
        setTimeout(() => s.destroy(), 20);
      }),
    );
    const res = await mtlsFetch()(`https://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    const err = await rejection(res.text());
    expect(err.code).toBe('ERR_NET_PROTOCOL');
  });

  it('rejects with the abort reason when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = mtlsFetch()(`${server.url}/forever`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const err = await rejection(pending);
    expect(err.name).toBe('AbortError');
    const pre = await rejection(mtlsFetch()(`${server.url}/`, { signal: AbortSignal.abort() }));
    expect(pre.name).toBe('AbortError');
  });

  it.each(['http://127.0.0.1:1/', 'ftp://127.0.0.1/', '/relative', 'not a url'])(
    'rejects %s with ERR_NET_URL',
    async (url) => {
      const err = await rejection(mtlsFetch()(url));
      expect(err).toBeInstanceOf(NetworkError);
      expect(err.code).toBe('ERR_NET_URL');
    },
  );

  it("rejects every call with ERR_KEY_MISMATCH when our key is not our certificate's", async () => {
    const fetch = mtlsFetch({ key: serverId.key });
    for (let i = 0; i < 2; i++) {
      const err = await rejection(fetch(`${server.url}/`));
      expect(err.code).toBe('ERR_KEY_MISMATCH');
      expect(err.message).toMatch(/^createMtlsFetch: the private key does not belong to .*CN=Ada/);
    }
  });

  it('throws TypeError for bad options', () => {
    const validator: PathValidator = pki.validator();
    expect(() => createMtlsFetch({ key: ada.key, certificates: [], validator })).toThrow(TypeError);
    expect(() =>
      createMtlsFetch({ key: 'nope', certificates: ada.certificates, validator }),
    ).toThrow(TypeError);
    expect(() =>
      createMtlsFetch({ key: ada.key, certificates: ada.certificates } as never),
    ).toThrow(TypeError);
    expect(() =>
      createMtlsFetch({ key: ada.key, certificates: ada.certificates, validator, timeoutMs: 0 }),
    ).toThrow(RangeError);
  });
});

describe('createMtlsFetch keeps connections alive', () => {
  /** A server on its own port that counts the connections it accepted and the requests it got. */
  async function counted(
    extra: { idleTimeoutMs?: number; handler?: (r: Request) => Promise<Response> | Response } = {},
  ) {
    const accepted: string[] = [];
    const paths: string[] = [];
    const s = await createMtlsServer({
      url: 'https://127.0.0.1:0',
      key: serverId.key,
      certificates: serverId.certificates,
      validator: pki.validator(),
      onConnection: (e) => e.type === 'accepted' && accepted.push(e.subject),
      fetch: async (r) => {
        paths.push(new URL(r.url).pathname);
        return extra.handler ? extra.handler(r) : new Response(`n=${paths.length}`);
      },
      ...(extra.idleTimeoutMs ? { idleTimeoutMs: extra.idleTimeoutMs } : {}),
    });
    cleanups.push(() => s.close());
    return { server: s, accepted, paths };
  }

  async function until(test: () => boolean): Promise<void> {
    while (!test()) await new Promise((r) => setTimeout(r, 10));
  }

  it('sends sequential requests over one connection', async () => {
    const { server: s, accepted } = await counted();
    await using fetch = mtlsFetch();
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(await (await fetch(`${s.url}/${i}`)).text());
    expect(got).toEqual(['n=1', 'n=2', 'n=3', 'n=4', 'n=5']);
    expect(accepted).toEqual(['CN=Ada']);
  });

  it('reuses a connection after bodies of every framing, HEAD and 204', async () => {
    const { server: s, accepted } = await counted({
      handler: (r) => {
        const p = new URL(r.url).pathname;
        if (p === '/empty') return new Response(null, { status: 204 });
        if (p === '/chunked')
          return new Response(
            new ReadableStream({
              start(c) {
                c.enqueue(new TextEncoder().encode('a'));
                c.enqueue(new TextEncoder().encode('b'));
                c.close();
              },
            }),
          );
        return new Response('fixed');
      },
    });
    await using fetch = mtlsFetch();
    expect(await (await fetch(`${s.url}/chunked`)).text()).toBe('ab');
    expect((await fetch(`${s.url}/empty`)).status).toBe(204);
    expect((await fetch(`${s.url}/x`, { method: 'HEAD' })).body).toBeNull();
    const posted = await fetch(`${s.url}/x`, { method: 'POST', body: 'data' });
    expect(await posted.text()).toBe('fixed');
    expect(accepted).toHaveLength(1);
  });

  it('opens at most maxSockets connections per origin; more requests wait for one', async () => {
    let arrived = 0;
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { server: s, accepted } = await counted({
      handler: async () => {
        arrived++;
        await gate;
        return new Response('ok');
      },
    });
    await using fetch = mtlsFetch({ maxSockets: 2 });
    const all = Array.from({ length: 5 }, (_, i) => fetch(`${s.url}/${i}`).then((r) => r.text()));
    await until(() => arrived === 2);
    open();
    expect(await Promise.all(all)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(arrived).toBe(5);
    expect(accepted).toHaveLength(2);
  });

  it('keeps separate connections per host name, even to the same address', async () => {
    const { server: s, accepted } = await counted();
    await using fetch = mtlsFetch();
    await (await fetch(`https://127.0.0.1:${s.port}/`)).text();
    await (await fetch(`https://localhost:${s.port}/`)).text();
    await (await fetch(`https://127.0.0.1:${s.port}/`)).text();
    expect(accepted).toHaveLength(2);
  });

  it('opens a new connection when the server closed the idle one', async () => {
    const { server: s, accepted } = await counted({ idleTimeoutMs: 100 });
    await using fetch = mtlsFetch();
    expect(await (await fetch(`${s.url}/one`)).text()).toBe('n=1');
    await until(() => s.connections === 0); // the server dropped it
    expect(await (await fetch(`${s.url}/two`)).text()).toBe('n=2');
    expect(accepted).toHaveLength(2);
  });

  it('does not write to a pooled connection the server has closed: a new one is opened', async () => {
    // The server answers and hangs up at once, so every pooled connection is stale.
    const requests: string[] = [];
    let connections = 0;
    let closed = 0;
    const port = await rawTls((s) => {
      connections++;
      s.once('close', () => closed++);
      s.once('data', (d: Uint8Array) => {
        requests.push(new TextDecoder().decode(d).split('\r\n')[0]!);
        s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    await using fetch = mtlsFetch();
    for (let i = 0; i < 3; i++) {
      expect(await (await fetch(`https://127.0.0.1:${port}/${i}`)).text()).toBe('ok');
      await until(() => closed === i + 1); // its close is on the way to us before we send again
    }
    expect(requests).toEqual(['GET /0 HTTP/1.1', 'GET /1 HTTP/1.1', 'GET /2 HTTP/1.1']);
    expect(connections).toBe(3);
  });

  it('does not send again a request the server hung up on after reading it (ERR_NET_PROTOCOL)', async () => {
    const requests: string[] = [];
    const port = await rawTls((s) =>
      s.on('data', (d: Uint8Array) => {
        requests.push(new TextDecoder().decode(d).split('\r\n')[0]!);
        if (requests.length === 1) s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        else s.destroy();
      }),
    );
    await using fetch = mtlsFetch();
    expect(await (await fetch(`https://127.0.0.1:${port}/a`)).text()).toBe('ok');
    const err = await rejection(
      fetch(`https://127.0.0.1:${port}/b`, { method: 'POST', body: 'x' }),
    );
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.code).toBe('ERR_NET_PROTOCOL');
    expect(err.message).toMatch(/kept-alive connection .* a POST request is not sent twice/);
    expect(requests).toEqual(['GET /a HTTP/1.1', 'POST /b HTTP/1.1']);
  });

  it('sends an idempotent request again, once, on a new connection (RFC 9112 §9.3.1)', async () => {
    const requests: string[] = [];
    let connections = 0;
    const port = await rawTls((s) => {
      const n = ++connections;
      let seen = 0;
      s.on('data', (d: Uint8Array) => {
        requests.push(`${n} ${new TextDecoder().decode(d).split('\r\n')[0]!}`);
        // The first connection answers once, then hangs up on the next request it reads.
        if (n === 1 && ++seen === 2) s.destroy();
        else s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    await using fetch = mtlsFetch();
    expect(await (await fetch(`https://127.0.0.1:${port}/a`)).text()).toBe('ok');
    const again = await fetch(`https://127.0.0.1:${port}/b`, { method: 'PUT', body: 'same' });
    expect(await again.text()).toBe('ok');
    expect(requests).toEqual(['1 GET /a HTTP/1.1', '1 PUT /b HTTP/1.1', '2 PUT /b HTTP/1.1']);
  });

  it('with keepAlive false, opens a connection per request and sends Connection: close', async () => {
    const { server: s, accepted } = await counted({
      handler: (r) => new Response(r.headers.get('connection')),
    });
    await using fetch = mtlsFetch({ keepAlive: false });
    expect(await (await fetch(`${s.url}/`)).text()).toBe('close');
    expect(await (await fetch(`${s.url}/`)).text()).toBe('close');
    expect(accepted).toHaveLength(2);
  });

  it('close() closes idle connections; later calls reject with TypeError', async () => {
    const { server: s } = await counted();
    const fetch = mtlsFetch();
    await (await fetch(`${s.url}/`)).text();
    await until(() => s.connections === 1);
    await fetch.close();
    await until(() => s.connections === 0);
    await expect(fetch(`${s.url}/`)).rejects.toThrow(TypeError);
    await fetch.close(); // again: fine
  });

  it('a refused server leaves nothing in the pool: the next call is refused again', async () => {
    const fetch = mtlsFetch({ validator: strangers.validator() });
    for (let i = 0; i < 2; i++)
      expect((await rejection(fetch(`${server.url}/`))).code).toBe('ERR_CHAIN_NO_PATH');
    await fetch.close();
  });
});

describe('createMtlsFetch reads HTTP/1.1 framing', () => {
  const raw = async (response: string) => rawTls((s) => s.once('data', () => s.end(response)));

  it('skips interim 1xx responses and drops chunked trailers', async () => {
    const port = await raw(
      'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n' +
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n',
    );
    const res = await mtlsFetch()(`https://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('abcde');
  });

  it('reads a body without length to the end of the connection', async () => {
    const port = await raw('HTTP/1.1 200 OK\r\nx-a: 1\r\n\r\nuntil the end');
    expect(await (await mtlsFetch()(`https://127.0.0.1:${port}/`)).text()).toBe('until the end');
  });

  it.each([
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 2, 3\r\n\r\nok'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'],
    ['a folded header', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n  more\r\ncontent-length: 0\r\n\r\n'],
    ['a 101 upgrade', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n'],
  ])('rejects %s with ERR_NET_PROTOCOL', async (_what, response) => {
    const port = await raw(response);
    const err = await rejection(mtlsFetch()(`https://127.0.0.1:${port}/`).then((r) => r.text()));
    expect(err.code).toBe('ERR_NET_PROTOCOL');
  });
});
