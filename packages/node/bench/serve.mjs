/**
 * mTLS server benchmark: requests/s of our server (our path validator judges client certificates)
 * against a plain `node:https` server where OpenSSL verifies them, with the same certificates and the
 * same Hono app, in the same run, printed as ratios against the goals (≥ 0.9× on new connections,
 * ≥ 0.95× with keep-alive; server CPU per request ≤ 1.0×). A third candidate, the floor, requests a
 * client certificate and judges nobody: OpenSSL verifies the chain there too, as in ours, and Node
 * has no option to stop it (src/tls/openssl-verifies.test.ts), so no listener that decides trust
 * itself costs less. A bench informs: it exits 0 whatever the ratios, and non-zero only when it
 * could not run.
 *
 * Placement (identical for every candidate): each server runs in its own child process
 * (`serve-server.mjs`), all started up front and loaded one at a time; the load comes from
 * CLIENT_PROCESSES child processes (`serve-client.mjs`) with CONNECTIONS_PER_CLIENT concurrent
 * connections each. Candidates take turns going first from round to round and the median of the
 * rounds is reported, so drift and noisy neighbours skew them alike. No TLS session resumption:
 * every new connection is a full handshake.
 *
 * Run: `npm run bench` (all packages, builds first) or, after `npx turbo run build
 * --filter=@certified/node`, `node packages/node/bench/serve.mjs`.
 * Env: BENCH_SECONDS measuring time per run (default 2.5), BENCH_ROUNDS rounds per mode (default 5),
 * BENCH_MODES `new`, `keepalive` or both (default `new,keepalive`), BENCH_CPU_PROF a directory to
 * write each server's V8 CPU profile to (`ours.cpuprofile`, `peer.cpuprofile`, `floor.cpuprofile`).
 */
import process from 'node:process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatName } from '@certified/core';
import {
  clientAnchors,
  clientCredentials,
  loadIdentity,
  serverCredentials,
} from '@certified/identity';
import { ask, forkChild, stopChild } from './children.mjs';
import { createBenchPair, pem } from './identities.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2.5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
if (!(SECONDS > 0) || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error(
    `BENCH_SECONDS must be a positive number and BENCH_ROUNDS a positive integer, received ${SECONDS} and ${ROUNDS}`,
  );
  process.exit(2);
}
const CLIENT_PROCESSES = 2;
const CONNECTIONS_PER_CLIENT = 8;
const RAMP_MS = 300;
const WARMUP_MS = 1000;
const MODES = [
  { id: 'new', label: 'new connection', goal: 0.9 },
  { id: 'keepalive', label: 'keep-alive', goal: 0.95 },
].filter((m) => !process.env.BENCH_MODES || process.env.BENCH_MODES.split(',').includes(m.id));
// Set to a directory to write a V8 CPU profile of each server process there (node --cpu-prof).
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const CANDIDATES = ['ours', 'peer', 'floor'];

// --- identities ---

/**
 * The bench pair (identities.mjs), with what each server candidate and the clients need.
 */
async function createIdentities(root) {
  const { serverDir, server, client } = await createBenchPair(root);
  const trusted = await loadIdentity(server.store);
  const ours = serverCredentials(trusted);
  const theirs = clientCredentials(client);
  const anchors = clientAnchors(trusted);
  return {
    algorithm: 'P-256 (secp256r1)',
    clientChain: theirs.certificates.map((c) => formatName(c.subject)),
    anchors: anchors.map((c) => formatName(c.subject)),
    server: {
      configDir: serverDir,
      serverKey: ours.keyPem,
      serverCertificates: ours.certificates.map((c) => c.der),
      serverChainPem: ours.certificates.map(pem).join(''),
      clientAnchors: anchors.map((c) => c.der),
      clientAnchorPems: anchors.map(pem),
    },
    client: {
      key: theirs.keyPem,
      cert: theirs.certificates.map(pem).join(''),
      ca: pem(ours.certificates.at(-1)),
    },
  };
}

// --- child processes ---

// --- measuring ---

/**
 * Loads one server with every client process at once for rampMs + measureMs; returns requests/s
 * summed over the clients, the errors, and the server's CPU time per request.
 */
async function measure(server, clients, tls, mode, measureMs) {
  const cpuBefore = (await ask(server.child, { type: 'cpu' }, 'cpu')).micros;
  const results = await Promise.all(
    clients.map((client) =>
      ask(
        client,
        {
          type: 'run',
          url: server.url,
          mode,
          connections: CONNECTIONS_PER_CLIENT,
          rampMs: RAMP_MS,
          measureMs,
          tls,
        },
        'result',
      ),
    ),
  );
  const cpuAfter = (await ask(server.child, { type: 'cpu' }, 'cpu')).micros;
  const total = results.reduce((n, r) => n + (r.total ?? 0), 0);
  return {
    rps: results.reduce((n, r) => n + r.ok / r.seconds, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    firstError: results.find((r) => r.firstError)?.firstError,
    total,
    handshakes: results.reduce((n, r) => n + (r.handshakes ?? 0), 0),
    resumed: results.reduce((n, r) => n + (r.resumed ?? 0), 0),
    // Over the whole run, ramp included.
    cpuMicrosPerRequest: total > 0 ? (cpuAfter - cpuBefore) / total : NaN,
    info: results.find((r) => r.info)?.info,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits }) : '—';

// --- main ---

const started = performance.now();
const root = mkdtempSync(join(tmpdir(), 'certified-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const identities = await createIdentities(root);

const servers = {};
for (const candidate of CANDIDATES) {
  const child = forkChild(
    'serve-server.mjs',
    [candidate],
    CPU_PROF_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, `--cpu-prof-name=${candidate}.cpuprofile`]
      : [],
  );
  const ready = await ask(child, { type: 'start', identity: identities.server }, 'ready');
  servers[candidate] = { child, url: ready.url, impl: ready.impl };
}
const clients = Array.from({ length: CLIENT_PROCESSES }, () => forkChild('serve-client.mjs'));

console.log('mTLS server: our validator vs OpenSSL client verification (node:https)');
console.log(
  `node ${process.version} · ${process.platform}/${process.arch} · OpenSSL ${process.versions.openssl}`,
);
console.log(
  `certificates: ${identities.algorithm} identities; the client presents ${identities.clientChain.join(' ← ')}; trusted: ${identities.anchors.join('; ')}`,
);
console.log(`ours: ${servers.ours.impl}; peer: ${servers.peer.impl}; floor: ${servers.floor.impl}`);
console.log(
  `load: ${CLIENT_PROCESSES} client processes × ${CONNECTIONS_PER_CLIENT} connections = ${
    CLIENT_PROCESSES * CONNECTIONS_PER_CLIENT
  } concurrent clients (node:https Agent, maxCachedSessions 0); each server in its own process`,
);
console.log(
  `${ROUNDS} rounds × ${SECONDS} s per candidate and mode (BENCH_ROUNDS, BENCH_SECONDS), alternating order`,
);

const rows = [];
for (const mode of MODES) {
  const runs = Object.fromEntries(CANDIDATES.map((c) => [c, []]));
  const infos = {};
  // Warm-up (JIT, validator cache, connection pools): not counted.
  for (const candidate of CANDIDATES) {
    const w = await measure(servers[candidate], clients, identities.client, mode.id, WARMUP_MS);
    infos[candidate] = w.info;
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Each candidate takes each place in the order in turn.
    const order = CANDIDATES.map((_, i) => CANDIDATES[(i + round) % CANDIDATES.length]);
    for (const candidate of order)
      runs[candidate].push(
        await measure(servers[candidate], clients, identities.client, mode.id, SECONDS * 1000),
      );
  }
  const info = infos.ours ?? infos.peer;
  if (info)
    console.log(
      `\n${mode.label}: ${info.protocol}, ${info.cipher}, key exchange ${info.keyExchange}, server key ${info.serverKey}, client key ${info.clientKey}`,
    );
  const stats = {};
  for (const candidate of CANDIDATES) {
    const r = runs[candidate];
    const requests = r.reduce((n, x) => n + x.total, 0);
    stats[candidate] = {
      rps: median(r.map((x) => x.rps)),
      min: Math.min(...r.map((x) => x.rps)),
      max: Math.max(...r.map((x) => x.rps)),
      cpu: median(r.map((x) => x.cpuMicrosPerRequest)),
      errors: r.reduce((n, x) => n + x.errors, 0),
      firstError: r.find((x) => x.firstError)?.firstError,
      handshakesPerRequest: r.reduce((n, x) => n + x.handshakes, 0) / Math.max(1, requests),
      resumed: r.reduce((n, x) => n + x.resumed, 0),
    };
    const s = stats[candidate];
    console.log(
      `  ${candidate.padEnd(5)} ${fmt(s.rps).padStart(7)} req/s median (${fmt(s.min)}–${fmt(
        s.max,
      )})  server CPU ${fmt(s.cpu)} µs/req  errors ${s.errors}  handshakes/request ${s.handshakesPerRequest.toFixed(3)}  resumed ${s.resumed}  ${infos[candidate]?.framing ?? ''}${
        s.firstError ? `  first error: ${s.firstError}` : ''
      }`,
    );
  }
  const pairs = runs.ours.map((o, i) => o.rps / runs.peer[i].rps);
  const ratio = stats.ours.rps / stats.peer.rps;
  const valid = stats.ours.errors === 0 && stats.peer.errors === 0;
  const verdict = !valid ? 'INVALID (errors)' : ratio >= mode.goal ? 'PASS' : 'BELOW GOAL';
  console.log(
    `  ours/peer ${ratio.toFixed(2)}× (per round ${pairs.map((p) => p.toFixed(2)).join(' ')}), goal ≥ ${mode.goal}× → ${verdict}`,
  );
  // Server CPU per request, per round (the candidates ran back to back), then the median.
  const cpuRatio = (a, b) =>
    median(runs[a].map((x, i) => x.cpuMicrosPerRequest / runs[b][i].cpuMicrosPerRequest));
  console.log(
    `  server CPU per request: ours/peer ${cpuRatio('ours', 'peer').toFixed(2)}× (goal ≤ 1.0×); floor/peer ${cpuRatio('floor', 'peer').toFixed(2)}× (no judging, OpenSSL's check ignored); ours/floor ${cpuRatio('ours', 'floor').toFixed(2)}×`,
  );
  rows.push({ mode, stats, ratio, verdict });
}

console.log('\nsummary');
console.log(
  `${'mode'.padEnd(16)} ${'ours req/s'.padStart(10)} ${'peer req/s'.padStart(10)} ${'ratio'.padStart(6)} ${'goal'.padStart(6)}  verdict`,
);
for (const { mode, stats, ratio, verdict } of rows)
  console.log(
    `${mode.label.padEnd(16)} ${fmt(stats.ours.rps).padStart(10)} ${fmt(stats.peer.rps).padStart(10)} ${`${ratio.toFixed(2)}×`.padStart(6)} ${`≥${mode.goal}`.padStart(6)}  ${verdict}`,
  );
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);

for (const child of [...Object.values(servers).map((s) => s.child), ...clients])
  await stopChild(child);
