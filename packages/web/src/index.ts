/**
 * @module @certified/web — certified in the browser: the identity store over IndexedDB, keeping
 * private keys as non-extractable CryptoKeys, and an RFC 9421 request signer that carries the
 * certificate chain, for servers running `@certified/hono`'s `requireSignedRequest()`.
 */
export { openIdentityStore } from './idb-store.js';
export type { IndexedDbIdentityStore, OpenIdentityStoreOptions } from './idb-store.js';
export { createRequestSigner, requestSignerFor, SIGNATURE_LABEL } from './request-signer.js';
export type { RequestSigner, RequestSignerOptions } from './request-signer.js';
