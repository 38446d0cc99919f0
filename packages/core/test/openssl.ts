/** Test helper: whether the real `openssl` binary is here. Missing: skip loudly, but fail under CI=true. */
import { execFileSync } from 'node:child_process';

export { execFileSync };

/** True when `openssl` runs; otherwise warns that `what` is skipped, or throws when CI=true. */
export function requireOpenssl(what: string): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`openssl is required in CI for ${what}`);
    console.warn(`\n!!! openssl not found: SKIPPING ${what} !!!\n`);
    return false;
  }
}
