import type { Server } from 'node:http';
import { type AuditLog, createAuditTrail } from '@gatehouse/audit';
import {
  createRateLimiter,
  createResourceServer,
  type DpopReplayStore,
  type RateLimitStore,
  type ResourceServer,
} from '@gatehouse/auth-core';
import { createAuditStream, type Logger } from '@gatehouse/logging';
import { createMetrics, listener } from '@gatehouse/server-kit';
import type Koa from 'koa';
import type { Config } from './config.js';
import { createHttpApp } from './http/app.js';
import { mcpServerMetrics } from './metrics.js';
import { createRateLimitAudit, createToolCallAudit } from './tool-audit.js';
import { SCOPE_ADMIN, SCOPE_HIERARCHY, SCOPE_TOOLS, TOOLS } from './tools/index.js';

export interface McpApp {
  readonly app: Koa;
  readonly resourceServer: ResourceServer;
  listen(): Promise<Server>;
  close(): Promise<void>;
}

/** What the composition root connects before building the app (see dpop-replay-store.ts). */
export interface McpAppDependencies {
  /** Shared DPoP replay store; default auth-core's in-memory one (a single instance only). */
  readonly dpopReplayStore?: DpopReplayStore | undefined;
  /** The authorization server's audit trail (MCP_AUDIT_STORE), for tool calls; default none. */
  readonly auditLog?: AuditLog | undefined;
  /** Where rate-limit counts live (MCP_RATE_LIMIT_STORE); default this process's memory. */
  readonly rateLimitStore?: RateLimitStore | undefined;
}

/**
 * How long grant activity written from here lasts in Redis; the trail's events themselves are
 * pruned by the authorization server (AUTH_AUDIT_RETENTION).
 */
export const AUDIT_RETENTION_MS = 90 * 86_400_000;

/** Builds the MCP server from configuration: auth-core resource server, then HTTP. */
export function createMcpApp(
  config: Config,
  logger: Logger,
  dependencies: McpAppDependencies = {},
): McpApp {
  const metrics = createMetrics('mcp-server', config.metrics);
  const counts = mcpServerMetrics(metrics, new Set(TOOLS.map((tool) => tool.name)));
  const resourceServer = createResourceServer({
    // Requests to the authorization server (discovery, JWKS, introspection) are timed.
    fetch: counts.fetch,
    resource: config.resource,
    issuer: config.issuer,
    audience: config.audience,
    verification:
      config.mode === 'jwt'
        ? { mode: 'jwt', allowPlainJwt: config.allowPlainJwt, onCacheLookup: counts.cacheLookup }
        : {
            mode: 'introspection',
            clientId: config.introspection?.clientId ?? '',
            clientSecret: config.introspection?.clientSecret ?? '',
            cacheTtlSec: config.introspectionCacheTtl,
            onCacheLookup: counts.cacheLookup,
          },
    scopesSupported: [SCOPE_TOOLS, SCOPE_ADMIN],
    scopeHierarchy: SCOPE_HIERARCHY,
    resourceName: 'Gatehouse demo MCP server',
    dpop: dependencies.dpopReplayStore ? { replayStore: dependencies.dpopReplayStore } : undefined,
    logger,
  });
  const audit = createAuditTrail({
    enabled: config.audit !== 'off',
    observe: (event) => counts.event(event.type, event.outcome),
    log: dependencies.auditLog,
    stream: createAuditStream({
      service: 'mcp-server',
      format: config.log.format,
      destination: config.audit,
    }),
    retentionMs: AUDIT_RETENTION_MS,
    onStoreError: (error) =>
      logger.warn(
        { err: { message: (error as Error).message } },
        'tool calls could not be added to the audit trail store (they are still on the audit log stream)',
      ),
  });
  const rules = [
    ...(config.rateLimits.subject
      ? [{ key: 'subject' as const, ...config.rateLimits.subject }]
      : []),
    ...(config.rateLimits.client ? [{ key: 'client' as const, ...config.rateLimits.client }] : []),
  ];
  const rateLimiter =
    rules.length > 0
      ? createRateLimiter({ limits: rules, store: dependencies.rateLimitStore, logger })
      : undefined;
  const app = createHttpApp({
    resourceServer,
    rateLimiter,
    rateLimitAudit: createRateLimitAudit(audit),
    allowedOrigins: config.allowedOrigins,
    logger,
    resource: config.resource,
    toolAudit: createToolCallAudit(audit, counts.toolCall, config.auditArguments),
    metrics: { app: metrics, token: config.metrics.token, validation: counts.validation },
  });
  // /metrics off the public port when *_METRICS_PORT is set.
  const http = listener(app, config.port, config.bind, {
    registry: metrics.registry,
    ...config.metrics,
  });
  return {
    app,
    resourceServer,
    listen: http.listen,
    async close() {
      await http.close();
      // What the last requests recorded, before the store's connection closes.
      await audit.flush();
    },
  };
}
