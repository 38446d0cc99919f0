/**
 * @module errors — the CA service's one error class: a stable `ERR_CA_…` code, one human sentence, the
 * HTTP status it maps to, and (for refusals) the validator and the value it refused.
 */

/** Every code the CA service answers with. Codes are public API: added freely, never renamed. */
export type CaErrorCode =
  /** The configuration file is unreadable or breaks the schema; `field` names the key. */
  | 'ERR_CA_CONFIG_INVALID'
  /** No registration authority by that name. */
  | 'ERR_CA_RA_UNKNOWN'
  /** The request body is not what the endpoint reads (missing field, bad JSON, bad encoding). */
  | 'ERR_CA_REQUEST_INVALID'
  /** The request body is larger than the endpoint accepts. */
  | 'ERR_CA_BODY_TOO_LARGE'
  /** The CSR cannot be read (bad PEM, DER or structure). */
  | 'ERR_CA_CSR_MALFORMED'
  /** The CSR's signature does not verify: no proof of possession of its key. */
  | 'ERR_CA_CSR_SIGNATURE'
  /** No credentials for the RA's authentication (no user/secret, no token, no client certificate). */
  | 'ERR_CA_AUTH_REQUIRED'
  /** The credentials were refused (wrong secret, bad token, untrusted or expired certificate). */
  | 'ERR_CA_AUTH_FAILED'
  /** A validator refused the request; `validator` and `value` say which and what. */
  | 'ERR_CA_VALIDATION_FAILED'
  /** The subject, key or certificate is revoked: no renewal or re-issue until the revocation is lifted. */
  | 'ERR_CA_REVOKED'
  /** A renewal asked for a different subject than the certificate presented. */
  | 'ERR_CA_RENEW_MISMATCH'
  /** The signer refused to issue (profile, validity); `cause` carries core's error. */
  | 'ERR_CA_ISSUE_FAILED'
  /** The store failed; `cause` carries the driver's error. */
  | 'ERR_CA_STORE_FAILED'
  /** The embedded store's data directory is open in another process (PGlite has one writer). */
  | 'ERR_CA_STORE_BUSY'
  /** A revocation names nothing the store knows. */
  | 'ERR_CA_NOT_FOUND'
  /** Authenticated, but not allowed this: a certificate holder revoking another, or lifting. */
  | 'ERR_CA_FORBIDDEN'
  /** Too many refusals from this address in the last minute: answered before any work, not recorded one by one. */
  | 'ERR_CA_RATE_LIMITED'
  /** No such route (or method) in the CA's API. */
  | 'ERR_CA_ROUTE_UNKNOWN'
  /** A bug or an unexpected failure; the message says no more, the server's log does. */
  | 'ERR_CA_INTERNAL';

const STATUS: Record<CaErrorCode, number> = {
  ERR_CA_CONFIG_INVALID: 500,
  ERR_CA_RA_UNKNOWN: 404,
  ERR_CA_REQUEST_INVALID: 400,
  ERR_CA_BODY_TOO_LARGE: 413,
  ERR_CA_CSR_MALFORMED: 400,
  ERR_CA_CSR_SIGNATURE: 400,
  ERR_CA_AUTH_REQUIRED: 401,
  ERR_CA_AUTH_FAILED: 401,
  ERR_CA_VALIDATION_FAILED: 400,
  ERR_CA_REVOKED: 403,
  ERR_CA_RENEW_MISMATCH: 400,
  ERR_CA_ISSUE_FAILED: 400,
  ERR_CA_STORE_FAILED: 503,
  ERR_CA_STORE_BUSY: 503,
  ERR_CA_NOT_FOUND: 404,
  ERR_CA_FORBIDDEN: 403,
  ERR_CA_ROUTE_UNKNOWN: 404,
  ERR_CA_RATE_LIMITED: 429,
  ERR_CA_INTERNAL: 500,
};

/** Details a {@link CaError} may carry. */
export interface CaErrorDetails {
  /** The config key or request field the problem is in. */
  readonly field?: string;
  /** The validator that refused the request (Anchor's name, e.g. `common_name`). */
  readonly validator?: string;
  /** The offending value (a name, an address, an extension). */
  readonly value?: string;
  readonly cause?: unknown;
}

/**
 * A CA refusal or failure. `status` is the HTTP status the app answers with; `toJSON()` is the body.
 *
 * @example
 * throw new CaError('ERR_CA_RA_UNKNOWN', 'No registration authority named "web".', { field: 'ra' });
 */
export class CaError extends Error {
  readonly code: CaErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly validator: string | undefined;
  readonly value: string | undefined;

  constructor(code: CaErrorCode, message: string, details: CaErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CaError';
    this.code = code;
    this.status = STATUS[code];
    this.field = details.field;
    this.validator = details.validator;
    this.value = details.value;
  }

  /** The JSON body of an error response: code, message and whichever details are set. */
  toJSON(): {
    code: CaErrorCode;
    message: string;
    field?: string;
    validator?: string;
    value?: string;
  } {
    return {
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.validator === undefined ? {} : { validator: this.validator }),
      ...(this.value === undefined ? {} : { value: this.value }),
    };
  }
}

/**
 * True for a {@link CaError}, optionally with the given code.
 *
 * @example
 * if (isCaError(e, 'ERR_CA_REVOKED')) …
 */
export function isCaError(e: unknown, code?: CaErrorCode): e is CaError {
  return e instanceof CaError && (code === undefined || e.code === code);
}
