/**
 * @module auth/mtls — the caller's TLS client certificate, judged by core's path validator against
 * configured anchors (purpose clientAuth). This is how a holder renews.
 */
import { createPathValidator, formatName, type Certificate } from '@certified/core';
import { CaError } from '../errors.js';
import type { Authenticator, Credentials, Principal } from './types.js';

/**
 * The `mtls` authenticator.
 *
 * @param anchors - the CA certificates client certificates must chain to.
 * @example
 * const auth = createMtlsAuthenticator([caCertificate]);
 */
export function createMtlsAuthenticator(anchors: readonly Certificate[]): Authenticator {
  const validator = createPathValidator({ anchors });
  return {
    method: 'mtls',
    async authenticate(c: Credentials, now: Date): Promise<Principal> {
      const [peer, ...chain] = c.peerChain ?? [];
      if (!peer)
        throw new CaError(
          'ERR_CA_AUTH_REQUIRED',
          'This RA needs a TLS client certificate, and none was presented.',
          { field: 'certificate' },
        );
      const r = await validator.validate({ peer, chain, purpose: 'clientAuth', time: now });
      if (!r.ok)
        throw new CaError(
          'ERR_CA_AUTH_FAILED',
          `The client certificate was refused: ${r.message}`,
          { field: 'certificate', value: r.code },
        );
      const certificate = r.peer.certificate;
      return { method: 'mtls', user: formatName(certificate.subject), groups: [], certificate };
    },
  };
}
