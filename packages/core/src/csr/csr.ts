/**
 * @module csr/csr — PKCS#10 certification requests (RFC 2986): create, parse, verify, and issue from them.
 */
import { CsrMalformed, ProfileViolation, SignatureInvalid } from '../errors.js';
import { rethrowAsMalformed } from '../internal/malformed.js';
import {
  bitString,
  bytesOf,
  children,
  ctx,
  Cursor,
  int,
  oid,
  readOid,
  readRoot,
  readSmallInt,
  seq,
  set,
  sortDer,
  TAG,
  tlv,
  type Tlv,
} from '../internal/der.js';
import { EKU_NAMES, OID } from '../internal/oids.js';
import { readOneDer } from '../encoding/pem.js';
import { subtleOf, type CryptoOptions } from '../keys/keys.js';
import { decodePublicKeyInfo, type PublicKeyInfo } from '../keys/public-key-info.js';
import type { Certificate } from '../x509/certificate.js';
import {
  basicConstraintsValue,
  decodeBasicConstraints,
  decodeExtensions,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeSubjectAltName,
  ekuOid,
  encodeExtension,
  extKeyUsageValue,
  keyUsageValue,
  subjectAltNameValue,
  type BasicConstraints,
  type Extension,
  type ExtendedKeyUsage,
  type KeyUsage,
} from '../x509/extensions.js';
import type { GeneralName } from '../x509/general-name.js';
import { decodeName, encodeName, type Name } from '../x509/name.js';
import {
  decodeSigned,
  signBytes,
  signingAlgorithmFor,
  verifyX509Signature,
  type AlgorithmIdentifier,
} from '../x509/signature.js';
import {
  CA_KEY_USAGE,
  checkDistinctNames,
  checkIssuer,
  childPathLength,
  DEFAULT_LEAF_EKUS,
  DEFAULT_LEAF_LIFETIME_SECONDS,
  identifierExtensions,
  leafExtensions,
  encodeTbs,
  type EncodedTbs,
  resolveValidity,
  signEncodedTbs,
  spkiOf,
  type Issuer,
  type ValidityOptions,
} from '../x509/build-certificate.js';

/** One PKCS#10 attribute. */
export interface CsrAttribute {
  readonly oid: string;
  /** DER of each value in the attribute's SET. */
  readonly values: readonly Uint8Array[];
}

/** A parsed certification request. */
export interface CertificationRequest {
  /** The whole request DER. */
  readonly der: Uint8Array;
  /** DER of certificationRequestInfo — the signed bytes. */
  readonly info: Uint8Array;
  readonly version: number;
  readonly subject: Name;
  readonly subjectDer: Uint8Array;
  readonly publicKey: PublicKeyInfo;
  readonly attributes: readonly CsrAttribute[];
  /** Extensions from the extensionRequest attribute (PKCS#9). */
  readonly extensions: readonly Extension[];
  readonly subjectAltNames?: readonly GeneralName[];
  readonly basicConstraints?: BasicConstraints;
  readonly keyUsage?: readonly KeyUsage[];
  readonly extKeyUsage?: readonly string[];
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Uint8Array;
}

/**
 * Decodes PKCS#10 DER. Most callers want {@link parseCsr}.
 *
 * @throws ERR_CSR_MALFORMED, ERR_DER_TRUNCATED, ERR_INPUT_TOO_LARGE.
 * @example
 * const csr = decodeCsr(derBytes);
 */
export function decodeCsr(der: Uint8Array): CertificationRequest {
  try {
    return decode(der);
  } catch (e) {
    return rethrowAsMalformed(e, CsrMalformed, 'certification request');
  }
}

function decodeAttributes(b: Uint8Array, t: Tlv): CsrAttribute[] {
  return children(b, t, 'attributes').map((a) => {
    const c = Cursor.of(b, a, 'attributes');
    const o = readOid(b, c.next(TAG.OID));
    const values = children(b, c.next(TAG.SET), 'attributes').map((v) => bytesOf(b, v));
    c.finish();
    return { oid: o, values };
  });
}

function decode(der: Uint8Array): CertificationRequest {
  const {
    body: infoT,
    signatureAlgorithm,
    signature,
  } = decodeSigned(
    der,
    {
      root: 'certificationRequest',
      body: 'certificationRequestInfo',
      signature: 'signature',
      what: 'certification request',
    },
    CsrMalformed,
  );
  const ic = Cursor.of(der, infoT, 'certificationRequestInfo');
  const version = readSmallInt(der, ic.next(TAG.INTEGER, 'version'), 'version');
  if (version !== 0)
    throw new CsrMalformed(
      `Certification request version ${version + 1} is not defined (only v1).`,
      { field: 'version' },
    );
  const subjectT = ic.next(TAG.SEQUENCE, 'subject');
  const publicKey = decodePublicKeyInfo(
    der,
    ic.next(TAG.SEQUENCE, 'subjectPKInfo'),
    'subjectPKInfo',
  );
  // RFC 2986 makes attributes mandatory; we read requests that omit it, as OpenSSL does.
  const attrT = ic.optional(ctx(0, true), 'attributes');
  ic.finish();
  const attributes = attrT ? decodeAttributes(der, attrT) : [];
  const req = attributes.find((a) => a.oid === OID.extensionRequest);
  let extensions: Extension[] = [];
  if (req) {
    if (req.values.length !== 1)
      throw new CsrMalformed('The extensionRequest attribute must hold exactly one value.', {
        field: 'attributes',
      });
    const v = req.values[0]!;
    extensions = decodeExtensions(v, readRoot(v, 'extensionRequest'), 'extensionRequest');
  }
  const out: { -readonly [K in keyof CertificationRequest]: CertificationRequest[K] } = {
    der,
    info: bytesOf(der, infoT),
    version: version + 1,
    subject: decodeName(der, subjectT, 'subject'),
    subjectDer: bytesOf(der, subjectT),
    publicKey,
    attributes,
    extensions,
    signatureAlgorithm,
    signature,
  };
  for (const e of extensions) {
    if (e.oid === OID.subjectAltName) out.subjectAltNames = decodeSubjectAltName(e.value);
    else if (e.oid === OID.basicConstraints) out.basicConstraints = decodeBasicConstraints(e.value);
    else if (e.oid === OID.keyUsage) out.keyUsage = decodeKeyUsage(e.value);
    else if (e.oid === OID.extKeyUsage) out.extKeyUsage = decodeExtKeyUsage(e.value);
  }
  return out;
}

/**
 * Parses a certification request from DER, PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) or base64-DER.
 *
 * @throws ERR_CSR_MALFORMED, ERR_DER_TRUNCATED, ERR_PEM_MALFORMED, ERR_PEM_LABEL_MISMATCH, ERR_BASE64_MALFORMED, ERR_INPUT_TOO_LARGE.
 * @example
 * const csr = parseCsr(pemText);
 * await verifyCsr(csr);
 */
export function parseCsr(input: Uint8Array | string): CertificationRequest {
  return decodeCsr(
    readOneDer(input, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], 'certification request'),
  );
}

/**
 * Verifies a request's self-signature (proof of possession of its private key).
 *
 * @throws ERR_SIGNATURE_INVALID when it does not verify; ERR_ALG_UNSUPPORTED for weak or unknown algorithms.
 * @example
 * await verifyCsr(parseCsr(pem)); // throws if forged
 */
export async function verifyCsr(
  csr: CertificationRequest,
  options: CryptoOptions = {},
): Promise<void> {
  const ok = await verifyX509Signature(
    csr.publicKey,
    csr.signatureAlgorithm,
    csr.info,
    csr.signature,
    subtleOf(options),
  );
  if (!ok)
    throw new SignatureInvalid(
      'The certification request signature does not verify: the request was altered or not signed by its key.',
      { field: 'signature' },
    );
}

/** Options for {@link createCsr}. */
export interface CreateCsrOptions extends CryptoOptions {
  /** The requested subject. */
  subject: Name;
  /** The key pair; its private key signs the request. */
  keyPair: CryptoKeyPair;
  /** Requested subject alternative names. */
  altNames?: readonly GeneralName[];
  /** Requested extended key usages. */
  extendedKeyUsages?: readonly ExtendedKeyUsage[];
  /** Ask for a CA certificate, optionally with a pathLen. */
  ca?: { pathLength?: number };
  /** Further requested extensions, encoded by the caller. */
  extensions?: readonly Extension[];
}

/**
 * Creates and signs a PKCS#10 request. The attributes field is always present (empty when nothing is
 * requested), as RFC 2986 requires and Go-based CAs such as cfssl insist.
 *
 * @throws ERR_ALG_UNSUPPORTED for keys we cannot sign with.
 * @example
 * const csr = await createCsr({ subject: personName({ commonName: 'Ada' }), keyPair: keys, altNames: [dnsName('ada.example')] });
 * console.log(encodePem('CERTIFICATE REQUEST', csr.der));
 */
export async function createCsr(options: CreateCsrOptions): Promise<CertificationRequest> {
  const subtle = subtleOf(options);
  const publicKey = await spkiOf(options.keyPair.publicKey, subtle);
  const exts: Extension[] = [];
  if (options.ca)
    exts.push({
      oid: OID.basicConstraints,
      critical: true,
      value: basicConstraintsValue({ ca: true, ...options.ca }),
    });
  if (options.extendedKeyUsages?.length)
    exts.push({
      oid: OID.extKeyUsage,
      critical: false,
      value: extKeyUsageValue(options.extendedKeyUsages),
    });
  if (options.altNames?.length) {
    exts.push({
      oid: OID.subjectAltName,
      critical: options.subject.length === 0,
      value: subjectAltNameValue(options.altNames),
    });
  }
  exts.push(...(options.extensions ?? []));
  const attrs = exts.length
    ? [seq(oid(OID.extensionRequest), set(seq(...exts.map(encodeExtension))))]
    : [];
  const info = seq(
    int(0),
    encodeName(options.subject),
    publicKey.spki,
    tlv(ctx(0, true), ...sortDer(attrs)),
  );
  const alg = signingAlgorithmFor(options.keyPair.privateKey);
  const signature = await signBytes(options.keyPair.privateKey, alg, info, subtle);
  return decodeCsr(seq(info, alg.algorithmIdentifier, bitString(signature)));
}

/** What {@link issueCertificateFromCsr} may grant. */
export interface IssuanceProfile {
  /** Certificate lifetime in seconds; default one year. Clamped to the issuer's validity. */
  lifetimeSeconds?: number;
  /** EKUs a request may ask for; default `['serverAuth', 'clientAuth']`. Requests asking for others are refused. */
  allowedExtendedKeyUsages?: readonly ExtendedKeyUsage[];
  /** Whether a request may ask for a CA certificate (basicConstraints cA); default false. */
  allowCa?: boolean;
  /** Upper bound on a CA request's pathLen (further clamped below the issuer's). */
  maxPathLength?: number;
  /** SAN kinds a request may carry; default all of dns, ip, email, uri. */
  allowedAltNameTypes?: readonly GeneralName['type'][];
  /** Refuse requests without subject alternative names; default false. */
  requireAltNames?: boolean;
  /** Replace the requested subject with this name. */
  subject?: Name;
  /** Grant these subject alternative names instead of the requested ones (a CA's fixups decide them). */
  altNames?: readonly GeneralName[];
  /** Grant exactly these EKUs; the request's own EKUs are then ignored, not checked. */
  extendedKeyUsages?: readonly ExtendedKeyUsage[];
}

/** Options for {@link issueCertificateFromCsr}. */
export interface IssueFromCsrOptions extends CryptoOptions, Pick<ValidityOptions, 'now'> {
  /** The signing CA. */
  issuer: Issuer;
  /** The request: parsed, or DER / PEM / base64. */
  csr: CertificationRequest | Uint8Array | string;
  /** What may be granted. */
  profile?: IssuanceProfile;
}

const UNDERSTOOD = new Set<string>([
  OID.subjectAltName,
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
]);

/**
 * Issues a certificate from a request under a profile: verifies the request's signature, refuses what the
 * profile does not allow (CA, EKUs, SAN kinds, unknown critical extensions) with ERR_ISSUE_PROFILE_VIOLATION,
 * copies subject and SANs, and signs with the issuer.
 *
 * @param options.issuer - the signing CA.
 * @param options.csr - the request.
 * @param options.profile - lifetime, allowed EKUs, CA or not; see {@link IssuanceProfile}.
 * @throws ERR_SIGNATURE_INVALID, ERR_ISSUE_PROFILE_VIOLATION, ERR_ISSUE_ISSUER_NOT_CA, ERR_ISSUE_PATHLEN_EXHAUSTED,
 *   ERR_ISSUE_VALIDITY, ERR_CSR_MALFORMED.
 * @example
 * const cert = await issueCertificateFromCsr({ issuer, csr: pem, profile: { lifetimeSeconds: 3600 } });
 */
export async function issueCertificateFromCsr(options: IssueFromCsrOptions): Promise<Certificate> {
  const csr =
    options.csr instanceof Uint8Array || typeof options.csr === 'string'
      ? parseCsr(options.csr)
      : options.csr;
  const profile = options.profile ?? {};
  checkIssuer(options.issuer);
  const issuer = options.issuer.certificate;
  for (const e of csr.extensions) {
    if (e.critical && !UNDERSTOOD.has(e.oid)) {
      throw new ProfileViolation(
        `The request asks for critical extension ${e.oid}, which this issuer does not understand.`,
        { field: e.oid },
      );
    }
  }
  const wantsCa = csr.basicConstraints?.ca === true;
  if (wantsCa && !profile.allowCa)
    throw new ProfileViolation(
      'The request asks for a CA certificate, which this profile does not allow.',
      { field: 'basicConstraints' },
    );
  const allowedEkus = new Set((profile.allowedExtendedKeyUsages ?? DEFAULT_LEAF_EKUS).map(ekuOid));
  for (const e of profile.extendedKeyUsages ? [] : (csr.extKeyUsage ?? [])) {
    if (!allowedEkus.has(e)) {
      throw new ProfileViolation(
        `The request asks for extended key usage ${EKU_NAMES[e] ?? e}, which this profile does not allow.`,
        { field: 'extKeyUsage' },
      );
    }
  }
  const allowedSan = new Set(profile.allowedAltNameTypes ?? ['dns', 'ip', 'email', 'uri']);
  const altNames = profile.altNames ?? csr.subjectAltNames;
  for (const n of altNames ?? []) {
    if (!allowedSan.has(n.type))
      throw new ProfileViolation(
        `The request asks for a ${n.type} subject alternative name, which this profile does not allow.`,
        { field: 'subjectAltName' },
      );
  }
  if (profile.requireAltNames && !altNames?.length) {
    throw new ProfileViolation(
      'This profile requires subject alternative names, and the request has none.',
      { field: 'subjectAltName' },
    );
  }
  const subject = profile.subject ?? csr.subject;
  checkDistinctNames(issuer, subject);
  const subjectName = profile.subject ? encodeName(profile.subject) : csr.subjectDer;
  const validity = resolveValidity(
    {
      lifetimeSeconds: profile.lifetimeSeconds ?? DEFAULT_LEAF_LIFETIME_SECONDS,
      ...(options.now ? { now: options.now } : {}),
    },
    DEFAULT_LEAF_LIFETIME_SECONDS,
    issuer,
  );
  // Proof of possession runs on WebCrypto's side while we encode the TBS here; nothing is signed before it passes.
  const verified = verifyCsr(csr, options);
  let encoded: EncodedTbs;
  try {
    let extensions: Extension[];
    if (wantsCa) {
      let requested = csr.basicConstraints?.pathLength;
      if (profile.maxPathLength !== undefined)
        requested = Math.min(requested ?? profile.maxPathLength, profile.maxPathLength);
      const pathLength = childPathLength(issuer, requested);
      extensions = [
        {
          oid: OID.basicConstraints,
          critical: true,
          value: basicConstraintsValue({ ca: true, pathLength }),
        },
        { oid: OID.keyUsage, critical: true, value: keyUsageValue(CA_KEY_USAGE) },
        ...identifierExtensions(csr.publicKey, issuer, subject, altNames),
      ];
    } else {
      extensions = leafExtensions(csr.publicKey, issuer, subject, {
        altNames,
        extendedKeyUsages:
          profile.extendedKeyUsages ??
          (csr.extKeyUsage?.length ? csr.extKeyUsage : [...allowedEkus]),
      });
    }
    encoded = encodeTbs(
      {
        issuerName: issuer.subjectDer,
        subjectName,
        publicKey: csr.publicKey,
        validity,
        extensions,
      },
      options.issuer.privateKey,
      options.crypto,
    );
  } catch (e) {
    // Settle the verification first so a forged request never leaves an unhandled rejection behind.
    await verified.catch(() => undefined);
    throw e;
  }
  await verified;
  return signEncodedTbs(encoded, options.issuer.privateKey, options);
}
