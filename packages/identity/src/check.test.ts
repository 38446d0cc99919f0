import { beforeAll, describe, expect, it } from 'vitest';
import {
  encodePem,
  generateKeyPair,
  createSelfSignedCa,
  type Certificate,
  dnsName,
  emailAddress,
  ipAddress,
  organizationName,
  personName,
  signingName,
  ornlName,
} from '@certified/core';
import { checkIdentity, describeIdentity, summarize } from './check.js';
import { initIdentity, loadIdentity, type Identity } from './identity.js';
import { addClient, addIntro, addService, getIdent, introduce } from './operations.js';
import { createMemoryStore, type IdentityStore, type StoreEntry } from './store.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);
const enc = new TextEncoder();

type MemoryStore = ReturnType<typeof createMemoryStore>;

const pem = (c: Certificate) => encodePem('CERTIFICATE', c.der);

async function person(): Promise<{ store: MemoryStore; me: Identity }> {
  const store = createMemoryStore();
  const me = await initIdentity(store, {
    subject: personName({ commonName: 'Ada Lovelace' }),
    altNames: [emailAddress('ada@example.org')],
    now: NOW,
  });
  return { store, me };
}

/** Code and file of each problem, for compact comparisons. */
const brief = (ps: readonly { code: string; file?: string; severity: string }[]) =>
  ps.map((p) => `${p.severity} ${p.code} ${p.file ?? '-'}`);

let notes: Identity;
let otherCa: Certificate;

beforeAll(async () => {
  notes = await initIdentity(createMemoryStore(), {
    subject: organizationName({ organization: 'Example Corp', unit: 'Notes' }),
    altNames: [dnsName('notes.example'), ipAddress('127.0.0.1')],
    now: NOW,
  });
  const keys = await generateKeyPair();
  otherCa = await createSelfSignedCa({
    subject: signingName(organizationName({ organization: 'Other', unit: 'Ops' })),
    keyPair: keys,
    now: NOW,
  });
});

describe('checkIdentity', () => {
  it('finds nothing wrong with a fresh identity', async () => {
    const { store } = await person();
    expect(await checkIdentity(store, { now: at(1) })).toEqual([]);
  });

  it('finds nothing wrong with a client that has services, clients and an introduction', async () => {
    const { store, me } = await person();
    await addClient(me, 'notes', pem(notes.signer!.certificate));
    await addService(me, 'notes', pem(notes.signer!.certificate), {
      url: 'https://127.0.0.1:8443',
    });
    await addService(me, 'pinned', pem(notes.id.certificate), { url: 'https://notes.example' });
    await addIntro(me, await introduce(notes, getIdent(me), { now: at(1) }), { now: at(1) });
    expect(await checkIdentity(store, { now: at(2) })).toEqual([]);
  });

  it('reports a key readable by others as a CHECK_PERMISSIONS error', async () => {
    const { store } = await person();
    const key = (await store.read('id.key'))!;
    await store.commit([{ op: 'write', path: 'id.key', data: key, mode: 0o644, overwrite: true }]);
    const problems = await checkIdentity(store, { now: at(1) });
    expect(brief(problems)).toEqual(['error CHECK_PERMISSIONS id.key']);
    expect(problems[0]!.message).toMatch(/mode 0644.*chmod 600/);
  });

  it('reports a directory writable by others as a warning', async () => {
    const { store } = await person();
    const loose: IdentityStore = {
      ...store,
      stat: async (path) =>
        path === '' ? ({ kind: 'directory', mode: 0o777 } satisfies StoreEntry) : store.stat(path),
    };
    expect(brief(await checkIdentity(loose, { now: at(1) }))).toEqual([
      'warning CHECK_PERMISSIONS ',
    ]);
  });

  it('reports a missing id.crt as CHECK_MISSING', async () => {
    const { store } = await person();
    await store.commit([{ op: 'remove', path: 'id.crt' }]);
    expect(brief(await checkIdentity(store, { now: at(1) }))).toEqual([
      'error CHECK_MISSING id.crt',
    ]);
  });

  it('reports missing directories and an empty store', async () => {
    expect(brief(await checkIdentity(createMemoryStore()))).toEqual(['error CHECK_MISSING -']);
    const { store } = await person();
    await store.commit([
      { op: 'remove', path: 'known_clients' },
      { op: 'remove', path: 'known_servers' },
    ]);
    expect(brief(await checkIdentity(store, { now: at(1) }))).toEqual([
      'error CHECK_MISSING known_clients',
      'error CHECK_MISSING known_servers',
      'warning CHECK_MISSING known_servers/self.crt',
      'warning CHECK_MISSING known_clients/self.crt',
    ]);
  });

  it('reports an identity certificate expiring within 30 days as CHECK_EXPIRING', async () => {
    const { store } = await person();
    const problems = await checkIdentity(store, { now: at(350) });
    expect(brief(problems)).toEqual(['warning CHECK_EXPIRING id.crt']);
    expect(problems[0]!.message).toMatch(/expires on 2031-01-01, in 15 days/);
    expect(await checkIdentity(store, { now: at(330) })).toEqual([]);
    expect(brief(await checkIdentity(store, { now: at(330), expiryWarningDays: 60 }))).toEqual([
      'warning CHECK_EXPIRING id.crt',
    ]);
  });

  it('reports an expired identity certificate as CHECK_EXPIRED', async () => {
    const { store } = await person();
    const problems = await checkIdentity(store, { now: at(400) });
    expect(brief(problems)).toEqual(['error CHECK_EXPIRED id.crt']);
    expect(problems[0]!.message).toMatch(/expired on 2031-01-01/);
  });

  it('reports certificates not valid yet as CHECK_NOT_YET_VALID', async () => {
    const { store } = await person();
    expect(brief(await checkIdentity(store, { now: at(-1) }))).toEqual([
      'warning CHECK_NOT_YET_VALID id.crt',
      'warning CHECK_NOT_YET_VALID CA.crt',
      'warning CHECK_NOT_YET_VALID known_clients/self.crt',
      'warning CHECK_NOT_YET_VALID known_servers/self.crt',
    ]);
  });

  it("reports a pinned end-entity certificate without the URL's host as CHECK_SERVICE_HOST", async () => {
    const { store, me } = await person();
    await addService(me, 'notes', pem(notes.id.certificate), { url: 'https://10.9.9.9:8443' });
    await addService(me, 'good', pem(notes.id.certificate), { url: 'https://127.0.0.1:8443' });
    // A CA cannot be judged by name: no warning for it.
    await addService(me, 'ca', pem(notes.signer!.certificate), { url: 'https://10.9.9.9' });
    const problems = await checkIdentity(store, { now: at(1) });
    expect(brief(problems)).toEqual(['warning CHECK_SERVICE_HOST known_servers/notes.yaml']);
    expect(problems[0]!.message).toMatch(/does not carry 10\.9\.9\.9/);
  });

  it('reports a host-named service whose url goes to another host as CHECK_SERVICE_REROUTES', async () => {
    const { store, me } = await person();
    const ca = pem(notes.signer!.certificate);
    // ORNL's add-service form (the url is the name's own host) and plain aliases: no warning.
    await addService(me, 'notes.example:8443', ca);
    await addService(me, 'notes.example', ca, { url: 'https://notes.example:9443/v1' });
    await addService(me, 'notes', ca, { url: 'https://127.0.0.1:8443' });
    // What a letter from an older certified could install: api.partner.org → someone else's server.
    await addService(me, 'api.partner.org', ca, { url: 'https://127.0.0.1:9' });
    await addService(me, '10.0.0.5:8443', ca, { url: 'https://127.0.0.1:9' });
    const problems = await checkIdentity(store, { now: at(1) });
    expect(brief(problems)).toEqual([
      'warning CHECK_SERVICE_REROUTES known_servers/10.0.0.5:8443.yaml',
      'warning CHECK_SERVICE_REROUTES known_servers/api.partner.org.yaml',
    ]);
    expect(problems[1]!.message).toMatch(
      /sends every https:\/\/api\.partner\.org\/… request to https:\/\/127\.0\.0\.1:9 \(another host\)/,
    );
  });

  it('reports a self.crt that is not CA.crt as CHECK_SELF_MISMATCH', async () => {
    const { store } = await person();
    await store.commit([
      {
        op: 'write',
        path: 'known_servers/self.crt',
        data: enc.encode(pem(otherCa)),
        overwrite: true,
      },
    ]);
    expect(brief(await checkIdentity(store, { now: at(1) }))).toEqual([
      'warning CHECK_SELF_MISMATCH known_servers/self.crt',
    ]);
  });

  it.each([
    ['another name', 'Bob'],
    ['the same name (a second init)', 'Ada Lovelace'],
  ])('reports an id.crt from a CA with %s as CHECK_ID_NOT_FROM_CA', async (_, commonName) => {
    const { store } = await person();
    const other = createMemoryStore();
    await initIdentity(other, {
      subject: personName({ commonName }),
      altNames: [emailAddress('x@example.org')],
      now: NOW,
    });
    await store.commit([
      { op: 'write', path: 'id.crt', data: (await other.read('id.crt'))!, overwrite: true },
      {
        op: 'write',
        path: 'id.key',
        data: (await other.read('id.key'))!,
        overwrite: true,
        mode: 0o600,
      },
    ]);
    expect(brief(await checkIdentity(store, { now: at(1) }))).toEqual([
      'warning CHECK_ID_NOT_FROM_CA id.crt',
    ]);
  });

  it('reports load errors and unreadable files, errors first', async () => {
    const { store } = await person();
    await store.commit([
      { op: 'write', path: 'known_clients/bad.crt', data: enc.encode('junk') },
      { op: 'write', path: 'known_servers/x.yaml', data: enc.encode('auths: []\n') },
    ]);
    const problems = await checkIdentity(store, { now: at(350) });
    expect(brief(problems)).toEqual([
      'error ERR_IDENTITY_FILE_INVALID known_clients/bad.crt',
      'error ERR_SERVICE_INVALID known_servers/x.yaml',
      'warning CHECK_EXPIRING id.crt',
    ]);

    const other = await person();
    await store.commit([
      {
        op: 'write',
        path: 'id.key',
        data: (await other.store.read('id.key'))!,
        overwrite: true,
        mode: 0o600,
      },
    ]);
    expect(brief(await checkIdentity(store, { now: at(1) }))).toEqual([
      'error ERR_IDENTITY_KEY_MISMATCH id.key',
    ]);
  });
});

describe('describeIdentity', () => {
  it('summarises the identity, its signer, trust and services', async () => {
    const { store, me } = await person();
    await addService(me, 'notes', pem(notes.signer!.certificate), {
      url: 'https://127.0.0.1:8443',
    });
    const d = describeIdentity(await loadIdentity(store), { now: at(1) });
    expect(d.location).toBe('memory:');
    expect(d.identity.subject).toBe(summarize(me.id.certificate).subject);
    expect(d.identity.signerName).toBe('CN=Ada Lovelace');
    expect(d.identity.ca).toBe(false);
    expect(d.identity.keyType).toBe('Ed25519');
    expect(d.identity.altNames).toHaveLength(1);
    expect(d.identity.daysLeft).toBe(364);
    expect(d.identity.chain).toEqual([]);
    expect(d.signer?.signerName).toBe('P=Signing Certificate,CN=Ada Lovelace');
    expect(d.signer?.ca).toBe(true);
    expect(d.knownClients.map((k) => k.file)).toEqual(['known_clients/self.crt']);
    expect(d.services).toEqual([
      {
        alias: 'notes',
        file: 'known_servers/notes.yaml',
        url: 'https://127.0.0.1:8443',
        auths: [ornlName(notes.signer!.certificate.subject)],
        cert: summarize(notes.signer!.certificate, at(1)),
      },
    ]);
    expect(d.problems).toEqual([]);
    expect(d.identity.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});
