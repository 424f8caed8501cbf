import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Registry } from 'prom-client';
import { keepAlive } from './keep-alive.js';
import { serveMetrics } from './metrics.js';
import { ALLOWED_METHODS } from './request-target.js';

/**
 * Listening and closing a koa app, as the apps' `listen()`/`close()` expose them: keep-alive and
 * header/request timeouts as `HTTP_TIMEOUTS` (keep-alive.ts) says, and a prompt close even with
 * kept-alive connections open.
 */
export function listener(
  app: Koa,
  port: number,
  bind: string,
  /** Also serves `/metrics` on a listener of its own when `metrics.port` is set (metrics.ts). */
  metrics?: {
    readonly registry: Registry;
    readonly port: number | undefined;
    readonly bind: string;
  },
) {
  let server: Server | undefined;
  let connections: ReturnType<typeof keepAlive> | undefined;
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  const listenPublic = (): Promise<Server> =>
    new Promise((resolve, reject) => {
      const listening = app.listen(port, bind);
      connections = keepAlive(listening);
      // CONNECT (a proxy tunnel) is not served: without a listener Node drops the connection
      // without a word.
      listening.on('connect', (_request, socket: Duplex) => {
        socket.on('error', () => {});
        socket.end(
          `HTTP/1.1 405 Method Not Allowed\r\nAllow: ${ALLOWED_METHODS}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        );
      });
      listening.once('listening', () => {
        server = listening;
        resolve(listening);
      });
      listening.once('error', reject);
    });
  return {
    async listen(): Promise<Server> {
      const listening = await listenPublic();
      if (metrics?.port !== undefined)
        metricsServer = await serveMetrics(metrics.registry, metrics.port, metrics.bind);
      return listening;
    },
    async close(): Promise<void> {
      await metricsServer?.close();
      if (!server) return;
      const closed = new Promise<void>((resolve) => server?.close(() => resolve()));
      connections?.closing();
      await closed;
    },
  };
}
