/**
 * @module x509/extensions — the certificate extensions core builds and reads (RFC 5280 §4.2).
 */
import { CertificateMalformed } from '../errors.js';
import {
  bitString,
  bool,
  children,
  ctx,
  Cursor,
  int,
  octets,
  oid,
  readBitString,
  readBoolean,
  readOid,
  readSmallInt,
  seq,
  TAG,
  tlv,
  type Tlv,
  valueOf,
  readIntegerBytes,
  readRoot,
} from '../internal/der.js';
import { EKU } from '../internal/oids.js';
import {
  decodeGeneralNames,
  encodeGeneralName,
  encodeGeneralNames,
  type GeneralName,
} from './general-name.js';

/** One extension as it appears in a certificate or request. */
export interface Extension {
  /** extnID. */
  readonly oid: string;
  /** The critical flag. */
  readonly critical: boolean;
  /** extnValue contents (the DER of the extension's own structure). */
  readonly value: Uint8Array;
}

/** basicConstraints (RFC 5280 §4.2.1.9). */
export interface BasicConstraints {
  readonly ca: boolean;
  /** pathLenConstraint; undefined means unlimited. */
  readonly pathLength?: number;
}

/** keyUsage bit names in bit order (RFC 5280 §4.2.1.3). */
export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
/** One keyUsage bit name. */
export type KeyUsage = (typeof KEY_USAGES)[number];

/** authorityKeyIdentifier (RFC 5280 §4.2.1.1). */
export interface AuthorityKeyIdentifier {
  readonly keyIdentifier?: Uint8Array;
  readonly authorityCertIssuer?: readonly GeneralName[];
  readonly authorityCertSerialNumber?: Uint8Array;
}

/** Extended key usage short names we know, or any dotted OID. */
export type ExtendedKeyUsage = keyof typeof EKU | (string & {});

export function ekuOid(name: ExtendedKeyUsage): string {
  const o = (EKU as Record<string, string>)[name];
  if (o) return o;
  if (/^\d+(\.\d+)+$/.test(name)) return name;
  throw new TypeError(
    `extended key usage must be a known name (${Object.keys(EKU).join(', ')}) or a dotted OID, received ${JSON.stringify(name)}`,
  );
}

// --- encoders ---

export function encodeExtension(e: Extension): Uint8Array {
  return e.critical
    ? seq(oid(e.oid), bool(true), octets(e.value))
    : seq(oid(e.oid), octets(e.value));
}

export function basicConstraintsValue(bc: BasicConstraints): Uint8Array {
  // DER omits DEFAULT FALSE.
  return seq(
    ...(bc.ca ? [bool(true)] : []),
    ...(bc.ca && bc.pathLength !== undefined ? [int(bc.pathLength)] : []),
  );
}

export function keyUsageValue(usages: readonly KeyUsage[]): Uint8Array {
  let bits = 0;
  for (const u of usages) {
    const i = KEY_USAGES.indexOf(u);
    if (i < 0)
      throw new TypeError(
        `key usage must be one of ${KEY_USAGES.join(', ')}, received ${JSON.stringify(u)}`,
      );
    bits |= 1 << i;
  }
  if (bits === 0) throw new RangeError('key usage must name at least one usage');
  // Named bit list in DER: drop trailing zero bits (X.690 §11.2.2).
  const highest = 31 - Math.clz32(bits);
  const nBytes = (highest >> 3) + 1;
  const out = new Uint8Array(nBytes);
  for (let i = 0; i <= highest; i++) if (bits & (1 << i)) out[i >> 3]! |= 0x80 >> (i & 7);
  return bitString(out, nBytes * 8 - 1 - highest);
}

export function extKeyUsageValue(ekus: readonly string[]): Uint8Array {
  if (ekus.length === 0) throw new RangeError('extended key usages must not be empty when present');
  return seq(...ekus.map((e) => oid(ekuOid(e))));
}

export function authorityKeyIdentifierValue(keyId: Uint8Array): Uint8Array {
  return seq(tlv(ctx(0, false), keyId));
}

export function subjectAltNameValue(names: readonly GeneralName[]): Uint8Array {
  return encodeGeneralNames(names);
}

/**
 * What a CA may vouch for (RFC 5280 §4.2.1.10). DNS `example.com` covers it and every subdomain;
 * IP ranges are `addr/prefix` (`10.0.0.0/8`); email `user@host`, `host` or `.domain`; URI `host` or
 * `.domain`; dirName a name prefix.
 */
export interface NameConstraintsSpec {
  readonly permitted?: readonly GeneralName[];
  readonly excluded?: readonly GeneralName[];
}

/** Encodes a nameConstraints extension value; at least one list must be non-empty. */
export function nameConstraintsValue(spec: NameConstraintsSpec): Uint8Array {
  const subtrees = (tag: number, names: readonly GeneralName[] | undefined): Uint8Array[] =>
    names?.length ? [tlv(tag, ...names.map((n) => seq(encodeGeneralName(n))))] : [];
  const parts = [...subtrees(0xa0, spec.permitted), ...subtrees(0xa1, spec.excluded)];
  if (parts.length === 0)
    throw new RangeError('nameConstraints need at least one permitted or excluded name');
  return seq(...parts);
}

// --- decoders ---

function bad(
  field: string,
  detail: string,
  cause?: unknown,
  reason: string = detail,
): CertificateMalformed {
  return new CertificateMalformed(`The ${field} extension is malformed: ${detail}.`, {
    field,
    reason,
    cause,
  });
}

/** Runs a decoder over an extension value that must be exactly one DER element. */
function decodeValue<T>(
  field: string,
  value: Uint8Array,
  f: (b: Uint8Array, t: Tlv) => T,
  tag: number = TAG.SEQUENCE,
): T {
  try {
    const root = readRoot(value, field);
    if (root.tag !== tag)
      throw bad(field, `expected tag 0x${tag.toString(16)}, found 0x${root.tag.toString(16)}`);
    return f(value, root);
  } catch (e) {
    if (e instanceof CertificateMalformed) throw e;
    throw bad(field, (e as { reason?: string }).reason ?? 'invalid DER', e);
  }
}

export function decodeBasicConstraints(value: Uint8Array): BasicConstraints {
  return decodeValue('basicConstraints', value, (b, t) => {
    const c = Cursor.of(b, t);
    const caT = c.optional(TAG.BOOLEAN);
    const ca = caT ? readBoolean(b, caT) : false;
    if (caT && !ca)
      throw bad(
        'basicConstraints',
        'cA FALSE is encoded, but it is the DEFAULT, which DER omits (X.690 §11.5)',
        undefined,
        'explicit DEFAULT cA',
      );
    const plT = c.optional(TAG.INTEGER);
    c.finish();
    const pathLength = plT ? readSmallInt(b, plT) : undefined;
    return pathLength === undefined ? { ca } : { ca, pathLength };
  });
}

export function decodeKeyUsage(value: Uint8Array): KeyUsage[] {
  return decodeValue(
    'keyUsage',
    value,
    (b, t) => {
      const { bytes } = readBitString(b, t);
      const out: KeyUsage[] = [];
      for (let i = 0; i < KEY_USAGES.length; i++)
        if ((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) out.push(KEY_USAGES[i]!);
      return out;
    },
    TAG.BIT_STRING,
  );
}

export function decodeExtKeyUsage(value: Uint8Array): string[] {
  return decodeValue('extKeyUsage', value, (b, t) => {
    const kids = children(b, t);
    if (kids.length === 0) throw bad('extKeyUsage', 'empty sequence');
    return kids.map((k) => readOid(b, k));
  });
}

export function decodeSubjectKeyIdentifier(value: Uint8Array): Uint8Array {
  return decodeValue(
    'subjectKeyIdentifier',
    value,
    (b, t) => {
      return valueOf(b, t);
    },
    TAG.OCTET_STRING,
  );
}

export function decodeAuthorityKeyIdentifier(value: Uint8Array): AuthorityKeyIdentifier {
  return decodeValue('authorityKeyIdentifier', value, (b, t) => {
    const c = Cursor.of(b, t);
    const kid = c.optional(ctx(0, false));
    const issuer = c.optional(ctx(1, true));
    const serial = c.optional(ctx(2, false));
    c.finish();
    if (!!issuer !== !!serial)
      throw bad(
        'authorityKeyIdentifier',
        'authorityCertIssuer and authorityCertSerialNumber must appear together',
      );
    // Assigned, not spread from conditional literals: spreading gave every AKI its own hidden
    // class (a map, descriptors and enum cache each, kept alive by every cached certificate).
    const out: { -readonly [K in keyof AuthorityKeyIdentifier]: AuthorityKeyIdentifier[K] } = {};
    if (kid) out.keyIdentifier = valueOf(b, kid);
    if (issuer) out.authorityCertIssuer = decodeGeneralNames(b, issuer, 'authorityKeyIdentifier');
    if (serial)
      out.authorityCertSerialNumber = readIntegerBytes(b, { ...serial, tag: TAG.INTEGER });
    return out;
  });
}

export function decodeSubjectAltName(value: Uint8Array, field = 'subjectAltName'): GeneralName[] {
  return decodeValue(field, value, (b, t) => {
    const names = decodeGeneralNames(b, t, field);
    if (names.length === 0) throw bad(field, 'empty sequence');
    return names;
  });
}

/** Parses the `Extensions` SEQUENCE; duplicate extensions are refused (RFC 5280 §4.2). */
export function decodeExtensions(b: Uint8Array, t: Tlv, field = 'extensions'): Extension[] {
  const out: Extension[] = [];
  const seen = new Set<string>();
  const c = Cursor.of(b, t, field);
  while (!c.done) {
    const ec = Cursor.of(b, c.next(TAG.SEQUENCE, field), field);
    const o = readOid(b, ec.next(TAG.OID, field));
    const critT = ec.optional(TAG.BOOLEAN, field);
    const critical = critT ? readBoolean(b, critT, field) : false;
    const value = valueOf(b, ec.next(TAG.OCTET_STRING, field));
    ec.finish(field);
    if (critT && !critical)
      throw new CertificateMalformed(
        `The extension ${o} encodes critical FALSE, but it is the DEFAULT, which DER omits (X.690 §11.5).`,
        { field, reason: 'explicit DEFAULT critical' },
      );
    if (seen.has(o))
      throw new CertificateMalformed(`The extension ${o} appears more than once.`, {
        field,
        reason: 'duplicate extension',
      });
    seen.add(o);
    out.push({ oid: o, critical, value });
  }
  return out;
}
