/**
 * @module @certified/testing — private helpers every suite shares (never published): capture thrown
 * errors, build test PKIs, drive runtimes and launch real servers on 127.0.0.1.
 */
export { rejected, thrown } from './thrown.js';
export type { Thrown } from './thrown.js';
