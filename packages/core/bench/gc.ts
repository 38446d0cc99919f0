/**
 * What path validation leaves to the garbage collector: collection time per validation (young and
 * full, from perf_hooks) and how much the old generation grew, for the cold and steady workloads of
 * chain.ts (P-256). Collection time is billed to whichever row runs when it happens, so chain.ts
 * cannot show it; old-generation growth is what later full collections pay for. Not part of
 * `npm run bench` (it informs a change to what the validator remembers; run it on both commits).
 *
 * Run: `node --import tsx bench/gc.ts` after `npm run build` (it measures dist). COLD and STEADY set
 * the number of validations (defaults 10,000 and 28,000).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { createPathValidator, type ValidatePathResult } from '@certified/core';
import { makeFixtureWithLeaves } from './chain-peers.js';

const COLD = Number(process.env.COLD ?? 10_000);
const STEADY = Number(process.env.STEADY ?? 28_000);
/** Leaves a steady validator sees before measuring: enough to fill its default cache. */
const FILL = 2100;

const { fixture: f, leaves } = await makeFixtureWithLeaves('P-256', FILL + STEADY);
const input = (peer: Uint8Array) => ({
  peer: peer.slice(),
  chain: [f.intermediate.slice()],
  purpose: 'serverAuth' as const,
  peerName: f.hostname,
  time: f.time,
});
const inputs = leaves.map(input);
const ring = Array.from({ length: 4000 }, () => input(f.leaf));

let young = 0;
let full = 0;
let fulls = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      full += e.duration;
      fulls++;
    } else young += e.duration;
  }
}).observe({ entryTypes: ['gc'] });
const oldSpace = (): number =>
  getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
const settle = (): Promise<void> => new Promise((done) => setTimeout(done, 50));
const must = (r: ValidatePathResult): void => {
  if (!r.ok) throw new Error(`bench gc refused: ${r.code}`);
};

async function measure(name: string, n: number, run: () => Promise<void>): Promise<void> {
  await settle();
  young = full = fulls = 0;
  const old0 = oldSpace();
  await run();
  await settle();
  console.log(
    `${name.padEnd(8)} young GC ${((young * 1000) / n).toFixed(1).padStart(5)} µs/validation, ` +
      `full GC ${((full * 1000) / n).toFixed(1).padStart(5)} µs/validation (${fulls}), ` +
      `old generation +${((oldSpace() - old0) / 1e6).toFixed(1)} MB`,
  );
}

console.log(`@certified/core path validation GC bench — Node ${process.versions.node}, P-256\n`);
// Cold: a fresh validator per validation, made 50 at a time as chain.ts does.
await measure('cold', COLD, async () => {
  for (let i = 0; i < COLD;) {
    const batch = Array.from({ length: 50 }, () => createPathValidator({ anchors: [f.anchor] }));
    await new Promise((done) => setImmediate(done));
    for (const v of batch) must(await v.validate(ring[i++ % ring.length]!));
  }
});
const steady = createPathValidator({ anchors: [f.anchor] });
for (let i = 0; i < FILL; i++) must(await steady.validate(inputs[i]!));
await measure('steady', STEADY, async () => {
  for (let i = FILL; i < FILL + STEADY; i++) must(await steady.validate(inputs[i]!));
});
