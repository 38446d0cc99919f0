/**
 * @module x509/signature — signing TBS bytes with WebCrypto keys and verifying X.509 signatures.
 *
 * We sign the DER ourselves rather than through PKI.js's engine, which cannot sign with Ed25519.
 */
import {
  AlgorithmUnsupported,
  CryptoFailure,
  KeyMalformed,
  type CertifiedError,
  type CertifiedErrorDetails,
} from '../errors.js';
import {
  bitString,
  bytesOf,
  Cursor,
  nullValue,
  oid,
  readBitString,
  readOid,
  readRoot,
  readSmallInt,
  seq,
  TAG,
  type Tlv,
  ctx,
} from '../internal/der.js';
import { derToP1363, p1363ToDer } from '../internal/ecdsa-sig.js';
import { OID } from '../internal/oids.js';
import type { PublicKeyInfo } from '../keys/public-key-info.js';

/** An AlgorithmIdentifier as it appears in a certificate (RFC 5280 §4.1.1.2). */
export interface AlgorithmIdentifier {
  /** The algorithm OID. */
  readonly oid: string;
  /** DER of the parameters, when present. */
  readonly parameters?: Uint8Array;
  /** DER of the whole AlgorithmIdentifier (compared byte-for-byte between TBS and outer, §4.1.1.2). */
  readonly der: Uint8Array;
}

export function decodeAlgorithmIdentifier(
  b: Uint8Array,
  t: Tlv,
  field: string,
): AlgorithmIdentifier {
  const c = Cursor.of(b, t, field);
  const o = readOid(b, c.next(TAG.OID, field));
  const p = c.done ? undefined : c.next();
  c.finish(field);
  return p
    ? { oid: o, parameters: bytesOf(b, p), der: bytesOf(b, t) }
    : { oid: o, der: bytesOf(b, t) };
}

/** The parts of a SIGNED{…} structure (RFC 5280 §4.1.1, RFC 2986 §4.2). */
export interface SignedParts {
  /** The signed body (tbsCertificate, certificationRequestInfo). */
  readonly body: Tlv;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Uint8Array;
}

/** Reads `SEQUENCE { body, signatureAlgorithm, signature BIT STRING }`, whole-buffer and strict. */
export function decodeSigned(
  der: Uint8Array,
  names: {
    readonly root: string;
    readonly body: string;
    readonly signature: string;
    readonly what: string;
  },
  Malformed: new (message: string, details?: CertifiedErrorDetails) => CertifiedError,
): SignedParts {
  const root = readRoot(der, names.root);
  if (root.tag !== TAG.SEQUENCE) {
    throw new Malformed(`The data is not a ${names.what}: it does not start with a SEQUENCE.`);
  }
  const c = Cursor.of(der, root, names.root);
  const body = c.next(TAG.SEQUENCE, names.body);
  const signatureAlgorithm = decodeAlgorithmIdentifier(
    der,
    c.next(TAG.SEQUENCE, 'signatureAlgorithm'),
    'signatureAlgorithm',
  );
  const { bytes: signature, unusedBits } = readBitString(
    der,
    c.next(TAG.BIT_STRING, names.signature),
    names.signature,
  );
  c.finish(names.root);
  if (unusedBits)
    throw new Malformed(`The ${names.what} signature has unused bits.`, { field: names.signature });
  return { body, signatureAlgorithm, signature };
}

/** Minimum RSA modulus we verify with (weak keys refused). */
export const MIN_RSA_BITS = 2048;

type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

interface VerifyParams {
  readonly kind: 'ecdsa' | 'ed25519' | 'rsa' | 'pss';
  readonly hash?: HashName;
  readonly saltLength?: number;
}

const SIMPLE: Record<string, VerifyParams> = {
  [OID.ed25519]: { kind: 'ed25519' },
  [OID.ecdsaSha256]: { kind: 'ecdsa', hash: 'SHA-256' },
  [OID.ecdsaSha384]: { kind: 'ecdsa', hash: 'SHA-384' },
  [OID.ecdsaSha512]: { kind: 'ecdsa', hash: 'SHA-512' },
  [OID.sha256WithRsa]: { kind: 'rsa', hash: 'SHA-256' },
  [OID.sha384WithRsa]: { kind: 'rsa', hash: 'SHA-384' },
  [OID.sha512WithRsa]: { kind: 'rsa', hash: 'SHA-512' },
};
const HASH_BY_OID: Record<string, HashName> = {
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};
const WEAK: Record<string, string> = {
  [OID.sha1WithRsa]: 'SHA-1 with RSA',
  [OID.md5WithRsa]: 'MD5 with RSA',
  [OID.ecdsaSha1]: 'ECDSA with SHA-1',
};

function unsupported(what: string): AlgorithmUnsupported {
  return new AlgorithmUnsupported(`The signature algorithm ${what} is not supported.`, {
    field: 'signatureAlgorithm',
  });
}

function hashOfAlgId(b: Uint8Array, t: Tlv): HashName {
  const c = Cursor.of(b, t);
  const h = HASH_BY_OID[readOid(b, c.next(TAG.OID))];
  if (!c.done && c.next().tag !== TAG.NULL)
    throw unsupported('RSA-PSS with unusual hash parameters');
  if (!h) throw unsupported('RSA-PSS with a hash other than SHA-256/384/512');
  return h;
}

/** RSASSA-PSS-params (RFC 4055 §3.1): we accept SHA-2 hashes with MGF1 over the same hash and trailerField 1. */
function pssParams(p: Uint8Array | undefined): VerifyParams {
  if (!p) throw unsupported('RSA-PSS with default (SHA-1) parameters');
  const root = readRoot(p, 'RSASSA-PSS-params');
  const c = Cursor.of(p, root);
  const hashT = c.optional(ctx(0, true));
  const mgfT = c.optional(ctx(1, true));
  const saltT = c.optional(ctx(2, true));
  const trailerT = c.optional(ctx(3, true));
  c.finish();
  if (!hashT || !mgfT) throw unsupported('RSA-PSS with default (SHA-1) hash or MGF');
  const hash = hashOfAlgId(p, Cursor.of(p, hashT).next(TAG.SEQUENCE));
  const mc = Cursor.of(p, Cursor.of(p, mgfT).next(TAG.SEQUENCE));
  if (readOid(p, mc.next(TAG.OID)) !== OID.mgf1)
    throw unsupported('RSA-PSS with an MGF other than MGF1');
  if (hashOfAlgId(p, mc.next(TAG.SEQUENCE)) !== hash)
    throw unsupported('RSA-PSS with different message and MGF1 hashes');
  const saltLength = saltT ? readSmallInt(p, Cursor.of(p, saltT).next(TAG.INTEGER)) : 20;
  if (trailerT && readSmallInt(p, Cursor.of(p, trailerT).next(TAG.INTEGER)) !== 1)
    throw unsupported('RSA-PSS trailer field');
  return { kind: 'pss', hash, saltLength };
}

function verifyParams(alg: AlgorithmIdentifier): VerifyParams {
  const weak = WEAK[alg.oid];
  if (weak) throw unsupported(`${weak} (too weak)`);
  if (alg.oid === OID.rsaPss) return pssParams(alg.parameters);
  const v = SIMPLE[alg.oid];
  if (!v) throw unsupported(alg.oid);
  if (v.kind === 'rsa') {
    // RFC 4055 §5: RSA PKCS#1 v1.5 identifiers carry NULL parameters; tolerate absence as many stacks do.
    if (alg.parameters && !(alg.parameters.length === 2 && alg.parameters[0] === 0x05))
      throw unsupported(`${alg.oid} with parameters`);
  } else if (alg.parameters) {
    // RFC 5758 §3.2, RFC 8410 §3: ECDSA and EdDSA identifiers have absent parameters.
    throw unsupported(`${alg.oid} with parameters`);
  }
  return v;
}

const keyCache = new WeakMap<PublicKeyInfo, Map<string, Promise<CryptoKey>>>();
/** The same keys once imported, for a synchronous hand-off to `verify`. */
const readyKeys = new WeakMap<PublicKeyInfo, Map<string, CryptoKey>>();

// ECDSA and Ed25519 keys are imported without a hash, so one import serves every hash.
const cacheKeyOf = (p: VerifyParams): string =>
  p.kind === 'ecdsa' || p.kind === 'ed25519' ? p.kind : `${p.kind}/${p.hash}`;

function importVerifyKey(
  key: PublicKeyInfo,
  p: VerifyParams,
  subtle: SubtleCrypto,
): Promise<CryptoKey> {
  const cacheKey = cacheKeyOf(p);
  let perKey = keyCache.get(key);
  const hit = perKey?.get(cacheKey);
  if (hit) return hit;
  let algo: EcKeyImportParams | RsaHashedImportParams | { name: string };
  let format: 'raw' | 'spki' = 'raw';
  let data = key.publicKey;
  switch (p.kind) {
    case 'ed25519':
      algo = { name: 'Ed25519' };
      break;
    case 'ecdsa':
      // Importing the raw point is ~3× faster than importing the SPKI in Node.
      algo = { name: 'ECDSA', namedCurve: key.algorithm as string };
      break;
    default: {
      if (key.bits < MIN_RSA_BITS)
        throw new AlgorithmUnsupported(
          `RSA keys under ${MIN_RSA_BITS} bits are too weak (this one has ${key.bits}).`,
        );
      algo = { name: p.kind === 'pss' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: p.hash! };
      format = 'spki';
      data = key.algorithm === 'RSA-PSS' ? rsaSpkiFromPss(key) : key.spki;
    }
  }
  const promise = subtle.importKey(format, data as Uint8Array<ArrayBuffer>, algo, false, [
    'verify',
  ]);
  if (!perKey) keyCache.set(key, (perKey = new Map()));
  perKey.set(cacheKey, promise);
  promise.then(
    (k) => {
      let ready = readyKeys.get(key);
      if (!ready) readyKeys.set(key, (ready = new Map()));
      ready.set(cacheKey, k);
    },
    () => perKey!.delete(cacheKey),
  );
  return promise;
}

/**
 * Starts importing an EC or Ed25519 key for verification ahead of need (a validator's anchors), so
 * the first verification does not wait for it. RSA keys are imported per hash, on first use.
 */
export function prepareVerifyKey(key: PublicKeyInfo, subtle: SubtleCrypto): void {
  const kind =
    key.algorithm === 'Ed25519'
      ? 'ed25519'
      : key.algorithm === 'P-256' || key.algorithm === 'P-384' || key.algorithm === 'P-521'
        ? 'ecdsa'
        : undefined;
  if (kind) importVerifyKey(key, { kind }, subtle).catch(() => undefined);
}

function keyFits(key: PublicKeyInfo, p: VerifyParams): boolean {
  switch (p.kind) {
    case 'ed25519':
      return key.algorithm === 'Ed25519';
    case 'ecdsa':
      return key.algorithm === 'P-256' || key.algorithm === 'P-384' || key.algorithm === 'P-521';
    case 'rsa':
      return key.algorithm === 'RSA';
    default:
      return key.algorithm === 'RSA' || key.algorithm === 'RSA-PSS';
  }
}

// WebCrypto implementations import RSA-PSS keys only under the rsaEncryption identifier.
function rsaSpkiFromPss(key: PublicKeyInfo): Uint8Array {
  return seq(seq(oid(OID.rsaEncryption), nullValue()), bitString(key.publicKey));
}

/**
 * Verifies `signature` over `data` with a public key under an X.509 signature algorithm.
 * Resolves true/false; throws for unsupported or weak algorithms and for key/algorithm mismatches.
 * (Internal: public APIs wrap this and throw ERR_SIGNATURE_INVALID on false.)
 */
export function verifyX509Signature(
  key: PublicKeyInfo,
  alg: AlgorithmIdentifier,
  data: Uint8Array,
  signature: Uint8Array,
  subtle: SubtleCrypto,
): Promise<boolean> {
  let p: VerifyParams;
  try {
    p = verifyParams(alg);
  } catch (e) {
    return Promise.reject(e);
  }
  // A key of another type cannot have made this signature: that is a failed verification, not bad input.
  if (!keyFits(key, p)) return Promise.resolve(false);
  // With the key already imported, the verification is handed to WebCrypto synchronously, so it
  // starts before the caller's next synchronous step (a validator overlaps verifications this way).
  const ready = readyKeys.get(key)?.get(cacheKeyOf(p));
  if (ready) return dispatchVerify(ready, key, p, signature, data, subtle);
  let imported: Promise<CryptoKey>;
  try {
    imported = importVerifyKey(key, p, subtle);
  } catch (e) {
    return Promise.reject(e);
  }
  return imported.then(
    (k) => dispatchVerify(k, key, p, signature, data, subtle),
    (e: unknown) => {
      throw new KeyMalformed(`The ${key.algorithm} public key could not be imported.`, {
        cause: e,
      });
    },
  );
}

function dispatchVerify(
  k: CryptoKey,
  key: PublicKeyInfo,
  p: VerifyParams,
  signature: Uint8Array,
  data: Uint8Array,
  subtle: SubtleCrypto,
): Promise<boolean> {
  let sig = signature;
  let params: EcdsaParams | RsaPssParams | Algorithm;
  switch (p.kind) {
    case 'ecdsa': {
      const size = Math.ceil(key.bits / 8);
      const raw = derToP1363(signature, size);
      if (!raw) return Promise.resolve(false);
      sig = raw;
      params = { name: 'ECDSA', hash: p.hash! };
      break;
    }
    case 'ed25519':
      params = { name: 'Ed25519' };
      break;
    case 'pss':
      params = { name: 'RSA-PSS', saltLength: p.saltLength! };
      break;
    default:
      params = { name: 'RSASSA-PKCS1-v1_5' };
  }
  const refused = (e: unknown): never => {
    throw new CryptoFailure(`WebCrypto refused to verify a ${key.algorithm} signature.`, {
      cause: e,
    });
  };
  try {
    return subtle
      .verify(params, k, sig as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>)
      .catch(refused);
  } catch (e) {
    return Promise.reject(refused(e));
  }
}

/** How we sign with a private key: the AlgorithmIdentifier DER and the WebCrypto parameters. */
export interface SigningAlgorithm {
  readonly algorithmIdentifier: Uint8Array;
  readonly params: EcdsaParams | { name: string };
  /** P1363 → DER needed (ECDSA). */
  readonly ecdsa: boolean;
}

/** Picks the signature algorithm from the issuer's key: Ed25519, or ECDSA with SHA-256 (P-256) / SHA-384 (P-384). */
export function signingAlgorithmFor(key: CryptoKey): SigningAlgorithm {
  let alg = signingAlgorithms.get(key);
  if (!alg) signingAlgorithms.set(key, (alg = pickSigningAlgorithm(key)));
  return alg;
}
const signingAlgorithms = new WeakMap<CryptoKey, SigningAlgorithm>();

function pickSigningAlgorithm(key: CryptoKey): SigningAlgorithm {
  const a = key.algorithm as EcKeyAlgorithm;
  if (key.type !== 'private')
    throw new TypeError(`key must be a private CryptoKey, received a ${key.type} key`);
  if (a.name === 'Ed25519')
    return {
      algorithmIdentifier: seq(oid(OID.ed25519)),
      params: { name: 'Ed25519' },
      ecdsa: false,
    };
  if (a.name === 'ECDSA' && a.namedCurve === 'P-256') {
    return {
      algorithmIdentifier: seq(oid(OID.ecdsaSha256)),
      params: { name: 'ECDSA', hash: 'SHA-256' },
      ecdsa: true,
    };
  }
  if (a.name === 'ECDSA' && a.namedCurve === 'P-384') {
    return {
      algorithmIdentifier: seq(oid(OID.ecdsaSha384)),
      params: { name: 'ECDSA', hash: 'SHA-384' },
      ecdsa: true,
    };
  }
  throw new AlgorithmUnsupported(
    `Signing with ${a.name}${a.namedCurve ? ` ${a.namedCurve}` : ''} keys is not supported; use Ed25519, P-256 or P-384.`,
    { field: 'privateKey' },
  );
}

/** Signs `tbs` and returns the X.509 signature bytes (DER for ECDSA). */
export async function signBytes(
  key: CryptoKey,
  alg: SigningAlgorithm,
  tbs: Uint8Array,
  subtle: SubtleCrypto,
): Promise<Uint8Array> {
  let sig: ArrayBuffer;
  try {
    sig = await subtle.sign(alg.params, key, tbs as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new CryptoFailure(
      `WebCrypto refused to sign with the ${(key.algorithm as { name: string }).name} key (does it allow "sign"?).`,
      {
        cause: e,
      },
    );
  }
  return alg.ecdsa ? p1363ToDer(new Uint8Array(sig)) : new Uint8Array(sig);
}
