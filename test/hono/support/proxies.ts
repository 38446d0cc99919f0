/**
 * @module test/support/proxies — real reverse proxies for tests: finds nginx and HAProxy, starts
 * one in the foreground on a loopback port with a config written into a temp directory (pid file,
 * logs and temp files inside it too), waits until it accepts connections, and stops it. A missing
 * binary is a loud skip, and under CI=true a failure. Node builtins only, so it can move as is.
 *
 * @example
 * if (!proxyBinary('nginx', 'my suite').runnable) return; // warned: SKIPPED my suite with nginx
 * const port = await freeLoopbackPort();
 * const proxy = await startProxy('nginx', {
 *   dir, // a temp directory of yours
 *   listen: { host: '127.0.0.1', port },
 *   sites: `server { listen 127.0.0.1:${port}; location / { proxy_pass http://127.0.0.1:3000; } }`,
 * });
 * await proxy.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { connect, createServer, isIPv4, isIPv6 } from 'node:net';
import { delimiter, join } from 'node:path';

export type ProxyKind = 'nginx' | 'haproxy';

export const isCI = process.env.CI === 'true';

/** A proxy's binary, if installed. */
export interface ProxyBinary {
  readonly kind: ProxyKind;
  /** Absolute path, or undefined when not installed. */
  readonly path: string | undefined;
  /** First line of `-v`, e.g. `nginx version: nginx/1.22.1`. */
  readonly version: string | undefined;
  /** Whether tests needing it should run: when installed, and always under CI=true (to fail). */
  readonly runnable: boolean;
}

/** Options for {@link startProxy}. */
export interface StartProxyOptions {
  /** A directory of the caller's (which removes it): config, pid file, logs and temp files go here. */
  readonly dir: string;
  /**
   * nginx: the `server { … }` blocks of the `http { }` context. HAProxy: `frontend`/`backend`
   * sections. The global settings around them are this module's.
   */
  readonly sites: string;
  /** The loopback address and port `sites` listens on, waited for before resolving. */
  readonly listen: { readonly host: string; readonly port: number };
  /** How long to wait for it to listen; default 15 s. */
  readonly timeoutMs?: number;
}

/** A running proxy. */
export interface RunningProxy {
  readonly kind: ProxyKind;
  readonly version: string;
  readonly configFile: string;
  /** What it printed so far (startup errors, warnings). */
  output(): string;
  /** Stops it and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Finds `kind`: the path in `NGINX_BIN` / `HAPROXY_BIN` when set, else on PATH or in the sbin
 * directories Debian installs it to (not on a user's PATH). Warns loudly when it is missing:
 * `SKIPPED <suite> with <kind>`, or that CI=true makes it a failure.
 */
export function proxyBinary(kind: ProxyKind, suite: string): ProxyBinary {
  const { path, version, why } = locate(kind);
  if (!version)
    console.warn(
      `SKIPPED ${suite} with ${kind}: ${why}${isCI ? ' (CI=true: failing instead)' : ''}`,
    );
  return { kind, path, version, runnable: isCI || !!version };
}

/** A TCP port that was free on `host` a moment ago (the OS picks it). */
export function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  assertLoopback(host);
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Writes the config into `dir` and starts the proxy in the foreground (nginx
 * `-p dir -c conf -g 'daemon off;'`, HAProxy `-f conf -db`); resolves once `listen` accepts
 * connections.
 *
 * @throws Error when the binary is missing, exits early (its output is in the message), or does
 *   not listen in time; RangeError for a `listen.host` that is not loopback.
 */
export async function startProxy(
  kind: ProxyKind,
  options: StartProxyOptions,
): Promise<RunningProxy> {
  const { dir, sites, listen, timeoutMs = 15_000 } = options;
  assertLoopback(listen.host);
  const binary = locate(kind);
  if (!binary.path || !binary.version)
    throw new Error(`${kind} cannot be run: ${binary.why} (apt-get install ${kind})`);
  const configFile = join(dir, `${kind}.conf`);
  writeFileSync(configFile, kind === 'nginx' ? nginxConfig(dir, sites) : haproxyConfig(sites));
  const args =
    kind === 'nginx'
      ? ['-p', dir, '-c', configFile, '-g', 'daemon off;']
      : ['-f', configFile, '-db'];
  const child = spawn(binary.path, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  // A test run that dies must not leave a proxy behind.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (e) => {
      output += `${e.message}\n`;
      resolve(null);
    });
    child.once('exit', (code) => resolve(code));
  });
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitForListen(child, exited, listen, timeoutMs);
  } catch (e) {
    await stop();
    throw new Error(`${kind} (${binary.version}) ${(e as Error).message}\n${output}`, { cause: e });
  }
  return { kind, version: binary.version, configFile, output: () => output, stop };
}

// --- internal ---

const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/** The binary and its version, or why there is none. */
function locate(kind: ProxyKind): { path?: string; version?: string; why: string } {
  const override = process.env[`${kind.toUpperCase()}_BIN`];
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...SBIN].filter(Boolean);
  const path = override
    ? isExecutable(override)
      ? override
      : undefined
    : dirs.map((d) => join(d, kind)).find(isExecutable);
  if (!path) return { why: `not found (${override ?? `PATH, ${SBIN.join(', ')}`})` };
  const version = versionOf(path);
  return version ? { path, version, why: 'found' } : { why: `${path} -v failed` };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function versionOf(path: string): string | undefined {
  // nginx prints its version on stderr, HAProxy on stdout.
  const r = spawnSync(path, ['-v'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return undefined;
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0];
}

function assertLoopback(host: string): void {
  const loopback = (isIPv4(host) && host.startsWith('127.')) || (isIPv6(host) && host === '::1');
  if (!loopback) throw new RangeError(`proxies listen on loopback only, received ${host}`);
}

/** Everything but the sites: state under `dir`, one process (no worker user switch as root). */
function nginxConfig(dir: string, sites: string): string {
  const path = (name: string): string => JSON.stringify(join(dir, name));
  return `# Written by test/support/proxies.ts
pid ${path('nginx.pid')};
error_log stderr warn;
master_process off;
events {
    worker_connections 256;
}
http {
    access_log off;
    client_body_temp_path ${path('client_body')};
    proxy_temp_path ${path('proxy')};
    fastcgi_temp_path ${path('fastcgi')};
    uwsgi_temp_path ${path('uwsgi')};
    scgi_temp_path ${path('scgi')};

${sites}
}
`;
}

function haproxyConfig(sites: string): string {
  return `# Written by test/support/proxies.ts
global
    maxconn 256

defaults
    timeout connect 10s
    timeout client 60s
    timeout server 60s

${sites}
`;
}

async function waitForListen(
  child: ChildProcess,
  exited: Promise<number | null>,
  listen: StartProxyOptions['listen'],
  timeoutMs: number,
): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening`);
    if (await accepts(listen.host, listen.port)) return;
    if (Date.now() > deadline)
      throw new Error(`did not listen on ${listen.host}:${listen.port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
