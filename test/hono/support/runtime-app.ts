/**
 * @module test/support/runtime-app — runs the test app (`test/runtime-script.ts`) on each runtime's
 * own HTTP server: finds Node, Deno and Bun (a missing one is a loud skip, and under CI=true a
 * failure), bundles the script once with esbuild (platform node, ESM, `@certified/source`
 * condition), and starts it under a runtime, resolving with its `{ listening }` line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ListeningLine } from '../runtime-script.js';

const here = dirname(fileURLToPath(import.meta.url));
import {
  bundleMain,
  isCI,
  RUNTIME_COMMANDS as commands,
  runnable,
  versions,
  warnMissingRuntimes,
  type Runtime,
} from '@certified/testing/runtimes';
export { isCI, runnable, versions, warnMissingRuntimes, type Runtime };
export const APP_TIMEOUT_MS = 60_000;

/** Each runtime with the server the app runs on there. */
export const RUNTIMES = [
  ['node', '@hono/node-server'],
  ['deno', 'Deno.serve'],
  ['bun', 'Bun.serve'],
] as const satisfies readonly (readonly [Runtime, string])[];

/** Bundles `test/runtime-script.ts` with an entry that runs its `main` into `outfile`. */
export async function bundleApp(outfile: string): Promise<void> {
  const testDir = resolve(here, '..');
  const script = join(testDir, 'runtime-script.ts');
  await bundleMain(script, outfile, 'code');
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
