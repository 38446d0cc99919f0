/**
 * @module commands/ca-client — `certified ca request` and `ca revoke`: this identity as a client of a
 * running CA. The CA's server is judged by our validator against `--cacert`; the request is signed
 * with the identity's own key (`id.key`), so the issued certificate joins the identity as
 * `id/<CA name>.crt`, next to the introductions' signatures, usable wherever those are.
 */
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  createCsr,
  createPathValidator,
  dnsName,
  encodePem,
  exportPrivateKey,
  generateKeyPair,
  equalBytes,
  fingerprint,
  formatName,
  importPrivateKey,
  NetworkError,
  ipAddress,
  ornlName,
  parseCertificates,
  personName,
  verifyCertificateSignature,
  type Certificate,
  type GeneralName,
} from '@certified/core';
import { readCertificateInput, type Identity } from '@certified/identity';
import { createMtlsFetch, peerChainOf } from '@certified/node';
import {
  CliError,
  list,
  str,
  typedHttpsUrl,
  usage,
  type Command,
  type Context,
  type OptionSpec,
} from '../cli.js';
import { certificateJson, JSON_OPTION, loadMe, readText, report, responseText } from './shared.js';

/** An error answer from the CA, with the CA's own code. */
export class CaAnswerError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'CaAnswerError';
    this.code = code;
    this.status = status;
  }
}

const CLIENT_OPTIONS: Record<string, OptionSpec> = {
  url: {
    type: 'string',
    placeholder: 'URL',
    description: "The CA's base URL, e.g. https://127.0.0.1:8443.",
  },
  cacert: {
    type: 'string',
    placeholder: 'FILE',
    description:
      "The CA's certificate (its ca.crt: PEM, base64-DER or get-signer JSON); the server must chain to it.",
  },
  fingerprint: {
    type: 'string',
    placeholder: 'SHA256',
    description:
      "Instead of --cacert: the CA certificate's SHA-256 fingerprint, as `ca init` and `ca serve` print it; the CA certificate is taken from the server's chain only if it matches.",
  },
  ra: {
    type: 'string',
    placeholder: 'NAME',
    description: 'The registration authority; default "default".',
  },
  user: { type: 'string', placeholder: 'NAME', description: 'User, for a static RA.' },
  'secret-file': {
    type: 'string',
    placeholder: 'FILE',
    description: "The user's secret (default: $CERTIFIED_CA_SECRET).",
  },
  'token-file': {
    type: 'string',
    placeholder: 'FILE',
    description: 'A bearer token (JWT), for a jwt RA.',
  },
};

interface CaClient {
  readonly me: Identity;
  readonly ca: Certificate;
  readonly base: URL;
  readonly ra: string;
  /** `id/<CA name>.crt`. */
  readonly file: string;
  /** What that file holds now (certificate first), if anything. */
  readonly current: Certificate[] | undefined;
  /**
   * Posts JSON with the RA's credentials over mutual TLS, presenting `present` (default: `file`'s
   * certificate with id.key, else the identity).
   */
  post(
    path: string,
    body: Record<string, unknown>,
    present?: { readonly certificates: Certificate[]; readonly keyPem: string },
  ): Promise<unknown>;
}

async function caClient(ctx: Context): Promise<CaClient> {
  const url = str(ctx.values, 'url') ?? usage('Name the CA with --url https://host:port.');
  const base = typedHttpsUrl('--url', url);
  const cacert = str(ctx.values, 'cacert');
  const pinned = str(ctx.values, 'fingerprint');
  if (!cacert === !pinned)
    usage('Say which CA to trust: --cacert FILE, or --fingerprint SHA256 (one of them).');
  const ca = cacert
    ? readCertificateInput(await ctx.io.readFile(cacert), 'cacert')[0]!
    : await caByFingerprint(base, pinned!);
  const me = await loadMe(ctx);
  const file = `id/${ornlName(ca.subject)}.crt`;
  const bytes = await me.store.read(file);
  const current = bytes ? parseCertificates(bytes) : undefined;
  const secretFile = str(ctx.values, 'secret-file');
  const secret = secretFile
    ? (await readText(ctx, secretFile)).trim()
    : ctx.io.env['CERTIFIED_CA_SECRET'];
  const tokenFile = str(ctx.values, 'token-file');
  const token = tokenFile ? (await readText(ctx, tokenFile)).trim() : undefined;
  const user = str(ctx.values, 'user');
  if (user && !secret) usage('--user needs a secret: --secret-file FILE or $CERTIFIED_CA_SECRET.');
  const validator = createPathValidator({ anchors: [ca] });
  return {
    me,
    ca,
    base,
    ra: str(ctx.values, 'ra') ?? 'default',
    file,
    current,
    async post(path, body, present) {
      const chain = present?.certificates ?? current ?? [me.id.certificate, ...me.id.chain];
      const fetch = createMtlsFetch({
        key: present?.keyPem ?? me.id.keyPem,
        certificates: chain.map((c) => c.der),
        validator,
        keepAlive: false,
      });
      try {
        const r = await fetch(new URL(path, base), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ ...body, ...(user ? { user, secret } : {}) }),
        });
        const text = await responseText(r, new URL(path, base).href);
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON: reported below
        }
        if (!r.ok) {
          const code = typeof json?.['code'] === 'string' ? json['code'] : 'ERR_HTTP_STATUS';
          const message =
            typeof json?.['message'] === 'string'
              ? json['message']
              : `The CA answered ${r.status} ${r.statusText}.`;
          throw new CaAnswerError(code, `${message} (HTTP ${r.status})`, r.status);
        }
        if (!json)
          throw new CliError('ERR_BODY_INVALID', `The CA answered ${r.status} without JSON.`);
        return json;
      } finally {
        await fetch.close();
      }
    },
  };
}

/**
 * step-ca's bootstrap: read the chain the server presents (trusting nothing yet) and take from it the
 * certificate whose SHA-256 is `pinned`; everything after is judged against it by our validator.
 */
async function caByFingerprint(base: URL, pinned: string): Promise<Certificate> {
  const want = pinned.replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(want))
    usage(
      `--fingerprint must be a SHA-256: 64 hex digits, colons allowed; received ${JSON.stringify(pinned)}.`,
    );
  const host = base.hostname.replace(/^\[|\]$/g, '');
  const chain = await new Promise<Uint8Array[]>((resolve, reject) => {
    const socket = tlsConnect(
      {
        host,
        port: Number(base.port || 443),
        rejectUnauthorized: false, // nothing from this connection is trusted but the pinned match
        ...(isIP(host) ? {} : { servername: host }),
      },
      () => {
        const out = peerChainOf(socket);
        socket.end();
        resolve(out);
      },
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('no TLS handshake within 10 s')));
    socket.once('error', reject);
  }).catch((e: Error) => {
    throw new NetworkError('ERR_NET_CONNECT', `Cannot read ${base.host}'s chain: ${e.message}`, {
      cause: e,
    });
  });
  const match = chain.find((der) => fingerprint(der).replace(/:/g, '') === want);
  if (!match)
    throw new CliError(
      'ERR_CHECK_FAILED',
      `${base.host} presented no certificate with SHA-256 ${pinned}: not the CA you meant.`,
    );
  return parseCertificates(match)[0]!;
}

function sanOf(text: string): GeneralName {
  return isIP(text) ? ipAddress(text) : dnsName(text);
}

export const caRequestCommand: Command = {
  name: 'ca request',
  summary:
    "Get a certificate for this identity's key from a CA service and install it as id/<CA>.crt.",
  description:
    'Makes a CSR signed with id.key (the key never leaves this directory), sends it to the RA, checks the answer (our key, signed by --cacert) and installs it as id/<CA name>.crt with the CA after it, replacing an earlier one from the same CA. With --renew the request goes to /v1/renew over mutual TLS with the installed certificate, for the same subject and names; a revoked subject or key is refused. Certificates are short-lived (24 hours unless the RA says otherwise): renew before they expire.',
  positionals: [
    {
      name: 'NAME',
      required: false,
      description:
        "The certificate's common name, e.g. web.example.com (added as a DNS name by the RA's fixups). Not with --renew.",
    },
  ],
  options: {
    ...CLIENT_OPTIONS,
    san: {
      type: 'string',
      multiple: true,
      placeholder: 'NAME|IP',
      description: 'A subject alternative name to ask for.',
    },
    renew: {
      type: 'boolean',
      description: 'Renew the installed certificate over mTLS (same subject and names).',
    },
    'new-key': {
      type: 'boolean',
      description:
        'Make a new P-256 key for this certificate instead of using id.key, and install both as certs/NAME.key (0600) and certs/NAME.crt, for servers such as nginx; with --renew, renews certs/NAME.crt with a new key.',
    },
    json: JSON_OPTION,
  },
  examples: [
    'certified ca request web.localhost --url https://127.0.0.1:8443 --cacert ca.crt --user admin --secret-file admin.secret',
    'certified ca request --renew --url https://127.0.0.1:8443 --cacert ca.crt',
  ],
  async run(ctx) {
    const renew = ctx.values['renew'] === true;
    const own = ctx.values['new-key'] === true;
    const name = ctx.positionals[0];
    if (own && (!name || !/^[\w.-]+$/.test(name) || name.startsWith('.')))
      usage(
        '--new-key needs NAME (letters, digits, . _ -): the files are certs/NAME.key and .crt.',
      );
    if (renew && name && !own)
      usage("--renew keeps the installed certificate's subject; drop NAME.");
    if (!renew && !name) usage('ca request needs NAME, the common name to certify.');
    const client = await caClient(ctx);
    const { me, ca } = client;
    const file = own ? `certs/${name}.crt` : client.file;
    const keyFile = own ? `certs/${name}.key` : undefined;
    const held = own ? await readChain(me, file) : client.current;
    if (renew && !held)
      throw new CliError(
        'ERR_FILE_READ',
        `Nothing to renew: ${file} does not exist. Request one first (without --renew).`,
      );
    const keyBytes = own && renew ? await me.store.read(keyFile!) : undefined;
    if (own && renew && !keyBytes)
      throw new CliError('ERR_FILE_READ', `Nothing to renew with: ${keyFile} does not exist.`);
    const heldKey = keyBytes && new TextDecoder().decode(keyBytes);
    const keyPair = own
      ? await generateKeyPair({ algorithm: 'P-256', extractable: true })
      : await importPrivateKey(me.id.keyPem);
    const current = held?.[0];
    const sans = list(ctx.values, 'san').map(sanOf);
    const csr = await createCsr({
      subject: renew ? current!.subject : personName({ commonName: name! }),
      keyPair,
      altNames: renew ? (current!.subjectAltNames ?? []) : sans,
    });
    const answer = (await client.post(
      renew ? '/v1/renew' : '/v1/certificates',
      { ra: client.ra, csr: encodePem('CERTIFICATE REQUEST', csr.der) },
      own && renew ? { certificates: held!, keyPem: heldKey! } : undefined,
    )) as { certificate?: unknown; chain?: unknown };
    const issued = checkIssued(answer, csr.publicKey.spki);
    if (!(await issuedBy(issued, ca)))
      throw new CliError(
        'ERR_BODY_INVALID',
        `The CA answered with a certificate ${formatName(ca.subject)} did not sign; nothing was installed.`,
      );
    const pem = [issued, ca].map((c) => encodePem('CERTIFICATE', c.der)).join('');
    if (held && !(await issuedBy(held[0]!, ca)))
      throw new CliError(
        'ERR_FILE_WRITE',
        `${file} holds a certificate another CA of the same name signed; not replaced.`,
      );
    const enc = new TextEncoder();
    await me.store.commit([
      { op: 'write', path: file, data: enc.encode(pem), overwrite: true },
      ...(own
        ? [
            {
              op: 'write' as const,
              path: keyFile!,
              data: enc.encode(await exportPrivateKey(keyPair.privateKey)),
              mode: 0o600,
              overwrite: true,
            },
          ]
        : []),
    ]);
    report(
      ctx,
      () => ({
        installed: file,
        ...(keyFile ? { key: keyFile } : {}),
        serial: issued.serialNumberHex,
        ...certificateJson(issued),
        issuer: formatName(ca.subject),
      }),
      () =>
        `Installed ${file}${keyFile ? ` and ${keyFile}` : ''}: ${ornlName(issued.subject)}, serial ${issued.serialNumberHex}, valid until ${issued.notAfter.toISOString()}.\n` +
        `Renew before then: certified ca request --renew ${own ? `--new-key ${name} ` : ''}--url ${client.base.origin} ${trustFlag(ctx)}\n`,
    );
    return 0;
  },
};

/** How this command was told which CA to trust, to repeat it. */
function trustFlag(ctx: Context): string {
  const cacert = str(ctx.values, 'cacert');
  return cacert ? `--cacert ${cacert}` : `--fingerprint ${str(ctx.values, 'fingerprint')}`;
}

/** A certificate file in the identity directory, certificate first; undefined when absent. */
async function readChain(me: Identity, file: string): Promise<Certificate[] | undefined> {
  const bytes = await me.store.read(file);
  return bytes ? parseCertificates(bytes) : undefined;
}

/** The CA's answer: a certificate for the key the CSR carried. */
function checkIssued(answer: { certificate?: unknown }, spki: Uint8Array): Certificate {
  let issued: Certificate | undefined;
  try {
    if (typeof answer.certificate === 'string') issued = parseCertificates(answer.certificate)[0];
  } catch {
    // reported below
  }
  if (!issued) throw new CliError('ERR_BODY_INVALID', 'The CA answered without a certificate.');
  if (!equalBytes(issued.publicKey.spki, spki))
    throw new CliError('ERR_BODY_INVALID', 'The CA answered with a certificate for another key.');
  return issued;
}

async function issuedBy(cert: Certificate, ca: Certificate): Promise<boolean> {
  return verifyCertificateSignature(cert, ca).then(
    () => true,
    () => false,
  );
}

export const caRevokeCommand: Command = {
  name: 'ca revoke',
  summary: 'Revoke a serial or subject at a CA service: it is never renewed or re-issued again.',
  description:
    "Revocation is passive: the certificate itself stays valid until it expires (hours), but the CA refuses to renew or re-issue for the revoked serial's key, or for the subject, until the revocation is lifted. An RA's own users may revoke anything it issued; a certificate holder (mtls RA) only itself, presenting the installed id/<CA>.crt.",
  positionals: [],
  options: {
    ...CLIENT_OPTIONS,
    serial: {
      type: 'string',
      placeholder: 'HEX',
      description: 'The serial to revoke (and its key).',
    },
    subject: {
      type: 'string',
      placeholder: 'DN',
      description:
        'The subject to revoke, as `ca log` prints it (RFC 4514, e.g. CN=web.localhost).',
    },
    reason: { type: 'string', placeholder: 'TEXT', description: 'Why, for the audit log.' },
    lift: {
      type: 'string',
      placeholder: 'ID',
      description:
        'Lift revocation ID instead (the number revoke printed): the CA issues for it again. Not for certificate holders.',
    },
    json: JSON_OPTION,
  },
  examples: [
    'certified ca revoke --serial 5f3a… --url https://127.0.0.1:8443 --cacert ca.crt --user admin --secret-file admin.secret',
    'certified ca revoke --lift 3 --url https://127.0.0.1:8443 --cacert ca.crt --user admin --secret-file admin.secret',
  ],
  async run(ctx) {
    const serial = str(ctx.values, 'serial');
    const subject = str(ctx.values, 'subject');
    const lift = str(ctx.values, 'lift');
    if (lift !== undefined) {
      if (serial || subject) usage('--lift takes no --serial or --subject: it names a revocation.');
      if (!/^[1-9]\d{0,15}$/.test(lift))
        usage(`--lift must be a revocation id (a number); received ${JSON.stringify(lift)}.`);
      const client = await caClient(ctx);
      const answer = await client.post('/v1/revoke/lift', { ra: client.ra, id: Number(lift) });
      report(
        ctx,
        () => answer,
        () => `Lifted revocation ${lift}: the CA issues for it again.\n`,
      );
      return 0;
    }
    if (!serial && !subject) usage('Say what to revoke: --serial HEX or --subject DN.');
    const client = await caClient(ctx);
    const reason = str(ctx.values, 'reason');
    const answer = (await client.post('/v1/revoke', {
      ra: client.ra,
      ...(serial ? { serial } : {}),
      ...(subject ? { subject } : {}),
      ...(reason ? { reason } : {}),
    })) as { revoked?: unknown };
    const ids = Array.isArray(answer.revoked) ? answer.revoked : [];
    report(
      ctx,
      () => answer,
      () =>
        `Revoked ${[serial && `serial ${serial}`, subject && `subject ${subject}`].filter(Boolean).join(' and ')} (revocation ${ids.join(', ')}): no renewal or re-issue until lifted.\n`,
    );
    return 0;
  },
};
