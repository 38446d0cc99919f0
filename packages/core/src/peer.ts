/**
 * @module peer — the one marker runtime adapters share for "this connection's validated path".
 */

/**
 * The property key under which a runtime adapter (`@certified/node`'s listener, and whatever serves next)
 * keeps a connection's `ValidatedPath` on its socket, so middleware in another package — possibly another
 * copy of `@certified/core` — can read it without importing the adapter. `Symbol.for` makes it one key
 * across copies; declare it here and nowhere else.
 *
 * @example
 * ```ts
 * import { VALIDATED_PATH } from '@certified/core';
 * const path = (socket as { [VALIDATED_PATH]?: ValidatedPath })[VALIDATED_PATH];
 * ```
 */
export const VALIDATED_PATH: unique symbol = Symbol.for('@certified/node.peer') as never;

/**
 * A short description of a value for `TypeError` messages about caller bugs: never the value itself when
 * it could be large or secret.
 *
 * @example
 * ```ts
 * describeValue(new Uint8Array(3)); // 'Uint8Array(3)'
 * ```
 */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.byteLength})`;
  if (typeof v === 'object') return v.constructor?.name ?? 'an object';
  if (typeof v === 'string') return v.length > 40 ? 'a string' : JSON.stringify(v);
  return String(v);
}
