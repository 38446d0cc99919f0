/// <reference types="node" />
/**
 * @module node/server — the CA on Node: HTTPS on 127.0.0.1 with the CA's own serving certificate, a client
 * certificate asked for but not required (renewal and `mtls` RAs judge it with core's validator, in
 * the app, not OpenSSL), the caller's chain and address handed to the app as Hono's env, and GC on a
 * lease. TLS is `node:tls` handing sockets to `node:http`, as @certified/node's server does: Bun's
 * `node:https` server gives the app no way to read a client certificate, its `node:tls` sockets do.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { constants as cryptoConstants, randomUUID } from 'node:crypto';
import { getRequestListener } from '@hono/node-server';
import {
  dnsName,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  ipAddress,
  issueEndEntityCertificate,
  organizationName,
  type Certificate,
} from '@certified/core';
import { createCaApp, type CaEnv } from '../app.js';
import type { Ca } from '../ca.js';
import { limitConnectionsPerAddress, limitFailedHandshakes, peerChainOf } from '@certified/node';
import { socketDeadlines } from './deadlines.js';
import { loadCaFile } from './files.js';

/** Options for {@link startCaServer}. */
export interface CaServerOptions {
  /** The config file. */
  readonly config: string;
  /** Default `https://127.0.0.1:8443`; port 0 picks a free one. */
  readonly listen?: string;
  /** How often GC runs (and how long its lease lasts); default one hour. 0 turns the timer off. */
  readonly gcIntervalMs?: number;
  /** A TLS handshake must finish within this; default 10 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** A connection may wait this long for a request's headers; default 10 000 ms. */
  readonly idleTimeoutMs?: number;
  /** A request must be answered within this of its headers; default 30 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Most connections open at once; more are refused. Default 1 000. */
  readonly maxConnections?: number;
  /**
   * Most connections one client address (IPv6: its /64) may have open at once; more are dropped at
   * accept. Default 100, so that one address cannot hold all of `maxConnections`.
   */
  readonly maxConnectionsPerAddress?: number;
}

/** A running CA server. */
export interface CaServer {
  readonly url: string;
  readonly port: number;
  readonly ca: Ca;
  /** The serving chain's CA certificate (PEM), for clients' `--cacert`. */
  readonly caPem: string;
  /** Runs GC now (on a lease shared with the other replicas). */
  gc(now?: Date): Promise<{ readonly ran: boolean; readonly deleted: number }>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/**
 * Loads the config and serves the CA.
 *
 * @throws ERR_CA_CONFIG_INVALID, ERR_CA_STORE_FAILED; listen errors (EADDRINUSE) as Node's.
 * @example
 * const server = await startCaServer({ config: 'ca.yaml', listen: 'https://127.0.0.1:0' });
 */
export async function startCaServer(options: CaServerOptions): Promise<CaServer> {
  const { ca, config } = await loadCaFile(options.config);
  const app = createCaApp(ca, { maxBodyBytes: config.max_body_bytes });
  const listen = new URL(options.listen ?? 'https://127.0.0.1:8443');
  const host = listen.hostname.replace(/^\[|\]$/g, '');
  const signer = [...ca.ras.values()][0]!.signer;
  const serving = await servingCredentials(signer.issuer, host);
  const http = createHttpServer(
    getRequestListener((request, env) => {
      const { incoming } = env as { incoming: IncomingMessage };
      const socket = incoming.socket as TLSSocket;
      const caEnv: CaEnv = {
        peerChain: chainOf(socket),
        ...(socket.remoteAddress ? { remoteAddress: unmapped(socket.remoteAddress) } : {}),
      };
      return app.fetch(request, caEnv);
    }),
  );
  const deadlines = socketDeadlines({
    idleMs: options.idleTimeoutMs ?? 10_000,
    requestMs: options.requestTimeoutMs ?? 30_000,
  });
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    deadlines.busy(socket);
    res.once('finish', () => deadlines.idle(socket));
  });
  const open = new Set<TLSSocket>();
  // A client certificate is asked for, never required, and never judged by OpenSSL: the app does.
  const server = createTlsServer(
    {
      ...serving.tls,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      // No TLS 1.2 renegotiation: a second handshake the app never sees (as @certified/node's listener).
      secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
    },
    (socket) => {
      socket.on('error', () => undefined); // a client's reset must not become an uncaught error
      open.add(socket);
      deadlines.idle(socket);
      socket.once('close', () => {
        open.delete(socket);
        deadlines.forget(socket);
      });
      http.emit('connection', socket);
    },
  );
  server.maxConnections = options.maxConnections ?? 1000;
  limitConnectionsPerAddress(server, options.maxConnectionsPerAddress ?? 100);
  // Handshakes that fail or are abandoned after our answer cost their address, as under serve().
  limitFailedHandshakes(server);
  server.on('tlsClientError', (_e, socket) => socket?.destroy());
  // The serving certificate lives a day like everything this CA issues: renew it at half-life.
  const renew = setInterval(async () => {
    try {
      server.setSecureContext((await servingCredentials(signer.issuer, host)).tls);
    } catch (e) {
      console.error('ca-server: renewing the serving certificate failed:', e);
    }
  }, 12 * HOUR);
  renew.unref();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(listen.port || 8443), host, () => resolve());
    });
  } catch (e) {
    clearInterval(renew);
    deadlines.stop();
    await ca.store.close(); // releases the embedded store's lock
    throw e;
  }
  const port = (server.address() as { port: number }).port;
  const holder = randomUUID();
  const interval = options.gcIntervalMs ?? HOUR;
  const gc = (now = new Date()) =>
    ca.store.gc({
      now,
      retentionMs: config.store.retention_hours * HOUR,
      holder,
      leaseMs: interval || HOUR,
    });
  const timer =
    interval > 0
      ? setInterval(() => gc().catch((e) => console.error('ca-server: gc failed:', e)), interval)
      : undefined;
  timer?.unref();
  let closed: Promise<void> | undefined;
  return {
    url: `https://${listen.hostname}:${port}`,
    port,
    ca,
    caPem: encodePem('CERTIFICATE', signer.issuer.certificate.der),
    gc,
    close() {
      closed ??= (async () => {
        clearInterval(renew);
        deadlines.stop();
        if (timer) clearInterval(timer);
        await new Promise<void>((r) => {
          server.close(() => r());
          http.closeIdleConnections();
          for (const socket of open) socket.destroy();
        });
        await ca.store.close();
      })();
      return closed;
    },
  };
}

// --- internal ---

async function servingCredentials(
  issuer: { certificate: Certificate; privateKey: CryptoKey },
  host: string,
): Promise<{ tls: { key: string; cert: string } }> {
  const keys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
  const cert = await issueEndEntityCertificate({
    issuer,
    subject: organizationName({ organization: 'certified CA service' }),
    publicKey: keys.publicKey,
    altNames: [
      ipAddress('127.0.0.1'),
      ipAddress('::1'),
      dnsName('localhost'),
      ...(host === '127.0.0.1' || host === '::1' || host === 'localhost' ? [] : [asName(host)]),
    ],
    extendedKeyUsages: ['serverAuth'],
    lifetimeSeconds: 24 * 3600,
  });
  return {
    tls: {
      key: await exportPrivateKey(keys.privateKey),
      cert: encodePem('CERTIFICATE', cert.der) + encodePem('CERTIFICATE', issuer.certificate.der),
    },
  };
}

function asName(host: string) {
  return /^[\d.]+$|:/.test(host) ? ipAddress(host) : dnsName(host);
}

// getPeerCertificate(true) rebuilds the whole chain as objects on every call (a tenth of the CPU per
// request in the bench); the chain cannot change on a connection, so read it once per socket.
const chains = new WeakMap<TLSSocket, Uint8Array[]>();

/** The chain the client presented, peer first; empty without a client certificate. */
function chainOf(socket: TLSSocket): Uint8Array[] {
  let chain = chains.get(socket);
  if (!chain) chains.set(socket, (chain = peerChainOf(socket)));
  return chain;
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
