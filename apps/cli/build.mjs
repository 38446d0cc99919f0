// Bundles each bin into one self-contained ES module that runs as `node FILE`, `deno run -A FILE` and
// `bun FILE`: workspace packages and npm dependencies are inlined, Node builtins stay `node:` imports.
import { chmod } from 'node:fs/promises';
import * as esbuild from 'esbuild';

const banner = [
  // CommonJS dependencies inside the bundle may call require() for builtins.
  "import { createRequire as __certifiedRequire } from 'node:module';",
  'const require = __certifiedRequire(import.meta.url);',
].join('\n');

for (const name of ['certified', 'message']) {
  const outfile = `dist/${name}.mjs`;
  await esbuild.build({
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
  });
  await chmod(outfile, 0o755);
}
