/**
 * @module test/runtime-harness — what the cross-runtime suites share: finding Node, Deno and Bun
 * (skipping a missing one loudly, failing under CI=true), bundling a script once with esbuild
 * (platform node, ESM, `@certified/source` condition) and running it under a runtime, whose JSON
 * lines (`{check, ok}` … `{done, failed}`) the test then asserts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

export { isCI, runnable, versions, type Runtime } from '@certified/testing/runtimes';
import {
  bundleMain,
  isCI,
  RUNTIME_COMMANDS as commands,
  versions,
  type Runtime,
} from '@certified/testing/runtimes';
export const RUN_TIMEOUT_MS = 60_000;

export interface Line {
  check?: string;
  ok?: boolean;
  detail?: unknown;
  done?: boolean;
  failed?: number;
  listening?: string;
}

export interface Run {
  code: number | null;
  lines: Line[];
  output: string;
}

/** Asserts every check in a run passed and the run completed, showing the output otherwise. */
export function expectAllPassed(run: Run, atLeast: number): void {
  const checks = run.lines.filter((l) => l.check !== undefined);
  const failed = checks.filter((l) => !l.ok);
  expect(failed, run.output).toEqual([]);
  expect(checks.length, run.output).toBeGreaterThanOrEqual(atLeast);
  expect(run.lines.at(-1), run.output).toEqual({ done: true, failed: 0 });
  expect(run.code, run.output).toBe(0);
}

/**
 * Registers beforeAll/afterAll that bundle `script` (which exports `main(argv) => failed count`) and
 * clean up; returns `start(runtime, args)` to run the bundle. `name` labels temp files and skips.
 */
export function useRuntimeBundle(
  name: string,
  script: string,
): {
  start: (runtime: Runtime, args: readonly string[]) => { child: ChildProcess; done: Promise<Run> };
  /** A server under one runtime, its client under another (see the function's own comment). */
  acrossRuntimes: (
    serverRuntime: Runtime,
    clientRuntime: Runtime,
    algorithm: string,
  ) => Promise<Run>;
} {
  for (const r of Object.keys(versions) as Runtime[])
    if (!versions[r])
      console.warn(
        `SKIPPED ${name} on ${r}: ${commands[r].bin} is missing or does not run${isCI ? ' (CI=true: failing instead)' : ''}`,
      );
  let dir: string;
  let bundle: string;
  const children = new Set<ChildProcess>();

  function start(
    runtime: Runtime,
    args: readonly string[],
  ): { child: ChildProcess; done: Promise<Run> } {
    if (!versions[runtime])
      throw new Error(`${runtime} is not available (${commands[runtime].bin})`);
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `certified-${name}-`));
    bundle = join(dir, `${name}.mjs`);
    await bundleMain(script, bundle);
  }, RUN_TIMEOUT_MS);

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs `server <wire> <algorithm>` under one runtime and, once it has written `wire` (where it
   * listens), `client <wire>` under another; resolves with the client's run. The server is killed
   * after; an exit before it listens fails the call with its output.
   */
  async function acrossRuntimes(
    serverRuntime: Runtime,
    clientRuntime: Runtime,
    algorithm: string,
  ): Promise<Run> {
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
      return await start(clientRuntime, ['client', wire]).done;
    } finally {
      server.child.kill('SIGKILL');
      await server.done.catch(() => undefined);
    }
  }

  return { start, acrossRuntimes };
}
