/**
 * @module @certified/testing/runtimes — finding Node, Deno and Bun for the cross-runtime suites: the
 * command line that runs a file under each, its version (undefined when missing), and whether a case
 * needing it should run — a missing runtime is a loud skip on a developer machine and a failure
 * under `CI=true`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** True under CI, where a missing runtime fails instead of skipping. */
export const isCI: boolean = process.env.CI === 'true';

export type Runtime = 'node' | 'deno' | 'bun';

/** The command line that runs a bundled ES module under each runtime. */
export const RUNTIME_COMMANDS: Readonly<Record<Runtime, { bin: string; args: readonly string[] }>> =
  {
    node: { bin: process.execPath, args: [] },
    deno: { bin: join(repoRoot, 'node_modules/.bin/deno'), args: ['run', '-A', '--no-config'] },
    bun: { bin: join(repoRoot, 'node_modules/.bin/bun'), args: [] },
  };

function versionOf(runtime: Runtime): Promise<string | undefined> {
  const { bin } = RUNTIME_COMMANDS[runtime];
  if (!existsSync(bin)) return Promise.resolve(undefined);
  return new Promise((done) =>
    execFile(bin, ['--version'], { timeout: 20_000 }, (error, stdout) =>
      done(error ? undefined : stdout.trim().split('\n')[0]),
    ),
  );
}

/** `--version` of each runtime, undefined when missing. */
export const versions: Record<Runtime, string | undefined> = Object.fromEntries(
  await Promise.all(
    (Object.keys(RUNTIME_COMMANDS) as Runtime[]).map(async (r) => [r, await versionOf(r)] as const),
  ),
) as Record<Runtime, string | undefined>;

/** Whether to run a case needing these runtimes: yes if present, and always under CI (to fail). */
export const runnable = (...runtimes: Runtime[]): boolean =>
  isCI || runtimes.every((r) => versions[r] !== undefined);

/** Warns loudly about each missing runtime. */
export function warnMissingRuntimes(suite: string): void {
  for (const r of Object.keys(versions) as Runtime[])
    if (!versions[r])
      console.warn(
        `SKIPPED ${suite} on ${r}: ${RUNTIME_COMMANDS[r].bin} is missing or does not run${isCI ? ' (CI=true: failing instead)' : ''}`,
      );
}

/**
 * Bundles `script` (a module exporting `main(argv)`, returning a count of failures or an exit code)
 * into one ES module at `outfile` that every runtime runs as is: platform node, the
 * `@certified/source` condition, and a real `require` for CommonJS dependencies (yaml, grpc-js) that
 * require node builtins.
 */
export async function bundleMain(
  script: string,
  outfile: string,
  exit: 'failures' | 'code' = 'failures',
): Promise<void> {
  const { build } = await import('esbuild');
  await build({
    stdin: {
      contents: [
        `import process from 'node:process';`,
        `import { main } from ${JSON.stringify(script)};`,
        exit === 'failures'
          ? `process.exit((await main(process.argv.slice(2))) ? 1 : 0);`
          : `process.exit(await main(process.argv.slice(2)));`,
      ].join('\n'),
      resolveDir: dirname(script),
      loader: 'ts',
      sourcefile: `${script.replace(/\.ts$/, '')}-entry.ts`,
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    conditions: ['@certified/source'],
    banner: {
      js: "import { createRequire as __certifiedRequire } from 'node:module'; const require = __certifiedRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
