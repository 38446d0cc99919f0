/**
 * @module encoding/pem — PEM (RFC 7468) blocks and bundles, base64-DER, and input sniffing.
 */
import { Base64Malformed, InputTooLarge, PemLabelMismatch, PemMalformed } from '../errors.js';
import { fromBase64, toBase64 } from '../internal/bytes.js';

/** Largest PEM/base64 text accepted (a long chain bundle fits easily). */
export const MAX_TEXT_LENGTH: number = 8 * 1024 * 1024;

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN`/`END`, e.g. `"CERTIFICATE"`. */
  readonly label: string;
  /** The decoded DER bytes. */
  readonly der: Uint8Array;
}

function checkSize(text: string): void {
  if (text.length > MAX_TEXT_LENGTH) {
    throw new InputTooLarge(
      `The text is ${text.length} characters; the limit is ${MAX_TEXT_LENGTH}.`,
      {
        reason: 'text too large',
      },
    );
  }
}

/**
 * Encodes DER as a PEM block with 64-column base64 lines.
 *
 * @param label - the block label, e.g. `"CERTIFICATE"`.
 * @param der - the bytes to wrap.
 * @example
 * encodePem('CERTIFICATE', cert.der); // "-----BEGIN CERTIFICATE-----\nMII…"
 */
export function encodePem(label: string, der: Uint8Array): string {
  if (!/^[A-Z0-9][A-Z0-9 ]*$/.test(label))
    throw new TypeError(`label must be an upper-case PEM label, received ${JSON.stringify(label)}`);
  const b64 = toBase64(der);
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/**
 * Decodes every PEM block in `text` (a bundle), in order. Text between blocks is ignored, as
 * OpenSSL's "explanatory text" is (RFC 7468 §5.2).
 *
 * @param text - PEM text with one or more blocks.
 * @throws ERR_PEM_MALFORMED when there is no block, a block is unterminated, or its body is not base64.
 * @throws ERR_INPUT_TOO_LARGE past {@link MAX_TEXT_LENGTH}.
 * @example
 * const blocks = decodePemBundle(chainPem); // [{ label: 'CERTIFICATE', der }, …]
 */
export function decodePemBundle(text: string): PemBlock[] {
  checkSize(text);
  const out: PemBlock[] = [];
  BLOCK.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = BLOCK.exec(text))) {
    const [, begin, body, end] = m;
    if (begin !== end) {
      throw new PemMalformed(`A PEM block begins as "${begin}" but ends as "${end}".`, {
        reason: 'label mismatch',
      });
    }
    const inner = body!;
    if (/-----BEGIN /.test(inner))
      throw new PemMalformed(`The PEM block "${begin}" is not terminated.`, {
        reason: 'unterminated',
      });
    if (/^\s*[A-Za-z-]+:/m.test(inner)) {
      throw new PemMalformed(
        `The PEM block "${begin}" has RFC 1421 headers (an encrypted legacy key?); they are not supported.`,
        {
          reason: 'headers',
        },
      );
    }
    let der: Uint8Array;
    try {
      der = fromBase64(inner, begin);
    } catch (e) {
      throw new PemMalformed(`The body of the PEM block "${begin}" is not valid base64.`, {
        reason: 'bad base64',
        cause: e,
      });
    }
    if (der.length === 0)
      throw new PemMalformed(`The PEM block "${begin}" is empty.`, { reason: 'empty' });
    out.push({ label: begin!, der });
  }
  if (out.length === 0) {
    const why = /-----BEGIN /.test(text)
      ? 'a PEM block is not terminated'
      : 'no "-----BEGIN …-----" line';
    throw new PemMalformed(`The text is not PEM: ${why}.`, { reason: 'no block' });
  }
  return out;
}

/**
 * Decodes exactly one PEM block, optionally checking its label.
 *
 * @param text - PEM text holding one block.
 * @param options.label - the label(s) the block must have; any label when omitted.
 * @throws ERR_PEM_LABEL_MISMATCH when the label differs; ERR_PEM_MALFORMED for broken PEM or several blocks.
 * @example
 * const der = decodePem(text, { label: 'CERTIFICATE' }).der;
 */
export function decodePem(
  text: string,
  options: { label?: string | readonly string[] } = {},
): PemBlock {
  const blocks = decodePemBundle(text);
  if (blocks.length !== 1) {
    throw new PemMalformed(`Expected one PEM block, found ${blocks.length}.`, {
      reason: 'several blocks',
    });
  }
  const block = blocks[0]!;
  if (options.label !== undefined) {
    const labels = typeof options.label === 'string' ? [options.label] : options.label;
    if (!labels.includes(block.label)) {
      throw new PemLabelMismatch(
        `Expected a PEM "${labels.join('" or "')}" block, found "${block.label}".`,
        {
          field: block.label,
          reason: 'label mismatch',
        },
      );
    }
  }
  return block;
}

/**
 * Turns DER into base64 with no line breaks — the form ORNL certified's letters and YAML files use.
 *
 * @example
 * const letter = { signed_cert: toBase64Der(cert.der) };
 */
export function toBase64Der(der: Uint8Array): string {
  return toBase64(der);
}

/**
 * Decodes base64-DER (whitespace allowed), in the standard alphabet or ORNL certified's (`-` and `_` for
 * `+` and `/`, as its letters and YAML files carry). Mixing the two in one text is refused.
 *
 * @throws ERR_BASE64_MALFORMED when the text is not base64.
 * @example
 * const der = fromBase64Der(letter.signed_cert);
 */
export function fromBase64Der(text: string): Uint8Array {
  checkSize(text);
  return fromBase64(fromUrlAlphabet(text));
}

/**
 * Turns DER into base64 in ORNL certified's alphabet (`-` and `_` for `+` and `/`, padded), as its
 * `get-ident`, `introduce` and `known_servers/*.yaml` write it.
 *
 * @example
 * const line = toOrnlBase64Der(cert.der); // what `certified get-ident` prints
 */
export function toOrnlBase64Der(der: Uint8Array): string {
  return toBase64(der).replace(/\+/g, '-').replace(/\//g, '_');
}

function fromUrlAlphabet(text: string): string {
  const url = /[-_]/.test(text);
  if (url && /[+/]/.test(text))
    throw new Base64Malformed('The text mixes the standard and URL-safe base64 alphabets.', {
      field: 'base64',
    });
  return url ? text.replace(/-/g, '+').replace(/_/g, '/') : text;
}

/** How a piece of input was encoded. */
export type InputEncoding = 'pem' | 'der' | 'base64';

/**
 * Accepts DER bytes, PEM text or base64-DER text and returns the DER blocks it holds, with labels
 * where PEM gave them. This is what every `parse…` function accepts.
 *
 * @param input - bytes (DER, or PEM/base64 as UTF-8) or a string.
 * @param expectedLabels - PEM labels accepted; others give ERR_PEM_LABEL_MISMATCH.
 * @example
 * const [{ der }] = readDerInput(fileBytes, ['CERTIFICATE']);
 */
export function readDerInput(
  input: Uint8Array | ArrayBuffer | string,
  expectedLabels?: readonly string[],
): { encoding: InputEncoding; blocks: PemBlock[] } {
  let text: string | undefined;
  if (typeof input === 'string') {
    text = input;
  } else {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    // DER always starts with a constructed SEQUENCE tag for the structures we read.
    if (bytes[0] === 0x30) return { encoding: 'der', blocks: [{ label: '', der: bytes }] };
    if (bytes.length > MAX_TEXT_LENGTH) {
      throw new InputTooLarge(
        `The input is ${bytes.length} bytes; the limit is ${MAX_TEXT_LENGTH}.`,
        { reason: 'input too large' },
      );
    }
    text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  }
  checkSize(text);
  if (text.includes('-----BEGIN ')) {
    const blocks = decodePemBundle(text);
    if (expectedLabels) {
      for (const b of blocks) {
        if (!expectedLabels.includes(b.label)) {
          throw new PemLabelMismatch(
            `Expected a PEM "${expectedLabels.join('" or "')}" block, found "${b.label}".`,
            {
              field: b.label,
              reason: 'label mismatch',
            },
          );
        }
      }
    }
    return { encoding: 'pem', blocks };
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new PemMalformed('The input is empty.', { reason: 'empty' });
  if (!/^[A-Za-z0-9+/_=\s-]+$/.test(trimmed)) {
    throw new PemMalformed('The input is neither DER, PEM nor base64-DER.', {
      reason: 'unrecognised encoding',
    });
  }
  const der = fromBase64(fromUrlAlphabet(trimmed));
  // Plain words are valid base64 too; what we read is always a DER SEQUENCE.
  if (der[0] !== 0x30)
    throw new PemMalformed('The input is neither DER, PEM nor base64-DER.', {
      reason: 'unrecognised encoding',
    });
  return { encoding: 'base64', blocks: [{ label: '', der }] };
}

/**
 * The DER of exactly one `what` in `input` (DER, PEM or base64), as every single-object `parse…`
 * function reads it.
 *
 * @param hint - appended to the message when there are several, e.g. `; use parseCertificates`.
 * @throws ERR_PEM_MALFORMED when there is not exactly one; the codes of {@link readDerInput}.
 * @example
 * const der = readOneDer(input, ['X509 CRL'], 'CRL');
 */
export function readOneDer(
  input: Uint8Array | string,
  labels: readonly string[],
  what: string,
  hint = '',
): Uint8Array {
  const { blocks } = readDerInput(input, labels);
  if (blocks.length !== 1)
    throw new PemMalformed(`Expected one ${what}, found ${blocks.length}${hint}.`, {
      reason: 'several blocks',
    });
  return blocks[0]!.der;
}
