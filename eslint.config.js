// @ts-check
/**
 * @module eslint.config — flat config for the whole monorepo (typescript-eslint recommended, not
 * type-aware so `npm run lint` stays fast), plus the purity rules for the runtime-neutral code:
 * `@certified/core`, `identity`, `web`, `hono`, `access-log`, and `ca` but its Node adapter
 * (`src/node/`) and its node-postgres store.
 */
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Every Node builtin, bare (`fs`, `fs/promises`) and prefixed (`node:*` is caught by the pattern).
const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

// Runtime-specific globals neutral code must never touch: capabilities come in through ports.
const forbiddenGlobals = [
  'process',
  'Buffer',
  'Deno',
  'Bun',
  'require',
  '__dirname',
  '__filename',
  'module',
  'global',
];

// @certified/testing is private: published code that imported it would not install.
const testingMessage = '@certified/testing is for tests only; published src must not import it.';
const testingOnly = {
  group: ['@certified/testing', '@certified/testing/*'],
  message: testingMessage,
};
const pureMessage =
  'This code must stay runtime-neutral (WebCrypto and the web platform only): take the capability as a parameter, or move it to a runtime adapter.';
// @certified/ca's adapters that may use Node: the server and files (`/node`), the node-postgres store.
const caNodeAdapters = ['packages/ca/src/node/**/*.ts', 'packages/ca/src/store/postgres.ts'];

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.turbo/**',
      '**/coverage/**',
      'test/runtime/.build/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}', 'scripts/**', 'test/runtime/**', '*.config.{js,ts}'],
    languageOptions: {
      // Node scripts and configs (no `globals` package dependency for a handful of names).
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'URL',
          'URLSearchParams',
          'setTimeout',
          'clearTimeout',
          'fetch',
          'AbortSignal',
          'performance',
          'TextEncoder',
          'TextDecoder',
          'Response',
          'Request',
          'crypto',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: [
      'packages/core/src/**/*.ts',
      'packages/identity/src/**/*.ts',
      'packages/web/src/**/*.ts',
      'packages/ca/src/**/*.ts',
      'packages/hono/src/**/*.ts',
      'packages/access-log/src/**/*.ts',
      // The PWA runs in a browser: held to the same rules (its README).
      'apps/pwa/src/**/*.{ts,tsx}',
    ],
    ignores: [
      'packages/*/src/**/*.test.ts',
      'packages/*/src/**/*.test-d.ts',
      'apps/pwa/src/**/*.test.{ts,tsx}',
      ...caNodeAdapters,
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: pureMessage })),
            // Arrows point down: neutral packages never import the runtime adapters above them
            // (exact names: the access log reads connection info from `@certified/hono/conninfo`).
            ...['@certified/node', '@certified/hono', '@hono/node-server'].map((name) => ({
              name,
              message: pureMessage,
            })),
          ],
          patterns: [
            { group: ['node:*', '@certified/node/*', '@certified/ca/node'], message: pureMessage },
            testingOnly,
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...forbiddenGlobals.map((name) => ({ name, message: pureMessage })),
      ],
      'no-restricted-properties': [
        'error',
        ...forbiddenGlobals.flatMap((property) =>
          ['globalThis', 'self', 'window'].map((object) => ({
            object,
            property,
            message: pureMessage,
          })),
        ),
      ],
    },
  },
  {
    files: [...caNodeAdapters, 'apps/cli/src/**/*.ts', 'apps/ca-server/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [testingOnly],
        },
      ],
    },
  },
  {
    // The demo drives the built CLI as a user would (its README): no library calls behind its back.
    files: ['apps/demo/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@certified/*'],
              message: 'apps/demo runs the built CLI as a separate process; it imports no package.',
            },
          ],
        },
      ],
    },
  },
  {
    // @certified/node serves any fetch handler: an app brings its own Hono (its README).
    files: ['packages/node/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            testingOnly,
            {
              group: ['hono', 'hono/*', '@certified/hono', '@certified/hono/*'],
              message: '@certified/node must not import hono: serve takes any fetch handler.',
            },
          ],
        },
      ],
    },
  },
);
