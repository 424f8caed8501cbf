import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Idle keep-alive connections stay open longer than the proxies put in front of us keep theirs
 * (AWS ALB's idle timeout and nginx's upstream keepalive_timeout are 60 s). With Node's default of
 * 5 s the server closes idle connections first, and a proxy (or any client) that sends its next
 * request on one just as we close it gets "other side closed" (a 502 behind a proxy).
 *
 * `headersTimeout` and `requestTimeout` stay finite: they stop clients that send headers or bodies
 * slowly (slowloris). Node 24 runs the headers timer only while a request is being received, from
 * its first byte, not while a connection idles between requests, so it need not exceed
 * keepAliveTimeout (the old advice for Node 10-12); Node requires headersTimeout <= requestTimeout.
 */
export const HTTP_TIMEOUTS = {
  keepAliveTimeout: 65_000,
  headersTimeout: 60_000,
  requestTimeout: 300_000,
} as const;

const CLOSE = /\bclose\b/i;

/**
 * The connection is Node's to manage, when the response's headers go out:
 * - An answer sent before the request's body has fully arrived (a 413 for an oversized body, a 401
 *   to a large POST) says `Connection: close`, and Node closes the connection after it (RFC 9112
 *   §9.6). Otherwise the rest of the body stays on the connection: a body parser that gave up
 *   leaves it unread, and the next request on that connection would never be answered.
 * - A handler's own `Connection: keep-alive` is dropped (the MCP SDK copies one from the Web
 *   Responses of its event streams): with it set, Node ignores a client's `Connection: close` and
 *   keeps the socket until the keep-alive timeout.
 */
function manageConnection(request: IncomingMessage, response: ServerResponse): void {
  const writeHead = response.writeHead;
  response.writeHead = function writeHeadManagingConnection(
    this: ServerResponse,
    ...args: unknown[]
  ) {
    const headers = args[args.length - 1];
    if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
      const { connection, ...others } = headers as Record<string, unknown>;
      if (connection !== undefined && !CLOSE.test(String(connection)))
        args[args.length - 1] = others;
    }
    const own = this.getHeader('connection');
    if (own !== undefined && !CLOSE.test(String(own))) this.removeHeader('connection');
    if (!request.complete) this.setHeader('connection', 'close');
    return (writeHead as (...rest: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

/**
 * Applies HTTP_TIMEOUTS to `server` and makes closing it prompt despite the long keep-alive:
 * `closing()` closes idle connections, makes every response not yet started say
 * `Connection: close`, and closes each connection as soon as its response is done (a connection
 * left idle would otherwise hold `server.close()` for up to keepAliveTimeout).
 */
export function keepAlive(server: Server): { closing(): void } {
  server.keepAliveTimeout = HTTP_TIMEOUTS.keepAliveTimeout;
  server.requestTimeout = HTTP_TIMEOUTS.requestTimeout;
  server.headersTimeout = HTTP_TIMEOUTS.headersTimeout;
  let closing = false;
  const unfinished = new Set<ServerResponse>();
  const lastOnConnection = (response: ServerResponse) => {
    if (!response.headersSent) response.setHeader('connection', 'close');
  };
  // Before the app's listener, so the header is set before the app can write the response.
  server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    unfinished.add(response);
    if (closing) lastOnConnection(response);
    response.once('close', () => unfinished.delete(response));
    manageConnection(request, response);
    response.once('finish', () => {
      // Also for responses whose headers went out before closing (streams), or whose headers the
      // app replaced (koa's error handler clears them); after this tick the connection is idle.
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  return {
    closing() {
      closing = true;
      for (const response of unfinished) lastOnConnection(response);
      server.closeIdleConnections();
    },
  };
}
