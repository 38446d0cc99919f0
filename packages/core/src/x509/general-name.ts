/**
 * @module x509/general-name — GeneralName (RFC 5280 §4.2.1.6): validated builders for DNS, IP,
 * email and URI alternative names, OpenSSL-style text, and DER encode/decode.
 */
import { AltNameInvalid, DerMalformed } from '../errors.js';
import {
  TAG,
  type Tlv,
  asciiString,
  bytesOf,
  children,
  ctx,
  readAscii,
  tlv,
  valueOf,
} from '../internal/der.js';
import { decodeName, encodeName, formatName, parseName, type Name } from './name.js';

/** One GeneralName. Kinds we do not interpret (otherName, x400Address, ediPartyName, registeredID) stay raw. */
export type GeneralName =
  /** dNSName in A-label form, lower-case (when built by `dnsName`). */
  | { readonly type: 'dns'; readonly value: string }
  /** iPAddress as canonical text: dotted IPv4 or RFC 5952 IPv6. */
  | { readonly type: 'ip'; readonly value: string }
  /** rfc822Name, `local@domain`. */
  | { readonly type: 'email'; readonly value: string }
  /** uniformResourceIdentifier, an absolute ASCII URI. */
  | { readonly type: 'uri'; readonly value: string }
  /** directoryName. */
  | { readonly type: 'dirName'; readonly value: Name }
  /** Any other kind: `tag` is its context tag octet, `der` its whole TLV. */
  | { readonly type: 'other'; readonly tag: number; readonly der: Uint8Array };

type Kind = 'dns' | 'ip' | 'email' | 'uri';

const bad = (field: Kind, message: string, reason: string, cause?: unknown): AltNameInvalid =>
  new AltNameInvalid(message, { field, reason, ...(cause === undefined ? {} : { cause }) });

const show = (s: string): string => JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s);

// --- DNS ---

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Validates and canonicalises a host name (no wildcard); `what` names it in messages. */
function hostName(input: string, field: Kind, what: string): string {
  let host = input.endsWith('.') ? input.slice(0, -1) : input;
  if (host === '') throw bad(field, `The ${what} is empty.`, 'empty');
  if (/[^A-Za-z0-9.\-\u0080-\u{10ffff}]/u.test(host)) {
    throw bad(
      field,
      `The ${what} ${show(input)} may contain only letters, digits, '-' and '.'.`,
      'bad character',
    );
  }
  const numericTld = (h: string): AltNameInvalid | undefined =>
    /(^|\.)[0-9]+$/.test(h)
      ? bad(
          field,
          `The ${what} ${show(input)} ends in a numeric label; if it is an address, use IP: instead.`,
          'numeric tld',
        )
      : undefined;
  const early = numericTld(host);
  if (early) throw early;
  const ascii = !/[^\x20-\x7e]/.test(host); // only LDH and '.' remain after the check above
  let converted: string;
  try {
    // The WHATWG URL parser is the web platform's UTS #46 (IDNA) implementation.
    converted = new URL(`http://${host}/`).hostname;
  } catch (e) {
    throw bad(field, `The ${what} ${show(input)} is not a valid host name.`, 'idna', e);
  }
  if (
    ascii ? converted !== host.toLowerCase() : converted.includes('%') || converted.startsWith('[')
  ) {
    // The parser rewrote more than case, e.g. read '1.2.3' as an IPv4 address.
    throw bad(
      field,
      `The ${what} ${show(input)} is not a plain host name (it reads as ${show(converted)}).`,
      'not a host name',
    );
  }
  host = converted;
  if (host.length > 253)
    throw bad(field, `The ${what} is ${host.length} characters; the limit is 253.`, 'too long');
  const labels = host.split('.');
  for (const l of labels) {
    if (!LABEL.test(l)) {
      throw bad(
        field,
        l === ''
          ? `The ${what} ${show(input)} has an empty label.`
          : `The ${what} ${show(input)} has an invalid label ${show(l)}: labels are 1–63 letters, digits or '-', not starting or ending with '-'.`,
        'bad label',
      );
    }
  }
  const late = numericTld(host); // e.g. full-width digits mapped to ASCII
  if (late) throw late;
  return host;
}

/**
 * A dNSName (RFC 5280 §4.2.1.6), validated and in lower-case A-label form. Internationalised names
 * are converted with the platform URL parser (UTS #46); a trailing dot is removed. A wildcard is
 * allowed only as the whole leftmost label followed by at least two labels (`*.example.com`).
 *
 * @param name The host name, e.g. `"café.example.com"` or `"*.example.com"`.
 * @throws {AltNameInvalid} `ERR_SAN_INVALID` (field `dns`) for bad characters or labels, a name over
 *   253 characters, a misplaced wildcard, or something that reads as an IP address.
 * @example
 * dnsName('café.example.com'); // { type: 'dns', value: 'xn--caf-dma.example.com' }
 */
export function dnsName(name: string): GeneralName {
  if (typeof name !== 'string')
    throw new TypeError(`name must be a string, received ${typeof name}`);
  if (name === '*' || name.startsWith('*.')) {
    const rest = name.slice(2);
    if (name === '*' || !rest.replace(/\.$/, '').includes('.')) {
      throw bad(
        'dns',
        `The wildcard DNS name ${show(name)} must have at least two labels after "*." (e.g. *.example.com).`,
        'wildcard',
      );
    }
    return { type: 'dns', value: '*.' + hostName(rest, 'dns', 'DNS name') };
  }
  if (name.includes('*')) {
    throw bad(
      'dns',
      `The DNS name ${show(name)} has a '*' that is not the whole leftmost label.`,
      'wildcard',
    );
  }
  return { type: 'dns', value: hostName(name, 'dns', 'DNS name') };
}

// --- IP ---

function parseIpv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIpv6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string, last: boolean): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (last && i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  const n = head.length + tail.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - n).fill(0), ...tail];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/**
 * Parses IPv4 dotted-quad or IPv6 text (RFC 4291 forms, optional `[brackets]`) into 4 or 16 bytes.
 *
 * @param text The address; IPv4 parts must be decimal without leading zeros; zone ids are refused.
 * @throws {AltNameInvalid} `ERR_SAN_INVALID` (field `ip`) when the text is not an address.
 * @example
 * ipToBytes('2001:db8::1'); // Uint8Array(16)
 */
export function ipToBytes(text: string): Uint8Array {
  if (typeof text !== 'string')
    throw new TypeError(`text must be a string, received ${typeof text}`);
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.includes('%'))
    throw bad(
      'ip',
      `The IP address ${show(text)} has a zone id; certificates cannot carry one.`,
      'zone id',
    );
  const bytes = s.includes(':') ? parseIpv6(s) : s === text ? parseIpv4(s) : undefined;
  if (!bytes) {
    throw bad(
      'ip',
      `The IP address ${show(text)} is not a valid IPv4 dotted quad (0–255, no leading zeros) or IPv6 address.`,
      'bad address',
    );
  }
  return new Uint8Array(bytes);
}

/**
 * Formats 4 or 16 address bytes: dotted IPv4, or RFC 5952 IPv6 (lower-case, longest zero run as
 * `::`), with IPv4-mapped addresses as `::ffff:a.b.c.d`.
 *
 * @param b The address bytes.
 * @throws {RangeError} when `b` is not 4 or 16 bytes long.
 * @example
 * bytesToIp(new Uint8Array([192, 0, 2, 1])); // '192.0.2.1'
 */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) throw new RangeError(`address must be 4 or 16 bytes, received ${b.length}`);
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return '::ffff:' + Array.from(b.subarray(12)).join('.');
  }
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let best = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: never compress a single zero group
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/**
 * An iPAddress name (RFC 5280 §4.2.1.6) with canonical text.
 *
 * @param addr IPv4 or IPv6 text, e.g. `"2001:DB8:0:0:0:0:0:1"`.
 * @throws {AltNameInvalid} `ERR_SAN_INVALID` (field `ip`) when `addr` is not an address.
 * @example
 * ipAddress('2001:DB8:0:0:0:0:0:1'); // { type: 'ip', value: '2001:db8::1' }
 */
export function ipAddress(addr: string): GeneralName {
  return { type: 'ip', value: bytesToIp(ipToBytes(addr)) };
}

// --- email ---

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;

/**
 * An rfc822Name (RFC 5280 §4.2.1.6): `local@domain` with an ASCII local part (dot-atom or quoted
 * string, case kept) and a domain validated like a DNS name and converted to A-labels.
 *
 * @param addr The mailbox, e.g. `"alice@café.example"`.
 * @throws {AltNameInvalid} `ERR_SAN_INVALID` (field `email`) for a malformed address or a non-ASCII
 *   local part (SmtpUTF8Mailbox, RFC 9598, is not supported).
 * @example
 * emailAddress('Alice@Example.COM'); // { type: 'email', value: 'Alice@example.com' }
 */
export function emailAddress(addr: string): GeneralName {
  if (typeof addr !== 'string')
    throw new TypeError(`addr must be a string, received ${typeof addr}`);
  const at = addr.lastIndexOf('@');
  if (at <= 0 || at === addr.length - 1) {
    throw bad(
      'email',
      `The email address ${show(addr)} must have the form local@domain.`,
      'no at-sign',
    );
  }
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (/[\u0080-\u{10ffff}]/u.test(local)) {
    throw bad(
      'email',
      `The email address ${show(addr)} has a non-ASCII local part; internationalised mailboxes (SmtpUTF8Mailbox) are not supported.`,
      'non-ascii local part',
    );
  }
  const dotAtom = local.split('.').every((p) => ATEXT.test(p));
  const quoted = /^"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/.test(local);
  if (!(dotAtom || quoted) || local.length > 64) {
    throw bad(
      'email',
      `The email address ${show(addr)} has an invalid local part.`,
      'bad local part',
    );
  }
  if (domain.startsWith('[')) {
    throw bad(
      'email',
      `The email address ${show(addr)} uses an address literal; use a domain name.`,
      'address literal',
    );
  }
  return { type: 'email', value: `${local}@${hostName(domain, 'email', 'email domain')}` };
}

// --- URI ---

/**
 * A uniformResourceIdentifier (RFC 5280 §4.2.1.6): an absolute RFC 3986 URI with a scheme, ASCII
 * only; one with an authority (`//`) must name a host. The text is kept as given.
 *
 * @param uri The URI, e.g. `"spiffe://example.org/workload"`.
 * @throws {AltNameInvalid} `ERR_SAN_INVALID` (field `uri`) for a relative URI, spaces or non-ASCII
 *   (percent-encode them), bad `%` escapes, or text the URL parser rejects.
 * @example
 * uriName('https://example.com/a'); // { type: 'uri', value: 'https://example.com/a' }
 */
export function uriName(uri: string): GeneralName {
  if (typeof uri !== 'string') throw new TypeError(`uri must be a string, received ${typeof uri}`);
  if (/[^\x21-\x7e]/.test(uri)) {
    throw bad(
      'uri',
      `The URI ${show(uri)} contains spaces, control or non-ASCII characters; percent-encode them.`,
      'bad character',
    );
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:./.test(uri)) {
    throw bad(
      'uri',
      `The URI ${show(uri)} must be absolute, with a scheme such as "https:".`,
      'no scheme',
    );
  }
  if (/[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/.test(uri) || /%(?![0-9A-Fa-f]{2})/.test(uri)) {
    throw bad(
      'uri',
      `The URI ${show(uri)} has characters RFC 3986 does not allow; percent-encode them.`,
      'bad character',
    );
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch (e) {
    throw bad('uri', `The URI ${show(uri)} cannot be parsed.`, 'unparsable', e);
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(uri) && url.hostname === '') {
    throw bad(
      'uri',
      `The URI ${show(uri)} has an authority without a host (RFC 5280 §4.2.1.6).`,
      'no host',
    );
  }
  return { type: 'uri', value: uri };
}

// --- text ---

/**
 * Parses one alternative name from text: `DNS:`, `IP:` (or `IP Address:`), `email:`, `URI:` or
 * `DirName:` prefixes (case-insensitive, OpenSSL style), or a bare value detected like ORNL
 * certified: an IP address, else an email if it has `@` and no scheme, else a URI if it has
 * `scheme://`, else a DNS name.
 *
 * @param text E.g. `"DNS:example.com"`, `"10.0.0.1"`, `"alice@example.com"`.
 * @throws {AltNameInvalid} `ERR_SAN_INVALID` (field by kind) when the value is invalid.
 * @throws {NameSyntaxError} `ERR_NAME_SYNTAX` for a bad `DirName:` value.
 * @example
 * parseAltName('IP:::1'); // { type: 'ip', value: '::1' }
 */
export function parseAltName(text: string): GeneralName {
  if (typeof text !== 'string')
    throw new TypeError(`text must be a string, received ${typeof text}`);
  const m = /^(dns|ip|ip address|email|uri|dirname):/i.exec(text);
  if (m) {
    const v = text.slice(m[0].length);
    switch (m[1]!.toLowerCase()) {
      case 'dns':
        return dnsName(v);
      case 'ip':
      case 'ip address':
        return ipAddress(v);
      case 'email':
        return emailAddress(v);
      case 'uri':
        return uriName(v);
      default:
        return { type: 'dirName', value: parseName(v) };
    }
  }
  try {
    return ipAddress(text);
  } catch {
    // not an address; try the other kinds
  }
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.test(text);
  if (text.includes('@') && !scheme) return emailAddress(text);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) return uriName(text);
  if (scheme) {
    throw bad(
      'dns',
      `The alternative name ${show(text)} is not a DNS name; prefix it with "URI:" if it is a URI.`,
      'ambiguous',
    );
  }
  return dnsName(text);
}

/**
 * Formats one name OpenSSL-style: `DNS:x`, `IP Address:x`, `email:x`, `URI:x`,
 * `DirName:<RFC 4514>`, or `othername:[n]` for raw kinds (n = context tag number).
 *
 * @param n The name.
 * @example
 * formatGeneralName({ type: 'dns', value: 'example.com' }); // 'DNS:example.com'
 */
export function formatGeneralName(n: GeneralName): string {
  switch (n.type) {
    case 'dns':
      return `DNS:${n.value}`;
    case 'ip':
      return `IP Address:${n.value}`;
    case 'email':
      return `email:${n.value}`;
    case 'uri':
      return `URI:${n.value}`;
    case 'dirName':
      return `DirName:${formatName(n.value)}`;
    case 'other':
      return `othername:[${n.tag & 0x1f}]`;
  }
}

// --- DER ---

const T = {
  email: ctx(1, false),
  dns: ctx(2, false),
  dirName: ctx(4, true),
  uri: ctx(6, false),
  ip: ctx(7, false),
};
const RAW_TAGS: ReadonlySet<number> = new Set([
  ctx(0, true),
  ctx(3, true),
  ctx(5, true),
  ctx(8, false),
]);

function ia5(kind: Kind, tag: number, value: string): Uint8Array {
  if (value === '') throw bad(kind, `The ${kind} name is empty.`, 'empty');
  try {
    return asciiString(tag, value);
  } catch (e) {
    throw bad(
      kind,
      `The ${kind} name ${show(value)} is not ASCII; build it with the ${kind} builder to convert it.`,
      'non-ascii',
      e,
    );
  }
}

/** `addr/prefix` (name-constraint form) → address bytes followed by the mask. */
function cidrToBytes(value: string): Uint8Array {
  const [addr, len] = value.split('/') as [string, string];
  const a = ipToBytes(addr);
  const bits = Number(len);
  if (!/^(0|[1-9][0-9]*)$/.test(len) || bits > a.length * 8)
    throw bad('ip', `The IP range ${show(value)} has an invalid prefix length.`, 'bad prefix');
  const out = new Uint8Array(a.length * 2);
  out.set(a);
  for (let i = 0; i < bits; i++) out[a.length + (i >> 3)]! |= 0x80 >> (i & 7);
  return out;
}

/**
 * Encodes one GeneralName: `[1]` email, `[2]` DNS, `[6]` URI (IA5String), `[7]` IP (OCTET STRING;
 * `addr/prefix` text encodes address + mask for name constraints), `[4]` directoryName (explicit Name).
 * Values are encoded as given; build them with the validating builders.
 *
 * @param n The name.
 * @throws {AltNameInvalid} `ERR_SAN_INVALID` for an empty or non-ASCII string, a bad IP, or raw DER
 *   whose first octet is not `tag`.
 * @example
 * encodeGeneralName(dnsName('example.com'));
 */
export function encodeGeneralName(n: GeneralName): Uint8Array {
  switch (n.type) {
    case 'email':
      return ia5('email', T.email, n.value);
    case 'dns':
      return ia5('dns', T.dns, n.value);
    case 'uri':
      return ia5('uri', T.uri, n.value);
    case 'ip':
      return tlv(T.ip, n.value.includes('/') ? cidrToBytes(n.value) : ipToBytes(n.value));
    case 'dirName':
      return tlv(T.dirName, encodeName(n.value));
    case 'other':
      if (n.der[0] !== n.tag)
        throw new RangeError(
          `der must start with tag 0x${n.tag.toString(16)}, received 0x${(n.der[0] ?? 0).toString(16)}`,
        );
      return n.der;
    default:
      throw new TypeError(
        `GeneralName type must be dns, ip, email, uri, dirName or other, received ${String((n as { type: unknown }).type)}`,
      );
  }
}

/**
 * Encodes `GeneralNames` (a SEQUENCE OF GeneralName), e.g. a subjectAltName extension value.
 *
 * @param names At least one name, in the order given.
 * @throws {RangeError} for an empty list (RFC 5280 requires at least one entry).
 * @throws {AltNameInvalid} `ERR_SAN_INVALID` as {@link encodeGeneralName}.
 * @example
 * encodeGeneralNames([dnsName('example.com'), ipAddress('192.0.2.1')]);
 */
export function encodeGeneralNames(names: readonly GeneralName[]): Uint8Array {
  if (names.length === 0)
    throw new RangeError('names must contain at least one GeneralName, received an empty list');
  return tlv(TAG.SEQUENCE, ...names.map(encodeGeneralName));
}

/** Options for {@link decodeGeneralNames}. */
export interface DecodeGeneralNamesOptions {
  /** Accept 8/32-byte iPAddress values (address + mask, name constraints), read as `addr/prefix`; default false. */
  readonly allowNetmask?: boolean;
}

function malformed(reason: string, field: string): DerMalformed {
  return new DerMalformed(`The data is not valid DER: ${reason} (in ${field}).`, { reason, field });
}

function maskToPrefix(mask: Uint8Array, field: string): number {
  let bits = 0;
  let ended = false;
  for (const byte of mask) {
    for (let i = 7; i >= 0; i--) {
      if (byte & (1 << i)) {
        if (ended) throw malformed('iPAddress netmask is not contiguous', field);
        bits++;
      } else {
        ended = true;
      }
    }
  }
  return bits;
}

/**
 * Decodes `GeneralNames` (SEQUENCE OF, or an implicitly tagged one such as authorityCertIssuer).
 * Values are kept as they are (nothing lower-cased or converted), but the structure is checked:
 * IA5 strings must be non-empty ASCII, IP addresses 4 or 16 bytes, dirName exactly one Name.
 *
 * @param b The buffer.
 * @param t The constructed GeneralNames TLV within `b`.
 * @param field For error messages; default `"subjectAltName"`.
 * @param options.allowNetmask Accept address+mask IPs (name constraints); default false.
 * @throws {DerMalformed} `ERR_DER_MALFORMED` for a structural problem.
 * @example
 * const names = decodeGeneralNames(value, readRoot(value));
 */
export function decodeGeneralNames(
  b: Uint8Array,
  t: Tlv,
  field = 'subjectAltName',
  options: DecodeGeneralNamesOptions = {},
): GeneralName[] {
  if (!(t.tag & 0x20)) throw malformed('GeneralNames must be constructed', field);
  const items = children(b, t, field);
  if (items.length === 0) throw malformed('GeneralNames must contain at least one name', field);
  return items.map((g) => decodeGeneralName(b, g, field, options));
}

/**
 * Decodes one GeneralName TLV (see {@link decodeGeneralNames} for what is checked). Empty IA5 values
 * are refused unless `allowEmpty` (an empty name constraint means "every name of this kind").
 *
 * @example
 * const name = decodeGeneralName(b, tlv, 'nameConstraints', { allowNetmask: true });
 */
export function decodeGeneralName(
  b: Uint8Array,
  g: Tlv,
  field = 'subjectAltName',
  options: DecodeGeneralNamesOptions & { readonly allowEmpty?: boolean } = {},
): GeneralName {
  switch (g.tag) {
    case T.email:
    case T.dns:
    case T.uri: {
      const value = readAscii(b, g, field);
      if (value === '' && !options.allowEmpty) throw malformed('empty name in GeneralNames', field);
      return { type: g.tag === T.email ? 'email' : g.tag === T.dns ? 'dns' : 'uri', value };
    }
    case T.ip: {
      const v = valueOf(b, g);
      if (v.length === 4 || v.length === 16) return { type: 'ip', value: bytesToIp(v) };
      if (options.allowNetmask && (v.length === 8 || v.length === 32)) {
        const h = v.length / 2;
        return {
          type: 'ip',
          value: `${bytesToIp(v.subarray(0, h))}/${maskToPrefix(v.subarray(h), field)}`,
        };
      }
      throw malformed(`iPAddress must be 4 or 16 bytes, found ${v.length}`, field);
    }
    case T.dirName: {
      const inner = children(b, g, field);
      if (inner.length !== 1) throw malformed('directoryName must hold exactly one Name', field);
      return { type: 'dirName', value: decodeName(b, inner[0]!, field) };
    }
    default:
      if (!RAW_TAGS.has(g.tag))
        throw malformed(`unknown GeneralName tag 0x${g.tag.toString(16)}`, field);
      return { type: 'other', tag: g.tag, der: bytesOf(b, g).slice() };
  }
}
