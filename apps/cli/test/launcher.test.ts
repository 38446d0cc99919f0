/**
 * The committed bins (bin/certified.mjs, bin/message.mjs): `npm ci` in a checkout links them before
 * anything is built, so a fresh checkout's first `npx certified` must build dist/ itself. Tested on a
 * copy of the package inside the repository (so node_modules resolve as in a checkout) with no dist/.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const cliDir = path.resolve(import.meta.dirname, '..');
const repoRoot = path.resolve(cliDir, '../..');

function run(
  file: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(file, args, { cwd, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe('the certified and message bins', () => {
  const copy = mkdtempSync(path.join(cliDir, '.launcher-test-'));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));
  for (const part of ['bin', 'src', 'build.mjs', 'package.json'])
    cpSync(path.join(cliDir, part), path.join(copy, part), { recursive: true });

  it('build dist/ on the first run in a checkout, then run it', async () => {
    expect(existsSync(path.join(copy, 'dist'))).toBe(false);
    const first = await run(path.join(copy, 'bin/certified.mjs'), ['--version'], copy);
    expect(first.stderr).toMatch(/^certified: building the command-line bundle/);
    expect(first.stdout).toMatch(/^certified \d+\.\d+\.\d+ \(Node /);
    expect(first.code).toBe(0);
    const again = await run(path.join(copy, 'bin/message.mjs'), ['--help'], copy);
    expect(again.stderr).toBe('');
    expect(again.stdout).toMatch(/^Usage: message URL/m);
  }, 120_000);

  it('are what npx runs from the repository root', async () => {
    const r = await run('npx', ['--no-install', 'certified', '--help'], repoRoot);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Usage: certified /m);
  }, 60_000);
});
