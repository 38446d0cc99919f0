/**
 * @module session — a `fetch` bound to an identity directory, as ORNL certified's `message` talks:
 * `https://<alias>/path` goes where `known_servers/<alias>.yaml` says, presenting the client chain
 * the service accepts (its `auths`), and the server must chain to the service's pinned certificate
 * and carry the URL's host. One pooled mTLS client per service, so connections are reused.
 */
import { isIP } from 'node:net';
import {
  createPathValidator,
  IdentityError,
  type Certificate,
  describeValue,
} from '@certified/core';
import {
  clientCredentials,
  loadIdentity,
  resolveServiceUrl,
  serverAnchors,
  type Credentials,
  type Identity,
  type IdentityStore,
  type KnownService,
} from '@certified/identity';
import { resolveConfigDir } from './config-dir.js';
import { createFileStore } from './fs-store.js';
import { createMtlsFetch, type MtlsFetch } from './tls/client.js';

/** Options for {@link createSession}: at most one of `configDir`, `store`, `identity`. */
export interface SessionOptions {
  /** The identity directory; default `resolveConfigDir()` ($CERTIFIED_CONFIG, …). */
  readonly configDir?: string;
  /** An identity store to load the identity from, instead of a directory. */
  readonly store?: IdentityStore;
  /** An identity already loaded. */
  readonly identity?: Identity;
  /** The clock server certificates are validated against; default the current time. */
  readonly time?: () => Date;
  /** Per request, as `createMtlsFetch`'s `timeoutMs`; default 30 000 ms. */
  readonly timeoutMs?: number;
  /** Connections per origin, as `createMtlsFetch`'s; default 6. */
  readonly maxSockets?: number;
  /**
   * A one-off pin: every server must chain to one of these (CAs, or the server's own certificate)
   * instead of its service's pinned certificate and `known_servers/*.crt`. Aliases still resolve.
   */
  readonly pin?: readonly Certificate[];
  /** How long an idle connection is kept, as `createMtlsFetch`'s; default 4 000 ms. */
  readonly idleTimeoutMs?: number;
}

/** How a URL is reached: where it really goes, as whom, trusting what. */
export interface SessionRoute {
  /** The URL connected to, after alias resolution. */
  readonly url: string;
  /** The service whose `known_servers/<alias>.yaml` matched; undefined for a plain URL. */
  readonly service: KnownService | undefined;
  /** The chain we present (`via` says which file and why). */
  readonly credentials: Credentials;
  /** What the server must chain to: the service's pinned certificate, else `known_servers/*.crt`. */
  readonly anchors: readonly Certificate[];
}

/** A fetch bound to one identity; see {@link createSession}. */
export interface Session {
  /** The identity, as loaded when the session was created. */
  readonly identity: Identity;
  /** A `fetch` that resolves aliases and picks credentials and anchors per service. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * How `url` would be reached, without connecting.
   *
   * @throws ERR_SERVICE_UNKNOWN, ERR_SERVICE_INVALID, ERR_IDENTITY_INPUT_INVALID as `fetch` rejects.
   */
  route(url: string | URL): SessionRoute;
  /** Closes every connection (busy ones when their response ends); later calls reject with TypeError. */
  close(): Promise<void>;
  /** Same as {@link Session.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Opens a session on an identity directory. `fetch('https://<alias>/path')` resolves the alias
 * through `known_servers/<alias>.yaml` (its `url` replaces scheme, host and port and prefixes the
 * path), presents the chain the service's `auths` accept, and trusts the server only if our
 * validator finds its chain leads to the service's pinned `cert` and its certificate names the
 * service URL's host. Plain `https://host[:port]` URLs (a dotted name, an IP address or
 * `localhost`) present our own chain and trust `known_servers/*.crt`. Each service gets its own
 * pooled mTLS client (`createMtlsFetch`), so repeated calls reuse connections.
 *
 * @param options.configDir - the identity directory; default `resolveConfigDir().dir`.
 * @param options.store - load the identity from this store instead.
 * @param options.identity - use this loaded identity instead.
 * @param options.time - validation clock; default now.
 * @param options.timeoutMs - per request; default 30 000.
 * @param options.maxSockets - connections per origin; default 6.
 * @param options.pin - judge every server by these certificates instead of the directory's.
 * @param options.idleTimeoutMs - idle connection lifetime; default 4 000.
 * @returns the session. Its `fetch` rejects as `createMtlsFetch`'s does, and with `IdentityError`
 *   ERR_SERVICE_UNKNOWN for an alias (a host name without a dot) that has no service file, or a
 *   URL with nothing to judge its server by (no service, no `known_servers/*.crt`);
 *   ERR_SERVICE_INVALID for an unreadable service file; ERR_IDENTITY_INPUT_INVALID for a URL that
 *   is not https.
 * @throws ERR_IDENTITY_NOT_FOUND (and the other `loadIdentity` codes) when the directory holds no
 *   usable identity; `TypeError` for conflicting or malformed options.
 * @example
 * await using session = await createSession({ configDir: '/home/ada/.config/certified' });
 * const res = await session.fetch('https://notes/items', { method: 'POST', body: '{"a":1}' });
 * console.log(res.status, await res.json());
 */
export async function createSession(options: SessionOptions = {}): Promise<Session> {
  if (!options || typeof options !== 'object')
    throw new TypeError(
      `createSession options must be an object, received ${describeValue(options)}`,
    );
  const given = (['configDir', 'store', 'identity'] as const).filter(
    (k) => options[k] !== undefined,
  );
  if (given.length > 1)
    throw new TypeError(
      `createSession takes one of options.configDir, options.store and options.identity, received ${given.join(' and ')}`,
    );
  const identity =
    options.identity ??
    (await loadIdentity(
      options.store ?? createFileStore(options.configDir ?? resolveConfigDir().dir),
    ));
  if (!identity || typeof identity !== 'object' || !identity.id)
    throw new TypeError(
      `createSession options.identity must be a loaded Identity (loadIdentity), received ${describeValue(identity)}`,
    );
  const pin = options.pin;
  if (pin !== undefined && (!Array.isArray(pin) || pin.length === 0 || !pin.every((c) => c?.der)))
    throw new TypeError(
      `createSession options.pin must be a non-empty array of certificates, received ${describeValue(pin)}`,
    );
  const clients = new Map<string, MtlsFetch>();
  let closed = false;

  function route(url: string | URL): SessionRoute {
    const text = url instanceof URL ? url.href : url;
    const resolved = resolveServiceUrl(identity, text);
    const { service } = resolved;
    const host = new URL(resolved.url).hostname;
    // A bare name is an alias: connecting to it as a host would go wherever DNS search domains
    // lead, with credentials and anchors meant for something else.
    if (!service && looksLikeAlias(host))
      throw new IdentityError(
        'ERR_SERVICE_UNKNOWN',
        `No service "${host}" in ${identity.location}: add it with \`certified add-service\` or \`add-intro\` (a host name must contain a dot).`,
        { field: `known_servers/${host}.yaml` },
      );
    const anchors = pin ?? serverAnchors(identity, service);
    if (anchors.length === 0)
      throw new IdentityError(
        'ERR_SERVICE_UNKNOWN',
        `Nothing to judge ${new URL(resolved.url).host} by: no known_servers/<alias>.yaml names it and known_servers/ holds no *.crt.`,
        { field: 'known_servers' },
      );
    return {
      url: resolved.url,
      service,
      credentials: clientCredentials(identity, service),
      anchors,
    };
  }

  function clientFor(r: SessionRoute): MtlsFetch {
    // Plain URLs share one client: same chain and anchors. The pool inside keys by origin.
    const key = r.service ? `service:${r.service.alias}` : 'known_servers';
    let client = clients.get(key);
    if (!client) {
      client = createMtlsFetch({
        key: r.credentials.keyPem,
        certificates: r.credentials.certificates.map((c) => c.der),
        validator: createPathValidator({ anchors: r.anchors.map((a) => a.der) }),
        ...(options.time ? { time: options.time } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.maxSockets !== undefined ? { maxSockets: options.maxSockets } : {}),
        ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      });
      clients.set(key, client);
    }
    return client;
  }

  async function sessionFetch(
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    if (closed) throw new TypeError('createSession: this session was closed.');
    const original =
      input instanceof Request ? input.url : input instanceof URL ? input.href : input;
    if (typeof original !== 'string')
      throw new TypeError(
        `fetch input must be a URL, string or Request, received ${describeValue(input)}`,
      );
    const r = route(original);
    const client = clientFor(r);
    if (!(input instanceof Request)) return client(r.url, init);
    // The Request keeps its method, headers, body and signal; only its URL changes.
    return client(r.url === input.url ? input : new Request(r.url, input), init);
  }

  const close = async (): Promise<void> => {
    closed = true;
    await Promise.all([...clients.values()].map((c) => c.close()));
  };
  return { identity, fetch: sessionFetch, route, close, [Symbol.asyncDispose]: close };
}

// --- internal ---

function looksLikeAlias(host: string): boolean {
  const name = host.replace(/^\[(.*)\]$/, '$1');
  return !name.includes('.') && isIP(name) === 0 && name.toLowerCase() !== 'localhost';
}
