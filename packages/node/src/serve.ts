/**
 * @module serve — `serve(app, options)`: a Hono app (or any fetch handler) over mutual TLS on a
 * certified identity directory. The server presents the identity's chain; clients are judged by our
 * validator against `known_clients/` (CAs, introducers, pinned end-entity certificates), which is
 * re-read while the server runs so that adding or removing a client needs no restart.
 */
import { createPathValidator, type ValidationProfile, describeValue } from '@certified/core';
import {
  clientAnchors,
  loadIdentity,
  serverCredentials,
  type Identity,
  type IdentityStore,
} from '@certified/identity';
import { resolveConfigDir } from './config-dir.js';
import { createFileStore } from './fs-store.js';

import {
  createMtlsServer,
  type ConnectionEvent,
  type MtlsServer,
  type MtlsServerOptions,
  type ServeFetch,
  type ServeTrust,
} from './tls/server.js';

/** What {@link serve} answers requests with: a Hono app, or a bare fetch handler. */
export type ServeApp = { readonly fetch: ServeFetch } | ServeFetch;

/** Options for {@link serve}. */
export interface ServeOptions {
  /**
   * The identity to serve as (`loadIdentity`). Its store is read afresh at start and re-read for
   * `known_clients/` changes, so operations made since it was loaded count. Give this or `configDir`; with neither, the default config directory
   * (`$CERTIFIED_CONFIG`, `$VIRTUAL_ENV/etc/certified`, `~/.config/certified`) is used.
   */
  readonly identity?: Identity;
  /** An identity directory to serve as. */
  readonly configDir?: string;
  /** Where to listen; default `https://127.0.0.1:4433`. Port 0 picks a free port. */
  readonly url?: string;
  /**
   * How often `known_clients/` is re-read, in ms; default 1000. A change applies to new
   * connections, and to open ones as {@link MtlsServer.updateTrust} says: no request read after
   * the re-read reaches the app for a client no longer trusted; its requests in progress finish,
   * then its connection closes. 0 turns re-reading off ({@link CertifiedServer.reload} still works).
   */
  readonly reloadIntervalMs?: number;
  /** The validation profile for client chains; default `webpki`'s rules as in `createPathValidator`. */
  readonly profile?: ValidationProfile;
  /** Offer HTTP/2 besides HTTP/1.1; default true. */
  readonly http2?: boolean;
  /** Streams one HTTP/2 connection may have open at once; default 100. See {@link MtlsServerOptions.maxConcurrentStreams}. */
  readonly maxConcurrentStreams?: number;
  /**
   * Install `@hono/node-server`'s lighter global `Request`/`Response` (as its own `serve` does),
   * which makes each Hono response cheaper to send; default true. False leaves the globals alone.
   */
  readonly overrideGlobalObjects?: boolean;
  /** Accepted, refused and revoked connections; default none. */
  readonly onConnection?: (event: ConnectionEvent) => void;
  /** Trust reloads: what changed, or why re-reading failed (the previous trust stays). */
  readonly onReload?: (event: ReloadEvent) => void;
  /** Handler and server errors; default `console.error`. */
  readonly onError?: (error: unknown) => void;
  /** The clock client certificates are validated against; default the current time. */
  readonly time?: () => Date;
  /** Handshake and request-headers deadline, in ms; default 30 000. */
  readonly idleTimeoutMs?: number;
  /** Answer refused clients with a 495 JSON explanation; see {@link MtlsServerOptions.explainRefusals}. */
  readonly explainRefusals?: boolean;
  /**
   * Refused clients an address may cause before its connections are dropped before the TLS
   * handshake; default 10 ordinary refusals at once, one more per 2 s, a ~100 KB chain spending
   * the whole allowance; `false` turns it off. See
   * {@link MtlsServerOptions.refusalLimit}.
   */
  readonly refusalLimit?: Exclude<MtlsServerOptions['refusalLimit'], undefined>;
}

/** The outcome of re-reading `known_clients/`. */
export type ReloadEvent =
  | {
      readonly ok: true;
      /** False when nothing had changed (nothing else was done). */
      readonly changed: boolean;
      /** Trust anchors now in force. */
      readonly anchors: number;
      /** Open connections closed because their client is no longer trusted. */
      readonly revoked: number;
    }
  | { readonly ok: false; readonly error: unknown };

/** A running server on a certified identity. */
export interface CertifiedServer extends MtlsServer {
  /** The identity as last loaded (its `knownClients` are the trust in force). */
  readonly identity: Identity;
  /** Re-reads `known_clients/` now and applies any change (see {@link ServeOptions.reloadIntervalMs}). */
  reload(): Promise<ReloadEvent>;
}

const DEFAULT_RELOAD_INTERVAL_MS = 1000;

/**
 * Serves `app` over mutual TLS as a certified identity: the server presents `id.crt` and its chain,
 * and each client's chain is judged by our validator against `known_clients/` during the handshake,
 * before any HTTP byte is read. The caller reaches the app as `c.env.caller` (core's `CertifiedPeer`,
 * as `@certified/hono`'s middleware gives it; the raw path is `c.env.peer`). Results are cached per chain, so a returning client costs no
 * signature checks. Changes to `known_clients/` apply within `reloadIntervalMs` without a restart;
 * a new server certificate or key needs a restart.
 *
 * @param app - a Hono app (anything with `fetch`) or a fetch handler.
 * @param options - the identity (or its directory), the URL and the knobs above.
 * @returns the running server: `url`, `close()` (graceful), `reload()`, `updateTrust()`.
 * @throws IdentityError ERR_IDENTITY_NOT_FOUND (no identity there) and the other `ERR_IDENTITY_*`
 *   codes of `loadIdentity`; NetworkError ERR_NET_URL, ERR_NET_CONNECT (cannot listen); TypeError
 *   and RangeError for bad options.
 * @example
 * import { Hono } from 'hono';
 * import { serve } from '@certified/node';
 *
 * const app = new Hono();
 * app.get('/', (c) => c.text(`Hello, ${c.env.caller?.commonName}`));
 * const server = await serve(app, { configDir: '/etc/certified/notes', url: 'https://0.0.0.0:8443' });
 * process.on('SIGTERM', () => void server.close());
 */
export async function serve(app: ServeApp, options: ServeOptions = {}): Promise<CertifiedServer> {
  const fetch = handlerOf(app);
  if (!options || typeof options !== 'object')
    throw new TypeError(`serve options must be an object, received ${describeValue(options)}`);
  const reloadIntervalMs = options.reloadIntervalMs ?? DEFAULT_RELOAD_INTERVAL_MS;
  if (!Number.isFinite(reloadIntervalMs) || reloadIntervalMs < 0)
    throw new RangeError(
      `serve options.reloadIntervalMs must be a non-negative number, received ${reloadIntervalMs}`,
    );
  if (options.identity !== undefined && options.configDir !== undefined)
    throw new TypeError('serve options: give identity or configDir, not both');

  // An Identity is a snapshot; operations since it was loaded (add-client…) are in its store.
  const store = options.identity ? options.identity.store : storeOf(options.configDir);
  let identity = await loadIdentity(store);
  const trustOf = (id: Identity): ServeTrust => ({
    validator: createPathValidator({
      anchors: clientAnchors(id),
      ...(options.profile ? { profile: options.profile } : {}),
    }),
    anchors: id.knownClients.flatMap((f) =>
      f.certificates.map((certificate) => ({ name: f.name, certificate })),
    ),
  });
  let trust = trustOf(identity);
  const { certificates, keyPem } = serverCredentials(identity);
  let seen = await snapshot(store);

  const server = await createMtlsServer({
    fetch,
    trust: () => trust,
    overrideGlobalObjects: options.overrideGlobalObjects ?? true,
    key: keyPem,
    certificates: certificates.map((c) => c.der),
    validator: trust.validator,
    ...pick(options, [
      'url',
      'onConnection',
      'onError',
      'time',
      'idleTimeoutMs',
      'http2',
      'maxConcurrentStreams',
      'refusalLimit',
      'explainRefusals',
    ]),
  });

  let running: Promise<ReloadEvent> | undefined;
  const reloadOnce = async (): Promise<ReloadEvent> => {
    try {
      let now = await snapshot(store);
      if (sameSnapshot(now, seen))
        return { ok: true, changed: false, anchors: clientAnchors(identity).length, revoked: 0 };
      let next = await loadIdentity(store);
      // known_clients/ may change while it is read: `seen` must describe what was loaded, or the
      // next reload reports a change that is already in force. Read again until both reads agree
      // (a few tries; a directory that never settles is re-read at the next interval anyway).
      for (let tries = 0; tries < 3; tries++) {
        const after = await snapshot(store);
        if (sameSnapshot(after, now)) break;
        now = after;
        next = await loadIdentity(store);
      }
      // The app's view (c.env.trust) and the handshake's switch together.
      trust = trustOf(next);
      identity = next;
      const revoked = await server.updateTrust(trust.validator);
      seen = now;
      return { ok: true, changed: true, anchors: clientAnchors(next).length, revoked };
    } catch (error) {
      return { ok: false, error };
    }
  };
  // One reload at a time; a caller asking during one waits for it, then gets a fresh one.
  const reload = async (): Promise<ReloadEvent> => {
    while (running) await running;
    running = reloadOnce();
    try {
      const event = await running;
      if (event.ok ? event.changed : true) notify(options.onReload, event);
      return event;
    } finally {
      running = undefined;
    }
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  if (reloadIntervalMs > 0) {
    timer = setInterval(() => {
      if (!running) void reload();
    }, reloadIntervalMs);
    (timer as { unref?: () => void }).unref?.();
  }
  const close = (): Promise<void> => {
    clearInterval(timer);
    return server.close();
  };

  return {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    get address() {
      return server.address;
    },
    get connections() {
      return server.connections;
    },
    get identity() {
      return identity;
    },
    close,
    [Symbol.asyncDispose]: close,
    updateTrust: (validator) => server.updateTrust(validator),
    reload,
  };
}

// --- internal ---

function handlerOf(app: ServeApp): ServeFetch {
  if (typeof app === 'function') return app;
  if (app && typeof app === 'object' && typeof app.fetch === 'function') return app.fetch.bind(app);
  throw new TypeError(
    `serve(app): app must be a Hono app or a fetch handler, received ${describeValue(app)}`,
  );
}

function storeOf(configDir: string | undefined): IdentityStore {
  if (configDir !== undefined && (typeof configDir !== 'string' || configDir === ''))
    throw new TypeError(
      `serve options.configDir must be a non-empty string, received ${describeValue(configDir)}`,
    );
  return createFileStore(resolveConfigDir(configDir ? { config: configDir } : {}).dir);
}

/** known_clients/ as it is now: each file's name and bytes. */
async function snapshot(store: IdentityStore): Promise<Map<string, Uint8Array | undefined>> {
  const names = await store.list('known_clients');
  const files = await Promise.all(names.map((n) => store.read(`known_clients/${n}`)));
  return new Map(names.map((n, i) => [n, files[i]]));
}

function sameSnapshot(
  a: Map<string, Uint8Array | undefined>,
  b: Map<string, Uint8Array | undefined>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [name, bytes] of a) {
    const other = b.get(name);
    if (!b.has(name) || bytes?.length !== other?.length) return false;
    if (bytes && other && !bytes.every((x, i) => x === other[i])) return false;
  }
  return true;
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function notify(fn: ((e: ReloadEvent) => void) | undefined, event: ReloadEvent): void {
  try {
    fn?.(event);
  } catch {
    // a logging callback must not stop reloads
  }
}
