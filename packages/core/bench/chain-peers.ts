/**
 * @module bench/chain-peers — "validate a certificate chain" done by other libraries, to benchmark beside
 * our own validator: PKI.js's CertificateChainValidationEngine, @peculiar/x509's X509ChainBuilder and
 * Node's native `node:crypto` X509Certificate, plus a raw WebCrypto verify as the "limit" baseline.
 *
 * Every peer function does the whole job from DER on every call, cold, as a TLS handshake would: parse
 * the three certificates, then validate leaf → intermediate → anchor at `f.time`. Nothing parsed is
 * cached between calls. Each is proven to accept a good chain and reject bad ones in
 * bench/chain-peers.test.ts, so the benchmark numbers measure real validations.
 *
 * Not part of the published package (bench/ is outside `files` and tsconfig.build.json).
 */
// @peculiar/x509 resolves its ASN.1 and signature formatters through tsyringe, which needs the
// Reflect metadata polyfill loaded before the library's module body runs: keep this import first.
import 'reflect-metadata';
import * as px509 from '@peculiar/x509';
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { derToP1363 } from '../src/internal/ecdsa-sig.js';
import {
  createSelfSignedCa,
  decodeCertificate,
  dnsName,
  generateKeyPair,
  issueCaCertificate,
  issueEndEntityCertificate,
  organizationName,
  personName,
  type Issuer,
} from '@certified/core';

/** A three-certificate chain as DER, with the validation time and the name the leaf must match. */
export interface ChainFixture {
  /** The trust anchor (self-signed root CA). */
  anchor: Uint8Array;
  /** The intermediate CA, issued by the anchor. */
  intermediate: Uint8Array;
  /** The end-entity certificate, issued by the intermediate. */
  leaf: Uint8Array;
  /** When to validate. */
  time: Date;
  /** The DNS name in the leaf's subjectAltName. */
  hostname: string;
}

/** One full chain validation from DER: resolves if the chain is valid, rejects otherwise. */
export type PeerValidate = () => Promise<void>;

/** Key types the fixtures are built with. */
export type FixtureAlgorithm = 'P-256' | 'Ed25519';

/** A good chain and three variants each peer must refuse. */
export interface FixtureSet {
  /** A valid chain at `time`. */
  good: ChainFixture;
  /**
   * The leaf is issued by a different intermediate with the same subject name but another key; the
   * fixture still carries the genuine intermediate, so the leaf's issuer is missing.
   */
  foreignIssuer: ChainFixture;
  /** The good chain, validated one month after the leaf's notAfter (the CAs are still valid). */
  expired: ChainFixture;
  /** The good chain with the last byte of the leaf's signature flipped. */
  tamperedSignature: ChainFixture;
}

// Fixed dates so every run validates the same bytes at the same time.
const NOT_BEFORE = new Date('2025-01-01T00:00:00Z');
const CA_NOT_AFTER = new Date('2035-01-01T00:00:00Z');
const LEAF_NOT_AFTER = new Date('2026-01-01T00:00:00Z');
const TIME = new Date('2025-06-01T00:00:00Z');
const EXPIRED_TIME = new Date('2026-02-01T00:00:00Z');
const HOSTNAME = 'leaf.example.com';

/**
 * Builds a P-256 or Ed25519 chain with @certified/core: a self-signed anchor (pathLength 1), an
 * intermediate CA, and a leaf with `altNames: [dnsName('leaf.example.com')]`.
 */
export async function makeFixture(alg: FixtureAlgorithm): Promise<ChainFixture> {
  return (await buildChain(alg)).fixture;
}

/** {@link makeFixture}'s good chain plus the bad variants the peer tests must see rejected. */
export async function makeFixtureSet(alg: FixtureAlgorithm): Promise<FixtureSet> {
  const { fixture: good, anchorIssuer } = await buildChain(alg);
  // Same subject as the genuine intermediate, different key, issued by the same anchor.
  const rogueKeys = await generateKeyPair({ algorithm: alg });
  const rogue = await issueCaCertificate({
    issuer: anchorIssuer,
    subject: INTERMEDIATE_NAME,
    publicKey: rogueKeys.publicKey,
    notBefore: NOT_BEFORE,
    notAfter: CA_NOT_AFTER,
  });
  const foreignLeaf = await issueLeaf(alg, {
    certificate: rogue,
    privateKey: rogueKeys.privateKey,
  });
  const tampered = good.leaf.slice();
  tampered[tampered.length - 1]! ^= 0x01;
  return {
    good,
    foreignIssuer: { ...good, leaf: foreignLeaf },
    expired: { ...good, time: EXPIRED_TIME },
    tamperedSignature: { ...good, leaf: tampered },
  };
}

/**
 * PKI.js: `CertificateChainValidationEngine` with trustedCerts [anchor], certs [intermediate, leaf]
 * and checkDate `time`; `.result` must be true. No global `pkijs.setEngine`: a `CryptoEngine` over
 * `globalThis.crypto` is passed to `verify()`.
 *
 * Order matters: the engine validates the *last* certificate of trustedCerts ++ certs as the end
 * entity (`sort()`: `leafCert = localCerts[localCerts.length - 1]`). With certs [leaf, intermediate]
 * it validates only intermediate → anchor and never looks at the leaf, so it "accepts" an expired,
 * tampered or foreign-issued leaf (the tests caught this).
 *
 * Returns undefined for Ed25519 chains: PKI.js 4.0.0's CryptoEngine has no Ed25519 signature support.
 * `getHashAlgorithm()` knows no hash for OID 1.3.101.112, so `Certificate.verify()` throws
 * `Error: Unsupported signature algorithm: 1.3.101.112` (CryptoEngine.verifyWithPublicKey), which
 * the chain engine swallows while looking for issuers and reports as `{ result: false, resultCode:
 * -1, resultMessage: 'No valid certificate paths found' }` — on a perfectly good chain.
 */
export async function pkijsEngine(f: ChainFixture): Promise<PeerValidate | undefined> {
  if (isEd25519(f)) return undefined;
  const crypto = new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto });
  const [anchor, intermediate, leaf] = buffers(f);
  return async function pkijsValidate() {
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: [pkijs.Certificate.fromBER(anchor)],
      certs: [pkijs.Certificate.fromBER(intermediate), pkijs.Certificate.fromBER(leaf)],
      checkDate: f.time,
    });
    const r = await engine.verify({}, crypto);
    if (!r.result) throw new Error(`PKI.js refused the chain: ${r.resultCode} ${r.resultMessage}`);
  };
}

/**
 * @peculiar/x509: `X509ChainBuilder` over [intermediate, anchor] builds the leaf's chain. The builder
 * picks each issuer by subject name, AKI/SKI and a signature check (`verify({ signatureOnly: true })`),
 * so a built link's signature is already verified — and the anchor's self-signature is checked too, to
 * stop the walk. We then require three certificates ending at the anchor's exact DER, every certificate
 * within its validity at `time` (the date half of `X509Certificate.verify`, without verifying each
 * signature a second time), and a CA basicConstraints on the intermediate.
 */
export async function peculiarX509(f: ChainFixture): Promise<PeerValidate | undefined> {
  const crypto = globalThis.crypto;
  const [anchorDer, intermediateDer, leafDer] = buffers(f);
  return async function peculiarValidate() {
    const leaf = new px509.X509Certificate(leafDer);
    const intermediate = new px509.X509Certificate(intermediateDer);
    const anchor = new px509.X509Certificate(anchorDer);
    const chain = await new px509.X509ChainBuilder({ certificates: [intermediate, anchor] }).build(
      leaf,
      crypto,
    );
    if (chain.length !== 3 || !bytesEqual(new Uint8Array(chain[2]!.rawData), anchorDer))
      throw new Error(`@peculiar/x509 built no path to the anchor (${chain.length} certificates)`);
    const t = f.time.getTime();
    for (const c of chain)
      if (t < c.notBefore.getTime() || t > c.notAfter.getTime())
        throw new Error(`@peculiar/x509: ${c.subject} is not valid at ${f.time.toISOString()}`);
    const bc = chain[1]!.getExtension(px509.BasicConstraintsExtension);
    if (!bc?.ca) throw new Error('@peculiar/x509: the intermediate is not a CA');
  };
}

/**
 * Node's native `node:crypto` X509Certificate (OpenSSL): parse the three certificates, then
 * `checkIssued` + `verify(issuer.publicKey)` for leaf → intermediate and intermediate → anchor,
 * validFrom/validTo of all three against `time`, `leaf.checkHost(hostname)`, and `intermediate.ca`.
 */
export async function nodeNative(f: ChainFixture): Promise<PeerValidate | undefined> {
  const { anchor: anchorDer, intermediate: intermediateDer, leaf: leafDer } = f;
  return async function nodeValidate() {
    const leaf = new NodeX509Certificate(leafDer);
    const intermediate = new NodeX509Certificate(intermediateDer);
    const anchor = new NodeX509Certificate(anchorDer);
    if (!intermediate.ca) throw new Error('node:crypto: the intermediate is not a CA');
    if (!leaf.checkIssued(intermediate) || !leaf.verify(intermediate.publicKey))
      throw new Error('node:crypto: the leaf is not signed by the intermediate');
    if (!intermediate.checkIssued(anchor) || !intermediate.verify(anchor.publicKey))
      throw new Error('node:crypto: the intermediate is not signed by the anchor');
    const t = f.time.getTime();
    for (const c of [leaf, intermediate, anchor])
      if (t < Date.parse(c.validFrom) || t > Date.parse(c.validTo))
        throw new Error(`node:crypto: ${c.subject} is not valid at ${f.time.toISOString()}`);
    if (leaf.checkHost(f.hostname) === undefined)
      throw new Error(`node:crypto: the leaf does not match ${f.hostname}`);
  };
}

/**
 * The "limit" baseline: one raw WebCrypto verify of the leaf's signature with the intermediate's key,
 * imported once up front (and the signature converted to P1363 once), so each call is just
 * `subtle.verify`. Resolves to the verify result.
 */
export async function rawVerify(f: ChainFixture): Promise<() => Promise<boolean>> {
  const subtle = globalThis.crypto.subtle;
  const leaf = decodeCertificate(f.leaf);
  const issuerKey = decodeCertificate(f.intermediate).publicKey;
  const params = rawParams(issuerKey.algorithm, 'rawVerify');
  const key = await importSpki(issuerKey.spki, params);
  const [sig, tbs] = [rawSignature(leaf.signature, params, 'rawVerify'), buf(leaf.tbs)];
  return function rawValidate() {
    return subtle.verify(params.sign, key, sig, tbs);
  };
}

/**
 * The floor for a new leaf: decode it (our decoder, the fastest we have) and verify its signature
 * with the intermediate's key imported up front; nothing else, no check at all. Any validator must do
 * at least this, so a goal above what it reaches cannot be met. Each call takes the next leaf.
 */
export async function decodeAndVerify(
  f: ChainFixture,
  leaves: readonly Uint8Array[],
): Promise<() => Promise<boolean>> {
  const subtle = globalThis.crypto.subtle;
  const issuerKey = decodeCertificate(f.intermediate).publicKey;
  const params = rawParams(issuerKey.algorithm, 'decodeAndVerify');
  const key = await importSpki(issuerKey.spki, params);
  let at = 0;
  return async function decodeThenVerify() {
    const leaf = decodeCertificate(leaves[at++ % leaves.length]!);
    const signature = rawSignature(leaf.signature, params, 'decodeAndVerify');
    if (!(await subtle.verify(params.sign, key, signature, buf(leaf.tbs))))
      throw new Error('decodeAndVerify: a leaf does not verify');
    return true;
  };
}

/**
 * The floor for a chain never seen: decode the leaf and the intermediate, verify the intermediate
 * with the anchor's key (imported up front, as a validator does when it is created), import the
 * intermediate's key and verify the leaf with it. The intermediate's verification is dispatched
 * first, so the threadpool works while this thread imports; nothing else, no check at all. Each
 * call decodes fresh copies of the bytes, as a handshake hands over new buffers.
 */
export async function decodeChainAndVerify(f: ChainFixture): Promise<() => Promise<boolean>> {
  const subtle = globalThis.crypto.subtle;
  const anchorKey = decodeCertificate(f.anchor).publicKey;
  const params = rawParams(anchorKey.algorithm, 'decodeChainAndVerify');
  const rootKey = await importSpki(anchorKey.spki, params);
  const p1363 = (sig: Uint8Array) => rawSignature(sig, params, 'decodeChainAndVerify');
  return async function decodeChainThenVerify() {
    const leaf = decodeCertificate(f.leaf.slice());
    const intermediate = decodeCertificate(f.intermediate.slice());
    const upper = subtle.verify(
      params.sign,
      rootKey,
      p1363(intermediate.signature),
      buf(intermediate.tbs),
    );
    const key = await subtle.importKey(
      'raw',
      buf(intermediate.publicKey.publicKey),
      params.key,
      false,
      ['verify'],
    );
    const lower = subtle.verify(params.sign, key, p1363(leaf.signature), buf(leaf.tbs));
    if (!(await upper) || !(await lower))
      throw new Error('decodeChainAndVerify: the chain does not verify');
    return true;
  };
}

/**
 * One raw WebCrypto import of the intermediate's public key, as the validator imports it (the raw
 * point for ECDSA and Ed25519, the SPKI for RSA): a cold validation cannot avoid one, so it belongs
 * in the floor beside the two verifications.
 */
export async function rawImport(f: ChainFixture): Promise<() => Promise<CryptoKey>> {
  const subtle = globalThis.crypto.subtle;
  const key = decodeCertificate(f.intermediate).publicKey;
  const params = rawParams(key.algorithm, 'rawImport');
  const rsa = key.algorithm.startsWith('RSA');
  const data = buf(rsa ? key.spki : key.publicKey);
  return function importOnce() {
    return subtle.importKey(rsa ? 'spki' : 'raw', data, params.key, false, ['verify']);
  };
}

// --- internal ---

const ANCHOR_NAME = organizationName({ organization: 'Bench', unit: 'Root CA' });
const INTERMEDIATE_NAME = organizationName({ organization: 'Bench', unit: 'Issuing CA' });

/**
 * {@link makeFixture}'s chain plus `count` more leaves under the same intermediate (one key pair,
 * distinct certificates): the steady-state handshake case, where every peer is new.
 */
export async function makeFixtureWithLeaves(
  alg: FixtureAlgorithm,
  count: number,
): Promise<{ fixture: ChainFixture; leaves: Uint8Array[] }> {
  const { fixture, intermediateIssuer } = await buildChain(alg);
  const keys = await generateKeyPair({ algorithm: alg });
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < count; i++)
    leaves.push(await issueLeaf(alg, intermediateIssuer, `leaf ${i}`, keys));
  return { fixture, leaves };
}

async function buildChain(
  alg: FixtureAlgorithm,
): Promise<{ fixture: ChainFixture; anchorIssuer: Issuer; intermediateIssuer: Issuer }> {
  const anchorKeys = await generateKeyPair({ algorithm: alg });
  // pathLength 1: the default 0 would forbid issuing the intermediate.
  const anchor = await createSelfSignedCa({
    subject: ANCHOR_NAME,
    keyPair: anchorKeys,
    pathLength: 1,
    notBefore: NOT_BEFORE,
    notAfter: CA_NOT_AFTER,
  });
  const anchorIssuer = { certificate: anchor, privateKey: anchorKeys.privateKey };
  const intermediateKeys = await generateKeyPair({ algorithm: alg });
  const intermediate = await issueCaCertificate({
    issuer: anchorIssuer,
    subject: INTERMEDIATE_NAME,
    publicKey: intermediateKeys.publicKey,
    notBefore: NOT_BEFORE,
    notAfter: CA_NOT_AFTER,
  });
  const intermediateIssuer = { certificate: intermediate, privateKey: intermediateKeys.privateKey };
  const leaf = await issueLeaf(alg, intermediateIssuer);
  return {
    fixture: {
      anchor: anchor.der,
      intermediate: intermediate.der,
      leaf,
      time: TIME,
      hostname: HOSTNAME,
    },
    anchorIssuer,
    intermediateIssuer,
  };
}

/** A leaf for `leaf.example.com` under `issuer`; a fresh key pair unless one is given. */
async function issueLeaf(
  alg: FixtureAlgorithm,
  issuer: Issuer,
  commonName = 'leaf',
  keys?: CryptoKeyPair,
): Promise<Uint8Array> {
  const publicKey = (keys ?? (await generateKeyPair({ algorithm: alg }))).publicKey;
  const leaf = await issueEndEntityCertificate({
    issuer,
    subject: personName({ commonName }),
    publicKey,
    altNames: [dnsName(HOSTNAME)],
    notBefore: NOT_BEFORE,
    notAfter: LEAF_NOT_AFTER,
  });
  return leaf.der;
}

const RAW_PARAMS: Partial<
  Record<
    string,
    { key: Algorithm | EcKeyImportParams; sign: Algorithm | EcdsaParams; size?: number }
  >
> = {
  Ed25519: { key: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  'P-256': {
    key: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
    size: 32,
  },
  'P-384': {
    key: { name: 'ECDSA', namedCurve: 'P-384' },
    sign: { name: 'ECDSA', hash: 'SHA-384' },
    size: 48,
  },
};

/** The WebCrypto parameters for a key type; `who` names the caller in the error. */
function rawParams(algorithm: string, who: string): NonNullable<(typeof RAW_PARAMS)[string]> {
  const params = RAW_PARAMS[algorithm];
  if (!params) throw new RangeError(`${who}: unsupported key type ${algorithm}`);
  return params;
}

/** A signature as WebCrypto verifies it: P1363 for ECDSA, as is otherwise. */
function rawSignature(
  sig: Uint8Array,
  params: NonNullable<(typeof RAW_PARAMS)[string]>,
  who: string,
): Uint8Array<ArrayBuffer> {
  const s = params.size === undefined ? sig : derToP1363(sig, params.size);
  if (!s) throw new Error(`${who}: malformed ECDSA signature`);
  return buf(s);
}

function importSpki(
  spki: Uint8Array,
  params: NonNullable<(typeof RAW_PARAMS)[string]>,
): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey('spki', buf(spki), params.key, false, ['verify']);
}

function isEd25519(f: ChainFixture): boolean {
  return [f.anchor, f.intermediate, f.leaf].some(
    (der) => decodeCertificate(der).publicKey.algorithm === 'Ed25519',
  );
}

/** An ArrayBuffer-backed copy (what the BufferSource parameters of PKI.js and WebCrypto accept). */
function buf(u: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(u);
}

/** anchor, intermediate, leaf as ArrayBuffer-backed copies, made once per peer, not per call. */
function buffers(
  f: ChainFixture,
): [Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>] {
  return [buf(f.anchor), buf(f.intermediate), buf(f.leaf)];
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
