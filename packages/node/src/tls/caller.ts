/**
 * @module tls/caller — `env.caller` and `grpcPeerOf`: the caller in core's one `CertifiedPeer` shape,
 * built once per validated path (a connection's requests share it) and labelled with the anchor names
 * of the trust in force.
 */
import {
  certifiedPeer,
  fingerprint,
  type CertifiedPeer,
  type ValidatedPath,
} from '@certified/core';

interface Labelled {
  readonly anchors: readonly { readonly name: string; readonly certificate: { der: Uint8Array } }[];
}

const cache = new WeakMap<
  ValidatedPath,
  { trust: Labelled | undefined; caller: CertifiedPeer<'tls'> }
>();
const names = new WeakMap<Labelled, Map<string, string>>();

/** The caller `path` describes, `anchor.name` from `trust`'s labels (first label of a certificate wins). */
export function callerOf(path: ValidatedPath, trust?: Labelled): CertifiedPeer<'tls'> {
  const hit = cache.get(path);
  if (hit && hit.trust === trust) return hit.caller;
  const caller = certifiedPeer(path, { anchorNames: trust && namesOf(trust) });
  cache.set(path, { trust, caller });
  return caller;
}

function namesOf(trust: Labelled): Map<string, string> {
  let m = names.get(trust);
  if (!m) {
    m = new Map();
    for (const a of trust.anchors) {
      const fp = fingerprint(a.certificate);
      if (!m.has(fp)) m.set(fp, a.name);
    }
    names.set(trust, m);
  }
  return m;
}
