/** @module commands/show — `certified show` and `certified check`. */
import {
  checkIdentity,
  describeIdentity,
  readIdentityCertificates,
  type CertificateSummary,
} from '@certified/identity';
import { paint, usage, type Command } from '../cli.js';
import { printJson } from './shared.js';

function line(c: CertificateSummary): string {
  const left = c.daysLeft < 0 ? `EXPIRED ${-c.daysLeft} days ago` : `${c.daysLeft} days left`;
  return `${c.ca ? 'CA' : 'end-entity'} · ${c.keyType}${c.altNames.length ? ` · ${c.altNames.join(', ')}` : ''} · until ${c.notAfter.slice(0, 10)} (${left})\n      SHA-256 ${c.fingerprint}`;
}

export const showCommand: Command = {
  name: 'show',
  summary:
    'Show this identity, its signer, who signed it, known clients and services, with expiry and fingerprints.',
  description:
    'Reads certificates only, not the private keys: `certified check` also checks that each key matches its certificate.',
  positionals: [],
  options: { json: { type: 'boolean', description: 'Print JSON instead of text.' } },
  examples: ['certified show', 'certified show --json | jq .services'],
  async run(ctx) {
    const { dir, source } = ctx.configDir();
    // Certificates only: importing the private keys would cost more than the rest of the command;
    // `certified check` imports them and says whether they match.
    const d = describeIdentity(await readIdentityCertificates(ctx.store()));
    if (ctx.values['json'] === true) {
      printJson(ctx, { ...d, location: dir, locationSource: source });
      return 0;
    }
    const out: string[] = [`Identity directory ${dir} (from ${source})`, ''];
    out.push(`Identity  ${d.identity.subject}`, `      ${line(d.identity)}`);
    for (const c of d.identity.chain) out.push(`  chain  ${c.subject}`, `      ${line(c)}`);
    out.push(
      d.signer
        ? `Signer    ${d.signer.subject}`
        : 'Signer    none (set-org: the organisation signs)',
    );
    if (d.signer) out.push(`      ${line(d.signer)}`);
    const section = (title: string, rows: string[]) => {
      out.push('', `${title}${rows.length ? '' : ' none'}`, ...rows);
    };
    section(
      'Signed by others (id/, CA/):',
      [...d.signatures, ...d.caSignatures].map(
        (s) => `  ${s.file}\n      issued by ${s.certificate.issuer}\n      ${line(s.certificate)}`,
      ),
    );
    section(
      'Known clients (known_clients/):',
      d.knownClients.flatMap((f) =>
        f.certificates.map((c) => `  ${f.file}  ${c.subject}\n      ${line(c)}`),
      ),
    );
    section(
      'Known servers (known_servers/*.crt):',
      d.knownServers.flatMap((f) =>
        f.certificates.map((c) => `  ${f.file}  ${c.subject}\n      ${line(c)}`),
      ),
    );
    section(
      'Services (known_servers/*.yaml):',
      d.services.map(
        (s) =>
          `  ${s.alias}  ${s.url}\n      pinned: ${s.cert ? `${s.cert.subject} (${s.cert.fingerprint.slice(0, 23)}…, until ${s.cert.notAfter.slice(0, 10)})` : 'none (known_servers/*.crt)'}\n      auths: ${s.auths.length ? s.auths.join('; ') : 'none'}`,
      ),
    );
    if (d.problems.length)
      section(
        'Problems:',
        d.problems.map((p) => `  ${p.severity} ${p.code} ${p.file ?? ''}: ${p.message}`),
      );
    ctx.io.stdout(`${out.join('\n')}\n`);
    return 0;
  },
};

export const checkCommand: Command = {
  name: 'check',
  summary:
    'Check the identity directory: missing files, key permissions, corrupt files, expiry within 30 days, service hosts.',
  description: 'Exits 1 when there is an error; warnings alone exit 0.',
  positionals: [],
  options: {
    json: { type: 'boolean', description: 'Print the problems as JSON.' },
    days: {
      type: 'string',
      placeholder: 'N',
      description: 'Warn about certificates expiring within N days; default 30.',
    },
  },
  examples: ['certified check', 'certified check --json --days 60'],
  async run(ctx) {
    const { dir } = ctx.configDir();
    const days = ctx.values['days'] === undefined ? 30 : Number(ctx.values['days']);
    if (!Number.isFinite(days) || days < 0) usage('--days must be a number of days.');
    const problems = await checkIdentity(ctx.store(), { expiryWarningDays: days });
    const errors = problems.filter((p) => p.severity === 'error').length;
    if (ctx.values['json'] === true) printJson(ctx, { location: dir, ok: errors === 0, problems });
    else if (problems.length === 0) ctx.io.stdout(`${dir}: no problems found.\n`);
    else
      ctx.io.stdout(
        `${problems.map((p) => `${paint(ctx.io.colour?.stdout, p.severity === 'error' ? 'red' : 'yellow', p.severity)}: ${p.code}${p.file ? ` ${p.file}` : ''}: ${p.message}`).join('\n')}\n${dir}: ${errors} error(s), ${problems.length - errors} warning(s).\n`,
      );
    return errors > 0 ? 1 : 0;
  },
};
