/**
 * @module @certified/node/grpc — `@grpc/grpc-js` servers and clients on certified identities, with our
 * path validator deciding trust instead of a CA bundle. A separate entry point so that users of
 * `@certified/node` who do not use gRPC never load `@grpc/grpc-js` (an optional peer dependency).
 */
export { grpcPeerOf, serveGrpc } from './serve-grpc.js';
export type { ConnectionEvent } from '../tls/listener.js';
export type {
  GrpcConnectionEvent,
  GrpcListener,
  GrpcPeerSource,
  ServeGrpcOptions,
} from './serve-grpc.js';
export { createGrpcChannelCredentials } from './channel-credentials.js';
export type { GrpcChannelCredentialsOptions } from './channel-credentials.js';
