/** @module internal/bytes — byte helpers: hex, base64, concat, compare. */
import { Base64Malformed } from '../errors.js';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Lower-case hex, optionally with a separator between bytes.
 *
 * @example
 * ```ts
 * toHex(new Uint8Array([1, 171]), ':'); // '01:ab'
 * ```
 */
export function toHex(b: Uint8Array, sep = ''): string {
  // join() makes one flat string; `+=` made a chain of a dozen cons cells that a parsed
  // certificate kept alive in serialNumberHex.
  const parts = new Array<string>(b.length);
  for (let i = 0; i < b.length; i++) parts[i] = HEX[b[i]!]!;
  return parts.join(sep);
}

/**
 * Bytes from hex (either case; throws on odd length or a non-hex character).
 *
 * @example
 * ```ts
 * fromHex('01ab'); // Uint8Array [1, 171]
 * ```
 */
export function fromHex(hex: string): Uint8Array {
  const h = hex.replace(/[\s:]/g, '');
  if (h.length % 2 || /[^0-9a-fA-F]/.test(h))
    throw new TypeError(`hex must be an even-length hex string`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Whether two byte arrays are equal (not constant-time: for public data such as certificates).
 *
 * @example
 * ```ts
 * equalBytes(a.der, b.der);
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a === b) return true;
  // Four bytes at a time: certificates are compared on every cache lookup. Aligned views (fresh
  // buffers usually are) read faster through Uint32Array than through DataView.
  const words = a.length >>> 2;
  if (words > 8) {
    if (((a.byteOffset | b.byteOffset) & 3) === 0) {
      const wa = new Uint32Array(a.buffer, a.byteOffset, words);
      const wb = new Uint32Array(b.buffer, b.byteOffset, words);
      for (let i = 0; i < words; i++) if (wa[i] !== wb[i]) return false;
    } else {
      const va = new DataView(a.buffer, a.byteOffset, a.byteLength);
      const vb = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < words; i++)
        if (va.getUint32(i << 2) !== vb.getUint32(i << 2)) return false;
    }
    for (let i = words << 2; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_REV = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_REV[B64.charCodeAt(i)] = i;

export function toBase64(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  if (i < b.length) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8);
    s +=
      B64[n >> 18]! + B64[(n >> 12) & 63]! + (i + 1 < b.length ? B64[(n >> 6) & 63]! : '=') + '=';
  }
  return s;
}

/** Strict base64 (standard alphabet, whitespace ignored, padding optional but must be correct). */
export function fromBase64(text: string, field = 'base64'): Uint8Array {
  const s = text.replace(/[\s]/g, '');
  const unpadded = s.replace(/={1,2}$/, '');
  if (unpadded.length % 4 === 1 || (s.length !== unpadded.length && s.length % 4 !== 0)) {
    throw new Base64Malformed('The text is not valid base64: its length is impossible.', { field });
  }
  const out = new Uint8Array(Math.floor((unpadded.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < unpadded.length; i++) {
    const c = unpadded.charCodeAt(i);
    const v = c < 128 ? B64_REV[c]! : -1;
    if (v < 0) {
      throw new Base64Malformed(
        `The text is not valid base64: unexpected character at position ${i}.`,
        {
          field,
        },
      );
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && acc & ((1 << bits) - 1)) {
    // RFC 4648 §3.5: non-zero pad bits make several texts decode to the same bytes.
    throw new Base64Malformed(
      'The text is not valid base64: its last character has non-zero padding bits.',
      { field },
    );
  }
  return out;
}

export function base64UrlFromBytes(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function bytesFromBase64Url(s: string, field = 'base64url'): Uint8Array {
  return fromBase64(s.replace(/-/g, '+').replace(/_/g, '/'), field);
}

/** Copies into a fresh ArrayBuffer-backed array, as some WebCrypto implementations reject views of shared or offset buffers. */
export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.byteOffset === 0 &&
    b.byteLength === b.buffer.byteLength &&
    b.buffer instanceof ArrayBuffer
    ? b.buffer
    : (b.slice().buffer as ArrayBuffer);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();
export function utf8Decode(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}
export function utf8Encode(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}
