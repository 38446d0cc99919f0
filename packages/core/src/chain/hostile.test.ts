/**
 * Hostile inputs to the path validator: every case must end in a refusal (or the one valid path)
 * after bounded work. Work is asserted through `result.work` and, for signatures, through a
 * WebCrypto wrapper that counts `subtle.verify` calls — never through wall time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createPathValidator,
  createSelfSignedCa,
  dnsName,
  generateKeyPair,
  issueCaCertificate,
  issueEndEntityCertificate,
  personName,
  validatePath,
  type Certificate,
  type GeneralName,
  type Issuer,
  type Name,
  type PathValidatorOptions,
  type ValidatePathInput,
  type ValidatePathResult,
  type ValidationLimits,
  type WorkBudget,
} from '../index.js';
import {
  bitString,
  bytesOf,
  children,
  nullValue,
  oid,
  readRoot,
  seq,
  tlv,
  TAG,
} from '../internal/der.js';
import { OID } from '../internal/oids.js';
import { CA_KEY_USAGE, keyIdentifier, signTbs, spkiOf } from '../x509/build-certificate.js';
import {
  authorityKeyIdentifierValue,
  basicConstraintsValue,
  keyUsageValue,
} from '../x509/extensions.js';
import { decodeCertificate } from '../x509/certificate.js';
import { encodeName } from '../x509/name.js';
import { nameConstraintsOf } from './profile.js';
import { countingCrypto } from '../../test/counting-crypto.js';
import { hostileChain, type HostileChain } from '../../test/hostile-chain.js';
import { DEFAULT_VALIDATION_LIMITS } from './validate-path.js';

const DEFAULT_BUDGET: WorkBudget = {
  maxCandidates: 1000,
  maxSignatureChecks: 100,
  maxNameComparisons: 1 << 20,
  maxNameWork: 1 << 18,
};
/**
 * Size limits high enough that the blocks below reach path building: they test the work budget,
 * and the size limits (which would refuse most of them at once) have their own block.
 */
const NO_SIZE_LIMITS: Partial<ValidationLimits> = {
  maxChainCertificates: 1 << 16,
  maxChainBytes: 1 << 26,
  maxSubjectAltNames: 1 << 16,
  maxNameConstraintSubtrees: 1 << 16,
};
const DEFAULT_MAX_DEPTH = 8;

const ISSUED = new Date('2030-01-01T00:00:00Z');
const TIME = new Date('2030-01-02T00:00:00Z');
const NOT_BEFORE = new Date('2029-01-01T00:00:00Z');
const NOT_AFTER = new Date('2039-01-01T00:00:00Z');

const cn = (commonName: string): Name => personName({ commonName });
const OID_CN = '2.5.4.3';

// --- helpers ---

const der = (certs: readonly Certificate[]): Uint8Array[] => certs.map((c) => c.der);

/**
 * One-shot validation from DER, so no parsed certificate (and no cached signature) is shared with
 * another test: the work counters are this call's alone.
 */
async function run(
  input: Omit<PathValidatorOptions & ValidatePathInput, 'purpose' | 'anchors'> & {
    anchors: readonly Certificate[];
    peer: Certificate;
    chain?: readonly Certificate[];
  },
): Promise<{ r: ValidatePathResult; verifies: number }> {
  const counting = countingCrypto();
  const r = await validatePath({
    ...input,
    limits: { ...NO_SIZE_LIMITS, ...input.limits },
    anchors: der(input.anchors),
    peer: input.peer.der,
    chain: der(input.chain ?? []),
    purpose: 'any',
    time: TIME,
    crypto: counting.crypto,
  });
  return { r, verifies: counting.verifies() };
}

function refused(r: ValidatePathResult): asserts r is Extract<ValidatePathResult, { ok: false }> {
  if (r.ok) throw new Error(`expected a refusal, got a path of ${r.path.length}`);
}

async function newCa(name: string, pathLength = 60): Promise<Issuer> {
  const keys = await generateKeyPair();
  const certificate = await createSelfSignedCa({
    subject: cn(name),
    keyPair: keys,
    pathLength,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
  });
  return { certificate, privateKey: keys.privateKey };
}

async function subCa(
  issuer: Issuer,
  name: string,
  keys?: CryptoKeyPair,
): Promise<Issuer & { keys: CryptoKeyPair }> {
  const k = keys ?? (await generateKeyPair());
  const certificate = await issueCaCertificate({
    issuer,
    subject: cn(name),
    publicKey: k.publicKey,
    now: ISSUED,
  });
  return { certificate, privateKey: k.privateKey, keys: k };
}

/** `ca`'s name and key certified by `issuer` (a cross-certificate). */
async function crossCertify(issuer: Issuer, ca: Certificate): Promise<Certificate> {
  return issueCaCertificate({ issuer, subject: ca.subject, publicKey: ca.publicKey, now: ISSUED });
}

async function endEntity(
  issuer: Issuer,
  name = 'Leaf',
  altNames: readonly GeneralName[] = [dnsName('leaf.example.com')],
): Promise<Certificate> {
  const k = await generateKeyPair();
  return issueEndEntityCertificate({
    issuer,
    subject: cn(name),
    publicKey: k.publicKey,
    altNames,
    now: ISSUED,
  });
}

/**
 * A CA certificate with hand-picked names and key identifiers (what an attacker can mint with any
 * CA key, or with a key of their own): the builders would not let subject equal issuer, and always
 * derive the subjectKeyIdentifier from the key.
 */
async function forgeCa(o: {
  issuerName: Name;
  signer: CryptoKey;
  aki: Uint8Array;
  subject: Name;
  publicKey: CryptoKey;
  ski?: Uint8Array;
}): Promise<Certificate> {
  const publicKey = await spkiOf(o.publicKey, globalThis.crypto.subtle);
  return signTbs(
    {
      issuerName: encodeName(o.issuerName),
      subjectName: encodeName(o.subject),
      publicKey,
      validity: { notBefore: NOT_BEFORE, notAfter: NOT_AFTER },
      extensions: [
        {
          oid: OID.basicConstraints,
          critical: true,
          value: basicConstraintsValue({ ca: true, pathLength: 10 }),
        },
        { oid: OID.keyUsage, critical: true, value: keyUsageValue(CA_KEY_USAGE) },
        {
          oid: OID.subjectKeyIdentifier,
          critical: false,
          value: tlv(TAG.OCTET_STRING, o.ski ?? keyIdentifier(publicKey)),
        },
        {
          oid: OID.authorityKeyIdentifier,
          critical: false,
          value: authorityKeyIdentifierValue(o.aki),
        },
      ],
    },
    o.signer,
    {},
  );
}

const skiOf = (c: Certificate): Uint8Array => c.subjectKeyIdentifier!;

// --- fixtures shared by every block ---

let root: Issuer; // the trust anchor, pathLength 60
let unrelated: Issuer; // an anchor nothing below chains to

beforeAll(async () => {
  root = await newCa('Hostile Test Root');
  unrelated = await newCa('Unrelated Anchor');
});

describe('a 50-deep chain', () => {
  let levels: Certificate[];
  let leaf: Certificate;

  beforeAll(async () => {
    levels = [];
    let issuer: Issuer = root;
    for (let i = 1; i <= 50; i++) {
      issuer = await subCa(issuer, `Level ${i}`);
      levels.push(issuer.certificate);
    }
    leaf = await endEntity(issuer);
  });

  it('is refused at the default maxDepth with ERR_CHAIN_TOO_DEEP after maxDepth signature checks', async () => {
    const { r, verifies } = await run({ anchors: [root.certificate], peer: leaf, chain: levels });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_TOO_DEEP');
    expect(r.message).toContain(`more than ${DEFAULT_MAX_DEPTH} intermediates`);
    expect(r.certIndex).toBe(DEFAULT_MAX_DEPTH + 1);
    expect(r.work.signatureChecks).toBeLessThanOrEqual(DEFAULT_MAX_DEPTH + 1);
    expect(r.work.candidates).toBeLessThanOrEqual(DEFAULT_MAX_DEPTH + 1);
    expect(verifies).toBe(r.work.signatureChecks);
  });

  it('validates with maxDepth 64 (a path of 52)', async () => {
    const { r, verifies } = await run({
      anchors: [root.certificate],
      peer: leaf,
      chain: [...levels].reverse(),
      maxDepth: 64,
    });
    if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
    expect(r.path).toHaveLength(52);
    expect(r.path[0]!.der).toEqual(leaf.der);
    expect(r.anchor.der).toEqual(root.certificate.der);
    expect(r.work).toEqual({
      candidates: 51,
      signatureChecks: 51,
      nameComparisons: 0,
      nameWork: 0,
    });
    expect(verifies).toBe(51);
  });

  it('counts intermediates exactly against maxDepth (50 passes, 49 does not)', async () => {
    const ok = await run({ anchors: [root.certificate], peer: leaf, chain: levels, maxDepth: 50 });
    expect(ok.r.ok).toBe(true);
    const { r } = await run({
      anchors: [root.certificate],
      peer: leaf,
      chain: levels,
      maxDepth: 49,
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_TOO_DEEP');
    expect(r.work.signatureChecks).toBe(49);
  });

  it('stops at a small signature budget even when maxDepth allows the path', async () => {
    const { r, verifies } = await run({
      anchors: [root.certificate],
      peer: leaf,
      chain: levels,
      maxDepth: 64,
      budget: { maxSignatureChecks: 20 },
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(r.message).toContain('more than 20 signature checks');
    expect(verifies).toBe(20);
  });
});

describe('1,000 intermediates with the same subject name', () => {
  const N = 1000;
  let mid: Issuer & { keys: CryptoKeyPair }; // the real issuer of `leaf`, under root
  let leaf: Certificate;
  let distinctSki: Certificate[]; // distinct keys, SKIs from their keys: pruned by AKI
  let sameSki: Certificate[]; // distinct keys, all carrying mid's SKI: pruning cannot help
  let sameKey: Certificate[]; // mid's own key, certified by an untrusted root: each verifies the leaf

  beforeAll(async () => {
    mid = await subCa(root, 'Mid');
    leaf = await endEntity(mid);
    const shadow = await newCa('Shadow Root');
    const keys = await Promise.all(Array.from({ length: N }, () => generateKeyPair()));
    distinctSki = [];
    sameSki = [];
    sameKey = [];
    for (const k of keys) {
      distinctSki.push((await subCa(root, 'Mid', k)).certificate);
      sameSki.push(
        await forgeCa({
          issuerName: root.certificate.subject,
          signer: root.privateKey,
          aki: skiOf(root.certificate),
          subject: cn('Mid'),
          publicKey: k.publicKey,
          ski: skiOf(mid.certificate),
        }),
      );
      sameKey.push((await subCa(shadow, 'Mid', mid.keys)).certificate);
    }
  });

  it('prunes by authorityKeyIdentifier: none issued the leaf → ERR_CHAIN_NO_PATH without work', async () => {
    const { r, verifies } = await run({
      anchors: [root.certificate],
      peer: leaf,
      chain: distinctSki,
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_NO_PATH');
    expect(r.work).toEqual({ candidates: 0, signatureChecks: 0, nameComparisons: 0, nameWork: 0 });
    expect(verifies).toBe(0);
  });

  it('prunes by authorityKeyIdentifier: finds the real issuer last in the list', async () => {
    const { r, verifies } = await run({
      anchors: [root.certificate],
      peer: leaf,
      chain: [...distinctSki, mid.certificate],
    });
    expect(r.ok).toBe(true);
    expect(r.work).toEqual({ candidates: 2, signatureChecks: 2, nameComparisons: 0, nameWork: 0 });
    expect(verifies).toBe(2);
  });

  it('refuses 1,000 same-SKI impostors with ERR_CHAIN_BUDGET within the signature budget', async () => {
    const { r, verifies } = await run({ anchors: [root.certificate], peer: leaf, chain: sameSki });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(r.message).toContain(`more than ${DEFAULT_BUDGET.maxSignatureChecks} signature checks`);
    expect(verifies).toBe(DEFAULT_BUDGET.maxSignatureChecks);
    expect(r.work.candidates).toBeLessThanOrEqual(DEFAULT_BUDGET.maxCandidates);
    expect(r.work.signatureChecks).toBe(DEFAULT_BUDGET.maxSignatureChecks);
    expect(r.attempts.length).toBeLessThanOrEqual(32);
  });

  it('gives up with ERR_CHAIN_BUDGET when the real issuer sits deep in the list', async () => {
    const chain = [...sameSki.slice(0, N - 1), mid.certificate];
    const { r, verifies } = await run({ anchors: [root.certificate], peer: leaf, chain });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(verifies).toBe(DEFAULT_BUDGET.maxSignatureChecks);
  });

  it('finds the real issuer when it sits within the budget', async () => {
    const chain = [...sameSki.slice(0, 50), mid.certificate, ...sameSki.slice(50)];
    const { r, verifies } = await run({ anchors: [root.certificate], peer: leaf, chain });
    if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
    expect(r.path.map((c) => c.der)).toEqual([leaf.der, mid.certificate.der, root.certificate.der]);
    // 50 impostors and the real issuer checked against the leaf, then the real issuer against root,
    // plus the first impostor against root, verified ahead while the leaf's checks ran.
    expect(r.work.signatureChecks).toBe(53);
    expect(verifies).toBe(53);
  });

  it('respects a custom budget of 5 signature checks exactly', async () => {
    const { r, verifies } = await run({
      anchors: [root.certificate],
      peer: leaf,
      chain: sameSki,
      budget: { maxSignatureChecks: 5 },
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(r.message).toContain('more than 5 signature checks');
    expect(verifies).toBe(5);
  });

  it('refuses 1,000 certificates of the issuing key under an untrusted root within the budget', async () => {
    const { r, verifies } = await run({ anchors: [root.certificate], peer: leaf, chain: sameKey });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(verifies).toBe(DEFAULT_BUDGET.maxSignatureChecks);
    expect(r.work.candidates).toBeLessThanOrEqual(DEFAULT_BUDGET.maxCandidates);
  });

  it('bounds configured intermediates the same way as presented ones', async () => {
    const counting = countingCrypto();
    const validator = createPathValidator({
      anchors: [root.certificate.der],
      intermediates: der(sameSki),
      crypto: counting.crypto,
      budget: { maxSignatureChecks: 7 },
    });
    const r = await validator.validate({ peer: leaf.der, purpose: 'any', time: TIME });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(counting.verifies()).toBe(7);
  });

  // WorkDone is "the work one validation did", and the brief for these tests asks that it stay
  // within the budget. The counter is incremented before the budget test
  // (`++work.signatureChecks > budget.maxSignatureChecks`, validate-path.ts signatureProblem), so
  // a refused validation reports maxSignatureChecks + 1 though only maxSignatureChecks were made.
  it('reports no more signature checks than the budget allows (and than were made)', async () => {
    const { r, verifies } = await run({
      anchors: [root.certificate],
      peer: leaf,
      chain: sameSki,
      budget: { maxSignatureChecks: 5 },
    });
    expect(verifies).toBe(5);
    expect(r.work.signatureChecks).toBeLessThanOrEqual(5);
  });

  it('examines a certificate presented many times once, with a validator', async () => {
    const counting = countingCrypto();
    const validator = createPathValidator({
      anchors: [unrelated.certificate.der],
      crypto: counting.crypto,
      limits: NO_SIZE_LIMITS,
    });
    const chain = Array.from({ length: N }, () => mid.certificate.der);
    const r = await validator.validate({ peer: leaf.der, chain, purpose: 'any', time: TIME });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_NO_PATH');
    expect(r.work).toEqual({ candidates: 1, signatureChecks: 1, nameComparisons: 0, nameWork: 0 });
    expect(counting.verifies()).toBe(1);
  });

  // validatePath (cacheSize 0) parses every presented DER afresh, so `presented.includes(cert)`
  // (identity) never sees the duplicates: each copy becomes a candidate with its own signature check
  // and the answer turns from ERR_CHAIN_NO_PATH into ERR_CHAIN_BUDGET.
  it('examines a certificate presented many times once, with validatePath', async () => {
    const chain = Array.from({ length: N }, () => mid.certificate);
    const { r, verifies } = await run({ anchors: [unrelated.certificate], peer: leaf, chain });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_NO_PATH');
    expect(verifies).toBe(1);
  });
});

describe('a lattice of interchangeable CAs', () => {
  // 6 levels of 4 certificates; the 4 at a level share name and key, so each verifies every
  // certificate of the level below: 4^6 = 4,096 paths, none to a trusted anchor.
  const WIDTH = 4;
  const LEVELS = 6;
  let lattice: Certificate[];
  let top: Issuer;
  let leaf: Certificate;

  beforeAll(async () => {
    top = await newCa('Lattice Top');
    lattice = [];
    let above: Issuer = top;
    for (let l = LEVELS; l >= 1; l--) {
      const keys = await generateKeyPair();
      const level: Certificate[] = [];
      for (let i = 0; i < WIDTH; i++)
        level.push((await subCa(above, `Lattice ${l}`, keys)).certificate);
      lattice.push(...level);
      above = { certificate: level[0]!, privateKey: keys.privateKey };
    }
    leaf = await endEntity(above);
  });

  it('is refused with ERR_CHAIN_BUDGET once maxCandidates are examined', async () => {
    const { r, verifies } = await run({
      anchors: [unrelated.certificate],
      peer: leaf,
      chain: lattice,
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(r.message).toContain(`more than ${DEFAULT_BUDGET.maxCandidates} candidate issuers`);
    // Signatures are cached per (certificate, issuer key), so they stay far below their budget.
    expect(r.work.signatureChecks).toBeLessThanOrEqual(DEFAULT_BUDGET.maxSignatureChecks);
    expect(verifies).toBe(r.work.signatureChecks);
    expect(r.work.candidates).toBeLessThanOrEqual(DEFAULT_BUDGET.maxCandidates + 1);
  });

  it('is still bounded by candidates when every signature is already cached', async () => {
    const validator = createPathValidator({
      anchors: [unrelated.certificate.der],
      limits: NO_SIZE_LIMITS,
    });
    const input = { peer: leaf.der, chain: der(lattice), purpose: 'any', time: TIME } as const;
    const first = await validator.validate(input);
    const second = await validator.validate(input);
    refused(first);
    refused(second);
    expect(second.code).toBe('ERR_CHAIN_BUDGET');
    expect(second.work.signatureChecks).toBe(0);
    expect(second.work.candidates).toBeLessThanOrEqual(DEFAULT_BUDGET.maxCandidates + 1);
  });

  it('respects a small candidate budget', async () => {
    const { r } = await run({
      anchors: [unrelated.certificate],
      peer: leaf,
      chain: lattice,
      budget: { maxCandidates: 10 },
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(r.message).toContain('more than 10 candidate issuers');
    expect(r.work.signatureChecks).toBeLessThanOrEqual(10);
  });

  it('validates at once when the top is trusted', async () => {
    const { r } = await run({ anchors: [top.certificate], peer: leaf, chain: lattice });
    expect(r.ok).toBe(true);
    expect(r.work).toEqual({
      candidates: LEVELS + 1,
      signatureChecks: LEVELS + 1,
      nameComparisons: 0,
      nameWork: 0,
    });
  });

  // Same off-by-one as for signatures: the candidate that broke the budget is counted, not examined.
  it('reports no more candidates than the budget allows', async () => {
    const { r } = await run({
      anchors: [unrelated.certificate],
      peer: leaf,
      chain: lattice,
      budget: { maxCandidates: 10 },
    });
    expect(r.work.candidates).toBeLessThanOrEqual(10);
  });
});

describe('loops and cycles', () => {
  /** Every loop must end in ERR_CHAIN_NO_PATH after a handful of candidates. */
  async function expectNoPath(
    peer: Certificate,
    chain: readonly Certificate[],
    maxCandidates: number,
  ): Promise<void> {
    for (const maxDepth of [DEFAULT_MAX_DEPTH, 64]) {
      const { r, verifies } = await run({
        anchors: [unrelated.certificate],
        peer,
        chain,
        maxDepth,
      });
      refused(r);
      expect(r.code).toBe('ERR_CHAIN_NO_PATH');
      expect(r.work.candidates).toBeLessThanOrEqual(maxCandidates);
      expect(r.work.signatureChecks).toBeLessThanOrEqual(maxCandidates);
      expect(verifies).toBe(r.work.signatureChecks);
    }
  }

  it('ends when A and B cross-sign each other', async () => {
    const a = await newCa('Cross A', 10);
    const b = await newCa('Cross B', 10);
    const aByB = await crossCertify(b, a.certificate);
    const bByA = await crossCertify(a, b.certificate);
    const leaf = await endEntity(a);
    await expectNoPath(leaf, [aByB, bByA], 4);
    // The cross-certificates are genuine: trusting B, the leaf chains through B's certificate for A.
    const viaB = await run({ anchors: [b.certificate], peer: leaf, chain: [bByA, aByB] });
    expect(viaB.r.ok).toBe(true);
    // With both self-signed roots (untrusted) presented as well.
    await expectNoPath(leaf, [aByB, bByA, a.certificate, b.certificate], 32);
  });

  it('ends when one CA key re-signs its own certificate', async () => {
    const keys = await generateKeyPair();
    const copies: Certificate[] = [];
    for (let i = 0; i < 3; i++)
      copies.push(
        await createSelfSignedCa({
          subject: cn('Self Loop'),
          keyPair: keys,
          pathLength: 10,
          notBefore: NOT_BEFORE,
          notAfter: NOT_AFTER,
        }),
      );
    const leaf = await endEntity({ certificate: copies[0]!, privateKey: keys.privateKey });
    // 3 candidates for the leaf, then 3 (all already on the path) above each.
    await expectNoPath(leaf, copies, 12);
  });

  it('ends when two keys of one self-issued name certify each other', async () => {
    const k1 = await generateKeyPair();
    const k2 = await generateKeyPair();
    const name = cn('Rollover Loop');
    const id1 = keyIdentifier(await spkiOf(k1.publicKey, globalThis.crypto.subtle));
    const id2 = keyIdentifier(await spkiOf(k2.publicKey, globalThis.crypto.subtle));
    const oneByTwo = await forgeCa({
      issuerName: name,
      signer: k2.privateKey,
      aki: id2,
      subject: name,
      publicKey: k1.publicKey,
    });
    const twoByOne = await forgeCa({
      issuerName: name,
      signer: k1.privateKey,
      aki: id1,
      subject: name,
      publicKey: k2.publicKey,
    });
    const leaf = await endEntity({ certificate: oneByTwo, privateKey: k1.privateKey });
    await expectNoPath(leaf, [oneByTwo, twoByOne], 3);
  });

  it('ends in a cycle of three CAs', async () => {
    const a = await newCa('Cycle A', 10);
    const b = await newCa('Cycle B', 10);
    const c = await newCa('Cycle C', 10);
    const aByC = await crossCertify(c, a.certificate);
    const bByA = await crossCertify(a, b.certificate);
    const cByB = await crossCertify(b, c.certificate);
    const leaf = await endEntity(a);
    await expectNoPath(leaf, [aByC, bByA, cByB], 4);
    const viaB = await run({ anchors: [b.certificate], peer: leaf, chain: [aByC, bByA, cByB] });
    if (!viaB.r.ok) throw new Error(`${viaB.r.code}: ${viaB.r.message}`);
    expect(viaB.r.path).toHaveLength(4); // leaf, A by C, C by B, B
    await expectNoPath(leaf, [cByB, bByA, aByC, a.certificate, b.certificate, c.certificate], 32);
  });

  it('ignores a leaf presented as its own intermediate', async () => {
    const leaf = await endEntity(root);
    // Its issuer (root) is neither presented nor an anchor here.
    await expectNoPath(leaf, [leaf, leaf, leaf], 0);
    const { r } = await run({ anchors: [root.certificate], peer: leaf, chain: [leaf, leaf] });
    expect(r.ok).toBe(true);
  });

  it('ends when a self-signed peer presents itself as its issuer', async () => {
    const keys = await generateKeyPair();
    const self = await createSelfSignedCa({
      subject: cn('Self Presenter'),
      keyPair: keys,
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    });
    const validator = createPathValidator({
      anchors: [unrelated.certificate.der],
      limits: NO_SIZE_LIMITS,
    });
    const r = await validator.validate({
      peer: self.der,
      chain: Array.from({ length: 100 }, () => self.der),
      purpose: 'any',
      time: TIME,
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_NO_PATH');
    expect(r.work).toEqual({ candidates: 0, signatureChecks: 0, nameComparisons: 0, nameWork: 0 });
    // validatePath does not dedupe (see above), but each copy is caught as a cycle without a signature check.
    const once = await run({
      anchors: [unrelated.certificate],
      peer: self,
      chain: Array.from({ length: 100 }, () => self),
    });
    refused(once.r);
    expect(once.r.code).toBe('ERR_CHAIN_NO_PATH');
    expect(once.r.work.signatureChecks).toBe(0);
    expect(once.r.work.candidates).toBeLessThanOrEqual(100);
  });
});

describe('name-constraint blow-up', () => {
  const N = 2000;
  let constrained: Issuer;
  let ncRoot: Issuer;
  let leaf: Certificate;

  beforeAll(async () => {
    ncRoot = await newCa('Constraints Root', 1);
    const keys = await generateKeyPair();
    const certificate = await issueCaCertificate({
      issuer: ncRoot,
      subject: cn('Heavily Constrained'),
      publicKey: keys.publicKey,
      now: ISSUED,
      nameConstraints: {
        permitted: Array.from({ length: N }, (_, i) => dnsName(`p${i}.example.com`)),
        excluded: Array.from({ length: N }, (_, i) => dnsName(`x${i}.example.net`)),
      },
    });
    constrained = { certificate, privateKey: keys.privateKey };
    // Every name is permitted (by the i-th subtree) and excluded by none.
    leaf = await endEntity(
      constrained,
      'Many Names',
      Array.from({ length: N }, (_, i) => dnsName(`h.p${i}.example.com`)),
    );
  });

  const perCheck = N * (N + N); // names × subtrees of the same kind, for the one constrained issuer
  // Work: per name, one unit per subtree plus its characters (p<i>.example.com, x<i>.example.net).
  let subtreeWork = 0;
  for (let i = 0; i < N; i++)
    subtreeWork += 1 + `p${i}.example.com`.length + 1 + `x${i}.example.net`.length;
  const perCheckWork = N * subtreeWork;
  const unlimitedWork = { maxNameWork: Number.MAX_SAFE_INTEGER };

  it('is refused with ERR_CHAIN_BUDGET before any comparison', async () => {
    const { r, verifies } = await run({
      anchors: [ncRoot.certificate],
      peer: leaf,
      chain: [constrained.certificate],
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(r.message).toContain(
      `more than ${DEFAULT_BUDGET.maxNameComparisons} name-constraint comparisons`,
    );
    // The budget is checked before comparing: the refused certificate's comparisons are not made.
    expect(r.work.nameComparisons).toBeLessThanOrEqual(DEFAULT_BUDGET.maxNameComparisons);

    // At most the likeliest path's two signatures, verified while the peer's checks run (and
    // counted in work).
    expect(verifies).toBeLessThanOrEqual(2);
    expect(r.work.signatureChecks).toBe(verifies);
  });

  it('completes when the comparison budget is raised', async () => {
    const { r } = await run({
      anchors: [ncRoot.certificate],
      peer: leaf,
      chain: [constrained.certificate],
      budget: { maxNameComparisons: perCheck, ...unlimitedWork },
    });
    if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
    expect(r.path).toHaveLength(3);
    expect(r.work).toEqual({
      candidates: 2,
      signatureChecks: 2,
      nameComparisons: perCheck,
      nameWork: perCheckWork,
    });
  });

  it('stops one comparison short of enough', async () => {
    const { r } = await run({
      anchors: [ncRoot.certificate],
      peer: leaf,
      chain: [constrained.certificate],
      budget: { maxNameComparisons: perCheck - 1, ...unlimitedWork },
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
  });

  // comparisonCount (name-constraints.ts) sizes the work by looping over every name × every subtree
  // of the whole extension before the budget is consulted, so the work done to *refuse* grows as
  // names × subtrees however small the budget: with ~40,000 names and ~40,000 subtrees (both fit
  // in 1 MB) one refused validation spends seconds of CPU. Counted here by instrumenting the
  // decoded subtree arrays the validator iterates (the same objects, via nameConstraintsOf's cache).
  it('does work bounded by the comparison budget to refuse', async () => {
    const small = { maxNameComparisons: 1000 };
    const nc = nameConstraintsOf(constrained.certificate);
    if (!nc || nc instanceof Error) throw new Error('expected decoded constraints');
    let visited = 0;
    for (const list of [nc.permitted, nc.excluded])
      Object.defineProperty(list, Symbol.iterator, {
        configurable: true,
        value: function* (this: readonly unknown[]) {
          for (let i = 0; i < this.length; i++) {
            visited++;
            yield this[i];
          }
        },
      });
    try {
      const r = await validatePath({
        anchors: [ncRoot.certificate],
        peer: leaf,
        chain: [constrained.certificate],
        purpose: 'any',
        time: TIME,
        budget: small,
        limits: NO_SIZE_LIMITS,
      });
      refused(r);
      expect(r.code).toBe('ERR_CHAIN_BUDGET');
      expect(visited).toBeLessThanOrEqual(
        small.maxNameComparisons + nc.permitted.length + nc.excluded.length,
      );
    } finally {
      for (const list of [nc.permitted, nc.excluded])
        delete (list as unknown as Record<symbol, unknown>)[Symbol.iterator];
    }
  });
});

describe('a forged constrained intermediate (issue 11)', () => {
  // The attack: an intermediate naming our anchor as issuer (its key id copied, its signature
  // wrong) with 900 excluded directoryName subtrees, over a leaf with 750 directoryName SANs of
  // U+FDFA. It used to cost 5-10 s per handshake: constraints were compared before the forged
  // signature was checked, each comparison re-normalising both names.
  let anchor: Issuer;
  let forged: HostileChain;

  beforeAll(async () => {
    anchor = await newCa('Attacked Anchor', 4);
    forged = await hostileChain({ anchor: anchor.certificate, now: ISSUED });
  });

  it('is refused by its size (~100 KB) with ERR_CHAIN_TOO_LARGE before any of it is parsed', async () => {
    expect(forged.bytes).toBeGreaterThan(90_000);
    const r = await validatePath({
      anchors: [anchor.certificate.der],
      peer: forged.leaf.der,
      chain: [forged.intermediate.der],
      purpose: 'clientAuth',
      time: TIME,
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_TOO_LARGE');
    expect(r.message).toMatch(/presented \d+ bytes of certificates; at most 65536/);
    expect(r.work).toEqual({ candidates: 0, signatureChecks: 0, nameComparisons: 0, nameWork: 0 });
  });

  it('compares no name of a CA whose signature has not verified, whatever the size limits', async () => {
    const { r, verifies } = await run({
      anchors: [anchor.certificate],
      peer: forged.leaf,
      chain: [forged.intermediate],
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    expect(r.certIndex).toBe(1);
    expect(r.work.nameComparisons).toBe(0);
    expect(r.work.nameWork).toBe(0);
    expect(verifies).toBeLessThanOrEqual(2);
    expect(r.work.signatureChecks).toBe(verifies);
  });

  it('bounds a genuine constrained CA with hostile names by the work budget, before comparing', async () => {
    // Signed by the anchor's real key, so every signature verifies and the constraints must be
    // evaluated: the budget, charged up front in characters, refuses it without a comparison.
    const genuine = await hostileChain({
      anchor: anchor.certificate,
      intermediateSigner: anchor.privateKey,
      subtrees: 200,
      altNames: 600,
      now: ISSUED,
    });
    expect(genuine.bytes).toBeLessThan(DEFAULT_VALIDATION_LIMITS.maxChainBytes);
    const r = await validatePath({
      anchors: [anchor.certificate.der],
      peer: genuine.leaf.der,
      chain: [genuine.intermediate.der],
      purpose: 'clientAuth',
      time: TIME,
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_BUDGET');
    expect(r.message).toContain(
      `more than ${DEFAULT_BUDGET.maxNameWork} units of name-constraint work`,
    );
    expect(r.work.nameComparisons).toBe(0);
    expect(r.work.nameWork).toBeLessThanOrEqual(DEFAULT_BUDGET.maxNameWork);
    expect(r.work.signatureChecks).toBe(2);
  });

  it('normalises each name once, however many comparisons it takes part in', async () => {
    const names = 60;
    const subtrees = 50;
    const genuine = await hostileChain({
      anchor: anchor.certificate,
      intermediateSigner: anchor.privateKey,
      subtrees,
      altNames: names,
      now: ISSUED,
    });
    const normalize = String.prototype.normalize;
    let calls = 0;
    String.prototype.normalize = function (this: string, form?: string) {
      calls++;
      return normalize.call(this, form);
    };
    let r: ValidatePathResult;
    try {
      ({ r } = await run({
        anchors: [anchor.certificate],
        peer: genuine.leaf,
        chain: [genuine.intermediate],
        budget: { maxNameWork: Number.MAX_SAFE_INTEGER },
      }));
    } finally {
      String.prototype.normalize = normalize;
    }
    if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
    // Every SAN and subject of the leaf against every subtree: (60 + 1) × 50 comparisons.
    expect(r.work.nameComparisons).toBe((names + 1) * subtrees);
    // One normalisation per attribute of each name involved (SANs, subjects, issuers, subtrees);
    // comparing re-normalised both names each time: 2 × 3,050.
    expect(calls).toBeLessThanOrEqual(names + subtrees + 8);
  });
});

describe('size limits', () => {
  let mid: Issuer;

  beforeAll(async () => {
    mid = await subCa(root, 'Limits Mid');
  });

  const validate = (
    peer: Certificate,
    chain: readonly Certificate[],
    limits?: Partial<ValidationLimits>,
  ): Promise<ValidatePathResult> =>
    validatePath({
      anchors: [root.certificate.der],
      peer: peer.der,
      chain: der(chain),
      purpose: 'any',
      time: TIME,
      ...(limits ? { limits } : {}),
    });

  async function expectTooLarge(
    r: Promise<ValidatePathResult>,
    certIndex: number,
    message: RegExp,
  ): Promise<void> {
    const got = await r;
    refused(got);
    expect(got.code).toBe('ERR_CHAIN_TOO_LARGE');
    expect(got.certIndex).toBe(certIndex);
    expect(got.message).toMatch(message);
  }

  it('refuses more than 16 presented certificates, unread', async () => {
    const leaf = await endEntity(mid);
    const chain = [mid.certificate, ...Array.from({ length: 15 }, () => root.certificate)];
    await expectTooLarge(validate(leaf, chain), 0, /presented 17 certificates; at most 16/);
    expect((await validate(leaf, chain.slice(0, 15))).ok).toBe(true);
    expect((await validate(leaf, chain, { maxChainCertificates: 17 })).ok).toBe(true);
  });

  it('refuses more presented bytes than maxChainBytes', async () => {
    const leaf = await endEntity(mid);
    const bytes = leaf.der.length + mid.certificate.der.length;
    await expectTooLarge(
      validate(leaf, [mid.certificate], { maxChainBytes: bytes - 1 }),
      0,
      new RegExp(`presented ${bytes} bytes of certificates; at most ${bytes - 1}`),
    );
    expect((await validate(leaf, [mid.certificate], { maxChainBytes: bytes })).ok).toBe(true);
  });

  it('reads at most 8 commonNames of a server certificate against its subjectAltNames (webpki)', async () => {
    const commonNames = (values: string[]): Name =>
      values.map((value) => [{ type: OID_CN, value }]);
    const serverLeaf = async (subject: Name): Promise<Certificate> =>
      issueEndEntityCertificate({
        issuer: mid,
        subject,
        publicKey: (await generateKeyPair()).publicKey,
        altNames: [dnsName('leaf.example.com')],
        now: ISSUED,
      });
    const others = Array.from({ length: 2000 }, (_, i) => `h${i}.example.com`);
    const crowded = await serverLeaf(commonNames(others));
    const respelledFirst = await serverLeaf(commonNames(['LEAF.example.com', ...others]));
    const respelledNinth = await serverLeaf(
      commonNames([...others.slice(0, 8), 'LEAF.example.com']),
    );
    // Each commonName read is one URL parse: count them.
    const RealURL = globalThis.URL;
    let parses = 0;
    globalThis.URL = class extends RealURL {
      constructor(url: string | URL, base?: string | URL) {
        super(url, base);
        parses++;
      }
    };
    try {
      const serve = (peer: Certificate): Promise<ValidatePathResult> =>
        validatePath({
          anchors: [root.certificate.der],
          peer: peer.der,
          chain: [mid.certificate.der],
          purpose: 'serverAuth',
          profile: 'webpki',
          time: TIME,
        });
      expect((await serve(crowded)).ok).toBe(true);
      expect(parses).toBeLessThanOrEqual(8);
      const r = await serve(respelledFirst);
      refused(r);
      expect(r.message).toMatch(/commonName "LEAF.example.com" spells/);
      // Past the eighth, a commonName is not read (only subjectAltNames name the peer anyway).
      expect((await serve(respelledNinth)).ok).toBe(true);
    } finally {
      globalThis.URL = RealURL;
    }
  });

  it('refuses a peer with more than 1,024 subjectAltNames', async () => {
    const many = Array.from({ length: 1025 }, (_, i) => dnsName(`h${i}.example.com`));
    const leaf = await endEntity(mid, 'Many Names', many);
    await expectTooLarge(
      validate(leaf, [mid.certificate]),
      0,
      /1025 subjectAltNames; at most 1024/,
    );
    const ok = await validate(leaf, [mid.certificate], { maxSubjectAltNames: 1025 });
    expect(ok.ok).toBe(true);
    const fewer = await endEntity(mid, 'Fewer Names', many.slice(1));
    expect((await validate(fewer, [mid.certificate])).ok).toBe(true);
  });

  it('refuses an intermediate with more than 1,024 subjectAltNames', async () => {
    const keys = await generateKeyPair();
    const certificate = await issueCaCertificate({
      issuer: root,
      subject: cn('Named Mid'),
      publicKey: keys.publicKey,
      altNames: Array.from({ length: 1025 }, (_, i) => dnsName(`m${i}.example.com`)),
      now: ISSUED,
    });
    const leaf = await endEntity({ certificate, privateKey: keys.privateKey });
    await expectTooLarge(validate(leaf, [certificate]), 1, /1025 subjectAltNames/);
  });

  it('refuses nameConstraints with more than 256 subtrees', async () => {
    const keys = await generateKeyPair();
    const make = (n: number): Promise<Certificate> =>
      issueCaCertificate({
        issuer: root,
        subject: cn(`Constrained by ${n}`),
        publicKey: keys.publicKey,
        nameConstraints: {
          permitted: [dnsName('example.com')],
          excluded: Array.from({ length: n - 1 }, (_, i) => dnsName(`x${i}.example.com`)),
        },
        now: ISSUED,
      });
    const over = await make(257);
    const leaf = await endEntity({ certificate: over, privateKey: keys.privateKey });
    await expectTooLarge(validate(leaf, [over]), 1, /257 subtrees; at most 256/);
    const at = await make(256);
    const fits = await endEntity({ certificate: at, privateKey: keys.privateKey });
    expect((await validate(fits, [at])).ok).toBe(true);
  });

  it('refuses limits that are not positive integers with RangeError', () => {
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() =>
        createPathValidator({ anchors: [], limits: { maxChainCertificates: bad } }),
      ).toThrow(RangeError);
  });
});

describe('parse-level garbage', () => {
  let mid: Issuer;
  let leaf: Certificate;

  beforeAll(async () => {
    mid = await subCa(root, 'Garbage Mid');
    leaf = await endEntity(mid);
  });

  const random = (n: number, first?: number): Uint8Array => {
    const b = globalThis.crypto.getRandomValues(new Uint8Array(n));
    if (first !== undefined) b[0] = first;
    return b;
  };

  it.each<[string, () => Uint8Array | string]>([
    ['random bytes', () => random(512, 0x17)],
    ['random bytes that start like a SEQUENCE', () => random(512, 0x30)],
    ['an empty buffer', () => new Uint8Array(0)],
    ['a truncated certificate', () => leaf.der.subarray(0, leaf.der.length - 1)],
    ['a certificate with a byte appended', () => new Uint8Array([...leaf.der, 0])],
    ['a header claiming 16 MB', () => new Uint8Array([0x30, 0x84, 0x01, 0x00, 0x00, 0x00, 0x02])],
    ['more than 1 MB', () => new Uint8Array(2 << 20).fill(0x30)],
    ['text that is not PEM', () => 'not a certificate'],
    ['an empty PEM block', () => '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----'],
  ])('refuses %s as the peer with ERR_CHAIN_PEER_MALFORMED and no work', async (_, make) => {
    const r = await validatePath({
      anchors: [root.certificate.der],
      peer: make(),
      chain: [mid.certificate.der],
      purpose: 'any',
      time: TIME,
      limits: NO_SIZE_LIMITS, // the parser's own limits are what is tested here
    });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_PEER_MALFORMED');
    expect(r.certIndex).toBe(0);
    expect(r.work).toEqual({ candidates: 0, signatureChecks: 0, nameComparisons: 0, nameWork: 0 });
  });

  it('ignores truncated and random intermediates', async () => {
    const m = mid.certificate.der;
    const junk = [
      ...Array.from({ length: 64 }, (_, i) => m.subarray(0, Math.floor((m.length * i) / 64))),
      m.subarray(1),
      random(300, 0x30),
      random(300),
      'garbage',
      new Uint8Array([0x30, 0x80, 0x00, 0x00]),
    ];
    for (const validate of [
      (chain: (Uint8Array | string)[]) =>
        validatePath({
          anchors: [root.certificate.der],
          peer: leaf.der,
          chain,
          purpose: 'any',
          time: TIME,
          limits: NO_SIZE_LIMITS,
        }),
      (chain: (Uint8Array | string)[]) =>
        createPathValidator({ anchors: [root.certificate.der], limits: NO_SIZE_LIMITS }).validate({
          peer: leaf.der,
          chain,
          purpose: 'any',
          time: TIME,
        }),
    ]) {
      const ok = await validate([...junk, m, ...junk]);
      expect(ok.ok).toBe(true);
      expect(ok.work.signatureChecks).toBe(2);
      const none = await validate(junk);
      refused(none);
      expect(none.code).toBe('ERR_CHAIN_NO_PATH');
      expect(none.work).toEqual({
        candidates: 0,
        signatureChecks: 0,
        nameComparisons: 0,
        nameWork: 0,
      });
    }
  });
});

describe('an issuer key that costs too much to verify with', () => {
  /** An RSA public key with a random modulus of `bits` (no private key is needed to present one). */
  async function rsaKey(bits: number, exponent: Uint8Array): Promise<CryptoKey> {
    const n = globalThis.crypto.getRandomValues(new Uint8Array(bits / 8));
    n[0]! |= 0x80;
    n[n.length - 1]! |= 1;
    const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
    return globalThis.crypto.subtle.importKey(
      'jwk',
      { kty: 'RSA', n: b64u(n), e: b64u(exponent), ext: true },
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['verify'],
    );
  }

  /**
   * root → a CA the root really signed, holding `key` → a leaf that CA "signed" with RSA (any
   * signature: what costs is verifying it). Core signs with EC and Ed25519 keys only, so the leaf
   * is issued by a P-256 twin of the CA (same name and key identifier), then relabelled.
   */
  async function chainUnder(key: CryptoKey): Promise<{ ca: Certificate; leaf: Certificate }> {
    const ca = await forgeCa({
      issuerName: root.certificate.subject,
      signer: root.privateKey,
      aki: skiOf(root.certificate),
      subject: cn('Costly Key CA'),
      publicKey: key,
    });
    const twinKeys = await generateKeyPair();
    const twin = await forgeCa({
      issuerName: root.certificate.subject,
      signer: root.privateKey,
      aki: skiOf(root.certificate),
      subject: cn('Costly Key CA'),
      publicKey: twinKeys.publicKey,
      ski: skiOf(ca),
    });
    const issued = await endEntity({ certificate: twin, privateKey: twinKeys.privateKey });
    const rsaSha256 = seq(oid(OID.sha256WithRsa), nullValue());
    const parts = children(issued.tbs, readRoot(issued.tbs)).map((t) => bytesOf(issued.tbs, t));
    parts[2] = rsaSha256; // version, serialNumber, signature: the TBS names the algorithm too
    const signature = globalThis.crypto.getRandomValues(new Uint8Array(256));
    const leaf = decodeCertificate(seq(seq(...parts), rsaSha256, bitString(signature)));
    return { ca, leaf };
  }

  const F4 = new Uint8Array([1, 0, 1]);
  const cases: [string, () => Promise<CryptoKey>, RegExp][] = [
    ['a 16,384-bit modulus', () => rsaKey(16384, F4), /over 8192 bits/],
    ['a 64-bit exponent', () => rsaKey(4096, new Uint8Array(8).fill(0xff)), /exponents over/],
  ];

  it.each(cases)(
    '%s: refused without verifying under it, one-shot and by a validator',
    async (_, key, why) => {
      const { ca, leaf } = await chainUnder(await key());
      const oneShot = await run({ anchors: [root.certificate], peer: leaf, chain: [ca] });
      refused(oneShot.r);
      expect(oneShot.r.code).toBe('ERR_CHAIN_ALGORITHM');
      expect(oneShot.r.message).toMatch(why);
      expect(oneShot.verifies).toBeLessThanOrEqual(1); // the CA's own signature, under the root
      const counting = countingCrypto();
      const validator = createPathValidator({
        anchors: [root.certificate.der],
        crypto: counting.crypto,
      });
      const r = await validator.validate({
        peer: leaf.der,
        chain: [ca.der],
        purpose: 'any',
        time: TIME,
      });
      refused(r);
      expect(r.code).toBe('ERR_CHAIN_ALGORITHM');
      expect(counting.verifies()).toBeLessThanOrEqual(1);
    },
  );

  it('an 8,192-bit key with exponent 65,537 is still verified with', async () => {
    const { ca, leaf } = await chainUnder(await rsaKey(8192, F4));
    const { r, verifies } = await run({ anchors: [root.certificate], peer: leaf, chain: [ca] });
    refused(r);
    expect(r.code).toBe('ERR_CHAIN_SIGNATURE_INVALID'); // a random modulus: it cannot verify
    expect(verifies).toBe(2);
  });
});
