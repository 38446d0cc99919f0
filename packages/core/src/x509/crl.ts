/**
 * @module x509/crl — parsing X.509 certificate revocation lists (RFC 5280 §5) with the lean DER
 * reader, for path validation against CRLs a caller supplies (`PathValidatorOptions.crls`).
 */
import { CertifiedError, CrlMalformed } from '../errors.js';
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
import { readOneDer } from '../encoding/pem.js';
import { decodeExtensions, type Extension } from './extensions.js';
import { decodeName, type Name } from './name.js';
import {
  checkSignatureParameters,
  decodeAlgorithmIdentifier,
  decodeSigned,
  type AlgorithmIdentifier,
} from './signature.js';

/** One revoked certificate on a CRL. */
export interface RevokedCertificate {
  /** userCertificate: the serial number's content bytes, as in `Certificate.serialNumber`. */
  readonly serialNumber: Uint8Array;
  /** The serial number as lower-case hex, as `Certificate.serialNumberHex`. */
  readonly serialNumberHex: string;
  readonly revocationDate: Date;
  /** crlEntryExtensions (reason code, invalidity date, …), in order. */
  readonly extensions: readonly Extension[];
}

/** A parsed CRL. `der` and `tbs` are the exact bytes; every field is decoded eagerly. */
export interface CertificateRevocationList {
  readonly der: Uint8Array;
  /** The DER of tbsCertList: the bytes the signature covers. */
  readonly tbs: Uint8Array;
  /** 1 or 2 (v2 when the version field is present). */
  readonly version: number;
  readonly tbsSignatureAlgorithm: AlgorithmIdentifier;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly issuer: Name;
  /** DER of the issuer Name, for exact comparisons. */
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly revoked: readonly RevokedCertificate[];
  /** crlExtensions, in order (v2 only). */
  readonly extensions: readonly Extension[];
  readonly signature: Uint8Array;
}

/**
 * Decodes CRL DER. Most callers want {@link parseCrl}, which also accepts PEM (`X509 CRL`).
 *
 * @throws ERR_CRL_MALFORMED, ERR_DER_TRUNCATED, ERR_INPUT_TOO_LARGE.
 * @example
 * const crl = decodeCrl(derBytes);
 */
export function decodeCrl(der: Uint8Array): CertificateRevocationList {
  try {
    return decode(der);
  } catch (e) {
    // decodeExtensions names certificates in its errors; here they are the CRL's.
    if (e instanceof CertifiedError && e.code === 'ERR_CERT_MALFORMED')
      throw new CrlMalformed(e.message.replace(/certificate/g, 'CRL'), { cause: e });
    return rethrowAsMalformed(e, CrlMalformed, 'CRL', 'certificateList');
  }
}

function decode(der: Uint8Array): CertificateRevocationList {
  const { body, signatureAlgorithm, signature } = decodeSigned(
    der,
    { root: 'certificateList', body: 'tbsCertList', signature: 'signatureValue', what: 'CRL' },
    CrlMalformed,
  );
  const t = Cursor.of(der, body, 'tbsCertList');
  let version = 1;
  const vT = t.optional(TAG.INTEGER, 'version');
  if (vT) {
    version = readSmallInt(der, vT, 'version') + 1;
    if (version !== 2)
      throw new CrlMalformed(`The CRL has version ${version}; only v2 is encoded explicitly.`, {
        field: 'version',
      });
  }
  const tbsSignatureAlgorithm = decodeAlgorithmIdentifier(
    der,
    t.next(TAG.SEQUENCE, 'signature'),
    'signature',
  );
  checkSignatureParameters(tbsSignatureAlgorithm, 'signature', 'CRL', CrlMalformed);
  const issuerT = t.next(TAG.SEQUENCE, 'issuer');
  const thisUpdate = readTime(der, t.next(undefined, 'thisUpdate'), 'thisUpdate');
  const peek = t.peekTag();
  const nextUpdate =
    peek === TAG.UTC_TIME || peek === TAG.GENERALIZED_TIME
      ? readTime(der, t.next(undefined, 'nextUpdate'), 'nextUpdate')
      : undefined;
  const revokedT = t.optional(TAG.SEQUENCE, 'revokedCertificates');
  const extT = t.optional(ctx(0, true), 'crlExtensions');
  t.finish('tbsCertList');
  const revoked = revokedT ? revokedEntries(der, revokedT, version) : [];
  let extensions: Extension[] = [];
  if (extT) {
    if (version !== 2)
      throw new CrlMalformed('CRL extensions require version 2.', { field: 'version' });
    const ec = Cursor.of(der, extT, 'crlExtensions');
    extensions = decodeExtensions(der, ec.next(TAG.SEQUENCE, 'crlExtensions'), 'crlExtensions');
    ec.finish('crlExtensions');
  }
  return {
    der,
    tbs: bytesOf(der, body),
    version,
    tbsSignatureAlgorithm,
    signatureAlgorithm,
    issuer: decodeName(der, issuerT, 'issuer'),
    issuerDer: bytesOf(der, issuerT),
    thisUpdate,
    nextUpdate,
    revoked,
    extensions,
    signature,
  };
}

function revokedEntries(der: Uint8Array, list: Tlv, version: number): RevokedCertificate[] {
  const out: RevokedCertificate[] = [];
  const c = Cursor.of(der, list, 'revokedCertificates');
  // RFC 5280 §5.1.2.6: when there are no revoked certificates the list MUST be absent.
  if (c.done)
    throw new CrlMalformed('The CRL has an empty revokedCertificates list.', {
      field: 'revokedCertificates',
    });
  while (!c.done) {
    const e = Cursor.of(der, c.next(TAG.SEQUENCE, 'revokedCertificates'), 'revokedCertificates');
    const serialNumber = readIntegerBytes(der, e.next(TAG.INTEGER, 'userCertificate'));
    const revocationDate = readTime(der, e.next(undefined, 'revocationDate'), 'revocationDate');
    const extT = e.optional(TAG.SEQUENCE, 'crlEntryExtensions');
    e.finish('revokedCertificates');
    if (extT && version !== 2)
      throw new CrlMalformed('CRL entry extensions require version 2.', { field: 'version' });
    out.push({
      serialNumber,
      serialNumberHex: toHex(serialNumber),
      revocationDate,
      extensions: extT ? decodeExtensions(der, extT, 'crlEntryExtensions') : [],
    });
  }
  return out;
}

/**
 * Parses one CRL from DER bytes, PEM text (`X509 CRL`), or base64-DER.
 *
 * @throws ERR_CRL_MALFORMED, ERR_DER_TRUNCATED, ERR_PEM_MALFORMED, ERR_PEM_LABEL_MISMATCH,
 *   ERR_BASE64_MALFORMED, ERR_INPUT_TOO_LARGE.
 * @example
 * const crl = parseCrl(readFileSync('ca.crl.pem', 'utf8'));
 * console.log(crl.revoked.length, crl.nextUpdate);
 */
export function parseCrl(input: Uint8Array | string): CertificateRevocationList {
  return decodeCrl(readOneDer(input, ['X509 CRL'], 'CRL'));
}
