/**
 * @module test/integration/differential-finds.test — chains the differential test
 * (packages/core/test/differential.test.ts) found our validator accepting, tried as attacks at a real
 * handshake: a PKI made by the real `openssl`, our `createMtlsServer` judging clients, real curl as
 * the clients, on 127.0.0.1.
 *
 * - A CA whose nameConstraints permit only sub.example.com signs a client certificate without SANs
 *   whose commonName is www.example.com: an application reading the commonName would take the
 *   client for a host the CA may not vouch for. Refused (ERR_CHAIN_NAME_CONSTRAINTS).
 * - A client under an intermediate CA without keyUsage (RFC 5280 §4.2.1.3 requires one of a CA).
 *   Refused (ERR_CHAIN_PROFILE).
 * - A client presenting a CA certificate without keyUsage, issued by a trusted root: the same rule
 *   for the peer itself. Refused (ERR_CHAIN_PROFILE); with a keyUsage, RFC 5280 lets it in.
 *
 * The well-formed clients beside them are served, and `openssl verify -x509_strict` agrees with
 * every verdict.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createPathValidator, parseCertificates } from '@certified/core';
import { createMtlsServer, type ConnectionEvent, type MtlsServer } from '@certified/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curlStatus, opensslWorkspace } from '@certified/testing/openssl-pki';
import { skipWithout } from '@certified/testing/tools';

const skip = skipWithout(['curl', 'openssl'], 'differential-finds integration tests');

const { dir, at, openssl, remove } = opensslWorkspace('certified-finds-');
afterAll(remove);

const ids = ['subjectKeyIdentifier = hash'];
const caExt = ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign', ...ids];
const clientExt = [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = clientAuth',
  ...ids,
];

/** A P-256 key and a certificate for `name` (`/CN=…` or `/O=…`): self-signed, or issued by `ca`. */
function issue(name: string, subject: string, extensions: string[], ca?: string): void {
  openssl(
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    `${name}.key`,
  );
  openssl('req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`);
  const aki = ca ? ['authorityKeyIdentifier = keyid'] : [];
  writeFileSync(at(`${name}.ext`), [...extensions, ...aki].join('\n'));
  const signer = ca ? ['-CA', `${ca}.crt`, '-CAkey', `${ca}.key`] : ['-signkey', `${name}.key`];
  openssl(
    ...['x509', '-req', '-in', `${name}.csr`, ...signer, '-days', '2', '-sha256'],
    ...['-set_serial', `0x${Math.floor(Math.random() * 2 ** 40).toString(16)}`],
    ...['-extfile', `${name}.ext`, '-out', `${name}.crt`],
  );
}

/** curl presenting `name`'s certificate, then its intermediate when it has one. */
function curl(url: string, name: string): Promise<string> {
  const files = { cacert: at('server-ca.crt'), cert: at(`${name}.pem`), key: at(`${name}.key`) };
  return curlStatus(url, files);
}

/** `openssl verify -x509_strict -purpose sslclient` of `name`, with `untrusted` intermediates. */
function opensslAccepts(name: string, untrusted?: string): boolean {
  const args = ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', 'anchors.pem'];
  if (untrusted) args.push('-untrusted', `${untrusted}.crt`);
  return spawnSync('openssl', [...args, `${name}.crt`], { cwd: dir }).status === 0;
}

let server: MtlsServer | undefined;
const events: ConnectionEvent[] = [];
const refusalOf = (subject: string) =>
  events.find((e) => e.type === 'refused' && e.subject === subject);

beforeAll(async () => {
  if (skip) return;
  issue('server-ca', '/CN=Server CA', caExt);
  issue(
    'server',
    '/CN=server',
    [
      ...clientExt.slice(0, 2),
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1',
      ...ids,
    ],
    'server-ca',
  );
  // Clients' CAs: one name-constrained, one whose intermediate lacks keyUsage.
  issue('constrained', '/O=Constrained CA', [
    ...caExt,
    'nameConstraints = critical, permitted;DNS:sub.example.com',
  ]);
  issue('outside', '/CN=www.example.com', clientExt, 'constrained');
  issue('inside', '/CN=api.sub.example.com', clientExt, 'constrained');
  issue('root', '/O=Second Root', caExt);
  issue(
    'no-ku-ca',
    '/O=No KU Intermediate',
    ['basicConstraints = critical, CA:TRUE', ...ids],
    'root',
  );
  issue('ku-ca', '/O=Intermediate', caExt, 'root');
  issue('under-no-ku', '/CN=under no-KU CA', clientExt, 'no-ku-ca');
  issue('under-ku', '/CN=under KU CA', clientExt, 'ku-ca');
  const caClient = [
    'basicConstraints = critical, CA:TRUE',
    'extendedKeyUsage = clientAuth',
    ...ids,
  ];
  issue('ca-client-no-ku', '/CN=CA as client, no KU', caClient, 'root');
  issue(
    'ca-client',
    '/CN=CA as client',
    [...caClient, 'keyUsage = critical, digitalSignature, keyCertSign'],
    'root',
  );
  // What curl presents: the client, then its intermediate when it has one.
  for (const [name, ca] of [
    ['outside'],
    ['inside'],
    ['under-no-ku', 'no-ku-ca'],
    ['under-ku', 'ku-ca'],
    ['ca-client-no-ku'],
    ['ca-client'],
  ])
    writeFileSync(
      at(`${name}.pem`),
      readFileSync(at(`${name}.crt`), 'utf8') + (ca ? readFileSync(at(`${ca}.crt`), 'utf8') : ''),
    );
  const anchors = ['constrained.crt', 'root.crt'].map((f) => readFileSync(at(f), 'utf8'));
  writeFileSync(at('anchors.pem'), anchors.join(''));

  server = await createMtlsServer({
    url: 'https://127.0.0.1:0',
    key: readFileSync(at('server.key'), 'utf8'),
    certificates: parseCertificates(readFileSync(at('server.crt'), 'utf8')).map((c) => c.der),
    validator: createPathValidator({ anchors }),
    fetch: () => new Response('ok'),
    onConnection: (e) => events.push(e),
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe.skipIf(skip)('what the differential test found, tried at a real handshake', () => {
  it('refuses a SAN-less client whose commonName is outside its CA’s name constraints', async () => {
    expect(await curl(server!.url, 'inside')).toBe('200');
    expect(await curl(server!.url, 'outside')).toBe('000');
    expect(refusalOf('CN=www.example.com'), JSON.stringify(events)).toMatchObject({
      code: 'ERR_CHAIN_NAME_CONSTRAINTS',
    });
    expect(opensslAccepts('inside')).toBe(true);
    expect(opensslAccepts('outside')).toBe(false);
  });

  it('refuses a client under an intermediate CA without keyUsage', async () => {
    expect(await curl(server!.url, 'under-ku')).toBe('200');
    expect(await curl(server!.url, 'under-no-ku')).toBe('000');
    expect(refusalOf('CN=under no-KU CA'), JSON.stringify(events)).toMatchObject({
      code: 'ERR_CHAIN_PROFILE',
    });
    expect(opensslAccepts('under-ku', 'ku-ca')).toBe(true);
    expect(opensslAccepts('under-no-ku', 'no-ku-ca')).toBe(false);
  });

  it('refuses a client presenting a CA certificate without keyUsage', async () => {
    expect(await curl(server!.url, 'ca-client')).toBe('200');
    expect(await curl(server!.url, 'ca-client-no-ku')).toBe('000');
    expect(refusalOf('CN=CA as client\\, no KU'), JSON.stringify(events)).toMatchObject({
      code: 'ERR_CHAIN_PROFILE',
      message: expect.stringMatching(/CA without a keyUsage/),
    });
    expect(opensslAccepts('ca-client')).toBe(true);
    expect(opensslAccepts('ca-client-no-ku')).toBe(false);
  });
});
