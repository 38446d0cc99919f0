/**
 * @module @certified/hono — Hono middleware for certified: authenticate callers by client
 * certificate (from the TLS connection or a trusted reverse proxy) or by an RFC 9421 signed request
 * carrying its certificate chain, always with our own path validator.
 */
import type { CertifiedPeer } from './peer.js';

export { requireClientCert } from './require-client-cert.js';
export {
  REQUIRED_COMPONENTS,
  REQUIRED_PARAMETERS,
  requireSignedRequest,
} from './require-signed-request.js';
export type { RequireSignedRequestOptions } from './require-signed-request.js';
export { createMemoryNonceCache, DEFAULT_NONCE_CACHE_SIZE } from './nonce-cache.js';
export type { MemoryNonceCacheOptions, NonceCache, NonceClaim } from './nonce-cache.js';
export { CHAIN_HEADER, SIGNATURE_ALGORITHMS, SIGNATURE_LABEL } from './signature-wire.js';
export type {
  CertifiedErrorBody,
  ProxyOptions,
  RequireClientCertOptions,
} from './require-client-cert.js';
export { createClientTrust } from './peer.js';
export type {
  AnchorLabel,
  CertificateSource,
  CertifiedAltNames,
  CertifiedAnchor,
  CertifiedPeer,
  CertifiedVariables,
  ClientTrust,
} from './peer.js';
export {
  FORWARDED_HEADERS,
  MAX_FORWARDED_HEADER_LENGTH,
  parseXfcc,
  readForwardedCertificate,
} from './proxy-headers.js';
export type {
  ForwardedCertificate,
  ForwardedFormat,
  ReadForwardedOptions,
  XfccElement,
} from './proxy-headers.js';
export { createAddressMatcher, remoteAddressOf } from './remote-address.js';
export type { AddressMatcher } from './remote-address.js';

// `c.get('certified')` is typed in every app that imports this package.
declare module 'hono' {
  interface ContextVariableMap {
    /** The authenticated caller, set by `requireClientCert` or `requireSignedRequest`. */
    certified: CertifiedPeer;
  }
}
export { getConnInfo } from './conninfo/index.js';
export type { CertifiedConnInfo, GetConnInfo } from './conninfo/index.js';
