/** @module commands/init — `certified init`: a new signing CA and identity in the identity directory. */
import {
  dnsName,
  emailAddress,
  ornlName,
  ipAddress,
  organizationName,
  personName,
  uriName,
  type GeneralName,
} from '@certified/core';
import { initIdentity, type IdentityKeyType } from '@certified/identity';
import { list, str, usage, type Command } from '../cli.js';
import { certificateJson, JSON_OPTION, report } from './shared.js';

/** `--host` value → SAN: an IP literal, or a DNS name (wildcards allowed; IDNs become punycode). */
export function hostName(host: string): GeneralName {
  if (host.includes('/'))
    usage(
      `--host ${JSON.stringify(host)}: networks (CIDR) are not host names; give an address or name.`,
    );
  const bare = host.replace(/^\[|\]$/g, '');
  if (/^[\d.]+$/.test(bare) || bare.includes(':')) return ipAddress(bare);
  let ascii = host;
  if (/[^\x20-\x7e]/.test(host)) {
    const wildcard = host.startsWith('*.');
    try {
      ascii =
        (wildcard ? '*.' : '') + new URL(`http://${wildcard ? host.slice(2) : host}`).hostname;
    } catch {
      usage(`--host ${JSON.stringify(host)} is not a host name.`);
    }
  }
  return dnsName(ascii);
}

export const init: Command = {
  name: 'init',
  summary:
    'Create a new signing CA and identity (CA.key, CA.crt, id.key, id.crt, known_*/self.crt).',
  description:
    'Give a person name, or --org (with --unit) for a service or organisation. At least one --email, --host or --uri says where the identity is reached. Keys are written with mode 0600.',
  positionals: [
    { name: 'NAME', required: false, description: "A person's name, e.g. 'Timothy T. Tester'." },
  ],
  options: {
    json: JSON_OPTION,
    org: {
      type: 'string',
      placeholder: 'ORG',
      description: "Organization name, e.g. 'Certificate Lab, Inc.'",
    },
    unit: {
      type: 'string',
      placeholder: 'UNIT',
      description: "Organizational unit, e.g. 'Computing Directorate'.",
    },
    division: { type: 'string', placeholder: 'UNIT', description: 'Same as --unit (older name).' },
    uid: {
      type: 'string',
      placeholder: 'USER',
      description: 'System user name (person identities).',
    },
    domain: {
      type: 'string',
      placeholder: 'DOMAIN',
      description: 'Domain components, dot-separated, e.g. my-api.org.',
    },
    country: { type: 'string', placeholder: 'CC', description: 'Two-letter country code.' },
    state: { type: 'string', placeholder: 'STATE', description: 'State or province.' },
    city: { type: 'string', placeholder: 'CITY', description: 'City (locality).' },
    email: { type: 'string', multiple: true, placeholder: 'ADDR', description: 'Email address.' },
    host: {
      type: 'string',
      multiple: true,
      placeholder: 'HOST',
      description:
        "Host name or IP the identity serves at: '*.example.org', 'localhost', '127.0.0.1', '::1'.",
    },
    uri: {
      type: 'string',
      multiple: true,
      placeholder: 'URI',
      description: 'URI, e.g. spiffe://example.org/api.',
    },
    'key-type': {
      type: 'string',
      placeholder: 'TYPE',
      choices: ['ed25519', 'secp256r1', 'secp384r1'],
      description: 'Key type; default ed25519.',
    },
    overwrite: { type: 'boolean', description: 'Replace an existing identity in the directory.' },
  },
  examples: [
    "certified init 'Ada Lovelace' --email ada@example.org --config ~/etc/certified",
    "certified init --org 'Example Org' --unit 'Notes API' --host 127.0.0.1 --host localhost",
  ],
  async run(ctx) {
    const v = ctx.values;
    const name = ctx.positionals[0];
    const org = str(v, 'org');
    const unit = str(v, 'unit') ?? str(v, 'division');
    if (name && (org || unit)) usage('Give either a person NAME or --org/--unit, not both.');
    if (!name && !org)
      usage(unit ? '--unit needs --org.' : 'Give a person NAME, or --org (and --unit).');
    if (org && str(v, 'uid')) usage('--uid is for person identities, not --org.');
    const domain = str(v, 'domain');
    const location = {
      ...(str(v, 'country') ? { country: str(v, 'country')! } : {}),
      ...(str(v, 'state') ? { state: str(v, 'state')! } : {}),
      ...(str(v, 'city') ? { locality: str(v, 'city')! } : {}),
      ...(domain ? { domainComponents: domain.split('.').filter(Boolean) } : {}),
    };
    const subject = org
      ? organizationName({ organization: org, ...(unit ? { unit } : {}), ...location })
      : personName({
          commonName: name!,
          ...(str(v, 'uid') ? { uid: str(v, 'uid')! } : {}),
          ...location,
        });
    const altNames: GeneralName[] = [
      ...list(v, 'email').map((e) => emailAddress(e)),
      ...list(v, 'host').map(hostName),
      ...list(v, 'uri').map((u) => uriName(u)),
    ];
    if (altNames.length === 0) usage('Give at least one --email, --host or --uri.');
    const { dir } = ctx.configDir();
    const me = await initIdentity(ctx.store(), {
      subject,
      altNames,
      keyType: (str(v, 'key-type') ?? 'ed25519') as IdentityKeyType,
      overwrite: v['overwrite'] === true,
    });
    report(
      ctx,
      () => ({
        location: dir,
        identity: certificateJson(me.id.certificate),
        signer: me.signer ? certificateJson(me.signer.certificate) : null,
      }),
      () => `Generated new config for ${ornlName(me.id.certificate.subject)} at ${dir}.\n`,
    );
    return 0;
  },
};
