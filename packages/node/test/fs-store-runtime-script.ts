/**
 * @module test/fs-store-runtime-script — bundled by fs-store-runtimes.test.ts and run on Node, Deno and
 * Bun: `<runtime> script.mjs <dir>`. Exercises createFileStore against the runtime's own node:fs (an
 * init-like commit, modes, refusals, rollbacks after injected and real failures, reads) and prints one
 * JSON line `{ runtime, checks: [{ name, ok, detail? }] }` (a skipped check is ok with `detail: 'skip: …'`); exits 1 if any check failed. It leaves the
 * final identity directory in `<dir>/id` for the test to inspect from Node.
 */
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { StoreError } from '@certified/core';
import type { StoreChange } from '@certified/identity';
import { createFileStore } from '../src/index.js';
import { faultyFs, snapshot, strayInternalFiles } from './fs-helpers.js';

interface Check {
  name: string;
  ok: boolean;
  /** Why it failed, or why it was skipped. */
  detail?: string;
}

const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
const runtime = g.Deno
  ? `deno ${g.Deno.version.deno}`
  : g.Bun
    ? `bun ${g.Bun.version}`
    : `node ${process.version}`;
const checks: Check[] = [];
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

async function check(name: string, run: () => Promise<string | true>): Promise<void> {
  try {
    const result = await run();
    if (result === true) checks.push({ name, ok: true });
    else if (result.startsWith('skip: ')) checks.push({ name, ok: true, detail: result });
    else checks.push({ name, ok: false, detail: result });
  } catch (e) {
    checks.push({
      name,
      ok: false,
      detail: `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
    });
  }
}

/** Runs `commit`, expecting a StoreError with `code` and the directory unchanged. */
async function expectRefused(
  dir: string,
  code: string,
  commit: () => Promise<void>,
): Promise<string | true> {
  const before = await snapshot(dir);
  const outcome = await commit().then(
    () => 'committed',
    (e: unknown) => (e instanceof StoreError ? e.code : `non-StoreError ${String(e)}`),
  );
  if (outcome !== code) return `expected ${code}, got ${outcome}`;
  const after = await snapshot(dir);
  if (strayInternalFiles(after).length > 0)
    return `stray files ${strayInternalFiles(after).join(', ')}`;
  return same(after, before) ? true : `directory changed: ${JSON.stringify({ before, after })}`;
}

const base = process.argv[2];
if (base === undefined) throw new Error('usage: script.mjs <dir>');
const dir = path.join(base, 'id');
const store = createFileStore(dir);

const init: StoreChange[] = [
  { op: 'write', path: 'CA.key', data: bytes('ca key'), mode: 0o600 },
  { op: 'write', path: 'CA.crt', data: bytes('ca cert') },
  { op: 'write', path: 'id.key', data: bytes('id key'), mode: 0o600 },
  { op: 'write', path: 'id.crt', data: bytes('id cert') },
  { op: 'write', path: 'known_servers/api.yaml', data: bytes('url: https://api\n') },
  { op: 'write', path: 'known_clients/bob.crt', data: bytes('bob') },
];

await check('init-like commit; read, list, stat', async () => {
  await store.commit(init);
  const got = {
    key: text(await store.read('id.key')),
    missing: await store.read('nope'),
    root: await store.list(''),
    servers: await store.list('known_servers'),
    absent: await store.list('known_clients/none'),
    stats: [await store.stat(''), await store.stat('CA.key'), await store.stat('CA.crt')],
  };
  const want = {
    key: 'id key',
    missing: undefined,
    root: ['CA.crt', 'CA.key', 'id.crt', 'id.key', 'known_clients', 'known_servers'],
    servers: ['api.yaml'],
    absent: [],
    stats: [
      { kind: 'directory', mode: 0o700 },
      { kind: 'file', mode: 0o600 },
      { kind: 'file', mode: 0o644 },
    ],
  };
  return same(got, want) ? true : JSON.stringify(got);
});

await check('exact modes despite the umask', async () => {
  await store.commit([{ op: 'write', path: 'shared', data: bytes('x'), mode: 0o666 }]);
  const mode = (await store.stat('shared'))?.mode;
  await store.commit([{ op: 'remove', path: 'shared' }]);
  return mode === 0o666 ? true : `mode ${mode?.toString(8)}`;
});

await check('overwrite refusal → ERR_STORE_EXISTS, unchanged', () =>
  expectRefused(dir, 'ERR_STORE_EXISTS', () =>
    store.commit([
      { op: 'write', path: 'new.crt', data: bytes('new') },
      { op: 'write', path: 'id.key', data: bytes('other') },
    ]),
  ),
);

const big: StoreChange[] = [
  { op: 'write', path: 'id.key', data: bytes('new key'), mode: 0o600, overwrite: true },
  { op: 'write', path: 'id.crt', data: bytes('new cert'), overwrite: true },
  { op: 'write', path: 'known_clients/ada.crt', data: bytes('ada') },
  { op: 'remove', path: 'known_servers' },
  { op: 'write', path: 'fresh/dir/file', data: bytes('deep') },
];

await check('injected ENOSPC on the 3rd write → rolled back', () =>
  expectRefused(dir, 'ERR_STORE_NO_SPACE', () =>
    createFileStore(dir, { fs: faultyFs([{ op: 'write', nth: 3, code: 'ENOSPC' }]).fs }).commit(
      big,
    ),
  ),
);

await check('injected rename failure in the apply phase → rolled back', () =>
  expectRefused(dir, 'ERR_STORE_IO', () =>
    createFileStore(dir, { fs: faultyFs([{ op: 'rename', nth: 4, code: 'EIO' }]).fs }).commit(big),
  ),
);

await check("real ENOTDIR from the runtime's fs → ERR_STORE_NOT_DIRECTORY, rolled back", () =>
  expectRefused(dir, 'ERR_STORE_NOT_DIRECTORY', () =>
    store.commit([
      { op: 'write', path: 'a.crt', data: bytes('a') },
      { op: 'write', path: 'CA.crt/below', data: bytes('x') },
    ]),
  ),
);

await check("real ENOTDIR/EISDIR from the runtime's fs on list and read", async () => {
  const codes = await Promise.all([
    store.list('CA.crt').then(
      () => 'listed',
      (e: StoreError) => e.code,
    ),
    store.read('known_servers').then(
      () => 'read',
      (e: StoreError) => e.code,
    ),
    store.read('CA.crt/below').then((b) => (b === undefined ? 'undefined' : 'bytes')),
  ]);
  return same(codes, ['ERR_STORE_NOT_DIRECTORY', 'ERR_STORE_NOT_DIRECTORY', 'undefined'])
    ? true
    : JSON.stringify(codes);
});

await check("real EACCES from the runtime's fs → ERR_STORE_PERMISSION, rolled back", async () => {
  // Root ignores permission bits, so only an unprivileged run can see a real EACCES.
  if (process.getuid?.() === 0) return 'skip: running as root';
  await nodeFs.chmod(dir, 0o500);
  try {
    return await expectRefused(dir, 'ERR_STORE_PERMISSION', () =>
      store.commit([
        { op: 'write', path: 'id.crt', data: bytes('x'), overwrite: true },
        { op: 'write', path: 'z.crt', data: bytes('z') },
      ]),
    );
  } finally {
    await nodeFs.chmod(dir, 0o700);
  }
});

await check('temp files hidden mid-commit', async () => {
  let listed: string[] = [];
  let raw: string[] = [];
  const { fs } = faultyFs([], async (op, n) => {
    if (op === 'rename' && n === 1) {
      listed = await store.list('');
      raw = await nodeFs.readdir(dir);
    }
  });
  await createFileStore(dir, { fs }).commit([{ op: 'write', path: 'mid.crt', data: bytes('m') }]);
  await store.commit([{ op: 'remove', path: 'mid.crt' }]);
  const temps = raw.filter((n) => n.startsWith('.mid.crt.certified-tmp-'));
  return temps.length === 1 && !listed.some((n) => n.startsWith('.'))
    ? true
    : JSON.stringify({ raw, listed });
});

await check('big commit succeeds, then remove a directory and a file', async () => {
  await store.commit(big);
  await store.commit([
    { op: 'remove', path: 'fresh' },
    { op: 'remove', path: 'CA.key' },
  ]);
  const got = {
    root: await store.list(''),
    key: text(await store.read('id.key')),
    keyMode: (await store.stat('id.key'))?.mode,
    stray: strayInternalFiles(await snapshot(dir)),
  };
  const want = {
    root: ['CA.crt', 'id.crt', 'id.key', 'known_clients'],
    key: 'new key',
    keyMode: 0o600,
    stray: [],
  };
  return same(got, want) ? true : JSON.stringify(got);
});

console.log(JSON.stringify({ runtime, checks }));
if (checks.some((c) => !c.ok)) process.exitCode = 1;
