/**
 * @module peer — the authenticated caller as the middleware puts it on the context
 * (`c.get('certified')`), built from a validated path; anchor labels (which `known_clients` entry
 * let the caller in); and {@link createClientTrust}, the validator and labels of an identity.
 */
import {
  certifiedPeer,
  createPathValidator,
  fingerprint,
  parseCertificate,
  type CertificateInput,
  type CertifiedPeer as CorePeer,
  type PathValidator,
  type PathValidatorOptions,
  type ValidatedPath,
} from '@certified/core';
import { clientAnchors, type Identity } from '@certified/identity';
import type { ForwardedFormat } from './proxy-headers.js';

/**
 * Where the certificate came from: the TLS connection itself, a proxy's header, or the
 * `Certified-Chain` of a signed request (`requireSignedRequest`).
 */
export type CertificateSource = 'tls' | ForwardedFormat | 'signature';

export type { CertifiedAltNames, CertifiedAnchor } from '@certified/core';

/**
 * The authenticated caller: `c.get('certified')` after {@link requireClientCert}. The same shape as
 * `@certified/node`'s `c.env.caller` and `grpcPeerOf(call)` (`CertifiedPeer` from `@certified/core`),
 * with `source` naming the proxy format when a proxy forwarded the certificate.
 */
export type CertifiedPeer = CorePeer<CertificateSource>;

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
  return certifiedPeer(path, { source, anchorNames: names });
}
