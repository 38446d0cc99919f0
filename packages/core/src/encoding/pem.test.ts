import { describe, expect, it } from 'vitest';
import { toHex } from '../internal/bytes.js';
import {
  decodePem,
  decodePemBundle,
  encodePem,
  fromBase64Der,
  MAX_TEXT_LENGTH,
  readDerInput,
  toBase64Der,
  toOrnlBase64Der,
} from './pem.js';
import { thrown } from '@certified/testing';

/** A small DER SEQUENCE, long enough to wrap over two base64 lines. */
const der = Uint8Array.from([0x30, 0x50, ...Array.from({ length: 0x50 }, (_, i) => i)]);
const der2 = Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x07]);
const pem = encodePem('CERTIFICATE', der);
const pem2 = encodePem('CERTIFICATE', der2);

describe('encodePem', () => {
  it('wraps base64 at 64 columns between BEGIN and END lines', () => {
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines[1]).toHaveLength(64);
    expect(lines[2]!.length).toBeLessThanOrEqual(64);
    expect(lines[3]).toBe('-----END CERTIFICATE-----');
    expect(lines[4]).toBe('');
    expect(lines).toHaveLength(5);
  });

  it('refuses a lower-case or empty label with TypeError', () => {
    expect(() => encodePem('certificate', der)).toThrow(TypeError);
    expect(() => encodePem('', der)).toThrow(TypeError);
    expect(() => encodePem('A-B', der)).toThrow(TypeError);
  });
});

describe('decodePem', () => {
  it('round-trips one block', () => {
    const block = decodePem(pem);
    expect(block.label).toBe('CERTIFICATE');
    expect(toHex(block.der)).toBe(toHex(der));
  });

  it('accepts CRLF line endings and explanatory text around the block', () => {
    const text = `Subject: CN=x\r\nIssuer: CN=y\r\n${pem.replace(/\n/g, '\r\n')}trailing words\n`;
    expect(toHex(decodePem(text, { label: 'CERTIFICATE' }).der)).toBe(toHex(der));
  });

  it('checks the label against one or several expected labels', () => {
    expect(decodePem(pem, { label: ['TRUSTED CERTIFICATE', 'CERTIFICATE'] }).label).toBe(
      'CERTIFICATE',
    );
  });

  it('rejects a different label with ERR_PEM_LABEL_MISMATCH', () => {
    const key = encodePem('PRIVATE KEY', der2);
    const e = thrown(() => decodePem(key, { label: 'CERTIFICATE' }));
    expect(e.code).toBe('ERR_PEM_LABEL_MISMATCH');
    expect(e.message).toBe('Expected a PEM "CERTIFICATE" block, found "PRIVATE KEY".');
    expect(e.field).toBe('PRIVATE KEY');
  });

  it('rejects several blocks with ERR_PEM_MALFORMED', () => {
    const e = thrown(() => decodePem(pem + pem2));
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toContain('found 2');
  });
});

describe('decodePemBundle', () => {
  it('decodes every block in order, ignoring text between them', () => {
    const text = `# chain\n${pem}\nsubject=CN=intermediate\n${pem2}\n-- end --\n`;
    const blocks = decodePemBundle(text);
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'CERTIFICATE']);
    expect(toHex(blocks[0]!.der)).toBe(toHex(der));
    expect(toHex(blocks[1]!.der)).toBe(toHex(der2));
  });

  it('can be called again after a failure (no stale regex state)', () => {
    expect(() => decodePemBundle(pem + pem2.replace('END CERTIFICATE', 'END X509 CRL'))).toThrow();
    expect(decodePemBundle(pem2)).toHaveLength(1);
    expect(decodePemBundle(pem + pem2)).toHaveLength(2);
  });

  it('rejects mismatched BEGIN and END labels with ERR_PEM_MALFORMED', () => {
    const text = pem.replace('END CERTIFICATE', 'END PRIVATE KEY');
    const e = thrown(() => decodePemBundle(text));
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toBe('A PEM block begins as "CERTIFICATE" but ends as "PRIVATE KEY".');
    expect(e.reason).toBe('label mismatch');
  });

  it('rejects text without any block with ERR_PEM_MALFORMED', () => {
    for (const text of [
      '',
      'hello world',
      '-----END CERTIFICATE-----',
      '\u0000\u0001garbage\uFFFD',
    ]) {
      const e = thrown(() => decodePemBundle(text));
      expect(e.code, JSON.stringify(text)).toBe('ERR_PEM_MALFORMED');
      expect(e.message).toContain('no "-----BEGIN …-----" line');
    }
  });

  it('rejects a block without an END line with ERR_PEM_MALFORMED', () => {
    const e = thrown(() => decodePemBundle(pem.replace(/-----END [^\n]*\n/, '')));
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toContain('not terminated');
  });

  it('rejects a block that swallows the next BEGIN with ERR_PEM_MALFORMED', () => {
    const e = thrown(() => decodePemBundle(pem.replace(/-----END [^\n]*\n/, '') + pem2));
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toContain('not terminated');
    expect(e.reason).toBe('unterminated');
  });

  it('rejects RFC 1421 headers (Proc-Type) with ERR_PEM_MALFORMED', () => {
    const legacy = [
      '-----BEGIN RSA PRIVATE KEY-----',
      'Proc-Type: 4,ENCRYPTED',
      'DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF',
      '',
      'MAMCAQc=',
      '-----END RSA PRIVATE KEY-----',
    ].join('\n');
    const e = thrown(() => decodePemBundle(legacy));
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toContain('RFC 1421 headers');
    expect(e.reason).toBe('headers');
  });

  it('rejects a body that is not base64 with ERR_PEM_MALFORMED', () => {
    const e = thrown(() =>
      decodePemBundle('-----BEGIN CERTIFICATE-----\nMII$$$\n-----END CERTIFICATE-----\n'),
    );
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toBe('The body of the PEM block "CERTIFICATE" is not valid base64.');
    expect((e as { cause?: { code?: string } }).cause?.code).toBe('ERR_BASE64_MALFORMED');
  });

  it('rejects an empty block with ERR_PEM_MALFORMED', () => {
    const e = thrown(() =>
      decodePemBundle('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'),
    );
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toContain('is empty');
  });

  it('rejects text over MAX_TEXT_LENGTH with ERR_INPUT_TOO_LARGE', () => {
    const text = pem + ' '.repeat(MAX_TEXT_LENGTH);
    const e = thrown(() => decodePemBundle(text));
    expect(e.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(e.message).toContain(String(MAX_TEXT_LENGTH));
  });
});

describe('toBase64Der / fromBase64Der', () => {
  it('round-trips without line breaks', () => {
    const b64 = toBase64Der(der);
    expect(b64).not.toContain('\n');
    expect(toHex(fromBase64Der(b64))).toBe(toHex(der));
  });

  it('rejects bad base64 with ERR_BASE64_MALFORMED', () => {
    const e = thrown(() => fromBase64Der('MIIB!'));
    expect(e.code).toBe('ERR_BASE64_MALFORMED');
    expect(e.message).toContain('not valid base64');
  });

  it('rejects text over MAX_TEXT_LENGTH with ERR_INPUT_TOO_LARGE', () => {
    const e = thrown(() => fromBase64Der('A'.repeat(MAX_TEXT_LENGTH + 4)));
    expect(e.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(e.message).toContain('limit');
  });
});

describe('readDerInput', () => {
  const enc = new TextEncoder();

  it('detects DER bytes', () => {
    const r = readDerInput(der);
    expect(r.encoding).toBe('der');
    expect(r.blocks).toHaveLength(1);
    expect(r.blocks[0]!.label).toBe('');
    expect(toHex(r.blocks[0]!.der)).toBe(toHex(der));
    expect(readDerInput(der.slice().buffer).encoding).toBe('der');
  });

  it('detects PEM text and PEM bytes', () => {
    for (const input of [pem, enc.encode(pem)]) {
      const r = readDerInput(input, ['CERTIFICATE']);
      expect(r.encoding).toBe('pem');
      expect(toHex(r.blocks[0]!.der)).toBe(toHex(der));
    }
  });

  it('detects base64-DER text and bytes, with or without whitespace', () => {
    const b64 = toBase64Der(der);
    for (const input of [b64, `  ${b64}\n`, b64.replace(/(.{20})/g, '$1\n'), enc.encode(b64)]) {
      const r = readDerInput(input, ['CERTIFICATE']);
      expect(r.encoding).toBe('base64');
      expect(r.blocks[0]!.label).toBe('');
      expect(toHex(r.blocks[0]!.der)).toBe(toHex(der));
    }
  });

  it('returns every block of a bundle', () => {
    const r = readDerInput(pem2 + pem);
    expect(r.blocks.map((b) => toHex(b.der))).toEqual([toHex(der2), toHex(der)]);
  });

  it('rejects a PEM block with an unexpected label with ERR_PEM_LABEL_MISMATCH', () => {
    const e = thrown(() => readDerInput(pem + encodePem('PRIVATE KEY', der2), ['CERTIFICATE']));
    expect(e.code).toBe('ERR_PEM_LABEL_MISMATCH');
    expect(e.message).toBe('Expected a PEM "CERTIFICATE" block, found "PRIVATE KEY".');
  });

  it('rejects empty input with ERR_PEM_MALFORMED', () => {
    for (const input of ['', '  \n', new Uint8Array(0)]) {
      const e = thrown(() => readDerInput(input));
      expect(e.code).toBe('ERR_PEM_MALFORMED');
      expect(e.message).toBe('The input is empty.');
    }
  });

  it('rejects text that is neither DER, PEM nor base64 with ERR_PEM_MALFORMED', () => {
    for (const input of [
      'not a certificate!',
      'MIIB*~',
      enc.encode('{"kty":"EC"}'),
      new Uint8Array([0x02, 0x01, 0x00]),
    ]) {
      const e = thrown(() => readDerInput(input));
      expect(e.code).toBe('ERR_PEM_MALFORMED');
      expect(e.message).toBe('The input is neither DER, PEM nor base64-DER.');
    }
  });

  it('rejects base64-looking text with a bad length with ERR_BASE64_MALFORMED', () => {
    const e = thrown(() => readDerInput('MIIBa'));
    expect(e.code).toBe('ERR_BASE64_MALFORMED');
    expect(e.message).toContain('not valid base64');
  });

  it('rejects oversized text and non-DER bytes with ERR_INPUT_TOO_LARGE', () => {
    const e = thrown(() => readDerInput('A'.repeat(MAX_TEXT_LENGTH + 1)));
    expect(e.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(e.message).toContain('limit');
    const big = new Uint8Array(MAX_TEXT_LENGTH + 1).fill(0x41);
    const e2 = thrown(() => readDerInput(big));
    expect(e2.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(e2.message).toContain('bytes');
  });
});

describe('ORNL base64 alphabet', () => {
  it('reads base64-DER written with - and _ (ORNL certified letters) as the standard alphabet', () => {
    const der = new Uint8Array(300).map((_, i) => (i * 37 + 251) & 0xff);
    der[0] = 0x30;
    const ornl = toOrnlBase64Der(der);
    expect(ornl).toMatch(/[-_]/);
    expect(ornl).not.toMatch(/[+/]/);
    expect(fromBase64Der(ornl)).toEqual(der);
    expect(readDerInput(ornl).blocks[0]!.der).toEqual(der);
    expect(fromBase64Der(toBase64Der(der))).toEqual(der);
  });

  it('rejects a text mixing both alphabets with ERR_BASE64_MALFORMED', () => {
    const e = thrown(() => fromBase64Der('ab+c-d/_'));
    expect(e.code).toBe('ERR_BASE64_MALFORMED');
    expect(e.message).toMatch(/mixes/);
  });
});
