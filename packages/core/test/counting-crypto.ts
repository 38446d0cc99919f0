/**
 * Test helper: the platform's WebCrypto with its `subtle.verify` and `subtle.importKey` calls
 * counted — the work a validator's budget and caches must bound, asserted without wall time.
 */
export interface CountingCrypto {
  readonly crypto: Crypto;
  /** Calls so far, by method. */
  readonly calls: { verify: number; importKey: number };
  verifies(): number;
}

export function countingCrypto(): CountingCrypto {
  const real = globalThis.crypto.subtle;
  const calls = { verify: 0, importKey: 0 };
  const subtle = new Proxy(real, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      if (prop !== 'verify' && prop !== 'importKey') return f;
      return (...args: unknown[]) => {
        calls[prop]++;
        return f(...args);
      };
    },
  });
  return { crypto: { subtle } as unknown as Crypto, calls, verifies: () => calls.verify };
}
