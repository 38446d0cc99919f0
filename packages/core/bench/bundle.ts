/**
 * Bundle bench: what a validator-only import costs a bundle, minified by esbuild (ESM, neutral
 * platform, tree-shaken), for `@certified/core/chain` and for the same import from the package root.
 * Goal: ≤ 80 KB. Informs only: exits 0 whatever the size, non-zero when it cannot bundle.
 */
import * as esbuild from 'esbuild';

const GOAL = 80 * 1024;
const root = new URL('../../..', import.meta.url).pathname;

async function size(specifier: string): Promise<{ bytes: number; top: string }> {
  const r = await esbuild.build({
    stdin: {
      contents: `import { createPathValidator } from '${specifier}';\nexport { createPathValidator };`,
      resolveDir: root,
      loader: 'js',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['@certified/source'],
    write: false,
    metafile: true,
  });
  const inputs = Object.values(r.metafile.outputs)[0]!.inputs;
  const by: Record<string, number> = {};
  for (const [path, v] of Object.entries(inputs)) {
    const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? 'certified';
    by[dep] = (by[dep] ?? 0) + v.bytesInOutput;
  }
  const top = Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${(v / 1024).toFixed(1)} KB`)
    .join(', ');
  return { bytes: r.outputFiles[0]!.contents.byteLength, top };
}

console.log('@certified/core bundle bench — esbuild, minified ESM, validator-only import\n');
const summary: Record<string, number> = {};
for (const spec of ['@certified/core/chain', '@certified/core']) {
  const { bytes, top } = await size(spec);
  console.log(
    `${spec.padEnd(24)} ${(bytes / 1024).toFixed(1).padStart(7)} KB  ${(bytes / GOAL).toFixed(2)}× the 80 KB goal  (${top})`,
  );
  summary[spec] = bytes;
}
console.log(JSON.stringify({ bench: 'bundle', ...summary }));
