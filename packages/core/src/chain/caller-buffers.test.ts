import { describe, expect, it } from 'vitest';
import { issuingChain } from '../../test/leaves.js';
import { equalBytes } from '../internal/bytes.js';
import { createPathValidator } from './validate-path.js';
import { countingCrypto } from '../../test/counting-crypto.js';

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

  it('a new chain: the caller rewriting its intermediate, names and lists once validate() returned changes nothing', async () => {
    const { root, intermediate, leaf } = await chain(alg);
    const validator = createPathValidator({ anchors: [root.der] });
    const inter = intermediate.der.slice();
    const input = {
      peer: (await leaf('fresh')).der.slice(),
      chain: [inter],
      purpose: 'serverAuth' as const,
      peerName: 'early.example',
      requiredKeyUsages: ['digitalSignature'] as ('digitalSignature' | 'keyCertSign')[],
    };
    const pending = validator.validate(input);
    // The intermediate's issuer name, changed in place ("Leaves" → "Leaver"); then another name,
    // and a key usage the leaf lacks.
    const at = Buffer.from(inter).lastIndexOf('Leaves');
    inter[at + 5] = 0x72;
    input.peerName = 'other.example';
    input.requiredKeyUsages.push('keyCertSign');
    const r = await pending;
    expect(r.ok).toBe(true);
    expect(r.ok && equalBytes(r.path[1]!.der, intermediate.der)).toBe(true);
  });

  it('a new chain costs two verifications and one key import, each once', async () => {
    const { root, intermediate, leaf } = await chain(alg);
    const counting = countingCrypto();
    const { calls } = counting;
    const validator = createPathValidator({ anchors: [root.der], crypto: counting.crypto });
    expect(calls).toEqual({ verify: 0, importKey: 1 }); // the anchor's key, made ready up front
    const under = async (name: string) =>
      validator.validate({
        peer: (await leaf(name)).der,
        chain: [intermediate.der],
        purpose: 'serverAuth',
        peerName: 'early.example',
      });
    const r = await under('counted');
    expect(r.ok).toBe(true);
    expect(r.work.signatureChecks).toBe(2);
    expect(calls).toEqual({ verify: 2, importKey: 2 });
    // A second leaf under the intermediate now known: one verification, no import.
    expect((await under('counted-two')).ok).toBe(true);
    expect(calls).toEqual({ verify: 3, importKey: 2 });
  });

  it('a new chain under a full certificate pool is still verified once per link', async () => {
    const [a, b] = await Promise.all([chain(alg), chain(alg)]);
    const counting = countingCrypto();
    // cacheSize 1 keeps two certificates: the two anchors fill it, so the intermediate is parsed
    // without being remembered, and must be handed over, not parsed again.
    const validator = createPathValidator({
      anchors: [a.root.der, b.root.der],
      cacheSize: 1,
      crypto: counting.crypto,
    });
    const r = await validator.validate({
      peer: (await a.leaf('full')).der,
      chain: [a.intermediate.der],
      purpose: 'serverAuth',
      peerName: 'early.example',
    });
    expect(r.ok).toBe(true);
    expect(counting.verifies()).toBe(2);
  });

  it('a new chain whose intermediate was not signed by the anchor is refused at the intermediate', async () => {
    const { root, intermediate, leaf } = await chain(alg);
    const validator = createPathValidator({ anchors: [root.der] });
    const bad = intermediate.der.slice();
    bad[bad.length - 1]! ^= 1;
    const r = await validator.validate({
      peer: (await leaf('orphan')).der,
      chain: [bad],
      purpose: 'serverAuth',
      peerName: 'early.example',
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    expect(!r.ok && r.certIndex).toBe(1);
  });
});
