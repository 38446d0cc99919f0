#!/usr/bin/env node
/**
 * Builds the PWA and serves the build on 127.0.0.1 — one process, so stopping it (Ctrl-C, SIGTERM)
 * stops everything. Usage: node apps/pwa/scripts/start.mjs [--port N]   (default 4173)
 */
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = process.argv.indexOf('--port');
const port = at > 0 ? Number(process.argv[at + 1]) : 4173;
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(
    `usage: start.mjs [--port N] — the port must be 1–65535, received ${process.argv[at + 1]}`,
  );
  process.exit(2);
}
process.env.NODE_ENV = 'production';
await build({ root, mode: 'production', logLevel: 'warn' });
const server = await preview({
  root,
  preview: { host: '127.0.0.1', port, strictPort: true, open: false },
});
server.printUrls();
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => void server.close().then(() => process.exit(0)));
