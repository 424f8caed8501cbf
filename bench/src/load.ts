import autocannon from 'autocannon';
import type { RefreshChains } from './refresh-chains.js';
import { median, percentile } from './stats.js';

/**
 * HTTP load with autocannon (in this process, on loopback): a fixed number of connections, one
 * request in flight per connection, for a fixed time. Latency is autocannon's (milliseconds, from
 * request written to response complete).
 */

export interface LoadSample {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly requests: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  /** Answers other than 2xx. */
  readonly non2xx: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly connections: number;
  readonly seconds: number;
  /**
   * Requests built one by one (rotating refresh tokens, one MCP session per connection): `setup`
   * gives the body and/or extra headers of the next request, `onResponse` sees every answer before
   * the same connection sends its next request.
   */
  readonly dynamic?: {
    readonly setup: () => { body?: string; headers?: Record<string, string> };
    readonly onResponse: (status: number, body: string, headers: Record<string, string>) => void;
  };
}

export async function load(options: LoadOptions): Promise<LoadSample> {
  const { dynamic } = options;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    timeout: 10,
    ...(dynamic
      ? {
          requests: [
            {
              method: options.method ?? 'POST',
              headers: options.headers ?? {},
              setupRequest: (request: autocannon.Request) => {
                const next = dynamic.setup();
                return {
                  ...request,
                  headers: { ...options.headers, ...next.headers },
                  body: next.body ?? options.body ?? '',
                };
              },
              onResponse: (status: number, body: string, _context: unknown, headers: unknown) =>
                dynamic.onResponse(status, body, lowerCaseKeys(headers)),
            },
          ],
        }
      : {
          method: options.method ?? 'GET',
          headers: options.headers ?? {},
          ...(options.body === undefined ? {} : { body: options.body }),
        }),
  });
  return {
    requestsPerSec: result.requests.total / (result.duration || options.seconds),
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

function lowerCaseKeys(headers: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers && typeof headers === 'object')
    for (const [key, value] of Object.entries(headers)) result[key.toLowerCase()] = String(value);
  return result;
}

/** Samples `read()` every `everyMs` until `stop()` is called; returns what it read, with times. */
export function sampleEvery<T>(
  everyMs: number,
  read: () => T,
): { stop: () => Array<{ atMs: number; value: T }> } {
  const started = performance.now();
  const samples: Array<{ atMs: number; value: T }> = [{ atMs: 0, value: read() }];
  const timer = setInterval(() => {
    samples.push({ atMs: performance.now() - started, value: read() });
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      samples.push({ atMs: performance.now() - started, value: read() });
      return samples;
    },
  };
}

/**
 * One case of a side-by-side run: the medians of its interleaved load runs, every failure counted
 * (`failedOf`: errors and non-2xx answers by default), and its concurrency-1 latency samples (µs).
 */
export function summarizeCase<Run extends LoadSample>(
  runs: readonly Run[],
  sequentialUs: readonly number[],
  failedOf: (run: Run) => number = (run) => run.errors + run.non2xx,
) {
  return {
    requestsPerSec: median(runs.map((run) => run.requestsPerSec)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    failed: runs.reduce((sum, run) => sum + failedOf(run), 0),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    sequentialP50Us: percentile(sequentialUs, 50),
    sequentialP99Us: percentile(sequentialUs, 99),
    sequentialN: sequentialUs.length,
    runs,
  };
}

/**
 * Refresh-grant load on a pool of rotating refresh tokens (refresh-chains.ts): each request takes
 * a token from the pool, each answer puts the new one back.
 */
export function refreshGrantLoad(
  pool: Pick<RefreshChains, 'build' | 'onResponse'>,
  options: {
    readonly tokenEndpoint: string;
    readonly connections: number;
    readonly seconds: number;
  },
): Promise<LoadSample> {
  return load({
    url: options.tokenEndpoint,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    connections: options.connections,
    seconds: options.seconds,
    dynamic: {
      setup: () => ({ body: pool.build() }),
      onResponse: (status, body) => pool.onResponse(status, body),
    },
  });
}
