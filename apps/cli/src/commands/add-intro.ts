/** @module commands/add-intro — `certified add-intro` and `set-org`: install an introduction letter. */
import { addIntro, setOrg, type IntroResult } from '@certified/identity';
import type { Command } from '../cli.js';
import { JSON_OPTION, loadMe, readText, report } from './shared.js';

export const addIntroCommand: Command = {
  name: 'add-intro',
  summary:
    'Install an introduction letter: saves id/<signer>.crt and a known_servers/ALIAS.yaml per listed service.',
  description:
    "The letter must be for this identity's key, signed by its ca_cert, and valid now. Its services may only add aliases: one named like a real host (a dotted name, an IP address, host:port, localhost) is refused, so a letter never changes where https://api.example.org/… goes. It never replaces another introducer's (or add-service's) file, even with --overwrite. Anything refused writes nothing; what is installed is printed, file by file.",
  positionals: [
    {
      name: 'LETTER',
      required: true,
      description: 'The letter JSON from `certified introduce`; - for stdin.',
    },
  ],
  options: {
    json: JSON_OPTION,
    overwrite: {
      type: 'boolean',
      description: "Replace this introducer's own signature and service files.",
    },
  },
  examples: ['certified add-intro intro_letter.json --config /home/other/etc/certified'],
  async run(ctx) {
    const me = await loadMe(ctx);
    const r = await addIntro(me, await readText(ctx, ctx.positionals[0]!), {
      overwrite: ctx.values['overwrite'] === true,
    });
    report(
      ctx,
      () => introJson(r),
      () =>
        `Introduced by ${r.letter.signerName} (CA, SHA-256 ${r.caFingerprint}).\n${installedText(r)}`,
    );
    return 0;
  },
};

/** One line per file a letter installed: the signature, and where each alias now goes. */
function installedText(r: IntroResult): string {
  return r.installed
    .map((f) =>
      f.kind === 'signature'
        ? `  ${f.path}: your identity as it signed it\n`
        : `  ${f.path}: https://${f.alias}/… goes to ${f.url}, whose server must chain to that CA\n`,
    )
    .join('');
}

/** add-intro's and set-org's --json shape. */
function introJson(r: IntroResult): object {
  return {
    signer: r.letter.signerName,
    caFingerprint: r.caFingerprint,
    written: r.written,
    removed: r.removed,
    installed: r.installed,
  };
}

export const setOrgCommand: Command = {
  name: 'set-org',
  summary: "Join an organisation: its letter's certificate becomes id.crt; your own CA is removed.",
  description:
    "Removes CA.key, CA.crt, CA/, id/ and known_*/self.crt; writes id.crt, known_clients/org.crt and known_servers/org.crt (the organisation's CA now judges your callers and servers), and the letter's services under the same rules as add-intro. Requires --overwrite.",
  positionals: [
    { name: 'LETTER', required: true, description: "The organisation's letter JSON; - for stdin." },
  ],
  options: {
    json: JSON_OPTION,
    overwrite: { type: 'boolean', description: 'Confirm replacing files (required).' },
  },
  examples: ['certified set-org org_letter.json --overwrite'],
  async run(ctx) {
    const me = await loadMe(ctx);
    const r = await setOrg(me, await readText(ctx, ctx.positionals[0]!), {
      overwrite: ctx.values['overwrite'] === true,
    });
    report(
      ctx,
      () => introJson(r),
      () =>
        `Joined ${r.letter.signerName} (CA, SHA-256 ${r.caFingerprint}); wrote ${r.written.join(', ')}; removed ${r.removed.join(', ')}.\n${installedText(r)}`,
    );
    return 0;
  },
};
