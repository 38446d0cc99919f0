/**
 * @module test/docs/readme.test — every code block of every README (and GRPC.md) is run as a reader
 * would run it, or is visibly an excerpt of a file that exists; the rules are in ./blocks.ts.
 *
 * Each Markdown file is one reader: a fresh directory whose `node_modules` and `apps` are this
 * checkout's (so `npx certified`, `apps/cli/examples/…` and `import '@certified/core'` resolve as in a
 * checkout's root), a fresh HOME, the blocks run in order, transcripts checked last. The CLI's
 * README is read three times: with `certified`/`message` as Node's launchers (what `npx` runs), then
 * as the bundle under Deno (with the permission flags the README documents, not `-A`) and under Bun.
 * Ports 8443, 9443 and 8080 in a block become free loopback ports, so runs never collide.
 *
 * A missing deno or bun skips that reading loudly here and fails under CI=true.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '@certified/testing/net';
import { matchesTranscript, readBlocks, valueImports, type Block } from './blocks.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');
const isCI = process.env.CI === 'true';
const STEP_TIMEOUT_MS = 60_000;

/** Every README under the root, packages/* and apps/*, and the other guides beside them. */
function docs(): string[] {
  const out = [join(ROOT, 'README.md')];
  for (const group of ['packages', 'apps'])
    for (const d of readdirSync(join(ROOT, group), { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      const dir = join(ROOT, group, d.name);
      for (const f of readdirSync(dir))
        if (f.endsWith('.md') && f !== 'CHANGELOG.md') out.push(join(dir, f));
    }
  return out;
}

const where = (file: string, b: Block): string => `${relative(ROOT, file)}:${b.line}`;

describe('README blocks are all accounted for', () => {
  for (const file of docs())
    it(relative(ROOT, file), async () => {
      for (const b of readBlocks(file)) {
        if (b.needs) continue; // reported (and skipped) when the file is read
        for (const f of b.runBy ?? [])
          expect(existsSync(join(ROOT, f)), `${where(file, b)}: run by ${f}`).toBe(true);
        expect(
          b.kind,
          `${where(file, b)}: a \`${b.lang}\` block that is neither run nor an excerpt`,
        ).not.toBe('unmarked');
        if (b.kind !== 'excerpt') continue;
        expect(existsSync(join(ROOT, b.excerptOf!)), `${where(file, b)}: ${b.excerptOf}`).toBe(
          true,
        );
        for (const { from, names } of valueImports(b.body)) {
          if (from.startsWith('node:') || from === '@grpc/grpc-js') continue;
          const mod = (await import(from)) as Record<string, unknown>;
          for (const name of names)
            expect(name in mod, `${where(file, b)}: '${from}' has no export ${name}`).toBe(true);
        }
      }
    });
});

// --- running them ---

type RuntimeName = 'node' | 'deno' | 'bun';
const has = (bin: string): boolean => spawnSync(bin, ['--version']).status === 0;
const DENO_FLAGS = '--allow-sys --allow-env --allow-read --allow-write --allow-net';

interface Reader {
  dir: string;
  env: NodeJS.ProcessEnv;
  ports: Map<string, string>;
  background: ChildProcess[];
  /** What each command line run so far printed: a transcript of one of them is checked against it. */
  printed: Map<string, string>;
}

async function newReader(runtime: RuntimeName): Promise<Reader> {
  const dir = mkdtempSync(join(tmpdir(), `certified-docs-${runtime}-`));
  const home = join(dir, 'home');
  const work = join(dir, 'work');
  mkdirSync(home);
  mkdirSync(work);
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  symlinkSync(join(ROOT, 'apps'), join(work, 'apps'));
  writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
  const path = [BIN, process.env.PATH];
  if (runtime !== 'node') {
    // `certified` and `message` as the bundle on this runtime, ahead of Node's launchers.
    const wrappers = join(dir, 'bin');
    mkdirSync(wrappers);
    const run = runtime === 'deno' ? `${join(BIN, 'deno')} run ${DENO_FLAGS}` : join(BIN, 'bun');
    for (const p of ['certified', 'message'])
      writeFileSync(
        join(wrappers, p),
        `#!/bin/sh\nexec ${run} ${join(ROOT, 'apps/cli/dist', `${p}.mjs`)} "$@"\n`,
        { mode: 0o755 },
      );
    path.unshift(wrappers);
  }
  const ports = new Map<string, string>();
  for (const p of ['8443', '8080', '9443']) ports.set(p, String(await freePort()));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    PATH: path.join(':'),
    NO_COLOR: '1',
  };
  delete env.CERTIFIED_CONFIG;
  delete env.VIRTUAL_ENV;
  return { dir: work, env, ports, background: [], printed: new Map() };
}

const withPorts = (r: Reader, text: string): string =>
  text.replace(/\b(8443|8080|9443)\b/g, (p) => r.ports.get(p)!);

/** The block's logical lines: continuations joined, comments and blank lines dropped. */
const commandLines = (body: string): string[] =>
  body
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

/** `npm i a b` in a checkout: every package it names is in this workspace's node_modules. */
function checkInstall(line: string, at: string): void {
  const pkgs = line
    .replace(/#.*/, '')
    .split(/\s+/)
    .slice(2)
    .filter((a) => !a.startsWith('-'));
  for (const p of pkgs) expect(existsSync(join(ROOT, 'node_modules', p)), `${at}: ${p}`).toBe(true);
}

function runLine(r: Reader, line: string, at: string, status = 0): string {
  // The quick start's own commands run the suite this test is part of: never from here.
  if (/^npm (ci|test|start)\b/.test(line))
    throw new Error(`${at}: \`${line}\` needs a run-by marker`);
  const res = spawnSync('bash', ['-o', 'pipefail', '-c', line], {
    cwd: r.dir,
    env: r.env,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
  });
  const said = `${res.stdout}${res.stderr}`;
  expect(res.status, `${at}: \`${line}\` exited ${res.status}:\n${said}`).toBe(status);
  expect(said, `${at}: \`${line}\` printed a stack trace`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  r.printed.set(line, said);
  return said;
}

/** Start `argv` in the background; resolve once `until` appears on its output. */
function startBackground(r: Reader, argv: string[], until: string, at: string): Promise<void> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: r.dir, env: r.env, stdio: 'pipe' });
  r.background.push(child);
  let said = '';
  return new Promise((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`${at}: no "${until}" within ${STEP_TIMEOUT_MS} ms:\n${said}`)),
      STEP_TIMEOUT_MS,
    );
    const hear = (chunk: Buffer): void => {
      said += chunk.toString();
      if (said.includes(until)) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout.on('data', hear);
    child.stderr.on('data', hear);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${at}: exited ${code} before "${until}":\n${said}`));
    });
  });
}

async function runProgram(r: Reader, file: string, b: Block, n: number): Promise<void> {
  const at = where(file, b);
  const script = join(r.dir, `block-${n}.${b.lang === 'ts' ? 'ts' : 'mjs'}`);
  writeFileSync(script, withPorts(r, b.body));
  const argv = [process.execPath, '--import', 'tsx', script];
  if (b.backgroundUntil) return startBackground(r, argv, b.backgroundUntil, at);
  const res = spawnSync(argv[0]!, argv.slice(1), {
    cwd: r.dir,
    env: r.env,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
  });
  expect(res.status, `${at}: the program exited ${res.status}:\n${res.stdout}${res.stderr}`).toBe(
    0,
  );
}

async function read(file: string, runtime: RuntimeName): Promise<void> {
  const r = await newReader(runtime);
  try {
    const blocks = readBlocks(file);
    let n = 0;
    for (const b of blocks) {
      n++;
      const at = where(file, b);
      if (b.needs) {
        console.warn(
          `\n!!! docs: ${at} needs ${b.needs}, which this machine cannot run: SKIPPED !!!\n`,
        );
        continue;
      }
      if (b.kind === 'program') await runProgram(r, file, b, n);
      if (b.kind !== 'commands') continue;
      for (const line of commandLines(withPorts(r, b.body))) {
        if (/^npm (i|install) /.test(line)) checkInstall(line, at);
        else if (b.backgroundUntil)
          await startBackground(r, ['bash', '-c', `exec ${line}`], b.backgroundUntil, at);
        else runLine(r, line, at);
      }
    }
    for (const b of blocks.filter((x) => x.kind === 'transcript')) {
      const [cmd, ...expected] = withPorts(r, b.body).split('\n');
      const line = cmd!.slice(2);
      const said =
        b.exits === undefined
          ? (r.printed.get(line) ?? runLine(r, line, where(file, b)))
          : runLine(r, line, where(file, b), b.exits);
      expect(
        matchesTranscript(expected.join('\n'), said),
        `${where(file, b)}: printed\n${said}`,
      ).toBe(true);
    }
  } finally {
    for (const c of r.background) c.kill('SIGTERM');
    await Promise.all(
      r.background.map((c) => c.exitCode !== null || new Promise((done) => c.once('exit', done))),
    );
    rmSync(join(r.dir, '..'), { recursive: true, force: true });
  }
}

const runnable = docs().filter((f) =>
  readBlocks(f).some((b) => ['commands', 'program', 'transcript'].includes(b.kind)),
);

describe('README blocks run as written', () => {
  for (const file of runnable) {
    const cli = relative(ROOT, file) === 'apps/cli/README.md';
    for (const runtime of cli ? (['node', 'deno', 'bun'] as const) : (['node'] as const)) {
      const bin = join(BIN, runtime);
      const missing = runtime !== 'node' && !has(bin);
      if (missing)
        console.warn(
          `\n!!! docs: ${bin} is missing: SKIPPING ${relative(ROOT, file)} under ${runtime}${isCI ? ' (CI=true: FAILING instead)' : ''} !!!\n`,
        );
      it.skipIf(missing && !isCI)(
        `${relative(ROOT, file)}${cli ? ` (${runtime})` : ''}`,
        () => read(file, runtime),
        180_000,
      );
    }
  }
});
