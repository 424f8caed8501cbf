import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Logger } from '@gatehouse/logging';
import type Koa from 'koa';
import type { Context, Next } from 'koa';

/**
 * Correlation ids and access logs: a sane incoming `x-request-id` is kept, else one is made; it is
 * echoed in the response and in the log line. Only the path is logged: query strings of OAuth
 * requests carry codes and state. `quietPaths` (health checks) log at debug.
 */
export function requestLog(logger: Logger, quietPaths: readonly string[] = []) {
  const quiet = new Set(quietPaths);
  return async (ctx: Context, next: Next): Promise<void> => {
    const incoming = ctx.get('x-request-id');
    const requestId = /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    ctx.set('x-request-id', requestId);
    ctx.state.requestId = requestId;
    const started = performance.now();
    try {
      await next();
    } finally {
      // res.statusCode, not ctx.status: handlers that write the raw response bypass koa's status.
      const fields = {
        requestId,
        method: ctx.method,
        path: ctx.path,
        status: ctx.res.statusCode,
        ms: Math.round(performance.now() - started),
      };
      if (quiet.has(ctx.path)) logger.debug(fields, 'request');
      else logger.info(fields, 'request');
    }
  };
}

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
