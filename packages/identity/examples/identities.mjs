// The README example, runnable: `npm run build && node packages/identity/examples/identities.mjs`.
import { createPathValidator, emailAddress, personName } from '@certified/core';
import {
  addIntro,
  clientAnchors,
  clientCredentials,
  createMemoryStore,
  getIdent,
  initIdentity,
  introduce,
  loadIdentity,
} from '@certified/identity';

const ada = await initIdentity(createMemoryStore(), {
  subject: personName({ commonName: 'Ada Lovelace' }),
  altNames: [emailAddress('ada@example.org')],
});
const bob = await initIdentity(createMemoryStore(), {
  subject: personName({ commonName: 'Bob' }),
  altNames: [emailAddress('bob@example.org')],
});

// Ada vouches for Bob and tells him about her "notes" service (ORNL's JSON: signed_cert, ca_cert, services).
const letter = await introduce(ada, getIdent(bob), {
  services: { notes: 'https://127.0.0.1:8443' },
});
const { written } = await addIntro(bob, JSON.stringify(letter)); // checks it is for Bob's key first
console.log(`letter fields: ${Object.keys(letter).join(', ')}`);
console.log(`wrote: ${written.join(', ')}`);

// Ada's services trust what Ada's CA signs (known_clients/self.crt); Bob presents what "notes" accepts.
const me = await loadIdentity(bob.store);
const { certificates, via } = clientCredentials(me, me.services[0]);
const validator = createPathValidator({ anchors: clientAnchors(ada) });
const result = await validator.validate({
  peer: certificates[0],
  chain: certificates.slice(1),
  purpose: 'clientAuth',
});
console.log(`Bob presents ${via}; Ada's service says: ${result.ok ? 'trusted' : result.code}`);
