/**
 * @module test/raw-tls — a raw TLS client that presents a client certificate and speaks whatever
 * bytes a test writes (slow, partial, pipelined HTTP/1.1), collecting what the server sends back.
 * Uses only node:tls, so the cross-runtime script bundles it too.
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { encodePem } from '@certified/core';

export interface RawTlsClient {
  readonly socket: TLSSocket;
  /** Resolves when the handshake is done. */
  readonly connected: Promise<void>;
  /** Everything received so far. */
  received(): string;
  /** Resolves with what was received once `match` matches it (or rejects when the socket closes first). */
  receivedUntil(match: RegExp): Promise<string>;
  /** Resolves with everything received, once the socket is closed. */
  readonly closed: Promise<string>;
}

/** Connects to 127.0.0.1:`port` with `me`'s key and chain; `send` is written as soon as the handshake ends. */
export function rawTlsClient(
  port: number,
  me: { readonly key: string; readonly certificates: readonly Uint8Array[] },
  send?: string,
): RawTlsClient {
  const socket = tlsConnect({
    host: '127.0.0.1',
    port,
    key: me.key,
    cert: me.certificates.map((d) => encodePem('CERTIFICATE', d)).join(''),
    rejectUnauthorized: false,
  });
  socket.on('error', () => undefined);
  let received = '';
  const decoder = new TextDecoder();
  const waiters = new Set<() => void>();
  socket.on('data', (d: Uint8Array) => {
    received += decoder.decode(d, { stream: true });
    for (const w of waiters) w();
  });
  const connected = new Promise<void>((r) => socket.once('secureConnect', () => r()));
  if (send !== undefined) void connected.then(() => socket.write(send));
  const closed = new Promise<string>((r) => socket.once('close', () => r(received)));
  const receivedUntil = (match: RegExp): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!match.test(received)) return;
        waiters.delete(check);
        resolve(received);
      };
      waiters.add(check);
      check();
      void closed.then(() => {
        if (!waiters.delete(check)) return;
        reject(new Error(`closed before receiving ${match}: ${JSON.stringify(received)}`));
      });
    });
  return { socket, connected, received: () => received, receivedUntil, closed };
}
