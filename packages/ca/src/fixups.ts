/**
 * @module fixups — changes made to a request after the validators pass and before it is signed,
 * configured like validators: `enforce_alternative_names` (Anchor's: the CN becomes a SAN too),
 * `drop_extensions` (requested extensions and EKUs the profile does not allow are dropped instead of
 * refused) and `profile_ekus` (the certificate gets the profile's EKUs, whatever was asked).
 */
import {
  commonNameOf,
  dnsName,
  EKU,
  ipAddress,
  type CertificationRequest,
  formatGeneralName,
  type GeneralName,
} from '@certified/core';
import { isIp } from './validators/match.js';

/** The request as it will be signed. */
export interface Draft {
  /** The request, with extensions/EKUs possibly dropped (its signature still covers the original). */
  readonly csr: CertificationRequest;
  readonly altNames: readonly GeneralName[];
  /** EKUs to grant outright (names or OIDs); undefined: the request's, checked against the profile. */
  readonly grantEkus?: readonly string[];
}

/** Fixup names. */
export const FIXUP_NAMES = [
  'enforce_alternative_names',
  'drop_extensions',
  'profile_ekus',
] as const;
/** One of {@link FIXUP_NAMES}. */
export type FixupName = (typeof FIXUP_NAMES)[number];

/** A compiled fixup: a pure function from draft to draft. */
export type Fixup = (draft: Draft, profileEkus: readonly string[]) => Draft;

// The extensions core turns into certificate fields; anything else requested is never copied.
const UNDERSTOOD = new Set(['2.5.29.17', '2.5.29.19', '2.5.29.15', '2.5.29.37', '2.5.29.14']);

/**
 * The fixup of that name.
 *
 * @example
 * const draft = fixup('enforce_alternative_names')({ csr, altNames: [] }, ['serverAuth']);
 */
export function fixup(name: FixupName): Fixup {
  switch (name) {
    case 'enforce_alternative_names':
      return (d) => {
        const cn = commonNameOf(d.csr.subject);
        if (cn === undefined) return d;
        const san = isIp(cn) ? ipAddress(cn) : dnsName(cn);
        const has = d.altNames.some((n) => formatGeneralName(n) === formatGeneralName(san));
        return has ? d : { ...d, altNames: [...d.altNames, san] };
      };
    case 'drop_extensions':
      return (d, profileEkus) => {
        const allowed = new Set(profileEkus.map(oidOf));
        return {
          ...d,
          csr: {
            ...d.csr,
            extensions: d.csr.extensions.filter((e) => UNDERSTOOD.has(e.oid)),
            ...(d.csr.extKeyUsage
              ? { extKeyUsage: d.csr.extKeyUsage.filter((e) => allowed.has(e)) }
              : {}),
          },
        };
      };
    case 'profile_ekus':
      return (d, profileEkus) => ({ ...d, grantEkus: profileEkus });
  }
}

function oidOf(name: string): string {
  return (EKU as Record<string, string>)[name] ?? name;
}
