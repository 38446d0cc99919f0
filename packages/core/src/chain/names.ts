/**
 * @module chain/names — syntax checks and matching for the names a validator compares: DNS names
 * (RFC 1034 LDH, RFC 6125 wildcards), IP addresses, mailboxes (RFC 5321) and URI hosts.
 * Everything here is strict ASCII: internationalised names must arrive as A-labels.
 */
import { bytesToIp, ipToBytes } from '../x509/general-name.js';

/**
 * True for a lower-case LDH host name: labels of 1–63 letters, digits and inner hyphens, at most 253
 * characters, no empty label, and a last label that is not all digits (that would be an address).
 */
export function isHostName(name: string): boolean {
  const n = name.length;
  if (n === 0 || n > 253) return false;
  // A character loop, not split + a regex per label: this runs on every peer name and SAN checked.
  let start = 0;
  let digitsOnly = true;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? name.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const len = i - start;
      if (len === 0 || len > 63) return false;
      if (name.charCodeAt(start) === 0x2d || name.charCodeAt(i - 1) === 0x2d) return false;
      if (i === n && digitsOnly) return false;
      start = i + 1;
      digitsOnly = true;
    } else if (c >= 0x30 && c <= 0x39) {
      // digits keep digitsOnly as it is
    } else if ((c >= 0x61 && c <= 0x7a) || c === 0x2d) {
      digitsOnly = false;
    } else {
      return false;
    }
  }
  return true;
}

/** Lower-cases ASCII letters only (no locale or Unicode folding). */
export const asciiLower = (s: string): string =>
  /[A-Z]/.test(s) ? s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) | 0x20)) : s;

/**
 * A dNSName from a certificate as something to match: `exact` host, or `*.rest` where the wildcard
 * stands for exactly one label. Undefined when the value is malformed or a wildcard we refuse:
 * partial-label wildcards (`f*o.example.com`), wildcards not leftmost, and wildcards over fewer than
 * two labels (`*`, `*.com`) — the last is our stand-in for a public-suffix check.
 */
export function dnsPattern(value: string): { wildcard: boolean; host: string } | undefined {
  const v = asciiLower(value);
  if (v.startsWith('*.')) {
    const host = v.slice(2);
    if (!isHostName(host) || !host.includes('.')) return undefined;
    return { wildcard: true, host };
  }
  return isHostName(v) ? { wildcard: false, host: v } : undefined;
}

/** RFC 6125 §6.4: does the certificate's dNSName `value` cover the reference host `host`? */
export function matchesDnsName(value: string, host: string): boolean {
  const p = dnsPattern(value);
  if (!p) return false;
  if (!p.wildcard) return p.host === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === p.host;
}

/** Normalises a reference host name (lower case, one trailing dot removed); undefined if invalid. */
export function referenceHost(name: string): string | undefined {
  const h = asciiLower(name.endsWith('.') ? name.slice(0, -1) : name);
  return isHostName(h) ? h : undefined;
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
// RFC 5321 quoted-string: printable ASCII except '"' and '\', or a backslash pair.
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;

/** A mailbox split into its local part (kept exactly) and its lower-case domain; undefined if malformed. */
export function parseMailbox(addr: string): { local: string; domain: string } | undefined {
  const at = addr.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = addr.slice(0, at);
  const domain = asciiLower(addr.slice(at + 1));
  const dotAtom = local.split('.').every((a) => ATEXT.test(a));
  if (!dotAtom && !QUOTED.test(local)) return undefined;
  return isHostName(domain) ? { local, domain } : undefined;
}

/**
 * The host of an absolute URI with an authority (`scheme://[user@]host[:port]…`), lower-cased, when it
 * is a DNS name. Undefined for URIs without an authority or with an IP-literal host (RFC 5280
 * §4.2.1.10 makes such URIs fail any URI name constraint).
 */
export function uriHost(uri: string): string | undefined {
  // RFC 3986 characters only (no spaces, backslashes or non-ASCII, which URL parsers read differently),
  // and a userinfo of unreserved, percent-encoded and sub-delimiter characters.
  if (!/^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/.test(uri)) return undefined;
  const m =
    /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[A-Za-z0-9\-._~%!$&'()*+,;=:]*@)?([^:/?#[\]]*)(?::[0-9]*)?(?:[/?#]|$)/.exec(
      uri,
    );
  if (!m) return undefined;
  const host = asciiLower(m[1]!);
  return isHostName(host) ? host : undefined;
}

/** Canonical text of an IP address written in the usual way; undefined unless it is one. */
export function canonicalIp(text: string): string | undefined {
  // Cheap pre-check: host names are the common case, and a thrown error costs microseconds.
  if (!/^\[?[0-9A-Fa-f:.]+\]?$/.test(text)) return undefined;
  try {
    return bytesToIp(ipToBytes(text));
  } catch {
    return undefined;
  }
}
