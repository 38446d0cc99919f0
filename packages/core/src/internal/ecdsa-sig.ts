/**
 * @module internal/ecdsa-sig — ECDSA signature conversion: WebCrypto's IEEE P1363 (r‖s) ⇄ X.509's DER
 * `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3).
 */
import { Cursor, readIntegerBytes, readRoot, seq, uintBytes } from './der.js';

/** r‖s (each `size` bytes) → DER. */
export function p1363ToDer(sig: Uint8Array): Uint8Array {
  const half = sig.length / 2;
  // Written out rather than through seq()/uintBytes(): this runs once per issued certificate.
  let ri = 0;
  while (ri < half - 1 && sig[ri] === 0) ri++;
  let si = half;
  while (si < sig.length - 1 && sig[si] === 0) si++;
  const rPad = sig[ri]! & 0x80 ? 1 : 0;
  const sPad = sig[si]! & 0x80 ? 1 : 0;
  const rLen = half - ri + rPad;
  const sLen = sig.length - si + sPad;
  const body = 4 + rLen + sLen;
  if (body >= 0x80) return seq(uintBytes(sig.subarray(0, half)), uintBytes(sig.subarray(half)));
  const out = new Uint8Array(2 + body);
  out[0] = 0x30;
  out[1] = body;
  out[2] = 0x02;
  out[3] = rLen;
  out.set(sig.subarray(ri, half), 4 + rPad);
  const so = 4 + rLen;
  out[so] = 0x02;
  out[so + 1] = sLen;
  out.set(sig.subarray(si), so + 2 + sPad);
  return out;
}

/** DER → r‖s with each integer left-padded to `size` bytes; undefined if malformed or out of range. */
export function derToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const root = readRoot(der);
    if (root.tag !== 0x30) return undefined; // SEQUENCE only: accepting SET/[n] wrappers makes signatures malleable
    const c = Cursor.of(der, root);
    const r = readIntegerBytes(der, c.next());
    const s = readIntegerBytes(der, c.next());
    c.finish();
    const out = new Uint8Array(size * 2);
    for (const [v, off] of [
      [r, 0],
      [s, size],
    ] as const) {
      if (v[0]! & 0x80) return undefined; // negative
      const m = v[0] === 0 ? v.subarray(1) : v;
      if (m.length > size) return undefined;
      out.set(m, off + size - m.length);
    }
    return out;
  } catch {
    return undefined;
  }
}
