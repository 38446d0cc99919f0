import { describe, expect, it } from 'vitest';
import { fromHex } from '../internal/bytes.js';
import { readRoot } from '../internal/der.js';
import { personName, organizationName, signingName } from './name.js';
import { decodeName, encodeName, type AttributeTypeAndValue, type Name } from './name.js';
import { thrown } from '@certified/testing';
import { ornlName } from './ornl-name.js';

const a = (type: string, value: string, tag?: number): AttributeTypeAndValue =>
  tag === undefined ? { type, value } : { type, value, tag };
const d = (type: string, hex: string): AttributeTypeAndValue => ({
  type,
  value: '#' + hex,
  der: fromHex(hex),
});
const CN = '2.5.4.3';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const UID = '0.9.2342.19200300.100.1.1';
const DC = '0.9.2342.19200300.100.1.25';

/**
 * Expected strings come from python-cryptography 48.0.0: each name was put in a certificate, loaded
 * with `x509.load_der_x509_certificate` and printed with `subject.rfc4514_string(overrides)`, the
 * overrides being ORNL certified's `encode.rfc4514name` table.
 */
const TABLE: [string, Name, string][] = [
  [
    'person_name',
    personName({
      commonName: 'Ada Lovelace',
      uid: 'ada',
      pseudonym: 'Countess',
      country: 'GB',
      state: 'London',
      locality: 'Marylebone',
      domainComponents: ['example', 'org'],
    }),
    'DC=org,DC=example,L=Marylebone,ST=London,C=GB,P=Countess,UID=ada,CN=Ada Lovelace',
  ],
  [
    'org_name + signing pseudonym',
    signingName(
      organizationName({
        organization: 'Example Corp',
        unit: 'IT',
        commonName: 'Ops CA',
        country: 'US',
        state: 'TN',
        locality: 'Oak Ridge',
        domainComponents: ['ornl', 'gov'],
      }),
    ),
    'P=Signing Certificate,DC=gov,DC=ornl,L=Oak Ridge,ST=TN,C=US,CN=Ops CA,OU=IT,O=Example Corp',
  ],
  [
    "ORNL's overrides",
    [
      [a('2.5.4.46', 'dq1')],
      [a('2.5.4.5', 'SN-42')],
      [a('1.2.840.113549.1.9.1', 'a@b.example')],
      [a('2.5.4.12', 'Dr')],
      [a('2.5.4.4', 'Lovelace')],
      [a('2.5.4.42', 'Ada')],
      [a('2.5.4.43', 'AAK')],
      [a('2.5.4.44', 'III')],
      [a('2.5.4.65', 'P1')],
    ],
    'P=P1,GEN=III,IN=AAK,NAME=Ada,SUR=Lovelace,T=Dr,E=a@b.example,S=SN-42,DQ=dq1',
  ],
  [
    "python's default short names",
    [
      [a('2.5.4.6', 'US')],
      [a('2.5.4.8', 'TN')],
      [a('2.5.4.7', 'Knoxville')],
      [a('2.5.4.9', '1 Bethel Valley Rd')],
      [a(O, 'O')],
      [a(OU, 'OU')],
      [a(DC, 'dc')],
      [a(UID, 'uid')],
      [a(CN, 'cn')],
    ],
    'CN=cn,UID=uid,DC=dc,OU=OU,O=O,STREET=1 Bethel Valley Rd,L=Knoxville,ST=TN,C=US',
  ],
  [
    'other OIDs as dotted strings with text values',
    [
      [a('2.5.4.17', '37830')],
      [a('2.5.4.97', 'VATUS-1234')],
      [a('2.5.4.15', 'Private Organization')],
      [a('1.3.6.1.4.1.311.60.2.1.3', 'US')],
      [a('1.2.3.4.5', 'custom')],
    ],
    '1.2.3.4.5=custom,1.3.6.1.4.1.311.60.2.1.3=US,2.5.4.15=Private Organization,2.5.4.97=VATUS-1234,2.5.4.17=37830',
  ],
  [
    'special characters (= is not escaped)',
    [
      [a(CN, 'a,b')],
      [a(CN, 'a+b')],
      [a(CN, '"quoted"')],
      [a(CN, 'back\\slash')],
      [a(CN, '<tag>')],
      [a(CN, 'semi;colon')],
      [a(CN, 'eq=ual')],
    ],
    'CN=eq=ual,CN=semi\\;colon,CN=\\<tag\\>,CN=back\\\\slash,CN=\\"quoted\\",CN=a\\+b,CN=a\\,b',
  ],
  [
    'leading #',
    [[a(CN, '#leading')], [a(CN, 'mid#dle')], [a(CN, '#')]],
    'CN=\\#,CN=mid#dle,CN=\\#leading',
  ],
  [
    'leading and trailing spaces',
    [[a(CN, ' leading')], [a(CN, 'trailing ')], [a(CN, ' both ')], [a(CN, 'in  side')]],
    'CN=in  side,CN=\\ both\\ ,CN=trailing\\ ,CN=\\ leading',
  ],
  ['a lone space', [[a(OU, 'x')], [a(O, ' ', 0x0c)]], 'O=\\ ,OU=x'],
  [
    'NUL escaped as \\00, other controls verbatim',
    [[a(CN, 'nul\u0000byte')], [a(CN, 'new\nline')], [a(CN, 'tab\there')], [a(CN, '\u007fdel')]],
    'CN=\u007fdel,CN=tab\there,CN=new\nline,CN=nul\\00byte',
  ],
  [
    'non-ASCII verbatim',
    [[a(CN, 'café')], [a(CN, 'Ünïcødé 😀')], [a(CN, '中文')]],
    'CN=中文,CN=Ünïcødé 😀,CN=café',
  ],
  ['multi-valued RDN', [[a(O, 'Org')], [a(CN, 'Ada'), a(UID, 'ada')]], 'CN=Ada+UID=ada,O=Org'],
  [
    'multi-valued RDN in DER (sorted) order',
    [[a(O, 'Org'), a(OU, 'Unit'), a(CN, 'Name+Plus')]],
    'O=Org+OU=Unit+CN=Name\\+Plus',
  ],
  ['multi-valued RDN of one type', [[a(DC, 'a'), a(DC, 'zzz')]], 'DC=a+DC=zzz'],
  [
    'string types',
    [
      [a(CN, 'printable', 0x13)],
      [a(CN, 'bmp é', 0x1e)],
      [a(CN, 'universal 😀', 0x1c)],
      [a(CN, 'ia5', 0x16)],
      [a(CN, 'visible', 0x1a)],
      [a(CN, 't61', 0x14)],
    ],
    'CN=t61,CN=visible,CN=ia5,CN=universal 😀,CN=bmp é,CN=printable',
  ],
  ['BMPString surrogate pair', [[a(CN, 'x😀y', 0x1e)]], 'CN=x😀y'],
  ['NumericString', [[a(CN, '123', 0x12)]], 'CN=123'],
  ['T61String holding UTF-8 (read as UTF-8)', [[a(CN, 'caf\u00c3\u00a9', 0x14)]], 'CN=café'],
  ['BIT STRING as #hex of its contents', [[d('2.5.4.45', '0303006162')]], '2.5.4.45=#006162'],
  ['BIT STRING with unused bits', [[d('2.5.4.45', '030302a0c0')]], '2.5.4.45=#02a0c0'],
  ['OCTET STRING read as UTF-8', [[d('1.2.3.5', '0403616263')]], '1.2.3.5=abc'],
  ['OCTET STRING under CN', [[d(CN, '0403616263')]], 'CN=abc'],
  ['OCTET STRING keeps a BOM', [[d('1.2.3.5', '0405efbbbf6162')]], '1.2.3.5=\ufeffab'],
  [
    'UTCTime read as text',
    [[d('1.2.3.6', '170d3234303130313030303030305a')]],
    '1.2.3.6=240101000000Z',
  ],
  ['empty UTF8String', [[d(CN, '0c00')]], 'CN='],
  ['string value given as DER', [[d(CN, '1e0400e90020')], [d(CN, '0c02c3a9')]], 'CN=é,CN=é\\ '],
  ['empty name', [], ''],
];

describe('ornlName', () => {
  it.each(TABLE)('formats %s as ORNL certified does', (_label, name, expected) => {
    expect(ornlName(name)).toBe(expected);
  });

  it.each(TABLE)('formats %s the same after a DER round trip', (_label, name, expected) => {
    const der = encodeName(name);
    expect(ornlName(decodeName(der, readRoot(der)))).toBe(expected);
  });

  it.each([
    ['INTEGER', d('1.2.3.4', '0203010001')],
    ['SEQUENCE', d('1.2.3.7', '3003020101')],
    ['NULL', d('1.2.3.8', '0500')],
    ['BOOLEAN', d('1.2.3.9', '0101ff')],
  ])(
    'rejects a %s value (python-cryptography cannot read it) with ERR_NAME_VALUE_INVALID',
    (_l, attr) => {
      const e = thrown(() => ornlName([[attr]]));
      expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
      expect(e.reason).toBe('unreadable by ORNL');
      expect(e.message).toMatch(/^ORNL certified cannot read name attribute 1\.2\.3\.\d: .*tag 0x/);
    },
  );

  it('rejects a T61String that is not UTF-8 with ERR_NAME_VALUE_INVALID', () => {
    const name: Name = [[a(CN, 'caf\u00e9', 0x14)]];
    const der = encodeName(name);
    for (const n of [name, decodeName(der, readRoot(der))]) {
      const e = thrown(() => ornlName(n));
      expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
      expect(e.message).toBe(
        'ORNL certified cannot read name attribute CN: the T61String value is not UTF-8.',
      );
    }
  });

  it('rejects an OCTET STRING that is not UTF-8 with ERR_NAME_VALUE_INVALID', () => {
    const e = thrown(() => ornlName([[d('1.2.3.5', '0402c328')]]));
    expect(e.code).toBe('ERR_NAME_VALUE_INVALID');
    expect(e.message).toMatch(/not UTF-8/);
  });

  it('keeps the member order it is given (DER order for decoded names)', () => {
    expect(ornlName([[a(DC, 'zzz'), a(DC, 'a')]])).toBe('DC=zzz+DC=a');
  });

  it('differs from formatName where python-cryptography differs from RFC 4514', () => {
    const name: Name = [[a('2.5.4.65', 'Signing Certificate')], [a('2.5.4.17', 'a=b')]];
    expect(ornlName(name)).toBe('2.5.4.17=a=b,P=Signing Certificate');
  });
});
