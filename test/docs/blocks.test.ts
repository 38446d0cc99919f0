import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchesTranscript, readBlocks, valueImports } from './blocks.js';

describe('docs blocks', () => {
  it('sorts blocks by language, first-line excerpt and the marker before them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-blocks-'));
    const md = join(dir, 'x.md');
    writeFileSync(
      md,
      [
        '```sh\nls\n```',
        '<!-- docs-test: background until "up" -->\n\n```ts\nconsole.log("up")\n```',
        '```ts\n// Excerpt: see packages/core/examples/validate-chain.mjs\nx\n```',
        '```text\n$ certified show\nCN=…\n```',
        '```nginx\nserver {}\n```',
        '<!-- docs-test: run by .ci/run -->\n```sh\nnpm ci && npm test\n```',
        '<!-- docs-test: exits 1 -->\n```text\n$ certified show\ncertified: ERR_…\n```',
      ].join('\n\n'),
    );
    const blocks = readBlocks(md);
    rmSync(dir, { recursive: true });
    expect(blocks.map((b) => b.kind)).toEqual([
      'commands',
      'program',
      'excerpt',
      'transcript',
      'unmarked',
      'covered',
      'transcript',
    ]);
    expect(blocks[1]!.backgroundUntil).toBe('up');
    expect(blocks[2]!.excerptOf).toBe('packages/core/examples/validate-chain.mjs');
    expect(blocks[5]!.runBy).toEqual(['.ci/run']);
    expect(blocks[6]!.exits).toBe(1);
    expect(blocks[3]!.exits).toBeUndefined();
  });

  it('lists value imports, not type imports', () => {
    const src = `import { a, type B, c as d } from 'p';\nimport type { E } from 'q';\nimport * as g from 'r';`;
    expect(valueImports(src)).toEqual([{ from: 'p', names: ['a', 'c'] }]);
  });

  it('matches a transcript line by line, … standing for anything', () => {
    expect(
      matchesTranscript('Trusting CN=Bob, SHA-256 …', 'Trusting CN=Bob, SHA-256 3F:A1\n'),
    ).toBe(true);
    expect(matchesTranscript('Trusting CN=Bob, SHA-256 …', 'Trusting CN=Eve, SHA-256 3F\n')).toBe(
      false,
    );
    expect(matchesTranscript('a\nb', 'a\n')).toBe(false);
    expect(matchesTranscript('(x)', '(x)')).toBe(true);
  });
});
