/**
 * @module @certified/testing/postgres — a throwaway PostgreSQL cluster for tests: `initdb` in a temp
 * dir, `pg_ctl start` on 127.0.0.1 at a free port (no Unix socket), `stop` removes it all. As root
 * (CI), the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
 * When the binaries are missing it returns undefined after saying so, unless `CI=true`: then it throws.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.js';

const run = promisify(execFile);

/** A running cluster. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** A URL for another database on the same cluster (created on first call). */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** Where Debian puts the newest installed PostgreSQL's binaries, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

/**
 * Starts a cluster, or returns undefined (having warned) when PostgreSQL is not installed outside CI.
 *
 * @throws Error when PostgreSQL is missing under `CI=true`, or fails to start.
 */
export async function startPostgres(): Promise<TestPostgres | undefined> {
  const bin = postgresBinDir();
  if (!bin) {
    const msg = 'PostgreSQL is not installed (apt-get install postgresql): skipping its tests';
    if (process.env['CI'] === 'true') throw new Error(`${msg} — not allowed under CI=true`);
    console.warn(`\n*** ${msg} ***\n`);
    return undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), 'certified-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout), Number(gid));
    await chmod(dir, 0o700);
  }
  const exec = (cmd: string, args: string[]) => run(...as(join(bin, cmd), args));
  await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories='' -c fsync=off -c max_connections=100`;
  await exec('pg_ctl', ['-D', data, '-o', opts, '-l', join(data, 'log'), '-w', 'start']);
  const base = `postgres://postgres@127.0.0.1:${port}`;
  const created = new Set<string>();
  let stopped: Promise<void> | undefined;
  return {
    url: `${base}/postgres`,
    async database(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new TypeError(`bad database name ${name}`);
      if (!created.has(name)) {
        await exec('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name]);
        created.add(name);
      }
      return `${base}/${name}`;
    },
    stop() {
      stopped ??= (async () => {
        await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
