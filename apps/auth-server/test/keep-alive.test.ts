import { once } from 'node:events';
import { Agent, type IncomingMessage, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { waitForOutput } from '@gatehouse/testkit';
import { describe, expect, it } from 'vitest';
import { startAuthServer } from './support/server.js';

/**
 * Keep-alive as a proxy in front of the server uses it (AWS ALB, nginx upstream keepalive: 60 s
 * idle): a connection idle for longer than Node's default keepAliveTimeout (5 s) is still open and
 * serves the next request. And the long keep-alive never delays a stop: idle connections are
 * closed at once, a request in progress gets its answer with `Connection: close`.
 */

/** GET `path` through `agent`: the response, the socket that carried it, whether it was reused. */
function get(
  origin: string,
  path: string,
  agent: Agent,
): Promise<{ response: IncomingMessage; socket: Socket; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, origin), { agent }, (response) => {
      // Taken now: once the response has ended, the agent takes the socket back.
      const socket = response.socket;
      response.resume();
      response.once('end', () => resolve({ response, socket, reused: req.reusedSocket }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Reads from `socket` into `received.data` until `done` says so; resolves with all of it. */
async function readUntil(
  socket: Socket,
  received: { data: string },
  done: (data: string) => boolean,
): Promise<string> {
  while (!done(received.data)) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    received.data += chunk.toString('latin1');
  }
  return received.data;
}

/** The head of the `n`th response in `data`, once it has arrived completely. */
const nthHead = (data: string, n: number): string | undefined => {
  const head = data.split('HTTP/1.1 ')[n];
  return head?.includes('\r\n\r\n') ? `HTTP/1.1 ${head.split('\r\n\r\n')[0]}` : undefined;
};

describe('keep-alive', () => {
  it('serves the next request on a connection left idle for longer than 5 s', async () => {
    const server = await startAuthServer();
    // One socket, kept alive: the second request goes out on the first one's socket if it is open.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(server.issuer, '/healthz', agent);
      expect(first.response.statusCode).toBe(200);
      const advertised = /timeout=(\d+)/.exec(String(first.response.headers['keep-alive']))?.[1];
      // Longer than the 60 s idle timeout of the usual proxies, so they close first.
      expect(Number(advertised)).toBeGreaterThan(60);

      // Node's old default closed it after 5 s (plus a 1 s buffer); the agent would then have
      // dropped the socket and opened a new one.
      await new Promise((resolve) => setTimeout(resolve, 7_000));
      const second = await get(server.issuer, '/healthz', agent);
      expect(second.response.statusCode).toBe(200);
      expect(second.reused).toBe(true);
      expect(second.socket.localPort).toBe(first.socket.localPort);
    } finally {
      agent.destroy();
      await server.process.stop();
    }
  });

  it('stops on SIGTERM at once with an idle kept-alive connection open, and closes it', async () => {
    const server = await startAuthServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(server.issuer, '/healthz', agent);
      expect(first.response.headers.connection).toBe('keep-alive');
      const closed = once(first.socket, 'close');
      // Exit code 0: it exited by itself, not by stop()'s SIGKILL 10 s later (the connection
      // would hold server.close() for the whole keep-alive timeout).
      expect(await server.process.stop()).toBe(0);
      await closed;
    } finally {
      agent.destroy();
      await server.process.stop();
    }
  });

  it('answers a request in progress at SIGTERM with Connection: close, then stops', async () => {
    const server = await startAuthServer();
    const { host, port } = new URL(server.issuer);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    try {
      await once(socket, 'connect');
      const received = { data: '' };
      // A first request on the connection: the server has accepted it and keeps it alive.
      socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      await readUntil(socket, received, (data) => nthHead(data, 1) !== undefined);
      expect(nthHead(received.data, 1)).toMatch(/connection: keep-alive/i);
      // The second one's headers are half sent when the server is told to stop. A request on
      // another connection answered afterwards means the server has read them (it handles
      // sockets in the order data arrived), so this connection is busy, not idle, at SIGTERM.
      socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n`);
      const barrier = new Agent({ keepAlive: false });
      await get(server.issuer, '/healthz', barrier);
      const stopped = server.process.stop();
      const shuttingDown = await waitForOutput(
        server.process,
        (output) => output.includes('shutting down'),
        20_000,
      );
      if (!shuttingDown)
        throw new Error(`no "shutting down" in the output:\n${server.process.output()}`);
      socket.write('\r\n');
      await readUntil(socket, received, (data) => nthHead(data, 2) !== undefined);
      const answer = nthHead(received.data, 2);
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toMatch(/connection: close/i);
      expect(await stopped).toBe(0);
    } finally {
      socket.destroy();
      await server.process.stop();
    }
  });
});
