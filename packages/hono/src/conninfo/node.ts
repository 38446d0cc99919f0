/**
 * @module @certified/hono/conninfo/node — connection info on Node's `node:http`/`node:http2` (and the
 * same APIs on Deno and Bun): `@certified/node`'s `serve`/`createMtlsServer`, or `@hono/node-server`
 * over `node:https`. The socket is `c.env.incoming.socket` (on HTTP/2 a proxy to the TLS socket).
 */
import type { Context } from 'hono';
import { VALIDATED_PATH } from '@certified/core';
import { attempt, remoteOf, type CertifiedConnInfo } from './types.js';

/** Most certificates read from one connection: more than any sane chain, few enough to stay cheap. */
const MAX_CHAIN = 16;

type Dict = Record<string | symbol, unknown>;
const isObject = (x: unknown): x is Dict => typeof x === 'object' && x !== null;

/**
 * What Node's request says about its connection: address, port, and on TLS the protocol, cipher,
 * the path `@certified/node` validated, and the chain the client presented.
 *
 * @example
 * ```ts
 * import { getConnInfo } from '@certified/hono/conninfo/node';
 * app.get('/', (c) => c.text(getConnInfo(c).remote.address ?? 'unknown'));
 * ```
 */
export function getConnInfo(c: Context): CertifiedConnInfo {
  const env = attempt(() => c.env as unknown);
  const incoming = attempt(() => (isObject(env) && isObject(env.incoming) ? env.incoming : 0));
  const socket = isObject(incoming) ? attempt(() => incoming.socket) : undefined;
  if (!isObject(socket)) return { remote: {} };
  const httpVersion = attempt(() => (incoming as Dict).httpVersion);
  const version = typeof httpVersion === 'string' ? { httpVersion } : {};
  const remote = remoteOf(
    attempt(() => socket.remoteAddress),
    attempt(() => socket.remotePort),
  );
  const isTls = attempt(
    () =>
      socket.encrypted === true ||
      typeof socket.getPeerCertificate === 'function' ||
      socket[VALIDATED_PATH] !== undefined,
  );
  if (!isTls) return { remote, ...version };
  const validated =
    attempt(() => (isObject(env) && isObject(env.peer) ? env.peer : undefined)) ??
    attempt(() => socket[VALIDATED_PATH]);
  const protocol = attempt(() => call(socket, 'getProtocol'));
  const cipher = attempt(() => (call(socket, 'getCipher') as { name?: unknown } | null)?.name);
  return {
    remote,
    ...version,
    tls: {
      ...(typeof protocol === 'string' ? { protocol } : {}),
      ...(typeof cipher === 'string' ? { cipher } : {}),
      ...(isObject(validated) ? { validated } : {}),
      presented: () => presentedChain(socket),
    },
  };
}

function call(o: Dict, method: string): unknown {
  const f = o[method];
  return typeof f === 'function' ? (f as () => unknown).call(o) : undefined;
}

/** `getPeerCertificate(true)`'s linked chain, else `getPeerX509Certificate()`; copies, peer first. */
function presentedChain(socket: Dict): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<unknown>();
  // Node links the chain through `issuerCertificate`, ending in a self-reference at a root.
  let cert = attempt(() =>
    typeof socket.getPeerCertificate === 'function'
      ? (socket.getPeerCertificate as (d: boolean) => unknown).call(socket, true)
      : undefined,
  ) as { raw?: unknown; issuerCertificate?: unknown } | undefined;
  while (
    cert &&
    typeof cert === 'object' &&
    cert.raw instanceof Uint8Array &&
    cert.raw.byteLength > 0 &&
    !seen.has(cert) &&
    out.length < MAX_CHAIN
  ) {
    seen.add(cert);
    out.push(new Uint8Array(cert.raw)); // a copy: never keep views into runtime-owned buffers
    cert = cert.issuerCertificate as typeof cert;
  }
  if (out.length === 0) {
    const raw = attempt(() =>
      typeof socket.getPeerX509Certificate === 'function'
        ? (socket.getPeerX509Certificate as () => { raw?: unknown } | undefined).call(socket)?.raw
        : undefined,
    );
    if (raw instanceof Uint8Array && raw.byteLength > 0) out.push(new Uint8Array(raw));
  }
  return out;
}
