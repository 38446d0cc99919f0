/**
 * @module require-client-cert.test — the middleware through `app.request` (no sockets): real
 * certificates and a real validator; the certificate arrives as a proxy header (with the remote
 * address given by the `remoteAddress` option) or on a socket-shaped `c.env`. Real sockets, curl and
 * @certified/node are in test/require-client-cert.integration.test.ts.
 */
import {
  commonNameOf,
  createPathValidator,
  dnsName,
  emailAddress,
  encodePem,
  fingerprint,
  ipAddress,
  PathValidationError,
  uriName,
  type PathValidator,
} from '@certified/core';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTlsPki, type TlsIdentity, type TlsPki } from '@certified/testing/tls-pki';
import { createClientTrust, type CertifiedPeer } from './peer.js';
import { requireClientCert, type RequireClientCertOptions } from './require-client-cert.js';
import './index.js'; // the ContextVariableMap augmentation

const DAY = 86_400_000;

let pki: TlsPki;
let strangers: TlsPki;
let alice: TlsIdentity;
let mallory: TlsIdentity;
let expired: TlsIdentity;
let server: TlsIdentity;

beforeAll(async () => {
  pki = await createTlsPki('P-256', 'Org');
  strangers = await createTlsPki('P-256', 'Strangers');
  alice = await pki.issue('alice', {
    ekus: ['clientAuth'],
    altNames: [
      dnsName('alice.example'),
      ipAddress('10.0.0.7'),
      emailAddress('alice@example.com'),
      uriName('spiffe://org/alice'),
    ],
  });
  mallory = await strangers.issue('mallory', { ekus: ['clientAuth'] });
  expired = await pki.issue('old alice', {
    ekus: ['clientAuth'],
    notBefore: new Date(Date.now() - 10 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });
  server = await pki.issue('server', { ekus: ['serverAuth'] });
});

const escaped = (id: TlsIdentity): string =>
  encodeURIComponent(encodePem('CERTIFICATE', id.certificate.der));

/** An app behind the middleware whose handler answers with the peer. */
function appWith(options: RequireClientCertOptions): Hono {
  const app = new Hono();
  app.use(requireClientCert(options));
  app.get('/', (c) => {
    const p: CertifiedPeer = c.get('certified');
    return c.json({
      ...p,
      certificate: undefined,
      path: p.path.path.length,
      anchor: { ...p.anchor, certificate: undefined },
    });
  });
  return app;
}

/** Proxy mode with nginx headers; the connection comes from `from`. */
function proxied(
  from: string | undefined,
  extra: Partial<RequireClientCertOptions> = {},
): RequireClientCertOptions {
  return {
    validator: pki.validator(),
    proxy: { addresses: ['127.0.0.1', '10.0.0.0/8'], format: 'nginx' },
    remoteAddress: () => from,
    ...extra,
  };
}

async function call(app: Hono, headers: Record<string, string> = {}, env?: object) {
  const res = await app.request('http://x/', { headers }, env);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: JSON.parse(text) };
}

describe('requireClientCert', () => {
  it('lets a trusted caller in and puts it on the context', async () => {
    const app = appWith(
      proxied('10.1.2.3', { anchors: [{ name: 'org', certificate: pki.ca.der }] }),
    );
    const r = await call(app, { 'x-ssl-client-cert': escaped(alice) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      subject: 'CN=alice',
      commonName: 'alice',
      altNames: {
        dns: ['alice.example'],
        ip: ['10.0.0.7'],
        email: ['alice@example.com'],
        uri: ['spiffe://org/alice'],
      },
      fingerprint: fingerprint(alice.certificate),
      path: 2,
      anchor: {
        subject: expect.stringContaining('O=Org'),
        commonName: commonNameOf(pki.ca.subject),
        fingerprint: fingerprint(pki.ca),
        name: 'org',
        pinned: false,
      },
      source: 'nginx',
    });
  });

  it('rejects a request without a certificate with 401 ERR_AUTH_NO_CERTIFICATE as JSON', async () => {
    const r = await call(appWith({ validator: pki.validator() }));
    expect(r.status).toBe(401);
    expect(r.type).toMatch(/^application\/json/);
    expect(r.body.error.code).toBe('ERR_AUTH_NO_CERTIFICATE');
    expect(r.body.error.message).toMatch(/no client certificate/);
  });

  it('rejects a trusted proxy that forwards no certificate with ERR_AUTH_NO_CERTIFICATE', async () => {
    const r = await call(appWith(proxied('127.0.0.1')));
    expect([r.status, r.body.error.code]).toEqual([401, 'ERR_AUTH_NO_CERTIFICATE']);
  });

  it('rejects a stranger with 401 and the path-validation code ERR_CHAIN_NO_PATH', async () => {
    const r = await call(appWith(proxied('127.0.0.1')), { 'x-ssl-client-cert': escaped(mallory) });
    expect([r.status, r.body.error.code]).toEqual([401, 'ERR_CHAIN_NO_PATH']);
  });

  it('rejects an expired certificate with ERR_CHAIN_EXPIRED', async () => {
    const r = await call(appWith(proxied('127.0.0.1')), { 'x-ssl-client-cert': escaped(expired) });
    expect([r.status, r.body.error.code]).toEqual([401, 'ERR_CHAIN_EXPIRED']);
  });

  it('rejects a server-only certificate with ERR_CHAIN_EKU', async () => {
    const r = await call(appWith(proxied('127.0.0.1')), { 'x-ssl-client-cert': escaped(server) });
    expect([r.status, r.body.error.code]).toEqual([401, 'ERR_CHAIN_EKU']);
  });

  it('validates at the time the `time` option gives', async () => {
    const later = new Date(alice.certificate.notAfter.getTime() + DAY);
    const r = await call(appWith(proxied('127.0.0.1', { time: () => later })), {
      'x-ssl-client-cert': escaped(alice),
    });
    expect(r.body.error.code).toBe('ERR_CHAIN_EXPIRED');
  });

  it('rejects a malformed forwarded header with 401 ERR_AUTH_HEADER_MALFORMED', async () => {
    const r = await call(appWith(proxied('127.0.0.1')), { 'x-ssl-client-cert': '%ZZ' });
    expect([r.status, r.body.error.code]).toEqual([401, 'ERR_AUTH_HEADER_MALFORMED']);
  });

  it.each([
    ['a non-proxy address', '192.0.2.1'],
    ['an unknown address', undefined],
  ])('ignores the header from %s: 401 ERR_AUTH_PROXY_UNTRUSTED', async (_, from) => {
    let reached = false;
    const app = new Hono();
    app.use(requireClientCert(proxied(from)));
    app.get('/', (c) => {
      reached = true;
      return c.text('no');
    });
    const res = await app.request('http://x/', {
      headers: { 'x-ssl-client-cert': escaped(alice) },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_AUTH_PROXY_UNTRUSTED',
    );
    expect(reached).toBe(false);
  });

  it('reads a configured header name', async () => {
    const app = appWith(
      proxied('127.0.0.1', {
        proxy: { addresses: ['127.0.0.1'], format: 'nginx', header: 'X-Client-Cert' },
      }),
    );
    expect((await call(app, { 'x-client-cert': escaped(alice) })).status).toBe(200);
    expect((await call(app, { 'x-ssl-client-cert': escaped(alice) })).body.error.code).toBe(
      'ERR_AUTH_NO_CERTIFICATE',
    );
  });

  it('reads the chain a TLS socket presented, and ignores it on a proxy connection', async () => {
    const root: { raw: Uint8Array; issuerCertificate?: unknown } = { raw: pki.ca.der };
    root.issuerCertificate = root;
    const socket = {
      remoteAddress: '127.0.0.1',
      getPeerCertificate: () => ({ raw: alice.certificate.der, issuerCertificate: root }),
    };
    const env = { incoming: { socket } };
    const direct = await call(appWith({ validator: pki.validator() }), {}, env);
    expect([direct.status, direct.body.source, direct.body.path]).toEqual([200, 'tls', 2]);
    // The TLS certificate of a proxy's connection is the proxy's own, never the caller's.
    const viaProxy = appWith({
      validator: pki.validator(),
      proxy: { addresses: ['127.0.0.1'], format: 'nginx' },
    });
    expect((await call(viaProxy, {}, env)).body.error.code).toBe('ERR_AUTH_NO_CERTIFICATE');
  });

  it("with no validator, judges with serve()'s current trust (c.env.trust) and its anchor names", async () => {
    const root: { raw: Uint8Array; issuerCertificate?: unknown } = { raw: pki.ca.der };
    root.issuerCertificate = root;
    const socket = {
      remoteAddress: '127.0.0.1',
      getPeerCertificate: () => ({ raw: alice.certificate.der, issuerCertificate: root }),
    };
    const app = appWith({});
    const trusted = {
      incoming: { socket },
      trust: { validator: pki.validator(), anchors: [{ name: 'org', certificate: pki.ca }] },
    };
    const ok = await call(app, {}, trusted);
    expect([ok.status, ok.body.anchor.name]).toEqual([200, 'org']);
    // The server's trust changed (known_clients re-read): the middleware follows it.
    const other = await createTlsPki('P-256', 'Other');
    const moved = { ...trusted, trust: { validator: other.validator(), anchors: [] } };
    expect((await call(app, {}, moved)).body.error.code).toBe('ERR_CHAIN_NO_PATH');
    // No trust anywhere is the app's bug: a 500, never a 200.
    const res = await app.request('http://x/', {}, { incoming: { socket } });
    expect(res.status).toBe(500);
  });

  it('answers 403 ERR_AUTH_FORBIDDEN when authorize refuses, and passes it the peer and context', async () => {
    const seen: string[] = [];
    const app = appWith(
      proxied('127.0.0.1', {
        authorize: (peer, c) => {
          seen.push(`${peer.commonName} ${c.req.path}`);
          return peer.altNames.email.includes('bob@example.com');
        },
      }),
    );
    const r = await call(app, { 'x-ssl-client-cert': escaped(alice) });
    expect([r.status, r.body.error.code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
    expect(r.body.error.message).toMatch(/CN=alice/);
    expect(seen).toEqual(['alice /']);
  });

  it('lets through only an authorize result of exactly true', async () => {
    for (const [answer, status] of [
      [true, 200],
      [undefined, 403],
      ['yes', 403],
      [1, 403],
    ] as const) {
      const app = appWith(
        proxied('127.0.0.1', { authorize: async () => answer as unknown as boolean }),
      );
      expect((await call(app, { 'x-ssl-client-cert': escaped(alice) })).status).toBe(status);
    }
  });

  it('reports a pinned end-entity anchor with its label', async () => {
    const app = appWith(
      proxied('127.0.0.1', {
        validator: createPathValidator({ anchors: [alice.certificate.der] }),
        anchors: [{ name: 'alice', certificate: encodePem('CERTIFICATE', alice.certificate.der) }],
      }),
    );
    const r = await call(app, { 'x-ssl-client-cert': escaped(alice) });
    expect(r.status).toBe(200);
    expect(r.body.anchor).toMatchObject({
      name: 'alice',
      pinned: true,
      fingerprint: fingerprint(alice.certificate),
    });
    expect(r.body.path).toBe(1);
  });

  it('asks a validator function on every request, so trust can change', async () => {
    let current: PathValidator = strangers.validator();
    let labels = [{ name: 'strangers', certificate: strangers.ca }];
    const app = appWith(
      proxied('127.0.0.1', { validator: async () => current, anchors: () => labels }),
    );
    const headers = { 'x-ssl-client-cert': escaped(alice) };
    expect((await call(app, headers)).body.error.code).toBe('ERR_CHAIN_NO_PATH');
    current = pki.validator();
    labels = [{ name: 'org', certificate: pki.ca }];
    const r = await call(app, headers);
    expect([r.status, r.body.anchor.name]).toEqual([200, 'org']);
  });

  it('labels anchors from an identity with createClientTrust', async () => {
    const trust = createClientTrust({
      knownClients: [
        { name: 'self', file: 'known_clients/self.crt', certificates: [strangers.ca] },
        { name: 'org', file: 'known_clients/org.crt', certificates: [pki.ca] },
      ],
    });
    expect(trust.anchors.map((a) => a.name)).toEqual(['self', 'org']);
    const r = await call(appWith(proxied('127.0.0.1', { ...trust })), {
      'x-ssl-client-cert': escaped(alice),
    });
    expect([r.status, r.body.anchor.name]).toEqual([200, 'org']);
  });

  it('throws an HTTPException carrying the JSON response and the cause', async () => {
    const app = new Hono();
    let caught: unknown;
    app.onError((err, c) => {
      caught = err;
      return err instanceof HTTPException ? err.getResponse() : c.text('boom', 500);
    });
    app.use(requireClientCert(proxied('127.0.0.1')));
    app.get('/', (c) => c.text('no'));
    const res = await app.request('http://x/', {
      headers: { 'x-ssl-client-cert': escaped(mallory) },
    });
    expect(res.status).toBe(401);
    expect(caught).toBeInstanceOf(HTTPException);
    const cause = (caught as HTTPException).cause;
    expect(cause).toBeInstanceOf(PathValidationError);
    expect((cause as PathValidationError).code).toBe('ERR_CHAIN_NO_PATH');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_CHAIN_NO_PATH',
    );
  });

  it('never reads or writes the options after construction', async () => {
    const addresses = ['127.0.0.1'];
    const options = Object.freeze({
      validator: pki.validator(),
      proxy: Object.freeze({ addresses, format: 'nginx' as const }),
      remoteAddress: () => '127.0.0.1',
    });
    const app = appWith(options);
    addresses.length = 0;
    addresses.push('192.0.2.1');
    expect((await call(app, { 'x-ssl-client-cert': escaped(alice) })).status).toBe(200);
  });

  it('throws TypeError/RangeError for bad options', () => {
    const v = pki.validator();
    const bad = (o: unknown) => () => requireClientCert(o as RequireClientCertOptions);
    expect(bad(null)).toThrow(TypeError);
    expect(bad({})).not.toThrow(); // the trust then comes from serve() (c.env.trust)
    expect(bad({ validator: { anchors: [] } })).toThrow(TypeError);
    expect(bad({ validator: v, authorize: true })).toThrow(/authorize must be a function/);
    expect(bad({ validator: v, remoteAddress: '127.0.0.1' })).toThrow(TypeError);
    expect(bad({ validator: v, time: new Date() })).toThrow(TypeError);
    expect(bad({ validator: v, anchors: {} })).toThrow(TypeError);
    expect(bad({ validator: v, anchors: [{ name: '', certificate: pki.ca }] })).toThrow(TypeError);
    expect(bad({ validator: v, anchors: [{ name: 'x', certificate: 42 }] })).toThrow(TypeError);
    expect(bad({ validator: v, proxy: { addresses: '127.0.0.1', format: 'nginx' } })).toThrow(
      TypeError,
    );
    expect(bad({ validator: v, proxy: { addresses: [], format: 'nginx' } })).toThrow(RangeError);
    expect(bad({ validator: v, proxy: { addresses: ['nowhere'], format: 'nginx' } })).toThrow(
      RangeError,
    );
    expect(bad({ validator: v, proxy: { addresses: ['::1'], format: 'apache' } })).toThrow(
      TypeError,
    );
    expect(
      bad({ validator: v, proxy: { addresses: ['::1'], format: 'nginx', header: 'a b' } }),
    ).toThrow(TypeError);
    expect(
      bad({ validator: v, proxy: { addresses: ['::1'], format: 'nginx', maxHeaderLength: 0 } }),
    ).toThrow(RangeError);
  });

  it('answers 500 (not 401) when a validator function returns something else', async () => {
    const app = appWith(proxied('127.0.0.1', { validator: () => ({}) as PathValidator }));
    let caught: unknown;
    app.onError((err, c) => {
      caught = err;
      return c.text('internal error', 500);
    });
    const res = await app.request('http://x/', {
      headers: { 'x-ssl-client-cert': escaped(alice) },
    });
    expect(res.status).toBe(500);
    expect(caught).toBeInstanceOf(TypeError);
  });
});
