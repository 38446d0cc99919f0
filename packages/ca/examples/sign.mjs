// A CA with one RA, the embedded store, and Anchor's form API — all in one process, no network:
// node --conditions=@certified/source --import tsx examples/sign.mjs   (or plain node after a build)
import {
  createCsr,
  createSelfSignedCa,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  organizationName,
  parseCertificate,
  personName,
  signingName,
} from '@certified/core';
import { createCaApp, hashSecret, loadCa, parseCaConfig } from '@certified/ca';
import { createPgliteStore } from '@certified/ca/pglite';

// The CA's key and certificate (a real deployment reads them from files named in the config).
const caKeys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
const caCert = await createSelfSignedCa({
  subject: signingName(organizationName({ organization: 'Example CA' })),
  keyPair: caKeys,
});
const files = {
  'ca.crt': encodePem('CERTIFICATE', caCert.der),
  'ca.key': await exportPrivateKey(caKeys.privateKey),
};

const config = parseCaConfig(`
signing_ca:
  main: { cert_path: ca.crt, key_path: ca.key }
authentication:
  ops:
    backend: static
    users: [{ user: myusername, secret_hash: "${await hashSecret('simplepassword')}" }]
registration_authority:
  default:
    signing_ca: main
    authentication: ops
    valid_hours: 24
    validators:
      common_name: { allowed_domains: [.example.com] }
      ca_status: { ca_requested: false }
    fixups:
      enforce_alternative_names: {}
`);
const ca = await loadCa(config, {
  readText: async (path) => files[path],
  openStore: () => createPgliteStore(),
});
const app = createCaApp(ca);

async function sign(commonName) {
  const keyPair = await generateKeyPair({ algorithm: 'P-256' });
  const csr = await createCsr({ subject: personName({ commonName }), keyPair });
  const form = new URLSearchParams({
    user: 'myusername',
    secret: 'simplepassword',
    encoding: 'pem',
    csr: encodePem('CERTIFICATE REQUEST', csr.der),
  });
  return app.request(
    '/v1/sign/default',
    { method: 'POST', body: form },
    { remoteAddress: '127.0.0.1' },
  );
}

const ok = await sign('web.example.com');
const cert = parseCertificate(await ok.text());
console.log(`issued: ${ok.status}, SANs ${cert.subjectAltNames.map((n) => n.value).join(',')}`);
const refused = await sign('web.example.net');
console.log(`refused: ${refused.status}`, await refused.json());
for (const r of await ca.store.audit({ limit: 2 }))
  console.log(`audit: ${r.decision} ${r.subject} ${r.code ?? r.serial}`);
await ca.store.close();
