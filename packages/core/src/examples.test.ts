import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('README example', () => {
  it('runs and prints a certificate openssl can read', () => {
    const script = fileURLToPath(new URL('../examples/issue-from-csr.mjs', import.meta.url));
    // The example imports '@certified/core' by name, as a user would; the source condition avoids needing dist.
    const out = execFileSync(
      process.execPath,
      ['--conditions=@certified/source', '--import', 'tsx', script],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toContain('End-entity certificate');
    expect(out).toContain('DNS:notes.example.org');
    expect(out).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('validates a chain, refuses a wrong host name, and accepts a pinned peer', () => {
    const script = fileURLToPath(new URL('../examples/validate-chain.mjs', import.meta.url));
    const out = execFileSync(
      process.execPath,
      ['--conditions=@certified/source', '--import', 'tsx', script],
      { encoding: 'utf8' },
    );
    expect(out).toContain(
      'trusted: OU=Notes API,O=Example Org <- OU=Services CA,O=Example Org <- ',
    );
    expect(out).toContain('refused: ERR_CHAIN_PEER_NAME');
    expect(out).toContain('pinned peer: Alice');
  });
});
