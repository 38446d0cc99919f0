/**
 * @module x509/verify-certificate — checking one certificate's signature against its issuer's key.
 * (Full path validation is the chain module's job; this is the primitive it and callers build on.)
 */
import { CertificateMalformed, SignatureInvalid } from '../errors.js';
import { equalBytes } from '../internal/bytes.js';
import { subtleOf, type CryptoOptions } from '../keys/keys.js';
import type { PublicKeyInfo } from '../keys/public-key-info.js';
import type { Certificate } from './certificate.js';
import { verifyX509Signature } from './signature.js';

/**
 * Verifies that `cert` was signed by `issuer` (a certificate, or its public key). Also requires the
 * TBS and outer signature algorithms to be identical (RFC 5280 §4.1.1.2).
 *
 * @param cert - the certificate to check.
 * @param issuer - the issuer's certificate or public key; for a self-signed certificate, pass it again.
 * @throws ERR_SIGNATURE_INVALID if the signature does not verify; ERR_CERT_MALFORMED if the algorithms differ;
 *   ERR_ALG_UNSUPPORTED for SHA-1, MD5, weak RSA or unknown algorithms.
 * @example
 * await verifyCertificateSignature(leaf, intermediate);
 */
export async function verifyCertificateSignature(
  cert: Certificate,
  issuer: Certificate | PublicKeyInfo,
  options: CryptoOptions = {},
): Promise<void> {
  if (!equalBytes(cert.signatureAlgorithm.der, cert.tbsSignatureAlgorithm.der)) {
    throw new CertificateMalformed(
      'The certificate signature algorithm differs from the one inside tbsCertificate.',
      {
        field: 'signatureAlgorithm',
        reason: 'algorithm mismatch',
      },
    );
  }
  const key = 'spki' in issuer ? issuer : issuer.publicKey;
  const ok = await verifyX509Signature(
    key,
    cert.signatureAlgorithm,
    cert.tbs,
    cert.signature,
    subtleOf(options),
  );
  if (!ok)
    throw new SignatureInvalid('The certificate signature does not verify with the issuer key.', {
      field: 'signature',
    });
}
