/**
 * @module tls/handshake-limit — how many connections one address may have that we have not yet
 * judged (in the TLS handshake, or awaiting our validator). A client that opens connections and
 * never finishes the handshake costs no refusal until each times out; meanwhile every one holds a
 * file descriptor and ~40 KB of OpenSSL's buffers, so one address could exhaust the process's
 * descriptors and keep everyone out. Not exported from the package.
 *
 * Addresses are read only under pressure: while fewer than `max` connections are unjudged in
 * all, no address can have `max`, and no socket is asked for its address (a native call).
 */
import { addressKey } from './refusal-limit.js';

/** A connection at accept, before TLS: all the limit reads of it. */
export interface AcceptedSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  once(event: 'close', listener: () => void): unknown;
}

export class HandshakeLimit {
  readonly #max: number;
  /** Connections accepted and not yet judged, whatever their address. */
  #unjudged = 0;
  /** While under pressure: unjudged connections per address key, and each connection's key. */
  #tracking = false;
  readonly #perAddress = new Map<string, number>();
  readonly #connections = new Map<string, string>();
  readonly #reported = new Set<string>();

  /** @param max - unjudged connections one address may have (IPv6 by /64). */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * A new connection: true to let it in, false to drop it (its address already has `max`
   * unjudged ones). Each connection let in must end in {@link judged} or {@link failed}.
   * Under pressure, connections accepted before it began are not attributed to any address, so
   * one address may reach up to twice `max`: still a bound.
   */
  accept(socket: AcceptedSocket): boolean {
    if (!this.#tracking) {
      if (this.#unjudged + 1 < this.#max) {
        this.#unjudged++;
        return true;
      }
      this.#tracking = true;
    }
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (address === undefined || port === undefined) {
      this.#unjudged++;
      return true; // nothing to count it under (the runtime does not say)
    }
    const key = addressKey(address);
    const n = this.#perAddress.get(key) ?? 0;
    if (n >= this.#max) return false;
    this.#unjudged++;
    this.#perAddress.set(key, n + 1);
    const connection = `${address}|${port}`;
    this.#connections.set(connection, key);
    // A connection that closes before its verdict (a handshake that failed or timed out) is
    // released here; judged() releases the others.
    socket.once('close', () => this.#release(connection));
    return true;
  }

  /** A connection was judged (accepted or refused): it no longer counts. */
  judged(address: string | undefined, port: number | undefined): void {
    if (this.#connections.size > 0 && address !== undefined) this.#release(`${address}|${port}`);
    this.#settle();
  }

  /** A connection failed before it could be judged (its handshake): it no longer counts. */
  failed(): void {
    this.#settle();
  }

  /** Whether addresses are being counted now (for tests). */
  get tracking(): boolean {
    return this.#tracking;
  }

  /** Whether `address` has `max` unjudged connections now (its next one would be dropped). */
  full(address: string): boolean {
    return (this.#perAddress.get(addressKey(address)) ?? 0) >= this.#max;
  }

  /** True the first time `address` is dropped while this pressure lasts: report it once. */
  firstDrop(address: string): boolean {
    const key = addressKey(address);
    if (this.#reported.has(key)) return false;
    this.#reported.add(key);
    return true;
  }

  #settle(): void {
    this.#unjudged = Math.max(0, this.#unjudged - 1);
    // Pressure is over once few are unjudged and every counted one is released.
    if (this.#tracking && this.#unjudged < this.#max / 2 && this.#connections.size === 0) {
      this.#tracking = false;
      this.#perAddress.clear();
      this.#reported.clear();
    }
  }

  #release(connection: string): void {
    const key = this.#connections.get(connection);
    if (key === undefined) return;
    this.#connections.delete(connection);
    const n = (this.#perAddress.get(key) ?? 1) - 1;
    if (n > 0) this.#perAddress.set(key, n);
    else this.#perAddress.delete(key);
  }
}
