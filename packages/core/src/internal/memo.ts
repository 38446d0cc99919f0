/**
 * @module internal/memo — one private memo slot on the objects our parsers make (certificates,
 * public keys), for what is worked out about them later (a validator's facts, an imported key).
 *
 * Not a WeakMap: V8's young-generation collector (Node 20) keeps the values of a WeakMap that is
 * itself old alive as long as it runs, whatever becomes of their keys. Every memo of a short-lived
 * certificate (a new peer's) was then copied into the old generation, and so was the CryptoKey
 * imported for a short-lived key, whose native handle is freed only by a full collection, ~6 µs
 * each (memo.test.ts shows the promotion). A private field dies with its object, and no caller can
 * reach it: a symbol-keyed property could be rewritten to forge what the validator remembers.
 */

/** Returns its argument from the constructor, so a subclass can add private fields to any object. */
class Host {
  constructor(o: object) {
    return o;
  }
}

let read: (o: object) => unknown;
let write: (o: object, v: unknown) => void;

class Slot extends Host {
  #memo: unknown = undefined;
  static {
    read = (o) => (#memo in o ? (o as Slot).#memo : MISSING);
    write = (o, v) => {
      (o as Slot).#memo = v;
    };
  }
}

const MISSING = Symbol('no memo slot');

/** Gives `o`, a new object of ours not yet frozen or shared, its memo slot; returns `o`. */
export function withMemo<T extends object>(o: T): T {
  new Slot(o);
  return o;
}

/** Whether `o` has a memo slot (was made by our parsers, or given one with {@link withMemo}). */
export const hasMemo = (o: object): boolean => read(o) !== MISSING;

/**
 * The memo of `o`, made by `make` on first use: in `o`'s slot, or for an object made elsewhere (a
 * caller's own, a lazy certificate) in `fallback`.
 */
export function memoOf<T>(o: object, fallback: WeakMap<object, T>, make: () => T): T {
  const v = read(o);
  if (v === MISSING) {
    let m = fallback.get(o);
    if (m === undefined) fallback.set(o, (m = make()));
    return m;
  }
  if (v !== undefined) return v as T;
  const m = make();
  write(o, m);
  return m;
}
