/**
 * @module session.test — `createSession` over real mutual TLS on 127.0.0.1, with identity
 * directories built by @certified/core's operations in temporary directories: aliases, the chain
 * chosen by a service's auths, connection reuse, and servers refused by our validator (not
 * chaining to the pinned service certificate; not carrying the URL's host).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodePem,
  IdentityError,
  personName,
  emailAddress,
  PathValidationError,
} from '@certified/core';
import { initIdentity, type IdentityStore } from '@certified/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, type World } from '../test/tls-directories.js';
import { createFileStore } from './fs-store.js';
import { createSession } from './session.js';

let root: string;
let world: World;

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'certified-session-'));
  world = await createWorld((name) => createFileStore(join(root, name)));
});
afterAll(async () => {
  await world?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('createSession', () => {
  it('resolves an alias, presents our chain and reuses one connection', async () => {
    const before = world.notes.accepted.length;
    await using session = await createSession({ configDir: join(root, 'ada') });
    const texts: string[] = [];
    for (let i = 0; i < 4; i++)
      texts.push(await (await session.fetch(`https://notes/n${i}`)).text());
    expect(texts).toEqual(['hello Ada', 'hello Ada', 'hello Ada', 'hello Ada']);
    expect(world.notes.accepted.slice(before)).toEqual(['CN=Ada']);
    expect(world.notes.requests.slice(-4)).toEqual(['/n0', '/n1', '/n2', '/n3']);
  });

  it('takes a Request and an init, keeping the query', async () => {
    await using session = await createSession({ store: world.ada });
    const res = await session.fetch(new Request('https://notes/post?x=1', { method: 'PUT' }), {
      method: 'POST',
      body: 'hi',
    });
    expect(await res.text()).toBe('hello Ada: hi');
    expect(res.url).toBe(`${world.notes.server.url}/post?x=1`);
  });

  it('route() tells where a URL goes, as whom, trusting what', async () => {
    await using session = await createSession({ store: world.ada });
    const r = session.route('https://notes/a/b?c=d');
    expect(r.url).toBe(`${world.notes.server.url}/a/b?c=d`);
    expect(r.service?.alias).toBe('notes');
    expect(r.anchors).toHaveLength(1);
    expect(r.anchors[0]!.der).toEqual(r.service!.cert!.der);
    expect(r.credentials.via).toMatch(/^id\.crt/);
  });

  it("presents the chain a service's auths accept: an introduced caller gets in", async () => {
    await using session = await createSession({ store: world.bob });
    expect(session.route('https://notes/').credentials.via).toMatch(/service accepts/);
    expect(await (await session.fetch('https://notes/')).text()).toBe('hello Bob');
  });

  it('refuses a server that does not chain to the pinned service certificate (ERR_CHAIN_NO_PATH)', async () => {
    await using session = await createSession({ store: world.ada });
    const err = await rejection(
      session.fetch('https://imposter/secret', { method: 'POST', body: 'x' }),
    );
    expect(err).toBeInstanceOf(PathValidationError);
    expect(err.code).toBe('ERR_CHAIN_NO_PATH');
    expect(err.message.startsWith(`127.0.0.1:${world.imposter.server.port}: `)).toBe(true);
    expect(world.imposter.requests).toEqual([]); // refused before a byte of HTTP was sent
  });

  it('refuses a server whose certificate does not name the URL host (ERR_CHAIN_PEER_NAME)', async () => {
    await using session = await createSession({ store: world.ada });
    const err = await rejection(session.fetch('https://misnamed/'));
    expect(err).toBeInstanceOf(PathValidationError);
    expect(err.code).toBe('ERR_CHAIN_PEER_NAME');
    expect(err.message).toMatch(/127\.0\.0\.1/);
    expect(world.misnamed.requests).toEqual([]);
  });

  it('rejects an alias with no service file with ERR_SERVICE_UNKNOWN', async () => {
    await using session = await createSession({ store: world.ada });
    const err = await rejection(session.fetch('https://nosuch/path'));
    expect(err).toBeInstanceOf(IdentityError);
    expect(err.code).toBe('ERR_SERVICE_UNKNOWN');
    expect(err.message).toMatch(/^No service "nosuch" in /);
    expect(() => session.route('https://nosuch/')).toThrow(IdentityError);
  });

  it('judges a plain URL by known_servers/*.crt', async () => {
    const dir = join(root, 'carol');
    const carol = await initIdentity(createFileStore(dir), {
      subject: personName({ commonName: 'Carol' }),
      altNames: [emailAddress('carol@example.org')],
    });
    const url = `${world.notes.server.url}/plain`;
    {
      // known_servers/ holds only her own CA
      await using session = await createSession({ identity: carol });
      expect((await rejection(session.fetch(url))).code).toBe('ERR_CHAIN_NO_PATH');
    }
    const notesCa = (await createSession({ store: world.ada })).route('https://notes/').anchors[0]!;
    await carol.store.commit([
      {
        op: 'write',
        path: 'known_servers/notes.crt',
        data: new TextEncoder().encode(encodePem('CERTIFICATE', notesCa.der)),
      },
    ]);
    await using session = await createSession({ configDir: dir });
    // the notes service does not know Carol: it hangs up on her, after our validator accepted it
    const err = await rejection(session.fetch(url));
    expect(err.code).toMatch(/^ERR_NET_(TLS|PROTOCOL)$/);
  });

  it("pin replaces the directory's anchors for every URL: a plain URL trusted, an alias judged by the pin", async () => {
    const notesCa = (await createSession({ store: world.ada })).route('https://notes/').anchors[0]!;
    const plain = `${world.notes.server.url}/pinned`;
    {
      await using session = await createSession({ store: world.ada });
      expect((await rejection(session.fetch(plain))).code).toBe('ERR_CHAIN_NO_PATH');
    }
    await using pinned = await createSession({ store: world.ada, pin: [notesCa] });
    expect(await (await pinned.fetch(plain)).text()).toBe('hello Ada');
    // the alias still resolves, but its service's pin no longer counts: Ada's own CA did not sign notes
    const adaCa = pinned.identity.signer!.certificate;
    await using other = await createSession({ store: world.ada, pin: [adaCa] });
    expect(other.route('https://notes/').url).toBe(`${world.notes.server.url}/`);
    expect((await rejection(other.fetch('https://notes/'))).code).toBe('ERR_CHAIN_NO_PATH');
    await expect(createSession({ store: world.ada, pin: [] })).rejects.toThrow(TypeError);
  });

  it('rejects a URL that is not https with ERR_IDENTITY_INPUT_INVALID', async () => {
    await using session = await createSession({ store: world.ada });
    expect((await rejection(session.fetch('http://notes/'))).code).toBe(
      'ERR_IDENTITY_INPUT_INVALID',
    );
  });

  it('close() ends the session: later calls reject with TypeError', async () => {
    const session = await createSession({ store: world.ada });
    await (await session.fetch('https://notes/')).text();
    await session.close();
    await expect(session.fetch('https://notes/')).rejects.toThrow(TypeError);
  });

  it('fails to open on a directory without an identity, or with conflicting options', async () => {
    const empty: IdentityStore = createFileStore(join(root, 'empty'));
    const err = await rejection(createSession({ store: empty }));
    expect(err.code).toBe('ERR_IDENTITY_NOT_FOUND');
    await expect(createSession({ store: world.ada, configDir: root })).rejects.toThrow(TypeError);
  });
});
