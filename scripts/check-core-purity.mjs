#!/usr/bin/env node
/**
 * @module check-core-purity — proves a package's code stays runtime-neutral (@certified/core by default;
 * also run on identity, web and ca's main entry, see the root package.json's `purity` script).
 *
 * 1. Scans packages/core/src (non-test files) for imports of Node builtins (`node:*`, `fs`, …) and
 *    for the runtime globals `process`, `Buffer`, `Deno`, `Bun`, `require`, `__dirname`,
 *    `__filename` — comments are ignored, string contents are ignored for the globals check.
 * 2. Bundles src/index.ts with esbuild `platform: 'neutral'`, where no builtin resolves, so any
 *    builtin pulled in through a dependency fails the bundle too.
 *
 * Usage: node scripts/check-core-purity.mjs [srcDir] [--skip PATH]...   (default packages/core/src)
 * `--skip` leaves a file or directory (relative to srcDir) out of the scan: a package whose main
 * entry is runtime-neutral but which ships runtime adapters as subpaths (`@certified/ca/node`).
 * The neutral bundle of srcDir/index.ts still fails if the main entry reaches a skipped adapter
 * that uses a builtin.
 * Exit codes: 0 pure, 1 violations found, 2 the check itself could not run.
 */
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
const skipped = [];
for (let i = args.indexOf('--skip'); i !== -1; i = args.indexOf('--skip')) {
  if (args[i + 1] === undefined) {
    console.error('check-core-purity: --skip needs a path (relative to the source directory)');
    process.exit(2);
  }
  skipped.push(args[i + 1]);
  args.splice(i, 2);
}
const srcDir = resolve(args[0] ?? join(repoRoot, 'packages/core/src'));
const skip = new Set(skipped.map((p) => resolve(srcDir, p)));
const entry = join(srcDir, 'index.ts');

const builtins = new Set(builtinModules.filter((name) => !name.startsWith('_')));
const forbiddenGlobals = ['process', 'Buffer', 'Deno', 'Bun', 'require', '__dirname', '__filename'];

const isTestFile = (name) => /\.test(-d)?\.[cm]?tsx?$/.test(name);
const isSourceFile = (name) => /\.[cm]?tsx?$/.test(name) && !name.endsWith('.d.ts');

/** @param {string} spec */
function isBuiltin(spec) {
  if (spec.startsWith('node:')) return true;
  return builtins.has(spec) || builtins.has(spec.split('/')[0]);
}

/** @param {string} dir @returns {Promise<string[]>} */
async function listSources(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (skip.has(path)) continue;
    if (entry.isDirectory()) out.push(...(await listSources(path)));
    else if (entry.isFile() && isSourceFile(entry.name) && !isTestFile(entry.name)) out.push(path);
  }
  return out.sort();
}

/**
 * Blanks comments (and, with `blankStrings`, string/template contents) while keeping every
 * newline, so offsets still map to the right line. A lexer-lite: regex literals are not
 * recognised, which only matters for a `/` + quote inside a regex — acceptable for a guard.
 * @param {string} text @param {boolean} blankStrings
 */
function mask(text, blankStrings) {
  let out = '';
  let i = 0;
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += blank(text.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += blank(text.slice(i, stop));
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') j++;
        else if (c !== '`' && text[j] === '\n') break;
        j++;
      }
      const body = text.slice(i + 1, j);
      out += c + (blankStrings ? blank(body) : body) + (j < text.length ? text[j] : '');
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const lineOf = (text, index) => text.slice(0, index).split('\n').length;

const importPatterns = [
  /\bfrom\s*(['"])([^'"\n]+)\1/g, // import … from 'x' / export … from 'x'
  /\bimport\s*(['"])([^'"\n]+)\1/g, // import 'x'
  /\bimport\s*\(\s*(['"])([^'"\n]+)\1/g, // import('x')
  /\brequire\s*\(\s*(['"])([^'"\n]+)\1/g, // require('x')
];
const globalNames = forbiddenGlobals.join('|');
const globalPatterns = [
  // bare identifier, not a property access (`x.process`) nor an object key / property name (`process:`)
  new RegExp(`(?<![\\w$.])(${globalNames})(?![\\w$])(?!\\s*\\??:)`, 'g'),
  new RegExp(`\\b(?:globalThis|self|window|global)\\s*(?:\\?\\.|\\.)\\s*(${globalNames})\\b`, 'g'),
  new RegExp(`\\b(?:globalThis|self|window|global)\\s*\\[\\s*(['"\`])(${globalNames})\\1`, 'g'),
];

/** @typedef {{ file: string, line: number, what: string }} Violation */

/** @param {string} file @returns {Promise<Violation[]>} */
async function scanFile(file) {
  const text = await readFile(file, 'utf8');
  const code = mask(text, false);
  const bare = mask(text, true);
  const rel = relative(repoRoot, file);
  /** @type {Violation[]} */
  const found = [];
  for (const re of importPatterns) {
    for (const m of code.matchAll(re)) {
      if (isBuiltin(m[2]))
        found.push({
          file: rel,
          line: lineOf(code, m.index),
          what: `imports Node builtin '${m[2]}'`,
        });
    }
  }
  const [identRe, dotRe, bracketRe] = globalPatterns;
  for (const m of bare.matchAll(identRe)) {
    found.push({ file: rel, line: lineOf(bare, m.index), what: `uses global '${m[1]}'` });
  }
  for (const m of bare.matchAll(dotRe)) {
    found.push({
      file: rel,
      line: lineOf(bare, m.index),
      what: `uses global '${m[1]}' via ${m[0].split(/\s*[.?[]/)[0]}`,
    });
  }
  // bracket access needs the string contents, so look in the comment-free text
  for (const m of code.matchAll(bracketRe)) {
    found.push({
      file: rel,
      line: lineOf(code, m.index),
      what: `uses global '${m[2]}' via bracket access`,
    });
  }
  return found;
}

/** @returns {Promise<string[]>} problems reported by the neutral bundle */
async function bundleNeutral() {
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      conditions: ['@certified/source'],
      mainFields: ['module', 'main'],
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    return inputs
      .filter((p) => p.startsWith('node:') || isBuiltin(p))
      .map((p) => `bundle pulls in '${p}'`);
  } catch (error) {
    const errors = /** @type {{ errors?: esbuild.Message[] }} */ (error).errors;
    if (!errors) throw error;
    return errors.map((e) => {
      const where = e.location ? `${e.location.file}:${e.location.line}: ` : '';
      return `bundle failed: ${where}${e.text}`;
    });
  }
}

const started = performance.now();
let files;
try {
  files = await listSources(srcDir);
} catch (error) {
  console.error(`check-core-purity: cannot read ${srcDir}: ${error.message}`);
  process.exit(2);
}
const violations = (await Promise.all(files.map(scanFile))).flat();
const bundleProblems = await bundleNeutral();
const ms = Math.round(performance.now() - started);

if (violations.length === 0 && bundleProblems.length === 0) {
  const left = skipped.length ? `, ${skipped.join(', ')} skipped` : '';
  console.log(
    `check-core-purity: ok — ${relative(repoRoot, srcDir)}: ${files.length} files scanned${left}, neutral bundle clean (${ms} ms)`,
  );
  process.exit(0);
}
console.error(`check-core-purity: ${relative(repoRoot, srcDir)} is not runtime-neutral (${ms} ms)`);
for (const v of violations) console.error(`  ${v.file}:${v.line}  ${v.what}`);
for (const p of bundleProblems) console.error(`  ${p}`);
console.error(
  `${violations.length + bundleProblems.length} problem(s). Runtime-neutral code may use only WebCrypto ` +
    'and web-platform globals: take runtime capabilities as parameters, or move them to an adapter.',
);
process.exit(1);
