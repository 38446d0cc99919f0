/**
 * @module test/grpc-runtimes.test — `@certified/node/grpc` (serveGrpc + createGrpcChannelCredentials
 * over `@grpc/grpc-js`) on Node, Deno and Bun: bundles grpc-runtime-script.ts once with esbuild
 * (platform node, ESM, `@certified/source` condition) and runs it under each runtime, then across
 * runtimes (a Bun server with a Deno client, and the reverse). A missing runtime is skipped loudly;
 * under CI=true it fails instead.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { expectAllPassed, runnable, RUN_TIMEOUT_MS, useRuntimeBundle } from './runtime-harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const { start, acrossRuntimes } = useRuntimeBundle(
  'grpc-runtimes',
  join(here, 'grpc-runtime-script.ts'),
);

describe('@certified/node/grpc on each runtime', () => {
  it.for(['node', 'deno', 'bun'] as const)(
    '%s: trusted calls answered, stranger refused, untrusted server refused, updateTrust revokes',
    { timeout: RUN_TIMEOUT_MS },
    async (runtime, ctx) => {
      if (!runnable(runtime)) ctx.skip(`${runtime} is not installed`);
      const run = await start(runtime, ['self']).done;
      expectAllPassed(run, 16);
    },
  );
});

describe('@certified/node/grpc across runtimes', () => {
  it.for([
    ['bun', 'deno', 'Ed25519'],
    ['deno', 'bun', 'P-256'],
  ] as const)(
    '%s server, %s client (%s): trusted call answered, stranger refused, untrusted server refused',
    { timeout: RUN_TIMEOUT_MS },
    async ([serverRuntime, clientRuntime, algorithm], ctx) => {
      if (!runnable(serverRuntime, clientRuntime))
        ctx.skip(`${serverRuntime} or ${clientRuntime} is not installed`);
      expectAllPassed(await acrossRuntimes(serverRuntime, clientRuntime, algorithm), 3);
    },
  );
});
