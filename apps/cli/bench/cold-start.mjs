#!/usr/bin/env node
// Cold-start benchmark of the bundled CLI: wall time of `certified show` against a prepared identity
// directory on Node, Deno and Bun, next to `certified --version` (runtime start + bundle load, the floor
// for any command) and the runtime's bare start (`node -e 0`, `deno eval 0`, `bun -e 0`). Each round runs
// the three commands back to back, so drift on a busy machine hits them alike.
//
//   node bench/cold-start.mjs [--runs 15] [--warmup 2] [--config DIR]   (npm run bench in apps/cli)
//
// Builds dist/ first when it is missing. A runtime that is not installed gets a loud SKIPPED row; a
// command that fails makes the script exit 1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const cliDir = resolve(import.meta.dirname, '..');
const repoRoot = resolve(cliDir, '../..');
const certified = join(cliDir, 'dist/certified.mjs');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '2' },
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: node bench/cold-start.mjs [--runs N] [--warmup N] [--config DIR]');
  process.exit(0);
}
const runs = Number(values.runs);
const warmup = Number(values.warmup);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmup) || warmup < 0) {
  console.error('cold-start: --runs must be an integer >= 1 and --warmup >= 0');
  process.exit(2);
}

/** How each runtime runs a file and starts bare; `bin` candidates are tried in order. */
const runtimes = [
  { name: 'node', bins: [process.execPath], file: [], bare: ['-e', '0'] },
  {
    name: 'deno',
    bins: [join(repoRoot, 'node_modules/.bin/deno'), 'deno'],
    file: ['run', '-A'],
    bare: ['eval', '0'],
  },
  {
    name: 'bun',
    bins: [join(repoRoot, 'node_modules/.bin/bun'), 'bun'],
    file: [],
    bare: ['-e', '0'],
  },
];

const env = { ...process.env, NO_COLOR: '1' };
delete env.CERTIFIED_CONFIG;
delete env.VIRTUAL_ENV;
// With this set, Node loads that CA file at every start (~40 ms here); turbo strips it from tasks'
// environments, so unset it for numbers that do not depend on how the bench was started.
delete env.NODE_EXTRA_CA_CERTS;

function exec(bin, args) {
  return spawnSync(bin, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The first candidate binary whose `--version` works, with that version. */
function locate(bins) {
  for (const bin of bins) {
    if (bin.includes('/') && !existsSync(bin)) continue;
    const r = exec(bin, ['--version']);
    if (r.status === 0)
      return { bin, version: /\d+\.\d+\.\d+\S*/.exec(r.stdout)?.[0] ?? r.stdout.trim() };
  }
  return undefined;
}

/** Runs a command once; returns wall milliseconds, or throws with its output when it fails. */
function timeOnce(bin, args) {
  const start = process.hrtime.bigint();
  const r = exec(bin, args);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error || r.status !== 0)
    throw new Error(
      `${[bin, ...args].join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})\n${r.stderr}`,
    );
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
/** Nearest-rank 90th percentile. */
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.ceil(0.9 * xs.length) - 1];

// --- the CLI and the identity directory ---

if (!existsSync(certified) || !existsSync(join(cliDir, 'dist/message.mjs'))) {
  console.error('cold-start: dist/ is missing; building the CLI (node build.mjs)…');
  const b = spawnSync(process.execPath, ['build.mjs'], { cwd: cliDir, stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
}

let tmp;
let config = values.config;
if (config === undefined) {
  tmp = mkdtempSync(join(tmpdir(), 'certified-bench-'));
  config = join(tmp, 'ada');
  // A person who trusts a second CA as a client and knows one service: something for `show` to list.
  const other = join(tmp, 'svc');
  const setup = [
    ['init', 'Ada Lovelace', '--email', 'ada@example.org', '--config', config],
    [
      'init',
      '--org',
      'Example Org',
      '--unit',
      'Notes API',
      '--host',
      '127.0.0.1',
      '--config',
      other,
    ],
    ['add-client', 'svc', join(other, 'CA.crt'), '--config', config],
    [
      'add-service',
      'notes',
      join(other, 'CA.crt'),
      '--url',
      'https://127.0.0.1:8443',
      '--config',
      config,
    ],
  ];
  for (const args of setup) timeOnce(process.execPath, [certified, ...args]);
}

// --- measure ---

const rows = [];
let failed = false;
for (const rt of runtimes) {
  const found = locate(rt.bins);
  if (!found) {
    console.error(`\n!!! cold-start: ${rt.name} not found (${rt.bins.join(', ')}): SKIPPED !!!\n`);
    rows.push({ name: rt.name, skipped: `SKIPPED: ${rt.name} not found` });
    continue;
  }
  const commands = {
    bare: rt.bare,
    version: [...rt.file, certified, '--version'],
    show: [...rt.file, certified, 'show', '--config', config],
  };
  const times = { bare: [], version: [], show: [] };
  try {
    for (let i = 0; i < warmup + runs; i++)
      for (const [key, args] of Object.entries(commands)) {
        const ms = timeOnce(found.bin, args);
        if (i >= warmup) times[key].push(ms);
      }
  } catch (error) {
    failed = true;
    console.error(`cold-start: ${rt.name}: ${error.message}`);
    rows.push({ name: rt.name, skipped: `FAILED: ${error.message.split('\n')[0]}` });
    continue;
  }
  const stats = (xs) => ({ median: median(xs), p90: p90(xs) });
  rows.push({
    name: rt.name,
    runtimeVersion: found.version,
    bare: stats(times.bare),
    version: stats(times.version),
    show: stats(times.show),
  });
}
if (tmp) rmSync(tmp, { recursive: true, force: true });

// --- report ---

const ms = (x) => x.toFixed(1);
const header = [
  'runtime',
  'version',
  'bare med',
  'bare p90',
  '--version med',
  '--version p90',
  'show med',
  'show p90',
  'show/bare',
  'show/--version',
];
const table = rows.map((r) =>
  r.skipped
    ? [r.name, r.skipped]
    : [
        r.name,
        r.runtimeVersion,
        ms(r.bare.median),
        ms(r.bare.p90),
        ms(r.version.median),
        ms(r.version.p90),
        ms(r.show.median),
        ms(r.show.p90),
        `${(r.show.median / r.bare.median).toFixed(2)}x`,
        `${(r.show.median / r.version.median).toFixed(2)}x`,
      ],
);
const widths = header.map((h, i) =>
  Math.max(h.length, ...table.filter((r) => r.length > 2).map((r) => r[i].length)),
);
const line = (cells) =>
  cells
    .map((c, i) =>
      cells.length === 2 && i === 1 ? c : i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]),
    )
    .join('  ');

console.log(
  `certified cold start: wall ms per process, median and p90 of ${runs} run(s) after ${warmup} warm-up(s)`,
);
console.log(
  `bare = runtime alone (node -e 0, deno eval 0, bun -e 0); --version = start + bundle load; show = show --config ${values.config ?? '<temp identity>'}`,
);
console.log(line(header));
for (const row of table) console.log(line(row));
process.exit(failed ? 1 : 0);
