/**
 * @module serve.test — `serve(app, { identity | configDir })` over real TLS on 127.0.0.1, with real
 * curl (HTTP/1.1 and HTTP/2) and Node's own clients: the identity directories are made by core's
 * operations on disk, and trust changes are made by editing `known_clients/` while the server runs.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  ipAddress,
  dnsName,
  emailAddress,
  fingerprint,
  formatName,
  issueEndEntityCertificate,
  organizationName,
  personName,
  type Certificate,
} from '@certified/core';
import {
  addClient,
  addIntro,
  clientCredentials,
  getIdent,
  initIdentity,
  introduce,
  loadIdentity,
  type Identity,
} from '@certified/identity';
import { rawTlsClient } from '../test/raw-tls.js';
import { heldApp, rawGet, requestsRead, statusesOf } from '../test/revocation.js';
import { createFileStore } from './fs-store.js';
import { serve, type CertifiedServer, type ReloadEvent } from './serve.js';
import type { ConnectionEvent, ServeEnv } from './tls/server.js';

const isCI = process.env['CI'] === 'true';
const curlMissing = await new Promise<boolean>((resolve) =>
  execFile('curl', ['--version'], (error) => resolve(error !== null)),
);
if (curlMissing)
  console.warn(
    `SKIPPED serve() curl tests: curl is not installed${isCI ? ' (CI=true: failing instead)' : ''}`,
  );

const pem = (c: Certificate): string => encodePem('CERTIFICATE', c.der);
const root = mkdtempSync(join(tmpdir(), 'certified-serve-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A caller's files for curl: chain PEM and key PEM. */
interface CurlIdentity {
  readonly cert: string;
  readonly key: string;
}

let dirCount = 0;
async function makeIdentity(
  kind: 'person' | 'org',
  name: string,
  now?: Date,
): Promise<{ dir: string; identity: Identity }> {
  const dir = join(root, `${++dirCount}-${name}`);
  const identity = await initIdentity(createFileStore(dir), {
    subject:
      kind === 'person'
        ? personName({ commonName: name })
        : organizationName({ organization: name, unit: 'API' }),
    altNames:
      kind === 'org'
        ? [ipAddress('127.0.0.1'), dnsName('localhost')]
        : [emailAddress(`${name.toLowerCase()}@example.org`)],
    ...(now ? { now } : {}),
  });
  return { dir, identity };
}

function writeCurlFiles(name: string, chain: readonly Certificate[], keyPem: string): CurlIdentity {
  const cert = join(root, `${name}.chain.pem`);
  const key = join(root, `${name}.key.pem`);
  writeFileSync(cert, chain.map(pem).join(''));
  writeFileSync(key, keyPem);
  return { cert, key };
}

interface CurlResult {
  readonly ok: boolean;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let serverCaFile: string;
function curl(
  who: CurlIdentity | undefined,
  url: string,
  extra: string[] = [],
): Promise<CurlResult> {
  const args = ['-sS', '--max-time', '10', '--cacert', serverCaFile, ...extra];
  if (who) args.push('--cert', who.cert, '--key', who.key);
  args.push(url);
  return new Promise((resolve) =>
    execFile('curl', args, (error, stdout, stderr) =>
      resolve({
        ok: error === null,
        code: typeof error?.code === 'number' ? error.code : 0,
        stdout,
        stderr,
      }),
    ),
  );
}

/** Waits until `check` passes, for events that happen on the server's side of a socket. */
async function eventually<T>(check: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 120; i++) {
    const v = check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const app = new Hono<{ Bindings: ServeEnv }>();
app.get('/whoami', (c) =>
  c.json({
    commonName: c.env.peer?.peer.commonName,
    anchor: c.env.peer && formatName(c.env.peer.anchor.subject),
    http: c.env.incoming.httpVersion,
    caller: c.env.caller && {
      subject: c.env.caller.subject,
      email: c.env.caller.altNames.email,
      fingerprint: c.env.caller.fingerprint,
      anchor: c.env.caller.anchor.name,
      pinned: c.env.caller.anchor.pinned,
      source: c.env.caller.source,
      same: c.env.caller === c.env.caller, // built once
    },
  }),
);
app.get('/slow', async (c) => {
  await new Promise((r) => setTimeout(r, 300));
  return c.text('finished');
});

let notes: { dir: string; identity: Identity };
let server: CertifiedServer;
const events: ConnectionEvent[] = [];
const reloads: ReloadEvent[] = [];
let ada: CurlIdentity; // her CA is in known_clients
let stranger: CurlIdentity; // nobody knows her
let expired: CurlIdentity; // Ada's CA, already expired leaf
let serverOnly: CurlIdentity; // Ada's CA, EKU serverAuth only
let carol: CurlIdentity; // her end-entity certificate is pinned
let bob: CurlIdentity; // introduced by Partner, whose CA is in known_clients
let partnerFile: string;
let adaFingerprint: string;

beforeAll(async () => {
  notes = await makeIdentity('org', 'Notes');
  serverCaFile = join(root, 'notes-ca.pem');
  writeFileSync(serverCaFile, pem(notes.identity.signer!.certificate));

  // Made 30 days ago, so her CA can sign a leaf that has already expired.
  const a = await makeIdentity('person', 'Ada', new Date(Date.now() - 30 * 86_400_000));
  await addClient(notes.identity, 'ada', pem(a.identity.signer!.certificate));
  const ac = clientCredentials(a.identity);
  ada = writeCurlFiles('ada', ac.certificates, ac.keyPem);
  adaFingerprint = fingerprint(ac.certificates[0]!);

  // Leaves Ada's CA signs that must still be refused.
  const signer = {
    certificate: a.identity.signer!.certificate,
    privateKey: a.identity.signer!.privateKey,
  };
  const keys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
  const keyPem = (await exportPrivateKey(keys.privateKey, { format: 'pem' })) as string;
  const day = 86_400_000;
  const old = await issueEndEntityCertificate({
    issuer: signer,
    subject: personName({ commonName: 'Ada' }),
    publicKey: keys.publicKey,
    notBefore: new Date(Date.now() - 3 * day),
    notAfter: new Date(Date.now() - day),
  });
  expired = writeCurlFiles('expired', [old, signer.certificate], keyPem);
  const srv = await issueEndEntityCertificate({
    issuer: signer,
    subject: personName({ commonName: 'Ada' }),
    publicKey: keys.publicKey,
    extendedKeyUsages: ['serverAuth'],
  });
  serverOnly = writeCurlFiles('server-only', [srv, signer.certificate], keyPem);

  const s = await makeIdentity('person', 'Stranger');
  const sc = clientCredentials(s.identity);
  stranger = writeCurlFiles('stranger', sc.certificates, sc.keyPem);

  const c = await makeIdentity('person', 'Carol');
  await addClient(notes.identity, 'carol', pem(c.identity.id.certificate));
  carol = writeCurlFiles('carol', [c.identity.id.certificate], c.identity.id.keyPem);

  const partner = await makeIdentity('org', 'Partner');
  await addClient(notes.identity, 'partner', pem(partner.identity.signer!.certificate));
  partnerFile = join(notes.dir, 'known_clients', 'partner.crt');
  const b = await makeIdentity('person', 'Bob');
  await addIntro(b.identity, await introduce(partner.identity, getIdent(b.identity)));
  const bobNow = await loadIdentity(b.identity.store);
  const introduced = bobNow.signatures[0]!.certificates;
  bob = writeCurlFiles('bob', introduced, bobNow.id.keyPem);

  server = await serve(app, {
    configDir: notes.dir,
    url: 'https://127.0.0.1:0',
    reloadIntervalMs: 100,
    onConnection: (e) => events.push(e),
    onReload: (e) => reloads.push(e),
  });
});
afterAll(() => server?.close());

describe.skipIf(curlMissing && !isCI)('serve(app, { configDir }) with real curl', () => {
  it('serves a trusted client: 200 and the caller on c.env.peer', async () => {
    const r = await curl(ada, `${server.url}/whoami`, ['--http1.1']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ commonName: 'Ada', http: '1.1' });
  });

  it("names the caller on c.env.caller in core's CertifiedPeer shape, anchor labelled by its known_clients file", async () => {
    const r = await curl(ada, `${server.url}/whoami`);
    expect(JSON.parse(r.stdout).caller).toEqual({
      subject: 'CN=Ada',
      email: ['ada@example.org'],
      fingerprint: adaFingerprint,
      anchor: 'ada',
      pinned: false,
      source: 'tls',
      same: true,
    });
    const pinned = JSON.parse((await curl(carol, `${server.url}/whoami`)).stdout).caller;
    expect(pinned).toMatchObject({ subject: 'CN=Carol', anchor: 'carol', pinned: true });
  });

  it('speaks HTTP/2 when the client asks for it (curl --http2)', async () => {
    const r = await curl(ada, `${server.url}/whoami`, ['--http2', '-w', '\n%{http_version}']);
    const [body, version] = r.stdout.split('\n');
    expect(version).toBe('2');
    expect(JSON.parse(body!)).toMatchObject({ commonName: 'Ada', http: '2.0' });
  });

  it.each([
    [
      'no client certificate',
      (): CurlIdentity | undefined => undefined,
      'ERR_NET_TLS',
      /presented no certificate/,
    ],
    ["a stranger's certificate", () => stranger, 'ERR_CHAIN_NO_PATH', /./],
    ['an expired certificate', () => expired, 'ERR_CHAIN_EXPIRED', /./],
    ['a certificate whose EKU excludes clientAuth', () => serverOnly, 'ERR_CHAIN_EKU', /./],
  ] as const)('refuses %s at the handshake: no HTTP response', async (_, who, code, message) => {
    const before = events.length;
    const r = await curl(who(), `${server.url}/whoami`);
    expect(r.ok).toBe(false);
    expect(r.stdout).toBe('');
    const refused = await eventually(
      () => events.slice(before).find((e) => e.type === 'refused'),
      'the refusal',
    );
    expect(refused).toMatchObject({ type: 'refused', code });
    expect(refused.type === 'refused' && refused.message).toMatch(message);
  });

  it('accepts an end-entity certificate pinned in known_clients (ORNL certified cannot)', async () => {
    const r = await curl(carol, `${server.url}/whoami`);
    expect(JSON.parse(r.stdout)).toMatchObject({ commonName: 'Carol' });
  });

  it('judges a returning chain from the cache: no signature checks', async () => {
    await curl(carol, `${server.url}/whoami`);
    const before = events.length;
    await curl(carol, `${server.url}/whoami`);
    const accepted = events.slice(before).find((e) => e.type === 'accepted');
    expect(accepted?.type === 'accepted' && accepted.path.cached).toBe(true);
    expect(accepted?.type === 'accepted' && accepted.path.work.signatureChecks).toBe(0);
  });

  it('accepts an introduced identity, and refuses it once the introducer is removed (no restart)', async () => {
    const r = await curl(bob, `${server.url}/whoami`);
    expect(JSON.parse(r.stdout), r.stdout).toMatchObject({
      commonName: 'Bob',
      anchor: expect.stringMatching(/O=Partner/),
    });

    // A kept-alive connection from Bob, open while trust changes.
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: readPem(serverCaFile),
      ...bobTls(),
    });
    try {
      expect(await get(agent, '/whoami')).toMatchObject({ status: 200 });
      const revokedBefore = events.filter((e) => e.type === 'revoked').length;
      const anchors = server.identity.knownClients.length;
      rmSync(partnerFile);
      const reloaded = await eventually(
        () => reloads.find((e) => e.ok && e.changed && e.anchors === anchors - 1),
        `the automatic reload: ${JSON.stringify(reloads)}`,
      );
      expect(reloaded).toMatchObject({ ok: true, changed: true, revoked: 1 });
      expect(events.filter((e) => e.type === 'revoked').length).toBe(revokedBefore + 1);
      const again = await curl(bob, `${server.url}/whoami`);
      expect(again.ok).toBe(false);
      expect(again.stdout).toBe('');
      // Everyone else is still welcome.
      expect((await curl(ada, `${server.url}/whoami`)).ok).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('reload() reports no change when known_clients is as it was', async () => {
    await expect(server.reload()).resolves.toMatchObject({ ok: true, changed: false });
  });
});

describe('serve(app, options): revocation', () => {
  it('a client removed from known_clients while its request is in progress: what it pipelines after reload() never reaches the app', async () => {
    const own = await makeIdentity('org', 'Revoking');
    const eve = await makeIdentity('person', 'Eve');
    await addClient(own.identity, 'eve', pem(eve.identity.signer!.certificate));
    const app = heldApp();
    await using running = await serve(app.fetch, {
      configDir: own.dir,
      url: 'https://127.0.0.1:0',
      reloadIntervalMs: 0,
    });
    const { certificates, keyPem } = clientCredentials(eve.identity);
    const client = rawTlsClient(
      running.port,
      { key: keyPem, certificates: certificates.map((c) => c.der) },
      rawGet('/hold'),
    );
    await app.holding;
    using reads = requestsRead(client.socket.localPort!);
    rmSync(join(own.dir, 'known_clients', 'eve.crt'));
    expect(await running.reload()).toMatchObject({ ok: true, changed: true, revoked: 1 });
    client.socket.write(rawGet('/2') + rawGet('/3'));
    await reads.count(2);
    app.release();
    const received = await client.closed;
    expect(app.seen.map((r) => [r.path, r.peer])).toEqual([['/hold', 'Eve']]);
    expect(statusesOf(received)).toEqual([200, 403]);
  });
});

describe('serve(app, options): reload', () => {
  it('a known_clients change while reload() reads it is not reported again by the next reload()', async () => {
    const own = await makeIdentity('org', 'Racing');
    const eve = await makeIdentity('person', 'EveRacer');
    await addClient(own.identity, 'eve', pem(eve.identity.signer!.certificate));
    const inner = own.identity.store;
    let armed = false;
    // Eve's file disappears right after a reload lists the directory, before it is read.
    const store = new Proxy(inner, {
      get(target, key) {
        if (key === 'list')
          return async (dir: string) => {
            const names = await target.list(dir);
            if (armed && dir === 'known_clients') {
              armed = false;
              rmSync(join(own.dir, 'known_clients', 'eve.crt'));
            }
            return names;
          };
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    await using running = await serve(() => new Response('ok'), {
      identity: { ...(await loadIdentity(inner)), store },
      url: 'https://127.0.0.1:0',
      reloadIntervalMs: 0,
    });
    armed = true;
    expect(await running.reload()).toMatchObject({ ok: true, changed: true });
    // What is in force is what is on disk now: nothing more to apply.
    expect(await running.reload()).toMatchObject({ ok: true, changed: false });
  });
});

describe('serve(app, options): lifecycle and bad input', () => {
  it('lets a request in progress finish on close, then refuses new connections', async () => {
    const own = await serve(app, {
      identity: notes.identity,
      url: 'https://127.0.0.1:0',
      reloadIntervalMs: 0,
    });
    const agent = new Agent({ ca: readPem(serverCaFile), ...adaTls() });
    const slow = get(agent, '/slow', own.url);
    await eventually(() => (own.connections > 0 ? true : undefined), 'the connection');
    await new Promise((r) => setTimeout(r, 50));
    const closed = own.close();
    await expect(slow).resolves.toEqual({ status: 200, body: 'finished' });
    await closed;
    await expect(get(agent, '/whoami', own.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('serves HTTP/2 to a Node http2 client, and closes its session gracefully', async () => {
    const own = await serve(app, {
      identity: notes.identity,
      url: 'https://127.0.0.1:0',
      reloadIntervalMs: 0,
    });
    const session = http2Connect(own.url, { ca: readPem(serverCaFile), ...adaTls() });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': '/whoami' });
        let data = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (data += d));
        req.on('end', () => resolve(data));
        req.on('error', reject);
      });
      expect(JSON.parse(body)).toMatchObject({ commonName: 'Ada', http: '2.0' });
    } finally {
      await own.close();
      session.destroy();
    }
  });

  it('says which identity is missing', async () => {
    await expect(serve(app, { configDir: join(root, 'nobody') })).rejects.toMatchObject({
      code: 'ERR_IDENTITY_NOT_FOUND',
    });
  });

  it('rejects caller bugs with TypeError/RangeError', async () => {
    await expect(serve({} as never, { identity: notes.identity })).rejects.toThrow(TypeError);
    await expect(serve(app, { identity: notes.identity, configDir: notes.dir })).rejects.toThrow(
      /not both/,
    );
    await expect(serve(app, { identity: notes.identity, reloadIntervalMs: -1 })).rejects.toThrow(
      RangeError,
    );
  });
});

// --- helpers ---

function readPem(file: string): string {
  return readFileSync(file, 'utf8');
}
function tlsOf(who: CurlIdentity): { cert: string; key: string } {
  return { cert: readPem(who.cert), key: readPem(who.key) };
}
function adaTls(): { cert: string; key: string } {
  return tlsOf(ada);
}
function bobTls(): { cert: string; key: string } {
  return tlsOf(bob);
}

function get(
  agent: Agent,
  path: string,
  base = server.url,
): Promise<{ status: number | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, base), { agent, servername: undefined }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
