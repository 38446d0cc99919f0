/**
 * @module trust — where a middleware's validator and anchor labels come from (an option, a function,
 * or the trust `@certified/node`'s `serve()` passes as `c.env.trust`), the refusal response, and the
 * last steps both `requireClientCert` and `requireSignedRequest` take (refuse an untrusted path,
 * authorize the caller, put it on the context). Internal: not exported from the package.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import {
  AuthError,
  PathValidationError,
  describeValue,
  type AuthCode,
  type PathValidationCode,
  type PathValidator,
  type ValidatePathResult,
  type ValidatedPath,
} from '@certified/core';
import {
  buildPeer,
  indexAnchorLabels,
  type AnchorLabel,
  type AnchorNames,
  type CertificateSource,
  type CertifiedPeer,
} from './peer.js';

/** A validator option: one validator, or a function called per request. */
export type ValidatorOption =
  PathValidator | ((c: Context) => PathValidator | Promise<PathValidator>);
/** An anchors option: labels, or a function called per request. */
export type AnchorsOption = readonly AnchorLabel[] | ((c: Context) => readonly AnchorLabel[]);

/** The JSON body of a refusal (401, 403, 413 or 503). */
export interface CertifiedErrorBody {
  readonly error: { readonly code: AuthCode | PathValidationCode; readonly message: string };
}

/** What `@certified/node`'s `serve()` passes as `c.env.trust`: the trust in force right now. */
interface ServerTrust {
  readonly validator: PathValidator;
  readonly anchors: readonly AnchorLabel[];
}

function serverTrust(c: Context): ServerTrust | undefined {
  const env: unknown = c.env;
  const trust =
    env !== null && typeof env === 'object' ? (env as { trust?: unknown }).trust : undefined;
  return trust !== null &&
    typeof trust === 'object' &&
    isValidator((trust as ServerTrust).validator)
    ? (trust as ServerTrust)
    : undefined;
}

export function serverValidator(what: string): (c: Context) => Promise<PathValidator> {
  return (c) => {
    const trust = serverTrust(c);
    if (!trust)
      // An app bug, not the caller's: answered 500 by Hono, never 200.
      throw new TypeError(
        `${what} has no validator: pass options.validator, or serve the app with @certified/node's serve(), which provides its trust`,
      );
    return Promise.resolve(trust.validator);
  };
}

export function serverAnchors(c: Context): readonly AnchorLabel[] {
  return serverTrust(c)?.anchors ?? [];
}

export function validatorSource(
  v: ValidatorOption,
  what: string,
): (c: Context) => Promise<PathValidator> {
  if (typeof v === 'function')
    return async (c) => {
      const got = await v(c);
      if (!isValidator(got))
        throw new TypeError(
          `${what} options.validator() must return a PathValidator, received ${describeValue(got)}`,
        );
      return got;
    };
  if (!isValidator(v))
    throw new TypeError(
      `${what} options.validator must be a PathValidator (createPathValidator) or a function returning one, received ${describeValue(v)}`,
    );
  return () => Promise.resolve(v);
}

function isValidator(v: unknown): v is PathValidator {
  return v !== null && typeof v === 'object' && typeof (v as PathValidator).validate === 'function';
}

export function anchorSource(
  a: AnchorsOption | undefined,
  what: string,
): (c: Context) => AnchorNames | undefined {
  if (a === undefined) return () => undefined;
  if (typeof a === 'function') {
    // Indexed once per array returned, so a function returning a stored array costs nothing.
    const cache = new WeakMap<readonly AnchorLabel[], AnchorNames>();
    return (c) => {
      const labels = a(c);
      let names = cache.get(labels);
      if (!names) {
        names = indexAnchorLabels(labels, `${what} options.anchors()`);
        cache.set(labels, names);
      }
      return names;
    };
  }
  const names = indexAnchorLabels(a, `${what} options.anchors`);
  return () => names;
}

export function refusal(
  status: 401 | 403 | 413 | 503,
  code: AuthCode | PathValidationCode,
  message: string,
  cause?: unknown,
): HTTPException {
  const body: CertifiedErrorBody = { error: { code, message } };
  const res = new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', 'cache-control': 'no-store' },
  });
  return new HTTPException(status, {
    res,
    message,
    cause: cause ?? new AuthError(code as AuthCode, message),
  });
}

/** Throws the 401 for a chain the validator refused; narrows `result` to a validated path. */
export function assertTrusted(result: ValidatePathResult): asserts result is ValidatedPath {
  if (!result.ok)
    throw refusal(
      401,
      result.code,
      result.message,
      new PathValidationError(result.code, result.message, {
        certIndex: result.certIndex,
        attempts: result.attempts,
      }),
    );
}

/** Builds the caller, asks `authorize` (403 unless it says true), and sets `c.get('certified')`. */
export async function admitCaller(
  c: Context,
  path: ValidatedPath,
  source: CertificateSource,
  names: AnchorNames | undefined,
  authorize: ((peer: CertifiedPeer, c: Context) => boolean | Promise<boolean>) | undefined,
): Promise<void> {
  const caller = buildPeer(path, source, names);
  if (authorize && (await authorize(caller, c)) !== true)
    throw refusal(
      403,
      'ERR_AUTH_FORBIDDEN',
      `${caller.subject || 'The caller'} is not allowed to make this request.`,
    );
  c.set('certified', caller);
}
