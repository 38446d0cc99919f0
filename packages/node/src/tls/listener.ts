/**
 * @module tls/listener — the one mTLS listener under HTTP/1.1, HTTP/2 and gRPC. It owns admission:
 * the refusal limiter, the TLS handshake (any certificate; OpenSSL's verdict is ignored), our
 * validator's verdict on the client chain before the protocol sees a byte, the connection events,
 * re-judging on `updateTrust`, and a graceful close. A protocol (`tls/server.ts` for HTTP,
 * `grpc/serve-grpc.ts` for gRPC) only receives admitted sockets and knows how to end one gently.
 */
import { constants as cryptoConstants } from 'node:crypto';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import {
  formatName,
  VALIDATED_PATH,
  type NetworkCode,
  type PathValidationCode,
  type PathValidator,
  type ValidatedPath,
  describeValue,
} from '@certified/core';
import { handshakeFailure, judgeClient, limitRefusals, listenOn, safely } from './admission.js';
import { ConnectionTrust } from './connection-trust.js';
import { hostPort, presentedBy } from './peer-chain.js';
import type { RefusalLimiter } from './refusal-limit.js';

/** A client connection we accepted, refused or revoked, for logs (`onConnection`). */
export type ConnectionEvent =
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
       * Why: a path-validation code, or `ERR_NET_TLS` when the handshake failed or the client
       * presented no certificate, or `ERR_NET_THROTTLED` when its address was dropped at accept.
       */
      readonly code: PathValidationCode | NetworkCode;
      readonly message: string;
      /** The subject of the certificate the client presented, when it presented a readable one. */
      readonly subject: string | undefined;
      /** That certificate's SHA-256 fingerprint (as `openssl x509 -fingerprint -sha256`), when presented. */
      readonly fingerprint?: string | undefined;
    }
  | {
      /**
       * An open connection whose client the new trust (`updateTrust`) refuses: nothing more on it
       * reaches the app, and it is closed once what is in progress finishes.
       */
      readonly type: 'revoked';
      readonly remoteAddress: string | undefined;
      readonly remotePort: number | undefined;
      readonly code: PathValidationCode | NetworkCode;
      readonly message: string;
      readonly subject: string | undefined;
      readonly fingerprint?: string | undefined;
    };

/** What a protocol on top of the listener does with admitted connections. */
export interface ListenerProtocol {
  /** ALPN protocols offered, preferred first. */
  readonly alpn: readonly string[];
  /** A reason to refuse a socket before judging its chain (e.g. gRPC without h2). */
  refuseEarly?(socket: TLSSocket): string | undefined;
  /**
   * Takes a refused socket to tell its client why (HTTP's `explainRefusals`); false, or absent, and
   * the socket is destroyed at once. It must never reach the app.
   */
  explain?(socket: TLSSocket, reason: { code: string; message: string }): boolean;
  /**
   * Takes an admitted socket. Call `announce()` right before the first byte can reach the app (the
   * `accepted` event is reported then); return false when it could not be taken (it is destroyed).
   */
  accept(socket: TLSSocket, trust: ConnectionTrust, announce: () => void): boolean;
  /** Ends a connection gently (revoked, or the listener is closing): in-flight work finishes. */
  end(socket: TLSSocket): void;
  /** Releases what the protocol holds once the listener stops (timers). */
  stop?(): void;
}

/** Options for {@link createMtlsListener}. */
export interface MtlsListenerOptions {
  readonly key: string;
  readonly cert: string;
  readonly validator: PathValidator;
  readonly host: string;
  readonly port: number;
  readonly handshakeTimeoutMs: number;
  /** From `refusalLimiterOf(options.refusalLimit)`: checked by the caller with its other options. */
  readonly limiter: RefusalLimiter | undefined;
  /** Names the caller in error messages (`createMtlsServer`, `serveGrpc`). */
  readonly what: string;
  readonly onConnection: ((event: ConnectionEvent) => void) | undefined;
  readonly onError: (error: unknown) => void;
  readonly time: (() => Date) | undefined;
}

/** A listening mTLS listener. */
export interface MtlsListener {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  /** `host:port`, IPv6 bracketed. */
  readonly where: string;
  /** True once `close()` was called. */
  readonly closing: boolean;
  /** Open admitted connections. */
  readonly connections: number;
  /** The verdict on an admitted socket's client, or undefined. */
  trustOf(socket: TLSSocket): ConnectionTrust | undefined;
  updateTrust(validator: PathValidator): Promise<number>;
  close(): Promise<void>;
}

/**
 * Listens for mutual-TLS clients, judges each with our validator, and hands the admitted ones to
 * `protocol`. Throws NetworkError ERR_NET_CONNECT when the address cannot be listened on.
 *
 * @example
 * ```ts
 * const listener = await createMtlsListener(options, { alpn: ['http/1.1'], accept, end });
 * ```
 */
export async function createMtlsListener(
  options: MtlsListenerOptions,
  protocol: ListenerProtocol,
): Promise<MtlsListener> {
  const { key, cert, host, what, onConnection, onError } = options;
  let validator = checkValidator(options.validator, `${what} options.validator`);
  const judging = { time: options.time, onError };
  const limiter = options.limiter;
  const report = (event: ConnectionEvent): void => {
    try {
      onConnection?.(event);
    } catch {
      // a logging callback must not take the server down
    }
  };
  /** Admitted connections and the verdict on their client (re-judged by updateTrust). */
  const sockets = new Map<TLSSocket, ConnectionTrust>();
  let closing = false;

  const tlsServer = createTlsServer({
    key,
    cert,
    requestCert: true,
    // We decide trust (our validator); OpenSSL's verdict is ignored.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    handshakeTimeout: options.handshakeTimeoutMs,
    ALPNProtocols: [...protocol.alpn],
    // No TLS 1.2 renegotiation: it is a handshake our validator never sees (a client could present
    // another certificate in it), and Node would allow three per connection. Bun (BoringSSL) and
    // Deno (rustls) never renegotiate; their constants may lack the flag, which then sets nothing.
    secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
  });
  const guard = limitRefusals(tlsServer, limiter, report);

  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    // Resets by the client must not become uncaught errors; the protocol adds its own handlers.
    socket.on('error', () => undefined);
    void admit(socket);
  });
  tlsServer.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
    if (guard.dropped(error, socket)) return;
    guard.failed(socket?.remoteAddress, socket?.remotePort);
    guard.refused(socket?.remoteAddress);
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

  async function admit(socket: TLSSocket): Promise<void> {
    const { remoteAddress, remotePort } = socket;
    let chain: Uint8Array[] = [];
    const refuse = (code: PathValidationCode | NetworkCode, message: string): void => {
      let explained = false;
      try {
        explained = protocol.explain?.(socket, { code, message }) ?? false;
      } catch (e) {
        safely(onError, e);
      }
      if (!explained) socket.destroy();
      guard.refused(remoteAddress, chain);
      report({
        type: 'refused',
        remoteAddress,
        remotePort,
        code,
        message,
        ...presentedBy(chain[0]),
      });
    };
    const early = protocol.refuseEarly?.(socket);
    if (early) {
      guard.judged(remoteAddress, remotePort);
      return refuse('ERR_NET_TLS', early);
    }
    let judgedBy = validator;
    let verdict = await judgeClient(socket, judgedBy, judging);
    // Trust changed while this client was being judged: updateTrust did not see it, so judge again.
    while (verdict.ok && validator !== judgedBy) {
      judgedBy = validator;
      verdict = await judgeClient(socket, judgedBy, judging, verdict.chain);
    }
    chain = verdict.chain;
    guard.judged(remoteAddress, remotePort);
    if (!verdict.ok) return refuse(verdict.code, verdict.message);
    if (closing || socket.destroyed) {
      socket.destroy();
      return;
    }
    const path = verdict.path;
    const trust = new ConnectionTrust(chain, path);
    sockets.set(socket, trust);
    socket.once('close', () => {
      sockets.delete(socket);
      maybeClosed();
    });
    // A getter, since re-judging may accept the client through another path; one getter for every
    // socket, not a closure each: with a closure, each socket got a shape of its own and node:http's
    // property loads on it missed their inline caches on every request (in a perf profile).
    trustBySocket.set(socket, trust);
    Object.defineProperty(socket, VALIDATED_PATH, VALIDATED_PATH_GETTER);
    const announce = (): void => {
      // Nothing to build when nobody listens: formatting the subject is most of its cost.
      if (!onConnection) return;
      report({
        type: 'accepted',
        remoteAddress,
        remotePort,
        subject: formatName(path.peer.subject),
        commonName: path.peer.commonName,
        path,
      });
    };
    let taken = false;
    try {
      taken = protocol.accept(socket, trust, announce);
    } catch (e) {
      safely(onError, e);
    }
    if (!taken) socket.destroy();
  }

  async function updateTrust(next: PathValidator): Promise<number> {
    validator = checkValidator(next, 'updateTrust(validator)');
    // rejudge() puts each connection under review before this returns: what is read from now on
    // waits for the new trust's verdict (a later updateTrust's verdict replaces this one).
    const revoked = await Promise.all(
      [...sockets].map(async ([socket, trust]) => {
        const revocation = await trust.rejudge(socket, next, judging);
        if (!revocation || socket.destroyed) return 0;
        report({
          type: 'revoked',
          remoteAddress: socket.remoteAddress,
          remotePort: socket.remotePort,
          ...revocation,
          ...presentedBy(trust.chain[0]),
        });
        protocol.end(socket);
        return 1;
      }),
    );
    return revoked.reduce((a: number, b) => a + b, 0);
  }

  const { port, address } = await listenOn(tlsServer, host, options.port, () => protocol.stop?.());
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
      protocol.stop?.();
      tlsServer.close(() => {
        listenerClosed = true;
        maybeClosed();
      });
      for (const socket of sockets.keys()) protocol.end(socket);
      maybeClosed();
    });
    return closePromise;
  };

  return {
    host,
    port,
    address,
    where: hostPort(host, port),
    get closing() {
      return closing;
    },
    get connections() {
      return sockets.size;
    },
    trustOf: (socket) => sockets.get(socket),
    updateTrust,
    close,
  };
}

/** The verdict on each admitted socket, for {@link VALIDATED_PATH_GETTER}. */
const trustBySocket = new WeakMap<TLSSocket, ConnectionTrust>();
const VALIDATED_PATH_GETTER: PropertyDescriptor = Object.freeze({
  get(this: TLSSocket): ValidatedPath | undefined {
    return trustBySocket.get(this)?.path;
  },
  configurable: true,
});

/** Throws a TypeError naming `what` unless `v` is a PathValidator. */
export function checkValidator(v: unknown, what: string): PathValidator {
  if (!v || typeof (v as PathValidator).validate !== 'function')
    throw new TypeError(
      `${what} must be a PathValidator (createPathValidator), received ${describeValue(v)}`,
    );
  return v as PathValidator;
}
