/**
 * @module proxy-headers.test — XFCC grammar, and the certificates Envoy, nginx, HAProxy and Cloudflare
 * forward, made from real certificates and checked with a real validator.
 */
import { encodePem, fingerprint, isCertifiedError, toBase64Der } from '@certified/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTlsPki, type TlsIdentity, type TlsPki } from '@certified/testing/tls-pki';
import {
  FORWARDED_HEADERS,
  MAX_FORWARDED_HEADER_LENGTH,
  parseXfcc,
  readForwardedCertificate,
  type ForwardedFormat,
} from './proxy-headers.js';

let pki: TlsPki;
let alice: TlsIdentity;
let bob: TlsIdentity;

beforeAll(async () => {
  pki = await createTlsPki('P-256', 'Org');
  alice = await pki.issue('alice', { ekus: ['clientAuth'] });
  bob = await pki.issue('bob', { ekus: ['clientAuth'] });
});

const pem = (der: Uint8Array): string => encodePem('CERTIFICATE', der);
/** What Envoy and nginx send: the PEM, URL-encoded. */
const escaped = (...ders: Uint8Array[]): string => encodeURIComponent(ders.map(pem).join(''));

/** The code of the error `f` throws. */
function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isCertifiedError(e) ? e.code : `not ours: ${String(e)}`;
  }
  return undefined;
}

describe('parseXfcc', () => {
  it('reads the example of the Envoy documentation', () => {
    const els = parseXfcc(
      'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;' +
        'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com',
    );
    expect(els).toHaveLength(1);
    expect(els[0]!.by).toEqual(['http://frontend.lyft.com']);
    expect(els[0]!.subject).toEqual(['/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client']);
    expect(els[0]!.uri).toEqual(['http://testclient.lyft.com']);
  });

  it('splits elements, lower-cases keys, keeps repeated keys, and unescapes quoted values', () => {
    const els = parseXfcc(
      'By=spiffe://a;DNS=a.example;DNS=b.example, BY=spiffe://b ; Subject="CN=\\"x\\", O=y;z"',
    );
    expect(els).toHaveLength(2);
    expect(els[0]!.dns).toEqual(['a.example', 'b.example']);
    expect(els[1]!.by).toEqual(['spiffe://b']);
    expect(els[1]!.subject).toEqual(['CN="x", O=y;z']);
  });

  it('returns no elements for a blank value', () => {
    expect(parseXfcc('  ')).toEqual([]);
  });

  it('keeps network keys off Object.prototype', () => {
    const [el] = parseXfcc('__proto__=x;constructor=y');
    expect(el!['__proto__']).toEqual(['x']);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
    expect(Object.getPrototypeOf(el)).toBeNull();
  });

  it.each([
    ['an unterminated quote', 'Subject="CN=x'],
    ['a pair without "="', 'By=a;Hash'],
    ['an empty element', 'By=a,,By=b'],
    ['a trailing comma', 'By=a,'],
    ['text after a quoted value', 'Subject="x"y;By=a'],
    ['a quote inside an unquoted value', 'By=a"b'],
    ['a key that is not a token', 'B y=a'],
  ])('rejects %s with ERR_AUTH_HEADER_MALFORMED', (_, value) => {
    expect(codeOf(() => parseXfcc(value))).toBe('ERR_AUTH_HEADER_MALFORMED');
  });

  it('rejects a value over maxLength with ERR_AUTH_HEADER_MALFORMED', () => {
    expect(codeOf(() => parseXfcc('By=' + 'a'.repeat(MAX_FORWARDED_HEADER_LENGTH)))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
    expect(codeOf(() => parseXfcc('By=abc', { maxLength: 5 }))).toBe('ERR_AUTH_HEADER_MALFORMED');
  });
});

/** Envoy's `Hash=`: lower-case hex SHA-256 of the certificate DER. */
const hashOf = (id: TlsIdentity): string =>
  fingerprint(id.certificate).replace(/:/g, '').toLowerCase();

/**
 * The element Envoy (SANITIZE_SET) writes for `id`, in its order: By, Hash, then Cert, Chain and
 * Subject quoted, then URI= and DNS= exactly as the certificate's SANs spell them (unquoted).
 */
function envoyElement(id: TlsIdentity, sans: { uri?: string; dns?: string } = {}): string {
  return [
    'By=spiffe://org/proxy',
    `Hash=${hashOf(id)}`,
    `Cert="${escaped(id.certificate.der)}"`,
    `Chain="${escaped(...id.certificates)}"`,
    `Subject="CN=${id.commonName}"`,
    `URI=${sans.uri ?? ''}`,
    ...(sans.dns === undefined ? [] : [`DNS=${sans.dns}`]),
  ].join(';');
}

describe('readForwardedCertificate: Envoy XFCC written by a hostile certificate', () => {
  it('reads the element Envoy writes, SANs included', () => {
    const value = envoyElement(bob, { uri: 'spiffe://org/bob', dns: 'bob.example' });
    expect(readForwardedCertificate('envoy', value)!.peer).toEqual(bob.certificate.der);
  });

  it('never takes Cert= from inside a quoted value', () => {
    const forged = escaped(alice.certificate.der);
    const head = `By=a;Hash=${hashOf(bob)};Cert="${escaped(bob.certificate.der)}"`;
    for (const value of [
      envoyElement(bob, { uri: `"spiffe://x;Cert=${forged}"` }),
      envoyElement(bob, { uri: `"spiffe://x,Cert=${forged}"` }),
      // An escaped quote: Subject runs on to the last quote, Cert= and all.
      `${head};Subject="CN=x\\";Cert=${forged}"`,
    ])
      expect(readForwardedCertificate('envoy', value)!.peer).toEqual(bob.certificate.der);
    // An escaped backslash: the quote after it closes Subject, and a second Cert= follows.
    const closed = `${head};Subject="CN=x\\\\";Cert=${forged}`;
    expect(codeOf(() => readForwardedCertificate('envoy', closed))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
  });

  // Envoy writes URI= and DNS= unquoted, last, straight from the certificate: a SAN holding ',' or
  // ';' writes XFCC of its own. Bob's certificate was accepted by Envoy; each SAN below tries to
  // make the middleware read Alice's (public) certificate instead of his.
  it.each<[string, () => { uri?: string; dns?: string }]>([
    [
      'a URI SAN with "," that starts a last element of its own',
      () => ({
        uri: `spiffe://org/bob,Hash=${hashOf(alice)};Cert="${escaped(alice.certificate.der)}"`,
      }),
    ],
    [
      'a URI SAN that looks quoted, then ","',
      () => ({ uri: `"spiffe://org/bob",Cert="${escaped(alice.certificate.der)}"` }),
    ],
    ['a DNS SAN with ","', () => ({ dns: `bob.example,Cert=${escaped(alice.certificate.der)}` })],
  ])('refuses %s with ERR_AUTH_HEADER_MALFORMED', (_, sans) => {
    const value = envoyElement(bob, sans());
    expect(codeOf(() => readForwardedCertificate('envoy', value))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
  });

  it('refuses Cert= after a URI= pair (a ";" in a URI SAN, Envoy sending only Chain=)', () => {
    const value = `By=a;Hash=${hashOf(bob)};Chain="${escaped(...bob.certificates)}";URI=spiffe://org/bob;Cert="${escaped(alice.certificate.der)}"`;
    expect(codeOf(() => readForwardedCertificate('envoy', value))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
  });

  it('refuses an element whose Hash= is not the SHA-256 of its certificate, or has two', () => {
    const value = `Hash=${hashOf(bob)};Cert="${escaped(alice.certificate.der)}"`;
    expect(codeOf(() => readForwardedCertificate('envoy', value))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
    const twice = `Hash=${hashOf(alice)};${value}`;
    expect(codeOf(() => readForwardedCertificate('envoy', twice))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
  });

  it('refuses duplicate Cert keys in one element, whatever their case', () => {
    const cert = escaped(alice.certificate.der);
    expect(codeOf(() => readForwardedCertificate('envoy', `Cert="${cert}";CERT="${cert}"`))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
  });

  it.each([
    ['an unbalanced quote in Subject', () => `Cert="${escaped(bob.certificate.der)}";Subject="CN`],
    ['a quote closed only by an escaped quote', () => `Cert="${escaped(bob.certificate.der)}\\"`],
    ['a stray quote in URI', () => `Cert="${escaped(bob.certificate.der)}";URI=a"b`],
  ])('refuses %s with ERR_AUTH_HEADER_MALFORMED', (_, value) => {
    expect(codeOf(() => readForwardedCertificate('envoy', value()))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
  });

  it('refuses a header over the limit before parsing it', () => {
    const huge = `${envoyElement(bob)},${'By=x;'.repeat(20_000)}Hash=00`;
    let error: { code?: string; reason?: string } | undefined;
    try {
      readForwardedCertificate('envoy', huge);
    } catch (e) {
      error = e as typeof error;
    }
    expect(error?.code).toBe('ERR_AUTH_HEADER_MALFORMED');
    expect(error?.reason).toBe('too large');
  });
});

describe('readForwardedCertificate', () => {
  it('reads Envoy Cert= and Chain=, and the certificate validates', async () => {
    const value = `By=spiffe://proxy;Hash=${hashOf(alice)};Cert="${escaped(alice.certificate.der)}";Chain="${escaped(...alice.certificates)}";Subject="CN=alice";DNS=`;
    const fwd = readForwardedCertificate('envoy', value)!;
    expect(fwd.peer).toEqual(alice.certificate.der);
    expect(fwd.chain).toEqual(alice.certificates);
    const r = await pki.validator().validate({ ...fwd, purpose: 'clientAuth' });
    expect(r.ok && r.peer.commonName).toBe('alice');
  });

  it('uses the last XFCC element: the one the nearest proxy added', () => {
    const value = `Cert=${escaped(bob.certificate.der)},Cert=${escaped(alice.certificate.der)}`;
    expect(readForwardedCertificate('envoy', value)!.peer).toEqual(alice.certificate.der);
  });

  it('takes the first certificate of Chain= when Cert= is absent', () => {
    const fwd = readForwardedCertificate('envoy', `Chain=${escaped(...alice.certificates)}`)!;
    expect(fwd.peer).toEqual(alice.certificate.der);
    expect(fwd.chain).toEqual([alice.certificates[1]]);
  });

  it('returns undefined when the last element carries no certificate', () => {
    const value = `Cert=${escaped(alice.certificate.der)},By=spiffe://proxy;Hash=ab`;
    expect(readForwardedCertificate('envoy', value)).toBeUndefined();
    expect(readForwardedCertificate('envoy', 'Cert=""')).toBeUndefined();
  });

  it('reads nginx $ssl_client_escaped_cert', () => {
    const fwd = readForwardedCertificate('nginx', escaped(alice.certificate.der))!;
    expect(fwd).toEqual({ peer: alice.certificate.der, chain: [] });
  });

  it('reads nginx legacy $ssl_client_cert (tab-indented, or folded into one line)', () => {
    const tabbed = pem(alice.certificate.der).trimEnd().replace(/\n/g, '\n\t');
    expect(readForwardedCertificate('nginx', tabbed)!.peer).toEqual(alice.certificate.der);
    // What a lenient HTTP parser makes of the obs-fold: CRLF+tab becomes a tab or a space.
    expect(readForwardedCertificate('nginx', tabbed.replace(/\n\t/g, '\t'))!.peer).toEqual(
      alice.certificate.der,
    );
    expect(readForwardedCertificate('nginx', tabbed.replace(/\n\t/g, ' '))!.peer).toEqual(
      alice.certificate.der,
    );
  });

  it('reads HAProxy %[ssl_c_der,base64] (x-ssl-client-der)', () => {
    const fwd = readForwardedCertificate('haproxy', toBase64Der(alice.certificate.der))!;
    expect(fwd).toEqual({ peer: alice.certificate.der, chain: [] });
  });

  it('reads Cloudflare cf-client-cert-der-base64', () => {
    const fwd = readForwardedCertificate('cloudflare', toBase64Der(alice.certificate.der))!;
    expect(fwd).toEqual({ peer: alice.certificate.der, chain: [] });
  });

  it.each(['envoy', 'nginx', 'haproxy', 'cloudflare'] as const)(
    'returns undefined for an absent or blank %s header',
    (format: ForwardedFormat) => {
      expect(readForwardedCertificate(format, undefined)).toBeUndefined();
      expect(readForwardedCertificate(format, null)).toBeUndefined();
      expect(readForwardedCertificate(format, ' ')).toBeUndefined();
    },
  );

  it.each<[string, ForwardedFormat, () => string]>([
    ['bad percent-encoding in Cert=', 'envoy', () => 'Cert=%E0%A4%A'],
    ['Cert= that is not PEM', 'envoy', () => 'Cert=hello'],
    [
      'two Cert= keys in one element',
      'envoy',
      () => `Cert=${escaped(alice.certificate.der)};Cert=x`,
    ],
    [
      'a PEM key where a certificate belongs',
      'envoy',
      () => `Cert=${encodeURIComponent(alice.key)}`,
    ],
    [
      'more than 16 certificates',
      'envoy',
      () => `Chain=${escaped(...new Array<Uint8Array>(17).fill(alice.certificate.der))}`,
    ],
    ['bad percent-encoding', 'nginx', () => '%ZZ'],
    ['text that is not PEM', 'nginx', () => 'not a certificate'],
    [
      'two certificates (a repeated header)',
      'nginx',
      () => `${escaped(alice.certificate.der)}, ${escaped(bob.certificate.der)}`,
    ],
    ['text that is not base64', 'haproxy', () => 'not*base64'],
    [
      'two certificates (a repeated header)',
      'haproxy',
      () => `${toBase64Der(alice.certificate.der)}, ${toBase64Der(bob.certificate.der)}`,
    ],
    ['text that is not base64', 'cloudflare', () => 'not*base64'],
    [
      'two certificates (a repeated header)',
      'cloudflare',
      () => `${toBase64Der(alice.certificate.der)}, ${toBase64Der(bob.certificate.der)}`,
    ],
  ])('rejects %s (%s) with ERR_AUTH_HEADER_MALFORMED', (_, format, value) => {
    expect(codeOf(() => readForwardedCertificate(format, value()))).toBe(
      'ERR_AUTH_HEADER_MALFORMED',
    );
  });

  it('rejects a header over maxLength with ERR_AUTH_HEADER_MALFORMED', () => {
    const value = escaped(alice.certificate.der);
    expect(
      codeOf(() => readForwardedCertificate('nginx', value, { maxLength: value.length - 1 })),
    ).toBe('ERR_AUTH_HEADER_MALFORMED');
  });

  it('passes garbage DER through for the validator to refuse with ERR_CHAIN_PEER_MALFORMED', async () => {
    const fwd = readForwardedCertificate('cloudflare', 'AAAA')!;
    const r = await pki.validator().validate({ ...fwd, purpose: 'clientAuth' });
    expect(r.ok ? 'ok' : r.code).toBe('ERR_CHAIN_PEER_MALFORMED');
  });

  it('throws TypeError/RangeError for caller bugs', () => {
    expect(() => readForwardedCertificate('apache' as ForwardedFormat, 'x')).toThrow(TypeError);
    expect(() => readForwardedCertificate('nginx', 'x', { maxLength: 0 })).toThrow(RangeError);
  });

  it('names the default headers', () => {
    expect(FORWARDED_HEADERS).toEqual({
      envoy: 'x-forwarded-client-cert',
      nginx: 'x-ssl-client-cert',
      haproxy: 'x-ssl-client-der',
      cloudflare: 'cf-client-cert-der-base64',
    });
  });
});
