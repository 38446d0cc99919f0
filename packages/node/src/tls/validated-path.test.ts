/**
 * The validated path a server hangs on each admitted socket (`socket[VALIDATED_PATH]`, read by
 * @certified/hono's connection info): live through re-judging, and one getter shared by every
 * socket, so that sockets keep one shape (a closure per socket gave each its own, and node:http's
 * property loads on sockets missed their inline caches on every request).
 */
import type { TLSSocket } from 'node:tls';
import { VALIDATED_PATH, type ValidatedPath } from '@certified/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTlsPki,
  issueClient,
  issueServer,
  type TlsIdentity,
  type TlsPki,
} from '@certified/testing/tls-pki';
import { createMtlsFetch } from './client.js';
import { createMtlsServer, type MtlsServer } from './server.js';

describe('socket[VALIDATED_PATH]', () => {
  let pki: TlsPki;
  let ada: TlsIdentity;
  let server: MtlsServer;
  const sockets: TLSSocket[] = [];

  beforeAll(async () => {
    pki = await createTlsPki('P-256', 'Validated path test');
    ada = await issueClient(pki, 'Ada');
    const me = await issueServer(pki);
    server = await createMtlsServer({
      url: 'https://127.0.0.1:0',
      key: me.key,
      certificates: me.certificates,
      validator: pki.validator(),
      fetch: (_request, env) => {
        const socket = env.incoming?.socket as TLSSocket;
        if (!sockets.includes(socket)) sockets.push(socket);
        const path = (socket as unknown as { [VALIDATED_PATH]?: ValidatedPath })[VALIDATED_PATH];
        return new Response(path?.peer.commonName ?? '(none)');
      },
    });
  });
  afterAll(() => server?.close());

  const client = () =>
    createMtlsFetch({
      key: ada.key,
      certificates: ada.certificates,
      validator: pki.validator(),
      timeoutMs: 5_000,
    });

  it('is the path the server validated, with one getter for every socket, live after updateTrust', async () => {
    const [one, two] = [client(), client()];
    try {
      expect(await (await one(`${server.url}/`)).text()).toBe('Ada');
      expect(await (await two(`${server.url}/`)).text()).toBe('Ada');
      expect(sockets).toHaveLength(2);
      const [a, b] = sockets.map((s) => Object.getOwnPropertyDescriptor(s, VALIDATED_PATH));
      expect(a?.get).toBeTypeOf('function');
      expect(a?.get).toBe(b?.get);
      expect(a?.enumerable).toBe(false);

      // A new trust that still accepts Ada: the socket reports the path it accepted.
      const before = (sockets[0] as unknown as Record<symbol, ValidatedPath>)[VALIDATED_PATH]!;
      expect(await server.updateTrust(pki.validator())).toBe(0);
      const after = (sockets[0] as unknown as Record<symbol, ValidatedPath>)[VALIDATED_PATH]!;
      expect(after).not.toBe(before);
      expect(after.peer.commonName).toBe('Ada');
      expect(await (await one(`${server.url}/`)).text()).toBe('Ada');
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
