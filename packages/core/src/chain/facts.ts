/**
 * @module chain/facts — what the validator has learnt about one certificate object, in one record.
 *
 * One record per certificate, kept in the certificate's private memo slot (internal/memo.ts), not
 * in WeakMaps: V8 traces every WeakMap entry in each young-generation collection, and keeps the
 * values alive while it does, so each new peer's facts outlived it into the old generation. Every
 * fact is a pure function of the certificate's bytes, or (signatures) of those bytes and an issuer
 * key.
 */
import { memoOf } from '../internal/memo.js';
import type { PublicKeyInfo } from '../keys/public-key-info.js';
import type { Certificate } from '../x509/certificate.js';
import type { NameConstraints } from './name-constraints.js';
import type { Problem } from './profile.js';

/** The memoised facts of one certificate; `undefined` means "not worked out yet". */
export class Facts {
  /** hashBytes(der), the pool's bucket key. */
  derHash: number | undefined = undefined;
  /**
   * notBefore/notAfter in ms, read once (a Date stays mutable however the certificate is frozen);
   * NaN until read. Numbers on this record rather than an object of their own: see keep.ts.
   */
  from: number = NaN;
  until: number = NaN;
  /** When a pool last moved it to the back of its eviction order (that pool's insertion count). */
  usedAt = 0;
  /** A small number unique to this object, for result-cache keys. */
  id = 0;
  /** The normalised subject key (RFC 5280 §7.1). */
  subjectKey: string | undefined = undefined;
  selfIssued: boolean | undefined = undefined;
  /** Decoded nameConstraints, null if none, or why they are invalid. */
  constraints: NameConstraints | Error | null | undefined = undefined;
  /** The names name constraints are checked against (typed where they are built). */
  constrainedNames: readonly unknown[] | undefined = undefined;
  /** Profile verdicts by role: null is "no problem". */
  common: Problem | null | undefined = undefined;
  issuer: Problem | null | undefined = undefined;
  anchor: Problem | null | undefined = undefined;
  peerServer: Problem | null | undefined = undefined;
  peerClient: Problem | null | undefined = undefined;
  /**
   * Issuer keys that verified, and that refused, this certificate's signature (a handful at most).
   * Made with `Array.of`, not a literal: see keep.ts.
   */
  verifiedBy: PublicKeyInfo[] | undefined = undefined;
  refusedBy: PublicKeyInfo[] | undefined = undefined;
}

// For certificate objects our parser did not make (a caller's own, a lazy certificate).
const others = new WeakMap<object, Facts>();
const make = (): Facts => new Facts();

/** The facts record of `cert`, created empty on first use. */
export function factsOf(cert: Certificate): Facts {
  return memoOf(cert, others, make);
}
