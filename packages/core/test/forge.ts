/**
 * Test helper: a certificate forge for what the issuance API refuses to make (non-CA issuers, v1
 * certificates, odd serials, mismatched algorithms, missing or extra extensions, wrong signers).
 * It reuses core's encoders, so everything not overridden is what core itself would write.
 */
import { bitString, ctx, explicit, int, seq, time, tlv, TAG } from '../src/internal/der.js';
import { OID } from '../src/internal/oids.js';
import { subtleOf } from '../src/keys/keys.js';
import {
  CA_KEY_USAGE,
  identifierExtensions,
  randomSerial,
  spkiOf,
} from '../src/x509/build-certificate.js';
import { decodeCertificate, type Certificate } from '../src/x509/certificate.js';
import {
  basicConstraintsValue,
  encodeExtension,
  extKeyUsageValue,
  keyUsageValue,
  nameConstraintsValue,
  type ExtendedKeyUsage,
  type Extension,
  type KeyUsage,
  type NameConstraintsSpec,
} from '../src/x509/extensions.js';
import type { GeneralName } from '../src/x509/general-name.js';
import { encodeName, type Name } from '../src/x509/name.js';
import { signBytes, signingAlgorithmFor } from '../src/x509/signature.js';

/** The certificate and private key that sign a forged certificate. */
export interface ForgeIssuer {
  readonly cert: Certificate;
  readonly key: CryptoKey;
}

export interface ForgeOptions {
  /** The subject name (may be empty). */
  readonly subject: Name;
  /** The subject's key pair: its public key is certified; it signs when `issuer` is omitted. */
  readonly keyPair: CryptoKeyPair;
  /** Who signs; default self-signed (issuer name = subject, signer = `keyPair.privateKey`). */
  readonly issuer?: ForgeIssuer;
  /** Default extensions: a CA set (critical BC with cA, critical KU keyCertSign…); default false. */
  readonly ca?: boolean;
  /** pathLenConstraint of the default CA basicConstraints; default none (unlimited). */
  readonly pathLength?: number;
  /** subjectAltName of the default set (critical iff the subject is empty); default none. */
  readonly altNames?: readonly GeneralName[];
  /** extKeyUsage of the default set; default serverAuth+clientAuth for leaves, none for CAs; [] omits it. */
  readonly ekus?: readonly ExtendedKeyUsage[];
  /** keyUsage of the default set; default CA or digitalSignature; [] omits it. */
  readonly keyUsages?: readonly KeyUsage[];
  /** A critical nameConstraints extension in the default set. */
  readonly nameConstraints?: NameConstraintsSpec;
  /** Full control: the exact list, or a function editing the default list. */
  readonly extensions?: readonly Extension[] | ((defaults: Extension[]) => Extension[]);
  /** serialNumber INTEGER contents, written as given (no minimisation); default 16 random octets. */
  readonly serial?: Uint8Array;
  /** Default 2020-01-01T00:00:00Z. */
  readonly notBefore?: Date;
  /** Default 2040-01-01T00:00:00Z. */
  readonly notAfter?: Date;
  /** 1 omits the version field (and needs no extensions); default 3. */
  readonly version?: 1 | 3;
  /** The issuer field; default the issuer's subject (exact bytes), or `subject` when self-signed. */
  readonly issuerName?: Name;
  /** DER AlgorithmIdentifier written inside tbsCertificate; default the outer one. */
  readonly tbsAlgorithm?: Uint8Array;
  /** Signs with this key instead of the issuer's (a signature that does not verify). */
  readonly signingKey?: CryptoKey;
}

/** One extension, for `extensions` lists. */
export const extension = (oid: string, value: Uint8Array, critical = false): Extension => ({
  oid,
  critical,
  value,
});

/** An `extensions` editor dropping the listed OIDs from the default set. */
export const without =
  (...oids: string[]) =>
  (defaults: Extension[]): Extension[] =>
    defaults.filter((e) => !oids.includes(e.oid));

/** An `extensions` editor replacing (or appending) extensions by OID, keeping the order. */
export const withExtensions =
  (...replacements: Extension[]) =>
  (defaults: Extension[]): Extension[] => {
    const out = defaults.map((d) => replacements.find((r) => r.oid === d.oid) ?? d);
    for (const r of replacements) if (!defaults.some((d) => d.oid === r.oid)) out.push(r);
    return out;
  };

/**
 * Builds and signs a certificate exactly as told. Defaults give a certificate core's own
 * `createSelfSignedCa`/`issueCaCertificate`/`issueEndEntityCertificate` would also produce.
 */
export async function forge(o: ForgeOptions): Promise<Certificate> {
  const subtle = subtleOf({});
  const publicKey = await spkiOf(o.keyPair.publicKey, subtle);
  const ca = o.ca ?? false;
  const kus = o.keyUsages ?? (ca ? CA_KEY_USAGE : ['digitalSignature']);
  const ekus = o.ekus ?? (ca ? [] : ['serverAuth', 'clientAuth']);
  const defaults: Extension[] = [
    extension(
      OID.basicConstraints,
      basicConstraintsValue(
        ca && o.pathLength !== undefined ? { ca, pathLength: o.pathLength } : { ca },
      ),
      true,
    ),
    ...(kus.length ? [extension(OID.keyUsage, keyUsageValue(kus), true)] : []),
    ...(ekus.length ? [extension(OID.extKeyUsage, extKeyUsageValue(ekus))] : []),
    ...identifierExtensions(
      publicKey,
      o.issuer?.cert,
      // identifierExtensions refuses an empty subject without altNames; the forge allows it.
      o.subject.length || o.altNames?.length ? o.subject : [[{ type: '2.5.4.3', value: 'x' }]],
      o.altNames,
    ),
    ...(o.nameConstraints
      ? [extension(OID.nameConstraints, nameConstraintsValue(o.nameConstraints), true)]
      : []),
  ];
  const extensions =
    typeof o.extensions === 'function' ? o.extensions(defaults) : (o.extensions ?? defaults);
  const signer = o.signingKey ?? o.issuer?.key ?? o.keyPair.privateKey;
  const algorithm = signingAlgorithmFor(signer);
  const subjectName = encodeName(o.subject);
  const issuerName = o.issuerName
    ? encodeName(o.issuerName)
    : o.issuer
      ? o.issuer.cert.subjectDer
      : subjectName;
  const version = o.version ?? 3;
  const tbs = seq(
    ...(version === 3 ? [explicit(0, int(2))] : []),
    tlv(TAG.INTEGER, o.serial ?? randomSerial(undefined)),
    o.tbsAlgorithm ?? algorithm.algorithmIdentifier,
    issuerName,
    seq(
      time(o.notBefore ?? new Date('2020-01-01T00:00:00Z')),
      time(o.notAfter ?? new Date('2040-01-01T00:00:00Z')),
    ),
    subjectName,
    publicKey.spki,
    ...(extensions.length ? [tlv(ctx(3, true), seq(...extensions.map(encodeExtension)))] : []),
  );
  const signature = await signBytes(signer, algorithm, tbs, subtle);
  return decodeCertificate(seq(tbs, algorithm.algorithmIdentifier, bitString(signature)));
}
