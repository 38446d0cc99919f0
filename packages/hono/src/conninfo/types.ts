/**
 * @module conninfo/types — what a runtime says about a request's connection, in the shape of Hono's
 * own `ConnInfo` (`hono/conninfo`), plus the TLS facts certified needs. Read duck-typed from each
 * runtime's objects, never imported, so every adapter runs anywhere.
 */
import type { Context } from 'hono';

/** The TCP peer and, on a TLS connection, what it negotiated and presented. */
export interface CertifiedConnInfo {
  readonly remote: {
    /** The address that connected to us (a proxy's, for a proxied request). */
    readonly address?: string;
    readonly port?: number;
    readonly addressType?: 'IPv4' | 'IPv6' | 'unknown';
    readonly transport?: 'tcp';
  };
  /** `1.1` or `2.0`, when the runtime says (Node's `IncomingMessage.httpVersion`). */
  readonly httpVersion?: string;
  /** Present on a TLS connection the runtime lets us read. */
  readonly tls?: {
    /** e.g. `TLSv1.3`. */
    readonly protocol?: string;
    /** e.g. `TLS_AES_256_GCM_SHA384`. */
    readonly cipher?: string;
    /**
     * The path `@certified/node`'s listener validated at the handshake (`ValidatedPath`-shaped), or
     * undefined when the connection was not admitted by it.
     */
    readonly validated?: object;
    /** The certificates the client presented, DER, peer first; untrusted until validated. */
    presented(): Uint8Array[];
  };
}

/** A runtime's reader: Hono's `getConnInfo(c)` shape. */
export type GetConnInfo = (c: Context) => CertifiedConnInfo;

/** Calls `f`, or undefined when a getter on a foreign object throws. */
export function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** The address family of an address text. */
export function addressTypeOf(address: string): 'IPv4' | 'IPv6' | 'unknown' {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return 'IPv4';
  return address.includes(':') ? 'IPv6' : 'unknown';
}

/** `remote` from an address and port that may be anything. */
export function remoteOf(address: unknown, port: unknown): CertifiedConnInfo['remote'] {
  if (typeof address !== 'string' || address === '') return {};
  return {
    address,
    addressType: addressTypeOf(address),
    transport: 'tcp',
    ...(typeof port === 'number' ? { port } : {}),
  };
}
