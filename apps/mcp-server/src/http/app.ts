import {
  type AuthInfo,
  isLoopbackHostname,
  type RateLimiter,
  type ResourceServer,
  scopesForToolCalls,
} from '@gatehouse/auth-core';
import {
  type KoaMiddleware,
  koaAuth,
  koaProtectedResourceMetadata,
  koaRateLimit,
  koaRequireScopes,
} from '@gatehouse/auth-core/koa';
import type { Logger } from '@gatehouse/logging';
import {
  type AppMetrics,
  hostGuard,
  logAppErrors,
  metricsRoute,
  requestHygiene,
  requestLog,
} from '@gatehouse/server-kit';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import Koa, { type Context, type Next } from 'koa';
import { mcpRouteOf, validationResult } from '../metrics.js';
import { createMcpServerFactory } from '../server.js';
import {
  type RateLimitAudit,
  requestScope,
  type ToolCallAudit,
  toolCallNames,
} from '../tool-audit.js';
import { TOOLS } from '../tools/index.js';
import { SCOPE_TOOLS } from '../tools/tool.js';
import { mcpOriginPolicy } from './cors.js';
import { mcpJsonBody } from './json-body.js';
import { jsonRpcError } from './json-rpc.js';

const MAX_BODY = 4 * 1024 * 1024;
/** What Streamable HTTP uses (POST messages, GET streams, DELETE sessions) and CORS preflights. */
const MCP_METHODS = new Set(['GET', 'POST', 'DELETE', 'OPTIONS']);

export interface McpHttpDependencies {
  readonly resourceServer: ResourceServer;
  readonly allowedOrigins: readonly string[];
  readonly logger: Logger;
  /** The canonical resource URI (`http://localhost:3000/mcp`). */
  readonly resource: string;
  /** Where tool calls are recorded. */
  readonly toolAudit: ToolCallAudit;
  /** Per-user and per-client limits (MCP_RATE_LIMIT, MCP_CLIENT_RATE_LIMIT); none when off. */
  readonly rateLimiter?: RateLimiter | undefined;
  /** Where refusals are recorded (the audit trail). */
  readonly rateLimitAudit?: RateLimitAudit | undefined;
  /** Prometheus: the registry, the public port's /metrics token, bearer-check results. */
  readonly metrics?:
    | {
        readonly app: AppMetrics;
        readonly token: string | undefined;
        validation(result: string): void;
      }
    | undefined;
}

/**
 * The koa app, in order: request ids and access log, request hygiene, health, Host check on
 * loopback, methods, Origin and CORS, Protected Resource Metadata, auth-core's bearer check
 * (401/403 challenges), the JSON-RPC body, the per-tool scope check (403 `insufficient_scope`
 * naming every scope the called tools need), then the MCP SDK's stateless Streamable HTTP handler.
 */
export function createHttpApp(deps: McpHttpDependencies): Koa {
  const { logger, resourceServer } = deps;
  const resourceUrl = new URL(deps.resource);
  const path = resourceUrl.pathname || '/';
  const toolScopes = new Map(TOOLS.map((tool) => [tool.name, tool.scopes]));
  const app = new Koa();

  app.use(requestLog(logger, ['/healthz']));
  if (deps.metrics) app.use(deps.metrics.app.httpRequests(mcpRouteOf(path)));
  app.use(requestHygiene());
  app.use(health('/healthz'));
  if (deps.metrics) app.use(metricsRoute(deps.metrics.app.registry, deps.metrics.token));
  // A server on loopback answers only to loopback host names (as the MCP SDK's own check): with any
  // Host, a web page could reach it through DNS rebinding (MCP transport security). Elsewhere
  // nothing is built from the Host.
  if (isLoopbackHostname(resourceUrl.hostname)) {
    app.use(
      hostGuard({
        origin: resourceUrl.origin,
        proxy: false,
        onRefused: (ctx, reason) =>
          logger.info(
            { requestId: ctx.state.requestId, host: ctx.get('host'), reason },
            'request for another host refused',
          ),
      }),
    );
  }
  app.use(mcpMethods(path));
  app.use(mcpOriginPolicy({ path, allowedOrigins: deps.allowedOrigins, logger }));
  app.use(koaProtectedResourceMetadata(resourceServer));
  app.use(
    onPath(
      path,
      counted(koaAuth(resourceServer, { requiredScopes: [SCOPE_TOOLS] }), deps.metrics?.validation),
    ),
  );
  // Counted once the caller is known, before the body is read: 429 with Retry-After.
  if (deps.rateLimiter) {
    const limiter = koaRateLimit<Context>(deps.rateLimiter, {
      onRefused: (ctx, decision, correlationId) =>
        deps.rateLimitAudit?.({
          authInfo: ctx.state.auth as AuthInfo,
          policy: 'policy' in decision ? decision.policy : decision.reason,
          requestId: (ctx.state.requestId as string | undefined) ?? correlationId,
        }),
    });
    app.use((ctx, next) => (ctx.path === path ? limiter(ctx, next) : next()));
  }
  app.use(mcpJsonBody({ path, maxBytes: MAX_BODY }));
  app.use(auditRefusedToolCalls(path, deps.toolAudit));
  app.use(
    onPath(
      path,
      koaRequireScopes(resourceServer, (ctx) => scopesForToolCalls(ctx.state.mcpBody, toolScopes)),
    ),
  );
  app.use(mcpEndpoint(path, Date.now(), deps.toolAudit));

  logAppErrors(app, logger);
  return app;
}

function health(path: string) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== path) return next();
    ctx.body = { status: 'ok' };
  };
}

/** Methods Streamable HTTP does not use get 405 with `Allow`, as a JSON-RPC error. */
function mcpMethods(path: string) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== path || MCP_METHODS.has(ctx.method)) return next();
    ctx.set('allow', [...MCP_METHODS].join(', '));
    jsonRpcError(ctx, 405, -32000, 'Method not allowed');
  };
}

/** The bearer check, its result counted: accepted, or why not (metrics.ts). */
function counted(
  check: KoaMiddleware,
  count: ((result: string) => void) | undefined,
): KoaMiddleware {
  if (!count) return check;
  return async (ctx, next) => {
    let accepted = false;
    await check(ctx, () => {
      accepted = true;
      count('accepted');
      return next();
    });
    if (!accepted) count(validationResult(ctx as unknown as Context));
  };
}

/** `middleware` for requests to `path`; other requests go past it. */
function onPath(path: string, middleware: KoaMiddleware) {
  return (ctx: Context, next: Next): Promise<unknown> =>
    ctx.path === path ? middleware(ctx, next) : next();
}

/** A tool call the scope check refused (403) is on the audit trail too, as `denied`. */
function auditRefusedToolCalls(path: string, audit: ToolCallAudit) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== path) return next();
    await next();
    if (ctx.status !== 403 || !ctx.state.auth) return;
    for (const tool of toolCallNames(ctx.state.mcpBody)) {
      audit({
        tool,
        authInfo: ctx.state.auth as AuthInfo,
        outcome: 'denied',
        durationMs: 0,
        requestId: ctx.state.requestId as string | undefined,
      });
    }
  };
}

/** The MCP SDK's stateless handler, with the body already read (`ctx.state.mcpBody`). */
function mcpEndpoint(path: string, startedAt: number, audit: ToolCallAudit) {
  const handle = toNodeHandler(
    createMcpHandler(createMcpServerFactory(startedAt, audit), { legacy: 'stateless' }),
  );
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== path) return next();
    ctx.respond = false;
    // The SDK's Node types want `method` present; it always is on a server request.
    // The request id reaches the tools' audit lines through the SDK's call chain.
    await requestScope.run({ requestId: ctx.state.requestId as string | undefined }, () =>
      handle(ctx.req as Parameters<typeof handle>[0], ctx.res, ctx.state.mcpBody),
    );
  };
}
