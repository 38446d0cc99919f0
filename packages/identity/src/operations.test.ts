import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  encodePem,
  fromBase64Der,
  toBase64Der,
  toOrnlBase64Der,
  toHex,
  generateKeyPair,
  createSelfSignedCa,
  issueCaCertificate,
  type Issuer,
  decodeCertificate,
  fingerprint,
  type Certificate,
  dnsName,
  emailAddress,
  ipAddress,
  formatName,
  nameEquals,
  organizationName,
  personName,
  signingName,
  verifyCertificateSignature,
  ornlName,
} from '@certified/core';
import { createIntroLetter, type IntroLetter } from './letters/intro-letter.js';
import { rejected, thrown } from '@certified/testing';
import { clientAnchors } from './credentials.js';
import { initIdentity, loadIdentity, loadService, type Identity } from './identity.js';
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
const DAY = 86_400_000;
/** When operations run: a day after the identities were made. */
const AT = new Date(NOW.getTime() + DAY);
const enc = new TextEncoder();
const dec = new TextDecoder();

type MemoryStore = ReturnType<typeof createMemoryStore>;

const adaName = personName({ commonName: 'Ada Lovelace', country: 'GB' });
const notesName = organizationName({ organization: 'Example Corp', unit: 'Notes', country: 'US' });

/** Every file with its mode and bytes, to compare a store before and after. */
function snapshot(store: MemoryStore): Record<string, string> {
  return Object.fromEntries(
    [...store.files].map(([p, f]) => [p, `${f.mode.toString(8)}:${toHex(f.data)}`]),
  );
}

async function text(store: MemoryStore, path: string): Promise<string> {
  const bytes = await store.read(path);
  if (bytes === undefined) throw new Error(`${path} is missing`);
  return dec.decode(bytes);
}

async function person(store: MemoryStore = createMemoryStore()): Promise<Identity> {
  return initIdentity(store, {
    subject: adaName,
    altNames: [emailAddress('ada@example.org')],
    now: NOW,
  });
}

async function service(): Promise<Identity> {
  return initIdentity(createMemoryStore(), {
    subject: notesName,
    altNames: [dnsName('notes.example'), ipAddress('127.0.0.1')],
    keyType: 'secp256r1',
    now: NOW,
  });
}

const memory = (id: Identity) => id.store as MemoryStore;
const pem = (c: Certificate) => encodePem('CERTIFICATE', c.der);

let notes: Identity; // a service that introduces people
let notesCa: Certificate;
let notesSigner: string; // ornlName of its CA

beforeAll(async () => {
  notes = await service();
  notesCa = notes.signer!.certificate;
  notesSigner = ornlName(notesCa.subject);
});

describe('addClient', () => {
  it('saves the certificate as known_clients/<name>.crt in PEM', async () => {
    const ada = await person();
    const r = await addClient(ada, 'notes', pem(notesCa));
    expect(r.written).toEqual(['known_clients/notes.crt']);
    expect(r.removed).toEqual([]);
    expect(r.certificates.map((c) => toHex(c.der))).toEqual([toHex(notesCa.der)]);
    expect(await text(memory(ada), 'known_clients/notes.crt')).toBe(pem(notesCa));
    expect(memory(ada).files.get('known_clients/notes.crt')!.mode).toBe(0o644);
    const loaded = await loadIdentity(ada.store);
    expect(loaded.knownClients.map((f) => f.name)).toEqual(['notes', 'self']);
  });

  it('reads DER, base64 in either alphabet, JSON with ca_cert, and PEM bundles', async () => {
    const ada = await person();
    const inputs: [string, Uint8Array | string][] = [
      ['der', notesCa.der],
      ['b64', toBase64Der(notesCa.der)],
      ['ornl', `${toOrnlBase64Der(notesCa.der)}\n`],
      ['json', JSON.stringify(getSigner(notes))],
      ['jsonbytes', enc.encode(JSON.stringify(getSigner(notes)))],
    ];
    for (const [name, input] of inputs) {
      await addClient(ada, name, input);
      expect([name, await text(memory(ada), `known_clients/${name}.crt`)]).toEqual([
        name,
        pem(notesCa),
      ]);
    }
    // A bundle: only its first certificate is trusted (issue 11: no CA rides along unasked).
    const bundle = pem(notesCa) + pem(ada.signer!.certificate);
    const r = await addClient(ada, 'bundle', bundle);
    expect(r.certificates).toHaveLength(1);
    expect(await text(memory(ada), 'known_clients/bundle.crt')).toBe(pem(notesCa));
    expect(r.ignored.map((c) => toHex(c.der))).toEqual([toHex(ada.signer!.certificate.der)]);
  });

  it("pins the first certificate of a person's chain, not the CA after it", async () => {
    const ada = await person();
    // id.crt after set-org: the person, then the organisation's CA.
    const chain = pem(notes.id.certificate) + pem(notesCa);
    const r = await addClient(ada, 'notes-id', chain);
    expect(r.trusted).toEqual([
      {
        certificate: notes.id.certificate,
        role: 'pinned',
        fingerprint: fingerprint(notes.id.certificate),
      },
    ]);
    expect(r.certificates).toEqual([notes.id.certificate]);
    expect(r.ignored).toEqual([notesCa]);
    expect(await text(memory(ada), 'known_clients/notes-id.crt')).toBe(pem(notes.id.certificate));
    const loaded = await loadIdentity(ada.store);
    expect(clientAnchors(loaded).map((c) => toHex(c.der))).not.toContain(toHex(notesCa.der));
  });

  it('with ca, trusts the first CA certificate instead (role ca)', async () => {
    const ada = await person();
    const r = await addClient(ada, 'notes-org', pem(notes.id.certificate) + pem(notesCa), {
      ca: true,
    });
    expect(r.trusted.map((t) => [t.role, toHex(t.certificate.der), t.fingerprint])).toEqual([
      ['ca', toHex(notesCa.der), fingerprint(notesCa)],
    ]);
    expect(await text(memory(ada), 'known_clients/notes-org.crt')).toBe(pem(notesCa));
    expect(r.ignored).toEqual([notes.id.certificate]);
  });

  it('with ca and no CA certificate in the input: ERR_IDENTITY_INPUT_INVALID, store unchanged', async () => {
    const ada = await person();
    const before = snapshot(memory(ada));
    const e = await rejected(addClient(ada, 'x', pem(notes.id.certificate), { ca: true }));
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.message).toMatch(/holds no CA certificate/);
    expect(e.field).toBe('client certificate');
    expect(snapshot(memory(ada))).toEqual(before);
  });

  it('rejects an existing client with ERR_STORE_EXISTS, leaving the store byte-identical', async () => {
    const ada = await person();
    await addClient(ada, 'notes', pem(notesCa));
    const before = snapshot(memory(ada));
    const e = await rejected(addClient(ada, 'notes', pem(ada.signer!.certificate)));
    expect(e.code).toBe('ERR_STORE_EXISTS');
    expect(e.message).toMatch(/known_clients\/notes\.crt exists/);
    expect(snapshot(memory(ada))).toEqual(before);

    await addClient(ada, 'notes', pem(ada.signer!.certificate), { overwrite: true });
    expect(await text(memory(ada), 'known_clients/notes.crt')).toBe(pem(ada.signer!.certificate));
  });

  it.each([['../x'], ['a/b'], ['.hidden'], ['a\nb'], ['tab\there'], [''], ['a\\b']])(
    'rejects the name %j with ERR_IDENTITY_NAME_INVALID',
    async (name) => {
      const ada = await person();
      const before = snapshot(memory(ada));
      const e = await rejected(addClient(ada, name, pem(notesCa)));
      expect(e.code).toBe('ERR_IDENTITY_NAME_INVALID');
      expect(e.message).toMatch(/^The client name/);
      expect(snapshot(memory(ada))).toEqual(before);
    },
  );

  it.each([
    ['garbage', 'not a certificate', /not a readable certificate/],
    ['JSON without ca_cert', '{"cert": "AAAA"}', /without a "ca_cert"/],
    ['broken JSON', '{"ca_cert": ', /not valid JSON/],
    ['JSON with a bad ca_cert', '{"ca_cert": "AAAA"}', /not a readable certificate/],
  ])('rejects %s with ERR_IDENTITY_INPUT_INVALID', async (_, input, message) => {
    const ada = await person();
    const before = snapshot(memory(ada));
    const e = await rejected(addClient(ada, 'x', input));
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.message).toMatch(message);
    expect(e.field).toBe('client certificate');
    expect(snapshot(memory(ada))).toEqual(before);
  });
});

describe('addService', () => {
  it('writes known_servers/<alias>.yaml: auths, cert, url, with the signer appended', async () => {
    const ada = await person();
    const r = await addService(ada, '127.0.0.1:8443', pem(notesCa));
    expect(r).toEqual({
      written: ['known_servers/127.0.0.1:8443.yaml'],
      removed: [],
      alias: '127.0.0.1:8443',
      url: 'https://127.0.0.1:8443',
      auths: [notesSigner],
    });
    const yaml = await text(memory(ada), 'known_servers/127.0.0.1:8443.yaml');
    expect(yaml).toBe(
      `auths:\n- ${notesSigner}\ncert: ${toOrnlBase64Der(notesCa.der)}\nurl: https://127.0.0.1:8443\n`,
    );
    const doc = parseYaml(yaml) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['auths', 'cert', 'url']);
    const back = await loadService(ada.store, '127.0.0.1:8443');
    expect(back.auths).toEqual([notesSigner]);
    expect(toHex(back.cert!.der)).toBe(toHex(notesCa.der));
  });

  it('takes get-signer JSON and a url option, as `add-service notes signer.json --url`', async () => {
    const ada = await person();
    const r = await addService(ada, 'notes', JSON.stringify(getSigner(notes)), {
      url: 'https://127.0.0.1:8443/api',
    });
    expect(r.alias).toBe('notes');
    const s = await loadService(ada.store, 'notes');
    expect(s.url).toBe('https://127.0.0.1:8443/api');
    expect(s.auths).toEqual([notesSigner]);
    expect(toHex(s.cert!.der)).toBe(toHex(notesCa.der));
  });

  it('takes host:port/prefix as ORNL does: the alias is the part before the path', async () => {
    const ada = await person();
    const r = await addService(ada, 'notes.example:8443/v1', pem(notesCa));
    expect([r.alias, r.url]).toEqual(['notes.example:8443', 'https://notes.example:8443/v1']);
    expect(r.written).toEqual(['known_servers/notes.example:8443.yaml']);
  });

  it("appends the certificate's name to auths once", async () => {
    const ada = await person();
    const r = await addService(ada, 'a', pem(notesCa), { auths: ['O=Partner', notesSigner] });
    expect(r.auths).toEqual(['O=Partner', notesSigner]);
    const r2 = await addService(ada, 'b', pem(notesCa), { auths: ['O=Partner'] });
    expect(r2.auths).toEqual(['O=Partner', notesSigner]);
    expect((await loadService(ada.store, 'b')).auths).toEqual(['O=Partner', notesSigner]);
  });

  it('rejects an existing service with ERR_STORE_EXISTS, leaving the store byte-identical', async () => {
    const ada = await person();
    await addService(ada, 'notes', pem(notesCa), { url: 'https://127.0.0.1:8443' });
    const before = snapshot(memory(ada));
    const e = await rejected(addService(ada, 'notes', pem(notesCa), { url: 'https://10.0.0.1' }));
    expect(e.code).toBe('ERR_STORE_EXISTS');
    expect(snapshot(memory(ada))).toEqual(before);

    await addService(ada, 'notes', pem(notesCa), { url: 'https://10.0.0.1', overwrite: true });
    expect((await loadService(ada.store, 'notes')).url).toBe('https://10.0.0.1');
  });

  it.each([['../x'], ['.hidden'], ['a\nb'], ['a\x01'], [''], ['/x'], ['a\\b']])(
    'rejects the name %j with ERR_IDENTITY_NAME_INVALID',
    async (name) => {
      const ada = await person();
      const before = snapshot(memory(ada));
      const e = await rejected(addService(ada, name, pem(notesCa)));
      expect(e.code).toBe('ERR_IDENTITY_NAME_INVALID');
      expect(snapshot(memory(ada))).toEqual(before);
    },
  );

  it.each([
    ['http', 'http://127.0.0.1:8080'],
    ['a query', 'https://127.0.0.1/x?y=1'],
    ['a fragment', 'https://127.0.0.1/#x'],
    ['no URL', 'notes'],
  ])('rejects a url with %s with ERR_IDENTITY_INPUT_INVALID', async (_, url) => {
    const ada = await person();
    const before = snapshot(memory(ada));
    const e = await rejected(addService(ada, 'notes', pem(notesCa), { url }));
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.field).toBe('url');
    expect(snapshot(memory(ada))).toEqual(before);
  });

  it('rejects an unreadable certificate with ERR_IDENTITY_INPUT_INVALID', async () => {
    const ada = await person();
    const e = await rejected(addService(ada, 'notes', 'nope'));
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.field).toBe('service certificate');
  });
});

describe('getIdent and getSigner', () => {
  it("print id.crt as one line of base64-DER in ORNL's alphabet", () => {
    const line = getIdent(notes);
    expect(line).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
    expect(line).toBe(toOrnlBase64Der(notes.id.certificate.der));
    expect(toHex(fromBase64Der(line))).toBe(toHex(notes.id.certificate.der));
  });

  it('print the CA as {"ca_cert": …} and nothing else', () => {
    const s = getSigner(notes);
    expect(Object.keys(s)).toEqual(['ca_cert']);
    expect(s.ca_cert).toBe(toOrnlBase64Der(notesCa.der));
  });
});

describe('introduce', () => {
  it("signs the subject's get-ident output with our CA", async () => {
    const ada = await person();
    const letter = await introduce(notes, getIdent(ada), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8443' },
    });
    expect(Object.keys(letter)).toEqual(['signed_cert', 'ca_cert', 'services']);
    expect(letter.ca_cert).toBe(toOrnlBase64Der(notesCa.der));
    const signed = decodeCertificate(fromBase64Der(letter.signed_cert));
    expect(toHex(signed.publicKey.spki)).toBe(toHex(ada.id.certificate.publicKey.spki));
    expect(nameEquals(signed.subject, adaName)).toBe(true);
    expect(signed.subjectAltNames).toEqual(ada.id.certificate.subjectAltNames);
    await verifyCertificateSignature(signed, notesCa);
  });

  it('honours days', async () => {
    const ada = await person();
    const letter = await introduce(notes, pem(ada.id.certificate), { now: AT, days: 10 });
    const signed = decodeCertificate(fromBase64Der(letter.signed_cert));
    expect(signed.notAfter.getTime()).toBe(AT.getTime() + 10 * DAY);
  });
});

describe('addIntro', () => {
  let ada: Identity;
  let letter: IntroLetter;

  beforeAll(async () => {
    ada = await person();
    letter = await introduce(notes, getIdent(ada), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8443', 'notes-v2': 'https://127.0.0.1:8444/v2' },
    });
  });

  it('saves id/<signer>.crt and a service file per letter service', async () => {
    const me = await person();
    const mine = await introduce(notes, getIdent(me), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8443' },
    });
    const r = await addIntro(me, JSON.stringify(mine, null, 2), { now: AT });
    const idFile = `id/${notesSigner}.crt`;
    expect(r.written).toEqual([idFile, 'known_servers/notes.yaml']);
    expect(r.letter.signerName).toBe(notesSigner);
    expect(await text(memory(me), idFile)).toBe(
      pem(decodeCertificate(fromBase64Der(mine.signed_cert))) + pem(notesCa),
    );
    expect(await text(memory(me), 'known_servers/notes.yaml')).toBe(
      `auths:\n- ${notesSigner}\ncert: ${mine.ca_cert}\nurl: https://127.0.0.1:8443\n`,
    );
    const loaded = await loadIdentity(me.store);
    expect(loaded.signatures.map((f) => f.name)).toEqual([notesSigner]);
    expect(loaded.problems).toEqual([]);
  });

  it('takes the letter as bytes or as an object, and without services', async () => {
    const me = await person();
    const mine = await introduce(notes, getIdent(me), { now: AT });
    const r = await addIntro(me, enc.encode(JSON.stringify(mine)), { now: AT });
    expect(r.written).toEqual([`id/${notesSigner}.crt`]);
    const r2 = await addIntro(me, mine, { now: AT, overwrite: true });
    expect(r2.written).toEqual([`id/${notesSigner}.crt`]);
  });

  it('rejects a second install with ERR_STORE_EXISTS unless overwrite, store unchanged', async () => {
    const me = await person();
    const mine = await introduce(notes, getIdent(me), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8443' },
    });
    await addIntro(me, mine, { now: AT });
    const before = snapshot(memory(me));
    const e = await rejected(addIntro(me, mine, { now: AT }));
    expect(e.code).toBe('ERR_STORE_EXISTS');
    expect(snapshot(memory(me))).toEqual(before);
    await addIntro(me, mine, { now: AT, overwrite: true });
  });

  it("rejects a letter for someone else's key with ERR_INTRO_KEY_MISMATCH, store unchanged", async () => {
    const bob = await person();
    const before = snapshot(memory(bob));
    const e = await rejected(addIntro(bob, letter, { now: AT }));
    expect(e.code).toBe('ERR_INTRO_KEY_MISMATCH');
    expect(e.message).toMatch(/someone else/);
    expect(snapshot(memory(bob))).toEqual(before);
  });

  it('rejects a CA certificate posing as an identity with ERR_INTRO_NOT_IDENTITY', async () => {
    const me = await person();
    // An introducer allowed to sign CAs issues a CA certificate for our id.key.
    const keys = await generateKeyPair();
    const rogue: Issuer = {
      certificate: await createSelfSignedCa({
        subject: signingName(organizationName({ organization: 'Rogue', unit: 'CA' })),
        keyPair: keys,
        pathLength: 1,
        now: NOW,
      }),
      privateKey: keys.privateKey,
    };
    const posing = await issueCaCertificate({
      issuer: rogue,
      subject: adaName,
      publicKey: me.id.certificate.publicKey,
      now: NOW,
    });
    const before = snapshot(memory(me));
    const e = await rejected(
      addIntro(
        me,
        {
          signed_cert: toOrnlBase64Der(posing.der),
          ca_cert: toOrnlBase64Der(rogue.certificate.der),
        },
        { now: AT },
      ),
    );
    expect(e.code).toBe('ERR_INTRO_NOT_IDENTITY');
    expect(e.message).toMatch(/CA certificate posing as an identity/);
    expect(snapshot(memory(me))).toEqual(before);
  });

  it('rejects an expired letter with ERR_INTRO_EXPIRED', async () => {
    const me = await person();
    const mine = await introduce(notes, getIdent(me), { now: AT, days: 30 });
    const e = await rejected(addIntro(me, mine, { now: new Date(AT.getTime() + 31 * DAY) }));
    expect(e.code).toBe('ERR_INTRO_EXPIRED');
    expect(e.field).toBe('signed_cert');
    expect(memory(me).files.has(`id/${notesSigner}.crt`)).toBe(false);
  });

  it('rejects a letter not yet valid with ERR_INTRO_NOT_YET_VALID', async () => {
    const me = await person();
    const mine = await introduce(notes, getIdent(me), { now: new Date(AT.getTime() + 10 * DAY) });
    const e = await rejected(addIntro(me, mine, { now: AT }));
    expect(e.code).toBe('ERR_INTRO_NOT_YET_VALID');
    expect(e.field).toBe('signed_cert');
  });

  it('rejects a letter when a write fails with ERR_STORE_NO_SPACE, store unchanged', async () => {
    const store = createMemoryStore({ failOn: 'known_servers/notes.yaml' });
    const me = await person(store);
    const mine = await introduce(notes, getIdent(me), {
      now: AT,
      services: { 'notes-v2': 'https://127.0.0.1:8444', notes: 'https://127.0.0.1:8443' },
    });
    const before = snapshot(store);
    const e = await rejected(addIntro(me, mine, { now: AT }));
    expect(e.code).toBe('ERR_STORE_NO_SPACE');
    expect(e.message).toMatch(/known_servers\/notes\.yaml/);
    expect(snapshot(store)).toEqual(before);
  });

  it('rejects an introducer whose name is not a file name with ERR_IDENTITY_NAME_INVALID', async () => {
    const me = await person();
    const keys = await generateKeyPair();
    const slashy: Issuer = {
      certificate: await createSelfSignedCa({
        subject: personName({ commonName: '../../etc' }),
        keyPair: keys,
        now: NOW,
      }),
      privateKey: keys.privateKey,
    };
    expect(ornlName(slashy.certificate.subject)).toBe('CN=../../etc');
    const mine = await createIntroLetter({ issuer: slashy, subject: getIdent(me), now: AT });
    const before = snapshot(memory(me));
    const e = await rejected(addIntro(me, mine, { now: AT }));
    expect(e.code).toBe('ERR_IDENTITY_NAME_INVALID');
    expect(e.field).toBe('signer name');
    expect(snapshot(memory(me))).toEqual(before);
  });

  it('rejects a letter service alias that is not a file name with ERR_IDENTITY_NAME_INVALID', async () => {
    const me = await person();
    const mine = await introduce(notes, getIdent(me), { now: AT });
    const before = snapshot(memory(me));
    const e = await rejected(
      addIntro(me, { ...mine, services: { '.hidden': 'https://127.0.0.1' } }, { now: AT }),
    );
    expect(e.code).toBe('ERR_IDENTITY_NAME_INVALID');
    expect(e.field).toBe('service alias');
    expect(snapshot(memory(me))).toEqual(before);
    const e2 = await rejected(
      addIntro(me, { ...mine, services: { 'a/b': 'https://127.0.0.1' } }, { now: AT }),
    );
    expect(e2.code).toBe('ERR_INTRO_MALFORMED');
    expect(snapshot(memory(me))).toEqual(before);
  });

  it.each([
    ['an http URL', 'http://127.0.0.1:8080'],
    ['a query', 'https://127.0.0.1/x?y=1'],
  ])(
    'rejects a letter service with %s with ERR_IDENTITY_INPUT_INVALID, store unchanged',
    async (_, url) => {
      // Such a service file would be refused by loadIdentity/parseService later on.
      const me = await person();
      const mine = await introduce(notes, getIdent(me), { now: AT });
      const before = snapshot(memory(me));
      const e = await rejected(addIntro(me, { ...mine, services: { notes: url } }, { now: AT }));
      expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
      expect(e.field).toBe('url');
      expect(snapshot(memory(me))).toEqual(before);
    },
  );
});

describe('addIntro: letters cannot reroute hosts or replace what others wrote', () => {
  /** A second introducer, and one that copies the notes CA's name with another key. */
  let other: Identity;
  let impostor: Identity;
  beforeAll(async () => {
    other = await initIdentity(createMemoryStore(), {
      subject: organizationName({ organization: 'Other Corp' }),
      altNames: [dnsName('other.example')],
      now: NOW,
    });
    impostor = await initIdentity(createMemoryStore(), {
      subject: notesName,
      altNames: [dnsName('notes.example')],
      keyType: 'secp256r1',
      now: NOW,
    });
  });

  it.each(['api.partner.org', '10.0.0.5:8443', 'localhost:8443', 'localhost', '167772165'])(
    'rejects a service alias %j with ERR_SERVICE_ALIAS_HOSTLIKE, store unchanged',
    async (alias) => {
      const me = await person();
      const mine = await introduce(notes, getIdent(me), { now: AT });
      const before = snapshot(memory(me));
      for (const overwrite of [false, true]) {
        const e = await rejected(
          addIntro(
            me,
            { ...mine, services: { ok: 'https://127.0.0.1:1', [alias]: 'https://127.0.0.1:9' } },
            { now: AT, overwrite },
          ),
        );
        expect(e.code).toBe('ERR_SERVICE_ALIAS_HOSTLIKE');
        expect(e.field).toBe('services');
        expect(e.message).toContain(JSON.stringify(alias));
        expect(snapshot(memory(me))).toEqual(before);
      }
    },
  );

  it('reports what it installed: the signature, each service with its url, the CA fingerprint', async () => {
    const me = await person();
    const mine = await introduce(notes, getIdent(me), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8443/v1' },
    });
    const r = await addIntro(me, mine, { now: AT });
    expect(r.caFingerprint).toBe(fingerprint(notesCa));
    expect(r.installed).toEqual([
      { kind: 'signature', path: `id/${notesSigner}.crt` },
      {
        kind: 'service',
        path: 'known_servers/notes.yaml',
        alias: 'notes',
        url: 'https://127.0.0.1:8443/v1',
      },
    ]);
  });

  it("rejects another introducer's service of the same alias with ERR_SERVICE_CONFLICT, even with overwrite", async () => {
    const me = await person();
    const services = { notes: 'https://127.0.0.1:8443' };
    await addIntro(me, await introduce(notes, getIdent(me), { now: AT, services }), { now: AT });
    const before = snapshot(memory(me));
    const theirs = await introduce(other, getIdent(me), {
      now: AT,
      services: { notes: 'https://127.0.0.1:9' },
    });
    for (const overwrite of [true, false]) {
      const e = await rejected(addIntro(me, theirs, { now: AT, overwrite }));
      expect(e.code).toBe('ERR_SERVICE_CONFLICT');
      expect(e.field).toBe('known_servers/notes.yaml');
      expect(e.message).toContain(`pins ${formatName(notesCa.subject)}`);
      expect(e.message).toContain(fingerprint(notesCa));
      expect(snapshot(memory(me))).toEqual(before);
    }
    // the same introducer may replace its own
    const again = await introduce(notes, getIdent(me), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8444' },
    });
    await addIntro(me, again, { now: AT, overwrite: true });
    expect((await loadService(me.store, 'notes')).url).toBe('https://127.0.0.1:8444');
  });

  it('rejects replacing a service add-service wrote, or one pinning nothing, with ERR_SERVICE_CONFLICT', async () => {
    const me = await person();
    await addService(me, 'wiki', pem(other.signer!.certificate), { url: 'https://127.0.0.1:7443' });
    await me.store.commit([
      {
        op: 'write',
        path: 'known_servers/bare.yaml',
        data: enc.encode('url: https://127.0.0.1:7444\n'),
      },
    ]);
    const before = snapshot(memory(me));
    for (const alias of ['wiki', 'bare']) {
      const letter = await introduce(notes, getIdent(me), {
        now: AT,
        services: { [alias]: 'https://127.0.0.1:9' },
      });
      const e = await rejected(addIntro(me, letter, { now: AT, overwrite: true }));
      expect(e.code).toBe('ERR_SERVICE_CONFLICT');
      expect(e.field).toBe(`known_servers/${alias}.yaml`);
      expect(snapshot(memory(me))).toEqual(before);
    }
  });

  it('rejects replacing id/<signer>.crt from a same-named CA with ERR_SERVICE_CONFLICT', async () => {
    const me = await person();
    await addIntro(me, await introduce(notes, getIdent(me), { now: AT }), { now: AT });
    expect(ornlName(impostor.signer!.certificate.subject)).toBe(notesSigner);
    const before = snapshot(memory(me));
    const e = await rejected(
      addIntro(me, await introduce(impostor, getIdent(me), { now: AT }), {
        now: AT,
        overwrite: true,
      }),
    );
    expect(e.code).toBe('ERR_SERVICE_CONFLICT');
    expect(e.field).toBe(`id/${notesSigner}.crt`);
    expect(e.message).toMatch(/CA did not sign/);
    expect(snapshot(memory(me))).toEqual(before);
  });

  it("setOrg replaces the organisation's own services but not another introducer's", async () => {
    const me = await person();
    const services = { notes: 'https://127.0.0.1:8443' };
    await addIntro(me, await introduce(other, getIdent(me), { now: AT, services }), { now: AT });
    const before = snapshot(memory(me));
    const org = await introduce(notes, getIdent(me), { now: AT, services });
    const e = await rejected(setOrg(me, org, { now: AT, overwrite: true }));
    expect(e.code).toBe('ERR_SERVICE_CONFLICT');
    expect(snapshot(memory(me))).toEqual(before);
    const hostlike = { ...org, services: { 'api.partner.org': 'https://127.0.0.1:9' } };
    const e2 = await rejected(setOrg(me, hostlike, { now: AT, overwrite: true }));
    expect(e2.code).toBe('ERR_SERVICE_ALIAS_HOSTLIKE');
    expect(snapshot(memory(me))).toEqual(before);
  });
});

describe('setOrg', () => {
  async function joined() {
    const svc = await initIdentity(createMemoryStore(), {
      subject: organizationName({ organization: 'Example Corp', unit: 'Search' }),
      altNames: [dnsName('search.example')],
      now: NOW,
    });
    await svc.store.commit([
      { op: 'write', path: 'id/CN=Old.crt', data: enc.encode(pem(notesCa)) },
      { op: 'write', path: 'CA/CN=Old.crt', data: enc.encode(pem(notesCa)) },
    ]);
    const letter = await introduce(notes, getIdent(svc), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8443' },
    });
    return { svc, letter };
  }

  it('rejects a call without overwrite with ERR_IDENTITY_INPUT_INVALID, store unchanged', async () => {
    const { svc, letter } = await joined();
    const before = snapshot(memory(svc));
    const e = await rejected(setOrg(svc, letter, { now: AT }));
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.field).toBe('overwrite');
    expect(e.message).toMatch(/--overwrite/);
    expect(snapshot(memory(svc))).toEqual(before);
  });

  it('replaces id.crt, removes CA.*, CA/, id/ and self.crt, and trusts the org', async () => {
    const { svc, letter } = await joined();
    const idKey = await text(memory(svc), 'id.key');
    const r = await setOrg(svc, letter, { now: AT, overwrite: true });
    const signed = decodeCertificate(fromBase64Der(letter.signed_cert));
    expect(r.written).toEqual([
      'known_clients/org.crt',
      'known_servers/org.crt',
      'id.crt',
      'known_servers/notes.yaml',
    ]);
    expect([...memory(svc).files.keys()].sort()).toEqual([
      'id.crt',
      'id.key',
      'known_clients/org.crt',
      'known_servers/notes.yaml',
      'known_servers/org.crt',
    ]);
    expect(await text(memory(svc), 'id.key')).toBe(idKey);
    expect(await text(memory(svc), 'id.crt')).toBe(pem(signed) + pem(notesCa));
    expect(await text(memory(svc), 'known_clients/org.crt')).toBe(pem(notesCa));
    expect(await text(memory(svc), 'known_servers/org.crt')).toBe(pem(notesCa));

    const loaded = await loadIdentity(svc.store);
    expect(loaded.signer).toBeUndefined();
    expect(toHex(loaded.id.certificate.der)).toBe(toHex(signed.der));
    expect(loaded.id.chain.map((c) => toHex(c.der))).toEqual([toHex(notesCa.der)]);
    expect((await loadService(svc.store, 'notes')).auths).toEqual([notesSigner]);
  });

  it("rejects a letter for someone else's key with ERR_INTRO_KEY_MISMATCH, store unchanged", async () => {
    const { svc } = await joined();
    const { letter: theirs } = await joined();
    const before = snapshot(memory(svc));
    const e = await rejected(setOrg(svc, theirs, { now: AT, overwrite: true }));
    expect(e.code).toBe('ERR_INTRO_KEY_MISMATCH');
    expect(snapshot(memory(svc))).toEqual(before);
  });

  it('leaves an identity that cannot introduce: ERR_IDENTITY_NO_SIGNER', async () => {
    const { svc, letter } = await joined();
    await setOrg(svc, letter, { now: AT, overwrite: true });
    const loaded = await loadIdentity(svc.store);
    const ada = await person();
    const e = await rejected(introduce(loaded, getIdent(ada), { now: AT }));
    expect(e.code).toBe('ERR_IDENTITY_NO_SIGNER');
    expect(e.field).toBe('CA.key');
    expect(e.message).toMatch(/cannot introduce someone/);
    const e2 = thrown(() => getSigner(loaded));
    expect(e2.code).toBe('ERR_IDENTITY_NO_SIGNER');
    // get-ident still works: it prints the organisation-signed identity.
    expect(getIdent(loaded)).toBe(letter.signed_cert);
  });
});
