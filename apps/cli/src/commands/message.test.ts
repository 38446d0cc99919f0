/**
 * `certified serve` and `message` through `main` / `messageMain`, over real mutual TLS on 127.0.0.1:
 * the example Hono app (examples/notes-api.mjs) served with a service identity, called by a client it
 * trusts directly (add-client of her CA), by one it trusts through an introduction, and by a stranger.
 */
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certified,
  expectOneLineError,
  message,
  removeTempDirs,
  tempDir,
  testIo,
  type TestIoOptions,
} from '../../test/helpers.js';
import { main } from '../main.js';

const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/notes-api.mjs');

let work: string;
let svc: string;
let ada: string;
let bob: string;
let stranger: string;
let url: string; // where the service listens
let serving: Promise<number>;
let server: ReturnType<typeof testIo>;
let shutdown: (signal: string) => void;
const opts = (): TestIoOptions => ({ cwd: work });

async function ok(argv: readonly string[]): Promise<string> {
  const r = await certified(argv, opts());
  expect(r.code, `certified ${argv.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const send = (argv: readonly string[], config: string) =>
  message([...argv, '--config', config], opts());

/** Resolves with the first match of `re` in what `read()` returns, polling; rejects if `stop` settles first. */
async function waitFor(
  read: () => string,
  re: RegExp,
  stop: Promise<unknown>,
  ms = 15_000,
): Promise<RegExpExecArray> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  for (const end = Date.now() + ms; Date.now() < end;) {
    const m = re.exec(read());
    if (m) return m;
    if (stopped) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${re} did not appear; got:\n${read()}\n${server.stderr()}`);
}

beforeAll(async () => {
  work = await tempDir();
  [svc, ada, bob, stranger] = ['svc', 'ada', 'bob', 'stranger'].map((n) => path.join(work, n)) as [
    string,
    string,
    string,
    string,
  ];
  await ok([
    'init',
    '--org',
    'Example Org',
    '--unit',
    'Notes API',
    '--host',
    '127.0.0.1',
    '--config',
    svc,
  ]);
  await ok(['init', 'Ada Lovelace', '--email', 'ada@example.org', '--config', ada]);
  await ok(['init', 'Bob Builder', '--email', 'bob@example.org', '--config', bob]);
  await ok(['init', 'Eve Stranger', '--email', 'eve@example.org', '--config', stranger]);
  await ok(['add-client', 'ada', path.join(ada, 'CA.crt'), '--config', svc]);

  // serve on a free port until the test suite ends
  const stop = new Promise<string>((resolve) => (shutdown = resolve));
  server = testIo({ cwd: work, waitForShutdown: () => stop });
  serving = main(['serve', EXAMPLE, 'https://127.0.0.1:0', '--config', svc], server.io);
  const m = await waitFor(
    server.stdout,
    /^Serving .* at (https:\/\/127\.0\.0\.1:\d+) as (.*); trusting (\d+) client certificate\(s\)/m,
    serving,
  );
  url = m[1]!;
  expect(m[2]).toContain('Example Org');
  expect(m[3]).toBe('2'); // self.crt and ada.crt, which the banner tells apart
  expect(server.stdout()).toMatch(
    /from known_clients\/ \(ada\.crt; self\.crt is this identity's own CA\)\./,
  );

  await fs.writeFile(path.join(work, 'svc-signer.json'), await ok(['get-signer', '--config', svc]));
  await ok(['add-service', 'notes', 'svc-signer.json', '--url', url, '--config', ada]);
  await ok(['add-service', 'notes', 'svc-signer.json', '--url', url, '--config', stranger]);
  // the service introduces Bob, listing itself; Bob is never added as a client
  await fs.writeFile(path.join(work, 'bob.b64'), await ok(['get-ident', '--config', bob]));
  await fs.writeFile(
    path.join(work, 'bob-letter.json'),
    await ok(['introduce', 'bob.b64', '--service', `notes=${url}`, '--config', svc]),
  );
  await ok(['add-intro', 'bob-letter.json', '--config', bob]);
}, 60_000);

afterAll(async () => {
  shutdown?.('SIGTERM');
  await serving?.catch(() => undefined);
  await removeTempDirs();
});

describe('serve and message', () => {
  it('GET through the alias: exit 0 and the body', async () => {
    const r = await send(['https://notes/'], ada);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ hello: 'Ada Lovelace', notes: 0 });
    expect(r.stdout.endsWith('\n')).toBe(true);
  });

  it('POST a JSON argument, a --json file and a --yaml file', async () => {
    const inline = await send(['https://notes/notes', '{"message": "hello"}'], ada);
    expect(inline.code, inline.stderr).toBe(0);
    expect(JSON.parse(inline.stdout)).toEqual({ id: 1, by: 'Ada Lovelace', message: 'hello' });

    await fs.writeFile(path.join(work, 'note.json'), '{"message": "from a file"}');
    const file = await send(['https://notes/notes', '--json-file', 'note.json'], ada);
    expect(file.code, file.stderr).toBe(0);
    expect(JSON.parse(file.stdout)).toMatchObject({ id: 2, message: 'from a file' });

    await fs.writeFile(path.join(work, 'note.yaml'), 'message: in YAML\ntags: [a, b]\n');
    const yaml = await send(['https://notes/notes', '--yaml', 'note.yaml', '--pp'], ada);
    expect(yaml.code, yaml.stderr).toBe(0);
    expect(yaml.stdout).toBe(
      `${JSON.stringify({ id: 3, by: 'Ada Lovelace', message: 'in YAML', tags: ['a', 'b'] }, null, 2)}\n`,
    );

    const list = await send(['https://notes/notes'], ada);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(3);
  });

  it("curl's -d (inline, @FILE), -i and -o", async () => {
    await fs.writeFile(path.join(work, 'd.json'), '{"message": "via -d @file"}');
    const fromFile = await send(['https://notes/notes', '-d', '@d.json'], ada);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({
      by: 'Ada Lovelace',
      message: 'via -d @file',
    });
    const inline = await send(['https://notes/notes', '--data', '{"message": "via -d"}'], ada);
    expect(JSON.parse(inline.stdout)).toMatchObject({ message: 'via -d' });

    const head = await send(['https://notes/', '-i'], ada);
    expect(head.code, head.stderr).toBe(0);
    const [status, ...rest] = head.stdout.split('\n');
    expect(status).toBe('HTTP 200 OK');
    expect(rest).toContain('content-type: application/json');
    const blank = rest.indexOf('');
    expect(JSON.parse(rest.slice(blank + 1).join('\n'))).toMatchObject({ hello: 'Ada Lovelace' });

    const json = await send(['https://notes/', '--json'], ada);
    expect(JSON.parse(json.stdout)).toEqual({
      status: 200,
      statusText: 'OK',
      headers: expect.objectContaining({ 'content-type': 'application/json' }),
      body: expect.objectContaining({ hello: 'Ada Lovelace' }),
    });

    const out = await send(['https://notes/notes', '-o', 'notes-out.json'], ada);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe('');
    const saved = JSON.parse(await fs.readFile(path.join(work, 'notes-out.json'), 'utf8'));
    expect(saved).toEqual(expect.arrayContaining([expect.objectContaining({ message: 'via -d' })]));

    const both = await send(['https://notes/notes', '{"a": 1}', '-d', '{"b": 2}'], ada);
    expect(expectOneLineError(both, 'ERR_USAGE', { exitCode: 2, program: 'message' })).toMatch(
      /only one of a JSON argument, -d\/--data, --json-file FILE or --yaml FILE/,
    );
  });

  it('-v explains the request on stderr, the body still on stdout', async () => {
    const r = await send(['https://notes/', '-v', '-H', 'X-Trace: 1'], ada);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`message: GET ${url}/ (service notes, known_servers/notes.yaml)`);
    expect(r.stderr).toMatch(/^message: presenting .*Ada Lovelace/m);
    expect(r.stderr).toMatch(/^message: server must chain to: .*Example Org/m);
    expect(r.stderr).toContain('message: HTTP 200 OK');
    expect(JSON.parse(r.stdout)).toMatchObject({ hello: 'Ada Lovelace' });
  });

  it('a 404 exits 1 with ERR_HTTP_STATUS', async () => {
    const r = await send(['https://notes/missing'], ada);
    const sentence = expectOneLineError(r, 'ERR_HTTP_STATUS', { program: 'message' });
    // Hono's 404 body is the status line again: said once, not "404 Not Found: 404 Not Found".
    expect(sentence).toBe(`${url}/missing answered 404 Not Found`);
    expect(r.stdout).toBe('');
  });

  it('a 400 exits 1 with ERR_HTTP_STATUS and the response body', async () => {
    const r = await send(['https://notes/notes', '[1, 2]'], ada);
    const sentence = expectOneLineError(r, 'ERR_HTTP_STATUS', { program: 'message' });
    expect(sentence).toMatch(/answered 400 Bad Request: \{"error":"send a JSON object"\}$/);
  });

  it('someone the service introduced gets in without being a known client', async () => {
    const r = await send(['https://notes/'], bob);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ hello: 'Bob Builder' });
  });

  it('a stranger is refused: exit 1 with ERR_NET_TLS or ERR_NET_PROTOCOL, and the server logs it', async () => {
    const before = server.stderr().length;
    const r = await send(['https://notes/'], stranger);
    const line = r.stderr.split('\n')[0]!;
    expect(line).toMatch(/^message: ERR_NET_(TLS|PROTOCOL): /);
    expectOneLineError(r, line.split(': ')[1]!, { program: 'message' });
    expect(r.stdout).toBe('');
    const log = await waitFor(() => server.stderr().slice(before), /^\{.*"refused".*\}$/m, serving);
    const event = JSON.parse(log[0]) as Record<string, unknown>;
    expect(event).toMatchObject({ type: 'refused', subject: 'CN=Eve Stranger' });
    expect(String(event['code'])).toMatch(/^ERR_CHAIN_/);
    // The server's line names the certificate by its fingerprint, as openssl prints it.
    expect(event['fingerprint']).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    // And the caller is told the most likely fix, when the server hung up on it.
    if (line.startsWith('message: ERR_NET_TLS'))
      expect(line).toContain(
        `on the server run: certified add-client NAME ${path.join(stranger, 'CA.crt')}`,
      );
  });

  it('a server we do not trust is refused by our validator: exit 1, one line', async () => {
    // no alias: the server must chain to known_servers/*.crt, which holds only Ada's own CA
    const r = await send([`${url}/`], ada);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^message: ERR_CHAIN_[A-Z_]+: .*\n$/);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    // ending with the command that would make it trusted
    const host = new URL(url).host;
    expect(r.stderr).toMatch(
      new RegExp(
        `run: certified add-service ${host.replace(/[.[\]]/g, '\\$&')} signer\\.json\\.\n$`,
      ),
    );
  });

  it('--pin CERT trusts a server for one call, and writes nothing', async () => {
    const before = await fs.readdir(path.join(ada, 'known_servers'));
    const r = await send([`${url}/`, '--pin', 'svc-signer.json'], ada);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Ada Lovelace');
    expect(await fs.readdir(path.join(ada, 'known_servers'))).toEqual(before);
    // the pin replaces the alias's own: a service pinned to the right CA, judged by the wrong one
    const wrong = await send(['https://notes/', '--pin', path.join(stranger, 'CA.crt')], ada);
    expect(expectOneLineError(wrong, 'ERR_CHAIN_NO_PATH', { program: 'message' })).not.toMatch(
      /add-service/,
    );
    await fs.writeFile(path.join(work, 'notes.txt'), 'not a certificate\n');
    const junk = await send([`${url}/`, '--pin', 'notes.txt'], ada);
    expect(expectOneLineError(junk, 'ERR_IDENTITY_INPUT_INVALID', { program: 'message' })).toMatch(
      /^The --pin notes\.txt is not a readable certificate/,
    );
  });

  it('serve --explain-refusals: a stranger is told why (495) and how to fix it', async () => {
    let stopIt!: (signal: string) => void;
    const stop = new Promise<string>((resolve) => (stopIt = resolve));
    const io = testIo({ cwd: work, waitForShutdown: () => stop });
    const running = main(
      ['serve', EXAMPLE, 'https://127.0.0.1:0', '--explain-refusals', '--config', svc],
      io.io,
    );
    try {
      const at = (
        await waitFor(io.stdout, /^Serving .* at (https:\/\/127\.0\.0\.1:\d+)/m, running)
      )[1]!;
      const r = await send([`${at}/`, '--pin', 'svc-signer.json'], stranger);
      expect(expectOneLineError(r, 'ERR_HTTP_STATUS', { program: 'message' })).toMatch(
        /answered 495 SSL Certificate Error: \{"error":\{"code":"ERR_CHAIN_NO_PATH",.*on the server run: certified add-client NAME .*CA\.crt/,
      );
      // Ada, whom the service trusts, is served as usual.
      const ok = await send([`${at}/`, '--pin', 'svc-signer.json'], ada);
      expect(ok.code, ok.stderr).toBe(0);
    } finally {
      stopIt('SIGTERM');
      expect(await running).toBe(0);
    }
  });

  it('an alias with no service file: exit 1 with ERR_SERVICE_UNKNOWN, nothing sent', async () => {
    const r = await send(['https://notez/'], ada);
    expect(expectOneLineError(r, 'ERR_SERVICE_UNKNOWN', { program: 'message' })).toMatch(
      /^No service "notez" in /,
    );
    expect(r.stdout).toBe('');
  });

  it('serve refuses to start with no known clients, or without a usable module', async () => {
    const lonely = path.join(work, 'lonely');
    await ok(['init', '--org', 'Lonely', '--host', '127.0.0.1', '--config', lonely]);
    await fs.rm(path.join(lonely, 'known_clients/self.crt'));
    const empty = await certified(
      ['serve', EXAMPLE, 'https://127.0.0.1:0', '--config', lonely],
      opts(),
    );
    expect(expectOneLineError(empty, 'ERR_CHECK_FAILED')).toMatch(/known_clients\/ .* is empty/);

    const missing = await certified(
      ['serve', './nope.mjs', 'https://127.0.0.1:0', '--config', svc],
      opts(),
    );
    expect(expectOneLineError(missing, 'ERR_MODULE_LOAD')).toMatch(/^Cannot load \.\/nope\.mjs: /);

    await fs.writeFile(path.join(work, 'nothing.mjs'), 'export const x = 1;\n');
    const nothing = await certified(
      ['serve', './nothing.mjs:x', 'https://127.0.0.1:0', '--config', svc],
      opts(),
    );
    expect(expectOneLineError(nothing, 'ERR_MODULE_LOAD')).toMatch(
      /exports no "x" that is a Hono app/,
    );
  });

  /**
   * Serves `source` (a module) as `./<file>:<name>` with the service identity, and gives Ada a copy
   * of her directory where service `alias` points at it. `stop()` ends it; resolves the exit code.
   */
  async function serveModule(file: string, name: string, source: string, alias: string) {
    await fs.writeFile(path.join(work, file), source);
    let stop!: (s: string) => void;
    const stopped = new Promise<string>((r) => (stop = r));
    const t = testIo({ cwd: work, waitForShutdown: () => stopped });
    const done = main(['serve', `./${file}:${name}`, 'https://127.0.0.1:0', '--config', svc], t.io);
    const m = await waitFor(t.stdout, /at (https:\/\/127\.0\.0\.1:\d+) /, done);
    const config = path.join(work, `ada-${alias}`);
    await fs.cp(ada, config, { recursive: true });
    await ok(['add-service', alias, 'svc-signer.json', '--url', m[1]!, '--config', config]);
    return {
      config,
      stop: async () => {
        stop('SIGINT');
        return done;
      },
    };
  }

  it('a bare fetch handler export is served too', async () => {
    const served = await serveModule(
      'handler.mjs',
      'hello',
      'export function hello() { return new Response("hi from a handler\\n"); }\n',
      'h',
    );
    const r = await send([`https://notes/`], ada); // the main server still answers
    expect(r.code).toBe(0);
    const h = await send(['https://h/'], served.config);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toBe('hi from a handler\n');
    expect(await served.stop()).toBe(0);
  });

  it('a server that keeps sending: message stops after 64 MiB with ERR_HTTP_BODY_TOO_LARGE', async () => {
    // An endless body; before, message read it into memory until the process died.
    const served = await serveModule(
      'endless.mjs',
      'endless',
      [
        'const chunk = new Uint8Array(1 << 20).fill(0x61);',
        'export function endless() {',
        '  return new Response(new ReadableStream({ pull(c) { c.enqueue(chunk); } }));',
        '}',
        '',
      ].join('\n'),
      'e',
    );
    const r = await send(['https://e/'], served.config);
    expect(expectOneLineError(r, 'ERR_HTTP_BODY_TOO_LARGE', { program: 'message' })).toMatch(
      /sent a response body of more than 64 MiB/,
    );
    expect(await served.stop()).toBe(0);
  }, 60_000);

  it('serve exits 0 when asked to stop', async () => {
    shutdown('SIGTERM');
    expect(await serving).toBe(0);
    // The banner, then only JSON access lines (one per request served).
    const lines = server.stdout().trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('{'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('{')).length).toBeGreaterThan(0);
    // the port is closed now
    const r = await send(['https://notes/'], ada);
    expectOneLineError(r, 'ERR_NET_CONNECT', { program: 'message' });
  });
});
