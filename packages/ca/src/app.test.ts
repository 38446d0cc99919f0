/**
 * The HTTP API end to end through `app.request`: authentication (static, JWT), bad input (each a coded
 * 4xx, nothing issued, audited), fixups, passive revocation, renewal with the current certificate,
 * no_store, /v1/ca, /health and /metrics.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair as joseKeyPair, SignJWT } from 'jose';
import {
  createSelfSignedCa,
  toBase64Der,
  generateKeyPair,
  organizationName,
  parseCertificate,
  decodePem,
} from '@certified/core';
import { opensslCsr } from '@certified/testing/openssl-csr';
import { createTestCa, SECRET, type TestCa } from '../test/fixture.js';
import { createCaApp } from './app.js';

let t: TestCa;
let jwtKey: CryptoKey;
// The CA's clock: the real time unless a test moves it.
let clock: Date | undefined;

// An identity provider's JWKS endpoint on 127.0.0.1, for `jwks_url`.
let idp: Server | undefined;
let jwksFetches = 0;

beforeAll(async () => {
  const pair = await joseKeyPair('ES256');
  jwtKey = pair.privateKey;
  const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] };
  idp = createServer((_req, res) => {
    jwksFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((r) => idp!.listen(0, '127.0.0.1', r));
  const idpPort = (idp.address() as AddressInfo).port;
  t = await createTestCa(
    {
      authentication: {
        certs: { backend: 'mtls' },
        remote: {
          backend: 'jwt',
          jwks_url: `http://127.0.0.1:${idpPort}/jwks.json`,
          issuer: 'https://idp.test',
          audience: 'certified-ca',
        },
        idp: {
          backend: 'jwt',
          jwks_file: 'jwks.json',
          issuer: 'https://idp.test',
          audience: 'certified-ca',
        },
      },
      registration_authority: {
        jwt: {
          signing_ca: 'main',
          authentication: 'idp',
          validators: { server_group: { group_prefixes: { nv: 'nova' } } },
        },
        fixed: {
          signing_ca: 'main',
          authentication: 'ops',
          valid_hours: 2,
          profile: { extended_key_usages: ['clientAuth'] },
          fixups: { enforce_alternative_names: {}, drop_extensions: {}, profile_ekus: {} },
        },
        holders: { signing_ca: 'main', authentication: 'certs' },
        remote: { signing_ca: 'main', authentication: 'remote' },
        strict: {
          signing_ca: 'main',
          authentication: 'ops',
          profile: { extended_key_usages: ['clientAuth'] },
        },
      },
    },
    { 'jwks.json': JSON.stringify(jwks) },
    () => clock ?? new Date(),
  );
}, 60_000); // PGlite runs initdb at start: seconds on a loaded machine
afterAll(async () => {
  await t?.close();
  await new Promise((r) => idp?.close(r));
});

const csr = async (subject = '/CN=web.example.com', addext: string[] = []) =>
  (await opensslCsr({ subject, addext })).csrPem;
const form = (csrPem: string, o: Record<string, string> = {}) => ({
  user: 'ops',
  secret: SECRET,
  encoding: 'pem',
  csr: csrPem,
  ...o,
});
const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

async function refusals(): Promise<number> {
  return (await t.ca.store.audit({ limit: 1000 })).filter((r) => r.decision === 'refused').length;
}
async function issued(): Promise<number> {
  return (await t.ca.store.audit({ limit: 1000 })).filter((r) => r.decision === 'issued').length;
}

describe('bad input: a coded 4xx, nothing issued, audited', () => {
  const cases: [string, () => Promise<Response>, number, string][] = [
    [
      'wrong secret',
      async () => t.sign('default', form(await csr(), { secret: 'nope' })),
      401,
      'ERR_CA_AUTH_FAILED',
    ],
    [
      'unknown user',
      async () => t.sign('default', form(await csr(), { user: 'eve' })),
      401,
      'ERR_CA_AUTH_FAILED',
    ],
    [
      'no credentials',
      async () => t.sign('default', { encoding: 'pem', csr: await csr() }),
      401,
      'ERR_CA_AUTH_REQUIRED',
    ],
    ['unknown RA', async () => t.sign('nope', form(await csr())), 404, 'ERR_CA_RA_UNKNOWN'],
    [
      'malformed CSR',
      async () =>
        t.sign(
          'default',
          form('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'),
        ),
      400,
      'ERR_CA_CSR_MALFORMED',
    ],
    [
      'no csr field',
      async () => t.sign('default', { user: 'ops', secret: SECRET }),
      400,
      'ERR_CA_REQUEST_INVALID',
    ],
    [
      'unsupported encoding',
      async () => t.sign('default', form(await csr(), { encoding: 'der' })),
      400,
      'ERR_CA_REQUEST_INVALID',
    ],
    [
      'oversized body',
      async () => t.sign('default', form(await csr(), { pad: 'x'.repeat(20_000) })),
      413,
      'ERR_CA_BODY_TOO_LARGE',
    ],
    [
      // Anchor's sign endpoint takes form fields: JSON must not read as "no csr field".
      'JSON sent to the form endpoint',
      async () => t.post('/v1/sign/default', { ...form(await csr()) }),
      400,
      'ERR_CA_REQUEST_INVALID',
    ],
    [
      'JSON that is not an object',
      () => t.post('/v1/certificates', '[1,2'),
      400,
      'ERR_CA_REQUEST_INVALID',
    ],
    [
      'CA:true where the profile forbids it',
      async () =>
        t.sign('default', form(await csr('/CN=x', ['basicConstraints=critical,CA:TRUE']))),
      400,
      'ERR_CA_ISSUE_FAILED',
    ],
    [
      'EKU the profile does not allow',
      async () => t.sign('strict', form(await csr('/CN=x', ['extendedKeyUsage=codeSigning']))),
      400,
      'ERR_CA_ISSUE_FAILED',
    ],
  ];
  it('says the sign endpoint takes form fields when sent JSON', async () => {
    const body = await json(await t.post('/v1/sign/default', { ...form(await csr()) }));
    expect(body['message']).toBe(
      'The body must be form fields (application/x-www-form-urlencoded or multipart/form-data); it was sent as application/json.',
    );
  });
  it.each(cases)('%s', async (_name, send, status, code) => {
    const [before, beforeIssued] = [await refusals(), await issued()];
    const res = await send();
    const body = await json(res);
    expect(body['code']).toBe(code);
    expect(res.status).toBe(status);
    expect(typeof body['message']).toBe('string');
    expect(await refusals()).toBe(before + 1);
    expect(await issued()).toBe(beforeIssued);
    const [rec] = await t.ca.store.audit({ limit: 1 });
    expect(rec).toMatchObject({
      decision: 'refused',
      code,
      source: '127.0.0.1',
      certificate: null,
    });
  });

  it('refuses a CSR whose signature was altered (proof of possession) with ERR_CA_CSR_SIGNATURE', async () => {
    const pem = await csr();
    const der = new Uint8Array(decodePem(pem, { label: 'CERTIFICATE REQUEST' }).der);
    der[der.length - 5]! ^= 0x01;
    const res = await t.sign('default', form(toBase64Der(der)));
    expect((await json(res))['code']).toBe('ERR_CA_CSR_SIGNATURE');
    expect(res.status).toBe(400);
  });
});

describe('jwt authentication', () => {
  const token = (o: { aud?: string; groups?: string[] } = {}) =>
    new SignJWT({ groups: o.groups ?? ['nova'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('https://idp.test')
      .setAudience(o.aud ?? 'certified-ca')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(jwtKey);

  it('issues for a valid bearer token, with the token’s groups feeding server_group', async () => {
    const res = await t.post(
      '/v1/certificates',
      { ra: 'jwt', csr: await csr('/CN=nv-1.example.com') },
      undefined,
      {
        authorization: `Bearer ${await token()}`,
      },
    );
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(parseCertificate(body['certificate'] as string).subject).toBeDefined();
    expect(body['chain']).toEqual([t.caPem]);
    const [rec] = await t.ca.store.audit({ ra: 'jwt', limit: 1 });
    expect(rec).toMatchObject({ auth_method: 'jwt', requester: 'alice', decision: 'issued' });
  });

  it('verifies against a JWKS URL (fetched from the identity provider)', async () => {
    const res = await t.post('/v1/certificates', { ra: 'remote', csr: await csr() }, undefined, {
      authorization: `Bearer ${await token()}`,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(jwksFetches).toBeGreaterThan(0);
    const forged = await t.post('/v1/certificates', { ra: 'remote', csr: await csr() }, undefined, {
      authorization: `Bearer ${(await token()).slice(0, -4)}AAAA`,
    });
    expect((await json(forged))['code']).toBe('ERR_CA_AUTH_FAILED');
  });

  it('refuses a token for another audience with ERR_CA_AUTH_FAILED', async () => {
    const res = await t.post('/v1/certificates', { ra: 'jwt', csr: await csr() }, undefined, {
      authorization: `Bearer ${await token({ aud: 'other' })}`,
    });
    expect((await json(res))['code']).toBe('ERR_CA_AUTH_FAILED');
    expect(res.status).toBe(401);
  });

  it('refuses a user outside the group server_group asks for', async () => {
    const res = await t.post(
      '/v1/certificates',
      { ra: 'jwt', csr: await csr('/CN=nv-1.example.com') },
      undefined,
      {
        authorization: `Bearer ${await token({ groups: ['glance'] })}`,
      },
    );
    expect(await json(res)).toMatchObject({
      code: 'ERR_CA_VALIDATION_FAILED',
      validator: 'server_group',
    });
  });
});

describe('fixups', () => {
  it('add the CN as a SAN, drop EKUs the profile forbids and grant the profile’s, for valid_hours', async () => {
    const pem = await csr('/CN=app.example.com', [
      'extendedKeyUsage=codeSigning,clientAuth',
      'nsComment=x',
    ]);
    const res = await t.sign('fixed', form(pem));
    expect(res.status, await res.clone().text()).toBe(200);
    const cert = parseCertificate(await res.text());
    expect(cert.subjectAltNames).toEqual([{ type: 'dns', value: 'app.example.com' }]);
    expect(cert.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(2 * 3600_000 + 60_000);
    expect(cert.extensions.map((e) => e.oid)).not.toContain('2.16.840.1.113730.1.13');
  });
});

describe('passive revocation and renewal', () => {
  it('renews over mTLS with the current certificate; refuses after revoke until lifted', async () => {
    const first = await opensslCsr({ subject: '/CN=holder.example.com' });
    const res = await t.sign('default', form(first.csrPem));
    const cert = parseCertificate(await res.text());
    const env = { remoteAddress: '127.0.0.1', peerChain: [cert.der] };

    const renewed = await t.post(
      '/v1/renew',
      { ra: 'default', csr: await csr('/CN=holder.example.com') },
      env,
    );
    expect(renewed.status, await renewed.clone().text()).toBe(201);
    const [rec] = await t.ca.store.audit({ limit: 1 });
    expect(rec).toMatchObject({
      endpoint: 'renew',
      auth_method: 'mtls',
      requester: 'CN=holder.example.com',
    });

    const other = await t.post(
      '/v1/renew',
      { ra: 'default', csr: await csr('/CN=someone.example.com') },
      env,
    );
    expect((await json(other))['code']).toBe('ERR_CA_RENEW_MISMATCH');
    // Same subject, but a name the current certificate does not carry: not a renewal.
    const wider = await t.post(
      '/v1/renew',
      {
        ra: 'default',
        csr: await csr('/CN=holder.example.com', ['subjectAltName=DNS:other.example.com']),
      },
      env,
    );
    expect(await json(wider)).toMatchObject({
      code: 'ERR_CA_RENEW_MISMATCH',
      value: 'DNS:other.example.com',
    });

    const none = await t.post('/v1/renew', {
      ra: 'default',
      csr: await csr('/CN=holder.example.com'),
    });
    expect((await json(none))['code']).toBe('ERR_CA_AUTH_REQUIRED');

    const revoked = await t.post('/v1/revoke', {
      ra: 'default',
      serial: cert.serialNumberHex,
      reason: 'laptop lost',
      user: 'ops',
      secret: SECRET,
    });
    expect(revoked.status, await revoked.clone().text()).toBe(200);
    const ids = (await json(revoked))['revoked'] as number[];
    expect(ids).toHaveLength(2);

    const refused = await t.post(
      '/v1/renew',
      { ra: 'default', csr: await csr('/CN=holder.example.com') },
      env,
    );
    expect(refused.status).toBe(403);
    expect((await json(refused))['code']).toBe('ERR_CA_REVOKED');
    // The key is blocked too: re-issuing for it through the form API is refused.
    const again = await t.sign('default', form(first.csrPem));
    expect((await json(again))['code']).toBe('ERR_CA_REVOKED');

    for (const id of ids) {
      const lift = await t.post('/v1/revoke/lift', {
        ra: 'default',
        id,
        user: 'ops',
        secret: SECRET,
      });
      expect(lift.status, await lift.clone().text()).toBe(200);
    }
    const twice = await t.post('/v1/revoke/lift', {
      ra: 'default',
      id: ids[0],
      user: 'ops',
      secret: SECRET,
    });
    expect((await json(twice))['code']).toBe('ERR_CA_NOT_FOUND');
    const [rec2] = await t.ca.store.audit({ limit: 1 });
    expect(rec2).toMatchObject({ endpoint: 'lift', decision: 'refused', code: 'ERR_CA_NOT_FOUND' });
    const lifted = await t.post(
      '/v1/renew',
      { ra: 'default', csr: await csr('/CN=holder.example.com') },
      env,
    );
    expect(lifted.status).toBe(201);
  });

  it('revoking a subject blocks new certificates for it', async () => {
    const res = await t.post('/v1/revoke', {
      ra: 'default',
      subject: 'CN=gone.example.com',
      user: 'ops',
      secret: SECRET,
    });
    expect(res.status).toBe(200);
    const refused = await t.sign('default', form(await csr('/CN=gone.example.com')));
    expect(await json(refused)).toMatchObject({
      code: 'ERR_CA_REVOKED',
      value: 'CN=gone.example.com',
    });
  });

  it('refuses a revocation of an unknown serial with ERR_CA_NOT_FOUND, and one without credentials', async () => {
    const res = await t.post('/v1/revoke', {
      ra: 'default',
      serial: 'abcdef',
      user: 'ops',
      secret: SECRET,
    });
    expect((await json(res))['code']).toBe('ERR_CA_NOT_FOUND');
    const anon = await t.post('/v1/revoke', { ra: 'default', subject: 'CN=x' });
    expect((await json(anon))['code']).toBe('ERR_CA_AUTH_REQUIRED');
  });

  it('refuses renewal with a certificate from a foreign CA with ERR_CA_AUTH_FAILED', async () => {
    const keys = await generateKeyPair();
    const foreign = await createSelfSignedCa({
      subject: organizationName({ organization: 'Foreign' }),
      keyPair: keys,
    });
    const res = await t.post(
      '/v1/renew',
      { ra: 'default', csr: await csr() },
      { peerChain: [foreign.der] },
    );
    expect((await json(res))['code']).toBe('ERR_CA_AUTH_FAILED');
    expect(res.status).toBe(401);
  });
});

describe('no_store', () => {
  it('keeps the decision and serial but not the certificate', async () => {
    const n = await createTestCa({ store: { backend: 'pglite', no_store: true } });
    try {
      const res = await n.sign('default', form(await csr()));
      const cert = parseCertificate(await res.text());
      const rec = await n.ca.store.findBySerial(cert.serialNumberHex);
      expect(rec).toMatchObject({
        decision: 'issued',
        certificate: null,
        subject: 'CN=web.example.com',
      });
    } finally {
      await n.close();
    }
  }, 60_000);
});

describe('a store that is down', () => {
  it('answers 503 ERR_CA_STORE_FAILED and issues nothing; /health says unavailable', async () => {
    const down = await createTestCa();
    await down.close();
    const errors: unknown[] = [];
    const app = createCaApp(down.ca, { maxBodyBytes: 1024, onError: (e) => errors.push(e) });
    const env = { remoteAddress: '127.0.0.1' };
    const sign = await down.sign('default', form(await csr()));
    expect(sign.status).toBe(503);
    expect((await json(sign))['code']).toBe('ERR_CA_STORE_FAILED');
    const health = await app.request('/health');
    expect(health.status).toBe(503);
    expect(await json(health)).toEqual({ status: 'unavailable', code: 'ERR_CA_STORE_FAILED' });
    // Refusing an oversized body cannot be audited either: a coded 500, reported, no crash.
    const big = await app.request(
      '/v1/sign/default',
      { method: 'POST', body: new URLSearchParams({ csr: 'x'.repeat(4096) }) },
      env,
    );
    expect(big.status).toBe(500);
    expect((await json(big))['code']).toBe('ERR_CA_INTERNAL');
    expect(errors).toHaveLength(1);
  }, 60_000);
});

describe('unknown routes', () => {
  it('answer a coded JSON 404, and a POST to one is audited', async () => {
    const res = await t.app.request(
      '/v1/sign',
      { method: 'POST', body: 'x' },
      { remoteAddress: '127.0.0.1' },
    );
    expect(res.status).toBe(404);
    expect((await json(res))['code']).toBe('ERR_CA_ROUTE_UNKNOWN');
    const [rec] = await t.ca.store.audit({ limit: 1 });
    expect(rec).toMatchObject({
      endpoint: 'unknown',
      decision: 'refused',
      code: 'ERR_CA_ROUTE_UNKNOWN',
    });
    const get = await t.app.request('/v1/sign/default');
    expect((await json(get))['code']).toBe('ERR_CA_ROUTE_UNKNOWN');
  });
});

describe('GET endpoints', () => {
  it('/v1/ca lists each RA’s chain; /health answers ok', async () => {
    const ca = await json(await t.app.request('/v1/ca'));
    expect((ca['ras'] as Record<string, { chain: string[] }>)['default']!.chain).toEqual([t.caPem]);
    expect(await json(await t.app.request('/health'))).toEqual({ status: 'ok' });
  });

  it('/metrics counts requests per endpoint and RA, and issuance latency', async () => {
    const text = await (await t.app.request('/metrics')).text();
    expect(text).toMatch(
      /^certified_ca_requests_received_total\{endpoint="sign",ra="default"\} \d+$/m,
    );
    expect(text).toMatch(
      /^certified_ca_requests_failed_total\{endpoint="sign",ra="default",code="ERR_CA_AUTH_FAILED"\} 2$/m,
    );
    expect(text).toMatch(/^certified_ca_issuance_seconds_count\{ra="default"\} \d+$/m);
  });
});

describe('client certificates', () => {
  async function holder(cn: string) {
    const res = await t.sign('default', form(await csr(`/CN=${cn}`)));
    return parseCertificate(await res.text());
  }

  it('an mtls RA issues to a holder of a certificate from its CA, recording who', async () => {
    const cert = await holder('member.example.com');
    const env = { remoteAddress: '127.0.0.1', peerChain: [cert.der] };
    const res = await t.post(
      '/v1/certificates',
      { ra: 'holders', csr: await csr('/CN=svc.example.com') },
      env,
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const [rec] = await t.ca.store.audit({ ra: 'holders', limit: 1 });
    expect(rec).toMatchObject({
      auth_method: 'mtls',
      requester: 'CN=member.example.com',
      decision: 'issued',
    });
    const none = await t.post('/v1/certificates', { ra: 'holders', csr: await csr() });
    expect((await json(none))['code']).toBe('ERR_CA_AUTH_REQUIRED');
  });

  it('a certificate holder may revoke itself, not others, and may not lift', async () => {
    const cert = await holder('member2.example.com');
    const env = { remoteAddress: '127.0.0.1', peerChain: [cert.der] };
    const other = await t.post(
      '/v1/revoke',
      { ra: 'holders', subject: 'CN=victim.example.com' },
      env,
    );
    expect(other.status).toBe(403);
    expect(await json(other)).toMatchObject({
      code: 'ERR_CA_FORBIDDEN',
      value: 'CN=victim.example.com',
    });
    expect(await t.ca.store.revoked([{ kind: 'subject', value: 'CN=victim.example.com' }])).toBe(
      undefined,
    );
    const self = await t.post(
      '/v1/revoke',
      { ra: 'holders', subject: 'CN=member2.example.com', reason: 'key lost' },
      env,
    );
    expect(self.status, await self.clone().text()).toBe(200);
    const [id] = (await json(self))['revoked'] as number[];
    const lift = await t.post('/v1/revoke/lift', { ra: 'holders', id }, env);
    expect(lift.status).toBe(403);
    expect((await json(lift))['code']).toBe('ERR_CA_FORBIDDEN');
    const [rec] = await t.ca.store.audit({ ra: 'holders', limit: 1 });
    expect(rec).toMatchObject({ endpoint: 'lift', decision: 'refused', code: 'ERR_CA_FORBIDDEN' });
  });

  it('refuses renewal with an expired certificate with ERR_CA_AUTH_FAILED, audited', async () => {
    const cert = await holder('late.example.com');
    clock = new Date(cert.notAfter.getTime() + 3_600_000);
    try {
      const res = await t.post(
        '/v1/renew',
        { ra: 'default', csr: await csr('/CN=late.example.com') },
        { peerChain: [cert.der] },
      );
      expect(await json(res)).toMatchObject({
        code: 'ERR_CA_AUTH_FAILED',
        value: 'ERR_CHAIN_EXPIRED',
      });
      expect(res.status).toBe(401);
      const [rec] = await t.ca.store.audit({ limit: 1 });
      expect(rec).toMatchObject({
        endpoint: 'renew',
        decision: 'refused',
        code: 'ERR_CA_AUTH_FAILED',
      });
    } finally {
      clock = undefined;
    }
  });
});
