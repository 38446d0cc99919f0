/**
 * @module @certified/ca/node — the CA on Node (and Deno and Bun through their `node:` modules): its
 * files on disk, `certified ca init`'s directory, and the HTTPS server.
 */
export { initCaFiles, loadCaFile, openConfiguredStore, writeNewFile } from './files.js';
export type { LoadedCa } from './files.js';
export { initCa } from './init.js';
export type { InitCaOptions, InitCaResult } from './init.js';
export { lockDirectory } from './lock.js';
export { createPgliteThreadStore } from './pglite-thread.js';
export type { DirectoryLock } from './lock.js';
export { startCaServer } from './server.js';
export type { CaServer, CaServerOptions } from './server.js';
