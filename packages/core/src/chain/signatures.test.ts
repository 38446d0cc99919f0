import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../keys/keys.js';
import { createSelfSignedCa, issueEndEntityCertificate } from '../x509/build-certificate.js';
import { decodeCertificate } from '../x509/certificate.js';
import { dnsName } from '../x509/general-name.js';
import { organizationName } from '../x509/name.js';
import { budgetOf } from './budget.js';
import { signatureProblem, verifiedBy } from './signatures.js';
import type { WorkDone } from './types.js';
import { countingCrypto } from '../../test/counting-crypto.js';

const noWork = (): WorkDone => ({
  candidates: 0,
  signatureChecks: 0,
  nameComparisons: 0,
  nameWork: 0,
});

describe('signatureProblem', () => {
  it('remembers each verdict per certificate and issuer key: never the same pair twice, another key afresh', async () => {
    const [aKeys, bKeys, leafKeys] = await Promise.all(
      [0, 1, 2].map(() => generateKeyPair({ algorithm: 'Ed25519' })),
    );
    const a = await createSelfSignedCa({
      subject: organizationName({ organization: 'A' }),
      keyPair: aKeys!,
    });
    const b = await createSelfSignedCa({
      subject: organizationName({ organization: 'B' }),
      keyPair: bKeys!,
    });
    const issued = await issueEndEntityCertificate({
      issuer: { certificate: a, privateKey: aKeys!.privateKey },
      subject: organizationName({ organization: 'Leaf' }),
      publicKey: leafKeys!.publicKey,
      altNames: [dnsName('leaf.example')],
    });
    const leaf = decodeCertificate(issued.der);
    const counting = countingCrypto();
    const { subtle } = counting.crypto;
    const verifies = counting.verifies;
    const budget = budgetOf(undefined);
    const check = (issuer: typeof a) =>
      signatureProblem(leaf, issuer, new Map(), noWork(), budget, subtle);

    expect(verifiedBy(leaf)).toBe(false);
    expect(await check(b)).toMatchObject({ code: 'ERR_CHAIN_SIGNATURE_INVALID' });
    expect(verifiedBy(leaf)).toBe(false);
    expect(await check(b)).toMatchObject({ code: 'ERR_CHAIN_SIGNATURE_INVALID' });
    expect(verifies()).toBe(1); // the refusal was remembered
    expect(await check(a)).toBeUndefined();
    expect(verifiedBy(leaf)).toBe(true);
    expect(await check(a)).toBeUndefined();
    expect(verifies()).toBe(2); // so was the success
    // A copy of the same bytes is another object: its facts start empty.
    expect(verifiedBy(decodeCertificate(issued.der))).toBe(false);
  });
});
