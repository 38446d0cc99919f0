/**
 * CRLs in path validation (`PathValidatorOptions.crls`): parsing, what revokes, and what makes a CRL
 * unusable (which refuses the path: fail closed). CRLs here are built with the DER writer and signed
 * with Ed25519; test/interop/openssl.test.ts checks CRLs made by `openssl ca -gencrl`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, requireOpenssl } from '../../test/openssl.js';
import { encodePem } from '../encoding/pem.js';
import {
  bitString,
  bool,
  explicit,
  int,
  octets,
  oid,
  seq,
  tlv,
  time,
  TAG,
} from '../internal/der.js';
import { OID } from '../internal/oids.js';
import { generateKeyPair } from '../keys/keys.js';
import {
  createSelfSignedCa,
  issueCaCertificate,
  issueEndEntityCertificate,
  type Issuer,
} from '../x509/build-certificate.js';
import type { Certificate } from '../x509/certificate.js';
import { decodeCrl, parseCrl } from '../x509/crl.js';
import { dnsName } from '../x509/general-name.js';
import { encodeName, personName, signingName } from '../x509/name.js';
import { createPathValidator, validatePath } from './validate-path.js';
import type { ValidatePathResult } from './types.js';

const NOW = new Date('2030-06-01T00:00:00Z');
const DAY = 86_400_000;
const ED25519 = seq(oid('1.3.101.112'));

interface CrlSpec {
  issuer: Issuer;
  revoked?: readonly Certificate[];
  thisUpdate?: Date;
  nextUpdate?: Date | null;
  crlNumber?: 'ok' | 'critical' | 'absent';
  /** The AKI's keyIdentifier; default the issuer's SKI; null for none. */
  keyId?: Uint8Array | null;
  extraExtensions?: Uint8Array[];
  /** Signs with this key instead of the issuer's. */
  signer?: CryptoKey;
}

const ext = (id: string, value: Uint8Array, critical = false): Uint8Array =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/** A v2 CRL over `spec`, DER. */
async function makeCrl(spec: CrlSpec): Promise<Uint8Array> {
  const { issuer } = spec;
  const thisUpdate = spec.thisUpdate ?? new Date(NOW.getTime() - DAY);
  const nextUpdate =
    spec.nextUpdate === undefined ? new Date(NOW.getTime() + 7 * DAY) : spec.nextUpdate;
  const keyId = spec.keyId === undefined ? issuer.certificate.subjectKeyIdentifier! : spec.keyId;
  const extensions = [
    ...(keyId ? [ext(OID.authorityKeyIdentifier, seq(tlv(0x80, keyId)))] : []),
    ...(spec.crlNumber === 'absent'
      ? []
      : [ext('2.5.29.20', int(7), spec.crlNumber === 'critical')]),
    ...(spec.extraExtensions ?? []),
  ];
  const revoked = (spec.revoked ?? []).map((c) =>
    seq(tlv(TAG.INTEGER, c.serialNumber), time(thisUpdate)),
  );
  const tbs = seq(
    int(1),
    ED25519,
    encodeName(issuer.certificate.subject),
    time(thisUpdate),
    ...(nextUpdate ? [time(nextUpdate)] : []),
    ...(revoked.length ? [seq(...revoked)] : []),
    ...(extensions.length ? [explicit(0, seq(...extensions))] : []),
  );
  const sig = new Uint8Array(
    await crypto.subtle.sign(
      'Ed25519',
      spec.signer ?? issuer.privateKey,
      tbs as Uint8Array<ArrayBuffer>,
    ),
  );
  return seq(tbs, ED25519, bitString(sig));
}

let root: Issuer;
let mid: Issuer;
let leaf: Certificate;
let other: Certificate;

beforeAll(async () => {
  const rootKeys = await generateKeyPair();
  const rootCert = await createSelfSignedCa({
    subject: signingName(personName({ commonName: 'CRL Root' })),
    keyPair: rootKeys,
    pathLength: 1,
    notBefore: new Date('2029-01-01T00:00:00Z'),
    notAfter: new Date('2039-01-01T00:00:00Z'),
  });
  root = { certificate: rootCert, privateKey: rootKeys.privateKey };
  const midKeys = await generateKeyPair();
  mid = {
    certificate: await issueCaCertificate({
      issuer: root,
      subject: personName({ commonName: 'CRL Mid' }),
      publicKey: midKeys.publicKey,
      now: new Date('2029-06-01T00:00:00Z'),
    }),
    privateKey: midKeys.privateKey,
  };
  const endEntity = async (name: string) =>
    issueEndEntityCertificate({
      issuer: mid,
      subject: personName({ commonName: name }),
      publicKey: (await generateKeyPair()).publicKey,
      altNames: [dnsName(`${name}.example`)],
      now: new Date('2030-01-01T00:00:00Z'),
    });
  leaf = await endEntity('leaf');
  other = await endEntity('other');
});

const validate = async (crls: Uint8Array[], peer = leaf, time = NOW): Promise<ValidatePathResult> =>
  validatePath({
    anchors: [root.certificate],
    peer,
    chain: [mid.certificate],
    purpose: 'any',
    time,
    crls,
  });

function refused(r: ValidatePathResult, code: string, certIndex: number): string {
  if (r.ok) throw new Error(`expected ${code}, got a path`);
  expect(r.code, r.message).toBe(code);
  expect(r.certIndex).toBe(certIndex);
  return r.message;
}

describe('parseCrl', () => {
  it('reads a CRL from DER and PEM: issuer, times, revoked serials, extensions', async () => {
    const der = await makeCrl({ issuer: mid, revoked: [leaf] });
    for (const crl of [decodeCrl(der), parseCrl(encodePem('X509 CRL', der))]) {
      expect(crl.version).toBe(2);
      expect(crl.issuerDer).toEqual(mid.certificate.subjectDer);
      expect(crl.nextUpdate?.getTime()).toBe(NOW.getTime() + 7 * DAY);
      expect(crl.revoked.map((r) => r.serialNumberHex)).toEqual([leaf.serialNumberHex]);
      expect(crl.extensions.map((e) => e.oid)).toEqual([OID.authorityKeyIdentifier, '2.5.29.20']);
    }
  });

  it('refuses what is not a CRL with ERR_CRL_MALFORMED or a DER code', async () => {
    const der = await makeCrl({ issuer: mid });
    expect(() => decodeCrl(der.subarray(0, der.length - 3))).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^ERR_(CRL_MALFORMED|DER_)/) }),
    );
    expect(() => decodeCrl(leaf.der)).toThrow(
      expect.objectContaining({ code: 'ERR_CRL_MALFORMED' }),
    );
    expect(() => parseCrl(encodePem('CERTIFICATE', leaf.der))).toThrow(
      expect.objectContaining({ code: 'ERR_PEM_LABEL_MISMATCH' }),
    );
  });

  it('makes an unreadable CRL a configuration error of the validator', () => {
    expect(() =>
      createPathValidator({ anchors: [root.certificate], crls: [new Uint8Array([0x30, 0x00])] }),
    ).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_/) }));
  });
});

describe('revocation', () => {
  it('accepts a path whose CRLs list other certificates', async () => {
    const r = await validate([
      await makeCrl({ issuer: mid, revoked: [other] }),
      await makeCrl({ issuer: root }),
    ]);
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
  });

  it('refuses the peer its issuer revoked, with the serial and date', async () => {
    const msg = refused(
      await validate([await makeCrl({ issuer: mid, revoked: [other, leaf] })]),
      'ERR_CHAIN_REVOKED',
      0,
    );
    expect(msg).toContain(`serial ${leaf.serialNumberHex}`);
  });

  it('refuses an intermediate the root revoked (certificate 1)', async () => {
    refused(
      await validate([await makeCrl({ issuer: root, revoked: [mid.certificate] })]),
      'ERR_CHAIN_REVOKED',
      1,
    );
  });

  it("ignores a CRL with the peer's serial from another issuer", async () => {
    // The root's CRL names the leaf's serial, but the root did not issue the leaf.
    const r = await validate([await makeCrl({ issuer: root, revoked: [leaf] })]);
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
  });

  it('refuses, fail closed, when the issuer’s CRL cannot be relied on', async () => {
    const stranger = await generateKeyPair();
    const cases: [string, CrlSpec, RegExp][] = [
      ['forged', { issuer: mid, signer: stranger.privateKey }, /signature does not verify/],
      ['stale', { issuer: mid, nextUpdate: new Date(NOW.getTime() - 1000) }, /out of date/],
      ['future', { issuer: mid, thisUpdate: new Date(NOW.getTime() + DAY) }, /not yet valid/],
      ['no nextUpdate', { issuer: mid, nextUpdate: null }, /no nextUpdate/],
      ['no crlNumber', { issuer: mid, crlNumber: 'absent' }, /no crlNumber/],
      [
        'critical crlNumber',
        { issuer: mid, crlNumber: 'critical' },
        /crlNumber extension is critical/,
      ],
      [
        'delta',
        { issuer: mid, extraExtensions: [ext('2.5.29.27', int(6), true)] },
        /delta CRL, which is not supported/,
      ],
      [
        'unknown critical',
        { issuer: mid, extraExtensions: [ext('1.2.3.4', int(1), true)] },
        /unrecognised critical extension 1\.2\.3\.4/,
      ],
    ];
    for (const [what, spec, why] of cases) {
      const msg = refused(await validate([await makeCrl(spec)]), 'ERR_CHAIN_CRL_INVALID', 0);
      expect(msg, what).toMatch(why);
    }
  });

  it("skips a CRL signed by another key of the issuer's name (its AKI says so)", async () => {
    const rolled = await generateKeyPair();
    const crl = await makeCrl({
      issuer: mid,
      revoked: [leaf],
      keyId: new Uint8Array(20).fill(7),
      signer: rolled.privateKey,
    });
    const r = await validate([crl]);
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
  });

  it('does not remember an answer past the nextUpdate of the CRLs it was checked against', async () => {
    const nextUpdate = new Date(NOW.getTime() + DAY);
    const v = createPathValidator({
      anchors: [root.certificate],
      crls: [await makeCrl({ issuer: mid, nextUpdate })],
    });
    const at = (t: Date) =>
      v.validate({ peer: leaf, chain: [mid.certificate], purpose: 'any', time: t });
    const first = await at(NOW);
    expect(first.ok).toBe(true);
    const again = await at(new Date(NOW.getTime() + 1000));
    expect(again.ok && again.cached).toBe(true);
    if (again.ok) expect(again.validUntil.getTime()).toBe(nextUpdate.getTime());
    refused(await at(new Date(nextUpdate.getTime() + 1000)), 'ERR_CHAIN_CRL_INVALID', 0);
  });

  it('counts a CRL signature check in the work, once per CRL and issuer', async () => {
    const v = createPathValidator({
      anchors: [root.certificate],
      crls: [await makeCrl({ issuer: mid })],
    });
    // DER, not the parsed objects: those remember their verified links from earlier tests.
    const input = { chain: [mid.certificate.der], purpose: 'any' as const, time: NOW };
    const a = await v.validate({ ...input, peer: leaf.der.slice() });
    const b = await v.validate({ ...input, peer: other.der.slice() });
    if (!a.ok || !b.ok) throw new Error('expected paths');
    expect(a.work.signatureChecks).toBe(3); // leaf, mid, the CRL
    expect(b.work.signatureChecks).toBe(1); // other: mid's link and the CRL's verdict are remembered
  });
});

describe('CRLs made by `openssl ca -gencrl`', () => {
  const have = requireOpenssl('the openssl CRL interop tests');
  let dir = '';
  const at = (f: string) => join(dir, f);
  const ossl = (...args: string[]) =>
    execFileSync('openssl', args, {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  beforeAll(() => {
    if (!have) return;
    dir = mkdtempSync(join(tmpdir(), 'crl-openssl-'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    ossl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=OpenSSL CRL CA',
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    writeFileSync(
      at('leaf.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:$ENV::HOST\n',
    );
    for (const [name, serial] of [
      ['revoked', '0x1001'],
      ['kept', '0x1002'],
    ] as const) {
      ossl(
        'req',
        '-new',
        ...ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${name}.example`,
      );
      execFileSync(
        'openssl',
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-set_serial',
          serial,
          '-days',
          '10',
          '-extfile',
          'leaf.ext',
          '-out',
          `${name}.crt`,
        ],
        { cwd: dir, stdio: 'ignore', env: { ...process.env, HOST: `${name}.example` } },
      );
    }
    writeFileSync(at('index.txt'), '');
    writeFileSync(at('crlnumber'), '1000\n');
    writeFileSync(
      at('ca.cnf'),
      [
        '[ca]',
        'default_ca = d',
        '[d]',
        `database = ${at('index.txt')}`,
        `crlnumber = ${at('crlnumber')}`,
        'default_md = sha256',
        'default_crl_days = 7',
        'crl_extensions = crl_ext',
        '[crl_ext]',
        'authorityKeyIdentifier = keyid:always',
        '',
      ].join('\n'),
    );
    const ca = ['-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt'];
    ossl('ca', ...ca, '-revoke', 'revoked.crt');
    ossl('ca', ...ca, '-gencrl', '-out', 'crl.pem');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!have)(
    'refuses the certificate OpenSSL revoked and accepts the other, as openssl verify -crl_check does',
    async () => {
      const crl = parseCrl(readFileSync(at('crl.pem'), 'utf8'));
      expect(crl.revoked.map((r) => r.serialNumberHex)).toEqual(['1001']);
      const check = (name: string) =>
        validatePath({
          anchors: [readFileSync(at('ca.crt'), 'utf8')],
          peer: readFileSync(at(`${name}.crt`), 'utf8'),
          purpose: 'serverAuth',
          peerName: `${name}.example`,
          crls: [readFileSync(at('crl.pem'), 'utf8')],
        });
      refused(await check('revoked'), 'ERR_CHAIN_REVOKED', 0);
      const kept = await check('kept');
      expect(kept.ok, kept.ok ? '' : kept.message).toBe(true);
      // OpenSSL's own verdicts, for the same files.
      const verify = (name: string) =>
        spawnSync(
          'openssl',
          ['verify', '-crl_check', '-CAfile', 'ca.crt', '-CRLfile', 'crl.pem', `${name}.crt`],
          { cwd: dir, encoding: 'utf8' },
        );
      expect(verify('revoked').stdout + verify('revoked').stderr).toMatch(/certificate revoked/);
      expect(verify('kept').status).toBe(0);
    },
  );
});
