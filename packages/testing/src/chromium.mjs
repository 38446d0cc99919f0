/**
 * @module chromium — the flags every headless Chromium in our tests starts with: no sandbox (root in
 * CI), no GPU, and none of the background services that would reach past loopback (updates, sync,
 * QUIC, hints, media routing, translation). Plain JavaScript so `test/runtime/run-all.mjs` can import
 * it without a TypeScript loader.
 */

/** Arguments for `chromium.launch({ args })`. */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=OptimizationHints,MediaRouter,Translate',
]);
