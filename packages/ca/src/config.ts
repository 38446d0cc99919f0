/**
 * @module config — the CA's one configuration file (YAML or JSON), shaped like OpenStack Anchor's
 * `config.json`: `signing_ca`, `authentication` and `registration_authority` sections, plus `store`.
 * Parsing checks every key and answers ERR_CA_CONFIG_INVALID naming the first bad one.
 */
import { parse as parseYaml } from 'yaml';
import { CaError } from './errors.js';
import { VALIDATOR_NAMES, type ValidatorName } from './validators/index.js';
import { FIXUP_NAMES, type FixupName } from './fixups.js';

/** A CA that signs for RAs: where its certificate and key are. */
export interface SigningCaConfig {
  /** Path of the CA certificate (PEM; further certificates after it form the chain clients get). */
  readonly cert_path: string;
  /** Path of the CA private key (PKCS#8 PEM), loaded non-extractable. */
  readonly key_path: string;
}

/** One user of a `static` authentication: the secret is stored hashed (see `hashSecret`). */
export interface StaticUserConfig {
  readonly user: string;
  /** `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`. */
  readonly secret_hash: string;
  readonly groups?: readonly string[];
}

/** How callers of an RA prove who they are. */
export type AuthenticationConfig =
  | { readonly backend: 'static'; readonly users: readonly StaticUserConfig[] }
  | {
      readonly backend: 'jwt';
      /** Path of a JWKS JSON file, or … */
      readonly jwks_file?: string;
      /** … a JWKS URL (fetched and cached by jose). */
      readonly jwks_url?: string;
      readonly issuer?: string;
      readonly audience?: string;
      /** Claim naming the user; default `sub`. */
      readonly user_claim?: string;
      /** Claim holding the user's groups (a string or a list); default `groups`. */
      readonly groups_claim?: string;
    }
  | {
      readonly backend: 'mtls';
      /** PEM files of the anchors client certificates must chain to; default the RA's signing CA. */
      readonly anchors?: readonly string[];
    };

/** What an RA's certificates may be. */
export interface ProfileConfig {
  /** EKUs granted (and the only ones a request may ask for); default serverAuth and clientAuth. */
  readonly extended_key_usages?: readonly string[];
  /** Whether a request may ask for a CA certificate; default false. */
  readonly allow_ca?: boolean;
}

/** A registration authority: a named policy. */
export interface RaConfig {
  readonly signing_ca: string;
  readonly authentication: string;
  /** Certificate lifetime in hours; default 24. */
  readonly valid_hours: number;
  readonly profile: ProfileConfig;
  /** Validators by Anchor's names, run in the order written; options as Anchor's. */
  readonly validators: readonly { readonly name: ValidatorName; readonly options: Options }[];
  readonly fixups: readonly { readonly name: FixupName; readonly options: Options }[];
}

/** Where audit records and revocations live. */
export interface StoreConfig {
  /** `pglite` (embedded, the default) or `postgres`. */
  readonly backend: 'pglite' | 'postgres';
  /** PGlite data directory; default in memory (nothing survives a restart). */
  readonly path?: string;
  /** PostgreSQL connection URL. */
  readonly url?: string;
  /** Keep decisions but not certificates; default false. */
  readonly no_store: boolean;
  /** How long records are kept past the certificate's expiry (or a refusal's time); default 720 h. */
  readonly retention_hours: number;
}

/** The whole parsed configuration. */
export interface CaConfig {
  readonly signing_ca: Readonly<Record<string, SigningCaConfig>>;
  readonly authentication: Readonly<Record<string, AuthenticationConfig>>;
  readonly registration_authority: Readonly<Record<string, RaConfig>>;
  readonly store: StoreConfig;
  /** Largest request body accepted, in bytes; default 65 536. */
  readonly max_body_bytes: number;
  /** Refusals one source address may cause per minute before it gets 429s; default 60, 0 = off. */
  readonly refusals_per_minute: number;
}

/** Validator and fixup options: plain data from the file. */
export type Options = Readonly<Record<string, unknown>>;

/**
 * Parses a configuration file's text (YAML, of which JSON is a subset).
 *
 * @param text - the file's contents.
 * @throws ERR_CA_CONFIG_INVALID with `field` naming the offending key.
 * @example
 * const config = parseCaConfig(await readFile('ca.yaml', 'utf8'));
 */
export function parseCaConfig(text: string): CaConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    // yaml's messages add the offending lines and a caret: the first line says it all.
    const first = (e as Error).message.split('\n')[0]!.replace(/:$/, '');
    throw bad('', `The configuration is not valid YAML or JSON: ${first}.`, e);
  }
  const root = object(raw, '');
  known(root, '', [
    'signing_ca',
    'authentication',
    'registration_authority',
    'store',
    'max_body_bytes',
    'refusals_per_minute',
  ]);
  const signing_ca = entries(root, 'signing_ca', (v, f) => {
    const o = object(v, f);
    known(o, f, ['cert_path', 'key_path']);
    return { cert_path: str(o, 'cert_path', f), key_path: str(o, 'key_path', f) };
  });
  const authentication = entries(root, 'authentication', authOf);
  const registration_authority = entries(root, 'registration_authority', (v, f) => {
    const ra = raOf(v, f);
    if (!signing_ca[ra.signing_ca])
      throw bad(`${f}.signing_ca`, `${f}.signing_ca names no signing_ca entry "${ra.signing_ca}".`);
    if (!authentication[ra.authentication])
      throw bad(
        `${f}.authentication`,
        `${f}.authentication names no authentication entry "${ra.authentication}".`,
      );
    return ra;
  });
  return {
    signing_ca,
    authentication,
    registration_authority,
    store: storeOf(root['store'] ?? {}),
    max_body_bytes: positiveInt(root, 'max_body_bytes', '', 65_536),
    refusals_per_minute:
      root['refusals_per_minute'] === 0 ? 0 : positiveInt(root, 'refusals_per_minute', '', 60),
  };
}

// --- internal ---

function bad(field: string, message: string, cause?: unknown): CaError {
  return new CaError('ERR_CA_CONFIG_INVALID', message, { field, cause });
}

function object(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(field, `${field || 'The configuration'} must be a mapping.`);
  return v as Record<string, unknown>;
}

function known(o: Record<string, unknown>, field: string, keys: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!keys.includes(k)) {
      const at = field ? `${field}.${k}` : k;
      throw bad(at, `Unknown key ${at}; expected one of ${keys.join(', ')}.`);
    }
}

function str(o: Record<string, unknown>, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '')
    throw bad(`${field}.${key}`, `${field}.${key} must be a non-empty string.`);
  return v;
}

function optStr(o: Record<string, unknown>, key: string, field: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, field);
}

function strList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))
    throw bad(field, `${field} must be a list of non-empty strings.`);
  return v as string[];
}

function positiveInt(o: Record<string, unknown>, key: string, f: string, dflt: number): number {
  const v = o[key] ?? dflt;
  const at = f ? `${f}.${key}` : key;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw bad(at, `${at} must be a positive whole number.`);
  return v;
}

function entries<T>(
  root: Record<string, unknown>,
  key: string,
  each: (v: unknown, field: string) => T,
): Record<string, T> {
  const o = object(root[key], key);
  const names = Object.keys(o);
  if (names.length === 0) throw bad(key, `${key} must have at least one entry.`);
  return Object.fromEntries(names.map((n) => [n, each(o[n], `${key}.${n}`)]));
}

function authOf(v: unknown, f: string): AuthenticationConfig {
  const o = object(v, f);
  switch (o['backend']) {
    case 'static': {
      known(o, f, ['backend', 'users']);
      if (!Array.isArray(o['users']) || o['users'].length === 0)
        throw bad(`${f}.users`, `${f}.users must be a non-empty list.`);
      const users = o['users'].map((u, i) => {
        const at = `${f}.users[${i}]`;
        const e = object(u, at);
        known(e, at, ['user', 'secret_hash', 'groups']);
        const secret_hash = str(e, 'secret_hash', at);
        if (!/^pbkdf2-sha256\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(secret_hash))
          throw bad(
            `${at}.secret_hash`,
            `${at}.secret_hash must be pbkdf2-sha256$<iterations>$<salt>$<hash> (see hashSecret); plain secrets are refused.`,
          );
        return {
          user: str(e, 'user', at),
          secret_hash,
          ...(e['groups'] === undefined ? {} : { groups: strList(e['groups'], `${at}.groups`) }),
        };
      });
      return { backend: 'static', users };
    }
    case 'jwt': {
      const keys = ['jwks_file', 'jwks_url', 'issuer', 'audience', 'user_claim', 'groups_claim'];
      known(o, f, ['backend', ...keys]);
      const out: Record<string, string> = {};
      for (const k of keys) {
        const s = optStr(o, k, f);
        if (s !== undefined) out[k] = s;
      }
      if ((out['jwks_file'] === undefined) === (out['jwks_url'] === undefined))
        throw bad(f, `${f} needs exactly one of jwks_file and jwks_url.`);
      // Without an audience, a token the same identity provider issued for any other service
      // would be accepted here (RFC 8725, section 3.9).
      if (out['audience'] === undefined)
        throw bad(`${f}.audience`, `${f}.audience is required: the "aud" this CA's tokens carry.`);
      return { backend: 'jwt', ...out };
    }
    case 'mtls':
      known(o, f, ['backend', 'anchors']);
      return o['anchors'] === undefined
        ? { backend: 'mtls' }
        : { backend: 'mtls', anchors: strList(o['anchors'], `${f}.anchors`) };
    default:
      throw bad(`${f}.backend`, `${f}.backend must be static, jwt or mtls.`);
  }
}

function raOf(v: unknown, f: string): RaConfig {
  const o = object(v, f);
  known(o, f, ['signing_ca', 'authentication', 'valid_hours', 'profile', 'validators', 'fixups']);
  const p = object(o['profile'] ?? {}, `${f}.profile`);
  known(p, `${f}.profile`, ['extended_key_usages', 'allow_ca']);
  if (p['allow_ca'] !== undefined && typeof p['allow_ca'] !== 'boolean')
    throw bad(`${f}.profile.allow_ca`, `${f}.profile.allow_ca must be true or false.`);
  const profile: ProfileConfig = {
    ...(p['extended_key_usages'] === undefined
      ? {}
      : {
          extended_key_usages: strList(
            p['extended_key_usages'],
            `${f}.profile.extended_key_usages`,
          ),
        }),
    ...(p['allow_ca'] === undefined ? {} : { allow_ca: p['allow_ca'] }),
  };
  return {
    signing_ca: str(o, 'signing_ca', f),
    authentication: str(o, 'authentication', f),
    valid_hours: positiveInt(o, 'valid_hours', f, 24),
    profile,
    validators: named(o['validators'], `${f}.validators`, VALIDATOR_NAMES),
    fixups: named(o['fixups'], `${f}.fixups`, FIXUP_NAMES),
  };
}

function named<N extends string>(
  v: unknown,
  f: string,
  names: readonly N[],
): { name: N; options: Options }[] {
  if (v === undefined) return [];
  const o = object(v, f);
  return Object.entries(o).map(([name, options]) => {
    if (!names.includes(name as N))
      throw bad(`${f}.${name}`, `Unknown ${f}.${name}; expected one of ${names.join(', ')}.`);
    return { name: name as N, options: object(options ?? {}, `${f}.${name}`) };
  });
}

function storeOf(v: unknown): StoreConfig {
  const o = object(v, 'store');
  known(o, 'store', ['backend', 'path', 'url', 'no_store', 'retention_hours']);
  const backend = o['backend'] ?? 'pglite';
  if (backend !== 'pglite' && backend !== 'postgres')
    throw bad('store.backend', 'store.backend must be pglite or postgres.');
  if (backend === 'postgres' && o['url'] === undefined)
    throw bad('store.url', 'store.url is required for the postgres backend.');
  if (o['no_store'] !== undefined && typeof o['no_store'] !== 'boolean')
    throw bad('store.no_store', 'store.no_store must be true or false.');
  const path = optStr(o, 'path', 'store');
  const url = optStr(o, 'url', 'store');
  return {
    backend,
    ...(path === undefined ? {} : { path }),
    ...(url === undefined ? {} : { url }),
    no_store: o['no_store'] === true,
    retention_hours: positiveInt(o, 'retention_hours', 'store', 720),
  };
}
