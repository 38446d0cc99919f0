/**
 * @module model — what the app does, without UI: the identity in this browser's IndexedDB
 * (@certified/web), created, shown, introducing others and installing letters through
 * @certified/identity's own operations (the same code as the CLI). Loaded right after the shell.
 */
import {
  CertifiedError,
  IdentityError,
  decodeCertificate,
  emailAddress,
  formatGeneralName,
  formatName,
  parseCsr,
  personName,
} from '@certified/core';
import {
  addIntro,
  describeIdentity,
  getIdent,
  getSigner,
  initIdentity,
  introduce as introduceSubject,
  loadIdentity,
  readCertificateInput,
  type Identity,
  type IdentityDescription,
  type IdentityKeyType,
  type IntroLetter,
  type IntroResult,
} from '@certified/identity';
import { openIdentityStore, type IndexedDbIdentityStore } from '@certified/web';

/** The identity as the app shows it. */
export interface Shown {
  readonly identity: Identity;
  readonly description: IdentityDescription;
  /** `certified get-ident`: our identity certificate as base64-DER. */
  readonly ident: string;
  /** `certified get-signer`: `{"ca_cert": …}`. */
  readonly signer: string | undefined;
  /** Whether the private keys are non-extractable CryptoKeys (always, when made here). */
  readonly keysExtractable: boolean;
}

/** A failure to show: the stable code and the sentence. */
export interface Failure {
  readonly code: string;
  readonly message: string;
}

let store: IndexedDbIdentityStore | undefined;

async function openStore(): Promise<IndexedDbIdentityStore> {
  store ??= await openIdentityStore({ name: 'certified' });
  return store;
}

/** The identity in this browser, or undefined when there is none yet. */
export async function current(): Promise<Shown | undefined> {
  const s = await openStore();
  if ((await s.stat('id.crt')) === undefined) return undefined;
  return show(await loadIdentity(s));
}

/** Creates the person identity: a CA and an identity certificate, keys non-extractable. */
export async function create(input: {
  name: string;
  email: string;
  keyType: IdentityKeyType;
}): Promise<Shown> {
  if (input.name.trim() === '')
    throw new IdentityError('ERR_IDENTITY_INPUT_INVALID', 'Give a name.', { field: 'name' });
  const identity = await initIdentity(await openStore(), {
    subject: personName({ commonName: input.name.trim() }),
    altNames: input.email.trim() ? [emailAddress(input.email.trim())] : [],
    keyType: input.keyType,
  });
  return show(identity);
}

/** Who a pasted identity (get-ident's base64-DER, PEM, DER or a CSR) is, for review. */
export interface Subject {
  readonly kind: 'certificate' | 'CSR';
  readonly subject: string;
  readonly altNames: readonly string[];
  readonly ca: boolean;
  readonly text: string | Uint8Array;
}

/** Reads someone's identity for review before introducing them. */
export function review(text: string | Uint8Array): Subject {
  try {
    const [cert] = readCertificateInput(text, 'identity');
    return {
      kind: 'certificate',
      subject: formatName(cert!.subject),
      altNames: (cert!.subjectAltNames ?? []).map(formatGeneralName),
      ca: cert!.basicConstraints?.ca === true,
      text,
    };
  } catch (e) {
    if (!(e instanceof CertifiedError)) throw e;
    try {
      const csr = parseCsr(text);
      return {
        kind: 'CSR',
        subject: formatName(csr.subject),
        altNames: [],
        ca: false,
        text,
      };
    } catch {
      throw e; // the certificate's reason is the more useful one
    }
  }
}

/** Signs an introduction letter for a reviewed subject (ORNL's `{ signed_cert, ca_cert, services }`). */
export async function introduce(
  me: Identity,
  subject: Subject,
  services: Readonly<Record<string, string>>,
): Promise<IntroLetter> {
  return introduceSubject(me, subject.text, Object.keys(services).length ? { services } : {});
}

/** Installs a letter (`add-intro`): our key, chains to the letter's CA, not a CA, valid now. */
export async function install(me: Identity, letter: string): Promise<IntroResult> {
  return addIntro(me, letter);
}

/** A certificate file's first certificate, for lists. */
export function certificateOf(der: Uint8Array): string {
  return formatName(decodeCertificate(der).subject);
}

// --- internal ---

function show(identity: Identity): Shown {
  return {
    identity,
    description: describeIdentity(identity),
    ident: getIdent(identity),
    signer: identity.signer ? JSON.stringify(getSigner(identity)) : undefined,
    keysExtractable: identity.id.privateKey.extractable,
  };
}
