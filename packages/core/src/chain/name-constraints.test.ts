import { beforeAll, describe, expect, it } from 'vitest';
import {
  createSelfSignedCa,
  dnsName,
  emailAddress,
  generateKeyPair,
  ipAddress,
  issueEndEntityCertificate,
  parseName,
  personName,
  uriName,
  type Certificate,
  type GeneralName,
  type Issuer,
  type Name,
  type NameConstraintsSpec,
} from '../index.js';
import { fromHex } from '../internal/bytes.js';
import { ctx, oid, seq, tlv, utf8String } from '../internal/der.js';
import { nameConstraintsValue } from '../x509/extensions.js';
import { encodeGeneralName } from '../x509/general-name.js';
import {
  checkNames,
  comparisonCount,
  constrainedNames,
  decodeNameConstraints,
  NameConstraintsInvalid,
  type NameConstraints,
} from './name-constraints.js';
import { thrown } from '@certified/testing';

const TIME = new Date('2030-01-01T00:00:00Z');

// otherName (UPN) and registeredID: kinds the checker never evaluates.
const UPN = tlv(
  ctx(0, true),
  oid('1.3.6.1.4.1.311.20.2.3'),
  tlv(ctx(0, true), utf8String('alice@example.com')),
);
const otherName: GeneralName = { type: 'other', tag: 0xa0, der: UPN };
const registeredId: GeneralName = { type: 'other', tag: 0x88, der: fromHex('88032a0304') };

/** A name written as given, bypassing the validating builders (hostile certificates do this). */
const raw = (type: 'dns' | 'email' | 'uri', value: string): GeneralName => ({ type, value });

const dns = (v: string): GeneralName => raw('dns', v);
const email = (v: string): GeneralName => raw('email', v);
const uri = (v: string): GeneralName => raw('uri', v);
const ip = (cidr: string): GeneralName => ({ type: 'ip', value: cidr });
const dirName = (text: string): GeneralName => ({ type: 'dirName', value: parseName(text) });

const decodeSpec = (spec: NameConstraintsSpec): NameConstraints =>
  decodeNameConstraints(nameConstraintsValue(spec));

// --- hand-made DER ---

const subtree = (base: Uint8Array, ...rest: Uint8Array[]): Uint8Array => seq(base, ...rest);
const permittedList = (...subtrees: Uint8Array[]): Uint8Array => tlv(0xa0, ...subtrees);
const excludedList = (...subtrees: Uint8Array[]): Uint8Array => tlv(0xa1, ...subtrees);
const dnsBase = (v: string): Uint8Array => encodeGeneralName(raw('dns', v));
const ipBase = (hex: string): Uint8Array => tlv(0x87, fromHex(hex));

let ca: Issuer;

beforeAll(async () => {
  const keys = await generateKeyPair();
  const certificate = await createSelfSignedCa({
    subject: personName({ commonName: 'Name Constraints Test CA' }),
    keyPair: keys,
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2040-01-01T00:00:00Z'),
  });
  ca = { certificate, privateKey: keys.privateKey };
});

let leafKeys: CryptoKeyPair | undefined;

/** An end-entity certificate carrying `altNames` (as given) under the test CA. */
async function leaf(
  altNames: readonly GeneralName[],
  subject: Name = personName({ commonName: 'Leaf' }),
): Promise<Certificate> {
  leafKeys ??= await generateKeyPair();
  return issueEndEntityCertificate({
    issuer: ca,
    subject,
    publicKey: leafKeys.publicKey,
    altNames,
    now: TIME,
  });
}

/** checkNames of a fresh leaf against constraints built from `spec`. */
async function check(
  spec: NameConstraintsSpec,
  altNames: readonly GeneralName[],
  subject?: Name,
): Promise<string | undefined> {
  return checkNames(decodeSpec(spec), constrainedNames(await leaf(altNames, subject)));
}

describe('decodeNameConstraints', () => {
  it('decodes every kind of base in order', () => {
    const nc = decodeSpec({
      permitted: [
        dnsName('Example.COM'),
        ip('10.0.0.0/8'),
        ip('2001:db8::/32'),
        raw('email', 'Alice@Example.com'),
        raw('email', 'example.org'),
        raw('email', '.example.net'),
        raw('uri', 'Host.Example'),
        raw('uri', '.Example.org'),
        dirName('O=Acme,C=US'),
        otherName,
        registeredId,
      ],
      excluded: [dnsName('bad.example.com')],
    });
    expect(nc.permitted).toEqual([
      { type: 'dns', value: 'example.com' },
      { type: 'ip', addr: fromHex('0a000000'), mask: fromHex('ff000000') },
      {
        type: 'ip',
        addr: fromHex('20010db8000000000000000000000000'),
        mask: fromHex('ffffffff000000000000000000000000'),
      },
      { type: 'email', value: 'Alice@Example.com' },
      { type: 'email', value: 'example.org' },
      { type: 'email', value: '.example.net' },
      { type: 'uri', value: 'host.example' },
      { type: 'uri', value: '.example.org' },
      { type: 'dirName', value: parseName('O=Acme,C=US') },
      { type: 'other', tag: 0xa0 },
      { type: 'other', tag: 0x88 },
    ]);
    expect(nc.excluded).toEqual([{ type: 'dns', value: 'bad.example.com' }]);
  });

  it('accepts permitted only, excluded only, and an empty dNSName (every DNS name)', () => {
    expect(decodeSpec({ permitted: [dnsName('example.com')] })).toEqual({
      permitted: [{ type: 'dns', value: 'example.com' }],
      excluded: [],
    });
    expect(decodeSpec({ excluded: [ip('0.0.0.0/0')] })).toEqual({
      permitted: [],
      excluded: [{ type: 'ip', addr: fromHex('00000000'), mask: fromHex('00000000') }],
    });
    expect(decodeNameConstraints(seq(excludedList(subtree(tlv(0x82)))))).toEqual({
      permitted: [],
      excluded: [{ type: 'dns', value: '' }],
    });
  });

  it.each([
    ['both subtrees absent', seq(), 'neither permitted nor excluded'],
    ['an empty permitted list', seq(permittedList()), 'a subtree list is empty'],
    [
      'an empty excluded list',
      seq(permittedList(subtree(dnsBase('example.com'))), excludedList()),
      'a subtree list is empty',
    ],
    [
      'minimum present (even as 0)',
      seq(permittedList(subtree(dnsBase('example.com'), tlv(0x80, fromHex('00'))))),
      'minimum or maximum',
    ],
    [
      'maximum present',
      seq(permittedList(subtree(dnsBase('example.com'), tlv(0x81, fromHex('05'))))),
      'minimum or maximum',
    ],
    [
      'an IPv4 address without a mask',
      seq(permittedList(subtree(ipBase('0a000001')))),
      'found 4 bytes',
    ],
    [
      'an IPv6 address without a mask',
      seq(permittedList(subtree(ipBase('20010db8000000000000000000000001')))),
      'found 16 bytes',
    ],
    ['an empty iPAddress', seq(permittedList(subtree(ipBase('')))), 'found 0 bytes'],
    [
      'an IPv4 mask that is not a prefix',
      seq(permittedList(subtree(ipBase('0a000000ff00ff00')))),
      'not a prefix',
    ],
    [
      'an IPv6 mask that is not a prefix',
      seq(
        excludedList(
          subtree(ipBase('20010db8000000000000000000000000' + 'ffffffff000000000000000000000001')),
        ),
      ),
      'not a prefix',
    ],
    [
      'a subtree that is not a SEQUENCE',
      seq(permittedList(tlv(0x31, dnsBase('example.com')))),
      'not a SEQUENCE',
    ],
  ])('refuses %s with NameConstraintsInvalid', (_, der, message) => {
    const e = thrown(() => decodeNameConstraints(der));
    expect(e).toBeInstanceOf(NameConstraintsInvalid);
    expect(e.message).toContain(message);
  });

  it.each([
    ['.example.com', 'a leading dot'],
    ['*.example.com', 'a wildcard'],
    ['example..com', 'an empty label'],
    ['exa_mple.com', 'an underscore'],
    ['192.0.2.1', 'an address'],
    ['example.com.', 'a trailing dot'],
  ])('refuses the dNSName constraint %j (%s)', (value) => {
    const e = thrown(() => decodeSpec({ permitted: [raw('dns', value)] }));
    expect(e).toBeInstanceOf(NameConstraintsInvalid);
    expect(e.message).toContain('is not a host name');
  });

  it.each([
    '@example.com',
    'alice@',
    'invalid@address@example.com',
    'alice@[192.0.2.1]',
    '..example.com',
    'exa_mple.com',
    'a b@example.com',
  ])('refuses the malformed rfc822Name constraint %j', (value) => {
    const e = thrown(() => decodeSpec({ excluded: [raw('email', value)] }));
    expect(e).toBeInstanceOf(NameConstraintsInvalid);
    expect(e.message).toContain('is malformed');
  });

  it.each(['https://example.com', 'example.com/path', '..example.com', 'example.com:443'])(
    'refuses the URI constraint %j (not a host or .domain)',
    (value) => {
      const e = thrown(() => decodeSpec({ permitted: [raw('uri', value)] }));
      expect(e).toBeInstanceOf(NameConstraintsInvalid);
      expect(e.message).toContain('is not a host or .domain');
    },
  );

  it.each([
    [
      'excluded before permitted',
      seq(excludedList(subtree(dnsBase('a.com'))), permittedList(subtree(dnsBase('b.com')))),
    ],
    ['an extra element', seq(permittedList(subtree(dnsBase('a.com'))), tlv(0x82))],
    ['trailing bytes', new Uint8Array([...seq(permittedList(subtree(dnsBase('a.com')))), 0])],
    ['a subtree without a base', seq(permittedList(seq()))],
    ['an unknown GeneralName tag', seq(permittedList(subtree(tlv(0x89, fromHex('00')))))],
    ['a non-ASCII dNSName', seq(permittedList(subtree(tlv(0x82, fromHex('c3a9')))))],
  ])('refuses %s with a DER error', (_, der) => {
    const e = thrown(() => decodeNameConstraints(der));
    expect(e.code).toMatch(/^ERR_DER_/);
  });

  // NameConstraints ::= SEQUENCE { … }: another constructed tag at the root is not this structure.
  it('refuses a root that is not a SEQUENCE', () => {
    const body = [permittedList(subtree(dnsBase('example.com')))];
    expect(() => decodeNameConstraints(tlv(0x31, ...body))).toThrow();
    expect(() => decodeNameConstraints(tlv(0xa0, ...body))).toThrow();
    expect(() => decodeNameConstraints(tlv(0x04, fromHex('00')))).toThrow(NameConstraintsInvalid);
  });
});

describe('constrainedNames', () => {
  it('lists the subject, its emailAddress attributes, then every subjectAltName', async () => {
    const subject = parseName('CN=Alice,emailAddress=Alice@Example.COM,O=Acme');
    const cert = await leaf([dnsName('a.example.com'), ipAddress('192.0.2.1')], subject);
    expect(constrainedNames(cert)).toEqual([
      { type: 'dirName', value: cert.subject },
      { type: 'email', local: 'Alice', domain: 'example.com' },
      { type: 'dns', value: 'a.example.com', wildcard: false },
      { type: 'ip', bytes: fromHex('c0000201') },
    ]);
    expect(constrainedNames(cert)).toBe(constrainedNames(cert));
  });

  it('leaves out an empty subject and marks malformed names with their kind', async () => {
    const cert = await leaf(
      [
        raw('dns', '*.Example.com'),
        raw('dns', 'a..example.com'),
        raw('email', 'invalid@address@example.com'),
        raw('uri', 'urn:example:a'),
        raw('uri', 'https://Host.Example/x'),
        otherName,
      ],
      [],
    );
    expect(constrainedNames(cert)).toEqual([
      { type: 'dns', value: 'example.com', wildcard: true },
      { type: 'malformed', of: 'dns', value: 'a..example.com' },
      { type: 'malformed', of: 'email', value: 'invalid@address@example.com' },
      { type: 'malformed', of: 'uri', value: 'urn:example:a' },
      { type: 'uri', host: 'host.example' },
      { type: 'other', tag: 0xa0 },
    ]);
  });
});

type Row = readonly [string, NameConstraintsSpec, readonly GeneralName[], string | undefined];

const within = undefined;
const NOT_PERMITTED = 'is not in any permitted subtree';
const EXCLUDED = 'is in an excluded subtree';
const MALFORMED = 'cannot satisfy';

describe('checkNames', () => {
  describe('dNSName', () => {
    const p = { permitted: [dnsName('example.com')] };
    it.each<Row>([
      ['the subtree itself', p, [dns('example.com')], within],
      ['a subdomain', p, [dns('www.example.com')], within],
      ['a deep subdomain', p, [dns('a.b.c.example.com')], within],
      ['any case', p, [dns('WWW.Example.COM')], within],
      ['a name that merely ends the same', p, [dns('notexample.com')], NOT_PERMITTED],
      ['a parent', p, [dns('com')], NOT_PERMITTED],
      ['another domain', p, [dns('example.org')], NOT_PERMITTED],
      ['one bad name among good ones', p, [dns('a.example.com'), dns('b.test')], NOT_PERMITTED],
      ['a wildcard over the subtree', p, [dns('*.example.com')], within],
      ['a wildcard under the subtree', p, [dns('*.a.example.com')], within],
      [
        'a wildcard wider than a permitted subdomain',
        { permitted: [dnsName('foo.example.com')] },
        [dns('*.example.com')],
        NOT_PERMITTED,
      ],
      [
        'a wildcard that may be an excluded name',
        { excluded: [dnsName('foo.example.com')] },
        [dns('*.example.com')],
        EXCLUDED,
      ],
      [
        'a wildcard over an excluded parent',
        { excluded: [dnsName('example.com')] },
        [dns('*.a.example.com')],
        EXCLUDED,
      ],
      [
        'a wildcard that cannot reach an excluded deeper name',
        { excluded: [dnsName('a.foo.example.com')] },
        [dns('*.example.com')],
        within,
      ],
      [
        'a wildcard beside an excluded sibling domain',
        { excluded: [dnsName('foo.example.org')] },
        [dns('*.example.com')],
        within,
      ],
      [
        'a name in an excluded subdomain',
        { excluded: [dnsName('bad.example.com')] },
        [dns('x.bad.example.com')],
        EXCLUDED,
      ],
      [
        'a name beside an excluded subdomain',
        { excluded: [dnsName('bad.example.com')] },
        [dns('notbad.example.com')],
        within,
      ],
      [
        'excluded over permitted',
        { permitted: [dnsName('example.com')], excluded: [dnsName('bad.example.com')] },
        [dns('x.bad.example.com')],
        EXCLUDED,
      ],
      [
        'one of several permitted subtrees',
        { permitted: [dnsName('example.com'), dnsName('example.org')] },
        [dns('a.example.org')],
        within,
      ],
      ['a name of another kind', p, [ipAddress('192.0.2.1'), email('a@test')], within],
      ['no names at all', p, [], within],
    ])('%s', async (_, spec, names, expected) => {
      const why = await check(spec, names);
      if (expected === undefined) expect(why).toBeUndefined();
      else expect(why).toContain(expected);
    });

    it('treats an empty dNSName constraint as every DNS name', () => {
      const none = decodeNameConstraints(seq(excludedList(subtree(tlv(0x82)))));
      const all = decodeNameConstraints(seq(permittedList(subtree(tlv(0x82)))));
      const names = [{ type: 'dns', value: 'example.com', wildcard: false } as const];
      expect(checkNames(none, names)).toContain(EXCLUDED);
      expect(checkNames(all, names)).toBeUndefined();
    });

    it('names the failing name in the reason', async () => {
      expect(await check(p, [dns('*.test.example.org')])).toBe(
        'the dns name *.test.example.org is not in any permitted subtree',
      );
    });
  });

  describe('iPAddress', () => {
    it.each<Row>([
      ['inside a v4 range', { permitted: [ip('10.0.0.0/8')] }, [ipAddress('10.1.2.3')], within],
      [
        'outside a v4 range',
        { permitted: [ip('10.0.0.0/8')] },
        [ipAddress('11.0.0.1')],
        NOT_PERMITTED,
      ],
      [
        'at the edge of a /31',
        { permitted: [ip('192.0.2.2/31')] },
        [ipAddress('192.0.2.3')],
        within,
      ],
      [
        'past the edge of a /31',
        { permitted: [ip('192.0.2.2/31')] },
        [ipAddress('192.0.2.4')],
        NOT_PERMITTED,
      ],
      ['a /32 itself', { permitted: [ip('192.0.2.1/32')] }, [ipAddress('192.0.2.1')], within],
      [
        'beside a /32',
        { permitted: [ip('192.0.2.1/32')] },
        [ipAddress('192.0.2.2')],
        NOT_PERMITTED,
      ],
      ['any v4 under /0', { permitted: [ip('0.0.0.0/0')] }, [ipAddress('203.0.113.9')], within],
      [
        'inside a v6 range',
        { permitted: [ip('2001:db8::/32')] },
        [ipAddress('2001:db8:1::1')],
        within,
      ],
      [
        'outside a v6 range',
        { permitted: [ip('2001:db8::/32')] },
        [ipAddress('2001:db9::1')],
        NOT_PERMITTED,
      ],
      [
        'a v4 name under a v6 constraint',
        { permitted: [ip('::/0')] },
        [ipAddress('10.0.0.1')],
        NOT_PERMITTED,
      ],
      [
        'a v6 name under a v4 constraint',
        { permitted: [ip('0.0.0.0/0')] },
        [ipAddress('::1')],
        NOT_PERMITTED,
      ],
      [
        'a v4 name beside a v6 exclusion',
        { excluded: [ip('::/0')] },
        [ipAddress('10.0.0.1')],
        within,
      ],
      [
        'either family when both are permitted',
        { permitted: [ip('::/0'), ip('10.0.0.0/8')] },
        [ipAddress('10.0.0.1'), ipAddress('2001:db8::1')],
        within,
      ],
      [
        'an excluded v4 range',
        { excluded: [ip('192.168.0.0/16')] },
        [ipAddress('192.168.7.7')],
        EXCLUDED,
      ],
      ['an excluded v6 range', { excluded: [ip('fe80::/10')] }, [ipAddress('febf::1')], EXCLUDED],
      [
        'excluded inside permitted',
        { permitted: [ip('10.0.0.0/8')], excluded: [ip('10.9.0.0/16')] },
        [ipAddress('10.9.1.1')],
        EXCLUDED,
      ],
      [
        'a DNS name under IP constraints',
        { permitted: [ip('10.0.0.0/8')] },
        [dns('a.test')],
        within,
      ],
    ])('%s', async (_, spec, names, expected) => {
      const why = await check(spec, names);
      if (expected === undefined) expect(why).toBeUndefined();
      else expect(why).toContain(expected);
    });

    it('ignores address bits outside the mask, in the constraint', () => {
      // 10.1.2.3/8 decodes with its host bits set; matching masks both sides.
      const nc = decodeNameConstraints(seq(permittedList(subtree(ipBase('0a010203ff000000')))));
      expect(checkNames(nc, [{ type: 'ip', bytes: fromHex('0afefefe') }])).toBeUndefined();
    });
  });

  describe('rfc822Name', () => {
    it.each<Row>([
      [
        'an exact mailbox',
        { permitted: [email('alice@example.com')] },
        [email('alice@example.com')],
        within,
      ],
      [
        'the mailbox domain in any case',
        { permitted: [email('alice@Example.COM')] },
        [email('alice@EXAMPLE.com')],
        within,
      ],
      [
        'another local part',
        { permitted: [email('alice@example.com')] },
        [email('bob@example.com')],
        NOT_PERMITTED,
      ],
      [
        'the local part in another case',
        { permitted: [email('alice@example.com')] },
        [email('Alice@example.com')],
        NOT_PERMITTED,
      ],
      [
        'the mailbox at a subdomain',
        { permitted: [email('alice@example.com')] },
        [email('alice@a.example.com')],
        NOT_PERMITTED,
      ],
      [
        'any mailbox at a host',
        { permitted: [email('example.com')] },
        [email('Anyone@Example.com')],
        within,
      ],
      [
        'a subdomain of a host constraint',
        { permitted: [email('example.com')] },
        [email('a@sub.example.com')],
        NOT_PERMITTED,
      ],
      [
        'a subdomain of a .domain constraint',
        { permitted: [email('.example.com')] },
        [email('a@sub.example.com')],
        within,
      ],
      [
        'a deep subdomain of a .domain constraint',
        { permitted: [email('.example.com')] },
        [email('a@x.y.example.com')],
        within,
      ],
      [
        'the .domain itself',
        { permitted: [email('.example.com')] },
        [email('a@example.com')],
        NOT_PERMITTED,
      ],
      [
        'a name that merely ends the same',
        { permitted: [email('.example.com')] },
        [email('a@notexample.com')],
        NOT_PERMITTED,
      ],
      [
        'a .domain in upper case',
        { permitted: [email('.EXAMPLE.com')] },
        [email('a@b.example.com')],
        within,
      ],
      [
        'a quoted local part',
        { permitted: [email('"a b"@example.com')] },
        [email('"a b"@example.com')],
        within,
      ],
      [
        'an excluded host',
        { excluded: [email('example.com')] },
        [email('a@example.com')],
        EXCLUDED,
      ],
      [
        'an excluded mailbox',
        { excluded: [email('alice@example.com')] },
        [email('alice@example.com')],
        EXCLUDED,
      ],
      [
        'beside an excluded mailbox',
        { excluded: [email('alice@example.com')] },
        [email('bob@example.com')],
        within,
      ],
      [
        'excluded over permitted',
        { permitted: [email('.example.com')], excluded: [email('bad.example.com')] },
        [email('x@bad.example.com')],
        EXCLUDED,
      ],
      [
        'a DNS name under email constraints',
        { permitted: [email('example.com')] },
        [dns('a.test')],
        within,
      ],
    ])('%s', async (_, spec, names, expected) => {
      const why = await check(spec, names);
      if (expected === undefined) expect(why).toBeUndefined();
      else expect(why).toContain(expected);
    });

    it('checks the subject emailAddress attribute as an rfc822Name', async () => {
      const subject = parseName('CN=Alice,emailAddress=alice@example.com');
      expect(await check({ permitted: [email('example.com')] }, [], subject)).toBeUndefined();
      expect(await check({ permitted: [email('example.org')] }, [], subject)).toContain(
        NOT_PERMITTED,
      );
      expect(await check({ excluded: [email('alice@example.com')] }, [], subject)).toContain(
        EXCLUDED,
      );
      // A permitted SAN mailbox does not excuse the attribute: both are checked.
      expect(
        await check({ permitted: [email('example.org')] }, [email('alice@example.org')], subject),
      ).toContain(NOT_PERMITTED);
    });

    it('fails email constraints for a subject emailAddress that is not a mailbox', async () => {
      const subject = parseName('CN=Alice,emailAddress=not-a-mailbox');
      expect(await check({ permitted: [email('example.com')] }, [], subject)).toContain(MALFORMED);
      expect(await check({ permitted: [dnsName('example.com')] }, [], subject)).toBeUndefined();
    });
  });

  describe('uniformResourceIdentifier', () => {
    it.each<Row>([
      [
        'the exact host',
        { permitted: [uri('host.example')] },
        [uri('https://Host.Example/a')],
        within,
      ],
      [
        'a host with userinfo and port',
        { permitted: [uri('host.example')] },
        [uri('https://u:p@host.example:8443/')],
        within,
      ],
      [
        'a subdomain of a host constraint',
        { permitted: [uri('host.example')] },
        [uri('https://a.host.example/')],
        NOT_PERMITTED,
      ],
      [
        'a subdomain of a .domain constraint',
        { permitted: [uri('.example.com')] },
        [uri('https://a.example.com/')],
        within,
      ],
      [
        'the .domain itself',
        { permitted: [uri('.example.com')] },
        [uri('https://example.com/')],
        NOT_PERMITTED,
      ],
      [
        'a host that merely ends the same',
        { permitted: [uri('.example.com')] },
        [uri('https://aexample.com/')],
        NOT_PERMITTED,
      ],
      [
        'the host after the userinfo',
        { permitted: [uri('good.example')] },
        [uri('https://good.example@evil.example/')],
        NOT_PERMITTED,
      ],
      [
        'an excluded host',
        { excluded: [uri('evil.example')] },
        [uri('spiffe://evil.example/x')],
        EXCLUDED,
      ],
      [
        'an excluded .domain',
        { excluded: [uri('.evil.example')] },
        [uri('https://a.evil.example/')],
        EXCLUDED,
      ],
      [
        'a URI without authority',
        { permitted: [uri('host.example')] },
        [uri('urn:uuid:1234')],
        MALFORMED,
      ],
      [
        'a URI without authority under exclusions only',
        { excluded: [uri('host.example')] },
        [uri('urn:uuid:1234')],
        MALFORMED,
      ],
      [
        'an IP-literal URI',
        { permitted: [uri('host.example')] },
        [uri('https://[2001:db8::1]/')],
        MALFORMED,
      ],
      ['an IPv4 URI', { excluded: [uri('host.example')] }, [uri('https://192.0.2.1/')], MALFORMED],
      [
        'a URI under DNS constraints',
        { permitted: [dnsName('example.com')] },
        [uri('https://other.test/')],
        within,
      ],
    ])('%s', async (_, spec, names, expected) => {
      const why = await check(spec, names);
      if (expected === undefined) expect(why).toBeUndefined();
      else expect(why).toContain(expected);
    });
  });

  describe('directoryName', () => {
    const acme = { permitted: [dirName('O=Acme,C=US')] };
    it.each<readonly [string, NameConstraintsSpec, string, string | undefined]>([
      ['a subject under the prefix', acme, 'CN=Alice,O=Acme,C=US', within],
      ['the prefix itself', acme, 'O=Acme,C=US', within],
      ['the prefix in another case and spacing', acme, 'CN=Alice,o=ACME,c=us', within],
      ['a sibling organisation', acme, 'CN=Alice,O=Other,C=US', NOT_PERMITTED],
      ['a shorter name', acme, 'C=US', NOT_PERMITTED],
      ['the prefix out of order', acme, 'CN=Alice,C=US,O=Acme', NOT_PERMITTED],
      [
        'an excluded unit',
        { excluded: [dirName('OU=Bad,O=Acme,C=US')] },
        'CN=x,OU=Bad,O=Acme,C=US',
        EXCLUDED,
      ],
      [
        'beside an excluded unit',
        { excluded: [dirName('OU=Bad,O=Acme,C=US')] },
        'CN=x,OU=Good,O=Acme,C=US',
        within,
      ],
    ])('%s', async (_, spec, subject, expected) => {
      const why = await check(spec, [dnsName('a.example')], parseName(subject));
      if (expected === undefined) expect(why).toBeUndefined();
      else expect(why).toContain(expected);
    });

    it('checks directoryName alternative names too', async () => {
      const subject = parseName('CN=Alice,O=Acme,C=US');
      expect(await check(acme, [dirName('CN=Bob,O=Acme,C=US')], subject)).toBeUndefined();
      expect(await check(acme, [dirName('CN=Bob,O=Evil,C=US')], subject)).toContain(NOT_PERMITTED);
    });

    it('skips an empty subject', async () => {
      expect(await check(acme, [dnsName('a.example')], [])).toBeUndefined();
    });
  });

  describe('malformed names', () => {
    it.each<Row>([
      [
        'a malformed dNSName under a DNS constraint',
        { permitted: [dnsName('example.com')] },
        [dns('a..example.com')],
        MALFORMED,
      ],
      [
        'a malformed dNSName under a DNS exclusion',
        { excluded: [dnsName('other.com')] },
        [dns('a..example.com')],
        MALFORMED,
      ],
      [
        'a refused wildcard under a DNS constraint',
        { permitted: [dnsName('example.com')] },
        [dns('f*o.example.com')],
        MALFORMED,
      ],
      [
        'an underscore under a DNS constraint',
        { permitted: [dnsName('example.com')] },
        [dns('a_b.example.com')],
        MALFORMED,
      ],
      [
        'a trailing dot under a DNS constraint',
        { permitted: [dnsName('example.com')] },
        [dns('a.example.com.')],
        MALFORMED,
      ],
      [
        'a malformed dNSName without DNS constraints',
        { permitted: [email('example.com')] },
        [dns('a..example.com')],
        within,
      ],
      [
        'a malformed mailbox under an email constraint',
        { permitted: [email('example.com')] },
        [email('invalid@address@example.com')],
        MALFORMED,
      ],
      [
        'a malformed mailbox without email constraints',
        { permitted: [dnsName('example.com')] },
        [email('invalid@address@example.com')],
        within,
      ],
      [
        'a malformed URI without URI constraints',
        { permitted: [dnsName('example.com')] },
        [uri('urn:x')],
        within,
      ],
    ])('%s', async (_, spec, names, expected) => {
      const why = await check(spec, names);
      if (expected === undefined) expect(why).toBeUndefined();
      else expect(why).toContain(expected);
    });

    it('quotes the malformed value in the reason', async () => {
      expect(await check({ permitted: [dnsName('example.com')] }, [dns('a..b')])).toBe(
        'the malformed dns name "a..b" cannot satisfy the dns constraints',
      );
    });
  });

  describe('kinds never evaluated', () => {
    const KIND = 'a name of a kind we do not evaluate';
    it.each<Row>([
      ['an otherName under a permitted otherName', { permitted: [otherName] }, [otherName], KIND],
      ['an otherName under an excluded otherName', { excluded: [otherName] }, [otherName], KIND],
      [
        'an otherName under a registeredID constraint',
        { permitted: [registeredId] },
        [otherName],
        within,
      ],
      [
        'an otherName under DNS constraints',
        { permitted: [dnsName('example.com')] },
        [otherName],
        within,
      ],
      [
        'a registeredID under a registeredID constraint',
        { excluded: [registeredId] },
        [registeredId],
        KIND,
      ],
      [
        'a DNS name under an otherName constraint',
        { permitted: [otherName] },
        [dns('a.example')],
        within,
      ],
    ])('%s', async (_, spec, names, expected) => {
      const why = await check(spec, names);
      if (expected === undefined) expect(why).toBeUndefined();
      else expect(why).toContain(expected);
    });

    it('gives the tag in the reason', async () => {
      expect(await check({ permitted: [otherName] }, [otherName])).toBe(
        'a name of a kind we do not evaluate (tag 0xa0) is under a constraint of that kind',
      );
    });
  });
});

describe('comparisonCount', () => {
  it('counts names × subtrees of the same kind, permitted and excluded', async () => {
    const nc = decodeSpec({
      permitted: [dnsName('a.example'), dnsName('b.example'), ip('10.0.0.0/8'), otherName],
      excluded: [dnsName('c.example'), email('example.com'), registeredId],
    });
    const names = constrainedNames(
      await leaf([
        dnsName('x.a.example'),
        dnsName('y.a.example'),
        raw('dns', 'bad..name'),
        ipAddress('10.0.0.1'),
        uriName('https://u.example/'),
        otherName,
      ]),
    );
    // dirName subject: 0; 3 dNSNames (one malformed) × 3: 9; ip × 1: 1; uri: 0; otherName × 2 other: 2.
    expect(comparisonCount(nc, names)).toBe(12);
  });

  it('is zero for names of kinds without constraints', async () => {
    const nc = decodeSpec({ permitted: [ip('10.0.0.0/8')] });
    expect(
      comparisonCount(
        nc,
        constrainedNames(await leaf([dnsName('a.example'), emailAddress('a@b.example')])),
      ),
    ).toBe(0);
  });

  it('grows as names × subtrees', async () => {
    const permitted = Array.from({ length: 40 }, (_, i) => dnsName(`p${i}.example`));
    const excluded = Array.from({ length: 10 }, (_, i) => dnsName(`x${i}.example`));
    const names = Array.from({ length: 25 }, (_, i) => dnsName(`h.p${i}.example`));
    const nc = decodeSpec({ permitted, excluded });
    const list = constrainedNames(await leaf(names));
    expect(comparisonCount(nc, list)).toBe(25 * 50);
    expect(checkNames(nc, list)).toBeUndefined();
  });
});

// Found by a differential run against `openssl verify -x509_strict` (test/differential.test.ts).
describe('a commonName spelling a host name, without subjectAltNames', () => {
  const cn = (v: string): Name => personName({ commonName: v });
  const spec = { permitted: [dnsName('sub.example.com')] };

  it('is judged as a dNSName: a CA constrained to sub.example.com cannot vouch for www.example.com', async () => {
    expect(await check(spec, [], cn('www.example.com'))).toMatch(
      /www\.example\.com is not in any permitted subtree/,
    );
    expect(await check(spec, [], cn('api.sub.example.com'))).toBeUndefined();
    expect(await check({ excluded: [dnsName('example.com')] }, [], cn('WWW.Example.COM'))).toMatch(
      /in an excluded subtree/,
    );
  });

  it('is left alone when it is not a host name, or when any subjectAltName names the peer', async () => {
    expect(await check(spec, [], cn('Ada Lovelace'))).toBeUndefined();
    expect(await check(spec, [], cn('localhost'))).toBeUndefined();
    // BetterTLS (tc5230 and others) expects this accepted: the IP SAN names the peer.
    expect(await check(spec, [ip('127.0.0.1')], cn('www.example.com'))).toBeUndefined();
  });
});
