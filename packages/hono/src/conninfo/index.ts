/**
 * @module @certified/hono/conninfo — connection info on whichever runtime serves the request: tries
 * Node's (`node:http`, also on Deno and Bun), then `Deno.serve`'s, then `Bun.serve`'s. Import a
 * runtime's own module (`@certified/hono/conninfo/node`, `/deno`, `/bun`) when you know it.
 */
import type { Context } from 'hono';
import { getConnInfo as bun } from './bun.js';
import { getConnInfo as deno } from './deno.js';
import { getConnInfo as node } from './node.js';
import type { CertifiedConnInfo } from './types.js';

export type { CertifiedConnInfo, GetConnInfo } from './types.js';

/**
 * Connection info from the first runtime adapter that recognises the request (Node, Deno, Bun);
 * `{ remote: {} }` where none does (edge runtimes, `app.request` in tests).
 *
 * @example
 * ```ts
 * import { getConnInfo } from '@certified/hono/conninfo';
 * app.get('/ip', (c) => c.text(getConnInfo(c).remote.address ?? 'unknown'));
 * ```
 */
export function getConnInfo(c: Context): CertifiedConnInfo {
  const fromNode = node(c);
  if (fromNode.remote.address !== undefined || fromNode.tls) return fromNode;
  const fromDeno = deno(c);
  if (fromDeno.remote.address !== undefined) return fromDeno;
  return bun(c);
}
