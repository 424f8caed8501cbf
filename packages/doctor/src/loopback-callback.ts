import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The redirect URI a native client listens on (RFC 8252 §7.3): `http://127.0.0.1:<port>/callback`.
 * Each authorization response that reaches it is queued for `next()`; the browser gets a page
 * saying it can be closed.
 */
export interface LoopbackCallback {
  readonly redirectUri: string;
  /** The next authorization response's query parameters; rejects after `timeoutMs`. */
  next(timeoutMs: number): Promise<URLSearchParams>;
  close(): Promise<void>;
}

export async function listenForCallback(port = 0): Promise<LoopbackCallback> {
  const arrived: URLSearchParams[] = [];
  const waiting: Array<(params: URLSearchParams) => void> = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      response.writeHead(404).end();
      return;
    }
    const done = url.searchParams.has('code')
      ? 'Signed in. gatehouse doctor goes on checking; you can close this tab.'
      : 'The authorization server answered with an error; gatehouse doctor reports it. You can close this tab.';
    response
      .writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      .end(done);
    const waiter = waiting.shift();
    if (waiter) waiter(url.searchParams);
    else arrived.push(url.searchParams);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${bound}/callback`,
    next(timeoutMs) {
      const queued = arrived.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiting.indexOf(settle);
          if (index >= 0) waiting.splice(index, 1);
          reject(new Error(`no authorization response within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        const settle = (params: URLSearchParams) => {
          clearTimeout(timer);
          resolve(params);
        };
        waiting.push(settle);
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
