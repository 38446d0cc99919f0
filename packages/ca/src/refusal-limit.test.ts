/**
 * A source that keeps being refused: its budget runs out, further requests are 429 before any work
 * (no key derivation, no audit row), other sources are still served, and the budget refills.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, SECRET, type TestCa } from '../test/fixture.js';
import { createRefusalLimiter } from './refusal-limit.js';
import { opensslCsr } from '@certified/testing/openssl-csr';

describe('createRefusalLimiter', () => {
  it('lets perMinute refusals through, then refills at perMinute per minute', () => {
    const l = createRefusalLimiter({ perMinute: 3 });
    expect([1, 2, 3].map(() => l.refused('a', 0))).toEqual([false, false, true]);
    expect(l.admit('a', 0)).toBe(false);
    expect(l.admit('b', 0)).toBe(true);
    expect(l.admit('a', 19_000)).toBe(false);
    expect(l.admit('a', 20_000)).toBe(true); // one token back after a third of a minute
  });

  it('forgets the oldest source past maxSources, and is off at 0 or without a source', () => {
    const l = createRefusalLimiter({ perMinute: 1, maxSources: 2 });
    for (const s of ['a', 'b', 'c']) l.refused(s, 0);
    expect(l.admit('a', 0)).toBe(true); // forgotten
    expect(l.admit('c', 0)).toBe(false);
    const off = createRefusalLimiter({ perMinute: 0 });
    off.refused('a', 0);
    expect(off.admit('a', 0)).toBe(true);
    expect(createRefusalLimiter({ perMinute: 1 }).refused(undefined, 0)).toBe(false);
  });
});

describe('the CA under a stream of refusals from one address', () => {
  let t: TestCa;
  let clock = new Date('2030-01-01T00:00:00Z');
  beforeAll(async () => {
    t = await createTestCa({ refusals_per_minute: 3 }, {}, () => clock);
  }, 60_000);
  afterAll(() => t.close());

  it('answers 429 once the budget is spent, records nothing more, serves others, and recovers', async () => {
    const wrong = { ra: 'default', csr: 'x', user: 'ops', secret: 'wrong' };
    const attacker = { remoteAddress: '192.0.2.7' };
    const codes = [];
    for (let i = 0; i < 6; i++) {
      const r = await t.post('/v1/certificates', wrong, attacker);
      codes.push(`${r.status} ${((await r.json()) as { code: string }).code}`);
    }
    expect(codes).toEqual([
      ...Array<string>(3).fill('401 ERR_CA_AUTH_FAILED'),
      ...Array<string>(3).fill('429 ERR_CA_RATE_LIMITED'),
    ]);
    const rows = (await t.ca.store.audit({ limit: 100 })).filter((r) => r.source === '192.0.2.7');
    expect(rows).toHaveLength(3);
    expect(rows[0]!.reason).toContain('more get 429s');
    // A body that would be refused for being malformed is not even read.
    const r = await t.post('/v1/certificates', '{not json', attacker);
    expect(r.status).toBe(429);
    expect(
      (await t.ca.store.audit({ limit: 100 })).filter((x) => x.source === '192.0.2.7'),
    ).toHaveLength(3);
    // Someone else is served; the attacker again after the budget refills.
    const csr = (await opensslCsr({ subject: '/CN=web.example.com' })).csrPem;
    const ok = { ra: 'default', csr, user: 'ops', secret: SECRET };
    expect((await t.post('/v1/certificates', ok, { remoteAddress: '127.0.0.1' })).status).toBe(201);
    clock = new Date(clock.getTime() + 20_000);
    expect((await t.post('/v1/certificates', ok, attacker)).status).toBe(201);
  });
});
