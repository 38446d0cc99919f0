/**
 * @module x509/build-certificate — issuing certificates: self-signed CAs, CAs under a parent, end entities.
 */
import {
  IssuerNotCa,
  KeyMismatch,
  NameValueInvalid,
  PathLengthExhausted,
  ValidityInvalid,
} from '../errors.js';
import { bitString, ctx, explicit, int, seq, time, tlv, TAG } from '../internal/der.js';
import { OID } from '../internal/oids.js';
import { sha256 } from '../internal/sha.js';
import { subtleOf, type CryptoOptions } from '../keys/keys.js';
import { parsePublicKeyInfo, type PublicKeyInfo } from '../keys/public-key-info.js';
import { lazyCertificate, type Certificate } from './certificate.js';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  encodeExtension,
  extKeyUsageValue,
  keyUsageValue,
  nameConstraintsValue,
  subjectAltNameValue,
  type Extension,
  type ExtendedKeyUsage,
  type KeyUsage,
  type NameConstraintsSpec,
} from './extensions.js';
import type { GeneralName } from './general-name.js';
import { encodeName, nameEquals, type Name } from './name.js';
import { signBytes, signingAlgorithmFor, type SigningAlgorithm } from './signature.js';

/** A CA certificate and its private key: what signs new certificates. */
export interface Issuer {
  readonly certificate: Certificate;
  readonly privateKey: CryptoKey;
}

/** A public key as a CryptoKey, a parsed SubjectPublicKeyInfo, or SPKI DER. */
export type PublicKeyInput = CryptoKey | PublicKeyInfo | Uint8Array;

/** Validity options: explicit dates, or a lifetime from `now`. */
export interface ValidityOptions {
  /** Start of validity; default `now` minus 60 s (tolerates clock skew). */
  notBefore?: Date;
  /** End of validity; default `notBefore + lifetimeSeconds`. */
  notAfter?: Date;
  /** Lifetime in seconds when `notAfter` is not given; defaults per certificate kind. */
  lifetimeSeconds?: number;
  /** The current time; default `new Date()`. */
  now?: Date;
}

/** Default lifetime of a CA certificate: 10 years. */
export const DEFAULT_CA_LIFETIME_SECONDS: number = 3650 * 86400;
/** Default lifetime of an end-entity certificate: 1 year (ORNL certified's default). */
export const DEFAULT_LEAF_LIFETIME_SECONDS: number = 365 * 86400;
const BACKDATE_MS = 60_000;

/**
 * The SubjectPublicKeyInfo of a public key given as a CryptoKey or SPKI DER.
 *
 * @example
 * ```ts
 * const info = await spkiOf(keyPair.publicKey, crypto.subtle);
 * ```
 */
export async function spkiOf(key: PublicKeyInput, subtle: SubtleCrypto): Promise<PublicKeyInfo> {
  if (key instanceof Uint8Array) return parsePublicKeyInfo(key);
  if (
    typeof (key as CryptoKey).type === 'string' &&
    typeof (key as CryptoKey).algorithm === 'object'
  ) {
    const k = key as CryptoKey;
    if (k.type !== 'public')
      throw new TypeError(`publicKey must be a public key, received a ${k.type} key`);
    return parsePublicKeyInfo(new Uint8Array(await subtle.exportKey('spki', k)));
  }
  return key as PublicKeyInfo;
}

/** RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits. */
export function keyIdentifier(key: PublicKeyInfo): Uint8Array {
  return sha256(key.publicKey).subarray(0, 20);
}

// getRandomValues costs a few µs per call in Node; drawing serials from a pooled buffer amortises it.
let pool = new Uint8Array(0);
let poolOffset = 0;
let poolSource: Crypto | undefined;

/** A positive random serial of 16 octets (RFC 5280 §4.1.2.2 allows up to 20). */
export function randomSerial(crypto: Crypto | undefined): Uint8Array {
  const c = crypto ?? (globalThis as { crypto: Crypto }).crypto;
  if (poolSource !== c || poolOffset + 16 > pool.length) {
    pool = c.getRandomValues(new Uint8Array(4096));
    poolOffset = 0;
    poolSource = c;
  }
  const s = pool.slice(poolOffset, poolOffset + 16);
  pool.fill(0, poolOffset, poolOffset + 16);
  poolOffset += 16;
  // High bit clear keeps it positive; a non-zero first octet keeps the encoding 16 octets and minimal.
  s[0] = s[0]! & 0x7f || 0x01;
  return s;
}

export interface ResolvedValidity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Resolves and clamps validity to the issuer's window (RFC 5280 §6.1.3 would reject anything outside it). */
export function resolveValidity(
  o: ValidityOptions,
  defaultLifetime: number,
  issuer?: Certificate,
): ResolvedValidity {
  const now = o.now ?? new Date();
  let nb = o.notBefore ?? new Date(now.getTime() - BACKDATE_MS);
  const lifetime = o.lifetimeSeconds ?? defaultLifetime;
  if (!(lifetime > 0))
    throw new RangeError(`lifetimeSeconds must be positive, received ${lifetime}`);
  let na = o.notAfter ?? new Date((o.notBefore ?? now).getTime() + lifetime * 1000);
  if (issuer) {
    if (nb < issuer.notBefore) nb = issuer.notBefore;
    if (na > issuer.notAfter) na = issuer.notAfter;
  }
  // Whole seconds, as encoded.
  nb = new Date(Math.floor(nb.getTime() / 1000) * 1000);
  na = new Date(Math.floor(na.getTime() / 1000) * 1000);
  if (na <= nb) {
    throw new ValidityInvalid(
      issuer && issuer.notAfter <= now
        ? `The issuer's certificate expired at ${issuer.notAfter.toISOString()}; it cannot issue.`
        : `The validity window is empty (notBefore ${nb.toISOString()}, notAfter ${na.toISOString()})${issuer ? " after clamping to the issuer's" : ''}.`,
      { field: 'validity' },
    );
  }
  return { notBefore: nb, notAfter: na };
}

/** Checks the issuer can sign certificates and its key matches its certificate's key type. */
export function checkIssuer(issuer: Issuer): void {
  const c = issuer.certificate;
  if (!c.basicConstraints?.ca) {
    throw new IssuerNotCa(
      'The issuer certificate is not a CA (basicConstraints cA is not TRUE), so it cannot sign certificates.',
      {
        field: 'issuer',
      },
    );
  }
  if (c.keyUsage && !c.keyUsage.includes('keyCertSign')) {
    throw new IssuerNotCa(
      'The issuer certificate lacks the keyCertSign key usage, so it cannot sign certificates.',
      { field: 'issuer' },
    );
  }
  signingAlgorithmFor(issuer.privateKey); // ERR_ALG_UNSUPPORTED for RSA/P-521 before the key-type comparison below
  const a = issuer.privateKey.algorithm as EcKeyAlgorithm;
  const keyAlg = a.name === 'ECDSA' ? a.namedCurve : a.name;
  if (keyAlg !== c.publicKey.algorithm) {
    throw new KeyMismatch(
      `The issuer's private key is ${keyAlg} but its certificate holds a ${c.publicKey.algorithm} key.`,
      {
        field: 'issuer.privateKey',
      },
    );
  }
}

/** Everything that goes into one tbsCertificate. */
export interface TbsSpec {
  readonly issuerName: Uint8Array;
  readonly subjectName: Uint8Array;
  readonly publicKey: PublicKeyInfo;
  readonly validity: ResolvedValidity;
  readonly extensions: readonly Extension[];
  readonly serial?: Uint8Array;
}

/** A tbsCertificate encoded and ready to sign. */
export interface EncodedTbs {
  readonly tbs: Uint8Array;
  readonly algorithm: SigningAlgorithm;
}

/** Encodes a tbsCertificate for `privateKey`'s signature algorithm (RFC 5280 §4.1). */
export function encodeTbs(
  spec: TbsSpec,
  privateKey: CryptoKey,
  crypto: Crypto | undefined,
): EncodedTbs {
  const algorithm = signingAlgorithmFor(privateKey);
  const tbs = seq(
    explicit(0, int(2)),
    tlv(TAG.INTEGER, spec.serial ?? randomSerial(crypto)),
    algorithm.algorithmIdentifier,
    spec.issuerName,
    seq(time(spec.validity.notBefore), time(spec.validity.notAfter)),
    spec.subjectName,
    spec.publicKey.spki,
    ...(spec.extensions.length
      ? [tlv(ctx(3, true), seq(...spec.extensions.map(encodeExtension)))]
      : []),
  );
  return { tbs, algorithm };
}

/** Signs an encoded tbsCertificate and returns the parsed certificate. */
export async function signEncodedTbs(
  encoded: EncodedTbs,
  privateKey: CryptoKey,
  options: CryptoOptions,
): Promise<Certificate> {
  const signature = await signBytes(privateKey, encoded.algorithm, encoded.tbs, subtleOf(options));
  return lazyCertificate(
    seq(encoded.tbs, encoded.algorithm.algorithmIdentifier, bitString(signature)),
  );
}

/** Encodes and signs a tbsCertificate, returning the parsed result. */
export function signTbs(
  spec: TbsSpec,
  privateKey: CryptoKey,
  options: CryptoOptions,
): Promise<Certificate> {
  return signEncodedTbs(encodeTbs(spec, privateKey, options.crypto), privateKey, options);
}

/** SKI, then AKI from the issuer (its SKI if it has one), then SAN — critical iff the subject is empty (§4.2.1.6). */
const akiExtensions = new WeakMap<Certificate, Extension>();

export function identifierExtensions(
  subjectKey: PublicKeyInfo,
  issuer: Certificate | undefined,
  subject: Name,
  altNames: readonly GeneralName[] | undefined,
): Extension[] {
  const out: Extension[] = [
    {
      oid: OID.subjectKeyIdentifier,
      critical: false,
      value: tlv(TAG.OCTET_STRING, keyIdentifier(subjectKey)),
    },
  ];
  if (issuer) {
    let aki = akiExtensions.get(issuer);
    if (!aki) {
      const kid = issuer.subjectKeyIdentifier ?? keyIdentifier(issuer.publicKey);
      aki = {
        oid: OID.authorityKeyIdentifier,
        critical: false,
        value: authorityKeyIdentifierValue(kid),
      };
      akiExtensions.set(issuer, aki);
    }
    out.push(aki);
  }
  if (altNames?.length)
    out.push({
      oid: OID.subjectAltName,
      critical: subject.length === 0,
      value: subjectAltNameValue(altNames),
    });
  else if (subject.length === 0) {
    throw new NameValueInvalid(
      'A certificate with an empty subject must carry subject alternative names (RFC 5280 §4.2.1.6).',
      {
        field: 'subject',
      },
    );
  }
  return out;
}

export const CA_KEY_USAGE: readonly KeyUsage[] = ['digitalSignature', 'keyCertSign', 'cRLSign'];

function nameConstraintsExtension(spec: NameConstraintsSpec | undefined): Extension[] {
  return spec
    ? [{ oid: OID.nameConstraints, critical: true, value: nameConstraintsValue(spec) }]
    : [];
}

function checkPathLength(n: number | undefined): void {
  if (n !== undefined && (!Number.isSafeInteger(n) || n < 0))
    throw new RangeError(`pathLength must be a non-negative integer, received ${n}`);
}

/** Options for {@link createSelfSignedCa}. */
export interface CreateSelfSignedCaOptions extends CryptoOptions, ValidityOptions {
  /** The CA's name (see `signingName` for ORNL certified's convention). */
  subject: Name;
  /** The CA key pair; its private key signs the certificate. */
  keyPair: CryptoKeyPair;
  /** pathLenConstraint; default 0 (may sign end entities only), as ORNL certified. */
  pathLength?: number;
  /** Optional subject alternative names. */
  altNames?: readonly GeneralName[];
  /** Names this CA may vouch for (a critical nameConstraints extension); default unconstrained. */
  nameConstraints?: NameConstraintsSpec;
}

/**
 * Creates a self-signed CA certificate: basicConstraints cA critical with pathLen; keyUsage keyCertSign,
 * cRLSign, digitalSignature critical; SKI. Signed with Ed25519 or ECDSA per the key.
 *
 * @param options.subject - the CA name.
 * @param options.keyPair - Ed25519, P-256 or P-384 key pair.
 * @param options.pathLength - default 0.
 * @param options.lifetimeSeconds - default 10 years; or give `notBefore`/`notAfter`.
 * @throws ERR_ALG_UNSUPPORTED for keys we cannot sign with; ERR_ISSUE_VALIDITY for an empty window.
 * @example
 * const keys = await generateKeyPair();
 * const ca = await createSelfSignedCa({ subject: signingName(personName({ commonName: 'Ada' })), keyPair: keys });
 */
export async function createSelfSignedCa(options: CreateSelfSignedCaOptions): Promise<Certificate> {
  checkPathLength(options.pathLength);
  const subtle = subtleOf(options);
  const publicKey = await spkiOf(options.keyPair.publicKey, subtle);
  const name = encodeName(options.subject);
  const validity = resolveValidity(options, DEFAULT_CA_LIFETIME_SECONDS);
  const extensions: Extension[] = [
    {
      oid: OID.basicConstraints,
      critical: true,
      value: basicConstraintsValue({ ca: true, pathLength: options.pathLength ?? 0 }),
    },
    { oid: OID.keyUsage, critical: true, value: keyUsageValue(CA_KEY_USAGE) },
    ...identifierExtensions(publicKey, undefined, options.subject, options.altNames),
    ...nameConstraintsExtension(options.nameConstraints),
  ];
  return signTbs(
    { issuerName: name, subjectName: name, publicKey, validity, extensions },
    options.keyPair.privateKey,
    options,
  );
}

/** Options for {@link issueCaCertificate}. */
export interface IssueCaCertificateOptions extends CryptoOptions, ValidityOptions {
  /** The parent CA. */
  issuer: Issuer;
  /** The new CA's name; must differ from the issuer's. */
  subject: Name;
  /** The new CA's public key. */
  publicKey: PublicKeyInput;
  /** Requested pathLenConstraint; clamped below the parent's; default the most the parent allows (0 under an unlimited parent). */
  pathLength?: number;
  /** Optional subject alternative names. */
  altNames?: readonly GeneralName[];
  /** Names this CA may vouch for (a critical nameConstraints extension); default unconstrained. */
  nameConstraints?: NameConstraintsSpec;
}

/** The pathLen a child CA gets under `parent` (RFC 5280 §4.2.1.9), or ERR_ISSUE_PATHLEN_EXHAUSTED. */
export function childPathLength(parent: Certificate, requested: number | undefined): number {
  const p = parent.basicConstraints?.pathLength;
  if (p === undefined) return requested ?? 0;
  if (p === 0) {
    throw new PathLengthExhausted(
      'The issuer has pathLenConstraint 0: it may sign end-entity certificates only, not another CA.',
      {
        field: 'issuer.basicConstraints',
      },
    );
  }
  return Math.min(requested ?? p - 1, p - 1);
}

export function checkDistinctNames(issuer: Certificate, subject: Name): void {
  if (nameEquals(issuer.subject, subject)) {
    throw new NameValueInvalid(
      "The subject name must differ from the issuer's, or path building cannot tell them apart.",
      {
        field: 'subject',
      },
    );
  }
}

/**
 * Issues a CA certificate signed by a parent CA; pathLen is clamped below the parent's and refused at 0.
 * Validity is clamped to the parent's.
 *
 * @throws ERR_ISSUE_ISSUER_NOT_CA, ERR_ISSUE_PATHLEN_EXHAUSTED, ERR_ISSUE_VALIDITY, ERR_KEY_MISMATCH.
 * @example
 * const sub = await issueCaCertificate({ issuer: { certificate: root, privateKey: rootKeys.privateKey },
 *   subject: organizationName({ organization: 'Acme', unit: 'Ops' }), publicKey: subKeys.publicKey });
 */
export async function issueCaCertificate(options: IssueCaCertificateOptions): Promise<Certificate> {
  checkPathLength(options.pathLength);
  checkIssuer(options.issuer);
  const parent = options.issuer.certificate;
  checkDistinctNames(parent, options.subject);
  const pathLength = childPathLength(parent, options.pathLength);
  const publicKey = await spkiOf(options.publicKey, subtleOf(options));
  const validity = resolveValidity(options, DEFAULT_CA_LIFETIME_SECONDS, parent);
  const extensions: Extension[] = [
    {
      oid: OID.basicConstraints,
      critical: true,
      value: basicConstraintsValue({ ca: true, pathLength }),
    },
    { oid: OID.keyUsage, critical: true, value: keyUsageValue(CA_KEY_USAGE) },
    ...identifierExtensions(publicKey, parent, options.subject, options.altNames),
    ...nameConstraintsExtension(options.nameConstraints),
  ];
  return signTbs(
    {
      issuerName: parent.subjectDer,
      subjectName: encodeName(options.subject),
      publicKey,
      validity,
      extensions,
    },
    options.issuer.privateKey,
    options,
  );
}

/** Options for {@link issueEndEntityCertificate}. */
export interface IssueEndEntityOptions extends CryptoOptions, ValidityOptions {
  /** The signing CA. */
  issuer: Issuer;
  /** The subject name (may be empty if `altNames` is given). */
  subject: Name;
  /** The subject's public key. */
  publicKey: PublicKeyInput;
  /** Subject alternative names: DNS, IP, email, URI. */
  altNames?: readonly GeneralName[];
  /** Extended key usages; default `['serverAuth', 'clientAuth']`. */
  extendedKeyUsages?: readonly ExtendedKeyUsage[];
  /** Key usages; default `['digitalSignature']`. */
  keyUsages?: readonly KeyUsage[];
}

export const DEFAULT_LEAF_EKUS: readonly ExtendedKeyUsage[] = ['serverAuth', 'clientAuth'];

export function leafExtensions(
  publicKey: PublicKeyInfo,
  issuer: Certificate,
  subject: Name,
  o: {
    altNames?: readonly GeneralName[] | undefined;
    extendedKeyUsages?: readonly ExtendedKeyUsage[] | undefined;
    keyUsages?: readonly KeyUsage[] | undefined;
  },
): Extension[] {
  const ekus = o.extendedKeyUsages ?? DEFAULT_LEAF_EKUS;
  return [
    LEAF_BASIC_CONSTRAINTS,
    o.keyUsages
      ? { oid: OID.keyUsage, critical: true, value: keyUsageValue(o.keyUsages) }
      : LEAF_KEY_USAGE,
    ...(ekus.length ? [ekuExtension(ekus)] : []),
    ...identifierExtensions(publicKey, issuer, subject, o.altNames),
  ];
}

// Encoded once: every leaf carries the same values.
const LEAF_BASIC_CONSTRAINTS: Extension = {
  oid: OID.basicConstraints,
  critical: true,
  value: basicConstraintsValue({ ca: false }),
};
const LEAF_KEY_USAGE: Extension = {
  oid: OID.keyUsage,
  critical: true,
  value: keyUsageValue(['digitalSignature']),
};
const ekuExtensions = new Map<string, Extension>();
function ekuExtension(ekus: readonly ExtendedKeyUsage[]): Extension {
  const key = ekus.join(',');
  let ext = ekuExtensions.get(key);
  if (!ext) {
    ext = { oid: OID.extKeyUsage, critical: false, value: extKeyUsageValue(ekus) };
    if (ekuExtensions.size < 64) ekuExtensions.set(key, ext);
  }
  return ext;
}

/**
 * Issues an end-entity certificate: CA:false; keyUsage digitalSignature; EKU serverAuth+clientAuth; SAN;
 * AKI; SKI. Validity defaults to one year, clamped to the issuer's.
 *
 * @throws ERR_ISSUE_ISSUER_NOT_CA, ERR_ISSUE_VALIDITY, ERR_KEY_MISMATCH, ERR_NAME_VALUE_INVALID (empty subject without SAN).
 * @example
 * const leaf = await issueEndEntityCertificate({ issuer, subject: personName({ commonName: 'Ada' }),
 *   publicKey: keys.publicKey, altNames: [emailAddress('ada@example.org')] });
 */
export async function issueEndEntityCertificate(
  options: IssueEndEntityOptions,
): Promise<Certificate> {
  checkIssuer(options.issuer);
  const issuer = options.issuer.certificate;
  checkDistinctNames(issuer, options.subject);
  const publicKey = await spkiOf(options.publicKey, subtleOf(options));
  const validity = resolveValidity(options, DEFAULT_LEAF_LIFETIME_SECONDS, issuer);
  return signTbs(
    {
      issuerName: issuer.subjectDer,
      subjectName: encodeName(options.subject),
      publicKey,
      validity,
      extensions: leafExtensions(publicKey, issuer, options.subject, options),
    },
    options.issuer.privateKey,
    options,
  );
}
