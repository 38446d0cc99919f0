import { describe, expect, it } from 'vitest';
import { fromHex, toArrayBuffer, toHex } from './bytes.js';
import { derToP1363, p1363ToDer } from './ecdsa-sig.js';
import { children, readIntegerBytes, readRoot } from './der.js';

const h = (n: number, byte: number): string => byte.toString(16).padStart(2, '0').repeat(n);

describe('p1363ToDer', () => {
  it('encodes small positive r and s minimally', () => {
    const sig = fromHex(h(31, 0) + '01' + h(31, 0) + '02');
    expect(toHex(p1363ToDer(sig))).toBe('3006020101020102');
  });

  it('pads r and s with 0x00 when their high bit is set', () => {
    const sig = fromHex('80' + h(31, 0x11) + 'ff' + h(31, 0x22));
    const der = p1363ToDer(sig);
    expect(toHex(der)).toBe('3046' + '022100' + '80' + h(31, 0x11) + '022100' + 'ff' + h(31, 0x22));
    // both INTEGERs are valid minimal DER
    const kids = children(der, readRoot(der));
    for (const k of kids) expect(readIntegerBytes(der, k)[0]).toBe(0);
  });

  it('strips leading zero bytes of r and s', () => {
    const sig = fromHex('0000' + '7f' + h(29, 0x33) + '00' + '80' + h(30, 0x44));
    const der = p1363ToDer(sig);
    expect(toHex(der)).toBe('3042' + '021e' + '7f' + h(29, 0x33) + '022000' + '80' + h(30, 0x44));
  });

  it('encodes a zero component as INTEGER 0', () => {
    expect(toHex(p1363ToDer(new Uint8Array(64)))).toBe('3006020100020100');
  });

  it('uses a long-form length for P-384 signatures that need it', () => {
    const sig = fromHex('ff' + h(47, 0x01) + 'ff' + h(47, 0x02));
    const der = p1363ToDer(sig);
    // 2 × (2 + 49) = 102 = 0x66 < 128: still short form for P-384…
    expect(toHex(der.subarray(0, 2))).toBe('3066');
    expect(der.length).toBe(104);
    // …while P-521 (66-byte halves) needs long form.
    const p521 = p1363ToDer(fromHex('01' + h(65, 0xff) + '01' + h(65, 0xff)));
    expect(toHex(p521.subarray(0, 3))).toBe('308188');
    expect(toHex(derToP1363(p521, 66)!)).toBe('01' + h(65, 0xff) + '01' + h(65, 0xff));
  });
});

describe('derToP1363', () => {
  it('left-pads r and s to the curve size', () => {
    expect(toHex(derToP1363(fromHex('3006020101020102'), 32)!)).toBe(
      h(31, 0) + '01' + h(31, 0) + '02',
    );
  });

  it('drops the 0x00 sign pad of high-bit values', () => {
    const der = fromHex('3046' + '022100' + '80' + h(31, 0x11) + '022100' + 'ff' + h(31, 0x22));
    expect(toHex(derToP1363(der, 32)!)).toBe('80' + h(31, 0x11) + 'ff' + h(31, 0x22));
  });

  it('round-trips P-256 and P-384 sized values both ways', () => {
    for (const size of [32, 48]) {
      for (const [r0, s0] of [
        [0x00, 0x00],
        [0x00, 0x80],
        [0x80, 0x00],
        [0xff, 0xff],
        [0x01, 0x7f],
      ]) {
        const sig = new Uint8Array(size * 2);
        crypto.getRandomValues(sig);
        sig[0] = r0!;
        sig[size] = s0!;
        if (r0 === 0) sig[1] = 0; // two leading zero bytes
        const der = p1363ToDer(sig);
        expect(toHex(derToP1363(der, size)!)).toBe(toHex(sig));
        expect(toHex(p1363ToDer(derToP1363(der, size)!))).toBe(toHex(der));
      }
    }
  });

  it('returns undefined for a value longer than the curve size', () => {
    const sig = fromHex(h(33, 0x01) + h(33, 0x01));
    expect(derToP1363(p1363ToDer(sig), 32)).toBeUndefined();
    // a P-384 signature read as P-256
    const p384 = fromHex('7f' + h(47, 0x01) + '7f' + h(47, 0x02));
    expect(derToP1363(p1363ToDer(p384), 32)).toBeUndefined();
  });

  it('returns undefined for a negative r or s', () => {
    expect(derToP1363(fromHex('30060201ff020101'), 32)).toBeUndefined();
    expect(derToP1363(fromHex('3006020101020180'), 32)).toBeUndefined();
  });

  it('returns undefined for malformed DER', () => {
    for (const bad of [
      '', // empty
      '30', // truncated header
      '3006020101', // truncated value
      '3007020101020102', // length beyond data
      '300602010102010200', // trailing byte
      '3009020101020102020103', // three integers
      '3003020101', // only r
      '3000', // nothing
      '3106020101020102', // SET, not SEQUENCE
      '3006040101020102', // OCTET STRING for r
      '300702020001020102', // non-minimal r
      '3080020101020102' + '0000', // indefinite length
      '30050200020101', // empty INTEGER
      '020101', // not constructed
    ]) {
      expect(derToP1363(fromHex(bad), 32), bad).toBeUndefined();
    }
  });
});

describe('WebCrypto ECDSA signatures', () => {
  for (const [curve, hash, size] of [
    ['P-256', 'SHA-256', 32],
    ['P-384', 'SHA-384', 48],
  ] as const) {
    it(`converts ${curve} signatures to DER and back, and they still verify`, async () => {
      const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, false, [
        'sign',
        'verify',
      ]);
      const params = { name: 'ECDSA', hash };
      let sawHighBit = false;
      for (let i = 0; i < 64; i++) {
        const data = new TextEncoder().encode(`message ${i}`);
        const raw = new Uint8Array(await crypto.subtle.sign(params, keys.privateKey, data));
        expect(raw.length).toBe(2 * size);
        const der = p1363ToDer(raw);
        const t = readRoot(der);
        const [r, s] = children(der, t).map((k) => readIntegerBytes(der, k));
        for (const v of [r!, s!]) {
          expect(v.length).toBeLessThanOrEqual(size + 1);
          if (v.length === size + 1) sawHighBit = true;
        }
        const back = derToP1363(der, size)!;
        expect(toHex(back)).toBe(toHex(raw));
        expect(await crypto.subtle.verify(params, keys.publicKey, toArrayBuffer(back), data)).toBe(
          true,
        );
      }
      // with 128 random values a sign pad is all but certain (P ≈ 1 − 2⁻¹²⁸ of seeing one)
      expect(sawHighBit).toBe(true);
    });
  }
});
