/**
 * @module chain/validate-path — our own certification path validation (RFC 5280 §6 plus WebPKI
 * hardening): path building with backtracking and a work budget, per-context trust anchors (CA or
 * pinned end-entity certificates), name constraints, EKU chaining, peer-name matching, and a cache
 * that makes revalidating a known chain nearly free until its earliest notAfter.
 */
import {
  AlgorithmUnsupported,
  CertificateMalformed,
  CertifiedError,
  PathValidationError,
  type PathAttempt,
  type PathValidationCode,
} from '../errors.js';
import { equalBytes } from '../internal/bytes.js';
import { bytesOf, Cursor, TAG } from '../internal/der.js';
import { EKU, OID } from '../internal/oids.js';
import { subtleOf, type CryptoOptions } from '../keys/keys.js';
import type { PublicKeyInfo } from '../keys/public-key-info.js';
import type { Certificate } from '../x509/certificate.js';
import {
  decodeAuthorityKeyIdentifier,
  decodeExtensions,
  ekuOid,
  type ExtendedKeyUsage,
  type KeyUsage,
} from '../x509/extensions.js';
import type { GeneralName } from '../x509/general-name.js';
import { commonNameOf, formatName, nameKey, type Name } from '../x509/name.js';
import {
  decodeSigned,
  prepareVerifyKey,
  verifyX509Signature,
  type AlgorithmIdentifier,
} from '../x509/signature.js';
import {
  CertificatePool,
  derHashOf,
  hashBytes,
  idOf,
  validityOf,
  type CertificateInput,
} from './certificate-pool.js';
import {
  checkNames,
  comparisonCount,
  constrainedNames,
  constraintWork,
} from './name-constraints.js';
import { canonicalIp, matchesDnsName, parseMailbox, referenceHost } from './names.js';
import {
  asIssuer,
  asPeer,
  missingEku,
  nameConstraintsOf,
  isSelfIssued,
  subjectKeyOf,
  type Problem,
  type ValidationProfile,
} from './profile.js';

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

/** Options fixed for one trust context (a service, a client): anchors, profile, limits, cache. */
export interface PathValidatorOptions extends CryptoOptions {
  /**
   * Trust anchors: CA certificates, or end-entity certificates trusted directly (pinned). Anchors are
   * certificates, not bare keys, and their own rules apply: see the package README ("Anchors").
   */
  readonly anchors: readonly CertificateInput[];
  /** Untrusted intermediates the path builder may use for every validation. */
  readonly intermediates?: readonly CertificateInput[];
  /** Rule set; default `rfc5280`. */
  readonly profile?: ValidationProfile;
  /** Most intermediates (not counting self-issued ones) a path may have; default 8. */
  readonly maxDepth?: number;
  readonly budget?: Partial<WorkBudget>;
  /** Size limits; see {@link ValidationLimits} for the defaults. */
  readonly limits?: Partial<ValidationLimits>;
  /** Validated paths remembered (and parsed certificates, twice as many); default 1,024; 0 disables. */
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

const DEFAULT_BUDGET: WorkBudget = {
  maxCandidates: 1000,
  maxSignatureChecks: 100,
  maxNameComparisons: 1 << 20,
  maxNameWork: 1 << 18,
};
const MAX_ATTEMPTS_KEPT = 32;

type PeerName = { type: 'dns' | 'ip' | 'email' | 'uri'; value: string };

class BudgetExceeded extends Error {}

function normalisePeerName(n: PeerNameInput): PeerName {
  if (typeof n === 'string') {
    if (canonicalIp(n) !== undefined) return { type: 'ip', value: n };
    if (n.includes('://')) return { type: 'uri', value: n };
    if (n.includes('@')) return { type: 'email', value: n };
    return { type: 'dns', value: n };
  }
  if (typeof n !== 'object' || n === null || typeof n.value !== 'string')
    throw new TypeError(`peerName must be a string or { type, value }, received ${String(n)}`);
  if (!['dns', 'ip', 'email', 'uri'].includes(n.type))
    throw new TypeError(`peerName.type must be dns, ip, email or uri, received ${String(n.type)}`);
  return { type: n.type, value: n.value };
}

/** True when `cert` carries `name` (RFC 6125 DNS wildcards, IP exact, email, URI); no commonName fallback. */
export function matchesPeerName(cert: Certificate, name: PeerNameInput): boolean {
  return peerNameProblem(cert, normalisePeerName(name)) === undefined;
}

/** Why `cert` does not carry `name`, or undefined when it does. Never falls back to the commonName. */
function peerNameProblem(cert: Certificate, name: PeerName): string | undefined {
  const sans = cert.subjectAltNames ?? [];
  switch (name.type) {
    case 'dns': {
      const host = referenceHost(name.value);
      if (host === undefined)
        return `the expected name ${JSON.stringify(name.value)} is not a valid DNS name`;
      if (sans.some((g) => g.type === 'dns' && matchesDnsName(g.value, host))) return undefined;
      break;
    }
    case 'ip': {
      const ip = canonicalIp(name.value);
      if (ip === undefined)
        return `the expected address ${JSON.stringify(name.value)} is not an IP address`;
      if (sans.some((g) => g.type === 'ip' && g.value === ip)) return undefined;
      break;
    }
    case 'email': {
      const m = parseMailbox(name.value);
      if (!m) return `the expected mailbox ${JSON.stringify(name.value)} is malformed`;
      for (const g of sans) {
        if (g.type !== 'email') continue;
        const s = parseMailbox(g.value);
        if (s && s.local === m.local && s.domain === m.domain) return undefined;
      }
      break;
    }
    case 'uri':
      if (sans.some((g) => g.type === 'uri' && g.value === name.value)) return undefined;
      break;
  }
  return `it does not carry the ${name.type === 'dns' ? 'DNS name' : name.type === 'ip' ? 'IP address' : name.type === 'email' ? 'mailbox' : 'URI'} ${JSON.stringify(name.value)} in its subjectAltName`;
}

const subjectText = (c: Certificate): string => {
  try {
    return formatName(c.subject) || '(empty subject)';
  } catch {
    return '(unprintable subject)';
  }
};

interface CacheEntry {
  /** What a hit returns: frozen, `cached: true`, no work, and fresh dates at every read. */
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

/**
 * The answer every later hit on `result` gets: one frozen object, whose `validFrom`/`validUntil`
 * are getters returning a new Date each time (a Date cannot be frozen, and a shared one could be
 * changed by one caller under the next).
 */
function cachedCopy(result: ValidatedPath, from: number, until: number): ValidatedPath {
  const hit = {
    ok: true as const,
    path: result.path,
    anchor: result.anchor,
    peer: result.peer,
    get validFrom(): Date {
      return new Date(from);
    },
    get validUntil(): Date {
      return new Date(until);
    },
    cached: true,
    work: NO_WORK,
  };
  return Object.freeze(hit);
}

/**
 * Signature results, keyed by the exact child and issuer-key objects: pure functions of bytes, so a
 * failure is remembered too (a hostile chain cannot make us verify the same pair twice).
 */
const verified = new WeakMap<Certificate, WeakSet<PublicKeyInfo>>();
const refusedBy = new WeakMap<Certificate, WeakSet<PublicKeyInfo>>();
const verifiedBy = (c: Certificate): boolean => verified.has(c);
const remember = (
  m: WeakMap<Certificate, WeakSet<PublicKeyInfo>>,
  c: Certificate,
  k: PublicKeyInfo,
): void => {
  let set = m.get(c);
  if (!set) m.set(c, (set = new WeakSet()));
  set.add(k);
};

const PURPOSE_OID: Readonly<Record<ValidationPurpose, string | undefined>> = {
  serverAuth: EKU.serverAuth,
  clientAuth: EKU.clientAuth,
  any: undefined,
};

/**
 * Creates a validator for one trust context. Build it once (anchors are parsed and indexed here)
 * and call `validate` per handshake: repeat validations hit the cache, and a new peer under a known
 * intermediate costs one signature verification.
 *
 * @throws A parse error (`ERR_CERT_MALFORMED`, …) if an anchor or configured intermediate is unreadable;
 *   `TypeError`/`RangeError` for bad options.
 * @example
 * const validator = createPathValidator({ anchors: [caPem] });
 * const r = await validator.validate({ peer: leafDer, chain, purpose: 'serverAuth', peerName: 'api.example.com' });
 * if (!r.ok) console.error(r.code, r.message);
 */
export function createPathValidator(options: PathValidatorOptions): PathValidator {
  if (!options || !Array.isArray(options.anchors))
    throw new TypeError('anchors must be an array of certificates');
  const profile = options.profile ?? 'rfc5280';
  if (profile !== 'rfc5280' && profile !== 'webpki')
    throw new TypeError(`profile must be 'rfc5280' or 'webpki', received ${String(profile)}`);
  const defaultDepth = checkDepth(options.maxDepth ?? 8);
  const budget: WorkBudget = { ...DEFAULT_BUDGET, ...options.budget };
  for (const [k, v] of Object.entries(budget))
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`budget.${k} must be a non-negative integer, received ${v}`);
  const limits: ValidationLimits = { ...DEFAULT_VALIDATION_LIMITS, ...options.limits };
  for (const [k, v] of Object.entries(limits))
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`limits.${k} must be a positive integer, received ${v}`);
  const cacheSize = options.cacheSize ?? 1024;
  if (!Number.isInteger(cacheSize) || cacheSize < 0)
    throw new RangeError(`cacheSize must be a non-negative integer, received ${cacheSize}`);
  const subtle = subtleOf(options);
  const pool = new CertificatePool(cacheSize * 2);

  const anchors = dedupe(options.anchors.map((a) => pool.get(a)));
  for (const a of anchors) prepareVerifyKey(a.publicKey, subtle);
  const anchorDer = new Map<number, Certificate[]>();
  for (const a of anchors) push(anchorDer, derHashOf(a), a);
  const anchorSet = new Set(anchors);
  const isAnchorDer = (c: Certificate): Certificate | undefined => {
    if (anchorSet.has(c)) return c;
    return anchorDer.get(derHashOf(c))?.find((a) => equalBytes(a.der, c.der));
  };
  // Configured intermediates that are also anchors are anchors only.
  const configured = dedupe((options.intermediates ?? []).map((c) => pool.get(c))).filter(
    (c) => !isAnchorDer(c),
  );
  const anchorBySubject = indexBySubject(anchors);
  const configuredBySubject = indexBySubject(configured);

  const results = new Map<string, CacheEntry>();

  /**
   * For DER not yet seen whose issuer name is already known (remembered by its bytes) and matched
   * by exactly one usable CA among the presented chain, configured intermediates and anchors: start
   * verifying the signature. The full parse that follows covers the same bytes, synchronously.
   */
  function earlyVerify(
    der: Uint8Array,
    chain: readonly CertificateInput[] | undefined,
  ): { key: PublicKeyInfo; ok: Promise<boolean> } | undefined {
    if (der[0] !== 0x30 || pool.peek(der)) return undefined;
    let light: ReturnType<typeof lightRead>;
    try {
      light = lightRead(der);
    } catch {
      return undefined; // the full parse reports it
    }
    const known = issuerKeys
      .get(hashBytes(light.issuerDer))
      ?.find((e) => equalBytes(e.der, light.issuerDer));
    if (!known || !light.kid) return undefined;
    const matches: [Certificate, boolean][] = [];
    for (const c of chain ?? []) {
      const cert = c instanceof Uint8Array && c[0] === 0x30 ? pool.peek(c) : undefined;
      if (cert && subjectKeyOf(cert) === known.key) matches.push([cert, !!isAnchorDer(cert)]);
    }
    for (const a of anchorBySubject.get(known.key) ?? []) matches.push([a, true]);
    for (const c of configuredBySubject.get(known.key) ?? []) matches.push([c, false]);
    const fitting = matches.filter(
      ([c]) => c.subjectKeyIdentifier && equalBytes(c.subjectKeyIdentifier, light.kid!),
    );
    if (fitting.length !== 1 || asIssuer(fitting[0]![0], fitting[0]![1])) return undefined;
    const issuer = fitting[0]![0];
    const ok = verifyX509Signature(
      issuer.publicKey,
      light.signatureAlgorithm,
      light.tbs,
      light.signature,
      subtle,
    );
    ok.catch(() => undefined);
    return { key: issuer.publicKey, ok };
  }

  // Normalised issuer names, remembered by their DER: every leaf under one CA repeats the same bytes.
  const issuerKeys = new Map<number, { der: Uint8Array; key: string }[]>();
  const issuerKeyOf = (c: Certificate): string => {
    const h = hashBytes(c.issuerDer);
    const hit = issuerKeys.get(h)?.find((e) => equalBytes(e.der, c.issuerDer));
    if (hit) return hit.key;
    const key = equalBytes(c.issuerDer, c.subjectDer) ? subjectKeyOf(c) : nameKey(c.issuer);
    if (issuerKeys.size >= 256) issuerKeys.delete(issuerKeys.keys().next().value!);
    push(issuerKeys, h, { der: c.issuerDer.slice(), key });
    return key;
  };

  async function validate(input: ValidatePathInput): Promise<ValidatePathResult> {
    if (!input || typeof input !== 'object') throw new TypeError('validate needs an input object');
    if (!Object.hasOwn(PURPOSE_OID, input.purpose))
      throw new TypeError(
        `purpose must be 'serverAuth', 'clientAuth' or 'any', received ${String(input.purpose)}`,
      );
    const time = input.time ?? new Date();
    if (!(time instanceof Date) || Number.isNaN(time.getTime()))
      throw new TypeError('time must be a valid Date');
    // Certificates carry whole seconds; compare at that granularity (RFC 5280 §4.1.2.5, limbo notafter-fractional).
    const t = Math.floor(time.getTime() / 1000) * 1000;
    const maxDepth = input.maxDepth === undefined ? defaultDepth : checkDepth(input.maxDepth);
    const work: WorkDone = { candidates: 0, signatureChecks: 0, nameComparisons: 0, nameWork: 0 };

    // Sizes first: what the peer sent is refused before it is parsed when it is too much.
    const oversize = presentedSizeProblem(input.peer, input.chain, limits);
    if (oversize) return refuse('ERR_CHAIN_TOO_LARGE', oversize, 0, [], work);

    // A new peer under a known issuer (the handshake case): start verifying its signature from a
    // light read of its bytes, before the full parse, so the threadpool works while we parse.
    const early =
      cacheSize > 0 && budget.maxSignatureChecks > 0 && input.peer instanceof Uint8Array
        ? earlyVerify(input.peer, input.chain)
        : undefined;

    let peer: Certificate;
    try {
      peer = pool.get(input.peer);
    } catch (e) {
      const msg = e instanceof CertifiedError ? `${e.code}: ${e.message}` : String(e);
      return refuse(
        'ERR_CHAIN_PEER_MALFORMED',
        `The peer certificate cannot be read (${msg}).`,
        0,
        [],
        work,
      );
    }
    // Presented certificates that cannot be parsed are skipped: they cannot be on any path we accept.
    const presented: Certificate[] = [];
    const seen = new Map<number, Certificate[]>();
    for (const list of [input.chain ?? [], input.intermediates ?? []])
      for (const c of list) {
        try {
          const cert = pool.get(c);
          // Duplicates are dropped by bytes: with caching off, copies parse to distinct objects.
          if (sameDer(cert, peer) || isAnchorDer(cert)) continue;
          const h = derHashOf(cert);
          const same = seen.get(h);
          if (same?.some((p) => sameDer(p, cert))) continue;
          push(seen, h, cert);
          presented.push(cert);
        } catch {
          /* unreadable: not a candidate */
        }
      }

    // Keyed on the inputs as given (a hit means an identical, valid call was answered before), so
    // nothing is normalised before the lookup: a warm validation stays cheap.
    const key = cacheSize === 0 ? '' : cacheKey(input, maxDepth, peer, presented);
    if (cacheSize > 0) {
      const hit = results.get(key);
      if (hit && hit.from <= t && t <= hit.until) return hit.hit;
    }

    const attempts: PathAttempt[] = [];
    let dropped = 0;
    const fail = (path: readonly Certificate[], p: Problem, certIndex: number): void => {
      if (attempts.length >= MAX_ATTEMPTS_KEPT) {
        dropped++;
        return;
      }
      const who = path[certIndex]!;
      attempts.push({
        path: path.map(subjectText),
        code: p.code,
        message: `${certIndex === 0 ? 'The peer certificate' : `Certificate ${certIndex} (${subjectText(who)})`}: ${p.message}.`,
        certIndex,
      });
    };

    // Start verifying the peer's signature under its likeliest issuer now, so the threadpool works
    // while the peer's own checks run on this thread; the search below picks the result up.
    // Start verifying the likeliest path's signatures now (at most two links), so the threadpool
    // works while the peer's own checks run here; the search below picks the results up. Links are
    // dispatched top down: the upper one's key is usually imported already (an anchor's is
    // prepared with the validator), so it starts while the lower key is being imported.
    const prefetched = new Map<Certificate, { key: PublicKeyInfo; ok: Promise<boolean> }>();
    if (early) {
      prefetched.set(peer, early);
      work.signatureChecks++;
    }
    const pinned = isAnchorDer(peer);
    if (!pinned) {
      const links: [Certificate, Certificate][] = [];
      let child: Certificate = peer;
      while (links.length < 2 && !verifiedBy(child) && !prefetched.has(child)) {
        const kid = child.authorityKeyIdentifier?.keyIdentifier;
        const first = kid ? candidatesFor(child, kid)[0] : undefined;
        if (!first || asIssuer(first[0], first[1])) break;
        links.push([child, first[0]]);
        if (first[1]) break;
        child = first[0];
      }
      for (const [c, issuer] of links.reverse()) {
        if (work.signatureChecks >= budget.maxSignatureChecks) break;
        const ok = verifyX509Signature(
          issuer.publicKey,
          c.signatureAlgorithm,
          c.tbs,
          c.signature,
          subtle,
        );
        ok.catch(() => undefined);
        work.signatureChecks++; // counted now: it is spent even if the path is refused sooner
        prefetched.set(c, { key: issuer.publicKey, ok });
      }
    }

    const names = [
      ...(input.peerName === undefined ? [] : [input.peerName]),
      ...(input.peerNames ?? []),
    ].map(normalisePeerName);
    const purposeOid = PURPOSE_OID[input.purpose];
    const required = [
      ...(purposeOid ? [purposeOid] : []),
      ...(input.requiredEkus ?? []).map((e) => ekuOid(e)),
    ];
    const kus = input.requiredKeyUsages ?? [];

    // The peer on its own: profile, validity, EKU, key usage, names.
    const peerIssue = peerChecks(peer, t, required, kus, names, input.purpose === 'serverAuth');
    if (peerIssue) {
      fail([peer], peerIssue, 0);
      return refuse(peerIssue.code, attempts[0]!.message, 0, attempts, work);
    }

    let path: readonly Certificate[] | undefined;
    try {
      path = pinned ? [peer] : await extend([peer], 0, 0);
    } catch (e) {
      if (!(e instanceof BudgetExceeded)) throw e;
      return refuse('ERR_CHAIN_BUDGET', `Path building stopped: ${e.message}.`, 0, attempts, work);
    }
    if (!path) {
      const chosen = attempts.find((a) => a.code !== 'ERR_CHAIN_NO_PATH') ?? attempts[0];
      const more = dropped ? ` (${dropped} more attempts not listed)` : '';
      return chosen
        ? refuse(chosen.code, chosen.message + more, chosen.certIndex, attempts, work)
        : refuse('ERR_CHAIN_NO_PATH', 'No path to a trust anchor.', 0, attempts, work);
    }

    let from = -Infinity;
    let until = Infinity;
    for (const c of path) {
      const v = validityOf(c);
      from = Math.max(from, v.from);
      until = Math.min(until, v.until);
    }
    // Frozen: a cached result is handed to every later caller, who must not be able to change it.
    const result: ValidatedPath = Object.freeze({
      ok: true as const,
      path: Object.freeze([...path]),
      anchor: path[path.length - 1]!,
      peer: Object.freeze({
        certificate: peer,
        subject: peer.subject,
        commonName: commonNameOf(peer.subject),
        altNames: Object.freeze([...(peer.subjectAltNames ?? [])]),
      }),
      validFrom: new Date(from),
      validUntil: new Date(until),
      cached: false,
      work,
    });
    if (cacheSize > 0) {
      if (results.size >= cacheSize) results.delete(results.keys().next().value!);
      results.set(key, { hit: cachedCopy(result, from, until), from, until });
    }
    return result;

    // --- helpers closed over this call ---

    function peerChecks(
      cert: Certificate,
      now: number,
      ekus: readonly string[],
      usages: readonly KeyUsage[],
      expected: readonly PeerName[],
      server: boolean,
    ): Problem | undefined {
      const size = sizeProblem(cert, limits);
      if (size) return size;
      const validity = validityProblem(cert, now);
      if (validity) return validity;
      const p = asPeer(cert, profile, server);
      if (p) return p;
      const missing = missingEku(cert, ekus);
      if (missing)
        return {
          code: 'ERR_CHAIN_EKU',
          message: `its extKeyUsage does not allow ${ekuName(missing)}`,
        };
      const ku = cert.keyUsage;
      const lacking = ku && usages.find((u) => !ku.includes(u));
      if (lacking)
        return { code: 'ERR_CHAIN_PROFILE', message: `its keyUsage does not assert ${lacking}` };
      const tls = tlsKeyUsageProblem(cert, input.purpose);
      if (tls) return tls;
      for (const n of expected) {
        const why = peerNameProblem(cert, n);
        if (why) return { code: 'ERR_CHAIN_PEER_NAME', message: why };
      }
      return undefined;
    }

    /**
     * Depth-first search upwards from `path`'s last certificate. `cas` and `selfIssued` count the
     * intermediates on `path` (excluding the peer) that are and are not self-issued.
     */
    async function extend(
      path: readonly Certificate[],
      cas: number,
      selfIssued: number,
    ): Promise<readonly Certificate[] | undefined> {
      const child = path[path.length - 1]!;
      const childIndex = path.length - 1;
      const kid = child.authorityKeyIdentifier?.keyIdentifier;
      if (!kid && !isSelfIssued(child)) {
        fail(
          path,
          {
            code: 'ERR_CHAIN_PROFILE',
            message:
              'it has no authorityKeyIdentifier keyIdentifier, which RFC 5280 requires of an issued certificate',
          },
          childIndex,
        );
        return undefined;
      }
      const candidates = candidatesFor(child, kid);
      if (candidates.length === 0) {
        fail(
          path,
          {
            code: 'ERR_CHAIN_NO_PATH',
            message: `no trust anchor or intermediate matches its issuer "${formatIssuer(child)}"${kid ? ' and authorityKeyIdentifier' : ''}`,
          },
          childIndex,
        );
        return undefined;
      }
      for (const [issuer, anchor] of candidates) {
        if (work.candidates >= budget.maxCandidates)
          throw new BudgetExceeded(`more than ${budget.maxCandidates} candidate issuers examined`);
        work.candidates++;
        const full = [...path, issuer];
        const at = path.length;
        const loop = path.some(
          (p) =>
            p === issuer ||
            (equalBytes(p.publicKey.spki, issuer.publicKey.spki) &&
              (equalBytes(p.subjectDer, issuer.subjectDer) ||
                subjectKeyOf(p) === subjectKeyOf(issuer))),
        );
        if (loop) {
          // A root that names itself as issuer is where an untrusted chain ends: say that, not "cycle".
          const root = issuer === child;
          fail(
            root ? path : full,
            {
              code: 'ERR_CHAIN_NO_PATH',
              message: root
                ? 'it is a self-signed root that is not one of the trust anchors'
                : 'it is already on this path (a cycle)',
            },
            root ? childIndex : at,
          );
          continue;
        }
        const p =
          sizeProblem(issuer, limits) ??
          asIssuer(issuer, anchor) ??
          validityProblem(issuer, t) ??
          ekuProblem(issuer) ??
          depthProblem(issuer, anchor, cas, selfIssued) ??
          pathLenProblem(issuer, cas);
        if (p) {
          fail(full, p, at);
          continue;
        }
        // Signatures are checked one at a time, bottom up: on two cores, overlapping them with
        // the search above measured slower (they compete with the main thread's key imports).
        const sig = await signatureProblem(child, issuer);
        if (sig) {
          fail(full, sig, childIndex);
          continue;
        }
        if (anchor) {
          // Name constraints only once every signature up to the anchor has verified: a forged
          // CA with a thousand subtrees never gets its names compared (the costliest check).
          const nc = pathConstraintsProblem(full);
          if (nc) {
            fail(full, nc.problem, nc.index);
            continue;
          }
          return full;
        }
        const self = isSelfIssued(issuer);
        const found = await extend(full, cas + (self ? 0 : 1), selfIssued + (self ? 1 : 0));
        if (found) return found;
      }
      return undefined;
    }

    /**
     * Issuers whose subject matches `child`'s issuer name by RFC 5280 §7.1 comparison. A
     * keyIdentifier that differs from the candidate's subjectKeyIdentifier rules it out. Anchors
     * come first: they end the path soonest.
     */
    function candidatesFor(
      child: Certificate,
      kid: Uint8Array | undefined,
    ): [Certificate, boolean][] {
      const fits = (c: Certificate): boolean =>
        !kid || !c.subjectKeyIdentifier || equalBytes(kid, c.subjectKeyIdentifier);
      const key = issuerKeyOf(child);
      const out: [Certificate, boolean][] = [];
      for (const a of anchorBySubject.get(key) ?? []) if (fits(a)) out.push([a, true]);
      for (const c of presented) if (subjectKeyOf(c) === key && fits(c)) out.push([c, false]);
      for (const c of configuredBySubject.get(key) ?? [])
        if (fits(c) && !presented.some((p) => sameDer(p, c))) out.push([c, false]);
      return out;
    }

    function ekuProblem(cert: Certificate): Problem | undefined {
      const missing = missingEku(cert, required);
      return missing
        ? {
            code: 'ERR_CHAIN_EKU',
            message: `its extKeyUsage does not allow ${ekuName(missing)}, which the path needs`,
          }
        : undefined;
    }

    function depthProblem(
      issuer: Certificate,
      anchor: boolean,
      below: number,
      selfBelow: number,
    ): Problem | undefined {
      if (anchor) return undefined;
      const self = isSelfIssued(issuer);
      if (!self && below + 1 > maxDepth)
        return {
          code: 'ERR_CHAIN_TOO_DEEP',
          message: `the path would need more than ${maxDepth} intermediates`,
        };
      if (self && selfBelow + 1 > maxDepth)
        return {
          code: 'ERR_CHAIN_TOO_DEEP',
          message: `the path would need more than ${maxDepth} self-issued intermediates`,
        };
      return undefined;
    }

    async function signatureProblem(
      child: Certificate,
      issuer: Certificate,
    ): Promise<Problem | undefined> {
      const key = issuer.publicKey;
      if (verified.get(child)?.has(key)) return undefined;
      if (refusedBy.get(child)?.has(key)) return badSignature(issuer);
      const p = prefetched.get(child);
      const pre = p?.key === key ? p.ok : undefined;
      if (pre) prefetched.delete(child);
      else if (work.signatureChecks >= budget.maxSignatureChecks)
        throw new BudgetExceeded(`more than ${budget.maxSignatureChecks} signature checks`);
      else work.signatureChecks++;
      let ok: boolean;
      try {
        ok = await (pre ??
          verifyX509Signature(key, child.signatureAlgorithm, child.tbs, child.signature, subtle));
      } catch (e) {
        const why = e instanceof CertifiedError ? e.message : String(e);
        return {
          code: 'ERR_CHAIN_ALGORITHM',
          message: `its signature cannot be checked${e instanceof AlgorithmUnsupported ? '' : ' with its issuer key'}: ${why.replace(/\.$/, '')}`,
        };
      }
      if (!ok) {
        remember(refusedBy, child, key);
        return badSignature(issuer);
      }
      remember(verified, child, key);
      return undefined;
    }

    /** The constraints of every CA on a complete path, from the anchor down. */
    function pathConstraintsProblem(
      full: readonly Certificate[],
    ): { problem: Problem; index: number } | undefined {
      for (let i = full.length - 1; i > 0; i--) {
        const nc = constraintsProblem(full[i]!, full.slice(0, i));
        if (nc) return nc;
      }
      return undefined;
    }

    function constraintsProblem(
      issuer: Certificate,
      below: readonly Certificate[],
    ): { problem: Problem; index: number } | undefined {
      const nc = nameConstraintsOf(issuer);
      if (!nc || nc instanceof Error) return undefined; // invalid ones were refused by asIssuer
      for (let i = 0; i < below.length; i++) {
        const c = below[i]!;
        // RFC 5280 §6.1.4(b): constraints skip self-issued intermediates, but never the peer.
        if (i > 0 && isSelfIssued(c)) continue;
        const list = constrainedNames(c);
        const n = comparisonCount(nc, list);
        if (work.nameComparisons + n > budget.maxNameComparisons)
          throw new BudgetExceeded(
            `more than ${budget.maxNameComparisons} name-constraint comparisons`,
          );
        const w = constraintWork(nc, list);
        if (work.nameWork + w > budget.maxNameWork)
          throw new BudgetExceeded(`more than ${budget.maxNameWork} units of name-constraint work`);
        work.nameComparisons += n;
        work.nameWork += w;
        const why = checkNames(nc, list);
        if (why)
          return {
            index: i,
            problem: {
              code: 'ERR_CHAIN_NAME_CONSTRAINTS',
              message: `${why}, under the name constraints of "${subjectText(issuer)}"`,
            },
          };
      }
      return undefined;
    }
  }

  return {
    anchors,
    profile,
    validate,
    async assertValid(input: ValidatePathInput): Promise<ValidatedPath> {
      const r = await validate(input);
      if (r.ok) return r;
      throw new PathValidationError(r.code, r.message, {
        certIndex: r.certIndex,
        attempts: r.attempts,
      });
    },
  };
}

/**
 * Validates one peer once. For repeated validations against the same anchors, create a validator with
 * {@link createPathValidator} and reuse it: it caches parsed certificates, signatures and results.
 *
 * @example
 * const r = await validatePath({ anchors: [ca], peer: leaf, chain: [intermediate], purpose: 'clientAuth' });
 * if (r.ok) console.log(r.peer.commonName);
 */
export async function validatePath(
  options: PathValidatorOptions & ValidatePathInput,
): Promise<ValidatePathResult> {
  return oneShot(options).validate(options);
}

/**
 * Like {@link validatePath} but rejects with a {@link PathValidationError} when the path is refused.
 *
 * @example
 * const { peer } = await assertValidPath({ anchors: [ca], peer: leaf, purpose: 'serverAuth', peerName: 'localhost' });
 */
export async function assertValidPath(
  options: PathValidatorOptions & ValidatePathInput,
): Promise<ValidatedPath> {
  return oneShot(options).assertValid(options);
}

/** A validator for one call: `intermediates` are the call's (untrusted, unreadable ones skipped). */
function oneShot(options: PathValidatorOptions & ValidatePathInput): PathValidator {
  const { intermediates: _perCall, ...rest } = options;
  void _perCall;
  return createPathValidator({ ...rest, cacheSize: 0 });
}

// --- module helpers ---

/** What verifying a certificate's signature needs: its TBS, algorithm, signature, issuer and AKI. */
function lightRead(der: Uint8Array): {
  tbs: Uint8Array;
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Uint8Array;
  issuerDer: Uint8Array;
  kid: Uint8Array | undefined;
} {
  const { body, signatureAlgorithm, signature } = decodeSigned(
    der,
    {
      root: 'certificate',
      body: 'tbsCertificate',
      signature: 'signatureValue',
      what: 'certificate',
    },
    CertificateMalformed,
  );
  const c = Cursor.of(der, body);
  if (c.peekTag() === 0xa0) c.next();
  c.next(TAG.INTEGER);
  c.next(TAG.SEQUENCE);
  const issuer = c.next(TAG.SEQUENCE);
  c.next(TAG.SEQUENCE); // validity
  c.next(TAG.SEQUENCE); // subject
  c.next(TAG.SEQUENCE); // subjectPublicKeyInfo
  let kid: Uint8Array | undefined;
  while (!c.done) {
    const t = c.next();
    if (t.tag !== 0xa3) continue;
    const list = Cursor.of(der, t).next(TAG.SEQUENCE);
    for (const e of decodeExtensions(der, list))
      if (e.oid === OID.authorityKeyIdentifier)
        kid = decodeAuthorityKeyIdentifier(e.value).keyIdentifier;
  }
  return {
    tbs: bytesOf(der, body),
    signatureAlgorithm,
    signature,
    issuerDer: bytesOf(der, issuer),
    kid,
  };
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
function cacheKey(
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

/** Why what the peer presented is over the size limits, before any of it is parsed. */
function presentedSizeProblem(
  peer: CertificateInput,
  chain: readonly CertificateInput[] | undefined,
  limits: ValidationLimits,
): string | undefined {
  const count = 1 + (chain?.length ?? 0);
  if (count > limits.maxChainCertificates)
    return `The peer presented ${count} certificates; at most ${limits.maxChainCertificates} are accepted.`;
  let bytes = inputBytes(peer);
  for (const c of chain ?? []) bytes += inputBytes(c);
  if (bytes > limits.maxChainBytes)
    return `The peer presented ${bytes} bytes of certificates; at most ${limits.maxChainBytes} are accepted.`;
  return undefined;
}

const inputBytes = (c: CertificateInput): number =>
  c instanceof Uint8Array
    ? c.byteLength
    : typeof c === 'string'
      ? c.length
      : ((c as Certificate | undefined)?.der?.byteLength ?? 0);

/** A certificate with more names or subtrees than the limits allow (cheap: counts only). */
function sizeProblem(cert: Certificate, limits: ValidationLimits): Problem | undefined {
  const sans = cert.subjectAltNames?.length ?? 0;
  if (sans > limits.maxSubjectAltNames)
    return {
      code: 'ERR_CHAIN_TOO_LARGE',
      message: `it carries ${sans} subjectAltNames; at most ${limits.maxSubjectAltNames} are accepted`,
    };
  const nc = nameConstraintsOf(cert);
  const subtrees = nc && !(nc instanceof Error) ? nc.permitted.length + nc.excluded.length : 0;
  if (subtrees > limits.maxNameConstraintSubtrees)
    return {
      code: 'ERR_CHAIN_TOO_LARGE',
      message: `its nameConstraints hold ${subtrees} subtrees; at most ${limits.maxNameConstraintSubtrees} are accepted`,
    };
  return undefined;
}

/**
 * RFC 5280 §4.2.1.3 / RFC 8446 §4.4.2.2: a TLS peer authenticates by signing the handshake, so a
 * keyUsage, when present, must assert digitalSignature. keyAgreement alone (static ECDH) and
 * keyEncipherment alone (RSA key transport) are refused: certified's TLS never uses either.
 */
function tlsKeyUsageProblem(cert: Certificate, purpose: ValidationPurpose): Problem | undefined {
  if (purpose === 'any' || !cert.keyUsage || cert.keyUsage.includes('digitalSignature'))
    return undefined;
  return {
    code: 'ERR_CHAIN_PROFILE',
    message: `its keyUsage (${cert.keyUsage.join(', ') || 'empty'}) does not assert digitalSignature, which TLS ${purpose === 'clientAuth' ? 'client' : 'server'} authentication needs`,
  };
}

function badSignature(issuer: Certificate): Problem {
  return {
    code: 'ERR_CHAIN_SIGNATURE_INVALID',
    message: `its signature does not verify with the key of "${subjectText(issuer)}"`,
  };
}

function checkDepth(d: number): number {
  if (!Number.isInteger(d) || d < 0 || d > 64)
    throw new RangeError(`maxDepth must be an integer from 0 to 64, received ${d}`);
  return d;
}

function refuse(
  code: PathValidationCode,
  message: string,
  certIndex: number,
  attempts: readonly PathAttempt[],
  work: WorkDone,
): PathRefused {
  return { ok: false, code, message, certIndex, attempts, work };
}

function validityProblem(cert: Certificate, t: number): Problem | undefined {
  const { from, until } = validityOf(cert);
  if (t < from)
    return {
      code: 'ERR_CHAIN_NOT_YET_VALID',
      message: `it is not valid before ${new Date(from).toISOString()}`,
    };
  if (t > until)
    return { code: 'ERR_CHAIN_EXPIRED', message: `it expired at ${new Date(until).toISOString()}` };
  return undefined;
}

function pathLenProblem(issuer: Certificate, below: number): Problem | undefined {
  const max = issuer.basicConstraints?.pathLength;
  if (max !== undefined && below > max)
    return {
      code: 'ERR_CHAIN_PATH_LENGTH',
      message: `its pathLenConstraint of ${max} allows ${max} intermediate${max === 1 ? '' : 's'} below it, and the path has ${below}`,
    };
  return undefined;
}

const EKU_NAMES = new Map<string, string>(Object.entries(EKU).map(([k, v]) => [v, k]));
const ekuName = (oid: string): string => EKU_NAMES.get(oid) ?? oid;

function formatIssuer(c: Certificate): string {
  try {
    return formatName(c.issuer);
  } catch {
    return '(unprintable)';
  }
}

const sameDer = (a: Certificate, b: Certificate): boolean => a === b || equalBytes(a.der, b.der);

function dedupe(certs: Certificate[]): Certificate[] {
  const out: Certificate[] = [];
  for (const c of certs) if (!out.some((o) => o === c || equalBytes(o.der, c.der))) out.push(c);
  return out;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function indexBySubject(certs: readonly Certificate[]): Map<string, Certificate[]> {
  const m = new Map<string, Certificate[]>();
  for (const c of certs) push(m, subjectKeyOf(c), c);
  return m;
}
