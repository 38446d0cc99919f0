/**
 * Run under Node and Deno by deno-store.test.ts: the same file-store operations through node:fs (Node)
 * and through the CLI's Deno adapter (runtime/deno.ts), printing what each returned or threw as JSON.
 */
import { createFileStore } from '@certified/node/store';
import { denoFs, type DenoApi } from '../src/runtime/deno.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : null);

export async function main([dir]: string[]): Promise<number> {
  const deno = (globalThis as { Deno?: DenoApi }).Deno;
  const store = createFileStore(dir!, deno ? { fs: denoFs(deno) } : {});
  const out: Record<string, unknown> = {};
  const attempt = async (name: string, f: () => Promise<unknown>) => {
    try {
      out[name] = (await f()) ?? null;
    } catch (e) {
      out[name] = { error: (e as { code?: string }).code ?? String(e) };
    }
  };
  await attempt('commit', () =>
    store.commit([
      { op: 'write', path: 'id.key', data: bytes('secret'), mode: 0o600 },
      { op: 'write', path: 'known_clients/ada.crt', data: bytes('ada') },
    ]),
  );
  await attempt('read', async () => text(await store.read('id.key')));
  await attempt('readMissing', async () => text(await store.read('nothing.crt')));
  await attempt('stat', () => store.stat('id.key'));
  await attempt('statDir', () => store.stat('known_clients'));
  await attempt('list', () => store.list('known_clients'));
  // All or nothing: the second write fails (exists), so the first is undone.
  await attempt('exists', () =>
    store.commit([
      { op: 'write', path: 'known_clients/bob.crt', data: bytes('bob') },
      { op: 'write', path: 'id.key', data: bytes('other') },
    ]),
  );
  await attempt('afterExists', () => store.list('known_clients'));
  await attempt('notDirectory', () =>
    store.commit([{ op: 'write', path: 'id.key/inner', data: bytes('x') }]),
  );
  await attempt('overwrite', () =>
    store.commit([
      { op: 'write', path: 'id.key', data: bytes('new'), overwrite: true, mode: 0o600 },
    ]),
  );
  await attempt('readAfterOverwrite', async () => text(await store.read('id.key')));
  await attempt('remove', () => store.commit([{ op: 'remove', path: 'known_clients' }]));
  await attempt('afterRemove', () => store.stat('known_clients'));
  await attempt('listRoot', () => store.list(''));
  console.log(JSON.stringify(out));
  return 0;
}
