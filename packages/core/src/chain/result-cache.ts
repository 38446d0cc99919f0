/**
 * @module chain/result-cache — remembered answers: a repeat validation of the same inputs is answered
 * from here, frozen, until the path's earliest notAfter.
 */
import type { Certificate } from '../x509/certificate.js';
import { idOf } from './certificate-pool.js';
import type { PeerNameInput, ValidatePathInput, ValidatedPath, WorkDone } from './types.js';

interface CacheEntry {
  /** What a hit returns: frozen, `cached: true`, no work, fresh dates at every read. */
  readonly hit: ValidatedPath;
  readonly from: number;
  readonly until: number;
}

const NO_WORK: WorkDone = Object.freeze({
  candidates: 0,
  signatureChecks: 0,
  nameComparisons: 0,
  nameWork: 0,
});

let validFrom: (this: CachedPath) => Date;
let validUntil: (this: CachedPath) => Date;

/**
 * The answer every later hit on a result gets: one frozen object, whose `validFrom`/`validUntil`
 * are getters returning a new Date each time (a Date cannot be frozen, and a shared one could be
 * changed by one caller under the next). Made of copies, not of the result's own objects, which
 * the validation allocated: see keep.ts. A class with shared getters: an object literal with its
 * own getter closures, frozen, cost a cold validation ~5 µs.
 */
class CachedPath {
  readonly #from: number;
  readonly #until: number;
  // Declared, not initialised: the constructor sets them in a result's key order.
  declare readonly ok: true;
  declare readonly path: ValidatedPath['path'];
  declare readonly anchor: ValidatedPath['anchor'];
  declare readonly peer: ValidatedPath['peer'];
  declare readonly validFrom: Date;
  declare readonly validUntil: Date;
  declare readonly cached: true;
  declare readonly work: WorkDone;

  constructor(result: ValidatedPath, from: number, until: number) {
    const p = result.peer;
    this.ok = true;
    this.path = Object.freeze(result.path.slice());
    this.anchor = result.anchor;
    this.peer = Object.freeze({
      certificate: p.certificate,
      subject: p.subject,
      commonName: p.commonName,
      altNames: Object.freeze(p.altNames.slice()),
    });
    this.#from = from;
    this.#until = until;
    // Own, enumerable accessors, as a literal's getters were: spread and JSON see the dates.
    Object.defineProperty(this, 'validFrom', { get: validFrom, enumerable: true });
    Object.defineProperty(this, 'validUntil', { get: validUntil, enumerable: true });
    this.cached = true;
    this.work = NO_WORK;
    Object.freeze(this);
  }

  static {
    validFrom = function (this: CachedPath) {
      return new Date(this.#from);
    };
    validUntil = function (this: CachedPath) {
      return new Date(this.#until);
    };
  }
}

/** A string as `<length>:<string>`: read back unambiguously whatever it contains. */
const lp = (s: string): string => `${s.length}:${s}`;
const nameField = (n: PeerNameInput): string =>
  typeof n === 'string' ? `s${lp(n)}` : `o${lp(String(n?.type))}${lp(String(n?.value))}`;

/**
 * The result-cache key: the call's inputs as given, and the certificates by object identity. Every
 * caller-supplied string is length-prefixed, so no two different calls share a key (a name that
 * contains a separator cannot pose as two names).
 */
export function cacheKey(
  input: ValidatePathInput,
  maxDepth: number,
  peer: Certificate,
  presented: readonly Certificate[],
): string {
  let k = `${input.purpose}|${maxDepth}|${idOf(peer)}|`;
  for (const c of presented) k += `${idOf(c)},`;
  k += '|';
  if (input.peerName !== undefined) k += nameField(input.peerName);
  k += '|';
  for (const n of input.peerNames ?? []) k += nameField(n);
  k += '|';
  for (const e of input.requiredEkus ?? []) k += lp(e);
  k += '|';
  for (const u of input.requiredKeyUsages ?? []) k += lp(u);
  return k;
}

/** A bounded (oldest first out) map from {@link cacheKey} to accepted paths. */
export class ResultCache {
  readonly #entries = new Map<string, CacheEntry>();
  constructor(readonly size: number) {}

  /** The remembered answer for `key`, if `t` is inside its validity window. */
  get(key: string, t: number): ValidatedPath | undefined {
    const e = this.#entries.get(key);
    if (!e || e.from > t || t > e.until) return undefined;
    return e.hit;
  }

  /** Remembers an accepted path valid from `from` to `until` (ms). */
  set(key: string, result: ValidatedPath, from: number, until: number): void {
    if (this.size === 0) return;
    if (this.#entries.size >= this.size) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { hit: new CachedPath(result, from, until), from, until });
  }
}
