/**
 * @module require-client-cert — Hono middleware that authenticates the caller by client certificate:
 * from the TLS connection, or forwarded by a trusted reverse proxy, always judged by our own path
 * validator; the caller lands on the context as `c.get('certified')`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { AuthError, type PathValidator, describeValue } from '@certified/core';
import { type AnchorLabel, type CertificateSource, type CertifiedPeer } from './peer.js';
import {
  admitCaller,
  anchorSource,
  assertTrusted,
  refusal,
  serverAnchors,
  serverValidator,
  validatorSource,
} from './trust.js';
import {
  FORWARDED_HEADERS,
  MAX_FORWARDED_HEADER_LENGTH,
  readForwardedCertificate,
  type ForwardedFormat,
} from './proxy-headers.js';
import {
  createAddressMatcher,
  remoteAddressOf,
  tlsChainOf,
  type AddressMatcher,
} from './remote-address.js';

/** A reverse proxy that terminates TLS and forwards the client's certificate in a header. */
export interface ProxyOptions {
  /**
   * The addresses the proxy connects from: IPs (`127.0.0.1`, `::1`) and CIDR blocks (`10.0.0.0/8`).
   * The header is read only on connections from these; from anywhere else it is ignored.
   */
  readonly addresses: readonly string[];
  /**
   * The proxy's header format: `envoy` (XFCC), `nginx` (escaped PEM), `haproxy` or `cloudflare`
   * (base64 DER).
   */
  readonly format: ForwardedFormat;
  /**
   * The header name; default the format's own (`x-forwarded-client-cert`, `x-ssl-client-cert`,
   * `x-ssl-client-der`, `cf-client-cert-der-base64`).
   */
  readonly header?: string;
  /** Longest header value read, in characters; default 32 768. */
  readonly maxHeaderLength?: number;
}

/** Options for {@link requireClientCert}. */
export interface RequireClientCertOptions {
  /**
   * Judges every certificate (purpose clientAuth), forwarded or not. A function is called per request,
   * so a server can hand over a new validator when its `known_clients` change. Default: the trust
   * `@certified/node`'s `serve()` is using right now (`c.env.trust`), which follows `known_clients`
   * as it is re-read; elsewhere a validator must be given.
   */
  readonly validator?: PathValidator | ((c: Context) => PathValidator | Promise<PathValidator>);
  /**
   * Labels for anchors, reported as `anchor.name`; a function is called per request. Default: under
   * `serve()`, the `known_clients` file names (`c.env.trust.anchors`); elsewhere none.
   */
  readonly anchors?: readonly AnchorLabel[] | ((c: Context) => readonly AnchorLabel[]);
  /** Read a certificate forwarded by this reverse proxy; default none (TLS connection only). */
  readonly proxy?: ProxyOptions;
  /**
   * Decides, once the caller is authenticated, whether it may proceed: only `true` lets it through;
   * anything else answers 403 ERR_AUTH_FORBIDDEN. Default: every trusted caller may proceed.
   */
  readonly authorize?: (peer: CertifiedPeer, c: Context) => boolean | Promise<boolean>;
  /** The TCP peer address of a request; default {@link remoteAddressOf} (Node, Deno, Bun). */
  readonly remoteAddress?: (c: Context) => string | undefined;
  /** The clock certificates are validated against; default the current time. */
  readonly time?: () => Date;
}

export type { CertifiedErrorBody } from './trust.js';

/**
 * Middleware that lets a request through only with a trusted client certificate, and puts the
 * caller on the context as `c.get('certified')` ({@link CertifiedPeer}).
 *
 * Where the certificate comes from depends on who connected:
 * - from a `proxy.addresses` address: only the proxy's header (the TLS certificate of that
 *   connection, if any, is the proxy's own, never the caller's);
 * - from anywhere else: the chain presented on the TLS connection (`@certified/node`'s
 *   `createMtlsServer`, or `@hono/node-server` over `node:https` with `requestCert`); a
 *   forwarded-certificate header is ignored.
 *
 * Either way the certificate is validated with `validator` (purpose clientAuth): a proxy vouches
 * for the transport, not for trust. Refusals throw an `HTTPException` whose response is JSON
 * `{ "error": { "code", "message" } }` — returned as is by Hono's default error handler, and
 * available as `err.getResponse()` in an `onError`; `err.cause` is the `AuthError` or
 * `PathValidationError`.
 *
 * @param options.validator - a `PathValidator` (`createPathValidator`), or a function returning one;
 *   default the trust of `@certified/node`'s `serve()`.
 * @param options.anchors - `{ name, certificate }` labels for anchors (`createClientTrust`); default
 *   `serve()`'s `known_clients` names, else none.
 * @param options.proxy - `{ addresses, format, header?, maxHeaderLength? }`; default none.
 * @param options.authorize - `(peer, c) => boolean`; default allow every trusted caller.
 * @param options.remoteAddress - `(c) => address`; default {@link remoteAddressOf}.
 * @param options.time - validation clock; default now.
 * @throws 401 with ERR_AUTH_NO_CERTIFICATE, ERR_AUTH_HEADER_MALFORMED, ERR_AUTH_PROXY_UNTRUSTED or a
 *   path-validation code (ERR_CHAIN_NO_PATH, ERR_CHAIN_EXPIRED, ERR_CHAIN_EKU, …); 403 with
 *   ERR_AUTH_FORBIDDEN. At construction: TypeError/RangeError for bad options.
 * @example
 * const app = new Hono();
 * // Under @certified/node's serve(), which supplies the trust of its known_clients:
 * app.use(requireClientCert());
 * // Anywhere else, with a validator of your own:
 * app.use(requireClientCert({ validator: createPathValidator({ anchors: [caPem] }) }));
 * app.get('/', (c) => c.json({ hello: c.get('certified').commonName }));
 */
export function requireClientCert(options: RequireClientCertOptions = {}): MiddlewareHandler {
  if (!options || typeof options !== 'object')
    throw new TypeError(
      `requireClientCert options must be an object, received ${describeValue(options)}`,
    );
  const { validator, anchors, proxy, authorize, remoteAddress, time } = options;
  const validatorOf =
    validator === undefined ? serverValidator(WHAT) : validatorSource(validator, WHAT);
  const namesOf = anchorSource(anchors ?? serverAnchors, WHAT);
  for (const [k, v] of Object.entries({ authorize, remoteAddress, time }))
    if (v !== undefined && typeof v !== 'function')
      throw new TypeError(
        `requireClientCert options.${k} must be a function, received ${describeValue(v)}`,
      );
  const fwd = proxy === undefined ? undefined : proxySettings(proxy);
  const addressOf = remoteAddress ?? remoteAddressOf;

  /** The certificate to judge and where it came from, or the reason there is none. */
  function presented(c: Context): {
    source: CertificateSource;
    peer: Uint8Array;
    chain: readonly Uint8Array[];
  } {
    const address = fwd ? addressOf(c) : undefined;
    if (fwd && fwd.isProxy(typeof address === 'string' ? address : undefined)) {
      let found;
      try {
        found = readForwardedCertificate(fwd.format, c.req.header(fwd.header), {
          maxLength: fwd.maxLength,
        });
      } catch (e) {
        // Whatever the header holds, a bad one is the caller's 401, never our 500.
        throw refusal(
          401,
          'ERR_AUTH_HEADER_MALFORMED',
          e instanceof AuthError ? e.message : `The ${fwd.header} header cannot be read.`,
          e,
        );
      }
      if (!found)
        throw refusal(
          401,
          'ERR_AUTH_NO_CERTIFICATE',
          `The proxy forwarded no client certificate (the ${fwd.header} header is missing or carries none).`,
        );
      return { source: fwd.format, ...found };
    }
    const tls = tlsChainOf(c);
    if (tls) return { source: 'tls', ...tls };
    if (fwd && c.req.header(fwd.header) !== undefined)
      throw refusal(
        401,
        'ERR_AUTH_PROXY_UNTRUSTED',
        `The ${fwd.header} header was ignored: the connection does not come from a configured proxy address.`,
      );
    throw refusal(401, 'ERR_AUTH_NO_CERTIFICATE', 'The request carries no client certificate.');
  }

  return async function requireClientCert(c, next) {
    const { source, peer, chain } = presented(c);
    const judge = await validatorOf(c);
    const result = await judge.validate({
      peer,
      chain,
      purpose: 'clientAuth',
      ...(time ? { time: time() } : {}),
    });
    assertTrusted(result);
    await admitCaller(c, result, source, namesOf(c), authorize);
    await next();
  };
}

// --- internal ---

const WHAT = 'requireClientCert';

interface ProxySettings {
  readonly isProxy: AddressMatcher;
  readonly format: ForwardedFormat;
  readonly header: string;
  readonly maxLength: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function proxySettings(proxy: ProxyOptions): ProxySettings {
  if (!proxy || typeof proxy !== 'object')
    throw new TypeError(
      `requireClientCert options.proxy must be an object, received ${describeValue(proxy)}`,
    );
  const { addresses, format, header, maxHeaderLength } = proxy;
  if (!Array.isArray(addresses))
    throw new TypeError(
      `requireClientCert options.proxy.addresses must be an array of addresses or CIDR blocks, received ${describeValue(addresses)}`,
    );
  if (addresses.length === 0)
    throw new RangeError(
      'requireClientCert options.proxy.addresses must list at least one address (omit proxy to read the TLS connection only)',
    );
  if (typeof format !== 'string' || !Object.hasOwn(FORWARDED_HEADERS, format))
    throw new TypeError(
      `requireClientCert options.proxy.format must be 'envoy', 'nginx', 'haproxy' or 'cloudflare', received ${describeValue(format)}`,
    );
  if (header !== undefined && (typeof header !== 'string' || !TOKEN.test(header)))
    throw new TypeError(
      `requireClientCert options.proxy.header must be a header name, received ${describeValue(header)}`,
    );
  const maxLength = maxHeaderLength ?? MAX_FORWARDED_HEADER_LENGTH;
  if (!Number.isInteger(maxLength) || maxLength <= 0)
    throw new RangeError(
      `requireClientCert options.proxy.maxHeaderLength must be a positive integer, received ${describeValue(maxLength)}`,
    );
  return {
    isProxy: createAddressMatcher(addresses.slice()),
    format,
    header: (header ?? FORWARDED_HEADERS[format]).toLowerCase(),
    maxLength,
  };
}
