/**
 * @module runtime/node — the CLI's {@link Io} on Node's APIs (node:fs, the `process` global, node:tls
 * through @certified/node), for Node and Bun; Deno has runtime/deno.ts.
 */
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createFileStore, resolveConfigDir } from '@certified/node/store';
import { colourFor, type Io } from '../cli.js';
import { fileError, importModule, readAtMost } from './files.js';

declare const Bun: { version: string } | undefined;

function runtimeName(): string {
  if (typeof Bun !== 'undefined') return `Bun ${Bun.version}`;
  return `Node ${process.versions.node}`;
}

/** A file read whole; a device or a pipe only up to {@link STREAM_LIMIT} (it may never end). */
async function readPath(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    if ((await fh.stat()).isFile()) return new Uint8Array(await fh.readFile());
    return await readAtMost(fh.createReadStream({ autoClose: false }));
  } finally {
    await fh.close();
  }
}

/** The process's Io. */
export function nodeIo(): Io {
  const cwd = process.cwd();
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
    cwd,
    runtime: runtimeName(),
    colour: {
      stdout: colourFor(process.stdout.isTTY, process.env),
      stderr: colourFor(process.stderr.isTTY, process.env),
    },
    async writeFile(path, data) {
      const target = resolve(cwd, path);
      const tmp = `${target}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, data);
        await rename(tmp, target);
      } catch (e) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw fileError('write', path, e);
      }
    },
    async readFile(path) {
      try {
        return path === '-'
          ? await readAtMost(process.stdin as AsyncIterable<Uint8Array>)
          : await readPath(resolve(cwd, path));
      } catch (e) {
        throw fileError('read', path, e);
      }
    },
    openStore: (dir) => createFileStore(dir),
    resolveConfigDir: (config) => resolveConfigDir(config === undefined ? {} : { config }),
    // The TLS client and server load only for the commands that use them.
    createSession: async (options) => (await import('@certified/node')).createSession(options),
    serve: async (app, options) => (await import('@certified/node')).serve(app, options),
    importModule: (specifier) => importModule(cwd, specifier),
    waitForShutdown: () =>
      new Promise((done) => {
        const stop = (signal: string) => done(signal);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }),
  };
}
