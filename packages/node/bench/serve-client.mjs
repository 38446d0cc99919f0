/**
 * One load-generating process, run as a child of `serve.mjs`: `connections` concurrent loops of
 * `GET /` over node:https, each presenting the client certificate. Every response must be 200 `ok`;
 * anything else counts as an error.
 *
 * - mode `new`: an Agent with `keepAlive: false` (each request opens a connection and the server
 *   closes it) and `maxCachedSessions: 0` (no TLS session resumption: every connection is a full
 *   handshake, checked with `isSessionReused()`).
 * - mode `keepalive`: an Agent with `keepAlive: true`, `maxSockets: connections`, no resumption.
 *
 * Message `{ type: 'run', url, mode, connections, rampMs, measureMs, tls }` → `{ type: 'result',
 * ok, total, errors, firstError, handshakes, resumed, seconds, info }`: `ok` counts 200 `ok` responses that
 * completed inside the measuring window, which opens `rampMs` after the loops start; `total` counts all of them.
 */
import { Agent, request } from 'node:https';
import process from 'node:process';

/** One GET; resolves with the socket used, rejects on anything but 200 `ok`. */
function get(agent, url, onSocket, onResponse) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method: 'GET' }, (res) => {
      onResponse?.(res);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode === 200 && body === 'ok') resolve();
        else reject(new Error(`HTTP ${res.statusCode}: ${JSON.stringify(body.slice(0, 80))}`));
      });
      res.on('error', reject);
    });
    req.on('socket', onSocket);
    req.on('error', reject);
    req.end();
  });
}

/** What the first connection negotiated, for the report. */
function describeConnection(socket) {
  const cipher = socket.getCipher();
  const ephemeral = socket.getEphemeralKeyInfo();
  const server = socket.getPeerCertificate();
  const own = socket.getCertificate();
  return {
    protocol: socket.getProtocol(),
    cipher: cipher?.standardName ?? cipher?.name,
    keyExchange: ephemeral?.name ?? ephemeral?.type,
    serverKey: server?.asn1Curve ? `EC ${server.asn1Curve}` : undefined,
    clientKey: own?.asn1Curve ? `EC ${own.asn1Curve}` : undefined,
  };
}

async function run({ url, mode, connections, rampMs, measureMs, tls }) {
  const agent = new Agent({
    keepAlive: mode === 'keepalive',
    maxSockets: mode === 'keepalive' ? connections : Infinity,
    maxCachedSessions: 0,
    key: tls.key,
    cert: tls.cert,
    ca: [tls.ca],
    minVersion: 'TLSv1.2',
  });
  const seen = new WeakSet();
  let handshakes = 0;
  let resumed = 0;
  let info;
  let framing;
  const onResponse = (res) => {
    framing ??= [
      `HTTP/${res.httpVersion}`,
      res.headers['content-length'] !== undefined
        ? `content-length ${res.headers['content-length']}`
        : `transfer-encoding ${res.headers['transfer-encoding']}`,
      `content-type ${res.headers['content-type']}`,
    ].join(', ');
  };
  const onSocket = (socket) => {
    if (seen.has(socket)) return;
    seen.add(socket);
    handshakes++;
    socket.once('secureConnect', () => {
      if (socket.isSessionReused()) resumed++;
      info ??= describeConnection(socket);
    });
  };

  const t0 = performance.now();
  const from = t0 + rampMs;
  const to = from + measureMs;
  let ok = 0;
  let total = 0;
  let errors = 0;
  let firstError;
  const loop = async () => {
    while (performance.now() < to) {
      try {
        await get(agent, url, onSocket, framing ? undefined : onResponse);
        total++;
        const t = performance.now();
        if (t >= from && t <= to) ok++;
      } catch (e) {
        errors++;
        firstError ??= String(e?.message ?? e);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  agent.destroy();
  return {
    ok,
    total,
    errors,
    firstError,
    handshakes,
    resumed,
    seconds: measureMs / 1000,
    info: info && { ...info, framing },
  };
}

process.on('message', (message) => {
  if (message.type === 'run')
    run(message).then(
      (result) => process.send({ type: 'result', ...result }),
      (error) => process.send({ type: 'result', ok: 0, errors: 1, firstError: String(error) }),
    );
  else if (message.type === 'stop') process.exit(0);
});
