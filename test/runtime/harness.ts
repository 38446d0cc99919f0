/**
 * @module test/runtime/harness — runs a suite sequentially and reports one line per case plus the
 * closing `N passed, N failed[, N skipped]` line. No runtime globals: `log` is passed in.
 */
import type { SuiteCase } from './suite.js';

/** Outcome of one case. */
export interface CaseResult {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  ms: number;
  /** Failure message or skip reason. */
  detail?: string;
}

/** Totals for a suite run, plus per-case results. */
export interface SuiteResult {
  passed: number;
  failed: number;
  skipped: number;
  results: CaseResult[];
}

/**
 * Runs every case in order (never in parallel, so logs stay readable) and never throws.
 * @param suite the cases to run
 * @param log receives each output line (e.g. `console.log`)
 * @returns the totals; callers decide the exit code (`failed > 0` is a failure)
 * @example
 * const { failed } = await runSuite(suite, console.log);
 */
export async function runSuite(
  suite: readonly SuiteCase[],
  log: (line: string) => void,
): Promise<SuiteResult> {
  const results: CaseResult[] = [];
  for (const testCase of suite) {
    const started = Date.now();
    let result: CaseResult;
    try {
      await testCase.run();
      result = { name: testCase.name, status: 'passed', ms: Date.now() - started };
    } catch (error) {
      const ms = Date.now() - started;
      result =
        error instanceof Error && error.name === 'CaseSkipped'
          ? { name: testCase.name, status: 'skipped', ms, detail: error.message }
          : { name: testCase.name, status: 'failed', ms, detail: describe(error) };
    }
    results.push(result);
    log(formatCase(result));
  }
  const count = (status: CaseResult['status']): number =>
    results.filter((r) => r.status === status).length;
  const summary = {
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    results,
  };
  log(formatSummary(summary));
  return summary;
}

/** `N passed, N failed` with `, N skipped` only when something was skipped. */
export function formatSummary({ passed, failed, skipped }: Omit<SuiteResult, 'results'>): string {
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

// --- internal ---

function formatCase({ name, status, ms, detail }: CaseResult): string {
  const mark = status === 'passed' ? 'ok  ' : status === 'failed' ? 'FAIL' : 'skip';
  return `${mark} ${name} (${ms} ms)${detail === undefined ? '' : ` — ${detail}`}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause === undefined ? '' : ` (cause: ${describe(error.cause)})`;
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}
