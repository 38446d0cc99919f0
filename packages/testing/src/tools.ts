/**
 * @module tools — whether the command-line tools a suite drives (curl, openssl, …) are installed: a
 * missing one is a loud skip on a developer machine, and a failure under `CI=true` (the suite runs
 * and fails where it needs the tool).
 */
import { spawnSync } from 'node:child_process';

/**
 * Warns about each tool in `tools` that does not run, and returns whether `suite` should be skipped
 * (some tool is missing and this is not CI).
 *
 * @example
 * const skip = skipWithout(['curl', 'openssl'], 'CRL integration tests');
 * describe.skipIf(skip)('…', () => {});
 */
export function skipWithout(tools: readonly string[], suite: string): boolean {
  const isCI = process.env['CI'] === 'true';
  const missing = tools.filter(
    (tool) =>
      spawnSync(tool, ['--version']).error !== undefined &&
      spawnSync(tool, ['version']).error !== undefined,
  );
  if (missing.length)
    console.warn(
      `SKIPPED ${suite}: ${missing.join(', ')} not installed${isCI ? ' (CI=true: failing instead)' : ''}`,
    );
  return missing.length > 0 && !isCI;
}
