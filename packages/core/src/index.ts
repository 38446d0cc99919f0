/**
 * @module @certified/core — X.509 keys, names, certificates and CSRs on pure WebCrypto.
 */
export const VERSION: string = '0.1.0';
