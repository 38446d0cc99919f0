/**
 * @module test/revocation — for the tests of what a revoked client can still do (HTTP/1.1, HTTP/2,
 * gRPC): a validator whose answers wait until released (a trust update caught while it re-judges),
 * the requests node:http has read from one client (its `http.server.request.start` diagnostics
 * channel, so a test knows the server has read a request the app must never see), an app that
 * holds one request in progress and records who every request reached it as, and HTTP/2 helpers.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientHttp2Session } from 'node:http2';
import { formatName, type PathValidator } from '@certified/core';
import type { ServeFetch } from '../src/index.js';

/** A validator whose validations all wait for `release()`. */
export interface HeldValidator {
  readonly validator: PathValidator;
  /** Resolves once a validation has been asked for (re-judging has begun). */
  readonly asked: Promise<void>;
  release(): void;
}

export function holdValidator(inner: PathValidator): HeldValidator {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let ask!: () => void;
  const asked = new Promise<void>((r) => (ask = r));
  return {
    validator: {
      ...inner,
      validate: async (input) => {
        ask();
        await released;
        return inner.validate(input);
      },
    },
    asked,
    release,
  };
}

/** The request paths node:http has parsed on the connection from local port `clientPort`. */
export interface RequestsRead {
  readonly paths: string[];
  /** Resolves once `n` requests have been read (counting from the probe's creation). */
  count(n: number): Promise<void>;
  [Symbol.dispose](): void;
}

export function requestsRead(clientPort: number): RequestsRead {
  const paths: string[] = [];
  const waiters = new Set<() => void>();
  const onStart = (message: unknown): void => {
    const { request, socket } = message as {
      request: { url?: string };
      socket: { remotePort?: number };
    };
    if (socket.remotePort !== clientPort) return;
    paths.push(request.url ?? '');
    for (const w of waiters) w();
  };
  subscribe('http.server.request.start', onStart);
  return {
    paths,
    count: (n) =>
      new Promise((resolve) => {
        const check = (): void => {
          if (paths.length < n) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    [Symbol.dispose]: () => unsubscribe('http.server.request.start', onStart),
  };
}

/** A request as the app saw it: path, caller's CN and the anchor it was accepted through. */
export interface SeenRequest {
  readonly path: string;
  readonly peer: string | undefined;
  readonly anchor: string | undefined;
}

/** An app answering `<path> <CN>`; `/hold` waits for `release()`. */
export interface HeldApp {
  readonly fetch: ServeFetch;
  readonly seen: SeenRequest[];
  /** Resolves once a `/hold` request is in the app. */
  readonly holding: Promise<void>;
  release(): void;
}

export function heldApp(): HeldApp {
  const seen: SeenRequest[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let hold!: () => void;
  const holding = new Promise<void>((r) => (hold = r));
  return {
    seen,
    holding,
    release,
    fetch: async (request, env) => {
      const path = new URL(request.url).pathname;
      const peer = env.peer?.peer.commonName;
      seen.push({ path, peer, anchor: env.peer && formatName(env.peer.anchor.subject) });
      if (path === '/hold') {
        hold();
        await released;
      }
      return new Response(`${path} ${peer}`);
    },
  };
}

/** An HTTP/1.1 GET with a host header. */
export const rawGet = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;

/** The status codes of the HTTP/1.1 responses in `text`, in order (bodies must not contain any). */
export const statusesOf = (text: string): number[] =>
  [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

/** How an HTTP/2 request ended: a response, or a reset stream (`rstCode`) or other error. */
export type H2Outcome =
  | { readonly status: number; readonly body: string }
  | { readonly error: string | undefined; readonly rstCode: number | undefined };

/**
 * A POST of `body` on `session`. `sent` resolves once the request is written out (so a PING sent
 * after it reaches the server after it: nghttp2 sends a pending PING before pending HEADERS).
 */
export function h2Post(
  session: ClientHttp2Session,
  path: string,
  body = '',
): { readonly sent: Promise<void>; readonly outcome: Promise<H2Outcome> } {
  const stream = session.request({ ':method': 'POST', ':path': path });
  const sent = new Promise<void>((resolve) => stream.end(body, () => resolve()));
  const outcome = new Promise<H2Outcome>((resolve) => {
    let status = 0;
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (d: string) => (text += d));
    stream.on('end', () => resolve({ status, body: text }));
    stream.on('error', (e: Error & { code?: string }) =>
      resolve({ error: e.code, rstCode: stream.rstCode }),
    );
  });
  return { sent, outcome };
}

/**
 * Resolves when the server acknowledges a PING sent now: HTTP/2 frames are handled in order, so
 * by then the server has read every frame this client sent before it.
 */
export function ping(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => {
    session.ping((error) => (error ? reject(error) : resolve()));
  });
}
