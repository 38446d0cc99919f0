/**
 * @module grpc/serve-grpc — a `@grpc/grpc-js` server on a certified identity, with our path validator
 * deciding which clients to trust. We terminate TLS ourselves with `node:tls` (any client certificate
 * is accepted by OpenSSL), judge the chain the client presented (purpose clientAuth), drop refused
 * connections before a byte of HTTP/2 is read, and hand each accepted socket to the gRPC server
 * through its own injector (public `Server#createConnectionInjector`, grpc-js ≥ 1.11): destroying it
 * is how `updateTrust` closes that one connection's HTTP/2 session gracefully. A server interceptor
 * scoped to that injector (`experimental.createServerCredentialsWithInterceptors`, the one non-stable
 * export used here) puts the validated path on each call's metadata, where {@link grpcPeerOf} finds
 * it, and refuses calls on a revoked connection.
 */
import type { TLSSocket } from 'node:tls';
import { experimental, ServerCredentials, ServerInterceptingCall, status } from '@grpc/grpc-js';
import type { ConnectionInjector, Metadata, Server, ServerInterceptor } from '@grpc/grpc-js';
import {
  VALIDATED_PATH,
  type CertifiedPeer,
  type PathValidator,
  type ValidatedPath,
  describeValue,
} from '@certified/core';
import { callerOf } from '../tls/caller.js';
import type { ConnectionTrust } from '../tls/connection-trust.js';
import { chainPem, checkKeyMatches, checkKeyPem } from '../tls/peer-chain.js';
import { listenAddress, refusalLimiterOf, safely } from '../tls/admission.js';
import type { RefusalLimitOptions } from '../tls/refusal-limit.js';
import { checkValidator, createMtlsListener, type ConnectionEvent } from '../tls/listener.js';

/**
 * A client connection {@link serveGrpc} accepted, refused or revoked, for logs (`onConnection`): the
 * same events as the HTTP listener's. A refusal's `ERR_NET_TLS` also covers a client that did not
 * negotiate HTTP/2 (ALPN `h2`); a revoked connection's calls in progress finish, new ones fail with
 * UNAVAILABLE.
 */
/** @deprecated the same type as {@link ConnectionEvent}; use that. */
export type GrpcConnectionEvent = ConnectionEvent;

/** Options for {@link serveGrpc}. */
export interface ServeGrpcOptions {
  /** Our private key, PKCS#8 PEM. */
  readonly key: string;
  /** Our certificate (DER) first, then the chain we present to clients. */
  readonly certificates: readonly Uint8Array[];
  /** Judges each client's certificate chain (purpose clientAuth). */
  readonly validator: PathValidator;
  /** Where to listen; default `https://127.0.0.1:50051`. Port 0 picks a free port. */
  readonly url?: string;
  /**
   * Called for every accepted, refused or revoked connection; default none. Exceptions it throws
   * are ignored.
   */
  readonly onConnection?: (event: ConnectionEvent) => void;
  /** Called with listener errors and validator failures; default `console.error`. */
  readonly onError?: (error: unknown) => void;
  /** The clock client certificates are validated against; default the current time. */
  readonly time?: () => Date;
  /** Longest wait for a client's TLS handshake; default 30 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Refused clients an address may cause before it is dropped at accept; see `createMtlsServer`. */
  readonly refusalLimit?: RefusalLimitOptions | false;
}

/** A TLS listener feeding a gRPC server, from {@link serveGrpc}. */
export interface GrpcListener {
  /** The URL it listens on, with the actual port (e.g. `https://127.0.0.1:54321`). */
  readonly url: string;
  /** `host:port` for a gRPC client target (e.g. `127.0.0.1:54321`). */
  readonly target: string;
  /** The actual port. */
  readonly port: number;
  /** The address bound (e.g. `127.0.0.1`, `::1`). */
  readonly address: string;
  /** Open client connections (accepted, not yet closed). */
  readonly connections: number;
  /**
   * Stops accepting connections, asks open ones to finish (HTTP/2 GOAWAY: calls in progress complete)
   * and resolves when all are closed. It does not shut the gRPC server down. Calling it again returns
   * the same promise.
   */
  close(): Promise<void>;
  /** Same as {@link GrpcListener.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
  /**
   * Judges new connections with `validator` from now on, and re-checks every open connection's
   * client chain with it. From this call on, a call that arrives on an open connection waits for
   * that connection's verdict before any handler runs. A connection it refuses is reported as a
   * `revoked` connection event and closed gracefully: its HTTP/2 session gets a GOAWAY, so calls
   * in progress (streams included) run to their end, while new calls on it fail with UNAVAILABLE
   * before any handler runs; grpc-js closes the socket once the last call ends. The client's next
   * calls open a new connection, which the new trust refuses at the handshake. A later call
   * replaces the verdicts of an earlier one still judging.
   *
   * @param validator - judges clients from now on (purpose clientAuth).
   * @returns how many open connections were revoked.
   * @throws `TypeError` (the promise rejects) when `validator` is not a PathValidator.
   * @example
   * // known_clients/ changed on disk:
   * const revoked = await listener.updateTrust(createPathValidator({ anchors: clientAnchors(me) }));
   */
  updateTrust(validator: PathValidator): Promise<number>;
}

/** What {@link grpcPeerOf} reads: a handler's call object (or the call's metadata). */
export type GrpcPeerSource = { readonly metadata: Metadata } | Metadata;

const DEFAULT_URL = 'https://127.0.0.1:50051';
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Who is calling: the client path our validator accepted for the connection this call came in on
 * (through {@link serveGrpc}). Give it the handler's `call` (unary, streaming or bidi) or
 * `call.metadata`.
 *
 * @param source - a server call object, or its metadata.
 * @returns the caller, in the shape `@certified/hono`'s `c.get('certified')` and `@certified/node`'s
 *   `c.env.caller` have (`CertifiedPeer`: `subject`, `commonName`, `altNames`, `fingerprint`,
 *   `anchor`, and the validated `path`), or undefined for a call that did not come through `serveGrpc`.
 * @example
 * server.addService(Greeter, {
 *   hello(call, callback) {
 *     callback(null, { text: `hello ${grpcPeerOf(call)?.commonName}` });
 *   },
 * });
 */
export function grpcPeerOf(
  source: GrpcPeerSource | null | undefined,
): CertifiedPeer<'tls'> | undefined {
  if (!source || typeof source !== 'object') return undefined;
  // Not `instanceof Metadata`: the app may load another copy of grpc-js than ours.
  const metadata: unknown = 'metadata' in source ? source.metadata : source;
  if (!metadata || typeof metadata !== 'object') return undefined;
  // A symbol property never comes from the wire: a client cannot forge it with a metadata header.
  const path = (metadata as { [VALIDATED_PATH]?: ValidatedPath })[VALIDATED_PATH];
  return path && callerOf(path);
}

/**
 * Serves a `@grpc/grpc-js` server over mutual TLS on a certified identity: presents our chain, requires
 * a client certificate and lets `options.validator` decide which to trust — not a CA bundle, so a
 * pinned end-entity certificate works, and every path rule of our validator (EKU clientAuth,
 * validity, name constraints) applies. Refused clients are disconnected right after the TLS handshake,
 * before any RPC is read; their calls fail with UNAVAILABLE and no handler runs. Accepted clients reach
 * the server's handlers, where {@link grpcPeerOf} tells who they are. When trust changes, call
 * {@link GrpcListener.updateTrust}: open connections the new validator refuses are revoked.
 *
 * Add services to `server` as usual; do not `bindAsync` it for this address. Close the listener before
 * shutting the server down (`await listener.close(); server.tryShutdown(...)`). Create the server with
 * `{ 'grpc.max_concurrent_streams': 100 }` (or your bound): grpc-js's default lets one connection run
 * any number of calls at once.
 *
 * @param server - a `new grpc.Server()`; other ports it binds are unaffected.
 * @param options.key - our PKCS#8 PEM private key.
 * @param options.certificates - our certificate (DER) first, then its chain.
 * @param options.validator - judges clients (purpose clientAuth).
 * @param options.url - default `https://127.0.0.1:50051`; `https:` only; port 0 picks a free port.
 * @param options.onConnection - accepted/refused/revoked events; default none.
 * @param options.onError - listener errors; default `console.error`.
 * @param options.time - validation clock; default now.
 * @param options.handshakeTimeoutMs - TLS handshake deadline; default 30 000.
 * @throws ERR_KEY_MISMATCH when the key is not the certificate's; ERR_KEY_MALFORMED, ERR_CERT_MALFORMED
 *   for unreadable ones. NetworkError ERR_NET_URL for a URL that is not `https://host[:port]`;
 *   ERR_NET_CONNECT when the address cannot be listened on. `TypeError` for missing options or a
 *   `server` that is not a grpc-js `Server`, `RangeError` for a bad handshakeTimeoutMs.
 * @example
 * const server = new grpc.Server({ 'grpc.max_concurrent_streams': 100 });
 * server.addService(Greeter, { hello: (call, cb) => cb(null, { to: grpcPeerOf(call)?.commonName }) });
 * const listener = await serveGrpc(server, { key, certificates: [cert.der, ca.der], validator });
 * console.log(`gRPC on ${listener.target}`);
 */
export async function serveGrpc(server: Server, options: ServeGrpcOptions): Promise<GrpcListener> {
  if (!server || typeof (server as Partial<Server>).createConnectionInjector !== 'function')
    throw new TypeError(
      `serveGrpc server must be a @grpc/grpc-js Server (>= 1.11), received ${describeValue(server)}`,
    );
  // Exported under grpc-js's `experimental` namespace: check it rather than fail obscurely later.
  if (typeof experimental.createServerCredentialsWithInterceptors !== 'function')
    throw new TypeError(
      'serveGrpc needs @grpc/grpc-js >= 1.11 (experimental.createServerCredentialsWithInterceptors).',
    );
  if (!options || typeof options !== 'object')
    throw new TypeError(`serveGrpc options must be an object, received ${describeValue(options)}`);
  const validator = checkValidator(options.validator, 'serveGrpc options.validator');
  const key = checkKeyPem(options.key, 'serveGrpc options');
  const cert = chainPem(options.certificates, 'serveGrpc options');
  const { host, port } = listenAddress(options.url ?? DEFAULT_URL, 'serveGrpc');
  const { onConnection, time } = options;
  if (time !== undefined && typeof time !== 'function')
    throw new TypeError(
      `serveGrpc options.time must be a function, received ${describeValue(time)}`,
    );
  const onError = options.onError ?? ((e: unknown) => console.error(e));
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const limiter = refusalLimiterOf(options.refusalLimit, 'serveGrpc');
  if (!Number.isFinite(handshakeTimeoutMs) || handshakeTimeoutMs <= 0)
    throw new RangeError(
      `serveGrpc options.handshakeTimeoutMs must be a positive number, received ${handshakeTimeoutMs}`,
    );
  await checkKeyMatches(key, options.certificates[0]!, 'serveGrpc');

  /** Admitted connections and their injectors. */
  const connections = new Map<TLSSocket, Connection>();
  const listener = await createMtlsListener(
    {
      key,
      cert,
      validator,
      host,
      port,
      handshakeTimeoutMs,
      limiter,
      what: 'serveGrpc',
      onConnection,
      onError,
      time,
    },
    {
      alpn: ['h2'],
      // gRPC is HTTP/2 only; grpc-js clients always offer h2.
      refuseEarly: (socket) =>
        socket.alpnProtocol === 'h2'
          ? undefined
          : 'The client did not negotiate HTTP/2 (ALPN h2), which gRPC requires.',
      accept(socket, trust, announce) {
        const connection: Connection = { trust, injector: undefined };
        let injector: ConnectionInjector;
        try {
          // One injector per connection: destroying it is how we reach this connection's HTTP/2
          // session (grpc-js sends GOAWAY and lets its calls finish) through public API.
          injector = server.createConnectionInjector(
            // Insecure: TLS is already terminated (and judged) by our listener; only its sockets get here.
            experimental.createServerCredentialsWithInterceptors(
              ServerCredentials.createInsecure(),
              [labelPeer(connection)],
            ),
          );
        } catch (e) {
          safely(onError, e);
          return false;
        }
        connection.injector = injector;
        connections.set(socket, connection);
        socket.once('close', () => {
          connections.delete(socket);
          release(connection);
        });
        announce();
        injector.injectConnection(socket);
        return true;
      },
      // GOAWAY: calls in progress finish, new ones go to a new connection (judged there).
      end(socket) {
        const connection = connections.get(socket);
        if (connection) release(connection);
      },
    },
  );

  const close = (): Promise<void> => listener.close();
  return {
    url: `https://${listener.where}`,
    target: listener.where,
    port: listener.port,
    address: listener.address,
    get connections() {
      return listener.connections;
    },
    updateTrust: (next) => listener.updateTrust(next),
    close,
    [Symbol.asyncDispose]: close,
  };
}

// --- internal ---

/** An accepted connection: the verdict on its client (its calls' label), and its injector. */
interface Connection {
  readonly trust: ConnectionTrust;
  /** Cleared once destroyed (GOAWAY sent, or the socket closed). */
  injector: ConnectionInjector | undefined;
}

/**
 * The interceptor of one connection's injector (grpc-js runs it before the server's own
 * interceptors): labels each call with the connection's validated path. A call that arrives while
 * the client is re-judged waits for the verdict (grpc-js holds its messages meanwhile); one on a
 * revoked connection — arrived during the re-judging, or crossed our GOAWAY — is refused before
 * any handler runs.
 */
function labelPeer(connection: Connection): ServerInterceptor {
  const { trust } = connection;
  return (_method, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const pass = (): void => {
              Object.defineProperty(metadata, VALIDATED_PATH, {
                value: trust.path,
                configurable: true,
              });
              nextMetadata(metadata);
            };
            const refuse = (): void => {
              const why = trust.revoked;
              call.sendStatus({
                code: status.UNAVAILABLE,
                details: `The client certificate is no longer trusted: ${why?.message} (${why?.code})`,
              });
            };
            const admitted = trust.admits();
            if (admitted === true) pass();
            else if (admitted === false) refuse();
            else void admitted.then((ok) => (ok ? pass() : refuse()), refuse);
          },
        });
      },
    });
}

/**
 * Closes the connection's HTTP/2 session gracefully (grpc-js: GOAWAY, calls in progress finish, then
 * the socket closes) and releases the injector's server and channelz entry. Once per connection.
 */
function release(connection: Connection): void {
  const injector = connection.injector;
  connection.injector = undefined;
  injector?.destroy();
}
