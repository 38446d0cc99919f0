/**
 * @module metrics — a runtime-neutral Prometheus text exposition (format 0.0.4): counters with
 * labels and one histogram, enough for CredentialManager's Requests_Received/_Success/_Failed and
 * issuance latency. No timers, no globals: the app calls it, `/metrics` renders it.
 */

type Labels = Readonly<Record<string, string>>;

const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The CA's metrics. */
export interface CaMetrics {
  /** A request arrived at `endpoint` for `ra`. */
  received(endpoint: string, ra: string): void;
  /** It succeeded. */
  succeeded(endpoint: string, ra: string): void;
  /** It failed with `code`. */
  failed(endpoint: string, ra: string, code: string): void;
  /** One issuance took `seconds` (authentication to stored record). */
  issuance(ra: string, seconds: number): void;
  /** The exposition text. */
  render(): string;
}

/**
 * Creates the CA's metrics.
 *
 * @example
 * const metrics = createCaMetrics();
 * metrics.received('sign', 'default');
 * const text = metrics.render();
 */
export function createCaMetrics(buckets: readonly number[] = DEFAULT_BUCKETS): CaMetrics {
  const counters = new Map<string, Map<string, { labels: Labels; value: number }>>();
  const hist = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  const inc = (name: string, labels: Labels): void => {
    let m = counters.get(name);
    if (!m) counters.set(name, (m = new Map()));
    const key = labelText(labels);
    const c = m.get(key);
    if (c) c.value++;
    else m.set(key, { labels, value: 1 });
  };
  const HELP: Record<string, string> = {
    certified_ca_requests_received_total: 'Requests received, per endpoint and RA.',
    certified_ca_requests_succeeded_total: 'Requests answered with success, per endpoint and RA.',
    certified_ca_requests_failed_total: 'Requests refused or failed, per endpoint, RA and code.',
  };
  return {
    received: (endpoint, ra) => inc('certified_ca_requests_received_total', { endpoint, ra }),
    succeeded: (endpoint, ra) => inc('certified_ca_requests_succeeded_total', { endpoint, ra }),
    failed: (endpoint, ra, code) =>
      inc('certified_ca_requests_failed_total', { endpoint, ra, code }),
    issuance(ra, seconds) {
      let h = hist.get(ra);
      if (!h)
        hist.set(ra, (h = { labels: { ra }, counts: buckets.map(() => 0), sum: 0, count: 0 }));
      buckets.forEach((b, i) => {
        if (seconds <= b) h.counts[i]!++;
      });
      h.sum += seconds;
      h.count++;
    },
    render() {
      const out: string[] = [];
      for (const name of Object.keys(HELP)) {
        out.push(`# HELP ${name} ${HELP[name]}`, `# TYPE ${name} counter`);
        for (const c of counters.get(name)?.values() ?? [])
          out.push(`${name}${labelText(c.labels)} ${c.value}`);
      }
      const h = 'certified_ca_issuance_seconds';
      out.push(`# HELP ${h} Time to issue one certificate.`, `# TYPE ${h} histogram`);
      for (const v of hist.values()) {
        buckets.forEach((b, i) =>
          out.push(`${h}_bucket${labelText({ ...v.labels, le: String(b) })} ${v.counts[i]}`),
        );
        out.push(`${h}_bucket${labelText({ ...v.labels, le: '+Inf' })} ${v.count}`);
        out.push(`${h}_sum${labelText(v.labels)} ${v.sum}`);
        out.push(`${h}_count${labelText(v.labels)} ${v.count}`);
      }
      return out.join('\n') + '\n';
    },
  };
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}
