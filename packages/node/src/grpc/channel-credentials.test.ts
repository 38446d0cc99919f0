/**
 * @module grpc/channel-credentials.test — `createGrpcChannelCredentials` against real `serveGrpc`
 * servers on 127.0.0.1: servers from another PKI, with the wrong name, without serverAuth, pinned,
 * `serverName` and `grpc.ssl_target_name_override`, call credentials, and option errors.
 */
import {
  CallCredentials,
  Metadata,
  Server,
  status,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import {
  createPathValidator,
  dnsName,
  type PathValidator,
  type ValidatedPath,
} from '@certified/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  greeter,
  GreeterService,
  hello,
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
import {
  createGrpcChannelCredentials,
  type GrpcChannelCredentialsOptions,
} from './channel-credentials.js';
import { grpcPeerOf, serveGrpc, type GrpcListener } from './serve-grpc.js';

let pki: TlsPki;
let strangers: TlsPki;
let ada: TlsIdentity;
let goodServer: TlsIdentity;
let strangeServer: TlsIdentity;
let elsewhere: TlsIdentity;
let clientOnlyServer: TlsIdentity;

beforeAll(async () => {
  pki = await createTlsPki('P-256', 'gRPC client Org');
  strangers = await createTlsPki('P-256', 'Strangers');
  ada = await issueClient(pki, 'Ada');
  goodServer = await issueServer(pki, 'good');
  strangeServer = await issueServer(strangers, 'strange');
  elsewhere = await pki.issue('elsewhere', {
    ekus: ['serverAuth'],
    altNames: [dnsName('elsewhere.example')],
  });
  clientOnlyServer = await pki.issue('client-only', {
    ekus: ['clientAuth'],
    altNames: [dnsName('localhost')],
  });
});

interface Running {
  listener: GrpcListener;
  server: Server;
  calls: { caller: string | null; auth: string | undefined }[];
}
const running: Running[] = [];
const clients: { close(): void }[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(
    running.map(async ({ listener, server }) => {
      await listener.close();
      server.forceShutdown();
    }),
  );
});

/** A server presenting `identity` that trusts clients of our PKI. */
async function start(identity: TlsIdentity): Promise<Running> {
  const server = new Server();
  const calls: Running['calls'] = [];
  server.addService(GreeterService, {
    hello(
      call: ServerUnaryCall<HelloRequest, HelloReply>,
      callback: (e: null, r: HelloReply) => void,
    ) {
      const caller = grpcPeerOf(call)?.commonName ?? null;
      calls.push({ caller, auth: call.metadata.get('authorization')[0]?.toString() });
      callback(null, { text: `hello ${call.request.name}`, caller });
    },
    count(call: ServerWritableStream<HelloRequest, HelloReply>) {
      call.end();
    },
  });
  const listener = await serveGrpc(server, {
    key: identity.key,
    certificates: identity.certificates,
    validator: pki.validator(),
    url: 'https://127.0.0.1:0',
    onError: () => undefined,
  });
  const r = { listener, server, calls };
  running.push(r);
  return r;
}

function client(
  target: string,
  options: Partial<GrpcChannelCredentialsOptions> = {},
  channelOptions?: Record<string, string>,
) {
  const c = greeter(
    target,
    createGrpcChannelCredentials({
      key: ada.key,
      certificates: ada.certificates,
      validator: pki.validator(),
      ...options,
    }),
    channelOptions,
  );
  clients.push(c);
  return c;
}

describe('createGrpcChannelCredentials', () => {
  it('trusts a server our validator accepts, and reports its path', async () => {
    const { listener, calls } = await start(goodServer);
    const seen: ValidatedPath[] = [];
    const result = await hello(client(listener.target, { onServer: (p) => seen.push(p) }), 'x');
    expect(result).toEqual({ ok: true, value: { text: 'hello x', caller: 'Ada' } });
    expect(calls).toHaveLength(1);
    expect(seen.map((p) => p.peer.commonName)).toEqual(['good']);
  });

  it('refuses a server that does not chain to our anchors, with ERR_CHAIN_NO_PATH', async () => {
    const { listener, calls } = await start(strangeServer);
    const result = await hello(client(listener.target), 'x');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(status.UNAVAILABLE);
    expect(result.error.details).toContain('ERR_CHAIN_NO_PATH');
    expect(calls).toEqual([]);
  });

  it('refuses a server whose certificate does not carry the target name, with ERR_CHAIN_PEER_NAME', async () => {
    const { listener, calls } = await start(elsewhere);
    const result = await hello(client(listener.target), 'x');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(status.UNAVAILABLE);
    expect(result.error.details).toContain('ERR_CHAIN_PEER_NAME');
    expect(calls).toEqual([]);
  });

  it('checks serverName (or grpc.ssl_target_name_override) instead of the target host', async () => {
    const { listener, calls } = await start(elsewhere);
    const named = await hello(client(listener.target, { serverName: 'elsewhere.example' }), 'a');
    expect(named).toMatchObject({ ok: true, value: { caller: 'Ada' } });
    const overridden = await hello(
      client(listener.target, {}, { 'grpc.ssl_target_name_override': 'elsewhere.example' }),
      'b',
    );
    expect(overridden).toMatchObject({ ok: true });
    const wrong = await hello(client(listener.target, { serverName: 'other.example' }), 'c');
    expect(wrong.ok).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('refuses a server certificate without the serverAuth EKU, with ERR_CHAIN_EKU', async () => {
    const { listener, calls } = await start(clientOnlyServer);
    const result = await hello(client(`localhost:${listener.port}`), 'x');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.details).toContain('ERR_CHAIN_EKU');
    expect(calls).toEqual([]);
  });

  it('trusts a server pinned by its own end-entity certificate, and no other', async () => {
    const pinned: PathValidator = createPathValidator({ anchors: [goodServer.certificate.der] });
    const good = await start(goodServer);
    expect(await hello(client(good.listener.target, { validator: pinned }), 'x')).toMatchObject({
      ok: true,
    });
    // Same CA, different server: the CA is not an anchor here.
    const other = await start(await issueServer(pki, 'other'));
    const refused = await hello(client(other.listener.target, { validator: pinned }), 'x');
    expect(refused.ok).toBe(false);
    expect(other.calls).toEqual([]);
  });

  it('carries composed call credentials', async () => {
    const { listener, calls } = await start(goodServer);
    const creds = createGrpcChannelCredentials({
      key: ada.key,
      certificates: ada.certificates,
      validator: pki.validator(),
    }).compose(
      CallCredentials.createFromMetadataGenerator((_params, callback) => {
        const md = new Metadata();
        md.set('authorization', 'Bearer t0ken');
        callback(null, md);
      }),
    );
    const c = greeter(listener.target, creds);
    clients.push(c);
    expect(await hello(c, 'x')).toMatchObject({ ok: true, value: { caller: 'Ada' } });
    expect(calls).toEqual([{ caller: 'Ada', auth: 'Bearer t0ken' }]);
  });

  it('fails connections with ERR_KEY_MISMATCH when our key is not our certificate', async () => {
    const { listener, calls } = await start(goodServer);
    const other = await issueClient(pki, 'Other');
    const result = await hello(client(listener.target, { key: other.key }), 'x');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(status.UNAVAILABLE);
    expect(result.error.details).toMatch(/does not belong/);
    expect(calls).toEqual([]);
  });

  it('rejects bad options', () => {
    const base = { key: ada.key, certificates: ada.certificates, validator: pki.validator() };
    expect(() => createGrpcChannelCredentials(undefined as never)).toThrow(TypeError);
    expect(() => createGrpcChannelCredentials({ ...base, validator: {} as PathValidator })).toThrow(
      TypeError,
    );
    expect(() => createGrpcChannelCredentials({ ...base, serverName: '' })).toThrow(TypeError);
    expect(() => createGrpcChannelCredentials({ ...base, key: 'nope' })).toThrow(TypeError);
    expect(() => createGrpcChannelCredentials({ ...base, certificates: [] })).toThrow(TypeError);
    expect(() => createGrpcChannelCredentials({ ...base, handshakeTimeoutMs: -1 })).toThrow(
      RangeError,
    );
  });
});
