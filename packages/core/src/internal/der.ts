/**
 * @module internal/der — a lean, strict DER reader and writer for the X.509 hot paths.
 *
 * asn1js/PKI.js parse a leaf in ~300–650 µs and encode a TBS in ~200–300 µs here, more than the
 * signature itself costs; this codec does both in a few µs. It accepts DER only (definite, minimal
 * lengths; low tag numbers), which is all RFC 5280 allows for certificates and requests.
 */
import { DerMalformed, DerTruncated, InputTooLarge } from '../errors.js';
import { utf8Decode, utf8Encode } from './bytes.js';

export const MAX_DER_BYTES: number = 1 << 20;

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag octet: `[n]` constructed or primitive. */
export const ctx = (n: number, constructed: boolean): number => (constructed ? 0xa0 : 0x80) | n;

/** One tag-length-value: `b[start..end)` is the whole element, `b[valueStart..end)` its contents. */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

function malformed(reason: string, field?: string): DerMalformed {
  return new DerMalformed(`The data is not valid DER: ${reason}${field ? ` (in ${field})` : ''}.`, {
    reason,
    ...(field ? { field } : {}),
  });
}

/** Reads the TLV at `pos`, which must end at or before `limit`. */
export function readTlv(b: Uint8Array, pos: number, limit: number, field?: string): Tlv {
  if (pos + 2 > limit) {
    throw new DerTruncated(
      `The data ends in the middle of a DER header${field ? ` (in ${field})` : ''}.`,
      {
        reason: 'truncated header',
        ...(field ? { field } : {}),
      },
    );
  }
  const tag = b[pos]!;
  if ((tag & 0x1f) === 0x1f) throw malformed('high tag numbers are not used in X.509', field);
  let len = b[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw malformed('indefinite length', field);
    if (n > 4) throw malformed('length field too long', field);
    if (p + n > limit) {
      throw new DerTruncated(
        `The data ends in the middle of a DER length${field ? ` (in ${field})` : ''}.`,
        {
          reason: 'truncated length',
          ...(field ? { field } : {}),
        },
      );
    }
    if (b[p] === 0) throw malformed('non-minimal length', field);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
    if (len < 0x80) throw malformed('non-minimal length', field);
  }
  const end = p + len;
  if (end > limit) {
    throw new DerTruncated(
      `The data is truncated: an element needs ${end - limit} more byte(s)${field ? ` (in ${field})` : ''}.`,
      { reason: 'truncated value', ...(field ? { field } : {}) },
    );
  }
  return { tag, start: pos, valueStart: p, end };
}

/** Parses a whole buffer that must be exactly one DER element. */
export function readRoot(b: Uint8Array, field?: string): Tlv {
  if (b.length > MAX_DER_BYTES) {
    throw new InputTooLarge(`The DER input is ${b.length} bytes; the limit is ${MAX_DER_BYTES}.`, {
      reason: 'der too large',
    });
  }
  const t = readTlv(b, 0, b.length, field);
  if (t.end !== b.length)
    throw malformed(`${b.length - t.end} trailing byte(s) after the element`, field);
  return t;
}

/** Sequential reader over the children of a constructed element. */
export class Cursor {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
    readonly field?: string,
  ) {
    this.pos = start;
  }
  static of(b: Uint8Array, t: Tlv, field?: string): Cursor {
    if ((t.tag & 0x20) === 0) throw malformed('expected a constructed element', field);
    return new Cursor(b, t.valueStart, t.end, field);
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  peekTag(): number | undefined {
    return this.pos < this.end ? this.b[this.pos] : undefined;
  }
  /** Next element; with `tag`, it must have that tag. */
  next(tag?: number, field?: string): Tlv {
    const f = field ?? this.field;
    if (this.pos >= this.end) throw malformed('a required element is missing', f);
    const t = readTlv(this.b, this.pos, this.end, f);
    if (tag !== undefined && t.tag !== tag) {
      throw malformed(`expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`, f);
    }
    this.pos = t.end;
    return t;
  }
  /** Next element if it has `tag`, else undefined. */
  optional(tag: number, field?: string): Tlv | undefined {
    return this.peekTag() === tag ? this.next(tag, field) : undefined;
  }
  finish(field?: string): void {
    if (this.pos !== this.end) throw malformed('unexpected extra element', field ?? this.field);
  }
  /** All remaining elements. */
  rest(): Tlv[] {
    const out: Tlv[] = [];
    while (!this.done) out.push(this.next());
    return out;
  }
}

export function children(b: Uint8Array, t: Tlv, field?: string): Tlv[] {
  return Cursor.of(b, t, field).rest();
}

export const bytesOf = (b: Uint8Array, t: Tlv): Uint8Array => b.subarray(t.start, t.end);
export const valueOf = (b: Uint8Array, t: Tlv): Uint8Array => b.subarray(t.valueStart, t.end);

/** INTEGER contents, checked for minimal two's-complement encoding. */
export function readIntegerBytes(b: Uint8Array, t: Tlv, field?: string): Uint8Array {
  if (t.tag !== TAG.INTEGER) throw malformed('expected an INTEGER', field);
  const v = valueOf(b, t);
  if (v.length === 0) throw malformed('empty INTEGER', field);
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) {
    throw malformed('non-minimal INTEGER', field);
  }
  return v;
}

/** A small non-negative INTEGER as a number. */
export function readSmallInt(b: Uint8Array, t: Tlv, field?: string): number {
  const v = readIntegerBytes(b, t, field);
  if (v[0]! & 0x80) throw malformed('negative INTEGER where a count was expected', field);
  if (v.length > 6) throw malformed('INTEGER too large', field);
  let n = 0;
  for (const x of v) n = n * 256 + x;
  return n;
}

export function readBoolean(b: Uint8Array, t: Tlv, field?: string): boolean {
  if (t.tag !== TAG.BOOLEAN || t.end - t.valueStart !== 1)
    throw malformed('expected a BOOLEAN', field);
  const v = b[t.valueStart];
  if (v === 0xff) return true;
  if (v === 0) return false;
  throw malformed('BOOLEAN must be 0x00 or 0xFF', field);
}

/** BIT STRING → { bytes, unusedBits }. */
export function readBitString(
  b: Uint8Array,
  t: Tlv,
  field?: string,
): { bytes: Uint8Array; unusedBits: number } {
  if (t.tag !== TAG.BIT_STRING || t.end === t.valueStart)
    throw malformed('expected a BIT STRING', field);
  const unused = b[t.valueStart]!;
  const bytes = b.subarray(t.valueStart + 1, t.end);
  if (unused > 7 || (unused > 0 && bytes.length === 0))
    throw malformed('bad BIT STRING padding', field);
  if (unused && bytes[bytes.length - 1]! & ((1 << unused) - 1))
    throw malformed('non-zero BIT STRING padding', field);
  return { bytes, unusedBits: unused };
}

// Decoded OIDs by a hash of their contents; bounded, as a peer can send any number of distinct ones.
const oidCache = new Map<number, { der: Uint8Array; oid: string }[]>();
let oidCacheSize = 0;
/** OBJECT IDENTIFIER contents → dotted string. */
export function readOid(b: Uint8Array, t: Tlv, field?: string): string {
  if (t.tag !== TAG.OID) throw malformed('expected an OBJECT IDENTIFIER', field);
  return oidAt(b, t.valueStart, t.end, field);
}

export function decodeOid(v: Uint8Array, field?: string): string {
  return oidAt(v, 0, v.length, field);
}

/** {@link decodeOid} of `b[start..end)`, without making a view of it first. */
function oidAt(b: Uint8Array, start: number, end: number, field?: string): string {
  const len = end - start;
  if (len === 0 || len > 64) throw malformed('bad OBJECT IDENTIFIER length', field);
  // Short OIDs repeat constantly in certificates: look them up by a hash of their bytes (confirmed
  // byte for byte) rather than decoding, or building a string key, each time.
  let h = 0;
  if (len <= 16) {
    h = len;
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    const list = oidCache.get(h);
    if (list) for (const e of list) if (sameBytes(e.der, b, start, len)) return e.oid;
  }
  const arcs: number[] = [];
  let n = 0;
  for (let i = start; i < end; i++) {
    const x = b[i]!;
    if (n === 0 && x === 0x80) throw malformed('non-minimal OBJECT IDENTIFIER arc', field);
    // Checked before the multiply, so every arc the encoder accepts (any safe integer) decodes.
    if (n > (Number.MAX_SAFE_INTEGER - 127) / 128)
      throw malformed('OBJECT IDENTIFIER arc too large', field);
    n = n * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      arcs.push(n);
      n = 0;
    } else if (i === end - 1) {
      throw malformed('truncated OBJECT IDENTIFIER', field);
    }
  }
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  const s = [...head, ...arcs.slice(1)].join('.');
  if (len <= 16 && oidCacheSize < 4096) {
    oidCacheSize++;
    const list = oidCache.get(h);
    const e = { der: b.slice(start, end), oid: s };
    if (list) list.push(e);
    else oidCache.set(h, [e]);
  }
  return s;
}

function sameBytes(a: Uint8Array, b: Uint8Array, at: number, len: number): boolean {
  if (a.length !== len) return false;
  for (let i = 0; i < len; i++) if (a[i] !== b[at + i]) return false;
  return true;
}

function digits(b: Uint8Array, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = b[i + k]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** UTCTime or GeneralizedTime in the RFC 5280 §4.1.2.5 forms (`YYMMDDHHMMSSZ`, `YYYYMMDDHHMMSSZ`). */
export function readTime(b: Uint8Array, t: Tlv, field?: string): Date {
  // Digits are read straight from the bytes: no string is built per time field.
  const len = t.end - t.valueStart;
  const at = t.valueStart;
  let year: number;
  let o: number;
  if (t.tag === TAG.UTC_TIME) {
    if (len !== 13) throw malformed('UTCTime must be YYMMDDHHMMSSZ', field);
    const yy = digits(b, at, 2);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    o = at + 2;
  } else if (t.tag === TAG.GENERALIZED_TIME) {
    if (len !== 15) throw malformed('GeneralizedTime must be YYYYMMDDHHMMSSZ', field);
    year = digits(b, at, 4);
    o = at + 4;
  } else {
    throw malformed('expected a UTCTime or GeneralizedTime', field);
  }
  const mo = digits(b, o, 2);
  const d = digits(b, o + 2, 2);
  const h = digits(b, o + 4, 2);
  const mi = digits(b, o + 6, 2);
  const se = digits(b, o + 8, 2);
  if (b[t.end - 1] !== 0x5a || Number.isNaN(year + mo + d + h + mi + se)) {
    throw malformed('time is not in the RFC 5280 form', field);
  }
  const ms = Date.UTC(year, mo - 1, d, h, mi, se);
  const date = new Date(ms);
  if (
    mo < 1 ||
    mo > 12 ||
    h > 23 ||
    mi > 59 ||
    se > 59 ||
    date.getUTCDate() !== d ||
    date.getUTCMonth() !== mo - 1
  ) {
    throw malformed('time has an impossible date or time of day', field);
  }
  if (year < 100) date.setUTCFullYear(year);
  return date;
}

/** Bytes as code points 0–255: one call for the short values certificates carry, not a string per byte. */
function latin1(v: Uint8Array): string {
  if (v.length <= 1024) return String.fromCharCode.apply(null, v as unknown as number[]);
  let s = '';
  for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]!);
  return s;
}

function isAscii(v: Uint8Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i]! > 0x7f) return false;
  return true;
}

/** Directory-string kinds → JS string. Returns undefined for a non-string tag. */
export function readString(b: Uint8Array, t: Tlv, field?: string): string | undefined {
  const v = valueOf(b, t);
  switch (t.tag) {
    case TAG.UTF8_STRING:
      // ASCII is valid UTF-8 that decodes byte for byte: skip the decoder's call for it.
      if (isAscii(v)) return latin1(v);
      try {
        return utf8Decode(v);
      } catch (e) {
        throw new DerMalformed(
          `The data is not valid DER: invalid UTF-8 in a UTF8String${field ? ` (in ${field})` : ''}.`,
          {
            reason: 'invalid utf-8',
            cause: e,
            ...(field ? { field } : {}),
          },
        );
      }
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.NUMERIC_STRING:
    case TAG.VISIBLE_STRING:
    case TAG.T61_STRING: {
      for (let i = 0; i < v.length; i++) {
        if (v[i]! > 0x7f && t.tag !== TAG.T61_STRING)
          throw malformed('non-ASCII byte in an ASCII string type', field);
      }
      return latin1(v);
    }
    case TAG.BMP_STRING: {
      if (v.length % 2) throw malformed('BMPString has an odd length', field);
      let s = '';
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
      return s;
    }
    case TAG.UNIVERSAL_STRING: {
      if (v.length % 4) throw malformed('UniversalString length is not a multiple of 4', field);
      let s = '';
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0;
        if (cp > 0x10ffff) throw malformed('UniversalString code point out of range', field);
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return undefined;
  }
}

export function readAscii(b: Uint8Array, t: Tlv, field?: string): string {
  const v = valueOf(b, t);
  for (let i = 0; i < v.length; i++)
    if (v[i]! > 0x7f) throw malformed('non-ASCII byte in an IA5String', field);
  return latin1(v);
}

// --- writer ---

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

/** Encodes one TLV whose contents are the concatenation of `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const hdr = lengthBytes(n);
  const out = new Uint8Array(1 + hdr.length + n);
  out[0] = tag;
  out.set(hdr, 1);
  let o = 1 + hdr.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, ...parts);
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(TAG.SET, ...parts);
export const octets = (v: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, v);
export const nullValue = (): Uint8Array => new Uint8Array([0x05, 0x00]);
export const bool = (v: boolean): Uint8Array => new Uint8Array([0x01, 0x01, v ? 0xff : 0x00]);

/** DER SET OF: elements sorted by their encodings (X.690 §11.6). */
export function setOf(items: readonly Uint8Array[]): Uint8Array {
  return set(...sortDer(items));
}

/** Encodings in DER SET OF order, for implicitly tagged sets. */
export function sortDer(items: readonly Uint8Array[]): Uint8Array[] {
  return [...items].sort((a, b) => {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
}

/** INTEGER from unsigned big-endian magnitude bytes (minimal encoding added here). */
export function uintBytes(mag: Uint8Array): Uint8Array {
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  const m = mag.subarray(i);
  return m.length && m[0]! & 0x80
    ? tlv(TAG.INTEGER, new Uint8Array([0]), m)
    : tlv(TAG.INTEGER, m.length ? m : new Uint8Array([0]));
}

export function int(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`integer must be a non-negative safe integer, received ${n}`);
  const bytes: number[] = [];
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  return uintBytes(new Uint8Array(bytes));
}

const oidEncCache = new Map<string, Uint8Array>();
export function oid(dotted: string): Uint8Array {
  const hit = oidEncCache.get(dotted);
  if (hit) return hit;
  const arcs = dotted.split('.').map(Number);
  if (
    !/^\d+(\.\d+)+$/.test(dotted) ||
    arcs.length < 2 ||
    arcs.some((a) => !Number.isSafeInteger(a) || a < 0) ||
    arcs[0]! > 2 ||
    (arcs[0]! < 2 && arcs[1]! >= 40)
  ) {
    throw new TypeError(
      `OID must be a dotted-decimal object identifier, received ${JSON.stringify(dotted)}`,
    );
  }
  const out: number[] = [];
  const push = (a: number): void => {
    const tmp = [a & 0x7f];
    a = Math.floor(a / 128);
    while (a > 0) {
      tmp.unshift((a & 0x7f) | 0x80);
      a = Math.floor(a / 128);
    }
    out.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  const enc = tlv(TAG.OID, new Uint8Array(out));
  if (oidEncCache.size < 4096) oidEncCache.set(dotted, enc);
  return enc;
}

export function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(TAG.BIT_STRING, new Uint8Array([unusedBits]), bytes);
}

export function utf8String(s: string): Uint8Array {
  return tlv(TAG.UTF8_STRING, utf8Encode(s));
}

export function asciiString(tag: number, s: string): Uint8Array {
  const v = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new RangeError(`string must be ASCII for tag 0x${tag.toString(16)}`);
    v[i] = c;
  }
  return tlv(tag, v);
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const rest =
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    'Z';
  if (y >= 1950 && y < 2050) return asciiString(TAG.UTC_TIME, pad(y % 100, 2) + rest);
  if (y < 0 || y > 9999)
    throw new RangeError(`date must be within years 0000–9999, received ${d.toISOString()}`);
  return asciiString(TAG.GENERALIZED_TIME, pad(y, 4) + rest);
}

export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(ctx(n, true), inner);
