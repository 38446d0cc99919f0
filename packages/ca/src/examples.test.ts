import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('issues for an allowed name and refuses another, both audited', () => {
    const script = fileURLToPath(new URL('../examples/sign.mjs', import.meta.url));
    const out = execFileSync(
      process.execPath,
      ['--conditions=@certified/source', '--import', 'tsx', script],
      { encoding: 'utf8' },
    );
    expect(out).toContain('issued: 200, SANs web.example.com');
    expect(out).toContain("code: 'ERR_CA_VALIDATION_FAILED'");
    expect(out).toContain("validator: 'common_name'");
    expect(out).toMatch(/audit: refused CN=web.example.net ERR_CA_VALIDATION_FAILED/);
    expect(out).toMatch(/audit: issued CN=web.example.com [0-9a-f]{32}/);
  }, 60_000);
});
