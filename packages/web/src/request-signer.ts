/**
 * @module request-signer — signs `fetch` requests per RFC 9421 (HTTP Message Signatures, through
 * `http-message-sig`) with an identity's key, which may be non-extractable, and carries the
 * certificate chain in `Certified-Chain` so a server running `@certified/hono`'s
 * `requireSignedRequest()` can judge who signed.
 */
import { appendSignature, createSignature, type Signer } from 'http-message-sig';
import { serializeDictionary, serializeList, type Item } from 'structured-headers';
import {
  decodeCertificate,
  describeValue,
  fingerprint,
  type Certificate,
  type CryptoOptions,
} from '@certified/core';
import { clientCredentials, type Identity, type KnownService } from '@certified/identity';

/** Options for {@link createRequestSigner}. */
export interface RequestSignerOptions extends CryptoOptions {
  /** The signing key; non-extractable is fine (it is only used to sign). */
  readonly privateKey: CryptoKey;
  /** The signer's certificate first, then the certificates that lead to its signer. */
  readonly certificates: readonly (Certificate | Uint8Array)[];
  /** How long a signature is valid, in seconds (`expires` − `created`); default 60. */
  readonly lifetime?: number;
  /** The clock; default the current time. */
  readonly now?: () => Date;
}

/** Signs requests with one identity. */
export interface RequestSigner {
  /** The `keyid` it signs with: the SHA-256 fingerprint of its certificate (`AB:CD:…`). */
  readonly keyid: string;
  /** The RFC 9421 algorithm: `ed25519`, `ecdsa-p256-sha256` or `ecdsa-p384-sha384`. */
  readonly alg: string;
  /** A copy of `request` with `Certified-Chain`, `Content-Digest` (with a body), `Signature-Input` and `Signature`. */
  sign(request: Request): Promise<Request>;
  /** `fetch` with the request signed first. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

/** The signature label, chain header and algorithms `requireSignedRequest` expects. */
export const SIGNATURE_LABEL = 'certified';
const CHAIN_HEADER = 'certified-chain';
const ALGORITHMS: Readonly<
  Record<string, { alg: string; params: AlgorithmIdentifier | EcdsaParams }>
> = {
  Ed25519: { alg: 'ed25519', params: { name: 'Ed25519' } },
  'P-256': { alg: 'ecdsa-p256-sha256', params: { name: 'ECDSA', hash: 'SHA-256' } },
  'P-384': { alg: 'ecdsa-p384-sha384', params: { name: 'ECDSA', hash: 'SHA-384' } },
};

/**
 * A signer for `fetch` requests. Each signature covers `@method`, `@target-uri`, `certified-chain`
 * and, when there is a body, `content-digest` (RFC 9530, sha-256), with `created`, `expires`, a
 * random `nonce`, `keyid` and `alg`. ECDSA signatures are WebCrypto's raw `r‖s`, as RFC 9421 §3.3.4
 * wants.
 *
 * @param options.privateKey - the key of `certificates[0]`.
 * @param options.certificates - the chain to present, signer first.
 * @param options.lifetime - signature lifetime in seconds; default 60.
 * @param options.now - clock; default now. @param options.crypto - WebCrypto; default global.
 * @throws TypeError for bad options; ERR_ALG_UNSUPPORTED for a key type that cannot sign requests.
 * @example
 * const signer = createRequestSigner({ privateKey: me.id.privateKey, certificates: [me.id.certificate, me.signer.certificate] });
 * const res = await signer.fetch('https://127.0.0.1:8443/hello');
 */
export function createRequestSigner(options: RequestSignerOptions): RequestSigner {
  if (!options || typeof options !== 'object')
    throw new TypeError(`options must be an object, received ${describeValue(options)}`);
  const { privateKey, now = () => new Date() } = options;
  if (!privateKey || typeof privateKey !== 'object' || privateKey.type !== 'private')
    throw new TypeError(
      `options.privateKey must be a private CryptoKey, received ${describeValue(privateKey)}`,
    );
  if (!Array.isArray(options.certificates) || options.certificates.length === 0)
    throw new TypeError('options.certificates must list the signer’s certificate first');
  const lifetime = options.lifetime ?? 60;
  if (!Number.isInteger(lifetime) || lifetime <= 0)
    throw new RangeError(
      `options.lifetime must be a positive integer, received ${describeValue(lifetime)}`,
    );
  const certs = options.certificates.map((c) =>
    c instanceof Uint8Array ? decodeCertificate(c) : c,
  );
  const algorithm = ALGORITHMS[certs[0]!.publicKey.algorithm];
  if (!algorithm)
    throw new TypeError(
      `The certificate's ${certs[0]!.publicKey.algorithm} key cannot sign requests (Ed25519, P-256 or P-384).`,
    );
  const webCrypto = options.crypto ?? globalThis.crypto;
  const subtle = webCrypto.subtle;
  const keyid = fingerprint(certs[0]!);
  const chain = serializeList(
    certs.map((c): Item => [c.der as Uint8Array<ArrayBuffer>, new Map()]),
  );
  const signer: Signer = {
    algorithm: algorithm.alg,
    sign: async (data) =>
      new Uint8Array(await subtle.sign(algorithm.params, privateKey, data as BufferSource)),
  };

  async function sign(request: Request): Promise<Request> {
    const body =
      request.body === null ? undefined : new Uint8Array(await request.clone().arrayBuffer());
    const headers = new Headers(request.headers);
    headers.set(CHAIN_HEADER, chain);
    const hasBody = body !== undefined && body.byteLength > 0;
    if (hasBody) {
      const digest = await subtle.digest('SHA-256', body as BufferSource);
      headers.set('content-digest', serializeDictionary({ 'sha-256': [digest, new Map()] }));
    }
    const created = Math.floor(now().getTime() / 1000);
    // Only method, URL and fields are signed; a Request built from `request` would take its body.
    const unsigned = new Request(request.url, { method: request.method, headers });
    const fields = await createSignature(unsigned, {
      label: SIGNATURE_LABEL,
      components: ['@method', '@target-uri', CHAIN_HEADER, ...(hasBody ? ['content-digest'] : [])],
      parameters: {
        created,
        expires: created + lifetime,
        nonce: nonce(webCrypto),
        keyid,
        alg: algorithm!.alg,
      },
      signer,
    });
    return new Request(request, {
      headers: appendSignature(headers, fields),
      ...(body === undefined ? {} : { body: body as BufferSource }),
    });
  }

  return {
    keyid,
    alg: algorithm.alg,
    sign,
    async fetch(input, init) {
      return globalThis.fetch(await sign(new Request(input, init)));
    },
  };
}

/**
 * A signer for an identity: its key and the chain a service accepts (`clientCredentials`: a
 * signature from one of the service's `auths`, else our own chain).
 *
 * @param identity - a loaded identity (`loadIdentity`).
 * @param service - the service called, for its `auths`; default none (our own chain).
 * @example
 * const signer = requestSignerFor(await loadIdentity(store), await loadService(store, 'notes'));
 */
export function requestSignerFor(
  identity: Identity,
  service?: KnownService,
  options: Omit<RequestSignerOptions, 'privateKey' | 'certificates'> = {},
): RequestSigner {
  const { privateKey, certificates } = clientCredentials(identity, service);
  return createRequestSigner({ ...options, privateKey, certificates });
}

function nonce(webCrypto: Crypto): string {
  const bytes = webCrypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
