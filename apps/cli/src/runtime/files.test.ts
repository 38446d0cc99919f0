/**
 * @module runtime/files.test — reading what does not end: a device or a pipe is read only up to
 * STREAM_LIMIT, so `certified inspect /dev/zero` is an ERR_FILE_READ sentence, not a hang.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CliError } from '../cli.js';
import { readAtMost, STREAM_LIMIT } from './files.js';
import { nodeIo } from './node.js';

async function* chunks(n: number, size: number, read: { count: number }) {
  for (let i = 0; i < n; i++) {
    read.count++;
    yield new Uint8Array(size).fill(i);
  }
}

describe('readAtMost', () => {
  it('joins the chunks of a stream that ends', async () => {
    const read = { count: 0 };
    const out = await readAtMost(chunks(3, 4, read), 12);
    expect([...out]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('stops at the first chunk past the limit with EFBIG, reading no further', async () => {
    const read = { count: 0 };
    await expect(readAtMost(chunks(1_000, 4, read), 10)).rejects.toMatchObject({
      code: 'EFBIG',
    });
    expect(read.count).toBe(3);
  });
});

describe.skipIf(!existsSync('/dev/zero'))('the Node Io on a device that never ends', () => {
  it(
    'refuses /dev/zero with ERR_FILE_READ after STREAM_LIMIT bytes',
    { timeout: 30_000 },
    async () => {
      const e = await nodeIo()
        .readFile('/dev/zero')
        .then(
          () => undefined,
          (x: unknown) => x,
        );
      expect(e).toBeInstanceOf(CliError);
      expect(e).toMatchObject({
        code: 'ERR_FILE_READ',
        message: `Cannot read /dev/zero: it did not end within ${STREAM_LIMIT / 2 ** 20} MiB (a device or a pipe that keeps sending?).`,
      });
    },
  );
});
