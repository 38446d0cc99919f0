/**
 * @module errors — the one error family of @certified/core: `CertifiedError` subclasses with stable codes.
 */

/** Every stable error code @certified/core can throw. Codes are public API: added freely, never renamed. */
export type CertifiedErrorCode =
  | 'ERR_INPUT_TOO_LARGE'
  | 'ERR_DER_TRUNCATED'
  | 'ERR_DER_MALFORMED'
  | 'ERR_PEM_MALFORMED'
  | 'ERR_PEM_LABEL_MISMATCH'
  | 'ERR_BASE64_MALFORMED'
  | 'ERR_CERT_MALFORMED'
  | 'ERR_CSR_MALFORMED'
  | 'ERR_CRL_MALFORMED'
  | 'ERR_KEY_MALFORMED'
  | 'ERR_KEY_ENCRYPTED'
  | 'ERR_KEY_NOT_EXTRACTABLE'
  | 'ERR_KEY_MISMATCH'
  | 'ERR_ALG_UNSUPPORTED'
  | 'ERR_NAME_SYNTAX'
  | 'ERR_NAME_VALUE_INVALID'
  | 'ERR_SAN_INVALID'
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_ISSUE_ISSUER_NOT_CA'
  | 'ERR_ISSUE_PATHLEN_EXHAUSTED'
  | 'ERR_ISSUE_VALIDITY'
  | 'ERR_ISSUE_PROFILE_VIOLATION'
  | 'ERR_CRYPTO_FAILURE'
  | IntroCode
  | PathValidationCode
  | StoreCode
  | IdentityCode
  | NetworkCode
  | AuthCode;

/**
 * Why an introduction letter (ORNL certified's `introduce` / `add-intro` JSON) was refused, or could
 * not be made. See `parseIntroLetter`, `verifyIntroLetter`, `createIntroLetter`.
 */
export type IntroCode =
  /** The letter is not JSON, lacks `signed_cert`/`ca_cert`, has bad base64 or DER, or bad `services`. */
  | 'ERR_INTRO_MALFORMED'
  /** `signed_cert` was not signed by `ca_cert` (signature or issuer name does not match). */
  | 'ERR_INTRO_SIGNATURE_INVALID'
  /** `ca_cert` is not a CA certificate, so it cannot vouch for anyone. */
  | 'ERR_INTRO_ISSUER_NOT_CA'
  /** `signed_cert` carries a different public key than ours: a letter for another key. */
  | 'ERR_INTRO_KEY_MISMATCH'
  /** A CA certificate where an identity (end-entity) certificate belongs. */
  | 'ERR_INTRO_NOT_IDENTITY'
  /** `signed_cert` or `ca_cert` has expired at the verification time. */
  | 'ERR_INTRO_EXPIRED'
  /** `signed_cert` or `ca_cert` is not yet valid at the verification time. */
  | 'ERR_INTRO_NOT_YET_VALID'
  /** The subject's certificate or CSR given to `createIntroLetter` is unreadable, forged or unusable. */
  | 'ERR_INTRO_SUBJECT_INVALID';

/** Why reading or writing an identity directory failed (see `IdentityStore`). */
export type StoreCode =
  /** A file exists and the change would replace it without `overwrite`. */
  | 'ERR_STORE_EXISTS'
  /** The directory (or a file it needs) is not readable or writable: permissions or a read-only mount. */
  | 'ERR_STORE_PERMISSION'
  /** The disk or quota is full. */
  | 'ERR_STORE_NO_SPACE'
  /** A path that must be a directory is a file, or the reverse. */
  | 'ERR_STORE_NOT_DIRECTORY'
  /** A path is not a plain relative path inside the directory (`..`, absolute, empty segment). */
  | 'ERR_STORE_PATH_INVALID'
  /** Any other I/O failure; `cause` carries the system error. */
  | 'ERR_STORE_IO';

/** Why a connection to a peer failed before our validator could judge it (adapters raise these). */
export type NetworkCode =
  /** The peer could not be reached: refused, unreachable, unknown host, reset before the handshake. */
  | 'ERR_NET_CONNECT'
  /** The peer did not answer in time. */
  | 'ERR_NET_TIMEOUT'
  /** The TLS handshake failed: the peer refused our certificate, no common protocol, or a bad alert. */
  | 'ERR_NET_TLS'
  /** The peer broke the protocol after the handshake (malformed HTTP, closed mid-response). */
  | 'ERR_NET_PROTOCOL'
  /** The URL cannot be used: not https, no host, or a bad port. */
  | 'ERR_NET_URL'
  /**
   * A client address was refused too often (`refusalLimit`): its connections are dropped before
   * the TLS handshake until it has waited long enough.
   */
  | 'ERR_NET_THROTTLED';

/** Why a request was not authenticated or not authorised by its client certificate or its signature (@certified/hono). */
export type AuthCode =
  /** The request carries no client certificate: none on the TLS connection, none forwarded by the proxy. */
  | 'ERR_AUTH_NO_CERTIFICATE'
  /** A trusted proxy forwarded a certificate header that cannot be read (quoting, escaping, PEM, size). */
  | 'ERR_AUTH_HEADER_MALFORMED'
  /** A forwarded-certificate header came from an address that is not a configured proxy; it was ignored. */
  | 'ERR_AUTH_PROXY_UNTRUSTED'
  /** The certificate is trusted, but the application's `authorize` check refused the caller. */
  | 'ERR_AUTH_FORBIDDEN'
  /** A signed request (RFC 9421, `requireSignedRequest`) carries no `Signature`/`Signature-Input` labelled `certified`. */
  | 'ERR_AUTH_SIGNATURE_MISSING'
  /** The signature headers or the `Certified-Chain` header cannot be read: syntax, size, too many certificates. */
  | 'ERR_AUTH_SIGNATURE_MALFORMED'
  /** The signature does not cover what it must (`@method`, `@target-uri`, `certified-chain`, `content-digest`; `created`, `expires`, `nonce`, `keyid`, `alg`). */
  | 'ERR_AUTH_SIGNATURE_COVERAGE'
  /** The signature's `created`/`expires` window is not now (clock skew beyond the allowance), or too long. */
  | 'ERR_AUTH_SIGNATURE_EXPIRED'
  /** `keyid` does not name the chain's first certificate, or `alg` does not fit its key. */
  | 'ERR_AUTH_SIGNATURE_KEY_MISMATCH'
  /** The signature does not verify: a covered component was changed, or another key signed. */
  | 'ERR_AUTH_SIGNATURE_INVALID'
  /** The body does not match its `Content-Digest` (RFC 9530, sha-256), or a body came without one. */
  | 'ERR_AUTH_DIGEST_MISMATCH'
  /** The body is larger than the middleware reads to check its digest. */
  | 'ERR_AUTH_BODY_TOO_LARGE'
  /** The signature's nonce was already used within its window: a replayed request. */
  | 'ERR_AUTH_REPLAY'
  /** The nonce cache is full of unexpired nonces, so a new one cannot be recorded; try again later. */
  | 'ERR_AUTH_REPLAY_CACHE_FULL';

/** Why an identity directory, or an operation on it, was refused. */
export type IdentityCode =
  /** The directory holds no identity (`certified init` has not run there). */
  | 'ERR_IDENTITY_NOT_FOUND'
  /** `init` would replace an existing identity without `overwrite`. */
  | 'ERR_IDENTITY_EXISTS'
  /** A file of the identity is unreadable: a corrupt key or certificate (`field` names the file). */
  | 'ERR_IDENTITY_FILE_INVALID'
  /** A private key does not belong to the certificate beside it (`id.key` vs `id.crt`). */
  | 'ERR_IDENTITY_KEY_MISMATCH'
  /** The operation needs the signing CA (`CA.key`), which this directory does not hold (after `set-org`). */
  | 'ERR_IDENTITY_NO_SIGNER'
  /** A client or service name that cannot be a file name (`/`, `..`, control characters, empty). */
  | 'ERR_IDENTITY_NAME_INVALID'
  /** Bad input for an identity operation: a certificate that cannot be read, conflicting options. */
  | 'ERR_IDENTITY_INPUT_INVALID'
  /** `known_servers/<alias>.yaml` is unreadable or lacks a valid `url` (`field` names the key). */
  | 'ERR_SERVICE_INVALID'
  /** No `known_servers/<alias>.yaml` for the alias asked for. */
  | 'ERR_SERVICE_UNKNOWN'
  /** None of our certificates is signed by a signer the service accepts (its `auths`). */
  | 'ERR_SERVICE_NO_CHAIN'
  /**
   * An introduction letter names a service by what a URL would read as a real host — a dotted name, an
   * IP address, `host:port` or `localhost` — so installing it would reroute requests for that host.
   */
  | 'ERR_SERVICE_ALIAS_HOSTLIKE'
  /**
   * A letter would replace a service file (or `id/<signer>.crt`) that another introducer, or
   * `add-service`, wrote: one pinned to another CA. Letters never do, even with `overwrite`.
   */
  | 'ERR_SERVICE_CONFLICT';

/**
 * Why a certificate path was refused (see `validatePath`). One code per condition; the message and
 * `certIndex` say which certificate (0 = the peer, counting towards the anchor).
 */
export type PathValidationCode =
  /** The peer certificate cannot be parsed. */
  | 'ERR_CHAIN_PEER_MALFORMED'
  /** No chain of issuers leads from the peer to a trust anchor. */
  | 'ERR_CHAIN_NO_PATH'
  /** A certificate on the path has expired at the validation time. */
  | 'ERR_CHAIN_EXPIRED'
  /** A certificate on the path is not yet valid at the validation time. */
  | 'ERR_CHAIN_NOT_YET_VALID'
  /** A signature on the path does not verify with its issuer's key. */
  | 'ERR_CHAIN_SIGNATURE_INVALID'
  /** A signature algorithm or public key is refused (SHA-1, weak RSA, unknown curve, …). */
  | 'ERR_CHAIN_ALGORITHM'
  /** An issuer is not a CA (no basicConstraints, or cA not asserted). */
  | 'ERR_CHAIN_ISSUER_NOT_CA'
  /** A CA's pathLenConstraint is exceeded. */
  | 'ERR_CHAIN_PATH_LENGTH'
  /** The path needs more intermediates than the maximum depth allows. */
  | 'ERR_CHAIN_TOO_DEEP'
  /** A name on the path is outside a CA's name constraints. */
  | 'ERR_CHAIN_NAME_CONSTRAINTS'
  /** A certificate's extended key usage does not allow the purpose. */
  | 'ERR_CHAIN_EKU'
  /** A certificate carries a critical extension we do not handle. */
  | 'ERR_CHAIN_CRITICAL_EXTENSION'
  /** A certificate breaks the profile (RFC 5280, or CA/B Forum rules under the webpki profile). */
  | 'ERR_CHAIN_PROFILE'
  /** The peer certificate does not carry the expected name (DNS, IP, email or URI). */
  | 'ERR_CHAIN_PEER_NAME'
  /** Path building hit its work budget (candidates, signature checks or name-constraint work). */
  | 'ERR_CHAIN_BUDGET'
  /**
   * What the peer presented is over a size limit (certificates or bytes in its chain), or a
   * certificate carries more subjectAltNames or nameConstraints subtrees than the limit allows.
   */
  | 'ERR_CHAIN_TOO_LARGE'
  /** A certificate on the path is listed on a CRL its issuer signed (`PathValidatorOptions.crls`). */
  | 'ERR_CHAIN_REVOKED'
  /**
   * A CRL given for an issuer on the path cannot be relied on (bad signature, out of date, not v2,
   * no crlNumber, an unknown critical extension, an issuer without cRLSign), so revocation cannot be
   * checked and the path is refused.
   */
  | 'ERR_CHAIN_CRL_INVALID';

/** Structured details an error may carry besides its message. */
export interface CertifiedErrorDetails {
  /** The input field or structure the problem is in, e.g. `"tbsCertificate.validity"` or `"dns"`. */
  field?: string;
  /** A short machine-friendly reason, e.g. `"non-minimal length"`. */
  reason?: string;
  /** The underlying exception, if any. */
  cause?: unknown;
}

/**
 * Base class of every error @certified/core throws for untrusted input or failed checks.
 * Caller bugs (wrong option types) are `TypeError`/`RangeError` instead.
 *
 * @example
 * try { parseCertificate(bytes) } catch (e) {
 *   if (e instanceof CertifiedError) console.error(`${e.code}: ${e.message}`);
 * }
 */
export abstract class CertifiedError extends Error {
  /** Stable machine-readable code, `ERR_<AREA>_<CONDITION>`. */
  abstract readonly code: CertifiedErrorCode;
  /** The input field or structure the problem is in. */
  readonly field: string | undefined;
  /** Short machine-friendly reason. */
  readonly reason: string | undefined;

  constructor(message: string, details: CertifiedErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.field = details.field;
    this.reason = details.reason;
  }

  /** A JSON-friendly view: `{ code, message, field?, reason? }`. */
  toJSON(): { code: CertifiedErrorCode; message: string; field?: string; reason?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.reason === undefined ? {} : { reason: this.reason }),
    };
  }
}

/** An input exceeds the size limit for its kind. */
export class InputTooLarge extends CertifiedError {
  readonly code = 'ERR_INPUT_TOO_LARGE' as const;
}
/** DER ends before a length says it should. */
export class DerTruncated extends CertifiedError {
  readonly code = 'ERR_DER_TRUNCATED' as const;
}
/** Bytes are not valid DER (bad tag, non-minimal or indefinite length, trailing data, …). */
export class DerMalformed extends CertifiedError {
  readonly code = 'ERR_DER_MALFORMED' as const;
}
/** Text is not PEM, or a PEM block is broken. */
export class PemMalformed extends CertifiedError {
  readonly code = 'ERR_PEM_MALFORMED' as const;
}
/** A PEM block has a different label than the one expected (e.g. a key where a certificate belongs). */
export class PemLabelMismatch extends CertifiedError {
  readonly code = 'ERR_PEM_LABEL_MISMATCH' as const;
}
/** Text is not valid base64. */
export class Base64Malformed extends CertifiedError {
  readonly code = 'ERR_BASE64_MALFORMED' as const;
}
/** DER that does not have the structure of an X.509 certificate (RFC 5280 §4.1). */
export class CertificateMalformed extends CertifiedError {
  readonly code = 'ERR_CERT_MALFORMED' as const;
}
/** DER that does not have the structure of a PKCS#10 request (RFC 2986). */
export class CsrMalformed extends CertifiedError {
  readonly code = 'ERR_CSR_MALFORMED' as const;
}
/** DER that does not have the structure of an X.509 CRL (RFC 5280 §5.1). */
export class CrlMalformed extends CertifiedError {
  readonly code = 'ERR_CRL_MALFORMED' as const;
}
/** A key that cannot be read (bad PKCS#8/SPKI/JWK, wrong curve point, …). */
export class KeyMalformed extends CertifiedError {
  readonly code = 'ERR_KEY_MALFORMED' as const;
}
/** An encrypted private key; decrypt it first (e.g. `openssl pkcs8 -nocrypt`). */
export class KeyEncrypted extends CertifiedError {
  readonly code = 'ERR_KEY_ENCRYPTED' as const;
}
/** The key was created non-extractable, so it cannot be exported. */
export class KeyNotExtractable extends CertifiedError {
  readonly code = 'ERR_KEY_NOT_EXTRACTABLE' as const;
}
/** Two keys that must belong together do not (e.g. a private key that does not match a certificate). */
export class KeyMismatch extends CertifiedError {
  readonly code = 'ERR_KEY_MISMATCH' as const;
}
/** An algorithm (key type, curve, signature or hash) we do not support for this operation. */
export class AlgorithmUnsupported extends CertifiedError {
  readonly code = 'ERR_ALG_UNSUPPORTED' as const;
}
/** An RFC 4514 string that cannot be parsed. */
export class NameSyntaxError extends CertifiedError {
  readonly code = 'ERR_NAME_SYNTAX' as const;
}
/** A name attribute whose value is not allowed (e.g. a country code that is not two letters). */
export class NameValueInvalid extends CertifiedError {
  readonly code = 'ERR_NAME_VALUE_INVALID' as const;
}
/** A subject alternative name that is malformed (`field` says which kind: dns, ip, email, uri). */
export class AltNameInvalid extends CertifiedError {
  readonly code = 'ERR_SAN_INVALID' as const;
}
/** A signature does not verify. */
export class SignatureInvalid extends CertifiedError {
  readonly code = 'ERR_SIGNATURE_INVALID' as const;
}
/** The would-be issuer is not a CA allowed to sign certificates. */
export class IssuerNotCa extends CertifiedError {
  readonly code = 'ERR_ISSUE_ISSUER_NOT_CA' as const;
}
/** The issuer's pathLenConstraint leaves no room for another CA below it. */
export class PathLengthExhausted extends CertifiedError {
  readonly code = 'ERR_ISSUE_PATHLEN_EXHAUSTED' as const;
}
/** The requested validity is empty, or empty after clamping to the issuer's. */
export class ValidityInvalid extends CertifiedError {
  readonly code = 'ERR_ISSUE_VALIDITY' as const;
}
/** A request asks for something the issuing profile does not allow. */
export class ProfileViolation extends CertifiedError {
  readonly code = 'ERR_ISSUE_PROFILE_VIOLATION' as const;
}
/** The WebCrypto implementation refused an operation. */
export class CryptoFailure extends CertifiedError {
  readonly code = 'ERR_CRYPTO_FAILURE' as const;
}

/** An introduction letter that is not well-formed (`field` names the JSON field). */
export class IntroMalformed extends CertifiedError {
  readonly code = 'ERR_INTRO_MALFORMED' as const;
}
/** A letter whose `signed_cert` was not issued by its `ca_cert`. */
export class IntroSignatureInvalid extends CertifiedError {
  readonly code = 'ERR_INTRO_SIGNATURE_INVALID' as const;
}
/** A letter whose `ca_cert` is not a CA. */
export class IntroIssuerNotCa extends CertifiedError {
  readonly code = 'ERR_INTRO_ISSUER_NOT_CA' as const;
}
/** A letter issued for another public key than ours. */
export class IntroKeyMismatch extends CertifiedError {
  readonly code = 'ERR_INTRO_KEY_MISMATCH' as const;
}
/** A CA certificate offered or delivered as an identity. */
export class IntroNotIdentity extends CertifiedError {
  readonly code = 'ERR_INTRO_NOT_IDENTITY' as const;
}
/** A letter certificate that has expired (`field` says which: `signed_cert` or `ca_cert`). */
export class IntroExpired extends CertifiedError {
  readonly code = 'ERR_INTRO_EXPIRED' as const;
}
/** A letter certificate that is not yet valid (`field` says which: `signed_cert` or `ca_cert`). */
export class IntroNotYetValid extends CertifiedError {
  readonly code = 'ERR_INTRO_NOT_YET_VALID' as const;
}
/** A subject certificate or CSR that cannot be introduced (unreadable, bad signature, unsupported key). */
export class IntroSubjectInvalid extends CertifiedError {
  readonly code = 'ERR_INTRO_SUBJECT_INVALID' as const;
}

/** An identity-directory read or write failed; `field` is the path inside the directory. */
export class StoreError extends CertifiedError {
  readonly code: StoreCode;
  constructor(code: StoreCode, message: string, details: CertifiedErrorDetails = {}) {
    super(message, details);
    this.code = code;
  }
}

/** An identity operation was refused; `field` names the file or option at fault. */
export class IdentityError extends CertifiedError {
  readonly code: IdentityCode;
  constructor(code: IdentityCode, message: string, details: CertifiedErrorDetails = {}) {
    super(message, details);
    this.code = code;
  }
}

/** A connection failed before or outside chain validation; `cause` carries the system error. */
export class NetworkError extends CertifiedError {
  readonly code: NetworkCode;
  constructor(code: NetworkCode, message: string, details: CertifiedErrorDetails = {}) {
    super(message, details);
    this.code = code;
  }
}

/** A request was refused authentication or authorisation; `field` names the header at fault, if any. */
export class AuthError extends CertifiedError {
  readonly code: AuthCode;
  constructor(code: AuthCode, message: string, details: CertifiedErrorDetails = {}) {
    super(message, details);
    this.code = code;
  }
}

/** One path the validator tried, and why it failed. */
export interface PathAttempt {
  /** Subjects (RFC 4514) from the peer towards the anchor, as far as the attempt got. */
  readonly path: readonly string[];
  readonly code: PathValidationCode;
  readonly message: string;
  /** Index in `path` of the certificate that failed. */
  readonly certIndex: number;
}

/**
 * A certificate path was refused. `code` says why (the most telling failure); `attempts` lists every
 * path tried and why each failed.
 *
 * @example
 * try { await validator.assertValid({ peer, purpose: 'clientAuth' }) } catch (e) {
 *   if (e instanceof PathValidationError) log(e.code, e.attempts);
 * }
 */
export class PathValidationError extends CertifiedError {
  readonly code: PathValidationCode;
  /** Index of the failing certificate on its path (0 = the peer). */
  readonly certIndex: number;
  readonly attempts: readonly PathAttempt[];

  constructor(
    code: PathValidationCode,
    message: string,
    details: CertifiedErrorDetails & { certIndex?: number; attempts?: readonly PathAttempt[] } = {},
  ) {
    super(message, details);
    this.code = code;
    this.certIndex = details.certIndex ?? 0;
    this.attempts = details.attempts ?? [];
  }
}

/** Union of every concrete error class, so `switch (e.code)` narrows. */
export type AnyCertifiedError =
  | InputTooLarge
  | DerTruncated
  | DerMalformed
  | PemMalformed
  | PemLabelMismatch
  | Base64Malformed
  | CertificateMalformed
  | CsrMalformed
  | KeyMalformed
  | KeyEncrypted
  | KeyNotExtractable
  | KeyMismatch
  | AlgorithmUnsupported
  | NameSyntaxError
  | NameValueInvalid
  | AltNameInvalid
  | SignatureInvalid
  | IssuerNotCa
  | PathLengthExhausted
  | ValidityInvalid
  | ProfileViolation
  | CryptoFailure
  | IntroMalformed
  | IntroSignatureInvalid
  | IntroIssuerNotCa
  | IntroKeyMismatch
  | IntroNotIdentity
  | IntroExpired
  | IntroNotYetValid
  | IntroSubjectInvalid
  | StoreError
  | IdentityError
  | NetworkError
  | AuthError
  | PathValidationError;

/**
 * True when `e` is one of our errors; narrows to {@link AnyCertifiedError}.
 *
 * @example
 * if (isCertifiedError(e) && e.code === 'ERR_DER_TRUNCATED') retryDownload();
 */
export function isCertifiedError(e: unknown): e is AnyCertifiedError {
  return e instanceof CertifiedError;
}
