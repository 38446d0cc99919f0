/**
 * @module commands/serve.test — `certified serve` through `main(argv, io)` on 127.0.0.1: the JSON
 * access log on stdout, `--no-access-log`, and `--loki FILE` (ORNL's loki.json) pushing the same lines
 * to a Loki push endpoint — here a recording HTTP server on 127.0.0.1, since Grafana Loki itself is
 * not installable on this machine (see test/loki for the real-server test) — flushed on shutdown.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { certified, expectOneLineError, testIo } from '../../test/helpers.js';

const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/notes-api.mjs');
const isCI = process.env['CI'] === 'true';
const curlMissing = await new Promise<boolean>((resolve) =>
  execFile('curl', ['--version'], (error) => resolve(error !== null)),
);
if (curlMissing)
  console.warn(
    `SKIPPED certified serve tests: curl is not installed${isCI ? ' (CI=true: failing instead)' : ''}`,
  );

const cwd = mkdtempSync(path.join(tmpdir(), 'certified-cli-serve-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

interface Push {
  readonly authorization: string | undefined;
  readonly path: string | undefined;
  readonly body: {
    streams: { stream: Record<string, string>; values: [string, string][] }[];
  };
}
const pushes: Push[] = [];
const loki = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d: string) => (body += d));
  req.on('end', () => {
    pushes.push({
      authorization: req.headers.authorization,
      path: req.url,
      body: JSON.parse(body) as Push['body'],
    });
    res.writeHead(204).end();
  });
});
let lokiUrl: string;

beforeAll(async () => {
  await new Promise<void>((r) => loki.listen(0, '127.0.0.1', r));
  lokiUrl = `http://127.0.0.1:${(loki.address() as AddressInfo).port}`;
  const ok = async (argv: string[]) => {
    const r = await certified(argv, { cwd });
    expect(r.code, r.stderr).toBe(0);
  };
  await ok(['init', '--org', 'Notes', '--host', '127.0.0.1', '--config', 'svc']);
  await ok(['init', 'Ada Lovelace', '--email', 'ada@example.org', '--config', 'ada']);
  await ok(['add-client', 'ada', 'ada/CA.crt', '--config', 'svc']);
});
afterAll(() => new Promise<void>((r) => loki.close(() => r())));

/** Runs `certified serve …` until `stop()`; resolves its URL once it listens. */
async function startServe(extra: string[], where: string[] = ['https://127.0.0.1:0']) {
  let stop!: (signal: string) => void;
  const stopped = new Promise<string>((r) => (stop = r));
  const t = testIo({ cwd, waitForShutdown: () => stopped });
  const exit = main(['serve', EXAMPLE, ...where, '--config', 'svc', ...extra], t.io);
  for (let i = 0; i < 200 && !/ at https:/.test(t.stdout()); i++)
    await new Promise((r) => setTimeout(r, 25));
  const url = / at (https:\/\/127\.0\.0\.1:\d+) /.exec(t.stdout())?.[1];
  if (!url) throw new Error(`serve did not start:\n${t.stdout()}\n${t.stderr()}`);
  return {
    url,
    t,
    stop: async () => {
      stop('SIGTERM');
      return exit;
    },
  };
}

function curlAda(url: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'curl',
      [
        '-sS',
        '--max-time',
        '10',
        '--cacert',
        path.join(cwd, 'svc/CA.crt'),
        '--cert',
        path.join(cwd, 'ada/id.crt'),
        '--key',
        path.join(cwd, 'ada/id.key'),
        `${url}/?q=1`,
      ],
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ),
  );
}

const accessLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(curlMissing && !isCI)('certified serve: access log and --loki', () => {
  it('writes one JSON access line per request to stdout, with the caller from the certificate', async () => {
    const s = await startServe([]);
    expect(JSON.parse(await curlAda(s.url))).toEqual({ hello: 'Ada Lovelace', notes: 0 });
    expect(await s.stop()).toBe(0);
    const [line] = accessLines(s.t.stdout());
    expect(line).toMatchObject({
      name: 'certified.access',
      method: 'GET',
      path: '/',
      query: 'q=1',
      statusCode: 200,
      remote_addr: '127.0.0.1',
      remote_user: { commonName: 'Ada Lovelace' },
    });
    expect(String(line?.['user-agent'])).toMatch(/^curl\//);
  });

  it('without a URL listens on 127.0.0.1:4433 only, never on every interface', async () => {
    const s = await startServe(['--no-access-log'], []);
    try {
      expect(s.url).toBe('https://127.0.0.1:4433');
      // curl reaches it over loopback (the only address a test may use).
      expect(JSON.parse(await curlAda(s.url))).toEqual({ hello: 'Ada Lovelace', notes: 0 });
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it('--no-access-log keeps stdout to the banner', async () => {
    const s = await startServe(['--no-access-log']);
    await curlAda(s.url);
    expect(await s.stop()).toBe(0);
    expect(accessLines(s.t.stdout())).toEqual([]);
  });

  it('--loki FILE pushes the access lines (basic auth, ORNL labels) and flushes them on shutdown', async () => {
    writeFileSync(
      path.join(cwd, 'loki.json'),
      JSON.stringify({ url: `${lokiUrl}/loki/api/v1/push`, user: '1111', passwd: 'secret' }),
    );
    const before = pushes.length;
    const s = await startServe(['--loki', 'loki.json']);
    await curlAda(s.url);
    await curlAda(s.url);
    expect(await s.stop()).toBe(0);
    const got = pushes.slice(before);
    expect(got.length).toBeGreaterThan(0);
    expect(got[0]!.path).toBe('/loki/api/v1/push');
    expect(got[0]!.authorization).toBe(`Basic ${btoa('1111:secret')}`);
    const stream = got[0]!.body.streams[0]!;
    expect(stream.stream).toMatchObject({ application: 'certified', logger: 'certified.access' });
    const lines = got.flatMap((p) => p.body.streams.flatMap((x) => x.values.map((v) => v[1])));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ remote_user: { commonName: 'Ada Lovelace' } });
    // The same lines went to stdout.
    expect(accessLines(s.t.stdout())).toHaveLength(2);
  });
});

describe('certified serve --loki: bad files', () => {
  it.each([
    ['not JSON', '{url:', /is not JSON/],
    ['no url', '{"user":"a"}', /must have "url"/],
    ['a non-string passwd', '{"url":"http://127.0.0.1:1","passwd":5}', /must be strings/],
  ])('refuses %s with ERR_USAGE before listening', async (_, text, message) => {
    writeFileSync(path.join(cwd, 'bad-loki.json'), text);
    const r = await certified(
      ['serve', EXAMPLE, 'https://127.0.0.1:0', '--config', 'svc', '--loki', 'bad-loki.json'],
      { cwd },
    );
    expect(expectOneLineError(r, 'ERR_USAGE', { exitCode: 2 })).toMatch(message);
    expect(r.stdout).toBe('');
  });
});
