/**
 * @module app — the CA's HTTP API as a Hono app: Anchor's `POST /v1/sign/<ra>` form API, the JSON
 * API (`/v1/certificates`, `/v1/renew`, `/v1/revoke`, `/v1/ca`), `/health` and `/metrics`. Every
 * refusal is a coded 4xx JSON body and an audit record; the runtime adapter supplies the caller's
 * address and TLS client chain.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { encodePem } from '@certified/core';
import { CaError } from './errors.js';
import type { Ca, Issued } from './ca.js';
import type { Credentials } from './auth/types.js';
import { createCaMetrics, type CaMetrics } from './metrics.js';

/** What the runtime adapter passes as Hono's `env` (ca-server sets both). */
export interface CaEnv {
  /** The TLS client's chain, peer first (DER); absent without a client certificate. */
  readonly peerChain?: readonly Uint8Array[];
  /** The caller's address as the socket saw it. */
  readonly remoteAddress?: string;
}

/** Options for {@link createCaApp}. */
export interface CaAppOptions {
  /** Default a fresh {@link createCaMetrics}. */
  readonly metrics?: CaMetrics;
  /** Largest request body in bytes; default 65 536. */
  readonly maxBodyBytes?: number;
  /** Called with unexpected errors (answered 500 `ERR_CA_INTERNAL`); default `console.error`. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Creates the CA's Hono app.
 *
 * @example
 * const app = createCaApp(await loadCa(config, ports));
 * // curl -d user=ops -d secret=… -d encoding=pem --data-urlencode csr@req.pem https://ca/v1/sign/default
 */
export function createCaApp(ca: Ca, options: CaAppOptions = {}): Hono<{ Bindings: CaEnv }> {
  const metrics = options.metrics ?? createCaMetrics();
  const app = new Hono<{ Bindings: CaEnv }>();
  type C = Context<{ Bindings: CaEnv }>;
  const source = (c: C): string | undefined => c.env?.remoteAddress;

  // The endpoint label and RA a request counts under, settled before the body is read.
  const labels = (c: C): { endpoint: string; ra: string } => {
    const path = new URL(c.req.url).pathname;
    const endpoint = path.startsWith('/v1/sign/') ? 'sign' : path.slice(4);
    return { endpoint, ra: c.req.param('ra') ?? '' };
  };

  const fail = async (c: C, endpoint: string, ra: string, e: unknown): Promise<Response> => {
    const error =
      e instanceof CaError
        ? e
        : new CaError('ERR_CA_REQUEST_INVALID', `The request could not be read: ${String(e)}`);
    metrics.failed(endpoint, ra, error.code);
    return c.json(error.toJSON(), error.status as 400);
  };

  // A source over its refusal budget is answered before its body is read: no work, no audit row.
  app.use('/v1/*', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    try {
      ca.admit(source(c));
    } catch (e) {
      const { endpoint, ra } = labels(c);
      metrics.received(endpoint, ra);
      return fail(c, endpoint, ra, e);
    }
    return next();
  });

  const limit = bodyLimit({
    maxSize: options.maxBodyBytes ?? 65_536,
    onError: async (c) => {
      const { endpoint, ra } = labels(c as C);
      const error = new CaError(
        'ERR_CA_BODY_TOO_LARGE',
        `The request body is larger than ${options.maxBodyBytes ?? 65_536} bytes.`,
      );
      metrics.received(endpoint, ra);
      await ca.refuse({ ra, endpoint, source: source(c as C) ?? null }, error);
      return fail(c as C, endpoint, ra, error);
    },
  });

  // Reads the body; a malformed one is refused and audited here, before the pipeline.
  async function body(
    c: C,
    endpoint: string,
    kind: 'form' | 'json',
  ): Promise<Record<string, unknown>> {
    try {
      if (kind === 'form') {
        // Anchor's API takes form fields; anything else would read as a request with no fields.
        const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
        if (type !== 'application/x-www-form-urlencoded' && type !== 'multipart/form-data')
          throw new Error(type ? `it was sent as ${type}` : 'it was sent without a content type');
        return (await c.req.parseBody()) as Record<string, unknown>;
      }
      const j: unknown = await c.req.json();
      if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('not an object');
      return j as Record<string, unknown>;
    } catch (e) {
      const error = new CaError(
        'ERR_CA_REQUEST_INVALID',
        kind === 'json'
          ? 'The body must be a JSON object.'
          : `The body must be form fields (application/x-www-form-urlencoded or multipart/form-data)${e instanceof Error && e.message.startsWith('it was sent') ? `; ${e.message}` : ''}.`,
        { cause: e },
      );
      await ca.refuse({ ra: c.req.param('ra') ?? '', endpoint, source: source(c) ?? null }, error);
      throw error;
    }
  }

  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const bearer = (c: C): string | undefined => {
    const h = c.req.header('authorization');
    return h?.toLowerCase().startsWith('bearer ') ? h.slice(7).trim() : undefined;
  };
  const credentials = (c: C, b: Record<string, unknown>): Credentials => ({
    user: text(b['user']),
    secret: text(b['secret']),
    bearer: bearer(c),
    peerChain: c.env?.peerChain,
  });
  const requireCsr = async (b: Record<string, unknown>, ra: string, endpoint: string, c: C) => {
    const v = b['csr'];
    // curl -F csr=@file sends a file part; -F 'csr=<file' (Anchor's example) a plain field.
    const csr =
      typeof v === 'object' && v !== null && 'text' in v ? await (v as Blob).text() : text(v);
    if (csr) return csr;
    const error = new CaError('ERR_CA_REQUEST_INVALID', 'The request has no csr field.', {
      field: 'csr',
    });
    await ca.refuse({ ra, endpoint, source: source(c) ?? null }, error);
    throw error;
  };
  const issuedJson = (i: Issued) => ({
    certificate: i.pem,
    chain: i.chain.map((x) => encodePem('CERTIFICATE', x.der)),
    serial: i.certificate.serialNumberHex,
    not_before: i.certificate.notBefore.toISOString(),
    not_after: i.certificate.notAfter.toISOString(),
  });

  app.post('/v1/sign/:ra', limit, async (c) => {
    const ra = c.req.param('ra');
    metrics.received('sign', ra);
    try {
      const b = await body(c, 'sign', 'form');
      const encoding = text(b['encoding']) ?? 'pem';
      if (encoding !== 'pem') {
        const error = new CaError(
          'ERR_CA_REQUEST_INVALID',
          `Unsupported encoding "${encoding}"; use pem.`,
          {
            field: 'encoding',
            value: encoding,
          },
        );
        await ca.refuse({ ra, endpoint: 'sign', source: source(c) ?? null }, error);
        throw error;
      }
      const started = performance.now();
      const issued = await ca.issue({
        ra,
        csr: await requireCsr(b, ra, 'sign', c),
        credentials: credentials(c, b),
        source: source(c),
        endpoint: 'sign',
      });
      metrics.issuance(ra, (performance.now() - started) / 1000);
      metrics.succeeded('sign', ra);
      return c.text(issued.pem, 200, { 'content-type': 'application/x-pem-file' });
    } catch (e) {
      return fail(c, 'sign', ra, e);
    }
  });

  for (const endpoint of ['certificates', 'renew'] as const) {
    app.post(`/v1/${endpoint}`, limit, async (c) => {
      let ra = '';
      try {
        const b = await body(c, endpoint, 'json');
        ra = text(b['ra']) ?? '';
        metrics.received(endpoint, ra);
        const started = performance.now();
        const request = {
          ra,
          csr: await requireCsr(b, ra, endpoint, c),
          credentials: credentials(c, b),
          source: source(c),
          endpoint,
        };
        const issued = await (endpoint === 'renew' ? ca.renew(request) : ca.issue(request));
        metrics.issuance(ra, (performance.now() - started) / 1000);
        metrics.succeeded(endpoint, ra);
        return c.json(issuedJson(issued), 201);
      } catch (e) {
        if (ra === '') metrics.received(endpoint, ra);
        return fail(c, endpoint, ra, e);
      }
    });
  }

  app.post('/v1/revoke', limit, async (c) => {
    let ra = '';
    try {
      const b = await body(c, 'revoke', 'json');
      ra = text(b['ra']) ?? '';
      metrics.received('revoke', ra);
      const ids = await ca.revoke({
        ra,
        serial: text(b['serial']),
        subject: text(b['subject']),
        reason: text(b['reason']),
        credentials: credentials(c, b),
        source: source(c),
      });
      metrics.succeeded('revoke', ra);
      return c.json({ revoked: ids }, 200);
    } catch (e) {
      if (ra === '') metrics.received('revoke', ra);
      return fail(c, 'revoke', ra, e);
    }
  });

  app.post('/v1/revoke/lift', limit, async (c) => {
    let ra = '';
    try {
      const b = await body(c, 'lift', 'json');
      ra = text(b['ra']) ?? '';
      metrics.received('lift', ra);
      const id = b['id'];
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        const error = new CaError(
          'ERR_CA_REQUEST_INVALID',
          'A lift needs the revocation id (a number).',
          {
            field: 'id',
          },
        );
        await ca.refuse({ ra, endpoint: 'lift', source: source(c) ?? null }, error);
        throw error;
      }
      await ca.lift({ ra, id, credentials: credentials(c, b), source: source(c) });
      metrics.succeeded('lift', ra);
      return c.json({ lifted: id }, 200);
    } catch (e) {
      if (ra === '') metrics.received('lift', ra);
      return fail(c, 'lift', ra, e);
    }
  });

  app.get('/v1/ca', (c) =>
    c.json({
      ras: Object.fromEntries(
        [...ca.ras.values()].map((r) => [
          r.name,
          {
            chain: r.signer.chain.map((x) => encodePem('CERTIFICATE', x.der)),
            valid_hours: r.validHours,
          },
        ]),
      ),
    }),
  );
  app.get('/health', async (c) => {
    try {
      await ca.store.audit({ limit: 1 });
      return c.json({ status: 'ok' });
    } catch (e) {
      return c.json({ status: 'unavailable', code: (e as CaError).code }, 503);
    }
  });
  // Anything else is a coded JSON 404 too; a request that sent something (not GET/HEAD) is audited.
  app.notFound(async (c) => {
    const error = new CaError(
      'ERR_CA_ROUTE_UNKNOWN',
      `No route ${c.req.method} ${new URL(c.req.url).pathname} in the CA's API.`,
    );
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD')
      await ca.refuse({ ra: '', endpoint: 'unknown', source: source(c) ?? null }, error);
    return c.json(error.toJSON(), 404);
  });
  app.onError((e, c) => {
    (options.onError ?? console.error)(e);
    const error = new CaError('ERR_CA_INTERNAL', 'The CA failed unexpectedly; nothing was issued.');
    return c.json(error.toJSON(), 500);
  });
  app.get('/metrics', (c) =>
    c.text(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
  return app;
}
