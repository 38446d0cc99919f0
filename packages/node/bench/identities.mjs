/**
 * The identities the benchmarks share, made by core's operations as `certified init` would: a
 * server ("Bench API", 127.0.0.1) and a client ("Bench Client"), each a P-256 signing CA plus the
 * identity certificate it signs, with the client's CA in the server's known_clients/.
 */
import { join } from 'node:path';
import {
  dnsName,
  emailAddress,
  encodePem,
  ipAddress,
  organizationName,
  personName,
} from '@certified/core';
import { addClient, initIdentity } from '@certified/identity';
import { createFileStore } from '@certified/node';

/** Certificate as PEM. */
export const pem = (certificate) => encodePem('CERTIFICATE', certificate.der);

/** Makes `root`/server and `root`/client; resolves with both identities and the server's directory. */
export async function createBenchPair(root) {
  const keyType = 'secp256r1';
  const serverDir = join(root, 'server');
  const server = await initIdentity(createFileStore(serverDir), {
    subject: organizationName({ organization: 'Bench API' }),
    altNames: [ipAddress('127.0.0.1'), dnsName('localhost')],
    keyType,
  });
  const client = await initIdentity(createFileStore(join(root, 'client')), {
    subject: personName({ commonName: 'Bench Client' }),
    altNames: [emailAddress('bench@example.org')],
    keyType,
  });
  await addClient(server, 'bench-client', pem(client.signer.certificate), { ca: true });
  return { serverDir, server, client };
}
