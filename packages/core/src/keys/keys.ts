/**
 * @module keys/keys — generating, importing and exporting keys with WebCrypto (PKCS#8, SPKI, JWK; PEM or DER).
 */
import {
  AlgorithmUnsupported,
  CryptoFailure,
  KeyEncrypted,
  KeyMalformed,
  KeyNotExtractable,
} from '../errors.js';
import { toArrayBuffer } from '../internal/bytes.js';
import {
  bytesOf,
  Cursor,
  ctx,
  int,
  octets,
  oid,
  readOid,
  readRoot,
  readSmallInt,
  seq,
  TAG,
} from '../internal/der.js';
import { OID } from '../internal/oids.js';
import { encodePem, readDerInput } from '../encoding/pem.js';
import { parsePublicKeyInfo, type SigningKeyAlgorithm } from './public-key-info.js';

/** Options shared by crypto-using functions. */
export interface CryptoOptions {
  /** The WebCrypto implementation; default `globalThis.crypto`. */
  crypto?: Crypto;
}

/**
 * The SubtleCrypto to use: `options.crypto`'s, else the platform's; throws when the platform has none.
 *
 * @example
 * ```ts
 * const digest = await subtleOf(undefined).digest('SHA-256', bytes);
 * ```
 */
export function subtleOf(options: CryptoOptions | undefined): SubtleCrypto {
  const c = options?.crypto ?? (globalThis as { crypto?: Crypto }).crypto;
  if (!c?.subtle)
    throw new TypeError(
      'crypto must be a WebCrypto implementation; globalThis.crypto.subtle is unavailable here',
    );
  return c.subtle;
}

const GEN: Record<SigningKeyAlgorithm, EcKeyGenParams | Algorithm> = {
  Ed25519: { name: 'Ed25519' },
  'P-256': { name: 'ECDSA', namedCurve: 'P-256' },
  'P-384': { name: 'ECDSA', namedCurve: 'P-384' },
};

/** Options for {@link generateKeyPair}. */
export interface GenerateKeyPairOptions extends CryptoOptions {
  /** `"Ed25519"` (default), `"P-256"` or `"P-384"`. */
  algorithm?: SigningKeyAlgorithm;
  /** Whether the private key can be exported; default false. Public keys are always extractable. */
  extractable?: boolean;
}

/**
 * Generates a signing key pair.
 *
 * @param options.algorithm - `"Ed25519"` (default), `"P-256"` or `"P-384"`.
 * @param options.extractable - private key exportable; default `false`.
 * @param options.crypto - WebCrypto implementation; default `globalThis.crypto`.
 * @throws ERR_ALG_UNSUPPORTED when the runtime lacks the algorithm.
 * @example
 * const { privateKey, publicKey } = await generateKeyPair({ algorithm: 'P-256' });
 */
export async function generateKeyPair(
  options: GenerateKeyPairOptions = {},
): Promise<CryptoKeyPair> {
  const algorithm = options.algorithm ?? 'Ed25519';
  const params = GEN[algorithm];
  if (!params)
    throw new TypeError(
      `algorithm must be "Ed25519", "P-256" or "P-384", received ${JSON.stringify(algorithm)}`,
    );
  try {
    return (await subtleOf(options).generateKey(params, options.extractable ?? false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
  } catch (e) {
    throw new AlgorithmUnsupported(`This runtime's WebCrypto cannot generate ${algorithm} keys.`, {
      cause: e,
    });
  }
}

/** Which of our signing algorithms a CryptoKey is, or undefined. */
export function signingKeyAlgorithmOf(key: CryptoKey): SigningKeyAlgorithm | undefined {
  const a = key.algorithm as EcKeyAlgorithm;
  if (a.name === 'Ed25519') return 'Ed25519';
  if (a.name === 'ECDSA' && (a.namedCurve === 'P-256' || a.namedCurve === 'P-384'))
    return a.namedCurve;
  return undefined;
}

/** Encodings for exported keys. */
export type KeyFormat = 'pem' | 'der' | 'jwk';

async function exportKey(
  key: CryptoKey,
  format: 'pkcs8' | 'spki' | 'jwk',
  options: CryptoOptions,
): Promise<ArrayBuffer | JsonWebKey> {
  if (!key.extractable) {
    throw new KeyNotExtractable(
      `The ${key.type} key was created non-extractable, so it cannot be exported.`,
    );
  }
  try {
    return await subtleOf(options).exportKey(format, key);
  } catch (e) {
    throw new CryptoFailure(`WebCrypto could not export the ${key.type} key as ${format}.`, {
      cause: e,
    });
  }
}

/**
 * Exports a private key as PKCS#8 (PEM `PRIVATE KEY` or DER) or JWK.
 *
 * @param options.format - `"pem"` (default), `"der"` or `"jwk"`.
 * @throws ERR_KEY_NOT_EXTRACTABLE for non-extractable keys.
 * @example
 * const pem = await exportPrivateKey(keys.privateKey); // "-----BEGIN PRIVATE KEY-----…"
 */
export async function exportPrivateKey(
  key: CryptoKey,
  options?: CryptoOptions & { format?: 'pem' },
): Promise<string>;
export async function exportPrivateKey(
  key: CryptoKey,
  options: CryptoOptions & { format: 'der' },
): Promise<Uint8Array>;
export async function exportPrivateKey(
  key: CryptoKey,
  options: CryptoOptions & { format: 'jwk' },
): Promise<JsonWebKey>;
export async function exportPrivateKey(
  key: CryptoKey,
  options: CryptoOptions & { format?: KeyFormat } = {},
): Promise<string | Uint8Array | JsonWebKey> {
  if (key.type !== 'private')
    throw new TypeError(`key must be a private key, received a ${key.type} key`);
  const format = options.format ?? 'pem';
  if (format === 'jwk') return (await exportKey(key, 'jwk', options)) as JsonWebKey;
  const der = new Uint8Array((await exportKey(key, 'pkcs8', options)) as ArrayBuffer);
  return format === 'der' ? der : encodePem('PRIVATE KEY', der);
}

/**
 * Exports a public key as SPKI (PEM `PUBLIC KEY` or DER) or JWK.
 *
 * @param options.format - `"pem"` (default), `"der"` or `"jwk"`.
 * @example
 * const spki = await exportPublicKey(keys.publicKey, { format: 'der' });
 */
export async function exportPublicKey(
  key: CryptoKey,
  options?: CryptoOptions & { format?: 'pem' },
): Promise<string>;
export async function exportPublicKey(
  key: CryptoKey,
  options: CryptoOptions & { format: 'der' },
): Promise<Uint8Array>;
export async function exportPublicKey(
  key: CryptoKey,
  options: CryptoOptions & { format: 'jwk' },
): Promise<JsonWebKey>;
export async function exportPublicKey(
  key: CryptoKey,
  options: CryptoOptions & { format?: KeyFormat } = {},
): Promise<string | Uint8Array | JsonWebKey> {
  if (key.type !== 'public')
    throw new TypeError(`key must be a public key, received a ${key.type} key`);
  const format = options.format ?? 'pem';
  if (format === 'jwk') return (await exportKey(key, 'jwk', options)) as JsonWebKey;
  const der = new Uint8Array((await exportKey(key, 'spki', options)) as ArrayBuffer);
  return format === 'der' ? der : encodePem('PUBLIC KEY', der);
}

interface DetectedKey {
  readonly algorithm: SigningKeyAlgorithm | 'RSA' | 'RSA-PSS';
  readonly pkcs8: Uint8Array;
}

const CURVE_BY_OID: Record<string, SigningKeyAlgorithm> = {
  [OID.p256]: 'P-256',
  [OID.p384]: 'P-384',
};

function detectPkcs8(der: Uint8Array): DetectedKey {
  const root = readRoot(der, 'PrivateKeyInfo');
  const c = Cursor.of(der, root, 'PrivateKeyInfo');
  const version = readSmallInt(der, c.next(TAG.INTEGER));
  if (version > 1) throw new KeyMalformed(`PrivateKeyInfo version ${version} is not supported.`);
  const ac = Cursor.of(der, c.next(TAG.SEQUENCE), 'PrivateKeyInfo.privateKeyAlgorithm');
  const algOid = readOid(der, ac.next(TAG.OID));
  const param = ac.done ? undefined : ac.next();
  c.next(TAG.OCTET_STRING);
  switch (algOid) {
    case OID.ed25519:
      return { algorithm: 'Ed25519', pkcs8: der };
    case OID.ecPublicKey: {
      const curve = param?.tag === TAG.OID ? CURVE_BY_OID[readOid(der, param)] : undefined;
      if (!curve)
        throw new AlgorithmUnsupported('Only P-256 and P-384 EC private keys are supported.', {
          field: 'privateKey',
        });
      return { algorithm: curve, pkcs8: der };
    }
    case OID.rsaEncryption:
      return { algorithm: 'RSA', pkcs8: der };
    case OID.rsaPss:
      return { algorithm: 'RSA-PSS', pkcs8: der };
    default:
      throw new AlgorithmUnsupported(`Private keys of algorithm ${algOid} are not supported.`, {
        field: 'privateKey',
      });
  }
}

/** SEC 1 `EC PRIVATE KEY` (RFC 5915) → PKCS#8, as WebCrypto imports only the latter. */
function sec1ToPkcs8(der: Uint8Array): Uint8Array {
  const root = readRoot(der, 'ECPrivateKey');
  const c = Cursor.of(der, root, 'ECPrivateKey');
  if (readSmallInt(der, c.next(TAG.INTEGER)) !== 1)
    throw new KeyMalformed('ECPrivateKey version must be 1.');
  c.next(TAG.OCTET_STRING);
  const params = c.optional(ctx(0, true));
  if (!params) throw new KeyMalformed('The EC private key does not name its curve.');
  const curveT = Cursor.of(der, params).next(TAG.OID);
  return seq(int(0), seq(oid(OID.ecPublicKey), bytesOf(der, curveT)), octets(der));
}

function importParams(
  algorithm: DetectedKey['algorithm'] | 'RSA-verify',
): EcKeyImportParams | RsaHashedImportParams | Algorithm {
  switch (algorithm) {
    case 'Ed25519':
      return { name: 'Ed25519' };
    case 'P-256':
    case 'P-384':
      return { name: 'ECDSA', namedCurve: algorithm };
    default:
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  }
}

/** Options for {@link importPrivateKey}. */
export interface ImportPrivateKeyOptions extends CryptoOptions {
  /** Whether the imported private key can be exported again; default false. */
  extractable?: boolean;
}

function isJwk(x: unknown): x is JsonWebKey {
  return (
    typeof x === 'object' &&
    x !== null &&
    !(x instanceof Uint8Array) &&
    !(x instanceof ArrayBuffer) &&
    'kty' in x
  );
}

function jwkAlgorithm(jwk: JsonWebKey): SigningKeyAlgorithm {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'Ed25519';
  if (jwk.kty === 'EC' && (jwk.crv === 'P-256' || jwk.crv === 'P-384')) return jwk.crv;
  if (jwk.kty === 'RSA')
    throw new AlgorithmUnsupported(
      'RSA private keys are supported for verification only; use Ed25519, P-256 or P-384.',
    );
  throw new AlgorithmUnsupported(
    `JWK keys of type ${jwk.kty}${jwk.crv ? `/${jwk.crv}` : ''} are not supported.`,
  );
}

/**
 * Reads a private key file's structure — PKCS#8 (`PRIVATE KEY`) or SEC 1 (`EC PRIVATE KEY`), PEM or
 * DER — without WebCrypto: the PKCS#8 DER and the key's algorithm, or the error
 * {@link importPrivateKey} would throw for a file that is not a usable key (encrypted, RSA, garbage).
 * It does not check the key material itself; importing does.
 *
 * @throws ERR_KEY_ENCRYPTED, ERR_ALG_UNSUPPORTED, ERR_KEY_MALFORMED, ERR_PEM_* / ERR_DER_*.
 * @example
 * const { algorithm } = readPrivateKeyDer(await readFile('id.key', 'utf8')); // 'Ed25519'
 */
export function readPrivateKeyDer(input: string | Uint8Array): {
  der: Uint8Array;
  algorithm: SigningKeyAlgorithm;
} {
  // `openssl ecparam -genkey` writes an EC PARAMETERS block first; the key itself names its curve.
  const blocks = readDerInput(input, [
    'PRIVATE KEY',
    'EC PRIVATE KEY',
    'ENCRYPTED PRIVATE KEY',
    'RSA PRIVATE KEY',
    'EC PARAMETERS',
  ]).blocks.filter((b) => b.label !== 'EC PARAMETERS');
  if (blocks.length !== 1)
    throw new KeyMalformed(`Expected one private key, found ${blocks.length} PEM blocks.`);
  const block = blocks[0]!;
  if (block.label === 'ENCRYPTED PRIVATE KEY') {
    throw new KeyEncrypted(
      'The private key is encrypted; decrypt it first (openssl pkcs8 -in KEY -out PLAIN.key).',
    );
  }
  if (block.label === 'RSA PRIVATE KEY') {
    throw new AlgorithmUnsupported(
      'RSA private keys are supported for verification only; use Ed25519, P-256 or P-384.',
    );
  }
  const der = block.label === 'EC PRIVATE KEY' ? sec1ToPkcs8(block.der) : block.der;
  const detected = detectPkcs8(der);
  if (detected.algorithm === 'RSA' || detected.algorithm === 'RSA-PSS') {
    throw new AlgorithmUnsupported(
      'RSA private keys are supported for verification only; use Ed25519, P-256 or P-384.',
    );
  }
  return { der, algorithm: detected.algorithm };
}

/**
 * Imports a private signing key — PKCS#8 (`PRIVATE KEY`), SEC 1 (`EC PRIVATE KEY`) as PEM or DER, or a
 * JWK — and derives its public key, so what `openssl genpkey` writes loads here.
 *
 * @param input - PEM text, DER bytes, or a JWK object.
 * @param options.extractable - whether the returned private key is exportable; default false.
 * @throws ERR_KEY_ENCRYPTED for encrypted keys, ERR_ALG_UNSUPPORTED for RSA and other algorithms,
 *   ERR_KEY_MALFORMED / ERR_PEM_* / ERR_DER_* for bad input.
 * @example
 * const { privateKey, publicKey } = await importPrivateKey(await readFile('id.key', 'utf8'));
 */
export async function importPrivateKey(
  input: string | Uint8Array | JsonWebKey,
  options: ImportPrivateKeyOptions = {},
): Promise<CryptoKeyPair> {
  const subtle = subtleOf(options);
  const extractable = options.extractable ?? false;
  let jwk: JsonWebKey;
  let algorithm: SigningKeyAlgorithm;
  let pkcs8: Uint8Array | undefined;
  if (isJwk(input)) {
    algorithm = jwkAlgorithm(input);
    if (typeof input.d !== 'string') throw new KeyMalformed('The JWK has no private part ("d").');
    jwk = input;
  } else {
    const read = readPrivateKeyDer(input);
    algorithm = read.algorithm;
    pkcs8 = read.der;
    try {
      // Importing once as extractable is the portable way to derive the public half from a private key.
      const tmp = await subtle.importKey(
        'pkcs8',
        toArrayBuffer(pkcs8),
        importParams(algorithm),
        true,
        ['sign'],
      );
      jwk = await subtle.exportKey('jwk', tmp);
    } catch (e) {
      throw new KeyMalformed(
        `The ${algorithm} private key could not be imported (is it corrupt?).`,
        { cause: e },
      );
    }
  }
  const params = importParams(algorithm);
  const { d: _d, ...publicJwk } = jwk;
  void _d;
  try {
    const privateKey = pkcs8
      ? await subtle.importKey('pkcs8', toArrayBuffer(pkcs8), params, extractable, ['sign'])
      : await subtle.importKey(
          'jwk',
          { ...jwk, key_ops: ['sign'], ext: extractable },
          params,
          extractable,
          ['sign'],
        );
    const publicKey = await subtle.importKey(
      'jwk',
      { ...publicJwk, key_ops: ['verify'], ext: true },
      params,
      true,
      ['verify'],
    );
    return { privateKey, publicKey };
  } catch (e) {
    throw new KeyMalformed(`The ${algorithm} private key could not be imported (is it corrupt?).`, {
      cause: e,
    });
  }
}

/**
 * Imports a public key — SPKI (`PUBLIC KEY`) PEM or DER, or a JWK — for verification. RSA keys import
 * for RSASSA-PKCS1-v1_5 with `options.hash` (default SHA-256).
 *
 * @throws ERR_ALG_UNSUPPORTED, ERR_KEY_MALFORMED, ERR_PEM_* / ERR_DER_* for bad input.
 * @example
 * const key = await importPublicKey(pemText);
 */
export async function importPublicKey(
  input: string | Uint8Array | JsonWebKey,
  options: CryptoOptions & { hash?: 'SHA-256' | 'SHA-384' | 'SHA-512' } = {},
): Promise<CryptoKey> {
  const subtle = subtleOf(options);
  if (isJwk(input)) {
    const params =
      input.kty === 'RSA'
        ? { name: 'RSASSA-PKCS1-v1_5', hash: options.hash ?? 'SHA-256' }
        : importParams(jwkAlgorithm(input));
    const { d: _d, ...pub } = input;
    void _d;
    try {
      return await subtle.importKey('jwk', { ...pub, key_ops: ['verify'] }, params, true, [
        'verify',
      ]);
    } catch (e) {
      throw new KeyMalformed('The JWK public key could not be imported.', { cause: e });
    }
  }
  const { blocks } = readDerInput(input, ['PUBLIC KEY']);
  if (blocks.length !== 1)
    throw new KeyMalformed(`Expected one public key, found ${blocks.length} PEM blocks.`);
  const info = parsePublicKeyInfo(blocks[0]!.der);
  let params: EcKeyImportParams | RsaHashedImportParams | Algorithm;
  switch (info.algorithm) {
    case 'Ed25519':
    case 'P-256':
    case 'P-384':
    case 'P-521':
      params =
        info.algorithm === 'Ed25519'
          ? { name: 'Ed25519' }
          : { name: 'ECDSA', namedCurve: info.algorithm };
      break;
    case 'RSA':
      params = { name: 'RSASSA-PKCS1-v1_5', hash: options.hash ?? 'SHA-256' };
      break;
    default:
      throw new AlgorithmUnsupported(
        `Public keys of algorithm ${info.algorithmOid} are not supported.`,
      );
  }
  try {
    // The bare point or key for EC and Ed25519: the same CryptoKey, and in Node 3–4× cheaper to
    // import than the SPKI around it (OpenSSL 3 decodes SPKI through its generic decoder).
    return info.algorithm === 'RSA'
      ? await subtle.importKey('spki', toArrayBuffer(info.spki), params, true, ['verify'])
      : await subtle.importKey('raw', toArrayBuffer(info.publicKey), params, true, ['verify']);
  } catch (e) {
    throw new KeyMalformed(`The ${info.algorithm} public key could not be imported.`, { cause: e });
  }
}
