/**
 * @module tls/refusal-answer — `explainRefusals`: instead of closing on a client our validator
 * refused, answer its first request with `495 SSL Certificate Error` (nginx's code for a bad client
 * certificate) and a JSON body saying why, then close. Off by default: it tells a stranger why it
 * was refused. The connection is never handed to the app, reads no request body, and is closed
 * after one answer or `timeoutMs`, whichever comes first.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import type { TLSSocket } from 'node:tls';

/** Why a connection was refused, as the answer's JSON body says it. */
export interface RefusalReason {
  readonly code: string;
  readonly message: string;
}

/** Answers refused connections; see the module doc. */
export interface RefusalAnswer {
  /** Takes a refused socket and answers its first request; false when it cannot (then close it). */
  answer(socket: TLSSocket, reason: RefusalReason): boolean;
  /** Closes every socket still being answered (the listener is closing). */
  stop(): void;
}

export const REFUSAL_STATUS = 495;
const STATUS_TEXT = 'SSL Certificate Error';

/** The answerer for one listener; `http2` when the listener offers h2. */
export function createRefusalAnswer(http2: boolean, timeoutMs: number): RefusalAnswer {
  const open = new Map<TLSSocket, RefusalReason>();
  const body = (r: RefusalReason | undefined): string =>
    JSON.stringify({
      error: r ?? { code: 'ERR_NET_TLS', message: 'The client certificate was refused.' },
    });

  const h1 = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    res.writeHead(REFUSAL_STATUS, STATUS_TEXT, {
      'content-type': 'application/json',
      connection: 'close',
    });
    res.end(body(open.get(socket)), () => socket.destroySoon());
  });
  h1.on('clientError', (_e, socket) => socket.destroy());

  const sessionReason = new WeakMap<ServerHttp2Session, RefusalReason>();
  let pending: RefusalReason | undefined;
  const h2 = http2
    ? createHttp2Server({}, (req: Http2ServerRequest, res: Http2ServerResponse) => {
        const session = req.stream.session as ServerHttp2Session;
        res.writeHead(REFUSAL_STATUS, { 'content-type': 'application/json' });
        res.end(body(sessionReason.get(session)), () => session.close());
      })
    : undefined;
  h2?.on('session', (session: ServerHttp2Session) => {
    if (pending) sessionReason.set(session, pending);
    session.on('error', () => undefined);
  });

  return {
    answer(socket, reason) {
      if (socket.destroyed) return false;
      const h2Socket = socket.alpnProtocol === 'h2';
      if (h2Socket && !h2) return false;
      open.set(socket, reason);
      socket.once('close', () => open.delete(socket));
      socket.setTimeout(timeoutMs, () => socket.destroy());
      if (h2Socket) {
        pending = reason;
        try {
          h2!.emit('connection', socket);
        } finally {
          pending = undefined;
        }
      } else h1.emit('connection', socket);
      return true;
    },
    stop() {
      for (const socket of open.keys()) socket.destroy();
      open.clear();
    },
  };
}
