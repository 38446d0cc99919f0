/**
 * @module @certified/testing/openssl-pki — a scratch directory where the real `openssl` makes a PKI
 * (keys, CAs, certificates, CRLs), and real curl calls a server with one of its client certificates:
 * for integration suites that try certificates nobody here encoded against a real handshake.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslWorkspace {
  readonly dir: string;
  /** A path inside the workspace. */
  at(name: string): string;
  /** Runs `openssl` in the workspace; returns stdout, throws with stderr on failure. */
  openssl(...args: string[]): string;
  /** Removes the workspace. */
  remove(): void;
}

/**
 * A fresh temp directory to run `openssl` in.
 *
 * @example
 * const w = opensslWorkspace('certified-crl-');
 * w.openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key');
 */
export function opensslWorkspace(prefix: string): OpensslWorkspace {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    at: (name) => join(dir, name),
    openssl(...args) {
      const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: dir });
      if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Real curl to `url` trusting `cacert` and presenting `cert` (a PEM file, intermediates after the
 * leaf) with `key`; resolves with the HTTP status, `'000'` when the handshake failed.
 */
export function curlStatus(
  url: string,
  files: { readonly cacert: string; readonly cert: string; readonly key: string },
): Promise<string> {
  const args = ['-s', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}'];
  args.push('--cacert', files.cacert, '--cert', files.cert, '--key', files.key, url);
  return new Promise((resolve) => execFile('curl', args, (_e, stdout) => resolve(stdout)));
}
