import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createPathValidator, decodeCertificate } from '../index.js';
import { hasMemo } from '../internal/memo.js';
import { issueLeaves } from '../../test/leaves.js';
import { CertificatePool } from './certificate-pool.js';
import { factsOf } from './facts.js';
import { keptCertificate } from './keep.js';

const probe = fileURLToPath(new URL('../../test/pretenure-probe.ts', import.meta.url));

/** Paths of a validation's objects V8 allocated old, per test/pretenure-probe.ts. */
function oldObjects(mode: 'control' | 'validator'): string[] {
  const out = execFileSync(
    process.execPath,
    ['--allow-natives-syntax', '--max-semi-space-size=1', '--import', 'tsx', probe, mode],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 60_000 },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as string[];
}

describe('what a validator keeps', () => {
  it('is a copy: equal, byte views and dates shared, memo slots kept, facts apart', async () => {
    const { leaves } = await issueLeaves(1);
    const decoded = decodeCertificate(leaves[0]!.slice());
    const kept = keptCertificate(decoded);
    expect(kept).toStrictEqual(decoded);
    expect(Object.keys(kept)).toEqual(Object.keys(decoded));
    expect(kept).not.toBe(decoded);
    expect(kept.extensions).not.toBe(decoded.extensions);
    expect(kept.subject[0]).not.toBe(decoded.subject[0]);
    expect(kept.der).toBe(decoded.der);
    expect(kept.notAfter).toBe(decoded.notAfter);
    expect(Object.getPrototypeOf(kept)).toBe(Object.prototype);
    // Slots for the facts and the imported keys: WeakMaps would keep them alive (internal/memo.ts).
    expect(kept.publicKey).not.toBe(decoded.publicKey);
    expect(hasMemo(kept.publicKey) && hasMemo(kept)).toBe(true);
    factsOf(decoded).subjectKey = 'decoded';
    expect(factsOf(kept).subjectKey).toBeUndefined();
    expect(factsOf(kept)).toBe(factsOf(kept));
  });

  it('the pool keeps certificates frozen and equal to a parse, copies or not', async () => {
    const { leaves } = await issueLeaves(12);
    const pool = new CertificatePool(20);
    // The first few are kept as parsed (a one-call validator copies nothing), the rest copied.
    for (const leaf of leaves) {
      const kept = pool.get(leaf, true);
      expect(Object.isFrozen(kept) && Object.isFrozen(kept.extensions)).toBe(true);
      expect(kept).toStrictEqual(decodeCertificate(leaf));
      expect(pool.get(leaf.slice())).toBe(kept);
    }
  });

  it('a cached answer is made of its own objects, equal to the first answer', async () => {
    const { anchor, intermediate, leaves } = await issueLeaves(1);
    const v = createPathValidator({ anchors: [anchor] });
    const input = { peer: leaves[0]!, chain: [intermediate], purpose: 'clientAuth' as const };
    const first = await v.validate(input);
    const again = await v.validate(input);
    if (!first.ok || !again.ok) throw new Error('expected both to validate');
    expect(again.cached).toBe(true);
    expect(again.path).not.toBe(first.path);
    expect(again.path).toEqual(first.path);
    expect(again.peer).not.toBe(first.peer);
    expect(again.peer).toStrictEqual(first.peer);
    expect(Object.isFrozen(again.peer.altNames)).toBe(true);
  });

  // V8 pretenures an allocation site whose objects mostly survive (keep.ts). The control shows the
  // probe's conditions do trigger it: certificates a caller keeps make later parses old.
  it('V8 pretenures the parser when its certificates are kept (control)', () => {
    expect(oldObjects('control')).not.toEqual([]);
  }, 60_000);

  it('a new peer once the cache is full is allocated young, parse, facts and result', () => {
    expect(oldObjects('validator')).toEqual([]);
  }, 60_000);
});
