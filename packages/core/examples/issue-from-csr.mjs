// The README example, runnable: `npm run build && node packages/core/examples/issue-from-csr.mjs`.
import {
  createCsr,
  createSelfSignedCa,
  dnsName,
  encodePem,
  generateKeyPair,
  ipAddress,
  issueCertificateFromCsr,
  organizationName,
  personName,
  signingName,
  verifyCertificateSignature,
} from '@certified/core';
import { formatCertificateText } from '@certified/core/inspect';

// A signing CA, named the way ORNL certified names one (pseudonym "Signing Certificate").
const caKeys = await generateKeyPair(); // Ed25519 by default; 'P-256' | 'P-384' too
const ca = await createSelfSignedCa({
  subject: signingName(personName({ commonName: 'Ada Lovelace' })),
  keyPair: caKeys,
});

// A service asks for a certificate…
const svcKeys = await generateKeyPair({ algorithm: 'P-256' });
const csr = await createCsr({
  subject: organizationName({ organization: 'Example Org', unit: 'Notes API' }),
  keyPair: svcKeys,
  altNames: [dnsName('notes.example.org'), ipAddress('127.0.0.1')],
});

// …and the CA issues one under a profile: a day's lifetime, TLS client/server use only.
const cert = await issueCertificateFromCsr({
  issuer: { certificate: ca, privateKey: caKeys.privateKey },
  csr: encodePem('CERTIFICATE REQUEST', csr.der),
  profile: { lifetimeSeconds: 86_400, allowedExtendedKeyUsages: ['serverAuth', 'clientAuth'] },
});
await verifyCertificateSignature(cert, ca);
console.log(formatCertificateText(cert));
console.log(encodePem('CERTIFICATE', cert.der)); // `openssl x509 -text` reads it
