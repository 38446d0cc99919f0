/**
 * @module grpc/channel-credentials — `@grpc/grpc-js` channel credentials on a certified identity: each
 * connection presents our chain, and the server is trusted only if our path validator accepts its
 * chain (purpose serverAuth) and name — not OpenSSL's CA-bundle verification.
 *
 * grpc-js has no public hook that can wait for an asynchronous verdict between the TLS handshake and
 * the HTTP/2 session (`checkServerIdentity` is synchronous and skipped when OpenSSL's own verification
 * fails), so this subclasses `ChannelCredentials` and implements its `_createSecureConnector` method,
 * whose `SecureConnector` type grpc-js exports under `experimental` (grpc-js ≥ 1.13). That reliance is
 * isolated here; {@link createGrpcChannelCredentials} checks for it up front.
 */
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { setTimeout, clearTimeout } from 'node:timers';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { CallCredentials, ChannelCredentials, experimental } from '@grpc/grpc-js';
import type { ChannelOptions } from '@grpc/grpc-js';
import {
  NetworkError,
  PathValidationError,
  type PathValidator,
  type PeerNameInput,
  type ValidatedPath,
  describeValue,
} from '@certified/core';
import {
  chainPem,
  checkKeyMatches,
  checkKeyPem,
  hostPort,
  peerChainOf,
} from '../tls/peer-chain.js';

/** Options for {@link createGrpcChannelCredentials}. */
export interface GrpcChannelCredentialsOptions {
  /** Our private key, PKCS#8 PEM. */
  readonly key: string;
  /** Our certificate (DER) first, then the chain we present to servers. */
  readonly certificates: readonly Uint8Array[];
  /** Judges each server's certificate chain (purpose serverAuth). */
  readonly validator: PathValidator;
  /**
   * The name the server's certificate must carry; default the channel option
   * `grpc.ssl_target_name_override`, else the target's host. An IP address is matched against IP
   * SANs, anything else against DNS SANs; SNI is sent only for DNS names. Required for targets without
   * a host (`unix:`).
   */
  readonly serverName?: string;
  /** Longest wait for the TLS handshake and our validator's verdict, per connection; default 30 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** The clock server certificates are validated against; default the current time. */
  readonly time?: () => Date;
  /** Called with each server path our validator accepted (one per connection); default none. */
  readonly onServer?: (path: ValidatedPath) => void;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

/**
 * Channel credentials for a `@grpc/grpc-js` client on a certified identity: each connection presents
 * our chain, and a server is trusted only if `options.validator` accepts its chain for serverAuth and
 * its certificate carries the expected name. A refused server fails the connection: calls end with
 * UNAVAILABLE, and their `details` name the reason with its code (e.g. `(ERR_CHAIN_NO_PATH)`).
 * Compose call credentials with `.compose(...)` as usual.
 *
 * @param options.key - our PKCS#8 PEM private key.
 * @param options.certificates - our certificate (DER) first, then its chain.
 * @param options.validator - judges servers (purpose serverAuth).
 * @param options.serverName - the name the server must carry; default `grpc.ssl_target_name_override`, else the target's host.
 * @param options.handshakeTimeoutMs - handshake and validation deadline per connection; default 30 000.
 * @param options.time - validation clock; default now.
 * @param options.onServer - accepted server paths; default none.
 * @returns credentials for `new Client(target, credentials)`. Connections fail (the call's details
 *   carry the code) with ERR_CHAIN_* when the server is not trusted, ERR_NET_TLS when the handshake
 *   fails, ERR_NET_TIMEOUT, ERR_NET_URL when no server name is known, ERR_KEY_MISMATCH when our key is
 *   not our certificate's.
 * @throws TypeError for missing or malformed options, or a grpc-js without `_createSecureConnector` (< 1.13).
 * @example
 * const creds = createGrpcChannelCredentials({ key, certificates: [me.der, myCa.der], validator });
 * const client = new Greeter('127.0.0.1:50051', creds);
 */
export function createGrpcChannelCredentials(
  options: GrpcChannelCredentialsOptions,
): ChannelCredentials {
  if (!options || typeof options !== 'object')
    throw new TypeError(
      `createGrpcChannelCredentials options must be an object, received ${describeValue(options)}`,
    );
  const { validator, serverName, time, onServer } = options;
  if (!validator || typeof validator.validate !== 'function')
    throw new TypeError(
      `createGrpcChannelCredentials options.validator must be a PathValidator (createPathValidator), received ${describeValue(validator)}`,
    );
  if (serverName !== undefined && (typeof serverName !== 'string' || serverName === ''))
    throw new TypeError(
      `createGrpcChannelCredentials options.serverName must be a non-empty string, received ${describeValue(serverName)}`,
    );
  if (time !== undefined && typeof time !== 'function')
    throw new TypeError(
      `createGrpcChannelCredentials options.time must be a function, received ${describeValue(time)}`,
    );
  if (onServer !== undefined && typeof onServer !== 'function')
    throw new TypeError(
      `createGrpcChannelCredentials options.onServer must be a function, received ${describeValue(onServer)}`,
    );
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isFinite(handshakeTimeoutMs) || handshakeTimeoutMs <= 0)
    throw new RangeError(
      `createGrpcChannelCredentials options.handshakeTimeoutMs must be a positive number, received ${handshakeTimeoutMs}`,
    );
  // The connector protocol we implement appeared in grpc-js 1.13; older versions would silently
  // ignore our class and fail obscurely.
  if (
    typeof (ChannelCredentials.createInsecure() as Partial<Connectable>)._createSecureConnector !==
    'function'
  )
    throw new TypeError(
      'createGrpcChannelCredentials needs @grpc/grpc-js >= 1.13 (ChannelCredentials._createSecureConnector).',
    );
  const key = checkKeyPem(options.key, 'createGrpcChannelCredentials options');
  const cert = chainPem(options.certificates, 'createGrpcChannelCredentials options');
  const certificate = options.certificates[0]!;
  let identityChecked: Promise<void> | undefined;
  return new CertifiedChannelCredentials({
    key,
    cert,
    validator,
    serverName,
    time,
    onServer,
    handshakeTimeoutMs,
    // Once, before the first connection (the factory is synchronous); every connection fails alike if wrong.
    checkIdentity: () =>
      (identityChecked ??= checkKeyMatches(key, certificate, 'createGrpcChannelCredentials')),
  });
}

// --- internal ---

interface Context {
  readonly key: string;
  readonly cert: string;
  readonly validator: PathValidator;
  readonly serverName: string | undefined;
  readonly time: (() => Date) | undefined;
  readonly onServer: ((path: ValidatedPath) => void) | undefined;
  readonly handshakeTimeoutMs: number;
  readonly checkIdentity: () => Promise<void>;
}

interface Connectable {
  _createSecureConnector(...args: unknown[]): experimental.SecureConnector;
}

class CertifiedChannelCredentials extends ChannelCredentials {
  readonly #ctx: Context;

  constructor(ctx: Context) {
    super();
    this.#ctx = ctx;
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(
    channelTarget: experimental.GrpcUri,
    options: ChannelOptions,
    callCredentials?: CallCredentials,
  ): experimental.SecureConnector {
    const ctx = this.#ctx;
    const credentials = callCredentials ?? CallCredentials.createEmpty();
    const name =
      ctx.serverName ?? options['grpc.ssl_target_name_override'] ?? targetHost(channelTarget);
    return {
      connect: (socket) => secureConnect(ctx, socket, name),
      waitForReady: () => ctx.checkIdentity(),
      getCallCredentials: () => credentials,
      destroy() {},
    };
  }
}

/** The host of `dns:host:port`, `ipv4:a.b.c.d:port,…`, `ipv6:[::1]:port` or a bare `host:port`. */
function targetHost(target: experimental.GrpcUri): string | undefined {
  if (target.scheme !== undefined && !['dns', 'ipv4', 'ipv6'].includes(target.scheme))
    return undefined;
  const first = target.path.split(',')[0] ?? '';
  const host = experimental.splitHostPort(first)?.host;
  return host ? host.replace(/^\[(.*)\]$/, '$1') : undefined;
}

/** TLS over the TCP socket grpc-js opened, then our validator's verdict before HTTP/2 starts. */
function secureConnect(
  ctx: Context,
  socket: Socket,
  name: string | undefined,
): Promise<experimental.SecureConnectResult> {
  const where =
    socket.remoteAddress !== undefined
      ? hostPort(socket.remoteAddress, socket.remotePort ?? 0)
      : (name ?? 'the server');
  if (name === undefined)
    return Promise.reject(
      new NetworkError(
        'ERR_NET_URL',
        `${where}: no server name to check the certificate against (ERR_NET_URL); set serverName.`,
        { field: 'serverName' },
      ),
    );
  const peerName: PeerNameInput = isIP(name)
    ? { type: 'ip', value: name }
    : { type: 'dns', value: name };

  return new Promise((resolve, reject) => {
    let settled = false;
    const tls: TLSSocket = tlsConnect({
      socket,
      key: ctx.key,
      cert: ctx.cert,
      // We decide trust (our validator); OpenSSL's verdict is ignored.
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ALPNProtocols: ['h2'],
      ...(peerName.type === 'dns' ? { servername: name } : {}),
    });
    const timer = setTimeout(
      () =>
        fail(
          new NetworkError(
            'ERR_NET_TIMEOUT',
            `${where}: the TLS handshake and validation did not finish within ${ctx.handshakeTimeoutMs} ms (ERR_NET_TIMEOUT).`,
          ),
        ),
      ctx.handshakeTimeoutMs,
    );
    timer.unref();

    function fail(error: unknown): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      tls.destroy();
      reject(error);
    }
    // Stays attached: grpc-js adds its own handlers once it has the socket.
    tls.on('error', (e: Error & { code?: string }) =>
      fail(
        new NetworkError(
          'ERR_NET_TLS',
          `${where}: the TLS handshake failed (${e.code ? `${e.code}: ` : ''}${e.message}) (ERR_NET_TLS).`,
          e.code ? { cause: e, reason: e.code } : { cause: e },
        ),
      ),
    );
    tls.once('close', () =>
      fail(
        new NetworkError(
          'ERR_NET_TLS',
          `${where}: the server closed the connection during the TLS handshake (ERR_NET_TLS).`,
        ),
      ),
    );
    tls.once('secureConnect', () => void judge());

    async function judge(): Promise<void> {
      const [leaf, ...rest] = peerChainOf(tls);
      if (!leaf) {
        fail(
          new NetworkError(
            'ERR_NET_TLS',
            `${where}: the server presented no certificate (ERR_NET_TLS).`,
          ),
        );
        return;
      }
      let result;
      try {
        result = await ctx.validator.validate({
          peer: leaf,
          chain: rest,
          purpose: 'serverAuth',
          peerName,
          ...(ctx.time ? { time: ctx.time() } : {}),
        });
      } catch (e) {
        fail(e);
        return;
      }
      if (settled) return;
      if (!result.ok) {
        // grpc-js reports only the message (in the call's details), so it carries the code too.
        fail(
          new PathValidationError(result.code, `${where}: ${result.message} (${result.code})`, {
            certIndex: result.certIndex,
            attempts: result.attempts,
          }),
        );
        return;
      }
      settled = true;
      clearTimeout(timer);
      try {
        ctx.onServer?.(result);
      } catch {
        // a logging callback must not break the connection
      }
      resolve({ socket: tls, secure: true });
    }
  });
}
