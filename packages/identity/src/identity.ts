/**
 * @module identity/identity — an identity directory in ORNL certified's layout, read and written through an
 * {@link IdentityStore}: `CA.key`/`CA.crt` (the signing CA), `id.key`/`id.crt` (the identity it signed),
 * `id/<signer>.crt` and `CA/<signer>.crt` (our identity and CA as others signed them), `known_clients/`
 * (who may call our services) and `known_servers/` (services we call: `*.crt` and `<alias>.yaml`).
 */
import { parse as parseYaml, Scalar, stringify as stringifyYaml } from 'yaml';
import {
  CertifiedError,
  IdentityError,
  encodePem,
  fromBase64Der,
  readDerInput,
  toOrnlBase64Der,
  equalBytes,
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  readPrivateKeyDer,
  type CryptoOptions,
  type SigningKeyAlgorithm,
  decodeCertificate,
  type Certificate,
  createSelfSignedCa,
  issueEndEntityCertificate,
  type GeneralName,
  signingName,
  type Name,
  ornlName,
} from '@certified/core';
import type { IdentityStore, StoreChange } from './store.js';

/** Key types `certified init --key-type` offers, by ORNL certified's names. */
export type IdentityKeyType = 'ed25519' | 'secp256r1' | 'secp384r1';

/** WebCrypto algorithm for each {@link IdentityKeyType}. */
export const IDENTITY_KEY_TYPES: Readonly<Record<IdentityKeyType, SigningKeyAlgorithm>> = {
  ed25519: 'Ed25519',
  secp256r1: 'P-256',
  secp384r1: 'P-384',
};

/** A certificate file: `file` is its path in the store, `name` the file name without `.crt`. */
export interface CertificateFile {
  readonly name: string;
  readonly file: string;
  /** Every certificate in the file, in order (a PEM file may hold a chain or a bundle). */
  readonly certificates: readonly Certificate[];
}

/** A service we call: `known_servers/<alias>.yaml`, in ORNL certified's `TrustedService` shape. */
export interface KnownService {
  readonly alias: string;
  readonly file: string;
  /** Where the service is: `https://host[:port][/prefix]`. */
  readonly url: string;
  /** The certificate the server must chain to (its CA, or its own certificate, pinned). */
  readonly cert: Certificate | undefined;
  /** RFC 4514 names (ORNL's form) of signers whose signatures the service accepts from callers. */
  readonly auths: readonly string[];
}

/** Something wrong in an identity directory. */
export interface IdentityProblem {
  readonly severity: 'error' | 'warning';
  /** A stable code: an error code (`ERR_IDENTITY_FILE_INVALID`, `ERR_SERVICE_INVALID`) or a `CHECK_*` code. */
  readonly code: string;
  /** The file at fault, relative to the directory. */
  readonly file?: string;
  readonly message: string;
}

/** A certificate file of the identity: the certificate and any chain after it. */
export interface CertificateWithChain {
  readonly certificate: Certificate;
  /** Certificates after the first in the same file, e.g. the CA that signed `id.crt` after `set-org`. */
  readonly chain: readonly Certificate[];
}

/** A private key with the certificate (and chain) that go with it. */
export interface KeyedCertificate extends CertificateWithChain {
  readonly privateKey: CryptoKey;
  /**
   * The key file's text (PKCS#8 or SEC 1 PEM) — what TLS stacks take. Empty (`''`) when the store
   * keeps the key as a non-extractable CryptoKey ({@link IdentityStore.keys}): such an identity
   * signs with `privateKey` (introductions, signed requests) but cannot serve or call over TLS.
   */
  readonly keyPem: string;
}

/** An identity directory's certificates, read without its private keys ({@link readIdentityCertificates}). */
export interface IdentityCertificates {
  readonly store: IdentityStore;
  readonly location: string;
  /** The signing CA (`CA.crt`); absent after `set-org`, which hands signing to the organisation. */
  readonly signer: CertificateWithChain | undefined;
  /** The identity (`id.crt`). */
  readonly id: CertificateWithChain;
  /** `id/<signer>.crt`: our identity as signed by others (from `add-intro`). */
  readonly signatures: readonly CertificateFile[];
  /** `CA/<signer>.crt`: our CA as signed by others. */
  readonly caSignatures: readonly CertificateFile[];
  /** `known_clients/*.crt`: certificates (CA or end-entity) whose holders or signees may call us. */
  readonly knownClients: readonly CertificateFile[];
  /** `known_servers/*.crt`: servers (or their CAs) we trust when no service file pins one. */
  readonly knownServers: readonly CertificateFile[];
  /** `known_servers/*.yaml`, readable ones. */
  readonly services: readonly KnownService[];
  /** Files that could not be read; they are left out above. */
  readonly problems: readonly IdentityProblem[];
}

/** An identity directory, loaded: its certificates and the private keys that match them. */
export interface Identity extends IdentityCertificates {
  /** The signing CA (`CA.key` + `CA.crt`); absent after `set-org`, which hands signing to the organisation. */
  readonly signer: KeyedCertificate | undefined;
  /** The identity (`id.key` + `id.crt`). */
  readonly id: KeyedCertificate;
}

/** Options for {@link initIdentity}. */
export interface InitIdentityOptions extends CryptoOptions {
  /** The identity's name (see `personName`, `organizationName`); the CA gets it plus ORNL's pseudonym. */
  subject: Name;
  /** Where the identity is reached: emails, hosts, IPs, URIs. At least one. */
  altNames: readonly GeneralName[];
  /** Default `ed25519`. */
  keyType?: IdentityKeyType;
  /** Replace an existing identity; default false. Its `id/` and `CA/` signatures are removed with it. */
  overwrite?: boolean;
  /** Identity certificate lifetime in days; default 365. */
  days?: number;
  /** CA certificate lifetime in days; default 3650. */
  caDays?: number;
  now?: Date;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const SECRET = 0o600;

/**
 * Creates an identity in an empty store: a self-signed signing CA (subject + `pseudonym=Signing
 * Certificate`, as ORNL certified) and an identity certificate it signs, both keys mode 0600, and the CA
 * copied to `known_clients/self.crt` and `known_servers/self.crt` so we trust what we sign.
 *
 * In a store that keeps CryptoKeys ({@link IdentityStore.keys}, e.g. `@certified/web`'s IndexedDB
 * store) both private keys are generated non-extractable and stored as CryptoKeys: nothing, not even
 * this code, can read their bytes.
 *
 * @param store - where to write.
 * @param options.subject - the identity's name.
 * @param options.altNames - at least one email, host, IP or URI.
 * @param options.keyType - `ed25519` (default), `secp256r1` or `secp384r1`.
 * @param options.overwrite - replace an existing identity; default false.
 * @throws ERR_IDENTITY_EXISTS when the store already holds files and `overwrite` is not set;
 *   ERR_IDENTITY_INPUT_INVALID without altNames; StoreError codes when writing fails (nothing is left half-written).
 * @example
 * const me = await initIdentity(createMemoryStore(), {
 *   subject: personName({ commonName: 'Ada Lovelace' }), altNames: [emailAddress('ada@example.org')] });
 */
export async function initIdentity(
  store: IdentityStore,
  options: InitIdentityOptions,
): Promise<Identity> {
  if (!options.altNames || options.altNames.length === 0)
    throw new IdentityError(
      'ERR_IDENTITY_INPUT_INVALID',
      'An identity needs at least one email, host or URI to be reached at.',
      { field: 'altNames' },
    );
  const keyType = options.keyType ?? 'ed25519';
  const algorithm = IDENTITY_KEY_TYPES[keyType];
  if (!algorithm)
    throw new IdentityError(
      'ERR_IDENTITY_INPUT_INVALID',
      `Key type ${JSON.stringify(keyType)} is not one of ed25519, secp256r1, secp384r1.`,
      { field: 'keyType' },
    );
  const existing = (await store.list('')).filter((n) => !n.startsWith('.'));
  if (existing.length > 0 && options.overwrite !== true)
    throw new IdentityError(
      'ERR_IDENTITY_EXISTS',
      `${store.location} already holds ${existing.slice(0, 4).join(', ')}${existing.length > 4 ? ', …' : ''}; to replace the identity, set overwrite (certified init --overwrite).`,
    );
  const now = options.now ?? new Date();
  const crypto = options.crypto === undefined ? {} : { crypto: options.crypto };
  // Key files need the key's bytes; a CryptoKey store does not, so there the keys never leave WebCrypto.
  const asFiles = store.keys === undefined;
  const caKeys = await generateKeyPair({ algorithm, extractable: asFiles, ...crypto });
  const ca = await createSelfSignedCa({
    subject: signingName(options.subject),
    keyPair: caKeys,
    now,
    lifetimeSeconds: (options.caDays ?? 3650) * 86400,
    ...crypto,
  });
  const idKeys = await generateKeyPair({ algorithm, extractable: asFiles, ...crypto });
  const id = await issueEndEntityCertificate({
    issuer: { certificate: ca, privateKey: caKeys.privateKey },
    subject: options.subject,
    publicKey: idKeys.publicKey,
    altNames: options.altNames,
    now,
    lifetimeSeconds: (options.days ?? 365) * 86400,
    ...crypto,
  });
  const caPem = enc.encode(encodePem('CERTIFICATE', ca.der));
  const over = options.overwrite === true;
  const keyFiles = asFiles
    ? [
        write('CA.key', await exportPrivateKey(caKeys.privateKey, crypto), over, SECRET),
        write('id.key', await exportPrivateKey(idKeys.privateKey, crypto), over, SECRET),
      ]
    : [];
  const changes: StoreChange[] = [
    ...(over ? [remove('id'), remove('CA')] : []),
    ...keyFiles,
    write('CA.crt', caPem, over),
    write('id.crt', encodePem('CERTIFICATE', id.der), over),
    write('known_servers/self.crt', caPem, over),
    write('known_clients/self.crt', caPem, over),
  ];
  if (asFiles) await store.commit(changes);
  else
    await store.commit(changes, [
      { path: 'CA.key', keyPair: caKeys, overwrite: over },
      { path: 'id.key', keyPair: idKeys, overwrite: over },
    ]);
  return loadIdentity(store, crypto);
}

/**
 * Reads an identity directory. `id.key`/`id.crt` must exist and match; `CA.key`/`CA.crt` are read when
 * present. Unreadable certificates and service files elsewhere are reported in `problems` and skipped, so
 * one bad file never locks the identity out.
 *
 * @throws ERR_IDENTITY_NOT_FOUND when there is no `id.crt`/`id.key`; ERR_IDENTITY_FILE_INVALID for a corrupt
 *   key or certificate of the identity itself; ERR_IDENTITY_KEY_MISMATCH when a key does not match its certificate.
 * @example
 * const me = await loadIdentity(store);
 * console.log(formatName(me.id.certificate.subject));
 */
export async function loadIdentity(
  store: IdentityStore,
  options: CryptoOptions = {},
): Promise<Identity> {
  const [idKey, idCrt] = await readPair(store, 'id');
  const id = await keyed('id', idKey!, idCrt!, options);
  const [caKey, caCrt] = await Promise.all([readKey(store, 'CA.key'), store.read('CA.crt')]);
  const signer =
    caKey !== undefined && caCrt !== undefined
      ? await keyed('CA', caKey, caCrt, options)
      : undefined;
  return { ...(await readOthers(store)), signer, id };
}

/**
 * Reads an identity directory's certificates, lists and services without importing its private
 * keys: what a command that only displays needs (`certified show`), at a fraction of the start-up
 * cost. Key files are read for their structure (a file that is not a usable key fails as it does in
 * {@link loadIdentity}), but not imported, so a key that does not match its certificate is not
 * noticed here; {@link checkIdentity} and {@link loadIdentity} notice it.
 *
 * @throws ERR_IDENTITY_NOT_FOUND when there is no `id.crt`/`id.key`; ERR_IDENTITY_FILE_INVALID for a corrupt
 *   certificate of the identity itself.
 * @example
 * const { id, services } = await readIdentityCertificates(store);
 * console.log(formatName(id.certificate.subject), services.length);
 */
export async function readIdentityCertificates(
  store: IdentityStore,
): Promise<IdentityCertificates> {
  const [idKey, idCrt] = await readPair(store, 'id');
  keyFileStructure('id', idKey!);
  const id = certificateFile('id', idCrt!);
  const [caKey, caCrt] = await Promise.all([readKey(store, 'CA.key'), store.read('CA.crt')]);
  if (caKey !== undefined && caCrt !== undefined) keyFileStructure('CA', caKey);
  const signer =
    caKey !== undefined && caCrt !== undefined ? certificateFile('CA', caCrt) : undefined;
  return { ...(await readOthers(store)), signer, id };
}

/** A key: its file's bytes, or the CryptoKeys of a store that keeps them ({@link IdentityStore.keys}). */
type KeyMaterial = Uint8Array | CryptoKeyPair;

async function readKey(store: IdentityStore, path: string): Promise<KeyMaterial | undefined> {
  return (await store.read(path)) ?? (await store.keys?.read(path));
}

async function readPair(
  store: IdentityStore,
  base: 'id',
): Promise<[KeyMaterial | undefined, Uint8Array | undefined]> {
  const [key, crt] = await Promise.all([readKey(store, `${base}.key`), store.read(`${base}.crt`)]);
  if (key === undefined || crt === undefined) {
    const missing = [key === undefined ? 'id.key' : '', crt === undefined ? 'id.crt' : '']
      .filter(Boolean)
      .join(' and ');
    throw new IdentityError(
      'ERR_IDENTITY_NOT_FOUND',
      `No identity in ${store.location} (${missing} missing): run \`certified init\` there, or point --config elsewhere.`,
      { field: missing.split(' ')[0]! },
    );
  }
  return [key, crt];
}

/** Everything in the directory besides the identity and its signer. */
async function readOthers(
  store: IdentityStore,
): Promise<Omit<IdentityCertificates, 'id' | 'signer'>> {
  // One list per reader, joined in a fixed order: the readers run concurrently, and a real file
  // system finishes them in any order.
  const found: IdentityProblem[][] = [[], [], [], [], []];
  const [signatures, caSignatures, knownClients, knownServers, services] = await Promise.all([
    readCertificateDir(store, 'id', found[0]!),
    readCertificateDir(store, 'CA', found[1]!),
    readCertificateDir(store, 'known_clients', found[2]!),
    readCertificateDir(store, 'known_servers', found[3]!),
    readServices(store, found[4]!),
  ]);
  return {
    store,
    location: store.location,
    signatures,
    caSignatures,
    knownClients,
    knownServers,
    services,
    problems: found.flat(),
  };
}

/**
 * Looks a service up by alias (`known_servers/<alias>.yaml`).
 *
 * @throws ERR_SERVICE_UNKNOWN when there is no such file; ERR_SERVICE_INVALID when it is unreadable.
 * @example
 * const notes = await loadService(store, 'notes'); // { url, cert, auths }
 */
export async function loadService(store: IdentityStore, alias: string): Promise<KnownService> {
  checkEntryName(alias, 'alias');
  const file = `known_servers/${alias}.yaml`;
  const bytes = await store.read(file);
  if (bytes === undefined)
    throw new IdentityError(
      'ERR_SERVICE_UNKNOWN',
      `No service "${alias}" in ${store.location}: add it with \`certified add-service\` or \`add-intro\`.`,
      { field: file },
    );
  return parseService(alias, file, dec.decode(bytes));
}

/**
 * Parses a `known_servers/<alias>.yaml` text: `url` (required, https), `cert` (base64-DER in either
 * alphabet, or PEM; optional), `auths` (list of names; optional). Unknown keys are ignored, as ORNL's model does.
 *
 * @throws ERR_SERVICE_INVALID (`field` names the key at fault).
 * @example
 * parseService('notes', 'known_servers/notes.yaml', 'url: https://127.0.0.1:8443\nauths: []\n');
 */
export function parseService(alias: string, file: string, text: string): KnownService {
  const bad = (field: string, why: string) =>
    new IdentityError('ERR_SERVICE_INVALID', `${file}: ${why}`, { field });
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 10 });
  } catch (e) {
    throw new IdentityError(
      'ERR_SERVICE_INVALID',
      `${file} is not valid YAML: ${String((e as Error).message).split('\n')[0]}`,
      {
        field: file,
        cause: e,
      },
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw bad(file, 'expected a mapping with url, cert and auths.');
  const record = doc as Record<string, unknown>;
  const url = record['url'];
  if (typeof url !== 'string' || url === '')
    throw bad('url', 'has no url (the service location, https://host[:port]).');
  const urlProblem = serviceUrlProblem(url);
  if (urlProblem) throw bad('url', `url ${JSON.stringify(url)} ${urlProblem}.`);
  let cert: Certificate | undefined;
  const rawCert = record['cert'];
  if (rawCert !== undefined && rawCert !== null) {
    if (typeof rawCert !== 'string') throw bad('cert', 'cert must be base64-DER text.');
    try {
      const { blocks } = readDerInput(rawCert.trim(), ['CERTIFICATE']);
      cert = decodeCertificate(blocks[0]!.der);
    } catch (e) {
      if (!(e instanceof CertifiedError)) throw e;
      throw new IdentityError(
        'ERR_SERVICE_INVALID',
        `${file}: cert is not a readable certificate (${e.message})`,
        {
          field: 'cert',
          cause: e,
        },
      );
    }
  }
  const rawAuths = record['auths'] ?? [];
  if (!Array.isArray(rawAuths) || rawAuths.some((a) => typeof a !== 'string'))
    throw bad('auths', 'auths must be a list of RFC 4514 names.');
  return { alias, file, url, cert, auths: rawAuths as string[] };
}

/**
 * Why a URL cannot be a service's `url` (https, a host, an optional port and path prefix, no query or
 * fragment), or undefined when it can. The one rule for service files, `add-service` and letter services.
 *
 * @example
 * serviceUrlProblem('http://x'); // "must be https://host[:port][/prefix]"
 */
export function serviceUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'https:' || parsed.hostname === '')
    return 'must be https://host[:port][/prefix]';
  if (parsed.search !== '' || parsed.hash !== '') return 'must not carry a query or fragment';
  return undefined;
}

/**
 * Writes a service file the way ORNL certified's `yaml.dump(TrustedService)` does: keys `auths`, `cert`,
 * `url` in that order, the certificate as base64-DER in ORNL's alphabet. Strings are quoted wherever
 * PyYAML (YAML 1.1) would misread them (`yes`, `1:20`) and escaped where it refuses characters (tab, DEL).
 *
 * @example
 * serviceYaml({ url: 'https://api:8443', cert: ca, auths: [ornlName(ca.subject)] });
 */
export function serviceYaml(service: {
  url: string;
  cert?: Certificate | undefined;
  auths: readonly string[];
}): string {
  // `=` and `<<` are YAML 1.1's value and merge keys, which PyYAML's safe loader cannot construct.
  const str = (v: string) => (pyyamlUnsafe(v) || v === '=' || v === '<<' ? quoted(v) : v);
  return stringifyYaml(
    {
      auths: service.auths.map(str),
      cert: service.cert ? toOrnlBase64Der(service.cert.der) : null,
      url: str(service.url),
    },
    // YAML 1.1, as ORNL's PyYAML reads it: `yes`, `on`, `1:20`, `2001-01-01` must be quoted.
    { lineWidth: 0, indentSeq: false, version: '1.1' },
  ).replace(PYYAML_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// PyYAML (ORNL's reader) refuses tab and controls in plain scalars, and DEL, C1 controls, U+2028/9 and
// BOM raw anywhere. Strings holding them are written double-quoted; the yaml package escapes C0
// controls there but leaves the others raw, so those are escaped afterwards (only quoted strings hold them).
const PYYAML_RAW = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;
function pyyamlUnsafe(v: string): boolean {
  return (
    /[\t\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/.test(v) ||
    [...v].some((ch) => ch < ' ' && ch !== '\n' && ch !== '\r')
  );
}

function quoted(v: string): Scalar<string> {
  const s = new Scalar(v);
  s.type = Scalar.QUOTE_DOUBLE;
  // The yaml package's 1.1 schema writes a `<<` string as a bare merge key, whatever its style.
  if (v === '<<') s.tag = 'tag:yaml.org,2002:str';
  return s;
}

/**
 * Checks a client, service or alias name that becomes a file name: non-empty, at most 200 characters, no
 * `/`, `\`, NUL or control characters, not starting with `.`.
 *
 * @throws ERR_IDENTITY_NAME_INVALID
 */
export function checkEntryName(name: string, what = 'name'): string {
  if (
    typeof name !== 'string' ||
    name === '' ||
    name.length > 200 ||
    /[/\\]/.test(name) ||
    [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) ||
    name.startsWith('.')
  )
    throw new IdentityError(
      'ERR_IDENTITY_NAME_INVALID',
      `The ${what} ${JSON.stringify(name)} cannot be a file name: use 1–200 characters, no "/", "\\" or control characters, not starting with ".".`,
      { field: what },
    );
  return name;
}

// --- internal (shared with operations.ts) ---

export function write(
  path: string,
  data: string | Uint8Array,
  overwrite: boolean,
  mode?: number,
): StoreChange {
  return {
    op: 'write',
    path,
    data: typeof data === 'string' ? enc.encode(data) : data,
    overwrite,
    ...(mode === undefined ? {} : { mode }),
  };
}

export function remove(path: string): StoreChange {
  return { op: 'remove', path };
}

export function pemOf(certs: readonly Certificate[]): string {
  return certs.map((c) => encodePem('CERTIFICATE', c.der)).join('');
}

/** Reads one or more certificates from a file's bytes; throws CertifiedError codes. */
export function certificatesOf(bytes: Uint8Array | string): Certificate[] {
  const text = typeof bytes === 'string' ? bytes : undefined;
  const input = text ?? bytes;
  return readDerInput(input, ['CERTIFICATE']).blocks.map((b) => decodeCertificate(b.der));
}

/** True when a private key and a certificate hold the same key pair. */
export function sameKey(publicKey: Uint8Array, cert: Certificate): boolean {
  return equalBytes(publicKey, cert.publicKey.spki);
}

async function keyed(
  base: 'id' | 'CA',
  key: KeyMaterial,
  crtBytes: Uint8Array,
  options: CryptoOptions,
): Promise<KeyedCertificate> {
  const stored = !(key instanceof Uint8Array);
  const keyPem = stored ? '' : dec.decode(key);
  let pair: CryptoKeyPair;
  try {
    pair = stored ? key : await importPrivateKey(key, options);
  } catch (e) {
    throw unusableKey(base, e);
  }
  const { certificate, chain } = certificateFile(base, crtBytes);
  const spki = new Uint8Array(
    await (options.crypto ?? globalThis.crypto).subtle.exportKey('spki', pair.publicKey),
  );
  if (!sameKey(spki, certificate))
    throw new IdentityError(
      'ERR_IDENTITY_KEY_MISMATCH',
      `${base}.key does not belong to ${base}.crt: the files come from different identities.`,
      { field: `${base}.key` },
    );
  return { certificate, chain, privateKey: pair.privateKey, keyPem };
}

/** Throws what {@link keyed} would for a key file that is not a usable key, without WebCrypto. */
function keyFileStructure(base: 'id' | 'CA', keyBytes: KeyMaterial): void {
  if (!(keyBytes instanceof Uint8Array)) return; // CryptoKeys: nothing to parse
  try {
    readPrivateKeyDer(keyBytes);
  } catch (e) {
    throw unusableKey(base, e);
  }
}

/** A key file's read or import failure as ERR_IDENTITY_FILE_INVALID; anything else unchanged. */
function unusableKey(base: 'id' | 'CA', e: unknown): unknown {
  if (!(e instanceof CertifiedError)) return e;
  return new IdentityError(
    'ERR_IDENTITY_FILE_INVALID',
    `${base}.key is not a usable private key: ${e.message}`,
    { field: `${base}.key`, cause: e },
  );
}

function certificateFile(base: 'id' | 'CA', crtBytes: Uint8Array): CertificateWithChain {
  let certs: Certificate[];
  try {
    certs = certificatesOf(crtBytes);
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    throw new IdentityError(
      'ERR_IDENTITY_FILE_INVALID',
      `${base}.crt is not a readable certificate: ${e.message}`,
      { field: `${base}.crt`, cause: e },
    );
  }
  return { certificate: certs[0]!, chain: certs.slice(1) };
}

async function readCertificateDir(
  store: IdentityStore,
  dir: string,
  problems: IdentityProblem[],
): Promise<CertificateFile[]> {
  const names = (await store.list(dir)).filter((n) => n.endsWith('.crt') && !n.startsWith('.'));
  const out: CertificateFile[] = [];
  for (const n of names) {
    const file = `${dir}/${n}`;
    const bytes = await store.read(file);
    if (bytes === undefined) continue; // a directory named *.crt
    try {
      out.push({ name: n.slice(0, -4), file, certificates: certificatesOf(bytes) });
    } catch (e) {
      if (!(e instanceof CertifiedError)) throw e;
      problems.push({
        severity: 'error',
        code: 'ERR_IDENTITY_FILE_INVALID',
        file,
        message: `${file} is not a readable certificate: ${e.message}`,
      });
    }
  }
  return out;
}

async function readServices(
  store: IdentityStore,
  problems: IdentityProblem[],
): Promise<KnownService[]> {
  const names = (await store.list('known_servers')).filter(
    (n) => n.endsWith('.yaml') && !n.startsWith('.'),
  );
  const out: KnownService[] = [];
  for (const n of names) {
    const file = `known_servers/${n}`;
    const bytes = await store.read(file);
    if (bytes === undefined) continue;
    try {
      out.push(parseService(n.slice(0, -5), file, dec.decode(bytes)));
    } catch (e) {
      if (!(e instanceof IdentityError)) throw e;
      problems.push({ severity: 'error', code: e.code, file, message: e.message });
    }
  }
  return out;
}

/** ORNL certified's name for a certificate's subject: `id/<this>.crt`, `auths` entries. */
export function signerNameOf(cert: Certificate): string {
  return ornlName(cert.subject);
}

/**
 * Certificates as the CLI takes them: PEM (one or a bundle), DER, base64-DER (either alphabet), or
 * `get-signer`'s JSON `{ "ca_cert": base64-DER }`.
 *
 * @param input - the file's bytes or text.
 * @param field - what the input is, for the error message ("service certificate").
 * @throws IdentityError ERR_IDENTITY_INPUT_INVALID when it is none of those.
 * @example
 * const [signer] = readCertificateInput(await readFile('signer.json'), 'pinned certificate');
 */
export function readCertificateInput(input: Uint8Array | string, field: string): Certificate[] {
  const text =
    typeof input === 'string' ? input : input[0] === 0x30 ? undefined : dec.decode(input);
  try {
    if (text !== undefined && text.trimStart().startsWith('{')) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new IdentityError('ERR_IDENTITY_INPUT_INVALID', `The ${field} is not valid JSON.`, {
          field,
          cause: e,
        });
      }
      const b64 = (json as Record<string, unknown> | null)?.['ca_cert'];
      if (typeof b64 !== 'string')
        throw new IdentityError(
          'ERR_IDENTITY_INPUT_INVALID',
          `The ${field} is JSON without a "ca_cert" field (expected what \`certified get-signer\` prints).`,
          { field },
        );
      return [decodeCertificate(fromBase64Der(b64.trim()))];
    }
    return certificatesOf(text ?? input);
  } catch (e) {
    if (e instanceof IdentityError || !(e instanceof CertifiedError)) throw e;
    throw new IdentityError(
      'ERR_IDENTITY_INPUT_INVALID',
      `The ${field} is not a readable certificate (PEM, DER, base64-DER, or JSON with ca_cert): ${e.message}`,
      { field, cause: e },
    );
  }
}
