/**
 * @module runtime/deno — the CLI's {@link Io} on Deno's own APIs. Deno starts its Node compatibility
 * layer the first time `process` or node:fs is touched (~25–45 ms here), so the commands that only read
 * and write files (`show`, `init`, `add-*`, …) run without it; the TLS commands load @certified/node,
 * and with it the layer, when they run.
 */
import { resolve } from 'node:path';
import { createFileStore, resolveConfigDir, type FsLike } from '@certified/node/store';
import { colourFor, type Io } from '../cli.js';
import { fileError, importModule, readAtMost } from './files.js';

/** The part of the `Deno` namespace used here and by start.ts. */
export interface DenoApi {
  readonly version: { readonly deno: string };
  readonly build: { readonly os: string };
  readonly args: readonly string[];
  /** Whether NO_COLOR is set and not empty; readable without --allow-env. */
  readonly noColor: boolean;
  readonly permissions: {
    querySync(desc: { name: 'env'; variable: string }): { state: 'granted' | 'denied' | 'prompt' };
  };
  readonly env: {
    get(key: string): string | undefined;
    has(key: string): boolean;
    toObject(): Record<string, string>;
  };
  readonly stdin: { readonly readable: ReadableStream<Uint8Array> };
  readonly stdout: DenoWriter;
  readonly stderr: DenoWriter;
  exit(code: number): never;
  cwd(): string;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  readDir(path: string): AsyncIterable<{ name: string }>;
  stat(path: string): Promise<DenoStat>;
  lstat(path: string): Promise<DenoStat>;
  mkdir(path: string, options: { mode: number }): Promise<void>;
  open(
    path: string,
    options: { write: true; createNew: true; mode: number },
  ): Promise<{ write(p: Uint8Array): Promise<number>; sync(): Promise<void>; close(): void }>;
  open(
    path: string,
    options: { read: true },
  ): Promise<{ readonly readable: ReadableStream<Uint8Array>; close(): void }>;
  chmod(path: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string, options?: { recursive: boolean }): Promise<void>;
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
}
interface DenoWriter {
  writeSync(p: Uint8Array): number;
  isTerminal(): boolean;
}
interface DenoStat {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly mode: number | null;
  readonly size: number;
}

/** A web stream's chunks, read one at a time (its reader released when the loop stops). */
async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const encoder = new TextEncoder();
function writeAll(w: DenoWriter, text: string): void {
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length;) at += w.writeSync(bytes.subarray(at));
}

/** The file store's file system on Deno's APIs (its errors carry Node's `code`: ENOENT, EACCES, …). */
export function denoFs(deno: DenoApi): FsLike {
  const stat = (s: DenoStat) => ({
    isFile: () => s.isFile,
    isDirectory: () => s.isDirectory,
    mode: s.mode ?? 0,
    size: s.size,
  });
  return {
    readFile: (p) => deno.readFile(p),
    async readdir(p) {
      const names: string[] = [];
      for await (const entry of deno.readDir(p)) names.push(entry.name);
      return names;
    },
    stat: async (p) => stat(await deno.stat(p)),
    lstat: async (p) => stat(await deno.lstat(p)),
    mkdir: (p, { mode }) => deno.mkdir(p, { mode }),
    async open(p, flags, mode) {
      if (flags !== 'wx') throw new TypeError(`denoFs.open supports flags "wx" only, not ${flags}`);
      const file = await deno.open(p, { write: true, createNew: true, mode });
      return {
        async writeFile(data) {
          for (let at = 0; at < data.length;) at += await file.write(data.subarray(at));
        },
        sync: () => file.sync(),
        close: async () => file.close(),
      };
    },
    chmod: (p, mode) => deno.chmod(p, mode),
    rename: (from, to) => deno.rename(from, to),
    unlink: (p) => deno.remove(p),
    rmdir: (p) => deno.remove(p),
    async rm(p, { recursive, force }) {
      try {
        await deno.remove(p, { recursive });
      } catch (e) {
        if (!(force && (e as { code?: string }).code === 'ENOENT')) throw e;
      }
    },
  };
}

/** `Deno.env` as a record, read key by key: a key read without --allow-env fails as Deno says. */
function envOf(deno: DenoApi): Readonly<Record<string, string | undefined>> {
  return new Proxy({} as Record<string, string | undefined>, {
    get: (_, key) => (typeof key === 'string' ? deno.env.get(key) : undefined),
    has: (_, key) => typeof key === 'string' && deno.env.has(key),
    ownKeys: () => Object.keys(deno.env.toObject()),
    getOwnPropertyDescriptor: (_, key) =>
      typeof key === 'string' && deno.env.has(key)
        ? { value: deno.env.get(key), enumerable: true, configurable: true, writable: false }
        : undefined,
  });
}

/**
 * What colourFor reads, without asking for a permission: reading an env variable Deno was not allowed
 * makes it prompt on a terminal (and wait), so NO_COLOR comes from `Deno.noColor` and TERM only when
 * already permitted.
 */
function colourEnv(deno: DenoApi): { NO_COLOR?: string; TERM?: string } {
  const term =
    deno.permissions.querySync({ name: 'env', variable: 'TERM' }).state === 'granted'
      ? deno.env.get('TERM')
      : undefined;
  return {
    ...(deno.noColor ? { NO_COLOR: '1' } : {}),
    ...(term === undefined ? {} : { TERM: term }),
  };
}

/** The process's Io on Deno. */
export function denoIo(deno: DenoApi): Io {
  const cwd = deno.cwd();

  /** A file read whole; a device or a pipe only up to STREAM_LIMIT (it may never end). */
  async function readPath(path: string): Promise<Uint8Array> {
    if ((await deno.stat(path)).isFile) return await deno.readFile(path);
    const file = await deno.open(path, { read: true });
    try {
      return await readAtMost(streamChunks(file.readable));
    } finally {
      try {
        file.close();
      } catch {
        // the stream closed it already
      }
    }
  }
  const env = envOf(deno);
  const fs = denoFs(deno);
  // Deno names Windows "windows"; the config-dir rules use Node's platform names.
  const platform = deno.build.os === 'windows' ? 'win32' : deno.build.os;
  const node = () => import('@certified/node');
  return {
    stdout: (t) => writeAll(deno.stdout, t),
    stderr: (t) => writeAll(deno.stderr, t),
    env,
    cwd,
    runtime: `Deno ${deno.version.deno}`,
    colour: {
      stdout: colourFor(deno.stdout.isTerminal(), colourEnv(deno)),
      stderr: colourFor(deno.stderr.isTerminal(), colourEnv(deno)),
    },
    async writeFile(path, data) {
      const target = resolve(cwd, path);
      const tmp = `${target}.${crypto.randomUUID()}.tmp`;
      try {
        await deno.writeFile(tmp, data);
        await deno.rename(tmp, target);
      } catch (e) {
        await deno.remove(tmp).catch(() => undefined);
        throw fileError('write', path, e);
      }
    },
    async readFile(path) {
      try {
        return path === '-'
          ? await readAtMost(streamChunks(deno.stdin.readable))
          : await readPath(resolve(cwd, path));
      } catch (e) {
        throw fileError('read', path, e);
      }
    },
    openStore: (dir) => createFileStore(dir, { fs }),
    resolveConfigDir: (config) =>
      resolveConfigDir(config === undefined ? { env, platform } : { config }),
    createSession: async (options) => (await node()).createSession(options),
    serve: async (app, options) => (await node()).serve(app, options),
    importModule: (specifier) => importModule(cwd, specifier),
    waitForShutdown: () =>
      new Promise((done) => {
        deno.addSignalListener('SIGINT', () => done('SIGINT'));
        if (deno.build.os !== 'windows') deno.addSignalListener('SIGTERM', () => done('SIGTERM'));
      }),
  };
}
