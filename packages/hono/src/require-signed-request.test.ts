/**
 * @module require-signed-request.test — the middleware through `app.request` (no sockets), with real
 * certificates, a real validator and signatures made by http-message-sig (RFC 9421) so that each
 * covered component and parameter can be left out or changed on purpose. The browser's own signer
 * (@certified/web) against a real server is in apps/pwa's Playwright test.
 */
import {
  createPathValidator,
  fingerprint,
  importPrivateKey,
  type PathValidator,
} from '@certified/core';
import { Hono } from 'hono';
import { appendSignature, createSignature, type SignatureParameters } from 'http-message-sig';
import { serializeDictionary, serializeList, type Item } from 'structured-headers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTlsPki, type TlsIdentity, type TlsPki } from '@certified/testing/tls-pki';
import { createMemoryNonceCache } from './nonce-cache.js';
import {
  requireSignedRequest,
  type RequireSignedRequestOptions,
} from './require-signed-request.js';
import './index.js';

let pki: TlsPki;
let edPki: TlsPki;
let strangers: TlsPki;
let alice: TlsIdentity;
let bob: TlsIdentity;
let mallory: TlsIdentity;
let keys: Map<TlsIdentity, CryptoKey>;

beforeAll(async () => {
  pki = await createTlsPki('P-256', 'Org');
  edPki = await createTlsPki('Ed25519', 'Ed Org');
  strangers = await createTlsPki('P-256', 'Strangers');
  alice = await pki.issue('alice', { ekus: ['clientAuth'] });
  bob = await edPki.issue('bob', { ekus: ['clientAuth'] });
  mallory = await strangers.issue('mallory', { ekus: ['clientAuth'] });
  keys = new Map();
  for (const id of [alice, bob, mallory]) keys.set(id, (await importPrivateKey(id.key)).privateKey);
});

/** `Certified-Chain`: an RFC 8941 list of byte sequences. */
const chainHeader = (ders: readonly Uint8Array[]): string =>
  serializeList(ders.map((d): Item => [d as Uint8Array<ArrayBuffer>, new Map()]));

const URL_ = 'http://127.0.0.1:8787/api/notes?x=1';
const now = () => Math.floor(Date.now() / 1000);

interface SignOptions {
  readonly method?: string;
  readonly url?: string;
  readonly body?: string;
  readonly components?: readonly string[];
  readonly parameters?: Partial<Record<keyof SignatureParameters, string | number | undefined>>;
  /** Whose key signs; default the certificate's holder. */
  readonly key?: TlsIdentity;
  readonly label?: string;
}

/** A request signed the way @certified/web does, with every part overridable. */
async function signed(id: TlsIdentity, o: SignOptions = {}): Promise<Request> {
  const headers = new Headers({ 'content-type': 'application/json' });
  headers.set('certified-chain', chainHeader(id.certificates));
  const hasBody = o.body !== undefined;
  if (hasBody) {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(o.body));
    headers.set('content-digest', serializeDictionary({ 'sha-256': [digest, new Map()] }));
  }
  const method = o.method ?? (hasBody ? 'POST' : 'GET');
  const url = o.url ?? URL_;
  const request = new Request(url, { method, headers, ...(hasBody ? { body: o.body } : {}) });
  const alg = id.certificate.publicKey.algorithm === 'Ed25519' ? 'ed25519' : 'ecdsa-p256-sha256';
  const params = {
    created: now(),
    expires: now() + 60,
    nonce: crypto.randomUUID(),
    keyid: fingerprint(id.certificate),
    alg,
    ...o.parameters,
  };
  const key = keys.get(o.key ?? id)!;
  const fields = await createSignature(request, {
    label: o.label ?? 'certified',
    components: o.components ?? [
      '@method',
      '@target-uri',
      'certified-chain',
      ...(hasBody ? ['content-digest'] : []),
    ],
    parameters: Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)),
    signer: {
      // The library refuses to sign under an alg other than the signer's: claim whatever was asked.
      algorithm: params.alg ?? alg,
      sign: async (data) =>
        new Uint8Array(
          await crypto.subtle.sign(
            key.algorithm.name === 'Ed25519' ? 'Ed25519' : { name: 'ECDSA', hash: 'SHA-256' },
            key,
            data as BufferSource,
          ),
        ),
    },
  });
  return new Request(request, { headers: appendSignature(request.headers, fields) });
}

/** A copy of a signed request with one thing changed. */
function altered(
  req: Request,
  change: { url?: string; method?: string; header?: [string, string | null]; body?: string },
): Request {
  const headers = new Headers(req.headers);
  if (change.header) {
    const [name, value] = change.header;
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  const method = change.method ?? req.method;
  return new Request(change.url ?? req.url, {
    method,
    headers,
    ...(change.body !== undefined ? { body: change.body } : {}),
  });
}

function appWith(options: RequireSignedRequestOptions = {}): Hono {
  const app = new Hono();
  app.use(
    requireSignedRequest({
      validator: pki.validator(),
      ...options,
    }),
  );
  app.all('/api/*', async (c) => {
    const p = c.get('certified');
    const body = c.req.method === 'GET' ? '' : await c.req.text();
    return c.json({ name: p.commonName, source: p.source, body });
  });
  return app;
}

async function refusal(res: Response): Promise<{ status: number; code: string; message: string }> {
  const json = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: json.error.code, message: json.error.message };
}

describe('requireSignedRequest', () => {
  it('lets a signed GET through and exposes the caller as c.get("certified")', async () => {
    const res = await appWith().request(await signed(alice));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'alice', source: 'signature', body: '' });
  });

  it('lets a signed POST with a Content-Digest through, and the handler still reads the body', async () => {
    const res = await appWith().request(await signed(alice, { body: '{"a":1}' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: 'alice', source: 'signature', body: '{"a":1}' });
  });

  it('accepts Ed25519 signers', async () => {
    const res = await appWith({ validator: edPki.validator() }).request(await signed(bob));
    expect(res.status).toBe(200);
  });

  it('rejects an unsigned request with ERR_AUTH_SIGNATURE_MISSING', async () => {
    const r = await refusal(await appWith().request(URL_));
    expect(r).toMatchObject({ status: 401, code: 'ERR_AUTH_SIGNATURE_MISSING' });
    expect(r.message).toMatch(/not signed/);
  });

  it('rejects a signature under another label with ERR_AUTH_SIGNATURE_MISSING', async () => {
    const r = await refusal(await appWith().request(await signed(alice, { label: 'sig1' })));
    expect(r).toMatchObject({ status: 401, code: 'ERR_AUTH_SIGNATURE_MISSING' });
  });

  describe('tampering with a covered component', () => {
    it('rejects a changed method with ERR_AUTH_SIGNATURE_INVALID', async () => {
      const req = altered(await signed(alice), { method: 'DELETE' });
      expect(await refusal(await appWith().request(req))).toMatchObject({
        status: 401,
        code: 'ERR_AUTH_SIGNATURE_INVALID',
      });
    });

    it('rejects a changed path with ERR_AUTH_SIGNATURE_INVALID', async () => {
      const req = altered(await signed(alice), { url: 'http://127.0.0.1:8787/api/admin?x=1' });
      expect((await refusal(await appWith().request(req))).code).toBe('ERR_AUTH_SIGNATURE_INVALID');
    });

    it('rejects a changed query with ERR_AUTH_SIGNATURE_INVALID', async () => {
      const req = altered(await signed(alice), { url: 'http://127.0.0.1:8787/api/notes?x=2' });
      expect((await refusal(await appWith().request(req))).code).toBe('ERR_AUTH_SIGNATURE_INVALID');
    });

    it('rejects a changed authority with ERR_AUTH_SIGNATURE_INVALID', async () => {
      const req = altered(await signed(alice), { url: 'http://localhost:8787/api/notes?x=1' });
      expect((await refusal(await appWith().request(req))).code).toBe('ERR_AUTH_SIGNATURE_INVALID');
    });

    it('rejects a changed body with ERR_AUTH_DIGEST_MISMATCH', async () => {
      const req = altered(await signed(alice, { body: '{"a":1}' }), { body: '{"a":2}' });
      const r = await refusal(await appWith().request(req));
      expect(r).toMatchObject({ status: 401, code: 'ERR_AUTH_DIGEST_MISMATCH' });
      expect(r.message).toMatch(/changed after signing/);
    });

    it('rejects a changed Content-Digest (matching the new body) with ERR_AUTH_SIGNATURE_INVALID', async () => {
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('{"a":2}'));
      const req = altered(await signed(alice, { body: '{"a":1}' }), {
        body: '{"a":2}',
        header: ['content-digest', serializeDictionary({ 'sha-256': [digest, new Map()] })],
      });
      expect((await refusal(await appWith().request(req))).code).toBe('ERR_AUTH_SIGNATURE_INVALID');
    });

    it('rejects a swapped Certified-Chain with ERR_AUTH_SIGNATURE_KEY_MISMATCH', async () => {
      const other = chainHeader(mallory.certificates);
      const req = altered(await signed(alice), { header: ['certified-chain', other] });
      expect((await refusal(await appWith().request(req))).code).toBe(
        'ERR_AUTH_SIGNATURE_KEY_MISMATCH',
      );
    });

    it('rejects a Certified-Chain changed after the first certificate with ERR_AUTH_SIGNATURE_INVALID', async () => {
      const chain = chainHeader([alice.certificates[0]!, mallory.certificates[1]!]);
      const req = altered(await signed(alice), { header: ['certified-chain', chain] });
      expect((await refusal(await appWith().request(req))).code).toBe('ERR_AUTH_SIGNATURE_INVALID');
    });

    it('rejects a removed covered header with a coded 401', async () => {
      const req = altered(await signed(alice), { header: ['certified-chain', null] });
      const r = await refusal(await appWith().request(req));
      expect(r.status).toBe(401);
      expect(r.code).toMatch(/^ERR_AUTH_SIGNATURE_/);
    });

    it('rejects a changed signature parameter (nonce) with ERR_AUTH_SIGNATURE_INVALID', async () => {
      const req = await signed(alice);
      const input = req.headers.get('signature-input')!.replace(/nonce="[^"]*"/, 'nonce="other"');
      expect(
        (
          await refusal(
            await appWith().request(altered(req, { header: ['signature-input', input] })),
          )
        ).code,
      ).toBe('ERR_AUTH_SIGNATURE_INVALID');
    });
  });

  describe('coverage', () => {
    for (const left of ['@method', '@target-uri', 'certified-chain']) {
      it(`rejects a signature that leaves out ${left} with ERR_AUTH_SIGNATURE_COVERAGE`, async () => {
        const components = ['@method', '@target-uri', 'certified-chain'].filter((c) => c !== left);
        const r = await refusal(await appWith().request(await signed(alice, { components })));
        expect(r).toMatchObject({ status: 401, code: 'ERR_AUTH_SIGNATURE_COVERAGE' });
        expect(r.message).toContain(left);
      });
    }

    it('rejects a body whose Content-Digest is not covered with ERR_AUTH_SIGNATURE_COVERAGE', async () => {
      const req = await signed(alice, {
        body: '{}',
        components: ['@method', '@target-uri', 'certified-chain'],
      });
      expect((await refusal(await appWith().request(req))).code).toBe(
        'ERR_AUTH_SIGNATURE_COVERAGE',
      );
    });

    it('rejects a body without any Content-Digest with ERR_AUTH_SIGNATURE_COVERAGE', async () => {
      // Signed as a PUT without a body, then sent with one.
      const put = await signed(alice, { method: 'PUT' });
      const req = new Request(put.url, { method: 'PUT', headers: put.headers, body: 'x' });
      expect((await refusal(await appWith().request(req))).code).toBe(
        'ERR_AUTH_SIGNATURE_COVERAGE',
      );
    });

    for (const left of ['created', 'expires', 'nonce', 'keyid', 'alg'] as const) {
      it(`rejects a signature without ${left} with ERR_AUTH_SIGNATURE_COVERAGE`, async () => {
        const r = await refusal(
          await appWith().request(await signed(alice, { parameters: { [left]: undefined } })),
        );
        expect(r).toMatchObject({ status: 401, code: 'ERR_AUTH_SIGNATURE_COVERAGE' });
        expect(r.message).toContain(left);
      });
    }
  });

  describe('time', () => {
    it('rejects a signature created beyond the clock skew in the future with ERR_AUTH_SIGNATURE_EXPIRED', async () => {
      const req = await signed(alice, {
        parameters: { created: now() + 120, expires: now() + 180 },
      });
      const r = await refusal(await appWith().request(req));
      expect(r).toMatchObject({ status: 401, code: 'ERR_AUTH_SIGNATURE_EXPIRED' });
      expect(r.message).toMatch(/in the future/);
    });

    it('accepts a signer clock within the skew', async () => {
      const req = await signed(alice, { parameters: { created: now() + 20, expires: now() + 80 } });
      expect((await appWith().request(req)).status).toBe(200);
    });

    it('rejects an expired signature with ERR_AUTH_SIGNATURE_EXPIRED', async () => {
      const req = await signed(alice, {
        parameters: { created: now() - 200, expires: now() - 100 },
      });
      const r = await refusal(await appWith().request(req));
      expect(r.code).toBe('ERR_AUTH_SIGNATURE_EXPIRED');
      expect(r.message).toMatch(/expired/);
    });

    it('rejects a window longer than maxAge with ERR_AUTH_SIGNATURE_EXPIRED', async () => {
      const req = await signed(alice, { parameters: { expires: now() + 3600 } });
      const r = await refusal(await appWith().request(req));
      expect(r.code).toBe('ERR_AUTH_SIGNATURE_EXPIRED');
      expect(r.message).toMatch(/longer than the 300 s/);
    });

    it('uses options.time for the window', async () => {
      const req = await signed(alice);
      const later = () => new Date(Date.now() + 10 * 60_000);
      expect((await refusal(await appWith({ time: later }).request(req))).code).toBe(
        'ERR_AUTH_SIGNATURE_EXPIRED',
      );
    });
  });

  describe('targetUri', () => {
    it('checks the URI the client signed when a proxy rewrote it (options.targetUri)', async () => {
      const req = await signed(alice, { url: 'https://api.example.org/api/notes?x=1' });
      const behindProxy = altered(req, { url: URL_ });
      expect((await refusal(await appWith().request(behindProxy.clone()))).code).toBe(
        'ERR_AUTH_SIGNATURE_INVALID',
      );
      const app = appWith({
        targetUri: (c) =>
          `https://api.example.org${new URL(c.req.url).pathname}${new URL(c.req.url).search}`,
      });
      expect((await app.request(behindProxy)).status).toBe(200);
    });
  });

  describe('replay', () => {
    it('rejects the same request a second time with ERR_AUTH_REPLAY', async () => {
      const app = appWith();
      const req = await signed(alice);
      expect((await app.request(req.clone())).status).toBe(200);
      const r = await refusal(await app.request(req));
      expect(r).toMatchObject({ status: 401, code: 'ERR_AUTH_REPLAY' });
    });

    it('accepts only one of two concurrent copies', async () => {
      const app = appWith();
      const req = await signed(alice);
      const statuses = (await Promise.all([app.request(req.clone()), app.request(req)])).map(
        (r) => r.status,
      );
      expect(statuses.sort()).toEqual([200, 401]);
    });

    it('records nonces only for trusted signers, so strangers cannot fill the cache', async () => {
      const nonces = createMemoryNonceCache({ maxEntries: 1 });
      const app = appWith({ nonces });
      for (let i = 0; i < 3; i++)
        expect((await app.request(await signed(mallory))).status).toBe(401);
      expect(nonces.size).toBe(0);
      expect((await app.request(await signed(alice))).status).toBe(200);
      const r = await refusal(await app.request(await signed(alice)));
      expect(r).toMatchObject({ status: 503, code: 'ERR_AUTH_REPLAY_CACHE_FULL' });
    });
  });

  describe('keys and chains', () => {
    it('rejects a signature by another key than the certificate’s with ERR_AUTH_SIGNATURE_INVALID', async () => {
      const r = await refusal(await appWith().request(await signed(alice, { key: mallory })));
      expect(r).toMatchObject({ status: 401, code: 'ERR_AUTH_SIGNATURE_INVALID' });
    });

    it('rejects a keyid that is not the certificate’s fingerprint with ERR_AUTH_SIGNATURE_KEY_MISMATCH', async () => {
      const req = await signed(alice, { parameters: { keyid: fingerprint(mallory.certificate) } });
      expect((await refusal(await appWith().request(req))).code).toBe(
        'ERR_AUTH_SIGNATURE_KEY_MISMATCH',
      );
    });

    it('rejects an alg that does not fit the key with ERR_AUTH_SIGNATURE_KEY_MISMATCH', async () => {
      const req = await signed(alice, { parameters: { alg: 'ed25519' } });
      expect((await refusal(await appWith().request(req))).code).toBe(
        'ERR_AUTH_SIGNATURE_KEY_MISMATCH',
      );
    });

    it('judges keyid and alg on every request, also when the chain was seen before (cached)', async () => {
      const app = appWith();
      expect((await app.request(await signed(alice))).status).toBe(200);
      const wrongKeyid = await signed(alice, {
        parameters: { keyid: fingerprint(mallory.certificate) },
      });
      expect((await refusal(await app.request(wrongKeyid))).code).toBe(
        'ERR_AUTH_SIGNATURE_KEY_MISMATCH',
      );
      const wrongAlg = await signed(alice, { parameters: { alg: 'ed25519' } });
      expect((await refusal(await app.request(wrongAlg))).code).toBe(
        'ERR_AUTH_SIGNATURE_KEY_MISMATCH',
      );
      expect((await refusal(await app.request(await signed(alice, { key: mallory })))).code).toBe(
        'ERR_AUTH_SIGNATURE_INVALID',
      );
      expect((await app.request(await signed(alice))).status).toBe(200);
    });

    it('works without a signer cache (signerCacheSize 0)', async () => {
      const app = appWith({ signerCacheSize: 0 });
      expect((await app.request(await signed(alice))).status).toBe(200);
      expect((await app.request(await signed(alice))).status).toBe(200);
    });

    it('rejects a stranger’s valid signature with the validator’s code (ERR_CHAIN_NO_PATH)', async () => {
      const r = await refusal(await appWith().request(await signed(mallory)));
      expect(r).toMatchObject({ status: 401, code: 'ERR_CHAIN_NO_PATH' });
    });

    it('never reads a stranger’s body: its chain is refused first', async () => {
      const req = await signed(mallory, { body: '{"a":1}' });
      let pulled = 0;
      // highWaterMark 0: pulled only when someone reads.
      const body = new ReadableStream<Uint8Array>(
        {
          pull(ctl) {
            pulled++;
            ctl.enqueue(new TextEncoder().encode('{"a":1}'));
            ctl.close();
          },
        },
        { highWaterMark: 0 },
      );
      const r = await refusal(
        await appWith().request(
          new Request(req.url, {
            method: 'POST',
            headers: req.headers,
            body,
            duplex: 'half',
          } as RequestInit),
        ),
      );
      expect(r).toMatchObject({ status: 401, code: 'ERR_CHAIN_NO_PATH' });
      expect(pulled).toBe(0);
    });

    it('judges the chain with the same trust as requireClientCert (a function validator)', async () => {
      let calls = 0;
      const validator = (): PathValidator => {
        calls++;
        return createPathValidator({ anchors: [strangers.ca] });
      };
      expect((await appWith({ validator }).request(await signed(mallory))).status).toBe(200);
      expect(calls).toBe(1);
    });

    it('refuses a caller authorize() refuses with 403 ERR_AUTH_FORBIDDEN', async () => {
      const r = await refusal(
        await appWith({ authorize: (p) => p.commonName === 'bob' }).request(await signed(alice)),
      );
      expect(r).toMatchObject({ status: 403, code: 'ERR_AUTH_FORBIDDEN' });
    });
  });

  describe('hostile input', () => {
    it('rejects an over-long header before parsing it with ERR_AUTH_SIGNATURE_MALFORMED', async () => {
      const req = altered(await signed(alice), {
        header: ['certified-chain', ':' + 'A'.repeat(20_000) + ':'],
      });
      const r = await refusal(await appWith().request(req));
      expect(r.code).toBe('ERR_AUTH_SIGNATURE_MALFORMED');
      expect(r.message).toMatch(/longer than 16384/);
    });

    it('rejects a chain longer than maxChainLength with ERR_AUTH_SIGNATURE_MALFORMED', async () => {
      const r = await refusal(await appWith({ maxChainLength: 1 }).request(await signed(alice)));
      expect(r.code).toBe('ERR_AUTH_SIGNATURE_MALFORMED');
    });

    for (const [what, value] of [
      ['garbage', 'not a list ((('],
      ['a string member', '"abc"'],
      ['bytes that are no certificate', ':AAAA:'],
    ] as const)
      it(`rejects a Certified-Chain of ${what} with a coded 401`, async () => {
        const req = altered(await signed(alice), { header: ['certified-chain', value] });
        const r = await refusal(await appWith().request(req));
        expect(r.status).toBe(401);
        expect(r.code).toMatch(/^ERR_AUTH_SIGNATURE_(MALFORMED|KEY_MISMATCH)$/);
      });

    for (const [what, header, value] of [
      ['Signature', 'signature', 'certified=:!!!:'],
      ['Signature-Input', 'signature-input', 'certified=("@method" 12'],
      [
        'Signature-Input with a non-integer created',
        'signature-input',
        'certified=("@method");created="x"',
      ],
    ] as const)
      it(`rejects a malformed ${what} with a coded 401, never a 500`, async () => {
        const req = altered(await signed(alice), { header: [header, value] });
        const r = await refusal(await appWith().request(req));
        expect(r.status).toBe(401);
        expect(r.code).toMatch(/^ERR_AUTH_SIGNATURE_/);
      });

    it('rejects a body larger than maxBodyLength with 413 ERR_AUTH_BODY_TOO_LARGE', async () => {
      const r = await refusal(
        await appWith({ maxBodyLength: 4 }).request(await signed(alice, { body: '0123456789' })),
      );
      expect(r).toMatchObject({ status: 413, code: 'ERR_AUTH_BODY_TOO_LARGE' });
    });

    it('stops reading a body without a length at maxBodyLength: an endless one is 413, not buffered', async () => {
      const req = await signed(alice, { body: '0123456789' });
      let pulled = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(ctl) {
          pulled++;
          ctl.enqueue(new Uint8Array(1024));
        },
      });
      const chunked = new Request(req.url, {
        method: 'POST',
        headers: req.headers,
        body: endless,
        duplex: 'half',
      } as RequestInit);
      chunked.headers.delete('content-length');
      const r = await refusal(await appWith({ maxBodyLength: 8192 }).request(chunked));
      expect(r).toMatchObject({ status: 413, code: 'ERR_AUTH_BODY_TOO_LARGE' });
      expect(pulled).toBeLessThan(20);
    });

    it('hands the handler the body it checked', async () => {
      const res = await appWith().request(await signed(alice, { body: '{"a":1}' }));
      expect(res.status).toBe(200);
      expect(((await res.json()) as { body: string }).body).toBe('{"a":1}');
    });

    it('checks its options at construction', () => {
      expect(() => requireSignedRequest({ maxAge: 0 })).toThrow(RangeError);
      expect(() => requireSignedRequest({ time: 5 as never })).toThrow(TypeError);
      expect(() => requireSignedRequest({ nonces: {} as never })).toThrow(TypeError);
      expect(() => requireSignedRequest({ validator: {} as never })).toThrow(TypeError);
    });
  });
});

describe('createMemoryNonceCache', () => {
  it('forgets a nonce once it has expired, and stays within its size', () => {
    let t = 1000;
    const cache = createMemoryNonceCache({ maxEntries: 2, now: () => t });
    expect(cache.claim('a', 2000)).toBe('fresh');
    expect(cache.claim('a', 2000)).toBe('replay');
    expect(cache.claim('b', 5000)).toBe('fresh');
    expect(cache.claim('c', 5000)).toBe('full');
    t = 3000;
    expect(cache.claim('c', 5000)).toBe('fresh');
    expect(cache.claim('a', 6000)).toBe('full');
    expect(cache.size).toBe(2);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => createMemoryNonceCache({ maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('requireSignedRequest against mangled signature fields', () => {
  /** A small seeded PRNG (mulberry32), so a failure can be replayed. */
  const prng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const SPECIAL = ' ;,=:()"\\*?-_.0aZ';

  it('answers every mangled Signature-Input, Signature and Certified-Chain with a coded 401 or, when the change is not one, 200; never a 500', async () => {
    const app = appWith();
    const random = prng(9421);
    const pick = (n: number) => Math.floor(random() * n);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const req = await signed(alice);
      const name = ['signature-input', 'signature', 'certified-chain'][pick(3)]!;
      let v = req.headers.get(name)!;
      for (let k = 1 + pick(3); k > 0; k--) {
        const at = pick(v.length + 1);
        const op = pick(4);
        const ch =
          random() < 0.5 ? SPECIAL[pick(SPECIAL.length)]! : String.fromCharCode(32 + pick(95));
        if (op === 0)
          v = v.slice(0, at) + ch + v.slice(at + 1); // replace
        else if (op === 1)
          v = v.slice(0, at) + ch + v.slice(at); // insert
        else if (op === 2)
          v = v.slice(0, at) + v.slice(at + 1 + pick(8)); // delete a run
        else v = v.slice(0, at) + v.slice(pick(v.length), at) + v.slice(at); // repeat a piece
      }
      const res = await app.request(altered(req, { header: [name, v.trim()] }));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect([200, 401], `${name}: ${v}`).toContain(res.status);
      if (res.status === 401) expect((await refusal(res)).code).toMatch(/^ERR_[A-Z_]+$/);
    }
    // The mangling must mostly break things, or this test would prove little.
    expect(statuses.get(401) ?? 0).toBeGreaterThan(250);
  });
});
