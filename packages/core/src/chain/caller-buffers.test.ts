import { describe, expect, it } from 'vitest';
import { issuingChain } from '../../test/leaves.js';
import { equalBytes } from '../internal/bytes.js';
import { createPathValidator } from './validate-path.js';

async function chain(alg: 'P-256' | 'Ed25519') {
  const { root, intermediate, leaf } = await issuingChain(alg);
  return { root, intermediate, leaf: (commonName: string) => leaf(commonName, 'early.example') };
}

describe.each(['P-256', 'Ed25519'] as const)('a new chain (%s)', (alg) => {
  it('judges the bytes given: a caller rewriting its buffers once validate() returned changes nothing', async () => {
    const { root, intermediate, leaf } = await chain(alg);
    const validator = createPathValidator({ anchors: [root.der] });
    // First a new chain, then a new peer under the intermediate now known (whose signature check
    // starts from a light read of the caller's bytes, before the full parse).
    for (const name of ['genuine', 'genuine-two']) {
      const genuine = (await leaf(name)).der;
      const buffer = genuine.slice();
      const pending = validator.validate({
        peer: buffer,
        chain: [intermediate.der.slice()],
        purpose: 'serverAuth',
        peerName: 'early.example',
      });
      // A socket reusing its buffer: "genuine" becomes "Genuine", still a well-formed certificate
      // but not the bytes that were signed.
      const at = Buffer.from(buffer).indexOf(name);
      expect(at).toBeGreaterThan(0);
      buffer[at] = 0x47;
      const r = await pending;
      expect(r.ok).toBe(true);
      expect(r.ok && r.peer.commonName).toBe(name);
      expect(r.ok && equalBytes(r.peer.certificate.der, genuine)).toBe(true);
    }
  });

  it('is refused when the peer signature is broken', async () => {
    const { root, intermediate, leaf } = await chain(alg);
    const validator = createPathValidator({ anchors: [root.der] });
    const bad = (await leaf('tampered')).der.slice();
    bad[bad.length - 1]! ^= 1;
    const r = await validator.validate({
      peer: bad,
      chain: [intermediate.der.slice()],
      purpose: 'serverAuth',
      peerName: 'early.example',
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe('ERR_CHAIN_SIGNATURE_INVALID');
  });
});
