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

  it('recall answers only exactly the bytes it holds, and keeps what it answers from eviction', async () => {
    const keyPair = await generateKeyPair({ algorithm: 'Ed25519' });
    const certs = await Promise.all(
      ['A', 'B', 'C'].map((o) =>
        createSelfSignedCa({ subject: organizationName({ organization: o }), keyPair }),
      ),
    );
    const pool = new CertificatePool(2);
    const a = pool.get(certs[0]!.der.slice());
    pool.get(certs[1]!.der.slice());
    const buffer = certs[0]!.der.slice();
    expect(pool.recall(buffer)).toBe(a);
    buffer[buffer.length - 1]! ^= 1;
    expect(pool.recall(buffer)).toBeUndefined(); // rewritten: never its old answer
    // recall counted as a use of A, so adding C evicts B, not A.
    pool.get(certs[2]!.der.slice());
    expect(pool.recall(certs[0]!.der.slice())).toBe(a);
    expect(pool.peek(certs[1]!.der.slice())).toBeUndefined();
    expect(new CertificatePool(0).recall(certs[0]!.der)).toBeUndefined();
  });

  it('admits every certificate while there is room, then only one offered a second time', async () => {
    const keyPair = await generateKeyPair({ algorithm: 'Ed25519' });
    const certs = await Promise.all(
      ['A', 'B', 'C', 'D'].map((o) =>
        createSelfSignedCa({ subject: organizationName({ organization: o }), keyPair }),
      ),
    );
    const [a, b, c, d] = certs.map((x) => x.der);
    const pool = new CertificatePool(2);
    expect(pool.admits(a!)).toBe(true);
    pool.get(a!.slice());
    expect(pool.admits(b!)).toBe(true);
    pool.get(b!.slice());
    // Full: C is parsed but not remembered on its first offer, nor D; C's second offer admits it.
    expect(pool.admits(c!)).toBe(false);
    const once = pool.get(c!.slice(), false);
    expect(once.der).toEqual(c);
    expect(pool.peek(c!)).toBeUndefined();
    expect(pool.admits(d!)).toBe(false);
    expect(pool.admits(c!.slice())).toBe(true);
    const kept = pool.get(c!.slice());
    expect(pool.peek(c!)).toBe(kept);
    // Admitting C evicted the least recently used (A); B and C stay, D was never remembered.
    expect(pool.peek(a!)).toBeUndefined();
    expect(pool.peek(b!)).toBeDefined();
    expect(pool.peek(d!)).toBeUndefined();
    // get(…, 'if-admitted') asks the same question on a miss: D was offered once, so now it stays.
    const again = pool.get(d!.slice(), 'if-admitted');
    expect(pool.peek(d!)).toBe(again);
    // A certificate it holds is answered whatever the mode, and its offer is not recorded.
    expect(pool.get(c!.slice(), 'if-admitted')).toBe(kept);
  });

  it('keeps a certificate used every few insertions, and evicts one unused for a full pool of them', async () => {
    const keyPair = await generateKeyPair({ algorithm: 'Ed25519' });
    const certs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        createSelfSignedCa({ subject: organizationName({ organization: `O${i}` }), keyPair }),
      ),
    );
    const pool = new CertificatePool(8);
    const used = pool.get(certs[0]!.der.slice());
    const unused = pool.get(certs[1]!.der.slice());
    // Recency is refreshed lazily (not on every hit), but a certificate found at least once per
    // quarter of the pool's size in insertions is never the one evicted.
    for (let i = 2; i < 40; i++) {
      pool.get(certs[i]!.der.slice());
      if (i % 2 === 0) expect(pool.recall(certs[0]!.der.slice())).toBe(used);
    }
    expect(pool.peek(certs[0]!.der)).toBe(used);
    expect(pool.peek(certs[1]!.der)).toBeUndefined();
    expect(unused.der).toEqual(certs[1]!.der);
    // Exactly the pool's size is held: the 7 newest and the one in use.
    expect(certs.filter((c) => pool.peek(c.der)).length).toBe(8);
  });
});
