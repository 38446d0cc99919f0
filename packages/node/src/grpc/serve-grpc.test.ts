/**
 * @module grpc/serve-grpc.test — `serveGrpc` over real TLS on 127.0.0.1 with real grpc-js clients:
 * trusted, stranger, wrong-EKU and pinned clients, the caller's identity in unary and streaming
 * handlers, non-gRPC TLS clients, closing, trust updates revoking open connections, and option
 * errors.
 */
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import {
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import {
  certifiedPeer,
  createPathValidator,
  fingerprint,
  NetworkError,
  type PathValidator,
  VALIDATED_PATH,
} from '@certified/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  count,
  greeter,
  GreeterService,
  hello,
  rawHello,
  type HelloReply,
  type HelloRequest,
} from '../../test/grpc-service.js';
import {
  createTlsPki,
  issueClient,
  issueServer,
  type TlsIdentity,
  type TlsPki,
} from '@certified/testing/tls-pki';
import { holdValidator, ping } from '../../test/revocation.js';
import { createGrpcChannelCredentials } from './channel-credentials.js';
import {
  grpcPeerOf,
  serveGrpc,
  type GrpcConnectionEvent,
  type GrpcListener,
} from './serve-grpc.js';

let pki: TlsPki;
let strangers: TlsPki;
let serverId: TlsIdentity;
let ada: TlsIdentity;
let bob: TlsIdentity;
let mallory: TlsIdentity;
let serverOnly: TlsIdentity;

beforeAll(async () => {
  pki = await createTlsPki('P-256', 'gRPC Org');
  strangers = await createTlsPki('P-256', 'Strangers');
  serverId = await issueServer(pki);
  ada = await issueClient(pki, 'Ada');
  bob = await issueClient(pki, 'Bob');
  mallory = await issueClient(strangers, 'Mallory');
  // Same CA, but a server certificate: no clientAuth EKU.
  serverOnly = await pki.issue('Server-only', { ekus: ['serverAuth'] });
});

interface Running {
  listener: GrpcListener;
  server: Server;
  events: GrpcConnectionEvent[];
  /** Every handler invocation, with the caller the handler saw. */
  calls: { method: string; caller: string | null }[];
}

const running: Running[] = [];

/** `countGate`: the Count handler waits for it before streaming (a call held in progress). */
async function start(
  validator: PathValidator = pki.validator(),
  { countGate }: { countGate?: Promise<void> } = {},
): Promise<Running> {
  const server = new Server();
  const calls: Running['calls'] = [];
  server.addService(GreeterService, {
    hello(
      call: ServerUnaryCall<HelloRequest, HelloReply>,
      callback: (e: null, r: HelloReply) => void,
    ) {
      const caller = grpcPeerOf(call)?.commonName ?? null;
      calls.push({ method: 'hello', caller });
      callback(null, { text: `hello ${call.request.name}`, caller });
    },
    async count(call: ServerWritableStream<HelloRequest, HelloReply>) {
      const caller = grpcPeerOf(call)?.commonName ?? null;
      calls.push({ method: 'count', caller });
      call.write({ text: `${call.request.name} 1`, caller });
      await countGate;
      for (let i = 2; i <= 3; i++) call.write({ text: `${call.request.name} ${i}`, caller });
      call.end();
    },
  });
  const events: GrpcConnectionEvent[] = [];
  const listener = await serveGrpc(server, {
    key: serverId.key,
    certificates: serverId.certificates,
    validator,
    url: 'https://127.0.0.1:0',
    onConnection: (e) => events.push(e),
    onError: () => undefined,
  });
  const r = { listener, server, events, calls };
  running.push(r);
  return r;
}

function clientFor(listener: GrpcListener, me: TlsIdentity): ReturnType<typeof greeter> {
  const client = greeter(
    listener.target,
    createGrpcChannelCredentials({
      key: me.key,
      certificates: me.certificates,
      validator: pki.validator(),
    }),
  );
  clients.push(client);
  return client;
}
const clients: { close(): void }[] = [];

const sessions: ClientHttp2Session[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of sessions) s.destroy();
  await Promise.all(
    running.map(async ({ listener, server }) => {
      await listener.close();
      server.forceShutdown();
    }),
  );
});

describe('serveGrpc', () => {
  it('answers a trusted client, and the handler sees who is calling', async () => {
    const { listener, events, calls } = await start();
    const result = await hello(clientFor(listener, ada), 'world');
    expect(result).toEqual({ ok: true, value: { text: 'hello world', caller: 'Ada' } });
    expect(calls).toEqual([{ method: 'hello', caller: 'Ada' }]);
    const accepted = events.find((e) => e.type === 'accepted');
    expect(accepted).toMatchObject({
      type: 'accepted',
      commonName: 'Ada',
      remoteAddress: '127.0.0.1',
    });
    expect(listener.connections).toBe(1);
  });

  it('tells concurrent callers apart, in unary and streaming handlers', async () => {
    const { listener, calls } = await start();
    const [a, b, s] = await Promise.all([
      hello(clientFor(listener, ada), 'a'),
      hello(clientFor(listener, bob), 'b'),
      count(clientFor(listener, bob), 'n'),
    ]);
    expect(a).toMatchObject({ ok: true, value: { caller: 'Ada' } });
    expect(b).toMatchObject({ ok: true, value: { caller: 'Bob' } });
    expect(s).toEqual({
      ok: true,
      value: [1, 2, 3].map((i) => ({ text: `n ${i}`, caller: 'Bob' })),
    });
    expect(calls).toHaveLength(3);
  });

  it('refuses a stranger (another PKI) with ERR_CHAIN_NO_PATH before any handler runs', async () => {
    const { listener, events, calls } = await start();
    const result = await hello(clientFor(listener, mallory), 'world');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(status.UNAVAILABLE);
    expect(calls).toEqual([]);
    const refused = events.filter((e) => e.type === 'refused');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ code: 'ERR_CHAIN_NO_PATH', subject: 'CN=Mallory' });
    expect(events.some((e) => e.type === 'accepted')).toBe(false);
  });

  it('refuses a client certificate without the clientAuth EKU with ERR_CHAIN_EKU', async () => {
    const { listener, events, calls } = await start();
    const result = await hello(clientFor(listener, serverOnly), 'world');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(status.UNAVAILABLE);
    expect(calls).toEqual([]);
    expect(events.find((e) => e.type === 'refused')).toMatchObject({ code: 'ERR_CHAIN_EKU' });
  });

  it('accepts a pinned end-entity client certificate as the only anchor, and nobody else', async () => {
    const { listener, calls } = await start(
      createPathValidator({ anchors: [ada.certificate.der] }),
    );
    const pinned = await hello(clientFor(listener, ada), 'pinned');
    expect(pinned).toEqual({ ok: true, value: { text: 'hello pinned', caller: 'Ada' } });
    // Bob has a certificate from the same CA, but the CA is not an anchor here.
    const other = await hello(clientFor(listener, bob), 'other');
    expect(other.ok).toBe(false);
    expect(calls).toEqual([{ method: 'hello', caller: 'Ada' }]);
  });

  it('drops TLS clients that do not speak HTTP/2, with ERR_NET_TLS', async () => {
    const { listener, events } = await start();
    await new Promise<void>((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: listener.port,
        key: ada.key,
        cert: ada.certificates.map((d) => pem(d)).join(''),
        rejectUnauthorized: false,
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
    await until(() => events.length > 0);
    expect(events[0]).toMatchObject({ type: 'refused', code: 'ERR_NET_TLS' });
  });

  it('close() stops accepting and resolves once connections are gone', async () => {
    const { listener, calls } = await start();
    expect((await hello(clientFor(listener, ada), 'before')).ok).toBe(true);
    await listener.close();
    expect(listener.connections).toBe(0);
    await expect(listener.close()).resolves.toBeUndefined();
    const after = await hello(clientFor(listener, ada), 'after', 3_000);
    expect(after.ok).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('rejects bad options', async () => {
    const server = new Server();
    const base = {
      key: serverId.key,
      certificates: serverId.certificates,
      validator: pki.validator(),
    };
    await expect(serveGrpc({} as Server, base)).rejects.toThrow(TypeError);
    await expect(serveGrpc(server, { ...base, validator: {} as PathValidator })).rejects.toThrow(
      TypeError,
    );
    await expect(serveGrpc(server, { ...base, handshakeTimeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(serveGrpc(server, { ...base, url: 'http://127.0.0.1:0' })).rejects.toMatchObject({
      code: 'ERR_NET_URL',
    });
    await expect(serveGrpc(server, { ...base, key: ada.key })).rejects.toMatchObject({
      code: 'ERR_KEY_MISMATCH',
    });
    const { listener } = await start();
    const clash = serveGrpc(server, { ...base, url: `https://127.0.0.1:${listener.port}` });
    await expect(clash).rejects.toBeInstanceOf(NetworkError);
    await expect(clash).rejects.toMatchObject({ code: 'ERR_NET_CONNECT', reason: 'EADDRINUSE' });
    server.forceShutdown();
  });
});

describe('GrpcListener.updateTrust', () => {
  it('revokes an open connection the new trust refuses; its next call fails before any handler', async () => {
    const { listener, events, calls } = await start();
    const adaClient = clientFor(listener, ada);
    const bobClient = clientFor(listener, bob);
    expect(await hello(adaClient, 'a')).toMatchObject({ ok: true, value: { caller: 'Ada' } });
    expect(await hello(bobClient, 'b')).toMatchObject({ ok: true, value: { caller: 'Bob' } });
    expect(listener.connections).toBe(2);

    // Ada's certificate pinned alone: Bob's CA is no longer an anchor.
    const revoked = await listener.updateTrust(
      createPathValidator({ anchors: [ada.certificate.der] }),
    );
    expect(revoked).toBe(1);
    expect(events.filter((e) => e.type === 'revoked')).toEqual([
      {
        type: 'revoked',
        remoteAddress: '127.0.0.1',
        remotePort: expect.any(Number),
        code: 'ERR_CHAIN_NO_PATH',
        message: expect.any(String),
        subject: 'CN=Bob',
        fingerprint: fingerprint(bob.certificate.der),
      },
    ]);
    const handled = calls.length;

    const again = await hello(bobClient, 'again');
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.code).toBe(status.UNAVAILABLE);
    // Its new connection was refused at the handshake by the new trust.
    expect(events.filter((e) => e.type === 'refused')).toMatchObject([
      { code: 'ERR_CHAIN_NO_PATH', subject: 'CN=Bob' },
    ]);

    expect(await hello(adaClient, 'still')).toEqual({
      ok: true,
      value: { text: 'hello still', caller: 'Ada' },
    });
    expect(calls.slice(handled)).toEqual([{ method: 'hello', caller: 'Ada' }]);
    // Ada kept her connection; Bob's revoked one is gone.
    await until(() => listener.connections === 1);
    expect(listener.connections).toBe(1);
    expect(events.filter((e) => e.type === 'accepted')).toHaveLength(2);
  });

  it('lets a call in progress on a revoked connection finish, while new calls fail', async () => {
    let open!: () => void;
    const countGate = new Promise<void>((resolve) => (open = resolve));
    const { listener, calls } = await start(pki.validator(), { countGate });
    const bobClient = clientFor(listener, bob);
    const streaming = count(bobClient, 'n');
    await until(() => calls.length === 1);
    expect(calls).toEqual([{ method: 'count', caller: 'Bob' }]);

    expect(
      await listener.updateTrust(createPathValidator({ anchors: [ada.certificate.der] })),
    ).toBe(1);
    const again = await hello(bobClient, 'again');
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.code).toBe(status.UNAVAILABLE);

    open();
    expect(await streaming).toEqual({
      ok: true,
      value: [1, 2, 3].map((i) => ({ text: `n ${i}`, caller: 'Bob' })),
    });
    expect(calls).toEqual([{ method: 'count', caller: 'Bob' }]);
    await until(() => listener.connections === 0);
    expect(listener.connections).toBe(0);
  });

  it('keeps connections the new trust accepts, and judges new ones with it', async () => {
    const { listener, events } = await start();
    const adaClient = clientFor(listener, ada);
    expect((await hello(adaClient, 'a')).ok).toBe(true);
    expect((await hello(clientFor(listener, mallory), 'm')).ok).toBe(false);

    const both = createPathValidator({ anchors: [pki.ca.der, strangers.ca.der] });
    expect(await listener.updateTrust(both)).toBe(0);
    expect(events.some((e) => e.type === 'revoked')).toBe(false);
    expect(await hello(adaClient, 'b')).toMatchObject({ ok: true, value: { caller: 'Ada' } });
    expect(await hello(clientFor(listener, mallory), 'm')).toMatchObject({
      ok: true,
      value: { caller: 'Mallory' },
    });
    // Ada's calls stayed on her first connection.
    expect(events.filter((e) => e.type === 'accepted').map((e) => e.subject)).toEqual([
      'CN=Ada',
      'CN=Mallory',
    ]);
  });

  describe('while it re-judges the open connections', () => {
    /** A bare HTTP/2 session as `me`, so that a PING tells when the server has read a call. */
    const h2As = (listener: GrpcListener, me: TlsIdentity): ClientHttp2Session => {
      const session = http2Connect(listener.url, {
        key: me.key,
        cert: me.certificates.map((d) => pem(d)).join(''),
        ca: pem(pki.ca.der),
      });
      session.on('error', () => undefined);
      sessions.push(session);
      return session;
    };

    it('holds a new call until the verdict: revoked, it fails with UNAVAILABLE and no handler runs', async () => {
      const { listener, calls } = await start();
      const session = h2As(listener, bob);
      expect(await rawHello(session, 'before').outcome).toEqual({
        grpcStatus: status.OK,
        reply: { text: 'hello before', caller: 'Bob' },
      });
      const held = holdValidator(createPathValidator({ anchors: [ada.certificate.der] }));
      const revoking = listener.updateTrust(held.validator);
      await held.asked;
      const during = rawHello(session, 'during');
      await during.sent;
      await ping(session); // the server has read the call
      held.release();
      expect(await revoking).toBe(1);
      expect(await during.outcome).toMatchObject({
        grpcStatus: status.UNAVAILABLE,
        reply: undefined,
      });
      expect(calls).toEqual([{ method: 'hello', caller: 'Bob' }]);
    });

    it('holds a new call until the verdict: kept, the handler runs after it', async () => {
      const { listener, calls } = await start();
      const session = h2As(listener, bob);
      expect((await rawHello(session, 'before').outcome).grpcStatus).toBe(status.OK);
      const held = holdValidator(createPathValidator({ anchors: [bob.certificate.der] }));
      const keeping = listener.updateTrust(held.validator);
      await held.asked;
      const during = rawHello(session, 'during');
      await during.sent;
      await ping(session);
      held.release();
      expect(await keeping).toBe(0);
      expect(await during.outcome).toEqual({
        grpcStatus: status.OK,
        reply: { text: 'hello during', caller: 'Bob' },
      });
      expect(calls).toHaveLength(2);
    });
  });

  it('rejects a validator that is not a PathValidator with TypeError', async () => {
    const { listener } = await start();
    await expect(listener.updateTrust({} as PathValidator)).rejects.toThrow(TypeError);
    await expect(listener.updateTrust(undefined as unknown as PathValidator)).rejects.toThrow(
      /updateTrust\(validator\) must be a PathValidator/,
    );
  });
});

describe('grpcPeerOf', () => {
  it('is undefined for calls that did not come through serveGrpc', async () => {
    const { server } = await start();
    // The same server on a plain port as well: its calls carry no validated peer.
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const client = greeter(`127.0.0.1:${port}`, credentials.createInsecure());
    clients.push(client);
    expect(await hello(client, 'plain')).toEqual({
      ok: true,
      value: { text: 'hello plain', caller: null },
    });
  });

  it("gives the caller in core's CertifiedPeer shape, built once per path", async () => {
    const r = await pki.validator().validate({
      peer: ada.certificates[0]!,
      chain: ada.certificates.slice(1),
      purpose: 'clientAuth',
    });
    if (!r.ok) throw new Error(r.message);
    const metadata = new Metadata();
    (metadata as unknown as Record<symbol, unknown>)[VALIDATED_PATH] = r;
    const caller = grpcPeerOf({ metadata })!;
    expect(caller).toEqual(certifiedPeer(r));
    expect(caller.subject).toBe('CN=Ada');
    expect(caller.source).toBe('tls');
    expect(grpcPeerOf(metadata)).toBe(caller);
  });

  it('cannot be forged with metadata', () => {
    const metadata = new Metadata();
    metadata.set('certified-node-grpc-peer', 'CN=Mallory');
    expect(grpcPeerOf(metadata)).toBeUndefined();
    expect(grpcPeerOf({ metadata })).toBeUndefined();
    expect(grpcPeerOf(undefined)).toBeUndefined();
  });
});

// --- helpers ---

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}
