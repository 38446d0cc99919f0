/**
 * @module signature-base — the verifying half of RFC 9421 that a certified signed request needs:
 * read one labelled signature from `Signature-Input`/`Signature` (parsed by `structured-headers`)
 * and build its signature base (§2.5) from the request.
 *
 * Why not `http-message-sig`'s `verifySignature()`, which signs for `@certified/web`: it snapshots
 * and re-validates every header character by character, so on its own it reaches only ~0.55× of one
 * raw signature check per request, below the 0.7× goal for the whole middleware (`npm run bench -w
 * @certified/hono` prints its row). `signature-base.test.ts` checks this module against it: the same
 * requests accepted, the same tampering refused, and RFC 9421's own test vectors.
 *
 * Deliberately narrow: components without parameters only — `@method`, `@target-uri`, `@authority`,
 * `@scheme`, `@path`, `@query` and header fields; signature parameters that are strings or integers.
 * Anything else is refused as unsupported rather than guessed at.
 */
import { AuthError } from '@certified/core';
import { parseDictionary } from 'structured-headers';

/** One signature read from the request, not yet verified. */
export interface SignatureCandidate {
  /** Covered components, in order (`@method`, `content-digest`, …). */
  readonly components: readonly string[];
  /** Signature parameters (`created`, `expires`, `nonce`, `keyid`, `alg`, …). */
  readonly parameters: Readonly<Record<string, string | number>>;
  /** The signature bytes. */
  readonly signature: Uint8Array;
  /** The value of the base's `@signature-params` line: the covered list and parameters, serialized. */
  readonly signatureParams: string;
}

/** What the base is built from: the request as the signer saw it. */
export interface SignedMessage {
  readonly method: string;
  /** Absolute URI the client signed (`@target-uri`). */
  readonly targetUri: string;
  /** Fetch `Headers`, which already trims each value and joins repeated fields with `, `. */
  readonly headers: Headers;
}

/** Most components one signature may cover: a stranger's list costs work before any check. */
export const MAX_COMPONENTS = 32;
const DERIVED = new Set(['@method', '@target-uri', '@authority', '@scheme', '@path', '@query']);
// RFC 9110 field names (tokens), lowercase as RFC 9421 §2.1 requires in identifiers.
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
// Field content the signer could have signed as the same bytes: visible ASCII, space and tab.
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * Reads the signature labelled `label`.
 * @throws AuthError ERR_AUTH_SIGNATURE_MISSING (no such label), ERR_AUTH_SIGNATURE_MALFORMED
 *   (unreadable fields, or a component or parameter this verifier does not support).
 */
export function readSignature(headers: Headers, label: string): SignatureCandidate {
  const inputValue = headers.get('signature-input');
  const signatureValue = headers.get('signature');
  if (inputValue === null || signatureValue === null) throw missing(label);
  let input, signatures;
  try {
    input = parseDictionary(inputValue).get(label);
    signatures = parseDictionary(signatureValue).get(label);
  } catch (e) {
    throw malformed('The signature headers cannot be read (RFC 8941 dictionaries).', e);
  }
  if (input === undefined || signatures === undefined) throw missing(label);
  if (!Array.isArray(input[0]))
    throw malformed(`Signature-Input's ${label} member must be an inner list of components.`);
  if (!(signatures[0] instanceof ArrayBuffer))
    throw malformed(`Signature's ${label} member must be a byte sequence.`);

  if (input[0].length > MAX_COMPONENTS)
    throw malformed(
      `The signature covers ${input[0].length} components; at most ${MAX_COMPONENTS} are read.`,
    );
  const components: string[] = [];
  const seen = new Set<string>();
  for (const [name, params] of input[0]) {
    if (typeof name !== 'string')
      throw malformed('Every covered component must be a string naming it.');
    if (params.size > 0)
      throw malformed(
        `The component ${JSON.stringify(name)} has parameters (${[...params.keys()].join(', ')}), which this server does not support.`,
      );
    if (!DERIVED.has(name) && !FIELD_NAME.test(name))
      throw malformed(
        `The component ${JSON.stringify(name)} is not supported: use @method, @target-uri, @authority, @scheme, @path, @query or a lowercase header name.`,
      );
    if (seen.has(name)) throw malformed(`The component ${JSON.stringify(name)} is covered twice.`);
    seen.add(name);
    components.push(name);
  }
  const parameters: Record<string, string | number> = {};
  for (const [key, value] of input[1]) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value)))
      throw malformed(`The signature parameter ${key} must be a string or an integer.`);
    parameters[key] = value;
  }
  return {
    components,
    parameters,
    signature: new Uint8Array(signatures[0]),
    signatureParams: serializeSignatureParams(components, parameters),
  };
}

/**
 * The signature base (RFC 9421 §2.5) of `candidate` over `message`, as bytes to verify.
 * @throws AuthError ERR_AUTH_SIGNATURE_COVERAGE (a covered header the request lacks),
 *   ERR_AUTH_SIGNATURE_MALFORMED (a value that is not ASCII, a target URI that is not absolute).
 */
export function signatureBase(message: SignedMessage, candidate: SignatureCandidate): Uint8Array {
  let base = '';
  let url: URL | undefined;
  for (const name of candidate.components) {
    let value: string;
    if (name === '@method') value = message.method;
    else if (name === '@target-uri') value = message.targetUri;
    else if (name.startsWith('@'))
      value = derived(name, message.targetUri, (url ??= absolute(message.targetUri)));
    else {
      const field = message.headers.get(name);
      if (field === null)
        throw new AuthError(
          'ERR_AUTH_SIGNATURE_COVERAGE',
          `The signature covers the ${name} header, which the request does not have.`,
        );
      if (!FIELD_VALUE.test(field))
        throw malformed(`The ${name} header is not ASCII, so its signed bytes are ambiguous.`);
      value = field;
    }
    base += `"${name}": ${value}\n`;
  }
  base += `"@signature-params": ${candidate.signatureParams}`;
  return new TextEncoder().encode(base);
}

/**
 * RFC 8941 §4.1.1.2 serialization of a signature's inner list, for the shapes {@link readSignature}
 * admits (string items; string and integer parameters): the text `structured-headers`'
 * `serializeInnerList` gives (the test compares them), without its per-item type dispatch, which
 * costs about as much as the rest of reading the signature.
 */
export function serializeSignatureParams(
  components: readonly string[],
  parameters: Readonly<Record<string, string | number>>,
): string {
  let out = `(${components.map(sfString).join(' ')})`;
  for (const key of Object.keys(parameters)) {
    const value = parameters[key]!;
    out += `;${key}=${typeof value === 'number' ? String(value) : sfString(value)}`;
  }
  return out;
}

// --- internal ---

const sfString = (s: string): string => `"${s.replace(/[\\"]/g, '\\$&')}"`;

function derived(name: string, target: string, url: URL): string {
  if (name === '@authority') return url.host; // lowercase, default port omitted (§2.2.3)
  if (name === '@scheme') return url.protocol.slice(0, -1);
  // @path and @query as the client wrote them, not as URL normalises them.
  const afterScheme = target.indexOf('://') + 3;
  const queryAt = target.indexOf('?', afterScheme);
  const end = queryAt === -1 ? target.length : queryAt;
  if (name === '@query') return queryAt === -1 ? '?' : target.slice(queryAt);
  const pathAt = target.indexOf('/', afterScheme);
  return pathAt === -1 || pathAt > end ? '/' : target.slice(pathAt, end);
}

function absolute(target: string): URL {
  try {
    const url = new URL(target);
    if (target.indexOf('://') !== -1) return url;
  } catch {
    // refused below
  }
  throw malformed(`The target URI ${JSON.stringify(target)} is not an absolute http(s) URI.`);
}

function missing(label: string): AuthError {
  return new AuthError(
    'ERR_AUTH_SIGNATURE_MISSING',
    `The request has no signature labelled ${label} (Signature and Signature-Input).`,
  );
}

function malformed(message: string, cause?: unknown): AuthError {
  return new AuthError('ERR_AUTH_SIGNATURE_MALFORMED', message, cause ? { cause } : {});
}
