/**
 * @module loki.test — `createLokiSink` against a real HTTP server on 127.0.0.1 written here, which
 * records every push and answers with the statuses a test scripts (a recording peer standing in
 * for Loki's push endpoint, not a fake of our code): batching by size and by interval, retries,
 * the bounded buffer, flush and close. The real-Loki round trip is test/loki/loki.test.ts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { NetworkError } from '@certified/core';
import { accessLog, type AccessLogRecord } from './access-log.js';
import { createLokiSink, type LokiSink } from './loki.js';

interface Push {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly stream: Record<string, string>;
  readonly values: [string, string][];
  readonly raw: string;
}

interface Recorder {
  readonly url: string;
  readonly pushes: Push[];
  /** Resolves once `n` pushes have arrived. */
  waitFor(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Each request gets the next scripted answer: a status, or a promise of one (to hold it open). */
type Answer = number | { status: number; body?: string; headers?: Record<string, string> };

async function startRecorder(
  answer: (n: number) => Answer | Promise<Answer> = () => 204,
): Promise<Recorder> {
  const pushes: Push[] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as {
        streams: { stream: Record<string, string>; values: [string, string][] }[];
      };
      expect(body.streams).toHaveLength(1);
      const n = pushes.length;
      pushes.push({
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        stream: body.streams[0]!.stream,
        values: body.streams[0]!.values,
        raw,
      });
      for (const w of waiting.filter((w) => pushes.length >= w.n)) w.resolve();
      void Promise.resolve(answer(n)).then((a) => {
        const { status, body: text = '', headers = {} } = typeof a === 'number' ? { status: a } : a;
        res.writeHead(status, headers).end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pushes,
    waitFor: (n) =>
      pushes.length >= n
        ? Promise.resolve()
        : new Promise((resolve) => waiting.push({ n, resolve })),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A URL nobody listens on: a port we bound and released. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const lines = (p: Push): string[] => p.values.map(([, line]) => line);
const FAST_RETRY = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } as const;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
async function recorder(answer?: (n: number) => Answer | Promise<Answer>): Promise<Recorder> {
  const r = await startRecorder(answer);
  cleanup.push(() => r.close());
  return r;
}
function sink(options: Parameters<typeof createLokiSink>[0]): LokiSink {
  const s = createLokiSink(options);
  cleanup.push(() => s.close());
  return s;
}

describe('createLokiSink', () => {
  it('pushes full batches at once and the rest on flush(), in Loki’s JSON push format', async () => {
    const loki = await recorder();
    const s = sink({
      url: loki.url,
      batchSize: 3,
      flushIntervalMs: 60_000,
      labels: { application: 'api', env: 'test' },
      headers: { 'X-Scope-OrgID': 'tenant-1' },
      basicAuth: { user: '1111', password: 'pässword' },
    });
    for (let i = 0; i < 7; i++) expect(s.write(`line ${i}`)).toBeUndefined();
    // Nothing is sent synchronously: writing only queues.
    expect(loki.pushes).toHaveLength(0);
    expect(s.stats()).toMatchObject({ buffered: 7, sent: 0 });

    await loki.waitFor(2);
    expect(loki.pushes.map(lines)).toEqual([
      ['line 0', 'line 1', 'line 2'],
      ['line 3', 'line 4', 'line 5'],
    ]);
    await s.flush();
    expect(loki.pushes.map(lines)).toEqual([
      ['line 0', 'line 1', 'line 2'],
      ['line 3', 'line 4', 'line 5'],
      ['line 6'],
    ]);
    expect(s.stats()).toEqual({
      sent: 7,
      dropped: 0,
      failedBatches: 0,
      failedLines: 0,
      retries: 0,
      buffered: 0,
      inFlight: 0,
    });

    const p = loki.pushes[0]!;
    expect(p.method).toBe('POST');
    expect(p.path).toBe('/loki/api/v1/push');
    expect(p.headers['content-type']).toBe('application/json');
    expect(p.headers['x-scope-orgid']).toBe('tenant-1');
    expect(Buffer.from(p.headers.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe(
      '1111:pässword',
    );
    expect(p.stream).toEqual({ application: 'api', env: 'test' });
    // Unix nanoseconds as strings, strictly increasing (Loki drops identical timestamp+line pairs).
    const stamps = loki.pushes.flatMap((x) => x.values.map(([ts]) => ts));
    for (const ts of stamps) expect(ts).toMatch(/^\d{19}$/);
    const ns = stamps.map(BigInt);
    for (let i = 1; i < ns.length; i++) expect(ns[i]! > ns[i - 1]!).toBe(true);
    expect(Number(ns[0]! / 1_000_000n)).toBeLessThanOrEqual(Date.now());
  });

  it('pushes a partial batch once flushIntervalMs passes', async () => {
    const loki = await recorder();
    const s = sink({ url: loki.url, batchSize: 100, flushIntervalMs: 20 });
    s.write('a');
    s.write('b');
    await loki.waitFor(1);
    expect(loki.pushes.map(lines)).toEqual([['a', 'b']]);
    // The default labels are ORNL certified's (python-logging-loki's) tags.
    expect(loki.pushes[0]!.stream).toEqual({
      application: 'certified',
      logger: 'certified.access',
      severity: 'info',
    });
  });

  it('retries 503 and 429 with backoff, then succeeds with the same batch', async () => {
    const loki = await recorder((n) =>
      n === 0 ? 503 : n === 1 ? { status: 429, headers: { 'retry-after': '0' } } : 204,
    );
    const errors: NetworkError[] = [];
    const s = sink({
      url: loki.url,
      retry: FAST_RETRY,
      flushIntervalMs: 60_000,
      onError: (e) => errors.push(e),
    });
    s.write('x');
    s.write('y');
    await s.flush();
    expect(loki.pushes).toHaveLength(3);
    expect(new Set(loki.pushes.map((p) => p.raw)).size).toBe(1);
    expect(s.stats()).toMatchObject({ sent: 2, retries: 2, failedBatches: 0, failedLines: 0 });
    expect(errors).toEqual([]);
  });

  it('does not retry a 400, and reports ERR_NET_PROTOCOL with Loki’s reason', async () => {
    const loki = await recorder(() => ({ status: 400, body: 'entry too far behind' }));
    const errors: NetworkError[] = [];
    const s = sink({ url: loki.url, retry: FAST_RETRY, onError: (e) => errors.push(e) });
    s.write('x');
    s.write('y');
    await s.flush();
    expect(loki.pushes).toHaveLength(1);
    expect(s.stats()).toMatchObject({ sent: 0, retries: 0, failedBatches: 1, failedLines: 2 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NetworkError);
    expect(errors[0]!.code).toBe('ERR_NET_PROTOCOL');
    expect(errors[0]!.reason).toBe('HTTP 400');
    expect(errors[0]!.message).toMatch(/HTTP 400 entry too far behind/);
  });

  it('reads only the start of an error body, however long the endpoint keeps sending', async () => {
    // An endpoint that answers 400 and then never stops sending: before, the whole body was read
    // (into memory) until the push timed out.
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(1 << 16, 0x61);
        const more = (): void => {
          while (res.write(chunk));
          res.once('drain', more);
        };
        more();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const errors: NetworkError[] = [];
    const s = sink({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeoutMs: 60_000,
      retry: FAST_RETRY,
      onError: (e) => errors.push(e),
    });
    s.write('x');
    const t0 = Date.now();
    await s.flush();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(errors[0]!.message).toMatch(/HTTP 400 a{200}\.$/);
  });

  it('gives up after retry.attempts on 500s', async () => {
    const loki = await recorder(() => 500);
    const errors: NetworkError[] = [];
    const s = sink({ url: loki.url, retry: FAST_RETRY, onError: (e) => errors.push(e) });
    s.write('x');
    await s.flush();
    expect(loki.pushes).toHaveLength(3);
    expect(s.stats()).toMatchObject({ retries: 2, failedBatches: 1, failedLines: 1 });
    expect(errors.map((e) => e.code)).toEqual(['ERR_NET_PROTOCOL']);
  });

  it('with the endpoint down, keeps maxBufferedLines, drops and counts the rest, retries network errors', async () => {
    const errors: NetworkError[] = [];
    const s = createLokiSink({
      url: await deadUrl(),
      batchSize: 2,
      maxBufferedLines: 5,
      flushIntervalMs: 60_000,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
      onError: (e) => errors.push(e),
    });
    for (let i = 0; i < 20; i++) s.write(`line ${i}`);
    expect(s.stats()).toMatchObject({ buffered: 5, dropped: 15, sent: 0 });
    await s.close();
    expect(s.stats()).toEqual({
      sent: 0,
      dropped: 15,
      failedBatches: 3, // 5 lines in batches of 2, 2, 1
      failedLines: 5,
      retries: 3,
      buffered: 0,
      inFlight: 0,
    });
    expect(errors.map((e) => e.code)).toEqual([
      'ERR_NET_CONNECT',
      'ERR_NET_CONNECT',
      'ERR_NET_CONNECT',
    ]);
    expect(errors[0]!.message).toMatch(
      /Cannot reach Loki at http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/push/,
    );
    // Closed: later lines are dropped and counted.
    s.write('late');
    expect(s.stats().dropped).toBe(16);
  });

  it('drops the oldest buffered lines while a push is held, and sends the newest after', async () => {
    let release!: () => void;
    const held = new Promise<Answer>((resolve) => (release = () => resolve(204)));
    const loki = await recorder((n) => (n === 0 ? held : 204));
    const s = sink({ url: loki.url, batchSize: 1, maxBufferedLines: 3, flushIntervalMs: 60_000 });
    s.write('a');
    await loki.waitFor(1); // 'a' is in flight, and its answer is held
    expect(s.stats()).toMatchObject({ inFlight: 1, buffered: 0 });
    for (const l of ['b', 'c', 'd', 'e', 'f', 'g', 'h']) s.write(l);
    expect(s.stats()).toMatchObject({ inFlight: 1, buffered: 3, dropped: 4 });
    release();
    await s.flush();
    expect(loki.pushes.map(lines)).toEqual([['a'], ['f'], ['g'], ['h']]);
    expect(s.stats()).toMatchObject({ sent: 4, dropped: 4, buffered: 0 });
  });

  it('flush() with nothing written resolves; close() flushes, is idempotent, and stops the timer', async () => {
    const loki = await recorder();
    const s = createLokiSink({ url: `${loki.url}/loki/api/v1/push`, flushIntervalMs: 60_000 });
    await s.flush();
    s.write('last words');
    const closing = s.close();
    expect(s.close()).toBe(closing);
    await closing;
    // The full push URL (ORNL's loki.json form) is used as given, not doubled.
    expect(loki.pushes.map((p) => p.path)).toEqual(['/loki/api/v1/push']);
    expect(loki.pushes.map(lines)).toEqual([['last words']]);
    expect(s.stats()).toMatchObject({ sent: 1, buffered: 0 });
    await s.flush();
  });

  it('carries accessLog lines unchanged', async () => {
    const loki = await recorder();
    const s = sink({ url: loki.url, flushIntervalMs: 60_000 });
    const app = new Hono();
    app.use(accessLog({ sink: s.write }));
    app.get('/hello', (c) => c.text('hi'));
    await app.request('http://localhost/hello?x=1');
    await app.request('http://localhost/missing');
    await s.flush();
    const records = loki.pushes.flatMap(lines).map((l) => JSON.parse(l) as AccessLogRecord);
    expect(records.map((r) => [r.path, r.query, r.statusCode])).toEqual([
      ['/hello', 'x=1', 200],
      ['/missing', '', 404],
    ]);
  });

  it('rejects malformed options', () => {
    expect(() => createLokiSink({ url: 'not a url' })).toThrow(TypeError);
    expect(() => createLokiSink({ url: 'ftp://loki' })).toThrow(/http\(s\) URL/);
    expect(() => createLokiSink({ url: 'http://loki', labels: {} })).toThrow(/at least one label/);
    expect(() => createLokiSink({ url: 'http://loki', labels: { 'bad-name': 'x' } })).toThrow(
      /not a valid Loki label name/,
    );
    expect(() => createLokiSink({ url: 'http://loki', batchSize: 0 })).toThrow(RangeError);
    expect(() => createLokiSink({ url: 'http://loki', retry: { attempts: 1.5 } })).toThrow(
      /retry.attempts must be a positive integer/,
    );
    expect(() => createLokiSink({ url: 'http://loki', basicAuth: { user: 'u' } as never })).toThrow(
      /basicAuth/,
    );
  });
});
