/**
 * @module bench/chain-peers.test — proves each benchmark peer really validates: it accepts the good chain
 * and refuses a foreign issuer, an expired leaf and a tampered signature. Without this, the benchmark
 * could be timing a function that fails fast or accepts anything.
 */
import * as pkijs from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCertificate } from '@certified/core';
import {
  decodeAndVerify,
  decodeChainAndVerify,
  makeFixtureSet,
  nodeNative,
  peculiarX509,
  pkijsEngine,
  rawVerify,
  type ChainFixture,
  type FixtureAlgorithm,
  type FixtureSet,
  type PeerValidate,
} from './chain-peers.js';

type Peer = (f: ChainFixture) => Promise<PeerValidate | undefined>;

const peers: Record<string, Peer> = { pkijsEngine, peculiarX509, nodeNative };

/** What each peer supports; a peer missing from an algorithm's list must return undefined. */
const support: Record<FixtureAlgorithm, readonly string[]> = {
  'P-256': ['pkijsEngine', 'peculiarX509', 'nodeNative'],
  Ed25519: ['peculiarX509', 'nodeNative'],
};

async function validatorFor(peer: Peer, f: ChainFixture): Promise<PeerValidate> {
  const validate = await peer(f);
  if (!validate) throw new Error('peer returned undefined for a supported algorithm');
  return validate;
}

describe.each(['P-256', 'Ed25519'] as const)('chain peers (%s)', (alg) => {
  let set: FixtureSet;
  beforeAll(async () => {
    set = await makeFixtureSet(alg);
  });

  it('builds fixtures that differ only where intended', () => {
    const leaf = decodeCertificate(set.good.leaf);
    const foreign = decodeCertificate(set.foreignIssuer.leaf);
    expect(foreign.issuer).toEqual(leaf.issuer);
    expect(foreign.authorityKeyIdentifier?.keyIdentifier).not.toEqual(
      leaf.authorityKeyIdentifier?.keyIdentifier,
    );
    expect(set.expired.time.getTime()).toBeGreaterThan(leaf.notAfter.getTime());
    expect(set.expired.time.getTime()).toBeLessThan(
      decodeCertificate(set.good.intermediate).notAfter.getTime(),
    );
    expect(set.tamperedSignature.leaf).not.toEqual(set.good.leaf);
  });

  for (const [name, peer] of Object.entries(peers)) {
    if (!support[alg].includes(name)) {
      it(`${name} declines ${alg} chains (returns undefined)`, async () => {
        expect(await peer(set.good)).toBeUndefined();
      });
      continue;
    }
    describe(name, () => {
      it('accepts the good chain, repeatedly', async () => {
        const validate = await validatorFor(peer, set.good);
        await expect(validate()).resolves.toBeUndefined();
        await expect(validate()).resolves.toBeUndefined();
      });
      it('rejects a leaf issued by a different intermediate with the same name', async () => {
        await expect((await validatorFor(peer, set.foreignIssuer))()).rejects.toThrow();
      });
      it("rejects a time after the leaf's notAfter", async () => {
        await expect((await validatorFor(peer, set.expired))()).rejects.toThrow();
      });
      it('rejects a tampered leaf signature', async () => {
        await expect((await validatorFor(peer, set.tamperedSignature))()).rejects.toThrow();
      });
    });
  }

  it('nodeNative rejects a hostname the leaf does not carry', async () => {
    const validate = await validatorFor(nodeNative, { ...set.good, hostname: 'other.example.com' });
    await expect(validate()).rejects.toThrow(/does not match other\.example\.com/);
  });

  it('rawVerify verifies the good leaf signature and refuses the tampered one', async () => {
    expect(await (await rawVerify(set.good))()).toBe(true);
    expect(await (await rawVerify(set.tamperedSignature))()).toBe(false);
  });

  it('decodeAndVerify (the floor) verifies each leaf it is given and throws on a tampered one', async () => {
    const floor = await decodeAndVerify(set.good, [set.good.leaf]);
    expect(await floor()).toBe(true);
    const tampered = await decodeAndVerify(set.good, [set.tamperedSignature.leaf]);
    await expect(tampered()).rejects.toThrow(/does not verify/);
  });

  it('decodeChainAndVerify (the cold floor) verifies both links and throws when either fails', async () => {
    expect(await (await decodeChainAndVerify(set.good))()).toBe(true);
    const tampered = await decodeChainAndVerify(set.tamperedSignature);
    await expect(tampered()).rejects.toThrow(/does not verify/);
    // The intermediate's own signature broken: the upper link must fail too.
    const intermediate = set.good.intermediate.slice();
    intermediate[intermediate.length - 1]! ^= 1;
    const upper = await decodeChainAndVerify({ ...set.good, intermediate });
    await expect(upper()).rejects.toThrow(/does not verify/);
  });
});

describe('pkijsEngine', () => {
  it('cannot verify Ed25519: the engine reports no path, Certificate.verify names the OID', async () => {
    const { good } = await makeFixtureSet('Ed25519');
    const [anchor, intermediate, leaf] = [good.anchor, good.intermediate, good.leaf].map((d) =>
      pkijs.Certificate.fromBER(new Uint8Array(d)),
    ) as [pkijs.Certificate, pkijs.Certificate, pkijs.Certificate];
    const crypto = new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto });
    const r = await new pkijs.CertificateChainValidationEngine({
      trustedCerts: [anchor],
      certs: [intermediate, leaf],
      checkDate: good.time,
    }).verify({}, crypto);
    expect(r.result).toBe(false);
    expect(r.resultMessage).toBe('No valid certificate paths found');
    await expect(leaf.verify(intermediate, crypto)).rejects.toThrow(
      'Unsupported signature algorithm: 1.3.101.112',
    );
  });

  it('validates the last of certs as the end entity: [leaf, intermediate] would skip the leaf', async () => {
    const { expired, tamperedSignature } = await makeFixtureSet('P-256');
    const crypto = new pkijs.CryptoEngine({ name: 'webcrypto', crypto: globalThis.crypto });
    for (const f of [expired, tamperedSignature]) {
      const [anchor, intermediate, leaf] = [f.anchor, f.intermediate, f.leaf].map((d) =>
        pkijs.Certificate.fromBER(new Uint8Array(d)),
      ) as [pkijs.Certificate, pkijs.Certificate, pkijs.Certificate];
      const wrongOrder = await new pkijs.CertificateChainValidationEngine({
        trustedCerts: [anchor],
        certs: [leaf, intermediate],
        checkDate: f.time,
      }).verify({}, crypto);
      expect(wrongOrder.result).toBe(true); // the bad leaf went unchecked
      await expect((await validatorFor(pkijsEngine, f))()).rejects.toThrow(/PKI.js refused/);
    }
  });

  it('uses the CryptoEngine it is given, never the global pkijs engine', async () => {
    const { good } = await makeFixtureSet('P-256');
    const validate = await validatorFor(pkijsEngine, good);
    const used = (): never => {
      throw new Error('the global pkijs engine was used');
    };
    const trap = new Proxy({} as SubtleCrypto, { get: used });
    const saved = pkijs.getEngine();
    pkijs.setEngine(
      'trap',
      new pkijs.CryptoEngine({
        name: 'trap',
        crypto: { subtle: trap, getRandomValues: used } as unknown as Crypto,
      }),
    );
    try {
      await expect(validate()).resolves.toBeUndefined();
      // The trap does trip when PKI.js falls back to its global engine.
      const [leaf, intermediate] = [good.leaf, good.intermediate].map((d) =>
        pkijs.Certificate.fromBER(new Uint8Array(d)),
      ) as [pkijs.Certificate, pkijs.Certificate];
      await expect(leaf.verify(intermediate)).rejects.toThrow('the global pkijs engine was used');
    } finally {
      pkijs.setEngine(saved.name, saved.crypto as pkijs.ICryptoEngine);
    }
  });
});
