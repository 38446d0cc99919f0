/**
 * The CLI's Deno Io keeps identity directories through Deno's own APIs (runtime/deno.ts's denoFs), not
 * node:fs. The same store operations run on Node (node:fs) and on Deno (denoFs) must answer alike:
 * contents, modes, all-or-nothing commits and the StoreError codes.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundleMain,
  RUNTIME_COMMANDS,
  runnable,
  warnMissingRuntimes,
} from '@certified/testing/runtimes';
import { execFileSync } from 'node:child_process';

const work = mkdtempSync(path.join(tmpdir(), 'certified-deno-store-'));
const bundle = path.join(work, 'store-script.mjs');
warnMissingRuntimes('the Deno file store');

beforeAll(async () => {
  await bundleMain(path.resolve(import.meta.dirname, 'store-script.ts'), bundle, 'code');
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runOn(runtime: 'node' | 'deno'): { dir: string; out: Record<string, unknown> } {
  const { bin, args } = RUNTIME_COMMANDS[runtime];
  const dir = path.join(work, runtime);
  const stdout = execFileSync(bin, [...args, bundle, dir], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    timeout: 60_000,
  });
  return { dir, out: JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown> };
}

describe.skipIf(!runnable('deno'))('the file store on Deno (denoFs)', () => {
  it('answers as node:fs does: contents, modes, all-or-nothing commits, error codes', () => {
    const node = runOn('node');
    const deno = runOn('deno');
    expect(deno.out).toEqual(node.out);
    expect(deno.out).toEqual({
      commit: null,
      read: 'secret',
      readMissing: null,
      stat: { kind: 'file', mode: 0o600 },
      statDir: { kind: 'directory', mode: 0o777 & ~process.umask() },
      list: ['ada.crt'],
      exists: { error: 'ERR_STORE_EXISTS' },
      afterExists: ['ada.crt'],
      notDirectory: { error: 'ERR_STORE_NOT_DIRECTORY' },
      overwrite: null,
      readAfterOverwrite: 'new',
      remove: null,
      afterRemove: null,
      listRoot: ['id.key'],
    });
    // The directory itself is private, and the key never wider than asked.
    expect(statSync(deno.dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(deno.dir, 'id.key')).mode & 0o777).toBe(0o600);
  }, 120_000);
});
