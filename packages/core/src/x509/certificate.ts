/**
 * @module x509/certificate — parsing X.509 v3 certificates (RFC 5280 §4.1) with the lean DER reader.
 */
import { CertificateMalformed } from '../errors.js';
import { rethrowAsMalformed } from '../internal/malformed.js';
import { toHex } from '../internal/bytes.js';
import {
  bytesOf,
  ctx,
  Cursor,
  readIntegerBytes,
  readSmallInt,
  readTime,
  TAG,
  type Tlv,
} from '../internal/der.js';
import { withMemo } from '../internal/memo.js';
import { OID } from '../internal/oids.js';
import { sha256 } from '../internal/sha.js';
import { readDerInput, readOneDer } from '../encoding/pem.js';
import { decodePublicKeyInfo, type PublicKeyInfo } from '../keys/public-key-info.js';
import {
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeExtensions,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltName,
  decodeSubjectKeyIdentifier,
  type AuthorityKeyIdentifier,
  type BasicConstraints,
  type Extension,
  type KeyUsage,
} from './extensions.js';
import type { GeneralName } from './general-name.js';
import { decodeName, type Name } from './name.js';
import {
  checkSignatureParameters,
  decodeAlgorithmIdentifier,
  decodeSigned,
  type AlgorithmIdentifier,
} from './signature.js';

/** A parsed X.509 certificate. Every field is decoded eagerly; `der` and `tbs` are the exact bytes. */
export interface Certificate {
  /** The whole certificate DER. */
  readonly der: Uint8Array;
  /** The DER of tbsCertificate — the bytes the signature covers. */
  readonly tbs: Uint8Array;
  /** 1, 2 or 3. */
  readonly version: number;
  /** serialNumber INTEGER contents (two's complement, as encoded). */
  readonly serialNumber: Uint8Array;
  /** Serial number as lower-case hex of its encoding. */
  readonly serialNumberHex: string;
  /** tbsCertificate.signature. */
  readonly tbsSignatureAlgorithm: AlgorithmIdentifier;
  /** Certificate.signatureAlgorithm. */
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly issuer: Name;
  /** DER of the issuer Name, for exact comparisons. */
  readonly issuerDer: Uint8Array;
  readonly subject: Name;
  /** DER of the subject Name. */
  readonly subjectDer: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  /** All extensions in order (v3 only). */
  readonly extensions: readonly Extension[];
  readonly basicConstraints?: BasicConstraints;
  readonly keyUsage?: readonly KeyUsage[];
  /** extKeyUsage purpose OIDs. */
  readonly extKeyUsage?: readonly string[];
  readonly subjectAltNames?: readonly GeneralName[];
  readonly subjectKeyIdentifier?: Uint8Array;
  readonly authorityKeyIdentifier?: AuthorityKeyIdentifier;
  /** signatureValue bits. */
  readonly signature: Uint8Array;
}

/**
 * Decodes certificate DER. Most callers want {@link parseCertificate}, which also accepts PEM and base64.
 *
 * @throws ERR_CERT_MALFORMED, ERR_DER_TRUNCATED, ERR_INPUT_TOO_LARGE, or an extension's ERR_SAN_INVALID etc.
 * @example
 * const cert = decodeCertificate(derBytes);
 */
export function decodeCertificate(der: Uint8Array): Certificate {
  try {
    return decode(der);
  } catch (e) {
    return rethrowAsMalformed(e, CertificateMalformed, 'certificate', 'certificate');
  }
}

function decode(der: Uint8Array): Certificate {
  const {
    body: tbsT,
    signatureAlgorithm,
    signature,
  } = decodeSigned(
    der,
    {
      root: 'certificate',
      body: 'tbsCertificate',
      signature: 'signatureValue',
      what: 'certificate',
    },
    CertificateMalformed,
  );

  const t = Cursor.of(der, tbsT, 'tbsCertificate');
  const vT = t.optional(ctx(0, true), 'version');
  let version = 1;
  if (vT) {
    const vc = Cursor.of(der, vT, 'version');
    version = readSmallInt(der, vc.next(TAG.INTEGER, 'version'), 'version') + 1;
    vc.finish('version');
    if (version === 1)
      throw new CertificateMalformed(
        'The certificate encodes the DEFAULT version v1 explicitly, which DER forbids.',
        { field: 'version' },
      );
    if (version > 3)
      throw new CertificateMalformed(`The certificate has unknown version ${version}.`, {
        field: 'version',
      });
  }
  const serialNumber = readIntegerBytes(der, t.next(TAG.INTEGER, 'serialNumber'), 'serialNumber');
  const tbsSignatureAlgorithm = decodeAlgorithmIdentifier(
    der,
    t.next(TAG.SEQUENCE, 'signature'),
    'signature',
  );
  checkSignatureParameters(tbsSignatureAlgorithm, 'signature', 'certificate', CertificateMalformed);
  const issuerT = t.next(TAG.SEQUENCE, 'issuer');
  const vc = Cursor.of(der, t.next(TAG.SEQUENCE, 'validity'), 'validity');
  const notBefore = readValidityTime(der, vc.next(undefined, 'validity.notBefore'), 'notBefore');
  const notAfter = readValidityTime(der, vc.next(undefined, 'validity.notAfter'), 'notAfter');
  vc.finish('validity');
  const subjectT = t.next(TAG.SEQUENCE, 'subject');
  const publicKey = decodePublicKeyInfo(der, t.next(TAG.SEQUENCE, 'subjectPublicKeyInfo'));
  const issuerUid = t.optional(ctx(1, false), 'issuerUniqueID');
  const subjectUid = t.optional(ctx(2, false), 'subjectUniqueID');
  const extT = t.optional(ctx(3, true), 'extensions');
  t.finish('tbsCertificate');
  if ((issuerUid || subjectUid) && version < 2) {
    throw new CertificateMalformed('Unique identifiers require version 2 or 3.', {
      field: 'version',
    });
  }
  let extensions: Extension[] = [];
  if (extT) {
    if (version !== 3)
      throw new CertificateMalformed('Extensions require version 3.', { field: 'version' });
    const ec = Cursor.of(der, extT, 'extensions');
    const listT = ec.next(TAG.SEQUENCE, 'extensions');
    ec.finish('extensions');
    extensions = decodeExtensions(der, listT);
    if (extensions.length === 0)
      throw new CertificateMalformed('The extensions field is present but empty.', {
        field: 'extensions',
      });
  }

  const cert: {
    -readonly [K in keyof Certificate]: Certificate[K];
  } = {
    der,
    tbs: bytesOf(der, tbsT),
    version,
    serialNumber,
    serialNumberHex: toHex(serialNumber),
    tbsSignatureAlgorithm,
    signatureAlgorithm,
    issuer: decodeName(der, issuerT, 'issuer'),
    issuerDer: bytesOf(der, issuerT),
    subject: decodeName(der, subjectT, 'subject'),
    subjectDer: bytesOf(der, subjectT),
    notBefore,
    notAfter,
    publicKey,
    extensions,
    signature,
  };
  for (const e of extensions) {
    switch (e.oid) {
      case OID.basicConstraints:
        cert.basicConstraints = decodeBasicConstraints(e.value);
        break;
      case OID.keyUsage:
        cert.keyUsage = decodeKeyUsage(e.value);
        break;
      case OID.extKeyUsage:
        cert.extKeyUsage = decodeExtKeyUsage(e.value);
        break;
      case OID.subjectAltName:
        cert.subjectAltNames = decodeSubjectAltName(e.value);
        break;
      case OID.subjectKeyIdentifier:
        cert.subjectKeyIdentifier = decodeSubjectKeyIdentifier(e.value);
        break;
      case OID.authorityKeyIdentifier:
        cert.authorityKeyIdentifier = decodeAuthorityKeyIdentifier(e.value);
        break;
    }
  }
  // With a memo slot: what a validator learns about the certificate is remembered there.
  return withMemo(cert);
}

/**
 * A validity time in the form RFC 5280 §4.1.2.5 requires: UTCTime for dates from 1950 through 2049,
 * GeneralizedTime otherwise. UTCTime cannot name a year outside 1950–2049 (YY ≥ 50 is 19YY), so
 * only a GeneralizedTime can be in the wrong form.
 */
function readValidityTime(der: Uint8Array, t: Tlv, which: 'notBefore' | 'notAfter'): Date {
  const field = `validity.${which}`;
  const date = readTime(der, t, field);
  const year = date.getUTCFullYear();
  if (t.tag === TAG.GENERALIZED_TIME && year >= 1950 && year < 2050)
    throw new CertificateMalformed(
      `The certificate's ${which} (${date.toISOString()}) is a GeneralizedTime; RFC 5280 §4.1.2.5 requires UTCTime for dates through 2049.`,
      { field, reason: 'GeneralizedTime before 2050' },
    );
  return date;
}

const FIELDS = [
  'tbs',
  'version',
  'serialNumber',
  'serialNumberHex',
  'tbsSignatureAlgorithm',
  'signatureAlgorithm',
  'issuer',
  'issuerDer',
  'subject',
  'subjectDer',
  'notBefore',
  'notAfter',
  'publicKey',
  'extensions',
  'basicConstraints',
  'keyUsage',
  'extKeyUsage',
  'subjectAltNames',
  'subjectKeyIdentifier',
  'authorityKeyIdentifier',
  'signature',
] as const satisfies readonly (keyof Certificate)[];

/**
 * A certificate over DER we just encoded ourselves: fields are decoded on first access. Issuers that
 * only need `der` (to PEM-encode and hand out) then skip a parse per certificate.
 */
export function lazyCertificate(der: Uint8Array): Certificate {
  return Object.defineProperties({ der }, LAZY_FIELDS) as unknown as Certificate;
}

// One shared set of accessors (no closures per certificate); the parse is memoised per object.
const parsedByLazy = new WeakMap<object, Certificate>();
const LAZY_FIELDS: PropertyDescriptorMap = Object.fromEntries(
  FIELDS.map((f) => [
    f,
    {
      enumerable: true,
      get(this: { der: Uint8Array }): unknown {
        let parsed = parsedByLazy.get(this);
        if (!parsed) parsedByLazy.set(this, (parsed = decodeCertificate(this.der)));
        return parsed[f];
      },
    },
  ]),
);

/**
 * Parses one certificate from DER bytes, PEM text (`CERTIFICATE`), or base64-DER.
 *
 * @param input - the certificate in any of the three encodings.
 * @throws ERR_CERT_MALFORMED, ERR_DER_TRUNCATED, ERR_PEM_MALFORMED, ERR_PEM_LABEL_MISMATCH, ERR_BASE64_MALFORMED,
 *   ERR_INPUT_TOO_LARGE.
 * @example
 * const cert = parseCertificate(pemText);
 * console.log(formatName(cert.subject), cert.notAfter);
 */
export function parseCertificate(input: Uint8Array | string): Certificate {
  return decodeCertificate(
    readOneDer(input, ['CERTIFICATE'], 'certificate', '; use parseCertificates for bundles'),
  );
}

/**
 * Parses every certificate in a PEM bundle (or a single DER / base64-DER certificate), in order.
 *
 * @throws the codes of {@link parseCertificate}.
 * @example
 * const [leaf, ...intermediates] = parseCertificates(chainPem);
 */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  return readDerInput(input, ['CERTIFICATE']).blocks.map((b) => decodeCertificate(b.der));
}

/**
 * SHA-256 fingerprint of DER bytes (a certificate, CSR or key) as colon-separated upper-case hex, as
 * `openssl x509 -fingerprint -sha256` prints it.
 *
 * @example
 * fingerprint(cert.der); // "AB:12:…"
 */
export function fingerprint(der: Uint8Array | { readonly der: Uint8Array }): string {
  if (der instanceof Uint8Array) return toHex(sha256(der), ':').toUpperCase();
  // A certificate's fingerprint is asked for on every request that names its caller: remember it
  // per object (and per bytes object, in case `der` is replaced). Raw byte arrays are not
  // remembered, since callers may reuse a buffer for other bytes.
  const known = fingerprints.get(der);
  if (known && known.der === der.der) return known.fingerprint;
  const fp = toHex(sha256(der.der), ':').toUpperCase();
  fingerprints.set(der, { der: der.der, fingerprint: fp });
  return fp;
}
const fingerprints = new WeakMap<object, { der: Uint8Array; fingerprint: string }>();

/** True when the certificate says it is a CA (basicConstraints cA = TRUE). */
export function isCa(cert: Certificate): boolean {
  return cert.basicConstraints?.ca === true;
}
