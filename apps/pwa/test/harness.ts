/**
 * @module harness — what the PWA's browser test and benchmark share: build the app with Vite into a
 * temporary directory, serve it on 127.0.0.1 (`vite preview`), launch Debian's Chromium headless
 * through playwright-core (a loud skip when it is missing, a failure under `CI=true`), run the
 * `certified` CLI through its launcher, and a signed-request server on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Browser, Page, Response } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { createClientTrust, requireSignedRequest, type ClientTrust } from '@certified/hono';
import { CHROMIUM_ARGS } from '@certified/testing/chromium';
import { freePort } from '@certified/testing/net';
import { isCI } from '@certified/testing/runtimes';

export const APP_DIR: string = resolve(import.meta.dirname, '..');
const ROOT = resolve(APP_DIR, '../..');
const CLI = join(ROOT, 'apps/cli/bin/certified.mjs');
export const CHROMIUM: string = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Builds the app into a fresh temporary directory; returns it. */
export async function buildApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'certified-pwa-'));
  // Vitest sets NODE_ENV=test, which would make Vite build for development (Preact's debug paths).
  const env = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await build({
      root: APP_DIR,
      mode: 'production',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    if (env === undefined) delete process.env['NODE_ENV'];
    else process.env['NODE_ENV'] = env;
  }
  return outDir;
}

/** Serves a build on 127.0.0.1. */
export async function serveApp(
  outDir: string,
): Promise<{ origin: string; close(): Promise<void> }> {
  const port = await freePort();
  const server: PreviewServer = await preview({
    root: APP_DIR,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port, strictPort: true, open: false },
  });
  return { origin: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/**
 * Debian's Chromium, headless; undefined (after a loud warning) when it is not installed, except
 * under CI=true, where that throws.
 */
export async function launchChromium(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    const msg = `${CHROMIUM} not found (apt-get install chromium)`;
    if (isCI) throw new Error(`${msg} — not allowed under CI=true`);
    console.warn(`\n!!! apps/pwa: ${msg}: SKIPPING the browser tests !!!\n`);
    return undefined;
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
}

/** Loads the app and adds up the JavaScript it fetched until it is ready, gzipped as served. */
export async function firstLoad(
  page: Page,
  origin: string,
): Promise<{ files: number; raw: number; gzipped: number }> {
  const scripts: Promise<Buffer>[] = [];
  const onResponse = (r: Response) => {
    if (r.url().startsWith(origin) && r.url().endsWith('.js') && !r.url().endsWith('/sw.js'))
      scripts.push(r.body());
  };
  page.on('response', onResponse);
  await page.goto(`${origin}/`);
  await page.waitForSelector('[data-testid="create"], [data-testid="identity"]');
  await page.waitForLoadState('networkidle');
  page.off('response', onResponse);
  const bodies = await Promise.all(scripts);
  return {
    files: bodies.length,
    raw: bodies.reduce((n, b) => n + b.length, 0),
    gzipped: bodies.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0),
  };
}

/** Fills in the create form and waits for the identity; returns the time `create()` took in the page. */
export async function createIdentity(page: Page, name: string, email: string): Promise<number> {
  await page.fill('[data-testid="create"] input[name="name"]', name);
  await page.fill('[data-testid="create"] input[name="email"]', email);
  await page.click('[data-testid="create"] button[type="submit"]');
  await page.waitForSelector('[data-testid="subject"]');
  return page.evaluate(
    () => performance.getEntriesByName('certified:create').at(-1)?.duration ?? NaN,
  );
}

/** Runs `certified …` through the CLI's launcher (which builds its bundle on a fresh checkout). */
export function certified(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      [CLI, ...args],
      { timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** What the signed-request server saw last, to replay it. */
export interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
}

/**
 * A Node server on 127.0.0.1 running `requireSignedRequest()` with the trust of `trust` (a CLI
 * identity's known_clients), answering `GET /hello` with the caller's name. CORS lets the app's
 * origin send the signature headers.
 */
export async function signedRequestServer(
  trust: ClientTrust,
  appOrigin: string,
): Promise<{ origin: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const app = new Hono();
  app.use(
    cors({
      origin: appOrigin,
      allowMethods: ['GET', 'POST'],
      allowHeaders: [
        'content-type',
        'content-digest',
        'signature',
        'signature-input',
        'certified-chain',
      ],
    }),
  );
  app.use(async (c, next) => {
    if (c.req.method !== 'OPTIONS')
      seen.push({
        url: c.req.url,
        method: c.req.method,
        headers: Object.fromEntries(c.req.raw.headers),
      });
    await next();
  });
  app.use(requireSignedRequest({ validator: trust.validator, anchors: trust.anchors }));
  app.get('/hello', (c) => c.json({ hello: c.get('certified').commonName }));
  const port = await freePort();
  const server: ServerType = await new Promise((ready) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => ready(s));
  });
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

export { createClientTrust };
