import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../internal/bytes.js';
import { bitString, int, octets, oid, seq } from '../internal/der.js';
import { OID } from '../internal/oids.js';
import { generateKeyPair } from '../keys/keys.js';
import { parsePublicKeyInfo } from '../keys/public-key-info.js';
import { createCsr } from '../csr/csr.js';
import {
  createSelfSignedCa,
  identifierExtensions,
  issueEndEntityCertificate,
  leafExtensions,
  signTbs,
} from './build-certificate.js';
import { fingerprint, type Certificate } from './certificate.js';
import { dnsName, emailAddress, ipAddress, uriName } from './general-name.js';
import { encodeName, organizationName, personName, signingName } from './name.js';
import { formatCertificateText, inspectCertificate, inspectCsr } from './inspect.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const DAY = 86_400_000;
const at = (ms: number): Date => new Date(NOW.getTime() + ms);
const UNKNOWN = '1.3.6.1.4.1.55555.1.2';

let ca: Certificate;
let leaf: Certificate;
let caKeys: CryptoKeyPair;
let leafKeys: CryptoKeyPair;

beforeAll(async () => {
  caKeys = await generateKeyPair({ algorithm: 'P-384' });
  ca = await createSelfSignedCa({
    subject: signingName(organizationName({ organization: 'Example', country: 'US' })),
    keyPair: caKeys,
    pathLength: 1,
    notBefore: NOW,
    notAfter: at(3650 * DAY),
  });
  leafKeys = await generateKeyPair({ algorithm: 'P-256' });
  leaf = await issueEndEntityCertificate({
    issuer: { certificate: ca, privateKey: caKeys.privateKey },
    subject: personName({ commonName: 'Ada Lovelace', country: 'GB' }),
    publicKey: leafKeys.publicKey,
    altNames: [
      dnsName('ada.example'),
      ipAddress('10.0.0.1'),
      emailAddress('ada@example.org'),
      uriName('https://ada.example/'),
    ],
    notBefore: NOW,
    notAfter: at(90 * DAY),
  });
});

/** A leaf with extra extensions, signed by the CA without OpenSSL. */
async function leafWith(
  extra: { oid: string; critical: boolean; value: Uint8Array }[],
): Promise<Certificate> {
  const publicKey = parsePublicKeyInfo(
    new Uint8Array(await crypto.subtle.exportKey('spki', leafKeys.publicKey)),
  );
  const subject = personName({ commonName: 'Extra' });
  return signTbs(
    {
      issuerName: ca.subjectDer,
      subjectName: encodeName(subject),
      publicKey,
      validity: { notBefore: NOW, notAfter: at(DAY) },
      extensions: [...leafExtensions(publicKey, ca, subject, {}), ...extra],
    },
    caKeys.privateKey,
    {},
  );
}

describe('inspectCertificate', () => {
  it('shows names, SANs, validity, key, EKUs and fingerprints', () => {
    const v = inspectCertificate(leaf);
    expect(v.kind).toBe('certificate');
    expect(v.version).toBe(3);
    expect(v.serialNumber).toBe(toHex(leaf.serialNumber, ':'));
    expect(v.subject).toBe('C=GB,CN=Ada Lovelace');
    expect(v.issuer).toBe('pseudonym=Signing Certificate,C=US,O=Example');
    expect(v.selfIssued).toBe(false);
    expect(v.validity).toEqual({
      notBefore: '2030-01-01T00:00:00.000Z',
      notAfter: '2030-04-01T00:00:00.000Z',
      days: 90,
    });
    expect(v.publicKey.algorithm).toBe('P-256');
    expect(v.publicKey.bits).toBe(256);
    expect(v.publicKey.spkiSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(v.signatureAlgorithm).toBe('ecdsa-with-SHA384');
    expect(v.isCa).toBe(false);
    expect(v.pathLength).toBeUndefined();
    expect(v.subjectAltNames).toEqual([
      'DNS:ada.example',
      'IP Address:10.0.0.1',
      'email:ada@example.org',
      'URI:https://ada.example/',
    ]);
    expect(v.keyUsage).toEqual(['digitalSignature']);
    expect(v.extendedKeyUsage).toEqual(['serverAuth', 'clientAuth']);
    expect(v.subjectKeyIdentifier).toBe(toHex(leaf.subjectKeyIdentifier!, ':'));
    expect(v.authorityKeyIdentifier).toBe(toHex(ca.subjectKeyIdentifier!, ':'));
    expect(v.fingerprints.sha256).toBe(fingerprint(leaf));
    expect(v.extensions.map((e) => [e.name, e.critical])).toEqual([
      ['basicConstraints', true],
      ['keyUsage', true],
      ['extKeyUsage', false],
      ['subjectKeyIdentifier', false],
      ['authorityKeyIdentifier', false],
      ['subjectAltName', false],
    ]);
    expect(v.extensions.find((e) => e.name === 'extKeyUsage')!.value).toEqual([
      'serverAuth',
      'clientAuth',
    ]);
    expect(v.extensions.find((e) => e.name === 'authorityKeyIdentifier')!.value).toEqual({
      keyIdentifier: v.authorityKeyIdentifier,
    });
    // the view is plain JSON
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });

  it('shows a CA with its pathLength as self-issued', () => {
    const v = inspectCertificate(ca);
    expect(v.isCa).toBe(true);
    expect(v.pathLength).toBe(1);
    expect(v.selfIssued).toBe(true);
    expect(v.publicKey).toMatchObject({ algorithm: 'P-384', bits: 384 });
    expect(v.subjectAltNames).toEqual([]);
    expect(v.extendedKeyUsage).toEqual([]);
    expect(v.authorityKeyIdentifier).toBeUndefined();
    expect(v.extensions.find((e) => e.name === 'basicConstraints')!.value).toEqual({
      ca: true,
      pathLength: 1,
    });
  });

  it('shows an unknown extension as { der: hex }', async () => {
    const value = seq(oid('1.2.3'), octets(new Uint8Array([1, 2, 3])));
    const cert = await leafWith([{ oid: UNKNOWN, critical: false, value }]);
    const v = inspectCertificate(cert);
    const e = v.extensions.find((x) => x.oid === UNKNOWN)!;
    expect(e).toEqual({
      oid: UNKNOWN,
      name: UNKNOWN,
      critical: false,
      value: { der: toHex(value) },
    });
  });

  it('shows an unknown extension that is not DER as { der: hex }', async () => {
    const cert = await leafWith([
      { oid: UNKNOWN, critical: true, value: new Uint8Array([0xff, 0x00]) },
    ]);
    const e = inspectCertificate(cert).extensions.find((x) => x.oid === UNKNOWN)!;
    expect(e).toEqual({ oid: UNKNOWN, name: UNKNOWN, critical: true, value: { der: 'ff00' } });
  });

  it('decodes structures PKI.js knows, such as certificatePolicies', async () => {
    const anyPolicy = '2.5.29.32.0';
    const cert = await leafWith([
      { oid: OID.certificatePolicies, critical: false, value: seq(seq(oid(anyPolicy))) },
    ]);
    const e = inspectCertificate(cert).extensions.find((x) => x.oid === OID.certificatePolicies)!;
    expect(e.name).toBe('certificatePolicies');
    expect(JSON.stringify(e.value)).toContain(anyPolicy);
    expect(e.value).not.toHaveProperty('der');
  });

  it('shows a known extension PKI.js cannot decode as { der: hex }', async () => {
    const value = seq(int(7)); // certificatePolicies must be a SEQUENCE OF PolicyInformation
    const cert = await leafWith([{ oid: OID.certificatePolicies, critical: false, value }]);
    const e = inspectCertificate(cert).extensions.find((x) => x.oid === OID.certificatePolicies)!;
    expect(e.value).toEqual({ der: toHex(value) });
  });

  it('shows an unknown public key algorithm by its OID', async () => {
    const publicKey = parsePublicKeyInfo(
      seq(seq(oid('1.2.3.4.5')), bitString(new Uint8Array([1, 2, 3]))),
    );
    const subject = personName({ commonName: 'Odd key' });
    const cert = await signTbs(
      {
        issuerName: ca.subjectDer,
        subjectName: encodeName(subject),
        publicKey,
        validity: { notBefore: NOW, notAfter: at(DAY) },
        extensions: identifierExtensions(publicKey, ca, subject, undefined),
      },
      caKeys.privateKey,
      {},
    );
    expect(inspectCertificate(cert).publicKey).toMatchObject({ algorithm: '1.2.3.4.5', bits: 0 });
    expect(formatCertificateText(cert, { now: NOW })).toMatch(/^ {2}Key: +1\.2\.3\.4\.5$/m);
  });
});

describe('inspectCsr', () => {
  it('shows subject, key, requested SANs/EKUs/CA and attributes', async () => {
    const csr = await createCsr({
      subject: personName({ commonName: 'Ada' }),
      keyPair: leafKeys,
      altNames: [dnsName('ada.example')],
      extendedKeyUsages: ['clientAuth'],
      ca: { pathLength: 0 },
      extensions: [{ oid: UNKNOWN, critical: false, value: new Uint8Array([0x05, 0x00]) }],
    });
    const v = inspectCsr(csr);
    expect(v.kind).toBe('csr');
    expect(v.subject).toBe('CN=Ada');
    expect(v.publicKey.algorithm).toBe('P-256');
    expect(v.signatureAlgorithm).toBe('ecdsa-with-SHA256');
    expect(v.requestsCa).toBe(true);
    expect(v.subjectAltNames).toEqual(['DNS:ada.example']);
    expect(v.extendedKeyUsage).toEqual(['clientAuth']);
    expect(v.attributes).toEqual(['extensionRequest']);
    expect(v.fingerprints.sha256).toBe(fingerprint(csr.der));
    expect(v.extensions.find((e) => e.oid === UNKNOWN)!.value).toEqual({ der: '0500' });
    expect(v.extensions.find((e) => e.name === 'basicConstraints')!.value).toEqual({
      ca: true,
      pathLength: 0,
    });
  });
});

describe('formatCertificateText', () => {
  it('lists the key lines of an end-entity certificate', () => {
    const text = formatCertificateText(leaf, { now: at(30 * DAY) });
    const lines = text.split('\n');
    expect(lines[0]).toBe('End-entity certificate');
    expect(text).toMatch(/^ {2}Subject: +C=GB,CN=Ada Lovelace$/m);
    expect(text).toMatch(/^ {2}Issuer: +pseudonym=Signing Certificate,C=US,O=Example$/m);
    expect(text).toMatch(
      /^ {2}Valid: +2030-01-01T00:00:00\.000Z → 2030-04-01T00:00:00\.000Z \(valid; expires in 60 days\)$/m,
    );
    expect(text).toMatch(/^ {2}Key: +P-256 \(256 bits\)$/m);
    expect(text).toMatch(/^ {2}Signature: +ecdsa-with-SHA384$/m);
    expect(text).toMatch(
      /^ {2}Alt names: +DNS:ada\.example, IP Address:10\.0\.0\.1, email:ada@example\.org, URI:https:\/\/ada\.example\/$/m,
    );
    expect(text).toMatch(/^ {2}Key usage: +digitalSignature$/m);
    expect(text).toMatch(/^ {2}Ext\. key usage: +serverAuth, clientAuth$/m);
    expect(text).toContain(`SHA-256:`);
    expect(text).toContain(fingerprint(leaf));
    expect(text.endsWith('\n')).toBe(true);
  });

  it('says EXPIRED and NOT YET VALID relative to now', () => {
    expect(formatCertificateText(leaf, { now: at(100 * DAY) })).toContain(
      '(EXPIRED; expired 10 days ago)',
    );
    expect(formatCertificateText(leaf, { now: at(-DAY) })).toContain(
      '(NOT YET VALID; expires in 91 days)',
    );
    expect(formatCertificateText(leaf, { now: at(90 * DAY - 1000) })).toContain(
      '(valid; expires today)',
    );
  });

  it('titles a CA with its pathLen', () => {
    expect(formatCertificateText(ca, { now: NOW }).split('\n')[0]).toBe(
      'CA certificate (pathLen 1), self-issued',
    );
  });

  it('shows an empty subject as (empty)', async () => {
    const cert = await issueEndEntityCertificate({
      issuer: { certificate: ca, privateKey: caKeys.privateKey },
      subject: [],
      publicKey: leafKeys.publicKey,
      altNames: [dnsName('only-san.example')],
      now: NOW,
    });
    expect(formatCertificateText(cert, { now: NOW })).toMatch(/^ {2}Subject: +\(empty\)$/m);
  });

  it('formats a request', async () => {
    const csr = await createCsr({
      subject: personName({ commonName: 'Ada' }),
      keyPair: leafKeys,
      altNames: [dnsName('ada.example')],
      ca: {},
    });
    const text = formatCertificateText(csr);
    expect(text.split('\n')[0]).toBe('Certificate request (for a CA)');
    expect(text).toMatch(/^ {2}Subject: +CN=Ada$/m);
    expect(text).toMatch(/^ {2}Key: +P-256$/m);
    expect(text).toMatch(/^ {2}Alt names: +DNS:ada\.example$/m);
  });
});
