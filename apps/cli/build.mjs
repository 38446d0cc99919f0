// Bundles the bins into ES modules (an entry per bin, chunks shared) that run as `node FILE`,
// `deno run -A FILE` and `bun FILE`: workspace packages and npm dependencies are inlined, Node builtins stay `node:` imports.
// Each file is written to a temp name and renamed, so a test building concurrently never reads half a file.
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

// No createRequire banner: importing node:module costs Deno ~6–30 ms at every start, and nothing
// bundled needs require() once yaml comes from its ES module build (its CommonJS build, which Node's
// export condition picks, calls require('process')). A require() that slips back in fails the build.
const yamlEsm = fileURLToPath(
  new URL('browser/index.js', import.meta.resolve('yaml/package.json')),
);

await mkdir('dist/chunks', { recursive: true });
// One build with code splitting: each command is a dynamic import (src/main.ts), so a command loads
// only its own chunk and what it shares with others; `certified show` never parses the TLS server.
const result = await esbuild.build({
  entryPoints: { certified: 'src/bin/certified.ts', message: 'src/bin/message.ts' },
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'es2022',
  conditions: ['@certified/source'],
  alias: { yaml: yamlEsm },
  // The CA's stores load at run time from node_modules: PGlite finds its WebAssembly next to its own
  // module, and pg is CommonJS; both are dependencies, and only `certified ca` imports them.
  external: ['@electric-sql/pglite', 'pg'],
  legalComments: 'none',
  // Less to parse at every start; names kept so error classes and -v stack traces still read.
  minify: true,
  keepNames: true,
  logLevel: 'warning',
  write: false,
});
for (const file of result.outputFiles)
  if (file.text.includes('Dynamic require of'))
    throw new Error(
      `build: ${basename(file.path)} calls require(); bundle that dependency's ES module build`,
    );
// On Node 20, importing node:process builds its ES module facade, which reads every property of
// `process`: it opens stdin, stdout and stderr and loads `net`, ~8 ms at every start. Code uses the
// global instead (Node, Deno 2 and Bun all have it); packages/node's config-dir.test.ts shows the cost.
for (const file of result.outputFiles)
  if (/from\s*["']node:process["']/.test(file.text))
    throw new Error(
      `build: ${basename(file.path)} imports node:process; use the global \`process\``,
    );
// Chunks first, then the entries that import them, each renamed into place whole.
const outputs = [...result.outputFiles].sort(
  (a, b) => Number(a.path.includes('/chunks/')) * -1 + Number(b.path.includes('/chunks/')),
);
for (const file of outputs) {
  const tmp = `${file.path}.${process.pid}.tmp`;
  await writeFile(tmp, file.contents, { mode: 0o755 });
  await rename(tmp, file.path);
}
// Chunks no entry refers to any more (an earlier build's) are removed.
const current = new Set(outputs.map((f) => basename(f.path)));
for (const name of await readdir('dist/chunks'))
  if (!current.has(name) && !name.endsWith('.tmp'))
    await rm(join('dist/chunks', name), { force: true });
