/**
 * @module tls/server — an HTTPS server that requires client certificates and judges them with our
 * own path validator, not OpenSSL's: `node:tls` accepts any certificate, we validate the chain the
 * client presented (purpose clientAuth), drop refused connections before reading a byte of HTTP, and
 * hand accepted ones to a `node:http` server running a fetch handler (a Hono app's `app.fetch`).
 * Uses only `node:tls`/`node:http`, so it runs on Node, Deno and Bun.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2Constants, createServer as createHttp2Server } from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { clearInterval, setInterval } from 'node:timers';
import type { TLSSocket } from 'node:tls';
import { getRequestListener } from '@hono/node-server';
import {
  VALIDATED_PATH,
  type Certificate,
  type PathValidator,
  type CertifiedPeer,
  type ValidatedPath,
  describeValue,
} from '@certified/core';
import { callerOf } from './caller.js';
import { createRefusalAnswer } from './refusal-answer.js';
import { chainPem, checkKeyMatches, checkKeyPem } from './peer-chain.js';
import { listenAddress, refusalLimiterOf, safely } from './admission.js';
import type { RefusalLimitOptions } from './refusal-limit.js';
import type { ConnectionTrust } from './connection-trust.js';
import {
  checkValidator,
  createMtlsListener,
  type ConnectionEvent,
  type MtlsListener,
} from './listener.js';

/**
 * What a fetch handler gets as its second argument (`c.env` in Hono): the Node request and response
 * (`Http2ServerRequest`/`Http2ServerResponse` on an HTTP/2 connection).
 */
export interface ServeEnv {
  readonly incoming: IncomingMessage | Http2ServerRequest;
  readonly outgoing: ServerResponse | Http2ServerResponse;
  /**
   * Who is calling: the path our validator accepted for this connection (`peer.commonName`,
   * `peer.subject`, `anchor`). Always set for requests it hands over; read it as `c.env.peer` in Hono.
   */
  readonly peer: ValidatedPath | undefined;
  /**
   * Who is calling, in the one shape every certified transport uses (`CertifiedPeer`, as
   * `@certified/hono`'s `c.get('certified')` and `grpcPeerOf(call)`): `subject` and `commonName` as
   * text, `altNames`, `fingerprint`, `anchor` (with `name`, the `known_clients` file, under `serve`).
   * Built on first read, once per connection.
   */
  readonly caller: CertifiedPeer<'tls'> | undefined;
  /**
   * The trust in force, set by `serve` (not by `createMtlsServer`): the validator judging
   * clients now, and a label (the `known_clients` file name) for each anchor. `@certified/hono`'s
   * `requireClientCert()` uses it when given no validator.
   */
  readonly trust?: ServeTrust;
}

/** The trust a server is using right now: see {@link ServeEnv.trust}. */
export interface ServeTrust {
  readonly validator: PathValidator;
  readonly anchors: readonly { readonly name: string; readonly certificate: Certificate }[];
}

/** A request's {@link ServeEnv}: `caller` is a prototype getter, built only when read. */
class RequestEnv implements ServeEnv {
  // Declared only: a server without `trust` hands over an env without the key.
  declare readonly trust?: ServeTrust;
  constructor(
    readonly incoming: IncomingMessage,
    readonly outgoing: ServerResponse,
    readonly peer: ValidatedPath | undefined,
    trust: ServeTrust | undefined,
  ) {
    if (trust) this.trust = trust;
  }
  get caller(): CertifiedPeer<'tls'> | undefined {
    return this.peer && callerOf(this.peer, this.trust);
  }
}

/** A fetch handler: a Hono app's `app.fetch`, or any `(Request) => Response`. */
export type ServeFetch = (request: Request, env: ServeEnv) => Response | Promise<Response>;

export type { ConnectionEvent } from './listener.js';

/** Options for {@link createMtlsServer}. */
export interface MtlsServerOptions {
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
  /**
   * Offer HTTP/2 (ALPN `h2`) besides HTTP/1.1; default true. Clients that do not ask for `h2`
   * get HTTP/1.1 either way.
   */
  readonly http2?: boolean;
  /**
   * Streams one HTTP/2 connection may have open at once (its SETTINGS_MAX_CONCURRENT_STREAMS);
   * default 100, as nginx and h2o (RFC 9113 asks for no fewer). Node's own default is 2³²−1: one
   * client could keep thousands of requests running in the app. Clients queue streams beyond it;
   * nghttp2 refuses the streams of one that does not.
   */
  readonly maxConcurrentStreams?: number;
  /**
   * Refused clients an address may cause before its connections are dropped at accept, before
   * the TLS handshake (reported once as `ERR_NET_THROTTLED`): a token bucket per address (IPv6 by
   * /64) where a refusal costs one token per started 4 KiB of certificates presented; default 10
   * tokens at once and 0.5 more per second. `false` turns it off.
   */
  readonly refusalLimit?: RefusalLimitOptions | false;
  /**
   * Let `@hono/node-server` install its lighter global `Request`/`Response` for the process, which
   * spares a stream copy per response (Hono's `c.text`/`c.json` then take its fast path); default
   * false for `createMtlsServer` (a library should not touch globals), true for `serve`, which owns
   * the process as `@hono/node-server`'s own `serve` does.
   */
  readonly overrideGlobalObjects?: boolean;
  /**
   * Answer a client our validator refused with `495 SSL Certificate Error` and a JSON body
   * `{"error": {"code", "message"}}` saying why (on its first request, HTTP/1.1 or HTTP/2), instead
   * of closing right after the handshake; default false. It tells a stranger why it was refused —
   * turn it on where that helps more than it reveals (development, an internal network). The app
   * never sees such a connection; it is closed after the answer or 10 s.
   */
  readonly explainRefusals?: boolean;
  /** What `env.trust` reports to the app on each request; `serve` sets it. Default none. */
  readonly trust?: () => ServeTrust;
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
  /**
   * Judges new connections with `validator` from now on, and re-checks every open connection's
   * client chain with it. From this call on, a request read on an open connection waits for that
   * connection's verdict: kept, it runs (and `env.peer` is the path the new trust found); revoked,
   * it never reaches the app — HTTP/1.1 gets `403` and `Connection: close`, an HTTP/2 stream is
   * reset with REFUSED_STREAM after a GOAWAY. Requests already in the app run to their end, then a
   * revoked connection closes (an idle one at once). Each is reported as a `revoked` connection
   * event. A later call replaces the verdicts of an earlier one still judging.
   *
   * @param validator - judges clients from now on (purpose clientAuth).
   * @returns how many open connections were revoked.
   * @throws `TypeError` (the promise rejects) when `validator` is not a PathValidator.
   * @example
   * const revoked = await server.updateTrust(createPathValidator({ anchors: [ca] }));
   */
  updateTrust(validator: PathValidator): Promise<number>;
  /** Open client connections (accepted, not yet closed). */
  readonly connections: number;
}

/** Whatever identifies one connection: its socket, a request on it, or a fetch handler's env (or a Hono context). */
export type PeerSource =
  | Socket
  | IncomingMessage
  | Http2ServerRequest
  | { readonly incoming: IncomingMessage | Http2ServerRequest }
  | { readonly env: unknown };

const DEFAULT_URL = 'https://127.0.0.1:4433';
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CONCURRENT_STREAMS = 100;

// One map for every server: a socket is only ever accepted by one.
const peers = new WeakMap<object, ConnectionTrust>();

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
    const hit = peers.get(x)?.path ?? (x as { [VALIDATED_PATH]?: ValidatedPath })[VALIDATED_PATH];
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
 * @param options.maxConcurrentStreams - open streams per HTTP/2 connection; default 100.
 * @throws ERR_KEY_MISMATCH when the key is not the certificate's; ERR_KEY_MALFORMED,
 *   ERR_CERT_MALFORMED for unreadable ones. NetworkError ERR_NET_URL for a URL that is not `https://host[:port]`; ERR_NET_CONNECT when
 *   the address cannot be listened on (in use, no permission, not on this machine). `TypeError` for
 *   missing options, `RangeError` for a bad idleTimeoutMs or maxConcurrentStreams.
 * @example
 * const app = new Hono<{ Bindings: ServeEnv }>();
 * app.get('/', (c) => c.text(`Hello, ${peerOf(c.env)?.peer.commonName}`));
 * const server = await createMtlsServer({ fetch: app.fetch, key, certificates: [cert.der, ca.der], validator });
 * console.log(`listening on ${server.url}`);
 */
export async function createMtlsServer(options: MtlsServerOptions): Promise<MtlsServer> {
  if (!options || typeof options !== 'object')
    throw new TypeError(
      `createMtlsServer options must be an object, received ${describeValue(options)}`,
    );
  const { fetch, onConnection } = options;
  if (typeof fetch !== 'function')
    throw new TypeError(
      `createMtlsServer options.fetch must be a function, received ${describeValue(fetch)}`,
    );
  const validator = checkValidator(options.validator, 'createMtlsServer options.validator');
  const key = checkKeyPem(options.key, 'createMtlsServer options');
  const cert = chainPem(options.certificates, 'createMtlsServer options');
  const { host, port } = listenAddress(options.url ?? DEFAULT_URL, 'createMtlsServer');
  const onError = options.onError ?? ((e: unknown) => console.error(e));
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs <= 0)
    throw new RangeError(
      `createMtlsServer options.idleTimeoutMs must be a positive number, received ${idleTimeoutMs}`,
    );
  const offerHttp2 = options.http2 ?? true;
  const maxConcurrentStreams = options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS;
  if (
    !Number.isInteger(maxConcurrentStreams) ||
    maxConcurrentStreams < 1 ||
    maxConcurrentStreams > 2 ** 31 - 1
  )
    throw new RangeError(
      `createMtlsServer options.maxConcurrentStreams must be an integer from 1 to 2147483647, received ${maxConcurrentStreams}`,
    );
  const limiter = refusalLimiterOf(options.refusalLimit, 'createMtlsServer');
  await checkKeyMatches(key, options.certificates[0]!, 'createMtlsServer');

  const trustOf = options.trust;
  const requestListener = getRequestListener(
    (request, bindings) => {
      const { incoming, outgoing } = bindings as {
        incoming: IncomingMessage;
        outgoing: ServerResponse;
      };
      // The socket first: that is where an HTTP/1.1 connection's verdict is kept.
      const peer = peers.get(incoming.socket)?.path ?? peerOf(incoming);
      return fetch(request, new RequestEnv(incoming, outgoing, peer, trustOf?.()));
    },
    {
      overrideGlobalObjects: options.overrideGlobalObjects ?? false,
      errorHandler: (error) => {
        safely(onError, error);
        return new Response('Internal Server Error', {
          status: 500,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
        });
      },
    },
  );

  // Assigned once listening; the handlers below only run for connections it admitted.
  // eslint-disable-next-line prefer-const -- declared before the handlers that close over it
  let listener!: MtlsListener;
  const sessions = new Map<TLSSocket, ServerHttp2Session>();
  const sessionTrust = new WeakMap<ServerHttp2Session, ConnectionTrust>();
  const busy = new Map<object, number>();
  const endSocket = (socket: TLSSocket): void => {
    const session = sessions.get(socket);
    // HTTP/2: GOAWAY, let open streams finish, then the session closes the socket.
    if (session) session.close();
    else socket.end(() => socket.destroy());
  };
  // Idle HTTP/1.1 connections (waiting for request headers) and since when. One periodic sweep
  // instead of a timer per request: arming and clearing timers was measurable per request.
  // node:http enforces its own headersTimeout only on servers that listen themselves, and ours
  // never does (connections are handed to it), so slow or silent clients are timed here.
  const idleSince = new Map<TLSSocket, number>();
  const refusals = options.explainRefusals
    ? createRefusalAnswer(offerHttp2, Math.min(idleTimeoutMs, 10_000))
    : undefined;
  const sweep = setInterval(
    () => {
      const deadline = Date.now() - idleTimeoutMs;
      for (const [socket, since] of idleSince)
        if (since <= deadline) {
          idleSince.delete(socket);
          socket.destroy();
        }
    },
    Math.max(10, Math.min(1000, idleTimeoutMs / 4)),
  );
  sweep.unref();

  // One handler for every request, not a closure each: the per-request path allocates little.
  const failed = (e: unknown): void => safely(onError, e);
  const run = (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
  ): void => {
    requestListener(req, res).catch(failed);
  };
  /**
   * Hands a request to the app only if the trust in force accepts its connection's client: one
   * read while the client is re-judged waits for the verdict; one on a revoked connection (or on
   * none we know) is refused instead.
   */
  const dispatch = <
    Q extends IncomingMessage | Http2ServerRequest,
    S extends ServerResponse | Http2ServerResponse,
  >(
    trust: ConnectionTrust | undefined,
    req: Q,
    res: S,
    refuse: (req: Q, res: S) => void,
  ): void => {
    const admitted = trust ? trust.admits() : false;
    if (admitted === true) run(req, res);
    else if (admitted === false) refuse(req, res);
    else
      admitted.then(
        (ok) => (ok ? run(req, res) : refuse(req, res)),
        (e: unknown) => {
          safely(onError, e);
          refuse(req, res);
        },
      );
  };

  const httpServer = createHttpServer((req, res) => {
    const socket = req.socket as TLSSocket;
    const trust = listener.trustOf(socket);
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    idleSince.delete(socket);
    if (listener.closing) res.setHeader('connection', 'close');
    // 'close' comes once per response: `on`, not `once`, spares a wrapper per request.
    res.on('close', () => {
      const n = (busy.get(socket) ?? 1) - 1;
      if (n > 0) busy.set(socket, n);
      else busy.delete(socket);
      if (n > 0) return;
      if (listener.closing || trust?.revoked) endSocket(socket);
      else if (!socket.destroyed) idleSince.set(socket, Date.now());
    });
    dispatch(trust, req, res, refuseHttp1);
  });
  // No 'clientError' listener: node:http then answers a request it cannot read as an https server
  // does (431 for headers over its limit, 400 for malformed ones) and closes the connection.

  // Created only when offered: runtimes whose node:http2 is partial never load it otherwise.
  const http2Server = offerHttp2
    ? createHttp2Server({ settings: { maxConcurrentStreams } }, (req, res) => {
        const trust = sessionTrust.get(req.stream.session as ServerHttp2Session);
        dispatch(trust, req, res, refuseStream);
      })
    : undefined;
  let pendingH2: TLSSocket | undefined;
  http2Server?.on('session', (session: ServerHttp2Session) => {
    // 'session' fires synchronously inside emit('connection'); session.socket is only a proxy.
    const tls = pendingH2;
    if (!tls) return;
    sessions.set(tls, session);
    const trust = listener.trustOf(tls);
    if (trust) sessionTrust.set(session, trust);
    session.once('close', () => sessions.delete(tls));
    // An HTTP/2 session with no streams for idleTimeoutMs is closed gracefully.
    session.setTimeout(idleTimeoutMs, () => session.close());
    session.on('error', () => undefined);
  });

  listener = await createMtlsListener(
    {
      key,
      cert,
      validator,
      host,
      port,
      handshakeTimeoutMs: idleTimeoutMs,
      limiter,
      what: 'createMtlsServer',
      onConnection,
      onError,
      time: options.time,
    },
    {
      alpn: offerHttp2 ? ['h2', 'http/1.1'] : ['http/1.1'],
      accept(socket, trust, announce) {
        peers.set(socket, trust);
        socket.once('close', () => {
          sessions.delete(socket);
          busy.delete(socket);
          idleSince.delete(socket);
        });
        announce();
        if (http2Server && socket.alpnProtocol === 'h2') {
          pendingH2 = socket;
          try {
            http2Server.emit('connection', socket);
          } finally {
            pendingH2 = undefined;
          }
          return true;
        }
        idleSince.set(socket, Date.now());
        httpServer.emit('connection', socket);
        return true;
      },
      // Requests in progress finish; an idle HTTP/1.1 connection closes now, HTTP/2 gets GOAWAY.
      end(socket) {
        if (sessions.has(socket) || !busy.has(socket)) endSocket(socket);
      },
      ...(refusals ? { explain: (socket, reason) => refusals.answer(socket, reason) } : {}),
      stop: () => {
        clearInterval(sweep);
        refusals?.stop();
      },
    },
  );

  const close = (): Promise<void> => listener.close();
  return {
    url: `https://${listener.where}`,
    port: listener.port,
    address: listener.address,
    close,
    [Symbol.asyncDispose]: close,
    updateTrust: (next) => listener.updateTrust(next),
    get connections() {
      return listener.connections;
    },
  };
}

// --- internal ---

/**
 * Answers a request read on a revoked connection without running the app; the connection closes
 * after it (later pipelined requests get no answer).
 */
function refuseHttp1(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  if (socket.writableEnded || socket.destroyed) {
    socket.destroy();
    return;
  }
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end('The client certificate is no longer trusted.\n');
}

/** Resets a stream opened on a revoked HTTP/2 connection: not processed, so a client may retry it. */
function refuseStream(req: Http2ServerRequest): void {
  req.stream.close(http2Constants.NGHTTP2_REFUSED_STREAM);
}
