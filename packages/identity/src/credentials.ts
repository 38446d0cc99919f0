/**
 * @module identity/credentials — what an identity presents and whom it trusts, per connection: the client
 * chain a service accepts (its `auths`), the anchors that judge a server (its pinned certificate, else
 * `known_servers/*.crt`) or a client (`known_clients/*.crt`), and alias URLs (`https://<alias>/path`).
 */
import { IdentityError, equalBytes, type Certificate } from '@certified/core';
import { signerNameOf, type Identity, type KnownService } from './identity.js';

/** A certificate chain to present, with the key that proves it. */
export interface Credentials {
  /** Our end-entity certificate first, then the certificates that lead to the signer. */
  readonly certificates: readonly Certificate[];
  /** PEM of the private key (`id.key`). */
  readonly keyPem: string;
  readonly privateKey: CryptoKey;
  /** Which file the chain came from and why, for `-v` output: e.g. `id/CN=Ada….crt (auths)`. */
  readonly via: string;
}

/**
 * The chain to present to a service. As ORNL certified: a signature from one of the service's `auths` in
 * `id/<auth>.crt` first, then our CA as signed by one (`CA/<auth>.crt` after `id.crt`). Beyond it: our own
 * chain (`id.crt` + `CA.crt`) when our CA is among the auths, or as the last resort (the service may trust
 * our CA directly, via `add-client`).
 *
 * @example
 * const { certificates, keyPem, via } = clientCredentials(me, await loadService(store, 'notes'));
 */
export function clientCredentials(identity: Identity, service?: KnownService): Credentials {
  const own = ownChain(identity);
  const base = { keyPem: identity.id.keyPem, privateKey: identity.id.privateKey };
  const auths = service?.auths ?? [];
  for (const auth of auths) {
    const signed = identity.signatures.find(
      (s) =>
        s.name === auth &&
        s.certificates[0] &&
        sameSpki(s.certificates[0], identity.id.certificate),
    );
    if (signed)
      return {
        ...base,
        certificates: signed.certificates,
        via: `${signed.file} (service accepts ${auth})`,
      };
  }
  for (const auth of auths) {
    const signed = identity.caSignatures.find((s) => s.name === auth);
    if (signed && identity.signer)
      return {
        ...base,
        certificates: [identity.id.certificate, ...signed.certificates],
        via: `id.crt + ${signed.file} (service accepts ${auth})`,
      };
  }
  const ownName = identity.signer ? signerNameOf(identity.signer.certificate) : undefined;
  const why =
    auths.length === 0
      ? 'no auths listed'
      : ownName !== undefined && auths.includes(ownName)
        ? 'service accepts our CA'
        : "no signature from the service's auths; presenting our own chain";
  return { ...base, certificates: own, via: `id.crt (${why})` };
}

/**
 * The chain a server presents: `id.crt` with its chain (or our CA after it).
 *
 * @example
 * const { certificates, keyPem } = serverCredentials(me);
 */
export function serverCredentials(identity: Identity): Credentials {
  return {
    certificates: ownChain(identity),
    keyPem: identity.id.keyPem,
    privateKey: identity.id.privateKey,
    via: 'id.crt',
  };
}

/**
 * Anchors that judge our callers: every certificate in `known_clients/*.crt` — CAs (their signees may
 * call) and end-entity certificates (pinned).
 *
 * @example
 * const validator = createPathValidator({ anchors: clientAnchors(me) });
 */
export function clientAnchors(identity: Identity): Certificate[] {
  return identity.knownClients.flatMap((f) => f.certificates);
}

/**
 * Anchors that judge a server: the service's pinned certificate when it has one, else every certificate in
 * `known_servers/*.crt`.
 *
 * @example
 * const validator = createPathValidator({ anchors: serverAnchors(me, service) });
 */
export function serverAnchors(identity: Identity, service?: KnownService): Certificate[] {
  if (service?.cert) return [service.cert];
  return identity.knownServers.flatMap((f) => f.certificates);
}

/** Where a request really goes, after alias resolution. */
export interface ResolvedUrl {
  /** The URL to connect to. */
  readonly url: string;
  /** The service whose file matched, if any. */
  readonly service: KnownService | undefined;
}

/**
 * Resolves `https://<alias>[:port]/path?query` against `known_servers/<alias>.yaml` (ORNL certified's
 * `replace_baseurl`): the service URL's host and port replace the alias, its path prefixes the path, the
 * query and fragment are kept. An alias `host:port` is tried before `host`. URLs matching no alias are
 * returned unchanged.
 *
 * @throws ERR_IDENTITY_INPUT_INVALID when the URL is not https or gives a port the service also gives;
 *   ERR_SERVICE_INVALID when the alias's `known_servers/<alias>.yaml` exists but cannot be read.
 * @example
 * resolveServiceUrl(me, 'https://notes/items?x=1'); // { url: 'https://127.0.0.1:8443/items?x=1', service }
 */
export function resolveServiceUrl(identity: Identity, url: string): ResolvedUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new IdentityError('ERR_IDENTITY_INPUT_INVALID', `${JSON.stringify(url)} is not a URL.`, {
      field: 'url',
    });
  }
  if (u.protocol !== 'https:')
    throw new IdentityError(
      'ERR_IDENTITY_INPUT_INVALID',
      `${JSON.stringify(url)} is not an https URL; certified talks mutual TLS only.`,
      { field: 'url' },
    );
  const byAlias = new Map(identity.services.map((s) => [s.alias, s]));
  const withPort = u.port ? byAlias.get(`${u.hostname}:${u.port}`) : undefined;
  const service = withPort ?? byAlias.get(u.hostname);
  if (!service) {
    // A service file for this alias that could not be read must not be bypassed by connecting to the
    // alias as a host name (it would fail later with a confusing network error, or reach a stranger).
    const files = [...(u.port ? [`${u.hostname}:${u.port}`] : []), u.hostname].map(
      (alias) => `known_servers/${alias}.yaml`,
    );
    const broken = identity.problems.find(
      (p) => p.code === 'ERR_SERVICE_INVALID' && p.file !== undefined && files.includes(p.file),
    );
    if (broken)
      throw new IdentityError('ERR_SERVICE_INVALID', broken.message, { field: broken.file! });
    return { url: u.href, service: undefined };
  }
  const base = new URL(service.url);
  let port = base.port;
  if (!withPort && u.port) {
    if (port)
      throw new IdentityError(
        'ERR_IDENTITY_INPUT_INVALID',
        `${url} gives port ${u.port}, but service "${service.alias}" already sets ${service.url}.`,
        { field: 'url' },
      );
    port = u.port;
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  const out = new URL(`https://${base.host}`);
  out.hostname = base.hostname;
  out.port = port;
  out.pathname = `${prefix}/${u.pathname.replace(/^\/+/, '')}`;
  out.search = u.search;
  out.hash = u.hash;
  return { url: out.href, service };
}

// --- internal ---

function ownChain(identity: Identity): Certificate[] {
  const chain = [identity.id.certificate, ...identity.id.chain];
  if (identity.id.chain.length === 0 && identity.signer) chain.push(identity.signer.certificate);
  return chain;
}

function sameSpki(a: Certificate, b: Certificate): boolean {
  return equalBytes(a.publicKey.spki, b.publicKey.spki);
}
