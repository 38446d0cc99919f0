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

/**
 * Signature results, keyed by the exact child and issuer-key objects: pure functions of bytes, so a
 * failure is remembered too (a hostile chain cannot make us verify the same pair twice).
 */
const verified = new WeakMap<Certificate, WeakSet<PublicKeyInfo>>();
const refusedBy = new WeakMap<Certificate, WeakSet<PublicKeyInfo>>();
export const verifiedBy = (c: Certificate): boolean => verified.has(c);
const remember = (
  m: WeakMap<Certificate, WeakSet<PublicKeyInfo>>,
  c: Certificate,
  k: PublicKeyInfo,
): void => {
  let set = m.get(c);
  if (!set) m.set(c, (set = new WeakSet()));
  set.add(k);
};

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
  if (verified.get(child)?.has(key)) return undefined;
  if (refusedBy.get(child)?.has(key)) return badSignature(issuer);
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
    remember(refusedBy, child, key);
    return badSignature(issuer);
  }
  remember(verified, child, key);
  return undefined;
}
