/**
 * @module tls/client — a `fetch` that speaks mutual TLS: it presents our certificate, judges the
 * server's chain and name with our own path validator (purpose serverAuth) instead of OpenSSL's,
 * and keeps HTTP/1.1 connections open for further requests to the same origin. Each connection is
 * validated once, after its handshake and before a byte of HTTP is written. HTTP/1.1 is framed here
 * over `node:tls` sockets (no `node:http` client), so Node, Deno and Bun behave alike.
 */
import { isIP } from 'node:net';
import { clearTimeout, setImmediate, setTimeout } from 'node:timers';
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
/** Most bytes of a response head (status line and headers), or of chunked trailers. */
const MAX_HEAD_BYTES = 64 * 1024;
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
/** RFC 9110 §9.2.2: requests that may be sent again without changing what they do. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Methods that send no Content-Length when they have no body (as node:http). */
const BODILESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

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
      `createMtlsFetch options.keepAlive must be a boolean, received ${describe(keepAlive)}`,
    );
  if (time !== undefined && typeof time !== 'function')
    throw new TypeError(
      `createMtlsFetch options.time must be a function, received ${describe(time)}`,
    );
  const key = checkKeyPem(options.key, 'createMtlsFetch options');
  const cert = chainPem(options.certificates, 'createMtlsFetch options');
  const ctx: Context = { key, cert, validator, serverName, timeoutMs, time, keepAlive };
  const pool = new Pool(ctx, maxSockets, idleTimeoutMs);
  // Checked once, on first use (the factory is synchronous); every call fails alike if it is wrong.
  let identityChecked: Promise<void> | undefined;
  const certificate = options.certificates[0]!;

  const mtlsFetch = async function mtlsFetch(
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    if (pool.closed)
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
    return exchange(ctx, pool, url, request, body ?? undefined);
  } as MtlsFetch;
  mtlsFetch.close = () => pool.close();
  mtlsFetch[Symbol.asyncDispose] = () => pool.close();
  return mtlsFetch;
}

// --- internal ---

interface Context {
  readonly key: string;
  readonly cert: string;
  readonly validator: PathValidator;
  readonly serverName: string | undefined;
  readonly timeoutMs: number;
  readonly time: (() => Date) | undefined;
  readonly keepAlive: boolean;
}

/** Where a request goes and whom we expect there; `key` names its pool. */
interface Target {
  readonly host: string;
  readonly port: number;
  readonly where: string;
  readonly expected: string;
  readonly peerName: PeerNameInput & { readonly type: 'ip' | 'dns' };
  readonly key: string;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new RangeError(
      `createMtlsFetch options.${name} must be a positive number, received ${describe(v)}`,
    );
  return v;
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
    // A connection validated for one name is never lent to a request expecting another.
    key: `${where} ${expected}`,
  };
}

/** What a connection reports to whoever is using it. */
interface Handler {
  data(chunk: Uint8Array): void;
  end(): void;
  close(): void;
  error(e: Error & { code?: string }): void;
  timeout(): void;
}

/** One TLS connection: opened, validated once (`ready`), then lent to one request at a time. */
class Connection {
  readonly socket: TLSSocket;
  readonly ready: Promise<void>;
  state: 'connecting' | 'busy' | 'idle' | 'closed' = 'connecting';
  /** Requests started on it; more than one means it was reused. */
  requests = 0;
  tcpConnected = false;
  handshakeDone = false;
  handler: Handler | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  keepAliveMs: number;

  constructor(
    ctx: Context,
    readonly target: Target,
    idleTimeoutMs: number,
    onClosed: (c: Connection) => void,
  ) {
    this.keepAliveMs = idleTimeoutMs;
    const { where, peerName } = target;
    const socket = tlsConnect({
      host: target.host,
      port: target.port,
      key: ctx.key,
      cert: ctx.cert,
      // We decide trust (our validator); OpenSSL's verdict is ignored.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
      ...(peerName.type === 'dns' ? { servername: target.expected } : {}),
    });
    this.socket = socket;
    let settle: { resolve(): void; reject(e: unknown): void } | undefined;
    this.ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.ready.catch(() => undefined); // the request that opened it may have given up already
    const fail = (e: unknown): void => {
      settle?.reject(e);
      settle = undefined;
      this.destroy();
    };
    // Until validated, the connection reports to `ready`; then to the request using it. Errors are
    // never left as uncaught events.
    this.handler = {
      data: () => fail(new NetworkError('ERR_NET_PROTOCOL', `${where}: unexpected data.`)),
      end: () => undefined,
      close: () =>
        fail(
          this.handshakeDone
            ? tlsHangUp(where)
            : new NetworkError(
                'ERR_NET_TLS',
                `${where}: the server closed the connection during the TLS handshake; it may not trust our certificate, or not speak TLS.`,
              ),
        ),
      error: (e) => fail(classify(e, where, this.handshakeDone, false)),
      timeout: () => undefined,
    };
    socket.on('data', (d: Uint8Array) => (this.handler ? this.handler.data(d) : this.destroy()));
    // A server closing an idle connection: drop it from the pool.
    socket.on('end', () => (this.handler ? this.handler.end() : this.destroy()));
    socket.on('error', (e: Error) => (this.handler ? this.handler.error(e) : this.destroy()));
    socket.on('timeout', () => this.handler?.timeout());
    socket.once('connect', () => (this.tcpConnected = true));
    socket.once('close', () => {
      this.state = 'closed';
      if (this.idleTimer) clearTimeout(this.idleTimer);
      onClosed(this);
      this.handler?.close();
    });
    socket.once('secureConnect', () => {
      this.handshakeDone = true;
      this.tcpConnected = true;
      void this.judge(ctx).then(
        () => {
          settle?.resolve();
          settle = undefined;
        },
        (e: unknown) => fail(e),
      );
    });
  }

  private async judge(ctx: Context): Promise<void> {
    const { where, peerName } = this.target;
    const [leaf, ...rest] = peerChainOf(this.socket);
    if (!leaf)
      throw new NetworkError('ERR_NET_TLS', `${where}: the server presented no certificate.`);
    const result = await ctx.validator.validate({
      peer: leaf,
      chain: rest,
      purpose: 'serverAuth',
      peerName,
      ...(ctx.time ? { time: ctx.time() } : {}),
    });
    if (!result.ok)
      throw new PathValidationError(result.code, `${where}: ${result.message}`, {
        certIndex: result.certIndex,
        attempts: result.attempts,
      });
  }

  /** Still usable: not closed, and the server has not ended it. */
  get alive(): boolean {
    const s = this.socket as TLSSocket & { readableEnded?: boolean };
    return this.state !== 'closed' && !s.destroyed && s.writable && s.readableEnded !== true;
  }

  destroy(): void {
    this.handler = undefined;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.state !== 'closed') this.socket.destroy();
  }
}

interface Waiter {
  readonly key: string;
  /** Wants a new connection, not a reused one. */
  readonly fresh: boolean;
  /** A connection handed over, or undefined when a slot freed up (connect yourself). */
  grant(c: Connection | undefined): void;
  reject(e: unknown): void;
}

/** The connections of one {@link createMtlsFetch}, per target key: at most `maxSockets` each. */
class Pool {
  closed = false;
  private readonly open = new Map<string, Set<Connection>>();
  private readonly idle = new Map<string, Connection[]>();
  private waiters: Waiter[] = [];
  private drained: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly maxSockets: number,
    private readonly idleTimeoutMs: number,
  ) {}

  /** A connection for `target`: an idle one (reused), a new one, or the next one freed. */
  async acquire(
    target: Target,
    fresh: boolean,
    onWait: (cancel: () => void) => void,
  ): Promise<{ conn: Connection; reused: boolean }> {
    for (;;) {
      const idle = this.idle.get(target.key);
      while (!fresh && idle?.length) {
        const c = idle.pop()!;
        if (!c.alive) {
          c.destroy();
          continue;
        }
        this.lend(c);
        return { conn: c, reused: true };
      }
      const open = this.open.get(target.key) ?? new Set<Connection>();
      if (open.size < this.maxSockets) {
        const c = new Connection(this.ctx, target, this.idleTimeoutMs, (x) => this.closedOne(x));
        open.add(c);
        this.open.set(target.key, open);
        c.state = 'busy';
        return { conn: c, reused: false };
      }
      const got = await new Promise<Connection | undefined>((grant, reject) => {
        const w: Waiter = { key: target.key, fresh, grant, reject };
        this.waiters.push(w);
        onWait(() => (this.waiters = this.waiters.filter((x) => x !== w)));
      });
      if (got) return { conn: got, reused: true };
    }
  }

  private lend(c: Connection): void {
    if (c.idleTimer) clearTimeout(c.idleTimer);
    c.idleTimer = undefined;
    c.state = 'busy';
    c.socket.ref?.();
  }

  /** Takes back a connection whose exchange finished; `reusable` when its framing allows. */
  release(c: Connection, reusable: boolean): void {
    c.handler = undefined;
    c.socket.setTimeout(0);
    if (!reusable || !this.ctx.keepAlive || this.closed || !c.alive || c.keepAliveMs <= 0) {
      c.destroy();
      return;
    }
    c.socket.resume(); // a body read with backpressure may have left it paused
    const i = this.waiters.findIndex((w) => w.key === c.target.key && !w.fresh);
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w!.grant(c);
      return;
    }
    c.state = 'idle';
    // An idle pooled connection must not keep the process alive.
    c.socket.unref?.();
    c.idleTimer = setTimeout(() => c.destroy(), c.keepAliveMs);
    c.idleTimer.unref?.();
    const list = this.idle.get(c.target.key) ?? [];
    list.push(c);
    this.idle.set(c.target.key, list);
  }

  private closedOne(c: Connection): void {
    const open = this.open.get(c.target.key);
    open?.delete(c);
    if (open?.size === 0) this.open.delete(c.target.key);
    const idle = this.idle.get(c.target.key);
    if (idle) {
      const left = idle.filter((x) => x !== c);
      if (left.length) this.idle.set(c.target.key, left);
      else this.idle.delete(c.target.key);
    }
    // A free slot: the next request waiting for this target connects.
    const i = this.waiters.findIndex((w) => w.key === c.target.key);
    if (i >= 0) this.waiters.splice(i, 1)[0]!.grant(undefined);
    if (this.closed && this.open.size === 0) this.drained?.();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters)
      w.reject(
        new TypeError('createMtlsFetch: this fetch was closed before a connection was free.'),
      );
    for (const list of this.idle.values()) for (const c of list) c.destroy();
    this.closing =
      this.open.size === 0 ? Promise.resolve() : new Promise<void>((r) => (this.drained = r));
    return this.closing;
  }
}

/** One request on a pooled connection: resolves at the response headers. */
function exchange(
  ctx: Context,
  pool: Pool,
  url: URL,
  request: Request,
  body: Uint8Array | ReadableStream<Uint8Array> | undefined,
): Promise<Response> {
  const target = targetOf(url, ctx.serverName);
  const { where } = target;
  const signal = request.signal;

  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    let finished = false;
    let conn: Connection | undefined;
    let reused = false;
    let cancelWait: (() => void) | undefined;
    let bodyController: ReadableStreamDefaultController<Uint8Array> | undefined;
    let requestWritten = false;

    const timer = setTimeout(() => {
      const c = conn;
      const stage = !c
        ? ' (no connection was free)'
        : c.requests > 0
          ? ''
          : c.handshakeDone
            ? ' (validating the server)'
            : c.tcpConnected
              ? ' (the TLS handshake did not finish)'
              : ' (could not connect)';
      fail(
        new NetworkError(
          'ERR_NET_TIMEOUT',
          `${where}: no response within ${ctx.timeoutMs} ms${stage}.`,
        ),
      );
    }, ctx.timeoutMs);
    const onAbort = (): void => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    /** Ends the exchange with an error: rejects the fetch, or errors the body once resolved. */
    function fail(error: unknown): void {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      cancelWait?.();
      conn?.destroy();
      if (!settled) {
        settled = true;
        reject(error);
        return;
      }
      try {
        bodyController?.error(error);
      } catch {
        // already closed or cancelled
      }
      bodyController = undefined;
    }

    /** The response is complete: hand the connection back to the pool. */
    function done(reusable: boolean): void {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      const c = bodyController;
      bodyController = undefined;
      try {
        c?.close();
      } catch {
        // cancelled
      }
      if (conn) pool.release(conn, reusable && requestWritten);
    }

    // Set once the request went out on a reused connection that closed without a byte of
    // answer, and was sent again (idempotent requests only).
    let resent = false;
    void run(false);

    async function run(fresh: boolean): Promise<void> {
      for (;;) {
        let got: { conn: Connection; reused: boolean };
        try {
          got = await pool.acquire(target, fresh, (cancel) => (cancelWait = cancel));
        } catch (e) {
          fail(e);
          return;
        }
        cancelWait = undefined;
        if (finished) {
          pool.release(got.conn, got.reused);
          return;
        }
        conn = got.conn;
        reused = got.reused;
        if (!reused) {
          try {
            await conn.ready;
          } catch (e) {
            fail(e);
            return;
          }
          if (finished) return;
          if (!conn.alive) {
            fail(tlsHangUp(where));
            return;
          }
        } else {
          // A server's close of an idle connection may be waiting in the socket: let it land, so
          // a dead connection is seen before a byte of the request is written, and not reused.
          await new Promise((r) => setImmediate(r));
          if (finished) return;
          if (!conn.alive) {
            // Nothing of the request was sent: safe to send it again, on a new connection.
            conn.destroy();
            conn = undefined;
            fresh = true;
            continue;
          }
        }
        send(conn);
        return;
      }
    }

    function send(c: Connection): void {
      c.requests++;
      const parser = new ResponseParser(request.method, where, {
        head: (head) => respond(c, head, parser),
        body: (chunk) => {
          if (!bodyController) return;
          bodyController.enqueue(chunk);
          if ((bodyController.desiredSize ?? 1) <= 0) c.socket.pause();
        },
        done: (reusable) => done(reusable),
      });
      const brokeOff = (): NetworkError =>
        new NetworkError(
          'ERR_NET_PROTOCOL',
          `${where}: the server closed the connection mid-response.`,
        );
      const hungUp = (cause?: unknown): void => {
        if (!reused) return fail(tlsHangUp(where, cause));
        // RFC 9112 §9.3.1: an idempotent request may be sent again automatically; the server may
        // have closed the idle connection just as we wrote (some close right after a response).
        if (
          !resent &&
          IDEMPOTENT_METHODS.has(request.method) &&
          !(body instanceof ReadableStream)
        ) {
          resent = true;
          c.destroy();
          conn = undefined;
          requestWritten = false;
          void run(true);
          return;
        }
        fail(
          new NetworkError(
            'ERR_NET_PROTOCOL',
            `${where}: the server closed the kept-alive connection without answering; a ${request.method} request is not sent twice (it may have been processed).`,
            cause === undefined ? {} : { cause },
          ),
        );
      };
      c.handler = {
        data: (chunk) => {
          try {
            parser.push(chunk);
          } catch (e) {
            fail(e);
          }
        },
        end: () => {
          if (parser.endOfStream()) return;
          if (parser.started) fail(brokeOff());
          else hungUp();
        },
        close: () => {
          if (finished) return;
          if (parser.endOfStream()) return;
          if (parser.started) fail(brokeOff());
          else hungUp();
        },
        error: (e) => {
          if (parser.started)
            fail(
              new NetworkError(
                'ERR_NET_PROTOCOL',
                `${where}: the response broke off (${e.code ? `${e.code}: ` : ''}${e.message}).`,
                { cause: e, ...(e.code ? { reason: e.code } : {}) },
              ),
            );
          else if (reused && isHangUp(e.code ?? '', e.message)) hungUp(e);
          else fail(classify(e, where, true, false));
        },
        timeout: () =>
          fail(
            new NetworkError(
              'ERR_NET_TIMEOUT',
              `${where}: the response body stalled for ${ctx.timeoutMs} ms.`,
            ),
          ),
      };
      const head = requestHead(request, url, body, ctx.keepAlive);
      if (body instanceof Uint8Array) {
        c.socket.write(concat(head, body));
        requestWritten = true;
      } else if (body) {
        c.socket.write(head);
        void pump(c, body);
      } else {
        c.socket.write(head);
        requestWritten = true;
      }
    }

    async function pump(c: Connection, stream: ReadableStream<Uint8Array>): Promise<void> {
      const reader = stream.getReader();
      const ascii = new TextEncoder();
      try {
        for (;;) {
          const { done: end, value } = await reader.read();
          if ((finished && !bodyController) || c.state === 'closed') {
            reader.cancel().catch(() => undefined);
            return;
          }
          if (end) break;
          if (value.byteLength === 0) continue;
          const more = c.socket.write(
            concat(ascii.encode(`${value.byteLength.toString(16)}\r\n`), value, CRLF),
          );
          if (!more) await drained(c);
        }
        c.socket.write(ascii.encode('0\r\n\r\n'));
        requestWritten = true;
      } catch (e) {
        fail(e);
      }
    }

    function respond(c: Connection, head: ResponseHead, parser: ResponseParser): void {
      if (settled) return;
      const headers = new Headers();
      for (const [name, value] of head.headers) {
        try {
          headers.append(name, value);
        } catch {
          // a header value the Fetch API cannot carry is dropped
        }
      }
      const keepAliveTimeout = /(?:^|[,\s])timeout=(\d+)/i.exec(headers.get('keep-alive') ?? '');
      if (keepAliveTimeout)
        c.keepAliveMs = Math.min(c.keepAliveMs, Number(keepAliveTimeout[1]) * 1000 - 1000);
      const empty = request.method === 'HEAD' || NULL_BODY_STATUS.has(head.status);
      const stream = empty
        ? null
        : new ReadableStream<Uint8Array>({
            start(controller) {
              bodyController = controller;
            },
            pull() {
              if (!finished) c.socket.resume();
            },
            cancel() {
              bodyController = undefined;
              fail(new DOMException('The response body was cancelled.', 'AbortError'));
            },
          });
      let response: Response;
      try {
        response = new Response(stream, {
          status: head.status,
          statusText: head.statusText,
          headers,
        });
      } catch (e) {
        fail(
          new NetworkError(
            'ERR_NET_PROTOCOL',
            `${where}: the server answered with an unusable status line (${head.status} ${head.statusText}).`,
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
      // From here the timeout is per silence while the body streams.
      clearTimeout(timer);
      if (!parser.complete) c.socket.setTimeout(ctx.timeoutMs);
      resolve(response);
    }
  });
}

const CRLF = new Uint8Array([13, 10]);

function drained(c: Connection): Promise<void> {
  return new Promise<void>((r) => {
    const go = (): void => {
      c.socket.off('drain', go);
      c.socket.off('close', go);
      r();
    };
    c.socket.on('drain', go);
    c.socket.on('close', go);
  });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** Header text is ISO-8859-1 both ways (RFC 9110 §5.5); `Headers` only holds byte strings. */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192)
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** The request line and headers, as node:http would write them. */
function requestHead(
  request: Request,
  url: URL,
  body: Uint8Array | ReadableStream<Uint8Array> | undefined,
  keepAlive: boolean,
): Uint8Array {
  const lines = [`${request.method} ${url.pathname}${url.search} HTTP/1.1`];
  let host = false;
  request.headers.forEach((value, name) => {
    if (name === 'content-length' || name === 'transfer-encoding') return; // framing is ours
    if (name === 'connection' && !keepAlive) return;
    if (name === 'host') host = true;
    lines.push(`${name}: ${value}`);
  });
  if (!host) lines.splice(1, 0, `host: ${url.host}`);
  if (!keepAlive) lines.push('connection: close');
  if (body instanceof Uint8Array) lines.push(`content-length: ${body.byteLength}`);
  else if (body) lines.push('transfer-encoding: chunked');
  else if (!BODILESS_METHODS.has(request.method)) lines.push('content-length: 0');
  return latin1Bytes(`${lines.join('\r\n')}\r\n\r\n`);
}

interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  readonly headers: readonly (readonly [string, string])[];
}

type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; remaining: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([^\r\n]*))?$/;

/**
 * An HTTP/1.1 response reader (RFC 9112): status line and headers, interim 1xx responses skipped,
 * the body framed by Content-Length, chunked coding, or the end of the connection. Anything else
 * is ERR_NET_PROTOCOL.
 */
class ResponseParser {
  private buffer: Uint8Array = new Uint8Array(0);
  private state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'done' =
    'head';
  private framing: Framing = { kind: 'none' };
  private chunkLeft = 0;
  private trailerBytes = 0;
  private persistent = false;
  /** Bytes of a response have arrived. */
  started = false;

  constructor(
    private readonly method: string,
    private readonly where: string,
    private readonly sink: {
      head(head: ResponseHead): void;
      body(chunk: Uint8Array): void;
      done(reusable: boolean): void;
    },
  ) {}

  get complete(): boolean {
    return this.state === 'done';
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.started = true;
    if (this.state === 'done') {
      // Bytes after the response: the connection is out of step; it must not be reused.
      throw this.error('the server sent more than one response.');
    }
    this.buffer = this.buffer.byteLength ? concat(this.buffer, chunk) : new Uint8Array(chunk);
    this.run();
  }

  /** The connection ended: true if that completes the response (a body read until close). */
  endOfStream(): boolean {
    if (this.state === 'done') return true;
    if (this.state === 'body' && this.framing.kind === 'close') {
      this.finish();
      return true;
    }
    return false;
  }

  private error(why: string): NetworkError {
    return new NetworkError('ERR_NET_PROTOCOL', `${this.where}: the server broke HTTP: ${why}`);
  }

  private take(n: number): Uint8Array {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  private line(limit: number): string | undefined {
    const at = indexOfCrlf(this.buffer, 0);
    if (at < 0) {
      if (this.buffer.byteLength > limit) throw this.error('a line is too long.');
      return undefined;
    }
    const text = latin1(this.buffer.subarray(0, at));
    this.buffer = this.buffer.subarray(at + 2);
    return text;
  }

  private run(): void {
    for (;;) {
      switch (this.state) {
        case 'head': {
          const end = indexOfHeadEnd(this.buffer);
          if (end < 0) {
            if (this.buffer.byteLength > MAX_HEAD_BYTES)
              throw this.error(`the response head exceeds ${MAX_HEAD_BYTES} bytes.`);
            return;
          }
          const text = latin1(this.take(end + 4).subarray(0, end));
          this.head(text);
          break;
        }
        case 'body': {
          if (this.buffer.byteLength === 0) return;
          if (this.framing.kind === 'length') {
            const n = Math.min(this.framing.remaining, this.buffer.byteLength);
            this.framing.remaining -= n;
            this.sink.body(this.take(n).slice());
            if (this.framing.remaining === 0) this.finish();
          } else {
            this.sink.body(this.take(this.buffer.byteLength).slice());
          }
          break;
        }
        case 'chunk-size': {
          const line = this.line(4096);
          if (line === undefined) return;
          const size = line.split(';')[0]!.trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(size))
            throw this.error(`bad chunk size ${JSON.stringify(size)}.`);
          this.chunkLeft = parseInt(size, 16);
          this.state = this.chunkLeft === 0 ? 'trailers' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          if (this.buffer.byteLength === 0) return;
          const n = Math.min(this.chunkLeft, this.buffer.byteLength);
          this.chunkLeft -= n;
          this.sink.body(this.take(n).slice());
          if (this.chunkLeft === 0) this.state = 'chunk-end';
          break;
        }
        case 'chunk-end': {
          if (this.buffer.byteLength < 2) return;
          if (this.buffer[0] !== 13 || this.buffer[1] !== 10)
            throw this.error('a chunk does not end with CRLF.');
          this.take(2);
          this.state = 'chunk-size';
          break;
        }
        case 'trailers': {
          const before = this.buffer.byteLength;
          const line = this.line(MAX_HEAD_BYTES);
          if (line === undefined) return;
          this.trailerBytes += before - this.buffer.byteLength;
          if (this.trailerBytes > MAX_HEAD_BYTES) throw this.error('the trailers are too large.');
          if (line === '') this.finish(); // trailers are read and dropped
          break;
        }
        case 'done':
          if (this.buffer.byteLength > 0)
            throw this.error('the server sent more than one response.');
          return;
      }
    }
  }

  private head(text: string): void {
    const [statusLine = '', ...lines] = text.split('\r\n');
    const m = STATUS_LINE.exec(statusLine);
    if (!m)
      throw this.error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}.`);
    const status = Number(m[2]);
    const headers: [string, string][] = [];
    for (const line of lines) {
      if (/^[ \t]/.test(line)) throw this.error('folded header lines are not allowed.');
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name))
        throw this.error(`bad header line ${JSON.stringify(line.slice(0, 80))}.`);
      headers.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
    }
    if (status >= 100 && status < 200 && status !== 101) return; // interim: wait for the final one
    if (status === 101)
      throw this.error('it switched protocols (101), which this client does not do.');
    const all = (name: string): string[] =>
      headers
        .filter(([n]) => n === name)
        .flatMap(([, v]) => v.split(','))
        .map((v) => v.trim().toLowerCase())
        .filter((v) => v !== '');
    const codings = all('transfer-encoding');
    const lengths = all('content-length');
    const connection = all('connection');
    this.persistent = m[1] === '1' && !connection.includes('close');
    if (this.method === 'HEAD' || status === 204 || status === 304) {
      this.framing = { kind: 'none' };
    } else if (headers.some(([n]) => n === 'transfer-encoding')) {
      // RFC 9112 §6.3: chunked last frames the body; else it runs to the close. With a
      // Content-Length besides, the connection is not to be reused.
      this.framing = codings.at(-1) === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
      if (lengths.length) this.persistent = false;
    } else if (headers.some(([n]) => n === 'content-length')) {
      if (!lengths.length || lengths.some((l) => !/^\d{1,15}$/.test(l) || l !== lengths[0]))
        throw this.error(`bad Content-Length ${JSON.stringify(lengths.join(', '))}.`);
      this.framing = { kind: 'length', remaining: Number(lengths[0]) };
    } else {
      this.framing = { kind: 'close' };
    }
    if (this.framing.kind === 'close') this.persistent = false;
    this.sink.head({ status, statusText: m[3] ?? '', headers });
    if (this.framing.kind === 'none') this.finish();
    else if (this.framing.kind === 'length' && this.framing.remaining === 0) this.finish();
    else this.state = this.framing.kind === 'chunked' ? 'chunk-size' : 'body';
  }

  private finish(): void {
    this.state = 'done';
    this.sink.done(this.persistent && this.buffer.byteLength === 0);
  }
}

function indexOfCrlf(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}

function indexOfHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++)
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  return -1;
}

/** Maps a socket error before any response byte to our codes. */
function classify(
  e: Error & { code?: string },
  where: string,
  handshakeDone: boolean,
  responded: boolean,
): unknown {
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
      : isHangUp(code, e.message)
        ? tls(
            `the server closed the connection during the TLS handshake (${reason}); it may not trust our certificate, or not speak TLS.`,
          )
        : tls(`the TLS handshake failed (${reason}).`);
  if (isHangUp(code, e.message))
    return handshakeDone
      ? tlsHangUp(where, e)
      : tls(
          `the server closed the connection during the TLS handshake (${reason}); it may not trust our certificate, or not speak TLS.`,
        );
  return new NetworkError('ERR_NET_CONNECT', `${where}: cannot connect: ${reason}.`, details);
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

function isHangUp(code: string, message: string): boolean {
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
