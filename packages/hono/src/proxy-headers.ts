/**
 * @module proxy-headers — reading the client certificate a TLS-terminating reverse proxy forwarded
 * in a header: Envoy's `x-forwarded-client-cert` (XFCC), nginx's `$ssl_client_escaped_cert` (and the
 * legacy tab-indented `$ssl_client_cert`), HAProxy's `%[ssl_c_der,base64]`, and Cloudflare's
 * `cf-client-cert-der-base64`. These only
 * decode bytes: who may send the header, and whether the certificate is trusted, is decided by the
 * middleware (proxy addresses) and the path validator.
 */
import {
  AuthError,
  CertifiedError,
  decodePemBundle,
  fingerprint,
  fromBase64Der,
} from '@certified/core';

/** The proxy that forwards the certificate, which fixes the header format. */
export type ForwardedFormat = 'envoy' | 'nginx' | 'haproxy' | 'cloudflare';

/** The header each proxy uses by default (lower-case). */
export const FORWARDED_HEADERS: Readonly<Record<ForwardedFormat, string>> = Object.freeze({
  envoy: 'x-forwarded-client-cert',
  nginx: 'x-ssl-client-cert',
  // HAProxy has no default: the name its configuration sets (`http-request set-header`).
  haproxy: 'x-ssl-client-der',
  cloudflare: 'cf-client-cert-der-base64',
});

/** Longest forwarded header read, in characters (a URL-encoded chain of several RSA certificates fits). */
export const MAX_FORWARDED_HEADER_LENGTH = 32_768;

/** A forwarded certificate, as DER: untrusted until a path validator has judged it. */
export interface ForwardedCertificate {
  /** The client's certificate. */
  readonly peer: Uint8Array;
  /** Further certificates the proxy forwarded (XFCC `Chain=`), possibly repeating the peer. */
  readonly chain: readonly Uint8Array[];
}

/** Options for {@link readForwardedCertificate} and {@link parseXfcc}. */
export interface ReadForwardedOptions {
  /** Longest header value accepted, in characters; default {@link MAX_FORWARDED_HEADER_LENGTH}. */
  readonly maxLength?: number;
}

/**
 * One XFCC element (what one proxy added): keys lower-cased, each with every value given for it in
 * order (XFCC repeats `DNS=` and `URI=`), quotes and `\"` escapes removed, URL-encoding kept.
 */
export type XfccElement = Readonly<Record<string, readonly string[]>>;

/**
 * Splits an Envoy `x-forwarded-client-cert` value into its elements: comma-separated elements of
 * semicolon-separated `key=value` pairs, values optionally double-quoted with `\"` escapes (Envoy's
 * "XFCC header" documentation). Several header lines joined with `, ` parse as more elements. This
 * is the grammar only: {@link readForwardedCertificate} also decides which element to believe.
 *
 * @param value - the header value.
 * @param options.maxLength - longest value accepted; default {@link MAX_FORWARDED_HEADER_LENGTH}.
 * @returns the elements in header order (the last one was added by the nearest proxy); empty for a
 *   blank value.
 * @throws AuthError ERR_AUTH_HEADER_MALFORMED for a value that is too long or breaks the grammar
 *   (unterminated quote, a pair without `=`, an empty element, text after a quoted value).
 * @example
 * const [el] = parseXfcc('By=spiffe://a/b;Hash=ab12;Subject="/CN=Ada"');
 * el.subject; // ['/CN=Ada']
 */
export function parseXfcc(value: string, options: ReadForwardedOptions = {}): XfccElement[] {
  return tokenizeXfcc(value, maxLengthOf(options)).map((pairs) => {
    // Null prototype: keys come from the network and must not reach Object.prototype (`__proto__`).
    const element = Object.create(null) as Record<string, string[]>;
    for (const { key, value: v } of pairs) (element[key] ??= []).push(v);
    return element;
  });
}

/**
 * Decodes the client certificate a proxy forwarded, in that proxy's header format. The result is
 * untrusted bytes: validate them with a `PathValidator` before believing a word of them.
 *
 * - `envoy` (`x-forwarded-client-cert`): the **last** element, the one added by the proxy that
 *   connects to us (each Envoy appends its own element; earlier ones come from hops we cannot vouch
 *   for). Its `Cert=` (URL-encoded PEM) is the peer and `Chain=` (URL-encoded PEM chain) the chain;
 *   with only `Chain=`, its first certificate is the peer. Its `Hash=`, when present, must be the
 *   peer's SHA-256. Envoy writes `URI=` and `DNS=` last and unquoted, straight from the client
 *   certificate's SANs, so anything after the first of them but more URI=/DNS= pairs of the same
 *   element — another key, or another element — may have been written by a SAN, and is refused.
 * - `nginx` (`$ssl_client_escaped_cert`, URL-encoded PEM; or the legacy `$ssl_client_cert`, PEM with
 *   tab-indented lines): exactly one certificate.
 * - `haproxy` (`x-ssl-client-der` set to `%[ssl_c_der,base64]`) and `cloudflare`
 *   (`cf-client-cert-der-base64`): base64 DER of one certificate.
 *
 * @param format - which proxy's format.
 * @param value - the header value (`c.req.header(name)`); undefined when absent.
 * @param options.maxLength - longest value accepted; default {@link MAX_FORWARDED_HEADER_LENGTH}.
 * @returns the certificate(s), or undefined when the header is absent, blank, or (XFCC) its last
 *   element carries neither `Cert=` nor `Chain=`.
 * @throws AuthError ERR_AUTH_HEADER_MALFORMED when the value is too long, breaks its format, or holds
 *   no readable certificate (bad escaping, base64 or PEM; several certificates where one belongs; more
 *   than 16 certificates); for XFCC also a repeated Cert=, Chain= or Hash= key, a Hash= that is not
 *   the certificate's, and a key or element after a URI=/DNS= value.
 * @example
 * const fwd = readForwardedCertificate('nginx', c.req.header('x-ssl-client-cert'));
 * if (fwd) await validator.validate({ peer: fwd.peer, chain: fwd.chain, purpose: 'clientAuth' });
 */
export function readForwardedCertificate(
  format: ForwardedFormat,
  value: string | null | undefined,
  options: ReadForwardedOptions = {},
): ForwardedCertificate | undefined {
  if (!Object.hasOwn(FORWARDED_HEADERS, format))
    throw new TypeError(
      `format must be 'envoy', 'nginx', 'haproxy' or 'cloudflare', received ${JSON.stringify(format)}`,
    );
  const max = maxLengthOf(options);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new TypeError(`value must be a string, received ${typeof value}`);
  checkLength(value, max, format);
  const text = value.trim();
  if (text === '') return undefined;
  switch (format) {
    case 'envoy':
      return readXfcc(text, max);
    case 'nginx': {
      // Escaped PEM has %20 for every space, so a literal "-----BEGIN " means the legacy raw form.
      const pem = text.includes('-----BEGIN ') ? text : decodeUrl(text, 'nginx');
      const certs = pemCertificates(pem, 'nginx');
      if (certs.length !== 1)
        throw malformed(
          `The nginx client-certificate header holds ${certs.length} certificates; nginx forwards exactly one (a repeated header?).`,
          'nginx',
        );
      return { peer: certs[0]!, chain: [] };
    }
    case 'haproxy':
    case 'cloudflare':
      return { peer: base64Certificate(text, format), chain: [] };
  }
}

// --- internal ---

/** Most certificates read from one header: more than any sane chain, few enough to stay cheap. */
const MAX_CERTIFICATES = 16;

/** One `key=value` pair as written: key lower-cased, value unquoted and unescaped. */
interface XfccPair {
  readonly key: string;
  readonly value: string;
}

/** The keys Envoy writes unquoted and last, straight from the certificate's SANs. */
const SAN_KEYS: ReadonlySet<string> = new Set(['uri', 'dns']);

function readXfcc(text: string, max: number): ForwardedCertificate | undefined {
  const elements = tokenizeXfcc(text, max);
  refuseWrittenBySan(elements);
  const last = elements.at(-1);
  if (!last) return undefined;
  const cert = single(last, 'cert');
  const chain = single(last, 'chain');
  const hash = single(last, 'hash');
  const certs = cert ? pemCertificates(decodeUrl(cert, 'envoy Cert='), 'envoy Cert=') : [];
  const chained = chain ? pemCertificates(decodeUrl(chain, 'envoy Chain='), 'envoy Chain=') : [];
  const all = [...certs, ...chained];
  if (all.length > MAX_CERTIFICATES) throw tooMany('envoy');
  const [peer, ...rest] = all;
  if (!peer) return undefined;
  // Envoy hashes the handshake's certificate itself: a Cert= that is not that one is not Envoy's.
  if (
    hash !== undefined &&
    hash.toLowerCase() !== fingerprint(peer).replace(/:/g, '').toLowerCase()
  )
    throw malformed(
      "The x-forwarded-client-cert element's Hash= is not the SHA-256 of its certificate.",
      'envoy Hash=',
    );
  return { peer, chain: rest };
}

/**
 * Envoy writes `URI=` and `DNS=` after every other key, unquoted and unescaped, so a client
 * certificate whose SAN holds `;` or `,` writes pairs, or a whole element, of its own after them.
 * Hence nothing but more URI=/DNS= pairs of the same element may follow one.
 */
function refuseWrittenBySan(elements: readonly (readonly XfccPair[])[]): void {
  elements.forEach((pairs, index) => {
    const first = pairs.findIndex((p) => SAN_KEYS.has(p.key));
    if (first < 0) return;
    const after = pairs.slice(first).find((p) => !SAN_KEYS.has(p.key));
    if (after || index < elements.length - 1)
      throw malformed(
        `The x-forwarded-client-cert header has ${after ? `a ${after.key}= pair` : 'another element'} after a ${pairs[first]!.key.toUpperCase()}= value; Envoy writes those last and unquoted, so a certificate's SAN may have written it.`,
        'envoy',
      );
  });
}

function single(pairs: readonly XfccPair[], key: string): string | undefined {
  const values = pairs.filter((p) => p.key === key);
  if (values.length === 0) return undefined;
  if (values.length > 1)
    throw malformed(
      `The x-forwarded-client-cert element has ${values.length} "${key}" keys; expected one.`,
      'envoy',
    );
  return values[0]!.value === '' ? undefined : values[0]!.value;
}

/** The XFCC grammar: elements of pairs, in header order. */
function tokenizeXfcc(value: string, max: number): XfccPair[][] {
  checkLength(value, max, 'envoy');
  const elements: XfccPair[][] = [];
  if (value.trim() === '') return elements;
  const n = value.length;
  const bad = (why: string, at: number): AuthError =>
    malformed(`The x-forwarded-client-cert header is malformed: ${why} at offset ${at}.`, 'envoy');
  let current: XfccPair[] = [];
  let i = 0;
  for (;;) {
    i = skipSpace(value, i);
    const keyStart = i;
    while (i < n && !'=;,"'.includes(value[i]!)) i++;
    const key = value.slice(keyStart, i).trim().toLowerCase();
    if (key === '' || value[i] !== '=')
      throw bad(key === '' ? 'an empty element or key' : 'a pair without "="', keyStart);
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(key)) throw bad('a key that is not a token', keyStart);
    i++;
    let v: string;
    if (value[i] === '"') {
      i++;
      let out = '';
      for (;;) {
        if (i >= n) throw bad('an unterminated quoted value', i);
        const ch = value[i]!;
        if (ch === '"') break;
        if (ch === '\\') {
          if (i + 1 >= n) throw bad('an unterminated quoted value', i);
          out += value[i + 1];
          i += 2;
        } else {
          out += ch;
          i++;
        }
      }
      i++;
      v = out;
    } else {
      const start = i;
      while (i < n && value[i] !== ';' && value[i] !== ',') {
        if (value[i] === '"') throw bad('a quote inside an unquoted value', i);
        i++;
      }
      v = value.slice(start, i).trim();
    }
    current.push({ key, value: v });
    i = skipSpace(value, i);
    if (i >= n) {
      elements.push(current);
      return elements;
    }
    if (value[i] === ',') {
      elements.push(current);
      current = [];
    } else if (value[i] !== ';') {
      throw bad('text after a quoted value', i);
    }
    i++;
  }
}

function base64Certificate(text: string, format: 'haproxy' | 'cloudflare'): Uint8Array {
  const name = format === 'haproxy' ? 'HAProxy' : 'Cloudflare';
  let der: Uint8Array;
  try {
    der = fromBase64Der(text);
  } catch (e) {
    throw malformed(
      `The ${name} client-certificate header is not base64 DER (a repeated header?).`,
      format,
      e,
    );
  }
  if (der.length === 0) throw malformed(`The ${name} client-certificate header is empty.`, format);
  return der;
}

function pemCertificates(text: string, field: string): Uint8Array[] {
  let blocks: ReturnType<typeof decodePemBundle>;
  try {
    blocks = decodePemBundle(text);
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    throw malformed(`The forwarded certificate (${field}) is not PEM: ${e.message}`, field, e);
  }
  if (blocks.length > MAX_CERTIFICATES) throw tooMany(field);
  for (const b of blocks)
    if (b.label !== 'CERTIFICATE')
      throw malformed(
        `The forwarded certificate (${field}) holds a PEM "${b.label}" block, not a CERTIFICATE.`,
        field,
      );
  return blocks.map((b) => b.der);
}

function decodeUrl(text: string, field: string): string {
  // decodeURIComponent, not form decoding: '+' is base64, never a space.
  try {
    return decodeURIComponent(text);
  } catch (e) {
    throw malformed(`The forwarded certificate (${field}) is not valid URL-encoding.`, field, e);
  }
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

function maxLengthOf(options: ReadForwardedOptions): number {
  const max = options.maxLength ?? MAX_FORWARDED_HEADER_LENGTH;
  if (!Number.isInteger(max) || max <= 0)
    throw new RangeError(`maxLength must be a positive integer, received ${String(max)}`);
  return max;
}

function checkLength(value: string, max: number, format: ForwardedFormat): void {
  if (value.length > max)
    throw new AuthError(
      'ERR_AUTH_HEADER_MALFORMED',
      `The ${format} client-certificate header is ${value.length} characters; the limit is ${max}.`,
      { field: format, reason: 'too large' },
    );
}

function tooMany(field: string): AuthError {
  return malformed(
    `The forwarded certificate (${field}) holds more than ${MAX_CERTIFICATES} certificates.`,
    field,
  );
}

function malformed(message: string, field: string, cause?: unknown): AuthError {
  return new AuthError('ERR_AUTH_HEADER_MALFORMED', message, {
    field,
    reason: 'malformed',
    ...(cause === undefined ? {} : { cause }),
  });
}
