/**
 * @module intro/intro-letter — introduction letters, the JSON ORNL certified's `introduce` prints and
 * `add-intro` installs: an identity certificate for the subject's key signed by the introducer's CA, that
 * CA's certificate, and optionally the services the subject may now reach. Create, parse and verify.
 */
import {
  CertifiedError,
  InputTooLarge,
  IntroExpired,
  IntroIssuerNotCa,
  IntroKeyMismatch,
  IntroMalformed,
  IntroNotIdentity,
  IntroNotYetValid,
  IntroSignatureInvalid,
  IntroSubjectInvalid,
  fromBase64Der,
  MAX_TEXT_LENGTH,
  readDerInput,
  toOrnlBase64Der,
  equalBytes,
  subtleOf,
  type CryptoOptions,
  type PublicKeyInfo,
  decodeCsr,
  verifyCsr,
  type CertificationRequest,
  decodeCertificate,
  type Certificate,
  issueEndEntityCertificate,
  spkiOf,
  type Issuer,
  type PublicKeyInput,
  type ExtendedKeyUsage,
  formatName,
  nameEquals,
  verifyCertificateSignature,
  ornlName,
} from '@certified/core';

/**
 * An introduction letter as it travels: ORNL certified's JSON, field names and all. Certificates are
 * base64 of their DER in ORNL's alphabet (`-` and `_` for `+` and `/`, with `=` padding).
 */
export interface IntroLetter {
  /** The subject's identity certificate, signed by the introducer's CA. */
  signed_cert: string;
  /** The introducer's CA certificate. */
  ca_cert: string;
  /** Optional service alias → URL, e.g. `{ "api": "https://api.example.org:8443" }`. */
  services?: Record<string, string>;
}

/** An introduction letter after {@link parseIntroLetter}: certificates decoded, services checked. */
export interface ParsedIntroLetter {
  readonly signedCert: Certificate;
  readonly caCert: Certificate;
  /** Service alias → absolute http(s) URL; empty when the letter has none. */
  readonly services: Readonly<Record<string, string>>;
}

/** A letter that {@link verifyIntroLetter} accepted. */
export interface VerifiedIntroLetter extends ParsedIntroLetter {
  /**
   * The introducer's name as ORNL certified writes it (`ornlName(caCert.subject)`): the file name
   * `add-intro` gives the identity (`id/<signerName>.crt`) and the `auths` entry of each service.
   */
  readonly signerName: string;
}

/** Options for {@link createIntroLetter}. */
export interface CreateIntroLetterOptions extends CryptoOptions {
  /** The introducer's CA certificate and private key. */
  issuer: Issuer;
  /**
   * The subject's certificate (usually its `id.crt`) or certification request: PEM, DER, or base64-DER in
   * either alphabet (as `certified get-ident` prints it).
   */
  subject: Uint8Array | string;
  /** Service alias → absolute http(s) URL to include; default none (no `services` field). */
  services?: Readonly<Record<string, string>>;
  /** Lifetime of the identity certificate in days; default 365, as ORNL certified. Clamped to the issuer's. */
  days?: number;
  /** Extended key usages of the identity certificate; default `['clientAuth', 'serverAuth']`. */
  extendedKeyUsages?: readonly ExtendedKeyUsage[];
  /** The current time; default `new Date()`. */
  now?: Date;
}

/** Options for {@link verifyIntroLetter}. */
export interface VerifyIntroLetterOptions extends CryptoOptions {
  /** Our identity's public key — the key the letter must be for. */
  publicKey: PublicKeyInput;
  /** When to check validity; default now. Compared at whole seconds, as certificates encode time. */
  time?: Date;
}

/** Key types ORNL certified's `CertInfo.load` accepts (EC and EdDSA); we cannot express secp256k1. */
const INTRODUCIBLE_KEYS = new Set(['P-256', 'P-384', 'P-521', 'Ed25519', 'Ed448']);

/** ORNL's end-entity profile lists clientAuth first; it also adds codeSigning, which we leave out. */
const DEFAULT_INTRO_EKUS: readonly ExtendedKeyUsage[] = ['clientAuth', 'serverAuth'];

/**
 * Introduces a subject: checks its certificate or request, issues an identity (end-entity) certificate
 * for its key with its subject name and subject alternative names copied (as ORNL's `CertInfo.load` +
 * `issue_cert`), and returns the letter ORNL certified's `introduce` would print. A request's signature
 * must verify; a certificate's is not checked (ORNL's `id.crt` is signed by the subject's own CA, which
 * the introducer does not hold) — so check out of band that the certificate is really the subject's.
 *
 * The identity certificate: basicConstraints cA FALSE (critical), keyUsage digitalSignature (critical),
 * extKeyUsage clientAuth + serverAuth, SKI, AKI, SAN (critical iff the subject is empty).
 *
 * @param options.issuer - the introducer's CA and key.
 * @param options.subject - the subject's certificate or CSR (PEM, DER or base64-DER).
 * @param options.services - alias → URL map to add as `services`; default none.
 * @param options.days - lifetime in days; default 365.
 * @param options.extendedKeyUsages - default `['clientAuth', 'serverAuth']`.
 * @param options.now - issuance time; default now.
 * @param options.crypto - WebCrypto implementation; default `globalThis.crypto`.
 * @throws ERR_INTRO_SUBJECT_INVALID when the subject cannot be read, a request's signature does not
 *   verify, its key is not EC or EdDSA, its name is empty or equals the issuer's.
 * @throws ERR_INTRO_NOT_IDENTITY when the subject is (or asks to be) a CA.
 * @throws ERR_ISSUE_ISSUER_NOT_CA, ERR_KEY_MISMATCH, ERR_ISSUE_VALIDITY from the issuer side.
 * @throws TypeError / RangeError for bad `services` or `days`.
 * @example
 * const letter = await createIntroLetter({ issuer: { certificate: ca, privateKey: caKeys.privateKey },
 *   subject: await readFile('their-id.b64', 'utf8'), services: { api: 'https://api.example.org:8443' } });
 * console.log(JSON.stringify(letter, null, 2)); // what `certified introduce` prints
 */
export async function createIntroLetter(options: CreateIntroLetterOptions): Promise<IntroLetter> {
  const days = options.days ?? 365;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0)
    throw new RangeError(`days must be a positive number, received ${String(days)}`);
  let services: Record<string, string> | undefined;
  if (options.services !== undefined) {
    const checked = checkServices(options.services);
    if (typeof checked === 'string') throw new TypeError(`services ${checked}`);
    for (const alias of Object.keys(checked)) {
      const problem = letterAliasProblem(alias);
      if (problem !== undefined)
        throw new TypeError(
          `services alias ${JSON.stringify(alias)} ${problem}; add-intro refuses it (use a plain alias, e.g. "api")`,
        );
    }
    services = checked;
  }

  const subject = readSubject(options.subject);
  const what = subject.kind === 'csr' ? 'certification request' : 'certificate';
  const source = subject.kind === 'csr' ? subject.csr : subject.cert;
  if (source.basicConstraints?.ca === true) {
    throw new IntroNotIdentity(
      subject.kind === 'csr'
        ? 'The certification request asks for a CA certificate; only identities can be introduced.'
        : `The certificate of ${formatName(source.subject)} is a CA certificate; only identities can be introduced.`,
      { field: 'subject', reason: 'ca' },
    );
  }
  if (!INTRODUCIBLE_KEYS.has(source.publicKey.algorithm)) {
    throw new IntroSubjectInvalid(
      `The subject's ${what} holds a ${source.publicKey.algorithm} key; ORNL certified introduces only EC and EdDSA keys.`,
      { field: 'subject.publicKey', reason: 'key type' },
    );
  }
  if (source.subject.length === 0) {
    throw new IntroSubjectInvalid(`The subject's ${what} has an empty subject name.`, {
      field: 'subject.subject',
      reason: 'empty name',
    });
  }
  if (nameEquals(source.subject, options.issuer.certificate.subject)) {
    throw new IntroSubjectInvalid(
      `The subject's name ${formatName(source.subject)} is the issuer's own; a CA cannot introduce itself.`,
      { field: 'subject.subject', reason: 'issuer name' },
    );
  }
  if (subject.kind === 'csr') {
    try {
      await verifyCsr(subject.csr, options);
    } catch (e) {
      if (!(e instanceof CertifiedError)) throw e;
      throw new IntroSubjectInvalid(
        `The subject's certification request cannot be trusted: ${e.message}`,
        { field: 'subject.signature', reason: 'bad signature', cause: e },
      );
    }
  }

  const signed = await issueEndEntityCertificate({
    issuer: options.issuer,
    subject: source.subject,
    publicKey: source.publicKey,
    ...(source.subjectAltNames ? { altNames: source.subjectAltNames } : {}),
    extendedKeyUsages: options.extendedKeyUsages ?? DEFAULT_INTRO_EKUS,
    lifetimeSeconds: days * 86_400,
    ...(options.now ? { now: options.now } : {}),
    ...(options.crypto ? { crypto: options.crypto } : {}),
  });
  return {
    signed_cert: toOrnlBase64Der(signed.der),
    ca_cert: toOrnlBase64Der(options.issuer.certificate.der),
    ...(services ? { services } : {}),
  };
}

/**
 * Parses an introduction letter strictly, as ORNL certified's `add-intro` reads it: a JSON object with
 * string `signed_cert` and `ca_cert` (base64-DER certificates, either alphabet, padded, no whitespace) and
 * an optional `services` object of alias → absolute http(s) URL (alias non-empty, no `/`, `\` or control
 * characters — it becomes a file name). Other fields are ignored, as ORNL's pydantic models ignore them.
 * Parsing checks form only; {@link verifyIntroLetter} checks trust.
 *
 * @param json - the letter as JSON text, or already parsed.
 * @throws ERR_INTRO_MALFORMED (`field` names the JSON field, `cause` the underlying error) for bad JSON,
 *   a missing or non-string certificate field, bad base64, a DER that is not a certificate, or bad services.
 * @throws ERR_INPUT_TOO_LARGE for text beyond {@link MAX_TEXT_LENGTH}.
 * @example
 * const letter = parseIntroLetter(await readFile('intro.json', 'utf8'));
 * console.log(letter.services); // { api: 'https://api.example.org:8443' }
 */
export function parseIntroLetter(json: string | object): ParsedIntroLetter {
  let data: unknown = json;
  if (typeof json === 'string') {
    if (json.length > MAX_TEXT_LENGTH)
      throw new InputTooLarge(
        `The letter is ${json.length} characters; the limit is ${MAX_TEXT_LENGTH}.`,
        { reason: 'text too large' },
      );
    try {
      data = JSON.parse(json);
    } catch (e) {
      throw new IntroMalformed('The introduction letter is not valid JSON.', {
        field: 'json',
        reason: 'bad json',
        cause: e,
      });
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new IntroMalformed(
      `The introduction letter must be a JSON object, found ${describe(data)}.`,
      { field: 'json', reason: 'not an object' },
    );
  const record = data as Record<string, unknown>;
  const signedCert = readCertificateField(record, 'signed_cert');
  const caCert = readCertificateField(record, 'ca_cert');
  let services: Record<string, string> = {};
  if (Object.prototype.hasOwnProperty.call(record, 'services')) {
    const checked = checkServices(record['services']);
    if (typeof checked === 'string')
      throw new IntroMalformed(`The letter's services ${checked}.`, {
        field: 'services',
        reason: 'bad services',
      });
    services = checked;
  }
  return { signedCert, caCert, services };
}

/**
 * Verifies an introduction letter is for us and can be trusted as far as the letter alone goes:
 * `signed_cert` was issued by `ca_cert` (issuer name and signature), `ca_cert` is a CA, `signed_cert` is
 * an identity and not a CA, both are valid at `time`, and `signed_cert` carries exactly our public key.
 * Whether to trust `ca_cert` itself is the caller's decision. ORNL's `add-intro` checks only the
 * signature and the not-a-CA rule; the other checks refuse letters that would fail later.
 *
 * @param letter - a letter from {@link parseIntroLetter}, or anything it accepts.
 * @param options.publicKey - our identity key (CryptoKey, PublicKeyInfo or SPKI DER).
 * @param options.time - when to check validity; default now.
 * @param options.crypto - WebCrypto implementation; default `globalThis.crypto`.
 * @returns the letter with `signerName`, ORNL's name for the introducer.
 * @throws ERR_INTRO_MALFORMED as {@link parseIntroLetter}; ERR_INTRO_ISSUER_NOT_CA; ERR_INTRO_NOT_IDENTITY;
 *   ERR_INTRO_SIGNATURE_INVALID; ERR_INTRO_EXPIRED / ERR_INTRO_NOT_YET_VALID (`field` says which
 *   certificate); ERR_INTRO_KEY_MISMATCH.
 * @example
 * const { signedCert, signerName, services } = await verifyIntroLetter(json, { publicKey: keys.publicKey });
 * await writeFile(`id/${signerName}.crt`, encodePem('CERTIFICATE', signedCert.der));
 */
export async function verifyIntroLetter(
  letter: ParsedIntroLetter | IntroLetter | string | object,
  options: VerifyIntroLetterOptions,
): Promise<VerifiedIntroLetter> {
  const parsed = isParsed(letter) ? letter : parseIntroLetter(letter);
  const { signedCert, caCert } = parsed;
  const caName = formatName(caCert.subject);
  if (
    caCert.basicConstraints?.ca !== true ||
    (caCert.keyUsage && !caCert.keyUsage.includes('keyCertSign'))
  )
    throw new IntroIssuerNotCa(
      `The letter's ca_cert (${caName}) is not a CA certificate, so it cannot vouch for an identity.`,
      { field: 'ca_cert', reason: 'not a ca' },
    );
  if (signedCert.basicConstraints?.ca === true)
    throw new IntroNotIdentity(
      `The letter's signed_cert (${formatName(signedCert.subject)}) is a CA certificate posing as an identity.`,
      { field: 'signed_cert', reason: 'ca' },
    );
  if (!nameEquals(signedCert.issuer, caCert.subject))
    throw new IntroSignatureInvalid(
      `The letter's signed_cert was issued by ${formatName(signedCert.issuer)}, not by its ca_cert (${caName}).`,
      { field: 'signed_cert', reason: 'issuer name' },
    );
  try {
    await verifyCertificateSignature(signedCert, caCert, options);
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    throw new IntroSignatureInvalid(
      `The letter's signed_cert was not signed by its ca_cert (${caName}): ${e.message}`,
      { field: 'signed_cert', reason: 'signature', cause: e },
    );
  }
  const now = Math.floor((options.time ?? new Date()).getTime() / 1000) * 1000;
  checkValidity(caCert, 'ca_cert', now);
  checkValidity(signedCert, 'signed_cert', now);
  const ours: PublicKeyInfo = await spkiOf(options.publicKey, subtleOf(options));
  if (!equalBytes(signedCert.publicKey.spki, ours.spki))
    throw new IntroKeyMismatch(
      `The letter's signed_cert is for another ${signedCert.publicKey.algorithm} key than ours: a letter for someone else.`,
      { field: 'signed_cert', reason: 'key mismatch' },
    );
  return { ...parsed, signerName: ornlName(caCert.subject) };
}

/**
 * Why `alias` cannot name a service in an introduction letter, or undefined when it can. `add-intro`
 * writes `known_servers/<alias>.yaml`, and a URL's host is looked up there (ORNL certified's
 * `lookup_server(url.hostname)`), so an alias must be something no URL means as a real host: no `.`,
 * `:`, `[` or `]`, not `localhost`, and not something a URL parser turns into one (a number such as
 * `167772165` is the IPv4 address 10.0.0.5, `%2E` and `。` are dots). Plain aliases such as `notes`,
 * `org1-api` or `nist-materials-api` — what ORNL's documentation shows — are fine.
 *
 * @example
 * letterAliasProblem('notes'); // undefined
 * letterAliasProblem('api.partner.org'); // "looks like a host name, an IP address or host:port"
 */
export function letterAliasProblem(alias: string): string | undefined {
  if (HOSTLIKE.test(alias)) return 'looks like a host name, an IP address or host:port';
  let host: string | undefined;
  try {
    host = new URL(`https://${alias}/`).hostname;
  } catch {
    host = undefined; // no URL can have it as its host, so it captures nothing
  }
  if (host !== undefined && HOSTLIKE.test(host))
    return `is read by a URL as the host ${JSON.stringify(host)}`;
  if ((host ?? alias).toLowerCase() === 'localhost') return 'is localhost';
  return undefined;
}

// --- internal ---

const HOSTLIKE = /[.:[\]]/;

/** Either alphabet, padded to a multiple of four, nothing else — what python's `b64decode(validate=True)` takes. */
const STRICT_BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function readCertificateField(
  record: Record<string, unknown>,
  field: 'signed_cert' | 'ca_cert',
): Certificate {
  const v = record[field];
  if (!Object.prototype.hasOwnProperty.call(record, field) || v === undefined)
    throw new IntroMalformed(`The introduction letter has no "${field}" field.`, {
      field,
      reason: 'missing',
    });
  if (typeof v !== 'string')
    throw new IntroMalformed(
      `The letter's "${field}" must be a base64 string, found ${describe(v)}.`,
      {
        field,
        reason: 'not a string',
      },
    );
  if (v.length === 0 || v.length % 4 !== 0 || !STRICT_BASE64.test(v))
    throw new IntroMalformed(`The letter's "${field}" is not padded base64 without whitespace.`, {
      field,
      reason: 'bad base64',
    });
  let der: Uint8Array;
  try {
    der = fromBase64Der(v);
  } catch (e) {
    throw new IntroMalformed(`The letter's "${field}" is not valid base64.`, {
      field,
      reason: 'bad base64',
      cause: e,
    });
  }
  try {
    return decodeCertificate(der);
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    throw new IntroMalformed(`The letter's "${field}" is not a certificate: ${e.message}`, {
      field,
      reason: 'bad certificate',
      cause: e,
    });
  }
}

/** A clean copy of a services map, or a phrase saying what is wrong with it. */
/**
 * Most services one letter may list, and the longest alias. Each becomes a file
 * (`known_servers/<alias>.yaml`): a letter is from someone else, and an 8 MiB one could otherwise
 * make `add-intro` write some 300,000 files, or names no file system takes.
 */
const MAX_LETTER_SERVICES = 1000;
const MAX_SERVICE_ALIAS_LENGTH = 200;

function checkServices(value: unknown): Record<string, string> | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `must be an object of alias to URL, found ${describe(value)}`;
  const all = Object.entries(value as Record<string, unknown>);
  if (all.length > MAX_LETTER_SERVICES)
    return `list ${all.length} services; a letter may list at most ${MAX_LETTER_SERVICES}`;
  const entries: [string, string][] = [];
  for (const [alias, url] of all) {
    // The alias names a file (known_servers/<alias>.yaml).
    if (alias === '' || /[/\\]/.test(alias) || hasControl(alias))
      return `alias ${JSON.stringify(alias)} must be non-empty, without "/", "\\" or control characters`;
    if (alias.length > MAX_SERVICE_ALIAS_LENGTH)
      return `alias ${JSON.stringify(`${alias.slice(0, 40)}…`)} is ${alias.length} characters; at most ${MAX_SERVICE_ALIAS_LENGTH}`;
    if (typeof url !== 'string')
      return `entry ${JSON.stringify(alias)} must be a URL string, found ${describe(url)}`;
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (
      !parsed ||
      (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
      !parsed.hostname
    )
      return `entry ${JSON.stringify(alias)} must be an absolute http(s) URL, found ${JSON.stringify(url)}`;
    entries.push([alias, url]);
  }
  // fromEntries defines own properties, so an alias such as "__proto__" stays data.
  return Object.fromEntries(entries);
}

type SubjectInput =
  { kind: 'cert'; cert: Certificate } | { kind: 'csr'; csr: CertificationRequest };

const SUBJECT_LABELS = ['CERTIFICATE', 'CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

function readSubject(input: Uint8Array | string): SubjectInput {
  if (typeof input !== 'string' && !(input instanceof Uint8Array))
    throw new TypeError(`subject must be a Uint8Array or a string, received ${describe(input)}`);
  try {
    if (input instanceof Uint8Array && input[0] === 0x30) return sniffDer(input);
    const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
    if (text.includes('-----BEGIN ')) {
      const { blocks } = readDerInput(text, SUBJECT_LABELS);
      if (blocks.length !== 1)
        throw new IntroSubjectInvalid(
          `Expected one certificate or certification request, found ${blocks.length} PEM blocks.`,
          { field: 'subject', reason: 'several blocks' },
        );
      const { label, der } = blocks[0]!;
      return label === 'CERTIFICATE'
        ? { kind: 'cert', cert: decodeCertificate(der) }
        : { kind: 'csr', csr: decodeCsr(der) };
    }
    // base64-DER as `certified get-ident` prints it (ORNL's alphabet), or the standard one.
    const der = fromBase64Der(text.trim());
    // Plain words decode as base64 too; a certificate or CSR is always a DER SEQUENCE.
    if (der[0] !== 0x30)
      throw new IntroSubjectInvalid(
        'The subject is not a readable certificate or certification request: it is neither PEM, DER, nor the base64-DER that get-ident prints.',
        { field: 'subject', reason: 'unreadable' },
      );
    return sniffDer(der);
  } catch (e) {
    if (e instanceof IntroSubjectInvalid || !(e instanceof CertifiedError)) throw e;
    // Base64 internals ("padding bits") mean nothing to someone who passed a text file: say what
    // was expected instead; the decoder's reason stays in `cause`.
    const why =
      e.code === 'ERR_BASE64_MALFORMED'
        ? 'it is neither PEM, DER, nor the base64-DER that get-ident prints.'
        : e.message;
    throw new IntroSubjectInvalid(
      `The subject is not a readable certificate or certification request: ${why}`,
      { field: 'subject', reason: 'unreadable', cause: e },
    );
  }
}

function sniffDer(der: Uint8Array): SubjectInput {
  try {
    return { kind: 'cert', cert: decodeCertificate(der) };
  } catch (certError) {
    try {
      return { kind: 'csr', csr: decodeCsr(der) };
    } catch {
      throw certError;
    }
  }
}

function checkValidity(cert: Certificate, field: 'signed_cert' | 'ca_cert', now: number): void {
  const at = new Date(now).toISOString();
  if (now < cert.notBefore.getTime())
    throw new IntroNotYetValid(
      `The letter's ${field} is not valid until ${cert.notBefore.toISOString()} (checked at ${at}).`,
      { field, reason: 'not yet valid' },
    );
  if (now > cert.notAfter.getTime())
    throw new IntroExpired(
      `The letter's ${field} expired at ${cert.notAfter.toISOString()} (checked at ${at}).`,
      { field, reason: 'expired' },
    );
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function isParsed(letter: unknown): letter is ParsedIntroLetter {
  if (typeof letter !== 'object' || letter === null) return false;
  const l = letter as Partial<Record<keyof ParsedIntroLetter, unknown>>;
  const isCert = (c: unknown): boolean =>
    typeof c === 'object' && c !== null && (c as { der?: unknown }).der instanceof Uint8Array;
  return isCert(l.signedCert) && isCert(l.caCert) && typeof l.services === 'object';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
