import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../internal/bytes.js';
import { children, readRoot } from '../internal/der.js';
import {
  bytesToIp,
  decodeGeneralNames,
  dnsName,
  emailAddress,
  encodeGeneralName,
  encodeGeneralNames,
  formatGeneralName,
  ipAddress,
  ipToBytes,
  parseAltName,
  uriName,
  type GeneralName,
} from './general-name.js';
import { parseName } from './name.js';
import { thrown } from '@certified/testing';
import { execFileSync, requireOpenssl } from '../../test/openssl.js';

const decode = (der: Uint8Array, allowNetmask = false): GeneralName[] =>
  decodeGeneralNames(der, readRoot(der), 'subjectAltName', { allowNetmask });

describe('dnsName', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM.', 'example.com'],
    ['café.example.com', 'xn--caf-dma.example.com'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
    ['日本.jp', 'xn--wgv71a.jp'],
    ['xn--caf-dma.example.com', 'xn--caf-dma.example.com'],
    ['*.a.b', '*.a.b'],
    ['*.café.example', '*.xn--caf-dma.example'],
    ['a-b.c0', 'a-b.c0'],
    ['localhost', 'localhost'],
    ['a.XN--CAF-DMA.com', 'a.xn--caf-dma.com'],
    ['ﬁ.example', 'fi.example'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ])('accepts %s → %s', (input, out) => {
    expect(dnsName(input)).toEqual({ type: 'dns', value: out });
  });

  it.each([
    ['', 'empty'],
    ['a..b', 'empty label'],
    ['-a.com', 'invalid label'],
    ['a-.com', 'invalid label'],
    [`${'a'.repeat(64)}.com`, 'invalid label'],
    [`${'a'.repeat(60)}.`.repeat(5) + 'com', 'limit is 253'],
    ['a_b.com', "only letters, digits, '-' and '.'"],
    ['a b.com', "only letters, digits, '-' and '.'"],
    ['a%41.com', "only letters, digits, '-' and '.'"],
    ['a.com:443', "only letters, digits, '-' and '.'"],
    ['a/b.com', "only letters, digits, '-' and '.'"],
    ['1.2.3.4', 'numeric label'],
    ['example.123', 'numeric label'],
    ['１.２.３.４', 'numeric label'],
    ['0x7f', 'not a plain host name'],
    ['a.0x10', 'not a valid host name'],
    ['*', 'at least two labels'],
    ['*.com', 'at least two labels'],
    ['*.com.', 'at least two labels'],
    ['a.*.b', "'*' that is not the whole leftmost label"],
    ['*a.b.c', "'*' that is not the whole leftmost label"],
    ['**.b.c', "'*' that is not the whole leftmost label"],
    ['xn--zz.com', 'not a valid host name'],
  ])('rejects %j with ERR_SAN_INVALID', (input, message) => {
    const e = thrown(() => dnsName(input));
    expect(e.code).toBe('ERR_SAN_INVALID');
    expect(e.message).toContain(message);
    expect(e.field).toBe('dns');
  });
});

describe('ipAddress', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['[fe80::1]', 'fe80::1'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::FFFF:0102:0304', '::ffff:1.2.3.4'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ])('canonicalises %s → %s', (input, out) => {
    expect(ipAddress(input)).toEqual({ type: 'ip', value: out });
  });

  it.each([
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.-4',
    '0x7f.0.0.1',
    '[1.2.3.4]',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1::2::3',
    '1:2:3:4:5:6:7::8',
    '12345::1',
    'g::1',
    '::1.2.3',
    '1.2.3.4::',
    '',
    'example.com',
  ])('rejects %j with ERR_SAN_INVALID', (input) => {
    const e = thrown(() => ipAddress(input));
    expect(e.code).toBe('ERR_SAN_INVALID');
    expect(e.message).toContain('not a valid IPv4');
    expect(e.field).toBe('ip');
  });

  it('rejects a zone id with ERR_SAN_INVALID', () => {
    const e = thrown(() => ipAddress('fe80::1%eth0'));
    expect(e.code).toBe('ERR_SAN_INVALID');
    expect(e.message).toContain('zone id');
  });

  it('converts bytes both ways', () => {
    expect(toHex(ipToBytes('::ffff:1.2.3.4'))).toBe('00000000000000000000ffff01020304');
    expect(bytesToIp(fromHex('20010db8000000000000000000000001'))).toBe('2001:db8::1');
    expect(() => bytesToIp(new Uint8Array(5))).toThrow(RangeError);
  });
});

describe('emailAddress', () => {
  it.each([
    ['alice@example.com', 'alice@example.com'],
    ['Alice.B+tag@Example.COM', 'Alice.B+tag@example.com'],
    ['a@café.example', 'a@xn--caf-dma.example'],
    ['"john doe"@example.com', '"john doe"@example.com'],
  ])('accepts %s → %s', (input, out) => {
    expect(emailAddress(input)).toEqual({ type: 'email', value: out });
  });

  it.each([
    ['alice', 'local@domain'],
    ['@example.com', 'local@domain'],
    ['alice@', 'local@domain'],
    ['ålice@example.com', 'SmtpUTF8Mailbox'],
    ['a..b@example.com', 'invalid local part'],
    ['.a@example.com', 'invalid local part'],
    ['a b@example.com', 'invalid local part'],
    ['a@b@example.com', 'invalid local part'],
    ['a@[192.0.2.1]', 'address literal'],
    ['a@exa_mple.com', "only letters, digits, '-' and '.'"],
    ['a@-x.com', 'invalid label'],
  ])('rejects %j with ERR_SAN_INVALID', (input, message) => {
    const e = thrown(() => emailAddress(input));
    expect(e.code).toBe('ERR_SAN_INVALID');
    expect(e.message).toContain(message);
    expect(e.field).toBe('email');
  });
});

describe('uriName', () => {
  it.each([
    'https://example.com/a?b=c#d',
    'spiffe://example.org/ns/default',
    'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    'mailto:a@b.c',
    'https://x.y/%C3%A9',
  ])('accepts %s unchanged', (input) => {
    expect(uriName(input)).toEqual({ type: 'uri', value: input });
  });

  it.each([
    ['example.com/path', 'must be absolute'],
    ['/relative', 'must be absolute'],
    ['https://x.y/a b', 'percent-encode'],
    ['https://x.y/é', 'percent-encode'],
    ['https://x.y/%zz', 'RFC 3986 does not allow'],
    ['https://x.y/a"b', 'RFC 3986 does not allow'],
    ['https://x.y/<a>', 'RFC 3986 does not allow'],
    ['https://', 'cannot be parsed'],
    ['foo:///path', 'without a host'],
    ['', 'must be absolute'],
  ])('rejects %j with ERR_SAN_INVALID', (input, message) => {
    const e = thrown(() => uriName(input));
    expect(e.code).toBe('ERR_SAN_INVALID');
    expect(e.message).toContain(message);
    expect(e.field).toBe('uri');
  });
});

describe('parseAltName', () => {
  it.each<[string, GeneralName]>([
    ['DNS:Example.com', { type: 'dns', value: 'example.com' }],
    ['dns:café.fr', { type: 'dns', value: 'xn--caf-dma.fr' }],
    ['IP:10.0.0.1', { type: 'ip', value: '10.0.0.1' }],
    ['ip:::1', { type: 'ip', value: '::1' }],
    ['IP Address:2001:DB8::1', { type: 'ip', value: '2001:db8::1' }],
    ['email:a@b.example', { type: 'email', value: 'a@b.example' }],
    ['URI:https://x.example/', { type: 'uri', value: 'https://x.example/' }],
    ['10.1.2.3', { type: 'ip', value: '10.1.2.3' }],
    ['[::1]', { type: 'ip', value: '::1' }],
    ['fe80::2', { type: 'ip', value: 'fe80::2' }],
    ['a@b.example', { type: 'email', value: 'a@b.example' }],
    ['https://u@x.example/', { type: 'uri', value: 'https://u@x.example/' }],
    ['host.example', { type: 'dns', value: 'host.example' }],
    ['*.example.com', { type: 'dns', value: '*.example.com' }],
  ])('parses %s', (text, expected) => {
    expect(parseAltName(text)).toEqual(expected);
  });

  it('parses DirName: values as RFC 4514', () => {
    expect(parseAltName('DirName:CN=a,O=b')).toEqual({
      type: 'dirName',
      value: parseName('CN=a,O=b'),
    });
  });

  it('rejects a scheme without // with ERR_SAN_INVALID and suggests URI:', () => {
    const e = thrown(() => parseAltName('urn:x:y'));
    expect(e.code).toBe('ERR_SAN_INVALID');
    expect(e.message).toContain('URI:');
  });

  it('rejects a bad bare value with ERR_SAN_INVALID', () => {
    const e = thrown(() => parseAltName('256.1.1.1'));
    expect(e.code).toBe('ERR_SAN_INVALID');
    expect(e.message).toContain('numeric label');
  });

  it('round-trips formatGeneralName output', () => {
    for (const n of [
      dnsName('a.example'),
      ipAddress('2001:db8::1'),
      emailAddress('x@y.example'),
      uriName('https://z.example/'),
    ]) {
      expect(parseAltName(formatGeneralName(n))).toEqual(n);
    }
  });
});

describe('encodeGeneralNames / decodeGeneralNames', () => {
  const names: GeneralName[] = [
    dnsName('café.example.com'),
    ipAddress('192.0.2.1'),
    ipAddress('2001:db8::1'),
    emailAddress('a@example.com'),
    uriName('https://example.com/'),
    { type: 'dirName', value: parseName('CN=a+UID=b,O=Ærø') },
    { type: 'other', tag: 0x88, der: fromHex('88032a0304') },
    { type: 'other', tag: 0xa0, der: fromHex('a00c06032a0304a0050c03616263') },
  ];

  it('round-trips every kind byte-identically', () => {
    const der = encodeGeneralNames(names);
    const back = decode(der);
    expect(back).toEqual(names);
    expect(toHex(encodeGeneralNames(back))).toBe(toHex(der));
  });

  it('uses the RFC 5280 tags', () => {
    expect(toHex(encodeGeneralName(dnsName('a.b')))).toBe('8203612e62');
    expect(toHex(encodeGeneralName(emailAddress('a@b.c')))).toBe('810561406' + '22e63');
    expect(toHex(encodeGeneralName(uriName('a:b')))).toBe('8603613a62');
    expect(toHex(encodeGeneralName(ipAddress('1.2.3.4')))).toBe('870401020304');
    expect(toHex(encodeGeneralName({ type: 'dirName', value: [] }))).toBe('a4023000');
  });

  it('formats each kind OpenSSL-style', () => {
    expect(names.map(formatGeneralName)).toEqual([
      'DNS:xn--caf-dma.example.com',
      'IP Address:192.0.2.1',
      'IP Address:2001:db8::1',
      'email:a@example.com',
      'URI:https://example.com/',
      'DirName:CN=a+UID=b,O=Ærø',
      'othername:[8]',
      'othername:[0]',
    ]);
  });

  it('throws RangeError for an empty list', () => {
    expect(() => encodeGeneralNames([])).toThrow(RangeError);
  });

  it('rejects a non-ASCII DNS value on encode with ERR_SAN_INVALID', () => {
    const e = thrown(() => encodeGeneralName({ type: 'dns', value: 'café.com' }));
    expect(e.code).toBe('ERR_SAN_INVALID');
    expect(e.message).toContain('not ASCII');
  });

  it('keeps decoded values as issued (no lower-casing)', () => {
    expect(decode(fromHex('30058203412e42'))).toEqual([{ type: 'dns', value: 'A.B' }]);
  });

  it('rejects a 5-byte IP with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('3007870501020304' + '05')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('4 or 16 bytes');
  });

  it('rejects an 8-byte IP without allowNetmask with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('300a8708c0000200ffffff00')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('found 8');
  });

  it('reads address+mask as addr/prefix with allowNetmask and encodes it back', () => {
    const der = fromHex('300a8708c0000200ffffff00');
    const back = decode(der, true);
    expect(back).toEqual([{ type: 'ip', value: '192.0.2.0/24' }]);
    expect(toHex(encodeGeneralNames(back))).toBe(toHex(der));
  });

  it('rejects a non-contiguous netmask with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('300a8708c0000200ff00ff00'), true));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('not contiguous');
  });

  it('rejects non-ASCII IA5 with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('30038201e9')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('non-ASCII');
  });

  it('rejects an empty string with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('30028200')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('empty name');
  });

  it('rejects an empty sequence with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('3000')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('at least one');
  });

  it('rejects an unknown tag with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('3003890161')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('unknown GeneralName tag 0x89');
  });

  it('rejects a directoryName holding two Names with ERR_DER_MALFORMED', () => {
    const e = thrown(() => decode(fromHex('3006a40430003000')));
    expect(e.code).toBe('ERR_DER_MALFORMED');
    expect(e.message).toContain('exactly one Name');
  });

  it('reads an implicitly tagged GeneralNames ([1] in authorityKeyIdentifier)', () => {
    expect(decode(fromHex('a1058203612e62'))).toEqual([{ type: 'dns', value: 'a.b' }]);
  });
});

// --- OpenSSL interop ---

const cp = { execFileSync };
const hasOpenssl = requireOpenssl('the OpenSSL subjectAltName tests in general-name.test.ts');

/** The subjectAltName extension value (GeneralNames DER) of an OpenSSL-made certificate. */
function opensslSan(san: string): Uint8Array {
  const der = cp.execFileSync(
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
      '-subj',
      '/CN=x',
      '-addext',
      `subjectAltName=${san}`,
      '-outform',
      'DER',
      '-days',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const tbs = children(der, readRoot(der))[0]!;
  const exts = children(
    der,
    children(der, tbs).find((t) => t.tag === 0xa3)!,
  )[0]!;
  for (const ext of children(der, exts)) {
    const [id, value] = children(der, ext);
    if (toHex(der.subarray(id!.valueStart, id!.end)) === '551d11')
      return der.slice(value!.valueStart, value!.end);
  }
  throw new Error('no subjectAltName');
}

describe.skipIf(!hasOpenssl)('decodeGeneralNames on OpenSSL output', () => {
  it('reads DNS, IP, email, URI and RID names and re-encodes them identically', () => {
    const der = opensslSan(
      'DNS:a.example,IP:1.2.3.4,IP:2001:DB8:0:0:0:0:0:1,IP:::ffff:1.2.3.4,email:a@b.example,URI:https://x.example/z,RID:1.2.3',
    );
    const names = decode(der);
    expect(names.slice(0, 6)).toEqual([
      { type: 'dns', value: 'a.example' },
      { type: 'ip', value: '1.2.3.4' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'ip', value: '::ffff:1.2.3.4' },
      { type: 'email', value: 'a@b.example' },
      { type: 'uri', value: 'https://x.example/z' },
    ]);
    expect(names[6]).toMatchObject({ type: 'other', tag: 0x88 });
    expect(toHex(encodeGeneralNames(names))).toBe(toHex(der));
  });

  it('matches our encoding of the same names', () => {
    const ours = encodeGeneralNames(
      ['DNS:xn--caf-dma.example', 'IP:10.0.0.1', 'email:x@y.example'].map(parseAltName),
    );
    expect(toHex(ours)).toBe(
      toHex(opensslSan('DNS:xn--caf-dma.example,IP:10.0.0.1,email:x@y.example')),
    );
  });
});
