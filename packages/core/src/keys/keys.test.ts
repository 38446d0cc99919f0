import { describe, expect, it } from 'vitest';
import { isCertifiedError } from '../errors.js';
import { encodePem } from '../encoding/pem.js';
import { toArrayBuffer, toHex } from '../internal/bytes.js';
import { bytesOf, Cursor, int, octets, oid, readRoot, seq, TAG, tlv } from '../internal/der.js';
import {
  exportPrivateKey,
  exportPublicKey,
  generateKeyPair,
  importPrivateKey,
  importPublicKey,
  signingKeyAlgorithmOf,
} from './keys.js';
import { parsePublicKeyInfo } from './public-key-info.js';
import type { SigningKeyAlgorithm } from './public-key-info.js';
import { rejected, thrown } from '@certified/testing';

const ALGS: SigningKeyAlgorithm[] = ['Ed25519', 'P-256', 'P-384'];

const signParams = (alg: SigningKeyAlgorithm): Algorithm | EcdsaParams =>
  alg === 'Ed25519'
    ? { name: 'Ed25519' }
    : { name: 'ECDSA', hash: alg === 'P-256' ? 'SHA-256' : 'SHA-384' };

const message = new TextEncoder().encode('certified');

async function signsFor(
  privateKey: CryptoKey,
  publicKey: CryptoKey,
  alg: SigningKeyAlgorithm,
): Promise<boolean> {
  const sig = await crypto.subtle.sign(signParams(alg), privateKey, message);
  return crypto.subtle.verify(signParams(alg), publicKey, sig, message);
}

const spkiHex = async (k: CryptoKey): Promise<string> =>
  toHex(new Uint8Array(await crypto.subtle.exportKey('spki', k)));

async function rsaKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  );
}

async function p521Keys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-521' }, true, [
    'sign',
    'verify',
  ]);
}

describe('generateKeyPair', () => {
  it('defaults to a non-extractable Ed25519 key pair', async () => {
    const keys = await generateKeyPair();
    expect(keys.privateKey.algorithm.name).toBe('Ed25519');
    expect(keys.privateKey.extractable).toBe(false);
    expect(keys.publicKey.extractable).toBe(true);
    expect(signingKeyAlgorithmOf(keys.privateKey)).toBe('Ed25519');
  });

  for (const alg of ALGS) {
    it(`generates ${alg} keys that sign and verify`, async () => {
      const keys = await generateKeyPair({ algorithm: alg, extractable: true });
      expect(signingKeyAlgorithmOf(keys.privateKey)).toBe(alg);
      expect(signingKeyAlgorithmOf(keys.publicKey)).toBe(alg);
      expect(keys.privateKey.extractable).toBe(true);
      expect(keys.privateKey.usages).toEqual(['sign']);
      expect(await signsFor(keys.privateKey, keys.publicKey, alg)).toBe(true);
    });

    it(`rejects exporting a non-extractable ${alg} private key with ERR_KEY_NOT_EXTRACTABLE`, async () => {
      const keys = await generateKeyPair({ algorithm: alg });
      for (const format of ['pem', 'der', 'jwk'] as const) {
        const e = await rejected(
          exportPrivateKey(keys.privateKey, { format } as { format: 'pem' }),
        );
        expect(e.code).toBe('ERR_KEY_NOT_EXTRACTABLE');
        expect(e.message).toBe(
          'The private key was created non-extractable, so it cannot be exported.',
        );
      }
      // the public half is still exportable
      expect(await exportPublicKey(keys.publicKey)).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    });
  }

  it('refuses an unknown algorithm name with TypeError', async () => {
    await expect(generateKeyPair({ algorithm: 'P-521' as SigningKeyAlgorithm })).rejects.toThrow(
      TypeError,
    );
  });

  it('reports a runtime without the algorithm with ERR_ALG_UNSUPPORTED', async () => {
    const subtle = {
      generateKey: () =>
        Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')),
    } as unknown as SubtleCrypto;
    const e = await rejected(generateKeyPair({ crypto: { subtle } as Crypto }));
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('cannot generate Ed25519 keys');
  });

  it('refuses a private key given to exportPublicKey with TypeError', async () => {
    const keys = await generateKeyPair({ extractable: true });
    await expect(exportPublicKey(keys.privateKey)).rejects.toThrow(TypeError);
    await expect(exportPrivateKey(keys.publicKey)).rejects.toThrow(TypeError);
  });
});

describe('exportPrivateKey / importPrivateKey', () => {
  for (const alg of ALGS) {
    for (const format of ['pem', 'der', 'jwk'] as const) {
      it(`round-trips a ${alg} private key as ${format}`, async () => {
        const keys = await generateKeyPair({ algorithm: alg, extractable: true });
        const exported = await exportPrivateKey(keys.privateKey, { format } as { format: 'pem' });
        if (format === 'pem')
          expect(exported).toMatch(
            /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/,
          );
        if (format === 'der') expect((exported as unknown as Uint8Array)[0]).toBe(0x30);
        if (format === 'jwk') expect(typeof (exported as unknown as JsonWebKey).d).toBe('string');
        const imported = await importPrivateKey(exported);
        expect(imported.privateKey.extractable).toBe(false);
        expect(imported.privateKey.usages).toEqual(['sign']);
        expect(imported.publicKey.usages).toEqual(['verify']);
        expect(signingKeyAlgorithmOf(imported.privateKey)).toBe(alg);
        // a signature by the imported key verifies with the original public key…
        expect(await signsFor(imported.privateKey, keys.publicKey, alg)).toBe(true);
        // …and the derived public key is the original one
        expect(await spkiHex(imported.publicKey)).toBe(await spkiHex(keys.publicKey));
        expect(await signsFor(keys.privateKey, imported.publicKey, alg)).toBe(true);
      });
    }

    it(`re-exports a ${alg} key imported as extractable identically`, async () => {
      const keys = await generateKeyPair({ algorithm: alg, extractable: true });
      const der = await exportPrivateKey(keys.privateKey, { format: 'der' });
      const imported = await importPrivateKey(der, { extractable: true });
      expect(imported.privateKey.extractable).toBe(true);
      expect(toHex(await exportPrivateKey(imported.privateKey, { format: 'der' }))).toBe(
        toHex(der),
      );
    });

    it(`imports a ${alg} private key non-extractable by default, so it cannot be exported with ERR_KEY_NOT_EXTRACTABLE`, async () => {
      const keys = await generateKeyPair({ algorithm: alg, extractable: true });
      const imported = await importPrivateKey(
        await exportPrivateKey(keys.privateKey, { format: 'jwk' }),
      );
      const e = await rejected(exportPrivateKey(imported.privateKey));
      expect(e.code).toBe('ERR_KEY_NOT_EXTRACTABLE');
      expect(e.message).toContain('non-extractable');
    });
  }

  it('imports a SEC 1 "EC PRIVATE KEY" that names its curve', async () => {
    const keys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
    const pkcs8 = await exportPrivateKey(keys.privateKey, { format: 'der' });
    // PKCS#8 → its inner ECPrivateKey, adding the [0] curve parameters OpenSSL writes in SEC 1 files.
    const c = Cursor.of(pkcs8, readRoot(pkcs8));
    c.next(TAG.INTEGER);
    c.next(TAG.SEQUENCE);
    const inner = c.next(TAG.OCTET_STRING);
    const ec = pkcs8.subarray(inner.valueStart, inner.end);
    const ecc = Cursor.of(ec, readRoot(ec));
    const version = bytesOf(ec, ecc.next(TAG.INTEGER));
    const d = bytesOf(ec, ecc.next(TAG.OCTET_STRING));
    const rest = ecc
      .rest()
      .filter((t) => t.tag !== 0xa0)
      .map((t) => bytesOf(ec, t));
    const sec1 = seq(version, d, tlv(0xa0, oid('1.2.840.10045.3.1.7')), ...rest);
    const imported = await importPrivateKey(encodePem('EC PRIVATE KEY', sec1));
    expect(await signsFor(imported.privateKey, keys.publicKey, 'P-256')).toBe(true);
    expect(await spkiHex(imported.publicKey)).toBe(await spkiHex(keys.publicKey));
    // without the curve it is refused
    const bare = seq(version, d, ...rest);
    const e = await rejected(importPrivateKey(encodePem('EC PRIVATE KEY', bare)));
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toContain('does not name its curve');
  });

  it('rejects an RSA PKCS#8 private key with ERR_ALG_UNSUPPORTED', async () => {
    const rsa = await rsaKeys();
    const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', rsa.privateKey));
    for (const input of [der, encodePem('PRIVATE KEY', der)]) {
      const e = await rejected(importPrivateKey(input));
      expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
      expect(e.message).toContain('RSA private keys are supported for verification only');
    }
    const jwk = await crypto.subtle.exportKey('jwk', rsa.privateKey);
    const e = await rejected(importPrivateKey(jwk));
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('RSA');
  });

  it('rejects an "RSA PRIVATE KEY" PEM with ERR_ALG_UNSUPPORTED', async () => {
    const e = await rejected(importPrivateKey(encodePem('RSA PRIVATE KEY', seq(int(0)))));
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('RSA');
  });

  it('rejects an "ENCRYPTED PRIVATE KEY" with ERR_KEY_ENCRYPTED', async () => {
    const encrypted = encodePem(
      'ENCRYPTED PRIVATE KEY',
      seq(seq(oid('1.2.840.113549.1.5.13')), octets(new Uint8Array(32))),
    );
    const e = await rejected(importPrivateKey(encrypted));
    expect(e.code).toBe('ERR_KEY_ENCRYPTED');
    expect(e.message).toContain('encrypted');
  });

  it('rejects a P-521 PKCS#8 key with ERR_ALG_UNSUPPORTED', async () => {
    const keys = await p521Keys();
    const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
    const e = await rejected(importPrivateKey(encodePem('PRIVATE KEY', der)));
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toBe('Only P-256 and P-384 EC private keys are supported.');
    const jwk = await crypto.subtle.exportKey('jwk', keys.privateKey);
    const e2 = await rejected(importPrivateKey(jwk));
    expect(e2.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e2.message).toContain('EC/P-521');
  });

  it('rejects an unknown key algorithm with ERR_ALG_UNSUPPORTED', async () => {
    const ed448 = seq(int(0), seq(oid('1.3.101.113')), octets(octets(new Uint8Array(57))));
    const e = await rejected(importPrivateKey(ed448));
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('1.3.101.113');
  });

  it('rejects a label other than a private key with ERR_PEM_LABEL_MISMATCH', async () => {
    const keys = await generateKeyPair();
    const e = await rejected(importPrivateKey(await exportPublicKey(keys.publicKey)));
    expect(e.code).toBe('ERR_PEM_LABEL_MISMATCH');
    expect(e.message).toContain('found "PUBLIC KEY"');
  });

  it('rejects several PEM blocks with ERR_KEY_MALFORMED', async () => {
    const keys = await generateKeyPair({ extractable: true });
    const pem = await exportPrivateKey(keys.privateKey);
    const e = await rejected(importPrivateKey(pem + pem));
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toContain('found 2');
  });

  it('rejects a JWK without "d" with ERR_KEY_MALFORMED', async () => {
    const keys = await generateKeyPair();
    const jwk = await exportPublicKey(keys.publicKey, { format: 'jwk' });
    const e = await rejected(importPrivateKey(jwk));
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toContain('"d"');
  });

  it('rejects a corrupt JWK with ERR_KEY_MALFORMED', async () => {
    const keys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
    const jwk = await exportPrivateKey(keys.privateKey, { format: 'jwk' });
    const e = await rejected(importPrivateKey({ ...jwk, x: 'AAAA' }));
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toContain('could not be imported');
  });

  it('rejects a PKCS#8 version above 1 with ERR_KEY_MALFORMED', async () => {
    const e = await rejected(
      importPrivateKey(seq(int(2), seq(oid('1.3.101.112')), octets(octets(new Uint8Array(32))))),
    );
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toContain('version 2');
  });

  for (const alg of ALGS) {
    it(`rejects a corrupted ${alg} PKCS#8 with ERR_KEY_MALFORMED or ERR_DER_*`, async () => {
      const keys = await generateKeyPair({ algorithm: alg, extractable: true });
      const der = await exportPrivateKey(keys.privateKey, { format: 'der' });
      const c = Cursor.of(der, readRoot(der));
      c.next(TAG.INTEGER);
      c.next(TAG.SEQUENCE);
      const inner = c.next(TAG.OCTET_STRING);
      // the privateKey OCTET STRING's contents replaced by garbage of the same length
      const garbage = der.slice();
      garbage.fill(0xff, inner.valueStart, inner.end);
      const corrupt: Uint8Array[] = [garbage, der.subarray(0, der.length - 1), der.subarray(0, 10)];
      const algId =
        alg === 'Ed25519'
          ? seq(oid('1.3.101.112'))
          : seq(
              oid('1.2.840.10045.2.1'),
              oid(alg === 'P-256' ? '1.2.840.10045.3.1.7' : '1.3.132.0.34'),
            );
      corrupt.push(seq(int(0), algId, octets(new Uint8Array(5)))); // well-formed PKCS#8 around a junk key
      corrupt.push(seq(int(0), algId)); // privateKey missing
      for (const input of corrupt) {
        const e = await rejected(importPrivateKey(input));
        expect(isCertifiedError(e), String(e)).toBe(true);
        expect([
          'ERR_KEY_MALFORMED',
          'ERR_DER_TRUNCATED',
          'ERR_DER_MALFORMED',
          'ERR_ALG_UNSUPPORTED',
        ]).toContain(e.code);
      }
      const e = await rejected(importPrivateKey(garbage));
      expect(e.code).toBe('ERR_KEY_MALFORMED');
      expect(e.message).toBe(`The ${alg} private key could not be imported (is it corrupt?).`);
      const t = await rejected(importPrivateKey(der.subarray(0, der.length - 1)));
      expect(t.code).toBe('ERR_DER_TRUNCATED');
    });
  }

  it('rejects text that is not a key with ERR_PEM_MALFORMED', async () => {
    const e = await rejected(importPrivateKey('this is not a key!'));
    expect(e.code).toBe('ERR_PEM_MALFORMED');
    expect(e.message).toContain('neither DER, PEM nor base64');
  });
});

describe('exportPublicKey / importPublicKey', () => {
  for (const alg of ALGS) {
    for (const format of ['pem', 'der', 'jwk'] as const) {
      it(`round-trips a ${alg} public key as ${format}`, async () => {
        const keys = await generateKeyPair({ algorithm: alg });
        const exported = await exportPublicKey(keys.publicKey, { format } as { format: 'pem' });
        if (format === 'pem') expect(exported).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
        const key = await importPublicKey(exported);
        expect(key.type).toBe('public');
        expect(key.usages).toEqual(['verify']);
        expect(signingKeyAlgorithmOf(key)).toBe(alg);
        expect(await spkiHex(key)).toBe(await spkiHex(keys.publicKey));
        expect(await signsFor(keys.privateKey, key, alg)).toBe(true);
      });
    }
  }

  it('imports a base64-DER SPKI', async () => {
    const keys = await generateKeyPair({ algorithm: 'P-384' });
    const der = await exportPublicKey(keys.publicKey, { format: 'der' });
    const b64 = btoa(String.fromCharCode(...der));
    expect(await spkiHex(await importPublicKey(b64))).toBe(toHex(der));
  });

  it('imports RSA and P-521 public keys for verification', async () => {
    const rsa = await rsaKeys();
    const rsaPub = await importPublicKey(
      new Uint8Array(await crypto.subtle.exportKey('spki', rsa.publicKey)),
    );
    expect(rsaPub.algorithm.name).toBe('RSASSA-PKCS1-v1_5');
    const sig = await crypto.subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, rsa.privateKey, message);
    expect(await crypto.subtle.verify({ name: 'RSASSA-PKCS1-v1_5' }, rsaPub, sig, message)).toBe(
      true,
    );
    const { alg: _alg, ...rsaJwkNoAlg } = await crypto.subtle.exportKey('jwk', rsa.publicKey);
    const rsaJwk = await importPublicKey(rsaJwkNoAlg, { hash: 'SHA-384' });
    expect((rsaJwk.algorithm as RsaHashedKeyAlgorithm).hash.name).toBe('SHA-384');

    const p521 = await p521Keys();
    const p521Pub = await importPublicKey(
      new Uint8Array(await crypto.subtle.exportKey('spki', p521.publicKey)),
    );
    expect((p521Pub.algorithm as EcKeyAlgorithm).namedCurve).toBe('P-521');
  });

  it('takes only the public part of a private JWK', async () => {
    const keys = await generateKeyPair({ algorithm: 'Ed25519', extractable: true });
    const jwk = await exportPrivateKey(keys.privateKey, { format: 'jwk' });
    const key = await importPublicKey(jwk);
    expect(key.type).toBe('public');
    expect(await spkiHex(key)).toBe(await spkiHex(keys.publicKey));
  });

  it('rejects an unknown public key algorithm with ERR_ALG_UNSUPPORTED', async () => {
    const spki = seq(seq(oid('1.2.3.4')), tlv(TAG.BIT_STRING, new Uint8Array([0, 1, 2, 3])));
    const e = await rejected(importPublicKey(spki));
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('1.2.3.4');
  });

  it('rejects a point not on the curve with ERR_KEY_MALFORMED', async () => {
    const keys = await generateKeyPair({ algorithm: 'P-256' });
    const der = (await exportPublicKey(keys.publicKey, { format: 'der' })).slice();
    der[der.length - 1]! ^= 0x01;
    const e = await rejected(importPublicKey(der));
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toBe('The P-256 public key could not be imported.');
  });

  it('rejects a private key PEM with ERR_PEM_LABEL_MISMATCH', async () => {
    const keys = await generateKeyPair({ extractable: true });
    const e = await rejected(importPublicKey(await exportPrivateKey(keys.privateKey)));
    expect(e.code).toBe('ERR_PEM_LABEL_MISMATCH');
    expect(e.message).toContain('found "PRIVATE KEY"');
  });

  it('rejects an unsupported JWK with ERR_ALG_UNSUPPORTED', async () => {
    const e = await rejected(importPublicKey({ kty: 'OKP', crv: 'X25519', x: 'AAAA' }));
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('OKP/X25519');
  });
});

describe('parsePublicKeyInfo', () => {
  const spkiOf = async (k: CryptoKey): Promise<Uint8Array> =>
    new Uint8Array(await crypto.subtle.exportKey('spki', k));

  it('reads Ed25519, P-256 and P-384 keys', async () => {
    const expected = {
      Ed25519: { algorithmOid: '1.3.101.112', curveOid: undefined, bits: 256, len: 32 },
      'P-256': {
        algorithmOid: '1.2.840.10045.2.1',
        curveOid: '1.2.840.10045.3.1.7',
        bits: 256,
        len: 65,
      },
      'P-384': { algorithmOid: '1.2.840.10045.2.1', curveOid: '1.3.132.0.34', bits: 384, len: 97 },
    } as const;
    for (const alg of ALGS) {
      const keys = await generateKeyPair({ algorithm: alg });
      const spki = await spkiOf(keys.publicKey);
      const info = parsePublicKeyInfo(spki);
      expect(info.algorithm).toBe(alg);
      expect(info.algorithmOid).toBe(expected[alg].algorithmOid);
      expect(info.curveOid).toBe(expected[alg].curveOid);
      expect(info.bits).toBe(expected[alg].bits);
      expect(info.publicKey.length).toBe(expected[alg].len);
      expect(toHex(info.spki)).toBe(toHex(spki));
      if (alg !== 'Ed25519') expect(info.publicKey[0]).toBe(4);
      else
        expect(toHex(info.publicKey)).toBe(
          toHex(new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey))),
        );
    }
  });

  it('reads P-521 and RSA keys', async () => {
    const p521 = parsePublicKeyInfo(await spkiOf((await p521Keys()).publicKey));
    expect(p521).toMatchObject({ algorithm: 'P-521', curveOid: '1.3.132.0.35', bits: 521 });
    expect(p521.publicKey.length).toBe(133);
    const rsa = parsePublicKeyInfo(await spkiOf((await rsaKeys()).publicKey));
    expect(rsa).toMatchObject({
      algorithm: 'RSA',
      algorithmOid: '1.2.840.113549.1.1.1',
      bits: 2048,
    });
  });

  it('reads unknown algorithms and curves as "unknown"', () => {
    const other = parsePublicKeyInfo(
      seq(seq(oid('1.2.3.4')), tlv(TAG.BIT_STRING, new Uint8Array([0, 9]))),
    );
    expect(other).toMatchObject({ algorithm: 'unknown', algorithmOid: '1.2.3.4', bits: 0 });
    const curve = parsePublicKeyInfo(
      seq(
        seq(oid('1.2.840.10045.2.1'), oid('1.3.132.0.10')),
        tlv(TAG.BIT_STRING, new Uint8Array([0, 4, 1])),
      ),
    );
    expect(curve).toMatchObject({ algorithm: 'unknown', curveOid: '1.3.132.0.10' });
  });

  it('rejects an EC key without a named curve with ERR_ALG_UNSUPPORTED', () => {
    const e = thrown(() =>
      parsePublicKeyInfo(
        seq(
          seq(oid('1.2.840.10045.2.1'), seq(int(1))),
          tlv(TAG.BIT_STRING, new Uint8Array([0, 4])),
        ),
      ),
    );
    expect(e.code).toBe('ERR_ALG_UNSUPPORTED');
    expect(e.message).toContain('name their curve');
  });

  it('rejects a compressed or short EC point with ERR_KEY_MALFORMED', async () => {
    const info = parsePublicKeyInfo(
      await spkiOf((await generateKeyPair({ algorithm: 'P-256' })).publicKey),
    );
    const compressed = new Uint8Array([
      0x02 | (info.publicKey[64]! & 1),
      ...info.publicKey.subarray(1, 33),
    ]);
    const alg = seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7'));
    const e = thrown(() =>
      parsePublicKeyInfo(seq(alg, tlv(TAG.BIT_STRING, new Uint8Array([0]), compressed))),
    );
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toBe('The P-256 public key is not an uncompressed point of the right size.');
  });

  it('rejects Ed25519 parameters or a wrong length with ERR_KEY_MALFORMED', () => {
    const withParams = thrown(() =>
      parsePublicKeyInfo(
        seq(
          seq(oid('1.3.101.112'), new Uint8Array([5, 0])),
          tlv(TAG.BIT_STRING, new Uint8Array(33)),
        ),
      ),
    );
    expect(withParams.code).toBe('ERR_KEY_MALFORMED');
    expect(withParams.message).toContain('must not have parameters');
    const short = thrown(() =>
      parsePublicKeyInfo(seq(seq(oid('1.3.101.112')), tlv(TAG.BIT_STRING, new Uint8Array(32)))),
    );
    expect(short.code).toBe('ERR_KEY_MALFORMED');
    expect(short.message).toContain('wrong length');
  });

  it('rejects unused bits in the key BIT STRING with ERR_KEY_MALFORMED', () => {
    const e = thrown(() =>
      parsePublicKeyInfo(
        seq(
          seq(oid('1.3.101.112')),
          tlv(TAG.BIT_STRING, new Uint8Array([1, ...new Uint8Array(32)])),
        ),
      ),
    );
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toContain('unused bits');
  });

  it('rejects a bad RSAPublicKey with ERR_KEY_MALFORMED', () => {
    const e = thrown(() =>
      parsePublicKeyInfo(
        seq(
          seq(oid('1.2.840.113549.1.1.1'), new Uint8Array([5, 0])),
          tlv(TAG.BIT_STRING, new Uint8Array([0, 1, 2])),
        ),
      ),
    );
    expect(e.code).toBe('ERR_KEY_MALFORMED');
    expect(e.message).toContain('RSAPublicKey');
  });

  it('rejects truncated or trailing DER with ERR_DER_*', async () => {
    const spki = await spkiOf((await generateKeyPair()).publicKey);
    const t = thrown(() => parsePublicKeyInfo(spki.subarray(0, spki.length - 1)));
    expect(t.code).toBe('ERR_DER_TRUNCATED');
    expect(t.message).toContain('truncated');
    const m = thrown(() => parsePublicKeyInfo(new Uint8Array([...spki, 0])));
    expect(m.code).toBe('ERR_DER_MALFORMED');
    expect(m.message).toContain('trailing');
  });
});

describe('toArrayBuffer interplay', () => {
  it('imports keys from offset views', async () => {
    const keys = await generateKeyPair({ algorithm: 'P-256', extractable: true });
    const der = await exportPrivateKey(keys.privateKey, { format: 'der' });
    const padded = new Uint8Array(der.length + 7);
    padded.set(der, 7);
    const imported = await importPrivateKey(padded.subarray(7));
    expect(await signsFor(imported.privateKey, keys.publicKey, 'P-256')).toBe(true);
    expect(toArrayBuffer(padded.subarray(7)).byteLength).toBe(der.length);
  });
});
