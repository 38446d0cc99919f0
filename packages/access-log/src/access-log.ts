/**
 * @module access-log — Hono middleware writing one JSON line per request with ORNL certified's
 * rich-log fields (`certified/formatter.py` `rich_log_data`) plus ours (peer fingerprint, trust
 * anchor, TLS protocol), to stdout or any sinks. Runtime-neutral: the connection details are read by
 * duck typing from whatever the server adapter puts in `c.env` (Node, Deno, Bun).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { describeValue, fingerprint, formatName, parseName, type Name } from '@certified/core';
import { getConnInfo, type CertifiedConnInfo } from '@certified/hono/conninfo';

/** The peer, as the access log reports it (`peer` in {@link AccessLogRecord}). */
export interface AccessLogPeer {
  /** The client certificate's subject, RFC 4514 (`CN=alice,O=Org`). */
  readonly subject: string;
  /** Its common name, when it has one. */
  readonly commonName: string | null;
  /** SHA-256 fingerprint of the client certificate, colon-separated upper-case hex. */
  readonly fingerprint: string | null;
  /**
   * Where the certificate came from: `tls` (the connection), or the forwarded-header format when a
   * trusted proxy passed it on (as the auth middleware reports it).
   */
  readonly source: string | null;
}

/**
 * One access-log record: the object behind each JSON line. Fields named as in ORNL certified's
 * rich log come first and keep its names and meanings; `null` means "not known on this runtime or
 * connection" (ORNL writes `''`, `-1` or `{}` there).
 */
export interface AccessLogRecord {
  /** Logger name, always `certified.access` (ORNL). */
  readonly name: 'certified.access';
  /** Always `INFO` (ORNL). */
  readonly level: 'INFO';
  /** Always `access` (ORNL). */
  readonly type: 'access';
  /** When the response was ready, ISO 8601 UTC with milliseconds (ORNL: Python `asctime`). */
  readonly timestamp: string;
  /** `"<method> <path>"` (ORNL). */
  readonly message: string;
  readonly method: string;
  /** The URL path, percent-encoded as sent. */
  readonly path: string;
  /** The raw query string without `?`; `''` when there is none (ORNL). */
  readonly query: string;
  /** The `Host` header (HTTP/2: `:authority`) (ORNL). */
  readonly host: string | null;
  /** The URL's explicit port; null when the URL has none (ORNL). */
  readonly port: number | null;
  /** The client's IP address (ORNL). */
  readonly remote_addr: string | null;
  /** The client's source port (ORNL). */
  readonly remote_port: number | null;
  /**
   * The client certificate's subject attributes keyed by OpenSSL long name (`commonName`,
   * `organizationName`, `userId`…), later values winning, as Python's `getpeercert()` gives them (ORNL).
   */
  readonly remote_user: Readonly<Record<string, string>> | null;
  /** The `User-Agent` header (ORNL). */
  readonly 'user-agent': string | null;
  /** The `Accept` header (ORNL). */
  readonly accept: string | null;
  /** `1.1`, `2.0` (Node); null where the runtime does not say (ORNL). */
  readonly httpVersion: string | null;
  /** The final status: a handler's error logs as 500, a refusal by later middleware as its 401/403 (ORNL). */
  readonly statusCode: number;
  /** Python `HTTPStatus` name of `statusCode` (`OK`, `NOT_FOUND`); null for unlisted codes (ORNL). */
  readonly status: string | null;
  /** Seconds from this middleware to the response being ready (ORNL). */
  readonly process_time: number;
  /** The same in milliseconds, sub-millisecond precision (ours). */
  readonly process_time_ms: number;
  /** `TLSv1.3`, `TLSv1.2`; null on plain HTTP or where the runtime does not expose it (ours; nginx's name). */
  readonly ssl_protocol: string | null;
  /** The negotiated cipher suite name, e.g. `TLS_AES_256_GCM_SHA384` (ORNL, which appends protocol and bits). */
  readonly ssl_cipher: string | null;
  /** The authenticated client certificate; null when none (ours). */
  readonly peer: AccessLogPeer | null;
  /** The trust anchor that vouched for the peer: its name as the auth middleware reports it, else its RFC 4514 subject (ours). */
  readonly anchor: string | null;
  /** Whatever `options.fields` added. */
  readonly [extra: string]: unknown;
}

/**
 * Receives each access-log line (JSON, no trailing newline) and its record. Must not block: queue
 * and return. Whatever it throws, or a promise it returns rejects with, goes to `options.onError`.
 */
export type AccessLogSink = (line: string, record: AccessLogRecord) => void;

/** Options for {@link accessLog}. */
export interface AccessLogOptions {
  /** Where lines go: one sink or several (each gets every line); default {@link stdoutSink}. */
  readonly sink?: AccessLogSink | readonly AccessLogSink[];
  /**
   * Extra fields for each record, computed after the response is ready (e.g. a request id). They
   * are appended after the standard fields and cannot replace them.
   */
  readonly fields?: (c: Context) => Readonly<Record<string, unknown>> | undefined;
  /** Told when building a record or a sink fails (the request is unaffected); default `console.error`. */
  readonly onError?: (error: unknown) => void;
}

/**
 * The default sink: writes the line and a newline to `process.stdout` where the runtime has one
 * (Node, Bun, Deno 2), else `console.log`.
 *
 * @param line - one JSON access-log line.
 * @example
 * app.use(accessLog({ sink: [stdoutSink, loki.write] }));
 */
export function stdoutSink(line: string): void {
  const out = (globalThis as { process?: { stdout?: { write?: unknown } } }).process?.stdout;
  if (out && typeof out.write === 'function') (out.write as (s: string) => unknown)(`${line}\n`);
  else console.log(line);
}

/**
 * Access-log middleware: one JSON line per request with ORNL certified's rich-log fields (see
 * {@link AccessLogRecord}). Register it first (`app.use(accessLog())` before the auth middleware)
 * so that requests refused by later middleware, and handlers that throw, are logged with their
 * final status. The peer comes from `c.get('certified')` (set by the auth middleware) when present,
 * else from the connection (`@certified/node`'s `createMtlsServer`). Logging never fails or delays
 * the request beyond building the line: sinks must queue.
 *
 * @param options.sink - one sink or an array; default {@link stdoutSink}.
 * @param options.fields - extra fields per request; default none.
 * @param options.onError - record or sink failures; default `console.error`.
 * @returns a Hono middleware.
 * @throws TypeError for a malformed `options` (not a function, etc.).
 * @example
 * const app = new Hono();
 * app.use(accessLog()); // {"name":"certified.access",…,"statusCode":200,…,"peer":{"subject":"CN=alice",…}}
 * app.get('/', (c) => c.text('hi'));
 */
export function accessLog(options: AccessLogOptions = {}): MiddlewareHandler {
  if (!options || typeof options !== 'object')
    throw new TypeError(`accessLog options must be an object, received ${describeValue(options)}`);
  const sinks: readonly AccessLogSink[] =
    options.sink === undefined
      ? [stdoutSink]
      : typeof options.sink === 'function'
        ? [options.sink]
        : Array.isArray(options.sink)
          ? [...(options.sink as readonly AccessLogSink[])]
          : [];
  if (sinks.length === 0 || sinks.some((s) => typeof s !== 'function'))
    throw new TypeError(
      `accessLog options.sink must be a function or a non-empty array of functions, received ${describeValue(options.sink)}`,
    );
  const { fields } = options;
  if (fields !== undefined && typeof fields !== 'function')
    throw new TypeError(
      `accessLog options.fields must be a function, received ${describeValue(fields)}`,
    );
  if (options.onError !== undefined && typeof options.onError !== 'function')
    throw new TypeError(
      `accessLog options.onError must be a function, received ${describeValue(options.onError)}`,
    );
  const onError = options.onError ?? ((e: unknown) => console.error(e));
  const report = (e: unknown): void => {
    try {
      onError(e);
    } catch {
      // an error callback that throws must not fail the request
    }
  };

  return async function accessLogMiddleware(c, next) {
    const start = performance.now();
    let thrown: { error: unknown } | undefined;
    try {
      await next();
    } catch (error) {
      // Hono turns Errors into responses before we see them; this is a non-Error throw or a
      // throwing onError, which the server will answer with 500 (or the HTTPException's status).
      thrown = { error };
    }
    const elapsed = performance.now() - start;
    try {
      const status = thrown ? statusOfThrown(thrown.error) : c.res.status;
      let record = buildRecord(c, status, elapsed);
      const extra = fields?.(c);
      if (extra) record = { ...record, ...pick(extra, record) };
      const line = JSON.stringify(record);
      for (const sink of sinks) {
        try {
          const r: unknown = sink(line, record);
          if (r && typeof (r as PromiseLike<unknown>).then === 'function')
            (r as PromiseLike<unknown>).then(undefined, report);
        } catch (e) {
          report(e);
        }
      }
    } catch (e) {
      report(e);
    }
    if (thrown) throw thrown.error;
  };
}

// --- internal ---

/** Keys of `extra` that are not standard fields, in `extra`'s order, placed after the standard ones. */
function pick(
  extra: Readonly<Record<string, unknown>>,
  record: AccessLogRecord,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(extra)) if (!(k in record)) out[k] = extra[k];
  return out;
}

function buildRecord(c: Context, statusCode: number, elapsedMs: number): AccessLogRecord {
  const raw = c.req.raw;
  const url = new URL(raw.url);
  const info = getConnInfo(c);
  const peer = peerFieldsOf(c, info);
  const path = url.pathname;
  return {
    name: 'certified.access',
    level: 'INFO',
    type: 'access',
    timestamp: new Date().toISOString(),
    message: `${raw.method} ${path}`,
    method: raw.method,
    path,
    query: url.search.slice(1),
    host: raw.headers.get('host') ?? (url.host || null),
    port: url.port === '' ? null : Number(url.port),
    remote_addr: info.remote.address ?? null,
    remote_port: info.remote.port ?? null,
    remote_user: peer?.remoteUser ?? null,
    'user-agent': raw.headers.get('user-agent'),
    accept: raw.headers.get('accept'),
    httpVersion: info.httpVersion ?? null,
    statusCode,
    status: STATUS_NAMES[statusCode] ?? null,
    // Rounded to the microsecond: finer digits are timer noise.
    process_time: Math.round(elapsedMs * 1000) / 1e6,
    process_time_ms: Math.round(elapsedMs * 1000) / 1000,
    ssl_protocol: info.tls?.protocol ?? null,
    ssl_cipher: info.tls?.cipher ?? null,
    peer: peer?.peer ?? null,
    anchor: peer?.anchor ?? null,
  };
}

type Dict = Record<string | symbol, unknown>;

const isObject = (x: unknown): x is Dict => typeof x === 'object' && x !== null;

interface PeerFields {
  readonly peer: AccessLogPeer;
  readonly anchor: string | null;
  readonly remoteUser: Readonly<Record<string, string>> | null;
}

// Keyed by the auth middleware's peer object or the connection's validated path, both reused
// across requests, so names are formatted and fingerprints hashed once per connection.
const peerCache = new WeakMap<object, PeerFields | null>();

function peerFieldsOf(c: Context, info: CertifiedConnInfo): PeerFields | null {
  // c.get is typed by ContextVariableMap, which may not declare 'certified' in every build.
  const fromAuth = attempt(() => (c.get as (key: string) => unknown).call(c, 'certified'));
  if (isObject(fromAuth)) return cached(fromAuth, authPeerFields);
  // createMtlsServer passes the validated path as env.peer and also leaves it on the socket (which
  // other Node servers handed its connections would not copy into env).
  const env = attempt(() => c.env as unknown);
  const path = isObject(env) && isObject(env.peer) ? env.peer : info.tls?.validated;
  return isObject(path) ? cached(path, pathPeerFields) : null;
}

function cached(key: object, compute: (o: Dict) => PeerFields | null): PeerFields | null {
  let hit = peerCache.get(key);
  if (hit === undefined) {
    try {
      hit = compute(key as Dict);
    } catch {
      hit = null;
    }
    peerCache.set(key, hit);
  }
  return hit;
}

/**
 * The auth middleware's `c.get('certified')`: `{ subject, commonName, fingerprint, certificate,
 * anchor: { name, subject }, source }`.
 */
function authPeerFields(v: Dict): PeerFields | null {
  const subject = typeof v.subject === 'string' ? v.subject : undefined;
  if (subject === undefined) return null;
  const cert = isObject(v.certificate) ? v.certificate : undefined;
  let remoteUser: Record<string, string> | null = null;
  try {
    remoteUser = attributesOf(
      Array.isArray(cert?.subject) ? (cert.subject as Name) : parseName(subject),
    );
  } catch {
    // an unparsable subject still logs as text
  }
  const anchor = isObject(v.anchor) ? v.anchor : undefined;
  return {
    peer: {
      subject,
      commonName: typeof v.commonName === 'string' ? v.commonName : null,
      fingerprint: typeof v.fingerprint === 'string' ? v.fingerprint : null,
      source: typeof v.source === 'string' ? v.source : null,
    },
    anchor:
      typeof anchor?.name === 'string'
        ? anchor.name
        : typeof anchor?.subject === 'string'
          ? anchor.subject
          : null,
    remoteUser,
  };
}

/** A core `ValidatedPath` (`{ peer: { subject: Name, commonName, certificate }, anchor: Certificate }`). */
function pathPeerFields(v: Dict): PeerFields | null {
  const p = isObject(v.peer) ? v.peer : undefined;
  if (!p || !Array.isArray(p.subject)) return null;
  const name = p.subject as Name;
  const cert = isObject(p.certificate) ? p.certificate : undefined;
  const anchor = isObject(v.anchor) ? v.anchor : undefined;
  return {
    peer: {
      subject: formatName(name),
      commonName: typeof p.commonName === 'string' ? p.commonName : null,
      fingerprint: cert?.der instanceof Uint8Array ? fingerprint(cert.der) : null,
      source: 'tls',
    },
    anchor: anchor && Array.isArray(anchor.subject) ? formatName(anchor.subject as Name) : null,
    remoteUser: attributesOf(name),
  };
}

// OpenSSL long names, which Python's ssl getpeercert() (and so ORNL's remote_user) uses.
const LONG_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'commonName',
  '2.5.4.4': 'surname',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'countryName',
  '2.5.4.7': 'localityName',
  '2.5.4.8': 'stateOrProvinceName',
  '2.5.4.9': 'streetAddress',
  '2.5.4.10': 'organizationName',
  '2.5.4.11': 'organizationalUnitName',
  '2.5.4.12': 'title',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'givenName',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'userId',
  '0.9.2342.19200300.100.1.25': 'domainComponent',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

/** ORNL: `for x in cert["subject"]: attrs.update(dict(x))` — DER order, later values win. */
function attributesOf(name: Name): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rdn of name) for (const a of rdn) out[LONG_NAMES[a.type] ?? a.type] = a.value;
  return out;
}

// Getters on foreign objects may throw (Node's HTTP/2 socket proxy once the stream is gone).
function attempt(f: () => unknown): unknown {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** What the server will answer for an exception that escaped Hono's error handler. */
function statusOfThrown(e: unknown): number {
  if (isObject(e) && typeof e.getResponse === 'function' && typeof e.status === 'number')
    return e.status;
  return 500;
}

// Python's http.HTTPStatus names (what ORNL's `status` field holds), for the codes it lists.
const STATUS_NAMES: Readonly<Record<number, string>> = {
  100: 'CONTINUE',
  101: 'SWITCHING_PROTOCOLS',
  102: 'PROCESSING',
  103: 'EARLY_HINTS',
  200: 'OK',
  201: 'CREATED',
  202: 'ACCEPTED',
  203: 'NON_AUTHORITATIVE_INFORMATION',
  204: 'NO_CONTENT',
  205: 'RESET_CONTENT',
  206: 'PARTIAL_CONTENT',
  207: 'MULTI_STATUS',
  208: 'ALREADY_REPORTED',
  226: 'IM_USED',
  300: 'MULTIPLE_CHOICES',
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  304: 'NOT_MODIFIED',
  305: 'USE_PROXY',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  407: 'PROXY_AUTHENTICATION_REQUIRED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  410: 'GONE',
  411: 'LENGTH_REQUIRED',
  412: 'PRECONDITION_FAILED',
  413: 'REQUEST_ENTITY_TOO_LARGE',
  414: 'REQUEST_URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'REQUESTED_RANGE_NOT_SATISFIABLE',
  417: 'EXPECTATION_FAILED',
  418: 'IM_A_TEAPOT',
  421: 'MISDIRECTED_REQUEST',
  422: 'UNPROCESSABLE_ENTITY',
  423: 'LOCKED',
  424: 'FAILED_DEPENDENCY',
  425: 'TOO_EARLY',
  426: 'UPGRADE_REQUIRED',
  428: 'PRECONDITION_REQUIRED',
  429: 'TOO_MANY_REQUESTS',
  431: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
  451: 'UNAVAILABLE_FOR_LEGAL_REASONS',
  500: 'INTERNAL_SERVER_ERROR',
  501: 'NOT_IMPLEMENTED',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
  505: 'HTTP_VERSION_NOT_SUPPORTED',
  506: 'VARIANT_ALSO_NEGOTIATES',
  507: 'INSUFFICIENT_STORAGE',
  508: 'LOOP_DETECTED',
  510: 'NOT_EXTENDED',
  511: 'NETWORK_AUTHENTICATION_REQUIRED',
};
