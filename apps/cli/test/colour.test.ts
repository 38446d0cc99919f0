/**
 * Colour: on a terminal only, never with NO_COLOR (https://no-color.org) or when piped. The real
 * bundle is run under a pseudo-terminal by util-linux `script`, and through a pipe.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_COMMANDS, runnable } from '@certified/testing/runtimes';
import { colourFor } from '../src/cli.js';
import { main } from '../src/main.js';
import { testIo } from './helpers.js';

const ESC = '\x1b[';
// The committed bin: it builds dist/ first when a checkout has none.
const bundle = path.resolve(import.meta.dirname, '../bin/certified.mjs');
const hasScript = spawnSync('script', ['--version']).status === 0;
const isCI = process.env['CI'] === 'true';
if (!hasScript)
  console.warn(
    `SKIPPED colour-on-a-terminal test: util-linux script is missing${isCI ? ' (CI=true: failing instead)' : ''}`,
  );

describe('colour', () => {
  it('colourFor: a terminal, NO_COLOR absent or empty, TERM not dumb', () => {
    expect(colourFor(true, {})).toBe(true);
    expect(colourFor(true, { NO_COLOR: '' })).toBe(true);
    expect(colourFor(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourFor(true, { TERM: 'dumb' })).toBe(false);
    expect(colourFor(false, {})).toBe(false);
    expect(colourFor(undefined, {})).toBe(false);
  });

  it('an error code is red only when stderr may carry colour', async () => {
    const on = testIo({ cwd: process.cwd(), colour: { stdout: false, stderr: true } });
    expect(await main(['frobnicate'], on.io)).toBe(2);
    expect(on.stderr().startsWith(`certified: ${ESC}31mERR_USAGE${ESC}0m: Unknown command`)).toBe(
      true,
    );
    const off = testIo({ cwd: process.cwd() });
    await main(['frobnicate'], off.io);
    expect(off.stderr()).not.toContain(ESC);
  });

  it.skipIf(!hasScript && !isCI)('the bundle on a real terminal, with NO_COLOR, and piped', () => {
    const run = (env: NodeJS.ProcessEnv, tty: boolean): string => {
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(bundle)} frobnicate`;
      const r = tty
        ? spawnSync('script', ['-qec', command, '/dev/null'], { env, encoding: 'utf8' })
        : spawnSync(process.execPath, [bundle, 'frobnicate'], { env, encoding: 'utf8' });
      return `${r.stdout}${r.stderr}`;
    };
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
    delete env['NO_COLOR'];
    expect(run(env, true)).toContain(`${ESC}31mERR_USAGE`);
    expect(run({ ...env, NO_COLOR: '1' }, true)).not.toContain(ESC);
    expect(run(env, false)).not.toContain(ESC);
  });

  // Reading an env variable Deno was not allowed makes it prompt on a terminal and wait: with
  // --allow-read alone, a command on a terminal must neither prompt nor be refused, and still
  // honour NO_COLOR.
  it.skipIf((!hasScript || !runnable('deno')) && !isCI)(
    'Deno with --allow-read only, on a terminal: colour without asking for env access',
    () => {
      const deno = RUNTIME_COMMANDS.deno.bin;
      const command = `${JSON.stringify(deno)} run --allow-read ${JSON.stringify(bundle)} show --config /nonexistent-certified`;
      const run = (env: NodeJS.ProcessEnv): string => {
        const r = spawnSync('script', ['-qec', command, '/dev/null'], {
          env,
          encoding: 'utf8',
          timeout: 30_000,
        });
        return `${r.stdout}${r.stderr}`;
      };
      const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', DENO_NO_UPDATE_CHECK: '1' };
      delete env['NO_COLOR'];
      const coloured = run(env);
      expect(coloured).toContain(`${ESC}31mERR_IDENTITY_NOT_FOUND`);
      expect(coloured).not.toContain('Deno requests');
      expect(run({ ...env, NO_COLOR: '1' })).toMatch(/^certified: ERR_IDENTITY_NOT_FOUND/m);
    },
    60_000,
  );
});
