/**
 * @module chain/extend-path — path extension: a depth-first search upwards from the peer, trying each
 * candidate issuer in turn (backtracking on refusal), until a path ends at a trust anchor.
 */
import { equalBytes } from '../internal/bytes.js';
import type { Certificate } from '../x509/certificate.js';
import { spendCandidate } from './budget.js';
import type { IssuerIndex } from './candidates.js';
import {
  depthProblem,
  ekuProblem,
  formatIssuer,
  pathConstraintsProblem,
  pathLenProblem,
  sizeProblem,
  validityProblem,
} from './checks.js';
import {
  asIssuer,
  isSelfIssued,
  subjectKeyOf,
  webpkiIssuerProblem,
  type Problem,
  type ValidationProfile,
} from './profile.js';
import { signatureProblem, type Prefetched } from './signatures.js';
import type { ValidationLimits, WorkBudget, WorkDone } from './types.js';

/** One validation's search: what it may use, what it must check, and where it reports refusals. */
export interface PathSearch {
  readonly index: IssuerIndex;
  /** Presented (and per-call) certificates, parsed and deduplicated: untrusted candidates. */
  readonly presented: readonly Certificate[];
  /** The validation time, ms (whole seconds). */
  readonly t: number;
  readonly maxDepth: number;
  readonly profile: ValidationProfile;
  /** EKU OIDs every CA on the path must allow. */
  readonly required: readonly string[];
  readonly limits: ValidationLimits;
  readonly work: WorkDone;
  readonly budget: WorkBudget;
  readonly prefetched: Map<Certificate, Prefetched>;
  readonly subtle: SubtleCrypto;
  /** Records why `path[certIndex]` could not continue the path. */
  fail(path: readonly Certificate[], problem: Problem, certIndex: number): void;
}

/**
 * Extends `path` upwards from its last certificate to a trust anchor, or undefined when no
 * candidate leads to one. `cas` and `selfIssued` count the intermediates on `path` (excluding the
 * peer) that are and are not self-issued. Throws `BudgetExceeded` when the work budget runs out.
 */
export async function extendPath(
  s: PathSearch,
  path: readonly Certificate[],
  cas: number,
  selfIssued: number,
): Promise<readonly Certificate[] | undefined> {
  const child = path[path.length - 1]!;
  const childIndex = path.length - 1;
  const kid = child.authorityKeyIdentifier?.keyIdentifier;
  if (!kid && !isSelfIssued(child)) {
    s.fail(
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
  const candidates = s.index.candidatesFor(child, kid, s.presented);
  if (candidates.length === 0) {
    s.fail(
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
    spendCandidate(s.work, s.budget);
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
      s.fail(
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
      sizeProblem(issuer, s.limits) ??
      asIssuer(issuer, anchor) ??
      (s.profile === 'webpki' ? webpkiIssuerProblem(issuer, anchor) : undefined) ??
      validityProblem(issuer, s.t) ??
      ekuProblem(issuer, s.required) ??
      depthProblem(issuer, anchor, cas, selfIssued, s.maxDepth) ??
      pathLenProblem(issuer, cas);
    if (p) {
      s.fail(full, p, at);
      continue;
    }
    // Signatures are checked one at a time, bottom up: on two cores, overlapping them with the
    // search above measured slower (they compete with the main thread's key imports).
    const sig = await signatureProblem(child, issuer, s.prefetched, s.work, s.budget, s.subtle);
    if (sig) {
      s.fail(full, sig, childIndex);
      continue;
    }
    if (anchor) {
      // Name constraints only once every signature up to the anchor has verified: a forged CA with
      // a thousand subtrees never gets its names compared (the costliest check).
      const nc = pathConstraintsProblem(full, s.work, s.budget);
      if (nc) {
        s.fail(full, nc.problem, nc.index);
        continue;
      }
      return full;
    }
    const self = isSelfIssued(issuer);
    const found = await extendPath(s, full, cas + (self ? 0 : 1), selfIssued + (self ? 1 : 0));
    if (found) return found;
  }
  return undefined;
}
