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
   * For DER not yet seen (the caller checks the pool first) whose issuer name is already known (remembered by its bytes) and matched
   * by exactly one usable CA among the presented chain, configured intermediates and anchors: start
   * verifying the signature. The full parse that follows covers the same bytes, synchronously.
   */
  earlyVerify(
    der: Uint8Array,
    chain: readonly CertificateInput[] | undefined,
  ): Prefetched | undefined;
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

  return {
    anchors,
    isAnchorDer,
    candidatesFor(child, kid, presented) {
      const fits = (c: Certificate): boolean =>
        !kid || !c.subjectKeyIdentifier || equalBytes(kid, c.subjectKeyIdentifier);
      const key = issuerKeyOf(child);
      const out: [Certificate, boolean][] = [];
      for (const a of anchorBySubject.get(key) ?? []) if (fits(a)) out.push([a, true]);
      for (const c of presented) if (subjectKeyOf(c) === key && fits(c)) out.push([c, false]);
      for (const c of configuredBySubject.get(key) ?? [])
        if (fits(c) && !presented.some((p) => sameDer(p, c))) out.push([c, false]);
      return out;
    },
    earlyVerify,
  };

  function earlyVerify(
    der: Uint8Array,
    chain: readonly CertificateInput[] | undefined,
  ): Prefetched | undefined {
    if (der[0] !== 0x30) return undefined;
    let light: ReturnType<typeof lightRead>;
    try {
      light = lightRead(der);
    } catch {
      return undefined; // the full parse reports it
    }
    const known = issuerKeys
      .get(hashBytes(light.issuerDer))
      ?.find((e) => equalBytes(e.der, light.issuerDer));
    if (!known || !light.kid) return undefined;
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
    const issuer = fitting[0]![0];
    const ok = verifyX509Signature(
      issuer.publicKey,
      light.signatureAlgorithm,
      light.tbs,
      light.signature,
      subtle,
    );
    ok.catch(() => undefined);
    return { key: issuer.publicKey, ok };
  }
}

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
