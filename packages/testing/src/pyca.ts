/**
 * @module pyca — pyca/cryptography's X.509 path validation (`cryptography.x509.verification`,
 * cryptography ≥ 42, by x509-limbo's authors) as an independent verifier for tests: CA/B Forum
 * profile, RSA and ECDSA keys only. One python3 process judges a whole batch.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./pyca-verify.py', import.meta.url));

/** One path for pyca to judge: PEM certificates, the peer first in `chain`. */
export interface PycaCase {
  readonly anchors: readonly string[];
  readonly chain: readonly string[];
  readonly kind: 'client' | 'server';
  /** The server's name (server cases). */
  readonly name?: { readonly dns: string } | { readonly ip: string };
  /** When to validate; default now. */
  readonly time?: Date;
}

/** pyca's verdict: the client's SAN values when it accepts a client, its message when it refuses. */
export interface PycaResult {
  readonly ok: boolean;
  readonly subjects?: readonly string[];
  readonly error?: string;
}

/**
 * Judges every case in one python3 process; undefined when python3 with cryptography ≥ 42 is not
 * installed. Throws when the script itself fails.
 *
 * @example
 * const [r] = verifyWithPyca([{ anchors: [caPem], chain: [leafPem], kind: 'server', name: { dns: 'a.example' } }])!;
 */
export function verifyWithPyca(cases: readonly PycaCase[]): PycaResult[] | undefined {
  const now = new Date();
  const input = cases.map((c) => ({ ...c, time: (c.time ?? now).toISOString() }));
  const r = spawnSync('python3', [SCRIPT], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error || r.status === 3) return undefined;
  if (r.status !== 0) throw new Error(`pyca-verify.py exited ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as PycaResult[];
}

/**
 * Whether `suite` must be skipped for want of pyca's verifier: warns loudly when it is missing, and
 * throws under `CI=true` (where it must be installed; see .ci/run).
 */
export function skipWithoutPyca(suite: string): boolean {
  if (verifyWithPyca([]) !== undefined) return false;
  const why = 'python3 with cryptography >= 42 (cryptography.x509.verification) not found';
  if (process.env['CI'] === 'true') throw new Error(`CI=true: ${why}, needed by ${suite}.`);
  console.warn(`\n!!! ${why}: SKIPPING ${suite} !!!\n`);
  return true;
}
