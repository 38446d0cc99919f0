/**
 * Signed-request bench: `requireSignedRequest()` verifications/s (a Hono app through `app.request`,
 * the caller's chain of two certificates, the validator warm as on a busy server) beside the limit,
 * one raw WebCrypto `verify` of a signature of the same size, for Ed25519 and P-256. Goal: ≥ 0.7×.
 *
 * Requests are signed before the clock starts (each with its own nonce, as real ones are). Rows run
 * in interleaved rounds; the ratio is the median of per-round ratios. BENCH_MS / BENCH_ROUNDS tune it.
 * A third row shows http-message-sig's `verifySignature` alone with the same crypto (no chain, no
 * nonce, no Hono): why the middleware builds the signature base itself (src/signature-base.ts).
 * A floor row does the least any middleware on Hono with `structured-headers` must: route, parse the
 * three fields, one verify (no base, no chain check, no replay check); the goal cannot be met above
 * it. Informs only: exits 0 whatever the ratio, non-zero when a request is refused.
 */
import {
  createPathValidator,
  createSelfSignedCa,
  emailAddress,
  fingerprint,
  generateKeyPair,
  issueEndEntityCertificate,
  personName,
  signingName,
  type Certificate,
} from '@certified/core';
import { Hono } from 'hono';
import { appendSignature, createSignature, verifySignature } from 'http-message-sig';
import { parseDictionary, parseList, serializeList, type Item } from 'structured-headers';
import { requireSignedRequest } from '@certified/hono';

const MS = Number(process.env['BENCH_MS'] ?? 400);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const GOAL = 0.7;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(9);

const PARAMS = {
  Ed25519: { alg: 'ed25519', sign: { name: 'Ed25519' } },
  'P-256': { alg: 'ecdsa-p256-sha256', sign: { name: 'ECDSA', hash: 'SHA-256' } },
} as const;

async function identity(algorithm: keyof typeof PARAMS) {
  const caKeys = await generateKeyPair({ algorithm });
  const ca = await createSelfSignedCa({
    subject: signingName(personName({ commonName: 'Bench CA' })),
    keyPair: caKeys,
  });
  const keys = await generateKeyPair({ algorithm });
  const leaf = await issueEndEntityCertificate({
    issuer: { certificate: ca, privateKey: caKeys.privateKey },
    subject: personName({ commonName: 'Bench' }),
    publicKey: keys.publicKey,
    altNames: [emailAddress('bench@example.org')],
  });
  return { ca, leaf, keys };
}

async function sign(
  algorithm: keyof typeof PARAMS,
  key: CryptoKey,
  chain: readonly Certificate[],
  i: number,
): Promise<Request> {
  const { alg, sign: params } = PARAMS[algorithm];
  const headers = new Headers({
    'certified-chain': serializeList(
      chain.map((c): Item => [c.der as Uint8Array<ArrayBuffer>, new Map()]),
    ),
  });
  const request = new Request(`http://127.0.0.1:8080/api/notes?page=${i % 7}`, { headers });
  const now = Math.floor(Date.now() / 1000);
  const fields = await createSignature(request, {
    label: 'certified',
    components: ['@method', '@target-uri', 'certified-chain'],
    parameters: {
      created: now,
      expires: now + 300,
      nonce: `n-${i}`,
      keyid: fingerprint(chain[0]!),
      alg,
    },
    signer: {
      algorithm: alg,
      sign: async (data) =>
        new Uint8Array(await crypto.subtle.sign(params, key, data as BufferSource)),
    },
  });
  return new Request(request, { headers: appendSignature(request.headers, fields) });
}

async function rate(fn: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    for (let k = 0; k < 10; k++) await fn(n++);
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

console.log(
  `@certified/hono signed-request bench — Node ${process.versions.node}, ${ROUNDS} interleaved rounds × ${MS} ms, medians\n`,
);
const summary: Record<string, number> = {};
for (const algorithm of ['Ed25519', 'P-256'] as const) {
  const { ca, leaf, keys } = await identity(algorithm);
  const app = new Hono();
  app.use(requireSignedRequest({ validator: createPathValidator({ anchors: [ca] }) }));
  app.get('/api/notes', (c) => c.text(c.get('certified').commonName ?? ''));

  // One raw verification: the same key and a signature base of the same length.
  const probe = await sign(algorithm, keys.privateKey, [leaf, ca], -1);
  const base = new Uint8Array(probe.headers.get('signature-input')!.length + 2200);
  const signature = new Uint8Array(
    await crypto.subtle.sign(PARAMS[algorithm].sign, keys.privateKey, base),
  );
  const raw = () => crypto.subtle.verify(PARAMS[algorithm].sign, keys.publicKey, signature, base);

  // Enough signed requests that no round ever sees one twice (each nonce is accepted once).
  const first = await rate(async () => raw());
  const pool: Request[] = [];
  const need = Math.ceil(first * (MS / 1000) * ROUNDS * 2.5) + 100;
  for (let i = 0; i < need; i++) pool.push(await sign(algorithm, keys.privateKey, [leaf, ca], i));
  let next = 0;
  const verified = async () => {
    const res = await app.request(pool[next++]!);
    if (res.status !== 200) throw new Error(`bench request refused: ${await res.text()}`);
  };
  await verified(); // warm the validator's cache, as on a server that has seen this caller
  // The RFC 9421 library's own share: parse the signature fields, build the base, verify (same crypto).
  const libraryOnly = async () => {
    await verifySignature(pool[next++]!, {
      label: 'certified',
      policy: {
        algorithms: [PARAMS[algorithm].alg],
        requiredComponents: [],
        requiredParameters: [],
      },
      resolveVerifier: () => ({
        algorithm: PARAMS[algorithm].alg,
        verify: (data, sig) =>
          crypto.subtle.verify(
            PARAMS[algorithm].sign,
            keys.publicKey,
            sig as BufferSource,
            data as BufferSource,
          ),
      }),
    });
  };

  // Hono's own work per request (route, context, response) with no verification: the middleware
  // pays it on top of the signature check, so it bounds the ratio from above.
  const bare = new Hono();
  bare.use(async (c, next) => {
    c.set('certified', undefined as never);
    await next();
  });
  bare.get('/api/notes', (c) => c.text('Bench'));
  let h = 0;
  const honoOnly = async () => {
    const res = await bare.request(pool[h++ % pool.length]!); // no nonce check: reuse is fine
    if (res.status !== 200) throw new Error('bench: bare app refused');
  };

  // The least a middleware must do: Hono's route, the three fields parsed by structured-headers,
  // one verification. No signature base, no chain check, no replay check.
  const least = new Hono();
  least.get('/api/notes', async (c) => {
    parseDictionary(c.req.header('signature-input') ?? '');
    parseDictionary(c.req.header('signature') ?? '');
    parseList(c.req.header('certified-chain') ?? '');
    if (!(await raw())) throw new Error('bench: the floor verification failed');
    return c.text('Bench');
  });
  // And without the parse: Hono with one verification awaited in its handler.
  const honoVerify = new Hono();
  honoVerify.get('/api/notes', async (c) => {
    if (!(await raw())) throw new Error('bench: the verification failed');
    return c.text('Bench');
  });
  let hv = 0;
  const honoVerifyOnly = async () => {
    const res = await honoVerify.request(pool[hv++ % pool.length]!);
    if (res.status !== 200) throw new Error('bench: the Hono + verify app refused');
  };
  let l = 0;
  const floorOnly = async () => {
    const res = await least.request(pool[l++ % pool.length]!);
    if (res.status !== 200) throw new Error('bench: the floor app refused');
  };

  const floorRatios: number[] = [];
  const honoVerifyRatios: number[] = [];
  const rawRates: number[] = [];
  const honoRates: number[] = [];
  const libRates: number[] = [];
  const mwRates: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const a = await rate(raw);
    libRates.push(await rate(libraryOnly));
    honoRates.push(await rate(honoOnly));
    floorRatios.push((await rate(floorOnly)) / a);
    honoVerifyRatios.push((await rate(honoVerifyOnly)) / a);
    const b = await rate(verified);
    rawRates.push(a);
    mwRates.push(b);
    ratios.push(b / a);
  }
  const ratio = median(ratios);
  console.log(`— ${algorithm} (${PARAMS[algorithm].alg}) —`);
  console.log(`${'raw WebCrypto verify (the limit)'.padEnd(48)} ${fmt(median(rawRates))}/s`);
  // One raw check plus Hono's own cost, as a ratio of the raw check alone.
  const ceiling = 1 / (1 + median(rawRates) / median(honoRates));
  console.log(
    `${'Hono alone (route + response, no verification)'.padEnd(48)} ${fmt(median(honoRates))}/s  → ceiling ${ceiling.toFixed(2)}×`,
  );
  console.log(
    `${'Hono + one verify awaited in the handler'.padEnd(48)} ${fmt(median(honoVerifyRatios) * median(rawRates))}/s  ${median(honoVerifyRatios).toFixed(2)}×`,
  );
  console.log(
    `${'floor: Hono + parse the 3 fields + one verify'.padEnd(48)} ${fmt(median(floorRatios) * median(rawRates))}/s  ${median(floorRatios).toFixed(2)}× (nothing else: no base, chain or replay check)`,
  );
  console.log(
    `${'http-message-sig verifySignature() alone'.padEnd(48)} ${fmt(median(libRates))}/s  ${(median(libRates) / median(rawRates)).toFixed(2)}×`,
  );
  console.log(
    `${'requireSignedRequest(), chain of 2, warm'.padEnd(48)} ${fmt(median(mwRates))}/s  ${ratio.toFixed(2)}× the limit (goal ≥ ${GOAL}×${ratio >= GOAL ? ', met' : ', NOT met'})\n`,
  );
  summary[`${algorithm}_ratio`] = Number(ratio.toFixed(3));
  summary[`${algorithm}_per_s`] = Math.round(median(mwRates));
  summary[`${algorithm}_ceiling`] = Number(ceiling.toFixed(3));
  summary[`${algorithm}_floor`] = Number(median(floorRatios).toFixed(3));
  summary[`${algorithm}_hono_verify`] = Number(median(honoVerifyRatios).toFixed(3));
}
console.log(JSON.stringify({ bench: 'signed-request', ...summary }));
