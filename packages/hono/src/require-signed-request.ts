/**
 * @module require-signed-request — Hono middleware that authenticates the caller by an RFC 9421 HTTP
 * Message Signature made with the key of a certificate the request carries (`Certified-Chain`), the
 * chain judged by our own path validator: how a browser, which cannot present a WebCrypto key as a
 * TLS client certificate, proves who it is. The caller lands on the context as `c.get('certified')`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import {
  AuthError,
  describeValue,
  fingerprint,
  importPublicKey,
  parseCertificate,
  type Certificate,
} from '@certified/core';
import type { CertifiedPeer } from './peer.js';
import { createMemoryNonceCache, type NonceCache } from './nonce-cache.js';
import { readSignature, signatureBase } from './signature-base.js';
import {
  CHAIN_HEADER,
  SIGNATURE_ALGORITHMS,
  SIGNATURE_LABEL,
  parseChainHeader,
  sha256OfContentDigest,
} from './signature-wire.js';
import {
  admitCaller,
  anchorSource,
  assertTrusted,
  refusal,
  serverAnchors,
  serverValidator,
  validatorSource,
  type AnchorsOption,
  type ValidatorOption,
} from './trust.js';

/** Options for {@link requireSignedRequest}. */
export interface RequireSignedRequestOptions {
  /**
   * Judges the presented chain (purpose clientAuth): the same trust as `requireClientCert`. Default:
   * the trust of `@certified/node`'s `serve()` (`c.env.trust`); elsewhere a validator must be given.
   */
  readonly validator?: ValidatorOption;
  /** Labels for anchors, reported as `anchor.name`; default `serve()`'s `known_clients` names. */
  readonly anchors?: AnchorsOption;
  /** Decides whether an authenticated caller may proceed; only `true` does (else 403 ERR_AUTH_FORBIDDEN). */
  readonly authorize?: (peer: CertifiedPeer, c: Context) => boolean | Promise<boolean>;
  /** The clock for the signature window and the chain; default the current time. */
  readonly time?: () => Date;
  /** Longest signature window (`expires` − `created`), in seconds; default 300. */
  readonly maxAge?: number;
  /** How far the signer's clock may be off ours, in seconds; default 30. */
  readonly clockSkew?: number;
  /** Where accepted nonces are remembered; default a {@link createMemoryNonceCache} of 100 000. */
  readonly nonces?: NonceCache;
  /** Most certificates in `Certified-Chain`; default 4. */
  readonly maxChainLength?: number;
  /** Longest `Signature`, `Signature-Input`, `Certified-Chain` or `Content-Digest` value read; default 16 384. */
  readonly maxHeaderLength?: number;
  /** Largest body read to check its digest, in bytes; default 1 MiB (413 beyond it). */
  readonly maxBodyLength?: number;
  /**
   * The URI the client signed as `@target-uri`; default the request URL as the server sees it. Behind
   * a proxy that rewrites it, give the public one: `(c) => 'https://api.example.org' + c.req.path`.
   */
  readonly targetUri?: (c: Context) => string;
  /** WebCrypto implementation; default `globalThis.crypto`. */
  readonly crypto?: Crypto;
  /** How many parsed `Certified-Chain` values (certificates and imported key) are kept; default 256. */
  readonly signerCacheSize?: number;
}

/** Components every certified signature covers; `content-digest` too whenever there is a body. */
export const REQUIRED_COMPONENTS: readonly string[] = Object.freeze([
  '@method',
  '@target-uri',
  CHAIN_HEADER,
]);
/** Signature parameters every certified signature carries. */
export const REQUIRED_PARAMETERS: readonly string[] = Object.freeze([
  'created',
  'expires',
  'nonce',
  'keyid',
  'alg',
]);

/**
 * Middleware that lets a request through only when it is signed (RFC 9421 HTTP Message Signatures)
 * by the key of a certificate our validator trusts, and puts the caller on the context as
 * `c.get('certified')` ({@link CertifiedPeer} with `source: 'signature'`) — the same shape
 * `requireClientCert` gives, so handlers do not care which proved the caller.
 *
 * The request carries `Signature-Input` and `Signature` labelled `certified`, and `Certified-Chain`
 * (RFC 8941 list of DER byte sequences, signer first). The signature must cover `@method`,
 * `@target-uri`, `certified-chain`, and `content-digest` (RFC 9530, sha-256) whenever there is a
 * body, and carry `created`, `expires` (window at most `maxAge`), `nonce`, `keyid` (the SHA-256
 * fingerprint of the signer's certificate, `AB:CD:…`) and `alg` (`ed25519`, `ecdsa-p256-sha256`,
 * `ecdsa-p384-sha384`). A nonce is accepted once per signer within its window.
 *
 * Work a stranger can cause is bounded: header lengths and chain length are checked before
 * parsing, one signature is verified before the chain is judged, the chain is judged before the
 * body is read (a stranger's body is never read), and nonces are recorded only for trusted callers (the cache is bounded in size and time). Runs wherever Hono
 * and WebCrypto do (Node, Deno, Bun, workerd).
 *
 * @param options.validator - a `PathValidator`, or a function returning one; default `serve()`'s trust.
 * @param options.anchors - anchor labels; default `serve()`'s `known_clients` names.
 * @param options.authorize - `(peer, c) => boolean`; default allow every trusted caller.
 * @param options.time - clock; default now.
 * @param options.maxAge - longest signature window in seconds; default 300.
 * @param options.clockSkew - allowed clock difference in seconds; default 30.
 * @param options.nonces - a {@link NonceCache}; default in memory, 100 000 entries.
 * @param options.maxChainLength - default 4. @param options.maxHeaderLength - default 16 384.
 * @param options.maxBodyLength - default 1 048 576. @param options.targetUri - default the request URL.
 * @param options.signerCacheSize - parsed `Certified-Chain` values kept (LRU); default 256.
 * @throws 401 with ERR_AUTH_SIGNATURE_MISSING, ERR_AUTH_SIGNATURE_MALFORMED,
 *   ERR_AUTH_SIGNATURE_COVERAGE, ERR_AUTH_SIGNATURE_EXPIRED, ERR_AUTH_SIGNATURE_KEY_MISMATCH,
 *   ERR_AUTH_SIGNATURE_INVALID, ERR_AUTH_DIGEST_MISMATCH, ERR_AUTH_REPLAY or a path-validation code
 *   (ERR_CHAIN_NO_PATH, …); 413 ERR_AUTH_BODY_TOO_LARGE; 503 ERR_AUTH_REPLAY_CACHE_FULL; 403
 *   ERR_AUTH_FORBIDDEN. At construction: TypeError/RangeError for bad options.
 * @example
 * const app = new Hono();
 * app.use('/api/*', requireSignedRequest({ validator: createPathValidator({ anchors: [caPem] }) }));
 * app.get('/api/hello', (c) => c.json({ hello: c.get('certified').commonName }));
 */
export function requireSignedRequest(options: RequireSignedRequestOptions = {}): MiddlewareHandler {
  if (!options || typeof options !== 'object')
    throw new TypeError(`${WHAT} options must be an object, received ${describeValue(options)}`);
  const { validator, anchors, authorize, time, targetUri, nonces, crypto } = options;
  for (const [k, v] of Object.entries({ authorize, time, targetUri }))
    if (v !== undefined && typeof v !== 'function')
      throw new TypeError(`${WHAT} options.${k} must be a function, received ${describeValue(v)}`);
  if (nonces !== undefined && (nonces === null || typeof nonces.claim !== 'function'))
    throw new TypeError(
      `${WHAT} options.nonces must be a NonceCache ({ claim }), received ${describeValue(nonces)}`,
    );
  const maxAge = positive('maxAge', options.maxAge ?? 300);
  const skew = positive('clockSkew', options.clockSkew ?? 30, true);
  const maxChain = positive('maxChainLength', options.maxChainLength ?? 4);
  const maxHeader = positive('maxHeaderLength', options.maxHeaderLength ?? 16_384);
  const maxBody = positive('maxBodyLength', options.maxBodyLength ?? 1_048_576, true);
  const validatorOf =
    validator === undefined ? serverValidator(WHAT) : validatorSource(validator, WHAT);
  const namesOf = anchorSource(anchors ?? serverAnchors, WHAT);
  const cache = nonces ?? createMemoryNonceCache();
  const subtle = (crypto ?? globalThis.crypto).subtle;
  // Parsing the leaf and importing its key cost more than the signature check itself: keep the
  // result per Certified-Chain value (the same bytes always give the same answer), bounded.
  const signers = createSignerCache(
    maxChain,
    crypto,
    positive('signerCacheSize', options.signerCacheSize ?? 256, true),
  );

  return async function requireSignedRequest(c, next) {
    const headers = c.req.raw.headers;
    for (const h of ['signature', 'signature-input', CHAIN_HEADER, 'content-digest']) {
      const v = headers.get(h);
      if (v !== null && v.length > maxHeader)
        throw refusal(
          401,
          'ERR_AUTH_SIGNATURE_MALFORMED',
          `The ${h} header is longer than ${maxHeader} characters.`,
        );
    }
    if (!headers.has('signature') && !headers.has('signature-input'))
      throw refusal(
        401,
        'ERR_AUTH_SIGNATURE_MISSING',
        'The request is not signed (no Signature and Signature-Input headers).',
      );
    const now = time ? time() : new Date();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const hasDigestHeader = headers.has('content-digest');

    // Everything about the signature is judged before the one signature check it costs.
    const candidate = read(() => readSignature(headers, SIGNATURE_LABEL));
    const covered = new Set(candidate.components);
    for (const name of [...REQUIRED_COMPONENTS, ...(hasDigestHeader ? ['content-digest'] : [])])
      if (!covered.has(name))
        throw refusal(
          401,
          'ERR_AUTH_SIGNATURE_COVERAGE',
          `The signature does not cover ${name}; it must cover ${[...REQUIRED_COMPONENTS, 'content-digest (with a body)'].join(', ')}.`,
        );
    const p = candidate.parameters;
    for (const name of REQUIRED_PARAMETERS)
      if (p[name] === undefined)
        throw refusal(
          401,
          'ERR_AUTH_SIGNATURE_COVERAGE',
          `The signature has no ${name} parameter; it must carry ${REQUIRED_PARAMETERS.join(', ')}.`,
        );
    const { created, expires, nonce, keyid } = p;
    if (
      typeof created !== 'number' ||
      typeof expires !== 'number' ||
      typeof nonce !== 'string' ||
      nonce.length === 0 ||
      nonce.length > 128 ||
      typeof keyid !== 'string'
    )
      throw refusal(
        401,
        'ERR_AUTH_SIGNATURE_MALFORMED',
        'The signature parameters are malformed: created and expires must be integers, nonce a string of 1–128 characters, keyid a string.',
      );
    checkWindow(created, expires, nowSeconds, maxAge, skew);
    const value = headers.get(CHAIN_HEADER);
    const presented = value === null ? undefined : await signers.get(value);
    if (!presented)
      throw refusal(
        401,
        'ERR_AUTH_SIGNATURE_MALFORMED',
        value === null
          ? `The request has no ${CHAIN_HEADER} header with the signer's certificate.`
          : `The ${CHAIN_HEADER} header must be a list of 1–${maxChain} DER certificates (RFC 8941 byte sequences).`,
      );
    if (presented instanceof HTTPException) throw presented;
    const { der, algorithm, key } = presented;
    if (keyid !== presented.keyid)
      throw refusal(
        401,
        'ERR_AUTH_SIGNATURE_KEY_MISMATCH',
        `keyid must be the SHA-256 fingerprint of the first certificate in ${CHAIN_HEADER}.`,
      );
    if (p['alg'] !== algorithm.alg)
      throw refusal(
        401,
        'ERR_AUTH_SIGNATURE_KEY_MISMATCH',
        `alg ${JSON.stringify(p['alg'])} does not fit the signer's ${presented.keyType} key (expected ${algorithm.alg}).`,
      );
    const base = read(() =>
      signatureBase(
        {
          method: c.req.method,
          targetUri: targetUri ? targetUri(c) : c.req.url,
          headers,
        },
        candidate,
      ),
    );
    let valid: boolean;
    try {
      valid = await subtle.verify(
        algorithm.params,
        key,
        candidate.signature as BufferSource,
        base as BufferSource,
      );
    } catch {
      valid = false; // e.g. an ECDSA signature of the wrong length
    }
    if (!valid)
      throw refusal(
        401,
        'ERR_AUTH_SIGNATURE_INVALID',
        'The signature does not verify: the request was changed after signing, or another key signed it.',
      );

    // The chain before the body: a stranger who signed with a key of its own is refused before
    // up to maxBodyLength bytes are read and hashed for it.
    const judge = await validatorOf(c);
    const result = await judge.validate({
      peer: der[0]!,
      chain: der.slice(1),
      purpose: 'clientAuth',
      time: now,
    });
    assertTrusted(result);

    await checkBody(c, hasDigestHeader, maxBody, subtle);

    // Only trusted signers reach the cache, so strangers cannot fill it.
    const claim = await cache.claim(`${keyid} ${nonce}`, (expires + skew) * 1000);
    if (claim === 'replay')
      throw refusal(
        401,
        'ERR_AUTH_REPLAY',
        'This signature was already used (same signer and nonce): a replayed request.',
      );
    if (claim !== 'fresh')
      throw refusal(
        503,
        'ERR_AUTH_REPLAY_CACHE_FULL',
        'Too many signed requests to remember right now; try again shortly.',
      );

    await admitCaller(c, result, 'signature', namesOf(c), authorize);
    await next();
  };
}

// --- internal ---

const WHAT = 'requireSignedRequest';

/** A `Certified-Chain` value, read: the DER, the signer's certificate, key and algorithm. */
interface Presented {
  readonly der: Uint8Array[];
  readonly keyid: string;
  readonly keyType: string;
  readonly algorithm: { readonly alg: string; readonly params: AlgorithmIdentifier | EcdsaParams };
  readonly key: CryptoKey;
}

/**
 * Reads `Certified-Chain` values, remembering the last `size` that could be read (least recently
 * used first out). Unreadable values are not remembered: they answer undefined (not a chain) or
 * the refusal to throw.
 */
function createSignerCache(
  maxChain: number,
  crypto: Crypto | undefined,
  size: number,
): { get(value: string): Promise<Presented | HTTPException | undefined> } {
  const cache = new Map<string, Presented>();
  return {
    async get(value) {
      const hit = cache.get(value);
      if (hit) {
        cache.delete(value);
        cache.set(value, hit);
        return hit;
      }
      const der = parseChainHeader(value);
      if (der === null || der.length > maxChain) return undefined;
      let leaf: Certificate;
      try {
        leaf = parseCertificate(der[0]!);
      } catch (e) {
        return refusal(
          401,
          'ERR_AUTH_SIGNATURE_MALFORMED',
          `The first certificate in ${CHAIN_HEADER} cannot be read.`,
          e,
        );
      }
      const algorithm = SIGNATURE_ALGORITHMS[leaf.publicKey.algorithm];
      if (!algorithm)
        return refusal(
          401,
          'ERR_AUTH_SIGNATURE_KEY_MISMATCH',
          `The signer's ${leaf.publicKey.algorithm} key cannot sign requests (Ed25519, P-256 or P-384).`,
        );
      let key: CryptoKey;
      try {
        key = await importPublicKey(leaf.publicKey.spki, crypto ? { crypto } : {});
      } catch (e) {
        return refusal(401, 'ERR_AUTH_SIGNATURE_MALFORMED', "The signer's key cannot be used.", e);
      }
      const presented: Presented = {
        der,
        keyid: fingerprint(leaf),
        keyType: leaf.publicKey.algorithm,
        algorithm,
        key,
      };
      if (size > 0) {
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(value, presented);
      }
      return presented;
    },
  };
}

function positive(name: string, v: number, zeroOk = false): number {
  if (!Number.isInteger(v) || v < (zeroOk ? 0 : 1))
    throw new RangeError(
      `${WHAT} options.${name} must be a ${zeroOk ? 'non-negative' : 'positive'} integer, received ${describeValue(v)}`,
    );
  return v;
}

function checkWindow(
  created: number,
  expires: number,
  now: number,
  maxAge: number,
  skew: number,
): void {
  const why =
    created > now + skew
      ? `was created ${created - now} s in the future (clocks may differ by ${skew} s)`
      : expires < now - skew
        ? `expired ${now - expires} s ago`
        : expires <= created
          ? 'expires before it was created'
          : expires - created > maxAge
            ? `is valid for ${expires - created} s, longer than the ${maxAge} s allowed`
            : undefined;
  if (why) throw refusal(401, 'ERR_AUTH_SIGNATURE_EXPIRED', `The signature ${why}.`);
}

/** Runs a wire reader, turning its AuthError into the 401 to answer. */
function read<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AuthError) throw refusal(401, e.code, e.message, e);
    throw refusal(401, 'ERR_AUTH_SIGNATURE_MALFORMED', 'The signature headers cannot be read.', e);
  }
}

async function checkBody(
  c: Context,
  hasDigestHeader: boolean,
  maxBody: number,
  subtle: SubtleCrypto,
): Promise<void> {
  const req = c.req.raw;
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (declared > maxBody) throw tooLarge(maxBody);
  const hasBody = req.body !== null && c.req.method !== 'GET' && c.req.method !== 'HEAD';
  const body = hasBody ? await readLimited(req.body!, maxBody) : new Uint8Array(0);
  // The stream is spent: the handler reads the same bytes from a fresh request.
  if (hasBody) c.req.raw = new Request(req, { body: body as BufferSource });
  if (!hasDigestHeader) {
    if (body.byteLength > 0)
      throw refusal(
        401,
        'ERR_AUTH_SIGNATURE_COVERAGE',
        'The request has a body but no Content-Digest covered by the signature.',
      );
    return;
  }
  const claimed = sha256OfContentDigest(req.headers.get('content-digest')!);
  const actual = new Uint8Array(await subtle.digest('SHA-256', body));
  if (!claimed || !sameBytes(claimed, actual))
    throw refusal(
      401,
      'ERR_AUTH_DIGEST_MISMATCH',
      claimed
        ? 'The body does not match its Content-Digest: it was changed after signing.'
        : 'Content-Digest must carry a sha-256 member (RFC 9530).',
    );
}

/**
 * The whole body, or 413 as soon as it passes `max` bytes: a chunked body declares no length, and
 * reading it all first would let a stranger's signed request fill memory before anything is judged.
 */
async function readLimited(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function tooLarge(max: number): HTTPException {
  return refusal(
    413,
    'ERR_AUTH_BODY_TOO_LARGE',
    `The body is larger than the ${max} bytes read to check a signed request.`,
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
