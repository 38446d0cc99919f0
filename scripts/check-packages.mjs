#!/usr/bin/env node
/**
 * @module check-packages — every public package is publishable as users will install it: `publint`
 * (package.json fields against the packed files) and `@arethetypeswrong/cli` (types resolve for every
 * export under node16 ESM and bundlers). Run after `turbo run build` (both pack `dist/`).
 *
 * The packages are ESM only by design (Node ≥ 20, Deno, Bun, browsers, workerd), so attw runs with
 * `--profile esm-only`: CommonJS `require` and node10 resolution are out of scope, not failures.
 * The CLI ships bins, not a library: it gets publint only.
 *
 * Usage: node scripts/check-packages.mjs    Exit codes: 0 all pass, 1 a check failed.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const bin = (name) => join(root, 'node_modules/.bin', name);

const libraries = [
  'packages/core',
  'packages/identity',
  'packages/node',
  'packages/hono',
  'packages/access-log',
  'packages/ca',
  'packages/web',
];
const apps = ['apps/cli'];

let failed = 0;
async function check(label, file, args, cwd) {
  try {
    await run(file, args, { cwd, maxBuffer: 16 << 20 });
    console.log(`ok   ${label}`);
  } catch (e) {
    failed++;
    console.error(`FAIL ${label}\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

for (const dir of [...libraries, ...apps]) {
  const pkg = JSON.parse(await readFile(join(root, dir, 'package.json'), 'utf8'));
  if (pkg.private) throw new Error(`${dir} is private: it should not be in the public list`);
  await check(`publint ${pkg.name}`, bin('publint'), ['--strict'], join(root, dir));
  if (libraries.includes(dir))
    await check(
      `attw ${pkg.name}`,
      bin('attw'),
      ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii'],
      join(root, dir),
    );
}
if (failed) {
  console.error(`check-packages: ${failed} check(s) failed`);
  process.exit(1);
}
console.log('check-packages: every public package passes publint and attw');
