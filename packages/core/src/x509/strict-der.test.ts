/**
 * Strict DER (issue 11, item 7): encodings that RFC 5280 and X.690 forbid, made the way an
 * attacker would — the tbsCertificate written by hand, then signed with a real key, so only the
 * encoding differs from a certificate we accept — refused wherever the certificate sits: as the
 * peer (ERR_CHAIN_PEER_MALFORMED), as a presented intermediate (unreadable, so skipped: no path),
 * and as an anchor (createPathValidator throws ERR_CERT_MALFORMED). Every refusal has a control
 * built the same way with the strict encoding, which validates. Then the acceptances the README's
 * Rules name: no SAN on a client, PKCS #1 v1.5 without NULL, RSA-PSS salts, critical EKU on a CA.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, requireOpenssl } from '../../test/openssl.js';
import { thrown } from '@certified/testing';
import { createPathValidator, type ValidatePathResult } from '../chain/validate-path.js';
import type { CertificateInput } from '../chain/certificate-pool.js';
import { decodeCsr } from '../csr/csr.js';
import { encodePem } from '../encoding/pem.js';
import {
  asciiString,
  bitString,
  bool,
  ctx,
  explicit,
  int,
  nullValue,
  octets,
  oid,
  seq,
  set,
  TAG,
  time,
  tlv,
} from '../internal/der.js';
import { p1363ToDer } from '../internal/ecdsa-sig.js';
import { EKU, OID } from '../internal/oids.js';
import { generateKeyPair } from '../keys/keys.js';
import { parsePublicKeyInfo, type PublicKeyInfo } from '../keys/public-key-info.js';
import { CA_KEY_USAGE, keyIdentifier, randomSerial } from './build-certificate.js';
import { decodeCertificate, parseCertificate } from './certificate.js';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  extKeyUsageValue,
  keyUsageValue,
  subjectAltNameValue,
} from './extensions.js';
import { dnsName } from './general-name.js';
import { encodeName, organizationName, personName, type Name } from './name.js';

const TIME = new Date('2030-06-01T00:00:00Z');
const NOT_BEFORE = new Date('2030-01-01T00:00:00Z');
const NOT_AFTER = new Date('2031-01-01T00:00:00Z');
const subtle = globalThis.crypto.subtle;
const bytes = (b: ArrayBuffer): Uint8Array => new Uint8Array(b);

// --- a hand-made certificate: every part an argument, signed by a real key ---

/** A real signing key, and the AlgorithmIdentifier written beside its signatures (the attacker's choice). */
interface Signer {
  readonly algorithm: Uint8Array;
  sign(tbs: Uint8Array): Promise<Uint8Array>;
}

const ed25519Signer = (key: CryptoKey, algorithm = seq(oid(OID.ed25519))): Signer => ({
  algorithm,
  sign: async (tbs) => bytes(await subtle.sign('Ed25519', key, tbs as Uint8Array<ArrayBuffer>)),
});

const ecdsaSigner = (key: CryptoKey, algorithm = seq(oid(OID.ecdsaSha256))): Signer => ({
  algorithm,
  sign: async (tbs) =>
    p1363ToDer(
      bytes(
        await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, tbs as Uint8Array<ArrayBuffer>),
      ),
    ),
});

/** RSASSA-PSS with `saltLength`, under an AlgorithmIdentifier written as given. */
const pssSigner = (key: CryptoKey, saltLength: number, algorithm: Uint8Array): Signer => ({
  algorithm,
  sign: async (tbs) =>
    bytes(await subtle.sign({ name: 'RSA-PSS', saltLength }, key, tbs as Uint8Array<ArrayBuffer>)),
});

const pkcs1Signer = (key: CryptoKey, algorithm: Uint8Array): Signer => ({
  algorithm,
  sign: async (tbs) =>
    bytes(await subtle.sign('RSASSA-PKCS1-v1_5', key, tbs as Uint8Array<ArrayBuffer>)),
});

/** RSASSA-PSS-params with exactly the fields given (undefined: the field is omitted). */
function pssAlgorithm(o: {
  hash?: string;
  mgfHash?: string;
  saltLength?: number;
  trailerField?: number;
}): Uint8Array {
  return seq(
    oid(OID.rsaPss),
    seq(
      ...(o.hash ? [explicit(0, seq(oid(o.hash)))] : []),
      ...(o.mgfHash ? [explicit(1, seq(oid(OID.mgf1), seq(oid(o.mgfHash))))] : []),
      ...(o.saltLength === undefined ? [] : [explicit(2, int(o.saltLength))]),
      ...(o.trailerField === undefined ? [] : [explicit(3, int(o.trailerField))]),
    ),
  );
}
/** What a strict signer writes for RSA-PSS with SHA-256: hash and MGF1 always, salt unless 20. */
const pssSha256 = (saltLength: number): Uint8Array =>
  pssAlgorithm({
    hash: OID.sha256,
    mgfHash: OID.sha256,
    ...(saltLength === 20 ? {} : { saltLength }),
  });

/** How an extension's `critical` BOOLEAN is written: TRUE, omitted (FALSE), or FALSE written out. */
type Critical = boolean | 'explicit-false';
const ext = (id: string, value: Uint8Array, critical: Critical = false): Uint8Array =>
  seq(
    oid(id),
    ...(critical === true ? [bool(true)] : critical === 'explicit-false' ? [bool(false)] : []),
    octets(value),
  );

/** A certificate holder: its name and public key. */
interface Party {
  readonly name: Name;
  readonly info: PublicKeyInfo;
}

interface CraftOptions {
  readonly subject: Party;
  /** Self-signed when omitted. */
  readonly issuer?: Party;
  readonly signer: Signer;
  readonly ca?: boolean;
  /** Encoded Time values; default UTCTime NOT_BEFORE / NOT_AFTER. */
  readonly notBefore?: Uint8Array;
  readonly notAfter?: Uint8Array;
  /** basicConstraints extnValue; default what DER requires (cA TRUE for a CA, empty otherwise). */
  readonly basicConstraints?: Uint8Array;
  /** How the (non-critical) subjectKeyIdentifier's critical flag is written. */
  readonly skiCritical?: Critical;
  /** extKeyUsage of the certificate; default serverAuth+clientAuth on leaves, none on CAs. */
  readonly eku?: { readonly purposes: readonly string[]; readonly critical: boolean } | null;
  /** The leaf's subjectAltName; default DNS strict.example; null omits it. */
  readonly san?: null;
  /** tbsCertificate.signature; default the signer's algorithm. */
  readonly tbsAlgorithm?: Uint8Array;
}

/** Encodes a tbsCertificate part by part and signs it: the DER an attacker would send. */
async function craft(o: CraftOptions): Promise<Uint8Array> {
  const issuer = o.issuer ?? o.subject;
  const ca = o.ca ?? false;
  const eku =
    o.eku === undefined
      ? ca
        ? null
        : { purposes: [EKU.serverAuth, EKU.clientAuth], critical: false }
      : o.eku;
  const extensions = [
    ext(OID.basicConstraints, o.basicConstraints ?? basicConstraintsValue({ ca }), true),
    ext(OID.keyUsage, keyUsageValue(ca ? CA_KEY_USAGE : ['digitalSignature']), true),
    ...(eku ? [ext(OID.extKeyUsage, extKeyUsageValue(eku.purposes), eku.critical)] : []),
    ...(ca || o.san === null
      ? []
      : [ext(OID.subjectAltName, subjectAltNameValue([dnsName('strict.example')]))]),
    ext(
      OID.subjectKeyIdentifier,
      tlv(TAG.OCTET_STRING, keyIdentifier(o.subject.info)),
      o.skiCritical,
    ),
    ...(o.issuer
      ? [ext(OID.authorityKeyIdentifier, authorityKeyIdentifierValue(keyIdentifier(issuer.info)))]
      : []),
  ];
  const tbs = seq(
    explicit(0, int(2)),
    tlv(TAG.INTEGER, randomSerial(undefined)),
    o.tbsAlgorithm ?? o.signer.algorithm,
    encodeName(issuer.name),
    seq(o.notBefore ?? time(NOT_BEFORE), o.notAfter ?? time(NOT_AFTER)),
    encodeName(o.subject.name),
    o.subject.info.spki,
    tlv(ctx(3, true), seq(...extensions)),
  );
  return seq(tbs, o.signer.algorithm, bitString(await o.signer.sign(tbs)));
}

const generalizedTime = (s: string): Uint8Array => asciiString(TAG.GENERALIZED_TIME, s);
const utcTime = (s: string): Uint8Array => asciiString(TAG.UTC_TIME, s);

// --- keys and the ordinary PKI the crafted certificates hang from ---

interface Holder extends Party {
  readonly keys: CryptoKeyPair;
}

async function holder(name: Name, algorithm: 'Ed25519' | 'P-256'): Promise<Holder> {
  const keys = await generateKeyPair({ algorithm });
  const info = parsePublicKeyInfo(bytes(await subtle.exportKey('spki', keys.publicKey)));
  return { name, info, keys };
}
const signerOf = (h: Holder): Signer =>
  h.info.algorithm === 'Ed25519'
    ? ed25519Signer(h.keys.privateKey)
    : ecdsaSigner(h.keys.privateKey);

let root: Holder; // Ed25519 root CA
let mid: Holder; // Ed25519 intermediate CA
let leaf: Holder; // Ed25519 end entity
let ecRoot: Holder; // P-256 root CA
let rsa: { name: Name; info: PublicKeyInfo; pss: CryptoKey; pssSha1: CryptoKey; pkcs1: CryptoKey };
let rootDer: Uint8Array; // the ordinary Ed25519 root certificate
let midDer: Uint8Array; // the ordinary intermediate under it

beforeAll(async () => {
  root = await holder(organizationName({ organization: 'Strict Root' }), 'Ed25519');
  mid = await holder(organizationName({ organization: 'Strict Intermediate' }), 'Ed25519');
  leaf = await holder(personName({ commonName: 'Strict Leaf' }), 'Ed25519');
  ecRoot = await holder(organizationName({ organization: 'Strict EC Root' }), 'P-256');
  const pair = (await subtle.generateKey(
    {
      name: 'RSA-PSS',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const pkcs8 = await subtle.exportKey('pkcs8', pair.privateKey);
  rsa = {
    name: organizationName({ organization: 'Strict RSA Root' }),
    info: parsePublicKeyInfo(bytes(await subtle.exportKey('spki', pair.publicKey))),
    pss: pair.privateKey,
    pssSha1: await subtle.importKey('pkcs8', pkcs8, { name: 'RSA-PSS', hash: 'SHA-1' }, false, [
      'sign',
    ]),
    pkcs1: await subtle.importKey(
      'pkcs8',
      pkcs8,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    ),
  };
  rootDer = await craft({ subject: root, signer: signerOf(root), ca: true });
  midDer = await craft({ subject: mid, issuer: root, signer: signerOf(root), ca: true });
});

// --- validation helpers ---

function validate(
  anchors: readonly CertificateInput[],
  peer: Uint8Array,
  chain: readonly Uint8Array[] = [],
  more: { purpose?: 'clientAuth' | 'serverAuth'; peerName?: string; profile?: 'webpki' } = {},
): Promise<ValidatePathResult> {
  return createPathValidator({
    anchors,
    ...(more.profile ? { profile: more.profile } : {}),
  }).validate({
    peer,
    chain,
    purpose: more.purpose ?? 'clientAuth',
    time: TIME,
    ...(more.peerName === undefined ? {} : { peerName: more.peerName }),
  });
}

function expectAccepted(r: ValidatePathResult, length: number): void {
  expect(r.ok ? 'accepted' : `${r.code}: ${r.message}`).toBe('accepted');
  if (r.ok) expect(r.path).toHaveLength(length);
}

function expectRefused(r: ValidatePathResult, code: string, certIndex: number): string {
  expect(r.ok, 'expected a refusal').toBe(false);
  if (r.ok) return '';
  expect(r.code).toBe(code);
  expect(r.certIndex).toBe(certIndex);
  return r.message;
}

/** The parse error of `der`, asserted code first. */
function expectMalformed(der: Uint8Array, field: string, reason: string): string {
  const e = thrown(() => decodeCertificate(der));
  expect(e.code).toBe('ERR_CERT_MALFORMED');
  expect(e.field).toBe(field);
  expect(e.reason).toBe(reason);
  return e.message;
}

/** createPathValidator refuses the anchor with its parse error. */
function expectAnchorRefused(der: Uint8Array, field: string, reason: string): void {
  const e = thrown(() => createPathValidator({ anchors: [der] }));
  expect(e.code).toBe('ERR_CERT_MALFORMED');
  expect(e.field).toBe(field);
  expect(e.reason).toBe(reason);
}

/**
 * One forbidden encoding at each position that matters. `make(bad)` builds the certificate at that
 * position with (bad) or without (control) the encoding, plus what completes its path.
 */
interface Placement {
  readonly anchors: readonly Uint8Array[];
  readonly peer: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly length: number;
}
function refusedAtEveryPosition(
  what: string,
  field: string,
  reason: string,
  make: {
    peer?: (bad: boolean) => Promise<Placement>;
    intermediate?: (bad: boolean) => Promise<Placement>;
    anchor?: (bad: boolean) => Promise<Placement>;
  },
): void {
  if (make.peer)
    it(`refuses ${what} as the peer with ERR_CHAIN_PEER_MALFORMED (${reason})`, async () => {
      const good = await make.peer!(false);
      expectAccepted(await validate(good.anchors, good.peer, good.chain), good.length);
      const bad = await make.peer!(true);
      const message = expectRefused(
        await validate(bad.anchors, bad.peer, bad.chain),
        'ERR_CHAIN_PEER_MALFORMED',
        0,
      );
      expect(message).toContain('ERR_CERT_MALFORMED');
      expectMalformed(bad.peer, field, reason);
    });
  if (make.intermediate)
    it(`skips ${what} as a presented intermediate (ERR_CHAIN_NO_PATH), refuses it as a configured one`, async () => {
      const good = await make.intermediate!(false);
      expectAccepted(await validate(good.anchors, good.peer, good.chain), good.length);
      const bad = await make.intermediate!(true);
      expectRefused(await validate(bad.anchors, bad.peer, bad.chain), 'ERR_CHAIN_NO_PATH', 0);
      expectMalformed(bad.chain[0]!, field, reason);
      // Configured (not presented) intermediates are the validator's own input: refused up front.
      const e = thrown(() =>
        createPathValidator({ anchors: bad.anchors, intermediates: bad.chain }),
      );
      expect(e.code).toBe('ERR_CERT_MALFORMED');
      expect(e.reason).toBe(reason);
    });
  if (make.anchor)
    it(`refuses ${what} as an anchor: createPathValidator throws ERR_CERT_MALFORMED`, async () => {
      const good = await make.anchor!(false);
      expectAccepted(await validate(good.anchors, good.peer, good.chain), good.length);
      const bad = await make.anchor!(true);
      expectAnchorRefused(bad.anchors[0]!, field, reason);
    });
}

/** A leaf under the ordinary root (path of 2), crafted with `o`. */
const leafUnderRoot = async (o: Partial<CraftOptions> = {}): Promise<Placement> => ({
  anchors: [rootDer],
  peer: await craft({ subject: leaf, issuer: root, signer: signerOf(root), ...o }),
  chain: [],
  length: 2,
});
/** The intermediate crafted with `o`, presented under the ordinary root, and a leaf under it. */
const intermediateUnderRoot = async (o: Partial<CraftOptions> = {}): Promise<Placement> => ({
  anchors: [rootDer],
  peer: await craft({ subject: leaf, issuer: mid, signer: signerOf(mid) }),
  chain: [await craft({ subject: mid, issuer: root, signer: signerOf(root), ca: true, ...o })],
  length: 3,
});
/** The root crafted with `o` as the anchor, and a leaf under it. */
const rootAsAnchor = async (o: Partial<CraftOptions> = {}): Promise<Placement> => ({
  anchors: [await craft({ subject: root, signer: signerOf(root), ca: true, ...o })],
  peer: await craft({ subject: leaf, issuer: root, signer: signerOf(root) }),
  chain: [],
  length: 2,
});

// --- (a) GeneralizedTime before 2050 ---

describe('(a) validity dates: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
  const NB_GENERALIZED = generalizedTime('20300101000000Z'); // = NOT_BEFORE, in the wrong form
  const NA_GENERALIZED = generalizedTime('20310101000000Z'); // = NOT_AFTER, in the wrong form

  refusedAtEveryPosition(
    'a notBefore of 2030 written as GeneralizedTime',
    'validity.notBefore',
    'GeneralizedTime before 2050',
    {
      peer: (bad) => leafUnderRoot(bad ? { notBefore: NB_GENERALIZED } : {}),
      intermediate: (bad) => intermediateUnderRoot(bad ? { notBefore: NB_GENERALIZED } : {}),
      anchor: (bad) => rootAsAnchor(bad ? { notBefore: NB_GENERALIZED } : {}),
    },
  );
  refusedAtEveryPosition(
    'a notAfter of 2031 written as GeneralizedTime',
    'validity.notAfter',
    'GeneralizedTime before 2050',
    {
      peer: (bad) => leafUnderRoot(bad ? { notAfter: NA_GENERALIZED } : {}),
      intermediate: (bad) => intermediateUnderRoot(bad ? { notAfter: NA_GENERALIZED } : {}),
      anchor: (bad) => rootAsAnchor(bad ? { notAfter: NA_GENERALIZED } : {}),
    },
  );

  it('says which date and why in the message', async () => {
    const { peer } = await leafUnderRoot({ notBefore: NB_GENERALIZED });
    expect(expectMalformed(peer, 'validity.notBefore', 'GeneralizedTime before 2050')).toBe(
      "The certificate's notBefore (2030-01-01T00:00:00.000Z) is a GeneralizedTime; RFC 5280 §4.1.2.5 requires UTCTime for dates through 2049.",
    );
  });

  it('draws the line between 2049 and 2050 in both directions', async () => {
    const at = async (notAfter: Uint8Array): Promise<Uint8Array> =>
      (await leafUnderRoot({ notAfter })).peer;
    // The last second of 2049 must be UTCTime; the first of 2050 must be GeneralizedTime.
    expectMalformed(
      await at(generalizedTime('20491231235959Z')),
      'validity.notAfter',
      'GeneralizedTime before 2050',
    );
    expect(decodeCertificate(await at(utcTime('491231235959Z'))).notAfter).toEqual(
      new Date('2049-12-31T23:59:59Z'),
    );
    expect(decodeCertificate(await at(generalizedTime('20500101000000Z'))).notAfter).toEqual(
      new Date('2050-01-01T00:00:00Z'),
    );
    // UTCTime cannot name 2050 or later: "50" is 1950, never 2050 (RFC 5280 §4.1.2.5.1).
    expect(decodeCertificate(await at(utcTime('500101000000Z'))).notAfter).toEqual(
      new Date('1950-01-01T00:00:00Z'),
    );
    // Before 1950 only GeneralizedTime can say it.
    expect(
      decodeCertificate(
        (await leafUnderRoot({ notBefore: generalizedTime('19491231235959Z') })).peer,
      ).notBefore,
    ).toEqual(new Date('1949-12-31T23:59:59Z'));
  });

  it('accepts a path whose dates from 2050 on are GeneralizedTime, as core itself writes them', async () => {
    const { anchors, peer } = await leafUnderRoot({
      notAfter: generalizedTime('20500101000000Z'),
    });
    const anchor = await craft({
      subject: root,
      signer: signerOf(root),
      ca: true,
      notAfter: generalizedTime('20600101000000Z'),
    });
    expect(time(new Date('2050-01-01T00:00:00Z'))[0]).toBe(TAG.GENERALIZED_TIME);
    expectAccepted(await validate([anchor], peer), 2);
    expectAccepted(await validate(anchors, peer), 2);
  });
});

// --- (b) basicConstraints cA FALSE written out ---

describe('(b) basicConstraints with cA FALSE written out (DEFAULT, X.690 §11.5)', () => {
  const CA_FALSE = seq(bool(false));

  refusedAtEveryPosition(
    'an end entity whose basicConstraints encode cA FALSE',
    'basicConstraints',
    'explicit DEFAULT cA',
    {
      peer: (bad) => leafUnderRoot(bad ? { basicConstraints: CA_FALSE } : {}),
      // A pinned end entity: the anchor is the peer itself.
      anchor: async (bad) => {
        const pinned = await craft({
          subject: leaf,
          issuer: root,
          signer: signerOf(root),
          ...(bad ? { basicConstraints: CA_FALSE } : {}),
        });
        return { anchors: [pinned], peer: pinned, chain: [], length: 1 };
      },
    },
  );

  it('refuses an intermediate that writes cA FALSE as unreadable, not as a non-CA', async () => {
    // With or without the encoding, such an intermediate cannot issue; the code tells which rule refused it.
    const plain = await intermediateUnderRoot({ basicConstraints: seq() });
    expect(
      expectRefused(await validate(plain.anchors, plain.peer, plain.chain), 'ERR_CHAIN_PROFILE', 1),
    ).toMatch(/keyCertSign but basicConstraints does not assert cA/);
    const bad = await intermediateUnderRoot({ basicConstraints: CA_FALSE });
    expectMalformed(bad.chain[0]!, 'basicConstraints', 'explicit DEFAULT cA');
    expectRefused(await validate(bad.anchors, bad.peer, bad.chain), 'ERR_CHAIN_NO_PATH', 0);
  });

  it('still reads cA TRUE with a pathLenConstraint, and an empty SEQUENCE as cA FALSE', async () => {
    const ca = decodeCertificate(
      await craft({
        subject: mid,
        issuer: root,
        signer: signerOf(root),
        ca: true,
        basicConstraints: seq(bool(true), int(0)),
      }),
    );
    expect(ca.basicConstraints).toEqual({ ca: true, pathLength: 0 });
    expect(decodeCertificate((await leafUnderRoot()).peer).basicConstraints).toEqual({ ca: false });
  });

  it('refuses a request (CSR) whose extensionRequest writes cA FALSE too: one strict reader', async () => {
    const csr = await craftCsr([ext(OID.basicConstraints, seq(bool(false)), true)]);
    const e = thrown(() => decodeCsr(csr));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.reason).toBe('explicit DEFAULT cA');
    expect(
      decodeCsr(await craftCsr([ext(OID.basicConstraints, seq(), true)])).basicConstraints,
    ).toEqual({ ca: false });
  });
});

/** A PKCS #10 request from `leaf`'s key carrying `extensions` in an extensionRequest. */
async function craftCsr(extensions: readonly Uint8Array[]): Promise<Uint8Array> {
  const info = seq(
    int(0),
    encodeName(leaf.name),
    leaf.info.spki,
    tlv(ctx(0, true), seq(oid('1.2.840.113549.1.9.14'), set(seq(...extensions)))),
  );
  const s = signerOf(leaf);
  return seq(info, s.algorithm, bitString(await s.sign(info)));
}

// --- (c) critical FALSE written out ---

describe('(c) an extension with critical FALSE written out (DEFAULT, X.690 §11.5)', () => {
  refusedAtEveryPosition(
    'a subjectKeyIdentifier that encodes critical FALSE',
    'extensions',
    'explicit DEFAULT critical',
    {
      peer: (bad) => leafUnderRoot(bad ? { skiCritical: 'explicit-false' } : {}),
      intermediate: (bad) => intermediateUnderRoot(bad ? { skiCritical: 'explicit-false' } : {}),
      anchor: (bad) => rootAsAnchor(bad ? { skiCritical: 'explicit-false' } : {}),
    },
  );

  it('names the extension in the message', async () => {
    const { peer } = await leafUnderRoot({ skiCritical: 'explicit-false' });
    expect(expectMalformed(peer, 'extensions', 'explicit DEFAULT critical')).toBe(
      'The extension 2.5.29.14 encodes critical FALSE, but it is the DEFAULT, which DER omits (X.690 §11.5).',
    );
  });

  it('refuses it in a request (CSR) too', async () => {
    const csr = await craftCsr([
      ext(OID.subjectAltName, subjectAltNameValue([dnsName('a.example')]), 'explicit-false'),
    ]);
    const e = thrown(() => decodeCsr(csr));
    expect(e.code).toBe('ERR_CERT_MALFORMED');
    expect(e.reason).toBe('explicit DEFAULT critical');
  });
});

// --- (d) RSASSA-PSS parameters ---

describe('(d) RSASSA-PSS parameters (RFC 4055 §3.1)', () => {
  /** The RSA root, self-signed with RSA-PSS SHA-256 and `saltLength` written under `algorithm`. */
  const rsaRootCert = (saltLength = 32, algorithm = pssSha256(saltLength)): Promise<Uint8Array> =>
    craft({ subject: rsa, signer: pssSigner(rsa.pss, saltLength, algorithm), ca: true });
  const SALT_20_WRITTEN = pssAlgorithm({ hash: OID.sha256, mgfHash: OID.sha256, saltLength: 20 });

  refusedAtEveryPosition(
    'RSA-PSS with saltLength 20 written out',
    'signatureAlgorithm',
    'explicit DEFAULT saltLength',
    {
      // The control omits saltLength 20, as DER requires: the same salt, verified.
      peer: async (bad) => ({
        anchors: [await rsaRootCert()],
        peer: await craft({
          subject: leaf,
          issuer: rsa,
          signer: pssSigner(rsa.pss, 20, bad ? SALT_20_WRITTEN : pssSha256(20)),
        }),
        chain: [],
        length: 2,
      }),
      intermediate: async (bad) => ({
        anchors: [await rsaRootCert()],
        peer: await craft({ subject: leaf, issuer: mid, signer: signerOf(mid) }),
        chain: [
          await craft({
            subject: mid,
            issuer: rsa,
            signer: pssSigner(rsa.pss, 20, bad ? SALT_20_WRITTEN : pssSha256(20)),
            ca: true,
          }),
        ],
        length: 3,
      }),
      // The anchor's own signature is never verified, but its parameters are read.
      anchor: async (bad) => ({
        anchors: [await rsaRootCert(20, bad ? SALT_20_WRITTEN : pssSha256(20))],
        peer: await craft({
          subject: leaf,
          issuer: rsa,
          signer: pssSigner(rsa.pss, 32, pssSha256(32)),
        }),
        chain: [],
        length: 2,
      }),
    },
  );

  it('says what is wrong in the message', async () => {
    const der = await craft({
      subject: leaf,
      issuer: rsa,
      signer: pssSigner(rsa.pss, 20, SALT_20_WRITTEN),
    });
    expect(expectMalformed(der, 'signatureAlgorithm', 'explicit DEFAULT saltLength')).toBe(
      "The certificate's signatureAlgorithm is malformed: its RSASSA-PSS parameters encode saltLength 20, the DEFAULT, which DER omits (X.690 §11.5).",
    );
  });

  it('reads tbsCertificate.signature as strictly as the outer signatureAlgorithm', async () => {
    const der = await craft({
      subject: leaf,
      issuer: rsa,
      signer: pssSigner(rsa.pss, 20, pssSha256(20)),
      tbsAlgorithm: SALT_20_WRITTEN,
    });
    expectMalformed(der, 'signature', 'explicit DEFAULT saltLength');
  });

  it('accepts SHA-256 with any salt: 20 (omitted), 32 and 0', async () => {
    const anchor = await rsaRootCert();
    for (const salt of [20, 32, 0]) {
      const peer = await craft({
        subject: leaf,
        issuer: rsa,
        signer: pssSigner(rsa.pss, salt, pssSha256(salt)),
      });
      expectAccepted(await validate([anchor], peer), 2);
    }
  });

  it('accepts trailerField 1 written out, which RFC 4055 §3.1 requires validators to accept', async () => {
    const algorithm = pssAlgorithm({
      hash: OID.sha256,
      mgfHash: OID.sha256,
      saltLength: 32,
      trailerField: 1,
    });
    const anchor = await rsaRootCert(32, algorithm);
    const peer = await craft({
      subject: leaf,
      issuer: rsa,
      signer: pssSigner(rsa.pss, 32, algorithm),
    });
    expectAccepted(await validate([anchor], peer), 2);
    const other = pssAlgorithm({
      hash: OID.sha256,
      mgfHash: OID.sha256,
      saltLength: 32,
      trailerField: 2,
    });
    expectMalformed(
      await craft({ subject: leaf, issuer: rsa, signer: pssSigner(rsa.pss, 32, other) }),
      'signatureAlgorithm',
      'trailerField not 1',
    );
  });

  it('reads sha1Identifier and mgf1SHA1Identifier written out (RFC 4055 §3.1), then refuses SHA-1', async () => {
    const anchor = await rsaRootCert();
    for (const algorithm of [
      pssAlgorithm({ hash: OID.sha1, mgfHash: OID.sha1 }),
      pssAlgorithm({ hash: OID.sha1 }),
      pssAlgorithm({}), // every field DEFAULT: SHA-1, MGF1 with SHA-1, salt 20
    ]) {
      const peer = await craft({
        subject: leaf,
        issuer: rsa,
        signer: pssSigner(rsa.pssSha1, 20, algorithm),
      });
      expect(decodeCertificate(peer).signatureAlgorithm.oid).toBe(OID.rsaPss);
      const message = expectRefused(await validate([anchor], peer), 'ERR_CHAIN_ALGORITHM', 0);
      expect(message).toContain('SHA-1');
    }
  });

  it('refuses RSA-PSS without parameters, which RFC 4055 §3.1 requires in a signature algorithm', async () => {
    const der = await craft({
      subject: leaf,
      issuer: rsa,
      signer: pssSigner(rsa.pssSha1, 20, seq(oid(OID.rsaPss))),
    });
    expectMalformed(der, 'signatureAlgorithm', 'parameters missing');
  });

  it('refuses hash parameters other than NULL or absent, and misplaced fields', async () => {
    const hashWithParams = seq(
      oid(OID.rsaPss),
      seq(
        explicit(0, seq(oid(OID.sha256), int(0))),
        explicit(1, seq(oid(OID.mgf1), seq(oid(OID.sha256)))),
        explicit(2, int(32)),
      ),
    );
    expectMalformed(
      await craft({ subject: leaf, issuer: rsa, signer: pssSigner(rsa.pss, 32, hashWithParams) }),
      'signatureAlgorithm',
      'hash parameters not NULL',
    );
    const hashWithNull = seq(
      oid(OID.rsaPss),
      seq(
        explicit(0, seq(oid(OID.sha256), nullValue())),
        explicit(1, seq(oid(OID.mgf1), seq(oid(OID.sha256), nullValue()))),
        explicit(2, int(32)),
      ),
    );
    const anchor = await rsaRootCert();
    expectAccepted(
      await validate(
        [anchor],
        await craft({ subject: leaf, issuer: rsa, signer: pssSigner(rsa.pss, 32, hashWithNull) }),
      ),
      2,
    );
    const saltFirst = seq(
      oid(OID.rsaPss),
      seq(
        explicit(2, int(32)),
        explicit(0, seq(oid(OID.sha256))),
        explicit(1, seq(oid(OID.mgf1), seq(oid(OID.sha256)))),
      ),
    );
    expectMalformed(
      await craft({ subject: leaf, issuer: rsa, signer: pssSigner(rsa.pss, 32, saltFirst) }),
      'signatureAlgorithm',
      'malformed RSASSA-PSS-params',
    );
  });
});

// --- an anchor's own signature algorithm, of every kind ---

describe("an anchor's own signatureAlgorithm parameters are read like every certificate's", () => {
  it('refuses an ECDSA anchor whose algorithm carries NULL parameters (RFC 5758 §3.2)', async () => {
    const withNull = seq(oid(OID.ecdsaSha256), nullValue());
    const good = await craft({ subject: ecRoot, signer: signerOf(ecRoot), ca: true });
    const peer = await craft({ subject: leaf, issuer: ecRoot, signer: signerOf(ecRoot) });
    expectAccepted(await validate([good], peer), 2);
    const bad = await craft({
      subject: ecRoot,
      signer: ecdsaSigner(ecRoot.keys.privateKey, withNull),
      ca: true,
    });
    expectAnchorRefused(bad, 'signatureAlgorithm', 'parameters present');
    // As the peer it was refused before (ERR_CHAIN_ALGORITHM, when verified); now it is unreadable.
    const badPeer = await craft({
      subject: leaf,
      issuer: ecRoot,
      signer: ecdsaSigner(ecRoot.keys.privateKey, withNull),
    });
    expectRefused(await validate([good], badPeer), 'ERR_CHAIN_PEER_MALFORMED', 0);
  });

  it('refuses an Ed25519 anchor whose algorithm carries parameters (RFC 8410 §3)', async () => {
    const bad = await craft({
      subject: root,
      signer: ed25519Signer(root.keys.privateKey, seq(oid(OID.ed25519), nullValue())),
      ca: true,
    });
    expectAnchorRefused(bad, 'signatureAlgorithm', 'parameters present');
  });

  it('refuses an RSA PKCS #1 v1.5 anchor whose parameters are not NULL (RFC 4055 §5)', async () => {
    const bad = await craft({
      subject: rsa,
      signer: pkcs1Signer(rsa.pkcs1, seq(oid(OID.sha256WithRsa), seq())),
      ca: true,
    });
    expectAnchorRefused(bad, 'signatureAlgorithm', 'parameters not NULL');
  });

  it('still accepts an anchor self-signed with an algorithm we refuse to verify (SHA-1): its signature is never checked', async () => {
    const anchor = await craft({
      subject: rsa,
      signer: pssSigner(rsa.pssSha1, 20, pssAlgorithm({})),
      ca: true,
    });
    const peer = await craft({
      subject: leaf,
      issuer: rsa,
      signer: pssSigner(rsa.pss, 32, pssSha256(32)),
    });
    expectAccepted(await validate([anchor], peer), 2);
  });
});

// --- what the README's Rules accept, each checked ---

describe('acceptances the Rules name', () => {
  it('accepts a client certificate without a subjectAltName, under both profiles, when no name is asked for', async () => {
    const peer = await craft({ subject: leaf, issuer: root, signer: signerOf(root), san: null });
    expect(decodeCertificate(peer).subjectAltNames).toBeUndefined();
    expectAccepted(await validate([rootDer], peer), 2);
    expectAccepted(await validate([rootDer], peer, [], { profile: 'webpki' }), 2);
    // Asked for a name, it has none to match (there is no commonName fallback).
    expectRefused(
      await validate([rootDer], peer, [], { peerName: 'strict.example' }),
      'ERR_CHAIN_PEER_NAME',
      0,
    );
  });

  it('accepts sha256WithRSAEncryption with NULL parameters and without (RFC 4055 §5)', async () => {
    const withNull = seq(oid(OID.sha256WithRsa), nullValue());
    const absent = seq(oid(OID.sha256WithRsa));
    for (const [anchorAlg, peerAlg] of [
      [withNull, absent],
      [absent, withNull],
    ] as const) {
      const anchor = await craft({
        subject: rsa,
        signer: pkcs1Signer(rsa.pkcs1, anchorAlg),
        ca: true,
      });
      const peer = await craft({
        subject: leaf,
        issuer: rsa,
        signer: pkcs1Signer(rsa.pkcs1, peerAlg),
      });
      expect(decodeCertificate(peer).signatureAlgorithm.parameters).toEqual(
        peerAlg === withNull ? nullValue() : undefined,
      );
      expectAccepted(await validate([anchor], peer), 2);
    }
  });

  it('accepts a critical extKeyUsage on a CA — intermediate or anchor — and applies it along the path', async () => {
    const critical = { purposes: [EKU.clientAuth], critical: true };
    const inter = await craft({
      subject: mid,
      issuer: root,
      signer: signerOf(root),
      ca: true,
      eku: critical,
    });
    const peer = await craft({ subject: leaf, issuer: mid, signer: signerOf(mid) });
    expectAccepted(await validate([rootDer], peer, [inter]), 3);
    expectRefused(
      await validate([rootDer], peer, [inter], { purpose: 'serverAuth' }),
      'ERR_CHAIN_EKU',
      1,
    );
    const anchor = await craft({ subject: root, signer: signerOf(root), ca: true, eku: critical });
    expectAccepted(await validate([anchor], peer, [midDer]), 3);
  });
});

// --- the same bytes through OpenSSL ---

const hasOpenssl = requireOpenssl('the OpenSSL checks in strict-der.test.ts');

describe.skipIf(!hasOpenssl)(
  'openssl reads the crafted certificates and shows the encodings',
  () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'certified-strict-der-'));
    });
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const ossl = (...args: string[]): string =>
      execFileSync('openssl', args, {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const put = (name: string, der: Uint8Array): string => {
      writeFileSync(join(dir, name), encodePem('CERTIFICATE', der));
      return name;
    };

    it('each forbidden encoding is a certificate openssl parses, with exactly that element in it', async () => {
      const cases: [string, Uint8Array, RegExp][] = [
        [
          'generalized.pem',
          (await leafUnderRoot({ notBefore: generalizedTime('20300101000000Z') })).peer,
          /GENERALIZEDTIME\s+:20300101000000Z/,
        ],
        [
          'ca-false.pem',
          (await leafUnderRoot({ basicConstraints: seq(bool(false)) })).peer,
          /X509v3 Basic Constraints\n.*BOOLEAN\s+:255\n.*OCTET STRING\s+\[HEX DUMP\]:3003010100/,
        ],
        [
          'critical-false.pem',
          (await leafUnderRoot({ skiCritical: 'explicit-false' })).peer,
          /X509v3 Subject Key Identifier\n.*BOOLEAN\s+:0/,
        ],
        [
          'pss-salt-20.pem',
          await craft({
            subject: leaf,
            issuer: rsa,
            signer: pssSigner(
              rsa.pss,
              20,
              pssAlgorithm({ hash: OID.sha256, mgfHash: OID.sha256, saltLength: 20 }),
            ),
          }),
          /cont \[ 2 \]\s*\n.*INTEGER\s+:14/,
        ],
      ];
      for (const [name, der, pattern] of cases) {
        put(name, der);
        expect(ossl('x509', '-in', name, '-noout', '-subject')).toContain('Strict Leaf');
        expect(ossl('asn1parse', '-in', name, '-i')).toMatch(pattern);
        expect(() => decodeCertificate(der)).toThrow();
      }
    });

    it('openssl never writes saltLength 20 for RSA-PSS (nor cA FALSE), and we accept what it writes', async () => {
      ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key');
      writeFileSync(
        join(dir, 'ext.cnf'),
        [
          '[req]',
          'distinguished_name = dn',
          '[dn]',
          '[ca]',
          'basicConstraints = critical, CA:true',
          'keyUsage = critical, keyCertSign, cRLSign',
          'subjectKeyIdentifier = hash',
          '[leaf]',
          'basicConstraints = critical, CA:false',
          'keyUsage = critical, digitalSignature',
          'extendedKeyUsage = clientAuth',
          'subjectKeyIdentifier = hash',
          'authorityKeyIdentifier = keyid:always',
          '',
        ].join('\n'),
      );
      const pss = ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:20'];
      ossl(
        'req',
        '-x509',
        '-new',
        '-key',
        'rsa.key',
        '-subj',
        '/O=OpenSSL PSS Root',
        '-days',
        '30',
        '-config',
        'ext.cnf',
        '-extensions',
        'ca',
        ...pss,
        '-out',
        'root.pem',
      );
      ossl(
        'req',
        '-new',
        '-key',
        'rsa.key',
        '-subj',
        '/CN=OpenSSL Leaf',
        '-config',
        'ext.cnf',
        '-out',
        'leaf.csr',
      );
      ossl(
        'x509',
        '-req',
        '-in',
        'leaf.csr',
        '-CA',
        'root.pem',
        '-CAkey',
        'rsa.key',
        '-set_serial',
        '7',
        '-days',
        '7',
        '-extfile',
        'ext.cnf',
        '-extensions',
        'leaf',
        ...pss,
        '-out',
        'leaf.pem',
      );
      const text = ossl('x509', '-in', 'leaf.pem', '-noout', '-text');
      expect(text).toContain('Salt Length: 0x14');
      const parsed = ossl('asn1parse', '-in', 'leaf.pem', '-i');
      expect(parsed).not.toMatch(/cont \[ 2 \]/); // saltLength 20 left out: DEFAULT
      expect(parsed).toMatch(
        /X509v3 Basic Constraints\n.*BOOLEAN\s+:255\n.*OCTET STRING\s+\[HEX DUMP\]:3000\n/,
      );
      const rootPem = readFileSync(join(dir, 'root.pem'), 'utf8');
      const leafPem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
      // openssl dates certificates from the real clock: validate a minute after the leaf begins.
      const r = await createPathValidator({ anchors: [rootPem] }).validate({
        peer: leafPem,
        purpose: 'clientAuth',
        time: new Date(parseCertificate(leafPem).notBefore.getTime() + 60_000),
      });
      expectAccepted(r, 2);
    });
  },
);
