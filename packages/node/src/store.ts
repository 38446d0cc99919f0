/**
 * @module @certified/node/store — identity directories on disk and where they are, without the TLS
 * server and client: what a command that only reads or writes a directory needs (a CLI's cold start
 * stays small).
 */
export { createFileStore } from './fs-store.js';
export type { CreateFileStoreOptions, FsFileHandleLike, FsLike, FsStatsLike } from './fs-store.js';
export { resolveConfigDir } from './config-dir.js';
export type {
  ConfigDirSource,
  ResolveConfigDirOptions,
  ResolveConfigDirResult,
} from './config-dir.js';
