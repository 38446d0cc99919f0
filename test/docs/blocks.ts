/**
 * @module test/docs/blocks — reads the fenced code blocks of a Markdown file and sorts each into
 * what the docs test does with it. The rules (also in the root README, "Docs are tested"):
 *
 * - `sh`: commands, run line by line in the reader's directory. `npm i …` lines are checked (every
 *   package named resolves in this workspace) rather than run: nothing here is published yet.
 * - `ts` / `js`: a program, run with Node (through tsx) in the reader's directory.
 * - A block whose first line is a comment starting `Excerpt` (`// Excerpt …`, `# Excerpt …`) is
 *   visibly part of something bigger: it must name a file in this repository that exists, and
 *   the names it imports must exist in the packages it imports them from. It is not run.
 * - `text`, `json`: output a reader should expect. A `text` block whose first line is `$ cmd` is a
 *   transcript: what `cmd` printed when a block ran it (else `cmd` is run after the file's other
 *   blocks) must match, `…` standing for anything.
 * - Anything else (configuration for other programs: nginx, haproxy, yaml, logql) must be an excerpt.
 *
 * An HTML comment before a block (blank lines between are fine), `<!-- docs-test: background until "TEXT" -->`, starts the
 * block (a server) in the background and waits for TEXT on its output; it is stopped with SIGTERM
 * when the file is done. `<!-- docs-test: needs loki -->` names a server this machine cannot run:
 * the block is reported and skipped, never faked. `<!-- docs-test: run by FILE, FILE -->` says other
 * files run exactly these commands (the quick start: `.ci/run` is `npm ci && npm test`); they must exist.
 * `<!-- docs-test: exits N -->` before a transcript: its command must exit N (a refusal shown as such).
 */
import { readFileSync } from 'node:fs';

export type BlockKind =
  'commands' | 'program' | 'excerpt' | 'output' | 'transcript' | 'covered' | 'unmarked';

export interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  body: string;
  kind: BlockKind;
  /** From `<!-- docs-test: background until "TEXT" -->`. */
  backgroundUntil?: string;
  /** From `<!-- docs-test: needs NAME -->`. */
  needs?: string;
  /** For excerpts: the repository file the first line points to. */
  excerptOf?: string;
  /** From `<!-- docs-test: exits N -->`: the transcript's command exits N. */
  exits?: number;
  /** From `<!-- docs-test: run by FILE, FILE -->`. */
  runBy?: string[];
}

const EXCERPT = /^(?:\/\/|#)\s*Excerpt\b.*?\b((?:packages|apps|test)\/[\w./-]+\.[a-z]+)/i;
const MARKER = /^<!--\s*docs-test:\s*(.*?)\s*-->$/;

/** The blocks of one Markdown file, in order. */
export function readBlocks(file: string): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    let before = start - 1;
    while (before > 0 && lines[before]!.trim() === '') before--;
    const marker = MARKER.exec(lines[before]?.trim() ?? '')?.[1] ?? '';
    blocks.push(classify(start + 1, open[1]!, body.join('\n'), marker));
  }
  return blocks;
}

function classify(line: number, lang: string, body: string, marker: string): Block {
  const first = body.split('\n', 1)[0]!;
  const block: Block = { line, lang, body, kind: 'unmarked' };
  const until = /background until "([^"]+)"/.exec(marker)?.[1];
  if (until) block.backgroundUntil = until;
  const needs = /needs (\S+)/.exec(marker)?.[1];
  if (needs) block.needs = needs;
  const exits = /^exits (\d+)$/.exec(marker)?.[1];
  if (exits) block.exits = Number(exits);
  const runBy = /^run by (.+)$/.exec(marker)?.[1];
  if (runBy) return { ...block, kind: 'covered', runBy: runBy.split(/,\s*/) };
  const excerpt = EXCERPT.exec(first);
  if (excerpt) return { ...block, kind: 'excerpt', excerptOf: excerpt[1]! };
  if (lang === 'sh') return { ...block, kind: 'commands' };
  if (lang === 'ts' || lang === 'js') return { ...block, kind: 'program' };
  if (lang === 'text' && first.startsWith('$ ')) return { ...block, kind: 'transcript' };
  if (lang === 'text' || lang === 'json') return { ...block, kind: 'output' };
  return block;
}

/** `import { a, type B, c as d } from 'pkg'` → [{ from: 'pkg', names: ['a', 'c'] }] (values only). */
export function valueImports(source: string): { from: string; names: string[] }[] {
  const out: { from: string; names: string[] }[] = [];
  for (const m of source.matchAll(/import\s*(type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    if (m[1]) continue;
    const names = m[2]!
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && !s.startsWith('type '))
      .map((s) => s.split(/\s+as\s+/)[0]!);
    out.push({ from: m[3]!, names });
  }
  return out;
}

/**
 * Does `actual` read as `expected`, where `…` in `expected` stands for any text (within a line)?
 * Lines are compared in order; `expected` may leave out trailing lines of `actual`.
 */
export function matchesTranscript(expected: string, actual: string): boolean {
  const want = expected.split('\n');
  const got = actual.trimEnd().split('\n');
  if (got.length < want.length) return false;
  return want.every((w, i) => {
    const pattern = w
      .split('…')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return new RegExp(`^${pattern}$`).test(got[i]!.trimEnd());
  });
}
