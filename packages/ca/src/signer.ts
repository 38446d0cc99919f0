/**
 * @module signer — the signer port: a CA certificate with its chain and a WebCrypto private key that
 * cannot be exported once loaded. A PKCS#11 signer (next issue) implements the same shape.
 */
import {
  importPrivateKey,
  parseCertificates,
  spkiOf,
  equalBytes,
  type Certificate,
  type Issuer,
} from '@certified/core';
import { CaError } from './errors.js';

/** What an RA signs with. */
export interface Signer {
  /** Core's issuer: the CA certificate and its (non-extractable) private key. */
  readonly issuer: Issuer;
  /** The CA certificate first, then the rest of its chain, as clients should get it. */
  readonly chain: readonly Certificate[];
}

/**
 * Loads a signer from PEM text: the key is imported non-extractable and must match the certificate.
 *
 * @param certificatePem - the CA certificate, optionally followed by its chain.
 * @param keyPem - its PKCS#8 or SEC 1 private key.
 * @param field - the config key, for errors.
 * @throws ERR_CA_CONFIG_INVALID when either cannot be read or they do not belong together.
 * @example
 * const signer = await loadSigner(await readFile('ca.crt', 'utf8'), await readFile('ca.key', 'utf8'));
 */
export async function loadSigner(
  certificatePem: string,
  keyPem: string,
  field = 'signing_ca',
): Promise<Signer> {
  let chain: Certificate[];
  let keys: CryptoKeyPair;
  try {
    chain = parseCertificates(certificatePem);
    keys = await importPrivateKey(keyPem, { extractable: false });
  } catch (e) {
    throw new CaError(
      'ERR_CA_CONFIG_INVALID',
      `${field}: the CA certificate or key cannot be read: ${(e as Error).message}`,
      { field, cause: e },
    );
  }
  const certificate = chain[0];
  if (!certificate)
    throw new CaError('ERR_CA_CONFIG_INVALID', `${field}: no CA certificate found.`, { field });
  const spki = await spkiOf(keys.publicKey, globalThis.crypto.subtle);
  if (!equalBytes(spki.spki, certificate.publicKey.spki))
    throw new CaError(
      'ERR_CA_CONFIG_INVALID',
      `${field}: the key does not belong to the CA certificate.`,
      { field },
    );
  return { issuer: { certificate, privateKey: keys.privateKey }, chain };
}
