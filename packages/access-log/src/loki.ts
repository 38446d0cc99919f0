/**
 * @module loki — a Grafana Loki sink for the access log: lines are queued synchronously in a bounded
 * ring buffer and pushed in batches (by size and by interval) to Loki's JSON push API, one request
 * at a time, retried with exponential backoff and jitter. When the buffer is full the oldest line is
 * dropped and counted: logging never slows requests down. Runtime-neutral (only `fetch` and timers).
 */
import { describeValue, NetworkError } from '@certified/core';

/** Retry policy for one batch. */
export interface LokiRetryOptions {
  /** Tries per batch, the first included; default 5. 1 disables retries. */
  readonly attempts?: number;
  /** Delay before the first retry; doubled for each further retry; default 500 ms. */
  readonly baseDelayMs?: number;
  /** Cap on any one delay, `Retry-After` included; default 30 000 ms. */
  readonly maxDelayMs?: number;
}

/** Options for {@link createLokiSink}. */
export interface LokiSinkOptions {
  /**
   * Loki's base URL (`http://127.0.0.1:3100`); `/loki/api/v1/push` is appended unless the URL
   * already ends with it (as ORNL certified's `loki.json` `url` does).
   */
  readonly url: string;
  /**
   * The stream's labels; default `{ application: 'certified', logger: 'certified.access',
   * severity: 'info' }`, the labels ORNL certified's Loki handler (python-logging-loki) sets.
   * Keep them few and static: every line goes to this one stream; query fields with `| json`.
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** Lines per push; a full batch is pushed at once; default 500. */
  readonly batchSize?: number;
  /** Longest time a line waits for its batch to fill before it is pushed anyway; default 1 000 ms. */
  readonly flushIntervalMs?: number;
  /** Lines held while pushes are slow or failing; past it the oldest is dropped; default 10 000. */
  readonly maxBufferedLines?: number;
  /** Retry policy: 429, 5xx, network errors and timeouts are retried; other statuses are not. */
  readonly retry?: LokiRetryOptions;
  /** Time allowed for one push request; default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Extra request headers, e.g. `{ 'X-Scope-OrgID': 'tenant1' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** HTTP basic auth (Grafana Cloud: user id and API token), as ORNL's `loki.json` `user`/`passwd`. */
  readonly basicAuth?: { readonly user: string; readonly password: string };
  /** The fetch to push with (e.g. `createMtlsFetch(…)` for a Loki behind mTLS); default `globalThis.fetch`. */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /**
   * Told about each batch given up on (its lines are lost): a `NetworkError` with code
   * `ERR_NET_CONNECT` (unreachable), `ERR_NET_TIMEOUT`, or `ERR_NET_PROTOCOL` (Loki answered with
   * an error status; `reason` is `HTTP <status>`); default `console.error`.
   */
  readonly onError?: (error: NetworkError) => void;
}

/** Counters of a {@link LokiSink}, all in lines except `failedBatches` and `retries`. */
export interface LokiSinkStats {
  /** Lines Loki accepted. */
  readonly sent: number;
  /** Lines dropped unsent: the buffer was full (oldest dropped first), or written after `close()`. */
  readonly dropped: number;
  /** Batches given up on (non-retryable status, or out of attempts). */
  readonly failedBatches: number;
  /** Lines in those batches. */
  readonly failedLines: number;
  /** Retries made. */
  readonly retries: number;
  /** Lines waiting in the buffer. */
  readonly buffered: number;
  /** Lines in the push under way. */
  readonly inFlight: number;
}

/** A running Loki sink: give `write` to `accessLog({ sink })`. */
export interface LokiSink {
  /** Queues one line (synchronous, O(1), never throws); stamped with the current time in ns. */
  readonly write: (line: string) => void;
  /** Counters since creation. */
  stats(): LokiSinkStats;
  /**
   * Pushes every line written so far; resolves once each was sent, given up on or dropped.
   * Never rejects.
   */
  flush(): Promise<void>;
  /**
   * Stops the interval timer, pushes what is buffered (retrying as configured) and resolves when
   * done; later writes are dropped and counted. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

const PUSH_PATH = '/loki/api/v1/push';
const DEFAULT_LABELS: Readonly<Record<string, string>> = {
  application: 'certified',
  logger: 'certified.access',
  severity: 'info',
};

/**
 * Creates a sink that pushes lines to Grafana Loki (`POST {url}/loki/api/v1/push`, JSON body
 * `{"streams":[{"stream":{labels},"values":[["<unix ns>","<line>"],…]}]}`). Writing is
 * synchronous and O(1); pushes happen in the background, one at a time, in batches of
 * `batchSize` or every `flushIntervalMs`. Call `close()` before the process exits.
 *
 * @param options.url - Loki's base URL, or its full push URL.
 * @param options.labels - stream labels; default `{ application: 'certified', logger: 'certified.access', severity: 'info' }`.
 * @param options.batchSize - lines per push; default 500.
 * @param options.flushIntervalMs - push partial batches after this long; default 1 000.
 * @param options.maxBufferedLines - buffer bound, oldest dropped past it; default 10 000.
 * @param options.retry - `{ attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 }` by default.
 * @param options.timeoutMs - per push request; default 10 000.
 * @param options.headers - extra headers (e.g. `X-Scope-OrgID`); default none.
 * @param options.basicAuth - `{ user, password }`; default none.
 * @param options.fetch - default `globalThis.fetch`.
 * @param options.onError - batches given up on; default `console.error`.
 * @returns the sink: `write`, `stats()`, `flush()`, `close()`.
 * @throws TypeError for a missing or malformed option (not a URL, a label name Loki rejects);
 *   RangeError for a size or delay that is not a positive number.
 * @example
 * const loki = createLokiSink({ url: 'http://127.0.0.1:3100', labels: { application: 'api' } });
 * app.use(accessLog({ sink: [stdoutSink, loki.write] }));
 * process.on('SIGTERM', () => void loki.close().then(() => process.exit(0)));
 */
export function createLokiSink(options: LokiSinkOptions): LokiSink {
  const o = checkOptions(options);
  const { batchSize, capacity, flushIntervalMs, attempts, baseDelayMs, maxDelayMs } = o;

  // --- ring buffer of [timestamp, line] pairs: O(1) write and drop-oldest ---
  const ring: ([string, string] | undefined)[] = new Array(capacity);
  let head = 0;
  let count = 0;
  let enqueued = 0; // lines ever written (not after close)
  let removed = 0; // lines taken for a push or dropped, always the oldest first

  let sent = 0;
  let dropped = 0;
  let failedBatches = 0;
  let failedLines = 0;
  let retries = 0;
  let inFlight = 0;

  let closed = false;
  let flushTarget = 0; // push until `removed` reaches this, even in partial batches
  let timer: ReturnType<typeof setTimeout> | undefined;
  let kickTimer: ReturnType<typeof setTimeout> | undefined;
  let sleeping: ReturnType<typeof setTimeout> | undefined; // a retry's backoff
  let active: Promise<void> | undefined;
  let again = false;
  const waiters: { target: number; resolve: () => void }[] = [];

  // Strictly increasing ns timestamps: Loki drops a line whose timestamp and text equal another's.
  let lastMs = 0;
  let seq = 0;
  const stamp = (): string => {
    const ms = Date.now();
    if (ms > lastMs) {
      lastMs = ms;
      seq = 0;
    } else if (++seq > 999_999) {
      lastMs++;
      seq = 0;
    }
    return `${lastMs}${String(seq).padStart(6, '0')}`;
  };

  const write = (line: string): void => {
    if (closed) {
      dropped++;
      return;
    }
    if (count === capacity) {
      // Full: drop the oldest; after an outage the recent lines are the ones worth having.
      ring[head] = undefined;
      head = (head + 1) % capacity;
      count--;
      removed++;
      dropped++;
    }
    ring[(head + count) % capacity] = [stamp(), String(line)];
    count++;
    enqueued++;
    if (count >= batchSize) scheduleKick();
    else if (timer === undefined) startTimer();
  };

  const take = (n: number): [string, string][] => {
    const out: [string, string][] = [];
    for (let i = 0; i < n; i++) {
      out.push(ring[head]!);
      ring[head] = undefined;
      head = (head + 1) % capacity;
    }
    count -= n;
    removed += n;
    return out;
  };

  function startTimer(): void {
    if (closed) return;
    timer = unref(
      setTimeout(() => {
        timer = undefined;
        flushTarget = Math.max(flushTarget, enqueued);
        kick();
      }, flushIntervalMs),
    );
  }

  // The push starts in a later task so that the request that filled a batch is not the one that
  // serialises and sends it.
  function scheduleKick(): void {
    kickTimer ??= unref(
      setTimeout(() => {
        kickTimer = undefined;
        kick();
      }, 0),
    );
  }

  function kick(): void {
    if (active) {
      again = true;
      return;
    }
    const done = (): void => {
      active = undefined;
      if (again) {
        again = false;
        kick();
      }
    };
    active = drain().then(done, done);
  }

  async function drain(): Promise<void> {
    while (count > 0 && (count >= batchSize || removed < flushTarget || closed)) {
      const batch = take(Math.min(batchSize, count));
      inFlight = batch.length;
      try {
        await push(batch);
      } finally {
        inFlight = 0;
      }
      settle();
    }
    settle();
    if (count > 0 && timer === undefined) startTimer();
  }

  /** Resolves flush() calls whose lines have all been sent, given up on or dropped. */
  function settle(): void {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (removed >= w.target && inFlight === 0) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  async function push(batch: [string, string][]): Promise<void> {
    const body = JSON.stringify({ streams: [{ stream: o.labels, values: batch }] });
    for (let attempt = 1; ; attempt++) {
      let error: NetworkError;
      let retryable: boolean;
      let retryAfterMs: number | undefined;
      try {
        const res = await o.fetch(o.pushUrl, {
          method: 'POST',
          headers: o.headers,
          body,
          signal: AbortSignal.timeout(o.timeoutMs),
        });
        const text = await firstBytes(res).catch(() => '');
        if (res.ok) {
          sent += batch.length;
          return;
        }
        retryable = res.status === 429 || res.status >= 500;
        retryAfterMs = retryAfter(res.headers.get('retry-after'));
        error = new NetworkError(
          'ERR_NET_PROTOCOL',
          `Loki at ${o.pushUrl} refused ${batch.length} lines: HTTP ${res.status}${text ? ` ${text.trim().slice(0, 200)}` : ''}.`,
          { reason: `HTTP ${res.status}`, field: 'status' },
        );
      } catch (cause) {
        retryable = true;
        const timedOut = (cause as { name?: unknown } | null)?.name === 'TimeoutError';
        error = timedOut
          ? new NetworkError(
              'ERR_NET_TIMEOUT',
              `Loki at ${o.pushUrl} did not answer within ${o.timeoutMs} ms.`,
              { cause },
            )
          : new NetworkError(
              'ERR_NET_CONNECT',
              `Cannot reach Loki at ${o.pushUrl}: ${whyUnreachable(cause)}.`,
              { cause },
            );
      }
      if (!retryable || attempt >= attempts) {
        failedBatches++;
        failedLines += batch.length;
        report(error);
        return;
      }
      retries++;
      // Exponential backoff with "equal jitter": half fixed, half random, so a fleet of servers
      // that lost Loki together does not retry in lockstep.
      const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.min(
        maxDelayMs,
        Math.max(retryAfterMs ?? 0, exp / 2 + Math.random() * (exp / 2)),
      );
      await new Promise<void>((resolve) => {
        sleeping = setTimeout(() => {
          sleeping = undefined;
          resolve();
        }, delay);
        // While closing, the pending retry must keep the process alive until close() resolves.
        if (!closed) unref(sleeping);
      });
    }
  }

  function report(error: NetworkError): void {
    try {
      o.onError(error);
    } catch {
      // a throwing error callback must not stop the sink
    }
  }

  const flush = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const target = enqueued;
      if (removed >= target && inFlight === 0) return resolve();
      waiters.push({ target, resolve });
      flushTarget = Math.max(flushTarget, target);
      kick();
    });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const last = flush();
      closed = true;
      clearTimeout(timer);
      clearTimeout(kickTimer);
      timer = kickTimer = undefined;
      (sleeping as { ref?: () => void } | undefined)?.ref?.();
      await last;
      await active;
    })();
    return closing;
  };

  return {
    write,
    stats: () => ({
      sent,
      dropped,
      failedBatches,
      failedLines,
      retries,
      buffered: count,
      inFlight,
    }),
    flush,
    close,
  };
}

// --- internal ---

interface CheckedOptions {
  readonly pushUrl: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly batchSize: number;
  readonly capacity: number;
  readonly flushIntervalMs: number;
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly timeoutMs: number;
  readonly headers: Record<string, string>;
  readonly fetch: (input: string, init: RequestInit) => Promise<Response>;
  readonly onError: (error: NetworkError) => void;
}

// Loki's (Prometheus's) label name syntax.
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkOptions(options: LokiSinkOptions): CheckedOptions {
  if (!options || typeof options !== 'object')
    throw new TypeError(
      `createLokiSink options must be an object, received ${describeValue(options)}`,
    );
  const { url } = options;
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new TypeError(
      `createLokiSink options.url must be an http(s) URL, received ${describeValue(url)}`,
    );
  const base = parsed.href.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const pushUrl = base.endsWith(PUSH_PATH) ? base : `${base}${PUSH_PATH}`;

  const labels = options.labels ?? DEFAULT_LABELS;
  if (!labels || typeof labels !== 'object' || Object.keys(labels).length === 0)
    throw new TypeError(
      `createLokiSink options.labels must be an object with at least one label, received ${describeValue(labels)}`,
    );
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_NAME.test(k) || k.startsWith('__'))
      throw new TypeError(
        `createLokiSink options.labels: ${JSON.stringify(k)} is not a valid Loki label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)`,
      );
    if (typeof v !== 'string')
      throw new TypeError(
        `createLokiSink options.labels.${k} must be a string, received ${describeValue(v)}`,
      );
  }

  const retry = options.retry ?? {};
  const batchSize = positive(options.batchSize, 500, 'batchSize', true);
  const capacity = positive(options.maxBufferedLines, 10_000, 'maxBufferedLines', true);
  const flushIntervalMs = positive(options.flushIntervalMs, 1_000, 'flushIntervalMs', false);
  const attempts = positive(retry.attempts, 5, 'retry.attempts', true);
  const baseDelayMs = nonNegative(retry.baseDelayMs, 500, 'retry.baseDelayMs');
  const maxDelayMs = nonNegative(retry.maxDelayMs, 30_000, 'retry.maxDelayMs');
  const timeoutMs = positive(options.timeoutMs, 10_000, 'timeoutMs', false);

  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (typeof v !== 'string')
      throw new TypeError(
        `createLokiSink options.headers[${JSON.stringify(k)}] must be a string, received ${describeValue(v)}`,
      );
    headers[k.toLowerCase()] = v;
  }
  if (options.basicAuth !== undefined) {
    const { user, password } = options.basicAuth ?? {};
    if (typeof user !== 'string' || typeof password !== 'string')
      throw new TypeError(
        'createLokiSink options.basicAuth must be { user: string, password: string }',
      );
    headers.authorization = `Basic ${base64(`${user}:${password}`)}`;
  }

  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== 'function')
    throw new TypeError(
      `createLokiSink options.fetch must be a function (no global fetch here), received ${describeValue(fetchFn)}`,
    );
  const onError =
    options.onError ?? ((e: NetworkError) => console.error(`${e.code}: ${e.message}`));
  if (typeof onError !== 'function')
    throw new TypeError(
      `createLokiSink options.onError must be a function, received ${describeValue(onError)}`,
    );
  return {
    pushUrl,
    labels: { ...labels },
    batchSize,
    capacity,
    flushIntervalMs,
    attempts,
    baseDelayMs,
    maxDelayMs,
    timeoutMs,
    headers,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    onError,
  };
}

function positive(v: unknown, fallback: number, what: string, integer: boolean): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
    throw new RangeError(
      `createLokiSink options.${what} must be a positive ${integer ? 'integer' : 'number'}, received ${describeValue(v)}`,
    );
  return v;
}

function nonNegative(v: unknown, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))
    throw new RangeError(
      `createLokiSink options.${what} must be a number ≥ 0, received ${describeValue(v)}`,
    );
  return v;
}

/** fetch rejects with "fetch failed" and the system error (ECONNREFUSED…) as its cause. */
function whyUnreachable(e: unknown): string {
  const inner = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof inner?.code === 'string') return inner.code;
  if (typeof inner?.message === 'string') return inner.message;
  return e instanceof Error ? e.message : String(e);
}

/** `Retry-After` in ms: delta-seconds or an HTTP date. */
function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function base64(text: string): string {
  let binary = '';
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary);
}

// Node and Bun timers can be unref'd so a quiet sink never keeps the process alive.
function unref<T>(t: T): T {
  (t as { unref?: () => void } | null)?.unref?.();
  return t;
}

/**
 * The start of a response body (only for an error message), the rest cancelled: an endpoint that
 * keeps sending must not fill memory until the push times out.
 */
async function firstBytes(res: Response, max = 1024): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < max) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
    return text;
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
