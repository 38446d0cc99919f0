/** @module net — loopback helpers for tests that start real servers. */
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (free when asked: bind it soon). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
