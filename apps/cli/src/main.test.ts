/**
 * The `certified` CLI through `main(argv, io)` only, on real temp directories and real files: help,
 * usage errors (exit 2), the happy paths of every identity command, and bad input — which must fail
 * with exit 1, one `certified: ERR_…: sentence` line and no stack, and leave the identity directory
 * byte- and mode-for-mode as it was.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  emailAddress,
  fingerprint,
  fromBase64Der,
  personName,
  readDerInput,
} from '@certified/core';
import { createIntroLetter, createMemoryStore, initIdentity } from '@certified/identity';
import {
  certified,
  chmodDirs,
  expectOneLineError,
  failingStore,
  isRoot,
  makeWritable,
  message,
  removeTempDirs,
  snapshotDir,
  strayInternalFiles,
  tempDir,
  type RunResult,
  type TestIoOptions,
} from '../test/helpers.js';
import { CA_COMMANDS, COMMANDS } from './main.js';

let work: string; // the working directory of every run
let ada: string; // a person
let svc: string; // an organisation's service at 127.0.0.1
let bob: string; // a person the service introduces
const opts = (): TestIoOptions => ({ cwd: work });

/** `certified ARGV` in the working directory; fails the test on a nonzero exit. */
async function ok(argv: readonly string[], extra: Partial<TestIoOptions> = {}): Promise<string> {
  const r = await certified(argv, { ...opts(), ...extra });
  expect(r.code, `certified ${argv.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const run = (argv: readonly string[], extra: Partial<TestIoOptions> = {}) =>
  certified(argv, { ...opts(), ...extra });

/** A copy of a fixture directory, to spoil. */
async function copyOf(dir: string): Promise<string> {
  const to = path.join(await tempDir('certified-cli-copy-'), path.basename(dir));
  await fs.cp(dir, to, { recursive: true });
  return to;
}

const write = (file: string, data: string | Uint8Array) =>
  fs.writeFile(path.join(work, file), data);
const read = (file: string) => fs.readFile(path.resolve(work, file), 'utf8');
const modeOf = async (file: string) => (await fs.stat(file)).mode & 0o777;
const pemDer = (pem: string) => readDerInput(pem).blocks[0]!.der;

/** The service's letter for Bob, listing itself as "notes" (the shared test fixture's letter). */
const svcIntroducesBob = (): Promise<string> =>
  ok(['introduce', 'bob.b64', '--service', 'notes=https://127.0.0.1:8443', '--config', svc]);

/** Runs a failing command and asserts its one error line and that `dir` did not change at all. */
async function expectUnchanged(
  dir: string,
  go: () => Promise<RunResult>,
  code: string,
  program = 'certified',
): Promise<string> {
  const before = await snapshotDir(dir);
  const r = await go();
  const sentence = expectOneLineError(r, code, { program });
  const after = await snapshotDir(dir);
  expect(strayInternalFiles(after)).toEqual([]);
  expect(after).toEqual(before);
  return sentence;
}

beforeAll(async () => {
  work = await tempDir();
  ada = path.join(work, 'ada');
  svc = path.join(work, 'svc');
  bob = path.join(work, 'bob');
  await ok(['init', 'Ada Lovelace', '--email', 'ada@example.org', '--config', ada]);
  await ok([
    'init',
    '--org',
    'Example Org',
    '--unit',
    'Notes API',
    '--host',
    '127.0.0.1',
    '--host',
    'localhost',
    '--config',
    svc,
  ]);
  await ok(['init', 'Bob Builder', '--email', 'bob@example.org', '--config', bob]);
  await write('svc-signer.json', await ok(['get-signer', '--config', svc]));
  await write('bob.b64', await ok(['get-ident', '--config', bob]));
  await write('ada.b64', await ok(['get-ident', '--config', ada]));
});
afterAll(removeTempDirs);

describe('--json: every command that prints says the same as one JSON document', () => {
  const FP = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;
  const cert = {
    subject: expect.any(String),
    fingerprint: expect.stringMatching(FP),
    notAfter: expect.any(String),
  };
  it('init, get-ident, add-client, add-service, add-intro, show', async () => {
    const dir = path.join(work, 'json-shapes');
    const init = JSON.parse(
      await ok(['init', 'Jay Son', '--email', 'jay@example.org', '--json', '--config', dir]),
    ) as Record<string, unknown>;
    expect(init).toEqual({ location: dir, identity: cert, signer: cert });
    expect((init['identity'] as { subject: string }).subject).toBe('CN=Jay Son');

    const ident = JSON.parse(await ok(['get-ident', '--json', '--config', dir])) as Record<
      string,
      unknown
    >;
    expect(ident).toEqual({
      ident: expect.stringMatching(/^[A-Za-z0-9_-]+=*$/),
      certificate: cert,
    });

    const client = JSON.parse(
      await ok(['add-client', 'ada', path.join(ada, 'CA.crt'), '--json', '--config', dir]),
    ) as Record<string, unknown>;
    expect(client).toEqual({
      file: 'known_clients/ada.crt',
      trusted: [{ role: 'ca', ...cert, subject: 'pseudonym=Signing Certificate,CN=Ada Lovelace' }],
    });

    const service = JSON.parse(
      await ok([
        'add-service',
        'notes',
        'svc-signer.json',
        '--url',
        'https://127.0.0.1:8443',
        '--json',
        '--config',
        dir,
      ]),
    ) as Record<string, unknown>;
    expect(service).toEqual({
      alias: 'notes',
      url: 'https://127.0.0.1:8443',
      file: 'known_servers/notes.yaml',
      auths: [expect.stringMatching(/Example Org/)],
    });

    const letter = await svcIntroducesBob();
    await write('bob-letter-json.json', letter);
    const intro = JSON.parse(
      await ok(['add-intro', 'bob-letter-json.json', '--json', '--config', await copyOf(bob)]),
    ) as Record<string, unknown>;
    expect(intro).toMatchObject({
      signer: expect.stringMatching(/Example Org/),
      caFingerprint: expect.stringMatching(FP),
      removed: [],
      installed: [
        { kind: 'signature', path: expect.stringMatching(/^id\//) },
        {
          kind: 'service',
          alias: 'notes',
          path: 'known_servers/notes.yaml',
          url: 'https://127.0.0.1:8443',
        },
      ],
    });
  });
});

describe('help', () => {
  it('certified --help lists every command', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} +\\S`, 'm'));
    expect(r.stdout).toContain('Usage: certified <command>');
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    'the %s entry of the lazy command table names and summarises its own command',
    async (_name, entry) => {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.summary).toBe(entry.summary);
    },
  );

  it('no arguments prints the overview and exits 2; help COMMAND and --version exit 0', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Commands:');
    const help = await run(['help', 'init']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: certified init [NAME] [options]');
    expect((await run(['help', 'nope'])).code).toBe(2);
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^certified \d+\.\d+\.\d+ \(Node v?\d+/);
  });

  const leaves = [
    ...COMMANDS.filter((c) => c.name !== 'ca').map((c) => c.name),
    ...CA_COMMANDS.map((c) => `ca ${c.name}`),
  ];
  it.each(leaves)('%s --help has Usage and Examples', async (name) => {
    const r = await run([...name.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Usage: certified ${name}`);
    expect(r.stdout).toContain('Examples:');
    // The CA's own commands name a config file; the rest an identity directory.
    expect(r.stdout).toMatch(/--config (DIR|FILE)/);
    // -h and ORNL's underscore spelling work too
    expect((await run([...name.replace(/-/g, '_').split(' '), '-h'])).stdout).toBe(r.stdout);
  });

  it.each(CA_COMMANDS.map((c) => [c.name, c] as const))(
    'the ca %s entry names and summarises its own command',
    async (name, entry) => {
      const command = await entry.load();
      expect(command.name).toBe(`ca ${name}`);
      expect(command.summary).toBe(entry.summary);
    },
  );

  it('message --help is the message program', async () => {
    const r = await message(['--help'], opts());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: message URL [JSON] [options]');
    expect(r.stdout).toContain('Examples:');
  });

  it('add-service --help', async () => {
    const r = await run(['add-service', '--help']);
    expect(r.stdout).toMatchInlineSnapshot(`
      "Add a service you call: known_servers/ALIAS.yaml with its url, pinned certificate and auths.

      Usage: certified add-service NAME CERT [options]

      NAME is host[:port][/prefix] as in ORNL certified (the url defaults to https://NAME), or an alias with --url. The certificate's own subject is added to auths.

      Arguments:
        NAME  Service alias or host[:port][/prefix].
        CERT  The service's CA (or own) certificate: PEM, base64-DER, or JSON with ca_cert; - for stdin.

      Options:
            --json        Print JSON instead of text (the shape is in the README).
            --auth NAME   RFC 4514 name of another signer whose signature the service accepts. (repeatable)
            --url URL     Where the service really is, e.g. https://127.0.0.1:8443.
            --overwrite   Replace an existing service of that name.
            --config DIR  Identity directory. Default: $CERTIFIED_CONFIG, then $VIRTUAL_ENV/etc/certified, then the user config directory.
        -v, --verbose     Explain what happens; show stack traces on errors.
        -h, --help        Show this help.

      Examples:
        certified add-service notes notes-signer.json --url https://127.0.0.1:8443
        certified add-service my-api:8443 server_ca.pem --config ~/etc/certified
      "
    `);
  });
});

describe('usage errors exit 2 with one ERR_USAGE line', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown command', ['frobnicate'], /Unknown command "frobnicate"/],
    ['an unknown command, with a suggestion', ['inspekt'], /Did you mean inspect\?/],
    ['an unknown flag', ['init', '--nope'], /--nope/],
    ['a missing positional', ['add-client', 'ada'], /add-client needs NAME and CERT/],
    ['an extra positional', ['show', 'extra'], /unexpected "extra"/],
    [
      'a key type not offered',
      ['init', 'Ada', '--email', 'a@example.org', '--key-type', 'rsa'],
      /--key-type must be one of ed25519, secp256r1, secp384r1; received "rsa"/,
    ],
    [
      'both NAME and --org',
      ['init', 'Ada', '--org', 'Example Org', '--email', 'a@example.org'],
      /either a person NAME or --org/,
    ],
    ['init with no name', ['init', '--email', 'a@example.org'], /Give a person NAME, or --org/],
    ['init with no altNames', ['init', 'Ada'], /at least one --email, --host or --uri/],
    ['a CIDR --host', ['init', '--org', 'O', '--host', '10.0.0.0/8'], /networks \(CIDR\)/],
    ['introduce --service bad', ['introduce', 'bob.b64', '--service', 'bad'], /must be ALIAS=URL/],
    [
      'introduce --service with an http URL',
      ['introduce', 'bob.b64', '--service', 'notes=http://127.0.0.1:8443'],
      /the URL must be https:\/\/host\[:port\]\[\/prefix\]/,
    ],
    ['introduce --days 0', ['introduce', 'bob.b64', '--days', '0'], /--days must be a positive/],
    ['check --days x', ['check', '--days', 'x'], /--days must be a number/],
    ['serve to http', ['serve', 'app.mjs', 'http://127.0.0.1:1'], /URL must start with https/],
    // parseArgs' own wording is rewritten into one line that names what was typed.
    [
      'a value that starts with a dash',
      ['introduce', 'bob.b64', '--days', '-5'],
      /^--days needs a value; for a value that starts with "-", write --days=VALUE\.$/,
    ],
    ['a flag with no value', ['check', '--days'], /^--days needs a value/],
    ['a value for a switch', ['show', '--json=3'], /^--json takes no value\.$/],
    ['serve, not a URL', ['serve', 'app.mjs', 'not-a-url'], /URL must be a URL like https:/],
    [
      'serve, port 99999',
      ['serve', 'app.mjs', 'https://127.0.0.1:99999'],
      /port 99999; ports are 1–65535 \(0 picks/,
    ],
    ['serve, an open bracket', ['serve', 'app.mjs', 'https://[::1:8443'], /URL must be a URL like/],
  ];
  it.each(cases)('%s', async (_, argv, sentence) => {
    const config = path.join(work, 'never-created');
    const r = await run([...argv, '--config', config]);
    expect(expectOneLineError(r, 'ERR_USAGE', { exitCode: 2 })).toMatch(sentence);
    expect(r.stdout).toBe('');
    await expect(fs.stat(config)).rejects.toThrow(/ENOENT/);
  });

  it.each([['init', 'Ada', '--email', 'ada@example.org'], ['show']])(
    'an empty --config is a usage error, never the default directory (%s)',
    async (...argv) => {
      const home = await fs.mkdtemp(path.join(tmpdir(), 'certified-empty-config-'));
      try {
        // In a real process '' fell through to ~/.config/certified; the test Io resolves it to cwd.
        const r = await certified([...argv, '--config', ''], { cwd: home });
        expect(expectOneLineError(r, 'ERR_USAGE', { exitCode: 2 })).toMatch(
          /--config needs a directory; received an empty value/,
        );
        expect(await fs.readdir(home)).toEqual([]);
      } finally {
        await fs.rm(home, { recursive: true, force: true });
      }
    },
  );

  it('an unknown command is reported without the --config directory being touched', async () => {
    const r = await run(['add_clientt', '--config', ada]);
    expectOneLineError(r, 'ERR_USAGE', { exitCode: 2 });
  });

  it.each([
    [
      'not a URL',
      'not-a-url',
      /URL must be a URL like https:\/\/host:port\/path; received "not-a-url"/,
    ],
    ['port 99999', 'https://127.0.0.1:99999/x', /URL has port 99999; ports are 1–65535\./],
    ['port 0', 'https://127.0.0.1:0/x', /URL has port 0; ports are 1–65535\./],
    ['ftp', 'ftp://example.org/', /URL must start with https:\/\//],
    ['an open bracket', 'https://[::1/', /URL must be a URL like/],
  ])('message with a URL that is %s: exit 2, like serve', async (_, url, sentence) => {
    const r = await message([url, '--config', ada], opts());
    expect(expectOneLineError(r, 'ERR_USAGE', { exitCode: 2, program: 'message' })).toMatch(
      sentence,
    );
  });

  it('message: -X without a value, and the long names curl uses', async () => {
    const r = await message(['https://notes/x', '-X', '--config', ada], opts());
    expect(expectOneLineError(r, 'ERR_USAGE', { exitCode: 2, program: 'message' })).toBe(
      '-X needs a value; for a value that starts with "-", write --request=VALUE.',
    );
    const help = await message(['--help'], opts());
    expect(help.stdout).toMatch(/-X, --request METHOD/);
    expect(help.stdout).toMatch(/-H, --header 'Name: value'/);
    expect(help.stdout).not.toMatch(/--X|--H\b/);
  });

  it('message with both a JSON argument and --json', async () => {
    await write('body.json', '{"a": 1}');
    const r = await message(['https://notes/x', '{"b": 2}', '--json-file', 'body.json'], opts());
    expect(expectOneLineError(r, 'ERR_USAGE', { exitCode: 2, program: 'message' })).toMatch(
      /only one of a JSON argument, -d\/--data, --json-file FILE or --yaml FILE/,
    );
    expect(r.stderr).toContain('Run `message --help` for usage.');
  });

  it('message with a body that is not JSON, and an unknown -X', async () => {
    const bad = await message(['https://notes/x', '{nope', '--config', ada], opts());
    expectOneLineError(bad, 'ERR_BODY_INVALID', { exitCode: 2, program: 'message' });
    const method = await message(['https://notes/x', '-X', 'BREW', '--config', ada], opts());
    expectOneLineError(method, 'ERR_USAGE', { exitCode: 2, program: 'message' });
  });

  it('-v does not add a stack trace to a usage error', async () => {
    const r = await run(['init', '--nope', '-v']);
    expectOneLineError(r, 'ERR_USAGE', { exitCode: 2 });
  });
});

describe('happy paths', () => {
  it('init a person: the files, keys 0600, directory 0700', async () => {
    const dir = path.join(await tempDir(), 'grace');
    const out = await ok(['init', 'Grace Hopper', '--email', 'grace@example.org', '--config', dir]);
    expect(out).toBe(`Generated new config for CN=Grace Hopper at ${dir}.\n`);
    const files = Object.keys(await snapshotDir(dir)).sort();
    expect(files).toEqual([
      '.',
      'CA.crt',
      'CA.key',
      'id.crt',
      'id.key',
      'known_clients',
      'known_clients/self.crt',
      'known_servers',
      'known_servers/self.crt',
    ]);
    expect(await modeOf(path.join(dir, 'id.key'))).toBe(0o600);
    expect(await modeOf(path.join(dir, 'CA.key'))).toBe(0o600);
    expect(await modeOf(dir)).toBe(0o700);
    expect(await read(path.join(dir, 'known_clients/self.crt'))).toBe(
      await read(path.join(dir, 'CA.crt')),
    );
  });

  it('init --org with a relative --config, another key type and location fields', async () => {
    const out = await ok([
      'init',
      '--org',
      'Certificate Lab, Inc.',
      '--unit',
      'Computing',
      '--country',
      'US',
      '--city',
      'Oak Ridge',
      '--host',
      '*.example.org',
      '--uri',
      'spiffe://example.org/api',
      '--key-type',
      'secp256r1',
      '--config',
      'org-p256',
    ]);
    expect(out).toMatch(/^Generated new config for .*O=Certificate Lab\\, Inc\..* at /);
    expect(out).toContain(path.join(work, 'org-p256'));
    expect(await modeOf(path.join(work, 'org-p256/id.key'))).toBe(0o600);
    const show = JSON.parse(await ok(['show', '--json', '--config', 'org-p256'])) as {
      identity: { keyType: string; altNames: string[] };
    };
    expect(show.identity.keyType).toMatch(/P-256/);
    expect(show.identity.altNames.join(' ')).toContain('*.example.org');
  });

  it('get-ident prints id.crt as one line of base64url DER', async () => {
    const out = await ok(['get-ident', '--config', ada]);
    expect(out).toMatch(/^[A-Za-z0-9_-]+={0,2}\n$/);
    expect(fromBase64Der(out.trim())).toEqual(pemDer(await read(path.join(ada, 'id.crt'))));
  });

  it('get-signer prints {"ca_cert": …} for CA.crt', async () => {
    const json = JSON.parse(await ok(['get-signer', '--config', ada])) as Record<string, string>;
    expect(Object.keys(json)).toEqual(['ca_cert']);
    expect(json['ca_cert']).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
    expect(fromBase64Der(json['ca_cert']!)).toEqual(pemDer(await read(path.join(ada, 'CA.crt'))));
  });

  it('add-client saves known_clients/NAME.crt (a CA, or a pinned certificate)', async () => {
    const dir = await copyOf(svc);
    const out = await ok(['add-client', 'ada', path.join(ada, 'CA.crt'), '--config', dir]);
    expect(out).toBe(
      `Trusting P=Signing Certificate,CN=Ada Lovelace as known_clients/ada.crt: CA (everyone it signs may call), SHA-256 ${fingerprint(pemDer(await read(path.join(ada, 'CA.crt'))))}.\n`,
    );
    expect(pemDer(await read(path.join(dir, 'known_clients/ada.crt')))).toEqual(
      pemDer(await read(path.join(ada, 'CA.crt'))),
    );
    const pinned = await ok(['add-client', 'ada-id', 'ada.b64', '--config', dir]);
    expect(pinned).toContain(': pinned end-entity (only its holder may call), SHA-256 ');
  });

  it('add-service writes known_servers/ALIAS.yaml with url, pinned cert and auths', async () => {
    const dir = await copyOf(ada);
    const out = await ok([
      'add-service',
      'notes',
      'svc-signer.json',
      '--url',
      'https://127.0.0.1:8443',
      '--auth',
      'CN=Someone Else',
      '--config',
      dir,
    ]);
    expect(out).toMatch(
      /^Added service notes at https:\/\/127\.0\.0\.1:8443 \(known_servers\/notes\.yaml\)/,
    );
    const yaml = parseYaml(await read(path.join(dir, 'known_servers/notes.yaml'))) as Record<
      string,
      unknown
    >;
    expect(Object.keys(yaml).sort()).toEqual(['auths', 'cert', 'url']);
    expect(yaml['url']).toBe('https://127.0.0.1:8443');
    const signer = JSON.parse(await read('svc-signer.json')) as { ca_cert: string };
    expect(fromBase64Der(yaml['cert'] as string)).toEqual(fromBase64Der(signer.ca_cert));
    expect(yaml['auths']).toContain('CN=Someone Else');
    // the pinned certificate's own subject (the service's CA) is accepted too
    expect((yaml['auths'] as string[]).some((a) => a.includes('Example Org'))).toBe(true);
    // ORNL's host[:port] form
    await ok(['add-service', 'api.example.org:8443', 'svc-signer.json', '--config', dir]);
    const api = parseYaml(await read(path.join(dir, 'known_servers/api.example.org:8443.yaml')));
    expect((api as { url: string }).url).toBe('https://api.example.org:8443');
  });

  it('introduce prints a letter with exactly signed_cert, ca_cert, services; add-intro installs it', async () => {
    const letterText = await svcIntroducesBob();
    const letter = JSON.parse(letterText) as Record<string, unknown>;
    expect(Object.keys(letter).sort()).toEqual(['ca_cert', 'services', 'signed_cert']);
    expect(letter['services']).toEqual({ notes: 'https://127.0.0.1:8443' });
    await write('bob-letter.json', letterText);

    const dir = await copyOf(bob);
    const out = await ok(['add-intro', 'bob-letter.json', '--config', dir]);
    expect(out).toMatch(
      /^Introduced by .*Example Org.* \(CA, SHA-256 [0-9A-F:]+\)\.\n {2}id\/.*\.crt: your identity as it signed it\n {2}known_servers\/notes\.yaml: https:\/\/notes\/… goes to https:\/\/127\.0\.0\.1:8443, whose server must chain to that CA\n$/,
    );
    const ids = await fs.readdir(path.join(dir, 'id'));
    expect(ids).toHaveLength(1);
    expect(readDerInput(await read(path.join(dir, 'id', ids[0]!))).blocks).toHaveLength(2);
    const notes = parseYaml(await read(path.join(dir, 'known_servers/notes.yaml'))) as {
      url: string;
      auths: string[];
    };
    expect(notes.url).toBe('https://127.0.0.1:8443');
    expect(notes.auths.join()).toContain('Example Org');
    // the letter travels on stdin too
    const again = await certified(['add-intro', '-', '--overwrite', '--config', dir], {
      ...opts(),
      stdin: letterText,
    });
    expect(again.code, again.stderr).toBe(0);
  });

  it('introduce reads get-ident output from stdin', async () => {
    const r = await certified(['introduce', '-', '--days', '30', '--config', svc], {
      ...opts(),
      stdin: await read('bob.b64'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout) as object).sort()).toEqual(['ca_cert', 'signed_cert']);
  });

  it('show prints the identity as text and as JSON', async () => {
    const text = await ok(['show', '--config', ada]);
    expect(text).toContain(`Identity directory ${ada} (from option)`);
    expect(text).toMatch(/^Identity {2}CN=Ada Lovelace/m);
    expect(text).toMatch(/^Signer {4}.*Ada Lovelace/m);
    expect(text).toContain('SHA-256 ');
    expect(text).toContain('known_clients/self.crt');
    expect(text).not.toContain('Problems:');
    const json = JSON.parse(await ok(['show', '--json', '--config', ada])) as Record<
      string,
      unknown
    >;
    expect(json['location']).toBe(ada);
    expect(json['locationSource']).toBe('option');
    expect(json['identity']).toMatchObject({ subject: 'CN=Ada Lovelace', ca: false });
    expect(json['problems']).toEqual([]);
  });

  it('check: a clean directory exits 0; a key readable by others exits 1 with CHECK_PERMISSIONS', async () => {
    const clean = await run(['check', '--config', ada]);
    expect(clean.code, clean.stdout).toBe(0);
    expect(clean.stdout).toBe(`${ada}: no problems found.\n`);
    const json = JSON.parse((await run(['check', '--json', '--config', ada])).stdout) as {
      ok: boolean;
    };
    expect(json.ok).toBe(true);

    const dir = await copyOf(ada);
    await fs.chmod(path.join(dir, 'id.key'), 0o644);
    const bad = await run(['check', '--config', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^error: CHECK_PERMISSIONS id\.key: .*chmod 600/m);
    expect(bad.stdout).toContain('1 error(s)');
    expect(bad.stderr).toBe('');
  });

  describe('inspect', () => {
    it('a certificate', async () => {
      const out = await ok(['inspect', path.join(ada, 'id.crt')]);
      expect(out).toMatch(/: certificate\n/);
      expect(out).toContain('Ada Lovelace');
      const json = JSON.parse(await ok(['inspect', path.join(ada, 'id.crt'), '--json'])) as {
        kind: string;
        items: unknown[];
      };
      expect(json.kind).toBe('certificate');
      expect(json.items).toHaveLength(1);
    });

    it('a chain', async () => {
      const dir = await copyOf(bob);
      await ok(['add-intro', 'bob-letter.json', '--config', dir]);
      const [file] = await fs.readdir(path.join(dir, 'id'));
      const out = await ok(['inspect', path.join(dir, 'id', file!)]);
      expect(out).toMatch(/: chain of 2\n/);
      expect(out).toContain('# 1. certificate');
      expect(out).toContain('# 2. certificate');
    });

    it('an introduction letter', async () => {
      const out = await ok(['inspect', 'bob-letter.json']);
      expect(out).toMatch(/^bob-letter\.json: introduction letter$/m);
      expect(out).toContain('valid: signed_cert was signed by ca_cert');
      expect(out).toContain('Bob Builder');
    });

    it('a known_servers YAML file', async () => {
      const dir = await copyOf(ada);
      await ok([
        'add-service',
        'notes',
        'svc-signer.json',
        '--url',
        'https://127.0.0.1:8443',
        '--config',
        dir,
      ]);
      const out = await ok(['inspect', path.join(dir, 'known_servers/notes.yaml')]);
      expect(out).toContain(': service (known_servers YAML)');
      expect(out).toContain('url: https://127.0.0.1:8443');
      expect(out).toContain('# 1. pinned cert');
    });

    it('a CSR made by openssl req (and introduce accepts it)', async () => {
      execFileSync(
        'openssl',
        [
          'req',
          '-new',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          'csr.key',
          '-out',
          'csr.pem',
          '-subj',
          '/CN=Grace Hopper/O=Navy',
        ],
        { cwd: work, stdio: 'pipe' },
      );
      const out = await ok(['inspect', 'csr.pem']);
      expect(out).toMatch(/^csr\.pem: certification request$/m);
      expect(out).toContain('Grace Hopper');
      const letter = JSON.parse(await ok(['introduce', 'csr.pem', '--config', svc])) as object;
      expect(Object.keys(letter).sort()).toEqual(['ca_cert', 'signed_cert']);
    });

    it('a private key: says so, never prints it', async () => {
      const key = await read(path.join(ada, 'id.key'));
      const r = await run(['inspect', path.join(ada, 'id.key')]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        `${path.join(ada, 'id.key')}: a private key (PRIVATE KEY); not printed.\n`,
      );
      for (const line of key.split('\n').filter((l) => l && !l.startsWith('-----')))
        expect(r.stdout + r.stderr).not.toContain(line);
    });
  });
});

describe('bad input leaves the directory exactly as it was', () => {
  it('a corrupt id.key: show, introduce and add-intro fail with ERR_IDENTITY_FILE_INVALID', async () => {
    const dir = await copyOf(ada);
    await fs.writeFile(path.join(dir, 'id.key'), 'garbage, not a key\n');
    for (const argv of [
      ['show'],
      ['show', '--json'],
      ['introduce', 'bob.b64'],
      ['add-intro', 'bob-letter.json'],
      ['get-ident'],
      ['add-client', 'x', path.join(bob, 'CA.crt')],
    ]) {
      const sentence = await expectUnchanged(
        dir,
        () => run([...argv, '--config', dir]),
        'ERR_IDENTITY_FILE_INVALID',
      );
      expect(sentence).toMatch(/^id\.key is not a usable private key/);
    }
    // check reports it as an error rather than failing
    const check = await run(['check', '--config', dir]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^error: ERR_IDENTITY_FILE_INVALID id\.key: /m);
  });

  it('introduce of a text file says what it expected, not what the base64 decoder saw', async () => {
    const dir = await copyOf(ada);
    await write('notes.txt', 'hello, this is not a certificate\n');
    const sentence = await expectUnchanged(
      dir,
      () => run(['introduce', 'notes.txt', '--config', dir]),
      'ERR_INTRO_SUBJECT_INVALID',
    );
    expect(sentence).toMatch(/neither PEM, DER, nor the base64-DER that get-ident prints\.$/);
    expect(sentence).not.toMatch(/padding|length is impossible/);
  });

  it('a text file of base64-looking words is not taken for base64-DER', async () => {
    const dir = await copyOf(ada);
    await write('words.txt', 'hello world this is text\n');
    for (const argv of [
      ['add-client', 'x', 'words.txt'],
      ['add-service', 's', 'words.txt'],
      ['introduce', 'words.txt'],
    ]) {
      const r = await run([...argv, '--config', dir]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^certified: ERR_[A-Z_]+: .*neither .*PEM.*\n$/);
      expect(r.stderr).not.toMatch(/length field|padding/);
    }
  });

  it("a letter for someone else's key: ERR_INTRO_KEY_MISMATCH", async () => {
    const dir = await copyOf(ada);
    const sentence = await expectUnchanged(
      dir,
      () => run(['add-intro', 'bob-letter.json', '--config', dir]),
      'ERR_INTRO_KEY_MISMATCH',
    );
    expect(sentence).toMatch(/someone else/);
  });

  it('a service file without url: message fails with ERR_SERVICE_INVALID; show lists it; check exits 1', async () => {
    const dir = await copyOf(ada);
    await fs.writeFile(path.join(dir, 'known_servers/x.yaml'), 'auths: []\n');
    const sentence = await expectUnchanged(
      dir,
      () => message(['https://x/', '--config', dir], opts()),
      'ERR_SERVICE_INVALID',
      'message',
    );
    expect(sentence).toMatch(/known_servers\/x\.yaml.*url/);
    const before = await snapshotDir(dir);
    const show = await run(['show', '--config', dir]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(
      /^Problems:\n {2}error ERR_SERVICE_INVALID known_servers\/x\.yaml: /m,
    );
    const check = await run(['check', '--config', dir]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^error: ERR_SERVICE_INVALID known_servers\/x\.yaml: /m);
    expect(await snapshotDir(dir)).toEqual(before);
  });

  it('a read-only directory (EACCES injected through openStore): add-client fails with ERR_STORE_PERMISSION', async () => {
    const dir = await copyOf(svc);
    const { openStore, calls } = failingStore('open', 'all', 'EACCES');
    const sentence = await expectUnchanged(
      dir,
      () => run(['add-client', 'ada', path.join(ada, 'CA.crt'), '--config', dir], { openStore }),
      'ERR_STORE_PERMISSION',
    );
    expect(calls['open']).toBe(1);
    expect(sentence).toMatch(/read-only or not writable/);
  });

  it.skipIf(isRoot)(
    'a read-only directory (real chmod 0500): add-client fails with ERR_STORE_PERMISSION',
    async () => {
      const dir = await copyOf(svc);
      await chmodDirs(dir, 0o500);
      try {
        await expectUnchanged(
          dir,
          () => run(['add-client', 'ada', path.join(ada, 'CA.crt'), '--config', dir]),
          'ERR_STORE_PERMISSION',
        );
      } finally {
        await makeWritable(dir);
      }
    },
  );

  it('a full disk on the 2nd file of add-intro (a letter with two services): ERR_STORE_NO_SPACE', async () => {
    const letter = await ok([
      'introduce',
      'bob.b64',
      '--service',
      'a=https://127.0.0.1:8443',
      '--service',
      'b=https://localhost:8444/api',
      '--config',
      svc,
    ]);
    await write('two-services.json', letter);
    const dir = await copyOf(bob);
    const { openStore, calls } = failingStore('write', 2, 'ENOSPC');
    const sentence = await expectUnchanged(
      dir,
      () => run(['add-intro', 'two-services.json', '--config', dir], { openStore }),
      'ERR_STORE_NO_SPACE',
    );
    expect(calls['write']).toBe(2);
    expect(sentence).toMatch(/no space is left/);
    // the same letter goes in once there is room
    await ok(['add-intro', 'two-services.json', '--config', dir]);
    expect((await fs.readdir(path.join(dir, 'known_servers'))).sort()).toEqual([
      'a.yaml',
      'b.yaml',
      'self.crt',
    ]);
  });

  it('a full disk on the 2nd file of init --overwrite: ERR_STORE_NO_SPACE, the old identity intact', async () => {
    const dir = await copyOf(bob);
    await ok(['add-intro', 'bob-letter.json', '--config', dir]); // id/ is removed by a real overwrite
    const { openStore, calls } = failingStore('write', 2, 'ENOSPC');
    await expectUnchanged(
      dir,
      () =>
        run(['init', 'New Bob', '--email', 'nb@example.org', '--overwrite', '--config', dir], {
          openStore,
        }),
      'ERR_STORE_NO_SPACE',
    );
    expect(calls['write']).toBe(2);
    const show = await ok(['show', '--config', dir]);
    expect(show).toContain('CN=Bob Builder');
  });

  it('init over an existing identity without --overwrite: ERR_IDENTITY_EXISTS', async () => {
    const dir = await copyOf(ada);
    await expectUnchanged(
      dir,
      () => run(['init', 'Eve', '--email', 'eve@example.org', '--config', dir]),
      'ERR_IDENTITY_EXISTS',
    );
  });

  it('add-client / add-service of an existing name without --overwrite: ERR_STORE_EXISTS', async () => {
    const s = await copyOf(svc);
    await ok(['add-client', 'ada', path.join(ada, 'CA.crt'), '--config', s]);
    const sentence = await expectUnchanged(
      s,
      () => run(['add-client', 'ada', path.join(bob, 'CA.crt'), '--config', s]),
      'ERR_STORE_EXISTS',
    );
    expect(sentence).toMatch(
      /known_clients\/ada\.crt exists; set overwrite to replace it \(--overwrite/,
    );
    await ok(['add-client', 'ada', path.join(bob, 'CA.crt'), '--overwrite', '--config', s]);

    const a = await copyOf(ada);
    await ok([
      'add-service',
      'notes',
      'svc-signer.json',
      '--url',
      'https://127.0.0.1:1',
      '--config',
      a,
    ]);
    await expectUnchanged(
      a,
      () =>
        run([
          'add-service',
          'notes',
          'svc-signer.json',
          '--url',
          'https://127.0.0.1:2',
          '--config',
          a,
        ]),
      'ERR_STORE_EXISTS',
    );
  });

  it('a bad client name or certificate: ERR_IDENTITY_NAME_INVALID / ERR_IDENTITY_INPUT_INVALID', async () => {
    const dir = await copyOf(svc);
    await expectUnchanged(
      dir,
      () => run(['add-client', '..', path.join(ada, 'CA.crt'), '--config', dir]),
      'ERR_IDENTITY_NAME_INVALID',
    );
    await write('junk.crt', 'not a certificate\n');
    const r = await expectUnchanged(
      dir,
      () => run(['add-client', 'junk', 'junk.crt', '--config', dir]),
      // whichever code the library picks, it must be one line and change nothing
      'ERR_[A-Z_]+',
    );
    expect(r).not.toBe('');
  });

  it('a CA certificate posing as the identity in a letter: ERR_INTRO_NOT_IDENTITY', async () => {
    const { ca_cert } = JSON.parse(await read('svc-signer.json')) as { ca_cert: string };
    await write('ca-letter.json', JSON.stringify({ signed_cert: ca_cert, ca_cert }));
    const dir = await copyOf(bob);
    const sentence = await expectUnchanged(
      dir,
      () => run(['add-intro', 'ca-letter.json', '--config', dir]),
      'ERR_INTRO_NOT_IDENTITY',
    );
    expect(sentence).toMatch(/CA certificate posing as an identity/);
  });

  it('an expired letter: ERR_INTRO_EXPIRED', async () => {
    const past = new Date(Date.now() - 400 * 86_400_000);
    const introducer = await initIdentity(createMemoryStore(), {
      subject: personName({ commonName: 'Old Introducer' }),
      altNames: [emailAddress('old@example.org')],
      now: past,
    });
    const letter = await createIntroLetter({
      issuer: {
        certificate: introducer.signer!.certificate,
        privateKey: introducer.signer!.privateKey,
      },
      subject: await read('bob.b64'),
      now: past,
      days: 2,
    });
    await write('expired-letter.json', JSON.stringify(letter));
    const dir = await copyOf(bob);
    const sentence = await expectUnchanged(
      dir,
      () => run(['add-intro', 'expired-letter.json', '--config', dir]),
      'ERR_INTRO_EXPIRED',
    );
    expect(sentence).toMatch(/signed_cert/);
  });

  it('a letter that is not a letter: ERR_INTRO_MALFORMED', async () => {
    await write('not-a-letter.json', '{"signed_cert": 3}');
    const dir = await copyOf(bob);
    await expectUnchanged(
      dir,
      () => run(['add-intro', 'not-a-letter.json', '--config', dir]),
      'ERR_INTRO_MALFORMED',
    );
  });

  it('a file argument that does not exist: ERR_FILE_READ', async () => {
    const dir = await copyOf(svc);
    for (const argv of [
      ['add-client', 'x', 'missing.crt'],
      ['add-service', 'x', 'missing.json'],
      ['introduce', 'missing.b64'],
      ['add-intro', 'missing.json'],
      ['inspect', 'missing.pem'],
    ]) {
      const sentence = await expectUnchanged(
        dir,
        () => run([...argv, '--config', dir]),
        'ERR_FILE_READ',
      );
      expect(sentence).toMatch(/^Cannot read .*missing\.\w+: no such file\.$/);
    }
    const isDir = await run(['inspect', dir]);
    expect(expectOneLineError(isDir, 'ERR_FILE_READ')).toMatch(/it is a directory/);
  });

  it('a file that looks like JSON but is not: ERR_FILE_READ, not an internal error', async () => {
    await write('broken.json', '{"signed_cert": ');
    const r = await run(['inspect', 'broken.json']);
    expect(expectOneLineError(r, 'ERR_FILE_READ')).toMatch(
      /^Cannot read broken\.json: it is not valid JSON/,
    );
    const dir = await copyOf(bob);
    await expectUnchanged(
      dir,
      () => run(['add-intro', 'broken.json', '--config', dir]),
      'ERR_INTRO_MALFORMED',
    );
    await expectUnchanged(
      dir,
      () => run(['add-client', 'x', 'broken.json', '--config', dir]),
      'ERR_IDENTITY_INPUT_INVALID',
    );
  });

  it('set-org: refused without --overwrite; a full disk mid-way changes nothing; then it joins', async () => {
    const letter = await svcIntroducesBob();
    await write('org-letter.json', letter);
    const dir = await copyOf(bob);
    await ok(['add-intro', 'bob-letter.json', '--config', dir]);
    await expectUnchanged(
      dir,
      () => run(['set-org', 'org-letter.json', '--config', dir]),
      'ERR_IDENTITY_INPUT_INVALID',
    );
    // set-org removes CA.key, CA.crt, id/ and known_*/self.crt and writes four files in one commit
    for (const [op, nth] of [
      ['write', 3],
      ['rename', 2],
    ] as const) {
      const { openStore, calls } = failingStore(op, nth, 'ENOSPC');
      await expectUnchanged(
        dir,
        () => run(['set-org', 'org-letter.json', '--overwrite', '--config', dir], { openStore }),
        'ERR_STORE_NO_SPACE',
      );
      expect(calls[op]).toBeGreaterThanOrEqual(nth); // the fault fired (rollback renames too)
    }
    const joined = await ok(['set-org', 'org-letter.json', '--overwrite', '--config', dir]);
    expect(joined).toMatch(/^Joined .*Example Org.*; removed id, CA, CA\.key, CA\.crt/);
    const files = Object.keys(await snapshotDir(dir)).sort();
    expect(files).toEqual([
      '.',
      'id.crt',
      'id.key',
      'known_clients',
      'known_clients/org.crt',
      'known_servers',
      'known_servers/notes.yaml',
      'known_servers/org.crt',
    ]);
    expect((await run(['check', '--config', dir])).code).toBe(0);
    // without a CA of its own it can no longer sign
    for (const argv of [['get-signer'], ['introduce', 'ada.b64']])
      expect(
        await expectUnchanged(dir, () => run([...argv, '--config', dir]), 'ERR_IDENTITY_NO_SIGNER'),
      ).toMatch(/joined an organisation with set-org/);
  });

  it('--config pointing at an empty directory: ERR_IDENTITY_NOT_FOUND, saying to run init', async () => {
    const empty = await tempDir();
    for (const argv of [
      ['show'],
      ['get-ident'],
      ['introduce', 'bob.b64'],
      ['add-intro', 'bob-letter.json'],
    ]) {
      const sentence = await expectUnchanged(
        empty,
        () => run([...argv, '--config', empty]),
        'ERR_IDENTITY_NOT_FOUND',
      );
      expect(sentence).toMatch(/run `certified init`/);
    }
    const check = await run(['check', '--config', path.join(empty, 'nowhere')]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/CHECK_MISSING.*run `certified init`/);
  });

  it('-v adds a stack trace on failure', async () => {
    const dir = await copyOf(ada);
    await fs.writeFile(path.join(dir, 'id.key'), 'garbage\n');
    const r = await run(['show', '-v', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^certified: ERR_IDENTITY_FILE_INVALID: /m);
    expect(r.stderr).toMatch(/^ {4}at /m);
    expect(r.stderr).toContain(`identity directory ${dir} (from option)`);
    const missing = await run(['inspect', 'missing.pem', '--verbose']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ {4}at /m);
  });

  it('global options work before the command as after it (-v, --verbose, --config DIR, --config=DIR)', async () => {
    const dir = await copyOf(ada);
    await fs.writeFile(path.join(dir, 'id.key'), 'garbage\n');
    for (const argv of [
      ['-v', 'show', '--config', dir],
      ['--verbose', '--config', dir, 'show'],
      ['-v', `--config=${dir}`, 'show'],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^certified: ERR_IDENTITY_FILE_INVALID: /m);
      expect(r.stderr).toMatch(/^ {4}at /m);
    }
    const inspect = await run(['-v', 'inspect', 'missing.pem']);
    expect(inspect.code).toBe(1);
    expect(inspect.stderr).not.toMatch(/Unknown command/);
    expect(inspect.stderr).toMatch(/^ {4}at /m);
    // Global options alone, no command: the overview and exit 2, as with no arguments.
    const none = await run(['-v']);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/^Usage: certified <command>/m);
  });
});
