/**
 * @module test/runtimes.test — proxy mode on each runtime's own HTTP server, which cannot terminate
 * mTLS for the app: bundles runtime-script.ts once with esbuild (platform node, ESM,
 * `@certified/source` condition), runs it under Node (`@hono/node-server`), Deno (`Deno.serve`) and
 * Bun (`Bun.serve`), and sends it real requests over node:http from 127.0.0.1 carrying certificates
 * of a real PKI in the nginx, Envoy, HAProxy and Cloudflare headers. Checks that the TCP peer address is read
 * on each runtime (the header counts from a configured proxy address, and is refused from
 * elsewhere), that the chain is judged by the validator, and what the access log records.
 * A missing runtime is skipped loudly; under CI=true it fails instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePem, fingerprint, toBase64Der } from '@certified/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessLogRecord } from '@certified/access-log';
import type { ForwardedFormat } from '@certified/hono';
import type { RuntimeScriptConfig, WhoamiBody } from './runtime-script.js';
import {
  APP_TIMEOUT_MS as TIMEOUT_MS,
  RUNTIMES,
  bundleApp,
  runnable,
  startApp,
  warnMissingRuntimes,
  type RunningApp,
} from './support/runtime-app.js';
import { createTlsPki, issueClient, type TlsIdentity } from '@certified/testing/tls-pki';

warnMissingRuntimes('hono runtimes');

let dir: string;
let bundle: string;
let config: string;
let ada: TlsIdentity;
let mallory: TlsIdentity;
const apps = new Set<RunningApp>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certified-hono-runtimes-'));
  bundle = join(dir, 'runtime.mjs');
  config = join(dir, 'config.json');
  const pki = await createTlsPki('P-256', 'Runtimes');
  const strangers = await createTlsPki('P-256', 'Strangers');
  ada = await issueClient(pki, 'Ada');
  mallory = await issueClient(strangers, 'Mallory');
  writeFileSync(
    config,
    JSON.stringify({ ca: toBase64Der(pki.ca.der) } satisfies RuntimeScriptConfig),
  );
  await bundleApp(bundle);
}, TIMEOUT_MS);

afterAll(() => {
  for (const app of apps) app.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A reply, with the local port of the connection it came on. */
interface Reply {
  status: number;
  body: unknown;
  localPort: number;
}

/** A GET over a fresh connection from 127.0.0.1. */
function get(url: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolveGet, reject) => {
    let localPort: number | undefined;
    const req = request(url, { agent: false, localAddress: '127.0.0.1', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        try {
          resolveGet({ status: res.statusCode!, body: JSON.parse(text), localPort: localPort! });
        } catch (e) {
          reject(new Error(`${res.statusCode} ${text}`, { cause: e }));
        }
      });
    });
    // Read once connected: by the time the response ends the server may have closed the socket.
    req.once('socket', (socket) => socket.once('connect', () => (localPort = socket.localPort)));
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const pemOf = (der: Uint8Array): string => encodePem('CERTIFICATE', der);

/** The header each proxy would send for `id`. */
function forwarded(format: ForwardedFormat, id: TlsIdentity): Record<string, string> {
  const cert = encodeURIComponent(pemOf(id.certificate.der));
  switch (format) {
    case 'nginx':
      return { 'x-ssl-client-cert': cert };
    case 'envoy': {
      const hash = fingerprint(id.certificate).replace(/:/g, '').toLowerCase();
      const chain = encodeURIComponent(id.certificates.map(pemOf).join(''));
      return {
        'x-forwarded-client-cert': `By=spiffe://runtimes/proxy;Hash=${hash};Cert="${cert}";Chain="${chain}";Subject="CN=${id.commonName}"`,
      };
    }
    case 'haproxy':
      return { 'x-ssl-client-der': toBase64Der(id.certificate.der) };
    case 'cloudflare':
      return { 'cf-client-cert-der-base64': toBase64Der(id.certificate.der) };
  }
}

const codeOf = (reply: Reply): unknown =>
  (reply.body as { error?: { code?: unknown } }).error?.code;

const FORMATS = ['nginx', 'envoy', 'haproxy', 'cloudflare'] as const;

describe.for(RUNTIMES)('proxy mode on %s (%s)', ([runtime]) => {
  let base: string;

  beforeAll(async () => {
    if (!runnable(runtime)) return;
    const line = await startApp(runtime, bundle, config);
    apps.add(line);
    expect(line.runtime).toBe(runtime);
    console.info(`hono runtimes: ${runtime} ${line.version} listening on ${line.listening}`);
    base = line.listening;
  }, TIMEOUT_MS);

  it.for(FORMATS)(
    '%s header from 127.0.0.1, a configured proxy: 200 with the CN',
    { timeout: TIMEOUT_MS },
    async (format, ctx) => {
      if (!runnable(runtime)) ctx.skip(`${runtime} is not installed`);
      const reply = await get(`${base}/${format}/trusted/whoami`, forwarded(format, ada));
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body).toEqual({
        commonName: 'Ada',
        source: format,
        remoteAddress: '127.0.0.1',
      } satisfies WhoamiBody);
    },
  );

  it.for(FORMATS)(
    'rejects the %s header with ERR_AUTH_PROXY_UNTRUSTED when only 10.0.0.0/8 is a proxy',
    { timeout: TIMEOUT_MS },
    async (format, ctx) => {
      if (!runnable(runtime)) ctx.skip(`${runtime} is not installed`);
      const reply = await get(`${base}/${format}/elsewhere/whoami`, forwarded(format, ada));
      expect(codeOf(reply)).toBe('ERR_AUTH_PROXY_UNTRUSTED');
      expect(reply.status).toBe(401);
    },
  );

  it.for(FORMATS)(
    "rejects a stranger's certificate in the %s header with ERR_CHAIN_NO_PATH",
    { timeout: TIMEOUT_MS },
    async (format, ctx) => {
      if (!runnable(runtime)) ctx.skip(`${runtime} is not installed`);
      const reply = await get(`${base}/${format}/trusted/whoami`, forwarded(format, mallory));
      expect(codeOf(reply)).toBe('ERR_CHAIN_NO_PATH');
      expect(reply.status).toBe(401);
    },
  );

  it(
    'logs remote_addr 127.0.0.1, the client port as remote_port, the status and the peer',
    { timeout: TIMEOUT_MS },
    async (ctx) => {
      if (!runnable(runtime)) ctx.skip(`${runtime} is not installed`);
      const sent = [
        await get(`${base}/nginx/trusted/whoami?log=1`, forwarded('nginx', ada)),
        await get(`${base}/nginx/elsewhere/whoami?log=1`, forwarded('nginx', ada)),
        await get(`${base}/nginx/trusted/whoami?log=1`, forwarded('nginx', mallory)),
      ];
      expect(sent.map((r) => r.status)).toEqual([200, 401, 401]);
      // The sink runs before the response is handed to the server, so the records are there.
      const { body } = await get(`${base}/log`, {});
      const records = body as AccessLogRecord[];
      // In order, not by port: the OS may hand an earlier request's port out again.
      const logged = records.filter((l) => l.query === 'log=1');
      const expected = (i: number, path: string, statusCode: number, peer: string | null) => ({
        path,
        query: 'log=1',
        remote_addr: '127.0.0.1',
        remote_port: sent[i]!.localPort,
        statusCode,
        peer,
      });
      expect(
        logged.map(
          (l) =>
            l && {
              path: l.path,
              query: l.query,
              remote_addr: l.remote_addr,
              remote_port: l.remote_port,
              statusCode: l.statusCode,
              peer: l.peer && `${l.peer.commonName} via ${l.peer.source}`,
            },
        ),
        JSON.stringify({ ports: sent.map((r) => r.localPort), records }),
      ).toEqual([
        expected(0, '/nginx/trusted/whoami', 200, 'Ada via nginx'),
        expected(1, '/nginx/elsewhere/whoami', 401, null),
        expected(2, '/nginx/trusted/whoami', 401, null),
      ]);
    },
  );
});
