/**
 * @module bench/thread-cpu.test — the chain bench's CPU accounting puts work on the thread that did
 * it: a busy loop here lands on the main thread, hashing on the thread pool lands on the others.
 */
import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cpuMark, cpuSince } from './thread-cpu.js';

const proc = process.platform === 'linux';

describe.skipIf(!proc)('thread-cpu (Linux /proc)', () => {
  it('counts a busy loop on this thread as main-thread CPU', () => {
    const mark = cpuMark();
    const until = performance.now() + 300;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const cpu = cpuSince(mark, 1)!;
    expect(x).toBeGreaterThan(0);
    expect(cpu.main).toBeGreaterThan(200_000); // µs of the ~300 ms loop, at 10 ms per tick
    expect(cpu.others).toBeLessThan(cpu.main / 4);
  });

  it('counts thread-pool work as other threads’ CPU', async () => {
    const mark = cpuMark();
    // Four key derivations run on the pool while this thread waits.
    await Promise.all(
      Array.from({ length: 4 }, () => promisify(pbkdf2)('pw', 'salt', 400_000, 32, 'sha256')),
    );
    const cpu = cpuSince(mark, 1)!;
    expect(cpu.others).toBeGreaterThan(100_000);
    expect(cpu.main).toBeLessThan(cpu.others / 4);
  });
});
