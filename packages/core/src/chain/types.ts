/**
 * @module chain/types — the validator's public shapes: inputs, results, budgets and limits.
 */
import type { PathAttempt, PathValidationCode } from '../errors.js';
import type { CryptoOptions } from '../keys/keys.js';
import type { Certificate } from '../x509/certificate.js';
import type { ExtendedKeyUsage, KeyUsage } from '../x509/extensions.js';
import type { GeneralName } from '../x509/general-name.js';
import type { Name } from '../x509/name.js';
import type { CertificateInput } from './certificate-pool.js';
import type { ValidationProfile } from './profile.js';

export type { CertificateInput } from './certificate-pool.js';
export type { ValidationProfile } from './profile.js';

/** What the peer is being trusted for: its EKU must allow it (`any` checks no purpose). */
export type ValidationPurpose = 'serverAuth' | 'clientAuth' | 'any';

/**
 * The name the peer must carry in its subjectAltName. A string is read as an IP address if it is
 * one, a mailbox if it has `@`, a URI if it has `://`, and a DNS name otherwise.
 */
export type PeerNameInput =
  string | { readonly type: 'dns' | 'ip' | 'email' | 'uri'; readonly value: string };

/** Limits on path building, so hostile input cannot make validation spin. */
export interface WorkBudget {
  /** Candidate issuers examined, over all paths tried. Default 1,000. */
  readonly maxCandidates: number;
  /** Signature verifications (cache hits, positive or negative, are free). Default 100. */
  readonly maxSignatureChecks: number;
  /** Name-constraint comparisons (names × subtrees of the same kind). Default 2^20. */
  readonly maxNameComparisons: number;
  /**
   * Name-constraint work: per comparison, one unit plus one per character (or address byte) of the
   * subtree compared — for a directoryName, of its normalised RDNs. Charged before comparing.
   * Default 2^18, a few milliseconds at most (see the README's "Limits").
   */
  readonly maxNameWork: number;
}

/** The work one validation did (all zero for a cache hit). */
export interface WorkDone {
  candidates: number;
  signatureChecks: number;
  nameComparisons: number;
  /** Name-constraint work units charged (see {@link WorkBudget.maxNameWork}). */
  nameWork: number;
}

/**
 * Size limits on what a peer presents and on the certificates a path may use. Anything over a limit
 * is refused with `ERR_CHAIN_TOO_LARGE` before it costs more than reading its length.
 */
export interface ValidationLimits {
  /** Certificates the peer presented, its own included. Default 16. */
  readonly maxChainCertificates: number;
  /** Bytes of DER the peer presented, its own certificate included. Default 65,536. */
  readonly maxChainBytes: number;
  /** subjectAltName entries in any certificate on a path. Default 1,024. */
  readonly maxSubjectAltNames: number;
  /** Permitted plus excluded subtrees in any nameConstraints on a path. Default 256. */
  readonly maxNameConstraintSubtrees: number;
}

/** The limits a validator applies unless told otherwise. */
export const DEFAULT_VALIDATION_LIMITS: ValidationLimits = Object.freeze({
  maxChainCertificates: 16,
  maxChainBytes: 65_536,
  maxSubjectAltNames: 1024,
  maxNameConstraintSubtrees: 256,
});

import type { CrlInput } from './revocation.js';

/** Options fixed for one trust context (a service, a client): anchors, profile, limits, cache. */
export interface PathValidatorOptions extends CryptoOptions {
  /**
   * Trust anchors: CA certificates, or end-entity certificates trusted directly (pinned). Anchors are
   * certificates, not bare keys, and their own rules apply: see the package README ("Anchors").
   */
  readonly anchors: readonly CertificateInput[];
  /** Untrusted intermediates the path builder may use for every validation. */
  readonly intermediates?: readonly CertificateInput[];
  /**
   * CRLs to check the path against: each certificate but the anchor is refused when a CRL its
   * issuer signed lists it (`ERR_CHAIN_REVOKED`), and when such a CRL cannot be relied on (out of
   * date, bad signature, …: `ERR_CHAIN_CRL_INVALID`). Complete v2 CRLs only; default none.
   */
  readonly crls?: readonly CrlInput[];
  /**
   * Whether a DNS name (lower case, A-labels) is a public suffix: `co.uk`, `github.io`. Given one, a
   * wildcard subjectAltName over a public suffix (`*.co.uk`) matches no peer name, as browsers
   * refuse it; without one, only wildcards over a single label (`*.com`) are refused.
   * `isPublicSuffix` from `@certified/core/public-suffix` reads the Public Suffix List (ICANN and
   * private sections). A predicate that throws counts as yes.
   *
   * @example
   * import { isPublicSuffix } from '@certified/core/public-suffix';
   * createPathValidator({ anchors, profile: 'webpki', publicSuffix: isPublicSuffix });
   */
  readonly publicSuffix?: (name: string) => boolean;
  /** Rule set; default `rfc5280`. */
  readonly profile?: ValidationProfile;
  /** Most intermediates (not counting self-issued ones) a path may have; default 8. */
  readonly maxDepth?: number;
  readonly budget?: Partial<WorkBudget>;
  /** Size limits; see {@link ValidationLimits} for the defaults. */
  readonly limits?: Partial<ValidationLimits>;
  /**
   * Validated paths remembered (and parsed certificates, twice as many); default 1,024; 0 disables.
   * Once full, a new peer is remembered only when it comes back (a second sighting, recently): a
   * stream of one-off peers evicts none that return.
   */
  readonly cacheSize?: number;
}

/** One validation: the peer, what it presented, and what it must be good for. */
export interface ValidatePathInput {
  /** The peer's certificate. */
  readonly peer: CertificateInput;
  /** The chain the peer presented; a leading copy of the peer is ignored. Order does not matter. */
  readonly chain?: readonly CertificateInput[];
  /** More untrusted intermediates for this validation only. */
  readonly intermediates?: readonly CertificateInput[];
  readonly purpose: ValidationPurpose;
  /** A name the peer must carry (e.g. the host a client connected to). */
  readonly peerName?: PeerNameInput;
  /** Several names the peer must all carry (e.g. a client's expected mailboxes). */
  readonly peerNames?: readonly PeerNameInput[];
  /** More EKUs every certificate with an extKeyUsage on the path must allow. */
  readonly requiredEkus?: readonly ExtendedKeyUsage[];
  /** keyUsage bits the peer must assert when it has a keyUsage extension. */
  readonly requiredKeyUsages?: readonly KeyUsage[];
  /** When to validate; default now. Compared at whole seconds, as certificates encode time. */
  readonly time?: Date;
  /** Overrides the validator's maxDepth for this call. */
  readonly maxDepth?: number;
}

/** Who the peer is, once validated: read identity from here, never from unvalidated bytes. */
export interface PeerIdentity {
  readonly certificate: Certificate;
  readonly subject: Name;
  readonly commonName: string | undefined;
  readonly altNames: readonly GeneralName[];
}

export interface ValidatedPath {
  readonly ok: true;
  /** The peer first, the anchor last (length 1 when the peer itself is a pinned anchor). */
  readonly path: readonly Certificate[];
  readonly anchor: Certificate;
  readonly peer: PeerIdentity;
  /** The span over which every certificate on the path is valid. */
  readonly validFrom: Date;
  readonly validUntil: Date;
  /** True when this answer came from the cache. */
  readonly cached: boolean;
  readonly work: WorkDone;
}

export interface PathRefused {
  readonly ok: false;
  readonly code: PathValidationCode;
  readonly message: string;
  /** Index of the failing certificate on its path (0 = the peer). */
  readonly certIndex: number;
  /** Each path tried and why it failed (at most 32 are kept). */
  readonly attempts: readonly PathAttempt[];
  readonly work: WorkDone;
}

export type ValidatePathResult = ValidatedPath | PathRefused;

/** A trust context: validate peers against fixed anchors, with caches shared across calls. */
export interface PathValidator {
  /** Resolves to a result; never rejects for untrusted input (only for caller bugs). */
  validate(input: ValidatePathInput): Promise<ValidatePathResult>;
  /** Like {@link validate}, but rejects with a {@link PathValidationError} when refused. */
  assertValid(input: ValidatePathInput): Promise<ValidatedPath>;
  readonly anchors: readonly Certificate[];
  readonly profile: ValidationProfile;
}
