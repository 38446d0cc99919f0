/**
 * @module idb-store.test — the IndexedDB identity store (fake-indexeddb in Node; the real one in
 * Chromium is exercised by apps/pwa's Playwright test): identities with non-extractable keys that
 * survive reopening, atomic commits, coded errors.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { emailAddress, personName } from '@certified/core';
import {
  addIntro,
  checkIdentity,
  getIdent,
  initIdentity,
  introduce,
  loadIdentity,
} from '@certified/identity';
import { rejected } from '@certified/testing';
import { openIdentityStore } from './idb-store.js';

let n = 0;
const fresh = () => openIdentityStore({ name: `test-${++n}` });
const person = (commonName: string) => ({
  subject: personName({ commonName }),
  altNames: [emailAddress(`${commonName.toLowerCase()}@example.org`)],
});
const enc = new TextEncoder();

describe('openIdentityStore', () => {
  it('keeps an identity with non-extractable keys across reopening', async () => {
    const store = await fresh();
    const made = await initIdentity(store, person('Ada'));
    expect(made.id.privateKey.extractable).toBe(false);
    store.close();
    const again = await openIdentityStore({ name: `test-${n}` });
    const loaded = await loadIdentity(again);
    expect(loaded.id.certificate.der).toEqual(made.id.certificate.der);
    expect(loaded.id.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', loaded.id.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', loaded.signer!.privateKey)).rejects.toThrow();
    const sig = await crypto.subtle.sign('Ed25519', loaded.id.privateKey, enc.encode('x'));
    expect(sig.byteLength).toBe(64);
    expect(again.location).toBe(`indexeddb:test-${n}`);
  });

  it('lists, stats and reads like a directory', async () => {
    const store = await fresh();
    await initIdentity(store, person('Ada'));
    expect(await store.list('')).toEqual([
      'CA.crt',
      'CA.key',
      'id.crt',
      'id.key',
      'known_clients',
      'known_servers',
    ]);
    expect(await store.list('known_clients')).toEqual(['self.crt']);
    expect(await store.stat('id.key')).toEqual({ kind: 'file', mode: 0o600 });
    expect(await store.stat('known_servers')).toEqual({ kind: 'directory' });
    expect(await store.stat('nothing')).toBeUndefined();
    expect(await store.read('id.key')).toBeUndefined();
    expect(new TextDecoder().decode(await store.read('id.crt'))).toMatch(/BEGIN CERTIFICATE/);
    expect((await checkIdentity(store)).filter((p) => p.severity === 'error')).toEqual([]);
  });

  it('introduces and installs letters between two browser identities', async () => {
    const ada = await initIdentity(await fresh(), person('Ada'));
    const bob = await initIdentity(await fresh(), person('Bob'));
    const letter = await introduce(ada, getIdent(bob), {
      services: { notes: 'https://127.0.0.1:8443' },
    });
    const { installed } = await addIntro(bob, letter);
    expect(installed.map((f) => f.kind)).toEqual(['signature', 'service']);
    expect((await loadIdentity(bob.store)).services.map((s) => s.alias)).toEqual(['notes']);
  });

  it('commits all or nothing: an existing file fails the whole commit with ERR_STORE_EXISTS', async () => {
    const store = await fresh();
    await store.commit([{ op: 'write', path: 'a', data: enc.encode('1') }]);
    const e = await rejected(
      store.commit([
        { op: 'write', path: 'b', data: enc.encode('2') },
        { op: 'write', path: 'a', data: enc.encode('3') },
      ]),
    );
    expect(e.code).toBe('ERR_STORE_EXISTS');
    expect(await store.list('')).toEqual(['a']);
    expect(new TextDecoder().decode(await store.read('a'))).toBe('1');
  });

  it('refuses to replace an identity without overwrite (ERR_IDENTITY_EXISTS)', async () => {
    const store = await fresh();
    await initIdentity(store, person('Ada'));
    expect((await rejected(initIdentity(store, person('Eve')))).code).toBe('ERR_IDENTITY_EXISTS');
  });

  it('removes keys with their paths', async () => {
    const store = await fresh();
    await initIdentity(store, person('Ada'));
    await store.commit([{ op: 'remove', path: 'CA.key' }]);
    expect(await store.keys.read('CA.key')).toBeUndefined();
    expect((await loadIdentity(store)).signer).toBeUndefined();
  });

  it('refuses paths outside the directory with ERR_STORE_PATH_INVALID', async () => {
    const store = await fresh();
    expect((await rejected(store.read('../x'))).code).toBe('ERR_STORE_PATH_INVALID');
    expect((await rejected(store.keys.read('/id.key'))).code).toBe('ERR_STORE_PATH_INVALID');
  });
});
