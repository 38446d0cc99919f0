// Bundles each bin into one self-contained ES module that runs as `node FILE`, `deno run -A FILE` and
// `bun FILE`: workspace packages and npm dependencies are inlined, Node builtins stay `node:` imports.
// Each file is written to a temp name and renamed, so a test building concurrently never reads half a file.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as esbuild from 'esbuild';

const banner = [
  // CommonJS dependencies inside the bundle may call require() for builtins.
  "import { createRequire as __certifiedRequire } from 'node:module';",
  'const require = __certifiedRequire(import.meta.url);',
].join('\n');

await mkdir('dist', { recursive: true });
for (const name of ['certified', 'message']) {
  const outfile = `dist/${name}.mjs`;
  const result = await esbuild.build({
    entryPoints: [`src/bin/${name}.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    conditions: ['@certified/source'],
    banner: { js: banner },
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  const tmp = `${outfile}.${process.pid}.tmp`;
  await writeFile(tmp, result.outputFiles[0].contents, { mode: 0o755 });
  await rename(tmp, outfile);
}
