/**
 * @module nonce-cache — where `requireSignedRequest` remembers the nonces it has accepted, so a
 * replayed request is refused: a small port ({@link NonceCache}) and a bounded in-memory
 * implementation. A cluster of servers can share one by implementing the port over a shared store.
 */
import { describeValue } from '@certified/core';

/** What {@link NonceCache.claim} found: first use, a replay, or no room to remember it. */
export type NonceClaim = 'fresh' | 'replay' | 'full';

/**
 * Remembers nonces until their signature expires. `claim` must be atomic: of two concurrent claims of
 * one key, at most one is `fresh`.
 *
 * @example
 * const shared: NonceCache = { claim: (key, until) => redisSetNx(key, until) ? 'fresh' : 'replay' };
 * app.use(requireSignedRequest({ validator, nonces: shared }));
 */
export interface NonceCache {
  /**
   * Records `key` until `expiresAt` (milliseconds since the epoch), or says why it cannot.
   * @param key - the signer and its nonce; at most a few hundred characters.
   * @param expiresAt - after this instant the signature is refused anyway, so the key may be forgotten.
   */
  claim(key: string, expiresAt: number): NonceClaim | Promise<NonceClaim>;
}

/** Options for {@link createMemoryNonceCache}. */
export interface MemoryNonceCacheOptions {
  /** Most nonces held at once; when all are unexpired, new ones are refused (`full`). Default 100 000. */
  readonly maxEntries?: number;
  /** The clock, in milliseconds; default `Date.now`. */
  readonly now?: () => number;
}

/** The default number of nonces {@link createMemoryNonceCache} holds. */
export const DEFAULT_NONCE_CACHE_SIZE = 100_000;

/**
 * A {@link NonceCache} in this process's memory, bounded in size and time: an entry is dropped once
 * its signature has expired; when the cache is full of unexpired entries it answers `full` rather
 * than forget one (forgetting would let that request be replayed).
 *
 * @param options.maxEntries - most entries; default 100 000.
 * @param options.now - clock in ms; default `Date.now`.
 * @throws RangeError for a `maxEntries` that is not a positive integer.
 * @example
 * const nonces = createMemoryNonceCache({ maxEntries: 10_000 });
 * nonces.claim('AB:CD… n-1', Date.now() + 60_000); // 'fresh'
 * nonces.claim('AB:CD… n-1', Date.now() + 60_000); // 'replay'
 */
export function createMemoryNonceCache(
  options: MemoryNonceCacheOptions = {},
): NonceCache & { readonly size: number } {
  const max = options.maxEntries ?? DEFAULT_NONCE_CACHE_SIZE;
  if (!Number.isInteger(max) || max <= 0)
    throw new RangeError(
      `createMemoryNonceCache options.maxEntries must be a positive integer, received ${describeValue(max)}`,
    );
  const now = options.now ?? Date.now;
  const entries = new Map<string, number>();
  // When the earliest entry expires: sweeping before then would find nothing to drop.
  let nextExpiry = Infinity;
  const sweep = (t: number) => {
    if (t < nextExpiry) return;
    nextExpiry = Infinity;
    for (const [k, until] of entries)
      if (until < t) entries.delete(k);
      else if (until < nextExpiry) nextExpiry = until;
  };
  return {
    get size() {
      return entries.size;
    },
    claim(key, expiresAt) {
      const t = now();
      const seen = entries.get(key);
      if (seen !== undefined && seen >= t) return 'replay';
      if (seen === undefined && entries.size >= max) {
        sweep(t);
        if (entries.size >= max) return 'full';
      }
      entries.set(key, expiresAt);
      if (expiresAt < nextExpiry) nextExpiry = expiresAt;
      return 'fresh';
    },
  };
}
