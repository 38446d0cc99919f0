/**
 * @module caller — the one shape of "who is calling", built from a path our validator accepted.
 * `@certified/hono` puts it on `c.get('certified')`, `@certified/node` on `c.env.caller`, and
 * `@certified/node/grpc`'s `grpcPeerOf(call)` returns it, so a handler reads the caller the same
 * way whichever transport brought it.
 */
import type { ValidatedPath } from './chain/index.js';
import type { Certificate } from './x509/certificate.js';
import { fingerprint } from './x509/certificate.js';
import { commonNameOf, formatName, type Name } from './x509/name.js';

/** The subjectAltNames of a certificate, by kind, as text (other kinds are left out). */
export interface CertifiedAltNames {
  readonly dns: readonly string[];
  /** Canonical text: dotted IPv4, RFC 5952 IPv6. */
  readonly ip: readonly string[];
  readonly email: readonly string[];
  readonly uri: readonly string[];
}

/** The trust anchor the caller's path ended at. */
export interface CertifiedAnchor {
  /** RFC 4514 subject. */
  readonly subject: string;
  readonly commonName: string | undefined;
  /** SHA-256 of the DER, `AB:CD:…`. */
  readonly fingerprint: string;
  /** The label given for this anchor (e.g. the `known_clients` file name), if any. */
  readonly name: string | undefined;
  /** True when the anchor is the caller's own certificate (a pinned end-entity certificate). */
  readonly pinned: boolean;
  readonly certificate: Certificate;
}

/**
 * The authenticated caller. Every field comes from a path our validator accepted, never from
 * unvalidated bytes. Frozen. `S` is where the certificate came from: `'tls'` for the connection
 * itself, or a proxy header's format (`@certified/hono` narrows it).
 */
export interface CertifiedPeer<S extends string = string> {
  /** RFC 4514 subject, e.g. `CN=Ada Lovelace`. */
  readonly subject: string;
  readonly commonName: string | undefined;
  readonly altNames: CertifiedAltNames;
  /** SHA-256 of the certificate DER, `AB:CD:…` (`openssl x509 -fingerprint -sha256`). */
  readonly fingerprint: string;
  readonly certificate: Certificate;
  /** The validated path, peer first, anchor last. */
  readonly path: ValidatedPath;
  readonly anchor: CertifiedAnchor;
  readonly source: S;
}

/** How {@link certifiedPeer} labels the result. */
export interface CertifiedPeerOptions<S extends string = 'tls'> {
  /** Where the certificate came from; default `'tls'`. */
  readonly source?: S;
  /** Anchor labels by SHA-256 fingerprint (`AB:CD:…`): `anchor.name`, e.g. a `known_clients` file name. */
  readonly anchorNames?: ReadonlyMap<string, string> | undefined;
}

/**
 * The caller a validated path describes, in the shape every certified transport hands to handlers.
 *
 * @param path - a path `PathValidator.validate` accepted (`result.ok`).
 * @param options.source - where the certificate came from; default `'tls'`.
 * @param options.anchorNames - labels for anchors by fingerprint (`anchor.name`).
 * @returns a frozen {@link CertifiedPeer}.
 * @example
 * ```ts
 * const r = await validator.validate({ peer, chain, purpose: 'clientAuth' });
 * if (r.ok) console.log(certifiedPeer(r).subject); // 'CN=Ada Lovelace'
 * ```
 */
export function certifiedPeer<S extends string = 'tls'>(
  path: ValidatedPath,
  options: CertifiedPeerOptions<S> = {},
): CertifiedPeer<S> {
  const alt = {
    dns: [] as string[],
    ip: [] as string[],
    email: [] as string[],
    uri: [] as string[],
  };
  for (const g of path.peer.altNames)
    if (g.type === 'dns' || g.type === 'ip' || g.type === 'email' || g.type === 'uri')
      alt[g.type].push(g.value);
  const anchorFp = fingerprint(path.anchor);
  const anchor: CertifiedAnchor = Object.freeze({
    subject: nameText(path.anchor.subject),
    commonName: commonNameOf(path.anchor.subject),
    fingerprint: anchorFp,
    name: options.anchorNames?.get(anchorFp),
    // A path of one certificate is a peer that is itself an anchor (pinned).
    pinned: path.path.length === 1,
    certificate: path.anchor,
  });
  return Object.freeze({
    subject: nameText(path.peer.subject),
    commonName: path.peer.commonName,
    altNames: Object.freeze({
      dns: Object.freeze(alt.dns),
      ip: Object.freeze(alt.ip),
      email: Object.freeze(alt.email),
      uri: Object.freeze(alt.uri),
    }),
    fingerprint: fingerprint(path.peer.certificate),
    certificate: path.peer.certificate,
    path,
    anchor,
    source: (options.source ?? 'tls') as S,
  });
}

function nameText(name: Name): string {
  try {
    return formatName(name);
  } catch {
    return ''; // a validated certificate with an unprintable name: leave it to `certificate`
  }
}
