/**
 * @module tls/address-limit — guards for a TLS server that accepts anyone (the CA service: a client
 * certificate is optional there): a cap on the connections one address may have open at once (with
 * only a global `maxConnections`, one address could hold every slot), and the refusal limit on
 * failed and abandoned handshakes that `serve`'s own listener applies.
 */
import type { Server } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { limitRefusals } from './admission.js';
import { addressKey, RefusalLimiter, type RefusalLimitOptions } from './refusal-limit.js';

/** A connection at accept: what the limit reads of it. */
interface Accepted {
  readonly remoteAddress?: string | undefined;
  once(event: 'close', listener: () => void): unknown;
  destroy(): void;
}

/**
 * Drops, at accept (before TLS reads a byte), each new connection from an address (IPv6 by its
 * /64) that already has `max` open on `server`. Call it before the server listens. Works on any
 * `node:net` server, `node:tls` and `node:https` included; a connection whose address the runtime
 * does not report is let in uncounted.
 *
 * @param server - the server to guard.
 * @param max - connections one address may have open at once (a positive integer).
 * @param onDrop - called with the address of each dropped connection; default none.
 * @returns a function telling how many connections an address has open now.
 * @throws RangeError when `max` is not a positive integer.
 * @example
 * const server = tls.createServer({ key, cert });
 * server.maxConnections = 1000; // all addresses together
 * limitConnectionsPerAddress(server, 100); // so that no one address takes them all
 */
export function limitConnectionsPerAddress(
  server: Server,
  max: number,
  onDrop?: (address: string) => void,
): (address: string) => number {
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError(`max must be a positive integer, received ${String(max)}`);
  const open = new Map<string, number>();
  server.prependListener('connection', (socket: Accepted) => {
    const address = socket.remoteAddress;
    if (address === undefined) return;
    const key = addressKey(address);
    const n = open.get(key) ?? 0;
    if (n >= max) {
      socket.destroy();
      try {
        onDrop?.(address);
      } catch {
        // a logging callback must not take the server down
      }
      return;
    }
    open.set(key, n + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
  return (address) => open.get(addressKey(address)) ?? 0;
}

/**
 * Applies `serve`'s refusal limit to the TLS handshakes of any `node:tls` server: a client address
 * whose handshakes keep failing or being abandoned once the server has answered its ClientHello
 * (each costs the server a key exchange and a signature) has its connections dropped at accept for
 * a while, and at most `handshakes` of its connections may be in the handshake at once. Call it
 * before the server listens; what happens after a handshake is the server's own business.
 *
 * @param server - the server to guard.
 * @param options - as `serve`'s `refusalLimit`: `burst` (10), `perSecond` (0.5), `addresses`,
 *   `handshakes` (128).
 * @param onThrottled - called with each address when it starts being dropped; default none.
 * @throws RangeError for options that are not positive numbers.
 * @example
 * const server = tls.createServer({ key, cert });
 * limitFailedHandshakes(server);
 */
export function limitFailedHandshakes(
  server: TlsServer,
  options: RefusalLimitOptions = {},
  onThrottled?: (address: string) => void,
): void {
  const limiter = new RefusalLimiter(options);
  const guard = limitRefusals(server, limiter, (event) => {
    if (event.code === 'ERR_NET_THROTTLED' && event.remoteAddress !== undefined)
      try {
        onThrottled?.(event.remoteAddress);
      } catch {
        // a logging callback must not take the server down
      }
  });
  server.on('tlsClientError', (error: Error & { code?: string }, socket) => {
    if (guard.dropped(error, socket)) return;
    guard.failed(socket?.remoteAddress, socket?.remotePort);
    guard.refused(socket?.remoteAddress);
  });
  server.on('secureConnection', (socket) => guard.judged(socket.remoteAddress, socket.remotePort));
}
