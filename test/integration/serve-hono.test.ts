/**
 * @module test/integration/serve-hono.test — `@certified/node`'s `serve()` with `@certified/hono`'s
 * `requireClientCert()` and `accessLog()` given no trust of their own: the middleware judges with
 * the server's current trust, names anchors by their `known_clients` file, follows a client added
 * while the server runs, and the access log records who called. Real TLS on 127.0.0.1, real curl.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emailAddress, encodePem, ipAddress, organizationName, personName } from '@certified/core';
import { addClient, initIdentity, type Identity } from '@certified/identity';
import { accessLog, type AccessLogRecord } from '@certified/access-log';
import { requireClientCert } from '@certified/hono';
import {
  createFileStore,
  serve,
  type CertifiedServer,
  type ReloadEvent,
  type ServeEnv,
} from '@certified/node';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const isCI = process.env['CI'] === 'true';
const curlMissing = await new Promise<boolean>((resolve) =>
  execFile('curl', ['--version'], (error) => resolve(error !== null)),
);
if (curlMissing)
  console.warn(
    `SKIPPED serve + hono tests: curl is not installed${isCI ? ' (CI=true: failing instead)' : ''}`,
  );

const root = mkdtempSync(join(tmpdir(), 'certified-serve-hono-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function identityIn(dir: string, who: 'service' | string): Promise<Identity> {
  return initIdentity(createFileStore(join(root, dir)), {
    subject:
      who === 'service'
        ? organizationName({ organization: 'Notes Inc', unit: 'API' })
        : personName({ commonName: who }),
    altNames: who === 'service' ? [ipAddress('127.0.0.1')] : [emailAddress(`${dir}@example.org`)],
  });
}

function curl(dir: string, url: string): Promise<{ status: string; body: string }> {
  const args = ['-sS', '--max-time', '10', '-w', '\n%{http_code}'];
  args.push('--cacert', join(root, 'notes', 'CA.crt'));
  args.push('--cert', join(root, dir, 'id.crt'), '--key', join(root, dir, 'id.key'), url);
  return new Promise((resolve) =>
    execFile('curl', args, (_error, stdout) => {
      const lines = stdout.split('\n');
      resolve({ status: lines.pop() ?? '', body: lines.join('\n') });
    }),
  );
}

async function eventually<T>(read: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let server: CertifiedServer;
const logged: AccessLogRecord[] = [];
const reloads: ReloadEvent[] = [];

beforeAll(async () => {
  const notes = await identityIn('notes', 'service');
  const ada = await identityIn('ada', 'Ada');
  await identityIn('bob', 'Bob');
  await addClient(notes, 'ada', encodePem('CERTIFICATE', ada.signer!.certificate.der));

  const app = new Hono<{ Bindings: ServeEnv }>();
  app.use(accessLog({ sink: (_line, record) => logged.push(record) }));
  // Only Ada may write; everyone trusted may read.
  app.use(
    requireClientCert({
      authorize: (peer, c) => c.req.method === 'GET' || peer.commonName === 'Ada',
    }),
  );
  app.get('/whoami', (c) => {
    const p = c.get('certified');
    return c.json({ commonName: p.commonName, anchor: p.anchor.name, source: p.source });
  });
  // One shape for the caller: the middleware's and the server's agree field for field.
  app.get('/both', (c) => {
    const { path: _p, certificate: _c, anchor, ...hono } = c.get('certified');
    const { path: _p2, certificate: _c2, anchor: anchor2, ...env } = c.env.caller!;
    const bare = ({ certificate: _x, ...a }: typeof anchor) => a;
    return c.json({
      hono: { ...hono, anchor: bare(anchor) },
      env: { ...env, anchor: bare(anchor2) },
    });
  });
  app.post('/notes', (c) => c.json({ saved: true }, 201));

  server = await serve(app, {
    configDir: join(root, 'notes'),
    url: 'https://127.0.0.1:0',
    reloadIntervalMs: 100,
    onReload: (e) => reloads.push(e),
  });
});
afterAll(() => server?.close());

describe.skipIf(curlMissing && !isCI)('serve() + requireClientCert() + accessLog()', () => {
  it("authenticates with the server's trust and names the known_clients entry", async () => {
    const r = await curl('ada', `${server.url}/whoami`);
    expect(r.status).toBe('200');
    expect(JSON.parse(r.body)).toEqual({ commonName: 'Ada', anchor: 'ada', source: 'tls' });
    const line = await eventually(
      () => logged.find((l) => l.path === '/whoami' && l.statusCode === 200),
      'the access-log line',
    );
    expect(JSON.stringify(line)).toMatch(/Ada/);
  });

  it("c.get('certified') and c.env.caller are the same CertifiedPeer", async () => {
    const r = await curl('ada', `${server.url}/both`);
    const { hono, env } = JSON.parse(r.body);
    expect(hono).toMatchObject({ subject: 'CN=Ada', anchor: { name: 'ada' }, source: 'tls' });
    expect(env).toEqual(hono);
  });

  it('follows a client added while the server runs (no restart), and authorize gives 403', async () => {
    const before = await curl('bob', `${server.url}/whoami`);
    expect(before.status).not.toBe('200'); // refused at the handshake: no HTTP status
    copyFileSync(join(root, 'bob', 'CA.crt'), join(root, 'notes', 'known_clients', 'bob.crt'));
    await eventually(() => reloads.find((e) => e.ok && e.changed), 'the reload');
    const after = await curl('bob', `${server.url}/whoami`);
    expect(after.status).toBe('200');
    expect(JSON.parse(after.body)).toMatchObject({ commonName: 'Bob', anchor: 'bob' });

    const post = await new Promise<{ status: string; body: string }>((resolve) =>
      execFile(
        'curl',
        [
          '-sS',
          '-X',
          'POST',
          '-w',
          '\n%{http_code}',
          '--cacert',
          join(root, 'notes', 'CA.crt'),
          '--cert',
          join(root, 'bob', 'id.crt'),
          '--key',
          join(root, 'bob', 'id.key'),
          `${server.url}/notes`,
        ],
        (_e, stdout) => {
          const lines = stdout.split('\n');
          resolve({ status: lines.pop() ?? '', body: lines.join('\n') });
        },
      ),
    );
    expect(post.status).toBe('403');
    expect(JSON.parse(post.body)).toMatchObject({ error: { code: 'ERR_AUTH_FORBIDDEN' } });
  });
});
