/**
 * @module request-signer.test — requests signed by `createRequestSigner` with non-extractable keys,
 * judged by `@certified/hono`'s `requireSignedRequest()` through `app.request` (no sockets).
 */
import 'fake-indexeddb/auto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { createPathValidator, emailAddress, fingerprint, personName } from '@certified/core';
import {
  addIntro,
  createMemoryStore,
  getIdent,
  initIdentity,
  introduce,
  loadIdentity,
  loadService,
  type Identity,
  type IdentityKeyType,
} from '@certified/identity';
import { createClientTrust, requireSignedRequest } from '@certified/hono';
import { openIdentityStore } from './idb-store.js';
import { createRequestSigner, requestSignerFor } from './request-signer.js';

let n = 0;
async function browserIdentity(
  name: string,
  keyType: IdentityKeyType = 'ed25519',
): Promise<Identity> {
  return initIdentity(await openIdentityStore({ name: `signer-${++n}` }), {
    subject: personName({ commonName: name }),
    altNames: [emailAddress(`${name.toLowerCase()}@example.org`)],
    keyType,
  });
}

function serverFor(validator: ReturnType<typeof createPathValidator>): Hono {
  const app = new Hono();
  app.use(requireSignedRequest({ validator }));
  app.all('/hello', async (c) =>
    c.json({ hello: c.get('certified').commonName, body: await c.req.text() }),
  );
  return app;
}

const ownChain = (id: Identity) => [id.id.certificate, id.signer!.certificate];

describe('createRequestSigner', () => {
  let ada: Identity;
  beforeAll(async () => {
    ada = await browserIdentity('Ada');
  });

  it('signs a GET a requireSignedRequest server accepts, with a non-extractable key', async () => {
    expect(ada.id.privateKey.extractable).toBe(false);
    const signer = createRequestSigner({
      privateKey: ada.id.privateKey,
      certificates: ownChain(ada),
    });
    expect(signer.keyid).toBe(fingerprint(ada.id.certificate));
    expect(signer.alg).toBe('ed25519');
    const req = await signer.sign(new Request('http://127.0.0.1:8787/hello'));
    expect(req.headers.get('signature-input')).toMatch(
      /^certified=\("@method" "@target-uri" "certified-chain"\);created=\d+;expires=\d+;nonce="[0-9a-f]{32}";keyid="[0-9A-F:]{95}";alg="ed25519"$/,
    );
    const app = serverFor(createPathValidator({ anchors: [ada.signer!.certificate] }));
    const res = await app.request(req);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: 'Ada', body: '' });
  });

  it('signs a body with Content-Digest, and leaves the body readable', async () => {
    const signer = createRequestSigner({
      privateKey: ada.id.privateKey,
      certificates: ownChain(ada),
    });
    const req = await signer.sign(
      new Request('http://127.0.0.1:8787/hello', { method: 'POST', body: 'hi there' }),
    );
    expect(req.headers.get('content-digest')).toMatch(/^sha-256=:[A-Za-z0-9+/]+=*:$/);
    expect(req.headers.get('signature-input')).toContain('"content-digest"');
    const app = serverFor(createPathValidator({ anchors: [ada.signer!.certificate] }));
    expect(await (await app.request(req)).json()).toEqual({ hello: 'Ada', body: 'hi there' });
  });

  it('signs with P-256 (ecdsa-p256-sha256) and P-384 (ecdsa-p384-sha384) keys', async () => {
    for (const [keyType, alg] of [
      ['secp256r1', 'ecdsa-p256-sha256'],
      ['secp384r1', 'ecdsa-p384-sha384'],
    ] as const) {
      const id = await browserIdentity('Pat', keyType);
      const signer = createRequestSigner({
        privateKey: id.id.privateKey,
        certificates: ownChain(id),
      });
      expect(signer.alg).toBe(alg);
      const app = serverFor(createPathValidator({ anchors: [id.signer!.certificate] }));
      const res = await app.request(await signer.sign(new Request('http://127.0.0.1/hello')));
      expect(res.status).toBe(200);
    }
  });

  it('is refused by a server that does not trust the signer (ERR_CHAIN_NO_PATH)', async () => {
    const stranger = await browserIdentity('Stranger');
    const signer = createRequestSigner({
      privateKey: stranger.id.privateKey,
      certificates: ownChain(stranger),
    });
    const app = serverFor(createPathValidator({ anchors: [ada.signer!.certificate] }));
    const res = await app.request(await signer.sign(new Request('http://127.0.0.1/hello')));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_CHAIN_NO_PATH',
    );
  });

  it('checks its options (TypeError / RangeError)', () => {
    expect(() => createRequestSigner({} as never)).toThrow(TypeError);
    expect(() => createRequestSigner({ privateKey: ada.id.privateKey, certificates: [] })).toThrow(
      TypeError,
    );
    expect(() =>
      createRequestSigner({
        privateKey: ada.id.privateKey,
        certificates: ownChain(ada),
        lifetime: 0,
      }),
    ).toThrow(RangeError);
  });
});

describe('requestSignerFor', () => {
  it('presents the chain an introduction gave, which the introducer’s server trusts', async () => {
    // The server: an identity on disk-like storage; its known_clients trusts what its CA signs.
    const server = await initIdentity(createMemoryStore(), {
      subject: personName({ commonName: 'Notes' }),
      altNames: [emailAddress('notes@example.org')],
    });
    const browser = await browserIdentity('Bea');
    const letter = await introduce(server, getIdent(browser), {
      services: { notes: 'https://127.0.0.1:8443' },
    });
    await addIntro(browser, letter);
    const bea = await loadIdentity(browser.store);
    const signer = requestSignerFor(bea, await loadService(bea.store, 'notes'));
    const trust = createClientTrust(server);
    const app = new Hono();
    app.use(requireSignedRequest({ validator: trust.validator, anchors: trust.anchors }));
    app.get('/hello', (c) =>
      c.json({ hello: c.get('certified').commonName, anchor: c.get('certified').anchor.name }),
    );
    const res = await app.request(await signer.sign(new Request('http://127.0.0.1:8443/hello')));
    expect(await res.json()).toEqual({ hello: 'Bea', anchor: 'self' });
  });
});
