/**
 * @module peer — the authenticated caller as the middleware puts it on the context
 * (`c.get('certified')`), built from a validated path; anchor labels (which `known_clients` entry
 * let the caller in); and {@link createClientTrust}, the validator and labels of an identity.
 */
import {
  commonNameOf,
  createPathValidator,
  fingerprint,
  formatName,
  parseCertificate,
  type Certificate,
  type CertificateInput,
  type Name,
  type PathValidator,
  type PathValidatorOptions,
  type ValidatedPath,
} from '@certified/core';
import { clientAnchors, type Identity } from '@certified/identity';
import type { ForwardedFormat } from './proxy-headers.js';

/** Where the certificate came from: the TLS connection itself, or a proxy's header. */
export type CertificateSource = 'tls' | ForwardedFormat;

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
 * The authenticated caller: `c.get('certified')` after {@link requireClientCert}. Every field comes
 * from a path our validator accepted, never from unvalidated bytes. Frozen.
 */
export interface CertifiedPeer {
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
  readonly source: CertificateSource;
}

/** The context variables `requireClientCert` sets, for `new Hono<{ Variables: CertifiedVariables }>()`. */
export interface CertifiedVariables {
  /** The authenticated caller. */
  certified: CertifiedPeer;
}

/** A label for a trust anchor, reported as `anchor.name` when a path ends at that certificate. */
export interface AnchorLabel {
  /** e.g. the `known_clients` file name (`ada` for `known_clients/ada.crt`). */
  readonly name: string;
  readonly certificate: CertificateInput;
}

/** A validator and the labels of its anchors, ready to spread into `requireClientCert` options. */
export interface ClientTrust {
  readonly validator: PathValidator;
  readonly anchors: readonly AnchorLabel[];
}

/**
 * The trust an identity gives its callers: a validator over `known_clients/*.crt` (CA certificates,
 * whose signees may call, and pinned end-entity certificates) and one label per anchor, the file
 * name without `.crt` (`self`, `org`, `ada`). A certificate in several files takes the first name.
 * Build a new one when `known_clients` changes, and hand it over through a function-valued option.
 *
 * @param identity - a loaded identity (`loadIdentity`), or anything with its `knownClients`.
 * @param options - more validator options (`intermediates`, `profile`, `crypto`, …); not `anchors`.
 * @throws the parse codes of `createPathValidator` for an unreadable certificate.
 * @example
 * let trust = createClientTrust(await loadIdentity(store));
 * app.use(requireClientCert({ validator: () => trust.validator, anchors: () => trust.anchors }));
 */
export function createClientTrust(
  identity: Pick<Identity, 'knownClients'>,
  options: Omit<PathValidatorOptions, 'anchors'> = {},
): ClientTrust {
  const files = identity?.knownClients;
  if (!Array.isArray(files))
    throw new TypeError('identity must be an Identity with knownClients (loadIdentity)');
  const anchors = clientAnchors(identity as Identity);
  const labels = (files as Identity['knownClients']).flatMap((f) =>
    f.certificates.map((certificate) => ({ name: f.name, certificate })),
  );
  return Object.freeze({
    validator: createPathValidator({ ...options, anchors }),
    anchors: Object.freeze(labels),
  });
}

// --- internal (used by the middleware, not exported from the package) ---

/** Anchor names by certificate fingerprint; the first label of a certificate wins. */
export type AnchorNames = ReadonlyMap<string, string>;

/** Indexes labels by fingerprint; checks their shape (caller bugs are TypeErrors). */
export function indexAnchorLabels(labels: readonly AnchorLabel[], what: string): AnchorNames {
  if (!Array.isArray(labels))
    throw new TypeError(
      `${what} must be an array of { name, certificate }, received ${typeof labels}`,
    );
  const out = new Map<string, string>();
  labels.forEach((l: AnchorLabel, i) => {
    if (!l || typeof l !== 'object' || typeof l.name !== 'string' || l.name === '')
      throw new TypeError(`${what}[${i}].name must be a non-empty string`);
    const c = l.certificate;
    const der =
      c instanceof Uint8Array || typeof c === 'string'
        ? parseCertificate(c).der
        : c && typeof c === 'object' && c.der instanceof Uint8Array
          ? c.der
          : undefined;
    if (!der)
      throw new TypeError(`${what}[${i}].certificate must be a Certificate, DER bytes or PEM text`);
    const fp = fingerprint(der);
    if (!out.has(fp)) out.set(fp, l.name);
  });
  return out;
}

/** The context value for a validated path. */
export function buildPeer(
  path: ValidatedPath,
  source: CertificateSource,
  names: AnchorNames | undefined,
): CertifiedPeer {
  const cert = path.peer.certificate;
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
    name: names?.get(anchorFp),
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
    fingerprint: fingerprint(cert),
    certificate: cert,
    path,
    anchor,
    source,
  });
}

function nameText(name: Name): string {
  try {
    return formatName(name);
  } catch {
    return ''; // a validated certificate with an unprintable name: leave it to `certificate`
  }
}
