import os from 'node:os';
import path from 'node:path';
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
