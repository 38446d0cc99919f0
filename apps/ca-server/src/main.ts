#!/usr/bin/env node
/**
 * @module main — `certified-ca-server --config ca.yaml [--listen https://127.0.0.1:8443]`: serves until
 * SIGINT/SIGTERM. Errors print `code: message` and exit 1; usage errors exit 2.
 */
import { parseArgs } from 'node:util';
import { isCaError } from '@certified/ca';
import { startCaServer } from '@certified/ca/node';

let values: { config?: string; listen?: string };
try {
  ({ values } = parseArgs({
    options: { config: { type: 'string' }, listen: { type: 'string' } },
    strict: true,
  }));
} catch (e) {
  console.error(`usage: certified-ca-server --config FILE [--listen URL]\n${(e as Error).message}`);
  process.exit(2);
}
if (!values.config) {
  console.error('usage: certified-ca-server --config FILE [--listen URL]');
  process.exit(2);
}
try {
  const server = await startCaServer({
    config: values.config,
    ...(values.listen ? { listen: values.listen } : {}),
  });
  console.log(`certified CA listening on ${server.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void server.close().then(() => process.exit(0)));
} catch (e) {
  console.error(isCaError(e) ? `${e.code}: ${e.message}` : String(e));
  process.exit(1);
}
