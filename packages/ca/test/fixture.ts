/**
 * A CA for tests: a fresh P-256 root made with core, a config text (YAML) whose files live in a map,
 * the embedded PGlite store, and the app. Requests go through `app.request` with the env the server
 * adapter would set.
 */
import {
  createSelfSignedCa,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  organizationName,
  signingName,
  type Certificate,
} from '@certified/core';
import { parse, stringify } from 'yaml';
import {
  createCaApp,
  hashSecret,
  loadCa,
  parseCaConfig,
  type Ca,
  type CaEnv,
} from '../src/index.js';
import { createPgliteStore } from '../src/store/pglite.js';

export interface TestCa {
  readonly ca: Ca;
  readonly app: ReturnType<typeof createCaApp>;
  readonly caCert: Certificate;
  readonly caPem: string;
  /** POSTs Anchor's form fields to /v1/sign/<ra>. */
  sign(ra: string, fields: Record<string, string>, env?: CaEnv): Promise<Response>;
  /** POSTs JSON. */
  post(
    path: string,
    body: unknown,
    env?: CaEnv,
    headers?: Record<string, string>,
  ): Promise<Response>;
  close(): Promise<void>;
}

export const SECRET = 'correct horse battery staple';

/** Extra `registration_authority` entries (merged over a `default` RA) and other config sections. */
export async function createTestCa(
  extra: Record<string, unknown> = {},
  files: Record<string, string> = {},
  now?: () => Date,
): Promise<TestCa> {
  const keys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
  const caCert = await createSelfSignedCa({
    subject: signingName(organizationName({ organization: 'Test CA' })),
    keyPair: keys,
  });
  const caPem = encodePem('CERTIFICATE', caCert.der);
  const secret_hash = await hashSecret(SECRET, { iterations: 1000 });
  const {
    registration_authority = {},
    authentication = {},
    ...rest
  } = extra as {
    registration_authority?: Record<string, unknown>;
    authentication?: Record<string, unknown>;
  };
  const config = {
    signing_ca: { main: { cert_path: 'ca.crt', key_path: 'ca.key' } },
    authentication: {
      ops: {
        backend: 'static',
        users: [
          { user: 'ops', secret_hash, groups: ['nova'] },
          { user: 'dev', secret_hash },
        ],
      },
      ...authentication,
    },
    registration_authority: {
      default: { signing_ca: 'main', authentication: 'ops' },
      ...registration_authority,
    },
    ...rest,
  };
  const texts = new Map<string, string>(Object.entries(files));
  texts.set('ca.crt', caPem);
  texts.set('ca.key', await exportPrivateKey(keys.privateKey));
  const ca = await loadCa(parseCaConfig(stringify(parse(JSON.stringify(config)))), {
    readText: async (p) => {
      const t = texts.get(p);
      if (t === undefined) throw new Error(`ENOENT: ${p}`);
      return t;
    },
    openStore: () => createPgliteStore(),
    ...(now ? { now } : {}),
  });
  const app = createCaApp(ca, { maxBodyBytes: 16_384 });
  const local: CaEnv = { remoteAddress: '127.0.0.1' };
  return {
    ca,
    app,
    caCert,
    caPem,
    sign: async (ra, fields, env = local) =>
      app.request(`/v1/sign/${ra}`, { method: 'POST', body: new URLSearchParams(fields) }, env),
    post: async (path, body, env = local, headers = {}) =>
      app.request(
        path,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        },
        env,
      ),
    close: () => ca.store.close(),
  };
}
