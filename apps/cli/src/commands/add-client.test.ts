/**
 * `certified add-client` as an attacker would use what it trusts (issue 11, item 2): after `set-org`,
 * a person's id.crt holds their certificate and the organisation's CA. `add-client bob bob/id.crt`
 * must pin Bob alone — another person the organisation signs is refused by the validator built from
 * known_clients, exactly as `serve` builds it — and only `--ca` trusts the organisation's CA. Every
 * certificate that becomes trusted is printed with its role and SHA-256 fingerprint.
 */
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPathValidator, fingerprint, ornlName, readDerInput } from '@certified/core';
import { clientAnchors, loadIdentity } from '@certified/identity';
import { createFileStore } from '@certified/node';
import {
  certified,
  expectOneLineError,
  removeTempDirs,
  snapshotDir,
  tempDir,
  type TestIoOptions,
} from '../../test/helpers.js';

let work: string;
const opts = (): TestIoOptions => ({ cwd: work });
const dir = (name: string) => path.join(work, name);

async function ok(argv: readonly string[]): Promise<string> {
  const r = await certified(argv, opts());
  expect(r.code, `certified ${argv.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The certificates (DER) in a file, in order. */
async function chainOf(file: string): Promise<Uint8Array[]> {
  return readDerInput(await fs.readFile(file, 'utf8')).blocks.map((b) => b.der);
}

/** Would `serve --config <service>` let the holder of `idFile` in? Judged as serve judges clients. */
async function admits(service: string, idFile: string): Promise<boolean> {
  const me = await loadIdentity(createFileStore(service));
  const validator = createPathValidator({ anchors: clientAnchors(me).map((c) => c.der) });
  const [peer, ...chain] = await chainOf(idFile);
  const r = await validator.validate({ peer: peer!, chain, purpose: 'clientAuth' });
  return r.ok;
}

/** A fresh service directory that trusts only itself. */
async function freshService(name: string): Promise<string> {
  await ok(['init', '--org', 'Partner API', '--host', '127.0.0.1', '--config', dir(name)]);
  return dir(name);
}

beforeAll(async () => {
  work = await tempDir();
  // An organisation signs Bob and Carol; both join it (set-org), so each id.crt is [person, org CA].
  await ok(['init', '--org', 'Example Org', '--email', 'ca@example.org', '--config', dir('org')]);
  for (const [who, name] of [
    ['bob', 'Bob Builder'],
    ['carol', 'Carol Coworker'],
  ] as const) {
    await ok(['init', name, '--email', `${who}@example.org`, '--config', dir(who)]);
    await fs.writeFile(dir(`${who}.b64`), await ok(['get-ident', '--config', dir(who)]));
    await fs.writeFile(
      dir(`${who}-letter.json`),
      await ok(['introduce', `${who}.b64`, '--config', dir('org')]),
    );
    await ok(['set-org', `${who}-letter.json`, '--overwrite', '--config', dir(who)]);
  }
}, 60_000);
afterAll(removeTempDirs);

describe('add-client NAME FILE, FILE holding a person and their organisation', () => {
  it('pins the first certificate only: another person the organisation signs is refused', async () => {
    const [bobCert, orgCa] = await chainOf(path.join(dir('bob'), 'id.crt'));
    expect(orgCa, 'set-org leaves the organisation CA after Bob in id.crt').toBeDefined();
    const api = await freshService('api-pin');
    expect(await admits(api, path.join(dir('carol'), 'id.crt'))).toBe(false);

    const r = await certified(['add-client', 'bob', 'bob/id.crt', '--config', api], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(await admits(api, path.join(dir('carol'), 'id.crt'))).toBe(false);
    // one line per certificate that becomes trusted: its role and SHA-256
    expect(r.stdout).toBe(
      `Trusting CN=Bob Builder as known_clients/bob.crt: pinned end-entity (only its holder may call), SHA-256 ${fingerprint(bobCert!)}.\n`,
    );
    expect(r.stdout).not.toContain(fingerprint(orgCa!));
    // what was left out is said on stderr, with the way to trust it
    expect(r.stderr).toMatch(/^Not trusting .*Example Org.*--ca/m);
    expect(await chainOf(path.join(api, 'known_clients/bob.crt'))).toEqual([bobCert]);

    expect(await admits(api, path.join(dir('bob'), 'id.crt'))).toBe(true);
    expect(await admits(api, path.join(dir('carol'), 'id.crt'))).toBe(false);
  });

  it('--ca trusts the organisation CA instead (printed as a CA), and then its members get in', async () => {
    const [, orgCa] = await chainOf(path.join(dir('bob'), 'id.crt'));
    const api = await freshService('api-ca');
    const out = await ok(['add-client', 'example-org', 'bob/id.crt', '--ca', '--config', api]);
    const caCert = (await loadIdentity(createFileStore(api))).knownClients.find(
      (f) => f.name === 'example-org',
    )!.certificates;
    expect(caCert.map((c) => c.der)).toEqual([orgCa]);
    expect(out).toBe(
      `Trusting ${ornlName(caCert[0]!.subject)} as known_clients/example-org.crt: CA (everyone it signs may call), SHA-256 ${fingerprint(orgCa!)}.\n`,
    );
    expect(await admits(api, path.join(dir('carol'), 'id.crt'))).toBe(true);
    expect(await admits(api, path.join(dir('bob'), 'id.crt'))).toBe(true);
  });

  it('a lone CA certificate is trusted as a CA, and printed as one (ORNL: add-client NAME CA.crt)', async () => {
    const api = await freshService('api-lone');
    const [ca] = await chainOf(path.join(dir('org'), 'CA.crt'));
    const out = await ok(['add-client', 'org', 'org/CA.crt', '--config', api]);
    expect(out).toMatch(/^Trusting .*Example Org.* as known_clients\/org\.crt: CA \(everyone/);
    expect(out).toContain(`SHA-256 ${fingerprint(ca!)}.`);
    expect(await admits(api, path.join(dir('carol'), 'id.crt'))).toBe(true);
  });

  it('--ca with no CA certificate in FILE: ERR_IDENTITY_INPUT_INVALID, nothing written', async () => {
    const api = await freshService('api-noca');
    const before = await snapshotDir(api);
    const r = await certified(['add-client', 'bob', 'bob.b64', '--ca', '--config', api], opts());
    expect(expectOneLineError(r, 'ERR_IDENTITY_INPUT_INVALID')).toMatch(/no CA certificate/);
    expect(await snapshotDir(api)).toEqual(before);
  });
});
