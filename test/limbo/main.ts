/**
 * CLI of the x509-limbo harness (`npm run limbo -- <limbo.json> [--profile webpki|rfc5280] [--verbose]`).
 * Prints failures (and with --verbose every case) on stderr and the summary JSON as the last stdout line.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runLimbo } from './limbo.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    profile: { type: 'string', default: 'webpki' },
    verbose: { type: 'boolean', default: false },
  },
});
const file = positionals[0];
const profile = values.profile;
if (!file || positionals.length > 1 || (profile !== 'webpki' && profile !== 'rfc5280')) {
  console.error('usage: npm run limbo -- <limbo.json> [--profile webpki|rfc5280] [--verbose]');
  process.exit(2);
}
let limbo: unknown;
try {
  limbo = JSON.parse(await readFile(file, 'utf8'));
} catch (e) {
  console.error(`limbo: cannot read ${file}: ${(e as Error).message}`);
  process.exit(2);
}
let summary: Awaited<ReturnType<typeof runLimbo>>;
try {
  summary = await runLimbo(limbo, profile, (r) => {
    if (values.verbose || r.outcome === 'falseAccept' || r.outcome === 'falseReject')
      console.error(
        `${r.outcome.padEnd(11)} ${r.id}${r.features.length ? ` [${r.features.join(',')}]` : ''}${r.detail ? `  ${r.detail}` : ''}`,
      );
  });
} catch (e) {
  console.error(`limbo: ${file}: ${(e as Error).message}`);
  process.exit(2);
}
console.error(
  `profile ${profile}: ${summary.passed}/${summary.total} passed, ${summary.failed} failed (${summary.falseAccepts.length} false accepts, ${summary.falseRejects.length} false rejects), ${summary.skipped} skipped`,
);
console.log(JSON.stringify(summary));
