/**
 * @module test/interop/pyca-verifier.test — what certified issues, judged by an independent verifier:
 * pyca/cryptography's X.509 path validation (`cryptography.x509.verification`, cryptography ≥ 42,
 * written by x509-limbo's authors). Its policy is the CA/B Forum's, stricter than RFC 5280 (an AKI
 * on every issued certificate, key usages, critical basicConstraints, SANs, validity), so a chain
 * it accepts is one any strict relying party accepts. It takes RSA and ECDSA keys only, so the
 * identities here are P-256 and P-384 (Ed25519 ones go through OpenSSL in openssl.test.ts).
 *
 * Judged: identities as `certified init` makes them (a person, a service with a DNS name and an IP),
 * and an introduction (the service's CA signing the person's key); the CA service's certificates
 * are judged in `packages/ca/src/pyca.test.ts`. Each also has a case the verifier must refuse, so a
 * verifier that says yes to everything fails the suite.
 *
 * Needs python3 with cryptography ≥ 42 (`@certified/testing/pyca`): without it the suite is skipped
 * loudly, and fails with CI=true.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  dnsName,
  emailAddress,
  encodePem,
  ipAddress,
  organizationName,
  personName,
  type Certificate,
} from '@certified/core';
import {
  createMemoryStore,
  initIdentity,
  introduce,
  parseIntroLetter,
  type Identity,
  type IdentityKeyType,
} from '@certified/identity';
import { skipWithoutPyca, verifyWithPyca, type PycaResult } from '@certified/testing/pyca';

interface Case {
  anchors: Certificate[];
  chain: Certificate[];
  kind: 'client' | 'server';
  name?: { dns: string } | { ip: string };
}

const pem = (c: Certificate): string => encodePem('CERTIFICATE', c.der);
const pyca = (cases: readonly Case[]): PycaResult[] =>
  verifyWithPyca(
    cases.map((c) => ({ ...c, anchors: c.anchors.map(pem), chain: c.chain.map(pem) })),
  )!;

const skip = skipWithoutPyca('test/interop/pyca-verifier.test.ts');

async function identity(keyType: IdentityKeyType, service: boolean): Promise<Identity> {
  return initIdentity(createMemoryStore(), {
    keyType,
    ...(service
      ? {
          subject: organizationName({ organization: 'Example Org', unit: 'Notes API' }),
          altNames: [dnsName('notes.example.org'), ipAddress('127.0.0.1')],
        }
      : {
          subject: personName({ commonName: 'Grace Hopper' }),
          altNames: [emailAddress('grace@example.org')],
        }),
  });
}

describe.skipIf(skip)('pyca/cryptography verifies what certified issues', () => {
  for (const keyType of ['secp256r1', 'secp384r1'] as const)
    describe(keyType, () => {
      let person: Identity;
      let service: Identity;
      let introduced: Certificate;
      beforeAll(async () => {
        person = await identity(keyType, false);
        service = await identity(keyType, true);
        const letter = await introduce(service, person.id.certificate.der);
        introduced = parseIntroLetter(letter).signedCert;
      });

      it('accepts identities as `certified init` makes them, and refuses them elsewhere', () => {
        const own = (who: Identity) => ({
          anchors: [who.signer!.certificate],
          chain: [who.id.certificate],
        });
        const results = pyca([
          { ...own(person), kind: 'client' },
          { ...own(service), kind: 'client' },
          { ...own(service), kind: 'server', name: { dns: 'notes.example.org' } },
          { ...own(service), kind: 'server', name: { ip: '127.0.0.1' } },
          // Must refuse: another name, and a CA that did not sign it.
          { ...own(service), kind: 'server', name: { dns: 'other.example.org' } },
          {
            anchors: [service.signer!.certificate],
            chain: [person.id.certificate],
            kind: 'client',
          },
        ]);
        expect(results.slice(0, 4).map((r) => r.error ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok']);
        expect(results[0]!.subjects).toEqual(['grace@example.org']);
        expect(results[4]!.ok).toBe(false);
        expect(results[5]!.ok).toBe(false);
      });

      it('accepts an introduction: the service CA signing the person', () => {
        const [ok, forged] = pyca([
          { anchors: [service.signer!.certificate], chain: [introduced], kind: 'client' },
          // Introduced by the service, not by the person's own CA.
          { anchors: [person.signer!.certificate], chain: [introduced], kind: 'client' },
        ]);
        expect(ok!.error ?? 'ok').toBe('ok');
        expect(ok!.subjects).toEqual(['grace@example.org']);
        expect(forged!.ok).toBe(false);
      });
    });
});
