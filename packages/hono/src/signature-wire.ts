/**
 * @module signature-wire — the wire pieces of a certified signed request (RFC 9421) that the
 * middleware reads: the `Certified-Chain` header (an RFC 8941 list of byte sequences, DER, peer
 * first, as RFC 9440's `Client-Cert-Chain`), `Content-Digest` (RFC 9530) and the algorithms per key
 * type. `@certified/web`'s `requestSigner` writes the same.
 */
import { parseDictionary, parseList } from 'structured-headers';
import type { PublicKeyAlgorithm } from '@certified/core';

/** The signature label a certified signer uses (`Signature-Input: certified=(…)`). */
export const SIGNATURE_LABEL = 'certified';
/** The header that carries the signer's certificate chain, covered by the signature. */
export const CHAIN_HEADER = 'certified-chain';

/** RFC 9421 algorithm names for our key types, with the WebCrypto parameters that verify them. */
export const SIGNATURE_ALGORITHMS: Readonly<
  Partial<
    Record<
      PublicKeyAlgorithm,
      { readonly alg: string; readonly params: AlgorithmIdentifier | EcdsaParams }
    >
  >
> = {
  Ed25519: { alg: 'ed25519', params: { name: 'Ed25519' } },
  'P-256': { alg: 'ecdsa-p256-sha256', params: { name: 'ECDSA', hash: 'SHA-256' } },
  'P-384': { alg: 'ecdsa-p384-sha384', params: { name: 'ECDSA', hash: 'SHA-384' } },
};

/**
 * Reads `Certified-Chain`: byte sequences, each a DER certificate; null when it is not that.
 * Parameters on members are ignored (RFC 8941 lets any member carry them).
 */
export function parseChainHeader(value: string): Uint8Array[] | null {
  let list;
  try {
    list = parseList(value);
  } catch {
    return null;
  }
  const out: Uint8Array[] = [];
  for (const member of list) {
    const item = member[0];
    if (!(item instanceof ArrayBuffer) || item.byteLength === 0) return null;
    out.push(new Uint8Array(item));
  }
  return out.length === 0 ? null : out;
}

/**
 * Reads `Content-Digest` and returns its `sha-256` member; null when the header cannot be read or
 * has no sha-256 (the only algorithm we accept: RFC 9530 deprecates md5/sha, sha-512 adds nothing here).
 */
export function sha256OfContentDigest(value: string): Uint8Array | null {
  let dict;
  try {
    dict = parseDictionary(value);
  } catch {
    return null;
  }
  const member = dict.get('sha-256');
  if (!member || Array.isArray(member[0]) || !(member[0] instanceof ArrayBuffer)) return null;
  return new Uint8Array(member[0]);
}
