/**
 * @module @certified/hono/conninfo/bun — connection info under `Bun.serve({ fetch: app.fetch })`,
 * whose handler's second argument (`c.env`) is the Server with `requestIP(request)`. Bun.serve does
 * not expose the client's certificate: authenticate there through a trusted proxy's header.
 */
import type { Context } from 'hono';
import { attempt, remoteOf, type CertifiedConnInfo } from './types.js';

/**
 * What `Bun.serve` says about a request's connection.
 *
 * @example
 * ```ts
 * import { getConnInfo } from '@certified/hono/conninfo/bun';
 * app.get('/', (c) => c.text(getConnInfo(c).remote.address ?? 'unknown'));
 * ```
 */
export function getConnInfo(c: Context): CertifiedConnInfo {
  const env = attempt(() => c.env as { requestIP?: unknown } | undefined);
  const info = attempt(() =>
    env && typeof env.requestIP === 'function'
      ? // Bun checks `this` is its server: call it as a method.
        (env.requestIP as (r: Request) => { address?: unknown; port?: unknown } | null).call(
          env,
          c.req.raw,
        )
      : undefined,
  );
  if (!info || typeof info !== 'object') return { remote: {} };
  return { remote: remoteOf(info.address, info.port) };
}
