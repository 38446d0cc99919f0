/**
 * `certified completion bash|zsh|fish`, exercised by the real shells: the script is loaded and asked
 * to complete partial command lines. zsh and fish are Debian packages (.ci/run installs them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { testIo } from '../../test/helpers.js';

const isCI = process.env['CI'] === 'true';
const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'certified-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function script(shell: string): Promise<string> {
  const t = testIo({ cwd: dir });
  expect(await main(['completion', shell], t.io)).toBe(0);
  const file = path.join(dir, `completion.${shell}`);
  writeFileSync(file, t.stdout());
  return file;
}

for (const shell of ['zsh', 'fish'])
  if (!has(shell))
    console.warn(
      `SKIPPED certified completion ${shell} tests: ${shell} is not installed${isCI ? ' (CI=true: failing instead)' : ''}`,
    );

describe('certified completion', () => {
  it('bash: commands, a command’s flags, message’s flags', async () => {
    const file = await script('bash');
    const ask = (words: string[], fn = '_certified'): string =>
      execFileSync('bash', [
        '-c',
        `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; ${fn}; echo "\${COMPREPLY[*]}"`,
      ])
        .toString()
        .trim();
    expect(ask(['certified', 'ad'])).toBe('add-client add-service add-intro');
    expect(ask(['certified', 'init', '--em'])).toBe('--email');
    expect(ask(['certified', 'show', '--js'])).toBe('--json');
    expect(ask(['message', 'https://notes/', '--req'], '_certified_message')).toBe('--request');
    expect(ask(['certified', 'ca', 're'])).toBe('request revoke');
    expect(ask(['certified', 'ca', 'request', '--sec'])).toBe('--secret-file');
    expect(ask(['certified', 'ca', 'log', '--li'])).toBe('--limit');
  });

  it.skipIf(!has('zsh') && !isCI)('zsh: the same script loads through bashcompinit', async () => {
    const file = await script('zsh');
    const out = execFileSync('zsh', ['-c', `source ${file}; complete -p certified message`]);
    expect(out.toString()).toMatch(/-F _certified certified/);
    expect(out.toString()).toMatch(/-F _certified_message message/);
  });

  it.skipIf(!has('fish') && !isCI)(
    'fish: commands with their summaries, flags per command',
    async () => {
      const file = await script('fish');
      const ask = (line: string): string =>
        execFileSync('fish', ['-c', `source ${file}; complete -C '${line}'`]).toString();
      expect(ask('certified ad')).toMatch(/^add-client\tTrust a client/m);
      expect(ask('certified init --em')).toMatch(/^--email\t/m);
      expect(ask('message --req')).toMatch(/^--request\tHTTP method/m);
      expect(ask('certified ca re')).toMatch(/^request\tGet a certificate/m);
      expect(ask('certified ca request --sec')).toMatch(/^--secret-file\t/m);
      expect(ask('certified ca log --sec')).not.toMatch(/--secret-file/);
    },
  );

  it('refuses another shell with a usage error', async () => {
    const t = testIo({ cwd: dir });
    expect(await main(['completion', 'tcsh'], t.io)).toBe(2);
    expect(t.stderr()).toMatch(/^certified: ERR_USAGE: SHELL must be bash, zsh or fish/);
  });
});
