/**
 * @module tls/server — an HTTPS server that requires client certificates and judges them with our
 * own path validator, not OpenSSL's: `node:tls` accepts any certificate, we validate the chain the
 * client presented (purpose clientAuth), drop refused connections before reading a byte of HTTP, and
 * hand accepted ones to a `node:http` server running a fetch handler (a Hono app's `app.fetch`).
 * Uses only `node:tls`/`node:http`, so it runs on Node, Deno and Bun.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout, clearTimeout } from 'node:timers';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { getRequestListener } from '@hono/node-server';
import {
  formatName,
  NetworkError,
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
  peerChainOf,
  subjectOf,
} from './peer-chain.js';

/** What a fetch handler gets as its second argument (`c.env` in Hono): the Node request and response. */
export interface ServeEnv {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
  /**
   * Who is calling: the path our validator accepted for this connection (`peer.commonName`,
   * `peer.subject`, `anchor`). Always set for requests it hands over; read it as `c.env.peer` in Hono.
   */
  readonly peer: ValidatedPath | undefined;
}

/** A fetch handler: a Hono app's `app.fetch`, or any `(Request) => Response`. */
export type ServeFetch = (request: Request, env: ServeEnv) => Response | Promise<Response>;

/** A client connection we accepted or refused, for logs (`onConnection`). */
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
       * presented no certificate.
       */
      readonly code: PathValidationCode | NetworkCode;
      readonly message: string;
      /** The subject of the certificate the client presented, when it presented a readable one. */
      readonly subject: string | undefined;
    };

/** Options for {@link createMtlsServer}. */
export interface ServeOptions {
  /** Answers each request: a Hono app's `app.fetch`, or any fetch handler. */
  readonly fetch: ServeFetch;
  /** Our private key, PKCS#8 PEM. */
  readonly key: string;
  /** Our certificate (DER) first, then the chain we present to clients. */
  readonly certificates: readonly Uint8Array[];
  /** Judges each client's certificate chain (purpose clientAuth). */
  readonly validator: PathValidator;
  /** Where to listen; default `https://127.0.0.1:4433`. Port 0 picks a free port. */
  readonly url?: string;
  /** Called for every accepted or refused connection; default none. Exceptions it throws are ignored. */
  readonly onConnection?: (event: ConnectionEvent) => void;
  /** Called with errors thrown by `fetch` (answered with a 500) and server errors; default `console.error`. */
  readonly onError?: (error: unknown) => void;
  /** The clock client certificates are validated against; default the current time. */
  readonly time?: () => Date;
  /**
   * Longest wait for a TLS handshake, and for a request's headers on an accepted connection (the
   * first request, or the next on a kept-alive one); then the connection is dropped. Default 30 000 ms.
   */
  readonly idleTimeoutMs?: number;
}

/** A running mTLS server. */
export interface MtlsServer {
  /** The URL it listens on, with the actual port (e.g. `https://127.0.0.1:54321`). */
  readonly url: string;
  /** The actual port. */
  readonly port: number;
  /** The address bound (e.g. `127.0.0.1`, `::1`). */
  readonly address: string;
  /**
   * Stops accepting connections, closes idle ones, lets requests in progress finish, and resolves
   * when every connection is closed. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Same as {@link MtlsServer.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Whatever identifies one connection: its socket, a request on it, or a fetch handler's env (or a Hono context). */
export type PeerSource =
  Socket | IncomingMessage | { readonly incoming: IncomingMessage } | { readonly env: unknown };

const DEFAULT_URL = 'https://127.0.0.1:4433';
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

// One map for every server: a socket is only ever accepted by one.
const peers = new WeakMap<object, ValidatedPath>();
// Also on the socket under a registered symbol, so a second copy of this module (an app bundled
// separately from the CLI that serves it) finds the peer too.
const PEER = Symbol.for('@certified/node.peer');

/**
 * The validated client path of a connection accepted by {@link createMtlsServer}: who is calling. Give it the
 * socket, the `IncomingMessage`, the handler's `env` (`c.env` in Hono) or the Hono context itself.
 *
 * @param source - a socket, a request, a fetch handler's env, or a Hono context.
 * @returns the path (read `peer.commonName`, `peer.subject`, `anchor`), or undefined for a
 *   connection `createMtlsServer` did not accept.
 * @example
 * app.get('/hello', (c) => c.text(`Hello, ${peerOf(c.env)?.peer.commonName}`));
 */
export function peerOf(source: PeerSource | null | undefined): ValidatedPath | undefined {
  let x: unknown = source;
  for (let i = 0; i < 4 && x !== null && typeof x === 'object'; i++) {
    const hit = peers.get(x) ?? (x as { [PEER]?: ValidatedPath })[PEER];
    if (hit) return hit;
    // context → env → incoming → socket
    const o = x as { env?: unknown; incoming?: unknown; socket?: unknown };
    x = o.socket ?? o.incoming ?? o.env;
  }
  return undefined;
}

/**
 * Starts an HTTPS server that requires a client certificate and lets `options.validator` decide
 * which to trust. Refused clients (no certificate, unknown issuer, expired, wrong EKU) are
 * disconnected right after the handshake, before any HTTP is read; accepted ones reach `fetch`,
 * where {@link peerOf} tells who they are. A handler that throws answers 500.
 *
 * @param options.fetch - the request handler (`app.fetch`).
 * @param options.key - our PKCS#8 PEM private key.
 * @param options.certificates - our certificate (DER) first, then its chain.
 * @param options.validator - judges clients (purpose clientAuth).
 * @param options.url - default `https://127.0.0.1:4433`; `https:` only; port 0 picks a free port.
 * @param options.onConnection - accepted/refused events; default none.
 * @param options.onError - handler and server errors; default `console.error`.
 * @param options.time - validation clock; default now.
 * @param options.idleTimeoutMs - handshake and request-headers deadline; default 30 000.
 * @throws ERR_KEY_MISMATCH when the key is not the certificate's; ERR_KEY_MALFORMED,
 *   ERR_CERT_MALFORMED for unreadable ones. NetworkError ERR_NET_URL for a URL that is not `https://host[:port]`; ERR_NET_CONNECT when
 *   the address cannot be listened on (in use, no permission, not on this machine). `TypeError` for
 *   missing options, `RangeError` for a bad idleTimeoutMs.
 * @example
 * const app = new Hono<{ Bindings: ServeEnv }>();
 * app.get('/', (c) => c.text(`Hello, ${peerOf(c.env)?.peer.commonName}`));
 * const server = await createMtlsServer({ fetch: app.fetch, key, certificates: [cert.der, ca.der], validator });
 * console.log(`listening on ${server.url}`);
 */
export async function createMtlsServer(options: ServeOptions): Promise<MtlsServer> {
  if (!options || typeof options !== 'object')
    throw new TypeError(
      `createMtlsServer options must be an object, received ${describe(options)}`,
    );
  const { fetch, validator, onConnection } = options;
  if (typeof fetch !== 'function')
    throw new TypeError(
      `createMtlsServer options.fetch must be a function, received ${describe(fetch)}`,
    );
  if (!validator || typeof validator.validate !== 'function')
    throw new TypeError(
      `createMtlsServer options.validator must be a PathValidator (createPathValidator), received ${describe(validator)}`,
    );
  const key = checkKeyPem(options.key, 'createMtlsServer options');
  const cert = chainPem(options.certificates, 'createMtlsServer options');
  const { host, port } = listenAddress(options.url ?? DEFAULT_URL);
  const onError = options.onError ?? ((e: unknown) => console.error(e));
  const time = options.time;
  // node:http enforces its own headersTimeout only on servers that listen themselves, and ours
  // never does (connections are handed to it), so slow or silent clients are timed here.
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs <= 0)
    throw new RangeError(
      `createMtlsServer options.idleTimeoutMs must be a positive number, received ${idleTimeoutMs}`,
    );
  await checkKeyMatches(key, options.certificates[0]!, 'createMtlsServer');

  const report = (event: ConnectionEvent): void => {
    try {
      onConnection?.(event);
    } catch {
      // a logging callback must not take the server down
    }
  };

  const requestListener = getRequestListener(
    (request, env) => {
      const base = env as { incoming: IncomingMessage; outgoing: ServerResponse };
      return fetch(request, { ...base, peer: peerOf(base.incoming) });
    },
    {
      // Never replace the process's global Request/Response: we are a library.
      overrideGlobalObjects: false,
      errorHandler: (error) => {
        safely(onError, error);
        return new Response('Internal Server Error', {
          status: 500,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        });
      },
    },
  );

  let closing = false;
  const sockets = new Set<TLSSocket>();
  const busy = new Map<object, number>();
  const endSocket = (socket: TLSSocket): void => {
    socket.end(() => socket.destroy());
  };
  const idleTimers = new Map<object, ReturnType<typeof setTimeout>>();
  const stopIdleTimer = (socket: object): void => {
    clearTimeout(idleTimers.get(socket));
    idleTimers.delete(socket);
  };
  /** Drops a connection that sends no request headers in time (slow or silent clients). */
  const startIdleTimer = (socket: TLSSocket): void => {
    stopIdleTimer(socket);
    const timer = setTimeout(() => socket.destroy(), idleTimeoutMs);
    timer.unref();
    idleTimers.set(socket, timer);
  };

  const httpServer = createHttpServer((req, res) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    stopIdleTimer(socket);
    if (closing) res.setHeader('connection', 'close');
    res.once('close', () => {
      const n = (busy.get(socket) ?? 1) - 1;
      if (n > 0) busy.set(socket, n);
      else busy.delete(socket);
      if (n > 0) return;
      if (closing) endSocket(socket as TLSSocket);
      else if (!socket.destroyed) startIdleTimer(socket as TLSSocket);
    });
    requestListener(req, res).catch((e: unknown) => safely(onError, e));
  });
  httpServer.on('clientError', (_error, socket) => socket.destroy());

  const tlsServer = createTlsServer({
    key,
    cert,
    requestCert: true,
    // We decide trust (our validator); OpenSSL's verdict is ignored.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    handshakeTimeout: idleTimeoutMs,
    ALPNProtocols: ['http/1.1'],
  });

  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      busy.delete(socket);
      stopIdleTimer(socket);
      maybeClosed();
    });
    // Resets by the client must not become uncaught errors; the http server adds its own handler.
    socket.on('error', () => undefined);
    void admit(socket);
  });

  tlsServer.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
    report({
      type: 'refused',
      remoteAddress: socket?.remoteAddress,
      remotePort: socket?.remotePort,
      code: 'ERR_NET_TLS',
      message:
        error.code === 'ECONNRESET' || /hang up|reset|closed/i.test(error.message)
          ? 'The client closed the connection during the TLS handshake; it may not trust our certificate.'
          : `The TLS handshake failed: ${error.message}`,
      subject: undefined,
    });
    socket?.destroy();
  });

  async function admit(socket: TLSSocket): Promise<void> {
    const remoteAddress = socket.remoteAddress;
    const remotePort = socket.remotePort;
    const refuse = (
      code: PathValidationCode | NetworkCode,
      message: string,
      subject: string | undefined,
    ): void => {
      socket.destroy();
      report({ type: 'refused', remoteAddress, remotePort, code, message, subject });
    };
    const chain = peerChainOf(socket);
    const [leaf, ...rest] = chain;
    if (!leaf) {
      refuse('ERR_NET_TLS', 'The client presented no certificate.', undefined);
      return;
    }
    let result;
    try {
      result = await validator.validate({
        peer: leaf,
        chain: rest,
        purpose: 'clientAuth',
        ...(time ? { time: time() } : {}),
      });
    } catch (e) {
      // The validator rejects only for caller bugs (a bad `time`); refuse rather than let anyone in.
      safely(onError, e);
      refuse(
        'ERR_NET_TLS',
        `The client certificate could not be validated: ${String(e)}`,
        subjectOf(leaf),
      );
      return;
    }
    if (!result.ok) {
      refuse(result.code, result.message, subjectOf(leaf));
      return;
    }
    if (closing || socket.destroyed) {
      socket.destroy();
      return;
    }
    peers.set(socket, result);
    Object.defineProperty(socket, PEER, { value: result, configurable: true });
    report({
      type: 'accepted',
      remoteAddress,
      remotePort,
      subject: formatName(result.peer.subject),
      commonName: result.peer.commonName,
      path: result,
    });
    startIdleTimer(socket);
    httpServer.emit('connection', socket);
  }

  await new Promise<void>((resolve, reject) => {
    const onListenError = (error: Error & { code?: string }): void => {
      reject(listenError(error, host, port));
    };
    tlsServer.once('error', onListenError);
    tlsServer.listen(port, host, () => {
      tlsServer.off('error', onListenError);
      resolve();
    });
  });
  tlsServer.on('error', (e) => safely(onError, e));

  const bound = tlsServer.address();
  const actualPort = typeof bound === 'object' && bound ? bound.port : port;
  const address = typeof bound === 'object' && bound ? bound.address : host;

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
      for (const socket of sockets) if (!busy.has(socket)) endSocket(socket);
      maybeClosed();
    });
    return closePromise;
  };

  return {
    url: `https://${hostPort(host, actualPort)}`,
    port: actualPort,
    address,
    close,
    [Symbol.asyncDispose]: close,
  };
}

// --- internal ---

function safely(fn: (e: unknown) => void, e: unknown): void {
  try {
    fn(e);
  } catch {
    // an error callback that throws must not crash the server
  }
}

function listenAddress(url: string): { host: string; port: number } {
  if (typeof url !== 'string')
    throw new TypeError(`createMtlsServer options.url must be a string, received ${describe(url)}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new NetworkError('ERR_NET_URL', `Cannot listen on ${JSON.stringify(url)}: not a URL.`, {
      cause,
      field: 'url',
    });
  }
  if (parsed.protocol !== 'https:')
    throw new NetworkError(
      'ERR_NET_URL',
      `Cannot listen on ${JSON.stringify(url)}: only https:// URLs are served (mutual TLS).`,
      { field: 'url', reason: 'not https' },
    );
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host)
    throw new NetworkError('ERR_NET_URL', `Cannot listen on ${JSON.stringify(url)}: no host.`, {
      field: 'url',
    });
  return { host, port: parsed.port === '' ? 443 : Number(parsed.port) };
}

function listenError(error: Error & { code?: string }, host: string, port: number): NetworkError {
  const where = hostPort(host, port);
  const why =
    error.code === 'EADDRINUSE'
      ? 'the port is already in use (another server is listening there)'
      : error.code === 'EACCES' || error.code === 'EPERM'
        ? 'permission denied (ports below 1024 usually need privileges)'
        : error.code === 'EADDRNOTAVAIL'
          ? 'that address does not belong to this machine'
          : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
            ? 'the host name does not resolve'
            : error.message;
  return new NetworkError(
    'ERR_NET_CONNECT',
    `Cannot listen on ${where}: ${why}.`,
    error.code ? { cause: error, reason: error.code } : { cause: error },
  );
}
