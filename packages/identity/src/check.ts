/**
 * @module identity/check — what is in an identity directory (`certified show`) and what is wrong with it
 * (`certified check`): missing files, loose key permissions, corrupt files, mismatched keys, expired or
 * soon-expiring certificates, a service certificate that does not name the host it is reached at.
 */
import {
  CertifiedError,
  equalBytes,
  fingerprint,
  type Certificate,
  formatGeneralName,
  formatName,
  matchesPeerName,
  verifyCertificateSignature,
} from '@certified/core';
import { letterAliasProblem } from './letters/intro-letter.js';
import {
  loadIdentity,
  signerNameOf,
  type Identity,
  type IdentityCertificates,
  type IdentityProblem,
  type KnownService,
} from './identity.js';
import type { IdentityStore } from './store.js';

/** A certificate as `show` prints it. */
export interface CertificateSummary {
  readonly subject: string;
  /** ORNL certified's form of the subject: the `id/<…>.crt` file name and `auths` entry. */
  readonly signerName: string;
  readonly issuer: string;
  readonly ca: boolean;
  readonly keyType: string;
  readonly altNames: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  /** Whole days left until notAfter (negative once expired). */
  readonly daysLeft: number;
  readonly fingerprint: string;
}

/** What `certified show` reports. */
export interface IdentityDescription {
  readonly location: string;
  readonly identity: CertificateSummary & { readonly chain: readonly CertificateSummary[] };
  readonly signer: CertificateSummary | null;
  readonly signatures: readonly { file: string; certificate: CertificateSummary }[];
  readonly caSignatures: readonly { file: string; certificate: CertificateSummary }[];
  readonly knownClients: readonly { file: string; certificates: readonly CertificateSummary[] }[];
  readonly knownServers: readonly { file: string; certificates: readonly CertificateSummary[] }[];
  readonly services: readonly {
    alias: string;
    file: string;
    url: string;
    auths: readonly string[];
    cert: CertificateSummary | null;
  }[];
  readonly problems: readonly IdentityProblem[];
}

/**
 * Summarises a loaded identity for display.
 *
 * @param options.now - for `daysLeft`; default now.
 * @example
 * console.log(JSON.stringify(describeIdentity(await loadIdentity(store)), null, 2));
 */
export function describeIdentity(
  identity: IdentityCertificates,
  options: { now?: Date } = {},
): IdentityDescription {
  const now = options.now ?? new Date();
  const s = (c: Certificate) => summarize(c, now);
  return {
    location: identity.location,
    identity: { ...s(identity.id.certificate), chain: identity.id.chain.map(s) },
    signer: identity.signer ? s(identity.signer.certificate) : null,
    signatures: identity.signatures.map((f) => ({
      file: f.file,
      certificate: s(f.certificates[0]!),
    })),
    caSignatures: identity.caSignatures.map((f) => ({
      file: f.file,
      certificate: s(f.certificates[0]!),
    })),
    knownClients: identity.knownClients.map((f) => ({
      file: f.file,
      certificates: f.certificates.map(s),
    })),
    knownServers: identity.knownServers.map((f) => ({
      file: f.file,
      certificates: f.certificates.map(s),
    })),
    services: identity.services.map((v) => ({
      alias: v.alias,
      file: v.file,
      url: v.url,
      auths: v.auths,
      cert: v.cert ? s(v.cert) : null,
    })),
    problems: identity.problems,
  };
}

/**
 * One certificate, summarised.
 *
 * @example
 * summarize(cert).daysLeft;
 */
export function summarize(cert: Certificate, now: Date = new Date()): CertificateSummary {
  return {
    subject: formatName(cert.subject),
    signerName: signerNameOf(cert),
    issuer: formatName(cert.issuer),
    ca: cert.basicConstraints?.ca === true,
    keyType:
      cert.publicKey.algorithm === 'RSA' || cert.publicKey.algorithm === 'RSA-PSS'
        ? `${cert.publicKey.algorithm}-${cert.publicKey.bits}`
        : cert.publicKey.algorithm,
    altNames: (cert.subjectAltNames ?? []).map(formatGeneralName),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    daysLeft: Math.floor((cert.notAfter.getTime() - now.getTime()) / 86_400_000),
    fingerprint: fingerprint(cert),
  };
}

/** Options for {@link checkIdentity}. */
export interface CheckIdentityOptions {
  now?: Date;
  /** Warn about certificates expiring within this many days; default 30. */
  expiryWarningDays?: number;
}

/**
 * Looks for problems in an identity directory without throwing for any of them: missing files, key files
 * readable by others (not 0600), corrupt keys or certificates, `id.key` not matching `id.crt`, `self.crt`
 * not our CA, certificates expired or expiring soon, service files without a url, and pinned service
 * certificates (end-entity) that do not carry the host the service is reached at.
 *
 * @returns problems, errors first; empty when all is well.
 * @example
 * for (const p of await checkIdentity(store)) console.log(`${p.severity} ${p.code} ${p.file}: ${p.message}`);
 */
export async function checkIdentity(
  store: IdentityStore,
  options: CheckIdentityOptions = {},
): Promise<IdentityProblem[]> {
  const now = options.now ?? new Date();
  const warnMs = (options.expiryWarningDays ?? 30) * 86_400_000;
  const problems: IdentityProblem[] = [];
  const add = (
    severity: 'error' | 'warning',
    code: string,
    file: string | undefined,
    message: string,
  ) => problems.push({ severity, code, ...(file === undefined ? {} : { file }), message });

  const root = await store.stat('');
  if (!root) {
    add(
      'error',
      'CHECK_MISSING',
      undefined,
      `${store.location} does not exist: run \`certified init\`.`,
    );
    return problems;
  }
  if (root.kind !== 'directory') {
    add('error', 'CHECK_MISSING', undefined, `${store.location} is not a directory.`);
    return problems;
  }
  if (root.mode !== undefined && (root.mode & 0o022) !== 0)
    add(
      'warning',
      'CHECK_PERMISSIONS',
      '',
      `${store.location} is writable by others (mode ${octal(root.mode)}).`,
    );
  const hasSigner =
    (await store.stat('CA.key')) !== undefined || (await store.stat('CA.crt')) !== undefined;
  for (const base of hasSigner ? ['CA', 'id'] : ['id']) {
    for (const ext of ['key', 'crt']) {
      const file = `${base}.${ext}`;
      const st = await store.stat(file);
      if (!st) add('error', 'CHECK_MISSING', file, `${file} is missing.`);
      else if (st.kind !== 'file') add('error', 'CHECK_MISSING', file, `${file} is not a file.`);
      else if (ext === 'key' && st.mode !== undefined && (st.mode & 0o077) !== 0)
        add(
          'error',
          'CHECK_PERMISSIONS',
          file,
          `${file} is readable by others (mode ${octal(st.mode)}); run chmod 600 on it.`,
        );
    }
  }
  for (const dir of ['known_clients', 'known_servers']) {
    const st = await store.stat(dir);
    if (!st || st.kind !== 'directory') add('error', 'CHECK_MISSING', dir, `${dir}/ is missing.`);
  }

  let identity: Identity | undefined;
  try {
    identity = await loadIdentity(store);
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    if (e.code !== 'ERR_IDENTITY_NOT_FOUND') add('error', e.code, e.field, e.message);
  }
  if (!identity) return sortProblems(problems);
  problems.push(...identity.problems);

  const expiry = (cert: Certificate, file: string) => {
    const left = cert.notAfter.getTime() - now.getTime();
    if (left < 0)
      add(
        'error',
        'CHECK_EXPIRED',
        file,
        `${file} (${formatName(cert.subject)}) expired on ${day(cert.notAfter)}.`,
      );
    else if (left < warnMs)
      add(
        'warning',
        'CHECK_EXPIRING',
        file,
        `${file} (${formatName(cert.subject)}) expires on ${day(cert.notAfter)}, in ${Math.ceil(left / 86_400_000)} days.`,
      );
    if (cert.notBefore.getTime() > now.getTime())
      add(
        'warning',
        'CHECK_NOT_YET_VALID',
        file,
        `${file} is not valid before ${day(cert.notBefore)}.`,
      );
  };
  expiry(identity.id.certificate, 'id.crt');
  if (identity.signer) {
    expiry(identity.signer.certificate, 'CA.crt');
    if (
      identity.id.chain.length === 0 &&
      !(await issuedBy(identity.id.certificate, identity.signer.certificate))
    )
      add('warning', 'CHECK_ID_NOT_FROM_CA', 'id.crt', 'id.crt was not issued by CA.crt.');
    for (const self of ['known_servers/self.crt', 'known_clients/self.crt']) {
      const f = [...identity.knownClients, ...identity.knownServers].find((k) => k.file === self);
      if (!f)
        add('warning', 'CHECK_MISSING', self, `${self} is missing: we do not trust what we sign.`);
      else if (!f.certificates.some((c) => equalBytes(c.der, identity.signer!.certificate.der)))
        add('warning', 'CHECK_SELF_MISMATCH', self, `${self} does not match CA.crt.`);
    }
  }
  for (const f of [
    ...identity.signatures,
    ...identity.caSignatures,
    ...identity.knownClients,
    ...identity.knownServers,
  ])
    for (const c of f.certificates.slice(0, 1)) expiry(c, f.file);
  for (const s of identity.services) {
    const reroute = serviceRerouteProblem(s);
    if (reroute) add('warning', 'CHECK_SERVICE_REROUTES', s.file, reroute);
    if (s.cert) {
      expiry(s.cert, s.file);
      const hostProblem = serviceHostProblem(s);
      if (hostProblem) add('warning', 'CHECK_SERVICE_HOST', s.file, hostProblem);
    }
  }
  return sortProblems(problems);
}

// --- internal ---

/** A pinned end-entity certificate must carry the host the service is reached at; a CA cannot be judged here. */
function serviceHostProblem(s: KnownService): string | undefined {
  if (!s.cert || s.cert.basicConstraints?.ca === true) return undefined;
  const host = new URL(s.url).hostname.replace(/^\[|\]$/g, '');
  return matchesPeerName(s.cert, host)
    ? undefined
    : `${s.file}: the pinned certificate (${formatName(s.cert.subject)}) does not carry ${host}, the host in its url.`;
}

/**
 * A service named like a real host whose url goes to another host: every `https://<that host>/…`
 * request goes elsewhere. `add-service NAME --url` can do it on purpose; letters no longer can
 * (ERR_SERVICE_ALIAS_HOSTLIKE), but a directory may hold one installed before that rule.
 */
function serviceRerouteProblem(s: KnownService): string | undefined {
  if (letterAliasProblem(s.alias) === undefined) return undefined; // a plain alias reroutes no host
  let aliasHost: string;
  try {
    aliasHost = new URL(`https://${s.alias}/`).hostname;
  } catch {
    return undefined;
  }
  const target = new URL(s.url).hostname;
  if (aliasHost === target) return undefined;
  return `${s.file} sends every https://${s.alias}/… request to ${s.url} (another host), judged by its pinned certificate: remove it unless you added it yourself (a letter from an older certified could have written it).`;
}

function sortProblems(p: IdentityProblem[]): IdentityProblem[] {
  return p.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}

/** Names alone do not tell: a re-run `init` makes a new CA with the same name. */
async function issuedBy(cert: Certificate, ca: Certificate): Promise<boolean> {
  if (!equalBytes(cert.issuerDer, ca.subjectDer)) return false;
  try {
    await verifyCertificateSignature(cert, ca);
    return true;
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    return false;
  }
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}
