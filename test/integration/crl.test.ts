/**
 * @module test/integration/crl.test — CRLs at a real handshake: a PKI made by the real `openssl`
 * (`req -x509`, `x509 -req`, `ca -revoke`, `ca -gencrl`), our `createMtlsServer` judging clients with
 * a validator given that CRL, and real curl as the clients, on 127.0.0.1. The revoked client is
 * refused at the handshake (ERR_CHAIN_REVOKED); the other is served; OpenSSL's own verify agrees.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createPathValidator, parseCertificates, parseCrl } from '@certified/core';
import { createMtlsServer, type ConnectionEvent, type MtlsServer } from '@certified/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curlStatus, opensslWorkspace } from '@certified/testing/openssl-pki';
import { skipWithout } from '@certified/testing/tools';

const skip = skipWithout(['curl', 'openssl'], 'CRL integration tests');

const { dir, at, openssl, remove } = opensslWorkspace('certified-crl-');
afterAll(remove);

/** A P-256 certificate for `cn` under the test CA, with `extensions` (openssl x509 -extfile lines). */
function issue(cn: string, serial: string, extensions: string[]): void {
  openssl(
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    `${cn}.key`,
  );
  openssl('req', '-new', '-key', `${cn}.key`, '-subj', `/CN=${cn}`, '-out', `${cn}.csr`);
  writeFileSync(at(`${cn}.ext`), [...extensions, 'authorityKeyIdentifier = keyid'].join('\n'));
  openssl(
    ...['x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key'],
    ...[
      '-set_serial',
      serial,
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${cn}.ext`,
      '-out',
      `${cn}.crt`,
    ],
  );
}

/** curl with `cn`'s certificate; resolves with the HTTP status ('000' when the connection failed). */
function curl(url: string, cn: string): Promise<string> {
  return curlStatus(url, { cacert: at('ca.crt'), cert: at(`${cn}.crt`), key: at(`${cn}.key`) });
}

const client = ['basicConstraints = CA:FALSE', 'keyUsage = critical, digitalSignature'];
let server: MtlsServer | undefined;
const events: ConnectionEvent[] = [];

beforeAll(async () => {
  if (skip) return;
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key');
  openssl(
    ...[
      'req',
      '-x509',
      '-key',
      'ca.key',
      '-subj',
      '/CN=CRL Test CA',
      '-days',
      '30',
      '-out',
      'ca.crt',
    ],
    ...['-addext', 'basicConstraints = critical, CA:TRUE'],
    ...['-addext', 'keyUsage = critical, keyCertSign, cRLSign'],
  );
  issue('server', '0x2001', [
    ...client,
    'extendedKeyUsage = serverAuth',
    'subjectAltName = IP:127.0.0.1',
  ]);
  issue('kept', '0x2002', [...client, 'extendedKeyUsage = clientAuth']);
  issue('revoked', '0x2003', [...client, 'extendedKeyUsage = clientAuth']);
  writeFileSync(at('index.txt'), '');
  writeFileSync(at('crlnumber'), '01\n');
  writeFileSync(
    at('ca.cnf'),
    ['[ca]', 'default_ca = d', '[d]', `database = ${at('index.txt')}`]
      .concat([`crlnumber = ${at('crlnumber')}`, 'default_md = sha256', 'default_crl_days = 7'])
      .concat(['crl_extensions = x', '[x]', 'authorityKeyIdentifier = keyid:always', ''])
      .join('\n'),
  );
  const ca = ['-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt'];
  openssl('ca', ...ca, '-revoke', 'revoked.crt');
  openssl('ca', ...ca, '-gencrl', '-out', 'crl.pem');

  server = await createMtlsServer({
    url: 'https://127.0.0.1:0',
    key: readFileSync(at('server.key'), 'utf8'),
    certificates: parseCertificates(readFileSync(at('server.crt'), 'utf8')).map((c) => c.der),
    validator: createPathValidator({
      anchors: [readFileSync(at('ca.crt'), 'utf8')],
      crls: [readFileSync(at('crl.pem'), 'utf8')],
    }),
    fetch: () => new Response('ok'),
    onConnection: (e) => events.push(e),
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe.skipIf(skip)('a CRL made by openssl ca, at the handshake of createMtlsServer', () => {
  it('refuses the revoked client with ERR_CHAIN_REVOKED and serves the other', async () => {
    expect(
      parseCrl(readFileSync(at('crl.pem'), 'utf8')).revoked.map((r) => r.serialNumberHex),
    ).toEqual(['2003']);
    expect(await curl(server!.url, 'kept')).toBe('200');
    expect(await curl(server!.url, 'revoked')).toBe('000');
    const refused = events.find((e) => e.type === 'refused');
    expect(refused, JSON.stringify(events)).toMatchObject({
      type: 'refused',
      code: 'ERR_CHAIN_REVOKED',
      subject: 'CN=revoked',
    });
    expect(events.filter((e) => e.type === 'accepted')).toHaveLength(1);
  });

  it("agrees with openssl verify -crl_check's own verdicts", () => {
    const verify = (cn: string) =>
      spawnSync(
        'openssl',
        ['verify', '-crl_check', '-CAfile', 'ca.crt', '-CRLfile', 'crl.pem', `${cn}.crt`],
        { cwd: dir, encoding: 'utf8' },
      );
    expect(verify('kept').status).toBe(0);
    const revoked = verify('revoked');
    expect(revoked.status).not.toBe(0);
    expect(revoked.stdout + revoked.stderr).toMatch(/certificate revoked/);
  });
});
