/**
 * @module x509/signature — signing TBS bytes with WebCrypto keys and verifying X.509 signatures.
 *
 * We sign the DER ourselves rather than through PKI.js's engine, which cannot sign with Ed25519.
 */
import {
  AlgorithmUnsupported,
  CertifiedError,
  CryptoFailure,
  KeyMalformed,
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
import { memoOf } from '../internal/memo.js';
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
  checkSignatureParameters(signatureAlgorithm, 'signatureAlgorithm', names.what, Malformed);
  return { body, signatureAlgorithm, signature };
}

// --- signature algorithm parameters ---

const PKCS1_V15 = new Set<string>([
  OID.md5WithRsa,
  OID.sha1WithRsa,
  OID.sha256WithRsa,
  OID.sha384WithRsa,
  OID.sha512WithRsa,
]);
const NO_PARAMETERS = new Set<string>([
  OID.ecdsaSha1,
  OID.ecdsaSha256,
  OID.ecdsaSha384,
  OID.ecdsaSha512,
  OID.ed25519,
  OID.ed448,
]);
const NULL_PARAMETERS = (p: Uint8Array): boolean => p.length === 2 && p[0] === TAG.NULL;
// The hashes RFC 4055 §2.1 lists: their parameters are NULL or absent, "legal and equivalent".
const RFC4055_HASHES = new Set<string>([
  OID.sha1,
  '2.16.840.1.101.3.4.2.4', // SHA-224
  OID.sha256,
  OID.sha384,
  OID.sha512,
]);

/** RSASSA-PSS-params (RFC 4055 §3.1) as encoded, defaults filled in. */
interface PssParameters {
  /** hashAlgorithm OID (SHA-1 when absent). */
  readonly hash: string;
  /** maskGenAlgorithm OID (MGF1 when absent). */
  readonly maskGen: string;
  /** MGF1's hash OID (SHA-1 when maskGenAlgorithm is absent); undefined for another MGF. */
  readonly maskGenHash?: string;
  /** saltLength (20 when absent). */
  readonly saltLength: number;
}

/** Why parameters are refused: `reason` is short and stable, `detail` completes "its … ". */
class ParametersProblem extends Error {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** A hash AlgorithmIdentifier inside RSASSA-PSS-params (RFC 4055 §2.1): its OID. */
function pssHash(b: Uint8Array, t: Tlv, what: string): string {
  const c = Cursor.of(b, t, what);
  const o = readOid(b, c.next(TAG.OID, what), what);
  const p = c.done ? undefined : c.next(undefined, what);
  c.finish(what);
  if (p && RFC4055_HASHES.has(o) && !NULL_PARAMETERS(bytesOf(b, p)))
    throw new ParametersProblem(
      'hash parameters not NULL',
      `RSASSA-PSS ${what} has parameters other than NULL (RFC 4055 §2.1 allows NULL or none)`,
    );
  return o;
}

/** The one element, of tag `tag`, inside an EXPLICIT [n] field of RSASSA-PSS-params. */
function explicitInner(b: Uint8Array, t: Tlv, tag: number, what: string): Tlv {
  const c = Cursor.of(b, t, what);
  const inner = c.next(tag, what);
  c.finish(what);
  return inner;
}

/**
 * Reads RSASSA-PSS-params strictly. DER never encodes a field equal to its DEFAULT (X.690 §11.5),
 * so an explicit saltLength 20 is refused. RFC 4055 §3.1 itself requires validators to accept an
 * explicit sha1Identifier, mgf1SHA1Identifier and trailerField 1: those are read (SHA-1 is then
 * refused as too weak when a signature is verified; trailerField 1 changes nothing).
 *
 * @throws ParametersProblem, or the DER reader's errors.
 */
function readPssParameters(p: Uint8Array): PssParameters {
  const root = readRoot(p, 'RSASSA-PSS-params');
  if (root.tag !== TAG.SEQUENCE)
    throw new ParametersProblem(
      'malformed RSASSA-PSS-params',
      'RSASSA-PSS parameters are not a SEQUENCE',
    );
  const c = Cursor.of(p, root, 'RSASSA-PSS-params');
  const hashT = c.optional(ctx(0, true), 'hashAlgorithm');
  const mgfT = c.optional(ctx(1, true), 'maskGenAlgorithm');
  const saltT = c.optional(ctx(2, true), 'saltLength');
  const trailerT = c.optional(ctx(3, true), 'trailerField');
  c.finish('RSASSA-PSS-params');
  const hash = hashT
    ? pssHash(p, explicitInner(p, hashT, TAG.SEQUENCE, 'hashAlgorithm'), 'hashAlgorithm')
    : OID.sha1;
  let maskGen: string = OID.mgf1;
  let maskGenHash: string | undefined = OID.sha1;
  if (mgfT) {
    const mgf = explicitInner(p, mgfT, TAG.SEQUENCE, 'maskGenAlgorithm');
    const mc = Cursor.of(p, mgf, 'maskGenAlgorithm');
    maskGen = readOid(p, mc.next(TAG.OID, 'maskGenAlgorithm'), 'maskGenAlgorithm');
    maskGenHash = undefined;
    if (maskGen === OID.mgf1) {
      // RFC 4055 §2.2: MGF1's parameters are the AlgorithmIdentifier of its hash.
      maskGenHash = pssHash(p, mc.next(TAG.SEQUENCE, 'MGF1 hash'), 'MGF1 hash');
      mc.finish('maskGenAlgorithm');
    }
  }
  let saltLength = 20;
  if (saltT) {
    saltLength = readSmallInt(p, explicitInner(p, saltT, TAG.INTEGER, 'saltLength'), 'saltLength');
    if (saltLength === 20)
      throw new ParametersProblem(
        'explicit DEFAULT saltLength',
        'RSASSA-PSS parameters encode saltLength 20, the DEFAULT, which DER omits (X.690 §11.5)',
      );
  }
  if (trailerT) {
    const trailer = readSmallInt(
      p,
      explicitInner(p, trailerT, TAG.INTEGER, 'trailerField'),
      'trailerField',
    );
    if (trailer !== 1)
      throw new ParametersProblem(
        'trailerField not 1',
        `RSASSA-PSS parameters have trailerField ${trailer}, and RFC 4055 §3.1 allows only 1`,
      );
  }
  return { hash, maskGen, ...(maskGenHash ? { maskGenHash } : {}), saltLength };
}

/**
 * Why a signature AlgorithmIdentifier's parameters are not those its algorithm defines, or
 * undefined: PKCS #1 v1.5 NULL or absent (RFC 4055 §5, RFC 3279 §2.2.1), ECDSA and EdDSA absent
 * (RFC 5758 §3.2, RFC 8410 §3), RSASSA-PSS present and strict (RFC 4055 §3.1). Algorithms we do
 * not know pass: verification refuses them.
 */
function parametersProblem(alg: AlgorithmIdentifier): ParametersProblem | undefined {
  const p = alg.parameters;
  if (PKCS1_V15.has(alg.oid))
    return p && !NULL_PARAMETERS(p)
      ? new ParametersProblem(
          'parameters not NULL',
          'RSA PKCS #1 v1.5 parameters are not NULL (RFC 4055 §5 allows NULL or none)',
        )
      : undefined;
  if (NO_PARAMETERS.has(alg.oid))
    return p
      ? new ParametersProblem(
          'parameters present',
          'ECDSA or EdDSA identifier has parameters (RFC 5758 §3.2, RFC 8410 §3 forbid them)',
        )
      : undefined;
  if (alg.oid !== OID.rsaPss) return undefined;
  if (!p)
    return new ParametersProblem(
      'parameters missing',
      'RSASSA-PSS identifier has no parameters (RFC 4055 §3.1 requires them in a signature algorithm)',
    );
  try {
    readPssParameters(p);
    return undefined;
  } catch (e) {
    if (e instanceof ParametersProblem) return e;
    const why =
      e instanceof CertifiedError
        ? `${e.reason ?? e.message}${e.field ? ` in ${e.field}` : ''}`
        : String(e);
    return new ParametersProblem(
      'malformed RSASSA-PSS-params',
      `RSASSA-PSS parameters are malformed (${why})`,
    );
  }
}

/**
 * Reads a signature AlgorithmIdentifier's parameters strictly, as every certificate and request
 * we parse must have them — anchors' too, whose signatures are never verified — so that no parser
 * differential hides in them. `field` names the AlgorithmIdentifier (`signatureAlgorithm`, or
 * `signature` inside tbsCertificate).
 *
 * @throws `Malformed` (ERR_CERT_MALFORMED, ERR_CSR_MALFORMED) with `field` and a stable `reason`.
 */
export function checkSignatureParameters(
  alg: AlgorithmIdentifier,
  field: string,
  what: string,
  Malformed: new (message: string, details?: CertifiedErrorDetails) => CertifiedError,
): void {
  const why = parametersProblem(alg);
  if (why)
    throw new Malformed(`The ${what}'s ${field} is malformed: its ${why.detail}.`, {
      field,
      reason: why.reason,
    });
}

/** Minimum RSA modulus we verify with (weak keys refused). */
export const MIN_RSA_BITS = 2048;

/**
 * Largest RSA modulus we verify with, as Go's crypto/tls (CVE-2023-29409) and Chrome: a peer picks
 * its chain's keys, and one verification under a 16,384-bit key with a 64-bit exponent costs ~4.6 ms
 * here, ~45 P-256 verifications.
 */
export const MAX_RSA_BITS = 8192;

/** Largest RSA public exponent we verify with: 2³¹ − 1, as Go's crypto/rsa (65,537 in practice). */
const MAX_RSA_EXPONENT_BITS = 31;

/** Bits in an RSAPublicKey's publicExponent (the key was read by decodePublicKeyInfo already). */
function rsaExponentBits(key: PublicKeyInfo): number {
  const der = key.publicKey;
  const c = Cursor.of(der, readRoot(der, 'RSAPublicKey'), 'RSAPublicKey');
  c.next(TAG.INTEGER); // modulus
  const e = c.next(TAG.INTEGER);
  let at = e.valueStart;
  while (at < e.end && der[at] === 0) at++;
  return at === e.end ? 0 : (e.end - at - 1) * 8 + (32 - Math.clz32(der[at]!));
}

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

/** The WebCrypto parameters of an RSASSA-PSS signature: SHA-2 with MGF1 over the same hash. */
function pssParams(alg: AlgorithmIdentifier): VerifyParams {
  // Parsed certificates and requests were checked already; this covers identifiers made elsewhere.
  const why = parametersProblem(alg);
  if (why) throw unsupported(`RSA-PSS whose ${why.detail}`);
  const pss = readPssParameters(alg.parameters!);
  if (pss.hash === OID.sha1) throw unsupported('RSA-PSS with SHA-1 (too weak)');
  const hash = HASH_BY_OID[pss.hash];
  if (!hash) throw unsupported('RSA-PSS with a hash other than SHA-256/384/512');
  if (pss.maskGen !== OID.mgf1) throw unsupported('RSA-PSS with an MGF other than MGF1');
  if (pss.maskGenHash !== pss.hash)
    throw unsupported('RSA-PSS with different message and MGF1 hashes');
  return { kind: 'pss', hash, saltLength: pss.saltLength };
}

function verifyParams(alg: AlgorithmIdentifier): VerifyParams {
  const weak = WEAK[alg.oid];
  if (weak) throw unsupported(`${weak} (too weak)`);
  if (alg.oid === OID.rsaPss) return pssParams(alg);
  const v = SIMPLE[alg.oid];
  if (!v) throw unsupported(alg.oid);
  // As in pssParams: a second look for identifiers that did not come from our parser.
  if (parametersProblem(alg)) throw unsupported(`${alg.oid} with parameters`);
  return v;
}

/**
 * A key's imports by cacheKeyOf: pending, and once imported (for a synchronous hand-off to
 * `verify`). In the key's memo slot: a CryptoKey held by a WeakMap outlives a short-lived key into
 * the old generation (internal/memo.ts).
 */
interface Imports {
  readonly pending: Map<string, Promise<CryptoKey>>;
  readonly ready: Map<string, CryptoKey>;
}
const otherKeys = new WeakMap<object, Imports>();
const newImports = (): Imports => ({ pending: new Map(), ready: new Map() });
const importsOf = (key: PublicKeyInfo): Imports => memoOf(key, otherKeys, newImports);

// ECDSA and Ed25519 keys are imported without a hash, so one import serves every hash.
const cacheKeyOf = (p: VerifyParams): string =>
  p.kind === 'ecdsa' || p.kind === 'ed25519' ? p.kind : `${p.kind}/${p.hash}`;

function importVerifyKey(
  key: PublicKeyInfo,
  p: VerifyParams,
  subtle: SubtleCrypto,
): Promise<CryptoKey> {
  const cacheKey = cacheKeyOf(p);
  const imports = importsOf(key);
  const hit = imports.pending.get(cacheKey);
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
      if (key.bits > MAX_RSA_BITS)
        throw new AlgorithmUnsupported(
          `RSA keys over ${MAX_RSA_BITS} bits are not accepted (this one has ${key.bits}): verifying with them costs too much.`,
        );
      if (rsaExponentBits(key) > MAX_RSA_EXPONENT_BITS)
        throw new AlgorithmUnsupported(
          'RSA public exponents over 2^31 - 1 are not accepted: verifying with them costs too much.',
        );
      algo = { name: p.kind === 'pss' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5', hash: p.hash! };
      format = 'spki';
      data = key.algorithm === 'RSA-PSS' ? rsaSpkiFromPss(key) : key.spki;
    }
  }
  const promise = subtle.importKey(format, data as Uint8Array<ArrayBuffer>, algo, false, [
    'verify',
  ]);
  imports.pending.set(cacheKey, promise);
  promise.then(
    (k) => imports.ready.set(cacheKey, k),
    () => imports.pending.delete(cacheKey),
  );
  return promise;
}

/**
 * The import of `key` for signatures under `alg` while it is under way (undefined once done, or
 * never started): awaiting it lets a verification that waits for the key be dispatched.
 */
export function pendingImport(
  key: PublicKeyInfo,
  alg: AlgorithmIdentifier,
): Promise<unknown> | undefined {
  let p: VerifyParams;
  try {
    p = verifyParams(alg);
  } catch {
    return undefined;
  }
  const imports = importsOf(key);
  const k = cacheKeyOf(p);
  return imports.ready.has(k) ? undefined : imports.pending.get(k);
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
  const ready = importsOf(key).ready.get(cacheKeyOf(p));
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
