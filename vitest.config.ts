/**
 * @module vitest.config — one Vitest run for the whole monorepo: a project per workspace package
 * under packages/* and apps/* plus the `test/` workspace (@certified/test). The `@certified/source` export
 * condition makes workspace imports (`@certified/core`) resolve to their TypeScript sources, so
 * tests never need a prior build.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Listed first so it wins over `default` → dist; the rest are Vite's default server conditions
// (vitest drops `module` for server environments too).
const conditions = ['@certified/source', 'node', 'development|production'];
const include = ['**/*.test.ts'];
const exclude = [...configDefaults.exclude, '**/dist/**', '**/node_modules/**', '**/.build/**'];

const rootDir = import.meta.dirname;

/** One project per package directory, named after its package.json `name`. */
function workspaceProject(dir: string): TestProjectInlineConfiguration {
  const manifest = JSON.parse(readFileSync(join(rootDir, dir, 'package.json'), 'utf8')) as {
    name: string;
  };
  return {
    extends: true,
    root: join(rootDir, dir),
    test: { name: manifest.name, include, exclude },
  };
}

const packageDirs = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(rootDir, group), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(rootDir, group, d.name, 'package.json')))
    .map((d) => `${group}/${d.name}`),
);

export default defineConfig({
  // `resolve` covers browser-like environments; Vitest runs node tests in Vite's SSR environment,
  // which reads only `ssr.resolve.conditions` — without it @certified/core resolves to dist.
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    passWithNoTests: false,
    projects: [...packageDirs, 'test'].map(workspaceProject),
  },
});
