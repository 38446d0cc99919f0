/**
 * @module tls/handshake-limit.test — connections not yet judged, per address: counted without
 * reading any address until there is pressure, then bounded per address, released by a verdict
 * or a close, and forgotten when the pressure is over.
 */
import { describe, expect, it } from 'vitest';
import { FAILURE_WINDOW_MS, HandshakeLimit, type AcceptedSocket } from './handshake-limit.js';

/** A socket at accept that counts reads of its address and can be closed. */
function socket(address: string, port: number, reads: { n: number }, bytesRead = 0) {
  let onClose: (() => void) | undefined;
  const s: AcceptedSocket & { close(): void } = {
    bytesRead,
    get remoteAddress() {
      reads.n++;
      return address;
    },
    get remotePort() {
      return port;
    },
    once(_event, listener) {
      onClose = listener;
      return s;
    },
    close: () => onClose?.(),
  };
  return s;
}

describe('HandshakeLimit', () => {
  it('reads no address while fewer than max connections are unjudged in all', () => {
    const limit = new HandshakeLimit(4);
    const reads = { n: 0 };
    for (let i = 0; i < 3; i++)
      expect(limit.accept(socket('192.0.2.1', 1000 + i, reads))).toBe(true);
    expect(reads.n).toBe(0);
    expect(limit.watching).toBe(false);
    for (let i = 0; i < 3; i++) limit.judged('192.0.2.1', 1000 + i);
    for (let i = 0; i < 3; i++)
      expect(limit.accept(socket('192.0.2.1', 2000 + i, reads))).toBe(true);
    expect(reads.n).toBe(0);
  });

  it('under pressure drops the connections of an address beyond max; other addresses get in', () => {
    const limit = new HandshakeLimit(4);
    const reads = { n: 0 };
    const ours = Array.from({ length: 11 }, (_, i) => socket('192.0.2.1', 1000 + i, reads));
    // 3 untracked, then 4 counted under the address: 7 in, the rest dropped.
    expect(ours.map((s) => limit.accept(s))).toEqual([
      ...Array(7).fill(true),
      ...Array(4).fill(false),
    ]);
    expect(limit.watching).toBe(true);
    expect(limit.full('192.0.2.1')).toBe(true);
    expect(limit.accept(socket('192.0.2.2', 1, reads))).toBe(true);
    // IPv6 by /64: two addresses in one /64 share a count.
    const v6 = ['2001:db8::1', '2001:db8::2', '2001:db8::3', '2001:db8::4', '2001:db8::5'];
    expect(v6.map((a) => limit.accept(socket(a, 1, reads)))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(limit.accept(socket('2001:db8:0:1::1', 1, reads))).toBe(true);
  });

  it('a verdict or a close releases a counted connection, once', () => {
    const limit = new HandshakeLimit(2);
    const reads = { n: 0 };
    limit.accept(socket('192.0.2.1', 1, reads)); // untracked
    const a = socket('192.0.2.1', 2, reads);
    const b = socket('192.0.2.1', 3, reads);
    expect([limit.accept(a), limit.accept(b)]).toEqual([true, true]);
    expect(limit.accept(socket('192.0.2.1', 4, reads))).toBe(false);
    limit.judged('192.0.2.1', 2);
    a.close(); // already released by its verdict: not released twice
    expect(limit.accept(socket('192.0.2.1', 5, reads))).toBe(true);
    expect(limit.accept(socket('192.0.2.1', 6, reads))).toBe(false);
    b.close(); // its handshake failed: the close releases it
    limit.failed(undefined, undefined);
    expect(limit.accept(socket('192.0.2.1', 7, reads))).toBe(true);
  });

  it('stops reading addresses once few are unjudged and every counted one is released', () => {
    const limit = new HandshakeLimit(4);
    const reads = { n: 0 };
    const all = Array.from({ length: 6 }, (_, i) => socket(`192.0.2.${i + 1}`, 1, reads));
    for (const s of all) limit.accept(s);
    expect(limit.watching).toBe(true);
    all.forEach((s, i) => limit.judged(`192.0.2.${i + 1}`, 1));
    expect(limit.watching).toBe(false);
    const before = reads.n;
    limit.accept(socket('192.0.2.9', 1, reads));
    expect(reads.n).toBe(before);
  });

  it('lets in, uncounted, a connection whose address the runtime does not report', () => {
    const limit = new HandshakeLimit(1);
    const anonymous: AcceptedSocket = {
      remoteAddress: undefined,
      remotePort: undefined,
      once: () => undefined,
    };
    expect([limit.accept(anonymous), limit.accept(anonymous), limit.accept(anonymous)]).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('after a handshake failed with no address, reads addresses and counts abandoned handshakes, for a while', () => {
    let now = 0;
    const abandoned: string[] = [];
    const limit = new HandshakeLimit(
      128,
      (a) => abandoned.push(a),
      () => now,
    );
    const reads = { n: 0 };
    limit.accept(socket('192.0.2.1', 1, reads));
    limit.failed(undefined, undefined); // Node forgot who it was
    expect(limit.watching).toBe(true);
    // The next connections are counted under their address when they close unjudged; one that
    // sent nothing (a TCP health check) is not a refusal.
    const hello = socket('192.0.2.1', 2, reads, 300);
    const probe = socket('192.0.2.2', 3, reads, 0);
    const admitted = socket('192.0.2.3', 4, reads, 300);
    for (const s of [hello, probe, admitted]) limit.accept(s);
    expect(reads.n).toBe(3);
    limit.judged('192.0.2.3', 4);
    for (const s of [hello, probe, admitted]) s.close();
    for (let i = 0; i < 3; i++) limit.failed(undefined, undefined);
    expect(abandoned).toEqual(['192.0.2.1']);
    // A failure whose address is known is the caller's to count, never counted twice.
    const known = socket('192.0.2.4', 5, reads, 300);
    limit.accept(known);
    limit.failed('192.0.2.4', 5);
    known.close();
    expect(abandoned).toEqual(['192.0.2.1']);
    now += FAILURE_WINDOW_MS;
    expect(limit.watching).toBe(false);
    const before = reads.n;
    limit.accept(socket('192.0.2.9', 1, reads));
    expect(reads.n).toBe(before);
  });
});
