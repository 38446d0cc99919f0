/** @module commands/introduce — `certified introduce`: sign someone's identity, print the letter. */
import { introduce, letterAliasProblem, serviceUrlProblem } from '@certified/identity';
import { list, str, usage, type Command } from '../cli.js';
import { loadMe, printJson } from './shared.js';

export const introduceCommand: Command = {
  name: 'introduce',
  summary:
    'Vouch for someone: sign their certificate or CSR with your CA and print an introduction letter (JSON).',
  description:
    'Only introduce someone after checking out of band that the certificate is theirs and that they keep their key secret. They install the letter with `certified add-intro`.',
  positionals: [
    {
      name: 'CERT',
      required: true,
      description:
        'Their id.crt or a CSR: PEM, DER, or base64-DER (get-ident output); - for stdin.',
    },
  ],
  options: {
    service: {
      type: 'string',
      multiple: true,
      placeholder: 'ALIAS=URL',
      description:
        'A service of yours to list in the letter, e.g. notes=https://127.0.0.1:8443. ALIAS must be a plain name (no dots or colons, not localhost).',
    },
    days: {
      type: 'string',
      placeholder: 'N',
      description: 'Lifetime of the signed identity in days; default 365.',
    },
  },
  examples: [
    'certified introduce /home/other/etc/certified/id.crt > intro_letter.json',
    'certified get-ident --config ../bob | certified introduce - --service notes=https://127.0.0.1:8443',
  ],
  async run(ctx) {
    const services: Record<string, string> = {};
    for (const s of list(ctx.values, 'service')) {
      const eq = s.indexOf('=');
      if (eq <= 0) usage(`--service ${JSON.stringify(s)} must be ALIAS=URL.`);
      const aliasProblem = letterAliasProblem(s.slice(0, eq));
      if (aliasProblem !== undefined)
        usage(
          `--service ${JSON.stringify(s)}: the alias ${aliasProblem}; add-intro refuses it. Use a plain alias such as notes=….`,
        );
      if (serviceUrlProblem(s.slice(eq + 1)) !== undefined)
        usage(
          `--service ${JSON.stringify(s)}: the URL must be https://host[:port][/prefix] (add-intro refuses anything else).`,
        );
      services[s.slice(0, eq)] = s.slice(eq + 1);
    }
    const daysText = str(ctx.values, 'days');
    const days = daysText === undefined ? undefined : Number(daysText);
    if (days !== undefined && !(Number.isInteger(days) && days > 0))
      usage(`--days must be a positive whole number; received ${JSON.stringify(daysText)}.`);
    const me = await loadMe(ctx);
    const subject = await ctx.io.readFile(ctx.positionals[0]!);
    const letter = await introduce(me, subject, {
      ...(Object.keys(services).length ? { services } : {}),
      ...(days === undefined ? {} : { days }),
    });
    printJson(ctx, letter);
    return 0;
  },
};
