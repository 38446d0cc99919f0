/**
 * @module test/e2e/ornl-howto.test — ORNL certified's how-to, replayed with the bundled CLI
 * (apps/cli/dist/certified.mjs and message.mjs) as real processes on Node, Deno and Bun, all against
 * the same identity directories.
 *
 * The directories are made once, by all three runtimes: Node makes Ada (a person) and the Notes API
 * service and trusts Ada's CA on the service; Deno makes Carol (an introducer the service trusts) and
 * Bob, and Carol introduces Bob; Bun makes a stranger and Dave and exports the service's signer. Then,
 * for each runtime in turn, that runtime reads every directory (`show`, `check`), serves
 * apps/cli/examples/notes-api.mjs on https://127.0.0.1:0, and is the client: Ada's GET and POST (with
 * her service file written by another runtime), Bob let in through Carol's introduction (Bob is never
 * added to the service), Dave introduced by the service itself with the service in the letter (the
 * how-to's Method 2), a stranger refused (exit 1, one `message: ERR_NET_…` line, a `refused` JSON line
 * on the server's stderr), real curl with Ada's and the stranger's certificates, and SIGTERM → exit 0.
 * Last, the cold-start bench runs once (`--runs 1`) to prove it works.
 *
 * The CLI is rebuilt first when dist/ is missing or older than its sources. A missing deno, bun or
 * curl is skipped with a warning locally and fails under CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'apps/cli');
const PROGRAMS = {
  certified: join(CLI, 'dist/certified.mjs'),
  message: join(CLI, 'dist/message.mjs'),
};
const EXAMPLE = join(CLI, 'examples/notes-api.mjs');
const BENCH = join(CLI, 'bench/cold-start.mjs');
const isCI = process.env.CI === 'true';
/** Per test: a handful of CLI processes, each well under a second even on a busy 2-core machine. */
const T = 30_000;
const PROCESS_TIMEOUT_MS = 20_000;

// --- runtimes ---

type RuntimeName = 'node' | 'deno' | 'bun';
interface Runtime {
  name: RuntimeName;
  bin: string;
  /** Arguments before the script file. */
  pre: readonly string[];
  /** `--version` output; undefined when the binary is missing or does not run. */
  version: string | undefined;
}

function probe(bin: string, args: readonly string[] = ['--version']): string | undefined {
  if (bin.includes('/') && !existsSync(bin)) return undefined;
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: PROCESS_TIMEOUT_MS });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : undefined;
}

const RUNTIMES: Runtime[] = [
  { name: 'node' as const, bin: process.execPath, pre: [] },
  { name: 'deno' as const, bin: join(ROOT, 'node_modules/.bin/deno'), pre: ['run', '-A'] },
  { name: 'bun' as const, bin: join(ROOT, 'node_modules/.bin/bun'), pre: [] },
].map((r) => ({ ...r, version: probe(r.bin) }));
const byName = (name: RuntimeName) => RUNTIMES.find((r) => r.name === name)!;
const curlVersion = probe('curl');

for (const r of RUNTIMES)
  if (!r.version)
    console.warn(
      `\n!!! e2e/ornl-howto: ${r.bin} is missing or does not run: SKIPPING the ${r.name} how-to${isCI ? ' (CI=true: FAILING instead)' : ''} !!!\n`,
    );
if (!curlVersion)
  console.warn(
    `\n!!! e2e/ornl-howto: curl not found: SKIPPING the curl checks${isCI ? ' (CI=true: FAILING instead)' : ''} !!!\n`,
  );

/** Run a runtime's cases when it is installed, and always under CI (where a missing one fails). */
const runnable = (r: Runtime) => r.version !== undefined || isCI;
/** Who makes a shared directory: the wanted runtime, or Node when it is missing (which fails under CI). */
const maker = (name: RuntimeName) => {
  const r = byName(name);
  return r.version !== undefined ? r : byName('node');
};
/** The runtime after `r` in node → deno → bun → node that is installed (or `r` itself). */
const nextAfter = (r: Runtime): Runtime => {
  for (let i = 1; i < RUNTIMES.length; i++) {
    const next = RUNTIMES[(RUNTIMES.indexOf(r) + i) % RUNTIMES.length]!;
    if (next.version !== undefined) return next;
  }
  return r;
};

// --- processes ---

const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' };
delete env.CERTIFIED_CONFIG;
delete env.VIRTUAL_ENV;

let work = '';
const children = new Set<ChildProcess>();

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function launch(rt: Runtime, args: readonly string[], stdin: 'pipe' | 'ignore'): ChildProcess {
  if (!rt.version) throw new Error(`${rt.name} is not installed (${rt.bin})`);
  const child = spawn(rt.bin, [...rt.pre, ...args], {
    cwd: work,
    env,
    stdio: [stdin, 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('close', () => children.delete(child));
  return child;
}

/** Runs `certified`/`message` (or any script) under `rt` to completion; `input` goes to stdin. */
function run(rt: Runtime, program: string, args: readonly string[], input = ''): Promise<Result> {
  const file = program in PROGRAMS ? PROGRAMS[program as keyof typeof PROGRAMS] : program;
  const child = launch(rt, [file, ...args], 'pipe');
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(input);
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${rt.name} ${program} ${args.join(' ')}: timed out\n${stderr}`));
    }, PROCESS_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** `certified ARGS` under `rt`; its stdout, or throws with its stderr when it does not exit 0. */
async function certified(rt: Runtime, args: readonly string[], input = ''): Promise<string> {
  const r = await run(rt, 'certified', args, input);
  if (r.code !== 0)
    throw new Error(`${rt.name}: certified ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

interface Server {
  url: string;
  /** The whole "Serving … at URL as …" line. */
  banner: string;
  child: ChildProcess;
  stderr(): string;
  /** Everything on stdout so far: the banner, then the example's JSON access-log lines. */
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `certified serve EXAMPLE https://127.0.0.1:0 --config DIR` under `rt`, once it says it listens. */
function serve(rt: Runtime, config: string): Promise<Server> {
  const child = launch(
    rt,
    [PROGRAMS.certified, 'serve', EXAMPLE, 'https://127.0.0.1:0', '--config', config],
    'ignore',
  );
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('close', (code, signal) => done({ code, signal })),
  );
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(
        new Error(`${rt.name} serve: no "Serving" line after ${PROCESS_TIMEOUT_MS} ms\n${stderr}`),
      );
    }, PROCESS_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /^Serving .+ at (https:\/\/127\.0\.0\.1:\d+) as .+$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      ready({
        url: m[1]!,
        banner: m[0],
        child,
        stderr: () => stderr,
        stdout: () => stdout,
        exited,
      });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`${rt.name} serve exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
}

/** Polls `read()` until `found` holds (a log line may trail the client's exit a little). */
async function eventually<T>(read: () => T, found: (v: T) => boolean, ms = 5_000): Promise<T> {
  const until = Date.now() + ms;
  let v = read();
  while (!found(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    v = read();
  }
  return v;
}

/** The JSON objects among a process's stderr lines. */
const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** curl with a client certificate; the body and status (000 when the connection failed). */
function curl(url: string, cacert: string, dir: string): Result & { status: string; body: string } {
  const r = spawnSync(
    'curl',
    [
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      cacert,
      '--cert',
      join(dir, 'id.crt'),
      '--key',
      join(dir, 'id.key'),
      '-w',
      '\n%{http_code}',
      url,
    ],
    { encoding: 'utf8', timeout: PROCESS_TIMEOUT_MS },
  );
  const lines = r.stdout.split('\n');
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    status: lines.at(-1)!,
    body: lines.slice(0, -1).join('\n'),
  };
}

// --- the build ---

/** Newest mtime of what the bundles are built from: the CLI, and the workspace sources it inlines. */
function newestSource(): number {
  let newest = statSync(join(CLI, 'build.mjs')).mtimeMs;
  for (const dir of ['apps/cli/src', 'packages/core/src', 'packages/node/src'].map((d) =>
    join(ROOT, d),
  ))
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }))
      if (/\.[cm]?[jt]s$/.test(file) && !/\.test(-d)?\.ts$/.test(file))
        newest = Math.max(newest, statSync(join(dir, file)).mtimeMs);
  return newest;
}

function buildIfStale(): void {
  const built = Object.values(PROGRAMS).map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0));
  if (Math.min(...built) > newestSource()) return;
  const r = spawnSync(process.execPath, ['build.mjs'], {
    cwd: CLI,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`apps/cli: node build.mjs failed:\n${r.stderr}${r.stdout}`);
}

// --- the shared identity directories ---

const dirs = {
  ada: '',
  svc: '',
  carol: '',
  bob: '',
  stranger: '',
  dave: '',
};
type Who = keyof typeof dirs;
const SUBJECTS: Record<Who, string> = {
  ada: 'CN=Ada Lovelace',
  svc: 'OU=Notes API,O=Example Org',
  carol: 'CN=Carol Introducer',
  bob: 'CN=Bob Builder',
  stranger: 'CN=Stranger',
  dave: 'CN=Dave Introduced',
};
const madeBy = {} as Record<Who, RuntimeName>;
/** Carol's signer name as Bob's add-intro saved it (id/<name>.crt): what Bob's service file needs. */
let carolSigner = '';

beforeAll(async () => {
  buildIfStale();
  work = mkdtempSync(join(tmpdir(), 'certified-e2e-'));
  for (const who of Object.keys(dirs) as Who[]) dirs[who] = join(work, who);

  // Node: the person and the service; the service trusts everyone Ada's CA signs.
  const node = maker('node');
  await certified(node, [
    'init',
    'Ada Lovelace',
    '--email',
    'ada@example.org',
    '--config',
    dirs.ada,
  ]);
  await certified(node, [
    'init',
    '--org',
    'Example Org',
    '--unit',
    'Notes API',
    '--host',
    '127.0.0.1',
    '--config',
    dirs.svc,
  ]);
  await certified(node, ['add-client', 'ada', join(dirs.ada, 'CA.crt'), '--config', dirs.svc]);
  madeBy.ada = madeBy.svc = node.name;

  // Deno: Carol, whose CA the service also trusts, introduces Bob (get-ident | introduce -).
  const deno = maker('deno');
  await certified(deno, [
    'init',
    'Carol Introducer',
    '--email',
    'carol@example.org',
    '--config',
    dirs.carol,
  ]);
  await certified(deno, [
    'init',
    'Bob Builder',
    '--email',
    'bob@example.org',
    '--config',
    dirs.bob,
  ]);
  await certified(deno, ['add-client', 'carol', join(dirs.carol, 'CA.crt'), '--config', dirs.svc]);
  const bobIdent = await certified(deno, ['get-ident', '--config', dirs.bob]);
  const letter = await certified(deno, ['introduce', '-', '--config', dirs.carol], bobIdent);
  writeFileSync(join(work, 'carol-bob-letter.json'), letter);
  await certified(deno, ['add-intro', join(work, 'carol-bob-letter.json'), '--config', dirs.bob]);
  madeBy.carol = madeBy.bob = deno.name;
  carolSigner = readdirSync(join(dirs.bob, 'id'))[0]!.replace(/\.crt$/, '');

  // Bun: a stranger nobody trusts, and Dave, whom the service will introduce itself.
  const bun = maker('bun');
  await certified(bun, [
    'init',
    'Stranger',
    '--email',
    'who@example.org',
    '--config',
    dirs.stranger,
  ]);
  await certified(bun, [
    'init',
    'Dave Introduced',
    '--email',
    'dave@example.org',
    '--config',
    dirs.dave,
  ]);
  writeFileSync(
    join(work, 'signer.json'),
    await certified(bun, ['get-signer', '--config', dirs.svc]),
  );
  madeBy.stranger = madeBy.dave = bun.name;
}, 60_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (work) rmSync(work, { recursive: true, force: true });
});

it('made the shared directories with all three runtimes', () => {
  expect(carolSigner).toBe('P=Signing Certificate,CN=Carol Introducer');
  expect(JSON.parse(readFileSync(join(work, 'signer.json'), 'utf8'))).toHaveProperty('ca_cert');
  const missing = RUNTIMES.filter((r) => !r.version).map((r) => r.name);
  if (isCI) expect(missing, 'CI=true: every runtime must be installed').toEqual([]);
  expect(new Set(Object.values(madeBy))).toEqual(
    new Set(RUNTIMES.filter((r) => r.version).map((r) => r.name)),
  );
});

// --- the how-to, once per runtime ---

describe.each(RUNTIMES)('the how-to on $name', (rt) => {
  let server: Server | undefined;
  const url = () => {
    if (!server) throw new Error('serve did not start');
    return server.url;
  };
  const message = (who: Who, args: readonly string[]) =>
    run(rt, 'message', [...args, '--config', dirs[who]]);
  const body = (r: Result) => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as unknown;
  };

  afterAll(() => server?.child.kill('SIGKILL'));

  it.skipIf(!runnable(rt))(
    `${rt.name} reads every directory, whichever runtime made it (show --json, check)`,
    async () => {
      await Promise.all(
        (Object.keys(dirs) as Who[]).map(async (who) => {
          const shown = JSON.parse(
            await certified(rt, ['show', '--json', '--config', dirs[who]]),
          ) as { identity: { subject: string } };
          expect(shown.identity.subject, `${who} (made by ${madeBy[who]})`).toBe(SUBJECTS[who]);
          const checked = JSON.parse(
            await certified(rt, ['check', '--json', '--config', dirs[who]]),
          ) as { ok: boolean; problems: unknown[] };
          expect(checked, `${who} (made by ${madeBy[who]})`).toMatchObject({ ok: true });
        }),
      );
      // Bob reaches the service only through Carol: the service trusts Ada, Carol and itself.
      const svc = JSON.parse(await certified(rt, ['show', '--json', '--config', dirs.svc])) as {
        knownClients: { file: string }[];
      };
      expect(svc.knownClients.map((c) => c.file).sort()).toEqual([
        'known_clients/ada.crt',
        'known_clients/carol.crt',
        'known_clients/self.crt',
      ]);
    },
    T,
  );

  it.skipIf(!runnable(rt))(
    `serves the example API under ${rt.name} on https://127.0.0.1:0`,
    async () => {
      server = await serve(rt, dirs.svc);
      expect(server.banner).toMatch(
        new RegExp(`^Serving .*notes-api\\.mjs at https://127\\.0\\.0\\.1:\\d+ as ${SUBJECTS.svc}`),
      );
      expect(Number(new URL(server.url).port)).toBeGreaterThan(0);
    },
    T,
  );

  it.skipIf(!runnable(rt))(
    `Ada adds the service from its get-signer JSON (written by ${nextAfter(rt).name})`,
    async () => {
      const other = nextAfter(rt);
      await certified(other, [
        'add-service',
        'notes',
        join(work, 'signer.json'),
        '--url',
        url(),
        '--overwrite',
        '--config',
        dirs.ada,
      ]);
      const yaml = readFileSync(join(dirs.ada, 'known_servers/notes.yaml'), 'utf8');
      expect(yaml).toContain(`url: ${url()}`);
    },
    T,
  );

  it.skipIf(!runnable(rt))(
    'message GET https://notes/ greets Ada by the CN on her certificate',
    async () => {
      expect(body(await message('ada', ['https://notes/']))).toEqual({
        hello: 'Ada Lovelace',
        notes: 0,
      });
    },
    T,
  );

  it.skipIf(!runnable(rt))(
    `message https://notes/notes '{"message":"hello"}' POSTs a note`,
    async () => {
      const note = { id: 1, by: 'Ada Lovelace', message: 'hello' };
      expect(body(await message('ada', ['https://notes/notes', '{"message":"hello"}']))).toEqual(
        note,
      );
      const listed = await message('ada', [
        'https://notes/notes',
        '-X',
        'GET',
        '-H',
        'Accept: application/json',
        '--pp',
      ]);
      expect(body(listed)).toEqual([note]);
      expect(listed.stdout).toContain('\n  ');
      expect(body(await message('ada', ['https://notes/']))).toEqual({
        hello: 'Ada Lovelace',
        notes: 1,
      });
    },
    T,
  );

  it.skipIf(!runnable(rt))(
    'Bob, introduced by Carol whom the service trusts, gets in without being added to it',
    async () => {
      await certified(rt, [
        'add-service',
        'notes',
        join(work, 'signer.json'),
        '--url',
        url(),
        '--auth',
        carolSigner,
        '--overwrite',
        '--config',
        dirs.bob,
      ]);
      expect(body(await message('bob', ['https://notes/']))).toEqual({
        hello: 'Bob Builder',
        notes: 1,
      });
    },
    T,
  );

  it.skipIf(!runnable(rt))(
    "Dave, introduced by the service with the service in the letter (the how-to's Method 2), gets in",
    async () => {
      const ident = await certified(rt, ['get-ident', '--config', dirs.dave]);
      const letter = await certified(
        rt,
        ['introduce', '-', '--service', `notes=${url()}`, '--config', dirs.svc],
        ident,
      );
      expect(JSON.parse(letter)).toMatchObject({ services: { notes: url() } });
      await certified(rt, ['add-intro', '-', '--overwrite', '--config', dirs.dave], letter);
      expect(body(await message('dave', ['https://notes/']))).toEqual({
        hello: 'Dave Introduced',
        notes: 1,
      });
    },
    T,
  );

  it.skipIf(!runnable(rt))(
    'a stranger is refused: exit 1, one message: ERR_NET_… line, a refused line from serve',
    async () => {
      await certified(rt, [
        'add-service',
        'notes',
        join(work, 'signer.json'),
        '--url',
        url(),
        '--overwrite',
        '--config',
        dirs.stranger,
      ]);
      const r = await message('stranger', ['https://notes/']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^message: ERR_NET_(TLS|PROTOCOL): \S/);
      const isRefusal = (l: Record<string, unknown>) =>
        l['type'] === 'refused' && l['subject'] === SUBJECTS.stranger;
      const logged = await eventually(
        () => jsonLines(server!.stderr()),
        (ls) => ls.some(isRefusal),
      );
      expect(logged.find(isRefusal), server!.stderr()).toMatchObject({
        type: 'refused',
        code: expect.stringMatching(/^ERR_/),
        subject: SUBJECTS.stranger,
      });
    },
    T,
  );

  it.skipIf(!runnable(rt) || (!curlVersion && !isCI))(
    "curl --cacert svc/CA.crt with Ada's id.crt/id.key gets 200; with the stranger's it fails",
    async () => {
      if (!curlVersion) throw new Error('curl is not installed');
      const cacert = join(dirs.svc, 'CA.crt');
      const ada = curl(`${url()}/`, cacert, dirs.ada);
      expect(ada.status, ada.stderr).toBe('200');
      expect(JSON.parse(ada.body)).toEqual({ hello: 'Ada Lovelace', notes: 1 });
      // The example's access log (stdout): ORNL's rich-log fields, with the caller's name.
      const isAdaByCurl = (l: Record<string, unknown>) =>
        l['type'] === 'access' &&
        String(l['user-agent']).startsWith('curl/') &&
        (l['remote_user'] as Record<string, string> | null)?.['commonName'] === 'Ada Lovelace';
      const access = await eventually(
        () => jsonLines(server!.stdout()),
        (ls) => ls.some(isAdaByCurl),
      );
      expect(access.find(isAdaByCurl), server!.stdout()).toMatchObject({
        name: 'certified.access',
        method: 'GET',
        path: '/',
        statusCode: 200,
        remote_addr: '127.0.0.1',
      });
      const stranger = curl(`${url()}/`, cacert, dirs.stranger);
      expect(stranger.code, stranger.stdout).not.toBe(0);
      expect(stranger.status).not.toBe('200');
    },
    T,
  );

  it.skipIf(!runnable(rt) || (!curlVersion && !isCI))(
    'curl --http2 and --http1.1 both get 200 from the same server',
    () => {
      if (!curlVersion) throw new Error('curl is not installed');
      for (const [flag, version] of [
        ['--http2', '2'],
        ['--http1.1', '1.1'],
      ] as const) {
        const r = spawnSync(
          'curl',
          [
            '-sS',
            flag,
            '--max-time',
            '10',
            '--cacert',
            join(dirs.svc, 'CA.crt'),
            '--cert',
            join(dirs.ada, 'id.crt'),
            '--key',
            join(dirs.ada, 'id.key'),
            '-o',
            '/dev/null',
            '-w',
            '%{http_code} %{http_version}',
            `${url()}/`,
          ],
          { encoding: 'utf8', timeout: PROCESS_TIMEOUT_MS },
        );
        expect(r.stdout, r.stderr).toBe(`200 ${version}`);
      }
    },
    T,
  );

  it.skipIf(!runnable(rt) || (!curlVersion && !isCI))(
    "removing Ada's CA from known_clients refuses her without a restart; putting it back lets her in",
    async () => {
      if (!curlVersion) throw new Error('curl is not installed');
      const cacert = join(dirs.svc, 'CA.crt');
      const file = join(dirs.svc, 'known_clients', 'ada.crt');
      const saved = readFileSync(file);
      const reloads = () =>
        jsonLines(server!.stderr()).filter((l) => l['type'] === 'reloaded').length;
      const before = reloads();
      rmSync(file);
      try {
        await eventually(reloads, (n) => n > before);
        const refused = curl(`${url()}/`, cacert, dirs.ada);
        expect(refused.code, refused.stdout).not.toBe(0);
        expect(refused.status).not.toBe('200');
      } finally {
        writeFileSync(file, saved);
      }
      await eventually(reloads, (n) => n > before + 1);
      const back = curl(`${url()}/`, cacert, dirs.ada);
      expect(back.status, back.stderr).toBe('200');
    },
    T,
  );

  it.skipIf(!runnable(rt))(
    'serve stops on SIGTERM with exit 0',
    async () => {
      if (!server) throw new Error('serve did not start');
      server.child.kill('SIGTERM');
      const { code, signal } = await server.exited;
      expect({ code, signal }, server.stderr()).toEqual({ code: 0, signal: null });
      server = undefined;
    },
    T,
  );
});

// --- Deno without permissions ---

describe.skipIf(!runnable(byName('deno')))('Deno with too few permissions', () => {
  // The flags apps/cli/README.md lists, one missing at a time: each refusal is one line naming it.
  // No --config, so the directory comes from the environment and the home directory, as by default.
  const flags = ['--allow-sys', '--allow-env', '--allow-read', '--allow-write'];
  const homeEnv: NodeJS.ProcessEnv = { ...env, HOME: join(work, 'deno-permissions-home') };
  delete homeEnv.XDG_CONFIG_HOME;
  delete homeEnv.VIRTUAL_ENV;
  it.each(flags.slice(0, 3))('without %s: one line that names it, no stack', (missing) => {
    const deno = byName('deno');
    const r = spawnSync(
      deno.bin,
      ['run', ...flags.filter((f) => f !== missing), PROGRAMS.certified, 'show'],
      { cwd: work, env: homeEnv, encoding: 'utf8', timeout: PROCESS_TIMEOUT_MS },
    );
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^certified: ERR_[A-Z_]+: .*${missing}`));
    expect(r.stderr).not.toMatch(/^ {4}at /m);
  });

  it('with --config, show needs --allow-read only', () => {
    const r = spawnSync(
      byName('deno').bin,
      ['run', '--allow-read', PROGRAMS.certified, 'show', '--config', join(work, 'deno-ro')],
      { cwd: work, env: homeEnv, encoding: 'utf8', timeout: PROCESS_TIMEOUT_MS },
    );
    // An empty directory: the command got as far as reading it, and says so in one line.
    expect(r.stderr).toMatch(/^certified: ERR_IDENTITY_NOT_FOUND: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

// --- the cold-start bench runs ---

describe('apps/cli/bench/cold-start.mjs', () => {
  it(
    'prints a row per runtime with --runs 1',
    async () => {
      const r = await run(byName('node'), BENCH, ['--runs', '1', '--warmup', '0']);
      expect(r.code, r.stderr).toBe(0);
      for (const rt of RUNTIMES) {
        const row = r.stdout.split('\n').find((l) => l.startsWith(`${rt.name} `));
        expect(row, r.stdout).toBeDefined();
        // runtime, version, then bare/--version/show medians and p90s and the two ratios; or a
        // SKIPPED row when the bench found no such runtime either (it also looks on PATH).
        const numbers = /^\w+\s+\S+(\s+\d+\.\d){6}\s+\d+\.\d\dx\s+\d+\.\d\dx$/;
        if (rt.version) expect(row).toMatch(numbers);
        else expect(row).toMatch(new RegExp(`${numbers.source}|SKIPPED`));
      }
    },
    T,
  );
});
