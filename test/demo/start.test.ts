import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('npm start demo', () => {
  it('makes identities, introduces one, and prints certificates openssl reads', () => {
    const main = fileURLToPath(new URL('../../apps/demo/src/main.mjs', import.meta.url));
    const out = execFileSync(
      process.execPath,
      ['--conditions=@certified/source', '--import', 'tsx', main],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toContain('All signatures verified.');
    expect(out).toContain('# service id as introduced by the person');
    const pems = out.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g) ?? [];
    expect(pems).toHaveLength(5);
    let openssl: string | undefined;
    try {
      openssl = execFileSync('openssl', ['x509', '-noout', '-subject'], {
        input: pems[4],
        encoding: 'utf8',
      });
    } catch (e) {
      if (process.env.CI === 'true') throw e;
      console.warn('SKIPPED openssl check: openssl is not installed');
    }
    if (openssl !== undefined) expect(openssl).toContain('OU = Notes API');
  });
});
