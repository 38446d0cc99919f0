/**
 * @module test/hostile-chain — the "forged constrained intermediate" attack of issue 11, built with
 * the public API only, so the tests, `bench/chain.ts` and the mTLS server bench share one recipe.
 *
 * The attacker knows our trust anchor's certificate (it is public) but not its key. They mint an
 * intermediate that names the anchor as issuer and copies its key identifier, sign it with a key of
 * their own (so its signature is wrong), load it with excluded directoryName subtrees, and issue a
 * leaf under it whose directoryName SANs repeat U+FDFA (one code point that NFKC expands 18×). A
 * validator that evaluates name constraints before it has proven the intermediate's signature, or
 * normalises names once per comparison, spends seconds on a chain that chains to nothing.
 */
import {
  generateKeyPair,
  issueCaCertificate,
  issueEndEntityCertificate,
  personName,
  type Certificate,
  type GeneralName,
  type Name,
} from '@certified/core';

/** ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM: 1 code point, 18 after NFKC. */
export const NFKC_BOMB = '\uFDFA';

export interface HostileChainOptions {
  /** The anchor the forgery imitates (its subject and subjectKeyIdentifier are copied). */
  readonly anchor: Certificate;
  /** Excluded directoryName subtrees on the forged intermediate; default 900. */
  readonly subtrees?: number;
  /** directoryName SANs on the leaf; default 750. */
  readonly altNames?: number;
  /**
   * U+FDFA repeats in each name value; default 13 (39 bytes of UTF-8, 234 characters after NFKC):
   * about 95 KB in all, just under the 100 KiB certificate list OpenSSL accepts in a handshake.
   */
  readonly repeat?: number;
  /** Issue as of this time (defaults to now). */
  readonly now?: Date;
  /**
   * Sign the intermediate with this key instead of a fresh one. Passing the anchor's real key turns
   * the forgery into a genuine constrained intermediate: the worst case once signatures verify.
   */
  readonly intermediateSigner?: CryptoKey;
}

export interface HostileChain {
  readonly intermediate: Certificate;
  readonly leaf: Certificate;
  /** The leaf's key, for presenting the chain in a TLS handshake. */
  readonly leafKeys: CryptoKeyPair;
  /** Bytes of leaf + intermediate as presented. */
  readonly bytes: number;
}

const bombName = (i: number, repeat: number): Name => [
  [{ type: '2.5.4.3', value: `${i} ${NFKC_BOMB.repeat(repeat)}` }],
];

/**
 * Builds the forged chain. The leaf's names are all different from every excluded subtree, so a
 * validator that got as far as comparing them would have to compare every pair.
 *
 * @example
 * const { intermediate, leaf } = await hostileChain({ anchor: root.certificate });
 */
export async function hostileChain(options: HostileChainOptions): Promise<HostileChain> {
  const subtrees = options.subtrees ?? 900;
  const count = options.altNames ?? 750;
  const repeat = options.repeat ?? 13;
  // The builders insist that a signing key matches its certificate's key type.
  const algorithm = options.anchor.publicKey.algorithm as 'Ed25519' | 'P-256' | 'P-384';
  const now = options.now;
  const forgedKeys = await generateKeyPair({ algorithm });
  const intermediateSigner =
    options.intermediateSigner ?? (await generateKeyPair({ algorithm })).privateKey;
  const excluded: GeneralName[] = Array.from({ length: subtrees }, (_, i) => ({
    type: 'dirName',
    value: bombName(i + count, repeat),
  }));
  const intermediate = await issueCaCertificate({
    // The anchor's certificate gives issuer name and AKI; the key is the attacker's, who writes
    // what bytes they like (so the anchor's own pathLenConstraint does not stop the builder).
    issuer: {
      certificate: { ...options.anchor, basicConstraints: { ca: true } },
      privateKey: intermediateSigner,
    },
    subject: personName({ commonName: 'Forged Intermediate' }),
    publicKey: forgedKeys.publicKey,
    nameConstraints: { excluded },
    ...(now ? { now } : {}),
  });
  // Extractable: a benchmark hands this key to node:tls to present the chain in a handshake.
  const leafKeys = await generateKeyPair({ algorithm, extractable: true });
  const altNames: GeneralName[] = Array.from({ length: count }, (_, i) => ({
    type: 'dirName',
    value: bombName(i, repeat),
  }));
  const leaf = await issueEndEntityCertificate({
    issuer: { certificate: intermediate, privateKey: forgedKeys.privateKey },
    subject: personName({ commonName: 'Hostile Client' }),
    publicKey: leafKeys.publicKey,
    altNames,
    ...(now ? { now } : {}),
  });
  return {
    intermediate,
    leaf,
    leafKeys,
    bytes: leaf.der.byteLength + intermediate.der.byteLength,
  };
}
