/**
 * @module validators — Anchor's nine validators, with Anchor's names and options. Each is compiled
 * once from its options (bad options are ERR_CA_CONFIG_INVALID) into a check that throws
 * ERR_CA_VALIDATION_FAILED naming itself and the offending value. Proof of possession is not here:
 * it always runs, before any validator.
 */
import {
  commonNameOf,
  formatGeneralName,
  KEY_USAGES,
  type CertificationRequest,
  type GeneralName,
} from '@certified/core';
import { CaError } from '../errors.js';
import type { Principal } from '../auth/types.js';
import { domainAllowed, inNetworks, isIp, parseNetwork, type Network } from './match.js';
import { extensionName } from './extension-names.js';

/** What a validator sees. */
export interface ValidationContext {
  readonly csr: CertificationRequest;
  readonly principal: Principal;
  /** The caller's address, as the server saw it. */
  readonly source: string | undefined;
}

/** A compiled validator. */
export type Validator = (ctx: ValidationContext) => void;

/** Anchor's validator names. */
export const VALIDATOR_NAMES = [
  'common_name',
  'alternative_names',
  'alternative_names_ip',
  'blacklist_names',
  'server_group',
  'extensions',
  'key_usage',
  'ca_status',
  'source_cidrs',
] as const;
/** One of {@link VALIDATOR_NAMES}. */
export type ValidatorName = (typeof VALIDATOR_NAMES)[number];

type Options = Readonly<Record<string, unknown>>;

/**
 * Compiles one validator from its config options.
 *
 * @param name - Anchor's validator name.
 * @param options - its options (`allowed_domains`, `allowed_networks`, …).
 * @param field - the config key, for error messages.
 * @throws ERR_CA_CONFIG_INVALID for bad options.
 * @example
 * const check = compileValidator('common_name', { allowed_domains: ['.example.com'] }, 'ra.validators');
 */
export function compileValidator(name: ValidatorName, options: Options, field: string): Validator {
  const f = `${field}.${name}`;
  switch (name) {
    case 'common_name': {
      const domains = list(options, 'allowed_domains', f, []);
      const networks = list(options, 'allowed_networks', f, []).map((n, i) =>
        parseNetwork(n, `${f}.allowed_networks[${i}]`),
      );
      return ({ csr }) => {
        const cn = commonNameOf(csr.subject);
        if (cn === undefined) refuse(name, '', 'The request has no common name.');
        checkName(name, cn, domains, networks, 'common name');
      };
    }
    case 'alternative_names':
    case 'alternative_names_ip': {
      const domains = list(options, 'allowed_domains', f, []);
      const networks =
        name === 'alternative_names_ip'
          ? list(options, 'allowed_networks', f, []).map((n, i) =>
              parseNetwork(n, `${f}.allowed_networks[${i}]`),
            )
          : undefined;
      return ({ csr }) => {
        for (const san of csr.subjectAltNames ?? []) {
          if (san.type === 'dns') checkName(name, san.value, domains, [], 'alternative name');
          else if (san.type === 'ip' && networks)
            checkName(name, san.value, [], networks, 'alternative name');
          else refuse(name, sanText(san), `Alternative names of type ${san.type} are not allowed.`);
        }
      };
    }
    case 'blacklist_names': {
      const domains = list(options, 'domains', f);
      return ({ csr }) => {
        const cn = commonNameOf(csr.subject);
        const names = [
          ...(cn === undefined ? [] : [cn]),
          ...(csr.subjectAltNames ?? []).filter((n) => n.type === 'dns').map((n) => n.value),
        ];
        for (const n of names)
          if (domainAllowed(n, domains) || domains.some((d) => n.toLowerCase() === d.toLowerCase()))
            refuse(name, n, `The name "${n}" is blacklisted.`);
      };
    }
    case 'server_group': {
      const prefixes = mapping(options, 'group_prefixes', f);
      return ({ csr, principal }) => {
        const cn = commonNameOf(csr.subject) ?? '';
        const prefix = cn.split('.')[0]!.split('-')[0]!;
        const group = prefixes[prefix];
        if (group !== undefined && !principal.groups.includes(group))
          refuse(
            name,
            cn,
            `Names starting "${prefix}-" need group "${group}", and ${principal.user} is not in it.`,
          );
      };
    }
    case 'extensions': {
      const allowed = new Set(list(options, 'allowed_extensions', f).map((e) => e.toLowerCase()));
      return ({ csr }) => {
        for (const e of csr.extensions) {
          const n = extensionName(e.oid);
          if (!allowed.has(e.oid) && !allowed.has(n.toLowerCase()))
            refuse(name, n, `The extension ${n} is not allowed.`);
        }
      };
    }
    case 'key_usage': {
      const norm = (s: string): string => s.replace(/[\s_]/g, '').toLowerCase();
      const known = new Map(KEY_USAGES.map((k) => [norm(k), k]));
      const allowed = new Set(
        list(options, 'allowed_usage', f).map((u, i) => {
          const k = known.get(norm(u));
          if (!k)
            throw new CaError(
              'ERR_CA_CONFIG_INVALID',
              `${f}.allowed_usage[${i}] "${u}" is not a key usage.`,
              { field: `${f}.allowed_usage` },
            );
          return k;
        }),
      );
      return ({ csr }) => {
        for (const u of csr.keyUsage ?? [])
          if (!allowed.has(u)) refuse(name, u, `The key usage ${u} is not allowed.`);
      };
    }
    case 'ca_status': {
      const wanted = options['ca_requested'] ?? false;
      if (typeof wanted !== 'boolean')
        throw new CaError('ERR_CA_CONFIG_INVALID', `${f}.ca_requested must be true or false.`, {
          field: `${f}.ca_requested`,
        });
      return ({ csr }) => {
        const ca = csr.basicConstraints?.ca === true;
        if (ca !== wanted)
          refuse(
            name,
            `CA:${ca ? 'TRUE' : 'FALSE'}`,
            ca
              ? 'The request asks for a CA certificate, which this RA does not issue.'
              : 'This RA issues CA certificates only, and the request does not ask for one.',
          );
      };
    }
    case 'source_cidrs': {
      const networks = list(options, 'cidrs', f).map((n, i) => parseNetwork(n, `${f}.cidrs[${i}]`));
      return ({ source }) => {
        if (source === undefined || !inNetworks(source, networks))
          refuse(
            name,
            source ?? 'unknown',
            `Requests from ${source ?? 'an unknown address'} are not allowed.`,
          );
      };
    }
  }
}

// --- internal ---

function refuse(validator: string, value: string, message: string): never {
  throw new CaError('ERR_CA_VALIDATION_FAILED', `${validator}: ${message}`, { validator, value });
}

function checkName(
  validator: string,
  name: string,
  domains: readonly string[],
  networks: readonly Network[],
  what: string,
): void {
  if (isIp(name)) {
    if (!inNetworks(name, networks))
      refuse(validator, name, `The ${what} ${name} is not in an allowed network.`);
  } else if (!domainAllowed(name, domains)) {
    refuse(validator, name, `The ${what} "${name}" is not in an allowed domain.`);
  }
}

function sanText(n: GeneralName): string {
  return formatGeneralName(n);
}

function list(o: Options, key: string, f: string, dflt?: string[]): string[] {
  const v = o[key] ?? dflt;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new CaError('ERR_CA_CONFIG_INVALID', `${f}.${key} must be a list of strings.`, {
      field: `${f}.${key}`,
    });
  return v as string[];
}

function mapping(o: Options, key: string, f: string): Record<string, string> {
  const v = o[key];
  if (
    typeof v !== 'object' ||
    v === null ||
    Array.isArray(v) ||
    Object.values(v).some((x) => typeof x !== 'string')
  )
    throw new CaError('ERR_CA_CONFIG_INVALID', `${f}.${key} must map prefixes to group names.`, {
      field: `${f}.${key}`,
    });
  return v as Record<string, string>;
}
