/**
 * @module tls/admission — what our mTLS listeners (`createMtlsServer`, `serveGrpc`) share: judging a
 * client's chain with our validator right after the handshake (leaf first, the presented chain only
 * when needed), and turning listen URLs and errors into our codes. Not exported from the package.
 */
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import {
  NetworkError,
  type NetworkCode,
  type PathValidationCode,
  type PathValidator,
  type ValidatedPath,
  describeValue,
} from '@certified/core';
import { hostPort, peerChainOf, peerLeafOf } from './peer-chain.js';
import { HandshakeLimit, type AcceptedSocket } from './handshake-limit.js';
import { RefusalLimiter, type RefusalLimitOptions } from './refusal-limit.js';

/** A refused client, as both listeners report it. */
export interface RefusedEvent {
  readonly type: 'refused';
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly code: PathValidationCode | NetworkCode;
  readonly message: string;
  readonly subject: string | undefined;
}

/** What a listener does with its refusal limit (see {@link limitRefusals}). */
export interface RefusalGuard {
  /**
   * Counts a refused client (a failed handshake, or our validator's no on `chain`, the
   * certificates it presented: the larger, the costlier).
   */
  refused(address: string | undefined, chain?: readonly Uint8Array[]): void;
  /** Whether a `tlsClientError` is one of the connections this guard dropped (not to be reported). */
  dropped(error: Error & { code?: string }, socket: TLSSocket | undefined): boolean;
  /** A connection was judged, accepted or refused (its address and port as read at the verdict). */
  judged(address: string | undefined, port: number | undefined): void;
  /** A connection's handshake failed (a `tlsClientError` not {@link dropped}), as far as it is known. */
  failed(address: string | undefined, port: number | undefined): void;
}

/**
 * The limiter for a listener's `refusalLimit` option: undefined when turned off (`false`).
 * Call it before creating anything, so bad options throw before a listener exists.
 */
export function refusalLimiterOf(
  options: RefusalLimitOptions | false | undefined,
  what: string,
): RefusalLimiter | undefined {
  if (options === false) return undefined;
  if (options !== undefined && (typeof options !== 'object' || options === null))
    throw new TypeError(
      `${what} options.refusalLimit must be an object or false, received ${describeValue(options)}`,
    );
  return new RefusalLimiter(options);
}

/**
 * Drops connections at accept, before OpenSSL reads a byte, from an address that used up its
 * refusals or that has `handshakes` connections not yet judged (see {@link RefusalLimitOptions}),
 * and reports once when an address starts being dropped.
 */
export function limitRefusals(
  tlsServer: TlsServer,
  limiter: RefusalLimiter | undefined,
  report: (event: RefusedEvent) => void,
): RefusalGuard {
  if (!limiter)
    return {
      refused: () => undefined,
      dropped: () => false,
      judged: () => undefined,
      failed: () => undefined,
    };
  const refused = (address: string | undefined, chain: readonly Uint8Array[] = []): void => {
    if (
      !limiter.refused(
        address,
        chain.reduce((n, c) => n + c.byteLength, 0),
      )
    )
      return;
    report({
      type: 'refused',
      remoteAddress: address,
      remotePort: undefined,
      code: 'ERR_NET_THROTTLED',
      message: `The client at ${address} was refused too often: its connections are dropped before the TLS handshake until it has waited (refusalLimit).`,
      subject: undefined,
    });
  };
  // A handshake abandoned after the client's hello counts as a refusal: it cost us the answer.
  const handshakes = new HandshakeLimit(limiter.handshakes, (address) => refused(address));
  // The runtime wraps every accepted socket for TLS and reports our drop as a reset by the client
  // (tlsClientError ECONNRESET): those are ours, counted here, not refusals.
  let unreported = 0;
  tlsServer.prependListener('connection', (socket: AcceptedSocket & { destroy(): void }) => {
    // Most of the time nobody is blocked, and the address is not even read.
    if (limiter.mayBlock() && limiter.blocked(socket.remoteAddress)) {
      unreported++;
      socket.destroy();
      return;
    }
    if (handshakes.accept(socket)) return;
    unreported++;
    socket.destroy();
    const address = socket.remoteAddress!;
    if (handshakes.firstDrop(address))
      report({
        type: 'refused',
        remoteAddress: address,
        remotePort: undefined,
        code: 'ERR_NET_THROTTLED',
        message: `The client at ${address} has ${limiter.handshakes} connections still in the TLS handshake or awaiting a verdict: more are dropped before the handshake until some end (refusalLimit.handshakes).`,
        subject: undefined,
      });
  });
  return {
    judged: (address, port) => handshakes.judged(address, port),
    failed: (address, port) => handshakes.failed(address, port),
    refused,
    dropped(error, socket) {
      if (unreported === 0 || error.code !== 'ECONNRESET') return false;
      // Node and Deno have forgotten the address by now; Bun still knows it.
      const address = socket?.remoteAddress;
      if (address !== undefined && !limiter.blocked(address) && !handshakes.full(address))
        return false;
      unreported--;
      return true;
    },
  };
}

/** Our validator's verdict on a client, with the chain it was judged on. */
export type ClientVerdict = (
  | { readonly ok: true; readonly path: ValidatedPath }
  | {
      readonly ok: false;
      readonly code: PathValidationCode | NetworkCode;
      readonly message: string;
    }
) & { readonly chain: Uint8Array[] };

export interface JudgeOptions {
  readonly time: (() => Date) | undefined;
  readonly onError: (error: unknown) => void;
}

/** Judges `chain` (peer first) for clientAuth; a validator that throws refuses, never admits. */
export async function judgeChain(
  validator: PathValidator,
  chain: Uint8Array[],
  { time, onError }: JudgeOptions,
): Promise<ClientVerdict> {
  const [leaf, ...rest] = chain;
  if (!leaf)
    return {
      ok: false,
      code: 'ERR_NET_TLS',
      message: 'The client presented no certificate.',
      chain,
    };
  try {
    const result = await validator.validate({
      peer: leaf,
      chain: rest,
      purpose: 'clientAuth',
      ...(time ? { time: time() } : {}),
    });
    return result.ok
      ? { ok: true, path: result, chain }
      : { ok: false, code: result.code, message: result.message, chain };
  } catch (e) {
    // The validator rejects only for caller bugs (a bad `time`).
    safely(onError, e);
    return {
      ok: false,
      code: 'ERR_NET_TLS',
      message: `The client certificate could not be validated: ${String(e)}`,
      chain,
    };
  }
}

/**
 * Judges the client of a TLS connection. The leaf alone first — cheap to read, and all a client
 * issued by an anchor needs; the presented chain is read (about 2.5× the cost on Node) only when
 * that is refused, since more candidates can only find more paths. `known` is a chain judged
 * before (re-checks on trust changes), refreshed the same way.
 */
export async function judgeClient(
  socket: TLSSocket,
  validator: PathValidator,
  options: JudgeOptions,
  known?: Uint8Array[],
): Promise<ClientVerdict> {
  let chain = known;
  if (!chain) {
    const leaf = peerLeafOf(socket);
    chain = leaf ? [leaf] : [];
  }
  const verdict = await judgeChain(validator, chain, options);
  if (verdict.ok || chain.length !== 1 || socket.destroyed) return verdict;
  const presented = peerChainOf(socket);
  return presented.length > 1 ? judgeChain(validator, presented, options) : verdict;
}

/** Why a TLS handshake failed, in words for a `refused` connection event. */
export function handshakeFailure(error: Error & { code?: string }): string {
  return error.code === 'ECONNRESET' || /hang up|reset|closed/i.test(error.message)
    ? 'The client closed the connection during the TLS handshake; it may not trust our certificate.'
    : `The TLS handshake failed: ${error.message}`;
}

/**
 * Starts `server` listening; resolves with the port and address actually bound. Failures become
 * ERR_NET_CONNECT (see {@link listenError}), after `onFailure` has released what the caller holds.
 */
export function listenOn(
  server: TlsServer,
  host: string,
  port: number,
  onFailure: () => void,
): Promise<{ port: number; address: string }> {
  return new Promise((resolve, reject) => {
    const onListenError = (error: Error & { code?: string }): void => {
      onFailure();
      reject(listenError(error, host, port));
    };
    server.once('error', onListenError);
    server.listen(port, host, () => {
      server.off('error', onListenError);
      const bound = server.address();
      resolve(
        typeof bound === 'object' && bound
          ? { port: bound.port, address: bound.address }
          : { port, address: host },
      );
    });
  });
}

/** Calls an error callback; one that throws must not crash a server. */
export function safely(fn: (e: unknown) => void, e: unknown): void {
  try {
    fn(e);
  } catch {
    // ignored: see above
  }
}

export function listenAddress(url: unknown, what: string): { host: string; port: number } {
  if (typeof url !== 'string')
    throw new TypeError(`${what} options.url must be a string, received ${describeValue(url)}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new NetworkError('ERR_NET_URL', `Cannot listen on ${JSON.stringify(url)}: not a URL.`, {
      cause,
      field: 'url',
    });
  }
  if (parsed.protocol !== 'https:')
    throw new NetworkError(
      'ERR_NET_URL',
      `Cannot listen on ${JSON.stringify(url)}: only https:// URLs are served (mutual TLS).`,
      { field: 'url', reason: 'not https' },
    );
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host)
    throw new NetworkError('ERR_NET_URL', `Cannot listen on ${JSON.stringify(url)}: no host.`, {
      field: 'url',
    });
  return { host, port: parsed.port === '' ? 443 : Number(parsed.port) };
}

export function listenError(
  error: Error & { code?: string },
  host: string,
  port: number,
): NetworkError {
  const where = hostPort(host, port);
  const why =
    error.code === 'EADDRINUSE'
      ? 'the port is already in use (another server is listening there)'
      : error.code === 'EACCES' || error.code === 'EPERM'
        ? 'permission denied (ports below 1024 usually need privileges)'
        : error.code === 'EADDRNOTAVAIL'
          ? 'that address does not belong to this machine'
          : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
            ? 'the host name does not resolve'
            : error.message;
  return new NetworkError(
    'ERR_NET_CONNECT',
    `Cannot listen on ${where}: ${why}.`,
    error.code ? { cause: error, reason: error.code } : { cause: error },
  );
}
