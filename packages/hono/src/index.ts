/**
 * @module @certified/hono — Hono middleware for certified: authenticate callers by client
 * certificate, from the TLS connection or a trusted reverse proxy, with our own path validator.
 */
import type { CertifiedPeer } from './peer.js';

export { requireClientCert } from './require-client-cert.js';
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
    /** The authenticated caller, set by `requireClientCert`. */
    certified: CertifiedPeer;
  }
}
export { getConnInfo } from './conninfo/index.js';
export type { CertifiedConnInfo, GetConnInfo } from './conninfo/index.js';
