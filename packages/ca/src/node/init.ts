/// <reference types="node" />
/**
 * @module node/init — `certified ca init`: a CA (key 0600, certificate), a config with one example
 * RA, and the example user's secret in its own 0600 file. Nothing existing is replaced: every file
 * is created exclusively, and a failure removes what this call wrote (files and directories).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fingerprint, parseCertificates } from '@certified/core';
import { hashSecret } from '../auth/static.js';
import { parseCaConfig } from '../config.js';
import { initCaFiles, writeNewFile } from './files.js';

/** Options for {@link initCa}. */
export interface InitCaOptions {
  /** Where the files go (created if missing). */
  readonly dir: string;
  /** The CA's organisation name. */
  readonly organization: string;
  /** Domains the example RA signs for (Anchor's form: `.example.com` = anything under it). */
  readonly domains: readonly string[];
  /** Networks for IP names; default 127.0.0.0/8. */
  readonly networks?: readonly string[];
  /** The example user; default `admin`. */
  readonly user?: string;
}

/** What {@link initCa} wrote. */
export interface InitCaResult {
  readonly config: string;
  readonly key: string;
  readonly cert: string;
  /** The example user's secret, in a 0600 file (only its hash is in the config). */
  readonly secretFile: string;
  readonly user: string;
  /** SHA-256 of the CA certificate (colon hex), for clients' `--fingerprint`. */
  readonly fingerprint: string;
}

/**
 * Creates a CA directory: `ca.key`, `ca.crt`, `ca.yaml` (RA `default`, static user with the secret
 * in `<user>.secret`, embedded store in `ca-data/`).
 *
 * @throws Error with code EEXIST when any of the files exists (nothing is written then); the
 *   file system's error (ENOENT, ENOTDIR, EACCES, …) when the directory cannot be made.
 * @example
 * const { config } = await initCa({ dir: 'my-ca', organization: 'Example', domains: ['.example.com'] });
 */
export async function initCa(options: InitCaOptions): Promise<InitCaResult> {
  const user = options.user ?? 'admin';
  const made = await makeDirectory(options.dir);
  const config = join(options.dir, 'ca.yaml');
  const secretFile = join(options.dir, `${user}.secret`);
  const written: string[] = [];
  try {
    for (const p of [config, secretFile, join(options.dir, 'ca.key'), join(options.dir, 'ca.crt')])
      if (await exists(p))
        throw Object.assign(new Error(`${p} exists; refusing to replace a CA`), { code: 'EEXIST' });
    const secret = randomBytes(24).toString('base64url');
    const text = configText({ ...options, user, secretHash: await hashSecret(secret) });
    parseCaConfig(text); // the template must always be a valid config
    await writeNewFile(config, text, 0o644);
    written.push(config);
    await writeNewFile(secretFile, `${secret}\n`, 0o600);
    written.push(secretFile);
    const { key, cert } = await initCaFiles(options.dir, options.organization);
    const fp = fingerprint(parseCertificates(await readFile(cert, 'utf8'))[0]!);
    return { config, key, cert, secretFile, user, fingerprint: fp };
  } catch (e) {
    await Promise.all(written.map((p) => rm(p, { force: true })));
    // Then the directories this call made, deepest first (rmdir: only if empty).
    for (const d of made.reverse()) await rmdir(d).catch(() => undefined);
    throw e;
  }
}

function configText(o: InitCaOptions & { user: string; secretHash: string }): string {
  const list = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const networks = list(o.networks ?? ['127.0.0.0/8']);
  return `# A CA made by \`certified ca init\`. Every option: the configuration reference in @certified/ca's README.
signing_ca:
  main: { cert_path: ca.crt, key_path: ca.key }
authentication:
  ${o.user}:
    backend: static
    users:
      # The secret is in ${o.user}.secret; only its PBKDF2 hash is here.
      - { user: ${JSON.stringify(o.user)}, secret_hash: '${o.secretHash}' }
registration_authority:
  default:
    signing_ca: main
    authentication: ${o.user}
    valid_hours: 24
    validators:
      common_name: { allowed_domains: ${list(o.domains)}, allowed_networks: ${networks} }
      alternative_names_ip: { allowed_domains: ${list(o.domains)}, allowed_networks: ${networks} }
      ca_status: { ca_requested: false }
    fixups:
      enforce_alternative_names: {}
store:
  backend: pglite
  path: ca-data
  retention_hours: 720
`;
}

/**
 * `mkdir -p dir`, returning the directories it made, top down. Walked here, not by
 * `mkdir(dir, { recursive: true })`: Node's (and Bun's) recursive mkdir never settles when a parent
 * exists but cannot hold directories (`/proc`, a dangling symlink). The child's ENOENT sends it back
 * to make the parent, which exists, and so on forever (`node.test.ts` shows it). Here each missing
 * directory is made once, and the first failure is the answer; what was made is then removed.
 */
async function makeDirectory(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let p = resolve(dir); ;) {
    try {
      if ((await stat(p)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p}'`), { code: 'ENOTDIR' });
    } catch (e) {
      const parent = dirname(p);
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) throw e;
      missing.push(p);
      p = parent;
    }
  }
  const made: string[] = [];
  try {
    for (const p of missing.reverse()) {
      try {
        await mkdir(p);
        made.push(p);
      } catch (e) {
        // Made meanwhile by someone else: fine. A dangling symlink says EEXIST too; its child then fails.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  } catch (e) {
    for (const d of made.reverse()) await rmdir(d).catch(() => undefined);
    throw e;
  }
  return made;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
