/**
 * @module grpc/identity-dirs.test — the setup GRPC.md documents, on real identity directories on disk:
 * a gRPC server trusting `known_clients/`, a client reaching it as a `known_servers/` service, a
 * pinned client, and a stranger refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, status, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import {
  createPathValidator,
  dnsName,
  encodePem,
  ipAddress,
  organizationName,
  personName,
  type Certificate,
} from '@certified/core';
import {
  addClient,
  addService,
  clientAnchors,
  clientCredentials,
  initIdentity,
  loadIdentity,
  loadService,
  serverAnchors,
  serverCredentials,
  type Identity,
} from '@certified/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  greeter,
  GreeterService,
  hello,
  type HelloReply,
  type HelloRequest,
} from '../../test/grpc-service.js';
import { createFileStore } from '../fs-store.js';
import { createGrpcChannelCredentials, grpcPeerOf, serveGrpc, type GrpcListener } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'certified-grpc-'));
const pem = (c: Certificate): string => encodePem('CERTIFICATE', c.der);

async function makeIdentity(kind: 'person' | 'org', name: string): Promise<Identity> {
  return initIdentity(createFileStore(join(root, name)), {
    subject:
      kind === 'person'
        ? personName({ commonName: name })
        : organizationName({ organization: name, unit: 'API' }),
    altNames:
      kind === 'org'
        ? [ipAddress('127.0.0.1'), dnsName('localhost')]
        : [dnsName(`${name.toLowerCase()}.example.org`)],
  });
}

let listener: GrpcListener;
let server: Server;
const clients: { close(): void }[] = [];
const callers: string[] = [];

beforeAll(async () => {
  const notes = await makeIdentity('org', 'Notes');
  const ada = await makeIdentity('person', 'Ada');
  const carol = await makeIdentity('person', 'Carol');
  const mallory = await makeIdentity('person', 'Mallory');
  // Notes trusts Ada's CA, and Carol's own certificate (pinned).
  await addClient(notes, 'ada', pem(ada.signer!.certificate));
  await addClient(notes, 'carol', pem(carol.id.certificate));

  // --- the server, as in GRPC.md ---
  const me = await loadIdentity(createFileStore(join(root, 'Notes')));
  server = new Server({ 'grpc.max_concurrent_streams': 100 });
  server.addService(GreeterService, {
    hello(
      call: ServerUnaryCall<HelloRequest, HelloReply>,
      callback: (e: null, r: HelloReply) => void,
    ) {
      const caller = grpcPeerOf(call)?.commonName ?? null;
      callers.push(caller ?? '(nobody)');
      callback(null, { text: `hello ${call.request.name}`, caller });
    },
    count(call: ServerWritableStream<HelloRequest, HelloReply>) {
      call.end();
    },
  });
  const { certificates, keyPem } = serverCredentials(me);
  listener = await serveGrpc(server, {
    key: keyPem,
    certificates: certificates.map((c) => c.der),
    validator: createPathValidator({ anchors: clientAnchors(me) }),
    url: 'https://127.0.0.1:0',
    onError: () => undefined,
  });

  // Everyone knows Notes as the service "notes", pinned to Notes's CA.
  for (const who of [ada, carol, mallory])
    await addService(who, 'notes', pem(me.signer!.certificate), { url: listener.url });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await listener.close();
  server.forceShutdown();
  rmSync(root, { recursive: true, force: true });
});

/** The client, as in GRPC.md. */
async function callNotes(name: string) {
  const store = createFileStore(join(root, name));
  const me = await loadIdentity(store);
  const service = await loadService(store, 'notes');
  const { certificates, keyPem } = clientCredentials(me, service);
  const credentials = createGrpcChannelCredentials({
    key: keyPem,
    certificates: certificates.map((c) => c.der),
    validator: createPathValidator({ anchors: serverAnchors(me, service) }),
  });
  const client = greeter(new URL(service.url).host, credentials);
  clients.push(client);
  return hello(client, name);
}

describe('gRPC on identity directories (GRPC.md)', () => {
  it('answers a client whose CA is in known_clients/', async () => {
    expect(await callNotes('Ada')).toEqual({
      ok: true,
      value: { text: 'hello Ada', caller: 'Ada' },
    });
  });

  it('answers a client pinned by its own certificate in known_clients/', async () => {
    expect(await callNotes('Carol')).toMatchObject({ ok: true, value: { caller: 'Carol' } });
  });

  it('refuses a stranger, whose calls never reach a handler', async () => {
    const before = callers.length;
    const result = await callNotes('Mallory');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(status.UNAVAILABLE);
    expect(callers.length).toBe(before);
  });
});
