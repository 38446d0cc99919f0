/** Test helpers: a root → intermediate chain that issues leaves, and `count` distinct leaves under one. */
import {
  createSelfSignedCa,
  dnsName,
  generateKeyPair,
  issueCaCertificate,
  issueEndEntityCertificate,
  organizationName,
  personName,
  type Certificate,
} from '../src/index.js';

/**
 * A root (pathLength 1), an intermediate it issued, and `leaf(commonName, dns)`: end-entity
 * certificates the intermediate issues, all with one key pair.
 */
export async function issuingChain(algorithm: 'P-256' | 'Ed25519'): Promise<{
  root: Certificate;
  intermediate: Certificate;
  leaf: (commonName: string, dns: string) => Promise<Certificate>;
}> {
  const [rootKeys, intermediateKeys, leafKeys] = await Promise.all(
    [0, 1, 2].map(() => generateKeyPair({ algorithm })),
  );
  const root = await createSelfSignedCa({
    subject: organizationName({ organization: 'Leaves', unit: 'Root' }),
    keyPair: rootKeys!,
    pathLength: 1,
  });
  const intermediate = await issueCaCertificate({
    issuer: { certificate: root, privateKey: rootKeys!.privateKey },
    subject: organizationName({ organization: 'Leaves', unit: 'Intermediate' }),
    publicKey: intermediateKeys!.publicKey,
  });
  const issuer = { certificate: intermediate, privateKey: intermediateKeys!.privateKey };
  const leaf = (commonName: string, dns: string) =>
    issueEndEntityCertificate({
      issuer,
      subject: personName({ commonName }),
      publicKey: leafKeys!.publicKey,
      altNames: [dnsName(dns)],
    });
  return { root, intermediate, leaf };
}

/** An Ed25519 anchor → intermediate chain and `count` distinct leaves under it, as DER. */
export async function issueLeaves(
  count: number,
): Promise<{ anchor: Uint8Array; intermediate: Uint8Array; leaves: Uint8Array[] }> {
  const { root, intermediate, leaf } = await issuingChain('Ed25519');
  const leaves = [];
  for (let i = 0; i < count; i++)
    leaves.push((await leaf(`peer ${i}`, `peer${i}.example.com`)).der);
  return { anchor: root.der, intermediate: intermediate.der, leaves };
}
