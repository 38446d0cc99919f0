/** @module commands/add-client — `certified add-client`: trust one certificate (a pinned client, or a CA with --ca). */
import { fingerprint, ornlName, isCa } from '@certified/core';
import { addClient } from '@certified/identity';
import type { Command } from '../cli.js';
import { certificateJson, JSON_OPTION, loadMe, report } from './shared.js';

export const addClientCommand: Command = {
  name: 'add-client',
  summary: 'Trust a client: save one certificate from CERT as known_clients/NAME.crt.',
  description:
    "Trusts exactly one certificate, and prints it with its role and SHA-256. Without --ca, CERT's first certificate: an end-entity certificate is pinned (only its holder may call; ORNL certified cannot do this, our validator can), a CA certificate lets everyone it signs call. Certificates after the first — e.g. the organisation CA after a person in an id.crt after set-org — are not trusted (say --ca to trust that CA instead).",
  positionals: [
    { name: 'NAME', required: true, description: "The client's name (a file name)." },
    {
      name: 'CERT',
      required: true,
      description: 'Its certificate: PEM, DER, base64-DER, or get-signer JSON; - for stdin.',
    },
  ],
  options: {
    json: JSON_OPTION,
    ca: {
      type: 'boolean',
      description:
        'Trust the first CA certificate in CERT instead: everyone it signs may call (e.g. their organisation).',
    },
    overwrite: { type: 'boolean', description: 'Replace an existing client of that name.' },
  },
  examples: [
    'certified add-client ada ~/etc/certified/CA.crt --config $VIRTUAL_ENV/etc/certified',
    'certified add-client bob bob-id.crt               # pins Bob only',
    "certified add-client example-org bob-id.crt --ca  # everyone Bob's organisation signs",
  ],
  async run(ctx) {
    const [name, file] = ctx.positionals as [string, string];
    const me = await loadMe(ctx);
    const r = await addClient(me, name, await ctx.io.readFile(file), {
      overwrite: ctx.values['overwrite'] === true,
      ca: ctx.values['ca'] === true,
    });
    report(
      ctx,
      () => ({
        file: r.written[0],
        trusted: r.trusted.map((t) => ({ role: t.role, ...certificateJson(t.certificate) })),
      }),
      () =>
        r.trusted
          .map(
            (t) =>
              `Trusting ${ornlName(t.certificate.subject)} as ${r.written[0]}: ${t.role === 'ca' ? 'CA (everyone it signs may call)' : 'pinned end-entity (only its holder may call)'}, SHA-256 ${t.fingerprint}.\n`,
          )
          .join(''),
    );
    if (ctx.values['ca'] !== true)
      for (const c of r.ignored)
        ctx.io.stderr(
          `Not trusting ${ornlName(c.subject)} (${isCa(c) ? 'a CA' : 'end-entity'}, SHA-256 ${fingerprint(c)}), also in ${file}${isCa(c) ? ': pass --ca to trust everyone it signs instead' : ''}.\n`,
        );
    return 0;
  },
};
