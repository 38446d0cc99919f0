#!/usr/bin/env node
// `npm start` until the CLI lands: builds two identities the way ORNL certified lays them out
// (a signing CA and an identity certificate each), has the person's CA introduce the service,
// checks every signature, and prints the certificates with a readable summary.
import {
  createSelfSignedCa,
  encodePem,
  formatCertificateText,
  generateKeyPair,
  isCertifiedError,
  issueCertificateFromCsr,
  issueEndEntityCertificate,
  createCsr,
  dnsName,
  emailAddress,
  ipAddress,
  organizationName,
  personName,
  signingName,
  verifyCertificateSignature,
} from '@certified/core';

async function identity(name, altNames) {
  const caKeys = await generateKeyPair();
  const ca = await createSelfSignedCa({ subject: signingName(name), keyPair: caKeys });
  const idKeys = await generateKeyPair();
  const id = await issueEndEntityCertificate({
    issuer: { certificate: ca, privateKey: caKeys.privateKey },
    subject: name,
    publicKey: idKeys.publicKey,
    altNames,
  });
  await verifyCertificateSignature(id, ca);
  return { ca, caKeys, id, idKeys };
}

async function main() {
  const person = await identity(personName({ commonName: 'Ada Lovelace' }), [
    emailAddress('ada@example.org'),
  ]);
  const service = await identity(
    organizationName({ organization: 'Example Org', unit: 'Notes API' }),
    [dnsName('localhost'), ipAddress('127.0.0.1')],
  );
  // An introduction: the person's CA vouches for the service's identity key, from a CSR.
  const csr = await createCsr({
    subject: service.id.subject,
    keyPair: service.idKeys,
    altNames: service.id.subjectAltNames,
  });
  const introduced = await issueCertificateFromCsr({
    issuer: { certificate: person.ca, privateKey: person.caKeys.privateKey },
    csr: csr.der,
    profile: { lifetimeSeconds: 30 * 86400 },
  });
  await verifyCertificateSignature(introduced, person.ca);

  const out = [];
  for (const [label, cert] of [
    ['person CA.crt', person.ca],
    ['person id.crt', person.id],
    ['service CA.crt', service.ca],
    ['service id.crt', service.id],
    ['service id as introduced by the person (id/<person>.crt)', introduced],
  ]) {
    out.push(`# ${label}`, formatCertificateText(cert), encodePem('CERTIFICATE', cert.der));
  }
  out.push(
    'All signatures verified. Pipe any PEM above into `openssl x509 -text -noout` to compare.',
  );
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(isCertifiedError(e) ? `${e.code}: ${e.message}\n` : `${e?.stack ?? e}\n`);
  process.exit(1);
});
