/**
 * @module @certified/testing/openssl-verify — the real `openssl verify` (`-x509_strict`, TLS
 * purposes, host and IP checks) as a second independent verifier beside pyca's: the same cases,
 * the same verdicts (`@certified/testing/pyca`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PycaCase, PycaResult } from './pyca.js';

/**
 * Judges each case with `openssl verify -x509_strict`; undefined when `openssl` is not installed.
 * A case's `chain` is the peer first, then untrusted intermediates; `anchors` are the only trust.
 *
 * @example
 * const [r] = verifyWithOpenssl([{ anchors: [caPem], chain: [leafPem], kind: 'server', name: { dns: 'a.example' } }])!;
 */
export function verifyWithOpenssl(cases: readonly PycaCase[]): PycaResult[] | undefined {
  if (spawnSync('openssl', ['version']).error) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'certified-openssl-verify-'));
  try {
    const now = new Date();
    return cases.map((c, i) => {
      const file = (name: string, pems: readonly string[]): string => {
        const p = join(dir, `${i}-${name}.pem`);
        writeFileSync(p, pems.join(''));
        return p;
      };
      const args = [
        'verify',
        '-x509_strict',
        '-purpose',
        c.kind === 'server' ? 'sslserver' : 'sslclient',
        '-attime',
        String(Math.floor((c.time ?? now).getTime() / 1000)),
        '-CAfile',
        file('anchors', c.anchors),
      ];
      if (c.chain.length > 1) args.push('-untrusted', file('untrusted', c.chain.slice(1)));
      if (c.name && 'dns' in c.name) args.push('-verify_hostname', c.name.dns);
      if (c.name && 'ip' in c.name) args.push('-verify_ip', c.name.ip);
      args.push(file('peer', c.chain.slice(0, 1)));
      const r = spawnSync('openssl', args, { encoding: 'utf8' });
      if (r.status === 0) return { ok: true };
      const error = `${r.stdout}${r.stderr}`
        .split('\n')
        .filter((l) => /error \d+ at/.test(l))
        .join('; ');
      return { ok: false, error: error || `openssl verify exited ${r.status}` };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
