/**
 * @module identity/operations — what ORNL certified's commands do to an identity directory: trust a client,
 * add a service, introduce someone, install an introduction, join an organisation, export our certificates.
 * Every operation checks its input fully, then commits all its files at once (all or nothing).
 */
import {
  CertifiedError,
  IdentityError,
  toOrnlBase64Der,
  equalBytes,
  type CryptoOptions,
  fingerprint,
  isCa,
  type Certificate,
  formatName,
  verifyCertificateSignature,
} from '@certified/core';
import {
  createIntroLetter,
  letterAliasProblem,
  verifyIntroLetter,
  type IntroLetter,
  type VerifiedIntroLetter,
} from './letters/intro-letter.js';
import {
  certificatesOf,
  checkEntryName,
  parseService,
  pemOf,
  readCertificateInput,
  remove,
  serviceUrlProblem,
  serviceYaml,
  signerNameOf,
  write,
  type Identity,
} from './identity.js';
import type { StoreChange } from './store.js';

/** Options shared by operations that may replace files. */
export interface OverwriteOptions {
  /** Replace existing files; default false (an existing file fails with ERR_STORE_EXISTS, nothing written). */
  overwrite?: boolean;
}

/** What an operation wrote or removed, relative to the directory. */
export interface OperationResult {
  readonly written: readonly string[];
  readonly removed: readonly string[];
}

/** Options for {@link addClient}. */
export interface AddClientOptions extends OverwriteOptions {
  /**
   * Trust the first CA certificate in the input — everyone it signs may call — instead of the first
   * certificate; default false. For a person's `id.crt` after `set-org` ([person, organisation CA])
   * this trusts the organisation.
   */
  ca?: boolean;
}

/** A certificate {@link addClient} made trusted, and what that means. */
export interface TrustedClient {
  readonly certificate: Certificate;
  /** `ca`: everyone it signs may call (it is a CA certificate); `pinned`: only its holder may. */
  readonly role: 'ca' | 'pinned';
  /** SHA-256 of its DER, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256`). */
  readonly fingerprint: string;
}

/** What {@link addClient} did. */
export interface AddClientResult extends OperationResult {
  /** The certificates now trusted, exactly what `known_clients/<name>.crt` holds (one). */
  readonly certificates: readonly Certificate[];
  /** The same certificates with their role and fingerprint, to tell the user. */
  readonly trusted: readonly TrustedClient[];
  /** Certificates in the input that were not trusted (e.g. the CA after a pinned person). */
  readonly ignored: readonly Certificate[];
}

/**
 * Trusts a client: saves exactly one certificate of the input as `known_clients/<name>.crt`. By
 * default the first: an end-entity certificate is pinned (only its holder may call); a CA
 * certificate (ORNL's `add-client NAME CA.crt`) lets everyone it signs call. Certificates after the
 * first — say the organisation CA that `set-org` leaves after a person in `id.crt` — are never
 * trusted along with it; `ca: true` trusts the first CA certificate in the input instead.
 *
 * @param certificate - PEM (one or a bundle), DER, base64-DER, or JSON with `ca_cert`.
 * @param options.overwrite - replace an existing client of that name; default false.
 * @param options.ca - trust the first CA certificate in the input instead of the first one; default false.
 * @throws ERR_IDENTITY_NAME_INVALID; ERR_IDENTITY_INPUT_INVALID for an unreadable input, or with `ca`
 *   when it holds no CA certificate; ERR_STORE_EXISTS without overwrite.
 * @example
 * const { trusted } = await addClient(me, 'bob', await readFile('bob/id.crt'));
 * // trusted: [{ role: 'pinned', certificate: bob, fingerprint: 'AB:…' }]
 */
export async function addClient(
  identity: Identity,
  name: string,
  certificate: Uint8Array | string,
  options: AddClientOptions = {},
): Promise<AddClientResult> {
  checkEntryName(name, 'client name');
  const all = readCertificateInput(certificate, 'client certificate');
  const chosen = options.ca === true ? all.find(isCa) : all[0];
  if (chosen === undefined)
    throw new IdentityError(
      'ERR_IDENTITY_INPUT_INVALID',
      `The client certificate input holds no CA certificate (${all.length} certificate(s), none with basicConstraints cA); without the CA option its first certificate is pinned.`,
      { field: 'client certificate' },
    );
  const file = `known_clients/${name}.crt`;
  await identity.store.commit([write(file, pemOf([chosen]), options.overwrite === true)]);
  return {
    written: [file],
    removed: [],
    certificates: [chosen],
    trusted: [
      {
        certificate: chosen,
        role: isCa(chosen) ? 'ca' : 'pinned',
        fingerprint: fingerprint(chosen),
      },
    ],
    ignored: all.filter((c) => c !== chosen),
  };
}

/** Options for {@link addService}. */
export interface AddServiceOptions extends OverwriteOptions {
  /** More signer names (RFC 4514, ORNL's form) the service accepts; the certificate's own is always added. */
  auths?: readonly string[];
  /** Where the service really is, when the name is only an alias; default `https://<name>`. */
  url?: string;
}

/**
 * Adds a service we call: `known_servers/<alias>.yaml` with `url`, the pinned `cert` (base64-DER) and
 * `auths`. As ORNL certified, `name` is `host[:port][/prefix]` and the URL defaults to `https://<name>`;
 * the alias (file name) is the part before any `/`. The certificate's subject is appended to `auths`.
 *
 * @param certificate - the service's CA (or its own certificate): PEM, DER, base64-DER, or JSON with `ca_cert`.
 * @throws ERR_IDENTITY_NAME_INVALID, ERR_IDENTITY_INPUT_INVALID (bad certificate or URL), ERR_STORE_EXISTS.
 * @example
 * await addService(me, 'notes', signerJson, { url: 'https://127.0.0.1:8443' });
 */
export async function addService(
  identity: Identity,
  name: string,
  certificate: Uint8Array | string,
  options: AddServiceOptions = {},
): Promise<OperationResult & { alias: string; url: string; auths: readonly string[] }> {
  if (typeof name !== 'string' || name === '')
    throw new IdentityError('ERR_IDENTITY_NAME_INVALID', 'The service name must not be empty.', {
      field: 'service name',
    });
  const alias = checkEntryName(name.split('/')[0]!, 'service alias');
  const url = checkServiceUrl(options.url ?? `https://${name}`);
  const [cert] = readCertificateInput(certificate, 'service certificate');
  const auths = [...(options.auths ?? [])];
  const own = signerNameOf(cert!);
  if (!auths.includes(own)) auths.push(own);
  const file = `known_servers/${alias}.yaml`;
  await identity.store.commit([
    write(file, serviceYaml({ url, cert, auths }), options.overwrite === true),
  ]);
  return { written: [file], removed: [], alias, url, auths };
}

/** Options for {@link introduce}. */
export interface IntroduceOptions extends CryptoOptions {
  /** Services (alias → https URL) to list in the letter, so `add-intro` configures them too. */
  services?: Readonly<Record<string, string>>;
  /** Lifetime of the signed identity in days; default 365 (clamped to our CA's). */
  days?: number;
  now?: Date;
}

/**
 * Vouches for someone: signs their identity certificate or CSR with our CA and returns the introduction
 * letter (`{ signed_cert, ca_cert, services? }`) for them to install with {@link addIntro}.
 *
 * @param subject - their `id.crt` or a CSR: PEM, DER, or base64-DER as `get-ident` prints it.
 * @throws ERR_IDENTITY_NO_SIGNER when we hold no CA key; ERR_INTRO_SUBJECT_INVALID, ERR_INTRO_NOT_IDENTITY.
 * @example
 * const letter = await introduce(me, await readFile('their-id.crt', 'utf8'), { services: { notes: 'https://127.0.0.1:8443' } });
 */
export async function introduce(
  identity: Identity,
  subject: Uint8Array | string,
  options: IntroduceOptions = {},
): Promise<IntroLetter> {
  const signer = requireSigner(identity, 'introduce someone');
  return createIntroLetter({
    issuer: { certificate: signer.certificate, privateKey: signer.privateKey },
    subject,
    ...(options.services === undefined ? {} : { services: options.services }),
    ...(options.days === undefined ? {} : { days: options.days }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.crypto === undefined ? {} : { crypto: options.crypto }),
  });
}

/** Options for {@link addIntro} and {@link setOrg}. */
export interface AddIntroOptions extends OverwriteOptions, CryptoOptions {
  /** When to check the letter's validity; default now. */
  now?: Date;
}

/** A file {@link addIntro} or {@link setOrg} wrote for a letter, and what it means. */
export type InstalledFile =
  | { readonly kind: 'signature'; readonly path: string }
  | {
      readonly kind: 'service';
      readonly path: string;
      readonly alias: string;
      /** Where `https://<alias>/…` now goes. */
      readonly url: string;
    };

/** What {@link addIntro} and {@link setOrg} did. */
export interface IntroResult extends OperationResult {
  readonly letter: VerifiedIntroLetter;
  /** The letter's files among `written`: the signature and one per service, in order. */
  readonly installed: readonly InstalledFile[];
  /** SHA-256 of the introducer's CA certificate (`letter.caCert`). */
  readonly caFingerprint: string;
}

/**
 * Installs an introduction letter: checks that `signed_cert` was signed by `ca_cert`, is an identity (not a
 * CA), is valid now and carries our `id.key`'s public key; then saves it as `id/<signer>.crt` (with the
 * signer's CA after it) and writes `known_servers/<alias>.yaml` for each service in the letter, pinned to
 * the signer's CA with the signer in `auths`.
 *
 * A letter can only add aliases, never reroute a host: `https://<alias>/…` is looked up in
 * `known_servers/<alias>.yaml` by the URL's host, so an alias a URL reads as a real host (a dotted name,
 * an IP address, `host:port`, `localhost` — see {@link letterAliasProblem}) is refused, whole letter
 * and all. And a letter never replaces files another introducer wrote: a service file pinned to another
 * certificate (another introducer's, or one `add-service` wrote), or an `id/<signer>.crt` that the
 * letter's CA did not sign, is refused even with `overwrite`. The same introducer's files are replaced
 * with `overwrite`.
 *
 * @param letter - the letter JSON (text, bytes or object).
 * @param options.overwrite - replace this introducer's own files; default false.
 * @param options.now - when to check the letter's validity; default now.
 * @throws ERR_INTRO_* codes (a letter for another key is ERR_INTRO_KEY_MISMATCH), ERR_STORE_EXISTS,
 *   ERR_IDENTITY_NAME_INVALID, ERR_SERVICE_ALIAS_HOSTLIKE for an alias that names a host,
 *   ERR_SERVICE_CONFLICT for another introducer's file, ERR_IDENTITY_INPUT_INVALID for a service URL
 *   that is not https://host[:port][/prefix]. Nothing is written when any of them is thrown.
 * @example
 * const { letter, installed } = await addIntro(me, await readFile('letter.json', 'utf8'));
 */
export async function addIntro(
  identity: Identity,
  letter: Uint8Array | string | object,
  options: AddIntroOptions = {},
): Promise<IntroResult> {
  const verified = await verifyLetter(identity, letter, options);
  const over = options.overwrite === true;
  const file = `id/${checkEntryName(verified.signerName, 'signer name')}.crt`;
  const services = checkLetterServices(verified);
  await checkSignatureOwner(identity, verified, file, options);
  const changes: StoreChange[] = [
    write(file, pemOf([verified.signedCert, verified.caCert]), over),
    ...(await serviceChanges(identity, verified, services, over)),
  ];
  await identity.store.commit(changes);
  return {
    written: changes.map((c) => c.path),
    removed: [],
    letter: verified,
    installed: [{ kind: 'signature', path: file }, ...installedServices(services)],
    caFingerprint: fingerprint(verified.caCert),
  };
}

/**
 * Joins an organisation (ORNL certified's `set-org`): the letter's certificate becomes `id.crt`, the
 * organisation's CA is trusted as `known_clients/org.crt` and `known_servers/org.crt`, and our own CA
 * (`CA.key`, `CA.crt`, `CA/`, `known_*\/self.crt`) and old signatures (`id/`) are removed — signing is the
 * organisation's job from now on. Needs `overwrite`, as it replaces files.
 *
 * @throws ERR_IDENTITY_INPUT_INVALID without overwrite; ERR_INTRO_* codes for a bad letter.
 * @example
 * await setOrg(service, orgLetterJson, { overwrite: true });
 */
export async function setOrg(
  identity: Identity,
  letter: Uint8Array | string | object,
  options: AddIntroOptions = {},
): Promise<IntroResult> {
  if (options.overwrite !== true)
    throw new IdentityError(
      'ERR_IDENTITY_INPUT_INVALID',
      "set-org removes this identity's CA and replaces id.crt; pass --overwrite to confirm.",
      { field: 'overwrite' },
    );
  const verified = await verifyLetter(identity, letter, options);
  const services = checkLetterServices(verified);
  const orgPem = pemOf([verified.caCert]);
  const removed = [
    'id',
    'CA',
    'CA.key',
    'CA.crt',
    'known_servers/self.crt',
    'known_clients/self.crt',
  ];
  const changes: StoreChange[] = [
    ...removed.map(remove),
    write('known_clients/org.crt', orgPem, true),
    write('known_servers/org.crt', orgPem, true),
    write('id.crt', pemOf([verified.signedCert, verified.caCert]), true),
    // The organisation's own services are replaced; another introducer's are not.
    ...(await serviceChanges(identity, verified, services, true)),
  ];
  await identity.store.commit(changes);
  return {
    written: changes.filter((c) => c.op === 'write').map((c) => c.path),
    removed,
    letter: verified,
    installed: installedServices(services),
    caFingerprint: fingerprint(verified.caCert),
  };
}

/**
 * Our identity certificate as one line of base64-DER in ORNL's alphabet — what `certified get-ident`
 * prints and `introduce` reads.
 *
 * @example
 * console.log(getIdent(me));
 */
export function getIdent(identity: Identity): string {
  return toOrnlBase64Der(identity.id.certificate.der);
}

/**
 * Our CA certificate as ORNL's `get-signer` JSON, `{ "ca_cert": base64-DER }`, for `add-service`/`add-client`.
 *
 * @throws ERR_IDENTITY_NO_SIGNER after `set-org` (there is no CA of our own).
 * @example
 * console.log(JSON.stringify(getSigner(me)));
 */
export function getSigner(identity: Identity): { ca_cert: string } {
  return { ca_cert: toOrnlBase64Der(requireSigner(identity, 'export a signer').certificate.der) };
}

// --- internal ---

function requireSigner(identity: Identity, what: string) {
  if (!identity.signer)
    throw new IdentityError(
      'ERR_IDENTITY_NO_SIGNER',
      `${identity.location} has no CA.key/CA.crt (it joined an organisation with set-org), so it cannot ${what}.`,
      { field: 'CA.key' },
    );
  return identity.signer;
}

function verifyLetter(
  identity: Identity,
  letter: Uint8Array | string | object,
  options: AddIntroOptions,
): Promise<VerifiedIntroLetter> {
  const input = letter instanceof Uint8Array ? new TextDecoder().decode(letter) : letter;
  return verifyIntroLetter(input, {
    publicKey: identity.id.certificate.publicKey,
    ...(options.now === undefined ? {} : { time: options.now }),
    ...(options.crypto === undefined ? {} : { crypto: options.crypto }),
  });
}

interface LetterService {
  readonly alias: string;
  readonly path: string;
  readonly url: string;
}

/** The letter's services, each alias checked as a file name and as an alias no URL reads as a host. */
function checkLetterServices(letter: VerifiedIntroLetter): LetterService[] {
  return Object.entries(letter.services).map(([alias, url]) => {
    checkEntryName(alias, 'service alias');
    const problem = letterAliasProblem(alias);
    if (problem !== undefined)
      throw new IdentityError(
        'ERR_SERVICE_ALIAS_HOSTLIKE',
        `The letter from ${letter.signerName} names a service ${JSON.stringify(alias)}, which ${problem}: installing it would send requests for that host to the letter writer's server. Nothing was installed; ask for a letter that names its services by plain aliases (no dots or colons).`,
        { field: 'services' },
      );
    // The letter allows http(s) URLs with queries; a service file must hold what parseService reads.
    return { alias, path: `known_servers/${alias}.yaml`, url: checkServiceUrl(url) };
  });
}

/**
 * One write per service. A file that exists is replaced (with `overwrite`) only when it pins the
 * letter's own CA (same key): a letter never replaces another introducer's or `add-service`'s file.
 */
async function serviceChanges(
  identity: Identity,
  letter: VerifiedIntroLetter,
  services: readonly LetterService[],
  overwrite: boolean,
): Promise<StoreChange[]> {
  const changes: StoreChange[] = [];
  for (const s of services) {
    const existing = await identity.store.read(s.path);
    if (existing !== undefined) {
      let pinned: Certificate | undefined;
      try {
        pinned = parseService(s.alias, s.path, new TextDecoder().decode(existing)).cert;
      } catch (e) {
        if (!(e instanceof CertifiedError)) throw e;
      }
      if (!pinned || !equalBytes(pinned.publicKey.spki, letter.caCert.publicKey.spki))
        throw conflict(
          s.path,
          pinned
            ? `pins ${formatName(pinned.subject)} (SHA-256 ${fingerprint(pinned)})`
            : 'pins no certificate the letter could match',
          letter,
        );
    }
    changes.push(
      write(
        s.path,
        serviceYaml({ url: s.url, cert: letter.caCert, auths: [letter.signerName] }),
        overwrite,
      ),
    );
  }
  return changes;
}

/**
 * An existing `id/<signer>.crt` may be replaced only by a letter from the CA that signed it: another
 * CA with the same name (the file name is the signer's name) must not swap our chain for its own.
 */
async function checkSignatureOwner(
  identity: Identity,
  letter: VerifiedIntroLetter,
  file: string,
  options: CryptoOptions,
): Promise<void> {
  const existing = await identity.store.read(file);
  if (existing === undefined) return;
  let ours: Certificate | undefined;
  try {
    ours = certificatesOf(existing)[0];
    if (ours) await verifyCertificateSignature(ours, letter.caCert, options);
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    ours = undefined;
  }
  if (!ours) throw conflict(file, 'holds a certificate that CA did not sign', letter);
}

function conflict(file: string, what: string, letter: VerifiedIntroLetter): IdentityError {
  return new IdentityError(
    'ERR_SERVICE_CONFLICT',
    `${file} ${what}, but the letter comes from ${letter.signerName} (SHA-256 ${fingerprint(letter.caCert)}): another introducer's file, which a letter never replaces, even with overwrite. Nothing was installed; remove the file yourself if you mean to replace it.`,
    { field: file },
  );
}

function installedServices(services: readonly LetterService[]): InstalledFile[] {
  return services.map((s) => ({ kind: 'service', path: s.path, alias: s.alias, url: s.url }));
}

function checkServiceUrl(url: string): string {
  if (serviceUrlProblem(url) !== undefined)
    throw new IdentityError(
      'ERR_IDENTITY_INPUT_INVALID',
      `The service URL ${JSON.stringify(url)} must be https://host[:port][/prefix].`,
      { field: 'url' },
    );
  return url;
}
