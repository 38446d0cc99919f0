/**
 * @module grpc/serve-grpc — a `@grpc/grpc-js` server on a certified identity, with our path validator
 * deciding which clients to trust. We terminate TLS ourselves with `node:tls` (any client certificate
 * is accepted by OpenSSL), judge the chain the client presented (purpose clientAuth), drop refused
 * connections before a byte of HTTP/2 is read, and hand accepted sockets to the gRPC server through
 * its public `Server#createConnectionInjector` (grpc-js ≥ 1.11). A server interceptor scoped to that
 * injector (`experimental.createServerCredentialsWithInterceptors`, the one non-stable export used
 * here) puts the validated path on each call's metadata, where {@link grpcPeerOf} finds it.
 */
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { experimental, ServerCredentials, ServerInterceptingCall, status } from '@grpc/grpc-js';
import type { Server, ServerInterceptor, Metadata } from '@grpc/grpc-js';
import {
  formatName,
  type NetworkCode,
  type PathValidationCode,
  type PathValidator,
  type ValidatedPath,
} from '@certified/core';
import {
  chainPem,
  checkKeyMatches,
  checkKeyPem,
  describe,
  hostPort,
  subjectOf,
} from '../tls/peer-chain.js';
import {
  handshakeFailure,
  judgeClient,
  listenAddress,
  listenOn,
  safely,
} from '../tls/admission.js';

/** A client connection {@link serveGrpc} accepted or refused, for logs (`onConnection`). */
export type GrpcConnectionEvent =
  | {
      readonly type: 'accepted';
      /** The client's IP address, when the runtime reports it. */
      readonly remoteAddress: string | undefined;
      readonly remotePort: number | undefined;
      /** The client certificate's subject (RFC 4514). */
      readonly subject: string;
      readonly commonName: string | undefined;
      /** The validated path, peer first. */
      readonly path: ValidatedPath;
    }
  | {
      readonly type: 'refused';
      readonly remoteAddress: string | undefined;
      readonly remotePort: number | undefined;
      /**
       * Why: a path-validation code, or `ERR_NET_TLS` when the handshake failed, the client presented
       * no certificate or did not negotiate HTTP/2 (ALPN `h2`).
       */
      readonly code: PathValidationCode | NetworkCode;
      readonly message: string;
      /** The subject of the certificate the client presented, when it presented a readable one. */
      readonly subject: string | undefined;
    };

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
  /** Called for every accepted or refused connection; default none. Exceptions it throws are ignored. */
  readonly onConnection?: (event: GrpcConnectionEvent) => void;
  /** Called with listener errors and validator failures; default `console.error`. */
  readonly onError?: (error: unknown) => void;
  /** The clock client certificates are validated against; default the current time. */
  readonly time?: () => Date;
  /** Longest wait for a client's TLS handshake; default 30 000 ms. */
  readonly handshakeTimeoutMs?: number;
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
}

/** What {@link grpcPeerOf} reads: a handler's call object (or the call's metadata). */
export type GrpcPeerSource = { readonly metadata: Metadata } | Metadata;

const DEFAULT_URL = 'https://127.0.0.1:50051';
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
// Registered, so a second copy of this module (bundled separately) finds the peer too; a symbol
// property never comes from the wire, so a client cannot forge it with a metadata header.
const PEER = Symbol.for('@certified/node.grpc-peer');

/**
 * Who is calling: the client path our validator accepted for the connection this call came in on
 * (through {@link serveGrpc}). Give it the handler's `call` (unary, streaming or bidi) or
 * `call.metadata`.
 *
 * @param source - a server call object, or its metadata.
 * @returns the path (read `peer.commonName`, `peer.subject`, `anchor`), or undefined for a call that
 *   did not come through `serveGrpc`.
 * @example
 * server.addService(Greeter, {
 *   hello(call, callback) {
 *     callback(null, { text: `hello ${grpcPeerOf(call)?.peer.commonName}` });
 *   },
 * });
 */
export function grpcPeerOf(source: GrpcPeerSource | null | undefined): ValidatedPath | undefined {
  if (!source || typeof source !== 'object') return undefined;
  // Not `instanceof Metadata`: the app may load another copy of grpc-js than ours.
  const metadata: unknown = 'metadata' in source ? source.metadata : source;
  if (!metadata || typeof metadata !== 'object') return undefined;
  return (metadata as { [PEER]?: ValidatedPath })[PEER];
}

/**
 * Serves a `@grpc/grpc-js` server over mutual TLS on a certified identity: presents our chain, requires
 * a client certificate and lets `options.validator` decide which to trust — not a CA bundle, so a
 * pinned end-entity certificate works, and every path rule of our validator (EKU clientAuth,
 * validity, name constraints) applies. Refused clients are disconnected right after the TLS handshake,
 * before any RPC is read; their calls fail with UNAVAILABLE and no handler runs. Accepted clients reach
 * the server's handlers, where {@link grpcPeerOf} tells who they are.
 *
 * Add services to `server` as usual; do not `bindAsync` it for this address. Close the listener before
 * shutting the server down (`await listener.close(); server.tryShutdown(...)`).
 *
 * @param server - a `new grpc.Server()`; other ports it binds are unaffected.
 * @param options.key - our PKCS#8 PEM private key.
 * @param options.certificates - our certificate (DER) first, then its chain.
 * @param options.validator - judges clients (purpose clientAuth).
 * @param options.url - default `https://127.0.0.1:50051`; `https:` only; port 0 picks a free port.
 * @param options.onConnection - accepted/refused events; default none.
 * @param options.onError - listener errors; default `console.error`.
 * @param options.time - validation clock; default now.
 * @param options.handshakeTimeoutMs - TLS handshake deadline; default 30 000.
 * @throws ERR_KEY_MISMATCH when the key is not the certificate's; ERR_KEY_MALFORMED, ERR_CERT_MALFORMED
 *   for unreadable ones. NetworkError ERR_NET_URL for a URL that is not `https://host[:port]`;
 *   ERR_NET_CONNECT when the address cannot be listened on. `TypeError` for missing options or a
 *   `server` that is not a grpc-js `Server`, `RangeError` for a bad handshakeTimeoutMs.
 * @example
 * const server = new grpc.Server();
 * server.addService(Greeter, { hello: (call, cb) => cb(null, { to: grpcPeerOf(call)?.peer.commonName }) });
 * const listener = await serveGrpc(server, { key, certificates: [cert.der, ca.der], validator });
 * console.log(`gRPC on ${listener.target}`);
 */
export async function serveGrpc(server: Server, options: ServeGrpcOptions): Promise<GrpcListener> {
  if (!server || typeof (server as Partial<Server>).createConnectionInjector !== 'function')
    throw new TypeError(
      `serveGrpc server must be a @grpc/grpc-js Server (>= 1.11), received ${describe(server)}`,
    );
  // Exported under grpc-js's `experimental` namespace: check it rather than fail obscurely later.
  if (typeof experimental.createServerCredentialsWithInterceptors !== 'function')
    throw new TypeError(
      'serveGrpc needs @grpc/grpc-js >= 1.11 (experimental.createServerCredentialsWithInterceptors).',
    );
  if (!options || typeof options !== 'object')
    throw new TypeError(`serveGrpc options must be an object, received ${describe(options)}`);
  const validator = options.validator;
  if (!validator || typeof validator.validate !== 'function')
    throw new TypeError(
      `serveGrpc options.validator must be a PathValidator (createPathValidator), received ${describe(validator)}`,
    );
  const key = checkKeyPem(options.key, 'serveGrpc options');
  const cert = chainPem(options.certificates, 'serveGrpc options');
  const { host, port } = listenAddress(options.url ?? DEFAULT_URL, 'serveGrpc');
  const { onConnection, time } = options;
  if (time !== undefined && typeof time !== 'function')
    throw new TypeError(`serveGrpc options.time must be a function, received ${describe(time)}`);
  const onError = options.onError ?? ((e: unknown) => console.error(e));
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isFinite(handshakeTimeoutMs) || handshakeTimeoutMs <= 0)
    throw new RangeError(
      `serveGrpc options.handshakeTimeoutMs must be a positive number, received ${handshakeTimeoutMs}`,
    );
  await checkKeyMatches(key, options.certificates[0]!, 'serveGrpc');

  const report = (event: GrpcConnectionEvent): void => {
    try {
      onConnection?.(event);
    } catch {
      // a logging callback must not take the server down
    }
  };

  /** Accepted connections by `remoteAddress:remotePort` — the string grpc-js's `call.getPeer()` returns. */
  const accepted = new Map<string, { socket: TLSSocket; path: ValidatedPath }>();
  const sockets = new Set<TLSSocket>();
  let closing = false;

  // Scoped to this listener's injector (grpc-js runs it before the server's own interceptors): it
  // labels each call with its connection's validated path, and refuses calls on a connection we do
  // not know — which cannot happen unless grpc-js changes how it reports peers, so fail closed.
  const labelPeer: ServerInterceptor = (_method, call) => {
    const entry = accepted.get(call.getPeer());
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            if (!entry) {
              call.sendStatus({
                code: status.UNAUTHENTICATED,
                details: 'No validated client certificate for this connection.',
              });
              return;
            }
            Object.defineProperty(metadata, PEER, { value: entry.path, configurable: true });
            nextMetadata(metadata);
          },
        });
      },
    });
  };
  const injector = server.createConnectionInjector(
    // Insecure: TLS is already terminated (and judged) by our listener; only its sockets get here.
    experimental.createServerCredentialsWithInterceptors(ServerCredentials.createInsecure(), [
      labelPeer,
    ]),
  );

  async function admit(socket: TLSSocket): Promise<void> {
    const { remoteAddress, remotePort } = socket;
    let chain: Uint8Array[] = [];
    const refuse = (code: PathValidationCode | NetworkCode, message: string): void => {
      socket.destroy();
      report({
        type: 'refused',
        remoteAddress,
        remotePort,
        code,
        message,
        subject: subjectOf(chain[0]),
      });
    };
    // gRPC is HTTP/2 only; grpc-js clients always offer h2.
    if (socket.alpnProtocol !== 'h2') {
      refuse('ERR_NET_TLS', 'The client did not negotiate HTTP/2 (ALPN h2), which gRPC requires.');
      return;
    }
    const verdict = await judgeClient(socket, validator, { time, onError });
    chain = verdict.chain;
    if (!verdict.ok) {
      refuse(verdict.code, verdict.message);
      return;
    }
    if (closing || socket.destroyed || remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    const peerKey = remotePort ? `${remoteAddress}:${remotePort}` : remoteAddress;
    const path = verdict.path;
    accepted.set(peerKey, { socket, path });
    sockets.add(socket);
    socket.once('close', () => {
      if (accepted.get(peerKey)?.socket === socket) accepted.delete(peerKey);
      sockets.delete(socket);
      maybeClosed();
    });
    report({
      type: 'accepted',
      remoteAddress,
      remotePort,
      subject: formatName(path.peer.subject),
      commonName: path.peer.commonName,
      path,
    });
    injector.injectConnection(socket);
  }

  const tlsServer = createTlsServer({
    key,
    cert,
    requestCert: true,
    // We decide trust (our validator); OpenSSL's verdict is ignored.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    handshakeTimeout: handshakeTimeoutMs,
    ALPNProtocols: ['h2'],
  });
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    // Resets by the client must not become uncaught errors; grpc-js adds its own handlers later.
    socket.on('error', () => undefined);
    void admit(socket);
  });
  tlsServer.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
    report({
      type: 'refused',
      remoteAddress: socket?.remoteAddress,
      remotePort: socket?.remotePort,
      code: 'ERR_NET_TLS',
      message: handshakeFailure(error),
      subject: undefined,
    });
    socket?.destroy();
  });

  const { port: actualPort, address } = await listenOn(tlsServer, host, port, () =>
    injector.destroy(),
  );
  tlsServer.on('error', (e) => safely(onError, e));

  let closePromise: Promise<void> | undefined;
  let listenerClosed = false;
  let resolveClosed: (() => void) | undefined;
  function maybeClosed(): void {
    if (closing && listenerClosed && sockets.size === 0) resolveClosed?.();
  }
  const close = (): Promise<void> => {
    closePromise ??= new Promise<void>((resolve) => {
      closing = true;
      resolveClosed = resolve;
      tlsServer.close(() => {
        listenerClosed = true;
        maybeClosed();
      });
      // GOAWAY on every session: calls in progress finish, then grpc-js closes the sockets.
      injector.destroy();
      maybeClosed();
    });
    return closePromise;
  };

  const where = hostPort(host, actualPort);
  return {
    url: `https://${where}`,
    target: where,
    port: actualPort,
    address,
    get connections() {
      return sockets.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

// --- internal ---
