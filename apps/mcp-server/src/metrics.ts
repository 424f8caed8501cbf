import type { FetchLike } from '@gatehouse/auth-core';
import type { AppMetrics } from '@gatehouse/server-kit';
import type { Context } from 'koa';
import type { ToolCallAudit } from './tool-audit.js';

/** What the MCP server counts beyond its HTTP requests (`gatehouse_` names). */
export interface McpServerMetrics {
  /** A bearer check's result: `accepted`, or the challenge's error (`invalid_token`, ...). */
  validation(result: string): void;
  /** Each tool call, by tool and outcome, with its duration. */
  readonly toolCall: ToolCallAudit;
  /** Every audit-trail event by type and outcome (tool_call, rate_limited). */
  event(type: string, outcome: string): void;
  /** `fetch` for auth-core, timing each request to the authorization server by kind. */
  readonly fetch: FetchLike;
  /** auth-core's cache lookups: a token verified (or introspected) before, or not. */
  cacheLookup(hit: boolean): void;
}

export function mcpServerMetrics(
  metrics: AppMetrics,
  toolNames: ReadonlySet<string>,
  fetchImpl: FetchLike = globalThis.fetch,
): McpServerMetrics {
  const validations = metrics.counter(
    'gatehouse_token_validations_total',
    'Bearer checks at the MCP endpoint by result: accepted, missing (no token), invalid_token, insufficient_scope, invalid_request, unavailable (the authorization server could not be asked)',
    ['result'],
  );
  const toolCalls = metrics.histogram(
    'gatehouse_tool_call_duration_seconds',
    'Tool calls by tool and outcome (success, failure, denied), and how long each took',
    ['tool', 'outcome'],
  );
  const events = metrics.counter(
    'gatehouse_events_total',
    'What happened, by audit event type and outcome (tool_call, rate_limited)',
    ['type', 'outcome'],
  );
  const cache = metrics.counter(
    'gatehouse_token_cache_lookups_total',
    'Lookups in the verified-token cache (JWT mode) or the introspection answer cache, by result (hit, miss)',
    ['result'],
  );
  const upstream = metrics.histogram(
    'gatehouse_upstream_request_duration_seconds',
    'Requests to the authorization server by kind (discovery, jwks, introspection) and status: JWKS refreshes, introspection latency',
    ['kind', 'status'],
  );
  return {
    validation: (result) => validations.inc({ result }),
    toolCall: ({ tool, outcome, durationMs }) =>
      // Only the server's own tools: a client can name any tool in a refused call.
      toolCalls.observe(
        { tool: toolNames.has(tool) ? tool : 'unknown', outcome },
        durationMs / 1000,
      ),
    event: (type, outcome) => events.inc({ type, outcome }),
    cacheLookup: (hit) => cache.inc({ result: hit ? 'hit' : 'miss' }),
    fetch: async (input, init) => {
      const started = performance.now();
      const kind = upstreamKind(String(input instanceof Request ? input.url : input));
      try {
        const response = await fetchImpl(input, init);
        upstream.observe(
          { kind, status: String(response.status) },
          (performance.now() - started) / 1000,
        );
        return response;
      } catch (error) {
        upstream.observe({ kind, status: 'error' }, (performance.now() - started) / 1000);
        throw error;
      }
    },
  };
}

/** Which of the authorization server's endpoints a URL is, by its path. */
function upstreamKind(url: string): string {
  const path = URL.parse(url)?.pathname ?? '';
  if (path.includes('/.well-known/')) return 'discovery';
  if (/introspect/.test(path)) return 'introspection';
  if (/jwks|certs/.test(path)) return 'jwks';
  return 'other';
}

/** The result label of a bearer check that did not pass, from its challenge. */
export function validationResult(ctx: Context): string {
  if (ctx.status === 503) return 'unavailable';
  const challenge = ctx.response.get('www-authenticate');
  return /error="([a-z_]+)"/.exec(challenge)?.[1] ?? (ctx.status === 401 ? 'missing' : 'other');
}

/** The route label: the MCP endpoint, its metadata, health, or `other` (bounded). */
export function mcpRouteOf(mcpPath: string): (ctx: Context) => string {
  return (ctx) => {
    if (ctx.path === mcpPath) return 'mcp';
    if (ctx.path.startsWith('/.well-known/')) return 'metadata';
    if (ctx.path === '/healthz' || ctx.path === '/metrics') return ctx.path.slice(1);
    return 'other';
  };
}
