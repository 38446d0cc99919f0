/** Group commit: one statement for what arrives while another is in flight; failures reach every waiter. */
import { describe, expect, it } from 'vitest';
import { rejected } from '@certified/testing';
import { groupCommit } from './group-commit.js';

describe('groupCommit', () => {
  it('records of one turn share a statement; those arriving meanwhile share the next', async () => {
    const batches: number[] = [];
    const record = groupCommit<{ serial: string | null }>(async (rows) => {
      batches.push(rows.length);
      await new Promise((r) => setTimeout(r, 5));
      return new Set(rows.flatMap((r) => (r.serial ? [r.serial] : [])));
    });
    const first = Array.from({ length: 10 }, (_, i) => record({ serial: `s${i}` }));
    await new Promise((r) => setTimeout(r, 3)); // the first statement is in flight now
    const second = Array.from({ length: 3 }, (_, i) => record({ serial: `t${i}` }));
    expect(await Promise.all([...first, ...second])).toEqual(Array<boolean>(13).fill(true));
    expect(batches).toEqual([10, 3]);
  });

  it('caps a statement at maxBatch rows', async () => {
    const batches: number[] = [];
    const record = groupCommit<{ serial: string | null }>(async (rows) => {
      batches.push(rows.length);
      return new Set();
    }, 4);
    await Promise.all(Array.from({ length: 10 }, () => record({ serial: null })));
    expect(batches).toEqual([4, 4, 2]);
  });

  it('a failed statement fails each of its records, and the next statement still runs', async () => {
    let n = 0;
    const record = groupCommit<{ serial: string | null }>(async (rows) => {
      if (n++ === 0) throw new Error('disk full');
      return new Set(rows.map((r) => r.serial!));
    });
    const first = rejected(record({ serial: 'a' }));
    await new Promise((r) => setTimeout(r, 3));
    const second = record({ serial: 'b' });
    expect(((await first) as Error).message).toBe('disk full');
    expect(await second).toBe(true);
  });
});
