import { beforeAll, describe, expect, it } from 'vitest';
import { isCertifiedError } from '../errors.js';
import { encodePem, toBase64Der } from '../encoding/pem.js';
import { toHex } from '../internal/bytes.js';
import {
  bitString,
  children,
  Cursor,
  explicit,
  int,
  MAX_DER_BYTES,
  octets,
  oid,
  readRoot,
  seq,
  time,
  tlv,
  TAG,
} from '../internal/der.js';
import { OID } from '../internal/oids.js';
import { exportPrivateKey, generateKeyPair } from '../keys/keys.js';
import { parsePublicKeyInfo } from '../keys/public-key-info.js';
import { createSelfSignedCa, issueEndEntityCertificate, type Issuer } from './build-certificate.js';
import {
  decodeCertificate,
  fingerprint,
  isCa,
  parseCertificate,
  parseCertificates,
  type Certificate,
} from './certificate.js';
import { basicConstraintsValue, encodeExtension } from './extensions.js';
import { dnsName, emailAddress, ipAddress, uriName } from './general-name.js';
import { encodeName, organizationName, personName, signingName } from './name.js';
import { thrown } from '@certified/testing';

/** mulberry32: a tiny seeded PRNG so fuzz failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOW = new Date('2030-01-01T00:00:00Z');
const NOT_BEFORE = new Date('2030-01-01T00:00:00Z');
const NOT_AFTER = new Date('2031-01-01T00:00:00Z');
const caName = signingName(organizationName({ organization: 'Example', country: 'US' }));
const leafName = personName({ commonName: 'Ada Lovelace', uid: 'ada', country: 'GB' });
const altNames = [
  dnsName('ada.example'),
  ipAddress('2001:db8::1'),
  emailAddress('ada@example.org'),
  uriName('https://ada.example/'),
];

let ca: Certificate;
let leaf: Certificate;
let issuer: Issuer;
let leafKeys: CryptoKeyPair;
let spki: Uint8Array;

beforeAll(async () => {
  const caKeys = await generateKeyPair({ algorithm: 'P-256' });
  ca = await createSelfSignedCa({ subject: caName, keyPair: caKeys, now: NOW, pathLength: 1 });
  issuer = { certificate: ca, privateKey: caKeys.privateKey };
  leafKeys = await generateKeyPair({ algorithm: 'Ed25519', extractable: true });
  leaf = await issueEndEntityCertificate({
    issuer,
    subject: leafName,
    publicKey: leafKeys.publicKey,
    altNames,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    now: NOW,
  });
  spki = new Uint8Array(await crypto.subtle.exportKey('spki', leafKeys.publicKey));
});

/** A hand-assembled certificate (junk signature) for structural tests. */
function rawCert(o: {
  version?: Uint8Array | null;
  serial?: Uint8Array;
  extensions?: readonly Uint8Array[] | null;
  notBefore?: Uint8Array;
  signature?: Uint8Array;
  outerAlg?: Uint8Array;
}): Uint8Array {
  const name = encodeName(leafName);
  const tbs = seq(
    ...(o.version === null ? [] : [o.version ?? explicit(0, int(2))]),
    o.serial ?? int(1),
    seq(oid(OID.ed25519)),
    name,
    seq(o.notBefore ?? time(NOT_BEFORE), time(NOT_AFTER)),
    name,
    spki,
    ...(o.extensions ? [explicit(3, seq(...o.extensions))] : []),
  );
  return seq(
    tbs,
    o.outerAlg ?? seq(oid(OID.ed25519)),
    o.signature ?? bitString(new Uint8Array(64)),
  );
}

const bcExt = (critical = true): Uint8Array =>
  encodeExtension({
    oid: OID.basicConstraints,
    critical,
    value: basicConstraintsValue({ ca: false }),
  });

describe('parseCertificate', () => {
  it('round-trips what we built, field by field', () => {
    const parsed = parseCertificate(leaf.der);
    expect(parsed).toEqual(leaf);
    expect(parsed.version).toBe(3);
    expect(parsed.subject).toEqual(leafName);
    expect(parsed.issuer).toEqual(caName);
    expect(toHex(parsed.issuerDer)).toBe(toHex(ca.subjectDer));
    expect(parsed.notBefore.toISOString()).toBe(NOT_BEFORE.toISOString());
    expect(parsed.notAfter.toISOString()).toBe(NOT_AFTER.toISOString());
    expect(parsed.publicKey.algorithm).toBe('Ed25519');
    expect(toHex(parsed.publicKey.spki)).toBe(toHex(spki));
    expect(parsed.subjectAltNames).toEqual([
      { type: 'dns', value: 'ada.example' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'email', value: 'ada@example.org' },
      { type: 'uri', value: 'https://ada.example/' },
    ]);
    expect(parsed.basicConstraints).toEqual({ ca: false });
    expect(parsed.keyUsage).toEqual(['digitalSignature']);
    expect(parsed.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(toHex(parsed.authorityKeyIdentifier!.keyIdentifier!)).toBe(
      toHex(ca.subjectKeyIdentifier!),
    );
    expect(parsed.signatureAlgorithm.oid).toBe(OID.ecdsaSha256);
    expect(toHex(parsed.tbsSignatureAlgorithm.der)).toBe(toHex(parsed.signatureAlgorithm.der));
    // der / tbs are exact slices
    expect(toHex(parsed.der)).toBe(toHex(leaf.der));
    expect(toHex(leaf.der)).toContain(toHex(parsed.tbs));
    expect(parsed.tbs[0]).toBe(0x30);
  });

  it('reads PEM, DER, base64-DER and PEM bytes alike', () => {
    const pem = encodePem('CERTIFICATE', leaf.der);
    for (const input of [
      leaf.der,
      pem,
      toBase64Der(leaf.der),
      new TextEncoder().encode(pem),
      `prefix text\n${pem}\nsuffix\n`,
    ]) {
      expect(toHex(parseCertificate(input).der)).toBe(toHex(leaf.der));
    }
  });

  it('reads a v1 certificate without extensions', () => {
    const c = decodeCertificate(rawCert({ version: null }));
    expect(c.version).toBe(1);
    expect(c.extensions).toEqual([]);
    expect(c.basicConstraints).toBeUndefined();
    expect(isCa(c)).toBe(false);
  });

  it('reads negative and long serial numbers as encoded', () => {
    const c = decodeCertificate(
      rawCert({ serial: tlv(TAG.INTEGER, new Uint8Array([0xff, 0x01])) }),
    );
    expect(c.serialNumberHex).toBe('ff01');
    const big = decodeCertificate(
      rawCert({ serial: tlv(TAG.INTEGER, new Uint8Array(21).fill(0x11)) }),
    );
    expect(big.serialNumber).toHaveLength(21);
  });

  it('keeps unknown extensions raw', () => {
    const c = decodeCertificate(
      rawCert({
        extensions: [
          encodeExtension({
            oid: '1.2.3.4',
            critical: true,
            value: octets(new Uint8Array([1, 2])),
          }),
        ],
      }),
    );
    expect(c.extensions).toEqual([
      { oid: '1.2.3.4', critical: true, value: new Uint8Array([4, 2, 1, 2]) },
    ]);
  });

  it('rejects a PEM bundle with ERR_PEM_MALFORMED', () => {
    const e = thrown(() =>
      parseCertificate(encodePem('CERTIFICATE', leaf.der) + encodePem('CERTIFICATE', ca.der)),
    );
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toBe('Expected one certificate, found 2; use parseCertificates for bundles.');
  });

  it('rejects a private key PEM with ERR_PEM_LABEL_MISMATCH', async () => {
    const pemKey = await exportPrivateKey(leafKeys.privateKey);
    const e = thrown(() => parseCertificate(pemKey));
    expect(e.code).toBe('ERR_PEM_LABEL_MISMATCH');
    expect(e.message).toBe('Expected a PEM "CERTIFICATE" block, found "PRIVATE KEY".');
  });

  it('rejects input over MAX_DER_BYTES with ERR_INPUT_TOO_LARGE', () => {
    const big = new Uint8Array(MAX_DER_BYTES + 1);
    big.set([0x30, 0x83, 0x10, 0x00, 0x00]);
    const e = thrown(() => parseCertificate(big));
    expect(e.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(e.message).toBe(
      `The DER input is ${MAX_DER_BYTES + 1} bytes; the limit is ${MAX_DER_BYTES}.`,
    );
    const e2 = thrown(() => decodeCertificate(big));
    expect(e2.code).toBe('ERR_INPUT_TOO_LARGE');
  });

  it('rejects a duplicate extension with ERR_CERT_MALFORMED', () => {
    const e = thrown(() => decodeCertificate(rawCert({ extensions: [bcExt(), bcExt(false)] })));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toBe('The extension 2.5.29.19 appears more than once.');
    expect(e.reason).toBe('duplicate extension');
  });

  it('rejects an explicitly encoded v1 version with ERR_CERT_MALFORMED', () => {
    const e = thrown(() => decodeCertificate(rawCert({ version: explicit(0, int(0)) })));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toContain('DEFAULT version v1 explicitly');
    expect(e.field).toBe('version');
  });

  it('rejects an unknown version with ERR_CERT_MALFORMED', () => {
    const e = thrown(() => decodeCertificate(rawCert({ version: explicit(0, int(3)) })));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toBe('The certificate has unknown version 4.');
  });

  it('rejects extensions in a v1 certificate with ERR_CERT_MALFORMED', () => {
    const e = thrown(() => decodeCertificate(rawCert({ version: null, extensions: [bcExt()] })));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toBe('Extensions require version 3.');
  });

  it('rejects an empty extensions list with ERR_CERT_MALFORMED', () => {
    const e = thrown(() => decodeCertificate(rawCert({ extensions: [] })));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toContain('present but empty');
  });

  it('rejects signature unused bits with ERR_CERT_MALFORMED', () => {
    const e = thrown(() =>
      decodeCertificate(rawCert({ signature: bitString(new Uint8Array([0, 0, 0x80]), 7) })),
    );
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toContain('unused bits');
  });

  it('rejects a non-minimal serial with ERR_CERT_MALFORMED', () => {
    const e = thrown(() =>
      decodeCertificate(rawCert({ serial: tlv(TAG.INTEGER, new Uint8Array([0, 1])) })),
    );
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toBe('The certificate is malformed: non-minimal INTEGER in serialNumber.');
    expect(e.field).toBe('serialNumber');
  });

  it('rejects an impossible validity date with ERR_CERT_MALFORMED', () => {
    const e = thrown(() =>
      decodeCertificate(
        rawCert({ notBefore: tlv(TAG.UTC_TIME, new TextEncoder().encode('300230000000Z')) }),
      ),
    );
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.field).toBe('validity.notBefore');
    expect(e.message).toContain('impossible date');
  });

  it('rejects a malformed basicConstraints value with ERR_CERT_MALFORMED', () => {
    const bad = encodeExtension({
      oid: OID.basicConstraints,
      critical: true,
      value: new Uint8Array([0x30, 0x03, 0x01, 0x01, 0x01]),
    });
    const e = thrown(() => decodeCertificate(rawCert({ extensions: [bad] })));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toContain('basicConstraints');
  });

  it('rejects trailing bytes with ERR_CERT_MALFORMED', () => {
    const e = thrown(() => decodeCertificate(new Uint8Array([...leaf.der, 0])));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toContain('trailing byte');
  });

  it('rejects a root that is not a SEQUENCE with ERR_CERT_MALFORMED', () => {
    const der = leaf.der.slice();
    der[0] = 0x31;
    const e = thrown(() => decodeCertificate(der));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.message).toContain('does not start with a SEQUENCE');
  });

  it('rejects every truncation of a real certificate with ERR_DER_TRUNCATED or ERR_CERT_MALFORMED', () => {
    for (const cert of [leaf, ca]) {
      for (let n = 0; n < cert.der.length; n++) {
        const prefix = cert.der.subarray(0, n);
        const e = thrown(() => decodeCertificate(prefix));
        expect(isCertifiedError(e), `prefix ${n}: ${String(e)}`).toBe(true);
        expect(['ERR_DER_TRUNCATED', 'ERR_CERT_MALFORMED'], `prefix ${n}`).toContain(e.code);
        if (n > 0) {
          const p = thrown(() => parseCertificate(prefix.slice()));
          expect(isCertifiedError(p), `prefix ${n}: ${String(p)}`).toBe(true);
          expect(['ERR_DER_TRUNCATED', 'ERR_CERT_MALFORMED'], `prefix ${n}`).toContain(p.code);
        }
      }
    }
    const empty = thrown(() => parseCertificate(new Uint8Array(0)));
    expect(empty.code).toBe('ERR_PEM_MALFORMED');
    expect(empty.message).toBe('The input is empty.');
  });

  it('throws only CertifiedErrors for 2,000 random buffers', () => {
    const rand = prng(0x5eed);
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 600);
      const b = new Uint8Array(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
      // half of them get a plausible outer SEQUENCE header, to reach the inner decoders
      if (i % 2 === 0 && len > 4) b.set([0x30, 0x82, ((len - 4) >> 8) & 0xff, (len - 4) & 0xff]);
      for (const f of [
        () => decodeCertificate(b),
        () => parseCertificate(b),
        () => parseCertificates(b),
      ]) {
        try {
          f();
        } catch (e) {
          expect(isCertifiedError(e), `seed 0x5eed #${i} ${toHex(b)}: ${String(e)}`).toBe(true);
        }
      }
    }
  });

  it('throws only CertifiedErrors for 2,000 single-byte mutations of a valid certificate', () => {
    const rand = prng(0xc0ffee);
    let parsed = 0;
    for (let i = 0; i < 2000; i++) {
      const base = i % 2 ? leaf.der : ca.der;
      const b = base.slice();
      const pos = Math.floor(rand() * b.length);
      const delta = 1 + Math.floor(rand() * 255);
      b[pos] = (b[pos]! + delta) & 0xff;
      try {
        decodeCertificate(b);
        parsed++;
      } catch (e) {
        expect(
          isCertifiedError(e),
          `#${i} byte ${pos} → 0x${b[pos]!.toString(16)}: ${String(e)}`,
        ).toBe(true);
      }
    }
    // many mutations land in key bytes, names or the signature and still parse
    expect(parsed).toBeGreaterThan(100);
  });

  it('throws only CertifiedErrors for every value of every byte in the extensions', () => {
    // exhaustive over the extension block of the leaf: the densest structure we decode
    const der = leaf.der;
    const tbs = Cursor.of(der, readRoot(der)).next(TAG.SEQUENCE);
    const exts = children(der, tbs).find((t) => t.tag === 0xa3)!;
    expect(exts.end - exts.start).toBeGreaterThan(100);
    for (let pos = exts.start; pos < exts.end; pos++) {
      for (let v = 0; v < 256; v += 7) {
        const b = leaf.der.slice();
        if (b[pos] === v) continue;
        b[pos] = v;
        try {
          decodeCertificate(b);
        } catch (e) {
          expect(isCertifiedError(e), `byte ${pos} → 0x${v.toString(16)}: ${String(e)}`).toBe(true);
        }
      }
    }
  });
});

describe('parseCertificates', () => {
  it('returns a bundle in order', () => {
    const bundle = `${encodePem('CERTIFICATE', leaf.der)}\n# issuer\n${encodePem('CERTIFICATE', ca.der)}`;
    const certs = parseCertificates(bundle);
    expect(certs.map((c) => fingerprint(c))).toEqual([fingerprint(leaf), fingerprint(ca)]);
    const reversed = parseCertificates(
      encodePem('CERTIFICATE', ca.der) + encodePem('CERTIFICATE', leaf.der),
    );
    expect(reversed.map((c) => fingerprint(c))).toEqual([fingerprint(ca), fingerprint(leaf)]);
  });

  it('accepts a single DER or base64 certificate', () => {
    expect(parseCertificates(leaf.der)).toHaveLength(1);
    expect(parseCertificates(toBase64Der(ca.der))[0]!.subject).toEqual(caName);
  });

  it('rejects a bundle holding a non-certificate block with ERR_PEM_LABEL_MISMATCH', async () => {
    const key = await exportPrivateKey(leafKeys.privateKey);
    const e = thrown(() => parseCertificates(encodePem('CERTIFICATE', leaf.der) + key));
    expect(e.code).toBe('ERR_PEM_LABEL_MISMATCH');
    expect(e.message).toContain('found "PRIVATE KEY"');
  });

  it('rejects a bundle with one broken certificate with that certificate’s code', () => {
    const e = thrown(() =>
      parseCertificates(
        encodePem('CERTIFICATE', leaf.der) + encodePem('CERTIFICATE', ca.der.subarray(0, 100)),
      ),
    );
    expect(e.code).toBe('ERR_DER_TRUNCATED');
    expect(e.message).toContain('truncated');
  });
});

describe('fingerprint / isCa', () => {
  it('formats SHA-256 as colon-separated upper-case hex', async () => {
    const fp = fingerprint(leaf);
    expect(fp).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', leaf.der.slice()));
    expect(fp).toBe(toHex(digest, ':').toUpperCase());
    expect(fingerprint(leaf.der)).toBe(fp);
    expect(fingerprint(ca)).not.toBe(fp);
  });

  it("remembers a certificate object's answer, but never a byte array's or a replaced der's", () => {
    const holder = { der: leaf.der };
    expect(fingerprint(holder)).toBe(fingerprint(leaf));
    holder.der = ca.der; // a new bytes object under the same holder: asked afresh
    expect(fingerprint(holder)).toBe(fingerprint(ca));
    const buffer = leaf.der.slice();
    expect(fingerprint(buffer)).toBe(fingerprint(leaf));
    buffer.set(ca.der.subarray(0, buffer.length)); // a reused buffer: never a stale answer
    expect(fingerprint(buffer)).not.toBe(fingerprint(leaf));
  });

  it('tells CAs from end entities', () => {
    expect(isCa(ca)).toBe(true);
    expect(isCa(leaf)).toBe(false);
  });

  it('exposes the key for parsePublicKeyInfo round trips', () => {
    expect(parsePublicKeyInfo(leaf.publicKey.spki)).toEqual(leaf.publicKey);
  });
});
