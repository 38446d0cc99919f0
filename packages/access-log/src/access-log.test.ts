/**
 * @module access-log.test — the access log over real sockets on 127.0.0.1: mTLS through
 * `@certified/node`'s `createMtlsServer` with `createMtlsFetch` and real curl (HTTP/1.1 and HTTP/2),
 * plain HTTP through `@hono/node-server`; plus `app.request` for what needs no connection.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve as serveHttp, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePem, fingerprint, formatName } from '@certified/core';
import {
  createMtlsFetch,
  createMtlsServer,
  type ConnectionEvent,
  type MtlsServer,
} from '@certified/node';
import { createTlsPki, issueServer, type TlsIdentity } from '@certified/testing/tls-pki';
import { accessLog, type AccessLogRecord, type AccessLogSink } from './access-log.js';

const isCI = process.env['CI'] === 'true';
const curlVersion = await new Promise<string | undefined>((resolve) =>
  execFile('curl', ['--version'], (error, stdout) =>
    resolve(error ? undefined : /^curl (\S+)/.exec(stdout)?.[1]),
  ),
);
const curlHttp2 = await new Promise<boolean>((resolve) =>
  execFile('curl', ['--version'], (error, stdout) =>
    resolve(!error && /^Features:.*\bHTTP2\b/m.test(stdout)),
  ),
);
if (!curlVersion)
  console.warn(
    `SKIPPED accessLog curl tests: curl is not installed${isCI ? ' (CI=true: failing instead)' : ''}`,
  );
const itCurl = curlVersion || isCI ? it : it.skip;

/** A sink that keeps what it is given, for assertions. */
function collector(): { sink: AccessLogSink; lines: string[]; records: AccessLogRecord[] } {
  const lines: string[] = [];
  const records: AccessLogRecord[] = [];
  return {
    lines,
    records,
    sink: (line, record) => {
      lines.push(line);
      records.push(record);
    },
  };
}

/** The one line logged for `path` (the line is written before the response is sent). */
function lineFor(lines: readonly string[], path: string): AccessLogRecord {
  const found = lines.map((l) => JSON.parse(l) as AccessLogRecord).filter((r) => r.path === path);
  expect(found, `one access-log line for ${path}`).toHaveLength(1);
  return found[0]!;
}

/** A small app: accessLog first, then a refusing middleware, then routes. */
function makeApp(sink: AccessLogSink): Hono {
  const app = new Hono();
  app.use(accessLog({ sink }));
  app.use('/admin/*', async () => {
    throw new HTTPException(403, { message: 'not for you' });
  });
  app.get('/hello', (c) => c.text('hello'));
  app.get('/boom', () => {
    throw new Error('handler failed');
  });
  app.get('/teapot', (c) => c.text('short and stout', 418));
  return app;
}

describe('accessLog over mTLS (createMtlsServer)', () => {
  const log = collector();
  const events: ConnectionEvent[] = [];
  let dir = '';
  let server: MtlsServer;
  let alice: TlsIdentity;
  let caSubject = '';
  let caFile = '';
  let aliceCert = '';
  let aliceKey = '';
  let mtlsFetch: ReturnType<typeof createMtlsFetch>;

  beforeAll(async () => {
    const pki = await createTlsPki('P-256', 'Org');
    const serverId = await issueServer(pki);
    alice = await pki.issue('alice');
    caSubject = formatName(pki.ca.subject);
    server = await createMtlsServer({
      fetch: makeApp(log.sink).fetch,
      key: serverId.key,
      certificates: serverId.certificates,
      validator: pki.validator(),
      url: 'https://127.0.0.1:0',
      onConnection: (e) => events.push(e),
    });
    mtlsFetch = createMtlsFetch({
      key: alice.key,
      certificates: alice.certificates,
      validator: pki.validator(),
    });
    dir = mkdtempSync(join(tmpdir(), 'certified-access-log-'));
    caFile = join(dir, 'ca.pem');
    aliceCert = join(dir, 'alice.pem');
    aliceKey = join(dir, 'alice.key');
    writeFileSync(caFile, encodePem('CERTIFICATE', pki.ca.der));
    writeFileSync(aliceCert, alice.certificates.map((d) => encodePem('CERTIFICATE', d)).join(''));
    writeFileSync(aliceKey, alice.key, { mode: 0o600 });
  });
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function curl(
    path: string,
    extra: string[] = [],
  ): Promise<{ status: number; localPort: number }> {
    const args = ['-sS', '--max-time', '10', '--cacert', caFile, '--cert', aliceCert];
    args.push('--key', aliceKey, '-o', '/dev/null', '-w', '%{http_code} %{local_port}', ...extra);
    args.push(`${server.url}${path}`);
    return new Promise((resolve, reject) =>
      execFile('curl', args, (error, stdout, stderr) => {
        if (error) return reject(new Error(`curl failed: ${stderr || error.message}`));
        const [status, port] = stdout.trim().split(' ').map(Number);
        resolve({ status: status!, localPort: port! });
      }),
    );
  }

  it('logs the peer, request, status and TLS fields of a createMtlsFetch request', async () => {
    const res = await mtlsFetch(`${server.url}/hello?x=1&y=two`, {
      headers: { 'user-agent': 'certified-test/1', accept: 'text/plain' },
    });
    expect(res.status).toBe(200);
    await res.text();
    const r = lineFor(log.lines, '/hello');
    expect(r).toMatchObject({
      name: 'certified.access',
      level: 'INFO',
      type: 'access',
      message: 'GET /hello',
      method: 'GET',
      path: '/hello',
      query: 'x=1&y=two',
      host: `127.0.0.1:${server.port}`,
      port: server.port,
      remote_addr: '127.0.0.1',
      remote_user: { commonName: 'alice' },
      'user-agent': 'certified-test/1',
      accept: 'text/plain',
      httpVersion: '1.1',
      statusCode: 200,
      status: 'OK',
      ssl_protocol: 'TLSv1.3',
      peer: {
        subject: formatName(alice.certificate.subject),
        commonName: 'alice',
        fingerprint: fingerprint(alice.certificate),
        source: 'tls',
      },
      anchor: caSubject,
    });
    expect(r.peer?.subject).toBe('CN=alice');
    expect(r.ssl_cipher).toMatch(/^TLS_/);
    // The server saw the connection come from the same port the log reports.
    const accepted = events.filter((e) => e.type === 'accepted');
    expect(accepted.map((e) => e.remotePort)).toContain(r.remote_port);
    expect(r.process_time_ms).toBeGreaterThanOrEqual(0);
    expect(r.process_time).toBeCloseTo(r.process_time_ms / 1000, 6);
    expect(new Date(r.timestamp).toISOString()).toBe(r.timestamp);
  });

  itCurl('logs curl: remote_port is curl’s local port, user-agent is curl’s', async () => {
    const { status, localPort } = await curl('/hello?from=curl', ['--http1.1']);
    expect(status).toBe(200);
    const r = lineFor(
      log.lines.filter((l) => l.includes('from=curl')),
      '/hello',
    );
    expect(r.remote_port).toBe(localPort);
    expect(r['user-agent']).toBe(`curl/${curlVersion}`);
    expect(r.accept).toBe('*/*');
    expect(r.query).toBe('from=curl');
    expect(r.peer?.commonName).toBe('alice');
    expect(r.ssl_protocol).toBe('TLSv1.3');
    expect(r.ssl_cipher).toMatch(/^TLS_/);
    expect(r.httpVersion).toBe('1.1');
  });

  itCurl('logs curl over TLS 1.2: the protocol and cipher are the negotiated ones', async () => {
    const { status, localPort } = await curl('/teapot', ['--tls-max', '1.2', '--http1.1']);
    expect(status).toBe(418);
    const r = lineFor(log.lines, '/teapot');
    expect(r).toMatchObject({ statusCode: 418, status: 'IM_A_TEAPOT', remote_port: localPort });
    expect(r.ssl_protocol).toBe('TLSv1.2');
    expect(r.ssl_cipher).toMatch(/^ECDHE-ECDSA-/);
  });

  (curlHttp2 || isCI ? it : it.skip)(
    'logs curl over HTTP/2: TLS fields and the peer read through the stream’s socket proxy',
    async () => {
      const { status, localPort } = await curl('/hello?via=h2', ['--http2']);
      expect(status).toBe(200);
      const r = lineFor(
        log.lines.filter((l) => l.includes('via=h2')),
        '/hello',
      );
      expect(r).toMatchObject({
        httpVersion: '2.0',
        remote_port: localPort,
        remote_addr: '127.0.0.1',
        ssl_protocol: 'TLSv1.3',
        host: `127.0.0.1:${server.port}`,
        peer: { commonName: 'alice', fingerprint: fingerprint(alice.certificate) },
        anchor: caSubject,
      });
      expect(r.ssl_cipher).toMatch(/^TLS_/);
    },
  );

  itCurl('logs a request refused by later middleware with its 403', async () => {
    const { status } = await curl('/admin/users');
    expect(status).toBe(403);
    const r = lineFor(log.lines, '/admin/users');
    expect(r).toMatchObject({ statusCode: 403, status: 'FORBIDDEN', method: 'GET' });
    expect(r.peer?.commonName).toBe('alice');
  });

  it('logs a handler that throws as 500', async () => {
    const res = await mtlsFetch(`${server.url}/boom`);
    expect(res.status).toBe(500);
    await res.text();
    expect(lineFor(log.lines, '/boom')).toMatchObject({
      statusCode: 500,
      status: 'INTERNAL_SERVER_ERROR',
    });
  });
});

describe('accessLog over plain HTTP (@hono/node-server)', () => {
  const log = collector();
  const errors: unknown[] = [];
  let server: ServerType;
  let base = '';

  beforeAll(async () => {
    const app = new Hono();
    app.use(
      accessLog({
        sink: [
          log.sink,
          (line) => {
            if (line.includes('/sink-throws')) throw new Error('disk full');
          },
        ],
        onError: (e) => errors.push(e),
      }),
    );
    app.get('/plain', (c) => c.json({ ok: true }));
    app.get('/boom', () => {
      throw new Error('handler failed');
    });
    app.get('/throws-a-string', () => {
      // Not an Error: Hono rethrows it past its error handler; the server answers 500.
      throw 'not an Error';
    });
    app.get('/sink-throws', (c) => c.text('still fine'));
    await new Promise<void>((resolve) => {
      server = serveHttp({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  );

  it('logs null TLS and peer fields, and the connection’s address', async () => {
    const res = await fetch(`${base}/plain?a=b`, { headers: { 'user-agent': 'plain/1' } });
    expect(res.status).toBe(200);
    await res.text();
    const r = lineFor(log.lines, '/plain');
    expect(r).toMatchObject({
      method: 'GET',
      query: 'a=b',
      statusCode: 200,
      status: 'OK',
      remote_addr: '127.0.0.1',
      'user-agent': 'plain/1',
      httpVersion: '1.1',
      ssl_protocol: null,
      ssl_cipher: null,
      peer: null,
      anchor: null,
      remote_user: null,
    });
    expect(typeof r.remote_port).toBe('number');
  });

  it('logs a handler that throws as 500', async () => {
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    await res.text();
    expect(lineFor(log.lines, '/boom')).toMatchObject({ statusCode: 500, ssl_protocol: null });
  });

  it('logs a non-Error throw as 500 and lets it through to the server', async () => {
    const res = await fetch(`${base}/throws-a-string`);
    expect(res.status).toBe(500);
    await res.text();
    expect(lineFor(log.lines, '/throws-a-string').statusCode).toBe(500);
  });

  it('answers normally when a sink throws, and reports it to onError', async () => {
    const res = await fetch(`${base}/sink-throws`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('still fine');
    expect(lineFor(log.lines, '/sink-throws').statusCode).toBe(200);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('disk full');
  });
});

describe('accessLog (app.request, no connection)', () => {
  it('logs nulls for what no runtime told it, and the 404 of an unknown route', async () => {
    const log = collector();
    const app = new Hono();
    app.use(accessLog({ sink: log.sink }));
    const res = await app.request('http://example.test/nowhere?q=1');
    expect(res.status).toBe(404);
    expect(log.records[0]).toMatchObject({
      path: '/nowhere',
      query: 'q=1',
      host: 'example.test',
      port: null,
      statusCode: 404,
      status: 'NOT_FOUND',
      remote_addr: null,
      remote_port: null,
      httpVersion: null,
      ssl_protocol: null,
      peer: null,
    });
    expect(JSON.parse(log.lines[0]!)).toEqual(log.records[0]);
  });

  it('prefers the auth middleware’s c.get("certified") peer, whichever middleware sets it', async () => {
    const log = collector();
    const app = new Hono();
    app.use(accessLog({ sink: log.sink }));
    app.use(async (c, next) => {
      // The shape requireClientCert sets (subject RFC 4514, anchor label, source).
      (c.set as (k: string, v: unknown) => void)('certified', {
        subject: 'CN=ada,O=Analytical Engines,C=GB',
        commonName: 'ada',
        fingerprint: 'AB:CD',
        anchor: { name: 'ada-ca', subject: 'O=Engines' },
        source: 'xfcc',
      });
      await next();
    });
    app.get('/', (c) => c.text('hi'));
    await app.request('http://localhost/');
    expect(log.records[0]).toMatchObject({
      peer: {
        subject: 'CN=ada,O=Analytical Engines,C=GB',
        commonName: 'ada',
        fingerprint: 'AB:CD',
      },
      anchor: 'ada-ca',
      remote_user: { commonName: 'ada', organizationName: 'Analytical Engines', countryName: 'GB' },
    });
    expect(log.records[0]!.peer?.source).toBe('xfcc');
  });

  it('appends options.fields after the standard fields without replacing them', async () => {
    const log = collector();
    const app = new Hono();
    app.use(
      accessLog({
        sink: log.sink,
        fields: (c) => ({ request_id: c.req.header('x-request-id') ?? null, statusCode: -1 }),
      }),
    );
    app.get('/', (c) => c.text('hi'));
    await app.request('http://localhost/', { headers: { 'x-request-id': 'r-1' } });
    const keys = Object.keys(JSON.parse(log.lines[0]!) as object);
    expect(keys.at(-1)).toBe('request_id');
    expect(keys.slice(0, 3)).toEqual(['name', 'level', 'type']);
    expect(log.records[0]).toMatchObject({ request_id: 'r-1', statusCode: 200 });
  });

  it('reports a sink’s rejected promise to onError', async () => {
    const errors: unknown[] = [];
    let reported!: () => void;
    const done = new Promise<void>((r) => (reported = r));
    const app = new Hono();
    app.use(
      accessLog({
        sink: (async () => {
          throw new Error('async sink failed');
        }) as AccessLogSink,
        onError: (e) => {
          errors.push(e);
          reported();
        },
      }),
    );
    app.get('/', (c) => c.text('hi'));
    expect((await app.request('http://localhost/')).status).toBe(200);
    await done;
    expect((errors[0] as Error).message).toBe('async sink failed');
  });

  it('rejects malformed options with TypeError', () => {
    expect(() => accessLog({ sink: 'stdout' as never })).toThrow(TypeError);
    expect(() => accessLog({ sink: [] })).toThrow(/non-empty array/);
    expect(() => accessLog({ fields: {} as never })).toThrow(/options.fields must be a function/);
    expect(() => accessLog(null as never)).toThrow(TypeError);
  });
});
