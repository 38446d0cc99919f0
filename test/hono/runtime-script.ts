/**
 * @module test/runtime-script — the Hono app that runtimes.test.ts bundles (esbuild) and runs on
 * each runtime's own HTTP server: `Deno.serve` on Deno, `Bun.serve` on Bun, `@hono/node-server`
 * (plain HTTP) on Node, on 127.0.0.1 with an ephemeral port. It trusts the CA whose base64 DER is
 * in the file named by its only argument, prints `{ listening, runtime, version }` once it listens,
 * and runs until killed.
 *
 *   GET /<format>/trusted/whoami   requireClientCert, proxy { addresses: ['127.0.0.1'], format }
 *   GET /<format>/elsewhere/whoami requireClientCert, proxy { addresses: ['10.0.0.0/8'], format }
 *   GET /<format>/proxied/whoami   requireClientCert, proxy { addresses: ['127.0.0.2'], format } —
 *                                  for real proxies that connect from 127.0.0.2 (real-proxies.test)
 *   GET /log                       the access-log records of every other request, in order
 *
 * Every route but /log is behind `accessLog()`, whose sink keeps the records in memory.
 */
import { readFileSync } from 'node:fs';
import { createPathValidator, fromBase64Der } from '@certified/core';
import { Hono } from 'hono';
import { accessLog, type AccessLogRecord } from '@certified/access-log';
import { remoteAddressOf, requireClientCert, type ForwardedFormat } from '@certified/hono';

/** What runtimes.test.ts writes for the script. */
export interface RuntimeScriptConfig {
  /** The anchor: the CA's certificate, base64 DER. */
  readonly ca: string;
}

/** The script's first line on stdout. */
export interface ListeningLine {
  readonly listening: string;
  readonly runtime: 'node' | 'deno' | 'bun';
  readonly version: string;
}

/** What `/<format>/<proxy>/whoami` answers once the caller is authenticated. */
export interface WhoamiBody {
  readonly commonName: string | undefined;
  readonly source: string;
  readonly remoteAddress: string | undefined;
}

// Minimal ambient types for the two native servers (this package's tsconfig has neither).
declare const Deno:
  | {
      version: { deno: string };
      serve(
        options: { hostname: string; port: number; onListen: (addr: { port: number }) => void },
        handler: (request: Request, info: unknown) => Response | Promise<Response>,
      ): unknown;
    }
  | undefined;
declare const Bun:
  | {
      version: string;
      serve(options: {
        hostname: string;
        port: number;
        fetch: (request: Request, server: unknown) => Response | Promise<Response>;
      }): { port: number };
    }
  | undefined;

const FORMATS: readonly ForwardedFormat[] = ['nginx', 'envoy', 'haproxy', 'cloudflare'];

/** Who each route group takes for its proxy. */
const PROXIES = {
  trusted: ['127.0.0.1'],
  elsewhere: ['10.0.0.0/8'],
  proxied: ['127.0.0.2'],
} as const;

/** The app under test, its access-log records kept in `records`. */
function createApp(ca: Uint8Array, records: AccessLogRecord[]): Hono {
  const validator = createPathValidator({ anchors: [ca] });
  const app = new Hono();
  app.get('/log', (c) => c.json(records));
  app.use(accessLog({ sink: (_line, record) => void records.push(record) }));
  for (const format of FORMATS)
    for (const [where, addresses] of Object.entries(PROXIES)) {
      const route = `/${format}/${where}`;
      app.use(`${route}/*`, requireClientCert({ validator, proxy: { addresses, format } }));
      app.get(`${route}/whoami`, (c) => {
        const peer = c.get('certified');
        return c.json<WhoamiBody>({
          commonName: peer.commonName,
          source: peer.source,
          remoteAddress: remoteAddressOf(c),
        });
      });
    }
  return app;
}

/** Starts `app` on the runtime's native server; resolves with the port. */
async function listen(app: Hono): Promise<Omit<ListeningLine, 'listening'> & { port: number }> {
  if (typeof Deno !== 'undefined') {
    const deno = Deno;
    const port = await new Promise<number>((resolve) =>
      deno.serve(
        { hostname: '127.0.0.1', port: 0, onListen: (addr) => resolve(addr.port) },
        app.fetch,
      ),
    );
    return { runtime: 'deno', version: deno.version.deno, port };
  }
  if (typeof Bun !== 'undefined') {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch });
    return { runtime: 'bun', version: Bun.version, port: server.port };
  }
  const { serve } = await import('@hono/node-server');
  const port = await new Promise<number>((resolve) =>
    serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => resolve(info.port)),
  );
  return { runtime: 'node', version: process.version, port };
}

/** Serves until killed; returns 2 on a usage error. */
export async function main(args: readonly string[]): Promise<number> {
  const [file] = args;
  if (!file) {
    console.log(JSON.stringify({ error: 'usage: <config.json>' }));
    return 2;
  }
  const config = JSON.parse(readFileSync(file, 'utf8')) as RuntimeScriptConfig;
  const records: AccessLogRecord[] = [];
  const { port, ...about } = await listen(createApp(fromBase64Der(config.ca), records));
  const line: ListeningLine = { listening: `http://127.0.0.1:${port}`, ...about };
  console.log(JSON.stringify(line));
  // Runs until the test kills it.
  await new Promise(() => undefined);
  return 0;
}
