/**
 * @module @certified/core/chain — the path validator alone: import this subpath when you only judge
 * chains, so a bundle carries no certificate building, CSRs or inspection.
 */
export * from '../errors.js';
export { VALIDATED_PATH } from '../peer.js';
// The validator's public API: validate-path.ts is the facade over the units in this folder.
export * from './validate-path.js';
