/**
 * @module chain/revocation — a validated path checked against the CRLs a validator was given (RFC 5280
 * §6.3, narrowed): complete CRLs signed by the certificate's own issuer with its key. Delta CRLs,
 * issuing distribution points and indirect CRLs are not supported: a CRL that needs them is refused.
 * A CRL that cannot be relied on refuses the path (fail closed): its issuer's revocations are unknown.
 */
import type { PathValidationCode } from '../errors.js';
import { equalBytes } from '../internal/bytes.js';
import { OID } from '../internal/oids.js';
import type { Certificate } from '../x509/certificate.js';
import { decodeCrl, parseCrl, type CertificateRevocationList } from '../x509/crl.js';
import { decodeAuthorityKeyIdentifier } from '../x509/extensions.js';
import { nameKey } from '../x509/name.js';
import { verifyX509Signature } from '../x509/signature.js';
import { subjectKeyOf } from './profile.js';

/** A CRL as the validator accepts it: parsed, DER, or PEM (`X509 CRL`) / base64 text. */
export type CrlInput = CertificateRevocationList | Uint8Array | string;

const CRL_NUMBER = '2.5.29.20';
const DELTA_CRL_INDICATOR = '2.5.29.27';
const ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
const CERTIFICATE_ISSUER = '2.5.29.29';
// CRL extensions we understand (RFC 5280 §5.2); any other critical one refuses the CRL.
const CRL_EXTENSIONS = new Set<string>([OID.authorityKeyIdentifier, OID.issuerAltName, CRL_NUMBER]);
// Entry extensions we understand: reasonCode, invalidityDate (RFC 5280 §5.3), both informational.
const ENTRY_EXTENSIONS = new Set<string>(['2.5.29.21', '2.5.29.24']);

interface Held {
  readonly crl: CertificateRevocationList;
  /** Revoked serial numbers (hex), built on first use. */
  serials?: Set<string>;
  /** Signature verdicts per issuer certificate. */
  readonly verdicts: WeakMap<Certificate, Promise<boolean>>;
}

/** What a path's revocation check found: a refusal, or how long the answer holds. */
export type RevocationVerdict =
  | {
      readonly ok: false;
      readonly code: PathValidationCode;
      readonly message: string;
      readonly certIndex: number;
    }
  | { readonly ok: true; readonly until: number };

/** The CRLs of one validator, by issuer name. */
export class RevocationLists {
  readonly #byIssuer = new Map<string, Held[]>();
  readonly size: number;

  /** @throws a parse error (ERR_CRL_MALFORMED, …) for an unreadable CRL: it is configuration. */
  constructor(inputs: readonly CrlInput[]) {
    for (const input of inputs) {
      const crl =
        typeof input === 'string'
          ? parseCrl(input)
          : input instanceof Uint8Array
            ? decodeCrl(input.slice())
            : input;
      const key = nameKey(crl.issuer);
      const list = this.#byIssuer.get(key) ?? [];
      list.push({ crl, verdicts: new WeakMap() });
      this.#byIssuer.set(key, list);
    }
    this.size = inputs.length;
  }

  /**
   * Checks every certificate on `path` but the anchor against the CRLs its issuer signed.
   * `verify` counts and budgets a signature verification; false when the budget is spent.
   */
  async check(
    path: readonly Certificate[],
    t: number,
    subtle: SubtleCrypto,
    verify: () => boolean,
  ): Promise<RevocationVerdict> {
    let until = Infinity;
    for (let i = 0; i + 1 < path.length; i++) {
      const cert = path[i]!;
      const issuer = path[i + 1]!;
      for (const held of this.#byIssuer.get(subjectKeyOf(issuer)) ?? []) {
        const { crl } = held;
        const kid = keyIdOf(crl);
        // Signed by another key of the same-named issuer (a rollover): not this issuer's CRL.
        if (kid && issuer.subjectKeyIdentifier && !equalBytes(kid, issuer.subjectKeyIdentifier))
          continue;
        const why = await problemOf(held, issuer, t, subtle, verify);
        const whose = `the CRL of its issuer (thisUpdate ${crl.thisUpdate.toISOString()})`;
        if (why)
          return {
            ok: false,
            code: 'ERR_CHAIN_CRL_INVALID',
            message: `${whose} cannot be relied on: ${why}, so its revocation cannot be checked`,
            certIndex: i,
          };
        held.serials ??= new Set(crl.revoked.map((r) => r.serialNumberHex));
        if (held.serials.has(cert.serialNumberHex)) {
          const entry = crl.revoked.find((r) => r.serialNumberHex === cert.serialNumberHex)!;
          return {
            ok: false,
            code: 'ERR_CHAIN_REVOKED',
            message: `it is revoked: ${whose} lists serial ${cert.serialNumberHex}, revoked ${entry.revocationDate.toISOString()}`,
            certIndex: i,
          };
        }
        until = Math.min(until, crl.nextUpdate!.getTime());
      }
    }
    return { ok: true, until };
  }
}

function keyIdOf(crl: CertificateRevocationList): Uint8Array | undefined {
  const aki = crl.extensions.find((e) => e.oid === OID.authorityKeyIdentifier);
  try {
    return aki ? decodeAuthorityKeyIdentifier(aki.value).keyIdentifier : undefined;
  } catch {
    return undefined; // unreadable: the signature decides whether it is this issuer's
  }
}

/** Why `crl` cannot be relied on for certificates `issuer` issued, or undefined. */
async function problemOf(
  held: Held,
  issuer: Certificate,
  t: number,
  subtle: SubtleCrypto,
  verify: () => boolean,
): Promise<string | undefined> {
  const { crl } = held;
  if (crl.version !== 2) return 'it is a version 1 CRL (RFC 5280 requires v2 with a crlNumber)';
  const number = crl.extensions.find((e) => e.oid === CRL_NUMBER);
  if (!number) return 'it has no crlNumber extension, which RFC 5280 §5.2.3 requires';
  if (number.critical) return 'its crlNumber extension is critical, which RFC 5280 forbids';
  for (const e of crl.extensions)
    if (e.critical && !CRL_EXTENSIONS.has(e.oid))
      return e.oid === DELTA_CRL_INDICATOR || e.oid === ISSUING_DISTRIBUTION_POINT
        ? `it is a ${e.oid === DELTA_CRL_INDICATOR ? 'delta' : 'partitioned'} CRL, which is not supported`
        : `it carries the unrecognised critical extension ${e.oid}`;
  for (const r of crl.revoked)
    for (const e of r.extensions)
      if (e.critical && !ENTRY_EXTENSIONS.has(e.oid))
        return e.oid === CERTIFICATE_ISSUER
          ? 'it is an indirect CRL, which is not supported'
          : `an entry carries the unrecognised critical extension ${e.oid}`;
  if (!equalBytes(crl.signatureAlgorithm.der, crl.tbsSignatureAlgorithm.der))
    return 'its signatureAlgorithm differs from the one inside tbsCertList';
  if (issuer.keyUsage && !issuer.keyUsage.includes('cRLSign'))
    return "its issuer's keyUsage does not assert cRLSign";
  if (crl.thisUpdate.getTime() > t) return 'it is not yet valid (thisUpdate is after the time)';
  if (!crl.nextUpdate) return 'it has no nextUpdate, which RFC 5280 §5.1.2.5 requires';
  if (crl.nextUpdate.getTime() < t)
    return `it is out of date (nextUpdate ${crl.nextUpdate.toISOString()})`;
  let ok = held.verdicts.get(issuer);
  if (!ok) {
    if (!verify()) return 'the signature-check budget ran out before its signature was checked';
    ok = verifyX509Signature(
      issuer.publicKey,
      crl.signatureAlgorithm,
      crl.tbs,
      crl.signature,
      subtle,
    );
    held.verdicts.set(issuer, ok);
  }
  try {
    if (!(await ok)) return "its signature does not verify with the issuer's key";
  } catch (e) {
    return `its signature cannot be checked (${e instanceof Error ? e.message : String(e)})`;
  }
  return undefined;
}
