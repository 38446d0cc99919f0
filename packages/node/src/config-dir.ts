/**
 * @module config-dir — where the identity directory is: `--config`, `$CERTIFIED_CONFIG`,
 * `$VIRTUAL_ENV/etc/certified` (ORNL certified's order), then the user's config directory.
 */
import os from 'node:os';
import path from 'node:path';
// `process` is the global, not an import: on Node 20, importing node:process (directly or through
// env-paths) builds its ES module facade, which reads every property and so opens stdin, stdout and
// stderr and loads `net` — ~8 ms at every CLI start. config-dir.test.ts shows it.

/** Which rule of {@link resolveConfigDir} chose the directory. */
export type ConfigDirSource = 'option' | 'CERTIFIED_CONFIG' | 'VIRTUAL_ENV' | 'user';

/** Inputs of {@link resolveConfigDir}; each defaults to the running process's own. */
export interface ResolveConfigDirOptions {
  /** The `--config` value; wins over everything. */
  readonly config?: string | undefined;
  /** Environment variables; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `process.platform` value deciding the user-directory convention; default `process.platform`. */
  readonly platform?: string;
  /** The home directory; default `os.homedir()`. */
  readonly home?: string;
}

/** What {@link resolveConfigDir} found: an absolute directory path and the rule that chose it. */
export interface ResolveConfigDirResult {
  readonly dir: string;
  readonly source: ConfigDirSource;
}

/**
 * Finds the identity directory, in ORNL certified's order:
 *
 * 1. `options.config` (the CLI's `--config`);
 * 2. `$CERTIFIED_CONFIG`;
 * 3. `$VIRTUAL_ENV/etc/certified`;
 * 4. the user's config directory, as env-paths 4 names it (`envPaths('certified', { suffix: '' }).config`):
 *    `$XDG_CONFIG_HOME/certified`, else `~/.config/certified` (Linux and other Unix);
 *    `~/Library/Preferences/certified` (macOS); `%APPDATA%\certified\Config`, else
 *    `~\AppData\Roaming\certified\Config` (Windows).
 *
 * ORNL certified falls back to `/etc/certified` instead of step 4; a per-user directory suits a
 * per-user identity better. Empty values count as unset (ORNL would read `CERTIFIED_CONFIG=` as the
 * current directory). Relative paths resolve against `process.cwd()`. Nothing is read from disk, so
 * the result is a pure function of the inputs.
 *
 * @param options.config - the `--config` value; default none.
 * @param options.env - environment variables; default `process.env`.
 * @param options.platform - `process.platform` value for step 4; default `process.platform`.
 * @param options.home - home directory for step 4; default `os.homedir()`.
 * @returns the absolute directory and which step chose it.
 * @throws never (the directory need not exist; {@link createFileStore} creates it on first commit).
 * @example
 * const { dir, source } = resolveConfigDir({ config: args.config });
 * const store = createFileStore(dir); // source: 'option' | 'CERTIFIED_CONFIG' | 'VIRTUAL_ENV' | 'user'
 */
export function resolveConfigDir(options: ResolveConfigDirOptions = {}): ResolveConfigDirResult {
  const env = options.env ?? process.env;
  if (nonEmpty(options.config)) return { dir: path.resolve(options.config), source: 'option' };
  const certifiedConfig = env['CERTIFIED_CONFIG'];
  if (nonEmpty(certifiedConfig))
    return { dir: path.resolve(certifiedConfig), source: 'CERTIFIED_CONFIG' };
  const virtualEnv = env['VIRTUAL_ENV'];
  if (nonEmpty(virtualEnv))
    return { dir: path.resolve(virtualEnv, 'etc', 'certified'), source: 'VIRTUAL_ENV' };
  return { dir: userConfigDir(env, options), source: 'user' };
}

// --- internal ---

const APP_NAME = 'certified';

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

/**
 * env-paths 4.0's formulas, applied to the given inputs or the running process's. We do not import
 * env-paths at run time (see the note at the imports); config-dir.test.ts checks that both name the same directory.
 */
function userConfigDir(
  env: Readonly<Record<string, string | undefined>>,
  options: ResolveConfigDirOptions,
): string {
  const platform = options.platform ?? process.platform;
  const home = options.home ?? os.homedir();
  // Another platform's path syntax (tests asking for win32 on Linux) is joined with that platform's
  // rules; only a relative result is resolved, against our cwd.
  const p = platform === 'win32' ? path.win32 : path.posix;
  let dir: string;
  if (platform === 'win32')
    dir = p.join(env['APPDATA'] || p.join(home, 'AppData', 'Roaming'), APP_NAME, 'Config');
  else if (platform === 'darwin') dir = p.join(home, 'Library', 'Preferences', APP_NAME);
  // XDG says to ignore a relative $XDG_CONFIG_HOME; env-paths uses it, and so do we, to agree with it.
  else dir = p.join(env['XDG_CONFIG_HOME'] || p.join(home, '.config'), APP_NAME);
  return p.isAbsolute(dir) ? dir : path.resolve(dir);
}
