/**
 * @module @certified/core/chain — the path validator alone: import this subpath when you only judge
 * chains, so a bundle carries no certificate building, CSRs or inspection.
 */
export * from '../errors.js';
export { VALIDATED_PATH } from '../peer.js';
export {
  assertValidPath,
  createPathValidator,
  DEFAULT_VALIDATION_LIMITS,
  matchesPeerName,
  validatePath,
} from './validate-path.js';
export type {
  CertificateInput,
  PathRefused,
  PathValidator,
  PathValidatorOptions,
  PeerIdentity,
  PeerNameInput,
  ValidatedPath,
  ValidatePathInput,
  ValidatePathResult,
  ValidationProfile,
  ValidationLimits,
  ValidationPurpose,
  WorkBudget,
  WorkDone,
} from './validate-path.js';
