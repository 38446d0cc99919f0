/**
 * @module commands/ca.test — `certified ca init | serve | request | revoke | log` through `main(argv, io)`:
 * a CA made by `ca init`, served on 127.0.0.1, an identity that requests, renews over mTLS, is revoked
 * and refused; the installed certificate checked by the real `openssl verify`; the audit log read back.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import {
  createSelfSignedCa,
  dnsName,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  ipAddress,
  issueEndEntityCertificate,
  parseCertificates,
  personName,
} from '@certified/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { certified, expectOneLineError, testIo, type RunResult } from '../../test/helpers.js';

const run = promisify(execFile);
const cwd = mkdtempSync(path.join(tmpdir(), 'certified-cli-ca-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
const CONFIG = 'certified-ca/ca.yaml';
const INSTALLED = path.join(cwd, 'web', 'id', 'P=Signing Certificate,O=Example CA.crt');

let url: string;
let stop: () => void;
let served: Promise<number>;
let servedOut: () => string;
const client = (argv: string[]): Promise<RunResult> =>
  certified(['ca', ...argv, '--url', url, '--cacert', 'certified-ca/ca.crt', '--config', 'web'], {
    cwd,
  });
const admin = ['--user', 'admin', '--secret-file', 'certified-ca/admin.secret'];

beforeAll(async () => {
  const init = await certified(['ca', 'init', '--org', 'Example CA'], { cwd });
  expect(init.code, init.stderr).toBe(0);
  const id = await certified(['init', 'Web', '--host', 'web.localhost', '--config', 'web'], {
    cwd,
  });
  expect(id.code, id.stderr).toBe(0);
  const stopped = new Promise<string>((r) => (stop = () => r('SIGTERM')));
  const t = testIo({ cwd, waitForShutdown: () => stopped });
  servedOut = t.stdout;
  served = main(['ca', 'serve', '--config', CONFIG, 'https://127.0.0.1:0'], t.io);
  for (let i = 0; i < 300 && !/listening on https:/.test(t.stdout()); i++)
    await new Promise((r) => setTimeout(r, 50));
  url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(t.stdout())?.[1] ?? '';
  if (!url) throw new Error(`ca serve did not start:\n${t.stdout()}\n${t.stderr()}`);
}, 60_000);

describe('certified ca', () => {
  it('init wrote the key and the secret 0600 and refuses to replace them', async () => {
    for (const f of ['ca.key', 'admin.secret'])
      expect(statSync(path.join(cwd, 'certified-ca', f)).mode & 0o777).toBe(0o600);
    const before = readFileSync(path.join(cwd, CONFIG), 'utf8');
    const again = await certified(['ca', 'init'], { cwd });
    expect(expectOneLineError(again, 'ERR_FILE_WRITE')).toContain('already holds a CA');
    expect(readFileSync(path.join(cwd, CONFIG), 'utf8')).toBe(before);
  });

  it('init where no directory can be made: ERR_FILE_WRITE in a sentence, at once', async () => {
    symlinkSync(path.join(cwd, 'nowhere'), path.join(cwd, 'dangling'));
    const dangling = await certified(['ca', 'init', 'dangling/ca'], { cwd });
    expect(expectOneLineError(dangling, 'ERR_FILE_WRITE')).toMatch(
      /^Cannot create the CA in \S+dangling\/ca: a parent directory is missing or cannot hold directories/,
    );
    writeFileSync(path.join(cwd, 'plain-file'), 'x');
    const underFile = await certified(['ca', 'init', 'plain-file/ca'], { cwd });
    expect(expectOneLineError(underFile, 'ERR_FILE_WRITE')).toContain(
      'a part of the path is not a directory',
    );
    // Node's own recursive mkdir spins forever here (packages/ca's node.test.ts).
    if (process.platform === 'linux') {
      const proc = await certified(['ca', 'init', '/proc/certified-cli-test/ca'], { cwd });
      expect(expectOneLineError(proc, 'ERR_FILE_WRITE')).toContain(
        'Cannot create the CA in /proc/certified-cli-test/ca',
      );
    }
  });

  it('request installs a certificate for our key that openssl verifies against ca.crt', async () => {
    const r = await client(['request', 'web.localhost', ...admin, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as { installed: string; subject: string };
    expect(answer.subject).toBe('CN=web.localhost');
    const { stdout } = await run('openssl', [
      'verify',
      '-CAfile',
      path.join(cwd, 'certified-ca/ca.crt'),
      INSTALLED,
    ]);
    expect(stdout).toContain(': OK');
    const text = (await run('openssl', ['x509', '-in', INSTALLED, '-noout', '-text'])).stdout;
    expect(text).toContain('DNS:web.localhost');
  });

  it('--new-key: a fresh key and certificate in certs/, 0600, renewed with a new key', async () => {
    const r = await client(['request', 'files.localhost', '--new-key', ...admin, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      installed: 'certs/files.localhost.crt',
      key: 'certs/files.localhost.key',
    });
    const crt = path.join(cwd, 'web', 'certs', 'files.localhost.crt');
    const key = path.join(cwd, 'web', 'certs', 'files.localhost.key');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    const { stdout } = await run('openssl', [
      'verify',
      '-CAfile',
      path.join(cwd, 'certified-ca/ca.crt'),
      crt,
    ]);
    expect(stdout).toContain(': OK');
    // The key belongs to the certificate (openssl compares the public keys).
    const pub = async (args: string[]) => (await run('openssl', args)).stdout;
    const certPub = await pub(['x509', '-in', crt, '-noout', '-pubkey']);
    expect(await pub(['pkey', '-in', key, '-pubout'])).toBe(certPub);
    // Not the identity's key.
    expect(await pub(['pkey', '-in', path.join(cwd, 'web', 'id.key'), '-pubout'])).not.toBe(
      certPub,
    );
    const renewed = await client(['request', 'files.localhost', '--new-key', '--renew']);
    expect(renewed.code, renewed.stderr).toBe(0);
    const newPub = await pub(['x509', '-in', crt, '-noout', '-pubkey']);
    expect(newPub).not.toBe(certPub);
    expect(await pub(['pkey', '-in', key, '-pubout'])).toBe(newPub);
    expectOneLineError(await client(['request', '../x', '--new-key', ...admin]), 'ERR_USAGE', {
      exitCode: 2,
    });
  });

  it('trusts a CA by the fingerprint serve printed, and refuses a server without it', async () => {
    const fp = /CA fingerprint ([0-9A-F:]{95})/.exec(servedOut())?.[1];
    expect(fp).toBeDefined();
    const byFp = (f: string) =>
      certified(
        [
          'ca',
          'request',
          'web.localhost',
          ...admin,
          '--url',
          url,
          '--fingerprint',
          f,
          '--config',
          'web',
        ],
        { cwd },
      );
    const r = await byFp(fp!);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`--fingerprint ${fp}`);
    const wrong = fp!.replace(/^../, fp!.startsWith('00') ? '11' : '00');
    expect(expectOneLineError(await byFp(wrong), 'ERR_CHECK_FAILED')).toContain(
      'not the CA you meant',
    );
    expectOneLineError(await byFp('abc'), 'ERR_USAGE', { exitCode: 2 });
  });

  it('refusals are one coded line each and install nothing', async () => {
    const before = readFileSync(INSTALLED, 'utf8');
    const foreign = await client(['request', 'web.example.org', ...admin]);
    expect(expectOneLineError(foreign, 'ERR_CA_VALIDATION_FAILED')).toContain('common_name');
    writeFileSync(path.join(cwd, 'wrong.secret'), 'not the secret\n');
    const wrong = await client([
      'request',
      'web.localhost',
      '--user',
      'admin',
      '--secret-file',
      'wrong.secret',
    ]);
    expectOneLineError(wrong, 'ERR_CA_AUTH_FAILED');
    const noSecret = await client(['request', 'web.localhost']);
    expectOneLineError(noSecret, 'ERR_CA_AUTH_REQUIRED');
    expect(readFileSync(INSTALLED, 'utf8')).toBe(before);
    expectOneLineError(await client(['request', 'x.localhost', '--renew']), 'ERR_USAGE', {
      exitCode: 2,
    });
  });

  it('renews over mTLS; after revoke the renewal is refused', async () => {
    const first = readFileSync(INSTALLED, 'utf8');
    const renewed = await client(['request', '--renew', '--json']);
    expect(renewed.code, renewed.stderr).toBe(0);
    const { serial } = JSON.parse(renewed.stdout) as { serial: string };
    expect(readFileSync(INSTALLED, 'utf8')).not.toBe(first);
    const revoked = await client(['revoke', '--serial', serial, ...admin, '--reason', 'test']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`serial ${serial}`);
    expectOneLineError(await client(['request', '--renew']), 'ERR_CA_REVOKED');
    const id = /revocation (\d+)/.exec(revoked.stdout)![1]!;
    const lifted = await client(['revoke', '--lift', id, ...admin]);
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(lifted.stdout).toContain(`Lifted revocation ${id}`);
    // Lifting the serial's revocation leaves its key's: still refused, by the key now.
    const again = await client(['request', '--renew']);
    expect(expectOneLineError(again, 'ERR_CA_REVOKED')).toContain('key');
    expectOneLineError(await client(['revoke', '--lift', id, ...admin]), 'ERR_CA_NOT_FOUND');
    expectOneLineError(await client(['revoke', '--lift', 'x']), 'ERR_USAGE', { exitCode: 2 });
  });

  it('log refuses the embedded store while serve holds it, and reads it after', async () => {
    expectOneLineError(
      await certified(['ca', 'log', '--config', CONFIG], { cwd }),
      'ERR_CA_STORE_BUSY',
    );
    stop();
    expect(await served).toBe(0);
    const log = await certified(['ca', 'log', '--config', CONFIG, '--json'], { cwd });
    expect(log.code, log.stderr).toBe(0);
    const records = JSON.parse(log.stdout) as {
      decision: string;
      endpoint: string;
      code: string;
    }[];
    expect(records.map((r) => `${r.endpoint} ${r.decision}`)).toEqual(
      expect.arrayContaining([
        'certificates issued',
        'renew issued',
        'revoke revoked',
        'renew refused',
        'certificates refused',
      ]),
    );
    expect(records.find((r) => r.decision === 'refused')?.code).toMatch(/^ERR_CA_/);
    const text = await certified(['ca', 'log', '--config', CONFIG, '--limit', '2'], { cwd });
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
    expect(text.stdout).toContain('renew refused CN=web.localhost by mtls:CN=web.localhost');
  });

  it('refuses an answer the CA did not sign, even from a server that chains to it', async () => {
    // A server holding a serving certificate from the CA (so the client trusts the connection)
    // that answers with a certificate for our key signed by some other CA.
    const caCert = parseCertificates(
      readFileSync(path.join(cwd, 'certified-ca/ca.crt'), 'utf8'),
    )[0]!;
    const caKey = await importPrivateKey(
      readFileSync(path.join(cwd, 'certified-ca/ca.key'), 'utf8'),
    );
    const serving = await generateKeyPair({ algorithm: 'P-256', extractable: true });
    const servingCert = await issueEndEntityCertificate({
      issuer: { certificate: caCert, privateKey: caKey.privateKey },
      subject: personName({ commonName: 'impostor' }),
      publicKey: serving.publicKey,
      altNames: [ipAddress('127.0.0.1')],
      extendedKeyUsages: ['serverAuth'],
    });
    const rogueKeys = await generateKeyPair({ algorithm: 'P-256' });
    const rogue = await createSelfSignedCa({ subject: caCert.subject, keyPair: rogueKeys });
    const ours = parseCertificates(readFileSync(path.join(cwd, 'web', 'id.crt'), 'utf8'))[0]!;
    const forged = await issueEndEntityCertificate({
      issuer: { certificate: rogue, privateKey: rogueKeys.privateKey },
      subject: personName({ commonName: 'web.localhost' }),
      publicKey: ours.publicKey.spki,
      altNames: [dnsName('web.localhost')],
    });
    const impostor = createServer(
      {
        key: await exportPrivateKey(serving.privateKey),
        cert: encodePem('CERTIFICATE', servingCert.der),
      },
      (_req, res) =>
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ certificate: encodePem('CERTIFICATE', forged.der) })),
    );
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    try {
      const port = (impostor.address() as AddressInfo).port;
      const before = readFileSync(INSTALLED, 'utf8');
      const r = await certified(
        [
          'ca',
          'request',
          'web.localhost',
          ...admin,
          '--url',
          `https://127.0.0.1:${port}`,
          '--cacert',
          'certified-ca/ca.crt',
          '--config',
          'web',
        ],
        { cwd },
      );
      expect(expectOneLineError(r, 'ERR_BODY_INVALID')).toContain('did not sign');
      expect(readFileSync(INSTALLED, 'utf8')).toBe(before);
    } finally {
      impostor.close();
    }
  });

  it('ca alone prints its commands; an unknown one is a usage error', async () => {
    const r = await certified(['ca'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^ {2}request +Get a certificate/m);
    expectOneLineError(await certified(['ca', 'sign'], { cwd }), 'ERR_USAGE', { exitCode: 2 });
    const help = await certified(['help', 'ca', 'request'], { cwd });
    expect(help.stdout).toContain('Usage: certified ca request [NAME] [options]');
  });
});
