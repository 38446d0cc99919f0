/**
 * @module signature-base.test — our RFC 9421 reader and signature base held to two references
 * nobody here wrote: http-message-sig (the signer @certified/web uses; its signer hands us the exact
 * base it signed) and RFC 9421's own Appendix B.2.6 test vector (Ed25519).
 */
import { AuthError } from '@certified/core';
import { appendSignature, createSignature, type SignatureParameters } from 'http-message-sig';
import { serializeInnerList, type InnerList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { readSignature, serializeSignatureParams, signatureBase } from './signature-base.js';

/** Signs `request` with http-message-sig and returns what it signed and the signed request. */
async function librarySigned(
  request: Request,
  components: string[],
  parameters: SignatureParameters,
): Promise<{ signed: Request; base: Uint8Array }> {
  let base: Uint8Array | undefined;
  const fields = await createSignature(request, {
    label: 'certified',
    components,
    parameters,
    signer: {
      algorithm: 'ed25519',
      sign: (data) => {
        base = new Uint8Array(data);
        return new Uint8Array(64).fill(7);
      },
    },
  });
  return {
    signed: new Request(request, { headers: appendSignature(request.headers, fields) }),
    base: base!,
  };
}

const ours = (r: Request, targetUri = r.url): Uint8Array =>
  signatureBase(
    { method: r.method, targetUri, headers: r.headers },
    readSignature(r.headers, 'certified'),
  );

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('signatureBase agrees with http-message-sig byte for byte', () => {
  const urls = [
    'http://127.0.0.1:8787/api/notes?x=1',
    'https://Example.ORG/a/b/../c?q=%20x&y',
    'https://example.org:443/',
    'http://example.org:8080',
    'https://example.org/path%2Fwith%2Fslashes?',
    'https://[::1]:9443/v1/renew?a=1&a=2',
    'https://example.org?only=query',
  ];
  const componentSets = [
    ['@method', '@target-uri', 'certified-chain'],
    ['@method', '@authority', '@path', '@query', '@scheme', 'content-type'],
    ['content-type', '@query', '@target-uri', 'x-repeated', '@method'],
  ];
  const parameterSets: SignatureParameters[] = [
    { created: 1796359315, expires: 1796359375, nonce: 'n-1', keyid: 'AB:CD', alg: 'ed25519' },
    { keyid: 'quote " and \\ backslash', created: 0, tag: 'certified' },
    { nonce: "spaces and 'quotes'", expires: 999999999999999 },
  ];
  for (const url of urls)
    for (const components of componentSets)
      for (const parameters of parameterSets)
        it(`${url} covering ${components.join(' ')} with ${Object.keys(parameters).join(',')}`, async () => {
          const headers = new Headers({
            'certified-chain': ':AAEC:, :AwQF:',
            'content-type': '  application/json  ',
          });
          headers.append('x-repeated', 'one');
          headers.append('x-repeated', 'two ');
          const { signed, base } = await librarySigned(
            new Request(url, { method: 'POST', headers, body: '{}' }),
            components,
            parameters,
          );
          expect(text(ours(signed))).toBe(text(base));
        });
});

describe('signatureBase over a target URI as the client wrote it (options.targetUri)', () => {
  // A Request normalises its URL; a proxy-supplied target URI may not be: @path and @query must be
  // the client's own text, not URL's normal form.
  it.each([
    'https://example.org/a/./b/../c?x=%7e&y',
    'https://EXAMPLE.org:443/%7Euser/?',
    'http://example.org',
    'https://example.org?q=/not/a/path',
  ])('%s', async (targetUri) => {
    let base: Uint8Array | undefined;
    const fields = await createSignature(
      { kind: 'request', method: 'GET', targetUri, fields: [] },
      {
        label: 'certified',
        components: ['@method', '@target-uri', '@authority', '@scheme', '@path', '@query'],
        parameters: { created: 1, nonce: 'n' },
        signer: {
          algorithm: 'ed25519',
          sign: (data) => {
            base = new Uint8Array(data);
            return new Uint8Array(64);
          },
        },
      },
    );
    const headers = new Headers({
      'signature-input': fields.signatureInput,
      signature: fields.signature,
    });
    const candidate = readSignature(headers, 'certified');
    expect(text(signatureBase({ method: 'GET', targetUri, headers }, candidate))).toBe(text(base!));
  });
});

describe('signatureBase refuses what it cannot reproduce', () => {
  const make = async (components: string[]) =>
    (
      await librarySigned(
        new Request('https://example.org/x', { headers: { 'content-type': 'text/plain' } }),
        components,
        { created: 1, nonce: 'n' },
      )
    ).signed;

  it('a covered header the request no longer has: ERR_AUTH_SIGNATURE_COVERAGE', async () => {
    const signed = await make(['@method', 'content-type']);
    const headers = new Headers(signed.headers);
    headers.delete('content-type');
    expect(() => ours(new Request(signed.url, { headers }))).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_SIGNATURE_COVERAGE' }),
    );
  });

  it('a header value that is not ASCII: ERR_AUTH_SIGNATURE_MALFORMED', async () => {
    const signed = await make(['content-type']);
    const headers = new Headers(signed.headers);
    headers.set('content-type', 'text/plain; name=caf\u00e9');
    expect(() => ours(new Request(signed.url, { headers }))).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_SIGNATURE_MALFORMED' }),
    );
  });

  it.each([
    ['a component with parameters', 'certified=("content-type";sf);created=1'],
    ['a derived component it does not know', 'certified=("@status");created=1'],
    ['@request-target (its form is ambiguous)', 'certified=("@request-target");created=1'],
    ['an upper-case header name', 'certified=("Content-Type");created=1'],
    ['a component covered twice', 'certified=("@method" "@method");created=1'],
    ['a token instead of a string', 'certified=(method);created=1'],
    ['a boolean parameter', 'certified=("@method");created'],
    ['a decimal parameter', 'certified=("@method");created=1.5'],
    ['a byte-sequence parameter', 'certified=("@method");nonce=:AA==:'],
    ['an item instead of an inner list', 'certified="@method"'],
    ['an unparseable dictionary', 'certified=("@method"'],
    [
      'more than 32 components',
      `certified=(${Array.from({ length: 33 }, (_, i) => `"x-${i}"`).join(' ')});created=1`,
    ],
  ])('%s: ERR_AUTH_SIGNATURE_MALFORMED', (_, input) => {
    const headers = new Headers({ 'signature-input': input, signature: 'certified=:AAAA:' });
    expect(() => readSignature(headers, 'certified')).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_SIGNATURE_MALFORMED' }),
    );
  });

  it('a Signature member that is not a byte sequence: ERR_AUTH_SIGNATURE_MALFORMED', () => {
    const headers = new Headers({
      'signature-input': 'certified=("@method");created=1',
      signature: 'certified="AAAA"',
    });
    expect(() => readSignature(headers, 'certified')).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_SIGNATURE_MALFORMED' }),
    );
  });

  it.each([
    ['no Signature', { 'signature-input': 'certified=("@method");created=1' }],
    ['another label', { 'signature-input': 'sig1=("@method")', signature: 'sig1=:AAAA:' }],
  ])('%s: ERR_AUTH_SIGNATURE_MISSING', (_, fields) => {
    let error: unknown;
    try {
      readSignature(new Headers(fields), 'certified');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'ERR_AUTH_SIGNATURE_MISSING' });
  });
});

describe('serializeSignatureParams', () => {
  it('writes what structured-headers writes, for every shape readSignature admits', () => {
    const strings = ['', 'a', '@method', 'x"y', 'back\\slash', '\\"', ' lead and trail ', '~!#$%'];
    const numbers = [0, -0, 1, -1, 1796359315, 999_999_999_999_999, -999_999_999_999_999];
    let n = 0;
    for (const s of strings)
      for (const i of numbers) {
        const components = strings.slice(0, (n++ % strings.length) + 1);
        const parameters = { created: i, nonce: s, keyid: `k${s}`, expires: -i };
        const reference: InnerList = [
          components.map((c) => [c, new Map()]),
          new Map(Object.entries(parameters)),
        ];
        expect(serializeSignatureParams(components, parameters)).toBe(
          serializeInnerList(reference),
        );
      }
  });
});

describe('RFC 9421 Appendix B.2.6 (Ed25519)', () => {
  // The request, test-key-ed25519's public half and the signature as RFC 9421 prints them.
  const headers = new Headers({
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'content-type': 'application/json',
    'content-digest':
      'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
    'content-length': '18',
    'signature-input':
      'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    signature:
      'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:',
  });
  const message = {
    method: 'POST',
    targetUri: 'https://example.com/foo?param=Value&Pet=dog',
    headers,
  };

  it('builds the base the RFC prints, and the RFC signature verifies over it', async () => {
    const candidate = readSignature(headers, 'sig-b26');
    const base = signatureBase(message, candidate);
    expect(text(base)).toBe(
      [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
      ].join('\n'),
    );
    const key = await crypto.subtle.importKey(
      'spki',
      Uint8Array.from(atob('MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs='), (c) =>
        c.charCodeAt(0),
      ),
      { name: 'Ed25519' },
      false,
      ['verify'],
    );
    const verify = (b: Uint8Array) =>
      crypto.subtle.verify('Ed25519', key, candidate.signature as BufferSource, b as BufferSource);
    expect(await verify(base)).toBe(true);
    // And a changed method does not.
    expect(await verify(signatureBase({ ...message, method: 'PUT' }, candidate))).toBe(false);
  });
});
