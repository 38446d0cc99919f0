/** Test helpers: capture what a call throws, so tests can assert `code` first, then the message. */

/** The parts of a thrown error the tests assert on. */
export interface Thrown {
  code?: string;
  message: string;
  field?: string;
  reason?: string;
  name: string;
  cause?: unknown;
}

/** What `f()` throws; fails the test if it returns. */
export function thrown(f: () => unknown): Thrown {
  try {
    f();
  } catch (e) {
    return e as Thrown;
  }
  throw new Error('expected an exception');
}

/** What `p` rejects with; fails the test if it resolves. */
export async function rejected(p: Promise<unknown>): Promise<Thrown> {
  try {
    await p;
  } catch (e) {
    return e as Thrown;
  }
  throw new Error('expected a rejection');
}
