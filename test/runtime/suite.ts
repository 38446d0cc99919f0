/**
 * @module test/runtime/suite — the cross-runtime suite: plain async cases that only use
 * `@certified/core` (and, for signed requests, `@certified/hono` and `@certified/web`) and
 * web-standard globals, so the same bundle runs on Node, Deno, Bun, Chromium and workerd (see
 * run-all.mjs) and under Vitest (suite.test.ts).
 */
import * as core from '@certified/core';
import * as inspect from '@certified/core/inspect';
import { isPublicSuffix } from '@certified/core/public-suffix';
import { signedRequests } from './signed-request.js';

/** One case of the shared suite; `run` rejects to fail, or calls {@link skip} to skip. */
export interface SuiteCase {
  name: string;
  run(): Promise<void>;
}

/** Thrown by {@link skip}; the harness recognises it by `name`, so it works across bundles. */
export class CaseSkipped extends Error {
  override name = 'CaseSkipped';
}

/** Skips the current case with a reason (use it for documented runtime gaps only). */
export function skip(reason: string): never {
  throw new CaseSkipped(reason);
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function subtle(): SubtleCrypto {
  const crypto = globalThis.crypto as Crypto | undefined;
  assert(crypto?.subtle, 'globalThis.crypto.subtle must be available');
  return crypto.subtle;
}

const message = new TextEncoder().encode('certified cross-runtime suite');

async function signAndVerify(
  keyAlgorithm: EcKeyGenParams | Algorithm,
  signAlgorithm: EcdsaParams | Algorithm,
  signatureLength: number,
): Promise<void> {
  const s = subtle();
  const keys = (await s.generateKey(keyAlgorithm, false, ['sign', 'verify'])) as CryptoKeyPair;
  assert(
    keys.privateKey.type === 'private',
    `privateKey.type must be 'private', received ${keys.privateKey.type}`,
  );
  assert(
    keys.publicKey.type === 'public',
    `publicKey.type must be 'public', received ${keys.publicKey.type}`,
  );
  const signature = new Uint8Array(await s.sign(signAlgorithm, keys.privateKey, message));
  assert(
    signature.byteLength === signatureLength,
    `signature must be ${signatureLength} bytes, received ${signature.byteLength}`,
  );
  assert(
    await s.verify(signAlgorithm, keys.publicKey, signature, message),
    'valid signature must verify',
  );
  const tampered = signature.slice();
  tampered[0] = (tampered[0] ?? 0) ^ 0xff;
  assert(
    !(await s.verify(signAlgorithm, keys.publicKey, tampered, message)),
    'tampered signature must not verify',
  );
}

async function expectCode(code: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert(core.isCertifiedError(e), `expected a CertifiedError ${code}, received ${String(e)}`);
    assert(e.code === code, `expected ${code}, received ${e.code}: ${e.message}`);
    return;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

async function chain(alg: core.SigningKeyAlgorithm): Promise<void> {
  const rootKeys = await core.generateKeyPair({ algorithm: alg });
  const root = await core.createSelfSignedCa({
    subject: core.signingName(core.personName({ commonName: `Root ${alg}`, country: 'US' })),
    keyPair: rootKeys,
    pathLength: 1,
  });
  const interKeys = await core.generateKeyPair({ algorithm: alg });
  const inter = await core.issueCaCertificate({
    issuer: { certificate: root, privateKey: rootKeys.privateKey },
    subject: core.organizationName({ organization: 'Acme, Inc.', unit: 'Ops' }),
    publicKey: interKeys.publicKey,
  });
  assert(inter.basicConstraints?.pathLength === 0, 'intermediate pathLen must be clamped to 0');
  const leafKeys = await core.generateKeyPair({ algorithm: alg });
  const csr = await core.createCsr({
    subject: core.personName({ commonName: 'svc' }),
    keyPair: leafKeys,
    altNames: [
      core.dnsName('café.example.com'),
      core.ipAddress('2001:DB8::1'),
      core.emailAddress('a@example.org'),
    ],
  });
  const leaf = await core.issueCertificateFromCsr({
    issuer: { certificate: inter, privateKey: interKeys.privateKey },
    csr: core.encodePem('CERTIFICATE REQUEST', csr.der),
  });
  await core.verifyCertificateSignature(leaf, inter);
  await core.verifyCertificateSignature(inter, root);
  await core.verifyCertificateSignature(root, root);
  const parsed = core.parseCertificates(
    core.encodePem('CERTIFICATE', leaf.der) + core.encodePem('CERTIFICATE', inter.der),
  );
  assert(parsed.length === 2 && equalBytes(parsed[0]!.der, leaf.der), 'PEM bundle must round-trip');
  const names = (leaf.subjectAltNames ?? []).map(core.formatGeneralName);
  assert(
    names.includes('DNS:xn--caf-dma.example.com'),
    `IDN must be an A-label, got ${names.join(', ')}`,
  );
  assert(
    names.includes('IP Address:2001:db8::1'),
    `IPv6 must be canonical, got ${names.join(', ')}`,
  );
  assert(
    leaf.extKeyUsage?.length === 2 && leaf.basicConstraints?.ca === false,
    'leaf must be CA:false with two EKUs',
  );
  assert(
    core.formatName(inter.subject) === 'OU=Ops,O=Acme\\, Inc.',
    `unexpected RFC 4514 form ${core.formatName(inter.subject)}`,
  );
  const tampered = leaf.der.slice();
  tampered[tampered.length - 5]! ^= 1;
  await expectCode('ERR_SIGNATURE_INVALID', () =>
    core.verifyCertificateSignature(core.decodeCertificate(tampered), inter),
  );
  const view = inspect.inspectCertificate(leaf);
  assert(
    view.publicKey.algorithm === alg && view.fingerprints.sha256.length === 95,
    'inspect must describe the leaf',
  );

  // Our own path validation, on this runtime's WebCrypto.
  const validator = core.createPathValidator({
    anchors: [core.encodePem('CERTIFICATE', root.der)],
  });
  const input = { peer: leaf.der, chain: [inter.der], purpose: 'serverAuth' } as const;
  const ok = await validator.validate({ ...input, peerName: 'xn--caf-dma.example.com' });
  assert(ok.ok && ok.path.length === 3, `the chain must validate: ${JSON.stringify(ok)}`);
  const again = await validator.validate({ ...input, peerName: 'xn--caf-dma.example.com' });
  assert(again.ok && again.cached, 'a repeated validation must come from the cache');
  const wrongName = await validator.validate({ ...input, peerName: 'other.example.com' });
  assert(!wrongName.ok && wrongName.code === 'ERR_CHAIN_PEER_NAME', 'a wrong name must be refused');
  const forged = await validator.validate({ ...input, peer: tampered });
  assert(
    !forged.ok && forged.code === 'ERR_CHAIN_SIGNATURE_INVALID',
    `a tampered leaf must be refused, got ${forged.ok ? 'ok' : forged.code}`,
  );
  const late = await validator.validate({
    ...input,
    time: new Date(leaf.notAfter.getTime() + 1000),
  });
  assert(!late.ok && late.code === 'ERR_CHAIN_EXPIRED', 'an expired leaf must be refused');
}

/** The cases, in run order. */
export const suite: SuiteCase[] = [
  {
    name: 'webcrypto: Ed25519 generate, sign, verify',
    async run() {
      await signAndVerify({ name: 'Ed25519' }, { name: 'Ed25519' }, 64);
    },
  },
  {
    name: 'webcrypto: ECDSA P-256/SHA-256 generate, sign (P1363), verify',
    async run() {
      await signAndVerify(
        { name: 'ECDSA', namedCurve: 'P-256' },
        { name: 'ECDSA', hash: 'SHA-256' },
        64,
      );
    },
  },
  {
    name: 'core: keys export and import as PKCS#8, SPKI and JWK (Ed25519, P-256, P-384)',
    async run() {
      for (const algorithm of ['Ed25519', 'P-256', 'P-384'] as const) {
        const keys = await core.generateKeyPair({ algorithm, extractable: true });
        const pem = await core.exportPrivateKey(keys.privateKey);
        const jwk = await core.exportPrivateKey(keys.privateKey, { format: 'jwk' });
        const spki = await core.exportPublicKey(keys.publicKey, { format: 'der' });
        for (const input of [pem, jwk]) {
          const imported = await core.importPrivateKey(input);
          assert(!imported.privateKey.extractable, 'imported keys are non-extractable by default');
          const again = await core.exportPublicKey(imported.publicKey, { format: 'der' });
          assert(equalBytes(again, spki), `${algorithm}: derived public key must match`);
        }
        const pub = await core.importPublicKey(spki);
        assert(pub.type === 'public', 'SPKI import gives a public key');
        const sealed = await core.generateKeyPair({ algorithm });
        await expectCode('ERR_KEY_NOT_EXTRACTABLE', () => core.exportPrivateKey(sealed.privateKey));
      }
    },
  },
  {
    name: 'core: RFC 4514 names round-trip through DER',
    async run() {
      for (const s of [
        'CN=a\\,b+UID=x,O=Ærøskøbing,DC=example',
        'CN=\\#hash\\ ',
        'CN=日本,C=JP',
        '2.5.4.3=#0c0378797a',
      ]) {
        const name = core.parseName(s);
        const cert = await selfSigned(name);
        assert(core.nameEquals(cert.subject, name), `${s} must survive DER`);
        assert(
          core.formatName(core.parseName(core.formatName(cert.subject))) ===
            core.formatName(cert.subject),
          `${s} format must be stable`,
        );
      }
      await expectCode('ERR_NAME_SYNTAX', () => core.parseName('CN'));
      await expectCode('ERR_SAN_INVALID', () => core.dnsName('a.*.example.com'));
      await expectCode('ERR_SAN_INVALID', () => core.ipAddress('256.1.1.1'));
    },
  },
  {
    name: 'core: CA → intermediate → leaf from a CSR, then path validation (Ed25519)',
    run: () => chain('Ed25519'),
  },
  {
    name: 'core: CA → intermediate → leaf from a CSR, then path validation (P-256)',
    run: () => chain('P-256'),
  },
  {
    name: 'core: CA → intermediate → leaf from a CSR, then path validation (P-384)',
    run: () => chain('P-384'),
  },
  {
    name: 'core: malformed input gives coded errors',
    async run() {
      const cert = await selfSigned(core.personName({ commonName: 'x' }));
      await expectCode('ERR_DER_TRUNCATED', () =>
        core.parseCertificate(cert.der.subarray(0, cert.der.length - 10)),
      );
      await expectCode('ERR_PEM_MALFORMED', () =>
        core.parseCertificate('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n'),
      );
      await expectCode('ERR_PEM_LABEL_MISMATCH', () =>
        core.parseCertificate(core.encodePem('PRIVATE KEY', cert.der)),
      );
      await expectCode('ERR_INPUT_TOO_LARGE', () =>
        core.decodeCertificate(new Uint8Array(core.MAX_DER_BYTES + 1).fill(0x30)),
      );
      await expectCode('ERR_CSR_MALFORMED', () => core.parseCsr(cert.der));
      assert(
        equalBytes(core.fromBase64Der(core.toBase64Der(cert.der)), cert.der),
        'base64-DER must round-trip',
      );
    },
  },
  {
    name: 'core/public-suffix: a wildcard over a public suffix names no one (Public Suffix List)',
    async run() {
      assert(isPublicSuffix('co.uk') && isPublicSuffix('github.io'), 'listed suffixes');
      assert(!isPublicSuffix('example.co.uk') && !isPublicSuffix('localhost'), 'unlisted names');
      const caKeys = await core.generateKeyPair();
      const root = await core.createSelfSignedCa({
        subject: core.organizationName({ organization: 'PSL Root' }),
        keyPair: caKeys,
      });
      const leaf = await core.issueEndEntityCertificate({
        issuer: { certificate: root, privateKey: caKeys.privateKey },
        subject: core.personName({ commonName: 'wild' }),
        publicKey: (await core.generateKeyPair()).publicKey,
        altNames: [
          { type: 'dns', value: '*.co.uk' },
          { type: 'dns', value: '*.example.co.uk' },
        ],
      });
      const validator = core.createPathValidator({
        anchors: [root],
        publicSuffix: isPublicSuffix,
      });
      const over = await validator.validate({
        peer: leaf.der,
        purpose: 'serverAuth',
        peerName: 'example.co.uk',
      });
      assert(
        !over.ok && over.code === 'ERR_CHAIN_PEER_NAME',
        `*.co.uk must not name example.co.uk, got ${over.ok ? 'ok' : over.code}`,
      );
      const under = await validator.validate({
        peer: leaf.der,
        purpose: 'serverAuth',
        peerName: 'www.example.co.uk',
      });
      assert(under.ok, `*.example.co.uk must name www.example.co.uk: ${JSON.stringify(under)}`);
    },
  },
  {
    name: 'hono + web: RFC 9421 signed request accepted once; replay, tampered body, stranger refused (Ed25519)',
    run: () => signedRequests('Ed25519'),
  },
  {
    name: 'hono + web: RFC 9421 signed request accepted once; replay, tampered body, stranger refused (P-256)',
    run: () => signedRequests('P-256'),
  },
];

async function selfSigned(subject: core.Name): Promise<core.Certificate> {
  const keys = await core.generateKeyPair();
  return core.createSelfSignedCa({ subject, keyPair: keys });
}
