/**
 * @module @certified/testing/openssl-csr — certification requests made by the real `openssl req`
 * (P-256, Ed25519, RSA-2048), so CA tests judge what users' tools send, not what our own code builds.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type CsrAlgorithm = 'P-256' | 'Ed25519' | 'RSA-2048';

export interface OpensslCsrOptions {
  readonly algorithm?: CsrAlgorithm;
  /** `-subj`, e.g. `/CN=web.example.com`. */
  readonly subject: string;
  /** Each becomes `-addext VALUE`, e.g. `subjectAltName=DNS:a.example`. */
  readonly addext?: readonly string[];
}

export interface OpensslCsr {
  readonly csrPem: string;
  readonly keyPem: string;
}

const NEWKEY: Record<CsrAlgorithm, string[]> = {
  'P-256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  Ed25519: ['-newkey', 'ed25519'],
  'RSA-2048': ['-newkey', 'rsa:2048'],
};

/** Runs `openssl req -new` with a fresh key and returns the CSR and key PEM. */
export async function opensslCsr(o: OpensslCsrOptions): Promise<OpensslCsr> {
  const dir = await mkdtemp(join(tmpdir(), 'certified-csr-'));
  try {
    const key = join(dir, 'key.pem');
    const csr = join(dir, 'csr.pem');
    await run('openssl', [
      'req',
      '-new',
      ...NEWKEY[o.algorithm ?? 'P-256'],
      '-nodes',
      '-keyout',
      key,
      '-subj',
      o.subject,
      ...(o.addext ?? []).flatMap((e) => ['-addext', e]),
      '-out',
      csr,
    ]);
    return { csrPem: await readFile(csr, 'utf8'), keyPem: await readFile(key, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
