/**
 * Path-validation benchmarks: validations/s of a three-certificate chain (anchor → intermediate →
 * leaf) for P-256 and Ed25519, beside raw WebCrypto verify/s and other libraries in the same run.
 *
 * - cold:   a fresh validator per validation, nothing cached (anchors are prepared when a validator
 *           is created, so that happens off the clock, 50 at a time; "cold + construction" includes it).
 * - steady: one validator, a new leaf every time under the same intermediate and anchor (the
 *           handshake case: one signature to verify), in its steady state: its cache is full (it
 *           has seen FILL other leaves first), as on a server seeing new peers all day.
 * - warm:   the same chain again (served from the validator's cache).
 *
 * Limits: the two-verification limit is raw verify/s ÷ 2 (a cold chain has two signatures); the
 * one-verification limit is raw verify/s. Floors (chain-peers.ts), no check at all: decoding the
 * new leaf and verifying it, one at a time and 32 in flight (with 32 in flight every µs of CPU
 * counts, so no validator can beat that row); for a cold chain, decoding both certificates,
 * importing the intermediate's key and verifying both signatures. Rows compared with each other
 * run in interleaved rounds; ratios are medians of per-round ratios. BENCH_MS / BENCH_ROUNDS as in
 * run.ts.
 */
import { createPathValidator, type PathValidator } from '@certified/core';
import {
  decodeAndVerify,
  decodeChainAndVerify,
  makeFixtureWithLeaves,
  nodeNative,
  peculiarX509,
  pkijsEngine,
  rawImport,
  rawVerify,
} from './chain-peers.js';
import { CORES, cpuMark, cpuSince } from './thread-cpu.js';

const MS = Number(process.env.BENCH_MS ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Validations outstanding at once in the concurrent rows. */
const IN_FLIGHT = 32;
/** Leaves a steady validator sees before the clock starts: enough to fill its default cache. */
const FILL = 2100;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(9);
const row = (name: string, r: number, note = ''): void =>
  console.log(`${name.padEnd(48)} ${fmt(r)}/s  ${note}`);

/** ops/s of `fn(i)` called sequentially for MS (after `setup`, which is not timed). */
async function rate(fn: (i: number) => Promise<unknown>, ms = MS): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let k = 0; k < 10; k++) await fn(n++);
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

/**
 * ops/s of `run` over items `prepare` makes in batches of `batch`, counting only the time spent in
 * `run`: for work whose setup must stay off the clock but must not pile up either (a validator
 * prepared for each cold validation holds its anchor's imported key; thousands prepared at once
 * would live into the old generation and bill their collection to the row).
 */
async function rateBatched<T>(
  prepare: () => T,
  run: (item: T, i: number) => Promise<unknown>,
  batch = 50,
  ms = MS,
): Promise<number> {
  let n = 0;
  let spent = 0;
  while (spent < ms) {
    const items = Array.from({ length: batch }, prepare);
    await new Promise((done) => setImmediate(done)); // anchor imports settle off the clock
    const t0 = performance.now();
    for (const item of items) await run(item, n++);
    spent += performance.now() - t0;
  }
  return (n * 1000) / spent;
}

/** CPU µs per operation of the concurrent rows (main thread, other threads), by row. */
const cpuOf: Record<string, { main: number; others: number }[]> = {};

/**
 * ops/s of `fn(i)` with `inFlight` calls outstanding at all times, for MS: what a busy server sees.
 * With `cpuRow`, also records the CPU each operation cost the main thread and the other threads.
 */
async function rateConcurrent(
  fn: (i: number) => Promise<unknown>,
  cpuRow?: string,
  inFlight = IN_FLIGHT,
  ms = MS,
): Promise<number> {
  let n = 0;
  let done = 0;
  const mark = cpuRow ? cpuMark() : undefined;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() - t0 < ms) {
      await fn(n++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const rate = (done * 1000) / (performance.now() - t0);
  const cpu = cpuSince(mark, done);
  if (cpuRow && cpu) (cpuOf[cpuRow] ??= []).push(cpu);
  return rate;
}

function mustPass(r: { ok: boolean }): void {
  if (!r.ok) throw new Error(`bench chain refused: ${JSON.stringify(r)}`);
}

const summary: Record<string, number> = {};
console.log(
  `@certified/core path validation bench — Node ${process.versions.node}, ${ROUNDS} interleaved rounds × ${MS} ms, medians\n`,
);

for (const alg of ['P-256', 'Ed25519'] as const) {
  console.log(`— ${alg}: anchor → intermediate → leaf —`);
  // Enough distinct leaves that the steady rows never see one twice; the first FILL of them
  // fill each round's steady validator.
  const { fixture: f, leaves } = await makeFixtureWithLeaves(alg, 14000);
  // Fresh copies per validation, as a socket hands over new buffers per handshake, made once before
  // any row: a 470-byte slice() costs ~2.5 µs on Node 20, two of them per input would be ~40% of a
  // warm validation, and they are the caller's work, not the validator's. Made per round, ~14 MB
  // of them were still young when the rows ran, so scavenges copied them on a row's clock (4–11 ms
  // each in a --trace-gc run of a harness made that way): what a socket's buffers never cost.
  const input = (peer: Uint8Array): Parameters<PathValidator['validate']>[0] => ({
    peer: peer.slice(),
    chain: [f.intermediate.slice()],
    purpose: 'serverAuth',
    peerName: f.hostname,
    time: f.time,
  });
  const raw = await rawVerify(f);
  const importKey = await rawImport(f);
  const floor1 = await decodeAndVerify(f, leaves);
  const floorCold = await decodeChainAndVerify(f);
  const peers: Record<string, (() => Promise<void>) | undefined> = {
    'PKI.js CertificateChainValidationEngine': await pkijsEngine(f),
    '@peculiar/x509 X509ChainBuilder': await peculiarX509(f),
    'node:crypto X509Certificate (native)': await nodeNative(f),
  };

  const warmValidator = createPathValidator({ anchors: [f.anchor] });
  mustPass(await warmValidator.validate(input(f.leaf)));
  let leafAt = 0;
  const ring = Array.from({ length: 4000 }, () => input(f.leaf));
  const steadyInputs = leaves.map(input);

  const r: Record<string, number[]> = {};
  const record = (k: string, v: number): void => void (r[k] ??= []).push(v);
  for (let round = 0; round < ROUNDS; round++) {
    record('raw', await rate(() => raw()));
    record('rawImport', await rate(() => importKey(), MS / 2));
    // cold: validators created (and their anchor keys imported) off the clock, a batch at a time.
    await new Promise((done) => setTimeout(done, 20));
    record(
      'cold',
      await rateBatched(
        () => createPathValidator({ anchors: [f.anchor] }),
        async (validator, i) => mustPass(await validator.validate(ring[i % 4000]!)),
      ),
    );
    record(
      'coldCtor',
      await rate(async (i) =>
        mustPass(await createPathValidator({ anchors: [f.anchor] }).validate(ring[i % 4000]!)),
      ),
    );
    // steady: a validator that has seen the intermediate, and FILL leaves, then a new leaf per
    // validation.
    const steady = createPathValidator({ anchors: [f.anchor] });
    mustPass(await steady.validate(input(f.leaf)));
    for (leafAt = 0; leafAt < FILL; leafAt++)
      mustPass(await steady.validate(steadyInputs[leafAt]!));
    record(
      'steady',
      await rate(async () => {
        if (leafAt >= leaves.length)
          throw new Error('steady: more validations than distinct leaves');
        mustPass(await steady.validate(steadyInputs[leafAt++]!));
      }),
    );
    record(
      'warm',
      await rate(async (i) => mustPass(await warmValidator.validate(ring[i % 4000]!))),
    );
    // Floors after our rows: their garbage must not be collected on our rows' clock.
    record('floor1', await rate(() => floor1()));
    record('floorCold', await rate(() => floorCold()));
    // concurrent: 32 in flight. Node verifies on its threadpool, so the raw limit rises too.
    record('rawConcurrent', await rateConcurrent(() => raw(), 'raw'));
    record(
      'steadyConcurrent',
      await rateConcurrent(async () => {
        if (leafAt >= leaves.length)
          throw new Error('steady: more validations than distinct leaves');
        mustPass(await steady.validate(steadyInputs[leafAt++]!));
      }, 'ours'),
    );
    record('floor1Concurrent', await rateConcurrent(() => floor1(), 'floor'));
    for (const [name, peer] of Object.entries(peers))
      if (peer) record(name, await rate(peer, MS / 2));
  }

  const per = (k: string, base: (i: number) => number): number =>
    median(r[k]!.map((v, i) => v / base(i)));
  const limit2 = (i: number): number => r.raw![i]! / 2;
  const limit1 = (i: number): number => r.raw![i]!;
  // Two verifications and the one key import a never-seen intermediate needs, back to back.
  const floor2 = (i: number): number => 1 / (2 / r.raw![i]! + 1 / r.rawImport![i]!);
  const node = (i: number): number => r['node:crypto X509Certificate (native)']![i]!;

  row('raw WebCrypto verify (leaf TBS)', median(r.raw!));
  row('limit: two verifications (raw ÷ 2)', median(r.raw!) / 2);
  row('raw WebCrypto importKey (intermediate key)', median(r.rawImport!));
  row(
    'floor: two verifications + one key import',
    median(r.raw!.map((_, i) => floor2(i))),
    `what a cold validation cannot beat, ${median(r.raw!.map((v, i) => floor2(i) / (v / 2))).toFixed(2)}× the limit: an import costs ${median(r.raw!.map((v, i) => v / r.rawImport![i]!)).toFixed(2)}× a verification`,
  );
  row(
    'floor: decode both + verify, import, verify',
    median(r.floorCold!),
    `${per('floorCold', limit2).toFixed(2)}× limit: the cold floor with decoding, the upper verification overlapping the import`,
  );
  row(
    'ours, cold (fresh validator, nothing cached)',
    median(r.cold!),
    `${per('cold', limit2).toFixed(2)}× limit (goal ≥ 0.70×), ${per('cold', floor2).toFixed(2)}× floor, ${per('cold', (i) => r.floorCold![i]!).toFixed(2)}× decoding floor; ${per('cold', node).toFixed(2)}× Node native (goal ≥ 1.20×)`,
  );
  row(
    'ours, cold + creating the validator',
    median(r.coldCtor!),
    `${per('coldCtor', limit2).toFixed(2)}× limit; ${per('coldCtor', node).toFixed(2)}× Node native`,
  );
  row(
    'ours, steady (new leaf, known intermediate)',
    median(r.steady!),
    `${per('steady', limit1).toFixed(2)}× one-verification limit (goal ≥ 0.80×)`,
  );
  row(
    'floor: decode the new leaf + one verification',
    median(r.floor1!),
    `${per('floor1', limit1).toFixed(2)}× one-verification limit: decode, then verify, no check at all`,
  );
  row(
    'ours, warm (same chain again, cached)',
    median(r.warm!),
    `goal ≥ 150,000/s; ${(median(r.warm!) / median(r.raw!)).toFixed(0)}× one verify`,
  );
  row(`raw WebCrypto verify, ${IN_FLIGHT} in flight`, median(r.rawConcurrent!));
  row(
    `floor: decode + verify, ${IN_FLIGHT} in flight`,
    median(r.floor1Concurrent!),
    `${per('floor1Concurrent', (i) => r.rawConcurrent![i]!).toFixed(2)}× raw verifies in flight: the least work any validator does`,
  );
  row(
    `ours, steady, ${IN_FLIGHT} in flight`,
    median(r.steadyConcurrent!),
    `${per('steadyConcurrent', (i) => r.rawConcurrent![i]!).toFixed(2)}× raw verifies in flight (goal ≥ 0.70×)`,
  );
  const cpu = (k: string): { main: number; others: number } | undefined => {
    const rows = cpuOf[k];
    delete cpuOf[k]; // per algorithm
    return (
      rows && { main: median(rows.map((c) => c.main)), others: median(rows.map((c) => c.others)) }
    );
  };
  const [rawCpu, floorCpu, oursCpu] = [cpu('raw'), cpu('floor'), cpu('ours')];
  if (rawCpu && floorCpu && oursCpu) {
    // With every core busy, a row cannot exceed CORES ÷ its CPU per operation: the ceiling that
    // explains the concurrent ratios on a small machine, whatever the scheduling.
    const ceiling = (c: { main: number; others: number }): number =>
      (CORES * 1e6) / (c.main + c.others);
    const show = (c: { main: number; others: number }): string =>
      `main thread ${c.main.toFixed(0)} + other threads ${c.others.toFixed(0)} µs CPU`;
    const raw32 = median(r.rawConcurrent!);
    console.log(
      `  CPU per operation, ${IN_FLIGHT} in flight (${CORES} cores; the ceiling is cores ÷ CPU per operation):`,
    );
    for (const [name, c] of [
      ['raw verify', rawCpu],
      ['floor', floorCpu],
      ['ours', oursCpu],
    ] as const)
      console.log(
        `    ${name.padEnd(11)} ${show(c)} → ceiling ${fmt(ceiling(c)).trim()}/s, ${(ceiling(c) / raw32).toFixed(2)}× raw verifies in flight`,
      );
    summary[`${alg}.concurrentCeilingVsRawConcurrent`] = ceiling(oursCpu) / raw32;
    summary[`${alg}.concurrentMainCpuUs`] = oursCpu.main;
    summary[`${alg}.concurrentOtherCpuUs`] = oursCpu.others;
  }
  for (const [name, peer] of Object.entries(peers)) {
    if (!peer) {
      row(`peer: ${name}`, 0, 'cannot verify Ed25519 (PKI.js 4.0.0 has no Ed25519 support)');
      continue;
    }
    row(
      `peer: ${name}`,
      median(r[name]!),
      `${per(name, limit2).toFixed(2)}× limit; ours cold is ${median(r.cold!.map((v, i) => v / r[name]![i]!)).toFixed(1)}× this`,
    );
  }
  summary[`${alg}.coldVsLimit`] = per('cold', limit2);
  summary[`${alg}.coldVsFloor`] = per('cold', floor2);
  summary[`${alg}.floorVsLimit`] = median(r.raw!.map((v, i) => floor2(i) / (v / 2)));
  summary[`${alg}.coldDecodingFloorVsLimit`] = per('floorCold', limit2);
  summary[`${alg}.coldWithConstructionVsLimit`] = per('coldCtor', limit2);
  summary[`${alg}.steadyVsOneVerify`] = per('steady', limit1);
  summary[`${alg}.steadyFloorVsOneVerify`] = per('floor1', limit1);
  summary[`${alg}.concurrentFloorVsRawConcurrent`] = per(
    'floor1Concurrent',
    (i) => r.rawConcurrent![i]!,
  );
  summary[`${alg}.warmPerSecond`] = median(r.warm!);
  summary[`${alg}.coldVsNodeNative`] = per('cold', node);
  summary[`${alg}.concurrentVsRawConcurrent`] = per(
    'steadyConcurrent',
    (i) => r.rawConcurrent![i]!,
  );
  console.log('');
}
console.log(
  JSON.stringify({
    bench: 'chain',
    ...Object.fromEntries(
      Object.entries(summary).map(([k, v]) => [k, Math.round(v * 1000) / 1000]),
    ),
  }),
);
