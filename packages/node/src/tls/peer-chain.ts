/**
 * @module tls/peer-chain — internal glue shared by the mTLS server and client: reading the chain a
 * peer presented from a `node:tls` socket, our certificates as PEM, and describing a peer for
 * messages. Only {@link peerChainOf} is exported from the package (the CA's server and the CLI's
 * fingerprint bootstrap read chains the same way).
 */
import type { TLSSocket } from 'node:tls';
import {
  describeValue,
  AlgorithmUnsupported,
  encodePem,
  exportPublicKey,
  fingerprint,
  formatName,
  importPrivateKey,
  KeyMismatch,
  parseCertificate,
} from '@certified/core';

/**
 * Most certificates we read from one peer: more than the validator accepts (16 by default), so an
 * overlong chain reaches it and is refused as ERR_CHAIN_TOO_LARGE instead of silently truncated.
 */
const MAX_CHAIN = 64;

/** Node's `getPeerCertificate(true)` object, reduced to what we read. */
interface DetailedPeerCertificate {
  readonly raw?: Uint8Array;
  readonly issuerCertificate?: DetailedPeerCertificate;
}

/**
 * The certificates the peer presented, peer first, as DER copies; empty when it presented none.
 * Node rebuilds the chain as an `issuerCertificate` linked list that points to itself at a
 * self-signed root; Deno and Bun imitate that shape.
 *
 * @example
 * tlsServer.on('secureConnection', (socket) => console.log(peerChainOf(socket).length));
 */
export function peerChainOf(socket: TLSSocket): Uint8Array[] {
  let cert: DetailedPeerCertificate | undefined;
  try {
    cert = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  } catch {
    return [];
  }
  const out: Uint8Array[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  while (cert && cert.raw instanceof Uint8Array && cert.raw.byteLength > 0 && !seen.has(cert)) {
    if (out.length >= MAX_CHAIN) break;
    seen.add(cert);
    out.push(new Uint8Array(cert.raw)); // a copy: never keep views into runtime-owned buffers
    cert = cert.issuerCertificate;
  }
  return out;
}

/**
 * The peer's certificate alone, as a DER copy; undefined when it presented none. Several times
 * cheaper than {@link peerChainOf} on Node (no chain objects are built), so servers try the leaf
 * first: a client issued directly by a trust anchor needs nothing else.
 */
export function peerLeafOf(socket: TLSSocket): Uint8Array | undefined {
  try {
    const fromSession = leafOfSession(socket);
    if (fromSession) return fromSession;
    // Not getPeerX509Certificate(), ~6× cheaper still on Node 20: there it moves the presented
    // intermediates out of the socket's chain, so a later getPeerCertificate(true) sees the leaf
    // alone (the "without disturbing it" test fails with it).
    const raw = (socket.getPeerCertificate(false) as { raw?: unknown } | undefined)?.raw;
    return raw instanceof Uint8Array && raw.byteLength > 0 ? new Uint8Array(raw) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The peer's certificate as the TLS session holds it, or undefined when the session is absent or
 * not in OpenSSL's shape. OpenSSL's (and BoringSSL's) `SSL_SESSION` encoding is a SEQUENCE whose
 * `[3]` element is the peer certificate, the same one `getPeerCertificate()` reads. On Node 20 this
 * costs ~15 µs per new connection where `getPeerCertificate(false)` costs ~105 µs: that one decodes
 * and formats every field and computes three fingerprints we never use. The session bytes also hold
 * its secrets, so they are zeroed once read.
 */
function leafOfSession(socket: TLSSocket): Uint8Array | undefined {
  let session: unknown;
  try {
    session = socket.getSession?.();
  } catch {
    return undefined; // a runtime without it: ask for the certificate instead
  }
  if (!(session instanceof Uint8Array)) return undefined;
  try {
    return certificateInSession(session);
  } finally {
    session.fill(0);
  }
}

/** The `[3]` element of a DER `SSL_SESSION`, copied, when it holds exactly one SEQUENCE. */
export function certificateInSession(der: Uint8Array): Uint8Array | undefined {
  const top = tlvAt(der, 0, der.length);
  if (top?.tag !== 0x30 || top.end !== der.length) return undefined;
  for (let at = top.valueStart; at < top.end;) {
    const field = tlvAt(der, at, top.end);
    if (!field) return undefined;
    if (field.tag === 0xa3) {
      const cert = tlvAt(der, field.valueStart, field.end);
      return cert?.tag === 0x30 && cert.end === field.end
        ? new Uint8Array(der.subarray(cert.start, cert.end)) // a copy even of a Buffer
        : undefined;
    }
    at = field.end;
  }
  return undefined;
}

/** One DER element at `at` ending by `limit` (definite lengths of at most 3 octets), or undefined. */
function tlvAt(
  b: Uint8Array,
  at: number,
  limit: number,
): { tag: number; start: number; valueStart: number; end: number } | undefined {
  if (at + 2 > limit) return undefined;
  const tag = b[at]!;
  let length = b[at + 1]!;
  let p = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n < 1 || n > 3 || p + n > limit) return undefined;
    length = 0;
    for (const end = p + n; p < end; p++) length = length * 256 + b[p]!;
  }
  const end = p + length;
  return end <= limit ? { tag, start: at, valueStart: p, end } : undefined;
}

/** Our chain (DER, end entity first) as one PEM bundle for `node:tls`. */
export function chainPem(certificates: readonly Uint8Array[], what: string): string {
  if (!Array.isArray(certificates) || certificates.length === 0)
    throw new TypeError(
      `${what}.certificates must be a non-empty array of DER certificates (ours first), received ${describeValue(certificates)}`,
    );
  return certificates
    .map((der, i) => {
      if (!(der instanceof Uint8Array))
        throw new TypeError(
          `${what}.certificates[${i}] must be a Uint8Array (DER), received ${describeValue(der)}`,
        );
      return encodePem('CERTIFICATE', der);
    })
    .join('');
}

/** Checks the private key option is PEM text (PKCS#8); `node:tls` reports worse errors later. */
export function checkKeyPem(key: unknown, what: string): string {
  if (typeof key !== 'string' || !key.includes('-----BEGIN'))
    throw new TypeError(
      `${what}.key must be a PEM private key (PKCS#8), received ${describeValue(key)}`,
    );
  return key;
}

/**
 * Checks that `key` is the private half of the key in `certificate`, so a mismatched identity fails
 * up front with ERR_KEY_MISMATCH on every runtime (Deno's node:tls only fails at handshake time,
 * and then obscurely). Keys we cannot sign with (RSA) are left for node:tls to judge.
 */
export async function checkKeyMatches(
  key: string,
  certificate: Uint8Array,
  what: string,
): Promise<void> {
  const cert = parseCertificate(certificate);
  let publicKey: CryptoKey;
  try {
    ({ publicKey } = await importPrivateKey(key));
  } catch (e) {
    if (e instanceof AlgorithmUnsupported) return;
    throw e;
  }
  const spki = await exportPublicKey(publicKey, { format: 'der' });
  const same =
    spki.byteLength === cert.publicKey.spki.byteLength &&
    spki.every((b, i) => b === cert.publicKey.spki[i]);
  if (!same)
    throw new KeyMismatch(
      `${what}: the private key does not belong to the certificate of ${formatName(cert.subject) || '(empty subject)'}.`,
      { field: 'key' },
    );
}

/** The subject of a certificate as RFC 4514 text, or undefined when it cannot be read. */
export function subjectOf(der: Uint8Array | undefined): string | undefined {
  if (!der) return undefined;
  try {
    return formatName(parseCertificate(der).subject);
  } catch {
    return undefined;
  }
}

/**
 * Who a refused client said it was, for one log line: the presented certificate's subject (when
 * readable) and SHA-256 fingerprint (whenever one was presented, readable or not).
 */
export function presentedBy(der: Uint8Array | undefined): {
  subject: string | undefined;
  fingerprint: string | undefined;
} {
  return { subject: subjectOf(der), fingerprint: der ? fingerprint(der) : undefined };
}

/** `host:port`, bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
