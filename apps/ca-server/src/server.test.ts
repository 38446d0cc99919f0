/**
 * The CA server for real: HTTPS on 127.0.0.1, `curl` with Anchor's form fields, CSRs from `openssl req`,
 * renewal over mTLS with the current certificate, a refused renewal after revoke, the CA key file's mode.
 */
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '@certified/core';
import { opensslCsr } from '@certified/testing/openssl-csr';
import { rejected } from '@certified/testing';
import { initCaFiles, loadCaFile, startCaServer, type CaServer } from '@certified/ca/node';
import { caDir, https, run, SECRET } from '../test/harness.js';

let dir: string;
let server: CaServer;
beforeAll(async () => {
  dir = await caDir();
  server = await startCaServer({
    config: join(dir, 'ca.yaml'),
    listen: 'https://127.0.0.1:0',
    gcIntervalMs: 0,
  });
}, 60_000);
afterAll(() => server?.close());

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', [
    '-sS',
    '--cacert',
    join(dir, 'ca.crt'),
    '-w',
    '\n%{http_code}',
    ...args,
  ]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

describe('ca-server over HTTPS', () => {
  it('signs with Anchor’s curl form fields and answers the PEM certificate openssl reads', async () => {
    for (const algorithm of ['P-256', 'Ed25519', 'RSA-2048'] as const) {
      const { csrPem } = await opensslCsr({ subject: '/CN=web.example.com', algorithm });
      await writeFile(join(dir, 'req.pem'), csrPem);
      const res = await curl([
        `${server.url}/v1/sign/default`,
        '-F',
        'user=myusername',
        '-F',
        `secret=${SECRET}`,
        '-F',
        'encoding=pem',
        '-F',
        `csr=<${join(dir, 'req.pem')}`,
      ]);
      expect(res.status, res.body).toBe(200);
      await writeFile(join(dir, 'out.pem'), res.body);
      const { stdout } = await run('openssl', [
        'x509',
        '-in',
        join(dir, 'out.pem'),
        '-noout',
        '-subject',
        '-issuer',
      ]);
      expect(stdout).toContain('CN = web.example.com');
      expect(stdout).toContain('O = Test CA');
      const { stdout: verify } = await run('openssl', [
        'verify',
        '-CAfile',
        join(dir, 'ca.crt'),
        join(dir, 'out.pem'),
      ]);
      expect(verify).toContain(': OK');
    }
  });

  it('refuses with a coded JSON 4xx through curl (wrong secret, refused name), each audited', async () => {
    const { csrPem } = await opensslCsr({ subject: '/CN=web.example.org' });
    await writeFile(join(dir, 'bad.pem'), csrPem);
    const form = [
      '-F',
      'user=myusername',
      '-F',
      'encoding=pem',
      '-F',
      `csr=<${join(dir, 'bad.pem')}`,
    ];
    const wrong = await curl([`${server.url}/v1/sign/default`, '-F', 'secret=nope', ...form]);
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body)).toMatchObject({ code: 'ERR_CA_AUTH_FAILED' });
    const refused = await curl([
      `${server.url}/v1/sign/default`,
      '-F',
      `secret=${SECRET}`,
      ...form,
    ]);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({
      validator: 'common_name',
      value: 'web.example.org',
    });
    const [last, before] = await server.ca.store.audit({ limit: 2 });
    expect(last).toMatchObject({
      decision: 'refused',
      code: 'ERR_CA_VALIDATION_FAILED',
      source: '127.0.0.1',
    });
    expect(before).toMatchObject({ decision: 'refused', code: 'ERR_CA_AUTH_FAILED' });
  });

  it('renews over mTLS with the current certificate, and refuses after revoke', async () => {
    const first = await opensslCsr({ subject: '/CN=holder.example.com' });
    const issued = await https(`${server.url}/v1/certificates`, {
      ca: server.caPem,
      body: { ra: 'default', csr: first.csrPem, user: 'myusername', secret: SECRET },
    });
    expect(issued.status, issued.text).toBe(201);
    const certPem = issued.json()['certificate'] as string;
    const next = await opensslCsr({ subject: '/CN=holder.example.com' });
    await writeFile(join(dir, 'holder.crt'), certPem);
    await writeFile(join(dir, 'holder.key'), first.keyPem);
    await writeFile(join(dir, 'renew.json'), JSON.stringify({ ra: 'default', csr: next.csrPem }));
    const renew = () =>
      curl([
        `${server.url}/v1/renew`,
        '--cert',
        join(dir, 'holder.crt'),
        '--key',
        join(dir, 'holder.key'),
        '-H',
        'content-type: application/json',
        '--data-binary',
        `@${join(dir, 'renew.json')}`,
      ]);
    const renewed = await renew();
    expect(renewed.status, renewed.body).toBe(201);
    const fresh = parseCertificate(JSON.parse(renewed.body).certificate);
    expect(fresh.serialNumberHex).not.toBe(parseCertificate(certPem).serialNumberHex);
    const [rec] = await server.ca.store.audit({ limit: 1 });
    expect(rec).toMatchObject({
      endpoint: 'renew',
      auth_method: 'mtls',
      requester: 'CN=holder.example.com',
    });

    // The attack: the holder renews into a name it was never given (the RA's validators would allow it).
    const wider = await opensslCsr({
      subject: '/CN=holder.example.com',
      addext: ['subjectAltName=DNS:payments.example.com'],
    });
    await writeFile(join(dir, 'wider.json'), JSON.stringify({ ra: 'default', csr: wider.csrPem }));
    const widened = await curl([
      `${server.url}/v1/renew`,
      '--cert',
      join(dir, 'holder.crt'),
      '--key',
      join(dir, 'holder.key'),
      '-H',
      'content-type: application/json',
      '--data-binary',
      `@${join(dir, 'wider.json')}`,
    ]);
    expect(widened.status, widened.body).toBe(400);
    expect(JSON.parse(widened.body)).toMatchObject({
      code: 'ERR_CA_RENEW_MISMATCH',
      value: 'DNS:payments.example.com',
    });

    // Without the client certificate the same request is refused.
    const anonymous = await https(`${server.url}/v1/renew`, {
      ca: server.caPem,
      body: { ra: 'default', csr: next.csrPem },
    });
    expect(anonymous.json()['code']).toBe('ERR_CA_AUTH_REQUIRED');

    const revoked = await https(`${server.url}/v1/revoke`, {
      ca: server.caPem,
      body: {
        ra: 'default',
        serial: parseCertificate(certPem).serialNumberHex,
        user: 'myusername',
        secret: SECRET,
      },
    });
    expect(revoked.status, revoked.text).toBe(200);
    const refused = await renew();
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'ERR_CA_REVOKED' });
  });

  it("renews for Python's ssl and http.client (OpenSSL's client, not ours) presenting the holder's certificate", async () => {
    const first = await opensslCsr({ subject: '/CN=py.example.com' });
    const issued = await https(`${server.url}/v1/certificates`, {
      ca: server.caPem,
      body: { ra: 'default', csr: first.csrPem, user: 'myusername', secret: SECRET },
    });
    expect(issued.status, issued.text).toBe(201);
    await writeFile(join(dir, 'py.crt'), issued.json()['certificate'] as string);
    await writeFile(join(dir, 'py.key'), first.keyPem);
    const next = await opensslCsr({ subject: '/CN=py.example.com' });
    await writeFile(join(dir, 'py.json'), JSON.stringify({ ra: 'default', csr: next.csrPem }));
    const script = [
      'import http.client, json, ssl, sys',
      'd = sys.argv[1]',
      "ctx = ssl.create_default_context(cafile=d + '/ca.crt')",
      "ctx.load_cert_chain(d + '/py.crt', d + '/py.key')",
      "c = http.client.HTTPSConnection('127.0.0.1', int(sys.argv[2]), context=ctx)",
      "c.request('POST', '/v1/renew', open(d + '/py.json').read(), {'content-type': 'application/json'})",
      'r = c.getresponse()',
      "print(r.status, json.loads(r.read())['certificate'].splitlines()[0])",
    ].join('\n');
    const { stdout } = await run('python3', ['-c', script, dir, String(server.port)]);
    expect(stdout.trim()).toBe('201 -----BEGIN CERTIFICATE-----');
    const [rec] = await server.ca.store.audit({ limit: 1 });
    expect(rec).toMatchObject({
      endpoint: 'renew',
      auth_method: 'mtls',
      requester: 'CN=py.example.com',
    });
  });

  it('serves /v1/ca, /health and Prometheus /metrics', async () => {
    expect((await https(`${server.url}/health`, { ca: server.caPem })).json()).toEqual({
      status: 'ok',
    });
    const ca = (await https(`${server.url}/v1/ca`, { ca: server.caPem })).json();
    expect(JSON.stringify(ca)).toContain('BEGIN CERTIFICATE');
    const metrics = await curl([`${server.url}/metrics`]);
    expect(metrics.body).toMatch(
      /^certified_ca_requests_succeeded_total\{endpoint="sign",ra="default"\} 3$/m,
    );
    expect(metrics.body).toMatch(
      /^certified_ca_requests_failed_total\{endpoint="renew",ra="default",code="ERR_CA_REVOKED"\} 1$/m,
    );
  });
});

describe('CA files', () => {
  it('writes the CA key 0600 and never replaces an existing CA', async () => {
    expect((await stat(join(dir, 'ca.key'))).mode & 0o777).toBe(0o600);
    const before = await readFile(join(dir, 'ca.key'), 'utf8');
    const e = await rejected(initCaFiles(dir, 'Other'));
    expect(e.code).toBe('EEXIST');
    expect(await readFile(join(dir, 'ca.key'), 'utf8')).toBe(before);
  });

  it('refuses a CA key file others can read with ERR_CA_CONFIG_INVALID', async () => {
    const other = await caDir();
    await chmod(join(other, 'ca.key'), 0o644);
    const e = await rejected(loadCaFile(join(other, 'ca.yaml')));
    expect(e.code).toBe('ERR_CA_CONFIG_INVALID');
    expect(e.message).toContain('chmod 600');
  });

  it('refuses a broken config with ERR_CA_CONFIG_INVALID naming the key', async () => {
    const other = await caDir();
    await writeFile(join(other, 'bad.yaml'), 'signing_ca: { main: { cert_path: ca.crt } }\n');
    const e = await rejected(loadCaFile(join(other, 'bad.yaml')));
    expect(e.code).toBe('ERR_CA_CONFIG_INVALID');
    expect(e.field).toBe('signing_ca.main.key_path');
  });
});
