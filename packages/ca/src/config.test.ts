import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { thrown } from '@certified/testing';
import { parseCaConfig } from './config.js';
import { compileValidator } from './validators/index.js';

const HASH =
  'pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const GOOD = {
  signing_ca: { main: { cert_path: 'ca.crt', key_path: 'ca.key' } },
  authentication: { ops: { backend: 'static', users: [{ user: 'ops', secret_hash: HASH }] } },
  registration_authority: {
    default: {
      signing_ca: 'main',
      authentication: 'ops',
      validators: { common_name: { allowed_domains: ['.example.com'] }, ca_status: {} },
      fixups: { enforce_alternative_names: {} },
    },
  },
};
const withRa = (ra: Record<string, unknown>) =>
  JSON.stringify({
    ...GOOD,
    registration_authority: { default: { ...GOOD.registration_authority.default, ...ra } },
  });

describe('parseCaConfig', () => {
  it('reads Anchor’s shape from JSON with defaults (24 h, pglite, 720 h retention)', () => {
    const c = parseCaConfig(JSON.stringify(GOOD));
    const ra = c.registration_authority['default']!;
    expect(ra.valid_hours).toBe(24);
    expect(ra.validators.map((v) => v.name)).toEqual(['common_name', 'ca_status']);
    expect(ra.fixups.map((f) => f.name)).toEqual(['enforce_alternative_names']);
    expect(c.store).toEqual({ backend: 'pglite', no_store: false, retention_hours: 720 });
    expect(c.max_body_bytes).toBe(65_536);
  });

  it("parses the README's configuration reference as written (every validator, fixup and auth mode)", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
    // The reference elides the hash; a well-formed one stands in for it.
    const c = parseCaConfig(block.replace("'pbkdf2-sha256$100000$…'", `'${HASH}'`));
    const ra = c.registration_authority['default']!;
    expect(ra.validators.map((v) => v.name).sort()).toEqual([
      'alternative_names',
      'alternative_names_ip',
      'blacklist_names',
      'ca_status',
      'common_name',
      'extensions',
      'key_usage',
      'server_group',
      'source_cidrs',
    ]);
    expect(ra.fixups).toHaveLength(3);
    expect(
      Object.values(c.authentication)
        .map((a) => a.backend)
        .sort(),
    ).toEqual(['jwt', 'mtls', 'static']);
  });

  it('reads the same from YAML', () => {
    const yaml = `
signing_ca: { main: { cert_path: ca.crt, key_path: ca.key } }
authentication:
  idp: { backend: jwt, jwks_url: "https://127.0.0.1:1/jwks.json", audience: ca }
registration_authority:
  web: { signing_ca: main, authentication: idp, valid_hours: 8 }
store: { backend: postgres, url: "postgres://127.0.0.1/ca", no_store: true }
`;
    const c = parseCaConfig(yaml);
    expect(c.registration_authority['web']!.valid_hours).toBe(8);
    expect(c.authentication['idp']).toMatchObject({ backend: 'jwt', audience: 'ca' });
    expect(c.store).toMatchObject({ backend: 'postgres', no_store: true });
  });

  const bad: [string, string, string][] = [
    ['not YAML', '{ a: [', ''],
    ['an unknown top-level key', JSON.stringify({ ...GOOD, extra: 1 }), 'extra'],
    [
      'an unknown validator',
      withRa({ validators: { commonname: {} } }),
      'registration_authority.default.validators.commonname',
    ],
    [
      'an unknown fixup',
      withRa({ fixups: { nope: {} } }),
      'registration_authority.default.fixups.nope',
    ],
    [
      'a missing signing_ca entry',
      withRa({ signing_ca: 'other' }),
      'registration_authority.default.signing_ca',
    ],
    ['a zero lifetime', withRa({ valid_hours: 0 }), 'registration_authority.default.valid_hours'],
    [
      'a plain-text secret',
      JSON.stringify({
        ...GOOD,
        authentication: {
          ops: { backend: 'static', users: [{ user: 'a', secret_hash: 'hunter2' }] },
        },
      }),
      'authentication.ops.users[0].secret_hash',
    ],
    [
      'a jwt without keys',
      JSON.stringify({ ...GOOD, authentication: { ops: { backend: 'jwt' } } }),
      'authentication.ops',
    ],
    [
      'a jwt without an audience',
      JSON.stringify({
        ...GOOD,
        authentication: { ops: { backend: 'jwt', jwks_url: 'https://127.0.0.1:1/jwks.json' } },
      }),
      'authentication.ops.audience',
    ],
    [
      'an unknown auth backend',
      JSON.stringify({ ...GOOD, authentication: { ops: { backend: 'ldap' } } }),
      'authentication.ops.backend',
    ],
    [
      'postgres without url',
      JSON.stringify({ ...GOOD, store: { backend: 'postgres' } }),
      'store.url',
    ],
  ];
  it.each(bad)('refuses %s with ERR_CA_CONFIG_INVALID naming the key', (_n, text, field) => {
    const e = thrown(() => parseCaConfig(text));
    expect(e.code).toBe('ERR_CA_CONFIG_INVALID');
    expect(e.field).toBe(field);
  });
});

describe('compileValidator', () => {
  it('says what is wrong with unparseable YAML in one line', () => {
    const e = thrown(() => parseCaConfig('garbage: [\n'));
    expect(e.code).toBe('ERR_CA_CONFIG_INVALID');
    expect(e.message).toMatch(
      /^The configuration is not valid YAML or JSON: .+ at line \d+, column \d+\.$/,
    );
  });

  it('refuses bad options with ERR_CA_CONFIG_INVALID', () => {
    expect(
      thrown(() => compileValidator('source_cidrs', { cidrs: ['10.0.0.0/33'] }, 'v')).code,
    ).toBe('ERR_CA_CONFIG_INVALID');
    expect(
      thrown(() => compileValidator('key_usage', { allowed_usage: ['Teleport'] }, 'v')).code,
    ).toBe('ERR_CA_CONFIG_INVALID');
    expect(
      thrown(() => compileValidator('server_group', { group_prefixes: ['x'] }, 'v')).code,
    ).toBe('ERR_CA_CONFIG_INVALID');
  });
});
