/**
 * @module test/integration/hostile-peers.test — issue 11's attacks on a real `serve()` over TLS on
 * 127.0.0.1: the forged constrained-intermediate chain (packages/core/test/hostile-chain.ts)
 * presented in a handshake, and client and server certificates made by the real `openssl` whose
 * keyUsage does not allow a TLS signature, over TLS 1.2 and 1.3 (curl, openssl s_server).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createPathValidator,
  createSelfSignedCa,
  dnsName,
  emailAddress,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  ipAddress,
  organizationName,
  parseCertificate,
  personName,
  type Certificate,
} from '@certified/core';
import { addClient, initIdentity } from '@certified/identity';
import {
  createFileStore,
  createMtlsFetch,
  serve,
  type CertifiedServer,
  type ConnectionEvent,
} from '@certified/node';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithout } from '@certified/testing/tools';
import { hostileChain } from '../../packages/core/test/hostile-chain.js';

const skip = skipWithout(['curl', 'openssl'], 'hostile-peer tests');

const pem = (c: { der: Uint8Array }): string => encodePem('CERTIFICATE', c.der);
const root = mkdtempSync(join(tmpdir(), 'certified-hostile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = (name: string, data?: string): string => {
  const p = join(root, name);
  if (data !== undefined) writeFileSync(p, data);
  return p;
};

function openssl(args: readonly string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * curl with a client certificate, from the loopback address `from` (each refused client gets its
 * own: serve() limits refusals per address); resolves with the HTTP status ('000' when the
 * handshake failed).
 */
function curl(
  url: string,
  cert: string,
  key: string,
  tls: '1.2' | '1.3',
  from = '127.0.0.1',
): Promise<string> {
  const version = tls === '1.2' ? ['--tlsv1.2', '--tls-max', '1.2'] : ['--tlsv1.3'];
  version.push('--interface', from);
  const args = [
    '-s',
    '-k',
    '--max-time',
    '10',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    ...version,
  ];
  return new Promise((resolve) =>
    execFile('curl', [...args, '--cert', cert, '--key', key, url], (_e, stdout) => resolve(stdout)),
  );
}

const app = new Hono<{ Bindings: { peer?: { subject: string } } }>().get('/', (c) => c.text('ok'));

let server: CertifiedServer;
const events: ConnectionEvent[] = [];
let orgRoot: Certificate;
let aliceCert = '';
let aliceKey = '';

/** The refusal the server reported for the connection whose client presented `subject`. */
async function refusalOf(subject: RegExp): Promise<Extract<ConnectionEvent, { type: 'refused' }>> {
  for (let i = 0; i < 200; i++) {
    const e = events.find((x) => x.type === 'refused' && subject.test(x.subject ?? ''));
    if (e && e.type === 'refused') return e;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no refusal for ${subject}: ${JSON.stringify(events.map((e) => e.type))}`);
}

beforeAll(async () => {
  if (skip) return;
  const serverDir = join(root, 'service');
  const service = await initIdentity(createFileStore(serverDir), {
    subject: organizationName({ organization: 'Hostile Test API' }),
    altNames: [ipAddress('127.0.0.1'), dnsName('localhost')],
  });
  // Alice is trusted through her own CA; the organisation root (pathLen 1, P-256) is the CA the
  // forgery imitates, and the CA openssl's client certificates chain to.
  const aliceDir = join(root, 'alice');
  const alice = await initIdentity(createFileStore(aliceDir), {
    subject: personName({ commonName: 'Alice' }),
    altNames: [emailAddress('alice@example.org')],
  });
  await addClient(service, 'alice', pem(alice.signer!.certificate), { ca: true });
  aliceCert = join(aliceDir, 'id.crt');
  aliceKey = join(aliceDir, 'id.key');

  const orgKeys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
  orgRoot = await createSelfSignedCa({
    subject: organizationName({ organization: 'Hostile Test Org' }),
    keyPair: orgKeys,
    pathLength: 1,
  });
  await addClient(service, 'org', pem(orgRoot), { ca: true });
  file('org.crt', pem(orgRoot));
  file('org.key', await exportPrivateKey(orgKeys.privateKey));

  server = await serve(app, {
    configDir: serverDir,
    url: 'https://127.0.0.1:0',
    onConnection: (e) => events.push(e),
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

// Each builds a ~100 KB or ~64 KB forged chain and makes several handshakes: on a busy 2-core CI
// machine (other suites in parallel) that has taken over vitest's default 5 s.
describe.skipIf(skip)('the forged constrained intermediate against serve()', () => {
  /**
   * Presents `certs` (leaf first) with `key` from the loopback address `from`; resolves with
   * whether the handshake completed and what the server answered, if anything.
   */
  async function present(
    key: CryptoKey,
    certs: readonly Certificate[],
    from: string,
  ): Promise<{ handshake: boolean; reply: string }> {
    const { port } = new URL(server.url);
    const socket = connect({
      socket: netConnect({ host: '127.0.0.1', port: Number(port), localAddress: from }),
      key: await exportPrivateKey(key),
      cert: certs.map(pem).join(''),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    let reply = '';
    let handshake = false;
    socket.setEncoding('utf8');
    socket.on('secureConnect', () => {
      handshake = true;
      socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    socket.on('data', (d: string) => (reply += d));
    // The server drops us: a reset or an alert is the expected end, not a failure of the test.
    await new Promise((resolve) => socket.on('close', resolve).on('error', () => undefined));
    return { handshake, reply };
  }

  it('refuses the ~100 KB chain at the handshake with ERR_CHAIN_TOO_LARGE; a trusted client is still served', async () => {
    const forged = await hostileChain({ anchor: orgRoot });
    expect(forged.bytes).toBeGreaterThan(90_000);
    const certs = [forged.leaf, forged.intermediate];
    expect((await present(forged.leafKeys.privateKey, certs, '127.0.0.2')).reply).toBe('');
    const refused = await refusalOf(/Hostile Client/);
    expect(refused.code).toBe('ERR_CHAIN_TOO_LARGE');
    expect(refused.message).toMatch(/presented \d+ bytes of certificates; at most 65536/);
    expect(await curl(server.url, aliceCert, aliceKey, '1.3')).toBe('200');
    // ~100 KB spends the address's whole refusal allowance: it is now dropped before a handshake.
    expect(events.some((e) => e.type === 'refused' && e.code === 'ERR_NET_THROTTLED')).toBe(true);
    expect(await present(forged.leafKeys.privateKey, certs, '127.0.0.2')).toEqual({
      handshake: false,
      reply: '',
    });
    expect(await curl(server.url, aliceCert, aliceKey, '1.2')).toBe('200');
  }, 30_000);

  it('refuses a forged chain within the size limits by its signature, comparing no names', async () => {
    events.length = 0;
    const forged = await hostileChain({ anchor: orgRoot, subtrees: 200, altNames: 150 });
    expect(forged.bytes).toBeLessThan(65_536);
    const certs = [forged.leaf, forged.intermediate];
    expect((await present(forged.leafKeys.privateKey, certs, '127.0.0.3')).reply).toBe('');
    const refused = await refusalOf(/Hostile Client/);
    expect(refused.code).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    // The same chain through the same rules, to read the work the refusal cost.
    const r = await createPathValidator({ anchors: [orgRoot] }).validate({
      peer: forged.leaf.der,
      chain: [forged.intermediate.der],
      purpose: 'clientAuth',
    });
    expect(r.ok ? 'accepted' : r.code).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    expect(r.work.nameComparisons).toBe(0);
    expect(await curl(server.url, aliceCert, aliceKey, '1.2')).toBe('200');
  }, 30_000);
});

describe.skipIf(skip)('keyUsage of TLS peers, with certificates made by openssl', () => {
  // keyUsage extension lines for `openssl x509 -extfile`.
  const KU = {
    digitalSignature: 'keyUsage = critical, digitalSignature',
    keyEncipherment: 'keyUsage = critical, keyEncipherment',
    keyAgreement: 'keyUsage = critical, keyAgreement',
  } as const;

  /** A P-256 client certificate for CN=`cn` signed by the org root with `ku`, made by openssl. */
  const opensslClient = (cn: string, ku: string): { cert: string; key: string } =>
    opensslLeaf(
      cn,
      ['ec_paramgen_curve:P-256', 'EC'],
      [
        'basicConstraints = critical, CA:FALSE',
        ku,
        'extendedKeyUsage = clientAuth',
        `subjectAltName = email:${cn.toLowerCase()}@example.org`,
      ],
    );

  const opensslAgrees = (cert: string): boolean =>
    spawnSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', file('org.crt'), cert])
      .status === 0;

  it.each(['1.2', '1.3'] as const)(
    'refuses a client whose keyUsage is keyEncipherment or keyAgreement only, over TLS %s (openssl verify -purpose sslclient agrees)',
    async (tls) => {
      for (const [name, ku] of [
        [`KeyEnc${tls.replace('.', '')}`, KU.keyEncipherment],
        [`KeyAgree${tls.replace('.', '')}`, KU.keyAgreement],
      ] as const) {
        const { cert, key } = opensslClient(name, ku);
        events.length = 0;
        expect(await curl(server.url, cert, key, tls, '127.0.0.4')).toBe('000');
        const refused = await refusalOf(new RegExp(`CN=${name}`));
        expect(refused.code).toBe('ERR_CHAIN_PROFILE');
        expect(refused.message).toMatch(
          /does not assert digitalSignature, which TLS client authentication needs/,
        );
        // OpenSSL's own purpose check refuses keyEncipherment alone; it allows keyAgreement for
        // clients (static-DH client auth, which TLS 1.3 removed and certified never negotiates).
        expect(opensslAgrees(cert)).toBe(ku === KU.keyAgreement);
      }
    },
  );

  it.each(['1.2', '1.3'] as const)(
    'serves a client whose keyUsage asserts digitalSignature, over TLS %s',
    async (tls) => {
      const { cert, key } = opensslClient(`DigSig${tls.replace('.', '')}`, KU.digitalSignature);
      expect(opensslAgrees(cert)).toBe(true);
      expect(await curl(server.url, cert, key, tls)).toBe('200');
    },
  );

  it('refuses, as a client, a server whose keyUsage is keyEncipherment only (openssl s_server, TLS 1.2 and 1.3)', async () => {
    const make = (name: string, ku: string): { cert: string; key: string } =>
      opensslLeaf(
        name,
        ['rsa_keygen_bits:2048', 'RSA'],
        [ku, 'extendedKeyUsage = serverAuth', 'subjectAltName = IP:127.0.0.1'],
      );
    const client = await generateKeyPair({ algorithm: 'P-256', extractable: true });
    const clientCert = await createSelfSignedCa({
      subject: personName({ commonName: 'Fetcher' }),
      keyPair: client,
    });
    for (const [name, ku, expected] of [
      ['SrvKeyEnc', KU.keyEncipherment, 'ERR_CHAIN_PROFILE'],
      ['SrvDigSig', KU.digitalSignature, 200],
    ] as const)
      for (const tls of ['-tls1_2', '-tls1_3']) {
        const { cert, key } = make(name, ku);
        const s_server = await startSServer(cert, key, tls);
        const fetch = createMtlsFetch({
          key: await exportPrivateKey(client.privateKey),
          certificates: [clientCert.der],
          validator: createPathValidator({ anchors: [orgRoot] }),
        });
        try {
          const got = await fetch(`https://127.0.0.1:${s_server.port}/`).then(
            (r) => r.status,
            (e: { code?: string }) => e.code,
          );
          expect(got, `${name} over ${tls}`).toBe(expected);
        } finally {
          await fetch.close();
          s_server.child.kill();
          await once(s_server.child, 'exit');
        }
      }
    expect(parseCertificate(readFileSync(file('SrvKeyEnc.crt'), 'utf8')).keyUsage).toEqual([
      'keyEncipherment',
    ]);
  }, 60_000);
});

/**
 * An end-entity certificate for CN=`cn` made by openssl: a fresh key (`[pkeyopt, algorithm]`),
 * a CSR, and `x509 -req` under the org root with `extensions` (plus key identifiers).
 */
function opensslLeaf(
  cn: string,
  [pkeyopt, algorithm]: [string, string],
  extensions: readonly string[],
): { cert: string; key: string } {
  const key = file(`${cn}.key`);
  openssl(['genpkey', '-algorithm', algorithm, '-pkeyopt', pkeyopt, '-out', key]);
  openssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', file(`${cn}.csr`)]);
  const ext = file(
    `${cn}.ext`,
    [...extensions, 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'].join('\n'),
  );
  const cert = file(`${cn}.crt`);
  openssl(
    ['x509', '-req', '-in', file(`${cn}.csr`), '-CA', file('org.crt')]
      .concat(['-CAkey', file('org.key'), '-CAcreateserial', '-days', '2', '-sha256'])
      .concat(['-extfile', ext, '-out', cert]),
  );
  return { cert, key };
}

/** `openssl s_server -www` on a free loopback port, resolved once it accepts connections. */
async function startSServer(
  cert: string,
  key: string,
  tls: string,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  const child = spawn(
    'openssl',
    ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert, '-key', key, tls, '-www', '-quiet'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return { child, port };
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill();
  throw new Error('openssl s_server did not start');
}
