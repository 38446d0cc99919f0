/**
 * A legitimate client's latency while attackers present the forged constrained-intermediate chain of
 * issue 11 (test/hostile-chain.ts: ~100 KB, 900 excluded directoryName subtrees, 750 U+FDFA SANs,
 * an intermediate claiming our trusted CA as issuer). Goal: with 4 attackers connecting in a loop,
 * the legitimate client's latency stays within 2× of its latency alone.
 *
 * Placement: `serve(app, { configDir })` in its own process (serve-server.mjs, candidate `ours`);
 * ATTACKERS loops in one attacker process (hostile-attacker.mjs); the legitimate client in this
 * process, one request at a time, each on a new connection with a full handshake (no session
 * resumption): its latency is connect → handshake (judged by our validator) → 200 `ok`. Rounds
 * alternate "alone" and "under attack"; the ratio is of medians, with p90 beside it.
 *
 * Run: `npm run bench` (all packages, builds first) or, after a build,
 * `node --import tsx packages/node/bench/hostile.mjs`. Env: BENCH_SECONDS per phase (default 2),
 * BENCH_ROUNDS (default 5). A bench informs: it exits 0 whatever the ratio.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import {
  createSelfSignedCa,
  generateKeyPair,
  organizationName,
  exportPrivateKey,
} from '@certified/core';
import { addClient, clientCredentials } from '@certified/identity';
import { ask, forkChild, stopChild } from './children.mjs';
import { createBenchPair, pem } from './identities.mjs';
import { hostileChain } from '../../core/test/hostile-chain.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ATTACKERS = 4;
const GOAL = 2;

// --- identities: a server, a legitimate client (trusted via its CA), and the forged chain ---

const root = mkdtempSync(join(tmpdir(), 'certified-hostile-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const { serverDir, server, client } = await createBenchPair(root);
// The CA the attack imitates: trusted, and allowed an intermediate (pathLen 1), as an
// organisation's root is; nobody legitimate needs it in this run.
const orgKeys = await generateKeyPair({ algorithm: 'P-256' });
const orgRoot = await createSelfSignedCa({
  subject: organizationName({ organization: 'Bench Org Root' }),
  keyPair: orgKeys,
  pathLength: 1,
});
await addClient(server, 'bench-org', pem(orgRoot), { ca: true });
const legit = clientCredentials(client);
const forged = await hostileChain({ anchor: orgRoot });
const attackerTls = {
  key: await exportPrivateKey(forged.leafKeys.privateKey),
  cert: pem(forged.leaf) + pem(forged.intermediate),
};

// --- processes ---

const attacker = forkChild('hostile-attacker.mjs', [], ['--import', 'tsx']);

// --- the legitimate client ---

let url = '';
const agent = new Agent({
  keepAlive: false,
  maxCachedSessions: 0,
  key: legit.keyPem,
  cert: legit.certificates.map(pem).join(''),
  rejectUnauthorized: false, // we measure the server's judging of us, not ours of it
});
function once200() {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { agent, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () =>
        res.statusCode === 200 && body === 'ok'
          ? resolve(performance.now() - t0)
          : reject(new Error(`HTTP ${res.statusCode} ${body.slice(0, 80)}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}
async function latencies(ms) {
  const out = [];
  const end = performance.now() + ms;
  while (performance.now() < end) out.push(await once200());
  return out;
}
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs) => quantile(xs, 0.5);

// --- measuring ---

const CONFIGS = [
  { label: 'serve() defaults (refusalLimit on)', serveOptions: {}, goal: true },
  { label: 'refusalLimit: false', serveOptions: { refusalLimit: false }, goal: false },
];

console.log('a legitimate client beside attackers presenting the forged chain (issue 11)');
console.log(
  `node ${process.version} · OpenSSL ${process.versions.openssl} · ${ATTACKERS} attackers (127.0.0.2–${1 + ATTACKERS}, one process); the client at 127.0.0.1`,
);
console.log(
  `forged chain: ${forged.bytes} bytes (leaf with ${forged.leaf.subjectAltNames.length} SANs, intermediate claiming the trusted CA)`,
);
const summary = {};
for (const config of CONFIGS) {
  const serverChild = forkChild('serve-server.mjs', ['ours']);
  const ready = await ask(
    serverChild,
    { type: 'start', identity: { configDir: serverDir, serveOptions: config.serveOptions } },
    'ready',
  );
  url = ready.url;
  await latencies(500); // warm-up
  const alone = [];
  const attacked = [];
  let attacks = 0;
  let handshakes = 0;
  let accepted = 0;
  for (let round = 0; round < ROUNDS; round++) {
    alone.push(await latencies(SECONDS * 1000));
    attacker.send({ type: 'attack', url, loops: ATTACKERS, ...attackerTls });
    await new Promise((r) => setTimeout(r, 300)); // let the attack reach full speed
    attacked.push(await latencies(SECONDS * 1000));
    const halted = await ask(attacker, { type: 'halt' }, 'halted');
    attacks += halted.connections;
    handshakes += halted.handshakes;
    accepted += halted.accepted;
  }
  console.log(`\n${config.label}`);
  const ratios = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = median(alone[i]);
    const b = median(attacked[i]);
    ratios.push(b / a);
    console.log(
      `  round ${i + 1}: alone median ${a.toFixed(2)} ms (p90 ${quantile(alone[i], 0.9).toFixed(2)}), under attack ${b.toFixed(2)} ms (p90 ${quantile(attacked[i], 0.9).toFixed(2)}) → ${(b / a).toFixed(2)}×`,
    );
  }
  const ratio = median(ratios);
  const seconds = ROUNDS * SECONDS;
  console.log(
    `  attack connections: ${attacks} (${(attacks / seconds).toFixed(0)}/s), ${handshakes} reached a TLS handshake, accepted by the server: ${accepted}`,
  );
  const verdict = accepted > 0 ? 'FAIL (an attacker was served)' : ratio <= GOAL ? 'PASS' : 'FAIL';
  console.log(
    `  latency under attack / alone: ${ratio.toFixed(2)}× median of rounds (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×)${config.goal ? `; goal ≤ ${GOAL}× → ${verdict}` : ' (for comparison: no goal)'}`,
  );
  summary[config.label] = {
    ratio: Math.round(ratio * 100) / 100,
    attacksPerSecond: Math.round(attacks / seconds),
    handshakes,
    accepted,
  };
  await stopChild(serverChild);
}
console.log(JSON.stringify({ bench: 'hostile-serve', ...summary }));

agent.destroy();
await stopChild(attacker);
