/**
 * x509-limbo conformance harness: runs every testcase of a limbo.json through @certified/core's path
 * validator and reports, as its last line, one JSON object:
 * `{"total","passed","failed","skipped","falseAccepts","falseRejects","skipped_ids"}`.
 *
 * Usage: `npm run limbo -- <limbo.json> [--profile webpki|rfc5280] [--verbose]`
 * The default profile is `webpki`, the rules limbo's WebPKI testcases are written for.
 */
import {
  createPathValidator,
  type Certificate,
  type ExtendedKeyUsage,
  type KeyUsage,
  type PeerNameInput,
  type ValidationProfile,
  type ValidatePathResult,
  parseCertificate,
} from '@certified/core';
import { isPublicSuffix } from '@certified/core/public-suffix';

/** The fields of a limbo Testcase the harness reads (see x509-limbo's limbo-schema.json). */
export interface LimboTestcase {
  readonly id: string;
  readonly features?: readonly string[] | null;
  readonly validation_kind: string;
  readonly trusted_certs: readonly string[];
  readonly untrusted_intermediates: readonly string[];
  readonly peer_certificate: string;
  readonly validation_time?: string | null;
  readonly signature_algorithms?: readonly string[] | null;
  readonly key_usage?: readonly string[] | null;
  readonly extended_key_usage?: readonly string[] | null;
  readonly expected_result: string;
  readonly expected_peer_name?: { readonly kind: string; readonly value: string } | null;
  readonly expected_peer_names?:
    readonly { readonly kind: string; readonly value: string }[] | null;
  readonly max_chain_depth?: number | null;
  /** PEM CRLs to check the path against. */
  readonly crls?: readonly string[] | null;
}

export interface LimboCaseResult {
  readonly id: string;
  readonly outcome: 'passed' | 'falseAccept' | 'falseReject' | 'skipped';
  /** Our refusal code, or the skip reason. */
  readonly detail?: string;
  readonly features: readonly string[];
}

export interface LimboSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  falseAccepts: string[];
  falseRejects: string[];
  skipped_ids: Record<string, string>;
}

// limbo's KnownEKUs → our names (anything else must be a dotted OID).
const EKUS: Readonly<Record<string, ExtendedKeyUsage>> = {
  anyExtendedKeyUsage: 'anyExtendedKeyUsage',
  serverAuth: 'serverAuth',
  clientAuth: 'clientAuth',
  codeSigning: 'codeSigning',
  emailProtection: 'emailProtection',
  timeStamping: 'timeStamping',
  OCSPSigning: 'ocspSigning',
};
const KEY_USAGES: Readonly<Record<string, KeyUsage>> = {
  digitalSignature: 'digitalSignature',
  contentCommitment: 'nonRepudiation',
  nonRepudiation: 'nonRepudiation',
  keyEncipherment: 'keyEncipherment',
  dataEncipherment: 'dataEncipherment',
  keyAgreement: 'keyAgreement',
  keyCertSign: 'keyCertSign',
  cRLSign: 'cRLSign',
  encipherOnly: 'encipherOnly',
  decipherOnly: 'decipherOnly',
};
const PEER_KINDS: Readonly<Record<string, 'dns' | 'ip' | 'email'>> = {
  DNS: 'dns',
  IP: 'ip',
  RFC822: 'email',
};

/** Why we do not run a testcase, or undefined to run it. Only things the validator deliberately lacks. */
export function skipReason(tc: LimboTestcase): string | undefined {
  if (tc.signature_algorithms?.length)
    return 'restricting the signature algorithms per validation is not supported';
  if (tc.validation_kind !== 'SERVER' && tc.validation_kind !== 'CLIENT')
    return `validation kind ${tc.validation_kind} is not supported`;
  for (const n of [
    ...(tc.expected_peer_name ? [tc.expected_peer_name] : []),
    ...(tc.expected_peer_names ?? []),
  ])
    if (!PEER_KINDS[n.kind]) return `peer names of kind ${n.kind} are not supported`;
  for (const e of tc.extended_key_usage ?? [])
    if (!EKUS[e] && !/^\d+(\.\d+)+$/.test(e)) return `unknown EKU ${e}`;
  for (const k of tc.key_usage ?? []) if (!KEY_USAGES[k]) return `unknown key usage ${k}`;
  return undefined;
}

/** Runs one testcase; resolves to our validation result (never rejects for bad certificates). */
export async function runTestcase(
  tc: LimboTestcase,
  profile: ValidationProfile,
): Promise<ValidatePathResult | { ok: false; code: string; message: string }> {
  // A trust store skips entries it cannot read; dropping an anchor can only remove trust.
  const anchors: Certificate[] = [];
  for (const pem of tc.trusted_certs) {
    try {
      anchors.push(parseCertificate(pem));
    } catch {
      /* unreadable anchor */
    }
  }
  // An unreadable CRL is a configuration error (createPathValidator throws): the harness reports it.
  const crls = tc.crls ?? [];
  // Under webpki, as a browser: no wildcard over a public suffix (limbo's public-suffix cases).
  const validator = createPathValidator({
    anchors,
    profile,
    cacheSize: 0,
    crls,
    ...(profile === 'webpki' ? { publicSuffix: isPublicSuffix } : {}),
  });
  const purpose = tc.validation_kind === 'SERVER' ? 'serverAuth' : 'clientAuth';
  const name = (n: { kind: string; value: string }): PeerNameInput => ({
    type: PEER_KINDS[n.kind]!,
    value: n.value,
  });
  return validator.validate({
    peer: tc.peer_certificate,
    intermediates: tc.untrusted_intermediates,
    purpose,
    ...(tc.expected_peer_name ? { peerName: name(tc.expected_peer_name) } : {}),
    peerNames: (tc.expected_peer_names ?? []).map(name),
    requiredEkus: (tc.extended_key_usage ?? []).map((e) => EKUS[e] ?? e),
    requiredKeyUsages: (tc.key_usage ?? []).map((k) => KEY_USAGES[k]!),
    ...(tc.validation_time ? { time: new Date(tc.validation_time) } : {}),
    ...(typeof tc.max_chain_depth === 'number' ? { maxDepth: tc.max_chain_depth } : {}),
  });
}

/** Runs every testcase of a parsed limbo.json. */
export async function runLimbo(
  limbo: unknown,
  profile: ValidationProfile = 'webpki',
  onCase?: (r: LimboCaseResult) => void,
): Promise<LimboSummary> {
  const cases = (limbo as { testcases?: unknown })?.testcases;
  if (!Array.isArray(cases)) throw new TypeError('not a limbo.json: no "testcases" array');
  const s: LimboSummary = {
    total: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    falseAccepts: [],
    falseRejects: [],
    skipped_ids: {},
  };
  for (const tc of cases as LimboTestcase[]) {
    s.total++;
    const features = tc.features ?? [];
    const skip = skipReason(tc);
    if (skip) {
      s.skipped++;
      s.skipped_ids[tc.id] = skip;
      onCase?.({ id: tc.id, outcome: 'skipped', detail: skip, features });
      continue;
    }
    let r: Awaited<ReturnType<typeof runTestcase>>;
    try {
      r = await runTestcase(tc, profile);
    } catch (e) {
      r = { ok: false, code: 'HARNESS_ERROR', message: String(e) };
    }
    const want = tc.expected_result === 'SUCCESS';
    let outcome: LimboCaseResult['outcome'];
    if (r.ok === want) {
      s.passed++;
      outcome = 'passed';
    } else {
      s.failed++;
      outcome = r.ok ? 'falseAccept' : 'falseReject';
      (r.ok ? s.falseAccepts : s.falseRejects).push(tc.id);
    }
    onCase?.({
      id: tc.id,
      outcome,
      ...(r.ok ? {} : { detail: `${r.code}: ${r.message}` }),
      features,
    });
  }
  return s;
}
