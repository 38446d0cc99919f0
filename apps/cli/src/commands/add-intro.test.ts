/**
 * `certified add-intro` against letters an attacker writes (issue 11, item 3). A letter's `services`
 * become `known_servers/<alias>.yaml`, and `https://<alias>/…` is looked up there by its host — so a
 * letter naming `api.partner.org`, `10.0.0.5:8443` or `localhost:8443` would send plain requests for
 * those hosts to the letter writer's server, judged by the writer's CA, with the chain it signed. Such
 * letters are refused and nothing is written; the route of those URLs (asserted through the session's
 * `route`, no connection is made) is the same before and after. A second introducer cannot replace the
 * first one's service file, even with --overwrite; the same introducer can. add-intro prints each file.
 */
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCertificate, fingerprint, ornlName, readDerInput } from '@certified/core';
import { createSession } from '@certified/node';
import {
  certified,
  expectOneLineError,
  removeTempDirs,
  snapshotDir,
  tempDir,
  type RunResult,
  type TestIoOptions,
} from '../../test/helpers.js';

let work: string;
const opts = (): TestIoOptions => ({ cwd: work });
const dir = (name: string) => path.join(work, name);
const run = (argv: readonly string[]) => certified(argv, opts());

async function ok(argv: readonly string[]): Promise<string> {
  const r = await run(argv);
  expect(r.code, `certified ${argv.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The first certificate in a PEM file. */
async function certOf(file: string) {
  return decodeCertificate(readDerInput(await fs.readFile(file, 'utf8')).blocks[0]!.der);
}

/** Where a session on `config` would send `url`, as whom and trusting what — without connecting. */
async function routeOf(config: string, url: string) {
  await using session = await createSession({ configDir: config });
  const r = session.route(url);
  return {
    url: r.url,
    service: r.service?.file,
    via: r.credentials.via,
    presents: r.credentials.certificates.map((c) => fingerprint(c)),
    anchors: r.anchors.map((c) => fingerprint(c)),
  };
}

/** A letter `introducer` signs for Bob, with `services` written into it by hand (as anyone can). */
async function letterFrom(
  introducer: string,
  services: Record<string, string>,
  file: string,
): Promise<string> {
  const letter = JSON.parse(await ok(['introduce', 'bob.b64', '--config', dir(introducer)])) as {
    services?: Record<string, string>;
  };
  letter.services = services;
  await fs.writeFile(dir(file), `${JSON.stringify(letter, null, 2)}\n`);
  return file;
}

/** Runs a failing command; asserts its one error line and that `config` did not change at all. */
async function refusedUnchanged(
  config: string,
  argv: readonly string[],
  code: string,
): Promise<string> {
  const before = await snapshotDir(config);
  const r: RunResult = await run(argv);
  const sentence = expectOneLineError(r, code);
  expect(await snapshotDir(config)).toEqual(before);
  return sentence;
}

const HOST_URLS = [
  'https://api.partner.org/v1/items?x=1',
  'https://10.0.0.5:8443/v1/items',
  'https://localhost:8443/v1/items',
  'https://api.partner.org:8443/',
];

beforeAll(async () => {
  work = await tempDir();
  await ok(['init', '--org', 'Example Org', '--host', '127.0.0.1', '--config', dir('svc')]);
  await ok([
    'init',
    'Mallory Writer',
    '--email',
    'mallory@example.net',
    '--config',
    dir('mallory'),
  ]);
  await ok(['init', 'Bob Builder', '--email', 'bob@example.org', '--config', dir('bob')]);
  await fs.writeFile(dir('bob.b64'), await ok(['get-ident', '--config', dir('bob')]));
  // Bob's first introducer, the service, lists itself as "notes".
  await fs.writeFile(
    dir('svc-letter.json'),
    await ok([
      'introduce',
      'bob.b64',
      '--service',
      'notes=https://127.0.0.1:8443',
      '--config',
      dir('svc'),
    ]),
  );
  await ok(['add-intro', 'svc-letter.json', '--config', dir('bob')]);
}, 60_000);
afterAll(removeTempDirs);

describe('add-intro refuses letters whose service aliases are real host names', () => {
  it.each([
    ['a DNS name', 'api.partner.org'],
    ['an IP address and port', '10.0.0.5:8443'],
    ['localhost and port', 'localhost:8443'],
    ['localhost', 'localhost'],
    ['an IPv4 address as a number', '167772165'],
    ['an IPv6 address', '[::1]'],
    ['a name with a trailing dot', 'notes.'],
  ])('%s (%s): ERR_SERVICE_ALIAS_HOSTLIKE, nothing written, no route changes', async (_, alias) => {
    const bob = dir('bob');
    const before = await Promise.all(HOST_URLS.map((u) => routeOf(bob, u)));
    const letter = await letterFrom(
      'mallory',
      { [alias]: 'https://127.0.0.1:9/' },
      `mallory-${encodeURIComponent(alias)}.json`,
    );
    for (const overwrite of [[], ['--overwrite']]) {
      const sentence = await refusedUnchanged(
        bob,
        ['add-intro', letter, ...overwrite, '--config', bob],
        'ERR_SERVICE_ALIAS_HOSTLIKE',
      );
      expect(sentence).toContain(JSON.stringify(alias));
    }
    expect(await Promise.all(HOST_URLS.map((u) => routeOf(bob, u)))).toEqual(before);
    // plain URLs keep going where they name, trusting known_servers/*.crt, presenting id.crt
    expect(before[0]).toMatchObject({
      url: 'https://api.partner.org/v1/items?x=1',
      service: undefined,
    });
    expect(before[0]!.via).toMatch(/^id\.crt /);
  });

  it('a letter mixing a plain alias and a host name is refused whole', async () => {
    const bob = dir('bob');
    const letter = await letterFrom(
      'mallory',
      { partner: 'https://127.0.0.1:9/', 'api.partner.org': 'https://127.0.0.1:9/' },
      'mallory-mixed.json',
    );
    await refusedUnchanged(
      bob,
      ['add-intro', letter, '--config', bob],
      'ERR_SERVICE_ALIAS_HOSTLIKE',
    );
  });

  it('introduce refuses to write such a letter: a usage error', async () => {
    const r = await run([
      'introduce',
      'bob.b64',
      '--service',
      'api.partner.org=https://127.0.0.1:9',
      '--config',
      dir('mallory'),
    ]);
    expect(expectOneLineError(r, 'ERR_USAGE', { exitCode: 2 })).toMatch(/api\.partner\.org/);
  });

  it('a plain alias installs, is printed, and reroutes only https://<alias>/…', async () => {
    const bob = dir('bob-plain');
    await fs.cp(dir('bob'), bob, { recursive: true });
    const before = await Promise.all(HOST_URLS.map((u) => routeOf(bob, u)));
    const letter = await letterFrom(
      'mallory',
      { 'partner-api': 'https://127.0.0.1:9443/v1' },
      'mallory-plain.json',
    );
    const out = await ok(['add-intro', letter, '--config', bob]);
    const caFingerprint = fingerprint(await certOf(path.join(dir('mallory'), 'CA.crt')));
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Introduced by .*Mallory Writer.* \(CA, SHA-256 [0-9A-F:]{95}\)\.$/);
    expect(lines[0]).toContain(caFingerprint);
    expect(lines[1]).toMatch(/^ {2}id\/.*Mallory Writer.*\.crt: your identity as it signed it$/);
    expect(lines[2]).toBe(
      '  known_servers/partner-api.yaml: https://partner-api/… goes to https://127.0.0.1:9443/v1, whose server must chain to that CA',
    );
    expect(lines).toHaveLength(3);
    expect(await routeOf(bob, 'https://partner-api/items')).toMatchObject({
      url: 'https://127.0.0.1:9443/v1/items',
      service: 'known_servers/partner-api.yaml',
      anchors: [caFingerprint],
    });
    expect(await Promise.all(HOST_URLS.map((u) => routeOf(bob, u)))).toEqual(before);
  });
});

describe("a letter never replaces another introducer's service file", () => {
  it('a second introducer naming "notes": ERR_SERVICE_CONFLICT, even with --overwrite', async () => {
    const bob = dir('bob');
    const notes = await routeOf(bob, 'https://notes/items');
    expect(notes.url).toBe('https://127.0.0.1:8443/items');
    const letter = await letterFrom(
      'mallory',
      { notes: 'https://127.0.0.1:9/' },
      'mallory-notes.json',
    );
    for (const overwrite of [['--overwrite'], []]) {
      const sentence = await refusedUnchanged(
        bob,
        ['add-intro', letter, ...overwrite, '--config', bob],
        'ERR_SERVICE_CONFLICT',
      );
      expect(sentence).toMatch(/known_servers\/notes\.yaml/);
      expect(sentence).toContain('Example Org');
    }
    expect(await routeOf(bob, 'https://notes/items')).toEqual(notes);
  });

  it('nor one that add-service wrote', async () => {
    const bob = dir('bob-svc');
    await fs.cp(dir('bob'), bob, { recursive: true });
    await fs.writeFile(dir('svc-signer.json'), await ok(['get-signer', '--config', dir('svc')]));
    await ok([
      'add-service',
      'wiki',
      'svc-signer.json',
      '--url',
      'https://127.0.0.1:7443',
      '--config',
      bob,
    ]);
    const letter = await letterFrom(
      'mallory',
      { wiki: 'https://127.0.0.1:9/' },
      'mallory-wiki.json',
    );
    await refusedUnchanged(
      bob,
      ['add-intro', letter, '--overwrite', '--config', bob],
      'ERR_SERVICE_CONFLICT',
    );
  });

  it('the same introducer replaces its own service with --overwrite', async () => {
    const bob = dir('bob-same');
    await fs.cp(dir('bob'), bob, { recursive: true });
    await fs.writeFile(
      dir('svc-letter-2.json'),
      await ok([
        'introduce',
        'bob.b64',
        '--service',
        'notes=https://127.0.0.1:8444',
        '--config',
        dir('svc'),
      ]),
    );
    await refusedUnchanged(
      bob,
      ['add-intro', 'svc-letter-2.json', '--config', bob],
      'ERR_STORE_EXISTS',
    );
    const out = await ok(['add-intro', 'svc-letter-2.json', '--overwrite', '--config', bob]);
    expect(out).toContain(
      'known_servers/notes.yaml: https://notes/… goes to https://127.0.0.1:8444',
    );
    expect((await routeOf(bob, 'https://notes/items')).url).toBe('https://127.0.0.1:8444/items');
  });

  it("nor another introducer's signature (id/<signer>.crt) under the same name", async () => {
    // A CA made to carry the service CA's exact name, with another key.
    const bob = dir('bob');
    const impostor = dir('impostor');
    await ok(['init', '--org', 'Example Org', '--host', '127.0.0.1', '--config', impostor]);
    const [svcCa, impostorCa] = await Promise.all(
      [dir('svc'), impostor].map(async (d) => certOf(path.join(d, 'CA.crt'))),
    );
    expect(ornlName(impostorCa!.subject)).toBe(ornlName(svcCa!.subject));
    expect(fingerprint(impostorCa!)).not.toBe(fingerprint(svcCa!));
    const letter = await letterFrom('impostor', {}, 'impostor.json');
    const sentence = await refusedUnchanged(
      bob,
      ['add-intro', letter, '--overwrite', '--config', bob],
      'ERR_SERVICE_CONFLICT',
    );
    expect(sentence).toMatch(/^id\//);
  });
});
