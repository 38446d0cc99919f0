/**
 * @module @certified/ca — a CSR-signing CA service: registration authorities with Anchor's validators
 * and fixups, static/JWT/mTLS authentication, short-lived certificates with passive revocation, an
 * audit store with GC, and a Hono app. Stores: `@certified/ca/pglite` (embedded) and
 * `@certified/ca/postgres`.
 */
export { CaError, isCaError } from './errors.js';
export type { CaErrorCode, CaErrorDetails } from './errors.js';
export { parseCaConfig } from './config.js';
export type {
  AuthenticationConfig,
  CaConfig,
  Options,
  ProfileConfig,
  RaConfig,
  SigningCaConfig,
  StaticUserConfig,
  StoreConfig,
} from './config.js';
export { compileValidator, VALIDATOR_NAMES } from './validators/index.js';
export type { ValidationContext, Validator, ValidatorName } from './validators/index.js';
export { fixup, FIXUP_NAMES } from './fixups.js';
export type { Draft, Fixup, FixupName } from './fixups.js';
export type { Authenticator, Credentials, Principal } from './auth/types.js';
export { constantTimeEqual, createStaticAuthenticator, hashSecret } from './auth/static.js';
export type { HashSecretOptions } from './auth/static.js';
export { createJwtAuthenticator } from './auth/jwt.js';
export type { JwtAuthenticatorOptions } from './auth/jwt.js';
export { createMtlsAuthenticator } from './auth/mtls.js';
export { loadSigner } from './signer.js';
export type { Signer } from './signer.js';
export { createCa } from './ca.js';
export type {
  Ca,
  CaOptions,
  IssueRequest,
  Issued,
  LiftRequest,
  RegistrationAuthority,
  RevokeRequest,
} from './ca.js';
export { loadCa } from './load.js';
export type { LoadCaOptions } from './load.js';
export { createCaApp } from './app.js';
export type { CaAppOptions, CaEnv } from './app.js';
export { createCaMetrics } from './metrics.js';
export type { CaMetrics } from './metrics.js';
export { createKyselyStore, migrate } from './store/store.js';
export type {
  AuditEntry,
  AuditRecord,
  CaStore,
  GcOptions,
  Revocation,
  RevocationKey,
} from './store/store.js';
export type { CaDatabase } from './store/schema.js';
