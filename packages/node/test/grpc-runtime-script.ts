/**
 * @module test/grpc-runtime-script — `@certified/node/grpc` (serveGrpc + createGrpcChannelCredentials
 * over `@grpc/grpc-js`) that grpc-runtimes.test.ts bundles with esbuild and runs under Node, Deno and
 * Bun. Prints one JSON line per check (`{ check, ok, detail }`) and a final `{ done, failed }` line;
 * exits 1 if any check failed.
 *
 *   self                 serveGrpc + grpc-js clients in one process (Ed25519 and P-256): trusted
 *                        unary and streaming calls answered with the caller's CN, a stranger refused
 *                        before any handler runs, a client refusing a server that does not chain to
 *                        its pinned anchor, and updateTrust revoking an open connection while another
 *                        client keeps working
 *   server <file> [alg]  serveGrpc (P-256 by default), write what a client needs to <file>, run until killed
 *   client <file>        call the server described in <file> (trusted → answered with CN; stranger →
 *                        refused; a client pinning another anchor refuses the server)
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Server, status, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { createPathValidator, fromBase64Der, toBase64Der } from '@certified/core';
import { createGrpcChannelCredentials, grpcPeerOf, serveGrpc } from '../src/grpc/index.js';
import type { GrpcConnectionEvent, GrpcListener } from '../src/grpc/index.js';
import {
  count,
  greeter,
  GreeterService,
  hello,
  type HelloReply,
  type HelloRequest,
  type Outcome,
} from './grpc-service.js';
import {
  createTlsPki,
  issueClient,
  issueServer,
  type TlsAlgorithm,
  type TlsIdentity,
} from '@certified/testing/tls-pki';

/** What the `client` mode needs from a `server` run (DER as base64). */
interface Wire {
  target: string;
  serverCa: string;
  trusted: { key: string; certificates: string[]; commonName: string };
  stranger: { key: string; certificates: string[] };
}

type Caller = Pick<TlsIdentity, 'key' | 'certificates'>;

const isDeno = 'Deno' in globalThis;

let failed = 0;
function check(check: string, ok: boolean, detail?: unknown): void {
  if (!ok) failed++;
  console.log(JSON.stringify({ check, ok, detail }));
}

const errorOf = (e: unknown): { name?: string; code?: unknown; message: string } => ({
  name: (e as Error)?.name,
  code: (e as { code?: unknown })?.code,
  message: String((e as Error)?.message ?? e),
});

/** A call's value, or its status code and details. */
const outcomeOf = <T>(o: Outcome<T>): unknown =>
  o.ok ? { value: o.value } : { code: o.error.code, details: o.error.details };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(get: () => T | undefined, ms = 3000): Promise<T | undefined> {
  for (let waited = 0; waited < ms; waited += 20) {
    const v = get();
    if (v !== undefined) return v;
    await sleep(20);
  }
  return get();
}

/** Runs `fn`; a check passes when it resolves to true, and shows the value or error otherwise. */
async function expectThat(name: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    const r = await fn();
    check(name, r === true, r === true ? undefined : r);
  } catch (e) {
    check(name, false, errorOf(e));
  }
}

const clients: { close(): void }[] = [];

/** A Greeter client on `target` as `me`, trusting servers that chain to `anchor`. */
function clientOf(target: string, me: Caller, anchor: Uint8Array): ReturnType<typeof greeter> {
  const client = greeter(
    target,
    createGrpcChannelCredentials({
      key: me.key,
      certificates: me.certificates,
      validator: createPathValidator({ anchors: [anchor] }),
    }),
  );
  clients.push(client);
  return client;
}

async function start(algorithm: TlsAlgorithm) {
  const pki = await createTlsPki(algorithm, `gRPC Runtime ${algorithm}`);
  const strangers = await createTlsPki(algorithm, `gRPC Strangers ${algorithm}`);
  const serverId = await issueServer(pki);
  const trusted = await issueClient(pki, `Ada ${algorithm}`);
  const other = await issueClient(pki, `Bob ${algorithm}`);
  const stranger = await issueClient(strangers, 'Mallory');
  /** Every handler invocation: `<method> <caller CN>`. */
  const calls: string[] = [];
  // A Count for "held" streams its first reply, then waits for release() (a call in progress).
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const server = new Server();
  server.addService(GreeterService, {
    hello(
      call: ServerUnaryCall<HelloRequest, HelloReply>,
      callback: (e: null, r: HelloReply) => void,
    ) {
      const caller = grpcPeerOf(call)?.commonName ?? null;
      calls.push(`hello ${caller}`);
      callback(null, { text: `hello ${call.request.name}`, caller });
    },
    async count(call: ServerWritableStream<HelloRequest, HelloReply>) {
      const caller = grpcPeerOf(call)?.commonName ?? null;
      calls.push(`count ${caller}`);
      call.write({ text: `${call.request.name} 1`, caller });
      if (call.request.name === 'held') await held;
      for (let i = 2; i <= 3; i++) call.write({ text: `${call.request.name} ${i}`, caller });
      call.end();
    },
  });
  const events: GrpcConnectionEvent[] = [];
  let listener: GrpcListener;
  try {
    listener = await serveGrpc(server, {
      key: serverId.key,
      certificates: serverId.certificates,
      validator: pki.validator(),
      url: 'https://127.0.0.1:0',
      onConnection: (e) => events.push(e),
      onError: () => undefined,
    });
  } catch (e) {
    server.forceShutdown();
    throw e;
  }
  const stop = async (): Promise<void> => {
    await listener.close();
    server.forceShutdown();
  };
  return {
    pki,
    strangers,
    trusted,
    other,
    stranger,
    server,
    listener,
    events,
    calls,
    release,
    stop,
  };
}

async function callTrusted(
  label: string,
  target: string,
  me: Caller & { commonName: string },
  serverCa: Uint8Array,
): Promise<void> {
  await expectThat(`${label}: trusted call answered with the caller's CN`, async () => {
    const r = await hello(clientOf(target, me, serverCa), 'world');
    return r.ok && r.value.text === 'hello world' && r.value.caller === me.commonName
      ? true
      : outcomeOf(r);
  });
}

async function callStranger(
  label: string,
  target: string,
  stranger: Caller,
  serverCa: Uint8Array,
): Promise<void> {
  await expectThat(`${label}: stranger refused (UNAVAILABLE)`, async () => {
    const r = await hello(clientOf(target, stranger, serverCa), 'x');
    return !r.ok && r.error.code === status.UNAVAILABLE ? true : outcomeOf(r);
  });
}

/** The client pins `anchor`, which the server does not chain to: no call reaches it. */
async function refuseServer(
  label: string,
  target: string,
  me: Caller,
  anchor: Uint8Array,
): Promise<void> {
  await expectThat(
    `${label}: client refuses a server not chaining to its pinned anchor (ERR_CHAIN_NO_PATH)`,
    async () => {
      const r = await hello(clientOf(target, me, anchor), 'x');
      return !r.ok &&
        r.error.code === status.UNAVAILABLE &&
        /ERR_CHAIN_NO_PATH/.test(r.error.details)
        ? true
        : outcomeOf(r);
    },
  );
}

async function self(): Promise<void> {
  for (const algorithm of ['Ed25519', 'P-256'] as const) {
    let s: Awaited<ReturnType<typeof start>> | undefined;
    try {
      s = await start(algorithm);
      const { pki, strangers, trusted, other, stranger, listener, events, calls, release } = s;
      const target = listener.target;
      const ca = pki.ca.der;
      await callTrusted(algorithm, target, trusted, ca);
      await expectThat(`${algorithm}: trusted server-streaming call answered`, async () => {
        const r = await count(clientOf(target, trusted, ca), 'n');
        const want = [1, 2, 3].map((i) => `n ${i}/${trusted.commonName}`).join();
        return r.ok && r.value.map((v) => `${v.text}/${v.caller}`).join() === want
          ? true
          : outcomeOf(r);
      });

      const before = calls.length;
      await callStranger(algorithm, target, stranger, ca);
      await expectThat(
        `${algorithm}: server refused the stranger with ERR_CHAIN_NO_PATH, no handler ran`,
        async () => {
          const ev = await eventually(() =>
            events.find((e) => e.type === 'refused' && e.subject === 'CN=Mallory'),
          );
          return ev?.type === 'refused' &&
            ev.code === 'ERR_CHAIN_NO_PATH' &&
            calls.length === before
            ? true
            : { event: ev, calls: calls.slice(before) };
        },
      );
      await refuseServer(algorithm, target, trusted, strangers.ca.der);
      await expectThat(`${algorithm}: the refused server saw no call`, () =>
        Promise.resolve(calls.length === before ? true : calls.slice(before)),
      );

      const adaClient = clientOf(target, trusted, ca);
      const bobClient = clientOf(target, other, ca);
      const bobCaller = `count ${other.commonName}`;
      let streaming: Promise<Outcome<HelloReply[]>> | undefined;
      await expectThat(
        `${algorithm}: updateTrust revokes an open connection; its next call fails before any handler, others work`,
        async () => {
          const first = await hello(adaClient, 'a');
          if (!first.ok) return { first: outcomeOf(first) };
          // Bob's call in progress while his connection is revoked.
          streaming = count(bobClient, 'held');
          await eventually(() => (calls.includes(bobCaller) ? true : undefined));
          events.length = 0;
          // Ada's certificate pinned alone: Bob's open connection is revoked.
          const revoked = await listener.updateTrust(
            createPathValidator({ anchors: [trusted.certificate.der] }),
          );
          const handled = calls.length;
          const again = await hello(bobClient, 'again');
          const still = await hello(adaClient, 'still');
          const ev = events.find((e) => e.type === 'revoked');
          return revoked === 1 &&
            ev?.type === 'revoked' &&
            ev.subject === `CN=${other.commonName}` &&
            ev.code === 'ERR_CHAIN_NO_PATH' &&
            !again.ok &&
            again.error.code === status.UNAVAILABLE &&
            still.ok &&
            still.value.caller === trusted.commonName &&
            calls.slice(handled).join() === `hello ${trusted.commonName}`
            ? true
            : {
                revoked,
                events,
                again: outcomeOf(again),
                still: outcomeOf(still),
                calls: calls.slice(handled),
              };
        },
      );
      release();
      await expectThat(
        isDeno
          ? `${algorithm}: the revoked connection's call in progress ends (Deno's client may drop its last frames after GOAWAY)`
          : `${algorithm}: the revoked connection's call in progress finishes`,
        async () => {
          if (!streaming) return 'no call in progress';
          const stream = await streaming;
          // Informational: which way it went on this runtime.
          console.log(JSON.stringify({ probe: 'stream after GOAWAY', outcome: outcomeOf(stream) }));
          if (stream.ok && stream.value.length === 3) return true;
          // Deno's node:http2 client loses the stream's last frames when the server closes the
          // connection right after them (any server runtime; Node and Bun clients do not).
          return isDeno &&
            !stream.ok &&
            stream.error.code === status.UNAVAILABLE &&
            stream.error.details === 'Connection dropped'
            ? true
            : outcomeOf(stream);
        },
      );
    } catch (e) {
      check(`${algorithm}: setup`, false, errorOf(e));
    } finally {
      for (const c of clients.splice(0)) c.close();
      await s?.stop();
    }
  }
}

async function server(file: string, algorithm: TlsAlgorithm): Promise<void> {
  const s = await start(algorithm);
  const wire: Wire = {
    target: s.listener.target,
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
  console.log(JSON.stringify({ listening: s.listener.target }));
  // Runs until the test kills it.
  await new Promise(() => undefined);
}

async function client(file: string): Promise<void> {
  const wire = JSON.parse(readFileSync(file, 'utf8')) as Wire;
  const serverCa = fromBase64Der(wire.serverCa);
  const trusted = { ...wire.trusted, certificates: wire.trusted.certificates.map(fromBase64Der) };
  const stranger = {
    key: wire.stranger.key,
    certificates: wire.stranger.certificates.map(fromBase64Der),
  };
  try {
    await callTrusted('cross', wire.target, trusted, serverCa);
    await callStranger('cross', wire.target, stranger, serverCa);
    // The stranger's CA (second in its chain) is not the server's.
    await refuseServer('cross', wire.target, trusted, stranger.certificates[1]!);
  } finally {
    for (const c of clients.splice(0)) c.close();
  }
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
      JSON.stringify({ error: 'usage: self | server <file> [Ed25519|P-256] | client <file>' }),
    );
    return 2;
  }
  console.log(JSON.stringify({ done: true, failed }));
  return failed;
}
