/**
 * @module @certified/identity — the certified model on pure WebCrypto: identity directories
 * byte-compatible with ORNL's Python `certified`, the identity store port (a memory store here; the
 * file store is in `@certified/node`), introduction letters and known services.
 */
export { checkStorePath, createMemoryStore } from './store.js';
export type { CryptoKeyStore, IdentityStore, KeyWrite, StoreChange, StoreEntry } from './store.js';
export {
  checkEntryName,
  IDENTITY_KEY_TYPES,
  initIdentity,
  loadIdentity,
  loadService,
  parseService,
  readCertificateInput,
  readIdentityCertificates,
  serviceUrlProblem,
  serviceYaml,
} from './identity.js';
export type {
  CertificateFile,
  CertificateWithChain,
  Identity,
  IdentityCertificates,
  IdentityKeyType,
  IdentityProblem,
  InitIdentityOptions,
  KeyedCertificate,
  KnownService,
} from './identity.js';
export {
  addClient,
  addIntro,
  addService,
  getIdent,
  getSigner,
  introduce,
  setOrg,
} from './operations.js';
export type {
  AddClientOptions,
  AddClientResult,
  AddIntroOptions,
  AddServiceOptions,
  InstalledFile,
  IntroduceOptions,
  IntroResult,
  OperationResult,
  OverwriteOptions,
  TrustedClient,
} from './operations.js';
export {
  clientAnchors,
  clientCredentials,
  resolveServiceUrl,
  serverAnchors,
  serverCredentials,
} from './credentials.js';
export type { Credentials, ResolvedUrl } from './credentials.js';
export { checkIdentity, describeIdentity, summarize } from './check.js';
export type { CertificateSummary, CheckIdentityOptions, IdentityDescription } from './check.js';
export {
  createIntroLetter,
  letterAliasProblem,
  parseIntroLetter,
  verifyIntroLetter,
} from './letters/intro-letter.js';
export type {
  CreateIntroLetterOptions,
  IntroLetter,
  ParsedIntroLetter,
  VerifiedIntroLetter,
  VerifyIntroLetterOptions,
} from './letters/intro-letter.js';
