/** @module commands/add-intro — `certified add-intro` and `set-org`: install an introduction letter. */
import { addIntro, setOrg } from '@certified/core';
import type { Command } from '../cli.js';
import { loadMe, readText } from './shared.js';

export const addIntroCommand: Command = {
  name: 'add-intro',
  summary:
    'Install an introduction letter: saves id/<signer>.crt and a known_servers/ALIAS.yaml per listed service.',
  description:
    "The letter must be for this identity's key, signed by its ca_cert, and valid now; anything else is refused and nothing is written.",
  positionals: [
    {
      name: 'LETTER',
      required: true,
      description: 'The letter JSON from `certified introduce`; - for stdin.',
    },
  ],
  options: {
    overwrite: { type: 'boolean', description: 'Replace an existing signature or service file.' },
  },
  examples: ['certified add-intro intro_letter.json --config /home/other/etc/certified'],
  async run(ctx) {
    const me = await loadMe(ctx);
    const r = await addIntro(me, await readText(ctx, ctx.positionals[0]!), {
      overwrite: ctx.values['overwrite'] === true,
    });
    ctx.io.stdout(`Introduced by ${r.letter.signerName}; wrote ${r.written.join(', ')}.\n`);
    return 0;
  },
};

export const setOrgCommand: Command = {
  name: 'set-org',
  summary: "Join an organisation: its letter's certificate becomes id.crt; your own CA is removed.",
  description:
    'Removes CA.key, CA.crt, CA/, id/ and known_*/self.crt; writes id.crt, known_clients/org.crt and known_servers/org.crt. Requires --overwrite.',
  positionals: [
    { name: 'LETTER', required: true, description: "The organisation's letter JSON; - for stdin." },
  ],
  options: { overwrite: { type: 'boolean', description: 'Confirm replacing files (required).' } },
  examples: ['certified set-org org_letter.json --overwrite'],
  async run(ctx) {
    const me = await loadMe(ctx);
    const r = await setOrg(me, await readText(ctx, ctx.positionals[0]!), {
      overwrite: ctx.values['overwrite'] === true,
    });
    ctx.io.stdout(
      `Joined ${r.letter.signerName}; wrote ${r.written.join(', ')}; removed ${r.removed.join(', ')}.\n`,
    );
    return 0;
  },
};
