import { beforeAll, describe, expect, it } from 'vitest';
import {
  encodePem,
  toBase64Der,
  toOrnlBase64Der,
  toHex,
  createSelfSignedCa,
  type Certificate,
  dnsName,
  emailAddress,
  ipAddress,
  nameEquals,
  organizationName,
  personName,
  signingName,
  verifyCertificateSignature,
  generateKeyPair,
  ornlName,
} from '@certified/core';
import { rejected, thrown } from '@certified/testing';
import {
  checkEntryName,
  initIdentity,
  loadIdentity,
  loadService,
  parseService,
  readIdentityCertificates,
  serviceYaml,
  type Identity,
  type IdentityKeyType,
} from './identity.js';
import { describeIdentity } from './check.js';
import { createMemoryStore, type IdentityStore } from './store.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const enc = new TextEncoder();
const dec = new TextDecoder();

const ada = personName({ commonName: 'Ada Lovelace', country: 'GB' });
const adaAlt = [emailAddress('ada@example.org')];

/** Every file with its bytes (hex) and mode, to compare a store before and after. */
function snapshot(store: ReturnType<typeof createMemoryStore>): Record<string, string> {
  return Object.fromEntries(
    [...store.files].map(([p, f]) => [p, `${f.mode.toString(8)}:${toHex(f.data)}`]),
  );
}

async function text(store: IdentityStore, path: string): Promise<string> {
  const bytes = await store.read(path);
  if (bytes === undefined) throw new Error(`${path} is missing`);
  return dec.decode(bytes);
}

/** Names a YAML writer must quote or escape (test/ornl-compat.test.ts has PyYAML read a copy). */
const TRICKY_NAMES = [
  '#x',
  'CN=a: b',
  'O=- x',
  "CN=it's",
  'CN=a\\,b',
  '  lead',
  'trail ',
  'true',
  'yes',
  'on',
  'null',
  '~',
  '1:20',
  '0x1F',
  '2001-01-01',
  '=',
  '<<',
  '!tag',
  '&a',
  '*a',
  '%x',
  '@x',
  '`x',
  'CN=é,O=日本',
  'CN=😀',
  'a\nb',
  'CN=a\tb',
  'CN=a\rb',
  'CN=a\u0001b',
  'CN=a\u007fb',
  'CN=a\u0085b',
  'CN=a\u00a0b',
  'CN=a\u2028b',
  '',
];

let otherCa: Certificate;

beforeAll(async () => {
  const keys = await generateKeyPair();
  otherCa = await createSelfSignedCa({
    subject: signingName(organizationName({ organization: 'Other', unit: 'Ops' })),
    keyPair: keys,
    now: NOW,
  });
});

describe('initIdentity', () => {
  it('writes the CA, the identity, both self.crt copies, keys mode 0600', async () => {
    const store = createMemoryStore();
    const me = await initIdentity(store, { subject: ada, altNames: adaAlt, now: NOW });
    expect([...store.files.keys()].sort()).toEqual([
      'CA.crt',
      'CA.key',
      'id.crt',
      'id.key',
      'known_clients/self.crt',
      'known_servers/self.crt',
    ]);
    for (const [path, f] of store.files)
      expect([path, f.mode]).toEqual([path, path.endsWith('.key') ? 0o600 : 0o644]);
    expect(await text(store, 'CA.key')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(await text(store, 'id.key')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const caPem = await text(store, 'CA.crt');
    expect(caPem).toBe(encodePem('CERTIFICATE', me.signer!.certificate.der));
    expect(await text(store, 'known_clients/self.crt')).toBe(caPem);
    expect(await text(store, 'known_servers/self.crt')).toBe(caPem);
    expect(await text(store, 'id.crt')).toBe(encodePem('CERTIFICATE', me.id.certificate.der));
  });

  it('names the CA subject + pseudonym "Signing Certificate" and has it issue id.crt', async () => {
    const me = await initIdentity(createMemoryStore(), {
      subject: ada,
      altNames: adaAlt,
      now: NOW,
    });
    const ca = me.signer!.certificate;
    const id = me.id.certificate;
    expect(nameEquals(ca.subject, signingName(ada))).toBe(true);
    expect(ornlName(ca.subject)).toBe('P=Signing Certificate,C=GB,CN=Ada Lovelace');
    expect(nameEquals(ca.issuer, ca.subject)).toBe(true);
    expect(ca.basicConstraints).toEqual({ ca: true, pathLength: 0 });
    expect(nameEquals(id.subject, ada)).toBe(true);
    expect(toHex(id.issuerDer)).toBe(toHex(ca.subjectDer));
    expect(id.basicConstraints?.ca).not.toBe(true);
    expect(id.subjectAltNames).toEqual(adaAlt);
    await verifyCertificateSignature(id, ca);
    expect(me.id.chain).toEqual([]);
    expect(id.notAfter.getTime() - NOW.getTime()).toBe(365 * 86_400_000);
    expect(ca.notAfter.getTime() - NOW.getTime()).toBe(3650 * 86_400_000);
  });

  it.each([
    ['ed25519', 'Ed25519'],
    ['secp256r1', 'P-256'],
    ['secp384r1', 'P-384'],
  ] as const)('makes %s keys', async (keyType, algorithm) => {
    const store = createMemoryStore();
    const me = await initIdentity(store, { subject: ada, altNames: adaAlt, keyType, now: NOW });
    expect(me.id.certificate.publicKey.algorithm).toBe(algorithm);
    expect(me.signer!.certificate.publicKey.algorithm).toBe(algorithm);
    await verifyCertificateSignature(me.id.certificate, me.signer!.certificate);
    // What was written loads back.
    const again = await loadIdentity(store);
    expect(toHex(again.id.certificate.der)).toBe(toHex(me.id.certificate.der));
  });

  it('rejects an unknown key type with ERR_IDENTITY_INPUT_INVALID', async () => {
    const e = await rejected(
      initIdentity(createMemoryStore(), {
        subject: ada,
        altNames: adaAlt,
        keyType: 'rsa' as IdentityKeyType,
      }),
    );
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.field).toBe('keyType');
  });

  it('rejects a non-empty store with ERR_IDENTITY_EXISTS and leaves it unchanged', async () => {
    const store = createMemoryStore();
    await initIdentity(store, { subject: ada, altNames: adaAlt, now: NOW });
    const before = snapshot(store);
    const e = await rejected(initIdentity(store, { subject: ada, altNames: adaAlt, now: NOW }));
    expect(e.code).toBe('ERR_IDENTITY_EXISTS');
    expect(e.message).toMatch(/already holds .*overwrite/);
    expect(snapshot(store)).toEqual(before);

    const stray = createMemoryStore({ files: { 'notes.txt': enc.encode('hi') } });
    expect((await rejected(initIdentity(stray, { subject: ada, altNames: adaAlt }))).code).toBe(
      'ERR_IDENTITY_EXISTS',
    );
  });

  it('replaces keys and removes id/ and CA/ with overwrite', async () => {
    const store = createMemoryStore();
    const first = await initIdentity(store, { subject: ada, altNames: adaAlt, now: NOW });
    await store.commit([
      { op: 'write', path: 'id/CN=Someone.crt', data: enc.encode(first.id.keyPem) },
      { op: 'write', path: 'CA/CN=Someone.crt', data: enc.encode(first.id.keyPem) },
      { op: 'write', path: 'known_clients/bob.crt', data: enc.encode('kept') },
    ]);
    const oldKey = await text(store, 'id.key');
    const oldCaKey = await text(store, 'CA.key');
    const second = await initIdentity(store, {
      subject: ada,
      altNames: adaAlt,
      now: NOW,
      overwrite: true,
    });
    expect(await text(store, 'id.key')).not.toBe(oldKey);
    expect(await text(store, 'CA.key')).not.toBe(oldCaKey);
    expect(store.files.get('id.key')!.mode).toBe(0o600);
    expect(await store.list('id')).toEqual([]);
    expect(await store.list('CA')).toEqual([]);
    expect(await text(store, 'known_clients/bob.crt')).toBe('kept');
    expect(await text(store, 'known_servers/self.crt')).toBe(
      encodePem('CERTIFICATE', second.signer!.certificate.der),
    );
    expect(toHex(second.id.certificate.publicKey.spki)).not.toBe(
      toHex(first.id.certificate.publicKey.spki),
    );
  });

  it('rejects an identity without altNames with ERR_IDENTITY_INPUT_INVALID', async () => {
    const store = createMemoryStore();
    const e = await rejected(initIdentity(store, { subject: ada, altNames: [] }));
    expect(e.code).toBe('ERR_IDENTITY_INPUT_INVALID');
    expect(e.field).toBe('altNames');
    expect(store.files.size).toBe(0);
  });
});

describe('loadIdentity', () => {
  let store: ReturnType<typeof createMemoryStore>;
  let me: Identity;

  beforeAll(async () => {
    store = createMemoryStore();
    me = await initIdentity(store, {
      subject: ada,
      altNames: [emailAddress('ada@example.org'), dnsName('ada.example'), ipAddress('127.0.0.1')],
      now: NOW,
    });
  });

  const copy = () =>
    createMemoryStore({
      files: Object.fromEntries([...store.files].map(([p, f]) => [p, f.data])),
    });

  it('reads every part of the directory', async () => {
    const s = copy();
    await s.commit([
      {
        op: 'write',
        path: 'known_clients/other.crt',
        data: enc.encode(encodePem('CERTIFICATE', otherCa.der)),
      },
      {
        op: 'write',
        path: 'known_servers/api.yaml',
        data: enc.encode(serviceYaml({ url: 'https://api:8443', cert: otherCa, auths: [] })),
      },
      { op: 'write', path: 'known_servers/notes.txt', data: enc.encode('not a service') },
    ]);
    const loaded = await loadIdentity(s);
    expect(loaded.location).toBe('memory:');
    expect(toHex(loaded.id.certificate.der)).toBe(toHex(me.id.certificate.der));
    expect(toHex(loaded.signer!.certificate.der)).toBe(toHex(me.signer!.certificate.der));
    expect(loaded.id.keyPem).toBe(await text(s, 'id.key'));
    expect(loaded.knownClients.map((f) => [f.name, f.file])).toEqual([
      ['other', 'known_clients/other.crt'],
      ['self', 'known_clients/self.crt'],
    ]);
    expect(loaded.knownServers.map((f) => f.file)).toEqual(['known_servers/self.crt']);
    expect(loaded.services.map((v) => [v.alias, v.url])).toEqual([['api', 'https://api:8443']]);
    expect(loaded.signatures).toEqual([]);
    expect(loaded.caSignatures).toEqual([]);
    expect(loaded.problems).toEqual([]);
  });

  it('loads an identity without CA.key/CA.crt (after set-org) with no signer', async () => {
    const s = copy();
    await s.commit([
      { op: 'remove', path: 'CA.key' },
      { op: 'remove', path: 'CA.crt' },
    ]);
    expect((await loadIdentity(s)).signer).toBeUndefined();
  });

  it('rejects a corrupt id.key with ERR_IDENTITY_FILE_INVALID', async () => {
    const s = copy();
    await s.commit([
      {
        op: 'write',
        path: 'id.key',
        data: enc.encode('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
        overwrite: true,
      },
    ]);
    const e = await rejected(loadIdentity(s));
    expect(e.code).toBe('ERR_IDENTITY_FILE_INVALID');
    expect(e.field).toBe('id.key');
    expect(e.message).toMatch(/^id\.key is not a usable private key/);
  });

  it('rejects a corrupt id.crt with ERR_IDENTITY_FILE_INVALID', async () => {
    const s = copy();
    await s.commit([{ op: 'write', path: 'id.crt', data: enc.encode('junk!'), overwrite: true }]);
    const e = await rejected(loadIdentity(s));
    expect(e.code).toBe('ERR_IDENTITY_FILE_INVALID');
    expect(e.field).toBe('id.crt');
  });

  it("rejects another identity's id.key with ERR_IDENTITY_KEY_MISMATCH", async () => {
    const s = copy();
    const stranger = createMemoryStore();
    await initIdentity(stranger, { subject: ada, altNames: adaAlt, now: NOW });
    await s.commit([
      { op: 'write', path: 'id.key', data: (await stranger.read('id.key'))!, overwrite: true },
    ]);
    const e = await rejected(loadIdentity(s));
    expect(e.code).toBe('ERR_IDENTITY_KEY_MISMATCH');
    expect(e.field).toBe('id.key');
    expect(e.message).toMatch(/different identities/);
  });

  it('rejects CA.key from another CA with ERR_IDENTITY_KEY_MISMATCH (field CA.key)', async () => {
    const s = copy();
    await s.commit([
      { op: 'write', path: 'CA.key', data: (await s.read('id.key'))!, overwrite: true },
    ]);
    const e = await rejected(loadIdentity(s));
    expect(e.code).toBe('ERR_IDENTITY_KEY_MISMATCH');
    expect(e.field).toBe('CA.key');
  });

  it('rejects a missing identity with ERR_IDENTITY_NOT_FOUND', async () => {
    const e = await rejected(loadIdentity(createMemoryStore()));
    expect(e.code).toBe('ERR_IDENTITY_NOT_FOUND');
    expect(e.message).toMatch(/id\.key and id\.crt missing/);
    expect(e.field).toBe('id.key');

    const s = copy();
    await s.commit([{ op: 'remove', path: 'id.crt' }]);
    const e2 = await rejected(loadIdentity(s));
    expect(e2.code).toBe('ERR_IDENTITY_NOT_FOUND');
    expect(e2.field).toBe('id.crt');
  });

  it('reports a corrupt known_clients/x.crt and a service without url in problems', async () => {
    const s = copy();
    await s.commit([
      { op: 'write', path: 'known_clients/x.crt', data: enc.encode('not a certificate') },
      { op: 'write', path: 'known_servers/nourl.yaml', data: enc.encode('auths: []\n') },
      { op: 'write', path: 'known_servers/broken.yaml', data: enc.encode('url: [unclosed\n') },
      { op: 'write', path: 'id/CN=Bad.crt', data: enc.encode('-----BEGIN CERTIFICATE-----\n') },
    ]);
    const loaded = await loadIdentity(s);
    expect(loaded.problems.map((p) => [p.code, p.file, p.severity])).toEqual([
      ['ERR_IDENTITY_FILE_INVALID', 'id/CN=Bad.crt', 'error'],
      ['ERR_IDENTITY_FILE_INVALID', 'known_clients/x.crt', 'error'],
      ['ERR_SERVICE_INVALID', 'known_servers/broken.yaml', 'error'],
      ['ERR_SERVICE_INVALID', 'known_servers/nourl.yaml', 'error'],
    ]);
    expect(loaded.problems[3]!.message).toMatch(/has no url/);
    // The readable files are still there.
    expect(loaded.knownClients.map((f) => f.name)).toEqual(['self']);
    expect(loaded.services).toEqual([]);
    expect(loaded.signatures).toEqual([]);
  });

  it('readIdentityCertificates reads what loadIdentity reads, keys aside, without WebCrypto', async () => {
    const s = copy();
    await s.commit([
      {
        op: 'write',
        path: 'known_servers/api.yaml',
        data: enc.encode(serviceYaml({ url: 'https://api:8443', cert: otherCa, auths: [] })),
      },
    ]);
    const full = await loadIdentity(s);
    const noCrypto = {
      subtle: new Proxy(
        {},
        {
          get: () => {
            throw new Error('WebCrypto touched');
          },
        },
      ),
    } as unknown as Crypto;
    const orig = globalThis.crypto;
    Object.defineProperty(globalThis, 'crypto', { value: noCrypto, configurable: true });
    let certs: Awaited<ReturnType<typeof readIdentityCertificates>>;
    try {
      certs = await readIdentityCertificates(s);
    } finally {
      Object.defineProperty(globalThis, 'crypto', { value: orig, configurable: true });
    }
    expect(certs.id.certificate.der).toEqual(full.id.certificate.der);
    expect(certs.signer!.certificate.der).toEqual(full.signer!.certificate.der);
    expect(certs.services.map((x) => x.alias)).toEqual(['api']);
    expect('privateKey' in certs.id).toBe(false);
    expect(describeIdentity(certs, { now: NOW })).toEqual(describeIdentity(full, { now: NOW }));
  });

  it('readIdentityCertificates refuses an unusable key file as loadIdentity does, but not a mismatched one', async () => {
    const s = copy();
    await s.commit([{ op: 'write', path: 'id.key', data: enc.encode('garbage'), overwrite: true }]);
    const e = await rejected(readIdentityCertificates(s));
    expect([e.code, e.field]).toEqual(['ERR_IDENTITY_FILE_INVALID', 'id.key']);
    expect(e.message).toMatch(/^id\.key is not a usable private key/);
    const m = copy();
    await m.commit([
      { op: 'write', path: 'CA.key', data: (await m.read('id.key'))!, overwrite: true },
    ]);
    expect((await readIdentityCertificates(m)).signer).toBeDefined();
    expect((await rejected(loadIdentity(m))).code).toBe('ERR_IDENTITY_KEY_MISMATCH');
    const gone = copy();
    await gone.commit([{ op: 'remove', path: 'id.key' }]);
    expect((await rejected(readIdentityCertificates(gone))).code).toBe('ERR_IDENTITY_NOT_FOUND');
  });
});

describe('parseService', () => {
  const file = 'known_servers/api.yaml';
  const parse = (yaml: string) => parseService('api', file, yaml);
  const b64 = () => toOrnlBase64Der(otherCa.der);

  it('reads url, cert (ORNL base64) and auths', () => {
    const s = parse(`auths:\n- CN=A\n- O=B\ncert: ${b64()}\nurl: https://api.example:8443/v1\n`);
    expect(s.alias).toBe('api');
    expect(s.file).toBe(file);
    expect(s.url).toBe('https://api.example:8443/v1');
    expect(s.auths).toEqual(['CN=A', 'O=B']);
    expect(toHex(s.cert!.der)).toBe(toHex(otherCa.der));
  });

  it('accepts the cert as PEM, standard base64, or ORNL base64', () => {
    const pem = encodePem('CERTIFICATE', otherCa.der);
    const asBlock = `url: https://api\ncert: |\n${pem
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n')}\n`;
    for (const yaml of [
      asBlock,
      `url: https://api\ncert: ${toBase64Der(otherCa.der)}\n`,
      `url: https://api\ncert: ${b64()}\n`,
    ])
      expect(toHex(parse(yaml).cert!.der)).toBe(toHex(otherCa.der));
    // The two alphabets differ for (almost) any certificate, so both paths ran.
    expect(toBase64Der(otherCa.der)).not.toBe(b64());
  });

  it('ignores unknown keys, takes cert: null as no cert and missing auths as []', () => {
    const s = parse('url: https://api\ncert: null\nextra: 1\nnested: {a: b}\n');
    expect(s.cert).toBeUndefined();
    expect(s.auths).toEqual([]);
    expect(parse('url: https://api\n').cert).toBeUndefined();
  });

  it.each([
    ['a missing url', 'auths: []\n', 'url', /has no url/],
    ['an empty url', 'url: ""\n', 'url', /has no url/],
    ['a url that is not a string', 'url: 8443\n', 'url', /has no url/],
    ['an http url', 'url: http://api:8080\n', 'url', /must be https/],
    ['a relative url', 'url: api:8443\n', 'url', /must be https/],
    ['a url with a query', 'url: https://api/x?a=1\n', 'url', /query or fragment/],
    ['a url with a fragment', 'url: https://api/x#f\n', 'url', /query or fragment/],
    ['auths as a string', 'url: https://api\nauths: CN=A\n', 'auths', /list/],
    ['auths with a non-string', 'url: https://api\nauths: [CN=A, 3]\n', 'auths', /list/],
    ['a cert that is not a string', 'url: https://api\ncert: 12\n', 'cert', /base64/],
    ['a bad cert', 'url: https://api\ncert: AAAA\n', 'cert', /not a readable certificate/],
    ['a cert that is not base64', 'url: https://api\ncert: "*!*"\n', 'cert', /readable/],
    ['a list document', '- url\n', file, /expected a mapping/],
    ['an empty document', '', file, /expected a mapping/],
    ['invalid YAML', 'url: [unclosed\n', file, /not valid YAML/],
  ])('rejects %s with ERR_SERVICE_INVALID', (_, yaml, field, message) => {
    const e = thrown(() => parse(yaml));
    expect(e.code).toBe('ERR_SERVICE_INVALID');
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(file)).toBe(true);
  });

  it('rejects a YAML alias bomb with ERR_SERVICE_INVALID', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => {
        const p = i === 0 ? 'a' : `b${i - 1}`;
        return `b${i}: &b${i} [*${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}]`;
      }),
      'url: https://api',
      'auths: *b7',
    ].join('\n');
    const e = thrown(() => parse(bomb));
    expect(e.code).toBe('ERR_SERVICE_INVALID');
  });
});

describe('serviceYaml', () => {
  it("writes ORNL's keys auths, cert, url in that order, the cert in ORNL's alphabet", () => {
    const yaml = serviceYaml({ url: 'https://api:8443', cert: otherCa, auths: ['CN=A', 'O=B'] });
    expect(yaml).toBe(
      `auths:\n- CN=A\n- O=B\ncert: ${toOrnlBase64Der(otherCa.der)}\nurl: https://api:8443\n`,
    );
    const back = parseService('api', 'known_servers/api.yaml', yaml);
    expect(back.auths).toEqual(['CN=A', 'O=B']);
    expect(toHex(back.cert!.der)).toBe(toHex(otherCa.der));
  });

  it('writes cert: null and auths: [] when empty, as yaml.dump does', () => {
    expect(serviceYaml({ url: 'https://api', auths: [] })).toBe(
      'auths: []\ncert: null\nurl: https://api\n',
    );
  });

  it('quotes names YAML would misread, and reads them back unchanged', () => {
    const yaml = serviceYaml({ url: 'https://api', auths: TRICKY_NAMES });
    expect(parseService('api', 'f', yaml).auths).toEqual(TRICKY_NAMES);
  });

  it("quotes what YAML 1.1 (ORNL's PyYAML) reads as booleans, numbers or dates", () => {
    const yaml = serviceYaml({ url: 'https://api', auths: ['yes', 'on', 'No', '1:20', '1_000'] });
    expect(yaml).toBe(
      'auths:\n- "yes"\n- "on"\n- "No"\n- "1:20"\n- "1_000"\ncert: null\nurl: https://api\n',
    );
  });

  it('escapes characters PyYAML refuses raw (tab, DEL, NEL, line separators)', () => {
    const auths = ['CN=a\tb', 'CN=a\u007fb', 'CN=a\u0085b', 'CN=a\u2028b', '\ufeffCN=x'];
    const yaml = serviceYaml({ url: 'https://api', auths });
    expect(yaml).toMatch(/^[\n\x20-\x7e]*$/);
    expect(yaml).toContain('- "CN=a\\u007fb"\n');
    expect(parseService('api', 'f', yaml).auths).toEqual(auths);
  });
});

describe('loadService', () => {
  it('reads known_servers/<alias>.yaml', async () => {
    const store = createMemoryStore({
      files: { 'known_servers/api.yaml': enc.encode('url: https://10.0.0.1:8443\n') },
    });
    const s = await loadService(store, 'api');
    expect([s.alias, s.file, s.url]).toEqual([
      'api',
      'known_servers/api.yaml',
      'https://10.0.0.1:8443',
    ]);
  });

  it('rejects an unknown alias with ERR_SERVICE_UNKNOWN', async () => {
    const e = await rejected(loadService(createMemoryStore(), 'api'));
    expect(e.code).toBe('ERR_SERVICE_UNKNOWN');
    expect(e.message).toMatch(/No service "api"/);
  });

  it('rejects a path-like alias with ERR_IDENTITY_NAME_INVALID', async () => {
    const e = await rejected(loadService(createMemoryStore(), '../id'));
    expect(e.code).toBe('ERR_IDENTITY_NAME_INVALID');
  });
});

describe('checkEntryName', () => {
  it('accepts names ORNL writes: RFC 4514 strings, host:port, spaces', () => {
    for (const n of ['ada', 'P=Signing Certificate,CN=Ada', 'api:8443', 'x.y', 'a b', 'é'])
      expect(checkEntryName(n)).toBe(n);
  });

  it.each([
    ['empty', ''],
    ['a parent reference', '../x'],
    ['a slash', 'a/b'],
    ['a backslash', 'a\\b'],
    ['a leading dot', '.hidden'],
    ['a dot', '.'],
    ['a newline', 'a\nb'],
    ['a NUL', 'a\0b'],
    ['DEL', 'a\x7fb'],
    ['201 characters', 'x'.repeat(201)],
  ])('rejects %s with ERR_IDENTITY_NAME_INVALID', (_, name) => {
    const e = thrown(() => checkEntryName(name, 'client name'));
    expect(e.code).toBe('ERR_IDENTITY_NAME_INVALID');
    expect(e.field).toBe('client name');
    expect(e.message).toMatch(/^The client name .* cannot be a file name/);
  });
});
