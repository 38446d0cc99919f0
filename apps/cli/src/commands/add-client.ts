/** @module commands/add-client — `certified add-client`: trust a client (its CA, or its own certificate). */
import { addClient, formatName } from '@certified/core';
import type { Command } from '../cli.js';
import { loadMe } from './shared.js';

export const addClientCommand: Command = {
  name: 'add-client',
  summary: 'Trust a client: save its certificate as known_clients/NAME.crt.',
  description:
    'A CA certificate lets everyone it signs call your services; an end-entity certificate is pinned: only its holder may call (ORNL certified cannot do this; our validator can).',
  positionals: [
    { name: 'NAME', required: true, description: "The client's name (a file name)." },
    {
      name: 'CERT',
      required: true,
      description: 'Its certificate: PEM, DER, base64-DER, or get-signer JSON; - for stdin.',
    },
  ],
  options: {
    overwrite: { type: 'boolean', description: 'Replace an existing client of that name.' },
  },
  examples: ['certified add-client ada ~/etc/certified/CA.crt --config $VIRTUAL_ENV/etc/certified'],
  async run(ctx) {
    const [name, file] = ctx.positionals as [string, string];
    const me = await loadMe(ctx);
    const r = await addClient(me, name, await ctx.io.readFile(file), {
      overwrite: ctx.values['overwrite'] === true,
    });
    const c = r.certificates[0]!;
    ctx.io.stdout(
      `Trusting ${formatName(c.subject)} (${c.basicConstraints?.ca ? 'a CA: everyone it signs' : 'pinned end-entity'}) as ${r.written[0]}.\n`,
    );
    return 0;
  },
};
