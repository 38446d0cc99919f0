/**
 * One benchmark server, run as a child of `serve.mjs` (one process per candidate, so neither shares
 * an event loop, a heap or global objects with the other or with the clients).
 *
 * argv[2] is the candidate:
 * - `ours`: `serve(app, { configDir })` on the server identity directory (falls back to
 *   `createMtlsServer` with the same credentials and `createPathValidator({ anchors: known_clients })`
 *   when the built package has no `serve`): our validator judges each client chain.
 * - `peer`: a plain `https.createServer` with the same key and chain, where OpenSSL verifies the
 *   client (`ca` = the same known_clients certificates, `requestCert`, `rejectUnauthorized: true`),
 *   running the same Hono app through `getRequestListener` (defaults, as @hono/node-server's serve).
 * - `floor`: the same, but with `rejectUnauthorized: false` and no `ca`: a client certificate is
 *   requested and nobody judges it, the least a listener that decides trust itself can cost.
 *
 * Messages from the parent: `{ type: 'start', identity }` → `{ type: 'ready', url, impl }`
 * (`identity.serveOptions`, if any, are passed on to `serve`);
 * `{ type: 'cpu' }` → `{ type: 'cpu', micros }` (this process's user+system CPU so far);
 * `{ type: 'stop' }` → exits (so `--cpu-prof` profiles get written).
 */
import { createServer as createHttpsServer } from 'node:https';
import process from 'node:process';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';

const candidate = process.argv[2];

/** The app both candidates run. */
function createApp() {
  const app = new Hono();
  app.get('/', (c) => c.text('ok'));
  return app;
}

/** A plain `node:https` server asking for a client certificate, on a free loopback port. */
async function listenHttps(app, trust, identity, impl) {
  const server = createHttpsServer(
    {
      key: identity.serverKey,
      cert: identity.serverChainPem,
      requestCert: true,
      minVersion: 'TLSv1.2',
      ...trust,
    },
    getRequestListener(app.fetch),
  );
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { url: `https://127.0.0.1:${server.address().port}`, impl };
}

/** Starts the candidate's server on a free loopback port. */
async function start(identity) {
  const app = createApp();
  if (candidate === 'peer')
    return listenHttps(
      app,
      {
        // The same trust as ours: every certificate in the server identity's known_clients/.
        ca: identity.clientAnchorPems,
        rejectUnauthorized: true,
      },
      identity,
      'node:https, OpenSSL verifies clients (ca = known_clients/)',
    );
  if (candidate === 'floor')
    // What any listener that judges clients itself pays on Node: the handshake with a client
    // certificate requested, OpenSSL verifying it anyway (src/tls/openssl-verifies.test.ts) and its
    // verdict ignored, and then no judging at all: everyone is let in.
    return listenHttps(
      app,
      { rejectUnauthorized: false },
      identity,
      'node:https, client certificate requested and nobody judges it (no ca)',
    );
  if (candidate === 'ours') {
    const node = await import('@certified/node');
    const url = 'https://127.0.0.1:0';
    const onError = (e) => console.error('[ours]', e);
    if (typeof node.serve === 'function') {
      const server = await node.serve(app, {
        configDir: identity.configDir,
        url,
        onError,
        ...identity.serveOptions,
      });
      return { url: server.url, impl: '@certified/node serve(app, { configDir })' };
    }
    const { createPathValidator } = await import('@certified/core');
    const server = await node.createMtlsServer({
      fetch: app.fetch,
      key: identity.serverKey,
      certificates: identity.serverCertificates,
      validator: createPathValidator({ anchors: identity.clientAnchors }),
      url,
      onError,
    });
    return { url: server.url, impl: '@certified/node createMtlsServer()' };
  }
  throw new TypeError(
    `candidate must be "ours", "peer" or "floor", received ${JSON.stringify(candidate)}`,
  );
}

process.on('message', (message) => {
  if (message.type === 'start') {
    start(message.identity).then(
      (ready) => process.send({ type: 'ready', ...ready }),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ type: 'cpu', micros: user + system });
  } else if (message.type === 'stop') {
    process.exit(0);
  }
});
