import { ipToBytes } from '@certified/core';
import { describe, expect, it } from 'vitest';
import { isIp } from './match.js';

describe('isIp', () => {
  it('answers as ipToBytes does (its quick refusal of DNS names changes no answer)', () => {
    const cases = [
      'host1.example.com',
      'example',
      '',
      '1.2.3.4',
      '01.2.3.4',
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.4%eth0',
      '[1.2.3.4]',
      '::1',
      '[::1]',
      'fe80::1%eth0',
      '2001:db8::1',
      '::ffff:1.2.3.4',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8:9',
      'a.b.c.d',
      '1.2.3.4 ',
      ' 1.2.3.4',
      '١.٢.٣.٤',
      '0.0.0.0',
      '999.999.999.999',
      'localhost',
      'xn--bcher-kva.example',
    ];
    const reference = (t: string): boolean => {
      try {
        ipToBytes(t);
        return true;
      } catch {
        return false;
      }
    };
    for (const t of cases) expect([t, isIp(t)]).toEqual([t, reference(t)]);
  });
});
