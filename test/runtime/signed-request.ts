/**
 * @module test/runtime/signed-request — the cross-runtime case for RFC 9421 signed requests:
 * `@certified/web`'s signer and `@certified/hono`'s `requireSignedRequest()` in one Hono app
 * (`app.request`, no sockets), so the same bundle proves them on Node, Deno, Bun, Chromium and
 * workerd — accepted once, refused when replayed, tampered or signed by a stranger.
 */
import * as core from '@certified/core';
import { requireSignedRequest } from '@certified/hono';
import { createRequestSigner } from '@certified/web';
import { Hono } from 'hono';

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function person(
  alg: core.SigningKeyAlgorithm,
  name: string,
): Promise<{ ca: core.Certificate; leaf: core.Certificate; key: CryptoKey }> {
  const caKeys = await core.generateKeyPair({ algorithm: alg });
  const ca = await core.createSelfSignedCa({
    subject: core.signingName(core.personName({ commonName: name })),
    keyPair: caKeys,
  });
  const keys = await core.generateKeyPair({ algorithm: alg }); // non-extractable
  const leaf = await core.issueEndEntityCertificate({
    issuer: { certificate: ca, privateKey: caKeys.privateKey },
    subject: core.personName({ commonName: name }),
    publicKey: keys.publicKey,
    altNames: [core.emailAddress('someone@example.org')],
  });
  return { ca, leaf, key: keys.privateKey };
}

async function codeOf(res: Response): Promise<string> {
  if (res.status === 200) return '200';
  const body = (await res.json()) as { error?: { code?: string } };
  return `${res.status} ${body.error?.code}`;
}

/** Signs with `alg`, checks accept / replay / tamper / stranger. */
export async function signedRequests(alg: core.SigningKeyAlgorithm): Promise<void> {
  const ada = await person(alg, 'Ada');
  const eve = await person(alg, 'Eve');
  const app = new Hono();
  app.use(requireSignedRequest({ validator: core.createPathValidator({ anchors: [ada.ca] }) }));
  app.post('/notes', async (c) =>
    c.text(`${c.get('certified').commonName}: ${await c.req.text()}`),
  );

  const signer = createRequestSigner({ privateKey: ada.key, certificates: [ada.leaf, ada.ca] });
  const signed = await signer.sign(
    new Request('http://127.0.0.1/notes', { method: 'POST', body: 'hello' }),
  );
  const copy = signed.clone();
  const res = await app.request(signed);
  assert(res.status === 200, `a signed request must pass, got ${await codeOf(res)}`);
  const text = await res.text();
  assert(text === 'Ada: hello', `the handler must see the caller and body, got ${text}`);

  const replay = await codeOf(await app.request(copy.clone()));
  assert(replay === '401 ERR_AUTH_REPLAY', `a replay must be refused, got ${replay}`);
  const tampered = await codeOf(
    await app.request(new Request(copy, { body: 'HELLO', method: 'POST' })),
  );
  assert(
    tampered === '401 ERR_AUTH_DIGEST_MISMATCH',
    `a changed body must be refused, got ${tampered}`,
  );
  const stranger = createRequestSigner({ privateKey: eve.key, certificates: [eve.leaf, eve.ca] });
  const refused = await codeOf(
    await app.request(
      await stranger.sign(new Request('http://127.0.0.1/notes', { method: 'POST', body: 'x' })),
    ),
  );
  assert(refused === '401 ERR_CHAIN_NO_PATH', `a stranger must be refused, got ${refused}`);
}
