/**
 * @module chain/checks — what each certificate on a path must satisfy (sizes, validity, profile, EKU,
 * key usage, depth, path length, peer names) and the name constraints of a complete path.
 */
import type { PathAttempt, PathValidationCode } from '../errors.js';
import { EKU } from '../internal/oids.js';
import type { Certificate } from '../x509/certificate.js';
import type { KeyUsage } from '../x509/extensions.js';
import { formatName } from '../x509/name.js';
import { validityOf, type CertificateInput } from './certificate-pool.js';
import {
  checkNames,
  comparisonCount,
  constrainedNames,
  constraintWork,
} from './name-constraints.js';
import {
  asPeer,
  zeroSerialProblem,
  caKeyUsageProblem,
  missingEku,
  nameConstraintsOf,
  isSelfIssued,
  type Problem,
  type ValidationProfile,
} from './profile.js';
import type {
  PathRefused,
  ValidationLimits,
  ValidationPurpose,
  WorkBudget,
  WorkDone,
} from './types.js';
import { peerNameProblem, type PeerName } from './peer-name.js';
import { spendNameWork } from './budget.js';

export const subjectText = (c: Certificate): string => {
  try {
    return formatName(c.subject) || '(empty subject)';
  } catch {
    return '(unprintable subject)';
  }
};

export const PURPOSE_OID: Readonly<Record<ValidationPurpose, string | undefined>> = {
  serverAuth: EKU.serverAuth,
  clientAuth: EKU.clientAuth,
  any: undefined,
};

/** Why what the peer presented is over the size limits, before any of it is parsed. */
export function presentedSizeProblem(
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
export function sizeProblem(cert: Certificate, limits: ValidationLimits): Problem | undefined {
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
export function tlsKeyUsageProblem(
  cert: Certificate,
  purpose: ValidationPurpose,
): Problem | undefined {
  if (purpose === 'any' || !cert.keyUsage || cert.keyUsage.includes('digitalSignature'))
    return undefined;
  return {
    code: 'ERR_CHAIN_PROFILE',
    message: `its keyUsage (${cert.keyUsage.join(', ') || 'empty'}) does not assert digitalSignature, which TLS ${purpose === 'clientAuth' ? 'client' : 'server'} authentication needs`,
  };
}

export function checkDepth(d: number): number {
  if (!Number.isInteger(d) || d < 0 || d > 64)
    throw new RangeError(`maxDepth must be an integer from 0 to 64, received ${d}`);
  return d;
}
export function validityProblem(cert: Certificate, t: number): Problem | undefined {
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

export function pathLenProblem(issuer: Certificate, below: number): Problem | undefined {
  const max = issuer.basicConstraints?.pathLength;
  if (max !== undefined && below > max)
    return {
      code: 'ERR_CHAIN_PATH_LENGTH',
      message: `its pathLenConstraint of ${max} allows ${max} intermediate${max === 1 ? '' : 's'} below it, and the path has ${below}`,
    };
  return undefined;
}

const EKU_NAMES = new Map<string, string>(Object.entries(EKU).map(([k, v]) => [v, k]));
export const ekuName = (oid: string): string => EKU_NAMES.get(oid) ?? oid;

export function formatIssuer(c: Certificate): string {
  try {
    return formatName(c.issuer);
  } catch {
    return '(unprintable)';
  }
}

/** What the peer must be, beyond its path: set per call. */
export interface PeerRequirements {
  readonly purpose: ValidationPurpose;
  readonly profile: ValidationProfile;
  readonly limits: ValidationLimits;
  /** EKU OIDs the peer (and every CA above it) must allow. */
  readonly ekus: readonly string[];
  readonly usages: readonly KeyUsage[];
  readonly names: readonly PeerName[];
  /** The peer is itself a trust anchor (pinned): judged for its bytes, not how it was issued. */
  readonly pinned: boolean;
  /** See PathValidatorOptions.publicSuffix. */
  readonly publicSuffix: ((name: string) => boolean) | undefined;
}

/** The peer on its own: sizes, validity, profile, EKU, key usage, names. */
export function peerProblem(
  cert: Certificate,
  now: number,
  r: PeerRequirements,
): Problem | undefined {
  const size = sizeProblem(cert, r.limits);
  if (size) return size;
  const validity = validityProblem(cert, now);
  if (validity) return validity;
  const p =
    asPeer(cert, r.profile, r.purpose === 'serverAuth') ??
    (r.pinned ? undefined : (zeroSerialProblem(cert) ?? caKeyUsageProblem(cert)));
  if (p) return p;
  const missing = missingEku(cert, r.ekus);
  if (missing)
    return { code: 'ERR_CHAIN_EKU', message: `its extKeyUsage does not allow ${ekuName(missing)}` };
  const ku = cert.keyUsage;
  const lacking = ku && r.usages.find((u) => !ku.includes(u));
  if (lacking)
    return { code: 'ERR_CHAIN_PROFILE', message: `its keyUsage does not assert ${lacking}` };
  const tls = tlsKeyUsageProblem(cert, r.purpose);
  if (tls) return tls;
  for (const n of r.names) {
    const why = peerNameProblem(cert, n, r.publicSuffix);
    if (why) return { code: 'ERR_CHAIN_PEER_NAME', message: why };
  }
  return undefined;
}

/** A CA on the path whose EKU does not allow what the path needs. */
export function ekuProblem(cert: Certificate, required: readonly string[]): Problem | undefined {
  const missing = missingEku(cert, required);
  return missing
    ? {
        code: 'ERR_CHAIN_EKU',
        message: `its extKeyUsage does not allow ${ekuName(missing)}, which the path needs`,
      }
    : undefined;
}

/** Adding `issuer` would make the path deeper than `maxDepth` (self-issued CAs counted apart). */
export function depthProblem(
  issuer: Certificate,
  anchor: boolean,
  below: number,
  selfBelow: number,
  maxDepth: number,
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

/**
 * The name constraints of every CA on a complete path, from the anchor down. Charged to the budget
 * before any comparison is made.
 */
export function pathConstraintsProblem(
  full: readonly Certificate[],
  work: WorkDone,
  budget: WorkBudget,
): { problem: Problem; index: number } | undefined {
  for (let i = full.length - 1; i > 0; i--) {
    const nc = constraintsProblem(full[i]!, full.slice(0, i), work, budget);
    if (nc) return nc;
  }
  return undefined;
}

function constraintsProblem(
  issuer: Certificate,
  below: readonly Certificate[],
  work: WorkDone,
  budget: WorkBudget,
): { problem: Problem; index: number } | undefined {
  const nc = nameConstraintsOf(issuer);
  if (!nc || nc instanceof Error) return undefined; // invalid ones were refused by asIssuer
  for (let i = 0; i < below.length; i++) {
    const c = below[i]!;
    // RFC 5280 §6.1.4(b): constraints skip self-issued intermediates, but never the peer.
    if (i > 0 && isSelfIssued(c)) continue;
    const list = constrainedNames(c);
    spendNameWork(work, budget, comparisonCount(nc, list), constraintWork(nc, list));
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

/** A refusal result. */
export function refuse(
  code: PathValidationCode,
  message: string,
  certIndex: number,
  attempts: readonly PathAttempt[],
  work: WorkDone,
): PathRefused {
  return { ok: false, code, message, certIndex, attempts, work };
}
