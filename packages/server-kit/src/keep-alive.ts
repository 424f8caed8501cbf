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

/**
 * An answer sent before the request's body has fully arrived (a 413 for an oversized body, a 401 to
 * a large POST) says `Connection: close`, and Node closes the connection after it (RFC 9112 §9.6).
 * Otherwise the rest of the body stays on the connection: a body parser that gave up leaves it
 * unread, and the next request on that connection would never be answered.
 */
function closeIfBodyUnread(request: IncomingMessage, response: ServerResponse): void {
  const writeHead = response.writeHead;
  response.writeHead = function writeHeadClosingEarly(this: ServerResponse, ...args: unknown[]) {
    if (!request.complete && !this.headersSent) this.setHeader('connection', 'close');
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
    closeIfBodyUnread(request, response);
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
