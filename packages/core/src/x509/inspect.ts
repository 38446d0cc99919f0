/**
 * @module x509/inspect — structured JSON and short text views of certificates and requests.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toHex } from '../internal/bytes.js';
import { EKU_NAMES, EXTENSION_NAMES, OID } from '../internal/oids.js';
import { sha256 } from '../internal/sha.js';
import type { CertificationRequest } from '../csr/csr.js';
import type { PublicKeyInfo } from '../keys/public-key-info.js';
import { fingerprint, type Certificate } from './certificate.js';
import type { Extension } from './extensions.js';
import { formatGeneralName } from './general-name.js';
import { formatName, nameEquals } from './name.js';
import type { AlgorithmIdentifier } from './signature.js';

const SIG_NAMES: Record<string, string> = {
  [OID.ed25519]: 'Ed25519',
  [OID.ed448]: 'Ed448',
  [OID.ecdsaSha256]: 'ecdsa-with-SHA256',
  [OID.ecdsaSha384]: 'ecdsa-with-SHA384',
  [OID.ecdsaSha512]: 'ecdsa-with-SHA512',
  [OID.ecdsaSha1]: 'ecdsa-with-SHA1',
  [OID.sha256WithRsa]: 'sha256WithRSAEncryption',
  [OID.sha384WithRsa]: 'sha384WithRSAEncryption',
  [OID.sha512WithRsa]: 'sha512WithRSAEncryption',
  [OID.sha1WithRsa]: 'sha1WithRSAEncryption',
  [OID.md5WithRsa]: 'md5WithRSAEncryption',
  [OID.rsaPss]: 'RSASSA-PSS',
};

/** A JSON view of one extension. */
export interface ExtensionView {
  readonly oid: string;
  /** Short name, e.g. `"basicConstraints"`, or the OID when unknown. */
  readonly name: string;
  readonly critical: boolean;
  /** Decoded value where we know the structure; otherwise `{ der: hex }`. */
  readonly value: unknown;
}

/** A JSON view of a public key. */
export interface PublicKeyView {
  readonly algorithm: string;
  readonly bits: number;
  /** SHA-256 of the SubjectPublicKeyInfo DER (hex, colon-separated). */
  readonly spkiSha256: string;
}

/** The structured JSON view of a certificate. */
export interface CertificateView {
  readonly kind: 'certificate';
  readonly version: number;
  readonly serialNumber: string;
  readonly subject: string;
  readonly issuer: string;
  readonly selfIssued: boolean;
  readonly validity: {
    readonly notBefore: string;
    readonly notAfter: string;
    readonly days: number;
  };
  readonly publicKey: PublicKeyView;
  readonly signatureAlgorithm: string;
  readonly isCa: boolean;
  readonly pathLength?: number;
  readonly subjectAltNames: readonly string[];
  readonly keyUsage: readonly string[];
  readonly extendedKeyUsage: readonly string[];
  readonly subjectKeyIdentifier?: string;
  readonly authorityKeyIdentifier?: string;
  readonly extensions: readonly ExtensionView[];
  readonly fingerprints: { readonly sha256: string };
}

/** The structured JSON view of a certification request. */
export interface CsrView {
  readonly kind: 'csr';
  readonly subject: string;
  readonly publicKey: PublicKeyView;
  readonly signatureAlgorithm: string;
  readonly requestsCa: boolean;
  readonly subjectAltNames: readonly string[];
  readonly extendedKeyUsage: readonly string[];
  readonly extensions: readonly ExtensionView[];
  readonly attributes: readonly string[];
  readonly fingerprints: { readonly sha256: string };
}

const algName = (a: AlgorithmIdentifier): string => SIG_NAMES[a.oid] ?? a.oid;
const ekuName = (o: string): string => EKU_NAMES[o] ?? o;

function keyView(k: PublicKeyInfo): PublicKeyView {
  return {
    algorithm: k.algorithm === 'unknown' ? k.algorithmOid : k.algorithm,
    bits: k.bits,
    spkiSha256: toHex(sha256(k.spki), ':').toUpperCase(),
  };
}

function extensionValue(e: Extension, c: Partial<Certificate>): unknown {
  switch (e.oid) {
    case OID.basicConstraints:
      return c.basicConstraints;
    case OID.keyUsage:
      return c.keyUsage;
    case OID.extKeyUsage:
      return c.extKeyUsage?.map(ekuName);
    case OID.subjectAltName:
      return c.subjectAltNames?.map(formatGeneralName);
    case OID.subjectKeyIdentifier:
      return c.subjectKeyIdentifier && toHex(c.subjectKeyIdentifier, ':');
    case OID.authorityKeyIdentifier:
      return (
        c.authorityKeyIdentifier?.keyIdentifier && {
          keyIdentifier: toHex(c.authorityKeyIdentifier.keyIdentifier, ':'),
        }
      );
  }
  // PKI.js knows many more structures (policies, CRL distribution points, AIA, name constraints);
  // inspection is off the hot path, so its schema-driven decoder is the right tool here.
  try {
    const parsed = asn1js.fromBER(e.value.slice());
    if (parsed.offset !== -1) {
      const ext = new pkijs.Extension({
        extnID: e.oid,
        critical: e.critical,
        extnValue: e.value.slice().buffer,
      });
      const pv = (ext as { parsedValue?: { toJSON?: () => unknown } }).parsedValue;
      // Unknown OIDs come back as raw asn1js blocks, undecodable known ones with `parsingError`: show hex instead.
      if (
        pv &&
        !(pv instanceof asn1js.BaseBlock) &&
        !('parsingError' in pv) &&
        typeof pv.toJSON === 'function'
      )
        return pv.toJSON();
    }
  } catch {
    // fall through to raw hex
  }
  return { der: toHex(e.value) };
}

function extensionViews(
  exts: readonly Extension[],
  decoded: Partial<Certificate>,
): ExtensionView[] {
  return exts.map((e) => ({
    oid: e.oid,
    name: EXTENSION_NAMES[e.oid] ?? e.oid,
    critical: e.critical,
    value: extensionValue(e, decoded),
  }));
}

/**
 * A structured JSON view of a certificate: names, SANs, validity, key type, extensions, fingerprints.
 *
 * @example
 * console.log(JSON.stringify(inspectCertificate(parseCertificate(pem)), null, 2));
 */
export function inspectCertificate(cert: Certificate): CertificateView {
  const bc = cert.basicConstraints;
  return {
    kind: 'certificate',
    version: cert.version,
    serialNumber: toHex(cert.serialNumber, ':'),
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    selfIssued: nameEquals(cert.subject, cert.issuer),
    validity: {
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      days:
        Math.round(((cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000) * 100) / 100,
    },
    publicKey: keyView(cert.publicKey),
    signatureAlgorithm: algName(cert.signatureAlgorithm),
    isCa: bc?.ca === true,
    ...(bc?.pathLength !== undefined ? { pathLength: bc.pathLength } : {}),
    subjectAltNames: (cert.subjectAltNames ?? []).map(formatGeneralName),
    keyUsage: cert.keyUsage ?? [],
    extendedKeyUsage: (cert.extKeyUsage ?? []).map(ekuName),
    ...(cert.subjectKeyIdentifier
      ? { subjectKeyIdentifier: toHex(cert.subjectKeyIdentifier, ':') }
      : {}),
    ...(cert.authorityKeyIdentifier?.keyIdentifier
      ? { authorityKeyIdentifier: toHex(cert.authorityKeyIdentifier.keyIdentifier, ':') }
      : {}),
    extensions: extensionViews(cert.extensions, cert),
    fingerprints: { sha256: fingerprint(cert.der) },
  };
}

/**
 * A structured JSON view of a certification request.
 *
 * @example
 * const view = inspectCsr(parseCsr(pem)); // view.subjectAltNames
 */
export function inspectCsr(csr: CertificationRequest): CsrView {
  return {
    kind: 'csr',
    subject: formatName(csr.subject),
    publicKey: keyView(csr.publicKey),
    signatureAlgorithm: algName(csr.signatureAlgorithm),
    requestsCa: csr.basicConstraints?.ca === true,
    subjectAltNames: (csr.subjectAltNames ?? []).map(formatGeneralName),
    extendedKeyUsage: (csr.extKeyUsage ?? []).map(ekuName),
    extensions: extensionViews(csr.extensions, csr as Partial<Certificate>),
    attributes: csr.attributes.map((a) =>
      a.oid === OID.extensionRequest ? 'extensionRequest' : a.oid,
    ),
    fingerprints: { sha256: fingerprint(csr.der) },
  };
}

function relative(d: Date, now: Date): string {
  const days = Math.round((d.getTime() - now.getTime()) / 86_400_000);
  return days === 0
    ? 'today'
    : days > 0
      ? `in ${days} day${days === 1 ? '' : 's'}`
      : `${-days} day${days === -1 ? '' : 's'} ago`;
}

/**
 * A short human-readable text view of a certificate or request.
 *
 * @param options.now - reference time for "expires in N days"; default now.
 * @example
 * console.log(formatCertificateText(cert));
 */
export function formatCertificateText(
  item: Certificate | CertificationRequest,
  options: { now?: Date } = {},
): string {
  const now = options.now ?? new Date();
  const rows: [string, string][] = [];
  let title: string;
  if ('info' in item) {
    const v = inspectCsr(item);
    title = `Certificate request${v.requestsCa ? ' (for a CA)' : ''}`;
    rows.push(
      ['Subject', v.subject || '(empty)'],
      ['Key', `${v.publicKey.algorithm}`],
      ['Signature', v.signatureAlgorithm],
    );
    if (v.subjectAltNames.length) rows.push(['Alt names', v.subjectAltNames.join(', ')]);
    if (v.extendedKeyUsage.length) rows.push(['Ext. key usage', v.extendedKeyUsage.join(', ')]);
    rows.push(['SHA-256', v.fingerprints.sha256]);
  } else {
    const v = inspectCertificate(item);
    const status =
      now < item.notBefore ? 'NOT YET VALID' : now > item.notAfter ? 'EXPIRED' : 'valid';
    title = v.isCa
      ? `CA certificate${v.pathLength !== undefined ? ` (pathLen ${v.pathLength})` : ''}${v.selfIssued ? ', self-issued' : ''}`
      : 'End-entity certificate';
    rows.push(
      ['Subject', v.subject || '(empty)'],
      ['Issuer', v.issuer],
      ['Serial', v.serialNumber],
      [
        'Valid',
        `${v.validity.notBefore} → ${v.validity.notAfter} (${status}; ${now > item.notAfter ? 'expired' : 'expires'} ${relative(item.notAfter, now)})`,
      ],
      ['Key', `${v.publicKey.algorithm}${v.publicKey.bits ? ` (${v.publicKey.bits} bits)` : ''}`],
      ['Signature', v.signatureAlgorithm],
    );
    if (v.subjectAltNames.length) rows.push(['Alt names', v.subjectAltNames.join(', ')]);
    if (v.keyUsage.length) rows.push(['Key usage', v.keyUsage.join(', ')]);
    if (v.extendedKeyUsage.length) rows.push(['Ext. key usage', v.extendedKeyUsage.join(', ')]);
    if (v.subjectKeyIdentifier) rows.push(['Subject key id', v.subjectKeyIdentifier]);
    if (v.authorityKeyIdentifier) rows.push(['Authority key id', v.authorityKeyIdentifier]);
    rows.push(['SHA-256', v.fingerprints.sha256]);
  }
  const w = Math.max(...rows.map(([k]) => k.length)) + 1;
  return [title, ...rows.map(([k, val]) => `  ${(k + ':').padEnd(w)} ${val}`)].join('\n') + '\n';
}
