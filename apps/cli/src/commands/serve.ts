/** @module commands/serve — `certified serve MODULE[:export] [URL]`: an app over mTLS with this identity. */
import { ornlName } from '@certified/core';
import { clientAnchors } from '@certified/identity';
import { accessLog, type AccessLogSink } from '@certified/access-log';
import { createLokiSink, type LokiSink } from '@certified/access-log/loki';
import { Hono } from 'hono';
import { CliError, typedHttpsUrl, usage, type Command, type Context } from '../cli.js';
import { loadMe } from './shared.js';

type FetchHandler = (request: Request, env?: unknown) => Response | Promise<Response>;

/** `path/to/app.mjs:name` → module and export; a drive letter's colon is not a separator. */
export function splitModuleSpec(spec: string): { module: string; exportName: string | undefined } {
  const m = /^(.+?):([A-Za-z_$][\w$]*)$/.exec(spec);
  if (m && !/^[A-Za-z]$/.test(m[1]!)) return { module: m[1]!, exportName: m[2]! };
  return { module: spec, exportName: undefined };
}

/** A Hono app (anything with `fetch`) or a bare fetch handler, from a module's exports. */
export function pickHandler(
  mod: Record<string, unknown>,
  exportName: string | undefined,
  spec: string,
): FetchHandler {
  const names = exportName ? [exportName] : ['default', 'app'];
  for (const n of names) {
    const v = mod[n] as { fetch?: unknown } | FetchHandler | undefined;
    if (v && typeof v === 'object' && typeof v.fetch === 'function')
      return (v.fetch as FetchHandler).bind(v);
    if (typeof v === 'function') return v as FetchHandler;
  }
  throw new CliError(
    'ERR_MODULE_LOAD',
    `${spec} exports no ${names.map((n) => (n === 'default' ? 'default export' : `"${n}"`)).join(' or ')} that is a Hono app or a fetch handler.`,
  );
}

export const serveCommand: Command = {
  name: 'serve',
  summary:
    'Serve a Hono app (or fetch handler) over mutual TLS with this identity; callers are judged by our validator against known_clients.',
  description:
    "Clients must present a chain that our validator accepts against known_clients/*.crt (CAs, introducers or pinned certificates), else the connection is closed before any HTTP byte is read. HTTP/1.1 and HTTP/2. known_clients/ is re-read every second: adding or removing a client needs no restart, and open connections of a removed client are closed. Each request is logged to stdout as one JSON line with ORNL certified's rich-log fields (and pushed to Loki with --loki); refusals and reloads are logged to stderr as JSON lines. Stops cleanly on Ctrl-C (requests in progress finish, the Loki buffer is flushed).",
  positionals: [
    {
      name: 'MODULE[:export]',
      required: true,
      description: 'A module exporting a Hono app or fetch handler (default export, or "app").',
    },
    {
      name: 'URL',
      required: false,
      description:
        'Where to listen; default https://127.0.0.1:4433, this machine only (name an address, e.g. https://0.0.0.0:4433, to serve others; port 0 picks a free one).',
    },
  ],
  options: {
    loki: {
      type: 'string',
      placeholder: 'FILE',
      description:
        'Also push the access log to Grafana Loki: a JSON file with "url" (base or …/loki/api/v1/push) and optional "user", "passwd" (ORNL certified\'s loki.json).',
    },
    'no-access-log': {
      type: 'boolean',
      description: 'Do not write the JSON access log (one line per request) to stdout.',
    },
    'explain-refusals': {
      type: 'boolean',
      description:
        'Answer a refused client with HTTP 495 and a JSON {"error": {"code", "message"}} saying why, instead of closing the connection (it tells strangers why; for development).',
    },
  },
  examples: [
    'certified serve ./notes-api.mjs https://127.0.0.1:8443',
    'certified serve ./server.mjs:app',
    'certified serve --loki loki.json ./notes-api.mjs https://0.0.0.0:8443',
  ],
  async run(ctx) {
    const spec = ctx.positionals[0]!;
    // Loopback unless the user names an address: a service on every interface by accident is a leak.
    const url = ctx.positionals[1] ?? 'https://127.0.0.1:4433';
    typedHttpsUrl('URL', url, { portZero: true });
    const me = await loadMe(ctx);
    const anchors = clientAnchors(me);
    if (anchors.length === 0)
      throw new CliError(
        'ERR_CHECK_FAILED',
        `known_clients/ in ${me.location} is empty, so no one could call; add a client with \`certified add-client\`.`,
      );
    const { module, exportName } = splitModuleSpec(spec);
    let mod: Record<string, unknown>;
    try {
      mod = await ctx.io.importModule(module);
    } catch (e) {
      throw new CliError('ERR_MODULE_LOAD', `Cannot load ${module}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const app = pickHandler(mod, exportName, spec);
    const loki =
      ctx.values['loki'] === undefined
        ? undefined
        : await lokiSink(ctx, String(ctx.values['loki']));
    const sinks: AccessLogSink[] = [];
    if (ctx.values['no-access-log'] !== true) sinks.push((line) => ctx.io.stdout(`${line}\n`));
    if (loki) sinks.push(loki.write);
    const handler = sinks.length
      ? withAccessLog(app, sinks, (e) => log({ type: 'access-log-error', message: String(e) }))
      : app;
    const log = (event: object): void =>
      ctx.io.stderr(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    const server = await ctx.io.serve(handler, {
      identity: me,
      url,
      ...(ctx.values['explain-refusals'] === true ? { explainRefusals: true } : {}),
      onConnection: (event) => {
        if (event.type !== 'accepted' || ctx.verbose) {
          const { path: _path, ...rest } = event as typeof event & { path?: unknown };
          log(rest);
        }
      },
      onReload: (event) =>
        log(
          event.ok
            ? { type: 'reloaded', anchors: event.anchors, revoked: event.revoked }
            : {
                type: 'reload-failed',
                message: String((event.error as Error)?.message ?? event.error),
              },
        ),
    });
    ctx.io.stdout(
      `Serving ${spec} at ${server.url} as ${ornlName(me.id.certificate.subject)}; trusting ${anchors.length} client certificate(s) from known_clients/ (${trustedFiles(me.knownClients.map((f) => f.file))}).\n`,
    );
    const signal = await ctx.io.waitForShutdown();
    ctx.debug(`${signal}: closing`);
    await server.close();
    if (loki) {
      await loki.close();
      const { sent, dropped, failedLines } = loki.stats();
      ctx.debug(`loki: ${sent} line(s) sent, ${dropped} dropped, ${failedLines} failed`);
    }
    return 0;
  },
};

/** The app behind an access-log middleware: one JSON line per request, refusals and errors included. */
function withAccessLog(
  app: FetchHandler,
  sink: AccessLogSink[],
  onError: (e: unknown) => void,
): FetchHandler {
  const outer = new Hono();
  outer.use(accessLog({ sink, onError }));
  outer.all('*', (c) => app(c.req.raw, c.env));
  return (request, env) => outer.fetch(request, env);
}

/** ORNL certified's loki.json: `{ "url", "user", "passwd" }` (user and passwd optional here). */
async function lokiSink(ctx: Context, file: string): Promise<LokiSink> {
  const bytes = await ctx.io.readFile(file);
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new CliError('ERR_USAGE', `--loki ${file} is not JSON: ${(e as Error).message}.`, {
      cause: e,
    });
  }
  const { url, user, passwd } = (config ?? {}) as Record<string, unknown>;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url))
    usage(`--loki ${file} must have "url": the Loki server's http(s) URL.`);
  if (
    (user !== undefined && typeof user !== 'string') ||
    (passwd !== undefined && typeof passwd !== 'string')
  )
    usage(`--loki ${file}: "user" and "passwd" must be strings.`);
  return createLokiSink({
    url,
    labels: { application: 'certified', logger: 'certified.access', severity: 'info' },
    ...(user !== undefined ? { basicAuth: { user, password: passwd ?? '' } } : {}),
    onError: (e) =>
      ctx.io.stderr(
        `${JSON.stringify({ time: new Date().toISOString(), type: 'loki-error', code: e.code, message: e.message })}\n`,
      ),
  });
}

/** known_clients/ files for the banner: `self.crt` is said to be our own CA, which `init` put there. */
function trustedFiles(files: readonly string[]): string {
  const names = files.map((f) => f.replace(/^known_clients\//, ''));
  const others = names.filter((n) => n !== 'self.crt');
  const self = names.includes('self.crt') ? ["self.crt is this identity's own CA"] : [];
  return [...(others.length ? [others.join(', ')] : []), ...self].join('; ');
}
