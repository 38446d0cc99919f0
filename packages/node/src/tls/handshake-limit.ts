/**
 * @module tls/handshake-limit — connections we have not yet judged (in the TLS handshake, or
 * awaiting our validator), per client address. Two kinds of client cost the server without ever
 * being refused by name:
 * - one that opens connections and never finishes the handshake holds a file descriptor and
 *   ~40 KB of OpenSSL's buffers each, until each times out: one address could exhaust the
 *   process's descriptors and keep everyone out;
 * - one that sends a ClientHello and resets the connection once the server has answered (a
 *   signature and a key exchange): Node reports that failed handshake with no address, so the
 *   refusal limit could not count it.
 * Not exported from the package.
 *
 * Addresses are read only when needed: under pressure (`max` unjudged in all; below that no
 * address can have `max`), and for a while after a handshake failed with no address. Otherwise
 * no socket is asked for its address at accept (a native call).
 */
import { addressKey } from './refusal-limit.js';

/** A connection at accept, before TLS: all the limit reads of it. */
export interface AcceptedSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** Bytes the client sent: none means it never started a handshake (a TCP health check). */
  readonly bytesRead?: number;
  once(event: 'close', listener: () => void): unknown;
}

/** How long addresses are read after a handshake failed with no address (ms). */
export const FAILURE_WINDOW_MS = 60_000;

export class HandshakeLimit {
  readonly #max: number;
  readonly #abandoned: (address: string) => void;
  readonly #now: () => number;
  /** Connections accepted and not yet judged, whatever their address. */
  #unjudged = 0;
  /** Addresses are read until then (ms), or while under pressure. */
  #watchUntil = -Infinity;
  #pressure = false;
  /** Counted connections: unjudged ones per address key, and each connection's key and address. */
  readonly #perAddress = new Map<string, number>();
  readonly #connections = new Map<string, { key: string; address: string }>();
  readonly #reported = new Set<string>();

  /**
   * @param max - unjudged connections one address may have (IPv6 by /64).
   * @param abandoned - called with the address of a counted connection that closed unjudged after
   *   sending something (a handshake it abandoned, or one that failed): count it as a refusal.
   * @param now - the clock (ms); default `Date.now`.
   */
  constructor(
    max: number,
    abandoned: (address: string) => void = () => undefined,
    now: () => number = Date.now,
  ) {
    this.#max = max;
    this.#abandoned = abandoned;
    this.#now = now;
  }

  /**
   * A new connection: true to let it in, false to drop it (its address already has `max`
   * unjudged ones). Each connection let in must end in {@link judged} or {@link failed}.
   * Connections accepted before addresses were read are not attributed to any address, so one
   * address may reach up to twice `max`: still a bound.
   */
  accept(socket: AcceptedSocket): boolean {
    if (!this.watching) {
      if (this.#unjudged + 1 < this.#max) {
        this.#unjudged++;
        return true;
      }
      this.#pressure = true;
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
    this.#connections.set(connection, { key, address });
    // Closed before any verdict: a handshake that failed, timed out or was abandoned. One that
    // sent nothing is a TCP probe and costs nothing; one that sent a ClientHello made us answer.
    socket.once('close', () => {
      if (this.#release(connection) && (socket.bytesRead ?? 0) > 0) this.#abandoned(address);
    });
    return true;
  }

  /** A connection was judged (accepted or refused): it no longer counts. */
  judged(address: string | undefined, port: number | undefined): void {
    if (this.#connections.size > 0 && address !== undefined) this.#release(`${address}|${port}`);
    this.#settle();
  }

  /**
   * A connection's handshake failed. With its address, the caller counts the refusal; without
   * (Node and Deno forget it by then), addresses are read at accept for a while, so that the
   * next ones are counted when they close.
   */
  failed(address: string | undefined, port: number | undefined): void {
    if (address === undefined) this.#watchUntil = this.#now() + FAILURE_WINDOW_MS;
    else if (this.#connections.size > 0) this.#release(`${address}|${port}`);
    this.#settle();
  }

  /** Whether addresses are read at accept now. */
  get watching(): boolean {
    return this.#pressure || this.#now() < this.#watchUntil;
  }

  /** Whether `address` has `max` unjudged connections now (its next one would be dropped). */
  full(address: string): boolean {
    return (this.#perAddress.get(addressKey(address)) ?? 0) >= this.#max;
  }

  /** True the first time `address` is dropped while addresses are read: report it once. */
  firstDrop(address: string): boolean {
    const key = addressKey(address);
    if (this.#reported.has(key)) return false;
    this.#reported.add(key);
    return true;
  }

  #settle(): void {
    this.#unjudged = Math.max(0, this.#unjudged - 1);
    if (this.#pressure && this.#unjudged < this.#max / 2) this.#pressure = false;
    // Forget the counts once addresses are no longer read and every counted one is released.
    if (!this.watching && this.#connections.size === 0) {
      this.#perAddress.clear();
      this.#reported.clear();
    }
  }

  /** Stops counting a connection; true if it was counted until now. */
  #release(connection: string): boolean {
    const entry = this.#connections.get(connection);
    if (entry === undefined) return false;
    this.#connections.delete(connection);
    const n = (this.#perAddress.get(entry.key) ?? 1) - 1;
    if (n > 0) this.#perAddress.set(entry.key, n);
    else this.#perAddress.delete(entry.key);
    return true;
  }
}
