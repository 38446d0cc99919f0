/**
 * @module auth/static — Anchor's `static` authentication, with secrets stored as PBKDF2-SHA256 hashes
 * (WebCrypto) and compared in constant time. An unknown user costs the same derivation as a known one.
 */
import { CaError } from '../errors.js';
import type { StaticUserConfig } from '../config.js';
import type { Authenticator, Credentials, Principal } from './types.js';

const DEFAULT_ITERATIONS = 100_000;

/** Options for {@link hashSecret}. */
export interface HashSecretOptions {
  /** PBKDF2 iterations; default 100 000. */
  readonly iterations?: number;
  readonly crypto?: Crypto;
}

/**
 * Hashes a secret for a `static` user's `secret_hash`: `pbkdf2-sha256$<iterations>$<salt>$<hash>`.
 *
 * @example
 * const secret_hash = await hashSecret('correct horse battery staple');
 */
export async function hashSecret(secret: string, options: HashSecretOptions = {}): Promise<string> {
  const crypto = options.crypto ?? globalThis.crypto;
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(crypto, secret, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${b64(salt)}$${b64(hash)}`;
}

/**
 * The `static` authenticator over configured users.
 *
 * @example
 * const auth = createStaticAuthenticator([{ user: 'ops', secret_hash }]);
 * const who = await auth.authenticate({ user: 'ops', secret: 's3cret' }, new Date());
 */
export function createStaticAuthenticator(
  users: readonly StaticUserConfig[],
  crypto: Crypto = globalThis.crypto,
): Authenticator {
  const parsed = new Map(users.map((u) => [u.user, { ...parse(u.secret_hash), groups: u.groups }]));
  // Refusing an unknown user still derives once, so timing does not tell which users exist.
  const decoy = parse(users[0]!.secret_hash);
  return {
    method: 'static',
    async authenticate(c: Credentials): Promise<Principal> {
      if (!c.user || c.secret === undefined)
        throw new CaError('ERR_CA_AUTH_REQUIRED', 'This RA needs a user and a secret.', {
          field: 'user',
        });
      const entry = parsed.get(c.user);
      const h = entry ?? decoy;
      const got = await derive(crypto, c.secret, h.salt, h.iterations);
      if (!entry || !constantTimeEqual(got, h.hash))
        throw new CaError('ERR_CA_AUTH_FAILED', 'The user or secret is wrong.', {
          field: 'secret',
        });
      return { method: 'static', user: c.user, groups: entry.groups ?? [] };
    },
  };
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ (b[i % (b.length || 1)] ?? 0);
  return diff === 0;
}

// --- internal ---

function parse(s: string): { iterations: number; salt: Uint8Array; hash: Uint8Array } {
  const [, iterations, salt, hash] = s.split('$');
  return { iterations: Number(iterations), salt: unb64(salt!), hash: unb64(hash!) };
}

async function derive(
  crypto: Crypto,
  secret: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    'PBKDF2',
    false,
    ['deriveBits'],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

function b64(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b));
}

function unb64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}
