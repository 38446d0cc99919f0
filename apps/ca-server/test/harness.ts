/**
 * Test harness for the CA server: a CA directory made by `initCaFiles`, a config written next to it,
 * and an HTTPS client on node:https (our CA as the only trust, optional client certificate).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hashSecret } from '@certified/ca';
import { initCaFiles } from '@certified/ca/node';

export const run = promisify(execFile);
export const SECRET = 'simplepassword';

/** A CA directory with ca.key, ca.crt and ca.yaml; `store` is the config's store section. */
export async function caDir(store: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certified-ca-server-'));
  await initCaFiles(dir, 'Test CA');
  const hash = await hashSecret(SECRET, { iterations: 1000 });
  await writeFile(
    join(dir, 'ca.yaml'),
    JSON.stringify({
      signing_ca: { main: { cert_path: 'ca.crt', key_path: 'ca.key' } },
      authentication: {
        ops: { backend: 'static', users: [{ user: 'myusername', secret_hash: hash }] },
      },
      registration_authority: {
        default: {
          signing_ca: 'main',
          authentication: 'ops',
          validators: {
            common_name: { allowed_domains: ['.example.com'] },
            ca_status: { ca_requested: false },
            source_cidrs: { cidrs: ['127.0.0.0/8'] },
          },
        },
      },
      store,
    }),
  );
  return dir;
}

export interface Answer {
  readonly status: number;
  readonly text: string;
  json(): Record<string, unknown>;
}

/** One HTTPS request to 127.0.0.1 trusting only `ca`. */
export function https(
  url: string,
  o: { ca: string; body?: unknown; cert?: string; key?: string; method?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(
      url,
      {
        method: o.method ?? (body ? 'POST' : 'GET'),
        ca: o.ca,
        ...(o.cert ? { cert: o.cert, key: o.key } : {}),
        headers: body ? { 'content-type': 'application/json' } : {},
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
