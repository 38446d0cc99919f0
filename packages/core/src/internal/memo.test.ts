import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  createSelfSignedCa,
  decodeCertificate,
  generateKeyPair,
  organizationName,
} from '../index.js';
import { factsOf } from '../chain/facts.js';
import { memoOf, withMemo } from './memo.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (o?: { type: 'minor' | 'major' }) => void;
const oldSpace = (): number =>
  getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

/** Old-space growth after `n` short-lived objects each get a ~1 KB memo by `remember`. */
function promotedBy(remember: (o: object, i: number) => void, n = 200_000): number {
  gc();
  const before = oldSpace();
  for (let i = 0; i < n; i++) remember({ i }, i);
  gc({ type: 'minor' });
  gc({ type: 'minor' });
  return oldSpace() - before;
}
const payload = (i: number): number[] => new Array<number>(128).fill(i + 0.5);

describe('memo slot', () => {
  it('keeps a memo per object, on frozen objects too, and falls back for objects made elsewhere', () => {
    const fallback = new WeakMap<object, { n: number }>();
    const ours = Object.freeze(withMemo({ a: 1 }));
    const first = memoOf(ours, fallback, () => ({ n: 1 }));
    expect(memoOf(ours, fallback, () => ({ n: 2 }))).toBe(first);
    expect(fallback.has(ours)).toBe(false);
    const theirs = { a: 1 };
    const other = memoOf(theirs, fallback, () => ({ n: 3 }));
    expect(memoOf(theirs, fallback, () => ({ n: 4 }))).toBe(other);
    expect(fallback.get(theirs)).toBe(other);
  });

  it('is invisible: no property, key or symbol on the object, and copies do not share it', async () => {
    const ca = await createSelfSignedCa({
      subject: organizationName({ organization: 'Memo', unit: 'CA' }),
      keyPair: await generateKeyPair({ algorithm: 'P-256' }),
    });
    const cert = Object.freeze(decodeCertificate(ca.der));
    const facts = factsOf(cert);
    facts.subjectKey = 'remembered';
    expect(factsOf(cert)).toBe(facts);
    // The parser gives certificates and their public keys a slot: nothing lands in a fallback.
    const fallback = new WeakMap<object, object>();
    for (const o of [decodeCertificate(ca.der), cert.publicKey]) {
      memoOf(o, fallback, () => ({}));
      expect(fallback.has(o)).toBe(false);
    }
    expect(Reflect.ownKeys(cert)).toEqual(Reflect.ownKeys(decodeCertificate(ca.der)));
    expect(Object.getOwnPropertySymbols(cert)).toEqual([]);
    // A caller's copy is another object: it starts with no facts, and cannot reach the original's.
    const copy = { ...cert };
    expect(factsOf(copy)).not.toBe(facts);
    expect(factsOf(copy).subjectKey).toBeUndefined();
    expect(structuredClone(cert).der).toEqual(cert.der);
  });

  // Why the slot exists: on V8, a WeakMap that is itself old keeps its values alive through
  // young-generation collections, so memos of short-lived objects were promoted to the old
  // generation (and a CryptoKey among them was freed only by a full collection). If this first
  // expectation ever fails, V8 has changed and the slot's reason should be looked at again.
  it.runIf(typeof process !== 'undefined' && !!process.versions?.v8)(
    'lets a short-lived object’s memo die young, where a WeakMap promotes it',
    () => {
      const table = new WeakMap<object, number[]>();
      gc(); // the table is old, as a module-level cache is
      const byWeakMap = promotedBy((o, i) => table.set(o, payload(i)));
      const unused = new WeakMap<object, number[]>();
      const bySlot = promotedBy((o, i) => memoOf(withMemo(o), unused, () => payload(i)));
      expect(byWeakMap).toBeGreaterThan(4_000_000);
      expect(bySlot).toBeLessThan(byWeakMap / 10);
    },
  );
});
