/**
 * What a hostile chain costs the validator, beside one ordinary cold validation of a three-certificate
 * chain (anchor → intermediate → leaf, P-256) in the same run: issue 11's goal is ≤ 25× for the forged
 * constrained intermediate (test/hostile-chain.ts).
 *
 * - forged, default limits:  the ~100 KB chain as a TLS client presents it; refused by its size.
 * - forged, no size limits:  the same chain with every size limit lifted, so only the order of checks
 *                            protects us (signatures before name constraints).
 * - genuine CA, hostile names: a constrained intermediate the anchor really signed (200 subtrees over
 *                            600 U+FDFA names, within the default limits): refused by the work budget.
 *
 * Every validation uses a fresh validator (nothing cached), created before the clock starts. Rounds
 * interleave the rows; ratios are medians of per-round ratios. BENCH_MS / BENCH_ROUNDS as in run.ts.
 */
import {
  createPathValidator,
  createSelfSignedCa,
  generateKeyPair,
  issueCaCertificate,
  issueEndEntityCertificate,
  personName,
  dnsName,
  type PathValidator,
  type PathValidatorOptions,
  type ValidatePathResult,
} from '@certified/core';
import { hostileChain } from '../test/hostile-chain.js';

const MS = Number(process.env.BENCH_MS ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const GOAL = 25;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

const rootKeys = await generateKeyPair({ algorithm: 'P-256' });
const root = await createSelfSignedCa({
  subject: personName({ commonName: 'Bench Root' }),
  keyPair: rootKeys,
  pathLength: 2,
});
const midKeys = await generateKeyPair({ algorithm: 'P-256' });
const mid = await issueCaCertificate({
  issuer: { certificate: root, privateKey: rootKeys.privateKey },
  subject: personName({ commonName: 'Bench Intermediate' }),
  publicKey: midKeys.publicKey,
});
const leafKeys = await generateKeyPair({ algorithm: 'P-256' });
const leaf = await issueEndEntityCertificate({
  issuer: { certificate: mid, privateKey: midKeys.privateKey },
  subject: personName({ commonName: 'Bench Client' }),
  publicKey: leafKeys.publicKey,
  altNames: [dnsName('client.example.com')],
});
const forged = await hostileChain({ anchor: root });
const genuine = await hostileChain({
  anchor: root,
  intermediateSigner: rootKeys.privateKey,
  subtrees: 200,
  altNames: 600,
});
const NO_SIZE_LIMITS = {
  maxChainCertificates: 1 << 16,
  maxChainBytes: 1 << 26,
  maxSubjectAltNames: 1 << 16,
  maxNameConstraintSubtrees: 1 << 16,
};

interface Row {
  readonly label: string;
  readonly options: Omit<PathValidatorOptions, 'anchors'>;
  readonly peer: Uint8Array;
  readonly chain: Uint8Array;
  readonly expect: ValidatePathResult['ok'] | string;
}
const rows: Row[] = [
  {
    label: 'ordinary cold 3-certificate chain',
    options: {},
    peer: leaf.der,
    chain: mid.der,
    expect: true,
  },
  {
    label: `forged (${Math.round(forged.bytes / 1024)} KB), default limits`,
    options: {},
    peer: forged.leaf.der,
    chain: forged.intermediate.der,
    expect: 'ERR_CHAIN_TOO_LARGE',
  },
  {
    label: 'forged, no size limits',
    options: { limits: NO_SIZE_LIMITS },
    peer: forged.leaf.der,
    chain: forged.intermediate.der,
    expect: 'ERR_CHAIN_SIGNATURE_INVALID',
  },
  {
    label: `genuine CA, hostile names (${Math.round(genuine.bytes / 1024)} KB)`,
    options: {},
    peer: genuine.leaf.der,
    chain: genuine.intermediate.der,
    expect: 'ERR_CHAIN_BUDGET',
  },
];

/** Milliseconds per validation, each on a validator made before the clock started. */
async function msPer(row: Row): Promise<number> {
  const validators: PathValidator[] = [];
  const run = async (): Promise<void> => {
    const v = validators.pop() ?? createPathValidator({ anchors: [root.der], ...row.options });
    const r = await v.validate({
      peer: row.peer.slice(),
      chain: [row.chain.slice()],
      purpose: 'clientAuth',
    });
    const got = r.ok ? true : r.code;
    if (got !== row.expect) throw new Error(`${row.label}: expected ${row.expect}, got ${got}`);
  };
  await run(); // warm the code paths, and prove the row does what it says
  let n = 0;
  let spent = 0;
  while (spent < MS) {
    for (let k = 0; k < 64; k++)
      validators.push(createPathValidator({ anchors: [root.der], ...row.options }));
    await new Promise((done) => setTimeout(done, 5)); // let anchor key imports settle
    const t0 = performance.now();
    for (let k = 0; k < 64 && performance.now() - t0 < MS; k++, n++) await run();
    spent += performance.now() - t0;
    validators.length = 0;
  }
  return spent / n;
}

console.log(
  `@certified/core hostile-chain bench — Node ${process.versions.node}, ${ROUNDS} interleaved rounds × ${MS} ms, medians\n`,
);
const times: number[][] = rows.map(() => []);
for (let round = 0; round < ROUNDS; round++)
  for (let i = 0; i < rows.length; i++) times[i]!.push(await msPer(rows[i]!));

const summary: Record<string, number> = {};
rows.forEach((row, i) => {
  const ratios = times[i]!.map((t, k) => t / times[0]![k]!);
  const ratio = median(ratios);
  const spread = `${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)}×`;
  const note =
    i === 0
      ? 'the unit'
      : `${ratio.toFixed(1)}× ordinary (rounds ${spread}; goal ≤ ${GOAL}×: ${ratio <= GOAL ? 'PASS' : 'FAIL'})`;
  console.log(`${row.label.padEnd(44)} ${median(times[i]!).toFixed(3).padStart(8)} ms  ${note}`);
  if (i > 0) summary[row.label] = Math.round(ratio * 100) / 100;
});
console.log(JSON.stringify({ bench: 'hostile-chain', ratios: summary }));
