/**
 * @module test/tls-runtime-script — the mTLS round trip that tls-runtimes.test.ts bundles (esbuild)
 * and runs under Node, Deno and Bun. Prints one JSON line per check (`{ check, ok, detail }`) and a
 * final `{ done, failed }` line; exits 1 if any check failed.
 *
 *   self                 serve + createMtlsFetch in one process (Ed25519 and P-256): round trip,
 *                        refusals both ways; on P-256 also bodies, 500s, names, expiry, no
 *                        certificate, abort, port in use and close(); then keep-alive (reuse,
 *                        maxSockets, a server-closed idle connection, close()) and createSession
 *                        on identity directories (aliases, auths, refusals before any request)
 *   server <file> [alg]  serve (P-256 by default), write what a client needs to <file>, run until killed
 *   client <file>        call the server described in <file> (trusted → 200 + CN; stranger → refused)
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { createPathValidator, encodePem, fromBase64Der, toBase64Der } from '@certified/core';
import { createMemoryStore } from '@certified/identity';
import {
  createMtlsFetch,
  createSession,
  peerOf,
  createMtlsServer,
  type ConnectionEvent,
  type MtlsServer,
} from '../src/index.js';
import { peerChainOf } from '../src/tls/peer-chain.js';
import { rawTlsClient as rawClient } from './raw-tls.js';
import { createWorld } from './tls-directories.js';
import {
  createTlsPki,
  issueClient,
  issueExpiredClient,
  issueServer,
  type TlsAlgorithm,
  type TlsIdentity,
} from '@certified/testing/tls-pki';

interface Wire {
  url: string;
  serverCa: string;
  trusted: { key: string; certificates: string[]; commonName: string };
  stranger: { key: string; certificates: string[] };
}

let failed = 0;
function check(check: string, ok: boolean, detail?: unknown): void {
  if (!ok) failed++;
  console.log(JSON.stringify({ check, ok, detail }));
}

const errorOf = (
  e: unknown,
): { name: string | undefined; code: string | undefined; message: string } => ({
  name: (e as Error)?.name,
  code: (e as { code?: string })?.code,
  message: String((e as Error)?.message ?? e),
});

async function start(algorithm: TlsAlgorithm, url = 'https://127.0.0.1:0') {
  const pki = await createTlsPki(algorithm, `Runtime ${algorithm}`);
  const strangers = await createTlsPki(algorithm, `Stranger ${algorithm}`);
  const serverId = await issueServer(pki);
  const trusted = await issueClient(pki, `Ada ${algorithm}`);
  const stranger = await issueClient(strangers, 'Mallory');
  const events: ConnectionEvent[] = [];
  const server = await createMtlsServer({
    url,
    key: serverId.key,
    certificates: serverId.certificates,
    validator: pki.validator(),
    fetch: async (request, env) => {
      const path = new URL(request.url).pathname;
      if (path === '/boom') throw new Error('boom');
      if (path === '/echo')
        return Response.json({ from: peerOf(env)?.peer.commonName, got: await request.text() });
      return new Response(`hello ${peerOf(env)?.peer.commonName ?? '(nobody)'}`, { status: 200 });
    },
    onConnection: (e) => events.push(e),
    onError: () => undefined,
  });
  return { pki, strangers, serverId, server, trusted, stranger, events };
}

/** Runs `fn`; a check passes when it resolves to true. */
async function expectThat(name: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    const r = await fn();
    check(name, r === true, r === true ? undefined : r);
  } catch (e) {
    check(name, false, errorOf(e));
  }
}

/** Resolves with the error `p` rejects with, or a marker when it resolves. */
async function errorFrom(p: Promise<unknown>): Promise<ReturnType<typeof errorOf>> {
  try {
    const r = await p;
    return { name: 'resolved', code: undefined, message: String((r as Response)?.status ?? r) };
  } catch (e) {
    return errorOf(e);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(get: () => T | undefined, ms = 3000): Promise<T | undefined> {
  for (let waited = 0; waited < ms; waited += 20) {
    const v = get();
    if (v !== undefined) return v;
    await sleep(20);
  }
  return get();
}

/** The behaviours beyond the basic round trip, on one runtime. */
async function more(s: Awaited<ReturnType<typeof start>>): Promise<void> {
  const { server, trusted, pki, events } = s;
  const fetch = createMtlsFetch({
    key: trusted.key,
    certificates: trusted.certificates,
    validator: pki.validator(),
    timeoutMs: 10_000,
  });
  const base = server.url;
  await expectThat('POST JSON round trip', async () => {
    const res = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: 1 }),
    });
    const got = (await res.json()) as { from: string; got: string };
    return got.from === trusted.commonName && got.got === '{"n":1}' ? true : got;
  });
  await expectThat('streamed request body', async () => {
    const parts = ['a', 'b', 'c'];
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const p = parts.shift();
        if (p === undefined) c.close();
        else c.enqueue(new TextEncoder().encode(p));
      },
    });
    const got = (await (await fetch(`${base}/echo`, { method: 'POST', body })).json()) as {
      got: string;
    };
    return got.got === 'abc' ? true : got;
  });
  await expectThat('handler throwing gives 500, then the server still serves', async () => {
    const boom = await fetch(`${base}/boom`);
    await boom.text();
    const ok = await fetch(`${base}/hello`);
    await ok.text();
    return boom.status === 500 && ok.status === 200 ? true : [boom.status, ok.status];
  });
  await expectThat('serverName localhost (DNS SAN, SNI) accepted', async () => {
    const res = await createMtlsFetch({
      key: trusted.key,
      certificates: trusted.certificates,
      validator: pki.validator(),
      serverName: 'localhost',
    })(`${base}/hello`);
    await res.text();
    return res.status === 200 ? true : res.status;
  });
  await expectThat('wrong server name refused with ERR_CHAIN_PEER_NAME', async () => {
    const err = await errorFrom(
      createMtlsFetch({
        key: trusted.key,
        certificates: trusted.certificates,
        validator: pki.validator(),
        serverName: 'wrong.example',
      })(`${base}/hello`),
    );
    return err.code === 'ERR_CHAIN_PEER_NAME' ? true : err;
  });
  await expectThat('expired client refused (server event ERR_CHAIN_EXPIRED)', async () => {
    events.length = 0;
    const old = await issueExpiredClient(pki, 'Old');
    const err = await errorFrom(
      createMtlsFetch({ key: old.key, certificates: old.certificates, validator: pki.validator() })(
        `${base}/hello`,
      ),
    );
    // Other refusals may land here too (a client that hung up mid-handshake earlier): match by subject.
    const ev = await eventually(() =>
      events.find((e) => e.type === 'refused' && e.subject === 'CN=Old'),
    );
    return err.code === 'ERR_NET_TLS' && ev?.type === 'refused' && ev.code === 'ERR_CHAIN_EXPIRED'
      ? true
      : { err, ev };
  });
  await expectThat('client without a certificate refused (server event ERR_NET_TLS)', async () => {
    events.length = 0;
    const socket = tlsConnect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false });
    socket.on('error', () => undefined);
    socket.write('GET /hello HTTP/1.1\r\nhost: x\r\n\r\n');
    let got = '';
    socket.on('data', (d: Uint8Array) => (got += new TextDecoder().decode(d)));
    await new Promise<void>((r) => socket.once('close', () => r()));
    const ev = await eventually(() =>
      events.find((e) => e.type === 'refused' && /no certificate/.test(e.message)),
    );
    return got === '' && ev?.type === 'refused' && ev.code === 'ERR_NET_TLS' ? true : { got, ev };
  });
  await expectThat('a request sent while the client is being validated is served', async () => {
    const inner = pki.validator();
    const slow = await createMtlsServer({
      url: 'https://127.0.0.1:0',
      key: s.serverId.key,
      certificates: s.serverId.certificates,
      validator: {
        ...inner,
        validate: async (input) => {
          await sleep(150);
          return inner.validate(input);
        },
      },
      fetch: (_r, env) => new Response(`hi ${peerOf(env)?.peer.commonName}`),
      idleTimeoutMs: 300,
    });
    try {
      const eager = rawClient(
        slow.port,
        trusted,
        'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
      );
      const got = await eager.closed;
      const silent = await rawClient(slow.port, trusted).closed; // dropped after idleTimeoutMs
      return got.startsWith('HTTP/1.1 200 ') &&
        got.endsWith(`hi ${trusted.commonName}`) &&
        silent === ''
        ? true
        : { got, silent };
    } finally {
      await slow.close();
    }
  });
  await expectThat(
    'refusalLimit: a refused address is dropped before the handshake, then waits',
    async () => {
      const seen: ConnectionEvent[] = [];
      const strict = await createMtlsServer({
        url: 'https://127.0.0.1:0',
        key: s.serverId.key,
        certificates: s.serverId.certificates,
        validator: pki.validator(),
        fetch: () => new Response('ok'),
        onConnection: (e) => seen.push(e),
        refusalLimit: { burst: 1, perSecond: 0.001 },
      });
      try {
        const old = await issueExpiredClient(pki, 'Refused Twice');
        const first = rawClient(strict.port, old, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
        await first.closed;
        let secondHandshake = false;
        const second = rawClient(strict.port, old);
        void second.connected.then(() => (secondHandshake = true));
        await second.closed;
        const codes = seen.flatMap((e) => (e.type === 'refused' ? [e.code] : []));
        return !secondHandshake && codes.join() === 'ERR_NET_THROTTLED,ERR_CHAIN_EXPIRED'
          ? true
          : { secondHandshake, codes };
      } finally {
        await strict.close();
      }
    },
  );
  await expectThat('abort rejects with AbortError', async () => {
    const err = await errorFrom(fetch(`${base}/hello`, { signal: AbortSignal.abort() }));
    return err.name === 'AbortError' ? true : err;
  });
  await expectThat('a second server on the same port fails with ERR_NET_CONNECT', async () => {
    const err = await errorFrom(
      createMtlsServer({
        url: base,
        key: s.serverId.key,
        certificates: s.serverId.certificates,
        validator: pki.validator(),
        fetch: () => new Response(''),
      }),
    );
    return err.code === 'ERR_NET_CONNECT' ? true : err;
  });
  await expectThat(
    'close() ends an idle connection and resolves; then ERR_NET_CONNECT',
    async () => {
      const { socket: idle } = rawClient(server.port, trusted);
      await new Promise<void>((r) => idle.once('secureConnect', () => r()));
      await sleep(100); // let the server validate and admit it
      const closed = await Promise.race([
        server.close().then(() => true),
        sleep(5000).then(() => false),
      ]);
      if (!closed) return 'close() did not resolve within 5 s';
      const err = await errorFrom(fetch(`${base}/hello`));
      return err.code === 'ERR_NET_CONNECT' ? true : err;
    },
  );
}

declare const Deno: unknown;
declare const Bun: unknown;
const runtime = typeof Deno !== 'undefined' ? 'deno' : typeof Bun !== 'undefined' ? 'bun' : 'node';
/**
 * Known gap: Deno's node:http server, which `createMtlsServer` hands connections to, answers
 * `Connection: keep-alive` and then closes the connection after every response.
 */
const serverKeepsAlive = runtime !== 'deno';

/**
 * A bare HTTP/1.1-over-TLS responder (no client certificate asked) that counts connections and
 * answers `n=<count>` to each request, so the client's reuse is seen apart from any server's
 * keep-alive quirks. `/gate` waits for `open()`; `/bye` is answered, then the connection is ended.
 */
async function responder(id: TlsIdentity) {
  let connections = 0;
  let arrived = 0;
  /** `<connection number> <path>` per request. */
  const seen: string[] = [];
  const closed = new Set<number>();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const server = createTlsServer(
    { key: id.key, cert: id.certificates.map((d) => encodePem('CERTIFICATE', d)).join('') },
    (socket) => {
      const n = ++connections;
      socket.on('error', () => undefined);
      socket.once('close', () => closed.add(n));
      let buffered = '';
      socket.on('data', (d: Uint8Array) => {
        buffered += new TextDecoder().decode(d);
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          const path = buffered.slice(0, end).split(' ')[1] ?? '/';
          buffered = buffered.slice(end + 4);
          seen.push(`${n} ${path}`);
          const text = `n=${++arrived}`;
          const answer = `HTTP/1.1 200 OK\r\ncontent-length: ${text.length}\r\n\r\n${text}`;
          if (path === '/gate') void gate.then(() => socket.write(answer));
          else if (path === '/bye') socket.end(answer);
          else socket.write(answer);
        }
      });
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    closed,
    arrived: () => arrived,
    /** The distinct connections that carried requests for `path`. */
    connectionsFor: (path: string) =>
      new Set(seen.filter((x) => x.endsWith(` ${path}`)).map((x) => x.split(' ')[0])).size,
    open,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Connection reuse in createMtlsFetch, counted by the server's accepted connections. */
async function keepAlive(s: Awaited<ReturnType<typeof start>>): Promise<void> {
  const { pki, serverId, trusted } = s;
  const raw = await responder(serverId);
  const client = (maxSockets = 6) =>
    createMtlsFetch({
      key: trusted.key,
      certificates: trusted.certificates,
      validator: pki.validator(),
      timeoutMs: 10_000,
      maxSockets,
    });
  try {
    await expectThat('the server chain as the runtime reports it (probe)', async () => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: Number(new URL(raw.url).port),
        key: trusted.key,
        cert: trusted.certificates.map((d) => encodePem('CERTIFICATE', d)).join(''),
        rejectUnauthorized: false,
      });
      socket.on('error', () => undefined);
      await new Promise<void>((r) => socket.once('secureConnect', () => r()));
      const chain = peerChainOf(socket).length;
      socket.destroy();
      // Informational: the validator needs the leaf; the CA anchor completes the path.
      console.log(JSON.stringify({ probe: 'peer chain length', runtime, chain }));
      return chain >= 1 ? true : { chain };
    });
    await expectThat('keep-alive: 4 sequential requests over one connection', async () => {
      await using fetch = client();
      const got: string[] = [];
      for (let i = 0; i < 4; i++) got.push(await (await fetch(`${raw.url}/seq`)).text());
      return raw.connectionsFor('/seq') === 1 && got.length === 4
        ? true
        : { connections: raw.connectionsFor('/seq'), got };
    });
    await expectThat('keep-alive: 5 concurrent requests use at most maxSockets (2)', async () => {
      await using fetch = client(2);
      const arrivedBefore = raw.arrived();
      const all = Array.from({ length: 5 }, () => fetch(`${raw.url}/gate`).then((r) => r.text()));
      await until(() => raw.arrived() - arrivedBefore === 2);
      raw.open();
      const texts = await Promise.all(all);
      return raw.connectionsFor('/gate') === 2 && texts.length === 5
        ? true
        : { connections: raw.connectionsFor('/gate'), texts };
    });
    await expectThat('keep-alive: after the server ends the connection, a new one', async () => {
      await using fetch = client();
      await (await fetch(`${raw.url}/bye`)).text();
      const byeOn = Number(raw.seen.find((x) => x.endsWith(' /bye'))?.split(' ')[0]);
      await until(() => raw.closed.has(byeOn)); // its end is on the way to us before we send again
      const text = await (await fetch(`${raw.url}/next`)).text();
      const [bye, next] = ['/bye', '/next'].map((p) => raw.seen.find((x) => x.endsWith(` ${p}`)));
      return bye !== undefined && next !== undefined && bye.split(' ')[0] !== next.split(' ')[0]
        ? true
        : { bye, next, text };
    });
    await expectThat('keep-alive: close() closes the pool; later calls reject', async () => {
      const fetch = client();
      await (await fetch(`${raw.url}/last`)).text();
      await fetch.close();
      const err = await errorFrom(fetch(`${raw.url}/after`));
      return err.name === 'TypeError' ? true : err;
    });
    await expectThat(
      `keep-alive against serve: ${serverKeepsAlive ? 'one connection' : "a connection per request (Deno's node:http server closes)"}`,
      async () => {
        const accepted: string[] = [];
        const server = await createMtlsServer({
          url: 'https://127.0.0.1:0',
          key: serverId.key,
          certificates: serverId.certificates,
          validator: pki.validator(),
          onConnection: (e) => e.type === 'accepted' && accepted.push(e.subject),
          fetch: () => new Response('ok'),
        });
        try {
          await using fetch = client();
          const texts: string[] = [];
          for (let i = 0; i < 3; i++) texts.push(await (await fetch(`${server.url}/`)).text());
          const want = serverKeepsAlive ? 1 : 3;
          return accepted.length === want && texts.join() === 'ok,ok,ok'
            ? true
            : { accepted, texts };
        } finally {
          await server.close();
        }
      },
    );
  } finally {
    await raw.close();
  }
}

/** createSession on identity directories built by core's operations (memory stores). */
async function sessions(): Promise<void> {
  const world = await createWorld(() => createMemoryStore());
  try {
    const ada = await createSession({ store: world.ada });
    const bob = await createSession({ store: world.bob });
    await expectThat(
      `session: alias, 3 requests over ${serverKeepsAlive ? 'one connection' : 'fresh connections (Deno server)'}`,
      async () => {
        const texts: string[] = [];
        for (let i = 0; i < 3; i++)
          texts.push(await (await ada.fetch(`https://notes/${i}`)).text());
        return texts.every((t) => t === 'hello Ada') &&
          world.notes.accepted.length === (serverKeepsAlive ? 1 : 3)
          ? true
          : { texts, accepted: world.notes.accepted };
      },
    );
    await expectThat("session: the chain the service's auths accept (introduced Bob)", async () => {
      const text = await (await bob.fetch('https://notes/')).text();
      return text === 'hello Bob' ? true : text;
    });
    await expectThat(
      'session: server not chaining to the pinned certificate refused before any request',
      async () => {
        const err = await errorFrom(ada.fetch('https://imposter/', { method: 'POST', body: 'x' }));
        return err.code === 'ERR_CHAIN_NO_PATH' && world.imposter.requests.length === 0
          ? true
          : { err, requests: world.imposter.requests };
      },
    );
    await expectThat(
      'session: server not named by the URL refused before any request (ERR_CHAIN_PEER_NAME)',
      async () => {
        const err = await errorFrom(ada.fetch('https://misnamed/'));
        return err.code === 'ERR_CHAIN_PEER_NAME' && world.misnamed.requests.length === 0
          ? true
          : { err, requests: world.misnamed.requests };
      },
    );
    await expectThat('session: unknown alias rejected with ERR_SERVICE_UNKNOWN', async () => {
      const err = await errorFrom(ada.fetch('https://nosuch/'));
      return err.code === 'ERR_SERVICE_UNKNOWN' ? true : err;
    });
    await ada.close();
    await bob.close();
  } catch (e) {
    check('session: setup', false, errorOf(e));
  } finally {
    await world.close();
  }
}

async function until(test: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; !test(); waited += 10) {
    if (waited > ms) throw new Error(`still waiting after ${ms} ms`);
    await sleep(10);
  }
}

async function callTrusted(
  label: string,
  url: string,
  me: Pick<TlsIdentity, 'key' | 'certificates' | 'commonName'>,
  serverCa: Uint8Array,
): Promise<void> {
  const fetch = createMtlsFetch({
    key: me.key,
    certificates: me.certificates,
    validator: createPathValidator({ anchors: [serverCa] }),
    timeoutMs: 10_000,
  });
  try {
    const res = await fetch(`${url}/hello`);
    const text = await res.text();
    check(
      `${label}: trusted client gets 200 with its CN`,
      res.status === 200 && text === `hello ${me.commonName}`,
      {
        status: res.status,
        text,
      },
    );
  } catch (e) {
    check(`${label}: trusted client gets 200 with its CN`, false, errorOf(e));
  }
}

async function callStranger(
  label: string,
  url: string,
  stranger: Pick<TlsIdentity, 'key' | 'certificates'>,
  serverCa: Uint8Array,
): Promise<void> {
  const fetch = createMtlsFetch({
    key: stranger.key,
    certificates: stranger.certificates,
    validator: createPathValidator({ anchors: [serverCa] }),
    timeoutMs: 10_000,
  });
  try {
    const res = await fetch(`${url}/hello`);
    check(`${label}: stranger is refused`, false, { status: res.status, text: await res.text() });
  } catch (e) {
    const err = errorOf(e);
    check(
      `${label}: stranger is refused`,
      err.code === 'ERR_NET_TLS' || err.code === 'ERR_NET_PROTOCOL',
      err,
    );
  }
}

async function self(): Promise<void> {
  for (const algorithm of ['Ed25519', 'P-256'] as const) {
    let server: MtlsServer | undefined;
    try {
      const s = await start(algorithm);
      server = s.server;
      await callTrusted(algorithm, server.url, s.trusted, s.pki.ca.der);
      s.events.length = 0;
      await callStranger(algorithm, server.url, s.stranger, s.pki.ca.der);
      const ev = await eventually(() =>
        s.events.find((e) => e.type === 'refused' && e.subject === 'CN=Mallory'),
      );
      check(
        `${algorithm}: server reports the stranger refused with ERR_CHAIN_NO_PATH`,
        ev?.type === 'refused' && ev.code === 'ERR_CHAIN_NO_PATH' && ev.subject === 'CN=Mallory',
        ev,
      );
      // The client judges the server too: a server outside the pinned anchor is refused.
      try {
        const res = await createMtlsFetch({
          key: s.trusted.key,
          certificates: s.trusted.certificates,
          validator: s.strangers.validator(),
        })(`${server.url}/hello`);
        check(`${algorithm}: client refuses an untrusted server`, false, { status: res.status });
      } catch (e) {
        const err = errorOf(e);
        check(
          `${algorithm}: client refuses an untrusted server`,
          err.code === 'ERR_CHAIN_NO_PATH',
          err,
        );
      }
      if (algorithm === 'P-256') {
        await keepAlive(s);
        await more(s);
      }
    } catch (e) {
      check(`${algorithm}: setup`, false, errorOf(e));
    } finally {
      await server?.close();
    }
  }
  await sessions();
}

async function server(file: string, algorithm: TlsAlgorithm): Promise<void> {
  const s = await start(algorithm);
  const wire: Wire = {
    url: s.server.url,
    serverCa: toBase64Der(s.pki.ca.der),
    trusted: {
      key: s.trusted.key,
      certificates: s.trusted.certificates.map(toBase64Der),
      commonName: s.trusted.commonName,
    },
    stranger: { key: s.stranger.key, certificates: s.stranger.certificates.map(toBase64Der) },
  };
  // Complete before it appears: the test polls for the name.
  writeFileSync(`${file}.tmp`, JSON.stringify(wire));
  renameSync(`${file}.tmp`, file);
  console.log(JSON.stringify({ listening: s.server.url }));
  // Runs until the test kills it.
  await new Promise(() => undefined);
}

async function client(file: string): Promise<void> {
  const wire = JSON.parse(readFileSync(file, 'utf8')) as Wire;
  const serverCa = fromBase64Der(wire.serverCa);
  await callTrusted(
    'cross',
    wire.url,
    { ...wire.trusted, certificates: wire.trusted.certificates.map(fromBase64Der) },
    serverCa,
  );
  await callStranger(
    'cross',
    wire.url,
    { key: wire.stranger.key, certificates: wire.stranger.certificates.map(fromBase64Der) },
    serverCa,
  );
}

/** Runs one mode; returns the number of failed checks. */
export async function main(args: readonly string[]): Promise<number> {
  const [mode, file, algorithm = 'P-256'] = args;
  if (mode === 'self') await self();
  else if (mode === 'server' && file && (algorithm === 'P-256' || algorithm === 'Ed25519'))
    await server(file, algorithm);
  else if (mode === 'client' && file) await client(file);
  else {
    console.log(
      JSON.stringify({ error: `usage: self | server <file> [Ed25519|P-256] | client <file>` }),
    );
    return 2;
  }
  console.log(JSON.stringify({ done: true, failed }));
  return failed;
}
