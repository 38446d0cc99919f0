/**
 * @module tls/client — a `fetch` that speaks mutual TLS: it presents our certificate, judges the
 * server's chain and name with our own path validator (purpose serverAuth) instead of OpenSSL's,
 * and keeps HTTP/1.1 connections open for further requests to the same origin. HTTP is the
 * runtime's own client (`node:https`, on Node, Deno and Bun); what is ours is the agent
 * (`mtls-agent.ts`) that validates each connection once, before the HTTP client may write a byte,
 * and the mapping between `fetch`'s Request/Response and `node:https`.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { clearTimeout, setTimeout } from 'node:timers';
import {
  NetworkError,
  PathValidationError,
  type PathValidator,
  describeValue,
} from '@certified/core';
import {
  classifyConnectError,
  isHangUp,
  MtlsAgent,
  type CertifiedRequestOptions,
  type ConnectStage,
  type ExpectedName,
} from './mtls-agent.js';
import { chainPem, checkKeyMatches, checkKeyPem, hostPort } from './peer-chain.js';

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
   * Time allowed to get a connection (waiting for a free one, connecting, handshake, validation)
   * and receive the response headers, and then the longest silence while reading the body;
   * default 30 000 ms.
   */
  readonly timeoutMs?: number;
  /** The clock server certificates are validated against; default the current time. */
  readonly time?: () => Date;
  /**
   * Keep connections open for further requests to the same origin and server name; default true.
   * With false, every request gets its own connection and sends `Connection: close`.
   */
  readonly keepAlive?: boolean;
  /** Most connections open at once to one origin; more requests wait for one. Default 6. */
  readonly maxSockets?: number;
  /**
   * How long an idle connection stays open; default 4 000 ms, shortened to a second less than
   * the server's `Keep-Alive: timeout=N`. Idle connections never keep the process alive.
   */
  readonly idleTimeoutMs?: number;
}

/**
 * A `fetch` over mutual TLS: same call shape, standard `Request`/`Response`. Only `https:` URLs;
 * redirects are returned, not followed; HTTP/1.1 only.
 */
export interface MtlsFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * Closes the connections: idle ones now, busy ones as soon as their response ends. Later
   * calls reject with a `TypeError`. Resolves when every connection is closed.
   */
  close(): Promise<void>;
  /** Same as {@link MtlsFetch.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_SOCKETS = 6;
const DEFAULT_IDLE_TIMEOUT_MS = 4_000;
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
/** RFC 9110 §9.2.2: requests that may be sent again without changing what they do. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Creates a `fetch` that presents our certificate and trusts a server only if `options.validator`
 * accepts its chain for serverAuth and its certificate carries the expected name. Connections are
 * pooled per origin and server name (this fetch has one identity and one validator), validated
 * once when opened, and reused while the server keeps them open. A request whose pooled
 * connection turns out closed before a byte of it was written goes on a fresh connection; one
 * already written is never sent again (it may have been processed).
 *
 * @param options.key - our PKCS#8 PEM private key.
 * @param options.certificates - our certificate (DER) first, then its chain.
 * @param options.validator - judges servers (purpose serverAuth).
 * @param options.serverName - the name the server must carry; default the URL's host.
 * @param options.timeoutMs - until the response headers, then per silence in the body; default 30 000.
 * @param options.time - validation clock; default now.
 * @param options.keepAlive - reuse connections; default true.
 * @param options.maxSockets - connections per origin; default 6.
 * @param options.idleTimeoutMs - how long an idle connection is kept; default 4 000.
 * @returns a function `(input, init?) => Promise<Response>` with `close()`. It rejects with a
 *   `PathValidationError` (ERR_CHAIN_*, message prefixed `host:port:`) when the server is not
 *   trusted; `NetworkError` ERR_NET_URL (not https), ERR_NET_CONNECT (unreachable), ERR_NET_TIMEOUT,
 *   ERR_NET_TLS (handshake failed, or the server hung up right after it: it may not trust us),
 *   ERR_NET_PROTOCOL (broken HTTP, or a kept-alive connection closed after the request was sent);
 *   ERR_KEY_MISMATCH (or ERR_KEY_MALFORMED, ERR_CERT_MALFORMED) when our key is not our
 *   certificate's; the signal's reason when aborted; `TypeError` for a bad `init` or after `close()`.
 * @throws TypeError for missing or malformed options, RangeError for bad numbers.
 * @example
 * await using fetch = createMtlsFetch({ key, certificates: [me.der, myCa.der], validator });
 * const res = await fetch('https://127.0.0.1:8443/hello');
 * console.log(res.status, await res.text());
 */
export function createMtlsFetch(options: MtlsFetchOptions): MtlsFetch {
  if (!options || typeof options !== 'object')
    throw new TypeError(
      `createMtlsFetch options must be an object, received ${describeValue(options)}`,
    );
  const { validator, serverName, time } = options;
  if (!validator || typeof validator.validate !== 'function')
    throw new TypeError(
      `createMtlsFetch options.validator must be a PathValidator (createPathValidator), received ${describeValue(validator)}`,
    );
  if (serverName !== undefined && (typeof serverName !== 'string' || serverName === ''))
    throw new TypeError(
      `createMtlsFetch options.serverName must be a non-empty string, received ${describeValue(serverName)}`,
    );
  const timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
  const maxSockets = positive(options.maxSockets, DEFAULT_MAX_SOCKETS, 'maxSockets');
  if (!Number.isInteger(maxSockets))
    throw new RangeError(
      `createMtlsFetch options.maxSockets must be a positive integer, received ${maxSockets}`,
    );
  const idleTimeoutMs = positive(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 'idleTimeoutMs');
  const keepAlive = options.keepAlive ?? true;
  if (typeof keepAlive !== 'boolean')
    throw new TypeError(
      `createMtlsFetch options.keepAlive must be a boolean, received ${describeValue(keepAlive)}`,
    );
  if (time !== undefined && typeof time !== 'function')
    throw new TypeError(
      `createMtlsFetch options.time must be a function, received ${describeValue(time)}`,
    );
  const key = checkKeyPem(options.key, 'createMtlsFetch options');
  const cert = chainPem(options.certificates, 'createMtlsFetch options');
  const agent = new MtlsAgent({
    key,
    cert,
    validator,
    time,
    keepAlive,
    maxSockets,
    // Idle pooled sockets close after this (or a second before the server's Keep-Alive timeout).
    timeout: idleTimeoutMs,
    scheduling: 'lifo',
  });
  const ctx: Context = { agent, serverName, timeoutMs, keepAlive, slots: new Slots(maxSockets) };
  let closing: Promise<void> | undefined;
  // Checked once, on first use (the factory is synchronous); every call fails alike if it is wrong.
  let identityChecked: Promise<void> | undefined;
  const certificate = options.certificates[0]!;

  const mtlsFetch = async function mtlsFetch(
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    if (closing)
      throw new TypeError('createMtlsFetch: this fetch was closed; create another to send more.');
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
    return exchange(ctx, url, request, body ?? undefined);
  } as MtlsFetch;
  mtlsFetch.close = () => (closing ??= agent.close());
  mtlsFetch[Symbol.asyncDispose] = mtlsFetch.close;
  return mtlsFetch;
}

// --- internal ---

interface Context {
  readonly agent: MtlsAgent;
  readonly slots: Slots;
  readonly serverName: string | undefined;
  readonly timeoutMs: number;
  readonly keepAlive: boolean;
}

/** Where a request goes and whom we expect there. */
interface Target {
  readonly host: string;
  readonly port: number;
  readonly where: string;
  readonly expected: string;
  readonly peerName: ExpectedName;
  /** Names its slots: a connection validated for one name is never lent to another. */
  readonly key: string;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new RangeError(
      `createMtlsFetch options.${name} must be a positive number, received ${describeValue(v)}`,
    );
  return v;
}

function targetUrl(input: unknown): URL {
  let url: URL;
  const text =
    input instanceof URL ? input.href : input instanceof Request ? input.url : (input as string);
  if (typeof text !== 'string')
    throw new TypeError(
      `fetch input must be a URL, string or Request, received ${describeValue(input)}`,
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

function targetOf(url: URL, serverName: string | undefined): Target {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 443 : Number(url.port);
  const expected = serverName ?? host;
  const where = hostPort(host, port);
  return {
    host,
    port,
    where,
    expected,
    peerName: isIP(expected) ? { type: 'ip', value: expected } : { type: 'dns', value: expected },
    key: `${where} ${expected}`,
  };
}

/**
 * At most `max` requests in flight per origin and name, so at most `max` connections: the runtime's
 * agent counts a connection only once `createConnection` answers, which ours does after validating,
 * so it would open one per waiting request.
 */
class Slots {
  readonly #busy = new Map<string, { active: number; waiting: (() => void)[] }>();
  constructor(readonly max: number) {}

  /** Resolves when a slot is ours; `cancel` drops a wait that is no longer wanted. */
  take(key: string, onWait: (cancel: () => void) => void): Promise<void> {
    const entry = this.#busy.get(key) ?? { active: 0, waiting: [] };
    this.#busy.set(key, entry);
    if (entry.active < this.max) {
      entry.active++;
      return Promise.resolve();
    }
    return new Promise<void>((granted) => {
      entry.waiting.push(granted);
      onWait(() => {
        const i = entry.waiting.indexOf(granted);
        if (i >= 0) entry.waiting.splice(i, 1);
      });
    });
  }

  /** Gives the slot to the next waiting request, or frees it. */
  give(key: string): void {
    const entry = this.#busy.get(key);
    if (!entry) return;
    const next = entry.waiting.shift();
    if (next) return next();
    if (--entry.active === 0) this.#busy.delete(key);
  }
}

const STALLED: Readonly<Record<ConnectStage | 'queued', string>> = {
  queued: ' (no connection was free)',
  connecting: ' (could not connect)',
  handshake: ' (the TLS handshake did not finish)',
  validating: ' (validating the server)',
  ready: '',
};

/** One request through the agent: resolves at the response headers, then streams the body. */
function exchange(
  ctx: Context,
  url: URL,
  request: Request,
  body: Uint8Array | ReadableStream<Uint8Array> | undefined,
): Promise<Response> {
  const target = targetOf(url, ctx.serverName);
  const { where } = target;
  const { method, signal } = request;
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name] = value));
  // node:http sends keep-alive whenever maxSockets is finite; a no-keep-alive fetch says so.
  if (!ctx.keepAlive) headers['connection'] = 'close';

  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    let finished = false;
    let resent = false;
    let req: ClientRequest | undefined;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let silence: ReturnType<typeof setTimeout> | undefined;
    const probe: { stage: ConnectStage | 'queued' } = { stage: 'queued' };
    let holding = false;
    let cancelWait: (() => void) | undefined;

    const timer = setTimeout(() => {
      const stage = req?.socket && probe.stage === 'queued' ? 'ready' : probe.stage;
      fail(
        new NetworkError(
          'ERR_NET_TIMEOUT',
          `${where}: no response within ${ctx.timeoutMs} ms${STALLED[stage]}.`,
        ),
      );
    }, ctx.timeoutMs);
    const onAbort = (): void => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    function stop(): void {
      finished = true;
      cancelWait?.();
      if (holding) ctx.slots.give(target.key);
      holding = false;
      clearTimeout(timer);
      clearTimeout(silence);
      signal.removeEventListener('abort', onAbort);
    }

    /** Ends the exchange with an error: rejects the fetch, or errors the body once resolved. */
    function fail(error: unknown): void {
      if (finished) return;
      stop();
      req?.destroy();
      if (!settled) {
        settled = true;
        reject(error);
        return;
      }
      try {
        controller?.error(error);
      } catch {
        // already closed or cancelled
      }
      controller = undefined;
    }

    function done(): void {
      if (finished) return;
      stop();
      try {
        controller?.close();
      } catch {
        // cancelled
      }
      controller = undefined;
    }

    /** From the headers on, the timeout is per silence while the body streams. */
    function armSilence(): void {
      clearTimeout(silence);
      silence = setTimeout(
        () =>
          fail(
            new NetworkError(
              'ERR_NET_TIMEOUT',
              `${where}: the response body stalled for ${ctx.timeoutMs} ms.`,
            ),
          ),
        ctx.timeoutMs,
      );
    }

    ctx.slots
      .take(target.key, (cancel) => (cancelWait = cancel))
      .then(() => {
        cancelWait = undefined;
        if (finished) return ctx.slots.give(target.key);
        holding = true;
        send();
      }, fail);

    function send(): void {
      const options: RequestOptions & CertifiedRequestOptions = {
        host: target.host,
        port: target.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        agent: ctx.agent,
        certifiedWhere: where,
        certifiedPeerName: target.peerName,
        certifiedProbe: probe as { stage: ConnectStage },
      };
      const r = httpsRequest(options);
      req = r;
      r.on('response', (res) => respond(res));
      r.on('upgrade', (_res, socket) => {
        socket.destroy();
        fail(
          new NetworkError(
            'ERR_NET_PROTOCOL',
            `${where}: the server switched protocols (101), which this fetch does not speak.`,
          ),
        );
      });
      r.on('error', (e: Error & { code?: string }) => {
        if (r === req) failed(r, e);
      });
      if (body instanceof Uint8Array) r.end(body);
      else if (body) void pump(r, body);
      else r.end();
    }

    function failed(r: ClientRequest, e: Error & { code?: string }): void {
      if (finished) return;
      const code = e.code ?? '';
      const reason = `${code ? `${code}: ` : ''}${e.message}`;
      if (settled)
        return fail(
          new NetworkError('ERR_NET_PROTOCOL', `${where}: the response broke off (${reason}).`, {
            cause: e,
          }),
        );
      if (e instanceof NetworkError || e instanceof PathValidationError) return fail(e);
      if (code.startsWith('HPE_') || /parse error/i.test(e.message))
        return fail(
          new NetworkError(
            'ERR_NET_PROTOCOL',
            `${where}: the server's answer is not valid HTTP/1.1 (${reason}).`,
            { cause: e, ...(code ? { reason: code } : {}) },
          ),
        );
      if (r.reusedSocket && isHangUp(code, e.message)) {
        // RFC 9112 §9.3.1: an idempotent request may be sent again automatically; the server may
        // have closed the idle connection just as we wrote (some close right after a response).
        if (!resent && IDEMPOTENT_METHODS.has(method) && !(body instanceof ReadableStream)) {
          resent = true;
          send();
          return;
        }
        return fail(
          new NetworkError(
            'ERR_NET_PROTOCOL',
            `${where}: the server closed the kept-alive connection without answering; a ${method} request is not sent twice (it may have been processed).`,
            { cause: e },
          ),
        );
      }
      fail(classifyConnectError(e, where, true));
    }

    async function pump(r: ClientRequest, stream: ReadableStream<Uint8Array>): Promise<void> {
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done: end, value } = await reader.read();
          if (finished || r.destroyed) {
            reader.cancel().catch(() => undefined);
            return;
          }
          if (end) break;
          if (value.byteLength === 0) continue;
          if (!r.write(value))
            await new Promise<void>((resume) => {
              r.once('drain', resume);
              r.once('close', resume);
            });
        }
        r.end();
      } catch (e) {
        fail(e);
      }
    }

    function respond(res: IncomingMessage): void {
      if (finished) return;
      const responseHeaders = new Headers();
      const raw = res.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        try {
          responseHeaders.append(raw[i]!, raw[i + 1]!);
        } catch {
          // a header value the Fetch API cannot carry is dropped
        }
      }
      const status = res.statusCode ?? 0;
      const empty = method === 'HEAD' || NULL_BODY_STATUS.has(status);
      const stream = empty
        ? null
        : new ReadableStream<Uint8Array>({
            start(c) {
              controller = c;
            },
            pull() {
              if (!finished && res.isPaused()) {
                armSilence();
                res.resume();
              }
            },
            cancel() {
              controller = undefined;
              fail(new DOMException('The response body was cancelled.', 'AbortError'));
            },
          });
      res.on('data', (chunk: Uint8Array) => {
        if (!controller) return;
        armSilence();
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) {
          // Nobody is reading: not a stalled server.
          clearTimeout(silence);
          res.pause();
        }
      });
      res.on('end', done);
      const brokeOff = (): void =>
        fail(
          new NetworkError(
            'ERR_NET_PROTOCOL',
            `${where}: the server closed the connection mid-response.`,
          ),
        );
      res.on('error', brokeOff);
      res.on('close', () => {
        if (!res.complete) brokeOff();
      });
      let response: Response;
      try {
        response = new Response(stream, {
          status,
          statusText: res.statusMessage ?? '',
          headers: responseHeaders,
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
      settled = true;
      clearTimeout(timer);
      if (empty) res.resume();
      else armSilence();
      resolve(response);
    }
  });
}
