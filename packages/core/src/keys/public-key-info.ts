/**
 * @module keys/public-key-info — reading SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) without WebCrypto.
 */
import { AlgorithmUnsupported, KeyMalformed } from '../errors.js';
import {
  bytesOf,
  Cursor,
  readBitString,
  readOid,
  readRoot,
  TAG,
  type Tlv,
  valueOf,
} from '../internal/der.js';
import { withMemo } from '../internal/memo.js';
import { OID } from '../internal/oids.js';

/** Key types @certified/core can generate and sign with. */
export type SigningKeyAlgorithm = 'Ed25519' | 'P-256' | 'P-384';

/** Key types @certified/core can read from certificates and keys (RSA for verification only). */
export type PublicKeyAlgorithm =
  SigningKeyAlgorithm | 'P-521' | 'RSA' | 'RSA-PSS' | 'Ed448' | 'unknown';

/** A parsed SubjectPublicKeyInfo. */
export interface PublicKeyInfo {
  /** Key type. */
  readonly algorithm: PublicKeyAlgorithm;
  /** The algorithm OID (id-ecPublicKey, id-Ed25519, rsaEncryption, …). */
  readonly algorithmOid: string;
  /** The named-curve OID for EC keys. */
  readonly curveOid?: string;
  /** The whole SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** The subjectPublicKey BIT STRING contents (EC point, Ed25519 key, or RSAPublicKey DER). */
  readonly publicKey: Uint8Array;
  /** Key size in bits (RSA modulus, EC field size). */
  readonly bits: number;
}

const CURVES: Record<string, { algorithm: PublicKeyAlgorithm; bits: number }> = {
  [OID.p256]: { algorithm: 'P-256', bits: 256 },
  [OID.p384]: { algorithm: 'P-384', bits: 384 },
  [OID.p521]: { algorithm: 'P-521', bits: 521 },
};

function rsaModulusBits(key: Uint8Array): number {
  const root = readRoot(key, 'RSAPublicKey');
  const c = Cursor.of(key, root, 'RSAPublicKey');
  const n = c.next(TAG.INTEGER);
  let v = valueOf(key, n);
  while (v.length && v[0] === 0) v = v.subarray(1);
  return v.length ? (v.length - 1) * 8 + (32 - Math.clz32(v[0]!)) : 0;
}

/** Parses a SubjectPublicKeyInfo TLV inside `b`. */
export function decodePublicKeyInfo(
  b: Uint8Array,
  t: Tlv,
  field = 'subjectPublicKeyInfo',
): PublicKeyInfo {
  // With a memo slot: the key imported to verify with it is remembered there.
  return withMemo(decodeKeyInfo(b, t, field));
}

function decodeKeyInfo(b: Uint8Array, t: Tlv, field: string): PublicKeyInfo {
  const c = Cursor.of(b, t, field);
  const alg = c.next(TAG.SEQUENCE, `${field}.algorithm`);
  const ac = Cursor.of(b, alg, `${field}.algorithm`);
  const algorithmOid = readOid(b, ac.next(TAG.OID));
  const params = ac.done ? undefined : ac.next();
  ac.finish();
  const { bytes: publicKey, unusedBits } = readBitString(
    b,
    c.next(TAG.BIT_STRING, `${field}.subjectPublicKey`),
    field,
  );
  c.finish();
  if (unusedBits) throw new KeyMalformed('The public key BIT STRING has unused bits.', { field });
  const spki = bytesOf(b, t);
  switch (algorithmOid) {
    case OID.ecPublicKey: {
      if (!params || params.tag !== TAG.OID) {
        throw new AlgorithmUnsupported(
          'EC public keys must name their curve (explicit curve parameters are not supported).',
          {
            field,
          },
        );
      }
      const curveOid = readOid(b, params);
      const curve = CURVES[curveOid];
      const size = curve ? Math.ceil(curve.bits / 8) : 0;
      if (curve && (publicKey.length !== 1 + 2 * size || publicKey[0] !== 4)) {
        throw new KeyMalformed(
          `The ${curve.algorithm} public key is not an uncompressed point of the right size.`,
          { field },
        );
      }
      return {
        algorithm: curve?.algorithm ?? 'unknown',
        algorithmOid,
        curveOid,
        spki,
        publicKey,
        bits: curve?.bits ?? 0,
      };
    }
    case OID.ed25519:
    case OID.ed448: {
      const ed = algorithmOid === OID.ed25519;
      if (params)
        throw new KeyMalformed(
          'EdDSA key algorithm identifiers must not have parameters (RFC 8410 §3).',
          { field },
        );
      if (publicKey.length !== (ed ? 32 : 57))
        throw new KeyMalformed('The EdDSA public key has the wrong length.', { field });
      return {
        algorithm: ed ? 'Ed25519' : 'Ed448',
        algorithmOid,
        spki,
        publicKey,
        bits: ed ? 256 : 456,
      };
    }
    case OID.rsaEncryption:
    case OID.rsaPss: {
      let bits: number;
      try {
        bits = rsaModulusBits(publicKey);
      } catch (e) {
        throw new KeyMalformed('The RSA public key is not a valid RSAPublicKey.', {
          field,
          cause: e,
        });
      }
      return {
        algorithm: algorithmOid === OID.rsaPss ? 'RSA-PSS' : 'RSA',
        algorithmOid,
        spki,
        publicKey,
        bits,
      };
    }
    default:
      return { algorithm: 'unknown', algorithmOid, spki, publicKey, bits: 0 };
  }
}

/**
 * Parses DER SubjectPublicKeyInfo bytes.
 *
 * @throws ERR_KEY_MALFORMED, ERR_DER_MALFORMED, ERR_DER_TRUNCATED for bad input.
 * @example
 * const info = parsePublicKeyInfo(await crypto.subtle.exportKey('spki', key)); // info.algorithm === 'P-256'
 */
export function parsePublicKeyInfo(spki: Uint8Array): PublicKeyInfo {
  return decodePublicKeyInfo(spki, readRoot(spki, 'subjectPublicKeyInfo'));
}
