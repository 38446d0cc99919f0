/**
 * @module test/tls-pki — the throwaway PKIs of @certified/node's tests (`packages/node/test/tls-identities.ts`),
 * re-exported for this package's tests. Loaded by a computed specifier so that tsc does not pull the
 * file into this package's program (it lies outside `rootDir`); the types below are the subset we use.
 */
import type { Certificate, ExtendedKeyUsage, GeneralName, PathValidator } from '@certified/core';

export type TlsAlgorithm = 'Ed25519' | 'P-256';

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
  validator(): PathValidator;
}

interface TlsIdentitiesModule {
  createTlsPki(algorithm: TlsAlgorithm, organization: string): Promise<TlsPki>;
  issueServer(pki: TlsPki, commonName?: string): Promise<TlsIdentity>;
  issueClient(pki: TlsPki, commonName: string): Promise<TlsIdentity>;
  issueExpiredClient(pki: TlsPki, commonName: string): Promise<TlsIdentity>;
}

const specifier = ['..', '..', 'node', 'test', 'tls-identities.ts'].join('/');
const mod = (await import(
  /* @vite-ignore */ new URL(specifier, import.meta.url).href
)) as TlsIdentitiesModule;

export const { createTlsPki, issueServer, issueClient, issueExpiredClient } = mod;
