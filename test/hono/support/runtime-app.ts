/**
 * @module test/support/runtime-app — runs the test app (`test/runtime-script.ts`) on each runtime's
 * own HTTP server: finds Node, Deno and Bun (a missing one is a loud skip, and under CI=true a
 * failure), bundles the script once with esbuild (platform node, ESM, `@certified/source`
 * condition), and starts it under a runtime, resolving with its `{ listening }` line.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { ListeningLine } from '../runtime-script.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
export const isCI = process.env.CI === 'true';
export const APP_TIMEOUT_MS = 60_000;

export type Runtime = 'node' | 'deno' | 'bun';

/** Each runtime with the server the app runs on there. */
export const RUNTIMES = [
  ['node', '@hono/node-server'],
  ['deno', 'Deno.serve'],
  ['bun', 'Bun.serve'],
] as const satisfies readonly (readonly [Runtime, string])[];

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

/** `--version` of each runtime, undefined when missing. */
export const versions = Object.fromEntries(
  await Promise.all(
    (Object.keys(commands) as Runtime[]).map(async (r) => [r, await versionOf(r)] as const),
  ),
) as Record<Runtime, string | undefined>;

/** Warns loudly about each missing runtime. */
export function warnMissingRuntimes(suite: string): void {
  for (const r of Object.keys(versions) as Runtime[])
    if (!versions[r])
      console.warn(
        `SKIPPED ${suite} on ${r}: ${commands[r].bin} is missing or does not run${isCI ? ' (CI=true: failing instead)' : ''}`,
      );
}

/** Whether to run a runtime's cases: yes if present, and always under CI (to fail). */
export const runnable = (runtime: Runtime): boolean => isCI || versions[runtime] !== undefined;

/** Bundles `test/runtime-script.ts` with an entry that runs its `main` into `outfile`. */
export async function bundleApp(outfile: string): Promise<void> {
  const testDir = resolve(here, '..');
  const script = join(testDir, 'runtime-script.ts');
  await esbuild.build({
    stdin: {
      contents: [
        `import process from 'node:process';`,
        `import { main } from ${JSON.stringify(script)};`,
        `process.exit(await main(process.argv.slice(2)));`,
      ].join('\n'),
      resolveDir: testDir,
      loader: 'ts',
      sourcefile: 'runtime-entry.ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    conditions: ['@certified/source'],
    // yaml (through @certified/core's identity files) is CommonJS under the node condition and
    // requires node builtins, which an ESM bundle can only do through a real require.
    banner: {
      js: "import { createRequire as __certifiedRequire } from 'node:module'; const require = __certifiedRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}

/** A running app. */
export interface RunningApp extends ListeningLine {
  /** Kills it. */
  stop(): void;
}

/** Starts the bundle under `runtime` with `config`; resolves once it listens. */
export function startApp(runtime: Runtime, bundle: string, config: string): Promise<RunningApp> {
  if (!versions[runtime]) throw new Error(`${runtime} is not available (${commands[runtime].bin})`);
  const { bin, args } = commands[runtime];
  const child: ChildProcess = spawn(bin, [...args, bundle, config], {
    cwd: dirname(bundle),
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = (): void => void child.kill('SIGKILL');
  // A test run that dies must not leave a server behind.
  process.once('exit', stop);
  child.once('close', () => process.off('exit', stop));
  let output = '';
  return new Promise((resolveStart, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`${runtime} server ${why}\n${output}`));
    };
    const timer = setTimeout(
      () => fail(`did not listen within ${APP_TIMEOUT_MS} ms`),
      APP_TIMEOUT_MS,
    );
    child.on('error', (e) => fail(`did not start: ${e.message}`));
    child.on('close', (code) => fail(`exited with ${code}`));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const line = output.split('\n').find((l) => l.startsWith('{"listening"'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolveStart({ ...(JSON.parse(line) as ListeningLine), stop });
    });
  });
}
