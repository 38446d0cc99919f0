import { describe, expect, it } from 'vitest';
import {
  createSelfSignedCa,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  organizationName,
} from '@certified/core';
import { rejected } from '@certified/testing';
import { loadSigner } from './signer.js';

async function ca() {
  const keys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
  const cert = await createSelfSignedCa({
    subject: organizationName({ organization: 'S' }),
    keyPair: keys,
  });
  return {
    certPem: encodePem('CERTIFICATE', cert.der),
    keyPem: await exportPrivateKey(keys.privateKey),
  };
}

describe('loadSigner', () => {
  it('loads the CA key non-extractable', async () => {
    const { certPem, keyPem } = await ca();
    const signer = await loadSigner(certPem, keyPem);
    expect(signer.issuer.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', signer.issuer.privateKey)).rejects.toThrow();
    expect(signer.chain).toHaveLength(1);
  });

  it('refuses a key that is not the certificate’s with ERR_CA_CONFIG_INVALID', async () => {
    const a = await ca();
    const b = await ca();
    const e = await rejected(loadSigner(a.certPem, b.keyPem, 'signing_ca.main'));
    expect(e.code).toBe('ERR_CA_CONFIG_INVALID');
    expect(e.field).toBe('signing_ca.main');
  });

  it('refuses unreadable PEM with ERR_CA_CONFIG_INVALID', async () => {
    const a = await ca();
    expect((await rejected(loadSigner('not a certificate', a.keyPem))).code).toBe(
      'ERR_CA_CONFIG_INVALID',
    );
    expect((await rejected(loadSigner(a.certPem, 'not a key'))).code).toBe('ERR_CA_CONFIG_INVALID');
  });
});
