/**
 * Anchor's nine validators through the real form API, each with one request it passes and one it
 * refuses, on CSRs made by `openssl req` (P-256, Ed25519, RSA-2048).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, verifyCertificateSignature } from '@certified/core';
import { opensslCsr, type CsrAlgorithm } from '@certified/testing/openssl-csr';
import { createTestCa, SECRET, type TestCa } from '../../test/fixture.js';
import type { CaEnv } from '../app.js';

interface Case {
  readonly validator: string;
  readonly options: Record<string, unknown>;
  readonly pass: Req;
  readonly refuse: Req & { readonly value: string };
}
interface Req {
  readonly subject: string;
  readonly addext?: string[];
  readonly algorithm?: CsrAlgorithm;
  readonly user?: string;
  readonly source?: string;
}

const CASES: Case[] = [
  {
    validator: 'common_name',
    options: { allowed_domains: ['.example.com'], allowed_networks: ['10.0.0.0/8'] },
    pass: { subject: '/CN=web.example.com', algorithm: 'P-256' },
    refuse: { subject: '/CN=web.example.net', value: 'web.example.net' },
  },
  {
    validator: 'alternative_names',
    options: { allowed_domains: ['.example.com'] },
    pass: {
      subject: '/CN=a',
      addext: ['subjectAltName=DNS:a.example.com,DNS:b.example.com'],
      algorithm: 'Ed25519',
    },
    refuse: {
      subject: '/CN=a',
      addext: ['subjectAltName=DNS:a.example.com,DNS:evil.example.org'],
      value: 'evil.example.org',
    },
  },
  {
    validator: 'alternative_names_ip',
    options: {
      allowed_domains: ['.example.com'],
      allowed_networks: ['10.0.0.0/8', '2001:db8::/32'],
    },
    pass: {
      subject: '/CN=a',
      addext: ['subjectAltName=DNS:a.example.com,IP:10.1.2.3,IP:2001:db8::1'],
      algorithm: 'RSA-2048',
    },
    refuse: { subject: '/CN=a', addext: ['subjectAltName=IP:192.168.1.1'], value: '192.168.1.1' },
  },
  {
    validator: 'blacklist_names',
    options: { domains: ['.internal.example.com', 'admin.example.com'] },
    pass: { subject: '/CN=www.example.com', addext: ['subjectAltName=DNS:www.example.com'] },
    refuse: {
      subject: '/CN=www.example.com',
      addext: ['subjectAltName=DNS:db.internal.example.com'],
      value: 'db.internal.example.com',
    },
  },
  {
    validator: 'server_group',
    options: { group_prefixes: { nv: 'nova', gl: 'glance' } },
    pass: { subject: '/CN=nv-compute1.example.com', user: 'ops' },
    refuse: {
      subject: '/CN=nv-compute1.example.com',
      user: 'dev',
      value: 'nv-compute1.example.com',
    },
  },
  {
    validator: 'extensions',
    options: { allowed_extensions: ['subjectAltName', 'keyUsage', 'basicConstraints'] },
    pass: { subject: '/CN=x', addext: ['subjectAltName=DNS:x.example.com'], algorithm: 'Ed25519' },
    refuse: {
      subject: '/CN=x',
      addext: ['subjectAltName=DNS:x.example.com', 'nsComment=hello'],
      value: '2.16.840.1.113730.1.13',
    },
  },
  {
    validator: 'key_usage',
    options: { allowed_usage: ['Digital Signature', 'keyAgreement'] },
    pass: { subject: '/CN=x', addext: ['keyUsage=critical,digitalSignature'] },
    refuse: {
      subject: '/CN=x',
      addext: ['keyUsage=critical,digitalSignature,keyEncipherment'],
      algorithm: 'RSA-2048',
      value: 'keyEncipherment',
    },
  },
  {
    validator: 'ca_status',
    options: { ca_requested: false },
    pass: { subject: '/CN=x', addext: ['basicConstraints=critical,CA:FALSE'] },
    refuse: { subject: '/CN=x', addext: ['basicConstraints=critical,CA:TRUE'], value: 'CA:TRUE' },
  },
  {
    validator: 'source_cidrs',
    options: { cidrs: ['127.0.0.0/8', '::1/128'] },
    pass: { subject: '/CN=x', source: '127.0.0.1' },
    refuse: { subject: '/CN=x', source: '192.0.2.7', value: '192.0.2.7' },
  },
];

let t: TestCa;
beforeAll(async () => {
  t = await createTestCa({
    registration_authority: Object.fromEntries(
      CASES.map((c) => [
        c.validator,
        { signing_ca: 'main', authentication: 'ops', validators: { [c.validator]: c.options } },
      ]),
    ),
  });
}, 60_000);
afterAll(() => t.close());

async function send(ra: string, r: Req): Promise<Response> {
  const { csrPem } = await opensslCsr({
    subject: r.subject,
    ...(r.addext ? { addext: r.addext } : {}),
    ...(r.algorithm ? { algorithm: r.algorithm } : {}),
  });
  const env: CaEnv = { remoteAddress: r.source ?? '127.0.0.1' };
  return t.sign(ra, { user: r.user ?? 'ops', secret: SECRET, encoding: 'pem', csr: csrPem }, env);
}

describe.each(CASES)('validator $validator', (c) => {
  it('passes a request within its rule and issues a 24 h certificate', async () => {
    const res = await send(c.validator, c.pass);
    expect(res.status, await res.clone().text()).toBe(200);
    const cert = parseCertificate(await res.text());
    await verifyCertificateSignature(cert, t.caCert);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(24 * 3600_000 + 60_000);
    const [rec] = await t.ca.store.audit({ ra: c.validator, limit: 1 });
    expect(rec?.decision).toBe('issued');
    expect(rec?.serial).toBe(cert.serialNumberHex);
  });

  it('refuses a request outside its rule with ERR_CA_VALIDATION_FAILED naming it and the value', async () => {
    const res = await send(c.validator, c.refuse);
    const body = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(400);
    expect(body['code']).toBe('ERR_CA_VALIDATION_FAILED');
    expect(body['validator']).toBe(c.validator);
    expect(body['value']).toBe(c.refuse.value);
    expect(body['message']).toMatch(new RegExp(`^${c.validator}: `));
    const [rec] = await t.ca.store.audit({ ra: c.validator, limit: 1 });
    expect(rec).toMatchObject({
      decision: 'refused',
      code: 'ERR_CA_VALIDATION_FAILED',
      serial: null,
    });
  });
});
