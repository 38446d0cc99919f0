/** @module commands/add-service — `certified add-service`: a service we call, in known_servers/ALIAS.yaml. */
import { addService } from '@certified/identity';
import { list, str, type Command } from '../cli.js';
import { JSON_OPTION, loadMe, report } from './shared.js';

export const addServiceCommand: Command = {
  name: 'add-service',
  summary:
    'Add a service you call: known_servers/ALIAS.yaml with its url, pinned certificate and auths.',
  description:
    "NAME is host[:port][/prefix] as in ORNL certified (the url defaults to https://NAME), or an alias with --url. The certificate's own subject is added to auths.",
  positionals: [
    { name: 'NAME', required: true, description: 'Service alias or host[:port][/prefix].' },
    {
      name: 'CERT',
      required: true,
      description:
        "The service's CA (or own) certificate: PEM, base64-DER, or JSON with ca_cert; - for stdin.",
    },
  ],
  options: {
    json: JSON_OPTION,
    auth: {
      type: 'string',
      multiple: true,
      placeholder: 'NAME',
      description: 'RFC 4514 name of another signer whose signature the service accepts.',
    },
    url: {
      type: 'string',
      placeholder: 'URL',
      description: 'Where the service really is, e.g. https://127.0.0.1:8443.',
    },
    overwrite: { type: 'boolean', description: 'Replace an existing service of that name.' },
  },
  examples: [
    'certified add-service notes notes-signer.json --url https://127.0.0.1:8443',
    'certified add-service my-api:8443 server_ca.pem --config ~/etc/certified',
  ],
  async run(ctx) {
    const [name, file] = ctx.positionals as [string, string];
    const me = await loadMe(ctx);
    const url = str(ctx.values, 'url');
    const r = await addService(me, name, await ctx.io.readFile(file), {
      auths: list(ctx.values, 'auth'),
      ...(url ? { url } : {}),
      overwrite: ctx.values['overwrite'] === true,
    });
    report(
      ctx,
      () => ({ alias: r.alias, url: r.url, file: r.written[0], auths: r.auths }),
      () =>
        `Added service ${r.alias} at ${r.url} (${r.written[0]}); it accepts: ${r.auths.join('; ')}.\n`,
    );
    return 0;
  },
};
