import type { Server } from 'node:http';
import type Koa from 'koa';

/** Listening and closing a koa app, as the apps' `listen()`/`close()` expose them. */
export function listener(app: Koa, port: number, bind: string) {
  let server: Server | undefined;
  return {
    listen: (): Promise<Server> =>
      new Promise((resolve, reject) => {
        const listening = app.listen(port, bind);
        listening.once('listening', () => {
          server = listening;
          resolve(listening);
        });
        listening.once('error', reject);
      }),
    async close(): Promise<void> {
      if (!server) return;
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    },
  };
}
