/**
 * @module chain/profile — the per-certificate rules of path validation: what every certificate on a
 * path must satisfy, what an issuer must satisfy, and what the peer must satisfy. Each rule is a pure
 * function of the certificate, so results are memoised per certificate object.
 */
import type { PathValidationCode } from '../errors.js';
import { equalBytes } from '../internal/bytes.js';
import { children, Cursor, readOid, readRoot, TAG } from '../internal/der.js';
import { EKU, OID } from '../internal/oids.js';
import type { Certificate } from '../x509/certificate.js';
import { decodeGeneralName } from '../x509/general-name.js';
import { nameEquals, nameKey } from '../x509/name.js';
import { factsOf } from './facts.js';
import {
  decodeNameConstraints,
  NameConstraintsInvalid,
  type NameConstraints,
} from './name-constraints.js';

/**
 * Which rule set applies. `rfc5280` (the default): RFC 5280 plus hardening that costs no legitimate
 * certified identity anything. `webpki` adds the CA/Browser Forum rules for public TLS servers
 * (a commonName naming a subjectAltName's host must copy it exactly, no CA certificate as the peer, EKU
 * required, …).
 */
export type ValidationProfile = 'rfc5280' | 'webpki';

export interface Problem {
  readonly code: PathValidationCode;
  readonly message: string;
}

const problem = (code: PathValidationCode, message: string): Problem => ({ code, message });

// Extensions whose criticality we honour because we process them. certificatePolicies is processed
// trivially: with no policy constraints on the path (we refuse those) and the default inputs of
// RFC 5280 §6.1.1 (any policy, nothing explicit required), policy processing cannot fail.
const PROCESSED = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.certificatePolicies,
]);
// RFC 5280 requires these to be non-critical.
const MUST_BE_NONCRITICAL: Readonly<Record<string, string>> = {
  [OID.authorityKeyIdentifier]: 'authorityKeyIdentifier',
  [OID.subjectKeyIdentifier]: 'subjectKeyIdentifier',
  [OID.authorityInfoAccess]: 'authorityInfoAccess',
};

/** Public keys we accept anywhere on a path. */
function keyProblem(cert: Certificate): Problem | undefined {
  const k = cert.publicKey;
  switch (k.algorithm) {
    case 'Ed25519':
    case 'Ed448':
    case 'P-256':
    case 'P-384':
    case 'P-521':
      return undefined;
    case 'RSA':
    case 'RSA-PSS':
      if (k.bits < 2048 || k.bits % 8 !== 0)
        return problem(
          'ERR_CHAIN_ALGORITHM',
          `its ${k.bits}-bit RSA key is refused (RSA keys must be at least 2048 bits and a whole number of bytes)`,
        );
      return undefined;
    default:
      return problem(
        'ERR_CHAIN_ALGORITHM',
        `its public key (algorithm ${k.algorithmOid}${k.curveOid ? `, curve ${k.curveOid}` : ''}) is not one we accept`,
      );
  }
}

function aiaProblem(value: Uint8Array): string | undefined {
  try {
    const root = readRoot(value, 'authorityInfoAccess');
    if (root.tag !== TAG.SEQUENCE) return 'it is not a SEQUENCE';
    const items = children(value, root, 'authorityInfoAccess');
    if (items.length === 0) return 'it holds no access descriptions';
    for (const d of items) {
      const c = Cursor.of(value, d, 'AccessDescription');
      readOid(value, c.next(TAG.OID, 'accessMethod'), 'accessMethod');
      decodeGeneralName(value, c.next(undefined, 'accessLocation'), 'accessLocation');
      c.finish('AccessDescription');
    }
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Rules for every certificate wherever it sits on a path (anchors included). */
function commonProblem(cert: Certificate): Problem | undefined {
  if (cert.version !== 3)
    return problem(
      'ERR_CHAIN_PROFILE',
      `it is a version ${cert.version} certificate; only v3 is accepted`,
    );
  const serial = cert.serialNumber;
  if (serial.length > 20)
    return problem('ERR_CHAIN_PROFILE', 'its serial number is longer than 20 octets');
  // A zero serial is refused of issued certificates only (zeroSerialProblem): roots in use carry one.
  if (serial[0]! & 0x80) return problem('ERR_CHAIN_PROFILE', 'its serial number is negative');
  if (!equalBytes(cert.signatureAlgorithm.der, cert.tbsSignatureAlgorithm.der))
    return problem(
      'ERR_CHAIN_PROFILE',
      'its signatureAlgorithm differs from the one inside tbsCertificate',
    );
  if (cert.issuer.length === 0) return problem('ERR_CHAIN_PROFILE', 'its issuer name is empty');
  for (const e of cert.extensions) {
    const name = MUST_BE_NONCRITICAL[e.oid];
    if (name && e.critical)
      return problem(
        'ERR_CHAIN_PROFILE',
        `its ${name} extension is critical, which RFC 5280 forbids`,
      );
    if (e.oid === OID.authorityInfoAccess) {
      const why = aiaProblem(e.value);
      if (why) return problem('ERR_CHAIN_PROFILE', `its authorityInfoAccess is malformed: ${why}`);
    }
    if (e.oid === OID.policyConstraints)
      return problem(
        e.critical ? 'ERR_CHAIN_CRITICAL_EXTENSION' : 'ERR_CHAIN_PROFILE',
        e.critical
          ? 'it carries policyConstraints, and certificate policy processing is not supported'
          : 'it carries a non-critical policyConstraints extension, which RFC 5280 forbids',
      );
    if (e.critical && !PROCESSED.has(e.oid) && !name)
      return problem(
        'ERR_CHAIN_CRITICAL_EXTENSION',
        `it carries the unrecognised critical extension ${e.oid}`,
      );
  }
  const bc = cert.basicConstraints;
  const ku = cert.keyUsage;
  if (bc && !bc.ca && bc.pathLength !== undefined)
    return problem('ERR_CHAIN_PROFILE', 'it sets pathLenConstraint without cA');
  if (ku?.includes('keyCertSign') && !bc?.ca)
    return problem(
      'ERR_CHAIN_PROFILE',
      'keyUsage asserts keyCertSign but basicConstraints does not assert cA',
    );
  if (bc?.ca && ku && !ku.includes('keyCertSign'))
    return problem(
      'ERR_CHAIN_PROFILE',
      'basicConstraints asserts cA but keyUsage lacks keyCertSign',
    );
  if (!bc?.ca && cert.extensions.some((e) => e.oid === OID.nameConstraints))
    return problem('ERR_CHAIN_PROFILE', 'it is not a CA but carries nameConstraints');
  if (cert.subject.length === 0) {
    const san = cert.extensions.find((e) => e.oid === OID.subjectAltName);
    if (!san?.critical)
      return problem(
        'ERR_CHAIN_PROFILE',
        'its subject is empty, so a critical subjectAltName is required',
      );
  }
  return keyProblem(cert);
}

/** The normalised key of the subject name (RFC 5280 §7.1 comparison), memoised. */
export function subjectKeyOf(cert: Certificate): string {
  const f = factsOf(cert);
  return (f.subjectKey ??= nameKey(cert.subject));
}

/** Whether issuer and subject are the same name (RFC 5280 §6.1 "self-issued"), memoised. */
export function isSelfIssued(cert: Certificate): boolean {
  const f = factsOf(cert);
  return (f.selfIssued ??=
    equalBytes(cert.issuerDer, cert.subjectDer) || nameEquals(cert.issuer, cert.subject));
}

/**
 * RFC 5280 §4.1.2.2 (and CA/B Forum BR 7.1): a CA gives what it issues a positive serial. Asked of
 * intermediates and the peer, never of trust anchors or a pinned peer: roots in use carry a zero
 * serial (Starfield Root G2), and an anchor is trusted for its bytes, not for how it was issued.
 */
export function zeroSerialProblem(cert: Certificate): Problem | undefined {
  return cert.serialNumber.every((b) => b === 0)
    ? problem('ERR_CHAIN_PROFILE', 'its serial number is zero, which RFC 5280 forbids')
    : undefined;
}

/**
 * RFC 5280 §4.2.1.3: a certificate that asserts cA MUST carry a keyUsage, wherever it sits on the
 * path (OpenSSL's -x509_strict refuses one without, at any depth). Not asked of trust anchors or a
 * pinned peer, which are judged for their bytes.
 */
export function caKeyUsageProblem(cert: Certificate): Problem | undefined {
  return cert.basicConstraints?.ca && !cert.keyUsage
    ? problem(
        'ERR_CHAIN_PROFILE',
        'it is a CA without a keyUsage extension, which RFC 5280 §4.2.1.3 requires',
      )
    : undefined;
}

/** Rules for a certificate that issues another on the path (an intermediate or the anchor). */
function issuerProblem(cert: Certificate, anchor: boolean): Problem | undefined {
  const bc = cert.basicConstraints;
  if (!bc?.ca)
    return problem(
      'ERR_CHAIN_ISSUER_NOT_CA',
      bc
        ? 'its basicConstraints do not assert cA'
        : 'it has no basicConstraints, so it is not a CA',
    );
  if (!cert.extensions.find((e) => e.oid === OID.basicConstraints)!.critical)
    return problem(
      'ERR_CHAIN_PROFILE',
      'its basicConstraints extension is not critical, as RFC 5280 requires of a CA',
    );
  // An anchor is judged for its bytes: x509-limbo expects one without keyUsage accepted
  // (crl::issuer-no-keyusage-extension). One without keyCertSign is refused by the common rules.
  if (!anchor) {
    const issued = caKeyUsageProblem(cert) ?? zeroSerialProblem(cert);
    if (issued) return issued;
  }
  if (cert.subject.length === 0)
    return problem('ERR_CHAIN_PROFILE', 'it is a CA with an empty subject');
  if (!cert.subjectKeyIdentifier)
    return problem(
      'ERR_CHAIN_PROFILE',
      'it is a CA without a subjectKeyIdentifier, which RFC 5280 requires',
    );
  const aki = cert.authorityKeyIdentifier;
  if (aki) {
    if (!aki.keyIdentifier)
      return problem('ERR_CHAIN_PROFILE', 'its authorityKeyIdentifier has no keyIdentifier');
    if (aki.authorityCertIssuer || aki.authorityCertSerialNumber)
      return problem(
        'ERR_CHAIN_PROFILE',
        'its authorityKeyIdentifier names an issuer and serial, which a CA certificate must not',
      );
    if (anchor && isSelfIssued(cert) && !equalBytes(aki.keyIdentifier, cert.subjectKeyIdentifier))
      return problem(
        'ERR_CHAIN_PROFILE',
        'it is a self-issued root whose authorityKeyIdentifier differs from its subjectKeyIdentifier',
      );
  }
  // RFC 5280 requires it critical; the CA/B Forum tolerates non-critical. We refuse: x509-limbo
  // pairs the two readings, and of a wrong accept and a wrong refusal we take the refusal.
  if (cert.extensions.some((e) => e.oid === OID.nameConstraints && !e.critical))
    return problem(
      'ERR_CHAIN_PROFILE',
      'its nameConstraints extension is not critical, as RFC 5280 requires',
    );
  const nc = nameConstraintsOf(cert);
  if (nc instanceof Error)
    return problem('ERR_CHAIN_NAME_CONSTRAINTS', `its nameConstraints are invalid: ${nc.message}`);
  return undefined;
}

/** The certificate's decoded nameConstraints, null if none, or the reason they are invalid. */
export function nameConstraintsOf(cert: Certificate): NameConstraints | Error | null {
  const f = factsOf(cert);
  let nc = f.constraints;
  if (nc === undefined) {
    const e = cert.extensions.find((x) => x.oid === OID.nameConstraints);
    try {
      nc = e ? decodeNameConstraints(e.value) : null;
    } catch (err) {
      nc =
        err instanceof NameConstraintsInvalid
          ? err
          : new Error('they are not valid DER', { cause: err });
    }
    f.constraints = nc;
  }
  return nc;
}

/**
 * The host a name spells, as the web platform's URL parser reads it (lower-case A-labels, dotted
 * IPv4, bracketed RFC 5952 IPv6), or undefined when it does not spell one.
 */
function hostOf(name: string): string | undefined {
  // Characters that make the URL parser read a path, user or port instead of a host.
  if (name === '' || /[\s/\\?#@%]/.test(name)) return undefined;
  try {
    return new URL(`http://${name.includes(':') ? `[${name}]` : name}/`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * CA/B Forum BR 7.1.4.3 where a relying party can act on it: a commonName that names the same host
 * as a subjectAltName must be a character-for-character copy of it. `192.168.001.001`, `0xC0A80101`,
 * `2001:DB8::1`, `Example.COM` or a Unicode form of an A-label spell a SAN's host in a way other
 * parsers read differently (leading zeros are octal to some), so they are refused. A commonName that
 * names some other host is left alone: only subjectAltNames name the peer here, and browsers, Go,
 * rustls and BetterTLS accept it (x509-limbo's `webpki::cn::not-in-san` alone expects a refusal).
 */
function commonNameProblem(cert: Certificate): Problem | undefined {
  const exact = new Set<string>();
  const hosts = new Map<string, string>();
  for (const g of cert.subjectAltNames ?? []) {
    if (g.type !== 'dns' && g.type !== 'ip') continue;
    exact.add(g.value);
    // As hostOf() spells them: dNSNames are ASCII (so only case changes), IPs are canonical text.
    const host =
      g.type === 'dns' ? g.value.toLowerCase() : g.value.includes(':') ? `[${g.value}]` : g.value;
    if (!hosts.has(host)) hosts.set(host, g.value);
  }
  let parsed = 0;
  for (const rdn of cert.subject)
    for (const a of rdn) {
      if (a.type !== CN_OID || a.der !== undefined || exact.has(a.value)) continue;
      // A URL parse costs ~1 µs, and a subject can hold thousands of commonNames: read a few.
      if (++parsed > MAX_COMMON_NAMES_READ) return undefined;
      const host = hostOf(a.value);
      const san = host === undefined ? undefined : hosts.get(host);
      if (san !== undefined)
        return problem(
          'ERR_CHAIN_PROFILE',
          `its commonName ${JSON.stringify(a.value)} spells its subjectAltName ${JSON.stringify(san)} differently (CA/B Forum BR 7.1.4.3 requires a character-for-character copy)`,
        );
    }
  return undefined;
}
const CN_OID = '2.5.4.3';
const MAX_COMMON_NAMES_READ = 8;

/** Rules for the peer certificate. */
function peerProblem(
  cert: Certificate,
  profile: ValidationProfile,
  server: boolean,
): Problem | undefined {
  if (profile !== 'webpki') return undefined;
  if (cert.basicConstraints?.ca)
    return problem(
      'ERR_CHAIN_PROFILE',
      'it is a CA certificate, which the webpki profile refuses as a peer',
    );
  const san = cert.extensions.find((e) => e.oid === OID.subjectAltName);
  if (san?.critical && cert.subject.length > 0)
    return problem(
      'ERR_CHAIN_PROFILE',
      'its subjectAltName is critical although its subject is not empty',
    );
  if (!cert.extKeyUsage)
    return problem('ERR_CHAIN_EKU', 'it has no extKeyUsage, which the webpki profile requires');
  if (cert.extKeyUsage.includes(EKU.anyExtendedKeyUsage))
    return problem(
      'ERR_CHAIN_EKU',
      'its extKeyUsage contains anyExtendedKeyUsage, which the webpki profile refuses',
    );
  if (cert.extensions.some((e) => e.oid === OID.extKeyUsage && e.critical))
    return problem(
      'ERR_CHAIN_PROFILE',
      'its extKeyUsage extension is critical, which the webpki profile refuses (CA/B Forum BR 7.1.2.7.6)',
    );
  return server ? commonNameProblem(cert) : undefined;
}

type Role = 'common' | 'issuer' | 'anchor' | 'peerServer' | 'peerClient';

function memoised(
  cert: Certificate,
  role: Role,
  f: () => Problem | undefined,
): Problem | undefined {
  const facts = factsOf(cert);
  let p = facts[role];
  if (p === undefined) facts[role] = p = f() ?? null;
  return p ?? undefined;
}

/**
 * The CA/B Forum's rules for a CA on the path, under the webpki profile. A root (a self-issued
 * anchor) carries no extKeyUsage (BR 7.1.2.1.2); a cross-signed anchor may. A subordinate CA below
 * the anchor carries no critical extKeyUsage (BR 7.1.2.10.6).
 */
export function webpkiIssuerProblem(cert: Certificate, anchor: boolean): Problem | undefined {
  if (anchor)
    return cert.extKeyUsage && isSelfIssued(cert)
      ? problem(
          'ERR_CHAIN_PROFILE',
          'it is a root with an extKeyUsage extension, which the webpki profile refuses (CA/B Forum BR 7.1.2.1.2)',
        )
      : undefined;
  if (cert.extensions.some((e) => e.oid === OID.extKeyUsage && e.critical))
    return problem(
      'ERR_CHAIN_PROFILE',
      'it is a subordinate CA whose extKeyUsage extension is critical, which the webpki profile refuses (CA/B Forum BR 7.1.2.10.6)',
    );
  return undefined;
}

/** Everything a certificate acting as an issuer must satisfy (common rules first). */
export function asIssuer(cert: Certificate, anchor: boolean): Problem | undefined {
  return (
    memoised(cert, 'common', () => commonProblem(cert)) ??
    memoised(cert, anchor ? 'anchor' : 'issuer', () => issuerProblem(cert, anchor))
  );
}

/** Everything the peer certificate must satisfy, apart from validity, EKU and names. */
export function asPeer(
  cert: Certificate,
  profile: ValidationProfile,
  server: boolean,
): Problem | undefined {
  return (
    memoised(cert, 'common', () => commonProblem(cert)) ??
    (profile === 'webpki'
      ? memoised(cert, server ? 'peerServer' : 'peerClient', () =>
          peerProblem(cert, profile, server),
        )
      : undefined)
  );
}

/**
 * EKU consistency: a certificate with extKeyUsage must list every required purpose, or
 * anyExtendedKeyUsage. Returns the first purpose missing.
 */
export function missingEku(cert: Certificate, required: readonly string[]): string | undefined {
  const eku = cert.extKeyUsage;
  if (!eku || required.length === 0 || eku.includes(EKU.anyExtendedKeyUsage)) return undefined;
  return required.find((r) => !eku.includes(r));
}
