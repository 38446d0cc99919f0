/**
 * @module chain/certificate-pool — a bounded map from certificate bytes to parsed certificates, so a
 * validator parses each distinct certificate once and can key its caches on object identity.
 */
import { equalBytes } from '../internal/bytes.js';
import { factsOf } from './facts.js';
import { keptCertificate } from './keep.js';
import { decodeCertificate, parseCertificate, type Certificate } from '../x509/certificate.js';

/** What validation APIs accept for a certificate: parsed, DER bytes, or PEM/base64 text. */
export type CertificateInput = Certificate | Uint8Array | string;

/**
 * A 32-bit FNV-style hash over every byte, four at a time: a bucket key only; hits are confirmed byte
 * for byte. Every byte counts, so certificates an attacker crafts alike still spread over buckets
 * unless they collide in full. (Byte at a time, it was a third of a cached validation's time.)
 */
export function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5 ^ b.length;
  const words = b.length >>> 2;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < words; i++) h = Math.imul(h ^ view.getUint32(i << 2, true), 0x01000193);
  for (let i = words << 2; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}

/** {@link hashBytes} of the certificate's DER, memoised per object. */
export function derHashOf(cert: Certificate): number {
  const f = factsOf(cert);
  return (f.derHash ??= hashBytes(cert.der));
}

/**
 * The certificate's validity as numbers, read once: `Date` objects stay mutable however the
 * certificate is frozen, and a caller changing `notAfter` on a shared certificate must not change
 * what later validations decide.
 */
export function validityOf(cert: Certificate): { readonly from: number; readonly until: number } {
  const f = factsOf(cert);
  if (Number.isNaN(f.from)) {
    f.from = cert.notBefore.getTime();
    f.until = cert.notAfter.getTime();
  }
  return f;
}

/** Freezes a parsed certificate's objects and arrays (typed arrays and dates cannot be frozen). */
function freezeDeep(v: unknown): void {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || v instanceof Date) return;
  if (Object.isFrozen(v)) return;
  Object.freeze(v);
  // Indexed and for-in walks: Object.values would allocate an array per object, every parse.
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) freezeDeep(v[i]);
  else for (const k in v) freezeDeep((v as Record<string, unknown>)[k]);
}

/** A certificate as the pool hands it out: frozen, with its validity captured. */
function sealed(cert: Certificate): Certificate {
  validityOf(cert);
  freezeDeep(cert);
  return cert;
}

let nextId = 1;

/**
 * How many certificates a pool keeps as parsed before it keeps copies (keep.ts): too few for V8 to
 * judge the parser's allocation sites by (it looks at a site once ~100 of its objects survive).
 */
const KEPT_AS_PARSED = 8;

/** A small number unique to this certificate object, for cache keys. */
export function idOf(cert: Certificate): number {
  const f = factsOf(cert);
  return f.id || (f.id = nextId++);
}

/** Bounded (least recently used goes first) parse cache keyed by exact DER. */
export class CertificatePool {
  readonly #buckets = new Map<number, Certificate[]>();
  readonly #limit: number;
  #size = 0;
  /** Certificates remembered so far: the clock of {@link #found}'s recency refresh. */
  #inserts = 0;
  // The hash of what peek() just saw, for the get() of the same buffer that follows it (a
  // handshake's peer): hashed once. Only the hash is remembered, never the answer: get() still
  // compares every byte, so a buffer rewritten in between is never mistaken for its old contents
  // (a stale hash only costs a cache miss). get() always clears it.
  #lastDer: Uint8Array | undefined;
  #lastHash = 0;
  // DER hashes of certificates offered and not remembered, one per slot.
  #seen: Uint32Array | undefined;

  constructor(limit: number) {
    this.#limit = Math.max(0, limit);
  }

  /** The remembered certificate with exactly these DER bytes, without parsing on a miss. */
  peek(der: Uint8Array): Certificate | undefined {
    return this.#buckets.get(this.#hash(der))?.find((c) => equalBytes(c.der, der));
  }

  /**
   * Like {@link peek}, but a hit counts as a use (it moves to the back of the eviction order): for
   * a caller that will use what it finds, and parse with {@link get} only on a miss.
   */
  recall(der: Uint8Array): Certificate | undefined {
    if (this.#limit === 0) return undefined;
    const h = this.#hash(der);
    const bucket = this.#buckets.get(h);
    return bucket && this.#found(h, bucket, der);
  }

  /**
   * Whether a certificate with these bytes, not remembered yet, should be: always while there is
   * room; once full, only when it was offered before, recently (this offer is recorded). A stream
   * of one-off certificates (new clients, a peer cycling keys, a hostile one) then neither evicts
   * those that return nor keeps parsed certificates alive for the garbage collector to move: with
   * every new peer remembered, that was most of a steady validation's cost. Offers live in a fixed
   * table of hashes, one per slot (a collision only admits early or late): no memory per offer.
   */
  admits(der: Uint8Array): boolean {
    return this.#size < this.#limit || this.#offeredBefore(der);
  }

  #offeredBefore(der: Uint8Array): boolean {
    if (this.#limit === 0) return true; // nothing is remembered anyway
    // Made on first use: a pool that never fills (a validator per call) never needs it.
    const seen = (this.#seen ??= new Uint32Array(
      2 ** Math.max(8, Math.ceil(Math.log2(this.#limit * 2))),
    ));
    const h = this.#hash(der);
    const slot = h & (seen.length - 1);
    const tag = (h | 1) >>> 0; // 0 is an empty slot
    if (seen[slot] === tag) return true;
    seen[slot] = tag;
    return false;
  }

  #found(h: number, bucket: Certificate[], der: Uint8Array): Certificate | undefined {
    for (const c of bucket)
      if (equalBytes(c.der, der)) {
        // Refresh recency (re-insert the bucket at the end of the map's order) unless it was
        // refreshed within the last quarter of the pool's insertions: it cannot be evicted for
        // another three quarters, and a handshake's intermediate, found on every validation, then
        // costs no map writes (with new peers not admitted, nothing is inserted at all).
        const f = factsOf(c);
        if (this.#inserts - f.usedAt > this.#limit >>> 2) {
          this.#buckets.delete(h);
          this.#buckets.set(h, bucket);
          f.usedAt = this.#inserts;
        }
        return c;
      }
    return undefined;
  }

  #hash(der: Uint8Array): number {
    if (der !== this.#lastDer) {
      this.#lastHash = hashBytes(der);
      this.#lastDer = der;
    }
    return this.#lastHash;
  }

  #forget(): void {
    this.#lastDer = undefined;
  }

  /**
   * The parsed certificate for `input`; parses it on a miss, and remembers it if `remember` is true,
   * or is `'if-admitted'` and {@link admits} says so. Throws parse errors.
   */
  get(input: CertificateInput, remember: boolean | 'if-admitted' = true): Certificate {
    if (typeof input === 'object' && !(input instanceof Uint8Array)) return input;
    // PEM or base64 text is decoded first (config-time input); DER goes straight to the cache.
    const der =
      input instanceof Uint8Array && input[0] === 0x30 ? input : parseCertificate(input).der;
    if (this.#limit === 0) return sealed(decodeCertificate(der));
    const h = this.#hash(der);
    const bucket = this.#buckets.get(h);
    const known = bucket && this.#found(h, bucket, der);
    const keep = !known && (remember === 'if-admitted' ? this.admits(der) : remember);
    this.#forget();
    if (known) return known;
    // Copy: callers may reuse their buffer (a socket's), and cached certificates must not change.
    const copy = der.slice();
    if (!keep) return sealed(decodeCertificate(copy));
    // What the pool keeps is its own copy of the parse (keep.ts), once it has kept a few: a
    // validator made for one call (its anchors, its one chain) pays for no copy.
    const parsed = decodeCertificate(copy);
    const cert = sealed(this.#inserts < KEPT_AS_PARSED ? parsed : keptCertificate(parsed));
    // Hashed afresh from the copy: a remembered hash may be of bytes the buffer no longer holds.
    const fresh = hashBytes(copy);
    const facts = factsOf(cert);
    facts.derHash = fresh;
    facts.usedAt = ++this.#inserts;
    const home = fresh === h ? bucket : this.#buckets.get(fresh);
    if (home) home.push(cert);
    else this.#buckets.set(fresh, [cert]);
    if (++this.#size > this.#limit) {
      const [oldest, list] = this.#buckets.entries().next().value!;
      this.#buckets.delete(oldest);
      this.#size -= list.length;
    }
    return cert;
  }
}
