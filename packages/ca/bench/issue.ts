/**
 * Issuance over HTTPS: ours (`apps/ca-server`, built, embedded PGlite store, then PostgreSQL) against
 * `cfssl serve` (Debian's golang-cfssl), each server in its own process on 127.0.0.1, the same P-256
 * CSRs, 16 concurrent keep-alive clients, certificates/s over a fixed window after a warm-up.
 * Ours authenticates the clients by certificate (an `mtls` RA); cfssl's sign endpoint has no auth.
 * The floor row is the WebCrypto work one certificate needs (import the CSR's key, verify its
 * signature, sign), 16 at a time in this process: what a Node service built on WebCrypto could reach
 * with no HTTP, no store and no X.509 encoding at all. Server CPU per certificate (from /proc, the
 * server process only: PostgreSQL's own processes are not counted) holds still on a busy machine.
 *
 * Usage: npm run bench -w @certified/ca    (BENCH_SECONDS=10 by default)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createCsr,
  createSelfSignedCa,
  dnsName,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  ipAddress,
  issueEndEntityCertificate,
  organizationName,
  parseCertificate,
  personName,
  signingName,
} from '@certified/core';
import { freePort } from '@certified/testing/net';
import { startPostgres } from '@certified/testing/postgres';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const WARMUP_MS = 2000;
const CLIENTS = 16;
const root = resolve(import.meta.dirname, '../../..');

// The server as users run it (the package's bin, compiled), not through tsx: turbo builds it first
// (turbo.json, @certified/ca#bench).
const serverMain = join(root, 'apps/ca-server/dist/main.js');
if (!existsSync(serverMain)) {
  console.error(`${serverMain} is missing: run \`npm run build\` first (\`npm run bench\` does).`);
  process.exit(1);
}
const dir = await mkdtemp(join(tmpdir(), 'certified-ca-bench-'));
const children: ChildProcess[] = [];
try {
  // One P-256 CA for both; a serving certificate for cfssl's TLS, a client certificate for ours.
  const caKeys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
  const ca = await createSelfSignedCa({
    subject: signingName(organizationName({ organization: 'Bench CA' })),
    keyPair: caKeys,
  });
  const issuer = { certificate: ca, privateKey: caKeys.privateKey };
  const caPem = encodePem('CERTIFICATE', ca.der);
  const leaf = async (cn: string, serverAuth: boolean) => {
    const keys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
    const cert = await issueEndEntityCertificate({
      issuer,
      subject: personName({ commonName: cn }),
      publicKey: keys.publicKey,
      altNames: serverAuth ? [ipAddress('127.0.0.1'), dnsName('localhost')] : [],
      extendedKeyUsages: [serverAuth ? 'serverAuth' : 'clientAuth'],
    });
    return {
      cert: encodePem('CERTIFICATE', cert.der),
      key: await exportPrivateKey(keys.privateKey),
    };
  };
  const cfsslTls = await leaf('cfssl', true);
  const client = await leaf('bench-client', false);
  await writeFile(join(dir, 'ca.crt'), caPem);
  await writeFile(join(dir, 'ca.key'), await exportPrivateKey(caKeys.privateKey), { mode: 0o600 });
  await writeFile(join(dir, 'tls.crt'), cfsslTls.cert);
  await writeFile(join(dir, 'tls.key'), cfsslTls.key);

  const ECDSA = { name: 'ECDSA', hash: 'SHA-256' } as const;
  const made = await Promise.all(
    Array.from({ length: 64 }, async (_, i) => {
      const keyPair = await generateKeyPair({ algorithm: 'P-256' });
      const csr = await createCsr({
        subject: personName({ commonName: `host${i}.example.com` }),
        keyPair,
        altNames: [dnsName(`host${i}.example.com`)],
      });
      // For the floor: the same proof of possession in WebCrypto's own signature format.
      const raw = new Uint8Array(
        await crypto.subtle.sign(ECDSA, keyPair.privateKey, buf(csr.info)),
      );
      return { pem: encodePem('CERTIFICATE REQUEST', csr.der), csr, raw };
    }),
  );
  const csrs = made.map((m) => m.pem);

  const results: { name: string; rate: number; cpuUs?: number }[] = [];

  // --- cfssl ---
  if (!existsSync('/usr/bin/cfssl')) {
    console.warn('*** cfssl is not installed (apt-get install golang-cfssl): skipping it ***');
  } else {
    await writeFile(
      join(dir, 'cfssl.json'),
      JSON.stringify({
        signing: {
          default: { expiry: '24h', usages: ['digital signature', 'server auth', 'client auth'] },
        },
      }),
    );
    const port = await freePort();
    const cfsslChild = spawn(
      'cfssl',
      [
        'serve',
        '-address',
        '127.0.0.1',
        '-port',
        String(port),
        '-ca',
        join(dir, 'ca.crt'),
        '-ca-key',
        join(dir, 'ca.key'),
        '-config',
        join(dir, 'cfssl.json'),
        '-tls-cert',
        join(dir, 'tls.crt'),
        '-tls-key',
        join(dir, 'tls.key'),
        '-loglevel',
        '5',
      ],
      { stdio: 'ignore' },
    );
    children.push(cfsslChild);
    const url = `https://127.0.0.1:${port}`;
    await ready(`${url}/api/v1/cfssl/scaninfo`);
    results.push({
      name: 'cfssl serve',
      ...(await load(
        cfsslChild.pid!,
        `${url}/api/v1/cfssl/sign`,
        (csr) => ({ certificate_request: csr }),
        (b) => (b as { success: boolean; result: { certificate: string } }).result.certificate,
      )),
    });
  }

  // --- ours: embedded store, then PostgreSQL ---
  const ours = async (name: string, store: Record<string, unknown>) => {
    await writeFile(
      join(dir, 'ca.yaml'),
      JSON.stringify({
        signing_ca: { main: { cert_path: 'ca.crt', key_path: 'ca.key' } },
        authentication: { certs: { backend: 'mtls' } },
        registration_authority: {
          bench: {
            signing_ca: 'main',
            authentication: 'certs',
            validators: { common_name: { allowed_domains: ['.example.com'] } },
          },
        },
        store,
      }),
    );
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [serverMain, '--config', join(dir, 'ca.yaml'), '--listen', `https://127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    children.push(child);
    const url = `https://127.0.0.1:${port}`;
    await ready(`${url}/health`);
    results.push({
      name,
      ...(await load(
        child.pid!,
        `${url}/v1/certificates`,
        (csr) => ({ ra: 'bench', csr }),
        (b) => (b as { certificate: string }).certificate,
      )),
    });
    child.kill('SIGTERM');
  };
  await ours('certified (embedded PGlite)', { backend: 'pglite', path: join(dir, 'pglite') });
  const pg = await startPostgres();
  if (pg) {
    try {
      await ours('certified (PostgreSQL)', { backend: 'postgres', url: pg.url });
    } finally {
      await pg.stop();
    }
  }

  // --- the floor: only the cryptography a certificate needs, in this process, no HTTP, no store ---
  results.push({ name: 'floor: WebCrypto only', ...(await floor()) });

  const cfssl = results.find((r) => r.name === 'cfssl serve')?.rate;
  const fl = results.find((r) => r.name.startsWith('floor'))?.rate;
  console.log(`\nissuance over HTTPS, P-256 CSRs, ${CLIENTS} clients, ${SECONDS} s each`);
  for (const r of results)
    console.log(
      `${r.name.padEnd(30)} ${r.rate.toFixed(0).padStart(6)} certs/s` +
        (r.cpuUs ? `  ${r.cpuUs.toFixed(0).padStart(5)} µs server CPU/cert` : '') +
        (cfssl && r.name !== 'cfssl serve' ? `   ${(r.rate / cfssl).toFixed(2)}× cfssl` : '') +
        (r.name.startsWith('certified') && fl ? `   ${(r.rate / fl).toFixed(2)}× floor` : ''),
    );

  // --- internal ---

  /** Per certificate: import the CSR's key, verify its signature, sign a TBS of the same size. */
  async function floor(): Promise<{ rate: number; cpuUs: number }> {
    const ca = caKeys.privateKey;
    let done = 0;
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop) {
        const m = made[n++ % made.length]!;
        const key = await crypto.subtle.importKey(
          'spki',
          buf(m.csr.publicKey.spki),
          { name: 'ECDSA', namedCurve: 'P-256' },
          false,
          ['verify'],
        );
        if (!(await crypto.subtle.verify(ECDSA, key, buf(m.raw), buf(m.csr.info))))
          throw new Error('floor: bad signature');
        await crypto.subtle.sign(ECDSA, ca, buf(m.csr.der));
        done++;
      }
    };
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const workers = Array.from({ length: CLIENTS }, worker);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    stop = true;
    await Promise.all(workers);
    const cpu = process.cpuUsage(cpu0);
    return {
      rate: done / ((performance.now() - t0) / 1000),
      cpuUs: (cpu.user + cpu.system) / done,
    };
  }

  async function ready(url: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const ok = await post(url, undefined, new Agent({ ca: caPem })).then(
        (r) => r.status < 500,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} did not come up`);
  }

  async function load(
    pid: number,
    url: string,
    body: (csr: string) => unknown,
    certOf: (b: unknown) => string,
  ): Promise<{ rate: number; cpuUs: number }> {
    const agent = new Agent({
      keepAlive: true,
      maxSockets: CLIENTS,
      ca: caPem,
      cert: client.cert,
      key: client.key,
    });
    let counting = false;
    let issued = 0;
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop) {
        const r = await post(url, body(csrs[n++ % csrs.length]!), agent);
        if (r.status >= 300) throw new Error(`${url}: ${r.status} ${r.text}`);
        parseCertificate(certOf(JSON.parse(r.text)));
        if (counting) issued++;
      }
    };
    const workers = Array.from({ length: CLIENTS }, worker);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    counting = true;
    const t0 = performance.now();
    const cpu0 = await cpuMs(pid);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    counting = false;
    const cpu = (await cpuMs(pid)) - cpu0;
    const elapsed = (performance.now() - t0) / 1000;
    stop = true;
    await Promise.all(workers);
    agent.destroy();
    return { rate: issued / elapsed, cpuUs: (cpu * 1000) / issued };
  }
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
}

/** A process's user + system CPU time so far, in ms (Linux /proc; clock ticks are 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A view TypeScript accepts as a BufferSource (our bytes are never shared memory). */
function buf(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b as Uint8Array<ArrayBuffer>;
}

function post(url: string, body: unknown, agent: Agent): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method: data ? 'POST' : 'GET',
        agent,
        headers: data ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
