/**
 * @module test/tls-directories — identity directories built with @certified/core's operations, and
 * mTLS servers run from them, for the session tests: a service ("notes") that Ada calls by alias,
 * an imposter answering at an alias pinned to the service's CA, a server whose certificate lacks
 * the URL's host, and Bob, whom the service introduced. Shared by session.test.ts and the
 * cross-runtime script (bundled by esbuild), so it uses nothing runtime-specific.
 */
import {
  createPathValidator,
  dnsName,
  emailAddress,
  encodePem,
  ipAddress,
  organizationName,
  personName,
} from '@certified/core';
import {
  addClient,
  addIntro,
  addService,
  clientAnchors,
  getIdent,
  getSigner,
  initIdentity,
  introduce,
  loadIdentity,
  serverCredentials,
  type Identity,
  type IdentityStore,
} from '@certified/identity';
import { createMtlsServer, peerOf, type MtlsServer } from '../src/index.js';

/** A server run from an identity directory, counting the connections it accepted. */
export interface ServedIdentity {
  readonly server: MtlsServer;
  /** The subject of every accepted client connection, in order. */
  readonly accepted: string[];
  /** The path of every request, in order. */
  readonly requests: string[];
}

/** Serves `identity` (its own chain; callers judged by known_clients/): `hello <CN>` on every path. */
export async function serveIdentity(
  identity: Identity,
  options: { idleTimeoutMs?: number } = {},
): Promise<ServedIdentity> {
  const { certificates, keyPem } = serverCredentials(identity);
  const accepted: string[] = [];
  const requests: string[] = [];
  const server = await createMtlsServer({
    url: 'https://127.0.0.1:0',
    key: keyPem,
    certificates: certificates.map((c) => c.der),
    validator: createPathValidator({ anchors: clientAnchors(identity).map((c) => c.der) }),
    onConnection: (e) => e.type === 'accepted' && accepted.push(e.subject),
    onError: () => undefined,
    fetch: async (request, env) => {
      const url = new URL(request.url);
      requests.push(url.pathname);
      const body = request.method === 'POST' ? `: ${await request.text()}` : '';
      return new Response(`hello ${peerOf(env)?.peer.commonName ?? '(nobody)'}${body}`);
    },
    ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
  });
  return { server, accepted, requests };
}

/** The identities and servers of one test world; `close()` stops the servers. */
export interface World {
  /** Ada's store: she knows notes, imposter and misnamed (aliases). */
  readonly ada: IdentityStore;
  /** Bob's store: introduced by the notes service, which never added him as a client. */
  readonly bob: IdentityStore;
  /** The notes service, at known_servers/notes.yaml in Ada's and Bob's directories. */
  readonly notes: ServedIdentity;
  /** Another identity's server, at Ada's alias "imposter", which pins the notes CA. */
  readonly imposter: ServedIdentity;
  /** A server whose certificate names only api.example.org, at Ada's alias "misnamed" (its URL is 127.0.0.1). */
  readonly misnamed: ServedIdentity;
  close(): Promise<void>;
}

const pemOf = (identity: Identity): string =>
  encodePem('CERTIFICATE', identity.signer!.certificate.der);

/** Builds the world in the stores `storeFor(name)` gives (empty ones). */
export async function createWorld(
  storeFor: (name: 'svc' | 'ada' | 'bob' | 'evil' | 'named') => IdentityStore,
  options: { idleTimeoutMs?: number } = {},
): Promise<World> {
  const org = (organization: string, altNames: Parameters<typeof initIdentity>[1]['altNames']) =>
    ({ subject: organizationName({ organization }), altNames }) as const;
  const person = (commonName: string) => ({
    subject: personName({ commonName }),
    altNames: [emailAddress(`${commonName.toLowerCase()}@example.org`)],
  });
  const svc = await initIdentity(storeFor('svc'), org('Notes Org', [ipAddress('127.0.0.1')]));
  const evil = await initIdentity(storeFor('evil'), org('Evil Org', [ipAddress('127.0.0.1')]));
  const named = await initIdentity(
    storeFor('named'),
    org('Named Org', [dnsName('api.example.org')]),
  );
  const ada = await initIdentity(storeFor('ada'), person('Ada'));
  const bob = await initIdentity(storeFor('bob'), person('Bob'));
  // Each server trusts Ada, so only the client's own verdict can refuse the connection.
  for (const s of [svc, evil, named]) await addClient(s, 'ada', pemOf(ada));
  const serve = async (i: Identity) => serveIdentity(await loadIdentity(i.store), options);
  const notes = await serve(svc);
  const imposter = await serve(evil);
  const misnamed = await serve(named);
  const notesCa = JSON.stringify(getSigner(svc));
  await addService(ada, 'notes', notesCa, { url: notes.server.url });
  await addService(ada, 'imposter', notesCa, { url: imposter.server.url });
  await addService(ada, 'misnamed', JSON.stringify(getSigner(named)), {
    url: misnamed.server.url,
  });
  const letter = await introduce(svc, getIdent(bob), { services: { notes: notes.server.url } });
  await addIntro(bob, letter);
  return {
    ada: ada.store,
    bob: bob.store,
    notes,
    imposter,
    misnamed,
    async close() {
      await Promise.all([notes, imposter, misnamed].map((s) => s.server.close()));
    },
  };
}
