/// <reference types="node" />
/**
 * @module node/deadlines — how long a connection may sit idle or take over one request. The server
 * hands TLS sockets to `node:http` itself, and node:http enforces its headersTimeout and
 * requestTimeout only on servers that listen themselves: without this, a client that connects and
 * sends nothing (or a header a minute) would hold a connection for ever. One periodic sweep, not a
 * timer per request.
 */
import type { Socket } from 'node:net';

/** Options for {@link socketDeadlines}. */
export interface DeadlineOptions {
  /** Waiting for a request's headers (a new or kept-alive connection). */
  readonly idleMs: number;
  /** From a request's headers to the end of its response. */
  readonly requestMs: number;
}

/** The deadlines of the sockets being watched. */
export interface SocketDeadlines {
  /** The socket now waits for a request: it has `idleMs`. */
  idle(socket: Socket): void;
  /** The socket now carries a request: it has `requestMs`. */
  busy(socket: Socket): void;
  forget(socket: Socket): void;
  stop(): void;
}

/**
 * @example
 * const deadlines = socketDeadlines({ idleMs: 10_000, requestMs: 30_000 });
 * tlsServer.on('secureConnection', (s) => deadlines.idle(s));
 */
export function socketDeadlines(o: DeadlineOptions): SocketDeadlines {
  const due = new Map<Socket, number>();
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [socket, at] of due)
        if (at <= now) {
          due.delete(socket);
          socket.destroy();
        }
    },
    Math.max(10, Math.min(1000, o.idleMs / 4)),
  );
  sweep.unref();
  return {
    idle: (socket) => void due.set(socket, Date.now() + o.idleMs),
    busy: (socket) => void due.set(socket, Date.now() + o.requestMs),
    forget: (socket) => void due.delete(socket),
    stop: () => clearInterval(sweep),
  };
}
