/**
 * @module @certified/node — certified on the Node APIs that Node, Deno and Bun share: identity
 * directories on disk, and an mTLS server and client whose trust decisions are made by our validator.
 */
export * from './store.js';
export { serve } from './serve.js';
export type { CertifiedServer, ReloadEvent, ServeApp, ServeOptions } from './serve.js';
export { createMtlsServer, peerOf } from './tls/server.js';
export type {
  ConnectionEvent,
  MtlsServer,
  PeerSource,
  ServeEnv,
  ServeFetch,
  ServeTrust,
  MtlsServerOptions,
} from './tls/server.js';
export type { RefusalLimitOptions } from './tls/refusal-limit.js';
export { peerChainOf } from './tls/peer-chain.js';
export { limitConnectionsPerAddress, limitFailedHandshakes } from './tls/address-limit.js';
export { createMtlsFetch } from './tls/client.js';
export type { MtlsFetch, MtlsFetchOptions } from './tls/client.js';
export { createSession } from './session.js';
export type { Session, SessionOptions, SessionRoute } from './session.js';
