/** @module commands/get-ident — `certified get-ident` / `get-signer`: our certificates for others. */
import { getIdent, getSigner } from '@certified/identity';
import type { Command } from '../cli.js';
import { certificateJson, JSON_OPTION, loadMe, report } from './shared.js';

export const getIdentCommand: Command = {
  name: 'get-ident',
  summary: 'Print your identity certificate as base64-DER, for someone to `introduce`.',
  positionals: [],
  options: { json: JSON_OPTION },
  examples: ['certified get-ident > my-id.b64'],
  async run(ctx) {
    const me = await loadMe(ctx);
    const ident = getIdent(me);
    report(
      ctx,
      () => ({ ident, certificate: certificateJson(me.id.certificate) }),
      () => `${ident}\n`,
    );
    return 0;
  },
};

export const getSignerCommand: Command = {
  name: 'get-signer',
  summary:
    'Print your CA certificate as JSON {"ca_cert": …}, for `add-service` or `add-client` elsewhere.',
  positionals: [],
  options: {},
  examples: ['certified get-signer > my-signer.json'],
  async run(ctx) {
    ctx.io.stdout(`${JSON.stringify(getSigner(await loadMe(ctx)))}\n`);
    return 0;
  },
};
