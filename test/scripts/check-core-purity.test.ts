/**
 * @module test/scripts/check-core-purity.test — the purity check (`npm run purity`) fails on a
 * builtin import or a runtime global, leaves out what `--skip` names, and still fails when the
 * main entry reaches a skipped adapter (its neutral bundle does).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/check-core-purity.mjs', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A source directory with these files (path → contents). */
function sources(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'purity-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function check(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const pure = 'export const answer = (x: number): number => x + 1;\n';
const adapter = "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n";

describe('scripts/check-core-purity.mjs', () => {
  it('passes pure code and fails a builtin import or a runtime global, naming the line', () => {
    expect(check(sources({ 'index.ts': pure })).status).toBe(0);
    const dirty = check(
      sources({
        'index.ts': pure,
        'adapter/fs.ts': adapter,
        'env.ts': 'export const e = process.env;\n',
      }),
    );
    expect(dirty.status).toBe(1);
    expect(dirty.out).toMatch(/adapter\/fs\.ts:1 {2}imports Node builtin 'node:fs'/);
    expect(dirty.out).toMatch(/env\.ts:1 {2}uses global 'process'/);
  });

  it('leaves out what --skip names, unless the main entry reaches it', () => {
    const apart = sources({ 'index.ts': pure, 'adapter/fs.ts': adapter });
    const skipped = check(apart, '--skip', 'adapter');
    expect(skipped.status).toBe(0);
    expect(skipped.out).toMatch(/adapter skipped/);
    const reached = sources({
      'index.ts': "export { read } from './adapter/fs.js';\n",
      'adapter/fs.ts': adapter,
    });
    const bundled = check(reached, '--skip', 'adapter');
    expect(bundled.status).toBe(1);
    expect(bundled.out).toMatch(/node:fs/);
  });

  it('refuses --skip without a path (exit 2)', () => {
    const r = check(sources({ 'index.ts': pure }), '--skip');
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/--skip needs a path/);
  });
});
