import { describe, expect, it } from 'vitest';
import { createSelfSignedCa } from '../x509/build-certificate.js';
import { generateKeyPair } from '../keys/keys.js';
import { organizationName } from '../x509/name.js';
import { CertificatePool } from './certificate-pool.js';

describe('CertificatePool', () => {
  it('never answers a rewritten buffer with its old contents, between peek and get or later', async () => {
    const keyPair = await generateKeyPair({ algorithm: 'Ed25519' });
    const ca = await createSelfSignedCa({
      subject: organizationName({ organization: 'Pool' }),
      keyPair,
    });
    const pool = new CertificatePool(16);
    const original = pool.get(ca.der.slice());
    const buffer = ca.der.slice();
    expect(pool.peek(buffer)).toBe(original);
    // Same length, other bytes: flip a bit of the signature.
    buffer[buffer.length - 1]! ^= 1;
    const reread = pool.get(buffer);
    expect(reread).not.toBe(original);
    expect(reread.der).toEqual(buffer);
    expect(pool.peek(buffer)).toBe(reread);
    // Rewritten back after a peek: the remembered hash is stale, which may cost a parse, never a
    // wrong answer.
    buffer[buffer.length - 1]! ^= 1;
    const back = pool.get(buffer);
    expect(back).not.toBe(reread);
    expect(back.der).toEqual(ca.der);
    expect(pool.get(ca.der.slice()).der).toEqual(ca.der);
  });
});
