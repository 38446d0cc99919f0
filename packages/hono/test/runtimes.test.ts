/**
 * @module test/runtimes.test — proxy mode on each runtime's own HTTP server, which cannot terminate
 * mTLS for the app: bundles runtime-script.ts once with esbuild (platform node, ESM,
 * `@certified/source` condition), runs it under Node (`@hono/node-server`), Deno (`Deno.serve`) and
 * Bun (`Bun.serve`), and sends it real requests over node:http from 127.0.0.1 carrying certificates
 * of a real PKI in the nginx, Envoy and Cloudflare headers. Checks that the TCP peer address is read
 * on each runtime (the header counts from a configured proxy address, and is refused from
 * elsewhere), that the chain is judged by the validator, and what the access log records.
 * A missing runtime is skipped loudly; under CI=true it fails instead.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePem, fingerprint, toBase64Der } from '@certified/core';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessLogRecord, ForwardedFormat } from '../src/index.js';
import type { ListeningLine, RuntimeScriptConfig, WhoamiBody } from './runtime-script.js';
import { createTlsPki, issueClient, type TlsIdentity } from './tls-pki.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const isCI = process.env.CI === 'true';
const TIMEOUT_MS = 60_000;

type Runtime = 'node' | 'deno' | 'bun';

/** The command line that runs a bundle under each runtime. */
const commands: Record<Runtime, { bin: string; args: readonly string[] }> = {
  node: { bin: process.execPath, args: [] },
  deno: { bin: join(repoRoot, 'node_modules/.bin/deno'), args: ['run', '-A', '--no-config'] },
  bun: { bin: join(repoRoot, 'node_modules/.bin/bun'), args: [] },
};

function versionOf(runtime: Runtime): Promise<string | undefined> {
  const { bin } = commands[runtime];
  if (!existsSync(bin)) return Promise.resolve(undefined);
  return new Promise((done) =>
    execFile(bin, ['--version'], { timeout: 20_000 }, (error, stdout) =>
      done(error ? undefined : stdout.trim().split('\n')[0]),
    ),
  );
}

const versions = Object.fromEntries(
  await Promise.all(
    (Object.keys(commands) as Runtime[]).map(async (r) => [r, await versionOf(r)] as const),
  ),
) as Record<Runtime, string | undefined>;
for (const r of Object.keys(versions) as Runtime[])
  if (!versions[r])
    console.warn(
      `SKIPPED hono runtimes on ${r}: ${commands[r].bin} is missing or does not run${isCI ? ' (CI=true: failing instead)' : ''}`,
    );

/** Whether to run a runtime's cases: yes if present, and always under CI (to fail). */
const runnable = (runtime: Runtime): boolean => isCI || versions[runtime] !== undefined;

let dir: string;
let bundle: string;
let config: string;
let ada: TlsIdentity;
let mallory: TlsIdentity;
const children = new Set<ChildProcess>();

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
  const script = join(here, 'runtime-script.ts');
  await esbuild.build({
    stdin: {
      contents: [
        `import process from 'node:process';`,
        `import { main } from ${JSON.stringify(script)};`,
        `process.exit(await main(process.argv.slice(2)));`,
      ].join('\n'),
      resolveDir: here,
      loader: 'ts',
      sourcefile: 'runtime-entry.ts',
    },
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    conditions: ['@certified/source'],
    // yaml (through @certified/core's identity files) is CommonJS under the node condition and
    // requires node builtins, which an ESM bundle can only do through a real require.
    banner: {
      js: "import { createRequire as __certifiedRequire } from 'node:module'; const require = __certifiedRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}, TIMEOUT_MS);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts the script under `runtime`; resolves with its first line once it listens. */
function start(runtime: Runtime): Promise<ListeningLine> {
  if (!versions[runtime]) throw new Error(`${runtime} is not available (${commands[runtime].bin})`);
  const { bin, args } = commands[runtime];
  const child = spawn(bin, [...args, bundle, config], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  let output = '';
  return new Promise((resolveStart, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`${runtime} server ${why}\n${output}`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${TIMEOUT_MS} ms`), TIMEOUT_MS);
    child.on('error', (e) => fail(`did not start: ${e.message}`));
    child.on('close', (code) => fail(`exited with ${code}`));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const line = output.split('\n').find((l) => l.startsWith('{"listening"'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolveStart(JSON.parse(line) as ListeningLine);
    });
  });
}

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
    case 'cloudflare':
      return { 'cf-client-cert-der-base64': toBase64Der(id.certificate.der) };
  }
}

const codeOf = (reply: Reply): unknown =>
  (reply.body as { error?: { code?: unknown } }).error?.code;

const FORMATS = ['nginx', 'envoy', 'cloudflare'] as const;

describe.for([
  ['node', '@hono/node-server'],
  ['deno', 'Deno.serve'],
  ['bun', 'Bun.serve'],
] as const)('proxy mode on %s (%s)', ([runtime]) => {
  let base: string;

  beforeAll(async () => {
    if (!runnable(runtime)) return;
    const line = await start(runtime);
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
      const logged = sent.map((r) => records.find((l) => l.remote_port === r.localPort));
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
