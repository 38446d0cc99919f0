// The README path-validation example, runnable: `npm run build && node packages/core/examples/validate-chain.mjs`.
import {
  createPathValidator,
  createSelfSignedCa,
  dnsName,
  formatName,
  generateKeyPair,
  issueCaCertificate,
  issueEndEntityCertificate,
  organizationName,
  personName,
  signingName,
} from '@certified/core';

// An organisation's root, allowed to vouch only for names under example.org…
const rootKeys = await generateKeyPair();
const root = await createSelfSignedCa({
  subject: signingName(organizationName({ organization: 'Example Org' })),
  keyPair: rootKeys,
  pathLength: 1,
  nameConstraints: { permitted: [dnsName('example.org')] },
});
// …an intermediate under it, and a service certificate under that.
const caKeys = await generateKeyPair();
const ca = await issueCaCertificate({
  issuer: { certificate: root, privateKey: rootKeys.privateKey },
  subject: organizationName({ organization: 'Example Org', unit: 'Services CA' }),
  publicKey: caKeys.publicKey,
});
const svcKeys = await generateKeyPair();
const svc = await issueEndEntityCertificate({
  issuer: { certificate: ca, privateKey: caKeys.privateKey },
  subject: organizationName({ organization: 'Example Org', unit: 'Notes API' }),
  publicKey: svcKeys.publicKey,
  altNames: [dnsName('notes.example.org')],
});

// A client trusts the root for this one service context, and checks what the server presents.
const validator = createPathValidator({ anchors: [root] });
const ok = await validator.validate({
  peer: svc.der,
  chain: [ca.der],
  purpose: 'serverAuth',
  peerName: 'notes.example.org',
});
if (ok.ok) {
  console.log('trusted:', ok.path.map((c) => formatName(c.subject)).join(' <- '));
  console.log('valid until', ok.validUntil.toISOString());
}

// The same chain for another host name is refused, with a stable code and a reason per path tried.
const wrong = await validator.validate({
  peer: svc.der,
  chain: [ca.der],
  purpose: 'serverAuth',
  peerName: 'billing.example.org',
});
if (!wrong.ok) console.log('refused:', `${wrong.code}: ${wrong.message}`);

// Pinning: a peer's own certificate can be the anchor (here a person's self-signed identity).
const aliceKeys = await generateKeyPair();
const alice = await createSelfSignedCa({
  subject: personName({ commonName: 'Alice' }),
  keyPair: aliceKeys,
});
const pinned = await createPathValidator({ anchors: [alice] }).validate({
  peer: alice.der,
  purpose: 'any',
});
if (pinned.ok) console.log('pinned peer:', pinned.peer.commonName);
