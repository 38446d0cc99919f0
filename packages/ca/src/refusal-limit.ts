/**
 * @module refusal-limit — how much a caller that keeps being refused can make the CA do. Each refusal
 * costs a key derivation (static auth: PBKDF2, 100 000 iterations, tens of milliseconds) or a path
 * validation, and an audit row kept for the retention period; an unauthenticated client sending
 * them in a loop would keep the CA busy and grow its database without bound. So each source
 * address has a budget of refusals per minute (a token bucket); past it, requests are answered 429
 * `ERR_CA_RATE_LIMITED` before any of that work, and counted rather than each recorded.
 */

/** The limiter's view of one source. */
export interface RefusalLimiter {
  /** Whether `source` may be served now (false: over budget). */
  admit(source: string | undefined, now: number): boolean;
  /** Counts a refusal against `source`; true when this refusal used up its budget (say so once). */
  refused(source: string | undefined, now: number): boolean;
}

/** Options for {@link createRefusalLimiter}. */
export interface RefusalLimitOptions {
  /** Refusals a source may cause per minute (also the burst); 0 turns the limit off. */
  readonly perMinute: number;
  /** Sources remembered at once (oldest forgotten first); default 10 000. */
  readonly maxSources?: number;
}

/**
 * @example
 * const limiter = createRefusalLimiter({ perMinute: 60 });
 * if (!limiter.admit(ip, Date.now())) return tooMany();
 */
export function createRefusalLimiter(options: RefusalLimitOptions): RefusalLimiter {
  const rate = options.perMinute / 60_000;
  const max = options.maxSources ?? 10_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refill = (source: string, now: number) => {
    const b = buckets.get(source);
    if (!b) return { tokens: options.perMinute, at: now };
    return { tokens: Math.min(options.perMinute, b.tokens + (now - b.at) * rate), at: now };
  };
  return {
    admit(source, now) {
      if (options.perMinute <= 0 || source === undefined) return true;
      return refill(source, now).tokens >= 1;
    },
    refused(source, now) {
      if (options.perMinute <= 0 || source === undefined) return false;
      const b = refill(source, now);
      b.tokens -= 1;
      // Map order is insertion order: re-inserting keeps the most recent at the end.
      buckets.delete(source);
      buckets.set(source, b);
      if (buckets.size > max) buckets.delete(buckets.keys().next().value!);
      return b.tokens < 1;
    },
  };
}
