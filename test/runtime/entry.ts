/**
 * @module test/runtime/entry — the one bundle every runtime loads (built by run-all.mjs).
 * Named export `run` for Node/Deno/Bun/Chromium drivers; the default export is a workerd
 * module worker whose fetch handler runs the suite and answers with the JSON results.
 */
import { runSuite, type SuiteResult } from './harness.js';
import { suite } from './suite.js';

/** Result as sent back to run-all.mjs: the totals plus the printed lines. */
export interface RunReport extends SuiteResult {
  lines: string[];
  userAgent: string;
}

/** Runs the suite, forwarding each line to `log` as well as collecting it. */
export async function run(log: (line: string) => void = () => {}): Promise<RunReport> {
  const lines: string[] = [];
  const result = await runSuite(suite, (line) => {
    lines.push(line);
    log(line);
  });
  return { ...result, lines, userAgent: describeRuntime() };
}

// Node 20 has no `navigator`; everything else here (Node 21+, Deno, Bun, browsers, workerd) does.
function describeRuntime(): string {
  const g = globalThis as {
    navigator?: { userAgent?: string };
    process?: { versions?: { node?: string } };
  };
  if (g.navigator?.userAgent) return g.navigator.userAgent;
  if (g.process?.versions?.node) return `Node.js/v${g.process.versions.node}`;
  return 'unknown runtime';
}

export default {
  async fetch(): Promise<Response> {
    const report = await run();
    return new Response(JSON.stringify(report), {
      headers: { 'content-type': 'application/json' },
    });
  },
};
