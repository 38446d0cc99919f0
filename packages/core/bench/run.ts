/**
 * Core benchmarks: key generation, issuance from a CSR, leaf parsing — each beside raw WebCrypto
 * measured in the same run, printed as ratios. Run: `npm run bench` (or `npm run bench -w @certified/core`).
 */
import * as pkijs from 'pkijs';
import {
  createCsr,
  createSelfSignedCa,
  decodeCertificate,
  generateKeyPair,
  issueCertificateFromCsr,
  issueEndEntityCertificate,
  personName,
  signingName,
  dnsName,
  type SigningKeyAlgorithm,
} from '@certified/core';

const MIN_MS = Number(process.env.BENCH_MS ?? 1500);
const subtle = globalThis.crypto.subtle;

/** Runs `fn` sequentially (each awaited) for at least MIN_MS after a warm-up; returns ops/s. */
async function rate(fn: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MIN_MS) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(9);
const rows: { name: string; rate: number; note: string }[] = [];
function report(name: string, r: number, note = ''): void {
  rows.push({ name, rate: r, note });
  console.log(`${name.padEnd(44)} ${fmt(r)}/s  ${note}`);
}

const params: Record<
  SigningKeyAlgorithm,
  { sign: AlgorithmIdentifier | EcdsaParams; gen: Algorithm | EcKeyGenParams }
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
  `@certified/core bench — ${typeof process !== 'undefined' ? `Node ${process.versions.node}` : 'unknown runtime'}, ${MIN_MS} ms per row\n`,
);

for (const alg of ['Ed25519', 'P-256'] as const) {
  console.log(`— ${alg} —`);
  const p = params[alg];
  const kp = (await subtle.generateKey(p.gen, false, ['sign', 'verify'])) as CryptoKeyPair;
  const data = new Uint8Array(400).fill(7);
  const sig = await subtle.sign(p.sign, kp.privateKey, data);
  const rawGen = await rate(() => subtle.generateKey(p.gen, false, ['sign', 'verify']));
  report(`raw WebCrypto generateKey`, rawGen);
  const ourGen = await rate(() => generateKeyPair({ algorithm: alg }));
  report(`generateKeyPair`, ourGen, `${(ourGen / rawGen).toFixed(2)}× raw`);
  const rawSign = await rate(() => subtle.sign(p.sign, kp.privateKey, data));
  report(`raw WebCrypto sign (400 B)`, rawSign);
  const rawVerify = await rate(() => subtle.verify(p.sign, kp.publicKey, sig, data));
  report(`raw WebCrypto verify (400 B)`, rawVerify);
  const limit = 1 / (1 / rawSign + 1 / rawVerify);
  report(`limit: one sign + one verify`, limit);

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
  const issuance = await rate(() =>
    issueCertificateFromCsr({ issuer, csr: csrDer, profile: { lifetimeSeconds: 86400 } }),
  );
  report(
    `issueCertificateFromCsr (parse+verify+sign)`,
    issuance,
    `${(issuance / limit).toFixed(2)}× limit (goal ≥ 0.50×)`,
  );
  summary[`${alg}.issuanceRatio`] = issuance / limit;

  const leaf = await issueEndEntityCertificate({
    issuer,
    subject: personName({ commonName: 'leaf' }),
    publicKey: leafKeys.publicKey,
    altNames: [dnsName('leaf.example.com')],
  });
  const leafDer = leaf.der;
  const parse = await rate(() => decodeCertificate(leafDer));
  const pkiParse = await rate(() => pkijs.Certificate.fromBER(leafDer));
  report(
    `decodeCertificate (leaf, ${leafDer.length} B)`,
    parse,
    `parse costs ${(rawVerify / parse).toFixed(3)}× one verify (goal < 0.20×)`,
  );
  report(
    `peer: PKI.js Certificate.fromBER`,
    pkiParse,
    `costs ${(rawVerify / pkiParse).toFixed(2)}× one verify; ours is ${(parse / pkiParse).toFixed(0)}× faster`,
  );
  summary[`${alg}.parseCostVsVerify`] = rawVerify / parse;
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
