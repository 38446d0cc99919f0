/**
 * @module @certified/testing/prometheus — a real Prometheus (Debian's) on 127.0.0.1 at a free port,
 * scraping HTTPS targets every second, with a temp config and TSDB removed on `stop`. Missing binary:
 * undefined after a loud warning, or an error under `CI=true`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

export interface PrometheusTarget {
  /** `host:port` on 127.0.0.1. */
  readonly address: string;
  /** PEM of the CA the target's serving certificate chains to. */
  readonly caPem: string;
}

export interface TestPrometheus {
  readonly url: string;
  /** Instant query through the HTTP API: each series' labels and value. */
  query(q: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  stop(): Promise<void>;
}

function binary(): string | undefined {
  return ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));
}

/** Starts Prometheus scraping `targets`; resolves once it answers queries. */
export async function startPrometheus(
  targets: readonly PrometheusTarget[],
): Promise<TestPrometheus | undefined> {
  const bin = binary();
  if (!bin) {
    const msg = 'Prometheus is not installed (apt-get install prometheus): skipping its tests';
    if (process.env['CI'] === 'true') throw new Error(`${msg} — not allowed under CI=true`);
    console.warn(`\n*** ${msg} ***\n`);
    return undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), 'certified-prom-'));
  const jobs = await Promise.all(
    targets.map(async (t, i) => {
      const ca = join(dir, `ca-${i}.pem`);
      await writeFile(ca, t.caPem);
      return `  - job_name: target${i}
    scheme: https
    tls_config: { ca_file: ${JSON.stringify(ca)} }
    static_configs: [{ targets: [${JSON.stringify(t.address)}] }]`;
    }),
  );
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n${jobs.join('\n')}\n`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (i > 300) {
      await stop();
      throw new Error(`prometheus did not become ready: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(q) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    stop,
  };
}
