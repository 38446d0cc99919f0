/**
 * What Node's TLS server does with a client certificate when we decide trust ourselves, as our
 * listener configures it (`requestCert: true`, `rejectUnauthorized: false`, no `ca`): OpenSSL still
 * verifies the chain the client sends, signatures included, and only its verdict is ignored. No
 * option turns that off (Node sets SSL_VERIFY_PEER with a callback that accepts every error), so
 * every new connection to our listener pays OpenSSL's check besides our own: why the mTLS server
 * bench prints a floor row (no judging at all) beside OpenSSL judging alone.
 */
import { connect, createServer, type TLSSocket } from 'node:tls';
import { encodePem } from '@certified/core';
import { createTlsPki, issueClient, issueServer } from '@certified/testing/tls-pki';
import { describe, expect, it } from 'vitest';

const pem = (ders: readonly Uint8Array[]): string =>
  ders.map((d) => encodePem('CERTIFICATE', d)).join('');

describe('node:tls with requestCert and rejectUnauthorized: false', () => {
  it('still verifies the client chain: a tampered signature is reported, not skipped', async () => {
    const pki = await createTlsPki('P-256', 'OpenSSL verifies');
    const server = await issueServer(pki);
    const client = await issueClient(pki, 'tampered');
    const tampered = client.certificates[0]!.slice();
    tampered[tampered.length - 1]! ^= 0x01; // the last byte of the ECDSA signature's s

    const verdicts: (string | undefined)[] = [];
    const tls = createServer(
      {
        key: server.key,
        cert: pem(server.certificates),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (socket: TLSSocket) => {
        verdicts.push(String(socket.authorizationError));
        socket.end();
      },
    );
    await new Promise<void>((listening) => tls.listen(0, '127.0.0.1', listening));
    const { port } = tls.address() as { port: number };
    try {
      for (const leaf of [client.certificates[0]!, tampered])
        await new Promise<void>((done, failed) => {
          const socket = connect({
            host: '127.0.0.1',
            port,
            key: client.key,
            cert: pem([leaf, pki.ca.der]),
            rejectUnauthorized: false,
          });
          socket.on('data', () => undefined);
          socket.on('end', done);
          socket.on('error', failed);
        });
    } finally {
      await new Promise((closed) => tls.close(closed));
    }
    // The genuine chain fails only for want of a trusted issuer; the tampered one at its signature,
    // which OpenSSL checked although nothing it decides is used.
    expect(verdicts).toEqual(['SELF_SIGNED_CERT_IN_CHAIN', 'CERT_SIGNATURE_FAILURE']);
  });
});
