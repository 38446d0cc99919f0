/**
 * @module internal/ecdsa-sig — ECDSA signature conversion: WebCrypto's IEEE P1363 (r‖s) ⇄ X.509's DER
 * `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3).
 */
import { Cursor, readIntegerBytes, readRoot, seq, uintBytes } from './der.js';

/** r‖s (each `size` bytes) → DER. */
export function p1363ToDer(sig: Uint8Array): Uint8Array {
  const half = sig.length / 2;
  return seq(uintBytes(sig.subarray(0, half)), uintBytes(sig.subarray(half)));
}

/** DER → r‖s with each integer left-padded to `size` bytes; undefined if malformed or out of range. */
export function derToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  try {
    const root = readRoot(der);
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
