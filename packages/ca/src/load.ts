/**
 * @module load — turns a parsed configuration into a running CA: signers loaded, authenticators and
 * validators compiled, the store opened. Files are read through a port, so this runs anywhere.
 */
import { parseCertificates, type Certificate } from '@certified/core';
import type { JSONWebKeySet } from 'jose';
import { CaError } from './errors.js';
import type { AuthenticationConfig, CaConfig } from './config.js';
import { createCa, type Ca, type RegistrationAuthority } from './ca.js';
import { compileValidator } from './validators/index.js';
import { fixup } from './fixups.js';
import { loadSigner, type Signer } from './signer.js';
import type { Authenticator } from './auth/types.js';
import { createStaticAuthenticator } from './auth/static.js';
import { createJwtAuthenticator } from './auth/jwt.js';
import { createMtlsAuthenticator } from './auth/mtls.js';
import type { CaStore } from './store/store.js';

/** Options for {@link loadCa}. */
export interface LoadCaOptions {
  /** Reads a file named in the config (paths as written there; resolve them in the adapter). */
  readonly readText: (path: string) => Promise<string>;
  /** Opens the store the config names (the adapter picks PGlite or PostgreSQL). */
  readonly openStore: (config: CaConfig['store']) => Promise<CaStore>;
  readonly now?: () => Date;
}

/**
 * Loads a CA from its configuration.
 *
 * @throws ERR_CA_CONFIG_INVALID for unreadable files, bad keys or bad validator options; ERR_CA_STORE_FAILED.
 * @example
 * const ca = await loadCa(parseCaConfig(text), { readText: (p) => readFile(p, 'utf8'), openStore });
 */
export async function loadCa(config: CaConfig, options: LoadCaOptions): Promise<Ca> {
  const read = async (path: string, field: string): Promise<string> => {
    try {
      return await options.readText(path);
    } catch (e) {
      throw new CaError(
        'ERR_CA_CONFIG_INVALID',
        `${field}: cannot read ${path}: ${(e as Error).message}`,
        {
          field,
          cause: e,
        },
      );
    }
  };
  const signers = new Map<string, Signer>();
  for (const [name, s] of Object.entries(config.signing_ca)) {
    const f = `signing_ca.${name}`;
    signers.set(name, await loadSigner(await read(s.cert_path, f), await read(s.key_path, f), f));
  }
  const auths = new Map<string, (signer: Signer) => Promise<Authenticator>>();
  for (const [name, a] of Object.entries(config.authentication))
    auths.set(name, await authFactory(a, `authentication.${name}`, read));
  const ras = new Map<string, RegistrationAuthority>();
  for (const [name, r] of Object.entries(config.registration_authority)) {
    const f = `registration_authority.${name}`;
    const signer = signers.get(r.signing_ca)!;
    ras.set(name, {
      name,
      signer,
      authenticator: await auths.get(r.authentication)!(signer),
      renewal: createMtlsAuthenticator([signer.issuer.certificate]),
      validHours: r.valid_hours,
      extendedKeyUsages: r.profile.extended_key_usages ?? ['serverAuth', 'clientAuth'],
      allowCa: r.profile.allow_ca ?? false,
      validators: r.validators.map((v) => ({
        name: v.name,
        check: compileValidator(v.name, v.options, `${f}.validators`),
      })),
      fixups: r.fixups.map((x) => ({ name: x.name, apply: fixup(x.name) })),
    });
  }
  const store = await options.openStore(config.store);
  return createCa({
    ras,
    store,
    noStore: config.store.no_store,
    refusalsPerMinute: config.refusals_per_minute,
    ...(options.now ? { now: options.now } : {}),
  });
}

// --- internal ---

async function authFactory(
  a: AuthenticationConfig,
  f: string,
  read: (path: string, field: string) => Promise<string>,
): Promise<(signer: Signer) => Promise<Authenticator>> {
  switch (a.backend) {
    case 'static': {
      const auth = createStaticAuthenticator(a.users);
      return async () => auth;
    }
    case 'jwt': {
      let jwks: JSONWebKeySet | undefined;
      if (a.jwks_file !== undefined) {
        try {
          jwks = JSON.parse(await read(a.jwks_file, f)) as JSONWebKeySet;
        } catch (e) {
          if (e instanceof CaError) throw e;
          throw new CaError('ERR_CA_CONFIG_INVALID', `${f}: ${a.jwks_file} is not JSON.`, {
            field: `${f}.jwks_file`,
            cause: e,
          });
        }
      }
      let auth: Authenticator;
      try {
        auth = createJwtAuthenticator({
          ...(jwks ? { jwks } : { jwksUrl: a.jwks_url! }),
          ...(a.issuer ? { issuer: a.issuer } : {}),
          audience: a.audience!, // parseCaConfig requires it
          ...(a.user_claim ? { userClaim: a.user_claim } : {}),
          ...(a.groups_claim ? { groupsClaim: a.groups_claim } : {}),
        });
      } catch (e) {
        throw new CaError('ERR_CA_CONFIG_INVALID', `${f}: ${(e as Error).message}`, {
          field: f,
          cause: e,
        });
      }
      return async () => auth;
    }
    case 'mtls': {
      let anchors: Certificate[] | undefined;
      if (a.anchors) {
        anchors = [];
        for (const p of a.anchors) {
          try {
            anchors.push(...parseCertificates(await read(p, `${f}.anchors`)));
          } catch (e) {
            if (e instanceof CaError) throw e;
            throw new CaError('ERR_CA_CONFIG_INVALID', `${f}.anchors: ${p} holds no certificate.`, {
              field: `${f}.anchors`,
              cause: e,
            });
          }
        }
      }
      return async (signer) => createMtlsAuthenticator(anchors ?? [signer.issuer.certificate]);
    }
  }
}
