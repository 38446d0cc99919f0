/** @module commands/inspect — `certified inspect FILE`: any certificate, chain, CSR, letter or service file. */
import {
  decodeCertificate,
  decodeCsr,
  readDerInput,
  verifyCertificateSignature,
  type Certificate,
  type CertificationRequest,
} from '@certified/core';
import { formatCertificateText, inspectCertificate, inspectCsr } from '@certified/core/inspect';
import { parseIntroLetter, parseService } from '@certified/identity';
import { CliError, type Command } from '../cli.js';
import { printJson } from './shared.js';

type Item = { label: string; value: Certificate | CertificationRequest };

function decodeAny(der: Uint8Array, label: string): Item {
  if (label === 'CERTIFICATE REQUEST' || label === 'NEW CERTIFICATE REQUEST')
    return { label: 'certification request', value: decodeCsr(der) };
  if (label === 'CERTIFICATE') return { label: 'certificate', value: decodeCertificate(der) };
  try {
    return { label: 'certificate', value: decodeCertificate(der) };
  } catch (e) {
    try {
      return { label: 'certification request', value: decodeCsr(der) };
    } catch {
      throw e;
    }
  }
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Explain any certificate, chain, CSR, introduction letter or known_servers YAML file.',
  positionals: [
    {
      name: 'FILE',
      required: true,
      description: 'PEM, DER, base64-DER, letter JSON or service YAML; - for stdin.',
    },
  ],
  options: { json: { type: 'boolean', description: 'Print JSON.' } },
  examples: [
    'certified inspect intro_letter.json',
    'certified inspect ~/etc/certified/id.crt --json',
  ],
  async run(ctx) {
    const file = ctx.positionals[0]!;
    const bytes = await ctx.io.readFile(file);
    const text = bytes[0] === 0x30 ? '' : new TextDecoder().decode(bytes);
    const json = ctx.values['json'] === true;
    const view = (i: Item) =>
      'tbs' in i.value && 'serialNumber' in i.value
        ? inspectCertificate(i.value as Certificate)
        : inspectCsr(i.value as CertificationRequest);
    const print = (title: string, items: Item[], extra: Record<string, unknown> = {}) => {
      if (json) printJson(ctx, { kind: title, ...extra, items: items.map(view) });
      else {
        const lines = [`${file}: ${title}`];
        for (const [k, v] of Object.entries(extra))
          lines.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
        items.forEach((i, n) =>
          lines.push('', `# ${n + 1}. ${i.label}`, formatCertificateText(i.value)),
        );
        ctx.io.stdout(`${lines.join('\n')}\n`);
      }
      return 0;
    };
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(trimmed) as Record<string, unknown>;
      } catch (e) {
        throw new CliError(
          'ERR_FILE_READ',
          `Cannot read ${file}: it is not valid JSON (${(e as Error).message}).`,
          { cause: e },
        );
      }
      if ('signed_cert' in obj) {
        const letter = parseIntroLetter(obj);
        let signature = 'valid: signed_cert was signed by ca_cert';
        try {
          await verifyCertificateSignature(letter.signedCert, letter.caCert);
        } catch (e) {
          signature = `INVALID: ${(e as Error).message}`;
        }
        return print(
          'introduction letter',
          [
            { label: 'signed_cert (the introduced identity)', value: letter.signedCert },
            { label: 'ca_cert (the introducer)', value: letter.caCert },
          ],
          { signature, services: letter.services },
        );
      }
      if (typeof obj['ca_cert'] === 'string')
        return print('signer (get-signer JSON)', [
          decodeAny(readDerInput(obj['ca_cert']).blocks[0]!.der, 'CERTIFICATE'),
        ]);
    }
    if (/^url:|\nurl:/m.test(text) && !text.includes('-----BEGIN')) {
      const alias = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
      const s = parseService(alias, file, text);
      return print(
        'service (known_servers YAML)',
        s.cert ? [{ label: 'pinned cert', value: s.cert }] : [],
        {
          url: s.url,
          auths: s.auths,
        },
      );
    }
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      const label = /-----BEGIN ([A-Z ]*PRIVATE KEY)-----/.exec(text)![1]!;
      ctx.io.stdout(`${file}: a private key (${label}); not printed.\n`);
      return 0;
    }
    const { blocks } = readDerInput(bytes.length && bytes[0] === 0x30 ? bytes : text);
    const items = blocks.map((b) => decodeAny(b.der, b.label));
    return print(items.length > 1 ? `chain of ${items.length}` : items[0]!.label, items);
  },
};
