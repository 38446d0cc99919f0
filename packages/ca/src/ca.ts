/**
 * @module ca — the issuance pipeline, one function per request kind: authenticate → read the CSR →
 * proof of possession → revocations → validators (in config order) → fixups → sign → record. Every
 * request, accepted or refused, leaves one audit record; nothing is returned that was not recorded.
 */
import {
  CertifiedError,
  equalBytes,
  fingerprint,
  formatGeneralName,
  formatName,
  issueCertificateFromCsr,
  parseCsr,
  verifyCsr,
  encodePem,
  type Certificate,
  type CertificationRequest,
  type GeneralName,
} from '@certified/core';
import { CaError } from './errors.js';
import { createRefusalLimiter } from './refusal-limit.js';
import type { Authenticator, Credentials, Principal } from './auth/types.js';
import type { Validator, ValidatorName } from './validators/index.js';
import type { Draft, Fixup, FixupName } from './fixups.js';
import type { Signer } from './signer.js';
import type { AuditEntry, CaStore, RevocationKey } from './store/store.js';

/** A compiled registration authority. */
export interface RegistrationAuthority {
  readonly name: string;
  readonly signer: Signer;
  readonly authenticator: Authenticator;
  /** Judges renewals: the current certificate must chain to this RA's signing CA. */
  readonly renewal: Authenticator;
  readonly validHours: number;
  readonly extendedKeyUsages: readonly string[];
  readonly allowCa: boolean;
  readonly validators: readonly { readonly name: ValidatorName; readonly check: Validator }[];
  readonly fixups: readonly { readonly name: FixupName; readonly apply: Fixup }[];
}

/** One request to the pipeline. */
export interface IssueRequest {
  readonly ra: string;
  readonly csr: string | Uint8Array;
  readonly credentials: Credentials;
  readonly source: string | undefined;
  /** `sign` (Anchor's form API), `certificates` (JSON) or `renew` (mTLS). */
  readonly endpoint: string;
}

/** What a successful issuance returns. */
export interface Issued {
  readonly certificate: Certificate;
  readonly pem: string;
  /** The CA's chain, issuer first. */
  readonly chain: readonly Certificate[];
}

/** A revocation request: a serial or a subject (RFC 4514 text as the audit shows it). */
export interface RevokeRequest {
  readonly ra: string;
  readonly serial?: string | undefined;
  readonly subject?: string | undefined;
  readonly reason?: string | undefined;
  readonly credentials: Credentials;
  readonly source: string | undefined;
}

/** Lifting a revocation. */
export interface LiftRequest {
  readonly ra: string;
  readonly id: number;
  readonly credentials: Credentials;
  readonly source: string | undefined;
}

/** Options for {@link createCa}. */
export interface CaOptions {
  readonly ras: ReadonlyMap<string, RegistrationAuthority>;
  readonly store: CaStore;
  /** Keep decisions but not certificates (Vault's lesson); default false. */
  readonly noStore?: boolean;
  /** The clock; default `() => new Date()`. */
  readonly now?: () => Date;
  /** Refusals one source address may cause per minute before it gets 429s; default 60, 0 = no limit. */
  readonly refusalsPerMinute?: number;
}

/** The CA service. */
export interface Ca {
  readonly ras: ReadonlyMap<string, RegistrationAuthority>;
  readonly store: CaStore;
  /** Issues for a new request (`sign`, `certificates`). @throws CaError */
  issue(request: IssueRequest): Promise<Issued>;
  /** Issues for a holder presenting its current certificate over mTLS. @throws CaError */
  renew(request: IssueRequest): Promise<Issued>;
  /** Revokes passively; resolves to the revocation ids. @throws CaError */
  revoke(request: RevokeRequest): Promise<number[]>;
  /** Lifts a revocation by id (from `revoke`'s answer). @throws CaError (ERR_CA_NOT_FOUND when none is in force) */
  lift(request: LiftRequest): Promise<void>;
  /**
   * Whether `source` is within its refusal budget.
   * @throws CaError ERR_CA_RATE_LIMITED when it is not (nothing is recorded for it).
   */
  admit(source: string | undefined): void;
  /** Records a refusal that happened before the pipeline (bad body, unknown route). */
  refuse(
    base: Partial<AuditEntry> & { ra: string; endpoint: string },
    error: CaError,
  ): Promise<void>;
}

/**
 * Creates the CA service over compiled RAs and a store.
 *
 * @example
 * const ca = createCa({ ras, store });
 * const { pem } = await ca.issue({ ra: 'default', csr, credentials: { user, secret }, source, endpoint: 'sign' });
 */
export function createCa(options: CaOptions): Ca {
  const now = options.now ?? (() => new Date());
  const { ras, store } = options;

  const raOf = (name: string): RegistrationAuthority => {
    const ra = ras.get(name);
    if (!ra)
      throw new CaError('ERR_CA_RA_UNKNOWN', `No registration authority named "${name}".`, {
        field: 'ra',
        value: name,
      });
    return ra;
  };

  const limiter = createRefusalLimiter({ perMinute: options.refusalsPerMinute ?? 60 });
  function admit(source: string | undefined): void {
    if (!limiter.admit(source, now().getTime()))
      throw new CaError(
        'ERR_CA_RATE_LIMITED',
        `Too many refused requests from ${source} in the last minute; try again later.`,
      );
  }

  async function refuse(
    base: Partial<AuditEntry> & { ra: string; endpoint: string },
    error: CaError,
  ): Promise<void> {
    const t = base.time ?? now();
    const source = base.source ?? undefined;
    const spent = limiter.refused(source, t.getTime());
    const note = spent
      ? ` (the last refusal ${source} may cause this minute: more get 429s, counted in metrics, not recorded)`
      : '';
    await store.record({
      time: t,
      auth_method: null,
      requester: null,
      source: null,
      subject: null,
      sans: null,
      spki_sha256: null,
      serial: null,
      not_before: null,
      not_after: null,
      certificate: null,
      ...base,
      decision: 'refused',
      code: error.code,
      reason: error.message + note,
      expires_at: t,
    });
  }

  async function pipeline(req: IssueRequest, renewal: boolean): Promise<Issued> {
    admit(req.source);
    const time = now();
    const audit: Partial<AuditEntry> & { ra: string; endpoint: string; time: Date } = {
      time,
      ra: req.ra,
      endpoint: req.endpoint,
      source: req.source ?? null,
    };
    try {
      const ra = raOf(req.ra);
      const principal = await (renewal ? ra.renewal : ra.authenticator).authenticate(
        req.credentials,
        time,
      );
      audit.auth_method = principal.method;
      audit.requester = principal.user;
      const csr = readCsr(req.csr);
      audit.subject = formatName(csr.subject);
      audit.sans = JSON.stringify((csr.subjectAltNames ?? []).map(formatGeneralName));
      audit.spki_sha256 = fingerprint(csr.publicKey.spki);
      try {
        await verifyCsr(csr);
      } catch (e) {
        throw new CaError(
          'ERR_CA_CSR_SIGNATURE',
          `The CSR's signature does not verify: ${(e as Error).message}`,
          {
            field: 'csr',
            cause: e,
          },
        );
      }
      const keys: RevocationKey[] = [
        { kind: 'subject', value: audit.subject },
        { kind: 'key', value: audit.spki_sha256 },
      ];
      if (renewal) keys.push(...renewalKeys(principal, csr));
      const hit = await store.revoked(keys);
      if (hit)
        throw new CaError(
          'ERR_CA_REVOKED',
          `The ${hit.kind} ${hit.value} is revoked${hit.reason ? ` (${hit.reason})` : ''}; nothing is issued until the revocation is lifted.`,
          { value: hit.value },
        );
      for (const v of ra.validators) v.check({ csr, principal, source: req.source });
      let draft: Draft = { csr, altNames: csr.subjectAltNames ?? [] };
      for (const f of ra.fixups) draft = f.apply(draft, ra.extendedKeyUsages);
      if (renewal) noWidening(principal.certificate!, draft.altNames);
      // A 128-bit random serial never collides in practice; the unique constraint makes sure.
      for (let attempt = 0; attempt < 3; attempt++) {
        const certificate = await sign(ra, draft, time);
        const pem = encodePem('CERTIFICATE', certificate.der);
        const stored = await store.record({
          ...(audit as AuditEntry),
          decision: 'issued',
          code: null,
          reason: null,
          serial: certificate.serialNumberHex,
          not_before: certificate.notBefore,
          not_after: certificate.notAfter,
          expires_at: certificate.notAfter,
          certificate: options.noStore ? null : pem,
        });
        if (stored) return { certificate, pem, chain: ra.signer.chain };
      }
      throw new CaError('ERR_CA_STORE_FAILED', 'Three random serials in a row were taken.');
    } catch (e) {
      const error =
        e instanceof CaError
          ? e
          : new CaError('ERR_CA_ISSUE_FAILED', `Issuance failed: ${(e as Error).message}`, {
              cause: e,
            });
      if (error.code !== 'ERR_CA_STORE_FAILED') await refuse(audit, error);
      throw error;
    }
  }

  return {
    ras,
    store,
    issue: (r) => pipeline(r, false),
    renew: (r) => pipeline(r, true),
    refuse,
    admit,
    async lift(r) {
      admit(r.source);
      const time = now();
      const audit = { time, ra: r.ra, endpoint: 'lift', source: r.source ?? null };
      try {
        const ra = raOf(r.ra);
        const principal = await ra.authenticator.authenticate(r.credentials, time);
        Object.assign(audit, { auth_method: principal.method, requester: principal.user });
        if (principal.certificate)
          throw new CaError(
            'ERR_CA_FORBIDDEN',
            'Lifting a revocation needs the RA operator (user and secret, or a token), not a certificate holder.',
          );
        if (!(await store.lift(r.id, time)))
          throw new CaError('ERR_CA_NOT_FOUND', `No revocation ${r.id} is in force.`, {
            field: 'id',
            value: String(r.id),
          });
        await store.record({
          ...audit,
          auth_method: principal.method,
          requester: principal.user,
          subject: null,
          sans: null,
          spki_sha256: null,
          decision: 'lifted',
          code: null,
          reason: `lifted revocation ${r.id}`,
          serial: null,
          not_before: null,
          not_after: null,
          expires_at: time,
          certificate: null,
        });
      } catch (e) {
        if (e instanceof CaError && e.code !== 'ERR_CA_STORE_FAILED') await refuse(audit, e);
        throw e;
      }
    },
    async revoke(r) {
      admit(r.source);
      const time = now();
      const audit = { time, ra: r.ra, endpoint: 'revoke', source: r.source ?? null };
      try {
        const ra = raOf(r.ra);
        const principal = await ra.authenticator.authenticate(r.credentials, time);
        Object.assign(audit, { auth_method: principal.method, requester: principal.user });
        const keys: RevocationKey[] = [];
        if (r.serial) {
          const serial = r.serial.toLowerCase().replace(/:/g, '');
          const rec = await store.findBySerial(serial);
          if (!rec || rec.ra !== ra.name)
            throw new CaError(
              'ERR_CA_NOT_FOUND',
              `No certificate with serial ${serial} from this RA.`,
              {
                field: 'serial',
                value: serial,
              },
            );
          keys.push({ kind: 'serial', value: serial });
          if (rec.spki_sha256) keys.push({ kind: 'key', value: rec.spki_sha256 });
        }
        if (r.subject) keys.push({ kind: 'subject', value: r.subject });
        if (principal.certificate) onlyItself(principal.certificate, keys);
        if (keys.length === 0)
          throw new CaError('ERR_CA_REQUEST_INVALID', 'A revocation needs a serial or a subject.', {
            field: 'serial',
          });
        const ids = await store.revoke(keys, r.reason ?? null, time);
        await store.record({
          ...audit,
          auth_method: principal.method,
          requester: principal.user,
          subject: r.subject ?? null,
          sans: null,
          spki_sha256: null,
          decision: 'revoked',
          code: null,
          reason: `revoked ${keys.map((k) => `${k.kind} ${k.value}`).join(', ')}${r.reason ? `: ${r.reason}` : ''}`,
          serial: null,
          not_before: null,
          not_after: null,
          expires_at: time,
          certificate: null,
        });
        return ids;
      } catch (e) {
        if (e instanceof CaError && e.code !== 'ERR_CA_STORE_FAILED') await refuse(audit, e);
        throw e;
      }
    },
  };
}

// --- internal ---

function readCsr(input: string | Uint8Array): CertificationRequest {
  try {
    return parseCsr(input);
  } catch (e) {
    throw new CaError('ERR_CA_CSR_MALFORMED', `The CSR cannot be read: ${(e as Error).message}`, {
      field: 'csr',
      cause: e,
    });
  }
}

function renewalKeys(principal: Principal, csr: CertificationRequest): RevocationKey[] {
  const current = principal.certificate;
  if (!current)
    throw new CaError('ERR_CA_AUTH_REQUIRED', 'A renewal needs the current certificate over mTLS.');
  if (!equalBytes(current.subjectDer, csr.subjectDer))
    throw new CaError(
      'ERR_CA_RENEW_MISMATCH',
      `A renewal must ask for the same subject as the current certificate (${formatName(current.subject)}).`,
      { field: 'csr', value: formatName(csr.subject) },
    );
  return [
    { kind: 'serial', value: current.serialNumberHex },
    { kind: 'subject', value: formatName(current.subject) },
  ];
}

/**
 * A caller authenticated by its certificate (an `mtls` RA) may revoke itself — its serial, key or
 * subject — and nothing else: any holder could otherwise revoke every other holder.
 */
function onlyItself(own: Certificate, keys: readonly RevocationKey[]): void {
  const mine: Record<RevocationKey['kind'], string> = {
    serial: own.serialNumberHex,
    subject: formatName(own.subject),
    key: fingerprint(own.publicKey.spki),
  };
  const other = keys.find((k) => mine[k.kind] !== k.value);
  if (other)
    throw new CaError(
      'ERR_CA_FORBIDDEN',
      `A certificate holder may revoke only its own certificate; ${other.kind} ${other.value} is not ${formatName(own.subject)}'s.`,
      { field: other.kind, value: other.value },
    );
}

/**
 * A renewal proves only that its caller holds the current certificate, so it may ask for no name that
 * certificate does not carry: else a holder of `a.example.com` could renew into `b.example.com`.
 */
function noWidening(current: Certificate, altNames: readonly GeneralName[]): void {
  const held = new Set((current.subjectAltNames ?? []).map(formatGeneralName));
  const extra = altNames.map(formatGeneralName).filter((n) => !held.has(n));
  if (extra.length > 0)
    throw new CaError(
      'ERR_CA_RENEW_MISMATCH',
      `A renewal may not add names the current certificate does not have: ${extra.join(', ')}.`,
      { field: 'csr', value: extra.join(', ') },
    );
}

async function sign(ra: RegistrationAuthority, d: Draft, time: Date): Promise<Certificate> {
  try {
    return await issueCertificateFromCsr({
      issuer: ra.signer.issuer,
      csr: d.csr,
      now: time,
      profile: {
        lifetimeSeconds: ra.validHours * 3600,
        allowedExtendedKeyUsages: ra.extendedKeyUsages,
        allowCa: ra.allowCa,
        altNames: d.altNames,
        ...(d.grantEkus ? { extendedKeyUsages: d.grantEkus } : {}),
      },
    });
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    throw new CaError('ERR_CA_ISSUE_FAILED', `The signer refused: ${e.message}`, {
      field: e.field ?? 'csr',
      value: e.code,
      cause: e,
    });
  }
}
