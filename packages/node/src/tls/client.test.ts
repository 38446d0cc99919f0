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
} from '../../test/tls-identities.js';
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
