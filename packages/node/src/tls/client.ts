/**
 * @module tls/client — a `fetch` that speaks mutual TLS: it presents our certificate, judges the
 * server's chain and name with our own path validator (purpose serverAuth) instead of OpenSSL's,
 * and sends one HTTP/1.1 request per connection. Uses only `node:tls`/`node:http`, so it runs on
 * Node, Deno and Bun.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import {
  NetworkError,
  PathValidationError,
  type PathValidator,
  type PeerNameInput,
} from '@certified/core';
import {
  chainPem,
  checkKeyMatches,
  checkKeyPem,
  describe,
  hostPort,
  peerChainOf,
} from './peer-chain.js';

/** Options for {@link createMtlsFetch}. */
export interface MtlsFetchOptions {
  /** Our private key, PKCS#8 PEM. */
  readonly key: string;
  /** Our certificate (DER) first, then the chain we present to servers. */
  readonly certificates: readonly Uint8Array[];
  /** Judges each server's certificate chain (purpose serverAuth). */
  readonly validator: PathValidator;
  /**
   * The name the server's certificate must carry; default the URL's host. An IP address is matched
   * against IP SANs, anything else against DNS SANs. SNI is sent only for DNS names.
   */
  readonly serverName?: string;
  /**
   * Time allowed to connect, handshake, validate and receive the response headers, and then the
   * longest silence while reading the body; default 30 000 ms.
   */
  readonly timeoutMs?: number;
  /** The clock server certificates are validated against; default the current time. */
  readonly time?: () => Date;
}

/**
 * A `fetch` over mutual TLS: same call shape, standard `Request`/`Response`. Only `https:` URLs;
 * redirects are returned, not followed; one connection per request.
 */
export type MtlsFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const DEFAULT_TIMEOUT_MS = 30_000;
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * Creates a `fetch` that presents our certificate and trusts a server only if `options.validator`
 * accepts its chain for serverAuth and its certificate carries the expected name.
 *
 * @param options.key - our PKCS#8 PEM private key.
 * @param options.certificates - our certificate (DER) first, then its chain.
 * @param options.validator - judges servers (purpose serverAuth).
 * @param options.serverName - the name the server must carry; default the URL's host.
 * @param options.timeoutMs - until the response headers, then per silence in the body; default 30 000.
 * @param options.time - validation clock; default now.
 * @returns a function `(input, init?) => Promise<Response>`. It rejects with a
 *   `PathValidationError` (ERR_CHAIN_*, message prefixed `host:port:`) when the server is not
 *   trusted; `NetworkError` ERR_NET_URL (not https), ERR_NET_CONNECT (unreachable), ERR_NET_TIMEOUT,
 *   ERR_NET_TLS (handshake failed, or the server hung up right after it: it may not trust us),
 *   ERR_NET_PROTOCOL (broken HTTP); ERR_KEY_MISMATCH (or ERR_KEY_MALFORMED, ERR_CERT_MALFORMED)
 *   when our key is not our certificate's; the signal's reason when aborted; `TypeError` for a
 *   bad `init`.
 * @throws TypeError for missing or malformed options.
 * @example
 * const fetch = createMtlsFetch({ key, certificates: [me.der, myCa.der], validator });
 * const res = await fetch('https://127.0.0.1:8443/hello');
 * console.log(res.status, await res.text());
 */
export function createMtlsFetch(options: MtlsFetchOptions): MtlsFetch {
  if (!options || typeof options !== 'object')
    throw new TypeError(`createMtlsFetch options must be an object, received ${describe(options)}`);
  const { validator, serverName, time } = options;
  if (!validator || typeof validator.validate !== 'function')
    throw new TypeError(
      `createMtlsFetch options.validator must be a PathValidator (createPathValidator), received ${describe(validator)}`,
    );
  if (serverName !== undefined && (typeof serverName !== 'string' || serverName === ''))
    throw new TypeError(
      `createMtlsFetch options.serverName must be a non-empty string, received ${describe(serverName)}`,
    );
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new RangeError(
      `createMtlsFetch options.timeoutMs must be a positive number, received ${timeoutMs}`,
    );
  if (time !== undefined && typeof time !== 'function')
    throw new TypeError(
      `createMtlsFetch options.time must be a function, received ${describe(time)}`,
    );
  const key = checkKeyPem(options.key, 'createMtlsFetch options');
  const cert = chainPem(options.certificates, 'createMtlsFetch options');
  const ctx: Context = { key, cert, validator, serverName, timeoutMs, time };
  // Checked once, on first use (the factory is synchronous); every call fails alike if it is wrong.
  let identityChecked: Promise<void> | undefined;
  const certificate = options.certificates[0]!;

  return async function mtlsFetch(
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    const url = targetUrl(input);
    const streamed = typeof ReadableStream !== 'undefined' && init?.body instanceof ReadableStream;
    // The Request constructor normalises method, headers, body and content-type for us.
    const request = new Request(
      input instanceof Request ? input : url.href,
      streamed ? ({ ...init, duplex: 'half' } as RequestInit) : init,
    );
    request.signal.throwIfAborted();
    identityChecked ??= checkKeyMatches(key, certificate, 'createMtlsFetch');
    await identityChecked;
    const body = streamed
      ? request.body
      : request.body
        ? new Uint8Array(await request.arrayBuffer())
        : undefined;
    return exchange(ctx, url, request, body);
  };
}

// --- internal ---

interface Context {
  readonly key: string;
  readonly cert: string;
  readonly validator: PathValidator;
  readonly serverName: string | undefined;
  readonly timeoutMs: number;
  readonly time: (() => Date) | undefined;
}

function targetUrl(input: unknown): URL {
  let url: URL;
  const text =
    input instanceof URL ? input.href : input instanceof Request ? input.url : (input as string);
  if (typeof text !== 'string')
    throw new TypeError(
      `fetch input must be a URL, string or Request, received ${describe(input)}`,
    );
  try {
    url = new URL(text);
  } catch (cause) {
    throw new NetworkError('ERR_NET_URL', `Cannot fetch ${JSON.stringify(text)}: not a URL.`, {
      cause,
      field: 'url',
    });
  }
  if (url.protocol !== 'https:')
    throw new NetworkError(
      'ERR_NET_URL',
      `Cannot fetch ${url.href}: only https:// URLs are supported (mutual TLS).`,
      { field: 'url', reason: 'not https' },
    );
  if (url.hostname === '')
    throw new NetworkError('ERR_NET_URL', `Cannot fetch ${url.href}: no host.`, { field: 'url' });
  return url;
}

/** One connection: connect, validate the server, send the request, and resolve at the headers. */
function exchange(
  ctx: Context,
  url: URL,
  request: Request,
  body: Uint8Array | ReadableStream<Uint8Array> | null | undefined,
): Promise<Response> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 443 : Number(url.port);
  const where = hostPort(host, port);
  const expected = ctx.serverName ?? host;
  const peerName: PeerNameInput = isIP(expected)
    ? { type: 'ip', value: expected }
    : { type: 'dns', value: expected };
  const signal = request.signal;

  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    let tcpConnected = false;
    let handshakeDone = false;
    let responded = false;
    let bodyController: ReadableStreamDefaultController<Uint8Array> | undefined;

    const socket: TLSSocket = tlsConnect({
      host,
      port,
      key: ctx.key,
      cert: ctx.cert,
      // We decide trust (our validator); OpenSSL's verdict is ignored.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
      ...(peerName.type === 'dns' ? { servername: expected } : {}),
    });
    // Errors are reported through the promise or the body stream; never as uncaught events.
    socket.on('error', (e: Error) => fail(classify(e)));
    socket.once('connect', () => (tcpConnected = true));
    socket.once('close', () =>
      fail(
        responded
          ? new NetworkError(
              'ERR_NET_PROTOCOL',
              `${where}: the server closed the connection mid-response.`,
            )
          : handshakeDone
            ? tlsHangUp(where)
            : new NetworkError(
                'ERR_NET_TLS',
                `${where}: the server closed the connection during the TLS handshake; it may not trust our certificate, or not speak TLS.`,
              ),
      ),
    );

    const timer = setTimeout(
      () =>
        fail(
          new NetworkError(
            'ERR_NET_TIMEOUT',
            `${where}: no response within ${ctx.timeoutMs} ms${handshakeDone ? '' : tcpConnected ? ' (the TLS handshake did not finish)' : ' (could not connect)'}.`,
          ),
        ),
      ctx.timeoutMs,
    );
    const onAbort = (): void => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    function cleanup(): void {
      clearTimeout(timer);
    }

    /** Ends the exchange with an error: rejects the fetch, or errors the body once resolved. */
    function fail(error: unknown): void {
      if (!settled) {
        settled = true;
        cleanup();
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(error);
        return;
      }
      if (bodyController) {
        try {
          bodyController.error(error);
        } catch {
          // already closed
        }
        bodyController = undefined;
      }
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
    }

    function classify(e: Error & { code?: string }): unknown {
      if (e instanceof NetworkError || e instanceof PathValidationError) return e;
      const code = e.code ?? '';
      const reason = `${code ? `${code}: ` : ''}${e.message}`;
      const details = code ? { cause: e, reason: code } : { cause: e };
      const tls = (message: string): NetworkError =>
        new NetworkError('ERR_NET_TLS', `${where}: ${message}`, details);
      if (responded)
        return new NetworkError(
          'ERR_NET_PROTOCOL',
          `${where}: the response broke off mid-body (${reason}).`,
          details,
        );
      if (code === 'ETIMEDOUT')
        return new NetworkError('ERR_NET_TIMEOUT', `${where}: the connection timed out.`, details);
      if (code.startsWith('HPE_'))
        return new NetworkError(
          'ERR_NET_PROTOCOL',
          `${where}: the server broke HTTP (${reason}).`,
          details,
        );
      const unreachable = UNREACHABLE[code];
      if (unreachable)
        return new NetworkError(
          'ERR_NET_CONNECT',
          `${where}: cannot connect: ${unreachable}.`,
          details,
        );
      // An alert about certificates: the server's TLS stack refused ours.
      if (/alert/i.test(reason) && CERT_ALERT.test(reason))
        return tls(`the server refused our certificate (${reason}).`);
      if (/^(ERR_SSL|ERR_TLS)/.test(code) || /alert|ssl|tls/i.test(e.message))
        return handshakeDone
          ? tls(`the server ended the TLS session (${reason}); it may not trust our certificate.`)
          : hungUp(code, e.message)
            ? tls(
                `the server closed the connection during the TLS handshake (${reason}); it may not trust our certificate, or not speak TLS.`,
              )
            : tls(`the TLS handshake failed (${reason}).`);
      if (hungUp(code, e.message))
        return handshakeDone
          ? tlsHangUp(where, e)
          : tls(
              `the server closed the connection during the TLS handshake (${reason}); it may not trust our certificate, or not speak TLS.`,
            );
      return new NetworkError('ERR_NET_CONNECT', `${where}: cannot connect: ${reason}.`, details);
    }

    socket.once('secureConnect', () => {
      handshakeDone = true;
      tcpConnected = true;
      void judge();
    });

    async function judge(): Promise<void> {
      const [leaf, ...rest] = peerChainOf(socket);
      if (!leaf) {
        fail(new NetworkError('ERR_NET_TLS', `${where}: the server presented no certificate.`));
        return;
      }
      let result;
      try {
        result = await ctx.validator.validate({
          peer: leaf,
          chain: rest,
          purpose: 'serverAuth',
          peerName,
          ...(ctx.time ? { time: ctx.time() } : {}),
        });
      } catch (e) {
        fail(e);
        return;
      }
      if (settled) return;
      if (!result.ok) {
        fail(
          new PathValidationError(result.code, `${where}: ${result.message}`, {
            certIndex: result.certIndex,
            attempts: result.attempts,
          }),
        );
        return;
      }
      send();
    }

    function send(): void {
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => (headers[name] = value));
      headers['host'] ??= url.host;
      headers['connection'] = 'close';
      if (body instanceof Uint8Array) headers['content-length'] = String(body.byteLength);

      const req = httpRequest({
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers,
        setHost: false,
        createConnection: () => socket,
      });
      req.on('error', (e: Error) => fail(classify(e)));
      req.once('response', (res: IncomingMessage) => respond(res));
      if (body instanceof Uint8Array) req.end(body);
      else if (body) void pump(body, req);
      else req.end();
    }

    async function pump(
      stream: ReadableStream<Uint8Array>,
      req: ReturnType<typeof httpRequest>,
    ): Promise<void> {
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (settled && !bodyController && socket.destroyed) return;
          if (!req.write(value)) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      } catch (e) {
        fail(e);
      }
    }

    function respond(res: IncomingMessage): void {
      if (settled) return;
      responded = true;
      const headers = new Headers();
      const raw = res.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        try {
          headers.append(raw[i]!, raw[i + 1]!);
        } catch {
          // a header value the Fetch API cannot carry is dropped
        }
      }
      const status = res.statusCode ?? 0;
      const empty = request.method === 'HEAD' || NULL_BODY_STATUS.has(status);
      const stream = empty
        ? null
        : new ReadableStream<Uint8Array>({
            start(controller) {
              bodyController = controller;
            },
            pull() {
              res.resume();
            },
            cancel() {
              bodyController = undefined;
              socket.destroy();
            },
          });
      let response: Response;
      try {
        response = new Response(stream, {
          status,
          statusText: res.statusMessage ?? '',
          headers,
        });
      } catch (e) {
        fail(
          new NetworkError(
            'ERR_NET_PROTOCOL',
            `${where}: the server answered with an unusable status line (${status} ${res.statusMessage ?? ''}).`,
            { cause: e },
          ),
        );
        return;
      }
      try {
        Object.defineProperty(response, 'url', { value: url.href });
      } catch {
        // some runtimes make Response.url unconfigurable: leave it empty
      }

      res.pause();
      res.on('data', (chunk: Uint8Array) => {
        if (!bodyController) return;
        bodyController.enqueue(new Uint8Array(chunk));
        if ((bodyController.desiredSize ?? 1) <= 0) res.pause();
      });
      let ended = false;
      res.once('end', () => {
        ended = true;
        const c = bodyController;
        bodyController = undefined;
        signal.removeEventListener('abort', onAbort);
        try {
          c?.close();
        } catch {
          // cancelled
        }
        socket.destroy();
      });
      res.once('aborted', () =>
        fail(
          new NetworkError(
            'ERR_NET_PROTOCOL',
            `${where}: the server closed the connection mid-response.`,
          ),
        ),
      );
      res.once('close', () => {
        if (!ended)
          fail(
            new NetworkError(
              'ERR_NET_PROTOCOL',
              `${where}: the server closed the connection mid-response.`,
            ),
          );
      });
      res.on('error', (e: Error) => fail(classify(e)));
      if (empty) res.resume();

      // From here the timeout is per silence while the body streams.
      settled = true;
      cleanup();
      socket.setTimeout(ctx.timeoutMs, () =>
        fail(
          new NetworkError(
            'ERR_NET_TIMEOUT',
            `${where}: the response body stalled for ${ctx.timeoutMs} ms.`,
          ),
        ),
      );
      resolve(response);
    }
  });
}

const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (nothing is listening there)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS is not answering)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EADDRNOTAVAIL: 'the address is not available',
};

/** TLS alerts a server sends when it does not accept the client's certificate. */
const CERT_ALERT = /certificate|unknown.?ca|access.?denied/i;

function hungUp(code: string, message: string): boolean {
  return (
    code === 'ECONNRESET' || code === 'EPIPE' || /hang up|disconnected|closed|reset/i.test(message)
  );
}

function tlsHangUp(where: string, cause?: unknown): NetworkError {
  return new NetworkError(
    'ERR_NET_TLS',
    `${where}: the server closed the connection right after the TLS handshake, before answering; it may not trust our certificate.`,
    cause === undefined ? {} : { cause },
  );
}
