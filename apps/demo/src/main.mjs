#!/usr/bin/env node
// `npm start`: the certified quick start, for real. Creates (if missing) a service identity and a client
// identity under .demo/, trusts the client at the service, serves the example notes API over mutual TLS
// on 127.0.0.1 with `certified serve`, and prints the `message` and `curl` commands that reach it.
// Every step runs the built CLI, exactly as a user would type it. Ctrl-C stops the server.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'apps/cli/dist/certified.mjs');
const messageBin = join(root, 'apps/cli/dist/message.mjs');
const api = join(root, 'apps/cli/examples/notes-api.mjs');
const demo = process.env.CERTIFIED_DEMO_DIR ?? join(root, '.demo');
const service = join(demo, 'service');
const client = join(demo, 'client');
const url = `https://127.0.0.1:${process.env.PORT ?? '8443'}`;

const say = (line) => process.stdout.write(`${line}\n`);
function certified(...args) {
  say(`$ certified ${args.map((a) => (/[\s'"{}]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  return execFileSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

if (!existsSync(cli)) {
  process.stderr.write(`demo: ${cli} is missing; run \`npm run build\` first (npm start does).\n`);
  process.exit(1);
}

if (!existsSync(join(service, 'id.crt'))) {
  process.stdout.write(
    certified(
      'init',
      '--org',
      'Example Org',
      '--unit',
      'Notes API',
      '--host',
      '127.0.0.1',
      '--host',
      'localhost',
      '--config',
      service,
    ),
  );
} else say(`Using the service identity in ${service}`);
if (!existsSync(join(client, 'id.crt'))) {
  process.stdout.write(
    certified('init', 'Ada Lovelace', '--email', 'ada@example.org', '--config', client),
  );
} else say(`Using the client identity in ${client}`);
// The service trusts everyone the client's CA signs; the client pins the service's CA for "notes".
process.stdout.write(
  certified('add-client', 'ada', join(client, 'CA.crt'), '--overwrite', '--config', service),
);
const signer = certified('get-signer', '--config', service).trim();
const signerFile = join(demo, 'service-signer.json');
execFileSync(process.execPath, [
  '-e',
  `require('fs').writeFileSync(${JSON.stringify(signerFile)}, process.argv[1])`,
  signer,
]);
process.stdout.write(
  certified('add-service', 'notes', signerFile, '--url', url, '--overwrite', '--config', client),
);

say(`$ certified serve ${api} ${url} --config ${service}`);
const server = spawn(process.execPath, [cli, 'serve', api, url, '--config', service], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let announced = false;
server.stdout.setEncoding('utf8');
server.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (announced || !chunk.includes('Serving')) return;
  announced = true;
  say('');
  say('The API is up. Reach it as the client, with our validator judging the server:');
  say(`  node ${messageBin} https://notes/ --config ${client}`);
  say(`  node ${messageBin} https://notes/notes '{"message": "hello"}' --config ${client}`);
  say('or with curl, presenting the client identity:');
  say(
    `  curl --cacert ${join(service, 'CA.crt')} --cert ${join(client, 'id.crt')} --key ${join(client, 'id.key')} ${url}/`,
  );
  say('Anyone else is refused at the handshake. Ctrl-C stops the server.');
});
server.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 1)));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => server.kill('SIGTERM'));
