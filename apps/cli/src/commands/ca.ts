/**
 * @module commands/ca — `certified ca init | serve | log`: the CA service on this machine. `request` and
 * `revoke` (clients of a running CA) are in ca-client.ts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fingerprint, parseCertificates } from '@certified/core';
import { parseCaConfig, type AuditRecord } from '@certified/ca';
import { initCa, openConfiguredStore, startCaServer } from '@certified/ca/node';
import { CliError, list, str, typedHttpsUrl, usage, type Command, type Context } from '../cli.js';
import { JSON_OPTION, printJson, report } from './shared.js';

/** `--config` for the CA commands names the CA's config file, not an identity directory. */
/** What a refused mkdir or write means, for `ca init`'s sentence. */
const MKDIR_REASONS: Record<string, string> = {
  ENOENT: 'a parent directory is missing or cannot hold directories (a dangling link, /proc)',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'a part of the path exists and is not a directory',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
};

const CONFIG_FILE = {
  type: 'string',
  placeholder: 'FILE',
  description: 'The CA config file; default ./certified-ca/ca.yaml.',
} as const;

function configPath(ctx: Context): string {
  return resolve(ctx.io.cwd, str(ctx.values, 'config') ?? 'certified-ca/ca.yaml');
}

export const caInitCommand: Command = {
  name: 'ca init',
  summary: 'Create a CA service directory: ca.key, ca.crt, ca.yaml with one example RA, a secret.',
  description:
    'Writes DIR/ca.key (P-256, mode 0600), ca.crt (a 10-year CA), ca.yaml (RA "default": a static user whose secret is in DIR/<user>.secret, mode 0600; certificates for --domain names and --network addresses, 24 hours; an embedded store in DIR/ca-data). Nothing existing is replaced. Edit ca.yaml for more RAs, validators, JWT or mTLS authentication, PostgreSQL (see @certified/ca\'s configuration reference).',
  positionals: [
    {
      name: 'DIR',
      required: false,
      description: 'Where to write; default ./certified-ca.',
    },
  ],
  options: {
    org: {
      type: 'string',
      placeholder: 'NAME',
      description: 'The CA\'s organisation name; default "certified CA".',
    },
    domain: {
      type: 'string',
      multiple: true,
      placeholder: 'DOMAIN',
      description:
        'A domain the example RA signs for: .example.com for any name under it, example.com for that name. Default .localhost.',
    },
    network: {
      type: 'string',
      multiple: true,
      placeholder: 'CIDR',
      description: 'A network for IP names; default 127.0.0.0/8.',
    },
    user: { type: 'string', placeholder: 'NAME', description: 'The example user; default admin.' },
    json: JSON_OPTION,
  },
  examples: ["certified ca init --org 'Example Org' --domain .example.com"],
  async run(ctx) {
    const dir = resolve(ctx.io.cwd, ctx.positionals[0] ?? 'certified-ca');
    const domains = list(ctx.values, 'domain');
    const networks = list(ctx.values, 'network');
    const user = str(ctx.values, 'user');
    let r;
    try {
      r = await initCa({
        dir,
        organization: str(ctx.values, 'org') ?? 'certified CA',
        domains: domains.length ? domains : ['.localhost'],
        ...(networks.length ? { networks } : {}),
        ...(user ? { user } : {}),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST' && (e as Error).message.includes('refusing to replace'))
        throw new CliError(
          'ERR_FILE_WRITE',
          `${(e as Error).message.split(';')[0]}: ${dir} already holds a CA; nothing was written. Choose another DIR.`,
        );
      // The file system's refusals (a parent that is a file, a dangling link, no permission):
      // a sentence, not ERR_INTERNAL.
      if (/^E[A-Z]+$/.test(code))
        throw new CliError(
          'ERR_FILE_WRITE',
          `Cannot create the CA in ${dir}: ${MKDIR_REASONS[code] ?? (e as Error).message}. No CA files were written; choose another DIR.`,
          { cause: e },
        );
      throw e;
    }
    report(
      ctx,
      () => r,
      () =>
        [
          `Created a CA in ${dir}:`,
          `  ${r.key} (private key, mode 0600)`,
          `  ${r.cert}`,
          `  ${r.config} (RA "default", user "${r.user}")`,
          `  ${r.secretFile} (${r.user}'s secret, mode 0600)`,
          `CA fingerprint (SHA-256): ${r.fingerprint}`,
          `Start it: certified ca serve --config ${r.config}`,
          '',
        ].join('\n'),
    );
    return 0;
  },
};

export const caServeCommand: Command = {
  name: 'ca serve',
  summary: 'Serve the CA over HTTPS: sign, renew (mTLS), revoke, /metrics, /health.',
  description:
    "HTTPS with a serving certificate the CA issues itself (127.0.0.1, ::1, localhost and the listen host). A client certificate is asked for and not required: renewal and mtls RAs judge it with our validator. Garbage collection of the audit store runs hourly on a lease, so one replica at a time runs it. Stops cleanly on Ctrl-C. The embedded store is one process's at a time; several replicas need the postgres backend.",
  positionals: [
    {
      name: 'URL',
      required: false,
      description: 'Where to listen; default https://127.0.0.1:8443 (port 0 picks a free one).',
    },
  ],
  options: { config: CONFIG_FILE },
  examples: [
    'certified ca serve --config certified-ca/ca.yaml',
    'certified ca serve --config /etc/certified-ca/ca.yaml https://0.0.0.0:8443',
  ],
  async run(ctx) {
    const listen = ctx.positionals[0]
      ? typedHttpsUrl('URL', ctx.positionals[0], { portZero: true }).href
      : 'https://127.0.0.1:8443';
    const server = await startCaServer({ config: configPath(ctx), listen });
    const ras = [...server.ca.ras.keys()].join(', ');
    const fp = fingerprint(parseCertificates(server.caPem)[0]!);
    ctx.io.stdout(`certified CA listening on ${server.url} (RAs: ${ras}); CA fingerprint ${fp}\n`);
    const signal = await ctx.io.waitForShutdown();
    ctx.debug(`${signal}: closing`);
    await server.close();
    return 0;
  },
};

export const caLogCommand: Command = {
  name: 'ca log',
  summary: "Show the CA's audit log: every request, issued or refused, newest first.",
  description:
    "Reads the store the config names. The embedded store is one process's at a time: stop `ca serve` first (ERR_CA_STORE_BUSY says so), or use the postgres backend, which any number may read.",
  positionals: [],
  options: {
    config: CONFIG_FILE,
    ra: { type: 'string', placeholder: 'NAME', description: 'Only this RA.' },
    limit: { type: 'string', placeholder: 'N', description: 'At most N records; default 50.' },
    json: {
      type: 'boolean',
      description: 'Print the records as a JSON array, with every field the store keeps.',
    },
  },
  examples: [
    'certified ca log --config certified-ca/ca.yaml --limit 20',
    'certified ca log --json',
  ],
  async run(ctx) {
    const limitText = str(ctx.values, 'limit') ?? '50';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100_000)
      usage(`--limit must be a number from 1 to 100000; received ${JSON.stringify(limitText)}.`);
    const path = configPath(ctx);
    const records = await (async () => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        throw new CliError(
          'ERR_FILE_READ',
          `Cannot read the CA config ${path}: ${(e as Error).message}`,
        );
      }
      const config = parseCaConfig(text);
      const store = await openConfiguredStore(config.store, dirname(path));
      try {
        const ra = str(ctx.values, 'ra');
        return await store.audit({ limit, ...(ra ? { ra } : {}) });
      } finally {
        await store.close();
      }
    })();
    if (ctx.values['json'] === true) printJson(ctx, records.map(recordJson));
    else ctx.io.stdout(records.map(recordLine).join(''));
    return 0;
  },
};

function recordJson(r: AuditRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r))
    out[k] = v instanceof Date ? v.toISOString() : k === 'sans' && v ? JSON.parse(v as string) : v;
  return out;
}

/** `time ra/endpoint decision subject serial-or-code requester source reason`. */
function recordLine(r: AuditRecord): string {
  const what =
    r.decision === 'issued'
      ? `serial ${r.serial} until ${r.not_after?.toISOString()}`
      : r.decision === 'refused'
        ? `${r.code}: ${r.reason}`
        : (r.reason ?? '');
  const who = r.requester ? ` by ${r.auth_method}:${r.requester}` : '';
  const from = r.source ? ` from ${r.source}` : '';
  const subject = r.subject ? ` ${r.subject}` : '';
  return `${r.time.toISOString()} ${r.ra || '-'}/${r.endpoint} ${r.decision}${subject}${who}${from} — ${what}\n`;
}
