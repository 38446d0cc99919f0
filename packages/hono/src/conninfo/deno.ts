/**
 * @module @certified/hono/conninfo/deno — connection info under `Deno.serve(app.fetch)`, whose
 * handler's second argument (`c.env`) is `ServeHandlerInfo` with `remoteAddr`. Deno.serve does not
 * expose the client's certificate: authenticate there through a trusted proxy's header.
 */
import type { Context } from 'hono';
import { attempt, remoteOf, type CertifiedConnInfo } from './types.js';

/**
 * What `Deno.serve` says about a request's connection.
 *
 * @example
 * ```ts
 * import { getConnInfo } from '@certified/hono/conninfo/deno';
 * app.get('/', (c) => c.text(getConnInfo(c).remote.address ?? 'unknown'));
 * ```
 */
export function getConnInfo(c: Context): CertifiedConnInfo {
  const addr = attempt(
    () => (c.env as { remoteAddr?: { hostname?: unknown; port?: unknown } }).remoteAddr,
  );
  if (!addr || typeof addr !== 'object') return { remote: {} };
  return {
    remote: remoteOf(
      attempt(() => addr.hostname),
      attempt(() => addr.port),
    ),
  };
}
