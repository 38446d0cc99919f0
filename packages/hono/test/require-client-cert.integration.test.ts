/**
 * @module test/require-client-cert.integration.test — the middleware over real sockets on 127.0.0.1:
 * behind @certified/node's `createMtlsServer` (our client and real curl), behind plain
 * `@hono/node-server` over `node:https` (the middleware validates the socket's chain itself), and
 * in proxy mode over plain HTTP with Envoy, nginx, HAProxy and Cloudflare headers.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePem, fingerprint, toBase64Der } from '@certified/core';
import { createMtlsFetch, createMtlsServer, type MtlsServer } from '@certified/node';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  requireClientCert,
  type ForwardedFormat,
  type RequireClientCertOptions,
} from '../src/index.js';
import {
  createTlsPki,
  issueClient,
  issueServer,
  type TlsIdentity,
  type TlsPki,
} from '@certified/testing/tls-pki';

const isCI = process.env.CI === 'true';

let pki: TlsPki;
let strangers: TlsPki;
let server: TlsIdentity;
let alice: TlsIdentity;
let bob: TlsIdentity;
let mallory: TlsIdentity;
let dir: string;

beforeAll(async () => {
  pki = await createTlsPki('P-256', 'Org');
  strangers = await createTlsPki('P-256', 'Strangers');
  server = await issueServer(pki);
  alice = await issueClient(pki, 'alice');
  bob = await issueClient(pki, 'bob');
  mallory = await issueClient(strangers, 'mallory');
  dir = mkdtempSync(join(tmpdir(), 'certified-hono-'));
  writeFileSync(join(dir, 'ca.pem'), encodePem('CERTIFICATE', pki.ca.der));
  for (const [name, id] of Object.entries({ alice, bob, mallory })) {
    writeFileSync(
      join(dir, `${name}.pem`),
      id.certificates.map((d) => encodePem('CERTIFICATE', d)).join(''),
    );
    writeFileSync(join(dir, `${name}.key`), id.key, { mode: 0o600 });
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The peer as JSON, without the bulky objects. */
function whoami(c: Context): Response {
  const p = c.get('certified');
  return c.json({
    subject: p.subject,
    commonName: p.commonName,
    fingerprint: p.fingerprint,
    source: p.source,
    anchor: { name: p.anchor.name, fingerprint: p.anchor.fingerprint, pinned: p.anchor.pinned },
    path: p.path.path.length,
  });
}

/** An app that lets everyone but bob in, labelling the CA `org`. */
function app(extra: RequireClientCertOptions['proxy'] = undefined): Hono {
  const a = new Hono();
  a.use(
    requireClientCert({
      validator: pki.validator(),
      anchors: [{ name: 'org', certificate: pki.ca }],
      authorize: (peer) => peer.commonName !== 'bob',
      ...(extra ? { proxy: extra } : {}),
    }),
  );
  a.get('/whoami', whoami);
  return a;
}

const pemChain = (id: TlsIdentity): string =>
  id.certificates.map((d) => encodePem('CERTIFICATE', d)).join('');

/** A reply: the status and the JSON body (`error` is there on refusals only). */
interface Reply {
  status: number;
  body: { error: { code: string; message: string } } & Record<string, unknown>;
}

/** A GET over node:https trusting our CA, with or without a client certificate. */
function httpsGet(url: string, client?: TlsIdentity): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca: encodePem('CERTIFICATE', pki.ca.der),
        ...(client ? { key: client.key, cert: pemChain(client) } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: JSON.parse(text) as Reply['body'] }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function json(res: Response): Promise<Reply> {
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

const expectedAlice = () => ({
  subject: 'CN=alice',
  commonName: 'alice',
  fingerprint: fingerprint(alice.certificate),
  anchor: { name: 'org', fingerprint: fingerprint(pki.ca), pinned: false },
  path: 2,
});

// --- curl ---

const curlMissing = await new Promise<boolean>((resolve) =>
  execFile('curl', ['--version'], (error) => resolve(error !== null)),
);
if (curlMissing)
  console.warn(
    `SKIPPED curl tests: curl is not installed${isCI ? ' (CI=true: failing instead)' : ''}`,
  );

function curl(url: string, who?: string): Promise<Reply> {
  const args = ['-sS', '--max-time', '10', '--cacert', join(dir, 'ca.pem'), '-w', '\n%{http_code}'];
  if (who) args.push('--cert', join(dir, `${who}.pem`), '--key', join(dir, `${who}.key`));
  return new Promise((resolve, reject) =>
    execFile('curl', [...args, url], (error, stdout, stderr) => {
      if (error) return reject(new Error(`curl failed: ${stderr}`));
      const cut = stdout.lastIndexOf('\n');
      resolve({
        status: Number(stdout.slice(cut + 1)),
        body: JSON.parse(stdout.slice(0, cut)) as Reply['body'],
      });
    }),
  );
}

describe('behind @certified/node createMtlsServer', () => {
  let mtls: MtlsServer;

  beforeAll(async () => {
    mtls = await createMtlsServer({
      fetch: app().fetch,
      key: server.key,
      certificates: server.certificates,
      validator: pki.validator(),
      url: 'https://127.0.0.1:0',
    });
  });
  afterAll(() => mtls.close());

  const fetchAs = (id: TlsIdentity) =>
    createMtlsFetch({ key: id.key, certificates: id.certificates, validator: pki.validator() });

  it('lets a trusted caller in (createMtlsFetch)', async () => {
    const r = await json(await fetchAs(alice)(`${mtls.url}/whoami`));
    expect(r).toEqual({ status: 200, body: { ...expectedAlice(), source: 'tls' } });
  });

  it('answers 403 ERR_AUTH_FORBIDDEN as JSON when authorize refuses (createMtlsFetch)', async () => {
    const r = await json(await fetchAs(bob)(`${mtls.url}/whoami`));
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('ERR_AUTH_FORBIDDEN');
  });

  it.skipIf(curlMissing && !isCI)('lets a trusted caller in and refuses bob (curl)', async () => {
    const ok = await curl(`${mtls.url}/whoami`, 'alice');
    expect(ok).toEqual({ status: 200, body: { ...expectedAlice(), source: 'tls' } });
    const no = await curl(`${mtls.url}/whoami`, 'bob');
    expect([no.status, no.body.error.code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
  });
});

/** Starts @hono/node-server and resolves with its base URL. */
function start(options: Parameters<typeof serve>[0], scheme: 'http' | 'https') {
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
    const s: ServerType = serve({ ...options, hostname: '127.0.0.1', port: 0 }, (info) =>
      resolve({
        url: `${scheme}://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            s.close(() => done());
          }),
      }),
    );
  });
}

describe('behind plain @hono/node-server over node:https', () => {
  let srv: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    srv = await start(
      {
        fetch: app().fetch,
        createServer: createHttpsServer,
        // node:tls asks for a certificate but accepts any: the middleware is the judge.
        serverOptions: {
          key: server.key,
          cert: pemChain(server),
          requestCert: true,
          rejectUnauthorized: false,
        },
      },
      'https',
    );
  });
  afterAll(() => srv.close());

  it('validates the chain on the socket itself: trusted → 200', async () => {
    const f = createMtlsFetch({
      key: alice.key,
      certificates: alice.certificates,
      validator: pki.validator(),
    });
    const r = await json(await f(`${srv.url}/whoami`));
    expect(r).toEqual({ status: 200, body: { ...expectedAlice(), source: 'tls' } });
  });

  it('refuses a stranger with 401 ERR_CHAIN_NO_PATH', async () => {
    const f = createMtlsFetch({
      key: mallory.key,
      certificates: mallory.certificates,
      validator: pki.validator(),
    });
    const r = await json(await f(`${srv.url}/whoami`));
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('ERR_CHAIN_NO_PATH');
  });

  it('refuses a caller without a certificate with 401 ERR_AUTH_NO_CERTIFICATE', async () => {
    const r = await httpsGet(`${srv.url}/whoami`);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('ERR_AUTH_NO_CERTIFICATE');
  });

  it('answers node:https clients with a certificate too', async () => {
    expect((await httpsGet(`${srv.url}/whoami`, alice)).body).toMatchObject(expectedAlice());
    expect((await httpsGet(`${srv.url}/whoami`, bob)).body.error.code).toBe('ERR_AUTH_FORBIDDEN');
  });

  it.skipIf(curlMissing && !isCI)('judges curl: trusted, stranger, none', async () => {
    expect((await curl(`${srv.url}/whoami`, 'alice')).body).toMatchObject(expectedAlice());
    const stranger = await curl(`${srv.url}/whoami`, 'mallory');
    expect([stranger.status, stranger.body.error.code]).toEqual([401, 'ERR_CHAIN_NO_PATH']);
    const none = await curl(`${srv.url}/whoami`);
    expect([none.status, none.body.error.code]).toEqual([401, 'ERR_AUTH_NO_CERTIFICATE']);
  });
});

describe('proxy mode over plain HTTP on 127.0.0.1', () => {
  let srv: { url: string; close: () => Promise<void> };
  const formats: ForwardedFormat[] = ['envoy', 'nginx', 'haproxy', 'cloudflare'];

  beforeAll(async () => {
    const root = new Hono();
    for (const format of formats) {
      root.route(`/${format}/trusted`, app({ addresses: ['127.0.0.1'], format }));
      root.route(`/${format}/mapped`, app({ addresses: ['::ffff:127.0.0.0/104'], format }));
      root.route(`/${format}/elsewhere`, app({ addresses: ['10.0.0.0/8'], format }));
    }
    // Node refuses obs-fold (nginx's legacy $ssl_client_cert) unless the parser is lenient.
    srv = await start({ fetch: root.fetch, serverOptions: { insecureHTTPParser: true } }, 'http');
  });
  afterAll(() => srv.close());

  /** The header each proxy would send for `id`. */
  function forwarded(format: ForwardedFormat, id: TlsIdentity): Record<string, string> {
    const cert = encodeURIComponent(encodePem('CERTIFICATE', id.certificate.der));
    switch (format) {
      case 'envoy': {
        const hash = fingerprint(id.certificate).replace(/:/g, '').toLowerCase();
        const chain = encodeURIComponent(pemChain(id));
        return {
          'x-forwarded-client-cert': `By=spiffe://org/proxy;Hash=${hash};Cert="${cert}";Chain="${chain}";Subject="CN=${id.commonName}"`,
        };
      }
      case 'nginx':
        return { 'x-ssl-client-cert': cert };
      case 'haproxy':
        return { 'x-ssl-client-der': toBase64Der(id.certificate.der) };
      case 'cloudflare':
        return { 'cf-client-cert-der-base64': toBase64Der(id.certificate.der) };
    }
  }

  describe.each(formats)('%s', (format) => {
    it('accepts the header from the configured proxy 127.0.0.1', async () => {
      const r = await json(
        await fetch(`${srv.url}/${format}/trusted/whoami`, { headers: forwarded(format, alice) }),
      );
      expect(r).toEqual({ status: 200, body: { ...expectedAlice(), source: format } });
    });

    it('matches 127.0.0.1 against an IPv4-mapped IPv6 block', async () => {
      const r = await fetch(`${srv.url}/${format}/mapped/whoami`, {
        headers: forwarded(format, alice),
      });
      expect(r.status).toBe(200);
    });

    it('ignores the header when the proxies are 10.0.0.0/8: 401', async () => {
      const r = await json(
        await fetch(`${srv.url}/${format}/elsewhere/whoami`, { headers: forwarded(format, alice) }),
      );
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('ERR_AUTH_PROXY_UNTRUSTED');
    });

    it('refuses a forged header of an untrusted certificate from the trusted proxy: 401', async () => {
      const r = await json(
        await fetch(`${srv.url}/${format}/trusted/whoami`, {
          headers: forwarded(format, mallory),
        }),
      );
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('ERR_CHAIN_NO_PATH');
    });

    it('refuses the trusted proxy without a header: 401 ERR_AUTH_NO_CERTIFICATE', async () => {
      const r = await json(await fetch(`${srv.url}/${format}/trusted/whoami`));
      expect([r.status, r.body.error.code]).toEqual([401, 'ERR_AUTH_NO_CERTIFICATE']);
    });

    it('applies authorize to forwarded callers: 403', async () => {
      const r = await json(
        await fetch(`${srv.url}/${format}/trusted/whoami`, { headers: forwarded(format, bob) }),
      );
      expect([r.status, r.body.error.code]).toEqual([403, 'ERR_AUTH_FORBIDDEN']);
    });
  });

  it("reads nginx's legacy tab-indented $ssl_client_cert sent as folded lines", async () => {
    const folded = encodePem('CERTIFICATE', alice.certificate.der)
      .trimEnd()
      .replace(/\n/g, '\r\n\t');
    const { port } = new URL(srv.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = netConnect(Number(port), '127.0.0.1', () =>
        sock.end(
          `GET /nginx/trusted/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nX-SSL-Client-Cert: ${folded}\r\nConnection: close\r\n\r\n`,
        ),
      );
      let out = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (out += d));
      sock.on('end', () => resolve(out));
      sock.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({
      commonName: 'alice',
      source: 'nginx',
    });
  });
});
