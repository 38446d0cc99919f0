#!/usr/bin/env node
/**
 * @module test/runtime/run-all — bundles the cross-runtime suite once (esbuild, platform neutral,
 * `@certified/source` condition) and runs that bundle on Node, Deno, Bun, headless Chromium and
 * workerd, in parallel, each with its own time limit. Output is printed per runtime in a fixed
 * order, then one closing `N passed, N failed[, N skipped]` line.
 *
 * Exit 1 if any case failed or a runtime could not run. A runtime whose binary is missing is
 * reported as `SKIPPED <runtime>: <why>`; with CI=true that counts as a failure.
 *
 * Usage: node test/runtime/run-all.mjs [runtime…]   (default: all; e.g. `… node deno`)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { CHROMIUM_ARGS } from '@certified/testing/chromium';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const buildDir = join(here, '.build');
const bundlePath = join(buildDir, 'suite.mjs');
const bin = (name) => join(repoRoot, 'node_modules', '.bin', name);
const isCI = process.env.CI === 'true' || process.env.CI === '1';
const RUNTIME_TIMEOUT_MS = 30_000;
const MARKER = '@@certified-runtime-report ';

// --- drivers (tiny files next to the bundle; they print lines and a final JSON marker) ---

const cliDriver = `import { run } from './suite.mjs';
const report = await run((line) => console.log(line));
console.log(${JSON.stringify(MARKER)} + JSON.stringify(report));
`;

const browserPage = `<!doctype html><meta charset="utf-8"><title>certified runtime suite</title>`;

/** @typedef {{ passed: number, failed: number, skipped: number, lines: string[], userAgent: string }} Report */
/** @typedef {{ status: 'ran', report: Report } | { status: 'skipped', why: string } | { status: 'error', why: string, output?: string }} Outcome */

class Missing extends Error {}

/**
 * Runs a command, collecting stdout/stderr; kills it on timeout.
 * @returns {Promise<{ code: number | null, signal: string | null, stdout: string, stderr: string }>}
 */
function exec(command, args, { timeoutMs = RUNTIME_TIMEOUT_MS, env = {}, cwd = buildDir } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new Missing(`${command} not found`) : error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Parses the marker line a CLI driver prints; anything else means the runtime broke. */
function reportFrom({ code, signal, stdout, stderr }) {
  const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
  if (!line) {
    throw new Error(`exited ${signal ?? code} without a report\n${stdout}${stderr}`.trimEnd());
  }
  return JSON.parse(line.slice(MARKER.length));
}

async function runCli(name, command, args, env) {
  if (!existsSync(command)) throw new Missing(`${command} is missing (run npm ci)`);
  const driver = join(buildDir, `driver-${name}.mjs`);
  await writeFile(driver, cliDriver);
  return reportFrom(await exec(command, [...args, driver], { env }));
}

/** Serves files from .build on 127.0.0.1 with an ephemeral port. */
async function serveBuildDir(extraRoutes = {}) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path in extraRoutes) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(extraRoutes[path]);
      return;
    }
    if (path === '/suite.mjs') {
      res
        .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
        .end(await readFile(bundlePath));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { server, origin: `http://127.0.0.1:${port}` };
}

const runtimes = {
  async node() {
    return runCli('node', process.execPath, []);
  },

  async deno() {
    // No permissions granted at all: the suite needs none. --no-prompt so a surprise permission
    // request fails instead of waiting on stdin.
    return runCli(
      'deno',
      bin('deno'),
      ['run', '--no-prompt', '--no-remote', '--no-npm', '--no-config', '--no-lock'],
      {
        DENO_NO_UPDATE_CHECK: '1',
        DENO_DIR: join(buildDir, 'deno-dir'),
        NO_COLOR: '1',
      },
    );
  },

  async bun() {
    return runCli('bun', bin('bun'), ['--no-install', 'run'], {
      BUN_INSTALL_CACHE_DIR: join(buildDir, 'bun-cache'),
      NO_COLOR: '1',
    });
  },

  async chromium() {
    const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
    if (!existsSync(executablePath))
      throw new Missing(`${executablePath} not found (apt-get install chromium)`);
    let playwright;
    try {
      playwright = await import('playwright-core');
    } catch {
      throw new Missing('playwright-core is not installed (run npm ci)');
    }
    const { server, origin } = await serveBuildDir({ '/': browserPage });
    const browser = await playwright.chromium.launch({
      executablePath,
      headless: true,
      timeout: RUNTIME_TIMEOUT_MS,
      args: ['--headless', ...CHROMIUM_ARGS],
    });
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(RUNTIME_TIMEOUT_MS);
      const pageErrors = [];
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.goto(`${origin}/`);
      // 127.0.0.1 is a secure context, so crypto.subtle is available to the page.
      const report = await page.evaluate(async (url) => {
        const mod = await import(url);
        return mod.run();
      }, `${origin}/suite.mjs`);
      if (pageErrors.length > 0) report.lines.push(...pageErrors.map((e) => `page error: ${e}`));
      return report;
    } finally {
      await browser.close().catch(() => {});
      server.close();
    }
  },

  async workerd() {
    const command = bin('workerd');
    if (!existsSync(command)) throw new Missing(`${command} is missing (run npm ci)`);
    const configPath = join(buildDir, 'workerd.capnp');
    await writeFile(
      configPath,
      `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "suite", worker = .suiteWorker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "suite")],
);

const suiteWorker :Workerd.Worker = (
  modules = [(name = "suite.mjs", esModule = embed "suite.mjs")],
  compatibilityDate = "2025-09-01",
);
`,
    );
    // --control-fd: workerd writes {"event":"listen","socket":"http","port":N} once bound,
    // which is how we learn the ephemeral port (the same mechanism miniflare uses).
    const child = spawn(command, ['serve', configPath, '--control-fd=3'], {
      cwd: buildDir,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise((ok) => child.on('close', (code, signal) => ok(signal ?? code)));
    try {
      const port = await new Promise((ok, fail) => {
        let control = '';
        const timer = setTimeout(
          () => fail(new Error(`workerd did not start in time\n${output}`)),
          RUNTIME_TIMEOUT_MS,
        );
        child.on('error', (error) => {
          clearTimeout(timer);
          fail(error.code === 'ENOENT' ? new Missing(`${command} not found`) : error);
        });
        exited.then((how) => {
          clearTimeout(timer);
          fail(new Error(`workerd exited (${how}) before listening\n${output}`.trimEnd()));
        });
        child.stdio[3].on('data', (d) => {
          control += d;
          for (const line of control.split('\n')) {
            try {
              const event = JSON.parse(line);
              if (event.event === 'listen' && (event.socket ?? event.socketName) === 'http') {
                clearTimeout(timer);
                ok(event.port);
              }
            } catch {
              // partial line; wait for more
            }
          }
        });
      });
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        signal: AbortSignal.timeout(RUNTIME_TIMEOUT_MS),
      });
      if (!response.ok)
        throw new Error(`worker answered ${response.status}\n${await response.text()}\n${output}`);
      return await response.json();
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  },
};

/** @returns {Promise<Outcome>} */
async function outcome(name) {
  try {
    return { status: 'ran', report: await runtimes[name]() };
  } catch (error) {
    if (error instanceof Missing) return { status: 'skipped', why: error.message };
    return { status: 'error', why: error instanceof Error ? error.message : String(error) };
  }
}

// --- main ---

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in runtimes));
if (unknown.length > 0) {
  console.error(
    `unknown runtime(s): ${unknown.join(', ')} — choose from ${Object.keys(runtimes).join(', ')}`,
  );
  process.exit(2);
}
const selected = requested.length > 0 ? requested : Object.keys(runtimes);

const started = performance.now();
await rm(buildDir, { recursive: true, force: true });
await mkdir(buildDir, { recursive: true });
try {
  await esbuild.build({
    entryPoints: [join(here, 'entry.ts')],
    outfile: bundlePath,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['@certified/source'],
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  });
} catch (error) {
  // esbuild already carries file:line for each problem; no stack trace needed.
  console.log('=== bundle');
  for (const e of error.errors ?? [{ text: String(error) }]) {
    const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
    console.log(`FAILED bundle: ${where}${e.text}`);
  }
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// Run in parallel (each is mostly waiting on a child process), print in a stable order.
const outcomes = await Promise.all(selected.map(async (name) => [name, await outcome(name)]));

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
const caseCount = outcomes.find(([, o]) => o.status === 'ran')?.[1].report.lines.length - 1 || 0;
for (const [name, result] of outcomes) {
  if (result.status === 'ran') {
    const { report } = result;
    console.log(`\n=== ${name} — ${report.userAgent}`);
    for (const line of report.lines) console.log(line);
    passed += report.passed;
    failed += report.failed;
    skipped += report.skipped;
    if (report.failed > 0) problems.push(`${name}: ${report.failed} case(s) failed`);
  } else if (result.status === 'skipped') {
    console.log(`\n=== ${name}`);
    if (isCI) {
      console.log(`FAILED ${name}: ${result.why} (CI=true: every runtime must run)`);
      problems.push(`${name}: not available in CI — ${result.why}`);
      failed += caseCount;
    } else {
      console.log(`\n!!!!!!!!!! SKIPPED ${name}: ${result.why} !!!!!!!!!!\n`);
      skipped += caseCount;
    }
  } else {
    console.log(`\n=== ${name}`);
    console.log(`FAILED ${name}: runtime error\n${result.why}`);
    problems.push(`${name}: runtime error`);
    failed += caseCount || 1;
  }
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`\n=== all runtimes (${selected.join(', ')}) in ${seconds} s`);
for (const problem of problems) console.log(`  ${problem}`);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exitCode = problems.length > 0 ? 1 : 0;
