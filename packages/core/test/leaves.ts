/** Test helper: an anchor → intermediate chain and `count` distinct leaves under it (one key pair). */
import {
  createSelfSignedCa,
  dnsName,
  generateKeyPair,
  issueCaCertificate,
  issueEndEntityCertificate,
  organizationName,
  personName,
} from '../src/index.js';

export async function issueLeaves(
  count: number,
): Promise<{ anchor: Uint8Array; intermediate: Uint8Array; leaves: Uint8Array[] }> {
  const [rootKeys, intermediateKeys, leafKeys] = await Promise.all(
    [0, 1, 2].map(() => generateKeyPair({ algorithm: 'Ed25519' })),
  );
  const anchor = await createSelfSignedCa({
    subject: organizationName({ organization: 'Leaves', unit: 'Root' }),
    keyPair: rootKeys!,
    pathLength: 1,
  });
  const intermediate = await issueCaCertificate({
    issuer: { certificate: anchor, privateKey: rootKeys!.privateKey },
    subject: organizationName({ organization: 'Leaves', unit: 'Intermediate' }),
    publicKey: intermediateKeys!.publicKey,
  });
  const issuer = { certificate: intermediate, privateKey: intermediateKeys!.privateKey };
  const leaves = [];
  for (let i = 0; i < count; i++) {
    const leaf = await issueEndEntityCertificate({
      issuer,
      subject: personName({ commonName: `peer ${i}` }),
      publicKey: leafKeys!.publicKey,
      altNames: [dnsName(`peer${i}.example.com`)],
    });
    leaves.push(leaf.der);
  }
  return { anchor: anchor.der, intermediate: intermediate.der, leaves };
}
