/**
 * PWA bench: the built app in Debian's Chromium (headless), served on 127.0.0.1 — first-load
 * JavaScript of a first visit, gzipped as a server would send it (goal ≤ 60 KB), what a returning
 * visit loads to show the identity (informative), and the time to create an identity
 * (CA + identity certificate, non-extractable keys, stored in IndexedDB; goal ≤ 150 ms), median of
 * fresh browser contexts. Informs only: exits 0 whatever the numbers, non-zero when it cannot run.
 * `npm run bench` in apps/pwa (or at the root, with every package's bench).
 */
import { rmSync } from 'node:fs';
import { buildApp, createIdentity, firstLoad, launchChromium, serveApp } from './harness.js';

const RUNS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const browser = await launchChromium();
if (!browser) process.exit(0); // launchChromium said why (and throws under CI=true)
const outDir = await buildApp();
const app = await serveApp(outDir);
try {
  const loads: number[] = [];
  const creates: number[] = [];
  const returning: number[] = [];
  let files = 0;
  let raw = 0;
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const load = await firstLoad(page, app.origin);
    loads.push(load.gzipped);
    files = load.files;
    raw = load.raw;
    creates.push(await createIdentity(page, `Bench ${i}`, `bench${i}@example.org`));
    returning.push((await firstLoad(page, app.origin)).gzipped);
    await context.close();
  }
  const kb = median(loads) / 1024;
  const ms = median(creates);
  console.log(
    `@certified/pwa bench — ${browser.version()} headless, ${RUNS} fresh contexts, medians\n`,
  );
  console.log(
    `first-load JavaScript  ${kb.toFixed(1).padStart(6)} KB gzipped (${files} files, ${(raw / 1024).toFixed(1)} KB raw)  ${(kb / 60).toFixed(2)}× the 60 KB goal${kb <= 60 ? '' : ' — NOT met'}`,
  );
  console.log(
    `returning visit JS     ${(median(returning) / 1024).toFixed(1).padStart(6)} KB gzipped (the identity model, mostly yaml, loads to show the identity)`,
  );
  console.log(
    `create an identity      ${ms.toFixed(1).padStart(6)} ms (min ${Math.min(...creates).toFixed(1)}, max ${Math.max(...creates).toFixed(1)})  ${(ms / 150).toFixed(2)}× the 150 ms goal${ms <= 150 ? '' : ' — NOT met'}`,
  );
  console.log(
    JSON.stringify({
      bench: 'pwa',
      firstLoadGzippedBytes: median(loads),
      returningLoadGzippedBytes: median(returning),
      createIdentityMs: Number(ms.toFixed(1)),
    }),
  );
} finally {
  await browser.close();
  await app.close();
  rmSync(outDir, { recursive: true, force: true });
}
