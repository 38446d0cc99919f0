/** @module internal/malformed — mapping DER faults to the error of the structure they were found in. */
import { DerMalformed, type CertifiedError, type CertifiedErrorDetails } from '../errors.js';

/**
 * Re-raises a DER fault found inside a known structure as that structure's error (ERR_CERT_MALFORMED,
 * ERR_CSR_MALFORMED), keeping field, reason and cause; anything else passes through.
 */
export function rethrowAsMalformed(
  e: unknown,
  Kind: new (message: string, details?: CertifiedErrorDetails) => CertifiedError,
  what: string,
  field?: string,
): never {
  if (e instanceof DerMalformed) {
    const f = e.field ?? field;
    throw new Kind(
      `The ${what} is malformed: ${e.reason ?? e.message}${e.field ? ` in ${e.field}` : ''}.`,
      {
        ...(f ? { field: f } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
        cause: e,
      },
    );
  }
  throw e;
}
