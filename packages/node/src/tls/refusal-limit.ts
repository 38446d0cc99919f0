/**
 * @module tls/refusal-limit — how many refused handshakes a client address may cause before its
 * connections are dropped at accept, before OpenSSL reads a byte. A chain of ~100 KB costs OpenSSL
 * ~20 ms of the server's one thread to parse, whatever we then decide, while it costs its sender
 * next to nothing to resend: without a limit, a few such clients keep everyone else waiting.
 * Not exported from the package; listeners take {@link RefusalLimitOptions}.
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * Refusals a client address may cause: a token bucket per address. A refusal costs one token per
 * started 4 KiB of certificates the client presented (what OpenSSL and we had to read), so a
 * client that keeps sending ~100 KB chains is turned away after one, while a misconfigured client
 * with an ordinary chain gets `burst` tries.
 */
export interface RefusalLimitOptions {
  /** Tokens an address may spend at once before its connections are dropped; default 10. */
  readonly burst?: number;
  /** Tokens per second an address earns back while it waits; default 0.5. */
  readonly perSecond?: number;
  /** Addresses remembered at once (the least recently refused is forgotten first); default 10,000. */
  readonly addresses?: number;
  /**
   * Connections one address may have that are not yet judged (still in the TLS handshake, or
   * awaiting our validator); more are dropped at accept, reported once as `ERR_NET_THROTTLED`.
   * A client that opens connections and never finishes the handshake spends no refusal until each
   * times out, while each holds a file descriptor. Default 128.
   */
  readonly handshakes?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A token bucket of refusals per client address (IPv6 by /64, IPv4-mapped addresses as IPv4). */
export class RefusalLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #max: number;
  /** {@link RefusalLimitOptions.handshakes}. */
  readonly handshakes: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  /** When the last address now below one token has earned it back (ms): after it, none is blocked. */
  #blockedUntil = -Infinity;

  constructor(options: RefusalLimitOptions = {}, now: () => number = Date.now) {
    this.#burst = positive(options.burst, 10, 'burst');
    this.#perMs = positive(options.perSecond, 0.5, 'perSecond') / 1000;
    this.#max = positive(options.addresses, 10_000, 'addresses');
    this.handshakes = positive(options.handshakes, 128, 'handshakes');
    if (!Number.isInteger(this.handshakes))
      throw new RangeError(
        `refusalLimit.handshakes must be a positive integer, received ${this.handshakes}`,
      );
    this.#now = now;
  }

  /**
   * Whether any address may be blocked now. When none can be, a listener need not ask the socket
   * for its address at all (a native call and an object per connection).
   */
  mayBlock(): boolean {
    // A millisecond of slack: floating-point refills may reach one token a hair after the estimate.
    return this.#now() <= this.#blockedUntil + 1;
  }

  /** Whether a new connection from `address` is to be dropped now. */
  blocked(address: string | undefined): boolean {
    if (address === undefined || this.#buckets.size === 0) return false;
    const bucket = this.#buckets.get(addressKey(address));
    return bucket !== undefined && this.#refill(bucket) < 1;
  }

  /**
   * Counts a refusal that cost `bytes` of presented certificates (0 when none were read); true
   * when it uses up the address's allowance, so that its connections are dropped from now on.
   */
  refused(address: string | undefined, bytes = 0): boolean {
    if (address === undefined) return false;
    const key = addressKey(address);
    let bucket = this.#buckets.get(key);
    if (bucket)
      this.#buckets.delete(key); // re-inserted last: most recently refused
    else {
      bucket = { tokens: this.#burst, at: this.#now() };
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(key, bucket);
    const before = this.#refill(bucket);
    bucket.tokens = Math.max(0, before - Math.max(1, Math.ceil(bytes / 4096)));
    if (bucket.tokens < 1)
      this.#blockedUntil = Math.max(
        this.#blockedUntil,
        bucket.at + (1 - bucket.tokens) / this.#perMs,
      );
    return before >= 1 && bucket.tokens < 1;
  }

  #refill(bucket: Bucket): number {
    const now = this.#now();
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    return bucket.tokens;
  }
}

/** The key an address is limited under: IPv4 as is, IPv6 by its /64 (one host's usual share). */
export function addressKey(address: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (v4 !== undefined) return v4;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // A trailing dotted IPv4 part stands for two groups.
  const width = (gs: string[]): number => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - width(left) - width(right)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new RangeError(`refusalLimit.${name} must be a positive number, received ${String(v)}`);
  return v;
}
