/**
 * @module chain/signatures — signature checks on a path, remembered by the exact child and issuer-key
 * objects (a pure function of bytes, so failures are remembered too: a hostile chain cannot make us
 * verify the same pair twice).
 */
import { AlgorithmUnsupported, CertifiedError } from '../errors.js';
import type { PublicKeyInfo } from '../keys/public-key-info.js';
import type { Certificate } from '../x509/certificate.js';
import { verifyX509Signature } from '../x509/signature.js';
import type { Problem } from './profile.js';
import type { WorkBudget, WorkDone } from './types.js';
import { subjectText } from './checks.js';
import { spendSignature } from './budget.js';
import { factsOf } from './facts.js';

/** Whether some issuer key has verified `c`'s signature. */
export const verifiedBy = (c: Certificate): boolean => !!factsOf(c).verifiedBy;

export function badSignature(issuer: Certificate): Problem {
  return {
    code: 'ERR_CHAIN_SIGNATURE_INVALID',
    message: `its signature does not verify with the key of "${subjectText(issuer)}"`,
  };
}

/** A verification started early (before the search reached it), and the key it used. */
export interface Prefetched {
  readonly key: PublicKeyInfo;
  readonly ok: Promise<boolean>;
}

/**
 * Whether `issuer`'s key verifies `child`'s signature: remembered either way, picked up from a
 * prefetch when one was started with the same key, charged to the budget otherwise.
 */
export async function signatureProblem(
  child: Certificate,
  issuer: Certificate,
  prefetched: Map<Certificate, Prefetched>,
  work: WorkDone,
  budget: WorkBudget,
  subtle: SubtleCrypto,
): Promise<Problem | undefined> {
  const key = issuer.publicKey;
  const facts = factsOf(child);
  if (facts.verifiedBy?.includes(key)) return undefined;
  if (facts.refusedBy?.includes(key)) return badSignature(issuer);
  const p = prefetched.get(child);
  const pre = p?.key === key ? p.ok : undefined;
  if (pre) prefetched.delete(child);
  else spendSignature(work, budget);
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
    if (facts.refusedBy) facts.refusedBy.push(key);
    else facts.refusedBy = Array.of(key);
    return badSignature(issuer);
  }
  if (facts.verifiedBy) facts.verifiedBy.push(key);
  else facts.verifiedBy = Array.of(key);
  return undefined;
}
