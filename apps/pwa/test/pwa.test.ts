/**
 * @module pwa.test — the built app in Debian's Chromium (headless, playwright-core), served on
 * 127.0.0.1, against the real `certified` CLI and a Node server running `requireSignedRequest()`:
 * create an identity, reload, keys not exportable, offline introduce/install with the CLI on the
 * other side, signed requests accepted — and replayed, tampered or strangers' requests refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadIdentity } from '@certified/identity';
import { createFileStore } from '@certified/node';
import { freePort } from '@certified/testing/net';
import {
  buildApp,
  certified,
  createClientTrust,
  createIdentity,
  firstLoad,
  launchChromium,
  serveApp,
  signedRequestServer,
  type Seen,
} from './harness.js';

const T = 60_000;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let work: string;
let outDir: string;
let app: Awaited<ReturnType<typeof serveApp>>;
let api: Awaited<ReturnType<typeof signedRequestServer>>;
const serverDir = () => join(work, 'server');
const carolDir = () => join(work, 'carol');

beforeAll(async () => {
  browser = await launchChromium();
  if (!browser) return;
  work = mkdtempSync(join(tmpdir(), 'certified-pwa-test-'));
  outDir = await buildApp();
  app = await serveApp(outDir);
  for (const [dir, name, email] of [
    [serverDir(), 'Notes Server', 'notes@example.org'],
    [carolDir(), 'Carol CLI', 'carol@example.org'],
  ] as const) {
    const r = await certified(['init', name, '--email', email, '--config', dir]);
    expect(r.code, r.stderr).toBe(0);
  }
  const trust = createClientTrust(await loadIdentity(createFileStore(serverDir())));
  api = await signedRequestServer(trust, app.origin);
  context = await browser.newContext();
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await api?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const run = (name: string, fn: () => Promise<void>) =>
  it(
    name,
    async (ctx) => {
      if (!browser) ctx.skip();
      await fn();
    },
    T,
  );

const text = (testid: string) => page.locator(`[data-testid="${testid}"]`);

describe('the PWA in Chromium', () => {
  run('loads, and creates an identity with non-extractable keys', async () => {
    const load = await firstLoad(page, app.origin);
    const ms = await createIdentity(page, 'Bea Browser', 'bea@example.org');
    console.log(
      `pwa: first-load JavaScript (first visit, create form) ${(load.gzipped / 1024).toFixed(1)} KB gzipped (${load.files} files, ${(load.raw / 1024).toFixed(1)} KB raw; goal ≤ 60 KB); create identity ${ms.toFixed(1)} ms in Chromium (goal ≤ 150 ms)`,
    );
    await expect.poll(() => text('subject').textContent()).toBe('CN=Bea Browser');
    expect(await text('keys').textContent()).toMatch(/^non-extractable/);
  });

  run('still has the identity after a reload', async () => {
    const fp = await text('fingerprint').textContent();
    const again = await firstLoad(page, app.origin); // a returning visit: the model loads too
    console.log(
      `pwa: a returning visit (identity shown) loads ${(again.gzipped / 1024).toFixed(1)} KB of JavaScript gzipped (${again.files} files)`,
    );
    await page.waitForSelector('[data-testid="subject"]');
    expect(await text('subject').textContent()).toBe('CN=Bea Browser');
    expect(await text('fingerprint').textContent()).toBe(fp);
  });

  run('cannot export the stored private keys (crypto.subtle.exportKey throws)', async () => {
    const outcome = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const req = indexedDB.open('certified');
        req.onsuccess = () => ok(req.result);
        req.onerror = () => fail(req.error);
      });
      const get = (path: string) =>
        new Promise<CryptoKeyPair>((ok, fail) => {
          const req = db.transaction('keys').objectStore('keys').get(path);
          req.onsuccess = () => ok(req.result as CryptoKeyPair);
          req.onerror = () => fail(req.error);
        });
      const out: Record<string, string> = {};
      for (const path of ['id.key', 'CA.key']) {
        const { privateKey } = await get(path);
        for (const format of ['pkcs8', 'jwk'] as const)
          out[`${path} ${format}`] = await crypto.subtle.exportKey(format, privateKey).then(
            () => 'exported',
            (e: Error) => `${e.name} (extractable: ${privateKey.extractable})`,
          );
      }
      db.close();
      return out;
    });
    expect(outcome).toEqual({
      'id.key pkcs8': 'InvalidAccessError (extractable: false)',
      'id.key jwk': 'InvalidAccessError (extractable: false)',
      'CA.key pkcs8': 'InvalidAccessError (extractable: false)',
      'CA.key jwk': 'InvalidAccessError (extractable: false)',
    });
  });

  run(
    'offline: reloads, and introduces an identity the CLI made; the CLI’s add-intro accepts the letter',
    async () => {
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
      await context.setOffline(true);
      try {
        await page.reload();
        await page.waitForSelector('[data-testid="subject"]');
        const ident = await certified(['get-ident', '--config', carolDir()]);
        expect(ident.code, ident.stderr).toBe(0);
        await text('tab-introduce').click();
        await text('subject-input').fill(ident.stdout);
        await text('review').click();
        expect(await text('reviewed-subject').textContent()).toBe('CN=Carol CLI');
        await text('add-service').click();
        await text('service-alias-0').fill('bea');
        await text('service-url-0').fill('https://127.0.0.1:8443');
        await text('sign').click();
        const letter = await text('letter').inputValue();
        expect(Object.keys(JSON.parse(letter) as object).sort()).toEqual([
          'ca_cert',
          'services',
          'signed_cert',
        ]);
        const file = join(work, 'from-browser.json');
        writeFileSync(file, letter);
        const added = await certified(['add-intro', file, '--config', carolDir()]);
        expect(added.code, added.stderr).toBe(0);
        expect(added.stdout).toContain('known_servers/bea.yaml');
      } finally {
        await context.setOffline(false);
      }
    },
  );

  run('offline: installs a letter the CLI’s introduce made', async () => {
    await context.setOffline(true);
    try {
      await text('tab-identity').click();
      const ident = join(work, 'bea.ident');
      writeFileSync(ident, await text('ident').inputValue());
      const letter = await certified([
        'introduce',
        ident,
        '--service',
        `notes=https://127.0.0.1:8443`,
        '--config',
        serverDir(),
      ]);
      expect(letter.code, letter.stderr).toBe(0);
      await text('tab-install').click();
      await text('letter-input').fill(letter.stdout);
      await text('install-letter').click();
      await page.waitForSelector('[data-testid="installed"]');
      const installed = await text('installed').textContent();
      expect(installed).toContain('known_servers/notes.yaml: notes → https://127.0.0.1:8443');
      expect(installed).toMatch(/id\/.*Notes Server.*\.crt/);
      await text('tab-services').click();
      expect(await text('service-list').textContent()).toContain('notes → https://127.0.0.1:8443');
    } finally {
      await context.setOffline(false);
    }
  });

  run(
    'calls a requireSignedRequest() server with a signed request: 200 with the browser’s name',
    async () => {
      await text('tab-services').click();
      await text('call-alias').selectOption('notes');
      await text('call-target').fill(`${api.origin}/hello`);
      await text('call').click();
      await expect.poll(() => text('answer').textContent()).toBe('200 {"hello":"Bea Browser"}');
    },
  );

  describe('the same request, refused', () => {
    let signed: Seen;
    beforeAll(() => {
      if (browser) signed = api.seen.at(-1)!;
    });
    const send = async (over: Partial<Seen> = {}) => {
      const s = { ...signed, ...over };
      const res = await fetch(s.url, { method: s.method, headers: s.headers });
      return {
        status: res.status,
        code: ((await res.json()) as { error: { code: string } }).error.code,
      };
    };

    run('replayed → 401 ERR_AUTH_REPLAY', async () => {
      expect(await send()).toEqual({ status: 401, code: 'ERR_AUTH_REPLAY' });
    });

    run('tampered (another path) → 401 ERR_AUTH_SIGNATURE_INVALID', async () => {
      expect(await send({ url: `${api.origin}/hello?admin=1` })).toEqual({
        status: 401,
        code: 'ERR_AUTH_SIGNATURE_INVALID',
      });
    });

    run('tampered (another method) → 401 ERR_AUTH_SIGNATURE_INVALID', async () => {
      expect(await send({ method: 'POST' })).toEqual({
        status: 401,
        code: 'ERR_AUTH_SIGNATURE_INVALID',
      });
    });
  });

  run(
    'signed by a stranger (a browser identity nobody introduced) → 401 ERR_CHAIN_NO_PATH',
    async () => {
      const other = await browser!.newContext();
      try {
        const stranger = await other.newPage();
        await stranger.goto(`${app.origin}/`);
        await createIdentity(stranger, 'Stranger', 'stranger@example.org');
        await stranger.locator('[data-testid="tab-services"]').click();
        await stranger.locator('[data-testid="call-target"]').fill(`${api.origin}/hello`);
        await stranger.locator('[data-testid="call"]').click();
        await expect
          .poll(() => stranger.locator('[data-testid="answer"]').textContent())
          .toMatch(/^401 \{"error":\{"code":"ERR_CHAIN_NO_PATH"/);
      } finally {
        await other.close();
      }
    },
  );

  run('bad input shows a code and a sentence, never a stack trace', async () => {
    await text('tab-introduce').click();
    await text('subject-input').fill('not a certificate');
    await text('review').click();
    expect(await text('error').textContent()).toMatch(
      /^ERR_IDENTITY_INPUT_INVALID The identity is not/,
    );
    await text('tab-install').click();
    await text('letter-input').fill('{"signed_cert": 5}');
    await text('install-letter').click();
    expect(await text('error').textContent()).toMatch(/^ERR_INTRO_MALFORMED /);
    await text('tab-services').click();
    await text('call-alias').selectOption('');
    await text('call-target').fill(`http://127.0.0.1:${await freePort()}/hello`);
    await text('call').click();
    expect(await text('error').textContent()).toMatch(/^ERR_NET_CONNECT .* could not be reached/);
    expect(await page.locator('body').textContent()).not.toMatch(/\bat \S+ \(/);
  });
});
