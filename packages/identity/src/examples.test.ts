import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('introduces Bob to Ada and validates the chain Bob presents against Ada', () => {
    const script = fileURLToPath(new URL('../examples/identities.mjs', import.meta.url));
    const out = execFileSync(
      process.execPath,
      ['--conditions=@certified/source', '--import', 'tsx', script],
      { encoding: 'utf8' },
    );
    expect(out).toContain('letter fields: signed_cert, ca_cert, services');
    expect(out).toContain(
      'wrote: id/P=Signing Certificate,CN=Ada Lovelace.crt, known_servers/notes.yaml',
    );
    expect(out).toMatch(/Bob presents id\/.*; Ada's service says: trusted/);
  });
});
