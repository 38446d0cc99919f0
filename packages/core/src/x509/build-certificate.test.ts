import { describe, expect, it } from 'vitest';
import { toHex } from '../internal/bytes.js';
import { bitString, oid, readRoot, seq } from '../internal/der.js';
import { OID } from '../internal/oids.js';
import { generateKeyPair } from '../keys/keys.js';
import { parsePublicKeyInfo, type SigningKeyAlgorithm } from '../keys/public-key-info.js';
import {
  createSelfSignedCa,
  DEFAULT_CA_LIFETIME_SECONDS,
  DEFAULT_LEAF_LIFETIME_SECONDS,
  issueCaCertificate,
  issueEndEntityCertificate,
  signTbs,
  type Issuer,
} from './build-certificate.js';
import { decodeCertificate, type Certificate } from './certificate.js';
import { basicConstraintsValue, keyUsageValue } from './extensions.js';
import { dnsName, emailAddress, ipAddress } from './general-name.js';
import {
  encodeName,
  organizationName,
  personName,
  SIGNING_PSEUDONYM,
  signingName,
} from './name.js';
import { verifyCertificateSignature } from './verify-certificate.js';
import { caCertificateFor } from '../../test/foreign-ca.js';
import { rejected } from '@certified/testing';

const NOW = new Date('2030-01-01T00:00:00Z');
const DAY = 86_400_000;
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

const ext = (c: Certificate, o: string) => c.extensions.find((e) => e.oid === o);
const sha256 = async (b: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', b.slice()));
const keyId = async (c: Certificate): Promise<string> =>
  toHex((await sha256(c.publicKey.publicKey)).subarray(0, 20));

interface Ca {
  keys: CryptoKeyPair;
  cert: Certificate;
  issuer: Issuer;
}

async function makeCa(
  algorithm: SigningKeyAlgorithm = 'Ed25519',
  pathLength?: number,
  extra: { notBefore?: Date; notAfter?: Date } = {},
): Promise<Ca> {
  const keys = await generateKeyPair({ algorithm });
  const cert = await createSelfSignedCa({
    subject: signingName(organizationName({ organization: `Root ${algorithm}` })),
    keyPair: keys,
    now: NOW,
    ...(pathLength === undefined ? {} : { pathLength }),
    ...extra,
  });
  return { keys, cert, issuer: { certificate: cert, privateKey: keys.privateKey } };
}

describe('createSelfSignedCa', () => {
  it('sets exactly basicConstraints, keyUsage and SKI, and no AKI', async () => {
    const { cert } = await makeCa('Ed25519', 1);
    expect(cert.version).toBe(3);
    expect(cert.extensions.map((e) => [e.oid, e.critical])).toEqual([
      [OID.basicConstraints, true],
      [OID.keyUsage, true],
      [OID.subjectKeyIdentifier, false],
    ]);
    expect(toHex(ext(cert, OID.basicConstraints)!.value)).toBe('30060101ff020101');
    expect(cert.basicConstraints).toEqual({ ca: true, pathLength: 1 });
    expect(toHex(ext(cert, OID.keyUsage)!.value)).toBe('03020186');
    expect(cert.keyUsage).toEqual(['digitalSignature', 'keyCertSign', 'cRLSign']);
    expect(toHex(cert.subjectKeyIdentifier!)).toBe(await keyId(cert));
    expect(cert.subjectKeyIdentifier).toHaveLength(20);
    expect(cert.authorityKeyIdentifier).toBeUndefined();
    expect(ext(cert, OID.authorityKeyIdentifier)).toBeUndefined();
    expect(cert.extKeyUsage).toBeUndefined();
    expect(cert.subjectAltNames).toBeUndefined();
  });

  it('defaults pathLength to 0 and lifetime to 10 years backdated by a minute', async () => {
    const { cert } = await makeCa('P-256');
    expect(cert.basicConstraints).toEqual({ ca: true, pathLength: 0 });
    expect(cert.notBefore.toISOString()).toBe(at(-60_000).toISOString());
    expect(cert.notAfter.toISOString()).toBe(at(DEFAULT_CA_LIFETIME_SECONDS * 1000).toISOString());
  });

  it('puts the signing pseudonym in the subject and issues to itself', async () => {
    const { cert } = await makeCa();
    const last = cert.subject[cert.subject.length - 1]!;
    expect(last).toEqual([expect.objectContaining({ type: '2.5.4.65', value: SIGNING_PSEUDONYM })]);
    expect(SIGNING_PSEUDONYM).toBe('Signing Certificate');
    expect(toHex(cert.issuerDer)).toBe(toHex(cert.subjectDer));
    expect(toHex(cert.subjectDer)).toBe(
      toHex(encodeName(signingName(organizationName({ organization: 'Root Ed25519' })))),
    );
  });

  it('adds non-critical subject alternative names when given', async () => {
    const keys = await generateKeyPair();
    const cert = await createSelfSignedCa({
      subject: organizationName({ organization: 'O' }),
      keyPair: keys,
      now: NOW,
      altNames: [dnsName('ca.example')],
    });
    expect(ext(cert, OID.subjectAltName)!.critical).toBe(false);
    expect(cert.subjectAltNames).toEqual([{ type: 'dns', value: 'ca.example' }]);
  });

  it('honours explicit notBefore / notAfter, truncated to whole seconds', async () => {
    const { cert } = await makeCa('Ed25519', 0, {
      notBefore: new Date('2030-01-01T00:00:00.900Z'),
      notAfter: new Date('2031-01-01T00:00:00.500Z'),
    });
    expect(cert.notBefore.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(cert.notAfter.toISOString()).toBe('2031-01-01T00:00:00.000Z');
  });

  it('verifies with its own key', async () => {
    for (const alg of ['Ed25519', 'P-256', 'P-384'] as const) {
      const { cert } = await makeCa(alg);
      await expect(verifyCertificateSignature(cert, cert)).resolves.toBeUndefined();
      await expect(verifyCertificateSignature(cert, cert.publicKey)).resolves.toBeUndefined();
    }
  });

  it('rejects an empty validity window with ERR_ISSUE_VALIDITY', async () => {
    const keys = await generateKeyPair();
    const e = await rejected(
      createSelfSignedCa({
        subject: organizationName({ organization: 'O' }),
        keyPair: keys,
        notBefore: NOW,
        notAfter: NOW,
      }),
    );
    expect(e.code).toBe('ERR_ISSUE_VALIDITY');
    expect(e.message).toContain('The validity window is empty');
  });

  it('rejects an RSA key pair with ERR_ALG_UNSUPPORTED', async () => {
    const rsa = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign', 'verify'],
    );
    const e = await rejected(
      createSelfSignedCa({
        subject: organizationName({ organization: 'O' }),
        keyPair: rsa,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('Signing with RSASSA-PKCS1-v1_5 keys is not supported');
  });

  it('refuses bad pathLength and lifetime values with RangeError', async () => {
    const keys = await generateKeyPair();
    const subject = organizationName({ organization: 'O' });
    await expect(createSelfSignedCa({ subject, keyPair: keys, pathLength: -1 })).rejects.toThrow(
      RangeError,
    );
    await expect(createSelfSignedCa({ subject, keyPair: keys, pathLength: 1.5 })).rejects.toThrow(
      RangeError,
    );
    await expect(
      createSelfSignedCa({ subject, keyPair: keys, lifetimeSeconds: 0 }),
    ).rejects.toThrow(RangeError);
  });
});

describe('issueCaCertificate', () => {
  const sub = organizationName({ organization: 'Sub' });

  it('clamps the requested pathLength below the parent’s (parent 2, ask 5 → 1)', async () => {
    const root = await makeCa('Ed25519', 2);
    const keys = await generateKeyPair({ algorithm: 'P-256' });
    const cert = await issueCaCertificate({
      issuer: root.issuer,
      subject: sub,
      publicKey: keys.publicKey,
      pathLength: 5,
      now: NOW,
    });
    expect(cert.basicConstraints).toEqual({ ca: true, pathLength: 1 });
    expect(ext(cert, OID.basicConstraints)!.critical).toBe(true);
    expect(cert.keyUsage).toEqual(['digitalSignature', 'keyCertSign', 'cRLSign']);
    expect(ext(cert, OID.keyUsage)!.critical).toBe(true);
    expect(toHex(cert.authorityKeyIdentifier!.keyIdentifier!)).toBe(
      toHex(root.cert.subjectKeyIdentifier!),
    );
    expect(toHex(cert.subjectKeyIdentifier!)).toBe(await keyId(cert));
    expect(toHex(cert.issuerDer)).toBe(toHex(root.cert.subjectDer));
    await verifyCertificateSignature(cert, root.cert);
  });

  it('keeps a smaller requested pathLength', async () => {
    const root = await makeCa('Ed25519', 3);
    const keys = await generateKeyPair();
    const cert = await issueCaCertificate({
      issuer: root.issuer,
      subject: sub,
      publicKey: keys.publicKey,
      pathLength: 0,
      now: NOW,
    });
    expect(cert.basicConstraints).toEqual({ ca: true, pathLength: 0 });
  });

  it('defaults pathLength to the parent’s minus one', async () => {
    const root = await makeCa('Ed25519', 2);
    const keys = await generateKeyPair();
    const cert = await issueCaCertificate({
      issuer: root.issuer,
      subject: sub,
      publicKey: keys.publicKey,
      now: NOW,
    });
    expect(cert.basicConstraints).toEqual({ ca: true, pathLength: 1 });
  });

  it('accepts the public key as SPKI DER or a parsed PublicKeyInfo', async () => {
    const root = await makeCa('Ed25519', 2);
    const keys = await generateKeyPair({ algorithm: 'P-384' });
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
    for (const publicKey of [spki, parsePublicKeyInfo(spki)]) {
      const cert = await issueCaCertificate({
        issuer: root.issuer,
        subject: sub,
        publicKey,
        now: NOW,
      });
      expect(toHex(cert.publicKey.spki)).toBe(toHex(spki));
    }
  });

  it('rejects a parent with pathLength 0 with ERR_ISSUE_PATHLEN_EXHAUSTED', async () => {
    const root = await makeCa('Ed25519', 0);
    const keys = await generateKeyPair();
    const e = await rejected(
      issueCaCertificate({
        issuer: root.issuer,
        subject: sub,
        publicKey: keys.publicKey,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_ISSUE_PATHLEN_EXHAUSTED');
    expect(e.message).toContain('pathLenConstraint 0');
  });

  it('rejects a subject equal to the issuer’s with ERR_NAME_VALUE_INVALID', async () => {
    const root = await makeCa('Ed25519', 2);
    const keys = await generateKeyPair();
    const e = await rejected(
      issueCaCertificate({
        issuer: root.issuer,
        subject: root.cert.subject,
        publicKey: keys.publicKey,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('must differ from the issuer');
  });

  it('clamps validity to the parent’s', async () => {
    const root = await makeCa('Ed25519', 2, { notBefore: NOW, notAfter: at(10 * DAY) });
    const keys = await generateKeyPair();
    const cert = await issueCaCertificate({
      issuer: root.issuer,
      subject: sub,
      publicKey: keys.publicKey,
      now: NOW,
    });
    expect(cert.notBefore.toISOString()).toBe(NOW.toISOString());
    expect(cert.notAfter.toISOString()).toBe(at(10 * DAY).toISOString());
  });
});

describe('issueEndEntityCertificate', () => {
  const subject = personName({ commonName: 'Ada' });
  const altNames = [dnsName('ada.example'), ipAddress('10.0.0.1'), emailAddress('ada@example.org')];

  it('sets CA:false, keyUsage digitalSignature, EKU serverAuth+clientAuth, SKI, AKI and SAN', async () => {
    const ca = await makeCa('P-256');
    const keys = await generateKeyPair({ algorithm: 'Ed25519' });
    const leaf = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject,
      publicKey: keys.publicKey,
      altNames,
      now: NOW,
    });
    expect(leaf.extensions.map((e) => [e.oid, e.critical])).toEqual([
      [OID.basicConstraints, true],
      [OID.keyUsage, true],
      [OID.extKeyUsage, false],
      [OID.subjectKeyIdentifier, false],
      [OID.authorityKeyIdentifier, false],
      [OID.subjectAltName, false],
    ]);
    expect(toHex(ext(leaf, OID.basicConstraints)!.value)).toBe('3000');
    expect(leaf.basicConstraints).toEqual({ ca: false });
    expect(toHex(ext(leaf, OID.keyUsage)!.value)).toBe('03020780');
    expect(leaf.keyUsage).toEqual(['digitalSignature']);
    expect(leaf.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leaf.subjectAltNames).toEqual([
      { type: 'dns', value: 'ada.example' },
      { type: 'ip', value: '10.0.0.1' },
      { type: 'email', value: 'ada@example.org' },
    ]);
    expect(toHex(leaf.authorityKeyIdentifier!.keyIdentifier!)).toBe(
      toHex(ca.cert.subjectKeyIdentifier!),
    );
    expect(leaf.authorityKeyIdentifier!.authorityCertIssuer).toBeUndefined();
    expect(toHex(leaf.subjectKeyIdentifier!)).toBe(await keyId(leaf));
    expect(toHex(leaf.issuerDer)).toBe(toHex(ca.cert.subjectDer));
    expect(toHex(leaf.subjectDer)).toBe(toHex(encodeName(subject)));
    expect(leaf.notBefore.toISOString()).toBe(at(-60_000).toISOString());
    expect(leaf.notAfter.toISOString()).toBe(
      at(DEFAULT_LEAF_LIFETIME_SECONDS * 1000).toISOString(),
    );
    await verifyCertificateSignature(leaf, ca.cert);
  });

  it('honours explicit key usages and extended key usages', async () => {
    const ca = await makeCa();
    const keys = await generateKeyPair();
    const leaf = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject,
      publicKey: keys.publicKey,
      keyUsages: ['digitalSignature', 'keyAgreement'],
      extendedKeyUsages: ['emailProtection', '1.2.3.4'],
      now: NOW,
    });
    expect(leaf.keyUsage).toEqual(['digitalSignature', 'keyAgreement']);
    expect(leaf.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.4', '1.2.3.4']);
    const none = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject,
      publicKey: keys.publicKey,
      extendedKeyUsages: [],
      now: NOW,
    });
    expect(none.extKeyUsage).toBeUndefined();
  });

  it('marks SAN critical when the subject is empty', async () => {
    const ca = await makeCa();
    const keys = await generateKeyPair();
    const leaf = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject: [],
      publicKey: keys.publicKey,
      altNames: [dnsName('x.example')],
      now: NOW,
    });
    expect(leaf.subject).toEqual([]);
    expect(toHex(leaf.subjectDer)).toBe('3000');
    expect(ext(leaf, OID.subjectAltName)!.critical).toBe(true);
  });

  it('rejects an empty subject without SAN with ERR_NAME_VALUE_INVALID', async () => {
    const ca = await makeCa();
    const keys = await generateKeyPair();
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: ca.issuer,
        subject: [],
        publicKey: keys.publicKey,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('empty subject must carry subject alternative names');
  });

  it('rejects an issuer that is not a CA with ERR_ISSUE_ISSUER_NOT_CA', async () => {
    const ca = await makeCa();
    const keys = await generateKeyPair();
    const leaf = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject,
      publicKey: keys.publicKey,
      now: NOW,
    });
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: { certificate: leaf, privateKey: keys.privateKey },
        subject: personName({ commonName: 'Bob' }),
        publicKey: keys.publicKey,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_ISSUE_ISSUER_NOT_CA');
    expect(e.message).toContain('not a CA');
  });

  it('rejects a CA without keyCertSign with ERR_ISSUE_ISSUER_NOT_CA', async () => {
    const keys = await generateKeyPair();
    const spki = parsePublicKeyInfo(
      new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey)),
    );
    const name = encodeName(organizationName({ organization: 'No Sign' }));
    const cert = await signTbs(
      {
        issuerName: name,
        subjectName: name,
        publicKey: spki,
        validity: { notBefore: NOW, notAfter: at(DAY) },
        extensions: [
          { oid: OID.basicConstraints, critical: true, value: basicConstraintsValue({ ca: true }) },
          { oid: OID.keyUsage, critical: true, value: keyUsageValue(['digitalSignature']) },
        ],
      },
      keys.privateKey,
      {},
    );
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: { certificate: cert, privateKey: keys.privateKey },
        subject,
        publicKey: keys.publicKey,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_ISSUE_ISSUER_NOT_CA');
    expect(e.message).toContain('keyCertSign');
  });

  it('rejects an issuer key of another type than its certificate with ERR_KEY_MISMATCH', async () => {
    const ca = await makeCa('Ed25519');
    const other = await generateKeyPair({ algorithm: 'P-256' });
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: { certificate: ca.cert, privateKey: other.privateKey },
        subject,
        publicKey: other.publicKey,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_KEY_MISMATCH');
    expect(e.message).toBe(
      "The issuer's private key is P-256 but its certificate holds a Ed25519 key.",
    );
  });

  it('rejects an RSA issuer with ERR_ALG_UNSUPPORTED', async () => {
    // An RSA CA certificate (signed by some Ed25519 key: only checkIssuer looks at it) and its RSA private key.
    const rsa = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign', 'verify'],
    );
    const rsaCa = await caCertificateFor(rsa.publicKey, 'RSA CA', {
      notBefore: NOW,
      notAfter: at(DAY),
    });
    expect(rsaCa.publicKey.algorithm).toBe('RSA');
    const keys = await generateKeyPair();
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: { certificate: rsaCa, privateKey: rsa.privateKey },
        subject,
        publicKey: keys.publicKey,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('not supported');
  });

  it('rejects a P-521 issuer with ERR_ALG_UNSUPPORTED', async () => {
    const p521 = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-521' }, false, [
      'sign',
      'verify',
    ]);
    const ca = await caCertificateFor(p521.publicKey, 'P-521 CA', {
      notBefore: NOW,
      notAfter: at(DAY),
    });
    const keys = await generateKeyPair();
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: { certificate: ca, privateKey: p521.privateKey },
        subject,
        publicKey: keys.publicKey,
        now: NOW,
      }),
    );
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toBe(
      'Signing with ECDSA P-521 keys is not supported; use Ed25519, P-256 or P-384.',
    );
  });

  it('clamps notAfter beyond the issuer’s to the issuer’s', async () => {
    const ca = await makeCa('Ed25519', 0, { notBefore: NOW, notAfter: at(30 * DAY) });
    const keys = await generateKeyPair();
    const leaf = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject,
      publicKey: keys.publicKey,
      now: at(DAY),
    });
    expect(leaf.notBefore.toISOString()).toBe(at(DAY - 60_000).toISOString());
    expect(leaf.notAfter.toISOString()).toBe(at(30 * DAY).toISOString());
    const explicit = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject,
      publicKey: keys.publicKey,
      notBefore: at(DAY),
      notAfter: at(400 * DAY),
      now: at(DAY),
    });
    expect(explicit.notAfter.toISOString()).toBe(at(30 * DAY).toISOString());
  });

  it('clamps notBefore before the issuer’s to the issuer’s', async () => {
    const ca = await makeCa('Ed25519', 0, { notBefore: NOW, notAfter: at(30 * DAY) });
    const keys = await generateKeyPair();
    const leaf = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject,
      publicKey: keys.publicKey,
      notBefore: at(-5 * DAY),
      notAfter: at(5 * DAY),
      now: NOW,
    });
    expect(leaf.notBefore.toISOString()).toBe(NOW.toISOString());
    expect(leaf.notAfter.toISOString()).toBe(at(5 * DAY).toISOString());
    // the default one-minute backdate is clamped too
    const dflt = await issueEndEntityCertificate({
      issuer: ca.issuer,
      subject,
      publicKey: keys.publicKey,
      now: NOW,
    });
    expect(dflt.notBefore.toISOString()).toBe(NOW.toISOString());
  });

  it('rejects issuance by an expired issuer with ERR_ISSUE_VALIDITY', async () => {
    const ca = await makeCa('Ed25519', 0, { notBefore: NOW, notAfter: at(30 * DAY) });
    const keys = await generateKeyPair();
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: ca.issuer,
        subject,
        publicKey: keys.publicKey,
        now: at(31 * DAY),
      }),
    );
    expect(e.code).toBe('ERR_ISSUE_VALIDITY');
    expect(e.message).toBe(
      `The issuer's certificate expired at ${at(30 * DAY).toISOString()}; it cannot issue.`,
    );
    expect(e.field).toBe('validity');
  });

  it('rejects issuance by an expired issuer with an explicit notAfter with ERR_ISSUE_VALIDITY', async () => {
    const ca = await makeCa('Ed25519', 0, { notBefore: NOW, notAfter: at(30 * DAY) });
    const keys = await generateKeyPair();
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: ca.issuer,
        subject,
        publicKey: keys.publicKey,
        now: at(31 * DAY),
        notAfter: at(60 * DAY),
      }),
    );
    expect(e.code).toBe('ERR_ISSUE_VALIDITY');
    expect(e.message).toContain('expired');
  });

  it('rejects a window entirely before the issuer’s with ERR_ISSUE_VALIDITY', async () => {
    const ca = await makeCa('Ed25519', 0, { notBefore: NOW, notAfter: at(30 * DAY) });
    const keys = await generateKeyPair();
    const e = await rejected(
      issueEndEntityCertificate({
        issuer: ca.issuer,
        subject,
        publicKey: keys.publicKey,
        notBefore: at(-10 * DAY),
        notAfter: at(-5 * DAY),
      }),
    );
    expect(e.code).toBe('ERR_ISSUE_VALIDITY');
    expect(e.message).toContain("after clamping to the issuer's");
  });

  it('issues positive, distinct serials of at most 20 octets', async () => {
    const ca = await makeCa();
    const keys = await generateKeyPair();
    const serials = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const leaf = await issueEndEntityCertificate({
        issuer: ca.issuer,
        subject,
        publicKey: keys.publicKey,
        now: NOW,
      });
      const s = leaf.serialNumber;
      expect(s.length).toBeGreaterThan(0);
      expect(s.length).toBeLessThanOrEqual(20);
      expect(s[0]! & 0x80).toBe(0);
      expect(s.some((b) => b !== 0)).toBe(true);
      expect(leaf.serialNumberHex).toBe(toHex(s));
      serials.add(leaf.serialNumberHex);
    }
    expect(serials.size).toBe(200);
  });

  it('picks the signature algorithm from the issuer key', async () => {
    const cases: [SigningKeyAlgorithm, SigningKeyAlgorithm, string][] = [
      ['Ed25519', 'P-256', '1.3.101.112'],
      ['P-256', 'Ed25519', '1.2.840.10045.4.3.2'],
      ['P-384', 'P-256', '1.2.840.10045.4.3.3'],
      ['P-256', 'P-384', '1.2.840.10045.4.3.2'],
    ];
    for (const [issuerAlg, leafAlg, sigOid] of cases) {
      const ca = await makeCa(issuerAlg);
      expect(ca.cert.signatureAlgorithm.oid).toBe(sigOid);
      const keys = await generateKeyPair({ algorithm: leafAlg });
      const leaf = await issueEndEntityCertificate({
        issuer: ca.issuer,
        subject,
        publicKey: keys.publicKey,
        now: NOW,
      });
      expect(leaf.publicKey.algorithm).toBe(leafAlg);
      expect(leaf.signatureAlgorithm.oid).toBe(sigOid);
      expect(leaf.tbsSignatureAlgorithm.oid).toBe(sigOid);
      // RFC 5758 / RFC 8410: no parameters
      expect(leaf.signatureAlgorithm.parameters).toBeUndefined();
      expect(toHex(leaf.signatureAlgorithm.der)).toBe(toHex(seq(oid(sigOid))));
      await verifyCertificateSignature(leaf, ca.cert);
    }
  });

  it('refuses a private key as the subject key with TypeError', async () => {
    const ca = await makeCa();
    const keys = await generateKeyPair();
    await expect(
      issueEndEntityCertificate({
        issuer: ca.issuer,
        subject,
        publicKey: keys.privateKey,
        now: NOW,
      }),
    ).rejects.toThrow(TypeError);
  });
});

describe('verifyCertificateSignature', () => {
  const subject = personName({ commonName: 'Ada' });

  async function leafOf(alg: SigningKeyAlgorithm): Promise<{ ca: Ca; leaf: Certificate }> {
    const ca = await makeCa(alg);
    const keys = await generateKeyPair();
    return {
      ca,
      leaf: await issueEndEntityCertificate({
        issuer: ca.issuer,
        subject,
        publicKey: keys.publicKey,
        now: NOW,
      }),
    };
  }

  it('rejects a tampered TBS with ERR_SIGNATURE_INVALID', async () => {
    for (const alg of ['Ed25519', 'P-256', 'P-384'] as const) {
      const { ca, leaf } = await leafOf(alg);
      const der = leaf.der.slice();
      // flip a bit in the 6th serial octet (outer header 4 + TBS header 4 + version 5 + serial header 2 = 15)
      expect(toHex(der.subarray(15, 31))).toBe(toHex(leaf.serialNumber));
      der[20]! ^= 0x01;
      const tampered = decodeCertificate(der);
      expect(toHex(tampered.serialNumber)).not.toBe(toHex(leaf.serialNumber));
      const e = await rejected(verifyCertificateSignature(tampered, ca.cert));
      expect(e.code).toBe('ERR_SIGNATURE_INVALID');
      expect(e.message).toBe('The certificate signature does not verify with the issuer key.');
    }
  });

  it('rejects a tampered signature with ERR_SIGNATURE_INVALID', async () => {
    for (const alg of ['Ed25519', 'P-256'] as const) {
      const { ca, leaf } = await leafOf(alg);
      const sig = leaf.signature.slice();
      sig[sig.length - 3]! ^= 0x40;
      const tampered = decodeCertificate(
        seq(leaf.tbs, leaf.signatureAlgorithm.der, bitString(sig)),
      );
      const e = await rejected(verifyCertificateSignature(tampered, ca.cert));
      expect(e.code).toBe('ERR_SIGNATURE_INVALID');
      expect(e.message).toContain('does not verify');
    }
  });

  it('rejects an ECDSA signature re-wrapped in a SET instead of a SEQUENCE with ERR_SIGNATURE_INVALID', async () => {
    const { ca, leaf } = await leafOf('P-256');
    const sig = leaf.signature.slice();
    expect(sig[0]).toBe(0x30);
    sig[0] = 0x31;
    const tampered = decodeCertificate(seq(leaf.tbs, leaf.signatureAlgorithm.der, bitString(sig)));
    const e = await rejected(verifyCertificateSignature(tampered, ca.cert));
    expect(e.code).toBe('ERR_SIGNATURE_INVALID');
  });

  it('rejects another CA’s key with ERR_SIGNATURE_INVALID', async () => {
    const { leaf } = await leafOf('P-256');
    const other = await makeCa('P-256');
    const e = await rejected(verifyCertificateSignature(leaf, other.cert));
    expect(e.code).toBe('ERR_SIGNATURE_INVALID');
    expect(e.message).toContain('does not verify');
  });

  it('rejects different outer and TBS signature algorithms with ERR_CERT_MALFORMED', async () => {
    const { ca, leaf } = await leafOf('P-256');
    const mismatched = decodeCertificate(
      seq(leaf.tbs, seq(oid(OID.ecdsaSha384)), bitString(leaf.signature)),
    );
    const e = await rejected(verifyCertificateSignature(mismatched, ca.cert));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toBe(
      'The certificate signature algorithm differs from the one inside tbsCertificate.',
    );
    expect(e.field).toBe('signatureAlgorithm');
  });

  it('rejects a weak or unknown signature algorithm with ERR_ALG_UNSUPPORTED', async () => {
    const { ca, leaf } = await leafOf('P-256');
    for (const [o, text] of [
      [OID.ecdsaSha1, 'too weak'],
      ['1.2.3.4', '1.2.3.4'],
    ] as const) {
      // both algorithm fields must agree to get past the mismatch check: patch the TBS copy too
      const tbs = leaf.tbs;
      const old = leaf.tbsSignatureAlgorithm.der;
      const at = tbs.findIndex((_, i) => toHex(tbs.subarray(i, i + old.length)) === toHex(old));
      const patched = seq(
        tbs.subarray(readRoot(tbs).valueStart, at),
        seq(oid(o)),
        tbs.subarray(at + old.length),
      );
      const cert = decodeCertificate(seq(patched, seq(oid(o)), bitString(leaf.signature)));
      const e = await rejected(verifyCertificateSignature(cert, ca.cert));
      expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
      expect(e.message).toContain(text);
    }
  });
});
