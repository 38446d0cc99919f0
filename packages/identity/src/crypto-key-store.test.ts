/**
 * @module crypto-key-store.test — identities in a store that keeps CryptoKeys (as a browser's
 * IndexedDB does): created with non-extractable keys, never written as key bytes, and every
 * operation (load, introduce, add-intro, check) works without exporting a private key.
 */
import { describe, expect, it } from 'vitest';
import { commonNameOf, emailAddress, personName } from '@certified/core';
import { rejected } from '@certified/testing';
import { checkIdentity } from './check.js';
import { initIdentity, loadIdentity } from './identity.js';
import { addIntro, getIdent, introduce } from './operations.js';
import { createMemoryStore } from './store.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const person = (commonName: string, email: string) => ({
  subject: personName({ commonName }),
  altNames: [emailAddress(email)],
  now: NOW,
});

describe('an identity in a CryptoKey store', () => {
  it('is created with non-extractable private keys and no key files', async () => {
    const store = createMemoryStore({ cryptoKeys: true });
    const ada = await initIdentity(store, {
      ...person('Ada', 'ada@example.org'),
      keyType: 'secp256r1',
    });
    expect(ada.id.privateKey.extractable).toBe(false);
    expect(ada.signer!.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', ada.id.privateKey)).rejects.toThrow();
    expect(ada.id.keyPem).toBe('');
    expect([...store.files.keys()].sort()).toEqual([
      'CA.crt',
      'id.crt',
      'known_clients/self.crt',
      'known_servers/self.crt',
    ]);
    expect(await store.list('')).toEqual(expect.arrayContaining(['CA.key', 'id.key']));
    expect(await store.stat('id.key')).toEqual({ kind: 'file', mode: 0o600 });
  });

  it('loads again with the same keys', async () => {
    const store = createMemoryStore({ cryptoKeys: true });
    const made = await initIdentity(store, person('Ada', 'ada@example.org'));
    const loaded = await loadIdentity(store);
    expect(loaded.id.privateKey).toBe(made.id.privateKey);
    expect(loaded.signer!.privateKey).toBe(made.signer!.privateKey);
    expect(loaded.id.certificate.der).toEqual(made.id.certificate.der);
  });

  it('introduces, and installs a letter, without exporting a key (Ed25519)', async () => {
    const ada = await initIdentity(
      createMemoryStore({ cryptoKeys: true }),
      person('Ada', 'ada@example.org'),
    );
    const bob = await initIdentity(
      createMemoryStore({ cryptoKeys: true }),
      person('Bob', 'bob@example.org'),
    );
    const letter = await introduce(ada, getIdent(bob), {
      services: { notes: 'https://127.0.0.1:8443' },
      now: NOW,
    });
    const result = await addIntro(bob, letter, { now: NOW });
    expect(result.installed.map((f) => f.path)).toEqual([
      expect.stringMatching(/^id\/.*Ada.*\.crt$/),
      'known_servers/notes.yaml',
    ]);
  });

  it('passes checkIdentity (key paths count as files of mode 0600)', async () => {
    const store = createMemoryStore({ cryptoKeys: true });
    await initIdentity(store, person('Ada', 'ada@example.org'));
    const problems = await checkIdentity(store, { now: NOW });
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('refuses to replace an identity without overwrite, and replaces it with overwrite', async () => {
    const store = createMemoryStore({ cryptoKeys: true });
    const first = await initIdentity(store, person('Ada', 'ada@example.org'));
    expect((await rejected(initIdentity(store, person('Eve', 'eve@example.org')))).code).toBe(
      'ERR_IDENTITY_EXISTS',
    );
    const second = await initIdentity(store, {
      ...person('Eve', 'eve@example.org'),
      overwrite: true,
    });
    expect(second.id.privateKey).not.toBe(first.id.privateKey);
    expect(commonNameOf((await loadIdentity(store)).id.certificate.subject)).toBe('Eve');
  });

  it('a memory store without cryptoKeys still writes key files (the CLI layout)', async () => {
    const store = createMemoryStore();
    const ada = await initIdentity(store, person('Ada', 'ada@example.org'));
    expect(ada.id.keyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(store.files.has('id.key')).toBe(true);
  });
});
