/**
 * Proves createFileStore runs unchanged on Node, Deno and Bun: bundles fs-store-runtime-script.ts once
 * (esbuild, platform node, `@certified/source` so it uses the TypeScript sources) and runs the bundle
 * on each runtime from the repository's node_modules/.bin, then inspects what it left on disk from Node.
 * A missing runtime binary skips with a warning locally and fails when CI=true.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshot, strayInternalFiles } from './fs-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const bin = (name: string) => path.join(repoRoot, 'node_modules', '.bin', name);
const isCI = process.env['CI'] === 'true';
const TIMEOUT_MS = 60_000;

let work: string;
let bundle: string;

beforeAll(async () => {
  work = await nodeFs.mkdtemp(path.join(os.tmpdir(), 'certified-fs-runtimes-'));
  bundle = path.join(work, 'fs-store-script.mjs');
  await esbuild.build({
    entryPoints: [path.join(here, 'fs-store-runtime-script.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    conditions: ['@certified/source'],
    logLevel: 'warning',
  });
}, TIMEOUT_MS);

afterAll(async () => {
  await nodeFs.rm(work, { recursive: true, force: true });
});

interface Report {
  runtime: string;
  checks: { name: string; ok: boolean; detail?: string }[];
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: work, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({
          code,
          stdout,
          stderr: error && code === 1 ? `${stderr}${error.message}` : stderr,
        });
      },
    );
  });
}

const runtimes: {
  name: string;
  command: string;
  args: (dir: string) => string[];
  env: () => Record<string, string>;
}[] = [
  { name: 'node', command: process.execPath, args: (dir) => [bundle, dir], env: () => ({}) },
  {
    name: 'deno',
    command: bin('deno'),
    args: (dir) => ['run', '-A', '--no-config', '--no-lock', bundle, dir],
    env: () => ({ DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(work, 'deno-dir') }),
  },
  {
    name: 'bun',
    command: bin('bun'),
    args: (dir) => ['--no-install', bundle, dir],
    env: () => ({ BUN_INSTALL_CACHE_DIR: path.join(work, 'bun-cache') }),
  },
];

describe('createFileStore on every runtime', () => {
  for (const rt of runtimes) {
    const title = `runs the file-store script on ${rt.name}`;
    if (!existsSync(rt.command)) {
      const why = `${rt.command} is missing (run npm ci)`;
      if (isCI) {
        it(title, () => {
          throw new Error(`${why}; CI=true, so a missing runtime is a failure.`);
        });
      } else {
        console.warn(
          `\n!!! SKIPPING the ${rt.name} file-store run: ${why}. CI=true makes this fail. !!!\n`,
        );
        it.skip(`${title} (SKIPPED: ${why})`, () => undefined);
      }
      continue;
    }

    it(
      title,
      async () => {
        const dir = path.join(work, rt.name);
        await nodeFs.mkdir(dir);
        const { code, stdout, stderr } = await run(rt.command, rt.args(dir), rt.env());
        const line = stdout.trim().split('\n').at(-1) ?? '';
        let report: Report;
        try {
          report = JSON.parse(line) as Report;
        } catch {
          throw new Error(`${rt.name} printed no report (exit ${code}):\n${stdout}\n${stderr}`);
        }
        expect(report.runtime.startsWith(rt.name)).toBe(true);
        expect(report.checks.filter((c) => !c.ok)).toEqual([]);
        expect(report.checks.length).toBe(10);
        const skipped = report.checks.filter((c) => c.detail?.startsWith('skip: '));
        for (const c of skipped) console.warn(`${rt.name}: ${c.name} — ${c.detail}`);
        expect(code, stderr).toBe(0);

        // What the runtime left on disk, seen from Node: contents and exact modes.
        const snap = await snapshot(path.join(dir, 'id'));
        const hex = (s: string) => Buffer.from(s).toString('hex');
        expect(snap).toEqual({
          '.': 'dir 700',
          'CA.crt': `file 644 ${hex('ca cert')}`,
          'id.crt': `file 644 ${hex('new cert')}`,
          'id.key': `file 600 ${hex('new key')}`,
          known_clients: expect.stringMatching(/^dir 7[0-7][0-7]$/) as unknown,
          'known_clients/ada.crt': `file 644 ${hex('ada')}`,
          'known_clients/bob.crt': `file 644 ${hex('bob')}`,
        });
        expect(strayInternalFiles(snap)).toEqual([]);
      },
      TIMEOUT_MS,
    );
  }
});
