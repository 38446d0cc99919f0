/**
 * @module test/real-proxies.test — proxy mode behind real proxies: Debian's nginx
 * (`ssl_verify_client optional_no_ca`, `$ssl_client_escaped_cert`) and HAProxy (`verify optional`
 * with every error ignored, `%[ssl_c_der,base64]`) terminate TLS on 127.0.0.1 in front of the app
 * (runtime-script.ts) on `@hono/node-server`, `Deno.serve` and `Bun.serve`, and real curl presents
 * client certificates through them. The proxies connect to the app from 127.0.0.2, the only address
 * the app's `/<format>/proxied` routes trust, so curl's direct requests (from 127.0.0.1) are not the
 * proxy's. A missing proxy or runtime is skipped loudly; under CI=true it fails instead.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePem, toBase64Der } from '@certified/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeScriptConfig, WhoamiBody } from './runtime-script.js';
import {
  freeLoopbackPort,
  proxyBinary,
  startProxy,
  type ProxyKind,
  type RunningProxy,
} from './support/proxies.js';
import {
  APP_TIMEOUT_MS as TIMEOUT_MS,
  RUNTIMES,
  bundleApp,
  runnable,
  startApp,
  warnMissingRuntimes,
  type RunningApp,
} from './support/runtime-app.js';
import {
  createTlsPki,
  issueClient,
  issueServer,
  type TlsIdentity,
} from '@certified/testing/tls-pki';

const here = dirname(fileURLToPath(import.meta.url));

/** Where a proxy listens, where it forwards to, and the directory its files are in. */
interface SiteParams {
  readonly listen: string;
  readonly upstream: string;
  readonly dir: string;
}

// The configs under test, exactly as packages/hono/README.md shows them (checked below).

const nginxSite = ({ listen, upstream, dir }: SiteParams): string => `server {
    listen ${listen} ssl;
    ssl_certificate     ${dir}/proxy.crt;
    ssl_certificate_key ${dir}/proxy.key;
    # Ask for a client certificate and judge nothing: the app's validator does.
    ssl_verify_client   optional_no_ca;

    location / {
        proxy_pass http://${upstream};
        proxy_bind 127.0.0.2;  # the address in the app's proxy.addresses
        # Replaces every X-SSL-Client-Cert the client sent; none is sent without a certificate.
        proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
    }
}`;

const haproxySite = ({ listen, upstream, dir }: SiteParams): string => `frontend mtls
    mode http
    # Ask for a client certificate and ignore every verification error: the app's validator judges.
    # (verify needs a ca-file; with the errors ignored, which CA it holds decides nothing.)
    bind ${listen} ssl crt ${dir}/proxy.pem verify optional ca-file ${dir}/any-ca.pem ca-ignore-err all crt-ignore-err all
    # Drop every copy the client sent, then set ours only when it presented a certificate.
    http-request del-header X-SSL-Client-DER
    http-request set-header X-SSL-Client-DER %[ssl_c_der,base64] if { ssl_c_used }
    default_backend app

backend app
    mode http
    server app ${upstream} source 127.0.0.2  # the address in the app's proxy.addresses`;

/** Each proxy: its config, the header it sets, and that header's value for a certificate. */
const PROXIES: Record<
  ProxyKind,
  { site: (p: SiteParams) => string; header: string; value: (id: TlsIdentity) => string }
> = {
  nginx: {
    site: nginxSite,
    header: 'X-SSL-Client-Cert',
    value: (id) => encodeURIComponent(encodePem('CERTIFICATE', id.certificate.der)),
  },
  haproxy: {
    site: haproxySite,
    header: 'X-SSL-Client-DER',
    value: (id) => toBase64Der(id.certificate.der),
  },
};

const binaries = {
  nginx: proxyBinary('nginx', 'hono real proxies'),
  haproxy: proxyBinary('haproxy', 'hono real proxies'),
};
warnMissingRuntimes('hono real proxies');

const curlMissing = await new Promise<boolean>((resolve) =>
  execFile('curl', ['--version'], (error) => resolve(error !== null)),
);
if (curlMissing) console.warn('SKIPPED hono real proxies: curl is not installed');

let dir: string;
let bundle: string;
let config: string;
let server: TlsIdentity;
let ada: TlsIdentity;
let mallory: TlsIdentity;
/** What HAProxy's ca-file holds: the strangers' CA, so Mallory passes its check and Ada fails it. */
let strangersCa: Uint8Array;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certified-hono-proxies-'));
  bundle = join(dir, 'runtime.mjs');
  config = join(dir, 'config.json');
  const pki = await createTlsPki('P-256', 'Proxied');
  const strangers = await createTlsPki('P-256', 'Strangers');
  server = await issueServer(pki, 'proxy');
  ada = await issueClient(pki, 'Ada');
  mallory = await issueClient(strangers, 'Mallory');
  strangersCa = strangers.ca.der;
  writeFileSync(join(dir, 'ca.pem'), encodePem('CERTIFICATE', pki.ca.der));
  for (const [name, id] of Object.entries({ ada, mallory })) {
    writeFileSync(join(dir, `${name}.crt`), encodePem('CERTIFICATE', id.certificate.der));
    writeFileSync(join(dir, `${name}.key`), id.key, { mode: 0o600 });
  }
  writeFileSync(
    config,
    JSON.stringify({ ca: toBase64Der(pki.ca.der) } satisfies RuntimeScriptConfig),
  );
  await bundleApp(bundle);
}, TIMEOUT_MS);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The files the sites name, in a proxy's own directory. */
function writeProxyFiles(into: string): void {
  const chain = server.certificates.map((d) => encodePem('CERTIFICATE', d)).join('');
  writeFileSync(join(into, 'proxy.crt'), chain);
  writeFileSync(join(into, 'proxy.key'), server.key, { mode: 0o600 });
  writeFileSync(join(into, 'proxy.pem'), chain + server.key, { mode: 0o600 });
  writeFileSync(join(into, 'any-ca.pem'), encodePem('CERTIFICATE', strangersCa));
}

interface Reply {
  status: number;
  body: unknown;
}

interface CurlOptions {
  /** The client certificate to present. */
  readonly as?: 'ada' | 'mallory';
  /** Extra request headers, `Name: value`. */
  readonly headers?: readonly string[];
  /** The local address to connect from (`--interface`). */
  readonly from?: string;
}

/** A GET with real curl; never through an environment proxy. */
function curl(url: string, options: CurlOptions = {}): Promise<Reply> {
  const args = ['-sS', '--noproxy', '*', '--max-time', '30', '-w', '\n%{http_code}'];
  if (url.startsWith('https:')) args.push('--cacert', join(dir, 'ca.pem'));
  if (options.as)
    args.push('--cert', join(dir, `${options.as}.crt`), '--key', join(dir, `${options.as}.key`));
  for (const h of options.headers ?? []) args.push('-H', h);
  if (options.from) args.push('--interface', options.from);
  return new Promise((resolve, reject) =>
    execFile('curl', [...args, url], (error, stdout, stderr) => {
      if (error) return reject(new Error(`curl ${url} failed: ${stderr}`, { cause: error }));
      const cut = stdout.lastIndexOf('\n');
      const text = stdout.slice(0, cut);
      try {
        resolve({ status: Number(stdout.slice(cut + 1)), body: JSON.parse(text) });
      } catch (e) {
        reject(new Error(`curl ${url}: not JSON: ${stdout}`, { cause: e }));
      }
    }),
  );
}

const codeOf = (reply: Reply): unknown =>
  (reply.body as { error?: { code?: unknown } }).error?.code;

describe('packages/hono/README.md', () => {
  it('shows the nginx and HAProxy configs this suite runs', () => {
    const readme = readFileSync(join(here, '../../packages/hono/README.md'), 'utf8');
    const upstream = '127.0.0.1:3000';
    const listen = '127.0.0.1:8443';
    expect(readme).toContain(nginxSite({ listen, upstream, dir: '/etc/nginx' }));
    expect(readme).toContain(haproxySite({ listen, upstream, dir: '/etc/haproxy' }));
  });
});

describe.for(RUNTIMES)('real proxies in front of %s (%s)', ([runtime]) => {
  let app: RunningApp | undefined;

  beforeAll(async () => {
    if (!runnable(runtime)) return;
    app = await startApp(runtime, bundle, config);
    expect(app.runtime).toBe(runtime);
  }, TIMEOUT_MS);

  afterAll(() => app?.stop());

  describe.for(['nginx', 'haproxy'] as const)('%s', (kind) => {
    const { header, value } = PROXIES[kind];
    const runs = (): boolean => runnable(runtime) && binaries[kind].runnable && !curlMissing;
    let proxy: RunningProxy | undefined;
    let base: string;
    let appPath: string;

    beforeAll(async () => {
      if (!runs()) return;
      const port = await freeLoopbackPort();
      const home = join(dir, `${runtime}-${kind}`);
      mkdirSync(home);
      writeProxyFiles(home);
      const upstream = new URL(app!.listening).host;
      proxy = await startProxy(kind, {
        dir: home,
        listen: { host: '127.0.0.1', port },
        sites: PROXIES[kind].site({ listen: `127.0.0.1:${port}`, upstream, dir: home }),
      });
      console.info(`hono real proxies: ${proxy.version} → ${runtime} ${app!.version}`);
      base = `https://127.0.0.1:${port}/${kind}/proxied/whoami`;
      appPath = `${app!.listening}/${kind}/proxied/whoami`;
    }, TIMEOUT_MS);

    afterAll(() => proxy?.stop());

    const test = (name: string, body: () => Promise<void>): void =>
      it(name, { timeout: TIMEOUT_MS }, async (ctx) => {
        if (!runs()) ctx.skip(`${runtime}, ${kind} or curl is not installed`);
        await body();
      });

    test('lets a trusted client in: 200, from the proxy at 127.0.0.2', async () => {
      const reply = await curl(base, { as: 'ada' });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body).toEqual({
        commonName: 'Ada',
        source: kind,
        remoteAddress: '127.0.0.2',
      } satisfies WhoamiBody);
    });

    test("refuses a stranger's certificate with ERR_CHAIN_NO_PATH", async () => {
      const reply = await curl(base, { as: 'mallory' });
      expect(codeOf(reply)).toBe('ERR_CHAIN_NO_PATH');
      expect(reply.status).toBe(401);
    });

    test('refuses a client without a certificate with ERR_AUTH_NO_CERTIFICATE', async () => {
      const reply = await curl(base);
      expect(codeOf(reply)).toBe('ERR_AUTH_NO_CERTIFICATE');
      expect(reply.status).toBe(401);
    });

    test("drops the header a client without a certificate forged (Ada's, twice): ERR_AUTH_NO_CERTIFICATE", async () => {
      const forged = value(ada);
      const reply = await curl(base, {
        headers: [`${header}: ${forged}`, `${header.toLowerCase()}: ${forged}`],
      });
      expect(codeOf(reply)).toBe('ERR_AUTH_NO_CERTIFICATE');
      expect(reply.status).toBe(401);
    });

    test("overwrites the header a stranger forged (Ada's) with the stranger's own: ERR_CHAIN_NO_PATH", async () => {
      const reply = await curl(base, { as: 'mallory', headers: [`${header}: ${value(ada)}`] });
      expect(codeOf(reply)).toBe('ERR_CHAIN_NO_PATH');
      expect(reply.status).toBe(401);
    });

    test('ignores the header sent straight to the app from 127.0.0.1: ERR_AUTH_PROXY_UNTRUSTED', async () => {
      const headers = [`${header}: ${value(ada)}`];
      const direct = await curl(appPath, { headers, from: '127.0.0.1' });
      expect(codeOf(direct)).toBe('ERR_AUTH_PROXY_UNTRUSTED');
      expect(direct.status).toBe(401);
      // The same request from the proxy's address is read: only the address told them apart.
      const asProxy = await curl(appPath, { headers, from: '127.0.0.2' });
      expect(asProxy.status, JSON.stringify(asProxy.body)).toBe(200);
      expect(asProxy.body).toMatchObject({ commonName: 'Ada', remoteAddress: '127.0.0.2' });
    });
  });
});
