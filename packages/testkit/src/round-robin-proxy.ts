import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';

/**
 * A minimal round-robin HTTP load balancer for multi-instance tests: each request goes to the next
 * upstream port; an upstream that refuses the connection is skipped (the request is retried on the
 * next one), so killing an instance mid-test is survivable. Bodies are buffered (small OAuth and
 * MCP requests), the Host header is kept, so the apps see the public URL.
 */
export interface RoundRobinProxy {
  readonly port: number;
  /** How many requests each upstream served, by port. */
  readonly served: Map<number, number>;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(
  port: number,
  upstreams: readonly number[],
): Promise<RoundRobinProxy> {
  let next = 0;
  const served = new Map<number, number>(upstreams.map((p) => [p, 0]));
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    for (let attempt = 0; attempt < upstreams.length; attempt++) {
      const upstream = upstreams[next++ % upstreams.length] as number;
      const ok = await new Promise<boolean>((resolve) => {
        const forward = request(
          {
            host: '127.0.0.1',
            port: upstream,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (answer) => {
            served.set(upstream, (served.get(upstream) ?? 0) + 1);
            res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
            answer.pipe(res);
            answer.on('end', () => resolve(true));
            answer.on('error', () => resolve(true));
          },
        );
        forward.on('error', (error: NodeJS.ErrnoException) => {
          if (res.headersSent) {
            res.destroy();
            resolve(true);
          } else if (error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET') {
            resolve(false); // a dead instance: try the next one
          } else {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(`upstream error: ${error.code ?? error.message}`);
            resolve(true);
          }
        });
        forward.end(body);
      });
      if (ok) return;
    }
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('no upstream answered');
    }
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port,
    served,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
