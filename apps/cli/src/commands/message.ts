/** @module commands/message — `message URL [JSON]`: one request to an mTLS API, the server judged by our validator. */
import { join } from 'node:path';
import { ornlName, IdentityError } from '@certified/core';
import { readCertificateInput } from '@certified/identity';
import { parse as parseYaml } from 'yaml';
import { CliError, list, str, typedHttpsUrl, usage, type Command } from '../cli.js';
import { readText, responseText } from './shared.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

export const messageCommand: Command = {
  name: 'message',
  summary: 'Send a JSON message to an mTLS-authenticated HTTPS API and print the response body.',
  description:
    'https://ALIAS/path resolves through known_servers/ALIAS.yaml: the request goes to its url, with the client chain the service accepts (its auths), and the server must chain to its pinned certificate (else to known_servers/*.crt) and carry the host name; a host without a dot must be such an alias. A body makes the default method POST. A non-2xx status exits 1.',
  positionals: [
    { name: 'URL', required: true, description: 'https://ALIAS-or-host[:port]/path?query' },
    { name: 'JSON', required: false, description: 'A JSON body, e.g. \'{"message": "hello"}\'.' },
  ],
  options: {
    request: {
      type: 'string',
      short: 'X',
      placeholder: 'METHOD',
      description: 'HTTP method; default GET, or POST with a body.',
    },
    header: {
      type: 'string',
      short: 'H',
      multiple: true,
      placeholder: "'Name: value'",
      description: 'A request header, as curl takes it.',
    },
    'json-file': {
      type: 'string',
      placeholder: 'FILE',
      description: 'Send this JSON file as the body (was --json FILE).',
    },
    json: {
      type: 'boolean',
      description:
        'Print the response as JSON: {"status", "statusText", "headers", "body"} (body parsed when it is JSON).',
    },
    yaml: {
      type: 'string',
      placeholder: 'FILE',
      description: 'Send this YAML file, converted to JSON, as the body.',
    },
    pp: { type: 'boolean', description: 'Pretty-print a JSON response.' },
    data: {
      type: 'string',
      short: 'd',
      placeholder: 'JSON|@FILE',
      description: 'The JSON body, as curl takes it: inline, @FILE, or @- for standard input.',
    },
    include: {
      type: 'boolean',
      short: 'i',
      description: 'Print the status line and response headers before the body.',
    },
    pin: {
      type: 'string',
      placeholder: 'CERT',
      description:
        'Trust the server only if it chains to CERT (its CA or its own certificate: PEM, base64-DER or get-signer JSON), instead of known_servers/; for one call, nothing is written.',
    },
    output: {
      type: 'string',
      short: 'o',
      placeholder: 'FILE',
      description: 'Write the response body to FILE (whole, or not at all) instead of stdout.',
    },
  },
  examples: [
    'message https://notes/items',
    'message https://notes/items \'{"message": "hello"}\'',
    'message -X DELETE https://127.0.0.1:8443/items/1 -H "X-Trace: 1" -v',
    'message https://127.0.0.1:8443/items --pin signer.json',
  ],
  async run(ctx) {
    const [url, inline] = ctx.positionals as [string, string | undefined];
    typedHttpsUrl('URL', url);
    const jsonFile = str(ctx.values, 'json-file');
    const yamlFile = str(ctx.values, 'yaml');
    const data = str(ctx.values, 'data');
    if ([inline, jsonFile, yamlFile, data].filter((x) => x !== undefined).length > 1)
      usage('Give only one of a JSON argument, -d/--data, --json-file FILE or --yaml FILE.');
    let body: string | undefined;
    try {
      if (inline !== undefined) body = JSON.stringify(JSON.parse(inline));
      else if (data !== undefined)
        body = JSON.stringify(
          JSON.parse(data.startsWith('@') ? await readText(ctx, data.slice(1)) : data),
        );
      else if (jsonFile !== undefined)
        body = JSON.stringify(JSON.parse(await readText(ctx, jsonFile)));
      else if (yamlFile !== undefined)
        body = JSON.stringify(parseYaml(await readText(ctx, yamlFile)) ?? null);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(
        'ERR_BODY_INVALID',
        `The body is not valid ${yamlFile ? 'YAML' : 'JSON'}: ${(e as Error).message}`,
        { exitCode: 2 },
      );
    }
    const method = (
      str(ctx.values, 'request') ?? (body === undefined ? 'GET' : 'POST')
    ).toUpperCase();
    if (!METHODS.includes(method))
      usage(`-X must be one of ${METHODS.join(', ')}; received ${JSON.stringify(method)}.`);
    const headers = new Headers();
    if (body !== undefined) headers.set('content-type', 'application/json');
    headers.set('accept', 'application/json, */*;q=0.5');
    for (const h of list(ctx.values, 'header')) {
      const colon = h.indexOf(':');
      if (colon <= 0) usage(`-H ${JSON.stringify(h)} must be "Name: value".`);
      try {
        headers.set(h.slice(0, colon).trim(), h.slice(colon + 1).trim());
      } catch {
        usage(`-H ${JSON.stringify(h)} is not a valid header.`);
      }
    }

    const pinFile = str(ctx.values, 'pin');
    const pin = pinFile
      ? readCertificateInput(await ctx.io.readFile(pinFile), `--pin ${pinFile}`)
      : undefined;
    // The session resolves the alias, picks the chain the service accepts and pins its certificate.
    await using session = await ctx.io.createSession({
      store: ctx.store(),
      ...(pin ? { pin } : {}),
    });
    let route;
    try {
      route = session.route(url);
    } catch (e) {
      if (
        e instanceof IdentityError &&
        e.code === 'ERR_SERVICE_UNKNOWN' &&
        e.field === 'known_servers'
      )
        throw new CliError(
          'ERR_CHECK_FAILED',
          `Nothing to judge ${new URL(url).host} by: no service file pins a certificate and known_servers/ has no *.crt; pass --pin CERT to trust a certificate for this call.`,
          { cause: e },
        );
      throw e;
    }
    const { service, credentials, anchors } = route;
    ctx.debug(
      `${method} ${route.url}${service ? ` (service ${service.alias}, ${service.file})` : ''}`,
    );
    ctx.debug(
      `presenting ${credentials.via}: ${credentials.certificates.map((c) => ornlName(c.subject)).join(' <- ')}`,
    );
    ctx.debug(`server must chain to: ${anchors.map((a) => ornlName(a.subject)).join('; ')}`);
    let res: Response;
    try {
      res = await session.fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    } catch (e) {
      throw withFix(e, fixFor(e, new URL(route.url), service, ctx.configDir().dir, !!pin));
    }
    ctx.debug(`HTTP ${res.status} ${res.statusText}`);
    if (ctx.values['include'] === true) {
      const lines = [`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`];
      res.headers.forEach((v, k) => lines.push(`${k}: ${v}`));
      ctx.io.stdout(`${lines.join('\n')}\n\n`);
    }
    if (ctx.verbose) res.headers.forEach((v, k) => ctx.debug(`  ${k}: ${v}`));
    let text = method === 'HEAD' ? '' : await responseText(res, route.url);
    if (ctx.values['pp'] === true && text !== '') {
      try {
        text = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // not JSON: print as received
      }
    }
    if (res.status < 200 || res.status > 299) {
      const statusLine = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      // A body that only repeats the status line (Hono's default 404) is not said twice.
      const said = text.trim().replace(/\s+/g, ' ');
      const detail = said === statusLine || said === res.statusText ? '' : said;
      // 495: the server refused our certificate and said why (certified serve --explain-refusals).
      const fix =
        res.status === 495
          ? ` If the server does not know you yet, on the server run: certified add-client NAME ${join(ctx.configDir().dir, 'CA.crt')} (copied there).`
          : '';
      ctx.io.stderr(
        `message: ERR_HTTP_STATUS: ${route.url} answered ${statusLine}${detail ? `: ${detail}` : ''}${fix}\n`,
      );
      return 1;
    }
    if (ctx.values['json'] === true) {
      const headersJson: Record<string, string> = {};
      res.headers.forEach((v, k) => (headersJson[k] = v));
      let parsed: unknown = text;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        // not JSON: the body as text
      }
      text = JSON.stringify(
        { status: res.status, statusText: res.statusText, headers: headersJson, body: parsed },
        null,
        2,
      );
    }
    const output = str(ctx.values, 'output');
    if (output !== undefined) await ctx.io.writeFile(output, new TextEncoder().encode(text));
    else if (text !== '') ctx.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  },
};

/**
 * The command that most likely fixes a refused connection: our validator refused the server
 * (ERR_CHAIN_*: we do not trust it yet), or the server hung up after the handshake (ERR_NET_TLS: it
 * does not know us yet). Undefined for other failures.
 */
function fixFor(
  e: unknown,
  target: URL,
  service: { alias: string } | undefined,
  configDir: string,
  pinned: boolean,
): string | undefined {
  const code = (e as { code?: unknown })?.code;
  if (typeof code !== 'string') return undefined;
  if (code.startsWith('ERR_CHAIN_') && pinned) return undefined; // the user chose what to trust
  if (code.startsWith('ERR_CHAIN_')) {
    const add = service
      ? `certified add-service ${service.alias} signer.json --url ${target.origin} --overwrite`
      : `certified add-service ${target.host} signer.json`;
    return `To trust this server, get its signer (on the server: certified get-signer > signer.json) and run: ${add}`;
  }
  if (code === 'ERR_NET_TLS' && /may not trust our certificate/.test((e as Error).message))
    return `If the server does not know you yet, on the server run: certified add-client NAME ${join(configDir, 'CA.crt')} (copied there)`;
  return undefined;
}

/** `e` with `fix` appended to its one-line message (same error, code and cause). */
function withFix(e: unknown, fix: string | undefined): unknown {
  if (fix && e instanceof Error) e.message = `${e.message.replace(/\.?$/, '.')} ${fix}.`;
  return e;
}
