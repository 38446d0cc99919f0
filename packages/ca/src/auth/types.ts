/**
 * @module auth/types — the authentication port. An authenticator turns whatever the caller sent
 * (user and secret, a bearer token, a client certificate chain) into a principal with groups, or
 * refuses. LDAP (next issue) is one more authenticator reading `user` and `secret`.
 */
import type { Certificate } from '@certified/core';

/** What a caller may present; each authenticator reads the part it understands. */
export interface Credentials {
  /** Anchor's form field `user`. */
  readonly user?: string | undefined;
  /** Anchor's form field `secret`. */
  readonly secret?: string | undefined;
  /** An `Authorization: Bearer` token. */
  readonly bearer?: string | undefined;
  /** The TLS client's certificate chain, peer first (DER). */
  readonly peerChain?: readonly Uint8Array[] | undefined;
}

/** Who was authenticated, and how. */
export interface Principal {
  /** `static`, `jwt`, `mtls` (later `ldap`). */
  readonly method: string;
  /** The user name, token subject, or the client certificate's subject. */
  readonly user: string;
  /** Groups for `server_group`. */
  readonly groups: readonly string[];
  /** For `mtls`: the certificate the caller presented, validated. */
  readonly certificate?: Certificate;
}

/** The port: one per `authentication` entry. */
export interface Authenticator {
  readonly method: string;
  /**
   * Resolves to the principal, or rejects with ERR_CA_AUTH_REQUIRED (nothing to judge) or
   * ERR_CA_AUTH_FAILED (judged and refused).
   */
  authenticate(credentials: Credentials, now: Date): Promise<Principal>;
}
