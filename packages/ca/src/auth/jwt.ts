/**
 * @module auth/jwt — bearer tokens verified with jose against a JWKS (a file's contents or a URL),
 * with issuer and audience checks and a claim mapped to groups.
 */
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { CaError } from '../errors.js';
import type { Authenticator, Credentials, Principal } from './types.js';

/** Options for {@link createJwtAuthenticator}. */
export interface JwtAuthenticatorOptions {
  /** A key set (parsed JWKS JSON), or … */
  readonly jwks?: JSONWebKeySet;
  /** … a JWKS URL, fetched and cached by jose. */
  readonly jwksUrl?: string;
  readonly issuer?: string;
  /** Required: the `aud` tokens for this CA carry; a token for another service is refused. */
  readonly audience: string;
  /** Default `sub`. */
  readonly userClaim?: string;
  /** Default `groups`. */
  readonly groupsClaim?: string;
}

/**
 * The `jwt` authenticator.
 *
 * @throws TypeError when neither or both of `jwks` and `jwksUrl` are given, or no `audience`.
 * @example
 * const auth = createJwtAuthenticator({ jwks, issuer: 'https://idp.example', audience: 'ca' });
 */
export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  if ((options.jwks === undefined) === (options.jwksUrl === undefined))
    throw new TypeError('createJwtAuthenticator needs exactly one of jwks and jwksUrl');
  if (typeof options.audience !== 'string' || options.audience === '')
    throw new TypeError('createJwtAuthenticator needs an audience');
  const keys = options.jwks
    ? createLocalJWKSet(options.jwks)
    : createRemoteJWKSet(new URL(options.jwksUrl!));
  const userClaim = options.userClaim ?? 'sub';
  const groupsClaim = options.groupsClaim ?? 'groups';
  return {
    method: 'jwt',
    async authenticate(c: Credentials, now: Date): Promise<Principal> {
      if (!c.bearer)
        throw new CaError('ERR_CA_AUTH_REQUIRED', 'This RA needs a bearer token.', {
          field: 'authorization',
        });
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(c.bearer, keys, {
          ...(options.issuer ? { issuer: options.issuer } : {}),
          audience: options.audience,
          currentDate: now,
        }));
      } catch (e) {
        throw new CaError(
          'ERR_CA_AUTH_FAILED',
          `The bearer token was refused: ${(e as Error).message}`,
          { field: 'authorization', cause: e },
        );
      }
      const user = payload[userClaim];
      if (typeof user !== 'string' || user === '')
        throw new CaError('ERR_CA_AUTH_FAILED', `The token has no "${userClaim}" claim.`, {
          field: 'authorization',
        });
      const g = payload[groupsClaim];
      const groups = typeof g === 'string' ? [g] : Array.isArray(g) ? g.filter(isString) : [];
      return { method: 'jwt', user, groups };
    },
  };
}

function isString(x: unknown): x is string {
  return typeof x === 'string';
}
