/**
 * The attacker of `hostile.mjs`, run as a child process: `loops` concurrent loops, each opening a TLS
 * connection that presents the forged ~100 KB chain (test/hostile-chain.ts) and waiting until the
 * server drops it, then opening the next — as fast as the server lets it. Loop i connects from
 * 127.0.0.(2 + i): four attackers are four hosts, as they would be on a network. The TLS context
 * (key and chain) is made once, as a determined attacker would.
 *
 * Messages: `{ type: 'attack', url, loops, key, cert }` starts; `{ type: 'halt' }` →
 * `{ type: 'halted', connections, handshakes, accepted }` once every loop has stopped (`handshakes`
 * counts connections the server let reach a TLS handshake; `accepted` those it answered with
 * HTTP 200: it must stay 0); `{ type: 'stop' }` exits.
 */
import { connect as netConnect } from 'node:net';
import { connect, createSecureContext } from 'node:tls';
import process from 'node:process';

let running = false;
let connections = 0;
let handshakes = 0;
let accepted = 0;
let loops = [];

/** One attempt: handshake with the forged chain, send a request, wait for the socket to close. */
function attempt(url, secureContext, localAddress) {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect({
      socket: netConnect({ host: hostname, port: Number(port), localAddress }),
      secureContext,
      rejectUnauthorized: false, // the attacker does not care who we are
      servername: 'localhost',
      ALPNProtocols: ['http/1.1'],
    });
    let reply = '';
    socket.once('secureConnect', () => handshakes++);
    socket.setEncoding('utf8');
    socket.on('secureConnect', () =>
      socket.write('GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n'),
    );
    socket.on('data', (d) => (reply += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      connections++;
      if (reply.startsWith('HTTP/1.1 200')) accepted++;
      resolve();
    });
  });
}

process.on('message', async (m) => {
  if (m.type === 'attack') {
    running = true;
    const secureContext = createSecureContext({ key: m.key, cert: m.cert });
    loops = Array.from({ length: m.loops }, async (_, i) => {
      while (running) await attempt(m.url, secureContext, `127.0.0.${2 + i}`);
    });
  } else if (m.type === 'halt') {
    running = false;
    await Promise.all(loops);
    process.send({ type: 'halted', connections, handshakes, accepted });
    connections = 0;
    handshakes = 0;
    accepted = 0;
  } else if (m.type === 'stop') {
    process.exit(0);
  }
});
