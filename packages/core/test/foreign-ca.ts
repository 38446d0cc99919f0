/** Test helper: a self-issued CA certificate for a key type we cannot sign with (RSA, P-521). */
import { generateKeyPair } from '../src/keys/keys.js';
import { parsePublicKeyInfo } from '../src/keys/public-key-info.js';
import { OID } from '../src/internal/oids.js';
import { signTbs } from '../src/x509/build-certificate.js';
import type { Certificate } from '../src/x509/certificate.js';
import { basicConstraintsValue } from '../src/x509/extensions.js';
import { encodeName, organizationName } from '../src/x509/name.js';

/**
 * A CA certificate holding `publicKey`, signed by a throwaway Ed25519 key: only the issuer checks look
 * at it, so who signed it does not matter.
 */
export async function caCertificateFor(
  publicKey: CryptoKey,
  organization: string,
  validity: { notBefore: Date; notAfter: Date },
): Promise<Certificate> {
  const name = encodeName(organizationName({ organization }));
  const signer = await generateKeyPair();
  return signTbs(
    {
      issuerName: name,
      subjectName: name,
      publicKey: parsePublicKeyInfo(
        new Uint8Array(await crypto.subtle.exportKey('spki', publicKey)),
      ),
      validity,
      extensions: [
        { oid: OID.basicConstraints, critical: true, value: basicConstraintsValue({ ca: true }) },
      ],
    },
    signer.privateKey,
    {},
  );
}
