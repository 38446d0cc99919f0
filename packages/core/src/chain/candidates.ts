/**
 * @module chain/candidates — candidate search: which certificates could have issued a given one
 * (anchors, presented CAs, configured intermediates), indexed once per trust context.
 */
import { CertificateMalformed } from '../errors.js';
import { equalBytes } from '../internal/bytes.js';
import { bytesOf, Cursor, TAG } from '../internal/der.js';
import type { Certificate } from '../x509/certificate.js';
import { decodeAuthorityKeyIdentifier } from '../x509/extensions.js';
import { nameKey } from '../x509/name.js';
import {
  decodeSigned,
  pendingImport,
  prepareVerifyKey,
  verifyX509Signature,
  type AlgorithmIdentifier,
} from '../x509/signature.js';
import {
  type CertificatePool,
  derHashOf,
  hashBytes,
  type CertificateInput,
} from './certificate-pool.js';
import { factsOf } from './facts.js';
import { asIssuer, subjectKeyOf } from './profile.js';
import type { Prefetched } from './signatures.js';

/** Where issuers come from, for one trust context: anchors first, then presented and configured CAs. */
export interface IssuerIndex {
  /** The anchors, deduplicated by bytes. */
  readonly anchors: readonly Certificate[];
  /** The anchor with `c`'s exact bytes, if any. */
  isAnchorDer(c: Certificate): Certificate | undefined;
  /**
   * Issuers whose subject matches `child`'s issuer name by RFC 5280 §7.1 comparison, each with
   * whether it is an anchor. A keyIdentifier that differs from the candidate's subjectKeyIdentifier
   * rules it out. Anchors come first: they end the path soonest.
   */
  candidatesFor(
    child: Certificate,
    kid: Uint8Array | undefined,
    presented: readonly Certificate[],
  ): [Certificate, boolean][];
  /**
   * For DER not yet seen (the caller checks the pool first): start verifying the peer's signature
   * before its full parse, so the threadpool works while this thread parses and checks.
   * - Issuer name known (remembered by its bytes) and matched by exactly one usable CA among the
   *   presented chain, configured intermediates and anchors: verify under it.
   * - Otherwise, a chain whose first certificate names the peer's issuer byte for byte, with a
   *   matching key identifier (a new intermediate, the cold case): parse that one, start its own
   *   signature under the anchor that issued it, import its key and verify the peer with it. Both
   *   are links the search would check first; the caller takes the parse along.
   * The full parse that follows covers the same bytes, synchronously.
   */
  earlyVerify(
    der: Uint8Array,
    chain: readonly CertificateInput[] | undefined,
    signatures: number,
  ): Early | undefined;
}

/** Verifications {@link IssuerIndex.earlyVerify} started, and the presented CA it parsed for them. */
export interface Early {
  readonly peer: Prefetched;
  /**
   * The peer's verification waits for its issuer's key, being imported: it is dispatched once the
   * caller awaits this (and the caller must not read the input's buffers after that await).
   */
  readonly keyPending?: Promise<unknown> | undefined;
  /** The chain's first certificate, parsed (`pool.get(der, 'if-admitted')`), and its own link. */
  readonly presented?: {
    readonly cert: Certificate;
    readonly upper: Prefetched | undefined;
  };
}

/**
 * Indexes a trust context's anchors and configured intermediates (parsed through `pool`) by
 * normalised subject, and remembers normalised issuer names by their DER: every leaf under one CA
 * repeats the same bytes.
 */
export function createIssuerIndex(
  pool: CertificatePool,
  anchorInputs: readonly CertificateInput[],
  intermediateInputs: readonly CertificateInput[],
  subtle: SubtleCrypto,
): IssuerIndex {
  const anchors = dedupe(anchorInputs.map((a) => pool.get(a)));
  for (const a of anchors) prepareVerifyKey(a.publicKey, subtle);
  const anchorDer = new Map<number, Certificate[]>();
  for (const a of anchors) push(anchorDer, derHashOf(a), a);
  const anchorSet = new Set(anchors);
  const isAnchorDer = (c: Certificate): Certificate | undefined => {
    if (anchorSet.has(c)) return c;
    return anchorDer.get(derHashOf(c))?.find((a) => equalBytes(a.der, c.der));
  };
  // Configured intermediates that are also anchors are anchors only.
  const configured = dedupe(intermediateInputs.map((c) => pool.get(c))).filter(
    (c) => !isAnchorDer(c),
  );
  const anchorBySubject = indexBySubject(anchors);
  // Anchors by the hash of their subjectKeyIdentifier: the cold early verification finds a new
  // intermediate's issuer by bytes, normalising no name.
  const anchorByKid = new Map<number, Certificate[]>();
  for (const a of anchors)
    if (a.subjectKeyIdentifier) push(anchorByKid, hashBytes(a.subjectKeyIdentifier), a);
  const configuredBySubject = indexBySubject(configured);

  // Normalised issuer names, remembered by their DER: every leaf under one CA repeats the same bytes.
  const issuerKeys = new Map<number, { der: Uint8Array; key: string }[]>();
  const issuerKeyOf = (c: Certificate): string => {
    const h = hashBytes(c.issuerDer);
    const hit = issuerKeys.get(h)?.find((e) => equalBytes(e.der, c.issuerDer));
    if (hit) return hit.key;
    const key = equalBytes(c.issuerDer, c.subjectDer) ? subjectKeyOf(c) : nameKey(c.issuer);
    if (issuerKeys.size >= 256) issuerKeys.delete(issuerKeys.keys().next().value!);
    push(issuerKeys, h, { der: c.issuerDer.slice(), key });
    return key;
  };

  function candidatesFor(
    child: Certificate,
    kid: Uint8Array | undefined,
    presented: readonly Certificate[],
  ): [Certificate, boolean][] {
    const fits = (c: Certificate): boolean =>
      !kid || !c.subjectKeyIdentifier || equalBytes(kid, c.subjectKeyIdentifier);
    const key = issuerKeyOf(child);
    const out: [Certificate, boolean][] = [];
    for (const a of anchorBySubject.get(key) ?? []) if (fits(a)) out.push([a, true]);
    for (const c of presented) if (subjectKeyOf(c) === key && fits(c)) out.push([c, false]);
    for (const c of configuredBySubject.get(key) ?? [])
      if (fits(c) && !presented.some((p) => sameDer(p, c))) out.push([c, false]);
    return out;
  }

  return {
    anchors,
    isAnchorDer,
    candidatesFor,
    earlyVerify,
  };

  function earlyVerify(
    der: Uint8Array,
    chain: readonly CertificateInput[] | undefined,
    signatures: number,
  ): Early | undefined {
    if (der[0] !== 0x30) return undefined;
    let light: ReturnType<typeof lightRead>;
    try {
      light = lightRead(der);
    } catch {
      return undefined; // the full parse reports it
    }
    if (!light.kid) return undefined;
    const known = issuerKeys
      .get(hashBytes(light.issuerDer))
      ?.find((e) => equalBytes(e.der, light.issuerDer));
    if (!known) return signatures >= 2 ? coldVerify(der, light, chain) : undefined;
    const matches: [Certificate, boolean][] = [];
    for (const c of chain ?? []) {
      const cert = c instanceof Uint8Array && c[0] === 0x30 ? pool.peek(c) : undefined;
      if (cert && subjectKeyOf(cert) === known.key) matches.push([cert, !!isAnchorDer(cert)]);
    }
    for (const a of anchorBySubject.get(known.key) ?? []) matches.push([a, true]);
    for (const c of configuredBySubject.get(known.key) ?? []) matches.push([c, false]);
    const fitting = matches.filter(
      ([c]) => c.subjectKeyIdentifier && equalBytes(c.subjectKeyIdentifier, light.kid!),
    );
    if (fitting.length !== 1 || asIssuer(fitting[0]![0], fitting[0]![1])) return undefined;
    return { peer: start(fitting[0]![0], light) };
  }

  /**
   * The cold case of {@link earlyVerify}: the peer's issuer is the chain's first certificate, not
   * seen before. Its link to an anchor is dispatched first, so the threadpool verifies it while
   * this thread imports the new key; the peer's link follows, and the peer's full parse and checks
   * then run while both are verified.
   */
  function coldVerify(
    peer: Uint8Array,
    light: LightRead,
    chain: readonly CertificateInput[] | undefined,
  ): Early | undefined {
    const der = chain?.[0];
    if (!(der instanceof Uint8Array) || der[0] !== 0x30 || equalBytes(der, peer)) return undefined;
    let cert: Certificate;
    try {
      cert = pool.get(der, 'if-admitted');
    } catch {
      return undefined; // unreadable: the search skips it
    }
    const kid = cert.subjectKeyIdentifier;
    if (!kid || !equalBytes(kid, light.kid!) || !equalBytes(cert.subjectDer, light.issuerDer))
      return undefined;
    // A certificate that cannot issue costs no verification, as in the search.
    if (isAnchorDer(cert) || asIssuer(cert, false)) return undefined;
    // Its issuer, if an anchor: the one whose name (byte for byte) and key identifier it names.
    // The anchor's profile is checked by the search: a verification is a pure function of its
    // bytes, and this is the one any path through this chain would need.
    const akid = cert.authorityKeyIdentifier?.keyIdentifier;
    const anchor = akid
      ? anchorByKid
          .get(hashBytes(akid))
          ?.find(
            (a) =>
              equalBytes(a.subjectKeyIdentifier!, akid) && equalBytes(a.subjectDer, cert.issuerDer),
          )
      : undefined;
    const upper = anchor && !factsOf(cert).verifiedBy ? start(anchor, cert) : undefined;
    // The peer's link is dispatched only once the key is imported, after the caller's buffer may
    // have changed: it verifies copies of the bytes read now.
    const own = {
      signatureAlgorithm: light.signatureAlgorithm,
      tbs: light.tbs.slice(),
      signature: light.signature.slice(),
    };
    return {
      peer: start(cert, own),
      keyPending: pendingImport(cert.publicKey, own.signatureAlgorithm),
      presented: { cert, upper },
    };
  }

  function start(
    issuer: Certificate,
    child: Pick<Certificate, 'signatureAlgorithm' | 'tbs' | 'signature'>,
  ): Prefetched {
    const ok = verifyX509Signature(
      issuer.publicKey,
      child.signatureAlgorithm,
      child.tbs,
      child.signature,
      subtle,
    );
    ok.catch(() => undefined);
    return { key: issuer.publicKey, ok };
  }
}

type LightRead = ReturnType<typeof lightRead>;

/** Is `b[start..end)` the content of OID 2.5.29.35 (authorityKeyIdentifier)? */
const isAkiOid = (b: Uint8Array, start: number, end: number): boolean =>
  end - start === 3 && b[start] === 0x55 && b[start + 1] === 0x1d && b[start + 2] === 0x23;

/** What verifying a certificate's signature needs: its TBS, algorithm, signature, issuer and AKI. */
export function lightRead(der: Uint8Array): {
  tbs: Uint8Array;
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Uint8Array;
  issuerDer: Uint8Array;
  kid: Uint8Array | undefined;
} {
  const { body, signatureAlgorithm, signature } = decodeSigned(
    der,
    {
      root: 'certificate',
      body: 'tbsCertificate',
      signature: 'signatureValue',
      what: 'certificate',
    },
    CertificateMalformed,
  );
  const c = Cursor.of(der, body);
  if (c.peekTag() === 0xa0) c.next();
  c.next(TAG.INTEGER);
  c.next(TAG.SEQUENCE);
  const issuer = c.next(TAG.SEQUENCE);
  c.next(TAG.SEQUENCE); // validity
  c.next(TAG.SEQUENCE); // subject
  c.next(TAG.SEQUENCE); // subjectPublicKeyInfo
  let kid: Uint8Array | undefined;
  while (!c.done) {
    const t = c.next();
    if (t.tag !== 0xa3) continue;
    // Only the AKI is wanted: match its OID's bytes rather than decoding every extension (the full
    // parse that follows checks them all).
    const list = Cursor.of(der, Cursor.of(der, t).next(TAG.SEQUENCE));
    while (!list.done) {
      const ext = Cursor.of(der, list.next(TAG.SEQUENCE));
      const oid = ext.next(TAG.OID);
      if (!isAkiOid(der, oid.valueStart, oid.end)) continue;
      if (ext.peekTag() === TAG.BOOLEAN) ext.next();
      const value = ext.next(TAG.OCTET_STRING);
      kid = decodeAuthorityKeyIdentifier(der.subarray(value.valueStart, value.end)).keyIdentifier;
    }
  }
  return {
    tbs: bytesOf(der, body),
    signatureAlgorithm,
    signature,
    issuerDer: bytesOf(der, issuer),
    kid,
  };
}

export const sameDer = (a: Certificate, b: Certificate): boolean =>
  a === b || equalBytes(a.der, b.der);

export function dedupe(certs: Certificate[]): Certificate[] {
  const out: Certificate[] = [];
  for (const c of certs) if (!out.some((o) => o === c || equalBytes(o.der, c.der))) out.push(c);
  return out;
}

export function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export function indexBySubject(certs: readonly Certificate[]): Map<string, Certificate[]> {
  const m = new Map<string, Certificate[]>();
  for (const c of certs) push(m, subjectKeyOf(c), c);
  return m;
}
