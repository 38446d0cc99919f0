import { describe, expect, it } from 'vitest';
import {
  base64UrlFromBytes,
  bytesFromBase64Url,
  concat,
  equalBytes,
  fromBase64,
  fromHex,
  toArrayBuffer,
  toBase64,
  toHex,
  utf8Decode,
} from './bytes.js';
import { thrown } from '@certified/testing';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('toBase64 / fromBase64', () => {
  it('matches the RFC 4648 §10 test vectors both ways', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, b64] of vectors) {
      expect(toBase64(ascii(plain))).toBe(b64);
      expect(new TextDecoder().decode(fromBase64(b64))).toBe(plain);
    }
  });

  it('round-trips every byte value and every length up to 66', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toHex(fromBase64(toBase64(all)))).toBe(toHex(all));
    for (let n = 0; n <= 66; n++) {
      const b = all.subarray(256 - n);
      expect(toHex(fromBase64(toBase64(b)))).toBe(toHex(b));
    }
  });

  it('accepts missing padding and ignores whitespace', () => {
    expect(toHex(fromBase64('Zg'))).toBe('66');
    expect(toHex(fromBase64('Zm8'))).toBe('666f');
    expect(toHex(fromBase64(' Zm9v\nYmFy\r\n\t'))).toBe(toHex(ascii('foobar')));
    expect(toHex(fromBase64('Zm9v\nYg==\n'))).toBe(toHex(ascii('foob')));
  });

  it('rejects characters outside the standard alphabet with ERR_BASE64_MALFORMED', () => {
    for (const bad of ['Zm9$', 'Zm9-', 'Zm9_', 'Zm9é', 'Zm.v', 'Zm\u0000v']) {
      const e = thrown(() => fromBase64(bad));
      expect(e.code, bad).toBe('ERR_BASE64_MALFORMED');
      expect(e.message).toContain('unexpected character');
    }
  });

  it('rejects padding in the middle with ERR_BASE64_MALFORMED', () => {
    for (const bad of ['Zg==Zg==', 'Z=g=', 'Zm=v']) {
      const e = thrown(() => fromBase64(bad));
      expect(e.code, bad).toBe('ERR_BASE64_MALFORMED');
      expect(e.message).toContain('not valid base64');
    }
  });

  it('rejects impossible lengths with ERR_BASE64_MALFORMED', () => {
    for (const bad of ['Z', 'Zm9vY', 'Z===', 'Z=']) {
      const e = thrown(() => fromBase64(bad));
      expect(e.code, bad).toBe('ERR_BASE64_MALFORMED');
    }
    const e = thrown(() => fromBase64('Zm9vY'));
    expect(e.message).toContain('length is impossible');
  });

  it('rejects wrong amounts of padding with ERR_BASE64_MALFORMED', () => {
    for (const bad of ['Zg=', 'Zm8==', 'Zm9v=', 'Zm9v==', 'Zg===', '=', '==']) {
      const e = thrown(() => fromBase64(bad));
      expect(e.code, bad).toBe('ERR_BASE64_MALFORMED');
    }
  });

  it('names the field in the error', () => {
    expect(thrown(() => fromBase64('$', 'signed_cert')).field).toBe('signed_cert');
    expect(thrown(() => fromBase64('$')).field).toBe('base64');
  });
});

describe('base64url', () => {
  it('uses - and _ without padding', () => {
    const b = fromHex('fbff');
    expect(toBase64(b)).toBe('+/8=');
    expect(base64UrlFromBytes(b)).toBe('-_8');
    expect(toHex(bytesFromBase64Url('-_8'))).toBe('fbff');
  });

  it('rejects standard-alphabet-only confusion such as "." with ERR_BASE64_MALFORMED', () => {
    const e = thrown(() => bytesFromBase64Url('ab.c'));
    expect(e.code).toBe('ERR_BASE64_MALFORMED');
    expect(e.field).toBe('base64url');
  });
});

describe('toHex / fromHex', () => {
  it('encodes lower-case, optionally separated', () => {
    expect(toHex(new Uint8Array(0))).toBe('');
    expect(toHex(fromHex('00ff10ab'))).toBe('00ff10ab');
    expect(toHex(fromHex('00ff10ab'), ':')).toBe('00:ff:10:ab');
    expect(toHex(new Uint8Array([7]), ':')).toBe('07');
  });

  it('decodes either case, ignoring colons and whitespace', () => {
    expect(toHex(fromHex('AB:cd:EF'))).toBe('abcdef');
    expect(toHex(fromHex('ab cd\nef'))).toBe('abcdef');
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });

  it('refuses odd lengths and non-hex characters with TypeError', () => {
    expect(() => fromHex('abc')).toThrow(TypeError);
    expect(() => fromHex('zz')).toThrow(TypeError);
    expect(() => fromHex('0x00')).toThrow(TypeError);
    expect(() => fromHex('+1')).toThrow(TypeError);
  });
});

describe('concat / equalBytes / toArrayBuffer / utf8Decode', () => {
  it('concatenates and compares', () => {
    const c = concat([fromHex('01'), new Uint8Array(0), fromHex('0203')]);
    expect(toHex(c)).toBe('010203');
    expect(equalBytes(c, fromHex('010203'))).toBe(true);
    expect(equalBytes(c, fromHex('010204'))).toBe(false);
    expect(equalBytes(c, fromHex('0102'))).toBe(false);
  });

  it('copies offset views into a fresh ArrayBuffer', () => {
    const big = fromHex('00010203');
    const view = big.subarray(1, 3);
    const ab = toArrayBuffer(view);
    expect(ab.byteLength).toBe(2);
    expect(toHex(new Uint8Array(ab))).toBe('0102');
    expect(toArrayBuffer(big)).toBe(big.buffer);
  });

  it('decodes UTF-8 fatally', () => {
    expect(utf8Decode(fromHex('c3a9'))).toBe('é');
    expect(() => utf8Decode(fromHex('ff'))).toThrow(TypeError);
  });
});
