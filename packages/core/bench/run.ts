/**
 * Core benchmarks: key generation, issuance from a CSR and leaf parsing, each beside raw WebCrypto
 * measured in the same run and printed as ratios. Rows that are compared are measured in interleaved
 * rounds and the median ratio is reported, so a noisy neighbour skews both sides alike.
 *
 * Run: `npm run bench` (all packages) or `npm run bench -w @certified/core`. BENCH_MS sets the time
 * per measurement (default 400), BENCH_ROUNDS the rounds (default 5).
 */
import * as pkijs from 'pkijs';
import { derToP1363 } from '../src/internal/ecdsa-sig.js';
import {
  createCsr,
  createSelfSignedCa,
  decodeCertificate,
  dnsName,
  generateKeyPair,
  issueCertificateFromCsr,
  issueEndEntityCertificate,
  personName,
  signingName,
  type SigningKeyAlgorithm,
} from '@certified/core';

const MS = Number(process.env.BENCH_MS ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const subtle = globalThis.crypto.subtle;

/** Runs `fn` sequentially (each awaited) for at least MS after a short warm-up; returns ops/s. */
async function rate(fn: () => unknown, ms = MS): Promise<number> {
  for (let i = 0; i < 50; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 20; i++) await fn();
    n += 20;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

/** Measures each function once per round, interleaved; returns the per-round rates. */
async function rounds<K extends string>(
  fns: Record<K, () => unknown>,
): Promise<Record<K, number[]>> {
  const out = Object.fromEntries(Object.keys(fns).map((k) => [k, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let r = 0; r < ROUNDS; r++)
    for (const k of Object.keys(fns) as K[]) out[k].push(await rate(fns[k]));
  return out;
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(9);
const row = (name: string, r: number, note = ''): void =>
  console.log(`${name.padEnd(46)} ${fmt(r)}/s  ${note}`);

const params: Record<
  SigningKeyAlgorithm,
  { sign: Algorithm | EcdsaParams; gen: Algorithm | EcKeyGenParams }
> = {
  Ed25519: { sign: { name: 'Ed25519' }, gen: { name: 'Ed25519' } },
  'P-256': {
    sign: { name: 'ECDSA', hash: 'SHA-256' },
    gen: { name: 'ECDSA', namedCurve: 'P-256' },
  },
  'P-384': {
    sign: { name: 'ECDSA', hash: 'SHA-384' },
    gen: { name: 'ECDSA', namedCurve: 'P-384' },
  },
};

const summary: Record<string, number> = {};
console.log(
  `@certified/core bench — Node ${process.versions.node}, ${ROUNDS} interleaved rounds × ${MS} ms, medians\n`,
);

for (const alg of ['Ed25519', 'P-256'] as const) {
  console.log(`— ${alg} —`);
  const p = params[alg];
  const kp = (await subtle.generateKey(p.gen, false, ['sign', 'verify'])) as CryptoKeyPair;
  const data = new Uint8Array(400).fill(7);
  const sig = await subtle.sign(p.sign, kp.privateKey, data);

  const caKeys = await generateKeyPair({ algorithm: alg });
  const ca = await createSelfSignedCa({
    subject: signingName(personName({ commonName: 'Bench CA' })),
    keyPair: caKeys,
  });
  const issuer = { certificate: ca, privateKey: caKeys.privateKey };
  const leafKeys = await generateKeyPair({ algorithm: alg });
  const csr = await createCsr({
    subject: personName({ commonName: 'bench leaf' }),
    keyPair: leafKeys,
    altNames: [dnsName('leaf.example.com')],
  });
  const csrDer = csr.der;
  const leaf = await issueEndEntityCertificate({
    issuer,
    subject: personName({ commonName: 'leaf' }),
    publicKey: leafKeys.publicKey,
    altNames: [dnsName('leaf.example.com')],
  });
  const leafDer = leaf.der;
  const [csrKeyRaw, csrSig, csrInfo, leafTbs] = [
    csr.publicKey.publicKey,
    alg === 'Ed25519' ? csr.signature : derToP1363(csr.signature, 32)!,
    csr.info,
    leaf.tbs,
  ].map((b) => b.slice() as Uint8Array<ArrayBuffer>) as [
    Uint8Array<ArrayBuffer>,
    Uint8Array<ArrayBuffer>,
    Uint8Array<ArrayBuffer>,
    Uint8Array<ArrayBuffer>,
  ];

  const r = await rounds({
    rawGen: () => subtle.generateKey(p.gen, false, ['sign', 'verify']),
    gen: () => generateKeyPair({ algorithm: alg }),
    rawSign: () => subtle.sign(p.sign, kp.privateKey, data),
    rawVerify: () => subtle.verify(p.sign, kp.publicKey, sig, data),
    // What any WebCrypto issuer must do at least: import the requester's key, verify, sign.
    rawFloor: async () => {
      const k = await subtle.importKey('raw', csrKeyRaw, p.gen, false, ['verify']);
      if (!(await subtle.verify(p.sign, k, csrSig, csrInfo))) throw new Error('CSR must verify');
      return subtle.sign(p.sign, caKeys.privateKey, leafTbs);
    },
    // Parse the CSR, verify its signature, build, sign and encode: the whole issuance.
    issue: () =>
      issueCertificateFromCsr({ issuer, csr: csrDer, profile: { lifetimeSeconds: 86400 } }),
    parse: () => decodeCertificate(leafDer),
  });
  const perRound = (f: (i: number) => number): number => median(r.rawSign.map((_, i) => f(i)));
  const limit = (i: number): number => 1 / (1 / r.rawSign[i]! + 1 / r.rawVerify[i]!);
  const issueRatio = perRound((i) => r.issue[i]! / limit(i));
  const parseCost = perRound((i) => r.rawVerify[i]! / r.parse[i]!);
  const pkiParse = await rate(
    () => pkijs.Certificate.fromBER(leafDer as Uint8Array<ArrayBuffer>),
    1000,
  );

  row('raw WebCrypto generateKey', median(r.rawGen));
  row(
    'generateKeyPair',
    median(r.gen),
    `${perRound((i) => r.gen[i]! / r.rawGen[i]!).toFixed(2)}× raw`,
  );
  row('raw WebCrypto sign (400 B)', median(r.rawSign));
  row('raw WebCrypto verify (400 B)', median(r.rawVerify));
  row('limit: one sign + one verify, back to back', perRound(limit));
  row(
    'issueCertificateFromCsr (parse+verify+sign)',
    median(r.issue),
    `${issueRatio.toFixed(2)}× limit (goal ≥ 0.50×)`,
  );
  row(
    'floor: raw import CSR key + verify + sign',
    median(r.rawFloor),
    `${perRound((i) => r.rawFloor[i]! / limit(i)).toFixed(2)}× limit; ours is ${perRound((i) => r.issue[i]! / r.rawFloor[i]!).toFixed(2)}× this floor`,
  );
  row(
    `decodeCertificate (leaf, ${leafDer.length} B)`,
    median(r.parse),
    `a parse costs ${parseCost.toFixed(3)}× one verify (goal < 0.20×)`,
  );
  row(
    'peer: PKI.js Certificate.fromBER',
    pkiParse,
    `costs ${(median(r.rawVerify) / pkiParse).toFixed(2)}× one verify; ours ${(median(r.parse) / pkiParse).toFixed(0)}× faster`,
  );
  summary[`${alg}.issuanceVsLimit`] = issueRatio;
  summary[`${alg}.parseCostVsVerify`] = parseCost;
  summary[`${alg}.issuanceVsFloor`] = perRound((i) => r.issue[i]! / r.rawFloor[i]!);
  console.log('');
}
console.log(
  JSON.stringify({
    bench: 'core',
    ...Object.fromEntries(
      Object.entries(summary).map(([k, v]) => [k, Math.round(v * 1000) / 1000]),
    ),
  }),
);
