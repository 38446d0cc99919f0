/**
 * @module validators/match — the two matchers Anchor's validators share: domain suffixes and CIDR
 * networks (IPv4 and IPv6), each parsed once when the config loads.
 */
import { ipToBytes } from '@certified/core';
import { CaError } from '../errors.js';

/** A parsed network: address bytes and prefix length. */
export interface Network {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128).
 * @throws ERR_CA_CONFIG_INVALID naming `field`.
 */
export function parseNetwork(text: unknown, field: string): Network {
  if (typeof text !== 'string')
    throw new CaError('ERR_CA_CONFIG_INVALID', `${field} must be a CIDR string.`, { field });
  const [addr, len, extra] = text.split('/');
  let bytes: Uint8Array;
  try {
    bytes = ipToBytes(addr!);
  } catch (e) {
    throw new CaError('ERR_CA_CONFIG_INVALID', `${field} "${text}" is not an IP network.`, {
      field,
      cause: e,
    });
  }
  const prefix = len === undefined ? bytes.length * 8 : Number(len);
  if (extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > bytes.length * 8)
    throw new CaError('ERR_CA_CONFIG_INVALID', `${field} "${text}" has a bad prefix length.`, {
      field,
    });
  return { text, bytes, prefix };
}

/** True when `ip` (text) lies in one of `networks`; false for text that is not an address. */
export function inNetworks(ip: string, networks: readonly Network[]): boolean {
  let b: Uint8Array;
  try {
    b = ipToBytes(ip);
  } catch {
    return false;
  }
  return networks.some((n) => n.bytes.length === b.length && prefixEqual(n.bytes, b, n.prefix));
}

function prefixEqual(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

const DOTTED_QUAD = /^\d{1,3}(\.\d{1,3}){3}$/;

/** True when `text` reads as an IPv4 or IPv6 address. */
export function isIp(text: string): boolean {
  // Most names asked about are DNS names: answer those without a thrown (and caught) error.
  if (!text.includes(':') && !DOTTED_QUAD.test(text)) return false;
  try {
    ipToBytes(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Anchor's domain rule: an entry starting with a dot (`.example.com`) allows any name under it; any
 * other entry allows exactly that name. Case-insensitive; a trailing dot is ignored.
 */
export function domainAllowed(name: string, domains: readonly string[]): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return domains.some((d) => {
    const e = d.toLowerCase().replace(/\.$/, '');
    return e.startsWith('.') ? n.endsWith(e) && n.length > e.length : n === e;
  });
}
