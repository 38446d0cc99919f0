/**
 * @module @certified/testing/tls-pki — throwaway PKIs for the mTLS tests: a CA (backdated 30 days so it can
 * sign already-expired leaves), and server, client and expired identities under it, as the
 * `{ key, certificates }` pairs `serve` and `createMtlsFetch` take. Shared by the vitest suites and
 * the cross-runtime script (bundled by esbuild).
 */
import {
  createPathValidator,
  createSelfSignedCa,
  dnsName,
  exportPrivateKey,
  generateKeyPair,
  ipAddress,
  issueEndEntityCertificate,
  organizationName,
  personName,
  signingName,
  type Certificate,
  type ExtendedKeyUsage,
  type GeneralName,
  type PathValidator,
} from '@certified/core';

export type TlsAlgorithm = 'Ed25519' | 'P-256';

/** What `serve` / `createMtlsFetch` need, plus the certificate for assertions. */
export interface TlsIdentity {
  readonly key: string;
  /** Our certificate first, then the CA that issued it. */
  readonly certificates: Uint8Array[];
  readonly certificate: Certificate;
  readonly commonName: string;
}

export interface IssueOptions {
  readonly ekus?: readonly ExtendedKeyUsage[];
  readonly altNames?: readonly GeneralName[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export interface TlsPki {
  readonly ca: Certificate;
  issue(commonName: string, options?: IssueOptions): Promise<TlsIdentity>;
  /** A validator trusting this CA only. */
  validator(): PathValidator;
}

const DAY = 86_400_000;

/** Names a loopback server carries. */
export const LOOPBACK_NAMES: readonly GeneralName[] = [
  ipAddress('127.0.0.1'),
  ipAddress('::1'),
  dnsName('localhost'),
];

export async function createTlsPki(algorithm: TlsAlgorithm, organization: string): Promise<TlsPki> {
  const caKeys = await generateKeyPair({ algorithm });
  const ca = await createSelfSignedCa({
    subject: signingName(organizationName({ organization })),
    keyPair: caKeys,
    notBefore: new Date(Date.now() - 30 * DAY),
    lifetimeSeconds: 365 * 86_400,
  });
  return {
    ca,
    validator: () => createPathValidator({ anchors: [ca.der] }),
    async issue(commonName, options = {}) {
      const keys = await generateKeyPair({ algorithm, extractable: true });
      const certificate = await issueEndEntityCertificate({
        issuer: { certificate: ca, privateKey: caKeys.privateKey },
        subject: personName({ commonName }),
        publicKey: keys.publicKey,
        ...(options.altNames ? { altNames: options.altNames } : {}),
        ...(options.ekus ? { extendedKeyUsages: options.ekus } : {}),
        ...(options.notBefore ? { notBefore: options.notBefore } : {}),
        ...(options.notAfter ? { notAfter: options.notAfter } : {}),
      });
      return {
        key: await exportPrivateKey(keys.privateKey),
        certificates: [certificate.der, ca.der],
        certificate,
        commonName,
      };
    },
  };
}

/** A server identity for 127.0.0.1 / ::1 / localhost. */
export function issueServer(pki: TlsPki, commonName = 'server'): Promise<TlsIdentity> {
  return pki.issue(commonName, { ekus: ['serverAuth'], altNames: LOOPBACK_NAMES });
}

/** A client identity (clientAuth only). */
export function issueClient(pki: TlsPki, commonName: string): Promise<TlsIdentity> {
  return pki.issue(commonName, { ekus: ['clientAuth'] });
}

/** A client identity that expired yesterday. */
export function issueExpiredClient(pki: TlsPki, commonName: string): Promise<TlsIdentity> {
  return pki.issue(commonName, {
    ekus: ['clientAuth'],
    notBefore: new Date(Date.now() - 10 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });
}
