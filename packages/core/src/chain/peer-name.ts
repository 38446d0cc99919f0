/**
 * @module chain/peer-name — does a certificate carry the name we expect (RFC 6125 DNS wildcards, IP
 * exact, mailbox, URI)? Never falls back to the commonName.
 */
import type { Certificate } from '../x509/certificate.js';
import { canonicalIp, dnsPattern, matchesDnsName, parseMailbox, referenceHost } from './names.js';
import type { PeerNameInput } from './types.js';

export type PeerName = { type: 'dns' | 'ip' | 'email' | 'uri'; value: string };

export function normalisePeerName(n: PeerNameInput): PeerName {
  if (typeof n === 'string') {
    if (canonicalIp(n) !== undefined) return { type: 'ip', value: n };
    if (n.includes('://')) return { type: 'uri', value: n };
    if (n.includes('@')) return { type: 'email', value: n };
    return { type: 'dns', value: n };
  }
  if (typeof n !== 'object' || n === null || typeof n.value !== 'string')
    throw new TypeError(`peerName must be a string or { type, value }, received ${String(n)}`);
  if (!['dns', 'ip', 'email', 'uri'].includes(n.type))
    throw new TypeError(`peerName.type must be dns, ip, email or uri, received ${String(n.type)}`);
  return { type: n.type, value: n.value };
}

/** True when `cert` carries `name` (RFC 6125 DNS wildcards, IP exact, email, URI); no commonName fallback. */
export function matchesPeerName(cert: Certificate, name: PeerNameInput): boolean {
  return peerNameProblem(cert, normalisePeerName(name)) === undefined;
}

/**
 * Why `cert` does not carry `name`, or undefined when it does. Never falls back to the commonName.
 * With `publicSuffix`, a wildcard over a public suffix matches nothing.
 */
export function peerNameProblem(
  cert: Certificate,
  name: PeerName,
  publicSuffix?: (name: string) => boolean,
): string | undefined {
  const sans = cert.subjectAltNames ?? [];
  switch (name.type) {
    case 'dns': {
      const host = referenceHost(name.value);
      if (host === undefined)
        return `the expected name ${JSON.stringify(name.value)} is not a valid DNS name`;
      let overSuffix: string | undefined;
      for (const g of sans) {
        if (g.type !== 'dns' || !matchesDnsName(g.value, host)) continue;
        const base = publicSuffix && dnsPattern(g.value);
        if (base && base.wildcard && isSuffix(publicSuffix, base.host)) overSuffix ??= g.value;
        else return undefined;
      }
      if (overSuffix !== undefined)
        return `its subjectAltName ${JSON.stringify(overSuffix)} is a wildcard over a public suffix, which names no one`;
      break;
    }
    case 'ip': {
      const ip = canonicalIp(name.value);
      if (ip === undefined)
        return `the expected address ${JSON.stringify(name.value)} is not an IP address`;
      if (sans.some((g) => g.type === 'ip' && g.value === ip)) return undefined;
      break;
    }
    case 'email': {
      const m = parseMailbox(name.value);
      if (!m) return `the expected mailbox ${JSON.stringify(name.value)} is malformed`;
      for (const g of sans) {
        if (g.type !== 'email') continue;
        const s = parseMailbox(g.value);
        if (s && s.local === m.local && s.domain === m.domain) return undefined;
      }
      break;
    }
    case 'uri':
      if (sans.some((g) => g.type === 'uri' && g.value === name.value)) return undefined;
      break;
  }
  return `it does not carry the ${name.type === 'dns' ? 'DNS name' : name.type === 'ip' ? 'IP address' : name.type === 'email' ? 'mailbox' : 'URI'} ${JSON.stringify(name.value)} in its subjectAltName`;
}

/** The caller's public-suffix predicate; one that throws counts as yes (refusing is the safe side). */
function isSuffix(publicSuffix: (name: string) => boolean, name: string): boolean {
  try {
    return Boolean(publicSuffix(name));
  } catch {
    return true;
  }
}
