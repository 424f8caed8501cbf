import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Context, Next } from 'koa';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics for a Gatehouse app (prom-client): the process's own (CPU, memory, event
 * loop, GC), every HTTP request by route, method and status, and whatever counters the app adds.
 * Served either on a listener of its own (off the public port: `serveMetrics`) or on the public port
 * behind a bearer token (`metricsRoute`); by default nowhere.
 */
export interface AppMetrics {
  readonly registry: Registry;
  /** Times every request under `routeOf`'s label: a bounded set of names, never a raw path. */
  httpRequests(routeOf: (ctx: Context) => string): (ctx: Context, next: Next) => Promise<void>;
  counter<L extends string>(name: string, help: string, labels: readonly L[]): Counter<L>;
  histogram<L extends string>(
    name: string,
    help: string,
    labels: readonly L[],
    buckets?: readonly number[],
  ): Histogram<L>;
}

/** Where /metrics is served: a port of its own (on `bind`), the public port with `token`, both, or none. */
export interface MetricsConfig {
  readonly port: number | undefined;
  readonly bind: string;
  readonly token: string | undefined;
}

/** Seconds: from a cached token check (~1 ms) to a slow upstream (10 s). */
export const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

export function createMetrics(
  service: string,
  /** Where /metrics is served; without a port or a token, the process's own metrics (an event-loop monitor, a GC observer) are not collected at all. */
  served: Pick<MetricsConfig, 'port' | 'token'>,
): AppMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (served.port !== undefined || served.token !== undefined)
    collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const requests = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP requests by route, method and status, and how long they took to answer',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [...LATENCY_BUCKETS],
    registers: [registry],
  });
  return {
    registry,
    httpRequests(routeOf) {
      return async (ctx, next) => {
        const started = performance.now();
        // On `finish`: some routes answer outside koa (ctx.respond = false), so the status is
        // the response's own.
        ctx.res.once('finish', () => {
          requests.observe(
            { route: routeOf(ctx), method: ctx.method, status: String(ctx.res.statusCode) },
            (performance.now() - started) / 1000,
          );
        });
        await next();
      };
    },
    counter: (name, help, labels) =>
      new Counter({ name, help, labelNames: labels, registers: [registry] }),
    histogram: (name, help, labels, buckets = LATENCY_BUCKETS) =>
      new Histogram({
        name,
        help,
        labelNames: labels,
        buckets: [...buckets],
        registers: [registry],
      }),
  };
}

/** What `/metrics` answers: the text exposition format. */
async function exposition(registry: Registry): Promise<{ type: string; body: string }> {
  return { type: registry.contentType, body: await registry.metrics() };
}

/**
 * `GET /metrics` on the public port, for a scraper holding `token` (`Authorization: Bearer`);
 * without a token configured the path is not served at all (404 from what follows).
 */
export function metricsRoute(registry: Registry, token: string | undefined) {
  const expected = token ? Buffer.from(`Bearer ${token}`) : undefined;
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== '/metrics' || !expected) return next();
    const presented = Buffer.from(ctx.get('authorization'));
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: 'unauthorized', error_description: 'metrics need the configured token' };
      return;
    }
    const { type, body } = await exposition(registry);
    ctx.set('cache-control', 'no-store');
    ctx.type = type;
    ctx.body = body;
  };
}

/** `GET /metrics` on a listener of its own (`port` on `bind`), off the public port. */
export async function serveMetrics(
  registry: Registry,
  port: number,
  bind: string,
): Promise<{ readonly server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    exposition(registry).then(
      ({ type, body }) => res.writeHead(200, { 'content-type': type }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => resolve());
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
