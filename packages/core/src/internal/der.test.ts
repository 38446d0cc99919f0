import { describe, expect, it } from 'vitest';
import { isCertifiedError } from '../errors.js';
import { fromHex, toHex } from './bytes.js';
import {
  bool,
  children,
  Cursor,
  decodeOid,
  int,
  MAX_DER_BYTES,
  oid,
  octets,
  readBitString,
  readBoolean,
  readIntegerBytes,
  readOid,
  readRoot,
  readSmallInt,
  readString,
  readTime,
  readTlv,
  seq,
  setOf,
  sortDer,
  TAG,
  time,
  tlv,
  uintBytes,
  valueOf,
} from './der.js';
import { thrown } from '@certified/testing';

const root = (hex: string) => {
  const b = fromHex(hex);
  return { b, t: readRoot(b) };
};

describe('readTlv / readRoot', () => {
  it('reads short-form and long-form lengths', () => {
    const { t } = root('0403010203');
    expect(t).toEqual({ tag: 0x04, start: 0, valueStart: 2, end: 5 });
    const long = new Uint8Array([0x04, 0x81, 0x80, ...new Uint8Array(0x80)]);
    expect(readRoot(long)).toEqual({ tag: 0x04, start: 0, valueStart: 3, end: 0x83 });
  });

  it('rejects an empty buffer with ERR_DER_TRUNCATED', () => {
    const e = thrown(() => readRoot(new Uint8Array(0)));
    expect(e.code).toBe('ERR_DER_TRUNCATED');
    expect(e.message).toContain('header');
    expect(e.reason).toBe('truncated header');
  });

  it('rejects a lone tag byte with ERR_DER_TRUNCATED', () => {
    const e = thrown(() => readRoot(fromHex('30')));
    expect(e.code).toBe('ERR_DER_TRUNCATED');
    expect(e.reason).toBe('truncated header');
  });

  it('rejects a truncated long-form length with ERR_DER_TRUNCATED', () => {
    const e = thrown(() => readRoot(fromHex('308201')));
    expect(e.code).toBe('ERR_DER_TRUNCATED');
    expect(e.message).toContain('length');
    expect(e.reason).toBe('truncated length');
  });

  it('rejects a truncated value with ERR_DER_TRUNCATED', () => {
    const e = thrown(() => readRoot(fromHex('3005020100')));
    expect(e.code).toBe('ERR_DER_TRUNCATED');
    expect(e.message).toContain('2 more byte(s)');
    expect(e.reason).toBe('truncated value');
  });

  it('rejects a truncated long-form value with ERR_DER_TRUNCATED', () => {
    const e2 = thrown(() => readRoot(new Uint8Array([0x04, 0x82, 0x01, 0x00, 1, 2, 3])));
    expect(e2.code).toBe('ERR_DER_TRUNCATED');
    expect(e2.message).toContain('253 more byte(s)');
  });

  it('rejects an indefinite length with ERR_DER_MALFORMED', () => {
    const e = thrown(() => readRoot(fromHex('3080020100' + '0000')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('indefinite length');
    expect(e.reason).toBe('indefinite length');
  });

  it('rejects long form for a length under 128 with ERR_DER_MALFORMED', () => {
    const e = thrown(() => readRoot(fromHex('048103010203')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('non-minimal length');
    const e2 = thrown(() => readRoot(new Uint8Array([0x04, 0x81, 0x7f, ...new Uint8Array(0x7f)])));
    expect(e2.code).toBe('ERR_DER_MALFORMED');
    expect(e2.reason).toBe('non-minimal length');
  });

  it('rejects a long-form length with a leading zero octet with ERR_DER_MALFORMED', () => {
    const e = thrown(() =>
      readRoot(new Uint8Array([0x04, 0x82, 0x00, 0x80, ...new Uint8Array(0x80)])),
    );
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.reason).toBe('non-minimal length');
  });

  it('rejects a length field longer than 4 octets with ERR_DER_MALFORMED', () => {
    const e = thrown(() => readRoot(fromHex('04850100000000')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('length field too long');
  });

  it('rejects a high tag number with ERR_DER_MALFORMED', () => {
    const e = thrown(() => readRoot(fromHex('1f810100')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('high tag');
    const e2 = thrown(() => readRoot(fromHex('bf2000')));
    expect(e2.code).toBe('ERR_DER_MALFORMED');
  });

  it('rejects trailing bytes after the root element with ERR_DER_MALFORMED', () => {
    const e = thrown(() => readRoot(fromHex('050000')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('1 trailing byte(s)');
  });

  it('rejects input over MAX_DER_BYTES with ERR_INPUT_TOO_LARGE', () => {
    const e = thrown(() => readRoot(new Uint8Array(MAX_DER_BYTES + 1)));
    expect(e.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(e.message).toContain(String(MAX_DER_BYTES));
  });

  it('names the field in messages when given one', () => {
    const e = thrown(() => readRoot(fromHex('3080'), 'tbsCertificate'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.field).toBe('tbsCertificate');
    expect(e.message).toContain('(in tbsCertificate)');
  });

  it('respects the limit of an enclosing element', () => {
    // An inner element claiming more than its parent holds is truncated, even though the buffer has the bytes.
    const b = fromHex('3003040201ff00');
    const e = thrown(() => readTlv(b, 2, 5));
    expect(e.code).toBe('ERR_DER_TRUNCATED');
  });

  it('throws only CertifiedErrors for every 1- and 2-byte input', () => {
    for (let a = 0; a < 256; a++) {
      for (const rest of [[], [0x00], [0x01], [0x7f], [0x80], [0x81], [0x84], [0xff]]) {
        const b = new Uint8Array([a, ...rest]);
        try {
          readRoot(b);
        } catch (e) {
          expect(isCertifiedError(e), `${toHex(b)}: ${String(e)}`).toBe(true);
        }
      }
    }
  });
});

describe('Cursor', () => {
  it('walks the children of a SEQUENCE', () => {
    const { b, t } = root('30060101ff020105');
    const c = Cursor.of(b, t);
    expect(readBoolean(b, c.next(TAG.BOOLEAN))).toBe(true);
    expect(c.optional(TAG.NULL)).toBeUndefined();
    expect(readSmallInt(b, c.next(TAG.INTEGER))).toBe(5);
    expect(c.done).toBe(true);
    c.finish();
    expect(children(b, t)).toHaveLength(2);
  });

  it('rejects a primitive element as a container with ERR_DER_MALFORMED', () => {
    const { b, t } = root('040100');
    const e = thrown(() => Cursor.of(b, t));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('constructed');
  });

  it('rejects an unexpected tag with ERR_DER_MALFORMED', () => {
    const { b, t } = root('3003020105');
    const e = thrown(() => Cursor.of(b, t).next(TAG.BOOLEAN, 'x'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('expected tag 0x1, found 0x2');
    expect(e.field).toBe('x');
  });

  it('rejects a missing element with ERR_DER_MALFORMED', () => {
    const { b, t } = root('3000');
    const e = thrown(() => Cursor.of(b, t).next());
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('missing');
  });

  it('rejects an extra element with ERR_DER_MALFORMED', () => {
    const { b, t } = root('300405000500');
    const c = Cursor.of(b, t);
    c.next(TAG.NULL);
    const e = thrown(() => c.finish());
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('extra element');
  });

  it('rejects a child overrunning its parent with ERR_DER_TRUNCATED', () => {
    const b = fromHex('30030403010203');
    const e = thrown(() => Cursor.of(b, readTlv(b, 0, b.length)).next());
    expect(e.code).toBe('ERR_DER_TRUNCATED');
  });
});

describe('INTEGER', () => {
  const intOf = (hex: string) => {
    const { b, t } = root(hex);
    return toHex(readIntegerBytes(b, t));
  };

  it('accepts minimal encodings', () => {
    expect(intOf('020100')).toBe('00');
    expect(intOf('02017f')).toBe('7f');
    expect(intOf('02020080')).toBe('0080');
    expect(intOf('0201ff')).toBe('ff');
    expect(intOf('0202ff7f')).toBe('ff7f');
  });

  it('rejects an empty INTEGER with ERR_DER_MALFORMED', () => {
    const e = thrown(() => intOf('0200'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('empty INTEGER');
  });

  it('rejects a redundant leading 0x00 with ERR_DER_MALFORMED', () => {
    const e = thrown(() => intOf('0202007f'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('non-minimal INTEGER');
    expect(thrown(() => intOf('02020000')).code).toBe('ERR_DER_MALFORMED');
  });

  it('rejects a redundant leading 0xFF with ERR_DER_MALFORMED', () => {
    const e = thrown(() => intOf('0202ff80'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('non-minimal INTEGER');
  });

  it('rejects a non-INTEGER tag with ERR_DER_MALFORMED', () => {
    const e = thrown(() => intOf('0a0101'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('expected an INTEGER');
  });

  it('reads small counts and rejects negative or huge ones with ERR_DER_MALFORMED', () => {
    const small = (hex: string) => {
      const { b, t } = root(hex);
      return readSmallInt(b, t);
    };
    expect(small('020100')).toBe(0);
    expect(small('02020100')).toBe(256);
    expect(small('0206ffffffffffff'.replace('ffffffffffff', '7fffffffffff'))).toBe(0x7fffffffffff);
    const neg = thrown(() => small('0201ff'));
    expect(neg.code).toBe('ERR_DER_MALFORMED');
    expect(neg.message).toContain('negative');
    const big = thrown(() => small('020701' + '00'.repeat(6)));
    expect(big.code).toBe('ERR_DER_MALFORMED');
    expect(big.message).toContain('too large');
  });

  it('writes minimal INTEGERs', () => {
    expect(toHex(int(0))).toBe('020100');
    expect(toHex(int(127))).toBe('02017f');
    expect(toHex(int(128))).toBe('02020080');
    expect(toHex(int(256))).toBe('02020100');
    expect(toHex(int(Number.MAX_SAFE_INTEGER))).toBe('02071fffffffffffff');
    expect(toHex(uintBytes(fromHex('000000ff')))).toBe('020200ff');
    expect(toHex(uintBytes(fromHex('00000001')))).toBe('020101');
    expect(toHex(uintBytes(fromHex('0000')))).toBe('020100');
    expect(toHex(uintBytes(new Uint8Array(0)))).toBe('020100');
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32 + 1]) {
      const enc = int(n);
      const t = readRoot(enc);
      expect(readSmallInt(enc, t)).toBe(n);
    }
  });

  it('refuses negative or unsafe numbers with RangeError', () => {
    expect(() => int(-1)).toThrow(RangeError);
    expect(() => int(1.5)).toThrow(RangeError);
    expect(() => int(2 ** 53)).toThrow(RangeError);
  });
});

describe('BOOLEAN', () => {
  const boolOf = (hex: string) => {
    const { b, t } = root(hex);
    return readBoolean(b, t);
  };

  it('accepts only 0xFF for TRUE and 0x00 for FALSE', () => {
    expect(boolOf('0101ff')).toBe(true);
    expect(boolOf('010100')).toBe(false);
    expect(toHex(bool(true))).toBe('0101ff');
    expect(toHex(bool(false))).toBe('010100');
  });

  it('rejects a TRUE other than 0xFF with ERR_DER_MALFORMED', () => {
    for (const v of ['01', '7f', '80', 'fe']) {
      const e = thrown(() => boolOf('0101' + v));
      expect(e.code).toBe('ERR_DER_MALFORMED');
      expect(e.message).toContain('0x00 or 0xFF');
    }
  });

  it('rejects a BOOLEAN of the wrong length with ERR_DER_MALFORMED', () => {
    expect(thrown(() => boolOf('0100')).code).toBe('ERR_DER_MALFORMED');
    const e = thrown(() => boolOf('0102ffff'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('expected a BOOLEAN');
  });
});

describe('BIT STRING', () => {
  const bits = (hex: string) => {
    const { b, t } = root(hex);
    const r = readBitString(b, t);
    return { bytes: toHex(r.bytes), unusedBits: r.unusedBits };
  };

  it('reads bytes and the unused-bit count', () => {
    expect(bits('030100')).toEqual({ bytes: '', unusedBits: 0 });
    expect(bits('030300abcd')).toEqual({ bytes: 'abcd', unusedBits: 0 });
    expect(bits('03020102')).toEqual({ bytes: '02', unusedBits: 1 });
    expect(bits('03020780')).toEqual({ bytes: '80', unusedBits: 7 });
  });

  it('rejects an empty BIT STRING with ERR_DER_MALFORMED', () => {
    const e = thrown(() => bits('0300'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('expected a BIT STRING');
  });

  it('rejects more than 7 unused bits with ERR_DER_MALFORMED', () => {
    const e = thrown(() => bits('03020800'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('bad BIT STRING padding');
  });

  it('rejects unused bits without content with ERR_DER_MALFORMED', () => {
    const e = thrown(() => bits('030101'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('bad BIT STRING padding');
  });

  it('rejects non-zero padding bits with ERR_DER_MALFORMED', () => {
    const e = thrown(() => bits('03020101'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('non-zero BIT STRING padding');
    expect(thrown(() => bits('030207c1')).code).toBe('ERR_DER_MALFORMED');
  });
});

describe('OBJECT IDENTIFIER', () => {
  const rt = (dotted: string): string => {
    const enc = oid(dotted);
    return readOid(enc, readRoot(enc));
  };

  it('encodes well-known OIDs exactly', () => {
    expect(toHex(oid('1.2.840.113549.1.1.11'))).toBe('06092a864886f70d01010b');
    expect(toHex(oid('2.5.29.19'))).toBe('0603551d13');
    expect(toHex(oid('1.3.101.112'))).toBe('06032b6570');
    expect(toHex(oid('0.9.2342.19200300.100.1.1'))).toBe('060a0992268993f22c640101');
  });

  it('round-trips OIDs including large arcs and 2.999.x', () => {
    for (const o of [
      '0.0',
      '0.39',
      '1.0',
      '1.39',
      '2.0',
      '2.39',
      '2.40',
      '2.999',
      '2.999.3',
      '2.999.1.2.3',
      '1.2.840.10045.4.3.2',
      '1.3.6.1.4.1.11129.2.4.2',
      '1.2.3.127.128.16383.16384.2097151.2097152',
      '1.2.4294967295.4294967296',
      `1.2.${2 ** 40}`,
      `2.${2 ** 40}`,
    ]) {
      expect(rt(o)).toBe(o);
    }
    expect(toHex(oid('2.999.3'))).toBe('0603883703');
    expect(decodeOid(fromHex('883703'))).toBe('2.999.3');
  });

  it('rejects a non-minimal arc (leading 0x80) with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decodeOid(fromHex('2a8001')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('non-minimal OBJECT IDENTIFIER arc');
    expect(thrown(() => decodeOid(fromHex('80012a'))).code).toBe('ERR_DER_MALFORMED');
    expect(thrown(() => decodeOid(fromHex('2a068080808001'))).code).toBe('ERR_DER_MALFORMED');
  });

  it('rejects a truncated arc with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decodeOid(fromHex('2a86')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('truncated OBJECT IDENTIFIER');
  });

  it('rejects an empty or over-long OID with ERR_DER_MALFORMED', () => {
    expect(thrown(() => decodeOid(new Uint8Array(0))).code).toBe('ERR_DER_MALFORMED');
    const e = thrown(() => decodeOid(new Uint8Array(65).fill(1)));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('bad OBJECT IDENTIFIER length');
  });

  it('rejects an arc too large for exact numbers with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decodeOid(fromHex('2a' + 'ff'.repeat(9) + '7f')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('arc too large');
  });

  it('rejects a non-OID tag with ERR_DER_MALFORMED', () => {
    const { b, t } = root('0401ff');
    const e = thrown(() => readOid(b, t));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('expected an OBJECT IDENTIFIER');
  });

  it('returns the same string from the short-OID cache on repeat reads', () => {
    const enc = oid('1.2.840.10045.3.1.7');
    const a = readOid(enc, readRoot(enc));
    const b = readOid(enc, readRoot(enc));
    expect(a).toBe('1.2.840.10045.3.1.7');
    expect(b).toBe(a);
  });

  it('refuses invalid dotted strings with TypeError', () => {
    for (const bad of ['', '1', '3.1', '0.40', '1.40', '1.2.-3', '1.2.x', `1.2.${2 ** 53}`]) {
      expect(() => oid(bad), bad).toThrow(TypeError);
    }
  });

  it('refuses empty, signed, spaced, hex or exponent arcs with TypeError', () => {
    // Number('') is 0, Number('0x10') is 16: these must not silently encode as other OIDs.
    for (const bad of ['1..2', '1.2.', '.1.2', ' 1.2', '1.+2', '1.2.0x10', '1.2.1e3', '1.2.3.']) {
      expect(() => oid(bad), bad).toThrow(TypeError);
    }
  });
});

describe('readTime', () => {
  const timeOf = (tag: number, s: string): Date => {
    const enc = tlv(tag, new TextEncoder().encode(s));
    return readTime(enc, readRoot(enc));
  };
  const utc = (s: string) => timeOf(TAG.UTC_TIME, s);
  const gen = (s: string) => timeOf(TAG.GENERALIZED_TIME, s);

  it('maps UTCTime years 50–99 to 19xx and 00–49 to 20xx', () => {
    expect(utc('491231235959Z').toISOString()).toBe('2049-12-31T23:59:59.000Z');
    expect(utc('500101000000Z').toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(utc('000101000000Z').toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(utc('991231235959Z').toISOString()).toBe('1999-12-31T23:59:59.000Z');
  });

  it('reads GeneralizedTime, including years before 100', () => {
    expect(gen('20500101000000Z').toISOString()).toBe('2050-01-01T00:00:00.000Z');
    expect(gen('99991231235959Z').toISOString()).toBe('9999-12-31T23:59:59.000Z');
    expect(gen('00500101000000Z').getUTCFullYear()).toBe(50);
  });

  it('accepts 29 February in a leap year', () => {
    expect(utc('240229120000Z').toISOString()).toBe('2024-02-29T12:00:00.000Z');
    expect(gen('20000229000000Z').toISOString()).toBe('2000-02-29T00:00:00.000Z');
  });

  it('rejects impossible dates with ERR_DER_MALFORMED', () => {
    for (const s of [
      '230230000000Z',
      '230229000000Z',
      '230431000000Z',
      '230001000000Z',
      '231301000000Z',
      '230100000000Z',
    ]) {
      const e = thrown(() => utc(s));
      expect(e.code, s).toBe('ERR_DER_MALFORMED');
      expect(e.message).toContain('impossible date');
    }
    expect(thrown(() => gen('21000229000000Z')).code).toBe('ERR_DER_MALFORMED');
  });

  it('rejects impossible times of day with ERR_DER_MALFORMED', () => {
    for (const s of ['230101240000Z', '230101236000Z', '230101235960Z']) {
      const e = thrown(() => utc(s));
      expect(e.code, s).toBe('ERR_DER_MALFORMED');
      expect(e.message).toContain('impossible date or time of day');
    }
  });

  it('rejects a missing Z with ERR_DER_MALFORMED', () => {
    const e = thrown(() => utc('2301010000000'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('RFC 5280 form');
    expect(thrown(() => gen('202301010000000')).code).toBe('ERR_DER_MALFORMED');
  });

  it('rejects other lengths (no seconds, fractions, offsets) with ERR_DER_MALFORMED', () => {
    for (const s of ['2301010000Z', '230101000000+0000', '230101000000.5Z']) {
      const e = thrown(() => utc(s));
      expect(e.code, s).toBe('ERR_DER_MALFORMED');
      expect(e.message).toContain('UTCTime must be YYMMDDHHMMSSZ');
    }
    for (const s of ['20230101000000.5Z', '20230101000000+0100', '202301010000Z']) {
      const e = thrown(() => gen(s));
      expect(e.code, s).toBe('ERR_DER_MALFORMED');
      expect(e.message).toContain('GeneralizedTime must be YYYYMMDDHHMMSSZ');
    }
  });

  it('rejects non-digits with ERR_DER_MALFORMED', () => {
    for (const s of ['2301o1000000Z', '23010100000 Z', '-30101000000Z', '23+101000000Z']) {
      expect(thrown(() => utc(s)).code, s).toBe('ERR_DER_MALFORMED');
    }
  });

  it('rejects a non-time tag with ERR_DER_MALFORMED', () => {
    const e = thrown(() => timeOf(TAG.PRINTABLE_STRING, '230101000000Z'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('expected a UTCTime or GeneralizedTime');
  });
});

describe('time (writer)', () => {
  const enc = (iso: string) => {
    const b = time(new Date(iso));
    return {
      tag: b[0],
      text: new TextDecoder().decode(b.subarray(2)),
      back: readTime(b, readRoot(b)).toISOString(),
    };
  };

  it('uses UTCTime through 2049 and GeneralizedTime from 2050', () => {
    expect(enc('2049-12-31T23:59:59Z')).toEqual({
      tag: TAG.UTC_TIME,
      text: '491231235959Z',
      back: '2049-12-31T23:59:59.000Z',
    });
    expect(enc('2050-01-01T00:00:00Z')).toEqual({
      tag: TAG.GENERALIZED_TIME,
      text: '20500101000000Z',
      back: '2050-01-01T00:00:00.000Z',
    });
    expect(enc('1950-01-01T00:00:00Z').tag).toBe(TAG.UTC_TIME);
    expect(enc('1949-12-31T23:59:59Z')).toEqual({
      tag: TAG.GENERALIZED_TIME,
      text: '19491231235959Z',
      back: '1949-12-31T23:59:59.000Z',
    });
  });

  it('drops milliseconds', () => {
    expect(enc('2030-06-15T01:02:03.999Z').text).toBe('300615010203Z');
  });

  it('refuses years past 9999 with RangeError', () => {
    expect(() => time(new Date('+010000-01-01T00:00:00Z'))).toThrow(RangeError);
  });
});

describe('readString', () => {
  const str = (tag: number, hex: string) => {
    const b = tlv(tag, fromHex(hex));
    return readString(b, readRoot(b));
  };

  it('decodes the directory string types', () => {
    expect(str(TAG.UTF8_STRING, 'c3a9')).toBe('é');
    expect(str(TAG.PRINTABLE_STRING, '4142')).toBe('AB');
    expect(str(TAG.BMP_STRING, '00e9')).toBe('é');
    expect(str(TAG.UNIVERSAL_STRING, '0001f600')).toBe('😀');
    expect(str(TAG.OCTET_STRING, '00')).toBeUndefined();
  });

  it('rejects invalid UTF-8 with ERR_DER_MALFORMED', () => {
    const e = thrown(() => str(TAG.UTF8_STRING, 'c3'));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('invalid UTF-8');
  });

  it('rejects non-ASCII in PrintableString and odd BMPString with ERR_DER_MALFORMED', () => {
    expect(thrown(() => str(TAG.PRINTABLE_STRING, 'e9')).code).toBe('ERR_DER_MALFORMED');
    expect(thrown(() => str(TAG.BMP_STRING, '00')).code).toBe('ERR_DER_MALFORMED');
    expect(thrown(() => str(TAG.UNIVERSAL_STRING, '00110000')).code).toBe('ERR_DER_MALFORMED');
  });
});

describe('tlv (writer)', () => {
  it.each([
    [0, '0400'],
    [1, '0401'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65535, '0482ffff'],
    [65536, '0483010000'],
    [16777216, '048401000000'],
  ])('encodes a %i-byte value with header %s and reads it back', (n, header) => {
    const enc = octets(new Uint8Array(n).fill(0xab));
    expect(toHex(enc.subarray(0, header.length / 2))).toBe(header);
    expect(enc.length).toBe(header.length / 2 + n);
    if (enc.length <= MAX_DER_BYTES) {
      const t = readRoot(enc);
      expect(t.end - t.valueStart).toBe(n);
    }
  });

  it('concatenates parts', () => {
    expect(toHex(seq(int(1), bool(true)))).toBe('3006020101' + '0101ff');
    expect(toHex(tlv(0x04))).toBe('0400');
  });
});

describe('setOf / sortDer', () => {
  it('sorts elements by their encodings (X.690 §11.6)', () => {
    const a = fromHex('0c0162'); // UTF8 "b"
    const b = fromHex('0c0161'); // UTF8 "a"
    const c = fromHex('020101');
    const d = fromHex('0c026161'); // longer, sorts by its length octet
    const items = [a, b, c, d];
    const out = setOf(items);
    expect(toHex(out)).toBe('31' + '0d' + '020101' + '0c0161' + '0c0162' + '0c026161');
    // the input array is not reordered
    expect(items).toEqual([a, b, c, d]);
  });

  it('puts a prefix before its extensions', () => {
    const short = fromHex('0401');
    const long = fromHex('040100');
    expect(sortDer([long, short]).map((x) => toHex(x))).toEqual(['0401', '040100']);
  });

  it('is independent of input order', () => {
    const items = [
      oid('2.5.4.3'),
      oid('2.5.4.10'),
      oid('0.9.2342.19200300.100.1.25'),
      int(5),
      bool(false),
    ];
    const expected = toHex(setOf(items));
    for (let i = 0; i < 20; i++) {
      const shuffled = [...items].sort(() => Math.random() - 0.5);
      expect(toHex(setOf(shuffled))).toBe(expected);
    }
    const back = setOf(items);
    const kids = children(back, readRoot(back)).map((t) => toHex(back.subarray(t.start, t.end)));
    expect(kids).toEqual([...kids].sort());
    expect(valueOf(back, readRoot(back)).length).toBe(back.length - 2);
  });
});
