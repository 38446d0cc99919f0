/**
 * @module tls/mtls-agent — the runtime's own `https.Agent`, with one change: `createConnection`
 * connects with `node:tls`, presents our chain, and hands the socket to the HTTP client only after
 * our validator has accepted the server's chain and name. OpenSSL's verdict is ignored
 * (`rejectUnauthorized: false`) because ours is the one that counts, and it comes first: no HTTP
 * byte is written to a server we have not judged. Pooling, keep-alive and HTTP/1.1 framing are the
 * runtime's (Node, Deno and Bun all call `createConnection` with a callback).
 */
import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { NetworkError, PathValidationError, type PathValidator } from '@certified/core';
import { peerChainOf } from './peer-chain.js';

/** What {@link MtlsAgent} needs to present us and judge servers. */
export interface MtlsAgentOptions extends AgentOptions {
  readonly key: string;
  readonly cert: string;
  readonly validator: PathValidator;
  readonly time?: (() => Date) | undefined;
}

/** Where a connection attempt got to, for a timeout message that says where it stuck. */
export type ConnectStage = 'connecting' | 'handshake' | 'validating' | 'ready';

/** The name a server must carry: an IP address (IP SAN) or a DNS name (DNS SAN, sent as SNI). */
export interface ExpectedName {
  readonly type: 'ip' | 'dns';
  readonly value: string;
}

/** Per-request options the agent reads (passed through `https.request`'s options). */
export interface CertifiedRequestOptions {
  /** `host:port`, the prefix of every error message. */
  readonly certifiedWhere: string;
  /** The name the server's certificate must carry. */
  readonly certifiedPeerName: ExpectedName;
  /** Updated as the connection made for this request progresses. */
  readonly certifiedProbe?: { stage: ConnectStage };
}

type CreateOptions = ConnectionOptions & Partial<CertifiedRequestOptions>;
type Callback = (err: Error | null, socket?: Duplex) => void;

/**
 * An `https.Agent` whose connections are judged by our validator (purpose serverAuth) before the
 * HTTP client may use them. Connections are pooled per host, port and expected name.
 *
 * @example
 * ```ts
 * const agent = new MtlsAgent({ key, cert, validator, keepAlive: true });
 * https.get('https://127.0.0.1:8443/', { agent, certifiedWhere: '127.0.0.1:8443',
 *   certifiedPeerName: { type: 'ip', value: '127.0.0.1' } } as never);
 * ```
 */
export class MtlsAgent extends Agent {
  readonly #key: string;
  readonly #cert: string;
  readonly #validator: PathValidator;
  readonly #time: (() => Date) | undefined;
  /** Every socket this agent made and that is not closed yet. */
  readonly #open: Set<TLSSocket> = new Set();
  #closed = false;

  constructor(options: MtlsAgentOptions) {
    const { key, cert, validator, time, ...agentOptions } = options;
    super(agentOptions);
    this.#key = key;
    this.#cert = cert;
    this.#validator = validator;
    this.#time = time;
  }

  /** A connection validated for one name is never lent to a request expecting another. */
  override getName(options?: CreateOptions): string {
    return `${super.getName(options as never)}:${options?.certifiedPeerName?.value ?? ''}`;
  }

  /** After `close()`, a socket that finishes its response is ended instead of pooled. */
  override keepSocketAlive(socket: Duplex): boolean {
    return !this.#closed && (super.keepSocketAlive(socket as never) as unknown as boolean);
  }

  /** Ends idle sockets now and busy ones when their response ends; resolves when all are closed. */
  close(): Promise<void> {
    this.#closed = true;
    for (const list of Object.values(this.freeSockets)) for (const s of list ?? []) s.destroy();
    if (this.#open.size === 0) return Promise.resolve();
    return Promise.all(
      [...this.#open].map((s) => new Promise<void>((r) => s.once('close', () => r()))),
    ).then(() => undefined);
  }

  override createConnection(options: CreateOptions, callback: Callback): undefined {
    const where = options.certifiedWhere ?? `${options.host}:${options.port}`;
    const peerName = options.certifiedPeerName;
    const probe = options.certifiedProbe ?? { stage: 'connecting' as ConnectStage };
    probe.stage = 'connecting';
    const socket = tlsConnect({
      host: options.host,
      port: options.port,
      key: this.#key,
      cert: this.#cert,
      // We decide trust (our validator); OpenSSL's verdict is ignored.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['http/1.1'],
      ...(peerName?.type === 'dns' ? { servername: peerName.value } : {}),
    });
    this.#open.add(socket);
    socket.once('close', () => this.#open.delete(socket));
    let handshakeDone = false;
    let answered = false;
    const answer = (err: Error | null): void => {
      if (answered) return;
      answered = true;
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) socket.destroy();
      callback(err, err ? undefined : socket);
    };
    const onError = (e: Error & { code?: string }): void =>
      answer(classifyConnectError(e, where, handshakeDone) as Error);
    const onClose = (): void =>
      answer(
        handshakeDone
          ? serverHungUp(where)
          : new NetworkError(
              'ERR_NET_TLS',
              `${where}: the server closed the connection during the TLS handshake; it may not trust our certificate, or not speak TLS.`,
            ),
      );
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () => (probe.stage = 'handshake'));
    socket.once('secureConnect', () => {
      handshakeDone = true;
      probe.stage = 'validating';
      this.#judge(socket, where, peerName).then(
        () => {
          probe.stage = 'ready';
          // The server may have hung up while we validated (it refused our certificate).
          if (socket.destroyed || !socket.writable) answer(serverHungUp(where));
          else answer(null);
        },
        (e: unknown) => answer(e as Error),
      );
    });
    return undefined;
  }

  async #judge(
    socket: TLSSocket,
    where: string,
    peerName: ExpectedName | undefined,
  ): Promise<void> {
    const [leaf, ...rest] = peerChainOf(socket);
    if (!leaf)
      throw new NetworkError('ERR_NET_TLS', `${where}: the server presented no certificate.`);
    const result = await this.#validator.validate({
      peer: leaf,
      chain: rest,
      purpose: 'serverAuth',
      ...(peerName ? { peerName } : {}),
      ...(this.#time ? { time: this.#time() } : {}),
    });
    if (!result.ok)
      throw new PathValidationError(result.code, `${where}: ${result.message}`, {
        certIndex: result.certIndex,
        attempts: result.attempts,
      });
  }
}

/** The server closed a validated connection before answering: it may not trust our certificate. */
export function serverHungUp(where: string, cause?: unknown): NetworkError {
  return new NetworkError(
    'ERR_NET_TLS',
    `${where}: the server closed the connection right after the TLS handshake, before answering; it may not trust our certificate.`,
    cause === undefined ? {} : { cause },
  );
}

const UNREACHABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (nothing is listening there)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS is not answering)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EADDRNOTAVAIL: 'the address is not available',
};

/** TLS alerts a server sends when it does not accept the client's certificate. */
const CERT_ALERT = /certificate|unknown.?ca|access.?denied/i;

/** True for the ways runtimes report a peer that hung up. */
export function isHangUp(code: string, message: string): boolean {
  return (
    code === 'ECONNRESET' || code === 'EPIPE' || /hang up|disconnected|closed|reset/i.test(message)
  );
}

/** Maps an error while connecting (before the HTTP client has the socket) to our codes. */
export function classifyConnectError(
  e: Error & { code?: string },
  where: string,
  handshakeDone: boolean,
): unknown {
  if (e instanceof NetworkError || e instanceof PathValidationError) return e;
  const code = e.code ?? '';
  const reason = `${code ? `${code}: ` : ''}${e.message}`;
  const details = code ? { cause: e, reason: code } : { cause: e };
  const tls = (message: string): NetworkError =>
    new NetworkError('ERR_NET_TLS', `${where}: ${message}`, details);
  if (code === 'ETIMEDOUT')
    return new NetworkError('ERR_NET_TIMEOUT', `${where}: the connection timed out.`, details);
  const unreachable = UNREACHABLE[code];
  if (unreachable)
    return new NetworkError(
      'ERR_NET_CONNECT',
      `${where}: cannot connect: ${unreachable}.`,
      details,
    );
  // An alert about certificates: the server's TLS stack refused ours.
  if (/alert/i.test(reason) && CERT_ALERT.test(reason))
    return tls(`the server refused our certificate (${reason}).`);
  const duringHandshake = `the server closed the connection during the TLS handshake (${reason}); it may not trust our certificate, or not speak TLS.`;
  if (/^(ERR_SSL|ERR_TLS)/.test(code) || /alert|ssl|tls/i.test(e.message))
    return handshakeDone
      ? tls(`the server ended the TLS session (${reason}); it may not trust our certificate.`)
      : isHangUp(code, e.message)
        ? tls(duringHandshake)
        : tls(`the TLS handshake failed (${reason}).`);
  if (isHangUp(code, e.message))
    return handshakeDone ? serverHungUp(where, e) : tls(duringHandshake);
  return new NetworkError('ERR_NET_CONNECT', `${where}: cannot connect: ${reason}.`, details);
}
