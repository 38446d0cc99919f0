import { beforeAll, describe, expect, it } from 'vitest';
import {
  createPathValidator,
  encodePem,
  toHex,
  generateKeyPair,
  createSelfSignedCa,
  issueCaCertificate,
  issueEndEntityCertificate,
  type Issuer,
  type Certificate,
  dnsName,
  emailAddress,
  ipAddress,
  organizationName,
  personName,
  signingName,
  ornlName,
} from '@certified/core';
import { thrown } from '@certified/testing';
import {
  clientAnchors,
  clientCredentials,
  resolveServiceUrl,
  serverAnchors,
  serverCredentials,
  type Credentials,
} from './credentials.js';
import {
  initIdentity,
  loadIdentity,
  loadService,
  serviceYaml,
  type Identity,
  type KnownService,
} from './identity.js';
import {
  addClient,
  addIntro,
  addService,
  getIdent,
  getSigner,
  introduce,
  setOrg,
} from './operations.js';
import { createMemoryStore } from './store.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const AT = new Date(NOW.getTime() + 86_400_000);
const NOTES_URL = 'https://127.0.0.1:8443';
const enc = new TextEncoder();

const pem = (c: Certificate) => encodePem('CERTIFICATE', c.der);
const hexes = (cs: readonly Certificate[]) => cs.map((c) => toHex(c.der));

function person(commonName: string): Promise<Identity> {
  return initIdentity(createMemoryStore(), {
    subject: personName({ commonName }),
    altNames: [emailAddress(`${commonName.toLowerCase()}@example.org`)],
    now: NOW,
  });
}

/** Validates what a client presents against a service's known_clients, as the service's TLS would. */
async function acceptedBy(server: Identity, creds: Credentials) {
  const validator = createPathValidator({ anchors: clientAnchors(server) });
  return validator.validate({
    peer: creds.certificates[0]!,
    chain: creds.certificates.slice(1),
    purpose: 'clientAuth',
    time: AT,
  });
}

let notes: Identity; // the service
let notesCa: Certificate;
let notesSigner: string;

beforeAll(async () => {
  notes = await initIdentity(createMemoryStore(), {
    subject: organizationName({ organization: 'Example Corp', unit: 'Notes' }),
    altNames: [dnsName('notes.example'), ipAddress('127.0.0.1')],
    keyType: 'secp256r1',
    now: NOW,
  });
  notesCa = notes.signer!.certificate;
  notesSigner = ornlName(notesCa.subject);
});

describe('clientCredentials', () => {
  it('presents our own chain (id.crt + CA.crt) when there is no service or no auths', async () => {
    const ada = await person('Ada');
    const own = [ada.id.certificate, ada.signer!.certificate];
    const none = clientCredentials(ada);
    expect(hexes(none.certificates)).toEqual(hexes(own));
    expect(none.via).toBe('id.crt (no auths listed)');
    expect(none.keyPem).toBe(ada.id.keyPem);
    expect(none.privateKey).toBe(ada.id.privateKey);
    const svc: KnownService = { alias: 'x', file: 'x', url: NOTES_URL, cert: undefined, auths: [] };
    expect(hexes(clientCredentials(ada, svc).certificates)).toEqual(hexes(own));
  });

  it('presents our own chain when the service lists our CA', async () => {
    const ada = await person('Ada');
    const svc: KnownService = {
      alias: 'x',
      file: 'x',
      url: NOTES_URL,
      cert: undefined,
      auths: ['O=Someone', ornlName(ada.signer!.certificate.subject)],
    };
    const c = clientCredentials(ada, svc);
    expect(hexes(c.certificates)).toEqual(hexes([ada.id.certificate, ada.signer!.certificate]));
    expect(c.via).toBe('id.crt (service accepts our CA)');
  });

  it('presents id/<auth>.crt first when we hold a signature from one of the auths', async () => {
    const ada = await person('Ada');
    const letter = await introduce(notes, getIdent(ada), { now: AT });
    await addIntro(ada, letter, { now: AT });
    const me = await loadIdentity(ada.store);
    const svc: KnownService = {
      alias: 'notes',
      file: 'known_servers/notes.yaml',
      url: NOTES_URL,
      cert: notesCa,
      auths: ['O=Unknown', notesSigner],
    };
    const c = clientCredentials(me, svc);
    expect(hexes(c.certificates)).toEqual(hexes(me.signatures[0]!.certificates));
    expect(toHex(c.certificates[0]!.issuerDer)).toBe(toHex(notesCa.subjectDer));
    expect(toHex(c.certificates[1]!.der)).toBe(toHex(notesCa.der));
    expect(c.via).toBe(`id/${notesSigner}.crt (service accepts ${notesSigner})`);
  });

  it('skips an id/<auth>.crt made for another key', async () => {
    const ada = await person('Ada');
    const bob = await person('Bob');
    const forBob = await introduce(notes, getIdent(bob), { now: AT });
    await addIntro(bob, forBob, { now: AT });
    // Ada copies Bob's signature into her directory: it is not hers to present.
    await ada.store.commit([
      {
        op: 'write',
        path: `id/${notesSigner}.crt`,
        data: (await bob.store.read(`id/${notesSigner}.crt`))!,
      },
    ]);
    const me = await loadIdentity(ada.store);
    const svc: KnownService = {
      alias: 'n',
      file: 'n',
      url: NOTES_URL,
      cert: notesCa,
      auths: [notesSigner],
    };
    const c = clientCredentials(me, svc);
    expect(hexes(c.certificates)).toEqual(hexes([me.id.certificate, me.signer!.certificate]));
    expect(c.via).toMatch(/no signature from the service's auths/);
  });

  describe('with our CA signed by another (CA/<auth>.crt)', () => {
    let partner: Issuer; // an authority that signs CAs
    let partnerName: string;
    let ada: Identity;
    let caByPartner: Certificate;

    beforeAll(async () => {
      const keys = await generateKeyPair({ algorithm: 'P-256' });
      partner = {
        certificate: await createSelfSignedCa({
          subject: signingName(organizationName({ organization: 'Partner', unit: 'PKI' })),
          keyPair: keys,
          pathLength: 1,
          now: NOW,
        }),
        privateKey: keys.privateKey,
      };
      partnerName = ornlName(partner.certificate.subject);
      const fresh = await person('Ada');
      caByPartner = await issueCaCertificate({
        issuer: partner,
        subject: fresh.signer!.certificate.subject,
        publicKey: fresh.signer!.certificate.publicKey,
        now: NOW,
      });
      await fresh.store.commit([
        { op: 'write', path: `CA/${partnerName}.crt`, data: enc.encode(pem(caByPartner)) },
      ]);
      ada = await loadIdentity(fresh.store);
    });

    it('presents id.crt followed by CA/<auth>.crt, and it validates to the auth', async () => {
      const svc: KnownService = {
        alias: 'p',
        file: 'p',
        url: 'https://partner.example',
        cert: partner.certificate,
        auths: [partnerName],
      };
      const c = clientCredentials(ada, svc);
      expect(hexes(c.certificates)).toEqual(hexes([ada.id.certificate, caByPartner]));
      expect(c.via).toBe(`id.crt + CA/${partnerName}.crt (service accepts ${partnerName})`);
      const r = await createPathValidator({ anchors: [partner.certificate] }).validate({
        peer: c.certificates[0]!,
        chain: c.certificates.slice(1),
        purpose: 'clientAuth',
        time: AT,
      });
      expect(r.ok).toBe(true);
    });

    it('prefers id/<auth>.crt over CA/<auth>.crt whatever the order of auths', async () => {
      const both = createMemoryStore({
        files: Object.fromEntries(
          [...(ada.store as ReturnType<typeof createMemoryStore>).files].map(([p, f]) => [
            p,
            f.data,
          ]),
        ),
      });
      const copy = await loadIdentity(both);
      await addIntro(copy, await introduce(notes, getIdent(copy), { now: AT }), { now: AT });
      const me = await loadIdentity(both);
      const svc: KnownService = {
        alias: 'x',
        file: 'x',
        url: NOTES_URL,
        cert: undefined,
        auths: [partnerName, notesSigner],
      };
      expect(clientCredentials(me, svc).via).toBe(
        `id/${notesSigner}.crt (service accepts ${notesSigner})`,
      );
    });
  });

  it('presents id.crt with the organisation CA after set-org', async () => {
    const svc = await person('Search');
    const letter = await introduce(notes, getIdent(svc), { now: AT });
    await setOrg(svc, letter, { now: AT, overwrite: true });
    const me = await loadIdentity(svc.store);
    const c = clientCredentials(me);
    expect(hexes(c.certificates)).toEqual(hexes([me.id.certificate, notesCa]));
    expect(hexes(serverCredentials(me).certificates)).toEqual(hexes(c.certificates));
  });
});

describe('serverCredentials', () => {
  it('presents id.crt and CA.crt with id.key', () => {
    const c = serverCredentials(notes);
    expect(hexes(c.certificates)).toEqual(hexes([notes.id.certificate, notesCa]));
    expect(c.keyPem).toBe(notes.id.keyPem);
    expect(c.via).toBe('id.crt');
  });
});

describe('clientAnchors and serverAnchors', () => {
  it('clientAnchors: every certificate in known_clients/*.crt', async () => {
    const ada = await person('Ada');
    const bob = await person('Bob');
    // A bundle placed there by hand (add-client now writes one certificate): all of it is trusted.
    await ada.store.commit([
      {
        op: 'write',
        path: 'known_clients/pair.crt',
        data: enc.encode(pem(notesCa) + pem(bob.signer!.certificate)),
      },
    ]);
    const me = await loadIdentity(ada.store);
    expect(hexes(clientAnchors(me))).toEqual(
      hexes([notesCa, bob.signer!.certificate, ada.signer!.certificate]),
    );
  });

  it("serverAnchors: the service's pinned cert, else known_servers/*.crt", async () => {
    const ada = await person('Ada');
    await ada.store.commit([
      { op: 'write', path: 'known_servers/extra.crt', data: enc.encode(pem(notesCa)) },
      {
        op: 'write',
        path: 'known_servers/unpinned.yaml',
        data: enc.encode(serviceYaml({ url: NOTES_URL, auths: [] })),
      },
    ]);
    await addService(ada, 'notes', pem(notesCa), { url: NOTES_URL });
    const me = await loadIdentity(ada.store);
    const pinned = await loadService(me.store, 'notes');
    const unpinned = await loadService(me.store, 'unpinned');
    expect(unpinned.cert).toBeUndefined();
    expect(hexes(serverAnchors(me, pinned))).toEqual(hexes([notesCa]));
    const all = hexes([notesCa, ada.signer!.certificate]);
    expect(hexes(serverAnchors(me, unpinned))).toEqual(all);
    expect(hexes(serverAnchors(me))).toEqual(all);
  });
});

describe('credentials end to end', () => {
  /** A client set up to call notes: the service file, as add-service or add-intro writes it. */
  async function caller(name: string): Promise<Identity> {
    const id = await person(name);
    await addService(id, 'notes', JSON.stringify(getSigner(notes)), { url: NOTES_URL });
    return loadIdentity(id.store);
  }

  it("validates a directly trusted client's chain against the service's clientAnchors", async () => {
    const ada = await caller('Ada');
    const svcStore = createMemoryStore({
      files: Object.fromEntries(
        [...(notes.store as ReturnType<typeof createMemoryStore>).files].map(([p, f]) => [
          p,
          f.data,
        ]),
      ),
    });
    await addClient(await loadIdentity(svcStore), 'ada', pem(ada.signer!.certificate));
    const server = await loadIdentity(svcStore);
    const creds = clientCredentials(ada, await loadService(ada.store, 'notes'));
    expect(creds.via).toMatch(/^id\.crt/);
    const r = await acceptedBy(server, creds);
    expect(r.ok).toBe(true);
    if (r.ok) expect(toHex(r.anchor.der)).toBe(toHex(ada.signer!.certificate.der));
  });

  it("validates an introduced client's chain against the service's clientAnchors", async () => {
    const bob = await caller('Bob');
    const letter = await introduce(notes, getIdent(bob), {
      now: AT,
      services: { notes: NOTES_URL },
    });
    await addIntro(bob, letter, { now: AT, overwrite: true });
    const me = await loadIdentity(bob.store);
    const svc = await loadService(me.store, 'notes');
    expect(svc.auths).toEqual([notesSigner]);
    const creds = clientCredentials(me, svc);
    expect(creds.via).toMatch(/^id\//);
    const r = await acceptedBy(notes, creds);
    expect(r.ok).toBe(true);
    if (r.ok) expect(toHex(r.anchor.der)).toBe(toHex(notesCa.der));
  });

  it("refuses a stranger's chain", async () => {
    const carol = await caller('Carol');
    const creds = clientCredentials(carol, await loadService(carol.store, 'notes'));
    const r = await acceptedBy(notes, creds);
    expect(r.ok).toBe(false);
    // Nor does a certificate the stranger makes for herself with the service's name pass.
    const keys = await generateKeyPair();
    const forged = await issueEndEntityCertificate({
      issuer: { certificate: carol.signer!.certificate, privateKey: carol.signer!.privateKey },
      subject: personName({ commonName: 'Ada' }),
      publicKey: keys.publicKey,
      altNames: [emailAddress('ada@example.org')],
      now: NOW,
    });
    const r2 = await acceptedBy(notes, {
      ...creds,
      certificates: [forged, carol.signer!.certificate],
    });
    expect(r2.ok).toBe(false);
  });

  it("validates the service's chain against the client's serverAnchors for the URL's host", async () => {
    const ada = await caller('Ada');
    const svc = await loadService(ada.store, 'notes');
    const creds = serverCredentials(notes);
    const validator = createPathValidator({ anchors: serverAnchors(ada, svc) });
    const input = {
      peer: creds.certificates[0]!,
      chain: creds.certificates.slice(1),
      purpose: 'serverAuth' as const,
      time: AT,
    };
    expect((await validator.validate({ ...input, peerName: '127.0.0.1' })).ok).toBe(true);
    expect((await validator.validate({ ...input, peerName: 'evil.example' })).ok).toBe(false);
    // Another server's chain does not pass the pin.
    const other = serverCredentials(ada);
    const r = await validator.validate({
      ...input,
      peer: other.certificates[0]!,
      chain: other.certificates.slice(1),
    });
    expect(r.ok).toBe(false);
  });
});

describe('resolveServiceUrl', () => {
  let me: Identity;

  beforeAll(async () => {
    const ada = await person('Ada');
    const svc = (url: string) => enc.encode(serviceYaml({ url, auths: [] }));
    await ada.store.commit([
      { op: 'write', path: 'known_servers/notes.yaml', data: svc(NOTES_URL) },
      { op: 'write', path: 'known_servers/api:9000.yaml', data: svc('https://10.0.0.1:9443') },
      { op: 'write', path: 'known_servers/prefixed.yaml', data: svc('https://10.0.0.2/api/v1/') },
      { op: 'write', path: 'known_servers/based.yaml', data: svc('https://10.0.0.3:7000/base') },
    ]);
    me = await loadIdentity(ada.store);
  });

  it.each([
    ['an alias', 'https://notes/items', 'https://127.0.0.1:8443/items', 'notes'],
    ['an alias alone', 'https://notes', 'https://127.0.0.1:8443/', 'notes'],
    [
      'query and fragment',
      'https://notes/a?x=1&y=%20#f',
      'https://127.0.0.1:8443/a?x=1&y=%20#f',
      'notes',
    ],
    ['alias:port', 'https://api:9000/x', 'https://10.0.0.1:9443/x', 'api:9000'],
    ['a prefix path', 'https://prefixed/items/1', 'https://10.0.0.2/api/v1/items/1', 'prefixed'],
    [
      'a port kept',
      'https://prefixed:8080/items',
      'https://10.0.0.2:8080/api/v1/items',
      'prefixed',
    ],
    [
      'a prefix without slash',
      'https://based/a/b?q=1',
      'https://10.0.0.3:7000/base/a/b?q=1',
      'based',
    ],
  ])('resolves %s', (_, url, expected, alias) => {
    const r = resolveServiceUrl(me, url);
    expect(r.url).toBe(expected);
    expect(r.service?.alias).toBe(alias);
  });

  it('returns a URL matching no alias unchanged', () => {
    for (const url of ['https://example.org/x?y=1', 'https://api/x', 'https://10.0.0.1:9443/']) {
      const r = resolveServiceUrl(me, url);
      expect(r.url).toBe(url);
      expect(r.service).toBeUndefined();
    }
  });

  it('rejects a port given twice with ERR_IDENTITY_INPUT_INVALID', () => {
    const e = thrown(() => resolveServiceUrl(me, 'https://notes:9999/x'));
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.field).toBe('url');
    expect(e.message).toMatch(/gives port 9999, but service "notes" already sets/);
  });

  it.each([
    ['http', 'http://notes/x', /not an https URL/],
    ['ws', 'wss://notes/x', /not an https URL/],
    ['no URL', 'notes/x', /is not a URL/],
  ])('rejects %s with ERR_IDENTITY_INPUT_INVALID', (_, url, message) => {
    const e = thrown(() => resolveServiceUrl(me, url));
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.message).toMatch(message);
  });

  it('rejects an alias whose service file is broken with ERR_SERVICE_INVALID instead of dialing the alias', async () => {
    const bob = await person('Bob');
    await bob.store.commit([
      {
        op: 'write',
        path: 'known_servers/broken.yaml',
        data: enc.encode('cert: null\nauths: []\n'),
      },
    ]);
    const loaded = await loadIdentity(bob.store);
    const e = thrown(() => resolveServiceUrl(loaded, 'https://broken/x'));
    expect(e.code).toBe('ERR_SERVICE_INVALID');
    expect(e.field).toBe('known_servers/broken.yaml');
    expect(e.message).toMatch(/has no url/);
    // Unrelated hosts still pass through unchanged.
    expect(resolveServiceUrl(loaded, 'https://elsewhere/x').url).toBe('https://elsewhere/x');
  });
});
