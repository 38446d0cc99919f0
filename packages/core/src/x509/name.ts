/**
 * @module x509/name — X.501 distinguished names (RFC 5280 §4.1.2.4): DER encode/decode, RFC 4514
 * text format/parse, RFC 5280 §7.1 comparison, and the subject-name builders of ORNL certified.
 */
import { DerMalformed, NameSyntaxError, NameValueInvalid } from '../errors.js';
import { toHex, utf8Decode, utf8Encode } from '../internal/bytes.js';
import {
  TAG,
  type Tlv,
  bytesOf,
  children,
  oid,
  readOid,
  readRoot,
  readString,
  readTlv,
  seq,
  setOf,
  tlv,
} from '../internal/der.js';

/** One attribute of a relative distinguished name, e.g. `CN=example`. */
export interface AttributeTypeAndValue {
  /** Attribute type as a dotted OID, e.g. `"2.5.4.3"` for CN. */
  readonly type: string;
  /** The value as text; `'#'` + hex of `der` when the value is not a string. */
  readonly value: string;
  /**
   * ASN.1 string tag used in DER. When absent, `encodeName` chooses: PrintableString for C and for
   * dnQualifier/serialNumber when printable, IA5String for DC and emailAddress, else UTF8String.
   * `decodeName` leaves it absent when the DER used exactly that default.
   */
  readonly tag?: number;
  /** Whole DER TLV of a non-string value (RFC 4514 `#hex` form); when set, `value` is `'#'` + hex. */
  readonly der?: Uint8Array;
}

/** A set of attributes at one level of a name; usually exactly one. */
export type RelativeDistinguishedName = readonly AttributeTypeAndValue[];

/** An X.501 Name in DER order: most significant RDN first (the reverse of RFC 4514 text). */
export type Name = readonly RelativeDistinguishedName[];

// --- attribute table ---

const OID = {
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  serialNumber: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  title: '2.5.4.12',
  postalCode: '2.5.4.17',
  GN: '2.5.4.42',
  initials: '2.5.4.43',
  generationQualifier: '2.5.4.44',
  dnQualifier: '2.5.4.46',
  pseudonym: '2.5.4.65',
  organizationIdentifier: '2.5.4.97',
  UID: '0.9.2342.19200300.100.1.1',
  DC: '0.9.2342.19200300.100.1.25',
  emailAddress: '1.2.840.113549.1.9.1',
} as const;

/** OID → short name used by formatName (RFC 4514 §3 names plus the OpenSSL/cryptography extras). */
const SHORT = new Map<string, string>(Object.entries(OID).map(([k, v]) => [v, k]));

/** Lower-cased names parseName accepts, including long-form aliases. */
const BY_NAME = new Map<string, string>([
  ...Object.entries(OID).map(([k, v]) => [k.toLowerCase(), v] as [string, string]),
  ['commonname', OID.CN],
  ['surname', OID.SN],
  ['countryname', OID.C],
  ['localityname', OID.L],
  ['stateorprovincename', OID.ST],
  ['s', OID.ST],
  ['street', OID.STREET],
  ['streetaddress', OID.STREET],
  ['organizationname', OID.O],
  ['organizationalunitname', OID.OU],
  ['givenname', OID.GN],
  ['userid', OID.UID],
  ['domaincomponent', OID.DC],
  ['email', OID.emailAddress],
  ['e', OID.emailAddress],
]);

/** Upper bounds in characters (RFC 5280 Appendix A `ub-*`; UID/DC/STREET are our choice). */
const MAX_LEN = new Map<string, number>([
  [OID.CN, 64],
  [OID.SN, 32768],
  [OID.serialNumber, 64],
  [OID.C, 2],
  [OID.L, 128],
  [OID.ST, 128],
  [OID.STREET, 128],
  [OID.O, 64],
  [OID.OU, 64],
  [OID.title, 64],
  [OID.postalCode, 40],
  [OID.GN, 32768],
  [OID.initials, 32768],
  [OID.generationQualifier, 32768],
  [OID.dnQualifier, 64],
  [OID.pseudonym, 128],
  [OID.organizationIdentifier, 128],
  [OID.UID, 256],
  [OID.DC, 63],
  [OID.emailAddress, 255],
]);

const fieldOf = (type: string): string => SHORT.get(type) ?? type;

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
// With the u flag only unpaired surrogates match, which UTF-8 cannot carry.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function defaultTag(type: string, value: string): number {
  if (type === OID.C) return TAG.PRINTABLE_STRING;
  if ((type === OID.dnQualifier || type === OID.serialNumber) && PRINTABLE.test(value))
    return TAG.PRINTABLE_STRING;
  if (type === OID.DC || type === OID.emailAddress) return TAG.IA5_STRING;
  return TAG.UTF8_STRING;
}

function invalid(type: string, message: string, reason: string): NameValueInvalid {
  return new NameValueInvalid(`Name attribute ${fieldOf(type)}: ${message}.`, {
    field: fieldOf(type),
    reason,
  });
}

/** Encodes `value` as the string type `tag`, refusing characters the type cannot carry. */
function encodeString(type: string, tag: number, value: string): Uint8Array {
  const codeUnits = (max: number, test?: RegExp): Uint8Array => {
    const v = new Uint8Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c > max)
        throw invalid(
          type,
          `character U+${c.toString(16).toUpperCase().padStart(4, '0')} cannot be encoded as string tag 0x${tag.toString(16)}`,
          'bad character',
        );
      v[i] = c;
    }
    if (test && !test.test(value))
      throw invalid(
        type,
        `value contains characters not allowed in string tag 0x${tag.toString(16)}`,
        'bad character',
      );
    return v;
  };
  switch (tag) {
    case TAG.UTF8_STRING:
      if (LONE_SURROGATE.test(value))
        throw invalid(type, 'value contains an unpaired surrogate', 'bad character');
      return tlv(tag, utf8Encode(value));
    case TAG.PRINTABLE_STRING:
      return tlv(tag, codeUnits(0x7f, PRINTABLE));
    case TAG.IA5_STRING:
      return tlv(tag, codeUnits(0x7f));
    case TAG.NUMERIC_STRING:
      return tlv(tag, codeUnits(0x7f, /^[0-9 ]*$/));
    case TAG.VISIBLE_STRING:
      return tlv(tag, codeUnits(0x7e, /^[\x20-\x7e]*$/));
    case TAG.T61_STRING:
      return tlv(tag, codeUnits(0xff));
    case TAG.BMP_STRING: {
      const v = new Uint8Array(value.length * 2);
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        v[2 * i] = c >> 8;
        v[2 * i + 1] = c & 0xff;
      }
      return tlv(tag, v);
    }
    case TAG.UNIVERSAL_STRING: {
      const cps = Array.from(value, (ch) => ch.codePointAt(0)!);
      const v = new Uint8Array(cps.length * 4);
      cps.forEach((cp, i) => new DataView(v.buffer).setUint32(4 * i, cp));
      return tlv(tag, v);
    }
    default:
      throw new RangeError(
        `tag must be an ASN.1 string tag, received 0x${tag.toString(16)} (for ${fieldOf(type)})`,
      );
  }
}

/** DER of one attribute value, after RFC 5280 value checks. */
function encodeValue(a: AttributeTypeAndValue): Uint8Array {
  if (a.der !== undefined) {
    try {
      readRoot(a.der);
    } catch (e) {
      throw new NameValueInvalid(
        `Name attribute ${fieldOf(a.type)}: der is not exactly one DER element.`,
        {
          field: fieldOf(a.type),
          reason: 'bad der',
          cause: e,
        },
      );
    }
    return a.der;
  }
  if (typeof a.value !== 'string')
    throw new TypeError(
      `value must be a string, received ${typeof a.value} (for ${fieldOf(a.type)})`,
    );
  const v = a.value;
  if (v.length === 0) throw invalid(a.type, 'value must not be empty', 'empty');
  if (a.type === OID.C && !/^[A-Za-z]{2}$/.test(v)) {
    throw invalid(
      a.type,
      `country must be a two-letter ISO 3166 code, received ${JSON.stringify(v)}`,
      'bad country',
    );
  }
  const max = MAX_LEN.get(a.type);
  if (max !== undefined) {
    const n = Array.from(v).length;
    if (n > max)
      throw invalid(a.type, `value is ${n} characters; RFC 5280 allows at most ${max}`, 'too long');
  }
  return encodeString(a.type, a.tag ?? defaultTag(a.type, v), v);
}

function encodeAttribute(a: AttributeTypeAndValue): Uint8Array {
  let typeDer: Uint8Array;
  try {
    typeDer = oid(a.type);
  } catch (e) {
    throw new TypeError(`attribute type must be a dotted OID, received ${JSON.stringify(a.type)}`, {
      cause: e,
    });
  }
  return seq(typeDer, encodeValue(a));
}

/** Builds an attribute from a value TLV, as decodeName and `#hex` parsing both need. */
function attributeFromTlv(
  type: string,
  b: Uint8Array,
  t: Tlv,
  field?: string,
): AttributeTypeAndValue {
  const s = readString(b, t, field);
  if (s === undefined) {
    const der = bytesOf(b, t).slice();
    return { type, value: '#' + toHex(der), der };
  }
  return t.tag === defaultTag(type, s) ? { type, value: s } : { type, value: s, tag: t.tag };
}

// --- DER ---

/**
 * Encodes a Name as DER (RFC 5280 §4.1.2.4). Each RDN becomes a DER SET OF (members sorted).
 *
 * @param name RDNs in DER order (most significant first); every RDN must have at least one attribute.
 * @returns The DER `SEQUENCE OF RelativeDistinguishedName`.
 * @throws {NameValueInvalid} `ERR_NAME_VALUE_INVALID` for an empty value, a value over its RFC 5280
 *   upper bound, a country that is not two letters, or characters the string type cannot carry.
 * @throws {RangeError} for an empty RDN or a non-string `tag`.
 * @example
 * const der = encodeName([[{ type: '2.5.4.3', value: 'example' }]]);
 */
export function encodeName(name: Name): Uint8Array {
  return seq(
    ...name.map((rdn, i) => {
      if (rdn.length === 0)
        throw new RangeError(
          `name[${i}] must contain at least one attribute, received an empty RDN`,
        );
      return setOf(rdn.map(encodeAttribute));
    }),
  );
}

function malformed(reason: string, field: string): DerMalformed {
  return new DerMalformed(`The data is not valid DER: ${reason} (in ${field}).`, { reason, field });
}

/**
 * Decodes a DER Name. String values keep their tag (omitted when it is the encoder's default), so
 * `encodeName` reproduces the input bytes; non-string values are kept as `der`.
 *
 * @param b The buffer holding the name.
 * @param t The name's SEQUENCE TLV within `b` (from `readTlv`/`Cursor`).
 * @param field Where the name sits, for error messages; default `"name"`.
 * @returns The name, frozen (RDNs and attributes too), so comparisons may memoise on it.
 * @throws {DerMalformed} `ERR_DER_MALFORMED` for a structure that is not an RFC 5280 Name.
 * @example
 * const name = decodeName(der, readRoot(der));
 */
export function decodeName(b: Uint8Array, t: Tlv, field = 'name'): Name {
  if (t.tag !== TAG.SEQUENCE) throw malformed('a Name must be a SEQUENCE', field);
  const rdns = children(b, t, field).map((rdnTlv) => {
    if (rdnTlv.tag !== TAG.SET) throw malformed('an RDN must be a SET', field);
    const members = children(b, rdnTlv, field);
    if (members.length === 0) throw malformed('an RDN must not be empty', field);
    const rdn = members.map((m) => {
      if (m.tag !== TAG.SEQUENCE)
        throw malformed('an AttributeTypeAndValue must be a SEQUENCE', field);
      const parts = children(b, m, field);
      if (parts.length !== 2)
        throw malformed('an AttributeTypeAndValue must have exactly a type and a value', field);
      return Object.freeze(attributeFromTlv(readOid(b, parts[0]!, field), b, parts[1]!, field));
    });
    return Object.freeze(rdn);
  });
  return Object.freeze(rdns);
}

// --- RFC 4514 text ---

function escapeValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f)) {
      for (const byte of utf8Encode(ch))
        out += '\\' + byte.toString(16).toUpperCase().padStart(2, '0');
    } else if (
      '"+,;<>=\\'.includes(ch) ||
      ((ch === ' ' || ch === '#') && i === 0) ||
      (ch === ' ' && i === v.length - 1)
    ) {
      out += '\\' + ch;
    } else {
      out += ch;
    }
  }
  return out;
}

function formatAttribute(a: AttributeTypeAndValue): string {
  const short = SHORT.get(a.type);
  if (a.der !== undefined) return `${short ?? a.type}=#${toHex(a.der)}`;
  // RFC 4514 §2.4: a type without a short name is written as an OID with the value's BER in hex.
  if (short === undefined) return `${a.type}=#${toHex(encodeValue(a))}`;
  return `${short}=${escapeValue(a.value)}`;
}

/**
 * Formats a Name as an RFC 4514 string: RDNs in reverse DER order, `+` between members of a
 * multi-valued RDN. Short names: CN, SN, serialNumber, C, L, ST, STREET, O, OU, title, postalCode,
 * GN, initials, generationQualifier, dnQualifier, pseudonym, organizationIdentifier, UID, DC,
 * emailAddress; other types as a dotted OID with `#hex`.
 *
 * @param name The name to format.
 * @throws {NameValueInvalid} `ERR_NAME_VALUE_INVALID` when an unknown-type value cannot be encoded.
 * @example
 * formatName([[{ type: '2.5.4.6', value: 'US' }], [{ type: '2.5.4.3', value: 'a,b' }]]); // 'CN=a\\,b,C=US'
 */
export function formatName(name: Name): string {
  return [...name]
    .reverse()
    .map((rdn) => rdn.map(formatAttribute).join('+'))
    .join(',');
}

const syntax = (message: string, pos: number): NameSyntaxError =>
  new NameSyntaxError(`Invalid RFC 4514 name at position ${pos}: ${message}.`, { reason: message });

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

/**
 * Parses an RFC 4514 string (RFC 4514 §3) into a Name in DER order. Accepts short names
 * case-insensitively (plus long forms like `commonName`), dotted OIDs (optionally `OID.`-prefixed),
 * `\` escapes including hex pairs forming UTF-8, `#hex` DER values, `+` for multi-valued RDNs, and
 * spaces around `,` `+` `=`. An empty string gives an empty Name.
 *
 * @param s The RFC 4514 text, e.g. `"CN=example,O=Example Org,C=US"`.
 * @throws {NameSyntaxError} `ERR_NAME_SYNTAX` naming the position of the first problem.
 * @example
 * parseName('CN=a\\,b+UID=x,C=US'); // [[{ type: '2.5.4.6', value: 'US' }], [CN a,b + UID x]]
 */
export function parseName(s: string): Name {
  const rdns: AttributeTypeAndValue[][] = [];
  let i = 0;
  const skipSpaces = (): void => {
    while (s[i] === ' ') i++;
  };
  skipSpaces();
  if (i === s.length) return [];
  let rdn: AttributeTypeAndValue[] = [];
  for (;;) {
    skipSpaces();
    // attributeType
    const typeStart = i;
    while (i < s.length && /[A-Za-z0-9.-]/.test(s[i]!)) i++;
    let typeText = s.slice(typeStart, i);
    if (typeText === '') throw syntax(`expected an attribute type, found ${describe(s, i)}`, i);
    if (/^oid\./i.test(typeText)) typeText = typeText.slice(4);
    let type: string;
    if (/^[0-9]/.test(typeText)) {
      if (!/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/.test(typeText))
        throw syntax(`${JSON.stringify(typeText)} is not a valid numeric OID`, typeStart);
      try {
        oid(typeText);
      } catch {
        throw syntax(`${JSON.stringify(typeText)} is not a valid OID`, typeStart);
      }
      type = typeText;
    } else {
      const known = /^[A-Za-z][A-Za-z0-9-]*$/.test(typeText)
        ? BY_NAME.get(typeText.toLowerCase())
        : undefined;
      if (known === undefined)
        throw syntax(
          `unknown attribute type ${JSON.stringify(typeText)}; write it as a dotted OID`,
          typeStart,
        );
      type = known;
    }
    skipSpaces();
    if (s[i] !== '=')
      throw syntax(`expected '=' after ${JSON.stringify(typeText)}, found ${describe(s, i)}`, i);
    i++;
    skipSpaces();
    // attributeValue
    const valueStart = i;
    if (s[i] === '#') {
      i++;
      const hexStart = i;
      while (isHex(s[i])) i++;
      const hex = s.slice(hexStart, i);
      if (hex.length === 0 || hex.length % 2)
        throw syntax('a #hex value needs an even number of hex digits, at least two', hexStart);
      const bytes = new Uint8Array(hex.length / 2);
      for (let k = 0; k < bytes.length; k++) bytes[k] = parseInt(hex.slice(2 * k, 2 * k + 2), 16);
      let t: Tlv;
      try {
        t = readTlv(bytes, 0, bytes.length);
        if (t.end !== bytes.length) throw new RangeError('trailing bytes');
        if (t.tag & 0x20) children(bytes, t);
      } catch (e) {
        throw new NameSyntaxError(
          `Invalid RFC 4514 name at position ${valueStart}: the #hex value is not exactly one DER element.`,
          {
            reason: 'bad #hex value',
            cause: e,
          },
        );
      }
      try {
        rdn.push(attributeFromTlv(type, bytes, t));
      } catch (e) {
        throw new NameSyntaxError(
          `Invalid RFC 4514 name at position ${valueStart}: the #hex value is not a valid string.`,
          {
            reason: 'bad #hex value',
            cause: e,
          },
        );
      }
      skipSpaces();
    } else {
      const bytes: number[] = [];
      let keep = 0; // bytes up to the last significant (non-space or escaped) character
      while (i < s.length && s[i] !== ',' && s[i] !== '+') {
        const ch = s[i]!;
        if (ch === '\\') {
          const n1 = s[i + 1];
          if (isHex(n1) && isHex(s[i + 2])) {
            bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
            i += 3;
          } else if (n1 !== undefined && ' "#+,;<=>\\'.includes(n1)) {
            bytes.push(n1.charCodeAt(0));
            i += 2;
          } else {
            throw syntax(
              `'\\' must be followed by a special character or two hex digits, found ${describe(s, i + 1)}`,
              i,
            );
          }
          keep = bytes.length;
          continue;
        }
        if ('";<>\0'.includes(ch)) {
          throw syntax(
            `${describe(s, i)} must be escaped with '\\'${ch === ';' ? " (RFC 4514 separates RDNs with ',')" : ''}`,
            i,
          );
        }
        const cp = s.codePointAt(i)!;
        const chars = String.fromCodePoint(cp);
        if (LONE_SURROGATE.test(chars)) throw syntax('unpaired surrogate', i);
        bytes.push(...utf8Encode(chars));
        i += chars.length;
        if (ch !== ' ') keep = bytes.length;
      }
      if (keep === 0) throw syntax(`empty value for ${JSON.stringify(typeText)}`, valueStart);
      let value: string;
      try {
        value = utf8Decode(new Uint8Array(bytes.slice(0, keep)));
      } catch (e) {
        throw new NameSyntaxError(
          `Invalid RFC 4514 name at position ${valueStart}: escaped bytes are not valid UTF-8.`,
          {
            reason: 'invalid utf-8',
            cause: e,
          },
        );
      }
      rdn.push({ type, value });
    }
    if (i === s.length) {
      rdns.push(rdn);
      break;
    }
    if (s[i] === ',') {
      rdns.push(rdn);
      rdn = [];
    } else if (s[i] !== '+') {
      throw syntax(`expected ',' or '+' after a value, found ${describe(s, i)}`, i);
    }
    i++;
  }
  return rdns.reverse();
}

function describe(s: string, i: number): string {
  return i >= s.length ? 'end of input' : JSON.stringify(s[i]);
}

// --- comparison ---

/** RFC 4518-lite: NFKC, case-fold, insignificant space removal. */
function normalize(v: string): string {
  // Printable ASCII (nearly every name): NFKC leaves it unchanged and space is its only whitespace.
  if (PRINTABLE_ASCII.test(v)) return v.toLowerCase().replace(/ +/g, ' ').trim();
  return v.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const rdnKeyCache = new WeakMap<Name, readonly string[]>();

/**
 * One canonical string per RDN: its attributes (type, then normalised string value or the hex of a
 * non-string value), sorted, so two RDNs match per RFC 5280 §7.1 exactly when their keys are equal.
 * Memoised per frozen Name object (decoded names are frozen): a name is normalised once however
 * often it is compared, which is what bounds name-constraint checking (NFKC can expand a value 18×).
 * A name the caller may still change is normalised afresh each time.
 *
 * @param name The name.
 * @returns The RDN keys, in RDN order (frozen).
 * @example
 * rdnKeys(parseName('CN=A+O=B'))[0] === rdnKeys(parseName('o=b + cn=a'))[0]; // true
 */
export function rdnKeys(name: Name): readonly string[] {
  let keys = rdnKeyCache.get(name);
  if (keys === undefined) {
    keys = Object.freeze(
      name.map((rdn) =>
        JSON.stringify(
          rdn
            .map((a) =>
              JSON.stringify([
                a.type,
                a.der !== undefined ? '#' + toHex(a.der) : '"' + normalize(a.value),
              ]),
            )
            .sort(),
        ),
      ),
    );
    if (Object.isFrozen(name)) rdnKeyCache.set(name, keys);
  }
  return keys;
}

/**
 * Compares two names per RFC 5280 §7.1: same number of RDNs, each RDN the same set of attributes;
 * string values match after NFKC, lower-casing and whitespace collapsing, whatever their string type;
 * non-string values match bytewise.
 *
 * @param a First name.
 * @param b Second name.
 * @returns Whether the names match.
 * @example
 * nameEquals(parseName('CN=Foo  Bar'), parseName('cn=foo bar')); // true
 */
export function nameEquals(a: Name, b: Name): boolean {
  if (a.length !== b.length) return false;
  const ka = rdnKeys(a);
  const kb = rdnKeys(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return false;
  return true;
}

/**
 * A canonical string for a name: names equal under `nameEquals` give equal keys, others differ.
 * Meant for Map lookups (e.g. issuer → candidate certificates); not for display.
 *
 * @param name The name.
 * @example
 * nameKey(parseName('CN=A')) === nameKey(parseName('cn= a')); // true
 */
export function nameKey(name: Name): string {
  return JSON.stringify(rdnKeys(name));
}

// --- builders ---

/** Options for {@link personName}. */
export interface PersonNameOptions {
  /** The person's name (CN, ≤ 64 characters). */
  commonName: string;
  /** User id (UID). */
  uid?: string;
  /** Pseudonym (≤ 128 characters). */
  pseudonym?: string;
  /** Two-letter country code (C). */
  country?: string;
  /** State or province (ST). */
  state?: string;
  /** Locality (L). */
  locality?: string;
  /** Domain components (DC), in the order given. */
  domainComponents?: readonly string[];
}

type Part = readonly [string, string | undefined];

function build(parts: readonly Part[], dcs: readonly string[] | undefined): Name {
  const all: Part[] = [...parts, ...(dcs ?? []).map((d): Part => [OID.DC, d])];
  const name: AttributeTypeAndValue[][] = [];
  for (const [type, value] of all) {
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string')
      throw new TypeError(`${fieldOf(type)} must be a string, received ${typeof value}`);
    const a: AttributeTypeAndValue = { type, value };
    encodeValue(a); // validate now, so the error points at the option
    name.push([a]);
  }
  return name;
}

/**
 * Builds a person's subject name like ORNL certified's `person_name`: one RDN per attribute, in the
 * order CN, UID, pseudonym, C, ST, L, then each DC. Empty options are omitted.
 *
 * @param o.commonName Required CN.
 * @param o.uid UID; default none. @param o.pseudonym pseudonym; default none.
 * @param o.country C; default none. @param o.state ST; default none. @param o.locality L; default none.
 * @param o.domainComponents DC values; default none.
 * @throws {NameValueInvalid} `ERR_NAME_VALUE_INVALID` (field = short name) for an empty CN, a bad
 *   country, or a value over its RFC 5280 upper bound.
 * @example
 * personName({ commonName: 'Ada Lovelace', country: 'GB' });
 */
export function personName(o: PersonNameOptions): Name {
  if (!o.commonName) throw invalid(OID.CN, 'commonName must not be empty', 'empty');
  return build(
    [
      [OID.CN, o.commonName],
      [OID.UID, o.uid],
      [OID.pseudonym, o.pseudonym],
      [OID.C, o.country],
      [OID.ST, o.state],
      [OID.L, o.locality],
    ],
    o.domainComponents,
  );
}

/** Options for {@link organizationName}. */
export interface OrganizationNameOptions {
  /** Organization (O, ≤ 64 characters). */
  organization: string;
  /** Organizational unit (OU). */
  unit?: string;
  /** Common name (CN). */
  commonName?: string;
  /** Pseudonym. */
  pseudonym?: string;
  /** Two-letter country code (C). */
  country?: string;
  /** State or province (ST). */
  state?: string;
  /** Locality (L). */
  locality?: string;
  /** Domain components (DC), in the order given. */
  domainComponents?: readonly string[];
}

/**
 * Builds an organization's subject name like ORNL certified's `org_name`: one RDN per attribute, in
 * the order O, OU, CN, pseudonym, C, ST, L, then each DC. Empty options are omitted.
 *
 * @param o.organization Required O. @param o.unit OU; default none. @param o.commonName CN; default none.
 * @param o.pseudonym default none. @param o.country C; default none. @param o.state ST; default none.
 * @param o.locality L; default none. @param o.domainComponents DC values; default none.
 * @throws {NameValueInvalid} `ERR_NAME_VALUE_INVALID` (field = short name) for an empty O, a bad
 *   country, or a value over its RFC 5280 upper bound.
 * @example
 * organizationName({ organization: 'Example Corp', unit: 'IT', country: 'US' });
 */
export function organizationName(o: OrganizationNameOptions): Name {
  if (!o.organization) throw invalid(OID.O, 'organization must not be empty', 'empty');
  return build(
    [
      [OID.O, o.organization],
      [OID.OU, o.unit],
      [OID.CN, o.commonName],
      [OID.pseudonym, o.pseudonym],
      [OID.C, o.country],
      [OID.ST, o.state],
      [OID.L, o.locality],
    ],
    o.domainComponents,
  );
}

/** The pseudonym `signingName` appends to mark a CA's signing identity. */
export const SIGNING_PSEUDONYM = 'Signing Certificate';

/**
 * Returns `name` with one more RDN, `pseudonym=Signing Certificate` (ORNL certified's
 * `append_pseudonym`), used for CA subjects so they differ from the entity's own name.
 *
 * @param name The entity's name; not modified.
 * @example
 * signingName(organizationName({ organization: 'Example Corp' }));
 */
export function signingName(name: Name): Name {
  return [...name, [{ type: OID.pseudonym, value: SIGNING_PSEUDONYM }]];
}

/**
 * The last (least significant) CN string value in a name, if any.
 *
 * @param name The name to search.
 * @example
 * commonNameOf(parseName('CN=leaf,O=Example')); // 'leaf'
 */
export function commonNameOf(name: Name): string | undefined {
  let cn: string | undefined;
  for (const rdn of name)
    for (const a of rdn) if (a.type === OID.CN && a.der === undefined) cn = a.value;
  return cn;
}
