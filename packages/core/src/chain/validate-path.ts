/**
 * @module chain/validate-path — our own certification path validation (RFC 5280 §6 plus WebPKI
 * hardening), composed from small units: `candidates` (issuer search), `extend-path` (path building
 * with backtracking), `checks` (per-certificate rules, name constraints), `signatures`,
 * `result-cache` and `budget`. This module orders them: sizes before parsing, the cache before any
 * work, the peer's own checks before the search, signatures before name constraints.
 */
import { CertifiedError, PathValidationError, type PathAttempt } from '../errors.js';
import { subtleOf } from '../keys/keys.js';
import type { Certificate } from '../x509/certificate.js';
import { ekuOid } from '../x509/extensions.js';
import { commonNameOf } from '../x509/name.js';
import { verifyX509Signature } from '../x509/signature.js';
import { equalBytes } from '../internal/bytes.js';
import { CertificatePool, derHashOf, validityOf } from './certificate-pool.js';
import { asIssuer, type Problem } from './profile.js';
import type {
  PathValidator,
  PathValidatorOptions,
  ValidatePathInput,
  ValidatePathResult,
  ValidatedPath,
  WorkDone,
} from './types.js';
import { BudgetExceeded, budgetOf, limitsOf } from './budget.js';
import { createIssuerIndex, push, sameDer } from './candidates.js';
import {
  checkDepth,
  peerProblem,
  presentedSizeProblem,
  PURPOSE_OID,
  refuse,
  subjectText,
} from './checks.js';
import { extendPath, type PathSearch } from './extend-path.js';
import { normalisePeerName } from './peer-name.js';
import { cacheKey, ResultCache } from './result-cache.js';
import { RevocationLists } from './revocation.js';
import { verifiedBy, type Prefetched } from './signatures.js';

export { DEFAULT_VALIDATION_LIMITS } from './types.js';
export type {
  CertificateInput,
  PathRefused,
  PathValidator,
  PathValidatorOptions,
  PeerIdentity,
  PeerNameInput,
  ValidatedPath,
  ValidatePathInput,
  ValidatePathResult,
  ValidationLimits,
  ValidationProfile,
  ValidationPurpose,
  WorkBudget,
  WorkDone,
} from './types.js';
export { matchesPeerName } from './peer-name.js';
export type { CrlInput } from './revocation.js';

const MAX_ATTEMPTS_KEPT = 32;

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
  const budget = budgetOf(options.budget);
  const limits = limitsOf(options.limits);
  const cacheSize = options.cacheSize ?? 1024;
  if (!Number.isInteger(cacheSize) || cacheSize < 0)
    throw new RangeError(`cacheSize must be a non-negative integer, received ${cacheSize}`);
  const publicSuffix = options.publicSuffix;
  if (publicSuffix !== undefined && typeof publicSuffix !== 'function')
    throw new TypeError('publicSuffix must be a function (name: string) => boolean');
  const subtle = subtleOf(options);
  const pool = new CertificatePool(cacheSize * 2);
  const index = createIssuerIndex(pool, options.anchors, options.intermediates ?? [], subtle);
  const results = new ResultCache(cacheSize);
  const revocation = new RevocationLists(options.crls ?? []);

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
    // A peer seen before is found once here (bytes compared), not again by the parse below.
    const der = input.peer instanceof Uint8Array && input.peer[0] === 0x30 ? input.peer : undefined;
    const known = der && pool.recall(der);
    // A new peer is remembered (and its result cached) while there is room, else from its second
    // sighting: one-off peers push out none that return, nor keep garbage alive (CertificatePool.admits).
    const remembered = !der || !!known || pool.admits(der);
    const early =
      der && !known && cacheSize > 0 && budget.maxSignatureChecks > 0
        ? index.earlyVerify(der, input.chain, budget.maxSignatureChecks)
        : undefined;
    // A new intermediate (the cold case): the peer's verification waits for its key, imported
    // just now. Yield once, so it is dispatched and the parse and checks below overlap it; the
    // caller may reuse its buffers from then on, so what follows reads a copy of the input.
    if (early?.keyPending) {
      input = copyOfInput(input, early.presented!.cert);
      await early.keyPending.catch(() => undefined);
    }

    let peer: Certificate;
    try {
      peer = known || pool.get(input.peer, remembered);
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
          // The peer again (a chain that repeats it) is not parsed twice, nor remembered this way.
          if (c instanceof Uint8Array && equalBytes(c, peer.der)) continue;
          // The chain's first certificate may have been parsed already, for an early verification.
          const cert =
            c === early?.presented?.cert.der ? early.presented.cert : pool.get(c, 'if-admitted');
          // Duplicates are dropped by bytes: with caching off, copies parse to distinct objects.
          if (sameDer(cert, peer) || index.isAnchorDer(cert)) continue;
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
    // A peer not remembered is a new object: no result can be cached under it, nor found.
    const caching = cacheSize > 0 && remembered;
    const key = caching ? cacheKey(input, maxDepth, peer, presented) : '';
    if (caching) {
      const hit = results.get(key, t);
      if (hit) return hit;
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
    const prefetched = new Map<Certificate, Prefetched>();
    if (early) {
      prefetched.set(peer, early.peer);
      work.signatureChecks++;
      const upper = early.presented?.upper;
      if (upper) {
        prefetched.set(early.presented.cert, upper);
        work.signatureChecks++;
      }
    }
    const pinned = index.isAnchorDer(peer);
    if (!pinned) {
      const links: [Certificate, Certificate][] = [];
      let child: Certificate = peer;
      while (links.length < 2 && !verifiedBy(child) && !prefetched.has(child)) {
        const kid = child.authorityKeyIdentifier?.keyIdentifier;
        const first = kid ? index.candidatesFor(child, kid, presented)[0] : undefined;
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
    const peerIssue = peerProblem(peer, t, {
      purpose: input.purpose,
      profile,
      limits,
      ekus: required,
      usages: kus,
      names,
      pinned: !!pinned,
      publicSuffix,
    });
    if (peerIssue) {
      fail([peer], peerIssue, 0);
      return refuse(peerIssue.code, attempts[0]!.message, 0, attempts, work);
    }

    let path: readonly Certificate[] | undefined;
    try {
      const search: PathSearch = {
        index,
        presented,
        t,
        maxDepth,
        profile,
        required,
        limits,
        work,
        budget,
        prefetched,
        subtle,
        fail,
      };
      path = pinned ? [peer] : await extendPath(search, [peer], 0, 0);
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
    if (revocation.size > 0) {
      const spend = (): boolean =>
        work.signatureChecks < budget.maxSignatureChecks && ++work.signatureChecks > 0;
      const r = await revocation.check(path, t, subtle, spend);
      if (!r.ok) {
        fail(path, r, r.certIndex);
        const who =
          r.certIndex === 0
            ? 'The peer certificate'
            : `Certificate ${r.certIndex} (${subjectText(path[r.certIndex]!)})`;
        return refuse(r.code, `${who}: ${r.message}.`, r.certIndex, attempts, work);
      }
      // A remembered answer must not outlive the CRLs it was checked against.
      until = Math.min(until, r.until);
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
    if (caching) results.set(key, result, from, until);
    return result;
  }

  return {
    anchors: index.anchors,
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
 * The input with its buffers copied (the chain's first certificate is `first`, parsed already) and
 * its lists and names too: what a validation reads after it has yielded to the caller.
 */
function copyOfInput(input: ValidatePathInput, first: Certificate): ValidatePathInput {
  const bytes = <T>(c: T): T => (c instanceof Uint8Array ? (c.slice() as T) : c);
  const name = <T>(n: T): T => (typeof n === 'object' && n !== null ? { ...n } : n);
  const out: { -readonly [K in keyof ValidatePathInput]: ValidatePathInput[K] } = {
    ...input,
    peer: bytes(input.peer),
  };
  if (input.chain) out.chain = [first.der, ...input.chain.slice(1).map(bytes)];
  if (input.intermediates) out.intermediates = input.intermediates.map(bytes);
  if (input.peerName !== undefined) out.peerName = name(input.peerName);
  if (input.peerNames) out.peerNames = input.peerNames.map(name);
  if (input.requiredEkus) out.requiredEkus = input.requiredEkus.slice();
  if (input.requiredKeyUsages) out.requiredKeyUsages = input.requiredKeyUsages.slice();
  return out;
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
