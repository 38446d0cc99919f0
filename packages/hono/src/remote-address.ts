/**
 * @module remote-address — what the connection itself says about the caller, read duck-typed from
 * each runtime's objects (no runtime imports, so this runs anywhere): the TCP peer address, matching
 * it against proxy addresses (exact IPv4/IPv6 and CIDR blocks; IPv4-mapped IPv6 is the IPv4
 * address), and the certificate chain the client presented on a `node:tls` socket.
 */
import type { Context } from 'hono';
import { ipToBytes } from '@certified/core';
import { getConnInfo } from './conninfo/index.js';
import { attempt } from './conninfo/types.js';

/**
 * The IP address of the TCP peer of a request, as the runtime reports it, or undefined when the
 * runtime does not say (edge runtimes, `app.request` in tests). Never reads a header: this is the
 * address that connected to us, which for a proxied request is the proxy's.
 *
 * Read by the runtime adapters in `@certified/hono/conninfo` (Node's `c.env.incoming.socket`,
 * `Deno.serve`'s `c.env.remoteAddr`, `Bun.serve`'s `c.env.requestIP(c.req.raw)`).
 *
 * @param c - the Hono context.
 * @returns the address text, e.g. `127.0.0.1` or `::ffff:10.0.0.1`, or undefined.
 * @example
 * app.get('/ip', (c) => c.text(remoteAddressOf(c) ?? 'unknown'));
 */
export function remoteAddressOf(c: Context): string | undefined {
  return getConnInfo(c).remote.address;
}

/** A test of an address against a fixed list; false for undefined or unparseable addresses. */
export type AddressMatcher = (address: string | undefined) => boolean;

/**
 * Compiles a list of addresses and CIDR blocks into a matcher. IPv4-mapped IPv6 addresses
 * (`::ffff:127.0.0.1`, what a dual-stack Node socket reports) match as the IPv4 address they carry,
 * both in the list and in the address tested. Addresses with a zone id (`fe80::1%eth0`) never match.
 *
 * @param list - e.g. `['127.0.0.1', '10.0.0.0/8', '::1', '2001:db8::/32']`.
 * @throws TypeError when `list` is not an array of strings; RangeError for an entry that is not an
 *   address or CIDR block, or a CIDR block with bits set past its prefix (`10.1.2.3/8`).
 * @example
 * const isProxy = createAddressMatcher(['127.0.0.1', '10.0.0.0/8']);
 * isProxy('::ffff:10.1.2.3'); // true
 */
export function createAddressMatcher(list: readonly string[]): AddressMatcher {
  if (!Array.isArray(list))
    throw new TypeError(`addresses must be an array of strings, received ${typeof list}`);
  const blocks = list.map((entry, i) => parseBlock(entry, i));
  return function matchesAddress(address) {
    if (typeof address !== 'string') return false;
    const bytes = parseAddress(address);
    if (!bytes) return false;
    const mapped = bytes.length === 4 ? toMapped(bytes) : undefined;
    return blocks.some((b) => inBlock(bytes, b) || (mapped !== undefined && inBlock(mapped, b)));
  };
}

/** Certificates a client presented, DER, peer first; untrusted until validated. */
export interface PresentedChain {
  readonly peer: Uint8Array;
  readonly chain: readonly Uint8Array[];
}

/**
 * The certificate chain the client presented on the request's TLS connection, or undefined when the
 * connection is not TLS or the client sent no certificate. Reads, in order: the path
 * `@certified/node`'s `createMtlsServer` validated at the handshake (`c.env.peer`, or on the socket
 * under `VALIDATED_PATH`), then `socket.getPeerCertificate(true)` and
 * `socket.getPeerX509Certificate()` of a `node:tls` socket at `c.env.incoming.socket`
 * (`@hono/node-server` over `node:https`). Internal: the middleware validates what this returns.
 */
export function tlsChainOf(c: Context): PresentedChain | undefined {
  const env = attempt(() => c.env as unknown);
  const info = getConnInfo(c);
  const adapted =
    pathLike(attempt(() => (env as { peer?: unknown } | null)?.peer)) ??
    pathLike(info.tls?.validated);
  const [peer, ...chain] = adapted ?? info.tls?.presented() ?? [];
  return peer ? { peer, chain } : undefined;
}

// --- internal ---

/** Most certificates read from one connection: more than any sane chain, few enough to stay cheap. */
const MAX_CHAIN = 16;

/** The DER of a `ValidatedPath`-shaped value (from any copy of @certified/core), or undefined. */
function pathLike(x: unknown): Uint8Array[] | undefined {
  if (x === null || typeof x !== 'object') return undefined;
  const p = x as { ok?: unknown; path?: unknown };
  if (p.ok !== true || !Array.isArray(p.path) || p.path.length === 0) return undefined;
  const ders = (p.path as unknown[])
    .slice(0, MAX_CHAIN)
    .map((c) => (c as { der?: unknown } | null)?.der);
  return ders.every((d): d is Uint8Array => d instanceof Uint8Array) ? ders : undefined;
}

interface Block {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function isMapped(b: Uint8Array): boolean {
  return b.length === 16 && MAPPED_PREFIX.every((x, i) => b[i] === x);
}

function toMapped(v4: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(MAPPED_PREFIX);
  out.set(v4, 12);
  return out;
}

/** 4 or 16 bytes, IPv4-mapped IPv6 folded to IPv4; undefined when not an address. */
function parseAddress(text: string): Uint8Array | undefined {
  const bytes = ipToBytesOrUndefined(text);
  return bytes && isMapped(bytes) ? bytes.slice(12) : bytes;
}

function parseBlock(entry: unknown, i: number): Block {
  if (typeof entry !== 'string')
    throw new TypeError(`addresses[${i}] must be a string, received ${typeof entry}`);
  const slash = entry.indexOf('/');
  const addr = slash < 0 ? entry : entry.slice(0, slash);
  const raw = ipToBytesOrUndefined(addr);
  if (!raw)
    throw new RangeError(
      `addresses[${i}] must be an IP address or CIDR block (e.g. 10.0.0.0/8), received ${JSON.stringify(entry)}`,
    );
  let prefix = raw.length * 8;
  if (slash >= 0) {
    const p = entry.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > raw.length * 8)
      throw new RangeError(
        `addresses[${i}] has an invalid prefix length in ${JSON.stringify(entry)} (0–${raw.length * 8})`,
      );
    prefix = Number(p);
  }
  for (let bit = prefix; bit < raw.length * 8; bit++)
    if (raw[bit >> 3]! & (0x80 >> (bit & 7)))
      throw new RangeError(
        `addresses[${i}] ${JSON.stringify(entry)} has bits set past its /${prefix} prefix; write the network address`,
      );
  // ::ffff:a.b.c.d/104 is the IPv4 block a.b.c.d/8.
  if (isMapped(raw) && prefix >= 96) return { bytes: raw.slice(12), prefix: prefix - 96 };
  return { bytes: raw, prefix };
}

function ipToBytesOrUndefined(text: string): Uint8Array | undefined {
  try {
    return ipToBytes(text);
  } catch {
    return undefined;
  }
}

function inBlock(address: Uint8Array, block: Block): boolean {
  if (address.length !== block.bytes.length) return false;
  const full = block.prefix >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== block.bytes[i]) return false;
  const rest = block.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[full]! & mask) === (block.bytes[full]! & mask);
}
