/**
 * @module test/grpc-runtimes.test — `@certified/node/grpc` (serveGrpc + createGrpcChannelCredentials
 * over `@grpc/grpc-js`) on Node, Deno and Bun: bundles grpc-runtime-script.ts once with esbuild
 * (platform node, ESM, `@certified/source` condition) and runs it under each runtime, then across
 * runtimes (a Bun server with a Deno client, and the reverse). A missing runtime is skipped loudly;
 * under CI=true it fails instead.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const isCI = process.env.CI === 'true';
const RUN_TIMEOUT_MS = 60_000;

type Runtime = 'node' | 'deno' | 'bun';

/** The command line that runs a bundle under each runtime. */
const commands: Record<Runtime, { bin: string; args: readonly string[] }> = {
  node: { bin: process.execPath, args: [] },
  deno: { bin: join(repoRoot, 'node_modules/.bin/deno'), args: ['run', '-A', '--no-config'] },
  bun: { bin: join(repoRoot, 'node_modules/.bin/bun'), args: [] },
};

function versionOf(runtime: Runtime): Promise<string | undefined> {
  const { bin } = commands[runtime];
  if (!existsSync(bin)) return Promise.resolve(undefined);
  return new Promise((done) =>
    execFile(bin, ['--version'], { timeout: 20_000 }, (error, stdout) =>
      done(error ? undefined : stdout.trim().split('\n')[0]),
    ),
  );
}

const versions = Object.fromEntries(
  await Promise.all(
    (Object.keys(commands) as Runtime[]).map(async (r) => [r, await versionOf(r)] as const),
  ),
) as Record<Runtime, string | undefined>;
for (const r of Object.keys(versions) as Runtime[])
  if (!versions[r])
    console.warn(
      `SKIPPED grpc-runtimes on ${r}: ${commands[r].bin} is missing or does not run${isCI ? ' (CI=true: failing instead)' : ''}`,
    );

/** Whether to run a case needing these runtimes: yes if present, and always under CI (to fail). */
const runnable = (...runtimes: Runtime[]): boolean =>
  isCI || runtimes.every((r) => versions[r] !== undefined);

interface Line {
  check?: string;
  ok?: boolean;
  detail?: unknown;
  done?: boolean;
  failed?: number;
  listening?: string;
}

interface Run {
  code: number | null;
  lines: Line[];
  output: string;
}

let dir: string;
let bundle: string;
const children = new Set<ChildProcess>();

function start(
  runtime: Runtime,
  args: readonly string[],
): { child: ChildProcess; done: Promise<Run> } {
  if (!versions[runtime]) throw new Error(`${runtime} is not available (${commands[runtime].bin})`);
  const { bin, args: pre } = commands[runtime];
  const child = spawn(bin, [...pre, bundle, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<Run>((resolveRun, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${runtime} ${args.join(' ')} timed out\n${output}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      const lines = output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Line);
      resolveRun({ code, lines, output });
    });
  });
  return { child, done };
}

/** Asserts every check in a run passed and the run completed, showing the output otherwise. */
function expectAllPassed(run: Run, atLeast: number): void {
  const checks = run.lines.filter((l) => l.check !== undefined);
  const failed = checks.filter((l) => !l.ok);
  expect(failed, run.output).toEqual([]);
  expect(checks.length, run.output).toBeGreaterThanOrEqual(atLeast);
  expect(run.lines.at(-1), run.output).toEqual({ done: true, failed: 0 });
  expect(run.code, run.output).toBe(0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'certified-grpc-runtimes-'));
  bundle = join(dir, 'grpc-runtime.mjs');
  const script = join(here, 'grpc-runtime-script.ts');
  await esbuild.build({
    stdin: {
      contents: [
        `import process from 'node:process';`,
        `import { main } from ${JSON.stringify(script)};`,
        `const failed = await main(process.argv.slice(2));`,
        `process.exit(failed ? 1 : 0);`,
      ].join('\n'),
      resolveDir: here,
      loader: 'ts',
      sourcefile: 'grpc-runtime-entry.ts',
    },
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    conditions: ['@certified/source'],
    // @grpc/grpc-js (and yaml, through @certified/core) is CommonJS and requires node builtins
    // (node:http2, node:tls, …), which an ESM bundle can only do through a real require.
    banner: {
      js: "import { createRequire as __certifiedRequire } from 'node:module'; const require = __certifiedRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}, RUN_TIMEOUT_MS);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

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
      const wire = join(dir, `wire-${serverRuntime}-${clientRuntime}.json`);
      const server = start(serverRuntime, ['server', wire, algorithm]);
      try {
        // The server writes the file once it listens; it exits only if it fails to start.
        const exited = server.done.then((r) => {
          throw new Error(`${serverRuntime} server exited early\n${r.output}`);
        });
        exited.catch(() => undefined);
        // Written to a temporary name and renamed, so it is complete once it exists.
        for (let waited = 0; !existsSync(wire); waited += 50) {
          if (waited > 30_000) throw new Error(`${serverRuntime} server did not start`);
          await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
        }
        const run = await start(clientRuntime, ['client', wire]).done;
        expectAllPassed(run, 3);
      } finally {
        server.child.kill('SIGKILL');
        await server.done.catch(() => undefined);
      }
    },
  );
});
