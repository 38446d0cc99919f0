/** @module net — loopback helpers for tests that start real servers. */
import { connect as connectTcp, createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (free when asked: bind it soon). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A real TLS ClientHello, as node:tls sends it, recorded on a loopback socket. */
export async function recordClientHello(): Promise<Uint8Array> {
  const { connect } = await import('node:tls');
  return new Promise((resolve) => {
    const recorder = createServer((s) =>
      s.once('data', (d: Uint8Array) => {
        resolve(d);
        s.destroy();
        recorder.close();
      }),
    );
    recorder.listen(0, '127.0.0.1', () => {
      const c = connect({
        host: '127.0.0.1',
        port: (recorder.address() as { port: number }).port,
        rejectUnauthorized: false,
      });
      c.on('error', () => undefined);
    });
  });
}

/**
 * Sends `hello` to 127.0.0.1:`port` from `localAddress` and resets the connection as soon as the
 * server answers: a handshake abandoned after the server did its work. Resolves with whether it
 * answered (false: dropped before the handshake).
 */
export function abandonHandshake(
  port: number,
  hello: Uint8Array,
  localAddress: string,
): Promise<boolean> {
  return new Promise((resolve) => {
    let answered = false;
    const socket = connectTcp({ host: '127.0.0.1', port, localAddress }, () => socket.write(hello));
    socket.on('error', () => undefined);
    socket.once('data', () => {
      answered = true;
      socket.resetAndDestroy();
    });
    socket.on('close', () => resolve(answered));
  });
}
