/**
 * @module intro/ornl-name — the RFC 4514 string ORNL certified derives from a Name (`encode.rfc4514name`),
 * byte for byte. ORNL uses it to name files (`id/<name>.crt`, `CA/<name>.crt`) and fill `auths` lists.
 */
import { NameValueInvalid } from '../errors.js';
import { toHex } from '../internal/bytes.js';
import { readRoot, TAG, valueOf } from '../internal/der.js';
import type { AttributeTypeAndValue, Name } from './name.js';

/**
 * Attribute names: python-cryptography's defaults (`_NAMEOID_TO_NAME`) plus ORNL's overrides. Any other
 * type is written as its dotted OID — with a text value, not RFC 4514's `#hex`, as cryptography does.
 */
const ORNL_ATTRIBUTE_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.6', 'C'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  // ORNL's attr_name_overrides
  ['2.5.4.65', 'P'],
  ['2.5.4.46', 'DQ'],
  ['2.5.4.5', 'S'],
  ['1.2.840.113549.1.9.1', 'E'],
  ['2.5.4.12', 'T'],
  ['2.5.4.4', 'SUR'],
  ['2.5.4.42', 'NAME'],
  ['2.5.4.43', 'IN'],
  ['2.5.4.44', 'GEN'],
]);

/**
 * Gives the string ORNL certified's `encode.rfc4514name(name)` returns for the same Name: RDNs in reverse
 * DER order joined by `,`, members of a multi-valued RDN in DER order joined by `+`, python-cryptography's
 * escaping (`\` before `\ " + , ; < >`, before a leading `#` or a leading space in a longer value, before
 * a trailing space; NUL as `\00`; nothing else — `=` and control characters stay as they are), and the
 * attribute names CN L ST O OU C STREET DC UID P DQ S E T SUR NAME IN GEN, any other type as a dotted OID.
 * BIT STRING values print as `#` + hex of their contents; OCTET STRING and time values as their bytes
 * read as UTF-8, as cryptography reads them.
 *
 * Use this, not {@link formatName}, wherever the string must match ORNL's: file names under `id/` and
 * `CA/`, and the `auths` list of a known server.
 *
 * @param name - the name, e.g. a certificate's `subject`.
 * @throws ERR_NAME_VALUE_INVALID (reason `"unreadable by ORNL"`) for a value python-cryptography cannot
 *   read, so ORNL certified would fail on the certificate too: a non-string value other than BIT STRING,
 *   OCTET STRING, UTCTime or GeneralizedTime; a T61String or OCTET STRING that is not UTF-8; an unpaired
 *   surrogate.
 * @example
 * ornlName(caCert.subject); // 'P=Signing Certificate,L=Oak Ridge,C=US,OU=IT,O=Example Corp'
 */
export function ornlName(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) => rdn.map(formatAttribute).join('+'))
    .join(',');
}

// --- internal ---

function formatAttribute(a: AttributeTypeAndValue): string {
  const attrName = ORNL_ATTRIBUTE_NAMES.get(a.type) ?? a.type;
  const v = pythonValue(a);
  return `${attrName}=${typeof v === 'string' ? escapeValue(v) : '#' + toHex(v)}`;
}

const unreadable = (a: AttributeTypeAndValue, why: string): NameValueInvalid =>
  new NameValueInvalid(
    `ORNL certified cannot read name attribute ${ORNL_ATTRIBUTE_NAMES.get(a.type) ?? a.type}: ${why}.`,
    { field: a.type, reason: 'unreadable by ORNL' },
  );

/** Tags python-cryptography's `_ASN1Type` knows, other than BIT STRING, BMPString and UniversalString. */
const UTF8_TAGS: ReadonlySet<number> = new Set([
  TAG.OCTET_STRING,
  TAG.UTF8_STRING,
  TAG.NUMERIC_STRING,
  TAG.PRINTABLE_STRING,
  TAG.T61_STRING,
  TAG.IA5_STRING,
  TAG.UTC_TIME,
  TAG.GENERALIZED_TIME,
  TAG.VISIBLE_STRING,
]);

// With the u flag only unpaired surrogates match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The value python-cryptography's NameAttribute holds: `str`, or `bytes` for a BIT STRING. */
function pythonValue(a: AttributeTypeAndValue): string | Uint8Array {
  if (a.der !== undefined) {
    const t = readRoot(a.der);
    const content = valueOf(a.der, t);
    // cryptography keeps a BIT STRING's contents, unused-bits octet included, as bytes.
    if (t.tag === TAG.BIT_STRING) return content;
    if (t.tag === TAG.BMP_STRING) return utf16(a, content, 2);
    if (t.tag === TAG.UNIVERSAL_STRING) return utf16(a, content, 4);
    // Every other tag it accepts (its _ASN1Type) it reads as UTF-8 text.
    if (UTF8_TAGS.has(t.tag))
      return utf8(a, content, `its ASN.1 tag 0x${t.tag.toString(16)} value is not UTF-8`);
    throw unreadable(
      a,
      `python-cryptography refuses values with ASN.1 tag 0x${t.tag.toString(16)}`,
    );
  }
  let v = a.value;
  if (a.tag === TAG.T61_STRING && /[\u0080-\uffff]/.test(v)) {
    // We read T61String as Latin-1; cryptography reads its bytes as UTF-8.
    if (/[\u0100-\uffff]/.test(v)) throw unreadable(a, 'the T61String value is not 8-bit');
    v = utf8(
      a,
      Uint8Array.from(v, (c) => c.charCodeAt(0)),
      'the T61String value is not UTF-8',
    );
  }
  if (LONE_SURROGATE.test(v)) throw unreadable(a, 'the value has an unpaired surrogate');
  return v;
}

// ignoreBOM: Rust's from_utf8 keeps a leading U+FEFF, so we must too.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(a: AttributeTypeAndValue, bytes: Uint8Array, why: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw unreadable(a, why);
  }
}

/** BMPString (2-byte) or UniversalString (4-byte) big-endian code units, strictly, as Python decodes them. */
function utf16(a: AttributeTypeAndValue, bytes: Uint8Array, width: 2 | 4): string {
  const kind = width === 2 ? 'BMPString' : 'UniversalString';
  if (bytes.length % width) throw unreadable(a, `the ${kind} has a partial character`);
  let s = '';
  for (let i = 0; i < bytes.length; i += width) {
    let c = 0;
    for (let k = 0; k < width; k++) c = c * 256 + bytes[i + k]!;
    if (c > 0x10ffff) throw unreadable(a, `the ${kind} has a code point out of range`);
    s += String.fromCodePoint(c);
  }
  if (LONE_SURROGATE.test(s)) throw unreadable(a, `the ${kind} has an unpaired surrogate`);
  return s;
}

/**
 * python-cryptography's `_escape_dn_value`, checked against 48.0.0: a value that is one space prints as
 * `\ `. Releases before the fix for pyca/cryptography#13843 (ORNL's uv.lock pins 46.0.3) escaped that
 * space twice; no other value differs.
 */
function escapeValue(value: string): string {
  if (value === '') return '';
  let v = value.replace(/[\\"+,;<>]/g, (c) => '\\' + c).replace(/\0/g, '\\00');
  if (v[0] === '#' || (v[0] === ' ' && v.length > 1)) v = '\\' + v;
  if (v.endsWith(' ')) v = v.slice(0, -1) + '\\ ';
  return v;
}
