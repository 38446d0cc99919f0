/**
 * What the CA issues, judged by an independent verifier: pyca/cryptography's X.509 path validation
 * (CA/B Forum profile; `@certified/testing/pyca`). A short-lived server certificate from a CSR, with
 * the CN made a SAN by `enforce_alternative_names`, is accepted for its name and refused for another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCsr,
  encodePem,
  generateKeyPair,
  parseCertificate,
  personName,
} from '@certified/core';
import { skipWithoutPyca, verifyWithPyca } from '@certified/testing/pyca';
import { createTestCa, SECRET, type TestCa } from '../test/fixture.js';

describe.skipIf(skipWithoutPyca('packages/ca/src/pyca.test.ts'))(
  'pyca/cryptography verifies what the CA issues',
  () => {
    let t: TestCa;
    beforeAll(async () => {
      t = await createTestCa({
        registration_authority: {
          web: {
            signing_ca: 'main',
            authentication: 'ops',
            valid_hours: 24,
            validators: {
              common_name: { allowed_domains: ['.example.com'] },
              ca_status: { ca_requested: false },
            },
            fixups: { enforce_alternative_names: {} },
          },
        },
      });
    });
    afterAll(() => t?.close());

    it('accepts a short-lived certificate from a CSR for its name, and refuses another', async () => {
      const keyPair = await generateKeyPair({ algorithm: 'P-256' });
      const csr = await createCsr({
        subject: personName({ commonName: 'web.example.com' }),
        keyPair,
      });
      const res = await t.sign('web', {
        user: 'ops',
        secret: SECRET,
        encoding: 'pem',
        csr: encodePem('CERTIFICATE REQUEST', csr.der),
      });
      expect(res.status).toBe(200);
      const issued = parseCertificate(await res.text());
      const anchors = [t.caPem];
      const chain = [encodePem('CERTIFICATE', issued.der)];
      const [own, other] = verifyWithPyca([
        { anchors, chain, kind: 'server', name: { dns: 'web.example.com' } },
        { anchors, chain, kind: 'server', name: { dns: 'www.example.com' } },
      ])!;
      expect(own!.error ?? 'ok').toBe('ok');
      expect(other!.ok).toBe(false);
    });
  },
);
