import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import envPaths from 'env-paths';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfigDir } from './config-dir.js';

const home = '/home/ada';
const linux = { platform: 'linux', home } as const;

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('resolveConfigDir', () => {
  it('takes the --config option first', () => {
    expect(
      resolveConfigDir({
        config: '/srv/certified',
        env: { CERTIFIED_CONFIG: '/etc/c', VIRTUAL_ENV: '/venv' },
        ...linux,
      }),
    ).toEqual({ dir: '/srv/certified', source: 'option' });
  });

  it('takes $CERTIFIED_CONFIG over $VIRTUAL_ENV', () => {
    expect(
      resolveConfigDir({ env: { CERTIFIED_CONFIG: '/etc/c', VIRTUAL_ENV: '/venv' }, ...linux }),
    ).toEqual({ dir: '/etc/c', source: 'CERTIFIED_CONFIG' });
  });

  it('takes $VIRTUAL_ENV/etc/certified over the user directory', () => {
    expect(
      resolveConfigDir({ env: { VIRTUAL_ENV: '/venv', XDG_CONFIG_HOME: '/xdg' }, ...linux }),
    ).toEqual({ dir: '/venv/etc/certified', source: 'VIRTUAL_ENV' });
  });

  it('treats empty values as unset', () => {
    expect(
      resolveConfigDir({ config: '', env: { CERTIFIED_CONFIG: '', VIRTUAL_ENV: '' }, ...linux }),
    ).toEqual({ dir: '/home/ada/.config/certified', source: 'user' });
  });

  it('resolves relative paths against the current directory', () => {
    expect(resolveConfigDir({ config: 'ids/ada', env: {}, ...linux }).dir).toBe(
      path.resolve('ids/ada'),
    );
    expect(resolveConfigDir({ env: { CERTIFIED_CONFIG: 'c' }, ...linux }).dir).toBe(
      path.resolve('c'),
    );
    expect(resolveConfigDir({ env: { VIRTUAL_ENV: '.venv' }, ...linux }).dir).toBe(
      path.resolve('.venv/etc/certified'),
    );
  });

  describe('user directory', () => {
    it('uses $XDG_CONFIG_HOME/certified on Linux', () => {
      expect(resolveConfigDir({ env: { XDG_CONFIG_HOME: '/xdg' }, ...linux })).toEqual({
        dir: '/xdg/certified',
        source: 'user',
      });
    });

    it('falls back to ~/.config/certified on Linux and other Unix systems', () => {
      expect(resolveConfigDir({ env: {}, ...linux }).dir).toBe('/home/ada/.config/certified');
      expect(resolveConfigDir({ env: {}, platform: 'freebsd', home }).dir).toBe(
        '/home/ada/.config/certified',
      );
    });

    it('uses ~/Library/Preferences/certified on macOS, ignoring XDG', () => {
      expect(
        resolveConfigDir({
          env: { XDG_CONFIG_HOME: '/xdg' },
          platform: 'darwin',
          home: '/Users/ada',
        }).dir,
      ).toBe('/Users/ada/Library/Preferences/certified');
    });

    it('uses %APPDATA%\\certified\\Config on Windows', () => {
      expect(
        resolveConfigDir({
          env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' },
          platform: 'win32',
          home: 'C:\\Users\\ada',
        }).dir,
      ).toBe('C:\\Users\\ada\\AppData\\Roaming\\certified\\Config');
      expect(resolveConfigDir({ env: {}, platform: 'win32', home: 'C:\\Users\\ada' }).dir).toBe(
        'C:\\Users\\ada\\AppData\\Roaming\\certified\\Config',
      );
    });

    it("defaults to the process's environment, platform and home, as env-paths names them", () => {
      vi.stubEnv('CERTIFIED_CONFIG', undefined);
      vi.stubEnv('VIRTUAL_ENV', undefined);
      const expected = path.resolve(envPaths('certified', { suffix: '' }).config);
      expect(resolveConfigDir()).toEqual({ dir: expected, source: 'user' });
      // …and the formulas used for explicit inputs agree with env-paths on this platform.
      expect(
        resolveConfigDir({
          env: { ...process.env },
          platform: process.platform,
          home: os.homedir(),
        }),
      ).toEqual({ dir: expected, source: 'user' });
    });

    it('agrees with env-paths on $XDG_CONFIG_HOME, absolute and relative', () => {
      vi.stubEnv('CERTIFIED_CONFIG', undefined);
      vi.stubEnv('VIRTUAL_ENV', undefined);
      for (const xdg of ['/xdg/config', 'relative/config', '']) {
        vi.stubEnv('XDG_CONFIG_HOME', xdg);
        const expected = path.resolve(envPaths('certified', { suffix: '' }).config);
        expect(resolveConfigDir().dir).toBe(expected);
      }
    });

    it('reads $CERTIFIED_CONFIG and $VIRTUAL_ENV from process.env by default', () => {
      vi.stubEnv('CERTIFIED_CONFIG', undefined);
      vi.stubEnv('VIRTUAL_ENV', '/venv');
      expect(resolveConfigDir()).toEqual({
        dir: path.resolve('/venv/etc/certified'),
        source: 'VIRTUAL_ENV',
      });
      vi.stubEnv('CERTIFIED_CONFIG', '/from/env');
      expect(resolveConfigDir()).toEqual({
        dir: path.resolve('/from/env'),
        source: 'CERTIFIED_CONFIG',
      });
    });
  });
});

// Why config-dir applies env-paths' formulas instead of importing it at run time: on Node 20, any
// import of node:process (env-paths has one) builds that module's facade, which reads every property of
// `process` — opening stdin, stdout and stderr and loading `net` — at every start of the CLI.
describe('what resolving the directory loads', () => {
  const newModules = (args: string[], specifier: string) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          ...args,
          '--input-type=module',
          '-e',
          `const before = new Set(process.moduleLoadList);
           const m = await import(process.argv[1]);
           m.resolveConfigDir ? m.resolveConfigDir() : m.default('certified', { suffix: '' });
           console.log(JSON.stringify(process.moduleLoadList.filter((x) => !before.has(x))));`,
          specifier,
        ],
        {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      ).toString(),
    ) as string[];

  it('env-paths opens the standard streams; resolveConfigDir does not', () => {
    expect(newModules([], 'env-paths')).toContain('NativeModule net');
    const ours = newModules(
      ['--import', 'tsx'],
      fileURLToPath(new URL('./config-dir.ts', import.meta.url)),
    );
    expect(ours).not.toContain('NativeModule net');
    expect(ours).not.toContain('NativeModule process');
  });
});
