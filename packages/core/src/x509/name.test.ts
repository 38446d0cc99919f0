import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../internal/bytes.js';
import { children, readRoot } from '../internal/der.js';
import {
  SIGNING_PSEUDONYM,
  commonNameOf,
  decodeName,
  encodeName,
  formatName,
  nameEquals,
  nameKey,
  organizationName,
  parseName,
  personName,
  signingName,
  type Name,
  rdnKeys,
} from './name.js';
import { thrown } from '@certified/testing';
import { execFileSync, requireOpenssl } from '../../test/openssl.js';

const CN = '2.5.4.3';
const UID = '0.9.2342.19200300.100.1.1';

const decode = (der: Uint8Array): Name => decodeName(der, readRoot(der));

/** build → DER → decode → deep equal, and re-encode byte-identical. */
function roundTrip(name: Name): Name {
  const der = encodeName(name);
  const back = decode(der);
  expect(back).toEqual(name);
  expect(toHex(encodeName(back))).toBe(toHex(der));
  return back;
}

/** text → parse → format is stable, and survives DER. */
function textRoundTrip(text: string, expected = text): Name {
  const name = parseName(text);
  expect(formatName(name)).toBe(expected);
  expect(formatName(parseName(formatName(name)))).toBe(expected);
  const back = decode(encodeName(name));
  expect(formatName(back)).toBe(expected);
  expect(nameEquals(back, name)).toBe(true);
  return name;
}

describe('encodeName / decodeName', () => {
  it('round-trips builders byte-identically', () => {
    roundTrip(
      personName({
        commonName: 'Ada',
        uid: 'ada',
        pseudonym: 'A',
        country: 'GB',
        state: 'S',
        locality: 'L',
        domainComponents: ['example', 'com'],
      }),
    );
    roundTrip(
      organizationName({ organization: 'Example', unit: 'IT', commonName: 'ca', country: 'US' }),
    );
    roundTrip([]);
  });

  it('encodes default string types (Printable C, IA5 DC/email, UTF8 otherwise)', () => {
    const der = encodeName(parseName('emailAddress=a@b.c,DC=com,CN=x,C=US,serialNumber=12 3'));
    const hex = toHex(der);
    expect(hex).toContain('1302' + toHex(new TextEncoder().encode('US'))); // PrintableString
    expect(hex).toContain('1603636f6d'); // IA5 "com"
    expect(hex).toContain('0c0178'); // UTF8 "x"
    expect(hex).toContain('130431322033'); // serialNumber PrintableString
  });

  it('keeps non-default string tags and non-string values when re-encoding', () => {
    const name: Name = [
      [{ type: CN, value: 'x', tag: 0x13 }],
      [{ type: '2.5.4.10', value: 'bmp', tag: 0x1e }],
      [{ type: '2.5.4.11', value: 'tel', tag: 0x14 }],
      [{ type: '1.2.3.4', value: '#020105', der: fromHex('020105') }],
    ];
    roundTrip(name);
  });

  it('sorts multi-valued RDN members as a DER SET OF', () => {
    const der = encodeName([
      [
        { type: CN, value: 'a' },
        { type: UID, value: 'b' },
      ],
    ]);
    expect(decode(der)[0]!.map((a) => a.type)).toEqual([CN, UID]); // shorter SEQUENCE sorts first
    const der2 = encodeName([
      [
        { type: UID, value: 'b' },
        { type: CN, value: 'a' },
      ],
    ]);
    expect(toHex(der2)).toBe(toHex(der));
  });

  it('rejects an empty value with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => encodeName([[{ type: CN, value: '' }]]));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('empty');
    expect(e.field).toBe('CN');
  });

  it('rejects a three-letter country with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => encodeName(parseName('C=USA')));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('two-letter');
    expect(e.field).toBe('C');
  });

  it('rejects an overlong CN with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => encodeName([[{ type: CN, value: 'x'.repeat(65) }]]));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('at most 64');
  });

  it('counts characters, not UTF-16 units, against upper bounds', () => {
    expect(() => encodeName([[{ type: CN, value: '😀'.repeat(64) }]])).not.toThrow();
  });

  it('rejects non-ASCII in an IA5 attribute with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => encodeName(parseName('DC=café')));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('cannot be encoded');
  });

  it('rejects characters outside PrintableString with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => encodeName([[{ type: CN, value: 'a@b', tag: 0x13 }]]));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('not allowed');
  });

  it('throws RangeError for an empty RDN', () => {
    expect(() => encodeName([[]])).toThrow(RangeError);
  });

  it('rejects an empty RDN SET with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('30023100')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('RDN must not be empty');
  });

  it('rejects an attribute with a missing value with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('300931073005060355040' + '3').slice(0, 11)));
    expect(e.code).toMatch(/ERR_DER_/);
  });

  it('rejects invalid UTF-8 in a UTF8String with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('300c310a3008060355040' + '30c01ff')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('UTF-8');
  });
});

describe('formatName / parseName', () => {
  it('formats in reverse DER order with short names', () => {
    expect(
      formatName(personName({ commonName: 'Ada', country: 'GB', domainComponents: ['ex', 'com'] })),
    ).toBe('DC=com,DC=ex,C=GB,CN=Ada');
  });

  it.each([
    ['CN=a\\,b', 'escaped comma'],
    ['CN=a\\+b', 'escaped plus'],
    ['CN=\\"quoted\\"', 'quotes'],
    ['CN=back\\\\slash', 'backslash'],
    ['CN=\\#hash', 'leading #'],
    ['CN=mid#hash', 'inner #'],
    ['CN=\\ lead', 'leading space'],
    ['CN=trail\\ ', 'trailing space'],
    ['CN=\\  both \\ ', 'spaces both ends'],
    ['CN=nul\\00byte', 'NUL'],
    ['CN=ctl\\01\\1F\\7F', 'control characters'],
    ['CN=a\\;b\\<c\\>d\\=e', 'semicolon, angles, equals'],
    ['CN=a+UID=b', 'multi-valued RDN'],
    ['O=x,CN=a+UID=b+DC=c', 'three-member RDN'],
    ['CN=Ærøskøbing', 'Latin-1 letters'],
    ['CN=日本', 'CJK'],
    ['CN=😀 emoji', 'emoji'],
    ['1.2.3.4=#0c0161,CN=x', '#hex for an unknown OID'],
    ['CN=#020105', '#hex non-string value under a known type'],
    [
      'CN=a,OU=b,O=c,L=d,ST=e,C=US,DC=f,STREET=g,emailAddress=h@i,serialNumber=1,pseudonym=p,title=t,GN=g,SN=s',
      'all short names',
    ],
  ])('round-trips %s (%s)', (text) => {
    textRoundTrip(text);
  });

  it('decodes hex-escaped UTF-8', () => {
    const n = textRoundTrip('CN=\\C3\\A6', 'CN=æ');
    expect(n[0]![0]!.value).toBe('æ');
  });

  it('accepts case-insensitive and long type names, OID types and OID. prefixes', () => {
    expect(formatName(parseName('cn=a,commonName=b,2.5.4.3=c,OID.2.5.4.3=d,c=US,dc=x'))).toBe(
      'CN=a,CN=b,CN=c,CN=d,C=US,DC=x',
    );
  });

  it('tolerates spaces around separators and drops unescaped trailing spaces', () => {
    expect(formatName(parseName('  CN = a b  ,  O = c + OU = d  '))).toBe('CN=a b,O=c+OU=d');
  });

  it('parses the empty string to an empty name', () => {
    expect(parseName('')).toEqual([]);
    expect(formatName([])).toBe('');
  });

  it('keeps string values of #hex as strings and other values as der', () => {
    const [rdn] = parseName('1.2.3.4=#0c0161+1.2.3.5=#020105');
    expect(rdn).toEqual([
      { type: '1.2.3.4', value: 'a' },
      { type: '1.2.3.5', value: '#020105', der: fromHex('020105') },
    ]);
  });

  it.each([
    ['CN', "expected '='"],
    ['=a', 'expected an attribute type'],
    ['CN=a,', 'expected an attribute type'],
    ['CN=', 'empty value'],
    ['CN=a;O=b', "separates RDNs with ','"],
    ['CN=a"b', 'must be escaped'],
    ['CN=a<b', 'must be escaped'],
    ['CN=a\\', "'\\' must be followed"],
    ['CN=a\\x', "'\\' must be followed"],
    ['CN=\\C3', 'not valid UTF-8'],
    ['CN=\\FF', 'not valid UTF-8'],
    ['FOO=a', 'unknown attribute type'],
    ['01.2=a', 'not a valid numeric OID'],
    ['3.1=a', 'not a valid OID'],
    ['CN=#0c0', 'even number of hex digits'],
    ['CN=#0c', 'not exactly one DER element'],
    ['CN=#', 'even number of hex digits'],
    ['CN=#0c0261', 'not exactly one DER element'],
    ['CN=#0c016100', 'not exactly one DER element'],
    ['CN=#0c01ff', 'not a valid string'],
    ['CN=#0c0161 x', "expected ',' or '+'"],
  ])('rejects %j with ERR_NAME_SYNTAX', (text, message) => {
    const e = thrown(() => parseName(text));
    expect(e.code).toBe('ERR_NAME_SYNTAX');
    expect(e.message).toContain(message);
    expect(e.message).toMatch(/position \d+/);
  });

  it('names the position of the problem', () => {
    expect(thrown(() => parseName('CN=ok,O=a"b')).message).toContain('position 9');
  });
});

describe('nameEquals / nameKey', () => {
  const pairs: [string, string, boolean][] = [
    ['CN=Foo  Bar', 'cn=  foo bar', true],
    ['CN=a+UID=b', 'UID=b+CN=a', true],
    ['CN=a,O=b', 'O=b,CN=a', false],
    ['CN=a', 'CN=a,O=b', false],
    ['CN=a', 'UID=a', false],
    ['CN=ÆRØ', 'CN=ærø', true],
    ['CN=#020105', 'CN=#020106', false],
    ['CN=#020105', 'CN=#020105', true],
    ['CN=x+CN=x', 'CN=x+CN=y', false],
    ['CN=ﬁ', 'CN=fi', true],
  ];
  it.each(pairs)('%j vs %j → %s', (a, b, eq) => {
    expect(nameEquals(parseName(a), parseName(b))).toBe(eq);
    expect(nameKey(parseName(a)) === nameKey(parseName(b))).toBe(eq);
  });

  it('treats PrintableString and UTF8String of the same text as equal', () => {
    const a: Name = [[{ type: CN, value: 'Example', tag: 0x13 }]];
    const b: Name = [[{ type: CN, value: 'example' }]];
    expect(nameEquals(a, b)).toBe(true);
    expect(nameKey(a)).toBe(nameKey(b));
  });
});

describe('builders', () => {
  it('orders personName attributes CN, UID, pseudonym, C, ST, L, DC… one per RDN', () => {
    const n = personName({
      commonName: 'Ada',
      uid: 'u',
      pseudonym: 'p',
      country: 'GB',
      state: 's',
      locality: 'l',
      domainComponents: ['a', 'b'],
    });
    expect(n.map((r) => r.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(formatName(n)).toBe('DC=b,DC=a,L=l,ST=s,C=GB,pseudonym=p,UID=u,CN=Ada');
  });

  it('orders organizationName attributes O, OU, CN, pseudonym, C, ST, L, DC…', () => {
    const n = organizationName({
      organization: 'O',
      unit: 'U',
      commonName: 'C',
      pseudonym: 'P',
      country: 'US',
      state: 'S',
      locality: 'L',
      domainComponents: ['d'],
    });
    expect(formatName(n)).toBe('DC=d,L=L,ST=S,C=US,pseudonym=P,CN=C,OU=U,O=O');
  });

  it('omits empty options', () => {
    expect(formatName(personName({ commonName: 'x', uid: '', country: '' }))).toBe('CN=x');
  });

  it('rejects an empty commonName with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => personName({ commonName: '' }));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('commonName');
    expect(e.field).toBe('CN');
  });

  it('rejects an empty organization with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => organizationName({ organization: '' }));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.field).toBe('O');
  });

  it('rejects a bad country with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => personName({ commonName: 'x', country: 'U1' }));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toContain('two-letter');
  });

  it('rejects an overlong locality with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => organizationName({ organization: 'x', locality: 'l'.repeat(129) }));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.field).toBe('L');
  });

  it('rejects an overlong domain component with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => personName({ commonName: 'x', domainComponents: ['d'.repeat(64)] }));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.field).toBe('DC');
  });

  it('signingName appends pseudonym=Signing Certificate without touching the input', () => {
    const base = organizationName({ organization: 'Example' });
    const s = signingName(base);
    expect(base).toHaveLength(1);
    expect(formatName(s)).toBe(`pseudonym=${SIGNING_PSEUDONYM},O=Example`);
    roundTrip(s);
  });

  it('commonNameOf returns the last CN', () => {
    expect(commonNameOf(parseName('CN=leaf,O=x,CN=root'))).toBe('leaf');
    expect(commonNameOf(parseName('O=x'))).toBeUndefined();
  });
});

// --- comparison with OpenSSL ---

const cp = { execFileSync };
const hasOpenssl = requireOpenssl('the OpenSSL RFC 2253 comparison tests in name.test.ts');

function opensslCert(subj: string): Uint8Array {
  return cp.execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-utf8',
      '-subj',
      subj,
      '-outform',
      'DER',
      '-days',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
}
function opensslSubject(der: Uint8Array): string {
  const out = cp.execFileSync(
    'openssl',
    ['x509', '-inform', 'DER', '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'],
    {
      input: der,
      encoding: 'utf8',
    },
  );
  return out.replace(/\r?\n$/, '').replace(/^subject=/, '');
}
/** Subject Name of a certificate: tbs → [version], serial, sigAlg, issuer, validity, subject. */
function subjectOf(der: Uint8Array): Name {
  const tbs = children(der, readRoot(der))[0]!;
  const fields = children(der, tbs);
  const offset = fields[0]!.tag === 0xa0 ? 1 : 0;
  return decodeName(der, fields[offset + 4]!);
}

describe.skipIf(!hasOpenssl)('formatName vs openssl -nameopt RFC2253', () => {
  it.each([
    '/CN=example.com/O=Example Org/C=US',
    '/CN=a\\,b/O=#lead/OU=q"uote\\/sl;semi <lt>',
    '/CN=Ærøskøbing/L=日本/O=😀',
    '/ST= sp /DC=com/DC=example/emailAddress=a@b.c/serialNumber=123',
    '/pseudonym=P/title=T/GN=g/SN=s/UID=u',
  ])('matches for %s', (subj) => {
    const der = opensslCert(subj);
    const name = subjectOf(der);
    const ours = formatName(name);
    expect(ours).toBe(opensslSubject(der));
    // and our parse of OpenSSL's text equals the certificate's name
    expect(nameEquals(parseName(opensslSubject(der)), name)).toBe(true);
    // re-encoding the decoded subject reproduces OpenSSL's bytes
    expect(toHex(encodeName(name))).toBe(toHex(encodeName(decode(encodeName(name)))));
  });

  it('agrees on a multi-valued RDN up to member order (OpenSSL prints members reversed)', () => {
    const der = opensslCert('/O=x/CN=a\\,b+UID=y');
    const name = subjectOf(der);
    expect(opensslSubject(der)).toBe('UID=y+CN=a\\,b,O=x');
    expect(formatName(name)).toBe('CN=a\\,b+UID=y,O=x');
    expect(nameEquals(parseName(opensslSubject(der)), name)).toBe(true);
  });

  it('re-encodes an OpenSSL subject byte-identically', () => {
    const der = opensslCert('/C=US/ST=CA/O=Ex/CN=a+UID=b/emailAddress=x@y.z');
    const name = subjectOf(der);
    expect(toHex(der)).toContain(toHex(encodeName(name)));
  });
});

describe('rdnKeys: the printable-ASCII shortcut normalises as NFKC would', () => {
  it('on 20,000 random ASCII values, spaces and tabs included', () => {
    const slow = (v: string): string =>
      v.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
    let seed = 11;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let k = 0; k < 20_000; k++) {
      let v = '';
      const len = rand(10);
      for (let i = 0; i < len; i++)
        v += String.fromCharCode(rand(4) === 0 ? 0x20 : 0x09 + rand(0x76));
      const [key] = rdnKeys([[{ type: '2.5.4.3', value: v }]]);
      expect(key, JSON.stringify(v)).toBe(
        JSON.stringify([JSON.stringify(['2.5.4.3', `"${slow(v)}`])]),
      );
    }
  });
});
